"""A real HTTP/1.1 server on 127.0.0.1 that plays the Anthropic API for tests and demos.

The data path, top to bottom:

* :class:`_RequestParser` is a sans-I/O HTTP/1.1 request parser (RFC 9112): fed bytes, it
  hands out complete requests. It knows ``Content-Length`` and ``chunked`` bodies, bounds
  every buffer and reports malformed input as :class:`_ProtocolError` (an HTTP status).
* :class:`MockAnthropic` accepts TCP connections with anyio (so it runs on asyncio and
  trio), records each request as a :class:`RecordedRequest`, picks a :class:`Reply`
  (queue, then routes, then the default, then 404) and writes it out.
* :class:`Reply` describes one response: a JSON body with ``Content-Length``, or an SSE
  stream sent with ``Transfer-Encoding: chunked`` so each write reaches the client as it
  happens, optionally broken on purpose (dropped, stalled, or cut by an ``error`` event).
"""

from __future__ import annotations

import inspect
import re
import secrets
import urllib.parse
from collections import deque
from collections.abc import (
    AsyncIterator,
    Awaitable,
    Callable,
    Iterable,
    Iterator,
    Mapping,
    Sequence,
)
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from http import HTTPStatus
from types import TracebackType
from typing import Any, Final, Literal, Self

import anyio
import anyio.abc
import msgspec

__all__ = ["MockAnthropic", "RecordedRequest", "Reply", "serve"]

#: Header values that are replaced by ``'<redacted>'`` in every repr.
_SECRET_HEADERS: Final = frozenset(
    {"x-api-key", "authorization", "proxy-authorization", "cookie", "set-cookie"}
)
#: Response headers the server computes itself; a Reply may not set them.
_RESERVED_HEADERS: Final = frozenset({"content-length", "transfer-encoding", "request-id"})

#: The Messages API accepts request bodies up to 32 MB; larger ones get 413.
_MAX_BODY_SIZE: Final = 32 * 1024 * 1024
#: Request line plus headers; larger heads get 431.
_MAX_HEAD_SIZE: Final = 64 * 1024
#: A chunk-size line (hex size plus extensions) longer than this is malformed.
_MAX_CHUNK_LINE: Final = 4 * 1024
_RECEIVE_SIZE: Final = 64 * 1024
#: After a response that closes the connection the server half-closes and waits this long
#: for the client to hang up, so nothing it sent is lost to an early reset.
_LINGER_SECONDS: Final = 2.0

#: Errors that mean "the client went away": the connection simply ends.
_CLIENT_GONE: Final = (
    anyio.BrokenResourceError,
    anyio.ClosedResourceError,
    anyio.EndOfStream,
    ConnectionError,
)

_TOKEN_RE: Final = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_HEX_RE: Final = re.compile(rb"[0-9A-Fa-f]{1,16}")
_HEAD_END_RE: Final = re.compile(rb"\r?\n\r?\n")
# An SSE event ends at a blank line; CRLF, LF and CR are all line endings (WHATWG HTML,
# "Parsing an event stream"). Atomic groups keep "\r\n" from being read as two endings.
_SSE_EVENT_END_RE: Final = re.compile(rb"(?>\r\n|\r|\n)(?>\r\n|\r|\n)")
_EXTRA_REASONS: Final = {529: "Overloaded"}


def _new_request_id() -> str:
    return f"req_{secrets.token_hex(12)}"


