"""Sans-I/O: a chat's log entries -> the Vercel AI SDK UI message stream protocol (v1).

The protocol is Server-Sent Events whose ``data:`` lines are JSON "parts" (the AI SDK's
``UIMessageChunk``), announced by the response header ``x-vercel-ai-ui-message-stream: v1``
and ended by ``data: [DONE]``; ``useChat`` reads it unchanged. Mapping from the Messages
API's events:

==========================  ======================================================
``message_start``           ``start`` (``messageId``), ``start-step``
text block                  ``text-start`` / ``text-delta`` / ``text-end``
thinking block              ``reasoning-start`` / ``reasoning-delta`` /
                            ``reasoning-end`` (signature in ``providerMetadata``)
tool_use block              ``tool-input-start`` / ``tool-input-delta`` /
                            ``tool-input-available`` (the parsed input), or
                            ``tool-input-error`` if the input is not JSON
server_tool_use block       the same, with ``providerExecuted: true``
``*_tool_result`` block     ``tool-output-available`` (``providerExecuted: true``)
web search citation         ``source-url``
``message_stop``            ``finish-step``, ``finish`` (``finishReason`` mapped from
                            the stop reason), ``[DONE]``
``error`` entry             ``error`` (``errorText``), ``finish`` (``error``), ``[DONE]``
``stopped`` entry           ``abort``, ``[DONE]``
==========================  ======================================================

An agent run's log (several messages, with the runner's events) is one UI message of
several steps: ``start`` once, each message's parts between ``start-step`` and
``finish-step``, and the runner's events as follows:

==========================  ======================================================
``tool_finish``             ``tool-output-available`` (``output``: the
                            ``tool_result``'s content), or ``tool-output-error``
                            (``errorText``) when the result is an error
``step_end`` with an        ``finish`` (``finishReason`` mapped from the run's
``end_reason``              ``end_reason``; limits such as ``max_steps`` ->
                            ``other``), ``[DONE]``
``step_start``,             nothing (the UI shows the call from its input parts and
``tool_start``, other       its output part)
``step_end``
==========================  ======================================================

Part ids are derived from the block index (``text-0``, ``reasoning-1``), so they are the
same for every reader and across reconnects. Each entry's parts go out as one write in
which only the last frame carries the entry's ``id:``: a reader that resumes after that id
gets exactly the parts that follow (resumable at part boundaries, by entry). Resuming
needs the encoder's state (open blocks, tool names, input so far), so a resumed reader
feeds the log from its start with output discarded up to its position
(:meth:`VercelEncoder.skip`). Once the log's cap has dropped its start, a
``VercelEncoder(resumed=True)`` is fed from the oldest kept entry instead and rebuilds
what those entries tell (a text or thinking block is known from any of its deltas); only
an entry that needs what was dropped (a tool call whose start is gone, the stop reason)
sets :attr:`VercelEncoder.missing`, and the reader gets ``log_trimmed_error`` there.
"""

from __future__ import annotations

from typing import Any, Final

import msgspec

from .._core._exceptions import PartialJSONError
from .._core._partial_json import PartialJSONParser
from ._store import RUN_EVENTS, Entry, decode_step_end

__all__ = ["VERCEL_HEADERS", "VercelEncoder", "finish_reason"]

#: Response headers of a UI message stream (``x-vercel-ai-ui-message-stream: v1``).
VERCEL_HEADERS: Final = {"x-vercel-ai-ui-message-stream": "v1"}

_FINISH_REASONS: Final = {
    "end_turn": "stop",
    "stop_sequence": "stop",
    "pause_turn": "stop",
    "max_tokens": "length",
    "model_context_window_exceeded": "length",
    "tool_use": "tool-calls",
    "refusal": "content-filter",
}
_TOOL_CALLS: Final = frozenset({"tool_use", "server_tool_use", "mcp_tool_use"})
_DONE: Final = b"data: [DONE]\n\n"
_encode = msgspec.json.Encoder().encode


def finish_reason(stop_reason: str | None) -> str:
    """The AI SDK ``finishReason`` for a Messages API ``stop_reason``.

    ``end_turn``, ``stop_sequence`` and ``pause_turn`` -> ``stop``; ``max_tokens`` and
    ``model_context_window_exceeded`` -> ``length``; ``tool_use`` -> ``tool-calls``;
    ``refusal`` -> ``content-filter``; anything else -> ``other``.
    """
    return _FINISH_REASONS.get(stop_reason or "", "other")


