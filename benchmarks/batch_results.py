"""Batch results benchmark: sluice ``results()`` vs the official SDK on one JSONL file.

Run with ``.venv/bin/python benchmarks/batch_results.py`` (``--quick`` for a smoke run).

A results file of ``--size-mb`` MB (default 20) is generated (deterministic: mostly
``succeeded`` lines with text and tool-use answers of varying length, some ``errored``,
``canceled`` and ``expired``), stored as an ended batch in ``sluice.testing``'s batches fake
and served by ``MockAnthropic`` over real HTTP on 127.0.0.1, in 64 KiB chunks. Both
contenders read it to the end, in one process, on asyncio:

* ``sluice``: ``client.messages.batches.results(batch_id)``, iterated inside ``async with``.
* ``sluice-keep``: the same with ``keep_unknown_fields=True`` (a second, untyped decode
  of every line, so that fields sluice does not model survive re-encoding).
* ``sdk``: ``anthropic.AsyncAnthropic(base_url=server.base_url)``,
  ``await client.messages.batches.results(batch_id)`` then ``async for``. (The SDK first
  retrieves the batch to learn its ``results_url``: one extra small request.)

Before timing, both must yield the same number of results, and every result must be equal
(sluice's ``to_builtins`` vs the SDK's ``to_dict()``); otherwise the run stops with exit
status 1. Rounds are interleaved in a shuffled order after a ``gc.collect()``; the median
is reported. Memory: ``tracemalloc`` peak while sluice reads a file of a quarter of the
size and one of the full size (the server's reply is built before tracing starts); flat
means independent of the file size. Targets are printed with PASS/FAIL; the exit status is
0 whatever the numbers are.
"""

from __future__ import annotations

import argparse
import gc
import json
import platform
import random
import statistics
import sys
import time
import tracemalloc
from collections.abc import Awaitable, Callable, Sequence
from importlib.metadata import version
from typing import Any

import anthropic
import anyio
import httpx

import sluice
from sluice.testing import MockAnthropic
from sluice.testing._fakes_core import FakeBatches, install_batches

WORDS = (
    "the of and to in is that for it as with was on be by this are from at an or which "
    "batch result stream token message model answer question river sluice gate water"
).split()


def result_line(rng: random.Random, index: int) -> dict[str, Any]:
    """One realistic line of a results file."""
    custom_id = f"request-{index:07d}"
    roll = rng.random()
    if roll < 0.05:
        return {"custom_id": custom_id, "result": {"type": "canceled"}}
    if roll < 0.08:
        return {"custom_id": custom_id, "result": {"type": "expired"}}
    if roll < 0.15:
        error = {"type": "invalid_request_error", "message": "max_tokens: 100000 > 64000"}
        return {
            "custom_id": custom_id,
            "result": {
                "type": "errored",
                "error": {"type": "error", "error": error, "request_id": f"req_{index:024x}"},
            },
        }
    text = " ".join(rng.choice(WORDS) for _ in range(rng.randrange(20, 160)))
    content: list[dict[str, Any]] = [{"type": "text", "text": text}]
    stop_reason = "end_turn"
    if rng.random() < 0.25:
        content.append(
            {
                "type": "tool_use",
                "id": f"toolu_{index:024x}",
                "name": "get_weather",
                "input": {"location": "San Francisco, CA", "unit": "celsius", "days": 3},
            }
        )
        stop_reason = "tool_use"
    message = {
        "id": f"msg_{index:024x}",
        "type": "message",
        "role": "assistant",
        "model": "claude-sonnet-4-5-20250929",
        "content": content,
        "stop_reason": stop_reason,
        "stop_sequence": None,
        "usage": {
            "input_tokens": rng.randrange(10, 4000),
            "cache_creation_input_tokens": 0,
            "cache_read_input_tokens": 0,
            "output_tokens": rng.randrange(10, 400),
            "service_tier": "batch",
        },
    }
    return {"custom_id": custom_id, "result": {"type": "succeeded", "message": message}}


def results_file(size: int, seed: int = 0) -> bytes:
    """A JSONL results file of about ``size`` bytes."""
    rng = random.Random(seed)
    lines: list[bytes] = []
    total = 0
    while total < size:
        line = json.dumps(result_line(rng, len(lines)), separators=(",", ":")).encode() + b"\n"
        lines.append(line)
        total += len(line)
    return b"".join(lines)


async def ended_batch(server: MockAnthropic, fake: FakeBatches, data: bytes) -> str:
    """Create a batch through the fake's HTTP API and end it with ``data`` as results."""
    async with httpx.AsyncClient(base_url=server.base_url) as http:
        response = await http.post(
            "/v1/messages/batches",
            json={"requests": [{"custom_id": "x", "params": {"model": "m"}}]},
        )
    batch_id: str = response.json()["id"]
    fake.complete_batch(batch_id, data)
    return batch_id


# ----------------------------------------------------------------------------- contenders


async def read_sluice(client: sluice.AsyncClient, batch_id: str, *, keep: bool = False) -> int:
    count = 0
    async with client.messages.batches.results(batch_id, keep_unknown_fields=keep) as results:
        async for _ in results:
            count += 1
    return count


async def read_sdk(client: anthropic.AsyncAnthropic, batch_id: str) -> int:
    count = 0
    decoder = await client.messages.batches.results(batch_id)
    try:
        async for _ in decoder:
            count += 1
    finally:
        await decoder.close()
    return count


