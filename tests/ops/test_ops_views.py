"""View operators: snapshots, text, citations, filters, take_until; closing and errors."""

from __future__ import annotations

import copy
import gc
import inspect
from collections.abc import AsyncGenerator, AsyncIterable, AsyncIterator, Callable
from contextlib import aclosing
from functools import partial
from typing import Any

import anyio
import anyio.lowlevel
import httpx
import msgspec
import pytest

import sluice
from _util import ALL, COMPLETE, Boom, chunked, events_of, load
from sluice import (
    CitationsDelta,
    ContentBlockDelta,
    ContentBlockStart,
    ContentBlockStop,
    Event,
    InputJSONDelta,
    Message,
    MessageAccumulator,
    MessageDelta,
    MessageStart,
    MessageStop,
    MessageStream,
    Ping,
    TextBlock,
    TextDelta,
    ThinkingBlock,
    ThinkingDelta,
    ToolUseBlock,
    UnknownDelta,
    UnknownEvent,
    to_builtins,
)
from sluice.ops import ToolCall, _views
from sluice.ops._base import aclose_upstream, pipe
from sluice.ops._views import (
    BlockCitations,
    Snapshot,
    Snapshots,
    TextBlockDone,
    accumulate,
    citations,
    filter_events,
    joined_text,
    map_events,
    of_type,
    take_until,
    text_blocks,
    text_deltas,
    thinking_deltas,
    tool_use_stopped,
)

pytestmark = pytest.mark.anyio


# -------------------------------------------------------------------------------- helpers


def final(name: str) -> Message:
    """The oracle: the accumulated message of a transcript (partial if it never finished)."""
    accumulator = MessageAccumulator()
    try:
        for event in events_of(name):
            accumulator.feed(event)
    except sluice.StreamError:
        pass
    message = accumulator.partial()
    assert message is not None
    return message


def texts(message: Message) -> list[TextBlock]:
    return [block for block in message.content if isinstance(block, TextBlock)]


class Upstream:
    """An async iterator over events that records whether it was closed or ran out.

    ``like_stream`` applies each event to an accumulator first and raises its errors, as a
    ``MessageStream`` does (an in-stream ``error`` event becomes ``OverloadedError``...).
    ``stall`` waits forever after the last event instead of ending, like a stalled body.
    """

    def __init__(
        self, events: list[Event], *, like_stream: bool = False, stall: bool = False
    ) -> None:
        self.closed = False
        self.exhausted = False
        self.pulled = 0
        self._events = events
        self._like_stream = like_stream
        self._stall = stall
        self._gen = self._run()

    def __aiter__(self) -> Upstream:
        return self

    async def __anext__(self) -> Event:
        return await self._gen.__anext__()

    async def aclose(self) -> None:
        # Like MessageStream.aclose: releases the resource even if iteration never began.
        await self._gen.aclose()
        self.closed = True

    async def _run(self) -> AsyncGenerator[Event, None]:
        accumulator = MessageAccumulator()
        try:
            for event in self._events:
                await anyio.lowlevel.checkpoint()
                if self._like_stream:
                    accumulator.feed(event)
                self.pulled += 1
                yield event
            if self._stall:
                await anyio.sleep_forever()
            self.exhausted = True
        finally:
            self.closed = True


def upstream(name: str, **options: bool) -> Upstream:
    return Upstream(events_of(name), **options)


async def collect(items: Any) -> list[Any]:
    """Everything an operator yields, closing it afterwards."""
    async with aclosing(items) as it:
        return [item async for item in it]


class _Body(httpx.AsyncByteStream):
    """A response body in small chunks that records being closed."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.closed = False

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for chunk in chunked(self.data, 97):
            await anyio.lowlevel.checkpoint()
            yield chunk

    async def aclose(self) -> None:
        self.closed = True


def message_stream(name: str) -> tuple[MessageStream, _Body]:
    """A real MessageStream reading a transcript from an in-memory HTTP response."""
    body = _Body(load(name))
    response = httpx.Response(200, headers={"request-id": "req_1"}, stream=body)
    return MessageStream(response), body


# ----------------------------------------------------------------------------- accumulate


class TestAccumulate:
    async def test_one_snapshot_per_event_sharing_one_accumulator(self) -> None:
        """Each event is yielded once, in order, with the same accumulator every time."""
        events = events_of("tool_use.sse")
        snapshots: list[Snapshot] = await collect(accumulate(Upstream(events)))
        assert [snap.event for snap in snapshots] == events
        assert len({id(snap.accumulator) for snap in snapshots}) == 1
        assert snapshots[-1].accumulator.events == len(events)

    @pytest.mark.parametrize("name", COMPLETE)
    async def test_last_snapshot_is_the_final_message(self, name: str) -> None:
        """The last snapshot's message equals the message accumulated directly."""
        snapshots: list[Snapshot] = await collect(accumulate(upstream(name)))
        last = snapshots[-1]
        assert to_builtins(last.accumulator.finish()) == to_builtins(final(name))
        assert last.message is last.accumulator.message

    async def test_message_is_live_and_current_at_each_event(self) -> None:
        """The message is one object updated in place, holding the text up to each event."""
        seen = ""
        first: Message | None = None
        async with aclosing(accumulate(upstream("text.sse"))) as snapshots:
            async for snap in snapshots:
                event = snap.event
                if isinstance(event, ContentBlockDelta) and isinstance(event.delta, TextDelta):
                    seen += event.delta.text
                message = snap.message
                assert message is not None
                first = first or message
                assert message is first
                if message.content:
                    block = message.content[0]
                    assert isinstance(block, TextBlock) and block.text == seen
        assert seen == texts(final("text.sse"))[0].text

    async def test_message_is_none_before_message_start(self) -> None:
        """A ping ahead of message_start yields a snapshot without a message."""
        events: list[Event] = [Ping(), *events_of("text.sse")]
        async with aclosing(accumulate(Upstream(events))) as snapshots:
            snap = await snapshots.__anext__()
            assert snap.event == Ping() and snap.message is None

    async def test_in_stream_error_raises_typed_error_with_partial_message(self) -> None:
        """An error event raises OverloadedError carrying the text received before it."""
        source = upstream("overloaded_error.sse")
        with pytest.raises(sluice.OverloadedError) as info:
            await collect(accumulate(source))
        assert isinstance(info.value, sluice.APIStreamError)
        assert info.value.request_id == "req_011CZmU1EHj3rDIHIIiRbj1H"
        partial_message = info.value.partial_message
        assert partial_message is not None
        assert texts(partial_message)[0].text == texts(final("overloaded_error.sse"))[0].text
        assert source.closed

    async def test_works_on_a_message_stream(self) -> None:
        """Over a MessageStream, its own snapshot and this one agree at the end."""
        stream, body = message_stream("thinking.sse")
        snapshots: list[Snapshot] = await collect(accumulate(stream))
        assert to_builtins(snapshots[-1].message) == to_builtins(stream.current_message_snapshot)
        assert body.closed


