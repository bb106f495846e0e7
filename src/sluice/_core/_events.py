"""Typed events of the Messages streaming API, decoded straight from ``data:`` bytes.

Shapes follow the public Messages API reference ("Streaming Messages"). Every event and
delta is a tagged ``msgspec.Struct`` (see :mod:`._wire` and :mod:`._message` for the rules).
Unknown event and delta types never raise: they decode to :class:`UnknownEvent` /
:class:`UnknownDelta`, which carry the raw JSON.

One module-level ``msgspec.json.Decoder`` decodes every event. The hot events
(``content_block_delta``, ``ping``, ``content_block_stop``) cost one typed decode; the rare
ones that can carry unknown fields (``message_start``, ``content_block_start``,
``message_delta``, ``citations_delta``) are decoded a second time as plain JSON to capture
those fields.
"""

from __future__ import annotations

import json
from typing import Any, ClassVar, Literal, TypeAlias

import msgspec
from msgspec import UNSET, UnsetType

from ._exceptions import EventDecodeError
from ._message import (
    Citation,
    Container,
    ContentBlock,
    Message,
    OutputTokensDetails,
    ServerToolUsage,
    StopDetails,
    decode_block,
    decode_message,
)
from ._wire import UNKNOWN_TAG, Wire, attach_extras

__all__ = [
    "CitationsDelta",
    "ContentBlockDelta",
    "ContentBlockStart",
    "ContentBlockStop",
    "Delta",
    "ErrorDetail",
    "ErrorEvent",
    "Event",
    "InputJSONDelta",
    "MessageDelta",
    "MessageDeltaBody",
    "MessageDeltaUsage",
    "MessageStart",
    "MessageStop",
    "Ping",
    "SignatureDelta",
    "TextDelta",
    "ThinkingDelta",
    "UnknownDelta",
    "UnknownEvent",
    "decode_event",
    "decode_events",
]


class MessageDeltaUsage(Wire, kw_only=True, tag=False):
    """Cumulative usage sent with ``message_delta``; absent counters keep earlier values."""

    output_tokens: int | UnsetType = UNSET
    input_tokens: int | UnsetType | None = UNSET
    cache_creation_input_tokens: int | UnsetType | None = UNSET
    cache_read_input_tokens: int | UnsetType | None = UNSET
    server_tool_use: ServerToolUsage | UnsetType | None = UNSET
    output_tokens_details: OutputTokensDetails | UnsetType | None = UNSET


# ----------------------------------------------------------------------------------- deltas


class TextDelta(Wire, kw_only=True, tag="text_delta"):
    """More text for a ``text`` block."""

    type: ClassVar[Literal["text_delta"]] = "text_delta"
    text: str


class InputJSONDelta(Wire, kw_only=True, tag="input_json_delta"):
    """More of a tool call's input, as a fragment of JSON text."""

    type: ClassVar[Literal["input_json_delta"]] = "input_json_delta"
    partial_json: str


class ThinkingDelta(Wire, kw_only=True, tag="thinking_delta"):
    """More text for a ``thinking`` block."""

    type: ClassVar[Literal["thinking_delta"]] = "thinking_delta"
    thinking: str


class SignatureDelta(Wire, kw_only=True, tag="signature_delta"):
    """The signature of a ``thinking`` block, sent just before the block stops."""

    type: ClassVar[Literal["signature_delta"]] = "signature_delta"
    signature: str


class CitationsDelta(Wire, kw_only=True, tag="citations_delta"):
    """A citation to append to a ``text`` block."""

    type: ClassVar[Literal["citations_delta"]] = "citations_delta"
    citation: Citation


class UnknownDelta(Wire, kw_only=True, tag=UNKNOWN_TAG):
    """A delta of a type this version of sluice does not know; ``raw`` is its JSON."""

    raw: dict[str, Any] = msgspec.field(default_factory=dict)

    @property
    def type(self) -> str:
        """The delta's wire ``type``."""
        return str(self.raw.get("type", ""))


Delta: TypeAlias = (
    TextDelta | InputJSONDelta | ThinkingDelta | SignatureDelta | CitationsDelta | UnknownDelta
)

