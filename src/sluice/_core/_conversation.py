"""Conversation edits, sans-I/O: tool results, and request transforms for agent loops.

A ``tool_result`` block answers one ``tool_use`` block by its id; its ``content`` is a
string or a list of ``text``/``image``/``document``/``search_result`` blocks, and
``is_error: true`` tells the model the call failed (Messages API reference, "Tool result
content block"). Every ``tool_use`` of an assistant message must be answered in the next
user message, before any other content.

The request transforms take the request parameters of one step of a tool runner (the
keyword arguments of ``client.messages.stream``) and return them edited, without changing
what they were given (the run's ``messages`` stay whole; only what is sent changes):

* :func:`prune_tool_results` shortens the content of all but the last ``keep_last`` tool
  results to a placeholder, keeping every ``tool_use_id`` (so the conversation stays
  valid) and ``is_error``.
* :func:`inject_system` appends a text block to the ``system`` prompt (a string prompt
  becomes a one-block array first); the existing blocks, ``cache_control`` included, are
  kept as they are.

Either changes the request prefix from the edited point on, so the prompt cache is read
only up to there.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import msgspec

from ._params import to_request_body

__all__ = [
    "RequestTransform",
    "inject_system",
    "prune_tool_results",
    "result_content",
    "tool_result",
]

#: A request transform: takes the request parameters, returns them edited (or ``None``
#: after editing them in place). May be a coroutine function.
RequestTransform = Callable[[dict[str, Any]], Any]

_BLOCK_TYPES = frozenset({"text", "image", "document", "search_result"})
_encode = msgspec.json.Encoder().encode


def tool_result(
    tool_use_id: str, content: str | list[Any] | None, *, is_error: bool = False
) -> dict[str, Any]:
    """A ``tool_result`` block answering ``tool_use_id`` (``content=None`` leaves it out)."""
    block: dict[str, Any] = {"type": "tool_result", "tool_use_id": tool_use_id}
    if content is not None:
        block["content"] = content
    if is_error:
        block["is_error"] = True
    return block


def result_content(value: Any) -> str | list[Any] | None:
    """The ``tool_result`` content for a value a tool returned.

    A string is sent as it is; ``None`` sends no content; a list of content blocks (dicts
    or ``sluice.types`` params whose ``type`` is ``text``, ``image``, ``document`` or
    ``search_result``) is sent as blocks; anything else (numbers, dicts, lists, Structs...)
    as its JSON text.

    Raises:
        TypeError: the value cannot be written as JSON.
    """
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, list | tuple) and value and all(_is_block(item) for item in value):
        blocks: list[Any] = to_request_body({"content": list(value)})["content"]
        return blocks
    try:
        return _encode(value).decode()
    except TypeError as exc:
        raise TypeError(
            f"a tool returned a {type(value).__name__}, which cannot be sent as JSON: return "
            "a string, content blocks, or JSON-serializable data"
        ) from exc


def _is_block(item: Any) -> bool:
    kind = item.get("type") if isinstance(item, Mapping) else getattr(item, "type", None)
    return kind in _BLOCK_TYPES


def _messages(request: Mapping[str, Any]) -> list[Any]:
    """The request's messages as plain dicts (structs converted; dicts not copied)."""
    messages = request.get("messages") or []
    converted: list[Any] = to_request_body({"messages": list(messages)})["messages"]
    return converted


def prune_tool_results(
    keep_last: int = 3, *, placeholder: str = "[tool result removed to save context]"
) -> Callable[[dict[str, Any]], dict[str, Any]]:
    """A request transform that keeps only the last ``keep_last`` tool results whole.

    Older ``tool_result`` blocks keep their ``tool_use_id``, ``is_error`` and other fields,
    with ``content`` replaced by ``placeholder``: the conversation stays valid and the model
    knows a result was there. The run's own ``messages`` are not changed.

    Args:
        keep_last: how many of the most recent tool results keep their content (>= 0).
        placeholder: the text that replaces the content of the others.

    Raises:
        ValueError: ``keep_last`` is negative.
    """
    if keep_last < 0:
        raise ValueError(f"keep_last must be >= 0, not {keep_last!r}")

    def prune(request: dict[str, Any]) -> dict[str, Any]:
        messages = _messages(request)
        positions = [
            (m, b)
            for m, message in enumerate(messages)
            if isinstance(message, dict) and isinstance(message.get("content"), list)
            for b, block in enumerate(message["content"])
            if isinstance(block, dict) and block.get("type") == "tool_result"
        ]
        old = positions[: max(len(positions) - keep_last, 0)]
        if not old:
            return request
        messages = list(messages)
        copied: set[int] = set()
        for m, b in old:
            if m not in copied:  # copy each edited message once, never the caller's
                messages[m] = {**messages[m], "content": list(messages[m]["content"])}
                copied.add(m)
            block = messages[m]["content"][b]
            if block.get("content") != placeholder:
                messages[m]["content"][b] = {**block, "content": placeholder}
        return {**request, "messages": messages}

    prune.__qualname__ = prune.__name__ = f"prune_tool_results(keep_last={keep_last})"
    return prune


def inject_system(
    text: str | Callable[[], str], *, cache_control: Mapping[str, Any] | None = None
) -> Callable[[dict[str, Any]], dict[str, Any]]:
    """A request transform that appends a text block to the ``system`` prompt.

    A string ``system`` becomes ``[{"type": "text", "text": system}]`` first; a block
    array is copied and its blocks kept as they are (``cache_control`` included); no
    ``system`` becomes the one new block. Put what changes between steps here rather
    than in the messages, after any cached prefix.

    Args:
        text: the text, or a function called for each request (a clock, the budget left...).
        cache_control: the new block's ``cache_control``, e.g. ``{"type": "ephemeral"}``.
    """

    def inject(request: dict[str, Any]) -> dict[str, Any]:
        block: dict[str, Any] = {"type": "text", "text": text() if callable(text) else text}
        if cache_control is not None:
            block["cache_control"] = dict(cache_control)
        system = request.get("system")
        if system is None or system == "":
            blocks: list[Any] = []
        elif isinstance(system, str):
            blocks = [{"type": "text", "text": system}]
        else:
            blocks = list(system)
        return {**request, "system": [*blocks, block]}

    inject.__qualname__ = inject.__name__ = "inject_system"
    return inject
