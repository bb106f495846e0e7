"""The async layer over the sans-I/O core: one HTTP response -> typed events -> message.

:class:`MessageStream` owns the ``httpx.Response``. One async generator reads the body
chunk by chunk and decodes each chunk's events at once (``EventStreamDecoder.decode``, the
hot loop written once in ``_core``); the three ways of consuming them share it, and each
goes on where another stopped:

* iterating the stream yields the events one by one, each applied to the accumulator right
  before it is yielded;
* :meth:`MessageStream.final_message` (``until_done``) applies each chunk's events with one
  ``MessageAccumulator.feed_many`` call, with no generator round trip per event;
* :meth:`MessageStream.aiter_batches` hands out each chunk's events as a list, accumulated,
  for buffering operators (``ops.controlled``).

Leaving the ``async with`` block, calling :meth:`aclose` or abandoning iteration releases
the connection, on asyncio and trio alike.

A stream made by a client records its usage in the client's meter (``client.usage``) as
it arrives: after each chunk's events are applied, and when reading stops however it
stops, so a stream that fails or is closed early counts the usage it reported.
"""

from __future__ import annotations

from collections.abc import (
    AsyncGenerator,
    AsyncIterator,
    Awaitable,
    Callable,
    Iterator,
)
from contextlib import contextmanager
from types import TracebackType
from typing import Any, Generic, Protocol, TypeVar

import httpx

from .._core._accumulate import InvalidToolInput, MessageAccumulator
from .._core._completions import Completion
from .._core._content import ContentDecodingError
from .._core._decode import CompletionStreamDecoder, EventStreamDecoder
from .._core._events import ContentBlockDelta, ErrorEvent, Event, TextDelta
from .._core._exceptions import (
    IncompleteStreamError,
    StreamError,
    StreamIdleTimeoutError,
    stream_error,
)
from .._core._limiter import CHARGE_OUTPUT
from .._core._message import Message, TextBlock
from .._core._meter import UsageMeter
from .._core._ratelimit import RateLimits
from .._core._sse import DEFAULT_MAX_EVENT_SIZE
from ..ops._base import Operator, Pipeline, aclose_upstream, pipe
from ._body import BodyIterator, body_chunks, release
from ._observe import reproducible
from ._response import attach_info, response_info

__all__ = [
    "CompletionStream",
    "CompletionStreamManager",
    "MessageStream",
    "MessageStreamManager",
    "StreamManager",
]


