"""What the Vercel AI SDK's ``DefaultChatTransport`` sends, in the relay's terms.

``useChat({ transport: new DefaultChatTransport({ api: "/vercel/chat" }), resume: true })``
POSTs ``{id, messages, trigger, messageId, ...body}`` to ``api`` and reads the response as
a UI message stream; on mount it GETs ``{api}/{id}/stream`` to resume the generation in
flight (``204``: none). The chat id is the SDK's and stays the same across turns, so each
turn is a relay chat of its own, ``{id}--{n}`` (``n`` = 1, 2...); the newest one is the
chat's stream.

Only the text of each UI message is sent to the model (``text`` parts; ``system``
messages become the ``system`` prompt). Tool, reasoning and file parts are left out.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from .._core._exceptions import ParamsError
from ._params import browser_params
from ._store import ChatExistsError, ChatInfo, Store, validate_chat_id

__all__ = ["latest_turn", "messages_params", "next_turn", "turn_id"]

#: Turns looked at when finding a chat's newest one.
_MAX_TURNS: Final = 1000
_TRANSPORT_FIELDS: Final = frozenset({"id", "messages", "trigger", "messageId"})


def turn_id(chat_id: str, turn: int) -> str:
    """The relay chat of one turn of an AI SDK chat: ``{chat_id}--{turn}``."""
    return f"{chat_id}--{turn}"


def _text(message: Mapping[str, Any]) -> str:
    parts = message.get("parts")
    if not isinstance(parts, list):
        content = message.get("content")  # AI SDK 4's message shape
        return content if isinstance(content, str) else ""
    return "".join(
        part["text"]
        for part in parts
        if isinstance(part, dict)
        and part.get("type") == "text"
        and isinstance(part.get("text"), str)
    )


def messages_params(body: Any, defaults: Mapping[str, Any]) -> tuple[str, dict[str, Any]]:
    """The chat id and the Messages API parameters of a ``DefaultChatTransport`` POST.

    Fields of the body other than the transport's own (``id``, ``messages``, ``trigger``,
    ``messageId``), e.g. from ``useChat``'s ``body`` option, override ``defaults``; they
    are a browser's, so Messages API fields only (see :func:`browser_params`).

    Raises:
        ParamsError: no chat id, no messages, nothing for the model to answer, or a field
            that is not a Messages API field (a request option...).
        InvalidChatIdError: a malformed chat id.
    """
    if not isinstance(body, dict):
        raise ParamsError("expected the AI SDK's JSON body: {id, messages, ...}", field="body")
    chat_id = body.get("id")
    if not isinstance(chat_id, str):
        raise ParamsError("the body has no chat id (`id`)", field="id")
    validate_chat_id(chat_id)
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        raise ParamsError("the body has no `messages`", field="messages")
    params = dict(defaults)
    params.update(browser_params({k: v for k, v in body.items() if k not in _TRANSPORT_FIELDS}))
    system: list[str] = []
    converted: list[dict[str, str]] = []
    for index, message in enumerate(messages):
        if not isinstance(message, dict):
            raise ParamsError(
                "every message is an object with `role` and `parts`", field=f"messages[{index}]"
            )
        role, text = message.get("role"), _text(message)
        if role == "system":
            system.append(text)
        elif role in ("user", "assistant") and text:
            converted.append({"role": str(role), "content": text})
    if not converted or converted[-1]["role"] != "user":
        raise ParamsError(
            "the conversation must end with a user message with text", field="messages"
        )
    params["messages"] = converted
    if system and "system" not in params:
        params["system"] = "\n\n".join(system)
    return chat_id, params


async def latest_turn(store: Store, chat_id: str) -> tuple[int, ChatInfo | None]:
    """The newest turn of an AI SDK chat and its info: ``(0, None)`` if it has none."""
    newest: tuple[int, ChatInfo | None] = (0, None)
    for turn in range(1, _MAX_TURNS + 1):
        info = await store.info(turn_id(chat_id, turn))
        if info is None:
            return newest
        newest = (turn, info)
    return newest


async def next_turn(store: Store, chat_id: str) -> str:
    """Create the chat of the next turn (``running``); its id.

    Raises:
        ParamsError: the chat has its maximum of turns. StoreFullError: no room.
    """
    turn, _ = await latest_turn(store, chat_id)
    for attempt in range(turn + 1, _MAX_TURNS + 1):
        try:
            await store.create(turn_id(chat_id, attempt), state="running")
        except ChatExistsError:
            continue  # another request took this turn first
        return turn_id(chat_id, attempt)
    raise ParamsError(f"chat {chat_id!r} has {_MAX_TURNS} turns; start a new chat", field="id")
