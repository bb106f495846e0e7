"""Tests for controlled: pause, resume and cancel over a bounded buffer with overflow policies."""

from __future__ import annotations

import inspect
from collections.abc import AsyncGenerator
from typing import Any

import anyio
import anyio.lowlevel
import httpx
import pytest

from _util import (
    COMPLETE,
    Body,
    Boom,
    Source,
    drain_slowly,
    events_of,
    final,
    load,
    message_stream,
    normalize,
    pieces,
    settle,
    text_stream,
)
from sluice import (
    ContentBlockDelta,
    ErrorEvent,
    Event,
    InputJSONDelta,
    Message,
    MessageStart,
    MessageStop,
    MessageStream,
    Ping,
    StreamError,
    TextBlock,
    TextDelta,
    ops,
    to_builtins,
)
from sluice.ops._coalesce import Merge
from sluice.ops._control import (
    _MAX_PIECES,
    CHECKPOINT_EVERY,
    BufferOverflowError,
    Overflow,
    controlled,
)
from sluice.types import ErrorDetail

pytestmark = pytest.mark.anyio

POLICIES: list[Overflow] = ["block", "drop_oldest", "coalesce", "error"]

# -- helpers --------------------------------------------------------------------------------


def is_delta(event: Event) -> bool:
    return isinstance(event, ContentBlockDelta)


def text_of(event: Event) -> str:
    """The text of a text delta event."""
    assert isinstance(event, ContentBlockDelta) and isinstance(event.delta, TextDelta)
    return event.delta.text


def chars(entry: Any) -> int:
    """The characters of text a buffer entry holds (0 for an event other than a text delta)."""
    if type(entry) is Merge:
        return entry.chars
    if isinstance(entry, ContentBlockDelta) and isinstance(entry.delta, TextDelta):
        return len(entry.delta.text)
    return 0


def same_objects(a: list[Event], b: list[Event]) -> bool:
    return len(a) == len(b) and all(x is y for x, y in zip(a, b, strict=True))


# -- pause and resume ----------------------------------------------------------------------


class TestPauseResume:
    @pytest.mark.parametrize("name", ["text.sse", "citations.sse", "tool_use.sse"])
    async def test_everything_in_order_when_never_paused(self, name: str) -> None:
        """Without pausing, the consumer gets the upstream's events, object for object."""
        events = events_of(name)
        source = Source(events)
        async with controlled(source, buffer_size=8) as (stream, control):
            out = [event async for event in stream]
        assert same_objects(out, events)
        assert source.closed
        assert control.high_water <= 8

    async def test_nothing_is_delivered_while_paused_and_all_after_resume(self) -> None:
        """A paused consumer waits without spinning; resume delivers the buffer, in order."""
        events = text_stream(["a"] * 50)
        received: list[Event] = []
        async with controlled(Source(events), buffer_size=100) as (stream, control):
            control.pause()

            async def consume() -> None:
                async for event in stream:
                    received.append(event)

            async with anyio.create_task_group() as tg:
                tg.start_soon(consume)
                with anyio.fail_after(5):  # would never return if the consumer spun
                    await anyio.wait_all_tasks_blocked()
                assert received == []
                assert control.is_paused
                assert control.buffered == len(events)
                control.resume()
            assert not control.is_paused
        assert same_objects(received, events)

    async def test_pause_from_another_task_midway_then_resume(self) -> None:
        """Pausing from another task stops delivery where it is; resume continues in order."""
        events = text_stream([f"{i} " for i in range(40)])
        received: list[Event] = []
        reached, go = anyio.Event(), anyio.Event()
        async with controlled(Source(events), buffer_size=16) as (stream, control):

            async def consume() -> None:
                async for event in stream:
                    received.append(event)
                    if len(received) == 10:
                        reached.set()
                        await go.wait()

            async with anyio.create_task_group() as tg:
                tg.start_soon(consume)
                with anyio.fail_after(5):
                    await reached.wait()
                    control.pause()
                    go.set()
                    await anyio.wait_all_tasks_blocked()
                assert len(received) == 10
                assert control.buffered == 16
                control.resume()
        assert same_objects(received, events)

    async def test_pause_in_the_consumers_own_loop_stops_delivery_at_the_next_event(
        self,
    ) -> None:
        """Pausing from the loop body with events buffered: the very next __anext__ blocks."""
        events = text_stream(["p"] * 200)
        received: list[Event] = []
        async with controlled(Source(events), buffer_size=256) as (stream, control):
            control.pause()
            await settle(stream)
            control.resume()

            async def consume() -> None:
                async for event in stream:
                    received.append(event)
                    if len(received) == 5:
                        control.pause()

            async with anyio.create_task_group() as tg:
                tg.start_soon(consume)
                with anyio.fail_after(5):
                    await anyio.wait_all_tasks_blocked()
                assert len(received) == 5
                assert control.buffered == len(events) - 5
                control.resume()
        assert same_objects(received, events)


