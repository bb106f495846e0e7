"""Where the synchronous client's rate-limit state lives: the blocking twins of
``sluice._http._limits`` (hand-written: a lock instead of an event loop).

* :class:`SyncLocalLimits` (the default): each endpoint's own
  :class:`~sluice._core._limiter.RateLimiter`, changed under one lock, since one client
  may be shared by threads.
* ``SyncRedisLimits`` (``sluice._redis._limits``, for ``shared_limits="redis://..."``).
"""

from __future__ import annotations

import threading
import time
from typing import Protocol

from .._core._limiter import RateLimiter, Ticket
from .._core._ratelimit import RateLimits

__all__ = ["SyncLimitStore", "SyncLocalLimits"]


class SyncLimitStore(Protocol):
    """What the sync requester needs of a place that keeps rate-limit state (see
    ``sluice._http._limits.LimitStore``)."""

    def acquire(self, limiter: RateLimiter, ticket: Ticket) -> tuple[float, str]:
        """``(0, "")`` when the capacity is taken, else the seconds to wait and why."""
        ...

    def answered(
        self, limiter: RateLimiter, ticket: Ticket, limits: RateLimits, status_code: int
    ) -> None:
        """Learn from the response to ``ticket``'s request, and give the ticket back."""
        ...

    def release(self, limiter: RateLimiter, ticket: Ticket) -> None:
        """Give back the ticket of a request that got no response."""
        ...

    def charge_output(self, limiter: RateLimiter, tokens: int) -> None:
        """Charge output tokens a response reported to the configured bucket."""
        ...

    def close(self) -> None:
        """Release what the store holds (connections)."""
        ...


class SyncLocalLimits:
    """The state in each endpoint's own ``RateLimiter``, changed under ``lock``."""

    __slots__ = ("_lock",)

    def __init__(self, lock: threading.Lock) -> None:
        self._lock = lock

    def __repr__(self) -> str:
        return "<SyncLocalLimits>"

    def acquire(self, limiter: RateLimiter, ticket: Ticket) -> tuple[float, str]:
        with self._lock:
            return limiter.try_acquire(time.monotonic(), ticket)

    def answered(
        self, limiter: RateLimiter, ticket: Ticket, limits: RateLimits, status_code: int
    ) -> None:
        with self._lock:
            limiter.update(
                time.monotonic(), ticket, limits, wall=time.time(), status_code=status_code
            )

    def release(self, limiter: RateLimiter, ticket: Ticket) -> None:
        with self._lock:
            limiter.release(ticket)

    def charge_output(self, limiter: RateLimiter, tokens: int) -> None:
        with self._lock:
            limiter.record_usage(time.monotonic(), tokens)

    def close(self) -> None:
        pass
