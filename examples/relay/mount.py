"""The relay's building blocks inside your own FastAPI (or Starlette) app and routes.

Routes in the shape the Vercel AI SDK's ``useChat`` expects for resumable streams:
``POST /api/chat`` starts a generation detached from the request and returns its id;
``GET /api/chat/{id}/stream`` streams it as the UI message stream protocol (``204`` when
there is nothing to resume), resuming from ``Last-Event-ID``; ``POST /api/chat/{id}/stop``.

The POST body is a browser's: :func:`sluice.relay.browser_params` keeps its Messages API
fields and refuses request options (``extra_headers`` could replace the API key); the
server then sets what only it decides (here: a ``max_tokens`` cap). Bad parameters are a
400 in the Messages API's error shape.

Run it against the local mock API (no key needed), or the real one with --live::

    python examples/relay/mount.py --port 8000          # then POST /api/chat ...
    python examples/relay/mount.py --live               # ANTHROPIC_API_KEY from the env

A Starlette sub-application's lifespan does not run when it is mounted, so instead of
mounting ``sluice.relay.create_app()`` this app opens the store, the client and the
:class:`sluice.relay.Relay` in its own lifespan.
"""

from __future__ import annotations

import argparse
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from functools import partial
from pathlib import Path
from typing import Any

import anyio
from fastapi import FastAPI, Request, WebSocket
from fastapi.responses import JSONResponse, Response

import sluice
from sluice.relay import (
    MemoryStore,
    Relay,
    Store,
    browser_params,
    serve,
    serve_websocket,
    sse_response,
)
from sluice.testing import MockAnthropic, Reply

#: The most tokens a browser may ask for: the server's decision, not the browser's.
MAX_TOKENS = 4096


def build_app(client: sluice.AsyncClient, store: Store | None = None) -> FastAPI:
    """A FastAPI app whose chat routes run on the relay's store, Relay and responses."""
    store = store or MemoryStore()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with store, Relay(store, client) as relay:
            app.state.relay = relay
            yield

    app = FastAPI(lifespan=lifespan)

    @app.post("/api/chat", status_code=201, response_model=None)
    async def start_chat(body: dict[str, Any]) -> dict[str, str] | JSONResponse:
        try:
            params = browser_params(body)
            if isinstance(params.get("max_tokens"), int) and params["max_tokens"] > MAX_TOKENS:
                params["max_tokens"] = MAX_TOKENS
            return {"id": await app.state.relay.start(params)}
        except sluice.ParamsError as exc:
            error = {"type": "invalid_request_error", "message": str(exc)}
            return JSONResponse({"type": "error", "error": error}, status_code=400)

    @app.get("/api/chat/{chat_id}/stream")
    async def stream_chat(chat_id: str, request: Request) -> Response:
        return await sse_response(store, chat_id, request, format="vercel")

    @app.post("/api/chat/{chat_id}/stop")
    async def stop_chat(chat_id: str) -> dict[str, bool]:
        return {"stopping": await app.state.relay.stop(chat_id)}

    @app.websocket("/api/chat/{chat_id}/ws")
    async def chat_socket(chat_id: str, websocket: WebSocket) -> None:
        await serve_websocket(store, chat_id, websocket)

    return app


async def main(live: bool, port: int) -> None:
    async with AsyncExitStack() as stack:
        if live:
            client = sluice.AsyncClient()
        else:
            mock = await stack.enter_async_context(MockAnthropic())
            answer = (Path(__file__).parents[2] / "fixtures" / "text.sse").read_bytes()
            mock.route("POST", "/v1/messages", Reply.sse(answer, delay=0.05))
            client = sluice.AsyncClient(api_key="mock", base_url=mock.base_url)
        await stack.enter_async_context(client)
        async with anyio.create_task_group() as tg:
            url = await tg.start(partial(serve, build_app(client), port=port))
            print(f"listening on {url}: POST /api/chat, GET /api/chat/{{id}}/stream", flush=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--live", action="store_true", help="the real API ($ANTHROPIC_API_KEY)")
    parser.add_argument("--port", type=int, default=8000)
    args = parser.parse_args()
    anyio.run(main, args.live, args.port)
