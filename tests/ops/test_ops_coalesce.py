"""Tests for coalesce: a slow consumer gets fewer, larger deltas, in order, nothing lost."""

from __future__ import annotations

import random
from typing import Any

import anyio
import anyio.lowlevel
import pytest

from _util import (
    COMPLETE,
    Boom,
    Source,
    drain_slowly,
    events_of,
    final,
    normalize,
    settle,
    text_stream,
)
from sluice import (
    ContentBlockDelta,
    ContentBlockStart,
    ContentBlockStop,
    ErrorEvent,
    Event,
    InputJSONDelta,
    Message,
    MessageDelta,
    MessageStart,
    MessageStop,
    Ping,
    TextDelta,
    ThinkingDelta,
    to_builtins,
)
from sluice.ops._coalesce import BUFFER_SLOTS, CoalescedEvents, coalesce

pytestmark = pytest.mark.anyio

# -- helpers --------------------------------------------------------------------------------


def deltas(events: list[Event]) -> list[ContentBlockDelta]:
    return [e for e in events if isinstance(e, ContentBlockDelta)]


def text_of(event: Event) -> str:
    """The text of a text delta."""
    assert isinstance(event, ContentBlockDelta) and isinstance(event.delta, TextDelta)
    return event.delta.text


async def until_held(stream: CoalescedEvents) -> None:
    """Wait until the consumer holds the only buffered delta back for more pieces."""
    with anyio.fail_after(10):
        while not stream._holding:
            await anyio.lowlevel.checkpoint()


def ticking_source(count: int, *, every: float = 0.001) -> Source:
    """A text block of ``count`` four-character deltas, one every ``every`` seconds."""

    async def tick(position: int) -> None:
        if 2 <= position < 2 + count:
            await anyio.sleep(every)

    return Source(text_stream([f"{i:04d}" for i in range(count)]), hook=tick)


# -- tests ------------------------------------------------------------------------------------


