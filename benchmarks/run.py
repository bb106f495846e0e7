"""End-to-end streaming benchmark: sluice vs the official SDK vs a decode-only floor.

Run with ``make bench`` (``.venv/bin/python benchmarks/run.py``); ``--quick`` is a smoke
run of a few seconds, ``--json FILE`` writes every sample. Results are in BENCHMARKS.md.

Each transcript from :mod:`transcripts` is served by a mock transport in 4 KiB chunks, the
way a socket delivers it, and read to the final message by three contenders in one
process:

* ``sluice``: ``sluice.AsyncClient`` over an ``httpx.AsyncClient`` with an
  ``httpx.MockTransport``; ``client.messages.stream(...)`` then ``final_message()``.
* ``sdk``: ``anthropic.AsyncAnthropic`` (which uses ``httpx2``, a fork of httpx) over an
  ``httpx2.AsyncClient`` with an ``httpx2.MockTransport`` serving the same chunks;
  ``client.messages.stream(...)`` then ``get_final_message()``.
* ``floor``: the same httpx request and stream, ``aiter_bytes()``, split into lines, and
  every ``data: `` line decoded by a typed ``msgspec.json.Decoder(sluice.Event)``, and
  nothing else: no SSE semantics, no accumulation. Nothing that returns typed events can be
  much faster, so ``sluice / floor`` is the overhead sluice adds to decoding.

Before any timing, sluice's final message must equal the SDK's (``sluice.to_builtins`` vs
``to_dict(mode="json")``) and the floor must decode every event; otherwise the run stops
with exit status 1. Timing is interleaved: every round runs each (transcript, contender)
pair once in a shuffled order, after a ``gc.collect()``, and the median of the rounds is
reported, which keeps a noisy shared machine from favouring whoever ran first or last. The
SDK is much slower on the large transcripts, so it gets fewer rounds (spread over the
run) if its runs would exceed ``--sdk-budget`` seconds per transcript, on the same bytes.
Ratios are medians of per-round ratios, which cancel most of the drift of a shared machine
(see :func:`paired`). The objects of the imported modules are frozen (``gc.freeze()``)
before timing, so that the collector's work in a run is that run's own.

Targets are printed with PASS/FAIL; the exit status is 0 whatever the numbers are.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import math
import os
import platform
import random
import statistics
import sys
import time
import warnings
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import asdict, dataclass, field, replace
from importlib.metadata import version
from pathlib import Path
from typing import Any, Protocol

import anthropic
import httpx
import httpx2
import msgspec
from transcripts import MODEL, Transcript, long_text, tool_input

import sluice

CHUNK_SIZE = 4096
URL = "https://api.anthropic.com/v1/messages"
REQUEST: dict[str, Any] = {
    "model": MODEL,
    "max_tokens": 64000,
    "messages": [{"role": "user", "content": "Write a very long answer."}],
}
CONTENDERS = ("sluice", "sdk", "floor")


@dataclass(frozen=True)
class Plan:
    """What to run: transcript sizes (N; the large variant is 4N) and how often."""

    text_deltas: int
    tool_chars: int
    rounds: int
    sdk_budget: float


FULL = Plan(text_deltas=12_500, tool_chars=25_000, rounds=9, sdk_budget=45.0)
QUICK = Plan(text_deltas=1_000, tool_chars=2_500, rounds=5, sdk_budget=0.5)


# ------------------------------------------------------------------------ mock transport


def split_body(body: bytes, size: int = CHUNK_SIZE) -> list[bytes]:
    """``body`` cut into ``size``-byte chunks, the last one shorter."""
    return [body[start : start + size] for start in range(0, len(body), size)]


class _Chunks:
    """An async byte stream that yields pre-cut chunks, as a socket read loop would."""

    def __init__(self, chunks: Sequence[bytes]) -> None:
        self._chunks = chunks

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for chunk in self._chunks:
            yield chunk


class HttpxChunks(_Chunks, httpx.AsyncByteStream):
    """:class:`_Chunks` for ``httpx``."""


class Httpx2Chunks(_Chunks, httpx2.AsyncByteStream):
    """:class:`_Chunks` for ``httpx2`` (the SDK's fork of httpx)."""


_SSE_HEADERS = {"content-type": "text/event-stream", "request-id": "req_bench"}


def httpx_client(chunks: Sequence[bytes]) -> httpx.AsyncClient:
    """An ``httpx.AsyncClient`` whose every request gets ``chunks`` as an SSE body."""

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, headers=_SSE_HEADERS, stream=HttpxChunks(chunks))

    return httpx.AsyncClient(transport=httpx.MockTransport(handler))


