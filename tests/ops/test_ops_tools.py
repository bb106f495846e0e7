"""Tests for the tool_calls operator: tool calls assembled from input_json_delta events."""

from __future__ import annotations

import copy
import inspect
import itertools
import json
from collections.abc import AsyncIterator, Iterable
from contextlib import aclosing
from typing import Any

import anyio
import anyio.lowlevel
import httpx
import pytest
from hypothesis import Phase, given, settings
from hypothesis import strategies as st

import sluice
from _util import chunked, load
from sluice import (
    ContentBlockDelta,
    ContentBlockStart,
    ContentBlockStop,
    Event,
    EventStreamDecoder,
    InputJSONDelta,
    MessageAccumulator,
    MessageDelta,
    MessageStop,
    MessageStream,
    PartialJSONError,
    ServerToolUseBlock,
    StreamError,
    TextBlock,
    TextDelta,
    ToolInputError,
    ToolUseBlock,
    decode_event,
)
from sluice.ops import ToolCall, ToolCallAssembler, ToolCallDelta
from sluice.ops._tools import tool_calls
from sluice.testing import MockAnthropic, Reply
from sluice.types import MCPToolUseBlock, MessageDeltaBody

pytestmark = pytest.mark.anyio

TOOL_FIXTURES = ["tool_use.sse", "web_search.sse", "pause_turn.sse", "server_tools.sse"]
#: A tool call cut by max_tokens inside its input (its partial inputs show a string that
#: the final input leaves out, so it is not among the fixtures whose partials are checked).
CUT_FIXTURE = "max_tokens_tool.sse"

# -- helpers --------------------------------------------------------------------------------


def fixture_events(name: str) -> list[Event]:
    """The decoded events of a transcript in fixtures/."""
    decoder = EventStreamDecoder()
    return [*decoder.feed(load(name)), *decoder.close()]


def message_start() -> Event:
    return decode_event(
        b'{"type":"message_start","message":{"id":"msg_01","type":"message","role":"assistant",'
        b'"model":"claude-sonnet-4-5","content":[],"stop_reason":null,"stop_sequence":null,'
        b'"usage":{"input_tokens":10,"output_tokens":1}}}',
        "message_start",
    )


def tool_events(
    pieces: Iterable[str],
    *,
    index: int = 0,
    block: ToolUseBlock | ServerToolUseBlock | MCPToolUseBlock | None = None,
    stop: bool = True,
) -> list[Event]:
    """The events of one tool block whose input streams as ``pieces``."""
    if block is None:
        block = ToolUseBlock(id="toolu_01", name="write_file", input={})
    events: list[Event] = [ContentBlockStart(index=index, content_block=block)]
    events += [ContentBlockDelta(index=index, delta=InputJSONDelta(partial_json=p)) for p in pieces]
    if stop:
        events.append(ContentBlockStop(index=index))
    return events


def message(*blocks: list[Event], end: bool = True) -> list[Event]:
    """A whole synthetic stream around the given block events."""
    events = [message_start(), *itertools.chain.from_iterable(blocks)]
    if end:
        events += [MessageDelta(), MessageStop()]
    return events


class Upstream:
    """An upstream event source that records whether it was closed."""

    def __init__(self, events: Iterable[Event], *, then_block: bool = False) -> None:
        self._events = iter(events)
        self._then_block = then_block
        self.closed = False
        self.delivered = 0

    def __aiter__(self) -> Upstream:
        return self

    async def __anext__(self) -> Event:
        await anyio.lowlevel.checkpoint()
        if self.closed:
            raise StopAsyncIteration
        try:
            event = next(self._events)
        except StopIteration:
            if self._then_block:
                await anyio.sleep_forever()
            raise StopAsyncIteration from None
        self.delivered += 1
        return event

    async def aclose(self) -> None:
        self.closed = True


async def collect(events: Iterable[Event]) -> list[tuple[ToolCallDelta | ToolCall, Any]]:
    """Run tool_calls over ``events``: each item with a deep copy of its partial input."""
    out: list[tuple[ToolCallDelta | ToolCall, Any]] = []
    async with aclosing(tool_calls(Upstream(events))) as calls:
        async for item in calls:
            snapshot = copy.deepcopy(item.partial_input) if type(item) is ToolCallDelta else None
            out.append((item, snapshot))
    return out


