"""How the synchronous client sends a request: retries, waits and the deadline, blocking.

Hand-written: the one part of the synchronous client that is not generated from the async
code (see ``sluice._sync``), because waiting differs in kind. Everything else about a
request is shared with the async requester through
:class:`~sluice._http._requester.RequesterBase`: endpoints and fallbacks, auth and
headers, per-request options, timeouts, the failover plan, the rate limiter's and the
circuit breakers' state machines (sans-I/O, in ``_core``). The loop below mirrors
``Requester._send_to`` of the async requester step by step, with the same log lines, hook
records and typed errors; what differs:

* Time is ``time.monotonic()`` and waits are ``time.sleep``.
* The deadline cannot cancel a blocking call from outside, so it is computed per attempt:
  each attempt's httpx timeouts are cut to the time left, each wait (backoff, rate limit)
  ends at the deadline, and running out raises :class:`~sluice.DeadlineExceededError` as
  the async client does. A stream's read timeout goes back to the stream idle timeout
  once its headers arrived: the deadline bounds getting the response, not reading it.
* One ``Client`` may be shared by threads: the rate limiter, the circuit breakers and the
  endpoints' cooldowns are changed under one lock (never held while sending or sleeping).
  Rate limits shared through Redis (``shared_limits=``) go through a blocking Redis
  client (``sluice._redis``) on the same scripts as the async one.
* Hooks are plain functions; an ``async def`` hook is refused when the client is made.
"""

from __future__ import annotations

import functools
import inspect
import secrets
import threading
import time
from collections.abc import Mapping
from typing import Any, Final

import httpx

from .._core._breaker import CircuitBreaker
from .._core._exceptions import (
    APIConnectionError,
    APIStatusError,
    APITimeoutError,
    DeadlineExceededError,
)
from .._core._limiter import CHARGE_OUTPUT, Ticket, output_tokens_of
from .._core._ratelimit import RateLimits
from .._core._retry import retry_delay, should_retry
from .._core._status import MAX_ERROR_BODY
from .._http._observe import (
    FailoverRecord,
    Hook,
    RequestRecord,
    ResponseRecord,
    RetryRecord,
    logger,
    reproducible,
)
from .._http._requester import (
    HealthReport,
    RequesterBase,
    RequestOptions,
    RequestSpec,
    _Progress,
    _reason,
    _redacted,
    _Route,
    decode_error_head,
)
from .._http._response import status_error
from .._redis._limits import SyncRedisLimits
from ._body import release
from ._limits import SyncLimitStore, SyncLocalLimits

__all__ = ["Requester", "call_hook"]

_INFINITY: Final = float("inf")
#: Seconds: a timeout that fires this close to the deadline is the deadline's.
_SLACK: Final = 0.01


class _OutOfTime(Exception):
    """The request's deadline ran out (turned into ``DeadlineExceededError`` by ``send``)."""


class _Budget(_Progress):
    """One request's deadline on the monotonic clock, and how far it got (the attempts
    it started, the endpoint and the request last sent)."""

    __slots__ = ("expires", "waiting")

    def __init__(self, deadline: float | None) -> None:
        super().__init__()
        self.expires = _INFINITY if deadline is None else time.monotonic() + deadline
        #: What the request waits for, while it waits for rate-limit capacity.
        self.waiting: str | None = None

    def left(self) -> float:
        """Seconds left (infinite without a deadline); raises ``_OutOfTime`` at zero."""
        left = self.expires - time.monotonic()
        if left <= 0:
            raise _OutOfTime
        return left

    def timed_out(self) -> None:
        """After an httpx timeout: raise ``_OutOfTime`` if the timeout was the deadline's.

        The timeouts were cut to the time left, so a timeout that fired at the deadline
        leaves (next to) nothing; a little slack absorbs the timers' granularity.
        """
        if self.expires - time.monotonic() < _SLACK:
            raise _OutOfTime

    def sleep(self, seconds: float) -> None:
        """Sleep ``seconds``, or until the deadline and then raise ``_OutOfTime``."""
        left = self.left()
        if seconds >= left:
            time.sleep(left)
            raise _OutOfTime
        time.sleep(seconds)

    def cut(self, timeout: httpx.Timeout) -> httpx.Timeout:
        """``timeout`` with each phase cut to the time left."""
        if self.expires == _INFINITY:
            return timeout
        left = self.left()

        def cap(value: float | None) -> float:
            return left if value is None else min(value, left)

        return httpx.Timeout(
            connect=cap(timeout.connect),
            read=cap(timeout.read),
            write=cap(timeout.write),
            pool=cap(timeout.pool),
        )


