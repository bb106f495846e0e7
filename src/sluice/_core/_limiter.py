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

Each attempt holds a :class:`Ticket` from the moment it takes capacity until its answer
(:meth:`RateLimiter.update`) or its end without one (:meth:`RateLimiter.release`); giving
a ticket back twice is harmless, so no path can count a request twice or not at all.

What may go is what the API last said remains, less our own requests in flight (the API
may not have counted them yet). What a response says is kept only if it is news.
Responses arrive out of order (the API answered A, then B, but B's headers reach us
first), and within a window the API's count only goes down, so the lowest count reported
for a window is the latest: a late answer never raises it, until a response names a
later ``reset`` (a new window, or for a token bucket, a later "full again" time -- which
only moves forward as requests are made). Every request the API counted after the
lowest count's answer is still in flight (had it been answered, its lower count would be
the lowest), so "lowest count less requests in flight" never promises more than remains.
A response about a window that has already reset says only that we are in a later one.
When a window resets and no response has spoken for the new one yet, the limit is what
remains, less the requests still in flight, since the API counts a request when it
arrives.

Until a first response has said what the limits are, nothing holds requests back: that
answer may be a whole message away, and making every other request wait for it would
cost more than the few 429s (retried) it could spare.

Time is passed in: ``now`` is a monotonic clock (``anyio.current_time()``,
``time.monotonic()``), ``wall`` the wall clock the ``reset`` timestamps are read against.
The same rules run in Redis, as a Lua script, when many processes share the limits
(``sluice._redis._limits``).
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Final

import msgspec

from ._ratelimit import RateLimits

__all__ = [
    "POLL",
    "LimitSettings",
    "RateLimiter",
    "Ticket",
    "estimate_tokens",
    "limit_scope",
    "parse_reset",
]

#: Roughly how many bytes of a JSON request body make one input token (text is ~4 chars a
#: token; JSON punctuation and base64 images make this an overestimate, which is the safe
#: side for a limiter).
BYTES_PER_TOKEN: Final = 4
#: Seconds to wait, then look again, when only the answer of a request in flight can say
#: whether there is capacity (a window reset, and our own requests fill the new one).
POLL: Final = 0.05


def limit_scope(base_url: str, api_key: str) -> str:
    """Whose limits these are, as a name that can be shared: a hash of the base URL and
    the API key (never the key itself), the same in every process that uses them."""
    return hashlib.sha256(f"sluice limits\n{base_url}\n{api_key}".encode()).hexdigest()[:32]


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


class Ticket(msgspec.Struct, frozen=True):
    """One attempt's hold on the limits: taken with capacity, given back with its answer.

    Attributes:
        id: unique per attempt (the caller makes it, before it asks for capacity, so that
            an attempt interrupted while it asks can still give it back).
        input_tokens: the request's estimated input tokens (:func:`estimate_tokens`).
    """

    id: str
    input_tokens: int = 0


