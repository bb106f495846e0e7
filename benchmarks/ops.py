"""Operator benchmarks: tool-input assembly, an operator chain, a paused stream's memory.

Run with ``.venv/bin/python benchmarks/ops.py``; ``--quick`` is a smoke run of a few
seconds, ``--json FILE`` writes every sample, ``--only PART`` runs one part. Results are in
BENCHMARKS.md ("Operators"). Four parts, one per target of the operators and architecture
issues:

1. **tool input**: one ``tool_use`` block whose 64 KB and 256 KB input JSON arrives as
   8-character ``input_json_delta`` fragments, with the partial input computed after every
   delta. sluice's :class:`~sluice.ops.ToolCallAssembler` (reading ``partial_input`` after
   every delta) against the official SDK's ``accumulate_event``, which re-parses the whole
   buffer with ``jiter`` after every delta. Both get the same events, decoded beforehand
   into their own typed events (msgspec structs for sluice, the SDK's pydantic models), so
   that only accumulation is timed. Also reported: the assembler plus a
   ``MessageAccumulator`` (``+message``: the SDK's output, like for like), ``ops.tool_calls``
   over an async source, and a consumer that keeps the partial ``content`` string between
   deltas (``held``). Targets: sluice 256 KB / 64 KB <= 4.5x, SDK / sluice at 256 KB >= 50x.
2. **chain**: ``controlled -> accumulate -> text_deltas``
   over the 6 MB ``long_text`` transcript (50,000 deltas), end to end through
   ``httpx.MockTransport`` in 4 KiB chunks, against reading the bare ``MessageStream``;
   ``controlled``, ``accumulate`` and the views without ``controlled`` are timed alone too,
   to locate the cost. Target: chain / bare <= 1.5x.
3. **memory**: 100,000 text deltas made one at a time by an async generator, through
   ``controlled(buffer_size=1024)`` with each overflow policy: paused for a while, then
   resumed with a consumer half as fast as the source. Targets: the ``tracemalloc`` peak
   at 100,000 events <= 1.5x the peak at 25,000, and ``control.high_water <= buffer_size``.
4. **tool_stream** (``--only tool_stream``): part 1's input (64 KB and 256 KB, 8-character
   fragments) as the SSE body of a whole response, end to end through
   ``sluice.AsyncClient`` over ``httpx.MockTransport`` in 4 KiB chunks (run.py's
   transport): ``async with client.messages.stream(...) as s: async for item in
   ops.tool_calls(s)``, reading ``item.partial_input`` for every ``ToolCallDelta``. Against
   run.py's floor on the same bytes (lines, each ``data:`` line decoded by a typed
   ``msgspec`` decoder of the event union, nothing else), and the bare ``MessageStream``
   (read to the end) to tell the stream's share. Targets: ``tool_calls`` / floor <= 3x at
   both sizes, ``tool_calls`` 256 KB / 64 KB <= 4.5x.

Results are checked before they are timed: the SDK's and sluice's final tool inputs must
equal ``json.loads`` of the text (in part 4 also the last partial input, and the floor and
the stream must see every event), and every pipeline of the chain must pass every event and
deliver the stream's exact text and message. The paused streams are checked in the measured
run itself: no text lost (``block``, ``coalesce``), no structural event lost and handed out
+ dropped = made (``drop_oldest``). If a check fails the run stops with exit status 1;
missed targets are printed as FAIL and the exit status is 0.

Timing follows ``run.py``: the imported modules are frozen out of the collector's sight
(``gc.freeze()``), every run starts after ``gc.collect()``, runs are interleaved in
shuffled rounds, ms columns are medians and ratios are medians of per-round ratios
(:func:`run.paired`). The SDK gets fewer rounds where its runs would exceed
``--sdk-budget`` seconds per input size (by default one or two runs of 9-11 s at 256 KB).
"""

from __future__ import annotations

import argparse
import copy
import gc
import hashlib
import json
import random
import sys
import time
import tracemalloc
from collections.abc import AsyncGenerator, AsyncIterable, Awaitable, Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any, Literal, cast

import anyio
from anthropic._models import construct_type_unchecked
from anthropic.lib.streaming._messages import accumulate_event
from anthropic.types import RawMessageStreamEvent
from anyio.lowlevel import checkpoint
from run import (
    REQUEST,
    FloorContender,
    Series,
    environment,
    httpx_client,
    paired,
    split_body,
    spread,
)
from transcripts import MODEL, Transcript, _file_text, _prose, long_text

import sluice
from sluice import ops

Backend = Literal["asyncio", "trio"]

#: The SDK's union of stream event models (a typing special form, hence the cast).
SDK_EVENT: Any = cast(Any, RawMessageStreamEvent)


@dataclass(frozen=True)
class Plan:
    """What to run; ``--quick`` shrinks every part."""

    tool_sizes: tuple[int, int]  # bytes of input JSON (the large one is 4x the small one)
    fragment: int  # characters per input_json_delta
    text_deltas: int  # deltas of the long_text transcript of part 2
    memory_events: tuple[int, int]  # text deltas of part 3 (the large one is 4x)
    pause_turns: int  # event-loop turns the stream stays paused in part 3
    buffer_size: int
    rounds: int
    sdk_budget: float  # seconds of SDK runs per input size


FULL = Plan(
    tool_sizes=(64 * 1024, 256 * 1024),
    fragment=8,
    text_deltas=50_000,
    memory_events=(25_000, 100_000),
    pause_turns=10_000,
    buffer_size=1024,
    rounds=9,
    sdk_budget=20.0,
)
QUICK = Plan(
    tool_sizes=(16 * 1024, 64 * 1024),
    fragment=8,
    text_deltas=4_000,
    memory_events=(2_500, 10_000),
    pause_turns=1_000,
    buffer_size=1024,
    rounds=3,
    sdk_budget=1.0,
)

#: How many scheduling points the part 3 consumer takes per event; the source takes one,
#: so the consumer is half as fast as the source and the buffer stays full.
CONSUMER_CHECKPOINTS = 2


class VerificationError(Exception):
    """A contender produced a wrong result: the timings would mean nothing."""


