"""Flow control: pause, resume and cancel a stream from any task, over a bounded buffer.

:func:`controlled` reads the upstream in a background task into a buffer of at most
``buffer_size`` entries and hands out two things: the events, an async iterator for one
consumer task, and a :class:`Control` that any task (a UI's stop button, a supervisor) may
use to pause, resume or cancel delivery.

While the consumer is paused or slow, the reader keeps reading until the buffer is full;
then the ``overflow`` policy says what happens, and it applies whatever made the buffer
fill up:

``"block"``
    Stop reading. The HTTP read stops with it, TCP flow control pushes back on the server,
    nothing is lost. Besides the buffer, the reader holds at most one event (the rest of
    one HTTP chunk when it reads a ``MessageStream``, which it does a chunk at a time).
``"drop_oldest"``
    Drop the oldest buffered ``content_block_delta`` or ``ping`` to make room (FIFO) and
    count it in :attr:`Control.dropped`. The structure of the message is never dropped:
    ``message_start``, ``content_block_start``/``stop``, ``message_delta``,
    ``message_stop`` and unknown events always reach the consumer, so it still sees every
    block open and close and the stop reason. If the buffer holds nothing but such events,
    the reader blocks as with ``"block"``. An upstream ``MessageStream`` still accumulates
    everything: its ``final_message()`` is complete.
``"coalesce"``
    Merge adjacent text, thinking or tool-input deltas of the same block in the buffer, as
    :func:`~sluice.ops.coalesce` does, so that no text is lost, up to ``max_merge_chars``
    characters per entry. If that frees no room (the buffer is full of other events, or of
    merged deltas that are full), the reader blocks. Memory is bounded either way: at most
    ``buffer_size`` entries of at most ``max_merge_chars`` characters each (a single delta
    larger than that is kept whole), plus what the reader holds (one event, or the rest of
    one HTTP chunk of a ``MessageStream``).
``"error"``
    Stop reading, close the upstream and raise :class:`BufferOverflowError` to the
    consumer at once, with the partial message of everything received. The reader takes
    all the events of one network read before the consumer runs (about 30 per 4 KiB of
    text deltas), so a ``buffer_size`` below that can overflow however fast the consumer
    is.

A reader blocked on a full buffer starts reading again once the consumer has taken half of
it (or when delivery is paused, to fill the buffer up), so that it refills in batches rather
than waking up for every event taken.

Errors bypass the buffer: an exception raised by the upstream, the overflow error, or an
``error`` event reaches the consumer as soon as the upstream is closed, ahead of any
buffered events (which are discarded: a typed error from a ``MessageStream`` carries them
in ``partial_message``), even while paused. After it the iteration ends.

:meth:`Control.cancel` stops delivery, discards the buffer and closes the upstream (the HTTP
connection); the consumer's ``async for`` then ends normally, once the upstream is closed.

Cost: taking an event that is already buffered is a ``popleft``, without a scheduling
point, except for a full checkpoint (cancellation point and scheduling point) once every
:data:`CHECKPOINT_EVERY` events; a consumer that finds the buffer empty or paused waits,
which is a checkpoint too. So even a consumer that never awaits anything else sees a
cancellation, and lets the reader and other tasks run, within that many events; an
upstream error reaches it once the reader has run. :meth:`Control.pause` takes effect at
the next event in any case.
"""

from __future__ import annotations

from collections import deque
from collections.abc import AsyncIterable, AsyncIterator
from typing import Literal, Protocol, TypeAlias

from anyio.lowlevel import checkpoint, checkpoint_if_cancelled

from .._core._events import ContentBlockDelta, ErrorEvent, Event, Ping, TextDelta, ThinkingDelta
from .._core._exceptions import BufferOverflowError
from ._base import aclose_upstream
from ._coalesce import BackgroundReader, Item, Merge, handed_out, merge_into_tail, mergeable_text
from ._timeout import Witness

__all__ = [
    "CHECKPOINT_EVERY",
    "MAX_MERGE_CHARS",
    "BatchedEvents",
    "BufferOverflowError",
    "Control",
    "ControlledEvents",
    "Overflow",
    "controlled",
]

#: What :func:`controlled` does when its buffer is full (see the module docstring).
Overflow: TypeAlias = Literal["block", "drop_oldest", "coalesce", "error"]
_POLICIES = ("block", "drop_oldest", "coalesce", "error")


