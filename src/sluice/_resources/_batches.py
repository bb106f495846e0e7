"""``client.messages.batches``: the Message Batches API, with results streamed in constant memory.

Shapes follow the public API reference ("Create a Message Batch", "Retrieve a Message
Batch", "List Message Batches", "Cancel a Message Batch", "Delete a Message Batch",
"Retrieve Message Batch results"). Timestamps stay RFC 3339 strings as sent.

The results file of a large batch can be gigabytes. :meth:`Batches.results` reads it as the
network delivers it: bytes -> lines (:class:`~sluice._core._jsonl.LineSplitter`, sans-I/O) ->
one typed msgspec decode per line -> your loop. Memory holds one network chunk and one
line, whatever the size of the file, and nothing is decoded to ``str`` on the way.
"""

from __future__ import annotations

import inspect
from collections.abc import AsyncGenerator, Awaitable, Callable, Iterable, Mapping
from typing import Any, ClassVar, Final, Literal, TypeAlias, Unpack

import anyio
import httpx
import msgspec

from .._core._content import ContentDecodingError
from .._core._events import ErrorDetail
from .._core._exceptions import (
    BatchWaitTimeoutError,
    EventDecodeError,
    IncompleteStreamError,
    SluiceError,
    StreamError,
)
from .._core._jsonl import DEFAULT_MAX_LINE_SIZE, LineSplitter
from .._core._message import Message, decode_message
from .._core._params import validate_batch_requests
from .._core._wire import UNKNOWN_TAG, Wire, attach_extras
from .._http._body import LazyBody, body_chunks, release
from .._http._observe import reproducible
from .._http._requester import APIPath, RequestExtras, RequestOptions
from ._base import CursorListed, api_path

__all__ = [
    "Batches",
    "BatchResults",
    "DeletedMessageBatch",
    "ErrorResponse",
    "MessageBatch",
    "MessageBatchCanceledResult",
    "MessageBatchErroredResult",
    "MessageBatchExpiredResult",
    "MessageBatchIndividualResponse",
    "MessageBatchRequestCounts",
    "MessageBatchResult",
    "MessageBatchSucceededResult",
    "UnknownBatchResult",
    "decode_batch_result",
]

# ------------------------------------------------------------------------------ the batch


class MessageBatchRequestCounts(Wire, kw_only=True, tag=False):
    """Requests of a batch by status; they leave ``processing`` only when the batch ends."""

    processing: int = 0
    succeeded: int = 0
    errored: int = 0
    canceled: int = 0
    expired: int = 0


class MessageBatch(Wire, kw_only=True, tag="message_batch"):
    """A Message Batch.

    Attributes:
        id: the batch id (``msgbatch_...``).
        processing_status: ``"in_progress"``, ``"canceling"`` or ``"ended"`` (a plain
            ``str``: a new status from the API is data, not a crash).
        request_counts: requests by status.
        created_at, expires_at: RFC 3339 times; a batch expires 24 hours after creation.
        ended_at, cancel_initiated_at, archived_at: RFC 3339 times, or ``None``.
        results_url: where the results file is, once processing has ended.
    """

    type: ClassVar[Literal["message_batch"]] = "message_batch"
    id: str
    processing_status: str
    request_counts: MessageBatchRequestCounts = msgspec.field(
        default_factory=MessageBatchRequestCounts
    )
    created_at: str
    expires_at: str
    ended_at: str | None = None
    cancel_initiated_at: str | None = None
    archived_at: str | None = None
    results_url: str | None = None


class DeletedMessageBatch(Wire, kw_only=True, tag="message_batch_deleted"):
    """The answer to a delete: the id of the batch that is gone."""

    type: ClassVar[Literal["message_batch_deleted"]] = "message_batch_deleted"
    id: str


# ---------------------------------------------------------------------------- the results


class ErrorResponse(Wire, kw_only=True, tag="error"):
    """An API error body: ``{"type": "error", "error": {"type": ..., "message": ...}}``."""

    type: ClassVar[Literal["error"]] = "error"
    error: ErrorDetail
    request_id: str | None = None


class MessageBatchSucceededResult(Wire, kw_only=True, tag="succeeded"):
    """The request succeeded; ``message`` is the reply, as ``messages.create`` returns it."""

    type: ClassVar[Literal["succeeded"]] = "succeeded"
    message: Message


class MessageBatchErroredResult(Wire, kw_only=True, tag="errored"):
    """The request failed; ``error.error.type`` says why (``invalid_request_error``...)."""

    type: ClassVar[Literal["errored"]] = "errored"
    error: ErrorResponse


class MessageBatchCanceledResult(Wire, kw_only=True, tag="canceled"):
    """The batch was canceled before this request was processed."""

    type: ClassVar[Literal["canceled"]] = "canceled"


