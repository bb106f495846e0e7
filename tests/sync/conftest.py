"""Fixtures of the sync client's tests: the mock API in a thread of its own, a sync client.

The async tests' fixtures have the same names (``mock_anthropic``, ``server``, ``client``),
so a test generated from an async one (``scripts/unasync.py``) reads the same.
"""

from __future__ import annotations

import ssl
from collections.abc import Iterator

import httpx
import pytest
from _sync_util import serve_in_thread

import sluice
from sluice.testing import MockAnthropic

_TLS = ssl.create_default_context()


@pytest.fixture
def mock_anthropic() -> Iterator[MockAnthropic]:
    """A started :class:`~sluice.testing.MockAnthropic`, served by an event loop in a
    background thread (the test's own thread runs no loop)."""
    with serve_in_thread() as server:
        yield server


@pytest.fixture
def server(mock_anthropic: MockAnthropic) -> MockAnthropic:
    """The test's running mock API."""
    return mock_anthropic


@pytest.fixture
def client(server: MockAnthropic) -> Iterator[sluice.Client]:
    """A :class:`sluice.Client` (API key ``"test"``) talking to ``server``."""
    with (
        httpx.Client(verify=_TLS, timeout=10.0) as http,
        sluice.Client(api_key="test", base_url=server.base_url, http_client=http) as client,
    ):
        yield client
