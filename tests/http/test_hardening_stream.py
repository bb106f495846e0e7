"""Hostile and broken streams: only SluiceError leaves, with what arrived, without stalling.

Over real HTTP on 127.0.0.1 against MockAnthropic where a server is involved, on asyncio
and trio.
"""

from __future__ import annotations

import gzip
import json
import zlib
from typing import Any, ClassVar

import anyio
import anyio.lowlevel
import pytest

import sluice
from _util import FIXTURES
from sluice.testing import MockAnthropic, Reply

PARAMS: dict[str, Any] = {
    "model": "claude-sonnet-4-5",
    "max_tokens": 16,
    "messages": [{"role": "user", "content": "Hi"}],
}


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def final(data: bytes) -> sluice.Message:
    decoder = sluice.EventStreamDecoder()
    accumulator = sluice.MessageAccumulator()
    for event in decoder.feed(data):
        accumulator.feed(event)
    return accumulator.finish()


class TestDecodeEventLetsOnlyTypedErrorsOut:
    @pytest.mark.parametrize(
        "data",
        [
            b'{"type":{}}',
            b'{"type":[1]}',
            b'{"type":"ping","x":' + b"[" * 1000 + b"]" * 1000 + b"}",
            b'{"type":"brand_new","x":' + b"[" * 1000 + b"]" * 1000 + b"}",
            b'{"type":"content_block_delta","index":"0","delta":{"type":"text_delta","text":"a\\ud800"}}',
            b'{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":'
            + b"9" * 5000
            + b"}}",
            b"\xff\xfe",
            b"[" * 100_000,
        ],
        ids=[
            "type-object",
            "type-array",
            "nested-1000-known",
            "nested-1000-unknown",
            "surrogate-bad-index",
            "huge-number",
            "not-utf8",
            "deep-open",
        ],
    )
    def test_malformed_payloads_are_event_decode_errors(self, data: bytes) -> None:
        """Each malformed payload raises EventDecodeError (never TypeError, RecursionError...)."""
        with pytest.raises(sluice.EventDecodeError) as caught:
            sluice.decode_event(data, "x", 42)
        assert caught.value.offset == 42

    def test_lone_surrogate_delta_type_is_unknown_not_an_error(self) -> None:
        """A delta whose type is a lone surrogate is an UnknownDelta carrying it, re-encodable."""
        data = b'{"type":"content_block_delta","index":0,"delta":{"type":"\\ud800","x":1}}'
        event = sluice.decode_event(data)
        assert isinstance(event, sluice.ContentBlockDelta)
        assert isinstance(event.delta, sluice.UnknownDelta)
        assert event.delta.raw == {"type": "\ud800", "x": 1}
        assert json.loads(sluice.to_json(event)) == json.loads(data)

    def test_lone_surrogate_key_keeps_the_text(self) -> None:
        """A text delta with a lone-surrogate key keeps its text, and the key as an extra."""
        data = (
            b'{"type":"content_block_delta","index":0,'
            b'"delta":{"type":"text_delta","text":"a\\ud800b","\\udfff":1}}'
        )
        event = sluice.decode_event(data)
        assert isinstance(event, sluice.ContentBlockDelta)
        assert isinstance(event.delta, sluice.TextDelta)
        assert event.delta.text == "a\ud800b"
        assert json.loads(sluice.to_json(event)) == json.loads(data)

    def test_an_unknown_event_with_a_lone_surrogate_passes_through(self) -> None:
        """A new event type carrying a lone surrogate is an UnknownEvent, re-encodable."""
        data = b'{"type":"brand_new","note":"a\\ud800"}'
        event = sluice.decode_event(data, "brand_new")
        assert isinstance(event, sluice.UnknownEvent)
        assert event.raw == {"type": "brand_new", "note": "a\ud800"}
        assert json.loads(sluice.to_json(event)) == json.loads(data)

    def test_a_known_event_with_a_lone_surrogate_says_so(self) -> None:
        """Outside deltas, the error names the lone surrogate, not "truncated" input."""
        with pytest.raises(sluice.EventDecodeError, match="lone UTF-16 surrogate") as caught:
            sluice.decode_event(b'{"type":"ping","\\ud800":1}', "ping", 7)
        assert "truncated" not in str(caught.value) and caught.value.offset == 7

    def test_invalid_utf8_in_an_unknown_field_of_citations_delta(self) -> None:
        """citations_delta with garbage in a field sluice does not model keeps its citation."""
        data = (
            b'{"type":"content_block_delta","index":0,"delta":{"type":"citations_delta",'
            b'"citation":{"type":"char_location","cited_text":"x","document_index":0,'
            b'"document_title":null,"start_char_index":0,"end_char_index":1},"future":"\xff"}}'
        )
        event = sluice.decode_event(data)
        assert isinstance(event, sluice.ContentBlockDelta)
        assert isinstance(event.delta, sluice.CitationsDelta)
        assert event.delta.citation.cited_text == "x"  # type: ignore[union-attr]

    def test_invalid_utf8_in_an_unknown_field_keeps_the_event(self) -> None:
        """message_delta with garbage in a field sluice does not model still ends the message."""
        data = (
            b'{"type":"message_delta","delta":{"stop_reason":"end_turn"},'
            b'"usage":{"output_tokens":7},"future":"\xff"}'
        )
        event = sluice.decode_event(data)
        assert isinstance(event, sluice.MessageDelta)
        assert (event.delta.stop_reason, event.usage.output_tokens) == ("end_turn", 7)


