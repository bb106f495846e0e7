"""The run's bounded buffer between its tasks (the reader, the tools) and the consumer.

Like an anyio memory object stream of ``size`` items with one receiver, with two
differences that matter for a stream of thousands of small events: neither side takes a
scheduling point when it does not have to wait (a memory stream's ``send`` and
``receive`` each take one per item), and a writer that found the buffer full is woken
once the consumer has taken half of it, not for every item taken, so a burst (the events
of one network read) refills it in batches, as ``ops.controlled`` does.
"""

from __future__ import annotations

from collections import deque
from typing import Generic, TypeVar

from anyio.lowlevel import checkpoint

from ..ops._coalesce import Wakeup

__all__ = ["CHECKPOINT_EVERY", "Handoff"]

T = TypeVar("T")

#: The most buffered items the consumer takes in a row without a scheduling point, so that
#: a consumer that never awaits anything else still lets cancellation and other tasks in.
CHECKPOINT_EVERY = 64


class Handoff(Generic[T]):
    """A bounded FIFO: tasks :meth:`put`, one consumer :meth:`get`\\ s.

    Args:
        size: the most items buffered (>= 1); a writer waits while it is full.
    """

    __slots__ = ("_closed", "_credit", "_gone", "_items", "_low", "_readable", "_size", "_writable")

    def __init__(self, size: int) -> None:
        self._items: deque[T] = deque()
        self._size = size
        self._low = size // 2
        self._readable = Wakeup()
        self._writable = Wakeup()
        self._closed = False  # no more items will come
        self._gone = False  # the consumer left: items are dropped
        self._credit = CHECKPOINT_EVERY

    def put_nowait(self, item: T) -> bool:
        """Add ``item`` if there is room (or drop it if the consumer left); whether done."""
        items = self._items
        if len(items) < self._size and not self._gone:
            items.append(item)
            if len(items) == 1:
                self._readable.notify()
            return True
        return self._gone

    async def put(self, item: T) -> None:
        """Add ``item``, waiting while the buffer is full; dropped if the consumer left."""
        items = self._items
        while len(items) >= self._size and not self._gone:
            await self._writable.wait()
        if self._gone:
            return
        items.append(item)
        if len(items) == 1:
            self._readable.notify()

    def close(self) -> None:
        """No more items: :meth:`get` returns ``None`` once the buffer is empty."""
        self._closed = True
        self._readable.notify()

    def abandon(self) -> None:
        """The consumer is gone: drop what is buffered and let writers go on."""
        self._gone = True
        self._items.clear()
        self._writable.notify()

    async def get(self) -> T | None:
        """The next item; ``None`` once the buffer is closed and empty."""
        items = self._items
        if items and self._credit:
            self._credit -= 1
        else:
            self._credit = CHECKPOINT_EVERY
            await checkpoint()
            while not items:
                if self._closed or self._gone:
                    return None
                await self._readable.wait()
        item = items.popleft()
        if len(items) <= self._low and self._writable.waiting:
            self._writable.notify()
        return item
