"""client.messages.batches: the sans-I/O line splitter, result decoding, and every endpoint
over real HTTP against MockAnthropic with the batches fake."""

from __future__ import annotations

import contextlib
import gc
import itertools
import json
import random
import ssl
from typing import Any

import anyio
import anyio.lowlevel
import httpx
import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import sluice
from sluice import BatchResults
from sluice._core._jsonl import LineSplitter
from sluice._resources._batches import Batches, decode_batch_result
from sluice.testing import FakeBatches, MockAnthropic, Reply, install_batches
from sluice.types import (
    DeletedMessageBatch,
    MessageBatch,
    MessageBatchCanceledResult,
    MessageBatchErroredResult,
    MessageBatchExpiredResult,
    MessageBatchIndividualResponse,
    MessageBatchRequestCounts,
    MessageBatchSucceededResult,
    UnknownBatchResult,
)

pytestmark = pytest.mark.anyio

TLS = ssl.create_default_context()


def request(custom_id: str, text: str = "Hi") -> dict[str, Any]:
    return {
        "custom_id": custom_id,
        "params": {
            "model": "claude-sonnet-4-5",
            "max_tokens": 64,
            "messages": [{"role": "user", "content": text}],
        },
    }


MESSAGE = {
    "id": "msg_01",
    "type": "message",
    "role": "assistant",
    "model": "claude-sonnet-4-5",
    "content": [{"type": "text", "text": "Hello"}],
    "stop_reason": "end_turn",
    "stop_sequence": None,
    "usage": {"input_tokens": 5, "output_tokens": 1},
}
SUCCEEDED = {"custom_id": "ok", "result": {"type": "succeeded", "message": MESSAGE}}
ERRORED = {
    "custom_id": "bad",
    "result": {
        "type": "errored",
        "error": {
            "type": "error",
            "error": {"type": "invalid_request_error", "message": "max_tokens: too large"},
            "request_id": "req_x",
        },
    },
}
CANCELED = {"custom_id": "gone", "result": {"type": "canceled"}}
EXPIRED = {"custom_id": "late", "result": {"type": "expired"}}
ALL_KINDS = [SUCCEEDED, ERRORED, CANCELED, EXPIRED]


def jsonl(lines: list[dict[str, Any]]) -> bytes:
    return b"".join(json.dumps(line).encode() + b"\n" for line in lines)


@pytest.fixture
def fake(server: MockAnthropic) -> FakeBatches:
    return install_batches(server)


@pytest.fixture
def batches(client: sluice.AsyncClient) -> Batches:
    return client.messages.batches


async def ended_batch(
    batches: Batches, fake: FakeBatches, results: list[dict[str, Any]] | bytes | None = None
) -> MessageBatch:
    batch = await batches.create(requests=[request("a"), request("b")])
    fake.complete_batch(batch.id, results)
    return await batches.retrieve(batch.id)


def sluice_counts(**counts: int) -> MessageBatchRequestCounts:
    return MessageBatchRequestCounts(**counts)


async def collect(results: BatchResults) -> list[MessageBatchIndividualResponse]:
    async with results:
        return [item async for item in results]


# --------------------------------------------------------------------------- sans-I/O


