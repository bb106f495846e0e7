"""Rate limiting from the API's headers: 429s collected, and throughput, with and without it.

MockAnthropic plays an API with a limit of N requests per fixed window
(``MockAnthropic.rate_limit``), reporting it as the real API does
(``anthropic-ratelimit-requests-limit/remaining/reset`` on every response, a 429 with
``retry-after`` once the window is spent). Concurrent tasks then make a fixed number of
requests through ``sluice.AsyncClient``, in three scenes:

1. **one client**: 16 tasks, 20 requests per 1 s window, answers at once;
2. **answers that cross**: 6 tasks, 10 requests per 0.5 s window, each answer taking
   0 to 50 ms after the API counted its request (seeded), so answers arrive out of order;
3. **three clients, one key** (as three processes would be): 6 tasks each, 20 requests per
   1 s window in all, each client with its own limiter, then sharing one through Redis
   (``shared_limits=``). Needs a redis-server: ``--redis URL``, else one is started from
   ``redis-server`` on the PATH, else the scene is skipped.

Each scene runs with the limiter on (the default: requests wait as the headers say) and
off (``LimitSettings(follow_headers=False)``: requests go, collect 429s and retry with
backoff, honouring ``retry-after``), with the same retry budget. Reported: 429s the API
sent, requests that failed, throughput (successful requests per second) and wall time.
The first answer of each client says what the limit is; until then nothing holds
requests back, so each scene starts after one request per client.

Usage::

    .venv/bin/python benchmarks/limits.py             # ~40 s
    .venv/bin/python benchmarks/limits.py --quick     # smoke run
"""

from __future__ import annotations

import argparse
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

import anyio

import sluice
from sluice.testing import MockAnthropic, RecordedRequest, Reply
from sluice.types import LimitSettings

MODEL = {"type": "model", "id": "claude-x", "display_name": "X", "created_at": "t"}


@dataclass(frozen=True)
class Scene:
    name: str
    limit: int
    window: float
    requests: int
    tasks: int
    clients: int = 1
    latency: float = 0.0  # an answer takes up to this long after the API counted it


async def run(scene: Scene, mode: str, redis: str | None = None) -> dict[str, float]:
    """``mode``: "on", "off" or "shared" (on, through Redis)."""
    failed = 0
    rng = random.Random(12)

    async def answer(request: RecordedRequest) -> Reply:
        await anyio.sleep(rng.uniform(0, scene.latency))
        return Reply.json(MODEL)

    async with MockAnthropic() as server:
        limit = server.rate_limit(scene.limit, window=scene.window)
        server.route("GET", "/v1/models/claude-x", answer if scene.latency else Reply.json(MODEL))
        key = f"bench-{time.time_ns()}"  # one key for every client; in Redis, a new scope
        clients = [
            sluice.AsyncClient(
                api_key=key,
                base_url=server.base_url,
                max_retries=8,
                limits=LimitSettings(follow_headers=mode != "off"),
                shared_limits=redis if mode == "shared" else None,
            )
            for _ in range(scene.clients)
        ]
        try:
            for client in clients:
                await client.models.get("claude-x")  # its first answer says what the limit is
            remaining = scene.requests

            async def worker(client: sluice.AsyncClient) -> None:
                nonlocal remaining, failed
                while remaining > 0:
                    remaining -= 1
                    try:
                        await client.models.get("claude-x")
                    except sluice.RateLimitError:
                        failed += 1

            rejected_before, served_before = limit.rejected, limit.served
            started = time.perf_counter()
            async with anyio.create_task_group() as tg:
                for client in clients:
                    for _ in range(scene.tasks):
                        tg.start_soon(worker, client)
            elapsed = time.perf_counter() - started
        finally:
            for client in clients:
                await client.aclose()
    served = limit.served - served_before
    return {
        "429s": limit.rejected - rejected_before,
        "failed": failed,
        "ok": served,
        "seconds": elapsed,
        "rps": served / elapsed,
        "most": limit.most_in_a_window,
    }


@contextmanager
def redis_server(url: str | None) -> Iterator[str | None]:
    """``url``, else a redis-server of our own on a free port, else ``None``."""
    if url is not None:
        yield url
        return
    binary = shutil.which("redis-server")
    if binary is None:
        yield None
        return
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with tempfile.TemporaryDirectory() as directory:
        process = subprocess.Popen(
            [binary, "--bind", "127.0.0.1", "--port", str(port), "--save", "", "--dir", directory],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            deadline = time.monotonic() + 10
            while True:
                try:
                    with socket.create_connection(("127.0.0.1", port), timeout=1):
                        break
                except OSError:
                    if time.monotonic() > deadline:
                        raise RuntimeError("redis-server did not start") from None
                    time.sleep(0.02)
            yield f"redis://127.0.0.1:{port}/0"
        finally:
            process.terminate()
            process.wait(10)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--redis", help="a redis:// URL for the shared scene")
    args = parser.parse_args(argv)
    scale = 8 if args.quick else 1
    scenes = [
        Scene("one client", limit=20, window=1.0, requests=200 // scale, tasks=16),
        Scene("answers that cross", 10, 0.5, requests=100 // scale, tasks=6, latency=0.05),
        Scene("three clients, one key", 20, 1.0, requests=200 // scale, tasks=6, clients=3),
    ]
    print(f"{'scene':<24}{'limiter':<9}{'429s':>6}{'failed':>8}{'ok':>6}{'seconds':>9}{'req/s':>7}")
    on_429s: list[float] = []
    off_429s: list[float] = []
    with redis_server(args.redis) as redis:
        for scene in scenes:
            modes = ["on", "off"] if scene.clients == 1 else ["off", "on", "shared"]
            for mode in modes:
                if mode == "shared" and redis is None:
                    print(f"{scene.name:<24}{mode:<9}  skipped: no redis-server (--redis URL)")
                    continue
                result = anyio.run(run, scene, mode, redis)
                label = {"on": "on", "off": "off", "shared": "Redis"}[mode]
                if scene.clients > 1 and mode == "on":
                    label = "each own"
                print(
                    f"{scene.name:<24}{label:<9}{result['429s']:>6.0f}{result['failed']:>8.0f}"
                    f"{result['ok']:>6.0f}{result['seconds']:>9.2f}{result['rps']:>7.1f}"
                )
                if scene.clients == 1:
                    (on_429s if mode == "on" else off_429s).append(result["429s"])
    print(
        f"429s with the limiter: {sum(on_429s):.0f} vs {sum(off_429s):.0f} without "
        "(one client, answers that cross)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
