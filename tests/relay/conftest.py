"""Fixtures of the relay's tests: a real redis-server on 127.0.0.1, stores, servers.

The Redis server is Debian's ``redis-server``, which ``scripts/system-deps.sh`` installs
(``make test`` and ``.ci/run`` call it); it is started once per session on a free port,
with no persistence, and every test uses a key prefix of its own.
"""

from __future__ import annotations

import secrets
import shutil
import socket
import subprocess
import time
from collections.abc import AsyncIterator, Iterator
from functools import partial
from pathlib import Path
from typing import Any

import pytest

from sluice.relay import MemoryStore, RedisStore, Store


def _free_port() -> int:
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


def _start_redis(directory: Path, port: int) -> subprocess.Popen[bytes]:
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


def _stop_redis(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    process.wait(10)


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real redis-server on 127.0.0.1 for the whole session (fails loudly if missing)."""
    port = _free_port()
    process = _start_redis(tmp_path_factory.mktemp("redis"), port)
    try:
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        _stop_redis(process)


class OwnRedis:
    """A redis-server of one test's own, which the test may restart or pause."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.port = _free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process = _start_redis(directory, self.port)

    def restart(self) -> None:
        """Stop the server and start a new one on the same port (every connection dies)."""
        _stop_redis(self.process)
        self.process = _start_redis(self.directory, self.port)

    def pause(self, seconds: float) -> None:
        """Hold every client's commands for ``seconds`` (``CLIENT PAUSE``): a stuck server."""
        with socket.create_connection(("127.0.0.1", self.port), timeout=5) as conn:
            conn.sendall(b"CLIENT PAUSE %d ALL\r\n" % int(seconds * 1000))
            assert conn.recv(64).startswith(b"+OK")


@pytest.fixture
def own_redis(tmp_path: Path) -> Iterator[OwnRedis]:
    """A redis-server for this test alone (it may be restarted or paused)."""
    server = OwnRedis(tmp_path)
    try:
        yield server
    finally:
        _stop_redis(server.process)


def redis_store(url: str, **options: Any) -> RedisStore:
    """A Redis store under a key prefix of its own."""
    return RedisStore(url, prefix=f"test:{secrets.token_hex(6)}:", **options)


@pytest.fixture(params=["memory", "redis"])
def store_kind(request: pytest.FixtureRequest) -> str:
    """Each store test runs on the memory store and on the Redis store."""
    return str(request.param)


@pytest.fixture
def make_store(store_kind: str, request: pytest.FixtureRequest) -> Any:
    """A factory of stores of the test's kind, taking the store's options."""
    if store_kind == "memory":
        return lambda **options: MemoryStore(**options)
    url = request.getfixturevalue("redis_url")
    return partial(redis_store, url)


@pytest.fixture
async def store(make_store: Any) -> AsyncIterator[Store]:
    """An open store of the test's kind."""
    async with make_store() as opened:
        yield opened
