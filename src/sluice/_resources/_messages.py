"""``client.messages``: the Messages API (stream, create, count_tokens) and its batches.

Request fields go in as keyword arguments, as plain values or the typed structs of
``sluice.types`` (``MessageParam``, ``Tool``, ``ThinkingEnabled``...); per-request options
(``betas``, ``extra_headers``, ``extra_query``, ``extra_body``, ``timeout``) ride along in
the same keywords and are taken out by name. Fields the API would reject raise
:class:`~sluice.ParamsError` before anything is sent.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from typing import Any, Literal, overload

from .._core._accumulate import InvalidToolInput
from .._core._conversation import RequestTransform
from .._core._exceptions import ParamsError
from .._core._message import Message
from .._core._params import (
    CREATE_ONLY_FIELDS,
    to_request_body,
    validate_count_tokens_params,
    validate_message_params,
)
from .._core._pricing import ModelPricing
from .._core._wire import Wire
from .._http._recovery import RecoveringStreamManager
from .._http._requester import DEFAULT_TIMEOUT, Requester, RequestOptions, split_options
from .._http._stream import MessageStream, MessageStreamManager
from .._runner._calls import ApprovalHook
from .._runner._run import OnMaxTokens, Run
from .._runner._tool import FunctionTool
from ._base import Resource
from ._batches import Batches

__all__ = ["MessageTokensCount", "Messages"]


class MessageTokensCount(Wire, kw_only=True, tag=False):
    """The token count of a Messages request (``POST /v1/messages/count_tokens``).

    Attributes:
        input_tokens: tokens across the messages, system prompt and tools.
    """

    input_tokens: int


class Messages(Resource):
    """``client.messages``: the Messages API, with ``batches`` for Message Batches."""

    def __init__(self, requester: Requester) -> None:
        super().__init__(requester)
        #: The Message Batches API.
        self.batches = Batches(requester)

    def _body(self, params: dict[str, Any]) -> tuple[RequestOptions, dict[str, Any]]:
        options, fields = split_options(params)
        return options, to_request_body(fields)

    def _betas(self, options: RequestOptions) -> list[str]:
        return [*self._requester.betas, *options.get("betas", ())]

    def _check_stream(self, params: dict[str, Any]) -> tuple[RequestOptions, dict[str, Any]]:
        options, body = self._body(params)
        validate_message_params(body, stream=True, betas=self._betas(options))
        return options, body

    @overload
    def stream(
        self,
        *,
        recover: Literal[0, False] = False,
        invalid_tool_input: InvalidToolInput = "raise",
        **params: Any,
    ) -> MessageStreamManager: ...

    @overload
    def stream(
        self, *, recover: int, invalid_tool_input: InvalidToolInput = "raise", **params: Any
    ) -> RecoveringStreamManager: ...

    def stream(
        self, *, recover: int = 0, invalid_tool_input: InvalidToolInput = "raise", **params: Any
    ) -> MessageStreamManager | RecoveringStreamManager:
        """Stream a message: ``async with client.messages.stream(**params) as stream``.

        ``params`` are the Messages API request fields (``model``, ``max_tokens``,
        ``messages``, ``system``, ``tools``, ``thinking``...), sent with ``"stream": true``,
        and the per-request options. The request is sent, with retries, when the block is
        entered. Its usage is recorded in ``client.usage`` as it arrives.

        Args:
            recover: opt in to stream recovery, up to this many times (``True``: 3): when
                a text stream dies mid-message (an in-stream ``overloaded_error``, a
                dropped connection, a stream that ended early or went silent), the
                request is sent again with the text received as an assistant prefill, and
                the events continue the same stream (usage summed). Refused, with the
                original error and a note saying why, when what arrived has a thinking
                block or a tool call. The stream is then a ``RecoveringStream``.
            invalid_tool_input: a tool call whose input is not valid JSON (fine-grained
                tool streaming, ``eager_input_streaming``, may send one): ``"raise"``
                :class:`~sluice.ToolInputError` (with the partial message), or ``"keep"``
                it as the input ``{"INVALID_JSON": "<text>"}``, the wrapping the API
                documentation suggests for sending it back, and go on.
            params: the request fields and per-request options.

        Raises:
            ParamsError: at once, for parameters the API would reject (checked locally).
            APIError: on enter, typed by status, for HTTP errors.
            APIConnectionError: on enter, when the API cannot be reached.
            QuotaExceededError: on enter, when a quota of ``client.usage`` is used up
                (nothing is sent).
        """
        options, body = self._check_stream(params)
        if invalid_tool_input not in ("raise", "keep"):
            raise ParamsError(
                f"invalid_tool_input must be 'raise' or 'keep', not {invalid_tool_input!r}",
                field="invalid_tool_input",
            )
        open_stream = self._opener(options, invalid_tool_input)
        if recover:
            attempts = 3 if recover is True else int(recover)
            if attempts < 0:
                raise ValueError(f"recover must be >= 0, got {recover!r}")
            return RecoveringStreamManager(
                open_stream, body, attempts, invalid_tool_input=invalid_tool_input
            )
        return MessageStreamManager(functools.partial(open_stream, body))

    def _opener(
        self, options: RequestOptions, invalid_tool_input: InvalidToolInput
    ) -> Callable[[dict[str, Any]], Awaitable[MessageStream]]:
        """Opens a stream for a body (sent with retries): the stream's own, and what a
        recovering stream re-sends."""

        async def open_stream(body: dict[str, Any]) -> MessageStream:
            send = self._sender(
                "POST",
                "/v1/messages",
                options,
                body={**body, "stream": True},
                headers={"accept": "text/event-stream"},
                event_stream=True,
            )
            return MessageStream(
                await send(),
                max_event_size=self._requester.max_event_size,
                meter=self._requester.meter,
                invalid_tool_input=invalid_tool_input,
            )

        return open_stream

    def run(
        self,
        *,
        tools: Iterable[FunctionTool[..., Any] | Mapping[str, Any] | Any] = (),
        max_steps: int = 10,
        max_concurrency: int | None = 16,
        tool_timeout: float | None = None,
        eager: bool = True,
        needs_approval: ApprovalHook | None = None,
        stop_when: Callable[[Run], bool | Awaitable[bool]] | None = None,
        token_budget: int | None = None,
        cost_budget: float | None = None,
        pricing: Mapping[str, ModelPricing | Mapping[str, float]] | None = None,
        transforms: Sequence[RequestTransform] = (),
        on_max_tokens: OnMaxTokens = "stop",
        tool_retries: int = 2,
        buffer_size: int = 256,
        **params: Any,
    ) -> Run:
        """Run an agent loop: ``async with client.messages.run(...) as run``.

        Each step streams a message (``params`` are those of :meth:`stream`, with the
        conversation so far as ``messages``) and answers its tool calls by calling
        ``tools``; the run goes on while the model calls tools. Tools start as soon as
        their block completes, while the model streams the rest, concurrently. See
        :class:`~sluice.Run` for the events, the stop reasons and cancellation.

        Args:
            tools: ``@sluice.tool`` functions (run by the loop), and raw tool definitions
                or server tools (``web_search``...), sent as they are.
            max_steps: the most requests the run makes.
            max_concurrency: the most tool calls running at once (``None``: no limit).
            tool_timeout: seconds a call may run (a tool's own ``timeout`` wins), from
                when its input is complete; a call that runs past it is cancelled and
                answered with an error (a sync tool's thread is abandoned).
            eager: start each call when its block completes; ``False`` waits for the end
                of the message (then runs the calls concurrently all the same).
            needs_approval: called with each complete call (``ops.ToolCall``) before it
                runs: ``True`` runs it, ``False`` or a reason (``str``) refuses it, and
                the model is told. May be async (e.g. waiting for a user).
            stop_when: called with the run after each step that would go on; ``True``
                ends the run (``end_reason == "stop_when"``). May be async.
            token_budget: end the run once its steps have used this many tokens in all
                (input, cache and output), checked after each step.
            cost_budget: end the run once it has cost this many US dollars, checked
                after each step (the model must be priced).
            pricing: prices to add to or override in ``sluice.types.PRICING``, for the
                run's ``cost`` (each step's usage also lands in ``client.usage``, priced by
                that meter's own table).
            transforms: functions that edit each request before it is sent (take the
                request's parameters, return an edited copy: the message dicts are the
                run's conversation, leave them unchanged); e.g.
                ``sluice.prune_tool_results(keep_last=3)``, ``sluice.inject_system(...)``.
            on_max_tokens: when ``max_tokens`` cuts a message: ``"stop"`` ends the run;
                ``"continue"`` answers its calls (a call whose input was cut off is not
                run: its answer says so) and goes on, or continues a message without
                calls.
            tool_retries: how many invalid calls in a row (input not matching the
                schema, or an unknown tool name) a tool may get before the run ends
                (``end_reason == "tool_retries"``); each goes back to the model as an
                error result saying what was wrong.
            buffer_size: events buffered ahead of the consumer.

        Raises:
            ParamsError: at once, for parameters the API would reject, an option the run
                cannot use (``max_steps=0``, two tools of one name, a ``pricing`` entry
                that is not a price...; ``field`` names it), or a ``cost_budget`` for a
                model without a price. Also a ``ValueError``.
        """
        run = Run(
            self.stream,
            params,
            tools=tools,
            max_steps=max_steps,
            max_concurrency=max_concurrency,
            tool_timeout=tool_timeout,
            eager=eager,
            needs_approval=needs_approval,
            stop_when=stop_when,
            token_budget=token_budget,
            cost_budget=cost_budget,
            pricing=pricing,
            transforms=transforms,
            on_max_tokens=on_max_tokens,
            tool_retries=tool_retries,
            buffer_size=buffer_size,
        )
        self._check_stream(run._base_request())
        return run

    async def create(self, **params: Any) -> Message:
        """Create a message without streaming and return it whole.

        Takes the fields and options of :meth:`stream`. Its usage is recorded in
        ``client.usage``.

        Raises:
            ParamsError: for parameters the API would reject, before sending; its subclass
                StreamingRequiredError when ``max_tokens`` is too large for a request that
                must finish within the non-streaming timeout (use :meth:`stream`, or set a
                ``timeout``).
            APIError: typed by status. APIConnectionError: the API cannot be reached.
            UnexpectedResponseError: the response is not a message.
            QuotaExceededError: a quota of ``client.usage`` is used up (nothing is sent).
        """
        options, body = self._body(params)
        validate_message_params(
            body,
            stream=False,
            betas=self._betas(options),
            allow_long_nonstreaming=(
                options.get("timeout") is not None or self._requester.timeout != DEFAULT_TIMEOUT
            ),
        )
        message = await self._post("/v1/messages", Message, options, body=body)
        self._requester.meter.tally().update(message)
        return message

    async def count_tokens(self, **params: Any) -> MessageTokensCount:
        """Count the input tokens of a Messages request without creating a message.

        Takes the fields of :meth:`create` (``model``, ``messages``, ``system``,
        ``tools``...) and the per-request options; fields only generation uses
        (``max_tokens``, ``stream``, ``temperature``, ``stop_sequences``...) are left out, so
        ``count_tokens(**create_params)`` works.

        Raises: :class:`~sluice.ParamsError` for fields the API would reject (before
        sending), :class:`~sluice.APIError` subclasses (e.g. :class:`~sluice.BadRequestError`
        for an invalid request), :class:`~sluice.APIConnectionError`.
        """
        options, body = self._body(params)
        body = {key: value for key, value in body.items() if key not in CREATE_ONLY_FIELDS}
        validate_count_tokens_params(body, betas=self._betas(options))
        return await self._post("/v1/messages/count_tokens", MessageTokensCount, options, body=body)
