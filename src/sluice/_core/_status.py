"""An HTTP error response -> the typed :class:`~sluice.APIStatusError`, sans-I/O.

Given what any HTTP library hands over (the status, the headers, the first bytes of the
body) it returns the exception the API means: ``OverloadedStatusError`` for a 529,
``RateLimitStatusError`` with ``rate_limits.retry_after`` for a 429, and so on, carrying the
API's ``error.type`` and ``error.message`` and the ``request-id``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import msgspec

from ._exceptions import APIStatusError, HTTPResponse, status_error_class
from ._ratelimit import RateLimits

__all__ = ["MAX_ERROR_BODY", "api_error"]

#: How much of an error response's body is read: enough for the API's error JSON (a few
#: hundred bytes), bounded so that a misbehaving proxy's 100 MB error page costs nothing.
MAX_ERROR_BODY = 64 * 1024
#: How much of a body that is not the API's error JSON goes into the message.
_TEXT_HEAD = 500
#: What text does not hold: control characters other than tab and line ends, and the
#: replacement character of bytes that are not UTF-8.
_BINARY = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ufffd]")

_json_decode = msgspec.json.Decoder().decode


def api_error(
    status_code: int,
    headers: Mapping[str, str],
    body: bytes,
    *,
    reason: str = "",
    truncated: bool = False,
    response: HTTPResponse | None = None,
) -> APIStatusError:
    """The typed error for an HTTP error response.

    Args:
        status_code: the HTTP status (4xx or 5xx).
        headers: the response headers (case-insensitive lookups of lower-case names).
        body: the body, or its first bytes (see ``truncated``).
        reason: the status line's reason phrase, for a body that says nothing.
        truncated: ``body`` is only the head of a longer body.
        response: the response object to keep on the error, if any.
    """
    parsed: Any = None
    error_type: str | None = None
    message = ""
    if body and not truncated:
        try:
            parsed = _json_decode(body)
        except msgspec.DecodeError:
            parsed = None
    if isinstance(parsed, dict):
        error = parsed.get("error")
        if isinstance(error, dict):
            kind = error.get("type")
            error_type = kind if isinstance(kind, str) else None
            text = error.get("message")
            message = text if isinstance(text, str) else ""
    if not message:
        head = body[:_TEXT_HEAD]
        text = head.decode("utf-8", "replace")
        more = "..." if truncated or len(body) > _TEXT_HEAD else ""
        if more:
            text = text.rstrip("\ufffd")  # a character cut by the head is no sign of binary
        if _BINARY.search(text):
            # Not text: show escaped bytes rather than NULs and replacement characters.
            text = f"a body that is not text, beginning {head[:64]!r}"
            more = ""
        message = f"{reason or 'HTTP error'}: {text}{more}".rstrip(": ")
    request_id = headers.get("request-id")
    if request_id is None and isinstance(parsed, dict):
        body_id = parsed.get("request_id")
        request_id = body_id if isinstance(body_id, str) else None
    cls = status_error_class(status_code, error_type)
    return cls(
        message,
        error_type=error_type,
        body=parsed,
        request_id=request_id,
        status_code=status_code,
        response=response,
        rate_limits=RateLimits.from_headers(headers),
    )
