"""Rate limits shared through a real redis-server: the Lua scripts keep the limiter's rules,
every client and process that shares them keeps to one limit, and nothing leaks or stays.

The scripts are driven directly (``RedisLimits``, ``SyncRedisLimits``) for the rules, then
through clients over HTTP against the mock API's scripted limit: two clients of one
process, then three processes (asyncio, trio, the sync client's threads).
"""

from __future__ import annotations

import json
import logging
import secrets
import sys
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import anyio
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import sluice
from _redis_util import fake_redis
from sluice import RateLimits
from sluice._core._limiter import POLL, RateLimiter, Ticket, limit_scope
from sluice._core._resp import RedisURL
from sluice._redis._client import RedisClient
from sluice._redis._limits import PREFIX, RedisLimits, SyncRedisLimits, keys_of
from sluice.testing import MockAnthropic, Reply, Turn
from sluice.types import LimitSettings

pytestmark = pytest.mark.anyio

WORKER = Path(__file__).parent / "_limits_worker.py"
KEY = "sk-ant-api03-shared-limits-SECRET"  # the worker's key
MODEL = {"type": "model", "id": "claude-x", "display_name": "X", "created_at": "t"}


def limiter(**settings: Any) -> RateLimiter:
    """A limiter of a scope of its own (the state in Redis is the scope's)."""
    return RateLimiter(LimitSettings(**settings), scope=secrets.token_hex(8))


def ticket(tokens: int = 0) -> Ticket:
    return Ticket(secrets.token_hex(8), tokens)


def said(
    remaining: int,
    reset_in: float = 0.0,
    *,
    reset: float | None = None,
    limit: int = 10,
    **more: Any,
) -> RateLimits:
    """Headers: ``remaining`` of ``limit`` requests until ``reset_in`` seconds from now
    (or until the wall-clock time ``reset``)."""
    when = time.time() + reset_in if reset is None else reset
    return RateLimits(
        requests_limit=limit,
        requests_remaining=remaining,
        requests_reset=datetime.fromtimestamp(when, UTC).isoformat(),
        **more,
    )


@asynccontextmanager
async def store(redis_url: str, **options: Any) -> AsyncIterator[RedisLimits]:
    limits = RedisLimits(RedisURL.parse(redis_url), **options)
    try:
        yield limits
    finally:
        await limits.aclose()


async def take(limits: RedisLimits, of: RateLimiter, count: int) -> list[Ticket]:
    """Take capacity for ``count`` requests (each must go at once)."""
    taken = []
    for _ in range(count):
        held = ticket()
        assert await limits.acquire(of, held) == (0.0, "")
        taken.append(held)
    return taken


async def goes(limits: RedisLimits, of: RateLimiter) -> bool:
    delay, _ = await limits.acquire(of, ticket())
    return delay == 0


