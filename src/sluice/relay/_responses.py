"""Reading a chat to a client: SSE responses (native or Vercel) and websockets, on Starlette.

These are the building blocks of the relay's own routes, public for apps with routes of
their own (see ``examples/relay/mount.py``): :func:`sse_response` answers a ``GET`` with a
chat's log from a position, then live; :func:`serve_websocket` does the same over an
accepted websocket. Neither ever blocks the writer: each reads the durable log at its own
pace.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncGenerator
from contextlib import aclosing
from typing import Final, Literal

import anyio
import msgspec
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.types import Send
from starlette.websockets import WebSocket, WebSocketDisconnect

from .._core._exceptions import RedisError
from ._store import ChatNotFoundError, Entry, InvalidPositionError, Store, trimmed_entry
from ._vercel import VERCEL_HEADERS, VercelEncoder

__all__ = [
    "DEFAULT_HEARTBEAT",
    "error_response",
    "Format",
    "store_unavailable",
    "parse_position",
    "serve_websocket",
    "sse_frame",
    "sse_response",
    "ws_message",
]

Format = Literal["native", "vercel"]

logger = logging.getLogger("sluice.relay")

#: Seconds of silence after which an SSE comment / websocket heartbeat goes out.
DEFAULT_HEARTBEAT: Final = 5.0
#: Reconnection delay the relay asks EventSource clients to use (milliseconds).
_RETRY_MS: Final = 1000
_HEARTBEAT_FRAME: Final = b": heartbeat\n\n"
_SSE_HEADERS: Final = {"cache-control": "no-cache", "x-accel-buffering": "no"}
#: Seconds a websocket client has to say where it is before the relay starts from 0.
_WS_HELLO_TIMEOUT: Final = 10.0
_WS_UNAVAILABLE: Final = "the relay's store is unavailable; reconnect later with your last id"


def sse_frame(entry: Entry) -> bytes:
    """One entry as an SSE frame: ``id: N``, ``event: TYPE``, ``data: JSON``.

    The ``log_trimmed_error`` entry repeats the reader's position and gets no ``id:``.
    """
    if entry.trimmed:
        return b"event: error\ndata: %s\n\n" % entry.data
    return b"id: %d\nevent: %s\ndata: %s\n\n" % (entry.id, entry.event.encode(), entry.data)


def ws_message(entry: Entry) -> str:
    """One entry as a websocket text message: ``{"id": N, "event": TYPE, "data": {...}}``.

    ``id`` is ``null`` for the ``log_trimmed_error`` entry.
    """
    entry_id = b"null" if entry.trimmed else b"%d" % entry.id
    return (
        b'{"id":%s,"event":%s,"data":%s}' % (entry_id, msgspec.json.encode(entry.event), entry.data)
    ).decode()


def parse_position(value: str | None) -> int:
    """A reader's position from ``Last-Event-ID`` / ``?after=`` (``None`` or ``""`` -> 0).

    Raises:
        InvalidPositionError: not a non-negative decimal integer of at most 18 digits
            (also a ``ValueError``).
    """
    if value is None or value.strip() == "":
        return 0
    value = value.strip()
    if not (value.isascii() and value.isdigit()) or len(value) > 18:
        raise InvalidPositionError(
            f"a position is a non-negative integer (the last id you have), got {value[:40]!r}"
        )
    return int(value)


class _EventStream(StreamingResponse):
    """A streamed body that always closes its generator (and so the store reader), also
    when the client disconnects mid-stream (Starlette's own leaves it to the GC)."""

    body_iterator: AsyncGenerator[bytes, None]

    async def stream_response(self, send: Send) -> None:
        async with aclosing(self.body_iterator):
            await super().stream_response(send)


def error_response(status: int, error_type: str, message: str) -> JSONResponse:
    """A JSON error in the Messages API's shape: ``{"type": "error", "error": {...}}``."""
    return JSONResponse(
        {"type": "error", "error": {"type": error_type, "message": message}}, status_code=status
    )


def store_unavailable(where: str, exc: RedisError) -> JSONResponse:
    """The 503 of a request the store could not serve, logged as one line (no traceback;
    the message names no secret). The client is told to retry, not where Redis is."""
    logger.warning("sluice.relay: %s: the store is unavailable: %s", where, exc)
    return error_response(
        503, "store_unavailable_error", "the relay's store is unavailable; retry later"
    )


async def sse_response(
    store: Store,
    chat_id: str,
    request: Request,
    *,
    format: Format = "native",
    heartbeat: float = DEFAULT_HEARTBEAT,
) -> Response:
    """Answer a ``GET`` with the chat's log as ``text/event-stream``, replayed then live.

    The position comes from the ``Last-Event-ID`` header (an ``EventSource``
    reconnecting), else ``?after=``, else 0 (the whole log). Statuses: 404 for an unknown
    chat, 204 when there is nothing to stream (a ``pending`` chat, or a finished one the
    reader has read to its end: per the SSE spec, 204 also tells ``EventSource`` not to
    reconnect), 400 for a malformed position, 503 when the store cannot be reached (see
    ``RedisStore``'s ``command_timeout``). If the store fails mid-stream, the body ends
    without a terminal event (the failure is logged as one line): ``EventSource``
    reconnects with ``Last-Event-ID`` and resumes where it was.

    Args:
        store: the store holding the chat.
        chat_id: the chat.
        request: the Starlette request (headers and query are read).
        format: ``native`` (the Messages API's events) or ``vercel`` (the AI SDK UI
            message stream protocol v1).
        heartbeat: seconds of silence before a ``: heartbeat`` comment.
    """
    try:
        after = parse_position(
            request.headers.get("last-event-id") or request.query_params.get("after")
        )
    except InvalidPositionError as exc:
        return error_response(400, "invalid_request_error", str(exc))
    try:
        info = await store.info(chat_id)
    except RedisError as exc:
        return store_unavailable(f"{request.method} {request.url.path}", exc)
    if info is None:
        return error_response(404, "not_found_error", f"no chat {chat_id!r}")
    if info.state == "pending" or (info.state == "done" and after >= info.last_id):
        return Response(status_code=204)
    headers = dict(_SSE_HEADERS)
    if format == "vercel":
        headers.update(VERCEL_HEADERS)
        body = _vercel_frames(store, chat_id, after, heartbeat, run=info.run)
    else:
        body = _native_frames(store, chat_id, after, heartbeat)
    return _EventStream(body, media_type="text/event-stream", headers=headers)


async def _native_frames(
    store: Store, chat_id: str, after: int, heartbeat: float
) -> AsyncGenerator[bytes, None]:
    yield b"retry: %d\n\n" % _RETRY_MS
    try:
        async with aclosing(store.read_batches(chat_id, after, heartbeat=heartbeat)) as batches:
            async for batch in batches:
                # What is there goes out in one write: a reader that fell behind, or woke
                # after several appends, costs one send, not one per event.
                yield b"".join(map(sse_frame, batch)) if batch else _HEARTBEAT_FRAME
    except ChatNotFoundError:
        return  # expired between the check and the read: nothing more to say
    except RedisError as exc:
        logger.warning("sluice.relay: reading chat %s: the store failed: %s", chat_id, exc)


#: Times a Vercel reader looks for the oldest kept entry again when the cap moves it
#: while the reader catches up.
_WINDOW_ATTEMPTS: Final = 3
_NEEDED: Final = "what the UI message stream needs from the start of this message"


async def _vercel_start(store: Store, chat_id: str, after: int) -> tuple[int, bool]:
    """Where a Vercel reader at ``after`` reads from, and whether the log's start is gone.

    The encoder needs the message from its start; once the cap dropped it, it starts
    from the oldest kept entry and rebuilds what it can (see ``VercelEncoder``).
    """
    if after == 0:
        return 0, False
    oldest = await store.entries(chat_id, 0, 1)
    if not oldest or oldest[0].id == 1:
        return 0, False
    if oldest[0].id > after + 1:
        return after, False  # what the reader needs next is gone: log_trimmed_error
    return oldest[0].id - 1, True


async def _vercel_frames(
    store: Store, chat_id: str, after: int, heartbeat: float, *, run: bool
) -> AsyncGenerator[bytes, None]:
    yield b"retry: %d\n\n" % _RETRY_MS
    try:
        for attempt in range(1, _WINDOW_ATTEMPTS + 1):
            start, resumed = await _vercel_start(store, chat_id, after)
            encoder = VercelEncoder(resumed=resumed, run=run)
            moved = False
            async with aclosing(store.read_batches(chat_id, start, heartbeat=heartbeat)) as batches:
                async for batch in batches:
                    if not batch:
                        yield _HEARTBEAT_FRAME
                        continue
                    out: list[bytes] = []
                    for entry in batch:
                        if entry.trimmed and entry.id < after and attempt < _WINDOW_ATTEMPTS:
                            moved = True  # the cap moved on while catching up: look again
                            break
                        if entry.id <= after and not entry.trimmed:
                            encoder.skip(entry)
                            continue
                        out.append(encoder.encode(entry))
                        if encoder.missing:
                            gone = trimmed_entry(chat_id, after, start + 1, needed=_NEEDED)
                            out.append(encoder.encode(gone))
                            break
                    if out:
                        yield b"".join(out)
                    if moved or encoder.missing:
                        break
            if not moved:
                return
    except ChatNotFoundError:
        return
    except RedisError as exc:
        logger.warning("sluice.relay: reading chat %s: the store failed: %s", chat_id, exc)


async def _client_position(websocket: WebSocket) -> int | None:
    """The last id the client has: its first message, ``12`` or ``{"after": 12}``."""
    with anyio.move_on_after(_WS_HELLO_TIMEOUT):
        text = await websocket.receive_text()
        try:
            value = msgspec.json.decode(text)
        except msgspec.DecodeError:
            return None
        if isinstance(value, dict):
            value = value.get("after", 0)
        if value is None:
            return 0
        try:
            return parse_position(str(value))
        except InvalidPositionError:
            return None
    return 0


async def serve_websocket(
    store: Store, chat_id: str, websocket: WebSocket, *, heartbeat: float = DEFAULT_HEARTBEAT
) -> None:
    """Stream the chat's log over a websocket, from the position the client sends first.

    Protocol: the client sends one text message with the last id it has (``0``, ``12``
    or ``{"after": 12}``; nothing within 10 s means 0); the relay sends each entry as
    ``{"id": N, "event": TYPE, "data": {...}}`` (see :func:`ws_message`) and
    ``{"event": "heartbeat"}`` after ``heartbeat`` quiet seconds, then closes with 1000
    after the terminal entry. Close codes: 4404 unknown chat, 4400 malformed position,
    4204 nothing to stream (a ``pending`` chat), 1011 the store failed (reconnect and send
    the last id again). Accepts the websocket itself.
    """
    await websocket.accept()
    after = await _client_position(websocket)
    if after is None:
        await websocket.close(code=4400, reason="send the last id you have, e.g. 0 or 12")
        return
    try:
        info = await store.info(chat_id)
    except RedisError as exc:
        logger.warning("sluice.relay: websocket of chat %s: the store failed: %s", chat_id, exc)
        await websocket.close(code=1011, reason=_WS_UNAVAILABLE)
        return
    if info is None:
        await websocket.close(code=4404, reason="unknown chat")
        return
    if info.state == "pending":
        await websocket.close(code=4204, reason="no stream yet")
        return
    gone = False
    failed = False
    async with anyio.create_task_group() as tg:

        async def watch_client() -> None:
            # Incoming messages are ignored; this notices the client going away.
            nonlocal gone
            try:
                while True:
                    await websocket.receive_text()
            except (WebSocketDisconnect, RuntimeError):  # RuntimeError: receive after close
                gone = True
                tg.cancel_scope.cancel()

        tg.start_soon(watch_client)
        try:
            async with aclosing(store.read(chat_id, after, heartbeat=heartbeat)) as entries:
                async for entry in entries:
                    if entry is None:
                        await websocket.send_text('{"event":"heartbeat"}')
                    else:
                        await websocket.send_text(ws_message(entry))
        except ChatNotFoundError:
            pass
        except RedisError as exc:
            logger.warning("sluice.relay: websocket of chat %s: the store failed: %s", chat_id, exc)
            failed = True
        except (WebSocketDisconnect, OSError):
            gone = True
        tg.cancel_scope.cancel()
    if failed and not gone:
        await websocket.close(code=1011, reason=_WS_UNAVAILABLE)
    elif not gone:
        await websocket.close(code=1000)
