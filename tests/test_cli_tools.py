"""python -m sluice replay --tools: tool calls as JSON lines, and invalid tool input."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from _util import FIXTURES
from sluice.__main__ import main


def replay(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["replay", *args])
    out, err = capsys.readouterr()
    return code, out, err


def tool_lines(capsys: pytest.CaptureFixture[str], path: Path) -> tuple[int, list[Any], str]:
    code, out, err = replay(capsys, str(path), "--tools")
    return code, [json.loads(line) for line in out.splitlines()], err


def final_message(capsys: pytest.CaptureFixture[str], name: str) -> Any:
    code, out, _ = replay(capsys, str(FIXTURES / name), "--final")
    assert code == 0
    return json.loads(out)


def sse(*events: dict[str, Any]) -> bytes:
    """A transcript: each event as an SSE frame named after its type."""
    return b"".join(
        f"event: {event['type']}\ndata: {json.dumps(event)}\n\n".encode() for event in events
    )


def tool_transcript(*fragments: str) -> bytes:
    """A complete stream with one tool_use block whose input streams as ``fragments``."""
    return sse(
        {
            "type": "message_start",
            "message": {
                "id": "msg_01",
                "type": "message",
                "role": "assistant",
                "model": "claude-sonnet-4-5",
                "content": [],
                "stop_reason": None,
                "stop_sequence": None,
                "usage": {"input_tokens": 12, "output_tokens": 1},
            },
        },
        {
            "type": "content_block_start",
            "index": 0,
            "content_block": {"type": "tool_use", "id": "toolu_01", "name": "run", "input": {}},
        },
        *(
            {
                "type": "content_block_delta",
                "index": 0,
                "delta": {"type": "input_json_delta", "partial_json": fragment},
            }
            for fragment in fragments
        ),
        {"type": "content_block_stop", "index": 0},
        {
            "type": "message_delta",
            "delta": {"stop_reason": "tool_use"},
            "usage": {"output_tokens": 9},
        },
        {"type": "message_stop"},
    )


class TestReplayTools:
    def test_tool_use_lines(self, capsys: pytest.CaptureFixture[str]) -> None:
        """--tools prints a line per input delta, then the complete call; exit 0."""
        code, lines, err = tool_lines(capsys, FIXTURES / "tool_use.sse")
        assert code == 0 and err == ""
        block = final_message(capsys, "tool_use.sse")["content"][1]
        deltas, last = lines[:-1], lines[-1]
        assert len(deltas) == 34
        assert {line["type"] for line in deltas} == {"tool_call_delta"}
        assert last == {
            "type": "tool_call",
            "index": 1,
            "id": block["id"],
            "name": "create_calendar_event",
            "kind": "tool_use",
            "input": block["input"],
            "caller": {"type": "direct"},
        }

    def test_partial_input_grows(self, capsys: pytest.CaptureFixture[str]) -> None:
        """Delta lines show the partial input: a string argument grows line by line."""
        _, lines, _ = tool_lines(capsys, FIXTURES / "tool_use.sse")
        titles = [line["partial_input"].get("title") for line in lines[:-1]]
        final_title = lines[-1]["input"]["title"]
        shown = [t for t in titles if t is not None]
        assert shown[0] != final_title and final_title.startswith(shown[0])
        assert shown[-1] == final_title
        assert json.loads("".join(line["json_delta"] for line in lines[:-1])) == lines[-1]["input"]
        assert lines[-2]["partial_input"] == lines[-1]["input"]

    def test_server_tool_use(self, capsys: pytest.CaptureFixture[str]) -> None:
        """Server tool calls (web search) are printed with their kind."""
        code, lines, _ = tool_lines(capsys, FIXTURES / "pause_turn.sse")
        assert code == 0
        calls = [line for line in lines if line["type"] == "tool_call"]
        assert [(c["index"], c["kind"], c["input"]) for c in calls] == [
            (1, "server_tool_use", {"query": "ESA Ariel mission launch date"}),
            (4, "server_tool_use", {"query": "Ariel telescope mirror size AIRS spectrometer"}),
        ]

    def test_no_tools_prints_nothing(self, capsys: pytest.CaptureFixture[str]) -> None:
        """A transcript without tool calls prints nothing and succeeds."""
        assert replay(capsys, str(FIXTURES / "text.sse"), "--tools") == (0, "", "")

    def test_no_parameters(self, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
        """A tool without parameters (input streamed as "") ends with input {}."""
        path = tmp_path / "empty.sse"
        path.write_bytes(tool_transcript(""))
        code, lines, _ = tool_lines(capsys, path)
        assert code == 0
        assert lines[-1]["input"] == {} and lines[0]["partial_input"] == {}

    def test_lone_surrogate(self, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
        """An input with a lone surrogate escape (valid JSON, not UTF-8) is printed escaped."""
        path = tmp_path / "surrogate.sse"
        path.write_bytes(tool_transcript('{"s": "a\\ud800', 'b"}'))
        code, out, _ = replay(capsys, str(path), "--tools")
        assert code == 0
        assert out.isascii()
        assert json.loads(out.splitlines()[-1])["input"] == {"s": "a\ud800b"}

    def test_invalid_tool_json_fails(
        self, capsys: pytest.CaptureFixture[str], tmp_path: Path
    ) -> None:
        """Invalid tool JSON prints the deltas before it, the error on stderr, and exits 1."""
        path = tmp_path / "bad.sse"
        path.write_bytes(tool_transcript('{"cmd": "ls",', " 'x': 1}"))
        code, out, err = replay(capsys, str(path), "--tools")
        assert code == 1
        lines = [json.loads(line) for line in out.splitlines()]
        assert [line["partial_input"] for line in lines] == [{"cmd": "ls"}]
        assert "ToolInputError" in err
        assert "'run'" in err and "toolu_01" in err
        assert "position 14" in err
        assert repr('{"cmd": "ls", \'x\': 1}') in err  # all the text received

    def test_truncated_tool_block_fails(
        self, capsys: pytest.CaptureFixture[str], tmp_path: Path
    ) -> None:
        """A transcript cut inside a tool call prints its deltas, then reports truncation."""
        data = tool_transcript('{"cmd": "ls -', 'la"}')
        path = tmp_path / "cut.sse"
        path.write_bytes(data[: data.index(b"event: content_block_stop")])
        code, out, err = replay(capsys, str(path), "--tools")
        assert code == 1
        assert [json.loads(line)["partial_input"] for line in out.splitlines()] == [
            {"cmd": "ls -"},
            {"cmd": "ls -la"},
        ]
        assert "IncompleteStreamError" in err

    def test_call_cut_by_max_tokens(self, capsys: pytest.CaptureFixture[str]) -> None:
        """A call cut by max_tokens ends with its complete values and "truncated": true."""
        code, lines, err = tool_lines(capsys, FIXTURES / "max_tokens_tool.sse")
        assert code == 0 and err == ""
        assert lines[-2]["partial_input"]["content"].endswith("Silence ag")
        assert lines[-1] == {
            "type": "tool_call",
            "index": 1,
            "id": "toolu_01Q4vXcut8mWkTn2RpLs7Hd",
            "name": "write_file",
            "kind": "tool_use",
            "input": {
                "path": "notes/haiku.txt",
                "mode": 420,
                "options": {"overwrite": True, "tags": ["haiku", "draft"]},
            },
            "caller": {"type": "direct"},
            "truncated": True,
        }
        final = final_message(capsys, "max_tokens_tool.sse")
        assert final["stop_reason"] == "max_tokens"
        assert final["content"][1]["input"] == lines[-1]["input"]
        assert "truncated" not in final["content"][1]

    def test_exclusive_with_other_modes(self, capsys: pytest.CaptureFixture[str]) -> None:
        """--tools cannot be combined with --final or --events."""
        with pytest.raises(SystemExit) as info:
            main(["replay", str(FIXTURES / "tool_use.sse"), "--tools", "--final"])
        assert info.value.code == 2
        assert "not allowed with" in capsys.readouterr().err
