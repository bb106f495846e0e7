"""``multipart/form-data`` request bodies (RFC 7578), streamed from bytes, files or iterators.

The data path of an upload: a source (bytes in memory, a file on disk, an async iterable of
bytes) -> :class:`MultipartBody`, an async iterable that writes the part heads and the
file bytes in order -> httpx, which streams it to the socket. Nothing holds more than one
read chunk of a file at a time, so a 500 MB upload costs the same memory as a 5 kB one.

A body made only of bytes and files on disk knows its length and can be read again, so it
goes out with ``Content-Length`` and the client's retries apply. A body with an async
iterable in it is read once (``Transfer-Encoding: chunked``) and sent without retries:
what the iterable yielded is gone after the first attempt.

Format, RFC 7578 over RFC 2046 section 5.1.1::

    --BOUNDARY CRLF
    Content-Disposition: form-data; name="file"; filename="report.pdf" CRLF
    Content-Type: application/pdf CRLF
    CRLF
    <bytes> CRLF
    --BOUNDARY-- CRLF

Names and filenames are written as the WHATWG HTML standard's form encoder and httpx write
them: UTF-8, with ``"`` as ``%22``, ``\\`` as ``\\\\`` and control characters as ``%XX``.
"""

from __future__ import annotations

import codecs
import mimetypes
import os
import re
import secrets
from collections.abc import AsyncGenerator, AsyncIterable, AsyncIterator
from typing import Final, TypeAlias

import anyio
import httpx

from .._core._exceptions import UploadError
from ._requester import Requester, RequestOptions

__all__ = [
    "READ_CHUNK_SIZE",
    "SNIFF_SIZE",
    "BytesSource",
    "FileSource",
    "MultipartBody",
    "PathSource",
    "Source",
    "StreamSource",
    "aclose_iterator",
    "extension_for",
    "guess_mime_type",
    "open_source",
    "quote_param",
    "send_multipart",
]

#: Bytes read from a file per step of an upload.
READ_CHUNK_SIZE: Final = 256 * 1024
#: Bytes looked at to recognise a file's type from its content.
SNIFF_SIZE: Final = 1024

#: What an upload accepts: a path (``str`` or ``os.PathLike``), bytes, or an async iterable
#: of bytes (read once, as it is sent).
FileSource: TypeAlias = (
    str | os.PathLike[str] | bytes | bytearray | memoryview | AsyncIterable[bytes]
)

_CRLF: Final = b"\r\n"

# --------------------------------------------------------------------------- MIME types

# A private table: ``mimetypes.guess_type`` would also read the machine's /etc/mime.types,
# so the same file would get a different type on another host. MimeTypes() starts from
# Python's built-in table only; a few types the API often sees are added.
_MIME: Final = mimetypes.MimeTypes()
for _type, _ext in (
    ("text/markdown", ".md"),
    ("text/markdown", ".markdown"),
    ("application/yaml", ".yaml"),  # RFC 9512
    ("application/yaml", ".yml"),
    ("application/vnd.openxmlformats-officedocument.wordprocessingml.document", ".docx"),
    ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", ".xlsx"),
    ("application/vnd.openxmlformats-officedocument.presentationml.presentation", ".pptx"),
):
    _MIME.add_type(_type, _ext)
# "report.csv.gz" guesses as ("text/csv", "gzip"): what is sent is the compressed file.
_ENCODING_TYPES: Final = {
    "gzip": "application/gzip",
    "bzip2": "application/x-bzip2",
    "xz": "application/x-xz",
}
#: WHATWG MIME Sniffing, "binary data byte": a byte that never occurs in text.
_BINARY_BYTES: Final = frozenset([*range(0x00, 0x09), 0x0B, *range(0x0E, 0x1B), *range(0x1C, 0x20)])


def _sniff(head: bytes, *, complete: bool) -> str:
    # Signatures from the WHATWG MIME Sniffing standard, section 6.1 (images) and 7.1.
    if head.startswith(b"%PDF-"):
        return "application/pdf"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith((b"GIF87a", b"GIF89a")):
        return "image/gif"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    if any(byte in _BINARY_BYTES for byte in head):
        return "application/octet-stream"
    try:
        # A head cut out of a longer file may end inside a UTF-8 sequence: that is fine.
        codecs.getincrementaldecoder("utf-8")().decode(head, final=complete)
    except UnicodeDecodeError:
        return "application/octet-stream"
    return "text/plain"


