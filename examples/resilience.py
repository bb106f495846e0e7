"""Resilience at work, with no API key: two mock APIs on 127.0.0.1 misbehaving on purpose.

Scenes, each over real HTTP against ``sluice.testing.MockAnthropic``:

1. **rate limits**: the API says its request window is spent (``remaining: 0`` with a reset
   time) and answers a 429 with ``retry-after``: requests wait for capacity instead of
   collecting 429s (the waits are logged on the ``sluice`` logger).
2. **circuit breaker**: the API overloads (529) again and again: after three failures the
   breaker opens and the next call fails at once, unsent; after the cooldown a probe
   closes it.
3. **failover**: the primary keeps overloading; the request moves to a second endpoint
   with another model, and the reason is reported to the ``on_failover`` hook.
4. **stream recovery**: a stream dies mid-sentence (an in-stream ``overloaded_error``);
   with ``recover=`` it continues from the text received, as one stream.
5. **health and curl**: ``client.health()`` probes both endpoints; a failed request is
   reproduced as a copy-paste ``curl`` command, key redacted.
6. **usage, cost and quotas**: a cached prompt and a stream are metered and priced, with
   what the cache saved; a third request over the day's quota is refused before it is
   sent; the meter's state comes out as JSON.

Options: ``--backend trio``; ``--quiet`` to hide the log lines.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from datetime import UTC, datetime, timedelta
from typing import Any

import anyio

import sluice
from sluice.testing import MockAnthropic, Reply
from sluice.types import BreakerSettings, FailoverRecord, QuotaSettings

MODEL = {"type": "model", "id": "claude-sonnet-4-5", "display_name": "Sonnet", "created_at": "t"}
REQUEST: dict[str, Any] = {
    "model": "claude-sonnet-4-5",
    "max_tokens": 200,
    "messages": [{"role": "user", "content": "Tell me about rivers."}],
}


def sse(*events: dict[str, Any]) -> bytes:
    return b"".join(
        f"event: {event['type']}\ndata: {json.dumps(event)}\n\n".encode() for event in events
    )


def message_events(text: list[str], model: str = "claude-sonnet-4-5") -> list[dict[str, Any]]:
    return [
        {
            "type": "message_start",
            "message": {
                "id": "msg_1",
                "type": "message",
                "role": "assistant",
                "model": model,
                "content": [],
                "stop_reason": None,
                "stop_sequence": None,
                "usage": {"input_tokens": 12, "output_tokens": 1},
            },
        },
        {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}},
        *(
            {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": t}}
            for t in text
        ),
    ]


def ending(output_tokens: int) -> list[dict[str, Any]]:
    return [
        {"type": "content_block_stop", "index": 0},
        {
            "type": "message_delta",
            "delta": {"stop_reason": "end_turn", "stop_sequence": None},
            "usage": {"output_tokens": output_tokens},
        },
        {"type": "message_stop"},
    ]


def message_json(text: str, model: str, usage: dict[str, int] | None = None) -> dict[str, Any]:
    return {
        "type": "message",
        "id": "msg_2",
        "role": "assistant",
        "model": model,
        "content": [{"type": "text", "text": text}],
        "stop_reason": "end_turn",
        "stop_sequence": None,
        "usage": usage or {"input_tokens": 12, "output_tokens": 5},
    }


def overloaded() -> Reply:
    return Reply.error(529, "overloaded_error", "Overloaded")


async def rate_limits(api: MockAnthropic) -> None:
    print("1. rate limits")
    reset = (datetime.now(UTC) + timedelta(seconds=0.4)).isoformat().replace("+00:00", "Z")
    spent = {
        "anthropic-ratelimit-requests-limit": "50",
        "anthropic-ratelimit-requests-remaining": "0",
        "anthropic-ratelimit-requests-reset": reset,
    }
    api.enqueue(
        Reply.json(MODEL, headers=spent),
        Reply.json(MODEL),
        Reply.error(429, "rate_limit_error", "slow down", headers={"retry-after": "0.3"}),
        Reply.json(MODEL),
    )
    async with sluice.AsyncClient(api_key="sk-demo", base_url=api.base_url) as client:
        for _ in range(3):
            await client.models.get("claude-sonnet-4-5")
        limiter = client.rate_limiter
        print(f"   3 calls done, {limiter.waits} wait(s) for capacity, {limiter.waited:.2f} s")


async def breaker(api: MockAnthropic) -> None:
    print("2. circuit breaker")
    api.enqueue(overloaded(), overloaded(), overloaded(), Reply.json(MODEL))
    settings = BreakerSettings(failure_threshold=3, cooldown=0.3)
    async with sluice.AsyncClient(
        api_key="sk-demo", base_url=api.base_url, max_retries=0, breaker=settings
    ) as client:
        for _ in range(3):
            try:
                await client.models.get("claude-sonnet-4-5")
            except sluice.OverloadedError:
                print("   529 overloaded")
        sent = len(api.requests)
        try:
            await client.models.get("claude-sonnet-4-5")
        except sluice.CircuitOpenError as exc:
            print(f"   refused at once, unsent ({len(api.requests) - sent} requests): {exc}")
        await anyio.sleep(0.35)
        model = await client.models.get("claude-sonnet-4-5")
        print(f"   after the cooldown, a probe: {model.id}; the breaker is closed again")


async def failover(primary: MockAnthropic, backup: MockAnthropic) -> None:
    print("3. failover")
    primary.enqueue(overloaded())
    backup.enqueue(Reply.json(message_json("Rivers carve valleys.", "claude-haiku-4-5")))
    switches: list[FailoverRecord] = []
    async with sluice.AsyncClient(
        api_key="sk-demo",
        base_url=primary.base_url,
        max_retries=0,
        fallbacks=[
            sluice.Endpoint(base_url=backup.base_url, model="claude-haiku-4-5", name="backup")
        ],
        on_failover=switches.append,
    ) as client:
        message = await client.messages.create(**REQUEST)
    for switch in switches:
        print(f"   moved from {switch.from_endpoint} to {switch.to_endpoint}: {switch.reason}")
    print(f"   answered by {message.model}: {message.content[0].text}")  # type: ignore[union-attr]


async def recovery(api: MockAnthropic) -> None:
    print("4. stream recovery")
    died = sse(
        *message_events(["Rivers begin ", "as rain on high"]),
        {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}},
    )
    rest = sse(*message_events([" ground and run", " to the sea."]), *ending(9))
    api.enqueue(Reply.sse(died), Reply.sse(rest))
    async with sluice.AsyncClient(api_key="sk-demo", base_url=api.base_url) as client:
        async with client.messages.stream(**REQUEST, recover=2) as stream:
            print("   ", end="")
            async for text in stream.text_stream:
                print(text, end="", flush=True)
            message = await stream.final_message()
        print()
        print(
            f"   {stream.attempts} requests, one stream; usage summed: "
            f"{message.usage.input_tokens} in, {message.usage.output_tokens} out"
        )
        print(f"   recovered from: {stream.recoveries[0]}")


async def health_and_curl(primary: MockAnthropic, backup: MockAnthropic) -> None:
    print("5. health and curl")
    backup.route("GET", "/v1/models", Reply.json({"data": [MODEL], "has_more": False}))
    primary.enqueue(Reply.error(503, "api_error", "maintenance"))
    primary.enqueue(Reply.error(400, "invalid_request_error", "max_tokens: too large"))
    async with sluice.AsyncClient(
        api_key="sk-ant-demo-SECRET",
        base_url=primary.base_url,
        max_retries=0,
        fallbacks=[sluice.Endpoint(base_url=backup.base_url, name="backup")],
    ) as client:
        for report in await client.health():
            state = "ok" if report.ok else f"down ({report.error})"
            print(f"   {report.endpoint}: {state}, {report.latency * 1000:.1f} ms")
        try:
            await client.messages.create(**REQUEST)
        except sluice.BadRequestError as exc:
            command = exc.curl()
            print(f"   reproduce: {command[:100]}...")
            assert "SECRET" not in command


async def usage_and_quotas(api: MockAnthropic) -> None:
    print("6. usage, cost and quotas")
    cached = {"input_tokens": 12, "output_tokens": 5, "cache_read_input_tokens": 3000}
    api.enqueue(
        Reply.json(message_json("Rivers carve valleys.", "claude-sonnet-4-5", cached)),
        Reply.sse(sse(*message_events(["Rivers ", "meet the sea."]), *ending(9))),
    )
    quotas = QuotaSettings(requests_per_day=2, cost_per_month=50.0)
    async with sluice.AsyncClient(
        api_key="sk-demo", base_url=api.base_url, quotas=quotas
    ) as client:
        await client.messages.create(**REQUEST)
        async with client.messages.stream(**REQUEST) as stream:
            await stream.final_message()
        sent = len(api.requests)
        try:
            await client.messages.create(**REQUEST)
        except sluice.QuotaExceededError as exc:
            print(
                f"   refused before sending ({len(api.requests) - sent} requests): "
                f"{exc.quota} {exc.used} of {exc.limit}"
            )
        meter = client.usage
        print(
            f"   {meter.requests} requests, {meter.total_tokens} tokens "
            f"({meter.total.cache_read_input_tokens} read from the cache): ${meter.cost:.6f}, "
            f"the cache saved ${meter.cache_savings:.6f}"
        )
        report = json.loads(meter.to_json())
        month = report["quotas"][1]
        print(
            f"   as JSON: {report['day']['requests']} requests today; {month['quota']} "
            f"${month['used']:.6f} used, ${month['remaining']:.2f} left"
        )


async def main(quiet: bool) -> None:
    if not quiet:
        logging.basicConfig(stream=sys.stdout, format="   [log] %(message)s")
        logging.getLogger("sluice").setLevel(logging.INFO)
    async with MockAnthropic() as primary, MockAnthropic() as backup:
        await rate_limits(primary)
        await breaker(primary)
        await failover(primary, backup)
        await recovery(primary)
        await health_and_curl(primary, backup)
        await usage_and_quotas(primary)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--backend", choices=["asyncio", "trio"], default="asyncio")
    parser.add_argument("--quiet", action="store_true", help="hide the sluice log lines")
    args = parser.parse_args()
    anyio.run(main, args.quiet, backend=args.backend)
