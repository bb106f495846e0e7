"""The sans-I/O accumulator: SDK rules, cumulative usage, errors carrying partial messages."""

from __future__ import annotations

import json

import msgspec
import pytest

import sluice
from _util import COMPLETE, events_of, load
from sluice import EventStreamDecoder, MessageAccumulator, decode_event, to_builtins

START = (
    '{"type":"message_start","message":{"id":"msg_1","type":"message","role":"assistant",'
    '"model":"m","content":[],"stop_reason":null,"stop_sequence":null,"usage":'
    '{"input_tokens":5,"output_tokens":1,"cache_read_input_tokens":4}}}'
)


def feed_all(acc: MessageAccumulator, *events: str) -> None:
    for data in events:
        acc.feed(decode_event(data.encode()))


def text_block(index: int) -> str:
    return f'{{"type":"content_block_start","index":{index},"content_block":{{"type":"text","text":""}}}}'


def text_delta(index: int, text: str) -> str:
    return (
        f'{{"type":"content_block_delta","index":{index},"delta":{{"type":"text_delta",'
        f'"text":{msgspec.json.encode(text).decode()}}}}}'
    )


class TestText:
    def test_text_deltas_join(self) -> None:
        """Text deltas append to their block, in order."""
        acc = MessageAccumulator()
        feed_all(acc, START, text_block(0), text_delta(0, "Hel"), text_delta(0, "lo"))
        message = acc.message
        assert message is not None
        assert message.content == [sluice.TextBlock(text="Hello")]

    def test_snapshot_is_updated_in_place_and_stays_correct(self) -> None:
        """Reading the snapshot mid-stream does not disturb later accumulation."""
        acc = MessageAccumulator()
        feed_all(acc, START, text_block(0), text_delta(0, "a"))
        first = acc.message
        feed_all(acc, text_delta(0, "b"))
        assert acc.message is first
        assert isinstance(first.content[0], sluice.TextBlock) and first.content[0].text == "ab"

    def test_events_are_not_mutated(self) -> None:
        """The snapshot is a copy: events the caller holds never change."""
        acc = MessageAccumulator()
        start = decode_event(text_block(0).encode())
        feed_all(acc, START)
        acc.feed(start)
        feed_all(acc, text_delta(0, "changed"))
        assert acc.message is not None
        assert isinstance(start, sluice.ContentBlockStart)
        assert isinstance(start.content_block, sluice.TextBlock)
        assert start.content_block.text == ""

    def test_text_delta_for_another_kind_of_block_changes_nothing(self) -> None:
        """A text_delta aimed at a thinking or tool block is ignored, as by the SDK, and counted."""
        acc = MessageAccumulator()
        feed_all(
            acc,
            START,
            '{"type":"content_block_start","index":0,"content_block":'
            '{"type":"thinking","thinking":"hm","signature":""}}',
            '{"type":"content_block_start","index":1,"content_block":'
            '{"type":"tool_use","id":"toolu_1","name":"f","input":{}}}',
            text_delta(0, "x"),
            text_delta(1, "y"),
        )
        assert acc.events == 5
        message = acc.message
        assert message is not None
        thinking, tool = message.content
        assert isinstance(thinking, sluice.ThinkingBlock) and thinking.thinking == "hm"
        assert isinstance(tool, sluice.ToolUseBlock) and tool.input == {}

    def test_negative_index_is_unexpected_even_with_a_text_block(self) -> None:
        """A text_delta for block -1 raises; it never lands in the last block."""
        acc = MessageAccumulator()
        feed_all(acc, START, text_block(0), text_delta(0, "a"))
        with pytest.raises(sluice.UnexpectedEventError):
            feed_all(acc, text_delta(-1, "b"))
        message = acc.message
        assert message is not None
        assert message.content == [sluice.TextBlock(text="a")]


