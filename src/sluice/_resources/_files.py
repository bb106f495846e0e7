"""``client.files``: the Files API (beta), with uploads and downloads streamed in constant memory.

Shapes follow the public API reference ("Upload File", "List Files", "Get File Metadata",
"Download File", "Delete File"); every request carries the ``files-api-2025-04-14`` beta
header. Timestamps stay RFC 3339 strings as sent.

An upload streams its source into a ``multipart/form-data`` body (see ``_multipart``); a
download streams the response into your loop or onto disk, one chunk at a time. A file of
500 MB, the API's limit, never sits in memory whole.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import AsyncGenerator, Awaitable, Callable
from typing import ClassVar, Final, Literal, Unpack

import anyio
import httpx
from msgspec import UNSET, UnsetType

from .._core._content import ContentDecodingError
from .._core._exceptions import IncompleteStreamError, StreamError
from .._core._wire import Wire
from .._http._body import LazyBody, body_chunks, release
from .._http._multipart import (
    FileSource,
    MultipartBody,
    aclose_iterator,
    extension_for,
    guess_mime_type,
    open_source,
)
from .._http._observe import reproducible
from .._http._requester import RequestOptions
from ._base import CursorListed, api_path

__all__ = [
    "FILES_BETA",
    "MAX_FILE_SIZE",
    "DeletedFile",
    "FileDownload",
    "FileMetadata",
    "FileScope",
    "Files",
]

#: The ``anthropic-beta`` value the Files API requires.
FILES_BETA: Final = "files-api-2025-04-14"
#: The largest file the Files API stores: 500 MB (read as MiB, so that no file the API
#: accepts is refused here; a file between 500 * 10**6 and 500 * 2**20 bytes is left
#: for the API to judge).
MAX_FILE_SIZE: Final = 500 * 1024 * 1024
#: Bytes per write when :meth:`Files.download_to` saves a file.
DOWNLOAD_CHUNK_SIZE: Final = 256 * 1024


class FileScope(Wire, kw_only=True, tag=False):
    """What a file belongs to, when it was created in a context (e.g. a session)."""

    id: str
    type: str


class FileMetadata(Wire, kw_only=True, tag="file"):
    """A file stored by the Files API.

    Attributes:
        id: the file id (``file_...``), to reference in messages as a ``file`` source.
        filename: the name it was uploaded with (the API keeps the last path component).
        mime_type: its MIME type.
        size_bytes: its size.
        created_at: RFC 3339 upload time.
        downloadable: whether :meth:`Files.download` may fetch it (files made by tools,
            such as code execution, are; uploaded files are not). ``UNSET`` (falsy)
            when the API did not say.
        expires_at, scope: newer fields, ``UNSET`` when the API did not send them.

    Fields this version does not model are kept (``sluice.to_json`` writes them back).
    """

    type: ClassVar[Literal["file"]] = "file"
    id: str
    filename: str
    mime_type: str
    size_bytes: int
    created_at: str
    downloadable: bool | UnsetType | None = UNSET
    expires_at: str | UnsetType | None = UNSET
    scope: FileScope | UnsetType | None = UNSET


class DeletedFile(Wire, kw_only=True, tag="file_deleted"):
    """The answer to a delete: the id of the file that is gone."""

    type: ClassVar[Literal["file_deleted"]] = "file_deleted"
    id: str


def _file_path(file_id: str, tail: str = "") -> str:
    return api_path("/v1/files/{file_id}" + tail, file_id=file_id)


class FileDownload(LazyBody[bytes]):
    """The content of a file, streamed: an async iterator of ``bytes`` chunks.

    Use it as ``async with client.files.download(file_id) as content:`` and ``async for
    chunk in content``. The request is sent on enter (or on the first ``__anext__``
    without ``async with``); leaving the block, :meth:`aclose`, or reading to the end
    releases the connection, on asyncio and trio alike. Breaking out of a bare ``async for``
    leaves the connection to the garbage collector: prefer ``async with``.

    Attributes:
        response: the ``httpx.Response`` being read, once the request was sent.
        bytes_received: how many bytes were delivered so far.
    """

    def __init__(
        self,
        send: Callable[[], Awaitable[httpx.Response]],
        *,
        file_id: str,
        chunk_size: int | None = None,
    ) -> None:
        if chunk_size is not None and chunk_size < 1:
            raise ValueError(f"chunk_size must be >= 1, got {chunk_size}")
        self.file_id = file_id
        self._chunk_size = chunk_size
        self.bytes_received = 0
        super().__init__(send)

    _what = "this download"

    def __repr__(self) -> str:
        state = "closed" if self._closed else "open"
        return f"<FileDownload {self.file_id} {state}, {self.bytes_received} bytes>"

    @property
    def mime_type(self) -> str | None:
        """The response's ``Content-Type`` (``None`` before the request is sent)."""
        return None if self.response is None else self.response.headers.get("content-type")

    @property
    def size(self) -> int | None:
        """The ``Content-Length`` of the file, when the response announced it."""
        if self.response is None:
            return None
        length = self.response.headers.get("content-length")
        return int(length) if length is not None and length.isdigit() else None

    async def _iterate(self) -> AsyncGenerator[bytes, None]:
        response = await self._open()
        chunks = body_chunks(response)
        size = self._chunk_size
        try:
            try:
                if size is None:
                    async for chunk in chunks:
                        self.bytes_received += len(chunk)
                        yield chunk
                else:
                    pending = bytearray()
                    async for chunk in chunks:
                        pending += chunk
                        while len(pending) >= size:
                            piece = bytes(pending[:size])
                            del pending[:size]
                            self.bytes_received += size
                            yield piece
                    if pending:
                        self.bytes_received += len(pending)
                        yield bytes(pending)
            except (httpx.TransportError, ContentDecodingError) as exc:
                raise IncompleteStreamError(
                    f"the connection failed after {self.bytes_received} bytes of file "
                    f"{self.file_id} ({type(exc).__name__}: {exc}); download it again"
                ) from exc
        except StreamError as exc:
            reproducible(exc, response)
            raise
        finally:
            await release(response, chunks)


