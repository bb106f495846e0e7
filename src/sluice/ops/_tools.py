"""``tool_calls``: the tool calls of an event stream, with their input visible as it streams.

The assembly itself is sans-I/O (:class:`~sluice.ops.ToolCallAssembler`, in the core); this
is its async view over a stream of events or snapshots. See the assembler's module for the
cost model and the live values of ``partial_input``.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterable
from typing import Any

from .._core._events import ContentBlockDelta, Event, InputJSONDelta
from .._core._exceptions import PartialJSONError
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

    A :class:`~sluice.MessageStream` that nobody has iterated yet is read one HTTP chunk
    at a time (as :func:`~sluice.ops.controlled` reads it): the items and errors are the
    same as event by event, but the stream's own accumulator
    (``current_message_snapshot()``) may be up to one chunk ahead of the item you hold.

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
    from .._http._stream import MessageStream

    assembler = ToolCallAssembler()
    feed = assembler.feed
    calls = assembler._calls
    # A MessageStream hands over its events one HTTP chunk at a time: no generator round
    # trip per event. Other sources (and a stream already iterated) are read event by event.
    batches = source._event_batches() if type(source) is MessageStream else None
    one_by_one = batches is None
    reader: AsyncIterable[Any] = source if batches is None else batches
    try:
        async for got in reader:
            events = (got.event if type(got) is Snapshot else got,) if one_by_one else got
            for event in events:
                # The assembler's hot path inline: a fragment of an open call.
                if type(event) is ContentBlockDelta:
                    delta = event.delta
                    if type(delta) is InputJSONDelta:
                        call = calls.get(event.index)
                        if call is not None:
                            piece = delta.partial_json
                            parser = call.parser
                            try:
                                records = parser._feed(piece)
                            except PartialJSONError as exc:
                                raise call.error(exc) from exc
                            yield ToolCallDelta(call, piece, parser._str_node, records)
                    continue
                item = feed(event)
                if item is not None:
                    yield item
    finally:
        await aclose_upstream(source)
