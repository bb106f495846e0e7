"""Agent runs through the relay: every step, with the runner's events, to the run's end."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import anyio
import httpx
import pytest
from _relay_util import STRICT_KEYS, decode_native, http, running, sse_events
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

import sluice
from sluice.relay import (
    Entry,
    MemoryStore,
    Relay,
    Store,
    VercelEncoder,
    sse_response,
    write_stream,
)
from sluice.testing import Conversation, MockAnthropic, Turn, tool_use

pytestmark = pytest.mark.anyio

PARAMS: dict[str, Any] = {
    "model": "claude-sonnet-4-5",
    "max_tokens": 100,
    "messages": [{"role": "user", "content": "Weather in Paris?"}],
}


@sluice.tool
async def get_weather(city: str) -> str:
    """The weather in a city.

    Args:
        city: The city.
    """
    if city == "Atlantis":
        raise sluice.ToolError("no weather under the sea")
    return "18 degrees"


def two_steps(delay: float = 0.0) -> Conversation:
    """Step 1 calls the tool (twice, one failing); step 2 answers."""
    return Conversation(
        Turn(
            "Checking.",
            tool_use("get_weather", {"city": "Paris"}),
            tool_use("get_weather", {"city": "Atlantis"}),
            delay=delay,
        ),
        Turn("It is 18 degrees in Paris.", delay=delay),
    )


def run_of(client: sluice.AsyncClient) -> sluice.Run:
    return client.messages.run(**PARAMS, tools=[get_weather])


async def log_of(store: Store, chat_id: str, after: int = 0) -> list[Entry]:
    return [e async for e in store.read(chat_id, after) if e is not None]


def step_end_reasons(entries: list[Entry]) -> list[str | None]:
    return [json.loads(e.data)["end_reason"] for e in entries if e.event == "step_end"]


class TestWriteRun:
    async def test_the_whole_run_is_written(
        self, server: MockAnthropic, client: sluice.AsyncClient, store: Store
    ) -> None:
        """Every step, tool events included; the log ends at the last step_end, the run's end."""
        server.route("POST", "/v1/messages", two_steps())
        run = run_of(client)
        assert await write_stream(store, "c", run) == "step_end"
        assert run.end_reason == "end_turn" and run.steps == 2
        info = await store.info("c")
        assert info is not None and info.run and info.state == "done"
        entries = await log_of(store, "c")
        events = [e.event for e in entries]
        assert [e.id for e in entries] == list(range(1, len(entries) + 1))
        assert events[0] == "step_start" and events[-1] == "step_end"
        assert events.count("message_stop") == 2 and events.count("step_start") == 2
        assert events.count("tool_start") == events.count("tool_finish") == 2
        assert step_end_reasons(entries) == [None, "end_turn"]
        outcomes = [json.loads(e.data)["outcome"] for e in entries if e.event == "tool_finish"]
        assert sorted(outcomes) == ["error", "ok"]

    async def test_readers_from_anywhere_read_to_the_end(
        self, server: MockAnthropic, client: sluice.AsyncClient, store: Store
    ) -> None:
        """A reader after the first message_stop, or live from before the first entry,
        reads on to the run's end; neither stops at a step's message_stop."""
        server.route("POST", "/v1/messages", two_steps(delay=0.005))
        await store.create("c")
        got: dict[str, list[Entry]] = {}

        async def read(name: str, after: int) -> None:
            got[name] = await log_of(store, "c", after)

        with anyio.fail_after(20):
            async with anyio.create_task_group() as tg:
                tg.start_soon(read, "live", 0)
                tg.start_soon(read, "ahead", 3)  # past the end of the empty log
                await anyio.sleep(0.05)
                await write_stream(store, "c", run_of(client), create=False)
        whole = await log_of(store, "c")
        first_stop = next(e.id for e in whole if e.event == "message_stop")
        assert got["live"] == whole and got["ahead"] == whole[3:]
        assert await log_of(store, "c", first_stop) == whole[first_stop:]

    async def test_stop_mid_run(
        self, server: MockAnthropic, client: sluice.AsyncClient, store: Store
    ) -> None:
        """A stop request during a run ends its log with `stopped` and cancels the run."""
        server.route("POST", "/v1/messages", two_steps(delay=0.05))
        run = run_of(client)
        async with anyio.create_task_group() as tg:
            outcomes: list[str] = []

            async def write() -> None:
                outcomes.append(await write_stream(store, "c", run))

            tg.start_soon(write)
            while (info := await store.info("c")) is None or info.last_id < 3:  # noqa: ASYNC110 - polling the store from outside
                await anyio.sleep(0.01)
            assert await store.request_stop("c")
        assert outcomes == ["stopped"] and run.end_reason == "cancelled"
        assert (await log_of(store, "c"))[-1].event == "stopped"

    async def test_an_iterable_of_run_events(
        self, server: MockAnthropic, client: sluice.AsyncClient
    ) -> None:
        """A source that yields the runner's events (a run inside a generator) is a run too."""
        server.route("POST", "/v1/messages", two_steps())

        async def events() -> AsyncIterator[Any]:
            async with run_of(client) as run:
                async for event in run:
                    yield event

        async with MemoryStore() as store:
            assert await write_stream(store, "c", events()) == "step_end"
            assert step_end_reasons(await log_of(store, "c")) == [None, "end_turn"]

    async def test_a_message_log_is_not_a_run(
        self, server: MockAnthropic, client: sluice.AsyncClient, store: Store
    ) -> None:
        """A plain stream's log is no run and still ends at message_stop."""
        server.enqueue(Turn("Hello."))
        assert await write_stream(store, "c", client.messages.stream(**PARAMS)) == "message_stop"
        info = await store.info("c")
        assert info is not None and not info.run


