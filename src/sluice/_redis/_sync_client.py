"""A small blocking Redis client: RESP2 over sockets, a bounded pool, for threads.

The twin of :class:`~sluice._redis._client.RedisClient` for the synchronous client
(``sluice.Client``), with the same sans-I/O encoder and parser (``sluice._core._resp``);
what differs is how it waits. Every socket has a timeout (connecting, and each command),
since nothing can cancel a blocking call from outside. The pool is safe to share by
threads: a connection is used by one command at a time, and any failure inside a command
closes its connection instead of returning it out of step with the server.
"""

from __future__ import annotations

import socket
import threading
from collections import deque
from collections.abc import Sequence
from types import TracebackType
from typing import Final, Self

from .._core._exceptions import RedisError, RedisReplyError
from .._core._resp import Arg, NeedData, RedisURL, Reply, ReplyParser, encode_command

__all__ = ["SyncRedisClient"]

_RECEIVE_SIZE: Final = 64 * 1024


class _Connection:
    """One TCP connection: write commands, read replies in order."""

    __slots__ = ("_parser", "_sock")

    def __init__(self, sock: socket.socket) -> None:
        self._sock = sock
        self._parser = ReplyParser()

    def send(self, commands: Sequence[Sequence[Arg]]) -> None:
        self._sock.sendall(b"".join(encode_command(c) for c in commands))

    def read_reply(self) -> Reply:
        """The next reply, whole."""
        while True:
            reply = self._parser.next_reply()
            if not isinstance(reply, NeedData):
                return reply
            data = self._sock.recv(_RECEIVE_SIZE)
            if not data:
                raise RedisError("the connection to Redis closed mid-reply")
            self._parser.feed(data)

    def close(self) -> None:
        self._sock.close()


class SyncRedisClient:
    """A pool of blocking connections to one Redis server, shared by threads.

    Use it as a context manager; leaving the block closes every idle connection::

        with SyncRedisClient(RedisURL.parse("redis://127.0.0.1:6379/0")) as redis:
            redis.execute("SET", "key", "value")

    Args:
        url: where the server is.
        max_connections: the pool's bound; a command that finds every connection busy
            waits for one (at most ``timeout`` seconds).
        connect_timeout: seconds to open a connection (and authenticate).
        timeout: seconds each command may take (a blocking read cannot be cancelled).
    """

    def __init__(
        self,
        url: RedisURL,
        *,
        max_connections: int = 16,
        connect_timeout: float = 5.0,
        timeout: float = 5.0,
    ) -> None:
        if max_connections < 1:
            raise ValueError(f"max_connections must be >= 1, got {max_connections}")
        self.url = url
        self._idle: deque[_Connection] = deque()
        self._lock = threading.Lock()
        self._slots = threading.BoundedSemaphore(max_connections)
        self._connect_timeout = connect_timeout
        self._timeout = timeout
        self._closed = False

    def __repr__(self) -> str:
        return f"<SyncRedisClient {self.url}>"

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        """Close every idle connection; connections in use close when their command ends."""
        with self._lock:
            self._closed = True
            idle, self._idle = list(self._idle), deque()
        for conn in idle:
            conn.close()

    def _connect(self) -> _Connection:
        url = self.url
        try:
            sock = socket.create_connection((url.host, url.port), timeout=self._connect_timeout)
        except OSError as exc:
            raise RedisError(f"cannot connect to Redis at {url}: {exc}") from exc
        sock.settimeout(self._timeout)
        conn = _Connection(sock)
        setup = url.setup()
        if setup:
            try:
                conn.send(setup)
                for _ in setup:
                    reply = conn.read_reply()
                    if isinstance(reply, RedisReplyError):
                        # The reply names no secret; Redis says "WRONGPASS ..." etc.
                        raise RedisError(f"Redis refused the connection setup: {reply}")
            except BaseException as exc:
                conn.close()
                if isinstance(exc, OSError):
                    raise RedisError(f"cannot set up a connection to Redis: {exc!r}") from exc
                raise
        return conn

    def pipeline(self, commands: Sequence[Sequence[Arg]]) -> list[Reply]:
        """Send several commands in one write and return their replies in order.

        Error replies come back as :class:`RedisReplyError` values, not raised.

        Raises:
            RedisError: the connection failed or timed out, or the client is closed.
        """
        if self._closed:
            raise RedisError("the Redis client is closed")
        if not self._slots.acquire(timeout=self._timeout):
            raise RedisError(f"no connection to Redis free within {self._timeout:g} s")
        try:
            with self._lock:
                conn = self._idle.pop() if self._idle else None
            if conn is None:
                conn = self._connect()
            try:
                conn.send(commands)
                replies = [conn.read_reply() for _ in commands]
            except BaseException as exc:
                conn.close()
                if isinstance(exc, OSError):  # timeouts included
                    raise RedisError(f"the connection to Redis failed: {exc!r}") from exc
                raise
            with self._lock:
                keep = not self._closed
                if keep:
                    self._idle.append(conn)
            if not keep:
                conn.close()
            return replies
        finally:
            self._slots.release()

    def execute(self, *args: Arg) -> Reply:
        """Run one command and return its reply.

        Raises:
            RedisReplyError: Redis answered with an error.
            RedisError: the connection failed.
        """
        (reply,) = self.pipeline([args])
        if isinstance(reply, RedisReplyError):
            raise reply
        return reply
