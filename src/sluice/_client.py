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

from ._core._closing import AsyncCloseable
from ._core._exceptions import SluiceError
from ._core._sse import DEFAULT_MAX_EVENT_SIZE
from ._http._requester import DEFAULT_TIMEOUT, Requester, Secret
from ._resources._admin import Admin
from ._resources._completions import Completions
from ._resources._files import Files
from ._resources._messages import Messages
from ._resources._models import Models
from ._resources._skills import Skills

__all__ = ["DEFAULT_BASE_URL", "DEFAULT_TIMEOUT", "AsyncClient"]

DEFAULT_BASE_URL = "https://api.anthropic.com"


class AsyncClient(AsyncCloseable):
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
        if max_retries < 0:
            raise ValueError("max_retries must be >= 0")
        url = base_url or os.environ.get("ANTHROPIC_BASE_URL") or DEFAULT_BASE_URL
        timeout = timeout if isinstance(timeout, httpx.Timeout) else httpx.Timeout(timeout)
        self._owns_http = http_client is None
        self._requester = requester = Requester(
            http=http_client or httpx.AsyncClient(timeout=timeout),
            api_key=Secret(key),
            base_url=httpx.URL(url.rstrip("/") + "/"),
            max_retries=max_retries,
            timeout=timeout,
            betas=betas,
            default_headers=default_headers or {},
            max_event_size=max_event_size,
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
        """Close the HTTP client if this client created it."""
        if self._owns_http:
            await self._requester.http.aclose()
