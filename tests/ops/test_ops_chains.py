"""Chains of operators over real HTTP: cancelled anywhere, failing anywhere, closed early.

Every chain reads a ``MessageStream`` served by ``MockAnthropic`` on 127.0.0.1 through an
``httpx.AsyncClient`` the test owns, so that its connection pool can be inspected. Whatever
happens to the consumer, the HTTP response must end up closed, the pool must hold no request,
the same client must stream again afterwards, errors must reach the consumer intact, and
nothing may be left for the garbage collector to finalize: trio warns about an async
generator collected unfinished, and ``filterwarnings = error`` makes that a failure. Each
scenario runs in a helper coroutine so that, once it returns, ``gc.collect()`` finds every
object it made unreferenced and any such warning surfaces inside the test.
"""

from __future__ import annotations

import gc
import ssl
import sys
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import AsyncExitStack, aclosing, asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import anyio
import anyio.lowlevel
import httpx
import pytest
from anyio.abc import TaskGroup
from hypothesis import given, settings
from hypothesis import strategies as st

import sluice
from _util import load
from sluice import (
    ErrorEvent,
    Event,
    EventStreamDecoder,
    MessageAccumulator,
    MessageStream,
    ops,
    to_builtins,
)
from sluice.testing import MockAnthropic, Reply
from sluice.types import ErrorDetail

pytestmark = pytest.mark.anyio

PARAMS: dict[str, Any] = {
    "model": "claude-test",
    "max_tokens": 64,
    "messages": [{"role": "user", "content": "Hello"}],
}

# Plain HTTP only; one context for every client instead of loading certificates each time.
TLS = ssl.create_default_context()

# Few examples per chain: every example is a real HTTP exchange (plus a second one).
PROPERTY = settings(max_examples=10, deadline=None)
PACED = settings(max_examples=8, deadline=None)  # these examples last up to 40 ms longer
ERRORS = settings(max_examples=6, deadline=None)
#: Seconds after which a scenario fails instead of hanging the suite.
HANG = 10

# -- the harness ----------------------------------------------------------------------------


@dataclass
class Harness:
    """A mock API, the httpx client (its pool is inspected) and a sluice client over it."""

    server: MockAnthropic
    http: httpx.AsyncClient
    client: sluice.AsyncClient
    sides: Sides

    @property
    def pool(self) -> Any:
        """httpcore's connection pool behind the httpx client."""
        return self.http._transport._pool  # type: ignore[attr-defined]

    def assert_released(self, stream: MessageStream) -> None:
        """The response is closed and no request holds a connection of the pool."""
        assert stream.response.is_closed, "the HTTP response is still open"
        assert not self.pool._requests, f"requests still hold connections: {self.pool._requests}"
        for connection in self.pool.connections:
            assert connection.is_idle() or connection.is_closed(), connection

    async def assert_reusable(self) -> None:
        """A new stream on the same client completes; one idle connection is left."""
        async with self.client.messages.stream(**PARAMS) as stream:
            message = await stream.final_message()
        assert message.stop_reason == "end_turn"
        assert len(self.server.requests) == 2
        assert not self.pool._requests
        # A connection abandoned mid-body was closed (and dropped from the pool); one read
        # to the end was reused. Either way exactly one is left, and it is idle.
        assert len(self.pool.connections) == 1, self.pool.connections
        assert self.pool.connections[0].is_idle(), self.pool.connections


@asynccontextmanager
async def serving(reply: Reply) -> AsyncIterator[Harness]:
    """Serve ``reply`` to the first request and text.sse to every later one."""
    with anyio.fail_after(HANG):  # a hang is a failure, not a stuck suite
        async with MockAnthropic() as server:
            server.enqueue(reply)
            server.route("POST", "/v1/messages", Reply.sse(load("text.sse")))
            async with httpx.AsyncClient(verify=TLS) as http:
                # No retries: a broken pooled connection must not be hidden by a retry.
                client = sluice.AsyncClient(
                    api_key="k", base_url=server.base_url, http_client=http, max_retries=0
                )
                # Leaving this task group waits for the side consumers to finish.
                async with anyio.create_task_group() as task_group:
                    yield Harness(server, http, client, Sides(task_group))


@pytest.fixture(autouse=True)
def young_garbage_only() -> Iterator[None]:
    """Let each example's ``gc.collect()`` scan only what was made during this test.

    A full collection walks everything pytest and hypothesis hold (~30 ms, the bulk of an
    example); frozen objects are older than the test, so nothing the test leaks is missed.
    """
    gc.collect()
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


