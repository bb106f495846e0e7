"""A small Redis client on anyio: RESP2 over TCP, a bounded pool, pipelines.

Why not redis-py: its asyncio client runs only on asyncio, and sluice runs on asyncio and
trio alike. The relay needs a handful of commands (``XADD``, ``XRANGE``, ``XREAD BLOCK``,
``HSET``, ``SET``, ``EXPIRE``...), all plain request/reply, so this module speaks the
protocol itself (RESP2, https://redis.io/docs/latest/develop/reference/protocol-spec/):
a command is an array of bulk strings; a reply is a simple string, an error, an integer,
a bulk string or an array of replies.

Cancellation: a command cancelled between its write and its reply leaves the connection
out of step with the server (the reply would be read by the next command), so any
exception inside a command closes that connection instead of returning it to the pool.

Time: every command is bounded by the client's ``command_timeout``, from waiting for a
free connection to the last byte of its reply (a blocking command such as ``XREAD BLOCK``
adds its block time), so a server that accepts and never answers raises
:class:`RedisTimeoutError` instead of hanging its caller.

Stale connections: after a server restart every pooled connection is dead, and the first
command on each would fail. A command on a pooled connection that closes before any byte
of its reply is sent again once, on a new connection, when that cannot apply it twice: the
write itself failed (nothing left), or every command of the pipeline is idempotent (reads,
``SET``/``HSET``/``PEXPIRE``/``DEL``...). Other commands (``EVAL``, ``HSETNX``, ``XADD``...)
are never resent; instead, a pooled connection idle for over a second is checked with a
``PING`` before one is written to it, so a restart is noticed before anything is sent.
"""

from __future__ import annotations

import urllib.parse
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from types import TracebackType
from typing import Final, Self, TypeAlias

import anyio
import anyio.abc

from .._core._exceptions import ConfigError, SluiceError

__all__ = [
    "DEFAULT_COMMAND_TIMEOUT",
    "RedisClient",
    "RedisError",
    "RedisProtocolError",
    "RedisReplyError",
    "RedisTimeoutError",
    "RedisURL",
]

Reply: TypeAlias = "bytes | str | int | list[Reply] | RedisReplyError | None"
Arg: TypeAlias = bytes | str | int | float

_CRLF: Final = b"\r\n"
_RECEIVE_SIZE: Final = 64 * 1024
#: The largest reply line (simple string, error, integer, length header) accepted.
_MAX_LINE: Final = 64 * 1024
#: The largest bulk string accepted (Redis' own limit is 512 MB).
_MAX_BULK: Final = 512 * 1024 * 1024
#: Seconds a command may take, from waiting for a connection to its whole reply.
DEFAULT_COMMAND_TIMEOUT: Final = 5.0
#: A pooled connection idle this long is checked (PING) before a command that is not
#: idempotent is written to it.
_PROBE_IDLE: Final = 1.0
#: Commands that do the same thing when applied twice: resent after a stale connection.
_IDEMPOTENT: Final = frozenset(
    {
        "PING",
        "GET",
        "MGET",
        "EXISTS",
        "TTL",
        "PTTL",
        "HGET",
        "HMGET",
        "HGETALL",
        "XRANGE",
        "XREVRANGE",
        "XREAD",
        "XLEN",
        "HSET",
        "DEL",
        "EXPIRE",
        "PEXPIRE",
    }
)


class RedisError(SluiceError):
    """Talking to Redis failed: no connection, a broken connection, or a protocol error."""


class RedisReplyError(RedisError):
    """Redis answered a command with an error reply (``-ERR ...``, ``-WRONGTYPE ...``)."""


class RedisProtocolError(RedisError):
    """What came back is not what Redis sends: bytes that are not RESP2, or a reply whose
    shape does not fit the command (is the URL pointing at a Redis server?)."""


class RedisTimeoutError(RedisError, TimeoutError):
    """Redis did not answer within the client's ``command_timeout`` (the server is
    overloaded, stuck, or not a Redis server); the command may or may not have run."""


class _ConnectionLost(RedisError):
    """A connection closed before any byte of the reply: ``sent`` says whether the write
    went out (internal: the client resends or raises a :class:`RedisError`)."""

    def __init__(self, message: str, *, sent: bool) -> None:
        super().__init__(message)
        self.sent = sent


