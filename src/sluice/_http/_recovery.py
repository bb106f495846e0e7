"""Stream recovery: a text stream that dies mid-message continues from where it stopped.

``client.messages.stream(..., recover=N)`` opts in. When the stream fails in the middle (an
in-stream ``overloaded_error`` or ``api_error``, a dropped connection, a stream that ended
early or went silent), the request is sent again with everything received so far as an
assistant prefill, and the new response's events continue the same stream for the
consumer: its ``message_start`` is not repeated, its first text block continues the block
that was cut (its index mapped onto it), later blocks follow with their indices shifted,
and the usage of every attempt is summed. Up to ``N`` times per stream.

Usage: every numeric counter of every attempt is summed (input and output tokens, cache
writes, by TTL too, cache reads, server tool requests, thinking tokens), so the final
message's ``usage`` is what the client's meter (``client.usage``) counted for the
stream. An attempt that failed before its ``message_delta`` reported only the output
tokens of its ``message_start``, though it was billed for the text it streamed: its
output is then estimated from that text (:func:`estimate_output_tokens`, a deliberate
over-estimate), counted in the meter and the final usage, and taken off the
``max_tokens`` of the re-sent request, so the attempts together stay within the caller's
``max_tokens``; when the estimate leaves nothing of it, the stream is not recovered.

The API continues an assistant prefill of text only, so recovery is refused, and the
original error raised with a note saying why, when what arrived holds a thinking block
(its signature cannot be sent back unfinished), a tool call, or a server tool's block.
A prefill may not end with whitespace: trailing whitespace is left out of it, and the
continuation's first text is matched against it so nothing is shown twice.

What the consumer sees stays a well-formed Messages stream (one ``message_start``, blocks
started, delta'd and stopped in order, one ``message_delta`` and ``message_stop`` at the
end), so every operator and the final message work unchanged.
"""

from __future__ import annotations

import math
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable, Mapping
from typing import Any, Final

import msgspec

from .._core._accumulate import InvalidToolInput, MessageAccumulator
from .._core._events import (
    ContentBlockDelta,
    ContentBlockStart,
    ContentBlockStop,
    Event,
    MessageDelta,
    MessageStart,
    TextDelta,
)
from .._core._exceptions import (
    APIStreamError,
    IncompleteStreamError,
    SluiceError,
    StreamError,
    StreamIdleTimeoutError,
)
from .._core._message import Message, TextBlock, Usage
from .._core._pricing import add_usage
from ..ops._base import Operator, Pipeline, aclose_upstream, pipe
from ._observe import logger
from ._response import attach_info
from ._stream import MessageStream, StreamManager, _TextStream

__all__ = ["RecoveringStream", "RecoveringStreamManager"]

#: In-stream error types worth continuing after: the API being busy or failing.
_TRANSIENT_TYPES: Final = frozenset({"overloaded_error", "api_error", "rate_limit_error"})

#: UTF-8 bytes per output token in :func:`estimate_output_tokens`: fewer than any common
#: text takes, so the estimate errs high.
BYTES_PER_OUTPUT_TOKEN: Final = 3

OpenStream = Callable[[dict[str, Any]], Awaitable[MessageStream]]


def estimate_output_tokens(text: str) -> int:
    """A conservative (high) estimate of the output tokens it took to generate ``text``:
    one token per :data:`BYTES_PER_OUTPUT_TOKEN` bytes of UTF-8, rounded up.

    For the output of an attempt that failed before reporting it. English prose and code
    average about 3.5 to 4 characters per token, so this over-counts them by some 20 to
    30%; a CJK character (3 bytes) counts as the one token it usually is. Erring high
    keeps the attempts of a recovered stream within the caller's ``max_tokens``, at the
    price of counting a little more usage than was billed for the failed attempts.
    """
    return math.ceil(len(text.encode()) / BYTES_PER_OUTPUT_TOKEN)


def _recoverable(exc: BaseException) -> bool:
    if isinstance(exc, APIStreamError):
        return exc.error_type in _TRANSIENT_TYPES
    return isinstance(exc, IncompleteStreamError | StreamIdleTimeoutError)


