"""client.messages.run: the agent loop over real HTTP against scripted turns, on both backends."""

from __future__ import annotations

import copy
import threading
from typing import Any

import anyio
import httpx
import msgspec
import pytest

import sluice
from sluice import ops
from sluice.testing import Conversation, MockAnthropic, Reply, Turn, pause, thinking, tool_use
from sluice.types import (
    PartialInput,
    StepEnd,
    StepStart,
    ToolFinish,
    ToolStart,
    WebSearchTool,
)

pytestmark = pytest.mark.anyio

USER = [{"role": "user", "content": "Hi"}]


def params(**extra: Any) -> dict[str, Any]:
    return {"model": "claude-sonnet-4-5", "max_tokens": 1024, "messages": USER, **extra}


@sluice.tool
async def get_weather(city: str, unit: str = "c") -> str:
    """Current weather for a city.

    Args:
        city: The city name.
        unit: Temperature unit.
    """
    return f"18{unit} in {city}"


def results_of(message: dict[str, Any]) -> list[dict[str, Any]]:
    assert message["role"] == "user"
    return [block for block in message["content"] if block["type"] == "tool_result"]


def script(server: MockAnthropic, *turns: Turn) -> Conversation:
    conversation = Conversation(*turns)
    server.route("POST", "/v1/messages", conversation)
    return conversation


async def collect(run: sluice.Run) -> list[Any]:
    return [event async for event in run]


class TestLoop:
    async def test_issue_example(self, server: MockAnthropic, client: sluice.AsyncClient) -> None:
        """A tool call, its result sent back, the final answer; messages, usage and cost."""
        conversation = script(
            server,
            Turn(
                "Let me check.",
                tool_use("get_weather", {"city": "Paris"}, id="toolu_1"),
                usage={"input_tokens": 100, "output_tokens": 20},
            ),
            Turn("It is 18c in Paris.", usage={"input_tokens": 150, "output_tokens": 10}),
        )
        async with client.messages.run(**params(), tools=[get_weather], max_steps=10) as run:
            events = await collect(run)
            final = await run.final_message()
        conversation.verify()
        assert final.content[0].text == "It is 18c in Paris."  # type: ignore[union-attr]
        assert [m["role"] for m in run.messages] == ["user", "assistant", "user", "assistant"]
        assert run.messages[1]["content"][1] == {
            "type": "tool_use",
            "id": "toolu_1",
            "name": "get_weather",
            "input": {"city": "Paris"},
        }
        assert results_of(run.messages[2]) == [
            {"type": "tool_result", "tool_use_id": "toolu_1", "content": "18c in Paris"}
        ]
        assert server.requests[1].json["messages"] == run.messages[:3]
        assert (run.usage.input_tokens, run.usage.output_tokens) == (250, 30)
        assert run.cost == pytest.approx((250 * 3 + 30 * 15) / 1e6)
        assert run.steps == 2 and run.end_reason == "end_turn"
        kinds = [
            type(e) for e in events if isinstance(e, StepStart | StepEnd | ToolStart | ToolFinish)
        ]
        assert kinds == [StepStart, ToolStart, ToolFinish, StepEnd, StepStart, StepEnd]
        assert isinstance(events[1], sluice.MessageStart)

    async def test_tools_are_sent_with_every_request(
        self, server: MockAnthropic, client: sluice.AsyncClient
    ) -> None:
        """Function tools go as definitions; raw dicts and server tools pass through untouched."""
        raw = {"name": "lookup", "description": "raw", "input_schema": {"type": "object"}}
        script(server, Turn("Done."))
        tools = [get_weather, raw, WebSearchTool(max_uses=2)]
        async with client.messages.run(**params(), tools=tools) as run:
            await run.final_message()
        sent = server.requests[0].json["tools"]
        assert sent == [
            get_weather.definition,
            raw,
            {"type": "web_search_20250305", "name": "web_search", "max_uses": 2},
        ]

    async def test_final_message_without_iterating(
        self, server: MockAnthropic, client: sluice.AsyncClient
    ) -> None:
        """final_message() runs the loop to its end when nobody iterates."""
        script(server, Turn(tool_use("get_weather", {"city": "Rome"})), Turn("Warm."))
        async with client.messages.run(**params(), tools=[get_weather]) as run:
            final = await run.final_message()
        assert final.stop_reason == "end_turn" and run.steps == 2

    async def test_server_tool_calls_are_not_run(
        self, server: MockAnthropic, client: sluice.AsyncClient
    ) -> None:
        """A server_tool_use block is the API's to run: no result is sent for it."""
        script(
            server,
            Turn("Searching.", tool_use("web_search", {"query": "x"}, server=True), "Found it."),
        )
        async with client.messages.run(**params(), tools=[get_weather]) as run:
            events = await collect(run)
        assert not any(isinstance(e, ToolStart | ToolFinish) for e in events)
        assert run.end_reason == "end_turn" and len(run.messages) == 2

    async def test_thinking_goes_back_with_its_signature(
        self, server: MockAnthropic, client: sluice.AsyncClient
    ) -> None:
        """A thinking block before the call is sent back whole, signature included."""
        script(
            server,
            Turn(
                thinking("Weather first.", signature="c2ln"), tool_use("get_weather", {"city": "X"})
            ),
            Turn("Done."),
        )
        async with client.messages.run(**params(), tools=[get_weather]) as run:
            await run.final_message()
        sent = server.requests[1].json["messages"][1]["content"][0]
        assert sent == {"type": "thinking", "thinking": "Weather first.", "signature": "c2ln"}

    async def test_cost_is_none_for_an_unpriced_model(
        self, server: MockAnthropic, client: sluice.AsyncClient
    ) -> None:
        """A model missing from the price table makes the cost unknown, unless priced."""
        script(
            server,
            Turn("Hi.", model="claude-next", usage={"input_tokens": 10, "output_tokens": 10}),
        )
        async with client.messages.run(**params(model="claude-next")) as run:
            await run.final_message()
        assert run.cost is None and run.usage.input_tokens == 10
        price = {"input": 1, "output": 2, "cache_write_5m": 0, "cache_write_1h": 0, "cache_read": 0}
        script(
            server,
            Turn("Hi.", model="claude-next", usage={"input_tokens": 10, "output_tokens": 10}),
        )
        async with client.messages.run(
            **params(model="claude-next"), pricing={"claude-next": price}
        ) as run:
            await run.final_message()
        assert run.cost == pytest.approx(30 / 1e6)

    async def test_iterating_without_entering_is_refused(self, client: sluice.AsyncClient) -> None:
        """Iterating a run outside `async with` says how to use it."""
        run = client.messages.run(**params())
        with pytest.raises(RuntimeError, match="async with"):
            await run.__anext__()

    async def test_bad_parameters_fail_at_the_call(self, client: sluice.AsyncClient) -> None:
        """ParamsError and option errors come at once, before anything is sent."""
        with pytest.raises(sluice.ParamsError):
            client.messages.run(model="m", max_tokens=0, messages=USER)
        with pytest.raises(sluice.ParamsError, match="cost_budget"):
            client.messages.run(model="my-model", max_tokens=10, messages=USER, cost_budget=1.0)

    @pytest.mark.parametrize(
        ("option", "field", "match"),
        [
            ({"max_steps": 0}, "max_steps", "max_steps must be an integer >= 1"),
            ({"buffer_size": 1.5}, "buffer_size", "buffer_size must be an integer >= 1"),
            ({"max_concurrency": 0}, "max_concurrency", "max_concurrency must be"),
            ({"tool_timeout": 0}, "tool_timeout", "positive number of seconds"),
            ({"tool_retries": -1}, "tool_retries", "tool_retries must be >= 0"),
            ({"on_max_tokens": "go"}, "on_max_tokens", "'stop' or 'continue'"),
            ({"tools": [get_weather, get_weather]}, "tools", "unique"),
            ({"pricing": {"claude-sonnet-4-5": {"input": 1}}}, "pricing", "claude-sonnet-4-5"),
        ],
    )
    async def test_bad_options_are_params_errors(
        self, option: dict[str, Any], field: str, match: str, client: sluice.AsyncClient
    ) -> None:
        """A bad option of run() is a ParamsError naming it (still a ValueError)."""
        with pytest.raises(sluice.ParamsError, match=match) as caught:
            client.messages.run(**params(), **option)
        assert caught.value.field == field and isinstance(caught.value, ValueError)


