"""A small blocking Redis client: RESP2 over sockets, a bounded pool, for threads.

The twin of :class:`~sluice._redis._client.RedisClient` for the synchronous client
(``sluice.Client``), with the same sans-I/O encoder and parser (``sluice._core._resp``)
and the same rules; what differs is how it waits. Nothing can cancel a blocking call from
outside, so every command carries a deadline, ``command_timeout`` seconds from when it
asks for a pooled connection, and each blocking step (the wait for a connection,
connecting, every write and read) gets what is left of it as its socket timeout: a
server that accepts and never answers, or trickles its reply, raises
:class:`~sluice.RedisTimeoutError` on time.

The pool is safe to share by threads: a connection is used by one command at a time, and
any failure inside a command closes its connection instead of returning it out of step
with the server. Stale connections after a server restart are handled as the anyio
client does (its module docstring says how): a command whose pooled connection closed
before any byte of the reply is sent again once on a new connection when that cannot
apply it twice, and a connection idle over a second is ``PING``-ed before a command that
is not idempotent is written to it.
"""

from __future__ import annotations

import socket
import threading
import time
from collections import deque
from collections.abc import Sequence
from typing import Final

from .._core._closing import Closeable
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

__all__ = ["SyncRedisClient"]

_RECEIVE_SIZE: Final = 64 * 1024


def _left(deadline: float) -> float:
    """Seconds until ``deadline`` (``time.monotonic()``); past it, a ``TimeoutError``."""
    left = deadline - time.monotonic()
    if left <= 0:
        raise TimeoutError("the command's deadline passed")
    return left


class _Connection:
    """One TCP connection: write commands, read replies in order, each step by a deadline."""

    __slots__ = ("_parser", "_replied", "_sock", "idle_since")

    def __init__(self, sock: socket.socket) -> None:
        self._sock = sock
        self._parser = ReplyParser()
        #: Whether a byte arrived since the last write (a close before one is "lost").
        self._replied = True
        #: When the connection went back to the pool (``time.monotonic()``).
        self.idle_since = 0.0

    def send(self, commands: Sequence[Sequence[Arg]], deadline: float) -> None:
        data = b"".join(encode_command(c) for c in commands)
        self._sock.settimeout(_left(deadline))
        try:
            self._sock.sendall(data)
        except TimeoutError:
            raise
        except OSError as exc:
            raise ConnectionLost(f"the connection to Redis is closed: {exc!r}", sent=False) from exc
        self._replied = False

    def read_reply(self, deadline: float) -> Reply:
        """The next reply, whole, by ``deadline`` (else ``TimeoutError``)."""
        while True:
            reply = self._parser.next_reply()
            if not isinstance(reply, NeedData):
                return reply
            self._sock.settimeout(_left(deadline))
            cause: OSError | None = None
            try:
                data = self._sock.recv(_RECEIVE_SIZE)
            except TimeoutError:
                raise
            except OSError as exc:  # reset by the peer...
                data, cause = b"", exc
            if not data:
                if not self._replied:
                    raise ConnectionLost(
                        "the connection to Redis closed before the reply", sent=True
                    ) from cause
                raise RedisError("the connection to Redis closed mid-reply") from cause
            self._replied = True
            self._parser.feed(data)

    def close(self) -> None:
        self._sock.close()