class TestLineSplitter:
    def test_lines_across_chunk_boundaries(self) -> None:
        """A line cut anywhere by the network comes out whole."""
        splitter = LineSplitter()
        assert splitter.feed(b'{"a":') == []
        assert splitter.feed(b'1}\n{"b"') == [b'{"a":1}']
        assert splitter.feed(b":2}\n\n") == [b'{"b":2}', b""]
        assert splitter.close() == []

    def test_last_line_without_newline(self) -> None:
        """JSON Lines may omit the final newline: close() returns that line."""
        splitter = LineSplitter()
        assert splitter.feed(b"1\n2") == [b"1"]
        assert splitter.close() == [b"2"]
        assert splitter.close() == []

    def test_crlf_keeps_the_cr(self) -> None:
        """CRLF files split on LF; the CR stays (JSON parsers read it as whitespace)."""
        assert LineSplitter().feed(b"1\r\n2\r\n") == [b"1\r", b"2\r"]

    @settings(max_examples=200, deadline=None)
    @given(
        lines=st.lists(st.binary(max_size=40).map(lambda b: b.replace(b"\n", b"")), max_size=30),
        cuts=st.lists(st.integers(min_value=0, max_value=2000), max_size=20),
    )
    def test_any_chunking_gives_the_same_lines(self, lines: list[bytes], cuts: list[int]) -> None:
        """Whatever the chunk boundaries, the lines are exactly data.split(b"\\n")."""
        data = b"".join(line + b"\n" for line in lines)
        bounds = sorted({0, len(data), *(cut % (len(data) + 1) for cut in cuts)})
        splitter = LineSplitter()
        got: list[bytes] = []
        for start, end in itertools.pairwise(bounds):
            got += splitter.feed(data[start:end])
        got += splitter.close()
        assert got == lines

    def test_holds_at_most_the_unfinished_line(self) -> None:
        """Memory is one chunk plus one line: the buffer never exceeds the longest line."""
        rng = random.Random(7)
        lines = [b"x" * rng.randrange(1, 300) for _ in range(100_000)]
        data = b"\n".join(lines) + b"\n"
        longest = max(map(len, lines))
        splitter = LineSplitter()
        count = 0
        position = 0
        while position < len(data):
            size = rng.randrange(1, 70_000)
            count += len(splitter.feed(data[position : position + size]))
            position += size
            assert splitter.buffered <= longest
        assert count == len(lines)
        assert splitter.close() == []
        assert splitter.bytes_received == len(data)

    def test_a_long_line_is_appended_not_copied(self) -> None:
        """A line arriving in many chunks is buffered once (a bytearray), then returned."""
        splitter = LineSplitter()
        for _ in range(1000):
            assert splitter.feed(b"y" * 1000) == []
        assert splitter.buffered == 1_000_000
        assert splitter.feed(b"\n") == [b"y" * 1_000_000]
        assert splitter.buffered == 0

    def test_position_locates_lines(self) -> None:
        """position is the stream offset of the first line returned by the last call."""
        splitter = LineSplitter()
        splitter.feed(b"aa\nbb")
        assert splitter.position == 0
        assert splitter.feed(b"b\ncc\n") == [b"bbb", b"cc"]
        assert splitter.position == 3

    def test_too_long_line_raises_with_its_offset(self) -> None:
        """A line past max_line_size raises EventTooLargeError instead of growing."""
        splitter = LineSplitter(max_line_size=10)
        assert splitter.feed(b"short\n0123") == [b"short"]
        with pytest.raises(sluice.EventTooLargeError, match="byte 6") as caught:
            splitter.feed(b"456789ABC")
        assert (caught.value.limit, caught.value.offset) == (10, 6)
        assert splitter.buffered == 0

    def test_too_long_line_inside_one_chunk(self) -> None:
        """A whole oversized line inside one big chunk is caught too."""
        splitter = LineSplitter(max_line_size=4)
        with pytest.raises(sluice.EventTooLargeError, match="byte 3"):
            splitter.feed(b"ok\n0123456789\nok\n")

    def test_feed_after_close(self) -> None:
        """Feeding a closed splitter is a bug, reported as such."""
        splitter = LineSplitter()
        splitter.close()
        with pytest.raises(RuntimeError):
            splitter.feed(b"x")

    def test_bad_limit(self) -> None:
        """max_line_size must be positive."""
        with pytest.raises(ValueError):
            LineSplitter(max_line_size=0)


