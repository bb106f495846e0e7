"""VercelEncoder: log entries -> the AI SDK UI message stream protocol v1, resumable."""

from __future__ import annotations

import json
from typing import Any

import msgspec
import pytest
from _relay_util import STRICT_KEYS, decode_native, entries_of

import sluice
from _util import load
from sluice.relay import Entry, VercelEncoder, error_data, finish_reason


def parts_of(frames: bytes) -> list[Any]:
    """The JSON parts of UI message stream frames (``"[DONE]"`` kept as a string)."""
    parts = []
    for line in frames.decode().split("\n"):
        if line.startswith("data: "):
            data = line[6:]
            parts.append(data if data == "[DONE]" else json.loads(data))
    return parts


def encode_all(entries: list[Entry]) -> list[bytes]:
    encoder = VercelEncoder()
    return [encoder.encode(entry) for entry in entries]


class TestParts:
    def test_text_message(self) -> None:
        """A text answer: start, start-step, text-start/delta/end, finish-step, finish, DONE."""
        parts = parts_of(b"".join(encode_all(entries_of("text.sse"))))
        types = [p if p == "[DONE]" else p["type"] for p in parts]
        assert types[:3] == ["start", "start-step", "text-start"]
        assert types[-5:] == ["text-delta", "text-end", "finish-step", "finish", "[DONE]"]
        text = "".join(p["delta"] for p in parts if p != "[DONE]" and p["type"] == "text-delta")
        message = sluice.MessageAccumulator()
        for event in decode_native(load("text.sse")):
            message.feed(event)
        final = message.finish()
        assert text == final.content[0].text  # type: ignore[union-attr]
        assert parts[0]["messageId"] == final.id
        assert parts[-2] == {"type": "finish", "finishReason": "stop"}

    def test_thinking_becomes_reasoning_with_its_signature(self) -> None:
        """Thinking blocks are reasoning parts; the signature rides on reasoning-end."""
        parts = [
            p for p in parts_of(b"".join(encode_all(entries_of("thinking.sse")))) if p != "[DONE]"
        ]
        types = [p["type"] for p in parts]
        assert "reasoning-start" in types and "reasoning-delta" in types
        (end,) = [p for p in parts if p["type"] == "reasoning-end"]
        assert end["providerMetadata"]["anthropic"]["signature"]

    def test_tool_calls_stream_their_input_then_the_parsed_input(self) -> None:
        """tool-input-start/delta/available, the input equal to the final message's."""
        parts = [
            p for p in parts_of(b"".join(encode_all(entries_of("tool_use.sse")))) if p != "[DONE]"
        ]
        message = sluice.MessageAccumulator()
        for event in decode_native(load("tool_use.sse")):
            message.feed(event)
        tool = next(b for b in message.finish().content if isinstance(b, sluice.ToolUseBlock))
        (start,) = [p for p in parts if p["type"] == "tool-input-start"]
        (available,) = [p for p in parts if p["type"] == "tool-input-available"]
        assert start == {"type": "tool-input-start", "toolCallId": tool.id, "toolName": tool.name}
        assert available["input"] == tool.input and available["toolCallId"] == tool.id
        deltas = "".join(p["inputTextDelta"] for p in parts if p["type"] == "tool-input-delta")
        assert json.loads(deltas) == tool.input
        assert parts[-1] == {"type": "finish", "finishReason": "tool-calls"}

    @pytest.mark.parametrize(
        "name",
        [
            "text.sse",
            "thinking.sse",
            "tool_use.sse",
            "server_tools.sse",
            "web_search.sse",
            "citations.sse",
            "unknown_types.sse",
            "refusal.sse",
            "pause_turn.sse",
        ],
    )
    def test_every_part_has_only_the_keys_the_sdk_accepts(self, name: str) -> None:
        """Each part type is one the protocol defines, with no key its strict schema rejects."""
        for part in parts_of(b"".join(encode_all(entries_of(name)))):
            if part == "[DONE]":
                continue
            assert set(part) <= STRICT_KEYS[part["type"]], part

    def test_a_tool_input_cut_by_max_tokens_says_it_was_cut(self) -> None:
        """A tool call cut by max_tokens is a tool-input-error that says so, then length."""
        parts = [
            p
            for p in parts_of(b"".join(encode_all(entries_of("max_tokens_tool.sse"))))
            if p != "[DONE]"
        ]
        (error,) = [p for p in parts if p["type"] == "tool-input-error"]
        deltas = "".join(p["inputTextDelta"] for p in parts if p["type"] == "tool-input-delta")
        assert error["input"] == deltas
        assert "cut short" in error["errorText"] and "max_tokens" in error["errorText"]
        assert not [p for p in parts if p["type"] == "tool-input-available"]
        assert parts[-1] == {"type": "finish", "finishReason": "length"}
        assert set(error) <= STRICT_KEYS["tool-input-error"]

    def test_a_malformed_tool_input_is_not_called_cut(self) -> None:
        """Input that no continuation could complete is reported as not valid JSON."""
        entries = [
            e
            for e in entries_of("tool_use.sse")
            if not (e.event == "content_block_delta" and b"input_json_delta" in e.data)
        ]
        at = next(
            i
            for i, e in enumerate(entries)
            if e.event == "content_block_start" and b"tool_use" in e.data
        )
        index = msgspec.json.decode(entries[at].data)["index"]
        bad = (
            b'{"type":"content_block_delta","index":%d,"delta":{"type":"input_json_delta","partial_json":"{\\"a\\": ]"}}'
            % index
        )
        entries.insert(at + 1, Entry(entries[at].id, "content_block_delta", bad))
        parts = [p for p in parts_of(b"".join(encode_all(entries))) if p != "[DONE]"]
        (error,) = [p for p in parts if p["type"] == "tool-input-error"]
        assert error["errorText"].startswith("the tool input is not valid JSON")

    def test_server_tools_are_provider_executed(self) -> None:
        """Server tool calls and their results carry providerExecuted."""
        parts = [
            p for p in parts_of(b"".join(encode_all(entries_of("web_search.sse")))) if p != "[DONE]"
        ]
        assert any(p["type"] == "tool-input-start" and p.get("providerExecuted") for p in parts)
        assert any(p["type"] == "tool-output-available" for p in parts)

    @pytest.mark.parametrize(
        ("stop_reason", "expected"),
        [
            ("end_turn", "stop"),
            ("stop_sequence", "stop"),
            ("pause_turn", "stop"),
            ("max_tokens", "length"),
            ("model_context_window_exceeded", "length"),
            ("tool_use", "tool-calls"),
            ("refusal", "content-filter"),
            (None, "other"),
            ("something_new", "other"),
        ],
    )
    def test_finish_reason(self, stop_reason: str | None, expected: str) -> None:
        """Stop reasons map onto the AI SDK's finish reasons."""
        assert finish_reason(stop_reason) == expected

    def test_error_and_stopped_entries_end_the_stream(self) -> None:
        """An error entry gives error, finish(error), DONE; a stopped entry abort, DONE."""
        error = Entry(3, "error", error_data("overloaded_error", "busy"))
        assert parts_of(VercelEncoder().encode(error)) == [
            {"type": "error", "errorText": "overloaded_error: busy"},
            {"type": "finish", "finishReason": "error"},
            "[DONE]",
        ]
        stopped = Entry(4, "stopped", b'{"type":"stopped"}')
        assert parts_of(VercelEncoder().encode(stopped)) == [{"type": "abort"}, "[DONE]"]


