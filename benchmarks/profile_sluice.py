"""Where sluice spends its time on a transcript: layer timings and a profile.

Run ``.venv/bin/python benchmarks/profile_sluice.py`` (``--deltas`` to change the size of
the long-text transcript, ``--tool-chars 100000`` for ``tool_input[4N]`` instead, ``--top``
for more profile rows). Two views of the same bytes, fed in 4 KiB chunks:

1. Timings without a profiler, in interleaved rounds: min and median of ``--repeat``
   runs, in ns per event. The "alone" rows time one component on precomputed input (the
   payloads, the frames, the events); each following sans-I/O row adds one layer to the
   row before it (``EventStreamDecoder.decode`` is the hot loop every reader shares); the
   async rows show what the transport adds, and what iterating the stream event by event
   costs next to ``final_message()``, which applies each chunk's events at once.
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
    REQUEST,
    REQUEST_BODY,
    URL,
    FloorContender,
    SluiceContender,
    httpx_client,
    split_body,
)
from transcripts import long_text, tool_input

import sluice
from sluice._core._events import decode_events


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
    # Inputs for timing each component alone: the frames, the payloads, the events.
    framer = sluice.SSEDecoder()
    frames = [frame for chunk in chunks for frame in framer.feed(chunk)]
    framer = sluice.SSEDecoder()
    payloads = [framer.feed_frames(chunk).data for chunk in chunks]
    decoder = sluice.EventStreamDecoder()
    batches = [decoder.decode(chunk)[0] for chunk in chunks]
    events = [event for batch in batches for event in batch]

    def msgspec_alone() -> None:
        for data in payloads:
            for payload in data:
                typed(payload)

    def decode_event_alone() -> None:
        decode = sluice.decode_event
        for frame in frames:
            decode(frame.data, frame.event, frame.offset)

    def decode_events_alone() -> None:
        for data in payloads:
            decode_events(data)

    def feed_alone() -> None:
        accumulator = sluice.MessageAccumulator()
        apply = accumulator.feed
        for event in events:
            apply(event)
        accumulator.finish()

    def feed_many_alone() -> None:
        accumulator = sluice.MessageAccumulator()
        apply = accumulator.feed_many
        for batch in batches:
            apply(batch)
        accumulator.finish()

    def floor() -> None:
        rest = b""
        for chunk in chunks:
            lines = (rest + chunk).split(b"\n")
            rest = lines.pop()
            for line in lines:
                if line.startswith(b"data: "):
                    typed(line[6:])

    def sse_feed() -> None:
        feed = sluice.SSEDecoder().feed
        for chunk in chunks:
            feed(chunk)

    def sse_frames() -> None:
        feed = sluice.SSEDecoder().feed_frames
        for chunk in chunks:
            feed(chunk)

    def decode() -> None:
        decode = sluice.EventStreamDecoder().decode
        for chunk in chunks:
            decode(chunk)

    def accumulate() -> None:
        decode = sluice.EventStreamDecoder().decode
        accumulator = sluice.MessageAccumulator()
        apply = accumulator.feed_many
        for chunk in chunks:
            apply(decode(chunk)[0])
        accumulator.finish()

    async def transport() -> None:
        async with http.stream("POST", URL, content=REQUEST_BODY) as response:
            async for _ in response.aiter_bytes():
                pass

    async def iterate() -> None:
        async with sluice_client.messages.stream(**REQUEST) as stream:
            async for _ in stream:
                pass
            stream.current_message_snapshot  # noqa: B018 - the final join, as final_message

    sluice_async = SluiceContender(chunks)
    sluice_client = sluice.AsyncClient(api_key="x", http_client=httpx_client(chunks))
    floor_async = FloorContender(chunks)

    def run(make: Callable[[], Awaitable[object]]) -> Callable[[], object]:
        async def discard() -> None:
            # Return nothing from the task: asyncio.run would format the task's result
            # (the message repr, milliseconds for a large message) as it finishes.
            await make()

        return lambda: asyncio.run(discard())

    return [
        ("alone: msgspec typed decode of each data", msgspec_alone),
        ("alone: sluice.decode_event of each frame", decode_event_alone),
        ("alone: decode_events of each chunk's data", decode_events_alone),
        ("alone: MessageAccumulator.feed, finish()", feed_alone),
        ("alone: MessageAccumulator.feed_many, finish()", feed_many_alone),
        ("sans-I/O floor: split lines + typed decode", floor),
        ("SSEDecoder.feed (ServerSentEvent objects)", sse_feed),
        ("SSEDecoder.feed_frames (data only)", sse_frames),
        ("EventStreamDecoder.decode (frames + decode)", decode),
        ("  + MessageAccumulator.feed_many, finish()", accumulate),
        ("async: httpx aiter_bytes() alone", run(transport)),
        ("async floor (run.py's floor)", run(floor_async.run)),
        ("async: stream.final_message() (run.py's)", run(sluice_async.run)),
        ("async: async for event in stream", run(iterate)),
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
    parser.add_argument(
        "--tool-chars",
        type=int,
        metavar="N",
        help="profile tool_input(N) instead (N characters of tool input JSON, e.g. 100000)",
    )
    parser.add_argument("--repeat", type=int, default=9, help="runs per layer (9)")
    parser.add_argument("--top", type=int, default=25, help="profile rows (25)")
    args = parser.parse_args(argv)
    if args.tool_chars:
        transcript = tool_input(args.tool_chars, name=f"tool_input[{args.tool_chars}]")
    else:
        transcript = long_text(args.deltas, name=f"long_text[{args.deltas}]")
    chunks = split_body(transcript.body)
    events = transcript.events
    print(
        f"{transcript.name}: {len(transcript.body) / 1e6:.2f} MB, {events} events, "
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
