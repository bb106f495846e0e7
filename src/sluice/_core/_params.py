"""The request side of the Messages API: typed params, client-side checks, structured output.

Field names and shapes follow the official SDK's request ``TypedDict``s (``anthropic`` 2.12,
``anthropic/types/*_param.py``) and the public Messages API reference. Design rules:

* Every request object is a ``msgspec.Struct`` whose optional fields default to
  ``msgspec.UNSET``: a field you did not give is not sent, a field you set to ``None`` is sent
  as ``null``. Objects with a wire ``type`` are tagged by it and expose it as a class
  attribute (``ThinkingEnabled.type == "enabled"``), as the response structs in ``_events`` do.
* Plain dicts are accepted everywhere a struct is, so a block, tool or option this version of
  sluice does not model yet (a new server tool, a beta field) can still be sent. Response
  blocks (``message.content``) can be passed back as they are.
* :func:`to_request_body` turns any mix of these into the JSON-ready dict that is sent, and
  :func:`validate_message_params` rejects, before any network traffic, what the API would
  answer with a 400, with a message that says what to change.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Mapping
from types import MappingProxyType
from typing import Any, ClassVar, Literal, TypeAlias, TypeVar

import msgspec
from msgspec import UNSET, UnsetType

from ._exceptions import ParamsError, StreamingRequiredError
from ._message import Citation, ContentBlock
from ._serialize import to_builtins as _wire_to_builtins
from ._wire import Wire

__all__ = [
    "COUNT_TOKENS_FIELDS",
    "CREATE_ONLY_FIELDS",
    "MESSAGE_FIELDS",
    "INTERLEAVED_THINKING_BETA",
    "NONSTREAMING_MAX_TOKENS",
    "Base64ImageSource",
    "Base64PDFSource",
    "BashTool",
    "CacheControlEphemeral",
    "CitationsConfig",
    "CodeExecutionTool",
    "ContainerParam",
    "ContentBlockParam",
    "ContentBlockSource",
    "DocumentBlockParam",
    "FileSource",
    "ImageBlockParam",
    "JSONOutputFormat",
    "MCPServerURL",
    "MemoryTool",
    "MessageCreateParams",
    "MessageParam",
    "Metadata",
    "OutputConfig",
    "ParamsError",
    "PlainTextSource",
    "RedactedThinkingBlockParam",
    "SearchResultBlockParam",
    "StreamingRequiredError",
    "TextBlockParam",
    "TextEditorTool",
    "ThinkingAdaptive",
    "ThinkingBlockParam",
    "ThinkingConfig",
    "ThinkingDisabled",
    "ThinkingEnabled",
    "Tool",
    "ToolChoice",
    "ToolChoiceAny",
    "ToolChoiceAuto",
    "ToolChoiceNone",
    "ToolChoiceTool",
    "ToolResultBlockParam",
    "ToolUnion",
    "ToolUseBlockParam",
    "URLSource",
    "UserLocation",
    "WebFetchTool",
    "WebSearchTool",
    "requires_streaming",
    "to_request_body",
    "validate_batch_requests",
    "validate_count_tokens_params",
    "validate_message_params",
]

_T = TypeVar("_T")

# ------------------------------------------------------------------------------- errors


# ------------------------------------------------------------------------------ structs


class _Param(msgspec.Struct, kw_only=True, repr_omit_defaults=True):
    """Base of every request struct; fields left ``UNSET`` are not sent."""


class CacheControlEphemeral(_Param, kw_only=True, tag_field="type", tag="ephemeral"):
    """A prompt-cache breakpoint; ``ttl`` is ``"5m"`` (the default) or ``"1h"``."""

    type: ClassVar[Literal["ephemeral"]] = "ephemeral"
    ttl: Literal["5m", "1h"] | UnsetType = UNSET


_CacheControl: TypeAlias = CacheControlEphemeral | dict[str, Any] | UnsetType | None


class CitationsConfig(_Param, kw_only=True):
    """Whether the model may cite a document or search result (``{"enabled": true}``)."""

    enabled: bool | UnsetType = UNSET


# -- sources


class Base64ImageSource(_Param, kw_only=True, tag_field="type", tag="base64"):
    """An image given inline; ``bytes`` data is sent base64-encoded."""

    type: ClassVar[Literal["base64"]] = "base64"
    media_type: Literal["image/jpeg", "image/png", "image/gif", "image/webp"]
    data: str | bytes


class Base64PDFSource(_Param, kw_only=True, tag_field="type", tag="base64"):
    """A PDF document given inline; ``bytes`` data is sent base64-encoded."""

    type: ClassVar[Literal["base64"]] = "base64"
    media_type: Literal["application/pdf"] = "application/pdf"
    data: str | bytes


class PlainTextSource(_Param, kw_only=True, tag_field="type", tag="text"):
    """A plain-text document."""

    type: ClassVar[Literal["text"]] = "text"
    media_type: Literal["text/plain"] = "text/plain"
    data: str


class ContentBlockSource(_Param, kw_only=True, tag_field="type", tag="content"):
    """A document made of content blocks (text and images), cited by block index."""

    type: ClassVar[Literal["content"]] = "content"
    content: str | list[TextBlockParam | ImageBlockParam | dict[str, Any]]


class URLSource(_Param, kw_only=True, tag_field="type", tag="url"):
    """An image or PDF the API fetches from a URL."""

    type: ClassVar[Literal["url"]] = "url"
    url: str


class FileSource(_Param, kw_only=True, tag_field="type", tag="file"):
    """An image or document uploaded with the Files API, by ``file_id``."""

    type: ClassVar[Literal["file"]] = "file"
    file_id: str


# -- content blocks


class TextBlockParam(_Param, kw_only=True, tag_field="type", tag="text"):
    """Text in a message or in the system prompt."""

    type: ClassVar[Literal["text"]] = "text"
    text: str
    cache_control: _CacheControl = UNSET
    citations: list[Citation | dict[str, Any]] | UnsetType | None = UNSET


class ImageBlockParam(_Param, kw_only=True, tag_field="type", tag="image"):
    """An image: ``source`` is a :class:`Base64ImageSource`, :class:`URLSource` or
    :class:`FileSource`."""

    type: ClassVar[Literal["image"]] = "image"
    source: Base64ImageSource | URLSource | FileSource | dict[str, Any]
    cache_control: _CacheControl = UNSET
    transformations: dict[str, Any] | UnsetType | None = UNSET


class DocumentBlockParam(_Param, kw_only=True, tag_field="type", tag="document"):
    """A document (PDF, plain text, custom content) the model can read and cite."""

    type: ClassVar[Literal["document"]] = "document"
    source: (
        Base64PDFSource
        | PlainTextSource
        | ContentBlockSource
        | URLSource
        | FileSource
        | dict[str, Any]
    )
    title: str | UnsetType | None = UNSET
    context: str | UnsetType | None = UNSET
    citations: CitationsConfig | dict[str, Any] | UnsetType | None = UNSET
    cache_control: _CacheControl = UNSET


class SearchResultBlockParam(_Param, kw_only=True, tag_field="type", tag="search_result"):
    """A search result from your own retrieval, citable like a document."""

    type: ClassVar[Literal["search_result"]] = "search_result"
    source: str
    title: str
    content: list[TextBlockParam | dict[str, Any]]
    citations: CitationsConfig | dict[str, Any] | UnsetType = UNSET
    cache_control: _CacheControl = UNSET


class ToolUseBlockParam(_Param, kw_only=True, tag_field="type", tag="tool_use"):
    """A tool call made by the model earlier in the conversation, passed back."""

    type: ClassVar[Literal["tool_use"]] = "tool_use"
    id: str
    name: str
    input: dict[str, Any]
    cache_control: _CacheControl = UNSET
    caller: dict[str, Any] | UnsetType = UNSET


class ToolResultBlockParam(_Param, kw_only=True, tag_field="type", tag="tool_result"):
    """The result of running a client tool: ``content`` is text or content blocks."""

    type: ClassVar[Literal["tool_result"]] = "tool_result"
    tool_use_id: str
    content: (
        str
        | list[
            TextBlockParam
            | ImageBlockParam
            | SearchResultBlockParam
            | DocumentBlockParam
            | dict[str, Any]
        ]
        | UnsetType
    ) = UNSET
    is_error: bool | UnsetType = UNSET
    cache_control: _CacheControl = UNSET


class ThinkingBlockParam(_Param, kw_only=True, tag_field="type", tag="thinking"):
    """A thinking block passed back unchanged (``signature`` exactly as received)."""

    type: ClassVar[Literal["thinking"]] = "thinking"
    thinking: str
    signature: str


class RedactedThinkingBlockParam(_Param, kw_only=True, tag_field="type", tag="redacted_thinking"):
    """A redacted thinking block passed back unchanged."""

    type: ClassVar[Literal["redacted_thinking"]] = "redacted_thinking"
    data: str


#: Anything accepted in a message's ``content`` list: the blocks above, a response block
#: (``message.content`` passed back) or a raw dict (server tool results, new block types).
ContentBlockParam: TypeAlias = (
    TextBlockParam
    | ImageBlockParam
    | DocumentBlockParam
    | SearchResultBlockParam
    | ToolUseBlockParam
    | ToolResultBlockParam
    | ThinkingBlockParam
    | RedactedThinkingBlockParam
    | ContentBlock
    | dict[str, Any]
)


class MessageParam(_Param, kw_only=True):
    """One conversation turn: ``content`` is a string or a list of content blocks."""

    role: Literal["user", "assistant"]
    content: str | list[ContentBlockParam]


# -- tools


class Tool(_Param, kw_only=True):
    """A client tool: the model calls it with ``input`` matching ``input_schema``."""

    name: str
    input_schema: dict[str, Any]
    description: str | UnsetType = UNSET
    cache_control: _CacheControl = UNSET
    strict: bool | UnsetType = UNSET
    type: Literal["custom"] | UnsetType | None = UNSET
    allowed_callers: list[str] | UnsetType = UNSET
    defer_loading: bool | UnsetType = UNSET
    eager_input_streaming: bool | UnsetType | None = UNSET
    input_examples: list[dict[str, Any]] | UnsetType = UNSET


class _ServerTool(_Param, kw_only=True):
    """Fields every server tool takes."""

    cache_control: _CacheControl = UNSET
    allowed_callers: list[str] | UnsetType = UNSET
    defer_loading: bool | UnsetType = UNSET
    strict: bool | UnsetType = UNSET


class UserLocation(_Param, kw_only=True, tag_field="type", tag="approximate"):
    """The user's approximate location, for more relevant web search results."""

    type: ClassVar[Literal["approximate"]] = "approximate"
    city: str | UnsetType | None = UNSET
    region: str | UnsetType | None = UNSET
    country: str | UnsetType | None = UNSET
    timezone: str | UnsetType | None = UNSET


