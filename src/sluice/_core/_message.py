"""The ``Message`` object: content blocks, citations and usage, as the API sends them.

Shapes follow the public Messages API reference (the ``Message`` object and its content
blocks). This is what ``message_start`` carries, what accumulation builds, and what
``messages.create`` returns. Design rules (see also :mod:`._wire`):

* Every wire object is a ``msgspec.Struct`` tagged by its wire ``type`` field and exposes that
  as a class attribute (``block.type == "text"``), as the official SDK does.
* Optional fields default to ``msgspec.UNSET``: a field the wire did not send stays absent when
  re-encoded, a field sent as ``null`` stays ``null``. This reproduces, byte for byte, what the
  official SDK's ``to_dict()`` returns for the same stream.
* Enumerations (``stop_reason``, ``service_tier``...) are plain ``str``: a new value from the
  API is data, not a crash.
* A content block of an unknown type (or of a known type in a shape this version does not
  understand) decodes to :class:`UnknownBlock`, which carries the raw JSON; unknown fields
  are kept off-wire and written back by ``sluice.to_json``.
"""

from __future__ import annotations

from typing import Any, ClassVar, Literal, TypeAlias

import msgspec
from msgspec import UNSET, UnsetType

from ._wire import UNKNOWN_TAG, Wire, attach_extras

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
    "CitationsSearchResultLocation",
    "CitationsWebSearchResultLocation",
    "CodeExecutionOutput",
    "CodeExecutionResult",
    "CodeExecutionToolResultBlock",
    "CodeExecutionToolResultError",
    "Container",
    "ContainerUploadBlock",
    "ContentBlock",
    "EncryptedCodeExecutionResult",
    "MCPToolResultBlock",
    "MCPToolUseBlock",
    "Message",
    "OutputTokensDetails",
    "RedactedThinkingBlock",
    "ServerToolUsage",
    "ServerToolUseBlock",
    "StopDetails",
    "TextBlock",
    "TextEditorCodeExecutionToolResultBlock",
    "ThinkingBlock",
    "ToolSearchToolResultBlock",
    "ToolUseBlock",
    "UnknownBlock",
    "Usage",
    "WebFetchResult",
    "WebFetchToolResultBlock",
    "WebFetchToolResultError",
    "WebSearchResult",
    "WebSearchToolResultBlock",
    "WebSearchToolResultError",
    "decode_block",
    "decode_message",
    "mark_truncated",
]

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

# The off-wire mark of a tool call cut short by max_tokens (in the block's ``__dict__``,
# which copies and pickles keep and serialization ignores): see ToolUseBlock.truncated.
_TRUNCATED = "_truncated"


def mark_truncated(block: ToolUseBlock | ServerToolUseBlock | MCPToolUseBlock) -> None:
    """Mark ``block`` as cut short by ``max_tokens`` (its ``truncated`` is then True)."""
    block.__dict__[_TRUNCATED] = True


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
    """A call of a client tool; ``input`` is complete once the block stops (unless
    ``max_tokens`` cut it short: :attr:`truncated`)."""

    type: ClassVar[Literal["tool_use"]] = "tool_use"
    id: str
    name: str
    input: Any = msgspec.field(default_factory=dict)
    caller: dict[str, Any] | UnsetType | None = UNSET

    @property
    def truncated(self) -> bool:
        """Whether ``max_tokens`` cut this call off before its input JSON was complete.

        Then ``input`` holds every complete value received: an unfinished string, number,
        ``true``/``false``/``null`` or key is left out with its member, and unfinished
        objects and arrays keep the members they completed (``{"path": "a.txt",
        "content": "Hello wor`` gives ``{"path": "a.txt"}``). Only a message whose
        ``stop_reason`` is ``"max_tokens"`` has such a call; never run it.

        sluice's own mark, kept off the wire: it is not a field, so ``to_json``,
        ``to_dict`` and ``msgspec`` leave it out and the block goes back to the API as
        the API sent it.
        """
        return _TRUNCATED in self.__dict__


class ServerToolUseBlock(Wire, kw_only=True, tag="server_tool_use"):
    """A call of a server tool (web search, web fetch, code execution...) run by the API."""

    type: ClassVar[Literal["server_tool_use"]] = "server_tool_use"
    id: str
    name: str
    input: Any = msgspec.field(default_factory=dict)
    caller: dict[str, Any] | UnsetType | None = UNSET

    @property
    def truncated(self) -> bool:
        """Whether ``max_tokens`` cut this call off before its input JSON was complete
        (see :attr:`ToolUseBlock.truncated`)."""
        return _TRUNCATED in self.__dict__


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

    @property
    def truncated(self) -> bool:
        """Whether ``max_tokens`` cut this call off before its input JSON was complete
        (see :attr:`ToolUseBlock.truncated`)."""
        return _TRUNCATED in self.__dict__


class MCPToolResultBlock(Wire, kw_only=True, tag="mcp_tool_result"):
    """The result of an MCP tool call."""

    type: ClassVar[Literal["mcp_tool_result"]] = "mcp_tool_result"
    tool_use_id: str
    is_error: bool | UnsetType = UNSET
    content: Any = UNSET


class UnknownBlock(Wire, kw_only=True, tag=UNKNOWN_TAG):
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
    #: what a non-streamed reply must have (the defaults serve stream snapshots)
    __response_fields__: ClassVar[tuple[str, ...]] = ("type", "role", "model", "content", "usage")
    id: str
    role: str = "assistant"
    model: str = ""
    content: list[ContentBlock] = msgspec.field(default_factory=list)
    stop_reason: str | UnsetType | None = UNSET
    stop_sequence: str | UnsetType | None = UNSET
    stop_details: StopDetails | UnsetType | None = UNSET
    container: Container | UnsetType | None = UNSET
    usage: Usage = msgspec.field(default_factory=Usage)


# --------------------------------------------------------------------------------- decoding


class _RawMessage(Wire, kw_only=True, tag="message"):
    # Content blocks are decoded one by one so that an unknown block cannot fail the message.
    content: list[msgspec.Raw] = msgspec.field(default_factory=list)


_block_decoder = msgspec.json.Decoder(ContentBlock)
_message_decoder = msgspec.json.Decoder(Message)
_raw_message_decoder = msgspec.json.Decoder(_RawMessage)
_any_decoder = msgspec.json.Decoder()


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
    attach_extras(block, as_json)
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
    attach_extras(message, as_json)
    return message
