"""Agent-loop benchmarks: eager concurrent tools against run-after-message, and per-step overhead.

Run with ``.venv/bin/python benchmarks/agent.py``; ``--quick`` is a smoke run of a few
seconds (times scaled down 10x, one round), ``--json FILE`` writes every sample. Results
are in BENCHMARKS.md ("Agent loops"). Everything goes over real HTTP to sluice's mock API
on 127.0.0.1, with scripted turns (``sluice.testing.Turn``).

1. **wall clock** of a two-step run. Step 1 calls three tools of 1 s each; the model
   keeps streaming for 1.5 s after the first tool's block stops (a tool call every 0.5 s,
   then text). Step 2 answers. Contenders:

   * sluice, eager + concurrent (the default): each call starts at its block's stop;
   * sluice, ``eager=False``: the calls start once the message is complete, concurrently;
   * sluice, ``eager=False, max_concurrency=1``: after the message, one at a time (the
     official runner's default way);
   * the official SDK's ``client.beta.messages.tool_runner(stream=True)`` by default (after
     the message, one at a time) and with ``run_tools_eagerly=True`` (each call runs when
     the model moves on to the next block, one at a time, and the stream is not read
     while it runs). The SDK runs on asyncio only; sluice on both backends.

   The ideal is max(stream, last call start + 1 s) = 2.0 s; after the message and one at a
   time it is 1.5 + 3 = 4.5 s.
2. **overhead per step**: runs of N short steps (one trivial tool call each; the turns are
   not paced) through ``client.messages.run`` against a hand-written loop over
   ``client.messages.stream`` that does the same work (stream, run the call, append the
   assistant message and the result, send again). Both are checked to produce the same
   conversation first. Also with long steps (a 2,000-delta text before the call), where
   the cost per event of handing events to the consumer shows. Reported: the median time
   per step of each, and their difference, the runner's overhead per step.

Timing: medians of interleaved rounds; each round runs every contender once, in a shuffled
order. Wall-clock results depend on the machine only through the overheads (milliseconds).
"""

from __future__ import annotations

import argparse
import gc
import json
import random
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import anyio

sys.path.insert(0, str(Path(__file__).resolve().parent))

from run import environment

import sluice
from sluice.testing import MockAnthropic, RecordedRequest, Reply, Turn, pause, tool_use

Backend = Literal["asyncio", "trio"]
MODEL = "claude-sonnet-4-5"
USER = [{"role": "user", "content": "Check the three services."}]


@dataclass
class Plan:
    """What to run; ``--quick`` shrinks it."""

    scale: float = 1.0  # seconds per "second" of the wall-clock scenario
    rounds: int = 3
    steps: int = 30  # short steps per overhead run
    long_steps: int = 10  # long steps per overhead run
    long_deltas: int = 2000
    overhead_rounds: int = 15


@dataclass
class Samples:
    """Seconds, one sample per round."""

    values: list[float] = field(default_factory=list)

    @property
    def median(self) -> float:
        return statistics.median(self.values)


# ----------------------------------------------------------------------- wall clock


def scenario_turns(scale: float) -> tuple[Turn, Turn]:
    """Step 1: three calls 0.5 s apart, then 0.5 s more text; step 2: the answer."""
    first = Turn(
        "Checking all three.",
        tool_use("check", {"service": "db"}),
        pause(0.5 * scale),
        tool_use("check", {"service": "cache"}),
        pause(0.5 * scale),
        tool_use("check", {"service": "queue"}),
        pause(0.5 * scale),
        "All three checks are running; I will report when they are back.",
        model=MODEL,
    )
    return first, Turn("All three services are healthy.", model=MODEL)


def serve_scenario(server: MockAnthropic, scale: float) -> None:
    first, second = scenario_turns(scale)

    def reply(request: RecordedRequest) -> Reply:
        # The answer once the calls are answered. (This SDK version sends only the new
        # messages of a thread, so the request's length says nothing.)
        content = request.json["messages"][-1]["content"]
        answered = isinstance(content, list) and content[0].get("type") == "tool_result"
        return (second if answered else first).reply()

    server.route("POST", "/v1/messages", reply)


def sluice_check_tool(scale: float) -> sluice.types.FunctionTool:
    @sluice.tool
    async def check(service: str) -> str:
        """Check a service's health.

        Args:
            service: Its name.
        """
        await anyio.sleep(1.0 * scale)
        return f"{service}: healthy"

    return check


async def time_sluice(
    base_url: str, scale: float, *, eager: bool, max_concurrency: int | None
) -> float:
    async with sluice.AsyncClient(api_key="bench", base_url=base_url) as client:
        started = time.perf_counter()
        async with client.messages.run(
            model=MODEL,
            max_tokens=1024,
            messages=USER,
            tools=[sluice_check_tool(scale)],
            eager=eager,
            max_concurrency=max_concurrency,
        ) as run:
            async for _ in run:
                pass
        elapsed = time.perf_counter() - started
    assert run.end_reason == "end_turn" and run.steps == 2, run
    results = [b["content"] for b in run.messages[2]["content"]]
    assert results == ["db: healthy", "cache: healthy", "queue: healthy"], results
    return elapsed


