"""Resilience over real HTTP on 127.0.0.1: rate limits, breakers, failover, one deadline,
health, key hygiene, logs, hooks and curl; on asyncio and trio."""

from __future__ import annotations

import json
import logging
import os
import shlex
import subprocess
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import anyio
import anyio.abc
import httpx
import pytest

import sluice
from _util import FIXTURES
from sluice.testing import MockAnthropic, Reply, Turn
from sluice.types import BreakerSettings, FailoverSettings, LimitSettings

pytestmark = pytest.mark.anyio

KEY = "sk-ant-api03-resilience-SECRET"
MESSAGE = {
    "type": "message",
    "id": "msg_1",
    "role": "assistant",
    "model": "claude-sonnet-4-5",
    "content": [{"type": "text", "text": "Hi"}],
    "stop_reason": "end_turn",
    "stop_sequence": None,
    "usage": {"input_tokens": 3, "output_tokens": 1},
}
MODEL = {"type": "model", "id": "claude-x", "display_name": "X", "created_at": "t"}
PARAMS: dict[str, Any] = {
    "model": "claude-sonnet-4-5",
    "max_tokens": 16,
    "messages": [{"role": "user", "content": "Hi"}],
}


OVERLOADED_EVENT = (
    b"event: error\n"
    b'data: {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}'
    b"\n\n"
)


def overloaded() -> Reply:
    return Reply.error(529, "overloaded_error", "Overloaded")


def overloaded_after(seconds: float) -> Reply:
    return Reply.error(529, "overloaded_error", "busy", headers={"retry-after": str(seconds)})


def assert_reproduces(error: Exception, method: str, url: str) -> list[str]:
    """``error.curl()`` is the redacted command of ``method url``; its words."""
    command = error.curl()  # type: ignore[attr-defined]
    assert KEY not in command
    parts = shlex.split(command)
    assert parts[:4] == ["curl", "-X", method, url]
    assert "x-api-key: $ANTHROPIC_API_KEY" in parts
    return parts


@asynccontextmanager
async def client_for(server: MockAnthropic, **kwargs: Any) -> AsyncIterator[sluice.AsyncClient]:
    kwargs.setdefault("max_retries", 0)
    async with (
        httpx.AsyncClient(timeout=10.0) as http,
        sluice.AsyncClient(
            api_key=KEY, base_url=server.base_url, http_client=http, **kwargs
        ) as client,
    ):
        yield client


async def closed_port() -> str:
    listener = await anyio.create_tcp_listener(local_host="127.0.0.1")
    port = listener.extra(anyio.abc.SocketAttribute.local_port)
    await listener.aclose()
    return f"http://127.0.0.1:{port}"


