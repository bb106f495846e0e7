"""Property tests: on any mutation of a recorded transcript, only SluiceError leaves sluice.

Decoding (SSE framing, typed events), accumulation into a message and tool-call assembly
are fed mutated transcripts, at random byte boundaries: bytes flipped, cut, repeated or
spliced in, and JSON values swapped for hostile ones (nesting thousands deep, numbers longer
than ``int()`` takes, NaN, lone surrogates, invalid UTF-8, wrong types, out-of-range
indices). Whatever happens, every exception must be a :class:`sluice.SluiceError`; a
stream error must carry ``events_received``; and the events delivered before it must be
exactly those of an undamaged prefix.
"""

from __future__ import annotations

import itertools
import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import sluice
from _util import FIXTURES
from sluice import ops

NAMES = ["text.sse", "tool_use.sse", "thinking.sse", "citations.sse", "server_tools.sse"]
TRANSCRIPTS = {name: (FIXTURES / name).read_bytes() for name in NAMES}

HOSTILE_VALUES: list[bytes] = [
    b"[" * 3000 + b"]" * 3000,
    b"{" + b'"a":{' * 1500 + b"1" + b"}" * 1501,
    b"9" * 5000,
    b"-" + b"1" * 4400,
    b"1e400",
    b"NaN",
    b"Infinity",
    b'"\\ud800"',
    b'"\\udfff\\ud800"',
    b'"\xff\xfe"',
    b"{}",
    b"[]",
    b"null",
    b"true",
    b"-1",
    b"4294967296",
    b'"' + b"x" * 100_000 + b'"',
    b'{"type": {}}',
    b'{"\\ud800": 1}',
]
SETTINGS = settings(
    max_examples=120,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def run(data: bytes, cuts: list[int]) -> tuple[list[sluice.Event], BaseException | None]:
    """Decode ``data`` fed in pieces at ``cuts``, accumulate it, assemble tool calls."""
    decoder = sluice.EventStreamDecoder()
    accumulator = sluice.MessageAccumulator()
    assembler = ops.ToolCallAssembler()
    events: list[sluice.Event] = []
    bounds = [0, *sorted(cut % (len(data) + 1) for cut in cuts), len(data)]
    try:
        for start, end in itertools.pairwise(bounds):
            for event in decoder.feed(data[start:end]):
                events.append(event)
                accumulator.feed(event)
                item = assembler.feed(event)
                if item is not None and isinstance(item, ops.ToolCallDelta):
                    item.partial_input  # noqa: B018 - materialise it, as a UI would
        for event in decoder.close():
            events.append(event)
            accumulator.feed(event)
            assembler.feed(event)
        message = accumulator.finish()
        sluice.to_json(message)  # a message sluice built always serializes
    except BaseException as exc:
        return events, exc
    return events, None


def check(data: bytes, cuts: list[int]) -> None:
    events, error = run(data, cuts)
    if error is None:
        return
    assert isinstance(error, sluice.SluiceError), f"{type(error).__name__}: {error}"
    if isinstance(error, sluice.StreamError):
        assert error.events_received >= 0
    # Whatever was delivered decodes the same from the same bytes fed whole.
    again, _ = run(data, [])
    assert [sluice.to_builtins(e) for e in events] == [
        sluice.to_builtins(e) for e in again[: len(events)]
    ]


@st.composite
def byte_mutations(draw: st.DrawFn) -> tuple[bytes, list[int]]:
    name = draw(st.sampled_from(NAMES))
    data = bytearray(TRANSCRIPTS[name])
    for _ in range(draw(st.integers(1, 4))):
        kind = draw(st.sampled_from(["flip", "cut", "repeat", "splice", "insert"]))
        at = draw(st.integers(0, len(data)))
        size = draw(st.integers(1, 64))
        if kind == "flip" and at < len(data):
            data[at] = draw(st.integers(0, 255))
        elif kind == "cut":
            del data[at : at + size]
        elif kind == "repeat":
            data[at:at] = data[at : at + size]
        elif kind == "splice":
            data[at : at + size] = draw(st.binary(min_size=0, max_size=64))
        else:
            data[at:at] = draw(
                st.sampled_from(
                    [b"\n", b"\r", b"\r\n", b"\n\n", b"data: ", b"event: x\n", b":\n", b"\x00"]
                )
            )
    cuts = draw(st.lists(st.integers(0, 1 << 20), max_size=12))
    return bytes(data), cuts


@st.composite
def value_mutations(draw: st.DrawFn) -> tuple[bytes, list[int]]:
    """A transcript whose events each keep their SSE frame, one JSON value swapped."""
    name = draw(st.sampled_from(NAMES))
    frames = TRANSCRIPTS[name].split(b"\n\n")
    candidates = [i for i, frame in enumerate(frames) if b"data: " in frame]
    position = draw(st.sampled_from(candidates))
    head, _, payload = frames[position].partition(b"data: ")
    value = json.loads(payload)
    paths: list[list[str | int]] = []

    def walk(node: object, path: list[str | int]) -> None:
        paths.append(path)
        if isinstance(node, dict):
            for key, child in node.items():
                walk(child, [*path, key])
        elif isinstance(node, list):
            for index, child in enumerate(node):
                walk(child, [*path, index])

    walk(value, [])
    path = draw(st.sampled_from(paths))
    hostile = draw(st.sampled_from(HOSTILE_VALUES))
    marker = "\x00HOSTILE\x00"
    if not path:
        replaced: bytes = hostile
    else:
        target: object = value
        for step in path[:-1]:
            target = target[step]  # type: ignore[index]
        target[path[-1]] = marker  # type: ignore[index]
        replaced = json.dumps(value).encode().replace(json.dumps(marker).encode(), hostile)
    frames[position] = head + b"data: " + replaced
    cuts = draw(st.lists(st.integers(0, 1 << 20), max_size=8))
    return b"\n\n".join(frames), cuts


@st.composite
def tool_inputs(draw: st.DrawFn) -> tuple[bytes, list[int]]:
    """A tool_use whose streamed input is hostile JSON, cut into fragments anywhere."""
    body = draw(
        st.sampled_from(
            [*HOSTILE_VALUES, b'{"path": "a.txt", "content": "Hello wor', b"", b"{", b'{"a": [1, 2']
        )
    )
    text = body.decode("utf-8", "surrogateescape")
    cuts = sorted(draw(st.lists(st.integers(0, len(text)), max_size=6)))
    pieces = [text[a:b] for a, b in zip([0, *cuts], [*cuts, len(text)], strict=False)]
    events = [
        {
            "type": "message_start",
            "message": {
                "id": "m",
                "type": "message",
                "role": "assistant",
                "model": "x",
                "content": [],
                "usage": {"input_tokens": 1, "output_tokens": 1},
            },
        },
        {
            "type": "content_block_start",
            "index": 0,
            "content_block": {"type": "tool_use", "id": "t", "name": "f", "input": {}},
        },
        *(
            {
                "type": "content_block_delta",
                "index": 0,
                "delta": {"type": "input_json_delta", "partial_json": piece},
            }
            for piece in pieces
        ),
        {"type": "content_block_stop", "index": 0},
        {
            "type": "message_delta",
            "delta": {"stop_reason": "tool_use"},
            "usage": {"output_tokens": 5},
        },
        {"type": "message_stop"},
    ]
    data = b"".join(
        b"event: "
        + event["type"].encode()
        + b"\ndata: "
        + json.dumps(event).encode("utf-8", "surrogateescape")
        + b"\n\n"
        for event in events
    )
    return data, draw(st.lists(st.integers(0, 1 << 20), max_size=8))


class TestOnlySluiceErrors:
    @SETTINGS
    @given(byte_mutations())
    def test_byte_mutations(self, case: tuple[bytes, list[int]]) -> None:
        """Bytes flipped, cut, repeated or spliced in: only SluiceError, nothing lost before it."""
        check(*case)

    @SETTINGS
    @given(value_mutations())
    def test_hostile_json_values(self, case: tuple[bytes, list[int]]) -> None:
        """One JSON value of one event swapped for a hostile one: only SluiceError."""
        check(*case)

    @SETTINGS
    @given(tool_inputs())
    def test_hostile_tool_input(self, case: tuple[bytes, list[int]]) -> None:
        """A tool call's streamed input is hostile: the message and the assembler agree."""
        data, cuts = case
        check(data, cuts)
        # The accumulator and tool_calls accept and reject the same inputs.
        accumulator = sluice.MessageAccumulator()
        assembler = ops.ToolCallAssembler()
        outcomes = []
        for feed in (accumulator.feed, assembler.feed):
            try:
                for event in sluice.EventStreamDecoder().feed(data):
                    feed(event)
            except sluice.ToolInputError:
                outcomes.append("rejected")
            except sluice.SluiceError as exc:
                outcomes.append(type(exc).__name__)
            else:
                outcomes.append("accepted")
        assert outcomes[0] == outcomes[1]
