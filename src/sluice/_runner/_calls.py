"""The client tool calls of one turn: started as their blocks complete, run concurrently.

A *turn* is one assistant message: one step, and one more for each ``pause_turn`` that
sends it back to be continued. :class:`ToolCalls` is fed by the run's reader as each
step's part of the message streams in. Each ``tool_use`` block becomes a :class:`_Call`
when its ``content_block_start`` arrives, and is started the moment its
``content_block_stop`` arrives (its input is then complete) or, for a streaming tool, at
once. Starting a call spawns a task in the turn's task group, which

1. asks the ``needs_approval`` hook, if the run has one,
2. waits its turn: a ``sequential`` tool waits for every call before it in the message,
   and every call after a ``sequential`` one waits for it,
3. takes a slot of the run's ``max_concurrency`` limiter,
4. calls the function under its timeout, and records the ``tool_result`` block.

A call whose tool does not exist or whose input does not match the tool's parameters is
answered at once, without a task. The reader never waits for a tool. A ``pause_turn``
leaves the calls as they are: one made before it keeps running (or its answer is kept)
while the turn is continued, so it runs exactly once, and is answered with the others
when the turn ends. The answers are read in ``tool_use`` order once every task has ended
(the turn's task group has exited), so they go back in one user message in that order. A
call still running when the turn is torn down (cancellation, a failed stream) has no
answer of its own; :meth:`ToolCalls.answers` then says it was cancelled, so every
``tool_use`` of the conversation is still answered.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, Protocol, TypeAlias

import anyio
import msgspec
from anyio.abc import TaskGroup

from .._core._conversation import result_content, tool_result
from .._core._exceptions import ConfigError, ToolError
from .._core._message import ToolUseBlock
from .._core._tool_calls import ToolCall, ToolCallDelta
from ._events import ToolFinish, ToolOutcome, ToolStart
from ._tool import FunctionTool, PartialInput

__all__ = ["ApprovalHook", "ToolCalls"]

#: ``needs_approval``: given a complete call, ``True`` runs it; ``False`` or a string (the
#: reason, sent to the model) refuses it. May be a coroutine function.
ApprovalHook: TypeAlias = Callable[[ToolCall], "bool | str | Awaitable[bool | str]"]


class _RunState(Protocol):
    """What a step's calls read from the run that owns them (`_run.Run` satisfies it).

    A protocol rather than the class itself keeps imports one way: `_run` imports this
    module, this module imports nothing of `_run`.
    """

    _functions: dict[str, FunctionTool[..., Any]]
    _definitions: list[Any]
    _eager: bool
    _needs_approval: ApprovalHook | None
    _limiter: anyio.CapacityLimiter | None
    _tool_timeout: float | None

    async def _emit(self, event: ToolStart | ToolFinish) -> None: ...

    def _count_invalid(self, name: str) -> None: ...

    def _count_valid(self, name: str) -> None: ...


class _Call:
    """One ``tool_use`` block of the turn and, once known, its answer."""

    __slots__ = (
        "call",
        "done",
        "index",
        "key",
        "name",
        "outcome",
        "partial",
        "result",
        "sequential",
        "started",
        "step",
        "task_scope",
        "timer",
        "tool",
        "tool_use_id",
    )

    def __init__(
        self,
        key: tuple[int, int],
        step: int,
        tool_use_id: str,
        name: str,
        tool: FunctionTool[..., Any] | None,
    ) -> None:
        self.key = key  # (part of the turn, block index): the calls' order in the message
        self.index = key[1]  # its block's index in its step's message
        self.step = step
        self.tool_use_id = tool_use_id
        self.name = name
        self.tool = tool
        self.sequential = tool is not None and tool.sequential
        self.call: ToolCall | None = None  # the complete call, once its block stopped
        self.partial: PartialInput[Any] | None = None  # a streaming tool's input
        self.result: dict[str, Any] | None = None
        self.outcome: ToolOutcome = "cancelled"
        self.done = anyio.Event()
        self.started = False  # a task was spawned for it
        self.task_scope = anyio.CancelScope()  # the whole task
        self.timer: anyio.CancelScope | None = None  # its timeout, once it runs


class ToolCalls:
    """The client tool calls of one turn (see the module docstring).

    Call :meth:`next_part` before each step of the turn; the block indices the reader
    passes are those of that step's message.

    Args:
        run: the run (its tools, limits, hook and event stream).
        task_group: the turn's task group; every call's task runs in it.
    """

    def __init__(self, run: _RunState, task_group: TaskGroup) -> None:
        self._run = run
        self._task_group = task_group
        self._part = 0  # the turn's parts (steps) so far
        self._step = 0  # the number of the step streaming the current part
        self._calls: dict[tuple[int, int], _Call] = {}  # by (part, block index)
        self._held: list[_Call] = []  # complete, not started (eager=False)
        #: An exception of the run's own hook (needs_approval): it fails the run.
        self.failure: Exception | None = None

    def __len__(self) -> int:
        return len(self._calls)

    def next_part(self, step: int) -> None:
        """Step ``step`` streams the next part of the turn (the first, or a continuation
        after ``pause_turn``)."""
        self._part += 1
        self._step = step

    # ------------------------------------------------------------------ fed by the reader

    async def block_started(self, index: int, block: ToolUseBlock) -> None:
        """A ``tool_use`` block starts: a streaming tool is called now."""
        tool = self._run._functions.get(block.name)
        key = (self._part, index)
        call = self._calls[key] = _Call(key, self._step, block.id, block.name, tool)
        run = self._run
        if tool is not None and tool.streaming and run._eager and run._needs_approval is None:
            # With an approval hook (or eager=False) it waits for its complete input, like
            # any call, and then reads it whole.
            call.partial = PartialInput(id=block.id, name=block.name)
            self._spawn(call, None)

    def fragment(self, delta: ToolCallDelta) -> None:
        """A fragment of a call's input arrived."""
        call = self._calls.get((self._part, delta.index))
        if call is not None and call.partial is not None:
            call.partial._update(delta)

    async def block_stopped(self, complete: ToolCall) -> None:
        """A ``tool_use`` block is complete: check its input and start it (if eager)."""
        call = self._calls.get((self._part, complete.index))
        if call is None:  # pragma: no cover - block_started always comes first
            return
        call.call = complete
        if call.partial is not None:
            await self._finish_partial(call, complete.input)
        elif self._run._eager:
            await self._start(call)
        else:
            self._held.append(call)

    async def cut_off(self, index: int, reason: str) -> None:
        """The block at ``index`` never completed (max_tokens) or its JSON is invalid."""
        call = self._calls.get((self._part, index))
        if call is None or call.result is not None:
            return
        call.task_scope.cancel()
        await self._answer(call, "cut_off", reason)

    # --------------------------------------------------------------------- at turn end

    async def start_held(self) -> None:
        """Start the calls that were waiting for the message's end."""
        held, self._held = self._held, []
        for call in held:
            await self._start(call)

    async def not_run(self, reason: str) -> None:
        """Answer the calls that never started: the run ends without running them."""
        held, self._held = self._held, []
        for call in held:
            await self._answer(call, "not_run", reason)

    def answers(self, cancelled: str, *, blocks: set[int] | None = None) -> list[dict[str, Any]]:
        """Every call's ``tool_result``, in ``tool_use`` order; a call without one is
        answered with ``cancelled``. ``blocks`` keeps, of the current part's calls, only
        those of these block indices (the earlier parts' are in the conversation already)."""
        results = []
        for (part, index), call in sorted(self._calls.items()):
            if blocks is not None and part == self._part and index not in blocks:
                continue
            if call.result is None:
                call.result = tool_result(call.tool_use_id, cancelled, is_error=True)
            results.append(call.result)
        return results

    # -------------------------------------------------------------------------- running

    async def _start(self, call: _Call) -> None:
        assert call.call is not None
        run = self._run
        if call.tool is None:
            known = ", ".join(sorted(run._functions)) or "none"
            run._count_invalid(call.name)
            if any(_named(d) == call.name for d in run._definitions):
                # A raw definition: sent to the model, but there is nothing here to run.
                text = (
                    f"Error: the tool {call.name!r} was given only as a definition, with "
                    f"no function to run it here (tools that run: {known})."
                )
            else:
                text = f"Error: there is no tool named {call.name!r} to run (tools: {known})."
            await self._answer(call, "unknown_tool", text)
            return
        try:
            arguments = call.tool.validate(call.call.input)
        except msgspec.ValidationError as exc:
            await self._invalid(call, exc)
            return
        run._count_valid(call.name)
        if call.tool.streaming:  # started late: its input arrives complete
            call.partial = PartialInput(id=call.tool_use_id, name=call.name)
            call.partial._finish(call.call.input, arguments)
        self._spawn(call, arguments)

    async def _invalid(self, call: _Call, exc: msgspec.ValidationError) -> None:
        self._run._count_invalid(call.name)
        await self._answer(
            call,
            "invalid_input",
            f"Error: invalid input for {call.name}: {exc}. Call it again with input that "
            "matches its input_schema.",
        )

    async def _finish_partial(self, call: _Call, final: Any) -> None:
        """A streaming call's input is complete: check it, then let the tool see it."""
        assert call.tool is not None and call.partial is not None
        try:
            value = call.tool.validate(final)
        except msgspec.ValidationError as exc:
            call.task_scope.cancel()
            await self._invalid(call, exc)
            return
        self._run._count_valid(call.name)
        call.partial._finish(final, value)
        timeout = self._timeout_of(call.tool)
        if call.timer is not None and timeout is not None:
            call.timer.deadline = anyio.current_time() + timeout  # its clock starts now

    def _spawn(self, call: _Call, arguments: Any) -> None:
        call.started = True
        self._task_group.start_soon(
            self._execute, call, arguments, name=f"sluice tool {call.name} {call.tool_use_id}"
        )

    async def _wait_turn(self, call: _Call) -> None:
        """The sequential barrier: see the module docstring."""
        earlier = [
            other for key, other in sorted(self._calls.items()) if key < call.key and other.started
        ]
        if call.sequential:
            for other in earlier:
                await other.done.wait()
        else:
            for other in reversed(earlier):
                if other.sequential:
                    await other.done.wait()
                    break

    async def _execute(self, call: _Call, arguments: Any) -> None:
        try:
            with call.task_scope:
                await self._run_call(call, arguments)
        except Exception as exc:
            # The run's own hook failed (tools' exceptions are answers): the run fails.
            self.failure = exc
            self._task_group.cancel_scope.cancel()
        finally:
            call.done.set()

    async def _run_call(self, call: _Call, arguments: Any) -> None:
        run = self._run
        tool = call.tool
        assert tool is not None
        if call.call is not None and run._needs_approval is not None:
            assert call.call is not None
            refusal = await self._approval(call.call)
            if refusal is not None:
                await self._answer(call, "denied", refusal)
                return
        await self._wait_turn(call)
        limiter = run._limiter
        if limiter is None:
            await self._invoke(call, tool, arguments)
        else:
            async with limiter:
                await self._invoke(call, tool, arguments)

    async def _approval(self, complete: ToolCall) -> str | None:
        """Ask the hook; the refusal text to send, or ``None`` if approved."""
        hook = self._run._needs_approval
        assert hook is not None
        decision = hook(complete)
        if inspect.isawaitable(decision):
            decision = await decision
        if decision is True:
            return None
        if isinstance(decision, str):
            return decision
        if decision is False:
            return f"Error: the call to {complete.name} was not approved, so it did not run."
        raise ConfigError(
            f"the needs_approval hook returned {decision!r} for the call to {complete.name} "
            f"({complete.id}): return True to run the call, False or a reason (str) to "
            "refuse it"
        )

    def _timeout_of(self, tool: FunctionTool[..., Any]) -> float | None:
        return tool.timeout if tool.timeout is not None else self._run._tool_timeout

    async def _invoke(self, call: _Call, tool: FunctionTool[..., Any], arguments: Any) -> None:
        run = self._run
        timeout = self._timeout_of(tool)
        shown: Any = call.call.input if call.call is not None else {}
        await run._emit(
            ToolStart(
                step=call.step, index=call.index, id=call.tool_use_id, name=call.name, input=shown
            )
        )
        started = anyio.current_time()
        outcome: ToolOutcome = "ok"
        error: BaseException | None = None
        content: Any = None
        # The timeout counts from when the tool has its whole input: a streaming tool
        # called at its block's start gets its deadline when the input is complete
        # (_finish_partial), so a model slow to write the input does not eat its time.
        with anyio.CancelScope() as timer:
            call.timer = timer
            if timeout is not None and (call.partial is None or call.partial.done):
                timer.deadline = started + timeout
            try:
                value = await tool.invoke(arguments, call.partial)
                if call.partial is not None:
                    # A streaming tool that returned before its input was complete is
                    # answered once the input is checked (or cancelled if it fails).
                    async for _ in call.partial:
                        pass
                content = result_content(value)
            except ToolError as exc:
                outcome, error = "error", exc
                content = (
                    exc.content if isinstance(exc.content, str) else result_content(exc.content)
                )
            except Exception as exc:
                outcome, error = "error", exc
                content = f"Error: {type(exc).__name__}: {exc}"
        if timer.cancelled_caught:
            outcome = "timeout"
            error = TimeoutError(f"{call.name} ran past its timeout of {timeout:g} s")
            content = (
                f"Error: {call.name} did not finish within {timeout:g} seconds and was cancelled."
                if tool._is_async
                # A thread cannot be stopped, only abandoned (see _tool): say so, so that the
                # model does not take a call that may still take effect for one that did not.
                else f"Error: {call.name} did not finish within {timeout:g} seconds; its "
                "result will not come, but it may still complete in the background."
            )
        duration = anyio.current_time() - started
        call.result = tool_result(call.tool_use_id, content, is_error=outcome != "ok")
        call.outcome = outcome
        call.done.set()
        await run._emit(self._finish_event(call, duration, error))

    # ------------------------------------------------------------------------- answers

    async def _answer(self, call: _Call, outcome: ToolOutcome, text: str) -> None:
        """Answer ``call`` with an error result without running it, and say so."""
        call.result = tool_result(call.tool_use_id, text, is_error=True)
        call.outcome = outcome
        call.done.set()
        await self._run._emit(self._finish_event(call, 0.0, None))

    def _finish_event(
        self, call: _Call, duration: float, error: BaseException | None
    ) -> ToolFinish:
        assert call.result is not None
        event = ToolFinish(
            step=call.step,
            index=call.index,
            id=call.tool_use_id,
            name=call.name,
            outcome=call.outcome,
            is_error=bool(call.result.get("is_error")),
            result=call.result,
            duration=duration,
        )
        if error is not None:
            event.__dict__["exception"] = error
        return event


def _named(definition: Any) -> object:
    """The ``name`` of a raw tool definition (a mapping), if it has one."""
    return definition.get("name") if isinstance(definition, Mapping) else None