def _log(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def _kb(size: int) -> str:
    return f"{size / 1024:.0f} KB"


# ============================================================ part 1: tool input assembly


def tool_input_text(size: int, *, seed: int = 1) -> str:
    """A file-edit tool input whose JSON text is ``size`` bytes of UTF-8, or one edit more.

    A ``content`` string of source code (newlines, tabs, quotes, backslashes, raw non-ASCII
    and ``\\u001b`` escapes) takes about half; the rest is a list of nested ``edits``
    (ranges, numbers, booleans, nulls, arrays) and ``options``. Written as the model writes
    it (``", "`` and ``": "`` separators, raw UTF-8), except that every fourth edit uses
    ``\\uXXXX`` escapes (surrogate pairs for emoji), as the API sometimes does.
    """
    rng = random.Random(f"ops/tool_input/{seed}")
    head = {
        "path": "src/billing/render/invoice_renderer.py",
        "description": "Refactor rendering — keep “Rechnung” wording, fix ½-cent rounding 🚀",
        "content": _file_text(rng, size // 2),
    }
    options = {
        "create_backup": True,
        "encoding": "utf-8",
        "line_ending": "\n",
        "dry_run": False,
        "max_changes": None,
        "threshold": 0.875,
        "limits": {"lines": [1, 400], "bytes": 1_048_576, "drift": -2.5e-3},
        "matrix": [[1, 0.5, -3], [True, False, None], [], {}],
        "tags": ["refactor", "i18n", "perf"],
    }
    parts = [json.dumps(head, ensure_ascii=False)[:-1], ', "edits": [']
    tail = '], "options": ' + json.dumps(options, ensure_ascii=False) + "}"
    used = len(parts[0].encode()) + len(parts[1]) + len(tail.encode())
    line = 1
    count = 0
    while used < size:
        start = line + rng.randint(1, 40)
        line = start + rng.randint(0, 6)
        edit = {
            "range": {
                "start": {"line": start, "column": rng.randint(0, 12)},
                "end": {"line": line, "column": rng.randint(0, 80)},
            },
            "old_text": rng.choice(_prose(rng, 60).split(". ")),
            "new_text": _prose(rng, rng.randint(20, 160)),
            "replace_all": rng.random() < 0.2,
            "confidence": round(rng.random(), 3),
            "note": None if rng.random() < 0.5 else _prose(rng, 12),
            "tags": rng.sample(["style", "bug", "i18n", "perf", "docs", "test"], 2),
        }
        piece = (", " if count else "") + json.dumps(edit, ensure_ascii=count % 4 == 0)
        parts.append(piece)
        used += len(piece.encode())
        count += 1
    return "".join(parts) + tail


def tool_stream_payloads(text: str, fragment: int) -> list[dict[str, Any]]:
    """The events of a response whose one ``tool_use`` block streams ``text``, as JSON data.

    ``message_start``, ``content_block_start`` (``tool_use``, ``input: {}``), an empty
    first fragment as in real streams, then ``text`` cut every ``fragment`` characters
    (inside strings, escapes, numbers and literals alike), ``content_block_stop``,
    ``message_delta``, ``message_stop``.
    """
    fragments = [""] + [text[i : i + fragment] for i in range(0, len(text), fragment)]
    usage = {
        "input_tokens": 2187,
        "cache_creation_input_tokens": 0,
        "cache_read_input_tokens": 0,
        "output_tokens": 1,
    }
    return [
        {
            "type": "message_start",
            "message": {
                "model": MODEL,
                "id": "msg_01BenchOperatorsToolInput",
                "type": "message",
                "role": "assistant",
                "content": [],
                "stop_reason": None,
                "stop_sequence": None,
                "usage": usage,
            },
        },
        {
            "type": "content_block_start",
            "index": 0,
            "content_block": {
                "type": "tool_use",
                "id": "toolu_01BenchOperatorsToolInput",
                "name": "edit_file",
                "input": {},
            },
        },
        *(
            {
                "type": "content_block_delta",
                "index": 0,
                "delta": {"type": "input_json_delta", "partial_json": piece},
            }
            for piece in fragments
        ),
        {"type": "content_block_stop", "index": 0},
        {
            "type": "message_delta",
            "delta": {"stop_reason": "tool_use", "stop_sequence": None},
            "usage": {**usage, "output_tokens": len(fragments) + 20},
        },
        {"type": "message_stop"},
    ]


@dataclass
class ToolInput:
    """One tool input, streamed; its events decoded beforehand for each contender."""

    label: str
    text: str
    value: Any
    deltas: int
    sluice_events: list[sluice.Event]
    sdk_events: list[Any]

    @classmethod
    def make(cls, size: int, fragment: int) -> ToolInput:
        """Generate the input and decode its events as each client decodes them."""
        text = tool_input_text(size)
        payloads = tool_stream_payloads(text, fragment)
        return cls(
            label=_kb(size),
            text=text,
            value=json.loads(text),
            deltas=sum(p["type"] == "content_block_delta" for p in payloads),
            sluice_events=[sluice.decode_event(json.dumps(p).encode()) for p in payloads],
            # What the SDK's stream does with each event's JSON before accumulating it.
            sdk_events=[construct_type_unchecked(type_=SDK_EVENT, value=p) for p in payloads],
        )


def sluice_assembler(tool: ToolInput) -> Any:
    """``ToolCallAssembler.feed`` per event, reading ``partial_input`` after every delta."""
    feed = ops.ToolCallAssembler().feed
    delta_type = ops.ToolCallDelta
    call: ops.ToolCall | None = None
    for event in tool.sluice_events:
        item = feed(event)
        if type(item) is delta_type:
            item.partial_input  # noqa: B018 -- the partial input is computed on access
        elif isinstance(item, ops.ToolCall):
            call = item
    assert call is not None
    return call.input


def sluice_assembler_holding(tool: ToolInput) -> Any:
    """The assembler, with the consumer keeping the partial ``content`` string between deltas.

    As a UI does that shows the string it was given until the next one. The parser then
    cannot grow that string in place and copies it on every read (see the cost model in
    ``sluice._partial_json``): O(length) per delta once ``content`` is long.
    """
    feed = ops.ToolCallAssembler().feed
    delta_type = ops.ToolCallDelta
    call: ops.ToolCall | None = None
    shown: Any = None
    for event in tool.sluice_events:
        item = feed(event)
        if type(item) is delta_type:
            partial = item.partial_input
            shown = partial.get("content") if isinstance(partial, dict) else None
        elif isinstance(item, ops.ToolCall):
            call = item
    assert call is not None and shown is not None
    return call.input


def sluice_assembler_and_message(tool: ToolInput) -> Any:
    """The assembler plus a ``MessageAccumulator``: the SDK's output (a message snapshot
    and the partial input after every delta), like for like."""
    feed = ops.ToolCallAssembler().feed
    accumulator = sluice.MessageAccumulator()
    accumulate = accumulator.feed
    delta_type = ops.ToolCallDelta
    for event in tool.sluice_events:
        accumulate(event)
        item = feed(event)
        if type(item) is delta_type:
            item.partial_input  # noqa: B018 -- the partial input is computed on access
    block = accumulator.finish().content[0]
    assert isinstance(block, sluice.ToolUseBlock)
    return block.input


async def sluice_tool_calls(tool: ToolInput) -> Any:
    """``ops.tool_calls`` over an async generator of the events, reading ``partial_input``."""

    async def source() -> AsyncGenerator[sluice.Event, None]:
        for event in tool.sluice_events:
            yield event

    delta_type = ops.ToolCallDelta
    call: Any = None
    async for item in ops.tool_calls(source()):
        if type(item) is delta_type:
            item.partial_input  # noqa: B018 -- the partial input is computed on access
        else:
            call = item
    return call.input


def sdk_accumulate(tool: ToolInput) -> Any:
    """The SDK's ``accumulate_event`` per event, as its ``MessageStream`` calls it."""
    snapshot: Any = None
    json_bufs: dict[int, bytes] = {}
    for event in tool.sdk_events:
        snapshot = accumulate_event(event=event, current_snapshot=snapshot, json_bufs=json_bufs)
    return snapshot.content[0].input


ToolRunner = Callable[[ToolInput], Any]
TOOL_CONTENDERS: dict[str, ToolRunner] = {
    "sluice": sluice_assembler,
    "sluice+message": sluice_assembler_and_message,
    "held": sluice_assembler_holding,
    "tool_calls": sluice_tool_calls,
    "sdk": sdk_accumulate,
}


async def _call(runner: ToolRunner, tool: ToolInput) -> tuple[Any, float]:
    """Run once after a full collection; the result and the wall time in ms."""
    gc.collect()
    start = time.perf_counter_ns()
    result = runner(tool)
    if isinstance(result, Awaitable):
        result = await result
    return result, (time.perf_counter_ns() - start) / 1e6


async def bench_tools(
    plan: Plan, rng: random.Random
) -> tuple[list[ToolInput], dict[str, dict[str, Series]]]:
    """Verify, then time every (input size, contender) pair in interleaved rounds."""
    tools = [ToolInput.make(size, plan.fragment) for size in plan.tool_sizes]
    series = {t.label: {name: Series() for name in TOOL_CONTENDERS} for t in tools}
    gc.collect()
    gc.freeze()
    try:
        for tool in tools:  # small first: it is the warm-up of the large one
            for name, runner in TOOL_CONTENDERS.items():
                result, wall = await _call(runner, tool)
                if result != tool.value:
                    raise VerificationError(
                        f"tool input {tool.label}: {name}'s final input differs from json.loads"
                    )
                rounds = set(range(plan.rounds))
                if name == "sdk":
                    count = max(1, min(plan.rounds, int(plan.sdk_budget / (wall / 1e3))))
                    rounds = spread(count, plan.rounds)
                series[tool.label][name].rounds = rounds
            _log(
                f"  verified tool input {tool.label}: {tool.deltas} deltas, every contender's "
                f"input == json.loads ({len(series[tool.label]['sdk'].rounds)} sdk runs to come)"
            )
        gc.collect()
        gc.freeze()
        for round_no in range(plan.rounds):
            fast = [(t, n) for t in tools for n in TOOL_CONTENDERS if n != "sdk"]
            slow = [(t, "sdk") for t in tools if round_no in series[t.label]["sdk"].rounds]
            rng.shuffle(fast)
            rng.shuffle(slow)
            for tool, name in fast + slow if round_no % 2 == 0 else slow + fast:
                _, wall = await _call(TOOL_CONTENDERS[name], tool)
                series[tool.label][name].wall_ms[round_no] = wall
            _log(f"  tool input: round {round_no + 1}/{plan.rounds} done")
    finally:
        gc.unfreeze()
    return tools, series


# ================================================================ part 2: operator chain


class ChainContender:
    """One way of reading the long text stream through sluice; ``run`` reads it to the end."""

    def __init__(self, name: str, chunks: Sequence[bytes], buffer_size: int) -> None:
        self.name = name
        self._http = httpx_client(chunks)
        self._client = sluice.AsyncClient(api_key="x", http_client=self._http, max_retries=0)
        self._buffer_size = buffer_size
        self.run: Callable[[], Awaitable[None]] = getattr(self, f"_{name}")

    async def _bare(self) -> None:
        """The stream alone: SSE framing, typed decoding, the stream's own accumulator."""
        async with self._client.messages.stream(**REQUEST) as stream:
            async for _event in stream:
                pass

    async def _controlled(self) -> None:
        """``controlled`` over the stream, nothing after it."""
        async with (
            self._client.messages.stream(**REQUEST) as stream,
            ops.controlled(stream, buffer_size=self._buffer_size) as (events, _control),
        ):
            async for _event in events:
                pass

    async def _accumulate(self) -> None:
        """``accumulate`` over the stream, nothing after it."""
        async with self._client.messages.stream(**REQUEST) as stream:
            async for _snapshot in ops.accumulate(stream):
                pass

    async def _views(self) -> None:
        """``accumulate -> text_deltas``, without ``controlled``."""
        async with self._client.messages.stream(**REQUEST) as stream:
            async for _text in ops.text_deltas(ops.accumulate(stream)):
                pass

    async def _chain(self) -> None:
        """The chain of the target: ``controlled -> accumulate -> text_deltas``."""
        async with (
            self._client.messages.stream(**REQUEST) as stream,
            ops.controlled(stream, buffer_size=self._buffer_size) as (events, _control),
        ):
            async for _text in ops.text_deltas(ops.accumulate(events)):
                pass

    async def reference(self) -> sluice.Message:
        """Read the bare stream once; its final message is what every pipeline must match."""
        async with self._client.messages.stream(**REQUEST) as stream:
            return await stream.final_message()

    async def verify(self, transcript: Transcript, reference: sluice.Message) -> None:
        """Run the contender's pipeline once, keeping everything, and check it.

        Every event must pass; the text views must deliver the reference's exact text, and
        ``accumulate``'s own accumulator must build the reference message.
        """
        seen = [0]
        accumulator: sluice.MessageAccumulator | None = None
        texts: list[str] = []

        async def views(source: AsyncIterable[sluice.Event]) -> None:
            nonlocal accumulator
            accumulator = sluice.MessageAccumulator()
            async for text in ops.text_deltas(ops.accumulate(source, accumulator=accumulator)):
                texts.append(text)
            seen[0] = accumulator.events

        async with self._client.messages.stream(**REQUEST) as stream:
            if self.name == "bare":
                async for _event in stream:
                    seen[0] += 1
            elif self.name == "accumulate":
                async for snapshot in ops.accumulate(stream):
                    seen[0] += 1
                    accumulator = snapshot.accumulator
            elif self.name == "views":
                await views(stream)
            else:
                async with ops.controlled(stream, buffer_size=self._buffer_size) as (events, _c):
                    if self.name == "controlled":
                        async for _event in events:
                            seen[0] += 1
                    else:
                        await views(events)
            message = await stream.final_message()
        name = f"pipeline {self.name!r}"
        if seen[0] != transcript.events:
            raise VerificationError(
                f"{name}: {seen[0]} events passed, the stream has {transcript.events}"
            )
        if accumulator is not None:
            message = accumulator.finish()
        if sluice.to_builtins(message) != sluice.to_builtins(reference):
            raise VerificationError(f"{name}: the final message differs from the bare stream's")
        block = reference.content[0]
        assert isinstance(block, sluice.TextBlock)
        if texts and "".join(texts) != block.text:
            raise VerificationError(f"{name}: the text differs from the bare stream's")
        if self.name in ("views", "chain") and not texts:
            raise VerificationError(f"{name}: no text passed")

    async def aclose(self) -> None:
        """Release the clients."""
        await self._client.aclose()
        await self._http.aclose()


CHAIN_CONTENDERS = ("bare", "controlled", "accumulate", "views", "chain")


async def _timed(run: Callable[[], Awaitable[None]]) -> float:
    gc.collect()
    start = time.perf_counter_ns()
    await run()
    return (time.perf_counter_ns() - start) / 1e6


async def bench_chain(plan: Plan, rng: random.Random) -> tuple[Transcript, dict[str, Series]]:
    """Verify, then time the four pipelines on the long text stream, interleaved."""
    transcript = long_text(plan.text_deltas, name=f"long_text[{plan.text_deltas}]")
    chunks = split_body(transcript.body)
    contenders = {n: ChainContender(n, chunks, plan.buffer_size) for n in CHAIN_CONTENDERS}
    series = {name: Series(rounds=set(range(plan.rounds))) for name in CHAIN_CONTENDERS}
    gc.collect()
    gc.freeze()
    try:
        reference = await contenders["bare"].reference()
        for contender in contenders.values():
            await contender.verify(transcript, reference)
        _log(
            f"  verified chain on {transcript.name}: every pipeline passed "
            f"{transcript.events} events and the stream's exact text and message"
        )
        gc.collect()
        gc.freeze()
        for round_no in range(plan.rounds):
            order = list(CHAIN_CONTENDERS)
            rng.shuffle(order)
            for name in order:
                series[name].wall_ms[round_no] = await _timed(contenders[name].run)
            _log(f"  chain: round {round_no + 1}/{plan.rounds} done")
    finally:
        gc.unfreeze()
        for contender in contenders.values():
            await contender.aclose()
    return transcript, series


# ========================================================== part 3: paused stream memory


@dataclass
class Progress:
    """What the lazy source has produced so far."""

    deltas: int = 0
    finished: bool = False


def _structure() -> tuple[list[sluice.Event], list[sluice.Event]]:
    """The events before and after the text deltas of a one-block text response."""
    head = [
        {
            "type": "message_start",
            "message": {
                "model": MODEL,
                "id": "msg_01BenchOperatorsMemory",
                "type": "message",
                "role": "assistant",
                "content": [],
                "stop_reason": None,
                "stop_sequence": None,
                "usage": {"input_tokens": 412, "output_tokens": 1},
            },
        },
        {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}},
        {"type": "ping"},
    ]
    tail = [
        {"type": "content_block_stop", "index": 0},
        {
            "type": "message_delta",
            "delta": {"stop_reason": "end_turn", "stop_sequence": None},
            "usage": {"output_tokens": 100_000},
        },
        {"type": "message_stop"},
    ]
    decode = sluice.decode_event
    return (
        [decode(json.dumps(p).encode()) for p in head],
        [decode(json.dumps(p).encode()) for p in tail],
    )


@dataclass(frozen=True)
class TextSource:
    """The material of a lazily made text stream: the text and the cycle of piece sizes.

    Only these exist before the run (and are not counted by ``tracemalloc``): each delta
    event is made when the consumer of :meth:`events` asks for it.
    """

    deltas: int
    text: str
    sizes: tuple[int, ...]
    head: list[sluice.Event]
    tail: list[sluice.Event]

    @classmethod
    def make(cls, deltas: int, *, seed: int = 1) -> TextSource:
        """``deltas`` pieces of 1-12 characters of varied prose (multi-byte UTF-8 included)."""
        rng = random.Random(f"ops/memory/{seed}")
        sizes = tuple(rng.randint(1, 12) for _ in range(97))
        total = sum(sizes[i % len(sizes)] for i in range(deltas))
        head, tail = _structure()
        return cls(deltas, _prose(rng, total)[:total], sizes, head, tail)

    async def events(self, progress: Progress) -> AsyncGenerator[sluice.Event, None]:
        """The stream, one event at a time, with a scheduling point before each (as a socket
        read would have)."""
        for event in self.head:
            await checkpoint()
            yield event
        text, sizes, cycle = self.text, self.sizes, len(self.sizes)
        delta, text_delta = sluice.ContentBlockDelta, sluice.TextDelta
        position = 0
        for i in range(self.deltas):
            size = sizes[i % cycle]
            piece = text[position : position + size]
            position += size
            await checkpoint()
            progress.deltas += 1
            yield delta(index=0, delta=text_delta(text=piece))
        for event in self.tail:
            await checkpoint()
            yield event
        progress.finished = True


@dataclass
class MemoryRun:
    """One paused-then-slow run of ``controlled`` and what it held."""

    policy: str
    pause: str  # "fixed" (pause_turns) or "whole stream"
    deltas: int
    peak_bytes: int = 0
    high_water: int = 0
    read_while_paused: int = 0
    handed_out: int = 0
    dropped: int = 0
    seconds: float = 0.0


STRUCTURE = (
    sluice.MessageStart,
    sluice.ContentBlockStart,
    sluice.ContentBlockStop,
    sluice.MessageDelta,
    sluice.MessageStop,
)


async def memory_run(
    source: TextSource, policy: ops.Overflow, plan: Plan, *, whole_stream: bool = False
) -> MemoryRun:
    """Pause ``controlled(source)``, let it fill up, resume with a slow consumer; measure.

    The pause lasts ``plan.pause_turns`` event-loop turns (the source makes at most one
    event per turn), or, with ``whole_stream``, until the source has made every event.
    ``tracemalloc`` starts after the source's text exists, so the peak is what the
    pipeline holds: the buffered events, merged text, the consumer's current event.
    """
    run = MemoryRun(policy, "whole stream" if whole_stream else "fixed", source.deltas)
    progress = Progress()
    expected = hashlib.sha256(source.text.encode()).hexdigest()
    received = hashlib.sha256()
    kinds: dict[type, int] = {}
    gc.collect()
    started = time.perf_counter()
    tracemalloc.start()
    try:
        async with ops.controlled(
            source.events(progress), buffer_size=plan.buffer_size, overflow=policy
        ) as (events, control):
            control.pause()
            if whole_stream:
                while not progress.finished:
                    await checkpoint()
            else:
                for _ in range(plan.pause_turns):
                    await checkpoint()
            run.read_while_paused = progress.deltas
            control.resume()
            async for event in events:
                kind = type(event)
                kinds[kind] = kinds.get(kind, 0) + 1
                if kind is sluice.ContentBlockDelta:
                    delta = event.delta  # type: ignore[union-attr]
                    assert isinstance(delta, sluice.TextDelta)
                    received.update(delta.text.encode())
                for _ in range(CONSUMER_CHECKPOINTS):
                    await checkpoint()
            run.high_water = control.high_water
            run.dropped = control.dropped
        run.peak_bytes = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    run.seconds = time.perf_counter() - started
    run.handed_out = sum(kinds.values())
    name = f"memory {policy} ({run.pause} pause) at {source.deltas} deltas"
    missing = [k.__name__ for k in STRUCTURE if kinds.get(k) != 1]
    if missing:
        raise VerificationError(f"{name}: structural events lost or repeated: {missing}")
    if policy == "drop_oldest":
        # The policy drops deltas and pings (the source sends one ping).
        passed = kinds.get(sluice.ContentBlockDelta, 0) + kinds.get(sluice.Ping, 0)
        if passed + run.dropped != source.deltas + 1:
            raise VerificationError(f"{name}: deltas and pings handed out + dropped != made")
    elif received.hexdigest() != expected or run.dropped:
        raise VerificationError(f"{name}: the text handed out differs from the text made")
    return run


MEMORY_POLICIES: tuple[ops.Overflow, ...] = ("block", "drop_oldest", "coalesce")


async def bench_memory(plan: Plan) -> list[MemoryRun]:
    """Every policy at both sizes with the fixed pause, then ``coalesce`` paused throughout."""
    sources = [TextSource.make(n) for n in plan.memory_events]
    runs: list[MemoryRun] = []
    for policy in MEMORY_POLICIES:
        for source in sources:
            runs.append(await memory_run(source, policy, plan))
    for source in sources:
        runs.append(await memory_run(source, "coalesce", plan, whole_stream=True))
    _log(
        "  verified memory runs: no text lost (block, coalesce), "
        "no structural event lost (drop_oldest)"
    )
    return runs


# ================================================================ part 4: tool calls end to end


def sse_body(payloads: Iterable[dict[str, Any]]) -> bytes:
    """Payloads as the API frames them: ``event: <type>``, ``data: <compact JSON>``, a blank
    line; raw UTF-8, and a ``ping`` after the first ``content_block_start``."""
    frames = []
    for payload in payloads:
        data = json.dumps(payload, ensure_ascii=False, separators=(",", ":"))
        frames.append(f"event: {payload['type']}\ndata: {data}\n\n")
        if payload["type"] == "content_block_start" and len(frames) == 2:
            frames.append('event: ping\ndata: {"type": "ping"}\n\n')
    return "".join(frames).encode()


@dataclass
class ToolStream:
    """A response whose one ``tool_use`` block streams a tool input, as SSE bytes."""

    label: str
    value: Any
    deltas: int
    events: int
    body: bytes

    @classmethod
    def make(cls, size: int, fragment: int) -> ToolStream:
        """The input of :func:`tool_input_text` in ``fragment``-character deltas, framed."""
        text = tool_input_text(size)
        payloads = tool_stream_payloads(text, fragment)
        return cls(
            label=_kb(size),
            value=json.loads(text),
            deltas=sum(p["type"] == "content_block_delta" for p in payloads),
            events=len(payloads) + 1,  # and the ping
            body=sse_body(payloads),
        )


class ToolStreamContender:
    """One way of reading a tool stream end to end; ``run`` reads it and returns a summary."""

    def __init__(self, name: str, chunks: Sequence[bytes]) -> None:
        self.name = name
        self._decode_only = FloorContender(chunks)  # run.py's floor, on the same chunks
        self._http = httpx_client(chunks)
        self._client = sluice.AsyncClient(api_key="x", http_client=self._http, max_retries=0)
        self.run: Callable[[], Awaitable[Any]] = getattr(self, f"_{name}")

    async def _floor(self) -> int:
        """The floor: lines and a typed msgspec decode of each ``data:`` line, nothing else."""
        return await self._decode_only.run()

    async def _stream(self) -> int:
        """The bare ``MessageStream``: the stream's own share of ``tool_calls``'s time."""
        events = 0
        async with self._client.messages.stream(**REQUEST) as stream:
            async for _event in stream:
                events += 1
        return events

    async def _tool_calls(self) -> None:
        """``ops.tool_calls`` over the stream, reading ``partial_input`` after every delta."""
        async with self._client.messages.stream(**REQUEST) as stream:
            async for item in ops.tool_calls(stream):
                if isinstance(item, ops.ToolCallDelta):
                    item.partial_input  # noqa: B018 -- the partial input is computed on access

    async def verify(self) -> tuple[int, Any, Any]:
        """Run ``tool_calls`` once, keeping count: deltas, the final input, and the last
        partial input (a deep copy)."""
        deltas = 0
        call: Any = None
        partial: Any = None
        async with self._client.messages.stream(**REQUEST) as stream:
            async for item in ops.tool_calls(stream):
                if isinstance(item, ops.ToolCallDelta):
                    partial = item.partial_input
                    deltas += 1
                else:
                    call = item
        return deltas, call.input, copy.deepcopy(partial)

    async def aclose(self) -> None:
        """Release the clients."""
        await self._decode_only.aclose()
        await self._client.aclose()
        await self._http.aclose()


TOOL_STREAM_CONTENDERS = ("floor", "stream", "tool_calls")


async def bench_tool_stream(
    plan: Plan, rng: random.Random
) -> tuple[list[ToolStream], dict[str, dict[str, Series]]]:
    """Verify, then time floor, bare stream and ``tool_calls`` at both sizes, interleaved."""
    streams = [ToolStream.make(size, plan.fragment) for size in plan.tool_sizes]
    contenders = {
        s.label: {n: ToolStreamContender(n, split_body(s.body)) for n in TOOL_STREAM_CONTENDERS}
        for s in streams
    }
    series = {
        s.label: {n: Series(rounds=set(range(plan.rounds))) for n in TOOL_STREAM_CONTENDERS}
        for s in streams
    }
    gc.collect()
    gc.freeze()
    try:
        for s in streams:
            by_name = contenders[s.label]
            floor = await by_name["floor"].run()
            events = await by_name["stream"].run()
            deltas, value, last = await by_name["tool_calls"].verify()
            if floor != s.events or events != s.events:
                raise VerificationError(
                    f"tool stream {s.label}: the floor decoded {floor} events and the stream "
                    f"passed {events}; the body has {s.events}"
                )
            if deltas != s.deltas or value != s.value or last != s.value:
                raise VerificationError(
                    f"tool stream {s.label}: tool_calls yielded {deltas} deltas (of {s.deltas}), "
                    "and its final input or last partial input differs from json.loads"
                )
            _log(
                f"  verified tool stream {s.label}: {len(s.body) / 1e6:.2f} MB, {s.events} "
                f"events, {s.deltas} deltas; the final and the last partial input == json.loads"
            )
        gc.collect()
        gc.freeze()
        for round_no in range(plan.rounds):
            order = [(s, n) for s in streams for n in TOOL_STREAM_CONTENDERS]
            rng.shuffle(order)
            for s, name in order:
                wall = await _timed(contenders[s.label][name].run)
                series[s.label][name].wall_ms[round_no] = wall
            _log(f"  tool stream: round {round_no + 1}/{plan.rounds} done")
    finally:
        gc.unfreeze()
        for by_name in contenders.values():
            for contender in by_name.values():
                await contender.aclose()
    return streams, series


# ================================================================================ report


@dataclass(frozen=True)
class Target:
    """A measured value against its bound; ``bound=None`` is reported without a target."""

    label: str
    value: float
    bound: float | None
    at_least: bool = False
    unit: str = "x"
    note: str = ""

    @property
    def passed(self) -> bool | None:
        """Whether the target is met (``None`` when there is no target)."""
        if self.bound is None:
            return None
        return self.value >= self.bound if self.at_least else self.value <= self.bound

    def line(self) -> str:
        """One aligned line of the report."""
        digits = 0 if self.unit == "" else 2
        value = f"{self.value:10.{digits}f}{self.unit}"
        note = f"   ({self.note})" if self.note else ""
        if self.bound is None:
            return f"  {self.label:<50} {value:<12}  (reported, no target){note}"
        sign = ">=" if self.at_least else "<="
        verdict = "PASS" if self.passed else "FAIL"
        bound = f"{self.bound:g}{self.unit}"
        return f"  {self.label:<50} {value:<12}  target {sign} {bound:<6} {verdict}{note}"


def tool_targets(tools: list[ToolInput], series: dict[str, dict[str, Series]]) -> list[Target]:
    """Part 1's targets and the ratios reported with them."""
    small, big = (series[t.label] for t in tools)
    s_label, b_label = tools[0].label, tools[1].label
    sdk_runs = len(big["sdk"].wall_ms)
    once = "one SDK run, not a median" if sdk_runs == 1 else f"{sdk_runs} SDK runs"
    return [
        Target(
            f"tool input: sluice {b_label} / {s_label}",
            paired(big["sluice"], small["sluice"]),
            4.5,
            note=f"{tools[1].deltas / tools[0].deltas:.2f}x the deltas",
        ),
        Target(
            f"tool input {b_label}: sdk / sluice",
            paired(big["sdk"], big["sluice"]),
            50.0,
            True,
            note=once,
        ),
        Target(
            f"tool input {b_label}: sdk / (sluice+message)",
            paired(big["sdk"], big["sluice+message"]),
            None,
        ),
        Target(f"tool input {s_label}: sdk / sluice", paired(small["sdk"], small["sluice"]), None),
        Target(f"tool input: held {b_label} / {s_label}", paired(big["held"], small["held"]), None),
        Target(f"tool input {b_label}: sdk / held", paired(big["sdk"], big["held"]), None),
        Target(f"tool input: sdk {b_label} / {s_label}", paired(big["sdk"], small["sdk"]), None),
        Target(
            f"tool input {b_label}: tool_calls / assembler",
            paired(big["tool_calls"], big["sluice"]),
            None,
        ),
    ]


def tool_stream_targets(
    streams: list[ToolStream], series: dict[str, dict[str, Series]]
) -> list[Target]:
    """Part 4's targets (tool_calls against the floor, linearity) and where the time goes."""
    small, big = (series[s.label] for s in streams)
    s_label, b_label = streams[0].label, streams[1].label
    targets = [
        Target(
            f"tool stream {label}: tool_calls / floor",
            paired(by_name["tool_calls"], by_name["floor"]),
            3.0,
        )
        for label, by_name in ((s_label, small), (b_label, big))
    ]
    return [
        *targets,
        Target(
            f"tool stream: tool_calls {b_label} / {s_label}",
            paired(big["tool_calls"], small["tool_calls"]),
            4.5,
            note=f"{streams[1].deltas / streams[0].deltas:.2f}x the deltas",
        ),
        Target(f"tool stream {b_label}: stream / floor", paired(big["stream"], big["floor"]), None),
        Target(
            f"tool stream {b_label}: tool_calls / stream",
            paired(big["tool_calls"], big["stream"]),
            None,
        ),
        Target(
            f"tool stream: floor {b_label} / {s_label}",
            paired(big["floor"], small["floor"]),
            None,
        ),
    ]


def chain_targets(series: dict[str, Series]) -> list[Target]:
    """Part 2's target and the partial chains that locate its cost."""
    bare = series["bare"]
    return [
        Target("chain / bare", paired(series["chain"], bare), 1.5),
        Target("controlled alone / bare", paired(series["controlled"], bare), None),
        Target("accumulate alone / bare", paired(series["accumulate"], bare), None),
        Target("views alone (no controlled) / bare", paired(series["views"], bare), None),
    ]


def memory_targets(runs: list[MemoryRun], plan: Plan) -> list[Target]:
    """Part 3's targets per policy: flat peak memory and a bounded high-water mark."""
    small_n, big_n = plan.memory_events
    found = {(r.policy, r.pause, r.deltas): r for r in runs}
    targets = []
    for policy, pause in [(p, "fixed") for p in MEMORY_POLICIES] + [("coalesce", "whole stream")]:
        small, big = found[policy, pause, small_n], found[policy, pause, big_n]
        label = policy if pause == "fixed" else f"{policy}, paused throughout"
        bound = 1.5 if pause == "fixed" else None
        targets.append(
            Target(
                f"memory {label}: peak {big_n} / {small_n}",
                big.peak_bytes / small.peak_bytes,
                bound,
            )
        )
        if pause == "fixed":
            high = max(small.high_water, big.high_water)
            targets.append(Target(f"memory {label}: high_water", high, plan.buffer_size, unit=""))
    return targets


def tool_table(tools: list[ToolInput], series: dict[str, dict[str, Series]]) -> str:
    """Part 1 medians, as aligned text."""
    head = (
        f"{'input':<8}{'bytes':>9}{'deltas':>8}{'sluice ms':>11}{'us/delta':>10}"
        f"{'+message ms':>13}{'tool_calls ms':>15}{'held ms':>9}{'sdk ms':>9}{'sdk runs':>10}"
        f"{'sdk/sluice':>12}"
    )
    rows = [head, "-" * len(head)]
    for t in tools:
        s = series[t.label]
        sl = s["sluice"].median
        rows.append(
            f"{t.label:<8}{len(t.text.encode()):>9}{t.deltas:>8}{sl:>11.1f}"
            f"{sl * 1e3 / t.deltas:>10.2f}{s['sluice+message'].median:>13.1f}"
            f"{s['tool_calls'].median:>15.1f}{s['held'].median:>9.1f}{s['sdk'].median:>9.0f}"
            f"{len(s['sdk'].wall_ms):>10}"
            f"{paired(s['sdk'], s['sluice']):>11.0f}x"
        )
    return "\n".join(rows)


def tool_stream_table(streams: list[ToolStream], series: dict[str, dict[str, Series]]) -> str:
    """Part 4 medians, as aligned text."""
    head = (
        f"{'input':<8}{'body':>9}{'deltas':>8}{'floor ms':>10}{'stream ms':>11}"
        f"{'tool_calls ms':>15}{'us/delta':>10}{'/ floor':>9}{'stream / floor':>16}"
    )
    rows = [head, "-" * len(head)]
    for t in streams:
        s = series[t.label]
        tc = s["tool_calls"].median
        rows.append(
            f"{t.label:<8}{len(t.body) / 1e6:>7.2f}MB{t.deltas:>8}{s['floor'].median:>10.1f}"
            f"{s['stream'].median:>11.1f}{tc:>15.1f}{tc * 1e3 / t.deltas:>10.2f}"
            f"{paired(s['tool_calls'], s['floor']):>8.2f}x"
            f"{paired(s['stream'], s['floor']):>15.2f}x"
        )
    return "\n".join(rows)


def chain_table(transcript: Transcript, series: dict[str, Series]) -> str:
    """Part 2 medians, as aligned text."""
    head = f"{'pipeline':<12}{'ms':>9}{'min-max ms':>16}{'ns/event':>10}{'/ bare':>9}"
    rows = [
        f"{transcript.name}: {len(transcript.body) / 1e6:.2f} MB, {transcript.events} events",
        head,
        "-" * len(head),
    ]
    for name in CHAIN_CONTENDERS:
        s = series[name]
        low, high = min(s.wall_ms.values()), max(s.wall_ms.values())
        rows.append(
            f"{name:<12}{s.median:>9.1f}{f'{low:.0f}-{high:.0f}':>16}"
            f"{s.median * 1e6 / transcript.events:>10.0f}{paired(s, series['bare']):>8.2f}x"
        )
    return "\n".join(rows)


def memory_table(runs: list[MemoryRun]) -> str:
    """Part 3 runs, as aligned text."""
    head = (
        f"{'policy':<13}{'pause':<14}{'deltas':>8}{'peak KB':>9}{'high_water':>12}"
        f"{'read paused':>13}{'handed out':>12}{'dropped':>9}{'s':>6}"
    )
    rows = [head, "-" * len(head)]
    for r in runs:
        rows.append(
            f"{r.policy:<13}{r.pause:<14}{r.deltas:>8}{r.peak_bytes / 1024:>9.0f}{r.high_water:>12}"
            f"{r.read_while_paused:>13}{r.handed_out:>12}{r.dropped:>9}{r.seconds:>6.1f}"
        )
    return "\n".join(rows)


def _series_json(series: Series) -> dict[str, Any]:
    return {
        "median_ms": round(series.median, 3),
        "wall_ms_by_round": {r: round(x, 3) for r, x in sorted(series.wall_ms.items())},
    }


# ================================================================================== main


@dataclass
class Results:
    """Everything one run measured."""

    tools: list[ToolInput] = field(default_factory=list)
    tool_series: dict[str, dict[str, Series]] = field(default_factory=dict)
    tool_streams: list[ToolStream] = field(default_factory=list)
    tool_stream_series: dict[str, dict[str, Series]] = field(default_factory=dict)
    transcript: Transcript | None = None
    chain_series: dict[str, Series] = field(default_factory=dict)
    memory: list[MemoryRun] = field(default_factory=list)


async def benchmark(plan: Plan, seed: int, parts: Iterable[str]) -> Results:
    """Run the requested parts in order (each verifies before it times)."""
    rng = random.Random(seed)
    results = Results()
    if "tools" in parts:
        _log("part 1: tool input assembly")
        results.tools, results.tool_series = await bench_tools(plan, rng)
    if "tool_stream" in parts:
        _log("part 4: tool calls end to end")
        results.tool_streams, results.tool_stream_series = await bench_tool_stream(plan, rng)
    if "chain" in parts:
        _log("part 2: operator chain")
        results.transcript, results.chain_series = await bench_chain(plan, rng)
    if "memory" in parts:
        _log("part 3: paused stream memory")
        results.memory = await bench_memory(plan)
    return results


PARTS = ("tools", "tool_stream", "chain", "memory")


def main(argv: Sequence[str] | None = None) -> int:
    """Parse arguments, run, print the report; 0 unless a verification fails."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="small inputs, few rounds")
    parser.add_argument("--json", metavar="FILE", type=Path, help="write all results here")
    parser.add_argument("--rounds", type=int, help=f"timed rounds (default {FULL.rounds})")
    parser.add_argument(
        "--sdk-budget",
        type=float,
        metavar="SECONDS",
        help=f"SDK time per input size; fewer SDK rounds beyond it (default {FULL.sdk_budget:g})",
    )
    parser.add_argument("--seed", type=int, default=0, help="seed of the round orders")
    parser.add_argument("--backend", choices=("asyncio", "trio"), default="asyncio")
    parser.add_argument(
        "--only", choices=PARTS, action="append", help="run only this part (repeatable)"
    )
    args = parser.parse_args(argv)
    plan = QUICK if args.quick else FULL
    if args.rounds is not None:
        plan = replace(plan, rounds=max(1, args.rounds))
    if args.sdk_budget is not None:
        plan = replace(plan, sdk_budget=args.sdk_budget)
    parts = tuple(args.only or PARTS)
    backend: Backend = args.backend

    env = environment()
    _log(
        f"sluice operator benchmark ({'quick' if args.quick else 'full'}): {plan.rounds} rounds, "
        f"{backend}, Python {env['python']}, {env['cpus']} CPUs"
    )
    started = time.perf_counter()
    try:
        results = anyio.run(benchmark, plan, args.seed, parts, backend=backend)
    except VerificationError as exc:
        print(f"VERIFICATION FAILED: {exc}", file=sys.stderr)
        return 1
    elapsed = time.perf_counter() - started

    targets: list[Target] = []
    print()
    print(
        f"Python {env['python']} on {env['platform']}, {env['cpus']} CPUs, {backend}; "
        + ", ".join(f"{k} {v}" for k, v in env["versions"].items())
    )
    print("ms: medians of interleaved rounds; ratios: medians of per-round ratios")
    if results.tools:
        print(
            f"\n1. tool input in {plan.fragment}-character input_json_deltas, partial input "
            "after every delta (events pre-decoded; accumulation only)"
        )
        print(tool_table(results.tools, results.tool_series))
        targets += tool_targets(results.tools, results.tool_series)
    if results.tool_streams:
        print(
            f"\n4. tool calls end to end: ops.tool_calls over a MessageStream reading "
            f"partial_input after every delta ({plan.fragment}-character input_json_deltas, "
            "4 KiB chunks), the bare stream, and the floor (lines + typed decode)"
        )
        print(tool_stream_table(results.tool_streams, results.tool_stream_series))
        targets += tool_stream_targets(results.tool_streams, results.tool_stream_series)
    if results.transcript is not None:
        print(
            f"\n2. chain: controlled(buffer_size={plan.buffer_size}) -> accumulate -> "
            "text_deltas, end to end, 4 KiB chunks"
        )
        print(chain_table(results.transcript, results.chain_series))
        targets += chain_targets(results.chain_series)
    if results.memory:
        print(
            f"\n3. controlled(buffer_size={plan.buffer_size}) paused for {plan.pause_turns} "
            f"loop turns (or the whole stream), then a consumer taking {CONSUMER_CHECKPOINTS} "
            "scheduling points per event; tracemalloc peak"
        )
        print(memory_table(results.memory))
        targets += memory_targets(results.memory, plan)
    print("\ntargets:")
    for target in targets:
        print(target.line())
    print(f"\n({elapsed:.1f} s in all)")

    if args.json:
        data = {
            "mode": "quick" if args.quick else "full",
            "plan": asdict(plan),
            "backend": backend,
            "environment": env,
            "seconds": round(elapsed, 2),
            "tool_input": {
                t.label: {
                    "bytes": len(t.text.encode()),
                    "deltas": t.deltas,
                    "contenders": {
                        n: _series_json(s) for n, s in results.tool_series[t.label].items()
                    },
                }
                for t in results.tools
            },
            "tool_stream": {
                t.label: {
                    "body_bytes": len(t.body),
                    "events": t.events,
                    "deltas": t.deltas,
                    "contenders": {
                        n: _series_json(s) for n, s in results.tool_stream_series[t.label].items()
                    },
                }
                for t in results.tool_streams
            },
            "chain": {n: _series_json(s) for n, s in results.chain_series.items()},
            "memory": [asdict(r) for r in results.memory],
            "targets": [{**asdict(t), "passed": t.passed} for t in targets],
        }
        args.json.write_text(json.dumps(data, indent=2) + "\n")
        _log(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
