"""Views of an event stream: snapshots, text, citations, and filters that select events.

Every operator here is an async generator over its upstream (a ``MessageStream`` or any
other operator) and holds no task: it pulls one event, maybe yields, pulls the next.
Closing it (``aclose()``, cancellation, or an error anywhere in the chain) closes the
upstream, down to the HTTP response (see :mod:`sluice.ops._base`). Errors raised upstream,
such as the typed error of an in-stream ``error`` event, pass through unchanged.

The per-event work is a ``type(...) is`` test or two: text is collected as a list of pieces
per block and joined once, when the block stops, so cost stays linear in the stream.
"""

from __future__ import annotations

import inspect
from collections.abc import AsyncGenerator, AsyncIterable, AsyncIterator, Awaitable, Callable
from typing import Any, TypeVar, overload

import anyio
import msgspec

from .._core._accumulate import MessageAccumulator
from .._core._events import (
    CitationsDelta,
    ContentBlockDelta,
    ContentBlockStart,
    ContentBlockStop,
    Event,
    TextDelta,
    ThinkingDelta,
)
from .._core._message import Citation, Message, TextBlock, ToolUseBlock
from ._base import aclose_upstream

__all__ = [
    "BlockCitations",
    "Snapshot",
    "Snapshots",
    "TextBlockDone",
    "accumulate",
    "citations",
    "filter_events",
    "joined_text",
    "map_events",
    "of_type",
    "take_until",
    "text_blocks",
    "text_deltas",
    "thinking_deltas",
    "tool_use_stopped",
]

T = TypeVar("T")
U = TypeVar("U")


# ---------------------------------------------------------------------------- snapshots


class Snapshot(msgspec.Struct, frozen=True, gc=False):
    """One event and the accumulator that has just applied it (see :func:`accumulate`).

    The views (:func:`text_deltas`, :func:`thinking_deltas`, :func:`text_blocks`,
    :func:`joined_text`, :func:`citations`, :func:`of_type`, :func:`tool_use_stopped` and
    :func:`~sluice.ops.tool_calls`) take snapshots wherever they take events, reading
    ``snapshot.event``, so they compose after :func:`accumulate`.

    Attributes:
        event: the event, as received.
        accumulator: the one :class:`~sluice.MessageAccumulator` of the stream, shared by
            every snapshot; ``accumulator.finish()`` gives the final message at the end.
    """

    # gc=False: a snapshot refers to the event and the accumulator, neither of which can
    # refer back to it, so it can never be part of a cycle; untracked, it costs no more to
    # make than a tuple.
    event: Event
    accumulator: MessageAccumulator

    @property
    def message(self) -> Message | None:
        """The message as of this event (``None`` before ``message_start``).

        The same ``Message`` object every time, updated in place: it is valid as of this
        event until you advance the iterator. Copy what you need to keep:
        ``sluice.to_builtins(snap.message)`` is an independent dict.
        """
        return self.accumulator.message


def accumulate(
    source: AsyncIterable[Event], *, accumulator: MessageAccumulator | None = None
) -> Snapshots:
    """Apply each event to one accumulator and yield ``Snapshot(event, accumulator)``.

    Cheap per event: nothing is copied. The snapshot's ``message`` is the accumulator's live
    message, joined lazily when read, so a UI that reads it after every event pays one join
    per read; one that only needs the new text should use :func:`text_deltas`, which takes
    the snapshots too.

    A ``MessageStream`` upstream keeps its own accumulator as well; this one is independent,
    and always as of the last event handed out (behind the stream's own when a buffering
    operator such as ``controlled`` sits in between).

    Args:
        source: the events, in stream order.
        accumulator: the accumulator to feed, to read the message from outside the chain
            (e.g. ``text_deltas(accumulate(events, accumulator=acc))``, then
            ``acc.finish()``); by default a new one. It must not have seen other events.

    Returns:
        an async iterator of :class:`Snapshot` (see :class:`Snapshots`).

    Raises:
        APIStreamError: the stream carried an ``error`` event (the typed subclass, such as
            ``OverloadedError``); ``partial_message`` holds what arrived before it.
        ToolInputError: a tool call's streamed input is not valid JSON.
        UnexpectedEventError: the events are out of protocol order.

    Example::

        async for snap in ops.accumulate(stream):
            if snap.message is not None:
                render(snap.message.content)
        message = snap.accumulator.finish()
    """
    return Snapshots(source, MessageAccumulator() if accumulator is None else accumulator)


