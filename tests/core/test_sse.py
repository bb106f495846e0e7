"""Tests for sluice._sse: WHATWG event-stream parsing on bytes, fed in any chunking."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from itertools import pairwise

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sluice import EventTooLargeError, ServerSentEvent, SSEDecoder, StreamError
from sluice._core._sse import DEFAULT_MAX_EVENT_SIZE

BOM = b"\xef\xbb\xbf"
Decoded = tuple[str, bytes, str | None, int | None, int]


def decode(*chunks: bytes, max_event_size: int = DEFAULT_MAX_EVENT_SIZE) -> list[ServerSentEvent]:
    """Feed the chunks to a fresh decoder, close it, and return every event."""
    decoder = SSEDecoder(max_event_size=max_event_size)
    events: list[ServerSentEvent] = []
    for chunk in chunks:
        events += decoder.feed(chunk)
    events += decoder.close()
    return events


def as_tuples(events: Iterable[ServerSentEvent]) -> list[Decoded]:
    """Everything an event carries, offset included (== ignores the offset)."""
    return [(e.event, e.data, e.id, e.retry, e.offset) for e in events]


def split_at(stream: bytes, cuts: Iterable[int]) -> list[bytes]:
    """Cut the stream at the given indices (out-of-range and repeated cuts ignored)."""
    points = sorted({c for c in cuts if 0 < c < len(stream)})
    bounds = [0, *points, len(stream)]
    return [stream[a:b] for a, b in pairwise(bounds)]


class Outcome:
    """What decoding a whole stream yields: events, then an error offset or the leftovers."""

    def __init__(self, events: list[Decoded], error_offset: int | None, unparsed: bytes) -> None:
        self.events = events
        self.error_offset = error_offset
        self.unparsed = unparsed

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Outcome):
            return NotImplemented
        return (self.events, self.error_offset, self.unparsed) == (
            other.events,
            other.error_offset,
            other.unparsed,
        )

    def __repr__(self) -> str:
        return f"Outcome({self.events!r}, {self.error_offset!r}, {self.unparsed!r})"


def run(chunks: Sequence[bytes], limit: int = DEFAULT_MAX_EVENT_SIZE) -> Outcome:
    """Decode the chunks with SSEDecoder, stopping at an EventTooLargeError."""
    decoder = SSEDecoder(max_event_size=limit)
    events: list[ServerSentEvent] = []
    try:
        for chunk in chunks:
            events += decoder.feed(chunk)
        events += decoder.close()
    except EventTooLargeError as exc:
        assert exc.limit == limit
        return Outcome(as_tuples(events), exc.offset, b"")
    return Outcome(as_tuples(events), None, decoder.unparsed)


def run_frames(chunks: Sequence[bytes], limit: int = DEFAULT_MAX_EVENT_SIZE) -> Outcome:
    """:func:`run` through ``feed_frames``: the data, then names and offsets on demand."""
    decoder = SSEDecoder(max_event_size=limit)
    events: list[Decoded] = []
    try:
        for chunk in [*chunks, None]:
            if chunk is None:
                decoder.close()
                break
            frames = decoder.feed_frames(chunk)
            assert len(frames) == len(frames.data)
            names, offsets = frames.names(), frames.offsets()
            for sse, name, data, offset in zip(
                frames.events(), names, frames.data, offsets, strict=True
            ):
                assert (sse.event, sse.data, sse.offset) == (name, data, offset)
                events.append((sse.event, sse.data, sse.id, sse.retry, sse.offset))
            if frames.error is not None:
                raise frames.error
    except EventTooLargeError as exc:
        assert exc.limit == limit
        return Outcome(events, exc.offset, b"")
    return Outcome(events, None, decoder.unparsed)


def reference(stream: bytes, limit: int = DEFAULT_MAX_EVENT_SIZE) -> Outcome:
    """A deliberately naive, byte-at-a-time transcription of WHATWG 9.2.5/9.2.6."""
    events: list[Decoded] = []
    if len(stream) < len(BOM) and BOM.startswith(stream):
        return Outcome([], None, stream)  # might still have been a BOM: held, never counted
    pos = len(BOM) if stream.startswith(BOM) else 0
    n = len(stream)
    data: list[bytes] | None = None
    event_type = b""
    id_buffer: str | None = None
    retry: int | None = None
    first_line: int | None = None  # offset of the pending event's first line
    after_blank = pos  # offset just past the last blank line
    while pos < n:
        end = pos
        while end < n and stream[end] not in b"\r\n":
            end += 1
        if end == n:
            break  # an unterminated line
        line = stream[pos:end]
        next_pos = end + 2 if stream[end : end + 2] == b"\r\n" else end + 1
        if line == b"":
            if data is not None:
                name = event_type.decode("utf-8", "replace") or "message"
                assert first_line is not None
                events.append((name, b"\n".join(data), id_buffer, retry, first_line))
            data, event_type, retry, first_line = None, b"", None, None
            after_blank = next_pos
        else:
            if first_line is None:
                first_line = pos
            if next_pos - first_line > limit:
                return Outcome(events, first_line, b"")
            if not line.startswith(b":"):
                field, colon, value = line.partition(b":")
                if colon and value.startswith(b" "):
                    value = value[1:]
                if field == b"data":
                    data = [*(data or []), value]
                elif field == b"event":
                    event_type = value
                elif field == b"id" and b"\x00" not in value:
                    id_buffer = value.decode("utf-8", "replace") or None
                elif field == b"retry" and value and all(48 <= c <= 57 for c in value):
                    retry = int(value)
        pos = next_pos
    if n - after_blank > limit:
        return Outcome(events, after_blank, b"")
    return Outcome(events, None, stream[after_blank:])


class TestServerSentEvent:
    def test_defaults(self) -> None:
        """Only event and data are required; id and retry default to None, offset to 0."""
        assert as_tuples([ServerSentEvent("message", b"x")]) == [("message", b"x", None, None, 0)]

    def test_equality_ignores_offset(self) -> None:
        """Events equal in event/data/id/retry are equal wherever they were found."""
        assert ServerSentEvent("a", b"1", "i", 5, 0) == ServerSentEvent("a", b"1", "i", 5, 99)

    @pytest.mark.parametrize(
        "other",
        [
            ServerSentEvent("b", b"1", "i", 5),
            ServerSentEvent("a", b"2", "i", 5),
            ServerSentEvent("a", b"1", None, 5),
            ServerSentEvent("a", b"1", "i", None),
        ],
    )
    def test_inequality(self, other: ServerSentEvent) -> None:
        """A difference in event, data, id or retry makes events unequal."""
        assert ServerSentEvent("a", b"1", "i", 5) != other

    def test_not_equal_ignores_offset(self) -> None:
        """!= agrees with ==: the offset alone does not make events differ."""
        assert not ServerSentEvent("a", b"1", offset=0) != ServerSentEvent("a", b"1", offset=9)

    def test_not_equal_to_other_types(self) -> None:
        """Comparing with a non-event is simply unequal, not an error."""
        assert (ServerSentEvent("a", b"1") == ("a", b"1")) is False
        assert ServerSentEvent("a", b"1") != ("a", b"1")

    def test_repr_truncates_data(self) -> None:
        """repr shows the event name and a bounded preview of long data, with its size."""
        text = repr(ServerSentEvent("content_block_delta", b"x" * 1000, offset=7))
        assert "content_block_delta" in text
        assert "(1000 bytes)" in text
        assert len(text) < 200

    def test_repr_short_data_and_id(self) -> None:
        """Short data appears whole; id and retry appear when set."""
        text = repr(ServerSentEvent("ping", b"{}", "42", 10))
        assert text == "ServerSentEvent(event='ping', data=b'{}', id='42', retry=10, offset=0)"


class TestLineEndings:
    @pytest.mark.parametrize("eol", [b"\n", b"\r\n", b"\r"], ids=["LF", "CRLF", "CR"])
    def test_each_line_ending(self, eol: bytes) -> None:
        """LF, CRLF and a lone CR all end lines and blank lines alike."""
        stream = eol.join([b"event: a", b"data: 1", b"data: 2", b"", b"data: 3", b"", b""])
        assert as_tuples(decode(stream)) == [
            ("a", b"1\n2", None, None, 0),
            ("message", b"3", None, None, 22 + 4 * len(eol)),
        ]

    def test_mixed_line_endings(self) -> None:
        """One stream may mix all three line endings."""
        assert decode(b"data: a\r\ndata: b\rdata: c\n\r\ndata: d\r\r") == [
            ServerSentEvent("message", b"a\nb\nc"),
            ServerSentEvent("message", b"d"),
        ]

    def test_crlf_split_across_chunks_is_one_line_end(self) -> None:
        """A CR ending one chunk and an LF starting the next are one line end, not a blank line."""
        assert decode(b"data: a\r", b"\ndata: b\r\n\r\n") == [ServerSentEvent("message", b"a\nb")]

    def test_cr_blank_line_then_lf_in_next_chunk(self) -> None:
        """A blank line ended by CR dispatches at once; the LF that follows is part of it."""
        decoder = SSEDecoder()
        assert decoder.feed(b"data: a\r\n\r") == [ServerSentEvent("message", b"a")]
        assert decoder.feed(b"\ndata: b\r\n\r\n") == [ServerSentEvent("message", b"b")]
        assert decoder.unparsed == b""

    def test_every_two_chunk_split_of_crlf_stream(self) -> None:
        """Cutting a CRLF stream at every possible point gives the same events."""
        stream = b"event: a\r\ndata: 1\r\n\r\ndata: 2\r\n\r\n"
        expected = as_tuples(decode(stream))
        for cut in range(len(stream) + 1):
            assert as_tuples(decode(stream[:cut], stream[cut:])) == expected

    def test_form_feed_and_other_separators_are_not_line_ends(self) -> None:
        """Only CR and LF end lines (bytes.splitlines-style \\x0b, \\x0c, \\x1c do not)."""
        assert decode(b"data: a\x0bb\x0cc\x1cd\x85e\r\r") == [
            ServerSentEvent("message", b"a\x0bb\x0cc\x1cd\x85e")
        ]


class TestByteOrderMark:
    def test_leading_bom_is_stripped(self) -> None:
        """One UTF-8 BOM at the very start of the stream is ignored."""
        assert as_tuples(decode(BOM + b"data: x\n\n")) == [("message", b"x", None, None, 3)]

    def test_bom_split_across_chunks(self) -> None:
        """The BOM is recognised when it arrives one byte at a time."""
        assert as_tuples(decode(b"\xef", b"\xbb", b"\xbf", b"data: x\n\n")) == [
            ("message", b"x", None, None, 3)
        ]

    def test_only_one_bom_is_stripped(self) -> None:
        """A second BOM is part of the first line, whose field name is then not 'data'."""
        assert decode(BOM + BOM + b"data: x\n\n") == []

    def test_bom_later_in_stream_is_kept(self) -> None:
        """A BOM after the start of the stream is ordinary data."""
        assert decode(b"data: x\n\ndata: " + BOM + b"\n\n") == [
            ServerSentEvent("message", b"x"),
            ServerSentEvent("message", BOM),
        ]

    def test_partial_bom_prefix_is_data(self) -> None:
        """Bytes that only begin like a BOM are kept once it is clear they are not one."""
        decoder = SSEDecoder()
        assert decoder.feed(b"\xef\xbb") == []
        assert decoder.unparsed == b"\xef\xbb"
        assert decoder.feed(b"x: y\n") == []
        assert decoder.unparsed == b"\xef\xbbx: y\n"

    def test_stream_shorter_than_bom(self) -> None:
        """A stream ending inside a possible BOM leaves those bytes unparsed."""
        decoder = SSEDecoder()
        decoder.feed(b"\xef")
        assert decoder.close() == []
        assert decoder.unparsed == b"\xef"
        assert decoder.bytes_received == 1


class TestFields:
    def test_common_shape(self) -> None:
        """'event: NAME' plus one 'data: ...' line, as the Messages API sends."""
        stream = b'event: ping\ndata: {"type": "ping"}\n\n'
        assert decode(stream) == [ServerSentEvent("ping", b'{"type": "ping"}')]

    def test_comments_are_ignored(self) -> None:
        """Lines starting with a colon are comments, anywhere in an event."""
        assert decode(b": hello\ndata: a\n:\n: data: b\ndata: c\n\n") == [
            ServerSentEvent("message", b"a\nc")
        ]

    def test_comment_only_block_dispatches_nothing(self) -> None:
        """A keep-alive comment followed by a blank line produces no event."""
        assert decode(b": keep-alive\n\n") == []

    def test_field_without_colon_has_empty_value(self) -> None:
        """'data' alone is the data field with an empty value."""
        assert decode(b"data\n\n") == [ServerSentEvent("message", b"")]

    def test_only_one_space_is_stripped(self) -> None:
        """One space after the colon is removed, further spaces are kept."""
        assert decode(b"data:  two\n\n") == [ServerSentEvent("message", b" two")]

    def test_event_without_colon_resets_type(self) -> None:
        """'event' alone sets an empty type, which dispatches as 'message'."""
        assert decode(b"event: a\nevent\ndata: x\n\n") == [ServerSentEvent("message", b"x")]

    def test_no_space_after_colon(self) -> None:
        """The space after the colon is optional."""
        assert decode(b"event:a\ndata:x\n\n") == [ServerSentEvent("a", b"x")]

    def test_value_keeps_further_colons(self) -> None:
        """Only the first colon separates field and value."""
        assert decode(b"data: a: b:c\n\n") == [ServerSentEvent("message", b"a: b:c")]

    def test_multiline_data_joined_with_lf(self) -> None:
        """Each data line appends, joined with LF, without a trailing LF."""
        assert decode(b"data: a\ndata:\ndata: c\n\n") == [ServerSentEvent("message", b"a\n\nc")]

    def test_empty_data_is_dispatched(self) -> None:
        """'data:' with an empty value still dispatches an event with data b''."""
        assert decode(b"event: e\ndata:\n\n") == [ServerSentEvent("e", b"")]

    def test_blank_line_without_data_resets_event_type(self) -> None:
        """No data means no event, and the event type does not leak into the next one."""
        assert decode(b"event: a\n\ndata: x\n\n") == [ServerSentEvent("message", b"x")]

    def test_empty_event_name_means_message(self) -> None:
        """An empty event field leaves the WHATWG default type 'message'."""
        assert decode(b"event:\ndata: x\n\n") == [ServerSentEvent("message", b"x")]

    def test_last_event_field_wins(self) -> None:
        """event may come after data and repeat; the last one names the event."""
        assert decode(b"event: a\ndata: x\nevent: b\n\n") == [ServerSentEvent("b", b"x")]

    def test_unknown_fields_are_ignored(self) -> None:
        """Unknown or differently-cased field names do nothing."""
        assert decode(b"foo: bar\nData: no\ndata : no\ndata: yes\n\n") == [
            ServerSentEvent("message", b"yes")
        ]

    def test_data_stays_raw_bytes(self) -> None:
        """Data is not decoded: invalid UTF-8 and NUL pass through unchanged."""
        assert decode(b"data: \xff\x00\xc3\n\n") == [ServerSentEvent("message", b"\xff\x00\xc3")]

    def test_event_name_decoded_with_replacement(self) -> None:
        """Event names are UTF-8 decoded; invalid bytes become U+FFFD."""
        assert decode("event: é".encode() + b"\xff\ndata:\n\n") == [ServerSentEvent("é\ufffd", b"")]

    def test_multibyte_utf8_split_across_chunks(self) -> None:
        """A UTF-8 character cut between chunks reaches the event whole."""
        stream = "event: ñ\ndata: 日本\n\n".encode()
        for cut in range(len(stream) + 1):
            assert decode(stream[:cut], stream[cut:]) == [ServerSentEvent("ñ", "日本".encode())]

    def test_many_distinct_event_names(self) -> None:
        """More distinct names than the name cache holds still decode correctly."""
        stream = b"".join(b"event: e%d\ndata: %d\n\n" % (i, i) for i in range(600))
        events = decode(stream[:5000], stream[5000:])
        assert [e.event for e in events] == [f"e{i}" for i in range(600)]
        assert decode(stream * 2)[-1] == ServerSentEvent("e599", b"599")


class TestId:
    def test_id_persists_across_events(self) -> None:
        """The last event ID stays in effect until an id field changes it."""
        events = decode(b"id: 1\ndata: a\n\ndata: b\n\nid: 2\ndata: c\n\n")
        assert [e.id for e in events] == ["1", "1", "2"]

    def test_last_event_id_property(self) -> None:
        """last_event_id reports the ID as of the last blank line."""
        decoder = SSEDecoder()
        assert decoder.last_event_id is None
        decoder.feed(b"id: 7\ndata: x\n\n")
        assert decoder.last_event_id == "7"

    def test_id_with_nul_is_ignored(self) -> None:
        """An id value containing NUL does not change the last event ID."""
        assert [e.id for e in decode(b"id: 1\ndata: a\n\nid: 2\x003\ndata: b\n\n")] == ["1", "1"]

    def test_empty_id_resets(self) -> None:
        """An empty id field clears the last event ID (None)."""
        assert [e.id for e in decode(b"id: 1\ndata: a\n\nid\ndata: b\n\n")] == ["1", None]

    def test_id_without_data_is_still_committed(self) -> None:
        """An id in a block without data is committed at its blank line (WHATWG dispatch step 1)."""
        decoder = SSEDecoder()
        assert decoder.feed(b"id: 5\n\n") == []
        assert decoder.last_event_id == "5"
        assert decoder.feed(b"data: x\n\n") == [ServerSentEvent("message", b"x", "5")]

    def test_id_in_unterminated_event_is_not_committed(self) -> None:
        """An id line in an event that never gets its blank line changes nothing."""
        decoder = SSEDecoder()
        decoder.feed(b"id: 1\ndata: a\n\nid: 2\ndata: b\n")
        decoder.close()
        assert decoder.last_event_id == "1"

    def test_id_decoded_with_replacement(self) -> None:
        """IDs are UTF-8 decoded with invalid bytes replaced."""
        assert decode(b"id: \xffx\ndata:\n\n")[0].id == "\ufffdx"


class TestRetry:
    def test_digits_set_retry(self) -> None:
        """retry with only ASCII digits becomes an int on that event."""
        assert decode(b"retry: 3000\ndata: x\n\n")[0].retry == 3000

    @pytest.mark.parametrize(
        "value",
        [b"", b" 5", b"5 ", b"-1", b"+1", b"1.5", b"1e3", b"0x10", b"1_000", "٣".encode()],
    )
    def test_non_digits_are_ignored(self, value: bytes) -> None:
        """Anything but ASCII digits (signs, spaces, Unicode digits...) is ignored."""
        assert decode(b"retry: " + value + b"\ndata: x\n\n")[0].retry is None

    def test_huge_number_is_ignored(self) -> None:
        """A retry too long for int() is ignored instead of crashing."""
        assert decode(b"retry: " + b"9" * 5000 + b"\ndata: x\n\n")[0].retry is None

    def test_retry_is_per_event(self) -> None:
        """retry belongs to the event it came with; the next event has None."""
        assert [e.retry for e in decode(b"retry: 10\ndata: a\n\ndata: b\n\n")] == [10, None]


class TestEndOfStream:
    def test_unterminated_event_discarded_at_close(self) -> None:
        """An event without its blank line is not dispatched; its bytes stay in unparsed."""
        decoder = SSEDecoder()
        assert decoder.feed(b"data: a\n\nevent: x\ndata: b\n") == [ServerSentEvent("message", b"a")]
        assert decoder.close() == []
        assert decoder.unparsed == b"event: x\ndata: b\n"

    def test_unterminated_line_is_unparsed(self) -> None:
        """A partial last line is kept in unparsed."""
        decoder = SSEDecoder()
        decoder.feed(b'data: {"type": "mess')
        assert decoder.close() == []
        assert decoder.unparsed == b'data: {"type": "mess'

    def test_clean_end_leaves_nothing(self) -> None:
        """After a final blank line (and extra blank lines) nothing is unparsed."""
        decoder = SSEDecoder()
        decoder.feed(b"data: a\n\n\n\r\n")
        decoder.close()
        assert decoder.unparsed == b""

    def test_close_is_idempotent(self) -> None:
        """close() may be called twice."""
        decoder = SSEDecoder()
        assert decoder.close() == []
        assert decoder.close() == []

    def test_feed_after_close_raises(self) -> None:
        """Feeding a closed decoder is a programming error."""
        decoder = SSEDecoder()
        decoder.close()
        with pytest.raises(RuntimeError, match="after close"):
            decoder.feed(b"data: x\n\n")

    def test_empty_chunks(self) -> None:
        """Empty chunks are harmless anywhere."""
        assert decode(b"", b"data: a", b"", b"\n", b"", b"\n", b"") == [
            ServerSentEvent("message", b"a")
        ]

    def test_bytes_received_counts_everything(self) -> None:
        """bytes_received counts every byte fed, BOM and unparsed bytes included."""
        decoder = SSEDecoder()
        decoder.feed(BOM + b"data: a\n\n")
        decoder.feed(b"data: b")
        assert decoder.bytes_received == 3 + 9 + 7


class TestOffsets:
    def test_offsets_of_consecutive_events(self) -> None:
        """Each event's offset is where its first line begins in the stream."""
        stream = b"event: a\ndata: 1\n\ndata: 2\n\n: note\nid: x\ndata: 3\n\n"
        events = decode(stream)
        assert [e.offset for e in events] == [0, 18, 27]
        assert [stream[e.offset : e.offset + 3] for e in events] == [b"eve", b"dat", b": n"]

    def test_extra_blank_lines_are_skipped(self) -> None:
        """Blank lines between events do not count as the next event's first line."""
        assert [e.offset for e in decode(b"data: 1\n\n\n\r\n\rdata: 2\n\n")] == [0, 13]

    def test_run_of_blank_lines_before_odd_event(self) -> None:
        """After three or more line ends, the next event still starts at its first line."""
        stream = b": c\ndata: 1\n\n\n: c\ndata: 2\n\n\n\n\nid: 3\ndata: 3\n\n"
        events = decode(stream)
        assert [e.offset for e in events] == [0, 14, 30]
        assert [stream[e.offset : e.offset + 2] for e in events] == [b": ", b": ", b"id"]

    def test_extra_blank_lines_at_chunk_end(self) -> None:
        """Blank lines ending a chunk are consumed; the next event's offset is past them."""
        decoder = SSEDecoder()
        assert decoder.feed(b"data: 1\n\n\n\n\n") == [ServerSentEvent("message", b"1")]
        assert decoder.unparsed == b""
        assert [e.offset for e in decoder.feed(b"\ndata: 2\n\n")] == [13]

    def test_offsets_independent_of_chunking(self) -> None:
        """Offsets are stream offsets, not chunk offsets."""
        stream = b"data: 1\r\n\r\ndata: 2\r\n\r\n" * 3
        whole = [e.offset for e in decode(stream)]
        assert whole == [0, 11, 22, 33, 44, 55]
        chunks = [stream[i : i + 5] for i in range(0, len(stream), 5)]
        assert [e.offset for e in decode(*chunks)] == whole

    def test_offset_counts_bom(self) -> None:
        """The BOM's three bytes count in offsets."""
        assert [e.offset for e in decode(BOM + b"\ndata: a\n\n")] == [4]