class TestScheduling:
    async def test_a_consumer_that_never_awaits_still_lets_other_tasks_run(self) -> None:
        """Taking buffered events, the consumer yields to other tasks every CHECKPOINT_EVERY."""
        events = text_stream(["t"] * (8 * CHECKPOINT_EVERY))
        ticks = 0
        seen: list[int] = []  # the ticker's count when each event was handed out

        async def ticker() -> None:
            nonlocal ticks
            while True:
                ticks += 1
                await anyio.lowlevel.checkpoint()

        async with controlled(Source(events), buffer_size=len(events)) as (stream, control):
            control.pause()
            await settle(stream)  # everything is buffered: no waiting from here on
            control.resume()
            async with anyio.create_task_group() as tg:
                tg.start_soon(ticker)
                async for _ in stream:
                    seen.append(ticks)
                tg.cancel_scope.cancel()
        assert len(seen) == len(events)
        # Each checkpoint lets the ticker run; trio orders every batch of runnable tasks at
        # random, so the ticker may run just before one checkpoint and just after the next.
        longest = max(seen.count(tick) for tick in set(seen))
        assert longest <= 2 * CHECKPOINT_EVERY
        assert len(set(seen)) >= len(events) // (2 * CHECKPOINT_EVERY)

    async def test_cancellation_reaches_a_consumer_that_never_awaits(self) -> None:
        """A cancelled scope stops a consumer of buffered events within CHECKPOINT_EVERY."""
        events = text_stream(["c"] * (4 * CHECKPOINT_EVERY))
        source = Source(events)
        taken = 0
        async with controlled(source, buffer_size=len(events)) as (stream, control):
            control.pause()
            await settle(stream)
            control.resume()
            with anyio.CancelScope() as scope:
                async for _ in stream:
                    taken += 1
                    if taken == 10:
                        scope.cancel()
            assert scope.cancelled_caught
            assert 10 <= taken <= 10 + CHECKPOINT_EVERY
            assert control.buffered == len(events) - taken  # nothing lost to the cancellation
        assert source.closed

    async def test_the_reader_refills_a_full_buffer_in_batches(self) -> None:
        """Blocked on a full buffer, the reader waits until half of it is taken, then refills."""
        events = text_stream(["r"] * 100)
        source = Source(events)
        pulled: list[int] = []
        async with controlled(source, buffer_size=16) as (stream, control):
            await settle(stream)
            assert (control.buffered, source.pulled) == (16, 17)  # and one event in hand
            for _ in range(12):
                await anext(stream)
                await settle(stream)
                pulled.append(source.pulled)
            assert control.high_water == 16
        # No read while more than half is buffered; at half, one batch back up to full.
        assert pulled == [17] * 7 + [25] * 5

    async def test_an_upstream_error_jumps_the_queue_of_a_consumer_midway(self) -> None:
        """A consumer taking buffered events gets the upstream's error before the rest."""
        events = text_stream(["m"] * 50)
        failing = anyio.Event()
        closed: list[bool] = []

        async def source() -> AsyncGenerator[Event, None]:
            try:
                for event in events:
                    await anyio.lowlevel.checkpoint()
                    yield event
                await failing.wait()
                raise Boom("reset")
            finally:
                closed.append(True)

        async with controlled(source(), buffer_size=64) as (stream, control):
            with anyio.fail_after(5):
                while control.buffered < len(events):
                    await anyio.lowlevel.checkpoint()
            received = [await anext(stream) for _ in range(3)]
            failing.set()
            with anyio.fail_after(5):
                while not stream._done:
                    await anyio.lowlevel.checkpoint()
            assert control.buffered == 0  # the rest was discarded for the error
            with pytest.raises(Boom):
                await anext(stream)
            with pytest.raises(StopAsyncIteration):
                await anext(stream)
        assert same_objects(received, events[:3])
        assert closed == [True]


# -- overflow policies ------------------------------------------------------------------------

MANY = 10_000


