"""The one way requests reach the API: URL, auth, options, limits, retries, failover.

:class:`Requester` is the narrow interface every resource talks to: :meth:`~Requester.prepare`
a request (options checked at once), :meth:`~Requester.send` it, or
:meth:`~Requester.request` to do both; resources never see the client. The client
(``sluice.AsyncClient``) makes one requester and hands it to each resource, as httpx's
transports know nothing of ``httpx.AsyncClient``.

Sending one request, in order:

1. The whole of it runs under the request's ``deadline`` (if any): attempts, backoff,
   rate-limit waits and failover together (:class:`~sluice.DeadlineExceededError`).
2. It goes to the first endpoint that is not cooling down after a failure: the client's
   own, then its ``fallbacks`` (:class:`Endpoint`: another base URL, key or model).
3. At an endpoint, each attempt asks the endpoint's circuit breaker (if enabled) and
   waits for rate-limit capacity (the API's ``anthropic-ratelimit-*`` headers, a 429's
   ``retry-after``, configured limits; the state in this process or shared through Redis,
   see ``_limits``), then sends. Connection errors and 408, 409, 429 and
   5xx responses are retried with backoff; an endpoint that still fails (or whose breaker
   is open) hands over to the next one, up to the failover depth.

Before all that, a Messages request (``POST /v1/messages``, ``/v1/complete``) is admitted
by the client's usage meter: counted once, or refused when a quota is used up
(:class:`~sluice.QuotaExceededError`, nothing sent). See ``_core._meter``.

Every step is logged on the ``sluice`` logger and reported to the client's hooks (see
``_observe``); no log line, hook record, error or curl command shows the key.

:class:`RequestOptions` are the per-request options every endpoint method takes
(``betas``, ``extra_headers``, ``extra_query``, ``extra_body``, ``timeout``, ``deadline``),
declared once here and passed through unchanged.

Everything here but the sending is sans-I/O and lives on :class:`RequesterBase`, which the
synchronous client's requester (``sluice._sync._requester``) shares: one place decides
headers, options, timeouts and the failover plan for both clients.
"""

from __future__ import annotations

import functools
import secrets
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Final, Generic, Self, TypedDict, TypeVar

import anyio
import httpx
import msgspec

from .._core._breaker import BreakerSettings, CircuitBreaker, Transition
from .._core._content import SUPPORTED_ENCODINGS
from .._core._curl import is_secret_header
from .._core._exceptions import (
    APIConnectionError,
    APIStatusError,
    APITimeoutError,
    CircuitOpenError,
    ConfigError,
    DeadlineExceededError,
    ParamsError,
    QuotaExceededError,
)
from .._core._limiter import (
    CHARGE_OUTPUT,
    LimitSettings,
    RateLimiter,
    Ticket,
    estimate_tokens,
    limit_scope,
    output_tokens_of,
)
from .._core._meter import UsageMeter
from .._core._ratelimit import RateLimits
from .._core._request import API_VERSION, USER_AGENT, Secret, check_api_key
from .._core._resp import RedisURL
from .._core._retry import retry_delay, should_retry
from .._core._status import MAX_ERROR_BODY
from .._redis._limits import RedisLimits
from ._body import release
from ._limits import LimitStore, LocalLimits
from ._observe import (
    FailoverRecord,
    Hooks,
    RequestRecord,
    ResponseRecord,
    RetryRecord,
    call_hook,
    logger,
    reproducible,
)
from ._response import status_error

__all__ = [
    "API_VERSION",
    "APIPath",
    "DEFAULT_STREAM_IDLE_TIMEOUT",
    "DEFAULT_TIMEOUT",
    "OPTION_NAMES",
    "Endpoint",
    "FailoverSettings",
    "HealthReport",
    "RequestExtras",
    "RequestOptions",
    "RequestSpec",
    "Requester",
    "RequesterBase",
    "Secret",
    "check_api_key",
    "decode_error_head",
    "split_options",
]

#: 10 minutes overall like the official SDK, but give up connecting after 5 seconds.
DEFAULT_TIMEOUT: Final = httpx.Timeout(600.0, connect=5.0)
#: A stream whose connection delivers no byte for this long is given up (the API sends
#: ``ping`` events to keep a quiet stream alive, so a silent connection is a stuck one).
DEFAULT_STREAM_IDLE_TIMEOUT: Final = 120.0

_json_encode = msgspec.json.Encoder().encode

