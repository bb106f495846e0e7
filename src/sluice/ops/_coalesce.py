"""Coalescing for UIs: fewer, larger deltas, bounded in latency and size, never a backlog.

:func:`coalesce` reads the upstream eagerly in a background task into a small buffer of
:data:`BUFFER_SLOTS` entries. Each new text, thinking or tool-input delta that continues the
last buffered entry (a delta of the same block and the same delta type) is merged into it
instead of taking a slot, up to ``max_chars`` characters per merged delta. Everything else
(block start and stop, signatures, citations, ``message_delta``, pings, errors, unknown
events) keeps its own slot, in order, and ends the merge before it. When every slot is taken
the reader stops reading, which pushes back on the HTTP read.

A consumer that asks for the next event gets the oldest entry at once, except when that
entry is a delta with nothing behind it, so that it could still grow. Such a delta is held
back to let more pieces merge into it, and handed out as soon as one of these happens:

- ``max_latency`` seconds have passed since its *first* piece arrived from upstream;
- it holds ``max_chars`` characters;
- any other event arrives behind it: a non-mergeable event, a delta of another block or
  another delta type, or a piece that would take it over ``max_chars``;
- the upstream ends or fails, or the stream is closed.

So a consumer that keeps up (a UI repainting as fast as it can) gets at most about one
delta of a block per ``max_latency`` seconds; a slower consumer gets everything that merged
while it was busy, without waiting, since by then the merge is usually older than
``max_latency`` or has something behind it; and nothing is ever held back longer than
``max_latency`` after its first piece arrived (a consumer can only add its own delay).
``max_latency=0`` holds nothing back: deltas merge only while the consumer is busy.

Memory is bounded: :data:`BUFFER_SLOTS` entries of at most ``max_chars`` characters each
(a single delta larger than that is kept whole), plus one event held by the reader. Cost is
linear: a merged delta keeps its pieces in a list and joins them once, when it is handed
out. Merging never reorders or drops anything: the concatenation of the text the consumer
receives equals the text the API sent, block by block.

The module also holds what the operators with a background task share (the merge buffer
entries, the wake-ups, :class:`BackgroundReader`); ``controlled`` builds on them.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import AsyncIterable, AsyncIterator
from types import TracebackType
from typing import TYPE_CHECKING, TypeAlias

import anyio
from anyio.lowlevel import cancel_shielded_checkpoint, checkpoint, checkpoint_if_cancelled

from .._core._events import ContentBlockDelta, Event, InputJSONDelta, TextDelta, ThinkingDelta
from ._base import aclose_all, aclose_upstream

if TYPE_CHECKING:
    from anyio.abc import TaskGroup

__all__ = ["BUFFER_SLOTS", "CoalescedEvents", "coalesce"]

#: How many items (merged deltas or other events) :func:`coalesce` buffers before it stops
#: reading upstream. With ``max_chars`` this bounds its memory: at most
#: ``BUFFER_SLOTS * max_chars`` characters of text, plus one event held by the reader.
BUFFER_SLOTS = 16


def coalesce(
    source: AsyncIterable[Event], *, max_latency: float = 0.05, max_chars: int = 4096
) -> CoalescedEvents:
    """Merge adjacent deltas of one block, bounded in latency and size, for UIs.

    An async context manager: entering it starts the reader task, leaving it (even by
    ``break``, an error or cancellation) stops the reader and closes the upstream, which
    releases the HTTP connection. What it gives is an async iterator of events::

        async with ops.coalesce(stream, max_latency=0.05) as events:
            async for event in events:
                await render(event)   # at most ~20 text repaints a second, fewer if slow

    Adjacent text, thinking or tool-input deltas of the same block and delta type are
    merged into one; every other event is handed out as received, in order, and ends the
    merge before it. A delta the consumer asks for while nothing is buffered behind it is
    held back for more pieces, but never longer than ``max_latency`` seconds after its first
    piece arrived; it is handed out at once when it reaches ``max_chars``, when any other
    event arrives behind it, or when the upstream ends or fails. A delta that has something
    behind it, or is already older than ``max_latency``, is handed out at once. So a fast
    consumer gets about one delta per ``max_latency`` per block, and a slow one gets, on each
    ``__anext__``, everything that arrived for the current block meanwhile as one delta.

    Merged deltas are ``ContentBlockDelta`` events with a ``TextDelta``, ``ThinkingDelta``
    or ``InputJSONDelta`` of the same index, exactly like the originals; a delta that was
    not merged is handed out as the very object received. No text is lost or reordered:
    the text handed out for a block, concatenated, is the text received. Memory stays
    within :data:`BUFFER_SLOTS` entries of at most ``max_chars`` characters, plus one event;
    when they are full the reader stops reading (backpressure on the HTTP read).

    Args:
        source: the events, e.g. a ``MessageStream`` or another operator.
        max_latency: the longest time, in seconds, a delta that could still grow is held
            back for more pieces, counted from the arrival of its first piece (>= 0 and
            finite). ``0`` holds nothing back: deltas then merge only while the consumer
            is busy, and a consumer that keeps up gets every delta as it came.
        max_chars: the most characters merged into one delta (>= 1). A single delta larger
            than this is passed on unsplit.

    Raises:
        ValueError: an argument is out of range (raised at the call).

    Errors raised by the upstream reach the consumer after every event received before
    them (a held delta first), then the iteration ends.
    """
    if not (max_latency >= 0 and math.isfinite(max_latency)):
        raise ValueError(
            f"max_latency must be a finite number of seconds >= 0, not {max_latency!r}"
        )
    if max_chars < 1:
        raise ValueError(f"max_chars must be at least 1, not {max_chars!r}")
    return CoalescedEvents(source, max_chars=max_chars, max_latency=max_latency)


# ------------------------------------------------------------------------------- merging


def mergeable_text(event: Event) -> str | None:
    """The text of a text, thinking or tool-input delta; ``None`` for any other event."""
    if type(event) is ContentBlockDelta:
        delta = event.delta
        kind = type(delta)
        if kind is TextDelta:
            return delta.text  # type: ignore[union-attr]
        if kind is ThinkingDelta:
            return delta.thinking  # type: ignore[union-attr]
        if kind is InputJSONDelta:
            return delta.partial_json  # type: ignore[union-attr]
    return None


class Merge:
    """Adjacent deltas of one block, merged; the pieces are joined once, when handed out."""

    __slots__ = ("chars", "first", "pieces")

    def __init__(self, first: ContentBlockDelta, text: str) -> None:
        self.first = first
        self.pieces = [text]
        self.chars = len(text)

    def add(self, text: str) -> None:
        """Append the text of the next delta of the block."""
        if text:  # an empty piece changes nothing and must not grow the list
            self.pieces.append(text)
            self.chars += len(text)

    def event(self) -> ContentBlockDelta:
        """The merged delta (the first event itself if nothing was merged into it)."""
        first = self.first
        if len(self.pieces) == 1:
            return first
        text = "".join(self.pieces)
        kind = type(first.delta)
        delta: TextDelta | ThinkingDelta | InputJSONDelta
        if kind is TextDelta:
            delta = TextDelta(text=text)
        elif kind is ThinkingDelta:
            delta = ThinkingDelta(thinking=text)
        else:
            delta = InputJSONDelta(partial_json=text)
        return ContentBlockDelta(index=first.index, delta=delta)


#: A buffer entry: an event as received, or deltas merged since.
Item: TypeAlias = Event | Merge


def merge_into_tail(buffer: deque[Item], event: Event, text: str, max_chars: int | None) -> bool:
    """Merge a mergeable ``event`` (its text is ``text``) into the last entry of ``buffer``.

    Returns whether it was merged: the last entry must be a delta of the same block and
    delta type, and (if ``max_chars`` is given) stay within ``max_chars`` characters.
    """
    if not buffer:
        return False
    tail = buffer[-1]
    if type(tail) is Merge:
        merge = tail
    else:
        tail_text = mergeable_text(tail)  # type: ignore[arg-type]
        if tail_text is None:
            return False
        merge = Merge(tail, tail_text)  # type: ignore[arg-type]
    first = merge.first
    if (
        first.index != event.index  # type: ignore[union-attr]
        or type(first.delta) is not type(event.delta)  # type: ignore[union-attr]
        or (max_chars is not None and merge.chars + len(text) > max_chars)
    ):
        return False
    merge.add(text)
    if merge is not tail:
        buffer[-1] = merge
    return True


def handed_out(item: Item) -> Event:
    """The event a buffer entry stands for."""
    if isinstance(item, Merge):
        return item.event()
    return item


# ------------------------------------------------------------------------ the reader task


class Wakeup:
    """Wakes every task waiting for a change (an ``anyio.Event`` can only be set once)."""

    __slots__ = ("_event",)

    def __init__(self) -> None:
        self._event: anyio.Event | None = None

    async def wait(self) -> None:
        """Wait until the next :meth:`notify`."""
        if self._event is None:
            self._event = anyio.Event()
        await self._event.wait()

    @property
    def waiting(self) -> bool:
        """Whether a task is waiting (it waits until the next :meth:`notify`)."""
        return self._event is not None

    def notify(self) -> bool:
        """Wake the waiting tasks; returns whether any was waiting."""
        event = self._event
        if event is None:
            return False
        self._event = None
        event.set()
        return True


class BackgroundReader:
    """An async context manager whose task reads the upstream into a bounded buffer.

    Subclasses decide what happens to each event (:meth:`_put`) and hand out the buffer.
    The upstream is closed by the reader task as soon as it stops (end, error,
    :meth:`_stop_reader`) and again, harmlessly, when the context is left, in case the task
    never ran. Exceptions raised in the ``async with`` body propagate unchanged: the task
    group is left as if the body had succeeded, after its task was cancelled, so nothing is
    wrapped in an ``ExceptionGroup``.
    """

    def __init__(self, source: AsyncIterable[Event]) -> None:
        self._source = source
        self._iterator: AsyncIterator[Event] | None = None
        self._task_group: TaskGroup | None = None
        self._reader_scope: anyio.CancelScope | None = None
        self._stopping = False
        #: Set when the reader has stopped and closed the upstream.
        self._done = False
        #: What the upstream raised, for the consumer.
        self._error: Exception | None = None
        self._readable = Wakeup()  # the consumer waits on it
        self._writable = Wakeup()  # the reader waits on it for room in the buffer
        # The buffer; each subclass enforces its own size limit before appending.
        self._buffer: deque[Item] = deque()
        self._high_water = 0  # the most entries ever buffered (for tests and diagnostics)

    async def _enter(self) -> None:
        if self._task_group is not None:
            raise RuntimeError(f"{type(self).__name__} can be entered only once")
        self._iterator = aiter(self._source)
        self._reader_scope = anyio.CancelScope()
        if self._stopping:  # stopped before it was entered: the reader only closes upstream
            self._reader_scope.cancel()
        task_group = anyio.create_task_group()
        await task_group.__aenter__()
        self._task_group = task_group
        task_group.start_soon(self._read, name=f"sluice {type(self).__name__} reader")

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        task_group = self._task_group
        assert task_group is not None and self._iterator is not None
        self._stop_reader()
        try:
            await task_group.__aexit__(None, None, None)
        finally:
            self._buffer.clear()  # what was not taken is dropped with the stream
            await aclose_all(self._source, self._iterator)

    @property
    def _reader_idle(self) -> bool:
        """Whether the reader has stopped or is waiting for room in the buffer."""
        return self._done or self._writable.waiting

    def _stop_reader(self) -> None:
        """Cancel the reader task (it closes the upstream on its way out)."""
        self._stopping = True
        if self._reader_scope is not None:
            self._reader_scope.cancel()
        self._writable.notify()

    async def _wait_done(self) -> None:
        """Wait until the reader has stopped and closed the upstream."""
        while not self._done:
            await self._readable.wait()

    async def _stop_and_wait(self) -> None:
        """Stop the reader and wait, shielded, until the upstream is closed."""
        self._stop_reader()
        with anyio.CancelScope(shield=True):
            if self._task_group is None:  # never entered: nothing reads, close it here
                await aclose_upstream(self._source)
            else:
                await self._wait_done()

    async def _read(self) -> None:
        assert self._iterator is not None and self._reader_scope is not None
        try:
            with self._reader_scope:
                try:
                    await self._pump()
                except Exception as exc:  # delivered to the consumer, in its turn
                    self._fail(exc)
        finally:
            try:
                await aclose_all(self._source, self._iterator)
            finally:
                self._done = True
                self._readable.notify()
                self._writable.notify()

    async def _pump(self) -> None:
        """Read the upstream into the buffer until it ends, or the reader must stop."""
        assert self._iterator is not None
        async for event in self._iterator:
            if not await self._put(event) or self._stopping:
                return

    async def _put(self, event: Event) -> bool:
        """Buffer one event (waiting for room if need be); ``False`` stops the reader."""
        raise NotImplementedError

    def _append(self, event: Event) -> None:
        """Add an event to the buffer (after the subclass made room for it)."""
        buffer = self._buffer
        buffer.append(event)
        if len(buffer) > self._high_water:
            self._high_water = len(buffer)

    def _fail(self, exc: Exception) -> None:
        """Keep the upstream's exception for the consumer."""
        self._error = exc


