"""``tool_calls``: the tool calls of an event stream, with their input visible as it streams.

The assembly itself is sans-I/O (:class:`~sluice.ops.ToolCallAssembler`, in the core); this
is its async view over a stream of events or snapshots. See the assembler's module for the
cost model and the live values of ``partial_input``.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterable
from typing import Any

from .._core._events import Event
from .._core._tool_calls import ToolCall, ToolCallAssembler, ToolCallDelta
from ._base import aclose_upstream
from ._views import Snapshot

__all__ = ["tool_calls"]


async def tool_calls(
    source: AsyncIterable[Event] | AsyncIterable[Snapshot],
) -> AsyncGenerator[ToolCallDelta | ToolCall, None]:
    """The tool calls of an event stream: a delta per input fragment, the call at its end.

    Handles client ``tool_use``, ``server_tool_use`` and ``mcp_tool_use`` blocks. Other
    events are not yielded. Closing or cancelling the generator closes ``source``.

    Args:
        source: the events, e.g. a :class:`~sluice.MessageStream`, or the snapshots of
            :func:`~sluice.ops.accumulate`.

    Yields:
        a :class:`ToolCallDelta` after every ``input_json_delta`` of a tool block (its
        ``partial_input`` is live and computed on access: see the module docs), then a
        :class:`ToolCall` with the final ``input`` at the block's ``content_block_stop``.
        A block the stream never stopped yields no :class:`ToolCall`.

    Raises:
        ToolInputError: the model streamed invalid JSON for a call; ``tool_name``,
            ``tool_use_id``, ``index``, ``position`` and every character received
            (``text``) are on the error. ``partial_message`` is ``None``: this view sees
            events, not the message (the source's accumulator has it).
    """
    feed = ToolCallAssembler().feed
    items: AsyncIterable[Any] = source  # events or snapshots
    try:
        async for each in items:
            item = feed(each.event if type(each) is Snapshot else each)
            if item is not None:
                yield item
    finally:
        await aclose_upstream(source)