class MessageStream(BodyIterator[Event]):
    """A streaming response of the Messages API, as an async iterator of typed events.

    Mirrors the official SDK's ``MessageStream`` where that helps migration
    (:meth:`final_message`, :attr:`text_stream`, :attr:`current_message_snapshot`) and
    raises typed errors that carry the partial message.

    Args:
        response: the streaming response, unread.
        max_event_size: the largest SSE event accepted, in bytes.
        meter: where to record the stream's usage as it arrives (a client passes its own).
        invalid_tool_input: a tool call whose input is not valid JSON (fine-grained tool
            streaming may send one): ``"raise"`` :class:`~sluice.ToolInputError`, or
            ``"keep"`` it as the input ``{"INVALID_JSON": "<text>"}`` and go on.

    Attributes:
        response: the ``httpx.Response`` being read.
        request_id: the ``request-id`` header of the response.
    """

    def __init__(
        self,
        response: httpx.Response,
        *,
        max_event_size: int = DEFAULT_MAX_EVENT_SIZE,
        meter: UsageMeter | None = None,
        invalid_tool_input: InvalidToolInput = "raise",
    ) -> None:
        self.response: httpx.Response = response
        self.request_id: str | None = response.headers.get("request-id")
        self._accumulator = MessageAccumulator(invalid_tool_input=invalid_tool_input)
        self._tally = None if meter is None else meter.tally(response.extensions.get(CHARGE_OUTPUT))
        self._decoder = EventStreamDecoder(max_event_size=max_event_size)
        # The one reader of the body: the decoded events of each chunk, not yet applied.
        self._reader: AsyncGenerator[list[Event], None] = self._read()
        # The events of the chunk being iterated that were not yielded yet. Every way of
        # reading takes these first (the same iterator object), so each goes on where
        # another stopped.
        self._pending: Iterator[Event] = iter(())
        self._iterator: AsyncGenerator[Event, None] = self._events()
        self._closed = False

    def __repr__(self) -> str:
        state = "done" if self._accumulator.done else f"{self._accumulator.events} events"
        return f"<MessageStream request_id={self.request_id!r} {state}>"

    @property
    def rate_limits(self) -> RateLimits:
        """The ``anthropic-ratelimit-*`` headers of the streaming response."""
        return RateLimits.from_headers(self.response.headers)

    @property
    def current_message_snapshot(self) -> Message | None:
        """The message accumulated from the events read so far.

        That is the events yielded, except under a buffering operator such as
        ``ops.controlled``, which reads ahead of what it has handed out: use
        ``ops.accumulate`` after it for the message as of the consumer's position.
        """
        return self._accumulator.message

    @property
    def events_received(self) -> int:
        """How many events were decoded so far."""
        return self._accumulator.events

    @property
    def text_stream(self) -> AsyncIterator[str]:
        """The text deltas only, as they arrive (every event is still accumulated).

        A plain iterator, not a generator: breaking out of it leaves nothing to finalize,
        and the stream goes on (``final_message()`` still works).
        """
        return _TextStream(self._iterator)

    def pipe(self, *stages: Operator) -> Pipeline:
        """Run this stream's events through operators, left to right (see ``sluice.ops``).

        ``stream.pipe(ops.text_deltas)`` is ``ops.text_deltas(stream)``; closing the result
        closes the stream. Events still reach the accumulator, so :meth:`final_message`
        works afterwards.
        """
        return pipe(self, *stages)

    async def until_done(self) -> None:
        """Consume the rest of the stream.

        Each chunk's events are applied at once, without yielding them one by one; after
        a partial iteration it goes on with the first event not yielded.
        """
        feed_many = self._accumulator.feed_many
        reader = self._reader
        try:
            feed_many(self._pending)
            async for events in reader:
                feed_many(events)
        except Exception as exc:
            await self._stop_reading(exc)
            raise

    async def final_message(self) -> Message:
        """Consume the rest of the stream and return the complete message.

        ``sluice.response_info(message)`` gives the stream's status, ``request-id`` and
        rate limits, as for a message from ``messages.create``.

        Raises:
            IncompleteStreamError: the body ended before ``message_stop``.
            APIStreamError: the API sent an in-stream ``error`` event.
        """
        await self.until_done()
        message = self._accumulator.finish()
        if response_info(message) is None:
            attach_info(message, self.response)
        return message

    async def final_text(self) -> str:
        """Consume the rest of the stream and return the text of all text blocks, joined."""
        message = await self.final_message()
        return "".join(block.text for block in message.content if isinstance(block, TextBlock))

    async def aiter_batches(self) -> AsyncGenerator[list[Event], None]:
        """The events not read yet, one list per chunk of the body, each event accumulated.

        For consumers that buffer events (``ops.controlled`` recognises this method): a
        list per network read saves a generator round trip per event. The events are those
        that iterating the stream would give, in order, each applied to the accumulator
        before its list is yielded. An error (an in-stream ``error`` event, a malformed or
        oversized event, a cut connection) is raised after the list of the events before
        it. Closing the batches leaves the stream open: iterating it afterwards, or
        ``final_message()``, goes on where they stopped.

        A subclass that overrides ``__aiter__`` or ``__anext__`` is read through its own
        iteration, one event per list.
        """
        cls = type(self)
        own = BodyIterator
        if cls.__aiter__ is not own.__aiter__ or cls.__anext__ is not own.__anext__:
            iterator = aiter(self)
            try:
                async for event in iterator:
                    yield [event]
            finally:
                await aclose_upstream(iterator)
            return
        accumulator = self._accumulator
        reader = self._reader
        events = list(self._pending)
        try:
            while True:
                error = None
                if events:
                    before = accumulator.events
                    try:
                        accumulator.feed_many(events)
                    except Exception as exc:
                        # feed_many counts the event that raised: the ones before it go out.
                        error = exc
                        events = events[: accumulator.events - before - 1]
                if events:
                    yield events
                if error is not None:
                    raise error
                try:
                    events = await reader.__anext__()
                except StopAsyncIteration:
                    return
        except Exception as exc:
            await self._stop_reading(exc)
            raise

    def _count_unreported_output(self, output_tokens: int) -> None:
        """Count ``output_tokens`` as this response's output, if more than it reported:
        an estimate, for a stream that failed before its ``message_delta`` said (stream
        recovery). The snapshot's usage and the client's meter both get it."""
        message = self._accumulator.message
        if message is None or output_tokens <= message.usage.output_tokens:
            return
        message.usage.output_tokens = output_tokens
        if self._tally is not None:
            self._tally.update(message)

    async def _close_iterators(self) -> None:
        self._pending = iter(())  # a closed stream hands out nothing more
        await self._iterator.aclose()
        await self._reader.aclose()

    async def _stop_reading(self, error: Exception) -> None:
        """After ``error``: hand out nothing more, release the connection now, and let the
        error's ``curl()`` show the stream's request (key redacted)."""
        reproducible(error, self.response)
        for _ in self._pending:  # exhaust it: a suspended iteration holds it too
            pass
        await self._reader.aclose()

    async def _events(self) -> AsyncGenerator[Event, None]:
        """Iteration: each event applied to the accumulator right before it is yielded."""
        feed = self._accumulator.feed
        reader = self._reader
        try:
            while True:
                for event in self._pending:
                    feed(event)
                    yield event
                try:
                    self._pending = iter(await reader.__anext__())
                except StopAsyncIteration:
                    return
        except Exception as exc:
            await self._stop_reading(exc)
            raise
        finally:
            await reader.aclose()

    async def _read(self) -> AsyncGenerator[list[Event], None]:
        """The body, one list of decoded events per chunk (not applied to the accumulator).

        The consumer applies each list before asking for the next, so the errors raised
        here (a malformed event, a cut connection, an early end) carry every event before
        them in their ``partial_message``.
        """
        decode = self._decoder.decode
        tally = self._tally
        accumulator = self._accumulator
        # httpx's byte iterator is an async generator too: close it explicitly, or trio
        # warns that it was garbage collected unfinished when we stop early.
        chunks = body_chunks(self.response)
        try:
            with self._stream_errors():
                async for chunk in chunks:
                    events, error = decode(chunk)
                    if events:  # the good events go first
                        yield events
                        # The consumer applied them before asking for more: usage as of now
                        # (peek: joining the text after every chunk would be quadratic).
                        if tally is not None:
                            tally.update(accumulator.peek())
                    if error is not None:
                        raise error
                trailing = self._decoder.close()
                if trailing:
                    yield trailing
            self._check_complete()
        finally:
            if tally is not None:
                tally.update(accumulator.message)  # however reading stopped
            await release(self.response, chunks)

    @contextmanager
    def _stream_errors(self) -> Iterator[None]:
        """Turn a cut connection into ``IncompleteStreamError``, and give every stream error
        raised while reading the partial message (if it has none yet)."""
        accumulator = self._accumulator
        try:
            yield
        except httpx.ReadTimeout as exc:
            timeout = self.response.request.extensions.get("timeout", {}).get("read")
            raise StreamIdleTimeoutError(
                f"no byte arrived for {timeout} s after {accumulator.events} events: the "
                "connection is stuck (the API pings a quiet stream); partial_message holds "
                "what arrived. Retry, or raise stream_idle_timeout if a proxy holds events back",
                timeout=float(timeout) if isinstance(timeout, int | float) else 0.0,
                partial_message=accumulator.partial(),
                events_received=accumulator.events,
            ) from exc
        except (httpx.TransportError, ContentDecodingError) as exc:
            what = "connection failed" if isinstance(exc, httpx.TransportError) else "body broke"
            raise IncompleteStreamError(
                f"the {what} after {accumulator.events} events "
                f"({type(exc).__name__}: {exc}); partial_message holds what arrived",
                partial_message=accumulator.partial(),
                events_received=accumulator.events,
                unparsed=self._decoder.unparsed,
            ) from exc
        except StreamError as exc:
            if exc.partial_message is None:
                exc.partial_message = accumulator.partial()
                exc.events_received = accumulator.events
            raise

    def _check_complete(self) -> None:
        """Raise ``IncompleteStreamError`` if the body ended before ``message_stop``."""
        accumulator = self._accumulator
        if not accumulator.done:
            unparsed = self._decoder.unparsed
            tail = f" and {len(unparsed)} bytes of an unfinished event" if unparsed else ""
            raise IncompleteStreamError(
                f"the response ended before message_stop, after {accumulator.events} "
                f"events{tail}; partial_message holds what arrived",
                partial_message=accumulator.partial(),
                events_received=accumulator.events,
                unparsed=unparsed,
            )


