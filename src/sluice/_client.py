"""``AsyncClient``: one key, one base URL, one ``httpx.AsyncClient``, and every resource.

Resources hang off the client as in the official SDK (``client.messages``,
``client.models``...), so code migrates by changing the import. The client only wires
them up: a :class:`~sluice._http._requester.Requester` builds and sends every request,
and each resource talks to it, never to the client.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence

import httpx

from ._core._breaker import BreakerSettings
from ._core._closing import AsyncCloseable
from ._core._limiter import LimitSettings, RateLimiter
from ._core._meter import QuotaSettings, UsageMeter
from ._core._request import DEFAULT_BASE_URL
from ._core._sse import DEFAULT_MAX_EVENT_SIZE
from ._http._observe import Hook, Hooks, setup_logging
from ._http._requester import (
    DEFAULT_STREAM_IDLE_TIMEOUT,
    DEFAULT_TIMEOUT,
    Endpoint,
    FailoverSettings,
    HealthReport,
    Requester,
    check_api_key,
)
from ._resources._admin import Admin
from ._resources._completions import Completions
from ._resources._files import Files
from ._resources._messages import Messages
from ._resources._models import Models
from ._resources._skills import Skills

__all__ = ["DEFAULT_BASE_URL", "DEFAULT_TIMEOUT", "AsyncClient"]


class AsyncClient(AsyncCloseable):
    """Client for the Anthropic API.

    Args:
        api_key: defaults to the ``ANTHROPIC_API_KEY`` environment variable. Checked for
            copy-paste slips (whitespace, line breaks) before anything is sent.
        base_url: defaults to ``ANTHROPIC_BASE_URL``, else ``https://api.anthropic.com``.
        http_client: an ``httpx.AsyncClient`` to send requests with (e.g. one with an
            ``httpx.MockTransport``). It is not closed by :meth:`aclose`; a client created
            here is.
        max_retries: retries per endpoint for connection errors, 408, 409, 429 and 5xx.
        timeout: each attempt's timeout, an ``httpx.Timeout`` or seconds.
        deadline: the default total time budget of one request, in seconds: attempts,
            backoff, rate-limit waits and failover together (``None``: no budget; the
            per-request ``deadline=`` option overrides it).
        stream_idle_timeout: a stream whose connection delivers no byte for this many
            seconds fails (default 120; the API's ``ping`` events keep a quiet stream alive).
        betas: values for the ``anthropic-beta`` header, sent with every request.
        default_headers: extra headers sent with every request.
        max_event_size: the largest SSE event a stream accepts, in bytes.
        limits: configured rate limits (:class:`sluice.types.LimitSettings`); by default
            requests wait as the API's ``anthropic-ratelimit-*`` and ``retry-after``
            headers say, instead of collecting 429s.
        shared_limits: a ``redis://[[user]:password@]host[:port][/db]`` URL: keep the
            rate-limit state (configured limits, what the headers said, requests in
            flight) in that Redis, shared by every process, sync or async, that uses it
            with the same API key and base URL. ``None`` (the default): it is this
            client's, shared by all its requests. A request is not sent when Redis cannot
            be reached (:class:`sluice.RedisError`).
        breaker: circuit breaker settings (:class:`sluice.types.BreakerSettings`), one
            breaker per endpoint and API path template (``/v1/models/{model_id}``: one
            for every model id); ``None`` (the default): no breakers.
        fallbacks: :class:`sluice.Endpoint` values to move on to, in order, when this
            client's endpoint keeps failing (another base URL, key or model).
        failover: when to move on (:class:`sluice.types.FailoverSettings`).
        on_request, on_response, on_retry, on_failover: hooks for metrics, each a
            function (plain or async) of a record (``sluice.types.RequestRecord``...).
        quotas: caps on requests, tokens and cost per UTC day and month
            (:class:`sluice.types.QuotaSettings`), checked before each Messages request
            is sent (:class:`~sluice.QuotaExceededError`).
        meter: the :class:`sluice.UsageMeter` to count usage in, instead of a new one:
            to share one between clients, price models of your own, or go on from a
            JSON export. Its quotas are its own (give ``quotas=`` to it, not here).

    Raises:
        ConfigError: no API key was given and ``ANTHROPIC_API_KEY`` is not set, or the key
            is malformed.
        ValueError: both ``quotas`` and ``meter`` were given.

    Use as ``async with AsyncClient() as client:`` or call :meth:`aclose`.
    """

    def __init__(
        self,
        *,
        api_key: str | None = None,
        base_url: str | None = None,
        http_client: httpx.AsyncClient | None = None,
        max_retries: int = 2,
        timeout: float | httpx.Timeout = DEFAULT_TIMEOUT,
        deadline: float | None = None,
        stream_idle_timeout: float | None = DEFAULT_STREAM_IDLE_TIMEOUT,
        betas: Sequence[str] = (),
        default_headers: Mapping[str, str] | None = None,
        max_event_size: int = DEFAULT_MAX_EVENT_SIZE,
        limits: LimitSettings | None = None,
        shared_limits: str | None = None,
        breaker: BreakerSettings | None = None,
        fallbacks: Sequence[Endpoint] = (),
        failover: FailoverSettings | None = None,
        on_request: Hook | None = None,
        on_response: Hook | None = None,
        on_retry: Hook | None = None,
        on_failover: Hook | None = None,
        quotas: QuotaSettings | None = None,
        meter: UsageMeter | None = None,
    ) -> None:
        setup_logging()
        key = api_key if api_key is not None else os.environ.get("ANTHROPIC_API_KEY")
        secret = check_api_key(key, "AsyncClient")
        if max_retries < 0:
            raise ValueError("max_retries must be >= 0")
        if meter is not None and quotas is not None:
            raise ValueError(
                "quotas= and meter= were both given: pass the quotas to the meter, "
                "UsageMeter(quotas=...)"
            )
        url = base_url or os.environ.get("ANTHROPIC_BASE_URL") or DEFAULT_BASE_URL
        timeout = timeout if isinstance(timeout, httpx.Timeout) else httpx.Timeout(timeout)
        self._owns_http = http_client is None
        self._requester = requester = Requester(
            http=http_client or httpx.AsyncClient(timeout=timeout),
            api_key=secret,
            base_url=httpx.URL(url.rstrip("/") + "/"),
            max_retries=max_retries,
            timeout=timeout,
            betas=betas,
            default_headers=default_headers or {},
            max_event_size=max_event_size,
            fallbacks=fallbacks,
            failover=failover,
            limits=limits,
            shared_limits=shared_limits,
            breaker=breaker,
            deadline=deadline,
            stream_idle_timeout=stream_idle_timeout,
            hooks=Hooks(
                on_request=on_request,
                on_response=on_response,
                on_retry=on_retry,
                on_failover=on_failover,
            ),
            meter=meter if meter is not None else UsageMeter(quotas=quotas),
        )
        #: The Messages API: ``stream``, ``create``, ``count_tokens``, ``batches``.
        self.messages = Messages(requester)
        #: The Models API: ``list`` (auto-paginating) and ``get``.
        self.models = Models(requester)
        #: The Files API (beta header sent automatically).
        self.files = Files(requester)
        #: Agent Skills (beta header sent automatically), with ``skills.versions``.
        self.skills = Skills(requester)
        #: The Admin API; needs a client created with an admin key (``sk-ant-admin...``).
        self.admin = Admin(requester)
        #: The legacy Text Completions API.
        self.completions = Completions(requester)

    async def health(self, *, probe_timeout: float = 10.0) -> list[HealthReport]:
        """Probe this client's endpoint and every fallback with a cheap request.

        Each gets ``GET /v1/models?limit=1`` (no retries, no failover) and reports whether
        it answered 200, its status, its latency and its circuit breaker's state.

        Args:
            probe_timeout: the longest each probe may take, in seconds.
        """
        return await self._requester.health(probe_timeout=probe_timeout)

    @property
    def rate_limiter(self) -> RateLimiter:
        """The rate limiter of this client's endpoint: ``waits``, ``waited`` and
        ``in_flight`` (with ``shared_limits``, the state itself is in Redis, and ``waits``
        and ``waited`` count this client's waits)."""
        return self._requester.limiter

    @property
    def usage(self) -> UsageMeter:
        """What this client's Messages requests used, priced, per model, with the day's and
        month's use and quota headroom (``.cost``, ``.total``, ``.to_json()``...)."""
        return self._requester.meter

    @property
    def base_url(self) -> httpx.URL:
        """The API's root URL (always ending in ``/``)."""
        return self._requester.base_url

    @property
    def max_retries(self) -> int:
        """Retries for connection errors, 408, 409, 429 and 5xx responses."""
        return self._requester.max_retries

    @property
    def timeout(self) -> httpx.Timeout:
        """The default timeout of every request."""
        return self._requester.timeout

    @property
    def betas(self) -> tuple[str, ...]:
        """``anthropic-beta`` values sent with every request."""
        return self._requester.betas

    @property
    def max_event_size(self) -> int:
        """The largest SSE event a stream accepts, in bytes."""
        return self._requester.max_event_size

    def __repr__(self) -> str:
        return f"<AsyncClient base_url={str(self.base_url)!r}>"

    async def aclose(self) -> None:
        """Close the connections to Redis (``shared_limits``), and the HTTP client if this
        client created it."""
        await self._requester.aclose()
        if self._owns_http:
            await self._requester.http.aclose()