class Snapshots(AsyncIterator[Snapshot]):
    """What :func:`accumulate` returns: an async iterator of :class:`Snapshot`.

    Iterating it runs an async generator over the upstream (``aiter()`` hands that
    generator out, so ``async for`` costs no extra layer). Closing it closes the upstream,
    even before the first snapshot.

    :func:`text_deltas` and :func:`thinking_deltas` fuse with it: given a ``Snapshots``
    that nobody has iterated yet, they read its upstream themselves and feed its
    accumulator before yielding each delta, exactly what the two stages would do, without
    making a snapshot per event or passing it through a second generator. Nothing fuses
    with a ``Snapshots`` once it was iterated, handed out by ``aiter()`` or closed.
    """

    __slots__ = ("_accumulator", "_generator", "_source", "_taken")

    def __init__(self, source: AsyncIterable[Event], accumulator: MessageAccumulator) -> None:
        self._source = source
        self._accumulator = accumulator
        self._generator = _snapshots(source, accumulator)
        # Whether the generator was handed out, the upstream fused, or this closed.
        self._taken = False

    @property
    def accumulator(self) -> MessageAccumulator:
        """The accumulator fed with every event."""
        return self._accumulator

    def __aiter__(self) -> AsyncIterator[Snapshot]:
        self._taken = True
        return self._generator

    def __anext__(self) -> Awaitable[Snapshot]:
        self._taken = True
        return self._generator.__anext__()

    async def aclose(self) -> None:
        """Close the iteration and the upstream. Idempotent."""
        self._taken = True  # nothing fuses with a closed Snapshots
        with anyio.CancelScope(shield=True):
            await self._generator.aclose()
            # The generator's finally closes the upstream only if it ever started.
            await aclose_upstream(self._source)

    def _fuse(self) -> tuple[AsyncIterable[Event], MessageAccumulator] | None:
        """Hand the upstream and the accumulator to a fusing view, if nobody iterated yet."""
        if self._taken:
            return None
        self._taken = True
        return self._source, self._accumulator


async def _snapshots(
    source: AsyncIterable[Event], accumulator: MessageAccumulator
) -> AsyncGenerator[Snapshot, None]:
    feed = accumulator.feed
    snapshot = Snapshot
    try:
        async for event in source:
            feed(event)
            yield snapshot(event, accumulator)
    finally:
        await aclose_upstream(source)


def _fusable(source: object) -> tuple[AsyncIterable[Event], MessageAccumulator] | None:
    """The upstream and accumulator of an unstarted :func:`accumulate`, to fuse with."""
    return source._fuse() if type(source) is Snapshots else None


# --------------------------------------------------------------------------------- text