class Files(CursorListed[FileMetadata]):
    """``client.files``: upload, list, inspect, download and delete files (Files API beta).

    Every request carries the ``files-api-2025-04-14`` beta header. Every method raises
    :class:`~sluice.APIError` subclasses for error statuses (e.g.
    :class:`~sluice.NotFoundError` for an unknown file id) and
    :class:`~sluice.APIConnectionError` when the API cannot be reached.
    """

    list_path = "/v1/files"
    item_type = FileMetadata

    beta = FILES_BETA

    async def upload(
        self,
        file: FileSource,
        *,
        filename: str | None = None,
        mime_type: str | None = None,
        **options: Unpack[RequestOptions],
    ) -> FileMetadata:
        """Upload a file; returns its metadata (use ``.id`` in messages).

        The body is streamed: a path is read from disk chunk by chunk (again on a retry),
        an async iterable is sent as it yields (once: such an upload is not retried).

        Args:
            file: a path (``str`` or ``os.PathLike``), ``bytes``, or an async iterable
                of ``bytes``.
            filename: the name to store; defaults to the path's last component, else
                ``upload`` plus an extension for the MIME type (``upload.pdf``).
            mime_type: the part's ``Content-Type``; guessed from the filename's extension,
                else from the content (PDF, PNG, JPEG, GIF, WEBP, text) by default.

        Raises:
            UploadError: the file is empty, larger than :data:`MAX_FILE_SIZE` (for an
                async iterable: found out while sending, which aborts the upload), not a
                regular file, or changed size while it was read.
            TypeError: ``file`` is none of the accepted kinds.
        """
        if filename is not None and not filename:
            raise ValueError("filename must not be empty")
        source, head, disk_name, iterator = await open_source(
            file, limit=MAX_FILE_SIZE, name=filename
        )
        try:
            name = filename or disk_name
            complete = source.size is not None and source.size == len(head)
            content_type = mime_type or guess_mime_type(name, head, complete=complete)
            if name is None:
                name = "upload" + extension_for(content_type)
            body = MultipartBody()
            body.add_file("file", name, content_type, source)
            return await self._post_multipart("/v1/files", body, FileMetadata, options)
        finally:
            if iterator is not None:
                await aclose_iterator(iterator)

    async def retrieve_metadata(
        self, file_id: str, **options: Unpack[RequestOptions]
    ) -> FileMetadata:
        """The metadata of one file.

        Raises:
            NotFoundError: no such file.
            ParamsError: ``file_id`` is empty (also a ``ValueError``).
        """
        return await self._get(_file_path(file_id), FileMetadata, options)

    def download(
        self,
        file_id: str,
        *,
        chunk_size: int | None = None,
        **options: Unpack[RequestOptions],
    ) -> FileDownload:
        """Stream the content of a file::

            async with client.files.download(file_id) as content:
                async for chunk in content:
                    ...

        Args:
            file_id: a file with ``downloadable`` true (made by a tool such as code
                execution; the API refuses to send back files that were uploaded).
            chunk_size: re-chunk to this many bytes per item; ``None`` gives the chunks
                as the network delivers them.

        Raises (on enter or first iteration): :class:`~sluice.NotFoundError`,
        :class:`~sluice.BadRequestError` for a file that is not downloadable. While
        iterating: :class:`~sluice.IncompleteStreamError` if the connection fails.
        """
        path = _file_path(file_id, "/content")
        send = self._sender("GET", path, options, headers={"accept": "application/binary"})
        return FileDownload(send, file_id=file_id, chunk_size=chunk_size)

    async def download_to(
        self,
        file_id: str,
        path: str | os.PathLike[str],
        *,
        chunk_size: int = DOWNLOAD_CHUNK_SIZE,
        **options: Unpack[RequestOptions],
    ) -> int:
        """Save the content of a file to ``path``, chunk by chunk; returns the byte count.

        The bytes go to a hidden temporary file next to ``path``, which replaces ``path``
        only once the download is complete: a failed or cancelled download leaves no
        partial file behind and does not clobber an existing one.

        Raises: as :meth:`download`; ``OSError`` if the file cannot be written.
        """
        target = anyio.Path(path)
        partial = target.with_name(f".{target.name}.{secrets.token_hex(4)}.part")
        download = self.download(file_id, chunk_size=chunk_size, **options)
        async with download:
            try:
                async with await anyio.open_file(partial, "wb") as out:
                    async for chunk in download:
                        await out.write(chunk)
                await partial.replace(target)
            except BaseException:
                with anyio.CancelScope(shield=True):
                    await partial.unlink(missing_ok=True)
                raise
        return download.bytes_received

    async def delete(self, file_id: str, **options: Unpack[RequestOptions]) -> DeletedFile:
        """Delete a file; messages can no longer reference it.

        Raises:
            NotFoundError: no such file.
        """
        return await self._delete(_file_path(file_id), DeletedFile, options)
