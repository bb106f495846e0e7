"""The relays that ``benchmarks/relay.py`` measures, each in its own process.

``python benchmarks/relay_server.py KIND UPSTREAM_URL [REDIS_URL]`` serves on a free port
on 127.0.0.1 and prints ``listening on URL``. KIND:

* ``memory`` / ``redis``: ``sluice.relay.create_app`` with the memory or the Redis store,
  on uvicorn (asyncio).
* ``sdk``: the relay people write by hand: the official SDK's raw event stream
  (``messages.create(stream=True)``) fanned out to one ``asyncio.Queue`` per subscriber and
  served by sse-starlette's ``EventSourceResponse``, on uvicorn. No log, no resume, no
  bounds; the baseline for what the durable log costs.
"""

from __future__ import annotations

import asyncio
import secrets
import sys
from functools import partial
from typing import Any

import anyio

import sluice
from sluice.relay import MemoryStore, RedisStore, Store, bind, create_app, serve


def sdk_app(upstream: str) -> Any:
    """The hand-written contender: SDK + sse-starlette + a queue per subscriber."""
    import anthropic
    from sse_starlette import EventSourceResponse
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import JSONResponse
    from starlette.routing import Route

    client = anthropic.AsyncAnthropic(api_key="bench", base_url=upstream, max_retries=0)
    subscribers: dict[str, list[asyncio.Queue[tuple[str, str] | None]]] = {}
    tasks: set[asyncio.Task[None]] = set()

    async def generate(chat_id: str, params: dict[str, Any]) -> None:
        queues = subscribers[chat_id]
        stream = await client.messages.create(**params, stream=True)
        async for event in stream:
            item = (event.type, event.model_dump_json())
            for queue in queues:
                queue.put_nowait(item)
        for queue in queues:
            queue.put_nowait(None)

    async def create(request: Request) -> JSONResponse:
        chat_id = secrets.token_urlsafe(8)
        subscribers[chat_id] = []
        task = asyncio.create_task(generate(chat_id, await request.json()))
        tasks.add(task)
        task.add_done_callback(tasks.discard)
        return JSONResponse({"id": chat_id}, status_code=201)

    async def stream(request: Request) -> EventSourceResponse:
        queue: asyncio.Queue[tuple[str, str] | None] = asyncio.Queue()
        subscribers[request.path_params["chat_id"]].append(queue)

        async def events() -> Any:
            while (item := await queue.get()) is not None:
                yield {"event": item[0], "data": item[1]}

        return EventSourceResponse(events(), ping=5)

    return Starlette(
        routes=[
            Route("/chats", create, methods=["POST"]),
            Route("/chats/{chat_id}/stream", stream),
        ]
    )


async def main(kind: str, upstream: str, redis: str | None) -> None:
    sock = bind()
    async with sluice.AsyncClient(api_key="bench", base_url=upstream, max_retries=0) as client:
        if kind == "sdk":
            app = sdk_app(upstream)
        else:
            store: Store = RedisStore(redis or "") if kind == "redis" else MemoryStore()
            app = create_app(store=store, client=client, max_running=10_000)
        async with anyio.create_task_group() as tg:
            url = await tg.start(partial(serve, app, sock=sock))
            print(f"listening on {url}", flush=True)


if __name__ == "__main__":
    import os
    import signal

    profile = os.environ.get("RELAY_PROFILE")  # a file: profile the relay, dumped at exit
    profiler = None
    if profile:
        import cProfile

        signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
        profiler = cProfile.Profile()
        profiler.enable()
    try:
        anyio.run(main, sys.argv[1], sys.argv[2], sys.argv[3] if len(sys.argv) > 3 else None)
    finally:
        if profiler is not None:
            profiler.disable()
            profiler.dump_stats(str(profile))
