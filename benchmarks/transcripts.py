"""Deterministic SSE transcripts for the benchmarks, in the exact wire shape of the API.

Every generator is seeded: the same arguments give the same bytes on every machine and
Python version (only :mod:`random` with an explicit seed and :mod:`json` are used), so a
result in BENCHMARKS.md can be reproduced byte for byte.

The shape follows the recorded transcripts in ``fixtures/`` (``text.sse``,
``tool_use.sse``) and the "Streaming Messages" documentation: ``event: <name>`` /
``data: <compact JSON>`` / blank line, with ``message_start``, ``content_block_start``,
one ``ping``, the deltas, ``content_block_stop``, ``message_delta`` (stop reason and
cumulative usage) and ``message_stop``. Non-ASCII text is sent raw as UTF-8, as the API
does, except in a few deltas that use ``\\uXXXX`` escapes (surrogate pairs included),
which the API also produces.

Two families, each at size N and 4N so that the benchmark can check linearity:

* :func:`long_text`: one text block of many small ``text_delta`` events; 50,000 deltas make
  a body of about 6 MB.
* :func:`tool_input`: a short text block, then a ``tool_use`` block whose input (a file
  edit: path, file content, a list of edits, options) is streamed as ``input_json_delta``
  fragments of 10-20 characters, split anywhere, including inside escapes.
"""

from __future__ import annotations

import json
import random
import string
from dataclasses import dataclass
from typing import Any

__all__ = ["MODEL", "Transcript", "long_text", "tool_input"]

MODEL = "claude-sonnet-4-6"

_BASE62 = string.digits + string.ascii_letters


@dataclass(frozen=True)
class Transcript:
    """One response body and what it contains.

    Attributes:
        name: a label such as ``long_text[4N]``.
        family: the generator that made it (``long_text`` or ``tool_input``).
        body: the raw SSE bytes of the response.
        events: the number of SSE events in ``body``.
        deltas: the number of ``content_block_delta`` events.
        payload_chars: characters of text (``long_text``) or of tool input JSON
            (``tool_input``) that the deltas carry.
    """

    name: str
    family: str
    body: bytes
    events: int
    deltas: int
    payload_chars: int


class _Writer:
    """Collects SSE frames the way the API writes them."""

    def __init__(self) -> None:
        self.parts: list[bytes] = []
        self.events = 0
        self.deltas = 0

    def event(self, payload: dict[str, Any], *, ascii_only: bool = False) -> None:
        """Append one ``event:``/``data:`` frame; the event name is the payload's type."""
        data = json.dumps(payload, ensure_ascii=ascii_only, separators=(",", ":"))
        self.raw(payload["type"], data)

    def raw(self, name: str, data: str) -> None:
        """Append a frame whose data is given verbatim."""
        self.parts.append(f"event: {name}\ndata: {data}\n\n".encode())
        self.events += 1
        if name == "content_block_delta":
            self.deltas += 1

    def ping(self) -> None:
        """The API's keep-alive, written with a space as the API writes it."""
        self.raw("ping", '{"type": "ping"}')

    def body(self) -> bytes:
        return b"".join(self.parts)


def _ident(rng: random.Random, prefix: str) -> str:
    return prefix + "".join(rng.choice(_BASE62) for _ in range(22))


def _message_start(w: _Writer, rng: random.Random, input_tokens: int, cache_read: int) -> None:
    w.event(
        {
            "type": "message_start",
            "message": {
                "model": MODEL,
                "id": _ident(rng, "msg_01"),
                "type": "message",
                "role": "assistant",
                "content": [],
                "stop_reason": None,
                "stop_sequence": None,
                "stop_details": None,
                "usage": {
                    "input_tokens": input_tokens,
                    "cache_creation_input_tokens": 0,
                    "cache_read_input_tokens": cache_read,
                    "cache_creation": {
                        "ephemeral_5m_input_tokens": 0,
                        "ephemeral_1h_input_tokens": 0,
                    },
                    "output_tokens": 1,
                    "service_tier": "standard",
                },
            },
        }
    )


def _text_block_start(w: _Writer) -> None:
    w.event(
        {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}}
    )
    w.ping()


def _message_end(
    w: _Writer, stop_reason: str, input_tokens: int, cache_read: int, output_tokens: int
) -> None:
    w.event(
        {
            "type": "message_delta",
            "delta": {"stop_reason": stop_reason, "stop_sequence": None, "stop_details": None},
            "usage": {
                "input_tokens": input_tokens,
                "cache_creation_input_tokens": 0,
                "cache_read_input_tokens": cache_read,
                "output_tokens": output_tokens,
            },
        }
    )
    w.event({"type": "message_stop"})