class TestRules:
    async def test_requests_in_flight_count_against_remaining(self, redis_url: str) -> None:
        """Three left by a response, two others in flight: one more goes, then the next
        waits for the reset."""
        of = limiter()
        async with store(redis_url) as limits:
            first, *_ = await take(limits, of, 3)
            await limits.answered(of, first, said(3, 60), 200)
            assert await goes(limits, of)
            assert await limits.acquire(of, ticket()) == (POLL, "requests")

    async def test_nothing_left_waits_for_the_reset(self, redis_url: str) -> None:
        """Nothing left: whatever is in flight, only the reset gives room."""
        of = limiter()
        async with store(redis_url) as limits:
            first, _ = await take(limits, of, 2)
            await limits.answered(of, first, said(0, 60), 200)
            delay, why = await limits.acquire(of, ticket())
        assert why == "requests" and 55 < delay < 60.1

    async def test_a_late_answer_does_not_raise_the_count(self, redis_url: str) -> None:
        """B's answer (5 left) arrives before A's (6 left, answered earlier by the API):
        A's late answer does not bring the count back up."""
        of = limiter()
        async with store(redis_url) as limits:
            early, late = await take(limits, of, 2)
            reset = time.time() + 60  # one window: both name the same reset
            await limits.answered(of, late, said(5, reset=reset), 200)  # A in flight: 4
            assert [await goes(limits, of) for _ in range(5)] == [True] * 4 + [False]
            await limits.answered(of, early, said(6, reset=reset), 200)  # 4 in flight: 1
            assert [await goes(limits, of) for _ in range(2)] == [True, False]

    async def test_a_reset_counts_requests_in_flight_once(self, redis_url: str) -> None:
        """At the reset, six of ten in flight: four more go, then the next waits for an
        answer (the new window is counted down, not refilled at every request)."""
        of = limiter()
        async with store(redis_url) as limits:
            (first,) = await take(limits, of, 1)
            await limits.answered(of, first, said(9, 0.3), 200)
            await take(limits, of, 6)
            await anyio.sleep(0.35)
            assert [await goes(limits, of) for _ in range(5)] == [True] * 4 + [False]
            assert await limits.acquire(of, ticket()) == (POLL, "requests")

    async def test_retry_after_holds_everyone(self, redis_url: str) -> None:
        """A 429's retry-after holds every store sharing the scope."""
        of = limiter()
        async with store(redis_url) as limits, store(redis_url) as other:
            (held,) = await take(limits, of, 1)
            await limits.answered(of, held, RateLimits(retry_after=30.0), 429)
            delay, why = await other.acquire(of, ticket())
        assert why == "retry-after" and 29 < delay < 30.1

    async def test_a_configured_bucket_is_shared_sync_and_async(self, redis_url: str) -> None:
        """Four a minute between an async store and a sync one: two each, then both wait
        for the bucket to refill (15 s a request)."""
        of = limiter(requests_per_minute=4)
        blocking = SyncRedisLimits(RedisURL.parse(redis_url))
        try:
            async with store(redis_url) as limits:
                await take(limits, of, 2)
                assert [blocking.acquire(of, ticket())[0] for _ in range(2)] == [0.0, 0.0]
                delay, why = blocking.acquire(of, ticket())
                assert why == "requests (configured)" and 14 < delay < 15.1
                delay, why = await limits.acquire(of, ticket())
                assert why == "requests (configured)" and 14 < delay < 15.1
        finally:
            blocking.close()

    async def test_input_tokens_in_flight_count(self, redis_url: str) -> None:
        """Input tokens of requests in flight count against the input-tokens remaining."""
        of = limiter()
        async with store(redis_url) as limits:
            first, big = ticket(100), ticket(600)
            for held in (first, big):
                assert await limits.acquire(of, held) == (0.0, "")
            reset = datetime.fromtimestamp(time.time() + 30, UTC).isoformat()
            headers = RateLimits(
                input_tokens_limit=10_000,
                input_tokens_remaining=1000,
                input_tokens_reset=reset,
            )
            await limits.answered(of, first, headers, 200)  # 1000 left, 600 in flight
            assert await limits.acquire(of, ticket(400)) == (0.0, "")
            assert await limits.acquire(of, ticket(1)) == (POLL, "input tokens")

    async def test_not_following_headers(self, redis_url: str) -> None:
        """follow_headers=False: what the headers said holds nothing back."""
        of = limiter(follow_headers=False)
        async with store(redis_url) as limits:
            (held,) = await take(limits, of, 1)
            await limits.answered(of, held, said(0, 60), 200)
            assert await goes(limits, of)


#: One step of the differential test: ("acquire", input tokens), ("answer", which ticket
#: in flight, remaining (None: no rate-limit headers), which reset, status) or
#: ("release", which ticket in flight).
STEPS = st.one_of(
    st.tuples(st.just("acquire"), st.integers(0, 400)),
    st.tuples(
        st.just("answer"),
        st.integers(0, 50),
        st.one_of(st.none(), st.integers(0, 12)),
        st.sampled_from([None, 30, 40, 50]),
        st.sampled_from([200] * 15 + [429]),
    ),
    st.tuples(st.just("release"), st.integers(0, 50)),
)


