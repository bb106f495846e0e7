"""The typed event model: every event and delta, unknown types, unknown fields, errors."""

from __future__ import annotations

import msgspec
import pytest

import sluice
from sluice import decode_event, to_builtins, to_json


def ev(data: str) -> sluice.Event:
    return decode_event(data.encode(), "test", 0)


class TestKnownEvents:
    def test_message_start_with_full_usage(self) -> None:
        """message_start decodes the message shell with every usage counter."""
        event = ev(
            '{"type":"message_start","message":{"id":"msg_1","type":"message","role":'
            '"assistant","model":"claude-x","content":[],"stop_reason":null,'
            '"stop_sequence":null,"usage":{"input_tokens":10,"output_tokens":1,'
            '"cache_creation_input_tokens":2,"cache_read_input_tokens":3,"cache_creation":'
            '{"ephemeral_5m_input_tokens":2,"ephemeral_1h_input_tokens":0},"server_tool_use":'
            '{"web_search_requests":0},"service_tier":"standard"}}}'
        )
        assert isinstance(event, sluice.MessageStart)
        assert event.type == "message_start"
        usage = event.message.usage
        assert (usage.input_tokens, usage.output_tokens) == (10, 1)
        assert usage.cache_creation_input_tokens == 2
        assert usage.cache_read_input_tokens == 3
        assert isinstance(usage.cache_creation, sluice.types.CacheCreation)
        assert usage.cache_creation.ephemeral_5m_input_tokens == 2
        assert isinstance(usage.server_tool_use, sluice.types.ServerToolUsage)
        assert usage.service_tier == "standard"
        assert event.message.stop_reason is None

    @pytest.mark.parametrize(
        ("delta", "cls", "attr", "value"),
        [
            ('{"type":"text_delta","text":"hé"}', sluice.TextDelta, "text", "hé"),
            ('{"type":"thinking_delta","thinking":"hm"}', sluice.ThinkingDelta, "thinking", "hm"),
            (
                '{"type":"signature_delta","signature":"EqQ"}',
                sluice.SignatureDelta,
                "signature",
                "EqQ",
            ),
            (
                '{"type":"input_json_delta","partial_json":"{\\"a"}',
                sluice.InputJSONDelta,
                "partial_json",
                '{"a',
            ),
        ],
    )
    def test_content_block_deltas(self, delta: str, cls: type, attr: str, value: str) -> None:
        """Each delta type decodes to its struct with its payload."""
        event = ev(f'{{"type":"content_block_delta","index":2,"delta":{delta}}}')
        assert isinstance(event, sluice.ContentBlockDelta)
        assert event.index == 2
        assert isinstance(event.delta, cls)
        assert getattr(event.delta, attr) == value

    @pytest.mark.parametrize(
        ("citation", "cls"),
        [
            (
                '{"type":"char_location","cited_text":"x","document_index":0,"document_title":"D",'
                '"start_char_index":0,"end_char_index":1}',
                sluice.types.CitationCharLocation,
            ),
            (
                '{"type":"page_location","cited_text":"x","document_index":0,"document_title":null,'
                '"start_page_number":1,"end_page_number":2}',
                sluice.types.CitationPageLocation,
            ),
            (
                '{"type":"content_block_location","cited_text":"x","document_index":1,'
                '"start_block_index":0,"end_block_index":1}',
                sluice.types.CitationContentBlockLocation,
            ),
            (
                '{"type":"web_search_result_location","cited_text":"x","url":"https://e.org",'
                '"title":"E","encrypted_index":"Eo8"}',
                sluice.types.CitationsWebSearchResultLocation,
            ),
            (
                '{"type":"search_result_location","cited_text":"x","source":"kb","title":"T",'
                '"search_result_index":0,"start_block_index":0,"end_block_index":1}',
                sluice.types.CitationsSearchResultLocation,
            ),
        ],
    )
    def test_citations_delta_every_location_kind(self, citation: str, cls: type) -> None:
        """citations_delta decodes each citation location kind the API documents."""
        event = ev(
            f'{{"type":"content_block_delta","index":0,"delta":{{"type":"citations_delta",'
            f'"citation":{citation}}}}}'
        )
        assert isinstance(event, sluice.ContentBlockDelta)
        assert isinstance(event.delta, sluice.CitationsDelta)
        assert isinstance(event.delta.citation, cls)
        assert to_builtins(event)["delta"]["citation"] == msgspec.json.decode(citation)

    @pytest.mark.parametrize(
        ("block", "cls"),
        [
            ('{"type":"text","text":""}', sluice.TextBlock),
            ('{"type":"thinking","thinking":"","signature":""}', sluice.ThinkingBlock),
            ('{"type":"redacted_thinking","data":"abc"}', sluice.RedactedThinkingBlock),
            ('{"type":"tool_use","id":"toolu_1","name":"get","input":{}}', sluice.ToolUseBlock),
            (
                '{"type":"server_tool_use","id":"srvtoolu_1","name":"web_search","input":{}}',
                sluice.ServerToolUseBlock,
            ),
            (
                '{"type":"web_search_tool_result","tool_use_id":"srvtoolu_1","content":[{"type":'
                '"web_search_result","url":"https://e.org","title":"E","encrypted_content":"x",'
                '"page_age":null}]}',
                sluice.types.WebSearchToolResultBlock,
            ),
            (
                '{"type":"web_search_tool_result","tool_use_id":"srvtoolu_1","content":{"type":'
                '"web_search_tool_result_error","error_code":"max_uses_exceeded"}}',
                sluice.types.WebSearchToolResultBlock,
            ),
            (
                '{"type":"web_fetch_tool_result","tool_use_id":"s","content":{"type":'
                '"web_fetch_result","url":"https://e.org","content":{"type":"document","source":'
                '{"type":"text","media_type":"text/plain","data":"hi"}}}}',
                sluice.types.WebFetchToolResultBlock,
            ),
            (
                '{"type":"code_execution_tool_result","tool_use_id":"s","content":{"type":'
                '"code_execution_result","stdout":"1","stderr":"","return_code":0,"content":[]}}',
                sluice.types.CodeExecutionToolResultBlock,
            ),
            (
                '{"type":"bash_code_execution_tool_result","tool_use_id":"s","content":{"type":'
                '"bash_code_execution_result","stdout":"ok","stderr":"","return_code":0,"content":[]}}',
                sluice.types.BashCodeExecutionToolResultBlock,
            ),
            (
                '{"type":"text_editor_code_execution_tool_result","tool_use_id":"s","content":'
                '{"type":"text_editor_code_execution_create_result","is_file_update":false}}',
                sluice.types.TextEditorCodeExecutionToolResultBlock,
            ),
            (
                '{"type":"tool_search_tool_result","tool_use_id":"s","content":{"type":'
                '"tool_search_tool_search_result","tool_references":[]}}',
                sluice.types.ToolSearchToolResultBlock,
            ),
            ('{"type":"container_upload","file_id":"file_1"}', sluice.types.ContainerUploadBlock),
            (
                '{"type":"mcp_tool_use","id":"mcptoolu_1","name":"n","server_name":"s","input":{}}',
                sluice.types.MCPToolUseBlock,
            ),
        ],
    )
    def test_content_block_start_every_block_type(self, block: str, cls: type) -> None:
        """content_block_start decodes every block type the API streams, and re-encodes exactly."""
        event = ev(f'{{"type":"content_block_start","index":0,"content_block":{block}}}')
        assert isinstance(event, sluice.ContentBlockStart)
        assert isinstance(event.content_block, cls)
        assert to_builtins(event.content_block) == msgspec.json.decode(block)

    def test_message_delta_stop_reasons(self) -> None:
        """message_delta carries any stop_reason (pause_turn, refusal...) and stop_details."""
        event = ev(
            '{"type":"message_delta","delta":{"stop_reason":"refusal","stop_sequence":null,'
            '"stop_details":{"type":"refusal","category":"cyber","explanation":"no"}},'
            '"usage":{"output_tokens":7}}'
        )
        assert isinstance(event, sluice.MessageDelta)
        assert event.delta.stop_reason == "refusal"
        assert isinstance(event.delta.stop_details, sluice.types.StopDetails)
        assert event.delta.stop_details.category == "cyber"
        assert event.usage.output_tokens == 7
        assert event.usage.input_tokens is msgspec.UNSET

    def test_simple_events(self) -> None:
        """ping, content_block_stop, message_stop and error decode."""
        assert isinstance(ev('{"type": "ping"}'), sluice.Ping)
        assert ev('{"type":"content_block_stop","index":3}') == sluice.ContentBlockStop(index=3)
        assert isinstance(ev('{"type":"message_stop"}'), sluice.MessageStop)
        error = ev('{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}')
        assert isinstance(error, sluice.ErrorEvent)
        assert error.error.type == "overloaded_error"