class TestDecodeBatchResult:
    def test_the_four_result_kinds(self) -> None:
        """succeeded, errored, canceled and expired decode to their own typed classes."""
        decoded = [decode_batch_result(json.dumps(line).encode()) for line in ALL_KINDS]
        kinds = [type(item.result) for item in decoded]
        assert kinds == [
            MessageBatchSucceededResult,
            MessageBatchErroredResult,
            MessageBatchCanceledResult,
            MessageBatchExpiredResult,
        ]
        assert [item.result.type for item in decoded] == [
            "succeeded",
            "errored",
            "canceled",
            "expired",
        ]
        succeeded, errored = decoded[0].result, decoded[1].result
        assert isinstance(succeeded, MessageBatchSucceededResult)
        assert isinstance(succeeded.message, sluice.Message)
        assert isinstance(succeeded.message.content[0], sluice.TextBlock)
        assert succeeded.message == sluice.decode_message(json.dumps(MESSAGE).encode())
        assert isinstance(errored, MessageBatchErroredResult)
        assert errored.error.error.type == "invalid_request_error"
        assert errored.error.request_id == "req_x"

    def test_unknown_block_type_becomes_unknown_block(self) -> None:
        """A content block of a new type does not fail the line: it is an UnknownBlock."""
        block = {"type": "hologram", "frames": 3}
        line = {
            "custom_id": "x",
            "result": {"type": "succeeded", "message": {**MESSAGE, "content": [block]}},
        }
        item = decode_batch_result(json.dumps(line).encode())
        assert isinstance(item.result, MessageBatchSucceededResult)
        unknown = item.result.message.content[0]
        assert isinstance(unknown, sluice.UnknownBlock)
        assert unknown.raw == block

    def test_unknown_result_type_is_kept_raw(self) -> None:
        """A result type from a newer API arrives as UnknownBatchResult with its JSON."""
        line = b'{"custom_id":"x","result":{"type":"deferred","until":"tomorrow"}}'
        item = decode_batch_result(line)
        assert isinstance(item.result, UnknownBatchResult)
        assert item.result.type == "deferred"
        assert item.result.raw == {"type": "deferred", "until": "tomorrow"}

    def test_known_type_with_wrong_shape_raises(self) -> None:
        """An errored result without its error is a malformed file, not a new feature."""
        with pytest.raises(msgspec.ValidationError):
            decode_batch_result(b'{"custom_id":"x","result":{"type":"errored"}}')


# ------------------------------------------------------------------------------ HTTP


class TestCreate:
    async def test_creates_an_in_progress_batch(
        self, server: MockAnthropic, fake: FakeBatches, batches: Batches
    ) -> None:
        """create() posts the requests and answers a typed in_progress MessageBatch."""
        batch = await batches.create(requests=[request("a"), request("b")])
        assert isinstance(batch, MessageBatch)
        assert batch.type == "message_batch"
        assert batch.id.startswith("msgbatch_")
        assert batch.processing_status == "in_progress"
        assert batch.request_counts.processing == 2
        assert batch.results_url is None and batch.ended_at is None
        sent = server.requests[-1]
        assert (sent.method, sent.path) == ("POST", "/v1/messages/batches")
        assert sent.json == {"requests": [request("a"), request("b")]}
        assert fake.requests_of(batch.id) == [request("a"), request("b")]
        info = sluice.response_info(batch)
        assert info is not None and info.request_id == sent.request_id

    @pytest.mark.parametrize(
        ("requests", "field"),
        [
            ([], "requests"),
            ([{"custom_id": "a"}], "requests[0].params"),
            ([{"custom_id": "a b", "params": {}}], "requests[0].custom_id"),
            ([{"custom_id": "x" * 65, "params": {}}], "requests[0].custom_id"),
            ([{"id": "a", "params": {}}], "requests[0].id"),
            (["a"], "requests[0]"),
            (
                [
                    request("a"),
                    {"custom_id": "b", "params": {**request("b")["params"], "max_tokens": 0}},
                ],
                "requests[1].params.max_tokens",
            ),
            (
                [{"custom_id": "a", "params": {**request("a")["params"], "stream": True}}],
                "requests[0].params.stream",
            ),
            ([request("a"), request("a")], "requests[1].custom_id"),
        ],
        ids=[
            "empty",
            "no-params",
            "space-in-id",
            "long-id",
            "unknown-field",
            "not-a-mapping",
            "max-tokens-0",
            "stream",
            "duplicate-id",
        ],
    )
    async def test_invalid_requests_are_refused_before_sending(
        self, server: MockAnthropic, batches: Batches, requests: list[Any], field: str
    ) -> None:
        """Each request is checked as messages.create checks its params; nothing is sent."""
        sent = len(server.requests)
        with pytest.raises(sluice.ParamsError) as caught:
            await batches.create(requests=requests)
        assert caught.value.field == field
        assert len(server.requests) == sent

    async def test_newer_fields_and_stream_false_pass_through(
        self, server: MockAnthropic, fake: FakeBatches, batches: Batches
    ) -> None:
        """A request's params may hold fields newer than sluice (a batch has no extra_body
        per request) and stream=False (create params reused): sent as they are."""
        params = {**request("a")["params"], "stream": False, "brand_new_option": {"x": 1}}
        await batches.create(requests=[{"custom_id": "a", "params": params}])
        assert server.requests[-1].json["requests"][0]["params"] == params

    async def test_the_fake_answers_duplicates_as_the_api_does(
        self, server: MockAnthropic, fake: FakeBatches
    ) -> None:
        """Sent anyway (raw HTTP), duplicate custom_ids get the API's 400, as a user's own
        client would see it from the mock."""
        async with httpx.AsyncClient(verify=TLS) as http:
            response = await http.post(
                f"{server.base_url}/v1/messages/batches",
                headers={"x-api-key": "test", "anthropic-version": "2023-06-01"},
                json={"requests": [request("a"), request("a")]},
            )
        assert response.status_code == 400
        error = response.json()["error"]
        assert error["type"] == "invalid_request_error"
        assert "duplicate custom_id" in error["message"]


