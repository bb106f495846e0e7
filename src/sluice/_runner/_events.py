"""The runner's own events, handed out between the stream events of every step.

They are tagged structs with a ``type`` (``step_start``, ``step_end``, ``tool_start``,
``tool_finish``) like the API's events, so that operators which look at an event's class
(``ops.text_deltas``, ``ops.tool_calls``...) skip them, and the relay encoders
(``ops.to_sse``, ``ops.to_jsonl``) write them out as events of those types; a sluice
client reading such a relay gets them back as ``UnknownEvent``.
"""

from __future__ import annotations

from typing import Any, ClassVar, Literal, TypeAlias

from .._core._message import Message, Usage
from .._core._wire import Wire

__all__ = ["RunEvent", "StepEnd", "StepStart", "ToolFinish", "ToolOutcome", "ToolStart"]


class StepStart(Wire, kw_only=True, tag="step_start"):
    """A step begins: its request is about to be sent.

    Attributes:
        step: the step's number, from 1.
    """

    type: ClassVar[Literal["step_start"]] = "step_start"
    step: int


class StepEnd(Wire, kw_only=True, tag="step_end"):
    """A step is over: its message arrived and its tool calls, if any, are answered.

    Attributes:
        step: the step's number.
        message: the step's assistant message, as received.
        usage: the step's usage.
        cost: the step's cost in US dollars; ``None`` if its model is not priced.
        end_reason: ``None`` if the run goes on; else why it ends (see ``Run.end_reason``).
    """

    type: ClassVar[Literal["step_end"]] = "step_end"
    step: int
    message: Message
    usage: Usage
    cost: float | None = None
    end_reason: str | None = None


class ToolStart(Wire, kw_only=True, tag="tool_start"):
    """A tool's function is called (after its input was checked and the call approved).

    For a streaming tool this comes at its block's start, with the input so far.

    Attributes:
        step: the step whose message made the call.
        index: the ``tool_use`` block's index in that message.
        id: the ``tool_use`` id.
        name: the tool's name.
        input: the input the function gets (JSON values; ``{}`` for a streaming tool).
    """

    type: ClassVar[Literal["tool_start"]] = "tool_start"
    step: int
    index: int
    id: str
    name: str
    input: Any


#: How a tool call ended (``ToolFinish.outcome``).
ToolOutcome: TypeAlias = Literal[
    "ok",  # the function returned
    "error",  # it raised (a ToolError or any other exception)
    "timeout",  # it ran past its timeout and was cancelled
    "invalid_input",  # the input did not match the schema; not called
    "unknown_tool",  # no function of that name in the run; not called
    "denied",  # the needs_approval hook refused it; not called
    "cut_off",  # its input was cut off (max_tokens) or invalid JSON; not called
    "not_run",  # the run ended before it could run (refusal, limits...)
    "cancelled",  # the run was cancelled or failed while it ran
]


class ToolFinish(Wire, kw_only=True, tag="tool_finish"):
    """A tool call is answered: its ``tool_result`` block is ready.

    Every ``tool_use`` of a step gets one, whether or not its function ran (see
    ``outcome``). The exception a tool raised, if any, is on :attr:`exception`
    (not written by the relay encoders).

    Attributes:
        step: the step whose message made the call.
        index: the ``tool_use`` block's index.
        id: the ``tool_use`` id.
        name: the tool's name.
        outcome: how the call ended.
        is_error: whether the result is sent with ``is_error: true``.
        result: the ``tool_result`` block, as it is sent.
        duration: seconds from the call of the function to its end (0 if never called).
    """

    type: ClassVar[Literal["tool_finish"]] = "tool_finish"
    step: int
    index: int
    id: str
    name: str
    outcome: ToolOutcome
    is_error: bool
    result: dict[str, Any]
    duration: float = 0.0

    @property
    def exception(self) -> BaseException | None:
        """The exception the tool raised (a timeout's ``TimeoutError``), else ``None``."""
        value = self.__dict__.get("exception")
        return value if isinstance(value, BaseException) else None


#: What iterating a run hands out besides the API's stream events.
RunEvent: TypeAlias = StepStart | StepEnd | ToolStart | ToolFinish
