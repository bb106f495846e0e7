"""Fixtures of the relay's tests: stores on memory and on a real redis-server, servers.

The Redis server is the session's ``redis_url`` (``tests/conftest.py``, which also has
``own_redis``, a server one test may restart or pause); every test uses a key prefix of
its own.
"""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from functools import partial
from typing import Any

import pytest

from sluice.relay import MemoryStore, RedisStore, Store


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
