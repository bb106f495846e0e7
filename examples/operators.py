"""Operators at work: an agent loop, a paused UI and a relay, with no API key.

Each scene streams a recorded transcript from sluice's mock Anthropic API on 127.0.0.1,
over real HTTP, with realistic pacing:

1. **agent loop** (``fixtures/tool_use.sse``): ``ops.tool_calls`` shows each tool call's
   input while the model is still writing it (which JSON paths grew or completed), and
   the loop "runs" the tool the moment its block stops.
2. **paused UI** (``fixtures/long_text.sse``): ``ops.controlled`` with a stop button in
   another task that pauses delivery for a while and resumes it; events wait in a bounded
   buffer meanwhile, and with ``overflow="block"`` a full buffer stops the HTTP read. The
   text is painted with ``text_deltas(accumulate(...))``, whose accumulator knows the
   message as far as it was shown.
3. **relay** (``fixtures/text.sse``): ``ops.broadcast`` fans the stream out to two
   subscribers, each re-encoded as SSE frames with ``ops.to_sse`` (numbered ``id:``
   lines, so a browser could say where it was), as a websocket or SSE relay would.

Options: ``--backend trio``; ``--delay SECONDS`` between replayed events (default 0.01;
0 for instant).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import anyio

import sluice
from sluice import ops
from sluice.testing import MockAnthropic, Reply

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
REQUEST: dict[str, Any] = {
    "model": "claude-sonnet-4-5",
    "max_tokens": 1024,
    "messages": [{"role": "user", "content": "Hello"}],
}


def run_tool(call: ops.ToolCall) -> str:
    """Stand-in for the app's tool: here it only describes what it would do."""
    return f"ran {call.name}({json.dumps(call.input, ensure_ascii=False)[:60]}...)"


async def agent_loop(client: sluice.AsyncClient) -> None:
    """Scene 1: partial tool input as it streams; the tool starts at its block's stop."""
    print("== 1. agent loop: tool_calls")
    async with client.messages.stream(**REQUEST) as stream:
        async for update in ops.tool_calls(stream):
            if isinstance(update, ops.ToolCallDelta):
                done = [change.path for change in update.changes if change.kind == "completed"]
                if done:
                    paths = ", ".join("/".join(map(str, path)) or "(input)" for path in done)
                    print(f"  {update.name} #{update.index}: completed {paths}")
            elif update.truncated:  # max_tokens cut its input short: never run it
                print(f"  {update.name} #{update.index} cut off by max_tokens: not run")
            else:
                print(f"  {update.name} #{update.index} complete -> {run_tool(update)}")
        message = await stream.final_message()
    print(f"  stop_reason: {message.stop_reason}\n")


async def paused_ui(client: sluice.AsyncClient, pause_for: float) -> None:
    """Scene 2: pause delivery from another task; the buffer stays bounded."""
    print("== 2. paused UI: controlled + text_deltas(accumulate)")
    shown = sluice.MessageAccumulator()  # the message as far as it was painted
    painted = 0
    scrolled_away = anyio.Event()
    async with (
        client.messages.stream(**REQUEST) as stream,
        ops.controlled(stream, buffer_size=64, overflow="block") as (events, control),
        anyio.create_task_group() as tg,
    ):

        async def stop_button() -> None:
            await scrolled_away.wait()
            control.pause()
            print(f"  [paused after {painted} deltas]")
            await anyio.sleep(pause_for)
            print(f"  [resuming: {control.buffered} events buffered, at most 64]")
            control.resume()

        tg.start_soon(stop_button)
        async for text in ops.text_deltas(ops.accumulate(events, accumulator=shown)):
            painted += 1
            if painted <= 3:
                print(f"  {text!r}")
            elif painted == 20:
                scrolled_away.set()  # the user scrolls away; another task pauses
    message = shown.finish()
    text = "".join(block.text for block in message.content if isinstance(block, sluice.TextBlock))
    print(
        f"  painted {painted} deltas, {len(text)} characters, "
        f"{message.usage.output_tokens} output tokens; high water {control.high_water}\n"
    )


async def relay(client: sluice.AsyncClient) -> None:
    """Scene 3: one upstream, two subscribers, each as SSE frames."""
    print("== 3. relay: broadcast + to_sse")
    frames: dict[str, list[bytes]] = {"browser-a": [], "browser-b": []}
    async with client.messages.stream(**REQUEST) as stream:
        async with ops.broadcast(stream, buffer_size=32) as hub, anyio.create_task_group() as tg:
            for name in frames:

                async def forward(name: str, events: ops.Subscription) -> None:
                    async with events:
                        async for frame in ops.to_sse(events):
                            frames[name].append(frame)

                tg.start_soon(forward, name, hub.subscribe())
    for name, sent in frames.items():
        last_id = sent[-1].split(b"\n", 1)[0].decode()
        print(f"  {name}: {len(sent)} frames, last {last_id!r}")
    decoder = sluice.EventStreamDecoder()
    events = [event for frame in frames["browser-a"] for event in decoder.feed(frame)]
    print(f"  browser-a decodes back to {len(events)} events, ending {events[-1].type!r}")


async def main(args: argparse.Namespace) -> None:
    async with MockAnthropic() as server:
        async with sluice.AsyncClient(api_key="demo-key", base_url=server.base_url) as client:
            for name, scene in (
                ("tool_use.sse", agent_loop),
                ("long_text.sse", None),
                ("text.sse", relay),
            ):
                body = (FIXTURES / name).read_bytes()
                server.enqueue(Reply.sse(body, delay=args.delay))
                if scene is None:
                    await paused_ui(client, pause_for=max(args.delay * 20, 0.02))
                else:
                    await scene(client)


def cli() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--backend", choices=["asyncio", "trio"], default="asyncio")
    parser.add_argument("--delay", type=float, default=0.01)
    args = parser.parse_args()
    anyio.run(main, args, backend=args.backend)


if __name__ == "__main__":
    cli()
