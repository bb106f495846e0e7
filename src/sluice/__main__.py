"""Command line: ``python -m sluice replay FILE [--final | --events | --tools]`` and
``python -m sluice relay [--host H] [--port P] [--redis URL] [--mock]`` (see
:mod:`sluice.relay`; needs the ``relay`` extra, imported only for that command).

``replay`` decodes a recorded SSE transcript (bytes exactly as the API sent them) with the
same sans-I/O core the client uses, and prints:

* by default, the text as it streams (thinking is not printed);
* ``--events``: each decoded event as one JSON line, with API field names;
* ``--final``: the final message as JSON, with API field names;
* ``--tools``: the tool calls as JSON lines: after every ``input_json_delta``, the call's
  input as parsed so far (``{"type": "tool_call_delta", ...}``), and at the block's end the
  complete call (``{"type": "tool_call", ..., "input": ...}``, with ``"truncated": true``
  for a call cut by ``max_tokens``). Each line repeats the whole partial input, so this
  mode is for inspecting a transcript, not for huge inputs.

A stream that fails (in-stream ``error``, truncation, malformed event) prints what it
received, then the error on stderr, and exits with status 1. ``-`` reads standard input.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator, Sequence
from typing import Any, BinaryIO, TextIO

import msgspec

from ._core._accumulate import MessageAccumulator
from ._core._decode import EventStreamDecoder
from ._core._events import ContentBlockDelta, Event, TextDelta
from ._core._exceptions import SluiceError, StreamError
from ._core._serialize import to_json
from ._core._tool_calls import ToolCall, ToolCallAssembler, ToolCallDelta

__all__ = ["main"]

_CHUNK = 64 * 1024


def _chunks(source: BinaryIO) -> Iterator[bytes]:
    while chunk := source.read(_CHUNK):
        yield chunk


def _tool_line(item: ToolCallDelta | ToolCall) -> str:
    """One ``--tools`` output line."""
    line: dict[str, Any] = {
        "type": "tool_call" if isinstance(item, ToolCall) else "tool_call_delta",
        "index": item.index,
        "id": item.id,
        "name": item.name,
        "kind": item.kind,
    }
    if isinstance(item, ToolCall):
        line["input"] = item.input
        if item.caller is not None:
            line["caller"] = item.caller
        if item.server_name is not None:
            line["server_name"] = item.server_name
        if item.truncated:
            line["truncated"] = True
    else:
        line["json_delta"] = item.json_delta
        line["partial_input"] = item.partial_input
    try:
        return _line_encoder.encode(line).decode()
    except UnicodeEncodeError:
        # A lone surrogate (legal in JSON text as an escape, not encodable as UTF-8):
        # write it escaped again, as the model sent it.
        return json.dumps(line)


_line_encoder = msgspec.json.Encoder()


def _show(
    event: Event, args: argparse.Namespace, tools: ToolCallAssembler | None, out: TextIO
) -> None:
    """Print what the chosen mode shows of one event (``--final`` prints at the end)."""
    if tools is not None:
        item = tools.feed(event)
        if item is not None:
            out.write(_tool_line(item) + "\n")
    elif args.events:
        out.write(to_json(event).decode() + "\n")
    elif type(event) is ContentBlockDelta:
        delta = event.delta
        if type(delta) is TextDelta:
            out.write(delta.text)
            out.flush()


def _replay(args: argparse.Namespace) -> int:
    out = sys.stdout
    decoder = EventStreamDecoder(max_event_size=args.max_event_size)
    accumulator = MessageAccumulator()
    tools = ToolCallAssembler() if args.tools else None
    source = sys.stdin.buffer if args.file == "-" else open(args.file, "rb")
    try:
        for chunk in _chunks(source):
            # The same sans-I/O loop as the client's: decode the chunk's events at once,
            # apply and print them, then raise what stopped them (if anything).
            events, error = decoder.decode(chunk)
            if args.final:
                accumulator.feed_many(events)
            else:
                for event in events:
                    accumulator.feed(event)
                    _show(event, args, tools, out)
            if error is not None:
                raise error
        for event in decoder.close():
            accumulator.feed(event)
            if not args.final:
                _show(event, args, tools, out)
        message = accumulator.finish()
    except SluiceError as exc:
        if isinstance(exc, StreamError) and exc.partial_message is None:
            exc.partial_message = accumulator.partial()
        if not args.events and not args.final and not args.tools:
            out.write("\n")
        out.flush()
        print(f"sluice: {type(exc).__name__}: {exc}", file=sys.stderr)
        if args.final and isinstance(exc, StreamError) and exc.partial_message is not None:
            print("partial message:", to_json(exc.partial_message).decode(), file=sys.stderr)
        return 1
    finally:
        if source is not sys.stdin.buffer:
            source.close()
    if args.final:
        out.write(to_json(message).decode() + "\n")
    elif not args.events and not args.tools:
        out.write("\n")
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m sluice", description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    replay = commands.add_parser("replay", help="decode a recorded SSE transcript")
    replay.add_argument("file", help="transcript file (raw SSE bytes), or - for stdin")
    mode = replay.add_mutually_exclusive_group()
    mode.add_argument("--final", action="store_true", help="print the final message as JSON")
    mode.add_argument("--events", action="store_true", help="print each event as a JSON line")
    mode.add_argument(
        "--tools",
        action="store_true",
        help="print each tool call's partial input after every delta, then the complete "
        "call, as JSON lines",
    )
    replay.add_argument(
        "--max-event-size",
        type=int,
        default=16 * 1024 * 1024,
        help="largest SSE event accepted, in bytes (default 16 MiB)",
    )
    _relay_parser(commands)
    return parser


def _relay_parser(commands: Any) -> None:
    """The ``relay`` sub-command's arguments (its code is imported only when it runs)."""
    relay = commands.add_parser(
        "relay",
        help="serve the relay: POST /chats, GET /chats/{id}/stream, WS /chats/{id}/ws "
        "(needs the relay extra)",
    )
    relay.add_argument("--host", default="127.0.0.1", help="address to listen on")
    relay.add_argument("--port", type=int, default=8000, help="port (0: a free one)")
    relay.add_argument("--redis", metavar="URL", help="a redis:// URL: use the Redis store")
    relay.add_argument(
        "--backend",
        choices=("asyncio", "trio"),
        default="asyncio",
        help="asyncio (served by uvicorn) or trio (served by hypercorn)",
    )
    relay.add_argument(
        "--mock", action="store_true", help="upstream: sluice's mock API, no key needed"
    )
    relay.add_argument(
        "--mock-delay", type=float, default=0.05, help="seconds between the mock's events"
    )
    relay.add_argument("--static", metavar="DIR", help="also serve the files in DIR at /")
    relay.add_argument(
        "--heartbeat", type=float, default=5.0, help="seconds of silence before a heartbeat"
    )
    relay.add_argument(
        "--model",
        default="claude-sonnet-4-5",
        help="model of the AI SDK route's requests (POST /vercel/chat), unless they name one",
    )
    relay.add_argument(
        "--max-tokens", type=int, default=4096, help="max_tokens of the AI SDK route's requests"
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``python -m sluice`` and the ``sluice`` script."""
    args = _parser().parse_args(argv)
    if args.command == "replay":
        return _replay(args)
    if args.command == "relay":
        try:
            from .relay._cli import run
        except ImportError as exc:
            print(
                f"sluice: the relay needs its extra: pip install 'sluice[relay]' ({exc})",
                file=sys.stderr,
            )
            return 2
        return run(args)
    return 2  # pragma: no cover - argparse rejects unknown commands


if __name__ == "__main__":
    sys.exit(main())
