"""Usage metering over real HTTP on 127.0.0.1: create, streams, recovery, the runner, shared
meters and quotas checked before sending; on asyncio and trio."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import anyio
import httpx
import pytest

import sluice
from sluice.testing import (
    Conversation,
    MockAnthropic,
    Reply,
    Turn,
    install_completions,
    install_count_tokens,
    install_models,
    tool_use,
)
from sluice.types import QuotaSettings

pytestmark = pytest.mark.anyio

SONNET = "claude-sonnet-4-5"
PARAMS: dict[str, Any] = {
    "model": SONNET,
    "max_tokens": 64,
    "messages": [{"role": "user", "content": "Hi"}],
}
#: 100 input, 20 output, 1,000 cache writes (5 minutes), 4,000 cache reads.
CACHED = {
    "input_tokens": 100,
    "output_tokens": 20,
    "cache_creation_input_tokens": 1_000,
    "cache_read_input_tokens": 4_000,
}
#: CACHED on Sonnet 4.5: 100 x $3 + 20 x $15 + 1,000 x $3.75 + 4,000 x $0.30, per million.
CACHED_COST = (300 + 300 + 3_750 + 1_200) / 1e6
#: Reads at $3 - $0.30, minus the writes' premium of $3.75 - $3, per million.
CACHED_SAVINGS = (4_000 * 2.7 - 1_000 * 0.75) / 1e6


def sse(event: dict[str, Any]) -> bytes:
    return f"event: {event['type']}\ndata: {json.dumps(event)}\n\n".encode()


def message_json(usage: dict[str, int], model: str = SONNET) -> dict[str, Any]:
    return {
        "type": "message",
        "id": "msg_1",
        "role": "assistant",
        "model": model,
        "content": [{"type": "text", "text": "Hi"}],
        "stop_reason": "end_turn",
        "stop_sequence": None,
        "usage": usage,
    }


@asynccontextmanager
async def client_for(server: MockAnthropic, **kwargs: Any) -> AsyncIterator[sluice.AsyncClient]:
    kwargs.setdefault("max_retries", 0)
    async with (
        httpx.AsyncClient(timeout=10.0) as http,
        sluice.AsyncClient(
            api_key="sk-meter", base_url=server.base_url, http_client=http, **kwargs
        ) as client,
    ):
        yield client


class TestCreate:
    async def test_usage_cost_and_savings(
        self, server: MockAnthropic, client: sluice.AsyncClient
    ) -> None:
        """A message's usage, cache tokens included, is summed, priced and per model."""
        server.enqueue(Reply.json(message_json(CACHED)), Reply.json(message_json(CACHED)))
        await client.messages.create(**PARAMS)
        await client.messages.create(**PARAMS)
        meter = client.usage
        assert meter.requests == 2
        total = meter.total
        assert (total.input_tokens, total.output_tokens) == (200, 40)
        assert total.cache_creation_input_tokens == 2_000
        assert total.cache_read_input_tokens == 8_000
        assert meter.cost == pytest.approx(2 * CACHED_COST)
        assert meter.cache_savings == pytest.approx(2 * CACHED_SAVINGS)
        assert meter.by_model[SONNET].requests == 2

    async def test_a_failed_request_counts_once(self, server: MockAnthropic) -> None:
        """Retries do not count again, and a request that got no message adds no tokens."""
        overloaded = Reply.error(529, "overloaded_error", "busy", headers={"retry-after": "0"})
        server.enqueue(overloaded, overloaded, overloaded)
        async with client_for(server, max_retries=2) as client:
            with pytest.raises(sluice.OverloadedError):
                await client.messages.create(**PARAMS)
        assert len(server.requests) == 3
        assert client.usage.requests == 1
        assert client.usage.by_model == {}

    async def test_other_endpoints_are_not_metered(
        self, server: MockAnthropic, client: sluice.AsyncClient
    ) -> None:
        """Token counting and the Models API are free: neither counted nor gated."""
        install_count_tokens(server)
        install_models(server)
        await client.messages.count_tokens(**PARAMS)
        await client.models.get(SONNET)
        assert client.usage.requests == 0

    async def test_completions_count_as_requests_without_tokens(
        self, server: MockAnthropic, client: sluice.AsyncClient
    ) -> None:
        """A legacy completion is a request (quotas apply) that reports no usage."""
        install_completions(server)
        await client.completions.create(
            model="claude-2.1", prompt="\n\nHuman: Hi\n\nAssistant:", max_tokens_to_sample=5
        )
        assert client.usage.requests == 1
        assert client.usage.total_tokens == 0


