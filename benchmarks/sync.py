"""The sync client's per-event cost against the async client's, on the same transcripts.

Run with ``.venv/bin/python benchmarks/sync.py``; ``--quick`` is a smoke run of a few
seconds, ``--json FILE`` writes every sample. Results are in BENCHMARKS.md.

The long text and tool input transcripts of :mod:`transcripts` (at the size N of
``run.py``) are served in 4 KiB chunks by an ``httpx.MockTransport``, the way a socket
delivers them, and read to the end by four contenders in one process:

* ``async final``: ``sluice.AsyncClient`` over ``httpx.AsyncClient``,
  ``messages.stream(...)`` then ``final_message()`` (asyncio);
* ``sync final``: ``sluice.Client`` over ``httpx.Client``, the same calls;
* ``async iterate``: ``async for event in stream``, then ``final_message()``;
* ``sync iterate``: ``for event in stream``, then ``final_message()``.

Both clients share the sans-I/O core (framing, decoding, accumulation); what is measured
is what differs: the event loop, the async generators and httpx's async stream against
plain generators and httpx's sync stream. Before timing, every contender's final message
must equal the others' (else exit status 1). Rounds run every (transcript, contender)
pair once in a shuffled order after a ``gc.collect()``; reported are the median wall time
of each, the cost per event (the time divided by the transcript's events) and
``sync / async``, the median over rounds of the per-round ratio, which cancels most of a
shared machine's drift. The exit status is 0 whatever the numbers are.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import platform
import random
import statistics
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Sequence
from functools import partial
from importlib.metadata import version
from pathlib import Path
from typing import Any

import httpx
from transcripts import MODEL, Transcript, long_text, tool_input

import sluice

CHUNK_SIZE = 4096
REQUEST: dict[str, Any] = {
    "model": MODEL,
    "max_tokens": 64000,
    "messages": [{"role": "user", "content": "Write a very long answer."}],
}
CONTENDERS = ("async final", "sync final", "async iterate", "sync iterate")
_SSE_HEADERS = {"content-type": "text/event-stream", "request-id": "req_bench"}


def split_body(body: bytes, size: int = CHUNK_SIZE) -> list[bytes]:
    """``body`` cut into ``size``-byte chunks, the last one shorter."""
    return [body[start : start + size] for start in range(0, len(body), size)]


class AsyncChunks(httpx.AsyncByteStream):
    """Pre-cut chunks, as an async socket read loop would yield them."""

    def __init__(self, chunks: Sequence[bytes]) -> None:
        self._chunks = chunks

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for chunk in self._chunks:
            yield chunk


class SyncChunks(httpx.SyncByteStream):
    """Pre-cut chunks, as a blocking socket read loop would yield them."""

    def __init__(self, chunks: Sequence[bytes]) -> None:
        self._chunks = chunks

    def __iter__(self) -> Iterator[bytes]:
        yield from self._chunks


class Clients:
    """One async and one sync sluice client serving the same transcript's chunks."""

    def __init__(self, chunks: Sequence[bytes]) -> None:
        def async_handler(request: httpx.Request) -> httpx.Response:
            return httpx.Response(200, headers=_SSE_HEADERS, stream=AsyncChunks(chunks))

        def sync_handler(request: httpx.Request) -> httpx.Response:
            return httpx.Response(200, headers=_SSE_HEADERS, stream=SyncChunks(chunks))

        self.async_http = httpx.AsyncClient(transport=httpx.MockTransport(async_handler))
        self.sync_http = httpx.Client(transport=httpx.MockTransport(sync_handler))
        self.async_client = sluice.AsyncClient(
            api_key="x", http_client=self.async_http, max_retries=0
        )
        self.sync_client = sluice.Client(api_key="x", http_client=self.sync_http, max_retries=0)

    async def run(self, name: str) -> sluice.Message:
        """Read the transcript once, the way contender ``name`` does."""
        if name == "async final":
            async with self.async_client.messages.stream(**REQUEST) as stream:
                return await stream.final_message()
        if name == "async iterate":
            async with self.async_client.messages.stream(**REQUEST) as astream:
                async for _ in astream:
                    pass
                return await astream.final_message()
        if name == "sync final":
            with self.sync_client.messages.stream(**REQUEST) as sstream:
                return sstream.final_message()
        with self.sync_client.messages.stream(**REQUEST) as sstream:
            for _ in sstream:
                pass
            return sstream.final_message()

    async def aclose(self) -> None:
        await self.async_http.aclose()
        self.sync_http.close()