class TestEager:
    async def test_a_tool_starts_at_its_block_stop(
        self, server: MockAnthropic, client: sluice.AsyncClient
    ) -> None:
        """The call starts and finishes while the model still streams the rest of the message."""
        script(
            server,
            Turn(
                tool_use("get_weather", {"city": "Oslo"}), pause(0.2), "More text after the call."
            ),
            Turn("Cold."),
        )
        async with client.messages.run(**params(), tools=[get_weather]) as run:
            events = await collect(run)
        names = [type(e).__name__ for e in events]
        first_stop = names.index("ContentBlockStop")
        assert (
            first_stop
            < names.index("ToolStart")
            < names.index("ToolFinish")
            < names.index("MessageStop")
        )

    async def test_eager_false_waits_for_the_message(
        self, server: MockAnthropic, client: sluice.AsyncClient
    ) -> None:
        """With eager=False the calls start after message_stop."""
        script(
            server,
            Turn(tool_use("get_weather", {"city": "Oslo"}), pause(0.05), "More."),
            Turn("Cold."),
        )
        async with client.messages.run(**params(), tools=[get_weather], eager=False) as run:
            names = [type(e).__name__ for e in await collect(run)]
        assert names.index("MessageStop") < names.index("ToolStart")


class TestConcurrency:
    async def test_calls_run_at_the_same_time(
        self, server: MockAnthropic, client: sluice.AsyncClient
    ) -> None:
        """Three calls are running at once (each waits for the other two)."""
        running = 0
        all_in = anyio.Event()

        @sluice.tool
        async def gather(n: int) -> str:
            nonlocal running
            running += 1
            if running == 3:
                all_in.set()
            await all_in.wait()
            return str(n)

        script(server, Turn(*(tool_use("gather", {"n": n}) for n in range(3))), Turn("Done."))
        with anyio.fail_after(5):
            async with client.messages.run(**params(), tools=[gather]) as run:
                await run.final_message()
        assert [r["content"] for r in results_of(run.messages[2])] == ["0", "1", "2"]

    async def test_max_concurrency_caps_the_calls(
        self, server: MockAnthropic, client: sluice.AsyncClient
    ) -> None:
        """No more than max_concurrency calls run at once."""
        running = peak = 0

        @sluice.tool
        async def work(n: int) -> str:
            nonlocal running, peak
            running += 1
            peak = max(peak, running)
            await anyio.sleep(0.02)
            running -= 1
            return "ok"

        script(server, Turn(*(tool_use("work", {"n": n}) for n in range(5))), Turn("Done."))
        async with client.messages.run(**params(), tools=[work], max_concurrency=2) as run:
            await run.final_message()
        assert peak == 2

    async def test_results_go_back_in_tool_use_order(
        self, server: MockAnthropic, client: sluice.AsyncClient
    ) -> None:
        """Calls finishing in reverse order are still answered in block order."""

        @sluice.tool
        async def wait(seconds: float) -> str:
            await anyio.sleep(seconds)
            return f"{seconds}"

        calls = [
            tool_use("wait", {"seconds": s}, id=f"toolu_{i}")
            for i, s in enumerate((0.06, 0.03, 0.0))
        ]
        script(server, Turn(*calls), Turn("Done."))
        async with client.messages.run(**params(), tools=[wait]) as run:
            events = await collect(run)
        finished = [e.id for e in events if isinstance(e, ToolFinish)]
        assert finished == ["toolu_2", "toolu_1", "toolu_0"]
        assert [r["tool_use_id"] for r in results_of(run.messages[2])] == [
            "toolu_0",
            "toolu_1",
            "toolu_2",
        ]

    async def test_sequential_tools_run_alone(
        self, server: MockAnthropic, client: sluice.AsyncClient
    ) -> None:
        """A sequential call starts after the calls before it and before the calls after it."""
        log: list[str] = []

        @sluice.tool
        async def read(name: str) -> str:
            log.append(f"start {name}")
            await anyio.sleep(0.03)
            log.append(f"end {name}")
            return name

        @sluice.tool(sequential=True)
        async def write(name: str) -> str:
            log.append(f"start {name}")
            await anyio.sleep(0.01)
            log.append(f"end {name}")
            return name

        script(
            server,
            Turn(
                tool_use("read", {"name": "r1"}),
                tool_use("read", {"name": "r2"}),
                tool_use("write", {"name": "w"}),
                tool_use("read", {"name": "r3"}),
            ),
            Turn("Done."),
        )
        async with client.messages.run(**params(), tools=[read, write]) as run:
            await run.final_message()
        w_start, w_end = log.index("start w"), log.index("end w")
        assert {"end r1", "end r2"} <= set(log[:w_start])
        assert log[w_end + 1] == "start r3"
        assert log.index("start r2") < log.index("end r1")  # the reads before it overlapped

    async def test_a_timeout_becomes_an_error_result(
        self, server: MockAnthropic, client: sluice.AsyncClient
    ) -> None:
        """A call that runs past its timeout is cancelled and answered with is_error."""
        cancelled = anyio.Event()

        @sluice.tool(timeout=0.05)
        async def hang() -> str:
            try:
                await anyio.sleep_forever()
            finally:
                cancelled.set()
            return ""  # pragma: no cover

        script(server, Turn(tool_use("hang")), Turn("Never mind."))
        async with client.messages.run(**params(), tools=[hang]) as run:
            events = await collect(run)
        finish = next(e for e in events if isinstance(e, ToolFinish))
        assert finish.outcome == "timeout" and finish.is_error
        assert isinstance(finish.exception, TimeoutError)
        assert "0.05 seconds" in finish.result["content"] and cancelled.is_set()

    async def test_a_sync_tool_times_out_on_time(
        self, server: MockAnthropic, client: sluice.AsyncClient
    ) -> None:
        """A sync tool past its timeout is answered with the timeout error on time; its
        thread runs on in the background and its late result is discarded."""
        release = threading.Event()
        returned = threading.Event()

        @sluice.tool(timeout=0.05)
        def slow(x: int) -> str:
            release.wait(2)
            returned.set()
            return "late result"

        conversation = script(
            server,
            Turn(tool_use("slow", {"x": 1}, id="toolu_s")),
            Turn("Never mind.", expect_results=[{"tool_use_id": "toolu_s", "is_error": True}]),
        )
        try:
            async with client.messages.run(**params(), tools=[slow]) as run:
                events = await collect(run)
            finished_early = not returned.is_set()
        finally:
            release.set()
            await anyio.to_thread.run_sync(returned.wait, 5)
        conversation.verify()
        assert finished_early and run.end_reason == "end_turn"
        (finish,) = [e for e in events if isinstance(e, ToolFinish)]
        assert finish.outcome == "timeout" and finish.is_error and finish.duration < 1
        content = results_of(run.messages[2])[0]["content"]
        assert "0.05 seconds" in content and "may still complete" in content

    async def test_a_timed_out_sync_tool_can_stop_early(
        self, server: MockAnthropic, client: sluice.AsyncClient
    ) -> None:
        """Past its timeout, anyio.from_thread.check_cancelled() raises in the tool's thread."""
        stopped = threading.Event()

        @sluice.tool(timeout=0.05)
        def poll() -> str:
            try:
                for _ in range(400):
                    anyio.from_thread.check_cancelled()
                    threading.Event().wait(0.005)
            except BaseException:
                stopped.set()
                raise
            return "never noticed"  # pragma: no cover

        script(server, Turn(tool_use("poll")), Turn("Ok."))
        async with client.messages.run(**params(), tools=[poll]) as run:
            await run.final_message()
        assert await anyio.to_thread.run_sync(stopped.wait, 5)
        assert results_of(run.messages[2])[0]["is_error"] is True

    async def test_run_level_tool_timeout(
        self, server: MockAnthropic, client: sluice.AsyncClient
    ) -> None:
        """tool_timeout applies to tools without a timeout of their own."""

        @sluice.tool
        async def slow() -> str:
            await anyio.sleep(5)
            return ""  # pragma: no cover

        script(server, Turn(tool_use("slow")), Turn("Ok."))
        async with client.messages.run(**params(), tools=[slow], tool_timeout=0.02) as run:
            await run.final_message()
        assert results_of(run.messages[2])[0]["is_error"] is True


