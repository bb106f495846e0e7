"""AsyncClient over httpx.MockTransport: headers, streaming API, errors, retries, secrets."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import msgspec
import pytest

import sluice
from _util import chunked, load
from sluice._core._retry import retry_delay, should_retry

pytestmark = pytest.mark.anyio

KEY = "sk-ant-test-SECRET-0123456789"


def sse_response(data: bytes, *, chunk: int = 4096, status: int = 200) -> httpx.Response:
    return httpx.Response(
        status,
        headers={"content-type": "text/event-stream", "request-id": "req_stream"},
        stream=httpx.ByteStream(b"") if not data else _Chunks(list(chunked(data, chunk))),
    )


class _Chunks(httpx.AsyncByteStream):
    def __init__(self, chunks: list[bytes]) -> None:
        self.chunks = chunks
        self.closed = False

    async def __aiter__(self):  # type: ignore[no-untyped-def]
        for chunk in self.chunks:
            yield chunk

    async def aclose(self) -> None:
        self.closed = True


def client_for(
    handler: Callable[[httpx.Request], httpx.Response], **kwargs: object
) -> sluice.AsyncClient:
    http = httpx.AsyncClient(transport=httpx.MockTransport(handler))
    return sluice.AsyncClient(api_key=KEY, http_client=http, **kwargs)  # type: ignore[arg-type]


def error_body(kind: str, message: str) -> bytes:
    return msgspec.json.encode({"type": "error", "error": {"type": kind, "message": message}})


class TestConfiguration:
    async def test_env_defaults(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """api_key and base_url default to ANTHROPIC_API_KEY and ANTHROPIC_BASE_URL."""
        monkeypatch.setenv("ANTHROPIC_API_KEY", KEY)
        monkeypatch.setenv("ANTHROPIC_BASE_URL", "http://127.0.0.1:9/api")
        async with sluice.AsyncClient() as client:
            assert str(client.base_url) == "http://127.0.0.1:9/api/"

    async def test_missing_key(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """No key anywhere is a clear error at construction."""
        monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
        with pytest.raises(sluice.SluiceError, match="ANTHROPIC_API_KEY"):
            sluice.AsyncClient()

    async def test_headers(self) -> None:
        """Requests carry x-api-key, anthropic-version, anthropic-beta and stream: true."""
        seen: list[httpx.Request] = []

        def handler(request: httpx.Request) -> httpx.Response:
            seen.append(request)
            return sse_response(load("text.sse"))

        async with client_for(handler, betas=["files-api-2025-04-14"]) as client:
            async with client.messages.stream(
                model="m",
                max_tokens=5,
                messages=[{"role": "user", "content": "Hi"}],
                betas=["extra-beta"],
            ) as stream:
                await stream.until_done()
        request = seen[0]
        assert request.url == "https://api.anthropic.com/v1/messages"
        assert request.headers["x-api-key"] == KEY
        assert request.headers["anthropic-version"] == "2023-06-01"
        assert request.headers["anthropic-beta"] == "files-api-2025-04-14,extra-beta"
        body = msgspec.json.decode(request.content)
        assert body == {
            "model": "m",
            "max_tokens": 5,
            "messages": [{"role": "user", "content": "Hi"}],
            "stream": True,
        }

    async def test_secret_never_in_repr_or_errors(self) -> None:
        """The API key appears in no repr, str or error message."""

        def handler(request: httpx.Request) -> httpx.Response:
            return httpx.Response(
                401, content=error_body("authentication_error", "invalid x-api-key")
            )

        client = client_for(handler, max_retries=0)
        assert KEY not in repr(client) and KEY not in str(vars(client))
        with pytest.raises(sluice.AuthenticationError) as info:
            async with client.messages.stream(
                model="m", max_tokens=1, messages=[{"role": "user", "content": "Hi"}]
            ):
                pass
        assert KEY not in str(info.value) and KEY not in repr(info.value)
        await client.aclose()


class TestStreaming:
    async def test_events_snapshot_and_final(self) -> None:
        """The stream yields typed events, keeps a snapshot and returns the final message."""
        async with client_for(lambda r: sse_response(load("tool_use.sse"), chunk=7)) as client:
            async with client.messages.stream(
                model="m", max_tokens=5, messages=[{"role": "user", "content": "Hi"}]
            ) as stream:
                first = await stream.__anext__()
                assert isinstance(first, sluice.MessageStart)
                assert stream.current_message_snapshot is not None
                message = await stream.final_message()
                assert stream.request_id == "req_stream"
                assert stream.response.status_code == 200
        assert message.stop_reason == "tool_use"
        tool = message.content[-1]
        assert isinstance(tool, sluice.ToolUseBlock)
        assert isinstance(tool.input, dict) and tool.input

    async def test_text_stream_and_final_text(self) -> None:
        """text_stream yields exactly the text deltas; final_text joins the text blocks."""
        async with client_for(lambda r: sse_response(load("text.sse"))) as client:
            async with client.messages.stream(
                model="m", max_tokens=5, messages=[{"role": "user", "content": "Hi"}]
            ) as stream:
                pieces = [piece async for piece in stream.text_stream]
                text = await stream.final_text()
        assert "".join(pieces) == text
        assert len(pieces) > 10

    async def test_break_closes_response(self) -> None:
        """Leaving the block after a break closes the response stream."""
        streams: list[_Chunks] = []

        def handler(request: httpx.Request) -> httpx.Response:
            response = sse_response(load("long_text.sse"), chunk=64)
            assert isinstance(response.stream, _Chunks)
            streams.append(response.stream)
            return response

        async with client_for(handler) as client:
            async with client.messages.stream(
                model="m", max_tokens=5, messages=[{"role": "user", "content": "Hi"}]
            ) as stream:
                async for _ in stream:
                    break
            assert stream.response.is_closed
        assert streams[0].closed

    async def test_in_stream_error(self) -> None:
        """An in-stream overloaded error raises OverloadedError with the partial text."""
        async with client_for(lambda r: sse_response(load("overloaded_error.sse"))) as client:
            async with client.messages.stream(
                model="m", max_tokens=5, messages=[{"role": "user", "content": "Hi"}]
            ) as stream:
                with pytest.raises(sluice.OverloadedError) as info:
                    await stream.final_message()
        assert isinstance(info.value, sluice.APIStreamError)
        partial = info.value.partial_message
        assert partial is not None and isinstance(partial.content[0], sluice.TextBlock)
        assert partial.content[0].text

    async def test_truncated(self) -> None:
        """A body that ends early raises IncompleteStreamError with the unparsed tail."""
        async with client_for(lambda r: sse_response(load("truncated.sse"))) as client:
            async with client.messages.stream(
                model="m", max_tokens=5, messages=[{"role": "user", "content": "Hi"}]
            ) as stream:
                with pytest.raises(sluice.IncompleteStreamError) as info:
                    await stream.final_message()
        assert info.value.unparsed.startswith(b"event:")
        assert info.value.partial_message is not None

    async def test_event_too_large(self) -> None:
        """An event over max_event_size raises EventTooLargeError carrying the partial message."""
        big = load("text.sse").replace(
            b'"text_delta","text":"', b'"text_delta","text":"' + b"x" * 5000, 3
        )
        assert len(big) > len(load("text.sse"))
        async with client_for(lambda r: sse_response(big), max_event_size=1024) as client:
            async with client.messages.stream(
                model="m", max_tokens=5, messages=[{"role": "user", "content": "Hi"}]
            ) as stream:
                with pytest.raises(sluice.EventTooLargeError) as info:
                    await stream.final_message()
        assert info.value.limit == 1024

    async def test_malformed_event(self) -> None:
        """A malformed data line raises EventDecodeError naming the event, with the partial."""
        data = load("text.sse")
        cut = data.index(b"content_block_delta", data.index(b"content_block_delta") + 50)
        bad = data[:cut] + data[cut:].replace(b'"text_delta"', b'"text_delta" oops', 1)
        async with client_for(lambda r: sse_response(bad)) as client:
            async with client.messages.stream(
                model="m", max_tokens=5, messages=[{"role": "user", "content": "Hi"}]
            ) as stream:
                with pytest.raises(sluice.EventDecodeError) as info:
                    await stream.final_message()
        assert info.value.event == "content_block_delta"
        assert info.value.partial_message is not None


class TestHTTPErrors:
    @pytest.mark.parametrize(
        ("status", "kind", "cls"),
        [
            (400, "invalid_request_error", sluice.BadRequestError),
            (401, "authentication_error", sluice.AuthenticationError),
            (403, "permission_error", sluice.PermissionDeniedError),
            (404, "not_found_error", sluice.NotFoundError),
            (413, "request_too_large", sluice.RequestTooLargeError),
            (429, "rate_limit_error", sluice.RateLimitError),
            (500, "api_error", sluice.InternalServerError),
            (529, "overloaded_error", sluice.OverloadedError),
        ],
    )
    async def test_status_errors_are_typed(self, status: int, kind: str, cls: type) -> None:
        """Each HTTP error status raises its class with status, request-id and body."""

        def handler(request: httpx.Request) -> httpx.Response:
            return httpx.Response(
                status,
                headers={"request-id": "req_err", "anthropic-ratelimit-requests-remaining": "0"},
                content=error_body(kind, "nope"),
            )

        async with client_for(handler, max_retries=0) as client:
            with pytest.raises(cls) as info:
                async with client.messages.stream(
                    model="m", max_tokens=1, messages=[{"role": "user", "content": "Hi"}]
                ):
                    pass
        err = info.value
        assert isinstance(err, sluice.APIStatusError)
        assert err.status_code == status
        assert err.request_id == "req_err"
        assert err.body["error"]["type"] == kind
        assert err.rate_limits is not None and err.rate_limits.requests_remaining == 0

    async def test_connection_error(self) -> None:
        """A transport failure on every attempt raises APIConnectionError, chained."""

        def handler(request: httpx.Request) -> httpx.Response:
            raise httpx.ConnectError("refused")

        async with client_for(handler, max_retries=1) as client:
            with pytest.raises(sluice.APIConnectionError) as info:
                await client.messages.create(
                    model="m", max_tokens=1, messages=[{"role": "user", "content": "Hi"}]
                )
        assert isinstance(info.value.__cause__, httpx.ConnectError)


class TestRetries:
    async def test_retries_529_then_succeeds(self) -> None:
        """A 529 with retry-after: 0 is retried and the stream then succeeds."""
        calls = []

        def handler(request: httpx.Request) -> httpx.Response:
            calls.append(request)
            if len(calls) == 1:
                return httpx.Response(
                    529,
                    headers={"retry-after": "0"},
                    content=error_body("overloaded_error", "busy"),
                )
            return sse_response(load("text.sse"))

        async with client_for(handler) as client:
            async with client.messages.stream(
                model="m", max_tokens=1, messages=[{"role": "user", "content": "Hi"}]
            ) as stream:
                message = await stream.final_message()
        assert len(calls) == 2
        assert message.stop_reason == "end_turn"

    async def test_should_retry_false_is_honoured(self) -> None:
        """x-should-retry: false stops retries even for a retryable status."""
        calls = []

        def handler(request: httpx.Request) -> httpx.Response:
            calls.append(request)
            return httpx.Response(
                500, headers={"x-should-retry": "false"}, content=error_body("api_error", "x")
            )

        async with client_for(handler) as client:
            with pytest.raises(sluice.InternalServerError):
                await client.messages.create(
                    model="m", max_tokens=1, messages=[{"role": "user", "content": "Hi"}]
                )
        assert len(calls) == 1

    async def test_gives_up_after_max_retries(self) -> None:
        """After max_retries retries the last error is raised."""
        calls = []

        def handler(request: httpx.Request) -> httpx.Response:
            calls.append(request)
            return httpx.Response(
                429, headers={"retry-after-ms": "1"}, content=error_body("rate_limit_error", "x")
            )

        async with client_for(handler, max_retries=2) as client:
            with pytest.raises(sluice.RateLimitError):
                await client.messages.create(
                    model="m", max_tokens=1, messages=[{"role": "user", "content": "Hi"}]
                )
        assert len(calls) == 3

    def test_delay_rules(self) -> None:
        """retry-after-ms wins over retry-after; huge values fall back to capped backoff."""
        assert retry_delay(0, {"retry-after-ms": "250", "retry-after": "9"}) == 0.25
        assert retry_delay(0, {"retry-after": "2"}) == 2.0
        assert retry_delay(10, {"retry-after": "3600"}) <= 8.0
        assert 0.375 <= retry_delay(0) <= 0.5
        assert retry_delay(1) <= 1.0

    def test_retryable_statuses(self) -> None:
        """408, 409, 429 and 5xx are retried; 400 is not; x-should-retry overrides."""
        assert all(should_retry(s, {}) for s in (408, 409, 429, 500, 503, 529))
        assert not should_retry(400, {})
        assert should_retry(400, {"x-should-retry": "true"})


class TestTextStreamBreak:
    async def test_break_out_of_text_stream_then_finish(self) -> None:
        """Breaking out of text_stream leaves the stream usable and warns about nothing."""
        import gc

        async with client_for(lambda r: sse_response(load("text.sse"))) as client:
            async with client.messages.stream(
                model="m", max_tokens=5, messages=[{"role": "user", "content": "Hi"}]
            ) as stream:
                async for _ in stream.text_stream:
                    break
                gc.collect()
                message = await stream.final_message()
        assert message.stop_reason == "end_turn"
