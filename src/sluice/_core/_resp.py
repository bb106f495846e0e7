"""The Redis protocol, sans-I/O: commands to bytes, bytes to replies, and ``redis://`` URLs.

RESP2 (https://redis.io/docs/latest/develop/reference/protocol-spec/): a command is an
array of bulk strings; a reply is a simple string (``+OK``), an error (``-ERR ...``), an
integer (``:1``), a bulk string (``$3\\r\\nfoo``, ``$-1`` for nil) or an array of replies
(``*2 ...``, ``*-1`` for nil). :class:`ReplyParser` is fed bytes as they arrive and hands
out whole replies, keeping its place across feeds (a reply split over many reads is
parsed once, in linear time), so the anyio client and the blocking one (``sluice._redis``)
share it and differ only in how they read.
"""

from __future__ import annotations

import urllib.parse
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final, TypeAlias

from ._exceptions import RedisError, RedisReplyError

__all__ = ["NEED_DATA", "Arg", "NeedData", "RedisURL", "Reply", "ReplyParser", "encode_command"]

Reply: TypeAlias = "bytes | str | int | list[Reply] | RedisReplyError | None"
Arg: TypeAlias = bytes | str | int | float

_CRLF: Final = b"\r\n"
#: The largest reply line (simple string, error, integer, length header) accepted.
MAX_LINE: Final = 64 * 1024
#: The largest bulk string accepted (Redis' own limit is 512 MB).
MAX_BULK: Final = 512 * 1024 * 1024


class NeedData:
    """What :meth:`ReplyParser.next_reply` returns while a reply is incomplete."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "NEED_DATA"


#: The parser needs more bytes before the next reply is whole.
NEED_DATA: Final = NeedData()


@dataclass(frozen=True, slots=True)
class RedisURL:
    """Where Redis is: ``redis://[[user]:password@]host[:port][/db]``.

    The password never appears in the repr or the string.
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
            ValueError: another scheme, or a database that is not a number.
        """
        split = urllib.parse.urlsplit(url)
        if split.scheme != "redis":
            raise ValueError(f"expected a redis:// URL, got scheme {split.scheme!r}")
        path = split.path.strip("/")
        try:
            db = int(path) if path else 0
        except ValueError:
            raise ValueError(f"the database in a redis:// URL is a number, got {path!r}") from None
        return cls(
            host=split.hostname or "127.0.0.1",
            port=split.port or 6379,
            db=db,
            username=urllib.parse.unquote(split.username) if split.username else None,
            password=urllib.parse.unquote(split.password) if split.password else None,
        )

    def __repr__(self) -> str:
        secret = ", password=<redacted>" if self.password else ""
        return f"RedisURL(host={self.host!r}, port={self.port}, db={self.db}{secret})"

    def __str__(self) -> str:
        auth = "<redacted>@" if self.password else ""
        return f"redis://{auth}{self.host}:{self.port}/{self.db}"

    def setup(self) -> list[list[Arg]]:
        """The commands a new connection sends first: ``AUTH`` and ``SELECT`` as needed."""
        commands: list[list[Arg]] = []
        if self.password is not None:
            commands.append(["AUTH", *([self.username] if self.username else []), self.password])
        if self.db:
            commands.append(["SELECT", self.db])
        return commands


def encode_command(args: Sequence[Arg]) -> bytes:
    """One command as RESP: an array of bulk strings (numbers are sent as their text)."""
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


class ReplyParser:
    """Turns the bytes Redis sends into replies, whatever the reads' boundaries.

    Feed bytes with :meth:`feed`; :meth:`next_reply` returns the next whole reply, or
    :data:`NEED_DATA`. Error replies come back as :class:`RedisReplyError` values (the
    caller decides whether to raise). The parser keeps the arrays it is filling and the
    bulk string it is waiting for, so nothing is parsed twice.

    Raises (from :meth:`next_reply`):
        RedisError: what arrived is not RESP2, or a line or bulk string is over the limit.
    """

    __slots__ = ("_buffer", "_bulk", "_pos", "_stack")

    def __init__(self) -> None:
        self._buffer = bytearray()
        self._pos = 0
        #: The arrays being filled, innermost last: (items so far, items expected).
        self._stack: list[tuple[list[Reply], int]] = []
        #: The size of the bulk string whose header was read, when waiting for its bytes.
        self._bulk: int | None = None

    def feed(self, data: bytes) -> None:
        """Add bytes received from Redis."""
        self._buffer += data

    def next_reply(self) -> Reply | NeedData:
        """The next whole reply, or :data:`NEED_DATA` until more bytes are fed."""
        buffer = self._buffer
        while True:
            value: Reply
            if self._bulk is not None:
                size = self._bulk
                if len(buffer) - self._pos < size + 2:
                    return NEED_DATA
                end = self._pos + size
                if buffer[end : end + 2] != _CRLF:
                    raise RedisError("malformed bulk string from Redis")
                value = bytes(buffer[self._pos : end])
                self._pos = end + 2
                self._bulk = None
            else:
                end = buffer.find(_CRLF, self._pos)
                if end < 0:
                    if len(buffer) - self._pos > MAX_LINE:
                        raise RedisError("Redis sent a reply line over 64 KiB")
                    return NEED_DATA
                line = bytes(buffer[self._pos : end])
                self._pos = end + 2
                if not line:
                    raise RedisError("empty reply line from Redis")
                kind, rest = line[:1], line[1:]
                if kind == b"$":
                    size = _number(rest)
                    if size > MAX_BULK:
                        raise RedisError(
                            f"bulk string of {size} bytes from Redis is over the limit"
                        )
                    if size >= 0:
                        self._bulk = size
                        continue
                    value = None
                elif kind == b"*":
                    count = _number(rest)
                    if count > 0:
                        self._stack.append(([], count))
                        continue
                    value = None if count < 0 else []
                elif kind == b":":
                    value = _number(rest)
                elif kind == b"+":
                    value = rest.decode()
                elif kind == b"-":
                    value = RedisReplyError(rest.decode(errors="replace"))
                else:
                    raise RedisError(f"unknown RESP reply type {kind!r}")
            # A value is whole: it fills the innermost array, which may then be whole too.
            while self._stack:
                items, expected = self._stack[-1]
                items.append(value)
                if len(items) < expected:
                    break
                self._stack.pop()
                value = items
            else:
                del buffer[: self._pos]  # one whole reply: drop its bytes in one go
                self._pos = 0
                return value


def _number(text: bytes) -> int:
    try:
        return int(text)
    except ValueError:
        raise RedisError(f"malformed number in a reply from Redis: {text[:32]!r}") from None