class TestResults:
    async def test_an_exception_becomes_an_error_result(
        self, server: MockAnthropic, client: sluice.AsyncClient
    ) -> None:
        """Any exception is answered with is_error and its type and message; the run goes on."""

        @sluice.tool
        def broken(x: int) -> str:
            raise KeyError("no such record")

        script(server, Turn(tool_use("broken", {"x": 1})), Turn("Sorry."))
        async with client.messages.run(**params(), tools=[broken]) as run:
            events = await collect(run)
        (result,) = results_of(run.messages[2])
        assert (
            result["is_error"] is True and result["content"] == "Error: KeyError: 'no such record'"
        )
        finish = next(e for e in events if isinstance(e, ToolFinish))
        assert finish.outcome == "error" and isinstance(finish.exception, KeyError)

    async def test_tool_error_carries_blocks(
        self, server: MockAnthropic, client: sluice.AsyncClient
    ) -> None:
        """A ToolError's content (text and an image) is sent as the error result."""
        image = {
            "type": "image",
            "source": {"type": "base64", "media_type": "image/png", "data": "iVBOR"},
        }

        @sluice.tool
        async def render(url: str) -> str:
            raise sluice.ToolError([{"type": "text", "text": "the page failed to load:"}, image])

        script(server, Turn(tool_use("render", {"url": "x"})), Turn("I see."))
        async with client.messages.run(**params(), tools=[render]) as run:
            await run.final_message()
        (result,) = results_of(run.messages[2])
        assert result["is_error"] is True
        assert result["content"] == [{"type": "text", "text": "the page failed to load:"}, image]

    async def test_return_values(self, server: MockAnthropic, client: sluice.AsyncClient) -> None:
        """Data becomes JSON text, None no content, content blocks stay blocks."""

        @sluice.tool
        async def data() -> dict[str, int]:
            return {"a": 1}

        @sluice.tool
        async def nothing() -> None:
            return None

        @sluice.tool
        async def blocks() -> list[dict[str, str]]:
            return [{"type": "text", "text": "hello"}]

        script(server, Turn(tool_use("data"), tool_use("nothing"), tool_use("blocks")), Turn("Ok."))
        async with client.messages.run(**params(), tools=[data, nothing, blocks]) as run:
            await run.final_message()
        contents = [r.get("content") for r in results_of(run.messages[2])]
        assert contents == ['{"a":1}', None, [{"type": "text", "text": "hello"}]]

    async def test_invalid_input_is_explained_within_a_budget(
        self, server: MockAnthropic, client: sluice.AsyncClient
    ) -> None:
        """Invalid input goes back saying what was wrong; too many in a row end the run."""
        script(
            server,
            Turn(tool_use("get_weather", {"town": "Paris"})),
            Turn(tool_use("get_weather", {"city": 3})),
        )
        async with client.messages.run(**params(), tools=[get_weather], tool_retries=1) as run:
            events = await collect(run)
        first, second = (results_of(run.messages[i])[0] for i in (2, 4))
        assert first["is_error"] and "missing required field `city`" in first["content"]
        assert "Expected `str`, got `int` - at `$.city`" in second["content"]
        assert run.end_reason == "tool_retries" and run.steps == 2
        assert [e.outcome for e in events if isinstance(e, ToolFinish)] == ["invalid_input"] * 2

    async def test_a_valid_call_resets_the_budget(
        self, server: MockAnthropic, client: sluice.AsyncClient
    ) -> None:
        """Invalid calls count in a row: a valid one in between starts the count again."""
        script(
            server,
            Turn(tool_use("get_weather", {})),
            Turn(tool_use("get_weather", {"city": "Rome"})),
            Turn(tool_use("get_weather", {})),
            Turn("Done."),
        )
        async with client.messages.run(**params(), tools=[get_weather], tool_retries=1) as run:
            await run.final_message()
        assert run.end_reason == "end_turn"

    async def test_unknown_tool(self, server: MockAnthropic, client: sluice.AsyncClient) -> None:
        """A name no function has is answered with is_error naming the tools there are."""
        script(server, Turn(tool_use("get_wether", {"city": "Paris"})), Turn("Oops."))
        async with client.messages.run(**params(), tools=[get_weather]) as run:
            await run.final_message()
        (result,) = results_of(run.messages[2])
        assert (
            result["is_error"]
            and "'get_wether'" in result["content"]
            and "get_weather" in result["content"]
        )

    async def test_a_raw_definition_the_model_calls_is_answered(
        self, server: MockAnthropic, client: sluice.AsyncClient
    ) -> None:
        """A raw client tool dict is sent as it is; a call to it has nothing to run and
        is answered with is_error saying so."""
        raw = {"name": "lookup", "input_schema": {"type": "object"}}
        script(server, Turn(tool_use("lookup", {})), Turn("Ok."))
        async with client.messages.run(**params(), tools=[get_weather, raw]) as run:
            await run.final_message()
        assert server.requests[0].json["tools"][1] == raw
        (result,) = results_of(run.messages[2])
        assert result["is_error"] and "only as a definition" in result["content"]
        assert "get_weather" in result["content"]


