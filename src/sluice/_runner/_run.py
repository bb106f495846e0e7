"""``client.messages.run(...)``: the agent loop, streamed, with tools started eagerly.

Structure (PEP 789: nothing here yields inside a task group or cancel scope)::

    async with Run                      owns a task group, entered in __aenter__
      └── driver task                   in its own cancel scope (Run.cancel())
            for each turn (one step, and one more for each pause_turn):
              task group of the turn
                ├── the driver reads each step's MessageStream, forwards every event
                │   into the bounded hand-off, and feeds the turn's ToolCalls
                └── one task per tool call (spawned as its block completes; a call
                    made before a pause_turn runs on while the turn is continued)
    async for event in run              takes from the bounded hand-off

The consumer only ever takes from the bounded hand-off (``buffer_size`` events, see
``_handoff``), so a slow consumer pushes back on the reader (and through it on the HTTP
read); tools already running go on, and wait only to report. Exceptions of the loop (an
HTTP error, a broken stream) are stored and raised by the consumer's iteration after the
events before them, never through the task group. Leaving the ``async with`` block or
:meth:`Run.cancel` cancels the driver: the stream's connection is released
(``MessageStream`` closes shielded), running tools are cancelled, and the conversation is
closed off so that every ``tool_use`` in :attr:`Run.messages` has its ``tool_result``
(cancelled calls say so).
"""

from __future__ import annotations

import inspect
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from types import TracebackType
from typing import Any, Literal, TypeAlias

import anyio
from anyio.abc import TaskGroup

from .._core._conversation import RequestTransform
from .._core._events import ContentBlockStart, ContentBlockStop, Event
from .._core._exceptions import ParamsError, RunCancelledError, ToolInputError
from .._core._message import Message, ToolUseBlock, Usage
from .._core._params import to_request_body
from .._core._pricing import PRICING, ModelPricing, PriceTable, add_usage, total_tokens
from .._core._serialize import to_builtins
from .._core._tool_calls import ToolCall, ToolCallAssembler, ToolCallDelta
from .._http._stream import MessageStream
from ..ops._base import Operator, Pipeline, pipe
from ._calls import ApprovalHook, ToolCalls
from ._events import RunEvent, StepEnd, StepStart
from ._handoff import Handoff
from ._tool import FunctionTool

__all__ = ["OnMaxTokens", "Run", "StreamOpener"]

#: Opens one step's stream: ``client.messages.stream`` (bound), called with the request.
StreamOpener: TypeAlias = Callable[..., AbstractAsyncContextManager[MessageStream]]
#: What ``max_tokens`` cutting a message does to the run (see :class:`Run`).
OnMaxTokens: TypeAlias = Literal["stop", "continue"]

_Action = Literal["tools", "resume", "end"]


class _Step:
    """What the run knows about the step in progress."""

    __slots__ = ("appended", "calls", "cut", "end", "message", "number", "stopped", "stream")

    def __init__(self, number: int, calls: ToolCalls) -> None:
        self.number = number
        self.stream: MessageStream | None = None
        self.calls = calls  # the turn's
        self.message: Message | None = None
        self.stopped: set[int] = set()  # indices of the blocks that completed
        self.cut: ToolCall | None = None  # a tool call max_tokens cut short (truncated)
        self.appended = False  # its content is in Run.messages
        self.end: str | None = None  # a paused step after which the run ends: why


class _Turn:
    """What the run knows about the turn in progress: one assistant message, streamed by
    one step and one more for each ``pause_turn``, and the answers to its calls."""

    __slots__ = ("answered", "calls", "step")

    def __init__(self) -> None:
        self.calls: ToolCalls | None = None
        self.step: _Step | None = None  # the turn's latest step
        self.answered = False  # its calls' answers are in Run.messages