class TestMaxEventSize:
    def test_default_is_generous(self) -> None:
        """The default limit is at least 16 MiB."""
        assert DEFAULT_MAX_EVENT_SIZE >= 16 * 1024 * 1024

    def test_invalid_limit(self) -> None:
        """A limit below one byte is refused."""
        with pytest.raises(ValueError, match="max_event_size"):
            SSEDecoder(max_event_size=0)

    def test_runaway_line(self) -> None:
        """A line that never ends raises once it passes the limit, with limit and offset."""
        decoder = SSEDecoder(max_event_size=1000)
        assert decoder.feed(b"data: ok\n\n") == [ServerSentEvent("message", b"ok")]
        decoder.feed(b"data: " + b"x" * 500)
        with pytest.raises(EventTooLargeError) as info:
            for _ in range(10):
                decoder.feed(b"x" * 100)
        assert (info.value.limit, info.value.offset) == (1000, 10)
        assert "max_event_size" in str(info.value)
        assert isinstance(info.value, StreamError)

    def test_runaway_line_in_one_chunk(self) -> None:
        """One chunk bigger than the limit with no line end raises right away."""
        with pytest.raises(EventTooLargeError) as info:
            SSEDecoder(max_event_size=100).feed(b"data: " + b"x" * 200)
        assert info.value.offset == 0

    def test_many_lines_in_one_event(self) -> None:
        """Many short lines in one event add up to the limit too."""
        decoder = SSEDecoder(max_event_size=1000)
        with pytest.raises(EventTooLargeError) as info:
            for _ in range(200):
                decoder.feed(b"data: 0123456789\n")
        assert info.value.offset == 0

    def test_many_lines_in_one_chunk(self) -> None:
        """A whole oversized event inside one chunk is caught as well."""
        stream = b"data: a\n\n" + b"data: 0123456789\n" * 100 + b"\n"
        with pytest.raises(EventTooLargeError) as info:
            decode(stream, max_event_size=1000)
        assert info.value.offset == 9

    def test_event_at_limit_passes(self) -> None:
        """An event exactly max_event_size bytes long (lines and their endings) is fine."""
        event = b"data: " + b"x" * 93 + b"\n"  # 100 bytes
        assert decode(event + b"\n", max_event_size=100) == [ServerSentEvent("message", b"x" * 93)]
        with pytest.raises(EventTooLargeError):
            decode(event + b"\n", max_event_size=99)

    def test_earlier_events_delivered_before_error(self) -> None:
        """Events before the oversized one come out; the error follows on the next call."""
        decoder = SSEDecoder(max_event_size=50)
        events = decoder.feed(b"data: a\n\ndata: b\n\ndata: " + b"x" * 100)
        assert events == [ServerSentEvent("message", b"a"), ServerSentEvent("message", b"b")]
        assert decoder.unparsed == b""  # the oversized bytes are dropped
        with pytest.raises(EventTooLargeError) as info:
            decoder.close()
        assert info.value.offset == 18
        with pytest.raises(EventTooLargeError):
            decoder.feed(b"data: c\n\n")

    def test_buffer_stays_bounded(self) -> None:
        """Memory held for an event never exceeds the limit plus the last chunk."""
        decoder = SSEDecoder(max_event_size=10_000)
        with pytest.raises(EventTooLargeError):
            for _ in range(1000):
                decoder.feed(b"y" * 64)
                assert len(decoder.unparsed) <= 10_000 + 64

    def test_big_chunk_of_small_events(self) -> None:
        """A chunk far larger than the limit is fine when each event in it fits."""
        stream = b"event: e\ndata: 0123456789\n\n" * 1000
        assert len(decode(stream, max_event_size=30)) == 1000
        with pytest.raises(EventTooLargeError) as info:
            decode(stream + b"data: 0123456789abcdefghijklmnopqrstuvwxyz\n\n", max_event_size=30)
        assert info.value.offset == len(stream)

    def test_large_event_across_many_chunks(self) -> None:
        """A large event under the limit, fed in small chunks, arrives intact."""
        payload = bytes(range(32, 127)) * 2000
        stream = b"event: big\ndata: " + payload + b"\n\ndata: after\n\n"
        chunks = [stream[i : i + 1000] for i in range(0, len(stream), 1000)]
        assert decode(*chunks, max_event_size=200_000) == [
            ServerSentEvent("big", payload),
            ServerSentEvent("message", b"after"),
        ]