class TestStreamingArguments:
    async def test_the_tool_reads_its_input_as_it_streams(
        self, server: MockAnthropic, client: sluice.AsyncClient
    ) -> None:
        """A streaming tool starts at its block's start and sees the input grow."""

        class Note(msgspec.Struct):
            path: str
            content: str

        seen: list[dict[str, Any]] = []
        started_before_complete = False

        @sluice.tool(streaming=True)
        async def save(args: PartialInput[Note]) -> str:
            nonlocal started_before_complete
            started_before_complete = not args.done
            async for partial in args:
                seen.append(copy.deepcopy(partial))
            return f"saved {len(args.value.content)} chars to {args.value.path}"

        text = "A fairly long note, streamed in small pieces."
        script(
            server,
            Turn(tool_use("save", {"path": "n.txt", "content": text}), chunk=6, delay=0.002),
            Turn("Saved."),
        )
        async with client.messages.run(**params(), tools=[save]) as run:
            events = await collect(run)
        assert started_before_complete
        assert seen[-1] == {"path": "n.txt", "content": text}
        grown = [s["content"] for s in seen if "content" in s]
        assert len(grown) > 2 and all(text.startswith(g) for g in grown)
        names = [type(e).__name__ for e in events]
        assert names.index("ToolStart") < names.index("ContentBlockStop")
        assert results_of(run.messages[2])[0]["content"] == f"saved {len(text)} chars to n.txt"

    @pytest.mark.parametrize("hang", [False, True])
    async def test_the_timeout_counts_from_the_complete_input(
        self, hang: bool, server: MockAnthropic, client: sluice.AsyncClient
    ) -> None:
        """A streaming tool's timeout starts when its input is complete: a model slower
        to write the input than the timeout does not time it out; a tool that then runs
        past it does."""

        class Note(msgspec.Struct):
            content: str

        @sluice.tool(streaming=True, timeout=0.15)
        async def save(args: PartialInput[Note]) -> str:
            async for _ in args:
                pass
            if hang:
                await anyio.sleep_forever()
            return f"saved {len(args.value.content)}"

        script(
            server,
            Turn(tool_use("save", {"content": "x" * 40}), chunk=4, delay=0.03),
            Turn("Ok."),
        )
        async with client.messages.run(**params(), tools=[save]) as run:
            events = await collect(run)
        (finish,) = [e for e in events if isinstance(e, ToolFinish)]
        assert finish.duration > 0.25  # streaming the input took longer than the timeout
        if hang:
            assert finish.outcome == "timeout" and "0.15 seconds" in finish.result["content"]
        else:
            assert finish.outcome == "ok" and finish.result["content"] == "saved 40"

    @pytest.mark.parametrize("option", ["eager", "approval"])
    async def test_started_late_it_reads_the_whole_input(
        self, option: str, server: MockAnthropic, client: sluice.AsyncClient
    ) -> None:
        """With eager=False or an approval hook, a streaming tool gets its input whole."""

        class Note(msgspec.Struct):
            path: str

        seen: list[dict[str, Any]] = []

        @sluice.tool(streaming=True)
        async def save(args: PartialInput[Note]) -> str:
            assert args.done
            seen.extend([dict(partial) async for partial in args])
            return args.value.path

        script(server, Turn(tool_use("save", {"path": "a.txt"})), Turn("Saved."))
        options: dict[str, Any] = (
            {"eager": False} if option == "eager" else {"needs_approval": lambda call: True}
        )
        async with client.messages.run(**params(), tools=[save], **options) as run:
            await run.final_message()
        assert seen == [{"path": "a.txt"}]
        assert results_of(run.messages[2])[0]["content"] == "a.txt"

    async def test_invalid_final_input_cancels_the_tool(
        self, server: MockAnthropic, client: sluice.AsyncClient
    ) -> None:
        """If the complete input does not match, the tool is cancelled and told why."""

        class Note(msgspec.Struct):
            path: str

        cancelled = False

        @sluice.tool(streaming=True)
        async def save(args: PartialInput[Note]) -> str:
            nonlocal cancelled
            try:
                async for _ in args:
                    pass
                await anyio.sleep_forever()
            except anyio.get_cancelled_exc_class():
                cancelled = True
                raise
            return ""  # pragma: no cover

        script(server, Turn(tool_use("save", {"path": 7})), Turn("Hm."))
        async with client.messages.run(**params(), tools=[save]) as run:
            await run.final_message()
        assert cancelled
        assert "Expected `str`, got `int`" in results_of(run.messages[2])[0]["content"]

    async def test_a_call_cut_by_max_tokens_cancels_the_tool(
        self, server: MockAnthropic, client: sluice.AsyncClient
    ) -> None:
        """A streaming tool whose input max_tokens cut short saw it grow, and is cancelled."""

        class Note(msgspec.Struct):
            path: str
            content: str

        seen: list[dict[str, Any]] = []
        cancelled = False

        @sluice.tool(streaming=True)
        async def save(args: PartialInput[Note]) -> str:
            nonlocal cancelled
            try:
                async for partial in args:
                    seen.append(copy.deepcopy(partial))
                await anyio.sleep_forever()
            except anyio.get_cancelled_exc_class():
                cancelled = True
                raise
            return ""  # pragma: no cover

        script(
            server,
            Turn(
                tool_use("save", {"path": "n.txt", "content": "x" * 40}, truncate=35),
                chunk=6,
                delay=0.01,  # the tool reads each piece before the next arrives
                stop_reason="max_tokens",
            ),
        )
        async with client.messages.run(**params(), tools=[save]) as run:
            events = await collect(run)
        assert cancelled and run.end_reason == "max_tokens"
        assert seen[-1]["content"].startswith("x")  # the string grew while it streamed
        assert run.messages[1]["content"][0]["input"] == {"path": "n.txt"}
        (result,) = results_of(run.messages[2])
        assert result["is_error"] and "cut off by max_tokens" in result["content"]
        assert [e.outcome for e in events if isinstance(e, ToolFinish)] == ["cut_off"]

    async def test_a_cut_input_never_shows_its_unfinished_string_gone(self) -> None:
        """Once max_tokens cut the input, a streaming tool that has not read the last pieces
        yet is not shown the input shrinking: nothing more comes before the cancel."""
        assembler = ops.ToolCallAssembler()
        partial: PartialInput[Any] = PartialInput(id="toolu_1", name="save")
        start = b'{"type":"content_block_start","index":0,"content_block":'
        start += b'{"type":"tool_use","id":"toolu_1","name":"save","input":{}}}'
        events = [sluice.decode_event(start)]
        for piece in ['{"path": "n.txt", ', '"content": "xx', "xx"]:
            data = msgspec.json.encode(
                {
                    "type": "content_block_delta",
                    "index": 0,
                    "delta": {"type": "input_json_delta", "partial_json": piece},
                }
            )
            events.append(sluice.decode_event(data))
        for event in events:
            item = assembler.feed(event)
            if isinstance(item, ops.ToolCallDelta):
                partial._update(item)
        stop = sluice.decode_event(b'{"type":"content_block_stop","index":0}')
        assert assembler.feed(stop) is None  # cut: the stop reason comes next
        with anyio.move_on_after(0.05) as scope:
            shown = await partial.__anext__()
        assert scope.cancelled_caught, f"shown after the cut: {shown}"


