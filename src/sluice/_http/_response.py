"""What a response says besides its body: status, ``request-id``, rate limits, errors.

Shared by the client and every resource module (which import this, not ``_client``, so
that resources and the client can import each other's names without a cycle).
"""

from __future__ import annotations

from typing import Any

import httpx
import msgspec

from .._core._exceptions import APIError, UnexpectedResponseError, status_error_class
from .._core._ratelimit import RateLimits

__all__ = ["ResponseInfo", "attach_info", "decode_error", "response_info", "status_error"]

_json_decode = msgspec.json.Decoder().decode


class ResponseInfo(msgspec.Struct, frozen=True, kw_only=True):
    """Facts about the HTTP response that carried a result: see :func:`response_info`."""

    status_code: int
    request_id: str | None
    rate_limits: RateLimits


def response_info(result: object) -> ResponseInfo | None:
    """The status, ``request-id`` and rate limits of the response a result came from.

    Works for any value a request helper returned (``Message``, ``Model``, a batch...);
    ``None`` for values that did not come from a response.
    """
    info = getattr(result, "__dict__", {}).get("_response_info")
    return info if isinstance(info, ResponseInfo) else None


def attach_info(result: Any, response: httpx.Response) -> None:
    """Remember ``response``'s facts on ``result`` (a struct with a ``__dict__``)."""
    # Results are structs with a __dict__ (``dict=True``): the info rides along off-wire.
    result.__dict__["_response_info"] = ResponseInfo(
        status_code=response.status_code,
        request_id=response.headers.get("request-id"),
        rate_limits=RateLimits.from_headers(response.headers),
    )


def status_error(response: httpx.Response) -> APIError:
    """The typed :class:`~sluice.APIError` for an HTTP error response (body already read)."""
    body: Any = None
    error_type: str | None = None
    message: str = ""
    try:
        body = _json_decode(response.content) if response.content else None
    except msgspec.DecodeError:
        body = None
    if isinstance(body, dict):
        error = body.get("error")
        if isinstance(error, dict):
            error_type = error.get("type") if isinstance(error.get("type"), str) else None
            text = error.get("message")
            message = text if isinstance(text, str) else ""
    if not message:
        text = response.text[:500] if response.content else ""
        message = f"{response.reason_phrase or 'HTTP error'}: {text}".rstrip(": ")
    request_id = response.headers.get("request-id")
    if request_id is None and isinstance(body, dict) and isinstance(body.get("request_id"), str):
        request_id = body["request_id"]
    cls = status_error_class(response.status_code, error_type)
    return cls(
        message,
        error_type=error_type,
        body=body,
        request_id=request_id,
        status_code=response.status_code,
        response=response,
        rate_limits=RateLimits.from_headers(response.headers),
    )


#: How much of an unexpected body an error shows.
_HEAD = 200


def decode_error(response: httpx.Response, exc: Exception, what: str) -> UnexpectedResponseError:
    """The error for a successful ``response`` whose body is not the ``what`` expected."""
    content = response.content
    head = content[:_HEAD]
    request_id = response.headers.get("request-id")
    content_type = response.headers.get("content-type")
    rid = f", request-id {request_id}" if request_id else ""
    more = "..." if len(content) > _HEAD else ""
    return UnexpectedResponseError(
        f"{response.request.method} {response.request.url.path} answered "
        f"{response.status_code} ({content_type or 'no content-type'}{rid}) with a body that "
        f"is not {what}: {exc}; it began {head!r}{more}. Is base_url the Anthropic API, "
        f"or is a proxy answering instead?",
        status_code=response.status_code,
        request_id=request_id,
        content_type=content_type,
        head=head,
    )