class TestLinearSSE:
    @pytest.mark.parametrize(
        "line",
        [b"data: ", b"event: ", b"event: x\n", b"id: ", b":", b"data:\r"],
        ids=["data", "event", "event-lines", "id", "comment", "data-cr"],
    )
    def test_pathological_lines_decode_correctly(self, line: bytes) -> None:
        """A 256 KiB run of one field without a blank line frames like the reference parser.

        (Its cost is measured by benchmarks/hostile.py, which exits 1 if it is not linear,
        not timed here.)
        """
        body = line * (256 * 1024 // len(line)) + b"\ndata: end\n\n"
        whole = sluice.SSEDecoder(max_event_size=1 << 30).feed(body)
        decoder = sluice.SSEDecoder(max_event_size=1 << 30)
        pieces = [
            event
            for start in range(0, len(body), 4096)
            for event in decoder.feed(body[start : start + 4096])
        ]
        assert [e.data for e in whole] == [e.data for e in pieces]
        assert whole[-1].data.endswith(b"end")


@pytest.mark.anyio
class TestCompressedStreams:
    async def test_gzip_stream_reads_like_plain(self, mock_anthropic: MockAnthropic) -> None:
        """A gzip-encoded event stream gives the same final message as the plain one."""
        data = fixture("tool_use.sse")
        mock_anthropic.enqueue(
            Reply.sse(gzip.compress(data), chunk_size=257, headers={"content-encoding": "gzip"})
        )
        async with sluice.AsyncClient(api_key="test", base_url=mock_anthropic.base_url) as client:
            async with client.messages.stream(**PARAMS) as stream:
                message = await stream.final_message()
        assert sluice.to_builtins(message) == sluice.to_builtins(final(data))
        assert mock_anthropic.requests[-1].headers["accept-encoding"] == "gzip, deflate"

    @pytest.mark.parametrize("raw_deflate", [False, True], ids=["zlib", "raw"])
    async def test_deflate_stream(self, mock_anthropic: MockAnthropic, raw_deflate: bool) -> None:
        """deflate works zlib-wrapped (RFC 9110) and raw, as some servers send it."""
        data = fixture("text.sse")
        compressor = zlib.compressobj(wbits=-zlib.MAX_WBITS if raw_deflate else zlib.MAX_WBITS)
        body = compressor.compress(data) + compressor.flush()
        mock_anthropic.enqueue(Reply.sse(body, headers={"content-encoding": "deflate"}))
        async with sluice.AsyncClient(api_key="test", base_url=mock_anthropic.base_url) as client:
            async with client.messages.stream(**PARAMS) as stream:
                message = await stream.final_message()
        assert sluice.to_builtins(message) == sluice.to_builtins(final(data))

    async def test_gzip_corrupted_midway(self, mock_anthropic: MockAnthropic) -> None:
        """A gzip body that breaks mid-way is an IncompleteStreamError with the text so far."""
        data = fixture("long_text.sse")
        packed = bytearray(gzip.compress(data))
        packed[len(packed) // 2 : len(packed) // 2 + 64] = b"\x00" * 64
        mock_anthropic.enqueue(
            Reply.sse(bytes(packed), chunk_size=512, headers={"content-encoding": "gzip"})
        )
        async with sluice.AsyncClient(api_key="test", base_url=mock_anthropic.base_url) as client:
            # Corrupt deflate data either fails to inflate (IncompleteStreamError: the body
            # broke) or inflates to garbage (EventDecodeError): typed, with the text so far.
            with pytest.raises(sluice.StreamError) as caught:
                async with client.messages.stream(**PARAMS) as stream:
                    await stream.final_message()
        assert isinstance(caught.value, sluice.IncompleteStreamError | sluice.EventDecodeError)
        partial = caught.value.partial_message
        assert partial is not None and partial.content

    async def test_gzip_cut_before_its_end(self, mock_anthropic: MockAnthropic) -> None:
        """A gzip body whose stream ends early is typed too (not a silent short message)."""
        data = fixture("text.sse")
        packed = gzip.compress(data)
        mock_anthropic.enqueue(
            Reply.sse(packed[: len(packed) - 20], headers={"content-encoding": "gzip"})
        )
        async with sluice.AsyncClient(api_key="test", base_url=mock_anthropic.base_url) as client:
            with pytest.raises(sluice.IncompleteStreamError):
                async with client.messages.stream(**PARAMS) as stream:
                    await stream.final_message()

    async def test_inflating_chunk_yields_to_other_tasks(
        self, mock_anthropic: MockAnthropic
    ) -> None:
        """A tiny gzip chunk that inflates to megabytes is parsed in slices: other tasks run between."""
        data = fixture("long_text.sse")  # 1.5 MB of events
        packed = gzip.compress(data, compresslevel=9)
        mock_anthropic.enqueue(Reply.sse(packed, headers={"content-encoding": "gzip"}))
        ticks = 0
        done = False

        async def ticker() -> None:
            nonlocal ticks
            while not done:
                ticks += 1
                await anyio.lowlevel.checkpoint()

        async with (
            sluice.AsyncClient(api_key="test", base_url=mock_anthropic.base_url) as client,
            anyio.create_task_group() as tg,
        ):
            tg.start_soon(ticker)
            async with client.messages.stream(**PARAMS) as stream:
                message = await stream.final_message()
            done = True
        assert sluice.to_builtins(message) == sluice.to_builtins(final(data))
        assert ticks >= len(data) // (64 * 1024) // 2  # the ticker ran between slices

    async def test_unsupported_encoding_is_typed(self, mock_anthropic: MockAnthropic) -> None:
        """A body in an encoding sluice does not decode (br) fails typed, not as garbage."""
        mock_anthropic.enqueue(Reply.sse(b"\x8b\x00", headers={"content-encoding": "br"}))
        async with sluice.AsyncClient(api_key="test", base_url=mock_anthropic.base_url) as client:
            with pytest.raises(sluice.IncompleteStreamError, match="br"):
                async with client.messages.stream(**PARAMS) as stream:
                    await stream.final_message()


@pytest.mark.anyio
class TestMidStreamMalformedEvents:
    @pytest.mark.parametrize(
        "payload",
        [
            b'{"type":{}}',
            b'{"type":"ping","x":' + b"[" * 1000 + b"]" * 1000 + b"}",
        ],
        ids=["type-object", "deep"],
    )
    async def test_partial_message_is_kept(
        self, mock_anthropic: MockAnthropic, payload: bytes
    ) -> None:
        """A malformed event mid-stream raises EventDecodeError carrying the message so far."""
        data = fixture("text.sse")
        cut = data.index(b"event: content_block_stop")
        body = data[:cut] + b"event: ping\ndata: " + payload + b"\n\n" + data[cut:]
        mock_anthropic.enqueue(Reply.sse(body))
        async with sluice.AsyncClient(api_key="test", base_url=mock_anthropic.base_url) as client:
            with pytest.raises(sluice.EventDecodeError) as caught:
                async with client.messages.stream(**PARAMS) as stream:
                    await stream.final_message()
        partial = caught.value.partial_message
        assert partial is not None
        assert isinstance(partial.content[0], sluice.TextBlock) and partial.content[0].text


COMPLETE = ["text.sse", "tool_use.sse", "thinking.sse", "citations.sse", "web_search.sse"]


class TestOfficialSDKStreamShapes:
    @pytest.mark.parametrize("name", COMPLETE)
    @pytest.mark.parametrize("ending", [b"\n", b"\r\n"], ids=["lf", "crlf"])
    def test_last_event_without_its_blank_line(self, name: str, ending: bytes) -> None:
        """A body whose last event ends on a line boundary, without the blank line, is whole."""
        data = fixture(name).rstrip(b"\r\n") + ending
        if ending == b"\r\n":
            data = data.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
        decoder = sluice.EventStreamDecoder()
        accumulator = sluice.MessageAccumulator()
        for event in decoder.feed(data):
            accumulator.feed(event)
        for event in decoder.close():
            accumulator.feed(event)
        assert sluice.to_builtins(accumulator.finish()) == sluice.to_builtins(final(fixture(name)))

    def test_an_event_cut_inside_its_line_is_not_dispatched(self) -> None:
        """A body cut inside the last line leaves that event unparsed: the stream is incomplete."""
        data = fixture("text.sse").rstrip(b"\n")[:-3]
        decoder = sluice.EventStreamDecoder()
        list(decoder.feed(data))
        assert decoder.close() == []
        assert decoder.unparsed.startswith(b"event: message_stop")

    @pytest.mark.anyio
    @pytest.mark.parametrize("name", COMPLETE)
    async def test_over_http(self, mock_anthropic: MockAnthropic, name: str) -> None:
        """Over HTTP too: the final message, not an IncompleteStreamError."""
        mock_anthropic.enqueue(Reply.sse(fixture(name).rstrip(b"\n") + b"\n"))
        async with sluice.AsyncClient(api_key="test", base_url=mock_anthropic.base_url) as client:
            async with client.messages.stream(**PARAMS) as stream:
                message = await stream.final_message()
        assert sluice.to_builtins(message) == sluice.to_builtins(final(fixture(name)))

    @pytest.mark.anyio
    async def test_response_info_of_a_streamed_message(self, mock_anthropic: MockAnthropic) -> None:
        """response_info(final_message) gives the stream's status, request-id and limits."""
        mock_anthropic.enqueue(
            Reply.sse(fixture("text.sse"), headers={"anthropic-ratelimit-requests-remaining": "49"})
        )
        async with sluice.AsyncClient(api_key="test", base_url=mock_anthropic.base_url) as client:
            async with client.messages.stream(**PARAMS) as stream:
                message = await stream.final_message()
        info = sluice.response_info(message)
        assert info is not None
        assert info.status_code == 200
        assert info.request_id == mock_anthropic.requests[-1].request_id == stream.request_id
        assert info.rate_limits.requests_remaining == 49


class TestToolCallCutByMaxTokens:
    """A tool call cut by max_tokens: the message keeps its complete values, over HTTP."""

    CUT_INPUT: ClassVar[dict[str, Any]] = {
        "path": "notes/haiku.txt",
        "mode": 420,
        "options": {"overwrite": True, "tags": ["haiku", "draft"]},
    }

    @pytest.mark.anyio
    @pytest.mark.parametrize("size", [1, 64, None], ids=["1", "64", "whole"])
    async def test_final_message(self, mock_anthropic: MockAnthropic, size: int | None) -> None:
        """final_message(): stop_reason max_tokens, the complete values, truncated."""
        mock_anthropic.enqueue(Reply.sse(fixture("max_tokens_tool.sse"), chunk_size=size))
        async with sluice.AsyncClient(api_key="test", base_url=mock_anthropic.base_url) as client:
            async with client.messages.stream(**PARAMS) as stream:
                message = await stream.final_message()
        block = message.content[1]
        assert message.stop_reason == "max_tokens"
        assert isinstance(block, sluice.ToolUseBlock)
        assert block.input == self.CUT_INPUT and block.truncated
        assert "truncated" not in sluice.to_builtins(block)

    @pytest.mark.anyio
    async def test_iterating_gives_the_same(self, mock_anthropic: MockAnthropic) -> None:
        """Read event by event: the cut input from the block's stop, truncated from the
        stop reason on, and the message final_message() gives without iterating."""
        mock_anthropic.enqueue(Reply.sse(fixture("max_tokens_tool.sse")))
        seen: list[tuple[str, Any, bool]] = []
        async with sluice.AsyncClient(api_key="test", base_url=mock_anthropic.base_url) as client:
            async with client.messages.stream(**PARAMS) as stream:
                async for event in stream:
                    snapshot = stream.current_message_snapshot
                    if event.type in ("content_block_stop", "message_delta"):
                        assert snapshot is not None
                        block = snapshot.content[-1]
                        if isinstance(block, sluice.ToolUseBlock):
                            seen.append((event.type, dict(block.input), block.truncated))
                message = await stream.final_message()
        assert seen == [
            ("content_block_stop", self.CUT_INPUT, False),
            ("message_delta", self.CUT_INPUT, True),
        ]
        assert sluice.to_builtins(message) == sluice.to_builtins(
            final(fixture("max_tokens_tool.sse"))
        )

    @pytest.mark.anyio
    async def test_not_max_tokens_is_invalid_json(self, mock_anthropic: MockAnthropic) -> None:
        """The same unfinished input in a message that stopped for tool_use: ToolInputError."""
        data = fixture("max_tokens_tool.sse").replace(
            b'"stop_reason":"max_tokens"', b'"stop_reason":"tool_use"'
        )
        mock_anthropic.enqueue(Reply.sse(data))
        async with sluice.AsyncClient(api_key="test", base_url=mock_anthropic.base_url) as client:
            async with client.messages.stream(**PARAMS) as stream:
                with pytest.raises(sluice.ToolInputError, match="not max_tokens") as info:
                    await stream.final_message()
        err = info.value
        assert err.tool_name == "write_file" and err.index == 1
        assert err.partial_message is not None
        assert err.partial_message.stop_reason == "tool_use"
