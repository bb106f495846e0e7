"""Helpers of the sync tests that the async tests write with anyio."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from contextlib import contextmanager

import anyio.from_thread

from sluice.testing import MockAnthropic


def closed_port() -> str:
    """The base URL of a port on 127.0.0.1 where nothing listens (connections are refused)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


@contextmanager
def serve_in_thread(server: MockAnthropic | None = None) -> Iterator[MockAnthropic]:
    """``server`` (a new :class:`MockAnthropic` by default), started on an event loop in a
    thread of its own, and stopped on exit."""
    with (
        anyio.from_thread.start_blocking_portal() as portal,
        portal.wrap_async_context_manager(server or MockAnthropic()) as started,
    ):
        yield started
