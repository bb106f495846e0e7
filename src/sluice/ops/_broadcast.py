"""Fan one event stream out to many subscribers (websocket relays, several UIs, a recorder).

::

    async with ops.broadcast(stream, buffer_size=256, slow="drop") as hub:
        ...
        async with hub.subscribe() as events:      # in each websocket handler
            async for event in events:
                await websocket.send(sluice.to_json(event))

One background task reads the source once and hands every event to every subscription.
Each subscription has its own bounded buffer of ``buffer_size`` events, and ``slow`` says
what happens when a subscriber falls that far behind:

``"block"`` (default)
    Backpressure: the reader waits until the slowest subscriber has room, so the source is
    read at most ``buffer_size + 1`` events ahead of it and nobody loses an event. One
    stalled subscriber stalls everyone: close subscriptions you stop reading.
``"drop"``
    The event that does not fit is discarded for that subscriber only (drop *newest*: its
    buffer keeps the oldest undelivered events, in order) and counted in
    :attr:`Subscription.dropped`. Any event can be dropped, ``message_stop`` included, so a
    subscription with ``dropped > 0`` cannot rebuild the message.
``"disconnect"``
    That subscriber is cut off: it still receives the ``buffer_size`` events already in its
    buffer, then its iteration raises :class:`SubscriberTooSlowError`. The others carry on.

**Catch-up** (``replay=True``, the default). The reader starts as soon as the ``async
with`` block is entered (it first runs at the block's first checkpoint, e.g. its first
``await``), so a subscription made later has missed events. It therefore starts with a
synthetic catch-up that rebuilds the message accumulated so far, then continues with the
live events; a :class:`~sluice.MessageAccumulator` fed the whole sequence ends with the same
message as the source. The catch-up is, in order:

1. ``MessageStart`` whose message is a copy of the accumulated message with ``content=[]``:
   id, model, unknown fields, and the *current* ``stop_reason``/``stop_sequence``/
   ``stop_details``/``container``/``usage`` (a ``message_delta`` that already passed is
   folded in here; no ``MessageDelta`` is replayed).
2. For each content block, in index order: ``ContentBlockStart`` with the block exactly as it
   started; then one coalesced ``ContentBlockDelta`` per kind of content received so far:
   ``CitationsDelta`` (one per citation) and ``TextDelta`` (all text) for a text block,
   ``ThinkingDelta`` (all thinking) and ``SignatureDelta`` for a thinking block,
   ``InputJSONDelta`` (all the JSON text received, finished or not) for a ``tool_use`` or
   ``server_tool_use`` block; then ``ContentBlockStop`` if the block has stopped.
3. ``MessageStop`` if it has already passed.

Nothing else is replayed (pings, unknown events, deltas that did not change the message).
A source of several messages in a row, such as a tool runner's steps
(``client.messages.run``), is tracked one message at a time: a ``message_start`` after a
``message_stop`` begins the next one, and the catch-up rebuilds the message in progress
(or the last one), not the earlier ones. Events that are not Messages API events (the
run's ``StepStart``, ``ToolFinish``...) are relayed live but not replayed.
Before ``message_start`` the catch-up is empty. It is built when :meth:`Broadcaster.subscribe`
is called and held outside the bounded buffer (its size is that of the message so far), so
it never counts as slowness. :attr:`Subscription.replayed` says how many events it has.

With ``replay=True`` the broadcaster accumulates what it relays, so the source must be a
Messages API event stream (what ``MessageStream`` yields): an ``error`` event, an event out
of protocol order or invalid tool JSON ends the broadcast with the typed error a
``MessageStream`` would raise. ``replay=False`` relays any event stream verbatim and late
subscribers get only the events that follow.

**Endings.** When the source ends, every subscription ends after draining its buffer. When
it raises (an in-stream ``APIStreamError``, a transport failure...), every subscription,
including any made afterwards, raises that same exception object after the events that
preceded it. Leaving the broadcaster's ``async with`` block cancels the reader and closes the
source (:func:`~sluice.ops.aclose_upstream`); subscriptions then end after their buffer,
without ``message_stop`` if the source had not finished. Closing a subscription never
affects the others.
"""