class BatchedEvents(Protocol):
    """An event source that can also hand out its events one network read at a time.

    :func:`controlled` recognises it (by the method, whatever the class) and reads
    ``aiter_batches()`` instead of iterating the source: one list per read saves the
    reader a generator round trip and some bookkeeping per event. ``MessageStream``
    implements it.

    The contract: ``aiter_batches()`` yields, in lists, exactly the events iterating the
    source would, in order, doing for each whatever iterating would (a ``MessageStream``
    accumulates it); no list holds an ``error`` event (it is raised as its typed
    exception, after the list of the events before it); and closing the batches closes
    what ``aiter_batches()`` opened, not the source, which ``controlled`` closes itself.
    """

    def __aiter__(self) -> AsyncIterator[Event]: ...

    def aiter_batches(self) -> AsyncIterator[list[Event]]:
        """The events not read yet, one list per network read."""
        ...


#: The most buffered events the consumer takes in a row without a scheduling point. A
#: checkpoint costs a trip through the event loop (some microseconds on asyncio), so this
#: keeps it to a few percent of taking an event, while a consumer working through a full
#: buffer still lets other tasks in every few hundred microseconds.
CHECKPOINT_EVERY = 256

#: The deltas ``"drop_oldest"`` may drop (see ``ControlledEvents._drop_oldest``).
_DROPPABLE = (TextDelta, ThinkingDelta)

#: The default of ``max_merge_chars``: 64 KiB of text per merged entry.
MAX_MERGE_CHARS = 64 * 1024

#: A merged entry joins its pieces once it holds more than this many (see ``_squash``).
_MAX_PIECES = 256


def controlled(
    source: AsyncIterable[Event],
    *,
    buffer_size: int = 1024,
    overflow: Overflow = "block",
    max_merge_chars: int = MAX_MERGE_CHARS,
) -> ControlledEvents:
    """Deliver ``source`` through a bounded buffer that another task can pause and cancel.

    An async context manager giving ``(events, control)``. Leaving it, even by ``break``, an
    error or cancellation, stops the reader task and closes the upstream::

        async with ops.controlled(stream, overflow="coalesce") as (events, control):
            tg.start_soon(watch_stop_button, control)   # calls control.pause()/cancel()
            async for event in events:
                render(event)

    Args:
        source: the events, e.g. a ``MessageStream`` or another operator. A source with an
            ``aiter_batches()`` method (:class:`BatchedEvents`, such as a
            ``MessageStream``) is read through it, one network read at a time.
        buffer_size: the most entries buffered ahead of the consumer (>= 1); a run of
            deltas merged by ``"coalesce"`` is one entry.
        overflow: what the reader does when the buffer is full, whether delivery is paused
            or the consumer is slow. ``"block"``: stop reading upstream (backpressure down
            to the HTTP read) until the consumer has taken half the buffer.
            ``"drop_oldest"``: drop the oldest buffered text or thinking delta or ping,
            counted in ``control.dropped``; the message structure (starts, stops,
            ``message_delta``) and what must arrive whole (tool input, signatures,
            citations) are never dropped, and a buffer of nothing else blocks. ``"coalesce"``: merge
            adjacent text, thinking and tool-input deltas of one block, losing no text;
            block if that frees no room. ``"error"``: close the upstream and raise
            :class:`BufferOverflowError` when the buffer is full while delivery is paused
            or the consumer is busy elsewhere instead of asking for the next event (a
            consumer that keeps up is waited for, however small the buffer).
        max_merge_chars: with ``"coalesce"``, the most characters merged into one entry
            (>= 1); a delta that would take the last entry over it needs a slot of its
            own. This bounds the buffered text to ``buffer_size * max_merge_chars``
            characters however long delivery stays paused. A single delta larger than
            this is kept whole.

    Raises:
        ValueError: ``buffer_size``, ``overflow`` or ``max_merge_chars`` is invalid (raised
            at the call).
        BufferOverflowError: from the iteration, with ``overflow="error"``.

    Exceptions raised by the upstream are raised by the iteration, unchanged.
    """
    if isinstance(buffer_size, bool) or not isinstance(buffer_size, int) or buffer_size < 1:
        raise ValueError(f"buffer_size must be an integer of at least 1, not {buffer_size!r}")
    if overflow not in _POLICIES:
        raise ValueError(
            f"overflow must be one of {', '.join(map(repr, _POLICIES))}, not {overflow!r}"
        )
    if max_merge_chars < 1:
        raise ValueError(f"max_merge_chars must be at least 1, not {max_merge_chars!r}")
    return ControlledEvents(
        source, buffer_size=buffer_size, overflow=overflow, max_merge_chars=max_merge_chars
    )