class MessageBatchExpiredResult(Wire, kw_only=True, tag="expired"):
    """The batch expired (24 hours) before this request was processed."""

    type: ClassVar[Literal["expired"]] = "expired"


class UnknownBatchResult(Wire, kw_only=True, tag=UNKNOWN_TAG):
    """A result of a type this version of sluice does not know; ``raw`` is its JSON."""

    raw: dict[str, Any] = msgspec.field(default_factory=dict)

    @property
    def type(self) -> str:
        """The result's wire ``type``."""
        return str(self.raw.get("type", ""))


MessageBatchResult: TypeAlias = (
    MessageBatchSucceededResult
    | MessageBatchErroredResult
    | MessageBatchCanceledResult
    | MessageBatchExpiredResult
    | UnknownBatchResult
)


class MessageBatchIndividualResponse(Wire, kw_only=True, tag=False):
    """One line of a batch's results file.

    Attributes:
        custom_id: the id given to the request when the batch was created. Results are
            not in request order: match them by this id.
        result: what became of the request; ``match`` on its class, or compare
            ``result.type`` to ``"succeeded"``, ``"errored"``, ``"canceled"``,
            ``"expired"``.
    """

    custom_id: str
    result: MessageBatchResult


class _RawIndividualResponse(msgspec.Struct):
    custom_id: str
    result: msgspec.Raw


class _RawResult(msgspec.Struct):
    type: str
    message: msgspec.Raw = msgspec.Raw()  # empty when absent


_result_decoder = msgspec.json.Decoder(MessageBatchIndividualResponse)
_raw_response_decoder = msgspec.json.Decoder(_RawIndividualResponse)
_raw_result_decoder = msgspec.json.Decoder(_RawResult)
_any_decoder = msgspec.json.Decoder()
_KNOWN_RESULT_TYPES = frozenset({"succeeded", "errored", "canceled", "expired"})


def decode_batch_result(line: bytes) -> MessageBatchIndividualResponse:
    """Decode one line of a batch results file (sans-I/O; what :meth:`Batches.results` uses).

    One typed msgspec pass in the common case. A message with a content block of a type
    this version does not know is decoded again block by block (the block becomes an
    :class:`~sluice.UnknownBlock`, as in a stream), and an unknown result type becomes an
    :class:`UnknownBatchResult`: new API features never fail the file. Fields this version
    does not model are skipped, for speed (see ``keep_unknown_fields`` on ``results``).

    Raises:
        msgspec.DecodeError: the line is not JSON.
        msgspec.ValidationError: a known result type with the wrong shape.
    """
    try:
        return _result_decoder.decode(line)
    except msgspec.ValidationError:
        return _decode_lenient(line)


def _decode_lenient(line: bytes) -> MessageBatchIndividualResponse:
    # Slow path for a line the typed decoder rejected: unknown block or result types.
    shell = _raw_response_decoder.decode(line)
    raw_result = _raw_result_decoder.decode(shell.result)
    result: MessageBatchResult
    if raw_result.type == "succeeded" and raw_result.message:
        result = MessageBatchSucceededResult(message=decode_message(raw_result.message))
    elif raw_result.type in _KNOWN_RESULT_TYPES:
        # A known result type whose shape is wrong: a malformed file, not a new feature.
        _result_decoder.decode(line)  # re-raise the precise ValidationError
        raise AssertionError("unreachable")  # pragma: no cover
    else:
        result = UnknownBatchResult(raw=_any_decoder.decode(shell.result))
    return MessageBatchIndividualResponse(custom_id=shell.custom_id, result=result)


def _decode_keeping_fields(line: bytes) -> MessageBatchIndividualResponse:
    item = decode_batch_result(line)
    if type(item.result) is not UnknownBatchResult:
        attach_extras(item, _any_decoder.decode(line))
    return item


# ------------------------------------------------------------------------- results stream