#: The requests a usage meter counts and its quotas gate: those that generate (and bill).
METERED_PATHS: Final = frozenset({"/v1/messages", "/v1/complete"})


class APIPath(str):
    """A request path that knows the template it was made from: ``/v1/models/claude-x``
    from ``/v1/models/{model_id}``.

    Resources build every path with an id in it as one (``path(...)`` in
    ``_resources._base``), and hand it to :meth:`RequesterBase.prepare` like any path. The
    requester keys each endpoint's circuit breakers by the template, so that failures of
    ``GET /v1/models/a`` and ``GET /v1/models/b`` count toward one breaker, and the
    number of breakers stays bounded however many ids are requested. A plain ``str``
    path is its own template.

    Attributes:
        template: the path with ``{name}`` where each id goes.
    """

    template: str

    def __new__(cls, value: str, template: str) -> Self:
        path = super().__new__(cls, value)
        path.template = template
        return path


def template_of(path: str) -> str:
    """The template of ``path``: its own for an :class:`APIPath`, else ``path`` itself."""
    return path.template if isinstance(path, APIPath) else path


class RequestExtras(TypedDict, total=False):
    """:class:`RequestOptions` without ``timeout`` and ``deadline``: for a method whose own
    ``timeout`` means something else (``batches.wait(timeout=...)`` is the total wait)."""

    betas: Sequence[str]
    extra_headers: Mapping[str, str] | None
    extra_query: Mapping[str, Any] | None
    extra_body: Mapping[str, Any] | None


class RequestOptions(RequestExtras, total=False):
    """Options every endpoint method takes, besides its own parameters.

    Attributes:
        betas: values for the ``anthropic-beta`` header, added to the client's.
        extra_headers: more request headers (they win over the defaults).
        extra_query: more query parameters, sent as given.
        extra_body: more JSON body fields, for fields newer than this version of sluice
            (they win over the method's own).
        timeout: each attempt's timeout (seconds or an ``httpx.Timeout``), instead of the
            client's.
        deadline: the whole request's time budget in seconds (attempts, backoff, rate-limit
            waits, failover), instead of the client's.
    """

    timeout: float | httpx.Timeout | None
    deadline: float | None


#: The keys of :class:`RequestOptions`.
OPTION_NAMES: Final = frozenset(RequestOptions.__annotations__)


def split_options(params: Mapping[str, Any]) -> tuple[RequestOptions, dict[str, Any]]:
    """Separate the request options from a method's ``**params`` (the request body)."""
    options: dict[str, Any] = {}
    body: dict[str, Any] = {}
    for key, value in params.items():
        (options if key in OPTION_NAMES else body)[key] = value
    return options, body  # type: ignore[return-value]


class Endpoint:
    """Another place to send requests when the client's own fails: a fallback.

    Args:
        base_url: the API's root URL (``None``: the client's).
        api_key: the key to send there (``None``: the client's).
        model: a model to use instead of the request's ``model`` (Messages requests).
        name: how logs, hooks and errors call it (default: the base URL's host, with the
            model if one is set).

    Raises:
        ConfigError: a malformed ``api_key``.
    """

    __slots__ = ("_api_key", "base_url", "model", "name")

    def __init__(
        self,
        *,
        base_url: str | None = None,
        api_key: str | None = None,
        model: str | None = None,
        name: str | None = None,
    ) -> None:
        self.base_url = base_url
        self._api_key = None if api_key is None else check_api_key(api_key, "Endpoint")
        self.model = model
        self.name = name

    def __repr__(self) -> str:
        key = "" if self._api_key is None else ", api_key=<redacted>"
        return (
            f"Endpoint(base_url={self.base_url!r}{key}, model={self.model!r}, name={self.name!r})"
        )


class FailoverSettings(msgspec.Struct, frozen=True, kw_only=True):
    """When a request moves on to the next endpoint.

    Attributes:
        statuses: HTTP statuses, after the endpoint's own retries, that move on (rate
            limited, server errors, overloaded). Connection errors, timeouts and an open
            circuit breaker always do.
        cooldown: seconds an endpoint that failed is skipped by later requests (it is
            still tried when every endpoint is cooling down).
        max_failovers: the most endpoints one request moves on to.
    """

    statuses: frozenset[int] = frozenset({429, 500, 502, 503, 504, 529})
    cooldown: float = 30.0
    max_failovers: int = 3

    def __post_init__(self) -> None:
        if self.cooldown < 0:
            raise ValueError(f"cooldown must be >= 0, got {self.cooldown}")
        if self.max_failovers < 0:
            raise ValueError(f"max_failovers must be >= 0, got {self.max_failovers}")