# ---------------------------------------------------------------------------------- text


class TestTextDeltas:
    @pytest.mark.parametrize("name", COMPLETE)
    async def test_deltas_join_to_the_text_of_all_text_blocks(self, name: str) -> None:
        """The text deltas, joined, are the message's text blocks, joined."""
        pieces = await collect(text_deltas(upstream(name)))
        assert "".join(pieces) == "".join(block.text for block in texts(final(name)))

    async def test_index_selects_one_block(self) -> None:
        """index= keeps only the deltas of that content block."""
        message = final("citations.sse")
        for index in (0, 1, 10):
            pieces = await collect(text_deltas(upstream("citations.sse"), index=index))
            block = message.content[index]
            assert isinstance(block, TextBlock) and "".join(pieces) == block.text

    async def test_thinking_is_not_text(self) -> None:
        """Thinking deltas are not yielded; the thinking block's index yields nothing."""
        assert await collect(text_deltas(upstream("thinking.sse"), index=0)) == []
        pieces = await collect(text_deltas(upstream("thinking.sse")))
        assert "".join(pieces) == texts(final("thinking.sse"))[0].text


class TestThinkingDeltas:
    async def test_deltas_join_to_the_thinking_block(self) -> None:
        """The thinking deltas, joined, are the thinking block's text."""
        block = final("thinking.sse").content[0]
        assert isinstance(block, ThinkingBlock)
        pieces = await collect(thinking_deltas(upstream("thinking.sse")))
        assert len(pieces) == 8
        assert "".join(pieces) == block.thinking

    async def test_index_selects_one_block(self) -> None:
        """index= keeps only that block's deltas: the text block has none."""
        assert await collect(thinking_deltas(upstream("thinking.sse"), index=1)) == []
        assert len(await collect(thinking_deltas(upstream("thinking.sse"), index=0))) == 8

    async def test_no_thinking_no_deltas(self) -> None:
        """A stream without thinking yields nothing."""
        assert await collect(thinking_deltas(upstream("text.sse"))) == []


class TestTextBlocks:
    @pytest.mark.parametrize("name", COMPLETE)
    async def test_every_text_block_with_its_citations(self, name: str) -> None:
        """Each text block of the message is yielded once, in order, whole."""
        message = final(name)
        expected = [
            TextBlockDone(index, block.text, list(block.citations or []))
            for index, block in enumerate(message.content)
            if isinstance(block, TextBlock)
        ]
        assert await collect(text_blocks(upstream(name))) == expected

    async def test_each_block_is_yielded_at_its_stop(self) -> None:
        """A block is yielded right after its content_block_stop, before later events."""
        source = upstream("thinking.sse")
        async with aclosing(text_blocks(source)) as blocks:
            done = await blocks.__anext__()
            pulled = source.pulled
        events = events_of("thinking.sse")
        assert events[pulled - 1] == ContentBlockStop(index=done.index) and done.index == 1

    async def test_unfinished_block_is_not_yielded(self) -> None:
        """A text block cut off before its stop is left out."""
        assert await collect(text_blocks(upstream("truncated.sse"))) == []

    async def test_start_text_and_citations_are_kept(self) -> None:
        """Text and citations already in content_block_start come first."""
        cited = sluice.types.CitationCharLocation(
            cited_text="c", document_index=0, start_char_index=0, end_char_index=1
        )
        later = sluice.types.CitationPageLocation(
            cited_text="p", document_index=1, start_page_number=1, end_page_number=2
        )
        events: list[Event] = [
            MessageStart(message=Message(id="msg_1")),
            ContentBlockStart(index=0, content_block=TextBlock(text="a", citations=[cited])),
            ContentBlockDelta(index=0, delta=CitationsDelta(citation=later)),
            ContentBlockDelta(index=0, delta=TextDelta(text="b")),
            ContentBlockStop(index=0),
            MessageStop(),
        ]
        blocks = await collect(text_blocks(Upstream(events)))
        assert blocks == [TextBlockDone(0, "ab", [cited, later])]

    async def test_deltas_for_other_blocks_are_ignored(self) -> None:
        """A text delta aimed at a tool_use block does not make it a text block."""
        events: list[Event] = [
            MessageStart(message=Message(id="msg_1")),
            ContentBlockStart(index=0, content_block=ToolUseBlock(id="t", name="n")),
            ContentBlockDelta(index=0, delta=TextDelta(text="x")),
            ContentBlockStop(index=0),
        ]
        assert await collect(text_blocks(Upstream(events))) == []


class TestJoinedText:
    @pytest.mark.parametrize("name", COMPLETE)
    async def test_equals_final_text(self, name: str) -> None:
        """The joined text equals the text blocks of the final message, joined."""
        source = upstream(name)
        assert await joined_text(source) == "".join(block.text for block in texts(final(name)))
        assert source.exhausted and source.closed

    async def test_matches_message_stream_final_text(self) -> None:
        """Over a MessageStream it returns what final_text() returns, and closes the body."""
        stream, body = message_stream("web_search.sse")
        other, other_body = message_stream("web_search.sse")
        try:
            assert await joined_text(stream) == await other.final_text()
        finally:
            await other.aclose()
        assert body.closed and other_body.closed

    async def test_error_propagates_and_closes(self) -> None:
        """An upstream error propagates out of joined_text after the upstream is closed."""
        source = upstream("overloaded_error.sse", like_stream=True)
        with pytest.raises(sluice.OverloadedError):
            await joined_text(source)
        assert source.closed

    async def test_cancellation_closes_upstream(self) -> None:
        """Cancelled while the upstream stalls, joined_text still closes it."""
        source = upstream("text.sse", stall=True)
        with anyio.move_on_after(0.01) as scope:
            await joined_text(source)
        assert scope.cancelled_caught and source.closed and not source.exhausted


