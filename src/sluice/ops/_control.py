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
    nothing is lost. The reader holds at most one event besides the buffer.
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
    :func:`~sluice.ops.coalesce` does, so that no text is lost. If that frees no room (the
    buffer is full of other events), the reader blocks.
``"error"``
    Stop reading, close the upstream and raise :class:`BufferOverflowError` to the
    consumer at once, with the partial message of everything received.

Errors bypass the buffer: an exception raised by the upstream, the overflow error, or an
``error`` event reaches the consumer as soon as the upstream is closed, ahead of any
buffered events (which are discarded: a typed error from a ``MessageStream`` carries them
in ``partial_message``), even while paused. After it the iteration ends.

:meth:`Control.cancel` stops delivery, discards the buffer and closes the upstream (the HTTP
connection); the consumer's ``async for`` then ends normally, once the upstream is closed.
"""

from __future__ import annotations

from collections import deque
from collections.abc import AsyncIterable
from typing import Literal, TypeAlias

from anyio.lowlevel import cancel_shielded_checkpoint, checkpoint_if_cancelled

from .._events import ContentBlockDelta, ErrorEvent, Event, Ping
from .._exceptions import BufferOverflowError
from ._coalesce import BackgroundReader, Item, Merge, handed_out, merge_into_tail, mergeable_text
from ._timeout import Witness

__all__ = ["BufferOverflowError", "Control", "ControlledEvents", "Overflow", "controlled"]

#: What :func:`controlled` does when its buffer is full (see the module docstring).
Overflow: TypeAlias = Literal["block", "drop_oldest", "coalesce", "error"]
_POLICIES = ("block", "drop_oldest", "coalesce", "error")


def controlled(
    source: AsyncIterable[Event], *, buffer_size: int = 1024, overflow: Overflow = "block"
) -> ControlledEvents:
    """Deliver ``source`` through a bounded buffer that another task can pause and cancel.

    An async context manager giving ``(events, control)``. Leaving it, even by ``break``, an
    error or cancellation, stops the reader task and closes the upstream::

        async with ops.controlled(stream, overflow="coalesce") as (events, control):
            tg.start_soon(watch_stop_button, control)   # calls control.pause()/cancel()
            async for event in events:
                render(event)

    Args:
        source: the events, e.g. a ``MessageStream`` or another operator.
        buffer_size: the most entries buffered ahead of the consumer (>= 1); a run of
            deltas merged by ``"coalesce"`` is one entry.
        overflow: what the reader does when the buffer is full, whether delivery is paused
            or the consumer is slow. ``"block"``: stop reading upstream (backpressure down
            to the HTTP read). ``"drop_oldest"``: drop the oldest buffered delta or ping,
            counted in ``control.dropped``; the message structure (starts, stops,
            ``message_delta``) is never dropped, and a buffer of nothing else blocks.
            ``"coalesce"``: merge adjacent text, thinking and tool-input deltas of one
            block, losing no text; block if that frees no room. ``"error"``: close the
            upstream and raise :class:`BufferOverflowError`.

    Raises:
        ValueError: ``buffer_size`` or ``overflow`` is invalid (raised at the call).
        BufferOverflowError: from the iteration, with ``overflow="error"``.

    Exceptions raised by the upstream are raised by the iteration, unchanged.
    """
    if buffer_size < 1:
        raise ValueError(f"buffer_size must be at least 1, not {buffer_size!r}")
    if overflow not in _POLICIES:
        raise ValueError(
            f"overflow must be one of {', '.join(map(repr, _POLICIES))}, not {overflow!r}"
        )
    return ControlledEvents(source, buffer_size=buffer_size, overflow=overflow)


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
        self._stream._paused = True

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
        self, source: AsyncIterable[Event], *, buffer_size: int, overflow: Overflow
    ) -> None:
        super().__init__(source)
        self._size = buffer_size
        self._overflow: Overflow = overflow
        self._dropped = 0
        self._paused = False
        self._cancelled = False
        self._ended = False  # the consumer got the final error
        self._error_event: ErrorEvent | None = None
        # Only the "error" policy reports a partial message of its own.
        self._witness = Witness(source) if overflow == "error" else None
        self.control = Control(self)

    async def __aenter__(self) -> tuple[ControlledEvents, Control]:
        await self._enter()
        return self, self.control

    def __aiter__(self) -> ControlledEvents:
        return self

    async def __anext__(self) -> Event:
        if self._task_group is None:
            raise RuntimeError(
                "use `async with controlled(source) as (events, control):` and iterate events"
            )
        await checkpoint_if_cancelled()
        waited = False
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
                item = buffer.popleft()
                self._writable.notify()
                if not waited:
                    await cancel_shielded_checkpoint()
                return handed_out(item)
            if self._done and not buffer:
                raise StopAsyncIteration
            await self._readable.wait()
            waited = True

    async def aclose(self) -> None:
        """Cancel, and wait until the upstream is closed. Idempotent."""
        self._cancel()
        await self._stop_and_wait()

    # ------------------------------------------------------------------------ internals

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

    async def _put(self, event: Event) -> bool:
        if type(event) is ErrorEvent:
            self._error_event = event
            self._buffer.clear()
            return False
        if self._witness is not None:
            self._witness.see(event)
        buffer = self._buffer
        size = self._size
        while len(buffer) >= size:
            overflow = self._overflow
            if overflow == "drop_oldest":
                if self._drop_oldest():
                    break
            elif overflow == "coalesce":
                text = mergeable_text(event)
                if text is not None and merge_into_tail(buffer, event, text, None):
                    return True
                if _compact(buffer):
                    continue
            elif overflow == "error":
                raise self._overflow_error()
            # "block", or nothing to drop or merge: wait for the consumer to make room.
            await self._writable.wait()
        if self._stopping:
            return False
        self._append(event)
        if not self._paused:
            self._readable.notify()
        return True

    def _drop_oldest(self) -> bool:
        buffer = self._buffer
        for position, item in enumerate(buffer):
            kind = type(item)
            if kind is ContentBlockDelta or kind is Ping:
                del buffer[position]
                self._dropped += 1
                return True
        return False

    def _overflow_error(self) -> BufferOverflowError:
        assert self._witness is not None
        why = "delivery is paused" if self._paused else "the consumer fell behind"
        return BufferOverflowError(
            f"the controlled() buffer of {self._size} events is full ({why}) and "
            "overflow='error'; the stream was closed and partial_message holds everything "
            "received. Use a larger buffer_size, or overflow='block' to push back instead.",
            buffer_size=self._size,
            partial_message=self._witness.partial(),
            events_received=self._witness.events,
        )


def _compact(buffer: deque[Item]) -> bool:
    """Merge every run of adjacent deltas of one block, in place; whether it freed room."""
    before = len(buffer)
    entries = list(buffer)
    buffer.clear()
    for entry in entries:
        if type(entry) is Merge:
            if merge_into_tail(buffer, entry.first, entry.pieces[0], None):
                tail = buffer[-1]
                assert type(tail) is Merge
                for piece in entry.pieces[1:]:
                    tail.add(piece)
            else:
                buffer.append(entry)
        else:
            text = mergeable_text(entry)  # type: ignore[arg-type]
            if text is None or not merge_into_tail(buffer, entry, text, None):  # type: ignore[arg-type]
                buffer.append(entry)
    return len(buffer) < before