class TestUsage:
    def test_cumulative_usage_keeps_absent_counters(self) -> None:
        """message_delta overwrites counters it carries and keeps those it omits."""
        acc = MessageAccumulator()
        feed_all(
            acc,
            START,
            '{"type":"message_delta","delta":{"stop_reason":"end_turn","stop_sequence":null},'
            '"usage":{"output_tokens":42,"input_tokens":6}}',
            '{"type":"message_stop"}',
        )
        usage = acc.finish().usage
        assert (usage.input_tokens, usage.output_tokens) == (6, 42)
        assert usage.cache_read_input_tokens == 4

    def test_message_start_without_usage(self) -> None:
        """A message_start without usage (seen in the wild) does not crash."""
        acc = MessageAccumulator()
        feed_all(
            acc,
            '{"type":"message_start","message":{"id":"m","type":"message","role":"assistant",'
            '"model":"x","content":[]}}',
            '{"type":"message_delta","delta":{"stop_reason":"end_turn"},"usage":{"output_tokens":3}}',
            '{"type":"message_stop"}',
        )
        assert acc.finish().usage.output_tokens == 3

    def test_peek_has_current_usage_without_joining_text(self) -> None:
        """peek() is the same message, usage current; its text joins only when read."""
        acc = MessageAccumulator()
        assert acc.peek() is None
        feed_all(
            acc,
            START,
            '{"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}',
            '{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"a"}}',
            '{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"b"}}',
            '{"type":"message_delta","delta":{"stop_reason":"end_turn"},"usage":{"output_tokens":9}}',
        )
        peeked = acc.peek()
        assert peeked is not None and peeked.usage.output_tokens == 9
        assert peeked.stop_reason == "end_turn"
        assert peeked.content[0].text == ""  # type: ignore[union-attr]  # not joined yet
        assert acc.message is peeked and peeked.content[0].text == "ab"  # type: ignore[union-attr]


class TestToolInput:
    def test_input_parsed_once_at_block_stop(self) -> None:
        """Tool input JSON is assembled from input_json_delta and parsed at block stop."""
        acc = MessageAccumulator()
        feed_all(
            acc,
            START,
            '{"type":"content_block_start","index":0,"content_block":{"type":"tool_use",'
            '"id":"toolu_1","name":"get_weather","input":{}}}',
        )
        for piece in ["", '{"city": "Pa', 'ris", "days"', ": 3}"]:
            feed_all(
                acc,
                '{"type":"content_block_delta","index":0,"delta":{"type":"input_json_delta",'
                f'"partial_json":{msgspec.json.encode(piece).decode()}}}}}',
            )
        feed_all(acc, '{"type":"content_block_stop","index":0}')
        assert acc.message is not None
        block = acc.message.content[0]
        assert isinstance(block, sluice.ToolUseBlock)
        assert block.input == {"city": "Paris", "days": 3}

    @staticmethod
    def tool_input(text: str) -> MessageAccumulator:
        """An accumulator fed one tool block streaming ``text`` in 7-character pieces."""
        acc = MessageAccumulator()
        feed_all(
            acc,
            START,
            '{"type":"content_block_start","index":0,"content_block":{"type":"tool_use",'
            '"id":"toolu_1","name":"edit","input":{}}}',
        )
        for i in range(0, len(text), 7):
            feed_all(
                acc,
                '{"type":"content_block_delta","index":0,"delta":{"type":"input_json_delta",'
                f'"partial_json":{msgspec.json.encode(text[i : i + 7]).decode()}}}}}',
            )
        return acc

    def test_brackets_inside_strings_do_not_count_as_nesting(self) -> None:
        """Thousands of brackets inside strings, in a shallow input, parse as json.loads."""
        text = json.dumps({"code": "x = [[{}]]\n" * 1000, "edits": [{"at": [1, 2]}] * 300})
        acc = self.tool_input(text)
        feed_all(acc, '{"type":"content_block_stop","index":0}')
        assert acc.message is not None
        assert acc.message.content[0].input == json.loads(text)  # type: ignore[union-attr]

    def test_depth_limit_is_the_parsers(self) -> None:
        """256 nested arrays and objects are accepted; 257 raise where the parser breaks."""
        ok = '{"s": "[[[", "a": ' + "[" * 255 + "]" * 255 + "}"  # 259 brackets in all
        acc = self.tool_input(ok)
        feed_all(acc, '{"type":"content_block_stop","index":0}')
        assert acc.message is not None
        assert acc.message.content[0].input == json.loads(ok)  # type: ignore[union-attr]
        deep = '{"a": ' + "[" * 256 + "]" * 256 + "}"
        acc = self.tool_input(deep)
        with pytest.raises(sluice.ToolInputError, match="nesting too deep") as info:
            feed_all(acc, '{"type":"content_block_stop","index":0}')
        assert info.value.position == len('{"a": ') + 255

    def test_invalid_tool_json_names_tool_and_keeps_text(self) -> None:
        """Invalid tool JSON raises ToolInputError with name, position and all text."""
        acc = MessageAccumulator()
        feed_all(
            acc,
            START,
            '{"type":"content_block_start","index":0,"content_block":{"type":"tool_use",'
            '"id":"toolu_9","name":"search","input":{}}}',
            '{"type":"content_block_delta","index":0,"delta":{"type":"input_json_delta",'
            '"partial_json":"{\\"q\\": nope}"}}',
        )
        with pytest.raises(sluice.ToolInputError) as info:
            feed_all(acc, '{"type":"content_block_stop","index":0}')
        err = info.value
        assert err.tool_name == "search" and err.tool_use_id == "toolu_9"
        assert err.text == '{"q": nope}'
        # Where ops.tool_calls' parser breaks too: the "o" that cannot continue "null".
        assert err.position == 7
        assert err.partial_message is not None

    def test_truncated_tool_input_is_kept_as_text(self) -> None:
        """A tool call cut off mid-input keeps the JSON received in the partial message."""
        acc = MessageAccumulator()
        feed_all(
            acc,
            START,
            '{"type":"content_block_start","index":0,"content_block":{"type":"tool_use",'
            '"id":"toolu_9","name":"search","input":{}}}',
            '{"type":"content_block_delta","index":0,"delta":{"type":"input_json_delta",'
            '"partial_json":"{\\"q\\": \\"cats"}}',
        )
        with pytest.raises(sluice.IncompleteStreamError) as info:
            acc.finish()
        partial = info.value.partial_message
        assert partial is not None
        assert partial.content[0].__dict__["partial_input_json"] == '{"q": "cats'


