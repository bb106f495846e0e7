"""Typed events of the Messages streaming API, decoded straight from ``data:`` bytes.

Shapes follow the public Messages API reference ("Streaming Messages" and the ``Message``
object). Design rules:

* Every wire object is a ``msgspec.Struct`` tagged by its wire ``type`` field and exposes that
  as a class attribute (``event.type == "content_block_delta"``), as the official SDK does.
* Optional fields default to ``msgspec.UNSET``: a field the wire did not send stays absent when
  re-encoded, a field sent as ``null`` stays ``null``. This reproduces, byte for byte, what the
  official SDK's ``to_dict()`` returns for the same stream.
* Enumerations (``stop_reason``, ``service_tier``...) are plain ``str``: a new value from the
  API is data, not a crash.
* Unknown event, block, delta and citation types never raise: they decode to
  :class:`UnknownEvent` / :class:`UnknownBlock` / :class:`UnknownDelta`, which carry the raw
  JSON. Unknown *fields* on messages, usage and blocks are kept (see ``_serialize``) so they
  survive accumulation and re-encoding.
* One module-level ``msgspec.json.Decoder`` decodes every event. The hot events
  (``content_block_delta``, ``ping``, ``content_block_stop``) cost one typed decode; the rare
  ones that can carry unknown fields (``message_start``, ``content_block_start``,
  ``message_delta``, ``citations_delta``) are decoded a second time as plain JSON to
  capture those fields.
"""

from __future__ import annotations

import json
from typing import Any, ClassVar, Literal, TypeAlias

import msgspec
from msgspec import UNSET, UnsetType

from ._exceptions import EventDecodeError

__all__ = [
    "BashCodeExecutionOutput",
    "BashCodeExecutionResult",
    "BashCodeExecutionToolResultBlock",
    "BashCodeExecutionToolResultError",
    "CacheCreation",
    "Citation",
    "CitationCharLocation",
    "CitationContentBlockLocation",
    "CitationPageLocation",
    "CitationsDelta",
    "CitationsSearchResultLocation",
    "CitationsWebSearchResultLocation",
    "CodeExecutionOutput",
    "CodeExecutionResult",
    "CodeExecutionToolResultBlock",
    "CodeExecutionToolResultError",
    "Container",
    "ContainerUploadBlock",
    "ContentBlock",
    "ContentBlockDelta",
    "ContentBlockStart",
    "ContentBlockStop",
    "Delta",
    "EncryptedCodeExecutionResult",
    "ErrorDetail",
    "ErrorEvent",
    "Event",
    "InputJSONDelta",
    "MCPToolResultBlock",
    "MCPToolUseBlock",
    "Message",
    "MessageDelta",
    "MessageDeltaBody",
    "MessageDeltaUsage",
    "MessageStart",
    "MessageStop",
    "OutputTokensDetails",
    "Ping",
    "RedactedThinkingBlock",
    "ServerToolUsage",
    "ServerToolUseBlock",
    "SignatureDelta",
    "StopDetails",
    "TextBlock",
    "TextDelta",
    "TextEditorCodeExecutionToolResultBlock",
    "ThinkingBlock",
    "ThinkingDelta",
    "ToolSearchToolResultBlock",
    "ToolUseBlock",
    "UnknownBlock",
    "UnknownDelta",
    "UnknownEvent",
    "Usage",
    "WebFetchResult",
    "WebFetchToolResultBlock",
    "WebFetchToolResultError",
    "WebSearchResult",
    "WebSearchToolResultBlock",
    "WebSearchToolResultError",
    "decode_event",
    "decode_message",
]

# The tag of the Unknown* placeholders. It can never match a real wire type, so the
# placeholders can sit in the decoding unions (msgspec needs every member tagged) while the
# real wire type of an unknown value lives in its ``raw`` JSON.
_UNKNOWN = "\x00unknown"


class Wire(
    msgspec.Struct,
    kw_only=True,
    tag_field="type",
    dict=True,  # a __dict__ to hold fields the model does not know yet (off the wire)
    repr_omit_defaults=True,
):
    """Base of every wire struct."""


# --------------------------------------------------------------------------------- usage