class TestParity:
    @settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(steps=st.lists(STEPS, max_size=40), rpm=st.sampled_from([None, 8]))
    def test_the_scripts_decide_as_the_limiter_does(
        self, redis_url: str, steps: list[tuple[Any, ...]], rpm: int | None
    ) -> None:
        """Any sequence of requests, answers (crossing, of several windows, 429s) and
        give-backs: the Lua scripts and the in-process limiter let the same requests go,
        and make the others wait for the same reason."""
        local = RateLimiter(LimitSettings(requests_per_minute=rpm))
        shared = RateLimiter(LimitSettings(requests_per_minute=rpm), scope=secrets.token_hex(8))
        redis = SyncRedisLimits(RedisURL.parse(redis_url))
        base = time.time()
        resets = {after: base + after for after in (30, 40, 50)}
        held: list[Ticket] = []
        try:
            for step in steps:
                if step[0] == "acquire":
                    new = ticket(step[1])
                    mine = local.try_acquire(time.monotonic(), new)
                    theirs = redis.acquire(shared, new)
                    assert (mine[1], mine[0] > 0) == (theirs[1], theirs[0] > 0), step
                    assert theirs[0] == pytest.approx(mine[0], abs=0.5)
                    if mine[0] == 0:
                        held.append(new)
                elif held:
                    done = held.pop(step[1] % len(held))
                    if step[0] == "release":
                        local.release(done)
                        redis.release(shared, done)
                        continue
                    _, _, remaining, after, status = step
                    reset = None if after is None else resets[after]
                    reset_in = 0.0 if reset is None else reset - time.time()
                    headers = RateLimits(
                        requests_limit=None if remaining is None else 10,
                        requests_remaining=remaining,
                        requests_reset=None
                        if reset is None or remaining is None
                        else datetime.fromtimestamp(reset, UTC).isoformat(),
                        retry_after=20.0 if status == 429 else None,
                    )
                    local.update(
                        time.monotonic(), done, headers, wall=time.time(), status_code=status
                    )
                    redis.answered(shared, done, headers, status)
                    assert reset_in >= 0
        finally:
            redis.close()


class TestState:
    async def test_keys_name_a_hash_of_the_key_and_all_expire(self, redis_url: str) -> None:
        """The keys are named by a hash of base URL and key (never the key itself), under
        one hash tag, and every one of them expires."""
        scope = limit_scope(f"http://{secrets.token_hex(4)}.example/", KEY)
        of = RateLimiter(LimitSettings(requests_per_minute=100), scope=scope)
        async with store(redis_url) as limits, RedisClient(RedisURL.parse(redis_url)) as redis:
            (held, other) = await take(limits, of, 2)
            await limits.answered(of, held, said(5, 60, retry_after=10.0), 429)
            await limits.release(of, other)
            keys = await redis.execute("KEYS", f"{PREFIX}{{{scope}}}:*")
            assert isinstance(keys, list) and len(keys) == 3  # retry, requests, bucket
            for key in keys:
                assert isinstance(key, bytes) and KEY.encode() not in key
                ttl = await redis.execute("PTTL", key)
                assert isinstance(ttl, int) and ttl > 0, key
        assert KEY not in scope and len(scope) == 32

    async def test_a_ticket_is_given_back_once(self, redis_url: str) -> None:
        """Releasing twice, or after the answer, leaves the other requests in flight."""
        of = limiter()
        async with store(redis_url) as limits, RedisClient(RedisURL.parse(redis_url)) as redis:
            first, second = await take(limits, of, 2)
            await limits.answered(of, first, said(5, 60), 200)
            await limits.release(of, first)
            await limits.release(of, first)
            assert await redis.execute("ZCARD", keys_of(of.scope)[0]) == 1
            await limits.release(of, second)
            assert await redis.execute("ZCARD", keys_of(of.scope)[0]) == 0

    async def test_a_lost_request_stops_counting_after_its_lease(self, redis_url: str) -> None:
        """A request never answered (its process died) counts in flight for ``lease``
        seconds only: the next window's count does not hold it against anyone."""
        of = limiter()
        async with (
            store(redis_url, lease=0.2) as limits,
            RedisClient(RedisURL.parse(redis_url)) as redis,
        ):
            first, _lost = await take(limits, of, 2)
            await limits.answered(of, first, said(5, 0.4), 200)
            await anyio.sleep(0.45)
            assert [await goes(limits, of) for _ in range(11)] == [True] * 10 + [False]
            assert await redis.execute("ZCARD", keys_of(of.scope)[0]) == 10

    async def test_unreachable_redis(
        self, redis_url: str, caplog: pytest.LogCaptureFixture
    ) -> None:
        """No Redis: asking for capacity raises RedisError (the request must not go),
        saying where without the password; answers and give-backs are logged, not raised."""
        url = RedisURL.parse(f"redis://:hunter2@127.0.0.1:{closed_port()}/0")
        of = limiter()
        async with store(str(url).replace("<redacted>", ":hunter2"), timeout=1.0) as limits:
            assert "hunter2" not in repr(limits)
            with pytest.raises(sluice.RedisError) as caught:
                await limits.acquire(of, ticket())
            with caplog.at_level(logging.WARNING, logger="sluice"):
                await limits.answered(of, ticket(), said(5, 60), 200)
                await limits.release(of, ticket())
        assert "not sent" in str(caught.value) and "hunter2" not in str(caught.value)
        assert len(caplog.records) == 2
        assert all("hunter2" not in record.getMessage() for record in caplog.records)

    async def test_a_redis_that_never_answers(self, caplog: pytest.LogCaptureFixture) -> None:
        """A Redis that accepts and never answers holds a request back for ``timeout``, then
        RedisTimeoutError (a RedisError): not sent, never a hang. Answers and give-backs
        are bounded too, and logged, not raised."""
        of = limiter()
        with fake_redis(None) as url:
            async with store(url, timeout=0.3) as limits:
                with anyio.fail_after(5):
                    with pytest.raises(sluice.RedisTimeoutError) as caught:
                        await limits.acquire(of, ticket())
                    with caplog.at_level(logging.WARNING, logger="sluice"):
                        await limits.answered(of, ticket(), said(5, 60), 200)
                        await limits.release(of, ticket())
        assert isinstance(caught.value, sluice.RedisError) and "not sent" in str(caught.value)
        assert any("not updated" in record.getMessage() for record in caplog.records)

    def test_a_redis_that_never_answers_sync(self, caplog: pytest.LogCaptureFixture) -> None:
        """The blocking twin: RedisTimeoutError after ``timeout``, the request not sent;
        answers and give-backs bounded and logged."""
        of = limiter()
        with fake_redis(None) as url:
            limits = SyncRedisLimits(RedisURL.parse(url), timeout=0.3)
            try:
                started = time.monotonic()
                with pytest.raises(sluice.RedisTimeoutError) as caught:
                    limits.acquire(of, ticket())
                with caplog.at_level(logging.WARNING, logger="sluice"):
                    limits.answered(of, ticket(), said(5, 60), 200)
                    limits.release(of, ticket())
                assert time.monotonic() - started < 5
            finally:
                limits.close()
        assert "not sent" in str(caught.value)
        assert len(caplog.records) == 2

    @pytest.mark.parametrize("answer", [b"+OK\r\n", b"?what\r\n"], ids=["shape", "not-resp"])
    async def test_a_server_that_is_not_redis(self, answer: bytes) -> None:
        """A reply that is not the script's, or not RESP: RedisProtocolError, not sent."""
        with fake_redis(answer) as url:
            async with store(url, timeout=1.0) as limits:
                with anyio.fail_after(5), pytest.raises(sluice.RedisProtocolError) as caught:
                    await limits.acquire(limiter(), ticket())
        assert "not sent" in str(caught.value)