class WebSearchTool(_ServerTool, kw_only=True, tag_field="type", tag="web_search_20250305"):
    """The web search server tool (``web_search_20250305``)."""

    type: ClassVar[Literal["web_search_20250305"]] = "web_search_20250305"
    name: Literal["web_search"] = "web_search"
    max_uses: int | UnsetType | None = UNSET
    allowed_domains: list[str] | UnsetType | None = UNSET
    blocked_domains: list[str] | UnsetType | None = UNSET
    user_location: UserLocation | dict[str, Any] | UnsetType | None = UNSET


class WebFetchTool(_ServerTool, kw_only=True, tag_field="type", tag="web_fetch_20250910"):
    """The web fetch server tool (``web_fetch_20250910``)."""

    type: ClassVar[Literal["web_fetch_20250910"]] = "web_fetch_20250910"
    name: Literal["web_fetch"] = "web_fetch"
    max_uses: int | UnsetType | None = UNSET
    allowed_domains: list[str] | UnsetType | None = UNSET
    blocked_domains: list[str] | UnsetType | None = UNSET
    citations: CitationsConfig | dict[str, Any] | UnsetType | None = UNSET
    max_content_tokens: int | UnsetType | None = UNSET


class CodeExecutionTool(_ServerTool, kw_only=True, tag_field="type", tag="code_execution_20250825"):
    """The code execution server tool (``code_execution_20250825``)."""

    type: ClassVar[Literal["code_execution_20250825"]] = "code_execution_20250825"
    name: Literal["code_execution"] = "code_execution"