# ------------------------------------------------------------------------------ long text

# Prose with the things that make decoding non-trivial: multi-byte UTF-8 (2, 3 and 4 bytes),
# characters JSON must escape (quotes, backslashes, newlines, tabs) and markdown.
_WORDS = (
    "the stream parser reads bytes from the socket and hands each complete event to the "
    "decoder which turns it into a typed value before the accumulator appends the text "
    "of every delta to its block so that the final message is ready as soon as the last "
    "event arrives latency matters more than throughput for interactive use but a long "
    "answer can still carry megabytes of JSON envelopes around a few characters of text "
    "buffer chunk boundary newline carriage return field value retry identifier offset "
    "incremental linear quadratic allocation copy join slice memoryview benchmark median"
).split()
_SPICE = (
    "café|naïve|Zürich|façade|über|señor|déjà vu|smörgåsbord|日本語|東京|数据流|한국어|Ελληνικά"
    "|русский|עברית|العربية|🚀|✨|👋🏽|🧪|—|…|“quoted”|\u2018single\u2019|≤|→|€5|½"
    '|"quotes"|C:\\temp\\logs|a\\b|\t|tab\tseparated|\\n literally'
    "|`code`|**bold**|_em_|[link](https://example.com/a?b=c&d=e)"
).split("|")
_BREAKS = [". ", ", ", "; ", ": ", "! ", "? ", ".\n\n", "\n- ", "\n\n## ", "\n```python\n"]


def _prose(rng: random.Random, chars: int) -> str:
    """About ``chars`` characters of varied text."""
    out: list[str] = []
    length = 0
    while length < chars:
        roll = rng.random()
        if roll < 0.08:
            piece = rng.choice(_SPICE)
        elif roll < 0.16:
            piece = rng.choice(_BREAKS)
        else:
            piece = rng.choice(_WORDS)
        if (
            out
            and not out[-1].endswith((" ", "\n"))
            and not piece.startswith((".", ",", ";", ":", "!", "?", "\n"))
        ):
            piece = " " + piece
        out.append(piece)
        length += len(piece)
    return "".join(out)


def long_text(deltas: int, *, seed: int = 1, name: str | None = None) -> Transcript:
    """A single text block streamed as ``deltas`` small ``text_delta`` events.

    Delta texts are 1-12 characters cut anywhere in the prose (mid-word, as tokens are),
    about 6.5 characters on average; 5% of the deltas are written with ``\\uXXXX`` escapes.
    50,000 deltas give a body of about 6.2 MB.
    """
    rng = random.Random(f"long_text/{seed}")
    w = _Writer()
    _message_start(w, rng, input_tokens=412, cache_read=0)
    _text_block_start(w)
    sizes = [rng.randint(1, 12) for _ in range(deltas)]
    text = _prose(rng, sum(sizes))
    pos = 0
    for size in sizes:
        piece = text[pos : pos + size]
        pos += size
        w.event(
            {
                "type": "content_block_delta",
                "index": 0,
                "delta": {"type": "text_delta", "text": piece},
            },
            ascii_only=rng.random() < 0.05,
        )
    w.event({"type": "content_block_stop", "index": 0})
    _message_end(w, "end_turn", 412, 0, output_tokens=deltas + 2)
    return Transcript(
        name=name or f"long_text[{deltas}]",
        family="long_text",
        body=w.body(),
        events=w.events,
        deltas=w.deltas,
        payload_chars=pos,
    )


# ----------------------------------------------------------------------------- tool input

_CODE_LINES = [
    'def render_invoice(invoice: Invoice, *, locale: str = "de_CH") -> str:',
    '    """Render an invoice as text; amounts in CHF, dates as DD.MM.YYYY."""',
    '    lines = [f"Rechnung Nr. {invoice.number} — {invoice.customer.name}"]',
    "    for item in invoice.items:",
    '        lines.append(f"{item.label:<40}\\t{item.amount:>10.2f} CHF")',
    "    total = sum(item.amount for item in invoice.items)",
    "    if total > LIMIT:  # “Grenzwert” überschritten",
    "        log.warning('total %s exceeds %s', total, LIMIT)",
    '    path = r"C:\\invoices\\2025\\" + invoice.number + ".txt"',
    '    return "\\n".join(lines) + "\\n"',
    "",
    "class InvoiceError(Exception):",
    '    """Raised when an invoice cannot be rendered (日本語のメッセージ付き)."""',
    "    pass",
    "",
    'PATTERN = re.compile(r\'^(?P<key>[a-z_]+)\\s*=\\s*"(?P<value>[^"]*)"$\')',
    'print("\\x1b[31merror:\\x1b[0m invoice", number, "failed 🚨")',
    "    # TODO(zoë): handle the ½-cent rounding rule (Art. 5 ≤ 0.05)",
    '\tindented_with_tab = {"a": [1, 2, 3], "b": None, \'c\': True}',
]


