"""The Redis Streams store: chats' logs shared by every worker on every machine.

Keys, for a chat ``ID`` under the prefix ``P`` (default ``sluice:relay:``); the ``{ID}`` hash
tag keeps a chat's keys in one Redis Cluster slot:

* ``P{ID}:log`` -- a stream; entry ``n`` of the log has the stream id ``0-n`` and the
  fields ``e`` (event type) and ``d`` (JSON). Appended with ``XADD ... MAXLEN ~ max_entries``
  (approximate trimming: Redis drops whole nodes, so at least ``max_entries`` stay).
* ``P{ID}:meta`` -- a hash: ``state`` (pending/running/done), ``last`` (newest id), and
  ``run`` (``1``: an agent run's log, set with its first entry).
* ``P{ID}:lease`` -- present while a writer holds the chat (``PX lease``, refreshed by
  :meth:`RedisStore.wait_stop`); a running chat without it lost its writer, and the first
  reader to notice appends a ``generation_lost_error`` entry that ends the log.
* ``P{ID}:stop`` -- set by :meth:`RedisStore.request_stop`; the writer polls it.

Every key gets ``PEXPIRE ttl`` on each append and when the chat ends, so a finished chat
stays replayable for ``ttl`` seconds after its last write.

Appends are one Lua script per batch (atomic: the id check, the ``XADD``s, ``last`` and the
TTLs), so a second writer cannot interleave. Readers in one process share a tail per chat:
one of them blocks in ``XREAD BLOCK`` and the entries it gets are cached for the others,
so a thousand readers of one chat cost one blocking Redis connection, not a thousand.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from typing import Final

import anyio

from .._core._exceptions import ConfigError, RedisProtocolError, RedisReplyError
from .._core._resp import DEFAULT_COMMAND_TIMEOUT, Arg, RedisURL, Reply, unexpected_reply
from .._redis._client import RedisClient
from ._store import (
    RUN_EVENTS,
    ChatExistsError,
    ChatInfo,
    ChatNotFoundError,
    ChatState,
    Entry,
    RelayError,
    Store,
    error_data,
    validate_chat_id,
)

__all__ = ["RedisStore"]

DEFAULT_PREFIX: Final = "sluice:relay:"
DEFAULT_MAX_ENTRIES: Final = 50_000
DEFAULT_TTL: Final = 24 * 3600
DEFAULT_LEASE: Final = 10.0
_TAIL_CACHE: Final = 8192
_MAX_BLOCK_MS: Final = 5000

# KEYS: log, meta. ARGV: start id, maxlen, ttl, run flag ("1": a run's first entry), then
# event/data pairs.
_APPEND: Final = """
local last = redis.call('HGET', KEYS[2], 'last')
if not last then return redis.error_reply('NOCHAT no such chat') end
local start = tonumber(ARGV[1])
if start ~= tonumber(last) + 1 then
  return redis.error_reply('BADID the next id is ' .. (tonumber(last) + 1))
end
if ARGV[4] == '1' then redis.call('HSET', KEYS[2], 'run', '1') end
local n = 0
for i = 5, #ARGV, 2 do
  redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[2], '0-' .. (start + n),
             'e', ARGV[i], 'd', ARGV[i + 1])
  n = n + 1
