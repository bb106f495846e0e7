"""sluice.testing's scripted turns and conversations: the events they stream and the checks."""

from __future__ import annotations

import json

import anyio
import pytest

import sluice
from sluice.testing import (
    Conversation,
    MockAnthropic,
    RecordedRequest,
    Turn,
    pause,
    thinking,
    tool_use,
)


def accumulate(turn: Turn) -> sluice.Message:
    accumulator = sluice.MessageAccumulator()
    for event in turn.events():
        accumulator.feed(sluice.decode_event(json.dumps(event).encode()))
    return accumulator.finish()


class TestTurn:
    def test_content_becomes_a_message(self) -> None:
        """Text, thinking, client and server tool calls and a raw block accumulate as given."""
        result = {"type": "web_search_tool_result", "tool_use_id": "srvtoolu_1", "content": []}
        turn = Turn(
            thinking("Hmm.", signature="sig"),
            "Hello ",
            tool_use("web_search", {"query": "q"}, server=True, id="srvtoolu_1"),
            result,
            tool_use("get_weather", {"city": "Paris", "days": [1, 2]}, id="toolu_1"),
            model="claude-opus-4-5",
        )
        message = accumulate(turn)
        assert sluice.to_builtins(message.content) == [
            {"type": "thinking", "thinking": "Hmm.", "signature": "sig"},
            {"type": "text", "text": "Hello "},
            {
                "type": "server_tool_use",
                "id": "srvtoolu_1",
                "name": "web_search",
                "input": {"query": "q"},
            },
            result,
            {
                "type": "tool_use",
                "id": "toolu_1",
                "name": "get_weather",
                "input": {"city": "Paris", "days": [1, 2]},
            },
        ]
        assert (message.stop_reason, message.model) == ("tool_use", "claude-opus-4-5")
        assert turn.tool_uses == [turn.content[-1]]

    def test_deltas_are_chunked_like_the_api(self) -> None:
        """Text arrives in chunk-size pieces; tool JSON too, after an empty first fragment."""
        turn = Turn("abcdefgh", tool_use("f", {"k": "v"}), chunk=3)
        deltas = [e["delta"] for e in turn.events() if e["type"] == "content_block_delta"]
        assert [d["text"] for d in deltas if d["type"] == "text_delta"] == ["abc", "def", "gh"]
        fragments = [d["partial_json"] for d in deltas if d["type"] == "input_json_delta"]
        assert fragments[0] == "" and "".join(fragments) == '{"k":"v"}'
        assert all(len(f) <= 3 for f in fragments)

    def test_stop_reason_and_usage(self) -> None:
        """tool_use is inferred from client calls; usage is given or estimated."""
        assert Turn("hi").stop_reason == "end_turn"
        assert Turn(tool_use("f")).stop_reason == "tool_use"
        assert Turn(tool_use("web_search", server=True)).stop_reason == "end_turn"
        message = accumulate(
            Turn("x" * 40, usage={"input_tokens": 7, "output_tokens": 3}, stop_reason="max_tokens")
        )
        assert (message.usage.input_tokens, message.usage.output_tokens) == (7, 3)
        assert message.stop_reason == "max_tokens"
        assert accumulate(Turn("x" * 40)).usage.output_tokens == 10

    def test_truncated_tool_input(self) -> None:
        """truncate= streams only the first characters of the input's JSON."""
        fragments = [
            e["delta"]["partial_json"]
            for e in Turn(
                tool_use("f", {"text": "abcdef"}, truncate=10), stop_reason="max_tokens"
            ).events()
            if e["type"] == "content_block_delta"
        ]
        assert "".join(fragments) == '{"text":"a'

    def test_bad_options(self) -> None:
        """A negative delay or pause, or a chunk below 1, is refused."""
        with pytest.raises(ValueError):
            Turn("x", delay=-1)
        with pytest.raises(ValueError):
            Turn("x", chunk=0)
        with pytest.raises(ValueError):
            pause(-0.1)


