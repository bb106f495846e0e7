"""An agent loop with client.messages.run, against the local mock API (no API key).

The scripted model plans a weekend trip in three steps, over real HTTP:

1. it searches the web (a server tool) and the API pauses the turn (``pause_turn``): the
   run sends the turn back to be continued and runs nothing;
2. it calls four tools, and keeps writing after them: two ``get_weather`` calls that run
   concurrently, ``write_notes``, a *streaming* tool that writes the notes to a file while
   the model is still producing them, and ``book_hotel``, which fails with a
   ``sluice.ToolError``. Each call starts as soon as its block is complete, while the
   model streams the rest of the message; the results go back in one message, in order;
3. it answers.

The log shows when each thing happened: the tools start before the message ends.

Options: ``--backend trio``; ``--delay SECONDS`` between streamed events (default 0.02;
0 runs instantly).
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import anyio
import msgspec

import sluice
from sluice.testing import Conversation, MockAnthropic, Turn, pause, tool_use
from sluice.types import PartialInput, StepEnd, StepStart, ToolFinish, ToolStart

NOTES = (
    "Saturday: Louvre in the morning, lunch in the Marais, Seine walk at sunset. "
    "Sunday: train to Lyon, old town, dinner at a bouchon."
)


class Notes(msgspec.Struct):
    """Write trip notes to a file."""

    path: str
    text: str


def tools(folder: Path, speed: float) -> list[sluice.types.FunctionTool]:
    """The app's tools; ``speed`` scales how long they take (0: instant)."""

    @sluice.tool
    async def get_weather(city: str) -> str:
        """Current weather for a city.

        Args:
            city: The city name.
        """
        await anyio.sleep(15 * speed)
        return {"Paris": "18°C, sunny", "Lyon": "21°C, clouds"}.get(city, "unknown")

    @sluice.tool(streaming=True)
    async def write_notes(args: PartialInput[Notes]) -> str:
        # Opens the file as soon as the path is complete and appends the text as the model
        # writes it (members arrive in order: once "text" appears, "path" is whole).
        out = None
        written = early = 0
        try:
            async for partial in args:
                if "text" not in partial:
                    continue
                if out is None:
                    out = await anyio.open_file(folder / Path(partial["path"]).name, "w")
                text = partial["text"]
                await out.write(text[written:])
                written = len(text)
                if not args.done:
                    early = written
        finally:
            if out is not None:
                await out.aclose()
        return f"wrote {written} characters to {args.value.path}, {early} of them early"

    @sluice.tool
    def book_hotel(city: str, nights: int = 1) -> str:
        """Book a hotel room.

        Args:
            city: Where.
            nights: How many nights.
        """
        raise sluice.ToolError(f"No rooms left in {city} for {nights} nights.")

    return [get_weather, write_notes, book_hotel]


def script(delay: float) -> Conversation:
    """The model's three turns."""
    search = tool_use("web_search", {"query": "events in Paris this weekend"}, server=True)
    result = {
        "type": "web_search_tool_result",
        "tool_use_id": search.id,
        "content": [
            {
                "type": "web_search_result",
                "url": "https://example.com/paris",
                "title": "Paris this weekend",
                "encrypted_content": "e30=",
            }
        ],
    }
    again = tool_use("web_search", {"query": "events in Lyon this weekend"}, server=True)
    return Conversation(
        Turn(
            "Let me look up what is on. ",
            search,
            result,
            again,
            stop_reason="pause_turn",
            delay=delay,
        ),
        Turn(
            "Found plenty. Checking the weather in both cities, saving notes and a hotel.",
            tool_use("get_weather", {"city": "Paris"}),
            tool_use("get_weather", {"city": "Lyon"}),
            tool_use("write_notes", {"path": "trip.md", "text": NOTES}),
            tool_use("book_hotel", {"city": "Lyon", "nights": 1}),
            pause(20 * delay),
            "I will put it all together as soon as these are back.",
            delay=delay,
        ),
        Turn(
            "Paris is sunny (18°C), Lyon cloudy (21°C). Notes saved to trip.md; "
            "no rooms left in Lyon, so I'd look at Villeurbanne.",
            delay=delay,
        ),
    )


async def main(args: argparse.Namespace) -> None:
    conversation = script(args.delay)
    with tempfile.TemporaryDirectory() as folder:
        async with MockAnthropic() as server:
            server.route("POST", "/v1/messages", conversation)
            async with sluice.AsyncClient(api_key="demo-key", base_url=server.base_url) as client:
                started = anyio.current_time()

                def log(line: str) -> None:
                    print(f"{anyio.current_time() - started:6.2f}s  {line}")

                async with client.messages.run(
                    model="claude-sonnet-4-5",
                    max_tokens=2048,
                    messages=[{"role": "user", "content": "Plan my weekend in Paris and Lyon."}],
                    tools=[
                        *tools(Path(folder), args.delay),
                        {"type": "web_search_20250305", "name": "web_search"},
                    ],
                    max_steps=5,
                ) as run:
                    async for event in run:
                        match event:
                            case StepStart(step=step):
                                log(f"step {step}: request sent")
                            case sluice.ContentBlockStop(index=index):
                                block = run.current_message_snapshot.content[index]  # type: ignore[union-attr]
                                log(f"  block {index} ({block.type}) complete")
                            case sluice.MessageStop():
                                log("  message complete")
                            case ToolStart(name=name, input=tool_input):
                                log(f"  -> {name} starts {tool_input or ''}")
                            case ToolFinish(name=name, outcome=outcome, result=result):
                                log(f"  <- {name} {outcome}: {result.get('content')}")
                            case StepEnd(message=message, end_reason=end):
                                log(
                                    f"step ends: {message.stop_reason}"
                                    + (f", run ends ({end})" if end else "")
                                )
                    final = await run.final_message()
                saved = (Path(folder) / "trip.md").read_text(encoding="utf-8")
    conversation.verify()
    print()
    print(final.content[0].text)  # type: ignore[union-attr]
    print(f"notes file: {len(saved)} characters, as streamed: {saved == NOTES}")
    roles = " ".join(message["role"] for message in run.messages)
    print(f"{run.steps} steps, messages: {roles}")
    print(
        f"usage: {run.usage.input_tokens} in, {run.usage.output_tokens} out; cost ${run.cost:.5f}"
    )


def cli() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--backend", choices=["asyncio", "trio"], default="asyncio")
    parser.add_argument("--delay", type=float, default=0.02)
    args = parser.parse_args()
    anyio.run(main, args, backend=args.backend)


if __name__ == "__main__":
    cli()