def call_hook(hook: Hook | None, record: object) -> None:
    """Call ``hook`` with ``record``; a hook of the sync client must not be async."""
    if hook is None:
        return
    outcome = hook(record)
    if inspect.isawaitable(outcome):
        close = getattr(outcome, "close", None)
        if close is not None:
            close()  # a coroutine never awaited would warn
        raise TypeError(
            f"the hook {hook!r} returned an awaitable: hooks of sluice.Client are plain "
            "functions (async hooks are for sluice.AsyncClient)"
        )


class Requester(RequesterBase[httpx.Client]):
    """Builds and sends requests, blocking: endpoints, auth, options, limits, breakers,
    retries, a deadline.

    The arguments are those of :class:`~sluice._http._requester.RequesterBase`, with an
    ``httpx.Client``.

    Raises:
        TypeError: a hook is an ``async def`` function.
    """

    def __init__(self, **settings: Any) -> None:
        super().__init__(**settings)
        for name in ("on_request", "on_response", "on_retry", "on_failover"):
            hook = getattr(self.hooks, name)
            if inspect.iscoroutinefunction(hook):
                raise TypeError(
                    f"{name}={hook!r} is an async function: hooks of sluice.Client are plain "
                    "functions (async hooks are for sluice.AsyncClient)"
                )
        # Guards the state machines shared by threads: limiters, breakers, cooldowns.
        self._lock = threading.Lock()
        #: Where the rate-limit state lives (see ``_limits``).
        self.limits: SyncLimitStore = (
            SyncLocalLimits(self._lock)
            if self.shared_limits is None
            else SyncRedisLimits(self.shared_limits)
        )

    def close(self) -> None:
        """Close what the requester holds besides the HTTP client (Redis connections)."""
        self.limits.close()

    # -------------------------------------------------------------------------- sending

    def request(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
        options: RequestOptions | None = None,
        stream: bool = False,
    ) -> httpx.Response:
        """:meth:`prepare` then :meth:`send`."""
        spec = self.prepare(
            method, path, json=json, params=params, headers=headers, options=options, stream=stream
        )
        return self.send(spec, stream=stream)

    def send(self, spec: RequestSpec, *, stream: bool = False) -> httpx.Response:
        """Send ``spec``: deadline, endpoints in order, limits, breakers, retries.

        Args:
            spec: from :meth:`prepare`.
            stream: leave the body of a successful response unread for the caller, who
                must close the response; otherwise it is read and the response closed.

        Raises:
            APIStatusError: typed by status (``OverloadedStatusError``...), after retries
                and failover.
            APIConnectionError: no response (``APITimeoutError`` for a timeout,
                ``CircuitOpenError`` when every endpoint's breaker is open).
            DeadlineExceededError: the request's deadline ran out.
            QuotaExceededError: a quota of the usage meter is used up; nothing was sent.
        """
        self.admit(spec)  # usage quotas: before anything else, counted once per call
        budget = _Budget(spec.deadline)
        try:
            return self._send(spec, stream, budget)
        except _OutOfTime:
            pass
        assert spec.deadline is not None
        logger.info("deadline of %.3g s ran out: %s %s", spec.deadline, spec.method, spec.path)
        error = DeadlineExceededError(
            f"{spec.method} {spec.path} did not complete within its deadline of "
            f"{spec.deadline:g} s ({budget.attempts} attempt(s) started, with backoff, "
            "rate-limit waits and failover)"
            + (
                f"; it was waiting for rate-limit capacity: {budget.waiting}"
                if budget.waiting
                else ""
            ),
            deadline=spec.deadline,
            attempts=budget.attempts,
        )
        reproducible(error, self._request_of(spec, budget))
        raise error

    def _send(self, spec: RequestSpec, stream: bool, budget: _Budget) -> httpx.Response:
        plan = self._plan(time.monotonic())
        last: Exception | None = None
        for position, route in enumerate(plan):
            if position > 0:
                assert last is not None
                reason = _reason(last)
                logger.info(
                    "failover: %s %s moves from %s to %s (%s)",
                    spec.method,
                    spec.path,
                    plan[position - 1].name,
                    route.name,
                    reason,
                )
                call_hook(
                    self.hooks.on_failover,
                    FailoverRecord(
                        method=spec.method,
                        path=spec.path,
                        from_endpoint=plan[position - 1].name,
                        to_endpoint=route.name,
                        reason=reason,
                    ),
                )
            try:
                return self._send_to(route, spec, stream, budget)
            except (APIConnectionError, APIStatusError) as exc:
                if not self._fails_over(exc):
                    raise
                # Every endpoint that failed sits out its cooldown, the last one tried too.
                with self._lock:
                    route.cooled_until = time.monotonic() + self.failover.cooldown
                if position == len(plan) - 1:
                    raise
                last = exc
        raise AssertionError("unreachable")  # pragma: no cover

    def _breaker_of(self, route: _Route, template: str) -> CircuitBreaker | None:
        with self._lock:
            return self._breaker(route, template)

    def _send_to(
        self, route: _Route, spec: RequestSpec, stream: bool, budget: _Budget
    ) -> httpx.Response:
        """One endpoint: breaker, rate-limit waits and retries (see the async twin: each
        attempt gives back its probe and its ticket exactly once, however it ends)."""
        attempt = 0
        retries = self.max_retries if spec.replayable else 0
        once = "" if spec.replayable else "; the body was read from an iterable, so not retried"
        breaker = self._breaker_of(route, spec.template)
        limiter = route.limiter
        budget.route = route
        while True:
            probe = False  # this attempt holds the half-open breaker's one probe
            in_flight = False  # this attempt's ticket may hold rate-limit capacity
            ticket = Ticket(secrets.token_hex(8), spec.input_tokens)
            response: httpx.Response | None = None
            try:
                if breaker is not None:
                    with self._lock:
                        allowed, change = breaker.allow(time.monotonic())
                        probe = allowed and breaker.state == "half_open"
                        retry_at = breaker.retry_at()
                        failures = breaker.failures
                    self._log_breaker(route, spec.template, change)
                    if not allowed:
                        wait = 0.0 if retry_at is None else max(retry_at - time.monotonic(), 0.0)
                        raise self._circuit_open(spec, route, failures, wait)
                in_flight = True  # from the moment it asks (see the async twin)
                self._wait_for_capacity(route, spec, ticket, budget)
                request = self._build(spec, route)
                # Each attempt's timeouts end at the deadline (a blocking call cannot be
                # cancelled from outside).
                request.extensions["timeout"] = budget.cut(spec.timeout).as_dict()
                budget.request = redacted = _redacted(request)
                budget.attempts += 1
                call_hook(
                    self.hooks.on_request,
                    RequestRecord(
                        method=spec.method, path=spec.path, endpoint=route.name, attempt=attempt + 1
                    ),
                )
                logger.debug(
                    "request %s %s to %s (attempt %d)",
                    spec.method,
                    spec.path,
                    route.name,
                    attempt + 1,
                )
                started = time.monotonic()
                try:
                    response = self.http.send(request, stream=True)
                except httpx.TransportError as exc:  # timeouts included
                    self.limits.release(limiter, ticket)
                    in_flight = False
                    self._record(breaker, ok=False, route=route, template=spec.template)
                    probe = False
                    exc.request = redacted  # the cause an error carries shows no key
                    if isinstance(exc, httpx.TimeoutException):
                        budget.timed_out()  # the deadline, not the timeout, ran out?
                    if attempt < retries:
                        wait = retry_delay(attempt)
                        self._retrying(route, spec, attempt, type(exc).__name__, wait, budget)
                        attempt += 1
                        continue
                    where = f"{spec.method} {spec.path} to {route.name}"
                    kind = (
                        APITimeoutError
                        if isinstance(exc, httpx.TimeoutException)
                        else APIConnectionError
                    )
                    error = kind(
                        f"{where} failed after {attempt + 1} attempt(s): "
                        f"{type(exc).__name__}: {exc}{once}"
                    )
                    reproducible(error, redacted)
                    raise error from exc
                self.limits.answered(
                    limiter, ticket, RateLimits.from_headers(response.headers), response.status_code
                )
                in_flight = False
                self._record(
                    breaker,
                    ok=not (self.breaker is not None and self.breaker.counts(response.status_code)),
                    route=route,
                    template=spec.template,
                )
                probe = False
                elapsed = time.monotonic() - started
                if stream:
                    # The deadline bounded getting the response; reading the stream has the
                    # stream idle timeout (httpcore reads the read timeout when the body
                    # starts).
                    request.extensions["timeout"]["read"] = spec.timeout.read
                response.request = redacted
                request_id = response.headers.get("request-id")
                logger.debug(
                    "response %d %s %s from %s in %.3f s (request-id %s)",
                    response.status_code,
                    spec.method,
                    spec.path,
                    route.name,
                    elapsed,
                    request_id,
                )
                call_hook(
                    self.hooks.on_response,
                    ResponseRecord(
                        method=spec.method,
                        path=spec.path,
                        endpoint=route.name,
                        attempt=attempt + 1,
                        status_code=response.status_code,
                        request_id=request_id,
                        elapsed=elapsed,
                    ),
                )
            except BaseException:
                # Give back what this attempt still holds (interrupted before an answer, a
                # hook raised, the deadline ran out): the ticket, the probe only if it is
                # this attempt's (another thread may hold the probe now), the response.
                if in_flight:
                    self.limits.release(limiter, ticket)
                if probe:
                    assert breaker is not None
                    with self._lock:
                        breaker.release()
                if response is not None:
                    response.close()
                raise
            if response.is_success:
                if not stream:
                    _read_body(response, budget)
                if spec.metered and limiter.charges_output:
                    # A configured output-token limit: charge what the response reports.
                    if stream:
                        response.extensions[CHARGE_OUTPUT] = functools.partial(
                            self.limits.charge_output, limiter
                        )
                    else:
                        self.limits.charge_output(limiter, output_tokens_of(response.content))
                return response
            body, truncated = _read_error_body(response)
            if attempt < retries and should_retry(response.status_code, response.headers):
                wait = retry_delay(attempt, response.headers)
                self._retrying(route, spec, attempt, str(response.status_code), wait, budget)
                attempt += 1
                continue
            status = status_error(response, body, truncated=truncated)
            reproducible(status, redacted)
            raise status

    def _record(
        self,
        breaker: CircuitBreaker | None,
        *,
        ok: bool,
        route: _Route,
        template: str,
    ) -> None:
        if breaker is None:
            return
        with self._lock:
            change = breaker.record(ok, time.monotonic())
        self._log_breaker(route, template, change)

    def _wait_for_capacity(
        self, route: _Route, spec: RequestSpec, ticket: Ticket, budget: _Budget
    ) -> None:
        limiter = route.limiter
        while True:
            delay, why = self.limits.acquire(limiter, ticket)
            if delay <= 0:
                return
            with self._lock:
                limiter.note_wait(delay)
            logger.info(
                "rate limit: %s %s to %s waits %.3g s for %s",
                spec.method,
                spec.path,
                route.name,
                delay,
                why,
            )
            budget.waiting = why
            budget.sleep(delay)
            budget.waiting = None

    def _retrying(
        self,
        route: _Route,
        spec: RequestSpec,
        attempt: int,
        reason: str,
        wait: float,
        budget: _Budget,
    ) -> None:
        logger.info(
            "retry: %s %s to %s failed (%s); attempt %d in %.3g s",
            spec.method,
            spec.path,
            route.name,
            reason,
            attempt + 2,
            wait,
        )
        call_hook(
            self.hooks.on_retry,
            RetryRecord(
                method=spec.method,
                path=spec.path,
                endpoint=route.name,
                attempt=attempt + 1,
                reason=reason,
                wait=wait,
            ),
        )
        budget.sleep(wait)

    # ---------------------------------------------------------------------------- health

    def health(self, *, probe_timeout: float = 10.0) -> list[HealthReport]:
        """Probe every endpoint with ``GET /v1/models?limit=1``, one after another.

        No retries, no rate-limit wait, no failover: each endpoint answers for itself.
        """
        reports = []
        spec = self.prepare("GET", "/v1/models", params={"limit": 1})
        spec.timeout = httpx.Timeout(probe_timeout)
        for route in self.routes:
            started = time.monotonic()
            status: int | None = None
            error: str | None = None
            try:
                request = self._build(spec, route)
                response = self.http.send(request, stream=True)
                status = response.status_code
                response.close()
                if not response.is_success:
                    error = f"HTTP {status}"
            except httpx.HTTPError as exc:
                error = f"{type(exc).__name__}: {exc}"
            with self._lock:
                report = self._report(
                    route, status=status, latency=time.monotonic() - started, error=error
                )
            reports.append(report)
        return reports