# ----------------------------------------------------------------------------------- events


class MessageStart(Wire, kw_only=True, tag="message_start"):
    """First event: the message shell (id, model, empty content, initial usage)."""

    type: ClassVar[Literal["message_start"]] = "message_start"
    message: Message


class ContentBlockStart(Wire, kw_only=True, tag="content_block_start"):
    """A content block begins at ``index``; server tool results arrive whole here."""

    type: ClassVar[Literal["content_block_start"]] = "content_block_start"
    index: int
    content_block: ContentBlock


class ContentBlockDelta(Wire, kw_only=True, tag="content_block_delta"):
    """More content for the block at ``index``."""

    type: ClassVar[Literal["content_block_delta"]] = "content_block_delta"
    index: int
    delta: Delta


class ContentBlockStop(Wire, kw_only=True, tag="content_block_stop"):
    """The block at ``index`` is complete."""

    type: ClassVar[Literal["content_block_stop"]] = "content_block_stop"
    index: int


class MessageDeltaBody(Wire, kw_only=True, tag=False):
    """Top-level message changes carried by ``message_delta``."""

    stop_reason: str | UnsetType | None = UNSET
    stop_sequence: str | UnsetType | None = UNSET
    stop_details: StopDetails | UnsetType | None = UNSET
    container: Container | UnsetType | None = UNSET


class MessageDelta(Wire, kw_only=True, tag="message_delta"):
    """Stop reason and cumulative usage, sent once near the end of the stream."""

    type: ClassVar[Literal["message_delta"]] = "message_delta"
    delta: MessageDeltaBody = msgspec.field(default_factory=MessageDeltaBody)
    usage: MessageDeltaUsage = msgspec.field(default_factory=MessageDeltaUsage)


class MessageStop(Wire, kw_only=True, tag="message_stop"):
    """Last event of a complete stream."""

    type: ClassVar[Literal["message_stop"]] = "message_stop"


class Ping(Wire, kw_only=True, tag="ping"):
    """Keep-alive; carries nothing."""

    type: ClassVar[Literal["ping"]] = "ping"


class ErrorDetail(Wire, kw_only=True, tag=False):
    """The ``error`` object of an error event or error response."""

    type: str
    message: str = ""


class ErrorEvent(Wire, kw_only=True, tag="error"):
    """An in-stream error (e.g. ``overloaded_error``); the stream ends after it."""

    type: ClassVar[Literal["error"]] = "error"
    error: ErrorDetail
    request_id: str | UnsetType | None = UNSET


class UnknownEvent(Wire, kw_only=True, tag=UNKNOWN_TAG):
    """An event of a type this version of sluice does not know.

    Attributes:
        event: the SSE event name.
        raw: the event's JSON as received (``None`` if the data was not a JSON object).
    """

    event: str = ""
    raw: Any = None

    @property
    def type(self) -> str:
        """The event's wire ``type`` (falls back to the SSE event name)."""
        if isinstance(self.raw, dict) and isinstance(self.raw.get("type"), str):
            return str(self.raw["type"])
        return self.event


Event: TypeAlias = (
    MessageStart
    | ContentBlockStart
    | ContentBlockDelta
    | ContentBlockStop
    | MessageDelta
    | MessageStop
    | Ping
    | ErrorEvent
    | UnknownEvent
)

# --------------------------------------------------------------------------------- decoding


class _RawMessageStart(Wire, kw_only=True, tag="message_start"):
    message: msgspec.Raw


class _RawContentBlockStart(Wire, kw_only=True, tag="content_block_start"):
    index: int
    content_block: msgspec.Raw


_event_decoder = msgspec.json.Decoder(
    ContentBlockDelta
    | Ping
    | ContentBlockStop
    | _RawContentBlockStart
    | _RawMessageStart
    | MessageDelta
    | MessageStop
    | ErrorEvent
)
_any_decoder = msgspec.json.Decoder()

_KNOWN_DELTA_TYPES = frozenset(
    cls.__struct_config__.tag for cls in Delta.__args__ if cls is not UnknownDelta
)