class BashTool(_ServerTool, kw_only=True, tag_field="type", tag="bash_20250124"):
    """The bash tool (``bash_20250124``); your code runs the commands."""

    type: ClassVar[Literal["bash_20250124"]] = "bash_20250124"
    name: Literal["bash"] = "bash"
    input_examples: list[dict[str, Any]] | UnsetType = UNSET


class TextEditorTool(_ServerTool, kw_only=True, tag_field="type", tag="text_editor_20250728"):
    """The text editor tool (``text_editor_20250728``); your code applies the edits."""

    type: ClassVar[Literal["text_editor_20250728"]] = "text_editor_20250728"
    name: Literal["str_replace_based_edit_tool"] = "str_replace_based_edit_tool"
    max_characters: int | UnsetType | None = UNSET
    input_examples: list[dict[str, Any]] | UnsetType = UNSET


class MemoryTool(_ServerTool, kw_only=True, tag_field="type", tag="memory_20250818"):
    """The memory tool (``memory_20250818``); your code stores the memory files."""

    type: ClassVar[Literal["memory_20250818"]] = "memory_20250818"
    name: Literal["memory"] = "memory"
    input_examples: list[dict[str, Any]] | UnsetType = UNSET


#: Anything accepted in ``tools``; other tool types and versions go in as dicts.
ToolUnion: TypeAlias = (
    Tool
    | WebSearchTool
    | WebFetchTool
    | CodeExecutionTool
    | BashTool
    | TextEditorTool
    | MemoryTool
    | dict[str, Any]
)


class ToolChoiceAuto(_Param, kw_only=True, tag_field="type", tag="auto"):
    """The model decides whether to call tools (the default)."""

    type: ClassVar[Literal["auto"]] = "auto"
    disable_parallel_tool_use: bool | UnsetType = UNSET


class ToolChoiceAny(_Param, kw_only=True, tag_field="type", tag="any"):
    """The model must call one of the tools."""

    type: ClassVar[Literal["any"]] = "any"
    disable_parallel_tool_use: bool | UnsetType = UNSET


class ToolChoiceTool(_Param, kw_only=True, tag_field="type", tag="tool"):
    """The model must call the tool called ``name``."""

    type: ClassVar[Literal["tool"]] = "tool"
    name: str
    disable_parallel_tool_use: bool | UnsetType = UNSET


class ToolChoiceNone(_Param, kw_only=True, tag_field="type", tag="none"):
    """The model may not call tools."""

    type: ClassVar[Literal["none"]] = "none"


ToolChoice: TypeAlias = (
    ToolChoiceAuto | ToolChoiceAny | ToolChoiceTool | ToolChoiceNone | dict[str, Any]
)

# -- thinking, output, everything else