class TestKeyHygiene:
    @pytest.mark.parametrize(
        ("key", "says"),
        [
            ("", "no API key"),
            (" sk-ant-x", "whitespace"),
            ("sk-ant-x\n", "whitespace"),
            ("sk-ant\nx", "line break"),
            ("sk-ant x", "whitespace or a control character"),
            ("sk-ant-\u00e9", "non-ASCII"),
        ],
    )
    def test_malformed_key_is_refused_before_sending(self, key: str, says: str) -> None:
        """A malformed key raises ConfigError naming the slip, never showing the key."""
        with pytest.raises(sluice.ConfigError) as caught:
            sluice.AsyncClient(api_key=key, base_url="http://127.0.0.1:9")
        assert says in str(caught.value)
        if key.strip():
            assert key.strip() not in str(caught.value)

    def test_missing_key(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """No key and no ANTHROPIC_API_KEY: a ConfigError that says how to give one."""
        monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
        with pytest.raises(sluice.ConfigError, match="ANTHROPIC_API_KEY"):
            sluice.AsyncClient(base_url="http://127.0.0.1:9")

    def test_fallback_key_is_checked_and_hidden(self) -> None:
        """An Endpoint's key is checked too, and its repr hides it."""
        with pytest.raises(sluice.ConfigError):
            sluice.Endpoint(api_key="bad key")
        endpoint = sluice.Endpoint(api_key=KEY, model="claude-haiku-4-5")
        assert KEY not in repr(endpoint)


class TestObservability:
    async def test_log_lines_and_no_key(
        self, mock_anthropic: MockAnthropic, caplog: pytest.LogCaptureFixture
    ) -> None:
        """Requests, responses and retries are logged on 'sluice'; the key never appears."""
        mock_anthropic.enqueue(
            Reply.error(529, "overloaded_error", "busy", headers={"retry-after": "0"}),
            Reply.json(MODEL),
        )
        with caplog.at_level(logging.DEBUG, logger="sluice"):
            async with client_for(mock_anthropic, max_retries=1) as client:
                await client.models.get("claude-x")
        text = caplog.text
        assert "request GET /v1/models/claude-x" in text
        assert "response 529" in text and "response 200" in text
        assert "retry: GET /v1/models/claude-x" in text and "(529)" in text
        assert KEY not in text

    @pytest.mark.parametrize(
        ("setting", "shown", "hidden"),
        [
            ("debug", ["sluice DEBUG request GET /v1/models/claude-x", "sluice INFO retry:"], []),
            ("info", ["sluice INFO retry: GET /v1/models/claude-x"], ["request GET"]),
            (None, [], ["sluice"]),
        ],
    )
    def test_sluice_log_environment(
        self, tmp_path: Path, setting: str | None, shown: list[str], hidden: list[str]
    ) -> None:
        """SLUICE_LOG=debug or info puts the lines of that level on stderr (unset: none);
        the key is never in them."""
        script = f"""
import anyio
import sluice
from sluice.testing import MockAnthropic, Reply


async def main():
    async with MockAnthropic() as server:
        server.enqueue(
            Reply.error(529, "overloaded_error", "busy", headers={{"retry-after": "0"}}),
            Reply.json({json.dumps(MODEL)}),
        )
        async with sluice.AsyncClient(
            api_key={KEY!r}, base_url=server.base_url, max_retries=1
        ) as client:
            await client.models.get("claude-x")


anyio.run(main)
"""
        env = {name: value for name, value in os.environ.items() if name != "SLUICE_LOG"}
        if setting is not None:
            env["SLUICE_LOG"] = setting
        done = subprocess.run(
            [sys.executable, "-c", script],
            env=env,
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert done.returncode == 0, done.stderr
        for line in shown:
            assert line in done.stderr
        for text in hidden:
            assert text not in done.stderr
        assert KEY not in done.stderr + done.stdout

    async def test_rate_limit_wait_is_logged(
        self, mock_anthropic: MockAnthropic, caplog: pytest.LogCaptureFixture
    ) -> None:
        """A request held back by the API's rate-limit headers logs how long and for what."""
        reset = (datetime.now(UTC) + timedelta(seconds=0.3)).isoformat().replace("+00:00", "Z")
        headers = {
            "anthropic-ratelimit-requests-limit": "50",
            "anthropic-ratelimit-requests-remaining": "0",
            "anthropic-ratelimit-requests-reset": reset,
        }
        mock_anthropic.enqueue(Reply.json(MODEL, headers=headers), Reply.json(MODEL))
        with caplog.at_level(logging.INFO, logger="sluice"):
            async with client_for(mock_anthropic) as client:
                await client.models.get("claude-x")
                await client.models.get("claude-x")
        (line,) = [r.getMessage() for r in caplog.records if "rate limit" in r.getMessage()]
        assert line.startswith("rate limit: GET /v1/models/claude-x to 127.0.0.1 waits ")
        assert line.endswith(" s for requests")
        assert KEY not in caplog.text

    async def test_breaker_changes_are_logged(
        self, mock_anthropic: MockAnthropic, caplog: pytest.LogCaptureFixture
    ) -> None:
        """Each change of a breaker's state is a line naming the endpoint and its template."""
        mock_anthropic.enqueue(overloaded(), Reply.json(MODEL))
        settings = BreakerSettings(failure_threshold=1, cooldown=0.2)
        with caplog.at_level(logging.INFO, logger="sluice"):
            async with client_for(mock_anthropic, breaker=settings) as client:
                with pytest.raises(sluice.OverloadedError):
                    await client.models.get("claude-x")
                await anyio.sleep(0.25)
                await client.models.get("claude-x")
        lines = [r.getMessage() for r in caplog.records if "circuit breaker" in r.getMessage()]
        where = "circuit breaker of 127.0.0.1 /v1/models/{model_id}"
        assert lines == [
            f"{where}: closed -> open (1 failures in a row)",
            f"{where}: open -> half_open (1 failures in a row)",
            f"{where}: half_open -> closed (0 failures in a row)",
        ]
        assert KEY not in caplog.text

    async def test_failover_is_logged(
        self, mock_anthropic: MockAnthropic, caplog: pytest.LogCaptureFixture
    ) -> None:
        """A failover is a line with both endpoints and the reason; neither key shows."""
        other = "sk-ant-api03-backup-SECRET"
        mock_anthropic.enqueue(overloaded())
        async with MockAnthropic() as backup:
            backup.enqueue(Reply.json(MODEL))
            fallback = sluice.Endpoint(base_url=backup.base_url, api_key=other, name="backup")
            with caplog.at_level(logging.INFO, logger="sluice"):
                async with client_for(mock_anthropic, fallbacks=[fallback]) as client:
                    await client.models.get("claude-x")
        assert (
            "failover: GET /v1/models/claude-x moves from 127.0.0.1 to backup (HTTP 529)"
            in caplog.text
        )
        assert KEY not in caplog.text and other not in caplog.text

    async def test_hooks_get_typed_records(self, mock_anthropic: MockAnthropic) -> None:
        """on_request, on_response and on_retry get records; plain and async hooks both work."""
        mock_anthropic.enqueue(
            Reply.error(500, "api_error", "boom", headers={"retry-after": "0"}), Reply.json(MODEL)
        )
        seen: list[object] = []

        async def on_response(record: object) -> None:
            seen.append(record)

        async with client_for(
            mock_anthropic,
            max_retries=1,
            on_request=seen.append,
            on_response=on_response,
            on_retry=seen.append,
        ) as client:
            await client.models.get("claude-x")
        kinds = [type(record).__name__ for record in seen]
        assert kinds == [
            "RequestRecord",
            "ResponseRecord",
            "RetryRecord",
            "RequestRecord",
            "ResponseRecord",
        ]
        retry = seen[2]
        assert isinstance(retry, sluice.types.RetryRecord)
        assert (retry.reason, retry.attempt, retry.wait) == ("500", 1, 0.0)
        response = seen[4]
        assert isinstance(response, sluice.types.ResponseRecord)
        assert response.status_code == 200 and response.request_id is not None
        assert KEY not in repr(seen)

    async def test_error_curl(self, mock_anthropic: MockAnthropic) -> None:
        """error.curl() reproduces the request with the key as $ANTHROPIC_API_KEY."""
        mock_anthropic.enqueue(Reply.error(400, "invalid_request_error", "bad"))
        async with client_for(mock_anthropic) as client:
            with pytest.raises(sluice.BadRequestError) as caught:
                await client.messages.create(**PARAMS)
        command = caught.value.curl()
        assert KEY not in command
        parts = shlex.split(command)
        assert parts[:4] == ["curl", "-X", "POST", f"{mock_anthropic.base_url}/v1/messages"]
        assert "x-api-key: $ANTHROPIC_API_KEY" in parts
        body = parts[parts.index("--data-binary") + 1]
        assert '"max_tokens":16' in body

    async def test_gateway_credentials_are_redacted_too(
        self, mock_anthropic: MockAnthropic
    ) -> None:
        """A gateway's or proxy's own auth header is hidden in curl() and in the request
        the error's response carries, as the API key is; other headers are shown."""
        secrets = {"cf-aig-authorization": "Bearer GW-SECRET", "x-portkey-api-key": "PK-SECRET"}
        mock_anthropic.enqueue(Reply.error(500, "api_error", "boom"))
        async with client_for(
            mock_anthropic, default_headers={**secrets, "x-trace": "visible"}
        ) as client:
            with pytest.raises(sluice.InternalServerError) as caught:
                await client.models.get("claude-sonnet-4-5")
        assert mock_anthropic.requests[-1].headers["x-portkey-api-key"] == "PK-SECRET"  # sent
        command = caught.value.curl()
        shown = repr(caught.value.response.request.headers) if caught.value.response else ""
        for text in (command, shown, repr(mock_anthropic.requests[-1])):
            assert "GW-SECRET" not in text and "PK-SECRET" not in text
        assert "x-trace: visible" in command

    async def test_connection_error_curl(self) -> None:
        """A connection error can be reproduced by hand too."""
        async with (
            httpx.AsyncClient(timeout=2.0) as http,
            sluice.AsyncClient(
                api_key=KEY, base_url=await closed_port(), http_client=http, max_retries=0
            ) as client,
        ):
            with pytest.raises(sluice.APIConnectionError) as caught:
                await client.models.get("claude-x")
        assert caught.value.curl().startswith("curl -X GET")
        assert KEY not in caught.value.curl()

    async def test_deadline_error_curl(self, mock_anthropic: MockAnthropic) -> None:
        """A deadline that runs out between retries gives the request's curl."""
        for _ in range(3):
            mock_anthropic.enqueue(overloaded_after(0.4))
        async with client_for(mock_anthropic, max_retries=2) as client:
            with pytest.raises(sluice.DeadlineExceededError) as caught:
                await client.models.get("claude-x", deadline=0.3)
        assert_reproduces(caught.value, "GET", f"{mock_anthropic.base_url}/v1/models/claude-x")

    async def test_deadline_while_waiting_gives_the_unsent_request(
        self, mock_anthropic: MockAnthropic
    ) -> None:
        """A deadline that runs out before anything was sent (a rate-limit wait) still
        gives the curl of the request it was waiting to send, body included."""
        mock_anthropic.route("POST", "/v1/messages", Reply.json(MESSAGE))
        async with client_for(
            mock_anthropic, limits=LimitSettings(requests_per_minute=1)
        ) as client:
            await client.messages.create(**PARAMS)
            with pytest.raises(sluice.DeadlineExceededError) as caught:
                await client.messages.create(**PARAMS, deadline=0.2)
        assert caught.value.attempts == 0
        parts = assert_reproduces(caught.value, "POST", f"{mock_anthropic.base_url}/v1/messages")
        assert '"max_tokens":16' in parts[parts.index("--data-binary") + 1]

    async def test_in_stream_error_curl(self, mock_anthropic: MockAnthropic) -> None:
        """An in-stream overloaded_error gives the curl of the stream's request."""
        data = (FIXTURES / "text.sse").read_bytes()
        cut = data[: data.index(b"event: content_block_stop")]
        mock_anthropic.enqueue(Reply.sse(cut + OVERLOADED_EVENT))
        async with client_for(mock_anthropic) as client:
            with pytest.raises(sluice.OverloadedStreamError) as caught:
                async with client.messages.stream(**PARAMS) as stream:
                    async for _ in stream:
                        pass
        assert_reproduces(caught.value, "POST", f"{mock_anthropic.base_url}/v1/messages")

    async def test_incomplete_stream_curl(self, mock_anthropic: MockAnthropic) -> None:
        """A stream whose connection drops gives the curl of its request."""
        data = (FIXTURES / "text.sse").read_bytes()
        mock_anthropic.enqueue(Reply.sse(data, drop_after=data.index(b"event: content_block_stop")))
        async with client_for(mock_anthropic) as client:
            with pytest.raises(sluice.IncompleteStreamError) as caught:
                async with client.messages.stream(**PARAMS) as stream:
                    await stream.final_message()
        assert_reproduces(caught.value, "POST", f"{mock_anthropic.base_url}/v1/messages")

    async def test_circuit_open_curl(self, mock_anthropic: MockAnthropic) -> None:
        """A request refused by an open breaker gives the curl of what it would have sent."""
        mock_anthropic.enqueue(overloaded())
        async with client_for(
            mock_anthropic, breaker=BreakerSettings(failure_threshold=1, cooldown=60)
        ) as client:
            with pytest.raises(sluice.OverloadedError):
                await client.models.get("claude-x")
            with pytest.raises(sluice.CircuitOpenError) as caught:
                await client.models.get("claude-y")
        assert_reproduces(caught.value, "GET", f"{mock_anthropic.base_url}/v1/models/claude-y")

    def test_curl_of_a_request(self) -> None:
        """sluice.curl() turns any httpx request into a redacted command."""
        request = httpx.Request(
            "POST",
            "https://api.anthropic.com/v1/messages",
            headers={"x-api-key": KEY},
            content=b"{}",
        )
        command = sluice.curl(request)
        assert KEY not in command and "$ANTHROPIC_API_KEY" in command


class TestDeadline:
    async def test_retries_stop_at_the_deadline(self, mock_anthropic: MockAnthropic) -> None:
        """Backoff between retries counts toward the deadline: it ends the request in time."""
        for _ in range(10):
            mock_anthropic.enqueue(
                Reply.error(529, "overloaded_error", "busy", headers={"retry-after": "0.4"})
            )
        async with client_for(mock_anthropic, max_retries=9) as client:
            started = anyio.current_time()
            with pytest.raises(sluice.DeadlineExceededError) as caught:
                await client.models.get("claude-x", deadline=1.0)
            elapsed = anyio.current_time() - started
        assert 0.9 < elapsed < 3.0
        assert caught.value.deadline == 1.0
        assert 2 <= caught.value.attempts <= 4
        assert isinstance(caught.value, sluice.APITimeoutError)

    async def test_client_default_deadline(self, mock_anthropic: MockAnthropic) -> None:
        """A client-wide deadline applies to every request; a stalled reply ends with it."""
        mock_anthropic.enqueue(Reply.json(MODEL, stall_after=5))
        async with client_for(mock_anthropic, deadline=0.5) as client:
            with anyio.fail_after(5), pytest.raises(sluice.DeadlineExceededError):
                await client.models.get("claude-x")

    async def test_stream_idle_timeout(self, mock_anthropic: MockAnthropic) -> None:
        """A stream whose connection goes silent fails after stream_idle_timeout, with what arrived."""
        data = (FIXTURES / "text.sse").read_bytes()
        mock_anthropic.enqueue(
            Reply.sse(data, stall_after=data.index(b"event: content_block_stop"))
        )
        async with client_for(mock_anthropic, stream_idle_timeout=0.3) as client:
            with anyio.fail_after(5), pytest.raises(sluice.StreamIdleTimeoutError) as caught:
                async with client.messages.stream(**PARAMS) as stream:
                    await stream.final_message()
        assert caught.value.partial_message is not None
        assert caught.value.timeout == 0.3

    async def test_streams_have_an_idle_limit_by_default(
        self, mock_anthropic: MockAnthropic
    ) -> None:
        """With no options, a stream's read timeout is the default idle limit (120 s),
        not the 600 s other requests get; an explicit timeout= wins."""
        seen: list[dict[str, float | None]] = []

        async def record(request: httpx.Request) -> None:
            seen.append(request.extensions["timeout"])

        transcript = FIXTURES / "text.sse"  # a path is read
        mock_anthropic.enqueue(Reply.sse(transcript), Reply.sse(transcript.read_bytes()))
        mock_anthropic.enqueue(Reply.json(MODEL))
        async with (
            httpx.AsyncClient(event_hooks={"request": [record]}) as http,
            sluice.AsyncClient(
                api_key=KEY, base_url=mock_anthropic.base_url, http_client=http
            ) as client,
        ):
            async with client.messages.stream(**PARAMS) as stream:
                await stream.final_message()
            async with client.messages.stream(**PARAMS, timeout=30.0) as stream:
                await stream.final_message()
            await client.models.get("claude-sonnet-4-5")
        assert seen[0]["read"] == 120.0
        assert seen[1]["read"] == 30.0
        assert seen[2]["read"] == 600.0


class TestRateLimits:
    async def test_exhausted_requests_wait_for_the_reset(
        self, mock_anthropic: MockAnthropic
    ) -> None:
        """remaining=0 in the headers holds the next request back until the reset time."""
        reset = (datetime.now(UTC) + timedelta(seconds=0.6)).isoformat().replace("+00:00", "Z")
        headers = {
            "anthropic-ratelimit-requests-limit": "50",
            "anthropic-ratelimit-requests-remaining": "0",
            "anthropic-ratelimit-requests-reset": reset,
        }
        mock_anthropic.enqueue(Reply.json(MODEL, headers=headers), Reply.json(MODEL))
        async with client_for(mock_anthropic) as client:
            await client.models.get("claude-x")
            started = anyio.current_time()
            await client.models.get("claude-x")
            waited = anyio.current_time() - started
            assert client.rate_limiter.waits == 1
        assert waited > 0.3
        assert len(mock_anthropic.requests) == 2

    async def test_retry_after_holds_every_task(self, mock_anthropic: MockAnthropic) -> None:
        """A 429's retry-after makes the other tasks wait too, instead of collecting 429s."""
        mock_anthropic.enqueue(
            Reply.error(429, "rate_limit_error", "slow down", headers={"retry-after": "0.5"})
        )
        mock_anthropic.route("GET", "/v1/models/claude-x", Reply.json(MODEL))
        async with client_for(mock_anthropic) as client:
            with pytest.raises(sluice.RateLimitError):
                await client.models.get("claude-x")
            started = anyio.current_time()
            async with anyio.create_task_group() as tg:
                for _ in range(3):
                    tg.start_soon(client.models.get, "claude-x")
            assert anyio.current_time() - started > 0.3
        assert [r.path for r in mock_anthropic.requests].count("/v1/models/claude-x") == 4

    async def test_no_429s_under_a_scripted_limit(self, mock_anthropic: MockAnthropic) -> None:
        """Twelve tasks make forty requests against ten per half-second window: the limiter
        holds every window to the limit, and the API never answers 429."""
        limit = mock_anthropic.rate_limit(10, window=0.5)
        mock_anthropic.route("GET", "/v1/models/claude-x", Reply.json(MODEL))
        async with client_for(mock_anthropic) as client:
            await client.models.get("claude-x")  # the first answer says what the limit is
            left = 40

            async def worker() -> None:
                nonlocal left
                while left > 0:
                    left -= 1
                    await client.models.get("claude-x")

            async with anyio.create_task_group() as tg:
                for _ in range(12):
                    tg.start_soon(worker)
        assert (limit.served, limit.rejected) == (41, 0)
        assert limit.most_in_a_window <= 10

    async def test_configured_requests_per_minute(self, mock_anthropic: MockAnthropic) -> None:
        """A configured limit spaces requests out: the third of 2/minute waits (here: past the deadline)."""
        mock_anthropic.route("GET", "/v1/models/claude-x", Reply.json(MODEL))
        async with client_for(
            mock_anthropic, limits=LimitSettings(requests_per_minute=2)
        ) as client:
            await client.models.get("claude-x")
            await client.models.get("claude-x")
            with pytest.raises(sluice.DeadlineExceededError):
                await client.models.get("claude-x", deadline=0.3)
        assert len(mock_anthropic.requests) == 2

    @pytest.mark.parametrize("streamed", [True, False])
    async def test_configured_output_tokens_per_minute(
        self, mock_anthropic: MockAnthropic, streamed: bool
    ) -> None:
        """Output tokens are charged as responses report them: after a reply of 150
        output tokens, with 100 a minute configured, the next request waits."""
        usage = {"input_tokens": 5, "output_tokens": 150}
        reply = (
            Turn("Rivers.", usage=usage)
            if streamed
            else Reply.json(
                {
                    "id": "msg_1",
                    "type": "message",
                    "role": "assistant",
                    "model": "claude-sonnet-4-5",
                    "content": [{"type": "text", "text": "Rivers."}],
                    "stop_reason": "end_turn",
                    "stop_sequence": None,
                    "usage": usage,
                }
            )
        )
        mock_anthropic.route("POST", "/v1/messages", reply)
        request = {
            "model": "claude-sonnet-4-5",
            "max_tokens": 200,
            "messages": [{"role": "user", "content": "Hi"}],
        }
        async with client_for(
            mock_anthropic, limits=LimitSettings(output_tokens_per_minute=100)
        ) as client:
            if streamed:
                async with client.messages.stream(**request) as stream:
                    message = await stream.final_message()
            else:
                message = await client.messages.create(**request)
            assert message.usage.output_tokens == 150
            with pytest.raises(
                sluice.DeadlineExceededError, match="output tokens \\(configured\\)"
            ):
                await client.messages.create(**request, deadline=0.3)
            assert client.rate_limiter.waits >= 1
        assert len(mock_anthropic.requests) == 1

    async def test_output_tokens_within_the_limit_do_not_wait(
        self, mock_anthropic: MockAnthropic
    ) -> None:
        mock_anthropic.route(
            "POST", "/v1/messages", Turn("Rivers.", usage={"input_tokens": 5, "output_tokens": 30})
        )
        request = {
            "model": "claude-sonnet-4-5",
            "max_tokens": 200,
            "messages": [{"role": "user", "content": "Hi"}],
        }
        async with client_for(
            mock_anthropic, limits=LimitSettings(output_tokens_per_minute=100)
        ) as client:
            for _ in range(3):  # 90 of 100
                async with client.messages.stream(**request) as stream:
                    await stream.final_message()
            assert client.rate_limiter.waits == 0
        assert len(mock_anthropic.requests) == 3


class TestCircuitBreaker:
    async def test_opens_refuses_then_probes(self, mock_anthropic: MockAnthropic) -> None:
        """Two failures open it; the next call fails fast unsent; after the cooldown a probe closes it."""
        mock_anthropic.enqueue(overloaded(), overloaded(), Reply.json(MODEL))
        settings = BreakerSettings(failure_threshold=2, cooldown=0.3)
        async with client_for(mock_anthropic, breaker=settings) as client:
            for _ in range(2):
                with pytest.raises(sluice.OverloadedError):
                    await client.models.get("claude-x")
            with pytest.raises(sluice.CircuitOpenError) as caught:
                await client.models.get("claude-x")
            assert len(mock_anthropic.requests) == 2  # refused without sending
            assert 0 < caught.value.retry_after <= 0.3
            await anyio.sleep(0.35)
            model = await client.models.get("claude-x")  # the probe
            assert model.id == "claude-x"
            (report,) = await client.health()
        assert report.breaker is None  # /v1/messages was never used
        assert report.breakers == {"/v1/models/{model_id}": "closed"}

    async def test_one_breaker_per_endpoint_whatever_the_id(
        self, mock_anthropic: MockAnthropic
    ) -> None:
        """Twenty model ids share the breaker of GET /v1/models/{model_id}: three 503s open
        it, the other seventeen requests are refused unsent, and only one breaker exists."""
        mock_anthropic.route("GET", "/v1/models/*", Reply.error(503, "api_error", "down"))
        mock_anthropic.route("GET", "/v1/models", Reply.json({"data": [], "has_more": False}))
        settings = BreakerSettings(failure_threshold=3, cooldown=60)
        failures: list[Exception] = []
        async with client_for(mock_anthropic, breaker=settings) as client:
            for i in range(20):
                with pytest.raises((sluice.InternalServerError, sluice.CircuitOpenError)) as caught:
                    await client.models.get(f"claude-{i}")
                failures.append(caught.value)
            (report,) = await client.health()
        kinds = [type(failure).__name__ for failure in failures]
        assert kinds == ["InternalServerStatusError"] * 3 + ["CircuitOpenError"] * 17
        assert len(mock_anthropic.requests) == 3 + 1  # the failures, then the health probe
        refused = failures[-1]
        assert isinstance(refused, sluice.CircuitOpenError)
        assert refused.endpoint == "127.0.0.1 /v1/models/{model_id}"
        assert report.breakers == {"/v1/models/{model_id}": "open"}
        assert report.breaker is None

    async def test_health_shows_an_open_breaker(self, mock_anthropic: MockAnthropic) -> None:
        """After the Messages endpoint's breaker opens, health() reports it open."""
        mock_anthropic.route("POST", "/v1/messages", overloaded())
        mock_anthropic.route("GET", "/v1/models", Reply.json({"data": [], "has_more": False}))
        settings = BreakerSettings(failure_threshold=2, cooldown=60)
        async with client_for(mock_anthropic, breaker=settings) as client:
            (before,) = await client.health()
            for _ in range(2):
                with pytest.raises(sluice.OverloadedError):
                    await client.messages.create(**PARAMS)
            (after,) = await client.health()
        assert (before.breaker, before.breakers) == (None, {})
        assert after.ok and after.breaker == "open"
        assert after.breakers == {"/v1/messages": "open"}

    async def test_custom_failure_statuses(self, mock_anthropic: MockAnthropic) -> None:
        """failure_statuses says what counts: with {429}, a 503 leaves the breaker closed
        and one 429 opens it."""
        mock_anthropic.enqueue(
            Reply.error(503, "api_error", "down"),
            Reply.error(429, "rate_limit_error", "slow down", headers={"retry-after": "0"}),
        )
        settings = BreakerSettings(failure_threshold=1, failure_statuses=frozenset({429}))
        async with client_for(mock_anthropic, breaker=settings) as client:
            with pytest.raises(sluice.InternalServerError):
                await client.models.get("claude-x")
            with pytest.raises(sluice.RateLimitError):
                await client.models.get("claude-x")
            with pytest.raises(sluice.CircuitOpenError):
                await client.models.get("claude-x")
        assert len(mock_anthropic.requests) == 2

    async def test_client_errors_do_not_count(self, mock_anthropic: MockAnthropic) -> None:
        """A 400 is the request's fault, not the API's: it never opens the breaker."""
        for _ in range(3):
            mock_anthropic.enqueue(Reply.error(400, "invalid_request_error", "bad"))
        async with client_for(
            mock_anthropic, breaker=BreakerSettings(failure_threshold=1)
        ) as client:
            for _ in range(3):
                with pytest.raises(sluice.BadRequestError):
                    await client.models.get("claude-x")
        assert len(mock_anthropic.requests) == 3


class TestFailover:
    async def test_moves_to_the_fallback_and_reports_why(
        self, mock_anthropic: MockAnthropic
    ) -> None:
        """A 529 at the primary moves the request to the fallback, with its model; the reason is reported."""
        mock_anthropic.enqueue(overloaded())
        records: list[sluice.types.FailoverRecord] = []
        async with MockAnthropic() as backup:
            backup.enqueue(Reply.json({**MESSAGE, "model": "claude-haiku-4-5"}))
            fallback = sluice.Endpoint(
                base_url=backup.base_url, model="claude-haiku-4-5", name="backup"
            )
            async with client_for(
                mock_anthropic, fallbacks=[fallback], on_failover=records.append
            ) as client:
                message = await client.messages.create(**PARAMS)
            assert backup.requests[0].json["model"] == "claude-haiku-4-5"
            assert backup.requests[0].headers["x-api-key"] == KEY
        assert message.model == "claude-haiku-4-5"
        (record,) = records
        assert (record.to_endpoint, record.reason) == ("backup", "HTTP 529")

    async def test_cooldown_skips_the_failed_endpoint(self, mock_anthropic: MockAnthropic) -> None:
        """After a failover, the failed endpoint sits out its cooldown: the next request goes straight to the fallback."""
        mock_anthropic.enqueue(overloaded())
        async with MockAnthropic() as backup:
            backup.route("GET", "/v1/models/claude-x", Reply.json(MODEL))
            async with client_for(
                mock_anthropic,
                fallbacks=[sluice.Endpoint(base_url=backup.base_url, api_key="sk-other")],
                failover=FailoverSettings(cooldown=60),
            ) as client:
                await client.models.get("claude-x")
                await client.models.get("claude-x")
            assert len(backup.requests) == 2
            assert backup.requests[0].headers["x-api-key"] == "sk-other"
        assert len(mock_anthropic.requests) == 1

    async def test_the_last_endpoint_tried_cools_down_too(
        self, mock_anthropic: MockAnthropic
    ) -> None:
        """When the last endpoint a request may try fails as well, it sits out its cooldown
        too: the next request goes to the endpoint that is left."""
        mock_anthropic.enqueue(overloaded())
        async with MockAnthropic() as second:
            second.enqueue(overloaded())
            async with MockAnthropic() as third:
                third.route("GET", "/v1/models/claude-x", Reply.json(MODEL))
                fallbacks = [
                    sluice.Endpoint(base_url=second.base_url, name="second"),
                    sluice.Endpoint(base_url=third.base_url, name="third"),
                ]
                async with client_for(
                    mock_anthropic,
                    fallbacks=fallbacks,
                    failover=FailoverSettings(max_failovers=1, cooldown=60),
                ) as client:
                    with pytest.raises(sluice.OverloadedError):
                        await client.models.get("claude-x")
                    assert third.requests == []  # one failover at most
                    model = await client.models.get("claude-x")
                assert len(third.requests) == 1
            assert len(second.requests) == 1  # cooling down: skipped by the second request
        assert model.id == "claude-x"
        assert len(mock_anthropic.requests) == 1

    async def test_max_failovers_caps_the_depth(self, mock_anthropic: MockAnthropic) -> None:
        """max_failovers=0: a failing endpoint's error is raised, no fallback is tried."""
        mock_anthropic.enqueue(overloaded())
        records: list[sluice.types.FailoverRecord] = []
        async with MockAnthropic() as backup:
            async with client_for(
                mock_anthropic,
                fallbacks=[sluice.Endpoint(base_url=backup.base_url)],
                failover=FailoverSettings(max_failovers=0),
                on_failover=records.append,
            ) as client:
                with pytest.raises(sluice.OverloadedError):
                    await client.models.get("claude-x")
            assert backup.requests == []
        assert records == []

    async def test_connection_errors_fail_over(self, mock_anthropic: MockAnthropic) -> None:
        """A primary that cannot be reached hands over to the fallback."""
        mock_anthropic.enqueue(Reply.json(MODEL))
        async with (
            httpx.AsyncClient(timeout=2.0) as http,
            sluice.AsyncClient(
                api_key=KEY,
                base_url=await closed_port(),
                http_client=http,
                max_retries=0,
                fallbacks=[sluice.Endpoint(base_url=mock_anthropic.base_url)],
            ) as client,
        ):
            model = await client.models.get("claude-x")
        assert model.id == "claude-x"

    async def test_bad_requests_do_not_fail_over(self, mock_anthropic: MockAnthropic) -> None:
        """A 400 is not the endpoint's fault: it is raised, not retried elsewhere."""
        mock_anthropic.enqueue(Reply.error(400, "invalid_request_error", "bad"))
        async with MockAnthropic() as backup:
            async with client_for(
                mock_anthropic, fallbacks=[sluice.Endpoint(base_url=backup.base_url)]
            ) as client:
                with pytest.raises(sluice.BadRequestError):
                    await client.models.get("claude-x")
            assert backup.requests == []


class TestHealth:
    async def test_reports_every_endpoint(self, mock_anthropic: MockAnthropic) -> None:
        """health() probes the client's endpoint and each fallback: status, latency, error."""
        mock_anthropic.route("GET", "/v1/models", Reply.json({"data": [MODEL], "has_more": False}))
        down = await closed_port()
        async with client_for(
            mock_anthropic, fallbacks=[sluice.Endpoint(base_url=down, name="down")]
        ) as client:
            up, gone = await client.health(probe_timeout=2)
        assert (up.ok, up.status_code) == (True, 200)
        assert up.latency > 0
        assert (gone.endpoint, gone.ok, gone.status_code) == ("down", False, None)
        assert gone.error and "Connect" in gone.error
        assert mock_anthropic.requests[-1].query == {"limit": ["1"]}
