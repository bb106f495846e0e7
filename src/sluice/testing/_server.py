"""A real HTTP/1.1 server on 127.0.0.1 that plays the Anthropic API for tests and demos.

The data path, top to bottom:

* :class:`MockAnthropic` accepts TCP connections with anyio (so it runs on asyncio and
  trio) and speaks HTTP/1.1 through h11, the sans-I/O protocol machine httpcore uses:
  h11 parses requests (``Content-Length`` and ``chunked`` bodies, keep-alive, pipelining,
  ``Expect: 100-continue``) and frames responses. :func:`_read_request` bounds what it
  buffers (head 431, body 413) and turns malformed input into :class:`_ProtocolError`.
* Each request is recorded as a :class:`RecordedRequest`; a :class:`Reply` is picked
  (queue, then routes, then the default, then 404) and written out.
* :class:`Reply` describes one response: a JSON body with ``Content-Length``, or an SSE
  stream sent with ``Transfer-Encoding: chunked`` so each write reaches the client as it
  happens, optionally broken on purpose (dropped, stalled, or cut by an ``error`` event):
  a fault simply stops feeding h11 before the message ends.
"""

from __future__ import annotations

import inspect
import os
import re
import secrets
import time
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
from dataclasses import dataclass
from http import HTTPStatus
from pathlib import Path
from types import TracebackType
from typing import Any, Final, Literal, Self

import anyio
import anyio.abc
import h11
import msgspec

from .._core._curl import is_secret_header
from ._ratelimit import RateLimit

__all__ = ["MockAnthropic", "RecordedRequest", "Reply", "serve"]

#: Response headers the server computes itself; a Reply may not set them.
_RESERVED_HEADERS: Final = frozenset({"content-length", "transfer-encoding", "request-id"})

