"""What every endpoint resource does: request, decode, keep unknown fields, paginate.

A resource method is a few lines on top of :class:`Resource`: it checks its own parameters,
builds the path with :func:`api_path` (a template and its ids, each quoted by
:func:`segment`; the template keys the endpoint's circuit breaker), and calls
:meth:`Resource._get`, :meth:`~Resource._post`, :meth:`~Resource._delete` or
:meth:`~Resource._list`, passing the caller's
:class:`~sluice._http._requester.RequestOptions` through. The result is decoded
typed in one pass, with the fields this version does not model kept (``sluice.to_json``
writes them back) and the response's status, ``request-id`` and rate limits attached
(``sluice.response_info``).
"""

from __future__ import annotations

import urllib.parse
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, ClassVar, Generic, Literal, TypeVar, Unpack

import httpx
import msgspec

from .._core._exceptions import ParamsError
from .._core._wire import Wire, attach_extras
from .._http._multipart import MultipartBody, send_multipart
from .._http._pagination import AsyncPaginator, Page
from .._http._requester import APIPath, Requester, RequestOptions
from .._http._response import attach_info, decode_error, expect_event_stream

__all__ = ["CursorListed", "Resource", "api_path", "decode_response", "decoder_for", "segment"]

W = TypeVar("W", bound=Wire)
T = TypeVar("T")

_decoders: dict[Any, msgspec.json.Decoder[Any]] = {}
_any_decoder = msgspec.json.Decoder()


def decoder_for(kind: Any) -> msgspec.json.Decoder[Any]:
    """The one typed msgspec decoder of ``kind`` (made on first use, then reused)."""
    decoder = _decoders.get(kind)
    if decoder is None:
        decoder = _decoders[kind] = msgspec.json.Decoder(kind)
    return decoder


def decode_response(response: httpx.Response, kind: type[W]) -> W:
    """The body of a successful ``response`` as a ``kind``, unknown fields kept, info attached.

    Raises:
        UnexpectedResponseError: the body is not JSON of that shape (an HTML page from a
            proxy, say); it names the status, ``request-id`` and content type.
    """
    content = response.content
    try:
        value: W = decoder_for(kind).decode(content)
        raw = _any_decoder.decode(content)
        # Fields the reference requires in a response that the Struct defaults (it also
        # holds partial values, a stream's message_start): a reply without them is no reply.
        for name in getattr(kind, "__response_fields__", ()):
            if name not in raw:
                raise msgspec.ValidationError(f"Object missing required field `{name}`")
    except msgspec.MsgspecError as exc:
        raise decode_error(response, exc, kind.__name__) from exc
    attach_extras(value, raw)
    attach_info(value, response)
    return value


def segment(name: str, value: object, *, error: type[ParamsError] = ParamsError) -> str:
    """``value`` as one URL path segment (``/`` and everything else escaped).

    Raises:
        ParamsError: (or ``error``) ``value`` is not a non-empty string.
    """
    if not isinstance(value, str) or not value:
        raise error(f"expected a non-empty {name.replace('_', ' ')}, got {value!r}", field=name)
    return urllib.parse.quote(value, safe="")


def api_path(template: str, /, *, error: type[ParamsError] = ParamsError, **ids: object) -> APIPath:
    """``template`` with each ``{name}`` replaced by ``ids[name]`` as one path segment:
    ``api_path("/v1/models/{model_id}", model_id="claude-x")`` is ``/v1/models/claude-x``,
    an :class:`~sluice._http._requester.APIPath` that keeps its template.

    Raises:
        ParamsError: (or ``error``) an id is not a non-empty string.
    """
    values = {name: segment(name, value, error=error) for name, value in ids.items()}
    return APIPath(template.format_map(values), template)


