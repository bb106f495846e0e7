"""Server-Sent Events framing: an incremental, sans-I/O decoder that works on bytes.

Feed it the response body in whatever chunks the network delivers and it returns the complete
events, in order::

    decoder = SSEDecoder()
    for chunk in response.iter_raw():
        for sse in decoder.feed(chunk):
            handle(sse.event, sse.data)
    decoder.close()

It follows the WHATWG HTML Living Standard, section 9.2 "Server-sent events"
(https://html.spec.whatwg.org/multipage/server-sent-events.html): 9.2.5 "Parsing an event
stream" (the grammar: an optional leading BOM, lines ended by CRLF, LF or a lone CR) and 9.2.6
"Interpreting an event stream" (UTF-8 decoding drops one leading BOM; comments; ``field:
value`` with one optional space; ``data`` lines joined with LF; ``event``; ``id`` unless it
contains NUL, kept across events; ``retry`` only if all ASCII digits; a blank line dispatches,
nothing when there was no data; an unterminated event at the end of the stream is discarded).

Why not httpx-sse? Its decoder is text based: the body is first decoded to ``str``, a line
decoder splits it into lines, and every line then costs a round of Python-level work (a
method call, ``startswith``, ``partition``, comparisons, an append) before a ``str`` reaches
msgspec, which reads UTF-8 bytes directly anyway. (It also departs from WHATWG in places:
once an ``id`` was seen, every blank line dispatches an event even without data, and
``retry`` goes through ``int()``, which accepts " 5" or "-1".) This decoder never decodes
the data (``ServerSentEvent.data`` is the raw bytes) and does not go line by line in the
common case: one C-level ``re.split`` per chunk cuts out every event of the shape LLM APIs
send (``event: NAME`` and one ``data:`` line, or the ``data:`` line alone), leaving a few
Python operations per event. :meth:`SSEDecoder.feed_frames`, which the event decoders use,
leaves none: it returns the chunk's data payloads as the split made them (:class:`Frames`),
and works out names and offsets only if asked. Other chunks are split into events with one
``bytes.split`` and interpreted field by field; only chunks that mix line endings go line
by line. Streams of other shapes (``id`` lines, comments, lone CRs) take these slower
paths. BENCHMARKS.md has the measurements (against httpx-sse, and per layer).

Every event is also located: ``ServerSentEvent.offset`` is the byte offset in the body where
its first line began, so decode errors can say where the bad event was.

Memory is bounded: the decoder holds only the bytes of the event still in progress, and
raises :class:`~sluice.EventTooLargeError` once that event grows past ``max_event_size``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from itertools import accumulate
from typing import Final

import msgspec

from ._exceptions import EventTooLargeError

__all__ = ["DEFAULT_MAX_EVENT_SIZE", "Frames", "SSEDecoder", "ServerSentEvent"]

#: Default limit on the size of one event (its lines, with their line endings). Generous:
#: Messages API events are a few hundred bytes; even a large tool input arrives in many small
#: ``input_json_delta`` events.
DEFAULT_MAX_EVENT_SIZE: Final = 16 * 1024 * 1024

_BOM: Final = b"\xef\xbb\xbf"
_NEWLINES: Final = (b"\n", b"\r")
# The fast path: the two event shapes every LLM streaming API sends, "event: NAME" + one
# "data: ..." line, or one "data: ..." line alone, with LF (or CRLF) line endings. re.split
# returns [gap, head, data, gap, head, data, ..., rest] in C; when every gap is empty the
# matches tile the chunk and are exactly its events. The character classes keep matches to
# whole lines: _COMMON_LF is only used on chunks without CR and _COMMON_CRLF on chunks
# where every LF follows a CR, so a single excluded character suffices (twice as fast as
# [^\r\n] in the re engine). Possessive (*+): a line never needs to give characters back.
# Anchored to the start of a line ((?<=\n) or \A): the split tries the pattern at every
# position, and unanchored, a long line of repeated "data: " would be scanned to its end
# from each one (quadratic); anchored, every position but a line start fails at once.
_LINE_START: Final = rb"(?:(?<=\n)|\A)"
_COMMON_LF: Final = re.compile(_LINE_START + rb"(event: [^\n]*+\n|)data: ([^\n]*+)\n\n")
_COMMON_CRLF: Final = re.compile(_LINE_START + rb"(event: [^\r]*+\r\n|)data: ([^\r]*+)\r\n\r\n")
# The same shapes, capturing only the data, for feed_frames: [gap, data, gap, data, ...,
# rest]. One group fewer is one bytes object fewer per event (~15% of the split's time); the
# heads are cut out by the patterns above only if someone asks for names or offsets.
_DATA_LF: Final = re.compile(_LINE_START + rb"(?:event: [^\n]*+\n)?+data: ([^\n]*+)\n\n")
_DATA_CRLF: Final = re.compile(_LINE_START + rb"(?:event: [^\r]*+\r\n)?+data: ([^\r]*+)\r\n\r\n")
_DATA_ONLY: Final = {_COMMON_LF: _DATA_LF, _COMMON_CRLF: _DATA_CRLF}
# The fast path maps whole "event: NAME" lines to the decoded name; bounded so that a stream
# inventing endless names cannot grow it.
_MAX_CACHED_NAMES: Final = 256
_MAX_CACHED_LINE: Final = 128
_REPR_DATA: Final = 60


class ServerSentEvent(msgspec.Struct, gc=False):
    """One dispatched server-sent event.

    Attributes:
        event: the event type; ``"message"`` when the event had no (or an empty) ``event``
            field, as WHATWG specifies.
        data: the ``data`` lines joined with ``b"\\n"``, as raw UTF-8 bytes (not decoded:
            msgspec decodes JSON from bytes directly).
        id: the last event ID in effect for this event. It persists across events until an
            ``id`` field changes it; ``None`` when no ID is set (never sent, or reset by an
            empty ``id`` field).
        retry: the reconnection time in milliseconds given by a ``retry`` field in this
            event, else ``None``.
        offset: byte offset in the stream where this event's first line began.

    Two events compare equal when ``event``, ``data``, ``id`` and ``retry`` are equal; the
    ``offset`` is where an event was found, not part of what it says.
    """

    event: str
    data: bytes
    id: str | None = None
    retry: int | None = None
    offset: int = 0

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, ServerSentEvent):
            return NotImplemented
        return (
            self.event == other.event
            and self.data == other.data
            and self.id == other.id
            and self.retry == other.retry
        )

    def __repr__(self) -> str:
        data = self.data
        if len(data) > _REPR_DATA:
            preview = f"{data[:_REPR_DATA]!r}... ({len(data)} bytes)"
        else:
            preview = repr(data)
        extra = ""
        if self.id is not None:
            extra += f", id={self.id!r}"
        if self.retry is not None:
            extra += f", retry={self.retry!r}"
        return f"ServerSentEvent(event={self.event!r}, data={preview}{extra}, offset={self.offset})"


class Frames:
    """The events one chunk completed, as their ``data`` payloads: no object per event.

    What :meth:`SSEDecoder.feed_frames` returns, for readers that decode every payload at
    once (``EventStreamDecoder``). Such a reader needs nothing but the data on its hot path;
    the names and offsets, which only unknown events and error messages need, are worked out
    on demand, and :meth:`events` makes the :class:`ServerSentEvent` objects
    :meth:`SSEDecoder.feed` returns.

    Attributes:
        data: each event's data (its ``data`` lines joined with ``b"\\n"``), in order.
        error: the :class:`~sluice.EventTooLargeError` that stopped framing after these
            events, else ``None``. The decoder keeps it and raises it from the next call.
    """

    __slots__ = (
        "_base",
        "_events",
        "_heads",
        "_last_id",
        "_name_of",
        "_overhead",
        "_pattern",
        "_text",
        "data",
        "error",
    )

    def __init__(self, data: list[bytes], error: EventTooLargeError | None = None) -> None:
        self.data = data
        self.error = error
        # Either the events themselves (the general paths), or what the fast path knows:
        # the bytes it split (and how), from which the raw "event: NAME" line of each event
        # can be cut out again; where the first event began; the bytes each event took
        # besides its head and data; and the last event ID in effect.
        self._events: list[ServerSentEvent] | None = None
        self._heads: list[bytes] | None = None
        self._text = b""
        self._pattern = _COMMON_LF
        self._base = 0
        self._overhead = 0
        self._last_id: str | None = None
        self._name_of: Callable[[bytes], str] = _name_of

    @classmethod
    def of(cls, events: list[ServerSentEvent], error: EventTooLargeError | None) -> Frames:
        """Frames holding ``events`` (from the general paths)."""
        frames = cls([event.data for event in events], error)
        frames._events = events
        return frames

    def __len__(self) -> int:
        return len(self.data)

    def names(self) -> list[str]:
        """Each event's type (``"message"`` when it had no ``event`` field)."""
        if self._events is not None:
            return [event.event for event in self._events]
        return list(map(self._name_of, self._cut_heads()))

    def offsets(self) -> list[int]:
        """Where each event's first line began, in bytes from the start of the stream."""
        if self._events is not None:
            return [event.offset for event in self._events]
        overhead = self._overhead
        sizes = [
            len(head) + len(data) + overhead
            for head, data in zip(self._cut_heads(), self.data, strict=True)
        ]
        return list(accumulate(sizes[:-1], initial=self._base)) if sizes else []

    def events(self) -> list[ServerSentEvent]:
        """The events as :class:`ServerSentEvent` objects."""
        if self._events is None:
            sse, last_id = ServerSentEvent, self._last_id
            self._events = [
                sse(name, data, last_id, None, offset)
                for name, data, offset in zip(self.names(), self.data, self.offsets(), strict=True)
            ]
        return self._events

    def _cut_heads(self) -> list[bytes]:
        # The fast path's "event: NAME" lines (b"" for an event without one), cut out of
        # the same bytes by the capturing pattern, which tiles them exactly as the
        # data-only one did.
        if self._heads is None:
            self._heads = self._pattern.split(self._text)[1::3]
        return self._heads


