"""client.completions (legacy Text Completions) over real HTTP against MockAnthropic."""

from __future__ import annotations

from typing import Any

import httpx
import msgspec
import pytest

import sluice
from sluice import CompletionStream
from sluice._resources._completions import Completions
from sluice.testing import MockAnthropic, Reply, install_completions
from sluice.types import Completion

pytestmark = pytest.mark.anyio

PROMPT = "\n\nHuman: Say hello\n\nAssistant:"
TEXT = " Hello there, friend."


def piece(text: str, stop_reason: str | None = None) -> dict[str, Any]:
    return {
        "type": "completion",
        "id": "compl_01",
        "completion": text,
        "stop_reason": stop_reason,
        "model": "claude-2.1",
    }


@pytest.fixture
def completions(client: sluice.AsyncClient) -> Completions:
    return client.completions


class TestCompletion:
    def test_decodes_the_api_shape(self) -> None:
        """A completion object decodes typed, stop_reason None while streaming."""
        completion = msgspec.json.decode(msgspec.json.encode(piece(" Hi")), type=Completion)
        assert (completion.type, completion.completion, completion.stop_reason) == (
            "completion",
            " Hi",
            None,
        )


class TestCreate:
    async def test_returns_the_completion(
        self, server: MockAnthropic, completions: Completions
    ) -> None:
        """create() posts to /v1/complete without stream and answers a typed Completion."""
        install_completions(server, text=TEXT)
        completion = await completions.create(
            model="claude-2.1", prompt=PROMPT, max_tokens_to_sample=50, temperature=0.5
        )
        assert completion.completion == TEXT
        assert completion.stop_reason == "stop_sequence"
        assert completion.model == "claude-2.1"
        assert completion.id.startswith("compl_")
        sent = server.requests[-1]
        assert (sent.method, sent.path) == ("POST", "/v1/complete")
        assert sent.json == {
            "model": "claude-2.1",
            "prompt": PROMPT,
            "max_tokens_to_sample": 50,
            "temperature": 0.5,
        }
        info = sluice.response_info(completion)
        assert info is not None and info.request_id == sent.request_id

    async def test_max_tokens_cuts_the_text(
        self, server: MockAnthropic, completions: Completions
    ) -> None:
        """The fake stops after max_tokens_to_sample words with stop_reason max_tokens."""
        install_completions(server, text=TEXT)
        completion = await completions.create(
            model="claude-2.1", prompt=PROMPT, max_tokens_to_sample=2
        )
        assert (completion.completion, completion.stop_reason) == (" Hello there,", "max_tokens")

    async def test_bad_prompt_is_a_bad_request(
        self, server: MockAnthropic, completions: Completions
    ) -> None:
        """A prompt without the Assistant turn is a typed 400."""
        install_completions(server)
        with pytest.raises(sluice.BadRequestError, match="Assistant"):
            await completions.create(model="claude-2.1", prompt="hi", max_tokens_to_sample=5)

    async def test_stream_argument_is_refused(self, completions: Completions) -> None:
        """stream= is not a create() option: stream() is the way to stream."""
        with pytest.raises(TypeError, match=r"completions\.stream\(\)"):
            await completions.create(model="m", prompt=PROMPT, max_tokens_to_sample=5, stream=True)


