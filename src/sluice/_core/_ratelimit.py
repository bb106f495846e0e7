"""Rate-limit and retry headers, parsed once into a typed value.

The API reports limits in ``anthropic-ratelimit-{requests,tokens,input-tokens,output-tokens}-
{limit,remaining,reset}`` headers and asks clients to wait with ``retry-after`` (seconds) or
``retry-after-ms``. Every response and every :class:`~sluice.APIError` carries a
:class:`RateLimits`.
"""

from __future__ import annotations

import email.utils
import time
from collections.abc import Mapping

import msgspec

__all__ = ["RateLimits", "parse_retry_after"]


class RateLimits(msgspec.Struct, frozen=True, kw_only=True):
    """The ``anthropic-ratelimit-*`` and ``retry-after`` headers of one response.

    Counts are ``None`` when the header was absent; resets are RFC 3339 strings as sent.
    """

    requests_limit: int | None = None
    requests_remaining: int | None = None
    requests_reset: str | None = None
    tokens_limit: int | None = None
    tokens_remaining: int | None = None
    tokens_reset: str | None = None
    input_tokens_limit: int | None = None
    input_tokens_remaining: int | None = None
    input_tokens_reset: str | None = None
    output_tokens_limit: int | None = None
    output_tokens_remaining: int | None = None
    output_tokens_reset: str | None = None
    retry_after: float | None = None
    """Seconds the server asked us to wait, from ``retry-after-ms`` or ``retry-after``."""

    @classmethod
    def from_headers(cls, headers: Mapping[str, str]) -> RateLimits:
        """Parse the rate-limit headers of a response (missing or malformed ones are ``None``)."""
        values: dict[str, int | str | float | None] = {}
        for kind in ("requests", "tokens", "input-tokens", "output-tokens"):
            prefix = f"anthropic-ratelimit-{kind}-"
            name = kind.replace("-", "_")
            values[f"{name}_limit"] = _int(headers.get(prefix + "limit"))
            values[f"{name}_remaining"] = _int(headers.get(prefix + "remaining"))
            values[f"{name}_reset"] = headers.get(prefix + "reset")
        values["retry_after"] = parse_retry_after(headers)
        return cls(**values)  # type: ignore[arg-type]


def _int(value: str | None) -> int | None:
    if value is None:
        return None
    try:
        return int(value)
    except ValueError:
        return None


def parse_retry_after(headers: Mapping[str, str], *, now: float | None = None) -> float | None:
    """Seconds to wait per ``retry-after-ms``, else ``retry-after`` (seconds or HTTP date)."""
    ms = headers.get("retry-after-ms")
    if ms is not None:
        try:
            return max(float(ms) / 1000.0, 0.0)
        except ValueError:
            pass
    value = headers.get("retry-after")
    if value is None:
        return None
    try:
        return max(float(value), 0.0)
    except ValueError:
        pass
    parsed = email.utils.parsedate_tz(value)
    if parsed is None:
        return None
    when = email.utils.mktime_tz(parsed)
    return max(when - (time.time() if now is None else now), 0.0)