from __future__ import annotations

from collections import deque
from collections.abc import AsyncIterable, AsyncIterator
from types import TracebackType
from typing import Any, Literal, TypeAlias

import anyio
import anyio.lowlevel
import msgspec
from anyio.abc import TaskGroup
from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream

from .._core._accumulate import MessageAccumulator
from .._core._closing import AsyncCloseable
from .._core._events import (
    CitationsDelta,
    ContentBlockDelta,
    ContentBlockStart,
    ContentBlockStop,
    Event,
    InputJSONDelta,
    MessageStart,
    MessageStop,
    SignatureDelta,
    TextDelta,
    ThinkingDelta,
)
from .._core._exceptions import SubscriberTooSlowError
from .._core._message import (
    ContentBlock,
    ServerToolUseBlock,
    TextBlock,
    ThinkingBlock,
    ToolUseBlock,
    decode_message,
)
from .._core._serialize import to_builtins
from ._base import aclose_all, aclose_upstream

__all__ = [
    "Broadcaster",
    "SlowPolicy",
    "SubscriberTooSlowError",
    "Subscription",
    "broadcast",
]

#: What to do with a subscriber whose buffer is full: see the module docstring.
SlowPolicy: TypeAlias = Literal["block", "drop", "disconnect"]
_POLICIES = ("block", "drop", "disconnect")

# Blocks whose input_json_delta fragments the accumulator applies (the SDK's rule).
_TOOL_BLOCKS = (ToolUseBlock, ServerToolUseBlock)

_ReplayDelta: TypeAlias = (
    TextDelta | ThinkingDelta | SignatureDelta | InputJSONDelta | CitationsDelta
)

_encode = msgspec.json.Encoder().encode

# The Messages API's events (what the accumulator tracks); anything else is only relayed.
_API_EVENTS: frozenset[type] = frozenset(Event.__args__)


def broadcast(
    source: AsyncIterable[Event],
    *,
    buffer_size: int = 256,
    slow: SlowPolicy = "block",
    replay: bool = True,
) -> Broadcaster:
    """Fan ``source`` out to any number of subscribers; use as ``async with``.

    Args:
        source: the event stream to read once (a ``MessageStream``, or any async iterable
            of events). It is closed when the broadcast ends or its block is left.
        buffer_size: how many events each subscription may have waiting (at least 1).
        slow: what to do when a subscription's buffer is full: ``"block"`` the source,
            ``"drop"`` the newest event for that subscriber, or ``"disconnect"`` it with
            :class:`SubscriberTooSlowError`.
        replay: start late subscriptions with a catch-up of the message so far (see the
            module docstring for exactly what it contains).

    Returns:
        a :class:`Broadcaster`; entering it starts the reader at once.

    Raises:
        ValueError: ``buffer_size`` is below 1 or ``slow`` is not one of the policies.
    """
    return Broadcaster(source, buffer_size=buffer_size, slow=slow, replay=replay)