class ThinkingEnabled(_Param, kw_only=True, tag_field="type", tag="enabled"):
    """Extended thinking with a fixed budget: 1024 <= ``budget_tokens`` < ``max_tokens``."""

    type: ClassVar[Literal["enabled"]] = "enabled"
    budget_tokens: int
    display: Literal["summarized", "omitted"] | UnsetType | None = UNSET


class ThinkingAdaptive(_Param, kw_only=True, tag_field="type", tag="adaptive"):
    """The model decides when and how much to think (steer it with ``output_config.effort``)."""

    type: ClassVar[Literal["adaptive"]] = "adaptive"
    display: Literal["summarized", "omitted"] | UnsetType | None = UNSET


class ThinkingDisabled(_Param, kw_only=True, tag_field="type", tag="disabled"):
    """No thinking."""

    type: ClassVar[Literal["disabled"]] = "disabled"


ThinkingConfig: TypeAlias = ThinkingEnabled | ThinkingAdaptive | ThinkingDisabled | dict[str, Any]


class Metadata(_Param, kw_only=True):
    """Request metadata: ``user_id`` is an opaque id (a hash or uuid, never personal data)."""

    user_id: str | UnsetType | None = UNSET


class JSONOutputFormat(_Param, kw_only=True, tag_field="type", tag="json_schema"):
    """Structured output: the reply's text is JSON matching ``schema``.

    Build one from a struct type with :func:`output_format_for`.
    """

    type: ClassVar[Literal["json_schema"]] = "json_schema"
    schema: dict[str, Any]


class OutputConfig(_Param, kw_only=True):
    """Output options: ``effort`` and the structured-output ``format``."""

    effort: Literal["low", "medium", "high", "xhigh", "max"] | UnsetType | None = UNSET
    format: JSONOutputFormat | dict[str, Any] | UnsetType | None = UNSET


class ContainerParam(_Param, kw_only=True):
    """A code-execution container to reuse (``id``) and skills to load into it."""

    id: str | UnsetType | None = UNSET
    skills: list[dict[str, Any]] | UnsetType | None = UNSET


class MCPServerURL(_Param, kw_only=True, tag_field="type", tag="url"):
    """A remote MCP server for the MCP connector. ``authorization_token`` never shows in a repr."""

    type: ClassVar[Literal["url"]] = "url"
    name: str
    url: str
    authorization_token: str | UnsetType | None = UNSET
    tool_configuration: dict[str, Any] | UnsetType | None = UNSET

    def __repr__(self) -> str:
        token = self.authorization_token
        shown = (
            ""
            if token is UNSET
            else ", authorization_token=" + ("None" if token is None else "<redacted>")
        )
        return f"MCPServerURL(name={self.name!r}, url={self.url!r}{shown})"

    def __rich_repr__(self) -> list[tuple[str, Any]]:
        return [("name", self.name), ("url", self.url)]


class MessageCreateParams(_Param, kw_only=True):
    """The body of ``POST /v1/messages``: every field the API takes.

    ``model``, ``max_tokens`` and ``messages`` are required; every other field is sent only
    when given. Nested values may be the structs of this module, response blocks, or plain
    dicts. Send it with ``client.messages.create(**to_request_body(params))``.
    """

    model: str
    max_tokens: int
    messages: list[MessageParam | dict[str, Any]]
    system: str | list[TextBlockParam | dict[str, Any]] | UnsetType = UNSET
    tools: list[ToolUnion] | UnsetType = UNSET
    tool_choice: ToolChoice | UnsetType = UNSET
    thinking: ThinkingConfig | UnsetType = UNSET
    temperature: float | UnsetType = UNSET
    top_p: float | UnsetType = UNSET
    top_k: int | UnsetType = UNSET
    stop_sequences: list[str] | UnsetType = UNSET
    metadata: Metadata | dict[str, Any] | UnsetType = UNSET
    service_tier: Literal["auto", "standard_only"] | UnsetType = UNSET
    inference_geo: str | UnsetType | None = UNSET
    speed: Literal["standard", "fast"] | UnsetType | None = UNSET
    output_config: OutputConfig | dict[str, Any] | UnsetType = UNSET
    cache_control: _CacheControl = UNSET
    container: str | ContainerParam | dict[str, Any] | UnsetType | None = UNSET
    context_management: dict[str, Any] | UnsetType | None = UNSET
    mcp_servers: list[MCPServerURL | dict[str, Any]] | UnsetType = UNSET
    diagnostics: dict[str, Any] | UnsetType | None = UNSET
    stream: bool | UnsetType = UNSET


# --------------------------------------------------------------------------- conversion

_SCALARS = frozenset({str, int, float, bool, type(None)})