class Control:
    """Pause, resume or cancel a :func:`controlled` stream, from any task of its event loop.

    The methods are synchronous and never block, so they may also be called from
    callbacks (from another thread, go through ``anyio.from_thread.run_sync``). Calls after
    the stream has ended do nothing.
    """

    __slots__ = ("_stream",)

    def __init__(self, stream: ControlledEvents) -> None:
        self._stream = stream

    def __repr__(self) -> str:
        stream = self._stream
        state = "cancelled" if stream._cancelled else "paused" if stream._paused else "running"
        return (
            f"<Control {state} buffered={len(stream._buffer)}/{stream._size} "
            f"overflow={stream._overflow!r} dropped={stream._dropped}>"
        )

    def pause(self) -> None:
        """Stop handing out events; the reader keeps filling the buffer."""
        stream = self._stream
        stream._paused = True
        stream._credit = 0  # the consumer's fast path checks only this, not _paused
        # A reader waiting for the consumer to take half the buffer fills it up now.
        stream._writable.notify()

    def resume(self) -> None:
        """Hand out events again, starting with the oldest buffered one."""
        stream = self._stream
        stream._paused = False
        stream._readable.notify()

    def cancel(self) -> None:
        """Stop delivery, discard the buffer and close the upstream; the iteration ends."""
        self._stream._cancel()

    @property
    def is_paused(self) -> bool:
        """Whether delivery is paused."""
        return self._stream._paused

    @property
    def is_cancelled(self) -> bool:
        """Whether :meth:`cancel` was called."""
        return self._stream._cancelled

    @property
    def buffered(self) -> int:
        """How many entries are buffered now."""
        return len(self._stream._buffer)

    @property
    def dropped(self) -> int:
        """How many events ``"drop_oldest"`` dropped."""
        return self._stream._dropped

    @property
    def high_water(self) -> int:
        """The most entries ever buffered at once (never more than ``buffer_size``)."""
        return self._stream._high_water

    @property
    def buffer_size(self) -> int:
        """The size of the buffer."""
        return self._stream._size

    @property
    def overflow(self) -> Overflow:
        """The overflow policy."""
        return self._stream._overflow


