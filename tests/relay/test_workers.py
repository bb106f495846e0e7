"""Many workers on one Redis: any worker serves any chat, readers survive a worker restart."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager

import anyio
import httpx
import pytest
from _relay_util import ROOT, decode_native, http, raw_get, receive_until, running, sse_events

import sluice
from _util import load
from conftest import redis_store
from sluice.relay import RedisStore, create_app
from sluice.testing import MockAnthropic, Reply

pytestmark = pytest.mark.anyio

PARAMS = {"model": "m", "max_tokens": 64, "messages": [{"role": "user", "content": "Hi"}]}


class TestRedisWorkers:
    async def test_any_worker_serves_any_chat(
        self, server: MockAnthropic, client: sluice.AsyncClient, redis_url: str
    ) -> None:
        """A chat started on worker A is streamed whole by worker B, live."""
        server.enqueue(Reply.sse(load("text.sse"), delay=0.005))
        shared = redis_store(redis_url)
        worker_a = create_app(store=shared, client=client)
        worker_b = create_app(store=RedisStore(redis_url, prefix=shared.prefix), client=client)
        async with running(worker_a) as url_a, running(worker_b) as url_b:
            async with http(url_a) as a, http(url_b) as b:
                chat = (await a.post("/chats", json=PARAMS)).json()["id"]
                body = (await b.get(f"/chats/{chat}/stream")).content
                vercel = (await b.get(f"/chats/{chat}/stream?format=vercel")).content
        events = decode_native(body)
        assert isinstance(events[0], sluice.MessageStart) and isinstance(
            events[-1], sluice.MessageStop
        )
        assert sse_events(vercel)[-1]["data"] == "[DONE]"

    async def test_a_reader_resumes_on_a_new_worker_after_a_restart(
        self, server: MockAnthropic, client: sluice.AsyncClient, redis_url: str
    ) -> None:
        """Worker B dies mid-stream; the reader resumes with Last-Event-ID on worker C."""
        server.enqueue(Reply.sse(load("text.sse"), delay=0.02))
        shared = redis_store(redis_url)
        worker_a = create_app(store=shared, client=client)
        async with running(worker_a) as url_a, http(url_a) as a:
            chat = (await a.post("/chats", json=PARAMS)).json()["id"]
            worker_b = create_app(store=RedisStore(redis_url, prefix=shared.prefix), client=client)
            async with running(worker_b) as url_b, raw_get(url_b, f"/chats/{chat}/stream") as sock:
                seen = await receive_until(sock, b"\nid: 4\n")
                seen = seen.partition(b"\r\n\r\n")[2]  # the body
            # worker B is gone; the reader reconnects elsewhere
            last = [f for f in sse_events(seen) if "id" in f][-1]["id"]
            async with running(
                create_app(store=RedisStore(redis_url, prefix=shared.prefix), client=client)
            ) as url_c:
                async with http(url_c) as c:
                    rest = (
                        await c.get(f"/chats/{chat}/stream", headers={"last-event-id": last})
                    ).content
        frames = [
            f for f in sse_events(seen) if "id" in f and int(f["id"]) <= int(last)
        ] + sse_events(rest)
        assert [int(f["id"]) for f in frames] == list(range(1, len(frames) + 1))
        assert frames[-1]["event"] == "message_stop"

    async def test_stop_from_another_worker(
        self, server: MockAnthropic, client: sluice.AsyncClient, redis_url: str
    ) -> None:
        """POST /stop on worker B stops the generation running on worker A."""
        data = load("text.sse")
        server.enqueue(Reply.sse(data, stall_after=len(data) // 2))
        shared = redis_store(redis_url)
        async with (
            running(create_app(store=shared, client=client)) as url_a,
            running(
                create_app(store=RedisStore(redis_url, prefix=shared.prefix), client=client)
            ) as url_b,
            http(url_a) as a,
            http(url_b) as b,
        ):
            chat = (await a.post("/chats", json=PARAMS)).json()["id"]
            await anyio.sleep(0.2)
            assert (await b.post(f"/chats/{chat}/stop")).json()["stopping"] is True
            with anyio.fail_after(10):
                body = (await b.get(f"/chats/{chat}/stream")).content
        assert sse_events(body)[-1]["event"] == "stopped"


@contextmanager
def relay_process(*args: str, env: dict[str, str] | None = None) -> Iterator[str]:
    """``python -m sluice relay ... --port 0`` in a subprocess; yields its URL."""
    with subprocess.Popen(
        [sys.executable, "-m", "sluice", "relay", "--port", "0", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**os.environ, **(env or {})},
        cwd=ROOT,
        text=True,
    ) as process:
        try:
            assert process.stdout is not None and process.stderr is not None
            line = process.stdout.readline()
            if "listening on" not in line:
                process.kill()
                raise AssertionError(line + process.stderr.read())
            yield line.split("listening on ")[1].split()[0]
        finally:
            process.terminate()
            process.wait(15)


class TestCommandLine:
    @pytest.mark.parametrize("backend", ["asyncio", "trio"])
    def test_python_m_sluice_relay(self, backend: str, redis_url: str) -> None:
        """`python -m sluice relay --mock` (uvicorn or hypercorn, memory or Redis) serves chats."""
        for store in ([], ["--redis", redis_url]):
            with relay_process("--mock", "--mock-delay", "0", "--backend", backend, *store) as url:
                with httpx.Client(base_url=url, timeout=10) as browser:
                    chat = browser.post(
                        "/chats", json={**PARAMS, "messages": [{"role": "user", "content": "ping"}]}
                    )
                    assert chat.status_code == 201
                    body = browser.get(f"/chats/{chat.json()['id']}/stream").content
            events = decode_native(body)
            text = "".join(e.delta.text for e in events if isinstance(e, sluice.ContentBlockDelta))
            assert text.startswith("You asked: ping") and isinstance(events[-1], sluice.MessageStop)

    def test_upstream_from_the_environment_and_no_key_in_output(self) -> None:
        """Without --mock the upstream is ANTHROPIC_BASE_URL; the key is never printed or relayed."""
        key = "sk-ant-cli-secret-987654321"

        async def scenario() -> tuple[bytes, str]:
            async with MockAnthropic() as upstream:
                upstream.route(
                    "POST",
                    "/v1/messages",
                    Reply.error(401, "authentication_error", "invalid x-api-key"),
                )
                env = {"ANTHROPIC_API_KEY": key, "ANTHROPIC_BASE_URL": upstream.base_url}
                with relay_process(env=env) as url:
                    async with http(url) as browser:
                        chat = (await browser.post("/chats", json=PARAMS)).json()["id"]
                        body = (await browser.get(f"/chats/{chat}/stream")).content
                assert upstream.requests[0].headers["x-api-key"] == key
                return body, repr(upstream.requests[0])

        body, recorded = anyio.run(scenario)
        error = json.loads(sse_events(body)[-1]["data"])
        assert error["error"]["type"] == "authentication_error"
        assert key.encode() not in body and key not in recorded


class TestCommandLineErrors:
    @staticmethod
    def relay_exits(*args: str, env: dict[str, str] | None = None) -> tuple[int, str]:
        """``python -m sluice relay ARGS`` that must exit at once: its code and stderr."""
        environ = {k: v for k, v in os.environ.items() if k != "ANTHROPIC_API_KEY"}
        result = subprocess.run(
            [sys.executable, "-m", "sluice", "relay", *args],
            env={**environ, **(env or {})},
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
        return result.returncode, result.stderr

    def test_no_api_key(self) -> None:
        """No key and no --mock: one line saying so, exit 2."""
        code, err = self.relay_exits("--port", "0")
        assert code == 2 and err.count("\n") == 1 and "Traceback" not in err
        assert err.startswith("sluice relay: no API key") and "ANTHROPIC_API_KEY" in err

    def test_not_a_redis_url(self) -> None:
        """--redis with another scheme: one line, exit 2, the password not shown."""
        code, err = self.relay_exits("--mock", "--port", "0", "--redis", "http://u:s3cret@x")
        assert code == 2 and err.count("\n") == 1 and "Traceback" not in err
        assert "redis://" in err and "s3cret" not in err

    def test_redis_unreachable(self) -> None:
        """--redis where nothing listens: one line naming where (password redacted), exit 1."""
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        url = f"redis://:s3cret@127.0.0.1:{port}/0"
        code, err = self.relay_exits("--mock", "--port", "0", "--redis", url)
        assert code == 1 and err.count("\n") == 1 and "Traceback" not in err
        assert "cannot connect to Redis" in err and "s3cret" not in err

    def test_port_in_use(self) -> None:
        """A port another process listens on: one line naming it, exit 1."""
        with socket.socket() as taken:
            taken.bind(("127.0.0.1", 0))
            taken.listen()
            port = taken.getsockname()[1]
            code, err = self.relay_exits("--mock", "--port", str(port))
        assert code == 1 and err.count("\n") == 1 and "Traceback" not in err
        assert f"127.0.0.1:{port}" in err and "in use" in err
