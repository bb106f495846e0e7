"""Rate limiting from the API's headers: 429s collected, and throughput, with and without it.

MockAnthropic plays an API with a limit of N requests per one-second window, reporting it
as the real API does (``anthropic-ratelimit-requests-limit/remaining/reset`` on every
response, a 429 with ``retry-after`` once the window is spent). Concurrent tasks then
make a fixed number of requests through ``sluice.AsyncClient``:

- **limiter on** (the default): requests wait as the headers say;
- **limiter off** (``LimitSettings(follow_headers=False)``): requests go, collect 429s and
  retry with backoff (honouring ``retry-after``), as a client without a limiter does.

Both use the same retry budget. Reported: 429s the server sent, requests that failed,
throughput (successful requests per second) and wall time.

Usage::

    .venv/bin/python benchmarks/limits.py             # ~30 s
    .venv/bin/python benchmarks/limits.py --quick     # smoke run
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from datetime import UTC, datetime

import anyio

import sluice
from sluice.testing import MockAnthropic, RecordedRequest, Reply
from sluice.types import LimitSettings

MODEL = {"type": "model", "id": "claude-x", "display_name": "X", "created_at": "t"}


class WindowLimit:
    """A fixed one-second window of ``limit`` requests, with the API's headers."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.window = 0
        self.used = 0
        self.too_many = 0
        self.served = 0

    def __call__(self, request: RecordedRequest) -> Reply:
        now = time.time()
        window = int(now)
        if window != self.window:
            self.window, self.used = window, 0
        reset = datetime.fromtimestamp(window + 1, UTC).isoformat().replace("+00:00", "Z")
        if self.used >= self.limit:
            self.too_many += 1
            wait = max(window + 1 - now, 0.0)
            return Reply.error(
                429,
                "rate_limit_error",
                "Number of requests has exceeded your rate limit",
                headers={
                    "retry-after": f"{wait:.3f}",
                    "anthropic-ratelimit-requests-limit": str(self.limit),
                    "anthropic-ratelimit-requests-remaining": "0",
                    "anthropic-ratelimit-requests-reset": reset,
                },
            )
        self.used += 1
        self.served += 1
        return Reply.json(
            MODEL,
            headers={
                "anthropic-ratelimit-requests-limit": str(self.limit),
                "anthropic-ratelimit-requests-remaining": str(self.limit - self.used),
                "anthropic-ratelimit-requests-reset": reset,
            },
        )


async def run(limit: int, requests: int, tasks: int, follow: bool) -> dict[str, float]:
    window = WindowLimit(limit)
    failed = 0
    async with MockAnthropic() as server:
        server.route("GET", "/v1/models/claude-x", window)
        async with sluice.AsyncClient(
            api_key="bench",
            base_url=server.base_url,
            max_retries=8,
            limits=LimitSettings(follow_headers=follow),
        ) as client:
            remaining = requests

            async def worker() -> None:
                nonlocal remaining, failed
                while remaining > 0:
                    remaining -= 1
                    try:
                        await client.models.get("claude-x")
                    except sluice.RateLimitError:
                        failed += 1

            started = time.perf_counter()
            async with anyio.create_task_group() as tg:
                for _ in range(tasks):
                    tg.start_soon(worker)
            elapsed = time.perf_counter() - started
    return {
        "429s": window.too_many,
        "failed": failed,
        "ok": window.served,
        "seconds": elapsed,
        "rps": window.served / elapsed,
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args(argv)
    limit, requests, tasks = (10, 25, 8) if args.quick else (20, 200, 16)
    print(
        f"API limit: {limit} requests per 1 s window; {requests} requests from {tasks} "
        "concurrent tasks, max_retries=8"
    )
    print(f"{'limiter':<10}{'429s':>8}{'failed':>8}{'ok':>6}{'seconds':>10}{'req/s':>8}")
    results = {}
    for follow in (True, False):
        result = anyio.run(run, limit, requests, tasks, follow)
        results[follow] = result
        label = "on" if follow else "off"
        print(
            f"{label:<10}{result['429s']:>8.0f}{result['failed']:>8.0f}{result['ok']:>6.0f}"
            f"{result['seconds']:>10.2f}{result['rps']:>8.1f}"
        )
    on, off = results[True], results[False]
    print(
        f"429s with the limiter: {on['429s']:.0f} vs {off['429s']:.0f} without; "
        f"throughput {on['rps']:.1f} vs {off['rps']:.1f} req/s"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