class TestStopReasons:
    async def test_pause_turn_sends_the_turn_back(
        self, server: MockAnthropic, client: sluice.AsyncClient
    ) -> None:
        """pause_turn re-sends the paused content to continue the same turn; nothing runs."""
        search = tool_use("web_search", {"query": "news"}, server=True, id="srvtoolu_1")
        conversation = script(
            server,
            Turn("Searching. ", search, stop_reason="pause_turn"),
            Turn("Here is the news."),
        )
        async with client.messages.run(**params(), tools=[get_weather]) as run:
            events = await collect(run)
        conversation.verify()
        second = server.requests[1].json["messages"]
        assert second[-1]["role"] == "assistant"
        assert second[-1]["content"] == run.messages[1]["content"][:2]  # sent back as is
        assert [m["role"] for m in run.messages] == ["user", "assistant"]
        assert [b["type"] for b in run.messages[1]["content"]] == [
            "text",
            "server_tool_use",
            "text",
        ]
        ends = [e.end_reason for e in events if isinstance(e, StepEnd)]
        assert ends == [None, "end_turn"]

    async def test_compaction_sends_the_turn_back(
        self, server: MockAnthropic, client: sluice.AsyncClient
    ) -> None:
        """stop_reason compaction (pause_after_compaction) continues the turn, as the
        official runner does: the compaction block goes back as it is; nothing runs."""
        compaction = {"type": "compaction", "content": "Summary of the chat so far."}
        conversation = script(
            server,
            Turn(compaction, stop_reason="compaction"),
            Turn("Carrying on from the summary."),
        )
        async with client.messages.run(**params(), tools=[get_weather]) as run:
            events = await collect(run)
        conversation.verify()
        second = server.requests[1].json["messages"]
        assert second[-1] == {"role": "assistant", "content": [compaction]}
        assert [b["type"] for b in run.messages[1]["content"]] == ["compaction", "text"]
        assert [e.end_reason for e in events if isinstance(e, StepEnd)] == [None, "end_turn"]
        assert run.end_reason == "end_turn" and run.steps == 2

    @pytest.mark.parametrize("slow", [False, True], ids=["done", "running"])
    @pytest.mark.parametrize("then", ["tool_use", "end_turn"])
    async def test_a_call_in_a_paused_turn_runs_once(
        self, then: str, slow: bool, server: MockAnthropic, client: sluice.AsyncClient
    ) -> None:
        """A call whose block completed before pause_turn runs once, started eagerly (done
        or still running when the turn pauses), and its own result answers it when the
        continued turn ends, whether in more calls or in end_turn."""
        called: list[str] = []

        @sluice.tool
        async def send_email(to: str) -> str:
            called.append(to)
            await anyio.sleep(0.1 if slow else 0)
            return f"sent to {to}"

        search = tool_use("web_search", {"query": "x"}, server=True, id="srvtoolu_1")
        paused = Turn(
            "Emailing. ",
            tool_use("send_email", {"to": "bob"}, id="toolu_bob"),
            *([] if slow else [pause(0.05)]),
            search,
            stop_reason="pause_turn",
        )
        if then == "tool_use":
            turns = [
                Turn("And Ann.", tool_use("send_email", {"to": "ann"}, id="toolu_ann")),
                Turn("Both sent.", expect_results=["sent to bob", "sent to ann"]),
            ]
        else:
            turns = [Turn("Sent.")]
        conversation = script(server, paused, *turns)
        async with client.messages.run(**params(), tools=[send_email]) as run:
            events = await collect(run)
        conversation.verify()
        assert called == (["bob", "ann"] if then == "tool_use" else ["bob"])
        finished = [(e.id, e.outcome) for e in events if isinstance(e, ToolFinish)]
        assert finished.count(("toolu_bob", "ok")) == 1 and len(finished) == len(called)
        assert [m["role"] for m in run.messages] == [
            "user",
            "assistant",
            "user",
            *(["assistant"] if then == "tool_use" else []),
        ]
        answers = results_of(run.messages[2])
        assert answers[0] == {
            "type": "tool_result",
            "tool_use_id": "toolu_bob",
            "content": "sent to bob",
        }
        assert run.end_reason == "end_turn"

    async def test_eager_false_runs_a_paused_call_when_the_turn_ends(
        self, server: MockAnthropic, client: sluice.AsyncClient
    ) -> None:
        """With eager=False a call made before pause_turn waits for the end of the turn: it
        runs once if the turn ends in tool_use, and is answered as not run otherwise."""
        called: list[str] = []

        @sluice.tool
        async def act(name: str) -> str:
            called.append(name)
            return "done"

        search = tool_use("web_search", {"query": "x"}, server=True)
        script(
            server,
            Turn(tool_use("act", {"name": "a"}, id="toolu_a"), search, stop_reason="pause_turn"),
            Turn(tool_use("act", {"name": "b"}, id="toolu_b")),
            Turn("Done.", expect_results=["done", "done"]),
        )
        async with client.messages.run(**params(), tools=[act], eager=False) as run:
            await run.final_message()
        assert sorted(called) == ["a", "b"]  # concurrently, once each
        script(
            server,
            Turn(tool_use("act", {"name": "c"}, id="toolu_c"), search, stop_reason="pause_turn"),
            Turn("Never mind."),
        )
        async with client.messages.run(**params(), tools=[act], eager=False) as run:
            await run.final_message()
        assert sorted(called) == ["a", "b"]
        (result,) = results_of(run.messages[-1])
        assert result["tool_use_id"] == "toolu_c" and "not run" in result["content"]

    @pytest.mark.parametrize("reason", ["end_turn", "stop_sequence", "refusal"])
    async def test_ending_stop_reasons(
        self, reason: str, server: MockAnthropic, client: sluice.AsyncClient
    ) -> None:
        """end_turn, stop_sequence and refusal end the run and say so."""
        script(server, Turn("No.", stop_reason=reason))
        async with client.messages.run(**params()) as run:
            events = await collect(run)
        assert run.end_reason == reason
        assert isinstance(events[-1], StepEnd) and events[-1].end_reason == reason

    async def test_max_tokens_never_runs_a_cut_call(
        self, server: MockAnthropic, client: sluice.AsyncClient
    ) -> None:
        """A call cut off by max_tokens is not run; the complete one before it is answered."""
        called: list[str] = []

        @sluice.tool
        async def write(path: str, text: str) -> str:
            called.append(path)
            return "ok"

        script(
            server,
            Turn(
                tool_use("write", {"path": "a", "text": "short"}, id="toolu_a"),
                tool_use("write", {"path": "b", "text": "long " * 20}, id="toolu_b", truncate=30),
                stop_reason="max_tokens",
            ),
        )
        async with client.messages.run(**params(), tools=[write]) as run:
            events = await collect(run)
        assert called == ["a"] and run.end_reason == "max_tokens"
        cut = run.messages[1]["content"][1]
        # As final_message() has it: the complete values, the unfinished string left out.
        assert cut["id"] == "toolu_b" and cut["input"] == {"path": "b"}
        assert "truncated" not in cut  # sluice's mark stays off the wire
        a, b = results_of(run.messages[2])
        assert a == {"type": "tool_result", "tool_use_id": "toolu_a", "content": "ok"}
        assert b["is_error"] and "cut off" in b["content"]
        assert [e.outcome for e in events if isinstance(e, ToolFinish)] == ["ok", "cut_off"]

    async def test_max_tokens_continue_answers_and_goes_on(
        self, server: MockAnthropic, client: sluice.AsyncClient
    ) -> None:
        """on_max_tokens="continue" answers the cut call with an error and takes another step."""

        @sluice.tool
        async def write(path: str, text: str) -> str:
            return "ok"

        conversation = script(
            server,
            Turn(
                tool_use("write", {"path": "b", "text": "x" * 50}, truncate=20),
                stop_reason="max_tokens",
            ),
            Turn(tool_use("write", {"path": "b", "text": "x"})),
            Turn("Written."),
        )
        async with client.messages.run(**params(), tools=[write], on_max_tokens="continue") as run:
            await run.final_message()
        conversation.verify()
        assert run.end_reason == "end_turn" and run.steps == 3

    async def test_max_tokens_continue_sends_the_complete_values_back(
        self, server: MockAnthropic, client: sluice.AsyncClient
    ) -> None:
        """The next request has the cut call with its complete values, answered as cut off."""
        called: list[str] = []

        @sluice.tool
        async def write(path: str, text: str) -> str:
            called.append(path)
            return "ok"

        conversation = script(
            server,
            Turn(
                tool_use("write", {"path": "b", "text": "x" * 50}, id="toolu_b", truncate=20),
                stop_reason="max_tokens",
            ),
            Turn("I will write less."),
        )
        async with client.messages.run(**params(), tools=[write], on_max_tokens="continue") as run:
            events = await collect(run)
        conversation.verify()
        assert called == [] and run.end_reason == "end_turn"
        sent = server.requests[1].json["messages"]
        assert sent[-2]["content"] == [
            {"type": "tool_use", "id": "toolu_b", "name": "write", "input": {"path": "b"}}
        ]
        (result,) = results_of(sent[-1])
        assert result["is_error"] and "cut off by max_tokens" in result["content"]
        assert "not run" in result["content"]
        (finish,) = [e for e in events if isinstance(e, ToolFinish)]
        assert finish.outcome == "cut_off"
        ends = [e for e in events if isinstance(e, StepEnd)]
        cut = ends[0].message.content[0]
        assert isinstance(cut, sluice.ToolUseBlock) and cut.truncated

    async def test_invalid_json_is_answered_and_the_run_goes_on(
        self, server: MockAnthropic, client: sluice.AsyncClient
    ) -> None:
        """Unfinished JSON that max_tokens does not explain is invalid input (fine-grained
        tool streaming may send it): not run, answered with an error, kept in the
        conversation as {"INVALID_JSON": text} as the API documentation suggests, and the
        run goes on."""
        called: list[str] = []

        @sluice.tool
        async def write(path: str, text: str) -> str:
            called.append(path)
            return "ok"

        conversation = script(
            server,
            Turn(
                tool_use("write", {"path": "b", "text": "x" * 50}, id="toolu_b", truncate=20),
                stop_reason="tool_use",
            ),
            Turn("Sorry, I will write it again later."),
        )
        async with client.messages.run(**params(), tools=[write]) as run:
            events = await collect(run)
        conversation.verify()
        assert called == [] and run.end_reason == "end_turn"
        sent = server.requests[1].json["messages"]
        (call,) = sent[1]["content"]
        assert call["input"] == {"INVALID_JSON": '{"path":"b","text":"'}
        (result,) = results_of(sent[2])
        assert result["tool_use_id"] == "toolu_b" and result["is_error"]
        assert "not valid JSON" in result["content"]
        assert [e.outcome for e in events if isinstance(e, ToolFinish)] == ["cut_off"]

    async def test_invalid_json_counts_against_tool_retries(
        self, server: MockAnthropic, client: sluice.AsyncClient
    ) -> None:
        """Invalid JSON again and again ends the run at the tool_retries budget."""

        @sluice.tool
        async def write(path: str, text: str) -> str:
            return "ok"  # pragma: no cover

        bad = tool_use("write", {"path": "b", "text": "x" * 50}, truncate=20)
        script(server, Turn(bad, stop_reason="tool_use"), Turn(bad, stop_reason="tool_use"))
        async with client.messages.run(**params(), tools=[write], tool_retries=1) as run:
            await run.final_message()
        assert run.end_reason == "tool_retries" and run.steps == 2

    async def test_max_tokens_continue_without_calls_resumes(
        self, server: MockAnthropic, client: sluice.AsyncClient
    ) -> None:
        """A cut message without calls is continued like a paused turn."""
        script(server, Turn("The answer is ", stop_reason="max_tokens"), Turn("42."))
        async with client.messages.run(**params(), on_max_tokens="continue") as run:
            await run.final_message()
        assert server.requests[1].json["messages"][-1] == {
            "role": "assistant",
            "content": [{"type": "text", "text": "The answer is"}],
        }
        assert [b["text"] for b in run.messages[1]["content"]] == ["The answer is ", "42."]


