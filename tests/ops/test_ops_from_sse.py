"""ops.from_sse: an httpx-sse event source read into sluice's typed events and operators.

Real httpx-sse, real HTTP on 127.0.0.1 against MockAnthropic, on asyncio and trio.
"""

from __future__ import annotations

from contextlib import aclosing

import httpx
import httpx_sse
import pytest

import sluice
from _util import FIXTURES
from sluice import ops
from sluice.testing import MockAnthropic, Reply

pytestmark = pytest.mark.anyio

BODY = {
    "model": "claude-sonnet-4-5",
    "max_tokens": 64,
    "stream": True,
    "messages": [{"role": "user", "content": "Hi"}],
}
HEADERS = {"x-api-key": "test", "anthropic-version": "2023-06-01"}


def reference(name: str) -> sluice.Message:
    decoder = sluice.EventStreamDecoder()
    accumulator = sluice.MessageAccumulator()
    for event in decoder.feed((FIXTURES / name).read_bytes()):
        accumulator.feed(event)
    return accumulator.finish()


class TestFromHttpxSSE:
    @pytest.mark.parametrize(
        "name", ["text.sse", "tool_use.sse", "thinking.sse", "unknown_types.sse"]
    )
    async def test_same_message_as_a_message_stream(
        self, mock_anthropic: MockAnthropic, name: str
    ) -> None:
        """Events read by httpx-sse accumulate into the very message sluice's stream builds."""
        mock_anthropic.enqueue(Reply.sse((FIXTURES / name).read_bytes(), chunk_size=97))
        acc = sluice.MessageAccumulator()
        async with (
            httpx.AsyncClient(timeout=10.0) as http,
            httpx_sse.aconnect_sse(
                http, "POST", f"{mock_anthropic.base_url}/v1/messages", json=BODY, headers=HEADERS
            ) as source,
        ):
            async with aclosing(
                ops.accumulate(ops.from_sse(source.aiter_sse()), accumulator=acc)
            ) as snaps:
                async for _ in snaps:
                    pass
        assert sluice.to_builtins(acc.finish()) == sluice.to_builtins(reference(name))

    async def test_operators_compose(self, mock_anthropic: MockAnthropic) -> None:
        """text_deltas over from_sse paints the text, as over a MessageStream."""
        mock_anthropic.enqueue(Reply.sse((FIXTURES / "text.sse").read_bytes()))
        async with (
            httpx.AsyncClient(timeout=10.0) as http,
            httpx_sse.aconnect_sse(
                http, "POST", f"{mock_anthropic.base_url}/v1/messages", json=BODY, headers=HEADERS
            ) as source,
        ):
            async with aclosing(ops.text_deltas(ops.from_sse(source.aiter_sse()))) as texts:
                text = "".join([piece async for piece in texts])
        expected = reference("text.sse")
        assert text == "".join(
            block.text for block in expected.content if isinstance(block, sluice.TextBlock)
        )

    async def test_in_stream_error_is_typed_with_the_partial(
        self, mock_anthropic: MockAnthropic
    ) -> None:
        """An in-stream overload reaches accumulate as OverloadedStreamError with the partial."""
        mock_anthropic.enqueue(Reply.sse((FIXTURES / "overloaded_error.sse").read_bytes()))
        async with (
            httpx.AsyncClient(timeout=10.0) as http,
            httpx_sse.aconnect_sse(
                http, "POST", f"{mock_anthropic.base_url}/v1/messages", json=BODY, headers=HEADERS
            ) as source,
        ):
            # httpx-sse's generators finish only when read to the end (else trio warns as
            # the garbage collector finds them): read the frames, then decode.
            frames = [frame async for frame in source.aiter_sse()]

        async def replay():  # type: ignore[no-untyped-def]
            for frame in frames:
                yield frame

        with pytest.raises(sluice.OverloadedStreamError) as caught:
            async with aclosing(ops.accumulate(ops.from_sse(replay()))) as snaps:
                async for _ in snaps:
                    pass
        assert caught.value.partial_message is not None

    async def test_the_event_sources_response_as_a_message_stream(
        self, mock_anthropic: MockAnthropic
    ) -> None:
        """An EventSource's response read by sluice itself: typed errors, partial, release."""
        mock_anthropic.enqueue(Reply.sse((FIXTURES / "overloaded_error.sse").read_bytes()))
        async with (
            httpx.AsyncClient(timeout=10.0) as http,
            httpx_sse.aconnect_sse(
                http, "POST", f"{mock_anthropic.base_url}/v1/messages", json=BODY, headers=HEADERS
            ) as source,
        ):
            stream = sluice.MessageStream(source.response)
            with pytest.raises(sluice.OverloadedStreamError) as caught:
                async for _ in stream:
                    pass
            await stream.aclose()
            assert source.response.is_closed
        assert caught.value.partial_message is not None


class TestFromAnySource:
    async def test_bad_json_counts_what_came_before(self) -> None:
        """A malformed event raises EventDecodeError saying how many events decoded first."""

        async def frames():  # type: ignore[no-untyped-def]
            yield httpx_sse.ServerSentEvent(event="ping", data='{"type": "ping"}')
            yield httpx_sse.ServerSentEvent(event="ping", data="{not json")

        with pytest.raises(sluice.EventDecodeError) as caught:
            async for _ in ops.from_sse(frames()):
                pass
        assert caught.value.events_received == 1

    async def test_sluice_frames_too(self) -> None:
        """sluice's own ServerSentEvent frames (bytes data) work as well."""
        frames = sluice.SSEDecoder().feed((FIXTURES / "text.sse").read_bytes())

        async def source():  # type: ignore[no-untyped-def]
            for frame in frames:
                yield frame

        events = [event async for event in ops.from_sse(source())]
        assert len(events) == len(frames)
        assert isinstance(events[0], sluice.MessageStart)
