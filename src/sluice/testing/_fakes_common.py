"""What the stateful fakes share: refusals, query and body parsing, pagination, ids, times.

A fake's handler answers a request with a :class:`~sluice.testing.Reply`, or refuses it by
raising a :class:`Refusal` (built with :func:`invalid` or :func:`not_found`), which
:func:`route` turns into the API's error reply. The parsers below raise refusals with the
API's messages, so every fake words the same mistake the same way.
"""

from __future__ import annotations

import base64
import secrets
import urllib.parse
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, Final

from ._server import MockAnthropic, RecordedRequest, Reply

__all__ = [
    "DEFAULT_LIMIT",
    "MAX_LIMIT",
    "Refusal",
    "invalid",
    "json_object",
    "new_id",
    "not_found",
    "page_token",
    "page_token_value",
    "paginate",
    "path_tail",
    "query_limit",
    "query_value",
    "route",
    "timestamp",
    "utc_now",
]

#: A list request's ``limit`` when it sends none, and the largest it may send.
DEFAULT_LIMIT: Final = 20
MAX_LIMIT: Final = 1000

#: A fake's reply function: a request in, a reply out (or a :class:`Refusal` raised).
_Handler = Callable[[RecordedRequest], Reply]


# ------------------------------------------------------------------------------ refusals


class Refusal(Exception):
    """Raised by a fake's handler to answer with an API error instead of a result.

    Attributes:
        reply: the error reply, in the API's error shape.
    """

    def __init__(self, status: int, error_type: str, message: str) -> None:
        super().__init__(message)
        self.reply = Reply.error(status, error_type, message)


def invalid(message: str) -> Refusal:
    """A 400 ``invalid_request_error`` refusal, to raise."""
    return Refusal(400, "invalid_request_error", message)


def not_found(message: str) -> Refusal:
    """A 404 ``not_found_error`` refusal, to raise."""
    return Refusal(404, "not_found_error", message)


def route(server: MockAnthropic, method: str, path: str, handler: _Handler) -> None:
    """``server.route(method, path, ...)`` for a handler that may raise a :class:`Refusal`."""

    def answer(request: RecordedRequest) -> Reply:
        try:
            return handler(request)
        except Refusal as refusal:
            return refusal.reply

    server.route(method, path, answer)


# ---------------------------------------------------------------------- requests parsing


def path_tail(request: RecordedRequest, prefix: str) -> list[str]:
    """The path segments after ``prefix``, percent-decoded."""
    rest = request.path[len(prefix) :]
    return [urllib.parse.unquote(part) for part in rest.split("/")]


def query_value(query: Mapping[str, list[str]], name: str) -> str | None:
    """The last value of a query parameter, or ``None`` if it was not sent."""
    values = query.get(name)
    return values[-1] if values else None


def query_limit(
    query: Mapping[str, list[str]], *, default: int = DEFAULT_LIMIT, maximum: int = MAX_LIMIT
) -> int:
    """The ``limit`` of a list request, 1 to ``maximum`` (``default`` when not sent).

    Raises:
        Refusal: not an integer, or out of range.
    """
    raw = query_value(query, "limit")
    if raw is None:
        return default
    try:
        limit = int(raw)
    except ValueError:
        raise invalid(f"limit: Input should be a valid integer, got {raw!r}") from None
    if not 1 <= limit <= maximum:
        raise invalid(f"limit: Input should be between 1 and {maximum}, got {limit}")
    return limit


def json_object(request: RecordedRequest, *, required: Sequence[str] = ()) -> dict[str, Any]:
    """The request's JSON body, which must be an object holding every ``required`` field.

    Raises:
        Refusal: the body is not a JSON object, or a required field is missing.
    """
    body = request.json
    if not isinstance(body, dict):
        raise invalid("the request body must be a JSON object")
    for name in required:
        if name not in body:
            raise invalid(f"{name}: Field required")
    return body


# ---------------------------------------------------------------------------- pagination


def _item_id(item: Mapping[str, Any]) -> str:
    return str(item["id"])


def paginate(
    items: Sequence[Mapping[str, Any]],
    query: Mapping[str, list[str]],
    *,
    key: Callable[[Mapping[str, Any]], str] = _item_id,
) -> Reply:
    """One page of ``items`` (in listing order) for the ``limit``/``after_id``/``before_id``
    query, as ``{"data", "has_more", "first_id", "last_id"}``; ``key`` gives an item's cursor.

    Raises:
        Refusal: a bad ``limit``, both cursors at once, or a cursor naming no item.
    """
    limit = query_limit(query)
    after = query_value(query, "after_id")
    before = query_value(query, "before_id")
    if after is not None and before is not None:
        raise invalid("after_id and before_id cannot be used together")
    ids = [key(item) for item in items]
    if after is not None:
        if after not in ids:
            raise invalid(f"after_id: no object with id {after!r}")
        start = ids.index(after) + 1
        page = items[start : start + limit]
        has_more = start + limit < len(items)
    elif before is not None:
        if before not in ids:
            raise invalid(f"before_id: no object with id {before!r}")
        end = ids.index(before)
        start = max(0, end - limit)
        page = items[start:end]
        has_more = start > 0
    else:
        page = items[:limit]
        has_more = limit < len(items)
    return Reply.json(
        {
            "data": list(page),
            "has_more": has_more,
            "first_id": key(page[0]) if page else None,
            "last_id": key(page[-1]) if page else None,
        }
    )


def page_token(value: str) -> str:
    """An opaque ``page`` token carrying ``value``: ``"page_"`` and its base64, as the
    API's look (its report tokens carry the next bucket's start)."""
    return "page_" + base64.b64encode(value.encode()).decode()


def page_token_value(token: str) -> str:
    """The value a :func:`page_token` carries.

    Raises:
        Refusal: ``token`` is not one :func:`page_token` made.
    """
    try:
        if not token.startswith("page_"):
            raise ValueError(token)
        return base64.b64decode(token.removeprefix("page_"), validate=True).decode()
    except ValueError:  # binascii.Error and UnicodeDecodeError included
        raise invalid(f"page: invalid page token {token!r}") from None


# ---------------------------------------------------------------------- ids, timestamps


def new_id(prefix: str) -> str:
    """A fresh object id shaped like the API's: ``"{prefix}_01"`` and 22 random hex digits."""
    return f"{prefix}_01{secrets.token_hex(11)}"


def utc_now() -> datetime:
    """The current time, in UTC."""
    return datetime.now(UTC)


def timestamp(moment: datetime) -> str:
    """``moment`` in RFC 3339 with microseconds and ``Z``, as the API writes object times."""
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
