"""The one way requests reach the API: URL, auth, headers, per-request options, retries.

:class:`Requester` is the narrow interface every resource talks to (``build`` a request,
``send`` it with retries, or ``request`` to do both); resources never see the client. The
client (``sluice.AsyncClient``) makes one requester and hands it to each resource, as
httpx's transports know nothing of ``httpx.AsyncClient``.

:class:`RequestOptions` are the per-request options every endpoint method takes
(``betas``, ``extra_headers``, ``extra_query``, ``extra_body``, ``timeout``), declared once
here and passed through unchanged.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Final, TypedDict

import anyio
import httpx
import msgspec

from .._core._exceptions import APIConnectionError, APITimeoutError, ParamsError
from .._core._retry import retry_delay, should_retry
from .._core._status import MAX_ERROR_BODY
from ._response import status_error
from ._stream import release

__all__ = [
    "API_VERSION",
    "DEFAULT_TIMEOUT",
    "OPTION_NAMES",
    "RequestExtras",
    "RequestOptions",
    "Requester",
    "Secret",
    "split_options",
]

API_VERSION: Final = "2023-06-01"
#: 10 minutes overall like the official SDK, but give up connecting after 5 seconds.
DEFAULT_TIMEOUT: Final = httpx.Timeout(600.0, connect=5.0)
USER_AGENT: Final = "sluice/0.1"

_json_encode = msgspec.json.Encoder().encode


class RequestExtras(TypedDict, total=False):
    """:class:`RequestOptions` without ``timeout``: for a method whose own ``timeout``
    means something else (``batches.wait(timeout=...)`` is the total wait)."""

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
        timeout: this request's timeout (seconds or an ``httpx.Timeout``), instead of the
            client's.
    """

    timeout: float | httpx.Timeout | None


#: The keys of :class:`RequestOptions`.
OPTION_NAMES: Final = frozenset(RequestOptions.__annotations__)


def split_options(params: Mapping[str, Any]) -> tuple[RequestOptions, dict[str, Any]]:
    """Separate the request options from a method's ``**params`` (the request body)."""
    options: dict[str, Any] = {}
    body: dict[str, Any] = {}
    for key, value in params.items():
        (options if key in OPTION_NAMES else body)[key] = value
    return options, body  # type: ignore[return-value]