def _reason(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return _EXTRA_REASONS.get(status, "")


def _error_body(error_type: str, message: str, request_id: str | None) -> dict[str, Any]:
    body: dict[str, Any] = {"type": "error", "error": {"type": error_type, "message": message}}
    if request_id is not None:
        body["request_id"] = request_id
    return body


# --------------------------------------------------------------------------- recording


class _Headers(Mapping[str, str]):
    """Read-only, case-insensitive request headers; repeated fields are joined with ", "."""

    __slots__ = ("_fields", "_index")

    def __init__(self, fields: Iterable[tuple[str, str]]) -> None:
        self._fields = tuple((name.lower(), value) for name, value in fields)
        index: dict[str, str] = {}
        for name, value in self._fields:
            index[name] = f"{index[name]}, {value}" if name in index else value
        self._index = index

    def __getitem__(self, key: str) -> str:
        if not isinstance(key, str):
            raise KeyError(key)
        return self._index[key.lower()]

    def __iter__(self) -> Iterator[str]:
        return iter(self._index)

    def __len__(self) -> int:
        return len(self._index)

    def get_list(self, key: str) -> list[str]:
        """Every value of a repeated header field, in the order received."""
        key = key.lower()
        return [value for name, value in self._fields if name == key]

    def __repr__(self) -> str:
        shown = {
            name: "<redacted>" if name in _SECRET_HEADERS else value
            for name, value in self._index.items()
        }
        return repr(shown)


@dataclass(frozen=True, slots=True, repr=False)
class RecordedRequest:
    """One request the mock server received, as it arrived.

    Attributes:
        method: the HTTP method, e.g. ``"POST"``.
        path: the request path without the query string, e.g. ``"/v1/messages"``.
        query: the parsed query string, every value as a list (``{"beta": ["true"]}``).
        headers: the request headers; a case-insensitive read-only mapping with lowercase
            keys, repeated fields joined with ``", "``.
        body: the raw request body (chunked bodies are already decoded).
        json: the body parsed as JSON, or ``None`` if it was empty or not JSON.
        request_id: the ``request-id`` the server put on its response.
        http_version: ``"HTTP/1.1"`` or ``"HTTP/1.0"``.

    The repr never shows the values of ``x-api-key``, ``authorization`` or cookies.
    """

    method: str
    path: str
    query: dict[str, list[str]]
    headers: Mapping[str, str]
    body: bytes
    json: Any
    request_id: str
    http_version: str = "HTTP/1.1"

    def __repr__(self) -> str:
        return (
            f"RecordedRequest(method={self.method!r}, path={self.path!r}, "
            f"query={self.query!r}, headers={self.headers!r}, "
            f"body=<{len(self.body)} bytes>, request_id={self.request_id!r})"
        )


# --------------------------------------------------------------------------- replies

_Kind = Literal["body", "stream", "drop"]
_ErrorSpec = tuple[int, str, str]


def _check_headers(headers: Mapping[str, str] | None) -> tuple[tuple[str, str], ...]:
    if headers is None:
        return ()
    checked: list[tuple[str, str]] = []
    for name, value in headers.items():
        if not _TOKEN_RE.fullmatch(name):
            raise ValueError(f"invalid response header name {name!r}")
        if "\r" in value or "\n" in value:
            raise ValueError(f"response header {name!r} contains a line break")
        try:
            value.encode("latin-1")
        except UnicodeEncodeError:
            raise ValueError(f"response header {name!r} is not latin-1 text") from None
        if name.lower() in _RESERVED_HEADERS:
            raise ValueError(
                f"the server sets {name.lower()!r} itself; remove it from the reply headers"
            )
        checked.append((name.lower(), value))
    return tuple(checked)


def _check_status(status: int) -> int:
    if not 200 <= status <= 599:
        raise ValueError(f"status must be a final HTTP status in 200..599, got {status}")
    return status


def _check_offset(name: str, value: int | None) -> int | None:
    if value is not None and value < 0:
        raise ValueError(f"{name} must be >= 0, got {value}")
    return value


def _split_events(transcript: bytes) -> list[bytes]:
    """Cut an SSE transcript after each blank line; a trailing partial event is kept."""
    events: list[bytes] = []
    start = 0
    for match in _SSE_EVENT_END_RE.finditer(transcript):
        events.append(transcript[start : match.end()])
        start = match.end()
    if start < len(transcript):
        events.append(transcript[start:])
    return events


def _encode_event(event: Mapping[str, Any]) -> bytes:
    event_type = event.get("type")
    if not isinstance(event_type, str):
        raise ValueError(f"every event needs a string 'type' field, got {event!r}")
    return b"event: %s\ndata: %s\n\n" % (
        event_type.encode(),
        msgspec.json.encode(dict(event)),
    )


class Reply:
    """What the mock server does for one request. Build one with a constructor:

    * :meth:`json` -- a JSON body with ``Content-Length``;
    * :meth:`error` -- the API's error body shape with an error status;
    * :meth:`sse` / :meth:`events` -- an SSE stream, ``Transfer-Encoding: chunked``;
    * :meth:`drop` -- read the request, then hang up without answering.

    Faults, keyword-only on :meth:`json`, :meth:`sse` and :meth:`events`:

    * ``drop_after=N``: send the first *N* bytes of the body, then close the connection
      without finishing it (for a chunked stream: no terminating chunk). The client sees
      a protocol error mid-body.
    * ``stall_after=N``: send the first *N* bytes of the body, then send nothing more and
      keep the connection open until the client hangs up or the server stops. The client
      sees a read timeout.
    * ``inject_error=(N, error_type, message)`` (streams only): send the first *N* events,
      then an ``event: error`` carrying ``error_type`` and ``message``, then end the
      stream cleanly -- what the API does when it overloads mid-stream.

    A reply is immutable: a routed reply is sent again for every matching request. Every
    response carries a fresh ``request-id: req_...`` header.
    """

    __slots__ = (
        "_body",
        "_chunk_size",
        "_delay",
        "_drop_after",
        "_error",
        "_headers",
        "_kind",
        "_stall_after",
        "_status",
        "_writes",
    )

    def __init__(
        self,
        *,
        _kind: _Kind,
        _status: int = 200,
        _headers: tuple[tuple[str, str], ...] = (),
        _body: bytes = b"",
        _writes: tuple[bytes, ...] = (),
        _error: tuple[str, str] | None = None,
        _chunk_size: int | None = None,
        _delay: float = 0.0,
        _drop_after: int | None = None,
        _stall_after: int | None = None,
    ) -> None:
        """Private; use :meth:`json`, :meth:`error`, :meth:`sse`, :meth:`events`, :meth:`drop`."""
        if _drop_after is not None and _stall_after is not None:
            raise ValueError("use drop_after or stall_after, not both")
        if _delay < 0:
            raise ValueError(f"delay must be >= 0, got {_delay}")
        self._kind: _Kind = _kind
        self._status = _check_status(_status)
        self._headers = _headers
        self._body = _body
        self._writes = _writes
        self._error = _error
        self._chunk_size = _chunk_size
        self._delay = _delay
        self._drop_after = _check_offset("drop_after", _drop_after)
        self._stall_after = _check_offset("stall_after", _stall_after)

    @classmethod
    def json(
        cls,
        body: object,
        *,
        status: int = 200,
        headers: Mapping[str, str] | None = None,
        drop_after: int | None = None,
        stall_after: int | None = None,
    ) -> Reply:
        """Reply with ``body`` encoded as JSON (``content-type: application/json``).

        Args:
            body: anything msgspec can encode (dicts, lists, Structs...); ``bytes`` are
                sent as they are, so malformed JSON can be served on purpose.
            status: the HTTP status.
            headers: extra response headers (e.g. ``anthropic-ratelimit-*``).
            drop_after: close the connection after this many body bytes.
            stall_after: stop sending after this many body bytes, keeping it open.

        Raises:
            ValueError: a bad status, header, or both faults at once.
        """
        raw = bytes(body) if isinstance(body, bytes | bytearray) else msgspec.json.encode(body)
        return cls(
            _kind="body",
            _status=status,
            _headers=(("content-type", "application/json"), *_check_headers(headers)),
            _body=raw,
            _drop_after=drop_after,
            _stall_after=stall_after,
        )

    @classmethod
    def error(
        cls,
        status: int,
        error_type: str,
        message: str,
        *,
        headers: Mapping[str, str] | None = None,
    ) -> Reply:
        """Reply with the API's error shape for an HTTP error status.

        The body is ``{"type": "error", "error": {"type": error_type, "message":
        message}, "request_id": "req_..."}`` with the id of the response it is sent on.

        Args:
            status: the HTTP status, e.g. ``529``.
            error_type: the API's ``error.type``, e.g. ``"overloaded_error"``.
            message: the ``error.message``.
            headers: extra response headers, e.g. ``{"retry-after": "2"}``.

        Raises:
            ValueError: a bad status or header.
        """
        return cls(
            _kind="body",
            _status=status,
            _headers=(("content-type", "application/json"), *_check_headers(headers)),
            _error=(error_type, message),
        )

    @classmethod
    def sse(
        cls,
        transcript: bytes,
        *,
        chunk_size: int | None = None,
        delay: float = 0.0,
        status: int = 200,
        headers: Mapping[str, str] | None = None,
        drop_after: int | None = None,
        stall_after: int | None = None,
        inject_error: _ErrorSpec | None = None,
    ) -> Reply:
        """Replay raw server-sent-event bytes as a chunked ``text/event-stream`` response.

        Args:
            transcript: the SSE bytes, exactly as they should reach the client.
            chunk_size: ``None`` sends one event per write (split after each blank
                line); an integer re-chunks the bytes at that fixed size, cutting events
                and even UTF-8 characters anywhere, as a real network may.
            delay: seconds to sleep between writes, for realistic pacing.
            status: the HTTP status.
            headers: extra response headers.
            drop_after: close the connection after this many body bytes.
            stall_after: stop sending after this many body bytes, keeping it open.
            inject_error: ``(n_events, error_type, message)``: after ``n_events`` events
                of the transcript, send ``event: error`` and end the stream.

        Raises:
            ValueError: a bad option, or both ``drop_after`` and ``stall_after``.
        """
        if chunk_size is not None and chunk_size < 1:
            raise ValueError(f"chunk_size must be >= 1, got {chunk_size}")
        events = _split_events(bytes(transcript))
        if inject_error is not None:
            after, error_type, message = inject_error
            if after < 0:
                raise ValueError(f"inject_error's event count must be >= 0, got {after}")
            error_event = {"type": "error", "error": {"type": error_type, "message": message}}
            events = [*events[:after], _encode_event(error_event)]
        if chunk_size is None:
            writes = tuple(events)
        else:
            data = b"".join(events)
            writes = tuple(data[i : i + chunk_size] for i in range(0, len(data), chunk_size))
        return cls(
            _kind="stream",
            _status=status,
            _headers=(
                ("content-type", "text/event-stream; charset=utf-8"),
                ("cache-control", "no-cache"),
                *_check_headers(headers),
            ),
            _writes=writes,
            _chunk_size=chunk_size,
            _delay=delay,
            _drop_after=drop_after,
            _stall_after=stall_after,
        )

    @classmethod
    def events(
        cls,
        events: Iterable[Mapping[str, Any]],
        *,
        chunk_size: int | None = None,
        delay: float = 0.0,
        status: int = 200,
        headers: Mapping[str, str] | None = None,
        drop_after: int | None = None,
        stall_after: int | None = None,
        inject_error: _ErrorSpec | None = None,
    ) -> Reply:
        """Stream event dicts, each as ``event: {type}\\ndata: {json}\\n\\n``.

        ``events`` are Messages streaming events such as ``{"type": "message_start",
        "message": {...}}``; every one needs a string ``type``. The other arguments are
        those of :meth:`sse`.

        Raises:
            ValueError: an event without ``type``, or a bad option.
        """
        transcript = b"".join(_encode_event(event) for event in events)
        return cls.sse(
            transcript,
            chunk_size=chunk_size,
            delay=delay,
            status=status,
            headers=headers,
            drop_after=drop_after,
            stall_after=stall_after,
            inject_error=inject_error,
        )

    @classmethod
    def drop(cls) -> Reply:
        """Read the request, then close the connection without any response.

        The client sees a connection error ("server disconnected without sending a
        response"), as when a load balancer drops a request.
        """
        return cls(_kind="drop")

    def _body_for(self, request_id: str) -> bytes:
        if self._error is not None:
            return msgspec.json.encode(_error_body(*self._error, request_id))
        return self._body

    def __repr__(self) -> str:
        if self._kind == "drop":
            return "Reply.drop()"
        if self._kind == "body":
            what = "error" if self._error is not None else "json"
            size = f"{len(self._body)} bytes" if self._error is None else repr(self._error[0])
        else:
            what = "sse"
            size = f"{len(self._writes)} writes, {sum(map(len, self._writes))} bytes"
        faults = "".join(
            f", {name}={value!r}"
            for name, value in (
                ("delay", self._delay or None),
                ("drop_after", self._drop_after),
                ("stall_after", self._stall_after),
            )
            if value is not None
        )
        return f"Reply.{what}(status={self._status}, {size}{faults})"


#: A reply, or a function of the request returning one (possibly async).
_Handler = Reply | Callable[[RecordedRequest], "Reply | Awaitable[Reply]"]


# --------------------------------------------------------------------------- HTTP parsing


class _ProtocolError(Exception):
    """A request the parser cannot accept; answered with ``status`` and then closed."""

    def __init__(self, status: int, error_type: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.error_type = error_type
        self.message = message


@dataclass(slots=True)
class _Request:
    method: str
    target: str
    http_version: str
    headers: list[tuple[str, str]]
    body: bytes = b""
    keep_alive: bool = True


_State = Literal["head", "length", "chunk_size", "chunk_data", "chunk_end", "trailers"]


@dataclass(slots=True)
class _RequestParser:
    """Sans-I/O HTTP/1.1 request parser (RFC 9112): ``feed()`` bytes, ``next_request()``.

    Pipelined requests are fine: bytes past one request stay buffered for the next. The
    head is bounded by ``max_head_size`` (else 431) and the body by ``max_body_size``
    (else 413); anything malformed raises :class:`_ProtocolError` with a 4xx/5xx status.
    """

    max_head_size: int = _MAX_HEAD_SIZE
    max_body_size: int = _MAX_BODY_SIZE
    _buffer: bytearray = field(default_factory=bytearray)
    _state: _State = "head"
    _request: _Request | None = None
    _remaining: int = 0
    _body: bytearray = field(default_factory=bytearray)
    _continue: Literal["no", "wanted", "sent"] = "no"

    def feed(self, data: bytes) -> None:
        """Append bytes received from the client."""
        self._buffer += data

    @property
    def idle(self) -> bool:
        """True between requests with nothing buffered: EOF here is a clean hang-up."""
        return self._state == "head" and not self._buffer.strip(b"\r\n")

    @property
    def wants_continue(self) -> bool:
        """The client sent ``Expect: 100-continue`` and waits for the interim response."""
        return self._continue == "wanted"

    def continue_sent(self) -> None:
        """Record that ``100 Continue`` went out."""
        self._continue = "sent"

    def next_request(self) -> _Request | None:
        """The next complete request, or ``None`` until more bytes are fed.

        Raises:
            _ProtocolError: the bytes are not an acceptable HTTP/1.x request.
        """
        while True:
            if self._state == "head":
                if not self._parse_head():
                    return None
            elif self._state == "length":
                if len(self._buffer) < self._remaining:
                    return None
                self._body += self._take(self._remaining)
                return self._finish()
            elif self._state == "chunk_size":
                line = self._take_line(_MAX_CHUNK_LINE, "chunk-size line")
                if line is None:
                    return None
                size_text = line.split(b";", 1)[0].strip(b" \t")
                if not _HEX_RE.fullmatch(size_text):
                    raise _ProtocolError(400, "invalid_request_error", "malformed chunk size")
                size = int(size_text, 16)
                if len(self._body) + size > self.max_body_size:
                    raise self._too_large()
                self._remaining = size
                self._state = "chunk_data" if size else "trailers"
            elif self._state == "chunk_data":
                if len(self._buffer) < self._remaining:
                    return None
                self._body += self._take(self._remaining)
                self._state = "chunk_end"
            elif self._state == "chunk_end":
                line = self._take_line(_MAX_CHUNK_LINE, "chunk")
                if line is None:
                    return None
                if line:
                    raise _ProtocolError(400, "invalid_request_error", "chunk data overran")
                self._state = "chunk_size"
            else:  # trailers: read and ignore up to the blank line (RFC 9112 section 7.1.2)
                line = self._take_line(self.max_head_size, "trailer section")
                if line is None:
                    return None
                if not line:
                    return self._finish()

    def _take(self, count: int) -> bytes:
        data = bytes(self._buffer[:count])
        del self._buffer[:count]
        return data

    def _take_line(self, limit: int, what: str) -> bytes | None:
        end = self._buffer.find(b"\n", 0, limit + 1)
        if end < 0:
            if len(self._buffer) > limit:
                raise _ProtocolError(400, "invalid_request_error", f"{what} too long")
            return None
        line = self._take(end + 1)
        return line.rstrip(b"\n").removesuffix(b"\r")

    def _too_large(self) -> _ProtocolError:
        return _ProtocolError(
            413,
            "request_too_large",
            f"request body exceeds the mock server's limit of {self.max_body_size} bytes",
        )

    def _finish(self) -> _Request:
        request = self._request
        assert request is not None
        request.body = bytes(self._body)
        self._request = None
        self._body = bytearray()
        self._state = "head"
        self._continue = "no"
        return request

    def _parse_head(self) -> bool:
        # RFC 9112 section 2.2: ignore empty lines before the request line.
        while self._buffer[:2] == b"\r\n" or self._buffer[:1] == b"\n":
            del self._buffer[: 2 if self._buffer[:1] == b"\r" else 1]
        match = _HEAD_END_RE.search(self._buffer, 0, self.max_head_size + 4)
        if match is None:
            if len(self._buffer) > self.max_head_size:
                raise _ProtocolError(
                    431, "invalid_request_error", "request line and headers too large"
                )
            return False
        head = self._take(match.end())[: match.start()].decode("latin-1")
        lines = [line.removesuffix("\r") for line in head.split("\n")]
        request = self._parse_request_line(lines[0])
        request.headers = self._parse_fields(lines[1:])
        self._request = request
        self._set_framing(request)
        return True

    @staticmethod
    def _parse_request_line(line: str) -> _Request:
        parts = line.split(" ")
        if len(parts) != 3 or not _TOKEN_RE.fullmatch(parts[0]) or not parts[1]:
            raise _ProtocolError(400, "invalid_request_error", "malformed request line")
        method, target, version = parts
        if version not in ("HTTP/1.1", "HTTP/1.0"):
            if re.fullmatch(r"HTTP/\d(\.\d)?", version):
                raise _ProtocolError(
                    505, "invalid_request_error", f"{version} is not supported; use HTTP/1.1"
                )
            raise _ProtocolError(400, "invalid_request_error", "malformed HTTP version")
        return _Request(method=method, target=target, http_version=version, headers=[])

    @staticmethod
    def _parse_fields(lines: list[str]) -> list[tuple[str, str]]:
        fields: list[tuple[str, str]] = []
        for line in lines:
            if line[:1] in (" ", "\t"):
                # Obsolete line folding: RFC 9112 section 5.2 lets a server reject it.
                raise _ProtocolError(400, "invalid_request_error", "obsolete header folding")
            name, colon, value = line.partition(":")
            if not colon or not _TOKEN_RE.fullmatch(name):
                raise _ProtocolError(400, "invalid_request_error", "malformed header field")
            fields.append((name, value.strip(" \t")))
        return fields

    def _set_framing(self, request: _Request) -> None:
        headers = _Headers(request.headers)
        connection = {t.strip().lower() for t in headers.get("connection", "").split(",")}
        if request.http_version == "HTTP/1.1":
            request.keep_alive = "close" not in connection
        else:
            request.keep_alive = "keep-alive" in connection
        transfer_encoding = headers.get("transfer-encoding")
        lengths = {v.strip() for v in ",".join(headers.get_list("content-length")).split(",")}
        lengths.discard("")
        if transfer_encoding is not None:
            if lengths:
                # Both framings at once is the request-smuggling shape (RFC 9112 6.3).
                raise _ProtocolError(
                    400, "invalid_request_error", "both Transfer-Encoding and Content-Length"
                )
            codings = [c.strip().lower() for c in transfer_encoding.split(",")]
            if codings != ["chunked"]:
                raise _ProtocolError(
                    501, "invalid_request_error", "only chunked transfer-coding is supported"
                )
            self._state = "chunk_size"
        elif lengths:
            if len(lengths) != 1 or not next(iter(lengths)).isdigit():
                raise _ProtocolError(400, "invalid_request_error", "invalid Content-Length")
            self._remaining = int(next(iter(lengths)))
            if self._remaining > self.max_body_size:
                raise self._too_large()
            self._state = "length"
        else:
            self._remaining = 0
            self._state = "length"
        expects = headers.get("expect", "").strip().lower() == "100-continue"
        has_body = self._state != "length" or self._remaining > 0
        if expects and has_body and request.http_version == "HTTP/1.1":
            self._continue = "wanted"


# --------------------------------------------------------------------------- the server


def _record(request: _Request, request_id: str) -> RecordedRequest:
    target = request.target
    if not target.startswith("/"):
        # absolute-form (RFC 9112 section 3.2.2), e.g. sent through a proxy.
        split = urllib.parse.urlsplit(target)
        target = (split.path or "/") + (f"?{split.query}" if split.query else "")
    path, _, query = target.partition("?")
    parsed_json: Any = None
    if request.body:
        try:
            parsed_json = msgspec.json.decode(request.body)
        except msgspec.DecodeError:
            parsed_json = None
    return RecordedRequest(
        method=request.method,
        path=path,
        query=urllib.parse.parse_qs(query, keep_blank_values=True),
        headers=_Headers(request.headers),
        body=request.body,
        json=parsed_json,
        request_id=request_id,
        http_version=request.http_version,
    )


class MockAnthropic:
    """A local HTTP/1.1 server that answers like the Anthropic API, for tests and demos.

    Use it as an async context manager; it listens on ``127.0.0.1`` on a free port while
    the block runs, on asyncio and on trio::

        async with MockAnthropic() as server:
            server.enqueue(Reply.json({"type": "message", ...}))
            async with httpx.AsyncClient(base_url=server.base_url) as client:
                response = await client.post("/v1/messages", json={...})
            assert server.requests[0].json["model"] == "claude-sonnet-4-5"

    For each request the reply is, in order: the next one :meth:`enqueue`-d (whatever the
    path), else the most specific :meth:`route` matching method and path, else
    ``default``, else a 404 ``not_found_error`` in the API's error shape. Every request
    is appended to :attr:`requests` before it is answered.

    Args:
        default: the reply (or a function of the request returning one) used when the
            queue is empty and no route matches.

    Leaving the block closes the listener and every open connection at once, stalled
    streams included. If a reply function raised, the client got a 500 ``api_error`` and
    the exception is re-raised when the block exits.
    """

    def __init__(self, *, default: _Handler | None = None) -> None:
        #: Every request received, in order of arrival.
        self.requests: list[RecordedRequest] = []
        self._default = default
        self._queue: deque[_Handler] = deque()
        self._routes: list[tuple[str, str, _Handler]] = []
        self._base_url: str | None = None
        self._listener: anyio.abc.Listener[anyio.abc.SocketStream] | None = None
        self._task_group: anyio.abc.TaskGroup | None = None
        self._state: Literal["new", "running", "closed"] = "new"
        self._handler_errors: list[Exception] = []

    def __repr__(self) -> str:
        where = self._base_url or self._state
        return f"<MockAnthropic {where}, {len(self.requests)} requests, {self.pending} queued>"

    @property
    def base_url(self) -> str:
        """``"http://127.0.0.1:PORT"``; pass it as the client's ``base_url``.

        Raises:
            RuntimeError: the server is not running (use ``async with``).
        """
        if self._base_url is None:
            raise RuntimeError("MockAnthropic is not started; use `async with MockAnthropic()`")
        return self._base_url

    @property
    def pending(self) -> int:
        """How many enqueued replies have not been used yet."""
        return len(self._queue)

    def enqueue(self, *replies: _Handler) -> None:
        """Queue replies, used first-in first-out, one per request, whatever its path.

        Each item is a :class:`Reply` or a function ``(RecordedRequest) -> Reply`` (may
        be async).
        """
        for reply in replies:
            _check_handler(reply)
        self._queue.extend(replies)

    def route(self, method: str, path: str, reply: _Handler) -> None:
        """Answer ``method path`` with ``reply`` whenever the queue is empty.

        Args:
            method: an HTTP method, or ``"*"`` for any.
            path: an exact path such as ``"/v1/models"``, or a prefix ending in ``*``
                (``"/v1/models/*"``). Exact routes win over prefixes, longer prefixes
                over shorter. Routing the same method and path again replaces it.
            reply: a :class:`Reply`, sent for every match, or a function of the
                request returning one (may be async).
        """
        _check_handler(reply)
        method = method.upper()
        self._routes = [r for r in self._routes if (r[0], r[1]) != (method, path)]
        self._routes.append((method, path, reply))

    async def __aenter__(self) -> Self:
        """Start listening on 127.0.0.1 and serving in a background task group."""
        if self._state != "new":
            raise RuntimeError("a MockAnthropic can be started only once; create a new one")
        self._state = "running"
        listener = await anyio.create_tcp_listener(local_host="127.0.0.1", local_port=0)
        try:
            port = listener.extra(anyio.abc.SocketAttribute.local_port)
            task_group = anyio.create_task_group()
            await task_group.__aenter__()
        except BaseException:
            with anyio.CancelScope(shield=True):
                await listener.aclose()
            raise
        self._listener = listener
        self._task_group = task_group
        self._base_url = f"http://127.0.0.1:{port}"
        task_group.start_soon(listener.serve, self._serve_connection)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> bool | None:
        """Stop: close the listener and every connection, without waiting for clients."""
        assert self._task_group is not None and self._listener is not None
        self._state = "closed"
        self._base_url = None
        self._task_group.cancel_scope.cancel()
        try:
            suppress = await self._task_group.__aexit__(exc_type, exc, tb)
        finally:
            with anyio.CancelScope(shield=True):
                await self._listener.aclose()
        if exc_type is None and self._handler_errors:
            error = self._handler_errors[0]
            error.add_note("sluice.testing: raised by a MockAnthropic reply function")
            raise error
        return suppress

    # -- per connection

    async def _serve_connection(self, stream: anyio.abc.SocketStream) -> None:
        try:
            parser = _RequestParser()
            while True:
                try:
                    request = await _read_request(stream, parser)
                except _ProtocolError as exc:
                    await _send_protocol_error(stream, exc)
                    await _linger(stream)
                    return
                if request is None:
                    return
                outcome = await self._respond(stream, request)
                if outcome == "stalled":
                    await _wait_for_hang_up(stream)
                    return
                if outcome == "close":
                    await _linger(stream)
                    return
        except _CLIENT_GONE:
            # The client hung up (possibly mid-stream): there is no one left to answer.
            return
        finally:
            with anyio.CancelScope(shield=True):
                await stream.aclose()

    async def _respond(
        self, stream: anyio.abc.SocketStream, request: _Request
    ) -> Literal["keep-alive", "close", "stalled"]:
        request_id = _new_request_id()
        recorded = _record(request, request_id)
        self.requests.append(recorded)
        reply = await self._reply_for(recorded)
        if reply._kind == "drop":
            return "close"

        keep_alive = request.keep_alive and not any(
            name == "connection" and "close" in value.lower() for name, value in reply._headers
        )
        # HTTP/1.0 has no chunked coding: a stream is then delimited by closing.
        chunked = reply._kind == "stream" and request.http_version == "HTTP/1.1"
        if reply._kind == "stream" and not chunked:
            keep_alive = False
        body = reply._body_for(request_id)
        writes = reply._writes if reply._kind == "stream" else (body,)

        head = [f"HTTP/1.1 {reply._status} {_reason(reply._status)}"]
        head += [f"{name}: {value}" for name, value in reply._headers if name != "connection"]
        head.append(f"request-id: {request_id}")
        if chunked:
            head.append("transfer-encoding: chunked")
        elif reply._kind == "body":
            head.append(f"content-length: {len(body)}")
        head.append(f"connection: {'keep-alive' if keep_alive else 'close'}")
        await stream.send(("\r\n".join(head) + "\r\n\r\n").encode("latin-1"))
        if request.method == "HEAD":
            return "keep-alive" if keep_alive else "close"

        cut = await _send_body(
            stream,
            writes,
            chunked=chunked,
            delay=reply._delay,
            limit=reply._drop_after if reply._drop_after is not None else reply._stall_after,
        )
        if cut:
            return "stalled" if reply._stall_after is not None else "close"
        return "keep-alive" if keep_alive else "close"

    async def _reply_for(self, request: RecordedRequest) -> Reply:
        handler = self._queue.popleft() if self._queue else self._match(request)
        if handler is None:
            return Reply.error(
                404,
                "not_found_error",
                f"sluice.testing: nothing queued and no route for {request.method} "
                f"{request.path}; use MockAnthropic.enqueue() or .route()",
            )
        if isinstance(handler, Reply):
            return handler
        try:
            result = handler(request)
            reply = await result if inspect.isawaitable(result) else result
            if not isinstance(reply, Reply):
                raise TypeError(f"reply function returned {type(reply).__name__}, not Reply")
        except Exception as exc:
            # The test learns about it twice: the client gets a 500 now and the exception
            # is re-raised when the server's block exits.
            self._handler_errors.append(exc)
            return Reply.error(500, "api_error", f"sluice.testing: reply function raised {exc!r}")
        return reply

    def _match(self, request: RecordedRequest) -> _Handler | None:
        best: tuple[int, _Handler] | None = None
        for method, pattern, handler in self._routes:
            if method not in ("*", request.method):
                continue
            if pattern.endswith("*"):
                prefix = pattern[:-1]
                rank = len(prefix) if request.path.startswith(prefix) else -1
            else:
                rank = 1 << 30 if request.path == pattern else -1
            if rank >= 0 and (best is None or rank > best[0]):
                best = (rank, handler)
        if best is not None:
            return best[1]
        return self._default


def _check_handler(handler: object) -> None:
    if not isinstance(handler, Reply) and not callable(handler):
        raise TypeError(
            f"expected a Reply or a function returning one, got {type(handler).__name__}; "
            "wrap a dict in Reply.json(...)"
        )


async def _read_request(stream: anyio.abc.SocketStream, parser: _RequestParser) -> _Request | None:
    """The next request on the connection, or ``None`` if the client hung up first."""
    while True:
        request = parser.next_request()
        if request is not None:
            return request
        if parser.wants_continue:
            await stream.send(b"HTTP/1.1 100 Continue\r\n\r\n")
            parser.continue_sent()
        try:
            data = await stream.receive(_RECEIVE_SIZE)
        except anyio.EndOfStream:
            return None
        parser.feed(data)


async def _send_protocol_error(stream: anyio.abc.SocketStream, exc: _ProtocolError) -> None:
    request_id = _new_request_id()
    body = msgspec.json.encode(_error_body(exc.error_type, exc.message, request_id))
    head = (
        f"HTTP/1.1 {exc.status} {_reason(exc.status)}\r\n"
        "content-type: application/json\r\n"
        f"request-id: {request_id}\r\n"
        f"content-length: {len(body)}\r\n"
        "connection: close\r\n\r\n"
    )
    await stream.send(head.encode("latin-1") + body)


async def _send_body(
    stream: anyio.abc.SocketStream,
    writes: Sequence[bytes],
    *,
    chunked: bool,
    delay: float,
    limit: int | None,
) -> bool:
    """Send the body writes; True if ``limit`` bytes cut it short (a fault fired)."""
    sent = 0
    for index, piece in enumerate(writes):
        if index and delay > 0:
            await anyio.sleep(delay)
        cut = limit is not None and sent + len(piece) >= limit
        if limit is not None and cut:
            piece = piece[: limit - sent]
        if piece:
            # One HTTP chunk per write (RFC 9112 section 7.1), so the client's reads see
            # the same boundaries the reply asked for.
            await stream.send(b"%x\r\n%s\r\n" % (len(piece), piece) if chunked else piece)
            sent += len(piece)
        if cut:
            return True
    if limit is not None and sent >= limit and not writes:
        return True
    if chunked:
        await stream.send(b"0\r\n\r\n")
    return False


async def _linger(stream: anyio.abc.SocketStream) -> None:
    """Half-close and wait (bounded) for the client to hang up before closing.

    Closing at once could reset the connection while the response still sits in a send
    buffer (asyncio's transport discards it on abort), losing bytes the client should get.
    """
    try:
        await stream.send_eof()
    except OSError:
        # The client hung up first (ENOTCONN on trio): nothing left to linger for.
        return
    with anyio.move_on_after(_LINGER_SECONDS):
        await _wait_for_hang_up(stream)


async def _wait_for_hang_up(stream: anyio.abc.SocketStream) -> None:
    """Discard whatever the client sends until it closes the connection."""
    try:
        while True:
            await stream.receive(_RECEIVE_SIZE)
    except _CLIENT_GONE:
        return


@asynccontextmanager
async def serve(*, default: _Handler | None = None) -> AsyncIterator[MockAnthropic]:
    """``async with serve() as server:`` -- the same as ``async with MockAnthropic()``.

    Args:
        default: passed to :class:`MockAnthropic`.
    """
    async with MockAnthropic(default=default) as server:
        yield server
