"""Client-side rate limiting, sans-I/O: wait for capacity instead of collecting 429s.

Two sources of truth, combined:

* **The API's own headers.** Every response reports ``anthropic-ratelimit-requests-*``,
  ``-input-tokens-*`` and ``-output-tokens-*`` (``limit``, ``remaining``, ``reset``), and a
  429 says ``retry-after``. The limiter remembers them and holds back a request that would
  exceed what remains until the reset, counting its own requests in flight against
  ``remaining`` (so that fifty tasks do not all read "1 left" and send).
* **Configured limits** (:class:`LimitSettings`): requests, input tokens and output tokens
  per minute, as token buckets that refill continuously; output tokens are charged when
  the usage is known (:meth:`RateLimiter.record_usage`), as the API does.

Time is passed in: ``now`` is a monotonic clock (``anyio.current_time()``,
``time.monotonic()``), ``wall`` the wall clock the ``reset`` timestamps are read against.
"""

from __future__ import annotations

from datetime import datetime
from typing import Final

import msgspec

from ._ratelimit import RateLimits

__all__ = ["LimitSettings", "RateLimiter", "estimate_tokens"]

#: Roughly how many bytes of a JSON request body make one input token (text is ~4 chars a
#: token; JSON punctuation and base64 images make this an overestimate, which is the safe
#: side for a limiter).
BYTES_PER_TOKEN: Final = 4


