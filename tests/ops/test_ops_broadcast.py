"""broadcast: one source fanned out to many subscribers, slow policies, catch-up, endings."""

from __future__ import annotations

import functools
import gc
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable
from typing import Any

import anyio
import anyio.lowlevel
import pytest

import sluice
from _util import load
from sluice import (
    ContentBlockDelta,
    ContentBlockStart,
    ContentBlockStop,
    Event,
    EventStreamDecoder,
    InputJSONDelta,
    MessageAccumulator,
    MessageDelta,
    MessageStart,
    MessageStop,
    TextBlock,
    TextDelta,
    ThinkingBlock,
    ThinkingDelta,
    ToolUseBlock,
    to_builtins,
)
from sluice.ops._broadcast import Broadcaster, SubscriberTooSlowError, Subscription, broadcast

pytestmark = pytest.mark.anyio

#: Generous: nothing here should take more than milliseconds; this only turns a hang into a failure.
TIMEOUT = 5

#: Complete transcripts the catch-up must rebuild from every cut point.
REPLAYED = [
    "text.sse",
    "thinking.sse",
    "tool_use.sse",
    "citations.sse",
    "web_search.sse",
    "server_tools.sse",
    "pause_turn.sse",
    "refusal.sse",
    "unknown_types.sse",
    "no_usage.sse",
]


@functools.cache
def events_of(name: str) -> tuple[Event, ...]:
    """The typed events of a transcript in fixtures/."""
    decoder = EventStreamDecoder()
    return (*decoder.feed(load(name)), *decoder.close())


def final_of(events: list[Event] | tuple[Event, ...]) -> Any:
    """The final message those events accumulate to, as builtins."""
    accumulator = MessageAccumulator()
    for event in events:
        accumulator.feed(event)
    return to_builtins(accumulator.finish())


class FakeSource:
    """An async generator over events that records how far it was read and whether it closed.

    ``before(i)`` runs before event ``i`` is handed out (and once more, with ``len(events)``,
    before the end): tests use it for handshakes instead of sleeps.
    """

    def __init__(
        self,
        events: tuple[Event, ...] | list[Event],
        *,
        error: Exception | None = None,
        before: Callable[[int], Awaitable[None]] | None = None,
    ) -> None:
        self.events = list(events)
        self.error = error
        self.before = before
        self.pulled = 0
        self.closed = False
        self.iterator = self._run()

    async def _run(self) -> AsyncGenerator[Event, None]:
        try:
            for index, event in enumerate(self.events):
                if self.before is not None:
                    await self.before(index)
                await anyio.lowlevel.checkpoint()  # like a network read
                self.pulled += 1
                yield event
            if self.before is not None:
                await self.before(len(self.events))
            if self.error is not None:
                raise self.error
        finally:
            self.closed = True


class Gate:
    """Holds the source before event ``at`` until released."""

    def __init__(self, at: int) -> None:
        self.at = at
        self.reached = anyio.Event()
        self.released = anyio.Event()

    async def __call__(self, index: int) -> None:
        if index == self.at:
            self.reached.set()
            await self.released.wait()


class Progress:
    """How many events a subscriber has consumed; others can wait for a count (no sleeps)."""

    def __init__(self) -> None:
        self.count = 0
        self._waiters: list[tuple[int, anyio.Event]] = []

    def advance(self) -> None:
        self.count += 1
        for target, event in self._waiters:
            if self.count >= target:
                event.set()

    async def reach(self, target: int) -> None:
        if self.count < target:
            event = anyio.Event()
            self._waiters.append((target, event))
            await event.wait()


class Collector:
    """Reads one subscription (closing it), keeping its events and the error that ended it."""

    def __init__(self, subscription: Subscription) -> None:
        self.subscription = subscription
        self.events: list[Event] = []
        self.error: Exception | None = None
        self.progress = Progress()
        self.done = anyio.Event()

    async def run(self, *, stall: anyio.Event | None = None, stop_after: int | None = None) -> None:
        async with self.subscription as events:
            if stall is not None:
                await stall.wait()
            try:
                async for event in events:
                    self.events.append(event)
                    self.progress.advance()
                    if stop_after is not None and len(self.events) >= stop_after:
                        break
            except Exception as exc:  # the test asserts on it
                self.error = exc
        self.done.set()