class TestCitations:
    async def test_cited_blocks_of_citations_fixture(self) -> None:
        """The 5 cited blocks come with their text and 6 citations of 5 location kinds."""
        message = final("citations.sse")
        cited: list[BlockCitations] = await collect(citations(upstream("citations.sse")))
        assert len(cited) == 5
        assert sum(len(block.citations) for block in cited) == 6
        assert sorted(len(block.citations) for block in cited) == [1, 1, 1, 1, 2]
        assert {c.type for block in cited for c in block.citations} == {
            "char_location",
            "page_location",
            "content_block_location",
            "search_result_location",
            "web_search_result_location",
        }
        for block in cited:
            original = message.content[block.index]
            assert isinstance(original, TextBlock)
            assert block.text == original.text and block.citations == original.citations

    async def test_web_search_citations(self) -> None:
        """Web search answers cite web_search_result_location."""
        cited = await collect(citations(upstream("web_search.sse")))
        assert cited and all(
            c.type == "web_search_result_location" for block in cited for c in block.citations
        )

    async def test_no_citations_yields_nothing(self) -> None:
        """Uncited text yields nothing."""
        assert await collect(citations(upstream("text.sse"))) == []


# ------------------------------------------------------------------------------- filters


class TestOfType:
    async def test_event_classes(self) -> None:
        """Event classes keep exactly the events of those classes."""
        events = events_of("tool_use.sse")
        kept = await collect(of_type(Upstream(events), ContentBlockStart, MessageDelta))
        assert kept == [e for e in events if isinstance(e, ContentBlockStart | MessageDelta)]
        assert len(kept) == 3

    async def test_delta_classes(self) -> None:
        """A delta class keeps the content_block_delta events carrying that delta."""
        events = events_of("tool_use.sse")
        kept = await collect(of_type(Upstream(events), InputJSONDelta))
        assert len(kept) == 34
        assert all(isinstance(e, ContentBlockDelta) for e in kept)
        assert kept == [e for e in events if isinstance(getattr(e, "delta", None), InputJSONDelta)]

    async def test_unknown_types(self) -> None:
        """UnknownEvent and UnknownDelta select forward-compatible events."""
        events = events_of("unknown_types.sse")
        unknown = await collect(of_type(Upstream(events), UnknownEvent, UnknownDelta))
        assert [e.type for e in unknown] == [
            "content_block_progress",
            "content_block_delta",
            "content_block_progress",
            "content_block_delta",
        ]

    async def test_no_classes_is_a_type_error(self) -> None:
        """of_type() without classes raises TypeError and still closes the upstream."""
        source = upstream("text.sse")
        with pytest.raises(TypeError, match="one or more classes"):
            await collect(of_type(source))
        assert source.closed
        with pytest.raises(TypeError):
            await collect(of_type(upstream("text.sse"), "text_delta"))  # type: ignore[arg-type]


class TestFilterEvents:
    async def test_sync_predicate(self) -> None:
        """A plain function selects events."""
        events = events_of("text.sse")
        kept = await collect(filter_events(Upstream(events), lambda e: e.type == "ping"))
        assert kept == [e for e in events if isinstance(e, Ping)]

    async def test_async_predicate(self) -> None:
        """A coroutine function is awaited."""

        async def is_stop(event: Event) -> bool:
            await anyio.lowlevel.checkpoint()
            return isinstance(event, ContentBlockStop)

        kept = await collect(filter_events(upstream("citations.sse"), is_stop))
        assert [e.index for e in kept] == list(range(11))


class TestMapEvents:
    async def test_sync_function(self) -> None:
        """A plain function's results are yielded."""
        events = events_of("text.sse")
        types = await collect(map_events(Upstream(events), lambda e: e.type))
        assert types == [e.type for e in events]

    async def test_async_function(self) -> None:
        """A coroutine function's results are awaited and yielded."""

        async def name(event: Event) -> str:
            await anyio.lowlevel.checkpoint()
            return type(event).__name__

        names = await collect(map_events(upstream("text.sse"), name))
        assert names[0] == "MessageStart" and names[-1] == "MessageStop"


class TestTakeUntil:
    async def test_inclusive_stops_after_the_match_and_closes(self) -> None:
        """The matching event is yielded, then the upstream is closed, unread."""
        source = upstream("text.sse")
        taken = await collect(take_until(source, lambda e: isinstance(e, ContentBlockStop)))
        assert isinstance(taken[-1], ContentBlockStop)
        assert source.pulled == len(taken) < len(events_of("text.sse"))
        assert source.closed and not source.exhausted

    async def test_exclusive_leaves_the_match_out(self) -> None:
        """inclusive=False stops before the matching event."""
        events = events_of("text.sse")
        taken = await collect(
            take_until(Upstream(events), lambda e: isinstance(e, MessageDelta), inclusive=False)
        )
        assert taken == events[: len(taken)] and isinstance(events[len(taken)], MessageDelta)

    async def test_never_true_yields_everything(self) -> None:
        """A predicate that never matches passes the whole stream through."""
        source = upstream("text.sse")
        assert await collect(take_until(source, lambda e: False)) == events_of("text.sse")
        assert source.exhausted


class TestToolUseStopped:
    async def test_stops_when_the_tool_input_is_complete(self) -> None:
        """With take_until it ends at the tool_use block's stop, with the input parsed."""
        source = upstream("tool_use.sse")
        snapshots: list[Snapshot] = await collect(
            accumulate(take_until(source, tool_use_stopped()))
        )
        assert snapshots[-1].event == ContentBlockStop(index=1)
        assert source.closed and not source.exhausted
        message = snapshots[-1].message
        assert message is not None
        tool = message.content[1]
        expected = final("tool_use.sse").content[1]
        assert isinstance(tool, ToolUseBlock) and isinstance(expected, ToolUseBlock)
        assert tool.input == expected.input

    async def test_server_tools_do_not_count(self) -> None:
        """server_tool_use blocks (run by the API) never stop the stream."""
        predicate = tool_use_stopped()
        assert not any(predicate(event) for event in events_of("web_search.sse"))

    async def test_true_at_each_tool_use_stop_only(self) -> None:
        """It fires at the stop of tool_use blocks only, here block 2 after unknown ones."""
        predicate = tool_use_stopped()
        fired = [e for e in events_of("unknown_types.sse") if predicate(e)]
        assert fired == [ContentBlockStop(index=2)]

    async def test_each_call_has_fresh_state(self) -> None:
        """A new predicate knows nothing of the blocks another one saw."""
        events = events_of("tool_use.sse")
        first = tool_use_stopped()
        for event in events:
            first(event)
        assert not tool_use_stopped()(ContentBlockStop(index=1))
        assert first(ContentBlockStop(index=1))
        assert repr(first) == "tool_use_stopped()"