async def timed(run: Callable[[], Awaitable[Any]]) -> tuple[Any, float]:
    """Run once after a full collection; the result and the wall time in ms."""
    gc.collect()
    start = time.perf_counter_ns()
    result = await run()
    return result, (time.perf_counter_ns() - start) / 1e6


async def benchmark(
    transcripts: list[Transcript], rounds: int, seed: int
) -> dict[str, dict[str, dict[int, float]]]:
    """Verify, then time every (transcript, contender) pair in shuffled rounds."""
    clients = {t.name: Clients(split_body(t.body)) for t in transcripts}
    samples: dict[str, dict[str, dict[int, float]]] = {
        t.name: {name: {} for name in CONTENDERS} for t in transcripts
    }
    try:
        for t in transcripts:  # verification doubles as the warm-up run
            results = {}
            for name in CONTENDERS:
                results[name], _ = await timed(partial(clients[t.name].run, name))
            messages = {name: sluice.to_json(m) for name, m in results.items()}
            if len(set(messages.values())) != 1:
                raise SystemExit(f"{t.name}: the contenders' final messages differ")
            print(f"  verified {t.name}: {len(CONTENDERS)} contenders, one final message")
        gc.collect()
        gc.freeze()
        rng = random.Random(seed)
        for round_no in range(rounds):
            order = [(t.name, name) for t in transcripts for name in CONTENDERS]
            rng.shuffle(order)
            for transcript, name in order:
                _, wall = await timed(partial(clients[transcript].run, name))
                samples[transcript][name][round_no] = wall
            print(f"  round {round_no + 1}/{rounds} done", file=sys.stderr)
    finally:
        gc.unfreeze()
        for pair in clients.values():
            await pair.aclose()
    return samples


def paired(a: dict[int, float], b: dict[int, float]) -> float:
    """Median over the rounds of ``a / b``."""
    return statistics.median(a[r] / b[r] for r in a if r in b)


def report(transcripts: list[Transcript], samples: dict[str, dict[str, dict[int, float]]]) -> None:
    print()
    print(f"{'transcript':<18} {'contender':<14} {'median ms':>10} {'us/event':>9}")
    for t in transcripts:
        for name in CONTENDERS:
            median = statistics.median(samples[t.name][name].values())
            print(f"{t.name:<18} {name:<14} {median:10.1f} {median * 1000 / t.events:9.2f}")
    print()
    print(f"{'transcript':<18} {'sync / async, final':>20} {'sync / async, iterate':>22}")
    for t in transcripts:
        by = samples[t.name]
        final = paired(by["sync final"], by["async final"])
        iterate = paired(by["sync iterate"], by["async iterate"])
        print(f"{t.name:<18} {final:19.2f}x {iterate:21.2f}x")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="small transcripts, few rounds")
    parser.add_argument("--rounds", type=int, help="timed rounds (default 15, quick 3)")
    parser.add_argument("--seed", type=int, default=1, help="seed of the shuffled order")
    parser.add_argument("--json", type=Path, help="write every sample to this file")
    args = parser.parse_args()
    deltas, chars = (1_000, 2_500) if args.quick else (12_500, 25_000)
    rounds = args.rounds or (3 if args.quick else 15)
    transcripts = [
        long_text(deltas, name="long_text[N]"),
        tool_input(chars, name="tool_input[N]"),
    ]
    print(
        f"sluice {version('sluice')}, httpx {version('httpx')}, Python "
        f"{platform.python_version()} on {platform.machine()}; {rounds} rounds"
    )
    for t in transcripts:
        print(f"  {t.name}: {t.events} events, {len(t.body)} bytes")
    samples = asyncio.run(benchmark(transcripts, rounds, args.seed))
    report(transcripts, samples)
    if args.json:
        args.json.write_text(json.dumps(samples, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
