"""The AI SDK route: what useChat's DefaultChatTransport sends and expects, turn by turn."""

from __future__ import annotations

import json
from typing import Any

import anyio
import pytest
from _relay_util import http, running, sse_events

import sluice
from _util import load
from sluice.relay import MemoryStore, create_app
from sluice.testing import MockAnthropic, Reply

pytestmark = pytest.mark.anyio


def ui_message(role: str, text: str, n: int) -> dict[str, Any]:
    """A UIMessage as useChat keeps it."""
    return {"id": f"m{n}", "role": role, "parts": [{"type": "text", "text": text}]}


def transport_body(chat: str, *messages: dict[str, Any], **extra: Any) -> dict[str, Any]:
    """DefaultChatTransport's POST body."""
    return {
        **extra,
        "id": chat,
        "messages": list(messages),
        "trigger": "submit-message",
        "messageId": None,
    }


def parts(body: bytes) -> list[Any]:
    frames = [f["data"] for f in sse_events(body)]
    return [f if f == "[DONE]" else json.loads(f) for f in frames]


class TestDefaultChatTransport:
    async def test_post_answers_with_the_stream_and_turns_follow(
        self, server: MockAnthropic, client: sluice.AsyncClient
    ) -> None:
        """POST /vercel/chat streams the UI message stream; a second turn is a new generation."""
        server.enqueue(Reply.sse(load("text.sse")), Reply.sse(load("text.sse")))
        app = create_app(
            store=MemoryStore(), client=client, defaults={"model": "m", "max_tokens": 99}
        )
        async with running(app) as url, http(url) as browser:
            first = await browser.post(
                "/vercel/chat",
                json=transport_body(
                    "chat-A", ui_message("system", "Be brief.", 0), ui_message("user", "Hi", 1)
                ),
            )
            assert first.headers["x-vercel-ai-ui-message-stream"] == "v1"
            second = await browser.post(
                "/vercel/chat",
                json=transport_body(
                    "chat-A",
                    ui_message("user", "Hi", 1),
                    ui_message("assistant", "Hello!", 2),
                    ui_message("user", "More", 3),
                    temperature=0.5,
                ),
            )
            resumed = await browser.get("/vercel/chat/chat-A/stream")
        for response in (first, second):
            assert response.status_code == 200
            assert (
                parts(response.content)[0]["type"] == "start"
                and parts(response.content)[-1] == "[DONE]"
            )
        assert resumed.status_code == 204  # nothing in flight any more
        sent = [r.json for r in server.requests]
        assert sent[0] == {
            "model": "m",
            "max_tokens": 99,
            "system": "Be brief.",
            "stream": True,
            "messages": [{"role": "user", "content": "Hi"}],
        }
        assert sent[1]["messages"][-1] == {"role": "user", "content": "More"}
        assert sent[1]["temperature"] == 0.5 and len(sent[1]["messages"]) == 3

    async def test_resume_replays_the_turn_in_flight(
        self, server: MockAnthropic, client: sluice.AsyncClient
    ) -> None:
        """GET {api}/{id}/stream while generating: the whole turn from `start`, then live."""
        server.enqueue(Reply.sse(load("text.sse"), delay=0.01))
        app = create_app(
            store=MemoryStore(), client=client, defaults={"model": "m", "max_tokens": 9}
        )
        async with running(app) as url, http(url) as browser:
            async with anyio.create_task_group() as tg:
                results: dict[str, bytes] = {}

                async def post() -> None:
                    body = transport_body("chat-B", ui_message("user", "Hi", 1))
                    results["post"] = (await browser.post("/vercel/chat", json=body)).content

                tg.start_soon(post)
                await anyio.sleep(0.05)
                resumed = await browser.get("/vercel/chat/chat-B/stream")
                results["resume"] = resumed.content
            assert resumed.status_code == 200
        assert parts(results["resume"]) == parts(results["post"])

    async def test_bad_bodies(self, server: MockAnthropic, client: sluice.AsyncClient) -> None:
        """No id, no messages, a conversation not ending with a user: 400; unknown chat: 204."""
        app = create_app(store=MemoryStore(), client=client)
        async with running(app) as url, http(url) as browser:
            for body in (
                {"messages": []},
                {"id": "x", "messages": []},
                transport_body("x", ui_message("assistant", "Hi", 1)),
            ):
                assert (await browser.post("/vercel/chat", json=body)).status_code == 400
            assert (await browser.get("/vercel/chat/never/stream")).status_code == 204
        assert server.requests == []


class TestNoOrphans:
    async def test_a_full_relay_leaves_no_running_turn(
        self, server: MockAnthropic, client: sluice.AsyncClient, make_store: Any
    ) -> None:
        """503 for a turn that cannot start; its resume is 204, not heartbeats forever."""
        data = load("text.sse")
        server.enqueue(Reply.sse(data, stall_after=len(data) // 2))
        store = make_store()
        app = create_app(store=store, client=client, max_running=1, heartbeat=0.1)
        async with running(app) as url, http(url) as browser:
            first = await browser.post(
                "/chats",
                json={
                    "model": "m",
                    "max_tokens": 9,
                    "messages": [{"role": "user", "content": "Hi"}],
                },
            )
            assert first.status_code == 201
            full = await browser.post(
                "/vercel/chat", json=transport_body("chat-X", ui_message("user", "Hi", 1))
            )
            assert full.status_code == 503
            assert full.json()["error"]["type"] == "overloaded_error"
            with anyio.fail_after(5):
                resumed = await browser.get("/vercel/chat/chat-X/stream")
            assert resumed.status_code == 204
            info = await store.info("chat-X--1")
            assert info is None or info.state == "done"
            await browser.post(f"/chats/{first.json()['id']}/stop")
        assert len(server.requests) == 1
