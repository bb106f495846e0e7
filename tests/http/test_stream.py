"""MessageStream over its one body reader: iteration, final_message() and aiter_batches()
share it, each going on where another stopped; errors come after every good event."""

from __future__ import annotations

from contextlib import aclosing
from typing import Any

import pytest

import sluice
from _util import ALL, COMPLETE, events_of, load, message_stream, pieces
from sluice import Event, MessageAccumulator, StreamError, to_builtins
from sluice.testing import MockAnthropic, Reply

pytestmark = pytest.mark.anyio

SIZES = [7, 97, 4096, None]  # None: the whole body in one chunk
SIZE_IDS = ["7", "97", "4096", "whole"]


def reference(events: list[Event]) -> MessageAccumulator:
    """An accumulator fed ``events`` one by one, stopping at the first error."""
    acc = MessageAccumulator()
    try:
        for event in events:
            acc.feed(event)
    except StreamError:
        pass
    return acc


def report(error: BaseException) -> Any:
    """What a stream error says: class, message, count and partial message."""
    assert isinstance(error, StreamError)
    return type(error), str(error), error.events_received, to_builtins(error.partial_message)


async def read(name_or_body: str | bytes, size: int | None, how: str) -> tuple[Any, ...]:
    """Read a body one way: ``iterate``, ``final`` (final_message) or ``batches``.

    Returns the events handed out (none for ``final``), the final message or the error's
    report, and whether the body was released before the stream was closed.
    """
    data = load(name_or_body) if isinstance(name_or_body, str) else name_or_body
    stream, body = message_stream(pieces(data, size))
    events: list[Event] = []
    try:
        if how == "iterate":
            async for event in stream:
                events.append(event)
            outcome = to_builtins(await stream.final_message())
        elif how == "final":
            outcome = to_builtins(await stream.final_message())
        else:
            async for batch in stream.aiter_batches():
                events += batch
            outcome = to_builtins(await stream.final_message())
    except StreamError as exc:
        outcome = report(exc)
    released = body.closed
    await stream.aclose()
    assert body.closed
    return to_builtins(events), outcome, released


def bad_json(name: str) -> bytes:
    """A transcript with its third text delta made invalid JSON."""
    data = load(name)
    at = data.index(b'"text_delta"')
    for _ in range(2):
        at = data.index(b'"text_delta"', at + 1)
    return data[:at] + b'"text_delta" oops' + data[at + len(b'"text_delta"') :]


