"""The chat log: what every store keeps, and the one reader every store shares.

A chat is a log of :class:`Entry` values, numbered ``1, 2, 3...`` with no gaps: entry ``n``
is the ``n``-th event of the generation. An entry is one Messages API event as wire JSON
(``message_start``, ``content_block_delta``...), or one of the relay's own terminal events:
``error`` (the Messages API's error shape, for upstream and relay failures) and
``stopped`` (``POST /chats/{id}/stop``). ``message_stop``, ``error`` and ``stopped`` end
the log. The id is the durable position a reader resumes from (an SSE ``id:``).

An agent run's log (``client.messages.run(...)`` written by :func:`write_stream`) holds
every step: the runner's events (``step_start``, ``tool_start``, ``tool_finish``,
``step_end``) between the messages' events. Its first entry is a runner event, which is
how a store knows the chat is a run (:attr:`ChatInfo.run`); there ``message_stop`` ends a
step, not the log, and the log ends at the ``step_end`` that carries an ``end_reason`` (or
at ``error`` or ``stopped``).

A store is bounded: it keeps at most ``max_entries`` entries of a chat, dropping the
oldest, so a producer never waits for a reader. Because ids are dense, a reader that asks
for entries already dropped sees the gap and gets a ``log_trimmed_error`` entry instead of
silently missing text.
"""

from __future__ import annotations

import abc
import re
from collections.abc import AsyncGenerator, Sequence
from contextlib import aclosing
from dataclasses import dataclass
from typing import Final, Literal, Self

import anyio
import msgspec

from .._core._exceptions import SluiceError

__all__ = [
    "TERMINAL_EVENTS",
    "ChatExistsError",
    "ChatInfo",
    "ChatNotFoundError",
    "ChatState",
    "Entry",
    "InvalidChatIdError",
    "InvalidPositionError",
    "RUN_EVENTS",
    "RelayError",
    "Store",
    "StoreFullError",
    "ends_log",
    "error_data",
    "validate_chat_id",
]

#: Event names that end a message's log (in a run's log, see :func:`ends_log`).
TERMINAL_EVENTS: Final = frozenset({"message_stop", "error", "stopped"})
#: The agent runner's own events (``sluice.types.StepStart``...): a log whose first entry
#: is one of them is a run's.
RUN_EVENTS: Final = frozenset({"step_start", "step_end", "tool_start", "tool_finish"})
#: Event names that may end a run's log (``step_end`` when it carries an ``end_reason``).
RUN_END_EVENTS: Final = frozenset({"error", "stopped", "step_end"})
_ANY_END: Final = TERMINAL_EVENTS | RUN_END_EVENTS


class _StepEnd(msgspec.Struct):
    end_reason: str | None = None


#: A run's ``step_end`` entry: its ``end_reason`` (``None`` while the run goes on).
decode_step_end = msgspec.json.Decoder(_StepEnd).decode

ChatState = Literal["pending", "running", "done"]

_CHAT_ID_RE: Final = re.compile(r"[A-Za-z0-9_-]{1,128}")
#: Entries fetched per store round trip while catching up.
_PAGE: Final = 512


class RelayError(SluiceError):
    """Base of the relay's errors."""


class ChatNotFoundError(RelayError, LookupError):
    """No chat with this id (never created, or expired)."""


class ChatExistsError(RelayError):
    """A chat with this id already exists."""


class StoreFullError(RelayError):
    """The store holds as many running chats as it may; try again later (HTTP 503)."""


class InvalidChatIdError(RelayError, ValueError):
    """A chat id that is not 1-128 characters of ``A-Z a-z 0-9 _ -`` (the app answers 404)."""


class InvalidPositionError(RelayError, ValueError):
    """A reader's position (``Last-Event-ID``, ``?after=``, ``after``) that is not a
    non-negative integer (the app answers 400)."""


@dataclass(frozen=True, slots=True)
class Entry:
    """One position in a chat's log.

    Attributes:
        id: the position, from 1, dense; an SSE ``id:`` and the ``after`` to resume from.
        event: the event's wire type: a Messages API event type, ``error`` or ``stopped``.
        data: the event as compact JSON (for Messages API events, the API's own fields,
            unknown ones included).
        trimmed: ``True`` for the ``log_trimmed_error`` entry a reader gets instead of
            entries the log's cap dropped. It is no position in the log: its ``id``
            repeats the reader's, and the encoders write it without one.
    """

    id: int
    event: str
    data: bytes
    trimmed: bool = False

    @property
    def terminal(self) -> bool:
        """Whether this entry ends a message's log (``message_stop``, ``error``,
        ``stopped``); for a log that may be a run's, use :func:`ends_log`."""
        return self.event in TERMINAL_EVENTS