class TestLimits:
    async def test_max_steps(self, server: MockAnthropic, client: sluice.AsyncClient) -> None:
        """The run stops after max_steps requests, its last calls answered."""
        server.route(
            "POST",
            "/v1/messages",
            lambda request: Turn(tool_use("get_weather", {"city": "X"})).reply(),
        )
        async with client.messages.run(**params(), tools=[get_weather], max_steps=3) as run:
            await run.final_message()
        assert run.steps == 3 and len(server.requests) == 3 and run.end_reason == "max_steps"
        assert run.messages[-1]["role"] == "user" and results_of(run.messages[-1])

    async def test_a_limit_after_pause_turn_answers_the_paused_calls(
        self, server: MockAnthropic, client: sluice.AsyncClient
    ) -> None:
        """A run that reaches max_steps on a paused turn waits for the calls started in it
        and answers them with their results."""
        search = tool_use("web_search", {"query": "x"}, server=True)
        script(
            server,
            Turn(
                tool_use("get_weather", {"city": "Oslo"}, id="toolu_o"),
                search,
                stop_reason="pause_turn",
            ),
        )
        async with client.messages.run(**params(), tools=[get_weather], max_steps=1) as run:
            events = await collect(run)
        assert run.end_reason == "max_steps" and len(server.requests) == 1
        assert [m["role"] for m in run.messages] == ["user", "assistant", "user"]
        assert results_of(run.messages[2]) == [
            {"type": "tool_result", "tool_use_id": "toolu_o", "content": "18c in Oslo"}
        ]
        ends = [e for e in events if isinstance(e, StepEnd)]
        assert [e.end_reason for e in ends] == ["max_steps"]
        assert isinstance(events[-1], StepEnd)

    async def test_token_and_cost_budgets(
        self, server: MockAnthropic, client: sluice.AsyncClient
    ) -> None:
        """Budgets are checked after each step and end the run once reached."""
        turn = Turn(
            tool_use("get_weather", {"city": "X"}),
            usage={"input_tokens": 1000, "output_tokens": 100},
        )
        server.route("POST", "/v1/messages", lambda request: turn.reply())
        async with client.messages.run(**params(), tools=[get_weather], token_budget=2000) as run:
            await run.final_message()
        assert (run.steps, run.end_reason) == (2, "token_budget")
        async with client.messages.run(**params(), tools=[get_weather], cost_budget=0.01) as run:
            await run.final_message()
        # Each step costs 1000 * $3/M + 100 * $15/M = $0.0045.
        assert (run.steps, run.end_reason) == (3, "cost_budget")
        assert run.cost == pytest.approx(3 * 0.0045)

    async def test_stop_when(self, server: MockAnthropic, client: sluice.AsyncClient) -> None:
        """stop_when sees the run after each step; True ends it."""
        server.route(
            "POST",
            "/v1/messages",
            lambda request: Turn(tool_use("get_weather", {"city": "X"})).reply(),
        )

        async def enough(run: sluice.Run) -> bool:
            return len(run.messages) >= 5

        async with client.messages.run(**params(), tools=[get_weather], stop_when=enough) as run:
            await run.final_message()
        assert (run.steps, run.end_reason) == (2, "stop_when")

    async def test_needs_approval(self, server: MockAnthropic, client: sluice.AsyncClient) -> None:
        """The hook approves (True), refuses (False) or refuses with a reason; async is fine."""
        called: list[str] = []

        @sluice.tool
        async def act(name: str) -> str:
            called.append(name)
            return "done"

        async def approve(call: ops.ToolCall) -> bool | str:
            await anyio.lowlevel.checkpoint()
            return {"ok": True, "no": False}.get(call.input["name"], "The user said not now.")

        script(
            server,
            Turn(*(tool_use("act", {"name": n}) for n in ("ok", "no", "later"))),
            Turn("Fine."),
        )
        async with client.messages.run(**params(), tools=[act], needs_approval=approve) as run:
            events = await collect(run)
        assert called == ["ok"]
        ok, no, later = results_of(run.messages[2])
        assert ok["content"] == "done" and "not approved" in no["content"] and no["is_error"]
        assert later["content"] == "The user said not now."
        assert [e.outcome for e in events if isinstance(e, ToolFinish)].count("denied") == 2

    async def test_a_failing_hook_fails_the_run(
        self, server: MockAnthropic, client: sluice.AsyncClient
    ) -> None:
        """An exception in needs_approval is the run's error (not the tool's answer)."""

        def approve(call: ops.ToolCall) -> bool:
            raise RuntimeError("approval service down")

        script(server, Turn(tool_use("get_weather", {"city": "X"})))
        async with client.messages.run(
            **params(), tools=[get_weather], needs_approval=approve
        ) as run:
            with pytest.raises(RuntimeError, match="approval service down"):
                await run.final_message()
        assert run.end_reason == "error"
        assert results_of(run.messages[-1])[0]["is_error"]  # still answered

    @pytest.mark.parametrize("decision", [None, 1, ["no"]])
    async def test_a_hook_answering_nonsense_is_a_config_error(
        self, decision: object, server: MockAnthropic, client: sluice.AsyncClient
    ) -> None:
        """needs_approval returning neither True, False nor a str fails the run with a
        ConfigError naming the hook and the value; the call is still answered."""
        script(server, Turn(tool_use("get_weather", {"city": "X"})))
        async with client.messages.run(
            **params(), tools=[get_weather], needs_approval=lambda call: decision
        ) as run:
            with pytest.raises(sluice.ConfigError, match="needs_approval hook returned") as caught:
                await run.final_message()
        assert repr(decision) in str(caught.value)
        assert run.end_reason == "error"
        assert results_of(run.messages[-1])[0]["is_error"]