def guess_mime_type(filename: str | None, head: bytes, *, complete: bool = False) -> str:
    """The MIME type of a file, from its name, else from its first bytes.

    The extension decides when it is known (``.pdf``, ``.png``, ``.csv``, ``.md``...).
    Otherwise the content does: PDF, PNG, JPEG, GIF and WEBP signatures, then
    ``text/plain`` for UTF-8 text, else ``application/octet-stream``.

    Args:
        filename: the file's name, or ``None``.
        head: the first bytes of the file (:data:`SNIFF_SIZE` are enough).
        complete: ``head`` is the whole file (so it cannot end mid-character).
    """
    if filename:
        guessed, encoding = _MIME.guess_type(filename, strict=False)
        if encoding is not None:
            if encoding in _ENCODING_TYPES:
                return _ENCODING_TYPES[encoding]
        elif guessed is not None:
            return guessed
    return _sniff(head[:SNIFF_SIZE], complete=complete and len(head) <= SNIFF_SIZE)


def extension_for(mime_type: str) -> str:
    """The usual extension for a MIME type (``".pdf"``), or ``""``."""
    return _MIME.guess_extension(mime_type, strict=False) or ""


# ------------------------------------------------------------------------------ sources


class Source:
    """The bytes of one file part. Subclasses say how to read them and whether twice."""

    #: The size in bytes, if known before reading.
    size: int | None = None
    #: Whether :meth:`chunks` can run again (for a retry).
    replayable: bool = True

    def chunks(self) -> AsyncGenerator[bytes, None]:
        """The bytes, in order."""
        raise NotImplementedError


class BytesSource(Source):
    def __init__(self, data: bytes) -> None:
        self.data = data
        self.size = len(data)

    async def chunks(self) -> AsyncGenerator[bytes, None]:
        if self.data:
            yield self.data


class PathSource(Source):
    """A file on disk, read in :data:`READ_CHUNK_SIZE` steps every time the body is sent."""

    def __init__(self, path: str, size: int) -> None:
        self.path = path
        self.size = size
        self._expected = size

    async def chunks(self) -> AsyncGenerator[bytes, None]:
        remaining = self._expected
        file = await anyio.open_file(self.path, "rb")
        try:
            while chunk := await file.read(READ_CHUNK_SIZE):
                if len(chunk) > remaining:
                    raise UploadError(
                        f"{self.path} grew while it was being uploaded (it had "
                        f"{self.size} bytes); upload it again once it is complete",
                        filename=self.path,
                        size=self.size,
                    )
                remaining -= len(chunk)
                yield chunk
        finally:
            # Closing goes through a worker thread: shielded, so that a cancelled upload
            # still closes the file.
            with anyio.CancelScope(shield=True):
                await file.aclose()
        if remaining:
            raise UploadError(
                f"{self.path} shrank while it was being uploaded (it had {self.size} bytes, "
                f"{remaining} went missing); upload it again once it is complete",
                filename=self.path,
                size=self.size,
            )


class StreamSource(Source):
    """An async iterable of bytes: read once, as the body is sent, within ``limit`` bytes."""

    replayable = False

    def __init__(
        self, head: list[bytes], rest: AsyncIterator[bytes], *, limit: int, name: str
    ) -> None:
        self._head = head
        self._rest = rest
        self._limit = limit
        self._name = name
        self._started = False

    async def chunks(self) -> AsyncGenerator[bytes, None]:
        if self._started:
            raise UploadError(
                f"the async iterable for {self._name} was already read; an iterable can be "
                "sent once only: pass bytes or a path to upload the same data again",
                filename=self._name,
            )
        self._started = True
        size = 0
        head, self._head = self._head, []
        for chunk in head:
            size += len(chunk)
            yield chunk
        async for item in self._rest:
            chunk = _as_bytes(item, self._name)
            if not chunk:
                continue
            size += len(chunk)
            if size > self._limit:
                raise UploadError(
                    f"{self._name} is larger than the limit of {self._limit} bytes: the "
                    "upload was aborted",
                    filename=self._name,
                    size=size,
                )
            yield chunk


