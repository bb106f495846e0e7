"""Tool calls assembled from ``input_json_delta`` events, with their input visible as it streams.

The Messages API streams a tool call as a ``content_block_start`` carrying the block
(``tool_use``, ``server_tool_use`` or ``mcp_tool_use``, with ``input: {}``), then
``content_block_delta`` events whose ``input_json_delta.partial_json`` fragments concatenate
to the input's JSON text, then ``content_block_stop`` ("Streaming Messages", *Input JSON
delta*). :func:`tool_calls` turns that into two kinds of values::

    async with contextlib.aclosing(ops.tool_calls(stream)) as calls:
        async for item in calls:
            match item:
                case ToolCallDelta(changes=changes):
                    ...  # after every fragment: what appeared, grew or completed
                case ToolCall(truncated=True):
                    ...  # cut by max_tokens: its complete values; never run it
                case ToolCall(name=name, input=input):
                    ...  # at content_block_stop: the complete call

:class:`ToolCallAssembler` is the same logic as a sans-I/O class fed one event at a time
(the CLI's ``replay --tools`` uses it without an event loop).

Cost model
    Each call gets its own :class:`~sluice._core._partial_json.PartialJSONParser`, fed every
    fragment once: O(len(fragment)) per delta, O(total input length) per call. The buffer
    is never re-parsed (the official SDK re-parses it with ``jiter`` after every delta,
    which is quadratic). A :class:`ToolCallDelta` carries the fragment and the parser's
    change records (O(1) each; the :class:`~sluice._core._partial_json.Change` objects are
    made when :attr:`~ToolCallDelta.changes` is first read); its
    :attr:`~ToolCallDelta.partial_input` is read from the parser *when you access it*.
    Reading it is O(1) unless a string grew since the last read, in which case that one
    string is brought up to date (on CPython an in-place append, as long as you do not
    keep a reference to the growing string itself between deltas; see the
    ``_partial_json`` cost model). A consumer that only looks at
    ``changes`` or ``json_delta`` therefore pays O(delta) and never materialises anything.

Live values
    ``partial_input`` is the parser's live structure: the same dict, filled in place as
    fragments arrive. Read it while the delta is the latest one for its call (before
    advancing the iterator); a delta read later shows the input as it is *then*. Copy it
    (``copy.deepcopy``) to keep a snapshot. Whatever it shows is consistent with the final
    input: strings are prefixes of their final text, containers hold a prefix of their
    final members, and numbers, ``true``/``false``/``null`` appear only once complete.

A call cut by ``max_tokens``
    When the model runs out of ``max_tokens`` inside a call's input, the block stops with
    its JSON unfinished and ``message_delta`` then says ``stop_reason: "max_tokens"``. The
    deltas show the input growing as usual; the :class:`ToolCall` comes at that
    ``message_delta`` (not at the block's stop, when the reason is not known yet), with
    ``truncated=True`` and as ``input`` every complete value received, exactly as
    :class:`~sluice.MessageAccumulator` builds the message's block (an unfinished
    string, number, literal or key left out; unfinished objects and arrays closed). Never
    run it. Unfinished JSON that ``max_tokens`` does not explain (the message stops for
    another reason, ends, or another block starts) is invalid input:
    :class:`~sluice.ToolInputError`, like any other invalid JSON.

What it does not do
    It is a view: other events are dropped, and errors are the source's to raise (a
    :class:`~sluice.MessageStream` raises in-stream ``error`` events and truncation). A tool
    block that never gets its ``content_block_stop`` (the stream ended early) yields its
    deltas but no :class:`ToolCall` (unless the message stops for ``max_tokens`` while it
    is the last block: then it is the cut call); the view simply ends, and a
    ``MessageStream`` source raises :class:`~sluice.IncompleteStreamError` for the
    truncation itself.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

import msgspec

from ._events import (
    ContentBlockDelta,
    ContentBlockStart,
    ContentBlockStop,
    Event,
    InputJSONDelta,
    MessageDelta,
    MessageStop,
)
from ._exceptions import PartialJSONError, ToolInputError
from ._message import MCPToolUseBlock, ServerToolUseBlock, ToolUseBlock
from ._partial_json import Change, PartialJSONParser, _Record

__all__ = ["ToolCall", "ToolCallAssembler", "ToolCallDelta"]

_TOOL_BLOCKS = (ToolUseBlock, ServerToolUseBlock, MCPToolUseBlock)

# How much of the received text an error message quotes; all of it is in the error's `text`.
_QUOTE = 200


class ToolCall(msgspec.Struct, frozen=True, kw_only=True, repr_omit_defaults=True):
    """A complete tool call, yielded at its block's ``content_block_stop``.

    Attributes:
        index: the content block index.
        id: the block id (``toolu_...``, ``srvtoolu_...``, ``mcptoolu_...``).
        name: the tool's name.
        kind: the block's wire type: ``"tool_use"`` (a client tool you must run),
            ``"server_tool_use"`` (run by the API) or ``"mcp_tool_use"``.
        input: the final input, equal to ``json.loads`` of all the fragments (except that
            ``NaN``/``Infinity``, which are not JSON, are rejected). A tool without
            parameters streams no text (or ``""``): ``input`` is then the block's start
            input (``{}``), as in the official SDK.
        caller: the block's ``caller`` (e.g. ``{"type": "direct"}``), if it had one.
        server_name: the MCP server, for an ``mcp_tool_use`` call.
        truncated: ``max_tokens`` cut the call off before its input JSON was complete
            (not the same as invalid JSON, which raises :class:`~sluice.ToolInputError`):
            ``input`` holds every complete value received, as the message's block does
            (an unfinished string, number, literal or key is left out with its member;
            unfinished objects and arrays keep their complete members). Such a call is
            yielded at the ``message_delta`` that says ``max_tokens``. Never run it.
    """

    index: int
    id: str
    name: str
    kind: str
    input: Any
    caller: dict[str, Any] | None = None
    server_name: str | None = None
    truncated: bool = False


class _Call:
    """The state of one tool call being streamed."""

    __slots__ = ("caller", "id", "index", "kind", "name", "parser", "server_name", "start_input")

    def __init__(
        self, index: int, block: ToolUseBlock | ServerToolUseBlock | MCPToolUseBlock
    ) -> None:
        self.index = index
        self.id = block.id
        self.name = block.name
        self.kind: str = block.type
        self.start_input: Any = block.input
        caller = getattr(block, "caller", None)
        self.caller: dict[str, Any] | None = caller if isinstance(caller, dict) else None
        self.server_name: str | None = getattr(block, "server_name", None)
        self.parser = PartialJSONParser()

    def finish(self) -> Any:
        """The call's input at its block's end; unfinished JSON gives what is complete
        (``parser.truncated`` then says so)."""
        try:
            return self.parser.finish(default=self.start_input, partial=True)
        except PartialJSONError as exc:
            raise self.error(exc) from exc

    def complete(self, value: Any, *, truncated: bool = False) -> ToolCall:
        return ToolCall(
            index=self.index,
            id=self.id,
            name=self.name,
            kind=self.kind,
            input=value,
            caller=self.caller,
            server_name=self.server_name,
            truncated=truncated,
        )

    def error(self, exc: PartialJSONError, why: str = "") -> ToolInputError:
        text = exc.text
        position = exc.position
        if len(text) <= _QUOTE:
            quoted = f"{text!r}"
        else:
            start = max(0, min(position - _QUOTE // 2, len(text) - _QUOTE))
            end = start + _QUOTE
            before = "..." if start > 0 else ""
            after = "..." if end < len(text) else ""
            quoted = f"{before}{text[start:end]!r}{after} (characters {start} to {end})"
        return ToolInputError(
            f"the model streamed invalid JSON input for tool {self.name!r} "
            f"({self.kind} {self.id}, content block {self.index}): {exc}{why}; {len(text)} "
            f"characters received: {quoted}; all of them are in ToolInputError.text. Retry the "
            "request, or simplify the tool's input schema if this keeps happening.",
            tool_name=self.name,
            tool_use_id=self.id,
            index=self.index,
            text=text,
            position=position,
        )


class ToolCallDelta(msgspec.Struct, frozen=True, eq=False, gc=False):
    """One ``input_json_delta`` fragment of a tool call, with what it changed.

    Attributes:
        index: the content block index.
        id: the tool call's block id.
        name: the tool's name.
        kind: the block's wire type (``"tool_use"``, ``"server_tool_use"``...).
        json_delta: the raw fragment of JSON text (the delta's ``partial_json``).
        changes: the partial-JSON parser's records for this fragment, in document order:
            ``"added"`` (a value appeared at ``path``), ``"grew"`` (the string at ``path``
            got ``text`` appended), ``"completed"`` (the value at ``path`` is final).
            Paths are relative to the input (``("content",)``); ``()`` is the input itself.
            Empty when the fragment changed nothing visible (``""``, whitespace, part of
            a key, or a number or literal not finished yet).

    Immutable. Equality is identity (the partial input is live, see the module docs).
    """

    # A Struct, made in C: one per fragment, so its cost counts. gc=False: a delta refers
    # to its call (and through it to the parser and the live input), none of which can
    # refer back to it, so it can never be part of a cycle.
    _call: _Call
    json_delta: str
    # What the parser returned: the text appended to the open string, whose path node is
    # `_node`, for a fragment inside a string (`changes` then makes its one "grew" record
    # on demand), else the list of records; the `changes` tuple once it was asked for.
    _node: Any
    _records: str | list[_Record] | tuple[Change, ...]

    @property
    def changes(self) -> tuple[Change, ...]:
        """What this fragment changed: see the class documentation."""
        records = self._records
        if isinstance(records, tuple):
            return records
        if isinstance(records, str):
            changes: tuple[Change, ...] = (Change(self._node, "grew", records),)
        else:  # the parser's records: (node, kind, text, value) tuples
            changes = tuple([Change(*record) for record in records])
        msgspec.structs.force_setattr(self, "_records", changes)
        return changes

    @property
    def index(self) -> int:
        """The content block index of the call."""
        return self._call.index

    @property
    def id(self) -> str:
        """The tool call's block id."""
        return self._call.id

    @property
    def name(self) -> str:
        """The tool's name."""
        return self._call.name

    @property
    def kind(self) -> str:
        """The block's wire type (``"tool_use"``, ``"server_tool_use"``, ``"mcp_tool_use"``)."""
        return self._call.kind

    @property
    def truncated(self) -> bool:
        """Whether ``max_tokens`` has since cut the call's input short (the call then ends
        as a :class:`ToolCall` with ``truncated=True``). :attr:`partial_input` then shows
        only its complete values: the unfinished string or number is gone."""
        return self._call.parser.truncated

    @property
    def partial_input(self) -> Any:
        """The input as far as it is known, read from the call's parser on access.

        Strings show their text so far; numbers and ``true``/``false``/``null`` appear once
        complete; an object member appears once its value starts. Before any JSON arrives
        it is the block's start input (``{}``). A live structure, updated in place by later
        fragments: read it before advancing the iterator, or ``copy.deepcopy`` it.
        O(1) unless a string grew since the last read (module docs, *Cost model*).
        """
        call = self._call
        parser = call.parser
        value = parser.value
        if value is None and not parser.done:
            # Nothing shown yet (no text, only whitespace, or a literal still spelling
            # out): keep showing the start input, as the SDK's snapshot does.
            return call.start_input
        return value

    def __repr__(self) -> str:
        return (
            f"ToolCallDelta(index={self.index}, id={self.id!r}, name={self.name!r}, "
            f"kind={self.kind!r}, json_delta={self.json_delta!r}, changes={list(self.changes)!r})"
        )


class ToolCallAssembler:
    """Sans-I/O tool-call assembly: feed events in stream order, get deltas and calls.

    Example::

        assembler = ToolCallAssembler()
        for event in events:
            item = assembler.feed(event)
            if isinstance(item, ToolCall) and not item.truncated:
                run(item.name, item.input)

    Each call (keyed by its content block index) has its own parser, so calls never share
    state even if a stream interleaved them.
    """

    __slots__ = ("_calls", "_cut", "_last")

    def __init__(self) -> None:
        self._calls: dict[int, _Call] = {}
        # The call whose JSON was unfinished at its block's stop, and what is complete of
        # it, until the stop reason says whether max_tokens cut it.
        self._cut: tuple[_Call, Any] | None = None
        self._last = -1  # the index of the block that started last

    @property
    def open_calls(self) -> tuple[int, ...]:
        """Indices of tool blocks that started and have not stopped yet."""
        return tuple(self._calls)

    def feed(self, event: Event) -> ToolCallDelta | ToolCall | None:
        """Apply one event.

        Returns:
            a :class:`ToolCallDelta` for an ``input_json_delta`` of a tool block, a
            :class:`ToolCall` for the ``content_block_stop`` of a tool block (for a call
            cut by ``max_tokens``, a truncated one for the ``message_delta`` that says
            so), else ``None``.

        Raises:
            ToolInputError: the call's JSON text is invalid (raised by the fragment that
                makes it so), or unfinished at its ``content_block_stop`` and not cut by
                ``max_tokens`` (raised by the event that shows it: a ``message_delta``
                with another stop reason, ``message_stop``, or the next block's start).
                ``text`` holds every character received for the call, ``position``
                where it broke.
        """
        cls = type(event)
        if cls is ContentBlockDelta:
            delta = event.delta  # type: ignore[union-attr]
            if type(delta) is not InputJSONDelta:
                return None
            call = self._calls.get(event.index)  # type: ignore[union-attr]
            if call is None:
                return None
            # The hot path: one call into the parser, and a Struct made in C.
            piece = delta.partial_json
            parser = call.parser
            try:
                records = parser._feed(piece)
            except PartialJSONError as exc:
                raise call.error(exc) from exc
            return ToolCallDelta(call, piece, parser._str_node, records)
        if cls is ContentBlockStart:
            if self._cut is not None:
                raise self._not_cut("another content block started after it")
            block = event.content_block  # type: ignore[union-attr]
            index = self._last = event.index  # type: ignore[union-attr]
            if isinstance(block, _TOOL_BLOCKS):
                self._calls[index] = _Call(index, block)
            else:
                self._calls.pop(index, None)
            return None
        if cls is ContentBlockStop:
            call = self._calls.pop(event.index, None)  # type: ignore[union-attr]
            if call is None:
                return None
            value = call.finish()
            if call.parser.truncated:
                # Only max_tokens may end a call early, and the stop reason comes next.
                self._cut = (call, value)
                return None
            return call.complete(value)
        if cls is MessageDelta:
            stop = event.delta.stop_reason  # type: ignore[union-attr]
            if stop == "max_tokens":
                return self._confirm_cut()
            if isinstance(stop, str) and self._cut is not None:
                raise self._not_cut(f"the message stopped for {stop!r}, not max_tokens")
            return None
        if cls is MessageStop and self._cut is not None:
            raise self._not_cut("the message ended without stopping for max_tokens")
        return None

    def _confirm_cut(self) -> ToolCall | None:
        """``stop_reason`` is ``max_tokens``: the unfinished call, if any, was cut."""
        cut, self._cut = self._cut, None
        if cut is not None:
            call, value = cut
            return call.complete(value, truncated=True)
        # A cut block may also end without its content_block_stop: the last block.
        last = self._calls.pop(self._last, None)
        if last is None:
            return None
        value = last.finish()
        return last.complete(value, truncated=last.parser.truncated)

    def _not_cut(self, why: str) -> ToolInputError:
        """The unfinished call was not cut by max_tokens: its input is invalid JSON."""
        assert self._cut is not None
        call = self._cut[0]
        self._cut = None
        incomplete = call.parser._incomplete
        assert incomplete is not None
        return call.error(incomplete, f", and {why}")

    def feed_many(self, events: Iterable[Event]) -> Iterator[ToolCallDelta | ToolCall]:
        """Apply ``events`` in order, yielding the items :meth:`feed` would return.

        The same items and errors as :meth:`feed` event by event, with its hot path (a
        fragment of an open call) inline: for readers that take events a network read at
        a time (``ops.tool_calls`` over a ``MessageStream``).
        """
        calls = self._calls
        feed = self.feed
        block_delta, json_delta, make = ContentBlockDelta, InputJSONDelta, ToolCallDelta
        for event in events:
            if type(event) is block_delta:
                delta = event.delta
                if type(delta) is json_delta:
                    call = calls.get(event.index)
                    if call is not None:
                        piece = delta.partial_json
                        parser = call.parser
                        try:
                            records = parser._feed(piece)
                        except PartialJSONError as exc:
                            raise call.error(exc) from exc
                        yield make(call, piece, parser._str_node, records)
                continue
            item = feed(event)
            if item is not None:
                yield item
