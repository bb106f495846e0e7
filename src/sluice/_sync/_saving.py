"""``client.files.download_to()`` for the synchronous client (hand-written).

Blocking file writes instead of anyio's worker threads, and no cancel scope to shield the
clean-up; the download itself is the generated ``SyncFileDownload`` (see ``sluice._sync``).
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from pathlib import Path
from types import TracebackType
from typing import Protocol, Self, Unpack

from .._http._requester import RequestOptions
from .._resources._files import DOWNLOAD_CHUNK_SIZE

__all__ = ["FileSaving"]


class _Download(Protocol):
    bytes_received: int

    def __enter__(self) -> Self: ...

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...

    def __iter__(self) -> Iterator[bytes]: ...


class _Downloads(Protocol):
    def download(
        self, file_id: str, *, chunk_size: int | None = None, **options: Unpack[RequestOptions]
    ) -> _Download: ...


class FileSaving:
    """Mixin of the sync ``Files``: :meth:`download_to`."""

    def download_to(
        self: _Downloads,
        file_id: str,
        path: str | os.PathLike[str],
        *,
        chunk_size: int = DOWNLOAD_CHUNK_SIZE,
        **options: Unpack[RequestOptions],
    ) -> int:
        """Save the content of a file to ``path``, chunk by chunk; returns the byte count.

        The bytes go to a hidden temporary file next to ``path``, which replaces ``path``
        only once the download is complete: a failed or interrupted download leaves no
        partial file behind and does not clobber an existing one.

        Raises: as ``download``; ``OSError`` if the file cannot be written.
        """
        target = Path(path)
        partial = target.with_name(f".{target.name}.{secrets.token_hex(4)}.part")
        download = self.download(file_id, chunk_size=chunk_size, **options)
        with download:
            try:
                with open(partial, "wb") as out:
                    for chunk in download:
                        out.write(chunk)
                partial.replace(target)
            except BaseException:
                partial.unlink(missing_ok=True)
                raise
        return download.bytes_received