def httpx2_client(chunks: Sequence[bytes]) -> httpx2.AsyncClient:
    """The same as :func:`httpx_client`, for the SDK's ``httpx2``."""

    def handler(request: httpx2.Request) -> httpx2.Response:
        return httpx2.Response(200, headers=_SSE_HEADERS, stream=Httpx2Chunks(chunks))

    return httpx2.AsyncClient(transport=httpx2.MockTransport(handler))


# ----------------------------------------------------------------------------- contenders


class Contender(Protocol):
    """One way of reading a streamed response to its end."""

    async def run(self) -> Any:
        """Send the request and read the whole stream; return the result."""
        ...

    async def aclose(self) -> None:
        """Release the clients."""
        ...


class SluiceContender:
    """``sluice.AsyncClient(...).messages.stream(...)`` and ``final_message()``."""

    def __init__(self, chunks: Sequence[bytes]) -> None:
        self._http = httpx_client(chunks)
        self._client = sluice.AsyncClient(api_key="x", http_client=self._http, max_retries=0)

    async def run(self) -> sluice.Message:
        async with self._client.messages.stream(**REQUEST) as stream:
            return await stream.final_message()

    async def aclose(self) -> None:
        await self._client.aclose()
        await self._http.aclose()


class SDKContender:
    """``anthropic.AsyncAnthropic(...).messages.stream(...)`` and ``get_final_message()``."""

    def __init__(self, chunks: Sequence[bytes]) -> None:
        self._http = httpx2_client(chunks)
        self._client = anthropic.AsyncAnthropic(api_key="x", http_client=self._http, max_retries=0)

    async def run(self) -> Any:
        async with self._client.messages.stream(**REQUEST) as stream:
            return await stream.get_final_message()

    async def aclose(self) -> None:
        await self._client.close()


_typed_event = msgspec.json.Decoder(sluice.Event)
REQUEST_BODY = msgspec.json.encode({**REQUEST, "stream": True})


class FloorContender:
    """Bytes -> lines -> typed msgspec decode of each ``data:`` line; nothing else."""

    def __init__(self, chunks: Sequence[bytes]) -> None:
        self._http = httpx_client(chunks)

    async def run(self) -> int:
        decode = _typed_event.decode
        events = 0
        async with self._http.stream("POST", URL, content=REQUEST_BODY) as response:
            rest = b""
            async for chunk in response.aiter_bytes():
                lines = (rest + chunk).split(b"\n")
                rest = lines.pop()
                for line in lines:
                    if line.startswith(b"data: "):
                        decode(line[6:])
                        events += 1
        return events

    async def aclose(self) -> None:
        await self._http.aclose()


def make_contender(name: str, chunks: Sequence[bytes]) -> Contender:
    """The contender called ``name``, reading ``chunks``."""
    if name == "sluice":
        return SluiceContender(chunks)
    if name == "sdk":
        return SDKContender(chunks)
    return FloorContender(chunks)


# ---------------------------------------------------------------------------- correctness


class MismatchError(Exception):
    """The contenders disagree about a transcript: the timings would mean nothing."""


def first_difference(a: Any, b: Any, path: str = "$") -> str | None:
    """Where ``a`` and ``b`` first differ, as a readable path and values, else ``None``."""
    if isinstance(a, dict) and isinstance(b, dict):
        for key in sorted(set(a) | set(b), key=str):
            if key not in a or key not in b:
                side = "sluice" if key not in a else "sdk"
                return f"{path}.{key}: missing in {side}"
            found = first_difference(a[key], b[key], f"{path}.{key}")
            if found:
                return found
        return None
    if isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            return f"{path}: {len(a)} items in sluice, {len(b)} in sdk"
        for index, (x, y) in enumerate(zip(a, b, strict=True)):
            found = first_difference(x, y, f"{path}[{index}]")
            if found:
                return found
        return None
    if isinstance(a, str) and isinstance(b, str) and a != b:
        at = next(
            (i for i, (x, y) in enumerate(zip(a, b, strict=False)) if x != y), min(len(a), len(b))
        )
        lo = max(0, at - 40)
        return (
            f"{path}: strings differ at character {at} (lengths {len(a)}, {len(b)}): "
            f"sluice ...{a[lo : at + 40]!r} != sdk ...{b[lo : at + 40]!r}"
        )
    if a != b or type(a) is not type(b):
        return f"{path}: sluice {a!r:.200} != sdk {b!r:.200}"
    return None