class _TextStream(AsyncIterator[str]):
    __slots__ = ("_events",)

    def __init__(self, events: AsyncIterator[Event]) -> None:
        self._events = events

    def __aiter__(self) -> _TextStream:
        return self

    async def __anext__(self) -> str:
        events = self._events
        while True:
            event = await events.__anext__()
            if type(event) is ContentBlockDelta and type(event.delta) is TextDelta:
                return event.delta.text


class _Closeable(Protocol):
    async def aclose(self) -> None: ...


S = TypeVar("S", bound=_Closeable)


class StreamManager(Generic[S]):
    """``async with <resource>.stream(...) as stream``: sends the request on enter.

    Retries happen inside ``__aenter__``, before anything is yielded; the stream is closed,
    and its connection released, on exit.

    Args:
        open_stream: sends the request (with retries) and returns the stream that owns the
            response.
        usage: how to call it, for the error raised on ``async for`` without ``async with``.
    """

    def __init__(self, open_stream: Callable[[], Awaitable[S]], *, usage: str) -> None:
        self._open = open_stream
        self._usage = usage
        self._stream: S | None = None

    async def __aenter__(self) -> S:
        self._stream = await self._open()
        return self._stream

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._stream is not None:
            await self._stream.aclose()

    def __aiter__(self) -> AsyncIterator[Any]:
        raise TypeError(
            f"use `async with {self._usage} as stream:` and iterate `stream`; "
            "the context manager is what releases the connection"
        )