# ------------------------------------------------------------------ closing, for everyone

OPERATORS: list[tuple[str, Callable[[Any], AsyncGenerator[Any, None]], str]] = [
    ("accumulate", accumulate, "text.sse"),
    ("text_deltas", text_deltas, "text.sse"),
    ("thinking_deltas", thinking_deltas, "thinking.sse"),
    ("text_blocks", text_blocks, "citations.sse"),
    ("citations", citations, "citations.sse"),
    ("of_type", lambda source: of_type(source, TextDelta), "text.sse"),
    ("filter_events", partial(filter_events, predicate=bool), "text.sse"),
    ("map_events", partial(map_events, fn=to_builtins), "text.sse"),
    ("take_until", partial(take_until, predicate=lambda e: False), "text.sse"),
]
IDS = [name for name, _, _ in OPERATORS]


@pytest.mark.parametrize(("name", "operator", "fixture"), OPERATORS, ids=IDS)
class TestClosing:
    async def test_break_then_aclose_closes_upstream(
        self, name: str, operator: Callable[[Any], AsyncGenerator[Any, None]], fixture: str
    ) -> None:
        """Leaving the loop early and closing the operator closes the upstream."""
        source = upstream(fixture)
        async with aclosing(operator(source)) as items:
            async for _ in items:
                break
        assert source.closed and not source.exhausted

    async def test_exhaustion_closes_upstream(
        self, name: str, operator: Callable[[Any], AsyncGenerator[Any, None]], fixture: str
    ) -> None:
        """Running the operator to its end leaves the upstream finished and closed."""
        source = upstream(fixture)
        assert await collect(operator(source))
        assert source.exhausted and source.closed

    async def test_upstream_error_propagates_and_closes(
        self, name: str, operator: Callable[[Any], AsyncGenerator[Any, None]], fixture: str
    ) -> None:
        """The upstream's typed error reaches the consumer; the upstream is closed."""
        source = upstream("overloaded_error.sse", like_stream=True)
        with pytest.raises(sluice.OverloadedError):
            await collect(operator(source))
        assert source.closed

    async def test_cancellation_while_upstream_stalls(
        self, name: str, operator: Callable[[Any], AsyncGenerator[Any, None]], fixture: str
    ) -> None:
        """move_on_after around the consumption cancels a stalled upstream and closes it."""
        source = upstream(fixture, stall=True)
        async with aclosing(operator(source)) as items:
            with anyio.move_on_after(0.01) as scope:
                async for _ in items:
                    pass
        assert scope.cancelled_caught and source.closed and not source.exhausted

    async def test_cancellation_while_consumer_waits(
        self, name: str, operator: Callable[[Any], AsyncGenerator[Any, None]], fixture: str
    ) -> None:
        """Cancelled in the consumer's own code, closing the operator closes the upstream."""
        source = upstream(fixture)
        async with aclosing(operator(source)) as items:
            with anyio.move_on_after(0.01) as scope:
                async for _ in items:
                    await anyio.sleep_forever()
        assert scope.cancelled_caught and source.closed and not source.exhausted

    async def test_closing_a_message_stream_releases_the_body(
        self, name: str, operator: Callable[[Any], AsyncGenerator[Any, None]], fixture: str
    ) -> None:
        """Over a real MessageStream, breaking out and closing closes the HTTP body."""
        stream, body = message_stream(fixture)
        async with aclosing(operator(stream)) as items:
            async for _ in items:
                break
        assert body.closed


# --------------------------------------------------------------------------------- chains


class TestChains:
    async def test_pipe_take_until_then_accumulate(self) -> None:
        """pipe() composes: stop at the tool call, snapshot the message, read its input."""
        source = upstream("tool_use.sse")
        stop = partial(take_until, predicate=tool_use_stopped())
        snapshots: list[Snapshot] = await collect(pipe(source, stop, accumulate))
        message = snapshots[-1].message
        assert message is not None
        tool, expected = message.content[1], final("tool_use.sse").content[1]
        assert isinstance(tool, ToolUseBlock) and isinstance(expected, ToolUseBlock)
        assert tool.input == expected.input
        assert source.closed and not source.exhausted

    async def test_message_stream_pipe_text_then_map(self) -> None:
        """MessageStream.pipe chains text_deltas and map_events; the stream still finishes."""
        stream, body = message_stream("text.sse")
        upper = await collect(stream.pipe(text_deltas, partial(map_events, fn=str.upper)))
        assert "".join(upper) == texts(final("text.sse"))[0].text.upper()
        assert body.closed
        assert (await stream.final_message()).stop_reason == "end_turn"

    async def test_four_stages_close_the_root_on_break(self) -> None:
        """Breaking out of a four-stage chain closes the root upstream."""
        source = upstream("citations.sse")
        chain: Any = pipe(
            source,
            partial(filter_events, predicate=lambda e: not isinstance(e, Ping)),
            partial(take_until, predicate=lambda e: isinstance(e, MessageDelta)),
            text_blocks,
            partial(map_events, fn=lambda block: block.text),
        )
        async with aclosing(chain) as items:
            async for text in items:
                assert text == texts(final("citations.sse"))[0].text
                break
        assert source.closed and not source.exhausted

    async def test_error_crosses_a_chain(self) -> None:
        """An in-stream error from a MessageStream crosses every stage; the body is closed."""
        stream, body = message_stream("overloaded_error.sse")
        chain = stream.pipe(lambda s: of_type(s, TextDelta), text_deltas, accumulate_text)
        with pytest.raises(sluice.OverloadedError) as info:
            await collect(chain)
        assert isinstance(info.value, sluice.APIStreamError)
        assert info.value.partial_message is not None
        assert body.closed

    async def test_of_type_then_joined_text(self) -> None:
        """joined_text consumes a filtered chain to the end."""
        source = upstream("web_search.sse")
        kept = of_type(source, ContentBlockStart, ContentBlockStop, TextDelta, CitationsDelta)
        expected = "".join(block.text for block in texts(final("web_search.sse")))
        assert await joined_text(kept) == expected
        assert source.closed