def tool_block(index: int, name: str = "write_file", kind: str = "tool_use") -> str:
    return (
        f'{{"type":"content_block_start","index":{index},"content_block":{{"type":"{kind}",'
        f'"id":"toolu_9","name":"{name}","input":{{}}}}}}'
    )


def json_delta(index: int, piece: str) -> str:
    return (
        f'{{"type":"content_block_delta","index":{index},"delta":{{"type":"input_json_delta",'
        f'"partial_json":{msgspec.json.encode(piece).decode()}}}}}'
    )


def block_stop(index: int) -> str:
    return f'{{"type":"content_block_stop","index":{index}}}'


def message_delta(stop_reason: str | None) -> str:
    reason = msgspec.json.encode(stop_reason).decode()
    return (
        f'{{"type":"message_delta","delta":{{"stop_reason":{reason},"stop_sequence":null}},'
        '"usage":{"output_tokens":64}}'
    )


STOP = '{"type":"message_stop"}'
CUT = '{"path": "a.txt", "content": "Hello wor'


def cut_message(*tail: str, text: str = CUT) -> list[str]:
    """A message whose tool call streams ``text``, then the events of ``tail``."""
    return [START, tool_block(0), json_delta(0, text[:10]), json_delta(0, text[10:]), *tail]


class TestToolCallCutByMaxTokens:
    def test_final_message_keeps_the_complete_values(self) -> None:
        """As the API sends it (block stop, then max_tokens): complete values, truncated."""
        acc = MessageAccumulator()
        feed_all(acc, *cut_message(block_stop(0), message_delta("max_tokens"), STOP))
        message = acc.finish()
        block = message.content[0]
        assert message.stop_reason == "max_tokens"
        assert isinstance(block, sluice.ToolUseBlock)
        assert block.input == {"path": "a.txt"} and block.truncated

    def test_the_mark_stays_off_the_wire(self) -> None:
        """truncated is not serialized: the block goes back to the API as it came."""
        acc = MessageAccumulator()
        feed_all(acc, *cut_message(block_stop(0), message_delta("max_tokens"), STOP))
        message = acc.finish()
        assert to_builtins(message)["content"][0] == {
            "type": "tool_use",
            "id": "toolu_9",
            "name": "write_file",
            "input": {"path": "a.txt"},
        }
        assert b"truncated" not in msgspec.json.encode(message)
        assert b"truncated" not in sluice.to_json(message)
        assert "partial_input_json" not in message.content[0].__dict__

    @pytest.mark.parametrize(
        "tail",
        [
            [message_delta("max_tokens"), STOP],  # the block never stopped
            [message_delta("max_tokens"), block_stop(0), STOP],  # ... or stopped late
        ],
        ids=["no-block-stop", "block-stop-after"],
    )
    def test_block_stop_may_be_missing_or_late(self, tail: list[str]) -> None:
        """The last block cut without its content_block_stop first is cut all the same."""
        acc = MessageAccumulator()
        feed_all(acc, *cut_message(*tail))
        block = acc.finish().content[0]
        assert block.input == {"path": "a.txt"} and block.truncated  # type: ignore[union-attr]

    @pytest.mark.parametrize(
        ("text", "value"),
        [
            ('{"path": "a.txt", "con', {"path": "a.txt"}),
            ('{"path": "a.txt", "size": 12', {"path": "a.txt"}),
            ('{"path": "a.txt", "force": tru', {"path": "a.txt"}),
            ('{"path": "a.txt", "force": true', {"path": "a.txt", "force": True}),
            ('{"o": {"tags": ["x", "y"], "note": "Hel', {"o": {"tags": ["x", "y"]}}),
            ('{"o": {"tags": ["x", "y', {"o": {"tags": ["x"]}}),
            ('{"content": "Hello wor', {}),
        ],
    )
    def test_what_is_kept(self, text: str, value: object) -> None:
        """Unfinished strings, numbers, literals and keys go; open containers close."""
        acc = MessageAccumulator()
        feed_all(acc, *cut_message(block_stop(0), message_delta("max_tokens"), STOP, text=text))
        block = acc.finish().content[0]
        assert block.input == value and block.truncated  # type: ignore[union-attr]

    def test_before_the_stop_reason_the_snapshot_shows_the_same(self) -> None:
        """Between the block's stop and message_delta: the complete values, not yet marked."""
        acc = MessageAccumulator()
        feed_all(acc, *cut_message(block_stop(0)))
        assert acc.message is not None
        block = acc.message.content[0]
        assert block.input == {"path": "a.txt"} and not block.truncated  # type: ignore[union-attr]
        partial = acc.partial()
        assert partial is not None
        assert partial.content[0].__dict__["partial_input_json"] == CUT  # nothing lost

    def test_complete_json_at_max_tokens_is_not_truncated(self) -> None:
        """A call whose JSON was complete is whole, even if the message hit max_tokens."""
        acc = MessageAccumulator()
        feed_all(
            acc,
            *cut_message(block_stop(0), message_delta("max_tokens"), STOP, text='{"a": [1]}'),
        )
        block = acc.finish().content[0]
        assert block.input == {"a": [1]} and not block.truncated  # type: ignore[union-attr]

    def test_server_tool_use_is_cut_too(self) -> None:
        """A server_tool_use block cut by max_tokens gets the same treatment."""
        acc = MessageAccumulator()
        events = cut_message(block_stop(0), message_delta("max_tokens"), STOP)
        events[1] = tool_block(0, "web_search", "server_tool_use")
        feed_all(acc, *events)
        block = acc.finish().content[0]
        assert isinstance(block, sluice.ServerToolUseBlock)
        assert block.input == {"path": "a.txt"} and block.truncated

    def test_feed_many_gives_the_same(self) -> None:
        """feed_many and feed agree on a cut call."""
        events = [
            decode_event(e.encode())
            for e in cut_message(block_stop(0), message_delta("max_tokens"), STOP)
        ]
        acc = MessageAccumulator()
        acc.feed_many(events)
        block = acc.finish().content[0]
        assert block.input == {"path": "a.txt"} and block.truncated  # type: ignore[union-attr]

    @pytest.mark.parametrize("reason", ["tool_use", "end_turn"])
    def test_unfinished_json_without_max_tokens_is_invalid(self, reason: str) -> None:
        """Another stop reason: unfinished JSON is invalid input, ToolInputError."""
        acc = MessageAccumulator()
        feed_all(acc, *cut_message(block_stop(0)))
        with pytest.raises(sluice.ToolInputError) as info:
            feed_all(acc, message_delta(reason))
        err = info.value
        assert (err.tool_name, err.tool_use_id, err.index) == ("write_file", "toolu_9", 0)
        assert err.text == CUT and err.position == len(CUT)
        assert f"stopped for {reason!r}, not max_tokens" in str(err)
        assert "unterminated string" in str(err)
        assert err.partial_message is not None
        assert err.partial_message.stop_reason == reason
        assert err.partial_message.content[0].__dict__["partial_input_json"] == CUT

    def test_unfinished_json_then_another_block_is_invalid(self) -> None:
        """Only the last block can be cut: a block after unfinished JSON makes it invalid."""
        acc = MessageAccumulator()
        feed_all(acc, *cut_message(block_stop(0)))
        with pytest.raises(sluice.ToolInputError, match="another content block started"):
            feed_all(acc, text_block(1))

    def test_unfinished_json_and_no_stop_reason_is_invalid(self) -> None:
        """message_stop without max_tokens having come: ToolInputError."""
        acc = MessageAccumulator()
        feed_all(acc, *cut_message(block_stop(0), message_delta(None)))
        with pytest.raises(sluice.ToolInputError, match="without stopping for max_tokens"):
            feed_all(acc, STOP)

    def test_invalid_json_at_max_tokens_is_still_invalid(self) -> None:
        """Invalid JSON (not a beginning of JSON) raises at the block's stop, cut or not."""
        acc = MessageAccumulator()
        feed_all(acc, *cut_message(text='{"path": 01, "content": "Hel'))
        with pytest.raises(sluice.ToolInputError, match="leading zeros"):
            feed_all(acc, block_stop(0))