def _file_text(rng: random.Random, chars: int) -> str:
    """Source-code-like text with quotes, backslashes, tabs, control and non-ASCII chars."""
    lines: list[str] = []
    length = 0
    while length < chars:
        line = rng.choice(_CODE_LINES)
        if rng.random() < 0.05:
            line += "\x1b[0m"  # JSON must write this as \u001b
        lines.append(line)
        length += len(line) + 1
    return "\n".join(lines) + "\n"


def _tool_object(rng: random.Random, size: int) -> dict[str, Any]:
    """A file-edit tool input whose JSON text is about ``size`` characters."""
    edits: list[dict[str, Any]] = []
    obj: dict[str, Any] = {
        "path": "src/billing/render/invoice_renderer.py",
        "description": "Refactor rendering — keep “Rechnung” wording, fix ½-cent rounding 🚀",
        "content": _file_text(rng, int(size * 0.55)),
        "edits": edits,
        "options": {
            "create_backup": True,
            "encoding": "utf-8",
            "line_ending": "\n",
            "dry_run": False,
            "max_changes": None,
            "threshold": 0.875,
            "tags": ["refactor", "i18n", "perf"],
        },
    }
    budget = size - len(json.dumps(obj, ensure_ascii=False))
    line = 1
    while budget > 0:
        line += rng.randint(1, 40)
        edit = {
            "line": line,
            "old_text": rng.choice(_CODE_LINES),
            "new_text": _prose(rng, rng.randint(20, 120)),
            "replace_all": rng.random() < 0.2,
            "confidence": round(rng.random(), 3),
            "note": None if rng.random() < 0.5 else rng.choice(_SPICE),
        }
        edits.append(edit)
        budget -= len(json.dumps(edit, ensure_ascii=False)) + 2
    return obj


def tool_input(size: int, *, seed: int = 1, name: str | None = None) -> Transcript:
    """A short text block, then one ``tool_use`` block whose input JSON is ``size`` chars.

    The input JSON (as the model writes it: ``", "`` and ``": "`` separators, raw UTF-8)
    is cut into fragments of 10-20 characters anywhere, including inside ``\\n``,
    ``\\"`` and ``\\u001b`` escapes, numbers and literals. The first fragment is empty,
    as in real streams.
    """
    rng = random.Random(f"tool_input/{seed}")
    w = _Writer()
    _message_start(w, rng, input_tokens=2187, cache_read=4608)
    _text_block_start(w)
    preamble = _prose(rng, 160)
    for start in range(0, len(preamble), 9):
        w.event(
            {
                "type": "content_block_delta",
                "index": 0,
                "delta": {"type": "text_delta", "text": preamble[start : start + 9]},
            }
        )
    w.event({"type": "content_block_stop", "index": 0})
    w.event(
        {
            "type": "content_block_start",
            "index": 1,
            "content_block": {
                "type": "tool_use",
                "id": _ident(rng, "toolu_01"),
                "name": "edit_file",
                "caller": {"type": "direct"},
                "input": {},
            },
        }
    )
    source = json.dumps(_tool_object(rng, size), ensure_ascii=False)
    fragments = [""]
    pos = 0
    while pos < len(source):
        step = rng.randint(10, 20)
        fragments.append(source[pos : pos + step])
        pos += step
    for fragment in fragments:
        w.event(
            {
                "type": "content_block_delta",
                "index": 1,
                "delta": {"type": "input_json_delta", "partial_json": fragment},
            }
        )
    w.event({"type": "content_block_stop", "index": 1})
    _message_end(w, "tool_use", 2187, 4608, output_tokens=len(fragments) + 20)
    return Transcript(
        name=name or f"tool_input[{size}]",
        family="tool_input",
        body=w.body(),
        events=w.events,
        deltas=w.deltas,
        payload_chars=len(source),
    )