def _convert(value: Any) -> Any:
    """``value`` as JSON-ready builtins; containers without structs come back unchanged."""
    cls = type(value)
    if cls in _SCALARS:
        return value
    if isinstance(value, Wire):
        # A response block passed back: write it as the API sent it, unknown fields included.
        return _wire_to_builtins(value)
    if isinstance(value, msgspec.Struct):
        config = value.__struct_config__
        out: dict[str, Any] = {}
        if isinstance(config.tag, str) and config.tag_field is not None:
            out[config.tag_field] = config.tag
        for name, wire_name in zip(
            value.__struct_fields__, value.__struct_encode_fields__, strict=True
        ):
            item = getattr(value, name)
            if item is not UNSET:
                out[wire_name] = _convert(item)
        return out
    if isinstance(value, Mapping):
        changed: dict[str, Any] | None = None if cls is dict else dict(value)
        for key, item in value.items():
            new = _convert(item)
            if new is not item:
                if changed is None:
                    changed = dict(value)
                changed[key] = new
        return value if changed is None else changed
    if isinstance(value, list | tuple):
        items: list[Any] | None = None
        for index, item in enumerate(value):
            new = _convert(item)
            if new is not item:
                if items is None:
                    items = list(value)
                items[index] = new
        return value if items is None else items
    if isinstance(value, bytes | bytearray | memoryview):
        return msgspec.to_builtins(value)  # base64, as the API expects for inline data
    return value


def to_request_body(params: Mapping[str, Any] | MessageCreateParams) -> dict[str, Any]:
    """The JSON-ready request body for ``params``, a :class:`MessageCreateParams` or a dict.

    Structs anywhere inside become dicts with API field names, ``UNSET`` fields left out
    (the same result as ``msgspec.to_builtins``); response blocks passed back are written
    as the API sent them; ``bytes`` become base64. Plain values are not copied: a dict
    without structs inside comes back as an equal dict sharing its nested values.
    """
    body = _convert(params)
    if not isinstance(body, dict):
        raise TypeError(
            f"request params must be a mapping or MessageCreateParams, not {type(params).__name__}"
        )
    return dict(body) if body is params else body


# ---------------------------------------------------------------------------- validation

#: The beta that lets ``thinking.budget_tokens`` exceed ``max_tokens`` (the budget then
#: covers every thinking block of the turn). Extended thinking docs, "Interleaved thinking".
INTERLEAVED_THINKING_BETA = "interleaved-thinking-2025-05-14"

#: Models whose non-streaming replies are capped below the general rule, from the official
#: SDK (``anthropic/_constants.py``, ``MODEL_NONSTREAMING_TOKENS``, version 2.12.0).
NONSTREAMING_MAX_TOKENS: Mapping[str, int] = MappingProxyType(
    {
        "claude-opus-4-20250514": 8_192,
        "claude-opus-4-0": 8_192,
        "claude-4-opus-20250514": 8_192,
        "anthropic.claude-opus-4-20250514-v1:0": 8_192,
        "claude-opus-4@20250514": 8_192,
        "anthropic.claude-opus-4-1-20250805-v1:0": 8_192,
        "claude-opus-4-1@20250805": 8_192,
    }
)

# The official SDK's _calculate_nonstreaming_timeout: a reply is assumed to take up to an hour
# for 128k tokens; a non-streaming request expected to take over 10 minutes must stream.
_HOUR = 60 * 60
_NONSTREAMING_LIMIT_SECONDS = 10 * 60
_TOKENS_PER_HOUR = 128_000

# Messages API reference, tools[].name; Extended thinking docs, "Feature compatibility".
_TOOL_NAME = re.compile(r"[a-zA-Z0-9_-]{1,64}")
_MIN_THINKING_BUDGET = 1024
_THINKING_ON = frozenset({"enabled", "adaptive"})
_FORCED_TOOL_CHOICES = frozenset({"any", "tool"})
_MIN_TOP_P_WITH_THINKING = 0.95


def requires_streaming(model: str, max_tokens: int) -> bool:
    """Whether a non-streaming request for ``max_tokens`` may outlive the 10-minute timeout.

    The official SDK's rule: the expected time, one hour per 128,000 tokens, is over ten
    minutes (``max_tokens`` > 21,333), or ``max_tokens`` is above the model's entry in
    :data:`NONSTREAMING_MAX_TOKENS`.
    """
    expected_seconds = _HOUR * max_tokens / _TOKENS_PER_HOUR
    limit = NONSTREAMING_MAX_TOKENS.get(model)
    return expected_seconds > _NONSTREAMING_LIMIT_SECONDS or (
        limit is not None and max_tokens > limit
    )


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


#: Every top-level field of ``POST /v1/messages`` this version knows.
MESSAGE_FIELDS: frozenset[str] = frozenset(MessageCreateParams.__struct_fields__)
#: The fields ``POST /v1/messages/count_tokens`` takes (public API reference, "Count tokens
#: in a Message").
COUNT_TOKENS_FIELDS: frozenset[str] = frozenset(
    {
        "model",
        "messages",
        "system",
        "tools",
        "tool_choice",
        "thinking",
        "mcp_servers",
        "context_management",
        "output_config",
        "output_format",
        "cache_control",
        "speed",
    }
)
#: Fields of a Messages request that ``count_tokens`` does not take, so that
#: ``count_tokens(**create_params)`` works: they are left out of its body.
CREATE_ONLY_FIELDS: frozenset[str] = MESSAGE_FIELDS - COUNT_TOKENS_FIELDS
_ROLES = ("user", "assistant")