class _DeltaBody(msgspec.Struct):
    type: str
    text: str = ""
    thinking: str = ""
    partial_json: str = ""
    signature: str = ""
    citation: Any = None


class _Delta(msgspec.Struct):
    index: int
    delta: _DeltaBody


_decode_delta = msgspec.json.Decoder(_Delta).decode
_decode_any = msgspec.json.Decoder().decode


class _ToolFinish(msgspec.Struct):
    id: str = ""
    is_error: bool = False
    result: dict[str, Any] = {}


class _StepStart(msgspec.Struct):
    step: int = 0


_decode_tool_finish = msgspec.json.Decoder(_ToolFinish).decode
_decode_step_start = msgspec.json.Decoder(_StepStart).decode


def _error_text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(
            block["text"]
            for block in content
            if isinstance(block, dict) and isinstance(block.get("text"), str)
        )
    return "the tool failed"


class _Missing(Exception):
    """An entry needs encoder state from before the entries it was fed (internal)."""


class _Block:
    __slots__ = ("id", "input", "kind", "name", "partial", "provider_executed", "signature")

    def __init__(
        self,
        kind: str,
        part_id: str,
        name: str = "",
        executed: bool = False,
        *,
        partial: bool = False,
    ) -> None:
        self.kind = kind  # "text", "reasoning", "tool" or "" (nothing to send)
        self.id = part_id
        self.name = name
        self.provider_executed = executed
        self.input: list[str] = []
        self.signature = ""
        #: Its start was not seen (a resumed encoder): what came before is unknown.
        self.partial = partial


