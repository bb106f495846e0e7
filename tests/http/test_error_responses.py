"""HTTP error responses: bounded reads, broken bodies, retries, and no secret in sight.

Over real HTTP on 127.0.0.1 against MockAnthropic, on asyncio and trio.
"""

from __future__ import annotations

import gzip
import pickle
import ssl
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio
import anyio.abc
import httpx
import pytest

import sluice
from sluice.testing import MockAnthropic, Reply

pytestmark = pytest.mark.anyio

TLS = ssl.create_default_context()
KEY = "sk-ant-api03-SECRET-never-shown"
OVERLOADED = b'{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}'


@asynccontextmanager
async def client_for(server: MockAnthropic, **kwargs: object) -> AsyncIterator[sluice.AsyncClient]:
    async with (
        httpx.AsyncClient(verify=TLS, timeout=10.0) as http,
        sluice.AsyncClient(
            api_key=KEY, base_url=server.base_url, http_client=http, **kwargs
        ) as client,
    ):
        yield client


class CountingStream(httpx.AsyncByteStream):
    def __init__(self, stream: httpx.AsyncByteStream, transport: CountingTransport) -> None:
        self._stream = stream
        self._transport = transport

    async def __aiter__(self) -> AsyncIterator[bytes]:
        async for chunk in self._stream:
            self._transport.received += len(chunk)
            yield chunk

    async def aclose(self) -> None:
        await self._stream.aclose()


class CountingTransport(httpx.AsyncHTTPTransport):
    """Counts the response body bytes the client pulled off the connection."""

    received = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await super().handle_async_request(request)
        assert isinstance(response.stream, httpx.AsyncByteStream)
        response.stream = CountingStream(response.stream, self)
        return response


class TestBoundedErrorBodies:
    async def test_huge_error_body_is_not_read_whole(self, mock_anthropic: MockAnthropic) -> None:
        """A 500 with a 32 MiB body raises after reading only its head."""
        body = b"<html>" + b"x" * (32 * 1024 * 1024)
        mock_anthropic.enqueue(Reply.json(body, status=500))
        transport = CountingTransport(verify=TLS)
        async with (
            httpx.AsyncClient(transport=transport, timeout=10.0) as http,
            sluice.AsyncClient(
                api_key=KEY, base_url=mock_anthropic.base_url, http_client=http, max_retries=0
            ) as client,
        ):
            with pytest.raises(sluice.InternalServerStatusError) as caught:
                await client.models.get("claude-x")
        assert transport.received < 1024 * 1024, transport.received
        assert caught.value.status_code == 500
        assert "<html>xxx" in str(caught.value)
        assert len(str(caught.value)) < 1000

    async def test_compressed_bomb_inflates_to_a_bound(self, mock_anthropic: MockAnthropic) -> None:
        """A small gzip error body that inflates to 64 MiB is cut at the bound, not inflated."""
        bomb = gzip.compress(b"{" + b" " * (64 * 1024 * 1024), compresslevel=9)
        assert len(bomb) < 100_000
        mock_anthropic.enqueue(Reply.json(bomb, status=500, headers={"content-encoding": "gzip"}))
        async with client_for(mock_anthropic, max_retries=0) as client:
            with pytest.raises(sluice.InternalServerStatusError) as caught:
                await client.models.get("claude-x")
        assert len(str(caught.value)) < 1000

    async def test_error_json_is_parsed(self, mock_anthropic: MockAnthropic) -> None:
        """The API's error JSON gives the message, type and request id."""
        mock_anthropic.enqueue(Reply.error(404, "not_found_error", "no such model"))
        async with client_for(mock_anthropic) as client:
            with pytest.raises(sluice.NotFoundError) as caught:
                await client.models.get("claude-x")
        error = caught.value
        assert (error.message, error.error_type) == ("no such model", "not_found_error")
        assert error.request_id == mock_anthropic.requests[-1].request_id