def _as_bytes(item: object, name: str) -> bytes:
    if isinstance(item, bytes):
        return item
    if isinstance(item, bytearray | memoryview):
        return bytes(item)
    raise TypeError(f"the async iterable for {name} yielded {type(item).__name__}, not bytes")


def _check_size(size: int, name: str, limit: int) -> None:
    if size == 0:
        raise UploadError(f"{name} is empty: the API does not accept empty files", filename=name)
    if size > limit:
        raise UploadError(
            f"{name} has {size} bytes, more than the limit of {limit} bytes",
            filename=name,
            size=size,
        )


def _read_head(path: str) -> tuple[int, bytes]:
    # One worker-thread hop for stat and the first bytes.
    if not os.path.exists(path):
        # A str is a path; text to upload goes as bytes. Say so if that may be the mix-up.
        hint = "" if len(path) < 256 and "\n" not in path else " (to upload text, pass bytes)"
        raise UploadError(f"{path!r:.256} does not exist{hint}", filename=path)
    if not os.path.isfile(path):
        raise UploadError(f"{path!r} is not a file", filename=path)
    with open(path, "rb") as file:
        size = os.fstat(file.fileno()).st_size
        return size, file.read(SNIFF_SIZE)


async def open_source(
    file: FileSource, *, limit: int, name: str | None = None
) -> tuple[Source, bytes, str | None, AsyncIterator[bytes] | None]:
    """Resolve an upload source; check its size against ``limit`` (and that it is not empty).

    Returns the :class:`Source`, its first bytes (for :func:`guess_mime_type`), the name
    of the file on disk (``None`` for bytes and iterables) and, for an async iterable,
    the iterator that the caller must close (``aclose``) when the upload is over.

    Raises:
        UploadError: the file is empty, too large, or not a regular file.
        TypeError: ``file`` is none of the accepted kinds.
    """
    if isinstance(file, bytes | bytearray | memoryview):
        data = bytes(file)
        _check_size(len(data), name or "the file", limit)
        return BytesSource(data), data[:SNIFF_SIZE], None, None
    if isinstance(file, str | os.PathLike):
        path = os.fspath(file)
        if not isinstance(path, str):
            raise TypeError("pass the path as str or os.PathLike[str], not bytes")
        try:
            size, first = await anyio.to_thread.run_sync(_read_head, path)
        except FileNotFoundError:  # it vanished between the check and the open
            raise UploadError(f"{path!r:.256} does not exist", filename=path) from None
        _check_size(size, path, limit)
        return PathSource(path, size), first, os.path.basename(path), None
    if isinstance(file, AsyncIterable):
        label = name or "the uploaded stream"
        iterator = aiter(file)
        try:
            head: list[bytes] = []
            seen = 0
            exhausted = False
            while seen < SNIFF_SIZE:
                try:
                    chunk = _as_bytes(await anext(iterator), label)
                except StopAsyncIteration:
                    exhausted = True
                    break
                if chunk:
                    head.append(chunk)
                    seen += len(chunk)
            if exhausted:
                # It all fit in the peek: now it is plain bytes, replayable for retries.
                data = b"".join(head)
                _check_size(len(data), label, limit)
                await aclose_iterator(iterator)
                return BytesSource(data), data, None, None
            _check_size(seen, label, limit)
        except BaseException:
            await aclose_iterator(iterator)
            raise
        first = b"".join(head)
        return StreamSource(head, iterator, limit=limit, name=label), first, None, iterator
    raise TypeError(
        f"expected a path, bytes or an async iterable of bytes, got {type(file).__name__}"
    )


async def aclose_iterator(iterator: AsyncIterator[bytes]) -> None:
    """Close an async iterator that has ``aclose`` (an async generator), shielded."""
    aclose = getattr(iterator, "aclose", None)
    if aclose is not None:
        with anyio.CancelScope(shield=True):
            await aclose()


# ------------------------------------------------------------------------------- the body

