"""Redis for the tests: real redis-servers (one per session, or one a test may restart or
pause) and a fake that accepts connections and answers what a test tells it to.

The fixtures over these (``redis_url``, ``own_redis``) are in ``tests/conftest.py``; tests
import :class:`OwnRedis` and :func:`fake_redis` from here.
"""

from __future__ import annotations

import selectors
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest


def free_port() -> int:
    """A port on 127.0.0.1 nobody listens on now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _redis_binary() -> str:
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.fail(
            "redis-server is not installed: run `bash scripts/system-deps.sh` "
            "(or `apt-get install redis-server`); make test and .ci/run do it"
        )
    return binary


def start_redis(directory: Path, port: int) -> subprocess.Popen[bytes]:
    """Start redis-server on 127.0.0.1:port (no persistence); return once it answers PING."""
    process = subprocess.Popen(
        [
            _redis_binary(),
            "--bind",
            "127.0.0.1",
            "--port",
            str(port),
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(directory),
            "--protected-mode",
            "yes",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 10
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as conn:
                conn.sendall(b"PING\r\n")
                if conn.recv(64).startswith(b"+PONG"):
                    return process
        except OSError:
            pass
        if time.monotonic() > deadline or process.poll() is not None:
            process.kill()
            pytest.fail("redis-server did not start")
        time.sleep(0.02)


def stop_redis(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    process.wait(10)


class OwnRedis:
    """A redis-server of one test's own, which the test may restart or pause."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process = start_redis(directory, self.port)

    def restart(self) -> None:
        """Stop the server and start a new one on the same port (every connection dies)."""
        stop_redis(self.process)
        self.process = start_redis(self.directory, self.port)

    def pause(self, seconds: float) -> None:
        """Hold every client's commands for ``seconds`` (``CLIENT PAUSE``): a stuck server."""
        with socket.create_connection(("127.0.0.1", self.port), timeout=5) as conn:
            conn.sendall(b"CLIENT PAUSE %d ALL\r\n" % int(seconds * 1000))
            assert conn.recv(64).startswith(b"+OK")


@contextmanager
def fake_redis(answer: bytes | None) -> Iterator[str]:
    """A TCP server on 127.0.0.1 posing as Redis; yields its ``redis://`` URL.

    Each connection gets ``answer`` whenever a command arrives (Redis' replies are never
    volunteered), or, for ``None``, nothing ever: a server that accepts and hangs.
    It runs in a thread of its own, so async clients (asyncio or trio) and blocking ones
    alike can talk to it.
    """
    listener = socket.create_server(("127.0.0.1", 0))
    listener.setblocking(False)
    port = listener.getsockname()[1]
    stop = threading.Event()

    def serve() -> None:
        with selectors.DefaultSelector() as selector:
            selector.register(listener, selectors.EVENT_READ)
            while not stop.is_set():
                for key, _ in selector.select(timeout=0.02):
                    sock = key.fileobj
                    assert isinstance(sock, socket.socket)
                    if sock is listener:
                        conn, _ = listener.accept()
                        conn.setblocking(False)
                        selector.register(conn, selectors.EVENT_READ)
                        continue
                    try:
                        data = sock.recv(65536)
                    except OSError:
                        data = b""
                    if not data:  # the client left
                        selector.unregister(sock)
                        sock.close()
                    elif answer is not None:
                        sock.sendall(answer)
            for key in list(selector.get_map().values()):
                if key.fileobj is not listener:
                    assert isinstance(key.fileobj, socket.socket)
                    key.fileobj.close()

    thread = threading.Thread(target=serve, name="fake-redis", daemon=True)
    thread.start()
    try:
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        stop.set()
        thread.join(5)
        listener.close()