def accumulated_inputs(events: list[Event]) -> dict[int, Any]:
    """Tool block index -> final input, as MessageAccumulator (the SDK's rules) builds it."""
    acc = MessageAccumulator()
    for event in events:
        acc.feed(event)
    final = acc.finish()
    return {
        i: block.input
        for i, block in enumerate(final.content)
        if isinstance(block, ToolUseBlock | ServerToolUseBlock)
    }


def strict_equal(a: Any, b: Any) -> bool:
    """Deep equality that tells True from 1 and 1 from 1.0, and dict key order apart."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return list(a) == list(b) and all(strict_equal(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(strict_equal(x, y) for x, y in zip(a, b, strict=True))
    return bool(a == b)


def consistent(partial: Any, final: Any) -> bool:
    """Whether ``partial`` is a valid partial view of ``final``: strings are prefixes,
    containers hold a prefix of the final members (all complete but perhaps the last,
    itself consistent), and shown scalars are final."""
    if isinstance(final, str):
        return isinstance(partial, str) and final.startswith(partial)
    if isinstance(final, dict):
        if not isinstance(partial, dict):
            return False
        keys = list(partial)
        if keys != list(final)[: len(keys)]:
            return False
        return not keys or (
            all(strict_equal(partial[k], final[k]) for k in keys[:-1])
            and consistent(partial[keys[-1]], final[keys[-1]])
        )
    if isinstance(final, list):
        if not isinstance(partial, list) or len(partial) > len(final):
            return False
        return not partial or (
            all(strict_equal(x, y) for x, y in zip(partial[:-1], final, strict=False))
            and consistent(partial[-1], final[len(partial) - 1])
        )
    return strict_equal(partial, final)


_scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=12)
)
_values = st.recursive(
    _scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=4)
    ),
    max_leaves=12,
)


@st.composite
def split_json_documents(draw: st.DrawFn) -> tuple[str, list[str]]:
    """A tool input (a JSON object) as JSON text, and that text cut at random points."""
    value = draw(st.dictionaries(st.text(max_size=8), _values, max_size=5))
    text = json.dumps(
        value, ensure_ascii=draw(st.booleans()), indent=draw(st.sampled_from([None, 1]))
    )
    cuts = sorted(set(draw(st.lists(st.integers(0, len(text)), max_size=20))))
    bounds = [0, *cuts, len(text)]
    return text, [text[a:b] for a, b in itertools.pairwise(bounds)]


# Inputs are drawn before the async test body runs (no draws inside the event loop). The
# target phase is off: it optimises nothing here (no `target()` calls), and its lazy import
# under Hypothesis' raised recursion limit trips a CPython 3.11.7 compile() bug
# ("AST constructor recursion depth mismatch") when bytecode is not cached.
PROPERTY = settings(
    max_examples=100,
    deadline=None,
    phases=[Phase.explicit, Phase.reuse, Phase.generate, Phase.shrink],
)


class Chunks(httpx.AsyncByteStream):
    """A response body sent in the given chunks, with a checkpoint before each."""

    def __init__(self, chunks: list[bytes]) -> None:
        self.chunks = chunks

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for chunk in self.chunks:
            await anyio.lowlevel.checkpoint()
            yield chunk


def message_stream(data: bytes, size: int | None) -> MessageStream:
    """A real MessageStream over an in-memory response sending ``data`` in ``size``-byte
    chunks (one chunk if None)."""
    chunks = [data] if size is None else list(chunked(data, size))
    return MessageStream(
        httpx.Response(200, headers={"request-id": "req_1"}, stream=Chunks(chunks))
    )


def summary(item: ToolCallDelta | ToolCall, partial: Any) -> Any:
    """What a consumer sees of an item, comparable across runs."""
    if type(item) is ToolCall:
        return ("call", item)
    assert type(item) is ToolCallDelta
    changes = [(c.path, c.kind, c.text, c.value) for c in item.changes]
    return ("delta", item.index, item.json_delta, json.dumps(changes), json.dumps(partial))


async def items_of(
    source: MessageStream | Upstream,
) -> tuple[list[Any], BaseException | None]:
    """Run tool_calls over ``source``: the summaries as each item is yielded, and the
    error that ended it."""
    out: list[Any] = []
    error: BaseException | None = None
    try:
        async with aclosing(tool_calls(source)) as calls:
            async for item in calls:
                partial = item.partial_input if type(item) is ToolCallDelta else None
                out.append(summary(item, partial))
    except StreamError as exc:
        error = exc
    return out, error


# -- tests ----------------------------------------------------------------------------------


class TestFixtures:
    @pytest.mark.parametrize("name", [*TOOL_FIXTURES, CUT_FIXTURE])
    async def test_final_input_equals_accumulation(self, name: str) -> None:
        """Each ToolCall's input equals the accumulated message's block input."""
        events = fixture_events(name)
        expected = accumulated_inputs(events)
        calls = [item for item, _ in await collect(events) if type(item) is ToolCall]
        assert {call.index: call.input for call in calls} == expected
        assert all(strict_equal(call.input, expected[call.index]) for call in calls)

    @pytest.mark.parametrize("name", TOOL_FIXTURES)
    async def test_every_partial_input_is_consistent(self, name: str) -> None:
        """Every delta's partial input is a consistent prefix view of the final input."""
        events = fixture_events(name)
        expected = accumulated_inputs(events)
        items = await collect(events)
        deltas = [(item, snap) for item, snap in items if type(item) is ToolCallDelta]
        assert deltas
        for item, snapshot in deltas:
            assert consistent(snapshot, expected[item.index]), (item, snapshot)

    @pytest.mark.parametrize("name", TOOL_FIXTURES)
    async def test_one_delta_per_fragment_then_the_call(self, name: str) -> None:
        """Each input_json_delta of a tool block gives one delta, in order, then its call."""
        events = fixture_events(name)
        fragments = [
            (e.index, e.delta.partial_json)
            for e in events
            if type(e) is ContentBlockDelta and type(e.delta) is InputJSONDelta
        ]
        items = [item for item, _ in await collect(events)]
        assert [(i.index, i.json_delta) for i in items if type(i) is ToolCallDelta] == fragments
        for index, group in itertools.groupby(items, key=lambda i: i.index):
            kinds = [type(i) for i in group]
            assert kinds[-1] is ToolCall, index
            assert set(kinds[:-1]) == {ToolCallDelta}

    async def test_identity_fields(self) -> None:
        """Deltas and calls carry the block's index, id, name, kind and caller."""
        items = [item for item, _ in await collect(fixture_events("tool_use.sse"))]
        call = items[-1]
        assert type(call) is ToolCall
        assert call == ToolCall(
            index=1,
            id="toolu_01HT9nunPOsjkPoYtaBL5vsi",
            name="create_calendar_event",
            kind="tool_use",
            input=call.input,
            caller={"type": "direct"},
        )
        delta = items[0]
        assert isinstance(delta, ToolCallDelta)
        assert (delta.index, delta.id, delta.name, delta.kind) == (
            1,
            "toolu_01HT9nunPOsjkPoYtaBL5vsi",
            "create_calendar_event",
            "tool_use",
        )

    async def test_server_tool_use(self) -> None:
        """A server_tool_use call (web search) is assembled with kind 'server_tool_use'."""
        items = [item for item, _ in await collect(fixture_events("web_search.sse"))]
        calls = [item for item in items if type(item) is ToolCall]
        assert calls == [
            ToolCall(
                index=1,
                id="srvtoolu_01AyGCdrpsPW7FfTq3JSTUUi",
                name="web_search",
                kind="server_tool_use",
                input={"query": "latest Rust stable release version"},
            )
        ]

    async def test_pause_turn_has_two_searches(self) -> None:
        """Both server tool calls of a paused turn are yielded, each with its own input."""
        items = [item for item, _ in await collect(fixture_events("pause_turn.sse"))]
        calls = [item for item in items if type(item) is ToolCall]
        assert [(c.index, c.input) for c in calls] == [
            (1, {"query": "ESA Ariel mission launch date"}),
            (4, {"query": "Ariel telescope mirror size AIRS spectrometer"}),
        ]

    async def test_no_tool_blocks_yields_nothing(self) -> None:
        """A stream without tool calls yields nothing: the view drops other events."""
        assert await collect(fixture_events("text.sse")) == []