class _Window:
    """What the headers said about one kind of limit: remaining until the reset.

    ``remaining`` is the lowest count a response reported for the current window (the
    limit itself once the window has reset and no response has spoken for the new one);
    what may go is that, less what is in flight. ``reset`` is the reset a response named,
    as a wall-clock timestamp, which orders responses (a later reset is newer news);
    ``reset_at`` is the same moment on the monotonic clock, ``None`` once it has passed
    or when no response named one.
    """

    __slots__ = ("limit", "remaining", "reset", "reset_at")

    def __init__(self) -> None:
        self.limit: int | None = None
        self.remaining: int | None = None
        self.reset: float | None = None
        self.reset_at: float | None = None

    def learn(
        self,
        now: float,
        limit: int | None,
        remaining: int | None,
        reset: tuple[float, float] | None,
    ) -> None:
        """Take in one response's headers; ``reset`` is ``(wall timestamp, monotonic)``."""
        if limit is not None:
            self.limit = limit
        if remaining is None:
            return
        if reset is None:
            self.remaining = remaining  # nothing to order responses by: the latest wins
            return
        wall_reset, reset_at = reset
        if reset_at <= now:
            # About a window that has reset already: unless we know of a later one, we are
            # in the next window, with nothing said about it but the limit.
            if self.reset is None or wall_reset >= self.reset:
                self.reset = wall_reset
                self._roll()
            return
        if self.reset is None or wall_reset > self.reset:
            # A later window (or the first one heard of): what it says replaces the rest.
            self.remaining, self.reset, self.reset_at = remaining, wall_reset, reset_at
        elif self.remaining is None:
            self.remaining = remaining
        else:
            # The same window, or an older response answered late: the lowest count is
            # the latest the API has said (within a window the count only goes down).
            self.remaining = min(self.remaining, remaining)

    def wait(self, now: float, amount: int, pending: int) -> float | None:
        """Seconds until ``amount`` fits with ``pending`` in flight (0: it fits now;
        ``None``: only the answers to the requests in flight can say)."""
        if self.reset_at is not None and now >= self.reset_at:
            self._roll()
        if self.remaining is None:
            return 0.0
        if self.remaining - pending >= amount or (self.limit is not None and amount > self.limit):
            return 0.0  # fits (or can never fit: let the API say so)
        if self.remaining >= amount and pending:
            # Some of those in flight may be counted in ``remaining`` already; their
            # answers will say (a lower count, or the same one and room for more).
            return None
        if self.reset_at is None:
            return None
        return self.reset_at - now

    def spend(self, amount: int) -> None:
        """A request was counted and no response said the new count: count it ourselves."""
        if self.remaining is not None:
            self.remaining -= amount

    def _roll(self) -> None:
        # The window has reset; what was counted no longer holds. Until a response speaks
        # for the new window, the limit is what is known (what is in flight is counted
        # against it, since the API counts a request when it arrives).
        self.reset_at = None
        self.remaining = self.limit


