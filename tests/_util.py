"""Shared helpers for the test suite (fixtures on disk, chunking)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"

#: Transcripts that end with message_stop.
COMPLETE = sorted(
    p.name
    for p in FIXTURES.glob("*.sse")
    if p.name not in {"overloaded_error.sse", "truncated.sse"}
)
ALL = sorted(p.name for p in FIXTURES.glob("*.sse"))


def load(name: str) -> bytes:
    """The raw bytes of a transcript in fixtures/."""
    return (FIXTURES / name).read_bytes()


def chunked(data: bytes, size: int) -> Iterator[bytes]:
    """``data`` in pieces of ``size`` bytes."""
    for start in range(0, len(data), size):
        yield data[start : start + size]