# -- property tests: any chunking gives the events of the reference parser ------------------

_values = st.one_of(
    st.sampled_from([b"", b" ", b"x", b" lead", b"a:b", b"\x00", b"\xff", "é".encode(), b"42"]),
    st.binary(max_size=12).map(lambda b: b.replace(b"\r", b"").replace(b"\n", b"")),
)
_field_lines = st.builds(
    lambda name, sep, value: name + sep + value,
    st.sampled_from([b"data", b"data", b"event", b"id", b"retry", b"Data", b"x", b"", b"dat"]),
    st.sampled_from([b": ", b":", b"", b":  "]),
    _values,
)
_names = st.one_of(st.none(), st.sampled_from([b"content_block_delta", b"ping", b""]))
_payloads = st.binary(max_size=20).map(lambda b: b.replace(b"\r", b"").replace(b"\n", b""))
_eols = st.sampled_from([b"\n", b"\r\n", b"\r"])


@st.composite
def _common_event(draw: st.DrawFn, eols: st.SearchStrategy[bytes]) -> bytes:
    """'event: NAME' (or nothing) and one 'data: ...' line, the shape LLM APIs send."""
    name = draw(_names)
    head = b"" if name is None else b"event: " + name + draw(eols)
    return head + b"data: " + draw(_payloads) + draw(eols) + draw(eols)