def estimate_tokens(body_size: int) -> int:
    """A cheap upper estimate of a request's input tokens from its body size in bytes."""
    return max(1, body_size // BYTES_PER_TOKEN)


class LimitSettings(msgspec.Struct, frozen=True, kw_only=True):
    """Limits to keep to, on top of what the API's headers say (``None``: no limit).

    Attributes:
        requests_per_minute: requests started per minute.
        input_tokens_per_minute: estimated input tokens per minute (Messages requests).
        output_tokens_per_minute: output tokens per minute, charged as usage is reported.
        follow_headers: also wait as the API's ``anthropic-ratelimit-*`` and
            ``retry-after`` headers say (the default).
    """

    requests_per_minute: float | None = None
    input_tokens_per_minute: float | None = None
    output_tokens_per_minute: float | None = None
    follow_headers: bool = True

    def __post_init__(self) -> None:
        for name in ("requests_per_minute", "input_tokens_per_minute", "output_tokens_per_minute"):
            value = getattr(self, name)
            if value is not None and not value > 0:
                raise ValueError(f"{name} must be > 0, got {value}")


class _Bucket:
    """A token bucket: ``capacity`` per minute, refilled continuously; may go negative."""

    __slots__ = ("capacity", "level", "rate", "updated")

    def __init__(self, per_minute: float) -> None:
        self.capacity = per_minute
        self.rate = per_minute / 60.0
        self.level = per_minute
        self.updated: float | None = None  # the clock is the caller's: set on first use

    def refill(self, now: float) -> None:
        if self.updated is not None:
            self.level = min(self.capacity, self.level + (now - self.updated) * self.rate)
        self.updated = now

    def wait(self, amount: float) -> float:
        # A request larger than the whole bucket waits for a full bucket, then goes.
        need = min(amount, self.capacity)
        return 0.0 if self.level >= need else (need - self.level) / self.rate


class _Window:
    """What the headers said about one kind of limit: remaining until the reset."""

    __slots__ = ("limit", "remaining", "reset_at")

    def __init__(self) -> None:
        self.limit: int | None = None
        self.remaining: int | None = None
        self.reset_at = 0.0

    def learn(
        self, limit: int | None, remaining: int | None, reset_at: float | None, pending: int
    ) -> None:
        # ``remaining`` is as of this response; ``pending`` requests were sent and are not
        # answered yet, so the server may not have counted them: count them against it.
        if limit is not None:
            self.limit = limit
        if remaining is not None:
            self.remaining = remaining - pending
            if reset_at is not None:
                self.reset_at = reset_at

    def wait(self, now: float, amount: int) -> float:
        if self.remaining is None:
            return 0.0
        if now >= self.reset_at:
            # The window has reset: what was known no longer holds until a response says.
            self.remaining = self.limit
            if self.remaining is None:
                return 0.0
        if self.remaining >= amount or (self.limit is not None and amount > self.limit):
            return 0.0  # fits (or can never fit: let the API say so)
        return max(self.reset_at - now, 0.0)

    def take(self, amount: int) -> None:
        if self.remaining is not None:
            self.remaining -= amount


class RateLimiter:
    """The rate-limit state shared by every request of one client (one key and endpoint).

    Use: ``delay, why = limiter.try_acquire(now, tokens)``; when ``delay`` is 0 the
    capacity is taken and the request may go, else sleep ``delay`` seconds and try again.
    After each response, :meth:`update` with its headers; when usage is known,
    :meth:`record_usage`.

    Args:
        settings: configured limits (and whether to follow the headers). Buckets start
            full.
    """

    __slots__ = (
        "_blocked_until",
        "_buckets",
        "_pending",
        "_windows",
        "settings",
        "waited",
        "waits",
    )

    def __init__(self, settings: LimitSettings | None = None) -> None:
        self.settings = settings or LimitSettings()
        self._blocked_until = 0.0
        self._pending = 0  # requests acquired and not answered yet
        self._windows = {kind: _Window() for kind in ("requests", "input", "output")}
        self._buckets: dict[str, _Bucket] = {}
        s = self.settings
        for kind, per_minute in (
            ("requests", s.requests_per_minute),
            ("input", s.input_tokens_per_minute),
            ("output", s.output_tokens_per_minute),
        ):
            if per_minute is not None:
                self._buckets[kind] = _Bucket(per_minute)
        #: How many times a request had to wait, and for how long in all (seconds).
        self.waits = 0
        self.waited = 0.0

    def __repr__(self) -> str:
        return f"<RateLimiter waits={self.waits} waited={self.waited:.3f}s>"

    def try_acquire(self, now: float, input_tokens: int = 0) -> tuple[float, str]:
        """Take capacity for one request of ``input_tokens``, or say how long to wait.

        Returns:
            ``(0.0, "")`` when the request may go (its capacity is taken), else the
            seconds to wait and why (``"retry-after"``, ``"requests"``, ``"input tokens"``,
            ``"output tokens"``, with ``" (configured)"`` for a configured limit).
        """
        delay, why = 0.0, ""
        if self.settings.follow_headers:
            if now < self._blocked_until:
                delay, why = self._blocked_until - now, "retry-after"
            for kind, amount, label in (
                ("requests", 1, "requests"),
                ("input", input_tokens, "input tokens"),
                ("output", 1, "output tokens"),
            ):
                wait = self._windows[kind].wait(now, amount)
                if wait > delay:
                    delay, why = wait, label
        for kind, bucket in self._buckets.items():
            bucket.refill(now)
            amount = 1 if kind in ("requests", "output") else input_tokens
            wait = bucket.wait(amount)
            if wait > delay:
                delay, why = wait, f"{_LABELS[kind]} (configured)"
        if delay > 0:
            return delay, why
        self._pending += 1
        self._windows["requests"].take(1)
        self._windows["input"].take(input_tokens)
        if "requests" in self._buckets:
            self._buckets["requests"].level -= 1
        if "input" in self._buckets:
            self._buckets["input"].level -= input_tokens
        return 0.0, ""

    def note_wait(self, seconds: float) -> None:
        """Count a wait the caller made (for :attr:`waits` and :attr:`waited`)."""
        self.waits += 1
        self.waited += seconds

    def update(
        self, now: float, limits: RateLimits, *, wall: float, status_code: int = 200
    ) -> None:
        """Learn from a response's rate-limit headers (and a 429's ``retry-after``).

        Call it once per request that :meth:`try_acquire` let through and that got a
        response (:meth:`release` for one that did not).
        """
        self._pending = max(self._pending - 1, 0)
        if status_code == 429 and limits.retry_after is not None:
            self._blocked_until = max(self._blocked_until, now + limits.retry_after)
        for kind, limit, remaining, reset in (
            ("requests", limits.requests_limit, limits.requests_remaining, limits.requests_reset),
            (
                "input",
                limits.input_tokens_limit,
                limits.input_tokens_remaining,
                limits.input_tokens_reset,
            ),
            (
                "output",
                limits.output_tokens_limit,
                limits.output_tokens_remaining,
                limits.output_tokens_reset,
            ),
        ):
            reset_at = _reset_at(reset, now=now, wall=wall)
            pending = self._pending if kind == "requests" else 0
            self._windows[kind].learn(limit, remaining, reset_at, pending)

    def release(self) -> None:
        """Forget a request :meth:`try_acquire` let through that got no response."""
        self._pending = max(self._pending - 1, 0)

    def record_usage(self, now: float, output_tokens: int) -> None:
        """Charge the output tokens a finished request used to the configured bucket."""
        bucket = self._buckets.get("output")
        if bucket is not None:
            bucket.refill(now)
            bucket.level -= output_tokens


_LABELS: Final = {"requests": "requests", "input": "input tokens", "output": "output tokens"}


def _reset_at(value: str | None, *, now: float, wall: float) -> float | None:
    """An RFC 3339 reset time as a point on the monotonic clock (``None`` if unreadable)."""
    if not value:
        return None
    try:
        when = datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None
    return now + max(when - wall, 0.0)
