from __future__ import annotations

import json
import ssl
import time
import urllib.parse
from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path
from typing import Any

import anyio
import anyio.lowlevel
import httpx
import pytest

import sluice.testing
from sluice.testing import MockAnthropic, RateLimit, RecordedRequest, Reply, _server, serve
from sluice.testing._server import _split_events

pytestmark = pytest.mark.anyio

EVENTS: list[dict[str, Any]] = [
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
            "usage": {"input_tokens": 10, "output_tokens": 1},
        },
    },
    {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}},
    {"type": "ping"},
    {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "Hé"}},
    {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "llo"}},
    {"type": "content_block_stop", "index": 0},
    {
        "type": "message_delta",
        "delta": {"stop_reason": "end_turn", "stop_sequence": None},
        "usage": {"output_tokens": 3},
    },
    {"type": "message_stop"},
]
RAW_EVENTS = [
    f"event: {event['type']}\ndata: {json.dumps(event, ensure_ascii=False)}\n\n".encode()
    for event in EVENTS
]
TRANSCRIPT = b"".join(RAW_EVENTS)
API_KEY = "sk-ant-api03-very-secret"
# The mock speaks plain HTTP; one shared TLS context spares every client the ~40 ms httpx
# spends loading the CA bundle.
TLS = ssl.create_default_context()


def http_client(**kwargs: Any) -> httpx.AsyncClient:
    return httpx.AsyncClient(verify=TLS, **kwargs)


def parse_sse(data: bytes) -> list[tuple[str, Any]]:
    """(event name, decoded data) for each event of an LF-delimited transcript."""
    parsed = []
    for block in data.decode().split("\n\n"):
        if not block:
            continue
        fields = dict(line.split(": ", 1) for line in block.split("\n"))
        parsed.append((fields["event"], json.loads(fields["data"])))
    return parsed


@pytest.fixture
async def http(server: MockAnthropic) -> AsyncIterator[httpx.AsyncClient]:
    """A plain httpx client for ``server``: this file tests the HTTP server itself."""
    async with http_client(base_url=server.base_url, timeout=5.0) as http:
        yield http


def port_of(server: MockAnthropic) -> int:
    port = urllib.parse.urlsplit(server.base_url).port
    assert port is not None
    return port


async def raw_exchange(server: MockAnthropic, request: bytes) -> bytes:
    """Send raw bytes on a fresh connection; everything the server sends until it closes."""
    received = bytearray()
    async with await anyio.connect_tcp("127.0.0.1", port_of(server)) as stream:
        await stream.send(request)
        with anyio.fail_after(5):
            try:
                while True:
                    received += await stream.receive()
            except anyio.EndOfStream:
                pass
    return bytes(received)


class TestPublicNames:
    def test_all_lists_the_public_names(self) -> None:
        """sluice.testing.__all__ is exactly its public names, sorted."""
        public = {name for name in vars(sluice.testing) if not name.startswith("_")}
        public -= {"annotations"}
        public = {name for name in public if not name.startswith("@")}  # pytest's rewriting
        assert sorted(public) == sluice.testing.__all__