@dataclass(frozen=True, slots=True)
class RedisURL:
    """Where Redis is: ``redis://[[user]:password@]host[:port][/db]``.

    The password never appears in the repr.
    """

    host: str = "127.0.0.1"
    port: int = 6379
    db: int = 0
    username: str | None = None
    password: str | None = None

    @classmethod
    def parse(cls, url: str) -> RedisURL:
        """Parse a ``redis://`` URL.

        Raises:
            ConfigError: another scheme, a port or a database that is not a number (the
                message never shows the password).
        """
        split = urllib.parse.urlsplit(url)
        if split.scheme != "redis":
            raise ConfigError(
                f"expected a redis:// URL (redis://[[user]:password@]host[:port][/db]), got "
                f"scheme {split.scheme!r}"
            )
        path = split.path.strip("/")
        if path and not path.isdigit():
            raise ConfigError(f"the database in a redis:// URL is a number, got {path!r}")
        try:
            port = split.port
        except ValueError:
            raise ConfigError(
                "the port in a redis:// URL is a number from 0 to 65535 (after the host's ':')"
            ) from None
        return cls(
            host=split.hostname or "127.0.0.1",
            port=port or 6379,
            db=int(path) if path else 0,
            username=urllib.parse.unquote(split.username) if split.username else None,
            password=urllib.parse.unquote(split.password) if split.password else None,
        )

    def __repr__(self) -> str:
        secret = ", password=<redacted>" if self.password else ""
        return f"RedisURL(host={self.host!r}, port={self.port}, db={self.db}{secret})"

    def __str__(self) -> str:
        auth = "<redacted>@" if self.password else ""
        return f"redis://{auth}{self.host}:{self.port}/{self.db}"


def _encode_command(args: Sequence[Arg]) -> bytes:
    parts = [b"*%d\r\n" % len(args)]
    for arg in args:
        if isinstance(arg, bytes):
            data = arg
        elif isinstance(arg, str):
            data = arg.encode()
        else:
            data = str(arg).encode()
        parts.append(b"$%d\r\n%s\r\n" % (len(data), data))
    return b"".join(parts)


def _text(arg: Arg) -> str:
    return arg.decode(errors="replace") if isinstance(arg, bytes) else str(arg)


def _name(command: Sequence[Arg]) -> str:
    return _text(command[0]).upper() if command else ""


def _idempotent(command: Sequence[Arg]) -> bool:
    name = _name(command)
    if name == "SET":  # SET ... NX/XX/GET answers differently the second time
        return not any(_text(arg).upper() in ("NX", "XX", "GET") for arg in command[3:])
    return name in _IDEMPOTENT


def _integer(raw: bytes, what: str) -> int:
    """A RESP integer (``-?[0-9]+``), else :class:`RedisProtocolError`."""
    digits = raw[1:] if raw[:1] == b"-" else raw
    if not digits.isdigit() or len(digits) > 20:
        raise RedisProtocolError(f"{what} from Redis is not an integer: {raw[:40]!r}")
    return int(raw)


