"""Where sluice spends its time on the long-text transcript: stage timings and a profile.

Run ``.venv/bin/python benchmarks/profile_sluice.py`` (``--deltas`` to change the size,
``--top`` for more profile rows). Two views of the same bytes, fed in 4 KiB chunks:

1. Stage timings without a profiler (min and median of ``--repeat`` runs), each stage
   adding one layer to the one before, so the differences are what each layer costs:
   the floor's line split + typed decode, ``SSEDecoder`` alone, ``EventStreamDecoder``
   (SSE + ``decode_event``), plus ``MessageAccumulator``, and the whole async path
   through ``httpx.MockTransport`` (what ``run.py`` times), next to the async floor.
2. ``cProfile`` of the whole async path, top functions by own time, in ns per event.
   Profiling inflates Python-level calls far more than C calls: use it to rank the hot
   spots, and the stage timings for their real size.

(Not named ``profile.py``: that would shadow the stdlib module ``cProfile`` imports.)
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import gc
import pstats
import statistics
import sys
import time
from collections.abc import Callable, Sequence

import msgspec
from run import FloorContender, SluiceContender, split_body
from transcripts import long_text

import sluice


async def _discard(contender: SluiceContender | FloorContender) -> None:
    # Return nothing from the task: asyncio.run formats the task's result (the message
    # repr, milliseconds for a large message) as it finishes, which is not sluice's cost.
    await contender.run()


def _best(fn: Callable[[], object], repeat: int) -> tuple[float, float]:
    """Min and median wall time of ``fn`` in ms, each run after a full collection."""
    samples = []
    for _ in range(repeat):
        gc.collect()
        start = time.perf_counter_ns()
        fn()
        samples.append((time.perf_counter_ns() - start) / 1e6)
    return min(samples), statistics.median(samples)


def stages(chunks: Sequence[bytes], repeat: int) -> list[tuple[str, float, float]]:
    """Time each layer of the sluice path on ``chunks``; rows of (label, min ms, median ms)."""
    typed = msgspec.json.Decoder(sluice.Event).decode

    def floor() -> None:
        rest = b""
        for chunk in chunks:
            lines = (rest + chunk).split(b"\n")
            rest = lines.pop()
            for line in lines:
                if line.startswith(b"data: "):
                    typed(line[6:])

    def sse_only() -> None:
        feed = sluice.SSEDecoder().feed
        for chunk in chunks:
            feed(chunk)

    def decode() -> None:
        feed = sluice.EventStreamDecoder().feed
        for chunk in chunks:
            for _ in feed(chunk):  # feed may return a lazy iterator: consume it
                pass

    def accumulate() -> None:
        feed = sluice.EventStreamDecoder().feed
        accumulator = sluice.MessageAccumulator()
        apply = accumulator.feed
        for chunk in chunks:
            for event in feed(chunk):
                apply(event)
        accumulator.finish()

    sluice_async = SluiceContender(chunks)
    floor_async = FloorContender(chunks)

    def run_async(contender: SluiceContender | FloorContender) -> Callable[[], object]:
        return lambda: asyncio.run(_discard(contender))

    rows = []
    for label, fn in [
        ("floor, sans-I/O: split + typed decode", floor),
        ("SSEDecoder.feed", sse_only),
        ("EventStreamDecoder.feed (SSE + decode_event)", decode),
        ("  + MessageAccumulator.feed + finish", accumulate),
        ("whole async path (run.py's sluice)", run_async(sluice_async)),
        ("async floor (run.py's floor)", run_async(floor_async)),
    ]:
        fn()  # warm up
        low, mid = _best(fn, repeat)
        rows.append((label, low, mid))
    return rows


def profile(chunks: Sequence[bytes], events: int, top: int) -> None:
    """Print the top functions by own time of the whole async path, in ns per event."""
    contender = SluiceContender(chunks)
    asyncio.run(_discard(contender))  # warm up
    profiler = cProfile.Profile()
    gc.collect()
    profiler.enable()
    asyncio.run(_discard(contender))
    profiler.disable()
    stats = pstats.Stats(profiler)
    rows = []
    for (path, line, name), (_cc, calls, tottime, cumtime, _callers) in stats.stats.items():  # type: ignore[attr-defined]
        where = f"{path.rsplit('/', 1)[-1]}:{line}({name})" if line else name
        rows.append((tottime, cumtime, calls, where))
    rows.sort(reverse=True)
    total = sum(row[0] for row in rows)
    print(f"\ncProfile, whole async path: {total * 1e3:.0f} ms under the profiler")
    print(f"{'own ns/event':>13}{'cum ns/event':>13}{'calls':>9}  function")
    for tottime, cumtime, calls, where in rows[:top]:
        print(f"{tottime / events * 1e9:>13.0f}{cumtime / events * 1e9:>13.0f}{calls:>9}  {where}")


def main(argv: Sequence[str] | None = None) -> int:
    """Build the transcript, print the stage table, then the profile."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--deltas", type=int, default=50_000, help="text deltas (50000)")
    parser.add_argument("--repeat", type=int, default=7, help="runs per stage (7)")
    parser.add_argument("--top", type=int, default=25, help="profile rows (25)")
    args = parser.parse_args(argv)
    transcript = long_text(args.deltas)
    chunks = split_body(transcript.body)
    events = transcript.events
    print(
        f"long_text[{args.deltas}]: {len(transcript.body) / 1e6:.2f} MB, {events} events, "
        f"{len(chunks)} chunks; Python {sys.version.split()[0]}"
    )
    print(f"\n{'stage':<48}{'min ms':>9}{'median ms':>11}{'ns/event':>10}")
    for label, low, mid in stages(chunks, args.repeat):
        print(f"{label:<48}{low:>9.1f}{mid:>11.1f}{low * 1e6 / events:>10.0f}")
    profile(chunks, events, args.top)
    return 0


if __name__ == "__main__":
    sys.exit(main())