class TestFailover:
    async def test_priced_as_the_model_that_answered(self, server: MockAnthropic) -> None:
        """A request that fails over to another model is one request, priced as that model."""
        server.enqueue(Reply.error(529, "overloaded_error", "Overloaded"))
        async with MockAnthropic() as backup:
            haiku = {"input_tokens": 1_000, "output_tokens": 100}
            backup.enqueue(Reply.json(message_json(haiku, model="claude-haiku-4-5")))
            fallback = sluice.Endpoint(base_url=backup.base_url, model="claude-haiku-4-5")
            async with client_for(server, fallbacks=[fallback]) as client:
                await client.messages.create(**PARAMS)
        meter = client.usage
        assert meter.requests == 1
        assert list(meter.by_model) == ["claude-haiku-4-5"]
        assert meter.cost == pytest.approx((1_000 * 1 + 100 * 5) / 1e6)


class TestStream:
    async def test_the_final_usage_is_recorded(
        self, server: MockAnthropic, client: sluice.AsyncClient
    ) -> None:
        """A stream's usage (message_start, then message_delta) counts once, in full."""
        server.enqueue(Turn("Hello there, friend.", usage=CACHED))
        async with client.messages.stream(**PARAMS) as stream:
            message = await stream.final_message()
        meter = client.usage
        total = meter.total
        counts = ("input_tokens", "output_tokens")
        counts += ("cache_creation_input_tokens", "cache_read_input_tokens")
        assert [getattr(total, name) for name in counts] == [100, 20, 1_000, 4_000]
        assert [getattr(message.usage, name) for name in counts] == [100, 20, 1_000, 4_000]
        assert meter.cost == pytest.approx(CACHED_COST)
        assert meter.requests == 1 and meter.by_model[SONNET].requests == 1

    async def test_metering_does_not_join_the_text_after_every_chunk(
        self, server: MockAnthropic, client: sluice.AsyncClient, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """The meter reads usage after every chunk through MessageAccumulator.peek(): the
        growing text is joined when read, not per chunk (that was quadratic, 1.8x the
        decode floor on a 6 MB message instead of 1.15x)."""
        joins: list[int] = []
        flush = sluice.MessageAccumulator._flush  # type: ignore[attr-defined]

        def counted(self: sluice.MessageAccumulator) -> None:
            joins.append(1)
            flush(self)

        monkeypatch.setattr(sluice.MessageAccumulator, "_flush", counted)
        server.enqueue(Turn("word " * 2_000, chunk=5))
        async with client.messages.stream(**PARAMS) as stream:
            async for _ in stream:
                pass
            message = await stream.final_message()
        assert message.content[0].text == "word " * 2_000  # type: ignore[union-attr]
        assert client.usage.total.output_tokens == message.usage.output_tokens
        assert len(joins) <= 4  # at the end (and final_message), never per chunk

    async def test_usage_counts_while_the_stream_is_open(
        self, server: MockAnthropic, client: sluice.AsyncClient
    ) -> None:
        """message_start's input tokens count as soon as they are read, before the end."""
        events = [sse(event) for event in Turn("Hello there, friend.", usage=CACHED).events()]
        head = b"".join(events[:3])  # message_start, a block's start, its first text
        server.enqueue(Reply.sse(b"".join(events), stall_after=len(head)))
        async with client.messages.stream(**PARAMS) as stream:
            async with anyio.create_task_group() as tasks:
                tasks.start_soon(stream.until_done)  # waits at the stall
                with anyio.fail_after(5):
                    while client.usage.total.input_tokens < 100:  # noqa: ASYNC110
                        await anyio.sleep(0.01)
                tasks.cancel_scope.cancel()
        assert (client.usage.total.input_tokens, client.usage.total.output_tokens) == (100, 1)

    async def test_a_stream_closed_early_counts_what_arrived(
        self, server: MockAnthropic, client: sluice.AsyncClient
    ) -> None:
        """Leaving a stream after its first text still counts the input it reported."""
        server.enqueue(Turn("Hello there, friend.", usage=CACHED, chunk=2))
        async with client.messages.stream(**PARAMS) as stream:
            async for event in stream:
                if isinstance(event, sluice.ContentBlockDelta):
                    break
        total = client.usage.total
        assert (total.input_tokens, total.cache_read_input_tokens) == (100, 4_000)
        assert client.usage.by_model[SONNET].requests == 1

    async def test_a_stream_cut_by_an_error_counts_what_arrived(
        self, server: MockAnthropic, client: sluice.AsyncClient
    ) -> None:
        """An in-stream error ends the stream; the usage it reported is counted."""
        events = Turn("Hello there, friend.", usage=CACHED).events()
        server.enqueue(Reply.events(events, inject_error=(4, "overloaded_error", "Overloaded")))
        async with client.messages.stream(**PARAMS) as stream:
            with pytest.raises(sluice.OverloadedError):
                await stream.final_message()
        total = client.usage.total
        assert (total.input_tokens, total.output_tokens) == (100, 1)


class TestRecovery:
    async def test_every_attempt_is_counted(
        self, server: MockAnthropic, client: sluice.AsyncClient
    ) -> None:
        """A recovered stream is two requests, both billed: the meter sums them as the
        stream's message does."""
        first = Turn("Rivers begin as rain", usage={"input_tokens": 10, "output_tokens": 5})
        second = Turn(" and run to the sea.", usage={"input_tokens": 15, "output_tokens": 6})
        server.enqueue(
            Reply.events(first.events()[:5], inject_error=(5, "overloaded_error", "Overloaded")),
            second,
        )
        async with client.messages.stream(**PARAMS, recover=2) as stream:
            message = await stream.final_message()
        meter = client.usage
        assert meter.requests == 2 == len(server.requests)
        assert meter.by_model[SONNET].requests == 2
        assert meter.total.input_tokens == message.usage.input_tokens == 25
        assert meter.total.output_tokens == message.usage.output_tokens

    async def test_a_quota_stops_the_recovery(self, server: MockAnthropic) -> None:
        """The re-send is a request: a used-up quota refuses it, and the stream's error
        says so."""
        first = Turn("Rivers begin as rain", usage={"input_tokens": 10, "output_tokens": 5})
        server.enqueue(
            Reply.events(first.events()[:5], inject_error=(5, "overloaded_error", "Overloaded"))
        )
        async with client_for(server, quotas=QuotaSettings(requests_per_day=1)) as client:
            async with client.messages.stream(**PARAMS, recover=2) as stream:
                with pytest.raises(sluice.OverloadedError) as caught:
                    await stream.final_message()
        assert len(server.requests) == 1
        assert any("requests_per_day" in note for note in caught.value.__notes__)
        assert isinstance(caught.value.__cause__, sluice.QuotaExceededError)


class TestQuotas:
    async def test_refused_before_sending(self, server: MockAnthropic) -> None:
        """Once the day's requests are used up, create and stream raise without sending."""
        server.enqueue(Reply.json(message_json(CACHED)))
        async with client_for(server, quotas=QuotaSettings(requests_per_day=1)) as client:
            await client.messages.create(**PARAMS)
            with pytest.raises(sluice.QuotaExceededError) as caught:
                await client.messages.create(**PARAMS)
            with pytest.raises(sluice.QuotaExceededError):
                async with client.messages.stream(**PARAMS):
                    pass  # pragma: no cover - refused on enter
        assert len(server.requests) == 1
        error = caught.value
        assert (error.quota, error.used, error.limit) == ("requests_per_day", 1, 1)
        assert "sk-meter" not in str(error) and "sk-meter" not in repr(error)
        assert client.usage.requests == 1

    async def test_cost_quota_refuses_the_request_after(self, server: MockAnthropic) -> None:
        """Cost is known after a response: the request that reaches the quota completes,
        the next one is refused."""
        expensive = message_json({"input_tokens": 1_000, "output_tokens": 0})  # $0.003
        server.enqueue(Reply.json(expensive))
        async with client_for(server, quotas=QuotaSettings(cost_per_day=0.002)) as client:
            await client.messages.create(**PARAMS)
            with pytest.raises(sluice.QuotaExceededError) as caught:
                await client.messages.create(**PARAMS)
        assert caught.value.quota == "cost_per_day"
        assert caught.value.used == pytest.approx(0.003)
        assert len(server.requests) == 1

    async def test_quotas_belong_to_the_meter(self, server: MockAnthropic) -> None:
        """quotas= and meter= together are refused: the quotas go to the meter."""
        with pytest.raises(ValueError, match="UsageMeter"):
            async with client_for(
                server, meter=sluice.UsageMeter(), quotas=QuotaSettings(requests_per_day=1)
            ):
                pass  # pragma: no cover

    async def test_headroom_in_the_json_export(self, server: MockAnthropic) -> None:
        """The JSON export carries the usage and each quota's headroom."""
        server.enqueue(Reply.json(message_json(CACHED)))
        quotas = QuotaSettings(requests_per_day=10, cost_per_month=1.0)
        async with client_for(server, quotas=quotas) as client:
            await client.messages.create(**PARAMS)
            data = client.usage.to_dict()
        assert data["requests"] == 1
        assert data["models"][SONNET]["usage"]["cache_read_input_tokens"] == 4_000
        day, month = data["quotas"]
        assert (day["quota"], day["used"], day["remaining"]) == ("requests_per_day", 1, 9)
        assert month["quota"] == "cost_per_month"
        assert month["remaining"] == pytest.approx(1.0 - CACHED_COST)


class TestSharedMeter:
    async def test_two_clients_one_meter(self, server: MockAnthropic) -> None:
        """Clients given one meter count into it, and share its quotas."""
        meter = sluice.UsageMeter(quotas=QuotaSettings(requests_per_day=2))
        server.enqueue(Reply.json(message_json(CACHED)), Reply.json(message_json(CACHED)))
        async with client_for(server, meter=meter) as one, client_for(server, meter=meter) as two:
            await one.messages.create(**PARAMS)
            await two.messages.create(**PARAMS)
            assert one.usage is two.usage is meter
            with pytest.raises(sluice.QuotaExceededError):
                await one.messages.create(**PARAMS)
        assert meter.requests == 2 and meter.cost == pytest.approx(2 * CACHED_COST)


class TestRunner:
    async def test_run_usage_lands_in_the_meter(
        self, server: MockAnthropic, client: sluice.AsyncClient
    ) -> None:
        """Each step of an agent run is a stream of the client: the meter has the run's
        usage and cost."""

        @sluice.tool
        async def get_weather(city: str) -> str:
            """The weather of a city.

            Args:
                city: its name.
            """
            return f"Sunny in {city}"

        server.route(
            "POST",
            "/v1/messages",
            Conversation(
                Turn(tool_use("get_weather", {"city": "Paris"}), usage=CACHED),
                Turn("Sunny.", usage={"input_tokens": 150, "output_tokens": 10}),
            ),
        )
        async with client.messages.run(**PARAMS, tools=[get_weather]) as run:
            await run.final_message()
        meter = client.usage
        assert meter.requests == run.steps == 2
        assert (meter.total.input_tokens, meter.total.output_tokens) == (
            run.usage.input_tokens,
            run.usage.output_tokens,
        )
        assert meter.total.cache_read_input_tokens == run.usage.cache_read_input_tokens
        assert meter.cost == pytest.approx(run.cost)