async def text_deltas(
    source: AsyncIterable[Event] | AsyncIterable[Snapshot], *, index: int | None = None
) -> AsyncGenerator[str, None]:
    """The text of each ``text_delta``, as it arrives.

    Over :func:`accumulate` it fuses with it (see :class:`Snapshots`): the accumulator
    still applies every event before its text is yielded, at the cost of one stage.

    Args:
        source: the events, or the snapshots of :func:`accumulate`.
        index: only the deltas of the content block at this index; ``None`` for all.

    Example::

        async for text in ops.text_deltas(stream):
            print(text, end="", flush=True)

        # The text, and the accumulator as of each delta (reading acc.message joins
        # the text so far: do it now and then, not per delta):
        acc = sluice.MessageAccumulator()
        async for text in ops.text_deltas(ops.accumulate(events, accumulator=acc)):
            paint(text, events_so_far=acc.events)
    """
    block_delta, text_delta = ContentBlockDelta, TextDelta  # locals: looked up per event
    fused = _fusable(source)
    items: AsyncIterable[Any] = source  # events or snapshots
    try:
        if fused is not None and index is None:
            # Over accumulate(x), see Snapshots: the accumulator applies each event and
            # says whether it was a text delta, in one call.
            upstream, accumulator = fused
            feed_text = accumulator.feed_text
            async for event in upstream:  # closed by closing source, below
                text = feed_text(event)
                if text is not None:
                    yield text
        elif fused is not None:
            upstream, accumulator = fused
            feed = accumulator.feed
            async for event in upstream:
                feed(event)
                if type(event) is block_delta and (index is None or event.index == index):
                    delta = event.delta
                    if type(delta) is text_delta:
                        yield delta.text
        elif index is None:
            async for item in items:
                event = item.event if type(item) is Snapshot else item
                if type(event) is block_delta:
                    delta = event.delta
                    if type(delta) is text_delta:
                        yield delta.text
        else:
            async for item in items:
                event = item.event if type(item) is Snapshot else item
                if type(event) is block_delta and event.index == index:
                    delta = event.delta
                    if type(delta) is text_delta:
                        yield delta.text
    finally:
        await aclose_upstream(source)


async def thinking_deltas(
    source: AsyncIterable[Event] | AsyncIterable[Snapshot], *, index: int | None = None
) -> AsyncGenerator[str, None]:
    """The text of each ``thinking_delta`` (extended thinking), as it arrives.

    Over :func:`accumulate` it fuses with it, as :func:`text_deltas` does.

    Args:
        source: the events, or the snapshots of :func:`accumulate`.
        index: only the deltas of the content block at this index; ``None`` for all.

    Example::

        async for thought in ops.thinking_deltas(stream):
            print(thought, end="", flush=True)
    """
    block_delta, thinking_delta = ContentBlockDelta, ThinkingDelta  # locals: looked up per event
    fused = _fusable(source)
    items: AsyncIterable[Any] = source  # events or snapshots
    try:
        if fused is not None:  # over accumulate(x): one stage instead of two, see Snapshots
            upstream, accumulator = fused
            feed = accumulator.feed
            async for event in upstream:  # closed by closing source, below
                feed(event)
                if type(event) is block_delta and (index is None or event.index == index):
                    delta = event.delta
                    if type(delta) is thinking_delta:
                        yield delta.thinking
        elif index is None:
            async for item in items:
                event = item.event if type(item) is Snapshot else item
                if type(event) is block_delta:
                    delta = event.delta
                    if type(delta) is thinking_delta:
                        yield delta.thinking
        else:
            async for item in items:
                event = item.event if type(item) is Snapshot else item
                if type(event) is block_delta and event.index == index:
                    delta = event.delta
                    if type(delta) is thinking_delta:
                        yield delta.thinking
    finally:
        await aclose_upstream(source)


class TextBlockDone(msgspec.Struct, frozen=True):
    """A text block, complete: yielded by :func:`text_blocks` at its ``content_block_stop``.

    Attributes:
        index: the block's index in the message content.
        text: the block's whole text.
        citations: the citations supporting that text, in arrival order (empty if none).
    """

    index: int
    text: str
    citations: list[Citation]


class BlockCitations(msgspec.Struct, frozen=True):
    """The citations of one text block, with the text they support (see :func:`citations`).

    Attributes:
        index: the block's index in the message content.
        text: the block's whole text: what the citations back up.
        citations: at least one citation, in arrival order.
    """

    index: int
    text: str
    citations: list[Citation]


