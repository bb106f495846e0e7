"""write_stream: a model stream into the log, ending it with exactly one terminal entry."""

from __future__ import annotations

import anyio
import httpx
import msgspec
import pytest
from _relay_util import decode_native

import sluice
from _util import load
from sluice import ops
from sluice.relay import (
    MemoryStore,
    Relay,
    Store,
    StoreFullError,
    VercelEncoder,
    sse_frame,
    write_stream,
)
from sluice.testing import MockAnthropic, Reply

pytestmark = pytest.mark.anyio

PARAMS = {"model": "m", "max_tokens": 64, "messages": [{"role": "user", "content": "Hi"}]}


async def log_of(store: Store, chat_id: str) -> bytes:
    """The chat's whole log as the relay's native SSE."""
    return b"".join([sse_frame(e) async for e in store.read(chat_id) if e is not None])


class TestWriteStream:
    @pytest.mark.parametrize(
        "name", ["text.sse", "thinking.sse", "tool_use.sse", "unknown_types.sse"]
    )
    async def test_the_log_replays_the_model_stream(
        self, server: MockAnthropic, client: sluice.AsyncClient, name: str
    ) -> None:
        """Decoded, the log equals the upstream's events (pings aside) and ends at message_stop."""
        server.enqueue(Reply.sse(load(name)))
        async with MemoryStore() as store:
            outcome = await write_stream(store, "c", client.messages.stream(**PARAMS))
            assert outcome == "message_stop"
            relayed = decode_native(await log_of(store, "c"))
        upstream = [e for e in decode_native(load(name)) if not isinstance(e, sluice.Ping)]
        assert [sluice.to_builtins(e) for e in relayed] == [sluice.to_builtins(e) for e in upstream]
        assert (await store.info("c")).state == "done"  # type: ignore[union-attr]

    async def test_an_in_stream_error_is_typed_and_keeps_what_arrived(
        self, server: MockAnthropic, client: sluice.AsyncClient
    ) -> None:
        """An overload mid-stream ends the log with its error; a sluice reader raises it typed."""
        server.enqueue(Reply.sse(load("text.sse"), inject_error=(5, "overloaded_error", "busy")))
        async with MemoryStore() as store:
            assert await write_stream(store, "c", client.messages.stream(**PARAMS)) == "error"
            body = await log_of(store, "c")
        stream = sluice.MessageStream(
            httpx.Response(200, content=body, headers={"content-type": "text/event-stream"})
        )
        with pytest.raises(sluice.OverloadedStreamError) as caught:
            await stream.final_message()
        assert caught.value.partial_message is not None
        assert caught.value.message == "busy"

    async def test_an_http_error_lands_in_the_log(self, server: MockAnthropic) -> None:
        """A 429 before any event (retries spent) is the log's only entry, with its request id."""
        server.enqueue(Reply.error(429, "rate_limit_error", "slow down"))
        async with (
            sluice.AsyncClient(api_key="k", base_url=server.base_url, max_retries=0) as client,
            MemoryStore() as store,
        ):
            assert await write_stream(store, "c", client.messages.stream(**PARAMS)) == "error"
            (entry,) = [e async for e in store.read("c") if e is not None]
        error = msgspec.json.decode(entry.data)
        assert error["error"] == {"type": "rate_limit_error", "message": "slow down"}
        assert error["request_id"].startswith("req_")

    async def test_a_truncated_stream_is_an_error_not_an_end(
        self, server: MockAnthropic, client: sluice.AsyncClient
    ) -> None:
        """A body cut mid-way ends the log with a typed error after what arrived."""
        data = load("text.sse")
        server.enqueue(Reply.sse(data, drop_after=len(data) // 2))
        async with MemoryStore() as store:
            assert await write_stream(store, "c", client.messages.stream(**PARAMS)) == "error"
            entries = [e async for e in store.read("c") if e is not None]
        error = msgspec.json.decode(entries[-1].data)["error"]
        assert entries[-1].event == "error" and len(entries) > 2
        assert error["type"] in {"incomplete_stream_error", "api_connection_error"}

    async def test_stop_closes_the_upstream_and_keeps_the_partial(
        self, server: MockAnthropic, client: sluice.AsyncClient
    ) -> None:
        """request_stop ends a stalled generation with `stopped`, after what arrived."""
        data = load("text.sse")
        server.enqueue(Reply.sse(data, stall_after=len(data) // 2))
        async with MemoryStore() as store, anyio.create_task_group() as tg:
            outcomes: list[str] = []

            async def run() -> None:
                outcomes.append(await write_stream(store, "c", client.messages.stream(**PARAMS)))

            tg.start_soon(run)
            while (info := await store.info("c")) is None or info.last_id < 2:  # noqa: ASYNC110 - polling the relay from outside, as a client would
                await anyio.sleep(0.01)
            assert await store.request_stop("c")
        assert outcomes == ["stopped"]
        entries = [e async for e in store.read("c") if e is not None]
        assert entries[-1].event == "stopped" and entries[0].event == "message_start"

    async def test_cancelling_the_writer_ends_the_log(
        self, server: MockAnthropic, client: sluice.AsyncClient
    ) -> None:
        """A relay shutting down mid-generation leaves generation_interrupted_error, not silence."""
        data = load("text.sse")
        server.enqueue(Reply.sse(data, stall_after=len(data) // 2))
        async with MemoryStore() as store:
            with anyio.move_on_after(0.3):
                await write_stream(store, "c", client.messages.stream(**PARAMS))
            entries = [e async for e in store.read("c") if e is not None]
        assert msgspec.json.decode(entries[-1].data)["error"]["type"] == (
            "generation_interrupted_error"
        )

    async def test_any_event_iterable_is_a_source(self) -> None:
        """An operator pipeline (here over recorded events) can be written too."""

        async def events():  # type: ignore[no-untyped-def]
            for event in decode_native(load("text.sse")):
                yield event

        async with MemoryStore() as store:
            assert await write_stream(store, "c", ops.map_events(events(), lambda e: e)) == (
                "message_stop"
            )

    async def test_the_api_key_never_reaches_the_log(self, server: MockAnthropic) -> None:
        """Whatever fails, no entry carries the API key."""
        key = "sk-ant-relay-secret-0123456789"
        server.enqueue(
            Reply.error(401, "authentication_error", "invalid x-api-key"),
            Reply.drop(),
        )
        async with (
            sluice.AsyncClient(api_key=key, base_url=server.base_url, max_retries=0) as client,
            MemoryStore() as store,
        ):
            await write_stream(store, "a", client.messages.stream(**PARAMS))
            await write_stream(store, "b", client.messages.stream(**PARAMS))
            body = await log_of(store, "a") + await log_of(store, "b")
        assert b"authentication_error" in body and b"api_connection_error" in body
        assert key.encode() not in body


class TestRelayStart:
    async def test_invalid_tool_input_does_not_end_the_chat(
        self, server: MockAnthropic, client: sluice.AsyncClient, store: Store
    ) -> None:
        """A tool call whose input JSON is invalid: the chat ends with the message's own
        message_stop, the call's input as it came, reported as a Vercel tool-input-error."""
        data = load("tool_use.sse")
        start = data.index(b'"partial_json":"') + len(b'"partial_json":"')
        server.enqueue(Reply.sse(data[:start] + b"]" + data[start:]))
        async with Relay(store, client) as relay:
            chat_id = await relay.start(PARAMS)
            with anyio.fail_after(5):
                entries = [e async for e in store.read(chat_id) if e is not None]
        assert entries[-1].event == "message_stop"
        encoder = VercelEncoder()
        frames = b"".join(encoder.encode(entry) for entry in entries)
        assert b'"type":"tool-input-error"' in frames and b"not valid JSON" in frames
        assert b'"finishReason":"tool-calls"' in frames

    async def test_a_chat_that_cannot_start_is_ended_not_left_running(
        self, server: MockAnthropic, client: sluice.AsyncClient, store: Store
    ) -> None:
        """start(create=False) on a full relay: StoreFullError, and the chat is done with an error."""
        data = load("text.sse")
        server.enqueue(Reply.sse(data, stall_after=len(data) // 2))
        async with Relay(store, client, max_running=1) as relay:
            busy = await relay.start(PARAMS)
            await store.create("turn", state="running")
            with pytest.raises(StoreFullError):
                await relay.start(PARAMS, chat_id="turn", create=False)
            info = await store.info("turn")
            assert info is not None and info.state == "done"
            with anyio.fail_after(5):
                (entry,) = [e async for e in store.read("turn") if e is not None]
            assert msgspec.json.decode(entry.data)["error"]["type"] == "overloaded_error"
            await relay.stop(busy)

    async def test_a_full_relay_creates_nothing(
        self, server: MockAnthropic, client: sluice.AsyncClient, store: Store
    ) -> None:
        """start() on a full relay raises StoreFullError before creating a chat."""
        data = load("text.sse")
        server.enqueue(Reply.sse(data, stall_after=len(data) // 2))
        async with Relay(store, client, max_running=1) as relay:
            busy = await relay.start(PARAMS)
            with pytest.raises(StoreFullError):
                await relay.start(PARAMS, chat_id="other")
            assert await store.info("other") is None
            await relay.stop(busy)
