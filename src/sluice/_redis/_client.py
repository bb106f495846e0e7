"""A small Redis client on anyio: RESP2 over TCP, a bounded pool, pipelines.

Why not redis-py: its asyncio client runs only on asyncio, and sluice runs on asyncio and
trio alike. The relay needs a handful of commands (``XADD``, ``XRANGE``, ``XREAD BLOCK``,
``HSET``, ``SET``, ``EXPIRE``...) and the shared rate limits ``EVALSHA``, all plain
request/reply, so this module speaks the protocol itself, through the sans-I/O encoder
and parser of ``sluice._core._resp``.

Cancellation: a command cancelled between its write and its reply leaves the connection
out of step with the server (the reply would be read by the next command), so any
exception inside a command closes that connection instead of returning it to the pool.

Time: every command is bounded by the client's ``command_timeout``, from waiting for a
free connection to the last byte of its reply (a blocking command such as ``XREAD BLOCK``
adds its block time), so a server that accepts and never answers raises
:class:`~sluice.RedisTimeoutError` instead of hanging its caller.

Stale connections: after a server restart every pooled connection is dead, and the first
command on each would fail. A command on a pooled connection that closes before any byte
of its reply is sent again once, on a new connection, when that cannot apply it twice: the
write itself failed (nothing left), or every command of the pipeline is idempotent (reads,
``SET``/``HSET``/``PEXPIRE``/``DEL``...: ``sluice._core._resp.is_idempotent``). Other
commands (``EVAL``, ``EVALSHA``, ``HSETNX``, ``XADD``...) are never resent; instead, a
pooled connection idle for over a second is checked with a ``PING`` before one is written
to it, so a restart is noticed before anything is sent.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from typing import Final

import anyio
import anyio.abc

from .._core._closing import AsyncCloseable
from .._core._exceptions import ConfigError, RedisError, RedisReplyError, RedisTimeoutError
from .._core._resp import (
    DEFAULT_COMMAND_TIMEOUT,
    PROBE_IDLE,
    Arg,
    ConnectionLost,
    NeedData,
    RedisURL,
    Reply,
    ReplyParser,
    describe,
    encode_command,
    is_idempotent,
    unexpected_reply,
)

__all__ = ["RedisClient"]

_RECEIVE_SIZE: Final = 64 * 1024


class _Connection:
    """One TCP connection: write commands, read replies in order."""

    __slots__ = ("_parser", "_replied", "_stream", "idle_since")

    def __init__(self, stream: anyio.abc.ByteStream) -> None:
        self._stream = stream
        self._parser = ReplyParser()
        #: Whether a byte arrived since the last write (a close before one is "lost").
        self._replied = True
        #: When the connection went back to the pool (``anyio.current_time()``).
        self.idle_since = 0.0

    async def send(self, commands: Sequence[Sequence[Arg]]) -> None:
        data = b"".join(encode_command(c) for c in commands)
        try:
            await self._stream.send(data)
        except (anyio.BrokenResourceError, anyio.ClosedResourceError, OSError) as exc:
            raise ConnectionLost(f"the connection to Redis is closed: {exc!r}", sent=False) from exc
        self._replied = False

    async def read_reply(self) -> Reply:
        """The next reply, whole."""
        while True:
            reply = self._parser.next_reply()
            if not isinstance(reply, NeedData):
                return reply
            try:
                data = await self._stream.receive(_RECEIVE_SIZE)
            except (anyio.EndOfStream, anyio.BrokenResourceError, OSError) as exc:
                if not self._replied:
                    raise ConnectionLost(
                        "the connection to Redis closed before the reply", sent=True
                    ) from exc
                raise RedisError("the connection to Redis closed mid-reply") from exc
            self._replied = True
            self._parser.feed(data)

    async def aclose(self) -> None:
        with anyio.CancelScope(shield=True):
            await self._stream.aclose()


class RedisClient(AsyncCloseable):
    """A pool of connections to one Redis server, on asyncio or trio.

    Use it as an async context manager; leaving the block closes every connection::

        async with RedisClient(RedisURL.parse("redis://127.0.0.1:6379/0")) as redis:
            await redis.execute("SET", "key", "value")
            replies = await redis.pipeline([("GET", "key"), ("EXISTS", "key")])

    Args:
        url: where the server is.
        max_connections: the pool's bound. A command that finds every connection busy
            waits for one (blocking reads such as ``XREAD BLOCK`` hold theirs meanwhile).
        connect_timeout: seconds to open a connection (and authenticate) before giving up.
        command_timeout: seconds a command may take, from waiting for a free connection
            to its whole reply (default 5; ``None``: no bound), then
            :class:`~sluice.RedisTimeoutError`.

    Raises:
        ConfigError: a bound that is not positive.
    """

    def __init__(
        self,
        url: RedisURL,
        *,
        max_connections: int = 128,
        connect_timeout: float = 5.0,
        command_timeout: float | None = DEFAULT_COMMAND_TIMEOUT,
    ) -> None:
        if max_connections < 1:
            raise ConfigError(f"max_connections must be >= 1, got {max_connections}")
        if not connect_timeout > 0 or (command_timeout is not None and not command_timeout > 0):
            raise ConfigError("connect_timeout and command_timeout must be positive seconds")
        self.url = url
        #: Seconds a command may take (see the class's arguments).
        self.command_timeout = command_timeout
        self._idle: deque[_Connection] = deque()
        self._slots = anyio.Semaphore(max_connections)
        self._connect_timeout = connect_timeout
        self._closed = False

    def __repr__(self) -> str:
        return f"<RedisClient {self.url}>"

    async def aclose(self) -> None:
        """Close every idle connection; connections in use close when their command ends."""
        self._closed = True
        while self._idle:
            await self._idle.popleft().aclose()

    async def _connect(self) -> _Connection:
        url = self.url
        try:
            with anyio.fail_after(self._connect_timeout):
                stream = await anyio.connect_tcp(url.host, url.port)
        except (OSError, TimeoutError) as exc:
            raise RedisError(f"cannot connect to Redis at {url}: {exc}") from exc
        conn = _Connection(stream)
        setup = url.setup()
        if setup:
            try:
                with anyio.fail_after(self._connect_timeout):
                    await conn.send(setup)
                    for _ in setup:
                        reply = await conn.read_reply()
                        if isinstance(reply, RedisReplyError):
                            # The reply names no secret; Redis says "WRONGPASS ..." etc.
                            raise RedisError(f"Redis refused the connection setup: {reply}")
            except ConnectionLost as exc:
                await conn.aclose()
                raise RedisError(f"cannot connect to Redis at {url}: {exc}") from exc
            except BaseException:
                await conn.aclose()
                raise
        return conn

    async def pipeline(
        self, commands: Sequence[Sequence[Arg]], *, block: float = 0.0
    ) -> list[Reply]:
        """Send several commands in one write and return their replies in order.

        Error replies come back as :class:`~sluice.RedisReplyError` values, not raised, so
        the caller sees which command failed.

        Args:
            commands: the commands, each a sequence of arguments.
            block: seconds a command blocks on the server by design (``XREAD BLOCK``),
                added to the client's ``command_timeout``.

        Raises:
            RedisTimeoutError: no whole answer within the timeout (the connection is
                closed; the commands may or may not have run).
            RedisProtocolError: what came back is not RESP2.
            RedisError: the connection failed or the client is closed.
        """
        if self._closed:
            raise RedisError("the Redis client is closed")
        limit = None if self.command_timeout is None else self.command_timeout + block
        # What the command was doing, for the timeout's message (set as it goes).
        phase = ["waiting for a free connection (every one of the pool's is busy)"]
        try:
            with anyio.fail_after(limit):
                async with self._slots:
                    return await self._run(commands, phase)
        except TimeoutError as exc:
            if isinstance(exc, RedisError):
                raise
            raise RedisTimeoutError(
                f"Redis at {self.url} did not answer within {limit or 0:g} s, {phase[0]}: is "
                "it overloaded or stuck?"
            ) from None

    async def _run(self, commands: Sequence[Sequence[Arg]], phase: list[str]) -> list[Reply]:
        """The round trip, on a pooled connection or a new one (see the module's notes)."""
        what = describe(commands)
        idempotent = all(is_idempotent(command) for command in commands)
        for attempt in (1, 2):
            reused = bool(self._idle) and attempt == 1
            conn = self._idle.pop() if reused else None
            if (
                conn is not None
                and not idempotent
                and anyio.current_time() - conn.idle_since > PROBE_IDLE
            ):
                phase[0] = "checking an idle connection (PING)"
                conn = await self._probe(conn)
            if conn is None:
                phase[0] = "connecting"
                conn = await self._connect()
            phase[0] = f"waiting for the reply to {what}"
            try:
                await conn.send(commands)
                replies = [await conn.read_reply() for _ in commands]
            except ConnectionLost as exc:
                await conn.aclose()
                if reused and (idempotent or not exc.sent):
                    continue  # a stale pooled connection: once more on a new one
                if exc.sent:
                    raise RedisError(f"{exc} to {what}; it may or may not have run") from exc
                raise RedisError(f"could not send {what}: {exc}") from exc
            except BaseException as exc:
                await conn.aclose()
                if not isinstance(exc, RedisError) and isinstance(
                    exc, OSError | anyio.BrokenResourceError | anyio.ClosedResourceError
                ):
                    raise RedisError(f"the connection to Redis failed: {exc!r}") from exc
                raise
            if self._closed:
                await conn.aclose()
            else:
                conn.idle_since = anyio.current_time()
                self._idle.append(conn)
            return replies
        raise AssertionError("unreachable: the second attempt returns or raises")

    async def _probe(self, conn: _Connection) -> _Connection | None:
        """``conn`` if it answers a PING, else ``None`` (closed)."""
        try:
            await conn.send([["PING"]])
            reply = await conn.read_reply()
        except ConnectionLost:
            await conn.aclose()
            return None
        except BaseException:
            await conn.aclose()
            raise
        if reply != "PONG":
            await conn.aclose()
            raise unexpected_reply("PING", reply, "is this a Redis server?")
        return conn

    async def execute(self, *args: Arg, block: float = 0.0) -> Reply:
        """Run one command and return its reply.

        Args:
            args: the command and its arguments.
            block: seconds the command blocks on the server by design (``XREAD BLOCK``),
                added to the client's ``command_timeout``.

        Raises:
            RedisReplyError: Redis answered with an error.
            RedisTimeoutError: no answer within the timeout.
            RedisError: the connection failed.
        """
        (reply,) = await self.pipeline([args], block=block)
        if isinstance(reply, RedisReplyError):
            raise reply
        return reply