class _TextBlocks:
    """Sans-I/O: collects each text block's pieces and citations until its stop."""

    __slots__ = ("_open",)

    def __init__(self) -> None:
        # index -> (text pieces, citations), for the text blocks that started and did not
        # stop yet. The accumulator's rule: only deltas aimed at a text block count.
        self._open: dict[int, tuple[list[str], list[Citation]]] = {}

    def feed(self, event: Event | Snapshot) -> TextBlockDone | None:
        """Apply one event (or snapshot); the finished block if it stopped a text block."""
        if type(event) is Snapshot:
            event = event.event
        if type(event) is ContentBlockDelta:
            entry = self._open.get(event.index)
            if entry is not None:
                delta = event.delta
                if type(delta) is TextDelta:
                    entry[0].append(delta.text)
                elif type(delta) is CitationsDelta:
                    entry[1].append(delta.citation)
        elif type(event) is ContentBlockStart:
            block = event.content_block
            if type(block) is TextBlock:
                found = list(block.citations) if isinstance(block.citations, list) else []
                self._open[event.index] = ([block.text], found)
        elif type(event) is ContentBlockStop:
            entry = self._open.pop(event.index, None)
            if entry is not None:
                return TextBlockDone(event.index, "".join(entry[0]), entry[1])
        return None


async def text_blocks(
    source: AsyncIterable[Event] | AsyncIterable[Snapshot],
) -> AsyncGenerator[TextBlockDone, None]:
    """Each text block once it is complete, as ``TextBlockDone(index, text, citations)``.

    Yielded at the block's ``content_block_stop``; a block that never stops (the stream
    was cut) is not yielded. Other block types (thinking, tool use...) are skipped.

    Args:
        source: the events, or the snapshots of :func:`accumulate`.

    Example::

        async for block in ops.text_blocks(stream):
            print(f"[{block.index}] {block.text} ({len(block.citations)} citations)")
    """
    blocks = _TextBlocks()
    feed = blocks.feed
    try:
        async for event in source:
            done = feed(event)
            if done is not None:
                yield done
    finally:
        await aclose_upstream(source)


async def joined_text(source: AsyncIterable[Event] | AsyncIterable[Snapshot]) -> str:
    """Consume the stream and return the text of its completed text blocks, joined.

    For a complete stream this equals ``MessageStream.final_text()``. The upstream is
    closed on return, on error and on cancellation.

    Args:
        source: the events, or the snapshots of :func:`accumulate`.

    Example::

        answer = await ops.joined_text(stream)
    """
    blocks = _TextBlocks()
    feed = blocks.feed
    parts: list[str] = []
    try:
        async for event in source:
            done = feed(event)
            if done is not None:
                parts.append(done.text)
    finally:
        await aclose_upstream(source)
    return "".join(parts)


async def citations(
    source: AsyncIterable[Event] | AsyncIterable[Snapshot],
) -> AsyncGenerator[BlockCitations, None]:
    """The citations of each cited text block, with the text they support.

    Yielded at the block's ``content_block_stop``, as ``BlockCitations(index, text,
    citations)``, for text blocks with at least one citation (from ``citations_delta``
    events or already present in ``content_block_start``).

    Args:
        source: the events, or the snapshots of :func:`accumulate`.

    Example::

        async for cited in ops.citations(stream):
            for citation in cited.citations:
                print(f"{cited.text!r} <- {citation.cited_text!r}")
    """
    blocks = _TextBlocks()
    feed = blocks.feed
    try:
        async for event in source:
            done = feed(event)
            if done is not None and done.citations:
                yield BlockCitations(done.index, done.text, done.citations)
    finally:
        await aclose_upstream(source)


# ------------------------------------------------------------------------------ filters


async def of_type(source: AsyncIterable[T], *types: type) -> AsyncGenerator[T, None]:
    """Keep the events of the given classes, or whose ``delta`` is of one of them.

    Over :func:`accumulate` it keeps the snapshots whose event matches.

    ``of_type(stream, TextDelta)`` keeps the ``content_block_delta`` events that carry text;
    ``of_type(stream, ContentBlockStart, MessageDelta)`` keeps those two event types.
    Classes are matched with ``isinstance``.

    Args:
        source: the events, or the snapshots of :func:`accumulate`.
        types: event classes and/or delta classes to keep.

    Raises:
        TypeError: no classes were given, or something given is not a class (raised on
            first iteration, after which the upstream is closed as usual).

    Example::

        async for event in ops.of_type(stream, ContentBlockStart, ContentBlockStop):
            print(event.type, event.index)
    """
    try:
        if not types or not all(isinstance(cls, type) for cls in types):
            raise TypeError(f"of_type() needs one or more classes, got {types!r}")
        async for item in source:
            event: object = item.event if type(item) is Snapshot else item  # type: ignore[attr-defined]
            if isinstance(event, types) or isinstance(getattr(event, "delta", None), types):
                yield item
    finally:
        await aclose_upstream(source)


