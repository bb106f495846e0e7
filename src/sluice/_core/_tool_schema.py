"""A tool's definition from a Python function: its input type, JSON schema and descriptions.

Sans-I/O and used by ``@sluice.tool``: the parameters of the function become the fields
of a ``msgspec.Struct`` (annotations, defaults and ``Annotated[..., msgspec.Meta(...)]``
constraints included), whose JSON schema (``msgspec.json.schema``) is the tool's
``input_schema`` and which validates the model's input (``msgspec.convert``) before the
function is called. The description and the parameter descriptions come from the
docstring, in Google (``Args:``), NumPy (``Parameters`` / ``----------``) or Sphinx
(``:param name:``) style.
"""

from __future__ import annotations

import copy
import functools
import inspect
import re
import typing
from collections.abc import Callable, Mapping
from typing import Any

import msgspec

__all__ = ["InputSpec", "input_spec", "parse_docstring"]

# Section headers of Google-style docstrings ("Args:", "Returns:"...), alone on their line.
_GOOGLE_SECTION = re.compile(r"^([A-Z][A-Za-z ]*):\s*$")
_GOOGLE_PARAMS = frozenset({"Args", "Arguments", "Parameters", "Params", "Keyword Args"})
# "name: text" or "name (type): text", a Google-style parameter entry.
_GOOGLE_ENTRY = re.compile(r"^\*{0,2}(\w+)\s*(?:\([^)]*\))?\s*:\s*(.*)$")
# ":param name: text", ":param str name: text", ":returns: text"...
_SPHINX_FIELD = re.compile(r"^:(\w+)((?:\s+[^:]+)?):\s*(.*)$")
_NUMPY_RULE = re.compile(r"^-{3,}\s*$")


def parse_docstring(doc: str | None) -> tuple[str, dict[str, str]]:
    """The description and the parameter descriptions of a docstring.

    Returns:
        ``(description, {parameter: description})``. The description is the text before
        the first section (``Args:``, ``Returns:``, ``Parameters``/``----------``,
        ``:param x:``...), paragraphs kept; each parameter description is joined into one
        line.
    """
    if not doc:
        return "", {}
    lines = inspect.cleandoc(doc).splitlines()
    description: list[str] = []
    params: dict[str, str] = {}
    index = 0
    while index < len(lines):
        line = lines[index]
        stripped = line.strip()
        if stripped.startswith(":"):
            index = _sphinx(lines, index, params)
            break
        if index + 1 < len(lines) and _NUMPY_RULE.match(lines[index + 1].strip()) and stripped:
            index = _numpy(lines, index, params)
            break
        match = _GOOGLE_SECTION.match(line)
        if match:
            index = _google(lines, index, params)
            break
        description.append(line)
        index += 1
    # Later sections (a Google "Args:" after "Note:", say) are read too.
    while index < len(lines):
        line = lines[index]
        if _GOOGLE_SECTION.match(line):
            index = _google(lines, index, params)
        elif index + 1 < len(lines) and _NUMPY_RULE.match(lines[index + 1].strip()) and line:
            index = _numpy(lines, index, params)
        elif line.strip().startswith(":"):
            index = _sphinx(lines, index, params)
        else:
            index += 1
    return "\n".join(description).strip(), params


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip())


def _google(lines: list[str], index: int, params: dict[str, str]) -> int:
    """Read the Google section starting at ``index``; the index after it."""
    header = lines[index]
    base = _indent(header)
    section = header.strip()[:-1]
    index += 1
    entry_indent: int | None = None
    current: str | None = None
    while index < len(lines):
        line = lines[index]
        if line.strip() and _indent(line) <= base:
            break  # the next section
        if section in _GOOGLE_PARAMS and line.strip():
            indent = _indent(line)
            if entry_indent is None:
                entry_indent = indent
            match = _GOOGLE_ENTRY.match(line.strip()) if indent == entry_indent else None
            if match:
                current = match.group(1)
                params[current] = match.group(2).strip()
            elif current is not None:
                params[current] = f"{params[current]} {line.strip()}".strip()
        index += 1
    return index


def _numpy(lines: list[str], index: int, params: dict[str, str]) -> int:
    """Read the NumPy section whose title is at ``index``; the index after it."""
    section = lines[index].strip()
    index += 2
    current: str | None = None
    while index < len(lines):
        line = lines[index]
        if index + 1 < len(lines) and _NUMPY_RULE.match(lines[index + 1].strip()) and line.strip():
            break  # the next section
        if section == "Parameters" and line.strip():
            if _indent(line) == 0:
                current = line.split(":")[0].strip().lstrip("*")
                params[current] = ""
            elif current is not None:
                params[current] = f"{params[current]} {line.strip()}".strip()
        index += 1
    return index


def _sphinx(lines: list[str], index: int, params: dict[str, str]) -> int:
    """Read Sphinx fields from ``index`` on; the index after them."""
    current: str | None = None
    while index < len(lines):
        stripped = lines[index].strip()
        match = _SPHINX_FIELD.match(stripped)
        if match:
            kind, rest, text = match.groups()
            words = rest.split()
            if kind in ("param", "parameter", "arg", "argument", "key", "keyword") and words:
                current = words[-1].lstrip("*")
                params[current] = text.strip()
            else:
                current = None
        elif stripped and current is not None and not stripped.startswith(":"):
            params[current] = f"{params[current]} {stripped}".strip()
        elif _GOOGLE_SECTION.match(lines[index]):
            break
        index += 1
    return index