def wait_for_all(*collectors: Collector) -> Callable[[int], Awaitable[None]]:
    """A ``before`` hook: hand out event ``i`` only once every collector consumed ``i``."""

    async def before(index: int) -> None:
        for collector in collectors:
            await collector.progress.reach(index)

    return before


class TestFanOut:
    async def test_three_subscribers_get_identical_sequences(self) -> None:
        """Every subscriber receives every source event, the same objects in the same order."""
        events = events_of("text.sse")
        source = FakeSource(events)
        with anyio.fail_after(TIMEOUT):
            async with broadcast(source.iterator) as hub:
                collectors = [Collector(hub.subscribe()) for _ in range(3)]
                async with anyio.create_task_group() as tg:
                    for collector in collectors:
                        tg.start_soon(collector.run)
        for collector in collectors:
            assert collector.error is None
            assert len(collector.events) == len(events)
            assert all(got is sent for got, sent in zip(collector.events, events, strict=True))
            assert collector.subscription.dropped == 0
        assert source.closed

    async def test_subscribers_counts_live_subscriptions(self) -> None:
        """subscribers counts open subscriptions and drops to 0 when the source ends."""
        gate = Gate(3)
        source = FakeSource(events_of("text.sse"), before=gate)
        with anyio.fail_after(TIMEOUT):
            async with broadcast(source.iterator) as hub:
                assert hub.subscribers == 0
                first, second = Collector(hub.subscribe()), Collector(hub.subscribe())
                assert hub.subscribers == 2
                await gate.reached.wait()
                await second.subscription.aclose()
                assert hub.subscribers == 1
                gate.released.set()
                await first.run()
                assert hub.subscribers == 0
        assert first.error is None and len(first.events) == len(source.events)

    async def test_source_is_closed_once_it_ends(self) -> None:
        """The reader closes the source as soon as it is exhausted, before the block is left."""
        source = FakeSource(events_of("thinking.sse"))
        with anyio.fail_after(TIMEOUT):
            async with broadcast(source.iterator) as hub:
                await Collector(hub.subscribe()).run()
                assert source.closed


class TestBlockPolicy:
    async def test_stalled_subscriber_holds_back_the_source(self) -> None:
        """A stalled subscriber stops the reader within buffer_size + 2 events; nobody loses any."""
        events = events_of("text.sse")
        source = FakeSource(events)
        stall = anyio.Event()
        with anyio.fail_after(TIMEOUT):
            async with broadcast(source.iterator, buffer_size=4, slow="block") as hub:
                fast = [Collector(hub.subscribe()) for _ in range(2)]
                slow = Collector(hub.subscribe())
                async with anyio.create_task_group() as tg:
                    for collector in fast:
                        tg.start_soon(collector.run)
                    tg.start_soon(functools.partial(slow.run, stall=stall))
                    await anyio.wait_all_tasks_blocked()
                    assert 4 <= source.pulled <= 4 + 2
                    assert all(len(c.events) <= source.pulled for c in fast)
                    stall.set()
        for collector in [*fast, slow]:
            assert collector.error is None
            assert collector.events == list(events)
            assert collector.subscription.dropped == 0

    async def test_closing_the_stalled_subscriber_releases_the_source(self) -> None:
        """Unsubscribing the subscriber the reader is blocked on lets the others finish."""
        events = events_of("tool_use.sse")
        source = FakeSource(events)
        with anyio.fail_after(TIMEOUT):
            async with broadcast(source.iterator, buffer_size=2) as hub:
                fast = Collector(hub.subscribe())
                stalled = hub.subscribe()
                async with anyio.create_task_group() as tg:
                    tg.start_soon(fast.run)
                    await anyio.wait_all_tasks_blocked()
                    assert source.pulled < len(events)
                    await stalled.aclose()
        assert fast.error is None and fast.events == list(events)
        assert source.closed


