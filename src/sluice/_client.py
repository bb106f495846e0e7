"""``AsyncClient``: auth, base URL, retries and typed errors over one ``httpx.AsyncClient``.

Resources hang off the client as in the official SDK (``client.messages``), so code migrates
by changing the import. Requests are built here; the body is decoded by the resource.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from types import TracebackType
from typing import Any

import anyio
import httpx
import msgspec

from ._core._exceptions import APIConnectionError, APITimeoutError, SluiceError
from ._core._message import Message, decode_message
from ._core._params import to_request_body, validate_message_params
from ._core._retry import retry_delay, should_retry
from ._core._sse import DEFAULT_MAX_EVENT_SIZE
from ._http._response import attach_info, status_error
from ._http._stream import MessageStreamManager
from ._resources._admin import Admin
from ._resources._batches import Batches
from ._resources._completions import Completions
from ._resources._files import Files
from ._resources._models import Models
from ._resources._skills import Skills
from ._resources._tokens import MessageTokensCount, count_tokens

__all__ = [
    "DEFAULT_BASE_URL",
    "DEFAULT_TIMEOUT",
    "AsyncClient",
    "Messages",
]

DEFAULT_BASE_URL = "https://api.anthropic.com"
API_VERSION = "2023-06-01"
#: 10 minutes overall like the official SDK, but give up connecting after 5 seconds.
DEFAULT_TIMEOUT = httpx.Timeout(600.0, connect=5.0)

_json_encode = msgspec.json.Encoder().encode


class _Secret:
    """Holds the API key so that it never shows in a repr, a log line or a traceback."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def get(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "<redacted>"

    __str__ = __repr__


class AsyncClient:
    """Client for the Anthropic API.

    Args:
        api_key: defaults to the ``ANTHROPIC_API_KEY`` environment variable.
        base_url: defaults to ``ANTHROPIC_BASE_URL``, else ``https://api.anthropic.com``.
        http_client: an ``httpx.AsyncClient`` to send requests with (e.g. one with an
            ``httpx.MockTransport``). It is not closed by :meth:`aclose`; a client created
            here is.
        max_retries: retries for connection errors, 408, 409, 429 and 5xx responses.
        timeout: an ``httpx.Timeout`` or seconds.
        betas: values for the ``anthropic-beta`` header, sent with every request.
        default_headers: extra headers sent with every request.
        max_event_size: the largest SSE event a stream accepts, in bytes.

    Raises:
        SluiceError: no API key was given and ``ANTHROPIC_API_KEY`` is not set.

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
        betas: Sequence[str] = (),
        default_headers: Mapping[str, str] | None = None,
        max_event_size: int = DEFAULT_MAX_EVENT_SIZE,
    ) -> None:
        key = api_key if api_key is not None else os.environ.get("ANTHROPIC_API_KEY")
        if not key:
            raise SluiceError("no API key: pass AsyncClient(api_key=...) or set ANTHROPIC_API_KEY")
        self._api_key = _Secret(key)
        self.base_url = httpx.URL(
            (base_url or os.environ.get("ANTHROPIC_BASE_URL") or DEFAULT_BASE_URL).rstrip("/") + "/"
        )
        if max_retries < 0:
            raise ValueError("max_retries must be >= 0")
        self.max_retries = max_retries
        self.timeout = timeout if isinstance(timeout, httpx.Timeout) else httpx.Timeout(timeout)
        self.betas = tuple(betas)
        self.max_event_size = max_event_size
        self._default_headers = dict(default_headers or {})
        self._owns_http = http_client is None
        self._http = http_client or httpx.AsyncClient(timeout=self.timeout)
        #: The Messages API: ``stream``, ``create``, ``count_tokens``, ``batches``.
        self.messages = Messages(self)
        #: The Models API: ``list`` (auto-paginating) and ``get``.
        self.models = Models(self)
        #: The Files API (beta header sent automatically).
        self.files = Files(self)
        #: Agent Skills (beta header sent automatically), with ``skills.versions``.
        self.skills = Skills(self)
        #: The Admin API; needs a client created with an admin key (``sk-ant-admin...``).
        self.admin = Admin(self)
        #: The legacy Text Completions API.
        self.completions = Completions(self)

    def __repr__(self) -> str:
        return f"<AsyncClient base_url={str(self.base_url)!r}>"

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the HTTP client if this client created it."""
        if self._owns_http:
            await self._http.aclose()

    # ------------------------------------------------------------------------- plumbing

    def _headers(self, extra: Mapping[str, str] | None, betas: Sequence[str]) -> dict[str, str]:
        headers = {
            "x-api-key": self._api_key.get(),
            "anthropic-version": API_VERSION,
            "content-type": "application/json",
            "accept": "application/json",
            "user-agent": "sluice/0.1",
        }
        all_betas = [*self.betas, *betas]
        if all_betas:
            headers["anthropic-beta"] = ",".join(all_betas)
        headers.update(self._default_headers)
        if extra:
            headers.update(extra)
        return headers

    def _build(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: Any = None,
        headers: Mapping[str, str] | None = None,
        betas: Sequence[str] = (),
        content: bytes | None = None,
    ) -> httpx.Request:
        body = content if content is not None else (None if json is None else _json_encode(json))
        return self._http.build_request(
            method,
            self.base_url.join(path.lstrip("/")),
            content=body,
            params=params,
            headers=self._headers(headers, betas),
            timeout=self.timeout,
        )

    async def _call(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
        betas: Sequence[str] = (),
        content: bytes | None = None,
        stream: bool = False,
    ) -> httpx.Response:
        """Build and send one request with retries (the plumbing every resource uses).

        ``params`` values that are ``None`` are dropped and lists become repeated keys
        (``?ids=a&ids=b``), as the API expects for array query parameters. With
        ``stream=True`` the caller must close the response.
        """
        query = None
        if params is not None:
            query = [
                (key, _query_value(item))
                for key, value in params.items()
                if value is not None
                for item in (value if isinstance(value, (list, tuple)) else [value])
            ]
        request = self._build(
            method, path, json=json, params=query, headers=headers, betas=betas, content=content
        )
        return await self._send(request, stream=stream)

    async def _send(self, request: httpx.Request, *, stream: bool) -> httpx.Response:
        """Send with retries; return a successful response or raise a typed error.

        With ``stream=True`` the body of a successful response is left unread for the
        caller, who must close the response.
        """
        attempt = 0
        while True:
            try:
                response = await self._http.send(request, stream=True)
            except httpx.TransportError as exc:  # timeouts included
                if attempt < self.max_retries:
                    await anyio.sleep(retry_delay(attempt))
                    attempt += 1
                    continue
                if isinstance(exc, httpx.TimeoutException):
                    raise APITimeoutError(
                        f"{request.method} {request.url.path} timed out after "
                        f"{attempt + 1} attempt(s) ({type(exc).__name__})"
                    ) from exc
                raise APIConnectionError(
                    f"{request.method} {request.url.path} failed after {attempt + 1} "
                    f"attempt(s): {type(exc).__name__}: {exc}"
                ) from exc
            if response.is_success:
                if not stream:
                    try:
                        await response.aread()
                    finally:
                        await response.aclose()
                return response
            retry = attempt < self.max_retries and should_retry(
                response.status_code, response.headers
            )
            try:
                await response.aread()
            except httpx.TransportError:
                pass  # the error body is a courtesy; the status says enough
            finally:
                await response.aclose()
            if retry:
                await anyio.sleep(retry_delay(attempt, response.headers))
                attempt += 1
                continue
            raise status_error(response)