class InputSpec(msgspec.Struct, frozen=True):
    """How a function is called as a tool: its input type and schema (see :func:`input_spec`).

    Attributes:
        input_type: a Struct with one field per named parameter.
        schema: the JSON schema of the input, for the tool's ``input_schema``.
        positional: the parameters that can only be passed by position, in order.
        description: the docstring's description.
        free_keywords: whether the function takes ``**kwargs``: the input's other members
            are passed to it as they are.
    """

    input_type: type[msgspec.Struct]
    schema: dict[str, Any]
    positional: tuple[str, ...]
    description: str
    free_keywords: bool = False


def hinted(fn: Callable[..., Any]) -> Any:
    """What holds the annotations of ``fn``: itself, the function a ``functools.partial``
    wraps, or for an instance with a ``__call__`` method (which ``typing.get_type_hints``
    does not read), that method."""
    while isinstance(fn, functools.partial):
        fn = fn.func
    if inspect.isroutine(fn) or inspect.isclass(fn):
        return fn
    return type(fn).__call__


def documented(fn: Callable[..., Any]) -> str | None:
    """The docstring of ``fn`` (of the function a ``functools.partial`` wraps); for a
    callable instance, its ``__call__``'s, else its class's own (never one inherited from
    ``object`` or ``type``, such as "Call self as a function.")."""
    while isinstance(fn, functools.partial):
        fn = fn.func
    if inspect.isroutine(fn) or inspect.isclass(fn):
        return inspect.getdoc(fn)
    cls = type(fn)
    doc = getattr(cls.__call__, "__doc__", None) if "__call__" in vars(cls) else None
    if not doc:
        # Up the class's own hierarchy, stopping short of the builtins'.
        for base in cls.__mro__:
            if base is object:
                break
            if "__call__" in vars(base) and vars(base)["__call__"].__doc__:
                doc = vars(base)["__call__"].__doc__
                break
    doc = doc or cls.__doc__
    return inspect.cleandoc(doc) if doc else None


def named(fn: Callable[..., Any]) -> str:
    """The name of ``fn``: its ``__name__`` (the wrapped function's, for a
    ``functools.partial``), else its class's for a callable instance."""
    while isinstance(fn, functools.partial):
        fn = fn.func
    return str(getattr(fn, "__name__", None) or type(fn).__name__)


def is_async_callable(fn: Callable[..., Any]) -> bool:
    """Whether calling ``fn`` gives a coroutine: an ``async def``, one behind
    ``functools.wraps`` or ``functools.partial``, or an instance whose ``__call__`` is one."""
    while isinstance(fn, functools.partial):
        fn = fn.func
    if inspect.iscoroutinefunction(fn) or inspect.iscoroutinefunction(inspect.unwrap(fn)):
        return True
    if inspect.isroutine(fn) or inspect.isclass(fn):
        return False
    return inspect.iscoroutinefunction(type(fn).__call__)


def struct_schema(struct: type[msgspec.Struct]) -> dict[str, Any]:
    """The JSON schema of ``struct`` as a tool's ``input_schema``: its own object schema
    at the root (no ``title``), the schemas it refers to under ``$defs``.

    Raises:
        TypeError: a field's type has no JSON schema.
    """
    defs: dict[str, Any] = dict(msgspec.json.schema(struct).get("$defs", {}))
    schema: dict[str, Any] = dict(defs.pop(struct.__name__))
    schema.pop("title", None)
    if defs:
        schema["$defs"] = defs
    return schema


def input_spec(
    fn: Callable[..., Any],
    name: str,
    *,
    skip: frozenset[str] = frozenset(),
    localns: Mapping[str, Any] | None = None,
) -> InputSpec:
    """Derive the input of the tool ``name`` from the signature and docstring of ``fn``.

    Args:
        fn: the function.
        name: the tool's name (names the generated Struct).
        skip: parameters that are not part of the input (they are left out of the schema).
        localns: names to resolve string annotations with besides the function's module
            (the scope it was defined in, for a Struct defined in a function).

    Raises:
        TypeError: a parameter is ``*args``, or an annotation has no JSON schema
            (``msgspec`` says which).
    """
    signature = inspect.signature(fn)
    hints = typing.get_type_hints(hinted(fn), localns=dict(localns or {}), include_extras=True)
    description, param_docs = parse_docstring(documented(fn))
    fields: list[tuple[str, Any] | tuple[str, Any, Any]] = []
    positional: list[str] = []
    free_keywords = False
    for param in signature.parameters.values():
        if param.name in skip:
            continue
        if param.kind is inspect.Parameter.VAR_POSITIONAL:
            raise TypeError(
                f"tool {name!r}: *{param.name} cannot be filled from a JSON object; "
                "name every parameter"
            )
        if param.kind is inspect.Parameter.VAR_KEYWORD:
            free_keywords = True
            continue
        if param.kind is inspect.Parameter.POSITIONAL_ONLY:
            positional.append(param.name)
        annotation = hints.get(param.name, Any)
        if param.default is inspect.Parameter.empty:
            fields.append((param.name, annotation))
        elif isinstance(param.default, list | dict | set) and param.default:
            # msgspec copies empty containers itself; a filled one needs a factory.
            factory = functools.partial(copy.deepcopy, param.default)
            fields.append((param.name, annotation, msgspec.field(default_factory=factory)))
        else:
            fields.append((param.name, annotation, param.default))
    input_type = msgspec.defstruct(f"{name}_input", fields, kw_only=True)
    try:
        schema = struct_schema(input_type)
    except TypeError as exc:
        raise TypeError(f"tool {name!r}: a parameter type has no JSON schema: {exc}") from exc
    if not schema.get("required"):
        schema.pop("required", None)
    properties = schema.setdefault("properties", {})
    for field, text in param_docs.items():
        entry = properties.get(field)
        if isinstance(entry, dict) and text and "description" not in entry:
            # Put the description first: it is what a reader of the schema wants to see.
            properties[field] = {"description": text, **entry}
    return InputSpec(input_type, schema, tuple(positional), description, free_keywords)
