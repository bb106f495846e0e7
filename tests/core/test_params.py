"""Tests for request params: struct encoding, client-side validation, structured output.

Expected dicts are written by hand from the official SDK's request TypedDicts
(``anthropic/types/*_param.py``, version 2.12).
"""

from __future__ import annotations

import json
from typing import Annotated, Any, Literal

import msgspec
import pytest

from sluice import (
    OutputParseError,
    ParamsError,
    SluiceError,
    StreamingRequiredError,
    decode_message,
    json_schema_for,
    output_format_for,
    parse_output,
)
from sluice._core._params import (
    INTERLEAVED_THINKING_BETA,
    NONSTREAMING_MAX_TOKENS,
    requires_streaming,
    to_request_body,
    validate_count_tokens_params,
    validate_message_params,
)
from sluice.types import (
    Base64ImageSource,
    Base64PDFSource,
    BashTool,
    CacheControlEphemeral,
    CitationsConfig,
    CodeExecutionTool,
    ContainerParam,
    ContentBlockSource,
    DocumentBlockParam,
    FileSource,
    ImageBlockParam,
    JSONOutputFormat,
    MCPServerURL,
    MemoryTool,
    MessageCreateParams,
    MessageParam,
    Metadata,
    OutputConfig,
    PlainTextSource,
    RedactedThinkingBlockParam,
    SearchResultBlockParam,
    TextBlockParam,
    TextEditorTool,
    ThinkingAdaptive,
    ThinkingBlockParam,
    ThinkingDisabled,
    ThinkingEnabled,
    Tool,
    ToolChoiceAny,
    ToolChoiceAuto,
    ToolChoiceNone,
    ToolChoiceTool,
    ToolResultBlockParam,
    ToolUseBlockParam,
    URLSource,
    UserLocation,
    WebFetchTool,
    WebSearchTool,
)

# -- helpers --------------------------------------------------------------------------------

USER = {"role": "user", "content": "Hi"}
WEATHER = {
    "name": "get_weather",
    "description": "Weather for a city",
    "input_schema": {"type": "object", "properties": {"city": {"type": "string"}}},
}


def body(**fields: Any) -> dict[str, Any]:
    """A minimal valid request body with ``fields`` added (``None`` removes a field)."""
    out: dict[str, Any] = {"model": "claude-sonnet-4-5", "max_tokens": 1024, "messages": [USER]}
    out.update(fields)
    return {key: value for key, value in out.items() if value is not None}


def rejected(params: dict[str, Any], *, stream: bool = True, **kwargs: Any) -> ParamsError:
    """The ParamsError that validating ``params`` raises."""
    with pytest.raises(ParamsError) as info:
        validate_message_params(params, stream=stream, **kwargs)
    return info.value


def accepted(params: dict[str, Any], *, stream: bool = True, **kwargs: Any) -> None:
    """Validate ``params`` and let any ParamsError fail the test."""
    validate_message_params(params, stream=stream, **kwargs)


def message(content: list[dict[str, Any]], stop_reason: str | None = "end_turn") -> Any:
    """A decoded response Message with this content."""
    raw = {
        "id": "msg_1",
        "type": "message",
        "role": "assistant",
        "model": "claude-sonnet-4-5",
        "content": content,
        "stop_reason": stop_reason,
        "stop_sequence": None,
        "usage": {"input_tokens": 3, "output_tokens": 5},
    }
    return decode_message(json.dumps(raw).encode())


