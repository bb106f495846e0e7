"""Where sluice spends its time on the long-text transcript: layer timings and a profile.

Run ``.venv/bin/python benchmarks/profile_sluice.py`` (``--deltas`` to change the size,
``--top`` for more profile rows). Two views of the same bytes, fed in 4 KiB chunks:

1. Timings without a profiler, in interleaved rounds: min and median of ``--repeat``
   runs, in ns per event. The "alone" rows time one component on precomputed input (the
   frames, the events); each following sans-I/O row adds one layer to the row before it;
   the async rows show what the transport and the async generator add. "async, no
   per-event yield" is the whole sluice pipeline driven from a plain ``async for chunk``
   loop (``EventStreamDecoder`` + ``MessageAccumulator``), i.e. what ``final_message()``
   would cost if it did not pass every event through the stream's async generator.
2. ``cProfile`` of the whole async path, top functions by own time, in ns per event.
   The profiler inflates Python-level calls far more than C calls: use it to rank the hot
   spots, and the layer timings for their real size.

(Not named ``profile.py``: that would shadow the stdlib module that ``cProfile`` imports.)
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
from collections.abc import Awaitable, Callable, Sequence

import httpx
import msgspec
from run import (
    REQUEST_BODY,
    URL,
    FloorContender,
    SluiceContender,
    httpx_client,
    split_body,
)
from transcripts import long_text

import sluice


def _measure(fns: Sequence[Callable[[], object]], repeat: int) -> list[tuple[float, float]]:
    """Min and median wall time in ns of each of ``fns``, run in ``repeat`` interleaved
    rounds (each run after a full collection), so that drift hits all of them alike."""
    samples: list[list[int]] = [[] for _ in fns]
    for _ in range(repeat):
        for fn, times in zip(fns, samples, strict=True):
            gc.collect()
            start = time.perf_counter_ns()
            fn()
            times.append(time.perf_counter_ns() - start)
    return [(min(times), statistics.median(times)) for times in samples]


def layers(chunks: Sequence[bytes]) -> list[tuple[str, Callable[[], object]]]:
    """The parts of the sluice path on ``chunks``, each as a (label, run once) pair."""
    typed = msgspec.json.Decoder(sluice.Event).decode
    http = httpx_client(chunks)
    # Inputs for timing each component alone: the frames, and the events.
    framer = sluice.SSEDecoder()
    frames = [frame for chunk in chunks for frame in framer.feed(chunk)]
    datas = [frame.data for frame in frames]
    events = [sluice.decode_event(frame.data, frame.event, frame.offset) for frame in frames]

    def msgspec_alone() -> None:
        for data in datas:
            typed(data)

    def decode_alone() -> None:
        decode = sluice.decode_event
        for frame in frames:
            decode(frame.data, frame.event, frame.offset)

    def accumulate_alone() -> None:
        accumulator = sluice.MessageAccumulator()
        apply = accumulator.feed
        for event in events:
            apply(event)
        accumulator.finish()

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
            for _ in feed(chunk):
                pass

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

    async def transport() -> None:
        async with http.stream("POST", URL, content=REQUEST_BODY) as response:
            async for _ in response.aiter_bytes():
                pass

    async def drain() -> None:
        async with http.stream("POST", URL, content=REQUEST_BODY) as response:
            feed = sluice.EventStreamDecoder().feed
            accumulator = sluice.MessageAccumulator()
            apply = accumulator.feed
            async for chunk in response.aiter_bytes():
                for event in feed(chunk):
                    apply(event)
            accumulator.finish()

    sluice_async = SluiceContender(chunks)
    floor_async = FloorContender(chunks)

    def run(make: Callable[[], Awaitable[object]]) -> Callable[[], object]:
        async def discard() -> None:
            # Return nothing from the task: asyncio.run would format the task's result
            # (the message repr, milliseconds for a large message) as it finishes.
            await make()

        return lambda: asyncio.run(discard())

    return [
        ("alone: msgspec typed decode of each data", msgspec_alone),
        ("alone: sluice.decode_event of each frame", decode_alone),
        ("alone: MessageAccumulator.feed, finish()", accumulate_alone),
        ("sans-I/O floor: split lines + typed decode", floor),
        ("SSEDecoder.feed", sse_only),
        ("EventStreamDecoder.feed (SSE + decode_event)", decode),
        ("  + MessageAccumulator.feed, finish()", accumulate),
        ("async: httpx aiter_bytes() alone", run(transport)),
        ("async floor (run.py's floor)", run(floor_async.run)),
        ("async, no per-event yield (see docstring)", run(drain)),
        ("async: stream.final_message() (run.py's)", run(sluice_async.run)),
    ]


def profile(chunks: Sequence[bytes], events: int, top: int) -> None:
    """Print the top functions by own time of the whole async path, in ns per event."""
    contender = SluiceContender(chunks)

    async def discard() -> None:
        await contender.run()

    asyncio.run(discard())  # warm up
    profiler = cProfile.Profile()
    gc.collect()
    profiler.enable()
    asyncio.run(discard())
    profiler.disable()
    stats = pstats.Stats(profiler)
    rows = []
    for (path, line, name), (_, calls, own, cumulative, _) in stats.stats.items():  # type: ignore[attr-defined]
        where = f"{path.rsplit('/', 1)[-1]}:{line}({name})" if line else name
        rows.append((own, cumulative, calls, where))
    rows.sort(reverse=True)
    total = sum(row[0] for row in rows)
    print(f"\ncProfile of stream.final_message(): {total * 1e3:.0f} ms under the profiler")
    print(f"{'own ns/event':>13}{'cum ns/event':>13}{'calls':>9}  function")
    for own, cumulative, calls, where in rows[:top]:
        print(f"{own / events * 1e9:>13.0f}{cumulative / events * 1e9:>13.0f}{calls:>9}  {where}")


def main(argv: Sequence[str] | None = None) -> int:
    """Build the transcript, print the layer table, then the profile."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--deltas", type=int, default=50_000, help="text deltas (50000)")
    parser.add_argument("--repeat", type=int, default=9, help="runs per layer (9)")
    parser.add_argument("--top", type=int, default=25, help="profile rows (25)")
    args = parser.parse_args(argv)
    transcript = long_text(args.deltas)
    chunks = split_body(transcript.body)
    events = transcript.events
    print(
        f"long_text[{args.deltas}]: {len(transcript.body) / 1e6:.2f} MB, {events} events, "
        f"{len(chunks)} chunks; Python {sys.version.split()[0]}, "
        f"httpx {httpx.__version__}, msgspec {msgspec.__version__}"
    )
    gc.collect()
    gc.freeze()  # the imported modules' objects: keep them out of every collection
    print(f"\n{'layer':<46}{'min ms':>8}{'ns/event':>10}{'median ns/event':>17}")
    rows = layers(chunks)
    for _, fn in rows:
        fn()  # warm up
    for (label, _), (low, mid) in zip(
        rows, _measure([fn for _, fn in rows], args.repeat), strict=True
    ):
        print(f"{label:<46}{low / 1e6:>8.1f}{low / events:>10.0f}{mid / events:>17.0f}")
    profile(chunks, events, args.top)
    return 0


if __name__ == "__main__":
    sys.exit(main())
