"""``sluice.build_request`` and ``sluice.status_error``: the request side without sluice's HTTP.

The requests are sent with the standard library's ``urllib`` (in a worker thread) to the
mock API over real HTTP, as a program on another HTTP library would send them.
"""

from __future__ import annotations

import json
import os
import pickle
import urllib.error
import urllib.request
from unittest import mock

import anyio
import pytest

import sluice
from _util import load
from sluice.testing import MockAnthropic, Reply

KEY = "sk-ant-build-request-key"
PARAMS = {
    "model": "claude-sonnet-4-5",
    "max_tokens": 64,
    "messages": [{"role": "user", "content": "Hi"}],
}


def send(request: sluice.types.PreparedRequest) -> tuple[int, list[tuple[str, str]], bytes]:
    """Send ``request`` with urllib; the status, header pairs and body, errors included."""
    req = urllib.request.Request(
        request.url, data=request.body, headers=request.headers, method=request.method
    )
    try:
        with urllib.request.urlopen(req, timeout=10) as response:
            return response.status, list(response.headers.items()), response.read()
    except urllib.error.HTTPError as error:
        with error:
            return error.code, list(error.headers.items()), error.read()


class TestBuildRequest:
    def test_what_the_client_would_send(self) -> None:
        """Method, URL, headers and a JSON body with ``stream: true``."""
        request = sluice.build_request(
            PARAMS, api_key=KEY, base_url="http://127.0.0.1:9/", betas=["b1", "b1", "b2"]
        )
        assert (request.method, request.url) == ("POST", "http://127.0.0.1:9/v1/messages")
        assert request.headers["x-api-key"] == KEY
        assert request.headers["anthropic-version"] == "2023-06-01"
        assert request.headers["accept"] == "text/event-stream"
        assert request.headers["anthropic-beta"] == "b1,b2"
        assert json.loads(request.body) == {**PARAMS, "stream": True}
        assert request.stream is True

    def test_not_streamed(self) -> None:
        """``stream=False`` leaves ``stream`` out of the body and asks for JSON."""
        request = sluice.build_request({**PARAMS, "stream": True}, api_key=KEY, stream=False)
        assert "stream" not in json.loads(request.body)
        assert request.headers["accept"] == "application/json"
        assert request.url == "https://api.anthropic.com/v1/messages"

    def test_key_and_url_from_the_environment(self) -> None:
        env = {"ANTHROPIC_API_KEY": KEY, "ANTHROPIC_BASE_URL": "http://localhost:1234"}
        with mock.patch.dict(os.environ, env):
            request = sluice.build_request(PARAMS)
        assert request.headers["x-api-key"] == KEY
        assert request.url == "http://localhost:1234/v1/messages"

    def test_the_key_never_shows(self) -> None:
        """The repr names the headers, not their values; pickling is refused."""
        request = sluice.build_request(PARAMS, api_key=KEY)
        assert KEY not in repr(request) and KEY not in str(request)
        assert "x-api-key" in repr(request)
        with pytest.raises(TypeError, match="not pickled"):
            pickle.dumps(request)

    def test_params_are_checked_as_the_client_checks_them(self) -> None:
        with pytest.raises(sluice.ParamsError, match="temperature") as info:
            sluice.build_request({**PARAMS, "temprature": 0.5}, api_key=KEY)
        assert info.value.field == "temprature"
        with pytest.raises(sluice.ParamsError, match="max_tokens"):
            sluice.build_request({**PARAMS, "max_tokens": 0}, api_key=KEY)
        with pytest.raises(sluice.ParamsError, match="messages"):
            sluice.build_request({**PARAMS, "messages": []}, api_key=KEY)

    @pytest.mark.parametrize("key", ["", " sk-x", "sk-x\n", "sk x", None])
    def test_bad_keys_are_refused_before_anything_is_built(self, key: str | None) -> None:
        with mock.patch.dict(os.environ, {}, clear=True):
            with pytest.raises(sluice.ConfigError) as info:
                sluice.build_request(PARAMS, api_key=key)
        if key:
            assert key.strip() not in str(info.value)


class TestStatusError:
    def test_typed_from_any_header_case(self) -> None:
        """Title-case header names (as urllib and requests give them) are read."""
        body = b'{"type":"error","error":{"type":"rate_limit_error","message":"slow down"}}'
        error = sluice.status_error(429, {"Retry-After": "7", "Request-Id": "req_1"}, body)
        assert isinstance(error, sluice.RateLimitStatusError)
        assert error.rate_limits.retry_after == 7
        assert error.request_id == "req_1"
        assert error.error_type == "rate_limit_error"
        assert "slow down" in str(error)

    def test_pairs_and_unknown_bodies(self) -> None:
        error = sluice.status_error(502, [("Content-Type", "text/html")], b"<html>bad gateway")
        assert isinstance(error, sluice.APIStatusError)
        assert error.status_code == 502
        assert "bad gateway" in str(error)

    def test_only_the_head_of_a_huge_body_is_read(self) -> None:
        error = sluice.status_error(500, {}, b"x" * (10 * 1024 * 1024))
        assert isinstance(error, sluice.InternalServerError)
        assert len(str(error)) < 1000

    def test_a_body_that_is_not_text_is_shown_escaped(self) -> None:
        """NULs and bytes that are not UTF-8 never reach the message raw."""
        error = sluice.status_error(400, {"request-id": "req_1"}, b"\x00\x01\xffPNG\x89")
        text = str(error)
        assert "not text" in text and "\\x00\\x01\\xffPNG\\x89" in text
        assert "\x00" not in text and "\ufffd" not in text

    def test_text_cut_inside_a_character_stays_text(self) -> None:
        """A head that ends inside a multi-byte character is still shown as text."""
        text = str(sluice.status_error(502, {}, ("é" * 400).encode()))
        assert "not text" not in text and "\ufffd" not in text and "éé..." in text


@pytest.mark.anyio
class TestOverRealHTTP:
    async def test_stream_read_by_urllib(self, server: MockAnthropic) -> None:
        """urllib sends the built request; sluice's decoder reads what comes back."""
        server.enqueue(Reply.sse(load("text.sse"), chunk_size=7))
        request = sluice.build_request(PARAMS, api_key=KEY, base_url=server.base_url)
        status, _, body = await anyio.to_thread.run_sync(send, request)
        assert status == 200
        decoder = sluice.EventStreamDecoder()
        accumulator = sluice.MessageAccumulator()
        for event in [*decoder.feed(body), *decoder.close()]:
            accumulator.feed(event)
        message = accumulator.finish()
        assert message.stop_reason == "end_turn"
        assert message.content[0].type == "text"
        received = server.requests[0]
        assert received.headers["x-api-key"] == KEY
        assert received.json == {**PARAMS, "stream": True}

    async def test_error_response_typed(self, server: MockAnthropic) -> None:
        server.enqueue(
            Reply.error(529, "overloaded_error", "Overloaded", headers={"retry-after": "3"})
        )
        request = sluice.build_request(PARAMS, api_key=KEY, base_url=server.base_url)
        status, headers, body = await anyio.to_thread.run_sync(send, request)
        error = sluice.status_error(status, headers, body)
        assert isinstance(error, sluice.OverloadedStatusError)
        assert error.rate_limits.retry_after == 3
        assert error.request_id is not None and error.request_id.startswith("req_")
        assert KEY not in repr(error) and KEY not in str(error)
