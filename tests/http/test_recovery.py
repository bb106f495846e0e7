"""Stream recovery over real HTTP: a text stream that dies mid-message continues as one.

MockAnthropic plays a first reply that fails (an in-stream overload, a dropped connection)
and a second, the continuation; the consumer must see one well-formed stream.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

import sluice
from sluice import ops
from sluice.testing import MockAnthropic, Reply

pytestmark = pytest.mark.anyio

PARAMS: dict[str, Any] = {
    "model": "claude-sonnet-4-5",
    "max_tokens": 100,
    "messages": [{"role": "user", "content": "Tell me a story."}],
}


def sse(*events: dict[str, Any]) -> bytes:
    return b"".join(
        f"event: {event['type']}\ndata: {json.dumps(event)}\n\n".encode() for event in events
    )


def message_start(input_tokens: int = 10, output_tokens: int = 1) -> dict[str, Any]:
    return {
        "type": "message_start",
        "message": {
            "id": "msg_1",
            "type": "message",
            "role": "assistant",
            "model": "claude-sonnet-4-5",
            "content": [],
            "stop_reason": None,
            "stop_sequence": None,
            "usage": {"input_tokens": input_tokens, "output_tokens": output_tokens},
        },
    }


def started(usage: dict[str, Any]) -> dict[str, Any]:
    """A message_start reporting ``usage``."""
    event = message_start()
    event["message"]["usage"] = usage
    return event


def block_start(index: int, block: dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        "type": "content_block_start",
        "index": index,
        "content_block": block or {"type": "text", "text": ""},
    }


def text(index: int, value: str) -> dict[str, Any]:
    return {
        "type": "content_block_delta",
        "index": index,
        "delta": {"type": "text_delta", "text": value},
    }


def stop(index: int) -> dict[str, Any]:
    return {"type": "content_block_stop", "index": index}


def end(output_tokens: int, input_tokens: int | None = None) -> list[dict[str, Any]]:
    usage: dict[str, Any] = {"output_tokens": output_tokens}
    if input_tokens is not None:
        usage["input_tokens"] = input_tokens
    return [
        {
            "type": "message_delta",
            "delta": {"stop_reason": "end_turn", "stop_sequence": None},
            "usage": usage,
        },
        {"type": "message_stop"},
    ]


OVERLOADED = {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}


def client_for(server: MockAnthropic) -> sluice.AsyncClient:
    return sluice.AsyncClient(api_key="test", base_url=server.base_url, max_retries=0)


class TestRecovery:
    async def test_overloaded_mid_text_continues_the_same_block(
        self, mock_anthropic: MockAnthropic
    ) -> None:
        """An in-stream overload mid-text: the continuation's text extends the same block."""
        first = sse(
            message_start(), block_start(0), text(0, "Once upon"), text(0, " a time"), OVERLOADED
        )
        second = sse(
            message_start(input_tokens=14, output_tokens=1),
            block_start(0),
            text(0, ", a fox"),
            stop(0),
            *end(5),
        )
        mock_anthropic.enqueue(Reply.sse(first), Reply.sse(second))
        async with client_for(mock_anthropic) as client:
            async with client.messages.stream(**PARAMS, recover=1) as stream:
                events = [event async for event in stream]
                message = await stream.final_message()
        assert [block.text for block in message.content] == ["Once upon a time, a fox"]  # type: ignore[union-attr]
        assert sum(type(e) is sluice.MessageStart for e in events) == 1
        assert sum(type(e) is sluice.ContentBlockStart for e in events) == 1
        assert message.stop_reason == "end_turn"
        # Usage of both attempts: 10 + 14 input; output 6 (the first's, estimated from its
        # 16 bytes of text: it failed before reporting it) + 5 (a message_delta's count is
        # cumulative: the continuation's message_start included).
        assert (message.usage.input_tokens, message.usage.output_tokens) == (24, 11)
        retry = mock_anthropic.requests[1].json
        assert retry["messages"][-1] == {"role": "assistant", "content": "Once upon a time"}
        assert retry["max_tokens"] == 100 - 6
        assert stream.recoveries and "OverloadedStreamError" in stream.recoveries[0]
        assert stream.attempts == 2

    async def test_usage_of_every_failed_attempt_is_summed(
        self, mock_anthropic: MockAnthropic
    ) -> None:
        """Two recoveries: each failed attempt's usage counts once, with the last one's;
        the output of each failed attempt is estimated from its text (4 and 5 bytes: 2
        tokens each), and the re-sent max_tokens shrinks by both."""
        first = sse(message_start(10, 1), block_start(0), text(0, "Once"), OVERLOADED)
        second = sse(message_start(12, 1), block_start(0), text(0, " upon"), OVERLOADED)
        third = sse(message_start(14, 1), block_start(0), text(0, " a time"), stop(0), *end(5))
        mock_anthropic.enqueue(Reply.sse(first), Reply.sse(second), Reply.sse(third))
        async with client_for(mock_anthropic) as client:
            async with client.messages.stream(**PARAMS, recover=2) as stream:
                message = await stream.final_message()
        assert message.content[0].text == "Once upon a time"  # type: ignore[union-attr]
        assert stream.attempts == 3
        assert (message.usage.input_tokens, message.usage.output_tokens) == (36, 2 + 2 + 5)
        assert [r.json["max_tokens"] for r in mock_anthropic.requests] == [100, 98, 96]

    async def test_every_counter_is_summed_as_the_meter_sums_it(
        self, mock_anthropic: MockAnthropic
    ) -> None:
        """Cache writes (by TTL too), cache reads and server tool requests of both attempts
        are summed: the final message's usage is what client.usage counted."""
        first_usage = {
            "input_tokens": 10,
            "output_tokens": 1,
            "cache_creation_input_tokens": 100,
            "cache_read_input_tokens": 400,
            "cache_creation": {"ephemeral_5m_input_tokens": 60, "ephemeral_1h_input_tokens": 40},
            "server_tool_use": {"web_search_requests": 1},
        }
        second_usage = {
            "input_tokens": 14,
            "output_tokens": 1,
            "cache_creation_input_tokens": 0,
            "cache_read_input_tokens": 500,
            "server_tool_use": {"web_search_requests": 2},
        }
        first = sse(started(first_usage), block_start(0), text(0, "Once upon"), OVERLOADED)
        second = sse(started(second_usage), block_start(0), text(0, " a time"), stop(0), *end(5))
        mock_anthropic.enqueue(Reply.sse(first), Reply.sse(second))
        async with client_for(mock_anthropic) as client:
            async with client.messages.stream(**PARAMS, recover=1) as stream:
                message = await stream.final_message()
            total = client.usage.total
        usage = message.usage
        assert usage.input_tokens == total.input_tokens == 24
        assert usage.output_tokens == total.output_tokens == 3 + 5  # 9 bytes: 3 estimated
        assert usage.cache_creation_input_tokens == total.cache_creation_input_tokens == 100
        assert usage.cache_read_input_tokens == total.cache_read_input_tokens == 900
        assert usage.cache_creation == total.cache_creation
        assert usage.cache_creation.ephemeral_1h_input_tokens == 40  # type: ignore[union-attr]
        assert usage.server_tool_use.web_search_requests == 3  # type: ignore[union-attr]
        assert total.server_tool_use.web_search_requests == 3  # type: ignore[union-attr]

    async def test_a_failed_attempts_output_is_estimated(
        self, mock_anthropic: MockAnthropic
    ) -> None:
        """An attempt cut before its message_delta reported 1 output token for 60 bytes of
        text: 20 are counted instead (3 bytes a token, rounded up), in the message, in the
        meter, and off the re-sent max_tokens."""
        first = sse(message_start(), block_start(0), text(0, "x" * 60), OVERLOADED)
        second = sse(message_start(), block_start(0), text(0, "y"), stop(0), *end(5))
        mock_anthropic.enqueue(Reply.sse(first), Reply.sse(second))
        async with client_for(mock_anthropic) as client:
            async with client.messages.stream(**PARAMS, recover=1) as stream:
                message = await stream.final_message()
            assert client.usage.total.output_tokens == 25
        assert message.usage.output_tokens == 20 + 5
        assert mock_anthropic.requests[1].json["max_tokens"] == 100 - 20

    async def test_a_reported_output_is_not_estimated(self, mock_anthropic: MockAnthropic) -> None:
        """An attempt whose message_delta arrived before the connection dropped reported
        its output: that count is used, not an estimate."""
        first = sse(message_start(), block_start(0), text(0, "x" * 60), stop(0), end(3)[0])
        second = sse(message_start(), block_start(0), text(0, "y"), stop(0), *end(5))
        mock_anthropic.enqueue(Reply.sse(first, drop_after=len(first)), Reply.sse(second))
        async with client_for(mock_anthropic) as client:
            async with client.messages.stream(**PARAMS, recover=1) as stream:
                message = await stream.final_message()
            assert client.usage.total.output_tokens == 8
        assert message.usage.output_tokens == 3 + 5
        assert mock_anthropic.requests[1].json["max_tokens"] == 100 - 3

    async def test_dropped_connection_then_more_blocks(self, mock_anthropic: MockAnthropic) -> None:
        """A connection cut after a finished block: the continuation's blocks follow, renumbered."""
        first = sse(message_start(), block_start(0), text(0, "Part one."), stop(0))
        second = sse(message_start(), block_start(0), text(0, " Part two."), stop(0), *end(3))
        mock_anthropic.enqueue(
            Reply.sse(first + b"event: ping\n", drop_after=len(first) + 3), Reply.sse(second)
        )
        async with client_for(mock_anthropic) as client:
            async with client.messages.stream(**PARAMS, recover=True) as stream:
                message = await stream.final_message()
        assert [block.text for block in message.content] == ["Part one.", " Part two."]  # type: ignore[union-attr]

    async def test_trailing_whitespace_is_shown_once(self, mock_anthropic: MockAnthropic) -> None:
        """A prefill cannot end with whitespace: it is left out, and not shown twice."""
        first = sse(message_start(), block_start(0), text(0, "Hello "), OVERLOADED)
        second = sse(
            message_start(), block_start(0), text(0, " "), text(0, "world"), stop(0), *end(2)
        )
        mock_anthropic.enqueue(Reply.sse(first), Reply.sse(second))
        async with client_for(mock_anthropic) as client:
            async with client.messages.stream(**PARAMS, recover=1) as stream:
                pieces = [piece async for piece in stream.text_stream]
                message = await stream.final_message()
        assert "".join(pieces) == "Hello world"
        assert message.content[0].text == "Hello world"  # type: ignore[union-attr]
        assert mock_anthropic.requests[1].json["messages"][-1]["content"] == "Hello"

    async def test_before_message_start_it_starts_again(
        self, mock_anthropic: MockAnthropic
    ) -> None:
        """A stream that failed before anything arrived is simply sent again (no prefill)."""
        second = sse(message_start(), block_start(0), text(0, "Hi"), stop(0), *end(1))
        mock_anthropic.enqueue(Reply.sse(sse(OVERLOADED)), Reply.sse(second))
        async with client_for(mock_anthropic) as client:
            async with client.messages.stream(**PARAMS, recover=1) as stream:
                assert await stream.final_text() == "Hi"
        assert mock_anthropic.requests[1].json["messages"] == PARAMS["messages"]

    async def test_the_callers_own_prefill_is_continued(
        self, mock_anthropic: MockAnthropic
    ) -> None:
        """A request that ends with the caller's assistant prefill: what arrived extends it."""
        first = sse(message_start(), block_start(0), text(0, " and then"), OVERLOADED)
        second = sse(message_start(), block_start(0), text(0, " more"), stop(0), *end(1))
        mock_anthropic.enqueue(Reply.sse(first), Reply.sse(second))
        messages = [*PARAMS["messages"], {"role": "assistant", "content": "First"}]
        async with client_for(mock_anthropic) as client:
            async with client.messages.stream(
                **{**PARAMS, "messages": messages}, recover=1
            ) as stream:
                await stream.final_message()
        sent = mock_anthropic.requests[1].json["messages"]
        assert sent[-1] == {"role": "assistant", "content": "First and then"}
        assert len(sent) == 2

    async def test_operators_compose(self, mock_anthropic: MockAnthropic) -> None:
        """ops.text_deltas over a recovering stream paints the whole text once."""
        first = sse(message_start(), block_start(0), text(0, "abc"), OVERLOADED)
        second = sse(message_start(), block_start(0), text(0, "def"), stop(0), *end(1))
        mock_anthropic.enqueue(Reply.sse(first), Reply.sse(second))
        async with client_for(mock_anthropic) as client:
            async with client.messages.stream(**PARAMS, recover=1) as stream:
                assert "".join([t async for t in ops.text_deltas(stream)]) == "abcdef"