# Every struct paired with the dict the API expects for it, written from the SDK TypedDicts.
ENCODINGS: list[tuple[str, Any, dict[str, Any]]] = [
    ("cache_control", CacheControlEphemeral(), {"type": "ephemeral"}),
    ("cache_control_1h", CacheControlEphemeral(ttl="1h"), {"type": "ephemeral", "ttl": "1h"}),
    ("text", TextBlockParam(text="Hi"), {"type": "text", "text": "Hi"}),
    (
        "text_full",
        TextBlockParam(
            text="Paris.",
            cache_control=CacheControlEphemeral(ttl="5m"),
            citations=[
                {
                    "type": "char_location",
                    "cited_text": "Paris",
                    "document_index": 0,
                    "document_title": None,
                    "start_char_index": 0,
                    "end_char_index": 5,
                }
            ],
        ),
        {
            "type": "text",
            "text": "Paris.",
            "cache_control": {"type": "ephemeral", "ttl": "5m"},
            "citations": [
                {
                    "type": "char_location",
                    "cited_text": "Paris",
                    "document_index": 0,
                    "document_title": None,
                    "start_char_index": 0,
                    "end_char_index": 5,
                }
            ],
        },
    ),
    (
        "image_base64",
        ImageBlockParam(source=Base64ImageSource(media_type="image/png", data="iVBORw0KGgo=")),
        {
            "type": "image",
            "source": {"type": "base64", "media_type": "image/png", "data": "iVBORw0KGgo="},
        },
    ),
    (
        "image_url",
        ImageBlockParam(
            source=URLSource(url="https://example.com/a.jpg"),
            cache_control=CacheControlEphemeral(),
        ),
        {
            "type": "image",
            "source": {"type": "url", "url": "https://example.com/a.jpg"},
            "cache_control": {"type": "ephemeral"},
        },
    ),
    (
        "image_file",
        ImageBlockParam(source=FileSource(file_id="file_01")),
        {"type": "image", "source": {"type": "file", "file_id": "file_01"}},
    ),
    (
        "document_pdf",
        DocumentBlockParam(
            source=Base64PDFSource(data="JVBERi0="),
            title="Report",
            context="Q3 numbers",
            citations=CitationsConfig(enabled=True),
            cache_control=CacheControlEphemeral(ttl="1h"),
        ),
        {
            "type": "document",
            "source": {"type": "base64", "media_type": "application/pdf", "data": "JVBERi0="},
            "title": "Report",
            "context": "Q3 numbers",
            "citations": {"enabled": True},
            "cache_control": {"type": "ephemeral", "ttl": "1h"},
        },
    ),
    (
        "document_text",
        DocumentBlockParam(source=PlainTextSource(data="The grass is green.")),
        {
            "type": "document",
            "source": {"type": "text", "media_type": "text/plain", "data": "The grass is green."},
        },
    ),
    (
        "document_content",
        DocumentBlockParam(
            source=ContentBlockSource(
                content=[TextBlockParam(text="one"), {"type": "text", "text": "two"}]
            )
        ),
        {
            "type": "document",
            "source": {
                "type": "content",
                "content": [{"type": "text", "text": "one"}, {"type": "text", "text": "two"}],
            },
        },
    ),
    (
        "document_url",
        DocumentBlockParam(source=URLSource(url="https://example.com/a.pdf"), title=None),
        {
            "type": "document",
            "source": {"type": "url", "url": "https://example.com/a.pdf"},
            "title": None,
        },
    ),
    (
        "document_file",
        DocumentBlockParam(source=FileSource(file_id="file_02")),
        {"type": "document", "source": {"type": "file", "file_id": "file_02"}},
    ),
    (
        "search_result",
        SearchResultBlockParam(
            source="https://kb.example/1",
            title="KB 1",
            content=[TextBlockParam(text="Reset the router.")],
            citations=CitationsConfig(enabled=True),
        ),
        {
            "type": "search_result",
            "source": "https://kb.example/1",
            "title": "KB 1",
            "content": [{"type": "text", "text": "Reset the router."}],
            "citations": {"enabled": True},
        },
    ),
    (
        "tool_use",
        ToolUseBlockParam(id="toolu_1", name="get_weather", input={"city": "Paris"}),
        {"type": "tool_use", "id": "toolu_1", "name": "get_weather", "input": {"city": "Paris"}},
    ),
    (
        "tool_result_text",
        ToolResultBlockParam(tool_use_id="toolu_1", content="18C", is_error=False),
        {"type": "tool_result", "tool_use_id": "toolu_1", "content": "18C", "is_error": False},
    ),
    (
        "tool_result_blocks",
        ToolResultBlockParam(
            tool_use_id="toolu_1",
            content=[
                TextBlockParam(text="chart:"),
                ImageBlockParam(source=URLSource(url="https://example.com/c.png")),
            ],
            is_error=True,
            cache_control=CacheControlEphemeral(),
        ),
        {
            "type": "tool_result",
            "tool_use_id": "toolu_1",
            "content": [
                {"type": "text", "text": "chart:"},
                {"type": "image", "source": {"type": "url", "url": "https://example.com/c.png"}},
            ],
            "is_error": True,
            "cache_control": {"type": "ephemeral"},
        },
    ),
    (
        "tool_result_bare",
        ToolResultBlockParam(tool_use_id="toolu_1"),
        {"type": "tool_result", "tool_use_id": "toolu_1"},
    ),
    (
        "thinking",
        ThinkingBlockParam(thinking="Let me see.", signature="sig=="),
        {"type": "thinking", "thinking": "Let me see.", "signature": "sig=="},
    ),
    (
        "redacted_thinking",
        RedactedThinkingBlockParam(data="opaque"),
        {"type": "redacted_thinking", "data": "opaque"},
    ),
    ("message_str", MessageParam(role="user", content="Hi"), {"role": "user", "content": "Hi"}),
    (
        "message_blocks",
        MessageParam(role="assistant", content=[TextBlockParam(text="The answer is (")]),
        {"role": "assistant", "content": [{"type": "text", "text": "The answer is ("}]},
    ),
    (
        "client_tool",
        Tool(
            name="get_weather",
            description="Weather for a city",
            input_schema={"type": "object", "properties": {"city": {"type": "string"}}},
            cache_control=CacheControlEphemeral(),
            strict=True,
        ),
        {
            "name": "get_weather",
            "input_schema": {"type": "object", "properties": {"city": {"type": "string"}}},
            "description": "Weather for a city",
            "cache_control": {"type": "ephemeral"},
            "strict": True,
        },
    ),
    (
        "web_search",
        WebSearchTool(
            max_uses=5,
            allowed_domains=["example.com"],
            user_location=UserLocation(city="Paris", country="FR", timezone="Europe/Paris"),
        ),
        {
            "type": "web_search_20250305",
            "name": "web_search",
            "max_uses": 5,
            "allowed_domains": ["example.com"],
            "user_location": {
                "type": "approximate",
                "city": "Paris",
                "country": "FR",
                "timezone": "Europe/Paris",
            },
        },
    ),
    (
        "web_search_blocked",
        WebSearchTool(blocked_domains=["spam.example"]),
        {"type": "web_search_20250305", "name": "web_search", "blocked_domains": ["spam.example"]},
    ),
    (
        "web_fetch",
        WebFetchTool(max_uses=2, citations=CitationsConfig(enabled=True), max_content_tokens=5000),
        {
            "type": "web_fetch_20250910",
            "name": "web_fetch",
            "max_uses": 2,
            "citations": {"enabled": True},
            "max_content_tokens": 5000,
        },
    ),
    (
        "code_execution",
        CodeExecutionTool(),
        {"type": "code_execution_20250825", "name": "code_execution"},
    ),
    ("bash", BashTool(), {"type": "bash_20250124", "name": "bash"}),
    (
        "text_editor",
        TextEditorTool(max_characters=10000),
        {
            "type": "text_editor_20250728",
            "name": "str_replace_based_edit_tool",
            "max_characters": 10000,
        },
    ),
    (
        "memory",
        MemoryTool(cache_control=CacheControlEphemeral()),
        {"type": "memory_20250818", "name": "memory", "cache_control": {"type": "ephemeral"}},
    ),
    ("tool_choice_auto", ToolChoiceAuto(), {"type": "auto"}),
    (
        "tool_choice_any",
        ToolChoiceAny(disable_parallel_tool_use=True),
        {"type": "any", "disable_parallel_tool_use": True},
    ),
    (
        "tool_choice_tool",
        ToolChoiceTool(name="get_weather"),
        {"type": "tool", "name": "get_weather"},
    ),
    ("tool_choice_none", ToolChoiceNone(), {"type": "none"}),
    (
        "thinking_enabled",
        ThinkingEnabled(budget_tokens=2048),
        {"type": "enabled", "budget_tokens": 2048},
    ),
    (
        "thinking_enabled_display",
        ThinkingEnabled(budget_tokens=2048, display="omitted"),
        {"type": "enabled", "budget_tokens": 2048, "display": "omitted"},
    ),
    ("thinking_adaptive", ThinkingAdaptive(), {"type": "adaptive"}),
    ("thinking_disabled", ThinkingDisabled(), {"type": "disabled"}),
    ("metadata", Metadata(user_id="u-7f3a"), {"user_id": "u-7f3a"}),
    (
        "output_config",
        OutputConfig(
            effort="high",
            format=JSONOutputFormat(schema={"type": "object", "properties": {}}),
        ),
        {
            "effort": "high",
            "format": {"type": "json_schema", "schema": {"type": "object", "properties": {}}},
        },
    ),
    (
        "container",
        ContainerParam(id="cntr_1", skills=[{"type": "anthropic", "skill_id": "pptx"}]),
        {"id": "cntr_1", "skills": [{"type": "anthropic", "skill_id": "pptx"}]},
    ),
    (
        "mcp_server",
        MCPServerURL(
            name="wiki",
            url="https://mcp.example/sse",
            authorization_token="tok",
            tool_configuration={"enabled": True, "allowed_tools": ["search"]},
        ),
        {
            "type": "url",
            "name": "wiki",
            "url": "https://mcp.example/sse",
            "authorization_token": "tok",
            "tool_configuration": {"enabled": True, "allowed_tools": ["search"]},
        },
    ),
]