class CacheCreation(Wire, kw_only=True, tag=False):
    """Breakdown of cache-creation input tokens by cache TTL."""

    ephemeral_5m_input_tokens: int | UnsetType = UNSET
    ephemeral_1h_input_tokens: int | UnsetType = UNSET


class ServerToolUsage(Wire, kw_only=True, tag=False):
    """Number of server tool requests made while producing the message."""

    web_search_requests: int | UnsetType = UNSET
    web_fetch_requests: int | UnsetType = UNSET


class OutputTokensDetails(Wire, kw_only=True, tag=False):
    """Breakdown of output tokens (e.g. how many were spent thinking)."""

    thinking_tokens: int | UnsetType = UNSET


class Usage(Wire, kw_only=True, tag=False):
    """Token usage of a message. In a stream, counts are cumulative totals."""

    input_tokens: int = 0
    output_tokens: int = 0
    cache_creation_input_tokens: int | UnsetType | None = UNSET
    cache_read_input_tokens: int | UnsetType | None = UNSET
    cache_creation: CacheCreation | UnsetType | None = UNSET
    server_tool_use: ServerToolUsage | UnsetType | None = UNSET
    output_tokens_details: OutputTokensDetails | UnsetType | None = UNSET
    service_tier: str | UnsetType | None = UNSET
    inference_geo: str | UnsetType | None = UNSET
    speed: str | UnsetType | None = UNSET


class MessageDeltaUsage(Wire, kw_only=True, tag=False):
    """Cumulative usage sent with ``message_delta``; absent counters keep earlier values."""

    output_tokens: int | UnsetType = UNSET
    input_tokens: int | UnsetType | None = UNSET
    cache_creation_input_tokens: int | UnsetType | None = UNSET
    cache_read_input_tokens: int | UnsetType | None = UNSET
    server_tool_use: ServerToolUsage | UnsetType | None = UNSET
    output_tokens_details: OutputTokensDetails | UnsetType | None = UNSET


class Container(Wire, kw_only=True, tag=False):
    """The code-execution container used by the request."""

    id: str
    expires_at: str
    skills: list[dict[str, Any]] | UnsetType | None = UNSET


class StopDetails(Wire, kw_only=True, tag=False):
    """Structured detail on why output stopped (e.g. a refusal's category)."""

    type: str
    category: str | UnsetType | None = UNSET
    explanation: str | UnsetType | None = UNSET


# ----------------------------------------------------------------------------- citations


class CitationCharLocation(Wire, kw_only=True, tag="char_location"):
    """A citation of a plain-text document by character range."""

    type: ClassVar[Literal["char_location"]] = "char_location"
    cited_text: str
    document_index: int
    document_title: str | UnsetType | None = UNSET
    start_char_index: int
    end_char_index: int
    file_id: str | UnsetType | None = UNSET


class CitationPageLocation(Wire, kw_only=True, tag="page_location"):
    """A citation of a PDF document by page range."""

    type: ClassVar[Literal["page_location"]] = "page_location"
    cited_text: str
    document_index: int
    document_title: str | UnsetType | None = UNSET
    start_page_number: int
    end_page_number: int
    file_id: str | UnsetType | None = UNSET


class CitationContentBlockLocation(Wire, kw_only=True, tag="content_block_location"):
    """A citation of a custom-content document by content block range."""

    type: ClassVar[Literal["content_block_location"]] = "content_block_location"
    cited_text: str
    document_index: int
    document_title: str | UnsetType | None = UNSET
    start_block_index: int
    end_block_index: int
    file_id: str | UnsetType | None = UNSET


class CitationsWebSearchResultLocation(Wire, kw_only=True, tag="web_search_result_location"):
    """A citation of a web search result."""

    type: ClassVar[Literal["web_search_result_location"]] = "web_search_result_location"
    cited_text: str
    url: str
    title: str | UnsetType | None = UNSET
    encrypted_index: str


class CitationsSearchResultLocation(Wire, kw_only=True, tag="search_result_location"):
    """A citation of a ``search_result`` content block supplied in the request."""

    type: ClassVar[Literal["search_result_location"]] = "search_result_location"
    cited_text: str
    source: str
    title: str | UnsetType | None = UNSET
    search_result_index: int
    start_block_index: int
    end_block_index: int


