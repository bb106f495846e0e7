"""Encoders for relays: typed events back to the bytes a browser or a log expects.

:class:`SSEEncoder` is sans-I/O (one event in, one SSE frame out) and :func:`to_sse` /
:func:`to_jsonl` are the async operators on top. The JSON is the wire JSON: API field names,
fields this version of sluice does not model, and events, blocks and deltas of unknown
types are all written back as received (``sluice.to_json``), so a relay built on sluice
never hides a new API feature from its clients.

Speed: ``sluice.to_json`` walks the struct in Python to restore unknown fields. The hot
events (text, thinking, signature and tool-input deltas, ``content_block_stop``,
``message_stop``, ``ping``) and ``message_delta`` never carry those when they came off the
wire, so when a cheap check confirms it they go straight through ``msgspec.json.encode``,
which gives the same bytes about ten times faster (tests/ops/test_ops_encode.py checks the
equality on every recorded event).
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterable
from typing import Any, Final

import msgspec

from .._core._events import (
    ContentBlockDelta,
    ContentBlockStop,
    Event,
    InputJSONDelta,
    MessageDelta,
    MessageStop,
    Ping,
    SignatureDelta,
    TextDelta,
    ThinkingDelta,
    UnknownDelta,
    UnknownEvent,
)
from .._core._message import UnknownBlock
from .._core._serialize import to_json
from .._core._wire import Wire
from ._base import aclose_upstream

__all__ = ["SSEEncoder", "to_jsonl", "to_sse"]

_encode: Final = msgspec.json.Encoder().encode

# Deltas and events whose structs cannot hold anything msgspec would miss, unless
# something put an ``_extra`` on them (the decoder never does).
_PLAIN_DELTAS: Final[frozenset[type]] = frozenset(
    (TextDelta, InputJSONDelta, ThinkingDelta, SignatureDelta)
)
_PLAIN_EVENTS: Final[frozenset[type]] = frozenset((ContentBlockStop, MessageStop, Ping))
_UNKNOWN: Final = (UnknownBlock, UnknownDelta, UnknownEvent)


def _is_plain(value: Any) -> bool:
    """Whether ``msgspec.json.encode(value)`` equals ``to_json(value)``: no unknowns inside."""
    if isinstance(value, Wire):
        if isinstance(value, _UNKNOWN) or value.__dict__.get("_extra"):
            return False
        return all(_is_plain(getattr(value, name)) for name in value.__struct_fields__)
    if isinstance(value, list):
        return all(_is_plain(item) for item in value)
    if isinstance(value, dict):
        return all(_is_plain(item) for item in value.values())
    return True


def _event_json(event: Event) -> bytes:
    """One event as compact wire JSON: the bytes of ``sluice.to_json(event)``, faster.

    A lone surrogate (JSON allows ``"\\ud800"``; the decoder keeps it) cannot go through
    msgspec's UTF-8 encoder: ``to_json`` writes it back as the escape it arrived as.
    """
    try:
        return _fast_event_json(event)
    except UnicodeEncodeError:
        return to_json(event)


def _fast_event_json(event: Event) -> bytes:
    if type(event) is ContentBlockDelta:
        delta = event.delta
        if (
            type(delta) in _PLAIN_DELTAS
            and not delta.__dict__.get("_extra")
            and not event.__dict__.get("_extra")
        ):
            return _encode(event)
    elif type(event) in _PLAIN_EVENTS:
        if not event.__dict__.get("_extra"):
            return _encode(event)
    elif type(event) is MessageDelta and _is_plain(event):
        return _encode(event)
    return to_json(event)


class SSEEncoder:
    """Sans-I/O: events in, Server-Sent Events frames out, with increasing ids.

    Each frame is ``id: N``, ``event: TYPE`` and one ``data: JSON`` line, then a blank line
    (WHATWG HTML, 9.2 "Server-sent events"). The compact JSON never contains a raw line
    break, so one ``data`` line always suffices. Ids count up from ``start_id`` so that a
    browser's ``Last-Event-ID`` says how far it got.

    Args:
        start_id: the id of the first frame.
        include_ids: write the ``id:`` lines (set ``False`` to mimic the Anthropic API,
            which sends none).

    Example::

        encoder = SSEEncoder()
        for event in decoder.feed(chunk):
            send(encoder.encode(event))
    """

    __slots__ = ("_include_ids", "_next_id")

    def __init__(self, *, start_id: int = 1, include_ids: bool = True) -> None:
        self._next_id = start_id
        self._include_ids = include_ids

    def __repr__(self) -> str:
        return f"SSEEncoder(next_id={self._next_id}, include_ids={self._include_ids})"

    @property
    def next_id(self) -> int:
        """The id the next frame will get (ids advance even when not written)."""
        return self._next_id

    def encode(self, event: Event) -> bytes:
        """One event as an SSE frame.

        The ``event:`` name is the wire type; for an :class:`~sluice.UnknownEvent` it is the
        SSE event name it arrived with (or its ``type`` if it had none).

        Raises:
            ValueError: an ``UnknownEvent`` built by hand has a name with a line break,
                which cannot be written in SSE.
        """
        name = _NAMES.get(type(event))
        if name is None:
            name = _unknown_name(event)
        data = _event_json(event)
        event_id = self._next_id
        self._next_id = event_id + 1
        if self._include_ids:
            return b"id: %d\nevent: %s\ndata: %s\n\n" % (event_id, name, data)
        return b"event: %s\ndata: %s\n\n" % (name, data)


_NAMES: Final[dict[type, bytes]] = {
    cls: cls.type.encode() for cls in Event.__args__ if cls is not UnknownEvent
}


_STR_NAMES: Final[dict[type, str]] = {cls: name.decode() for cls, name in _NAMES.items()}


def event_item(event: Event) -> tuple[str, bytes]:
    """An event's SSE name and wire JSON, the two parts of its frame (for stores that
    keep events rather than frames: the relay's log).

    Raises:
        ValueError: as :meth:`SSEEncoder.encode`, for a name with a line break.
    """
    name = _STR_NAMES.get(type(event))
    if name is None:
        name = _unknown_name(event).decode()
    return name, _event_json(event)


def _unknown_name(event: Event) -> bytes:
    name = event.event if isinstance(event, UnknownEvent) and event.event else event.type
    if "\n" in name or "\r" in name:
        raise ValueError(f"an SSE event name cannot contain a line break: {name!r}")
    return name.encode()


async def to_sse(
    source: AsyncIterable[Event], *, start_id: int = 1, include_ids: bool = True
) -> AsyncGenerator[bytes, None]:
    """Each event as a Server-Sent Events frame (see :class:`SSEEncoder`), for relays.

    The frames decode back (``sluice.EventStreamDecoder``) to events equal to the input,
    unknown types and fields included.

    A ``MessageStream`` raises an in-stream ``error`` event as an exception instead of
    yielding it, and that exception propagates from here too (after closing the upstream).
    To pass the error on to your own client, use :class:`SSEEncoder` directly and send an
    ``error`` frame when you catch it (second example).

    Args:
        source: the events.
        start_id: the id of the first frame.
        include_ids: write ``id:`` lines.

    Raises:
        ValueError: see :meth:`SSEEncoder.encode`.

    Example::

        async for frame in ops.to_sse(stream):
            await send(frame)

        # Relaying in-stream errors as well:
        encoder = SSEEncoder()
        try:
            async for event in stream:
                await send(encoder.encode(event))
        except sluice.APIStreamError as exc:
            error = ErrorEvent(error=ErrorDetail(type=exc.error_type, message=exc.message))
            await send(encoder.encode(error))
    """
    encode = SSEEncoder(start_id=start_id, include_ids=include_ids).encode
    try:
        async for event in source:
            yield encode(event)
    finally:
        await aclose_upstream(source)


async def to_jsonl(source: AsyncIterable[Event]) -> AsyncGenerator[bytes, None]:
    """Each event as one line of compact wire JSON ending in ``\\n`` (JSON Lines).

    Args:
        source: the events.

    Example::

        async with await anyio.open_file("events.jsonl", "wb") as log:
            async for line in ops.to_jsonl(stream):
                await log.write(line)
    """
    try:
        async for event in source:
            yield _event_json(event) + b"\n"
    finally:
        await aclose_upstream(source)