class _Continuation:
    """How a continuation's events map onto the consumer's stream."""

    __slots__ = ("billed", "merge_into", "offset", "skip", "usage")

    def __init__(self, *, merge_into: int | None, offset: int, skip: str, billed: Usage) -> None:
        self.merge_into = merge_into  # the consumer's open text block its block 0 continues
        self.offset = offset  # added to every other block index of the continuation
        self.skip = skip  # whitespace left out of the prefill, expected again at its start
        self.billed = billed  # the usage of the attempts that failed, added to this one's
        self.usage: Usage | None = None  # every attempt's, once this one reported its own


class RecoveringStream:
    """A Messages stream that continues after a failure mid-message (see the module docs).

    Offers what :class:`~sluice.MessageStream` offers: ``async for event in stream``,
    :meth:`final_message`, :meth:`final_text`, :attr:`text_stream`,
    :attr:`current_message_snapshot`, :meth:`pipe`, :meth:`aclose`.

    Attributes:
        recoveries: why each recovery happened (the error's class and message), in order.
        attempts: how many requests this stream made.
    """

    def __init__(
        self,
        first: MessageStream,
        open_stream: OpenStream,
        body: Mapping[str, Any],
        recover: int,
        *,
        invalid_tool_input: InvalidToolInput = "raise",
    ) -> None:
        self._stream = first
        self._open = open_stream
        self._body = dict(body)
        self._recover = recover
        self._accumulator = MessageAccumulator(invalid_tool_input=invalid_tool_input)
        self._iterator: AsyncGenerator[Event, None] = self._events()
        self._closed = False
        self._stopped: set[int] = set()  # the consumer's blocks that got their stop
        # The usage of the attempts that failed, summed (their output estimated where
        # they failed before reporting it).
        self._billed = Usage()
        self.recoveries: list[str] = []
        self.attempts = 1

    def __repr__(self) -> str:
        return (
            f"<RecoveringStream request_id={self.request_id!r} attempts={self.attempts} "
            f"{self._accumulator.events} events>"
        )

    @property
    def request_id(self) -> str | None:
        """The ``request-id`` of the request being read (the latest attempt's)."""
        return self._stream.request_id

    @property
    def response(self) -> Any:
        """The ``httpx.Response`` being read (the latest attempt's)."""
        return self._stream.response

    @property
    def current_message_snapshot(self) -> Message | None:
        """The message as of the events handed out so far (every attempt together)."""
        return self._accumulator.message

    @property
    def events_received(self) -> int:
        """How many events were handed out."""
        return self._accumulator.events

    @property
    def text_stream(self) -> AsyncIterator[str]:
        """The text deltas only, as they arrive, across recoveries."""
        return _TextStream(self._iterator)

    def __aiter__(self) -> AsyncGenerator[Event, None]:
        return self._iterator

    async def __anext__(self) -> Event:
        return await self._iterator.__anext__()

    def pipe(self, *stages: Operator) -> Pipeline:
        """Run the events through operators, left to right (see ``sluice.ops``)."""
        return pipe(self, *stages)

    async def until_done(self) -> None:
        """Consume the rest of the stream."""
        async for _ in self._iterator:
            pass

    async def final_message(self) -> Message:
        """The complete message, every attempt's text and usage together.

        Raises:
            StreamError: the stream failed and could not (or may no more) be recovered;
                ``partial_message`` holds everything handed out.
        """
        await self.until_done()
        message = self._accumulator.finish()
        attach_info(message, self._stream.response)
        return message

    async def final_text(self) -> str:
        """The text of all text blocks of the final message, joined."""
        message = await self.final_message()
        return "".join(block.text for block in message.content if isinstance(block, TextBlock))

    async def aclose(self) -> None:
        """Stop reading and release the connection. Safe to call more than once."""
        if self._closed:
            return
        self._closed = True
        try:
            await aclose_upstream(self._iterator)
        finally:
            await self._stream.aclose()

    # ------------------------------------------------------------------------ internals

    async def _events(self) -> AsyncGenerator[Event, None]:
        feed = self._accumulator.feed
        stopped = self._stopped
        continuation: _Continuation | None = None
        while True:
            stream = self._stream
            delta_seen = False  # whether this attempt reported its usage (message_delta)
            try:
                async for event in stream:
                    if type(event) is MessageDelta:
                        delta_seen = True
                    out = event if continuation is None else self._translate(event, continuation)
                    if out is None:
                        continue
                    feed(out)
                    if type(out) is ContentBlockStop:
                        stopped.add(out.index)
                    elif type(out) is MessageDelta and continuation is not None:
                        self._settle_usage(continuation)
                    yield out
                return
            except StreamError as exc:
                failure = exc
            if not _recoverable(failure) or len(self.recoveries) >= self._recover:
                self._give_partial(failure, stream)
                raise failure
            unbilled: MessageStream | None = stream
            why = self._refusal()
            if why is None:
                await stream.aclose()
                self._bill(stream, estimate=not delta_seen)
                unbilled = None
                why = self._budget_left()
            if why is not None:
                failure.add_note(f"sluice did not recover this stream: {why}")
                logger.info("stream recovery refused: %s", why)
                self._give_partial(failure, unbilled)
                raise failure
            self.recoveries.append(f"{type(failure).__name__}: {failure}")
            try:
                continuation = await self._continue(self.recoveries[-1])
            except SluiceError as again:
                failure.add_note(f"sluice tried to recover this stream, and failed: {again}")
                self._give_partial(failure, None)
                raise failure from again

    def _bill(self, stream: MessageStream, *, estimate: bool) -> None:
        """Add the usage of ``stream``, an attempt that failed, to what is billed; with
        ``estimate`` (it reported no ``message_delta``), its output is estimated from its
        text, and counted in the client's meter too."""
        reported = stream.current_message_snapshot
        if reported is None:
            return  # it failed before message_start: nothing reported, nothing generated
        if estimate:
            text = "".join(b.text for b in reported.content if isinstance(b, TextBlock))
            stream._count_unreported_output(estimate_output_tokens(text))
        self._billed = add_usage(self._billed, reported.usage)

    def _budget_left(self) -> str | None:
        """Why no ``max_tokens`` is left for a continuation, or ``None`` if some is."""
        max_tokens = self._body.get("max_tokens")
        used = self._billed.output_tokens
        if isinstance(max_tokens, int) and used >= max_tokens:
            return (
                f"the attempts so far generated about {used} output tokens (estimated from "
                f"their text where the stream failed before reporting them), which uses up "
                f"max_tokens={max_tokens}"
            )
        return None

    def _settle_usage(self, state: _Continuation) -> None:
        """After a continuation's ``message_delta``: the message's usage is every
        attempt's, summed (``cache_creation``, which ``message_delta`` does not carry,
        included)."""
        message = self._accumulator.message
        if message is not None and state.usage is not None:
            message.usage = state.usage

    def _give_partial(self, exc: StreamError, unbilled: MessageStream | None) -> None:
        """Give the error the consumer's message (every attempt so far), not only the last
        attempt's, with every attempt's usage: what is billed, and ``unbilled``'s (the
        attempt that failed, when its usage is not billed yet)."""
        if self.recoveries:
            exc.partial_message = self._accumulator.partial()
            exc.events_received = self._accumulator.events
        partial = exc.partial_message
        if partial is not None and (self.recoveries or unbilled is None):
            last = None if unbilled is None else unbilled.current_message_snapshot
            partial.usage = self._billed if last is None else add_usage(self._billed, last.usage)

    def _refusal(self) -> str | None:
        """Why what arrived cannot be continued by a prefill, or ``None`` if it can."""
        message = self._accumulator.message
        if message is None:
            return None  # nothing arrived: start again
        for block in message.content:
            if type(block) is not TextBlock:
                return (
                    f"the message has a {block.type} block, and the API continues an "
                    "assistant prefill of text only"
                )
        return None

    async def _continue(self, reason: str) -> _Continuation | None:
        message = self._accumulator.message
        body = dict(self._body)
        logger.info("stream recovery %d: %s", len(self.recoveries), reason)
        if message is None:
            self._stream = await self._open(body)
            self.attempts += 1
            return None
        blocks = message.content
        text = "".join(block.text for block in blocks if isinstance(block, TextBlock))
        prefill = text.rstrip()
        skip = text[len(prefill) :]
        messages = list(body.get("messages") or ())
        last = messages[-1] if messages else None
        if isinstance(last, Mapping) and last.get("role") == "assistant":
            # The caller's own prefill: what arrived continues it.
            own = last.get("content")
            own_text = own if isinstance(own, str) else _text_of(own)
            messages[-1] = {"role": "assistant", "content": own_text + prefill}
        elif prefill:
            messages.append({"role": "assistant", "content": prefill})
        body["messages"] = messages
        max_tokens = body.get("max_tokens")
        if isinstance(max_tokens, int):
            # What the attempts so far generated, estimated where they did not say.
            body["max_tokens"] = max(max_tokens - self._billed.output_tokens, 1)
        self._stream = await self._open(body)
        self.attempts += 1
        open_text = bool(blocks) and (len(blocks) - 1) not in self._stopped
        return _Continuation(
            merge_into=len(blocks) - 1 if open_text else None,
            offset=len(blocks) - 1 if open_text else len(blocks),
            skip=skip if open_text else "",
            billed=self._billed,
        )

    def _translate(self, event: Event, state: _Continuation) -> Event | None:
        """A continuation's event as the consumer's stream goes on (``None``: not shown)."""
        if isinstance(event, MessageStart):
            return None
        if isinstance(event, ContentBlockStart):
            if event.index == 0 and state.merge_into is not None:
                return None  # the block it continues is open already
            return ContentBlockStart(
                index=state.offset + event.index, content_block=event.content_block
            )
        if isinstance(event, ContentBlockDelta):
            delta = event.delta
            merging = event.index == 0 and state.merge_into is not None
            if merging and state.skip and isinstance(delta, TextDelta):
                # Whitespace left out of the prefill, written again by the model: shown once.
                common = _common_prefix(state.skip, delta.text)
                state.skip = state.skip[common:] if common == len(delta.text) else ""
                text = delta.text[common:]
                if not text:
                    return None
                delta = TextDelta(text=text)
            elif event.index == 0:
                state.skip = ""
            if state.offset == 0 and delta is event.delta:
                return event  # nothing to renumber or trim: no new event per delta
            return ContentBlockDelta(index=state.offset + event.index, delta=delta)
        if isinstance(event, ContentBlockStop):
            if state.offset == 0:
                return event
            return ContentBlockStop(index=state.offset + event.index)
        if isinstance(event, MessageDelta):
            # This attempt's usage so far, message_start's and this message_delta's
            # (cumulative; the attempt's stream applied it before handing it out), plus
            # the attempts' before it.
            own = self._stream.current_message_snapshot
            usage = state.billed if own is None else add_usage(state.billed, own.usage)
            state.usage = usage
            summed = msgspec.structs.replace(
                event.usage,
                output_tokens=usage.output_tokens,
                input_tokens=usage.input_tokens,
                cache_creation_input_tokens=usage.cache_creation_input_tokens,
                cache_read_input_tokens=usage.cache_read_input_tokens,
                server_tool_use=usage.server_tool_use,
                output_tokens_details=usage.output_tokens_details,
            )
            return MessageDelta(delta=event.delta, usage=summed)
        return event