# -- encoding -------------------------------------------------------------------------------


class TestStructEncoding:
    @pytest.mark.parametrize(
        ("struct", "expected"), [e[1:] for e in ENCODINGS], ids=[e[0] for e in ENCODINGS]
    )
    def test_encodes_to_api_shape(self, struct: Any, expected: dict[str, Any]) -> None:
        """Each struct becomes exactly the dict the API's TypedDict describes."""
        assert to_request_body({"x": struct})["x"] == expected

    @pytest.mark.parametrize(
        ("struct", "expected"), [e[1:] for e in ENCODINGS], ids=[e[0] for e in ENCODINGS]
    )
    def test_msgspec_encodes_the_same(self, struct: Any, expected: dict[str, Any]) -> None:
        """msgspec's own to_builtins and JSON encoder give the same shape (no conversion needed)."""
        assert msgspec.to_builtins(struct) == expected
        assert json.loads(msgspec.json.encode(struct)) == expected

    def test_full_request(self) -> None:
        """A MessageCreateParams with every top-level field encodes to the API's body."""
        params = MessageCreateParams(
            model="claude-sonnet-4-5",
            max_tokens=4096,
            messages=[MessageParam(role="user", content="Weather in Paris?")],
            system=[
                TextBlockParam(text="Be brief.", cache_control=CacheControlEphemeral(ttl="1h"))
            ],
            tools=[Tool(name="get_weather", input_schema={"type": "object"}), WebSearchTool()],
            tool_choice=ToolChoiceAuto(disable_parallel_tool_use=True),
            thinking=ThinkingEnabled(budget_tokens=2048),
            temperature=1.0,
            top_p=0.99,
            top_k=40,
            stop_sequences=["END"],
            metadata=Metadata(user_id="u-1"),
            service_tier="standard_only",
            inference_geo="us",
            speed="fast",
            output_config=OutputConfig(effort="medium"),
            cache_control=CacheControlEphemeral(),
            container="cntr_1",
            context_management={"edits": [{"type": "clear_tool_uses_20250919"}]},
            mcp_servers=[MCPServerURL(name="wiki", url="https://mcp.example/sse")],
            diagnostics={"previous_message_id": None},
            stream=False,
        )
        assert to_request_body(params) == {
            "model": "claude-sonnet-4-5",
            "max_tokens": 4096,
            "messages": [{"role": "user", "content": "Weather in Paris?"}],
            "system": [
                {
                    "type": "text",
                    "text": "Be brief.",
                    "cache_control": {"type": "ephemeral", "ttl": "1h"},
                }
            ],
            "tools": [
                {"name": "get_weather", "input_schema": {"type": "object"}},
                {"type": "web_search_20250305", "name": "web_search"},
            ],
            "tool_choice": {"type": "auto", "disable_parallel_tool_use": True},
            "thinking": {"type": "enabled", "budget_tokens": 2048},
            "temperature": 1.0,
            "top_p": 0.99,
            "top_k": 40,
            "stop_sequences": ["END"],
            "metadata": {"user_id": "u-1"},
            "service_tier": "standard_only",
            "inference_geo": "us",
            "speed": "fast",
            "output_config": {"effort": "medium"},
            "cache_control": {"type": "ephemeral"},
            "container": "cntr_1",
            "context_management": {"edits": [{"type": "clear_tool_uses_20250919"}]},
            "mcp_servers": [{"type": "url", "name": "wiki", "url": "https://mcp.example/sse"}],
            "diagnostics": {"previous_message_id": None},
            "stream": False,
        }

    def test_unset_fields_are_omitted(self) -> None:
        """Only the fields given are sent: a minimal request has exactly three keys."""
        params = MessageCreateParams(model="m", max_tokens=1, messages=[])
        assert to_request_body(params) == {"model": "m", "max_tokens": 1, "messages": []}

    def test_none_is_sent_as_null(self) -> None:
        """A field set to None is sent as null, unlike an unset one."""
        assert to_request_body({"x": Metadata(user_id=None)})["x"] == {"user_id": None}
        assert to_request_body({"x": Metadata()})["x"] == {}

    def test_system_as_string(self) -> None:
        """system may be a plain string."""
        params = MessageCreateParams(model="m", max_tokens=1, messages=[], system="Be brief.")
        assert to_request_body(params)["system"] == "Be brief."

    def test_bytes_are_sent_as_base64(self) -> None:
        """Inline image or PDF data given as bytes is base64-encoded."""
        block = ImageBlockParam(source=Base64ImageSource(media_type="image/gif", data=b"GIF89a"))
        assert to_request_body({"x": block})["x"]["source"]["data"] == "R0lGODlh"
        pdf = DocumentBlockParam(source=Base64PDFSource(data=b"%PDF-"))
        assert to_request_body({"x": pdf})["x"]["source"]["data"] == "JVBERi0="

    def test_type_is_a_class_attribute(self) -> None:
        """Tagged structs expose their wire type as ``.type``, like the response structs."""
        assert ThinkingEnabled(budget_tokens=1024).type == "enabled"
        assert WebSearchTool().type == "web_search_20250305"
        assert TextBlockParam(text="x").type == "text"