def _read_body(response: httpx.Response, budget: _Budget) -> None:
    """Read a successful response's body whole (for JSON results), then close it."""
    where = f"{response.request.method} {response.request.url.path}"
    try:
        response.read()
    except (httpx.TransportError, httpx.DecodingError) as exc:
        if isinstance(exc, httpx.TimeoutException):
            budget.timed_out()  # the deadline ran out while the body was read
        kind = APITimeoutError if isinstance(exc, httpx.TimeoutException) else APIConnectionError
        request_id = response.headers.get("request-id")
        rid = f" (request-id {request_id})" if request_id else ""
        error = kind(
            f"{where}: the body of the {response.status_code} response{rid} broke off "
            f"({type(exc).__name__}: {exc}); it was not retried, since the request was "
            "processed"
        )
        error.request_id = request_id
        reproducible(error, response)  # its request is redacted by the requester
        raise error from exc
    finally:
        response.close()


def _read_error_body(response: httpx.Response) -> tuple[bytes, bool]:
    """The first :data:`MAX_ERROR_BODY` bytes of an error response, and whether there was
    more: read bounded, then decompressed by the shared ``decode_error_head``."""
    try:
        content = response.content  # read already (a transport that buffers bodies)
    except httpx.ResponseNotRead:
        pass
    else:
        response.close()
        return content[:MAX_ERROR_BODY], len(content) > MAX_ERROR_BODY
    raw = bytearray()
    truncated = False
    chunks = response.iter_raw()
    try:
        for chunk in chunks:
            raw += chunk
            if len(raw) > MAX_ERROR_BODY:
                truncated = True
                break
    except (httpx.TransportError, httpx.StreamError):
        truncated = True
    finally:
        release(response, chunks)
    return decode_error_head(response, raw, truncated=truncated)