class TestJsonReply:
    async def test_json_body_status_and_request_id(
        self, server: MockAnthropic, http: httpx.AsyncClient
    ) -> None:
        """A JSON reply arrives with its status, content-length and a req_ request-id."""
        server.enqueue(Reply.json({"id": "msg_01", "type": "message"}, status=201))
        response = await http.post("/v1/messages", json={"model": "m"})
        assert response.status_code == 201
        assert response.json() == {"id": "msg_01", "type": "message"}
        assert response.headers["content-type"] == "application/json"
        assert response.headers["content-length"] == str(len(response.content))
        assert response.headers["request-id"].startswith("req_")
        assert response.headers["request-id"] == server.requests[0].request_id

    async def test_request_ids_are_unique(
        self, server: MockAnthropic, http: httpx.AsyncClient
    ) -> None:
        """Every response gets its own request-id."""
        server.route("GET", "/v1/models", Reply.json({"data": []}))
        ids = {(await http.get("/v1/models")).headers["request-id"] for _ in range(5)}
        assert len(ids) == 5

    async def test_raw_bytes_body_is_sent_verbatim(
        self, server: MockAnthropic, http: httpx.AsyncClient
    ) -> None:
        """Reply.json(bytes) sends the bytes unchanged, so malformed JSON can be served."""
        server.enqueue(Reply.json(b'{"type": "mess'))
        response = await http.post("/v1/messages")
        assert response.content == b'{"type": "mess'

    def test_reserved_and_unsafe_headers_are_refused(self) -> None:
        """Framing headers and header injection are rejected when the reply is built."""
        with pytest.raises(ValueError, match="content-length"):
            Reply.json({}, headers={"Content-Length": "3"})
        with pytest.raises(ValueError, match="line break"):
            Reply.json({}, headers={"x-a": "1\r\nx-b: 2"})
        with pytest.raises(ValueError, match="not both"):
            Reply.json({}, drop_after=1, stall_after=1)


class TestErrorReply:
    async def test_error_shape_and_retry_after(
        self, server: MockAnthropic, http: httpx.AsyncClient
    ) -> None:
        """Reply.error gives the API's error body, its request_id and extra headers."""
        server.enqueue(
            Reply.error(529, "overloaded_error", "Overloaded", headers={"retry-after": "2"})
        )
        response = await http.post("/v1/messages", json={})
        assert response.status_code == 529
        assert response.reason_phrase == "Overloaded"
        assert response.headers["retry-after"] == "2"
        assert response.json() == {
            "type": "error",
            "error": {"type": "overloaded_error", "message": "Overloaded"},
            "request_id": response.headers["request-id"],
        }


class TestSSEReply:
    async def test_transcript_arrives_intact(
        self, server: MockAnthropic, http: httpx.AsyncClient
    ) -> None:
        """The streamed body equals the transcript byte for byte, chunked, as event-stream."""
        server.enqueue(Reply.sse(TRANSCRIPT))
        async with http.stream("POST", "/v1/messages", json={"stream": True}) as response:
            body = b"".join([chunk async for chunk in response.aiter_raw()])
        assert body == TRANSCRIPT
        assert response.headers["content-type"].startswith("text/event-stream")
        assert response.headers["transfer-encoding"] == "chunked"
        assert "content-length" not in response.headers

    async def test_events_are_flushed_as_written(
        self, server: MockAnthropic, http: httpx.AsyncClient
    ) -> None:
        """The first event reaches the client while the rest of the stream is still pending."""
        server.enqueue(Reply.sse(TRANSCRIPT, delay=0.05))
        async with http.stream("POST", "/v1/messages") as response:
            chunks = [chunk async for chunk in response.aiter_raw()]
        assert len(chunks) > 1
        assert chunks[0] != TRANSCRIPT
        assert b"".join(chunks) == TRANSCRIPT

    async def test_fixed_chunk_size_rechunks_anywhere(
        self, server: MockAnthropic, http: httpx.AsyncClient
    ) -> None:
        """chunk_size=7 splits the bytes (even inside UTF-8 characters) and loses nothing."""
        server.enqueue(Reply.sse(TRANSCRIPT, chunk_size=7))
        async with http.stream("POST", "/v1/messages") as response:
            body = b"".join([chunk async for chunk in response.aiter_raw()])
        assert body == TRANSCRIPT

    async def test_events_serializes_dicts(
        self, server: MockAnthropic, http: httpx.AsyncClient
    ) -> None:
        """Reply.events writes `event: {type}` and `data: {json}` for every dict."""
        server.enqueue(Reply.events(EVENTS))
        response = await http.post("/v1/messages")
        assert parse_sse(response.content) == [(event["type"], event) for event in EVENTS]

    def test_events_without_type_are_refused(self) -> None:
        """An event dict without a string type is a ValueError, not a broken stream."""
        with pytest.raises(ValueError, match="type"):
            Reply.events([{"index": 0}])

    async def test_a_transcript_is_bytes_or_a_path(
        self, server: MockAnthropic, http: httpx.AsyncClient, tmp_path: Path
    ) -> None:
        """A path is read (a recorded .sse file); a str is refused as ambiguous."""
        recorded = tmp_path / "recorded.sse"
        recorded.write_bytes(TRANSCRIPT)
        server.enqueue(Reply.sse(recorded))
        response = await http.post("/v1/messages", json={"stream": True})
        assert response.content == TRANSCRIPT
        with pytest.raises(TypeError, match="bytes or the path"):
            Reply.sse(TRANSCRIPT.decode())  # type: ignore[arg-type]

    def test_split_events_honours_every_line_ending(self) -> None:
        """Event boundaries are found for LF, CRLF and CR, and a CRLF is one line ending."""
        data = b"event: a\r\ndata: 1\r\n\r\nevent: b\ndata: 2\n\nevent: c\rdata: 3\r\rtail"
        assert _split_events(data) == [
            b"event: a\r\ndata: 1\r\n\r\n",
            b"event: b\ndata: 2\n\n",
            b"event: c\rdata: 3\r\r",
            b"tail",
        ]


