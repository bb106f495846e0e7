"""Tests for idle_timeout: a stream that goes quiet fails with what it delivered."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import aclosing
from typing import Any

import anyio
import anyio.lowlevel
import httpx
import pytest

from _util import Boom, Source, events_of, load
from sluice import (
    ErrorEvent,
    Event,
    MessageAccumulator,
    MessageStream,
    Ping,
    StreamIdleTimeoutError,
    TextBlock,
    ops,
    to_builtins,
)
from sluice.ops import idle_timeout
from sluice.types import ErrorDetail

pytestmark = pytest.mark.anyio


def text_of(message: Any) -> str:
    """The text of every text block of a message, joined."""
    return "".join(block.text for block in message.content if isinstance(block, TextBlock))


def partial_text(events: list[Event]) -> str:
    """The text a MessageAccumulator builds from ``events``."""
    acc = MessageAccumulator()
    for event in events:
        acc.feed(event)
    return text_of(acc.message)


class _HangingBody(httpx.AsyncByteStream):
    """A response body that sends ``data`` and then goes silent; records being closed."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.closed = False

    async def __aiter__(self) -> AsyncIterator[bytes]:
        yield self.data
        await anyio.sleep_forever()

    async def aclose(self) -> None:
        self.closed = True


class TestIdleTimeout:
    async def test_passes_every_event_through(self) -> None:
        """With events flowing, the output is the input, object for object, and the source is closed."""
        events = events_of("tool_use.sse")
        source = Source(events)
        async with aclosing(idle_timeout(source, 5.0)) as stream:
            out = [event async for event in stream]
        assert out == events
        assert all(a is b for a, b in zip(out, events, strict=True))
        assert source.closed

    async def test_no_timeout_while_each_gap_is_short(self) -> None:
        """Only the gap between events counts: a stream longer than the timeout is fine."""
        events = events_of("text.sse")[:15]
        source = Source(events, delay=0.01)  # 0.15 s in all, 0.01 s per gap
        async with aclosing(idle_timeout(source, 0.1)) as stream:
            out = [event async for event in stream]
        assert out == events

    async def test_consumer_time_does_not_count(self) -> None:
        """A consumer slower than the timeout does not trigger it: the clock runs only upstream."""
        events = events_of("text.sse")[:2]
        async with aclosing(idle_timeout(Source(events), 0.02)) as stream:
            out = []
            async for event in stream:
                out.append(event)
                await anyio.sleep(0.05)
        assert out == events

    async def test_timeout_carries_partial_message_and_closes_upstream(self) -> None:
        """A silent upstream raises StreamIdleTimeoutError with the text so far; upstream is closed."""
        events = events_of("text.sse")[:7]  # message_start, block start, 5 deltas
        source = Source(events, then="hang")
        out: list[Event] = []
        with pytest.raises(StreamIdleTimeoutError) as info:
            async with aclosing(idle_timeout(source, 0.05)) as stream:
                async for event in stream:
                    out.append(event)
        assert out == events
        error = info.value
        assert error.timeout == 0.05
        assert error.events_received == 7
        assert error.partial_message is not None
        assert text_of(error.partial_message) == partial_text(events) != ""
        assert source.closed
        assert "0.05 s" in str(error)

    async def test_timeout_before_the_first_event(self) -> None:
        """The first event is under the timeout too; nothing arrived, so no partial message."""
        source = Source([], then="hang")
        with pytest.raises(StreamIdleTimeoutError) as info:
            async with aclosing(idle_timeout(source, 0.02)) as stream:
                async for _ in stream:
                    pass
        assert info.value.partial_message is None
        assert info.value.events_received == 0
        assert source.closed

    async def test_error_event_passes_and_partial_report_survives(self) -> None:
        """An error event is passed on, not raised; a later timeout still reports the text before it."""
        events = events_of("text.sse")[:7]
        error_event = ErrorEvent(error=ErrorDetail(type="overloaded_error", message="busy"))
        source = Source([*events, error_event], then="hang")
        out: list[Event] = []
        with pytest.raises(StreamIdleTimeoutError) as info:
            async with aclosing(idle_timeout(source, 0.05)) as stream:
                async for event in stream:
                    out.append(event)
        assert out[-1] is error_event
        assert info.value.events_received == 8
        assert text_of(info.value.partial_message) == partial_text(events)

    async def test_message_stream_snapshot_is_reported_and_connection_released(self) -> None:
        """With a MessageStream upstream the error carries its snapshot, and the response is closed."""
        data = load("text.sse")
        cut = data.index(b"event: content_block_stop")
        body = _HangingBody(data[:cut])
        stream = MessageStream(httpx.Response(200, stream=body))
        with pytest.raises(StreamIdleTimeoutError) as info:
            async with aclosing(idle_timeout(stream, 0.05)) as events:
                async for _ in events:
                    pass
        error = info.value
        assert error.partial_message is stream.current_message_snapshot
        assert error.events_received == stream.events_received > 0
        expected = partial_text(events_of("text.sse"))
        assert text_of(error.partial_message) == expected
        assert body.closed and stream.response.is_closed

    async def test_upstream_errors_pass_through_and_close(self) -> None:
        """An exception from upstream propagates unchanged and the source is closed."""
        events = events_of("text.sse")[:3]
        source = Source(events, then=Boom("upstream broke"))
        out: list[Event] = []
        with pytest.raises(Boom, match="upstream broke"):
            async with aclosing(idle_timeout(source, 5.0)) as stream:
                async for event in stream:
                    out.append(event)
        assert out == events
        assert source.closed

    async def test_break_closes_upstream(self) -> None:
        """Leaving the loop early and closing the operator closes the source before its end."""
        source = Source(events_of("long_text.sse"))
        async with aclosing(idle_timeout(source, 5.0)) as stream:
            async for _ in stream:
                if source.pulled == 3:
                    break
        assert source.closed
        assert source.pulled == 3

    async def test_outer_cancellation_is_not_a_timeout(self) -> None:
        """Cancelling the consumer's scope while it waits is cancellation, not an idle timeout."""
        source = Source(events_of("text.sse")[:2], then="hang")
        with anyio.move_on_after(0.05) as scope:
            async with aclosing(idle_timeout(source, 60.0)) as stream:
                async for _ in stream:
                    pass
        assert scope.cancelled_caught
        assert source.closed

    async def test_cancellation_at_every_point_closes_upstream(self) -> None:
        """Cancelling the consumer's scope after any number of events leaves no open source."""
        events = events_of("thinking.sse")
        for cut in range(len(events) + 1):
            source = Source(events, then="hang")
            with anyio.CancelScope() as scope:
                async with aclosing(idle_timeout(source, 60.0)) as stream:
                    seen = 0
                    if cut == 0:
                        scope.cancel()
                    async for _ in stream:
                        seen += 1
                        if seen == cut:
                            scope.cancel()
            assert scope.cancelled_caught
            assert source.closed, cut
            assert source.pulled == cut

    @pytest.mark.parametrize("seconds", [0, -1.0, float("nan")])
    async def test_rejects_a_timeout_that_is_not_positive(self, seconds: float) -> None:
        """A zero, negative or NaN timeout is refused at the call, before any iteration."""
        source = Source([])
        with pytest.raises(ValueError, match="positive"):
            idle_timeout(source, seconds)
        await source.aclose()

    async def test_partial_message_matches_accumulator_builtins(self) -> None:
        """The reported partial message equals what an accumulator builds from the same events."""
        events = events_of("tool_use.sse")[:20]
        with pytest.raises(StreamIdleTimeoutError) as info:
            async with aclosing(idle_timeout(Source(events, then="hang"), 0.02)) as stream:
                async for _ in stream:
                    pass
        acc = MessageAccumulator()
        for event in events:
            acc.feed(event)
        assert to_builtins(info.value.partial_message) == to_builtins(acc.partial())


