"""messages.count_tokens over real HTTP against MockAnthropic with the count_tokens fake."""

from __future__ import annotations

import httpx
import msgspec
import pytest

import sluice
from sluice.testing import MockAnthropic, Reply, install_count_tokens
from sluice.types import MessageTokensCount

pytestmark = pytest.mark.anyio

MESSAGES = [{"role": "user", "content": "How many tokens is this?"}]


class TestCountTokens:
    async def test_counts_deterministically(
        self, server: MockAnthropic, client: sluice.AsyncClient
    ) -> None:
        """The request goes to /v1/messages/count_tokens and the fake's count is stable."""
        install_count_tokens(server)
        first = await client.messages.count_tokens(model="claude-sonnet-4-5", messages=MESSAGES)
        second = await client.messages.count_tokens(model="claude-sonnet-4-5", messages=MESSAGES)
        assert isinstance(first, MessageTokensCount)
        expected = len(msgspec.json.encode({"messages": MESSAGES})) // 4
        assert first.input_tokens == second.input_tokens == expected
        sent = server.requests[-1]
        assert (sent.method, sent.path) == ("POST", "/v1/messages/count_tokens")
        assert sent.json == {"model": "claude-sonnet-4-5", "messages": MESSAGES}
        info = sluice.response_info(second)
        assert info is not None and info.request_id == sent.request_id

    async def test_system_and_tools_count(
        self, server: MockAnthropic, client: sluice.AsyncClient
    ) -> None:
        """A system prompt and tools add to the count."""
        install_count_tokens(server)
        bare = await client.messages.count_tokens(model="m", messages=MESSAGES)
        fuller = await client.messages.count_tokens(
            model="m",
            messages=MESSAGES,
            system="You are terse.",
            tools=[{"name": "t", "input_schema": {"type": "object"}}],
        )
        assert fuller.input_tokens > bare.input_tokens

    async def test_missing_model_is_caught_before_sending(
        self, server: MockAnthropic, client: sluice.AsyncClient
    ) -> None:
        """A request without model raises ParamsError locally; nothing reaches the server."""
        install_count_tokens(server)
        with pytest.raises(sluice.ParamsError, match="model"):
            await client.messages.count_tokens(messages=MESSAGES)
        assert server.requests == []

    async def test_fake_validates_like_the_api(
        self, server: MockAnthropic, client: sluice.AsyncClient
    ) -> None:
        """The fake itself answers a request without model with a typed 400."""
        install_count_tokens(server)
        async with httpx.AsyncClient(timeout=10.0) as http:
            response = await http.post(
                f"{server.base_url}/v1/messages/count_tokens",
                json={"messages": MESSAGES},
                headers={"x-api-key": "k", "anthropic-version": "2023-06-01"},
            )
        assert response.status_code == 400
        assert response.json()["error"]["type"] == "invalid_request_error"

    async def test_betas_header_and_unknown_fields(
        self, server: MockAnthropic, client: sluice.AsyncClient
    ) -> None:
        """betas= sets anthropic-beta; extra response fields are kept for to_builtins."""
        server.enqueue(Reply.json({"input_tokens": 7, "context_management": {"original": 9}}))
        count = await client.messages.count_tokens(model="m", messages=MESSAGES, betas=["b-1"])
        assert count.input_tokens == 7
        assert server.requests[-1].headers["anthropic-beta"] == "b-1"
        assert sluice.to_builtins(count) == {
            "input_tokens": 7,
            "context_management": {"original": 9},
        }