class Resource:
    """Base of every endpoint resource (``client.models``, ``client.files``...).

    Args:
        requester: what sends the requests (shared by every resource of a client).
    """

    #: An ``anthropic-beta`` value every request of this resource needs (Files, Skills).
    beta: ClassVar[str | None] = None

    def __init__(self, requester: Requester) -> None:
        self._requester = requester

    def __repr__(self) -> str:
        return f"<{type(self).__name__} base_url={str(self._requester.base_url)!r}>"

    def _options(self, options: RequestOptions) -> RequestOptions:
        """``options`` with this resource's beta added."""
        if self.beta is None:
            return options
        return {**options, "betas": self._requester.with_beta(self.beta, options.get("betas", ()))}

    async def _request(
        self,
        method: str,
        path: str,
        kind: type[W],
        options: RequestOptions,
        *,
        body: Any = None,
        params: Mapping[str, Any] | None = None,
    ) -> W:
        response = await self._requester.request(
            method, path, json=body, params=params, options=self._options(options)
        )
        return decode_response(response, kind)

    async def _get(
        self,
        path: str,
        kind: type[W],
        options: RequestOptions,
        *,
        params: Mapping[str, Any] | None = None,
    ) -> W:
        """``GET path`` decoded as a ``kind``."""
        return await self._request("GET", path, kind, options, params=params)

    async def _post(
        self,
        path: str,
        kind: type[W],
        options: RequestOptions,
        *,
        body: Any = None,
    ) -> W:
        """``POST path`` with a JSON ``body``, decoded as a ``kind``."""
        return await self._request("POST", path, kind, options, body=body)

    async def _delete(self, path: str, kind: type[W], options: RequestOptions) -> W:
        """``DELETE path`` decoded as a ``kind``."""
        return await self._request("DELETE", path, kind, options)

    async def _post_multipart(
        self, path: str, body: MultipartBody, kind: type[W], options: RequestOptions
    ) -> W:
        """``POST path`` with a streamed multipart ``body`` (an upload), decoded as a ``kind``.

        Retried only if the body can be read again (a path or bytes, not an async iterable).
        """
        response = await send_multipart(self._requester, path, body, self._options(options))
        return decode_response(response, kind)

    def _list(
        self,
        path: str,
        kind: type[T],
        params: Mapping[str, Any],
        options: RequestOptions,
        *,
        style: Literal["cursor", "page"] = "cursor",
    ) -> AsyncPaginator[T]:
        """``GET path`` page by page, each page's items decoded as ``kind``s.

        Nothing is sent until iteration starts. ``style`` says how the next page is asked
        for: ``after_id``/``before_id`` cursors, or a ``page`` token.
        """
        requester = self._requester
        options = self._options(options)
        decoder = decoder_for(Page[kind])  # type: ignore[valid-type]

        async def fetch(query: dict[str, Any]) -> Page[T]:
            response = await requester.request("GET", path, params=query, options=options)
            try:
                page: Page[T] = decoder.decode(response.content)
                raw = _any_decoder.decode(response.content)
            except msgspec.MsgspecError as exc:
                raise decode_error(response, exc, f"a page of {kind.__name__}") from exc
            for item, raw_item in zip(page.data, raw.get("data") or (), strict=False):
                attach_extras(item, raw_item)
            page.attach(response)
            return page

        return AsyncPaginator(fetch, params, style=style)

    def _sender(
        self,
        method: str,
        path: str,
        options: RequestOptions,
        *,
        body: Any = None,
        headers: Mapping[str, str] | None = None,
        event_stream: bool = False,
    ) -> Callable[[], Awaitable[httpx.Response]]:
        """A function that sends the request and returns the unread, streaming response.

        For bodies read as they arrive (event streams, results files, downloads): the
        request is built now, so bad options fail at once, and sent when called. With
        ``event_stream``, a successful response that is not ``text/event-stream`` raises
        :class:`~sluice.UnexpectedResponseError` instead of being read as events.
        """
        requester = self._requester
        spec = requester.prepare(
            method, path, json=body, headers=headers, options=self._options(options), stream=True
        )

        async def send() -> httpx.Response:
            response = await requester.send(spec, stream=True)
            return await expect_event_stream(response) if event_stream else response

        return send


class CursorListed(Resource, Generic[T]):
    """A resource whose listing pages with ``after_id``/``before_id`` cursors, newest first.

    Subclasses name the listing's path and item type; :meth:`list` is the same everywhere
    (models, message batches, files).
    """

    #: ``GET`` this path to list.
    list_path: ClassVar[str]
    #: The type of the listed items.
    item_type: ClassVar[type[Any]]

    def list(
        self,
        *,
        limit: int | None = None,
        after_id: str | None = None,
        before_id: str | None = None,
        **options: Unpack[RequestOptions],
    ) -> AsyncPaginator[T]:
        """Every item, most recent first, fetched page by page as you iterate.

        Args:
            limit: items per page (the API's default is 20, its maximum 1000).
            after_id: start after this id (the next page forward).
            before_id: start before this id; iteration then goes backward.
            options: per-request options (``betas``, ``extra_headers``...).

        Nothing is sent until iteration starts. Raises (while iterating):
        :class:`~sluice.APIError` subclasses, :class:`~sluice.APIConnectionError`.
        """
        params = {"limit": limit, "after_id": after_id, "before_id": before_id}
        return self._list(self.list_path, self.item_type, params, options)
