"""The sluice demo: a real streaming round trip with no API key.

``make demo`` runs this. It starts sluice's mock Anthropic API on 127.0.0.1, which replays a
recorded transcript (extended thinking, then an answer) with realistic pacing, streams it
through ``sluice.AsyncClient`` over real HTTP, paints thinking and text in the terminal as
they arrive, and ends with a summary of the final message.

With ``ANTHROPIC_API_KEY`` set (and ``--live``), the same code talks to the real API instead.

Options: ``--backend trio`` runs on trio instead of asyncio; ``--delay SECONDS`` sets the
pause between replayed events (default 0.03; 0 for instant); ``--transcript FILE`` replays
another recording.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import anyio

import sluice
from sluice.testing import MockAnthropic, Reply

HERE = Path(__file__).resolve().parent
DEFAULT_TRANSCRIPT = HERE.parent / "fixtures" / "thinking.sse"

DIM, BOLD, RESET = ("\033[2m", "\033[1m", "\033[0m") if sys.stdout.isatty() else ("", "", "")


async def paint(client: sluice.AsyncClient) -> sluice.Message:
    """Stream one message, painting thinking (dim) and text as they arrive."""
    async with client.messages.stream(
        model="claude-sonnet-4-5",
        max_tokens=2048,
        thinking={"type": "enabled", "budget_tokens": 1024},
        messages=[{"role": "user", "content": "Is 1001 prime?"}],
    ) as stream:
        async for event in stream:
            if isinstance(event, sluice.ContentBlockStart):
                if isinstance(event.content_block, sluice.ThinkingBlock):
                    print(f"{DIM}[thinking] ", end="", flush=True)
            elif isinstance(event, sluice.ContentBlockDelta):
                delta = event.delta
                if isinstance(delta, sluice.ThinkingDelta):
                    print(delta.thinking, end="", flush=True)
                elif isinstance(delta, sluice.TextDelta):
                    print(delta.text, end="", flush=True)
            elif isinstance(event, sluice.ContentBlockStop):
                print(RESET + "\n", flush=True)
        print(f"{BOLD}request-id{RESET} {stream.request_id}")
        return await stream.final_message()


def summarize(message: sluice.Message, elapsed: float, events: int) -> None:
    usage = message.usage
    kinds = ", ".join(block.type for block in message.content)
    print(f"{BOLD}stop_reason{RESET} {message.stop_reason}")
    print(f"{BOLD}content{RESET}     {len(message.content)} blocks ({kinds})")
    print(f"{BOLD}usage{RESET}       input {usage.input_tokens}, output {usage.output_tokens}")
    print(f"{BOLD}streamed{RESET}    {events} events in {elapsed:.2f} s")


async def main(args: argparse.Namespace) -> None:
    started = time.perf_counter()
    if args.live:
        if not os.environ.get("ANTHROPIC_API_KEY"):
            raise SystemExit("--live needs ANTHROPIC_API_KEY in the environment")
        async with sluice.AsyncClient() as client:
            message = await paint(client)
        summarize(message, time.perf_counter() - started, -1)
        return
    transcript = await anyio.Path(args.transcript).read_bytes()
    async with MockAnthropic() as server:
        server.enqueue(Reply.sse(transcript, delay=args.delay))
        print(f"{DIM}mock Anthropic API listening on {server.base_url}{RESET}\n")
        # No real key is needed: the mock server checks that one is sent, nothing more.
        async with sluice.AsyncClient(api_key="demo-key", base_url=server.base_url) as client:
            message = await paint(client)
    events = transcript.count(b"\n\n")
    summarize(message, time.perf_counter() - started, events)


def cli() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--backend", choices=["asyncio", "trio"], default="asyncio")
    parser.add_argument("--delay", type=float, default=0.03)
    parser.add_argument("--transcript", default=str(DEFAULT_TRANSCRIPT))
    parser.add_argument("--live", action="store_true", help="talk to the real API")
    args = parser.parse_args()
    anyio.run(main, args, backend=args.backend)


if __name__ == "__main__":
    cli()