class BatchResults(LazyBody[MessageBatchIndividualResponse]):
    """The results of a batch, streamed from the results file: an async iterator of
    :class:`MessageBatchIndividualResponse`, one per line.

    Use it as ``async with client.messages.batches.results(batch_id) as results:`` and
    ``async for item in results``. The request is sent on enter (or on the first
    ``__anext__`` without ``async with``); leaving the block, :meth:`aclose`, or reading
    to the end releases the connection, on asyncio and trio alike. After a ``break`` out
    of a bare ``async for``, the connection is released only when the event loop finalizes
    the abandoned iterator (trio warns about it): prefer ``async with``.

    Attributes:
        response: the ``httpx.Response`` being read, once the request was sent.
        results_received: how many results were decoded so far.
    """

    def __init__(
        self,
        send: Callable[[], Awaitable[httpx.Response]],
        *,
        max_line_size: int = DEFAULT_MAX_LINE_SIZE,
        keep_unknown_fields: bool = False,
    ) -> None:
        self._splitter = LineSplitter(max_line_size=max_line_size)
        self._decode = _decode_keeping_fields if keep_unknown_fields else decode_batch_result
        self.results_received = 0
        super().__init__(send)

    _what = "these batch results"

    def __repr__(self) -> str:
        state = "closed" if self._closed else "open"
        return f"<BatchResults {state}, {self.results_received} results>"

    async def _iterate(self) -> AsyncGenerator[MessageBatchIndividualResponse, None]:
        response = await self._open()
        splitter = self._splitter
        feed = splitter.feed
        decode = self._decode
        chunks = body_chunks(response)
        try:
            try:
                # The hot loop: one C-level split per chunk, one typed decode per line.
                async for chunk in chunks:
                    lines = feed(chunk)
                    for line in lines:
                        try:
                            item = decode(line)
                        except msgspec.MsgspecError as exc:
                            if not line.strip():
                                continue  # a blank line carries no result
                            raise self._decode_error(exc, line, lines) from exc
                        self.results_received += 1
                        yield item
                lines = splitter.close()
                for line in lines:
                    try:
                        item = decode(line)
                    except msgspec.MsgspecError as exc:
                        if not line.strip():
                            continue
                        raise self._decode_error(exc, line, lines) from exc
                    self.results_received += 1
                    yield item
            except (httpx.TransportError, ContentDecodingError) as exc:
                what = (
                    "connection failed" if isinstance(exc, httpx.TransportError) else "body broke"
                )
                raise IncompleteStreamError(
                    f"the {what} after {self.results_received} results "
                    f"({type(exc).__name__}: {exc}); call results() again to re-read the file",
                    events_received=self.results_received,
                ) from exc
        except StreamError as exc:
            reproducible(exc, response)
            raise
        finally:
            await release(response, chunks)

    def _decode_error(self, exc: Exception, line: bytes, lines: list[bytes]) -> EventDecodeError:
        # Locate the line from the splitter's position: free on the happy path.
        offset = self._splitter.position
        for other in lines:
            if other is line:
                break
            offset += len(other) + 1
        preview = line[:200].decode("utf-8", "replace")
        more = "..." if len(line) > 200 else ""
        return EventDecodeError(
            f"could not decode the line at byte {offset} of the batch results (after "
            f"{self.results_received} results): {exc}; the line was {preview!r}{more}",
            event="message_batch_result",
            data=line,
            offset=offset,
            events_received=self.results_received,
        )


# ------------------------------------------------------------------------------ resource


#: ``on_progress`` for :meth:`Batches.wait`: a function of the batch, plain or async.
ProgressCallback: TypeAlias = Callable[[MessageBatch], object]