def _check_fields(body: Mapping[str, Any], known: frozenset[str], endpoint: str) -> None:
    """Reject a field the endpoint does not take, suggesting the one probably meant."""
    for name in body:
        if name in known:
            continue
        close = difflib.get_close_matches(str(name), sorted(known), n=1, cutoff=0.75)
        hint = f"did you mean {close[0]!r}? " if close else ""
        raise ParamsError(
            f"{endpoint} takes no parameter {name!r}: {hint}A field newer than this version "
            f"of sluice goes in extra_body={{{name!r}: ...}}",
            field=str(name),
        )


def _require(body: Mapping[str, Any], name: str, hint: str) -> Any:
    value = body.get(name)
    if value is None:
        raise ParamsError(f"{name} is required: pass {name}={hint}", field=name)
    return value


def validate_message_params(
    body: Mapping[str, Any] | MessageCreateParams,
    *,
    stream: bool,
    betas: Iterable[str] = (),
    allow_long_nonstreaming: bool = False,
    check_fields: bool = True,
) -> None:
    """Reject, before sending, a ``POST /v1/messages`` body the API would refuse.

    Checks only rules the API enforces for every model (required fields, ``max_tokens``,
    the thinking budget and what thinking is incompatible with, ``temperature`` range, tool
    names, ``tool_choice``) plus the official SDK's "streaming is required" rule for
    non-streaming requests, and catches the usual slips: a misspelled top-level field (with
    the field probably meant; newer fields go in ``extra_body``), an empty ``messages``, a
    message without a role or with role ``"system"``. Turn order is left to the API.

    Args:
        body: the request body (a dict, or :class:`MessageCreateParams`).
        stream: whether the request will be streamed; ``False`` applies the streaming rule.
        betas: every ``anthropic-beta`` value the request is sent with.
            :data:`INTERLEAVED_THINKING_BETA` lets ``budget_tokens`` exceed ``max_tokens``.
        allow_long_nonstreaming: skip the streaming rule, as the official SDK does when the
            caller chose their own timeout.
        check_fields: refuse field names this version does not know (``False`` where
            there is no ``extra_body`` to put newer ones in: a batch request's params).

    Raises:
        StreamingRequiredError: ``stream`` is false and the reply may take over 10 minutes.
        ParamsError: any other rule is broken; ``field`` says where.
    """
    body = to_request_body(body)
    if check_fields:
        _check_fields(body, MESSAGE_FIELDS, "messages.create()/stream()")
    model = _require(body, "model", "'claude-sonnet-4-5' (a model id)")
    if not isinstance(model, str) or not model:
        raise ParamsError(f"model must be a model id string, got {model!r}", field="model")
    max_tokens = _require(body, "max_tokens", "<int> (the most tokens the reply may use)")
    if not _is_int(max_tokens) or max_tokens < 1:
        raise ParamsError(
            f"max_tokens must be a positive integer (the most tokens the reply may use), "
            f"got {max_tokens!r}",
            field="max_tokens",
        )
    _check_messages(body)
    if not stream and body.get("stream") is True:
        raise ParamsError(
            "stream=True asks for a server-sent event stream, which create() does not read: "
            "use client.messages.stream(...) instead",
            field="stream",
        )
    _check_common(body, max_tokens=max_tokens, betas=frozenset(betas))
    if not stream and not allow_long_nonstreaming and requires_streaming(model, max_tokens):
        limit = NONSTREAMING_MAX_TOKENS.get(model)
        cap = f" and {limit} for {model}" if limit is not None else ""
        raise StreamingRequiredError(
            f"max_tokens={max_tokens} is too many for a non-streaming request: the reply may "
            f"take longer than 10 minutes (the official SDK's limit is 21333 tokens{cap}). "
            "Use client.messages.stream(...) and await stream.final_message() for the same "
            "Message, or lower max_tokens",
            field="max_tokens",
        )


_CUSTOM_ID = re.compile(r"[a-zA-Z0-9_-]{1,64}")


