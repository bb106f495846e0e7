"""Any chunking of any transcript gives identical events and an identical final message."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from _util import ALL, load
from sluice import EventStreamDecoder, MessageAccumulator, SluiceError, StreamError, to_builtins


def run(chunks: list[bytes]) -> tuple[list[Any], Any, str | None]:
    """Events (as builtins), final or partial message, and the error class name if any."""
    decoder = EventStreamDecoder()
    acc = MessageAccumulator()
    events: list[Any] = []
    error = None
    try:
        for chunk in chunks:
            for event in decoder.feed(chunk):
                events.append(to_builtins(event))
                acc.feed(event)
        for event in decoder.close():
            events.append(to_builtins(event))
            acc.feed(event)
        message = to_builtins(acc.finish())
    except SluiceError as exc:
        error = type(exc).__name__
        partial = exc.partial_message if isinstance(exc, StreamError) else None
        message = to_builtins(partial) if partial is not None else None
    return events, message, error


def split(data: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({c % (len(data) + 1) for c in cuts})
    pieces, last = [], 0
    for point in points:
        pieces.append(data[last:point])
        last = point
    pieces.append(data[last:])
    return pieces


REFERENCE = {name: run([load(name)]) for name in ALL}


class TestChunking:
    @pytest.mark.parametrize("name", ALL)
    @settings(max_examples=25, deadline=None)
    @given(cuts=st.lists(st.integers(min_value=0, max_value=1 << 20), max_size=40))
    def test_random_cuts(self, name: str, cuts: list[int]) -> None:
        """Random split points give the same events, message and error as one chunk."""
        assert run(split(load(name), cuts)) == REFERENCE[name]

    @pytest.mark.parametrize("name", ALL)
    def test_one_byte_chunks(self, name: str) -> None:
        """Feeding one byte at a time gives the same result as one chunk."""
        data = load(name)
        assert run([data[i : i + 1] for i in range(len(data))]) == REFERENCE[name]

    def test_reference_outcomes(self) -> None:
        """The reference runs end as the fixtures intend (complete, error, truncation)."""
        assert REFERENCE["text.sse"][2] is None
        assert REFERENCE["overloaded_error.sse"][2] == "OverloadedStreamError"
        assert REFERENCE["truncated.sse"][2] == "IncompleteStreamError"
        assert REFERENCE["truncated.sse"][1] is not None
