"""Cancellation safety of the requester's bookkeeping, over real HTTP on asyncio and trio.

Each attempt takes two things that must be given back exactly once, however it ends: the
circuit breaker's one half-open probe and the rate limiter's count of a request in flight.
A request is cancelled (``move_on_after``, a cancel scope, a deadline) at each of its await
points -- the rate-limit wait, the hooks, the send, the backoff -- and the tests check
what the next requests see: the probe came back, the count is right, and nothing stays
counted in flight, whether the limits live in this process or in Redis. (Async only: the
sync client cannot be cancelled; ``tests/sync/test_sync_blocking.py`` raises from hooks.)
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import anyio
import httpx
import pytest

import sluice
from sluice._core._resp import RedisURL
from sluice._redis._client import RedisClient
from sluice._redis._limits import keys_of
from sluice.testing import MockAnthropic, RecordedRequest, Reply
from sluice.types import BreakerSettings

pytestmark = pytest.mark.anyio

KEY = "sk-ant-api03-cancellation-SECRET"
MODEL = {"type": "model", "id": "claude-x", "display_name": "X", "created_at": "t"}
#: An open breaker lets a probe through after this long.
COOLDOWN = 0.1


def left(remaining: int, *, limit: int = 50) -> dict[str, str]:
    """Headers saying ``remaining`` requests are left until a reset a minute away."""
    reset = (datetime.now(UTC) + timedelta(seconds=60)).isoformat().replace("+00:00", "Z")
    return {
        "anthropic-ratelimit-requests-limit": str(limit),
        "anthropic-ratelimit-requests-remaining": str(remaining),
        "anthropic-ratelimit-requests-reset": reset,
    }


def overloaded(**headers: str) -> Reply:
    return Reply.error(529, "overloaded_error", "Overloaded", headers=headers or None)


@asynccontextmanager
async def client_for(server: MockAnthropic, **kwargs: Any) -> AsyncIterator[sluice.AsyncClient]:
    kwargs.setdefault("max_retries", 0)
    limits = kwargs.pop("pool", None)
    async with (
        httpx.AsyncClient(timeout=10.0, limits=limits or httpx.Limits()) as http,
        sluice.AsyncClient(
            api_key=KEY, base_url=server.base_url, http_client=http, **kwargs
        ) as client,
    ):
        yield client


class Blocker:
    """A hook that blocks (until cancelled) while :attr:`on` is set."""

    def __init__(self) -> None:
        self.on = False
        self.entered = anyio.Event()

    async def __call__(self, record: object) -> None:
        if self.on:
            self.entered.set()
            await anyio.sleep_forever()


async def open_breaker(client: sluice.AsyncClient, server: MockAnthropic, **headers: str) -> None:
    """One 529 opens the breaker (threshold 1); return once its cooldown has passed."""
    server.enqueue(overloaded(**headers))
    with pytest.raises(sluice.OverloadedError):
        await client.models.get("claude-x")
    await anyio.sleep(COOLDOWN * 1.5)


BREAKER = BreakerSettings(failure_threshold=1, cooldown=COOLDOWN)


class TestProbe:
    async def test_cancelled_during_the_rate_limit_wait(self, server: MockAnthropic) -> None:
        """A probe cancelled while it waits for rate-limit capacity is given back: the next
        request becomes the probe (and waits too) instead of being refused for good."""
        async with client_for(server, breaker=BREAKER) as client:
            await open_breaker(client, server, **left(0))  # and no capacity left
            with anyio.move_on_after(0.2) as scope:
                await client.models.get("claude-x")  # the probe, waiting for capacity
            assert scope.cancelled_caught
            with pytest.raises(sluice.DeadlineExceededError):
                await client.models.get("claude-x", deadline=0.2)
        assert len(server.requests) == 1

    async def test_cancelled_in_the_on_request_hook(self, server: MockAnthropic) -> None:
        """A probe cancelled in the ``on_request`` hook is given back: the next request is
        the probe, goes, and closes the breaker."""
        hook = Blocker()
        async with client_for(server, breaker=BREAKER, on_request=hook) as client:
            await open_breaker(client, server)
            hook.on = True
            with anyio.move_on_after(0.2) as scope:
                await client.models.get("claude-x")
            assert scope.cancelled_caught
            hook.on = False
            server.enqueue(Reply.json(MODEL))
            assert (await client.models.get("claude-x")).id == "claude-x"
            server.enqueue(Reply.json(MODEL))
            assert (await client.models.get("claude-x")).id == "claude-x"  # closed again
        assert len(server.requests) == 3

    async def test_only_the_probe_gives_the_probe_back(self, server: MockAnthropic) -> None:
        """A request let through while the breaker was closed, cancelled after it turned
        half-open, does not give back the probe another request holds: one probe at a time."""
        hook = Blocker()
        hold, arrived = anyio.Event(), anyio.Event()

        async def slow(request: RecordedRequest) -> Reply:
            arrived.set()
            await hold.wait()
            return Reply.json(MODEL)

        async with client_for(server, breaker=BREAKER, on_request=hook) as client:
            async with anyio.create_task_group() as tg:
                early = anyio.CancelScope()

                async def let_through_early() -> None:
                    with early:
                        await client.models.get("claude-x")

                hook.on = True
                tg.start_soon(let_through_early)
                await hook.entered.wait()  # allowed while closed, now held in its hook
                hook.on = False
                await open_breaker(client, server)
                server.enqueue(slow)
                tg.start_soon(client.models.get, "claude-x")  # the probe, held by the server
                await arrived.wait()
                early.cancel()
                await anyio.sleep(0.05)
                with pytest.raises(sluice.CircuitOpenError):
                    await client.models.get("claude-x")  # the probe is still out
                hold.set()
        assert len(server.requests) == 2


class TestInFlight:
    async def test_cancelled_in_the_on_request_hook(self, server: MockAnthropic) -> None:
        """A request cancelled in its ``on_request`` hook is no longer counted in flight:
        a response saying one is left lets exactly one more request go at once."""
        hook = Blocker()
        async with client_for(server, on_request=hook) as client:
            hook.on = True
            with anyio.move_on_after(0.2) as scope:
                await client.models.get("claude-x")
            assert scope.cancelled_caught
            hook.on = False
            server.enqueue(Reply.json(MODEL, headers=left(1)), Reply.json(MODEL))
            await client.models.get("claude-x")
            assert (await client.models.get("claude-x", deadline=0.5)).id == "claude-x"
            with pytest.raises(sluice.DeadlineExceededError):
                await client.models.get("claude-x", deadline=0.2)
        assert len(server.requests) == 2

    @pytest.mark.parametrize("where", ["on_retry hook", "backoff"])
    async def test_cancelled_after_a_connection_error(
        self, server: MockAnthropic, where: str
    ) -> None:
        """A request whose connection failed gave its count back once, not again when it
        is cancelled in the ``on_retry`` hook or the backoff: another request still in
        flight stays counted against what the headers say is left."""
        hold, arrived, retrying = anyio.Event(), anyio.Event(), anyio.Event()

        async def in_flight(request: RecordedRequest) -> Reply:
            arrived.set()
            await hold.wait()
            return Reply.json(MODEL)

        async def on_retry(record: object) -> None:
            retrying.set()
            if where == "on_retry hook":
                await anyio.sleep_forever()

        server.enqueue(in_flight, Reply.drop(), Reply.json(MODEL, headers=left(1)))
        server.route("GET", "/v1/models/claude-x", Reply.json(MODEL))
        async with client_for(server, max_retries=1, on_retry=on_retry) as client:
            async with anyio.create_task_group() as tg:
                tg.start_soon(client.models.get, "claude-x")  # A: held by the server
                await arrived.wait()
                dropped = anyio.CancelScope()

                async def drop_then_retry() -> None:
                    with dropped:
                        await client.models.get("claude-x")

                tg.start_soon(drop_then_retry)
                await retrying.wait()
                dropped.cancel()
                await anyio.sleep(0.05)
                # One left, and A (still in flight) may yet count against it: nothing goes.
                await client.models.get("claude-x")
                with pytest.raises(sluice.DeadlineExceededError):
                    await client.models.get("claude-x", deadline=0.3)
                hold.set()
        assert len(server.requests) == 3


class TestConnection:
    async def test_cancelled_in_the_on_response_hook(self, server: MockAnthropic) -> None:
        """A request cancelled in its ``on_response`` hook closes its response: with a pool
        of one connection, the next request gets it instead of timing out on the pool."""
        hook = Blocker()
        server.route("GET", "/v1/models/claude-x", Reply.json(MODEL))
        pool = httpx.Limits(max_connections=1)
        async with client_for(server, on_response=hook, pool=pool, timeout=1.0) as client:
            hook.on = True
            with anyio.move_on_after(0.2) as scope:
                await client.models.get("claude-x")
            assert scope.cancelled_caught
            hook.on = False
            assert (await client.models.get("claude-x")).id == "claude-x"


POINTS = ["rate-limit wait", "on_request hook", "send", "on_retry hook", "backoff", "on_response"]


class TestEveryAwaitPoint:
    @pytest.mark.parametrize("store", ["local", "redis"])
    @pytest.mark.parametrize("point", POINTS)
    async def test_nothing_stays_in_flight(
        self, server: MockAnthropic, point: str, store: str, request: pytest.FixtureRequest
    ) -> None:
        """Cancelled at any await point of an attempt, with the limits in this process or
        shared through Redis: no request is left counted in flight."""
        reached, hold = anyio.Event(), anyio.Event()

        async def block(record: object) -> None:
            reached.set()
            await anyio.sleep_forever()

        async def signal(record: object) -> None:
            reached.set()

        async def held(request: RecordedRequest) -> Reply:
            reached.set()
            await hold.wait()
            return Reply.json(MODEL)

        options: dict[str, Any] = {"max_retries": 1}
        if store == "redis":
            options["shared_limits"] = redis_url = request.getfixturevalue("redis_url")
        hooks = {
            "on_request hook": ("on_request", block),
            "on_retry hook": ("on_retry", block),
            "backoff": ("on_retry", signal),
            "on_response": ("on_response", block),
        }
        if point in hooks:
            name, hook = hooks[point]
            options[name] = hook
        replies = {
            "rate-limit wait": Reply.json(MODEL, headers=left(0)),
            "send": held,
            "on_retry hook": Reply.drop(),
            "backoff": Reply.drop(),
        }
        server.enqueue(replies.get(point, Reply.json(MODEL)))
        async with client_for(server, **options) as client:
            if point == "rate-limit wait":
                await client.models.get("claude-x")  # nothing left: the next one waits
            with anyio.CancelScope() as scope:
                async with anyio.create_task_group() as tg:
                    tg.start_soon(client.models.get, "claude-x")
                    if point == "rate-limit wait":
                        await anyio.sleep(0.1)
                    else:
                        await reached.wait()
                    scope.cancel()
            hold.set()
            assert client.rate_limiter.in_flight == 0
            if store == "redis":
                async with RedisClient(RedisURL.parse(redis_url)) as redis:
                    pending = keys_of(client.rate_limiter.scope)[0]
                    assert await redis.execute("ZCARD", pending) == 0