class TestDropPolicy:
    async def test_slow_subscriber_drops_the_newest_events_and_others_complete(self) -> None:
        """Under drop, the slow one keeps its first buffer_size events and counts the rest."""
        events = events_of("text.sse")
        stall = anyio.Event()
        with anyio.fail_after(TIMEOUT):
            async with anyio.create_task_group() as tg:
                source = FakeSource(events)
                async with broadcast(source.iterator, buffer_size=4, slow="drop") as hub:
                    fast = [Collector(hub.subscribe()) for _ in range(2)]
                    slow = Collector(hub.subscribe())
                    source.before = wait_for_all(*fast)
                    for collector in fast:
                        tg.start_soon(collector.run)
                    tg.start_soon(functools.partial(slow.run, stall=stall))
                    for collector in fast:
                        await collector.done.wait()
                    stall.set()
                    await slow.done.wait()
        for collector in fast:
            assert collector.error is None
            assert collector.events == list(events)
            assert collector.subscription.dropped == 0
        assert slow.error is None
        assert slow.events == list(events[:4])
        assert slow.subscription.dropped == len(events) - 4 > 0

    async def test_burst_source_does_not_overflow_subscribers_that_keep_up(self) -> None:
        """A source handing out events without awaiting (one network chunk) drops nothing for readers."""
        events = events_of("long_text.sse")

        async def burst() -> AsyncGenerator[Event, None]:
            for event in events:
                yield event

        with anyio.fail_after(TIMEOUT):
            async with broadcast(burst(), buffer_size=16, slow="drop") as hub:
                collectors = [Collector(hub.subscribe()) for _ in range(3)]
                async with anyio.create_task_group() as tg:
                    for collector in collectors:
                        tg.start_soon(collector.run)
        for collector in collectors:
            assert collector.subscription.dropped == 0
            assert collector.events == list(events)


class TestDisconnectPolicy:
    async def test_slow_subscriber_is_cut_off_and_others_complete(self) -> None:
        """Under disconnect, the slow one gets its buffer then SubscriberTooSlowError; others go on."""
        events = events_of("text.sse")
        stall = anyio.Event()
        gate = Gate(10)
        with anyio.fail_after(TIMEOUT):
            async with anyio.create_task_group() as tg:
                source = FakeSource(events)
                async with broadcast(source.iterator, buffer_size=4, slow="disconnect") as hub:
                    fast = [Collector(hub.subscribe()) for _ in range(2)]
                    slow = Collector(hub.subscribe())
                    wait = wait_for_all(*fast)

                    async def before(index: int) -> None:
                        await wait(index)
                        await gate(index)

                    source.before = before
                    for collector in fast:
                        tg.start_soon(collector.run)
                    tg.start_soon(functools.partial(slow.run, stall=stall))
                    await gate.reached.wait()
                    assert hub.subscribers == 2
                    gate.released.set()
                    for collector in fast:
                        await collector.done.wait()
                    stall.set()
                    await slow.done.wait()
        for collector in fast:
            assert collector.error is None
            assert collector.events == list(events)
        assert slow.events == list(events[:4])
        assert isinstance(slow.error, SubscriberTooSlowError)
        assert isinstance(slow.error, sluice.StreamError)
        assert slow.error.buffer_size == 4
        assert slow.error.events_received == 4