def validate_batch_requests(
    requests: Iterable[Mapping[str, Any]], *, betas: Iterable[str] = ()
) -> list[dict[str, Any]]:
    """Reject, before sending, a Message Batch the API would refuse; return its requests.

    Each item must be ``{"custom_id": ..., "params": {...}}``: ``custom_id`` 1 to 64
    letters, digits, ``_`` or ``-``, unique in the batch; ``params`` a ``messages.create``
    body, checked as :func:`validate_message_params` checks one, except for the
    non-streaming timeout rule (a batch has none) and field names (ones newer than this
    version pass, as there is no ``extra_body`` per request). A params
    :class:`MessageCreateParams` becomes its dict.

    Raises:
        ParamsError: a rule is broken; ``field`` says where (``"requests[2].params.model"``).
    """
    items: list[dict[str, Any]] = []
    seen: set[str] = set()
    betas = tuple(betas)
    for number, item in enumerate(requests):
        where = f"requests[{number}]"
        if not isinstance(item, Mapping):
            raise ParamsError(
                f"{where} must be a mapping with custom_id and params, got {type(item).__name__}",
                field=where,
            )
        unknown = sorted(str(key) for key in item if key not in ("custom_id", "params"))
        if unknown:
            raise ParamsError(
                f"{where} has fields a batch request does not take: {', '.join(unknown)} "
                "(a request is {'custom_id': ..., 'params': {...}})",
                field=f"{where}.{unknown[0]}",
            )
        custom_id = item.get("custom_id")
        if not isinstance(custom_id, str) or not _CUSTOM_ID.fullmatch(custom_id):
            raise ParamsError(
                f"{where}.custom_id must be 1 to 64 letters, digits, '_' or '-', got {custom_id!r}",
                field=f"{where}.custom_id",
            )
        if custom_id in seen:
            raise ParamsError(
                f"{where}.custom_id {custom_id!r} is used twice: each request of a batch "
                "needs its own",
                field=f"{where}.custom_id",
            )
        seen.add(custom_id)
        params = item.get("params")
        if params is None:
            raise ParamsError(f"{where}.params is required", field=f"{where}.params")
        body = to_request_body(params)
        if body.get("stream") is True:
            raise ParamsError(
                f"{where}.params.stream: a batch request is never streamed; leave stream out",
                field=f"{where}.params.stream",
            )
        try:
            # Fields newer than this version pass: a batch has no extra_body per request.
            validate_message_params(
                body, stream=False, betas=betas, allow_long_nonstreaming=True, check_fields=False
            )
        except ParamsError as exc:
            raise ParamsError(
                f"{where}.params: {exc}", field=f"{where}.params.{exc.field}"
            ) from None
        items.append({"custom_id": custom_id, "params": body})
    if not items:
        raise ParamsError("requests is empty: a batch needs at least one", field="requests")
    return items


def validate_count_tokens_params(
    body: Mapping[str, Any] | MessageCreateParams, *, betas: Iterable[str] = ()
) -> None:
    """Reject, before sending, a ``POST /v1/messages/count_tokens`` body the API would refuse.

    The same checks as :func:`validate_message_params`, minus those about ``max_tokens``
    (count_tokens takes none) and streaming.

    Raises:
        ParamsError: a rule is broken; ``field`` says where.
    """
    body = to_request_body(body)
    _check_fields(body, COUNT_TOKENS_FIELDS, "messages.count_tokens()")
    model = _require(body, "model", "'claude-sonnet-4-5' (a model id)")
    if not isinstance(model, str) or not model:
        raise ParamsError(f"model must be a model id string, got {model!r}", field="model")
    _check_messages(body)
    _check_common(body, max_tokens=None, betas=frozenset(betas))


def _check_messages(body: Mapping[str, Any]) -> None:
    messages = _require(body, "messages", '[{"role": "user", "content": "..."}]')
    if not isinstance(messages, list | tuple):
        raise ParamsError(
            f"messages must be a list of messages, got {type(messages).__name__}",
            field="messages",
        )
    if not messages:
        raise ParamsError(
            'messages is empty: pass at least one, e.g. [{"role": "user", "content": "Hi"}]',
            field="messages",
        )
    for index, message in enumerate(messages):
        where = f"messages[{index}]"
        if not isinstance(message, Mapping):
            raise ParamsError(
                f'{where} must be a message, {{"role": ..., "content": ...}}, got '
                f"{type(message).__name__}",
                field=where,
            )
        role = message.get("role")
        if role not in _ROLES:
            hint = (
                "a system prompt goes in system=, not in messages"
                if role == "system"
                else 'use "user" or "assistant"'
            )
            shown = "no role" if role is None else f"role {role!r}"
            raise ParamsError(f"{where} has {shown}: {hint}", field=f"{where}.role")
        if "content" not in message:
            raise ParamsError(
                f"{where} has no content: give it a string or a list of content blocks",
                field=f"{where}.content",
            )


def _check_common(
    body: Mapping[str, Any], *, max_tokens: int | None, betas: frozenset[str]
) -> None:
    temperature = body.get("temperature")
    if temperature is not None and (not _is_number(temperature) or not 0 <= temperature <= 1):
        raise ParamsError(
            f"temperature must be a number from 0 to 1, got {temperature!r}", field="temperature"
        )
    thinking_type = _check_thinking(body, max_tokens=max_tokens, betas=betas)
    names = _check_tools(body)
    _check_tool_choice(body, names)
    if thinking_type in _THINKING_ON:
        _check_thinking_compatibility(body, thinking_type)


def _check_thinking(
    body: Mapping[str, Any], *, max_tokens: int | None, betas: frozenset[str]
) -> str | None:
    """Check ``thinking`` and return its type (``None`` when absent or not an object)."""
    thinking = body.get("thinking")
    if not isinstance(thinking, Mapping):
        return None
    kind = thinking.get("type")
    if not isinstance(kind, str):
        return None
    if kind != "enabled":
        return kind
    budget = thinking.get("budget_tokens")
    if budget is None:
        raise ParamsError(
            "thinking.budget_tokens is required with thinking.type 'enabled': pass "
            "thinking={'type': 'enabled', 'budget_tokens': 1024} or more, or use "
            "{'type': 'adaptive'}",
            field="thinking.budget_tokens",
        )
    if not _is_int(budget) or budget < _MIN_THINKING_BUDGET:
        raise ParamsError(
            f"thinking.budget_tokens must be an integer of at least {_MIN_THINKING_BUDGET}, "
            f"got {budget!r}: raise it to {_MIN_THINKING_BUDGET} or more",
            field="thinking.budget_tokens",
        )
    if max_tokens is not None and budget >= max_tokens and INTERLEAVED_THINKING_BETA not in betas:
        raise ParamsError(
            f"thinking.budget_tokens must be less than max_tokens (budget_tokens={budget}, "
            f"max_tokens={max_tokens}): raise max_tokens above {budget} or lower the budget",
            field="thinking.budget_tokens",
        )
    return kind


