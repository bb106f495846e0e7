"""Response bodies read as they arrive, for the synchronous client (hand-written).

The blocking twin of ``sluice._http._body``: :func:`body_chunks` decodes the raw bytes of a
response (``Content-Encoding``, see ``_core._content``) into slices of at most 64 KiB;
:func:`release` closes a response and its byte iterator; :class:`BodyIterator` and
:class:`LazyBody` are the shells of the readers (message and completion streams, batch
results, file downloads), which release the connection on ``with`` exit, on
:meth:`~BodyIterator.close`, or when reading ends. With no event loop there is nothing to
shield and no checkpoint to take, which is all that differs from the async module.
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Iterator
from typing import ClassVar, Generic, Self, TypeVar

import httpx

from .._core._closing import Closeable
from .._core._content import SLICE, ContentDecoder
from .._core._exceptions import SluiceError

__all__ = ["BodyIterator", "LazyBody", "body_chunks", "close_upstream", "release"]

T = TypeVar("T")


class BodyIterator(Generic[T]):
    """An iterator over a streaming response body that it owns.

    ``for`` runs ``self._iterator`` (a generator the subclass makes, which releases the
    response in its ``finally:``) with no extra layer; :meth:`close` closes it and the
    response. Subclasses: :class:`LazyBody`, ``SyncMessageStream``, ``SyncCompletionStream``.
    """

    response: httpx.Response | None
    _iterator: Generator[T, None, None]
    _closed: bool

    def __iter__(self) -> Generator[T, None, None]:
        return self._iterator

    def __next__(self) -> T:
        return self._iterator.__next__()

    def close(self) -> None:
        """Stop reading and release the connection. Safe to call more than once."""
        if self._closed:
            return
        self._closed = True
        try:
            self._close_iterators()
        finally:
            if self.response is not None:
                self.response.close()

    def _close_iterators(self) -> None:
        """Close what reads the body (a subclass may read it through more than one)."""
        self._iterator.close()


class LazyBody(BodyIterator[T], Closeable):
    """Base of body-reading iterators (batch results, file downloads).

    Attributes:
        response: the ``httpx.Response`` being read, once the request was sent.
    """

    #: What the iterator is called in the error raised when it is used after closing.
    _what: ClassVar[str] = "this response"

    def __init__(self, send: Callable[[], httpx.Response]) -> None:
        self._send = send
        self.response: httpx.Response | None = None
        self._iterator = self._iterate()
        self._closed = False

    @property
    def request_id(self) -> str | None:
        """The ``request-id`` of the response (``None`` before it is sent)."""
        return None if self.response is None else self.response.headers.get("request-id")

    def __enter__(self) -> Self:
        self._open()
        return self

    def _open(self) -> httpx.Response:
        if self._closed:
            raise SluiceError(f"{self._what} is closed; request it again")
        if self.response is None:
            self.response = self._send()
        return self.response

    def _iterate(self) -> Generator[T, None, None]:
        """The items of the body; must end with ``release(response, chunks)`` in ``finally``."""
        raise NotImplementedError


def release(response: httpx.Response, chunks: Iterator[bytes]) -> None:
    """Close ``response`` and the byte iterator reading it.

    Every body-reading generator ends with this in its ``finally:``, so the connection is
    released however the reading stops: exhaustion, an error, ``break`` then ``close()``.
    """
    try:
        response.close()
    finally:
        close = getattr(chunks, "close", None)
        if close is not None:
            close()


def close_upstream(source: object) -> None:
    """Close ``source`` if it can be closed (the sync twin of ``ops.aclose_upstream``)."""
    close = getattr(source, "close", None)
    if close is not None:
        close()


class body_chunks(Iterator[bytes]):
    """The decoded body of ``response``, in slices of at most 64 KiB, as it arrives.

    The raw bytes are decoded here, not by httpx: a ``gzip`` body that breaks mid-way
    raises :class:`~sluice._core._content.ContentDecodingError` (the reader turns it into
    its typed stream error). Its :meth:`close`, like :func:`release` on it, closes the
    response and httpx's iterator.

    Raises (while iterating):
        ContentDecodingError: an unsupported ``Content-Encoding``, or corrupt data.
        httpx.TransportError: the connection failed.
    """

    __slots__ = ("_decoder", "_done", "_pending", "_raw", "_response")

    def __init__(self, response: httpx.Response) -> None:
        self._response = response
        self._decoder: ContentDecoder | None = None
        try:
            content = response.content  # read already (a response built from bytes)
        except httpx.ResponseNotRead:
            self._raw: Iterator[bytes] = response.iter_raw()
        else:
            self._raw = iter((content,) if content else ())
            self._decoder = ContentDecoder("")  # httpx decoded it when it read it
        self._pending: Iterator[bytes] = iter(())
        self._done = False

    def __iter__(self) -> body_chunks:
        return self

    def __next__(self) -> bytes:
        while True:
            piece = next(self._pending, None)
            if piece is not None:
                return piece
            if self._done:
                raise StopIteration
            decoder = self._decoder
            if decoder is None:
                decoder = self._decoder = ContentDecoder(
                    self._response.headers.get("content-encoding", "")
                )
            chunk = next(self._raw, None)
            if chunk is None:
                self._done = True
                tail = decoder.flush()
                if tail:
                    return tail
                raise StopIteration
            if decoder.identity and len(chunk) <= SLICE:
                return chunk  # the common case: no copy, no generator
            self._pending = decoder.decode(chunk)

    def close(self) -> None:
        """Close the response and httpx's iterator."""
        self._done = True
        self._pending = iter(())
        release(self._response, self._raw)