class TestCatchUp:
    @pytest.mark.parametrize("name", REPLAYED)
    async def test_late_subscriber_rebuilds_the_final_message_from_any_cut(self, name: str) -> None:
        """Joining after any number of events, catch-up + live events give the source's message."""
        events = events_of(name)
        expected = final_of(events)
        with anyio.fail_after(TIMEOUT):
            for cut in range(len(events) + 1):
                gate = Gate(cut)
                source = FakeSource(events, before=gate)
                async with broadcast(source.iterator) as hub:
                    await gate.reached.wait()
                    late = Collector(hub.subscribe())
                    gate.released.set()
                    await late.run()
                assert late.error is None, cut
                assert late.events[late.subscription.replayed :] == list(events[cut:]), cut
                assert final_of(late.events) == expected, cut

    async def test_subscriber_after_the_end_gets_the_whole_message(self) -> None:
        """A subscription made after the source ended replays the message, message_stop included."""
        events = events_of("tool_use.sse")
        source = FakeSource(events)
        with anyio.fail_after(TIMEOUT):
            async with broadcast(source.iterator) as hub:
                await Collector(hub.subscribe()).run()
                late = Collector(hub.subscribe())
                await late.run()
        assert late.error is None
        assert late.subscription.replayed == len(late.events)
        assert isinstance(late.events[-1], MessageStop)
        assert final_of(late.events) == final_of(events)

    async def test_catch_up_mid_thinking_is_one_coalesced_delta(self) -> None:
        """Mid-thinking, the catch-up is the shell, the block as it started and one delta."""
        events = events_of("thinking.sse")
        gate = Gate(5)  # message_start, content_block_start, ping, 2 thinking deltas
        source = FakeSource(events, before=gate)
        with anyio.fail_after(TIMEOUT):
            async with broadcast(source.iterator) as hub:
                await gate.reached.wait()
                late = Collector(hub.subscribe())
                gate.released.set()
                await late.run()
        replay = late.events[: late.subscription.replayed]
        assert [type(event) for event in replay] == [
            MessageStart,
            ContentBlockStart,
            ContentBlockDelta,
        ]
        start = events[0]
        assert isinstance(start, MessageStart) and isinstance(replay[0], MessageStart)
        assert to_builtins(replay[0].message) == to_builtins(start.message)
        assert isinstance(replay[1], ContentBlockStart)
        assert replay[1].content_block == ThinkingBlock(thinking="", signature="")
        thinking = "".join(
            e.delta.thinking
            for e in events[3:5]
            if isinstance(e, ContentBlockDelta) and isinstance(e.delta, ThinkingDelta)
        )
        assert replay[2] == ContentBlockDelta(index=0, delta=ThinkingDelta(thinking=thinking))

    async def test_catch_up_mid_tool_input_carries_the_json_so_far(self) -> None:
        """Mid tool call, finished blocks are closed and the tool block gets its JSON text so far."""
        events = events_of("tool_use.sse")
        gate = Gate(20)  # inside the tool_use block's input_json_deltas
        source = FakeSource(events, before=gate)
        with anyio.fail_after(TIMEOUT):
            async with broadcast(source.iterator) as hub:
                await gate.reached.wait()
                late = Collector(hub.subscribe())
                gate.released.set()
                await late.run()
        replay = late.events[: late.subscription.replayed]
        text = "".join(
            e.delta.text
            for e in events[:20]
            if isinstance(e, ContentBlockDelta) and isinstance(e.delta, TextDelta)
        )
        partial_json = "".join(
            e.delta.partial_json
            for e in events[:20]
            if isinstance(e, ContentBlockDelta) and isinstance(e.delta, InputJSONDelta)
        )
        tool_start = events[9]
        assert isinstance(tool_start, ContentBlockStart)
        assert isinstance(tool_start.content_block, ToolUseBlock)
        assert replay[1:] == [
            ContentBlockStart(index=0, content_block=TextBlock(text="")),
            ContentBlockDelta(index=0, delta=TextDelta(text=text)),
            ContentBlockStop(index=0),
            tool_start,
            ContentBlockDelta(index=1, delta=InputJSONDelta(partial_json=partial_json)),
        ]

    async def test_message_delta_already_passed_is_folded_into_the_shell(self) -> None:
        """After message_delta, the shell carries the stop reason and usage; no delta is replayed."""
        events = events_of("text.sse")
        gate = Gate(len(events) - 1)  # just before message_stop
        source = FakeSource(events, before=gate)
        with anyio.fail_after(TIMEOUT):
            async with broadcast(source.iterator) as hub:
                await gate.reached.wait()
                late = Collector(hub.subscribe())
                gate.released.set()
                await late.run()
        replay = late.events[: late.subscription.replayed]
        assert not any(isinstance(event, MessageDelta) for event in replay)
        shell = replay[0]
        assert isinstance(shell, MessageStart)
        assert shell.message.content == []
        assert shell.message.stop_reason == "end_turn"
        assert shell.message.usage.output_tokens == 124
        assert late.events[-1] == MessageStop()

    async def test_without_replay_a_late_subscriber_gets_only_what_follows(self) -> None:
        """With replay=False a late subscription starts at the next live event."""
        events = events_of("text.sse")
        gate = Gate(10)
        source = FakeSource(events, before=gate)
        with anyio.fail_after(TIMEOUT):
            async with broadcast(source.iterator, replay=False) as hub:
                await gate.reached.wait()
                late = Collector(hub.subscribe())
                gate.released.set()
                await late.run()
        assert late.subscription.replayed == 0
        assert late.events == list(events[10:])


