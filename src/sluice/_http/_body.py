"""A response body read lazily as an async iterator: the shape of results files and downloads.

:class:`LazyBody` sends its request on ``async with`` (or on the first item), owns the
``httpx.Response``, and releases the connection on exit, on :meth:`~LazyBody.aclose`, or when
reading ends; subclasses only write the generator that turns body bytes into items.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Awaitable, Callable
from typing import ClassVar, Generic, Self, TypeVar

import anyio
import httpx

from .._core._closing import AsyncCloseable
from .._core._exceptions import SluiceError

__all__ = ["BodyIterator", "LazyBody"]

T = TypeVar("T")


class BodyIterator(Generic[T]):
    """An async iterator over a streaming response body that it owns.

    ``async for`` runs ``self._iterator`` (an async generator the subclass makes, which
    releases the response in its ``finally:``) with no extra layer; :meth:`aclose` closes
    it and the response. Subclasses: :class:`LazyBody`, ``MessageStream``,
    ``CompletionStream``.
    """

    response: httpx.Response | None
    _iterator: AsyncGenerator[T, None]
    _closed: bool

    def __aiter__(self) -> AsyncGenerator[T, None]:
        return self._iterator

    async def __anext__(self) -> T:
        return await self._iterator.__anext__()

    async def aclose(self) -> None:
        """Stop reading and release the connection. Safe to call more than once."""
        if self._closed:
            return
        self._closed = True
        try:
            await self._close_iterators()
        finally:
            if self.response is not None:
                with anyio.CancelScope(shield=True):
                    await self.response.aclose()

    async def _close_iterators(self) -> None:
        """Close what reads the body (a subclass may read it through more than one)."""
        await self._iterator.aclose()


class LazyBody(BodyIterator[T], AsyncCloseable):
    """Base of body-reading iterators (batch results, file downloads).

    Attributes:
        response: the ``httpx.Response`` being read, once the request was sent.
    """

    #: What the iterator is called in the error raised when it is used after closing.
    _what: ClassVar[str] = "this response"

    def __init__(self, send: Callable[[], Awaitable[httpx.Response]]) -> None:
        self._send = send
        self.response: httpx.Response | None = None
        self._iterator = self._iterate()
        self._closed = False

    @property
    def request_id(self) -> str | None:
        """The ``request-id`` of the response (``None`` before it is sent)."""
        return None if self.response is None else self.response.headers.get("request-id")

    async def __aenter__(self) -> Self:
        await self._open()
        return self

    async def _open(self) -> httpx.Response:
        if self._closed:
            raise SluiceError(f"{self._what} is closed; request it again")
        if self.response is None:
            self.response = await self._send()
        return self.response

    def _iterate(self) -> AsyncGenerator[T, None]:
        """The items of the body; must end with ``release(response, chunks)`` in ``finally``."""
        raise NotImplementedError
