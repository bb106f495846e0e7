"""Serving an ASGI app on whichever backend runs: uvicorn on asyncio, hypercorn on trio.

:func:`serve` runs until cancelled, then shuts the server down gracefully (the app's
lifespan exits, so running generations end their logs) before returning.
"""

from __future__ import annotations

import os
import socket
import sys
from typing import Any, Final

import anyio
import anyio.abc

__all__ = ["bind", "serve"]

#: Seconds a server gets to shut down gracefully once cancelled.
_SHUTDOWN_TIMEOUT: Final = 10.0


def _on_trio() -> bool:
    """Whether this task runs under trio (without importing trio where it is not used)."""
    trio = sys.modules.get("trio")
    if trio is None:
        return False
    try:
        trio.lowlevel.current_task()
    except RuntimeError:
        return False
    return True


def bind(host: str = "127.0.0.1", port: int = 0) -> socket.socket:
    """A listening TCP socket (``port=0``: a free port, read it with ``getsockname()``)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(1024)
    sock.setblocking(False)
    return sock


async def _uvicorn(app: Any, sock: socket.socket, stop: anyio.Event, ready: anyio.Event) -> None:
    import uvicorn

    config = uvicorn.Config(
        app, lifespan="on", log_level="warning", ws="wsproto", timeout_graceful_shutdown=5
    )
    server = uvicorn.Server(config)

    async def trigger() -> None:
        while not server.started:  # noqa: ASYNC110 - uvicorn offers no event to wait on
            await anyio.sleep(0.005)
        ready.set()
        await stop.wait()
        server.should_exit = True

    async with anyio.create_task_group() as tg:
        tg.start_soon(trigger)
        await server.serve(sockets=[sock])
        tg.cancel_scope.cancel()


async def _hypercorn(app: Any, sock: socket.socket, stop: anyio.Event, ready: anyio.Event) -> None:
    import hypercorn.trio
    from hypercorn.config import Config

    config = Config()
    # hypercorn adopts (and later closes) the descriptor it is given: give it a copy.
    config.bind = [f"fd://{os.dup(sock.fileno())}"]
    config.accesslog = None
    config.errorlog = None
    config.graceful_timeout = 5.0

    async def run(*, task_status: anyio.abc.TaskStatus[Any]) -> None:
        await hypercorn.trio.serve(app, config, shutdown_trigger=stop.wait, task_status=task_status)

    async with anyio.create_task_group() as tg:
        await tg.start(run)
        ready.set()


async def serve(
    app: Any,
    *,
    sock: socket.socket | None = None,
    host: str = "127.0.0.1",
    port: int = 8000,
    task_status: anyio.abc.TaskStatus[str] = anyio.TASK_STATUS_IGNORED,
) -> None:
    """Serve ``app`` until cancelled: uvicorn under asyncio, hypercorn under trio.

    Args:
        app: an ASGI application (e.g. :func:`create_app`).
        sock: a listening socket (see :func:`bind`); else one is bound to host/port.
        host: the address to bind when ``sock`` is not given.
        port: the port to bind when ``sock`` is not given (0: a free one).
        task_status: with ``task_group.start(serve, ...)``, reports the base URL
            (``http://127.0.0.1:PORT``) once the server accepts connections.
    """
    sock = sock if sock is not None else bind(host, port)
    address = sock.getsockname()
    url = f"http://{address[0]}:{address[1]}"
    run = _hypercorn if _on_trio() else _uvicorn
    stop = anyio.Event()
    ready = anyio.Event()
    finished = anyio.Event()

    async def run_shielded() -> None:
        # The server shuts down only when told to (``stop``), so that its lifespan exits
        # cleanly even when this task is cancelled.
        try:
            with anyio.CancelScope(shield=True):
                await run(app, sock, stop, ready)
        finally:
            finished.set()

    try:
        async with anyio.create_task_group() as tg:
            tg.start_soon(run_shielded)
            with anyio.move_on_after(30):
                await ready.wait()
            task_status.started(url)
            try:
                await finished.wait()
            finally:
                stop.set()
                with anyio.CancelScope(shield=True), anyio.move_on_after(_SHUTDOWN_TIMEOUT):
                    await finished.wait()
    finally:
        sock.close()