@asynccontextmanager
async def agent_app(client: sluice.AsyncClient, store: Store) -> AsyncIterator[httpx.AsyncClient]:
    """An app of one's own: POST /agent starts a run through Relay.start_source."""
    relay = Relay(store, client)

    async def start(request: Request) -> Response:
        chat = await relay.start_source(run_of(client))
        return JSONResponse({"id": chat}, status_code=201)

    async def stream(request: Request) -> Response:
        fmt = "vercel" if request.query_params.get("format") == "vercel" else "native"
        return await sse_response(store, request.path_params["chat"], request, format=fmt)

    app = Starlette(
        routes=[
            Route("/agent", start, methods=["POST"]),
            Route("/agent/{chat}/stream", stream),
        ]
    )
    async with store, relay, running(app) as url, http(url) as browser:
        yield browser


class TestRelayRun:
    async def test_an_sse_reader_sees_every_step(
        self, server: MockAnthropic, client: sluice.AsyncClient, store: Store
    ) -> None:
        """Native SSE: steps 1 and 2 with the tool events between, ids dense, to the end."""
        server.route("POST", "/v1/messages", two_steps(delay=0.002))
        async with agent_app(client, store) as browser:
            chat = (await browser.post("/agent")).json()["id"]
            body = (await browser.get(f"/agent/{chat}/stream")).content
            half = sse_events(body)[len(sse_events(body)) // 2]["id"]
            rest = await browser.get(f"/agent/{chat}/stream", headers={"last-event-id": half})
        frames = sse_events(body)
        assert [int(f["id"]) for f in frames] == list(range(1, len(frames) + 1))
        runner = [json.loads(f["data"]) for f in frames if f["event"] in ("step_start", "step_end")]
        assert [(r["type"], r["step"]) for r in runner] == [
            ("step_start", 1),
            ("step_end", 1),
            ("step_start", 2),
            ("step_end", 2),
        ]
        assert runner[-1]["end_reason"] == "end_turn"
        tools = [json.loads(f["data"]) for f in frames if f["event"].startswith("tool_")]
        assert {(t["type"], t["input"]["city"]) for t in tools if t["type"] == "tool_start"} == {
            ("tool_start", "Paris"),
            ("tool_start", "Atlantis"),
        }
        assert sse_events(rest.content) == frames[int(half) :]
        # A sluice client reads the messages, and the runner's events as unknown events.
        events = decode_native(body)
        texts = [
            e.delta.text
            for e in events
            if isinstance(e, sluice.ContentBlockDelta) and isinstance(e.delta, sluice.TextDelta)
        ]
        assert "".join(texts).endswith("It is 18 degrees in Paris.")

    async def test_the_vercel_stream_is_one_message_of_two_steps(
        self, server: MockAnthropic, client: sluice.AsyncClient, store: Store
    ) -> None:
        """?format=vercel: one start, a start-step/finish-step per step, the tool's input and
        output parts (an error result as tool-output-error), one finish; resumable."""
        server.route("POST", "/v1/messages", two_steps(delay=0.002))
        async with agent_app(client, store) as browser:
            chat = (await browser.post("/agent")).json()["id"]
            response = await browser.get(f"/agent/{chat}/stream?format=vercel")
            frames = sse_events(response.content)
            cut = next(f["id"] for f in frames if "finish-step" in f["data"] and "id" in f)
            rest = await browser.get(
                f"/agent/{chat}/stream?format=vercel", headers={"last-event-id": cut}
            )
        parts = [json.loads(f["data"]) for f in frames[:-1]]
        kinds = [p["type"] for p in parts]
        assert all(set(p) <= STRICT_KEYS[p["type"]] for p in parts)
        assert frames[-1]["data"] == "[DONE]"
        assert kinds.count("start") == 1 and kinds[0] == "start"
        assert kinds.count("start-step") == kinds.count("finish-step") == 2
        assert kinds[-1] == "finish" and parts[-1]["finishReason"] == "stop"
        inputs = {p["toolCallId"]: p["input"] for p in parts if p["type"] == "tool-input-available"}
        outputs = {p["toolCallId"]: p for p in parts if p["type"].startswith("tool-output-")}
        assert sorted(i["city"] for i in inputs.values()) == ["Atlantis", "Paris"]
        assert set(outputs) == set(inputs)
        for call, part in outputs.items():
            if inputs[call]["city"] == "Paris":
                assert part == {
                    "type": "tool-output-available",
                    "toolCallId": call,
                    "output": "18 degrees",
                }
            else:
                assert part == {
                    "type": "tool-output-error",
                    "toolCallId": call,
                    "errorText": "no weather under the sea",
                }
            assert kinds.index("finish-step") > [p.get("toolCallId") for p in parts].index(call)
        position = next(i for i, f in enumerate(frames) if f.get("id") == cut)
        assert sse_events(rest.content) == frames[position + 1 :]


class TestVercelRunResume:
    async def test_resuming_a_run_anywhere(
        self, server: MockAnthropic, client: sluice.AsyncClient
    ) -> None:
        """skip() to any entry, from the start or from any window start (resumed, run=True):
        exactly the rest of the full stream, until an entry needs what was dropped."""
        server.route("POST", "/v1/messages", two_steps())
        async with MemoryStore() as store:
            await write_stream(store, "c", run_of(client))
            entries = await log_of(store, "c")
        full = encode(VercelEncoder(), entries)
        for w in range(len(entries)):
            for k in range(w, len(entries) + 1):
                encoder = VercelEncoder(resumed=w > 0, run=True)
                for entry in entries[w:k]:
                    encoder.skip(entry)
                for index, entry in enumerate(entries[k:], start=k):
                    frames = encoder.encode(entry)
                    if encoder.missing:
                        assert w > 0
                        break
                    assert frames == full[index], (w, k, index)


def encode(encoder: VercelEncoder, entries: list[Entry]) -> list[bytes]:
    return [encoder.encode(entry) for entry in entries]