class TestErrors:
    def test_in_stream_error_raises_typed_error_with_partial(self) -> None:
        """An error event raises the class of its error.type, carrying the partial message."""
        acc = MessageAccumulator()
        feed_all(acc, START, text_block(0), text_delta(0, "so far"))
        with pytest.raises(sluice.OverloadedError) as info:
            feed_all(
                acc,
                '{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"},'
                '"request_id":"req_1"}',
            )
        err = info.value
        assert isinstance(err, sluice.APIStreamError)
        assert not isinstance(err, sluice.APIStatusError)
        assert err.status_code is None
        assert err.request_id == "req_1"
        assert err.partial_message is not None
        assert isinstance(err.partial_message.content[0], sluice.TextBlock)
        assert err.partial_message.content[0].text == "so far"

    def test_unknown_error_type_is_generic_stream_error(self) -> None:
        """An error event of an unknown error.type raises APIStreamError itself."""
        acc = MessageAccumulator()
        feed_all(acc, START)
        with pytest.raises(sluice.APIStreamError) as info:
            feed_all(acc, '{"type":"error","error":{"type":"brand_new_error","message":"?"}}')
        assert info.value.error_type == "brand_new_error"

    def test_delta_before_start_is_unexpected(self) -> None:
        """Content before message_start raises UnexpectedEventError."""
        with pytest.raises(sluice.UnexpectedEventError):
            feed_all(MessageAccumulator(), text_block(0))

    def test_delta_for_missing_block_is_unexpected(self) -> None:
        """A delta for a block that never started raises UnexpectedEventError with partial."""
        acc = MessageAccumulator()
        feed_all(acc, START)
        with pytest.raises(sluice.UnexpectedEventError) as info:
            feed_all(acc, text_delta(3, "x"))
        assert info.value.partial_message is not None

    def test_finish_before_stop_is_incomplete(self) -> None:
        """finish() before message_stop raises IncompleteStreamError with the text so far."""
        acc = MessageAccumulator()
        feed_all(acc, START, text_block(0), text_delta(0, "half"))
        with pytest.raises(sluice.IncompleteStreamError) as info:
            acc.finish()
        assert info.value.events_received == 3
        assert info.value.partial_message is not None


