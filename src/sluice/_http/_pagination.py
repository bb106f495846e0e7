"""Lazy pagination over the API's list endpoints.

Two styles exist. Most list endpoints (models, message batches, files, skills) take
``limit`` and a cursor, ``after_id`` or ``before_id``, and answer ``{"data": [...],
"has_more": bool, "first_id": ..., "last_id": ...}``: the next page forward starts
``after_id=last_id`` (backward, ``before_id=first_id``). The Admin API's list endpoints take
``limit`` and ``page`` and answer ``{"data": [...], "has_more": bool, "next_page": ...}``.

:class:`AsyncPaginator` is an async iterator over items that fetches a page only when the
previous one is used up, so iterating a huge listing holds one page in memory; ``.pages()``
iterates whole pages, and ``.first_page()`` fetches just one.
"""

from __future__ import annotations

from collections.abc import (
    AsyncGenerator,
    AsyncIterator,
    Awaitable,
    Callable,
    Mapping,
)
from typing import Any, Generic, Literal, TypeVar

import httpx
import msgspec

from .._core._ratelimit import RateLimits

__all__ = ["AsyncPaginator", "Page"]

T = TypeVar("T")


class Page(msgspec.Struct, Generic[T], kw_only=True):
    """One page of a list endpoint.

    Attributes:
        data: the items of this page.
        has_more: whether another page follows in the direction of travel.
        first_id, last_id: cursors of the first and last item (cursor-style endpoints).
        next_page: the token for the next page (page-style endpoints, e.g. Admin API).
        rate_limits: the rate-limit headers of the response that carried this page.
        request_id: the ``request-id`` of that response.
    """

    data: list[T]
    has_more: bool = False
    first_id: str | None = None
    last_id: str | None = None
    next_page: str | None = None
    rate_limits: RateLimits | None = None
    request_id: str | None = None

    def attach(self, response: httpx.Response) -> None:
        """Record the ``request-id`` and rate limits of the response that carried this page."""
        self.rate_limits = RateLimits.from_headers(response.headers)
        self.request_id = response.headers.get("request-id")


FetchPage = Callable[[dict[str, Any]], Awaitable[Page[T]]]


class AsyncPaginator(Generic[T], AsyncIterator[T]):
    """Items of a list endpoint, fetched page by page as you iterate.

    Args:
        fetch: fetches one page given the query parameters.
        params: the caller's query parameters (``limit``, ``after_id``, ``before_id``,
            ``page``, filters...); ``None`` values are dropped.
        style: ``"cursor"`` (``after_id``/``before_id``) or ``"page"`` (``page`` token).

    Example::

        async for model in client.models.list(limit=20):
            print(model.id)
        async for page in client.models.list().pages():
            print(len(page.data), page.has_more)
    """

    def __init__(
        self,
        fetch: FetchPage[T],
        params: Mapping[str, Any] | None = None,
        *,
        style: Literal["cursor", "page"] = "cursor",
    ) -> None:
        self._fetch = fetch
        self._params = {k: v for k, v in (params or {}).items() if v is not None}
        self._style = style
        self._items: AsyncGenerator[T, None] | None = None

    def __repr__(self) -> str:
        return f"<AsyncPaginator {self._style} {self._params!r}>"

    async def first_page(self) -> Page[T]:
        """Fetch only the first page."""
        return await self._fetch(dict(self._params))

    async def pages(self) -> AsyncGenerator[Page[T], None]:
        """Iterate page by page; each page is fetched when the previous one is done."""
        params = dict(self._params)
        backward = "before_id" in params
        while True:
            page = await self._fetch(dict(params))
            yield page
            if not page.has_more:
                return
            if self._style == "page":
                if not page.next_page:
                    return
                params["page"] = page.next_page
            elif backward:
                if page.first_id is None:
                    return
                params["before_id"] = page.first_id
            else:
                if page.last_id is None:
                    return
                params["after_id"] = page.last_id

    async def _iter_items(self) -> AsyncGenerator[T, None]:
        pages = self.pages()
        try:
            async for page in pages:
                for item in page.data:
                    yield item
        finally:
            await pages.aclose()

    def __aiter__(self) -> AsyncIterator[T]:
        return self

    async def __anext__(self) -> T:
        if self._items is None:
            self._items = self._iter_items()
        return await self._items.__anext__()

    async def aclose(self) -> None:
        """Stop iterating (nothing stays open between pages, so this only frees state)."""
        if self._items is not None:
            await self._items.aclose()

    async def to_list(self) -> list[T]:
        """Collect every item of every page (mind the size of the listing)."""
        return [item async for item in self]
