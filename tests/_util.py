"""Shared helpers for the test suite (fixtures on disk, chunking)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from sluice import Event, MessageAccumulator, to_builtins

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


_FIELD = {"text_delta": "text", "thinking_delta": "thinking", "input_json_delta": "partial_json"}


def normalize(events: list[Event]) -> list[Any]:
    """The events as builtins, with every run of adjacent mergeable deltas joined into one."""
    out: list[Any] = []
    for event in events:
        item = to_builtins(event)
        if item["type"] == "content_block_delta" and item["delta"]["type"] in _FIELD:
            field = _FIELD[item["delta"]["type"]]
            last = out[-1] if out else None
            if (
                last is not None
                and last["type"] == "content_block_delta"
                and last["index"] == item["index"]
                and last["delta"]["type"] == item["delta"]["type"]
            ):
                last["delta"][field] += item["delta"][field]
                continue
        out.append(item)
    return out


def final(events: list[Event]) -> Any:
    """The message (as builtins) a MessageAccumulator builds from ``events``."""
    acc = MessageAccumulator()
    for event in events:
        acc.feed(event)
    return to_builtins(acc.partial())