@pytest.mark.anyio
class TestServed:
    async def test_a_turn_is_a_reply(
        self, server: MockAnthropic, client: sluice.AsyncClient
    ) -> None:
        """A Turn can be enqueued like a Reply and streams its message."""
        server.enqueue(Turn("Hello!", delay=0.001))
        async with client.messages.stream(
            model="m", max_tokens=10, messages=[{"role": "user", "content": "Hi"}]
        ) as s:
            assert await s.final_text() == "Hello!"

    async def test_pauses_hold_the_next_block(
        self, server: MockAnthropic, client: sluice.AsyncClient
    ) -> None:
        """A pause delays the next block by at least its length."""
        server.enqueue(Turn("first", pause(0.15), "second"))
        times: dict[int, float] = {}
        async with client.messages.stream(
            model="m", max_tokens=10, messages=[{"role": "user", "content": "Hi"}]
        ) as s:
            async for event in s:
                if isinstance(event, sluice.ContentBlockStart):
                    times[event.index] = anyio.current_time()
        assert times[1] - times[0] >= 0.14

    async def test_conversation_checks_tool_results(
        self, server: MockAnthropic, client: sluice.AsyncClient
    ) -> None:
        """A request that does not answer the calls in order gets a 400 saying so."""
        conversation = Conversation(
            Turn(tool_use("f", id="toolu_1"), tool_use("f", id="toolu_2")),
            Turn("done"),
        )
        server.route("POST", "/v1/messages", conversation)
        messages = [{"role": "user", "content": "Hi"}]
        async with client.messages.stream(model="m", max_tokens=10, messages=messages) as s:
            first = await s.final_message()
        wrong = [
            *messages,
            {"role": "assistant", "content": sluice.to_builtins(first.content)},
            {
                "role": "user",
                "content": [{"type": "tool_result", "tool_use_id": "toolu_2", "content": "x"}],
            },
        ]
        with pytest.raises(sluice.BadRequestError, match=r"answer \['toolu_1', 'toolu_2'\]"):
            async with client.messages.stream(model="m", max_tokens=10, messages=wrong) as s:
                pass
        with pytest.raises(AssertionError, match="toolu_1"):
            conversation.verify()

    @pytest.mark.parametrize(
        ("answered", "ok"), [(["toolu_1", "toolu_2"], True), (["toolu_2"], False)]
    )
    async def test_a_continued_turn_is_answered_whole(
        self, answered: list[str], ok: bool, server: MockAnthropic, client: sluice.AsyncClient
    ) -> None:
        """After a turn continued past pause_turn, its paused part's calls are answered first."""
        conversation = Conversation(
            Turn(tool_use("f", id="toolu_1"), stop_reason="pause_turn"),
            Turn(tool_use("f", id="toolu_2")),
            Turn("done"),
        )
        server.route("POST", "/v1/messages", conversation)
        messages: list[dict[str, object]] = [{"role": "user", "content": "Hi"}]
        content: list[object] = []
        for _ in range(2):
            sent = [*messages, {"role": "assistant", "content": content}] if content else messages
            async with client.messages.stream(model="m", max_tokens=10, messages=sent) as s:
                content += sluice.to_builtins((await s.final_message()).content)
        results = [{"type": "tool_result", "tool_use_id": i, "content": "x"} for i in answered]
        last = [
            *messages,
            {"role": "assistant", "content": content},
            {"role": "user", "content": results},
        ]
        if ok:
            async with client.messages.stream(model="m", max_tokens=10, messages=last) as s:
                await s.final_message()
            conversation.verify()
        else:
            with pytest.raises(sluice.BadRequestError, match=r"answer \['toolu_1', 'toolu_2'\]"):
                async with client.messages.stream(model="m", max_tokens=10, messages=last):
                    pass

    async def test_expect_and_running_out(
        self, server: MockAnthropic, client: sluice.AsyncClient
    ) -> None:
        """expect() returning False fails the request; a request past the script is refused."""

        def no_system(request: RecordedRequest) -> bool:
            return "system" not in request.json

        conversation = Conversation(Turn("ok", expect=no_system))
        server.route("POST", "/v1/messages", conversation)
        params = {"model": "m", "max_tokens": 10, "messages": [{"role": "user", "content": "Hi"}]}
        with pytest.raises(sluice.BadRequestError, match="expect"):
            async with client.messages.stream(**params, system="S"):
                pass
        with pytest.raises(sluice.BadRequestError, match="not scripted"):
            async with client.messages.stream(**params):
                pass
        assert len(conversation.failures) == 2 and conversation.remaining == 0

    async def test_expect_results(self, server: MockAnthropic, client: sluice.AsyncClient) -> None:
        """expect_results checks each tool_result's content (a string) or fields (a mapping)."""

        @sluice.tool
        async def double(x: int) -> str:
            return str(2 * x)

        conversation = Conversation(
            Turn(tool_use("double", {"x": 2}), tool_use("double", {"x": "no"})),
            Turn("4.", expect_results=["4", {"is_error": True}]),
            Turn(tool_use("double", {"x": 1})),
            Turn("Hm.", expect_results=["3"]),
        )
        server.route("POST", "/v1/messages", conversation)
        async with client.messages.run(
            model="m", max_tokens=10, messages=[{"role": "user", "content": "Hi"}], tools=[double]
        ) as run:
            await run.final_message()
        with pytest.raises(sluice.BadRequestError, match=r"tool_result 0: expected '3'"):
            async with client.messages.run(
                model="m",
                max_tokens=10,
                messages=[{"role": "user", "content": "Hi"}],
                tools=[double],
            ) as run:
                await run.final_message()
        assert len(conversation.failures) == 1

    async def test_verify_reports_unplayed_turns(self) -> None:
        """verify() fails when turns were never requested."""
        conversation = Conversation(Turn("a"), Turn("b"))
        with pytest.raises(AssertionError, match="2 of 2"):
            conversation.verify()