async def accumulate_text(source: AsyncIterable[str]) -> AsyncGenerator[str, None]:
    """A user-written operator in the same shape: running text so far."""
    text = ""
    try:
        async for piece in source:
            text += piece
            yield text
    finally:
        await aclose_upstream(source)


# ---------------------------------------------------- snapshots, fusion, views of snapshots


async def outcome(items: Any) -> tuple[list[Any], BaseException | None]:
    """What an operator yields until it ends or raises, and what it raised (closed after)."""
    out: list[Any] = []
    async with aclosing(items) as it:
        try:
            async for item in it:
                out.append(item)
        except Exception as exc:
            return out, exc
    return out, None


def same_error(a: BaseException | None, b: BaseException | None) -> bool:
    """Whether two errors are alike: same class, message and partial message."""
    if a is None or b is None:
        return a is b
    return (
        type(a) is type(b)
        and str(a) == str(b)
        and to_builtins(getattr(a, "partial_message", None))
        == to_builtins(getattr(b, "partial_message", None))
    )


def is_text_delta(event: Event) -> bool:
    return isinstance(event, ContentBlockDelta) and isinstance(event.delta, TextDelta)


def is_thinking_delta(event: Event) -> bool:
    return isinstance(event, ContentBlockDelta) and isinstance(event.delta, ThinkingDelta)


class Replayable:
    """An async iterable whose every ``aiter()`` starts the transcript over.

    Reading the events twice, e.g. through a second ``aiter()``, shows up as duplicates.
    """

    def __init__(self, events: list[Event]) -> None:
        self.events = events
        self.iterators: list[Upstream] = []

    def __aiter__(self) -> Upstream:
        iterator = Upstream(self.events)
        self.iterators.append(iterator)
        return iterator

    async def aclose(self) -> None:
        for iterator in self.iterators:
            await iterator.aclose()


class Failing:
    """An async iterator of events that then raises ``error``, recording being closed."""

    def __init__(self, events: list[Event], error: Exception) -> None:
        self.closed = False
        self._events = iter(events)
        self._error = error

    def __aiter__(self) -> Failing:
        return self

    async def __anext__(self) -> Event:
        await anyio.lowlevel.checkpoint()
        event = next(self._events, None)
        if event is None:
            raise self._error
        return event

    async def aclose(self) -> None:
        self.closed = True


def unfused(name: str) -> Any:
    """accumulate() behind a stage that hides it: text views see snapshots, no fusion."""
    return map_events(accumulate(upstream(name)), lambda snap: snap)


def tool_call_record(item: Any) -> Any:
    """A tool_calls item as comparable data, taken at the moment it is yielded."""
    if isinstance(item, ToolCall):
        return item
    return (
        item.index,
        item.id,
        item.name,
        item.kind,
        item.json_delta,
        [(change.kind, change.path, change.text) for change in item.changes],
        copy.deepcopy(item.partial_input),
    )


async def tool_call_records(items: AsyncGenerator[Any, None]) -> list[Any]:
    async with aclosing(items) as calls:
        return [tool_call_record(item) async for item in calls]


class TestSnapshots:
    async def test_snapshot_is_a_frozen_struct_untracked_by_the_gc(self) -> None:
        """Snapshot is a frozen, gc=False msgspec Struct with event, accumulator, message."""
        accumulator = MessageAccumulator()
        snap = Snapshot(Ping(), accumulator)
        assert isinstance(snap, msgspec.Struct)
        assert Snapshot.__struct_config__.frozen and not Snapshot.__struct_config__.gc
        assert not gc.is_tracked(snap)
        with pytest.raises(AttributeError):
            snap.event = MessageStop()  # type: ignore[misc]
        assert snap.event == Ping() and snap.accumulator is accumulator
        assert snap.message is None
        accumulator.feed(events_of("text.sse")[0])
        assert snap.message is accumulator.message and snap.message is not None

    async def test_accumulate_returns_snapshots_not_a_generator(self) -> None:
        """accumulate() returns a Snapshots iterator with a fresh accumulator by default."""
        first, second = accumulate(upstream("text.sse")), accumulate(upstream("text.sse"))
        assert type(first) is Snapshots and not inspect.isasyncgen(first)
        assert isinstance(first.accumulator, MessageAccumulator)
        assert first.accumulator is not second.accumulator
        assert first.accumulator.events == 0
        await first.aclose()
        await second.aclose()

    @pytest.mark.parametrize("name", COMPLETE)
    async def test_the_given_accumulator_is_the_one_fed(self, name: str) -> None:
        """accumulator= is fed every event; its finish() is the stream's final message."""
        acc = MessageAccumulator()
        snapshots = accumulate(upstream(name), accumulator=acc)
        assert snapshots.accumulator is acc
        collected: list[Snapshot] = await collect(snapshots)
        assert all(snap.accumulator is acc for snap in collected)
        assert acc.events == len(events_of(name)) == len(collected)
        assert to_builtins(acc.finish()) == to_builtins(final(name))

    async def test_aiter_hands_out_the_async_generator_itself(self) -> None:
        """aiter(snapshots) is an async generator, the same one each time: no extra layer."""
        source = upstream("text.sse")
        snapshots = accumulate(source)
        iterator = aiter(snapshots)
        assert inspect.isasyncgen(iterator)
        assert aiter(snapshots) is iterator
        got = [snap.event async for snap in iterator]
        assert got == events_of("text.sse")
        assert source.exhausted and source.closed
        await snapshots.aclose()

    async def test_anext_works_on_the_snapshots_directly(self) -> None:
        """anext() on the Snapshots object yields snapshots in order; aclose closes upstream."""
        events = events_of("text.sse")
        source = Upstream(events)
        snapshots = accumulate(source)
        first = await anext(snapshots)
        second = await anext(snapshots)
        assert (first.event, second.event) == (events[0], events[1])
        assert first.accumulator is second.accumulator is snapshots.accumulator
        assert snapshots.accumulator.events == 2
        await snapshots.aclose()
        assert source.closed and not source.exhausted and source.pulled == 2
        with pytest.raises(StopAsyncIteration):
            await anext(snapshots)

    async def test_aclose_before_iteration_closes_upstream(self) -> None:
        """Closing before the first snapshot still closes the upstream, which is never read."""
        source = upstream("text.sse")
        snapshots = accumulate(source)
        await snapshots.aclose()
        assert source.closed and source.pulled == 0
        await snapshots.aclose()  # idempotent
        assert source.closed and source.pulled == 0
        with pytest.raises(StopAsyncIteration):
            await anext(snapshots)

    async def test_aclose_is_idempotent_after_iteration(self) -> None:
        """aclose() after a partial or a complete iteration may be repeated harmlessly."""
        source = upstream("thinking.sse")
        snapshots = accumulate(source)
        async for _ in snapshots:
            break
        await snapshots.aclose()
        await snapshots.aclose()
        assert source.closed and not source.exhausted
        done = upstream("text.sse")
        everything = accumulate(done)
        assert len(await collect(everything)) == len(events_of("text.sse"))
        await everything.aclose()
        await everything.aclose()
        assert done.closed and done.exhausted

    async def test_aclose_over_a_message_stream_releases_the_body(self) -> None:
        """Closing an unstarted accumulate() over a MessageStream closes the HTTP body."""
        stream, body = message_stream("text.sse")
        snapshots = accumulate(stream)
        await snapshots.aclose()
        assert body.closed