@st.composite
def _odd_event(draw: st.DrawFn, eols: st.SearchStrategy[bytes]) -> bytes:
    """Any lines (fields, comments, extra blank lines), then a blank line."""
    comments = _values.map(b":".__add__)
    lines = draw(st.lists(st.one_of(_field_lines, st.just(b""), comments), max_size=6))
    return b"".join(line + draw(eols) for line in lines) + draw(eols)


@st.composite
def streams(draw: st.DrawFn) -> bytes:
    """A random event stream: optional BOM, common and odd events, maybe a torn tail.

    Line endings are either mixed at random or one kind throughout, since the decoder
    takes different paths for the two.
    """
    eols = draw(st.sampled_from([_eols, st.just(b"\n"), st.just(b"\r\n"), st.just(b"\r")]))
    events = st.one_of(_common_event(eols), _odd_event(eols))
    stream = b"".join(draw(st.lists(events, max_size=12)))
    if draw(st.booleans()):
        stream = BOM + stream
    if draw(st.booleans()):
        stream += draw(_field_lines)
    return stream


@st.composite
def chunked(draw: st.DrawFn, stream: bytes) -> list[bytes]:
    """The stream cut at random places (sometimes into single bytes)."""
    if draw(st.integers(0, 5)) == 0:
        return [stream[i : i + 1] for i in range(len(stream))]
    cuts = draw(st.lists(st.integers(0, max(len(stream), 1)), max_size=20))
    return split_at(stream, cuts)


