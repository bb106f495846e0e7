"""EventStreamDecoder: a chunk's events decoded at once, errors after the good events."""

from __future__ import annotations

import msgspec
import pytest

import sluice
from _util import ALL, events_of, load
from sluice import Event


class TestDecoderOffsets:
    @pytest.mark.parametrize("cut", [1, 7, 33, 97, 4096])
    def test_the_offset_of_a_bad_event_is_its_own(self, cut: int) -> None:
        """EventStreamDecoder names the byte where the bad event began, whatever the chunking."""
        good = load("text.sse")
        bad = b'event: content_block_delta\ndata: {"type": nope}\n\n'
        data = good[: good.index(b"event: message_stop")] + bad
        expected = data.index(bad)
        decoder = sluice.EventStreamDecoder()
        events: list[Event] = []
        with pytest.raises(sluice.EventDecodeError) as info:
            for start in range(0, len(data), cut):
                for event in decoder.feed(data[start : start + cut]):
                    events.append(event)
        assert info.value.offset == expected
        assert info.value.event == "content_block_delta"
        assert len(events) == len(events_of("text.sse")) - 1

    def test_decode_returns_the_error_after_the_good_events(self) -> None:
        """decode() returns the events before a bad one, and the error instead of raising."""
        payload = msgspec.json.encode({"type": "ping"})
        data = b"data: " + payload + b"\n\ndata: {oops\n\ndata: " + payload + b"\n\n"
        events, error = sluice.EventStreamDecoder().decode(data)
        assert [type(event) for event in events] == [sluice.Ping]
        assert isinstance(error, sluice.EventDecodeError) and error.offset == len(payload) + 8

    @pytest.mark.parametrize("name", ALL)
    def test_decode_and_feed_agree_with_decode_event(self, name: str) -> None:
        """Whatever path a chunk takes, the events are decode_event's, frame by frame."""
        data = load(name)
        frames = sluice.SSEDecoder().feed(data)
        expected = []
        for frame in frames:
            try:
                expected.append(sluice.decode_event(frame.data, frame.event, frame.offset))
            except sluice.EventDecodeError:
                break
        assert sluice.to_builtins(events_of(name)) == sluice.to_builtins(expected)