class HealthReport(msgspec.Struct, frozen=True, kw_only=True):
    """How one endpoint answered a cheap probe (``GET /v1/models?limit=1``).

    Attributes:
        endpoint: its name.
        ok: it answered 200.
        status_code: the HTTP status, or ``None`` when nothing answered.
        latency: seconds until the answer (or the failure).
        error: what went wrong, when not ok (no secret in it).
        breaker: the state of the endpoint's circuit breaker for ``/v1/messages``
            (``"closed"``, ``"open"``, ``"half_open"``; ``None`` when the client has no
            breakers, or no Messages request was sent there yet).
        breakers: the state of each circuit breaker of the endpoint, by path template
            (``{"/v1/messages": "closed", "/v1/models/{model_id}": "open"}``): one per
            API endpoint a request was sent to (empty without breakers).
    """

    endpoint: str
    ok: bool
    status_code: int | None
    latency: float
    error: str | None = None
    breaker: str | None = None
    breakers: dict[str, str] = msgspec.field(default_factory=dict)


class RequestSpec(msgspec.Struct, kw_only=True):
    """A request ready to send to any endpoint: built per endpoint and attempt.

    ``template`` is the path with its ids as ``{name}`` (see :class:`APIPath`): what a
    circuit breaker is kept for.
    """

    method: str
    path: str
    template: str = ""
    json: Any = None
    #: ``json`` encoded, once (re-encoded only for a fallback endpoint's own model).
    encoded: bytes | None = None
    params: list[tuple[str, str | int | float | bool | None]] | None = None
    content: Any = None
    headers: dict[str, str]
    timeout: httpx.Timeout
    deadline: float | None = None
    replayable: bool = True
    input_tokens: int = 0
    metered: bool = False


class _Route:
    """One endpoint's state: where, with which key, its limiter, breakers and cooldown.

    ``breakers`` has one circuit breaker per path template requested there (see
    :class:`APIPath`), so it holds at most as many as the API has endpoints.
    """

    __slots__ = ("api_key", "base_url", "breakers", "cooled_until", "limiter", "model", "name")

    def __init__(
        self,
        *,
        name: str,
        base_url: httpx.URL,
        api_key: Secret,
        model: str | None,
        limits: LimitSettings,
    ) -> None:
        self.name = name
        self.base_url = base_url
        self.api_key = api_key
        self.model = model
        self.limiter = RateLimiter(limits, scope=limit_scope(str(base_url), api_key.get()))
        self.breakers: dict[str, CircuitBreaker] = {}
        self.cooled_until = 0.0


class _Progress:
    """How far one request got: the attempts started, the endpoint being tried and the
    request last sent there (redacted), for the error of a deadline that runs out."""

    __slots__ = ("attempts", "request", "route", "waiting")

    def __init__(self) -> None:
        self.attempts = 0
        self.route: _Route | None = None
        self.request: httpx.Request | None = None
        self.waiting: str | None = None  # the rate limit it waits for, while it does


def _root(url: str) -> httpx.URL:
    return httpx.URL(url.rstrip("/") + "/")


#: The httpx client a requester sends with: ``httpx.AsyncClient`` or ``httpx.Client``.
H = TypeVar("H", bound=httpx.AsyncClient | httpx.Client)