class Secret:
    """Holds the API key so that it never shows in a repr, a log line or a traceback."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def get(self) -> str:
        """The secret itself, for the one place that sends it."""
        return self._value

    def __repr__(self) -> str:
        return "<redacted>"

    __str__ = __repr__

    def __reduce__(self) -> str:
        raise TypeError("an API key is not pickled")


class Requester:
    """Builds and sends requests to one API endpoint with one key.

    Args:
        http: the ``httpx.AsyncClient`` that sends.
        api_key: the key, sent as ``x-api-key``.
        base_url: the API's root URL.
        max_retries: retries for connection errors, 408, 409, 429 and 5xx responses.
        timeout: the default timeout of every request.
        betas: ``anthropic-beta`` values sent with every request.
        default_headers: headers sent with every request.
        max_event_size: the largest SSE event a stream accepts, in bytes.
    """

    def __init__(
        self,
        *,
        http: httpx.AsyncClient,
        api_key: Secret,
        base_url: httpx.URL,
        max_retries: int,
        timeout: httpx.Timeout,
        betas: Sequence[str],
        default_headers: Mapping[str, str],
        max_event_size: int,
    ) -> None:
        self.http = http
        self._api_key = api_key
        self.base_url = base_url
        self.max_retries = max_retries
        self.timeout = timeout
        self.betas = tuple(betas)
        self.default_headers = dict(default_headers)
        self.max_event_size = max_event_size

    def __repr__(self) -> str:
        return f"<Requester base_url={str(self.base_url)!r}>"

    def with_beta(self, beta: str, betas: Sequence[str] = ()) -> tuple[str, ...]:
        """``betas`` plus ``beta``, unless this requester already sends it every time."""
        if beta in self.betas or beta in betas:
            return tuple(betas)
        return (beta, *betas)

    def build(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: Mapping[str, Any] | None = None,
        content: Any = None,
        headers: Mapping[str, str] | None = None,
        options: RequestOptions | None = None,
    ) -> httpx.Request:
        """One request: ``path`` under the base URL, auth and version headers, options.

        ``params`` values that are ``None`` are dropped and lists become repeated keys
        (``?ids=a&ids=b``), as the API expects for array query parameters. ``json`` is
        encoded with msgspec; ``content`` (bytes or an async iterable) is sent as given.
        Header precedence, lowest first: sluice's defaults, the client's
        ``default_headers``, the method's ``headers``, then ``extra_headers``.

        Raises:
            ParamsError: ``extra_body`` given for a request without a JSON body.
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
            "x-api-key": self._api_key.get(),
            "anthropic-version": API_VERSION,
            "content-type": "application/json",
            "accept": "application/json",
            "user-agent": USER_AGENT,
        }
        betas = [*self.betas, *options.get("betas", ())]
        if betas:
            all_headers["anthropic-beta"] = ",".join(dict.fromkeys(betas))
        all_headers.update(self.default_headers)
        if headers:
            all_headers.update(headers)
        extra_headers = options.get("extra_headers")
        if extra_headers:
            all_headers.update(extra_headers)
        query = _query([params, options.get("extra_query")])
        timeout = options.get("timeout")
        if timeout is None:
            timeout = self.timeout
        body = content if content is not None else (None if json is None else _json_encode(json))
        return self.http.build_request(
            method,
            self.base_url.join(path.lstrip("/")),
            content=body,
            params=query,
            headers=all_headers,
            timeout=timeout if isinstance(timeout, httpx.Timeout) else httpx.Timeout(timeout),
        )

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
        """:meth:`build` then :meth:`send` (with retries)."""
        request = self.build(
            method, path, json=json, params=params, headers=headers, options=options
        )
        return await self.send(request, stream=stream)

    async def send(
        self, request: httpx.Request, *, stream: bool = False, retry: bool = True
    ) -> httpx.Response:
        """Send with retries; return a successful response or raise a typed error.

        Args:
            request: from :meth:`build`.
            stream: leave the body of a successful response unread for the caller, who
                must close the response; otherwise it is read and the response closed.
            retry: ``False`` for a body that can be read only once (an upload from an
                async iterable): then the request is sent exactly once.

        Raises:
            APIStatusError: typed by status (``OverloadedStatusError``...), after retries.
            APIConnectionError: no response (``APITimeoutError`` for a timeout).
        """
        attempt = 0
        retries = self.max_retries if retry else 0
        once = "" if retry else "; the body was read from an async iterable, so not retried"
        while True:
            try:
                response = await self.http.send(request, stream=True)
            except httpx.TransportError as exc:  # timeouts included
                if attempt < retries:
                    await anyio.sleep(retry_delay(attempt))
                    attempt += 1
                    continue
                exc.request = _redacted(request)  # the cause an error carries shows no key
                where = f"{request.method} {request.url.path}"
                if isinstance(exc, httpx.TimeoutException):
                    raise APITimeoutError(
                        f"{where} timed out after {attempt + 1} attempt(s) "
                        f"({type(exc).__name__}){once}"
                    ) from exc
                raise APIConnectionError(
                    f"{where} failed after {attempt + 1} attempt(s): "
                    f"{type(exc).__name__}: {exc}{once}"
                ) from exc
            response.request = _redacted(request)
            if response.is_success:
                if not stream:
                    await _read_body(response)
                return response
            body, truncated = await _read_error_body(response)
            if attempt < retries and should_retry(response.status_code, response.headers):
                await anyio.sleep(retry_delay(attempt, response.headers))
                attempt += 1
                continue
            raise status_error(response, body, truncated=truncated)


#: Headers whose values never leave this module: the request an error carries shows
#: ``<redacted>`` instead.
_SECRET_HEADERS: Final = ("x-api-key", "authorization", "proxy-authorization", "cookie")


def _redacted(request: httpx.Request) -> httpx.Request:
    """A copy of ``request`` (no body) with its secrets replaced, for ``response.request``.

    The response, and any error that keeps it, then cannot show the key, however it is
    printed or pickled; the request actually sent (and re-sent on a retry) is unchanged.
    """
    headers = httpx.Headers(request.headers)
    for name in _SECRET_HEADERS:
        if name in headers:
            headers[name] = "<redacted>"
    return httpx.Request(
        request.method, request.url, headers=headers, extensions=request.extensions
    )


async def _read_body(response: httpx.Response) -> None:
    """Read a successful response's body whole (for JSON results), then close it."""
    where = f"{response.request.method} {response.request.url.path}"
    try:
        await response.aread()
    except (httpx.TransportError, httpx.DecodingError) as exc:
        kind = APITimeoutError if isinstance(exc, httpx.TimeoutException) else APIConnectionError
        raise kind(
            f"{where}: the response body broke off ({type(exc).__name__}: {exc}); it was "
            f"not retried, since the request was processed"
        ) from exc
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