def closed_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class TestClients:
    def test_a_malformed_url_is_refused(self) -> None:
        """shared_limits= takes a redis:// URL, checked when the client is made."""
        with pytest.raises(sluice.ConfigError, match="redis://"):
            sluice.AsyncClient(api_key=KEY, shared_limits="http://127.0.0.1:6379")

    async def test_two_clients_keep_to_one_limit(
        self, server: MockAnthropic, redis_url: str
    ) -> None:
        """Two clients (as two processes would be), eight tasks each, against ten per
        half-second window: no window goes over, no 429."""
        limit = server.rate_limit(10, window=0.5)
        server.route("GET", "/v1/models/claude-x", Reply.json(MODEL))
        left = 40

        async def worker(client: sluice.AsyncClient) -> None:
            nonlocal left
            while left > 0:
                left -= 1
                await client.models.get("claude-x")

        options: dict[str, Any] = {
            "api_key": KEY,
            "base_url": server.base_url,
            "shared_limits": redis_url,
            "max_retries": 0,
        }
        async with sluice.AsyncClient(**options) as one, sluice.AsyncClient(**options) as two:
            await one.models.get("claude-x")  # the first answer says what the limit is
            async with anyio.create_task_group() as tg:
                for _ in range(8):
                    tg.start_soon(worker, one)
                    tg.start_soon(worker, two)
        assert (limit.served, limit.rejected) == (41, 0)
        assert limit.most_in_a_window <= 10

    async def test_output_tokens_are_charged_to_the_shared_bucket(
        self, server: MockAnthropic, redis_url: str
    ) -> None:
        """150 output tokens streamed by one client, against 100 a minute configured: its
        next request (which charges them in Redis) and another client's both wait."""
        usage = {"input_tokens": 5, "output_tokens": 150}
        server.route("POST", "/v1/messages", Turn("Rivers.", usage=usage))
        request = {
            "model": "claude-sonnet-4-5",
            "max_tokens": 200,
            "messages": [{"role": "user", "content": "Hi"}],
        }
        options: dict[str, Any] = {
            "api_key": KEY,
            "base_url": server.base_url,
            "shared_limits": redis_url,
            "limits": LimitSettings(output_tokens_per_minute=100),
            "max_retries": 0,
        }
        async with sluice.AsyncClient(**options) as one, sluice.AsyncClient(**options) as two:
            async with two.messages.stream(**request) as stream:  # before: room for it
                await stream.final_message()
            async with one.messages.stream(**request) as stream:
                await stream.final_message()
            for client in (one, two):
                with pytest.raises(sluice.DeadlineExceededError, match="output tokens"):
                    await client.messages.create(**request, deadline=0.3)
        assert len(server.requests) == 2

    async def test_the_sync_client_charges_output_tokens_too(
        self, server: MockAnthropic, redis_url: str
    ) -> None:
        """The same with sluice.Client (in a worker thread): its next request waits, and
        so does an async client sharing the limit."""
        usage = {"input_tokens": 5, "output_tokens": 150}
        server.route("POST", "/v1/messages", Turn("Rivers.", usage=usage))
        request = {
            "model": "claude-sonnet-4-5",
            "max_tokens": 200,
            "messages": [{"role": "user", "content": "Hi"}],
        }
        options: dict[str, Any] = {
            "api_key": KEY,
            "base_url": server.base_url,
            "shared_limits": redis_url,
            "limits": LimitSettings(output_tokens_per_minute=100),
            "max_retries": 0,
        }

        def in_a_thread() -> str:
            with sluice.Client(**options) as client:
                with client.messages.stream(**request) as stream:
                    stream.final_message()
                try:
                    client.messages.create(**request, deadline=0.3)
                except sluice.DeadlineExceededError as exc:
                    return str(exc)
                return "sent"

        assert "output tokens" in await anyio.to_thread.run_sync(in_a_thread)
        async with sluice.AsyncClient(**options) as other:
            with pytest.raises(sluice.DeadlineExceededError, match="output tokens"):
                await other.messages.create(**request, deadline=0.3)
        assert len(server.requests) == 1