class TestOverflow:
    async def test_block_bounds_the_buffer_and_the_read_ahead(self) -> None:
        """With "block", 10k deltas behind a paused consumer: buffer_size held, one event read ahead."""
        events = text_stream(["x"] * MANY)
        source = Source(events)
        async with controlled(source, buffer_size=64) as (stream, control):
            control.pause()
            await settle(stream)
            assert control.buffered == control.high_water == 64
            assert source.pulled <= 64 + 1
            control.resume()
            out = [event async for event in stream]
            assert control.high_water == 64
            assert control.dropped == 0
        assert same_objects(out, events)

    async def test_block_pushes_back_on_a_slow_consumer(self) -> None:
        """Without pausing, a slow consumer is never more than buffer_size + 1 events behind."""
        events = text_stream(["y"] * 2000)
        source = Source(events)
        out: list[Event] = []
        async with controlled(source, buffer_size=16) as (stream, control):
            while True:
                await settle(stream)
                assert source.pulled - len(out) <= 16 + 1
                try:
                    out.append(await anext(stream))
                except StopAsyncIteration:
                    break
            assert control.high_water == 16
        assert same_objects(out, events)

    async def test_drop_oldest_drops_the_oldest_deltas_and_counts_them(self) -> None:
        """With "drop_oldest", the reader reads on; the oldest deltas go, counted; structure stays."""
        events = text_stream([str(i) for i in range(MANY)])
        source = Source(events)
        async with controlled(source, buffer_size=64, overflow="drop_oldest") as (stream, control):
            control.pause()
            await settle(stream)
            assert source.pulled == len(events)
            assert control.buffered == control.high_water == 64
            control.resume()
            out = [event async for event in stream]
            dropped = control.dropped
        structure = [e for e in events if not is_delta(e)]
        assert [e for e in out if not is_delta(e)] == structure
        kept = 64 - len(structure)
        assert [e for e in out if is_delta(e)] == [e for e in events if is_delta(e)][-kept:]
        assert dropped == MANY - kept
        assert len(out) + dropped == len(events)

    async def test_drop_oldest_drops_pings_too(self) -> None:
        """Keep-alive pings are droppable like deltas; message_start and message_stop are not."""
        events: list[Event] = [
            MessageStart(message=Message(id="msg_1")),
            *[Ping() for _ in range(100)],
            MessageStop(),
        ]
        async with controlled(Source(events), buffer_size=4, overflow="drop_oldest") as (
            stream,
            control,
        ):
            control.pause()
            await settle(stream)
            control.resume()
            out = [event async for event in stream]
        assert [e.type for e in out] == ["message_start", "ping", "ping", "message_stop"]
        assert control.dropped == 98

    async def test_drop_oldest_blocks_when_only_structure_is_buffered(self) -> None:
        """A buffer holding nothing droppable makes the reader wait instead of dropping structure."""
        events = text_stream(*([[]] * 10))  # ten empty blocks: no delta at all
        source = Source(events)
        async with controlled(source, buffer_size=3, overflow="drop_oldest") as (stream, control):
            control.pause()
            await settle(stream)
            assert source.pulled == 3 + 1
            assert control.dropped == 0
            control.resume()
            out = [event async for event in stream]
        assert same_objects(out, events)

    async def test_coalesce_merges_instead_of_dropping(self) -> None:
        """With "coalesce", 10k deltas in 3 blocks fit a 16-entry buffer with no text lost."""
        events = text_stream(*[[f"{b}.{i} " for i in range(MANY // 3)] for b in range(3)])
        source = Source(events)
        async with controlled(source, buffer_size=16, overflow="coalesce") as (stream, control):
            control.pause()
            await settle(stream)
            assert source.pulled == len(events)  # merging made room for everything
            assert control.high_water <= 16
            control.resume()
            out = [event async for event in stream]
            assert control.high_water <= 16
            assert control.dropped == 0
        assert len(out) == 3 * 3 + 3
        assert normalize(out) == normalize(events)
        assert final(out) == final(events)

    async def test_coalesce_blocks_when_full_of_other_events(self) -> None:
        """When merging frees no room, "coalesce" pushes back, and still loses nothing."""
        events = text_stream(*[["a", "b", "c"] for _ in range(40)])
        source = Source(events)
        async with controlled(source, buffer_size=8, overflow="coalesce") as (stream, control):
            control.pause()
            await settle(stream)
            assert not stream._done
            assert source.pulled < len(events)
            control.resume()
            out = await drain_slowly(stream)
            assert control.high_water == 8
        assert normalize(out) == normalize(events)

    @pytest.mark.parametrize("name", COMPLETE)
    async def test_coalesce_keeps_every_transcript_intact(self, name: str) -> None:
        """Citations, signatures, tool input and server tools survive coalescing unchanged."""
        events = events_of(name)
        async with controlled(Source(events), buffer_size=4, overflow="coalesce") as (
            stream,
            control,
        ):
            control.pause()
            await settle(stream)
            control.resume()
            out = await drain_slowly(stream)
        assert normalize(out) == normalize(events)
        assert final(out) == final(events)

    async def test_coalesce_caps_the_text_of_each_entry(self) -> None:
        """Paused "coalesce" holds at most buffer_size entries of max_merge_chars, then blocks."""
        events = text_stream(["abcd"] * 1000)
        source = Source(events)
        async with controlled(source, buffer_size=4, overflow="coalesce", max_merge_chars=100) as (
            stream,
            control,
        ):
            control.pause()
            await settle(stream)
            assert not stream._done  # blocked: the merges are full, no slot is free
            buffered = [chars(entry) for entry in stream._buffer]
            assert control.buffered == 4 and all(c <= 100 for c in buffered)
            # message_start, block start, then deltas: 2 entries of at most 100 characters
            # (25 deltas each), and the one event in the reader's hand.
            assert source.pulled <= 2 + 2 * 25 + 1
            control.resume()
            out = await drain_slowly(stream)
        deltas = [e for e in out if is_delta(e)]
        assert all(len(text_of(e)) <= 100 for e in deltas)
        assert normalize(out) == normalize(events)
        assert final(out) == final(events)

    async def test_coalesce_keeps_a_delta_larger_than_the_cap_whole(self) -> None:
        """A single delta over max_merge_chars takes a slot of its own, unsplit, and ends merges."""
        big = "x" * 500
        events = text_stream(["a", "b", big, "c", "d"])
        async with controlled(
            Source(events), buffer_size=3, overflow="coalesce", max_merge_chars=100
        ) as (stream, control):
            control.pause()
            await settle(stream)
            control.resume()
            out = await drain_slowly(stream)
        assert [text_of(e) for e in out if is_delta(e)] == ["ab", big, "cd"]
        assert normalize(out) == normalize(events)

    async def test_coalesce_paused_for_a_whole_stream_holds_few_pieces(self) -> None:
        """Merged entries join their pieces as they grow: memory follows the text, not the deltas."""
        events = text_stream([f"{i % 10}" * 2 for i in range(5000)])
        source = Source(events)
        async with controlled(
            source, buffer_size=16, overflow="coalesce", max_merge_chars=4096
        ) as (stream, control):
            control.pause()
            await settle(stream)
            assert source.pulled == len(events)  # 10,000 characters fit easily
            merges = [entry for entry in stream._buffer if type(entry) is Merge]
            assert merges and all(len(m.pieces) <= _MAX_PIECES + 1 for m in merges)
            assert all(m.chars <= 4096 for m in merges)
            control.resume()
            out = [event async for event in stream]
        assert normalize(out) == normalize(events)
        assert final(out) == final(events)

    @pytest.mark.parametrize("paused", [True, False])
    async def test_error_raises_overflow_with_the_partial_message(self, paused: bool) -> None:
        """With "error", a full buffer raises BufferOverflowError at once, carrying all text read."""
        pieces = [f"{i}," for i in range(100)]
        source = Source(text_stream(pieces))
        async with controlled(source, buffer_size=8, overflow="error") as (stream, control):
            if paused:
                control.pause()
            await settle(stream)
            assert source.closed
            assert control.buffered == 0
            with pytest.raises(BufferOverflowError) as info:
                await anext(stream)
            with pytest.raises(StopAsyncIteration):
                await anext(stream)
        error = info.value
        assert isinstance(error, StreamError)
        assert error.buffer_size == 8
        # message_start, block start and 6 deltas filled the buffer; the 7th overflowed it.
        assert error.events_received == 9
        assert error.partial_message is not None
        block = error.partial_message.content[0]
        assert isinstance(block, TextBlock) and block.text == "".join(pieces[:7])
        assert ("paused" in str(error)) is paused

    async def test_busy_consumer_overflows(self) -> None:
        """A consumer busy elsewhere (not asking) while the buffer fills gets the overflow."""
        events = text_stream(["w"] * 50)
        with pytest.raises(BufferOverflowError) as info:
            async with controlled(Source(events), buffer_size=4, overflow="error") as (stream, _):
                async for _event in stream:
                    await anyio.sleep(0.01)  # busy with each event
        assert "busy elsewhere" in str(info.value)

    def test_buffer_size_must_be_an_integer(self) -> None:
        """buffer_size=1.5 (or True) is refused at the call."""
        for bad in (1.5, True, 0, "8"):
            with pytest.raises(ValueError, match="buffer_size"):
                controlled(Source([]), buffer_size=bad)  # type: ignore[arg-type]

    async def test_drop_oldest_never_drops_tool_input(self) -> None:
        """drop_oldest drops text, never an input_json_delta: tool input stays whole."""
        events = events_of("tool_use.sse")
        async with controlled(Source(events), buffer_size=3, overflow="drop_oldest") as (
            stream,
            control,
        ):
            control.pause()
            await settle(stream)
            control.resume()
            out = [event async for event in stream]
        kept_json = [
            e for e in out if type(e) is ContentBlockDelta and type(e.delta) is InputJSONDelta
        ]
        sent_json = [
            e for e in events if type(e) is ContentBlockDelta and type(e.delta) is InputJSONDelta
        ]
        assert kept_json == sent_json
        assert control.dropped > 0
        calls = [
            item async for item in ops.tool_calls(Source(out)) if isinstance(item, ops.ToolCall)
        ]
        assert calls and all(isinstance(call.input, dict) for call in calls)

    async def test_no_overflow_while_the_consumer_keeps_up(self) -> None:
        """The "error" policy never fires for a consumer that reads as fast as events come."""
        events = text_stream(["z"] * 200)
        async with controlled(Source(events), buffer_size=2, overflow="error") as (stream, _):
            out = [event async for event in stream]
        assert same_objects(out, events)


# -- errors -----------------------------------------------------------------------------------


class TestErrors:
    async def test_upstream_exception_bypasses_a_paused_buffer(self) -> None:
        """A paused consumer waiting for an event gets the upstream's exception at once."""
        source = Source(text_stream(["q"] * 20), then=Boom("connection reset"))
        received: list[Event] = []
        caught: list[BaseException] = []
        async with controlled(source, buffer_size=64) as (stream, control):
            control.pause()

            async def consume() -> None:
                try:
                    async for event in stream:
                        received.append(event)
                except Boom as exc:
                    caught.append(exc)

            with anyio.fail_after(5):
                async with anyio.create_task_group() as tg:
                    tg.start_soon(consume)
            assert control.is_paused
            assert control.buffered == 0
        assert received == []
        assert [str(e) for e in caught] == ["connection reset"]
        assert source.closed

    async def test_error_event_bypasses_the_buffer_and_ends_the_stream(self) -> None:
        """An in-stream error event jumps the paused buffer; reading stops there and iteration ends."""
        error_event = ErrorEvent(error=ErrorDetail(type="overloaded_error", message="busy"))
        events = [*text_stream(["e"] * 10)[:-3], error_event, *text_stream(["late"])]
        source = Source(events)
        async with controlled(source, buffer_size=64) as (stream, control):
            control.pause()
            await settle(stream)
            assert await anext(stream) is error_event
            with pytest.raises(StopAsyncIteration):
                await anext(stream)
        assert source.pulled == events.index(error_event) + 1
        assert source.closed

    async def test_an_error_in_the_body_propagates_unwrapped(self) -> None:
        """An exception raised inside the async with block comes out as itself, not an ExceptionGroup."""
        source = Source(events_of("text.sse"), then="hang")
        with pytest.raises(Boom, match="consumer failed"):
            async with controlled(source) as (stream, _):
                await anext(stream)
                raise Boom("consumer failed")
        assert source.closed


# -- cancel -----------------------------------------------------------------------------------


class TestCancel:
    async def test_cancel_from_another_task_closes_upstream_and_ends_iteration(self) -> None:
        """cancel() from another task ends the consumer's loop cleanly, after the upstream closed."""
        source = Source(events_of("long_text.sse"), then="hang")
        received: list[Event] = []
        reached = anyio.Event()
        closed_when_loop_ended: list[bool] = []
        async with controlled(source, buffer_size=8) as (stream, control):

            async def consume() -> None:
                async for event in stream:
                    received.append(event)
                    if len(received) == 3:
                        reached.set()
                closed_when_loop_ended.append(source.closed)

            with anyio.fail_after(5):
                async with anyio.create_task_group() as tg:
                    tg.start_soon(consume)
                    await reached.wait()
                    control.cancel()
            assert control.is_cancelled
            assert control.buffered == 0
        assert closed_when_loop_ended == [True]

    async def test_cancel_wakes_a_paused_consumer(self) -> None:
        """A consumer waiting on a paused stream ends its loop when another task cancels."""
        source = Source(events_of("text.sse"))
        async with controlled(source, buffer_size=4) as (stream, control):
            control.pause()
            received: list[Event] = []

            async def consume() -> None:
                async for event in stream:
                    received.append(event)

            with anyio.fail_after(5):
                async with anyio.create_task_group() as tg:
                    tg.start_soon(consume)
                    await anyio.wait_all_tasks_blocked()
                    control.cancel()
        assert received == []
        assert source.closed

    async def test_cancel_before_entering(self) -> None:
        """Cancelling before the block starts: nothing is read, the iteration is empty."""
        source = Source(events_of("text.sse"))
        manager = controlled(source)
        manager.control.cancel()
        async with manager as (stream, control):
            assert [event async for event in stream] == []
            assert control.is_cancelled
        assert source.pulled == 0

    async def test_aclose_closes_upstream_and_ends_iteration(self) -> None:
        """aclose() on the events cancels, and returns once the upstream is closed."""
        source = Source(events_of("text.sse"), then="hang")
        async with controlled(source) as (stream, control):
            await anext(stream)
            await stream.aclose()
            assert source.closed
            assert control.is_cancelled
            assert [event async for event in stream] == []
            await stream.aclose()  # idempotent

    async def test_control_after_the_end_is_harmless(self) -> None:
        """pause, resume and cancel after the stream ended do nothing; repr shows the state."""
        async with controlled(Source(text_stream(["a"])), buffer_size=4) as (stream, control):
            out = [event async for event in stream]
        assert len(out) == 6
        control.pause()
        assert repr(control) == "<Control paused buffered=0/4 overflow='block' dropped=0>"
        control.resume()
        control.cancel()
        control.cancel()
        assert control.is_cancelled
        assert (control.buffer_size, control.overflow) == (4, "block")

    @pytest.mark.parametrize("overflow", POLICIES)
    async def test_cancelling_the_consumer_at_every_point_closes_upstream(
        self, overflow: Overflow
    ) -> None:
        """Cancelling the consumer's scope at any point, paused or not, leaves no open source."""
        events = events_of("thinking.sse")
        for cut in range(len(events) + 1):
            source = Source(events, then="hang")
            overflowed = False
            with anyio.CancelScope() as scope:
                if cut == 0:
                    scope.cancel()
                try:
                    async with controlled(source, buffer_size=4, overflow=overflow) as (
                        stream,
                        control,
                    ):
                        seen = 0
                        async for _ in stream:
                            seen += 1
                            if cut % 3 == 0:
                                await settle(stream, source)  # let the buffer fill up
                            # "drop_oldest" may leave fewer events than the cut: stop at the end.
                            if seen == cut or (source.hanging and control.buffered == 0):
                                control.pause()
                                scope.cancel()
                                await anyio.lowlevel.checkpoint()
                except BufferOverflowError:
                    assert overflow == "error"
                    overflowed = True
            assert scope.cancelled_caught or overflowed, cut
            assert source.closed, cut

    async def test_deadline_while_paused_closes_upstream(self) -> None:
        """A deadline expiring while a paused consumer waits closes the upstream."""
        source = Source(events_of("text.sse"), then="hang")
        with anyio.move_on_after(0.05) as scope:
            async with controlled(source) as (stream, control):
                control.pause()
                async for _ in stream:
                    pass
        assert scope.cancelled_caught
        assert source.closed


class TestArguments:
    async def test_iterating_without_entering_is_an_error(self) -> None:
        """The events can only be read inside async with, where the reader runs."""
        source = Source([])
        manager = controlled(source)
        with pytest.raises(RuntimeError, match="async with"):
            await anext(manager)
        await manager.aclose()
        with pytest.raises(StopAsyncIteration):  # it was closed before it ever started
            await anext(source.gen)

    @pytest.mark.parametrize(
        ("options", "match"),
        [
            ({"buffer_size": 0}, "buffer_size"),
            ({"overflow": "drop_newest"}, "overflow"),
            ({"max_merge_chars": 0}, "max_merge_chars"),
        ],
    )
    async def test_rejects_bad_arguments(self, options: dict[str, Any], match: str) -> None:
        """A buffer smaller than one, an unknown policy or a merge cap below 1 is refused."""
        source = Source([])
        with pytest.raises(ValueError, match=match):
            controlled(source, **options)
        await source.aclose()


# -- over a MessageStream: one HTTP chunk at a time ---------------------------------------------


def spy_batches(stream: MessageStream) -> list[list[Event]]:
    """Record the lists ``stream.aiter_batches()`` hands out (controlled's fast path)."""
    taken: list[list[Event]] = []
    original = stream.aiter_batches

    async def recorded() -> AsyncGenerator[list[Event], None]:
        batches = original()
        try:
            async for batch in batches:
                taken.append(batch)
                yield batch
        finally:
            await batches.aclose()

    stream.aiter_batches = recorded  # type: ignore[method-assign]
    return taken


async def plain_run(name: str) -> tuple[list[Event], BaseException | None, Any]:
    """The oracle: plain iteration of a MessageStream over a transcript.

    The events, the error that ended it (or None), and the final message as builtins (or
    None when there is none).
    """
    stream, body = message_stream(pieces(load(name), 97))
    events: list[Event] = []
    error: BaseException | None = None
    try:
        async for event in stream:
            events.append(event)
    except Exception as exc:
        error = exc
    message = None if error is not None else to_builtins(await stream.final_message())
    await stream.aclose()
    assert body.closed
    return events, error, message


def error_report(error: BaseException | None) -> Any:
    """What a stream error says: class, message, counts and partial message."""
    assert isinstance(error, StreamError)
    return (
        type(error),
        str(error),
        error.events_received,
        to_builtins(error.partial_message),
        getattr(error, "request_id", None),
        getattr(error, "unparsed", None),
    )


def structure(events: list[Event]) -> list[Any]:
    """The events that "drop_oldest" never drops, as builtins."""
    kept: list[Any] = to_builtins(
        [e for e in events if not isinstance(e, ContentBlockDelta | Ping)]
    )
    return kept


def is_subsequence(part: list[Any], whole: list[Any]) -> bool:
    rest = iter(whole)
    return all(any(item == other for other in rest) for item in part)


CHUNKINGS = [7, 97, None]  # None: the whole body in one chunk


class TestOverMessageStream:
    @pytest.mark.parametrize("size", CHUNKINGS, ids=["7", "97", "whole"])
    @pytest.mark.parametrize("name", COMPLETE)
    async def test_delivers_exactly_the_events_of_plain_iteration(
        self, name: str, size: int | None
    ) -> None:
        """Read in batches, controlled hands out the events of plain iteration, in order."""
        expected, _, message = await plain_run(name)
        stream, body = message_stream(pieces(load(name), size))
        batches = spy_batches(stream)
        with anyio.fail_after(5):
            async with controlled(stream) as (events, control):
                out = [event async for event in events]
                assert control.high_water <= control.buffer_size
        assert sum(map(len, batches)) == len(expected)  # all of them came in batches
        assert to_builtins(out) == to_builtins(expected)
        assert body.closed
        assert to_builtins(await stream.final_message()) == message

    @pytest.mark.parametrize("buffer_size", [2, 3])
    @pytest.mark.parametrize("overflow", POLICIES)
    async def test_one_chunk_bigger_than_the_buffer(
        self, overflow: Overflow, buffer_size: int
    ) -> None:
        """A chunk of many events into a tiny buffer: each policy keeps its promise, and
        "error" never blames a consumer that keeps up."""
        for name in COMPLETE:
            expected, _, message = await plain_run(name)
            assert len(expected) > buffer_size
            stream, body = message_stream([load(name)])
            out: list[Event] = []
            with anyio.fail_after(10):
                try:
                    async with controlled(stream, buffer_size=buffer_size, overflow=overflow) as (
                        events,
                        control,
                    ):
                        async for event in events:
                            out.append(event)
                except BufferOverflowError as exc:
                    overflowed: BufferOverflowError | None = exc
                else:
                    overflowed = None
            assert control.high_water <= buffer_size, name
            assert body.closed, name
            # "error" does not fire for a consumer that asks for every event: one network
            # read bigger than the buffer waits for it, as "block" would.
            assert overflowed is None, name
            assert to_builtins(await stream.final_message()) == message, name
            if overflow in ("block", "error"):
                assert to_builtins(out) == to_builtins(expected), name
                assert control.dropped == 0
            elif overflow == "coalesce":
                assert normalize(out) == normalize(expected), name
                assert final(out) == final(expected), name
                assert control.dropped == 0
            else:
                assert structure(out) == structure(expected), name
                assert len(out) + control.dropped == len(expected), name
                assert is_subsequence(to_builtins(out), to_builtins(expected)), name
                if len(structure(expected)) < len(expected) - buffer_size:
                    assert control.dropped > 0, name

    @pytest.mark.parametrize("buffer_size", [3, 1024])
    @pytest.mark.parametrize("size", CHUNKINGS, ids=["7", "97", "whole"])
    @pytest.mark.parametrize("name", ["overloaded_error.sse", "truncated.sse"])
    async def test_a_stream_error_comes_after_the_good_events(
        self, name: str, size: int | None, buffer_size: int
    ) -> None:
        """The error event or the cut raises the typed error of plain iteration, after the events before it."""
        expected, plain_error, _ = await plain_run(name)
        data = load(name)
        # Everything before the error event, or the whole truncated body, then a gate: the
        # rest comes once the consumer has every good event.
        cut = data.index(b"event: error") if name == "overloaded_error.sse" else len(data)
        head = pieces(data[:cut], size)
        tail = [data[cut:]] if cut < len(data) else []
        gate = anyio.Event()
        stream, body = message_stream([*head, *tail], gate=gate, gate_at=len(head))
        out: list[Event] = []
        with anyio.fail_after(5):
            async with controlled(stream, buffer_size=buffer_size) as (events, control):
                with pytest.raises(StreamError) as info:
                    async for event in events:
                        out.append(event)
                        if len(out) == len(expected):
                            gate.set()
                assert control.high_water <= buffer_size
        assert to_builtins(out) == to_builtins(expected)
        assert error_report(info.value) == error_report(plain_error)
        assert type(info.value) is type(plain_error)
        assert body.closed

    @pytest.mark.parametrize("name", ["overloaded_error.sse", "truncated.sse"])
    async def test_a_stream_error_in_the_same_chunk_as_the_events(self, name: str) -> None:
        """One chunk, a 2-event buffer: the error ends the events, of which few are lost.

        Events still buffered when the error arrives are discarded (they are in its partial
        message), so the consumer gets a prefix of the events, short of at most a buffer.
        """
        expected, plain_error, _ = await plain_run(name)
        stream, body = message_stream([load(name)])
        out: list[Event] = []
        with anyio.fail_after(5):
            async with controlled(stream, buffer_size=2) as (events, control):
                with pytest.raises(StreamError) as info:
                    async for event in events:
                        out.append(event)
                assert control.high_water <= 2
        assert len(expected) - 2 <= len(out) <= len(expected)
        assert to_builtins(out) == to_builtins(expected[: len(out)])
        assert error_report(info.value) == error_report(plain_error)
        assert body.closed

    @pytest.mark.parametrize("name", ["overloaded_error.sse", "truncated.sse"])
    async def test_a_stream_error_jumps_a_paused_buffer(self, name: str) -> None:
        """Paused, the consumer gets the same typed error at once, and no event."""
        _, plain_error, _ = await plain_run(name)
        stream, body = message_stream(pieces(load(name), 97))
        with anyio.fail_after(5):
            async with controlled(stream) as (events, control):
                control.pause()
                with pytest.raises(StreamError) as info:
                    await anext(events)
                assert control.is_paused and control.buffered == 0
        assert error_report(info.value) == error_report(plain_error)
        assert body.closed

    async def test_batches_go_on_where_iteration_stopped(self) -> None:
        """After one anext(stream), controlled still reads batches, from the next event."""
        expected, _, message = await plain_run("text.sse")
        stream, body = message_stream(pieces(load("text.sse"), None))
        first = await anext(stream)
        batches = spy_batches(stream)
        async with controlled(stream, buffer_size=4) as (events, control):
            rest = [event async for event in events]
            assert control.high_water <= 4
        assert [len(batch) for batch in batches] == [len(expected) - 1]  # the chunk's rest
        assert to_builtins([first, *rest]) == to_builtins(expected)
        assert to_builtins(await stream.final_message()) == message
        assert body.closed

    async def test_batches_then_plain_iteration_go_on_where_they_stopped(self) -> None:
        """A batch is a list of the events of one chunk, accumulated; iteration continues."""
        expected, _, message = await plain_run("thinking.sse")
        data = load("thinking.sse")
        stream, body = message_stream(pieces(data, len(data) // 3 + 1))
        batches = stream.aiter_batches()
        assert inspect.isasyncgen(batches)
        batch = await anext(batches)
        assert isinstance(batch, list) and 1 < len(batch) < len(expected)
        assert stream.events_received == len(batch)  # accumulated before it was handed out
        await batches.aclose()  # closing the batches leaves the stream open
        assert not body.closed
        rest = [event async for event in stream]
        assert to_builtins([*batch, *rest]) == to_builtins(expected)
        assert to_builtins(await stream.final_message()) == message
        await stream.aclose()
        assert body.closed

    async def test_a_subclass_is_read_through_its_own_iteration(self) -> None:
        """A MessageStream subclass may iterate differently: its batches are its events."""
        expected, _, _ = await plain_run("text.sse")
        seen: list[Event] = []

        class Logged(MessageStream):
            def __aiter__(self) -> AsyncGenerator[Event, None]:
                return self._logged()

            async def _logged(self) -> AsyncGenerator[Event, None]:
                async for event in self._iterator:
                    seen.append(event)
                    yield event

        body = Body(pieces(load("text.sse"), 97))
        stream = Logged(httpx.Response(200, stream=body))
        batches = spy_batches(stream)
        async with controlled(stream, buffer_size=8) as (events, _control):
            received = [event async for event in events]
        assert {len(batch) for batch in batches} == {1}  # one event at a time
        assert to_builtins(received) == to_builtins(expected) == to_builtins(seen)
        await stream.aclose()
        assert body.closed

    async def test_batch_readers_in_turn_share_the_body(self) -> None:
        """A second aiter_batches() goes on where the first was closed: one body, read once."""
        expected, _, message = await plain_run("text.sse")
        stream, body = message_stream(pieces(load("text.sse"), 97))
        first = stream.aiter_batches()
        taken = await anext(first)
        await first.aclose()
        events = [event async for batch in stream.aiter_batches() for event in batch]
        assert to_builtins([*taken, *events]) == to_builtins(expected)
        assert to_builtins(await stream.final_message()) == message
        await stream.aclose()
        assert body.closed

    async def test_a_closed_stream_gives_no_batches(self) -> None:
        """aiter_batches() of a closed stream ends at once, even after a partial chunk."""
        stream, body = message_stream(pieces(load("text.sse"), None))
        await anext(stream)
        await stream.aclose()
        assert [batch async for batch in stream.aiter_batches()] == []
        assert body.closed

    async def test_cancel_closes_the_response(self) -> None:
        """cancel() from another task ends the loop and closes the HTTP response."""
        stream, body = message_stream(pieces(load("long_text.sse"), 97), hang=True)
        received: list[Event] = []
        reached = anyio.Event()
        with anyio.fail_after(5):
            async with controlled(stream, buffer_size=8) as (events, control):

                async def consume() -> None:
                    async for event in events:
                        received.append(event)
                        if len(received) == 3:
                            reached.set()

                async with anyio.create_task_group() as tg:
                    tg.start_soon(consume)
                    await reached.wait()
                    control.cancel()
                assert control.is_cancelled and control.buffered == 0
                assert body.closed and stream.response.is_closed
        assert body.sent < len(body.chunks)
        assert to_builtins(received) == to_builtins(events_of("long_text.sse")[: len(received)])

    async def test_cancel_closes_a_stalled_response(self) -> None:
        """Once the body stalls after its last chunk, cancel() still releases it."""
        stream, body = message_stream(pieces(load("truncated.sse"), None), hang=True)
        with anyio.fail_after(5):
            async with controlled(stream) as (events, control):
                out = [await anext(events) for _ in range(8)]
                control.cancel()
                assert [event async for event in events] == []
                assert body.closed and stream.response.is_closed
        assert len(out) == 8

    async def test_leaving_the_block_early_closes_the_response(self) -> None:
        """break out of the events, leave the block: the HTTP response is released."""
        stream, body = message_stream(pieces(load("long_text.sse"), 97))
        async with controlled(stream, buffer_size=8, overflow="coalesce") as (events, _):
            async for _event in events:
                break
        assert body.closed and stream.response.is_closed
        assert body.sent < len(body.chunks)
