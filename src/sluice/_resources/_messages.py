"""``client.messages``: the Messages API (stream, create, count_tokens) and its batches.

Request fields go in as keyword arguments, as plain values or the typed structs of
``sluice.types`` (``MessageParam``, ``Tool``, ``ThinkingEnabled``...); per-request options
(``betas``, ``extra_headers``, ``extra_query``, ``extra_body``, ``timeout``) ride along in
the same keywords and are taken out by name. Fields the API would reject raise
:class:`~sluice.ParamsError` before anything is sent.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, Literal, overload

from .._core._message import Message
from .._core._params import (
    CREATE_ONLY_FIELDS,
    to_request_body,
    validate_count_tokens_params,
    validate_message_params,
)
from .._core._wire import Wire
from .._http._recovery import RecoveringStreamManager
from .._http._requester import DEFAULT_TIMEOUT, Requester, RequestOptions, split_options
from .._http._stream import MessageStream, MessageStreamManager
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

    @overload
    def stream(
        self, *, recover: Literal[0, False] = False, **params: Any
    ) -> MessageStreamManager: ...

    @overload
    def stream(self, *, recover: int, **params: Any) -> RecoveringStreamManager: ...

    def stream(
        self, *, recover: int = 0, **params: Any
    ) -> MessageStreamManager | RecoveringStreamManager:
        """Stream a message: ``async with client.messages.stream(**params) as stream``.

        ``params`` are the Messages API request fields (``model``, ``max_tokens``,
        ``messages``, ``system``, ``tools``, ``thinking``...), sent with ``"stream": true``,
        and the per-request options. The request is sent, with retries, when the block is
        entered.

        Args:
            recover: opt in to stream recovery, up to this many times (``True``: 3): when
                a text stream dies mid-message (an in-stream ``overloaded_error``, a
                dropped connection, a stream that ended early or went silent), the
                request is sent again with the text received as an assistant prefill, and
                the events continue the same stream (usage summed). Refused, with the
                original error and a note saying why, when what arrived has a thinking
                block or a tool call. The stream is then a ``RecoveringStream``.
            params: the request fields and per-request options.

        Raises:
            ParamsError: at once, for parameters the API would reject (checked locally).
            APIError: on enter, typed by status, for HTTP errors.
            APIConnectionError: on enter, when the API cannot be reached.
        """
        options, body = self._body(params)
        validate_message_params(body, stream=True, betas=self._betas(options))
        if recover:
            attempts = 3 if recover is True else int(recover)
            if attempts < 0:
                raise ValueError(f"recover must be >= 0, got {recover!r}")
            return RecoveringStreamManager(self._opener(options), body, attempts)
        send = self._sender(
            "POST",
            "/v1/messages",
            options,
            body={**body, "stream": True},
            headers={"accept": "text/event-stream"},
            event_stream=True,
        )
        return MessageStreamManager(send, max_event_size=self._requester.max_event_size)

    def _opener(
        self, options: RequestOptions
    ) -> Callable[[dict[str, Any]], Awaitable[MessageStream]]:
        """Opens a stream for a body: what a recovering stream re-sends."""

        async def open_stream(body: dict[str, Any]) -> MessageStream:
            send = self._sender(
                "POST",
                "/v1/messages",
                options,
                body={**body, "stream": True},
                headers={"accept": "text/event-stream"},
                event_stream=True,
            )
            return MessageStream(await send(), max_event_size=self._requester.max_event_size)

        return open_stream

    async def create(self, **params: Any) -> Message:
        """Create a message without streaming and return it whole.

        Takes the fields and options of :meth:`stream`.

        Raises:
            ParamsError: for parameters the API would reject, before sending; its subclass
                StreamingRequiredError when ``max_tokens`` is too large for a request that
                must finish within the non-streaming timeout (use :meth:`stream`, or set a
                ``timeout``).
            APIError: typed by status. APIConnectionError: the API cannot be reached.
            UnexpectedResponseError: the response is not a message.
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
        return await self._post("/v1/messages", Message, options, body=body)

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