async def filter_events(
    source: AsyncIterable[T],
    predicate: Callable[[T], object] | Callable[[T], Awaitable[object]],
) -> AsyncGenerator[T, None]:
    """Keep the items for which ``predicate(item)`` is true.

    Args:
        source: the events (or the items of any operator).
        predicate: a function of one item; a coroutine function (``async def``) is
            awaited.

    Example::

        long_deltas = ops.filter_events(
            ops.text_deltas(stream), lambda text: len(text) > 10
        )
    """
    try:
        if inspect.iscoroutinefunction(predicate):
            async for item in source:
                if await predicate(item):
                    yield item
        else:
            async for item in source:
                if predicate(item):
                    yield item
    finally:
        await aclose_upstream(source)


@overload
def map_events(
    source: AsyncIterable[T], fn: Callable[[T], Awaitable[U]]
) -> AsyncGenerator[U, None]: ...
@overload
def map_events(source: AsyncIterable[T], fn: Callable[[T], U]) -> AsyncGenerator[U, None]: ...


async def map_events(
    source: AsyncIterable[Any], fn: Callable[[Any], Any]
) -> AsyncGenerator[Any, None]:
    """Yield ``fn(item)`` for each item.

    Args:
        source: the events (or the items of any operator).
        fn: a function of one item; a coroutine function (``async def``) is awaited.

    Example::

        async for line in ops.map_events(stream, lambda event: event.type):
            print(line)
    """
    try:
        if inspect.iscoroutinefunction(fn):
            async for item in source:
                yield await fn(item)
        else:
            async for item in source:
                yield fn(item)
    finally:
        await aclose_upstream(source)


async def take_until(
    source: AsyncIterable[T], predicate: Callable[[T], object], *, inclusive: bool = True
) -> AsyncGenerator[T, None]:
    """Yield items until ``predicate(item)`` is true, then close the upstream.

    Closing early is the point: the HTTP response is released as soon as the item
    arrives, without reading (or paying for) the rest of the stream.

    Args:
        source: the events (or the items of any operator).
        predicate: a function of one item; see :func:`tool_use_stopped` for a ready one.
        inclusive: whether the item that satisfied the predicate is yielded too.

    Example::

        # Stop at the end of the first client tool call: its input is complete.
        async for snap in ops.accumulate(ops.take_until(stream, ops.tool_use_stopped())):
            ...
    """
    try:
        async for item in source:
            if predicate(item):
                if inclusive:
                    yield item
                return
            yield item
    finally:
        await aclose_upstream(source)


class _ToolUseStopped:
    """The predicate made by :func:`tool_use_stopped`."""

    __slots__ = ("_tool_blocks",)

    def __init__(self) -> None:
        self._tool_blocks: set[int] = set()

    def __call__(self, event: Event | Snapshot) -> bool:
        if type(event) is Snapshot:
            event = event.event
        if type(event) is ContentBlockStart:
            if type(event.content_block) is ToolUseBlock:
                self._tool_blocks.add(event.index)
        elif type(event) is ContentBlockStop:
            return event.index in self._tool_blocks
        return False

    def __repr__(self) -> str:
        return "tool_use_stopped()"


def tool_use_stopped() -> Callable[[Event | Snapshot], bool]:
    """A predicate that is true at the ``content_block_stop`` of a ``tool_use`` block.

    It remembers which block indexes started as client ``tool_use`` blocks, so it is
    stateful: make a fresh one per stream. Server tool calls (``server_tool_use``, run by the
    API itself) do not count. With :func:`take_until` it stops the stream once the first
    tool call's input is complete; with :func:`filter_events` it keeps every tool call's
    stop.

    Example::

        async for event in ops.take_until(stream, ops.tool_use_stopped()):
            ...
    """
    return _ToolUseStopped()