class TestRetrieve:
    async def test_retrieve_reports_the_stored_state(
        self, server: MockAnthropic, fake: FakeBatches, batches: Batches
    ) -> None:
        """retrieve() GETs the batch; after complete_batch it is ended with counts and URL."""
        created = await batches.create(requests=[request("a"), request("b")])
        assert (await batches.retrieve(created.id)).processing_status == "in_progress"
        fake.complete_batch(created.id, [SUCCEEDED, ERRORED])
        batch = await batches.retrieve(created.id)
        assert server.requests[-1].path == f"/v1/messages/batches/{created.id}"
        assert batch.processing_status == "ended"
        assert batch.request_counts == sluice_counts(succeeded=1, errored=1)
        assert batch.ended_at is not None
        assert batch.results_url == f"{server.base_url}/v1/messages/batches/{created.id}/results"

    async def test_unknown_batch_is_not_found(self, fake: FakeBatches, batches: Batches) -> None:
        """An unknown id raises NotFoundError (HTTP 404, not_found_error)."""
        with pytest.raises(sluice.NotFoundError) as caught:
            await batches.retrieve("msgbatch_nope")
        assert caught.value.status_code == 404
        assert caught.value.error_type == "not_found_error"

    async def test_complete_after_n_retrieves(
        self, server: MockAnthropic, client: sluice.AsyncClient
    ) -> None:
        """With complete_after=3 the third retrieve finds the batch ended, all succeeded."""
        install_batches(server, complete_after=3)
        batches = client.messages.batches
        batch = await batches.create(requests=[request("a")])
        statuses = [(await batches.retrieve(batch.id)).processing_status for _ in range(3)]
        assert statuses == ["in_progress", "in_progress", "ended"]
        items = await collect(batches.results(batch.id))
        assert [item.custom_id for item in items] == ["a"]
        assert isinstance(items[0].result, MessageBatchSucceededResult)


class TestList:
    async def test_forward_and_backward_pagination(
        self, server: MockAnthropic, fake: FakeBatches, batches: Batches
    ) -> None:
        """list() pages forward by after_id and backward by before_id, newest first."""
        for index in range(5):
            await batches.create(requests=[request(f"r{index}")])
        ids = fake.ids  # newest first
        forward = await batches.list(limit=2).to_list()
        assert [batch.id for batch in forward] == ids
        backward = [page async for page in batches.list(limit=2, before_id=ids[4]).pages()]
        assert [[b.id for b in page.data] for page in backward] == [ids[2:4], ids[0:2]]
        queries = [r.query for r in server.requests if r.path == "/v1/messages/batches"]
        queries = queries[5:]  # the five creates were POSTs to the same path
        assert queries == [
            {"limit": ["2"]},
            {"limit": ["2"], "after_id": [ids[1]]},
            {"limit": ["2"], "after_id": [ids[3]]},
            {"limit": ["2"], "before_id": [ids[4]]},
            {"limit": ["2"], "before_id": [ids[2]]},
        ]
        assert [r.method for r in server.requests[5:]] == ["GET"] * 5

    async def test_page_fields(self, fake: FakeBatches, batches: Batches) -> None:
        """A page has the API's has_more, first_id and last_id."""
        for index in range(3):
            await batches.create(requests=[request(f"r{index}")])
        page = await batches.list(limit=2).first_page()
        assert (page.has_more, page.first_id, page.last_id) == (True, *fake.ids[:2])
        assert all(isinstance(batch, MessageBatch) for batch in page.data)