class TestDictPassThrough:
    def test_plain_dict_body_is_unchanged(self) -> None:
        """A dict body without structs comes back equal, sharing its nested values."""
        params = body(tools=[WEATHER], thinking={"type": "adaptive"})
        out = to_request_body(params)
        assert out == params
        assert out is not params
        assert out["messages"] is params["messages"]
        assert out["tools"][0] is WEATHER

    def test_structs_inside_a_dict_are_converted(self) -> None:
        """Structs nested in a dict body are converted; their dict siblings are kept as is."""
        raw_tool = {"type": "tool_search_tool_bm25_20251119", "name": "tool_search_tool_bm25"}
        out = to_request_body(
            body(
                messages=[MessageParam(role="user", content="Hi"), USER],
                tools=[WebFetchTool(), raw_tool],
            )
        )
        assert out["messages"] == [{"role": "user", "content": "Hi"}, USER]
        assert out["messages"][1] is USER
        assert out["tools"] == [{"type": "web_fetch_20250910", "name": "web_fetch"}, raw_tool]

    def test_raw_dicts_inside_structs(self) -> None:
        """Raw dicts (server tool results, new block types) are sent as given inside structs."""
        server_result = {
            "type": "web_search_tool_result",
            "tool_use_id": "srvtoolu_1",
            "content": [
                {
                    "type": "web_search_result",
                    "url": "https://a",
                    "title": "A",
                    "encrypted_content": "e",
                }
            ],
        }
        params = MessageParam(
            role="assistant", content=[server_result, TextBlockParam(text="Done")]
        )
        assert to_request_body({"m": params})["m"] == {
            "role": "assistant",
            "content": [server_result, {"type": "text", "text": "Done"}],
        }

    def test_response_blocks_can_be_passed_back(self) -> None:
        """message.content from a reply is sent back as the API sent it, unknown fields too."""
        reply = message(
            [
                {"type": "thinking", "thinking": "Hmm.", "signature": "sig"},
                {
                    "type": "tool_use",
                    "id": "toolu_1",
                    "name": "get_weather",
                    "input": {"city": "Paris"},
                    "new_field": 1,
                },
                {"type": "brand_new_block", "payload": [1, 2]},
            ],
            stop_reason="tool_use",
        )
        out = to_request_body(
            body(messages=[USER, MessageParam(role="assistant", content=reply.content)])
        )
        assert out["messages"][1]["content"] == [
            {"type": "thinking", "thinking": "Hmm.", "signature": "sig"},
            {
                "type": "tool_use",
                "id": "toolu_1",
                "name": "get_weather",
                "input": {"city": "Paris"},
                "new_field": 1,
            },
            {"type": "brand_new_block", "payload": [1, 2]},
        ]

    def test_any_mapping_is_accepted(self) -> None:
        """A Mapping that is not a dict is turned into one."""
        from types import MappingProxyType

        out = to_request_body(MappingProxyType(body()))
        assert out == body()
        assert type(out) is dict

    def test_non_mapping_is_refused(self) -> None:
        """A list or string is not a request body."""
        with pytest.raises(TypeError, match="mapping or MessageCreateParams"):
            to_request_body([("model", "m")])  # type: ignore[arg-type]


class TestRepr:
    def test_mcp_token_never_shows(self) -> None:
        """The MCP authorization token is redacted in the repr, also inside the request."""
        server = MCPServerURL(name="wiki", url="https://mcp.example", authorization_token="s3cret")
        params = MessageCreateParams(model="m", max_tokens=1, messages=[], mcp_servers=[server])
        assert "s3cret" not in repr(server)
        assert "s3cret" not in repr(params)
        assert "<redacted>" in repr(server)
        assert repr(MCPServerURL(name="w", url="u")) == "MCPServerURL(name='w', url='u')"

    def test_repr_omits_unset_fields(self) -> None:
        """The repr shows only the fields that were given."""
        assert repr(Tool(name="t", input_schema={})) == "Tool(name='t', input_schema={})"


# -- validation -----------------------------------------------------------------------------


class TestParamsError:
    def test_is_a_sluice_error_and_value_error(self) -> None:
        """ParamsError sits under the one root and is also a ValueError."""
        error = rejected(body(max_tokens=None))
        assert isinstance(error, SluiceError)
        assert isinstance(error, ValueError)
        assert error.field == "max_tokens"

    def test_accepts_a_struct_body(self) -> None:
        """validate_message_params takes a MessageCreateParams as well as a dict."""
        params = MessageCreateParams(
            model="m", max_tokens=100, messages=[USER], thinking=ThinkingEnabled(budget_tokens=2000)
        )
        with pytest.raises(ParamsError, match="less than max_tokens"):
            validate_message_params(params, stream=True)