class Broadcaster:
    """One source, many subscriptions. Created by :func:`broadcast`; an async context manager.

    Entering starts the background reader; leaving cancels it and closes the source.
    """

    def __init__(
        self,
        source: AsyncIterable[Event],
        *,
        buffer_size: int = 256,
        slow: SlowPolicy = "block",
        replay: bool = True,
    ) -> None:
        if buffer_size < 1:
            raise ValueError(f"buffer_size must be at least 1, got {buffer_size!r}")
        if slow not in _POLICIES:
            raise ValueError(f"slow must be one of {', '.join(map(repr, _POLICIES))}; got {slow!r}")
        self._source = source
        self._iterator: AsyncIterator[Event] | None = None
        self._buffer_size = buffer_size
        self._slow = slow
        self._replay = replay
        self._task_group: TaskGroup | None = None
        self._state: Literal["new", "open", "closed"] = "new"
        # Live subscriptions in the order they joined (a dict: ordered, O(1) removal).
        self._subscriptions: dict[Subscription, None] = {}
        self._events = 0
        self._finished = False
        self._error: BaseException | None = None
        self._traceback: TracebackType | None = None
        # Replay state, kept only with replay=True: the accumulated message, each block as
        # it started, whether it stopped, and the input JSON of tool blocks.
        self._accumulator = MessageAccumulator()
        self._starts: list[ContentBlock] = []
        self._stopped: list[bool] = []
        self._tool_json: list[list[str] | None] = []

    def __repr__(self) -> str:
        state = "finished" if self._finished else self._state
        return (
            f"<Broadcaster {state} slow={self._slow!r} buffer_size={self._buffer_size} "
            f"subscribers={self.subscribers} events={self._events}>"
        )

    @property
    def subscribers(self) -> int:
        """How many subscriptions receive live events (0 once the source has ended).

        A subscription stops counting when it is closed or cut off by ``slow="disconnect"``.
        """
        return len(self._subscriptions)

    def subscribe(self) -> Subscription:
        """A new subscription: the catch-up (with ``replay=True``), then live events.

        It is registered at once, so it sees every event the reader publishes from now on.
        Use it as ``async with hub.subscribe() as events:`` or call
        :meth:`Subscription.aclose`; under ``slow="block"`` an unread, unclosed subscription
        stalls the source once its buffer is full.

        Raises:
            RuntimeError: the broadcaster is not entered, or was already left.
        """
        if self._state != "open":
            raise RuntimeError(
                "subscribe() needs an open broadcaster: call it inside "
                "`async with broadcast(source) as hub:`"
            )
        catch_up = self._catch_up() if self._replay else []
        send, receive = anyio.create_memory_object_stream[Event](self._buffer_size)
        subscription = Subscription(self, send, receive, catch_up)
        if self._finished:
            subscription._end(self._error, self._traceback)
        else:
            self._subscriptions[subscription] = None
        return subscription

    async def __aenter__(self) -> Broadcaster:
        if self._state != "new":
            raise RuntimeError("a Broadcaster can be entered only once; call broadcast() again")
        self._iterator = aiter(self._source)
        task_group = anyio.create_task_group()
        await task_group.__aenter__()
        self._task_group = task_group
        self._state = "open"
        task_group.start_soon(self._read, name=f"sluice broadcast reader {id(self):#x}")
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> bool | None:
        assert self._task_group is not None
        self._state = "closed"
        self._task_group.cancel_scope.cancel()
        try:
            # Exit the task group as if the body succeeded: the reader was cancelled on
            # purpose, and the body's own exception (or cancellation) must propagate
            # unchanged, not wrapped in an ExceptionGroup.
            await self._task_group.__aexit__(None, None, None)
            return None
        finally:
            # The reader does both in its own `finally`; repeated here (both are idempotent)
            # so that nothing stays open whatever state the reader ended in.
            self._finish(None, None)
            await self._close_source()

    # ----------------------------------------------------------------------------- reader

    async def _read(self) -> None:
        assert self._iterator is not None
        iterator = self._iterator
        error: Exception | None = None
        try:
            while True:
                try:
                    event = await anext(iterator)
                    if self._replay:
                        self._track(event)
                except StopAsyncIteration:
                    break
                except Exception as exc:
                    # Not ours to handle: every subscriber gets it after the events before it.
                    error = exc
                    break
                self._events += 1
                await self._publish(event)
                # Let subscribers run between events: a source that hands out a whole chunk
                # of events without awaiting must not overflow buffers of subscribers that
                # keep up, and "slow" must mean slow, not "not scheduled yet".
                await anyio.lowlevel.checkpoint()
        finally:
            self._finish(error, error.__traceback__ if error is not None else None)
            await self._close_source()

    async def _publish(self, event: Event) -> None:
        blocked: list[Subscription] = []
        for subscription in list(self._subscriptions):
            try:
                subscription._send.send_nowait(event)
            except anyio.WouldBlock:
                if self._slow == "block":
                    blocked.append(subscription)
                elif self._slow == "drop":
                    subscription._dropped += 1
                else:
                    self._cut_off(subscription)
            except (anyio.BrokenResourceError, anyio.ClosedResourceError):
                self._forget(subscription)
            else:
                subscription._received += 1
        # Backpressure: everyone who had room already has the event; wait for the others.
        for subscription in blocked:
            if subscription not in self._subscriptions:
                continue  # closed while we waited for another one
            try:
                await subscription._send.send(event)
            except (anyio.BrokenResourceError, anyio.ClosedResourceError):
                self._forget(subscription)
            else:
                subscription._received += 1

    def _cut_off(self, subscription: Subscription) -> None:
        self._forget(subscription)
        error = SubscriberTooSlowError(
            f"this subscriber fell {self._buffer_size} events behind the broadcast "
            f'(slow="disconnect") and was cut off after {subscription._received} events; '
            "read faster, raise buffer_size, or use slow='drop' or 'block'",
            buffer_size=self._buffer_size,
            events_received=subscription._received,
        )
        subscription._end(error, None)

    def _forget(self, subscription: Subscription) -> None:
        self._subscriptions.pop(subscription, None)

    def _finish(self, error: BaseException | None, traceback: TracebackType | None) -> None:
        if self._finished:
            return
        self._finished = True
        self._error = error
        self._traceback = traceback
        subscriptions = list(self._subscriptions)
        self._subscriptions.clear()
        for subscription in subscriptions:
            subscription._end(error, traceback)

    async def _close_source(self) -> None:
        if self._iterator is None:
            await aclose_upstream(self._source)
        else:
            await aclose_all(self._source, self._iterator)

    # ----------------------------------------------------------------------------- replay

    def _track(self, event: Event) -> None:
        """Accumulate ``event`` and remember what the catch-up needs (raises StreamError)."""
        cls = type(event)
        if cls not in _API_EVENTS:
            return  # a tool runner's own event: relayed, not replayed
        if cls is MessageStart and self._accumulator.done:
            # The next message of a source of several (a tool runner's next step).
            self._accumulator = MessageAccumulator()
            self._starts.clear()
            self._stopped.clear()
            self._tool_json.clear()
        self._accumulator.feed(event)
        if isinstance(event, ContentBlockDelta):
            if isinstance(event.delta, InputJSONDelta):
                sink = self._tool_json[event.index]
                # Input that arrives after the block stopped is never parsed: not replayed.
                if sink is not None and not self._stopped[event.index]:
                    sink.append(event.delta.partial_json)
        elif isinstance(event, ContentBlockStart):
            self._add_block(event.content_block)
        elif isinstance(event, ContentBlockStop):
            self._stopped[event.index] = True
        elif isinstance(event, MessageStart):
            for block in event.message.content:
                self._add_block(block)

    def _add_block(self, block: ContentBlock) -> None:
        # The accumulator works on a copy, so `block` stays exactly as it started.
        self._starts.append(block)
        self._stopped.append(False)
        self._tool_json.append([] if isinstance(block, _TOOL_BLOCKS) else None)

    def _catch_up(self) -> list[Event]:
        message = self._accumulator.message
        if message is None:
            return []
        shell: dict[str, Any] = to_builtins(message)
        shell["content"] = []
        events: list[Event] = [MessageStart(message=decode_message(_encode(shell)))]
        for index, block in enumerate(message.content):
            start = self._starts[index]
            events.append(ContentBlockStart(index=index, content_block=start))
            events.extend(
                ContentBlockDelta(index=index, delta=delta)
                for delta in self._deltas_so_far(index, start, block)
            )
            if self._stopped[index]:
                events.append(ContentBlockStop(index=index))
        if self._accumulator.done:
            events.append(MessageStop())
        return events

    def _deltas_so_far(
        self, index: int, start: ContentBlock, block: ContentBlock
    ) -> list[_ReplayDelta]:
        """The fewest deltas that turn ``start`` into ``block``, as the accumulator applies them."""
        if isinstance(start, TextBlock) and isinstance(block, TextBlock):
            had = len(start.citations) if isinstance(start.citations, list) else 0
            citations = block.citations[had:] if isinstance(block.citations, list) else []
            deltas: list[_ReplayDelta] = [
                CitationsDelta(citation=citation) for citation in citations
            ]
            if text := block.text[len(start.text) :]:
                deltas.append(TextDelta(text=text))
            return deltas
        if isinstance(start, ThinkingBlock) and isinstance(block, ThinkingBlock):
            deltas = []
            if thinking := block.thinking[len(start.thinking) :]:
                deltas.append(ThinkingDelta(thinking=thinking))
            if isinstance(block.signature, str) and block.signature != start.signature:
                deltas.append(SignatureDelta(signature=block.signature))
            return deltas
        sink = self._tool_json[index]
        if sink and (partial_json := "".join(sink)):
            return [InputJSONDelta(partial_json=partial_json)]
        return []


