"""An idle timeout for event streams: fail when the API goes quiet, keeping what arrived.

The official SDKs only have httpx's per-read timeout, which a trickle of ``ping`` events or
a slow proxy can defeat and which, when it fires, loses the message streamed so far.
:func:`idle_timeout` measures the gap between events instead and raises
:class:`~sluice.StreamIdleTimeoutError` carrying the partial message.

It is a plain async generator (no background task): each wait for the next event runs in
its own ``anyio.move_on_after`` scope, and the event is yielded only after that scope has
closed, never from inside it (PEP 789).
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterable
from contextlib import suppress

import anyio

from .._core._accumulate import MessageAccumulator
from .._core._events import Event, Ping
from .._core._exceptions import StreamError, StreamIdleTimeoutError
from .._core._message import Message
from ._base import aclose_all

__all__ = ["idle_timeout"]


def idle_timeout(
    source: AsyncIterable[Event], timeout: float, *, pings_count: bool = False
) -> AsyncGenerator[Event, None]:
    """Pass events through; raise if no progress arrives for ``timeout`` seconds.

    The clock runs while this operator waits for its upstream, from the moment the
    consumer asks for the next event until that event arrives; time the consumer spends
    between events does not count. The first event (usually ``message_start``) is under
    the same timeout. A ``ping`` is passed through but is not progress: a stream that only
    pings times out (the API's keep-alives also keep a stuck generation's connection open).

    On timeout, and whenever iteration stops (end, error, ``break`` + close,
    cancellation), the upstream is closed, which releases the HTTP connection.

    With :func:`~sluice.ops.controlled`, put this operator *upstream* of it,
    ``controlled(idle_timeout(stream, 30))``: the clock then runs only while the reader
    waits for the API, not while the consumer has paused (a paused consumer stops asking,
    and a full buffer stops the reader). Downstream of a paused ``controlled`` the clock
    would measure the pause instead.

    Args:
        source: the events, e.g. a ``MessageStream`` or another operator.
        timeout: the longest wait for progress, in seconds (> 0).
        pings_count: count ``ping`` events as progress (the old behaviour of a plain read
            timeout).

    Raises:
        ValueError: ``timeout`` is not positive (raised at the call, not at iteration).
        StreamIdleTimeoutError: no event other than a ping arrived within ``timeout``.
            ``partial_message`` is the message so far: the source's
            ``current_message_snapshot`` when it has one (a ``MessageStream``), else a
            message accumulated here from the events that passed through.
            ``events_received`` counts them.

    Example::

        async with client.messages.stream(...) as stream:
            async for event in ops.idle_timeout(stream, 30):
                ...
    """
    if not timeout > 0:
        raise ValueError(f"timeout must be a positive number of seconds, not {timeout!r}")
    return _idle_timeout(source, timeout, pings_count)


async def _idle_timeout(
    source: AsyncIterable[Event], seconds: float, pings_count: bool
) -> AsyncGenerator[Event, None]:
    iterator = aiter(source)
    witness = Witness(source)
    waited = 0.0  # waiting time since the last progress (pings do not reset it)
    try:
        while True:
            started = anyio.current_time()
            with anyio.move_on_after(seconds - waited) as scope:
                try:
                    event = await anext(iterator)
                except StopAsyncIteration:
                    return
            if scope.cancelled_caught:
                raise StreamIdleTimeoutError(
                    f"no progress for {seconds:g} s after {witness.events} events"
                    f"{'' if pings_count else ' (pings are not progress)'}; the stream was "
                    "closed and partial_message holds what arrived. Retry the request, or "
                    "raise the idle timeout if the model legitimately pauses (long "
                    "thinking, server tools).",
                    timeout=seconds,
                    partial_message=witness.partial(),
                    events_received=witness.events,
                )
            if type(event) is Ping and not pings_count:
                waited += anyio.current_time() - started
            else:
                waited = 0.0
            witness.see(event)
            yield event
    finally:
        await aclose_all(source, iterator)


class Witness:
    """Remembers what passed through an operator, to report it in an error.

    A source with a ``current_message_snapshot`` (a ``MessageStream``) already keeps the
    message: it is asked. Any other source's events are fed to a private
    :class:`~sluice.MessageAccumulator` as they pass (O(1) per event, text joined only
    when the report is made).
    """

    __slots__ = ("_accumulator", "_count", "_source")

    def __init__(self, source: object) -> None:
        # Looked up on the type, so that a property is not evaluated just to test for it.
        if getattr(type(source), "current_message_snapshot", None) is not None:
            self._source: object | None = source
            self._accumulator: MessageAccumulator | None = None
        else:
            self._source = None
            self._accumulator = MessageAccumulator()
        self._count = 0

    @property
    def events(self) -> int:
        """How many events were received (the source's own count when it keeps one)."""
        if self._source is not None:
            received = getattr(self._source, "events_received", None)
            if isinstance(received, int):
                return received
        return self._count

    def see(self, event: Event) -> None:
        """Record one event that passed through."""
        self._count += 1
        if self._accumulator is not None:
            # This accumulator only serves the error report. The consumer receives the
            # event itself and its own accumulator raises for an ``error`` event or an
            # out-of-order one; the failed feed left this accumulator unchanged, so the
            # report still holds everything before that event.
            with suppress(StreamError):
                self._accumulator.feed(event)

    def partial(self) -> Message | None:
        """The message so far, or ``None`` if not even ``message_start`` passed."""
        if self._source is not None:
            snapshot = getattr(self._source, "current_message_snapshot", None)
            return snapshot if isinstance(snapshot, Message) else None
        assert self._accumulator is not None
        return self._accumulator.partial()
