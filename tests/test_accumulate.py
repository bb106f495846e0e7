"""The sans-I/O accumulator: SDK rules, cumulative usage, errors carrying partial messages."""

from __future__ import annotations

import msgspec
import pytest

import sluice
from _util import COMPLETE, load
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
        assert err.position == 6
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
