"""The relay as an ASGI application (Starlette), with its fixed HTTP contract.

=================================  =====================================================
``POST /chats``                    body: Messages API fields (JSON). ``201 {"id"}``;
                                   the generation runs detached from the request. 400 for
                                   parameters the API would reject or a request option,
                                   413 for a body over the limit, 503 when no more
                                   generations fit.
``GET /chats/{id}/stream``         the chat's events as SSE, from ``Last-Event-ID`` or
                                   ``?after=``, replayed then live; ``?format=vercel``
                                   for the AI SDK UI message stream (see
                                   :func:`sse_response` for 204/404).
``POST /chats/{id}/stop``          stop the generation; its log ends with ``stopped``.
``WS /chats/{id}/ws``              the same events over a websocket
                                   (see :func:`serve_websocket`).
``POST /vercel/chat``              the Vercel AI SDK's ``DefaultChatTransport``: body
                                   ``{id, messages, ...}``, answered with the UI message
                                   stream of a new turn (see :mod:`._ai_sdk`).
``GET /vercel/chat/{id}/stream``   its resume: the turn in flight, or ``204``.
=================================  =====================================================

Served by uvicorn on asyncio or hypercorn on trio (``python -m sluice relay``).

When the store cannot be reached (Redis down, or not answering within its
``command_timeout``), every route answers ``503 {"type": "error", "error": {"type":
"store_unavailable_error", ...}}`` and logs one line (no traceback, no password); a
websocket closes with 1011; a stream in progress ends, to be resumed from its last id.

Request bodies are a browser's, so untrusted: Messages API fields only (see
:func:`browser_params`); the owner shapes every request in the ``params=`` hook.
"""

from __future__ import annotations

import inspect
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import AsyncExitStack, asynccontextmanager
from typing import Any, Final, TypeAlias

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Mount, Route, WebSocketRoute
from starlette.staticfiles import StaticFiles
from starlette.websockets import WebSocket

from .._client import AsyncClient
from .._core._exceptions import ParamsError, RedisError
from .._core._params import validate_message_params
from ._ai_sdk import latest_turn, messages_params, next_turn, turn_id
from ._memory import MemoryStore
from ._params import browser_params, params_from_json
from ._responses import (
    DEFAULT_HEARTBEAT,
    error_response,
    serve_websocket,
    sse_response,
    store_unavailable,
)
from ._store import ChatExistsError, InvalidChatIdError, Store, StoreFullError, validate_chat_id
from ._writer import Relay

__all__ = ["DEFAULT_MAX_BODY", "DEFAULT_PARAMS", "ParamsHook", "create_app"]

#: The largest ``POST /chats`` body accepted, in bytes.
DEFAULT_MAX_BODY: Final = 4 * 1024 * 1024
#: Parameters of the AI SDK route's requests (they carry only the messages).
DEFAULT_PARAMS: Final[Mapping[str, Any]] = {"model": "claude-sonnet-4-5", "max_tokens": 4096}

#: The owner's hook: ``(request, params) -> params to generate with`` (sync or async).
ParamsHook: TypeAlias = Callable[
    [Request, dict[str, Any]], "Mapping[str, Any] | Awaitable[Mapping[str, Any]]"
]