def check_results(transcript: Transcript, results: dict[str, Any]) -> None:
    """Raise :class:`MismatchError` unless sluice == SDK and the floor saw every event."""
    ours = sluice.to_builtins(results["sluice"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # pydantic serializer warnings on unknown shapes
        theirs = results["sdk"].to_dict(mode="json")
    difference = first_difference(ours, theirs)
    if difference:
        raise MismatchError(f"{transcript.name}: final messages differ at {difference}")
    if transcript.family == "tool_input":
        tool = ours["content"][-1]
        if tool.get("type") != "tool_use" or not tool.get("input"):
            raise MismatchError(f"{transcript.name}: no tool input in the final message")
    if results["floor"] != transcript.events:
        raise MismatchError(
            f"{transcript.name}: the floor decoded {results['floor']} events, "
            f"the transcript has {transcript.events}"
        )


# --------------------------------------------------------------------------------- timing


@dataclass
class Series:
    """The timings of one contender on one transcript, by round number."""

    rounds: set[int] = field(default_factory=set)
    wall_ms: dict[int, float] = field(default_factory=dict)
    cpu_ms: dict[int, float] = field(default_factory=dict)

    @property
    def median(self) -> float:
        """Median wall time over the rounds, in ms."""
        return statistics.median(self.wall_ms.values())


def paired(a: Series, b: Series) -> float:
    """Median over the rounds where both ran of ``a / b``.

    The machine is shared and its speed drifts by tens of percent over seconds; runs of
    one round are close in time, so their ratio cancels most of that drift, where a ratio
    of two medians would not.
    """
    ratios = [a.wall_ms[r] / b.wall_ms[r] for r in a.wall_ms if r in b.wall_ms]
    return statistics.median(ratios) if ratios else math.nan


async def timed(contender: Contender) -> tuple[Any, float, float]:
    """Run once after a full collection; return the result, wall ms and CPU ms."""
    gc.collect()
    cpu = time.process_time_ns()
    start = time.perf_counter_ns()
    result = await contender.run()
    wall = time.perf_counter_ns() - start
    cpu = time.process_time_ns() - cpu
    return result, wall / 1e6, cpu / 1e6


def spread(count: int, rounds: int) -> set[int]:
    """``count`` of the round numbers ``range(rounds)``, spread over the run.

    The sets are nested (the rounds picked for ``count`` include those picked for any
    smaller count), so that two transcripts given different numbers of SDK rounds still
    share rounds, which the paired ratios need.
    """
    order: list[int] = []
    for k in range(1, rounds + 1):
        for r in sorted({int((i + 0.5) * rounds / k) for i in range(k)}):
            if r not in order:
                order.append(r)
    return set(order[:count])


async def benchmark(
    transcripts: list[Transcript], plan: Plan, seed: int, log: Callable[[str], None]
) -> dict[str, dict[str, Series]]:
    """Verify, then time every (transcript, contender) pair in interleaved rounds.

    A round runs sluice and the floor on every transcript, back to back in a shuffled
    order (so that the runs compared with each other are fractions of a second apart),
    and, before or after them in alternate rounds, the SDK on the transcripts given to it
    this round.
    """
    contenders = {
        t.name: {name: make_contender(name, split_body(t.body)) for name in CONTENDERS}
        for t in transcripts
    }
    series = {t.name: {name: Series() for name in CONTENDERS} for t in transcripts}
    # Move the ~150,000 objects of the imported modules (mostly the SDK's) out of the
    # collector's sight: gc.collect() before each run drops from ~100 ms to ~1 ms, and a
    # full collection inside a timed run no longer pays for the SDK's import.
    gc.collect()
    gc.freeze()
    try:
        # Verification doubles as the warm-up run, and sizes the SDK's share of rounds.
        for t in transcripts:
            results = {}
            for name in CONTENDERS:
                results[name], wall, _ = await timed(contenders[t.name][name])
                if name == "sdk":
                    count = max(1, min(plan.rounds, int(plan.sdk_budget / (wall / 1e3))))
                    series[t.name][name].rounds = spread(count, plan.rounds)
                else:
                    series[t.name][name].rounds = set(range(plan.rounds))
            check_results(t, results)
            log(f"  verified {t.name}: sluice == sdk, floor decoded {results['floor']} events")
        del results
        gc.collect()
        gc.freeze()  # and what the first runs built lazily (caches, pydantic validators)
        rng = random.Random(seed)
        for round_no in range(plan.rounds):
            fast = [(t.name, name) for t in transcripts for name in CONTENDERS if name != "sdk"]
            slow = [
                (t.name, "sdk") for t in transcripts if round_no in series[t.name]["sdk"].rounds
            ]
            rng.shuffle(fast)
            rng.shuffle(slow)
            order = fast + slow if round_no % 2 == 0 else slow + fast
            for transcript_name, name in order:
                _, wall, cpu = await timed(contenders[transcript_name][name])
                series[transcript_name][name].wall_ms[round_no] = wall
                series[transcript_name][name].cpu_ms[round_no] = cpu
            log(f"  round {round_no + 1}/{plan.rounds} done ({len(order)} runs)")
    finally:
        gc.unfreeze()
        for by_name in contenders.values():
            for contender in by_name.values():
                await contender.aclose()
    return series


# -------------------------------------------------------------------------------- report


@dataclass(frozen=True)
class Check:
    """One target: a measured ratio, a bound and which side of it passes."""

    label: str
    value: float
    bound: float | None
    at_least: bool

    @property
    def passed(self) -> bool | None:
        """Whether the target is met; ``None`` for a ratio reported without a target."""
        if self.bound is None:
            return None
        return self.value >= self.bound if self.at_least else self.value <= self.bound

    def line(self) -> str:
        """The check as one aligned line of the report."""
        if self.bound is None:
            return f"  {self.label:<34} {self.value:8.2f}x   (reported, no target)"
        sign = ">=" if self.at_least else "<="
        verdict = "PASS" if self.passed else "FAIL"
        return f"  {self.label:<34} {self.value:8.2f}x   target {sign} {self.bound:g}x   {verdict}"


def make_transcripts(plan: Plan) -> list[Transcript]:
    """Both families at N and 4N."""
    n, chars = plan.text_deltas, plan.tool_chars
    return [
        long_text(n, name="long_text[N]"),
        long_text(4 * n, name="long_text[4N]"),
        tool_input(chars, name="tool_input[N]"),
        tool_input(4 * chars, name="tool_input[4N]"),
    ]


def checks(series: dict[str, dict[str, Series]]) -> list[Check]:
    """The targets, evaluated on per-round paired ratios (see :func:`paired`).

    sluice / floor at 4N (long text at most 1.3x, tool input at most 1.5x: the issue "the hot
    loop written once") and linearity (sluice 4N / N at most 4.5x); SDK / sluice is reported
    without a target.
    """
    checks = []
    for family, targets in (("long_text", (None, 1.3, 4.5)), ("tool_input", (None, 1.5, 4.5))):
        big, small = series[f"{family}[4N]"], series[f"{family}[N]"]
        faster, overhead, linear = targets
        checks += [
            Check(f"{family}[4N]  sdk / sluice", paired(big["sdk"], big["sluice"]), faster, True),
            Check(
                f"{family}[4N]  sluice / floor",
                paired(big["sluice"], big["floor"]),
                overhead,
                False,
            ),
            Check(
                f"{family}[N]  sluice / floor",
                paired(small["sluice"], small["floor"]),
                None,
                False,
            ),
            Check(
                f"{family}  sluice 4N / N", paired(big["sluice"], small["sluice"]), linear, False
            ),
            Check(f"{family}  floor 4N / N", paired(big["floor"], small["floor"]), None, False),
            Check(f"{family}  sdk 4N / N", paired(big["sdk"], small["sdk"]), None, False),
        ]
    return checks


def environment() -> dict[str, Any]:
    """Interpreter, machine and library versions, for the record."""
    return {
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "load_average": list(os.getloadavg()) if hasattr(os, "getloadavg") else None,
        "versions": {
            name: version(name)
            for name in ("sluice", "anthropic", "httpx", "httpx2", "msgspec", "anyio", "jiter")
        },
    }


def table(transcripts: list[Transcript], series: dict[str, dict[str, Series]]) -> str:
    """The per-transcript medians and ratios, as aligned text."""
    head = (
        f"{'transcript':<16}{'body':>9}{'events':>8}"
        f"{'sluice ms':>11}{'sdk ms':>11}{'floor ms':>10}"
        f"{'sdk/sluice':>12}{'sluice/floor':>14}{'sluice ns/ev':>14}{'sdk runs':>10}"
    )
    rows = [head, "-" * len(head)]
    for t in transcripts:
        s = series[t.name]
        sl, sd, fl = s["sluice"].median, s["sdk"].median, s["floor"].median
        rows.append(
            f"{t.name:<16}{len(t.body) / 1e6:>7.2f}MB{t.events:>8}"
            f"{sl:>11.1f}{sd:>11.1f}{fl:>10.1f}"
            f"{paired(s['sdk'], s['sluice']):>11.1f}x{paired(s['sluice'], s['floor']):>13.2f}x"
            f"{sl * 1e6 / t.events:>14.0f}{len(s['sdk'].wall_ms):>10}"
        )
    return "\n".join(rows)


def report(
    plan: Plan,
    quick: bool,
    env: dict[str, Any],
    transcripts: list[Transcript],
    series: dict[str, dict[str, Series]],
    results: list[Check],
    seconds: float,
) -> dict[str, Any]:
    """Everything measured, as JSON-ready data (``--json``)."""
    return {
        "mode": "quick" if quick else "full",
        "plan": asdict(plan),
        "chunk_size": CHUNK_SIZE,
        "floor": "typed: msgspec.json.Decoder(sluice.Event)",
        "ratios": "median over rounds of the ratio of the two runs of the same round",
        "environment": env,
        "load_average_after": list(os.getloadavg()) if hasattr(os, "getloadavg") else None,
        "seconds": round(seconds, 2),
        "transcripts": {
            t.name: {
                "family": t.family,
                "bytes": len(t.body),
                "events": t.events,
                "deltas": t.deltas,
                "payload_chars": t.payload_chars,
                "contenders": {
                    name: {
                        "median_ms": round(s.median, 3),
                        "min_ms": round(min(s.wall_ms.values()), 3),
                        "max_ms": round(max(s.wall_ms.values()), 3),
                        "median_cpu_ms": round(statistics.median(s.cpu_ms.values()), 3),
                        "wall_ms_by_round": {r: round(x, 3) for r, x in sorted(s.wall_ms.items())},
                    }
                    for name, s in series[t.name].items()
                },
            }
            for t in transcripts
        },
        "checks": [
            {
                "label": c.label,
                "value": round(c.value, 3),
                "bound": c.bound,
                "at_least": c.at_least,
                "passed": c.passed,
            }
            for c in results
        ],
    }


def main(argv: Sequence[str] | None = None) -> int:
    """Parse arguments, run the benchmark, print the report; 0 unless verification fails."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="small transcripts, few rounds")
    parser.add_argument("--json", metavar="FILE", type=Path, help="write all results here")
    parser.add_argument("--rounds", type=int, help=f"timed rounds (default {FULL.rounds})")
    parser.add_argument(
        "--sdk-budget",
        type=float,
        metavar="SECONDS",
        help=f"SDK time per transcript; fewer SDK rounds beyond it (default {FULL.sdk_budget:g})",
    )
    parser.add_argument("--seed", type=int, default=0, help="seed of the round orders")
    args = parser.parse_args(argv)
    plan = QUICK if args.quick else FULL
    if args.rounds is not None:
        plan = replace(plan, rounds=max(1, args.rounds))
    if args.sdk_budget is not None:
        plan = replace(plan, sdk_budget=args.sdk_budget)

    def log(line: str) -> None:
        print(line, file=sys.stderr, flush=True)

    env = environment()
    started = time.perf_counter()
    transcripts = make_transcripts(plan)
    log(
        f"sluice benchmark ({'quick' if args.quick else 'full'}): {plan.rounds} rounds, "
        f"{CHUNK_SIZE}-byte chunks, Python {env['python']}, {env['cpus']} CPUs"
    )
    try:
        series = asyncio.run(benchmark(transcripts, plan, args.seed, log))
    except MismatchError as exc:
        print(f"VERIFICATION FAILED: {exc}", file=sys.stderr)
        return 1
    elapsed = time.perf_counter() - started
    results = checks(series)

    print()
    print(
        f"Python {env['python']} on {env['platform']}, {env['cpus']} CPUs; "
        + ", ".join(f"{k} {v}" for k, v in env["versions"].items())
    )
    print(
        f"ms: median wall time of {plan.rounds} interleaved rounds (the SDK: of 'sdk runs'); "
        "ratios: median of per-round ratios;\nfloor: lines + typed "
        "msgspec.json.Decoder(sluice.Event) decode of each data: line, no accumulation"
    )
    print()
    print(table(transcripts, series))
    print()
    print("targets:")
    for check in results:
        print(check.line())
    print(f"\n({elapsed:.1f} s in all)")
    if args.json:
        data = report(plan, args.quick, env, transcripts, series, results, elapsed)
        args.json.write_text(json.dumps(data, indent=2) + "\n")
        log(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