class TestPartialInput:
    async def test_growing_string_is_visible_mid_stream(self) -> None:
        """A string argument shows its text so far while it is still streaming."""
        items = await collect(fixture_events("tool_use.sse"))
        notes = [
            snap["notes"] for item, snap in items if type(item) is ToolCallDelta and "notes" in snap
        ]
        call = items[-1][0]
        assert type(call) is ToolCall
        final = call.input["notes"]
        assert notes[0] == "Agenda:"
        assert any(0 < len(text) < len(final) for text in notes)
        assert notes[-1] == final == "Agenda:\n1. Roadmap\n2. Budget (see S:\\plans\\q4.xlsx)"

    async def test_numbers_and_literals_only_once_complete(self) -> None:
        """A number split across fragments (1|50) and a literal (fal|se) show only whole."""
        items = await collect(fixture_events("tool_use.sse"))
        seen_duration = {
            snap.get("duration_minutes") for item, snap in items if type(item) is ToolCallDelta
        }
        seen_all_day = {snap.get("all_day") for item, snap in items if type(item) is ToolCallDelta}
        assert seen_duration == {None, 150}
        assert seen_all_day == {None, False}

    async def test_start_input_before_json_arrives(self) -> None:
        """Before any JSON text (the leading "" fragment), the partial input is the start {}."""
        items = await collect(message(tool_events(["", "  ", '{"a"', ": 1}"])))
        assert [snap for _, snap in items[:-1]] == [{}, {}, {}, {"a": 1}]

    async def test_changes_and_json_delta(self) -> None:
        """Each delta carries the raw fragment and the parser's change records for it."""
        items = await collect(message(tool_events(['{"path": "a.', 'txt", "n": 4', "2}"])))
        deltas = [item for item, _ in items if type(item) is ToolCallDelta]
        assert [d.json_delta for d in deltas] == ['{"path": "a.', 'txt", "n": 4', "2}"]
        summary = [[(c.path, c.kind, c.text) for c in d.changes] for d in deltas]
        assert summary == [
            [((), "added", ""), (("path",), "added", ""), (("path",), "grew", "a.")],
            [(("path",), "grew", "txt"), (("path",), "completed", "")],
            [(("n",), "added", ""), (("n",), "completed", ""), ((), "completed", "")],
        ]

    async def test_grew_records_rebuild_the_strings(self) -> None:
        """Concatenating the 'grew' texts of a path gives the final string at that path."""
        items = [item for item, _ in await collect(fixture_events("tool_use.sse"))]
        grown: dict[tuple[str | int, ...], str] = {}
        for item in items:
            if type(item) is ToolCallDelta:
                for change in item.changes:
                    if change.kind == "grew":
                        grown[change.path] = grown.get(change.path, "") + change.text
        call = items[-1]
        assert type(call) is ToolCall
        assert grown[("title",)] == call.input["title"]
        assert grown[("notes",)] == call.input["notes"]
        assert grown[("attendees", 1)] == "kenji@example.jp"

    async def test_partial_input_is_lazy(self) -> None:
        """A consumer reading only changes/json_delta never makes the parser build the value."""
        live: Any = None
        grown = 0
        async with aclosing(tool_calls(Upstream(fixture_events("tool_use.sse")))) as calls:
            async for item in calls:
                if type(item) is ToolCallDelta:
                    completed = {c.path for c in item.changes if c.kind == "completed"}
                    for change in item.changes:
                        if change.path == () and change.kind == "added":
                            live = change.value  # the live input, filled in place
                        elif change.kind == "grew" and change.path not in completed:
                            # The open string is brought up to date only when read.
                            value = live
                            for key in change.path:
                                value = value[key]
                            assert value == ""
                            grown += 1
        assert grown > 0

    async def test_partial_input_is_live(self) -> None:
        """An earlier delta's partial_input read later shows the input as it is then."""
        items = [item for item, _ in await collect(message(tool_events(['{"a": "x', 'y"}'])))]
        first = items[0]
        assert type(first) is ToolCallDelta
        assert first.partial_input == {"a": "xy"}

    def test_delta_is_immutable(self) -> None:
        """ToolCallDelta attributes cannot be set."""
        assembler = ToolCallAssembler()
        for event in tool_events(['{"a": 1}'], stop=False):
            item = assembler.feed(event)
        assert isinstance(item, ToolCallDelta)
        with pytest.raises(AttributeError):
            item.json_delta = "x"
        assert "json_delta='{\"a\": 1}'" in repr(item)