class TestForwardCompatibility:
    def test_unknown_event_type(self) -> None:
        """An unknown event type becomes UnknownEvent carrying the raw JSON."""
        event = ev('{"type":"content_block_progress","index":0,"pct":50}')
        assert isinstance(event, sluice.UnknownEvent)
        assert event.type == "content_block_progress"
        assert event.raw == {"type": "content_block_progress", "index": 0, "pct": 50}
        assert to_builtins(event) == event.raw

    def test_unknown_block_type(self) -> None:
        """An unknown content block type becomes UnknownBlock and re-encodes unchanged."""
        event = ev(
            '{"type":"content_block_start","index":1,"content_block":{"type":"hologram","x":[1]}}'
        )
        assert isinstance(event, sluice.ContentBlockStart)
        block = event.content_block
        assert isinstance(block, sluice.UnknownBlock)
        assert block.type == "hologram"
        assert to_builtins(event)["content_block"] == {"type": "hologram", "x": [1]}

    def test_unknown_delta_type(self) -> None:
        """An unknown delta type becomes UnknownDelta and keeps its index."""
        event = ev(
            '{"type":"content_block_delta","index":4,"delta":{"type":"audio_delta","pcm":"AA"}}'
        )
        assert isinstance(event, sluice.ContentBlockDelta)
        assert event.index == 4
        assert isinstance(event.delta, sluice.UnknownDelta)
        assert event.delta.type == "audio_delta"

    def test_unknown_fields_survive_reencoding(self) -> None:
        """Fields sluice does not model are kept on message, usage and blocks."""
        event = ev(
            '{"type":"message_start","message":{"id":"m","type":"message","role":"assistant",'
            '"model":"x","content":[],"stop_reason":null,"stop_sequence":null,"novel":{"a":1},'
            '"usage":{"input_tokens":1,"output_tokens":1,"shiny_tokens":7}}}'
        )
        out = to_builtins(event)["message"]
        assert out["novel"] == {"a": 1}
        assert out["usage"]["shiny_tokens"] == 7
        block = ev(
            '{"type":"content_block_start","index":0,"content_block":{"type":"tool_use",'
            '"id":"t","name":"n","input":{},"caller":{"type":"direct"},"future_flag":true}}'
        )
        assert isinstance(block, sluice.ContentBlockStart)
        assert to_builtins(block.content_block)["future_flag"] is True
        assert to_builtins(block.content_block)["caller"] == {"type": "direct"}

    def test_absent_and_null_are_distinct(self) -> None:
        """A field absent on the wire stays absent; an explicit null stays null."""
        event = ev(
            '{"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}'
        )
        assert "citations" not in to_builtins(event)["content_block"]
        event = ev(
            '{"type":"content_block_start","index":0,"content_block":{"type":"text","text":"",'
            '"citations":null}}'
        )
        assert to_builtins(event)["content_block"]["citations"] is None

    def test_known_block_with_changed_nested_shape_is_kept_whole(self) -> None:
        """A known block type whose nested content is a new variant is kept as UnknownBlock."""
        raw = (
            '{"type":"web_search_tool_result","tool_use_id":"s","content":{"type":'
            '"web_search_tool_result_teleport","where":"mars"}}'
        )
        event = ev(f'{{"type":"content_block_start","index":0,"content_block":{raw}}}')
        assert isinstance(event, sluice.ContentBlockStart)
        assert isinstance(event.content_block, sluice.UnknownBlock)
        assert to_json(event.content_block) == msgspec.json.encode(msgspec.json.decode(raw))


