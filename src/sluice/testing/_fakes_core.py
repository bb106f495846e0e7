"""Stateful fakes of the API's non-streaming endpoints, served by :class:`MockAnthropic`.

Each ``install_*`` function routes a group of endpoints of a started server to handlers
that keep state in memory and answer in the API's shapes, so that an application can be
tested end to end against real HTTP::

    async with MockAnthropic() as server:
        install_models(server)
        batches = install_batches(server, complete_after=2)
        install_count_tokens(server)
        install_completions(server)
        ...  # point the app at server.base_url

* :func:`install_models`: ``GET /v1/models`` (paginated) and ``GET /v1/models/{id}``.
* :func:`install_batches`: the Message Batches API. A new batch is ``in_progress`` until
  the test ends it with :meth:`FakeBatches.complete_batch` (or, with ``complete_after=N``,
  until its N-th retrieve); its results file is served as JSON Lines.
* :func:`install_count_tokens`: ``POST /v1/messages/count_tokens`` with a deterministic
  count.
* :func:`install_completions`: the legacy ``POST /v1/complete``, streaming or not.

List endpoints paginate like the API: ``limit`` (default 20, 1 to 1000), ``after_id`` or
``before_id``, and ``{"data", "has_more", "first_id", "last_id"}`` answers, most recent
first. Invalid requests get the API's error shape (400 ``invalid_request_error``, 404
``not_found_error``).
"""

from __future__ import annotations

import re
import urllib.parse
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, Final

import msgspec

from ._fakes_common import (
    invalid,
    json_object,
    new_id,
    not_found,
    paginate,
    path_tail,
    route,
    timestamp,
    utc_now,
)
from ._server import MockAnthropic, RecordedRequest, Reply

__all__ = [
    "DEFAULT_MODELS",
    "FakeBatches",
    "install_batches",
    "install_completions",
    "install_count_tokens",
    "install_models",
]

#: What :func:`install_models` serves by default, most recent first (as the API lists).
DEFAULT_MODELS: Final[tuple[Mapping[str, Any], ...]] = tuple(
    {"type": "model", "id": model_id, "display_name": name, "created_at": created}
    for model_id, name, created in (
        ("claude-haiku-4-5-20251001", "Claude Haiku 4.5", "2025-10-15T00:00:00Z"),
        ("claude-sonnet-4-5-20250929", "Claude Sonnet 4.5", "2025-09-29T00:00:00Z"),
        ("claude-opus-4-1-20250805", "Claude Opus 4.1", "2025-08-05T00:00:00Z"),
        ("claude-opus-4-20250514", "Claude Opus 4", "2025-05-22T00:00:00Z"),
        ("claude-sonnet-4-20250514", "Claude Sonnet 4", "2025-05-22T00:00:00Z"),
        ("claude-3-7-sonnet-20250219", "Claude Sonnet 3.7", "2025-02-24T00:00:00Z"),
        ("claude-3-5-haiku-20241022", "Claude Haiku 3.5", "2024-10-22T00:00:00Z"),
    )
)

_MAX_BATCH_REQUESTS: Final = 100_000
#: The results file goes out in HTTP chunks of this size, as a large download would.
_RESULTS_CHUNK: Final = 64 * 1024
_CUSTOM_ID_RE: Final = re.compile(r"[a-zA-Z0-9_-]{1,64}")
_RESULT_KINDS: Final = ("succeeded", "errored", "canceled", "expired")


# ------------------------------------------------------------------------------- models


_DATE_SUFFIX: Final = re.compile(r"-\d{8}$")


def install_models(
    server: MockAnthropic, models: Iterable[Mapping[str, Any] | str] | None = None
) -> None:
    """Serve ``GET /v1/models`` and ``GET /v1/models/{model_id}`` from a fixed list.

    Args:
        server: a started mock server.
        models: the models, in listing order (the API lists the most recent first). Each is
            a model object (``{"type": "model", "id", "display_name", "created_at"}``, any
            extra fields kept) or just an id. ``None``: :data:`DEFAULT_MODELS`.
    """
    listed: list[Mapping[str, Any]] = []
    for model in DEFAULT_MODELS if models is None else models:
        if isinstance(model, str):
            model = {
                "type": "model",
                "id": model,
                "display_name": model,
                "created_at": "2025-01-01T00:00:00Z",
            }
        listed.append({"type": "model", **model})
    by_id = {model["id"]: model for model in listed}
    # Like the API, a model alias (the id without its date suffix) names the newest model.
    for model in listed:  # most recent first, so the newest takes the alias
        alias = _DATE_SUFFIX.sub("", str(model["id"]))
        if alias != model["id"]:
            by_id.setdefault(alias, model)

    def list_models(request: RecordedRequest) -> Reply:
        return paginate(listed, request.query)

    def get_model(request: RecordedRequest) -> Reply:
        (model_id, *rest) = path_tail(request, "/v1/models/")
        model = by_id.get(model_id)
        if model is None or rest:
            raise not_found(f"model: {model_id}")
        return Reply.json(model)

    route(server, "GET", "/v1/models", list_models)
    route(server, "GET", "/v1/models/*", get_model)