class TestCalls:
    async def test_no_parameters_gives_start_input(self) -> None:
        """A tool without parameters (one "" fragment, or none) gets the start input {}."""
        for pieces in ([""], [], [" "]):
            items = await collect(message(tool_events(pieces)))
            call = items[-1][0]
            assert type(call) is ToolCall and call.input == {}

    async def test_mcp_tool_use(self) -> None:
        """An mcp_tool_use call is assembled too, with its server name."""
        block = MCPToolUseBlock(id="mcptoolu_01", name="search_docs", server_name="docs", input={})
        items = await collect(message(tool_events(['{"q": "anyio"}'], block=block)))
        assert items[-1][0] == ToolCall(
            index=0,
            id="mcptoolu_01",
            name="search_docs",
            kind="mcp_tool_use",
            input={"q": "anyio"},
            server_name="docs",
        )

    async def test_calls_have_independent_parsers(self) -> None:
        """Interleaved fragments of two calls are parsed independently, by block index."""
        first = tool_events(['{"a": "one', '"}'], index=0)
        second = tool_events(['{"b": [1', ", 2]}"], index=1, block=ToolUseBlock(id="t2", name="g"))
        interleaved = [first[0], second[0], first[1], second[1], first[2], second[2]]
        interleaved += [first[3], second[3]]
        items = [item for item, _ in await collect(message(interleaved))]
        calls = {i.index: i.input for i in items if type(i) is ToolCall}
        assert calls == {0: {"a": "one"}, 1: {"b": [1, 2]}}

    async def test_other_blocks_and_events_are_ignored(self) -> None:
        """Text blocks, and JSON deltas aimed at non-tool or unknown blocks, yield nothing."""
        text: list[Event] = [
            ContentBlockStart(index=0, content_block=TextBlock()),
            ContentBlockDelta(index=0, delta=TextDelta(text="hi")),
            ContentBlockDelta(index=0, delta=InputJSONDelta(partial_json="{")),
            ContentBlockStop(index=0),
            ContentBlockDelta(index=7, delta=InputJSONDelta(partial_json="{")),
        ]
        assert await collect(message(text)) == []

    async def test_unstopped_block_yields_no_call(self) -> None:
        """A tool block the stream never stopped yields its deltas, then the view ends."""
        events = message(tool_events(['{"a": 1', ", "], stop=False), end=False)
        items = [item for item, _ in await collect(events)]
        assert [type(i) for i in items] == [ToolCallDelta, ToolCallDelta]
        assembler = ToolCallAssembler()
        for event in events:
            assembler.feed(event)
        assert assembler.open_calls == (0,)

    @PROPERTY
    @given(cut=split_json_documents())
    async def test_random_inputs_and_splits(self, cut: tuple[str, list[str]]) -> None:
        """Any JSON object cut anywhere: final input == json.loads, every partial consistent."""
        text, pieces = cut
        items = await collect(message(tool_events(pieces)))
        final = json.loads(text)
        call = items[-1][0]
        assert type(call) is ToolCall
        assert strict_equal(call.input, final)
        assert [item.json_delta for item, _ in items[:-1]] == pieces  # type: ignore[union-attr]
        for _, snapshot in items[:-1]:
            assert consistent(snapshot, final), snapshot