class TestPings:
    async def test_a_stream_of_pings_times_out(self) -> None:
        """Pings pass through but are not progress: only pings for longer than the timeout fail."""
        events = events_of("text.sse")[:2] + [Ping()] * 40
        source = Source(events, delay=0.01)  # 0.4 s of pings, one every 10 ms
        out: list[Event] = []
        with pytest.raises(StreamIdleTimeoutError) as info:
            async with aclosing(idle_timeout(source, 0.1)) as stream:
                async for event in stream:
                    out.append(event)
        assert 2 < len(out) < 20  # some pings went through before the clock ran out
        assert all(type(event) is Ping for event in out[2:])
        assert "pings are not progress" in str(info.value)
        assert source.closed

    async def test_pings_count_when_asked(self) -> None:
        """pings_count=True restores a plain gap timeout: pings keep the stream alive."""
        events = events_of("text.sse")[:2] + [Ping()] * 20 + events_of("text.sse")[3:]
        source = Source(events, delay=0.01)
        async with aclosing(idle_timeout(source, 0.1, pings_count=True)) as stream:
            out = [event async for event in stream]
        assert out == events

    async def test_progress_between_pings_resets_the_clock(self) -> None:
        """A delta between runs of pings resets the clock: each run is shorter than the timeout."""
        deltas = events_of("text.sse")[3:7]
        events = events_of("text.sse")[:2]
        for delta in deltas:
            events += [Ping()] * 5 + [delta]  # 60 ms per run at 10 ms per event
        source = Source(events, delay=0.01)
        async with aclosing(idle_timeout(source, 0.3)) as stream:  # 5x the runs' 60 ms
            out = [event async for event in stream]
        assert out == events


class TestWithControlled:
    async def test_upstream_of_controlled_a_pause_is_not_idleness(self) -> None:
        """controlled(idle_timeout(s)): a pause longer than the timeout does not fire it."""
        events = events_of("text.sse")
        async with ops.controlled(idle_timeout(Source(events), 0.05), buffer_size=4) as (
            stream,
            control,
        ):
            control.pause()
            await anyio.sleep(0.2)  # the buffer fills, the reader stops asking upstream
            control.resume()
            out = [event async for event in stream]
        assert out == events

    async def test_downstream_of_a_paused_controlled_the_pause_counts(self) -> None:
        """idle_timeout(controlled(s)) measures the consumer's pause: the documented misuse."""
        events = events_of("text.sse")
        with pytest.raises(StreamIdleTimeoutError):
            async with ops.controlled(Source(events), buffer_size=4) as (stream, control):
                control.pause()
                async with aclosing(idle_timeout(stream, 0.05)) as guarded:
                    async for _ in guarded:
                        pass