class ControlledEvents(BackgroundReader):
    """What :func:`controlled` returns: enter it for ``(events, control)``, then iterate.

    Iterate it from one task. :meth:`aclose` is :meth:`Control.cancel` followed by waiting
    until the upstream is closed.
    """

    def __init__(
        self,
        source: AsyncIterable[Event],
        *,
        buffer_size: int,
        overflow: Overflow,
        max_merge_chars: int = MAX_MERGE_CHARS,
    ) -> None:
        super().__init__(source)
        self._size = buffer_size
        # The reader, once blocked on a full buffer, is woken when the consumer has taken
        # it down to this many entries: it then refills in one batch, instead of one task
        # switch per event taken.
        self._low_water = buffer_size // 2
        self._overflow: Overflow = overflow
        self._max_merge_chars = max_merge_chars
        self._dropped = 0
        self._paused = False
        self._cancelled = False
        self._ended = False  # the consumer got the final error
        self._error_event: ErrorEvent | None = None
        # How many more buffered events the consumer may take before a scheduling point.
        self._credit = CHECKPOINT_EVERY
        # Whether the consumer is inside __anext__ waiting for an event (the slow path).
        self._asking = False
        # Only the "error" policy reports a partial message of its own.
        self._witness = Witness(source) if overflow == "error" else None
        self.control = Control(self)

    async def __aenter__(self) -> tuple[ControlledEvents, Control]:
        await self._enter()
        return self, self.control

    def __aiter__(self) -> ControlledEvents:
        return self

    async def __anext__(self) -> Event:
        # The fast path: an event is buffered and delivery runs. Pausing zeroes the credit;
        # a non-empty buffer means that no error is pending (errors clear the buffer to go
        # first) and that the stream was not cancelled (that clears it too). So popping it
        # is all there is to do.
        buffer = self._buffer
        credit = self._credit
        if credit and buffer:
            self._credit = credit - 1
            item = buffer.popleft()
            if len(buffer) <= self._low_water:
                self._writable.notify()
            if type(item) is Merge:
                return item.event()
            return item  # type: ignore[return-value]
        return await self._next()

    async def aclose(self) -> None:
        """Cancel, and wait until the upstream is closed. Idempotent."""
        self._cancel()
        await self._stop_and_wait()

    # ------------------------------------------------------------------------ internals

    async def _next(self) -> Event:
        """The slow path of ``__anext__``: wait, end, raise, or take a scheduling point."""
        self._asking = True  # the consumer is here, asking: see the "error" policy
        try:
            return await self._take()
        finally:
            self._asking = False

    async def _take(self) -> Event:
        if self._task_group is None:
            raise RuntimeError(
                "use `async with controlled(source) as (events, control):` and iterate events"
            )
        if self._credit:
            await checkpoint_if_cancelled()
        else:
            # CHECKPOINT_EVERY events taken in a row, or pause() was called: let
            # cancellation and the other tasks in (the state is looked at below, after it).
            await checkpoint()
            self._credit = CHECKPOINT_EVERY
        while True:
            if self._cancelled or self._ended:
                await self._wait_done()
                raise StopAsyncIteration
            if self._done and (self._error is not None or self._error_event is not None):
                self._ended = True
                error, self._error = self._error, None
                if error is not None:
                    raise error
                event, self._error_event = self._error_event, None
                assert event is not None
                return event
            buffer = self._buffer
            if buffer and not self._paused:
                self._credit = max(self._credit - 1, 0)
                item = buffer.popleft()
                if len(buffer) <= self._low_water:
                    self._writable.notify()
                return handed_out(item)
            if self._done and not buffer:
                raise StopAsyncIteration
            await self._readable.wait()
            self._credit = CHECKPOINT_EVERY

    def _cancel(self) -> None:
        if self._cancelled:
            return
        self._cancelled = True
        self._buffer.clear()
        self._stop_reader()
        self._readable.notify()

    def _fail(self, exc: Exception) -> None:
        super()._fail(exc)
        self._buffer.clear()  # the error goes first; what was buffered is in its report

    async def _pump(self) -> None:
        """Read the upstream into the buffer until it ends, or the reader must stop.

        :meth:`_put` inline for the common case (there is room): a coroutine per event
        would cost as much as the rest of the reader's work. A source with
        ``aiter_batches()`` (see :class:`BatchedEvents`) hands over its events one
        network read at a time.
        """
        aiter_batches = getattr(self._source, "aiter_batches", None)
        if aiter_batches is not None:
            batches: AsyncIterator[list[Event]] = aiter_batches()
            try:
                await self._pump_batches(batches)
            finally:
                await aclose_upstream(batches)
            return
        assert self._iterator is not None
        iterator = self._iterator
        buffer = self._buffer
        append = buffer.append
        size = self._size
        readable = self._readable
        put = self._put
        error_event = ErrorEvent
        plain = self._witness is None  # the "error" policy records every event first
        async for event in iterator:
            count = len(buffer)  # before the append
            if count < size and plain and type(event) is not error_event:
                if self._stopping:
                    return
                append(event)
                if count >= self._high_water:
                    self._high_water = count + 1
                # The consumer waits for an event only on an empty buffer (or while paused,
                # and resume() wakes it), so only the first event into it needs to wake it.
                if not count and not self._paused:
                    readable.notify()
            elif not await put(event) or self._stopping:
                return

    async def _pump_batches(self, batches: AsyncIterator[list[Event]]) -> None:
        """:meth:`_pump`, for the lists of events of a :class:`BatchedEvents` source.

        A batch that fits goes into the buffer in one ``extend``; one that does not goes
        event by event through the overflow policy, like :meth:`_pump`'s slow path, so the
        reader then holds at most the rest of one network read besides the buffer. Batches
        hold no ``error`` event (the protocol raises it as an exception), so they need no
        check for one.
        """
        buffer = self._buffer
        extend = buffer.extend
        size = self._size
        readable = self._readable
        put = self._put
        plain = self._witness is None  # the "error" policy records every event first
        async for batch in batches:
            if self._stopping:
                return
            count = len(buffer)
            total = count + len(batch)
            if total <= size and plain:
                extend(batch)
                if total > self._high_water:
                    self._high_water = total
                if not count and not self._paused:
                    readable.notify()
            else:
                for event in batch:
                    if not await put(event) or self._stopping:
                        return

    async def _put(self, event: Event) -> bool:
        if type(event) is ErrorEvent:
            self._error_event = event
            self._buffer.clear()
            return False
        if self._witness is not None:
            self._witness.see(event)
        buffer = self._buffer
        if len(buffer) >= self._size and await self._overflowed(event):
            return True  # merged into the last entry
        if self._stopping:
            return False
        self._append(event)
        if len(buffer) == 1 and not self._paused:
            self._readable.notify()
        return True

    async def _overflowed(self, event: Event) -> bool:
        """Apply the overflow policy to a full buffer: whether ``event`` was merged into it.

        Otherwise it returns once there is room for ``event`` (or the reader is stopping).
        """
        buffer = self._buffer
        size = self._size
        overflow = self._overflow
        while len(buffer) >= size:
            if overflow == "drop_oldest":
                if self._drop_oldest():
                    break
            elif overflow == "coalesce":
                text = mergeable_text(event)
                if text is not None and _merge_into_tail(
                    buffer, event, text, self._max_merge_chars
                ):
                    return True
                if _compact(buffer, self._max_merge_chars):
                    continue
            elif overflow == "error" and (self._paused or not self._asking):
                # Full while the consumer is paused, or busy elsewhere instead of asking
                # for the next event: it fell behind. (One network read can bring more
                # events than a small buffer holds while a consumer that keeps up is
                # waiting for them: that is not its fault, and the reader waits for it.)
                raise self._overflow_error()
            # "block", or nothing to drop or merge: wait for the consumer to make room.
            await self._writable.wait()
            if self._stopping:
                break
        return False

    def _drop_oldest(self) -> bool:
        # Text and thinking deltas (and pings) may go: the message loses words, visibly,
        # and stays well-formed. A tool call's input_json_delta, a thinking signature or a
        # citation never does: dropping one would corrupt what the consumer assembles.
        buffer = self._buffer
        for position, item in enumerate(buffer):
            kind = type(item)
            if kind is Ping or (
                kind is ContentBlockDelta and type(item.delta) in _DROPPABLE  # type: ignore[union-attr,operator]
            ):
                del buffer[position]
                self._dropped += 1
                return True
        return False

    def _overflow_error(self) -> BufferOverflowError:
        assert self._witness is not None
        why = (
            "delivery is paused"
            if self._paused
            else "the consumer was busy elsewhere instead of asking for the next event"
        )
        return BufferOverflowError(
            f"the controlled() buffer of {self._size} events is full ({why}) and "
            "overflow='error'; the stream was closed and partial_message holds everything "
            "received. Use a larger buffer_size, or overflow='block' to push back instead.",
            buffer_size=self._size,
            partial_message=self._witness.partial(),
            events_received=self._witness.events,
        )


