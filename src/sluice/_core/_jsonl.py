"""JSON Lines framing: an incremental, sans-I/O splitter of a byte stream into lines.

The Message Batches results file is JSON Lines (https://jsonlines.org): UTF-8, one JSON
value per line, lines separated by ``\\n``; a ``\\r`` before it is whitespace to the JSON
parser, and the last line may or may not end with a newline. Feed the body in whatever chunks
the network delivers and get back the complete lines, as ``bytes``::

    splitter = LineSplitter()
    async for chunk in response.aiter_bytes():
        for line in splitter.feed(chunk):
            handle(msgspec.json.decode(line))
    for line in splitter.close():
        handle(msgspec.json.decode(line))

Nothing is decoded to ``str``: msgspec reads UTF-8 bytes directly, and a line is cut with
one C-level ``bytes.split`` per chunk, so the Python-level work is per chunk, not per byte.

Memory is bounded: between calls the splitter holds only the line still in progress, and
raises :class:`~sluice.EventTooLargeError` once that line grows past ``max_line_size``
instead of buffering without bound. A call returns at most the lines of one chunk.
"""

from __future__ import annotations

from typing import Final

from ._exceptions import EventTooLargeError

__all__ = ["DEFAULT_MAX_LINE_SIZE", "LineSplitter"]

#: Default limit on one line. Generous: a batch result line is one Message, a few KB
#: usually; even a 128k-token answer with JSON escaping stays far below it.
DEFAULT_MAX_LINE_SIZE: Final = 32 * 1024 * 1024


class LineSplitter:
    """Split a byte stream into lines, chunk by chunk, holding at most one unfinished line.

    Args:
        max_line_size: the longest line accepted, in bytes (without its ``\\n``). A line,
            finished or not, that grows past it raises :class:`~sluice.EventTooLargeError`.

    Returned lines exclude the ``\\n``; a ``\\r`` before it is kept (JSON parsers treat it
    as whitespace). Empty lines are returned too, as ``b""``: the caller decides whether a
    blank line is an error.
    """

    __slots__ = ("_buf", "_closed", "_max", "_position", "_received")

    def __init__(self, *, max_line_size: int = DEFAULT_MAX_LINE_SIZE) -> None:
        if max_line_size < 1:
            raise ValueError(f"max_line_size must be at least 1, got {max_line_size}")
        self._max = max_line_size
        # The line in progress. A bytearray so that a long line arriving in many small
        # chunks is appended in amortised O(1), not copied again for every chunk.
        self._buf = bytearray()
        self._received = 0  # bytes fed so far
        self._position = 0  # stream offset of the first line returned by the last call
        self._closed = False

    @property
    def buffered(self) -> int:
        """How many bytes are held: the unfinished line only (never more than one)."""
        return len(self._buf)

    @property
    def bytes_received(self) -> int:
        """Total number of bytes fed so far."""
        return self._received

    @property
    def position(self) -> int:
        """Byte offset in the stream where the first line returned by the last call began.

        Line ``i`` of that call began at ``position + sum(len(line) + 1 for the lines
        before it)``: enough to locate a bad line in an error message, at no cost per line.
        """
        return self._position

    def feed(self, chunk: bytes) -> list[bytes]:
        """Split the next chunk of the stream.

        Args:
            chunk: the next bytes of the stream, of any length.

        Returns:
            The lines completed by this chunk, in order (often empty for small chunks).

        Raises:
            EventTooLargeError: a line grew past ``max_line_size``.
            RuntimeError: the splitter was already closed.
        """
        if self._closed:
            raise RuntimeError("LineSplitter.feed() called after close()")
        start = self._received - len(self._buf)  # stream offset of the line in progress
        self._received += len(chunk)
        buf = self._buf
        if b"\n" not in chunk:
            buf += chunk
            if len(buf) > self._max:
                self._fail(start)
            return []
        lines = chunk.split(b"\n")
        rest = lines.pop()
        if buf:
            buf += lines[0]
            lines[0] = bytes(buf)
            buf.clear()
        buf += rest
        self._position = start
        if len(chunk) > self._max or len(lines[0]) > self._max:
            # Every other line and the new rest lie inside the chunk: unless the chunk
            # itself is larger than the limit, only the first line can be too long.
            self._check(lines, start)
        return lines

    def close(self) -> list[bytes]:
        """Signal the end of the stream; returns the last line if it had no ``\\n``.

        Calling it again returns nothing.
        """
        self._closed = True
        if not self._buf:
            return []
        self._position = self._received - len(self._buf)
        line = bytes(self._buf)
        self._buf = bytearray()
        return [line]

    # -- internals ---------------------------------------------------------------------------

    def _check(self, lines: list[bytes], start: int) -> None:
        offset = start
        for line in lines:
            if len(line) > self._max:
                self._fail(offset)
            offset += len(line) + 1
        if len(self._buf) > self._max:
            self._fail(offset)

    def _fail(self, offset: int) -> None:
        self._buf = bytearray()  # drop the oversized bytes at once
        self._closed = True
        raise EventTooLargeError(
            f"a line starting at byte {offset} of the response is larger than "
            f"max_line_size ({self._max} bytes); if the file really holds lines this "
            f"large, raise max_line_size",
            limit=self._max,
            offset=offset,
        )
