"""Where a client's rate-limit state lives: in this process, or shared through Redis.

The requester asks a :class:`LimitStore` for capacity before each attempt, tells it
about each response, and gives back an attempt that ended without one. Two stores:

* :class:`LocalLimits` (the default): each endpoint's own
  :class:`~sluice._core._limiter.RateLimiter`, shared by every task of the client.
* ``RedisLimits`` (``sluice._redis._limits``, for ``shared_limits="redis://..."``): the
  same rules run by Redis, shared by every process that uses it with the same key and
  base URL.

The synchronous client's twins are in ``sluice._sync._limits``. Every method takes the
endpoint's ``RateLimiter``: its settings and ``scope`` say whose limits to use, and its
``waits``/``waited`` count this client's waits whichever store holds the state.
"""

from __future__ import annotations

import time
from typing import Protocol

import anyio

from .._core._limiter import RateLimiter, Ticket
from .._core._ratelimit import RateLimits

__all__ = ["LimitStore", "LocalLimits"]


class LimitStore(Protocol):
    """What the requester needs of a place that keeps rate-limit state.

    Each attempt holds a :class:`~sluice._core._limiter.Ticket` from :meth:`acquire`
    until :meth:`answered` or :meth:`release`, exactly one of them; both are harmless
    for a ticket that holds nothing, so an attempt interrupted while it asks can give
    its ticket back.
    """

    async def acquire(self, limiter: RateLimiter, ticket: Ticket) -> tuple[float, str]:
        """``(0, "")`` when the capacity is taken, else the seconds to wait and why."""
        ...

    async def answered(
        self, limiter: RateLimiter, ticket: Ticket, limits: RateLimits, status_code: int
    ) -> None:
        """Learn from the response to ``ticket``'s request, and give the ticket back."""
        ...

    async def release(self, limiter: RateLimiter, ticket: Ticket) -> None:
        """Give back the ticket of a request that got no response (must not be cancelled
        half-way: it runs while a cancelled request unwinds)."""
        ...

    def charge_output(self, limiter: RateLimiter, tokens: int) -> None:
        """Charge output tokens a response reported to the configured
        ``output_tokens_per_minute`` bucket. Never waits: a store that cannot write at
        once (Redis) charges them with its next request."""
        ...

    async def aclose(self) -> None:
        """Release what the store holds (connections)."""
        ...


class LocalLimits:
    """The state in each endpoint's own :class:`~sluice._core._limiter.RateLimiter`."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "<LocalLimits>"

    async def acquire(self, limiter: RateLimiter, ticket: Ticket) -> tuple[float, str]:
        return limiter.try_acquire(anyio.current_time(), ticket)

    async def answered(
        self, limiter: RateLimiter, ticket: Ticket, limits: RateLimits, status_code: int
    ) -> None:
        limiter.update(
            anyio.current_time(), ticket, limits, wall=time.time(), status_code=status_code
        )

    async def release(self, limiter: RateLimiter, ticket: Ticket) -> None:
        limiter.release(ticket)

    def charge_output(self, limiter: RateLimiter, tokens: int) -> None:
        limiter.record_usage(anyio.current_time(), tokens)

    async def aclose(self) -> None:
        pass
