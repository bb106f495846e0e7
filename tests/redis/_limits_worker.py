"""One process of the shared-limits tests: a client whose rate limits are shared through
Redis makes requests from concurrent tasks (or threads), starting at an agreed moment.

Usage::

    python tests/redis/_limits_worker.py MODE BASE_URL REDIS_URL REQUESTS TASKS START_AT
        [--deadline SECONDS] [--rpm N]

MODE is ``asyncio``, ``trio`` (``sluice.AsyncClient``) or ``sync`` (``sluice.Client`` in
threads); START_AT a wall-clock time to start at, so the processes start together. Prints
one JSON line: how many requests succeeded, got a 429, or ran out of their deadline.
"""

from __future__ import annotations

import argparse
import json
import sys
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import anyio

import sluice
from sluice.types import LimitSettings

KEY = "sk-ant-api03-shared-limits-SECRET"


def classify(exc: BaseException) -> str:
    if isinstance(exc, sluice.RateLimitError):
        return "rate_limited"
    if isinstance(exc, sluice.DeadlineExceededError):
        return "deadline"
    raise exc


def options(args: argparse.Namespace) -> dict[str, object]:
    return {
        "api_key": KEY,
        "base_url": args.base_url,
        "shared_limits": args.redis_url,
        "max_retries": 0,
        "limits": LimitSettings(requests_per_minute=args.rpm) if args.rpm else None,
    }


async def run_async(args: argparse.Namespace) -> Counter[str]:
    counts: Counter[str] = Counter()
    left = args.requests
    async with sluice.AsyncClient(**options(args)) as client:  # type: ignore[arg-type]

        async def worker() -> None:
            nonlocal left
            while left > 0:
                left -= 1
                try:
                    await client.models.get("claude-x", deadline=args.deadline)
                    counts["ok"] += 1
                except (sluice.APIError, sluice.DeadlineExceededError) as exc:
                    counts[classify(exc)] += 1

        await anyio.sleep(max(args.start_at - time.time(), 0))
        async with anyio.create_task_group() as tg:
            for _ in range(args.tasks):
                tg.start_soon(worker)
    return counts


def run_sync(args: argparse.Namespace) -> Counter[str]:
    counts: Counter[str] = Counter()
    lock = threading.Lock()
    left = iter(range(args.requests))
    with sluice.Client(**options(args)) as client:  # type: ignore[arg-type]

        def worker() -> None:
            for _ in left:
                try:
                    client.models.get("claude-x", deadline=args.deadline)
                    kind = "ok"
                except (sluice.APIError, sluice.DeadlineExceededError) as exc:
                    kind = classify(exc)
                with lock:
                    counts[kind] += 1

        time.sleep(max(args.start_at - time.time(), 0))
        with ThreadPoolExecutor(args.tasks) as pool:
            for future in [pool.submit(worker) for _ in range(args.tasks)]:
                future.result()
    return counts


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("mode", choices=["asyncio", "trio", "sync"])
    parser.add_argument("base_url")
    parser.add_argument("redis_url")
    parser.add_argument("requests", type=int)
    parser.add_argument("tasks", type=int)
    parser.add_argument("start_at", type=float)
    parser.add_argument("--deadline", type=float, default=None)
    parser.add_argument("--rpm", type=float, default=None)
    args = parser.parse_args()
    if args.mode == "sync":
        counts = run_sync(args)
    else:
        counts = anyio.run(run_async, args, backend=args.mode)
    print(json.dumps(dict(counts)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