class TestKeepAlive:
    async def test_three_requests_share_one_connection(
        self, server: MockAnthropic, http: httpx.AsyncClient
    ) -> None:
        """JSON, SSE and error responses all leave the connection open for the next request."""
        server.enqueue(
            Reply.json({"n": 1}),
            Reply.sse(TRANSCRIPT),
            Reply.error(400, "invalid_request_error", "bad"),
        )
        ports = []
        for _ in range(3):
            async with http.stream("POST", "/v1/messages") as response:
                await response.aread()
                ports.append(response.extensions["network_stream"].get_extra_info("client_addr"))
        assert ports[0] == ports[1] == ports[2]
        assert len(server.requests) == 3

    async def test_connection_close_is_honoured(
        self, server: MockAnthropic, http: httpx.AsyncClient
    ) -> None:
        """`Connection: close` gets a closing response and the next request a new connection."""
        server.route("GET", "/v1/models", Reply.json({"data": []}))
        addrs = []
        for _ in range(2):
            async with http.stream(
                "GET", "/v1/models", headers={"connection": "close"}
            ) as response:
                addrs.append(response.extensions["network_stream"].get_extra_info("client_addr"))
                await response.aread()
            assert response.headers["connection"] == "close"
        assert addrs[0] != addrs[1]

    async def test_pipelined_requests_are_answered_in_order(self, server: MockAnthropic) -> None:
        """Two requests sent back to back in one write get two responses, in order."""
        server.enqueue(Reply.json({"n": 1}), Reply.json({"n": 2}))
        raw = await raw_exchange(
            server,
            b"GET /a HTTP/1.1\r\nHost: x\r\n\r\n"
            b"GET /b HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        )
        assert raw.startswith(b"HTTP/1.1 200 OK\r\n")
        assert raw.count(b"HTTP/1.1 200 OK\r\n") == 2
        assert raw.index(b'{"n":1}') < raw.index(b'{"n":2}')
        assert [r.path for r in server.requests] == ["/a", "/b"]


class TestRouting:
    async def test_queue_then_routes_then_404(
        self, server: MockAnthropic, http: httpx.AsyncClient
    ) -> None:
        """The queue is FIFO whatever the path; then routes; then a not_found_error 404."""
        server.route("GET", "/v1/models", Reply.json({"from": "route"}))
        server.enqueue(Reply.json({"from": "queue 1"}), Reply.json({"from": "queue 2"}))
        assert server.pending == 2
        assert (await http.get("/v1/models")).json() == {"from": "queue 1"}
        assert (await http.post("/v1/other")).json() == {"from": "queue 2"}
        assert (await http.get("/v1/models")).json() == {"from": "route"}
        assert (await http.get("/v1/models")).json() == {"from": "route"}
        missing = await http.post("/v1/nowhere")
        assert missing.status_code == 404
        assert missing.json()["type"] == "error"
        assert missing.json()["error"]["type"] == "not_found_error"
        assert "POST /v1/nowhere" in missing.json()["error"]["message"]
        assert missing.json()["request_id"] == missing.headers["request-id"]

    async def test_exact_route_beats_longer_wildcard(
        self, server: MockAnthropic, http: httpx.AsyncClient
    ) -> None:
        """Exact paths win over prefixes, longer prefixes over shorter; methods must match."""
        server.route("GET", "/v1/*", Reply.json("v1"))
        server.route("GET", "/v1/models/*", Reply.json("model"))
        server.route("GET", "/v1/models/special", Reply.json("exact"))
        server.route("*", "/any", Reply.json("any"))
        assert (await http.get("/v1/files")).json() == "v1"
        assert (await http.get("/v1/models/claude")).json() == "model"
        assert (await http.get("/v1/models/special")).json() == "exact"
        assert (await http.delete("/any")).json() == "any"
        assert (await http.post("/v1/files")).status_code == 404

    async def test_default_and_reply_functions(self, anyio_backend: object) -> None:
        """default answers unmatched requests; sync and async reply functions see the request."""

        async def echo_async(request: RecordedRequest) -> Reply:
            await anyio.lowlevel.checkpoint()
            return Reply.json({"async": request.json})

        async with MockAnthropic(default=lambda r: Reply.json({"path": r.path})) as mock:
            mock.route("POST", "/echo", echo_async)
            async with http_client(base_url=mock.base_url) as http:
                assert (await http.get("/x?y=1")).json() == {"path": "/x"}
                assert (await http.post("/echo", json=[1])).json() == {"async": [1]}

    async def test_failing_reply_function_is_reported(self, anyio_backend: object) -> None:
        """A reply function that raises gives the client a 500 and re-raises on exit."""

        def broken(request: RecordedRequest) -> Reply:
            raise LookupError("no such fixture")

        with pytest.raises(LookupError, match="no such fixture"):
            async with MockAnthropic(default=broken) as mock:
                async with http_client(base_url=mock.base_url) as http:
                    response = await http.get("/v1/models")
                assert response.status_code == 500
                assert response.json()["error"]["type"] == "api_error"

    def test_enqueue_refuses_plain_dicts(self) -> None:
        """Enqueuing something that is not a Reply fails at once with a hint."""
        with pytest.raises(TypeError, match=r"Reply\.json"):
            MockAnthropic().enqueue({"type": "message"})  # type: ignore[arg-type]


class TestFaults:
    async def test_drop_after_breaks_the_body(
        self, server: MockAnthropic, http: httpx.AsyncClient
    ) -> None:
        """drop_after=N delivers exactly N body bytes, then a protocol error mid-body."""
        cut = len(RAW_EVENTS[0]) + 5
        server.enqueue(Reply.sse(TRANSCRIPT, drop_after=cut))
        received = bytearray()
        with pytest.raises((httpx.RemoteProtocolError, httpx.ReadError)):
            async with http.stream("POST", "/v1/messages") as response:
                async for chunk in response.aiter_raw():
                    received += chunk
        assert bytes(received) == TRANSCRIPT[:cut]

    async def test_drop_after_on_a_json_body(
        self, server: MockAnthropic, http: httpx.AsyncClient
    ) -> None:
        """A Content-Length body cut short is a protocol error too."""
        server.enqueue(Reply.json({"text": "x" * 100}, drop_after=10))
        with pytest.raises((httpx.RemoteProtocolError, httpx.ReadError)):
            await http.post("/v1/messages")

    async def test_stall_after_times_out_the_client(self, anyio_backend: object) -> None:
        """stall_after=N sends N bytes then nothing: the client's read times out."""
        with anyio.fail_after(3):
            async with MockAnthropic() as mock:
                mock.enqueue(Reply.sse(TRANSCRIPT, stall_after=len(RAW_EVENTS[0])))
                timeout = httpx.Timeout(0.3)
                async with http_client(base_url=mock.base_url, timeout=timeout) as http:
                    received = bytearray()
                    with pytest.raises(httpx.ReadTimeout):
                        async with http.stream("POST", "/v1/messages") as response:
                            async for chunk in response.aiter_raw():
                                received += chunk
                assert bytes(received) == RAW_EVENTS[0]

    async def test_inject_error_ends_the_stream_with_an_error_event(
        self, server: MockAnthropic, http: httpx.AsyncClient
    ) -> None:
        """inject_error=(2, ...) sends two events, then `event: error`, then a clean end."""
        server.enqueue(Reply.sse(TRANSCRIPT, inject_error=(2, "overloaded_error", "Overloaded")))
        response = await http.post("/v1/messages")
        assert response.status_code == 200
        assert parse_sse(response.content) == [
            ("message_start", EVENTS[0]),
            ("content_block_start", EVENTS[1]),
            (
                "error",
                {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}},
            ),
        ]

    async def test_drop_gives_a_connection_error(
        self, server: MockAnthropic, http: httpx.AsyncClient
    ) -> None:
        """Reply.drop() hangs up without a response, after recording the request."""
        server.enqueue(Reply.drop(), Reply.json({"ok": True}))
        with pytest.raises((httpx.RemoteProtocolError, httpx.ReadError)):
            await http.post("/v1/messages", json={"n": 1})
        assert (await http.post("/v1/messages")).json() == {"ok": True}
        assert server.requests[0].json == {"n": 1}

    async def test_client_leaving_mid_stream_is_harmless(
        self, server: MockAnthropic, http: httpx.AsyncClient
    ) -> None:
        """A client hanging up on a slow stream leaves the server serving other requests."""
        server.enqueue(Reply.sse(TRANSCRIPT * 20, delay=0.005))
        server.route("GET", "/v1/models", Reply.json({"data": []}))
        async with await anyio.connect_tcp("127.0.0.1", port_of(server)) as stream:
            await stream.send(b"POST /v1/messages HTTP/1.1\r\nHost: x\r\n\r\n")
            with anyio.fail_after(2):
                assert (await stream.receive()).startswith(b"HTTP/1.1 200 OK\r\n")
        await anyio.sleep(0.05)  # let the server write into the closed connection
        assert (await http.get("/v1/models")).status_code == 200


