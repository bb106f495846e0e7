"""Sans-I/O: response body bytes in, typed events out (SSE framing + event decoding).

Feed it the chunks exactly as they arrive, of any size and split anywhere; it returns the
events completed by each chunk. It does no I/O and needs no event loop, so the CLI, tests
and benchmarks drive it directly and the async layer (``_stream``) is a thin loop around it.
"""

from __future__ import annotations

from collections.abc import Iterator

from ._events import Event, decode_event
from ._sse import DEFAULT_MAX_EVENT_SIZE, SSEDecoder

__all__ = ["EventStreamDecoder"]


class EventStreamDecoder:
    """Decode a Messages API event stream from bytes.

    Args:
        max_event_size: the largest SSE event accepted, in bytes; a larger one raises
            :class:`~sluice.EventTooLargeError` instead of buffering without bound.

    Raises (from :meth:`feed`):
        EventDecodeError: an event's data is not valid JSON for its type.
        EventTooLargeError: an event exceeded ``max_event_size``.
    """

    __slots__ = ("_sse",)

    def __init__(self, *, max_event_size: int = DEFAULT_MAX_EVENT_SIZE) -> None:
        self._sse = SSEDecoder(max_event_size=max_event_size)

    def feed(self, chunk: bytes) -> Iterator[Event]:
        """The events completed by ``chunk``, decoded one by one as you iterate.

        Events are decoded lazily and in order, so a malformed event raises only after
        every good event before it was delivered: nothing received is lost.
        """
        for sse in self._sse.feed(chunk):
            yield decode_event(sse.data, sse.event, sse.offset)

    def close(self) -> Iterator[Event]:
        """Signal the end of the body; yields any event it completes.

        An event without its terminating blank line is not dispatched (WHATWG); its bytes
        remain in :attr:`unparsed`. Raises a pending :class:`~sluice.EventTooLargeError`.
        """
        for sse in self._sse.close():
            yield decode_event(sse.data, sse.event, sse.offset)

    @property
    def unparsed(self) -> bytes:
        """Bytes of an unfinished event at the end of what was fed."""
        return self._sse.unparsed

    @property
    def bytes_received(self) -> int:
        """Total bytes fed so far."""
        return self._sse.bytes_received
