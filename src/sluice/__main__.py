"""Command line: ``python -m sluice replay FILE [--final | --events]``.

``replay`` decodes a recorded SSE transcript (bytes exactly as the API sent them) with the
same sans-I/O core the client uses, and prints:

* by default, the text as it streams (thinking is not printed);
* ``--events``: each decoded event as one JSON line, with API field names;
* ``--final``: the final message as JSON, with API field names.

A stream that fails (in-stream ``error``, truncation, malformed event) prints what it
received, then the error on stderr, and exits with status 1. ``-`` reads standard input.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator, Sequence
from typing import BinaryIO

from ._accumulate import MessageAccumulator
from ._decode import EventStreamDecoder
from ._events import ContentBlockDelta, Event, TextDelta
from ._exceptions import SluiceError, StreamError
from ._serialize import to_json

__all__ = ["main"]

_CHUNK = 64 * 1024


def _events(source: BinaryIO, decoder: EventStreamDecoder) -> Iterator[Event]:
    while chunk := source.read(_CHUNK):
        yield from decoder.feed(chunk)
    yield from decoder.close()


def _replay(args: argparse.Namespace) -> int:
    out = sys.stdout
    decoder = EventStreamDecoder(max_event_size=args.max_event_size)
    accumulator = MessageAccumulator()
    source = sys.stdin.buffer if args.file == "-" else open(args.file, "rb")
    try:
        for event in _events(source, decoder):
            accumulator.feed(event)
            if args.events:
                out.write(to_json(event).decode() + "\n")
            elif not args.final and type(event) is ContentBlockDelta:
                delta = event.delta
                if type(delta) is TextDelta:
                    out.write(delta.text)
                    out.flush()
        message = accumulator.finish()
    except SluiceError as exc:
        if isinstance(exc, StreamError) and exc.partial_message is None:
            exc.partial_message = accumulator.partial()
        if not args.events and not args.final:
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
    elif not args.events:
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
    replay.add_argument(
        "--max-event-size",
        type=int,
        default=16 * 1024 * 1024,
        help="largest SSE event accepted, in bytes (default 16 MiB)",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``python -m sluice`` and the ``sluice`` script."""
    args = _parser().parse_args(argv)
    if args.command == "replay":
        return _replay(args)
    return 2  # pragma: no cover - argparse rejects unknown commands


if __name__ == "__main__":
    sys.exit(main())
