"""The ``mock_anthropic`` fixture under each runner: anyio's plugin, pytest-trio, trio_mode."""

from __future__ import annotations

import textwrap
from typing import Any

import httpx
import pytest
import sniffio

import sluice
from sluice.testing import MockAnthropic, Reply

MESSAGE_EVENTS: list[dict[str, Any]] = [
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
            "usage": {"input_tokens": 3, "output_tokens": 1},
        },
    },
    {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}},
    {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "Hi"}},
    {"type": "content_block_stop", "index": 0},
    {
        "type": "message_delta",
        "delta": {"stop_reason": "end_turn", "stop_sequence": None},
        "usage": {"output_tokens": 2},
    },
    {"type": "message_stop"},
]


async def streamed_text(server: MockAnthropic) -> str:
    """Stream one message from ``server`` through sluice.AsyncClient; its final text."""
    server.enqueue(Reply.events(MESSAGE_EVENTS))
    async with (
        sluice.AsyncClient(api_key="test", base_url=server.base_url) as client,
        client.messages.stream(
            model="m", max_tokens=10, messages=[{"role": "user", "content": "Hi"}]
        ) as stream,
    ):
        return await stream.final_text()


class TestUnderAnyio:
    pytestmark = pytest.mark.anyio

    async def test_fixture_runs_on_the_tests_backend(
        self, mock_anthropic: MockAnthropic, anyio_backend: str
    ) -> None:
        """Under anyio's plugin the server runs in the test's loop, on each backend."""
        assert sniffio.current_async_library() == anyio_backend
        assert await streamed_text(mock_anthropic) == "Hi"


class TestUnderPytestTrio:
    pytestmark = pytest.mark.trio

    async def test_fixture_runs_in_pytest_trios_loop(
        self, mock_anthropic: MockAnthropic, request: pytest.FixtureRequest
    ) -> None:
        """A @pytest.mark.trio test gets a live server from pytest-trio, not parametrized."""
        assert sniffio.current_async_library() == "trio"
        assert "anyio_backend" not in request.fixturenames
        assert await streamed_text(mock_anthropic) == "Hi"
        assert mock_anthropic.requests[0].json["stream"] is True

    async def test_reply_functions_run_in_the_same_loop(
        self, mock_anthropic: MockAnthropic
    ) -> None:
        """The server answers from pytest-trio's loop: a reply function sees trio running."""
        libraries: list[str] = []

        def reply(request: object) -> Reply:
            libraries.append(sniffio.current_async_library())
            return Reply.json({"ok": True})

        mock_anthropic.route("GET", "/v1/ping", reply)
        async with httpx.AsyncClient(base_url=mock_anthropic.base_url) as http:
            assert (await http.get("/v1/ping")).json() == {"ok": True}
        assert libraries == ["trio"]

    async def test_suites_shared_fixtures_work_too(
        self, server: MockAnthropic, client: sluice.AsyncClient
    ) -> None:
        """conftest's server and client, built on mock_anthropic, run under pytest-trio too."""
        server.enqueue(Reply.events(MESSAGE_EVENTS))
        async with client.messages.stream(
            model="m", max_tokens=10, messages=[{"role": "user", "content": "Hi"}]
        ) as stream:
            assert await stream.final_text() == "Hi"


TRIO_MODE_TESTS = textwrap.dedent(
    """
    from collections.abc import AsyncIterator

    import pytest
    import sniffio

    import sluice
    from sluice.testing import MockAnthropic, Reply

    EVENTS = {events!r}
    HI = [{{"role": "user", "content": "Hi"}}]


    @pytest.fixture
    async def client(mock_anthropic: MockAnthropic) -> AsyncIterator[sluice.AsyncClient]:
        async with sluice.AsyncClient(api_key="test", base_url=mock_anthropic.base_url) as c:
            yield c


    async def test_stream(mock_anthropic: MockAnthropic, client: sluice.AsyncClient) -> None:
        assert sniffio.current_async_library() == "trio"
        mock_anthropic.enqueue(Reply.events(EVENTS))
        async with client.messages.stream(model="m", max_tokens=10, messages=HI) as stream:
            assert await stream.final_text() == "Hi"


    async def test_error(mock_anthropic: MockAnthropic, client: sluice.AsyncClient) -> None:
        mock_anthropic.enqueue(Reply.error(400, "invalid_request_error", "bad"))
        with pytest.raises(sluice.BadRequestError):
            async with client.messages.stream(model="m", max_tokens=10, messages=HI) as s:
                await s.final_text()
    """
).format(events=MESSAGE_EVENTS)


class TestTrioModeInASubprocess:
    @pytest.mark.parametrize(
        "plugins",
        [["-p", "trio"], ["-p", "trio", "-p", "no:anyio"]],
        ids=["with-anyio-plugin", "without-anyio-plugin"],
    )
    def test_trio_mode_suite_passes(self, pytester: pytest.Pytester, plugins: list[str]) -> None:
        """A trio_mode suite using mock_anthropic passes, with or without anyio's plugin."""
        pytester.makeini("[pytest]\ntrio_mode = true\nfilterwarnings = error\n")
        pytester.makepyfile(test_trio_mode=TRIO_MODE_TESTS)
        result = pytester.runpytest_subprocess(*plugins, "-p", "no:cacheprovider", timeout=120)
        result.assert_outcomes(passed=2)
