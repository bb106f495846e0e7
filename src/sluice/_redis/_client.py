"""A small Redis client on anyio: RESP2 over TCP, a bounded pool, pipelines.

Why not redis-py: its asyncio client runs only on asyncio, and sluice runs on asyncio and
trio alike. The relay needs a handful of commands (``XADD``, ``XRANGE``, ``XREAD BLOCK``,
``HSET``, ``SET``, ``EXPIRE``...) and the shared rate limits ``EVALSHA``, all plain
request/reply, so this module speaks the protocol itself, through the sans-I/O encoder
and parser of ``sluice._core._resp``.

Cancellation: a command cancelled between its write and its reply leaves the connection
out of step with the server (the reply would be read by the next command), so any
exception inside a command closes that connection instead of returning it to the pool.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from types import TracebackType
from typing import Final, Self

import anyio
import anyio.abc

from .._core._exceptions import RedisError, RedisReplyError
from .._core._resp import Arg, NeedData, RedisURL, Reply, ReplyParser, encode_command

__all__ = ["RedisClient"]

_RECEIVE_SIZE: Final = 64 * 1024


class _Connection:
    """One TCP connection: write commands, read replies in order."""

    __slots__ = ("_parser", "_stream")

    def __init__(self, stream: anyio.abc.ByteStream) -> None:
        self._stream = stream
        self._parser = ReplyParser()

    async def send(self, commands: Sequence[Sequence[Arg]]) -> None:
        await self._stream.send(b"".join(encode_command(c) for c in commands))

    async def read_reply(self) -> Reply:
        """The next reply, whole."""
        while True:
            reply = self._parser.next_reply()
            if not isinstance(reply, NeedData):
                return reply
            try:
                data = await self._stream.receive(_RECEIVE_SIZE)
            except (anyio.EndOfStream, anyio.BrokenResourceError, OSError) as exc:
                raise RedisError("the connection to Redis closed mid-reply") from exc
            self._parser.feed(data)

    async def aclose(self) -> None:
        with anyio.CancelScope(shield=True):
            await self._stream.aclose()


class RedisClient:
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
    """

    def __init__(
        self, url: RedisURL, *, max_connections: int = 128, connect_timeout: float = 5.0
    ) -> None:
        if max_connections < 1:
            raise ValueError(f"max_connections must be >= 1, got {max_connections}")
        self.url = url
        self._idle: deque[_Connection] = deque()
        self._slots = anyio.Semaphore(max_connections)
        self._connect_timeout = connect_timeout
        self._closed = False

    def __repr__(self) -> str:
        return f"<RedisClient {self.url}>"

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

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
            except BaseException:
                await conn.aclose()
                raise
        return conn

    async def pipeline(self, commands: Sequence[Sequence[Arg]]) -> list[Reply]:
        """Send several commands in one write and return their replies in order.

        Error replies come back as :class:`RedisReplyError` values, not raised, so the
        caller sees which command failed.

        Raises:
            RedisError: the connection failed or the client is closed.
        """
        if self._closed:
            raise RedisError("the Redis client is closed")
        async with self._slots:
            conn = self._idle.pop() if self._idle else await self._connect()
            try:
                await conn.send(commands)
                replies = [await conn.read_reply() for _ in commands]
            except BaseException as exc:
                await conn.aclose()
                if isinstance(exc, OSError | anyio.BrokenResourceError | anyio.ClosedResourceError):
                    raise RedisError(f"the connection to Redis failed: {exc!r}") from exc
                raise
            if self._closed:
                await conn.aclose()
            else:
                self._idle.append(conn)
            return replies

    async def execute(self, *args: Arg) -> Reply:
        """Run one command and return its reply.

        Raises:
            RedisReplyError: Redis answered with an error.
            RedisError: the connection failed.
        """
        (reply,) = await self.pipeline([args])
        if isinstance(reply, RedisReplyError):
            raise reply
        return reply