class VercelEncoder:
    """Log entries in, UI message stream frames out (one ``bytes`` write per entry).

    Example::

        encoder = VercelEncoder()
        async for entry in store.read(chat_id):
            if entry is not None:
                await send(encoder.encode(entry))

    Args:
        resumed: the entries fed start inside the log (the cap dropped its start): the
            encoder rebuilds what they tell and sets :attr:`missing` when one needs more.
        run: the log is an agent run's (:attr:`ChatInfo.run`); needed with ``resumed``,
            since a log read from its start says so in its first entry.
    """

    __slots__ = (
        "_blocks",
        "_known",
        "_run",
        "_started",
        "_step",
        "_stop_known",
        "_stop_reason",
        "done",
        "missing",
    )

    def __init__(self, *, resumed: bool = False, run: bool = False) -> None:
        self._blocks: dict[int, _Block] = {}
        self._stop_reason: str | None = None
        # An agent run's log (also known from its runner events); whether ``start`` was
        # written (a resumed reader has it).
        self._run = run
        self._started = resumed
        # The run's step being read (unknown to a resumed encoder until a step_start).
        self._step: int | None = None if resumed else 0
        # Whether the state covers the current message from its start; whether its stop
        # reason is known (all its end needs).
        self._known = not resumed
        self._stop_known = not resumed
        #: Whether ``[DONE]`` was written (the stream is over).
        self.done = False
        #: Whether an entry needed state from before the first entry fed (only when
        #: ``resumed``); that entry's frames were not produced, and the reader should get
        #: ``log_trimmed_error`` instead.
        self.missing = False

    def skip(self, entry: Entry) -> None:
        """Advance the state past ``entry`` without output (to resume after it)."""
        try:
            self._parts(entry)
        except _Missing:
            pass  # output the reader already has: only the state matters

    def encode(self, entry: Entry) -> bytes:
        """The SSE frames for one entry; the last carries ``id: <entry id>``.

        A ``log_trimmed_error`` entry (which repeats the reader's position) gets no id.
        ``b""`` (and :attr:`missing` set) when the entry needs state the encoder never saw.
        """
        parts = self.parts(entry)
        if not parts:
            return b""
        frames = [b"data: %s\n\n" % part for part in parts[:-1]]
        last = parts[-1]
        body = b"data: %s\n\n" % last
        if entry.id and not entry.trimmed:
            body = b"id: %d\n%s" % (entry.id, body)
        frames.append(body)
        return b"".join(frames)

    def parts(self, entry: Entry) -> list[bytes]:
        """The JSON parts for one entry (``b"[DONE]"`` for the end marker); ``[]`` (and
        :attr:`missing` set) when it needs state the encoder never saw."""
        try:
            return self._parts(entry)
        except _Missing:
            self.missing = True
            return []

    def _parts(self, entry: Entry) -> list[bytes]:
        event = entry.event
        if event in RUN_EVENTS:
            self._run = True
            return self._run_event(event, entry.data)
        if event == "content_block_delta":
            return self._delta(entry.data)
        if event == "content_block_start":
            return self._block_start(_decode_any(entry.data))
        if event == "content_block_stop":
            return self._block_stop(_decode_any(entry.data))
        if event == "message_start":
            self._blocks.clear()
            self._stop_reason = None
            self._known = self._stop_known = True
            if self._run and self._step is None:
                self._started = True
                raise _Missing  # which step? `start` is written with the first one only
            if self._started:
                return [b'{"type":"start-step"}']  # the next step of a run
            self._started = True
            message = _decode_any(entry.data).get("message") or {}
            start: dict[str, Any] = {"type": "start"}
            if isinstance(message.get("id"), str):
                start["messageId"] = message["id"]
            return [_encode(start), b'{"type":"start-step"}']
        if event == "message_delta":
            delta = _decode_any(entry.data).get("delta") or {}
            if delta.get("stop_reason") is not None:
                self._stop_reason = delta["stop_reason"]
                self._stop_known = True
            return []
        if event == "message_stop":
            if self._run:
                return [b'{"type":"finish-step"}']  # the run's last step_end finishes
            if not self._stop_known:
                raise _Missing
            self.done = True
            finish = {"type": "finish", "finishReason": finish_reason(self._stop_reason)}
            return [b'{"type":"finish-step"}', _encode(finish), b"[DONE]"]
        if event == "error":
            self.done = True
            error = _decode_any(entry.data).get("error") or {}
            text = f"{error.get('type', 'error')}: {error.get('message', '')}"
            return [
                _encode({"type": "error", "errorText": text}),
                b'{"type":"finish","finishReason":"error"}',
                b"[DONE]",
            ]
        if event == "stopped":
            self.done = True
            return [b'{"type":"abort"}', b"[DONE]"]
        return []  # ping, unknown events: nothing a UI message stream carries

    def _run_event(self, event: str, data: bytes) -> list[bytes]:
        try:
            if event == "tool_finish":
                finish = _decode_tool_finish(data)
                content = finish.result.get("content")
                if finish.is_error:
                    part = {
                        "type": "tool-output-error",
                        "toolCallId": finish.id,
                        "errorText": _error_text(content),
                    }
                else:
                    part = {"type": "tool-output-available", "toolCallId": finish.id}
                    part["output"] = content if content is not None else ""
                return [_encode(part)]
            if event == "step_start":
                self._step = _decode_step_start(data).step
                if self._step == 1:
                    self._started = False  # its message starts the UI message
                return []
            if event == "step_end":
                end_reason = decode_step_end(data).end_reason
                if end_reason is None:
                    return []
                self.done = True
                finish_part = {"type": "finish", "finishReason": finish_reason(end_reason)}
                return [_encode(finish_part), b"[DONE]"]
        except msgspec.DecodeError:
            return []
        return []  # tool_start: the UI shows a call by its input and output parts

    def _block_start(self, event: dict[str, Any]) -> list[bytes]:
        index = event.get("index", 0)
        block = event.get("content_block") or {}
        kind = block.get("type", "")
        if kind == "text":
            self._blocks[index] = _Block("text", f"text-{index}")
            parts = [_encode({"type": "text-start", "id": f"text-{index}"})]
            if block.get("text"):
                parts.append(
                    _encode({"type": "text-delta", "id": f"text-{index}", "delta": block["text"]})
                )
            return parts
        if kind == "thinking":
            self._blocks[index] = _Block("reasoning", f"reasoning-{index}")
            return [_encode({"type": "reasoning-start", "id": f"reasoning-{index}"})]
        if kind in _TOOL_CALLS:
            executed = kind != "tool_use"
            tool = _Block("tool", str(block.get("id", "")), str(block.get("name", "")), executed)
            self._blocks[index] = tool
            start: dict[str, Any] = {
                "type": "tool-input-start",
                "toolCallId": tool.id,
                "toolName": tool.name,
            }
            if executed:
                start["providerExecuted"] = True
            return [_encode(start)]
        if kind.endswith("_tool_result") and "tool_use_id" in block:
            self._blocks[index] = _Block("", "")
            output = {
                "type": "tool-output-available",
                "toolCallId": block["tool_use_id"],
                "output": block.get("content"),
                "providerExecuted": True,
            }
            return [_encode(output)]
        self._blocks[index] = _Block("", "")
        return []

    def _delta(self, data: bytes) -> list[bytes]:
        try:
            event = _decode_delta(data)
        except msgspec.DecodeError:
            return []
        delta = event.delta
        kind = delta.type
        block = self._blocks.get(event.index)
        if block is None:
            if self._known:
                return []  # a delta without a block: nothing to say
            block = self._adopt(event.index, kind)
        if kind == "text_delta" and block.kind == "text":
            return [_encode({"type": "text-delta", "id": block.id, "delta": delta.text})]
        if kind == "thinking_delta" and block.kind == "reasoning":
            return [_encode({"type": "reasoning-delta", "id": block.id, "delta": delta.thinking})]
        if kind == "input_json_delta" and block.kind == "tool":
            block.input.append(delta.partial_json)
            if block.partial:
                raise _Missing  # its id, name and input so far were dropped
            if not delta.partial_json:
                return []
            part = {"type": "tool-input-delta", "toolCallId": block.id}
            part["inputTextDelta"] = delta.partial_json
            return [_encode(part)]
        if kind == "signature_delta":
            block.signature += delta.signature
            return []
        if kind == "citations_delta" and isinstance(delta.citation, dict):
            citation = delta.citation
            if citation.get("type") == "web_search_result_location" and citation.get("url"):
                source: dict[str, Any] = {
                    "type": "source-url",
                    "sourceId": citation["url"],
                    "url": citation["url"],
                }
                if isinstance(citation.get("title"), str):
                    source["title"] = citation["title"]
                return [_encode(source)]
        return []

    def _adopt(self, index: int, delta_type: str) -> _Block:
        """A block met in the middle (a resumed encoder): what its delta type tells.

        A text or thinking block needs nothing from before (ids come from the index; a
        thinking block's signature comes after its text); a tool call does (its id, name
        and input so far), and so does a thinking block met at its signature.
        """
        if delta_type in ("text_delta", "citations_delta"):
            block = _Block("text", f"text-{index}")
        elif delta_type == "thinking_delta":
            block = _Block("reasoning", f"reasoning-{index}")
        elif delta_type == "input_json_delta":
            block = _Block("tool", "", partial=True)
        elif delta_type == "signature_delta":
            block = _Block("reasoning", f"reasoning-{index}", partial=True)
        else:
            block = _Block("", "", partial=True)
        self._blocks[index] = block
        return block

    def _block_stop(self, event: dict[str, Any]) -> list[bytes]:
        block = self._blocks.pop(event.get("index", 0), None)
        if block is None and not self._known:
            raise _Missing  # a block of which nothing was seen: which end part?
        if block is not None and block.partial:
            raise _Missing  # its end part needs what came before (a tool's whole input)
        if block is None or not block.kind:
            return []
        if block.kind == "text":
            return [_encode({"type": "text-end", "id": block.id})]
        if block.kind == "reasoning":
            end: dict[str, Any] = {"type": "reasoning-end", "id": block.id}
            if block.signature:
                end["providerMetadata"] = {"anthropic": {"signature": block.signature}}
            return [_encode(end)]
        text = "".join(block.input)
        part: dict[str, Any] = {"toolCallId": block.id, "toolName": block.name}
        try:
            part["input"] = _decode_any(text) if text.strip() else {}
            part["type"] = "tool-input-available"
        except msgspec.DecodeError as exc:
            part["input"] = text
            part["type"] = "tool-input-error"
            part["errorText"] = _input_error(text, exc)
        if block.provider_executed:
            part["providerExecuted"] = True
        return [_encode(part)]


def _input_error(text: str, exc: msgspec.DecodeError) -> str:
    """Why a tool input that ended is not a value: cut short, or not JSON at all.

    A block that stops on a valid prefix of JSON was cut (the model reached
    ``max_tokens`` while writing it); anything else is malformed.
    """
    parser = PartialJSONParser()
    try:
        parser.feed(text)
    except PartialJSONError:
        return f"the tool input is not valid JSON: {exc}"
    if parser.done:
        return f"the tool input is not valid JSON: {exc}"
    return (
        f"the tool input was cut short after {len(text)} characters, before its JSON "
        "was complete (the model reached max_tokens while writing it)"
    )