class TestMerging:
    async def test_with_max_latency_0_a_consumer_that_keeps_up_gets_every_delta(self) -> None:
        """max_latency=0 holds nothing back: each event taken before the next arrives comes out as is."""
        events = events_of("thinking.sse")
        taken = [anyio.Event() for _ in events]

        async def after_previous_taken(position: int) -> None:
            if position:
                await taken[position - 1].wait()

        out: list[Event] = []
        with anyio.fail_after(10):
            source = Source(events, hook=after_previous_taken)
            async with coalesce(source, max_latency=0) as stream:
                async for event in stream:
                    taken[len(out)].set()
                    out.append(event)
        assert len(out) == len(events)
        assert all(a is b for a, b in zip(out, events, strict=True))

    async def test_a_source_that_waits_for_the_consumer_is_delayed_only_by_max_latency(
        self,
    ) -> None:
        """A held delta nothing can join is handed out at max_latency, so the stream still flows."""
        events = events_of("thinking.sse")
        taken = [anyio.Event() for _ in events]

        async def after_previous_taken(position: int) -> None:
            if 0 < position < len(events):
                await taken[position - 1].wait()

        out: list[Event] = []
        with anyio.fail_after(10):
            source = Source(events, hook=after_previous_taken)
            async with coalesce(source, max_latency=0.01) as stream:
                async for event in stream:
                    taken[len(out)].set()
                    out.append(event)
        assert all(a is b for a, b in zip(out, events, strict=True))

    async def test_deltas_merge_while_the_consumer_is_busy(self) -> None:
        """Deltas arriving while the consumer is away reach it as one delta with all their text."""
        pieces = [f"w{i} " for i in range(100)]
        events = text_stream(pieces)
        all_deltas_read = anyio.Event()

        async def note_progress(position: int) -> None:
            if position == 2 + len(pieces):  # asked for the block stop: every delta is in
                all_deltas_read.set()

        with anyio.fail_after(10):
            async with coalesce(Source(events, hook=note_progress)) as stream:
                first = await anext(stream)
                await all_deltas_read.wait()
                rest = [event async for event in stream]
        assert first is events[0]
        assert [type(e) for e in rest] == [
            ContentBlockStart,
            ContentBlockDelta,
            ContentBlockStop,
            MessageDelta,
            MessageStop,
        ]
        merged = rest[1]
        assert isinstance(merged, ContentBlockDelta) and isinstance(merged.delta, TextDelta)
        assert merged.index == 0
        assert merged.delta.text == "".join(pieces)

    @pytest.mark.parametrize("max_latency", [0.05, 0.2])
    async def test_a_delta_that_could_still_grow_is_held_for_max_latency(
        self, max_latency: float
    ) -> None:
        """With the upstream silent, the merge comes out max_latency after its first piece, not before."""
        events = text_stream(["a", "b", "c", "d", "e"])[:-3]  # the block never stops
        source = Source(events, then="hang")
        async with coalesce(source, max_latency=max_latency) as stream:
            assert await anext(stream) is events[0]
            assert await anext(stream) is events[1]
            with anyio.fail_after(10):
                while not source.hanging:
                    await anyio.lowlevel.checkpoint()
                merged = await anext(stream)
            held = anyio.current_time() - source.arrived[2]
        assert text_of(merged) == "abcde"
        # The lower bound is exact (the reader notes the arrival after the source does);
        # the upper one is deliberately loose: this is not a speed test.
        assert max_latency <= held < max_latency + 0.5
        assert source.closed

    async def test_a_fast_consumer_gets_batched_deltas(self) -> None:
        """Deltas arriving every millisecond reach a consumer that keeps up as far fewer deltas."""
        source = ticking_source(200)
        with anyio.fail_after(10):
            async with coalesce(source, max_latency=0.05) as stream:
                out = [event async for event in stream]
        texts = [text_of(d) for d in deltas(out)]
        assert len(texts) < 200 / 3
        assert "".join(texts) == "".join(text_of(d) for d in deltas(source.events))

    async def test_a_merge_is_never_held_longer_than_max_latency(self) -> None:
        """Each delta reaches a consumer that keeps up within max_latency of its first piece (loose bound)."""
        max_latency = 0.05
        source = ticking_source(200)
        handed: list[tuple[Event, float]] = []
        with anyio.fail_after(10):
            async with coalesce(source, max_latency=max_latency) as stream:
                async for event in stream:
                    handed.append((event, anyio.current_time()))
        received = 0  # pieces handed out so far; each piece is four characters
        for event, at in handed:
            if isinstance(event, ContentBlockDelta):
                first_arrived = source.arrived[2 + received]
                assert at - first_arrived < max_latency + 0.5
                received += len(text_of(event)) // 4
        assert received == 200

    @pytest.mark.parametrize(
        "behind",
        [
            ContentBlockStop(index=0),
            Ping(),
            ContentBlockDelta(index=1, delta=TextDelta(text="x")),
            ContentBlockDelta(index=0, delta=ThinkingDelta(thinking="x")),
        ],
        ids=["block-stop", "ping", "other-block", "other-kind"],
    )
    async def test_an_event_behind_a_held_merge_flushes_it(self, behind: Event) -> None:
        """Anything that cannot merge, arriving behind a held delta, hands the delta out at once."""
        events = [*text_stream(["a", "b", "c"])[:-3], behind]
        got_merge = anyio.Event()

        async def when_held(position: int) -> None:
            if position == len(events) - 1:
                await until_held(stream)
            elif position == len(events):  # end only once the merge is out, to flush `behind`
                await got_merge.wait()

        source = Source(events, hook=when_held)
        async with coalesce(source, max_latency=3600) as stream:
            with anyio.fail_after(10):  # far below max_latency
                assert await anext(stream) is events[0]
                assert await anext(stream) is events[1]
                merged = await anext(stream)
                got_merge.set()
                assert [event async for event in stream] == [behind]
        assert text_of(merged) == "abc"

    async def test_a_held_merge_that_reaches_max_chars_is_handed_out(self) -> None:
        """A held delta that fills up to max_chars can grow no more and is handed out at once."""
        events = text_stream(["abcde", "fghij", "k"])[:-3]

        async def when_held(position: int) -> None:
            if position == 3:  # the second piece, which fills the first to max_chars
                await until_held(stream)

        source = Source(events, then="hang", hook=when_held)
        async with coalesce(source, max_latency=3600, max_chars=10) as stream:
            with anyio.fail_after(10):  # far below max_latency
                assert await anext(stream) is events[0]
                assert await anext(stream) is events[1]
                merged = await anext(stream)
        assert text_of(merged) == "abcdefghij"

    @pytest.mark.parametrize("then", ["end", "error"])
    async def test_upstream_end_or_failure_flushes_a_held_merge(self, then: str) -> None:
        """When the upstream ends or fails, the held delta is handed out at once, before the error."""
        events = text_stream(["a", "b", "c"])[:-3]

        async def when_held(position: int) -> None:
            if position == len(events):
                await until_held(stream)

        ending: str | BaseException = "end" if then == "end" else Boom("connection reset")
        source = Source(events, then=ending, hook=when_held)
        async with coalesce(source, max_latency=3600) as stream:
            with anyio.fail_after(10):  # far below max_latency
                assert await anext(stream) is events[0]
                assert await anext(stream) is events[1]
                merged = await anext(stream)
                assert text_of(merged) == "abc"
                if then == "end":
                    with pytest.raises(StopAsyncIteration):
                        await anext(stream)
                else:
                    with pytest.raises(Boom, match="connection reset"):
                        await anext(stream)
        assert source.closed

    @pytest.mark.parametrize("name", COMPLETE)
    async def test_slow_consumer_gets_same_text_order_and_message(self, name: str) -> None:
        """With the reader always ahead, merged output equals the input up to joining adjacent deltas."""
        events = events_of(name)
        async with coalesce(Source(events)) as stream:
            out = await drain_slowly(stream)
        assert normalize(out) == normalize(events)
        assert final(out) == final(events)
        assert len(out) < len(events)  # every transcript has adjacent deltas to merge

    @pytest.mark.parametrize("seed", range(6))
    async def test_any_interleaving_preserves_everything(self, seed: int) -> None:
        """Random producer and consumer pacing never reorders, drops or alters content."""
        rng = random.Random(seed)
        events = events_of(["citations.sse", "thinking.sse", "tool_use.sse"][seed % 3])

        async def jitter(position: int) -> None:
            for _ in range(rng.randrange(4)):
                await anyio.lowlevel.checkpoint()

        out: list[Event] = []
        async with coalesce(Source(events, hook=jitter), max_chars=rng.choice([8, 64, 4096])) as s:
            async for event in s:
                out.append(event)
                for _ in range(rng.randrange(6)):
                    await anyio.lowlevel.checkpoint()
        assert normalize(out) == normalize(events)
        assert final(out) == final(events)

    async def test_thinking_and_tool_input_deltas_keep_their_kind(self) -> None:
        """Merged thinking stays a ThinkingDelta, merged tool input an InputJSONDelta; signatures stay apart."""
        events = events_of("thinking.sse")
        async with coalesce(Source(events)) as stream:
            out = await drain_slowly(stream)
        kinds = [type(d.delta).__name__ for d in deltas(out)]
        assert kinds == ["ThinkingDelta", "SignatureDelta", "TextDelta"]
        tool = events_of("tool_use.sse")
        async with coalesce(Source(tool)) as stream:
            out = await drain_slowly(stream)
        merged = [d for d in deltas(out) if isinstance(d.delta, InputJSONDelta)]
        assert len(merged) == 1
        assert merged[0].delta.partial_json == "".join(  # type: ignore[union-attr]
            d.delta.partial_json for d in deltas(tool) if isinstance(d.delta, InputJSONDelta)
        )

    async def test_max_chars_bounds_each_merged_delta(self) -> None:
        """No merged delta exceeds max_chars, merging still happens, and the text is whole."""
        pieces = ["abcdefg"] * 500
        async with coalesce(Source(text_stream(pieces)), max_chars=50) as stream:
            out = await drain_slowly(stream)
        texts = [d.delta.text for d in deltas(out)]  # type: ignore[union-attr]
        assert "".join(texts) == "".join(pieces)
        assert max(len(t) for t in texts) == 49  # seven pieces fit in 50, the eighth does not
        assert len(texts) == -(-500 // 7)

    async def test_a_single_delta_longer_than_max_chars_is_not_split(self) -> None:
        """A delta already over max_chars is passed on whole, and nothing is merged into it."""
        events = text_stream(["x" * 30, "y", "z"])
        async with coalesce(Source(events), max_chars=10) as stream:
            out = await drain_slowly(stream)
        assert [d.delta.text for d in deltas(out)] == ["x" * 30, "yz"]  # type: ignore[union-attr]

    async def test_deltas_of_different_blocks_or_kinds_never_merge(self) -> None:
        """Only adjacent deltas of one block and one delta type merge; other events end a merge."""
        events: list[Event] = [
            MessageStart(message=Message(id="msg_1")),
            ContentBlockDelta(index=0, delta=TextDelta(text="a")),
            ContentBlockDelta(index=0, delta=TextDelta(text="b")),
            ContentBlockDelta(index=1, delta=TextDelta(text="c")),
            ContentBlockDelta(index=1, delta=ThinkingDelta(thinking="d")),
            Ping(),
            ContentBlockDelta(index=1, delta=ThinkingDelta(thinking="e")),
            ContentBlockDelta(index=1, delta=ThinkingDelta(thinking="f")),
        ]
        async with coalesce(Source(events)) as stream:
            out = await drain_slowly(stream)
        assert [to_builtins(e) for e in out] == [
            to_builtins(events[0]),
            {
                "type": "content_block_delta",
                "index": 0,
                "delta": {"type": "text_delta", "text": "ab"},
            },
            to_builtins(events[3]),
            to_builtins(events[4]),
            {"type": "ping"},
            {
                "type": "content_block_delta",
                "index": 1,
                "delta": {"type": "thinking_delta", "thinking": "ef"},
            },
        ]


class TestBackpressure:
    async def test_buffer_stays_bounded_and_the_reader_stops(self) -> None:
        """Against a consumer that does not read, 10k deltas buffer at most BUFFER_SLOTS entries."""
        pieces = ["hello"] * 10_000
        events = text_stream(pieces)
        source = Source(events)
        async with coalesce(source, max_chars=100) as stream:
            await settle(stream)
            assert stream._high_water == BUFFER_SLOTS
            # Slots full of 100-char merges: the reader read only what fits, plus one event.
            assert source.pulled <= 2 + (BUFFER_SLOTS - 1) * 20 + 1
            out = [event async for event in stream]
            assert stream._high_water == BUFFER_SLOTS
        assert "".join(d.delta.text for d in deltas(out)) == "".join(pieces)  # type: ignore[union-attr]
        assert source.pulled == len(events)

    async def test_non_mergeable_events_each_take_a_slot(self) -> None:
        """A flood of pings (never merged) fills the slots and then stops the reader."""
        events: list[Event] = [Ping() for _ in range(200)]
        source = Source(events)
        async with coalesce(source) as stream:
            await settle(stream)
            assert stream._high_water == BUFFER_SLOTS
            assert source.pulled == BUFFER_SLOTS + 1
            out = [event async for event in stream]
        assert len(out) == 200


class TestErrorsAndClosing:
    async def test_upstream_error_comes_after_the_events_before_it(self) -> None:
        """An upstream exception is raised only once every earlier event was handed out."""
        events = events_of("text.sse")[:-2]
        source = Source(events, then=Boom("connection reset"))
        out: list[Event] = []
        async with coalesce(source) as stream:
            with pytest.raises(Boom, match="connection reset"):
                while True:
                    await settle(stream)
                    out.append(await anext(stream))
            assert source.closed
            with pytest.raises(StopAsyncIteration):
                await anext(stream)
        assert normalize(out) == normalize(events)

    async def test_error_events_are_never_merged_or_reordered(self) -> None:
        """An in-stream error event arrives in its place, after the merged text before it."""
        events = events_of("overloaded_error.sse")
        async with coalesce(Source(events)) as stream:
            out = await drain_slowly(stream)
        assert isinstance(out[-1], ErrorEvent)
        assert normalize(out) == normalize(events)

    async def test_break_closes_upstream(self) -> None:
        """Leaving the block early stops the reader and closes the source before its end."""
        source = Source(events_of("long_text.sse"), then="hang")
        async with coalesce(source) as stream:
            async for _ in stream:
                break
        assert source.closed
        assert source.pulled < len(source.events)

    async def test_aclose_ends_iteration_and_closes_upstream(self) -> None:
        """aclose() closes the source at once; the iteration then ends."""
        source = Source(events_of("text.sse"), then="hang")
        async with coalesce(source, max_chars=100) as stream:
            await anext(stream)
            assert repr(stream).endswith("/16 max_chars=100 max_latency=0.05>")
            await stream.aclose()
            assert source.closed
            assert [event async for event in stream] == []
            await stream.aclose()  # idempotent

    async def test_an_error_in_the_body_propagates_unwrapped(self) -> None:
        """An exception raised inside the async with block comes out as itself, not an ExceptionGroup."""
        source = Source(events_of("text.sse"), then="hang")
        with pytest.raises(Boom, match="consumer failed"):
            async with coalesce(source) as stream:
                await anext(stream)
                raise Boom("consumer failed")
        assert source.closed

    async def test_cancelling_the_consumer_at_every_point_closes_upstream(self) -> None:
        """Cancelling the consumer's scope after any number of events leaves no open source."""
        # max_latency=0: the consumer keeps up, so it sees every event and every cut point.
        events = events_of("thinking.sse")
        for cut in range(len(events) + 1):
            source = Source(events, then="hang")
            with anyio.CancelScope() as scope:
                if cut == 0:
                    scope.cancel()
                async with coalesce(source, max_latency=0) as stream:
                    seen = 0
                    async for _ in stream:
                        seen += 1
                        if seen == cut:
                            scope.cancel()
                            await anyio.lowlevel.checkpoint()
            assert scope.cancelled_caught, cut
            assert source.closed, cut

    async def test_cancelling_the_consumer_while_it_holds_a_merge_closes_upstream(self) -> None:
        """Cancellation reaches a consumer holding a delta back, and the source is closed."""
        events = text_stream(["a", "b", "c"])[:-3]
        source = Source(events, then="hang")
        with anyio.fail_after(10):
            async with anyio.create_task_group() as tg:
                async with coalesce(source, max_latency=3600) as stream:

                    async def cancel_when_held() -> None:
                        await until_held(stream)
                        tg.cancel_scope.cancel()

                    tg.start_soon(cancel_when_held)
                    async for _ in stream:
                        pass
        assert tg.cancel_scope.cancelled_caught
        assert source.closed

    async def test_moving_on_after_a_deadline_closes_upstream(self) -> None:
        """A deadline expiring while the consumer waits on a silent upstream closes it."""
        source = Source(events_of("text.sse")[:3], then="hang")
        with anyio.move_on_after(0.05) as scope:
            async with coalesce(source) as stream:
                async for _ in stream:
                    pass
        assert scope.cancelled_caught
        assert source.closed

    async def test_iterating_without_entering_is_an_error(self) -> None:
        """The events can only be read inside async with, where the reader runs."""
        source = Source([])
        stream = coalesce(source)
        with pytest.raises(RuntimeError, match="async with"):
            await anext(stream)
        await stream.aclose()
        with pytest.raises(StopAsyncIteration):  # it was closed before it ever started
            await anext(source.gen)

    @pytest.mark.parametrize(
        ("options", "match"),
        [
            ({"max_latency": -0.01}, "max_latency"),
            ({"max_latency": float("nan")}, "max_latency"),
            ({"max_latency": float("inf")}, "max_latency"),
            ({"max_chars": 0}, "max_chars"),
        ],
    )
    async def test_rejects_bad_arguments(self, options: dict[str, Any], match: str) -> None:
        """Out-of-range options are refused at the call."""
        source = Source([])
        with pytest.raises(ValueError, match=match):
            coalesce(source, **options)
        await source.aclose()