class RequesterBase(Generic[H]):
    """What the async and the sync requester share, none of it I/O: the endpoints and
    their state (limiters, breakers, cooldowns), options checked into a
    :class:`RequestSpec`, requests built per endpoint, the failover plan.

    Args:
        http: the ``httpx.AsyncClient`` (or, for ``sluice.Client``, ``httpx.Client``)
            that sends.
        api_key: the client's key.
        base_url: the client's base URL.
        max_retries: retries per endpoint for connection errors, 408, 409, 429 and 5xx.
        timeout: the default timeout of each attempt.
        betas: ``anthropic-beta`` values sent with every request.
        default_headers: headers sent with every request.
        max_event_size: the largest SSE event a stream accepts, in bytes.
        fallbacks: endpoints to move on to, in order, when the client's own fails.
        failover: when to move on (defaults apply when there are fallbacks).
        limits: configured rate limits, and whether to follow the API's headers.
        shared_limits: a ``redis://`` URL: keep the rate-limit state there, shared with
            every process that uses it with the same key and base URL (``None``: in this
            process).
        breaker: circuit breaker settings (``None``: no breakers).
        deadline: the default total time budget of a request, in seconds.
        stream_idle_timeout: the longest a stream's connection may deliver nothing.
        hooks: functions called with a record of each request, response, retry, failover.
        meter: the usage meter that counts Messages requests and checks their quotas
            (a new one, without quotas, by default).
    """

    def __init__(
        self,
        *,
        http: H,
        api_key: Secret,
        base_url: httpx.URL,
        max_retries: int,
        timeout: httpx.Timeout,
        betas: Sequence[str],
        default_headers: Mapping[str, str],
        max_event_size: int,
        fallbacks: Sequence[Endpoint] = (),
        failover: FailoverSettings | None = None,
        limits: LimitSettings | None = None,
        shared_limits: str | None = None,
        breaker: BreakerSettings | None = None,
        deadline: float | None = None,
        stream_idle_timeout: float | None = DEFAULT_STREAM_IDLE_TIMEOUT,
        hooks: Hooks | None = None,
        meter: UsageMeter | None = None,
    ) -> None:
        if shared_limits is None:
            self.shared_limits: RedisURL | None = None
        else:
            try:
                self.shared_limits = RedisURL.parse(shared_limits)
            except ValueError as exc:
                raise ConfigError(
                    f"shared_limits= takes a redis://host:port/db URL: {exc}"
                ) from None
        if deadline is not None and not deadline > 0:
            raise ValueError(f"deadline must be > 0 seconds, got {deadline}")
        if stream_idle_timeout is not None and not stream_idle_timeout > 0:
            raise ValueError(f"stream_idle_timeout must be > 0, got {stream_idle_timeout}")
        self.http = http
        self.base_url = base_url
        self.max_retries = max_retries
        self.timeout = timeout
        self.betas = tuple(betas)
        self.default_headers = dict(default_headers)
        self.max_event_size = max_event_size
        self.failover = failover or FailoverSettings()
        self.breaker = breaker
        self.deadline = deadline
        self.stream_idle_timeout = stream_idle_timeout
        self.hooks = hooks or Hooks()
        self.meter = meter if meter is not None else UsageMeter()
        settings = limits or LimitSettings()
        self.routes = [
            _Route(
                name=base_url.host or str(base_url),
                base_url=base_url,
                api_key=api_key,
                model=None,
                limits=settings,
            )
        ]
        for index, endpoint in enumerate(fallbacks):
            url = base_url if endpoint.base_url is None else _root(endpoint.base_url)
            name = endpoint.name or (url.host or f"fallback {index + 1}") + (
                f" ({endpoint.model})" if endpoint.model else ""
            )
            self.routes.append(
                _Route(
                    name=name,
                    base_url=url,
                    api_key=endpoint._api_key or api_key,
                    model=endpoint.model,
                    limits=settings,
                )
            )

    def __repr__(self) -> str:
        return f"<Requester base_url={str(self.base_url)!r}, {len(self.routes)} endpoint(s)>"

    @property
    def limiter(self) -> RateLimiter:
        """The rate limiter of the client's own endpoint."""
        return self.routes[0].limiter

    def with_beta(self, beta: str, betas: Sequence[str] = ()) -> tuple[str, ...]:
        """``betas`` plus ``beta``, unless this requester already sends it every time."""
        if beta in self.betas or beta in betas:
            return tuple(betas)
        return (beta, *betas)

    # ------------------------------------------------------------------------- building

    def prepare(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: Mapping[str, Any] | None = None,
        content: Any = None,
        headers: Mapping[str, str] | None = None,
        options: RequestOptions | None = None,
        stream: bool = False,
        replayable: bool = True,
    ) -> RequestSpec:
        """A request for ``path`` with the options applied, checked now, sent later.

        ``path`` is a plain path, or an :class:`APIPath` that names its template (the
        key of the endpoint's circuit breaker).
        ``params`` values that are ``None`` are dropped and lists become repeated keys
        (``?ids=a&ids=b``), as the API expects for array query parameters. ``json`` is
        encoded with msgspec when sent; ``content`` (bytes or an async iterable) is sent as
        given (``replayable=False``: it can be read once, so it is never retried). Header
        precedence, lowest first: sluice's defaults, the client's ``default_headers``, the
        method's ``headers``, then ``extra_headers``. A stream gets the client's
        ``stream_idle_timeout`` as its read timeout unless ``timeout`` is given.

        Raises:
            ParamsError: ``extra_body`` for a request without a JSON body, or a bad
                ``deadline``.
        """
        options = options or {}
        extra_body = options.get("extra_body")
        if extra_body:
            if not isinstance(json, Mapping):
                raise ParamsError(
                    f"extra_body= adds fields to a JSON request body, and {method} {path} "
                    "sends none: use extra_query= or extra_headers=",
                    field="extra_body",
                )
            json = {**json, **extra_body}
        all_headers = {
            "anthropic-version": API_VERSION,
            "content-type": "application/json",
            "accept": "application/json",
            "user-agent": USER_AGENT,
        }
        betas = [*self.betas, *options.get("betas", ())]
        if betas:
            all_headers["anthropic-beta"] = ",".join(dict.fromkeys(betas))
        if stream:
            # Streamed bodies are decoded by sluice itself (see _core._content).
            all_headers["accept-encoding"] = SUPPORTED_ENCODINGS
        all_headers.update(self.default_headers)
        if headers:
            all_headers.update(headers)
        extra_headers = options.get("extra_headers")
        if extra_headers:
            all_headers.update(extra_headers)
        given = options.get("timeout")
        if given is not None:
            timeout = given if isinstance(given, httpx.Timeout) else httpx.Timeout(given)
        elif stream and self.stream_idle_timeout is not None:
            timeout = httpx.Timeout(
                connect=self.timeout.connect,
                read=self.stream_idle_timeout,
                write=self.timeout.write,
                pool=self.timeout.pool,
            )
        else:
            timeout = self.timeout
        deadline = options.get("deadline", self.deadline)
        if deadline is not None and not (isinstance(deadline, int | float) and deadline > 0):
            raise ParamsError(f"deadline must be > 0 seconds, got {deadline!r}", field="deadline")
        encoded = None if json is None else _json_encode(json)  # once, for every attempt
        input_tokens = 0
        if method == "POST" and path == "/v1/messages" and encoded is not None:
            input_tokens = estimate_tokens(len(encoded))
        return RequestSpec(
            method=method,
            path=str(path),
            template=template_of(path),
            json=json,
            encoded=encoded,
            params=_query([params, options.get("extra_query")]),
            content=content,
            headers=all_headers,
            timeout=timeout,
            deadline=deadline,
            replayable=replayable,
            input_tokens=input_tokens,
            metered=method == "POST" and path in METERED_PATHS,
        )

    def admit(self, spec: RequestSpec) -> None:
        """Before sending: count a Messages request in the usage meter, checking its
        quotas; other requests pass untouched.

        Raises:
            QuotaExceededError: a quota is used up (logged; the request is not sent).
        """
        if not spec.metered:
            return
        try:
            self.meter.admit()
        except QuotaExceededError as exc:
            logger.info("quota: %s %s not sent: %s", spec.method, spec.path, exc)
            raise

    def _build(self, spec: RequestSpec, route: _Route) -> httpx.Request:
        json = spec.json
        body = spec.content if spec.content is not None else spec.encoded
        if route.model is not None and isinstance(json, Mapping) and "model" in json:
            body = _json_encode({**json, "model": route.model})  # a fallback's own model
        headers = {"x-api-key": route.api_key.get(), **spec.headers}
        return self.http.build_request(
            spec.method,
            route.base_url.join(spec.path.lstrip("/")),
            content=body,
            params=spec.params,
            headers=headers,
            timeout=spec.timeout,
        )

    def _plan(self, now: float) -> list[_Route]:
        """The endpoints to try, in order: those not cooling down, up to the depth cap."""
        ready = [route for route in self.routes if route.cooled_until <= now]
        if not ready:
            ready = [self.routes[0]]  # everyone is cooling down: try the client's own
        return ready[: self.failover.max_failovers + 1]

    def _fails_over(self, exc: Exception) -> bool:
        if len(self.routes) == 1:
            return False
        if isinstance(exc, APIStatusError):
            return exc.status_code in self.failover.statuses
        return True  # no response: connection error, timeout, open breaker

    def _breaker(self, route: _Route, template: str) -> CircuitBreaker | None:
        """``route``'s circuit breaker for the path ``template`` (made on first use)."""
        if self.breaker is None:
            return None
        breaker = route.breakers.get(template)
        if breaker is None:
            breaker = route.breakers[template] = CircuitBreaker(self.breaker)
        return breaker

    def _report(
        self,
        route: _Route,
        *,
        status: int | None,
        latency: float,
        error: str | None,
    ) -> HealthReport:
        """A :class:`HealthReport` of ``route``, with the state of its breakers."""
        states: dict[str, str] = {
            template: breaker.state for template, breaker in route.breakers.items()
        }
        return HealthReport(
            endpoint=route.name,
            ok=status == 200,
            status_code=status,
            latency=latency,
            error=error,
            breaker=states.get("/v1/messages"),
            breakers=states,
        )

    def _circuit_open(
        self, spec: RequestSpec, route: _Route, failures: int, wait: float
    ) -> CircuitOpenError:
        """The error for ``spec`` refused by ``route``'s open breaker (``wait`` seconds
        until a probe goes through)."""
        error = CircuitOpenError(
            f"{spec.method} {spec.path}: the circuit breaker of {route.name} "
            f"{spec.template} is open after {failures} failures in a row; not sent (a "
            f"probe goes through in {wait:.3g} s)",
            endpoint=f"{route.name} {spec.template}",
            retry_after=wait,
        )
        reproducible(error, _redacted(self._build(spec, route)))
        return error

    def _request_of(self, spec: RequestSpec, progress: _Progress) -> httpx.Request:
        """The request last sent for ``spec`` (redacted), or, when none was sent yet
        (waiting for rate-limit capacity), the one it was about to send."""
        request = progress.request
        if request is None:
            request = _redacted(self._build(spec, progress.route or self.routes[0]))
        return request

    def _log_breaker(self, route: _Route, template: str, change: Transition | None) -> None:
        if change is not None:
            logger.info(
                "circuit breaker of %s %s: %s -> %s (%d failures in a row)",
                route.name,
                template,
                change.before,
                change.after,
                change.failures,
            )


