"""Response bodies read as they arrive, and released however the reading stops.

:func:`body_chunks` is how every body reader gets its bytes: the raw bytes of the response,
decoded here (``Content-Encoding``, see ``_core._content``) into slices of at most 64 KiB,
with a checkpoint between the slices of a chunk that inflates, so no step holds the event
loop long. :func:`release` closes a response and finishes httpx's byte iterators, shielded
from cancellation. :class:`BodyIterator` and :class:`LazyBody` are the shells of the
readers (message and completion streams, batch results, file downloads): :class:`LazyBody`
sends its request on ``async with`` (or on the first item), owns the ``httpx.Response``, and
releases the connection on exit, on :meth:`~LazyBody.aclose`, or when reading ends.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable, Iterator
from typing import ClassVar, Generic, Self, TypeVar

import anyio
import anyio.lowlevel
import httpx

from .._core._closing import AsyncCloseable
from .._core._content import SLICE, ContentDecoder
from .._core._exceptions import SluiceError

__all__ = ["BodyIterator", "LazyBody", "body_chunks", "release"]

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


_CLOSED_STREAM_ERRORS = (
    httpx.HTTPError,
    httpx.StreamError,
    anyio.ClosedResourceError,
    anyio.BrokenResourceError,
    OSError,
)


async def _exhaust(chunks: AsyncIterator[bytes]) -> None:
    """Run httpx's byte iterator to its end after the response was closed.

    httpx and httpcore read the body through several nested async generators; closing the
    outer one leaves the inner ones suspended, and trio warns when the garbage collector
    finds them. Once the response is closed, the next read fails at once (or an in-memory
    stream runs out), which finishes every layer. Bounded in time, in case a custom
    transport's stream is slow.
    """
    with anyio.move_on_after(1.0):
        try:
            async for _ in chunks:
                pass
        except _CLOSED_STREAM_ERRORS:
            pass  # expected: the response is closed


async def release(response: httpx.Response, chunks: AsyncIterator[bytes]) -> None:
    """Close ``response`` and finish its byte iterator, shielded from cancellation.

    Every body-reading generator (message streams, completions, batch results, file
    downloads) ends with this in its ``finally:``, so the connection is released however
    the reading stops: exhaustion, an error, ``break`` then ``aclose()``, or cancellation.
    """
    with anyio.CancelScope(shield=True):
        await response.aclose()
        await _exhaust(chunks)


class body_chunks(AsyncIterator[bytes]):
    """The decoded body of ``response``, in slices of at most 64 KiB, as it arrives.

    The raw bytes are decoded here, not by httpx: a ``gzip`` body that breaks mid-way
    raises :class:`~sluice._core._content.ContentDecodingError` (the reader turns it into
    its typed stream error), and a chunk that inflates to many slices yields to the event
    loop between them. A plain iterator, not a generator, so that the event loop's
    finalizer of abandoned generators never races the reader's own release. Its
    :meth:`aclose`, like :func:`release` on it, closes the response and finishes httpx's
    iterators.

    Raises (while iterating):
        ContentDecodingError: an unsupported ``Content-Encoding``, or corrupt data.
        httpx.TransportError: the connection failed.
    """

    __slots__ = ("_decoder", "_done", "_failed", "_first", "_pending", "_raw", "_response")

    def __init__(self, response: httpx.Response) -> None:
        self._response = response
        self._decoder: ContentDecoder | None = None
        try:
            content = response.content  # read already (a response built from bytes)
        except httpx.ResponseNotRead:
            self._raw: AsyncIterator[bytes] = response.aiter_raw()
        else:
            self._raw = _once(content)
            self._decoder = ContentDecoder("")  # httpx decoded it when it read it
        self._pending: Iterator[bytes] = iter(())
        self._first = True
        self._done = False
        self._failed = False

    def __aiter__(self) -> body_chunks:
        return self

    async def __anext__(self) -> bytes:
        if self._failed:
            # After an error, only finish httpx's iterator (release() reads to the end).
            await self._raw.__anext__()
            return b""
        try:
            return await self._next()
        except StopAsyncIteration:
            raise
        except BaseException:
            self._failed = True
            raise

    async def _next(self) -> bytes:
        while True:
            piece = next(self._pending, None)
            if piece is not None:
                if self._first:
                    self._first = False
                else:
                    await anyio.lowlevel.checkpoint()  # a chunk that inflated: let others in
                return piece
            if self._done:
                raise StopAsyncIteration
            decoder = self._decoder
            if decoder is None:
                decoder = self._decoder = ContentDecoder(
                    self._response.headers.get("content-encoding", "")
                )
            try:
                chunk = await self._raw.__anext__()
            except StopAsyncIteration:
                self._done = True
                tail = decoder.flush()
                if tail:
                    return tail
                raise
            if decoder.identity and len(chunk) <= SLICE:
                return chunk  # the common case: no copy, no generator
            self._pending = decoder.decode(chunk)
            self._first = True

    async def aclose(self) -> None:
        """Close the response and finish httpx's iterators (shielded)."""
        self._done = True
        self._pending = iter(())
        await release(self._response, self._raw)


async def _once(content: bytes) -> AsyncGenerator[bytes, None]:
    if content:
        yield content