async def time_sdk(base_url: str, scale: float, *, eager: bool) -> float:
    from anthropic import AsyncAnthropic
    from anthropic.lib.tools import beta_async_tool

    @beta_async_tool
    async def check(service: str) -> str:
        """Check a service's health.

        Args:
            service: Its name.
        """
        await anyio.sleep(1.0 * scale)
        return f"{service}: healthy"

    client = AsyncAnthropic(api_key="bench", base_url=base_url, max_retries=0)
    try:
        started = time.perf_counter()
        runner = client.beta.messages.tool_runner(
            model=MODEL,
            max_tokens=1024,
            messages=USER,  # type: ignore[arg-type]
            tools=[check],
            stream=True,
            run_tools_eagerly=eager,
        )
        async for stream in runner:
            async for _ in stream:
                pass
        final = await runner.until_done()
        elapsed = time.perf_counter() - started
    finally:
        await client.close()
    assert final.stop_reason == "end_turn", final
    return elapsed


Contender = Callable[[str], Awaitable[float]]


def wall_clock_contenders(scale: float, backend: Backend) -> dict[str, Contender]:
    contenders: dict[str, Contender] = {
        "sluice eager + concurrent": lambda url: time_sluice(
            url, scale, eager=True, max_concurrency=16
        ),
        "sluice after message + concurrent": lambda url: time_sluice(
            url, scale, eager=False, max_concurrency=16
        ),
        "sluice after message + sequential": lambda url: time_sluice(
            url, scale, eager=False, max_concurrency=1
        ),
    }
    if backend == "asyncio":
        contenders["SDK tool_runner (default)"] = lambda url: time_sdk(url, scale, eager=False)
        contenders["SDK tool_runner run_tools_eagerly"] = lambda url: time_sdk(
            url, scale, eager=True
        )
    return contenders


async def wall_clock(plan: Plan, backend: Backend, rng: random.Random) -> dict[str, Samples]:
    contenders = wall_clock_contenders(plan.scale, backend)
    samples = {name: Samples() for name in contenders}
    for _ in range(plan.rounds):
        names = list(contenders)
        rng.shuffle(names)
        for name in names:
            async with MockAnthropic() as server:
                serve_scenario(server, plan.scale)
                samples[name].values.append(await contenders[name](server.base_url))
    return samples


# ------------------------------------------------------------------------- overhead


@sluice.tool
async def noop(n: int) -> str:
    """Do nothing.

    Args:
        n: A number.
    """
    return f"ok {n}"


def overhead_turns(steps: int, deltas: int) -> list[Reply]:
    """``steps`` turns each calling noop (after ``deltas`` text deltas), then an answer."""
    text = "".join(f"w{i % 10} " for i in range(deltas))
    replies = []
    for step in range(steps):
        content: list[Any] = [text] if deltas else []
        content.append(tool_use("noop", {"n": step}, id=f"toolu_{step:05d}"))
        replies.append(_batched(Turn(*content, model=MODEL, chunk=3 if deltas else 8)))
    replies.append(_batched(Turn("Done.", model=MODEL)))
    return replies


def _batched(turn: Turn) -> Reply:
    """The turn's events in 64 KiB writes, so that the mock server costs little per event."""
    transcript = b"".join(
        b"event: %s\ndata: %s\n\n" % (event["type"].encode(), json.dumps(event).encode())
        for event in turn.events()
    )
    return Reply.sse(transcript, chunk_size=64 * 1024)


