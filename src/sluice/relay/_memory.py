"""The embedded store: chats' logs in this process's memory, bounded in every direction.

Bounds (each with its overflow policy):

* ``max_entries`` per chat: the oldest entries are dropped (readers that still wanted
  them get ``log_trimmed_error``); the writer never waits.
* ``max_chats``: creating one more chat first forgets the oldest finished chat; if every
  chat is still running, :class:`StoreFullError` (the app answers 503).
* ``ttl``: a finished chat is forgotten this many seconds after it ended.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence
from typing import Final

import anyio

from .._core._exceptions import ConfigError
from ._store import (
    RUN_EVENTS,
    ChatExistsError,
    ChatInfo,
    ChatNotFoundError,
    ChatState,
    Entry,
    RelayError,
    Store,
    StoreFullError,
    validate_chat_id,
)

__all__ = ["MemoryStore"]

DEFAULT_MAX_ENTRIES: Final = 50_000
DEFAULT_MAX_CHATS: Final = 1_000
DEFAULT_TTL: Final = 3600.0


class _Chat:
    """One chat: its log as a list whose first ``head`` items are dropped (compacted in
    bulk, so appends and reads at any position are O(1) amortized)."""

    __slots__ = (
        "changed",
        "ended_at",
        "head",
        "last_id",
        "log",
        "max_entries",
        "run",
        "state",
        "stop",
        "timing",
    )

    def __init__(self, state: ChatState, max_entries: int) -> None:
        self.state: ChatState = state
        self.log: list[Entry] = []
        self.head = 0
        self.max_entries = max_entries
        self.last_id = 0
        self.changed = anyio.Event()
        self.stop = anyio.Event()
        self.ended_at: float | None = None
        self.run = False  # the first entry is a runner event: an agent run's log
        self.timing = False  # a waiter holds the timer that wakes every waiter of this chat

    def notify(self) -> None:
        changed, self.changed = self.changed, anyio.Event()
        changed.set()


class MemoryStore(Store):
    """Chats' logs in this process's memory: the default store, for one process.

    Args:
        max_entries: entries kept per chat (the oldest are dropped beyond it).
        max_chats: chats kept at once (finished ones are forgotten first).
        ttl: seconds a finished chat stays readable.
    """

    def __init__(
        self,
        *,
        max_entries: int = DEFAULT_MAX_ENTRIES,
        max_chats: int = DEFAULT_MAX_CHATS,
        ttl: float = DEFAULT_TTL,
    ) -> None:
        if max_entries < 1 or max_chats < 1 or ttl <= 0:
            raise ConfigError("max_entries and max_chats must be >= 1 and ttl > 0")
        self.max_entries = max_entries
        self.max_chats = max_chats
        self.ttl = ttl
        self._chats: OrderedDict[str, _Chat] = OrderedDict()

    def __repr__(self) -> str:
        return f"<MemoryStore {len(self._chats)} chats, max_entries={self.max_entries}>"

    def _expire(self) -> None:
        now = anyio.current_time()
        for chat_id, chat in list(self._chats.items()):
            if chat.ended_at is not None and now - chat.ended_at > self.ttl:
                del self._chats[chat_id]

    def _get(self, chat_id: str) -> _Chat:
        chat = self._chats.get(chat_id)
        if chat is None or (
            chat.ended_at is not None and (anyio.current_time() - chat.ended_at > self.ttl)
        ):
            raise ChatNotFoundError(f"no chat {chat_id!r}")
        return chat

    async def create(self, chat_id: str, *, state: ChatState = "running") -> None:
        validate_chat_id(chat_id)
        self._expire()
        if chat_id in self._chats:
            raise ChatExistsError(f"chat {chat_id!r} exists")
        if len(self._chats) >= self.max_chats:
            done = next((k for k, c in self._chats.items() if c.state == "done"), None)
            if done is None:
                raise StoreFullError(
                    f"the memory store holds {self.max_chats} running chats; retry later"
                )
            del self._chats[done]
        self._chats[chat_id] = _Chat(state, self.max_entries)

    async def append(self, chat_id: str, start_id: int, items: Sequence[tuple[str, bytes]]) -> None:
        chat = self._get(chat_id)
        if start_id != chat.last_id + 1:
            raise RelayError(
                f"chat {chat_id!r}: append at {start_id}, but the next id is {chat.last_id + 1}"
            )
        if start_id == 1 and items and items[0][0] in RUN_EVENTS:
            chat.run = True
        log = chat.log
        log.extend(Entry(start_id + n, event, data) for n, (event, data) in enumerate(items))
        chat.last_id += len(items)
        chat.head = max(chat.head, len(log) - chat.max_entries)
        if chat.head > chat.max_entries // 2:
            del log[: chat.head]
            chat.head = 0
        chat.notify()

    async def set_state(self, chat_id: str, state: ChatState) -> None:
        chat = self._get(chat_id)
        chat.state = state
        if state == "done":
            chat.ended_at = anyio.current_time()
            # Oldest-finished first, for eviction when the store is full.
            self._chats.move_to_end(chat_id)
        chat.notify()

    async def request_stop(self, chat_id: str) -> bool:
        chat = self._get(chat_id)
        if chat.state != "running":
            return False
        chat.stop.set()
        return True

    async def wait_stop(self, chat_id: str) -> None:
        await self._get(chat_id).stop.wait()

    async def info(self, chat_id: str) -> ChatInfo | None:
        try:
            chat = self._get(chat_id)
        except ChatNotFoundError:
            return None
        return ChatInfo(chat_id, chat.state, chat.last_id, run=chat.run)

    async def entries(self, chat_id: str, after: int, limit: int) -> list[Entry]:
        chat = self._get(chat_id)
        log, head = chat.log, chat.head
        if head >= len(log) or after >= chat.last_id:
            return []
        start = head + max(0, after + 1 - log[head].id)
        return log[start : start + limit]

    async def wait(self, chat_id: str, after: int, max_wait: float) -> bool:
        # One waiter per chat holds a timer; the others wait on the event alone and are
        # woken by an append or by that timer (their own timeout is then approximate).
        # A thousand readers of one chat cost one timer, not a thousand.
        chat = self._get(chat_id)
        if chat.last_id <= after and chat.state != "done":
            changed = chat.changed
            if chat.timing:
                await changed.wait()
            else:
                chat.timing = True
                try:
                    with anyio.move_on_after(max_wait):
                        await changed.wait()
                finally:
                    chat.timing = False
                    if changed is chat.changed:
                        chat.notify()  # timed out (or left): the others look again
        return chat.last_id > after