class Requester(RequesterBase[httpx.AsyncClient]):
    """Builds and sends requests: endpoints, auth, options, limits, breakers, retries.

    The arguments are those of :class:`RequesterBase`, with an ``httpx.AsyncClient``.
    """

    def __init__(self, **settings: Any) -> None:
        super().__init__(**settings)
        #: Where the rate-limit state lives (see ``_limits``).
        self.limits: LimitStore = (
            LocalLimits() if self.shared_limits is None else RedisLimits(self.shared_limits)
        )

    async def aclose(self) -> None:
        """Close what the requester holds besides the HTTP client (Redis connections)."""
        await self.limits.aclose()

    # -------------------------------------------------------------------------- sending

    async def request(
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
        return await self.send(spec, stream=stream)

    async def send(self, spec: RequestSpec, *, stream: bool = False) -> httpx.Response:
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
        progress = _Progress()
        if spec.deadline is None:
            return await self._send(spec, stream, progress)
        with anyio.move_on_after(spec.deadline) as scope:
            return await self._send(spec, stream, progress)
        waiting = progress.waiting
        assert scope.cancelled_caught
        logger.info("deadline of %.3g s ran out: %s %s", spec.deadline, spec.method, spec.path)
        error = DeadlineExceededError(
            f"{spec.method} {spec.path} did not complete within its deadline of "
            f"{spec.deadline:g} s ({progress.attempts} attempt(s) started, with backoff, "
            "rate-limit waits and failover)"
            + (f"; it was waiting for rate-limit capacity: {waiting}" if waiting else ""),
            deadline=spec.deadline,
            attempts=progress.attempts,
        )
        reproducible(error, self._request_of(spec, progress))
        raise error

    async def _send(self, spec: RequestSpec, stream: bool, progress: _Progress) -> httpx.Response:
        plan = self._plan(anyio.current_time())
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
                await call_hook(
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
                return await self._send_to(route, spec, stream, progress)
            except (APIConnectionError, APIStatusError) as exc:
                if not self._fails_over(exc):
                    raise
                # Every endpoint that failed sits out its cooldown, the last one tried too.
                route.cooled_until = anyio.current_time() + self.failover.cooldown
                if position == len(plan) - 1:
                    raise
                last = exc
        raise AssertionError("unreachable")  # pragma: no cover

    async def _send_to(
        self, route: _Route, spec: RequestSpec, stream: bool, progress: _Progress
    ) -> httpx.Response:
        """One endpoint: breaker, rate-limit waits and retries.

        Each attempt may take two things that must be given back exactly once however it
        ends (an answer, an error, a raising hook, cancellation at any await): the
        breaker's half-open probe and its rate-limit ticket. The flags ``probe`` and
        ``in_flight`` say what the attempt holds at each moment; the ``except`` gives
        back what is still held, and closes a response the attempt will not return.
        """
        attempt = 0
        retries = self.max_retries if spec.replayable else 0
        once = (
            "" if spec.replayable else "; the body was read from an async iterable, so not retried"
        )
        breaker = self._breaker(route, spec.template)
        limiter = route.limiter
        progress.route = route
        while True:
            probe = False  # this attempt holds the half-open breaker's one probe
            in_flight = False  # this attempt's ticket may hold rate-limit capacity
            ticket = Ticket(secrets.token_hex(8), spec.input_tokens)
            response: httpx.Response | None = None
            try:
                if breaker is not None:
                    allowed, change = breaker.allow(anyio.current_time())
                    probe = allowed and breaker.state == "half_open"
                    self._log_breaker(route, spec.template, change)
                    if not allowed:
                        retry_at = breaker.retry_at()
                        wait = (
                            0.0 if retry_at is None else max(retry_at - anyio.current_time(), 0.0)
                        )
                        raise self._circuit_open(spec, route, breaker.failures, wait)
                # Held from the moment it asks (a store may have taken capacity when the
                # asking is interrupted); giving back a ticket that holds nothing is harmless.
                in_flight = True
                await self._wait_for_capacity(route, spec, ticket, progress)
                request = self._build(spec, route)
                progress.request = redacted = _redacted(request)
                progress.attempts += 1
                await call_hook(
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
                started = anyio.current_time()
                try:
                    response = await self.http.send(request, stream=True)
                except httpx.TransportError as exc:  # timeouts included
                    await self.limits.release(limiter, ticket)
                    in_flight = False
                    self._record(breaker, ok=False, route=route, template=spec.template)
                    probe = False
                    exc.request = redacted  # the cause an error carries shows no key
                    if attempt < retries:
                        wait = retry_delay(attempt)
                        await self._retrying(route, spec, attempt, type(exc).__name__, wait)
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
                await self.limits.answered(
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
                elapsed = anyio.current_time() - started
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
                await call_hook(
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
                if in_flight:  # ended unanswered: cancelled, a hook raised
                    await self.limits.release(limiter, ticket)
                if probe:
                    assert breaker is not None
                    breaker.release()
                if response is not None:
                    with anyio.CancelScope(shield=True):
                        await response.aclose()
                raise
            if response.is_success:
                if not stream:
                    await _read_body(response)
                if spec.metered and limiter.charges_output:
                    # A configured output-token limit: charge what the response reports.
                    if stream:
                        response.extensions[CHARGE_OUTPUT] = functools.partial(
                            self.limits.charge_output, limiter
                        )
                    else:
                        self.limits.charge_output(limiter, output_tokens_of(response.content))
                return response
            body, truncated = await _read_error_body(response)
            if attempt < retries and should_retry(response.status_code, response.headers):
                wait = retry_delay(attempt, response.headers)
                await self._retrying(route, spec, attempt, str(response.status_code), wait)
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
        change = breaker.record(ok, anyio.current_time())
        self._log_breaker(route, template, change)

    async def _wait_for_capacity(
        self, route: _Route, spec: RequestSpec, ticket: Ticket, progress: _Progress
    ) -> None:
        limiter = route.limiter
        while True:
            delay, why = await self.limits.acquire(limiter, ticket)
            if delay <= 0:
                return
            logger.info(
                "rate limit: %s %s to %s waits %.3g s for %s",
                spec.method,
                spec.path,
                route.name,
                delay,
                why,
            )
            limiter.note_wait(delay)
            progress.waiting = why
            await anyio.sleep(delay)
            progress.waiting = None

    async def _retrying(
        self, route: _Route, spec: RequestSpec, attempt: int, reason: str, wait: float
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
        await call_hook(
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
        await anyio.sleep(wait)

    # ---------------------------------------------------------------------------- health

    async def health(self, *, probe_timeout: float = 10.0) -> list[HealthReport]:
        """Probe every endpoint with ``GET /v1/models?limit=1``, one after another.

        No retries, no rate-limit wait, no failover: each endpoint answers for itself.
        """
        reports = []
        spec = self.prepare("GET", "/v1/models", params={"limit": 1})
        spec.timeout = httpx.Timeout(probe_timeout)
        for route in self.routes:
            started = anyio.current_time()
            status: int | None = None
            error: str | None = None
            try:
                request = self._build(spec, route)
                response = await self.http.send(request, stream=True)
                status = response.status_code
                await response.aclose()
                if not response.is_success:
                    error = f"HTTP {status}"
            except httpx.HTTPError as exc:
                error = f"{type(exc).__name__}: {exc}"
            reports.append(
                self._report(
                    route, status=status, latency=anyio.current_time() - started, error=error
                )
            )
        return reports


def _reason(exc: Exception) -> str:
    if isinstance(exc, APIStatusError):
        return f"HTTP {exc.status_code}"
    if isinstance(exc, CircuitOpenError):
        return "circuit breaker open"
    cause = exc.__cause__
    return type(cause).__name__ if cause is not None else type(exc).__name__


def _redacted(request: httpx.Request) -> httpx.Request:
    """A copy of ``request`` with its secrets replaced, for ``response.request``.

    The response, and any error that keeps it, then cannot show the key, however it is
    printed or pickled; the request actually sent (and re-sent on a retry) is unchanged.
    The body is kept when it is bytes (for ``curl()``), not when it streams.
    """
    headers = httpx.Headers(request.headers)
    for name in {name for name in headers if is_secret_header(name)}:
        # Headers whose values never leave this module (see is_secret_header).
        headers[name] = "<redacted>"
    try:
        content: bytes | None = request.content
    except httpx.RequestNotRead:
        content = None
    return httpx.Request(
        request.method, request.url, headers=headers, content=content, extensions=request.extensions
    )


async def _read_body(response: httpx.Response) -> None:
    """Read a successful response's body whole (for JSON results), then close it."""
    where = f"{response.request.method} {response.request.url.path}"
    try:
        await response.aread()
    except (httpx.TransportError, httpx.DecodingError) as exc:
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
        await response.aclose()


async def _read_error_body(response: httpx.Response) -> tuple[bytes, bool]:
    """The first :data:`MAX_ERROR_BODY` bytes of an error response, and whether there was more.

    An error body is a courtesy: one cut short, or whose compression is broken, gives what
    arrived, and the status still says what happened. The raw bytes are read (bounded) and
    decompressed here, synchronously, so a broken ``content-encoding`` fails in no
    generator of httpx's, and a compressed bomb inflates to :data:`MAX_ERROR_BODY` at most.
    """
    try:
        content = response.content  # read already (a transport that buffers bodies)
    except httpx.ResponseNotRead:
        pass
    else:
        await response.aclose()
        return content[:MAX_ERROR_BODY], len(content) > MAX_ERROR_BODY
    raw = bytearray()
    truncated = False
    chunks = response.aiter_raw()
    try:
        async for chunk in chunks:
            raw += chunk
            if len(raw) > MAX_ERROR_BODY:
                truncated = True
                break
    except (httpx.TransportError, httpx.StreamError):
        truncated = True
    finally:
        await release(response, chunks)
    return decode_error_head(response, raw, truncated=truncated)


def decode_error_head(
    response: httpx.Response, raw: bytes | bytearray, *, truncated: bool
) -> tuple[bytes, bool]:
    """The first :data:`MAX_ERROR_BODY` bytes of an error body read ``raw`` (as sent, still
    compressed), decompressed, and whether there was more (or it broke off: ``truncated``).

    Sans-I/O, shared by the async and the sync requester.
    """
    # Small slices, in an iterator: httpx would decode bytes whole as the Response is made,
    # and deflate inflates at most ~1,000-fold, so a 1 KiB slice yields about 1 MiB at most.
    pieces = (bytes(raw[start : start + 1024]) for start in range(0, len(raw), 1024))
    decoded = httpx.Response(response.status_code, headers=response.headers, content=pieces)
    head = bytearray()
    try:
        for piece in decoded.iter_bytes():
            head += piece
            if len(head) > MAX_ERROR_BODY:
                truncated = True
                break
    except httpx.DecodingError:
        truncated = True
    return bytes(head[:MAX_ERROR_BODY]), truncated


def _query(
    sources: Iterable[Mapping[str, Any] | None],
) -> list[tuple[str, str | int | float | bool | None]] | None:
    pairs: list[tuple[str, str | int | float | bool | None]] = []
    given = False
    for source in sources:
        if source is None:
            continue
        given = True
        for key, value in source.items():
            if value is None:
                continue
            for item in value if isinstance(value, (list, tuple)) else [value]:
                pairs.append((key, _query_value(item)))
    return pairs if given else None


def _query_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