class TestResume:
    @pytest.mark.parametrize("name", ["text.sse", "tool_use.sse", "thinking.sse"])
    def test_resuming_after_any_entry_gives_exactly_the_rest(self, name: str) -> None:
        """skip() up to k, then encode(): the frames of entries after k, byte for byte."""
        entries = entries_of(name)
        full = encode_all(entries)
        for k in range(len(entries) + 1):
            encoder = VercelEncoder()
            for entry in entries[:k]:
                encoder.skip(entry)
            assert [encoder.encode(e) for e in entries[k:]] == full[k:]

    def test_only_the_last_frame_of_an_entry_carries_its_id(self) -> None:
        """An entry with several parts writes `id:` once, on its last frame."""
        frames = encode_all(entries_of("text.sse"))
        first = frames[0].decode()  # message_start: start + start-step
        assert first.count("id: ") == 1 and first.index("id: 1") > first.index('"start"')
        for entry, frame in zip(entries_of("text.sse"), frames, strict=True):
            if frame:
                assert frame.decode().count(f"id: {entry.id}\n") == 1

    def test_the_trimmed_error_carries_no_id(self) -> None:
        """The log_trimmed_error entry does not move the reader's position."""
        entry = Entry(7, "error", error_data("log_trimmed_error", "behind"), trimmed=True)
        frames = VercelEncoder().encode(entry)
        assert b"id:" not in frames
        assert parts_of(frames)[0]["errorText"].startswith("log_trimmed_error: ")