def _lenient(data: bytes, name: str, offset: int) -> Event:
    """Slow path for an event the typed decoder rejected: unknown types or changed shapes."""
    try:
        raw = _any_decoder.decode(data)
    except msgspec.DecodeError:  # a lone surrogate escape, or not JSON at all
        fallback = _python_fallback(data, name)
        if fallback is None:
            raise
        return fallback if isinstance(fallback, UnknownEvent) else fallback[0]
    wire_type = raw.get("type") if isinstance(raw, dict) else None
    if wire_type == "content_block_delta" and isinstance(raw.get("delta"), dict):
        index = raw.get("index")
        if isinstance(index, int) and raw["delta"].get("type") not in _KNOWN_DELTA_TYPES:
            delta: Delta = UnknownDelta(raw=raw["delta"])
            return ContentBlockDelta(index=index, delta=delta)
    if wire_type in _EVENT_TYPES:
        # A known event whose shape is wrong: this is a malformed stream, not a new feature.
        _event_decoder.decode(data)  # re-raise the precise ValidationError
    return UnknownEvent(event=name, raw=raw)


_EVENT_TYPES = frozenset(
    {
        "message_start",
        "content_block_start",
        "content_block_delta",
        "content_block_stop",
        "message_delta",
        "message_stop",
        "ping",
        "error",
    }
)


#: What a hostile or broken payload can make the decoders raise besides msgspec's own
#: errors: nesting deeper than the interpreter's stack (RecursionError), a JSON number
#: too long for int() (ValueError), a lone surrogate where UTF-8 is needed (UnicodeError),
#: a non-string where a string is expected (TypeError). Each becomes an EventDecodeError.
_MALFORMED = (msgspec.MsgspecError, RecursionError, ValueError, UnicodeError, TypeError)


def decode_event(data: bytes, name: str = "", offset: int = 0) -> Event:
    """Decode one SSE ``data`` payload into a typed event.

    Args:
        data: the event's ``data`` bytes (JSON).
        name: the SSE ``event:`` name, used for unknown events and error messages.
        offset: byte offset of the event in the stream, for error messages.

    Raises:
        EventDecodeError: the data is not JSON, is nested too deeply, or a known event type
            has the wrong shape. Nothing else escapes, whatever the bytes.
    """
    try:
        return _decode_event(data, name, offset)
    except _MALFORMED as exc:
        raise decode_error(exc, data, name, offset) from None


def _decode_event(data: bytes, name: str, offset: int) -> Event:
    raw: Any = None
    try:
        event: Any = _event_decoder.decode(data)
    except msgspec.ValidationError:
        return _lenient(data, name, offset)
    except msgspec.DecodeError:
        fallback = _python_fallback(data, name)
        if fallback is None:
            raise
        if isinstance(fallback, UnknownEvent):
            return fallback
        event, raw = fallback
    if type(event) is ContentBlockDelta and type(event.delta) is not CitationsDelta:
        return event
    return _second_pass(event, data, raw)


def decode_events(payloads: list[bytes]) -> list[Event] | None:
    """Decode the ``data`` payloads of many events at once: the hot path of every reader.

    The same events as :func:`decode_event` on each payload, for the payloads it decodes
    with one typed pass (and a second one for the rare events that can carry unknown
    fields). ``None`` if any payload needs more care (an unknown event or delta type, a
    malformed event, a lone surrogate): then decode each with :func:`decode_event`, which
    tells which event failed and why.
    """
    try:
        # One C-level pass over the payloads; as fast as joining them into one JSON array
        # for a single decode, and a payload can never pass for two events.
        events: list[Any] = list(map(_event_decoder.decode, payloads))
        block_delta, citations = ContentBlockDelta, CitationsDelta
        for index, event in enumerate(events):
            if type(event) is not block_delta or type(event.delta) is citations:
                events[index] = _second_pass(event, payloads[index], None)
    except _MALFORMED:
        return None
    return events