FUSED_INDEXES = [None, 0, 1, 2]


class CountingAccumulator(sluice.MessageAccumulator):
    """An accumulator subclass that counts its feed() calls (e.g. to log every event)."""

    __slots__ = ("fed",)

    def __init__(self) -> None:
        super().__init__()
        self.fed = 0

    def feed(self, event: Event) -> None:
        self.fed += 1
        super().feed(event)


class TestFusionEdges:
    @pytest.mark.parametrize("view", [text_deltas, thinking_deltas])
    @pytest.mark.parametrize("index", [None, 0, 1])
    async def test_a_subclassed_accumulator_sees_every_event_through_feed(
        self, view: Any, index: int | None
    ) -> None:
        """Fused, an accumulator subclass still gets feed() for every event, as unfused."""
        events = events_of("thinking.sse")
        fused_acc, plain_acc = CountingAccumulator(), CountingAccumulator()
        fused = await collect(
            view(accumulate(Upstream(events), accumulator=fused_acc), index=index)
        )
        snaps = accumulate(Upstream(events), accumulator=plain_acc)
        plain = await collect(view(aiter(snaps), index=index))  # aiter(): no fusion
        assert fused == plain
        assert fused_acc.fed == plain_acc.fed == len(events)
        assert to_builtins(fused_acc.finish()) == to_builtins(plain_acc.finish())

    @pytest.mark.parametrize("view", [text_deltas, thinking_deltas])
    async def test_nothing_fuses_with_a_closed_snapshots(self, view: Any) -> None:
        """A closed accumulate() stays closed: a view over it reads nothing, like unfused."""
        source = Replayable(events_of("thinking.sse"))
        snaps = accumulate(source)
        await snaps.aclose()
        assert await collect(view(snaps)) == []
        assert source.iterators == []  # the upstream was never opened
        assert snaps.accumulator.events == 0

    async def test_the_accumulator_is_read_only(self) -> None:
        """Snapshots.accumulator cannot be swapped for another after the fact."""
        snaps = accumulate(Upstream(events_of("text.sse")))
        with pytest.raises(AttributeError):
            snaps.accumulator = sluice.MessageAccumulator()  # type: ignore[misc]
        await snaps.aclose()


