from __future__ import annotations

import ssl
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from hypothesis import Phase, settings

import sluice
from _redis_util import OwnRedis, free_port, start_redis, stop_redis
from sluice.testing import MockAnthropic

# tests/ mirrors the package: core/, http/, ops/... Test modules and helpers are imported
# by file name (pytest's "prepend" import mode, no __init__.py), so every basename is unique
# across the folders, and every folder goes on sys.path here, before any test is collected:
# a module can then import a helper or another test module by name wherever it lives (the
# generated tests in sync/ import from the async tests they mirror), whatever pytest
# collects first or alone.
TESTS = Path(__file__).resolve().parent
for _folder in sorted(TESTS.iterdir()):
    if _folder.is_dir() and not _folder.name.startswith(("_", ".")):
        if str(_folder) not in sys.path:
            sys.path.append(str(_folder))

# pytester runs small suites in a subprocess (the mock_anthropic fixture under trio_mode).
pytest_plugins = ["pytester"]

# Hypothesis's "target" phase imports a module lazily mid-test; under pytest's assertion
# rewriting on CPython 3.11 that was seen to fail once with "AST constructor recursion
# depth mismatch". The phase only tunes search; turning it off removes the flake.
settings.register_profile(
    "sluice",
    phases=[Phase.explicit, Phase.reuse, Phase.generate, Phase.shrink],
)
settings.load_profile("sluice")

# The mock speaks plain HTTP; one shared TLS context spares every client the ~40 ms httpx
# spends loading the CA bundle.
_TLS = ssl.create_default_context()


@pytest.fixture(params=["asyncio", "trio"])
def anyio_backend(request: pytest.FixtureRequest) -> str:
    """Every async test runs on both asyncio and trio (anyio's pytest plugin)."""
    return request.param


@pytest.fixture
def server(mock_anthropic: MockAnthropic) -> MockAnthropic:
    """The test's running mock API: sluice's own ``mock_anthropic`` fixture."""
    return mock_anthropic


@pytest.fixture
async def client(server: MockAnthropic) -> AsyncIterator[sluice.AsyncClient]:
    """A :class:`sluice.AsyncClient` (API key ``"test"``) talking to ``server``."""
    async with (
        httpx.AsyncClient(verify=_TLS, timeout=10.0) as http,
        sluice.AsyncClient(api_key="test", base_url=server.base_url, http_client=http) as client,
    ):
        yield client


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real redis-server on 127.0.0.1 for the whole session (fails loudly if missing).

    Debian's ``redis-server``, which ``scripts/system-deps.sh`` installs (``make test``
    and ``.ci/run`` call it), started once per session on a free port, with no
    persistence. Used by the relay's Redis store and the rate limits shared through Redis.
    """
    port = free_port()
    process = start_redis(tmp_path_factory.mktemp("redis"), port)
    try:
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        stop_redis(process)


@pytest.fixture
def own_redis(tmp_path: Path) -> Iterator[OwnRedis]:
    """A redis-server for this test alone (it may be restarted or paused)."""
    server = OwnRedis(tmp_path)
    try:
        yield server
    finally:
        stop_redis(server.process)