# ------------------------------------------------------------------------------ batches


@dataclass
class _Batch:
    """One batch as the fake keeps it: the wire fields plus what the API keeps inside."""

    wire: dict[str, Any]
    requests: list[dict[str, Any]]
    retrieves: int = 0
    results: Reply | None = None
    counts: dict[str, int] = field(default_factory=dict)


class _ResultKind(msgspec.Struct):
    type: str


class _ResultLine(msgspec.Struct):
    custom_id: str
    result: _ResultKind


_result_line_decoder = msgspec.json.Decoder(_ResultLine)


class FakeBatches:
    """The in-memory state behind :func:`install_batches`, with hooks for the test.

    Attributes:
        complete_after: end a batch by its N-th retrieve (``None``: only
            :meth:`complete_batch` ends a batch).
    """

    def __init__(self, *, complete_after: int | None = None) -> None:
        if complete_after is not None and complete_after < 1:
            raise ValueError(f"complete_after must be >= 1, got {complete_after}")
        self.complete_after = complete_after
        self._batches: dict[str, _Batch] = {}  # insertion order: oldest first

    def __repr__(self) -> str:
        return f"<FakeBatches {len(self._batches)} batches>"

    @property
    def ids(self) -> list[str]:
        """The ids of the batches stored, most recent first (the listing order)."""
        return list(reversed(self._batches))

    def requests_of(self, batch_id: str) -> list[dict[str, Any]]:
        """The requests (``{"custom_id", "params"}``) the batch was created with."""
        return list(self._get(batch_id).requests)

    def status_of(self, batch_id: str) -> str:
        """The batch's ``processing_status``."""
        return str(self._get(batch_id).wire["processing_status"])

    def complete_batch(
        self,
        batch_id: str,
        results: Iterable[Mapping[str, Any]] | bytes | None = None,
    ) -> None:
        """End a batch now, with these results.

        Args:
            batch_id: the batch.
            results: the lines of its results file: ``{"custom_id", "result"}`` objects,
                or the raw JSON Lines bytes (served as they are, e.g. a huge file for a
                benchmark). ``None``: every request succeeded with a short text reply.
                The request counts are tallied from the results.

        Raises:
            KeyError: no such batch.
        """
        batch = self._get(batch_id)
        if results is None:
            lines = [_succeeded(request) for request in batch.requests]
            data = b"".join(msgspec.json.encode(line) + b"\n" for line in lines)
        elif isinstance(results, bytes | bytearray):
            data = bytes(results)
        else:
            data = b"".join(msgspec.json.encode(dict(line)) + b"\n" for line in results)
        self._end(batch, data)

    # -- handlers

    def _create(self, request: RecordedRequest) -> Reply:
        body = request.json
        requests = body.get("requests") if isinstance(body, dict) else None
        if not isinstance(requests, list) or not requests:
            raise invalid("requests: Field required (a non-empty list of requests)")
        if len(requests) > _MAX_BATCH_REQUESTS:
            raise invalid(f"requests: at most {_MAX_BATCH_REQUESTS} requests per batch")
        seen: set[str] = set()
        for index, item in enumerate(requests):
            custom_id = item.get("custom_id") if isinstance(item, dict) else None
            if not isinstance(custom_id, str) or not _CUSTOM_ID_RE.fullmatch(custom_id):
                raise invalid(
                    f"requests.{index}.custom_id: 1 to 64 letters, digits, '_' or '-' required"
                )
            if custom_id in seen:
                raise invalid(f"requests.{index}.custom_id: duplicate custom_id {custom_id!r}")
            seen.add(custom_id)
            if not isinstance(item.get("params"), dict):
                raise invalid(f"requests.{index}.params: Field required")
        created = utc_now()
        batch_id = new_id("msgbatch")
        wire = {
            "id": batch_id,
            "type": "message_batch",
            "processing_status": "in_progress",
            "request_counts": {
                "processing": len(requests),
                "succeeded": 0,
                "errored": 0,
                "canceled": 0,
                "expired": 0,
            },
            "ended_at": None,
            "created_at": timestamp(created),
            "expires_at": timestamp(created + timedelta(hours=24)),
            "archived_at": None,
            "cancel_initiated_at": None,
            "results_url": None,
        }
        self._batches[batch_id] = _Batch(wire=wire, requests=requests)
        return Reply.json(self._public(self._batches[batch_id], request))

    def _list(self, request: RecordedRequest) -> Reply:
        batches = [self._public(batch, request) for batch in reversed(self._batches.values())]
        return paginate(batches, request.query)

    def _get_route(self, request: RecordedRequest) -> Reply:
        parts = path_tail(request, "/v1/messages/batches/")
        batch = self._batches.get(parts[0])
        if batch is None:
            raise not_found(f"message batch: {parts[0]}")
        if parts[1:] == []:
            return self._retrieve(batch, request)
        if parts[1:] == ["results"]:
            return self._results(batch)
        raise not_found(f"no such endpoint: {request.path}")

    def _post_route(self, request: RecordedRequest) -> Reply:
        parts = path_tail(request, "/v1/messages/batches/")
        if parts[1:] != ["cancel"]:
            raise not_found(f"no such endpoint: {request.path}")
        batch = self._batches.get(parts[0])
        if batch is None:
            raise not_found(f"message batch: {parts[0]}")
        if batch.wire["processing_status"] == "in_progress":
            batch.wire["processing_status"] = "canceling"
            batch.wire["cancel_initiated_at"] = timestamp(utc_now())
        return Reply.json(self._public(batch, request))

    def _delete_route(self, request: RecordedRequest) -> Reply:
        parts = path_tail(request, "/v1/messages/batches/")
        batch = self._batches.get(parts[0])
        if batch is None or parts[1:]:
            raise not_found(f"message batch: {parts[0]}")
        if batch.wire["processing_status"] != "ended":
            raise invalid(
                f"message batch {parts[0]} is still processing: cancel it, and delete it "
                f"once it has ended"
            )
        del self._batches[parts[0]]
        return Reply.json({"id": parts[0], "type": "message_batch_deleted"})

    def _retrieve(self, batch: _Batch, request: RecordedRequest) -> Reply:
        batch.retrieves += 1
        status = batch.wire["processing_status"]
        if status == "canceling":
            # Cancellation finishes by the next look: every request not done is canceled.
            canceled = [
                {"custom_id": item["custom_id"], "result": {"type": "canceled"}}
                for item in batch.requests
            ]
            self._end(batch, b"".join(msgspec.json.encode(line) + b"\n" for line in canceled))
        elif (
            status == "in_progress"
            and self.complete_after is not None
            and batch.retrieves >= self.complete_after
        ):
            self.complete_batch(batch.wire["id"])
        return Reply.json(self._public(batch, request))

    def _results(self, batch: _Batch) -> Reply:
        if batch.results is None:
            status = batch.wire["processing_status"]
            raise invalid(
                f"message batch {batch.wire['id']} has not ended (processing_status "
                f"{status!r}); its results are available once it has ended"
            )
        return batch.results

    # -- internals

    def _get(self, batch_id: str) -> _Batch:
        try:
            return self._batches[batch_id]
        except KeyError:
            raise KeyError(f"no batch {batch_id!r}; known: {self.ids}") from None

    def _end(self, batch: _Batch, data: bytes) -> None:
        counts = dict.fromkeys(_RESULT_KINDS, 0)
        for line in data.splitlines():
            try:
                kind = _result_line_decoder.decode(line).result.type
            except msgspec.MsgspecError:
                continue  # a blank or deliberately broken line counts as nothing
            counts[kind] = counts.get(kind, 0) + 1
        batch.wire["request_counts"] = {"processing": 0, **counts}
        batch.wire["processing_status"] = "ended"
        batch.wire["ended_at"] = timestamp(utc_now())
        # One HTTP chunk per 64 KiB, built once: the same immutable reply serves every GET.
        batch.results = Reply.sse(data, chunk_size=_RESULTS_CHUNK)

    def _public(self, batch: _Batch, request: RecordedRequest) -> dict[str, Any]:
        wire = dict(batch.wire)
        if wire["processing_status"] == "ended":
            host = request.headers.get("host", "127.0.0.1")
            quoted = urllib.parse.quote(wire["id"], safe="")
            wire["results_url"] = f"http://{host}/v1/messages/batches/{quoted}/results"
        return wire