@dataclass(frozen=True, slots=True)
class ChatInfo:
    """What a store knows about a chat.

    Attributes:
        id: the chat id.
        state: ``pending`` (created, no generation yet), ``running`` or ``done``.
        last_id: the id of the newest entry (0 if none).
        writer_alive: whether the process generating it still holds its lease (always
            ``True`` unless the chat is running in a process that died).
        run: whether the log is an agent run's (its first entry is a runner event, see
            :data:`RUN_EVENTS`): several messages, ending at the last ``step_end``.
    """

    id: str
    state: ChatState
    last_id: int
    writer_alive: bool = True
    run: bool = False


def ends_log(entry: Entry, run: bool) -> bool:
    """Whether ``entry`` ends its chat's log.

    In a message's log: ``message_stop``, ``error``, ``stopped``. In a run's (``run``,
    see :attr:`ChatInfo.run`): ``error``, ``stopped``, or the ``step_end`` that carries
    an ``end_reason`` (the run's last step); ``message_stop`` only ends a step.
    """
    if not run:
        return entry.event in TERMINAL_EVENTS
    if entry.event == "step_end":
        try:
            return decode_step_end(entry.data).end_reason is not None
        except msgspec.DecodeError:
            return False
    return entry.event in RUN_END_EVENTS


def validate_chat_id(chat_id: str) -> str:
    """Return ``chat_id`` if it is 1-128 characters of ``A-Z a-z 0-9 _ -``.

    Raises:
        InvalidChatIdError: it is not (also a ``ValueError``).
    """
    if not isinstance(chat_id, str) or not _CHAT_ID_RE.fullmatch(chat_id):
        shown = chat_id[:40] if isinstance(chat_id, str) else type(chat_id).__name__
        raise InvalidChatIdError(
            f"a chat id is 1-128 characters of A-Z, a-z, 0-9, '_' and '-', got {shown!r}"
        )
    return chat_id


def error_data(error_type: str, message: str, *, request_id: str | None = None) -> bytes:
    """The JSON of an ``error`` entry, in the Messages API's in-stream error shape.

    ``sluice.MessageStream`` reading the relay raises it as the matching typed error
    (``overloaded_error`` -> ``OverloadedStreamError``).
    """
    body: dict[str, object] = {"type": "error", "error": {"type": error_type, "message": message}}
    if request_id:
        body["request_id"] = request_id
    return msgspec.json.encode(body)


def trimmed_entry(chat_id: str, after: int, first: int, *, needed: str = "") -> Entry:
    """The ``log_trimmed_error`` entry of a reader at ``after`` whose next entries (or,
    with ``needed``, what it needs from before them) the cap dropped: the log starts at
    ``first``."""
    if needed:
        what = f"{needed} was"
    else:
        what = f"entries {after + 1}-{first - 1} were"
    message = (
        f"this reader asked for entries after {after} of chat {chat_id}, but the log now starts "
        f"at {first}: {what} dropped by the log's cap. Read the message from its final "
        "state instead, or raise the store's max_entries."
    )
    return Entry(after, "error", error_data("log_trimmed_error", message), trimmed=True)


