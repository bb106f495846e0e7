"""When and how long to wait before retrying a request.

Retried: connection errors and timeouts, and HTTP 408, 409, 429 and 5xx (529 overloaded
included), always before any of the response body was handed to the caller. The server may
override with ``x-should-retry: true|false`` and set the wait with ``retry-after-ms`` or
``retry-after`` (honoured up to :data:`MAX_RETRY_AFTER` seconds); otherwise the wait is
exponential backoff with jitter.
"""

from __future__ import annotations

import random
from collections.abc import Mapping

from ._ratelimit import parse_retry_after

__all__ = ["INITIAL_DELAY", "MAX_DELAY", "MAX_RETRY_AFTER", "retry_delay", "should_retry"]

INITIAL_DELAY = 0.5
MAX_DELAY = 8.0
#: A server-requested wait longer than this is not honoured literally (backoff is used).
MAX_RETRY_AFTER = 60.0

_RETRY_STATUSES = frozenset({408, 409, 429})


def should_retry(status_code: int, headers: Mapping[str, str]) -> bool:
    """Whether a response with this status and headers is worth retrying."""
    override = headers.get("x-should-retry")
    if override == "true":
        return True
    if override == "false":
        return False
    return status_code in _RETRY_STATUSES or status_code >= 500


def retry_delay(
    attempt: int,
    headers: Mapping[str, str] | None = None,
    *,
    rand: random.Random | None = None,
) -> float:
    """Seconds to wait before retry number ``attempt + 1`` (``attempt`` counts from 0).

    A ``retry-after-ms``/``retry-after`` header between 0 and :data:`MAX_RETRY_AFTER` wins;
    otherwise ``min(INITIAL_DELAY * 2**attempt, MAX_DELAY)`` reduced by up to 25% jitter so
    that many clients do not retry in lockstep.
    """
    if headers is not None:
        requested = parse_retry_after(headers)
        if requested is not None and 0 <= requested <= MAX_RETRY_AFTER:
            return requested
    base = min(INITIAL_DELAY * (2.0**attempt), MAX_DELAY)
    jitter = (rand or random).random() * 0.25
    return base * (1.0 - jitter)
