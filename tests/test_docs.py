"""The README's Python examples and examples/ actually run (against the local mock API)."""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path

import anyio
import pytest

from _util import load
from sluice.testing import MockAnthropic, RecordedRequest, Reply

ROOT = Path(__file__).resolve().parent.parent
BLOCKS = re.findall(r"```python\n(.*?)```", (ROOT / "README.md").read_text(), re.S)

pytestmark = pytest.mark.anyio


def reply_for(request: RecordedRequest) -> Reply:
    """Requests that offer tools get a recorded tool-use turn; others a text answer."""
    wants_tools = isinstance(request.json, dict) and bool(request.json.get("tools"))
    return Reply.sse(load("tool_use.sse" if wants_tools else "text.sse"))


async def run_python(code: str, server: MockAnthropic) -> str:
    env = {
        **os.environ,
        "ANTHROPIC_API_KEY": "sk-readme",
        "ANTHROPIC_BASE_URL": server.base_url,
    }
    result = await anyio.run_process([sys.executable, "-c", code], env=env, cwd=ROOT, check=False)
    assert result.returncode == 0, result.stderr.decode()
    return result.stdout.decode()


class TestReadme:
    def test_readme_opens_with_the_two_commands(self) -> None:
        """The first code block of the README is `make demo` then `make test`."""
        first = re.search(r"```sh\n(.*?)```", (ROOT / "README.md").read_text(), re.S)
        assert first is not None
        commands = [line.split("#")[0].strip() for line in first.group(1).splitlines()]
        assert commands[:2] == ["make demo", "make test"]

    @pytest.mark.parametrize("index", range(len(BLOCKS)))
    async def test_python_blocks_run(self, index: int) -> None:
        """Each ```python block of the README runs to completion and prints something."""
        async with MockAnthropic(default=reply_for) as server:
            out = await run_python(BLOCKS[index], server)
        assert out.strip()


class TestExamples:
    async def test_demo_runs_offline(self) -> None:
        """examples/demo.py streams over real HTTP and ends with the message summary."""
        env = {k: v for k, v in os.environ.items() if k != "ANTHROPIC_API_KEY"}
        result = await anyio.run_process(
            [sys.executable, str(ROOT / "examples" / "demo.py"), "--delay", "0"],
            env=env,
            check=False,
        )
        out = result.stdout.decode()
        assert result.returncode == 0, result.stderr.decode()
        assert "stop_reason end_turn" in out
        assert "usage" in out

    async def test_demo_runs_on_trio(self) -> None:
        """The demo runs on trio too."""
        result = await anyio.run_process(
            [
                sys.executable,
                str(ROOT / "examples" / "demo.py"),
                "--delay",
                "0",
                "--backend",
                "trio",
            ],
            check=False,
        )
        assert result.returncode == 0, result.stderr.decode()