async def spawn(mode: str, *args: object, **options: object) -> dict[str, int]:
    """Run the worker process; what it counted."""
    flags = [item for name, value in options.items() for item in (f"--{name}", str(value))]
    result = await anyio.run_process(
        [sys.executable, "-W", "error", str(WORKER), mode, *map(str, args), *flags], check=False
    )
    assert result.returncode == 0, result.stderr.decode()
    counts: dict[str, int] = json.loads(result.stdout)
    return counts


@pytest.mark.parametrize("anyio_backend", ["asyncio"])  # the processes run on each backend
class TestProcesses:
    async def test_three_processes_keep_to_one_limit(
        self, server: MockAnthropic, redis_url: str
    ) -> None:
        """Three processes (asyncio, trio, the sync client's threads), five tasks each, share
        one limit through Redis against ten per half-second window: the API never saw
        more than ten in a window and answered no 429."""
        limit = server.rate_limit(10, window=0.5)
        server.route("GET", "/v1/models/claude-x", Reply.json(MODEL))
        async with sluice.AsyncClient(
            api_key=KEY, base_url=server.base_url, shared_limits=redis_url
        ) as client:
            await client.models.get("claude-x")  # the first answer says what the limit is
        start_at = time.time() + 2.0  # after every process has imported sluice
        results: dict[str, dict[str, int]] = {}

        async def run(mode: str) -> None:
            results[mode] = await spawn(mode, server.base_url, redis_url, 20, 5, start_at)

        async with anyio.create_task_group() as tg:
            for mode in ("asyncio", "trio", "sync"):
                tg.start_soon(run, mode)
        assert results == {mode: {"ok": 20} for mode in ("asyncio", "trio", "sync")}
        assert (limit.served, limit.rejected) == (61, 0)
        assert limit.most_in_a_window <= 10

    async def test_a_configured_limit_is_shared_by_processes(
        self, server: MockAnthropic, redis_url: str
    ) -> None:
        """Six requests a minute, configured in three processes that each try four: six go
        in all, the other six wait past their deadline."""
        server.route("GET", "/v1/models/claude-x", Reply.json(MODEL))
        start_at = time.time() + 2.0
        results: list[dict[str, int]] = []

        async def run(mode: str) -> None:
            counts = await spawn(
                mode, server.base_url, redis_url, 4, 2, start_at, deadline=1.0, rpm=6
            )
            results.append(counts)

        async with anyio.create_task_group() as tg:
            for mode in ("asyncio", "trio", "sync"):
                tg.start_soon(run, mode)
        assert sum(counts.get("ok", 0) for counts in results) == 6
        assert sum(counts.get("deadline", 0) for counts in results) == 6
        assert len(server.requests) == 6
