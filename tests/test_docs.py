"""The README's Python examples and examples/ actually run (against the local mock API)."""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path

import anyio
import pytest

from _util import load
from sluice import EventStreamDecoder, MessageAccumulator, to_json
from sluice.testing import (
    MockAnthropic,
    RecordedRequest,
    Reply,
    install_admin,
    install_batches,
    install_completions,
    install_count_tokens,
    install_files,
    install_models,
    install_skills,
)

ROOT = Path(__file__).resolve().parent.parent
BLOCKS = re.findall(r"```python\n(.*?)```", (ROOT / "README.md").read_text(), re.S)

pytestmark = pytest.mark.anyio


def final_message_json(name: str) -> bytes:
    """The final message of a recorded transcript, as a non-streaming response body."""
    decoder = EventStreamDecoder()
    acc = MessageAccumulator()
    for event in [*decoder.feed(load(name)), *decoder.close()]:
        acc.feed(event)
    return to_json(acc.finish())


def answers_a_tool_call(body: dict[str, object]) -> bool:
    """Whether the request's last message carries tool results (an agent loop's next step)."""
    messages = body.get("messages")
    last = messages[-1] if isinstance(messages, list) and messages else None
    content = last.get("content") if isinstance(last, dict) else None
    return isinstance(content, list) and any(
        isinstance(block, dict) and block.get("type") == "tool_result" for block in content
    )


def reply_for(request: RecordedRequest) -> Reply:
    """Tool requests get a recorded tool-use turn (a text answer once they answer one),
    others a text answer; whole or streamed."""
    body = request.json if isinstance(request.json, dict) else {}
    calls_tools = body.get("tools") and not answers_a_tool_call(body)
    name = "tool_use.sse" if calls_tools else "text.sse"
    if body.get("stream"):
        return Reply.sse(load(name))
    return Reply.json(final_message_json(name))


def install_fakes(server: MockAnthropic) -> None:
    """Every endpoint family the README shows, answered in memory."""
    install_models(server)
    install_batches(server, complete_after=1)
    install_count_tokens(server)
    install_completions(server)
    install_files(server)
    install_skills(server)
    install_admin(server)