def _succeeded(request: Mapping[str, Any]) -> dict[str, Any]:
    params = request["params"]
    text = f"Reply to {request['custom_id']}."
    return {
        "custom_id": request["custom_id"],
        "result": {
            "type": "succeeded",
            "message": {
                "id": new_id("msg"),
                "type": "message",
                "role": "assistant",
                "model": params.get("model", ""),
                "content": [{"type": "text", "text": text}],
                "stop_reason": "end_turn",
                "stop_sequence": None,
                "usage": {
                    "input_tokens": _token_count(params),
                    "output_tokens": len(text.split()),
                    "service_tier": "batch",
                },
            },
        },
    }


def install_batches(server: MockAnthropic, *, complete_after: int | None = None) -> FakeBatches:
    """Serve the Message Batches API from memory; returns the state, for the test's hooks.

    Routes ``POST``/``GET /v1/messages/batches``, ``GET``/``DELETE
    /v1/messages/batches/{id}``, ``POST .../{id}/cancel`` and ``GET .../{id}/results``.
    A created batch is ``in_progress`` until :meth:`FakeBatches.complete_batch` ends it,
    or its ``complete_after``-th retrieve does (every request then succeeds with a short
    text reply). A cancel makes it ``canceling``; the next retrieve ends it with every
    request ``canceled``. Delete needs an ended batch. The ``results_url`` of an ended
    batch points at this server (built from the request's ``Host`` header).

    Args:
        server: a started mock server.
        complete_after: end each batch by its N-th retrieve (N >= 1).
    """
    state = FakeBatches(complete_after=complete_after)
    route(server, "POST", "/v1/messages/batches", state._create)
    route(server, "GET", "/v1/messages/batches", state._list)
    route(server, "GET", "/v1/messages/batches/*", state._get_route)
    route(server, "POST", "/v1/messages/batches/*", state._post_route)
    route(server, "DELETE", "/v1/messages/batches/*", state._delete_route)
    return state


