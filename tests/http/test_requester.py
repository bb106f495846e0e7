"""Per-request options and response decoding, shared by every endpoint, over real HTTP."""

from __future__ import annotations

import ssl
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

import anyio
import httpx
import pytest

import sluice
from sluice.testing import MockAnthropic, Reply

pytestmark = pytest.mark.anyio

TLS = ssl.create_default_context()
MESSAGE = {
    "type": "message",
    "id": "msg_1",
    "role": "assistant",
    "model": "claude-sonnet-4-5",
    "content": [{"type": "text", "text": "Hi"}],
    "stop_reason": "end_turn",
    "stop_sequence": None,
    "usage": {"input_tokens": 3, "output_tokens": 1},
}
PARAMS = {
    "model": "claude-sonnet-4-5",
    "max_tokens": 16,
    "messages": [{"role": "user", "content": "Hi"}],
}


@asynccontextmanager
async def client_for(server: MockAnthropic, **kwargs: object) -> AsyncIterator[sluice.AsyncClient]:
    async with (
        httpx.AsyncClient(verify=TLS, timeout=10.0) as http,
        sluice.AsyncClient(
            api_key="sk-test", base_url=server.base_url, http_client=http, **kwargs
        ) as client,
    ):
        yield client


class TestOptions:
    async def test_extra_body_and_query_and_headers(self, mock_anthropic: MockAnthropic) -> None:
        """extra_body merges into the JSON body, extra_query into the URL, extra_headers win."""
        mock_anthropic.enqueue(Reply.json(MESSAGE))
        async with client_for(mock_anthropic, default_headers={"x-team": "a"}) as client:
            await client.messages.create(
                **PARAMS,
                extra_body={"new_field": {"on": True}, "max_tokens": 32},
                extra_query={"trace": "1", "ids": ["a", "b"]},
                extra_headers={"x-team": "b", "anthropic-version": "2099-01-01"},
            )
        sent = mock_anthropic.requests[-1]
        assert sent.json["new_field"] == {"on": True}
        assert sent.json["max_tokens"] == 32
        assert sent.query == {"trace": ["1"], "ids": ["a", "b"]}
        assert sent.headers["x-team"] == "b"
        assert sent.headers["anthropic-version"] == "2099-01-01"

    async def test_betas_add_to_the_client_and_resource_betas_once(
        self, mock_anthropic: MockAnthropic
    ) -> None:
        """A method's betas join the client's; the Files beta is sent once, not twice."""
        mock_anthropic.enqueue(Reply.json({"data": [], "has_more": False}))
        async with client_for(mock_anthropic, betas=["b-client"]) as client:
            await client.files.list(betas=["b-call", "files-api-2025-04-14"]).to_list()
        betas = mock_anthropic.requests[-1].headers["anthropic-beta"].split(",")
        assert sorted(betas) == ["b-call", "b-client", "files-api-2025-04-14"]

    async def test_timeout_per_request(self, mock_anthropic: MockAnthropic) -> None:
        """timeout= bounds one request without changing the client's default."""
        mock_anthropic.enqueue(Reply.json(MESSAGE, stall_after=10))
        async with client_for(mock_anthropic, max_retries=0) as client:
            with anyio.fail_after(5), pytest.raises(sluice.APITimeoutError):
                await client.models.get("claude-x", timeout=0.2)
            assert client.timeout.read == 600.0

    async def test_extra_body_without_a_json_body_is_refused(
        self, mock_anthropic: MockAnthropic
    ) -> None:
        """extra_body on a request that sends no JSON body fails at once, naming the option."""
        async with client_for(mock_anthropic) as client:
            with pytest.raises(sluice.ParamsError) as caught:
                await client.models.get("claude-x", extra_body={"a": 1})
        assert caught.value.field == "extra_body"
        assert mock_anthropic.requests == []

    async def test_stream_takes_options(self, mock_anthropic: MockAnthropic) -> None:
        """messages.stream passes the options through and keeps "stream": true."""
        mock_anthropic.enqueue(Reply.sse(b""))
        async with client_for(mock_anthropic) as client:
            with pytest.raises(sluice.IncompleteStreamError):
                async with client.messages.stream(
                    **PARAMS, extra_body={"x": 1}, extra_headers={"x-y": "z"}
                ) as stream:
                    await stream.final_message()
        sent = mock_anthropic.requests[-1]
        assert sent.json["stream"] is True and sent.json["x"] == 1
        assert sent.headers["x-y"] == "z"
        assert sent.headers["accept"] == "text/event-stream"


