"""A rate limit the mock API enforces as the API does: headers on every answer, 429s over.

The API counts each request as it arrives and reports the state of the limit on every
response in ``anthropic-ratelimit-requests-{limit,remaining,reset}`` (``reset``: RFC 3339,
when the window starts over); a request over the limit gets ``429 rate_limit_error`` with
``retry-after``. :class:`RateLimit` plays that with fixed windows aligned on the wall clock
(``time.time()`` divided by the window), so a client reading ``reset`` against its own
clock agrees with the server about when a window starts, and it counts what it let
through in each window, so a test can check that nothing ever went over.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime

__all__ = ["RateLimit"]


class RateLimit:
    """``limit`` requests per fixed ``window`` of seconds, for :meth:`MockAnthropic.rate_limit`.

    Args:
        limit: requests let through per window (>= 1).
        window: the window's length in seconds.

    Raises:
        ValueError: a limit below 1 or a window that is not positive.
    """

    __slots__ = ("limit", "per_window", "rejected", "served", "window")

    def __init__(self, limit: int, *, window: float = 60.0) -> None:
        if limit < 1:
            raise ValueError(f"limit must be >= 1, got {limit}")
        if not window > 0:
            raise ValueError(f"window must be > 0 seconds, got {window}")
        self.limit = limit
        self.window = window
        #: Requests let through.
        self.served = 0
        #: Requests answered 429 because their window was full.
        self.rejected = 0
        #: Requests let through in each window, by the window's number (``time / window``).
        self.per_window: dict[int, int] = {}

    def __repr__(self) -> str:
        return (
            f"<RateLimit {self.limit} per {self.window:g} s: {self.served} served, "
            f"{self.rejected} rejected>"
        )

    @property
    def most_in_a_window(self) -> int:
        """The most requests let through in any one window (never above :attr:`limit`)."""
        return max(self.per_window.values(), default=0)

    def admit(self, now: float) -> tuple[bool, dict[str, str]]:
        """Count a request arriving at ``now`` (wall clock): whether it is let through,
        and the headers its response carries (with ``retry-after`` when it is not)."""
        number = math.floor(now / self.window)
        reset = (number + 1) * self.window
        used = self.per_window.get(number, 0)
        allowed = used < self.limit
        if allowed:
            used += 1
            self.per_window[number] = used
            self.served += 1
        else:
            self.rejected += 1
        headers = {
            "anthropic-ratelimit-requests-limit": str(self.limit),
            "anthropic-ratelimit-requests-remaining": str(self.limit - used),
            "anthropic-ratelimit-requests-reset": datetime.fromtimestamp(reset, UTC)
            .isoformat()
            .replace("+00:00", "Z"),
        }
        if not allowed:
            headers["retry-after"] = f"{max(reset - now, 0.0):.3f}"
        return allowed, headers
