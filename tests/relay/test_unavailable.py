"""When Redis is down or stuck: typed 503s, bounded waits, one log line, no hang, no secret."""

from __future__ import annotations

import logging
import socket
from collections.abc import AsyncIterator

import anyio
import httpx
import pytest
from _relay_util import http, running
from httpx_ws import WebSocketDisconnect, aconnect_ws

import sluice
from _redis_util import OwnRedis, fake_redis
from _util import load
from sluice.relay import (
    RedisStore,
    RedisTimeoutError,
    Relay,
    create_app,
    write_stream,
)
from sluice.testing import MockAnthropic, Reply

pytestmark = pytest.mark.anyio

PARAMS = {"model": "m", "max_tokens": 64, "messages": [{"role": "user", "content": "Hi"}]}
AI_SDK = {
    "id": "c",
    "messages": [{"id": "m1", "role": "user", "parts": [{"type": "text", "text": "Hi"}]}],
}


def closed_port() -> int:
    """A port on 127.0.0.1 nobody listens on (connections are refused)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def assert_unavailable(response: httpx.Response) -> None:
    assert response.status_code == 503, response.text
    assert response.headers["content-type"] == "application/json"
    assert response.json()["type"] == "error"
    error = response.json()["error"]
    assert error["type"] == "store_unavailable_error" and "retry" in error["message"]
    assert "s3cret" not in response.text and "127.0.0.1" not in response.text


async def events() -> AsyncIterator[sluice.Event]:
    """The events of a recorded answer, slowly (the store can fail in between)."""
    decoder = sluice.EventStreamDecoder()
    for event in [*decoder.feed(load("text.sse")), *decoder.close()]:
        yield event
        await anyio.sleep(0.05)


class TestUnreachable:
    async def test_every_route_answers_503_json(
        self,
        server: MockAnthropic,
        client: sluice.AsyncClient,
        caplog: pytest.LogCaptureFixture,
        capfd: pytest.CaptureFixture[str],
    ) -> None:
        """Redis refusing connections: each route a 503 JSON error, one log line, no traceback."""
        store = RedisStore(f"redis://:s3cret@127.0.0.1:{closed_port()}/0")
        app = create_app(store=store, client=client)
        with caplog.at_level(logging.WARNING, logger="sluice.relay"):
            async with running(app) as url, http(url) as browser:
                with anyio.fail_after(10):
                    assert_unavailable(await browser.post("/chats", json=PARAMS))
                    assert_unavailable(await browser.get("/chats/c1/stream"))
                    assert_unavailable(await browser.get("/chats/c1/stream?format=vercel"))
                    assert_unavailable(await browser.post("/chats/c1/stop"))
                    assert_unavailable(await browser.post("/vercel/chat", json=AI_SDK))
                    assert_unavailable(await browser.get("/vercel/chat/c/stream"))
                    async with aconnect_ws(f"{url}/chats/c1/ws", browser) as ws:
                        await ws.send_text("0")
                        with pytest.raises(WebSocketDisconnect) as closed:
                            await ws.receive_text()
                    assert closed.value.code == 1011
        lines = [r for r in caplog.records if r.name == "sluice.relay"]
        assert len(lines) == 7
        for record in lines:
            assert record.exc_info is None and "s3cret" not in record.getMessage()
            assert "cannot connect to Redis at redis://<redacted>@127.0.0.1" in record.getMessage()
        assert "Traceback" not in capfd.readouterr().err
        assert server.requests == []

    async def test_a_server_that_never_answers(
        self, server: MockAnthropic, client: sluice.AsyncClient
    ) -> None:
        """A Redis that accepts and never answers: POST /chats is a 503 after the timeout."""
        with fake_redis(None) as redis_url:
            app = create_app(store=RedisStore(redis_url, command_timeout=0.3), client=client)
            async with running(app) as url, http(url) as browser:
                with anyio.fail_after(5):
                    assert_unavailable(await browser.post("/chats", json=PARAMS))
                    assert_unavailable(await browser.get("/chats/c1/stream"))


class TestStuck:
    async def test_the_writer_fails_typed_instead_of_hanging(self, own_redis: OwnRedis) -> None:
        """Redis stops answering mid-generation: write_stream raises RedisTimeoutError."""
        async with RedisStore(own_redis.url, command_timeout=0.3) as store:

            async def pause_once_started() -> None:
                while (info := await store.info("c1")) is None or info.last_id < 2:  # noqa: ASYNC110 - polling the store from outside
                    await anyio.sleep(0.01)
                own_redis.pause(3)

            with anyio.fail_after(10):
                async with anyio.create_task_group() as tg:
                    tg.start_soon(pause_once_started)
                    with pytest.raises(RedisTimeoutError, match="EVAL"):
                        await write_stream(store, "c1", events())

    async def test_shutdown_does_not_hang_on_a_stuck_store(
        self, server: MockAnthropic, client: sluice.AsyncClient, own_redis: OwnRedis
    ) -> None:
        """Leaving a Relay while Redis is stuck takes about the command timeout, not forever."""
        data = load("text.sse")
        server.enqueue(Reply.sse(data, stall_after=len(data) // 2))
        async with RedisStore(own_redis.url, command_timeout=0.3) as store:
            with anyio.fail_after(5):
                async with Relay(store, client) as relay:
                    chat = await relay.start(PARAMS)
                    while (info := await store.info(chat)) is None or info.last_id < 2:  # noqa: ASYNC110 - polling the store from outside
                        await anyio.sleep(0.01)
                    own_redis.pause(10)

    async def test_a_reader_ends_when_redis_dies(
        self,
        server: MockAnthropic,
        client: sluice.AsyncClient,
        own_redis: OwnRedis,
        capfd: pytest.CaptureFixture[str],
    ) -> None:
        """Redis killed under a live SSE reader: the body ends (EventSource reconnects), no traceback."""
        data = load("text.sse")
        server.enqueue(Reply.sse(data, stall_after=len(data) // 2))
        store = RedisStore(own_redis.url, command_timeout=0.3)
        async with running(create_app(store=store, client=client, heartbeat=0.2)) as url:
            async with http(url) as browser:
                chat = (await browser.post("/chats", json=PARAMS)).json()["id"]
                with anyio.fail_after(10):
                    async with browser.stream("GET", f"/chats/{chat}/stream") as response:
                        seen = b""
                        async for chunk in response.aiter_bytes():
                            seen += chunk
                            if b"content_block_delta" in seen and own_redis.process.poll() is None:
                                own_redis.process.kill()
                                own_redis.process.wait()
        assert b"content_block_delta" in seen
        assert "Traceback" not in capfd.readouterr().err