Citation: TypeAlias = (
    CitationCharLocation
    | CitationPageLocation
    | CitationContentBlockLocation
    | CitationsWebSearchResultLocation
    | CitationsSearchResultLocation
)

# ------------------------------------------------------------------------ content blocks


class TextBlock(Wire, kw_only=True, tag="text"):
    """Text written by the model, with the citations that support it."""

    type: ClassVar[Literal["text"]] = "text"
    text: str = ""
    citations: list[Citation] | UnsetType | None = UNSET


class ThinkingBlock(Wire, kw_only=True, tag="thinking"):
    """Extended-thinking text; ``signature`` must be passed back unchanged in later turns."""

    type: ClassVar[Literal["thinking"]] = "thinking"
    thinking: str = ""
    signature: str | UnsetType = UNSET


class RedactedThinkingBlock(Wire, kw_only=True, tag="redacted_thinking"):
    """Thinking flagged by safety systems, delivered encrypted in ``data``."""

    type: ClassVar[Literal["redacted_thinking"]] = "redacted_thinking"
    data: str


class ToolUseBlock(Wire, kw_only=True, tag="tool_use"):
    """A call of a client tool; ``input`` is complete once the block stops."""

    type: ClassVar[Literal["tool_use"]] = "tool_use"
    id: str
    name: str
    input: Any = msgspec.field(default_factory=dict)
    caller: dict[str, Any] | UnsetType | None = UNSET


class ServerToolUseBlock(Wire, kw_only=True, tag="server_tool_use"):
    """A call of a server tool (web search, web fetch, code execution...) run by the API."""

    type: ClassVar[Literal["server_tool_use"]] = "server_tool_use"
    id: str
    name: str
    input: Any = msgspec.field(default_factory=dict)
    caller: dict[str, Any] | UnsetType | None = UNSET


class WebSearchResult(Wire, kw_only=True, tag="web_search_result"):
    """One web search hit."""

    type: ClassVar[Literal["web_search_result"]] = "web_search_result"
    url: str
    title: str
    encrypted_content: str
    page_age: str | UnsetType | None = UNSET


class WebSearchToolResultError(Wire, kw_only=True, tag="web_search_tool_result_error"):
    """A failed web search (``error_code`` such as ``max_uses_exceeded``)."""

    type: ClassVar[Literal["web_search_tool_result_error"]] = "web_search_tool_result_error"
    error_code: str


class WebSearchToolResultBlock(Wire, kw_only=True, tag="web_search_tool_result"):
    """The results of a ``web_search`` server tool call."""

    type: ClassVar[Literal["web_search_tool_result"]] = "web_search_tool_result"
    tool_use_id: str
    content: list[WebSearchResult] | WebSearchToolResultError
    caller: dict[str, Any] | UnsetType | None = UNSET


class WebFetchResult(Wire, kw_only=True, tag="web_fetch_result"):
    """A fetched page, as a ``document`` content block."""

    type: ClassVar[Literal["web_fetch_result"]] = "web_fetch_result"
    url: str
    content: dict[str, Any]
    retrieved_at: str | UnsetType | None = UNSET


class WebFetchToolResultError(Wire, kw_only=True, tag="web_fetch_tool_result_error"):
    """A failed web fetch."""

    type: ClassVar[Literal["web_fetch_tool_result_error"]] = "web_fetch_tool_result_error"
    error_code: str


class WebFetchToolResultBlock(Wire, kw_only=True, tag="web_fetch_tool_result"):
    """The result of a ``web_fetch`` server tool call."""

    type: ClassVar[Literal["web_fetch_tool_result"]] = "web_fetch_tool_result"
    tool_use_id: str
    content: WebFetchResult | WebFetchToolResultError
    caller: dict[str, Any] | UnsetType | None = UNSET


class CodeExecutionOutput(Wire, kw_only=True, tag="code_execution_output"):
    """A file produced by code execution."""

    type: ClassVar[Literal["code_execution_output"]] = "code_execution_output"
    file_id: str