class TestStream:
    async def test_pieces_and_final_text(
        self, server: MockAnthropic, completions: Completions
    ) -> None:
        """The fake's stream yields one typed Completion per word and the final text."""
        install_completions(server, text=TEXT)
        async with completions.stream(
            model="claude-2.1", prompt=PROMPT, max_tokens_to_sample=50
        ) as stream:
            pieces = [item async for item in stream]
            assert await stream.final_text() == TEXT
        assert [item.completion for item in pieces] == [" Hello", " there,", " friend.", ""]
        assert [item.stop_reason for item in pieces] == [None, None, None, "stop_sequence"]
        assert all(isinstance(item, Completion) for item in pieces)
        sent = server.requests[-1]
        assert sent.json["stream"] is True
        assert sent.headers["accept"] == "text/event-stream"
        assert stream.request_id == sent.request_id

    async def test_ping_is_skipped(self, server: MockAnthropic, completions: Completions) -> None:
        """ping events are keep-alives: they never reach the caller."""
        server.enqueue(
            Reply.events([{"type": "ping"}, piece(" A"), {"type": "ping"}, piece("", "max_tokens")])
        )
        async with completions.stream(model="m", prompt=PROMPT, max_tokens_to_sample=1) as stream:
            assert [item.completion async for item in stream] == [" A", ""]

    async def test_final_completion_joins_the_text(
        self, server: MockAnthropic, completions: Completions
    ) -> None:
        """final_completion() is one Completion with the joined text and last stop_reason."""
        server.enqueue(Reply.events([piece(" A"), piece(" B"), piece("", "stop_sequence")]))
        async with completions.stream(model="m", prompt=PROMPT, max_tokens_to_sample=9) as stream:
            final = await stream.final_completion()
        assert final == Completion(
            id="compl_01", completion=" A B", stop_reason="stop_sequence", model="claude-2.1"
        )
        assert stream.done

    async def test_text_stream(self, server: MockAnthropic, completions: Completions) -> None:
        """text_stream yields just the text pieces."""
        server.enqueue(Reply.events([piece(" A"), piece(" B", "stop_sequence")]))
        async with completions.stream(model="m", prompt=PROMPT, max_tokens_to_sample=9) as stream:
            assert [text async for text in stream.text_stream] == [" A", " B"]

    async def test_in_stream_error_is_typed(
        self, server: MockAnthropic, completions: Completions
    ) -> None:
        """An error event raises the class of its error.type, also an APIStreamError."""
        error = {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}
        server.enqueue(Reply.events([piece(" A"), error]))
        async with completions.stream(model="m", prompt=PROMPT, max_tokens_to_sample=9) as stream:
            with pytest.raises(sluice.OverloadedError, match="Overloaded") as caught:
                await stream.final_text()
            partial = stream.current_completion
        assert isinstance(caught.value, sluice.APIStreamError)
        assert caught.value.status_code is None
        assert caught.value.request_id == stream.request_id
        assert caught.value.events_received == 2
        assert partial is not None and partial.completion == " A"

    async def test_http_error_on_enter(
        self, server: MockAnthropic, completions: Completions
    ) -> None:
        """An error status surfaces on enter as the typed HTTP error."""
        server.enqueue(Reply.error(400, "invalid_request_error", "bad prompt"))
        with pytest.raises(sluice.BadRequestError, match="bad prompt"):
            async with completions.stream(model="m", prompt=PROMPT, max_tokens_to_sample=9):
                pass

    async def test_missing_stop_reason_is_incomplete(
        self, server: MockAnthropic, completions: Completions
    ) -> None:
        """A body that ends before a piece with a stop_reason raises IncompleteStreamError."""
        server.enqueue(Reply.events([piece(" A"), piece(" B")]))
        async with completions.stream(model="m", prompt=PROMPT, max_tokens_to_sample=9) as stream:
            with pytest.raises(sluice.IncompleteStreamError, match="before the final"):
                await stream.final_text()
            partial = stream.current_completion
        assert partial is not None and partial.completion == " A B"
        assert not stream.done

    async def test_dropped_connection_is_incomplete(
        self, server: MockAnthropic, completions: Completions
    ) -> None:
        """A connection lost mid-stream raises IncompleteStreamError, chained."""
        server.enqueue(Reply.events([piece(" A"), piece(" B"), piece("", "x")], drop_after=120))
        async with completions.stream(model="m", prompt=PROMPT, max_tokens_to_sample=9) as stream:
            with pytest.raises(sluice.IncompleteStreamError, match="connection failed") as caught:
                await stream.until_done()
        assert isinstance(caught.value.__cause__, httpx.TransportError)

    async def test_unknown_event_is_skipped(
        self, server: MockAnthropic, completions: Completions
    ) -> None:
        """An event type from a newer API is ignored, not fatal."""
        server.enqueue(
            Reply.events([{"type": "completion_meta", "x": 1}, piece(" A", "stop_sequence")])
        )
        async with completions.stream(model="m", prompt=PROMPT, max_tokens_to_sample=9) as stream:
            assert await stream.final_text() == " A"

    async def test_malformed_completion_event(
        self, server: MockAnthropic, completions: Completions
    ) -> None:
        """A completion event without its text is an EventDecodeError."""
        server.enqueue(Reply.events([piece(" A"), {"type": "completion", "stop_reason": None}]))
        async with completions.stream(model="m", prompt=PROMPT, max_tokens_to_sample=9) as stream:
            with pytest.raises(sluice.EventDecodeError, match="'completion'"):
                await stream.final_text()

    async def test_break_releases_the_connection(
        self, server: MockAnthropic, completions: Completions
    ) -> None:
        """Leaving the block after a break closes the response."""
        server.enqueue(Reply.events([piece(" A"), piece(" B"), piece("", "stop_sequence")]))
        async with completions.stream(model="m", prompt=PROMPT, max_tokens_to_sample=9) as stream:
            async for _ in stream:
                break
        assert isinstance(stream, CompletionStream)
        assert stream.response.is_closed

    async def test_the_manager_is_not_iterable(self, completions: Completions) -> None:
        """Iterating the manager instead of the stream is a clear TypeError."""
        manager = completions.stream(model="m", prompt=PROMPT, max_tokens_to_sample=9)
        with pytest.raises(TypeError, match="async with"):
            manager.__aiter__()
