"""Encoders for relays: SSE frames and JSON lines that decode back to the same events."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from contextlib import aclosing
from typing import Any

import anyio
import anyio.lowlevel
import msgspec
import pytest

import sluice
from _util import ALL, COMPLETE, load
from sluice import (
    CitationsDelta,
    ContentBlockDelta,
    ContentBlockStart,
    ErrorEvent,
    Event,
    EventStreamDecoder,
    MessageAccumulator,
    MessageDelta,
    MessageStart,
    Ping,
    SSEDecoder,
    TextDelta,
    UnknownEvent,
    decode_event,
    to_builtins,
    to_json,
)
from sluice.ops import _encode
from sluice.ops._encode import SSEEncoder, _event_json, event_item, to_jsonl, to_sse
from sluice.types import ErrorDetail, MessageDeltaBody, MessageDeltaUsage, ServerToolUsage

pytestmark = pytest.mark.anyio


def events_of(name: str) -> list[Event]:
    """Every event of a transcript, decoded."""
    return decode_all(load(name))


def decode_all(data: bytes) -> list[Event]:
    decoder = EventStreamDecoder()
    return [*decoder.feed(data), *decoder.close()]


def wire(events: list[Event]) -> list[tuple[type, Any]]:
    """What events say on the wire, with their classes: the round-trip comparison."""
    return [(type(event), to_builtins(event)) for event in events]


class Upstream:
    """An async iterator over events that records whether it was closed or ran out.

    ``like_stream`` raises the accumulator's errors as a ``MessageStream`` does; ``stall``
    waits forever after the last event.
    """

    def __init__(
        self, events: list[Event], *, like_stream: bool = False, stall: bool = False
    ) -> None:
        self.closed = False
        self.exhausted = False
        self._events = events
        self._like_stream = like_stream
        self._stall = stall
        self._gen = self._run()

    def __aiter__(self) -> Upstream:
        return self

    async def __anext__(self) -> Event:
        return await self._gen.__anext__()

    async def aclose(self) -> None:
        await self._gen.aclose()
        self.closed = True

    async def _run(self) -> AsyncGenerator[Event, None]:
        accumulator = MessageAccumulator()
        try:
            for event in self._events:
                await anyio.lowlevel.checkpoint()
                if self._like_stream:
                    accumulator.feed(event)
                yield event
            if self._stall:
                await anyio.sleep_forever()
            self.exhausted = True
        finally:
            self.closed = True


async def collect(items: Any) -> list[Any]:
    """Everything an operator yields, closing it afterwards."""
    async with aclosing(items) as it:
        return [item async for item in it]


TEXT = ContentBlockDelta(index=0, delta=TextDelta(text='Hi "there"\n'))


class TestEventJson:
    @pytest.mark.parametrize("name", ALL)
    def test_equals_to_json_for_every_recorded_event(self, name: str) -> None:
        """The fast path writes the same bytes as sluice.to_json, event by event."""
        for event in events_of(name):
            assert _event_json(event) == to_json(event), event

    @pytest.mark.parametrize("name", ["thinking.sse", "tool_use.sse", "web_search.sse"])
    def test_only_rare_events_take_the_slow_path(
        self, name: str, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """Only start events and citations deltas, which may carry extras, use to_json."""
        slow: list[Any] = []

        def spy(value: Any) -> bytes:
            slow.append(value)
            return to_json(value)

        monkeypatch.setattr(_encode, "to_json", spy)
        events = events_of(name)
        for event in events:
            _event_json(event)
        rare = [
            event
            for event in events
            if isinstance(event, MessageStart | ContentBlockStart)
            or isinstance(getattr(event, "delta", None), CitationsDelta)
        ]
        assert slow == rare

    def test_fields_stashed_on_a_delta_are_kept(self) -> None:
        """A delta carrying unknown fields goes the slow way and keeps them."""
        delta = TextDelta(text="x")
        delta._extra = {"sparkle": 1}  # type: ignore[attr-defined]
        event = ContentBlockDelta(index=0, delta=delta)
        assert msgspec.json.decode(_event_json(event))["delta"]["sparkle"] == 1
        assert _event_json(event) == to_json(event)

    def test_fields_stashed_deep_in_message_delta_are_kept(self) -> None:
        """Unknown fields nested in message_delta usage survive the encoding."""
        tools = ServerToolUsage(web_search_requests=1)
        tools._extra = {"new_tool_requests": 2}  # type: ignore[attr-defined]
        event = MessageDelta(
            delta=MessageDeltaBody(stop_reason="end_turn"),
            usage=MessageDeltaUsage(output_tokens=5, server_tool_use=tools),
        )
        data = msgspec.json.decode(_event_json(event))
        assert data["usage"]["server_tool_use"] == {
            "web_search_requests": 1,
            "new_tool_requests": 2,
        }
        assert _event_json(event) == to_json(event)


class TestSSEEncoder:
    def test_frame_layout(self) -> None:
        """A frame is id, event and one data line of wire JSON, then a blank line."""
        frame = SSEEncoder().encode(TEXT)
        assert frame == (
            b"id: 1\nevent: content_block_delta\n"
            b'data: {"type":"content_block_delta","index":0,'
            b'"delta":{"type":"text_delta","text":"Hi \\"there\\"\\n"}}\n\n'
        )

    @pytest.mark.parametrize("name", ALL)
    def test_event_item_is_the_frame_in_parts(self, name: str) -> None:
        """event_item gives a frame's event name and data, for every recorded event."""
        encoder = SSEEncoder(include_ids=False)
        for event in events_of(name):
            kind, data = event_item(event)
            assert encoder.encode(event) == b"event: %s\ndata: %s\n\n" % (kind.encode(), data)

    def test_ids_count_up_from_start_id(self) -> None:
        """Ids increase by one per frame from start_id; next_id says what comes next."""
        encoder = SSEEncoder(start_id=41)
        frames = b"".join(encoder.encode(event) for event in events_of("text.sse"))
        ids = [sse.id for sse in SSEDecoder().feed(frames)]
        assert ids == [str(41 + n) for n in range(len(ids))]
        assert encoder.next_id == 41 + len(ids)
        assert "next_id=" in repr(encoder)

    def test_without_ids(self) -> None:
        """include_ids=False writes the API's own shape, and ids still advance."""
        encoder = SSEEncoder(include_ids=False)
        assert encoder.encode(Ping()) == b'event: ping\ndata: {"type":"ping"}\n\n'
        assert encoder.next_id == 2

    def test_unknown_event_keeps_its_sse_name(self) -> None:
        """An unknown event goes out under the name it came with, its JSON untouched."""
        raw = {"type": "content_block_progress", "index": 0, "progress": {"percent": 40}}
        frame = SSEEncoder(include_ids=False).encode(UnknownEvent(event="progress_v2", raw=raw))
        assert frame.startswith(b"event: progress_v2\ndata: ")
        assert msgspec.json.decode(frame.split(b"data: ")[1]) == raw

    def test_unknown_event_without_name_uses_its_type(self) -> None:
        """With no SSE name, the JSON type names the frame."""
        frame = SSEEncoder().encode(UnknownEvent(raw={"type": "shiny"}))
        assert b"\nevent: shiny\n" in frame

    def test_name_with_line_break_is_refused(self) -> None:
        """A hand-made unknown event whose name would break the framing raises ValueError."""
        encoder = SSEEncoder()
        with pytest.raises(ValueError, match="line break"):
            encoder.encode(UnknownEvent(event="a\nevent: b", raw={}))
        assert encoder.next_id == 1

    def test_error_event_for_relaying_an_exception(self) -> None:
        """An error caught from a stream can be sent on as the API's own error frame."""
        error = ErrorEvent(error=ErrorDetail(type="overloaded_error", message="Overloaded"))
        frame = SSEEncoder(include_ids=False).encode(error)
        with pytest.raises(sluice.OverloadedError):
            MessageAccumulator().feed(decode_all(frame)[0])