class Batches(CursorListed[MessageBatch]):
    """``client.messages.batches``: create, inspect, list, cancel, delete Message Batches,
    wait for one to end and stream its results.

    Every method raises :class:`~sluice.APIError` subclasses for error statuses (e.g.
    :class:`~sluice.NotFoundError` for an unknown batch) and
    :class:`~sluice.APIConnectionError` when the API cannot be reached.
    """

    list_path = "/v1/messages/batches"
    item_type = MessageBatch

    async def create(
        self, *, requests: Iterable[Mapping[str, Any]], **options: Unpack[RequestOptions]
    ) -> MessageBatch:
        """Submit a batch of Messages requests, processed asynchronously.

        Args:
            requests: ``{"custom_id": "...", "params": {...}}`` items; ``params`` are the
                fields of a ``messages.create`` request.

        Raises:
            ParamsError: before sending, for a request the API would refuse (each
                ``params`` is checked as ``messages.create`` checks its own; ``custom_id``
                1 to 64 letters, digits, ``_`` or ``-``, unique); ``field`` says where,
                e.g. ``"requests[2].params.max_tokens"``.
        """
        betas = [*self._requester.betas, *options.get("betas", ())]
        body = {"requests": validate_batch_requests(requests, betas=betas)}
        return await self._post("/v1/messages/batches", MessageBatch, options, body=body)

    async def retrieve(self, batch_id: str, **options: Unpack[RequestOptions]) -> MessageBatch:
        """The batch as it is now (idempotent: poll it, or use :meth:`wait`)."""
        return await self._get(_batch_path(batch_id), MessageBatch, options)

    async def cancel(self, batch_id: str, **options: Unpack[RequestOptions]) -> MessageBatch:
        """Ask the API to cancel the batch; it is ``"canceling"`` until it ends.

        Requests not yet processed end as ``canceled`` results.
        """
        return await self._post(_batch_path(batch_id, "/cancel"), MessageBatch, options)

    async def delete(self, batch_id: str, **options: Unpack[RequestOptions]) -> DeletedMessageBatch:
        """Delete an ended batch (cancel a running one first)."""
        return await self._delete(_batch_path(batch_id), DeletedMessageBatch, options)

    async def wait(
        self,
        batch_id: str,
        *,
        poll_interval: float = 10.0,
        # Not just anyio.fail_after around the call: expiry raises a SluiceError that
        # carries the last batch retrieved.
        timeout: float | None = None,  # noqa: ASYNC109
        on_progress: ProgressCallback | None = None,
        **options: Unpack[RequestExtras],
    ) -> MessageBatch:
        """Poll the batch until its ``processing_status`` is ``"ended"``; return it then.

        Args:
            batch_id: the batch to wait for.
            poll_interval: seconds between two retrieves.
            timeout: give up after this many seconds (``None``: wait as long as it takes;
                the API ends every batch within 24 hours). Each retrieve still has the
                client's request timeout.
            on_progress: called with the batch after every retrieve, the last (ended)
                one included; a plain function or an async one.
            options: per-request options for each retrieve (``betas``, ``extra_headers``...).

        Raises:
            BatchWaitTimeoutError: ``timeout`` expired first; ``.batch`` is the last
                batch retrieved. The batch goes on processing.
        """
        if poll_interval < 0:
            raise ValueError(f"poll_interval must be >= 0, got {poll_interval}")
        last: MessageBatch | None = None
        with anyio.move_on_after(timeout) as scope:
            while True:
                last = await self.retrieve(batch_id, **options)
                if on_progress is not None:
                    outcome = on_progress(last)
                    if inspect.isawaitable(outcome):
                        await outcome
                if last.processing_status == "ended":
                    return last
                await anyio.sleep(poll_interval)
        assert scope.cancelled_caught and timeout is not None
        status = "no retrieve completed" if last is None else last.processing_status
        raise BatchWaitTimeoutError(
            f"batch {batch_id} did not end within {timeout} seconds (last status: {status}); "
            f"it keeps processing: wait again or cancel it",
            batch=last,
            timeout=timeout,
        )

    def results(
        self,
        batch: str | MessageBatch,
        *,
        max_line_size: int = DEFAULT_MAX_LINE_SIZE,
        keep_unknown_fields: bool = False,
        **options: Unpack[RequestOptions],
    ) -> BatchResults:
        """Stream the results of an ended batch, one typed result per line, in constant memory.

        ::

            async with client.messages.batches.results(batch_id) as results:
                async for item in results:
                    match item.result:
                        case MessageBatchSucceededResult(message=message):
                            ...

        Args:
            batch: a batch id (``GET /v1/messages/batches/{id}/results``) or a
                :class:`MessageBatch`, whose ``results_url`` is followed. A
                ``results_url`` on another host (the API's own, behind a proxy
                ``base_url``) has its path requested from ``base_url``: the API key is
                never sent anywhere else.
            max_line_size: the longest line accepted, in bytes.
            keep_unknown_fields: also keep fields this version does not model, so that
                ``sluice.to_json`` writes each result back exactly (costs a second,
                untyped decode of every line).

        Raises (on enter or first iteration): :class:`~sluice.APIError` subclasses
        (:class:`~sluice.NotFoundError` for an unknown batch), :class:`~sluice.SluiceError`
        for a :class:`MessageBatch` without ``results_url`` (not ended yet). While
        iterating: :class:`~sluice.EventDecodeError` for a line that is not a result,
        :class:`~sluice.EventTooLargeError` for a line over ``max_line_size``,
        :class:`~sluice.IncompleteStreamError` if the connection fails.
        """
        if isinstance(batch, MessageBatch):
            if batch.results_url is None:
                raise SluiceError(
                    f"batch {batch.id} has no results_url yet (processing_status "
                    f"{batch.processing_status!r}); wait() for it to end first"
                )
            path: str = APIPath(
                _results_path(batch.results_url, str(self._requester.base_url)), _RESULTS
            )
        else:
            path = _batch_path(batch, "/results")
        send = self._sender("GET", path, options, headers={"accept": "application/binary"})
        return BatchResults(
            send, max_line_size=max_line_size, keep_unknown_fields=keep_unknown_fields
        )


#: The template of a batch's results (the breaker of a ``results_url`` followed).
_RESULTS: Final = "/v1/messages/batches/{batch_id}/results"


def _batch_path(batch_id: str, tail: str = "") -> str:
    return api_path("/v1/messages/batches/{batch_id}" + tail, batch_id=batch_id)


def _results_path(results_url: str, base_url: str) -> str:
    # Under base_url: the part after it, which the client joins back on. Elsewhere: its
    # path and query only, requested from base_url.
    if results_url.startswith(base_url):
        return results_url[len(base_url) :]
    return httpx.URL(results_url).raw_path.decode("ascii")