def stop_reason(reason: str | None) -> list[Event]:
    """The end of a stream: message_delta with ``reason``, then message_stop."""
    return [MessageDelta(delta=MessageDeltaBody(stop_reason=reason)), MessageStop()]


CUT = ['{"path": "a.t', 'xt", "content": "Hel', "lo wor"]


class TestCutByMaxTokens:
    async def test_the_call_is_truncated_with_its_complete_values(self) -> None:
        """The growing string shows while streaming; the call is truncated, without it."""
        items = await collect([message_start(), *tool_events(CUT), *stop_reason("max_tokens")])
        snapshots = [snapshot for item, snapshot in items if type(item) is ToolCallDelta]
        assert snapshots == [
            {"path": "a.t"},
            {"path": "a.txt", "content": "Hel"},
            {"path": "a.txt", "content": "Hello wor"},
        ]
        call = items[-1][0]
        assert type(call) is ToolCall
        assert call.truncated and call.input == {"path": "a.txt"}
        assert "truncated=True" in repr(call)

    async def test_same_input_as_the_message(self) -> None:
        """The call's input is the message's block input, and both say truncated."""
        events = fixture_events(CUT_FIXTURE)
        items = await collect(events)
        call = items[-1][0]
        accumulator = MessageAccumulator()
        for event in events:
            accumulator.feed(event)
        block = accumulator.finish().content[1]
        assert type(call) is ToolCall and isinstance(block, ToolUseBlock)
        assert call.truncated and block.truncated
        assert strict_equal(call.input, block.input)
        assert call.input == {
            "path": "notes/haiku.txt",
            "mode": 420,
            "options": {"overwrite": True, "tags": ["haiku", "draft"]},
        }

    def test_yielded_at_the_message_delta(self) -> None:
        """The block's stop yields nothing (the reason is not known yet); max_tokens does."""
        assembler = ToolCallAssembler()
        events = [message_start(), *tool_events(CUT), *stop_reason("max_tokens")]
        items = [(type(event).__name__, assembler.feed(event)) for event in events]
        assert [name for name, item in items if type(item) is ToolCall] == ["MessageDelta"]
        assert ("ContentBlockStop", None) in items

    async def test_a_block_that_never_stopped(self) -> None:
        """A cut block without its content_block_stop is the truncated call all the same."""
        items = await collect(
            [message_start(), *tool_events(CUT, stop=False), *stop_reason("max_tokens")]
        )
        call = items[-1][0]
        assert type(call) is ToolCall and call.truncated and call.input == {"path": "a.txt"}

    async def test_complete_json_is_not_truncated(self) -> None:
        """max_tokens right after a complete input: a whole call, at its block's stop."""
        items = await collect(
            [message_start(), *tool_events(['{"a": ', "1}"]), *stop_reason("max_tokens")]
        )
        call = items[-1][0]
        assert type(call) is ToolCall and not call.truncated and call.input == {"a": 1}
        assert "truncated" not in repr(call)

    @pytest.mark.parametrize("reason", ["tool_use", "end_turn"])
    async def test_another_stop_reason_makes_it_invalid(self, reason: str) -> None:
        """Unfinished JSON that max_tokens does not explain is invalid: ToolInputError."""
        with pytest.raises(ToolInputError) as info:
            await collect([message_start(), *tool_events(CUT), *stop_reason(reason)])
        err = info.value
        assert err.text == "".join(CUT) and err.position == len(err.text)
        assert f"stopped for {reason!r}, not max_tokens" in str(err)

    async def test_another_block_after_it_makes_it_invalid(self) -> None:
        """Only the last block can be cut: a block after unfinished JSON makes it invalid."""
        second = tool_events(['{"b": 2}'], index=1)
        with pytest.raises(ToolInputError, match="another content block started"):
            await collect([message_start(), *tool_events(CUT), *second, *stop_reason("max_tokens")])

    async def test_invalid_json_is_not_truncated(self) -> None:
        """Invalid JSON raises ToolInputError even when the message hit max_tokens."""
        with pytest.raises(ToolInputError, match="leading zeros"):
            await collect(
                [message_start(), *tool_events(['{"n": 01', "2"]), *stop_reason("max_tokens")]
            )

    @PROPERTY
    @given(cut=split_json_documents(), data=st.data())
    async def test_any_cut_agrees_with_the_message(
        self, cut: tuple[str, list[str]], data: st.DataObject
    ) -> None:
        """Any object cut anywhere: the call and the message's block agree on input and
        truncated, and only a cut before the end is truncated."""
        text, _ = cut
        end = data.draw(st.integers(1, len(text)))
        pieces = [text[a:b] for a, b in itertools.pairwise([0, *range(3, end, 5), end])]
        events = [message_start(), *tool_events(pieces), *stop_reason("max_tokens")]
        call = (await collect(events))[-1][0]
        accumulator = MessageAccumulator()
        accumulator.feed_many(events)
        block = accumulator.finish().content[0]
        assert type(call) is ToolCall and isinstance(block, ToolUseBlock)
        assert strict_equal(call.input, block.input)
        assert call.truncated == block.truncated == (end < len(text))

    async def test_over_http(self) -> None:
        """Over a real MessageStream: the truncated call, and final_message() agrees."""
        async with MockAnthropic() as server:
            server.enqueue(Reply.sse(load(CUT_FIXTURE)))
            async with sluice.AsyncClient(api_key="sk-test", base_url=server.base_url) as client:
                async with client.messages.stream(
                    model="m", max_tokens=64, messages=[{"role": "user", "content": "Hi"}]
                ) as stream:
                    async with aclosing(tool_calls(stream)) as calls:
                        items = [item async for item in calls]
                    message = await stream.final_message()
        call, block = items[-1], message.content[1]
        assert type(call) is ToolCall and isinstance(block, ToolUseBlock)
        assert message.stop_reason == "max_tokens"
        assert call.truncated and block.truncated and call.input == block.input
        assert "content" not in call.input
        shown = [item.json_delta for item in items if type(item) is ToolCallDelta]
        assert "".join(shown).endswith("Silence ag")  # the growing string was shown