@contextmanager
def no_unraisable() -> Iterator[None]:
    """Fail if the garbage collector reports anything (trio's unfinished-generator warning).

    With ``filterwarnings = error`` the ``ResourceWarning`` trio issues from its async
    generator finalizer becomes an exception raised inside the garbage collector, which
    Python hands to ``sys.unraisablehook``; catching it here pins it to this example.
    """
    reported: list[Any] = []
    previous = sys.unraisablehook
    sys.unraisablehook = reported.append
    try:
        yield
        gc.collect()
    finally:
        sys.unraisablehook = previous
    assert not reported, [f"{r.exc_type.__name__}: {r.exc_value} ({r.object!r})" for r in reported]


# -- the chains -----------------------------------------------------------------------------


@dataclass
class Sides:
    """Consumers besides the test's own loop (broadcast's second subscriber): what they saw."""

    task_group: TaskGroup
    items: int = 0
    errors: list[BaseException] = field(default_factory=list)


#: Builds a chain over the stream: context managers go on the stack, the consumer's iterator
#: is returned.
Open = Callable[[MessageStream, AsyncExitStack, Sides], Awaitable[AsyncIterator[Any]]]


@dataclass(frozen=True)
class Chain:
    """A chain of operators, the transcript it reads, and how it ends on its own."""

    name: str
    fixture: str
    open: Open
    #: The consumer's iterator is an operator's async generator (``aclosing`` applies).
    generator: bool = True
    #: How many subscribers run beside the consumer (each must see the same error).
    side_consumers: int = 0
    #: The chain stops reading at the first tool call's ``content_block_stop``.
    stops_at_tool_use: bool = False

    def __str__(self) -> str:
        return self.name


async def _text_deltas(stream: MessageStream, stack: AsyncExitStack, sides: Sides) -> Any:
    return stream.pipe(ops.text_deltas)


async def _first_tool_call(stream: MessageStream, stack: AsyncExitStack, sides: Sides) -> Any:
    return stream.pipe(partial(ops.take_until, predicate=ops.tool_use_stopped()), ops.tool_calls)


async def _idle_snapshots(stream: MessageStream, stack: AsyncExitStack, sides: Sides) -> Any:
    return stream.pipe(partial(ops.idle_timeout, timeout=10), ops.accumulate)


async def _mapped_text(stream: MessageStream, stack: AsyncExitStack, sides: Sides) -> Any:
    return stream.pipe(
        _of_text,
        partial(ops.map_events, fn=lambda event: event.delta.text),
    )


def _of_text(source: Any) -> Any:
    return ops.of_type(source, sluice.TextDelta)


async def _coalesced_text(stream: MessageStream, stack: AsyncExitStack, sides: Sides) -> Any:
    events = await stack.enter_async_context(ops.coalesce(stream, max_chars=32))
    return ops.pipe(events, ops.text_deltas)


async def _controlled_snapshots(stream: MessageStream, stack: AsyncExitStack, sides: Sides) -> Any:
    events, _control = await stack.enter_async_context(ops.controlled(stream, buffer_size=4))
    return ops.pipe(events, ops.accumulate)


async def _broadcast_two(stream: MessageStream, stack: AsyncExitStack, sides: Sides) -> Any:
    hub = await stack.enter_async_context(ops.broadcast(stream, buffer_size=4))
    first = await stack.enter_async_context(hub.subscribe())
    # The second subscriber runs in a task of its own, outside the consumer's scope: it ends
    # when the broadcaster's block does, with the broadcast's ending or error.
    sides.task_group.start_soon(_drain_side, hub.subscribe(), sides)
    return first


async def _drain_side(subscription: ops.Subscription, sides: Sides) -> None:
    try:
        async with subscription:
            async for _ in subscription:
                sides.items += 1
    except sluice.StreamError as exc:
        sides.errors.append(exc)


async def _sse_frames(stream: MessageStream, stack: AsyncExitStack, sides: Sides) -> Any:
    return stream.pipe(ops.to_sse)


async def _deep(stream: MessageStream, stack: AsyncExitStack, sides: Sides) -> Any:
    events = await stack.enter_async_context(ops.coalesce(ops.idle_timeout(stream, 10)))
    return ops.pipe(
        events,
        partial(ops.filter_events, predicate=lambda event: type(event) is not sluice.Ping),
        ops.to_jsonl,
    )