class TestRequiredFields:
    @pytest.mark.parametrize("name", ["model", "max_tokens", "messages"])
    def test_missing(self, name: str) -> None:
        """model, max_tokens and messages are required, and the message says how to pass them."""
        error = rejected(body(**{name: None}))
        assert str(error).startswith(f"{name} is required: pass {name}=")
        assert error.field == name

    def test_all_present(self) -> None:
        """The minimal body passes."""
        accepted(body())

    @pytest.mark.parametrize("value", [0, -1, 1.5, "1024", True])
    def test_bad_max_tokens(self, value: Any) -> None:
        """max_tokens must be a positive integer (the API's minimum is 1)."""
        assert "max_tokens must be a positive integer" in str(rejected(body(max_tokens=value)))

    def test_model_must_be_a_string(self) -> None:
        """model must be a non-empty model id."""
        assert "model must be a model id string" in str(rejected(body(model="")))
        accepted(body(model="claude-opus-4-5"))

    def test_messages_must_be_a_list(self) -> None:
        """messages must be a list, not a bare string."""
        assert "messages must be a list" in str(rejected(body(messages="Hi")))

    def test_turn_order_is_left_to_the_api(self) -> None:
        """An assistant first turn, or repeated roles, are not rejected."""
        accepted(body(messages=[{"role": "assistant", "content": "Hello"}]))
        accepted(body(messages=[USER, USER]))

    def test_empty_messages(self) -> None:
        """An empty messages list is rejected with an example of what to pass."""
        error = rejected(body(messages=[]))
        assert error.field == "messages"
        assert "messages is empty" in str(error)

    @pytest.mark.parametrize(
        ("message", "field", "text"),
        [
            ({"content": "Hi"}, "messages[0].role", "has no role"),
            ({"role": "system", "content": "Be brief"}, "messages[0].role", "system="),
            ({"role": "bot", "content": "Hi"}, "messages[0].role", '"user" or "assistant"'),
            ({"role": "user"}, "messages[0].content", "has no content"),
            ("Hi", "messages[0]", "must be a message"),
        ],
    )
    def test_bad_message(self, message: object, field: str, text: str) -> None:
        """A message without a role, with role system, or without content names its place."""
        error = rejected(body(messages=[message]))
        assert error.field == field
        assert text in str(error)

    def test_typed_message_is_checked_too(self) -> None:
        """MessageParam structs go through the same checks (a role other than user/assistant)."""
        accepted(body(messages=[MessageParam(role="user", content="Hi")]))
        error = rejected(body(messages=[MessageParam(role="system", content="Hi")]))
        assert error.field == "messages[0].role"


class TestUnknownFields:
    def test_misspelled_field_suggests_the_right_one(self) -> None:
        """A misspelled top-level field is rejected with a did-you-mean and extra_body."""
        error = rejected(body(temprature=0.5))
        assert error.field == "temprature"
        assert "did you mean 'temperature'" in str(error)
        assert "extra_body" in str(error)

    def test_unknown_field_without_a_close_match(self) -> None:
        """A field unlike any known one points to extra_body."""
        error = rejected(body(brand_new_feature={"on": True}))
        assert "did you mean" not in str(error)
        assert "extra_body={'brand_new_feature': ...}" in str(error)

    def test_count_tokens_refuses_unknown_fields(self) -> None:
        """count_tokens checks its own fields the same way."""
        with pytest.raises(ParamsError, match="did you mean 'system'"):
            validate_count_tokens_params({"model": "m", "messages": [USER], "sytem": "x"})


class TestThinkingBudget:
    def test_budget_below_minimum(self) -> None:
        """budget_tokens under 1024 is rejected with the minimum named."""
        error = rejected(body(thinking={"type": "enabled", "budget_tokens": 1023}))
        assert "thinking.budget_tokens must be an integer of at least 1024, got 1023" in str(error)
        assert error.field == "thinking.budget_tokens"

    def test_budget_at_minimum(self) -> None:
        """budget_tokens of exactly 1024 passes."""
        accepted(body(max_tokens=2048, thinking={"type": "enabled", "budget_tokens": 1024}))

    def test_budget_not_below_max_tokens(self) -> None:
        """budget_tokens equal to max_tokens is rejected: it must be less."""
        error = rejected(body(max_tokens=2048, thinking={"type": "enabled", "budget_tokens": 2048}))
        assert "budget_tokens must be less than max_tokens" in str(error)
        assert "raise max_tokens above 2048" in str(error)

    def test_budget_below_max_tokens(self) -> None:
        """budget_tokens one below max_tokens passes."""
        accepted(body(max_tokens=2049, thinking={"type": "enabled", "budget_tokens": 2048}))

    def test_interleaved_thinking_lifts_the_max_tokens_rule(self) -> None:
        """With the interleaved-thinking beta the budget may exceed max_tokens."""
        params = body(max_tokens=2000, thinking={"type": "enabled", "budget_tokens": 8000})
        accepted(params, betas=[INTERLEAVED_THINKING_BETA])
        rejected(params, betas=["some-other-beta"])

    def test_budget_missing(self) -> None:
        """thinking type 'enabled' without budget_tokens is rejected."""
        error = rejected(body(thinking={"type": "enabled"}))
        assert "thinking.budget_tokens is required" in str(error)

    def test_adaptive_and_disabled_need_no_budget(self) -> None:
        """Adaptive and disabled thinking take no budget."""
        accepted(body(thinking={"type": "adaptive"}))
        accepted(body(thinking={"type": "disabled"}))


