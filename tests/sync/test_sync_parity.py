"""The sync client gives what the async client gives: every recorded transcript, over real
HTTP, read by both yields the same events, text, final message or typed error."""

from __future__ import annotations

from contextlib import closing
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest

import sluice
from sluice import to_builtins
from sluice.testing import MockAnthropic, Reply

FIXTURES = sorted((Path(__file__).parent.parent.parent / "fixtures").glob("*.sse"))
PARAMS: dict[str, Any] = {
    "model": "claude-sonnet-4-5",
    "max_tokens": 64,
    "messages": [{"role": "user", "content": "Hi"}],
}


def outcome_of(error: sluice.StreamError) -> tuple[str, Any]:
    partial = error.partial_message
    return type(error).__name__, None if partial is None else to_builtins(partial)


def read_sync(client: sluice.Client) -> tuple[list[Any], Any]:
    events: list[sluice.Event] = []
    with client.messages.stream(**PARAMS) as stream:
        try:
            for event in stream:
                events.append(event)
            outcome: Any = to_builtins(stream.final_message())
        except sluice.StreamError as exc:
            outcome = outcome_of(exc)
    return to_builtins(events), outcome


def read_async(base_url: str) -> tuple[list[Any], Any]:
    async def main() -> tuple[list[Any], Any]:
        events: list[sluice.Event] = []
        async with (
            httpx.AsyncClient(timeout=10.0) as http,
            sluice.AsyncClient(
                api_key="test", base_url=base_url, http_client=http, max_retries=0
            ) as client,
            client.messages.stream(**PARAMS) as stream,
        ):
            try:
                async for event in stream:
                    events.append(event)
                outcome: Any = to_builtins(await stream.final_message())
            except sluice.StreamError as exc:
                outcome = outcome_of(exc)
        return to_builtins(events), outcome

    return anyio.run(main)


class TestEveryTranscript:
    @pytest.mark.parametrize("path", FIXTURES, ids=lambda p: p.name)
    def test_same_events_and_final_message_as_the_async_client(
        self, path: Path, server: MockAnthropic, client: sluice.Client
    ) -> None:
        """Iterating then final_message() (or the typed error and its partial message) is
        identical on both clients, for every transcript in fixtures/."""
        data = path.read_bytes()
        server.enqueue(Reply.sse(data, chunk_size=97), Reply.sse(data, chunk_size=97))
        sync_events, sync_outcome = read_sync(client)
        async_events, async_outcome = read_async(server.base_url)
        assert sync_events == async_events
        assert sync_outcome == async_outcome
        assert sync_events  # every transcript has events

    @pytest.mark.parametrize("name", ["text.sse", "thinking.sse", "tool_use.sse", "citations.sse"])
    def test_text_stream_final_text_and_snapshot(
        self, name: str, server: MockAnthropic, client: sluice.Client
    ) -> None:
        """text_stream gives the text deltas while every event is accumulated: final_text()
        is their join, the snapshot is the final message, request_id is the response's."""
        data = (FIXTURES[0].parent / name).read_bytes()
        server.enqueue(Reply.sse(data))
        with client.messages.stream(**PARAMS) as stream:
            pieces = list(stream.text_stream)
            text = stream.final_text()
            snapshot = stream.current_message_snapshot
            message = stream.final_message()
            assert stream.request_id == server.requests[-1].request_id
        assert "".join(pieces) == text
        assert snapshot is not None and to_builtins(snapshot) == to_builtins(message)
        info = sluice.response_info(message)
        assert info is not None and info.request_id == stream.request_id

    def test_invalid_tool_input_kept_or_raised(
        self, server: MockAnthropic, client: sluice.Client
    ) -> None:
        """invalid_tool_input works on the sync client as on the async one."""
        data = (FIXTURES[0].parent / "tool_use.sse").read_bytes()
        start = data.index(b'"partial_json":"') + len(b'"partial_json":"')
        broken = data[:start] + b"]" + data[start:]  # the input's first fragment made invalid
        server.enqueue(Reply.sse(broken), Reply.sse(broken))
        with client.messages.stream(**PARAMS, invalid_tool_input="keep") as stream:
            message = stream.final_message()
        kept = [b.input for b in message.content if isinstance(b, sluice.ToolUseBlock)]
        assert len(kept) == 1 and set(kept[0]) == {"INVALID_JSON"}
        assert kept[0]["INVALID_JSON"].startswith("]")
        with pytest.raises(sluice.ToolInputError), client.messages.stream(**PARAMS) as stream:
            stream.final_message()

    def test_create_equals_the_streamed_message(
        self, server: MockAnthropic, client: sluice.Client
    ) -> None:
        """messages.create() decodes the same Message class the async client returns."""
        data = (FIXTURES[0].parent / "tool_use.sse").read_bytes()
        server.enqueue(Reply.sse(data))
        with client.messages.stream(**PARAMS) as stream:
            streamed = stream.final_message()
        server.enqueue(Reply.json(sluice.to_json(streamed)))
        created = client.messages.create(**PARAMS)
        assert type(created) is sluice.Message
        assert to_builtins(created) == to_builtins(streamed)
        assert server.requests[-1].json == PARAMS


class TestStreamOverAResponse:
    @pytest.mark.parametrize("read", [False, True], ids=["streaming", "read already"])
    def test_a_response_built_from_bytes(self, read: bool) -> None:
        """SyncMessageStream reads any httpx.Response, one already read included (a
        response built from bytes), into the message the async stream gives."""
        data = (FIXTURES[0].parent / "tool_use.sse").read_bytes()
        headers = {"content-type": "text/event-stream"}
        response = httpx.Response(
            200,
            headers=headers,
            **({"content": data} if read else {"stream": httpx.ByteStream(data)}),  # type: ignore[arg-type]
        )
        with closing(sluice.SyncMessageStream(response)) as stream:
            message = stream.final_message()

        async def main() -> Any:
            async_response = httpx.Response(200, headers=headers, content=data)
            return await sluice.MessageStream(async_response).final_message()

        assert to_builtins(message) == to_builtins(anyio.run(main))
        assert response.is_closed
