"""Incremental JSON parsing for tool input streamed as ``input_json_delta`` pieces.

The Messages API streams a ``tool_use`` block's ``input`` as fragments of one JSON text
(``content_block_delta`` events whose ``delta.type`` is ``input_json_delta``, each carrying
``partial_json``); the fragments only form valid JSON once ``content_block_stop`` arrives.
:class:`PartialJSONParser` is a sans-I/O parser fed those fragments in order::

    parser = PartialJSONParser()
    for fragment in fragments:          # the `partial_json` of each delta
        for change in parser.feed(fragment):
            ...                         # what appeared, grew or completed in this piece
        parser.value                    # the input as far as it is known
    tool_input = parser.finish(default={})   # at content_block_stop

Design
    An iterative state machine over an explicit stack of open containers (so nesting depth is
    bounded by memory, not by Python's recursion limit). ``feed`` resumes exactly where the
    previous call stopped; nothing fed earlier is parsed again, except a tail of at most 11
    characters -- an escape such as ``\\u00``, a high surrogate waiting for its pair, or a
    literal such as ``tr`` -- kept and prefixed to the next piece. A number split across
    pieces is kept as a list of pieces. The common steps cost one C-level regex call each,
    never a Python loop over characters: a piece that stays inside a string (one search
    finds literal text; escapes are checked and decoded by json's C ``scanstring``, after
    one match where the piece may end inside an escape), the punctuation between two
    values (one match takes ``", "key": "`` and the text of a string value that starts),
    a whole number. The rest -- an escape cut in an unusual place, errors -- goes one
    token at a time. The patterns are possessive: no match backtracks, so each is linear
    in the text it looks at. The parser keeps all the text fed (for
    :attr:`PartialJSONParser.text` and errors), O(n) memory.

Partial value
    ``value`` is a *live* structure: containers appear as soon as their opening bracket
    arrives and are mutated in place as members complete, so reading ``value`` is O(1)
    unless a string grew since the last read (see below). It shows every complete member,
    plus the partial last member where a string shows its decoded text so far. A number is
    shown only once a delimiter follows it (``12`` may still become ``123``), ``true``/
    ``false``/``null`` only once spelled out, an object member only once its value has
    started, and an escape only once it is complete (a high surrogate only once it is known
    whether a low surrogate follows). Hence every partial value is *consistent* with the
    final one: shown scalars are final, a partial string is a prefix of the final string,
    a container's members are a prefix of its final members. (Duplicate keys are the one
    exception: ``{"a": 1, "a": 2}`` shows ``a=1`` first; the last one wins as with
    :func:`json.loads`.) Copy ``value`` (``copy.deepcopy``) if you need a snapshot. The
    string being streamed is refreshed inside the live structure when ``value`` is read.

Change records
    ``feed`` returns a list of :class:`Change` records, in document order: ``"added"`` when
    a value appears at a path, ``"grew"`` with the decoded text appended to a string in this
    piece (one record per string per piece), ``"completed"`` with the final value. Creating
    them is O(1) each; a record's ``path`` tuple is built only when read. A UI that appends
    ``grew`` texts never needs the whole value. (Internally a record is a plain tuple until
    someone asks for it: see ``ToolCallDelta.changes``.)

Cost model
    ``feed`` is O(len(piece) + records produced), so a whole stream costs O(total length).
    Reading ``value`` costs O(1) if no string grew since the last read. Otherwise the one
    open string is re-materialised from the cached text plus the new pieces: Python strings
    are immutable, so this is a copy of the whole string, O(len) -- *except* that on CPython
    the string is appended to in place when nothing else references it (the parser drops
    its own references first; CPython's ``s += t`` then resizes the buffer instead of
    copying). So reading ``value`` after every piece stays near-linear overall as long as
    the caller does not keep references to the growing string itself between reads (holding
    the dict that contains it is fine). If it does, each read copies that string once.
    For an O(1)-per-piece view regardless, use the ``grew`` records. A string that closes
    is copied once more, into its final value: O(len) once per string.

Strictness
    The final value equals :func:`json.loads` of the whole text (escapes, surrogate pairs
    and lone surrogates, arbitrary-size integers, floats via :class:`float`, duplicate keys
    with the last one winning), with one deliberate difference: ``NaN``, ``Infinity`` and
    ``-Infinity``, which ``json.loads`` accepts, are rejected, because they are not JSON
    (RFC 8259) and the API never sends them. Integers longer than
    :func:`sys.get_int_max_str_digits` are rejected, as ``json.loads`` rejects them. Invalid
    text raises :class:`PartialJSONError` from ``feed`` as soon as the offending character
    arrives (a malformed number as soon as it ends), naming the character offset.

Cut short
    ``finish(partial=True)`` is for a text that may have ended early, as ``max_tokens``
    ends a tool call's input. Where :meth:`~PartialJSONParser.finish` would raise for an
    incomplete text, it returns every complete value and sets ``truncated``: the live
    value without the string being streamed (numbers, literals and keys that are not
    complete are not shown anyway), its unfinished objects and arrays closed. That is
    what the official SDK's ``jiter.from_json(..., partial_mode=True)`` gives, except for
    a number that reaches the end: jiter keeps it as far as it got (``12`` of ``123``,
    ``-15.0`` of ``-1.5e+10``), this parser leaves it out. Invalid text still raises.

Why not jiter or ijson
    The official SDK re-parses the whole accumulated buffer with ``jiter.from_json(...,
    partial_mode=True)`` on every delta: O(n) per delta, quadratic per tool call (see
    BENCHMARKS.md, "Operators"), it hides unfinished strings and it shows unfinished
    numbers (``12`` of ``123``). ijson and json-stream are incremental but emit a string
    only once it is complete, so a long ``content`` argument stays invisible until it ends.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from json import decoder
from typing import Any, Final, Literal, TypeAlias

from ._exceptions import PartialJSONError

__all__ = ["MAX_DEPTH", "Change", "ChangeKind", "PartialJSONError", "PartialJSONParser"]

#: The deepest nesting of arrays and objects accepted. JSON this deep is no one's tool
#: input, and a value nested deeper than Python's recursion limit would break whoever
#: reads it (repr, json, copy): refused as invalid, by the parser and the accumulator alike.
MAX_DEPTH = 256

ChangeKind: TypeAlias = Literal["added", "grew", "completed"]

# A path as a linked list, (parent, key); None is the root. Cheap to extend; turned into a
# tuple only when someone reads Change.path.
_Node: TypeAlias = "tuple[_Node, str | int] | None"
# A change record as the parser makes it, (node, kind, text, value): a tuple is the
# cheapest object to make; `Change(*record)` is built only when someone asks.
_Record: TypeAlias = "tuple[_Node, ChangeKind, str, Any]"
# An open container on the parser's stack: the container, whether it is an object, and its
# path node. A tuple: made once per container, and read far more often than that.
_Frame: TypeAlias = "tuple[Any, bool, _Node]"

# Parser states.
_VALUE: Final = 0  # a value: at the top level, after ':' or after ',' in an array
_ARRAY_FIRST: Final = 1  # after '[': a value or ']'
_OBJECT_FIRST: Final = 2  # after '{': a key or '}'
_KEY: Final = 3  # after ',' in an object: a key
_COLON: Final = 4  # after a key: ':'
_AFTER: Final = 5  # after a value: ',' or the closing bracket; only whitespace at top level
_IN_STRING: Final = 6  # inside a string value
_IN_KEY: Final = 7  # inside an object key
_IN_NUMBER: Final = 8  # inside a number that reached the end of the text fed so far
_BROKEN: Final = 9  # after an error: no piece can take a fast path any more

_WHITESPACE: Final = " \t\n\r"  # RFC 8259 section 2; exactly what json.loads skips
_WHITESPACE_RUN: Final = re.compile(r"[ \t\n\r]+")
# Characters a string can contain literally: not '"', not '\', not a control character
# (RFC 8259 section 7).
_STRING_RUN: Final = re.compile(r'[^"\\\x00-\x1f]*')
# What ends such a run; `search` finds it at C speed (None: the rest is literal text).
_STRING_END: Final = re.compile(r'["\\\x00-\x1f]')
# String content whose escapes are complete and mean the same whatever follows, so that
# json's C `scanstring` can decode it: no high surrogate without its low surrogate.
_TEXT: Final = (  # possessive (never backtracks): linear even where a match fails
    r'(?:[^"\\\x00-\x1f]++'
    r'|\\["\\/bfnrt]'
    r"|\\u(?![dD][89abAB])[0-9a-fA-F]{4}"
    r"|\\u[dD][89abAB][0-9a-fA-F]{2}\\u[dD][c-fC-F][0-9a-fA-F]{2})*+"
)
_STRING_TEXT: Final = re.compile(_TEXT)
# The start of an escape that the end of a piece cut short (kept for the next piece): a
# backslash, an unfinished \uXXXX, or a high surrogate and an unfinished low one.
_CUT: Final = r"\\(?:u[0-9a-fA-F]{0,3}|u[dD][89abAB][0-9a-fA-F]{2}(?:\\(?:u[0-9a-fA-F]{0,3})?)?)?"
_CUT_ESCAPE: Final = re.compile(_CUT)
# A piece that stays inside a string: text, and perhaps a cut escape (group 1).
_STRING_PIECE: Final = re.compile(_TEXT + "(" + _CUT + ")?")
# The punctuation between two values, consumed in one match as far as it goes: where a
# pattern stops (the piece ended, or something else came), its groups tell the state.
# `_STRING_OPENS` also takes the opening quote and text of a string value that follows.
_WS: Final = "[ \t\n\r]*+"
_STRING_OPENS: Final = '(?:(")(' + _TEXT + "))?"  # '"', text
_KEY_TAIL: Final = r'([^"\\\x00-\x1f]*+)(?:(")' + _WS + "(?:(:)" + _WS + _STRING_OPENS + ")?)?"
_KEY_NEXT: Final = re.compile(_WS + '(?:"' + _KEY_TAIL + ")?")  # after '{', or ',' in an object
_KEY_REST: Final = re.compile(_KEY_TAIL)  # key text, '"', ':', '"', text
_COLON_NEXT: Final = re.compile(_WS + "(?:(:)" + _WS + _STRING_OPENS + ")?")
_VALUE_NEXT: Final = re.compile(_WS + _STRING_OPENS)  # after ',' in an array
_NUMBER_CHARS: Final = re.compile(r"[0-9+\-.eE]*")
# A whole number: one a delimiter follows (not taken). Groups: fraction, exponent.
_WHOLE_NUMBER: Final = re.compile(
    r"-?(?:0|[1-9][0-9]*+)(\.[0-9]++)?([eE][-+]?[0-9]++)?(?=[ \t\n\r,\]}])"
)
# RFC 8259 section 6, ASCII digits only (like json's C scanner). Groups: fraction, exponent.
_NUMBER: Final = re.compile(r"-?(?:0|[1-9][0-9]*)(\.[0-9]+)?([eE][-+]?[0-9]+)?")
# What a number cut short can be: the beginning of one that more digits would finish
# ("-", "1.", "2e+"), unlike "01" or "1.e", which no text can finish.
_NUMBER_START: Final = re.compile(
    r"-?(?:(?:0|[1-9][0-9]*)(?:\.(?:[0-9]+(?:[eE][-+]?[0-9]*)?)?|[eE][-+]?[0-9]*)?)?"
)
_HEX4: Final = re.compile(r"[0-9a-fA-F]{4}")
_HEX: Final = frozenset("0123456789abcdefABCDEF")
_ESCAPES: Final = {
    '"': '"',
    "\\": "\\",
    "/": "/",
    "b": "\b",
    "f": "\f",
    "n": "\n",
    "r": "\r",
    "t": "\t",
}
_LITERALS: Final[dict[str, tuple[str, Any]]] = {
    "t": ("true", True),
    "f": ("false", False),
    "n": ("null", None),
}
_NO_DEFAULT: Final[Any] = object()
# json's C string scanner, given a string's content and where it starts: the decoded text
# up to the closing quote, and the index after it. Raises ValueError on invalid content.
scanstring: Final[Callable[[str, int], tuple[str, int]]] = decoder.scanstring  # type: ignore[attr-defined]


class Change:
    """One thing that changed in a parser's partial value during one ``feed`` call.

    Attributes:
        kind: ``"added"`` (a value appeared at ``path``), ``"grew"`` (the string at
            ``path`` got ``text`` appended) or ``"completed"`` (the value at ``path`` is
            final and is ``value``).
        text: for ``"grew"``, the decoded text appended in this piece; else ``""``.
        value: for ``"added"``, what the value shows initially: ``""``, a complete
            scalar, or the live container (the same object as in the parser's ``value``,
            so it fills up as parsing goes on); for ``"completed"``, the final value; for
            ``"grew"``, ``None``.
    """

    __slots__ = ("_node", "_path", "kind", "text", "value")

    kind: ChangeKind
    text: str
    value: Any

    def __init__(self, node: _Node, kind: ChangeKind, text: str = "", value: Any = None) -> None:
        self._node = node
        self._path: tuple[str | int, ...] | None = None
        self.kind = kind
        self.text = text
        self.value = value

    @property
    def path(self) -> tuple[str | int, ...]:
        """Keys and indices from the top-level value down to the changed value; ``()`` is
        the top-level value itself. Built on first access, in O(depth)."""
        if self._path is None:
            keys: list[str | int] = []
            node = self._node
            while node is not None:
                node, key = node
                keys.append(key)
            keys.reverse()
            self._path = tuple(keys)
        return self._path

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Change):
            return NotImplemented
        return (self.path, self.kind, self.text, self.value) == (
            other.path,
            other.kind,
            other.text,
            other.value,
        )

    def __repr__(self) -> str:
        if self.kind == "grew":
            return f"Change(path={self.path!r}, kind='grew', text={self.text!r})"
        return f"Change(path={self.path!r}, kind={self.kind!r}, value={self.value!r})"


class PartialJSONParser:
    """Parse one JSON text fed in pieces, exposing the partial value after every piece.

    Feed each piece with :meth:`feed`, read :attr:`value` whenever you like, and call
    :meth:`finish` when the text is complete. See the module documentation for what the
    partial value shows and what each operation costs.

    Args:
        max_depth: the deepest nesting of arrays and objects accepted (default
            :data:`MAX_DEPTH`, 256); deeper raises :class:`~sluice.PartialJSONError`. The
            parser itself never recurses; the limit protects what reads the value
            (``repr``, ``json``, ``copy`` recurse). ``None``: no limit.
    """

    def __init__(self, *, max_depth: int | None = MAX_DEPTH) -> None:
        self._max_depth = (1 << 62) if max_depth is None else max_depth
        self._chunks: list[str] = []  # everything fed, for `text` and errors
        self._length = 0
        self._pending = ""  # an unfinished escape or literal, re-scanned with the next piece
        self._state: int = _VALUE
        self._frames: list[_Frame] = []
        self._key = ""  # the key of the object member being parsed
        self._root: Any = None
        self._done = False
        self._error: PartialJSONError | None = None
        # The records of the latest call; a str is one "grew" record of the open string,
        # not built unless asked for (see `_feed`).
        self._changes: list[Any] | str = []
        # The open string value: where it lives (its container and key or index, or None
        # at the top level), its text so far (the text last shown, and what was decoded
        # since), and where it started.
        self._str_node: _Node = None
        self._str_home: dict[str, Any] | list[Any] | None = None
        self._str_key: Any = ""
        self._str_cache = ""
        self._str_new: list[str] = []
        self._str_start = 0
        # The open key's, or number's, pieces so far.
        self._key_pieces: list[str] = []
        self._num_pieces: list[str] = []
        self._num_start = 0
        # Set by finish(partial=True) when the text ended before the value did: the error
        # finish() would have raised (the tool calls quote it if no max_tokens explains it).
        self._incomplete: PartialJSONError | None = None

    # -- public API -----------------------------------------------------------------------

    @property
    def value(self) -> Any:
        """The value as far as it is known: ``None`` until the top-level value starts to show.

        A live structure, updated in place by later feeds (read it again after each
        :meth:`feed` to refresh a growing string). O(1) unless a string grew since the
        last read; see the module documentation.
        """
        new = self._str_new
        if new:
            # _materialize(), inline: a read after every piece is the common case.
            text = self._str_cache
            self._str_cache = ""
            home = self._str_home
            if home is None:
                self._root = ""
                text += new[0] if len(new) == 1 else "".join(new)
                self._str_cache = self._root = text
            else:
                key = self._str_key
                home[key] = ""
                text += new[0] if len(new) == 1 else "".join(new)  # in place: _materialize()
                self._str_cache = home[key] = text
            new.clear()
        return self._root

    @property
    def done(self) -> bool:
        """True once one complete top-level value has been parsed.

        A top-level number is complete only once whitespace follows it or :meth:`finish`
        is called.
        """
        return self._done

    @property
    def text(self) -> str:
        """All the text fed so far."""
        if len(self._chunks) > 1:
            self._chunks = ["".join(self._chunks)]
        return self._chunks[0] if self._chunks else ""

    def changes(self) -> list[Change]:
        """The change records of the latest :meth:`feed` or :meth:`finish` call."""
        records = self._changes
        if isinstance(records, str):
            changes = [Change(self._str_node, "grew", records)]
            self._changes = changes
            return changes
        if records and type(records[0]) is tuple:
            records[:] = [Change(*record) for record in records]  # the same list object
        return records

    def feed(self, text: str) -> list[Change]:
        """Parse the next piece of the JSON text.

        Returns:
            what changed in :attr:`value`, in document order (also kept for
            :meth:`changes`).

        Raises:
            PartialJSONError: the text so far cannot be the beginning of a JSON text. The
                parser is then broken: every later call raises the same error.
        """
        if not isinstance(text, str):
            raise TypeError(f"feed() takes str, not {type(text).__name__}")
        self._changes = self._feed(text)
        return self.changes()

    @property
    def truncated(self) -> bool:
        """True once :meth:`finish` with ``partial=True`` found that the text ended before
        the value did (what ``max_tokens`` does to a tool call's input)."""
        return self._incomplete is not None

    def finish(self, *, default: Any = _NO_DEFAULT, partial: bool = False) -> Any:
        """Declare the text complete and return the final value.

        Args:
            default: returned when nothing but whitespace was fed (and, with ``partial``,
                when nothing of the value is complete). A tool that takes no parameters
                streams an empty input, so tool callers pass ``default={}``; without it,
                an empty text is an error, as with :func:`json.loads`.
            partial: the text may have been cut short, as ``max_tokens`` cuts a tool call's
                input. If it ended before the value did, return every complete value
                instead of raising, and set :attr:`truncated`: an unfinished string,
                number, literal or object key is left out (with its member), and unfinished
                objects and arrays are closed with the members they completed, so
                ``{"path": "a.txt", "content": "Hello wor`` gives ``{"path": "a.txt"}``. A
                number is left out even when its digits so far are a number (``12`` may
                have been going to be ``123``). Invalid text still raises.

        Raises:
            PartialJSONError: the text is incomplete (``position`` is its length; not with
                ``partial``), or it was invalid (trailing non-whitespace is detected by
                :meth:`feed`).
        """
        self._changes = []
        if self._error is not None:
            raise self._reraise(self._error)
        try:
            return self._finish_partial(default) if partial else self._finish(default)
        except PartialJSONError as exc:
            self._break(exc)
            raise

    def __repr__(self) -> str:
        return f"<PartialJSONParser fed={self._length} done={self._done}>"

    # -- errors ---------------------------------------------------------------------------

    def _fail(self, what: str, position: int, detail: str) -> PartialJSONError:
        return PartialJSONError(
            f"{what} at position {position} ({detail})", position=position, text=self.text
        )

    def _too_deep(self, position: int) -> PartialJSONError:
        return self._fail(
            "nesting too deep",
            position,
            f"more than {self._max_depth} levels of arrays and objects (max_depth)",
        )

    def _unexpected(self, what: str, s: str, i: int, base: int, hint: str = "") -> PartialJSONError:
        return self._fail(what, base + i, f"found {s[i]!r}{hint}")

    def _break(self, exc: PartialJSONError) -> None:
        self._error = exc
        self._state = _BROKEN

    def _reraise(self, old: PartialJSONError) -> PartialJSONError:
        """The error that broke the parser, again, with the text as it is now."""
        return PartialJSONError(str(old), position=old.position, text=self.text)

    # -- the state machine ----------------------------------------------------------------

    def _feed(self, s: str) -> list[Any] | str:
        """:meth:`feed` without building :class:`Change` objects: the tool calls' hot path.

        Returns the records as ``(node, kind, text, value)`` tuples (``Change(*record)``
        makes each), or, for a piece that stays inside the open string and shows text,
        that decoded text, whose one record ``(self._str_node, "grew", text, None)`` is not
        made. ``s`` must be a ``str``.

        A piece inside a string goes first: one C-level search finds literal text, or else
        json's C scanner decodes escapes at once if none can be cut short at the end, or
        else one match finds the complete escapes (decoded by that scanner) and the escape
        cut short, kept for the next piece; where the string closes in the piece, that
        scan is used too. Then a loop over the piece with the state, the innermost open
        container and the current key in local variables handles the common steps: string
        text, the punctuation between two values (after a value, the next character says
        what comes: a comma, whose member one match of a ``_*_NEXT`` pattern takes whole,
        ``"key": "text``, or the closing bracket), values that start, whole numbers and
        literals. Everything else -- escapes cut in an unusual way, numbers split across
        pieces, errors -- goes to :meth:`_parse_rest`, one token at a time, with the state
        in the attributes.
        """
        state = self._state
        pending = self._pending
        closes = -1  # where the open string's closing quote is in `pending + s`, if known
        if state == _IN_STRING:  # (a broken parser is in state _BROKEN, never here)
            text = pending + s if pending else s
            m = _STRING_END.search(text)
            if m is None:
                if text:  # (no pending text here: it would start with a backslash)
                    self._chunks.append(s)
                    self._length += len(s)
                    self._str_new.append(text)
                    return text
            else:
                j = m.start()
                if text[j] == '"':
                    closes = j
                else:
                    if text[-1] != "\\" and "\\u" not in text[-5:]:
                        # No escape is cut short at the end: that would leave a backslash
                        # last, "\u" in the last five characters, or a high surrogate
                        # last (checked once decoded). So json's C scanner checks and
                        # decodes it all in one call -- unless a quote closes the string,
                        # something is invalid, or a low surrogate may follow: the match
                        # below sorts those out, as it does the pieces that end so.
                        try:
                            decoded, end = scanstring(text + '"', 0)
                        except ValueError:
                            end = 0
                        if end > len(text) and not "\ud800" <= decoded[-1] <= "\udbff":
                            self._chunks.append(s)
                            self._length += len(s)
                            self._pending = ""
                            self._str_new.append(decoded)
                            return decoded
                    m = _STRING_PIECE.match(text, j)
                    j = m.end()  # type: ignore[union-attr]
                    if j == len(text):
                        self._chunks.append(s)
                        self._length += len(s)
                        if m.lastindex is None:  # type: ignore[union-attr]
                            self._pending = ""
                        else:  # an escape cut short
                            cut = self._pending = m.group(1)  # type: ignore[union-attr]
                            text = text[: j - len(cut)]
                            if not text:
                                return []
                        text = scanstring(text + '"', 0)[0]
                        self._str_new.append(text)
                        return text
                    if text[j] == '"' and m.lastindex is None:  # type: ignore[union-attr]
                        closes = j
        base = self._length - len(pending)  # where `pending + s` starts in the whole text
        self._chunks.append(s)
        self._length += len(s)
        changes: list[_Record] = []
        if state == _BROKEN:
            self._changes = changes
            raise self._reraise(self._error)  # type: ignore[arg-type]
        if pending:
            s = pending + s
            self._pending = ""
        n = len(s)
        i = 0
        frames = self._frames
        # The innermost open container, kept in locals (and updated where a container opens
        # or closes): the container, whether it is an object, and its path node; `key` is
        # the current member's key.
        home: Any
        parent: _Node
        if frames:
            home, is_object, parent = frames[-1]
        else:
            home = parent = None
            is_object = False
        key = self._key
        value: Any
        try:
            if closes >= 0:
                self._string_ends(s[:closes], changes)
                state = _AFTER
                i = closes + 1
            while i < n:
                # Each branch either starts a value (`opened`: '"' with the string's `text`
                # so far, '{' or '[' with the container in `value`, or "0" with a whole
                # scalar in `value`), handled after the branches, or goes on with `continue`.
                if state == _AFTER:
                    if home is None:  # only whitespace may follow the top-level value
                        break
                    c = s[i]
                    if c == ",":
                        if is_object:  # the next member: one match takes `, "key": "text`
                            m = _KEY_NEXT.match(s, i + 1)
                            name, quote, colon, opened, text = m.groups()  # type: ignore[union-attr]
                            i = m.end()  # type: ignore[union-attr]
                            if name is None:
                                state = _KEY
                                if i < n:  # an error
                                    break
                                continue
                            if quote is None:
                                self._key_pieces = [name]
                                self._str_start = base + i - len(name) - 1
                                state = _IN_KEY
                                continue
                            key = name
                            if colon is None:
                                state = _COLON
                                continue
                            state = _VALUE
                        else:
                            m = _VALUE_NEXT.match(s, i + 1)
                            opened, text = m.groups()  # type: ignore[union-attr]
                            i = m.end()  # type: ignore[union-attr]
                            state = _VALUE
                        if opened is None:
                            continue
                    elif c == ("}" if is_object else "]"):
                        frames.pop()
                        changes.append((parent, "completed", "", home))
                        if frames:
                            home, is_object, parent = frames[-1]
                        else:
                            home = parent = None
                            is_object = False
                            self._done = True
                        i += 1
                        continue
                    elif c in _WHITESPACE:
                        i = _WHITESPACE_RUN.match(s, i).end()  # type: ignore[union-attr]
                        continue
                    else:  # an error
                        break
                elif state == _IN_KEY:
                    m = _KEY_REST.match(s, i)
                    name, quote, colon, opened, text = m.groups()  # type: ignore[union-attr]
                    i = m.end()  # type: ignore[union-attr]
                    if quote is None:
                        self._key_pieces.append(name)
                        if i < n:  # an escape, or an invalid character
                            self._state = state
                            i = self._string_key(s, i, base)
                            state = self._state
                            key = self._key
                        continue
                    pieces = self._key_pieces
                    if pieces:
                        pieces.append(name)
                        name = "".join(pieces)
                        self._key_pieces = []
                    key = name
                    if colon is None:
                        state = _COLON
                        continue
                    state = _VALUE
                    if opened is None:
                        continue
                elif state == _VALUE or state == _ARRAY_FIRST:
                    c = s[i]
                    if c == '"':
                        opened = c
                        text = ""
                        i += 1
                    elif "0" <= c <= "9" or c == "-":
                        m = _WHOLE_NUMBER.match(s, i)
                        if m is not None and m.end() - i < 100:  # (long: see _end_number)
                            j = m.end()
                            value = int(s[i:j]) if m.lastindex is None else float(s[i:j])
                            opened = "0"
                            i = j
                        elif _NUMBER_CHARS.match(s, i).end() == n:  # type: ignore[union-attr]
                            # Cut short by the end of the piece: the next one goes on.
                            self._num_pieces = [s[i:]]
                            self._num_start = base + i
                            state = _IN_NUMBER
                            i = n
                            continue
                        else:  # long, or invalid
                            self._state = state
                            self._key = key
                            i = self._start_value(s, i, base, changes)
                            state = self._state
                            continue
                    elif c == "{" or c == "[":
                        opened = c
                        value = {} if c == "{" else []
                        i += 1
                    elif c in _WHITESPACE:
                        i = _WHITESPACE_RUN.match(s, i).end()  # type: ignore[union-attr]
                        continue
                    elif c == "]" and state == _ARRAY_FIRST:
                        frames.pop()
                        changes.append((parent, "completed", "", home))
                        if frames:
                            home, is_object, parent = frames[-1]
                        else:
                            home = parent = None
                            is_object = False
                            self._done = True
                        state = _AFTER
                        i += 1
                        continue
                    elif (literal := _LITERALS.get(c)) is not None and s.startswith(literal[0], i):
                        value = literal[1]
                        opened = "0"
                        i += len(literal[0])
                    else:  # a literal cut short, or an error
                        self._state = state
                        self._key = key
                        i = self._start_value(s, i, base, changes)
                        state = self._state
                        if frames:
                            home, is_object, parent = frames[-1]
                        continue
                elif state == _KEY or state == _OBJECT_FIRST:
                    m = _KEY_NEXT.match(s, i)
                    name, quote, colon, opened, text = m.groups()  # type: ignore[union-attr]
                    i = m.end()  # type: ignore[union-attr]
                    if name is None:
                        if i < n:  # '}', or an error
                            break
                        continue
                    if quote is None:
                        self._key_pieces = [name]
                        self._str_start = base + i - len(name) - 1
                        state = _IN_KEY
                        continue
                    key = name
                    if colon is None:
                        state = _COLON
                        continue
                    state = _VALUE
                    if opened is None:
                        continue
                elif state == _COLON:
                    m = _COLON_NEXT.match(s, i)
                    colon, opened, text = m.groups()  # type: ignore[union-attr]
                    i = m.end()  # type: ignore[union-attr]
                    if colon is None:
                        if i < n:  # an error
                            break
                        continue
                    state = _VALUE
                    if opened is None:
                        continue
                elif state == _IN_STRING:
                    j = _STRING_TEXT.match(s, i).end()  # type: ignore[union-attr]
                    if j < n:
                        if s[j] == '"':
                            self._string_ends(s[i:j], changes)
                            state = _AFTER
                            i = j + 1
                            continue
                        if s[j] != "\\" or not _CUT_ESCAPE.fullmatch(s, j):
                            # A high surrogate without its pair, an invalid escape or
                            # character: one character at a time.
                            self._state = state
                            i = self._string_value(s, i, base, changes)
                            state = self._state
                            continue
                    # The piece ends inside the string, perhaps inside an escape.
                    if j > i:
                        text = s[i:j]
                        if "\\" in text:
                            text = scanstring(text + '"', 0)[0]
                        self._str_new.append(text)
                        changes.append((self._str_node, "grew", text, None))
                    self._pending = s[j:]
                    i = n
                    continue
                elif state == _IN_NUMBER:
                    m = _NUMBER_CHARS.match(s, i)
                    j = m.end()  # type: ignore[union-attr]
                    if j > i:
                        self._num_pieces.append(s[i:j])
                    if j == n:
                        i = n
                        break
                    token = "".join(self._num_pieces)
                    self._num_pieces = []
                    m = _NUMBER.fullmatch(token)
                    i = j
                    if m is None or len(token) >= 100:  # invalid, or long (see _end_number)
                        self._key = key
                        self._end_number(token, self._num_start, s[j], changes)
                        state = _AFTER
                        continue
                    value = int(token) if m.lastindex is None else float(token)
                    opened = "0"
                else:
                    break
                # A value starts: a string (and its `text` up to `i`, with complete escapes
                # only), a container, or a whole scalar ("0"): shown in its parent at once.
                # _add() and _string_opens(), inline.
                if opened == '"':
                    value = ""
                node: _Node
                slot: Any  # where the value is in `home`: its key, or its index
                if home is None:
                    slot = node = None
                    self._root = value
                else:
                    if is_object:
                        slot = key
                        home[key] = value
                    else:
                        slot = len(home)
                        home.append(value)
                    node = (parent, slot)
                changes.append((node, "added", "", value))
                if opened == '"':
                    self._str_home = home
                    self._str_key = slot
                    self._str_node = node
                    self._str_start = base + i - len(text) - 1  # the opening quote
                    if text:
                        if "\\" in text:
                            text = scanstring(text + '"', 0)[0]
                        self._str_new.append(text)
                        changes.append((node, "grew", text, None))
                    state = _IN_STRING
                elif opened == "0":
                    changes.append((node, "completed", "", value))
                    state = _AFTER
                    if home is None:
                        self._done = True
                else:
                    is_object = opened == "{"
                    frames.append((value, is_object, node))
                    if len(frames) > self._max_depth:
                        raise self._too_deep(base + i - 1)
                    home = value
                    parent = node
                    state = _OBJECT_FIRST if is_object else _ARRAY_FIRST
            self._state = state
            self._key = key
            if i < n:
                self._parse_rest(s, i, base, changes)
        except PartialJSONError as exc:
            self._changes = changes
            self._break(exc)
            raise
        return changes

    def _string_opens(self, raw: str, end: int, changes: list[_Record]) -> int:
        """A string value opened and ``raw`` of it arrived (complete escapes only), ending
        at ``end``: show it, record it, and return the new state."""
        frames = self._frames
        node: _Node
        if frames:
            home, is_object, parent = frames[-1]
            key: str | int
            if is_object:
                key = self._key
                home[key] = ""
            else:
                key = len(home)
                home.append("")
            node = (parent, key)
            self._str_home = home
            self._str_key = key
        else:
            node = None
            self._root = ""
            self._str_home = None
        self._str_node = node
        changes.append((node, "added", "", ""))
        self._str_start = end - len(raw) - 1  # the opening quote
        if raw:
            text = scanstring(raw + '"', 0)[0] if "\\" in raw else raw
            self._str_new.append(text)
            changes.append((node, "grew", text, None))
        return _IN_STRING

    def _string_ends(self, raw: str, changes: list[_Record]) -> None:
        """The open string's last text ``raw`` (complete escapes only) and its closing quote
        arrived: show it whole, record it, and complete it (the caller sets the state)."""
        new = self._str_new
        if raw:
            text = scanstring(raw + '"', 0)[0] if "\\" in raw else raw
            new.append(text)
            changes.append((self._str_node, "grew", text, None))
        final = self._str_cache
        if new:
            final += new[0] if len(new) == 1 else "".join(new)  # its one copy, the last
            new.clear()
            home = self._str_home
            if home is None:
                self._root = final
            else:
                home[self._str_key] = final
        self._str_cache = ""
        changes.append((self._str_node, "completed", "", final))
        if not self._frames:
            self._done = True

    def _parse_rest(self, s: str, i: int, base: int, changes: list[_Record]) -> None:
        """Parse ``s`` from ``i`` on, one token at a time, with the state in the attributes.

        Every state and every error is handled here; :meth:`_feed` hands over the rare
        cases.
        """
        n = len(s)
        frames = self._frames
        while i < n:
            state = self._state
            if state == _IN_STRING:
                i = self._string_value(s, i, base, changes)
                continue
            if state == _IN_KEY:
                i = self._string_key(s, i, base)
                continue
            if state == _IN_NUMBER:
                m = _NUMBER_CHARS.match(s, i)
                j = m.end() if m is not None else i
                if j > i:
                    self._num_pieces.append(s[i:j])
                if j == n:
                    return
                token = "".join(self._num_pieces)
                self._num_pieces = []
                self._end_number(token, self._num_start, s[j], changes)
                i = j
                continue
            c = s[i]
            if c in _WHITESPACE:
                m = _WHITESPACE_RUN.match(s, i)
                i = m.end() if m is not None else i + 1
                continue
            if state == _AFTER:
                if not frames:
                    raise self._unexpected(
                        "expected only whitespace after the top-level value", s, i, base
                    )
                is_object = frames[-1][1]
                if c == ",":
                    self._state = _KEY if is_object else _VALUE
                elif c == ("}" if is_object else "]"):
                    self._close(changes)
                elif is_object:
                    raise self._unexpected("expected ',' or '}' after object member", s, i, base)
                else:
                    raise self._unexpected("expected ',' or ']' after array element", s, i, base)
                i += 1
            elif state == _COLON:
                if c != ":":
                    raise self._unexpected("expected ':' after object key", s, i, base)
                self._state = _VALUE
                i += 1
            elif state == _OBJECT_FIRST or state == _KEY:
                if c == '"':
                    self._state = _IN_KEY
                    self._key_pieces = []
                    self._str_start = base + i
                    i += 1
                elif c == "}" and state == _OBJECT_FIRST:
                    self._close(changes)
                    i += 1
                elif state == _OBJECT_FIRST:
                    raise self._unexpected(
                        "expected '\"' (an object key) or '}'", s, i, base, _hint(c)
                    )
                else:
                    hint = ": trailing commas are not allowed" if c == "}" else _hint(c)
                    raise self._unexpected(
                        "expected '\"' (an object key) after ','", s, i, base, hint
                    )
            elif c == "]" and state == _ARRAY_FIRST:
                self._close(changes)
                i += 1
            else:
                i = self._start_value(s, i, base, changes)

    def _start_value(self, s: str, i: int, base: int, changes: list[_Record]) -> int:
        """Begin the value whose first character is ``s[i]``; return where parsing resumes."""
        c = s[i]
        if c == '"':
            self._state = self._string_opens("", base + i + 1, changes)
            return i + 1
        if c == "{" or c == "[":
            container: dict[str, Any] | list[Any] = {} if c == "{" else []
            if len(self._frames) >= self._max_depth:
                raise self._too_deep(base + i)
            self._frames.append((container, c == "{", self._add(container, changes)))
            self._state = _OBJECT_FIRST if c == "{" else _ARRAY_FIRST
            return i + 1
        if c == "-" or "0" <= c <= "9":
            m = _NUMBER_CHARS.match(s, i)
            j = m.end() if m is not None else i + 1
            if j == len(s):
                self._num_pieces = [s[i:]]
                self._num_start = base + i
                self._state = _IN_NUMBER
            else:
                self._end_number(s[i:j], base + i, s[j], changes)
            return j
        literal = _LITERALS.get(c)
        if literal is not None:
            word, value = literal
            end = i + len(word)
            if s.startswith(word, i):
                self._complete(self._add(value, changes), value, changes)
                return end
            got = s[i:end]
            k = next((k for k in range(len(got)) if got[k] != word[k]), len(got))
            if k == len(got):  # a prefix of the word: wait for the rest
                self._pending = got
                return len(s)
            raise self._fail(f"expected {word!r}", base + i + k, f"found {got[: k + 1]!r}")
        if self._frames and self._state == _VALUE and not self._frames[-1][1] and c == "]":
            raise self._fail(
                "expected a JSON value after ','",
                base + i,
                "found ']': trailing commas are not allowed",
            )
        what = "expected a JSON value"
        if self._state == _ARRAY_FIRST:
            what = "expected a JSON value or ']'"
        elif self._frames:
            after = ":" if self._frames[-1][1] else ","
            what = f"expected a JSON value after {after!r}"
        raise self._unexpected(what, s, i, base, _hint(c))

    def _string_value(self, s: str, i: int, base: int, changes: list[_Record]) -> int:
        pieces, j, closed = self._scan_string(s, i, base)
        text = "".join(pieces)
        if text:
            self._str_new.append(text)
            node = self._str_node
            last = changes[-1] if changes else None
            if last is not None and last[1] == "grew" and last[0] is node:
                # The string's text before this escape was recorded already: one "grew"
                # record per string per piece.
                changes[-1] = (node, "grew", last[2] + text, None)
            else:
                changes.append((node, "grew", text, None))
        if not closed:
            return j
        final = self._materialize() if self._str_new else self._str_cache
        self._str_cache = ""
        self._complete(self._str_node, final, changes)
        return j

    def _string_key(self, s: str, i: int, base: int) -> int:
        pieces, j, closed = self._scan_string(s, i, base)
        self._key_pieces.extend(pieces)
        if closed:
            self._key = "".join(self._key_pieces)
            self._key_pieces = []
            self._state = _COLON
        return j

    def _scan_string(self, s: str, i: int, base: int) -> tuple[list[str], int, bool]:
        """Decode string content from ``s[i]`` on.

        Returns the decoded pieces, where to resume, and whether the closing quote was
        reached. An escape cut off by the end of ``s`` is kept in ``_pending``.
        """
        n = len(s)
        pieces: list[str] = []
        run = _STRING_RUN.match
        while True:
            m = run(s, i)
            j = m.end() if m is not None else i
            if j > i:
                pieces.append(s[i:j])
            if j == n:
                return pieces, n, False
            c = s[j]
            if c == '"':
                return pieces, j + 1, True
            if c != "\\":
                raise self._fail(
                    "invalid control character in string", base + j, f"found {c!r}: escape it"
                )
            decoded = self._escape(s, j, base)
            if decoded is None:
                self._pending = s[j:]
                return pieces, n, False
            pieces.append(decoded[0])
            i = decoded[1]

    def _escape(self, s: str, j: int, base: int) -> tuple[str, int] | None:
        """Decode the escape at ``s[j] == '\\'``: (text, end), or None if ``s`` ends first."""
        n = len(s)
        if j + 1 >= n:
            return None
        c = s[j + 1]
        if c != "u":
            simple = _ESCAPES.get(c)
            if simple is None:
                raise self._fail(
                    "expected one of \" \\ / b f n r t u after '\\' in string",
                    base + j + 1,
                    f"found {c!r}",
                )
            return simple, j + 2
        code = self._hex4(s, j + 2, base)
        if code is None:
            return None
        if not 0xD800 <= code <= 0xDBFF:
            return chr(code), j + 6
        # A high surrogate: combined with an immediately following \uDC00-\uDFFF escape,
        # else kept alone -- exactly as json.loads does.
        if j + 6 >= n:
            return None
        if s[j + 6] != "\\":
            return chr(code), j + 6
        if j + 7 >= n:
            return None
        if s[j + 7] != "u":
            return chr(code), j + 6
        low = self._hex4(s, j + 8, base)
        if low is None:
            return None
        if 0xDC00 <= low <= 0xDFFF:
            return chr(0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)), j + 12
        return chr(code), j + 6

    def _hex4(self, s: str, k: int, base: int) -> int | None:
        """The four hex digits of a ``\\u`` escape at ``s[k:k+4]``, or None if ``s`` ends first."""
        digits = s[k : k + 4]
        if len(digits) == 4 and _HEX4.fullmatch(digits):
            return int(digits, 16)
        for offset, d in enumerate(digits):
            if d not in _HEX:
                raise self._fail(
                    "expected 4 hex digits after '\\u'", base + k + offset, f"found {d!r}"
                )
        return None

    def _end_number(
        self, token: str, start: int, after: str | None, changes: list[_Record]
    ) -> None:
        """Convert a number token that ended: ``after`` is the character that ended it,
        None if the text did."""
        m = _NUMBER.fullmatch(token)
        if m is None:
            found = "the text ended" if after is None else f"found {after!r}"
            raise self._number_error(token, start, found)
        value: int | float
        if m.lastindex is None:
            try:
                value = int(token)
            except ValueError as exc:  # longer than sys.get_int_max_str_digits()
                raise PartialJSONError(
                    f"integer at position {start} has {len(token)} digits, more than "
                    f"sys.get_int_max_str_digits() allows",
                    position=start,
                    text=self.text,
                ) from exc
        else:
            value = float(token)
        self._complete(self._add(value, changes), value, changes)

    def _number_error(self, token: str, start: int, found: str) -> PartialJSONError:
        # Walk the RFC 8259 number grammar to name the first character that breaks it.
        state = "start"
        for k, c in enumerate(token):
            digit = "0" <= c <= "9"
            if state == "start" and c == "-":
                state = "minus"
            elif state in ("start", "minus") and digit:
                state = "zero" if c == "0" else "int"
            elif (state == "int" and digit) or (state in ("point", "frac") and digit):
                state = "frac" if state in ("point", "frac") else "int"
            elif state in ("zero", "int") and c == ".":
                state = "point"
            elif state in ("zero", "int", "frac") and c in "eE":
                state = "exp"
            elif state == "exp" and c in "+-":
                state = "exp_sign"
            elif state in ("exp", "exp_sign", "exp_digits") and digit:
                state = "exp_digits"
            else:
                detail = f"found {c!r}"
                if state == "zero" and digit:
                    detail += ": leading zeros are not allowed"
                return self._fail(_NUMBER_EXPECTED.get(state, "invalid number"), start + k, detail)
        return self._fail(_NUMBER_EXPECTED[state], start + len(token), found)

    # -- values and containers ------------------------------------------------------------

    def _add(self, value: Any, changes: list[_Record]) -> _Node:
        """Show a value that starts now in its parent (or as the top-level value), record
        it as added, and return its path node."""
        frames = self._frames
        if not frames:
            self._root = value
            changes.append((None, "added", "", value))
            return None
        container, is_object, parent = frames[-1]
        key: str | int
        if is_object:
            key = self._key
            container[key] = value
        else:
            key = len(container)
            container.append(value)
        node = (parent, key)
        changes.append((node, "added", "", value))
        return node

    def _complete(self, node: _Node, value: Any, changes: list[_Record]) -> None:
        changes.append((node, "completed", "", value))
        self._state = _AFTER
        if not self._frames:
            self._done = True

    def _close(self, changes: list[_Record]) -> None:
        container, _, node = self._frames.pop()
        self._complete(node, container, changes)

    def _materialize(self) -> str:
        """Fold the text decoded since the last read into the open string and show it."""
        text = self._str_cache
        # Drop the parser's other references so that, on CPython, `text += tail` can
        # resize the string in place instead of copying it (it copies when anyone else,
        # such as the caller, still holds the old string -- which keeps this correct).
        self._str_cache = ""
        home = self._str_home
        if home is None:
            self._root = ""
        else:
            home[self._str_key] = ""
        new = self._str_new
        text += new[0] if len(new) == 1 else "".join(new)
        new.clear()
        self._str_cache = text
        if home is None:
            self._root = text
        else:
            home[self._str_key] = text
        return text

    def _finish(self, default: Any) -> Any:
        if self._state == _IN_NUMBER:
            token = "".join(self._num_pieces)
            self._num_pieces = []
            self._end_number(token, self._num_start, None, self._changes)  # type: ignore[arg-type]
        if self._done:
            return self.value
        if self._state == _VALUE and not self._frames and not self._pending:
            if default is not _NO_DEFAULT:
                return default
            raise self._fail("expected a JSON value", self._length, "the text is empty")
        raise self._ended(self._state)

    def _finish_partial(self, default: Any) -> Any:
        """:meth:`finish` of a text that may have been cut short (see ``partial`` there).

        The live value already shows only complete scalars, so what is left to do is to
        take out the string being streamed, if any: it is unfinished.
        """
        state = self._state
        if state == _IN_NUMBER:
            token = "".join(self._num_pieces)
            if _NUMBER.fullmatch(token) is not None:
                if not self._frames:
                    return self._finish(default)  # a whole top-level number
                incomplete = self._ended(_AFTER)  # what follows the number is missing
            elif _NUMBER_START.fullmatch(token) is not None:
                incomplete = self._number_error(token, self._num_start, "the text ended")
            else:  # no text could finish it: invalid, not cut short
                raise self._number_error(token, self._num_start, "the text ended")
            self._num_pieces = []
        elif self._done or (state == _VALUE and not self._frames and not self._pending):
            return self._finish(default)  # complete, or nothing fed
        else:
            incomplete = self._ended(state)
        if state == _IN_STRING:
            home = self._str_home
            if home is None:
                self._root = None
            else:
                frames = self._frames
                if frames and frames[-1][0] is home:
                    home = self._copy_spine(frames)
                del home[self._str_key]  # a key, or the last index of an array
            self._str_new.clear()
            self._str_cache = ""
        self._incomplete = incomplete
        if self._root is None and not self._frames:
            # Nothing of the top-level value is complete (a scalar cut short).
            if default is _NO_DEFAULT:
                raise incomplete
            return default
        return self._root

    def _copy_spine(self, frames: list[_Frame]) -> Any:
        """Copy the open containers, from the top-level value down to the innermost, and
        return the innermost copy.

        Taking the unfinished string out of a copy leaves the value already handed out
        (``value`` read while the text streamed) as it was shown: a consumer never sees a
        string it was shown disappear. Each container on the path is copied shallowly,
        once per text.
        """
        parent: Any = None
        for depth, (container, is_object, node) in enumerate(frames):
            copy: Any = dict(container) if is_object else list(container)
            if parent is None:
                self._root = copy
            else:
                parent[node[1]] = copy  # type: ignore[index]
            frames[depth] = (copy, is_object, node)
            parent = copy
        return parent

    def _ended(self, state: int) -> PartialJSONError:
        """The error of a text that ended in ``state`` (not inside a number)."""
        end = self._length
        frames = self._frames
        if self._pending and state not in (_IN_STRING, _IN_KEY):
            word = _LITERALS[self._pending[0]][0]
            return self._fail(f"expected {word!r}", end, f"the text ended after {self._pending!r}")
        if state == _VALUE and not frames:
            what = "expected a JSON value"
        elif state == _IN_STRING:
            what = f"unterminated string (opened at position {self._str_start})"
        elif state == _IN_KEY:
            what = f"unterminated object key (opened at position {self._str_start})"
        elif state == _COLON:
            what = "expected ':' after object key"
        elif state == _OBJECT_FIRST:
            what = "expected '\"' (an object key) or '}'"
        elif state == _KEY:
            what = "expected '\"' (an object key) after ','"
        elif state == _ARRAY_FIRST:
            what = "expected a JSON value or ']'"
        elif state == _VALUE:
            after = ":" if frames[-1][1] else ","
            what = f"expected a JSON value after {after!r}"
        elif frames[-1][1]:
            what = "expected ',' or '}' after object member"
        else:
            what = "expected ',' or ']' after array element"
        return self._fail(what, end, "the text ended")


_NUMBER_EXPECTED: Final = {
    "start": "expected a number",
    "minus": "expected a digit after '-'",
    "point": "expected a digit after the decimal point",
    "exp": "expected a digit or sign in the exponent",
    "exp_sign": "expected a digit in the exponent",
    "zero": "invalid number",
    "int": "invalid number",
    "frac": "invalid number",
    "exp_digits": "invalid number",
}


def _hint(c: str) -> str:
    """Extra advice for characters that are valid in JavaScript or Python but not JSON."""
    if c == "'":
        return ": JSON strings use double quotes"
    if c in "NI":
        return ": NaN and Infinity are not JSON"
    return ""