class TestThinkingCompatibility:
    THINKING = ({"type": "enabled", "budget_tokens": 1024}, {"type": "adaptive"})

    @pytest.mark.parametrize("thinking", THINKING)
    def test_temperature_other_than_one(self, thinking: dict[str, Any]) -> None:
        """temperature other than 1 is rejected with thinking on."""
        error = rejected(body(max_tokens=4096, thinking=thinking, temperature=0.5))
        assert f"temperature may only be 1 with thinking.type {thinking['type']!r}" in str(error)
        assert error.field == "temperature"

    @pytest.mark.parametrize("thinking", THINKING)
    def test_temperature_one(self, thinking: dict[str, Any]) -> None:
        """temperature=1 passes with thinking on."""
        accepted(body(max_tokens=4096, thinking=thinking, temperature=1))

    @pytest.mark.parametrize("thinking", THINKING)
    def test_top_k(self, thinking: dict[str, Any]) -> None:
        """Any top_k is rejected with thinking on."""
        error = rejected(body(max_tokens=4096, thinking=thinking, top_k=40))
        assert "top_k cannot be set with thinking.type" in str(error)

    @pytest.mark.parametrize("top_p", [0.9, 0.949, 1.01])
    def test_top_p_outside_range(self, top_p: float) -> None:
        """top_p outside [0.95, 1] is rejected with thinking on."""
        error = rejected(body(max_tokens=4096, thinking={"type": "adaptive"}, top_p=top_p))
        assert "top_p must be from 0.95 to 1 with thinking.type 'adaptive'" in str(error)

    @pytest.mark.parametrize("top_p", [0.95, 0.99, 1])
    def test_top_p_inside_range(self, top_p: float) -> None:
        """top_p from 0.95 to 1 passes with thinking on."""
        accepted(body(max_tokens=4096, thinking={"type": "adaptive"}, top_p=top_p))

    @pytest.mark.parametrize("thinking", THINKING)
    @pytest.mark.parametrize("choice", [{"type": "any"}, {"type": "tool", "name": "get_weather"}])
    def test_forced_tool_use(self, thinking: dict[str, Any], choice: dict[str, Any]) -> None:
        """tool_choice any/tool is rejected with thinking on, naming the alternatives."""
        error = rejected(
            body(max_tokens=4096, thinking=thinking, tools=[WEATHER], tool_choice=choice)
        )
        assert f"tool_choice type {choice['type']!r} forces tool use" in str(error)
        assert "use tool_choice {'type': 'auto'} or {'type': 'none'}" in str(error)

    @pytest.mark.parametrize("choice", [{"type": "auto"}, {"type": "none"}])
    def test_unforced_tool_use(self, choice: dict[str, Any]) -> None:
        """tool_choice auto/none passes with thinking on."""
        accepted(
            body(
                max_tokens=4096, thinking={"type": "adaptive"}, tools=[WEATHER], tool_choice=choice
            )
        )

    def test_everything_allowed_without_thinking(self) -> None:
        """Without thinking (or with it disabled) sampling options and forced tools pass."""
        for thinking in (None, {"type": "disabled"}):
            accepted(
                body(
                    thinking=thinking,
                    temperature=0.2,
                    top_k=40,
                    top_p=0.5,
                    tools=[WEATHER],
                    tool_choice={"type": "any"},
                )
            )


class TestTemperatureRange:
    @pytest.mark.parametrize("value", [-0.1, 1.01, 2, "warm"])
    def test_out_of_range(self, value: Any) -> None:
        """temperature outside [0, 1] (or not a number) is rejected."""
        error = rejected(body(temperature=value))
        assert "temperature must be a number from 0 to 1" in str(error)

    @pytest.mark.parametrize("value", [0, 0.7, 1])
    def test_in_range(self, value: float) -> None:
        """temperature from 0 to 1 passes."""
        accepted(body(temperature=value))


class TestToolNames:
    @pytest.mark.parametrize("name", ["get weather", "get.weather", "", "x" * 65, "météo"])
    def test_invalid_client_tool_name(self, name: str) -> None:
        """Client tool names must match ^[a-zA-Z0-9_-]{1,64}$."""
        error = rejected(body(tools=[{**WEATHER, "name": name}]))
        assert f"tools[0].name {name!r} is not a valid tool name" in str(error)
        assert error.field == "tools[0].name"

    @pytest.mark.parametrize("name", ["get_weather", "get-weather-2", "x" * 64])
    def test_valid_client_tool_name(self, name: str) -> None:
        """Letters, digits, underscores and hyphens up to 64 characters pass."""
        accepted(
            body(tools=[{**WEATHER, "name": name}, {**WEATHER, "name": "other", "type": "custom"}])
        )

    def test_client_tool_without_name_or_schema(self) -> None:
        """A client tool needs a name and an input_schema."""
        assert "tools[0].name is required" in str(rejected(body(tools=[{"input_schema": {}}])))
        error = rejected(body(tools=[{"name": "t"}]))
        assert "tools[0] ('t') needs an input_schema" in str(error)

    def test_server_tool_names_are_not_pattern_checked(self) -> None:
        """Server tools have fixed names; unknown server tool dicts pass through unchecked."""
        accepted(
            body(
                tools=[{"type": "future_tool_20990101", "name": "future.tool"}, {"type": "toolset"}]
            )
        )

    def test_allowed_and_blocked_domains_together(self) -> None:
        """A web search or fetch tool may not set both allowed_domains and blocked_domains."""
        tool = WebSearchTool(allowed_domains=["a.example"], blocked_domains=["b.example"])
        error = rejected(body(tools=[tool]))
        assert "sets both allowed_domains and blocked_domains: keep one" in str(error)
        accepted(body(tools=[WebSearchTool(allowed_domains=["a.example"], blocked_domains=None)]))

    def test_tools_must_be_a_list_of_objects(self) -> None:
        """tools must be a list of tool objects."""
        assert "tools must be a list" in str(rejected(body(tools=WEATHER)))
        assert "tools[0] must be a tool object" in str(rejected(body(tools=["get_weather"])))


class TestDuplicateToolNames:
    def test_duplicate_client_tools(self) -> None:
        """Two tools with the same name are rejected, naming both positions."""
        error = rejected(body(tools=[WEATHER, {"name": "x", "input_schema": {}}, WEATHER]))
        assert "tools[0] and tools[2] are both named 'get_weather'" in str(error)
        assert error.field == "tools[2].name"

    def test_client_tool_named_like_a_server_tool(self) -> None:
        """A client tool may not reuse a server tool's name."""
        error = rejected(body(tools=[WebSearchTool(), {"name": "web_search", "input_schema": {}}]))
        assert "both named 'web_search'" in str(error)

    def test_distinct_names(self) -> None:
        """Distinct names pass."""
        accepted(
            body(tools=[WEATHER, WebSearchTool(), BashTool(), {"name": "x", "input_schema": {}}])
        )