def serve_overhead(server: MockAnthropic, replies: list[Reply]) -> None:
    def reply(request: RecordedRequest) -> Reply:
        # Step k's request has 2k - 1 messages.
        return replies[(len(request.json["messages"]) - 1) // 2]

    server.route("POST", "/v1/messages", reply)


async def runner_loop(client: sluice.AsyncClient, steps: int) -> list[dict[str, Any]]:
    async with client.messages.run(
        model=MODEL, max_tokens=1024, messages=USER, tools=[noop], max_steps=steps + 1
    ) as run:
        async for _ in run:
            pass
    assert run.end_reason == "end_turn", run.end_reason
    return run.messages


async def hand_loop(client: sluice.AsyncClient, steps: int) -> list[dict[str, Any]]:
    """What a user writes without the runner: stream, run the calls, send the results."""
    messages: list[dict[str, Any]] = list(USER)
    tools = [noop.definition]
    for _ in range(steps + 1):
        async with client.messages.stream(
            model=MODEL, max_tokens=1024, messages=messages, tools=tools
        ) as stream:
            async for _ in stream:
                pass
            message = await stream.final_message()
        messages.append({"role": "assistant", "content": sluice.to_builtins(message.content)})
        if message.stop_reason != "tool_use":
            break
        results = []
        for block in message.content:
            if isinstance(block, sluice.ToolUseBlock):
                output = await noop.function(**block.input)
                results.append({"type": "tool_result", "tool_use_id": block.id, "content": output})
        messages.append({"role": "user", "content": results})
    return messages


async def overhead(plan: Plan, steps: int, deltas: int, rng: random.Random) -> dict[str, Samples]:
    replies = overhead_turns(steps, deltas)
    loops = {"runner": runner_loop, "hand-written": hand_loop}
    samples = {name: Samples() for name in loops}
    async with MockAnthropic() as server:
        serve_overhead(server, replies)
        async with sluice.AsyncClient(api_key="bench", base_url=server.base_url) as client:
            expected = await hand_loop(client, steps)
            got = await runner_loop(client, steps)
            if got != expected:
                raise SystemExit("the runner's conversation differs from the hand-written loop's")
            for _ in range(plan.overhead_rounds):
                names = list(loops)
                rng.shuffle(names)
                for name in names:
                    gc.collect()
                    gc.disable()
                    try:
                        started = time.perf_counter()
                        await loops[name](client, steps)
                        elapsed = time.perf_counter() - started
                    finally:
                        gc.enable()
                    samples[name].values.append(elapsed / (steps + 1))
    return samples


# --------------------------------------------------------------------------- report


async def main_async(
    plan: Plan, backends: list[Backend], seed: int, part: str = "all"
) -> dict[str, Any]:
    rng = random.Random(seed)
    report: dict[str, Any] = {"plan": plan.__dict__, "environment": environment(), "results": {}}
    for backend in backends:
        results: dict[str, Any] = {}
        print(f"\n== {backend}")
        if part in ("wall", "all"):
            await _wall(plan, backend, rng, results)
        if part in ("overhead", "all"):
            await _overhead(plan, rng, results)
        report["results"][backend] = results
    return report


async def _wall(plan: Plan, backend: Backend, rng: random.Random, results: dict[str, Any]) -> None:
    """Part 1, on the running backend."""
    print(f"-- wall clock (x{plan.scale:g}): three 1 s tools, model streams 1.5 s past the first")
    wall_samples = await wall_clock(plan, backend, rng)
    for name, values in wall_samples.items():
        each = ", ".join(f"{v:.2f}" for v in values.values)
        print(f"  {name:<36} {values.median:6.2f} s   ({each})")
    results["wall_clock"] = {name: s.values for name, s in wall_samples.items()}


async def _overhead(plan: Plan, rng: random.Random, results: dict[str, Any]) -> None:
    """Part 2, on the running backend."""
    for label, steps, deltas in (
        ("short steps", plan.steps, 0),
        (f"long steps ({plan.long_deltas} deltas)", plan.long_steps, plan.long_deltas),
    ):
        samples = await overhead(plan, steps, deltas, rng)
        runner, hand = samples["runner"], samples["hand-written"]
        paired = statistics.median(r - h for r, h in zip(runner.values, hand.values, strict=True))
        print(
            f"-- overhead, {label}, {steps} steps: runner {runner.median * 1e3:.3f} ms/step "
            f"(best {min(runner.values) * 1e3:.3f}), hand-written {hand.median * 1e3:.3f} "
            f"(best {min(hand.values) * 1e3:.3f}); runner - hand, median of rounds: "
            f"{paired * 1e3:+.3f} ms/step"
        )
        results[f"overhead {label}"] = {name: s.values for name, s in samples.items()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="a smoke run of a few seconds")
    parser.add_argument("--rounds", type=int, default=None)
    parser.add_argument("--backend", choices=["asyncio", "trio", "both"], default="both")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--json", type=Path, default=None, help="write every sample here")
    parser.add_argument("--part", choices=["wall", "overhead", "all"], default="all")
    args = parser.parse_args(argv)
    plan = Plan()
    if args.quick:
        plan = Plan(scale=0.1, rounds=1, steps=10, long_steps=3, long_deltas=300, overhead_rounds=1)
    if args.rounds is not None:
        plan.rounds = plan.overhead_rounds = args.rounds
    backends: list[Backend] = ["asyncio", "trio"] if args.backend == "both" else [args.backend]
    report: dict[str, Any] = {}
    for backend in backends:
        part = anyio.run(main_async, plan, [backend], args.seed, args.part, backend=backend)
        report.setdefault("plan", part["plan"])
        report.setdefault("environment", part["environment"])
        report.setdefault("results", {}).update(part["results"])
    if args.json is not None:
        args.json.write_text(json.dumps(report, indent=1))
    print("\nverified: the runner's conversation equals the hand-written loop's")
    return 0


if __name__ == "__main__":
    sys.exit(main())
