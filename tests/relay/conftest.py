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
from typing import Any

import pytest

from sluice.relay import MemoryStore, RedisStore, Store


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real redis-server on 127.0.0.1 for the whole session (fails loudly if missing)."""
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.fail(
            "redis-server is not installed: run `bash scripts/system-deps.sh` "
            "(or `apt-get install redis-server`); make test and .ci/run do it"
        )
    directory = tmp_path_factory.mktemp("redis")
    port = _free_port()
    process = subprocess.Popen(
        [
            binary,
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
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1) as conn:
                    conn.sendall(b"PING\r\n")
                    if conn.recv(64).startswith(b"+PONG"):
                        break
            except OSError:
                pass
            if time.monotonic() > deadline or process.poll() is not None:
                pytest.fail("redis-server did not start")
            time.sleep(0.02)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        process.terminate()
        process.wait(10)


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