def _name_of(head: bytes) -> str:
    # b"" or b"event: NAME\n" (or CRLF) to the event type, as the fast path cuts it out.
    return head[7:].rstrip(b"\r\n").decode("utf-8", "replace") or "message"


class SSEDecoder:
    """Incremental decoder from response-body bytes to :class:`ServerSentEvent`.

    Sans-I/O: it never reads anything itself. Call :meth:`feed` with each chunk of the body
    as it arrives and :meth:`close` at the end. Chunk boundaries may fall anywhere, inside a
    line, a CRLF, the BOM or a multi-byte UTF-8 character; the events are the same for every
    chunking.

    Args:
        max_event_size: the most bytes one event may span (its lines including their line
            endings, not counting the blank line that ends it). An event, or an unfinished
            line, that grows past it raises :class:`~sluice.EventTooLargeError` instead of
            being buffered without bound. Between calls the decoder holds at most this
            many bytes plus one chunk; while it parses a very large event, a few transient
            copies of that event exist (two on the fast path).
    """

    __slots__ = (
        "_backoff",
        "_bom_done",
        "_bom_head",
        "_buf",
        "_closed",
        "_error",
        "_last_id",
        "_max",
        "_names",
        "_received",
        "_skip_common",
        "_start",
    )

    def __init__(self, *, max_event_size: int = DEFAULT_MAX_EVENT_SIZE) -> None:
        if max_event_size < 1:
            raise ValueError(f"max_event_size must be at least 1, got {max_event_size}")
        self._max = max_event_size
        # Bytes of the event in progress: every line since the last blank line, parsed
        # again when the event completes. Keeping the raw bytes (not half-parsed fields)
        # makes a CRLF split across chunks a non-issue and gives `unparsed` for free.
        self._buf = bytearray()
        self._start = 0  # stream offset of self._buf[0]
        self._received = 0
        self._last_id: str | None = None  # WHATWG "last event ID string"
        self._names: dict[bytes, str] = {b"": "message"}
        self._skip_common = 0  # chunks left before the fast path is tried again
        self._backoff = 1
        self._bom_done = False
        self._bom_head = b""  # first bytes of the stream while they may still be a BOM
        self._closed = False
        self._error: EventTooLargeError | None = None

    @property
    def unparsed(self) -> bytes:
        """Bytes received but not yet dispatched: the event (or line) still in progress.

        After :meth:`close` these are the bytes of the unterminated trailing event that was
        discarded, for an error message about a truncated stream. Empty after an
        :class:`~sluice.EventTooLargeError` (the oversized bytes are dropped).
        """
        return self._bom_head + bytes(self._buf)

    @property
    def bytes_received(self) -> int:
        """Total number of bytes fed so far, including a BOM and undispatched bytes."""
        return self._received

    @property
    def last_event_id(self) -> str | None:
        """The last event ID as of the last blank line (what a reconnect would send)."""
        return self._last_id

    def feed(self, chunk: bytes) -> list[ServerSentEvent]:
        """Decode the next chunk of the body.

        Args:
            chunk: the next bytes of the stream, of any length.

        Returns:
            The events completed by this chunk, in stream order (often empty).

        Raises:
            EventTooLargeError: an event grew past ``max_event_size``. If events completed
                earlier in the same chunk, they are returned first and the error is raised
                by the next call to :meth:`feed` or :meth:`close`, so every event before
                the oversized one is delivered whatever the chunking.
            RuntimeError: the decoder was already closed.
        """
        frames = self._feed(chunk, named=True)
        events = frames.events()
        if frames.error is not None and not events:
            raise frames.error
        return events

    def feed_frames(self, chunk: bytes) -> Frames:
        """:meth:`feed`, returning the events as :class:`Frames`: their data, little else.

        The same framing, for readers that decode every payload of a chunk at once: on
        the common path (``event: NAME`` and one ``data:`` line per event) no object is
        made per event. An oversized event does not raise here unless an earlier call
        already found it: it ends the frames and is their ``error``.

        Raises:
            EventTooLargeError: a previous call found an oversized event.
            RuntimeError: the decoder was already closed.
        """
        return self._feed(chunk, named=False)

    def _feed(self, chunk: bytes, *, named: bool) -> Frames:
        # named: cut out the "event: NAME" lines on the fast path now (feed), not on demand.
        if self._error is not None:
            raise self._error.with_traceback(None)
        if self._closed:
            raise RuntimeError("SSEDecoder.feed() called after close()")
        self._received += len(chunk)
        if not self._bom_done:
            chunk = self._strip_bom(chunk)
            if not self._bom_done:
                return Frames([])
        buf = self._buf
        if buf:
            if b"\n\n" not in chunk and not _may_end_event(buf[-1], chunk):
                # The event in progress goes on: append, and do not scan it again.
                buf += chunk
                if self._received - self._start > self._max:
                    return Frames([], self._fail(self._start))
                return Frames([])
            buf += chunk
            data = bytes(buf)
            buf.clear()  # free it now: a large event should not be held twice while parsed
        else:
            data = chunk
        base = self._start
        if data[:1] in _NEWLINES:
            # Blank lines with no event before them dispatch nothing (or this is the LF of
            # a CRLF whose CR ended the previous chunk). Skip them here so that the chunk
            # can still take the fast path, which wants events to start at its first byte.
            stripped = data.lstrip(b"\r\n")
            base += len(data) - len(stripped)
            data = stripped
        # Which line ending does this chunk use? Usually one kind throughout.
        found = None
        if b"\r" not in data:
            eol: bytes | None = b"\n"
            common = _COMMON_LF
        elif b"\n" not in data:
            eol, common = b"\r", None
        elif data.count(b"\r\n") == data.count(b"\n") == data.count(b"\r"):
            eol, common = b"\r\n", _COMMON_CRLF
        else:
            eol, common = None, None  # mixed
        if common is not None:
            if self._skip_common:
                self._skip_common -= 1
            else:
                found = self._decode_common(
                    data, base, common, len(eol or b"") * 2 + 6, named=named
                )
                if found is None:
                    # A stream that is not all common-shape events: stop paying for the
                    # failed attempt on every chunk; back off (up to 64 chunks) and retry.
                    self._backoff = min(self._backoff * 2, 64)
                    self._skip_common = self._backoff
                else:
                    self._backoff = 1
        if found is not None:
            frames, used = found
        else:
            if eol is None:
                events, used = self._decode_lines(data, base)
            else:
                events, used = self._decode_blocks(data, base, eol)
            frames = Frames.of(events, None)
        rest = data[used:]
        if rest[:1] in _NEWLINES:  # likewise, so `unparsed` and `_start` begin at a real line
            stripped = rest.lstrip(b"\r\n")
            used += len(rest) - len(stripped)
            rest = stripped
        self._start = base + used
        buf[:] = rest
        if self._error is not None or self._received - self._start > self._max:
            frames.error = self._fail(self._start)
        return frames

    def close(self, *, dispatch_trailing: bool = False) -> list[ServerSentEvent]:
        """Signal the end of the stream.

        Per WHATWG an unterminated trailing event (no blank line after it) is discarded,
        not dispatched, so by default this returns an empty list; its bytes stay readable
        in :attr:`unparsed`. Calling it again is harmless.

        Args:
            dispatch_trailing: dispatch a trailing event that lacks only its blank line, when
                the body ended on a line boundary (its last line terminated). Some servers
                and recorders (the official SDK's fixtures among them) end the last event
                so. An event cut inside a line is never dispatched.

        Raises:
            EventTooLargeError: an oversized event was detected by the last :meth:`feed`,
                which still returned the events before it.
        """
        if self._error is not None:
            raise self._error.with_traceback(None)
        if self._closed:
            return []
        self._closed = True
        buf = self._buf
        if not dispatch_trailing or not buf or buf[-1] not in (10, 13):  # LF, CR
            return []
        lines = [line for line in bytes(buf).splitlines() if line]
        event = self._interpret(lines, self._start)
        if event is None:
            return []
        buf.clear()
        return [event]

    # -- internals ---------------------------------------------------------------------------

    def _strip_bom(self, chunk: bytes) -> bytes:
        # WHATWG 9.2.5: one leading U+FEFF is ignored. It may arrive split across chunks,
        # so hold back up to two bytes until it is clear whether they begin a BOM.
        head = self._bom_head + chunk
        if len(head) < len(_BOM) and _BOM.startswith(head):
            self._bom_head = head  # not counted against max_event_size: at most 2 bytes
            return b""
        self._bom_head = b""
        self._bom_done = True
        if head.startswith(_BOM):
            self._start = len(_BOM)
            return head[len(_BOM) :]
        return head

    def _too_large(self, offset: int) -> EventTooLargeError:
        return EventTooLargeError(
            f"an SSE event starting at byte {offset} of the stream is larger than "
            f"max_event_size ({self._max} bytes); if the server really sends events this "
            f"large, raise max_event_size",
            limit=self._max,
            offset=offset,
        )

    def _fail(self, offset: int) -> EventTooLargeError:
        # Drop the oversized bytes at once; the error is raised now, or by the next call
        # if some events completed before the oversized one and must be delivered first.
        if self._error is None:
            self._error = self._too_large(offset)
        self._buf = bytearray()
        return self._error

    def _decode_common(
        self, data: bytes, base: int, pattern: re.Pattern[bytes], overhead: int, *, named: bool
    ) -> tuple[Frames, int] | None:
        # The hot path, for a chunk made only of common-shape events (see _COMMON_LF);
        # returns None when the chunk holds anything else, for _decode_lines to handle.
        # Everything per event happens in C: the split, the slices. Unless named (or the
        # chunk is large enough to hold an oversized event, which takes each event's size),
        # the heads are not even cut out: Frames does it if someone asks for them.
        if named or len(data) > self._max:
            parts = pattern.split(data)
            heads: list[bytes] | None = parts[1::3]
            values = parts[2::3]
            gaps = parts[0:-1:3]
        else:
            parts = _DATA_ONLY[pattern].split(data)
            heads = None
            values = parts[1::2]
            gaps = parts[0:-1:2]
        rest = parts[-1]
        if any(gaps) or _has_blank_line(rest):
            return None
        if heads is not None and len(data) > self._max:
            longest = max(map(len, heads), default=0) + max(map(len, values), default=0)
            if longest + overhead > self._max:
                return None  # an event may be too large: _decode_blocks checks each one
        frames = Frames(values)
        frames._heads = heads
        frames._text = data
        frames._pattern = pattern
        frames._base = base
        frames._overhead = overhead
        frames._last_id = self._last_id
        frames._name_of = self._name_of
        return frames, len(data) - len(rest)

    def _decode_blocks(
        self, data: bytes, base: int, eol: bytes
    ) -> tuple[list[ServerSentEvent], int]:
        # Any fields, with one kind of line ending throughout: then a blank line is exactly
        # eol + eol, so one C-level split yields each complete event as a block, and the
        # last piece is the event in progress.
        blocks = data.split(eol + eol)
        rest = blocks.pop()
        events: list[ServerSentEvent] = []
        limit = self._max if len(data) > self._max else 0  # else no event can be too large
        step = 2 * len(eol)
        pos = base
        for block in blocks:
            start = pos
            pos += len(block) + step
            if block[:1] in _NEWLINES:
                # A run of three or more line ends: blank lines that dispatch nothing.
                stripped = block.lstrip(b"\r\n")
                start += len(block) - len(stripped)
                block = stripped
            if not block:
                continue
            if limit and len(block) + len(eol) > limit:
                self._error = self._too_large(start)
                break
            event = self._interpret(block.split(eol), start)
            if event is not None:
                events.append(event)
        return events, len(data) - len(rest)

    def _decode_lines(self, data: bytes, base: int) -> tuple[list[ServerSentEvent], int]:
        # The general path, for chunks mixing LF, CRLF and lone CR (bytes.splitlines splits
        # on exactly these three), with the size limit checked line by line.
        events: list[ServerSentEvent] = []
        limit = self._max
        lines: list[bytes] = []
        start = 0  # index in data of the first line of the event in progress
        pos = 0  # index in data of the next line
        used = 0  # index in data just past the last blank line
        for line in data.splitlines(True):
            begin = pos
            pos += len(line)
            content = line.rstrip(b"\r\n")
            if len(content) == len(line):
                break  # the last line, still unterminated
            if content:
                if not lines:
                    start = begin
                lines.append(content)
                if pos - start > limit:
                    self._error = self._too_large(base + start)
                    break
                continue
            # A blank line: dispatch (WHATWG 9.2.6).
            if lines:
                event = self._interpret(lines, base + start)
                if event is not None:
                    events.append(event)
                lines = []
            used = pos
        return events, used

    def _name_of(self, head: bytes) -> str:
        # The fast path's heads to names (b"" or b"event: NAME\n"), through a bounded cache.
        name = self._names.get(head)
        if name is None:
            name = _name_of(head)
            if len(head) <= _MAX_CACHED_LINE and len(self._names) < _MAX_CACHED_NAMES:
                self._names[head] = name
        return name

    def _interpret(self, lines: list[bytes], offset: int) -> ServerSentEvent | None:
        # WHATWG 9.2.6 for the lines of one complete event (none of them blank), then the
        # dispatch its blank line triggers. Returns None when there was no data field.
        event_type = b""
        data: list[bytes] | None = None
        retry: int | None = None
        last_id = self._last_id
        for line in lines:
            # "data:" and "event:" first: they are most lines, and a prefix test is cheaper
            # than splitting every line into field and value.
            if line.startswith(b"data:"):
                value = line[6:] if line.startswith(b" ", 5) else line[5:]
                if data is None:
                    data = [value]
                else:
                    data.append(value)
                continue
            if line.startswith(b"event:"):
                event_type = line[7:] if line.startswith(b" ", 6) else line[6:]
                continue
            field, _, value = line.partition(b":")
            if not field:
                continue  # a comment
            if value.startswith(b" "):
                value = value[1:]
            if field == b"id":
                if b"\x00" not in value:
                    last_id = value.decode("utf-8", "replace") or None
            elif field == b"retry" and value.isdigit():  # bytes.isdigit(): ASCII digits only
                try:
                    retry = int(value)
                except ValueError:  # more digits than int() accepts: ignore, like junk
                    pass
            elif field == b"data":  # "data" without a colon: an empty value
                if data is None:
                    data = [b""]
                else:
                    data.append(b"")
            elif field == b"event":
                event_type = b""
            # Any other field is ignored.
        # The last event ID buffer is committed at every blank line, data or not.
        self._last_id = last_id
        if data is None:
            return None
        name = event_type.decode("utf-8", "replace") if event_type else "message"
        return ServerSentEvent(name, b"\n".join(data), last_id, retry, offset)


def _has_blank_line(data: bytes) -> bool:
    # A blank line starts where a line terminator is followed by another one: "\n\n",
    # "\n\r" (after LF or CRLF) or "\r\r" (after a lone CR); "\r\n" alone is one CRLF.
    return b"\n\n" in data or (b"\r" in data and (b"\n\r" in data or b"\r\r" in data))


def _may_end_event(last: int, chunk: bytes) -> bool:
    # Could this chunk hold a blank line? The buffered event has none, so one must lie in
    # the chunk or straddle the boundary (the caller has already ruled out "\n\n").
    if not chunk:
        return False
    first = chunk[0]
    if (last == 10 and first in (10, 13)) or (last == 13 and first == 13):
        return True
    return b"\r" in chunk and (b"\n\r" in chunk or b"\r\r" in chunk)