class TestCancelAndDelete:
    async def test_cancel_then_ended_with_canceled_results(
        self, fake: FakeBatches, batches: Batches
    ) -> None:
        """cancel() answers 'canceling'; the batch then ends with every request canceled."""
        created = await batches.create(requests=[request("a"), request("b")])
        canceling = await batches.cancel(created.id)
        assert canceling.processing_status == "canceling"
        assert canceling.cancel_initiated_at is not None
        assert fake.status_of(created.id) == "canceling"
        ended = await batches.retrieve(created.id)
        assert ended.processing_status == "ended"
        assert ended.request_counts == sluice_counts(canceled=2)
        items = await collect(batches.results(ended))
        assert all(isinstance(item.result, MessageBatchCanceledResult) for item in items)

    async def test_delete_needs_an_ended_batch(
        self, server: MockAnthropic, fake: FakeBatches, batches: Batches
    ) -> None:
        """Deleting a running batch is a 400; an ended one is deleted, then 404."""
        created = await batches.create(requests=[request("a")])
        with pytest.raises(sluice.BadRequestError, match="still processing"):
            await batches.delete(created.id)
        fake.complete_batch(created.id)
        deleted = await batches.delete(created.id)
        assert isinstance(deleted, DeletedMessageBatch)
        assert (deleted.id, deleted.type) == (created.id, "message_batch_deleted")
        assert server.requests[-1].method == "DELETE"
        assert sluice.response_info(deleted) is not None
        with pytest.raises(sluice.NotFoundError):
            await batches.retrieve(created.id)

    async def test_cancel_unknown_batch(self, fake: FakeBatches, batches: Batches) -> None:
        """Canceling an unknown batch is a NotFoundError."""
        with pytest.raises(sluice.NotFoundError):
            await batches.cancel("msgbatch_nope")

    async def test_empty_id_is_refused(self, batches: Batches) -> None:
        """An empty id would address the list endpoint: it is a ValueError instead."""
        with pytest.raises(ValueError, match="non-empty batch id"):
            await batches.retrieve("")


class TestWait:
    async def test_polls_until_ended_reporting_progress(
        self, server: MockAnthropic, client: sluice.AsyncClient
    ) -> None:
        """wait() retrieves until 'ended', calling a sync callback with every batch."""
        install_batches(server, complete_after=3)
        batches = client.messages.batches
        created = await batches.create(requests=[request("a")])
        seen: list[str] = []
        batch = await batches.wait(
            created.id, poll_interval=0, on_progress=lambda b: seen.append(b.processing_status)
        )
        assert batch.processing_status == "ended"
        assert seen == ["in_progress", "in_progress", "ended"]

    async def test_async_callback_is_awaited(self, fake: FakeBatches, batches: Batches) -> None:
        """An async on_progress is awaited; here it ends the batch on the second poll."""
        created = await batches.create(requests=[request("a")])
        calls: list[int] = []

        async def progress(batch: MessageBatch) -> None:
            calls.append(batch.request_counts.processing)
            await anyio.lowlevel.checkpoint()
            if len(calls) == 2:
                fake.complete_batch(batch.id)

        batch = await batches.wait(created.id, poll_interval=0.001, on_progress=progress)
        assert calls == [1, 1, 0]
        assert batch.request_counts.succeeded == 1

    async def test_timeout_raises_with_the_last_batch(
        self, fake: FakeBatches, batches: Batches
    ) -> None:
        """Past the timeout, BatchWaitTimeoutError (a TimeoutError) carries the last batch."""
        created = await batches.create(requests=[request("a")])
        with pytest.raises(sluice.SluiceError, match="did not end within") as caught:
            await batches.wait(created.id, poll_interval=0.01, timeout=0.05)
        error = caught.value
        assert isinstance(error, TimeoutError)
        assert isinstance(error, sluice.BatchWaitTimeoutError)
        assert error.batch is not None and error.batch.processing_status == "in_progress"
        assert error.timeout == 0.05

    async def test_negative_poll_interval(self, batches: Batches) -> None:
        """A negative poll_interval is refused before any request."""
        with pytest.raises(ValueError):
            await batches.wait("msgbatch_x", poll_interval=-1)