class TestToolChoice:
    def test_named_tool_missing(self) -> None:
        """tool_choice naming a tool that is not in tools is rejected, listing the tools."""
        error = rejected(body(tools=[WEATHER], tool_choice={"type": "tool", "name": "get_time"}))
        assert "tool_choice names the tool 'get_time', but no tool in tools has that name" in str(
            error
        )
        assert "(tools: 'get_weather')" in str(error)
        assert error.field == "tool_choice.name"

    def test_named_tool_without_tools(self) -> None:
        """tool_choice naming a tool with no tools at all is rejected."""
        error = rejected(body(tool_choice=ToolChoiceTool(name="get_weather")))
        assert "(tools: none)" in str(error)

    def test_named_tool_present(self) -> None:
        """tool_choice naming a client or server tool in tools passes."""
        accepted(body(tools=[WEATHER], tool_choice={"type": "tool", "name": "get_weather"}))
        accepted(body(tools=[WebSearchTool()], tool_choice={"type": "tool", "name": "web_search"}))

    def test_named_tool_may_come_from_elsewhere(self) -> None:
        """With MCP servers or a nameless toolset, the name cannot be checked, so it passes."""
        choice = {"type": "tool", "name": "search_wiki"}
        accepted(
            body(
                tool_choice=choice,
                mcp_servers=[{"type": "url", "name": "wiki", "url": "https://m"}],
            )
        )
        accepted(
            body(tool_choice=choice, tools=[{"type": "mcp_toolset", "mcp_server_name": "wiki"}])
        )

    def test_name_required(self) -> None:
        """tool_choice type 'tool' needs a name."""
        error = rejected(body(tools=[WEATHER], tool_choice={"type": "tool"}))
        assert "tool_choice.name is required" in str(error)


class TestStreamingRequired:
    def test_boundary(self) -> None:
        """21333 tokens pass without streaming; 21334 (over 10 minutes at 128k/hour) do not."""
        accepted(body(max_tokens=21_333), stream=False)
        error = rejected(body(max_tokens=21_334), stream=False)
        assert isinstance(error, StreamingRequiredError)
        assert "max_tokens=21334 is too many for a non-streaming request" in str(error)
        assert "Use client.messages.stream(...)" in str(error)
        assert error.field == "max_tokens"

    def test_streaming_is_exempt(self) -> None:
        """A streamed request may ask for any max_tokens."""
        accepted(body(max_tokens=128_000), stream=True)

    def test_model_table(self) -> None:
        """Models in the SDK's non-streaming table are capped at their entry (8192 for Opus 4)."""
        assert NONSTREAMING_MAX_TOKENS["claude-opus-4-0"] == 8_192
        accepted(body(model="claude-opus-4-0", max_tokens=8_192), stream=False)
        error = rejected(body(model="claude-opus-4-0", max_tokens=8_193), stream=False)
        assert isinstance(error, StreamingRequiredError)
        assert "8192 for claude-opus-4-0" in str(error)
        accepted(body(model="claude-sonnet-4-5", max_tokens=8_193), stream=False)

    def test_opt_out(self) -> None:
        """allow_long_nonstreaming skips the rule (for callers with their own timeout)."""
        accepted(body(max_tokens=64_000), stream=False, allow_long_nonstreaming=True)

    def test_requires_streaming(self) -> None:
        """requires_streaming applies the same rule on its own."""
        assert not requires_streaming("claude-sonnet-4-5", 21_333)
        assert requires_streaming("claude-sonnet-4-5", 21_334)
        assert requires_streaming("claude-opus-4-1@20250805", 8_193)
        assert not requires_streaming("claude-opus-4-1@20250805", 8_192)

    def test_stream_true_in_a_non_streaming_call(self) -> None:
        """stream=True in the body of a non-streaming call is rejected: create() cannot read SSE."""
        error = rejected(body(stream=True), stream=False)
        assert "use client.messages.stream(...) instead" in str(error)
        accepted(body(stream=False), stream=False)
        accepted(body(stream=True), stream=True)


class TestCountTokens:
    def test_no_max_tokens_needed(self) -> None:
        """count_tokens takes no max_tokens, so none is required or compared to the budget."""
        validate_count_tokens_params(
            {
                "model": "m",
                "messages": [USER],
                "thinking": {"type": "enabled", "budget_tokens": 50_000},
            }
        )

    def test_model_and_messages_required(self) -> None:
        """count_tokens still needs model and messages."""
        with pytest.raises(ParamsError, match="model is required"):
            validate_count_tokens_params({"messages": [USER]})
        with pytest.raises(ParamsError, match="messages is required"):
            validate_count_tokens_params({"model": "m"})
        with pytest.raises(ParamsError, match="model must be a model id string"):
            validate_count_tokens_params({"model": 3, "messages": []})

    def test_shared_rules_apply(self) -> None:
        """Tool, tool_choice and thinking rules apply to count_tokens too."""
        with pytest.raises(ParamsError, match="not a valid tool name"):
            validate_count_tokens_params(
                {
                    "model": "m",
                    "messages": [{"role": "user", "content": "x"}],
                    "tools": [{**WEATHER, "name": "a b"}],
                }
            )
        with pytest.raises(ParamsError, match="at least 1024"):
            validate_count_tokens_params(
                {
                    "model": "m",
                    "messages": [{"role": "user", "content": "x"}],
                    "thinking": {"type": "enabled", "budget_tokens": 5},
                }
            )


# -- structured output ----------------------------------------------------------------------


class Address(msgspec.Struct):
    """A postal address."""

    city: str
    postcode: str | None = None


class Person(msgspec.Struct):
    """A person and where they live."""

    name: str
    age: Annotated[int, msgspec.Meta(ge=0)]
    addresses: list[Address]
    role: Literal["admin", "user"]


class Node(msgspec.Struct):
    """A tree node."""

    label: str
    children: list[Node]