class TestTransforms:
    async def test_transforms_edit_what_is_sent_not_the_conversation(
        self, server: MockAnthropic, client: sluice.AsyncClient
    ) -> None:
        """Each request is pruned and gets the system text; run.messages stays whole."""
        script(
            server,
            Turn(tool_use("get_weather", {"city": "A"})),
            Turn(tool_use("get_weather", {"city": "B"})),
            Turn("Done."),
        )
        transforms = [
            sluice.prune_tool_results(keep_last=1, placeholder="[old]"),
            sluice.inject_system("Be brief."),
        ]
        async with client.messages.run(
            **params(system="You help."), tools=[get_weather], transforms=transforms
        ) as run:
            await run.final_message()
        third = server.requests[2].json
        assert third["system"] == [
            {"type": "text", "text": "You help."},
            {"type": "text", "text": "Be brief."},
        ]
        assert [r["content"] for r in results_of(third["messages"][2])] == ["[old]"]
        assert [r["content"] for r in results_of(third["messages"][4])] == ["18c in B"]
        assert results_of(run.messages[2])[0]["content"] == "18c in A"

    async def test_an_async_transform(
        self, server: MockAnthropic, client: sluice.AsyncClient
    ) -> None:
        """A transform may be a coroutine function, and may edit in place and return None."""

        async def tag(request: dict[str, Any]) -> None:
            request["metadata"] = {"user_id": "u1"}

        script(server, Turn("Ok."))
        async with client.messages.run(**params(), transforms=[tag]) as run:
            await run.final_message()
        assert server.requests[0].json["metadata"] == {"user_id": "u1"}