def _second_pass(event: Any, data: bytes, raw: Any) -> Event:
    """Finish an event of the typed union that is not a plain delta.

    ``message_start`` and ``content_block_start`` arrive with their message or block
    undecoded (unknown block types and fields are kept by ``decode_message``/
    ``decode_block``); ``message_delta`` and ``citations_delta`` get the fields this version
    does not model, from a second, untyped decode (``raw``, when the caller has it).

    Raises:
        msgspec.MsgspecError: the message or block does not decode.
    """
    cls = type(event)
    if cls is ContentBlockDelta:
        if type(event.delta) is CitationsDelta:
            if raw is None:
                raw = _untyped(data)
            if isinstance(raw, dict):
                attach_extras(event.delta, raw.get("delta"))
        return event  # type: ignore[no-any-return]
    if cls is _RawContentBlockStart:
        return ContentBlockStart(index=event.index, content_block=decode_block(event.content_block))
    if cls is MessageDelta:
        # Once per stream: keep fields this version does not model, for relays.
        attach_extras(event, _untyped(data))
        return event  # type: ignore[no-any-return]
    if cls is _RawMessageStart:
        return MessageStart(message=decode_message(event.message))
    return event  # type: ignore[no-any-return]


def _untyped(data: bytes) -> Any:
    """The event's JSON, for the fields this version does not model; ``None`` when one of
    those is not valid UTF-8 (the typed event, which skipped it, is kept without them)."""
    try:
        return _any_decoder.decode(data)
    except msgspec.DecodeError:
        return None


def _python_fallback(
    data: bytes, name: str
) -> tuple[ContentBlockDelta, dict[str, Any]] | UnknownEvent | None:
    """Decode an event that msgspec refuses but JSON allows: a lone surrogate escape.

    ``"\\ud800"`` is valid JSON yet not valid UTF-8, so msgspec reports it as truncated
    input. The stdlib parser accepts it. Deltas carry model text, so they are retried this
    way: a known delta keeps its text (and any unknown field, under whatever name), an
    unknown delta type (even a lone surrogate) becomes an :class:`UnknownDelta`. An event
    of a type this version does not know passes through as an :class:`UnknownEvent`, as
    any other would. Returns the delta and its JSON, or the unknown event; ``None`` if
    the data is not JSON either.

    Raises:
        msgspec.DecodeError: a known event other than a delta holds a lone surrogate
            (saying so, rather than msgspec's "truncated").
    """
    try:
        raw = json.loads(data)
    except ValueError:  # not JSON, or a number longer than int() takes
        return None
    wire_type = raw.get("type") if isinstance(raw, dict) else None
    if not isinstance(wire_type, str):
        return None
    if wire_type not in _EVENT_TYPES:
        return UnknownEvent(event=name, raw=raw)
    if wire_type != "content_block_delta":
        raise msgspec.DecodeError(
            f"this {wire_type} event holds a lone UTF-16 surrogate escape (such as "
            "\\ud800): valid JSON, but not Unicode text"
        )
    delta, index = raw.get("delta"), raw.get("index")
    if not isinstance(delta, dict) or not isinstance(index, int) or isinstance(index, bool):
        return None
    kind = delta.get("type")
    cls = _DELTAS_BY_TYPE.get(kind) if isinstance(kind, str) else None
    if cls is None:
        return ContentBlockDelta(index=index, delta=UnknownDelta(raw=delta)), raw
    declared = cls.__struct_encode_fields__
    try:
        typed = msgspec.convert({k: v for k, v in delta.items() if k in declared}, cls)
    except msgspec.ValidationError:
        return None
    attach_extras(typed, delta)
    return ContentBlockDelta(index=index, delta=typed), raw


_DELTAS_BY_TYPE: dict[str, type[Any]] = {
    cls.__struct_config__.tag: cls for cls in Delta.__args__ if cls is not UnknownDelta
}


def decode_error(
    exc: Exception, data: bytes, name: str, offset: int, where: str = "response"
) -> EventDecodeError:
    """The :class:`EventDecodeError` of ``data`` (the event ``name`` at byte ``offset``
    of the ``where``), showing its first bytes."""
    preview = data[:200].decode("utf-8", "replace")
    more = "..." if len(data) > 200 else ""
    return EventDecodeError(
        f"could not decode SSE event {name or '(unnamed)'!r} at byte {offset} of the "
        f"{where}: {exc}; data was {preview!r}{more}",
        event=name,
        data=data,
        offset=offset,
    )