class TestRefusals:
    async def test_thinking_is_not_continued(self, mock_anthropic: MockAnthropic) -> None:
        """A message with a thinking block is not recovered: the original error, with a note."""
        first = sse(
            message_start(),
            block_start(0, {"type": "thinking", "thinking": "", "signature": ""}),
            {
                "type": "content_block_delta",
                "index": 0,
                "delta": {"type": "thinking_delta", "thinking": "Hmm"},
            },
            OVERLOADED,
        )
        mock_anthropic.enqueue(Reply.sse(first))
        async with client_for(mock_anthropic) as client:
            with pytest.raises(sluice.OverloadedStreamError) as caught:
                async with client.messages.stream(**PARAMS, recover=2) as stream:
                    await stream.final_message()
        notes = " ".join(getattr(caught.value, "__notes__", []))
        assert "did not recover" in notes and "thinking" in notes
        assert len(mock_anthropic.requests) == 1
        assert caught.value.partial_message is not None

    async def test_tool_input_is_not_continued(self, mock_anthropic: MockAnthropic) -> None:
        """A stream cut inside a tool call is not recovered."""
        first = sse(
            message_start(),
            block_start(0, {"type": "tool_use", "id": "toolu_1", "name": "f", "input": {}}),
            {
                "type": "content_block_delta",
                "index": 0,
                "delta": {"type": "input_json_delta", "partial_json": '{"a": '},
            },
        )
        mock_anthropic.enqueue(Reply.sse(first))
        async with client_for(mock_anthropic) as client:
            with pytest.raises(sluice.IncompleteStreamError) as caught:
                async with client.messages.stream(**PARAMS, recover=2) as stream:
                    await stream.final_message()
        assert "tool_use" in " ".join(caught.value.__notes__)

    async def test_budget_runs_out(self, mock_anthropic: MockAnthropic) -> None:
        """After `recover` recoveries the error is raised, carrying every attempt's text."""
        first = sse(message_start(), block_start(0), text(0, "one"), OVERLOADED)
        second = sse(message_start(), block_start(0), text(0, " two"), OVERLOADED)
        mock_anthropic.enqueue(Reply.sse(first), Reply.sse(second))
        async with client_for(mock_anthropic) as client:
            with pytest.raises(sluice.OverloadedStreamError) as caught:
                async with client.messages.stream(**PARAMS, recover=1) as stream:
                    await stream.final_message()
        partial = caught.value.partial_message
        assert partial is not None and partial.content[0].text == "one two"  # type: ignore[union-attr]

    async def test_max_tokens_used_up(self, mock_anthropic: MockAnthropic) -> None:
        """When the failed attempt's (estimated) output uses up max_tokens, no continuation
        is sent: the error says why, and its partial message carries the estimate."""
        first = sse(message_start(), block_start(0), text(0, "x" * 60), OVERLOADED)
        mock_anthropic.enqueue(Reply.sse(first))
        async with client_for(mock_anthropic) as client:
            with pytest.raises(sluice.OverloadedStreamError) as caught:
                async with client.messages.stream(**{**PARAMS, "max_tokens": 20}, recover=1) as s:
                    await s.final_message()
            assert client.usage.total.output_tokens == 20
        assert "max_tokens=20" in " ".join(caught.value.__notes__)
        assert caught.value.partial_message.usage.output_tokens == 20  # type: ignore[union-attr]
        assert len(mock_anthropic.requests) == 1

    async def test_a_failed_continuation_request(self, mock_anthropic: MockAnthropic) -> None:
        """If the continuation request itself fails, the stream's error says so, partial kept."""
        first = sse(message_start(), block_start(0), text(0, "kept"), OVERLOADED)
        mock_anthropic.enqueue(Reply.sse(first), Reply.error(400, "invalid_request_error", "nope"))
        async with client_for(mock_anthropic) as client:
            with pytest.raises(sluice.OverloadedStreamError) as caught:
                async with client.messages.stream(**PARAMS, recover=1) as stream:
                    await stream.final_message()
        assert isinstance(caught.value.__cause__, sluice.BadRequestError)
        assert "tried to recover" in " ".join(caught.value.__notes__)
        assert caught.value.partial_message.content[0].text == "kept"  # type: ignore[union-attr]

    async def test_a_malformed_stream_is_not_recovered(self, mock_anthropic: MockAnthropic) -> None:
        """A malformed event is not a transient failure: no second request."""
        first = (
            sse(message_start(), block_start(0)) + b"event: content_block_delta\ndata: {oops\n\n"
        )
        mock_anthropic.enqueue(Reply.sse(first))
        async with client_for(mock_anthropic) as client:
            with pytest.raises(sluice.EventDecodeError):
                async with client.messages.stream(**PARAMS, recover=3) as stream:
                    await stream.final_message()
        assert len(mock_anthropic.requests) == 1