class TestInvalidInput:
    async def test_invalid_json_raises_with_everything(self) -> None:
        """Invalid JSON raises ToolInputError naming the tool, position and all text received."""
        pieces = ['{"path": "a.txt", ', '"mode": tru', "x, ", '"more": 1}']
        upstream = Upstream(message(tool_events(pieces)))
        seen: list[ToolCallDelta | ToolCall] = []
        with pytest.raises(ToolInputError) as info:
            async with aclosing(tool_calls(upstream)) as calls:
                async for item in calls:
                    seen.append(item)
        err = info.value
        assert [type(i) for i in seen] == [ToolCallDelta, ToolCallDelta]  # raised at the bad one
        assert (err.tool_name, err.tool_use_id, err.index) == ("write_file", "toolu_01", 0)
        assert err.text == '{"path": "a.txt", "mode": trux, '
        assert err.position == err.text.index("trux") + 3
        assert isinstance(err.__cause__, PartialJSONError)
        message_ = str(err)
        assert "'write_file'" in message_ and f"position {err.position}" in message_
        assert repr(err.text) in message_
        assert err.partial_message is None
        assert upstream.closed

    async def test_incomplete_at_stop_raises(self) -> None:
        """Input still incomplete at content_block_stop, and no max_tokens to explain it,
        raises (at message_stop), position at its end."""
        with pytest.raises(ToolInputError) as info:
            await collect(message(tool_events(['{"a": [1, 2'])))
        assert info.value.text == '{"a": [1, 2'
        assert info.value.position == len('{"a": [1, 2')

    async def test_long_text_is_kept_whole_but_quoted_briefly(self) -> None:
        """A long invalid input: the message quotes an excerpt, `text` keeps every character."""
        long = '{"content": "' + "x" * 5000 + '", oops}'
        pieces = [long[i : i + 64] for i in range(0, len(long), 64)]
        with pytest.raises(ToolInputError) as info:
            await collect(message(tool_events(pieces)))
        err = info.value
        assert err.text == long[: len(err.text)] and "oops" in err.text
        assert err.text[err.position] == "o"
        assert len(str(err)) < 800
        assert "x" * 300 not in str(err) and "ToolInputError.text" in str(err)
        assert "oops" in str(err)

    def test_sans_io_assembler_raises_too(self) -> None:
        """The synchronous assembler raises the same error from feed()."""
        assembler = ToolCallAssembler()
        with pytest.raises(ToolInputError, match="'write_file'"):
            for event in message(tool_events(["{'single': 'quotes'}"])):
                assembler.feed(event)


