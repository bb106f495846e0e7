"""python -m sluice replay: live text, --events JSON lines, --final JSON, failures."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from _util import FIXTURES, load
from sluice.__main__ import main


def replay(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["replay", *args])
    out, err = capsys.readouterr()
    return code, out, err


class TestReplay:
    def test_prints_live_text(self, capsys: pytest.CaptureFixture[str]) -> None:
        """The default mode prints the text of the message."""
        code, out, _ = replay(capsys, str(FIXTURES / "text.sse"))
        assert code == 0
        final = json.loads(replay(capsys, str(FIXTURES / "text.sse"), "--final")[1])
        assert out.strip() == final["content"][0]["text"].strip()

    def test_events_are_json_lines(self, capsys: pytest.CaptureFixture[str]) -> None:
        """--events prints one JSON object per event, with wire type names."""
        code, out, _ = replay(capsys, str(FIXTURES / "thinking.sse"), "--events")
        assert code == 0
        events = [json.loads(line) for line in out.splitlines()]
        assert events[0]["type"] == "message_start"
        assert events[-1] == {"type": "message_stop"}
        assert len(events) == load("thinking.sse").count(b"\n\n")

    def test_final_uses_api_field_names(self, capsys: pytest.CaptureFixture[str]) -> None:
        """--final prints the final message as the API would return it."""
        code, out, _ = replay(capsys, str(FIXTURES / "tool_use.sse"), "--final")
        assert code == 0
        message = json.loads(out)
        assert message["type"] == "message" and message["stop_reason"] == "tool_use"
        assert message["content"][-1]["type"] == "tool_use"
        assert message["content"][-1]["input"]

    def test_error_reports_and_fails(self, capsys: pytest.CaptureFixture[str]) -> None:
        """An in-stream error prints the text received, then the error, and exits 1."""
        code, out, err = replay(capsys, str(FIXTURES / "overloaded_error.sse"))
        assert code == 1
        assert out.strip()
        assert "OverloadedStreamError" in err

    def test_truncated_final_shows_partial(self, capsys: pytest.CaptureFixture[str]) -> None:
        """--final on a truncated stream reports the error and the partial message."""
        code, _, err = replay(capsys, str(FIXTURES / "truncated.sse"), "--final")
        assert code == 1
        assert "IncompleteStreamError" in err and "partial message" in err

    def test_module_entry_point(self) -> None:
        """`python -m sluice replay FILE` works as a command."""
        result = subprocess.run(
            [sys.executable, "-m", "sluice", "replay", str(FIXTURES / "crlf.sse")],
            capture_output=True,
            text=True,
            check=True,
        )
        assert result.stdout.strip()