CHAINS = [
    Chain("text_deltas", "text.sse", _text_deltas),
    Chain("take_until-tool_calls", "tool_use.sse", _first_tool_call, stops_at_tool_use=True),
    Chain("idle_timeout-accumulate", "thinking.sse", _idle_snapshots),
    Chain("of_type-map_events", "text.sse", _mapped_text),
    Chain("coalesce-text_deltas", "text.sse", _coalesced_text),
    Chain("controlled-accumulate", "tool_use.sse", _controlled_snapshots),
    Chain("broadcast-2", "tool_use.sse", _broadcast_two, generator=False, side_consumers=1),
    Chain("to_sse", "thinking.sse", _sse_frames),
    Chain("idle_timeout-coalesce-filter_events-to_jsonl", "text.sse", _deep),
]
each_chain = pytest.mark.parametrize("chain", CHAINS, ids=str)


async def open_items(
    chain: Chain, stream: MessageStream, stack: AsyncExitStack, sides: Sides, *, closing: bool
) -> AsyncIterator[Any]:
    """Open ``chain`` on ``stream``; with ``closing``, its generator is left in ``aclosing``."""
    items = await chain.open(stream, stack, sides)
    if closing and chain.generator:
        await stack.enter_async_context(aclosing(items))  # type: ignore[type-var]
    return items


def events_of(data: bytes) -> list[Event]:
    """The events completed by ``data`` (an unterminated last event is not one)."""
    return list(EventStreamDecoder().feed(data))


def stopped_at_tool_use(chain: Chain, events: list[Event]) -> bool:
    """Whether ``chain`` ends on its own within ``events`` (before a fault after them)."""
    predicate = ops.tool_use_stopped()
    return chain.stops_at_tool_use and any(predicate(event) for event in events)


# -- cancellation ---------------------------------------------------------------------------


async def consume_cancelled(
    chain: Chain,
    reply: Reply,
    *,
    after: int | None,
    deadline: float | None,
    in_body: bool,
    closing: bool,
) -> None:
    """Consume ``chain`` and cancel the consumer; check that everything was released."""
    async with serving(reply) as harness:
        sides = harness.sides
        async with harness.client.messages.stream(**PARAMS) as stream:
            with anyio.CancelScope() as scope:
                if deadline is not None:
                    scope.deadline = anyio.current_time() + deadline
                if after == 0:
                    scope.cancel()
                async with AsyncExitStack() as stack:
                    items = await open_items(chain, stream, stack, sides, closing=closing)
                    count = 0
                    async for _ in items:
                        count += 1
                        if count == after:
                            scope.cancel()
                        if in_body:
                            # Cancellation lands here, between two items, rather than inside
                            # the chain: only closing the chain can release it then.
                            await anyio.lowlevel.checkpoint()
            # Inside the stream's block: the chain itself released the connection.
            harness.assert_released(stream)
        await harness.assert_reusable()


@each_chain
class TestCancellation:
    @PROPERTY
    @given(after=st.integers(0, 40), in_body=st.booleans(), closing=st.booleans())
    async def test_cancelled_after_any_item(
        self, chain: Chain, after: int, in_body: bool, closing: bool
    ) -> None:
        """Cancelled after any item, between items or inside the chain: all is released."""
        with no_unraisable():
            await consume_cancelled(
                chain,
                Reply.sse(load(chain.fixture)),
                after=after,
                deadline=None,
                in_body=in_body,
                # A generator suspended between items is closed by aclosing, or else only by
                # the garbage collector (PEP 525); cancelled inside the chain, it closes itself.
                closing=closing or in_body,
            )

    @PACED
    @given(deadline=st.floats(0, 0.04), in_body=st.booleans(), closing=st.booleans())
    async def test_cancelled_at_a_deadline(
        self, chain: Chain, deadline: float, in_body: bool, closing: bool
    ) -> None:
        """A deadline expiring anywhere in a paced stream leaves nothing open or pending."""
        with no_unraisable():
            await consume_cancelled(
                chain,
                Reply.sse(load(chain.fixture), delay=0.001),
                after=None,
                deadline=deadline,
                in_body=in_body,
                closing=closing or in_body,
            )


# -- errors ---------------------------------------------------------------------------------