async def _read_body(request: Request, limit: int) -> bytes | None:
    """The request body, or ``None`` once it exceeds ``limit`` bytes (read no further)."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        return None
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            return None
    return bytes(body)


def create_app(
    *,
    store: Store | None = None,
    client: AsyncClient | None = None,
    heartbeat: float = DEFAULT_HEARTBEAT,
    max_running: int = 256,
    max_body: int = DEFAULT_MAX_BODY,
    static_dir: str | None = None,
    defaults: Mapping[str, Any] | None = None,
    params: ParamsHook | None = None,
) -> Starlette:
    """The relay as a Starlette app.

    Args:
        store: where chats live (default: a :class:`MemoryStore`). The app enters it (and
            closes it) in its lifespan.
        client: the upstream client (default: ``sluice.AsyncClient()``, configured by
            ``ANTHROPIC_API_KEY`` and ``ANTHROPIC_BASE_URL``), created and closed in the
            lifespan if not given; a given client is not closed.
        heartbeat: seconds of silence before an SSE comment or websocket heartbeat.
        max_running: generations running at once in this process (then 503).
        max_body: the largest ``POST /chats`` body, in bytes (then 413).
        static_dir: a folder served at ``/`` (e.g. ``examples/relay``), optional.
        defaults: Messages API parameters for the AI SDK route's requests, which carry
            only messages (default: ``{"model": "claude-sonnet-4-5", "max_tokens": 4096}``;
            fields of the request body win).
        params: the owner's hook, called for every generation a route starts with the
            Starlette request and the browser's parameters: Messages API fields only
            (request options were refused with a 400), with ``defaults`` filled in for
            the AI SDK route, already through sluice's checks (``max_tokens`` is a
            positive int, ``model`` a string...). It returns the parameters to generate
            with, and may narrow them (a model allow-list, a ``max_tokens`` cap: raise
            ``sluice.ParamsError`` for a 400) or add what only the server sets (``betas``,
            ``extra_headers``, ``timeout``, ``metadata``...). Sync or async.

    The ASGI server must run the lifespan (uvicorn and hypercorn do by default):
    generations run in a task group it opens.
    """
    the_store = store if store is not None else MemoryStore()
    sdk_defaults = dict(defaults) if defaults is not None else dict(DEFAULT_PARAMS)
    state: dict[str, Relay] = {}

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        async with AsyncExitStack() as stack:
            await stack.enter_async_context(the_store)
            upstream = client if client is not None else AsyncClient()
            if client is None:
                stack.push_async_callback(upstream.aclose)
            state["relay"] = await stack.enter_async_context(
                Relay(the_store, upstream, max_running=max_running)
            )
            yield
            state.clear()

    def relay() -> Relay:
        return state["relay"]

    async def owner_params(request: Request, fields: dict[str, Any]) -> dict[str, Any]:
        validate_message_params(fields, stream=True)  # the hook gets well-typed fields
        if params is None:
            return fields
        shaped = params(request, fields)
        if inspect.isawaitable(shaped):
            shaped = await shaped
        return dict(shaped)

    async def create_chat(request: Request) -> Response:
        body = await _read_body(request, max_body)
        if body is None:
            return error_response(413, "request_too_large", f"the body is over {max_body} bytes")
        try:
            fields = browser_params(params_from_json(body))
            chat_id = await relay().start(await owner_params(request, fields))
        except ParamsError as exc:
            return error_response(400, "invalid_request_error", str(exc))
        except StoreFullError as exc:
            return error_response(503, "overloaded_error", str(exc))
        except ChatExistsError as exc:  # pragma: no cover - ids are random
            return error_response(409, "invalid_request_error", str(exc))
        return JSONResponse(
            {"id": chat_id}, status_code=201, headers={"location": f"/chats/{chat_id}/stream"}
        )

    def chat_id_of(request: Request | WebSocket) -> str | None:
        try:
            return validate_chat_id(request.path_params["chat_id"])
        except InvalidChatIdError:
            return None

    async def stream(request: Request) -> Response:
        chat_id = chat_id_of(request)
        if chat_id is None:
            return error_response(404, "not_found_error", "no such chat")
        fmt = request.query_params.get("format", "native")
        if fmt not in ("native", "vercel"):
            return error_response(400, "invalid_request_error", "format is 'native' or 'vercel'")
        return await sse_response(
            the_store,
            chat_id,
            request,
            format="vercel" if fmt == "vercel" else "native",
            heartbeat=heartbeat,
        )

    async def stop(request: Request) -> Response:
        chat_id = chat_id_of(request)
        info = None if chat_id is None else await the_store.info(chat_id)
        if chat_id is None or info is None:
            return error_response(404, "not_found_error", "no such chat")
        stopping = await relay().stop(chat_id)
        return JSONResponse({"id": chat_id, "stopping": stopping})

    async def websocket(ws: WebSocket) -> None:
        chat_id = chat_id_of(ws)
        if chat_id is None:
            await ws.close(code=4404, reason="unknown chat")
            return
        await serve_websocket(the_store, chat_id, ws, heartbeat=heartbeat)

    async def vercel_chat(request: Request) -> Response:
        # useChat's DefaultChatTransport: the POST's answer is the stream itself.
        body = await _read_body(request, max_body)
        if body is None:
            return error_response(413, "request_too_large", f"the body is over {max_body} bytes")
        try:
            chat_id, fields = messages_params(params_from_json(body), sdk_defaults)
            generate = await owner_params(request, fields)
            relay().client.messages.stream(**generate)  # checks the parameters, sends nothing
            turn = await next_turn(the_store, chat_id)
            await relay().start(generate, chat_id=turn, create=False)
        except (ParamsError, InvalidChatIdError) as exc:
            return error_response(400, "invalid_request_error", str(exc))
        except StoreFullError as exc:
            return error_response(503, "overloaded_error", str(exc))
        return await sse_response(the_store, turn, request, format="vercel", heartbeat=heartbeat)

    async def vercel_resume(request: Request) -> Response:
        chat_id = chat_id_of(request)
        if chat_id is None:
            return error_response(404, "not_found_error", "no such chat")
        turn, info = await latest_turn(the_store, chat_id)
        if info is None or info.state != "running":
            return Response(status_code=204)  # no generation in flight: nothing to resume
        return await sse_response(
            the_store, turn_id(chat_id, turn), request, format="vercel", heartbeat=heartbeat
        )

    routes: list[BaseRoute] = [
        Route("/chats", create_chat, methods=["POST"]),
        Route("/chats/{chat_id}/stream", stream, methods=["GET"]),
        Route("/chats/{chat_id}/stop", stop, methods=["POST"]),
        WebSocketRoute("/chats/{chat_id}/ws", websocket),
        Route("/vercel/chat", vercel_chat, methods=["POST"]),
        Route("/vercel/chat/{chat_id}/stream", vercel_resume, methods=["GET"]),
    ]
    if static_dir is not None:
        routes.append(Mount("/", StaticFiles(directory=static_dir, html=True)))

    async def unavailable(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, RedisError)
        return store_unavailable(f"{request.method} {request.url.path}", exc)

    app = Starlette(routes=routes, lifespan=lifespan, exception_handlers={RedisError: unavailable})
    app.state.store = the_store
    return app