class TestClosing:
    async def test_break_closes_upstream(self) -> None:
        """Leaving the loop early (with aclosing) closes the upstream."""
        upstream = Upstream(fixture_events("tool_use.sse"))
        async with aclosing(tool_calls(upstream)) as calls:
            async for _ in calls:
                break
        assert upstream.closed

    async def test_exhaustion_closes_upstream(self) -> None:
        """Running to the end closes the upstream too."""
        upstream = Upstream(fixture_events("web_search.sse"))
        async with aclosing(tool_calls(upstream)) as calls:
            async for _ in calls:
                pass
        assert upstream.closed

    async def test_cancellation_closes_upstream(self) -> None:
        """Cancelling while waiting for upstream closes it, shielded from the cancellation."""
        upstream = Upstream(fixture_events("tool_use.sse"), then_block=True)
        calls_seen = 0
        with anyio.CancelScope() as scope:
            async with aclosing(tool_calls(upstream)) as calls:
                async for item in calls:
                    if type(item) is ToolCall:
                        calls_seen += 1
                        scope.cancel()
        assert scope.cancelled_caught
        assert calls_seen == 1
        assert upstream.closed

    async def test_return_type_is_closeable(self) -> None:
        """tool_calls returns an async generator (aclose is visible)."""
        gen = tool_calls(Upstream([]))
        assert inspect.isasyncgen(gen)
        await gen.aclose()