class Subscription(AsyncCloseable):
    """One subscriber's view of a broadcast: an async iterator of events.

    Use as ``async with hub.subscribe() as events: async for event in events: ...``, or call
    :meth:`aclose` when done. Iteration yields the catch-up first (see :attr:`replayed`),
    then live events; it ends when the source ends, raises the source's error after the
    events before it, or raises :class:`SubscriberTooSlowError` under
    ``slow="disconnect"``.
    """

    def __init__(
        self,
        broadcaster: Broadcaster,
        send: MemoryObjectSendStream[Event],
        receive: MemoryObjectReceiveStream[Event],
        catch_up: list[Event],
    ) -> None:
        self._broadcaster = broadcaster
        self._send = send
        self._receive = receive
        self._catch_up = deque(catch_up)
        self._replayed = len(catch_up)
        self._received = len(catch_up)
        self._dropped = 0
        self._error: BaseException | None = None
        self._traceback: TracebackType | None = None
        self._exhausted = False
        self._closed = False

    def __repr__(self) -> str:
        return (
            f"<Subscription received={self._received} dropped={self._dropped} "
            f"{'closed' if self._closed else 'open'}>"
        )

    @property
    def dropped(self) -> int:
        """How many live events this subscription lost to ``slow="drop"``."""
        return self._dropped

    @property
    def replayed(self) -> int:
        """How many synthetic catch-up events this subscription starts with."""
        return self._replayed

    def __aiter__(self) -> Subscription:
        return self

    async def __anext__(self) -> Event:
        if self._catch_up:
            await anyio.lowlevel.checkpoint()
            if self._catch_up:  # unless closed meanwhile
                return self._catch_up.popleft()
        if self._exhausted:
            raise StopAsyncIteration
        try:
            return await self._receive.receive()
        except anyio.EndOfStream:
            pass
        except anyio.ClosedResourceError:
            raise StopAsyncIteration from None
        self._exhausted = True
        error = self._error
        if error is None:
            raise StopAsyncIteration
        # The same object reaches every subscriber (so `except OverloadedError` and
        # identity checks work); raised outside `except` so its __context__ stays the
        # source's, and with the source's traceback rather than one grown by each raise.
        raise error.with_traceback(self._traceback)

    async def aclose(self) -> None:
        """Unsubscribe and drop what is buffered. Never affects the other subscriptions."""
        if self._closed:
            return
        self._closed = True
        self._broadcaster._forget(self)
        self._catch_up.clear()
        # Receiving end first: a reader blocked sending to us wakes up and moves on.
        self._receive.close()
        self._send.close()

    def _end(self, error: BaseException | None, traceback: TracebackType | None) -> None:
        """No more live events: ``error`` (if any) comes after what is buffered."""
        self._error = error
        self._traceback = traceback
        self._send.close()