def block_of(entry: Entry) -> int | None:
    """The content block index an entry is about, if any."""
    if entry.event.startswith("content_block_"):
        return int(json.loads(entry.data)["index"])
    return None


class TestResumeInsideTheWindow:
    """The log's start was dropped by its cap: the encoder starts from the oldest kept entry."""

    @pytest.mark.parametrize("name", ["text.sse", "long_text.sse", "tool_use.sse", "thinking.sse"])
    def test_what_it_can_rebuild_is_exact_and_the_rest_is_missing(self, name: str) -> None:
        """From any window start w, resuming after any k >= w: the frames are exactly the
        full stream's, until an entry needs what was dropped; then `missing`, nothing more."""
        entries = entries_of(name)
        full = encode_all(entries)
        step = max(1, len(entries) // 40)
        for w in range(1, len(entries), step):
            for k in range(w, len(entries) + 1, step):
                encoder = VercelEncoder(resumed=True)
                for entry in entries[w:k]:
                    encoder.skip(entry)
                for index, entry in enumerate(entries[k:], start=k):
                    frames = encoder.encode(entry)
                    if encoder.missing:
                        assert frames == b""
                        assert needs_the_dropped_start(entries, w, index)
                        break
                    assert frames == full[index], (w, k, index)

    def test_text_resumes_however_much_was_dropped(self) -> None:
        """A text answer needs nothing from before the window but its stop reason."""
        entries = entries_of("long_text.sse")
        full = encode_all(entries)
        for w in (2, 50, len(entries) - 10):
            encoder = VercelEncoder(resumed=True)
            for entry in entries[w : len(entries) - 3]:
                encoder.skip(entry)
            frames = [encoder.encode(e) for e in entries[len(entries) - 3 :]]
            assert not encoder.missing and frames == full[len(entries) - 3 :]

    def test_a_tool_call_whose_start_was_dropped_is_missing(self) -> None:
        """A tool call's id, name and whole input come from its start: without it, missing."""
        entries = entries_of("tool_use.sse")
        start = next(
            i
            for i, e in enumerate(entries)
            if e.event == "content_block_start" and b'"tool_use"' in e.data
        )
        encoder = VercelEncoder(resumed=True)
        encoder.skip(entries[start + 1])
        assert encoder.encode(entries[start + 2]) == b"" and encoder.missing


def needs_the_dropped_start(entries: list[Entry], w: int, index: int) -> bool:
    """Whether entry ``index`` needs an entry before ``w`` of its own message: the start
    of its block (a tool call, a stop without a delta in the window) or the stop reason."""
    entry = entries[index]
    if entry.event == "message_stop":
        return not any(e.event == "message_delta" for e in entries[w:index])
    block = block_of(entry)
    if block is None:
        return False
    mine = [e for e in entries[:index] if block_of(e) == block]
    started_in_window = any(
        e.event == "content_block_start" for e in entries[w:index] if block_of(e) == block
    )
    return not started_in_window and bool(mine)