async def verify(
    sluice_client: sluice.AsyncClient, sdk: anthropic.AsyncAnthropic, batch_id: str
) -> int:
    """Every result equal between sluice and the SDK; returns the number of results."""
    ours: list[Any] = []
    async with sluice_client.messages.batches.results(batch_id) as results:
        async for item in results:
            ours.append(sluice.to_builtins(item))
    theirs: list[Any] = []
    decoder = await sdk.messages.batches.results(batch_id)
    async for item in decoder:
        theirs.append(item.to_dict())
    if len(ours) != len(theirs):
        raise AssertionError(f"sluice read {len(ours)} results, the SDK {len(theirs)}")
    for index, (mine, sdks) in enumerate(zip(ours, theirs, strict=True)):
        if mine != sdks:
            raise AssertionError(f"result {index} differs:\n{mine}\n{sdks}")
    return len(ours)


async def timed(run: Callable[[], Awaitable[int]]) -> float:
    gc.collect()
    start = time.perf_counter()
    await run()
    return time.perf_counter() - start


async def peak_memory(run: Callable[[], Awaitable[int]]) -> int:
    gc.collect()
    tracemalloc.start()
    try:
        await run()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


# ----------------------------------------------------------------------------------- main


def log(text: str) -> None:
    """Progress goes to stderr; the results to stdout."""
    print(text, file=sys.stderr, flush=True)


async def bench(size_mb: float, rounds: int, seed: int) -> int:
    """Generate the files, verify, time the rounds, measure memory, print the results."""
    size = int(size_mb * 1024 * 1024)
    data = results_file(size, seed)
    small = results_file(size // 4, seed)
    lines = data.count(b"\n")
    log(f"results file: {len(data) / 1e6:.1f} MB, {lines} lines")
    async with MockAnthropic() as server:
        fake = install_batches(server)
        big_id = await ended_batch(server, fake, data)
        small_id = await ended_batch(server, fake, small)
        async with (
            sluice.AsyncClient(api_key="x", base_url=server.base_url) as ours,
            anthropic.AsyncAnthropic(api_key="x", base_url=server.base_url) as sdk,
        ):
            log("verifying: sluice and the SDK must yield equal results...")
            try:
                count = await verify(ours, sdk, big_id)
            except AssertionError as exc:
                print(f"VERIFICATION FAILED: {exc}", file=sys.stderr)
                return 1
            log(f"verified: {count} equal results")

            contenders: dict[str, Callable[[], Awaitable[int]]] = {
                "sluice": lambda: read_sluice(ours, big_id),
                "sluice-keep": lambda: read_sluice(ours, big_id, keep=True),
                "sdk": lambda: read_sdk(sdk, big_id),
            }
            samples: dict[str, list[float]] = {name: [] for name in contenders}
            order = list(contenders)
            rng = random.Random(seed)
            for round_index in range(rounds):
                rng.shuffle(order)
                for name in order:
                    samples[name].append(await timed(contenders[name]))
                log(
                    f"round {round_index + 1}/{rounds}: "
                    + ", ".join(f"{name} {samples[name][-1]:.3f} s" for name in contenders)
                )

            peaks = {
                label: await peak_memory(lambda batch_id=batch_id: read_sluice(ours, batch_id))
                for label, batch_id in (("quarter", small_id), ("full", big_id))
            }
            sdk_peak = await peak_memory(lambda: read_sdk(sdk, big_id))

    medians = {name: statistics.median(series) for name, series in samples.items()}
    speedup = statistics.median(
        s / o for s, o in zip(samples["sdk"], samples["sluice"], strict=True)
    )
    mb = len(data) / 1e6
    print()
    print(
        f"Python {platform.python_version()}, sluice {version('sluice')}, anthropic "
        f"{version('anthropic')}, msgspec {version('msgspec')}, httpx {version('httpx')}; "
        f"{mb:.1f} MB, {lines} lines, median of {rounds} rounds"
    )
    print()
    print(f"{'reader':<12} {'median s':>9} {'MB/s':>7} {'us/line':>8}")
    for name, seconds in medians.items():
        print(f"{name:<12} {seconds:>9.3f} {mb / seconds:>7.1f} {seconds / lines * 1e6:>8.2f}")
    print()
    print(f"speedup (median of per-round sdk/sluice): {speedup:.1f}x")
    print(
        f"tracemalloc peak, sluice: {peaks['quarter'] / 1e6:.2f} MB on the "
        f"{len(small) / 1e6:.1f} MB file, {peaks['full'] / 1e6:.2f} MB on the {mb:.1f} MB file "
        f"(the SDK: {sdk_peak / 1e6:.2f} MB on the {mb:.1f} MB file)"
    )
    growth = peaks["full"] / peaks["quarter"]
    print()
    print("targets:")
    print(
        f"  {'PASS' if speedup >= 5 else 'FAIL'}  sluice >= 5x faster than the SDK: {speedup:.1f}x"
    )
    print(
        f"  {'PASS' if growth < 1.5 else 'FAIL'}  memory independent of file size: peak grows "
        f"{growth:.2f}x for a 4x larger file"
    )
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Parse arguments and run the benchmark."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="2 MB file, 3 rounds")
    parser.add_argument("--size-mb", type=float, default=20.0, help="results file size")
    parser.add_argument("--rounds", type=int, default=5, help="timed rounds")
    parser.add_argument("--seed", type=int, default=0, help="seed of the file and the order")
    args = parser.parse_args(argv)
    size, rounds = (2.0, 3) if args.quick else (args.size_mb, args.rounds)
    return anyio.run(bench, size, rounds, args.seed)


if __name__ == "__main__":
    sys.exit(main())