class MessageStreamManager(StreamManager[MessageStream]):
    """``async with client.messages.stream(...) as stream``: yields a :class:`MessageStream`."""

    def __init__(self, open_stream: Callable[[], Awaitable[MessageStream]]) -> None:
        super().__init__(open_stream, usage="client.messages.stream(...)")


# ------------------------------------------------------------------- text completions


class CompletionStream(BodyIterator[Completion]):
    """A streaming text completion: an async iterator of :class:`Completion` pieces.

    ``ping`` events are skipped and events of unknown types ignored; an ``error`` event
    raises the typed error for its ``error.type``.

    Attributes:
        response: the ``httpx.Response`` being read.
        request_id: the ``request-id`` header of the response.
    """

    def __init__(
        self, response: httpx.Response, *, max_event_size: int = DEFAULT_MAX_EVENT_SIZE
    ) -> None:
        self.response: httpx.Response = response
        self.request_id: str | None = response.headers.get("request-id")
        self._decoder = CompletionStreamDecoder(max_event_size=max_event_size)
        self._pieces: list[str] = []
        self._last: Completion | None = None
        self._events = 0
        self._iterator = self._iter_completions()
        self._closed = False

    def __repr__(self) -> str:
        state = "done" if self.done else f"{self._events} events"
        return f"<CompletionStream request_id={self.request_id!r} {state}>"

    @property
    def done(self) -> bool:
        """Whether the final piece (the one with a ``stop_reason``) has arrived."""
        return self._last is not None and self._last.stop_reason is not None

    @property
    def current_completion(self) -> Completion | None:
        """The completion so far: the text of the pieces yielded, joined; ``None`` before
        the first piece."""
        last = self._last
        if last is None:
            return None
        return Completion(
            id=last.id,
            completion="".join(self._pieces),
            stop_reason=last.stop_reason,
            model=last.model,
        )

    @property
    def text_stream(self) -> AsyncGenerator[str, None]:
        """The text pieces only, as they arrive."""
        return self._text_stream()

    async def _text_stream(self) -> AsyncGenerator[str, None]:
        async for piece in self._iterator:
            yield piece.completion

    async def until_done(self) -> None:
        """Consume the rest of the stream."""
        async for _ in self._iterator:
            pass

    async def final_completion(self) -> Completion:
        """Consume the rest of the stream; the whole completion, its text joined.

        Raises:
            IncompleteStreamError: the body ended before the piece with a ``stop_reason``.
            APIStreamError: the API sent an in-stream ``error`` event.
        """
        await self.until_done()
        completion = self.current_completion
        assert completion is not None  # until_done() raised otherwise
        return completion

    async def final_text(self) -> str:
        """Consume the rest of the stream and return the whole text."""
        return (await self.final_completion()).completion

    async def _iter_completions(self) -> AsyncGenerator[Completion, None]:
        decoder = self._decoder
        decode = decoder.decode
        pieces = self._pieces
        chunks = body_chunks(self.response)
        try:
            try:
                async for chunk in chunks:
                    events, error = decode(chunk)
                    for event in events:
                        self._events += 1
                        if type(event) is Completion:
                            pieces.append(event.completion)
                            self._last = event
                            yield event
                        elif type(event) is ErrorEvent:
                            raise self._stream_error(event)
                        # ping: nothing to do
                    if error is not None:
                        error.events_received = self._events
                        raise error
                for event in decoder.close():
                    self._events += 1
                    if type(event) is Completion:
                        pieces.append(event.completion)
                        self._last = event
                        yield event
                    elif type(event) is ErrorEvent:
                        raise self._stream_error(event)
            except (httpx.TransportError, ContentDecodingError) as exc:
                raise IncompleteStreamError(
                    f"the connection failed after {self._events} events "
                    f"({type(exc).__name__}: {exc}); current_completion holds what arrived",
                    events_received=self._events,
                    unparsed=decoder.unparsed,
                ) from exc
            if not self.done:
                raise IncompleteStreamError(
                    f"the response ended before the final completion event (the one with a "
                    f"stop_reason), after {self._events} events; current_completion holds "
                    f"what arrived",
                    events_received=self._events,
                    unparsed=decoder.unparsed,
                )
        except StreamError as exc:
            reproducible(exc, self.response)
            raise
        finally:
            await release(self.response, chunks)

    def _stream_error(self, event: ErrorEvent) -> StreamError:
        request_id = event.request_id if isinstance(event.request_id, str) else None
        return stream_error(
            event.error.type,
            event.error.message,
            request_id=request_id or self.request_id,
            events_received=self._events,
        )


class CompletionStreamManager(StreamManager[CompletionStream]):
    """``async with client.completions.stream(...) as stream``: a :class:`CompletionStream`."""

    def __init__(
        self, send: Callable[[], Awaitable[httpx.Response]], *, max_event_size: int
    ) -> None:
        async def open_stream() -> CompletionStream:
            return CompletionStream(await send(), max_event_size=max_event_size)

        super().__init__(open_stream, usage="client.completions.stream(...)")