class TestOneReaderThreeWays:
    @pytest.mark.parametrize("size", SIZES, ids=SIZE_IDS)
    @pytest.mark.parametrize("name", ALL)
    async def test_every_way_gives_the_same_result(self, name: str, size: int | None) -> None:
        """Iteration, final_message() and batches: same events, message or error, any chunking."""
        events, outcome, _ = await read(name, None, "iterate")
        assert await read(name, size, "iterate") == (events, outcome, True)
        assert (await read(name, size, "final"))[1:] == (outcome, True)
        assert await read(name, size, "batches") == (events, outcome, True)

    @pytest.mark.parametrize("size", [97, None], ids=["97", "whole"])
    @pytest.mark.parametrize("name", ["text.sse", "tool_use.sse", "thinking.sse"])
    async def test_the_snapshot_is_as_of_the_last_event_yielded(
        self, name: str, size: int | None
    ) -> None:
        """During iteration the snapshot reflects exactly the events yielded so far."""
        stream, _ = message_stream(pieces(load(name), size))
        acc = MessageAccumulator()
        async with aclosing(stream):
            async for event in stream:
                acc.feed(event)
                assert stream.events_received == acc.events
                assert to_builtins(stream.current_message_snapshot) == to_builtins(acc.message)

    @pytest.mark.parametrize("size", [97, None], ids=["97", "whole"])
    async def test_final_message_goes_on_where_iteration_stopped(self, size: int | None) -> None:
        """Break after k events (mid-chunk): final_message() applies the rest, once each."""
        data = load("tool_use.sse")
        expected = to_builtins(reference(events_of("tool_use.sse")).finish())
        total = len(events_of("tool_use.sse"))
        for k in (0, 1, 5, total // 2, total - 1, total):
            stream, _ = message_stream(pieces(data, size))
            async with aclosing(stream):
                taken = 0
                if k:
                    async for _event in stream:
                        taken += 1
                        if taken == k:
                            break
                assert to_builtins(await stream.final_message()) == expected
                assert stream.events_received == total

    async def test_iteration_goes_on_where_batches_stopped(self) -> None:
        """One batch, then iteration, then batches again: every event once, in order."""
        expected = to_builtins(events_of("long_text.sse"))
        stream, _ = message_stream(pieces(load("long_text.sse"), 97))
        async with aclosing(stream):
            batches = stream.aiter_batches()
            out = list(await anext(batches))
            await batches.aclose()
            for _ in range(3):
                out.append(await anext(stream))
            async for batch in stream.aiter_batches():
                out += batch
        assert to_builtins(out) == expected


class TestErrorsComeLast:
    @pytest.mark.parametrize("how", ["iterate", "final", "batches"])
    @pytest.mark.parametrize("size", SIZES, ids=SIZE_IDS)
    async def test_a_malformed_event(self, how: str, size: int | None) -> None:
        """Bad JSON raises EventDecodeError after every good event, naming it, with the partial."""
        data = bad_json("text.sse")
        events, outcome, released = await read(data, size, how)
        good = events_of("text.sse")[: len(events)] if how != "final" else []
        assert to_builtins(good) == events
        cls, message, count, partial = outcome
        assert cls is sluice.EventDecodeError and released
        offset = data.rindex(b"event:", 0, data.index(b"oops"))
        assert f"at byte {offset} " in message and "'content_block_delta'" in message
        assert partial == to_builtins(reference(events_of("text.sse")[:count]).partial())
        if how != "final":
            assert count == len(events)
        assert (await read(data, None, "iterate"))[1] == outcome

    @pytest.mark.parametrize("how", ["iterate", "final", "batches"])
    @pytest.mark.parametrize("size", SIZES, ids=SIZE_IDS)
    async def test_an_oversized_event(self, how: str, size: int | None) -> None:
        """An event over max_event_size raises after every event before it."""
        data = load("text.sse")
        at = data.index(b'"text_delta","text":"') + len(b'"text_delta","text":"')
        data = data[:at] + b"x" * 5000 + data[at:]
        stream, body = message_stream(pieces(data, size), max_event_size=1024)
        got: list[Event] = []
        with pytest.raises(sluice.EventTooLargeError) as info:
            if how == "iterate":
                async for event in stream:
                    got.append(event)
            elif how == "final":
                await stream.final_message()
            else:
                async for batch in stream.aiter_batches():
                    got += batch
        assert body.closed
        before = events_of("text.sse")[: info.value.events_received]
        assert info.value.events_received == len(before) > 0
        assert to_builtins(info.value.partial_message) == to_builtins(reference(before).partial())
        if how != "final":
            assert to_builtins(got) == to_builtins(before)
        await stream.aclose()

    @pytest.mark.parametrize("how", ["iterate", "final", "batches"])
    async def test_nothing_is_handed_out_after_an_error(self, how: str) -> None:
        """Events after an error event in the same chunk are never applied or handed out."""
        data = load("overloaded_error.sse")
        cut = data.index(b"event: error")
        data = data + data[data.index(b"event: content_block_delta") : cut]  # more deltas
        stream, body = message_stream(pieces(data, None))
        iterating = aiter(stream)
        await anext(iterating)  # iteration suspended mid-chunk: it must not resume either
        with pytest.raises(sluice.OverloadedError) as info:
            if how == "iterate":
                async for _event in stream:
                    pass
            elif how == "final":
                await stream.final_message()
            else:
                async for _batch in stream.aiter_batches():
                    pass
        assert body.closed
        count = stream.events_received
        assert count == info.value.events_received
        assert [event async for event in stream] == []
        assert [event async for event in iterating] == []
        assert [batch async for batch in stream.aiter_batches()] == []
        with pytest.raises(sluice.IncompleteStreamError):
            await stream.final_message()
        assert stream.events_received == count
        await stream.aclose()


class TestWhatTheFastPathHandsOver:
    async def test_a_lone_surrogate_delta_decodes(self) -> None:
        """A text delta escaping a lone surrogate (valid JSON, not UTF-8) is kept as is."""
        data = load("text.sse")
        at = data.index(b'"text_delta","text":"') + len(b'"text_delta","text":"')
        data = data[:at] + b"\\ud83d" + data[at:]
        for size in (97, None):
            _, message, _ = await read(data, size, "final")
            assert "\ud83d" in message["content"][0]["text"]

    @pytest.mark.parametrize("size", [97, None], ids=["97", "whole"])
    async def test_unknown_events_and_fields_are_kept(self, size: int | None) -> None:
        """Unknown event and delta types arrive as Unknown*, unknown fields on the message."""
        events, message, _ = await read("unknown_types.sse", size, "iterate")
        assert events == to_builtins(events_of("unknown_types.sse"))
        kinds = {type(event).__name__ for event in events_of("unknown_types.sse")}
        assert "UnknownEvent" in kinds
        assert message == to_builtins(reference(events_of("unknown_types.sse")).finish())


class TestRelease:
    @pytest.mark.parametrize("name", COMPLETE[:3])
    async def test_closing_mid_chunk_releases_and_hands_out_nothing_more(self, name: str) -> None:
        """aclose() after a break mid-chunk releases the body; the rest is not applied."""
        stream, body = message_stream(pieces(load(name), None))
        await anext(stream)
        await stream.aclose()
        assert body.closed and stream.response.is_closed
        with pytest.raises(sluice.IncompleteStreamError):
            await stream.final_message()
        assert stream.events_received == 1


def tool_events(partial_json: str) -> list[dict[str, Any]]:
    """A message with one tool call whose input JSON is ``partial_json``, then tool_use."""
    return [
        {
            "type": "message_start",
            "message": {
                "id": "msg_1",
                "type": "message",
                "role": "assistant",
                "model": "claude-sonnet-4-5",
                "content": [],
                "stop_reason": None,
                "stop_sequence": None,
                "usage": {"input_tokens": 5, "output_tokens": 1},
            },
        },
        {
            "type": "content_block_start",
            "index": 0,
            "content_block": {"type": "tool_use", "id": "toolu_1", "name": "f", "input": {}},
        },
        {
            "type": "content_block_delta",
            "index": 0,
            "delta": {"type": "input_json_delta", "partial_json": partial_json},
        },
        {"type": "content_block_stop", "index": 0},
        {
            "type": "message_delta",
            "delta": {"stop_reason": "tool_use"},
            "usage": {"output_tokens": 9},
        },
        {"type": "message_stop"},
    ]


STREAM_PARAMS: dict[str, Any] = {
    "model": "claude-sonnet-4-5",
    "max_tokens": 64,
    "messages": [{"role": "user", "content": "Hi"}],
}


class TestInvalidToolInput:
    @pytest.mark.parametrize("text", ['{"a": ]', '{"a": "unfinished'], ids=["malformed", "cut"])
    async def test_kept_as_invalid_json_or_raised(
        self, server: MockAnthropic, client: sluice.AsyncClient, text: str
    ) -> None:
        """invalid_tool_input="keep" keeps the text as {"INVALID_JSON": text} and the
        stream ends normally; the default raises ToolInputError with the partial message."""
        server.enqueue(Reply.events(tool_events(text)), Reply.events(tool_events(text)))
        async with client.messages.stream(**STREAM_PARAMS, invalid_tool_input="keep") as stream:
            message = await stream.final_message()
        assert message.content[0].input == {"INVALID_JSON": text}  # type: ignore[union-attr]
        assert message.stop_reason == "tool_use" and message.usage.output_tokens == 9
        with pytest.raises(sluice.ToolInputError) as caught:
            async with client.messages.stream(**STREAM_PARAMS) as stream:
                await stream.final_message()
        assert caught.value.tool_use_id == "toolu_1" and caught.value.partial_message is not None

    async def test_the_option_is_checked(self, client: sluice.AsyncClient) -> None:
        with pytest.raises(sluice.ParamsError, match="invalid_tool_input"):
            client.messages.stream(**STREAM_PARAMS, invalid_tool_input="ignore")  # type: ignore[call-overload]
