"""Content-Encoding, sans-I/O: a compressed body in, bounded slices of the real bytes out.

sluice decodes response bodies itself instead of letting httpx do it, for three reasons:
a body whose compression breaks in the middle must become a typed error that keeps what
arrived (inside httpx it fails in a generator that is then left half-finished); a small
compressed chunk can inflate a thousandfold, and must reach the parser in bounded slices
so that no single step holds the event loop or memory; and the same code serves the
async and the sync clients. Streams ask for ``gzip`` and ``deflate`` only, which zlib in
the standard library decodes.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterator
from typing import Final

__all__ = ["SLICE", "SUPPORTED_ENCODINGS", "ContentDecoder", "ContentDecodingError"]

#: The most decoded bytes handed out at once: ~64 KiB parses in well under a millisecond.
SLICE: Final = 64 * 1024
#: The ``Accept-Encoding`` sluice sends for bodies it decodes itself.
SUPPORTED_ENCODINGS: Final = "gzip, deflate"


class ContentDecodingError(ValueError):
    """The body's compression is broken (or of an encoding this decoder does not know)."""


class ContentDecoder:
    """Decode a body with the ``Content-Encoding`` it was sent with, incrementally.

    Args:
        encoding: the response's ``Content-Encoding`` (``""`` or ``identity`` for none;
            ``gzip``/``x-gzip``; ``deflate``, zlib-wrapped or raw).

    Raises:
        ContentDecodingError: an encoding other than those (``br``, ``zstd``...).
    """

    __slots__ = ("_deflate_probe", "_encoding", "_zlib")

    def __init__(self, encoding: str) -> None:
        codings = [part.strip().lower() for part in encoding.split(",") if part.strip()]
        codings = [coding for coding in codings if coding != "identity"]
        if len(codings) > 1:
            raise ContentDecodingError(f"stacked content encodings are not supported: {encoding!r}")
        self._encoding = codings[0] if codings else ""
        self._deflate_probe = False
        self._zlib: zlib._Decompress | None = None
        if self._encoding in ("gzip", "x-gzip"):
            self._zlib = zlib.decompressobj(16 + zlib.MAX_WBITS)
        elif self._encoding == "deflate":
            # RFC 9110 says zlib-wrapped; some servers send raw deflate: look at the header.
            self._deflate_probe = True
        elif self._encoding:
            raise ContentDecodingError(
                f"the response is {encoding!r}-encoded, which sluice does not decode; it asks "
                f"for {SUPPORTED_ENCODINGS!r} only"
            )

    @property
    def identity(self) -> bool:
        """Whether the body is sent as it is (nothing to decode)."""
        return not self._encoding

    def decode(self, data: bytes) -> Iterator[bytes]:
        """The decoded bytes of ``data``, in slices of at most :data:`SLICE` bytes.

        Raises (while iterating):
            ContentDecodingError: the compressed data is corrupt.
        """
        if not self._encoding:
            for start in range(0, len(data), SLICE):
                yield data[start : start + SLICE]
            return
        if self._deflate_probe:
            if not data:
                return
            self._deflate_probe = False
            # A zlib header's first byte is 0x?8 with a checksum: otherwise it is raw deflate.
            zlib_wrapped = (
                data[0] & 0x0F == 8 and len(data) > 1 and (data[0] << 8 | data[1]) % 31 == 0
            )
            self._zlib = zlib.decompressobj(zlib.MAX_WBITS if zlib_wrapped else -zlib.MAX_WBITS)
        decompressor = self._zlib
        assert decompressor is not None
        pending = data
        while pending:
            try:
                piece = decompressor.decompress(pending, SLICE)
            except zlib.error as exc:
                raise ContentDecodingError(f"{self._encoding} data is corrupt: {exc}") from None
            pending = decompressor.unconsumed_tail
            if piece:
                yield piece
            elif not pending:
                break

    def flush(self) -> bytes:
        """What the decoder still holds at the end of the body.

        Raises:
            ContentDecodingError: the compressed body ended before its end marker.
        """
        decompressor = self._zlib
        if decompressor is None:
            return b""
        try:
            rest = decompressor.flush()
        except zlib.error as exc:
            raise ContentDecodingError(f"{self._encoding} data is corrupt: {exc}") from None
        if not decompressor.eof:
            raise ContentDecodingError(f"the {self._encoding} body ended before its end marker")
        return rest
