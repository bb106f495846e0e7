"""Shared helpers for the test suite (fixtures on disk, chunking, event sources)."""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import anyio
import anyio.lowlevel
import httpx

from sluice import (
    ContentBlockDelta,
    ContentBlockStart,
    ContentBlockStop,
    Event,
    EventStreamDecoder,
    Message,
    MessageAccumulator,
    MessageDelta,
    MessageStart,
    MessageStop,
    MessageStream,
    TextBlock,
    TextDelta,
    to_builtins,
)
from sluice._core._sse import DEFAULT_MAX_EVENT_SIZE
from sluice.ops._coalesce import BackgroundReader
from sluice.types import MessageDeltaBody

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"

#: Transcripts that end with message_stop.
COMPLETE = sorted(
    p.name
    for p in FIXTURES.glob("*.sse")
    if p.name not in {"overloaded_error.sse", "truncated.sse"}
)
ALL = sorted(p.name for p in FIXTURES.glob("*.sse"))


def load(name: str) -> bytes:
    """The raw bytes of a transcript in fixtures/."""
    return (FIXTURES / name).read_bytes()


def chunked(data: bytes, size: int) -> Iterator[bytes]:
    """``data`` in pieces of ``size`` bytes."""
    for start in range(0, len(data), size):
        yield data[start : start + size]


_FIELD = {"text_delta": "text", "thinking_delta": "thinking", "input_json_delta": "partial_json"}


def normalize(events: list[Event]) -> list[Any]:
    """The events as builtins, with every run of adjacent mergeable deltas joined into one."""
    out: list[Any] = []
    for event in events:
        item = to_builtins(event)
        if item["type"] == "content_block_delta" and item["delta"]["type"] in _FIELD:
            field = _FIELD[item["delta"]["type"]]
            last = out[-1] if out else None
            if (
                last is not None
                and last["type"] == "content_block_delta"
                and last["index"] == item["index"]
                and last["delta"]["type"] == item["delta"]["type"]
            ):
                last["delta"][field] += item["delta"][field]
                continue
        out.append(item)
    return out


def final(events: list[Event]) -> Any:
    """The message (as builtins) a MessageAccumulator builds from ``events``."""
    acc = MessageAccumulator()
    for event in events:
        acc.feed(event)
    return to_builtins(acc.partial())


# -- event sources for the operator tests ---------------------------------------------------


def events_of(name: str) -> list[Event]:
    """The decoded events of a transcript in fixtures/."""
    decoder = EventStreamDecoder()
    return [*decoder.feed(load(name)), *decoder.close()]


def text_stream(*blocks: list[str]) -> list[Event]:
    """A whole stream with one text block per list of pieces."""
    events: list[Event] = [MessageStart(message=Message(id="msg_1", model="claude-test"))]
    for index, pieces in enumerate(blocks):
        events.append(ContentBlockStart(index=index, content_block=TextBlock()))
        events += [ContentBlockDelta(index=index, delta=TextDelta(text=p)) for p in pieces]
        events.append(ContentBlockStop(index=index))
    events += [MessageDelta(delta=MessageDeltaBody(stop_reason="end_turn")), MessageStop()]
    return events


class Boom(Exception):
    """An upstream failure raised by a test source."""


class Source:
    """An async generator of events that records what was pulled and when it finished.

    Each event is preceded by ``hook`` (called with its position) and a checkpoint, as a
    network read would be (or a sleep of ``delay`` seconds); ``arrived`` records when each
    event was handed out. ``then`` is what happens after the events, once
    ``hook(len(events))`` returned: ``"end"``, ``"hang"`` (wait forever, with ``hanging``
    set) or an exception to raise.
    """

    def __init__(
        self,
        events: list[Event],
        *,
        then: str | BaseException = "end",
        hook: Callable[[int], Awaitable[None]] | None = None,
        delay: float = 0.0,
    ) -> None:
        self.events = events
        self.then = then
        self.hook = hook
        self.delay = delay
        self.pulled = 0
        self.arrived: list[float] = []
        self.hanging = False
        self.closed = False
        self.gen = self._run()

    def __aiter__(self) -> AsyncIterator[Event]:
        return self.gen

    async def aclose(self) -> None:
        await self.gen.aclose()

    async def _run(self) -> AsyncGenerator[Event, None]:
        try:
            for position, event in enumerate(self.events):
                if self.hook is not None:
                    await self.hook(position)
                if self.delay:
                    await anyio.sleep(self.delay)
                else:
                    await anyio.lowlevel.checkpoint()
                self.pulled += 1
                self.arrived.append(anyio.current_time())
                yield event
            if self.hook is not None:
                await self.hook(len(self.events))
            if self.then == "hang":
                self.hanging = True
                await anyio.sleep_forever()
            elif isinstance(self.then, BaseException):
                raise self.then
        finally:
            self.closed = True


async def settle(stream: BackgroundReader, source: Source | None = None) -> None:
    """Let the reader run until it waits for room in the buffer, for a hanging source, or
    stopped."""
    with anyio.fail_after(10):
        while not (stream._reader_idle or (source is not None and source.hanging)):
            await anyio.lowlevel.checkpoint()


async def drain_slowly(stream: Any) -> list[Event]:
    """Take events one by one, letting the reader run as far as it can before each take."""
    out: list[Event] = []
    while True:
        await settle(stream)
        try:
            out.append(await anext(stream))
        except StopAsyncIteration:
            return out


# -- a real MessageStream over an in-memory body ----------------------------------------------


class Body(httpx.AsyncByteStream):
    """A response body sent in the given chunks, with a checkpoint before each.

    ``gate``, if given, holds back chunk ``gate_at`` (``len(chunks)``: the end of the body)
    until it is set. ``hang`` waits after the last chunk until the body is closed, like a
    stalled connection. ``closed`` records that the response released it.
    """

    def __init__(
        self,
        chunks: list[bytes],
        *,
        gate: anyio.Event | None = None,
        gate_at: int = 0,
        hang: bool = False,
    ) -> None:
        self.chunks = chunks
        self.gate = gate
        self.gate_at = gate_at
        self.hang = hang
        self.sent = 0
        self.closed = False
        self._released = anyio.Event()

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for position, chunk in enumerate(self.chunks):
            if self.gate is not None and position == self.gate_at:
                await self.gate.wait()
            await anyio.lowlevel.checkpoint()
            self.sent += 1
            yield chunk
        if self.gate is not None and self.gate_at == len(self.chunks):
            await self.gate.wait()
        if self.hang:
            await self._released.wait()

    async def aclose(self) -> None:
        self.closed = True
        self._released.set()


def pieces(data: bytes, size: int | None) -> list[bytes]:
    """``data`` in chunks of ``size`` bytes, or in one chunk if ``size`` is None."""
    return [data] if size is None else list(chunked(data, size))


def message_stream(
    chunks: list[bytes], *, max_event_size: int = DEFAULT_MAX_EVENT_SIZE, **options: Any
) -> tuple[MessageStream, Body]:
    """A real MessageStream over an in-memory HTTP response sending ``chunks``."""
    body = Body(chunks, **options)
    response = httpx.Response(200, headers={"request-id": "req_1"}, stream=body)
    return MessageStream(response, max_event_size=max_event_size), body