class CodeExecutionResult(Wire, kw_only=True, tag="code_execution_result"):
    """Output of a ``code_execution`` run."""

    type: ClassVar[Literal["code_execution_result"]] = "code_execution_result"
    stdout: str
    stderr: str
    return_code: int
    content: list[CodeExecutionOutput] = msgspec.field(default_factory=list)


class EncryptedCodeExecutionResult(Wire, kw_only=True, tag="encrypted_code_execution_result"):
    """Output of a ``code_execution`` run whose stdout is encrypted."""

    type: ClassVar[Literal["encrypted_code_execution_result"]] = "encrypted_code_execution_result"
    encrypted_stdout: str
    stderr: str
    return_code: int
    content: list[CodeExecutionOutput] = msgspec.field(default_factory=list)


class CodeExecutionToolResultError(Wire, kw_only=True, tag="code_execution_tool_result_error"):
    """A failed code execution."""

    type: ClassVar[Literal["code_execution_tool_result_error"]] = "code_execution_tool_result_error"
    error_code: str


class CodeExecutionToolResultBlock(Wire, kw_only=True, tag="code_execution_tool_result"):
    """The result of a ``code_execution`` server tool call."""

    type: ClassVar[Literal["code_execution_tool_result"]] = "code_execution_tool_result"
    tool_use_id: str
    content: CodeExecutionResult | EncryptedCodeExecutionResult | CodeExecutionToolResultError


class BashCodeExecutionOutput(Wire, kw_only=True, tag="bash_code_execution_output"):
    """A file produced by a bash command in the container."""

    type: ClassVar[Literal["bash_code_execution_output"]] = "bash_code_execution_output"
    file_id: str


class BashCodeExecutionResult(Wire, kw_only=True, tag="bash_code_execution_result"):
    """Output of a bash command run in the code-execution container."""

    type: ClassVar[Literal["bash_code_execution_result"]] = "bash_code_execution_result"
    stdout: str
    stderr: str
    return_code: int
    content: list[BashCodeExecutionOutput] = msgspec.field(default_factory=list)


class BashCodeExecutionToolResultError(
    Wire, kw_only=True, tag="bash_code_execution_tool_result_error"
):
    """A failed bash command."""

    type: ClassVar[Literal["bash_code_execution_tool_result_error"]] = (
        "bash_code_execution_tool_result_error"
    )
    error_code: str


class BashCodeExecutionToolResultBlock(Wire, kw_only=True, tag="bash_code_execution_tool_result"):
    """The result of a ``bash_code_execution`` server tool call."""

    type: ClassVar[Literal["bash_code_execution_tool_result"]] = "bash_code_execution_tool_result"
    tool_use_id: str
    content: BashCodeExecutionResult | BashCodeExecutionToolResultError


class TextEditorCodeExecutionToolResultBlock(
    Wire, kw_only=True, tag="text_editor_code_execution_tool_result"
):
    """The result of a ``text_editor_code_execution`` call (view/create/str_replace/error)."""

    type: ClassVar[Literal["text_editor_code_execution_tool_result"]] = (
        "text_editor_code_execution_tool_result"
    )
    tool_use_id: str
    content: dict[str, Any]


class ToolSearchToolResultBlock(Wire, kw_only=True, tag="tool_search_tool_result"):
    """The result of a tool-search server tool call (the tool references it found)."""

    type: ClassVar[Literal["tool_search_tool_result"]] = "tool_search_tool_result"
    tool_use_id: str
    content: dict[str, Any]


class ContainerUploadBlock(Wire, kw_only=True, tag="container_upload"):
    """A file uploaded into the code-execution container."""

    type: ClassVar[Literal["container_upload"]] = "container_upload"
    file_id: str


class MCPToolUseBlock(Wire, kw_only=True, tag="mcp_tool_use"):
    """A call of a tool on a remote MCP server (MCP connector)."""

    type: ClassVar[Literal["mcp_tool_use"]] = "mcp_tool_use"
    id: str
    name: str
    server_name: str
    input: Any = msgspec.field(default_factory=dict)


class MCPToolResultBlock(Wire, kw_only=True, tag="mcp_tool_result"):
    """The result of an MCP tool call."""

    type: ClassVar[Literal["mcp_tool_result"]] = "mcp_tool_result"
    tool_use_id: str
    is_error: bool | UnsetType = UNSET
    content: Any = UNSET