class TestOverHTTP:
    async def test_message_stream_source(self) -> None:
        """Over a real MessageStream: the call matches final_message(), which still works."""
        async with MockAnthropic() as server:
            server.enqueue(Reply.sse(load("tool_use.sse")))
            async with sluice.AsyncClient(api_key="sk-test", base_url=server.base_url) as client:
                async with client.messages.stream(
                    model="m", max_tokens=10, messages=[{"role": "user", "content": "Hi"}]
                ) as stream:
                    async with aclosing(tool_calls(stream)) as calls:
                        items = [item async for item in calls]
                    message = await stream.final_message()
        call = items[-1]
        block = message.content[1]
        assert type(call) is ToolCall and isinstance(block, ToolUseBlock)
        assert (call.id, call.input) == (block.id, block.input)

    @pytest.mark.parametrize("size", [7, 97, None], ids=["7", "97", "whole"])
    @pytest.mark.parametrize("name", [*TOOL_FIXTURES, CUT_FIXTURE])
    async def test_chunk_by_chunk_reading_gives_the_items_of_events(
        self, name: str, size: int | None
    ) -> None:
        """A MessageStream is read a chunk at a time: items equal those of its events."""
        expected, _ = await items_of(Upstream(fixture_events(name)))
        stream = message_stream(load(name), size)
        out, error = await items_of(stream)
        assert error is None
        assert out == expected
        assert stream.response.is_closed

    @pytest.mark.parametrize("size", [7, 97, None], ids=["7", "97", "whole"])
    async def test_a_stream_error_comes_after_the_deltas_before_it(self, size: int | None) -> None:
        """An error event mid-call: the deltas before it, then the stream's error, as when
        the stream is read event by event."""
        data = load("tool_use.sse")
        cut = data.index(b"event: content_block_delta", data.index(b"input_json_delta") + 400)
        error = b'event: error\ndata: {"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}\n\n'
        data = data[:cut] + error + data[cut:]
        batched, batched_error = await items_of(message_stream(data, size))
        one_by_one = message_stream(data, size)
        await anext(one_by_one)  # message_start read on its own, the rest in batches
        plain, plain_error = await items_of(one_by_one)
        assert batched == plain
        assert sum(item[0] == "delta" for item in batched) > 3
        assert type(batched_error) is type(plain_error)
        assert str(batched_error) == str(plain_error)

    async def test_closing_releases_the_response(self) -> None:
        """Closing tool_calls early closes the MessageStream and its HTTP response."""
        async with MockAnthropic() as server:
            server.enqueue(Reply.sse(load("tool_use.sse"), delay=0.001))
            async with sluice.AsyncClient(api_key="sk-test", base_url=server.base_url) as client:
                async with client.messages.stream(
                    model="m", max_tokens=10, messages=[{"role": "user", "content": "Hi"}]
                ) as stream:
                    async with aclosing(tool_calls(stream)) as calls:
                        async for _ in calls:
                            break
                    assert stream.response.is_closed
