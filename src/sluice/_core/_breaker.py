"""A circuit breaker as a sans-I/O state machine: closed, open, half-open.

One breaker guards one endpoint (a base URL and an API path template, such as
``/v1/models/{model_id}``: every id shares it). While **closed**, requests
pass and failures are counted; ``failure_threshold`` failures in a row **open** it. While
open, requests are refused at once (:class:`~sluice.CircuitOpenError`), sparing an API
that is down the load and the caller the wait; after ``cooldown`` seconds the next request
is let through as a probe (**half-open**): its success closes the breaker, its failure
opens it again for another cooldown. Time is passed in (``now``), so the same class serves
the async client, the sync client and tests, and a clock never has to be mocked.
"""

from __future__ import annotations

from typing import Final, Literal, TypeAlias

import msgspec

__all__ = ["BreakerSettings", "BreakerState", "CircuitBreaker", "Transition"]

#: The three states of a breaker.
BreakerState: TypeAlias = Literal["closed", "open", "half_open"]

DEFAULT_FAILURE_THRESHOLD: Final = 5
DEFAULT_COOLDOWN: Final = 30.0


class BreakerSettings(msgspec.Struct, frozen=True, kw_only=True):
    """How a client's circuit breakers behave (one breaker per endpoint).

    Attributes:
        failure_threshold: failures in a row that open the breaker (>= 1).
        cooldown: seconds an open breaker refuses requests before letting a probe through.
        failure_statuses: HTTP statuses that count as failures (besides connection errors
            and timeouts, which always do). By default 5xx and 529: the API being down or
            overloaded, not the request being wrong.
    """

    failure_threshold: int = DEFAULT_FAILURE_THRESHOLD
    cooldown: float = DEFAULT_COOLDOWN
    failure_statuses: frozenset[int] = frozenset({500, 502, 503, 504, 529})

    def __post_init__(self) -> None:
        if self.failure_threshold < 1:
            raise ValueError(f"failure_threshold must be >= 1, got {self.failure_threshold}")
        if not self.cooldown > 0:
            raise ValueError(f"cooldown must be > 0 seconds, got {self.cooldown}")

    def counts(self, status_code: int | None) -> bool:
        """Whether an outcome counts as a failure (``None``: no response at all)."""
        return status_code is None or status_code in self.failure_statuses


class Transition(msgspec.Struct, frozen=True):
    """A change of state, for logs and hooks: ``closed -> open`` and so on."""

    before: BreakerState
    after: BreakerState
    failures: int


class CircuitBreaker:
    """The state of one endpoint's breaker.

    Call :meth:`allow` before a request; when it returns ``True``, report the outcome with
    :meth:`record` (``ok`` or not). Each returns the :class:`Transition` it caused, if any.

    Args:
        settings: thresholds and cooldown.
    """

    __slots__ = ("_failures", "_opened_at", "_probing", "_state", "settings")

    def __init__(self, settings: BreakerSettings | None = None) -> None:
        self.settings = settings or BreakerSettings()
        self._state: BreakerState = "closed"
        self._failures = 0
        self._opened_at = 0.0
        self._probing = False

    def __repr__(self) -> str:
        return f"<CircuitBreaker {self._state}, {self._failures} failures>"

    @property
    def state(self) -> BreakerState:
        """``"closed"``, ``"open"`` or ``"half_open"``."""
        return self._state

    @property
    def failures(self) -> int:
        """Failures in a row so far."""
        return self._failures

    def retry_at(self) -> float | None:
        """When an open breaker lets a probe through (``None`` unless open)."""
        return self._opened_at + self.settings.cooldown if self._state == "open" else None

    def allow(self, now: float) -> tuple[bool, Transition | None]:
        """Whether a request may go now; an open breaker past its cooldown turns half-open.

        In half-open state exactly one request (the probe) is allowed until it reports.
        """
        if self._state == "closed":
            return True, None
        if self._state == "open":
            if now < self._opened_at + self.settings.cooldown:
                return False, None
            self._state = "half_open"
            self._probing = True
            return True, Transition("open", "half_open", self._failures)
        if self._probing:
            return False, None  # the probe is still out
        self._probing = True
        return True, None

    def record(self, ok: bool, now: float) -> Transition | None:
        """Report the outcome of an allowed request."""
        before = self._state
        if ok:
            self._failures = 0
            self._probing = False
            if before != "closed":
                self._state = "closed"
                return Transition(before, "closed", 0)
            return None
        self._failures += 1
        self._probing = False
        if before == "half_open" or (
            before == "closed" and self._failures >= self.settings.failure_threshold
        ):
            self._state = "open"
            self._opened_at = now
            return Transition(before, "open", self._failures)
        if before == "open":
            self._opened_at = now  # a failure while open (a request that was in flight)
        return None

    def release(self) -> None:
        """Forget an allowed request that ended without an outcome (cancelled)."""
        self._probing = False