# RFC 2046 section 5.1.1: a boundary is 1 to 70 characters; 128 random bits make a clash
# with the content as likely as guessing a random key.
_BOUNDARY_PREFIX: Final = "sluice-"
_QUOTE_RE: Final = re.compile(r'["\\\x00-\x1a\x1c-\x1f]')


def quote_param(value: str) -> str:
    """A Content-Disposition parameter value, quoted as the WHATWG form encoder does."""

    def replace(match: re.Match[str]) -> str:
        char = match.group(0)
        if char == '"':
            return "%22"
        if char == "\\":
            return "\\\\"
        return f"%{ord(char):02X}"

    return '"' + _QUOTE_RE.sub(replace, value) + '"'


class MultipartBody:
    """A ``multipart/form-data`` body that httpx streams: an async iterable of bytes.

    Build it with :meth:`add_field` and :meth:`add_file`; every iteration writes it whole,
    reading the file sources again (a retry re-reads files from disk).

    Args:
        boundary: the delimiter; a random one by default.
    """

    def __init__(self, *, boundary: str | None = None) -> None:
        self.boundary = boundary or _BOUNDARY_PREFIX + secrets.token_hex(16)
        self._segments: list[bytes | Source] = []
        self._delimiter = b"--" + self.boundary.encode("ascii") + _CRLF

    def __repr__(self) -> str:
        parts = sum(1 for s in self._segments if not isinstance(s, bytes))
        return f"<MultipartBody {parts} file part(s), length={self.length}>"

    @property
    def content_type(self) -> str:
        """The request's ``Content-Type`` header value."""
        return f"multipart/form-data; boundary={self.boundary}"

    @property
    def length(self) -> int | None:
        """The body's size in bytes, ``None`` when a part's size is known only once sent."""
        total = len(self._delimiter) + 2  # the closing "--BOUNDARY--\r\n"
        for segment in self._segments:
            size = len(segment) if isinstance(segment, bytes) else segment.size
            if size is None:
                return None
            total += size
        return total

    @property
    def replayable(self) -> bool:
        """Whether the body can be sent again (no part is a one-shot iterable)."""
        return all(isinstance(s, bytes) or s.replayable for s in self._segments)

    def add_field(self, name: str, value: str) -> None:
        """A text field (``Content-Disposition: form-data; name="..."``)."""
        head = f"Content-Disposition: form-data; name={quote_param(name)}"
        self._segments.append(
            self._delimiter + head.encode() + _CRLF + _CRLF + value.encode() + _CRLF
        )

    def add_file(self, name: str, filename: str, content_type: str, source: Source) -> None:
        """A file part with its ``filename`` and ``Content-Type``."""
        if "\r" in content_type or "\n" in content_type:
            raise ValueError(f"invalid content type {content_type!r}")
        head = (
            f"Content-Disposition: form-data; name={quote_param(name)}; "
            f"filename={quote_param(filename)}\r\nContent-Type: {content_type}"
        )
        self._segments.append(self._delimiter + head.encode() + _CRLF + _CRLF)
        self._segments.append(source)
        self._segments.append(_CRLF)

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for segment in self._segments:
            if isinstance(segment, bytes):
                yield segment
                continue
            chunks = segment.chunks()
            try:
                async for chunk in chunks:
                    yield chunk
            finally:
                with anyio.CancelScope(shield=True):
                    await chunks.aclose()
        yield b"--" + self.boundary.encode("ascii") + b"--" + _CRLF


# ------------------------------------------------------------------------------- sending


async def send_multipart(
    requester: Requester, path: str, body: MultipartBody, options: RequestOptions
) -> httpx.Response:
    """``POST`` a multipart body: with retries if it can be re-read, else exactly once.

    Raises: :class:`~sluice.APIError` subclasses, :class:`~sluice.APIConnectionError`,
    :class:`~sluice.UploadError` from a source that fails as it is read.
    """
    headers = {"content-type": body.content_type}
    length = body.length
    if length is not None:
        # httpx would send an iterable body chunked; a known length goes as Content-Length.
        headers["content-length"] = str(length)
    spec = requester.prepare(
        "POST", path, content=body, headers=headers, options=options, replayable=body.replayable
    )
    return await requester.send(spec)