class TestRecording:
    async def test_requests_are_recorded(
        self, server: MockAnthropic, http: httpx.AsyncClient
    ) -> None:
        """Method, path, query, case-insensitive headers, body and JSON are recorded."""
        server.enqueue(Reply.json({}))
        await http.post(
            "/v1/messages?beta=true&x=1&x=2",
            json={"model": "claude-sonnet-4-5", "stream": True},
            headers={"X-Api-Key": API_KEY, "anthropic-version": "2023-06-01"},
        )
        (request,) = server.requests
        assert request.method == "POST"
        assert request.path == "/v1/messages"
        assert request.query == {"beta": ["true"], "x": ["1", "2"]}
        assert request.headers["x-api-key"] == API_KEY
        assert request.headers["X-API-KEY"] == API_KEY
        assert request.headers["anthropic-version"] == "2023-06-01"
        assert json.loads(request.body) == {"model": "claude-sonnet-4-5", "stream": True}
        assert request.json == {"model": "claude-sonnet-4-5", "stream": True}
        assert request.http_version == "HTTP/1.1"

    async def test_repr_redacts_secrets(
        self, server: MockAnthropic, http: httpx.AsyncClient
    ) -> None:
        """Neither the API key nor a bearer token appears in the recorded request's repr."""
        server.enqueue(Reply.json({}))
        await http.post(
            "/v1/messages",
            json={},
            headers={"x-api-key": API_KEY, "authorization": "Bearer tok-secret"},
        )
        text = repr(server.requests[0])
        assert API_KEY not in text
        assert "tok-secret" not in text
        assert "<redacted>" in text

    async def test_chunked_request_body_is_decoded(
        self, server: MockAnthropic, http: httpx.AsyncClient
    ) -> None:
        """A body sent with Transfer-Encoding: chunked is recorded de-chunked."""

        async def parts() -> AsyncIterator[bytes]:
            yield b'{"model": '
            yield b'"m"}'

        server.enqueue(Reply.json({}))
        await http.post("/v1/messages", content=parts())
        assert server.requests[0].headers["transfer-encoding"] == "chunked"
        assert server.requests[0].json == {"model": "m"}

    async def test_non_json_body_records_none(
        self, server: MockAnthropic, http: httpx.AsyncClient
    ) -> None:
        """A body that is not JSON keeps its bytes and has json None."""
        server.enqueue(Reply.json({}))
        await http.post("/upload", content=b"\x00\x01binary")
        assert server.requests[0].body == b"\x00\x01binary"
        assert server.requests[0].json is None