# ----------------------------------------------------------------------------- coalesce


class CoalescedEvents(BackgroundReader):
    """What :func:`coalesce` returns: enter it, then iterate it (from one task).

    Iterating it outside its ``async with`` block is an error. :meth:`aclose` stops the
    reader and closes the upstream early; the iteration then ends.
    """

    def __init__(self, source: AsyncIterable[Event], *, max_chars: int, max_latency: float) -> None:
        super().__init__(source)
        self._max_chars = max_chars
        self._max_latency = max_latency
        #: When the first piece of the last buffered entry arrived (``anyio.current_time()``),
        #: if that entry is a mergeable delta and ``max_latency > 0``; otherwise stale.
        self._tail_arrived = 0.0
        #: Whether the consumer is holding back the only buffered entry for more pieces.
        self._holding = False

    def __repr__(self) -> str:
        return (
            f"<CoalescedEvents buffered={len(self._buffer)}/{BUFFER_SLOTS} "
            f"max_chars={self._max_chars} max_latency={self._max_latency:g}>"
        )

    async def __aenter__(self) -> CoalescedEvents:
        await self._enter()
        return self

    def __aiter__(self) -> CoalescedEvents:
        return self

    async def __anext__(self) -> Event:
        if self._task_group is None:
            raise RuntimeError("use `async with coalesce(source) as events:` and iterate events")
        await checkpoint_if_cancelled()
        buffer = self._buffer
        waited = False
        while True:
            if buffer:
                deadline = self._hold_deadline()
                if deadline is None or deadline <= anyio.current_time():
                    break
                # Hold the delta back until the reader adds anything behind it, fills it,
                # or stops, or until the deadline; then look again. Nothing is yielded here.
                self._holding = True
                try:
                    with anyio.CancelScope(deadline=deadline):
                        await self._readable.wait()
                finally:
                    self._holding = False
            elif self._done:
                error, self._error = self._error, None
                if error is not None:
                    raise error
                raise StopAsyncIteration
            else:
                await self._readable.wait()
            waited = True
        item = buffer.popleft()
        self._writable.notify()
        if not waited:
            await cancel_shielded_checkpoint()
        return handed_out(item)

    async def aclose(self) -> None:
        """Stop reading and close the upstream now; the iteration ends. Idempotent."""
        self._buffer.clear()
        await self._stop_and_wait()
        self._buffer.clear()  # in case the reader had one more event in hand

    def _hold_deadline(self) -> float | None:
        """Until when the oldest entry may be held back for more pieces, or ``None``.

        Only a delta with nothing behind it can still grow (anything appended after it ends
        its merge), and only while the reader runs and it is under ``max_chars``.
        """
        buffer = self._buffer
        if len(buffer) != 1 or self._done or not self._max_latency:
            return None
        head = buffer[0]
        if type(head) is Merge:
            chars = head.chars
        else:
            text = mergeable_text(head)  # type: ignore[arg-type]
            if text is None:
                return None
            chars = len(text)
        if chars >= self._max_chars:
            return None
        return self._tail_arrived + self._max_latency

    async def _put(self, event: Event) -> bool:
        buffer = self._buffer
        max_chars = self._max_chars
        text = mergeable_text(event)
        if text is not None and merge_into_tail(buffer, event, text, max_chars):
            if self._holding and buffer[-1].chars >= max_chars:  # type: ignore[union-attr]
                self._readable.notify()  # it is full: stop holding it back
            return True
        # The latency bound counts from when the first piece arrived, not from when room
        # was found for it.
        arrived = anyio.current_time() if text is not None and self._max_latency else 0.0
        while len(buffer) >= BUFFER_SLOTS:
            await self._writable.wait()
        if self._stopping:
            return False
        self._append(event)
        self._tail_arrived = arrived
        if self._readable.notify():
            # Let the waiting consumer look at this event before more is merged into it: it
            # takes what was held before it, or it takes (or, if max_latency allows, holds)
            # this one; with max_latency=0, a consumer that keeps up gets deltas one by one.
            await checkpoint()
        return True