#: The Messages API accepts request bodies up to 32 MB; larger ones get 413.
_MAX_BODY_SIZE: Final = 32 * 1024 * 1024
#: Request line plus headers (and any chunk-size line or trailer section): h11's
#: ``max_incomplete_event_size``; larger ones get 431.
_MAX_HEAD_SIZE: Final = 64 * 1024
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
            name: "<redacted>" if is_secret_header(name) else value  # in every repr
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
        "_pauses",
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
        _pauses: tuple[float, ...] = (),
    ) -> None:
        """Private; use :meth:`json`, :meth:`error`, :meth:`sse`, :meth:`events`, :meth:`drop`.

        ``_pauses[i]``: extra seconds to wait before write ``i`` (scripted turns' pacing).
        """
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
        self._pauses = _pauses
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
        transcript: bytes | os.PathLike[str],
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
            transcript: the SSE bytes, exactly as they should reach the client, or the
                path of a file holding them (a recorded ``.sse`` transcript).
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
            TypeError: ``transcript`` is neither bytes nor a path (a ``str`` is
                ambiguous: pass ``text.encode()`` or ``Path(name)``).
        """
        if chunk_size is not None and chunk_size < 1:
            raise ValueError(f"chunk_size must be >= 1, got {chunk_size}")
        if isinstance(transcript, os.PathLike):
            transcript = Path(transcript).read_bytes()
        elif not isinstance(transcript, bytes | bytearray | memoryview):
            raise TypeError(
                "Reply.sse() takes the transcript as bytes or the path of a file, got "
                f"{type(transcript).__name__}"
            )
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


# --------------------------------------------------------------------------- HTTP reading


class _ProtocolError(Exception):
    """A request the server will not accept; answered with ``status`` and then closed."""

    def __init__(self, status: int, error_type: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.error_type = error_type
        self.message = message


def _too_large() -> _ProtocolError:
    return _ProtocolError(
        413,
        "request_too_large",
        f"request body exceeds the mock server's limit of {_MAX_BODY_SIZE} bytes",
    )


@dataclass(slots=True)
class _Request:
    method: str
    target: str
    http_version: str
    headers: list[tuple[str, str]]
    body: bytes


def _check_request(event: h11.Request) -> None:
    """Refuse what h11 lets through but this server will not serve.

    Raises:
        _ProtocolError: HTTP/2+ on an HTTP/1 connection (505), both framings at once (400),
            or a ``Content-Length`` over the body limit (413, before the body is read).
    """
    if event.http_version not in (b"1.0", b"1.1"):
        version = event.http_version.decode("ascii")
        raise _ProtocolError(
            505, "invalid_request_error", f"HTTP/{version} is not supported; use HTTP/1.1"
        )
    names = {name for name, _ in event.headers}
    if b"transfer-encoding" in names and b"content-length" in names:
        # h11 lets Transfer-Encoding win (RFC 9112 section 6.3); a request carrying both
        # is the request-smuggling shape, and this server refuses it outright.
        raise _ProtocolError(
            400, "invalid_request_error", "both Transfer-Encoding and Content-Length"
        )
    for name, value in event.headers:
        if name == b"content-length" and int(value) > _MAX_BODY_SIZE:
            raise _too_large()


async def _read_request(stream: anyio.abc.SocketStream, conn: h11.Connection) -> _Request | None:
    """The next complete request on the connection, or ``None`` if the client hung up.

    h11 parses and bounds the head (``max_incomplete_event_size``, else 431) and decodes
    ``Content-Length`` and ``chunked`` bodies; the body is bounded here (else 413).

    Raises:
        _ProtocolError: a malformed or refused request, with the status to answer.
    """
    request: h11.Request | None = None
    body = bytearray()
    while True:
        try:
            event = conn.next_event()
        except h11.RemoteProtocolError as exc:
            status = exc.error_status_hint
            raise _ProtocolError(status, "invalid_request_error", str(exc)) from exc
        if event is h11.NEED_DATA:
            if conn.they_are_waiting_for_100_continue:
                interim = h11.InformationalResponse(status_code=100, headers=[], reason="Continue")
                await _send(stream, conn, interim)
            try:
                data = await stream.receive(_RECEIVE_SIZE)
            except anyio.EndOfStream:
                # Between requests this is a clean hang-up; mid-request there is no one
                # left to tell what was wrong.
                return None
            conn.receive_data(data)
        elif isinstance(event, h11.Request):
            _check_request(event)
            request = event
        elif isinstance(event, h11.Data):
            if len(body) + len(event.data) > _MAX_BODY_SIZE:
                raise _too_large()
            body += event.data
        elif isinstance(event, h11.EndOfMessage):
            # Trailer fields (RFC 9112 section 7.1.2) are read and ignored.
            assert request is not None
            return _Request(
                method=request.method.decode("ascii"),
                target=request.target.decode("latin-1"),
                http_version=f"HTTP/{request.http_version.decode('ascii')}",
                headers=[(n.decode("ascii"), v.decode("latin-1")) for n, v in request.headers],
                body=bytes(body),
            )
        else:  # ConnectionClosed (or PAUSED, which a served cycle never leaves behind)
            return None


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
        self._rate_limit: RateLimit | None = None

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

    def rate_limit(self, requests: int, *, window: float = 60.0) -> RateLimit:
        """Limit every request to ``requests`` per ``window`` seconds, as the API does.

        Each request is counted as it arrives. Within the limit it is answered as usual
        (queue, routes, default) and the response carries
        ``anthropic-ratelimit-requests-{limit,remaining,reset}`` (unless the reply sets
        them); over it, it gets ``429 rate_limit_error`` with ``retry-after`` and the same
        headers, and no queued reply is used. Windows are fixed and aligned on the wall
        clock (see :class:`RateLimit`). Calling it again replaces the limit.

        Returns:
            the :class:`RateLimit`, whose counters (``served``, ``rejected``,
            ``most_in_a_window``) say what happened.
        """
        self._rate_limit = RateLimit(requests, window=window)
        return self._rate_limit

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
            conn = h11.Connection(h11.SERVER, max_incomplete_event_size=_MAX_HEAD_SIZE)
            while True:
                try:
                    request = await _read_request(stream, conn)
                except _ProtocolError as exc:
                    await _send_protocol_error(stream, conn, exc)
                    await _linger(stream)
                    return
                if request is None:
                    return
                outcome = await self._respond(stream, conn, request)
                if outcome == "stalled":
                    await _wait_for_hang_up(stream)
                    return
                if outcome == "close" or conn.our_state is not h11.DONE:
                    # h11 says MUST_CLOSE after "Connection: close" from either side, an
                    # HTTP/1.0 client, or a close-delimited body.
                    await _linger(stream)
                    return
                conn.start_next_cycle()
        except _CLIENT_GONE:
            # The client hung up (possibly mid-stream): there is no one left to answer.
            return
        finally:
            with anyio.CancelScope(shield=True):
                await stream.aclose()

    async def _respond(
        self, stream: anyio.abc.SocketStream, conn: h11.Connection, request: _Request
    ) -> Literal["complete", "close", "stalled"]:
        """Answer one request through h11; a fault cuts h11's output short."""
        request_id = _new_request_id()
        recorded = _record(request, request_id)
        self.requests.append(recorded)
        limits = self._rate_limit
        allowed, limited = (True, {}) if limits is None else limits.admit(time.time())
        if allowed:
            reply = await self._reply_for(recorded)
        else:
            assert limits is not None
            reply = Reply.error(
                429,
                "rate_limit_error",
                f"sluice.testing: over the rate limit of {limits.limit} requests per "
                f"{limits.window:g} s",
            )
        if reply._kind == "drop":
            return "close"

        body = reply._body_for(request_id)
        named = {name.lower() for name, _ in reply._headers}
        headers = [
            *reply._headers,
            *((name, value) for name, value in limited.items() if name not in named),
            ("request-id", request_id),
        ]
        if reply._kind == "body":
            headers.append(("content-length", str(len(body))))
        # A stream sets no framing header: h11 picks chunked coding for an HTTP/1.1 client
        # (so each write below reaches the client as one chunk, RFC 9112 section 7.1) and
        # a close-delimited body for HTTP/1.0, which has no chunked coding.
        await _send(
            stream,
            conn,
            h11.Response(status_code=reply._status, headers=headers, reason=_reason(reply._status)),
        )
        if request.method != "HEAD":
            writes = reply._writes if reply._kind == "stream" else (body,)
            limit = reply._drop_after if reply._drop_after is not None else reply._stall_after
            if await _send_body(
                stream, conn, writes, delay=reply._delay, limit=limit, pauses=reply._pauses
            ):
                return "stalled" if reply._stall_after is not None else "close"
        await _send(stream, conn, h11.EndOfMessage())
        return "complete"

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