class TestUnsubscribe:
    async def test_leaving_mid_stream_does_not_disturb_others(self) -> None:
        """A subscriber that breaks out after 5 events leaves; the others get everything."""
        events = events_of("thinking.sse")
        source = FakeSource(events)
        with anyio.fail_after(TIMEOUT):
            async with broadcast(source.iterator, buffer_size=2) as hub:
                stay = [Collector(hub.subscribe()) for _ in range(2)]
                leave = Collector(hub.subscribe())
                async with anyio.create_task_group() as tg:
                    for collector in stay:
                        tg.start_soon(collector.run)
                    tg.start_soon(functools.partial(leave.run, stop_after=5))
                    await leave.done.wait()
                    assert hub.subscribers <= 2
        assert leave.events == list(events[:5])
        for collector in stay:
            assert collector.error is None and collector.events == list(events)

    async def test_cancelled_subscriber_does_not_disturb_others(self) -> None:
        """Cancelling one subscriber's task mid-iteration leaves the broadcast running."""
        events = events_of("text.sse")
        source = FakeSource(events)
        with anyio.fail_after(TIMEOUT):
            async with broadcast(source.iterator, buffer_size=2) as hub:
                stay = Collector(hub.subscribe())
                doomed = Collector(hub.subscribe())
                async with anyio.create_task_group() as tg:
                    tg.start_soon(stay.run)
                    async with anyio.create_task_group() as inner:
                        inner.start_soon(doomed.run)
                        await doomed.progress.reach(3)
                        inner.cancel_scope.cancel()
        assert stay.error is None and stay.events == list(events)
        assert not doomed.done.is_set() and len(doomed.events) >= 3


class TestSourceErrors:
    async def test_in_stream_error_reaches_every_subscriber_after_the_events_before_it(
        self,
    ) -> None:
        """An error event becomes the same typed OverloadedError in every subscriber, last."""
        events = events_of("overloaded_error.sse")
        source = FakeSource(events)
        with anyio.fail_after(TIMEOUT):
            async with broadcast(source.iterator) as hub:
                collectors = [Collector(hub.subscribe()) for _ in range(3)]
                async with anyio.create_task_group() as tg:
                    for collector in collectors:
                        tg.start_soon(collector.run)
        errors = [collector.error for collector in collectors]
        assert isinstance(errors[0], sluice.OverloadedError)
        assert isinstance(errors[0], sluice.APIStreamError)
        assert errors[0].request_id == "req_011CZmU1EHj3rDIHIIiRbj1H"
        assert all(error is errors[0] for error in errors)
        for collector in collectors:
            assert collector.events == list(events[:-1])
        assert source.closed

    @pytest.mark.parametrize("replay", [True, False])
    async def test_source_exception_reaches_every_subscriber(self, replay: bool) -> None:
        """A transport failure raised by the source reaches everyone after the events before it."""
        events = events_of("text.sse")[:10]
        failure = sluice.IncompleteStreamError("the connection failed after 10 events")
        source = FakeSource(events, error=failure)
        with anyio.fail_after(TIMEOUT):
            async with broadcast(source.iterator, replay=replay, buffer_size=3) as hub:
                collectors = [Collector(hub.subscribe()) for _ in range(3)]
                async with anyio.create_task_group() as tg:
                    for collector in collectors:
                        tg.start_soon(collector.run)
        for collector in collectors:
            assert collector.error is failure
            assert collector.events == list(events)
        assert source.closed

    async def test_subscriber_after_the_error_gets_catch_up_then_the_error(self) -> None:
        """Joining after the failure still yields the message so far, then the same error."""
        events = events_of("overloaded_error.sse")
        source = FakeSource(events)
        with anyio.fail_after(TIMEOUT):
            async with broadcast(source.iterator) as hub:
                first = Collector(hub.subscribe())
                await first.run()
                late = Collector(hub.subscribe())
                await late.run()
        assert late.error is first.error is not None
        assert late.subscription.replayed == len(late.events) == 3
        accumulator = MessageAccumulator()
        for event in late.events:
            accumulator.feed(event)
        assert isinstance(first.error, sluice.APIStreamError)
        assert first.error.partial_message is not None
        assert to_builtins(accumulator.message) == to_builtins(first.error.partial_message)


