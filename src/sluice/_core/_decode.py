"""Sans-I/O: response body bytes in, typed events out (SSE framing + event decoding).

This is the hot loop of every reader, written once. :class:`StreamDecoder` takes each chunk
of the body exactly as it arrives (of any size, split anywhere), frames it
(:meth:`SSEDecoder.feed_frames`: on the common path, only the ``data`` payloads, no object
per event) and decodes all the payloads of the chunk in one typed pass, falling back to
decoding them one by one only to locate an error or to handle the rare event that needs
more care. It does no I/O and needs no event loop: message streams, completion streams,
the CLI replay, tests and benchmarks all drive it directly, and the async layer
(``_http._stream``) is a thin loop around it.

:class:`EventStreamDecoder` decodes Messages API events; :class:`CompletionStreamDecoder`
the legacy Text Completions stream. Accumulating the events is the
:class:`~sluice.MessageAccumulator`'s job (``feed``, or ``feed_many`` for a whole chunk).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any, Generic, TypeAlias, TypeVar

import msgspec

from ._completions import Completion
from ._events import ErrorEvent, Event, Ping, decode_error, decode_event, decode_events
from ._exceptions import EventTooLargeError, StreamError
from ._sse import DEFAULT_MAX_EVENT_SIZE, Frames, SSEDecoder

__all__ = ["CompletionEvent", "CompletionStreamDecoder", "EventStreamDecoder", "StreamDecoder"]

T = TypeVar("T")


class StreamDecoder(Generic[T]):
    """Bytes to typed values, one chunk at a time: SSE framing, then a typed decode per chunk.

    Args:
        decode_all: decodes the ``data`` payloads of one chunk at once; ``None`` when any of
            them needs ``decode_one`` (the fast path).
        decode_one: decodes one payload given its SSE event name and byte offset; ``None``
            to skip the event; raises a :class:`~sluice.StreamError` (usually
            :class:`~sluice.EventDecodeError`) for a malformed one.
        max_event_size: the largest SSE event accepted, in bytes; a larger one is an
            :class:`~sluice.EventTooLargeError` instead of a buffer without bound.
    """

    __slots__ = ("_decode_all", "_decode_one", "_sse")

    def __init__(
        self,
        decode_all: Callable[[list[bytes]], list[T] | None],
        decode_one: Callable[[bytes, str, int], T | None],
        *,
        max_event_size: int = DEFAULT_MAX_EVENT_SIZE,
    ) -> None:
        self._decode_all = decode_all
        self._decode_one = decode_one
        self._sse = SSEDecoder(max_event_size=max_event_size)

    def decode(self, chunk: bytes) -> tuple[list[T], StreamError | None]:
        """The events ``chunk`` completes, and the error that stopped them, if any.

        Deliver the events, then raise the error: an event that does not decode, or is
        larger than ``max_event_size``, thus surfaces only after every good event before
        it, whatever the chunking. Once an event was too large every later call returns
        that error again; after a decode error the next chunk decodes as usual.

        Raises:
            RuntimeError: :meth:`close` was called.
        """
        try:
            frames = self._sse.feed_frames(chunk)
        except EventTooLargeError as exc:
            return [], exc
        data = frames.data
        if not data:
            return [], frames.error
        events = self._decode_all(data)
        if events is None:
            return self._decode_each(frames)
        return events, frames.error

    def close(self) -> list[T]:
        """Signal the end of the body; returns the events it completes.

        A trailing event that lacks only its blank line is dispatched when the body ended
        on a line boundary (the official SDK's fixtures and recorders end so); an event cut
        inside a line is not (WHATWG), and its bytes remain in :attr:`unparsed`.

        Raises:
            EventTooLargeError: an event was too large (:meth:`decode` returned it already).
            StreamError: the trailing event does not decode (an ``EventDecodeError``).
        """
        events: list[T] = []
        for frame in self._sse.close(dispatch_trailing=True):
            event = self._decode_one(frame.data, frame.event, frame.offset)
            if event is not None:
                events.append(event)
        return events

    @property
    def unparsed(self) -> bytes:
        """Bytes of an unfinished event at the end of what was fed."""
        return self._sse.unparsed

    @property
    def bytes_received(self) -> int:
        """Total bytes fed so far."""
        return self._sse.bytes_received

    def _decode_each(self, frames: Frames) -> tuple[list[T], StreamError | None]:
        # The slow path, one event at a time: it says which event failed, and where.
        decode_one = self._decode_one
        events: list[T] = []
        for data, name, offset in zip(frames.data, frames.names(), frames.offsets(), strict=True):
            try:
                event = decode_one(data, name, offset)
            except StreamError as exc:
                return events, exc
            if event is not None:
                events.append(event)
        return events, frames.error


class EventStreamDecoder(StreamDecoder[Event]):
    """Decode a Messages API event stream from bytes.

    Unknown event and delta types decode to ``UnknownEvent``/``UnknownDelta``, fields this
    version does not model are kept, and a malformed event raises only after every good
    event before it was delivered.

    Example::

        decoder = EventStreamDecoder()
        accumulator = MessageAccumulator()
        for chunk in chunks:
            for event in decoder.feed(chunk):
                accumulator.feed(event)
        message = accumulator.finish()

    Args:
        max_event_size: the largest SSE event accepted, in bytes; a larger one raises
            :class:`~sluice.EventTooLargeError` instead of buffering without bound.

    Raises (from :meth:`feed`):
        EventDecodeError: an event's data is not valid JSON for its type.
        EventTooLargeError: an event exceeded ``max_event_size``.
    """

    __slots__ = ()

    def __init__(self, *, max_event_size: int = DEFAULT_MAX_EVENT_SIZE) -> None:
        super().__init__(decode_events, decode_event, max_event_size=max_event_size)

    def feed(self, chunk: bytes) -> Iterator[Event]:
        """The events completed by ``chunk``, in order.

        A malformed or oversized event raises only after every good event before it was
        delivered: nothing received is lost. (:meth:`decode` returns the same events as a
        list, and the error instead of raising it.)
        """
        events, error = self.decode(chunk)
        yield from events
        if error is not None:
            raise error


# ------------------------------------------------------------------- text completions

#: What a completion stream carries, once unknown event types are skipped.
CompletionEvent: TypeAlias = Completion | Ping | ErrorEvent

_completion_decoder = msgspec.json.Decoder(CompletionEvent)
_any_decoder = msgspec.json.Decoder()
_KNOWN_COMPLETION_EVENTS = frozenset({"completion", "ping", "error"})


def _decode_completions(payloads: list[bytes]) -> list[CompletionEvent] | None:
    try:
        return list(map(_completion_decoder.decode, payloads))
    except msgspec.MsgspecError:
        return None


def _decode_completion(data: bytes, name: str, offset: int) -> CompletionEvent | None:
    """One completion-stream event; ``None`` for an event type this version does not know.

    A known type with the wrong shape is a malformed stream, not a newer API feature.
    """
    try:
        return _completion_decoder.decode(data)
    except msgspec.ValidationError as exc:
        raw: Any = _any_decoder.decode(data)  # the typed pass parsed it: this cannot fail
        wire_type = raw.get("type") if isinstance(raw, dict) else None
        if wire_type in _KNOWN_COMPLETION_EVENTS or name in _KNOWN_COMPLETION_EVENTS:
            raise decode_error(exc, data, name, offset, "completion stream") from exc
        return None
    except msgspec.DecodeError as exc:
        raise decode_error(exc, data, name, offset, "completion stream") from exc


class CompletionStreamDecoder(StreamDecoder[CompletionEvent]):
    """Decode a Text Completions event stream from bytes: ``completion`` pieces, ``ping``
    and ``error`` events; events of unknown types are skipped.

    Args:
        max_event_size: the largest SSE event accepted, in bytes.
    """

    __slots__ = ()

    def __init__(self, *, max_event_size: int = DEFAULT_MAX_EVENT_SIZE) -> None:
        super().__init__(_decode_completions, _decode_completion, max_event_size=max_event_size)