class TestFixtures:
    @pytest.mark.parametrize("name", COMPLETE)
    def test_every_complete_transcript_accumulates(self, name: str) -> None:
        """Every complete fixture accumulates into a message with a stop reason."""
        decoder = EventStreamDecoder()
        acc = MessageAccumulator()
        for event in [*decoder.feed(load(name)), *decoder.close()]:
            acc.feed(event)
        message = acc.finish()
        assert message.stop_reason
        assert to_builtins(message)["id"].startswith("msg_")


# -- feed, feed_text and feed_many: three ways to feed, one result ----------------------------


def long_stream(pieces: int) -> list[sluice.Event]:
    """A text block and a tool call of ``pieces`` deltas each: more than feed_many's runs."""
    texts = [f"w{i} " for i in range(pieces)]
    tool_json = msgspec.json.encode({"items": list(range(pieces))}).decode()
    step = max(1, len(tool_json) // pieces)
    fragments = [tool_json[i : i + step] for i in range(0, len(tool_json), step)]
    data = [
        START,
        text_block(0),
        *(text_delta(0, text) for text in texts),
        '{"type":"content_block_stop","index":0}',
        '{"type":"content_block_start","index":1,"content_block":{"type":"tool_use",'
        '"id":"toolu_1","name":"t","input":{}}}',
        *(
            '{"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta",'
            f'"partial_json":{msgspec.json.encode(fragment).decode()}}}}}'
            for fragment in fragments
        ),
        '{"type":"content_block_stop","index":1}',
        '{"type":"message_delta","delta":{"stop_reason":"tool_use"},"usage":{"output_tokens":9}}',
        '{"type":"message_stop"}',
    ]
    return [decode_event(item.encode()) for item in data]


def fed_in_ways(
    events: list[sluice.Event], ways: list[int]
) -> tuple[MessageAccumulator, list[str]]:
    """Feed ``events`` in runs: way 0 = feed, 1 = feed_text, 2 = feed_many; sizes 1-40.

    Returns the accumulator and the texts feed_text returned. The message is read now and
    then in between, as a UI would.
    """
    acc = MessageAccumulator()
    texts: list[str] = []
    position = 0
    for step, way in enumerate(ways * (len(events) // max(len(ways), 1) + 1)):
        if position >= len(events):
            break
        run = events[position : position + 1 + (step * 7) % 40]
        position += len(run)
        if way == 0:
            for event in run:
                acc.feed(event)
        elif way == 1:
            for event in run:
                text = acc.feed_text(event)
                if text is not None:
                    texts.append(text)
        else:
            acc.feed_many(run)
        if step % 5 == 4:
            acc.message  # noqa: B018 - a read joins the text so far
    return acc, texts


class TestFeedingWays:
    @pytest.mark.parametrize("ways", [[0], [1], [2], [2, 0], [0, 2, 1], [1, 2]])
    def test_every_way_builds_the_same_message(self, ways: list[int]) -> None:
        """feed, feed_text and feed_many, in any mix and run size, give feed's result."""
        for events in [long_stream(1500), *(events_of(name) for name in COMPLETE)]:
            reference, _ = fed_in_ways(events, [0])
            acc, _ = fed_in_ways(events, ways)
            assert acc.events == reference.events == len(events)
            assert to_builtins(acc.finish()) == to_builtins(reference.finish())

    def test_feed_text_returns_the_text_of_text_deltas(self) -> None:
        """feed_text returns the text of every text_delta, and None for other events."""
        events = events_of("text.sse")
        acc = MessageAccumulator()
        texts = [acc.feed_text(event) for event in events]
        expected = [
            e.delta.text
            if isinstance(e, sluice.ContentBlockDelta) and isinstance(e.delta, sluice.TextDelta)
            else None
            for e in events
        ]
        assert texts == expected and any(texts)

    def test_feed_text_returns_a_delta_aimed_at_another_block(self) -> None:
        """A text_delta for a tool block changes nothing, and its text is still returned."""
        acc = MessageAccumulator()
        feed_all(acc, START)
        acc.feed(
            decode_event(
                b'{"type":"content_block_start","index":0,"content_block":'
                b'{"type":"tool_use","id":"t","name":"n","input":{}}}'
            )
        )
        assert acc.feed_text(decode_event(text_delta(0, "x").encode())) == "x"
        assert acc.events == 3
        assert acc.partial() is not None and to_builtins(acc.partial())["content"][0]["input"] == {}

    @pytest.mark.parametrize("name", ["overloaded_error.sse", "truncated.sse"])
    def test_an_error_in_feed_many_leaves_what_feed_would(self, name: str) -> None:
        """feed_many raises feed's error; the events before it are applied and counted."""
        events = [*events_of(name), decode_event(text_delta(0, "after").encode())]
        reference = MessageAccumulator()
        try:
            for event in events:
                reference.feed(event)
        except sluice.StreamError as exc:
            expected: tuple[object, ...] = (type(exc), str(exc), exc.events_received)
        else:
            expected = ()
        acc = MessageAccumulator()
        try:
            acc.feed_many(events)
        except sluice.StreamError as exc:
            assert (type(exc), str(exc), exc.events_received) == expected
            assert to_builtins(exc.partial_message) == to_builtins(reference.partial())
        else:
            assert expected == ()
        assert acc.events == reference.events

    def test_a_subclass_gets_feed_for_every_event(self) -> None:
        """feed_text and feed_many call an overriding feed for each event, hot path or not."""
        seen: list[sluice.Event] = []

        class Watched(MessageAccumulator):
            def feed(self, event: sluice.Event) -> None:
                seen.append(event)
                super().feed(event)

        events = events_of("text.sse")
        acc = Watched()
        acc.feed_many(events[:20])
        for event in events[20:]:
            acc.feed_text(event)
        assert seen == events
        assert to_builtins(acc.finish()) == to_builtins(fed_in_ways(events, [0])[0].finish())