# ------------------------------------------------------------------------------- merging


def _merge_into_tail(buffer: deque[Item], event: Event, text: str, max_chars: int) -> bool:
    """Merge a delta into the last entry if it continues it and fits in ``max_chars``."""
    if not merge_into_tail(buffer, event, text, max_chars):
        return False
    _squash(buffer[-1])
    return True


def _room(buffer: deque[Item], first: ContentBlockDelta, max_chars: int) -> int:
    """How many characters the last entry can still take from deltas like ``first``.

    ``-1`` if the buffer is empty or its last entry is not a delta of the same block and
    delta type as ``first``.
    """
    if not buffer:
        return -1
    tail = buffer[-1]
    if type(tail) is Merge:
        head, chars = tail.first, tail.chars
    else:
        text = mergeable_text(tail)  # type: ignore[arg-type]
        if text is None:
            return -1
        head, chars = tail, len(text)  # type: ignore[assignment]
    if head.index != first.index or type(head.delta) is not type(first.delta):
        return -1
    return max_chars - chars


def _compact(buffer: deque[Item], max_chars: int) -> bool:
    """Merge adjacent deltas of one block, in place, within ``max_chars`` characters per
    entry; whether it freed room."""
    before = len(buffer)
    entries = list(buffer)
    buffer.clear()
    for entry in entries:
        if type(entry) is Merge:
            pieces = entry.pieces
            if _room(buffer, entry.first, max_chars) >= entry.chars and merge_into_tail(
                buffer, entry.first, pieces[0], max_chars
            ):
                tail = buffer[-1]
                assert type(tail) is Merge
                for piece in pieces[1:]:
                    tail.add(piece)
                _squash(tail)
                continue
        else:
            text = mergeable_text(entry)  # type: ignore[arg-type]
            if text is not None and _merge_into_tail(buffer, entry, text, max_chars):  # type: ignore[arg-type]
                continue
        buffer.append(entry)
    return len(buffer) < before


def _squash(entry: Item) -> None:
    """Join the pieces of a merged entry once they are many.

    A piece costs a ``str`` object (~50 bytes) besides its characters, so a merge of many
    small deltas would hold several times its text. The first piece stays as it is
    (``Merge.event`` tells a merge from a lone delta by the number of pieces); the others
    become one. Each join copies at most ``max_merge_chars`` characters, once per
    ``_MAX_PIECES`` pieces.
    """
    if type(entry) is Merge:
        pieces = entry.pieces
        if len(pieces) > _MAX_PIECES:
            pieces[1:] = ["".join(pieces[1:])]