class TestDecodeErrors:
    def test_invalid_json_names_event_and_offset(self) -> None:
        """Malformed JSON raises EventDecodeError naming the event, offset and data."""
        with pytest.raises(sluice.EventDecodeError) as info:
            decode_event(b'{"type":"content_block_delta","ind', "content_block_delta", 1234)
        assert info.value.event == "content_block_delta"
        assert info.value.offset == 1234
        assert info.value.data == b'{"type":"content_block_delta","ind'
        assert "1234" in str(info.value) and "content_block_delta" in str(info.value)

    def test_known_event_with_wrong_shape(self) -> None:
        """A known event missing a required field is an error, not an unknown event."""
        with pytest.raises(sluice.EventDecodeError, match="text"):
            decode_event(b'{"type":"content_block_delta","index":0,"delta":{"type":"text_delta"}}')

    def test_error_is_a_stream_error(self) -> None:
        """EventDecodeError belongs to the StreamError branch of the tree."""
        assert issubclass(sluice.EventDecodeError, sluice.StreamError)
        assert issubclass(sluice.StreamError, sluice.SluiceError)


class TestMessageDeltaExtras:
    def test_unknown_fields_on_message_delta_survive(self) -> None:
        """message_delta keeps unknown fields (delta and usage) for relays that re-encode."""
        event = ev(
            '{"type":"message_delta","delta":{"stop_reason":"end_turn","future_delta_field":1},'
            '"usage":{"output_tokens":3,"shiny_tokens":9}}'
        )
        out = to_builtins(event)
        assert out["delta"]["future_delta_field"] == 1
        assert out["usage"]["shiny_tokens"] == 9


class TestLoneSurrogates:
    def test_to_json_writes_lone_surrogate_as_escape(self) -> None:
        """A lone surrogate (valid JSON, invalid UTF-8) re-encodes as its \\u escape."""
        event = ev(
            '{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"a\\ud800b"}}'
        )
        assert to_json(event).endswith(b'"text":"a\\ud800b"}}')