def _check_thinking_compatibility(body: Mapping[str, Any], kind: str) -> None:
    # Extended thinking docs, "Feature compatibility": thinking is not compatible with
    # temperature or top_k changes, nor with forced tool use; top_p may be 0.95 to 1.
    on = f"with thinking.type {kind!r}"
    off = "or turn thinking off"
    temperature = body.get("temperature")
    if temperature is not None and temperature != 1:
        raise ParamsError(
            f"temperature may only be 1 {on} (got {temperature!r}): remove temperature {off}",
            field="temperature",
        )
    top_k = body.get("top_k")
    if top_k is not None:
        raise ParamsError(
            f"top_k cannot be set {on} (got {top_k!r}): remove top_k {off}", field="top_k"
        )
    top_p = body.get("top_p")
    if top_p is not None and (not _is_number(top_p) or not _MIN_TOP_P_WITH_THINKING <= top_p <= 1):
        raise ParamsError(
            f"top_p must be from {_MIN_TOP_P_WITH_THINKING} to 1 {on} (got {top_p!r}): "
            f"raise top_p, remove it, {off}",
            field="top_p",
        )
    tool_choice = body.get("tool_choice")
    if isinstance(tool_choice, Mapping) and tool_choice.get("type") in _FORCED_TOOL_CHOICES:
        raise ParamsError(
            f"tool_choice type {tool_choice.get('type')!r} forces tool use, which the API "
            f"rejects {on}: use tool_choice {{'type': 'auto'}} or {{'type': 'none'}}, {off}",
            field="tool_choice",
        )


def _check_tools(body: Mapping[str, Any]) -> dict[str, int] | None:
    """Check ``tools``; return the index of each tool name, or ``None`` when some tool
    (a toolset, say) may provide names this check cannot see."""
    tools = body.get("tools")
    if tools is None:
        return {}
    if not isinstance(tools, list | tuple):
        raise ParamsError(f"tools must be a list, got {type(tools).__name__}", field="tools")
    names: dict[str, int] = {}
    complete = True
    for index, tool in enumerate(tools):
        where = f"tools[{index}]"
        if not isinstance(tool, Mapping):
            raise ParamsError(
                f"{where} must be a tool object, got {type(tool).__name__}", field=where
            )
        kind = tool.get("type")
        name = tool.get("name")
        if kind is None or kind == "custom":
            # A client tool; server tools have fixed names the API checks itself.
            if not isinstance(name, str):
                raise ParamsError(f"{where}.name is required for a client tool", field=where)
            if not _TOOL_NAME.fullmatch(name):
                raise ParamsError(
                    f"{where}.name {name!r} is not a valid tool name: use 1 to 64 letters, "
                    "digits, underscores or hyphens (^[a-zA-Z0-9_-]{1,64}$)",
                    field=f"{where}.name",
                )
            if tool.get("input_schema") is None:
                raise ParamsError(
                    f"{where} ({name!r}) needs an input_schema: a JSON schema object such as "
                    '{"type": "object", "properties": {...}}',
                    field=f"{where}.input_schema",
                )
        elif tool.get("allowed_domains") is not None and tool.get("blocked_domains") is not None:
            raise ParamsError(
                f"{where} ({kind}) sets both allowed_domains and blocked_domains: keep one",
                field=f"{where}.blocked_domains",
            )
        if not isinstance(name, str):
            complete = False
            continue
        if name in names:
            raise ParamsError(
                f"tools[{names[name]}] and {where} are both named {name!r}: tool names must be "
                "unique",
                field=f"{where}.name",
            )
        names[name] = index
    return names if complete else None


def _check_tool_choice(body: Mapping[str, Any], names: dict[str, int] | None) -> None:
    tool_choice = body.get("tool_choice")
    if not isinstance(tool_choice, Mapping) or tool_choice.get("type") != "tool":
        return
    name = tool_choice.get("name")
    if not isinstance(name, str):
        raise ParamsError(
            "tool_choice.name is required with tool_choice type 'tool': name the tool to call",
            field="tool_choice.name",
        )
    # MCP servers and toolsets bring tools whose names are not in the request.
    if names is None or body.get("mcp_servers") or name in names:
        return
    known = ", ".join(repr(n) for n in names) or "none"
    raise ParamsError(
        f"tool_choice names the tool {name!r}, but no tool in tools has that name (tools: "
        f"{known}): add the tool to tools or fix the name",
        field="tool_choice.name",
    )