class TestProtocol:
    async def test_malformed_request_gets_400_and_close(self, server: MockAnthropic) -> None:
        """A garbage request line is answered 400 in the API's error shape, then closed."""
        raw = await raw_exchange(server, b"NOT HTTP\r\n\r\n")
        head, _, body = raw.partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 400 Bad Request\r\n")
        assert b"connection: close" in head
        assert json.loads(body)["error"]["type"] == "invalid_request_error"
        assert server.requests == []

    async def test_expect_continue_gets_an_interim_response(self, server: MockAnthropic) -> None:
        """`Expect: 100-continue` is answered with 100 Continue before the body is read."""
        server.enqueue(Reply.json({"ok": True}))
        port = port_of(server)
        async with await anyio.connect_tcp("127.0.0.1", port) as stream:
            await stream.send(
                b"POST /v1/messages HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n"
                b"Expect: 100-continue\r\n\r\n"
            )
            with anyio.fail_after(2):
                interim = await stream.receive()
            assert interim == b"HTTP/1.1 100 Continue\r\n\r\n"
            await stream.send(b"{}")
            with anyio.fail_after(2):
                final = await stream.receive()
            assert final.startswith(b"HTTP/1.1 200 OK\r\n")
        assert server.requests[0].json == {}

    async def test_http10_stream_is_close_delimited(self, server: MockAnthropic) -> None:
        """An HTTP/1.0 client gets the stream unchunked, ended by closing the connection."""
        server.enqueue(Reply.sse(TRANSCRIPT))
        raw = await raw_exchange(server, b"POST /v1/messages HTTP/1.0\r\n\r\n")
        head, _, body = raw.partition(b"\r\n\r\n")
        assert b"transfer-encoding" not in head
        assert body == TRANSCRIPT
        assert server.requests[0].http_version == "HTTP/1.0"

    async def test_head_gets_headers_only(
        self, server: MockAnthropic, http: httpx.AsyncClient
    ) -> None:
        """A HEAD request gets the reply's headers, no body, and the connection stays usable."""
        server.enqueue(Reply.sse(TRANSCRIPT), Reply.json({"n": 2}))
        head = await http.head("/v1/messages")
        assert head.status_code == 200
        assert head.content == b""
        assert (await http.get("/v1/messages")).json() == {"n": 2}

    async def test_chunked_body_sent_byte_by_byte(self, server: MockAnthropic) -> None:
        """Chunk extensions, trailers and one-byte writes still give the right body."""
        server.enqueue(Reply.json({"n": 1}), Reply.json({"n": 2}))
        data = (
            b"POST /x HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
            b"4;ext=1\r\nWiki\r\n6\r\npedia \r\n0\r\nX-Trailer: t\r\n\r\n"
        )
        received = bytearray()
        async with await anyio.connect_tcp("127.0.0.1", port_of(server)) as stream:
            for byte in data:
                await stream.send(bytes([byte]))
                await anyio.lowlevel.checkpoint()
            # The connection is back between requests: a second one is served on it.
            await stream.send(b"GET /y HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            with anyio.fail_after(5):
                try:
                    while True:
                        received += await stream.receive()
                except anyio.EndOfStream:
                    pass
        assert [r.body for r in server.requests] == [b"Wikipedia ", b""]
        assert received.count(b"HTTP/1.1 200 OK\r\n") == 2

    @pytest.mark.parametrize(
        ("data", "status"),
        [
            (
                b"GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n",
                400,
            ),
            (b"GET / HTTP/1.1\r\nHost: x\r\nContent-Length: x\r\n\r\n", 400),
            (b"GET / HTTP/1.1\r\n folded\r\nHost: x\r\n\r\n", 400),
            (b"GET / HTTP/2.0\r\nHost: x\r\n\r\n", 505),
            (b"GET / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n", 501),
            (b"GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999\r\n\r\n", 413),
            (b"GET / HTTP/1.1\r\nHost: x\r\nX: " + b"a" * 70_000, 431),
            (b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", 400),
        ],
    )
    async def test_bad_requests_get_a_status_and_close(
        self, server: MockAnthropic, data: bytes, status: int
    ) -> None:
        """Ambiguous framing, folding, bad versions and oversized input map to a status."""
        raw = await raw_exchange(server, data)
        head, _, body = raw.partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 %d " % status)
        assert b"connection: close" in head
        assert json.loads(body)["error"]["type"] in {"invalid_request_error", "request_too_large"}
        assert server.requests == []

    async def test_chunked_body_over_the_limit_gets_413(
        self, server: MockAnthropic, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """A chunked body is counted as it arrives; past the body limit the answer is 413."""
        monkeypatch.setattr(_server, "_MAX_BODY_SIZE", 16)
        raw = await raw_exchange(
            server,
            b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
            b"a\r\n0123456789\r\na\r\n0123456789\r\n0\r\n\r\n",
        )
        head, _, body = raw.partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 413 ")
        assert json.loads(body)["error"]["type"] == "request_too_large"
        assert server.requests == []


class TestShutdown:
    async def test_stops_promptly_with_a_stalled_stream_open(self, anyio_backend: object) -> None:
        """Leaving the block closes a stalled connection at once; its client sees it break."""
        errors: list[Exception] = []
        streaming = anyio.Event()

        async def consume(http: httpx.AsyncClient, base_url: str) -> None:
            try:
                async with http.stream("POST", f"{base_url}/v1/messages") as response:
                    async for _ in response.aiter_raw():
                        streaming.set()
            except (httpx.RemoteProtocolError, httpx.ReadError) as exc:
                errors.append(exc)

        async with http_client(timeout=30) as http, anyio.create_task_group() as tg:
            with anyio.fail_after(3):
                async with MockAnthropic() as mock:
                    mock.enqueue(Reply.sse(TRANSCRIPT, stall_after=10))
                    tg.start_soon(consume, http, mock.base_url)
                    await streaming.wait()
        assert len(errors) == 1

    async def test_idle_keep_alive_connection_does_not_block_exit(
        self, anyio_backend: object
    ) -> None:
        """A pooled keep-alive connection is closed by the server on exit."""
        async with http_client() as http:
            with anyio.fail_after(3):
                async with MockAnthropic(default=Reply.json({})) as mock:
                    await http.get(f"{mock.base_url}/v1/models")

    async def test_base_url_and_restart_after_exit(self, anyio_backend: object) -> None:
        """base_url is only valid while running, and a server runs once."""
        mock = MockAnthropic()
        with pytest.raises(RuntimeError, match="not started"):
            mock.base_url  # noqa: B018
        async with mock:
            assert mock.base_url.startswith("http://127.0.0.1:")
        with pytest.raises(RuntimeError, match="not started"):
            mock.base_url  # noqa: B018
        with pytest.raises(RuntimeError, match="only once"):
            async with mock:
                pass

    async def test_serve_alias(self, anyio_backend: object) -> None:
        """serve() is the async-context-manager twin of MockAnthropic()."""
        async with serve(default=Reply.json({"ok": 1})) as mock:
            async with http_client(base_url=mock.base_url) as http:
                assert (await http.get("/")).json() == {"ok": 1}


class TestPytestPlugin:
    async def test_fixture_yields_a_running_server(self, mock_anthropic: MockAnthropic) -> None:
        """The mock_anthropic fixture is started and answers requests."""
        mock_anthropic.enqueue(Reply.json({"ok": True}))
        async with http_client(base_url=mock_anthropic.base_url) as http:
            assert (await http.get("/")).json() == {"ok": True}


class TestRateLimit:
    async def test_headers_then_429_with_retry_after(
        self, server: MockAnthropic, http: httpx.AsyncClient
    ) -> None:
        """Within the limit the reply gets the API's rate-limit headers; over it, a 429
        rate_limit_error with retry-after up to the window's reset, and no reply is used."""
        limit = server.rate_limit(2, window=60)
        server.enqueue(Reply.json({"n": 1}), Reply.json({"n": 2}), Reply.json({"n": 3}))
        first, second, third = [await http.get("/v1/models") for _ in range(3)]
        assert first.json() == {"n": 1} and second.json() == {"n": 2}
        assert first.headers["anthropic-ratelimit-requests-limit"] == "2"
        assert first.headers["anthropic-ratelimit-requests-remaining"] == "1"
        assert second.headers["anthropic-ratelimit-requests-remaining"] == "0"
        assert third.status_code == 429
        assert third.json()["error"]["type"] == "rate_limit_error"
        assert third.headers["anthropic-ratelimit-requests-remaining"] == "0"
        reset = datetime.fromisoformat(third.headers["anthropic-ratelimit-requests-reset"])
        assert 0 < float(third.headers["retry-after"]) <= 60
        assert abs(reset.timestamp() - time.time() - float(third.headers["retry-after"])) < 1
        assert server.pending == 1  # the 429 used no queued reply
        assert (limit.served, limit.rejected, limit.most_in_a_window) == (2, 1, 2)

    async def test_a_reply_that_sets_the_headers_keeps_them(
        self, server: MockAnthropic, http: httpx.AsyncClient
    ) -> None:
        """A reply's own rate-limit headers win over the limit's."""
        server.rate_limit(5, window=60)
        headers = {"anthropic-ratelimit-requests-remaining": "42"}
        server.enqueue(Reply.json({}, headers=headers))
        response = await http.get("/v1/models")
        assert response.headers.get_list("anthropic-ratelimit-requests-remaining") == ["42"]
        assert response.headers["anthropic-ratelimit-requests-limit"] == "5"

    async def test_windows_start_over(self, server: MockAnthropic, http: httpx.AsyncClient) -> None:
        """Each window lets ``limit`` through again; every window's count is kept."""
        limit = server.rate_limit(1, window=0.2)
        server.route("GET", "/v1/models", Reply.json({}))
        statuses = []
        for _ in range(3):
            statuses.append((await http.get("/v1/models")).status_code)
            await anyio.sleep(0.21)
        assert statuses == [200, 200, 200]
        assert limit.most_in_a_window == 1 and len(limit.per_window) == 3

    def test_bad_limits(self) -> None:
        """A limit below 1 or a window that is not positive is refused."""
        with pytest.raises(ValueError, match="limit"):
            RateLimit(0)
        with pytest.raises(ValueError, match="window"):
            RateLimit(1, window=0)
