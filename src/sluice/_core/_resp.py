"""The Redis protocol, sans-I/O: commands to bytes, bytes to replies, and ``redis://`` URLs.

RESP2 (https://redis.io/docs/latest/develop/reference/protocol-spec/): a command is an
array of bulk strings; a reply is a simple string (``+OK``), an error (``-ERR ...``), an
integer (``:1``), a bulk string (``$3\\r\\nfoo``, ``$-1`` for nil) or an array of replies
(``*2 ...``, ``*-1`` for nil). :class:`ReplyParser` is fed bytes as they arrive and hands
out whole replies, keeping its place across feeds (a reply split over many reads is
parsed once, in linear time), so the anyio client and the blocking one (``sluice._redis``)
share it and differ only in how they read.

What the two clients decide alike is here too: how long a command may take by default
(:data:`DEFAULT_COMMAND_TIMEOUT`), which commands may be sent again after a connection
dropped them (:func:`is_idempotent`, :class:`ConnectionLost`), when an idle connection is
checked first (:data:`PROBE_IDLE`), and the errors for bytes that are not RESP2 or replies
of the wrong shape (:class:`~sluice.RedisProtocolError`, never a bare ``ValueError`` or an
``assert``).
"""

from __future__ import annotations

import urllib.parse
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final, TypeAlias

from ._exceptions import ConfigError, RedisError, RedisProtocolError, RedisReplyError

__all__ = [
    "DEFAULT_COMMAND_TIMEOUT",
    "IDEMPOTENT",
    "NEED_DATA",
    "PROBE_IDLE",
    "Arg",
    "ConnectionLost",
    "NeedData",
    "RedisURL",
    "Reply",
    "ReplyParser",
    "command_name",
    "describe",
    "encode_command",
    "is_idempotent",
    "unexpected_reply",
]

Reply: TypeAlias = "bytes | str | int | list[Reply] | RedisReplyError | None"
Arg: TypeAlias = bytes | str | int | float

_CRLF: Final = b"\r\n"
#: The largest reply line (simple string, error, integer, length header) accepted.
MAX_LINE: Final = 64 * 1024
#: The largest bulk string accepted (Redis' own limit is 512 MB).
MAX_BULK: Final = 512 * 1024 * 1024
#: Seconds a command may take by default, from waiting for a pooled connection to its
#: whole reply (a blocking command such as ``XREAD BLOCK`` adds its block time).
DEFAULT_COMMAND_TIMEOUT: Final = 5.0
#: A pooled connection idle this long (seconds) is checked with ``PING`` before a command
#: that is not idempotent is written to it (after a server restart it is dead, and such a
#: command is never sent twice).
PROBE_IDLE: Final = 1.0
#: The most digits of a length or an integer reply (a 64-bit integer has at most 19).
_MAX_DIGITS: Final = 20
#: Commands that do the same thing when applied twice, so a client may send them again on
#: a new connection when the one they went out on closed before any byte of the reply.
#: ``SET`` is one unless it has ``NX``, ``XX`` or ``GET`` (see :func:`is_idempotent`);
#: scripts (``EVAL``, ``EVALSHA``), ``HSETNX``, ``XADD``, ``INCR``... never are.
IDEMPOTENT: Final = frozenset(
    {
        "PING",
        "ECHO",
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


class ConnectionLost(RedisError):
    """A connection closed before any byte of the reply; ``sent`` says whether the write
    went out. Internal to the clients (``sluice._redis``), which send the commands again
    on a new connection or raise a plain :class:`~sluice.RedisError`: it never reaches a
    caller."""

    def __init__(self, message: str, *, sent: bool) -> None:
        super().__init__(message)
        self.sent = sent


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
            ConfigError: another scheme, a port or a database that is not a number (also a
                ``ValueError``; the message never shows the password).
        """
        split = urllib.parse.urlsplit(url)
        if split.scheme != "redis":
            raise ConfigError(
                f"expected a redis:// URL (redis://[[user]:password@]host[:port][/db]), got "
                f"scheme {split.scheme!r}"
            )
        path = split.path.strip("/")
        if path and not (path.isascii() and path.isdigit()):
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


def _text(arg: Arg) -> str:
    return arg.decode(errors="replace") if isinstance(arg, bytes) else str(arg)


def command_name(command: Sequence[Arg]) -> str:
    """A command's name, upper case (``""`` for an empty command)."""
    return _text(command[0]).upper() if command else ""


def describe(commands: Sequence[Sequence[Arg]]) -> str:
    """Commands as an error message names them: ``GET``, ``EVALSHA and 2 more``."""
    what = command_name(commands[0]) if commands else "nothing"
    if len(commands) > 1:
        what += f" and {len(commands) - 1} more"
    return what


def is_idempotent(command: Sequence[Arg]) -> bool:
    """Whether applying ``command`` twice does what applying it once does (see
    :data:`IDEMPOTENT`): only such a command is sent again after a lost connection."""
    name = command_name(command)
    if name == "SET":  # SET ... NX/XX/GET answers differently the second time
        return not any(_text(arg).upper() in ("NX", "XX", "GET") for arg in command[3:])
    return name in IDEMPOTENT


def unexpected_reply(command: str, reply: object, hint: str = "") -> RedisProtocolError:
    """The error for a reply whose shape does not fit ``command`` (shown cut short)."""
    shown = repr(reply)
    if len(shown) > 80:
        shown = shown[:77] + "..."
    return RedisProtocolError(
        f"Redis answered {command} with a reply of an unexpected shape ({shown})"
        + (f": {hint}" if hint else "")
    )


class ReplyParser:
    """Turns the bytes Redis sends into replies, whatever the reads' boundaries.

    Feed bytes with :meth:`feed`; :meth:`next_reply` returns the next whole reply, or
    :data:`NEED_DATA`. Error replies come back as :class:`RedisReplyError` values (the
    caller decides whether to raise). The parser keeps the arrays it is filling and the
    bulk string it is waiting for, so nothing is parsed twice.

    Raises (from :meth:`next_reply`):
        RedisProtocolError: what arrived is not RESP2, or a line or bulk string is over the
            limit.
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
                    raise RedisProtocolError(
                        "malformed bulk string from Redis: it does not end with CRLF"
                    )
                value = bytes(buffer[self._pos : end])
                self._pos = end + 2
                self._bulk = None
            else:
                end = buffer.find(_CRLF, self._pos)
                if end < 0:
                    if len(buffer) - self._pos > MAX_LINE:
                        raise RedisProtocolError("Redis sent a reply line over 64 KiB")
                    return NEED_DATA
                line = bytes(buffer[self._pos : end])
                self._pos = end + 2
                if not line:
                    raise RedisProtocolError("empty reply line from Redis")
                kind, rest = line[:1], line[1:]
                if kind == b"$":
                    size = _number(rest)
                    if size > MAX_BULK:
                        raise RedisProtocolError(
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
                    value = rest.decode(errors="replace")
                elif kind == b"-":
                    value = RedisReplyError(rest.decode(errors="replace"))
                else:
                    raise RedisProtocolError(
                        f"unknown RESP reply type {kind!r}: is this a Redis server (RESP2)?"
                    )
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
    """A RESP integer, ``-?[0-9]+`` (``int()`` alone would take ``" 1"``, ``"+1"``, ``"1_0"``)."""
    digits = text[1:] if text[:1] == b"-" else text
    if not (digits.isdigit() and len(digits) <= _MAX_DIGITS):
        raise RedisProtocolError(f"malformed number in a reply from Redis: {text[:32]!r}")
    return int(text)