class Cat(msgspec.Struct, tag="cat"):
    """A cat."""

    lives: int


class Dog(msgspec.Struct, tag="dog"):
    """A dog."""

    good: bool


class Pet(msgspec.Struct):
    """Someone's pet."""

    pet: Cat | Dog


class Untyped(msgspec.Struct):
    """Has a field with no concrete type."""

    value: Any


class FreeKeys(msgspec.Struct):
    """Has a dict field."""

    scores: dict[str, int]


class Event(msgspec.Struct):
    """Has formats the API does and does not support."""

    when: Annotated[str, msgspec.Meta(pattern="^[0-9]+$")]
    at: Annotated[list[int], msgspec.Meta(min_length=1)]


class TestJsonSchemaFor:
    def test_nested_struct(self) -> None:
        """The root is inlined, nested structs stay in $defs, every object is closed."""
        assert json_schema_for(Person) == {
            "type": "object",
            "description": "A person and where they live.",
            "title": "Person",
            "properties": {
                "name": {"type": "string"},
                "age": {"type": "integer", "description": "{minimum: 0}"},
                "addresses": {"type": "array", "items": {"$ref": "#/$defs/Address"}},
                "role": {"enum": ["admin", "user"]},
            },
            "additionalProperties": False,
            "required": ["name", "age", "addresses", "role"],
            "$defs": {
                "Address": {
                    "type": "object",
                    "description": "A postal address.",
                    "title": "Address",
                    "properties": {
                        "city": {"type": "string"},
                        "postcode": {
                            "anyOf": [{"type": "string"}, {"type": "null"}],
                            "description": "{default: null}",
                        },
                    },
                    "additionalProperties": False,
                    "required": ["city"],
                }
            },
        }

    def test_recursive_struct_keeps_root_ref(self) -> None:
        """A struct that refers to itself keeps its root as a $ref into $defs."""
        schema = json_schema_for(Node)
        assert schema["$ref"] == "#/$defs/Node"
        assert schema["$defs"]["Node"]["properties"]["children"] == {
            "type": "array",
            "items": {"$ref": "#/$defs/Node"},
        }
        assert schema["$defs"]["Node"]["additionalProperties"] is False

    def test_tagged_union(self) -> None:
        """Tagged unions become anyOf of closed objects, without OpenAPI's discriminator."""
        schema = json_schema_for(Pet)
        assert schema["properties"]["pet"] == {
            "anyOf": [{"$ref": "#/$defs/Cat"}, {"$ref": "#/$defs/Dog"}]
        }
        assert "discriminator" not in json.dumps(schema)
        assert schema["$defs"]["Cat"]["properties"]["type"] == {"enum": ["cat"]}

    def test_unsupported_keywords_move_to_description(self) -> None:
        """pattern and minItems > 1 are not supported, so they are described instead."""
        schema = json_schema_for(Event)
        assert schema["properties"]["when"] == {
            "type": "string",
            "description": '{pattern: "^[0-9]+$"}',
        }
        assert schema["properties"]["at"] == {
            "type": "array",
            "items": {"type": "integer"},
            "minItems": 1,
        }

    def test_any_field_is_refused(self) -> None:
        """A field typed Any has no schema the API accepts."""
        with pytest.raises(TypeError, match=r"Untyped\.value has no JSON schema type"):
            json_schema_for(Untyped)

    def test_dict_field_is_refused(self) -> None:
        """A dict field cannot be a closed object, so it is refused with a hint."""
        with pytest.raises(TypeError, match=r"FreeKeys\.scores is a mapping with free keys"):
            json_schema_for(FreeKeys)

    def test_output_format_for(self) -> None:
        """output_format_for wraps the schema for output_config.format."""
        assert output_format_for(Address) == {
            "type": "json_schema",
            "schema": json_schema_for(Address),
        }

    def test_output_format_fits_the_request(self) -> None:
        """The format goes into output_config and passes validation."""
        accepted(body(output_config={"format": output_format_for(Person)}))


class TestParseOutput:
    def test_success(self) -> None:
        """The first text block decodes into the struct, after any thinking block."""
        reply = message(
            [
                {"type": "thinking", "thinking": "…", "signature": "s"},
                {"type": "text", "text": '{"city": "Paris", "postcode": "75001"}'},
                {"type": "text", "text": "ignored"},
            ]
        )
        assert parse_output(reply, Address) == Address(city="Paris", postcode="75001")

    def test_invalid_json(self) -> None:
        """Text that is not JSON raises OutputParseError carrying the text."""
        reply = message([{"type": "text", "text": "Sure! Here it is"}])
        with pytest.raises(OutputParseError, match="not valid JSON for Address") as info:
            parse_output(reply, Address)
        assert info.value.text == "Sure! Here it is"
        assert "text was 'Sure! Here it is'" in str(info.value)
        assert isinstance(info.value.__cause__, msgspec.DecodeError)
        assert isinstance(info.value, SluiceError)

    def test_wrong_shape(self) -> None:
        """JSON of the wrong shape raises OutputParseError with msgspec's reason."""
        reply = message([{"type": "text", "text": '{"postcode": "75001"}'}])
        with pytest.raises(OutputParseError, match="missing required field `city`"):
            parse_output(reply, Address)

    def test_truncated_reply(self) -> None:
        """A reply cut off by max_tokens says so and what to change."""
        reply = message([{"type": "text", "text": '{"city": "Par'}], stop_reason="max_tokens")
        with pytest.raises(
            OutputParseError, match="cut off by max_tokens: raise max_tokens"
        ) as info:
            parse_output(reply, Address)
        assert info.value.stop_reason == "max_tokens"

    def test_no_text_block(self) -> None:
        """A reply without text (a refusal, say) raises with an empty text."""
        reply = message([], stop_reason="refusal")
        with pytest.raises(
            OutputParseError, match=r"no text block to decode as Address .*refused"
        ) as info:
            parse_output(reply, Address)
        assert info.value.text == ""