class Run(AsyncIterator[Event | RunEvent]):
    """An agent loop over the Messages API, streamed; made by ``client.messages.run(...)``.

    Use it as ``async with client.messages.run(...) as run:``. Each *step* sends the
    conversation, streams the model's message and answers its client tool calls; the run
    goes on while the model calls tools, and ends on ``end_turn``, ``stop_sequence``,
    ``refusal``, a limit or an error (:attr:`end_reason` says which).

    Iterate it for every stream event of every step (the same typed events as
    ``client.messages.stream``, so the operators of ``sluice.ops`` apply, except
    ``ops.accumulate``, which builds a single message) and the run's own
    events: :class:`~sluice.types.StepStart`, :class:`~sluice.types.ToolStart`,
    :class:`~sluice.types.ToolFinish` and :class:`~sluice.types.StepEnd`. Or just ``await
    run.final_message()``. Iterate it from one task; events wait in a buffer of
    ``buffer_size``, and a consumer that stops reading holds the run back once it is full.

    Tools start eagerly: each ``tool_use`` as soon as its ``content_block_stop`` arrives,
    while the model writes the rest of the message, concurrently (up to
    ``max_concurrency``), each under its timeout. Their results go back in ``tool_use``
    order in one user message. Stop reasons: ``tool_use`` answers the calls and goes on;
    ``pause_turn`` sends the turn back to be continued and runs nothing (a call that
    started before it runs on, once, and is answered with the turn's other calls when the
    turn ends, however it ends), and so does ``compaction`` (the API paused after
    compacting the context); ``max_tokens`` never runs a call whose input was cut off
    (``ToolCall.truncated``; the conversation keeps its complete values) and, per
    ``on_max_tokens``, ends the run (``"stop"``) or answers the calls (the cut one with an
    error) and goes on (``"continue"``; a message without tool calls is then continued
    like a paused turn). A call whose input is invalid JSON, not cut by ``max_tokens``
    (fine-grained tool streaming may send one), is not run: it is answered with an error,
    kept in the conversation as ``{"INVALID_JSON": text}`` and counted against
    ``tool_retries``; the run goes on.

    Leaving the block, :meth:`cancel` or cancelling the enclosing scope cancels the run:
    the connection is released, running tools are cancelled (a synchronous tool's thread,
    which cannot be, is abandoned: the run does not wait for it), and :attr:`messages`
    still answers every ``tool_use`` (the cancelled ones say so), ready to be continued or
    stored.

    Attributes:
        messages: the conversation: the request's messages, then each step's assistant
            message and the user message answering its tool calls, as JSON-ready dicts
            (send them back as they are). A turn continued after ``pause_turn`` is one
            assistant message. Request transforms do not change it.
        steps: how many steps (requests) were made.
        end_reason: why the run ended, once it has: the last stop reason (``"end_turn"``,
            ``"stop_sequence"``, ``"refusal"``, ``"max_tokens"``...), a limit
            (``"max_steps"``, ``"token_budget"``, ``"cost_budget"``, ``"stop_when"``,
            ``"tool_retries"``), ``"no_tool_calls"`` (``tool_use`` without a client
            call), ``"error"`` or ``"cancelled"``; ``None`` while it runs.
    """

    def __init__(
        self,
        open_stream: StreamOpener,
        params: Mapping[str, Any],
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
    ) -> None:
        _check_positive("max_steps", max_steps)
        _check_positive("buffer_size", buffer_size)
        if max_concurrency is not None:
            _check_positive("max_concurrency", max_concurrency)
        if tool_timeout is not None and not tool_timeout > 0:
            raise ParamsError(
                f"tool_timeout must be a positive number of seconds, not {tool_timeout!r}",
                field="tool_timeout",
            )
        if not isinstance(tool_retries, int) or tool_retries < 0:
            raise ParamsError(
                f"tool_retries must be >= 0, not {tool_retries!r}", field="tool_retries"
            )
        if on_max_tokens not in ("stop", "continue"):
            raise ParamsError(
                f"on_max_tokens must be 'stop' or 'continue', not {on_max_tokens!r}",
                field="on_max_tokens",
            )
        self._open_stream = open_stream
        body = dict(params)
        messages = body.pop("messages", None)
        if "tools" in body:
            raise ParamsError("pass tools as run(tools=[...])", field="tools")
        self._params = body
        self.messages: list[dict[str, Any]] = (
            to_request_body({"messages": list(messages)})["messages"] if messages else []
        )
        self._definitions: list[Any] = []
        self._functions: dict[str, FunctionTool[..., Any]] = {}
        for tool in tools:
            if isinstance(tool, FunctionTool):
                if tool.name in self._functions:
                    raise ParamsError(
                        f"two tools are named {tool.name!r}: tool names must be unique",
                        field="tools",
                    )
                self._functions[tool.name] = tool
                self._definitions.append(tool.definition)
            else:  # a raw tool definition or a server tool: sent as it is
                self._definitions.append(tool)
        self._max_steps = max_steps
        self._limiter = (
            anyio.CapacityLimiter(max_concurrency) if max_concurrency is not None else None
        )
        self._tool_timeout = tool_timeout
        self._eager = eager
        self._needs_approval = needs_approval
        self._stop_when = stop_when
        self._token_budget = token_budget
        self._cost_budget = cost_budget
        self._pricing: PriceTable = PRICING.with_prices(pricing) if pricing else PRICING
        model = body.get("model")
        if cost_budget is not None and (
            not isinstance(model, str) or self._pricing.lookup(model) is None
        ):
            raise ParamsError(
                f"cost_budget needs the price of {model!r}, which sluice does not know: pass "
                "pricing={model: sluice.types.ModelPricing(...)}",
                field="cost_budget",
            )
        self._transforms = list(transforms)
        self._on_max_tokens: OnMaxTokens = on_max_tokens
        self._tool_retries = tool_retries
        self._invalid: dict[str, int] = {}  # tool name -> invalid calls in a row
        self._resuming = False  # the last step's turn goes on (pause_turn): merge
        self.steps = 0
        self.end_reason: str | None = None
        self.usage = Usage()
        self._cost: float | None = 0.0
        self._last_message: Message | None = None
        self._step: _Step | None = None
        self._events = 0
        self._error: Exception | None = None
        self._raised = False
        self._state: Literal["new", "open", "closed"] = "new"
        self._events_out: Handoff[Event | RunEvent] = Handoff(buffer_size)
        self._task_group: TaskGroup | None = None
        self._driver_scope = anyio.CancelScope()
        self._driver_done: anyio.Event | None = None

    def __repr__(self) -> str:
        state = self.end_reason or ("running" if self._state == "open" else self._state)
        return f"<Run {state} steps={self.steps} messages={len(self.messages)}>"

    # ------------------------------------------------------------------------ results

    @property
    def cost(self) -> float | None:
        """What the run cost so far, in US dollars, summed over every step (cache tokens
        at their own rates); ``None`` if a step's model is not in the price table."""
        return self._cost

    @property
    def current_message_snapshot(self) -> Message | None:
        """The message of the step being read, as far as it arrived (ahead of the
        consumer: events wait in the buffer); the last step's once it is complete."""
        step = self._step
        if step is not None and step.stream is not None and not step.appended:
            return step.stream.current_message_snapshot
        return self._last_message

    @property
    def events_received(self) -> int:
        """How many events the run has produced so far (stream and run events)."""
        return self._events

    async def final_message(self) -> Message:
        """Run to the end and return the last step's message.

        Raises:
            APIError, StreamError...: what stopped the run (also raised by iteration).
            RunCancelledError: the run was cancelled before any step completed.
        """
        await self.until_done()
        if self._error is not None:
            raise self._error
        if self._last_message is None:
            raise RunCancelledError(
                f"the run ended ({self.end_reason}) before any step completed, so there is no "
                "final message; run.messages holds the conversation as far as it went"
            )
        return self._last_message

    async def until_done(self) -> None:
        """Run to the end, discarding the events not read yet (errors are raised)."""
        async for _ in self:
            pass

    def pipe(self, *stages: Operator) -> Pipeline:
        """Run the events through operators, left to right (see ``sluice.ops``).

        ``run.pipe(ops.text_deltas)`` is ``ops.text_deltas(run)``: the text of every step.
        Closing the pipeline closes (cancels) the run.
        """
        return pipe(self, *stages)

    # ---------------------------------------------------------------------- lifecycle

    async def __aenter__(self) -> Run:
        if self._state != "new":
            raise RuntimeError("a Run can be entered only once; call client.messages.run() again")
        self._driver_done = anyio.Event()
        task_group = anyio.create_task_group()
        await task_group.__aenter__()
        self._task_group = task_group
        self._state = "open"
        task_group.start_soon(self._drive, name=f"sluice run {id(self):#x}")
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        assert self._task_group is not None
        self._driver_scope.cancel()
        try:
            # The body's own exception (or cancellation) propagates unchanged, not wrapped
            # in an ExceptionGroup: the driver never raises into the group.
            await self._task_group.__aexit__(None, None, None)
        finally:
            self._state = "closed"
            self._events_out.abandon()

    def cancel(self) -> None:
        """Stop the run from any task of its event loop; iteration then ends.

        Running tools are cancelled and the connection released; :attr:`messages` answers
        every ``tool_use``. Does nothing once the run has ended.
        """
        self._driver_scope.cancel()

    async def aclose(self) -> None:
        """Cancel the run and wait until it has stopped (closing an operator over the run
        calls this). Idempotent."""
        self.cancel()
        if self._driver_done is not None:
            with anyio.CancelScope(shield=True):
                await self._driver_done.wait()

    def __aiter__(self) -> Run:
        return self

    async def __anext__(self) -> Event | RunEvent:
        if self._state == "new":
            raise RuntimeError("use `async with client.messages.run(...) as run:` and iterate run")
        event = await self._events_out.get()
        if event is not None:
            return event
        if self._error is not None and not self._raised:
            self._raised = True
            raise self._error
        raise StopAsyncIteration

    # ------------------------------------------------------------------------- driver

    async def _emit(self, event: Event | RunEvent) -> None:
        """Hand an event to the consumer (waits while the buffer is full)."""
        self._events += 1
        if not self._events_out.put_nowait(event):
            await self._events_out.put(event)

    async def _drive(self) -> None:
        assert self._driver_done is not None
        try:
            with self._driver_scope:
                try:
                    while await self._run_turn():
                        pass
                except Exception as exc:
                    self._error = exc
                    self.end_reason = "error"
        finally:
            if self.end_reason is None:
                self.end_reason = "cancelled"
            self._events_out.close()
            self._driver_done.set()

    def _base_request(self) -> dict[str, Any]:
        """The next request's parameters before the transforms."""
        request: dict[str, Any] = {**self._params, "messages": list(self.messages)}
        if self._definitions:
            request["tools"] = list(self._definitions)
        return request

    async def _request(self) -> dict[str, Any]:
        """The next request: the parameters, the conversation, the tools, transformed."""
        request = self._base_request()
        messages = request["messages"]
        if self._resuming and messages and messages[-1].get("role") == "assistant":
            messages[-1] = _without_trailing_space(messages[-1])
        for transform in self._transforms:
            edited = transform(request)
            if inspect.isawaitable(edited):
                edited = await edited
            if edited is not None:
                request = edited
        return request

    async def _run_turn(self) -> bool:
        """One turn: its steps, then its calls answered. Whether the run goes on."""
        turn = _Turn()
        try:
            step, action, reason = await self._play_turn(turn)
            return await self._close_turn(turn, step, action, reason)
        except BaseException as exc:
            why = (
                "Error: the run was cancelled before this call finished."
                if not isinstance(exc, Exception)
                else f"Error: the call was cancelled because the run failed: {exc}"
            )
            self._wrap_up(turn, why)
            raise

    async def _play_turn(self, turn: _Turn) -> tuple[_Step, _Action, str]:
        """Stream the turn's message, continued after each ``pause_turn``, and run its
        tool calls; returns once every call is answered (the task group has exited)."""
        error: Exception | None = None
        async with anyio.create_task_group() as task_group:
            calls = turn.calls = ToolCalls(self, task_group)
            try:
                while True:
                    self.steps += 1
                    step = turn.step = self._step = _Step(self.steps, calls)
                    calls.next_part(step.number)
                    request = await self._request()
                    await self._emit(StepStart(step=step.number))
                    await self._read(request, step, calls)
                    action, reason = self._decide(step)
                    await self._settle(step, calls, action, reason)
                    if action != "resume" or not await self._pause_step(step, calls):
                        break
            except Exception as exc:
                error = exc
                task_group.cancel_scope.cancel()
        if error is None:
            error = calls.failure
        if error is not None:
            raise error
        return step, action, reason

    async def _pause_step(self, step: _Step, calls: ToolCalls) -> bool:
        """Record a paused step's part of the turn (its calls go on): whether the turn is
        continued, or the run ends here (a limit); then its calls not started are not."""
        assert step.message is not None
        cost = self._record(step, step.message, [])
        self._resuming = True
        end = await self._end_reason("resume", "pause_turn")
        if end is not None:
            step.end = end
            await calls.not_run(f"Error: not run: the run ended ({end}).")
            return False
        await self._emit(
            StepEnd(
                step=step.number,
                message=step.message,
                usage=step.message.usage,
                cost=cost,
                end_reason=None,
            )
        )
        return True

    async def _read(self, request: dict[str, Any], step: _Step, calls: ToolCalls) -> None:
        """Stream the step's message, forwarding events and feeding the tool calls."""
        # Invalid tool input JSON (fine-grained tool streaming may send it) is kept as
        # {"INVALID_JSON": text}, answered below, and the run goes on.
        async with self._open_stream(**request, invalid_tool_input="keep") as stream:
            step.stream = stream
            feed = ToolCallAssembler().feed
            stopped = step.stopped
            put_nowait = self._events_out.put_nowait
            broken: set[int] = set()
            async for event in stream:
                # _emit, inline: no coroutine per event when there is room.
                self._events += 1
                if not put_nowait(event):
                    await self._events_out.put(event)
                cls = type(event)
                if cls is ContentBlockStart:
                    block = event.content_block  # type: ignore[union-attr]
                    if type(block) is ToolUseBlock:
                        await calls.block_started(event.index, block)  # type: ignore[union-attr]
                elif cls is ContentBlockStop:
                    stopped.add(event.index)  # type: ignore[union-attr]
                try:
                    item = feed(event)
                except ToolInputError as exc:
                    # Invalid JSON: never run; the stream keeps it as {"INVALID_JSON": ...}
                    # (the parser and the stream accept the same JSON).
                    broken.add(exc.index)
                    continue
                if item is None:
                    continue
                if type(item) is ToolCallDelta:
                    calls.fragment(item)
                elif item.kind == "tool_use" and item.index not in broken:
                    if item.truncated:
                        step.cut = item  # type: ignore[assignment]  # never run
                    else:
                        await calls.block_stopped(item)  # type: ignore[arg-type]
            step.message = await stream.final_message()
            for index in sorted(broken):
                # Answered, never run; counted against tool_retries like other invalid
                # input. The conversation keeps it as {"INVALID_JSON": text}.
                block = step.message.content[index]
                self._count_invalid(str(getattr(block, "name", "")))
                await calls.cut_off(
                    index,
                    "Error: the input of this call is not valid JSON, so it was not run. "
                    "Call it again with valid JSON input.",
                )

    def _decide(self, step: _Step) -> tuple[_Action, str]:
        """What the step's stop reason means for the run."""
        message = step.message
        assert message is not None and step.calls is not None
        stop = message.stop_reason if isinstance(message.stop_reason, str) else None
        has_calls = len(step.calls) > 0
        if stop == "tool_use":
            return ("tools", "tool_use") if has_calls else ("end", "no_tool_calls")
        if stop == "pause_turn" or stop == "compaction":
            # compaction: the API paused after compacting (pause_after_compaction);
            # like pause_turn, the turn is sent back as it is to be continued.
            return "resume", stop
        if stop == "max_tokens":
            if self._on_max_tokens == "stop":
                return "end", "max_tokens"
            return ("tools" if has_calls else "resume"), "max_tokens"
        return "end", stop or "unknown"

    async def _settle(self, step: _Step, calls: ToolCalls, action: _Action, reason: str) -> None:
        """Start or refuse the calls waiting for the message's end, as ``action`` says."""
        if step.cut is not None:
            await calls.cut_off(
                step.cut.index,
                "Error: this call was cut off by max_tokens before its input was complete, "
                "so it was not run (its input above keeps only the complete values). Call "
                "it again, with a shorter input if you can.",
            )
        if action == "tools":
            await calls.start_held()
        elif action == "end":
            await calls.not_run(f"Error: not run: the run ended ({reason}) before this call ran.")
        # "resume" (pause_turn): the turn goes on; its calls too, started or held (spec:
        # a paused turn is sent back to be continued, and the runner runs nothing more).

    async def _close_turn(self, turn: _Turn, step: _Step, action: _Action, reason: str) -> bool:
        """Record the turn's last step and its calls' answers, check the limits, say how
        the step ended."""
        message = step.message
        assert message is not None and turn.calls is not None
        answers = turn.calls.answers("Error: not run.")
        if step.end is not None:  # paused, then the run ended: the step is recorded already
            self._append([], answers)
            cost = self._count_cost(message)
        else:
            cost = self._record(step, message, answers)
        turn.answered = True
        self._resuming = False
        end_reason = step.end if step.end is not None else await self._end_reason(action, reason)
        self.end_reason = end_reason
        await self._emit(
            StepEnd(
                step=step.number,
                message=message,
                usage=message.usage,
                cost=cost,
                end_reason=end_reason,
            )
        )
        return end_reason is None

    def _record(self, step: _Step, message: Message, answers: list[dict[str, Any]]) -> float | None:
        """Add the step's message (and ``answers``) to the conversation and its usage and
        cost to the run's; the step's cost."""
        self._append(self._content(step, message), answers)
        step.appended = True
        self._last_message = message
        return self._count(message)

    async def _end_reason(self, action: _Action, reason: str) -> str | None:
        """Why the run ends after this step, or ``None`` if it goes on."""
        if action == "end":
            return reason
        end_reason = self._limit_reached()
        if end_reason is None and self._stop_when is not None:
            stop = self._stop_when(self)
            if inspect.isawaitable(stop):
                stop = await stop
            if stop:
                end_reason = "stop_when"
        return end_reason

    def _limit_reached(self) -> str | None:
        if any(count > self._tool_retries for count in self._invalid.values()):
            return "tool_retries"
        if self._token_budget is not None and total_tokens(self.usage) >= self._token_budget:
            return "token_budget"
        if (
            self._cost_budget is not None
            and self._cost is not None
            and self._cost >= self._cost_budget
        ):
            return "cost_budget"
        if self.steps >= self._max_steps:
            return "max_steps"
        return None

    # ------------------------------------------------------------------ conversation

    def _content(self, step: _Step, message: Message) -> list[dict[str, Any]]:
        """The step's assistant content: its complete blocks, and a tool call cut by
        max_tokens with the complete values of its input (answered as cut off)."""
        cut = step.cut.index if step.cut is not None else -1
        return [
            to_builtins(block)
            for index, block in enumerate(message.content)
            if index in step.stopped or index == cut
        ]

    def _append(self, content: list[dict[str, Any]], answers: list[dict[str, Any]]) -> None:
        """Add the assistant's content (merged into a paused turn) and the answers."""
        messages = self.messages
        if content:
            last = messages[-1] if messages else None
            if self._resuming and last is not None and last.get("role") == "assistant":
                previous = last.get("content")
                if isinstance(previous, str):
                    previous = [{"type": "text", "text": previous}]
                messages[-1] = {**last, "content": [*(previous or []), *content]}
            else:
                messages.append({"role": "assistant", "content": content})
        if answers:
            messages.append({"role": "user", "content": answers})

    def _count(self, message: Message) -> float | None:
        """Add the step's usage and cost to the run's; the step's cost."""
        self.usage = add_usage(self.usage, message.usage)
        cost = self._count_cost(message)
        self._cost = None if cost is None or self._cost is None else self._cost + cost
        return cost

    def _count_cost(self, message: Message) -> float | None:
        """What the step of ``message`` cost (``None``: its model is not priced)."""
        usage = message.usage
        model = message.model or str(self._params.get("model", ""))
        cost = self._pricing.cost(usage, model)
        if cost is None:
            cost = self._pricing.cost(usage, str(self._params.get("model", "")))
        return cost

    def _wrap_up(self, turn: _Turn, why: str) -> None:
        """The turn was torn down: keep its complete blocks and answer all its calls."""
        if turn.answered:
            return
        turn.answered = True
        step = turn.step
        content: list[dict[str, Any]] = []
        blocks: set[int] | None = None  # of the last step's calls, those to answer
        if step is not None and not step.appended:
            step.appended = True
            blocks = set()
            message = step.message
            if message is None and step.stream is not None:
                message = step.stream.current_message_snapshot
            if message is not None:
                self._count(message)
                content = self._content(step, message)
                blocks = set(step.stopped)
                if step.cut is not None:
                    blocks.add(step.cut.index)
        answers = turn.calls.answers(why, blocks=blocks) if turn.calls is not None else []
        self._append(content, answers)
        self._resuming = False

    # ---------------------------------------------------------------- tool accounting

    def _count_invalid(self, name: str) -> None:
        self._invalid[name] = self._invalid.get(name, 0) + 1

    def _count_valid(self, name: str) -> None:
        self._invalid.pop(name, None)


def _check_positive(name: str, value: int) -> None:
    if not isinstance(value, int) or value < 1:
        raise ParamsError(f"{name} must be an integer >= 1, not {value!r}", field=name)


def _without_trailing_space(message: dict[str, Any]) -> dict[str, Any]:
    """A continued assistant message may not end in whitespace (the API rejects it)."""
    content = message.get("content")
    if isinstance(content, str):
        return {**message, "content": content.rstrip()}
    if isinstance(content, list) and content:
        last = content[-1]
        if isinstance(last, dict) and last.get("type") == "text":
            text = str(last.get("text", "")).rstrip()
            blocks = content[:-1] if not text else [*content[:-1], {**last, "text": text}]
            return {**message, "content": blocks}
    return message