class _ClosableIterable:
    """An iterable source with its own aclose (like MessageStream), recording both closes."""

    def __init__(self, source: FakeSource) -> None:
        self.source = source
        self.closed = False

    def __aiter__(self) -> AsyncIterator[Event]:
        return self.source.iterator

    async def aclose(self) -> None:
        self.closed = True


class TestClosing:
    async def test_leaving_the_broadcaster_closes_the_source(self) -> None:
        """Leaving the block mid-stream cancels the reader, closes the source, ends subscriptions."""
        events = events_of("text.sse")
        gate = Gate(5)  # never released: the source hangs like a stalled connection
        source = FakeSource(events, before=gate)
        with anyio.fail_after(TIMEOUT):
            async with broadcast(source.iterator) as hub:
                subscription = hub.subscribe()
                await gate.reached.wait()
            assert source.closed
            async with subscription:
                received = [event async for event in subscription]
        assert received == list(events[:5])
        with pytest.raises(RuntimeError, match="open broadcaster"):
            hub.subscribe()

    async def test_closes_an_iterable_source_and_its_iterator(self) -> None:
        """A source with its own aclose is closed as well as the iterator it handed out."""
        source = FakeSource(events_of("text.sse"), before=Gate(2))
        iterable = _ClosableIterable(source)
        with anyio.fail_after(TIMEOUT):
            async with broadcast(iterable) as hub:
                async with hub.subscribe() as subscription:
                    await anext(subscription)
        assert source.closed and iterable.closed

    async def test_leaving_before_the_reader_ran_closes_the_source(self) -> None:
        """Leaving the block at once still closes the source and every subscription's stream."""
        source = FakeSource(events_of("text.sse"))
        with anyio.fail_after(TIMEOUT):
            async with broadcast(source.iterator) as hub:
                subscription = hub.subscribe()
            async with subscription:
                assert [event async for event in subscription] == []
        with pytest.raises(StopAsyncIteration):  # closed (whether or not it had started)
            await anext(source.iterator)

    async def test_cancellation_leaks_nothing(self) -> None:
        """Cancelling everything mid-stream closes the source and every stream (no warnings)."""
        events = events_of("tool_use.sse")
        source = FakeSource(events)
        with anyio.fail_after(TIMEOUT):
            with anyio.CancelScope() as scope:
                async with broadcast(source.iterator, buffer_size=2) as hub:
                    collectors = [Collector(hub.subscribe()) for _ in range(3)]
                    async with anyio.create_task_group() as tg:
                        for collector in collectors:
                            tg.start_soon(collector.run)
                        await collectors[0].progress.reach(7)
                        scope.cancel()
        assert scope.cancelled_caught
        assert source.closed
        assert 7 <= source.pulled < len(events)
        assert hub.subscribers == 0
        del collectors, hub
        gc.collect()  # unclosed memory streams or generators would warn (an error here)


class TestArguments:
    async def test_rejects_a_buffer_below_one(self) -> None:
        """buffer_size must be at least 1."""
        with pytest.raises(ValueError, match="buffer_size"):
            broadcast(FakeSource([]).iterator, buffer_size=0)

    async def test_rejects_an_unknown_policy(self) -> None:
        """slow must be block, drop or disconnect."""
        with pytest.raises(ValueError, match="slow"):
            broadcast(FakeSource([]).iterator, slow="later")  # type: ignore[arg-type]

    async def test_subscribe_needs_an_open_broadcaster_entered_once(self) -> None:
        """subscribe() before entering fails, and a broadcaster cannot be entered twice."""
        source = FakeSource(events_of("text.sse"))
        hub: Broadcaster = broadcast(source.iterator)
        with pytest.raises(RuntimeError, match="open broadcaster"):
            hub.subscribe()
        with anyio.fail_after(TIMEOUT):
            async with hub:
                with pytest.raises(RuntimeError, match="only once"):
                    await hub.__aenter__()
        assert "slow='block'" in repr(hub)