async def _send(stream: anyio.abc.SocketStream, conn: h11.Connection, event: h11.Event) -> None:
    """Serialize ``event`` with h11 and write the bytes, if it produced any."""
    data = conn.send(event)
    if data:
        await stream.send(data)


async def _send_protocol_error(
    stream: anyio.abc.SocketStream, conn: h11.Connection, exc: _ProtocolError
) -> None:
    """Answer a refused request in the API's error shape, announcing the close."""
    request_id = _new_request_id()
    body = msgspec.json.encode(_error_body(exc.error_type, exc.message, request_id))
    headers = [
        ("content-type", "application/json"),
        ("request-id", request_id),
        ("content-length", str(len(body))),
        ("connection", "close"),
    ]
    # h11 lets a server answer even a request it could not parse (its state is still IDLE
    # or SEND_RESPONSE after a RemoteProtocolError).
    response = h11.Response(status_code=exc.status, headers=headers, reason=_reason(exc.status))
    await _send(stream, conn, response)
    await _send(stream, conn, h11.Data(data=body))
    await _send(stream, conn, h11.EndOfMessage())


async def _send_body(
    stream: anyio.abc.SocketStream,
    conn: h11.Connection,
    writes: Sequence[bytes],
    *,
    delay: float,
    limit: int | None,
    pauses: Sequence[float] = (),
) -> bool:
    """Send the body writes; True if ``limit`` bytes cut it short (a fault fired).

    Each write is one h11 ``Data`` event: one HTTP chunk for a chunked response. A cut
    sends the first ``limit`` bytes as a last, shorter write and never the end of the
    message, so the client sees the body stop mid-way (no terminating chunk, or fewer
    bytes than ``Content-Length``).
    """
    sent = 0
    for index, piece in enumerate(writes):
        if index and delay > 0:
            await anyio.sleep(delay)
        if index < len(pauses) and pauses[index] > 0:
            await anyio.sleep(pauses[index])
        cut = limit is not None and sent + len(piece) >= limit
        if limit is not None and cut:
            piece = piece[: limit - sent]
        if piece:
            await _send(stream, conn, h11.Data(data=piece))
            sent += len(piece)
        if cut:
            return True
    return limit is not None and sent >= limit and not writes


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
