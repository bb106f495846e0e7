"""Sans-I/O accumulation of stream events into the final ``Message``.

Follows the official SDK's ``accumulate_event`` rule for rule, so the final message equals
``get_final_message()`` field for field (see tests/test_conformance.py), with three
differences that only show on streams the SDK cannot handle: a ``message_start`` without
``usage`` does not crash, an in-stream ``error`` raises the typed error matching its
``error.type`` with the partial message, and a truncated stream says so.

A tool call cut by ``max_tokens``
    The API ends a message that runs out of ``max_tokens`` wherever it is, even inside a
    tool call's input: that block's ``content_block_stop`` arrives with its JSON
    unfinished, then ``message_delta`` with ``stop_reason: "max_tokens"``. Its ``input``
    is then every complete value received, as the SDK's partial parse (jiter's
    ``partial_mode``) gives it: an unfinished string, key or literal is left out with its
    member, unfinished objects and arrays keep the members they completed. One
    difference: a number that reaches the cut is left out too (the SDK keeps ``12`` of
    what may have been ``123``), so that every value shown is one the model wrote whole.
    The block's ``truncated`` says it was cut (off the wire). Until the stop reason
    arrives the input shows the same; if the message then stops for anything else, or
    another block starts, the unfinished JSON is invalid input: :class:`ToolInputError`,
    as for any other invalid JSON. A cut block whose ``content_block_stop`` never came
    is handled the same way at ``message_delta``.

Cost is linear in the stream. Text and thinking deltas are appended to a list per block and
joined only when the message is read (``message``/``finish``); reading the message after
every event therefore costs a join each time, which is inherent in asking for the whole text
each time: use :func:`sluice.ops.text_deltas` for per-delta UIs. Tool input JSON is collected
the same way and parsed once, when its block stops.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Final, Literal, TypeAlias

import msgspec

from ._events import (
    CitationsDelta,
    ContentBlockDelta,
    ContentBlockStart,
    ContentBlockStop,
    ErrorEvent,
    Event,
    InputJSONDelta,
    MessageDelta,
    MessageStart,
    MessageStop,
    Ping,
    SignatureDelta,
    TextDelta,
    ThinkingDelta,
    UnknownEvent,
)
from ._exceptions import (
    IncompleteStreamError,
    PartialJSONError,
    StreamError,
    ToolInputError,
    UnexpectedEventError,
    stream_error,
)
from ._message import (
    MCPToolUseBlock,
    Message,
    ServerToolUseBlock,
    TextBlock,
    ThinkingBlock,
    ToolUseBlock,
    Usage,
    decode_block,
    decode_message,
    mark_truncated,
)
from ._partial_json import MAX_DEPTH, PartialJSONParser
from ._serialize import to_json

__all__ = ["INVALID_JSON", "InvalidToolInput", "MessageAccumulator"]

_UNSET = msgspec.UNSET

#: What to do with a tool call whose input is not valid JSON (and was not cut by
#: ``max_tokens``): ``"raise"`` :class:`ToolInputError`, or ``"keep"`` the text received
#: as the input ``{"INVALID_JSON": text}``, the wrapping the API documentation suggests
#: for sending such a call back (fine-grained tool streaming may produce one).
InvalidToolInput: TypeAlias = Literal["raise", "keep"]
#: The key of a kept invalid input: ``block.input == {INVALID_JSON: text}``.
INVALID_JSON: Final = "INVALID_JSON"

# What a block does with deltas. Only these combinations change the message, exactly as in
# the SDK (a text_delta aimed at a thinking block is ignored, and so on).
_OTHER, _TEXT, _THINKING, _TOOL = 0, 1, 2, 3
_KIND: dict[type, int] = {
    TextBlock: _TEXT,
    ThinkingBlock: _THINKING,
    ToolUseBlock: _TOOL,
    ServerToolUseBlock: _TOOL,
    # The SDK's beta stream tracks MCP tool input too (its non-beta one has no MCP blocks).
    MCPToolUseBlock: _TOOL,
}

_decode_json = msgspec.json.Decoder().decode

#: feed_many joins the pieces of a block in runs of this many (see there).
_RUN = 256


class MessageAccumulator:
    """Feed events in stream order; read the message built so far.

    ``feed`` raises the typed :class:`~sluice.APIError` of an in-stream ``error`` event (also
    an :class:`~sluice.APIStreamError`) and :class:`~sluice.UnexpectedEventError` for events
    out of protocol order; every such error carries ``partial_message``.

    A tool call whose input is not valid JSON raises :class:`ToolInputError`; with
    ``invalid_tool_input="keep"`` its input is ``{"INVALID_JSON": "<text received>"}``
    instead and the stream goes on (what an agent loop answers with an error result).

    Three ways to feed it, with the same result: :meth:`feed` one event, :meth:`feed_text`
    one event returning its text (for a loop that shows text deltas), :meth:`feed_many` a
    list of events (for a reader that decodes a chunk of the body at once).

    Example::

        acc = MessageAccumulator()
        for event in events:
            acc.feed(event)
        message = acc.finish()
    """

    __slots__ = (
        "_cut",
        "_done",
        "_events",
        "_joined",
        "_json_sinks",
        "_keep_invalid",
        "_kinds",
        "_message",
        "_sinks",
        "_text_sinks",
    )

    def __init__(self, *, invalid_tool_input: InvalidToolInput = "raise") -> None:
        if invalid_tool_input not in ("raise", "keep"):
            raise ValueError(
                f"invalid_tool_input must be 'raise' or 'keep', not {invalid_tool_input!r}"
            )
        self._keep_invalid = invalid_tool_input == "keep"
        self._message: Message | None = None
        # Per content block: what its deltas mean, and the pieces received so far. The first
        # piece of a text/thinking sink is the block's text at the last flush.
        self._kinds: list[int] = []
        self._sinks: list[list[str]] = []
        # The sinks of the text blocks, and of the tool-use blocks, by index: the hot paths
        # (feed, feed_text, feed_many) find one with a single lookup. The same list objects
        # as in _sinks, which are only ever changed in place.
        self._text_sinks: dict[int, list[str]] = {}
        self._json_sinks: dict[int, list[str]] = {}
        # Per block, how many leading pieces of its sink are not to be joined into a run
        # again: the text at the last flush, then the runs feed_many joined.
        self._joined: list[int] = []
        self._events = 0
        self._done = False
        # The tool block whose JSON was unfinished at its stop, until the stop reason says
        # whether max_tokens cut it (its text stays in its sink meanwhile).
        self._cut: int | None = None

    @property
    def events(self) -> int:
        """How many events were fed."""
        return self._events

    @property
    def done(self) -> bool:
        """Whether ``message_stop`` arrived."""
        return self._done

    @property
    def message(self) -> Message | None:
        """The message so far (``None`` before ``message_start``).

        The same object is updated in place as events arrive; reading it joins the text
        received since the last read into its blocks.
        """
        if self._message is not None:
            self._flush()
        return self._message

    def peek(self) -> Message | None:
        """The message so far as it stands, without joining the text received since the
        last read of :attr:`message` (``None`` before ``message_start``).

        Its id, model, stop reason and usage are current; its text and thinking blocks may
        lag. For bookkeeping after every chunk (a usage meter), where :attr:`message`
        would join the growing text each time: quadratic on a long message.
        """
        return self._message

    def feed(self, event: Event) -> None:
        """Apply one event to the message.

        Raises:
            APIStreamError: the event is an in-stream ``error`` (the typed subclass, such
                as ``OverloadedError``), with ``partial_message``.
            ToolInputError: the event ends a tool call whose input is not valid JSON, or
                shows that a call whose JSON was unfinished was not cut by ``max_tokens``
                (the stop reason is another, or another block starts).
            UnexpectedEventError: the event is out of protocol order.
        """
        cls = type(event)
        if cls is ContentBlockDelta:
            delta = event.delta  # type: ignore[union-attr]
            dcls = type(delta)
            # The hot paths, most events of most streams: text for a text block, input
            # JSON for a tool-use block.
            if dcls is TextDelta:
                try:
                    sink = self._text_sinks[event.index]  # type: ignore[union-attr]
                except (KeyError, TypeError):
                    pass  # not a text block: the rules below say what it means
                else:
                    self._events += 1
                    sink.append(delta.text)  # type: ignore[union-attr]
                    return
            elif dcls is InputJSONDelta:
                try:
                    sink = self._json_sinks[event.index]  # type: ignore[union-attr]
                except (KeyError, TypeError):
                    pass
                else:
                    self._events += 1
                    sink.append(delta.partial_json)  # type: ignore[union-attr]
                    return
        self._events += 1
        if cls is ContentBlockDelta:
            index = event.index  # type: ignore[union-attr]
            delta = event.delta  # type: ignore[union-attr]
            dcls = type(delta)
            try:
                kind = self._kinds[index]
                if index < 0:
                    raise IndexError(index)
            except (IndexError, TypeError):
                raise self._unexpected(
                    f"content_block_delta for block {index}, which never started"
                ) from None
            if dcls is TextDelta or dcls is InputJSONDelta:
                pass  # the fast path above took those aimed at a text or tool block
            elif dcls is ThinkingDelta:
                if kind == _THINKING:
                    self._sinks[index].append(delta.thinking)  # type: ignore[union-attr]
            elif dcls is SignatureDelta:
                if kind == _THINKING:
                    self._block(index).signature = delta.signature  # type: ignore[union-attr]
            elif dcls is CitationsDelta and kind == _TEXT:
                block = self._block(index)
                if block.citations:
                    block.citations.append(delta.citation)  # type: ignore[union-attr]
                else:
                    block.citations = [delta.citation]  # type: ignore[union-attr]
            return
        message = self._message
        if cls is MessageStart:
            if message is not None:
                raise self._unexpected("a second message_start in one stream")
            # A copy, so that mutating the snapshot never changes the event the caller holds.
            self._message = message = decode_message(to_json(event.message))  # type: ignore[union-attr]
            for block in message.content:
                self._add_block(block)
            return
        if cls is ErrorEvent:
            raise self._stream_error(event)  # type: ignore[arg-type]
        if message is None:
            if cls in _IGNORED_BEFORE_START:
                return
            raise self._unexpected(f"{event.type} before message_start")
        if cls is ContentBlockStart:
            if self._cut is not None:
                self._not_cut("another content block started after it")
            block = decode_block(to_json(event.content_block))  # type: ignore[union-attr]
            message.content.append(block)
            self._add_block(block)
        elif cls is ContentBlockStop:
            index = event.index  # type: ignore[union-attr]
            if not 0 <= index < len(self._kinds):
                raise self._unexpected(f"content_block_stop for block {index}, which never started")
            if self._kinds[index] == _TOOL:
                self._parse_tool_input(index)
        elif cls is MessageDelta:
            self._apply_message_delta(message, event)  # type: ignore[arg-type]
            stop = message.stop_reason
            if stop == "max_tokens":
                self._confirm_cut()
            elif stop is not None and self._cut is not None:
                self._not_cut(f"the message stopped for {stop!r}, not max_tokens")
        elif cls is MessageStop:
            if self._cut is not None:
                self._not_cut("the message ended without stopping for max_tokens")
            self._done = True
        # ping and unknown events change nothing.

    def feed_text(self, event: Event) -> str | None:
        """Apply one event, as :meth:`feed` does; return its text if it is a ``text_delta``.

        For loops that show the text as it arrives and keep the message: one call per
        event instead of :meth:`feed` and a type test. The text is returned whichever block
        the delta is aimed at (a delta for a non-text block changes nothing, as in
        :meth:`feed`). ``ops.text_deltas(ops.accumulate(...))`` runs on it.

        Raises:
            the errors of :meth:`feed`.
        """
        if type(event) is ContentBlockDelta:
            delta = event.delta
            if type(delta) is TextDelta:
                text = delta.text
                if type(self) is MessageAccumulator:  # a subclass gets feed for every event
                    try:
                        self._text_sinks[event.index].append(text)
                    except (KeyError, TypeError):
                        pass  # not a text block: the rules of feed say what it means
                    else:
                        self._events += 1
                        return text
                self.feed(event)
                return text
        self.feed(event)
        return None

    def feed_many(self, events: Iterable[Event]) -> None:
        """Apply events in order, as :meth:`feed` does one by one, but faster.

        For readers that decode a whole chunk of the body at once: text and tool-input
        deltas, most events of most streams, are applied inline without a call each (a
        subclass gets :meth:`feed` called for every event instead).

        Raises:
            the errors of :meth:`feed`. The events before the one that raised were applied,
            and :attr:`events` counts them and it, as after the same calls to :meth:`feed`.
        """
        feed = self.feed
        if type(self) is not MessageAccumulator:
            for event in events:
                feed(event)
            return
        text_sinks = self._text_sinks
        json_sinks = self._json_sinks
        block_delta, text_delta, json_delta = ContentBlockDelta, TextDelta, InputJSONDelta
        inline = 0  # events applied inline and not counted yet
        try:
            for event in events:
                if type(event) is block_delta:
                    delta: Any = event.delta
                    cls = type(delta)
                    if cls is text_delta:
                        try:
                            text_sinks[event.index].append(delta.text)
                        except (KeyError, TypeError):
                            pass  # not a text block: feed says what it means
                        else:
                            inline += 1
                            continue
                    elif cls is json_delta:
                        try:
                            json_sinks[event.index].append(delta.partial_json)
                        except (KeyError, TypeError):
                            pass  # not a tool-use block
                        else:
                            inline += 1
                            continue
                self._events += inline
                inline = 0
                feed(event)
        finally:
            self._events += inline
        # Join each run of _RUN pieces into one string: holding tens of thousands of small
        # strings until the end costs more than joining them as they come (measured on
        # long_text[4N], see BENCHMARKS.md), and each piece is copied once more at most.
        joined = self._joined
        for sinks in (text_sinks, json_sinks):
            for index, sink in sinks.items():
                start = joined[index]
                if len(sink) > start + _RUN:
                    sink[start:] = ["".join(sink[start:])]
                    joined[index] = start + 1

    def finish(self) -> Message:
        """The complete message, once ``message_stop`` arrived.

        Raises:
            IncompleteStreamError: the stream ended before ``message_stop``; the error's
                ``partial_message`` holds everything received.
        """
        if not self._done:
            raise IncompleteStreamError(
                "the stream ended before message_stop "
                f"(after {self._events} events); partial_message holds what arrived",
                partial_message=self.partial(),
                events_received=self._events,
            )
        message = self.message
        assert message is not None
        return message

    def partial(self) -> Message | None:
        """The message so far, for an error report: unfinished tool input is kept as text.

        A tool call whose block never stopped gets the JSON text received so far in
        ``partial_input_json`` (off-wire, on the block's ``__dict__``) so that nothing is lost.
        """
        message = self.message
        if message is not None:
            for index, kind in enumerate(self._kinds):
                if kind == _TOOL and len(self._sinks[index]) > 0:
                    message.content[index].__dict__["partial_input_json"] = "".join(
                        self._sinks[index]
                    )
        return message

    # ----------------------------------------------------------------------------- internals

    def _add_block(self, block: Any) -> None:
        kind = _KIND.get(type(block), _OTHER)
        index = len(self._kinds)
        self._kinds.append(kind)
        if kind == _TEXT:
            sink = [block.text]
            self._text_sinks[index] = sink
        elif kind == _THINKING:
            sink = [block.thinking]
        else:
            sink = []
            if kind == _TOOL:
                self._json_sinks[index] = sink
        self._sinks.append(sink)
        # The first piece of a text or thinking sink is the block's text at the last flush
        # (see _flush), never part of a run.
        self._joined.append(1 if kind in (_TEXT, _THINKING) else 0)

    def _block(self, index: int) -> Any:
        assert self._message is not None
        return self._message.content[index]

    def _flush(self) -> None:
        assert self._message is not None
        content = self._message.content
        for index, kind in enumerate(self._kinds):
            sink = self._sinks[index]
            if len(sink) > 1 and kind != _TOOL:
                joined = "".join(sink)
                sink[:] = [joined]
                self._joined[index] = 1
                if kind == _TEXT:
                    content[index].text = joined  # type: ignore[union-attr]
                else:
                    content[index].thinking = joined  # type: ignore[union-attr]

    def _parse_tool_input(self, index: int) -> None:
        sink = self._sinks[index]
        if not sink:
            return
        text = "".join(sink)
        sink.clear()
        self._joined[index] = 0
        if not text.strip():
            # A tool without parameters streams "": the SDK keeps the start input ({}).
            return
        block = self._block(index)
        try:
            value = _decode_json(text)
            if text.count("[") + text.count("{") > MAX_DEPTH and _deeper_than(value, MAX_DEPTH):
                # Nested deeper than the parser accepts: let it decide (below). Brackets
                # inside strings count too, so the walk of the value says for sure.
                raise RecursionError
        except (msgspec.MsgspecError, RecursionError, UnicodeEncodeError):
            # Unfinished (max_tokens?), or one of the few things JSON allows and msgspec
            # refuses (1e400, lone surrogates, very deep or very long values): decide as
            # ops.tool_calls does, with the same parser, so the message and the tool calls
            # accept, reject and cut exactly the same inputs.
            parser = PartialJSONParser()
            try:
                parser.feed(text)
                value = parser.finish(default=block.input, partial=True)
            except PartialJSONError as exc:
                if self._keep_invalid:
                    block.input = {INVALID_JSON: text}
                    return
                sink.append(text)  # keep it for partial()
                raise self._tool_input_error(index, text, exc) from exc
            if parser.truncated:
                # The JSON ended early: only max_tokens may do that, and the stop reason
                # comes after this block's stop. Show what is complete meanwhile.
                sink.append(text)
                self._cut = index
        block.input = value

    def _confirm_cut(self) -> None:
        """``stop_reason`` is ``max_tokens``: the unfinished tool call, if any, was cut."""
        index = self._cut
        if index is None:
            # A cut block may also end without its content_block_stop: the last block.
            index = len(self._kinds) - 1
            if index < 0 or self._kinds[index] != _TOOL or not self._sinks[index]:
                return
            self._parse_tool_input(index)
            index = self._cut
            if index is None:
                return  # its JSON was complete after all
        self._cut = None
        self._sinks[index].clear()
        mark_truncated(self._block(index))

    def _not_cut(self, why: str) -> None:
        """The unfinished tool call was not cut by max_tokens: its input is invalid JSON.

        Raises:
            ToolInputError: unless invalid input is kept (as ``{"INVALID_JSON": text}``).
        """
        index = self._cut
        assert index is not None
        self._cut = None
        text = "".join(self._sinks[index])
        if self._keep_invalid:
            self._sinks[index].clear()
            self._block(index).input = {INVALID_JSON: text}
            return
        parser = PartialJSONParser()
        parser.feed(text)
        parser.finish(default=None, partial=True)
        assert parser._incomplete is not None
        raise self._tool_input_error(index, text, parser._incomplete, f", and {why}")

    def _tool_input_error(
        self, index: int, text: str, exc: PartialJSONError, why: str = ""
    ) -> ToolInputError:
        block = self._block(index)
        return ToolInputError(
            f"the model sent invalid JSON input for tool {block.name!r} "
            f"(id {block.id}, block {index}): {exc}{why}; text received: {_preview(text)}",
            tool_name=block.name,
            tool_use_id=block.id,
            index=index,
            text=text,
            position=exc.position,
            partial_message=self.partial(),
            events_received=self._events,
        )

    def _apply_message_delta(self, message: Message, event: MessageDelta) -> None:
        # Exactly the SDK's rule: these three are always assigned (absent means null), the
        # container only when present, usage counters are cumulative and overwrite, and an
        # optional counter left out keeps its earlier value.
        delta = event.delta
        message.stop_reason = None if delta.stop_reason is _UNSET else delta.stop_reason
        message.stop_sequence = None if delta.stop_sequence is _UNSET else delta.stop_sequence
        message.stop_details = None if delta.stop_details is _UNSET else delta.stop_details
        if delta.container is not _UNSET and delta.container is not None:
            message.container = delta.container
        usage = event.usage
        target = message.usage
        if target is None:  # pragma: no cover - defended by the default factory
            target = message.usage = Usage()
        if usage.output_tokens is not _UNSET:
            target.output_tokens = usage.output_tokens
        if usage.input_tokens is not _UNSET and usage.input_tokens is not None:
            target.input_tokens = usage.input_tokens
        for name in _OPTIONAL_USAGE:
            value = getattr(usage, name)
            if value is not _UNSET and value is not None:
                setattr(target, name, value)

    def _stream_error(self, event: ErrorEvent) -> StreamError:
        return stream_error(
            event.error.type,
            event.error.message,
            request_id=event.request_id if isinstance(event.request_id, str) else None,
            partial_message=self.partial(),
            events_received=self._events,
        )

    def _unexpected(self, what: str) -> UnexpectedEventError:
        return UnexpectedEventError(
            f"unexpected event: {what}; this is not a Messages API stream as documented",
            partial_message=self.partial() if self._message is not None else None,
            events_received=self._events,
        )


_OPTIONAL_USAGE = (
    "cache_creation_input_tokens",
    "cache_read_input_tokens",
    "server_tool_use",
    "output_tokens_details",
)

# The SDK raises on anything but message_start first; keep-alives and unknown events are
# harmless, though, and an error event is handled before this check.
_IGNORED_BEFORE_START = frozenset({Ping, UnknownEvent})


def _deeper_than(value: Any, limit: int) -> bool:
    """Whether ``value`` nests arrays and objects more than ``limit`` deep (iteratively:
    O(containers and their members), no recursion)."""
    stack = [(value, 1)]
    pop, push = stack.pop, stack.append
    while stack:
        node, depth = pop()
        if type(node) is dict:
            node = node.values()
        elif type(node) is not list:
            continue
        if depth > limit:
            return True
        depth += 1
        for member in node:
            if type(member) is dict or type(member) is list:
                push((member, depth))
    return False


def _preview(text: str, limit: int = 200) -> str:
    """``text`` for a message: whole when short, else its head and tail around a count."""
    if len(text) <= limit:
        return repr(text)
    half = limit // 2
    return f"{text[:half]!r} ... ({len(text) - limit} more characters) ... {text[-half:]!r}"