class Store(abc.ABC):
    """Where chats' logs live. :class:`MemoryStore` for one process, :class:`RedisStore`
    for many workers and machines.

    A store is an async context manager (``async with MemoryStore() as store``). Exactly
    one writer appends to a chat (see :func:`write_stream`); any number of readers
    :meth:`read` it, from any position, in any process that shares the store.
    """

    #: A quiet reader looks at the chat's state (done? writer alive?) this often, in seconds.
    check_interval: float = 5.0

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:  # noqa: B027 - optional hook
        """Release connections. Safe to call more than once."""

    # ------------------------------------------------------------------ writing side

    @abc.abstractmethod
    async def create(self, chat_id: str, *, state: ChatState = "running") -> None:
        """Create an empty chat.

        Args:
            chat_id: see :func:`validate_chat_id`.
            state: ``running`` when a generation starts now, ``pending`` otherwise
                (readers then get HTTP 204 until one starts).

        Raises:
            ChatExistsError: the id is taken. StoreFullError: no room for another chat.
        """

    @abc.abstractmethod
    async def append(self, chat_id: str, start_id: int, items: Sequence[tuple[str, bytes]]) -> None:
        """Append ``(event, data)`` items with ids ``start_id, start_id + 1...``.

        When ``start_id`` is 1 and the first item is a runner event (:data:`RUN_EVENTS`),
        the chat is an agent run's, from then on reported by :meth:`info` (``run``).

        Raises:
            ChatNotFoundError: no such chat.
            RelayError: ``start_id`` is not the next id (a second writer, or a lost lease).
        """

    @abc.abstractmethod
    async def set_state(self, chat_id: str, state: ChatState) -> None:
        """Mark a chat ``running`` or ``done``; a done chat expires after the store's TTL."""

    @abc.abstractmethod
    async def request_stop(self, chat_id: str) -> bool:
        """Ask the chat's writer, in whatever process, to stop. False if not running."""

    @abc.abstractmethod
    async def wait_stop(self, chat_id: str) -> None:
        """Return once a stop is requested; while waiting, keep the writer's lease."""

    # ------------------------------------------------------------------ reading side

    @abc.abstractmethod
    async def info(self, chat_id: str) -> ChatInfo | None:
        """The chat's state and newest id, or ``None`` for an unknown chat."""

    @abc.abstractmethod
    async def entries(self, chat_id: str, after: int, limit: int) -> list[Entry]:
        """Up to ``limit`` stored entries with ids above ``after``, oldest first."""

    @abc.abstractmethod
    async def wait(self, chat_id: str, after: int, max_wait: float) -> bool:
        """Wait up to ``max_wait`` seconds for an entry above ``after``.

        Returns True when one may exist, False when the time ran out or the chat changed
        state (the reader then looks at :meth:`info`).
        """

    async def _writer_lost(self, chat_id: str, last_id: int) -> None:  # noqa: B027 - optional hook
        """Called by a reader that found a running chat without a live writer."""

    def _reader_opened(self, chat_id: str) -> None:  # noqa: B027 - optional hook
        """A :meth:`read` of this chat starts (stores may share work between readers)."""

    def _reader_closed(self, chat_id: str) -> None:  # noqa: B027 - optional hook
        """A :meth:`read` of this chat ends."""

    async def read(
        self, chat_id: str, after: int = 0, *, heartbeat: float | None = None
    ) -> AsyncGenerator[Entry | None, None]:
        """The chat's entries after ``after``: the stored ones, then live ones as they come.

        Ends after the entry that ends the log (``message_stop``, ``error``, ``stopped``;
        for an agent run's log, the last ``step_end``: see :func:`ends_log`), or when a
        done chat has nothing more. If entries after ``after`` were dropped by the log's
        cap, yields one ``error`` entry (``log_trimmed_error``, with the id ``after``, so
        the position is not advanced) and ends.

        Args:
            chat_id: the chat.
            after: the last id the reader has (0 for the whole log).
            heartbeat: if set, yield ``None`` after this many idle seconds (so an SSE
                endpoint can send a comment), and go on waiting.

        Raises:
            ChatNotFoundError: no such chat (checked before the first item).
            InvalidPositionError: ``after`` is negative.
        """
        async with aclosing(self.read_batches(chat_id, after, heartbeat=heartbeat)) as batches:
            async for batch in batches:
                if not batch:
                    yield None
                for entry in batch:
                    yield entry

    async def read_batches(
        self, chat_id: str, after: int = 0, *, heartbeat: float | None = None
    ) -> AsyncGenerator[list[Entry], None]:
        """:meth:`read`, in lists of consecutive entries as the store hands them out.

        A reader that fell behind (or many readers woken by one append) gets what is there
        in one list, to send in one write; an empty list is a heartbeat tick.
        """
        if not isinstance(after, int) or after < 0:
            raise InvalidPositionError(
                f"a reader's position `after` must be an int >= 0 (0: the whole log), got {after!r}"
            )
        info = await self.info(chat_id)
        if info is None:
            raise ChatNotFoundError(f"no chat {chat_id!r}")
        # A run's log ends at its last step_end, not at its first message_stop. Known
        # from the info once the log has an entry (the first entry says), or from that
        # entry; else (a reader waiting past the end of an empty log) asked again.
        run: bool | None = info.run if (info.run or info.last_id or not after) else None
        self._reader_opened(chat_id)
        try:
            idle = heartbeat if heartbeat is not None else 15.0
            quiet_since = anyio.current_time()
            check = False  # look at the chat's state again (after a quiet wait)
            while True:
                batch = await self.entries(chat_id, after, _PAGE)
                if batch:
                    if batch[0].id != after + 1:
                        yield [trimmed_entry(chat_id, after, batch[0].id)]
                        return
                    if batch[0].id == 1:
                        run = batch[0].event in RUN_EVENTS
                    ends = _ANY_END if run is None else RUN_END_EVENTS if run else TERMINAL_EVENTS
                    for index, entry in enumerate(batch):
                        if entry.event in ends:
                            if run is None:
                                latest = await self.info(chat_id)
                                run = latest is not None and latest.run
                                ends = RUN_END_EVENTS if run else TERMINAL_EVENTS
                            if ends_log(entry, run):
                                yield batch[: index + 1]
                                return
                    yield batch
                    after = batch[-1].id
                    quiet_since = anyio.current_time()
                    continue
                if check:
                    check = False
                    info = await self.info(chat_id)
                    if info is None or (info.state == "done" and info.last_id <= after):
                        return
                    if info.last_id > after:
                        continue
                    if info.state == "running" and not info.writer_alive:
                        await self._writer_lost(chat_id, info.last_id)
                        continue
                timeout = max(0.0, quiet_since + idle - anyio.current_time())
                if await self.wait(chat_id, after, min(timeout, self.check_interval)):
                    continue
                check = True
                now = anyio.current_time()
                if now >= quiet_since + idle:
                    quiet_since = now
                    if heartbeat is not None:
                        yield []
        finally:
            self._reader_closed(chat_id)