class TestToSSE:
    @pytest.mark.parametrize("name", COMPLETE)
    async def test_round_trip(self, name: str) -> None:
        """Decoding the frames gives the same events and the same final message."""
        events = events_of(name)
        data = b"".join(await collect(to_sse(Upstream(events))))
        again = decode_all(data)
        assert wire(again) == wire(events)
        first, second = MessageAccumulator(), MessageAccumulator()
        for event in events:
            first.feed(event)
        for event in again:
            second.feed(event)
        assert to_builtins(second.finish()) == to_builtins(first.finish())

    async def test_unknown_event_names_survive(self) -> None:
        """Unknown events come back with their SSE event names."""
        data = b"".join(await collect(to_sse(Upstream(events_of("unknown_types.sse")))))
        names = [e.event for e in decode_all(data) if isinstance(e, UnknownEvent)]
        assert names == ["content_block_progress", "content_block_progress"]

    async def test_error_event_is_encoded_when_it_is_just_an_event(self) -> None:
        """From a plain event source, the error event itself round-trips."""
        events = events_of("overloaded_error.sse")
        data = b"".join(await collect(to_sse(Upstream(events), include_ids=False)))
        assert wire(decode_all(data)) == wire(events)
        assert data.endswith(b"event: error\ndata: " + to_json(events[-1]) + b"\n\n")

    async def test_stream_error_propagates_and_closes(self) -> None:
        """A stream that raises on its error event: the error propagates, upstream closed."""
        source = Upstream(events_of("overloaded_error.sse"), like_stream=True)
        frames: list[bytes] = []
        with pytest.raises(sluice.OverloadedError):
            async with aclosing(to_sse(source)) as sse:
                async for frame in sse:
                    frames.append(frame)
        assert len(frames) == len(events_of("overloaded_error.sse")) - 1
        assert source.closed

    async def test_start_id_and_ids(self) -> None:
        """start_id and include_ids reach the encoder."""
        frames = await collect(to_sse(Upstream(events_of("text.sse")), start_id=7))
        assert frames[0].startswith(b"id: 7\n") and frames[1].startswith(b"id: 8\n")
        plain = await collect(to_sse(Upstream(events_of("text.sse")), include_ids=False))
        assert all(frame.startswith(b"event: ") for frame in plain)

    async def test_break_closes_upstream(self) -> None:
        """Leaving early and closing the encoder closes the upstream."""
        source = Upstream(events_of("text.sse"))
        async with aclosing(to_sse(source)) as frames:
            async for _ in frames:
                break
        assert source.closed and not source.exhausted

    async def test_cancellation_closes_upstream(self) -> None:
        """move_on_after around a relay over a stalled stream closes the upstream."""
        source = Upstream(events_of("text.sse"), stall=True)
        async with aclosing(to_sse(source)) as frames:
            with anyio.move_on_after(0.01) as scope:
                async for _ in frames:
                    pass
        assert scope.cancelled_caught and source.closed and not source.exhausted


class TestToJsonl:
    @pytest.mark.parametrize("name", ALL)
    async def test_one_wire_json_line_per_event(self, name: str) -> None:
        """Each line is sluice.to_json of its event, and decodes back to an equal event."""
        events = events_of(name)
        lines = await collect(to_jsonl(Upstream(events)))
        assert lines == [to_json(event) + b"\n" for event in events]
        again = [
            decode_event(line.rstrip(b"\n"), event.type)
            for line, event in zip(lines, events, strict=True)
        ]
        assert wire(again) == wire(events)

    async def test_break_closes_upstream(self) -> None:
        """Leaving early and closing closes the upstream."""
        source = Upstream(events_of("tool_use.sse"))
        async with aclosing(to_jsonl(source)) as lines:
            async for _ in lines:
                break
        assert source.closed and not source.exhausted

    async def test_error_propagates_and_closes(self) -> None:
        """An upstream error propagates and the upstream is closed."""
        source = Upstream(events_of("overloaded_error.sse"), like_stream=True)
        with pytest.raises(sluice.OverloadedError):
            await collect(to_jsonl(source))
        assert source.closed