async def consume_failing(
    chain: Chain, reply: Reply, *, expected: sluice.StreamError | None
) -> None:
    """Consume ``chain``; it must raise an error like ``expected`` (or end, if ``None``)."""
    async with serving(reply) as harness:
        sides = harness.sides
        async with harness.client.messages.stream(**PARAMS) as stream:
            error: sluice.StreamError | None = None
            count = 0
            try:
                async with AsyncExitStack() as stack:
                    items = await open_items(chain, stream, stack, sides, closing=True)
                    async for _ in items:
                        count += 1
            except sluice.StreamError as exc:
                error = exc
            harness.assert_released(stream)
        await harness.assert_reusable()
    if chain.side_consumers:  # slow="block": every subscriber got every event, in full
        assert sides.items == count
    if expected is None:
        assert error is None
        assert sides.errors == []
        return
    assert type(error) is type(expected), repr(error)
    if isinstance(expected, sluice.APIStreamError):
        assert error.message == expected.message
    else:  # the body was cut: the transport error is the cause
        assert isinstance(error.__cause__, httpx.TransportError), repr(error.__cause__)
    assert error.events_received == expected.events_received
    assert to_builtins(error.partial_message) == to_builtins(expected.partial_message)
    # Every subscriber of a broadcast gets that same error object.
    assert len(sides.errors) == chain.side_consumers
    assert all(other is error for other in sides.errors)


def reference_error(events: list[Event], final: Event | None) -> sluice.StreamError:
    """The error the sans-I/O accumulator raises for ``events`` then ``final`` (or the end)."""
    accumulator = MessageAccumulator()
    for event in events:
        accumulator.feed(event)
    try:
        if final is not None:
            accumulator.feed(final)
        accumulator.finish()
    except sluice.StreamError as exc:
        return exc
    raise AssertionError("the reference accumulator raised nothing")


@each_chain
class TestErrors:
    @ERRORS
    @given(where=st.floats(0, 1, exclude_max=True))
    async def test_error_event_reaches_the_consumer(self, chain: Chain, where: float) -> None:
        """An in-stream error after any event raises OverloadedError with the partial message."""
        data = load(chain.fixture)
        events = events_of(data)
        cut = int(where * len(events))
        error = ErrorEvent(error=ErrorDetail(type="overloaded_error", message="Overloaded"))
        expected = reference_error(events[:cut], error)
        assert isinstance(expected, sluice.OverloadedError)
        assert isinstance(expected, sluice.APIStreamError)
        with no_unraisable():
            await consume_failing(
                chain,
                Reply.sse(data, inject_error=(cut, "overloaded_error", "Overloaded")),
                expected=None if stopped_at_tool_use(chain, events[:cut]) else expected,
            )

    @ERRORS
    @given(where=st.floats(0, 1, exclude_max=True))
    async def test_dropped_connection_reaches_the_consumer(
        self, chain: Chain, where: float
    ) -> None:
        """A connection dropped after any byte raises IncompleteStreamError with what arrived."""
        data = load(chain.fixture)
        cut = int(where * len(data))
        arrived = events_of(data[:cut])
        expected = reference_error(arrived, None)
        assert isinstance(expected, sluice.IncompleteStreamError)
        with no_unraisable():
            await consume_failing(
                chain,
                Reply.sse(data, drop_after=cut),
                expected=None if stopped_at_tool_use(chain, arrived) else expected,
            )


# -- closing early --------------------------------------------------------------------------


async def break_after(chain: Chain, after: int) -> None:
    """Break out after ``after`` items (0: before the first) of a stream that never ends."""
    data = load(chain.fixture)
    # Everything but message_delta and message_stop is sent, then nothing more, ever.
    reply = Reply.sse(data, stall_after=data.rindex(b"event: message_delta"))
    async with serving(reply) as harness:
        async with harness.client.messages.stream(**PARAMS) as stream:
            async with AsyncExitStack() as stack:
                items = await chain.open(stream, stack, harness.sides)
                if chain.generator:
                    async with aclosing(items) as chained:  # type: ignore[type-var]
                        count = await take(chained, after)
                    # Closing the last operator closed every stage, down to the response.
                    harness.assert_released(stream)
                else:
                    count = await take(items, after)
            assert count == after
            harness.assert_released(stream)
        await harness.assert_reusable()


async def take(items: AsyncIterator[Any], count: int) -> int:
    """Read ``count`` items, then break out of the loop; how many were read."""
    taken = 0
    if count:
        async for _ in items:
            taken += 1
            if taken == count:
                break
    return taken


@each_chain
class TestClosingEarly:
    @pytest.mark.parametrize("after", [0, 1, 3])
    async def test_break_releases_the_connection(self, chain: Chain, after: int) -> None:
        """Closing a chain after any item, or before the first, releases the connection at once."""
        with no_unraisable():
            await break_after(chain, after)