class SyncRedisClient(Closeable):
    """A pool of blocking connections to one Redis server, shared by threads.

    Use it as a context manager; leaving the block closes every idle connection::

        with SyncRedisClient(RedisURL.parse("redis://127.0.0.1:6379/0")) as redis:
            redis.execute("SET", "key", "value")

    Args:
        url: where the server is.
        max_connections: the pool's bound; a command that finds every connection busy
            waits for one (within its ``command_timeout``).
        connect_timeout: seconds to open a connection (and authenticate).
        command_timeout: seconds a command may take, from waiting for a free connection
            to its whole reply, then :class:`~sluice.RedisTimeoutError`.

    Raises:
        ConfigError: a bound that is not positive.
    """

    def __init__(
        self,
        url: RedisURL,
        *,
        max_connections: int = 16,
        connect_timeout: float = 5.0,
        command_timeout: float = DEFAULT_COMMAND_TIMEOUT,
    ) -> None:
        if max_connections < 1:
            raise ConfigError(f"max_connections must be >= 1, got {max_connections}")
        if not (connect_timeout > 0 and command_timeout > 0):
            raise ConfigError("connect_timeout and command_timeout must be positive seconds")
        self.url = url
        #: Seconds a command may take (see the class's arguments).
        self.command_timeout = command_timeout
        self._idle: deque[_Connection] = deque()
        self._lock = threading.Lock()
        self._slots = threading.BoundedSemaphore(max_connections)
        self._connect_timeout = connect_timeout
        self._closed = False

    def __repr__(self) -> str:
        return f"<SyncRedisClient {self.url}>"

    def close(self) -> None:
        """Close every idle connection; connections in use close when their command ends."""
        with self._lock:
            self._closed = True
            idle, self._idle = list(self._idle), deque()
        for conn in idle:
            conn.close()

    def _connect(self, deadline: float) -> _Connection:
        url = self.url
        left = _left(deadline)
        try:
            sock = socket.create_connection(
                (url.host, url.port), timeout=min(self._connect_timeout, left)
            )
        except TimeoutError as exc:
            if left <= self._connect_timeout:
                raise  # the command's own deadline: a RedisTimeoutError, "connecting"
            raise RedisError(f"cannot connect to Redis at {url}: {exc}") from exc
        except OSError as exc:
            raise RedisError(f"cannot connect to Redis at {url}: {exc}") from exc
        conn = _Connection(sock)
        setup = url.setup()
        if setup:
            # Authenticating is part of connecting: bounded by both timeouts.
            until = min(deadline, time.monotonic() + self._connect_timeout)
            try:
                conn.send(setup, until)
                for _ in setup:
                    reply = conn.read_reply(until)
                    if isinstance(reply, RedisReplyError):
                        # The reply names no secret; Redis says "WRONGPASS ..." etc.
                        raise RedisError(f"Redis refused the connection setup: {reply}")
            except ConnectionLost as exc:
                conn.close()
                raise RedisError(f"cannot connect to Redis at {url}: {exc}") from exc
            except BaseException:
                conn.close()
                raise
        return conn

    def pipeline(self, commands: Sequence[Sequence[Arg]], *, block: float = 0.0) -> list[Reply]:
        """Send several commands in one write and return their replies in order.

        Error replies come back as :class:`~sluice.RedisReplyError` values, not raised.

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
        limit = self.command_timeout + block
        deadline = time.monotonic() + limit
        # What the command was doing, for the timeout's message (set as it goes).
        phase = ["waiting for a free connection (every one of the pool's is busy)"]
        try:
            if not self._slots.acquire(timeout=limit):
                raise TimeoutError("no free connection")
            try:
                return self._run(commands, deadline, phase)
            finally:
                self._slots.release()
        except TimeoutError as exc:
            if isinstance(exc, RedisError):
                raise
            raise RedisTimeoutError(
                f"Redis at {self.url} did not answer within {limit:g} s, {phase[0]}: is it "
                "overloaded or stuck?"
            ) from None

    def _run(
        self, commands: Sequence[Sequence[Arg]], deadline: float, phase: list[str]
    ) -> list[Reply]:
        """The round trip, on a pooled connection or a new one (see the module's notes)."""
        what = describe(commands)
        idempotent = all(is_idempotent(command) for command in commands)
        for attempt in (1, 2):
            conn: _Connection | None = None
            if attempt == 1:
                with self._lock:
                    conn = self._idle.pop() if self._idle else None
            reused = conn is not None
            if (
                conn is not None
                and not idempotent
                and time.monotonic() - conn.idle_since > PROBE_IDLE
            ):
                phase[0] = "checking an idle connection (PING)"
                conn = self._probe(conn, deadline)
            if conn is None:
                phase[0] = "connecting"
                conn = self._connect(deadline)
            phase[0] = f"waiting for the reply to {what}"
            try:
                conn.send(commands, deadline)
                replies = [conn.read_reply(deadline) for _ in commands]
            except ConnectionLost as exc:
                conn.close()
                if reused and (idempotent or not exc.sent):
                    continue  # a stale pooled connection: once more on a new one
                if exc.sent:
                    raise RedisError(f"{exc} to {what}; it may or may not have run") from exc
                raise RedisError(f"could not send {what}: {exc}") from exc
            except BaseException as exc:
                conn.close()
                if not isinstance(exc, RedisError | TimeoutError) and isinstance(exc, OSError):
                    raise RedisError(f"the connection to Redis failed: {exc!r}") from exc
                raise
            with self._lock:
                keep = not self._closed
                if keep:
                    conn.idle_since = time.monotonic()
                    self._idle.append(conn)
            if not keep:
                conn.close()
            return replies
        raise AssertionError("unreachable: the second attempt returns or raises")

    def _probe(self, conn: _Connection, deadline: float) -> _Connection | None:
        """``conn`` if it answers a PING, else ``None`` (closed)."""
        try:
            conn.send([["PING"]], deadline)
            reply = conn.read_reply(deadline)
        except ConnectionLost:
            conn.close()
            return None
        except BaseException:
            conn.close()
            raise
        if reply != "PONG":
            conn.close()
            raise unexpected_reply("PING", reply, "is this a Redis server?")
        return conn

    def execute(self, *args: Arg, block: float = 0.0) -> Reply:
        """Run one command and return its reply.

        Raises:
            RedisReplyError: Redis answered with an error.
            RedisTimeoutError: no answer within the timeout.
            RedisError: the connection failed.
        """
        (reply,) = self.pipeline([args], block=block)
        if isinstance(reply, RedisReplyError):
            raise reply
        return reply
