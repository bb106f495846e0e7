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

    A :class:`~sluice.MessageStream` is read one HTTP chunk at a time through its
    ``aiter_batches()`` (as :func:`~sluice.ops.controlled` reads it): the items and errors
    are the same as event by event, but the stream's own accumulator
    (``current_message_snapshot``) may be up to one chunk ahead of the item you hold.

    Args:
        source: the events, e.g. a :class:`~sluice.MessageStream`, or the snapshots of
            :func:`~sluice.ops.accumulate`.

    Yields:
        a :class:`ToolCallDelta` after every ``input_json_delta`` of a tool block (its
        ``partial_input`` is live and computed on access: see the module docs), then a
        :class:`ToolCall` with the final ``input`` at the block's ``content_block_stop``.
        A call cut by ``max_tokens`` comes at the ``message_delta`` that says so, with
        ``truncated=True`` and its complete values as ``input``: never run it. A block
        the stream never stopped yields no :class:`ToolCall` (unless it is the one
        ``max_tokens`` cut).

    Raises:
        ToolInputError: the model streamed invalid JSON for a call (unfinished JSON that
            ``max_tokens`` does not explain included); ``tool_name``, ``tool_use_id``,
            ``index``, ``position`` and every character received (``text``) are on the
            error. ``partial_message`` is ``None``: this view sees events, not the
            message (the source's accumulator has it).
    """
    assembler = ToolCallAssembler()
    # A source that hands over its events one network read at a time (a MessageStream's
    # aiter_batches(), the protocol ops.controlled also recognises) costs no generator
    # round trip per event; any other source is read event by event.
    aiter_batches = getattr(source, "aiter_batches", None)
    try:
        if aiter_batches is not None:
            batches = aiter_batches()
            try:
                async for batch in batches:
                    for item in assembler.feed_many(batch):
                        yield item
            finally:
                await aclose_upstream(batches)
        else:
            feed = assembler.feed
            items: AsyncIterable[Any] = source  # events or snapshots
            async for each in items:
                found = feed(each.event if type(each) is Snapshot else each)
                if found is not None:
                    yield found
    finally:
        await aclose_upstream(source)