def _query_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


class Messages:
    """``client.messages``: the Messages API."""

    def __init__(self, client: AsyncClient) -> None:
        self._client = client
        #: The Message Batches API.
        self.batches = Batches(client)

    def stream(
        self,
        *,
        extra_headers: Mapping[str, str] | None = None,
        betas: Sequence[str] = (),
        **params: Any,
    ) -> MessageStreamManager:
        """Stream a message: ``async with client.messages.stream(**params) as stream``.

        ``params`` are the Messages API request fields (``model``, ``max_tokens``,
        ``messages``, ``system``, ``tools``, ``thinking``...), as plain values or the
        typed structs of ``sluice`` (``MessageParam``, ``Tool``, ``ThinkingEnabled``...),
        sent with ``"stream": true``. The request is sent, with retries, when the block is
        entered.

        Raises:
            ParamsError: at once, for parameters the API would reject (checked locally).
            APIError: on enter, typed by status, for HTTP errors.
            APIConnectionError: on enter, when the API cannot be reached.
        """
        client = self._client
        body = to_request_body(params)
        validate_message_params(body, stream=True, betas=[*client.betas, *betas])
        headers = {"accept": "text/event-stream", **(extra_headers or {})}
        request = client._build(
            "POST",
            "/v1/messages",
            json={**body, "stream": True},
            headers=headers,
            betas=betas,
        )

        async def send() -> httpx.Response:
            return await client._send(request, stream=True)

        return MessageStreamManager(send, max_event_size=client.max_event_size)

    async def create(
        self,
        *,
        extra_headers: Mapping[str, str] | None = None,
        betas: Sequence[str] = (),
        **params: Any,
    ) -> Message:
        """Create a message without streaming and return it whole.

        Raises:
            ParamsError: for parameters the API would reject, before sending; its subclass
                StreamingRequiredError when ``max_tokens`` is too large for a request that
                must finish within the non-streaming timeout (use :meth:`stream`).
            APIError: typed by status. APIConnectionError: the API cannot be reached.
        """
        client = self._client
        body = to_request_body(params)
        validate_message_params(
            body,
            stream=False,
            betas=[*client.betas, *betas],
            allow_long_nonstreaming=client.timeout != DEFAULT_TIMEOUT,
        )
        request = client._build(
            "POST", "/v1/messages", json=body, headers=extra_headers, betas=betas
        )
        response = await client._send(request, stream=False)
        message = decode_message(response.content)
        attach_info(message, response)
        return message

    async def count_tokens(
        self,
        *,
        extra_headers: Mapping[str, str] | None = None,
        betas: Sequence[str] = (),
        **params: Any,
    ) -> MessageTokensCount:
        """Count the input tokens of a Messages request without creating a message.

        Takes the same fields as :meth:`create` (``model``, ``messages``, ``system``,
        ``tools``...). Raises :class:`~sluice.APIError` subclasses.
        """
        return await count_tokens(self._client, extra_headers=extra_headers, betas=betas, **params)
