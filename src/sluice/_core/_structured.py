"""Structured outputs: a JSON schema from a msgspec type, and the reply parsed back into it.

``output_format_for(Answer)`` gives the ``output_format`` of a request whose reply must be
JSON of the ``Answer`` struct; ``parse_output(message, Answer)`` decodes the reply. The
schema is transformed into the subset the API's structured outputs accept, as the official
SDK's ``transform_schema`` does (keywords outside it move into the description).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

import msgspec

from ._exceptions import OutputParseError
from ._message import Message, TextBlock

__all__ = ["json_schema_for", "output_format_for", "parse_output"]

_T = TypeVar("_T")

# --------------------------------------------------------------------- structured output

# What the API's structured outputs accept, as the official SDK's transform_schema
# (anthropic/lib/_parse/_transform.py) encodes it: keywords outside these are moved into the
# description so the model may still follow them.
_STRING_FORMATS = frozenset(
    {"date-time", "time", "date", "duration", "email", "hostname", "uri", "ipv4", "ipv6", "uuid"}
)
_PRIMITIVE = (str, int, float, bool, type(None))
_DEFS_PREFIX = "#/$defs/"


def json_schema_for(struct_type: type[msgspec.Struct]) -> dict[str, Any]:
    """A JSON schema for ``struct_type`` in the form the API's structured outputs accept.

    Derived with ``msgspec.json.schema``. Nested structs stay as ``$defs``/``$ref`` (the API
    accepts them); the root struct is inlined; every object gets ``additionalProperties:
    false``; keywords the API does not support (``default``, ``minimum``, ``maxLength``...)
    move into the ``description`` (as ``{minimum: 1}``), as the official SDK does, so the
    model may still follow them.

    Raises:
        TypeError: a field has no schema the API accepts (``Any``, or a ``dict`` with free keys).
    """
    raw = msgspec.json.schema(struct_type)
    defs: dict[str, Any] = dict(raw.get("$defs", {}))
    root: dict[str, Any] = raw
    ref = raw.get("$ref")
    if isinstance(ref, str) and ref.startswith(_DEFS_PREFIX):
        name = ref[len(_DEFS_PREFIX) :]
        # Inline the root unless it refers to itself (a recursive struct).
        if f'"{ref}"' not in msgspec.json.encode(defs).decode():
            root = defs.pop(name)
    schema = _strict_schema({k: v for k, v in root.items() if k != "$defs"}, struct_type.__name__)
    if defs:
        schema["$defs"] = {name: _strict_schema(value, name) for name, value in defs.items()}
    return schema


def output_format_for(struct_type: type[msgspec.Struct]) -> dict[str, Any]:
    """The ``output_config.format`` value asking for replies that decode as ``struct_type``.

    ``{"type": "json_schema", "schema": json_schema_for(struct_type)}``; decode the reply
    with :func:`parse_output`.
    """
    return {"type": "json_schema", "schema": json_schema_for(struct_type)}


def _strict_schema(schema: Mapping[str, Any], path: str) -> dict[str, Any]:
    rest = dict(schema)
    out: dict[str, Any] = {}
    ref = rest.pop("$ref", None)
    if ref is not None:
        out["$ref"] = ref
        return out
    # msgspec marks tagged unions with OpenAPI's "discriminator"; each variant already pins
    # its tag with an enum, so it says nothing JSON Schema needs.
    rest.pop("discriminator", None)
    kind = rest.pop("type", None)
    any_of = rest.pop("anyOf", None)
    one_of = rest.pop("oneOf", None)
    all_of = rest.pop("allOf", None)
    enum = rest.get("enum")
    if isinstance(enum, list) and enum and all(isinstance(v, _PRIMITIVE) for v in enum):
        out["enum"] = rest.pop("enum")
    if "const" in rest and isinstance(rest["const"], _PRIMITIVE):
        out["const"] = rest.pop("const")
    literal = "enum" in out or "const" in out
    if literal:
        kind = None
    if isinstance(any_of, list):
        out["anyOf"] = [_strict_schema(v, path) for v in any_of]
    elif isinstance(one_of, list):
        out["anyOf"] = [_strict_schema(v, path) for v in one_of]
    elif isinstance(all_of, list):
        out["allOf"] = [_strict_schema(v, path) for v in all_of]
    elif not literal:
        if kind is None:
            raise TypeError(
                f"{path} has no JSON schema type (is it typed Any?): structured outputs need "
                "every field to have a concrete type"
            )
        out["type"] = kind
    for key in ("description", "title"):
        if key in rest:
            out[key] = rest.pop(key)
    if kind == "object":
        properties = rest.pop("properties", None)
        extra = rest.pop("additionalProperties", None)
        if properties is None and extra not in (None, False):
            raise TypeError(
                f"{path} is a mapping with free keys (a dict field): structured outputs need "
                "objects with fixed properties, so use a Struct"
            )
        out["properties"] = {
            name: _strict_schema(value, f"{path}.{name}")
            for name, value in (properties or {}).items()
        }
        out["additionalProperties"] = False
        if "required" in rest:
            out["required"] = list(rest.pop("required"))
    elif kind == "string":
        if rest.get("format") in _STRING_FORMATS:
            out["format"] = rest.pop("format")
    elif kind == "array":
        if "items" in rest:
            out["items"] = _strict_schema(rest.pop("items"), f"{path}[]")
        if rest.get("minItems") in (0, 1):
            out["minItems"] = rest.pop("minItems")
    if rest:
        unsupported = ", ".join(f"{key}: {_json_text(value)}" for key, value in rest.items())
        description = out.get("description")
        out["description"] = (
            f"{description}\n\n{{{unsupported}}}" if description else f"{{{unsupported}}}"
        )
    return out


def _json_text(value: Any) -> str:
    # Schema values come from msgspec.json.schema, so they are always JSON.
    return msgspec.json.encode(value).decode()


def parse_output(message: Message, struct_type: type[_T]) -> _T:
    """Decode the reply's structured output: its first text block, as JSON, into ``struct_type``.

    Raises:
        OutputParseError: the reply has no text block, or its text is not valid JSON for
            ``struct_type`` (``text`` holds it; ``stop_reason`` says if it was cut off).
    """
    stop_reason = message.stop_reason if isinstance(message.stop_reason, str) else None
    text = next((block.text for block in message.content if isinstance(block, TextBlock)), None)
    why = _stop_hint(stop_reason)
    name = getattr(struct_type, "__name__", repr(struct_type))
    if text is None:
        raise OutputParseError(
            f"the reply has no text block to decode as {name}{why}",
            text="",
            stop_reason=stop_reason,
        )
    try:
        return msgspec.json.decode(text, type=struct_type)
    except (msgspec.DecodeError, msgspec.ValidationError) as exc:
        preview = text if len(text) <= 200 else text[:200] + "..."
        raise OutputParseError(
            f"the reply's text is not valid JSON for {name}: {exc}{why}; text was {preview!r}",
            text=text,
            stop_reason=stop_reason,
        ) from exc


def _stop_hint(stop_reason: str | None) -> str:
    if stop_reason == "max_tokens":
        return " (the reply was cut off by max_tokens: raise max_tokens)"
    if stop_reason == "refusal":
        return " (the model refused: stop_reason is 'refusal')"
    if stop_reason is None:
        return ""
    return f" (stop_reason {stop_reason!r})"
