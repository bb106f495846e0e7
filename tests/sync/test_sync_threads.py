"""One ``sluice.Client`` shared by threads: requests and streams in parallel, and the rate
limiter and circuit breakers (one state per client) hold for every thread."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

import anyio
import pytest

import sluice
from sluice.testing import MockAnthropic, RecordedRequest, Reply, install_models
from sluice.types import BreakerSettings, LimitSettings, QuotaSettings

T = TypeVar("T")

FIXTURES = Path(__file__).parent.parent.parent / "fixtures"
MODEL = {"type": "model", "id": "claude-x", "display_name": "X", "created_at": "t"}
PARAMS: dict[str, Any] = {
    "model": "claude-sonnet-4-5",
    "max_tokens": 64,
    "messages": [{"role": "user", "content": "Hi"}],
}


def at_once(count: int, work: Callable[[], T]) -> list[T | BaseException]:
    """Run ``work`` in ``count`` threads released together; each result or exception."""
    barrier = threading.Barrier(count)

    def run() -> T | BaseException:
        barrier.wait()
        try:
            return work()
        except Exception as exc:
            return exc

    with ThreadPoolExecutor(count) as pool:
        return list(pool.map(lambda _: run(), range(count)))


def client_for(server: MockAnthropic, **kwargs: Any) -> sluice.Client:
    kwargs.setdefault("max_retries", 0)
    return sluice.Client(api_key="sk-ant-threads", base_url=server.base_url, **kwargs)


class TestSharedClient:
    def test_streams_and_requests_from_many_threads(self, server: MockAnthropic) -> None:
        """Eight threads stream and list models through one client at the same time; each
        gets its own complete answer."""
        data = (FIXTURES / "text.sse").read_bytes()
        install_models(server)
        server.route("POST", "/v1/messages", Reply.sse(data, chunk_size=64))
        with client_for(server) as client:
            with client.messages.stream(**PARAMS) as first:
                expected = first.final_text()

            def work() -> tuple[str, int]:
                with client.messages.stream(**PARAMS) as stream:
                    text = "".join(stream.text_stream)
                return text, len(client.models.list(limit=3).to_list())

            results = at_once(8, work)
        assert results == [(expected, 7)] * 8


class TestSharedLimits:
    def test_retry_after_holds_every_thread(self, server: MockAnthropic) -> None:
        """A 429's retry-after makes the other threads wait too, instead of collecting 429s."""
        server.enqueue(Reply.error(429, "rate_limit_error", "slow", headers={"retry-after": "0.5"}))
        server.route("GET", "/v1/models/claude-x", Reply.json(MODEL))
        with client_for(server) as client:
            with pytest.raises(sluice.RateLimitError):
                client.models.get("claude-x")
            started = time.monotonic()
            results = at_once(3, lambda: client.models.get("claude-x").id)
            elapsed = time.monotonic() - started
            assert client.rate_limiter.waits == 3
        assert results == ["claude-x"] * 3
        assert elapsed > 0.3
        assert len(server.requests) == 4

    def test_no_429s_under_a_scripted_limit(self, server: MockAnthropic) -> None:
        """Twelve threads make forty requests against ten per half-second window: the
        limiter holds every window to the limit, and the API never answers 429."""
        limit = server.rate_limit(10, window=0.5)
        server.route("GET", "/v1/models/claude-x", Reply.json(MODEL))
        left = iter(range(40))
        with client_for(server) as client:
            client.models.get("claude-x")  # the first answer says what the limit is

            def work() -> int:
                done = 0
                for _ in left:  # shared: each request is taken by one thread
                    client.models.get("claude-x")
                    done += 1
                return done

            results = at_once(12, work)
        assert sum(r for r in results if isinstance(r, int)) == 40, results
        assert (limit.served, limit.rejected) == (41, 0)
        assert limit.most_in_a_window <= 10

    def test_configured_limit_is_shared(self, server: MockAnthropic) -> None:
        """Two requests a minute, four threads at once: exactly two go; the others wait
        (here: past their deadline). The limiter's acquire is one step under the lock."""
        server.route("GET", "/v1/models/claude-x", Reply.json(MODEL))
        with client_for(server, limits=LimitSettings(requests_per_minute=2)) as client:
            results = at_once(4, lambda: client.models.get("claude-x", deadline=0.3).id)
        assert sorted(map(repr, results)).count(repr("claude-x")) == 2
        assert sum(isinstance(r, sluice.DeadlineExceededError) for r in results) == 2
        assert len(server.requests) == 2

    def test_half_open_breaker_lets_one_probe_through(self, server: MockAnthropic) -> None:
        """After the cooldown, threads arriving together send exactly one probe; the rest
        are refused until it reports."""

        async def slow(request: RecordedRequest) -> Reply:
            await anyio.sleep(0.4)
            return Reply.json(MODEL)

        server.enqueue(Reply.error(529, "overloaded_error", "busy"))
        settings = BreakerSettings(failure_threshold=1, cooldown=0.2)
        with client_for(server, breaker=settings) as client:
            with pytest.raises(sluice.OverloadedError):
                client.models.get("claude-x")
            server.route("GET", "/v1/models/claude-x", slow)
            time.sleep(0.25)
            results = at_once(4, lambda: client.models.get("claude-x").id)
            after = client.models.get("claude-x").id  # the probe closed the breaker
        assert results.count("claude-x") == 1
        assert sum(isinstance(r, sluice.CircuitOpenError) for r in results) == 3
        assert after == "claude-x"
        assert len(server.requests) == 3


class TestSharedMeter:
    def test_threads_count_into_one_meter_and_keep_its_quota(self, server: MockAnthropic) -> None:
        """Eight threads stream through one client with a quota of five requests a day:
        exactly five are sent, and the meter has each one's usage."""
        server.route("POST", "/v1/messages", Reply.sse((FIXTURES / "text.sse").read_bytes()))
        meter = sluice.UsageMeter(quotas=QuotaSettings(requests_per_day=5))
        with client_for(server, meter=meter) as client:
            with client.messages.stream(**PARAMS) as stream:
                usage = stream.final_message().usage
            meter.reset()

            def work() -> int:
                with client.messages.stream(**PARAMS) as stream:
                    return stream.final_message().usage.output_tokens

            results = at_once(8, work)
        assert results.count(usage.output_tokens) == 5
        assert sum(isinstance(r, sluice.QuotaExceededError) for r in results) == 3
        assert len(server.requests) == 1 + 5
        assert meter.requests == 5
        assert meter.total.input_tokens == 5 * usage.input_tokens
        assert meter.total.output_tokens == 5 * usage.output_tokens
