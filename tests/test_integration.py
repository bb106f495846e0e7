"""End to end over real HTTP: AsyncClient against the mock API on 127.0.0.1."""

from __future__ import annotations

import anyio
import httpx
import pytest

import sluice
from _util import load
from sluice.testing import MockAnthropic, Reply

pytestmark = pytest.mark.anyio


def make_client(server: MockAnthropic, **kwargs: object) -> sluice.AsyncClient:
    return sluice.AsyncClient(api_key="sk-test", base_url=server.base_url, **kwargs)  # type: ignore[arg-type]


async def stream_final(client: sluice.AsyncClient) -> sluice.Message:
    async with client.messages.stream(
        model="m", max_tokens=10, messages=[{"role": "user", "content": "Hi"}]
    ) as stream:
        return await stream.final_message()


class TestStreaming:
    async def test_streams_transcript(self) -> None:
        """A paced transcript streams over real HTTP into the right final message."""
        async with MockAnthropic() as server:
            server.enqueue(Reply.sse(load("thinking.sse"), delay=0.001))
            async with make_client(server) as client:
                async with client.messages.stream(
                    model="m", max_tokens=10, messages=[{"role": "user", "content": "Hi"}]
                ) as stream:
                    kinds = [event.type async for event in stream]
                    message = await stream.final_message()
                    assert stream.request_id and stream.request_id.startswith("req_")
        assert kinds[0] == "message_start" and kinds[-1] == "message_stop"
        assert [block.type for block in message.content] == ["thinking", "text"]
        request = server.requests[0]
        assert request.path == "/v1/messages"
        assert request.json is not None and request.json["stream"] is True
        assert request.headers["anthropic-version"] == "2023-06-01"

    async def test_mid_stream_error(self) -> None:
        """An error event injected mid-stream raises OverloadedError with the partial text."""
        async with MockAnthropic() as server:
            server.enqueue(
                Reply.sse(load("text.sse"), inject_error=(8, "overloaded_error", "Overloaded"))
            )
            async with make_client(server) as client:
                with pytest.raises(sluice.OverloadedError) as info:
                    await stream_final(client)
        err = info.value
        assert isinstance(err, sluice.APIStreamError)
        assert err.partial_message is not None and err.partial_message.content

    async def test_truncation_by_dropped_connection(self) -> None:
        """A connection dropped mid-body raises IncompleteStreamError with what arrived."""
        data = load("long_text.sse")
        async with MockAnthropic() as server:
            server.enqueue(Reply.sse(data, drop_after=len(data) // 2))
            async with make_client(server) as client:
                with pytest.raises(sluice.IncompleteStreamError) as info:
                    await stream_final(client)
        partial = info.value.partial_message
        assert partial is not None
        assert isinstance(partial.content[0], sluice.TextBlock) and partial.content[0].text

    async def test_retry_after_529(self) -> None:
        """A 529 with retry-after is retried and the retry streams normally."""
        async with MockAnthropic() as server:
            server.enqueue(
                Reply.error(529, "overloaded_error", "Overloaded", headers={"retry-after": "0"}),
                Reply.sse(load("text.sse")),
            )
            async with make_client(server) as client:
                message = await stream_final(client)
        assert message.stop_reason == "end_turn"
        assert len(server.requests) == 2

    async def test_status_error_over_http(self) -> None:
        """A 400 is not retried and raises BadRequestError with the server's request id."""
        async with MockAnthropic() as server:
            server.enqueue(Reply.error(400, "invalid_request_error", "max_tokens: required"))
            async with make_client(server) as client:
                with pytest.raises(sluice.BadRequestError) as info:
                    await stream_final(client)
        assert info.value.message == "max_tokens: required"
        assert info.value.request_id and info.value.request_id.startswith("req_")
        assert len(server.requests) == 1

    async def test_dropped_request_is_connection_error(self) -> None:
        """A server that closes without answering gives APIConnectionError after retries."""
        async with MockAnthropic() as server:
            server.enqueue(Reply.drop(), Reply.drop())
            async with make_client(server, max_retries=1) as client:
                with pytest.raises(sluice.APIConnectionError):
                    await stream_final(client)
        assert len(server.requests) == 2

    async def test_early_break_releases_connection(self) -> None:
        """Breaking out of the loop closes the response and frees the connection."""
        async with MockAnthropic() as server:
            server.enqueue(
                Reply.sse(load("long_text.sse"), delay=0.01), Reply.sse(load("text.sse"))
            )
            async with httpx.AsyncClient() as http:
                client = make_client(server, http_client=http)
                async with client.messages.stream(
                    model="m", max_tokens=10, messages=[{"role": "user", "content": "Hi"}]
                ) as stream:
                    async for _ in stream:
                        break
                assert stream.response.is_closed
                pool = http._transport._pool  # type: ignore[attr-defined]
                assert all(not conn.is_connecting() for conn in pool.connections)
                assert not pool._requests  # no request still holds a connection
                # The client is still usable for the next stream.
                message = await stream_final(client)
        assert message.stop_reason == "end_turn"

    async def test_cancellation_releases_connection(self) -> None:
        """Cancelling a consumer mid-stream closes the response (no leak, no warning)."""
        async with MockAnthropic() as server:
            server.enqueue(Reply.sse(load("long_text.sse"), stall_after=2000))
            async with make_client(server) as client:
                with anyio.move_on_after(0.3):
                    async with client.messages.stream(
                        model="m", max_tokens=10, messages=[{"role": "user", "content": "Hi"}]
                    ) as stream:
                        await stream.until_done()
                assert stream.response.is_closed