class TestBrokenErrorBodies:
    async def test_529_cut_short_is_retried_then_typed(self, mock_anthropic: MockAnthropic) -> None:
        """A 529 whose body breaks off mid-way still retries and ends as OverloadedStatusError."""
        for _ in range(3):
            mock_anthropic.enqueue(Reply.json(OVERLOADED, status=529, drop_after=15))
        async with client_for(mock_anthropic, max_retries=2) as client:
            with anyio.fail_after(20), pytest.raises(sluice.OverloadedStatusError) as caught:
                await client.models.get("claude-x")
        assert len(mock_anthropic.requests) == 3
        assert caught.value.status_code == 529

    async def test_529_with_broken_gzip_is_retried(self, mock_anthropic: MockAnthropic) -> None:
        """A 529 whose gzip body does not decompress is retried like any 529, then typed."""
        mock_anthropic.enqueue(
            Reply.json(
                b"\x1f\x8b\x08not gzip at all", status=529, headers={"content-encoding": "gzip"}
            ),
            Reply.json({"type": "model", "id": "claude-x", "display_name": "X", "created_at": "t"}),
        )
        async with client_for(mock_anthropic, max_retries=1) as client:
            with anyio.fail_after(20):
                model = await client.models.get("claude-x")
        assert model.id == "claude-x"
        assert len(mock_anthropic.requests) == 2


class TestBrokenSuccessBodies:
    async def test_a_200_cut_short_names_its_request_id(
        self, mock_anthropic: MockAnthropic
    ) -> None:
        """A 200 whose body breaks off is not retried (the request was processed) and is a
        typed connection error carrying the response's request-id."""
        model = {"type": "model", "id": "claude-x", "display_name": "X", "created_at": "t"}
        mock_anthropic.enqueue(Reply.json(model, drop_after=20))
        async with client_for(mock_anthropic, max_retries=2) as client:
            with anyio.fail_after(20), pytest.raises(sluice.APIConnectionError) as caught:
                await client.models.get("claude-x")
        request_id = mock_anthropic.requests[-1].request_id
        assert len(mock_anthropic.requests) == 1
        assert caught.value.request_id == request_id
        assert f"request-id {request_id}" in str(caught.value)
        assert "200 response" in str(caught.value)
        assert KEY not in str(caught.value) and KEY not in caught.value.curl()


class TestNoSecrets:
    async def test_status_error_and_its_response(self, mock_anthropic: MockAnthropic) -> None:
        """Neither a status error nor its response nor its request shows the key."""
        mock_anthropic.enqueue(Reply.error(401, "authentication_error", "invalid x-api-key"))
        async with client_for(mock_anthropic) as client:
            with pytest.raises(sluice.AuthenticationError) as caught:
                await client.models.get("claude-x")
        error = caught.value
        assert mock_anthropic.requests[-1].headers["x-api-key"] == KEY  # it was sent
        assert error.response is not None
        shown = [
            str(error),
            repr(error),
            repr(error.response),
            repr(error.response.request),
            repr(error.response.request.headers),
            str(dict(error.response.request.headers)),
            repr(vars(error)),
        ]
        for text in shown:
            assert KEY not in text
        assert error.response.request.headers["x-api-key"] == "<redacted>"
        assert KEY.encode() not in pickle.dumps(error)

    async def test_connection_error_cause(self) -> None:
        """A connection error's chained httpx cause carries a redacted request."""
        listener = await anyio.create_tcp_listener(local_host="127.0.0.1")
        port = listener.extra(anyio.abc.SocketAttribute.local_port)
        await listener.aclose()
        async with (
            httpx.AsyncClient(verify=TLS, timeout=2.0) as http,
            sluice.AsyncClient(
                api_key=KEY, base_url=f"http://127.0.0.1:{port}", http_client=http, max_retries=0
            ) as client,
        ):
            with pytest.raises(sluice.APIConnectionError) as caught:
                await client.models.get("claude-x")
        cause = caught.value.__cause__
        assert isinstance(cause, httpx.RequestError)
        assert KEY not in repr(cause.request.headers)
        assert KEY not in str(caught.value)

    async def test_stream_response_shows_no_key(self, mock_anthropic: MockAnthropic) -> None:
        """The response a stream holds carries the redacted request too."""
        mock_anthropic.enqueue(Reply.sse(b""))
        async with client_for(mock_anthropic) as client:
            with pytest.raises(sluice.IncompleteStreamError):
                async with client.messages.stream(
                    model="m", max_tokens=1, messages=[{"role": "user", "content": "x"}]
                ) as stream:
                    assert KEY not in repr(stream.response.request.headers)
                    await stream.final_message()

    def test_client_repr(self) -> None:
        """The client's repr, and its requester's, never show the key."""
        client = sluice.AsyncClient(api_key=KEY, base_url="http://127.0.0.1:9")
        assert KEY not in repr(client)
        assert KEY not in repr(vars(client))