def _text_of(content: Any) -> str:
    if not isinstance(content, list):
        return ""
    parts = []
    for block in content:
        if isinstance(block, Mapping) and block.get("type") == "text":
            parts.append(str(block.get("text", "")))
        elif isinstance(block, TextBlock):
            parts.append(block.text)
    return "".join(parts)


def _common_prefix(a: str, b: str) -> int:
    size = min(len(a), len(b))
    for position in range(size):
        if a[position] != b[position]:
            return position
    return size


class RecoveringStreamManager(StreamManager[RecoveringStream]):
    """``async with client.messages.stream(..., recover=N) as stream``: a
    :class:`RecoveringStream`.

    Args:
        open_stream: sends the request for a body and returns its stream.
        body: the request body (``stream`` set by ``open_stream``).
        recover: the most recoveries for this stream.
    """

    def __init__(
        self,
        open_stream: OpenStream,
        body: Mapping[str, Any],
        recover: int,
        *,
        invalid_tool_input: InvalidToolInput = "raise",
    ) -> None:
        async def open_recovering() -> RecoveringStream:
            first = await open_stream(dict(body))
            return RecoveringStream(
                first, open_stream, body, recover, invalid_tool_input=invalid_tool_input
            )

        super().__init__(open_recovering, usage="client.messages.stream(...)")