class TestResults:
    async def test_all_result_kinds_typed(self, fake: FakeBatches, batches: Batches) -> None:
        """The results file streams one typed result per line, for all four kinds."""
        batch = await ended_batch(batches, fake, ALL_KINDS)
        items = await collect(batches.results(batch.id))
        assert [item.custom_id for item in items] == ["ok", "bad", "gone", "late"]
        assert [type(item.result) for item in items] == [
            MessageBatchSucceededResult,
            MessageBatchErroredResult,
            MessageBatchCanceledResult,
            MessageBatchExpiredResult,
        ]
        first = items[0].result
        assert isinstance(first, MessageBatchSucceededResult)
        assert first.message.content == [sluice.TextBlock(text="Hello")]

    async def test_by_id_and_by_batch_use_the_same_path(
        self, server: MockAnthropic, fake: FakeBatches, batches: Batches
    ) -> None:
        """By id it GETs /v1/messages/batches/{id}/results; by batch, its results_url."""
        batch = await ended_batch(batches, fake, ALL_KINDS)
        by_id = await collect(batches.results(batch.id))
        by_batch = await collect(batches.results(batch))
        assert by_id == by_batch
        paths = [r.path for r in server.requests[-2:]]
        assert paths == [f"/v1/messages/batches/{batch.id}/results"] * 2
        assert server.requests[-1].headers["accept"] == "application/binary"

    async def test_results_url_path_is_requested_from_base_url(
        self, server: MockAnthropic, fake: FakeBatches, batches: Batches
    ) -> None:
        """A results_url on another host is not followed there: its path goes to base_url."""
        batch = await ended_batch(batches, fake, [CANCELED])
        elsewhere = msgspec.structs.replace(
            batch, results_url=f"https://files.example/v1/messages/batches/{batch.id}/results"
        )
        items = await collect(batches.results(elsewhere))
        assert [item.custom_id for item in items] == ["gone"]
        assert server.requests[-1].headers["host"] == server.base_url.removeprefix("http://")

    async def test_results_url_under_a_base_path(self, server: MockAnthropic) -> None:
        """With a base_url path prefix, a results_url under it is not prefixed twice, and
        one on the API's host gets the prefix."""
        data = jsonl([CANCELED])
        base = f"{server.base_url}/proxy"
        async with (
            httpx.AsyncClient(verify=TLS, timeout=10.0) as http,
            sluice.AsyncClient(api_key="test", base_url=base, http_client=http) as client,
        ):
            for results_url in (
                f"{base}/v1/messages/batches/b1/results",
                "https://api.anthropic.com/v1/messages/batches/b1/results?page=2",
            ):
                server.enqueue(Reply.sse(data, chunk_size=64))
                batch = MessageBatch(
                    id="b1",
                    processing_status="ended",
                    created_at="t",
                    expires_at="t",
                    results_url=results_url,
                )
                assert len(await collect(client.messages.batches.results(batch))) == 1
        assert [(r.path, r.query) for r in server.requests] == [
            ("/proxy/v1/messages/batches/b1/results", {}),
            ("/proxy/v1/messages/batches/b1/results", {"page": ["2"]}),
        ]

    async def test_batch_without_results_url(self, batches: Batches) -> None:
        """A batch that has not ended has no results_url: a clear SluiceError, no request."""
        batch = MessageBatch(
            id="msgbatch_x", processing_status="in_progress", created_at="t", expires_at="t"
        )
        with pytest.raises(sluice.SluiceError, match="no results_url yet"):
            batches.results(batch)

    async def test_unknown_batch_is_not_found_on_enter(
        self, fake: FakeBatches, batches: Batches
    ) -> None:
        """The request goes out on enter, so a 404 surfaces there as NotFoundError."""
        with pytest.raises(sluice.NotFoundError):
            async with batches.results("msgbatch_nope"):
                pass

    async def test_not_ended_is_a_bad_request(self, fake: FakeBatches, batches: Batches) -> None:
        """The fake refuses results of a running batch with a typed 400."""
        created = await batches.create(requests=[request("a")])
        with pytest.raises(sluice.BadRequestError, match="has not ended"):
            await collect(batches.results(created.id))

    async def test_100k_lines(self, fake: FakeBatches, batches: Batches) -> None:
        """A 100 000-line file streams completely, every result typed and counted."""
        message = json.dumps(MESSAGE, separators=(",", ":"))
        templates = [
            '{"custom_id":"r%d","result":{"type":"succeeded","message":' + message + "}}\n",
            '{"custom_id":"r%d","result":{"type":"canceled"}}\n',
            '{"custom_id":"r%d","result":{"type":"expired"}}\n',
            '{"custom_id":"r%d","result":{"type":"errored","error":{"type":"error",'
            '"error":{"type":"overloaded_error","message":"busy"}}}}\n',
        ]
        data = "".join(templates[i % 4] % i for i in range(100_000)).encode()
        batch = await ended_batch(batches, fake, data)
        assert batch.request_counts == sluice_counts(
            succeeded=25_000, canceled=25_000, expired=25_000, errored=25_000
        )
        counts = dict.fromkeys(["succeeded", "canceled", "expired", "errored"], 0)
        last = None
        longest = max(map(len, data.splitlines()))
        async with batches.results(batch.id) as results:
            async for item in results:
                counts[item.result.type] += 1
                last = item
                assert results._splitter.buffered <= longest  # one unfinished line at most
            assert results.results_received == 100_000
        assert counts == {
            "succeeded": 25_000,
            "canceled": 25_000,
            "expired": 25_000,
            "errored": 25_000,
        }
        assert last is not None and last.custom_id == "r99999"

    async def test_break_releases_the_connection(self, fake: FakeBatches, batches: Batches) -> None:
        """Leaving the block after a break closes the response mid-file."""
        data = jsonl([CANCELED] * 5_000)  # 280 KB: several HTTP chunks
        batch = await ended_batch(batches, fake, data)
        async with batches.results(batch.id) as results:
            async for _ in results:
                break
        assert results.response is not None and results.response.is_closed
        assert results.results_received == 1

    async def test_plain_iteration_to_the_end_closes(
        self, fake: FakeBatches, batches: Batches
    ) -> None:
        """Without async with, reading to the end sends the request and closes it."""
        batch = await ended_batch(batches, fake, [CANCELED, EXPIRED])
        results = batches.results(batch.id)
        assert results.response is None
        items = [item async for item in results]
        assert len(items) == 2
        assert results.response is not None and results.response.is_closed
        assert results.request_id is not None

    async def test_abandoned_iterator_is_finalized(
        self, anyio_backend: str, fake: FakeBatches, batches: Batches
    ) -> None:
        """Dropped mid-file without async with, the iterator is closed by the event loop's
        async-generator finalizer, releasing the response (trio also warns: use async with)."""
        batch = await ended_batch(batches, fake, jsonl([CANCELED] * 5_000))
        results = batches.results(batch.id)
        async for _ in results:
            break
        response = results.response
        assert response is not None and not response.is_closed
        warns = (
            pytest.warns(ResourceWarning, match="garbage collected")
            if anyio_backend == "trio"
            else contextlib.nullcontext()
        )
        with warns:
            del results
            gc.collect()
        for _ in range(1000):  # the finalizer's aclose() runs as a task: give it turns
            if response.is_closed:
                break
            await anyio.sleep(0.001)
        assert response.is_closed

    async def test_aclose_before_iterating(self, fake: FakeBatches, batches: Batches) -> None:
        """Entering and leaving without reading still releases the response."""
        batch = await ended_batch(batches, fake, [CANCELED])
        async with batches.results(batch.id) as results:
            pass
        assert results.response is not None and results.response.is_closed
        with pytest.raises(StopAsyncIteration):
            await results.__anext__()

    async def test_cancellation_releases_the_connection(
        self, server: MockAnthropic, fake: FakeBatches, batches: Batches
    ) -> None:
        """A cancelled read of a stalled file still closes the response."""
        line = jsonl([CANCELED])
        server.enqueue(Reply.sse(line * 10, chunk_size=100, stall_after=2 * len(line) + 9))
        results = batches.results("msgbatch_any")
        with anyio.CancelScope() as scope:
            async with results:
                async for _ in results:
                    if results.results_received == 2:
                        # The next read stalls: cancel it while it waits.
                        scope.deadline = anyio.current_time() + 0.01
        assert scope.cancelled_caught
        assert results.results_received == 2
        assert results.response is not None and results.response.is_closed

    async def test_keep_unknown_fields_round_trips(
        self, fake: FakeBatches, batches: Batches
    ) -> None:
        """keep_unknown_fields=True keeps new fields so to_builtins gives the line back."""
        line = {
            "custom_id": "ok",
            "result": {"type": "succeeded", "message": {**MESSAGE, "new_top_field": [1]}},
            "new_line_field": True,
        }
        batch = await ended_batch(batches, fake, [line])
        (fast,) = await collect(batches.results(batch.id))
        (kept,) = await collect(batches.results(batch.id, keep_unknown_fields=True))
        assert sluice.to_builtins(kept) == line
        assert "new_top_field" not in sluice.to_builtins(fast)["result"]["message"]

    async def test_blank_lines_are_skipped(self, server: MockAnthropic, batches: Batches) -> None:
        """Empty or whitespace-only lines carry no result and are skipped."""
        body = b"\n" + jsonl([CANCELED]) + b"\r\n  \n" + jsonl([EXPIRED]).rstrip(b"\n")
        server.enqueue(Reply.sse(body, chunk_size=7))
        items = await collect(batches.results("msgbatch_any"))
        assert [item.custom_id for item in items] == ["gone", "late"]

    async def test_bad_line_is_located(self, server: MockAnthropic, batches: Batches) -> None:
        """A line that is not JSON raises EventDecodeError with its byte offset, after the
        good lines before it were delivered."""
        good = jsonl([CANCELED])
        server.enqueue(Reply.sse(good + b"{not json}\n" + good, chunk_size=5))
        got: list[str] = []
        with pytest.raises(
            sluice.EventDecodeError, match=f"byte {len(good)} .*after 1 results"
        ) as caught:
            async with batches.results("msgbatch_any") as results:
                async for item in results:
                    got.append(item.custom_id)
        assert got == ["gone"]
        assert caught.value.offset == len(good)
        assert caught.value.data == b"{not json}"
        assert caught.value.events_received == 1

    async def test_line_over_the_limit(self, server: MockAnthropic, batches: Batches) -> None:
        """A line longer than max_line_size raises EventTooLargeError."""
        server.enqueue(Reply.sse(jsonl([SUCCEEDED]), chunk_size=64))
        with pytest.raises(sluice.EventTooLargeError):
            await collect(batches.results("msgbatch_any", max_line_size=100))

    async def test_dropped_connection_is_an_incomplete_stream(
        self, server: MockAnthropic, batches: Batches
    ) -> None:
        """A connection lost mid-file raises IncompleteStreamError after the lines received."""
        data = jsonl([CANCELED] * 20)
        server.enqueue(Reply.sse(data, chunk_size=len(data) // 4, drop_after=len(data) // 2))
        received = 0
        with pytest.raises(sluice.IncompleteStreamError, match="connection failed") as caught:
            async with batches.results("msgbatch_any") as results:
                async for _ in results:
                    received += 1
        assert received == 10
        assert caught.value.events_received == 10


class TestUnknownResultReencoding:
    def test_unknown_result_type_reencodes_as_received(self) -> None:
        """A result of an unknown type writes back its raw JSON, not the placeholder."""
        from sluice._resources._batches import UnknownBatchResult

        raw = {"type": "deferred", "until": "tomorrow"}
        assert sluice.to_builtins(UnknownBatchResult(raw=raw)) == raw