# ------------------------------------------------------------------------- count tokens


def _token_count(params: Mapping[str, Any]) -> int:
    # Deterministic and roughly proportional to the input: a quarter of the JSON length of
    # what the API counts (system prompt, messages and tools).
    counted = {key: params[key] for key in ("system", "messages", "tools") if key in params}
    return max(1, len(msgspec.json.encode(counted)) // 4)


def install_count_tokens(server: MockAnthropic) -> None:
    """Serve ``POST /v1/messages/count_tokens``.

    The count is deterministic: a quarter of the length of the JSON encoding of the
    request's ``system``, ``messages`` and ``tools`` (at least 1). A request without a
    ``model`` string or a ``messages`` list gets 400 ``invalid_request_error``.
    """

    def count(request: RecordedRequest) -> Reply:
        body = json_object(request)
        if not isinstance(body.get("model"), str):
            raise invalid("model: Field required")
        if not isinstance(body.get("messages"), list):
            raise invalid("messages: Field required")
        return Reply.json({"input_tokens": _token_count(body)})

    route(server, "POST", "/v1/messages/count_tokens", count)


# -------------------------------------------------------------------------- completions


def install_completions(
    server: MockAnthropic, *, text: str = " Hello! I am the mock Anthropic API."
) -> None:
    """Serve the legacy ``POST /v1/complete``, streaming (``"stream": true``) or not.

    The answer is ``text``, one "token" per word, cut to ``max_tokens_to_sample`` words
    (``stop_reason`` ``"max_tokens"``; else ``"stop_sequence"``). A stream sends one
    ``completion`` event per word, a ``ping`` after the first, and a last ``completion``
    with empty text and the ``stop_reason``. A request without ``model``, a ``prompt``
    that does not end with ``"\\n\\nAssistant:"`` or a ``max_tokens_to_sample`` below 1
    gets 400 ``invalid_request_error``.
    """
    words = re.findall(r"\s*\S+", text)

    def complete(request: RecordedRequest) -> Reply:
        body = json_object(request)
        model = body.get("model")
        prompt = body.get("prompt")
        limit = body.get("max_tokens_to_sample")
        if not isinstance(model, str):
            raise invalid("model: Field required")
        if not isinstance(prompt, str) or not prompt.rstrip().endswith("\n\nAssistant:"):
            raise invalid('prompt must end with "\\n\\nAssistant:" turn')
        if not isinstance(limit, int) or isinstance(limit, bool) or limit < 1:
            raise invalid("max_tokens_to_sample: Input should be an integer >= 1")
        pieces = words[:limit]
        stop_reason = "max_tokens" if len(words) > limit else "stop_sequence"
        completion_id = new_id("compl")
        if not body.get("stream"):
            return Reply.json(
                {
                    "type": "completion",
                    "id": completion_id,
                    "completion": "".join(pieces),
                    "stop_reason": stop_reason,
                    "model": model,
                }
            )
        events: list[dict[str, Any]] = []
        for index, piece in enumerate(pieces):
            events.append(
                {
                    "type": "completion",
                    "id": completion_id,
                    "completion": piece,
                    "stop_reason": None,
                    "model": model,
                }
            )
            if index == 0:
                events.append({"type": "ping"})
        events.append(
            {
                "type": "completion",
                "id": completion_id,
                "completion": "",
                "stop_reason": stop_reason,
                "model": model,
            }
        )
        return Reply.events(events)

    route(server, "POST", "/v1/complete", complete)