class TestChunkingProperties:
    def test_shapes_changing_along_the_stream(self) -> None:
        """Runs of common and odd events, in many chunk sizes, all decode like the reference."""
        common = b'event: content_block_delta\ndata: {"i": 1}\n\n'
        odd = [b": ping\n\n", b"id: 9\ndata: x\n\n", b"data: a\r\n\r\n", b"data: b\r\r"]
        stream = b""
        for i in range(300):
            stream += common * (i % 7) + odd[i % len(odd)] * (i % 3)
        expected = reference(stream)
        assert len(expected.events) > 1000
        for size in (1, 7, 64, 1000, 4096):
            chunks = [stream[i : i + size] for i in range(0, len(stream), size)]
            assert run(chunks) == expected
            assert run_frames(chunks) == expected

    @settings(max_examples=300, deadline=None)
    @given(st.data())
    def test_any_chunking_matches_reference(self, data: st.DataObject) -> None:
        """Any chunking yields exactly the reference parser's events, offsets and leftovers."""
        stream = data.draw(streams())
        chunks = data.draw(chunked(stream))
        expected = reference(stream)
        assert run([stream]) == expected
        assert run(chunks) == expected
        assert run_frames(chunks) == expected

    @settings(max_examples=150, deadline=None)
    @given(st.data(), st.integers(1, 60))
    def test_size_limit_independent_of_chunking(self, data: st.DataObject, limit: int) -> None:
        """With a small limit, the events before the error and the error offset never vary."""
        stream = data.draw(streams())
        chunks = data.draw(chunked(stream))
        expected = reference(stream, limit)
        assert run([stream], limit) == expected
        assert run(chunks, limit) == expected
        assert run_frames(chunks, limit) == expected

    @settings(max_examples=100, deadline=None)
    @given(st.lists(st.tuples(st.text(max_size=8), st.binary(max_size=30)), max_size=10), _eols)
    def test_serialized_events_round_trip(
        self, events: list[tuple[str, bytes]], eol: bytes
    ) -> None:
        """Events serialized with any line ending decode back, byte for byte, in 1-byte chunks."""
        wanted = []
        stream = b""
        for text, payload in events:
            name = text.replace("\r", "").replace("\n", "")
            data = payload.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
            stream += b"event: " + name.encode() + eol
            for line in data.split(b"\n"):
                stream += b"data: " + line + eol
            stream += eol
            wanted.append(ServerSentEvent(name or "message", data))
        assert decode(stream) == wanted
        assert decode(*[stream[i : i + 1] for i in range(len(stream))]) == wanted