class _Connection:
    """One TCP connection: write commands, read replies in order.

    Replies are parsed from a buffer with a read position; consumed bytes are dropped in
    one go once a reply is complete, so a large reply is parsed in linear time.
    """

    __slots__ = ("_buffer", "_pos", "_replied", "_stream", "idle_since")

    def __init__(self, stream: anyio.abc.ByteStream) -> None:
        self._stream = stream
        self._buffer = bytearray()
        self._pos = 0
        self._replied = True  # a byte arrived since the last send
        self.idle_since = 0.0

    async def send(self, commands: Sequence[Sequence[Arg]]) -> None:
        data = b"".join(_encode_command(c) for c in commands)
        try:
            await self._stream.send(data)
        except (anyio.BrokenResourceError, anyio.ClosedResourceError, OSError) as exc:
            raise _ConnectionLost(
                f"the connection to Redis is closed: {exc!r}", sent=False
            ) from exc
        self._replied = False

    async def _fill(self) -> None:
        try:
            data = await self._stream.receive(_RECEIVE_SIZE)
        except (anyio.EndOfStream, anyio.BrokenResourceError, OSError) as exc:
            if not self._replied:
                raise _ConnectionLost(
                    "the connection to Redis closed before the reply", sent=True
                ) from exc
            raise RedisError("the connection to Redis closed mid-reply") from exc
        self._replied = True
        self._buffer += data

    async def _line(self) -> bytes:
        while True:
            end = self._buffer.find(_CRLF, self._pos)
            if end >= 0:
                line = bytes(self._buffer[self._pos : end])
                self._pos = end + 2
                return line
            if len(self._buffer) - self._pos > _MAX_LINE:
                raise RedisProtocolError("Redis sent a reply line over 64 KiB")
            await self._fill()

    async def _exact(self, size: int) -> bytes:
        while len(self._buffer) - self._pos < size + 2:
            await self._fill()
        start, end = self._pos, self._pos + size
        if self._buffer[end : end + 2] != _CRLF:
            raise RedisProtocolError("a bulk string from Redis does not end with CRLF")
        self._pos = end + 2
        return bytes(self._buffer[start:end])

    async def read_reply(self) -> Reply:
        """The next reply, whole."""
        reply = await self._reply()
        del self._buffer[: self._pos]
        self._pos = 0
        return reply

    async def _reply(self) -> Reply:
        line = await self._line()
        if not line:
            raise RedisProtocolError("an empty reply line from Redis")
        kind, rest = line[:1], line[1:]
        if kind == b"$":
            size = _integer(rest, "a bulk string's length")
            if size < 0:
                return None
            if size > _MAX_BULK:
                raise RedisProtocolError(f"a bulk string of {size} bytes from Redis is too large")
            return await self._exact(size)
        if kind == b"*":
            count = _integer(rest, "an array's length")
            if count < 0:
                return None
            return [await self._reply() for _ in range(count)]
        if kind == b":":
            return _integer(rest, "an integer reply")
        if kind == b"+":
            return rest.decode(errors="replace")
        if kind == b"-":
            return RedisReplyError(rest.decode(errors="replace"))
        raise RedisProtocolError(
            f"unknown RESP reply type {kind!r}: is this a Redis server (RESP2)?"
        )

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
        command_timeout: seconds a command may take, from waiting for a free connection
            to its whole reply (default 5; ``None``: no bound), then
            :class:`RedisTimeoutError`.

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
        setup: list[list[Arg]] = []
        if url.password is not None:
            setup.append(["AUTH", *([url.username] if url.username else []), url.password])
        if url.db:
            setup.append(["SELECT", url.db])
        if setup:
            try:
                with anyio.fail_after(self._connect_timeout):
                    await conn.send(setup)
                    for _ in setup:
                        reply = await conn.read_reply()
                        if isinstance(reply, RedisReplyError):
                            # The reply names no secret; Redis says "WRONGPASS ..." etc.
                            raise RedisError(f"Redis refused the connection setup: {reply}")
            except _ConnectionLost as exc:
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

        Error replies come back as :class:`RedisReplyError` values, not raised, so the
        caller sees which command failed.

        Args:
            commands: the commands, each a sequence of arguments.
            block: seconds a command blocks on the server by design (``XREAD BLOCK``),
                added to the client's ``command_timeout``.

        Raises:
            RedisTimeoutError: no whole answer within the timeout (the connection is
                closed; the commands may or may not have run).
            RedisError: the connection failed or the client is closed.
        """
        if self._closed:
            raise RedisError("the Redis client is closed")
        limit = None if self.command_timeout is None else self.command_timeout + block
        what = _name(commands[0]) if commands else "nothing"
        if len(commands) > 1:
            what += f" and {len(commands) - 1} more"
        phase = ["waiting for a free connection (every one of the pool's is busy)"]
        try:
            with anyio.fail_after(limit):
                async with self._slots:
                    return await self._run(commands, what, phase)
        except TimeoutError as exc:
            if isinstance(exc, RedisError):
                raise
            raise RedisTimeoutError(
                f"Redis at {self.url} did not answer within {limit or 0:g} s, {phase[0]}: is it "
                "overloaded or stuck? (RedisClient's command_timeout)"
            ) from None

    async def _run(
        self, commands: Sequence[Sequence[Arg]], what: str, phase: list[str]
    ) -> list[Reply]:
        """The round trip, on a pooled connection or a new one (see the module's notes)."""
        idempotent = all(_idempotent(command) for command in commands)
        for attempt in (1, 2):
            reused = bool(self._idle) and attempt == 1
            conn = self._idle.pop() if reused else None
            if (
                conn is not None
                and not idempotent
                and (anyio.current_time() - conn.idle_since > _PROBE_IDLE)
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
            except _ConnectionLost as exc:
                await conn.aclose()
                if reused and (idempotent or not exc.sent):
                    continue  # a stale pooled connection: once more on a new one
                if exc.sent:
                    raise RedisError(f"{exc} to {what}; it may or may not have run") from exc
                raise RedisError(f"could not send {what}: {exc}") from exc
            except BaseException as exc:
                await conn.aclose()
                if isinstance(exc, OSError | anyio.BrokenResourceError | anyio.ClosedResourceError):
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
        except _ConnectionLost:
            await conn.aclose()
            return None
        except BaseException:
            await conn.aclose()
            raise
        if reply != "PONG":
            await conn.aclose()
            raise RedisProtocolError(f"Redis answered PING with {reply!r}")
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