class UnknownBlock(Wire, kw_only=True, tag=_UNKNOWN):
    """A content block of a type this version of sluice does not know.

    ``raw`` is the block's JSON as received; accumulation keeps the block as-is and
    re-encoding writes ``raw`` back unchanged.
    """

    raw: dict[str, Any] = msgspec.field(default_factory=dict)

    @property
    def type(self) -> str:
        """The block's wire ``type``."""
        return str(self.raw.get("type", ""))


ContentBlock: TypeAlias = (
    TextBlock
    | ThinkingBlock
    | RedactedThinkingBlock
    | ToolUseBlock
    | ServerToolUseBlock
    | WebSearchToolResultBlock
    | WebFetchToolResultBlock
    | CodeExecutionToolResultBlock
    | BashCodeExecutionToolResultBlock
    | TextEditorCodeExecutionToolResultBlock
    | ToolSearchToolResultBlock
    | ContainerUploadBlock
    | MCPToolUseBlock
    | MCPToolResultBlock
    | UnknownBlock
)

# ---------------------------------------------------------------------------- the message


class Message(Wire, kw_only=True, tag="message"):
    """A message from the model: the ``message_start`` payload, or the accumulated result."""

    type: ClassVar[Literal["message"]] = "message"
    id: str
    role: str = "assistant"
    model: str = ""
    content: list[ContentBlock] = msgspec.field(default_factory=list)
    stop_reason: str | UnsetType | None = UNSET
    stop_sequence: str | UnsetType | None = UNSET
    stop_details: StopDetails | UnsetType | None = UNSET
    container: Container | UnsetType | None = UNSET
    usage: Usage = msgspec.field(default_factory=Usage)


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


class UnknownDelta(Wire, kw_only=True, tag=_UNKNOWN):
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


class UnknownEvent(Wire, kw_only=True, tag=_UNKNOWN):
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


class _RawMessage(Wire, kw_only=True, tag="message"):
    # Content blocks are decoded one by one so that an unknown block cannot fail the message.
    content: list[msgspec.Raw] = msgspec.field(default_factory=list)


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
_block_decoder = msgspec.json.Decoder(ContentBlock)
_message_decoder = msgspec.json.Decoder(Message)
_raw_message_decoder = msgspec.json.Decoder(_RawMessage)
_citation_decoder = msgspec.json.Decoder(Citation)
_delta_decoder = msgspec.json.Decoder(Delta)
_any_decoder = msgspec.json.Decoder()

_KNOWN_DELTA_TYPES = frozenset(
    cls.__struct_config__.tag for cls in Delta.__args__ if cls is not UnknownDelta
)


_OPAQUE = frozenset({UnknownBlock, UnknownDelta, UnknownEvent})  # extras: raw holds all


def _attach_extras(obj: Any, raw: Any) -> None:
    """Remember keys of ``raw`` that ``obj``'s struct does not declare, recursively.

    They are stored off-wire in the struct's ``__dict__`` and written back by ``_serialize``.
    """
    if not isinstance(raw, dict) or type(obj) in _OPAQUE:
        return
    fields = type(obj).__struct_encode_fields__
    extra = None
    for key, value in raw.items():
        if key == "type":
            continue
        if key not in fields:
            if extra is None:
                extra = {}
            extra[key] = value
            continue
        attr = getattr(obj, key, None)
        if isinstance(attr, Wire):
            _attach_extras(attr, value)
        elif isinstance(attr, list) and isinstance(value, list):
            for item, raw_item in zip(attr, value, strict=False):
                if isinstance(item, Wire):
                    _attach_extras(item, raw_item)
    if extra is not None:
        obj._extra = extra


def decode_block(raw: bytes | msgspec.Raw) -> ContentBlock:
    """Decode one content block; a block of an unknown type becomes an :class:`UnknownBlock`.

    A block of a *known* type whose nested shape this version does not understand (a new
    result variant of a server tool, say) is also kept whole as an ``UnknownBlock`` rather
    than failing the stream.

    Raises:
        msgspec.DecodeError: the bytes are not a JSON object.
    """
    as_json = _any_decoder.decode(raw)
    if not isinstance(as_json, dict):
        raise msgspec.ValidationError("a content block must be a JSON object")
    try:
        block: ContentBlock = _block_decoder.decode(raw)
    except msgspec.ValidationError:
        return UnknownBlock(raw=as_json)
    _attach_extras(block, as_json)
    return block