class RateLimiter:
    """The rate-limit state shared by every request of one client (one key and endpoint).

    Use: make a :class:`Ticket` per attempt, then ``delay, why =
    limiter.try_acquire(now, ticket)``; when ``delay`` is 0 the capacity is taken and the
    request may go, else sleep ``delay`` seconds and try again. After its response,
    :meth:`update` with the headers; if it ends without one, :meth:`release`. When usage
    is known, :meth:`record_usage`.

    Args:
        settings: configured limits (and whether to follow the headers). Buckets start
            full.
        scope: whose limits these are (:func:`limit_scope`), for a store that shares the
            state beyond this process.
    """

    __slots__ = (
        "_blocked_until",
        "_buckets",
        "_tickets",
        "_windows",
        "scope",
        "settings",
        "waited",
        "waits",
    )

    def __init__(self, settings: LimitSettings | None = None, *, scope: str = "") -> None:
        self.settings = settings or LimitSettings()
        self.scope = scope
        self._blocked_until = 0.0
        #: Tickets that took capacity and are not answered yet -> their input tokens.
        self._tickets: dict[str, int] = {}
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
        return (
            f"<RateLimiter waits={self.waits} waited={self.waited:.3f}s in_flight={self.in_flight}>"
        )

    @property
    def in_flight(self) -> int:
        """Requests that took capacity and have not been answered (or released) yet."""
        return len(self._tickets)

    def try_acquire(self, now: float, ticket: Ticket) -> tuple[float, str]:
        """Take capacity for the request ``ticket`` stands for, or say how long to wait.

        Returns:
            ``(0.0, "")`` when the request may go (its capacity is taken), else the
            seconds to wait and why (``"retry-after"``, ``"requests"``, ``"input tokens"``,
            ``"output tokens"``, with ``" (configured)"`` for a configured limit).
        """
        if ticket.id in self._tickets:
            return 0.0, ""  # holds its capacity already
        delay, why = 0.0, ""
        tokens = ticket.input_tokens
        if self.settings.follow_headers:
            if now < self._blocked_until:
                delay, why = self._blocked_until - now, "retry-after"
            for kind, amount, pending, label in (
                ("requests", 1, len(self._tickets), "requests"),
                ("input", tokens, sum(self._tickets.values()), "input tokens"),
                ("output", 1, 0, "output tokens"),
            ):
                wait = self._windows[kind].wait(now, amount, pending)
                if wait is None:
                    # Full of our own requests in flight: their answers will tell. With
                    # none in flight, go, and let the API say (retry-after) if it is full.
                    wait = POLL if self._tickets else 0.0
                if wait > delay:
                    delay, why = wait, label
        for kind, bucket in self._buckets.items():
            bucket.refill(now)
            amount = 1 if kind in ("requests", "output") else tokens
            wait = bucket.wait(amount)
            if wait > delay:
                delay, why = wait, f"{_LABELS[kind]} (configured)"
        if delay > 0:
            return delay, why
        self._tickets[ticket.id] = tokens
        if "requests" in self._buckets:
            self._buckets["requests"].level -= 1
        if "input" in self._buckets:
            self._buckets["input"].level -= tokens
        return 0.0, ""

    def note_wait(self, seconds: float) -> None:
        """Count a wait the caller made (for :attr:`waits` and :attr:`waited`)."""
        self.waits += 1
        self.waited += seconds

    def update(
        self,
        now: float,
        ticket: Ticket,
        limits: RateLimits,
        *,
        wall: float,
        status_code: int = 200,
    ) -> None:
        """Learn from the response to ``ticket``'s request (its rate-limit headers and a
        429's ``retry-after``), and give the ticket back."""
        held = self._tickets.pop(ticket.id, None)
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
            window = self._windows[kind]
            if remaining is None:
                # No count for this kind: the API counted the request without saying.
                if held is not None and kind != "output":
                    window.spend(1 if kind == "requests" else held)
                continue
            when = parse_reset(reset)
            at = None if when is None else (when, now + max(when - wall, 0.0))
            window.learn(now, limit, remaining, at)

    def release(self, ticket: Ticket) -> None:
        """Give back ``ticket``, whose request got no response (harmless if given back).

        The API may have counted the request (it may have arrived), so what is known to
        remain is lowered by it, as for an answer that says nothing.
        """
        held = self._tickets.pop(ticket.id, None)
        if held is not None:
            self._windows["requests"].spend(1)
            self._windows["input"].spend(held)

    @property
    def charges_output(self) -> bool:
        """Whether output tokens are limited by a configured bucket (and so must be
        charged as responses report them)."""
        return "output" in self._buckets

    def record_usage(self, now: float, output_tokens: int) -> None:
        """Charge the output tokens a finished request used to the configured bucket."""
        bucket = self._buckets.get("output")
        if bucket is not None:
            bucket.refill(now)
            bucket.level -= output_tokens


_LABELS: Final = {"requests": "requests", "input": "input tokens", "output": "output tokens"}

#: The ``httpx.Response.extensions`` key of a streamed response's output-token charge: a
#: function of the output tokens reported, set by the requester when a configured
#: ``output_tokens_per_minute`` applies, called by the stream's usage tally.
CHARGE_OUTPUT: Final = "sluice.charge_output"


class _OutputUsage(msgspec.Struct):
    output_tokens: int = 0


class _Reply(msgspec.Struct):
    usage: _OutputUsage | None = None


_reply_decoder = msgspec.json.Decoder(_Reply)


def output_tokens_of(body: bytes) -> int:
    """The ``usage.output_tokens`` of a message's JSON body (0 when it has none)."""
    try:
        usage = _reply_decoder.decode(body).usage
    except (msgspec.DecodeError, RecursionError):
        return 0
    return 0 if usage is None else max(usage.output_tokens, 0)


def parse_reset(value: str | None) -> float | None:
    """An RFC 3339 ``reset`` header as a wall-clock timestamp (``None`` if unreadable)."""
    if not value:
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None
