"""Scripted model turns: a reply from text, thinking and tool calls, without writing SSE.

:class:`Turn` builds the events the Messages API streams for one assistant message
(``message_start``, each block's start, deltas and stop, ``message_delta`` with the stop
reason and usage, ``message_stop``) from its content, and serves them with pacing: a
``delay`` between events and :func:`pause`\\ s between blocks. :class:`Conversation` plays
several turns in order, one per request, and checks each request: that it answers the
previous turn's tool calls with ``tool_result``\\ s in order (or sends a paused turn back
to be continued), plus any check of your own::

    from sluice.testing import Conversation, Turn, tool_use

    script = Conversation(
        Turn("Let me look.", tool_use("get_weather", {"city": "Paris"}, id="toolu_1")),
        Turn("Sunny in Paris.", expect=lambda request: ...),
    )
    server.route("POST", "/v1/messages", script)
    ...  # run the agent
    script.verify()  # every turn was requested, every check passed

A text is streamed in pieces of ``chunk`` characters, a tool call's input as fragments of
its JSON text of ``chunk`` characters, starting with an empty fragment, as the API does.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import msgspec

from ._server import RecordedRequest, Reply, _encode_event

__all__ = ["Conversation", "Pause", "Thinking", "ToolUse", "Turn", "pause", "thinking", "tool_use"]

_ids = itertools.count(1)
_encode = msgspec.json.Encoder().encode


def _new_id(prefix: str) -> str:
    return f"{prefix}_{next(_ids):024d}"


@dataclass(frozen=True)
class ToolUse:
    """A tool call of a scripted turn; made by :func:`tool_use`."""

    name: str
    input: Any
    id: str
    server: bool = False
    truncate: int | None = None


@dataclass(frozen=True)
class Thinking:
    """A thinking block of a scripted turn; made by :func:`thinking`."""

    text: str
    signature: str


@dataclass(frozen=True)
class Pause:
    """A pause between two blocks of a scripted turn; made by :func:`pause`."""

    seconds: float


def tool_use(
    name: str,
    input: Any = None,
    *,
    id: str | None = None,
    server: bool = False,
    truncate: int | None = None,
) -> ToolUse:
    """A tool call: a ``tool_use`` block (``server_tool_use`` with ``server=True``) whose
    input is streamed as JSON fragments.

    Args:
        name: the tool's name.
        input: its input (a JSON object; ``None`` is ``{}``).
        id: the block's id; a unique ``toolu_...`` (``srvtoolu_...``) by default.
        server: a server tool call (``web_search``...), run by the API, not by you.
        truncate: stream only this many characters of the input's JSON, as when
            ``max_tokens`` cuts the call off (give the turn ``stop_reason="max_tokens"``).
    """
    prefix = "srvtoolu" if server else "toolu"
    return ToolUse(name, {} if input is None else input, id or _new_id(prefix), server, truncate)


def thinking(text: str, *, signature: str = "c2lnbmF0dXJl") -> Thinking:
    """A thinking block streamed as ``thinking_delta``\\ s, then its ``signature_delta``."""
    return Thinking(text, signature)


def pause(seconds: float) -> Pause:
    """Wait ``seconds`` before the next block (the model is still writing, say).

    Raises:
        ValueError: ``seconds`` is negative.
    """
    if seconds < 0:
        raise ValueError(f"a pause must be >= 0 seconds, not {seconds!r}")
    return Pause(seconds)


#: What a turn's content may hold: text (``str``), :func:`thinking`, :func:`tool_use`,
#: :func:`pause`, or a whole content block as a dict (a server tool's result, say), sent
#: in its ``content_block_start``.
Content = str | Thinking | ToolUse | Pause | Mapping[str, Any]


class Turn:
    """One scripted assistant message, served as a Messages API stream.

    Use it as a reply (``server.enqueue(Turn(...))``: it is a function of the request), in
    a :class:`Conversation`, or read its :meth:`events`.

    Args:
        content: the blocks, in order (see ``Content``): strings are text blocks.
        stop_reason: the message's ``stop_reason``; by default ``"tool_use"`` if it calls
            a client tool, else ``"end_turn"``.
        usage: the message's usage (``input_tokens``, ``output_tokens``, cache fields);
            by default 25 input tokens and one output token per 4 characters streamed.
        model: the ``model`` of the message.
        delay: seconds between two events.
        chunk: characters per text, thinking or input JSON delta.
        expect: a check of the request this turn answers, called with the
            :class:`~sluice.testing.RecordedRequest`; raise ``AssertionError`` (or return
            ``False``) when it is wrong. Only a :class:`Conversation` runs it.
        expect_results: the ``tool_result`` blocks the request must end with, in order:
            each a string (the result's exact ``content``) or a mapping of the fields it
            must have (``{"is_error": True}``). Only a :class:`Conversation` checks it.

    Raises:
        ValueError: ``delay`` is negative or ``chunk`` below 1.
    """

    def __init__(
        self,
        *content: Content,
        stop_reason: str | None = None,
        usage: Mapping[str, Any] | None = None,
        model: str = "claude-sonnet-4-5",
        delay: float = 0.0,
        chunk: int = 8,
        expect: Callable[[RecordedRequest], object] | None = None,
        expect_results: Sequence[str | Mapping[str, Any]] | None = None,
    ) -> None:
        if delay < 0:
            raise ValueError(f"delay must be >= 0, not {delay!r}")
        if chunk < 1:
            raise ValueError(f"chunk must be >= 1, not {chunk!r}")
        self.content: tuple[Content, ...] = content
        calls = any(isinstance(item, ToolUse) and not item.server for item in content)
        self.stop_reason = stop_reason or ("tool_use" if calls else "end_turn")
        self.model = model
        self.delay = delay
        self.chunk = chunk
        self.expect = expect
        self.expect_results = list(expect_results) if expect_results is not None else None
        self.id = _new_id("msg")
        self._usage = dict(usage) if usage is not None else None

    def __repr__(self) -> str:
        kinds = [
            type(item).__name__ if not isinstance(item, str) else "text" for item in self.content
        ]
        return f"<Turn {', '.join(kinds) or 'empty'} -> {self.stop_reason}>"

    @property
    def tool_uses(self) -> list[ToolUse]:
        """The turn's client tool calls, in order."""
        return [item for item in self.content if isinstance(item, ToolUse) and not item.server]

    def __call__(self, request: RecordedRequest) -> Reply:
        """The reply to ``request``: this turn, streamed (a MockAnthropic handler)."""
        return self.reply()

    def reply(self) -> Reply:
        """This turn as a streamed :class:`~sluice.testing.Reply`, paced."""
        writes: list[bytes] = []
        pauses: list[float] = []
        waiting = 0.0
        for item in self._items():
            if isinstance(item, Pause):
                waiting += item.seconds
                continue
            writes.append(_encode_event(item))
            pauses.append(waiting)
            waiting = 0.0
        return Reply(
            _kind="stream",
            _headers=(
                ("content-type", "text/event-stream; charset=utf-8"),
                ("cache-control", "no-cache"),
            ),
            _writes=tuple(writes),
            _delay=self.delay,
            _pauses=tuple(pauses),
        )

    def events(self) -> list[dict[str, Any]]:
        """The turn's events as the API would stream them (pauses left out)."""
        return [item for item in self._items() if not isinstance(item, Pause)]

    def _items(self) -> list[dict[str, Any] | Pause]:
        chunk = self.chunk
        items: list[dict[str, Any] | Pause] = []
        streamed = 0
        index = 0
        for item in self.content:
            if isinstance(item, Pause):
                items.append(item)
                continue
            if isinstance(item, str):
                items.append(_start(index, {"type": "text", "text": ""}))
                for piece in _pieces(item, chunk):
                    items.append(_delta(index, {"type": "text_delta", "text": piece}))
                streamed += len(item)
            elif isinstance(item, Thinking):
                items.append(_start(index, {"type": "thinking", "thinking": "", "signature": ""}))
                for piece in _pieces(item.text, chunk):
                    items.append(_delta(index, {"type": "thinking_delta", "thinking": piece}))
                items.append(
                    _delta(index, {"type": "signature_delta", "signature": item.signature})
                )
                streamed += len(item.text)
            elif isinstance(item, ToolUse):
                kind = "server_tool_use" if item.server else "tool_use"
                block = {"type": kind, "id": item.id, "name": item.name, "input": {}}
                items.append(_start(index, block))
                text = _encode(item.input).decode()
                if item.truncate is not None:
                    text = text[: item.truncate]
                for piece in ["", *_pieces(text, chunk)]:
                    items.append(_delta(index, {"type": "input_json_delta", "partial_json": piece}))
                streamed += len(text)
            else:
                items.append(_start(index, dict(item)))
            items.append({"type": "content_block_stop", "index": index})
            index += 1
        usage = dict(self._usage) if self._usage is not None else None
        if usage is None:
            usage = {"input_tokens": 25, "output_tokens": max(1, streamed // 4)}
        start_usage = {**usage, "output_tokens": 1}
        message: dict[str, Any] = {
            "id": self.id,
            "type": "message",
            "role": "assistant",
            "model": self.model,
            "content": [],
            "stop_reason": None,
            "stop_sequence": None,
            "usage": start_usage,
        }
        head: list[dict[str, Any] | Pause] = [{"type": "message_start", "message": message}]
        delta_usage = {"output_tokens": usage.get("output_tokens", 1)}
        tail: list[dict[str, Any] | Pause] = [
            {
                "type": "message_delta",
                "delta": {"stop_reason": self.stop_reason, "stop_sequence": None},
                "usage": delta_usage,
            },
            {"type": "message_stop"},
        ]
        return [*head, *items, *tail]


def _pieces(text: str, size: int) -> list[str]:
    return [text[i : i + size] for i in range(0, len(text), size)] or [""]


def _start(index: int, block: dict[str, Any]) -> dict[str, Any]:
    return {"type": "content_block_start", "index": index, "content_block": block}


def _delta(index: int, delta: dict[str, Any]) -> dict[str, Any]:
    return {"type": "content_block_delta", "index": index, "delta": delta}


class Conversation:
    """Scripted turns played in order, one per request, each request checked.

    A function of the request (route it: ``server.route("POST", "/v1/messages",
    conversation)``). For request *n* it serves turn *n*, after checking the request:

    * with ``check=True``, the protocol: after a turn with client tool calls, the last
      message must be a user message answering each of them, in order, with a
      ``tool_result`` (before any other content); after a ``pause_turn`` the last message
      must be the assistant's, sent back; a turn continued after ``pause_turn`` is one
      message, so the calls of its paused parts are answered too, first;
    * the turn's own ``expect``.

    A failed check is answered with a 400 ``invalid_request_error`` whose message says
    what was wrong (the client raises it), and kept for :meth:`verify`.

    Args:
        turns: the turns, in order.
        check: check the protocol (above).
    """

    def __init__(self, *turns: Turn, check: bool = True) -> None:
        self.turns: tuple[Turn, ...] = turns
        self.check = check
        #: The requests received, in order.
        self.requests: list[RecordedRequest] = []
        #: The checks that failed, in order.
        self.failures: list[AssertionError] = []

    def __repr__(self) -> str:
        return f"<Conversation {len(self.requests)}/{len(self.turns)} turns played>"

    @property
    def remaining(self) -> int:
        """How many turns were not requested yet."""
        return max(len(self.turns) - len(self.requests), 0)

    def __call__(self, request: RecordedRequest) -> Reply:
        """Check ``request`` and serve the next turn."""
        number = len(self.requests) + 1
        self.requests.append(request)
        if number > len(self.turns):
            return self._fail(
                f"request {number} was not scripted: the conversation has {len(self.turns)} turns"
            )
        turn = self.turns[number - 1]
        try:
            if self.check and number > 1:
                _check_protocol(self.turns[: number - 1], request, number)
            if turn.expect_results is not None:
                _check_results(turn.expect_results, request, number)
            if turn.expect is not None and turn.expect(request) is False:
                raise AssertionError(f"request {number}: the turn's expect() returned False")
        except AssertionError as exc:
            return self._fail(str(exc) or f"request {number}: a check failed", exc)
        return turn.reply()

    def verify(self) -> None:
        """Raise the first failed check, or if some turns were never requested.

        Raises:
            AssertionError: what went wrong.
        """
        if self.failures:
            raise self.failures[0]
        if self.remaining:
            raise AssertionError(
                f"{self.remaining} of {len(self.turns)} scripted turns were never requested"
            )

    def _fail(self, message: str, exc: AssertionError | None = None) -> Reply:
        self.failures.append(exc if exc is not None else AssertionError(message))
        return Reply.error(400, "invalid_request_error", f"sluice.testing: {message}")


def _check_protocol(played: Sequence[Turn], request: RecordedRequest, number: int) -> None:
    """Check ``request`` against the turns served before it (``played``, in order)."""
    previous = played[-1]
    body = request.json if isinstance(request.json, dict) else {}
    messages = body.get("messages")
    assert isinstance(messages, list) and messages, f"request {number} has no messages"
    last = messages[-1]
    assert isinstance(last, dict), f"request {number}: the last message is not an object"
    if previous.stop_reason == "pause_turn":
        assert last.get("role") == "assistant", (
            f"request {number} follows a pause_turn: its last message should be the paused "
            f"assistant turn, sent back to be continued, not a {last.get('role')!r} message"
        )
        return
    # A turn continued after pause_turn is one assistant message: the calls of its paused
    # parts are answered with the last part's, first.
    start = len(played) - 1
    while start > 0 and played[start - 1].stop_reason == "pause_turn":
        start -= 1
    calls = [call for turn in played[start:] for call in turn.tool_uses]
    if not calls:
        return
    assert last.get("role") == "user", (
        f"request {number} should answer the tool calls of turn {number - 1} in a user "
        f"message, but its last message is a {last.get('role')!r} message"
    )
    content = last.get("content")
    blocks = content if isinstance(content, list) else []
    results = []
    for block in blocks:
        if not (isinstance(block, dict) and block.get("type") == "tool_result"):
            break
        results.append(block.get("tool_use_id"))
    expected = [call.id for call in calls]
    assert results == expected, (
        f"request {number} should answer {expected} with tool_results in that order, first "
        f"in its last message; it answers {results}"
    )


def _check_results(
    expected: list[str | Mapping[str, Any]], request: RecordedRequest, number: int
) -> None:
    body = request.json if isinstance(request.json, dict) else {}
    messages = body.get("messages") or [{}]
    content = messages[-1].get("content") if isinstance(messages[-1], dict) else None
    results = [
        block
        for block in (content if isinstance(content, list) else [])
        if isinstance(block, dict) and block.get("type") == "tool_result"
    ]
    assert len(results) == len(expected), (
        f"request {number} should carry {len(expected)} tool_results, it carries {len(results)}"
    )
    for position, (want, got) in enumerate(zip(expected, results, strict=True)):
        if isinstance(want, str):
            ok = got.get("content") == want
        else:
            ok = all(got.get(key) == value for key, value in want.items())
        assert ok, f"request {number}, tool_result {position}: expected {want!r}, got {got!r}"