class TestFusion:
    @pytest.mark.parametrize("index", FUSED_INDEXES)
    @pytest.mark.parametrize("name", ALL)
    async def test_fused_text_deltas_equal_the_two_stages(
        self, name: str, index: int | None
    ) -> None:
        """text_deltas(accumulate(x)) yields, raises and accumulates as the unfused chain."""
        fused_acc, plain_acc = MessageAccumulator(), MessageAccumulator()
        fused = await outcome(
            text_deltas(accumulate(upstream(name), accumulator=fused_acc), index=index)
        )
        two_stages = await outcome(
            text_deltas(
                map_events(accumulate(upstream(name), accumulator=plain_acc), lambda s: s.event),
                index=index,
            )
        )
        assert fused[0] == two_stages[0]
        assert same_error(fused[1], two_stages[1])
        assert fused_acc.events == plain_acc.events
        assert to_builtins(fused_acc.partial()) == to_builtins(plain_acc.partial())
        assert fused_acc.done == plain_acc.done
        # And the text is that of the events themselves, up to the error if any.
        events_only = await outcome(text_deltas(upstream(name), index=index))
        assert events_only[1] is None
        assert fused[0] == events_only[0][: len(fused[0])]
        if fused[1] is None:
            assert fused[0] == events_only[0]

    @pytest.mark.parametrize("index", FUSED_INDEXES)
    @pytest.mark.parametrize("name", ALL)
    async def test_fused_thinking_deltas_equal_the_two_stages(
        self, name: str, index: int | None
    ) -> None:
        """thinking_deltas(accumulate(x)) yields, raises and accumulates as the unfused chain."""
        fused_acc, plain_acc = MessageAccumulator(), MessageAccumulator()
        fused = await outcome(
            thinking_deltas(accumulate(upstream(name), accumulator=fused_acc), index=index)
        )
        two_stages = await outcome(
            thinking_deltas(
                map_events(accumulate(upstream(name), accumulator=plain_acc), lambda s: s.event),
                index=index,
            )
        )
        assert fused[0] == two_stages[0]
        assert same_error(fused[1], two_stages[1])
        assert fused_acc.events == plain_acc.events
        assert to_builtins(fused_acc.partial()) == to_builtins(plain_acc.partial())
        events_only = await outcome(thinking_deltas(upstream(name), index=index))
        assert fused[0] == events_only[0][: len(fused[0])]

    @pytest.mark.parametrize("index", [None, 0, 1])
    @pytest.mark.parametrize("name", ["text.sse", "thinking.sse", "citations.sse", "tool_use.sse"])
    async def test_accumulator_is_fed_before_each_text_delta(
        self, name: str, index: int | None
    ) -> None:
        """At each fused text delta, the accumulator has applied exactly the events up to it."""
        events = events_of(name)
        acc, oracle = MessageAccumulator(), MessageAccumulator()
        fed = 0
        yielded = 0
        async with aclosing(
            text_deltas(accumulate(Upstream(events), accumulator=acc), index=index)
        ) as it:
            async for text in it:
                # The oracle catches up to the event that carried this text.
                while True:
                    event = events[fed]
                    oracle.feed(event)
                    fed += 1
                    if is_text_delta(event) and index in (None, event.index):  # type: ignore[union-attr]
                        break
                assert text == event.delta.text  # type: ignore[union-attr]
                assert acc.events == oracle.events == fed
                assert to_builtins(acc.message) == to_builtins(oracle.message)
                yielded += 1
        assert yielded == len(
            [e for e in events if is_text_delta(e) and index in (None, e.index)]  # type: ignore[union-attr]
        )
        assert to_builtins(acc.finish()) == to_builtins(final(name))

    @pytest.mark.parametrize("index", [None, 0])
    async def test_accumulator_is_fed_before_each_thinking_delta(self, index: int | None) -> None:
        """At each fused thinking delta, the thinking block holds the text up to it."""
        events = events_of("thinking.sse")
        acc = MessageAccumulator()
        seen = ""
        async with aclosing(
            thinking_deltas(accumulate(Upstream(events), accumulator=acc), index=index)
        ) as it:
            async for thought in it:
                seen += thought
                message = acc.message
                assert message is not None
                block = message.content[0]
                assert isinstance(block, ThinkingBlock) and block.thinking == seen
                position = acc.events - 1
                assert is_thinking_delta(events[position])
                assert events[position].delta.thinking == thought  # type: ignore[union-attr]
        assert to_builtins(acc.finish()) == to_builtins(final("thinking.sse"))

    async def test_fused_text_deltas_make_no_snapshot(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """Fused, text_deltas and thinking_deltas never build a Snapshot."""

        def forbidden(*args: object) -> None:
            raise AssertionError("a Snapshot was made")

        monkeypatch.setattr(_views, "Snapshot", forbidden)
        acc = MessageAccumulator()
        pieces = await collect(text_deltas(accumulate(upstream("text.sse"), accumulator=acc)))
        assert "".join(pieces) == texts(final("text.sse"))[0].text
        thoughts = await collect(thinking_deltas(accumulate(upstream("thinking.sse"))))
        assert len(thoughts) == 8
        # Unfused, the same chain does make them (the patch is what fails).
        with pytest.raises(AssertionError, match="a Snapshot was made"):
            await collect(text_deltas(map_events(accumulate(upstream("text.sse")), lambda s: s)))

    @pytest.mark.parametrize("view", [text_deltas, thinking_deltas])
    async def test_no_fusion_once_the_snapshots_were_iterated(
        self, view: Callable[[Any], AsyncGenerator[str, None]]
    ) -> None:
        """After anext(snapshots), the view reads the rest of those snapshots, once each."""
        events = events_of("thinking.sse")
        wanted = is_text_delta if view is text_deltas else is_thinking_delta
        expected = [
            e.delta.text if view is text_deltas else e.delta.thinking  # type: ignore[union-attr]
            for e in events
            if wanted(e)
        ]
        first_delta = next(i for i, e in enumerate(events) if wanted(e))
        source = Replayable(events)  # a second aiter() would start over: duplicates
        snapshots = accumulate(source)
        taken = [await anext(snapshots) for _ in range(first_delta + 2)]
        head = [
            snap.event.delta.text if view is text_deltas else snap.event.delta.thinking  # type: ignore[union-attr]
            for snap in taken
            if wanted(snap.event)
        ]
        assert len(head) == 2
        rest = await collect(view(snapshots))
        assert head + rest == expected
        assert len(source.iterators) == 1
        assert snapshots.accumulator.events == len(events)
        assert to_builtins(snapshots.accumulator.finish()) == to_builtins(final("thinking.sse"))

    async def test_no_fusion_once_aiter_was_taken(self) -> None:
        """A Snapshots whose generator was handed out is read through it, not fused."""
        events = events_of("text.sse")
        source = Replayable(events)
        snapshots = accumulate(source)
        iterator = aiter(snapshots)
        first = await anext(iterator)
        assert first.event == events[0]
        pieces = await collect(text_deltas(snapshots))
        assert "".join(pieces) == texts(final("text.sse"))[0].text
        assert len(source.iterators) == 1
        assert snapshots.accumulator.events == len(events)

    @pytest.mark.parametrize("view", [text_deltas, thinking_deltas])
    async def test_closing_the_fused_view_early_closes_upstream(
        self, view: Callable[[Any], AsyncGenerator[str, None]]
    ) -> None:
        """break + aclose on the fused view closes the upstream, unread to its end."""
        source = upstream("thinking.sse")
        snapshots = accumulate(source)
        async with aclosing(view(snapshots)) as items:
            async for _ in items:
                break
        assert source.closed and not source.exhausted
        assert 0 < source.pulled < len(events_of("thinking.sse"))
        assert snapshots.accumulator.events == source.pulled

    async def test_closing_the_fused_view_releases_a_message_stream(self) -> None:
        """Over a MessageStream, breaking out of the fused view closes the HTTP body."""
        stream, body = message_stream("long_text.sse")
        async with aclosing(text_deltas(accumulate(stream))) as items:
            async for _ in items:
                break
        assert body.closed

    async def test_fused_over_a_message_stream_is_complete(self) -> None:
        """Fused over a real MessageStream: all the text, the accumulator and stream agree."""
        stream, body = message_stream("citations.sse")
        acc = MessageAccumulator()
        pieces = await collect(text_deltas(accumulate(stream, accumulator=acc)))
        assert "".join(pieces) == "".join(block.text for block in texts(final("citations.sse")))
        assert to_builtins(acc.finish()) == to_builtins(await stream.final_message())
        assert body.closed

    @pytest.mark.parametrize("view", [text_deltas, thinking_deltas])
    async def test_an_upstream_exception_passes_unchanged(
        self, view: Callable[[Any], AsyncGenerator[str, None]]
    ) -> None:
        """The exception the upstream raises is the very one the fused view raises."""
        boom = Boom("connection reset")
        source = Failing(events_of("thinking.sse")[:12], boom)
        with pytest.raises(Boom) as info:
            await collect(view(accumulate(source)))
        assert info.value is boom
        assert source.closed

    async def test_an_in_stream_error_event_raises_the_typed_error(self) -> None:
        """Fused, an error event raises OverloadedError with the text before it, closing upstream."""
        source = upstream("overloaded_error.sse")
        pieces, error = await outcome(text_deltas(accumulate(source)))
        assert isinstance(error, sluice.OverloadedError)
        assert isinstance(error, sluice.APIStreamError)
        assert error.request_id == "req_011CZmU1EHj3rDIHIIiRbj1H"
        assert error.partial_message is not None
        expected = texts(final("overloaded_error.sse"))[0].text
        assert "".join(pieces) == expected == texts(error.partial_message)[0].text
        assert source.closed

    async def test_a_message_stream_error_crosses_the_fused_stage(self) -> None:
        """Over a MessageStream, the in-stream error and truncation reach the consumer, typed."""
        stream, body = message_stream("overloaded_error.sse")
        with pytest.raises(sluice.OverloadedError) as info:
            await collect(text_deltas(accumulate(stream)))
        assert isinstance(info.value, sluice.APIStreamError)
        assert info.value.partial_message is not None and body.closed
        stream, body = message_stream("truncated.sse")
        pieces, error = await outcome(text_deltas(accumulate(stream)))
        assert isinstance(error, sluice.IncompleteStreamError)
        assert "".join(pieces) == texts(final("truncated.sse"))[0].text
        assert body.closed


class TestViewsOfSnapshots:
    @pytest.mark.parametrize("index", [None, 0, 1])
    @pytest.mark.parametrize("name", COMPLETE)
    async def test_text_and_thinking_deltas(self, name: str, index: int | None) -> None:
        """Unfused, text_deltas and thinking_deltas of snapshots equal those of events."""
        assert await collect(text_deltas(unfused(name), index=index)) == await collect(
            text_deltas(upstream(name), index=index)
        )
        assert await collect(thinking_deltas(unfused(name), index=index)) == await collect(
            thinking_deltas(upstream(name), index=index)
        )

    @pytest.mark.parametrize("name", COMPLETE)
    async def test_text_blocks_joined_text_and_citations(self, name: str) -> None:
        """text_blocks, joined_text and citations read snapshots as they read events."""
        blocks = await collect(text_blocks(accumulate(upstream(name))))
        assert blocks == await collect(text_blocks(upstream(name)))
        assert blocks and all(isinstance(block, TextBlockDone) for block in blocks)
        assert await joined_text(accumulate(upstream(name))) == await joined_text(upstream(name))
        cited = await collect(citations(accumulate(upstream(name))))
        assert cited == await collect(citations(upstream(name)))

    async def test_citations_of_snapshots_are_found(self) -> None:
        """The cited blocks of citations.sse come through snapshots too (not vacuous)."""
        cited = await collect(citations(accumulate(upstream("citations.sse"))))
        assert len(cited) == 5 and sum(len(block.citations) for block in cited) == 6

    @pytest.mark.parametrize("name", COMPLETE)
    async def test_of_type_keeps_the_matching_snapshots(self, name: str) -> None:
        """of_type over snapshots yields the snapshots themselves, whose event matches."""
        kinds = (ContentBlockStart, MessageDelta, TextDelta, InputJSONDelta, UnknownEvent)
        kept = await collect(of_type(accumulate(upstream(name)), *kinds))
        assert all(type(snap) is Snapshot for snap in kept)
        assert [snap.event for snap in kept] == await collect(of_type(upstream(name), *kinds))
        assert kept

    async def test_of_type_snapshot_is_current_at_its_event(self) -> None:
        """A kept snapshot's accumulator has applied its event when it is handed out."""
        events = events_of("text.sse")
        async with aclosing(of_type(accumulate(Upstream(events)), MessageDelta)) as kept:
            async for snap in kept:
                assert snap.accumulator.events == events.index(snap.event) + 1
                assert snap.message is not None and snap.message.stop_reason == "end_turn"

    @pytest.mark.parametrize("name", ["tool_use.sse", "unknown_types.sse", "web_search.sse"])
    async def test_tool_use_stopped_reads_snapshots(self, name: str) -> None:
        """tool_use_stopped fires at the same events for snapshots as for events."""
        events = events_of(name)
        predicate, oracle = tool_use_stopped(), tool_use_stopped()
        snapshots: list[Snapshot] = await collect(accumulate(Upstream(events)))
        assert [predicate(snap) for snap in snapshots] == [oracle(e) for e in events]
        taken: list[Snapshot] = await collect(
            take_until(accumulate(upstream(name)), tool_use_stopped())
        )
        expected = await collect(take_until(upstream(name), tool_use_stopped()))
        assert [snap.event for snap in taken] == expected

    @pytest.mark.parametrize("name", COMPLETE)
    async def test_tool_calls_read_snapshots(self, name: str) -> None:
        """ops.tool_calls over snapshots yields the same deltas and calls as over events."""
        over_snapshots = await tool_call_records(sluice.ops.tool_calls(accumulate(upstream(name))))
        assert over_snapshots == await tool_call_records(sluice.ops.tool_calls(upstream(name)))
        if name == "tool_use.sse":
            assert isinstance(over_snapshots[-1], ToolCall) and len(over_snapshots) == 35

    async def test_views_raise_the_accumulators_error(self) -> None:
        """Over accumulate(), an error event raises the typed error in every view."""
        views: list[Callable[[Any], Any]] = [
            text_blocks,
            citations,
            sluice.ops.tool_calls,
            lambda s: of_type(s, TextDelta),
            lambda s: text_deltas(map_events(s, lambda snap: snap)),
        ]
        for view in views:
            source = upstream("overloaded_error.sse")
            with pytest.raises(sluice.OverloadedError):
                await collect(view(accumulate(source)))
            assert source.closed