end
redis.call('HSET', KEYS[2], 'last', start + n - 1)
redis.call('PEXPIRE', KEYS[1], ARGV[3])
redis.call('PEXPIRE', KEYS[2], ARGV[3])
return start + n - 1
"""

# KEYS: log, meta, lease. ARGV: ttl, data of the error entry. Ends a running chat whose
# writer's lease expired, once, whichever reader gets here first.
_REAP: Final = """
if redis.call('EXISTS', KEYS[3]) == 1 then return 0 end
if redis.call('HGET', KEYS[2], 'state') ~= 'running' then return 0 end
local id = tonumber(redis.call('HGET', KEYS[2], 'last')) + 1
redis.call('XADD', KEYS[1], '0-' .. id, 'e', 'error', 'd', ARGV[2])
redis.call('HSET', KEYS[2], 'last', id, 'state', 'done')
redis.call('PEXPIRE', KEYS[1], ARGV[1])
redis.call('PEXPIRE', KEYS[2], ARGV[1])
return id
"""

# KEYS: meta, stop. ARGV: ttl. Sets the stop flag of a running chat.
_STOP: Final = """
if redis.call('HGET', KEYS[1], 'state') ~= 'running' then return 0 end
redis.call('SET', KEYS[2], '1', 'PX', ARGV[1])
return 1
"""


_STATES: Final[dict[bytes, ChatState]] = {
    b"pending": "pending",
    b"running": "running",
    b"done": "done",
}


class _Tail:
    """This process's view of the newest entries of one chat, shared by its readers."""

    __slots__ = ("cache", "changed", "last", "leader", "users")

    def __init__(self) -> None:
        self.cache: deque[Entry] = deque(maxlen=_TAIL_CACHE)
        self.changed = anyio.Event()
        self.last = 0
        self.leader = False
        self.users = 0

    def add(self, entries: list[Entry]) -> None:
        if not entries:
            return
        if self.cache and entries[0].id != self.cache[-1].id + 1:
            self.cache.clear()  # keep the cache contiguous
        self.cache.extend(entries)
        self.last = max(self.last, entries[-1].id)


def _unexpected(command: str, reply: object) -> RedisProtocolError:
    return unexpected_reply(
        command, reply, "are other programs writing the relay's keys (see RedisStore's prefix)?"
    )


def _entries(reply: Reply, command: str = "XRANGE") -> list[Entry]:
    """Entries from an XRANGE reply: ``[[b"0-n", [b"e", event, b"d", data]], ...]``."""
    if reply is None:
        return []
    if not isinstance(reply, list):
        raise _unexpected(command, reply)
    entries: list[Entry] = []
    for item in reply:
        if not (isinstance(item, list) and len(item) == 2):
            raise _unexpected(command, item)
        raw_id, fields = item
        if not (isinstance(raw_id, bytes) and isinstance(fields, list) and len(fields) % 2 == 0):
            raise _unexpected(command, item)
        values = dict(zip(fields[::2], fields[1::2], strict=True))
        event, data = values.get(b"e"), values.get(b"d")
        number = raw_id.partition(b"-")[2]
        if not (isinstance(event, bytes) and isinstance(data, bytes) and number.isdigit()):
            raise _unexpected(command, item)
        entries.append(Entry(int(number), event.decode(errors="replace"), data))
    return entries


def _check(reply: Reply) -> Reply:
    if isinstance(reply, RedisReplyError):
        raise reply
    return reply