class TestCancellation:
    async def test_leaving_the_block_cancels_tools_and_answers_them(
        self, server: MockAnthropic, client: sluice.AsyncClient
    ) -> None:
        """Breaking out cancels the running tool; its tool_use still has a tool_result."""
        cancelled = anyio.Event()

        @sluice.tool
        async def forever(x: int) -> str:
            try:
                await anyio.sleep_forever()
            finally:
                cancelled.set()
            return ""  # pragma: no cover

        script(
            server, Turn("Working.", tool_use("forever", {"x": 1}, id="toolu_f")), Turn("Unused.")
        )
        async with client.messages.run(**params(), tools=[forever]) as run:
            async for event in run:
                if isinstance(event, ToolStart):
                    break
        assert cancelled.is_set() and run.end_reason == "cancelled"
        assert [m["role"] for m in run.messages] == ["user", "assistant", "user"]
        (result,) = results_of(run.messages[2])
        assert (
            result["tool_use_id"] == "toolu_f"
            and result["is_error"]
            and "cancelled" in result["content"]
        )
        assert len(server.requests) == 1

    async def test_cancelling_does_not_wait_for_a_sync_tool(
        self, server: MockAnthropic, client: sluice.AsyncClient
    ) -> None:
        """Leaving the block abandons a sync tool's thread: the run stops at once and the
        call is answered as cancelled while the function runs on to its end."""
        started = threading.Event()
        release = threading.Event()
        returned = threading.Event()

        @sluice.tool
        def crunch(n: int) -> str:
            started.set()
            release.wait(2)
            returned.set()
            return "done"

        script(server, Turn(tool_use("crunch", {"n": 1}, id="toolu_c"), pause(30), "Never."))
        try:
            async with client.messages.run(**params(), tools=[crunch]) as run:
                async for event in run:
                    if isinstance(event, ToolStart):
                        assert await anyio.to_thread.run_sync(started.wait, 5)
                        break
            stopped_early = not returned.is_set()
        finally:
            release.set()
            await anyio.to_thread.run_sync(returned.wait, 5)
        assert stopped_early and run.end_reason == "cancelled"
        (result,) = results_of(run.messages[2])
        assert result["tool_use_id"] == "toolu_c" and "cancelled" in result["content"]

    async def test_cancel_mid_stream_keeps_complete_blocks(
        self, server: MockAnthropic, client: sluice.AsyncClient
    ) -> None:
        """run.cancel() while the model streams: complete blocks kept, started calls answered."""
        script(
            server,
            Turn(
                "Let me see.",
                tool_use("get_weather", {"city": "Paris"}, id="toolu_p"),
                pause(30),
                "Never sent.",
            ),
        )
        async with client.messages.run(**params(), tools=[get_weather]) as run:
            async for event in run:
                if isinstance(event, ToolFinish):
                    run.cancel()
        assert run.end_reason == "cancelled"
        assert [b["type"] for b in run.messages[1]["content"]] == ["text", "tool_use"]
        assert results_of(run.messages[2]) == [
            {"type": "tool_result", "tool_use_id": "toolu_p", "content": "18c in Paris"}
        ]
        with pytest.raises(sluice.RunCancelledError, match="before any step completed"):
            await run.final_message()

    @pytest.mark.parametrize("how", ["break", "cancel", "scope"])
    async def test_the_connection_is_released(self, how: str, server: MockAnthropic) -> None:
        """However the run is stopped mid-stream, its HTTP response is closed."""
        responses: list[httpx.Response] = []

        async def keep(response: httpx.Response) -> None:
            responses.append(response)

        script(server, Turn("Streaming...", pause(30), "never"))
        async with (
            httpx.AsyncClient(event_hooks={"response": [keep]}) as http,
            sluice.AsyncClient(api_key="k", base_url=server.base_url, http_client=http) as client,
        ):
            with anyio.move_on_after(0.3 if how == "scope" else 30):
                async with client.messages.run(**params()) as run:
                    async for event in run:
                        if isinstance(event, sluice.ContentBlockDelta):
                            if how == "break":
                                break
                            if how == "cancel":
                                run.cancel()
        assert run.end_reason == "cancelled"
        assert len(responses) == 1 and responses[0].is_closed

    async def test_an_outer_cancel_scope(
        self, server: MockAnthropic, client: sluice.AsyncClient
    ) -> None:
        """Cancelling the enclosing scope stops everything and leaks nothing."""
        script(server, Turn("Thinking...", pause(30), "Never."))
        with anyio.move_on_after(0.2) as scope:
            async with client.messages.run(**params()) as run:
                await run.final_message()
        assert scope.cancelled_caught and run.end_reason == "cancelled"
        assert run.messages[-1] == {
            "role": "assistant",
            "content": [{"type": "text", "text": "Thinking..."}],
        }

    async def test_closing_an_operator_closes_the_run(
        self, server: MockAnthropic, client: sluice.AsyncClient
    ) -> None:
        """Closing text_deltas over the run cancels the run, as for a stream."""
        script(server, Turn("Hello there.", pause(30), "Never."))
        async with client.messages.run(**params()) as run:
            texts = run.pipe(ops.text_deltas)
            async for _ in texts:
                break
            await texts.aclose()
            assert run.end_reason == "cancelled"

    async def test_a_stream_error_fails_the_run_and_answers_started_calls(
        self, server: MockAnthropic, client: sluice.AsyncClient
    ) -> None:
        """An in-stream error is raised by iteration; calls it interrupted say so."""
        started = anyio.Event()

        @sluice.tool
        async def slow() -> str:
            started.set()
            await anyio.sleep_forever()
            return ""  # pragma: no cover

        turn = Turn(tool_use("slow", id="toolu_s"), pause(0.1), "More")
        events = turn.events()
        server.enqueue(Reply.events(events[:6], inject_error=(6, "overloaded_error", "Overloaded")))
        async with client.messages.run(**params(), tools=[slow]) as run:
            with pytest.raises(sluice.OverloadedError):
                await collect(run)
        assert started.is_set() and run.end_reason == "error"
        (result,) = results_of(run.messages[2])
        assert result["tool_use_id"] == "toolu_s" and "failed" in result["content"]

    @pytest.mark.parametrize("how", ["error", "cancel"])
    async def test_a_paused_turn_is_answered_when_its_continuation_fails(
        self, how: str, server: MockAnthropic, client: sluice.AsyncClient
    ) -> None:
        """If the continuation of a paused turn fails or is cancelled before its first
        event, the paused part's calls are still answered (here with their results)."""
        search = tool_use("web_search", {"query": "x"}, server=True)
        server.enqueue(
            Turn(
                "Looking. ",
                tool_use("get_weather", {"city": "Paris"}, id="toolu_p"),
                pause(0.05),
                search,
                stop_reason="pause_turn",
            ),
            Reply.error(400, "invalid_request_error", "nope")
            if how == "error"
            else Reply.sse(b"", stall_after=0),
        )
        async with client.messages.run(**params(), tools=[get_weather]) as run:
            if how == "error":
                with pytest.raises(sluice.BadRequestError):
                    await run.final_message()
            else:
                async for event in run:
                    if isinstance(event, StepStart) and event.step == 2:
                        run.cancel()
        assert run.end_reason == ("error" if how == "error" else "cancelled")
        assert [m["role"] for m in run.messages] == ["user", "assistant", "user"]
        assert results_of(run.messages[2]) == [
            {"type": "tool_result", "tool_use_id": "toolu_p", "content": "18c in Paris"}
        ]

    async def test_a_paused_call_still_running_is_cancelled_with_the_run(
        self, server: MockAnthropic, client: sluice.AsyncClient
    ) -> None:
        """A call made before pause_turn still running when the run is cancelled during
        the continuation is cancelled and answered so."""
        cancelled = anyio.Event()

        @sluice.tool
        async def forever(x: int) -> str:
            try:
                await anyio.sleep_forever()
            finally:
                cancelled.set()
            return ""  # pragma: no cover

        search = tool_use("web_search", {"query": "x"}, server=True)
        script(
            server,
            Turn(tool_use("forever", {"x": 1}, id="toolu_f"), search, stop_reason="pause_turn"),
            Turn("Still searching.", pause(30), "Never."),
        )
        async with client.messages.run(**params(), tools=[forever]) as run:
            async for event in run:
                if isinstance(event, sluice.ContentBlockStop) and run.steps == 2:
                    break
        assert cancelled.is_set() and run.end_reason == "cancelled"
        assert [m["role"] for m in run.messages] == ["user", "assistant", "user"]
        assert [b["type"] for b in run.messages[1]["content"]] == [
            "tool_use",
            "server_tool_use",
            "text",
        ]
        (result,) = results_of(run.messages[2])
        assert result["tool_use_id"] == "toolu_f" and "cancelled" in result["content"]

    async def test_an_http_error_keeps_earlier_steps(
        self, server: MockAnthropic, client: sluice.AsyncClient
    ) -> None:
        """A 400 on step 2 is raised; the conversation keeps step 1, answered."""
        server.enqueue(
            Turn(tool_use("get_weather", {"city": "X"})),
            Reply.error(400, "invalid_request_error", "nope"),
        )
        async with client.messages.run(**params(), tools=[get_weather]) as run:
            with pytest.raises(sluice.BadRequestError):
                await run.final_message()
        assert [m["role"] for m in run.messages] == ["user", "assistant", "user"]
        assert run.steps == 2 and run.end_reason == "error"