async def run_python(code: str, server: MockAnthropic, redis_url: str) -> str:
    env = {
        **os.environ,
        "ANTHROPIC_API_KEY": "sk-readme",
        "ANTHROPIC_BASE_URL": server.base_url,
        "ANTHROPIC_ADMIN_KEY": "sk-ant-admin-readme",
        "REDIS_URL": redis_url,  # the rate limits shared through Redis
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
    async def test_python_blocks_run(self, index: int, redis_url: str) -> None:
        """Each ```python block of the README runs to completion and prints something
        (against the mock API and, for the limits shared through Redis, a redis-server)."""
        async with MockAnthropic(default=reply_for) as server:
            install_fakes(server)
            out = await run_python(BLOCKS[index], server, redis_url)
        assert out.strip()

    async def test_shared_limits_example(self, redis_url: str) -> None:
        """The example of limits shared through Redis sends four requests in all and holds
        two back, with no 429."""
        (block,) = [b for b in BLOCKS if "shared_limits=REDIS" in b]
        async with MockAnthropic() as server:
            out = await run_python(block, server, redis_url)
        lines = out.splitlines()
        assert sum(line.endswith(" sent") for line in lines) == 4
        assert sum("held back" in line for line in lines) == 2
        assert lines[-1] == "4 requests reached the API, 0 answered 429"


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

    @pytest.mark.parametrize("backend", ["asyncio", "trio"])
    async def test_agent_example_runs_offline(self, backend: str) -> None:
        """examples/agent.py runs its three steps over real HTTP, tools starting early."""
        env = {k: v for k, v in os.environ.items() if k != "ANTHROPIC_API_KEY"}
        script = str(ROOT / "examples" / "agent.py")
        result = await anyio.run_process(
            [sys.executable, "-W", "error", script, "--delay", "0.005", "--backend", backend],
            env=env,
            check=False,
        )
        out = result.stdout.decode()
        assert result.returncode == 0, result.stderr.decode()
        lines = [line.split("s  ", 1)[1] for line in out.splitlines() if "s  " in line]
        step2 = lines[lines.index("step 2: request sent") :]
        # The paused turn is sent back, nothing runs; then the tools start before the
        # message of step 2 is complete, and the failing one is answered with its error.
        assert "step ends: pause_turn" in lines[: lines.index("step 2: request sent")]
        assert step2.index("  -> get_weather starts {'city': 'Paris'}") < step2.index(
            "  message complete"
        )
        assert "  <- book_hotel error: No rooms left in Lyon for 1 nights." in step2
        assert any(line.startswith("  <- write_notes ok: wrote 129 characters") for line in step2)
        assert "step ends: end_turn, run ends (end_turn)" in lines
        assert "notes file: 129 characters, as streamed: True" in out
        assert "3 steps, messages: user assistant user assistant" in out

    @pytest.mark.parametrize("backend", ["asyncio", "trio"])
    async def test_operators_example_runs_offline(self, backend: str) -> None:
        """examples/operators.py runs its three scenes over real HTTP, on either backend."""
        env = {k: v for k, v in os.environ.items() if k != "ANTHROPIC_API_KEY"}
        script = str(ROOT / "examples" / "operators.py")
        result = await anyio.run_process(
            [sys.executable, "-W", "error", script, "--delay", "0", "--backend", backend],
            env=env,
            check=False,
        )
        out = result.stdout.decode()
        assert result.returncode == 0, result.stderr.decode()
        # 1: the tool call's input paths complete one by one, then the whole call.
        assert "create_calendar_event #1: completed title" in out
        assert "create_calendar_event #1 complete -> ran create_calendar_event(" in out
        assert "stop_reason: tool_use" in out
        # 2: paused from another task, bounded buffer, nothing lost.
        paused_after = int(out.split("[paused after ")[1].split(" deltas")[0])
        assert 20 <= paused_after <= 385
        buffered = int(out.split("[resuming: ")[1].split(" events")[0])
        assert 0 <= buffered <= 64
        assert "painted 385 deltas, 3534 characters, 906 output tokens" in out
        # 3: both subscribers got every event, with ids 1..52.
        assert out.count("52 frames, last 'id: 52'") == 2
        assert "decodes back to 52 events, ending 'message_stop'" in out

    @pytest.mark.parametrize("backend", ["asyncio", "trio"])
    async def test_resilience_example_runs_offline(self, backend: str) -> None:
        """examples/resilience.py plays its six scenes over real HTTP, on either backend."""
        env = {k: v for k, v in os.environ.items() if k != "ANTHROPIC_API_KEY"}
        script = str(ROOT / "examples" / "resilience.py")
        result = await anyio.run_process(
            [sys.executable, "-W", "error", script, "--backend", backend], env=env, check=False
        )
        out = result.stdout.decode()
        assert result.returncode == 0, result.stderr.decode()
        assert "1 wait(s) for capacity" in out
        assert "closed -> open (3 failures in a row)" in out
        assert "refused at once, unsent (0 requests)" in out
        assert "moved from 127.0.0.1 to backup: HTTP 529" in out
        assert "answered by claude-haiku-4-5" in out
        # The recovery's log line lands mid-sentence: the text is whole around it.
        assert "Rivers begin as rain on high" in out and " ground and run to the sea." in out
        assert "2 requests, one stream" in out
        assert "backup: ok" in out and "down (HTTP 503)" in out
        assert "sk-ant-demo-SECRET" not in out
        # 12 x $3 + 5 x $15 + 3,000 x $0.30 and 12 x $3 + 9 x $15, per million tokens.
        assert "refused before sending (0 requests): requests_per_day 2 of 2" in out
        assert "2 requests, 3038 tokens (3000 read from the cache): $0.001182" in out
        assert "the cache saved $0.008100" in out
        assert "cost_per_month $0.001182 used, $50.00 left" in out
