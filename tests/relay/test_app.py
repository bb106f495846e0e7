"""The relay's HTTP contract over real servers (uvicorn on asyncio, hypercorn on trio)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import anyio
import httpx
import pytest
from _relay_util import decode_native, entries_of, http, raw_get, receive_until, running, sse_events
from httpx_ws import WebSocketDisconnect, aconnect_ws

import sluice
from _util import load
from conftest import redis_store
from sluice.relay import Entry, MemoryStore, Store, VercelEncoder, create_app
from sluice.testing import MockAnthropic, Reply

pytestmark = pytest.mark.anyio

PARAMS = {"model": "m", "max_tokens": 64, "messages": [{"role": "user", "content": "Hi"}]}
TEXT = "".join(
    e.delta.text
    for e in decode_native(load("text.sse"))
    if isinstance(e, sluice.ContentBlockDelta) and isinstance(e.delta, sluice.TextDelta)
)


@asynccontextmanager
async def relay(
    client: sluice.AsyncClient, store: Store | None = None, **options: Any
) -> AsyncIterator[httpx.AsyncClient]:
    """A relay app served on 127.0.0.1 and an httpx client for it."""
    app = create_app(store=store or MemoryStore(), client=client, **options)
    async with running(app) as url, http(url) as browser:
        yield browser


async def start(browser: httpx.AsyncClient, params: dict[str, Any] = PARAMS) -> str:
    """POST /chats; the chat id."""
    response = await browser.post("/chats", json=params)
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


async def read_until(chunks: AsyncIterator[bytes], marker: bytes) -> bytes:
    """Read a streamed body until ``marker`` has arrived (the rest stays unread)."""
    seen = b""
    async for chunk in chunks:
        seen += chunk
        if marker in seen:
            return seen
    raise AssertionError(f"{marker!r} never arrived; got {seen[-200:]!r}")


def text_of(events: list[Any]) -> str:
    return "".join(
        e.delta.text
        for e in events
        if isinstance(e, sluice.ContentBlockDelta) and isinstance(e.delta, sluice.TextDelta)
    )


class TestStream:
    async def test_post_then_stream_the_whole_message(
        self, server: MockAnthropic, client: sluice.AsyncClient
    ) -> None:
        """201 with an id, then text/event-stream with ids 1..n that decodes to the message."""
        server.enqueue(Reply.sse(load("text.sse"), delay=0.005))
        async with relay(client) as browser:
            chat = await start(browser)
            response = await browser.get(f"/chats/{chat}/stream")
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        assert response.headers["cache-control"] == "no-cache"
        assert response.headers["x-accel-buffering"] == "no"
        frames = sse_events(response.content)
        assert [int(f["id"]) for f in frames] == list(range(1, len(frames) + 1))
        events = decode_native(response.content)
        assert text_of(events) == TEXT and isinstance(events[-1], sluice.MessageStop)

    @pytest.mark.parametrize("how", ["header", "query"])
    async def test_resume_from_last_event_id_or_after(
        self, server: MockAnthropic, client: sluice.AsyncClient, how: str
    ) -> None:
        """Reading from a position gives exactly the rest: no second message_start, no gap."""
        server.enqueue(Reply.sse(load("text.sse")))
        async with relay(client) as browser:
            chat = await start(browser)
            whole = (await browser.get(f"/chats/{chat}/stream")).content
            frames = sse_events(whole)
            cut = frames[len(frames) // 2]["id"]
            if how == "header":
                rest = await browser.get(f"/chats/{chat}/stream", headers={"last-event-id": cut})
            else:
                rest = await browser.get(f"/chats/{chat}/stream", params={"after": cut})
        resumed = sse_events(rest.content)
        assert resumed == frames[len(frames) // 2 + 1 :]
        assert all(f["event"] != "message_start" for f in resumed)

    async def test_statuses(self, server: MockAnthropic, client: sluice.AsyncClient) -> None:
        """404 unknown chat, 204 pending chat or read to its end, 400 malformed position."""
        server.enqueue(Reply.sse(load("text.sse")))
        store = MemoryStore()
        async with relay(client, store) as browser:
            assert (await browser.get("/chats/nope/stream")).status_code == 404
            assert (await browser.get("/chats/a%2Fb/stream")).status_code == 404
            await store.create("waiting", state="pending")
            assert (await browser.get("/chats/waiting/stream")).status_code == 204
            chat = await start(browser)
            last = sse_events((await browser.get(f"/chats/{chat}/stream")).content)[-1]["id"]
            done = await browser.get(f"/chats/{chat}/stream", headers={"last-event-id": last})
            assert done.status_code == 204
            bad = await browser.get(f"/chats/{chat}/stream", params={"after": "-1"})
            assert bad.status_code == 400
            assert (await browser.get(f"/chats/{chat}/stream?format=xml")).status_code == 400

    async def test_bad_requests_create_nothing(
        self, server: MockAnthropic, client: sluice.AsyncClient
    ) -> None:
        """Parameters the API would reject: 400 with the reason; a huge body: 413."""
        async with relay(client, max_body=1000) as browser:
            response = await browser.post("/chats", json={**PARAMS, "max_tokens": 0})
            assert response.status_code == 400
            assert response.json()["error"]["type"] == "invalid_request_error"
            assert (await browser.post("/chats", content=b"[1, 2]")).status_code == 400
            assert (await browser.post("/chats", content=b"{nope")).status_code == 400
            big = {**PARAMS, "system": "x" * 2000}
            assert (await browser.post("/chats", json=big)).status_code == 413
        assert server.requests == []

    async def test_heartbeat_comments_while_the_model_is_quiet(
        self, server: MockAnthropic, client: sluice.AsyncClient
    ) -> None:
        """A stalled upstream still sends `: heartbeat` comments to readers."""
        data = load("text.sse")
        server.enqueue(Reply.sse(data, stall_after=len(data) // 2))
        async with relay(client, heartbeat=0.1) as browser:
            chat = await start(browser)
            async with browser.stream("GET", f"/chats/{chat}/stream") as response:
                chunks = response.aiter_bytes()
                seen = await read_until(chunks, b": heartbeat")
                await browser.post(f"/chats/{chat}/stop")
                seen += b"".join([c async for c in chunks])
        assert b": heartbeat\n\n" in seen


class TestDetached:
    async def test_a_disconnect_does_not_stop_the_generation(
        self, server: MockAnthropic, client: sluice.AsyncClient
    ) -> None:
        """The browser leaves after a few events; the model goes on and the log completes."""
        server.enqueue(Reply.sse(load("text.sse"), delay=0.01))
        async with relay(client) as browser:
            chat = await start(browser)
            async with raw_get(str(browser.base_url), f"/chats/{chat}/stream") as sock:
                await receive_until(sock, b"id: 1\n")
            with anyio.fail_after(10):
                whole = (await browser.get(f"/chats/{chat}/stream")).content
        assert text_of(decode_native(whole)) == TEXT

    async def test_a_slow_reader_does_not_stall_the_others(
        self, server: MockAnthropic, client: sluice.AsyncClient
    ) -> None:
        """One reader that stops reading; another reads the whole message meanwhile."""
        server.enqueue(Reply.sse(load("long_text.sse")))
        async with relay(client) as browser:
            chat = await start(browser)
            async with raw_get(str(browser.base_url), f"/chats/{chat}/stream") as stuck:
                await receive_until(stuck, b"id: 1\n")
                with anyio.fail_after(20):
                    fast = (await browser.get(f"/chats/{chat}/stream")).content
                assert isinstance(decode_native(fast)[-1], sluice.MessageStop)

    async def test_stop_ends_the_stream_with_a_marker_and_keeps_the_partial(
        self, server: MockAnthropic, client: sluice.AsyncClient
    ) -> None:
        """POST /stop: the reader's stream ends with `stopped`; the text so far is kept."""
        data = load("text.sse")
        server.enqueue(Reply.sse(data, stall_after=len(data) // 2))
        async with relay(client) as browser:
            chat = await start(browser)
            async with browser.stream("GET", f"/chats/{chat}/stream") as response:
                chunks = response.aiter_bytes()
                seen = await read_until(chunks, b"content_block_delta")
                stopped = await browser.post(f"/chats/{chat}/stop")
                assert stopped.json() == {"id": chat, "stopping": True}
                seen += b"".join([c async for c in chunks])
            again = await browser.post(f"/chats/{chat}/stop")
            assert again.json()["stopping"] is False
            assert (await browser.post("/chats/nope/stop")).status_code == 404
        frames = sse_events(seen)
        assert frames[-1]["event"] == "stopped"
        assert text_of(decode_native(seen)) and TEXT.startswith(text_of(decode_native(seen)))

    async def test_an_upstream_error_reaches_every_reader(
        self, server: MockAnthropic, client: sluice.AsyncClient
    ) -> None:
        """An overload mid-stream: each of three readers ends with the typed error event."""
        server.enqueue(
            Reply.sse(load("text.sse"), delay=0.01, inject_error=(6, "overloaded_error", "busy"))
        )
        async with relay(client) as browser:
            chat = await start(browser)
            bodies: list[bytes] = []

            async def read() -> None:
                bodies.append((await browser.get(f"/chats/{chat}/stream")).content)

            async with anyio.create_task_group() as tg:
                for _ in range(3):
                    tg.start_soon(read)
        for body in bodies:
            last = sse_events(body)[-1]
            assert last["event"] == "error"
            assert json.loads(last["data"])["error"] == {
                "type": "overloaded_error",
                "message": "busy",
            }
            stream = sluice.MessageStream(httpx.Response(200, content=body))
            with pytest.raises(sluice.OverloadedStreamError) as caught:
                await stream.final_message()
            assert caught.value.partial_message is not None

    async def test_a_reader_behind_the_cap_gets_an_error_event(
        self, server: MockAnthropic, client: sluice.AsyncClient
    ) -> None:
        """With a small log cap, reading from the start gives log_trimmed_error, not half a text."""
        server.enqueue(Reply.sse(load("long_text.sse")))
        async with relay(client, MemoryStore(max_entries=50)) as browser:
            chat = await start(browser)
            end = {"after": 10**6}  # past the end: 204 once the chat is done
            with anyio.fail_after(20):
                while (await browser.get(f"/chats/{chat}/stream", params=end)).status_code != 204:  # noqa: ASYNC110 - a client polling
                    await anyio.sleep(0.02)
            body = (await browser.get(f"/chats/{chat}/stream")).content
        (frame,) = sse_events(body)
        assert frame["event"] == "error" and "id" not in frame
        assert json.loads(frame["data"])["error"]["type"] == "log_trimmed_error"


class TestVercel:
    async def test_ui_message_stream(
        self, server: MockAnthropic, client: sluice.AsyncClient
    ) -> None:
        """?format=vercel: the v1 header, parts with ids, text equal, then data: [DONE]."""
        server.enqueue(Reply.sse(load("text.sse")))
        async with relay(client) as browser:
            chat = await start(browser)
            response = await browser.get(f"/chats/{chat}/stream", params={"format": "vercel"})
            frames = sse_events(response.content)
            cut = next(f["id"] for f in frames[len(frames) // 2 :] if "id" in f)
            rest = await browser.get(
                f"/chats/{chat}/stream?format=vercel", headers={"last-event-id": cut}
            )
        assert response.headers["x-vercel-ai-ui-message-stream"] == "v1"
        assert response.headers["cache-control"] == "no-cache"
        parts = [f["data"] for f in frames]
        assert parts[-1] == "[DONE]"
        decoded = [json.loads(p) for p in parts[:-1]]
        assert decoded[0]["type"] == "start"
        assert "".join(p["delta"] for p in decoded if p["type"] == "text-delta") == TEXT
        position = next(i for i, f in enumerate(frames) if f.get("id") == cut)
        assert sse_events(rest.content) == frames[position + 1 :]


class TestVercelAfterTheCap:
    @pytest.mark.parametrize("kind", ["memory", "redis"])
    async def test_resume_inside_the_kept_window(
        self, server: MockAnthropic, client: sluice.AsyncClient, kind: str, request: Any
    ) -> None:
        """Once the log passed its cap, ?format=vercel resumes from inside the kept window
        exactly as a reader from the start would go on; before the window: log_trimmed_error."""
        server.enqueue(Reply.sse(load("long_text.sse")))
        if kind == "memory":
            store: Store = MemoryStore(max_entries=50)
        else:
            store = redis_store(request.getfixturevalue("redis_url"), max_entries=50)
        async with relay(client, store) as browser:
            chat = await start(browser)
            end = {"after": 10**6}
            with anyio.fail_after(20):
                while (await browser.get(f"/chats/{chat}/stream", params=end)).status_code != 204:  # noqa: ASYNC110 - a client polling
                    await anyio.sleep(0.02)
            info = await store.info(chat)
            assert info is not None and info.last_id > 300
            kept = await store.entries(chat, 0, 1)
            assert kept[0].id > 1  # the log's start is gone
            near = info.last_id - 5
            resumed = await browser.get(
                f"/chats/{chat}/stream?format=vercel", headers={"last-event-id": str(near)}
            )
            behind = await browser.get(
                f"/chats/{chat}/stream?format=vercel", headers={"last-event-id": "3"}
            )
        frames = sse_events(resumed.content)
        expected = vercel_frames_of(load("long_text.sse"))
        position = next(i for i, f in enumerate(expected) if f.get("id") == str(near))
        assert frames == expected[position + 1 :]
        assert frames[-1]["data"] == "[DONE]"
        (error, finish, done) = sse_events(behind.content)
        assert json.loads(error["data"])["errorText"].startswith("log_trimmed_error: ")
        assert json.loads(finish["data"]) == {"type": "finish", "finishReason": "error"}
        assert "id" not in error and done["data"] == "[DONE]"

    async def test_a_tool_call_cut_by_the_cap_is_an_error(
        self, server: MockAnthropic, client: sluice.AsyncClient
    ) -> None:
        """Resuming inside a tool call whose start the cap dropped: log_trimmed_error, no guess."""
        entries = entries_of("tool_use.sse")
        tool = next(
            e.id for e in entries if e.event == "content_block_start" and b'"tool_use"' in e.data
        )
        store = MemoryStore(max_entries=len(entries) - tool - 1)
        await store.create("c1")
        await store.append("c1", 1, [(e.event, e.data) for e in entries])
        await store.set_state("c1", "done")
        async with relay(client, store) as browser:
            response = await browser.get(
                "/chats/c1/stream?format=vercel", headers={"last-event-id": str(tool + 2)}
            )
        error, finish, done = sse_events(response.content)
        text = json.loads(error["data"])["errorText"]
        assert text.startswith("log_trimmed_error: ") and "UI message stream needs" in text
        assert "id" not in error and done["data"] == "[DONE]"
        assert json.loads(finish["data"])["finishReason"] == "error"


def vercel_frames_of(transcript: bytes) -> list[dict[str, str]]:
    """The whole UI message stream a reader from the start gets, for a recorded answer."""
    encode = sluice.ops.SSEEncoder(include_ids=False).encode
    encoder = VercelEncoder()
    body = b""
    events = [e for e in decode_native(transcript) if not isinstance(e, sluice.Ping)]
    for number, event in enumerate(events, start=1):
        frame = encode(event)
        end = frame.index(b"\n")
        body += encoder.encode(Entry(number, frame[7:end].decode(), frame[end + 7 : -2]))
    return sse_events(body)


class TestWebSocket:
    async def test_events_over_a_websocket_and_resume(
        self, server: MockAnthropic, client: sluice.AsyncClient
    ) -> None:
        """The client sends its last id; the relay sends each entry, then closes with 1000."""
        server.enqueue(Reply.sse(load("text.sse"), delay=0.005))
        app = create_app(store=MemoryStore(), client=client)
        async with running(app) as url, http(url) as browser:
            chat = await start(browser)
            messages = await ws_read(browser, f"{url}/chats/{chat}/ws", "0")
            resumed = await ws_read(browser, f"{url}/chats/{chat}/ws", json.dumps({"after": 3}))
            unknown = await ws_close_code(browser, f"{url}/chats/nope/ws")
        assert [m["id"] for m in messages] == list(range(1, len(messages) + 1))
        assert messages[0]["event"] == "message_start" and messages[-1]["event"] == "message_stop"
        assert messages[0]["data"]["type"] == "message_start"
        assert resumed == messages[3:]
        assert unknown == 4404


async def ws_read(browser: httpx.AsyncClient, url: str, hello: str) -> list[Any]:
    """Connect, send ``hello``, collect every entry message until the relay closes."""
    messages = []
    async with aconnect_ws(url, browser) as ws:
        await ws.send_text(hello)
        try:
            while True:
                message = json.loads(await ws.receive_text())
                if message.get("event") != "heartbeat":
                    messages.append(message)
        except WebSocketDisconnect as closed:
            assert closed.code == 1000
    return messages


async def ws_close_code(browser: httpx.AsyncClient, url: str) -> int:
    """The close code the relay answers with after the client's hello."""
    async with aconnect_ws(url, browser) as ws:
        await ws.send_text("0")
        try:
            await ws.receive_text()
        except WebSocketDisconnect as closed:
            return int(closed.code)
    raise AssertionError("the relay did not close")


class TestWebSocketHeartbeat:
    async def test_heartbeats_and_the_stopped_marker(
        self, server: MockAnthropic, client: sluice.AsyncClient
    ) -> None:
        """A quiet generation sends heartbeat messages; a stop ends the socket after `stopped`."""
        data = load("text.sse")
        server.enqueue(Reply.sse(data, stall_after=len(data) // 2))
        app = create_app(store=MemoryStore(), client=client, heartbeat=0.1)
        async with running(app) as url, http(url) as browser:
            chat = await start(browser)
            seen: list[Any] = []
            async with aconnect_ws(f"{url}/chats/{chat}/ws", browser) as ws:
                await ws.send_text("0")
                try:
                    while True:
                        message = json.loads(await ws.receive_text())
                        seen.append(message)
                        if message == {"event": "heartbeat"} and len(seen) < 100:
                            await browser.post(f"/chats/{chat}/stop")
                except WebSocketDisconnect as closed:
                    assert closed.code == 1000
        assert {"event": "heartbeat"} in seen
        assert seen[-1]["event"] == "stopped" and seen[0]["event"] == "message_start"