class RedisStore(Store):
    """Chats' logs in Redis Streams, for many workers and machines, on asyncio and trio.

    Any worker serves any chat; a reader reconnecting to another worker resumes from its
    last id; a finished chat stays replayable for ``ttl`` seconds. The Redis client is
    sluice's own (RESP2 over anyio), so this store runs on trio as well as asyncio.

    Args:
        url: ``redis://[[user]:password@]host[:port][/db]``.
        prefix: the prefix of every key.
        max_entries: the log's cap (``XADD MAXLEN ~``): at least this many newest entries
            are kept per chat.
        ttl: seconds a chat's keys live after its last write.
        lease: seconds a writer's lease lasts without renewal (renewed about every
            ``stop_poll`` seconds); a running chat whose writer died ends this long after.
        stop_poll: seconds between a writer's checks for a stop request.
        max_connections: the bound of the connection pool.
        command_timeout: seconds a Redis command may take, from waiting for a pooled
            connection to its whole reply (a blocking read adds its block time); then
            :class:`RedisTimeoutError`. ``None``: no bound.

    Raises:
        ConfigError: a malformed URL, or bounds that do not fit together.

    Use as ``async with RedisStore(url) as store:``.
    """

    def __init__(
        self,
        url: str = "redis://127.0.0.1:6379/0",
        *,
        prefix: str = DEFAULT_PREFIX,
        max_entries: int = DEFAULT_MAX_ENTRIES,
        ttl: float = DEFAULT_TTL,
        lease: float = DEFAULT_LEASE,
        stop_poll: float = 0.2,
        max_connections: int = 128,
        command_timeout: float | None = DEFAULT_COMMAND_TIMEOUT,
    ) -> None:
        if max_entries < 1 or ttl <= 0 or lease <= stop_poll or stop_poll <= 0:
            raise ConfigError("max_entries >= 1, ttl > 0 and 0 < stop_poll < lease required")
        self.redis = RedisClient(
            RedisURL.parse(url), max_connections=max_connections, command_timeout=command_timeout
        )
        self.prefix = prefix
        self.max_entries = max_entries
        self.ttl = ttl
        self._ttl_ms = max(1, int(ttl * 1000))
        self.lease = lease
        self.stop_poll = stop_poll
        self.check_interval = min(5.0, lease / 2)
        self._tails: dict[str, _Tail] = {}

    def __repr__(self) -> str:
        return f"<RedisStore {self.redis.url} prefix={self.prefix!r}>"

    async def aclose(self) -> None:
        await self.redis.aclose()

    def _key(self, chat_id: str, name: str) -> str:
        return f"{self.prefix}{{{chat_id}}}:{name}"

    # ------------------------------------------------------------------ writing side

    async def create(self, chat_id: str, *, state: ChatState = "running") -> None:
        validate_chat_id(chat_id)
        meta = self._key(chat_id, "meta")
        commands: list[list[Arg]] = [
            ["HSETNX", meta, "state", state],
            ["HSETNX", meta, "last", 0],
            ["PEXPIRE", meta, self._ttl_ms],
        ]
        if state == "running":
            commands.append(["SET", self._key(chat_id, "lease"), "1", "PX", int(self.lease * 1000)])
        created, *rest = await self.redis.pipeline(commands)
        for reply in rest:
            _check(reply)
        if _check(created) == 0:
            raise ChatExistsError(f"chat {chat_id!r} exists")

    async def append(self, chat_id: str, start_id: int, items: Sequence[tuple[str, bytes]]) -> None:
        if not items:
            return
        args: list[Arg] = [
            "EVAL",
            _APPEND,
            2,
            self._key(chat_id, "log"),
            self._key(chat_id, "meta"),
            start_id,
            self.max_entries,
            self._ttl_ms,
            1 if start_id == 1 and items[0][0] in RUN_EVENTS else 0,
        ]
        for event, data in items:
            args.append(event)
            args.append(data)
        try:
            await self.redis.execute(*args)
        except RedisReplyError as exc:
            if str(exc).startswith("NOCHAT"):
                raise ChatNotFoundError(f"no chat {chat_id!r}") from None
            raise RelayError(f"chat {chat_id!r}: append at {start_id} refused: {exc}") from None

    async def set_state(self, chat_id: str, state: ChatState) -> None:
        commands: list[list[Arg]] = [["HSET", self._key(chat_id, "meta"), "state", state]]
        if state == "done":
            commands += [
                ["PEXPIRE", self._key(chat_id, "meta"), self._ttl_ms],
                ["PEXPIRE", self._key(chat_id, "log"), self._ttl_ms],
                ["DEL", self._key(chat_id, "lease"), self._key(chat_id, "stop")],
            ]
        for reply in await self.redis.pipeline(commands):
            _check(reply)

    async def request_stop(self, chat_id: str) -> bool:
        reply = await self.redis.execute(
            "EVAL", _STOP, 2, self._key(chat_id, "meta"), self._key(chat_id, "stop"), self._ttl_ms
        )
        return reply == 1

    async def wait_stop(self, chat_id: str) -> None:
        lease, stop = self._key(chat_id, "lease"), self._key(chat_id, "stop")
        while True:
            renewed, stopped = await self.redis.pipeline(
                [["SET", lease, "1", "PX", int(self.lease * 1000)], ["EXISTS", stop]]
            )
            _check(renewed)
            if _check(stopped) == 1:
                return
            await anyio.sleep(self.stop_poll)

    # ------------------------------------------------------------------ reading side

    async def info(self, chat_id: str) -> ChatInfo | None:
        meta, alive = await self.redis.pipeline(
            [
                ["HMGET", self._key(chat_id, "meta"), "state", "last", "run"],
                ["EXISTS", self._key(chat_id, "lease")],
            ]
        )
        _check(meta)
        if not (isinstance(meta, list) and len(meta) == 3):
            raise _unexpected("HMGET", meta)
        state, last, run = meta
        if state is None:
            return None
        decoded = _STATES.get(state) if isinstance(state, bytes) else None
        if decoded is None or not (isinstance(last, bytes) and last.isdigit()):
            raise _unexpected("HMGET (a chat's state, newest id and kind)", meta)
        return ChatInfo(
            chat_id, decoded, int(last), writer_alive=_check(alive) == 1, run=run == b"1"
        )

    async def _writer_lost(self, chat_id: str, last_id: int) -> None:
        message = (
            "the process generating this chat stopped renewing its lease (it crashed or was "
            "killed); the message ends here, incomplete"
        )
        await self.redis.execute(
            "EVAL",
            _REAP,
            3,
            self._key(chat_id, "log"),
            self._key(chat_id, "meta"),
            self._key(chat_id, "lease"),
            self._ttl_ms,
            error_data("generation_lost_error", message),
        )

    async def entries(self, chat_id: str, after: int, limit: int) -> list[Entry]:
        tail = self._tails.get(chat_id)
        if tail is not None and tail.last:
            if after >= tail.last:
                # At the head of what this process has fetched: wait() fetches what is
                # new once for every reader here, instead of one XRANGE per reader.
                return []
            cache = tail.cache
            if cache and cache[0].id <= after + 1:
                start = after + 1 - cache[0].id
                return [cache[i] for i in range(start, min(len(cache), start + limit))]
        reply = await self.redis.execute(
            "XRANGE", self._key(chat_id, "log"), f"(0-{after}", "+", "COUNT", limit
        )
        return _entries(reply)

    def _reader_opened(self, chat_id: str) -> None:
        tail = self._tails.get(chat_id)
        if tail is None:
            tail = self._tails[chat_id] = _Tail()
        tail.users += 1

    def _reader_closed(self, chat_id: str) -> None:
        tail = self._tails[chat_id]
        tail.users -= 1
        if tail.users == 0:
            del self._tails[chat_id]

    async def wait(self, chat_id: str, after: int, max_wait: float) -> bool:
        tail = self._tails.get(chat_id)
        if tail is None:  # a caller outside read(): a tail of its own for this wait
            tail = _Tail()
        deadline = anyio.current_time() + max_wait
        while tail.last <= after:
            remaining = deadline - anyio.current_time()
            if remaining <= 0:
                return False
            if tail.leader:
                # No timer of its own: the leader's XREAD is bounded (<= 5 s) and wakes
                # every follower when it returns, new entries or not.
                await tail.changed.wait()
                continue
            tail.leader = True
            try:
                await self._follow(chat_id, tail, after, remaining)
            finally:
                tail.leader = False
                changed, tail.changed = tail.changed, anyio.Event()
                changed.set()
        return True

    async def _follow(self, chat_id: str, tail: _Tail, after: int, remaining: float) -> None:
        """One ``XREAD BLOCK`` for every reader of ``chat_id`` in this process."""
        start = max(after, tail.last)
        if start > tail.last:
            tail.cache.clear()
        block = max(1, min(_MAX_BLOCK_MS, int(remaining * 1000)))
        reply = await self.redis.execute(
            "XREAD",
            "COUNT",
            _TAIL_CACHE,
            "BLOCK",
            block,
            "STREAMS",
            self._key(chat_id, "log"),
            f"0-{start}",
            block=block / 1000,
        )
        if isinstance(reply, list) and reply:
            stream = reply[0]
            if not (isinstance(stream, list) and len(stream) == 2):
                raise _unexpected("XREAD", reply)
            tail.add(_entries(stream[1], "XREAD"))
        elif reply is not None:
            raise _unexpected("XREAD", reply)