def decode_message(raw: bytes | msgspec.Raw) -> Message:
    """Decode a ``Message`` object (a ``message_start`` payload or a non-streaming response).

    Unknown content block types become :class:`UnknownBlock`; unknown fields are kept.

    Raises:
        msgspec.MsgspecError: the bytes are not valid JSON for a message.
    """
    as_json = _any_decoder.decode(raw)
    try:
        message = _message_decoder.decode(raw)
    except msgspec.ValidationError:
        # Some block failed: decode the shell, then each block on its own.
        shell = _raw_message_decoder.decode(raw)
        message = msgspec.convert({**as_json, "content": []}, Message)
        message.content = [decode_block(block) for block in shell.content]
    _attach_extras(message, as_json)
    return message


def _lenient(data: bytes, name: str, offset: int) -> Event:
    """Slow path for an event the typed decoder rejected: unknown types or changed shapes."""
    raw = _any_decoder.decode(data)
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


def decode_event(data: bytes, name: str = "", offset: int = 0) -> Event:
    """Decode one SSE ``data`` payload into a typed event.

    Args:
        data: the event's ``data`` bytes (JSON).
        name: the SSE ``event:`` name, used for unknown events and error messages.
        offset: byte offset of the event in the stream, for error messages.

    Raises:
        EventDecodeError: the data is not JSON, or a known event type has the wrong shape.
    """
    try:
        event: Any = _event_decoder.decode(data)
    except msgspec.ValidationError:
        try:
            return _lenient(data, name, offset)
        except msgspec.MsgspecError as exc:
            raise _decode_error(exc, data, name, offset) from exc
    except msgspec.DecodeError as exc:
        event = _python_fallback(data)
        if event is None:
            raise _decode_error(exc, data, name, offset) from exc
    cls = type(event)
    if cls is ContentBlockDelta:
        if type(event.delta) is CitationsDelta:
            _attach_extras(event.delta, _any_decoder.decode(data).get("delta"))
        return event  # type: ignore[no-any-return]  # (typing.cast costs a call per event)
    if cls is _RawContentBlockStart:
        try:
            block = decode_block(event.content_block)
        except msgspec.MsgspecError as exc:
            raise _decode_error(exc, data, name, offset) from exc
        return ContentBlockStart(index=event.index, content_block=block)
    if cls is MessageDelta:
        # Once per stream: keep fields this version does not model, for relays.
        _attach_extras(event, _any_decoder.decode(data))
        return event  # type: ignore[no-any-return]
    if cls is _RawMessageStart:
        try:
            message = decode_message(event.message)
        except msgspec.MsgspecError as exc:
            raise _decode_error(exc, data, name, offset) from exc
        return MessageStart(message=message)
    return event  # type: ignore[no-any-return]


def _python_fallback(data: bytes) -> ContentBlockDelta | None:
    """Decode a delta that msgspec refuses but JSON allows: a lone surrogate escape.

    ``"\\ud800"`` is valid JSON yet not valid UTF-8, so msgspec reports it as truncated
    input. The stdlib parser accepts it; only deltas carry model text, so only they are
    retried this way. Anything else stays a decode error.
    """
    try:
        raw = json.loads(data)
    except ValueError:
        return None
    if not isinstance(raw, dict) or raw.get("type") != "content_block_delta":
        return None
    try:
        return msgspec.convert(raw, ContentBlockDelta)
    except msgspec.ValidationError:
        return None


def _decode_error(exc: Exception, data: bytes, name: str, offset: int) -> EventDecodeError:
    preview = data[:200].decode("utf-8", "replace")
    more = "..." if len(data) > 200 else ""
    return EventDecodeError(
        f"could not decode SSE event {name or '(unnamed)'!r} at byte {offset} of the "
        f"response: {exc}; data was {preview!r}{more}",
        event=name,
        data=data,
        offset=offset,
    )
