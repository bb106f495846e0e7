"""What a response says besides its body: status, ``request-id``, rate limits, errors.

Shared by the client and every resource module (which import this, not ``_client``, so
that resources and the client can import each other's names without a cycle).
"""

from __future__ import annotations

from typing import Any

import httpx
import msgspec

from .._core._exceptions import APIError, UnexpectedResponseError
from .._core._ratelimit import RateLimits
from .._core._status import api_error
from ._body import release
from ._observe import reproducible

__all__ = [
    "ResponseInfo",
    "attach_info",
    "decode_error",
    "expect_event_stream",
    "response_info",
    "status_error",
]

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


def status_error(response: httpx.Response, body: bytes, *, truncated: bool = False) -> APIError:
    """The typed :class:`~sluice.APIError` for an HTTP error ``response`` whose body (or
    its first bytes, if ``truncated``) is ``body``."""
    return api_error(
        response.status_code,
        response.headers,
        body,
        reason=response.reason_phrase,
        truncated=truncated,
        response=response,
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
    error = UnexpectedResponseError(
        f"{response.request.method} {response.request.url.path} answered "
        f"{response.status_code} ({content_type or 'no content-type'}{rid}) with a body that "
        f"is not {what}: {exc}; it began {head!r}{more}. Is base_url the Anthropic API, "
        f"or is a proxy answering instead?",
        status_code=response.status_code,
        request_id=request_id,
        content_type=content_type,
        head=head,
    )
    return reproducible(error, response)


async def expect_event_stream(response: httpx.Response) -> httpx.Response:
    """``response`` if its ``Content-Type`` is ``text/event-stream``; else a typed error.

    A successful response of another type (a proxy's HTML login page, a JSON body from an
    endpoint that ignored ``"stream": true``) is not read as an event stream that "ended
    early": its first bytes are read (bounded), the response is closed, and
    :class:`~sluice.UnexpectedResponseError` names the content type and shows them.
    """
    content_type = response.headers.get("content-type", "")
    if content_type.split(";", 1)[0].strip().lower() == "text/event-stream":
        return response
    head = bytearray()
    chunks = response.aiter_raw()
    try:
        async for chunk in chunks:
            head += chunk
            if len(head) >= _HEAD:
                break
    except (httpx.TransportError, httpx.StreamError):
        pass  # what arrived is enough to show
    finally:
        await release(response, chunks)
    request_id = response.headers.get("request-id")
    rid = f", request-id {request_id}" if request_id else ""
    shown = bytes(head[:_HEAD])
    error = UnexpectedResponseError(
        f"{response.request.method} {response.request.url.path} answered "
        f"{response.status_code} with content-type {content_type or '(none)'!r}{rid}, not "
        f"an event stream; it began {shown!r}. Is base_url the Anthropic API, or is a proxy "
        f"answering instead?",
        status_code=response.status_code,
        request_id=request_id,
        content_type=content_type or None,
        head=shown,
    )
    raise reproducible(error, response)