class TestUnexpectedResponses:
    @pytest.mark.parametrize(
        "call",
        [
            lambda c: c.messages.create(**PARAMS),
            lambda c: c.models.get("claude-x"),
            lambda c: c.messages.batches.retrieve("msgbatch_1"),
            lambda c: c.models.list().to_list(),
        ],
        ids=["messages.create", "models.get", "batches.retrieve", "models.list"],
    )
    async def test_html_200_is_a_typed_error(
        self, mock_anthropic: MockAnthropic, call: Callable[[sluice.AsyncClient], Awaitable[object]]
    ) -> None:
        """A proxy's HTML page answered with 200 raises UnexpectedResponseError with its facts."""
        page = b"<html><body>Gateway login</body></html>"
        mock_anthropic.enqueue(Reply.json(page))
        async with client_for(mock_anthropic) as client:
            with pytest.raises(sluice.UnexpectedResponseError) as caught:
                await call(client)
        error = caught.value
        assert error.status_code == 200
        assert error.head == page
        assert error.request_id == mock_anthropic.requests[-1].request_id
        assert "Gateway login" in str(error)
        assert "sk-test" not in str(error)

    async def test_json_without_required_fields(self, mock_anthropic: MockAnthropic) -> None:
        """JSON of another shape is an UnexpectedResponseError too, saying what is missing."""
        mock_anthropic.enqueue(Reply.json({"type": "message", "content": []}))
        async with client_for(mock_anthropic) as client:
            with pytest.raises(sluice.UnexpectedResponseError, match="id"):
                await client.messages.create(**PARAMS)

    @pytest.mark.parametrize("missing", ["type", "role", "model", "content", "usage"])
    async def test_a_message_missing_a_required_field(
        self, mock_anthropic: MockAnthropic, missing: str
    ) -> None:
        """A create reply must be a whole message: the fields its stream snapshot may
        default (model, content, usage...) are required, and named when missing."""
        whole = {
            "id": "msg_1",
            "type": "message",
            "role": "assistant",
            "model": "claude-sonnet-4-5",
            "content": [{"type": "text", "text": "Hi"}],
            "stop_reason": "end_turn",
            "stop_sequence": None,
            "usage": {"input_tokens": 3, "output_tokens": 1},
        }
        mock_anthropic.enqueue(Reply.json(whole))
        mock_anthropic.enqueue(Reply.json({k: v for k, v in whole.items() if k != missing}))
        async with client_for(mock_anthropic) as client:
            message = await client.messages.create(**PARAMS)
            assert message.content[0].text == "Hi"  # type: ignore[union-attr]
            with pytest.raises(sluice.UnexpectedResponseError, match=f"`{missing}`") as caught:
                await client.messages.create(**PARAMS)
        assert caught.value.request_id == mock_anthropic.requests[-1].request_id


class TestStreamsNeedAnEventStream:
    async def test_json_200_for_a_stream(self, mock_anthropic: MockAnthropic) -> None:
        """A 200 that is not text/event-stream raises on enter, naming the type, showing bytes."""
        mock_anthropic.enqueue(Reply.json(b"<html><body>Sign in to the proxy</body></html>"))
        async with client_for(mock_anthropic) as client:
            with pytest.raises(sluice.UnexpectedResponseError) as caught:
                async with client.messages.stream(**PARAMS):
                    pass
        error = caught.value
        assert error.content_type == "application/json"
        assert error.head.startswith(b"<html><body>Sign in")
        assert "content-type 'application/json'" in str(error)
        assert error.request_id == mock_anthropic.requests[-1].request_id

    async def test_completions_stream_too(self, mock_anthropic: MockAnthropic) -> None:
        """The legacy completions stream checks the content type the same way."""
        mock_anthropic.enqueue(Reply.json({"completion": "Hi", "stop_reason": "max_tokens"}))
        async with client_for(mock_anthropic) as client:
            with pytest.raises(sluice.UnexpectedResponseError):
                async with client.completions.stream(
                    model="claude-2.1", prompt="\n\nHuman: Hi\n\nAssistant:", max_tokens_to_sample=5
                ):
                    pass
