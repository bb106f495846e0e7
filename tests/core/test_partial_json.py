"""Tests for the incremental partial-JSON parser that assembles streamed tool input."""

from __future__ import annotations

import itertools
import json
import re
import sys
from typing import Any

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from sluice import PartialJSONError, PartialJSONParser
from sluice._core._partial_json import Change

# -- helpers --------------------------------------------------------------------------------


def parse(*pieces: str) -> Any:
    """Feed the pieces and finish."""
    p = PartialJSONParser()
    for piece in pieces:
        p.feed(piece)
    return p.finish()


def values_after_each(text: str) -> list[Any]:
    """The partial value (deep-copied) after feeding ``text`` one character at a time."""
    p = PartialJSONParser()
    out = []
    for c in text:
        p.feed(c)
        out.append(json.loads(json.dumps(p.value)))
    return out


def error_of(*pieces: str, finish: bool = True) -> PartialJSONError:
    """The error raised while feeding the pieces (and finishing)."""
    p = PartialJSONParser()
    with pytest.raises(PartialJSONError) as info:
        for piece in pieces:
            p.feed(piece)
        if finish:
            p.finish()
    return info.value


def strict_equal(a: Any, b: Any) -> bool:
    """Deep equality that also tells True from 1 and 1 from 1.0."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return list(a) == list(b) and all(strict_equal(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(strict_equal(x, y) for x, y in zip(a, b, strict=True))
    return bool(a == b)


def consistent(partial: Any, final: Any) -> bool:
    """Whether ``partial`` is a valid partial view of ``final``.

    Shown scalars equal the final ones, a partial string is a prefix of the final string,
    a container's members are a prefix of the final members, all complete except perhaps
    the last one, which must itself be consistent.
    """
    if isinstance(final, str):
        return isinstance(partial, str) and final.startswith(partial)
    if isinstance(final, dict):
        if not isinstance(partial, dict):
            return False
        keys, final_keys = list(partial), list(final)
        if keys != final_keys[: len(keys)]:
            return False
        if not keys:
            return True
        return all(strict_equal(partial[k], final[k]) for k in keys[:-1]) and consistent(
            partial[keys[-1]], final[keys[-1]]
        )
    if isinstance(final, list):
        if not isinstance(partial, list) or len(partial) > len(final):
            return False
        if not partial:
            return True
        return all(strict_equal(x, y) for x, y in zip(partial[:-1], final, strict=False)) and (
            consistent(partial[-1], final[len(partial) - 1])
        )
    return strict_equal(partial, final)


def cut_view(partial: Any, final: Any) -> bool:
    """Whether ``partial`` is what a cut can leave of ``final``: a container's members are
    a prefix of the final members, all equal to them but perhaps the last, which may be
    such a view of a final container, never a part of a string or number."""
    if strict_equal(partial, final):
        return True
    if isinstance(final, dict) and isinstance(partial, dict):
        keys = list(partial)
        if not keys or keys != list(final)[: len(keys)]:
            return not keys
        last = keys[-1]
        return all(strict_equal(partial[k], final[k]) for k in keys[:-1]) and cut_view(
            partial[last], final[last]
        )
    if isinstance(final, list) and isinstance(partial, list) and len(partial) <= len(final):
        return not partial or (
            all(strict_equal(x, y) for x, y in zip(partial[:-1], final, strict=False))
            and cut_view(partial[-1], final[len(partial) - 1])
        )
    return False


def at_path(value: Any, path: tuple[str | int, ...]) -> Any:
    for key in path:
        value = value[key]
    return value


def strict_loads(text: str) -> Any:
    """json.loads, minus NaN/Infinity (which the parser rejects on purpose)."""

    def no_constants(name: str) -> Any:
        raise ValueError(name)

    return json.loads(text, parse_constant=no_constants)


def has_duplicate_keys(text: str) -> bool:
    found = False

    def hook(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        nonlocal found
        found = found or len({k for k, _ in pairs}) != len(pairs)
        return dict(pairs)

    json.loads(text, object_pairs_hook=hook)
    return found


# -- strategies -----------------------------------------------------------------------------

# Characters that exercise escaping: quotes, backslashes, control characters, lone and paired
# surrogates, non-ASCII, JavaScript line separators.
_SPECIAL = [
    '"',
    "\\",
    "/",
    "\x00",
    "\x01",
    "\x1f",
    "\x7f",
    "\n",
    "\t",
    "\r",
    "\b",
    "\f",
    "\ud800",
    "\udbff",
    "\udc00",
    "\udfff",
    "\ud83d",
    "\ude00",
    "é",
    "😀",
    "\u2028",
]
texts = st.text(alphabet=st.characters() | st.sampled_from(_SPECIAL), max_size=20)
scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | texts
)
json_values = st.recursive(
    scalars,
    lambda children: st.lists(children, max_size=6) | st.dictionaries(texts, children, max_size=6),
    max_leaves=25,
)


@st.composite
def documents(draw: st.DrawFn) -> str:
    """A JSON text as json.dumps writes it, with random escaping, indent and separators."""
    value = draw(json_values)
    text = json.dumps(
        value,
        ensure_ascii=draw(st.booleans()),
        indent=draw(st.sampled_from([None, 0, 2, "\t"])),
        separators=draw(st.sampled_from([None, (",", ":"), (", ", ": "), (" ,\r\n", " : ")])),
    )
    pad = st.sampled_from(["", " ", "\n", " \t\r\n "])
    return draw(pad) + text + draw(pad)


@st.composite
def split(draw: st.DrawFn, text: str) -> list[str]:
    """``text`` cut into pieces: one character each, or at random points."""
    if draw(st.booleans()):
        return list(text)
    cuts = sorted(set(draw(st.lists(st.integers(0, len(text)), max_size=12))))
    bounds = [0, *cuts, len(text)]
    return [text[a:b] for a, b in itertools.pairwise(bounds)]


PROPERTY = settings(max_examples=200, deadline=None)
INVALID = object()


# -- tests ----------------------------------------------------------------------------------


class TestFeed:
    def test_value_is_none_before_anything_shows(self) -> None:
        """Before the top-level value starts, `value` is None and `done` is False."""
        p = PartialJSONParser()
        assert p.value is None
        p.feed("  \n")
        assert p.value is None
        assert not p.done

    def test_done_once_top_level_value_complete(self) -> None:
        """`done` turns True on the closing bracket of the top-level value."""
        p = PartialJSONParser()
        p.feed('{"a": [1]')
        assert not p.done
        p.feed("}")
        assert p.done

    def test_text_keeps_everything_fed(self) -> None:
        """`text` is the concatenation of all pieces fed."""
        p = PartialJSONParser()
        for piece in ['{"a"', ": ", '"x\\u00', 'e9"}']:
            p.feed(piece)
        assert p.text == '{"a": "x\\u00e9"}'

    def test_feed_returns_the_changes(self) -> None:
        """feed() returns the same list that changes() reports afterwards."""
        p = PartialJSONParser()
        returned = p.feed('{"a": 1,')
        assert returned is p.changes()
        assert [c.kind for c in returned] == ["added", "added", "completed"]

    def test_empty_piece_is_harmless(self) -> None:
        """Feeding "" changes nothing, even in the middle of an escape."""
        p = PartialJSONParser()
        p.feed('["\\u00')
        assert p.feed("") == []
        p.feed('e9"]')
        assert p.finish() == ["é"]

    def test_rejects_bytes(self) -> None:
        """feed() takes str only: the API delivers partial_json as decoded text."""
        with pytest.raises(TypeError, match="str"):
            PartialJSONParser().feed(b"{}")  # type: ignore[arg-type]


class TestPartialStrings:
    def test_string_shows_text_so_far(self) -> None:
        """An unfinished string value shows its decoded text after every piece."""
        p = PartialJSONParser()
        p.feed('{"content": "Hel')
        assert p.value == {"content": "Hel"}
        p.feed("lo\\nwor")
        assert p.value == {"content": "Hello\nwor"}

    def test_string_appears_empty_when_opened(self) -> None:
        """A member appears, as "", as soon as its string value opens."""
        p = PartialJSONParser()
        p.feed('{"a": "')
        assert p.value == {"a": ""}

    def test_half_unicode_escape_is_hidden(self) -> None:
        """A \\u escape shows nothing until all four hex digits arrived."""
        values = values_after_each('"a\\u00e9b"')
        assert values == ["", "a", "a", "a", "a", "a", "a", "aé", "aéb", "aéb"]

    def test_half_simple_escape_is_hidden(self) -> None:
        """A lone backslash at the end of a piece shows nothing yet."""
        p = PartialJSONParser()
        p.feed('"x\\')
        assert p.value == "x"
        p.feed('"y"')
        assert p.finish() == 'x"y'

    def test_high_surrogate_waits_for_its_pair(self) -> None:
        """A high surrogate escape shows nothing until the low surrogate is known."""
        text = '"\\ud83d\\ude00!"'
        values = values_after_each(text)
        assert values[:12] == [""] * 12
        assert values[12:] == ["😀", "😀!", "😀!"]

    @pytest.mark.parametrize(
        ("text", "expected"),
        [
            ('"\\ud83dx"', "\ud83dx"),
            ('"\\ud83d\\n"', "\ud83d\n"),
            ('"\\ud83d\\u0041"', "\ud83dA"),
            ('"\\ud83d\\ud83d\\ude00"', "\ud83d😀"),
            ('"\\ude00"', "\ude00"),
            ('"\\ud83d"', "\ud83d"),
        ],
    )
    def test_lone_surrogates_like_json_loads(self, text: str, expected: str) -> None:
        """Unpaired surrogate escapes decode to lone surrogates, exactly as json.loads does."""
        assert json.loads(text) == expected
        assert parse(text) == expected

    def test_surrogate_pair_split_at_every_point(self) -> None:
        """A surrogate pair cut anywhere into two pieces decodes to one character."""
        text = '["a\\ud83d\\ude00b"]'
        for cut in range(len(text) + 1):
            assert parse(text[:cut], text[cut:]) == ["a😀b"], cut

    def test_raw_non_ascii_and_lone_surrogates_pass_through(self) -> None:
        """Unescaped non-ASCII characters, even lone surrogates, are kept as they are."""
        text = '"é😀\ud800\x7f\u2028"'
        assert parse(text) == json.loads(text)

    def test_every_escape(self) -> None:
        """All eight short escapes decode as in RFC 8259."""
        assert parse('"\\"\\\\\\/\\b\\f\\n\\r\\t"') == '"\\/\b\f\n\r\t'

    def test_top_level_string(self) -> None:
        """A top-level string is shown partially too."""
        p = PartialJSONParser()
        p.feed('"abc')
        assert p.value == "abc"
        p.feed('"')
        assert p.done
        assert p.finish() == "abc"


class TestPartialScalars:
    def test_number_hidden_until_delimiter(self) -> None:
        """A number shows only once a delimiter proves it ended."""
        p = PartialJSONParser()
        p.feed('{"n": 12')
        assert p.value == {}
        p.feed("3")
        assert p.value == {}
        p.feed("}")
        assert p.value == {"n": 123}

    def test_number_split_across_many_pieces(self) -> None:
        """A float split character by character equals float() of the whole token."""
        assert parse(*"[-12.5e-3]") == [-0.0125]

    def test_top_level_number_completes_on_whitespace_or_finish(self) -> None:
        """A top-level number is done after whitespace, or when finish() is called."""
        p = PartialJSONParser()
        p.feed("42")
        assert (p.value, p.done) == (None, False)
        assert p.finish() == 42
        assert [(c.path, c.kind, c.value) for c in p.changes()] == [
            ((), "added", 42),
            ((), "completed", 42),
        ]
        q = PartialJSONParser()
        q.feed("42 ")
        assert (q.value, q.done) == (42, True)

    @pytest.mark.parametrize(("word", "value"), [("true", True), ("false", False), ("null", None)])
    def test_literal_hidden_until_spelled_out(self, word: str, value: Any) -> None:
        """true/false/null appear only when their last letter arrives."""
        p = PartialJSONParser()
        p.feed("[")
        for c in word[:-1]:
            p.feed(c)
            assert p.value == []
        p.feed(word[-1])
        assert p.value == [value]

    def test_type_of_numbers(self) -> None:
        """Integers become int, anything with a fraction or exponent becomes float."""
        result = parse("[1, -0, 1.0, 1e2, 1E+2, -0.0]")
        assert [type(x) for x in result] == [int, int, float, float, float, float]


class TestPartialContainers:
    def test_key_without_value_is_hidden(self) -> None:
        """An object key shows only once its value starts to show."""
        p = PartialJSONParser()
        steps: list[tuple[str, dict[str, Any]]] = [
            ('{"ke', {}),
            ('y"', {}),
            (": ", {}),
            ("[", {"key": []}),
        ]
        for piece, shown in steps:
            p.feed(piece)
            assert p.value == shown

    def test_members_then_partial_last_member(self) -> None:
        """Containers show their complete members and the partial last one."""
        p = PartialJSONParser()
        p.feed('{"a": [1, {"b": "x", "c": "hel')
        assert p.value == {"a": [1, {"b": "x", "c": "hel"}]}

    def test_value_is_live_and_updated_in_place(self) -> None:
        """`value` returns the same container objects, updated in place by later feeds."""
        p = PartialJSONParser()
        p.feed('{"a": [1, ')
        first = p.value
        inner = first["a"]
        p.feed('2, "s')
        assert p.value is first
        assert first["a"] is inner
        assert inner == [1, 2, "s"]

    def test_empty_containers(self) -> None:
        """{} and [] at any depth parse, with or without inner whitespace."""
        assert parse('{ "a" : [ ] , "b" : { } , "c" : [ [ ] , { } ] }') == {
            "a": [],
            "b": {},
            "c": [[], {}],
        }

    def test_duplicate_keys_last_wins(self) -> None:
        """A repeated key keeps its first position and its last value, like json.loads."""
        text = '{"a": 1, "b": 2, "a": "x"}'
        result = parse(text)
        assert result == json.loads(text)
        assert list(result) == ["a", "b"]

    def test_whitespace_everywhere(self) -> None:
        """Space, tab, CR and LF are allowed around every token."""
        ws = " \t\r\n"
        text = ws.join(["", "{", '"a"', ":", "[", "1", ",", "true", "]", "}", ""])
        assert parse(*text) == {"a": [1, True]}


class TestFinalValue:
    def test_arbitrary_size_integers(self) -> None:
        """Integers of any size (up to Python's digit limit) are exact."""
        big = "9" * 4000
        assert parse(f"[{big}, -{big}]") == [int(big), -int(big)]

    def test_integer_over_digit_limit(self) -> None:
        """An integer over sys.get_int_max_str_digits() is an error, as in json.loads."""
        limit = sys.get_int_max_str_digits()
        if limit == 0:
            pytest.skip("integer digit limit disabled (-X int_max_str_digits=0)")
        err = error_of("[1, " + "7" * (limit + 1) + "]")
        assert err.position == 4
        assert "digits" in str(err)

    @pytest.mark.parametrize(
        "token",
        ["0.1", "1e-7", "5e-324", "1.7976931348623157e308", "1e400", "-0.0", "123456789.123456789"],
    )
    def test_floats_exactly_as_json_loads(self, token: str) -> None:
        """Floats are float() of the complete token, as json.loads does."""
        assert strict_equal(parse(token), json.loads(token))
        assert strict_equal(parse(*f"[{token}]"), [json.loads(token)])

    def test_deep_nesting_arrays(self) -> None:
        """10 000 nested arrays parse without touching Python's recursion limit (no cap)."""
        depth = 10_000
        p = PartialJSONParser(max_depth=None)
        p.feed("[" * depth)
        p.feed("]" * depth)
        value = p.finish()
        for _ in range(depth - 1):
            assert isinstance(value, list)
            assert len(value) == 1
            value = value[0]
        assert value == []

    def test_deep_nesting_objects_in_small_pieces(self) -> None:
        """10 000 nested objects fed 7 characters at a time keep their structure."""
        depth = 10_000
        text = '{"k": ' * depth + '"leaf"' + "}" * depth
        p = PartialJSONParser(max_depth=None)
        for i in range(0, len(text), 7):
            p.feed(text[i : i + 7])
        value = p.finish()
        for _ in range(depth):
            value = value["k"]
        assert value == "leaf"

    def test_deep_change_paths(self) -> None:
        """A change record 10 000 levels deep reports its full path."""
        depth = 10_000
        changes = PartialJSONParser(max_depth=None).feed("[" * depth)
        assert changes[-1].path == (0,) * (depth - 1)

    @pytest.mark.parametrize("pieces", [1, 7, 1000])
    def test_max_depth(self, pieces: int) -> None:
        """Nesting past max_depth (256 by default) is refused where it goes too deep."""
        text = "[" * 300
        p = PartialJSONParser()
        with pytest.raises(PartialJSONError, match="nesting too deep") as info:
            for i in range(0, len(text), pieces):
                p.feed(text[i : i + pieces])
        assert info.value.position == 256
        ok = PartialJSONParser(max_depth=300)
        ok.feed(text)
        assert ok.value is not None

    def test_huge_string(self) -> None:
        """A megabyte string with escapes survives any piece size."""
        content = ('line with "quotes" and é and 😀\n' * 40_000)[:1_000_000]
        text = json.dumps({"content": content})
        assert parse(text) == {"content": content}
        p = PartialJSONParser()
        for i in range(0, len(text), 65536):
            p.feed(text[i : i + 65536])
            assert content.startswith(p.value["content"])
        assert p.finish() == {"content": content}


class TestFinish:
    def test_returns_default_for_whitespace_only(self) -> None:
        """A tool with no parameters streams "": finish(default={}) returns the default."""
        default: dict[str, Any] = {}
        p = PartialJSONParser()
        p.feed(" \n")
        assert p.finish(default=default) is default
        assert PartialJSONParser().finish(default=None) is None

    def test_empty_without_default_is_an_error(self) -> None:
        """Without a default, an empty text is an error, as with json.loads."""
        err = error_of("  ")
        assert err.position == 2
        assert "expected a JSON value" in str(err)

    def test_default_ignored_when_text_present(self) -> None:
        """The default applies only when nothing but whitespace was fed."""
        p = PartialJSONParser()
        p.feed("[]")
        assert p.finish(default={}) == []

    @pytest.mark.parametrize(
        ("text", "message"),
        [
            ('{"a": "unterminated', "unterminated string (opened at position 6)"),
            ('{"ke', "unterminated object key (opened at position 1)"),
            ('{"a"', "expected ':' after object key"),
            ('{"a":', "expected a JSON value after ':'"),
            ("{", "expected '\"' (an object key) or '}'"),
            ('{"a": 1,', "expected '\"' (an object key) after ','"),
            ('{"a": 1', "expected ',' or '}' after object member"),
            ("[", "expected a JSON value or ']'"),
            ("[1,", "expected a JSON value after ','"),
            ("[1", "expected ',' or ']' after array element"),
            ("[tr", "expected 'true'"),
            ('"ab\\ud83d', "unterminated string"),
            ("-", "expected a digit after '-'"),
            ("1.", "expected a digit after the decimal point"),
            ("[1e", "expected a digit or sign in the exponent"),
        ],
    )
    def test_incomplete_text(self, text: str, message: str) -> None:
        """Text that ends too early names what was expected, at its end position."""
        err = error_of(text)
        assert message in str(err)
        assert f"at position {len(text)}" in str(err)
        assert err.position == len(text)
        assert err.text == text

    def test_finish_is_repeatable(self) -> None:
        """finish() can be called again and returns the same value."""
        p = PartialJSONParser()
        p.feed('{"a": 1}')
        assert p.finish() is p.finish()

    def test_trailing_whitespace_after_finish_is_fine(self) -> None:
        """Whitespace after the top-level value is accepted."""
        p = PartialJSONParser()
        p.feed("[1] \n")
        p.feed("\t")
        assert p.finish() == [1]


class TestFinishPartial:
    """finish(partial=True): a text cut short (max_tokens) gives its complete values."""

    @pytest.mark.parametrize(
        ("text", "shown", "final"),
        [
            ('{"p": "a", "c": "Hel', {"p": "a", "c": "Hel"}, {"p": "a"}),
            ('{"o": {"l": [1, "ab', {"o": {"l": [1, "ab"]}}, {"o": {"l": [1]}}),
            ('["x", ["y", "zz', ["x", ["y", "zz"]], ["x", ["y"]]),
        ],
    )
    def test_the_value_already_shown_keeps_its_string(
        self, text: str, shown: object, final: object
    ) -> None:
        """Finishing a cut text takes the unfinished string out of a copy: the live value
        a consumer read while the text streamed does not change under it."""
        parser = PartialJSONParser()
        parser.feed(text)
        live = parser.value
        assert live == shown
        assert parser.finish(partial=True) == final
        assert live == shown

    @pytest.mark.parametrize(
        ("text", "value"),
        [
            ('{"path": "a.txt", "content": "Hello wor', {"path": "a.txt"}),
            ('{"path": "a.txt", "con', {"path": "a.txt"}),
            ('{"path": "a.txt", "content"', {"path": "a.txt"}),
            ('{"path": "a.txt", "content": ', {"path": "a.txt"}),
            ('{"path": "a.txt",', {"path": "a.txt"}),
            ('{"path": "a.txt"', {"path": "a.txt"}),
            ('{"a": 1, "n": 12', {"a": 1}),
            ('{"a": 1, "n": 1.', {"a": 1}),
            ('{"a": 1, "n": -', {"a": 1}),
            ('{"a": 1, "n": 1.5e+', {"a": 1}),
            ('{"a": 1, "b": tru', {"a": 1}),
            ('{"a": 1, "b": true', {"a": 1, "b": True}),
            ('{"a": 1, "b": null', {"a": 1, "b": None}),
            ('{"o": {"a": 1, "b": "x', {"o": {"a": 1}}),
            ('{"o": {"a": [1, 2, [', {"o": {"a": [1, 2, []]}}),
            ('{"l": [1, "ab", {"x": "y', {"l": [1, "ab", {}]}),
            ('{"l": [1, "ab', {"l": [1]}),
            ('{"s": "ok", "t": "a\\u00', {"s": "ok"}),
            ('{"s": "ok", "t": "\\ud83d', {"s": "ok"}),
            ('{"s": "ok", "t": "a\\', {"s": "ok"}),
            ("{", {}),
            ("[1, 2", [1]),
        ],
    )
    def test_cut_text_gives_its_complete_values(self, text: str, value: Any) -> None:
        """Unfinished strings, numbers, literals and keys go; open containers are closed."""
        p = PartialJSONParser()
        p.feed(text)
        assert strict_equal(p.finish(default={}, partial=True), value)
        assert p.truncated

    def test_any_split_gives_the_same(self) -> None:
        """Fed in pieces, a cut text gives what it gives fed whole."""
        text = '{"path": "a.txt", "n": [1, 2.5], "content": "Hello \\u00e9 wor'
        for size in (1, 2, 3, 7):
            p = PartialJSONParser()
            for start in range(0, len(text), size):
                p.feed(text[start : start + size])
            assert p.finish(partial=True) == {"path": "a.txt", "n": [1, 2.5]}

    @pytest.mark.parametrize("text", ['{"a": 1}', '{"a": 1} \n', "[]", "12", '"s"', "null"])
    def test_complete_text_is_not_truncated(self, text: str) -> None:
        """A complete text gives what finish() gives, and truncated stays False."""
        p = PartialJSONParser()
        p.feed(text)
        assert strict_equal(p.finish(partial=True), json.loads(text))
        assert not p.truncated

    def test_nothing_fed_gives_the_default(self) -> None:
        """An empty text is not truncated: the default, as finish() gives it."""
        p = PartialJSONParser()
        p.feed("  ")
        assert p.finish(default={}, partial=True) == {}
        assert not p.truncated

    @pytest.mark.parametrize("text", ['"abc', "1.", "-", "tr", ' "a\\u0'])
    def test_cut_top_level_scalar_gives_the_default(self, text: str) -> None:
        """Nothing complete of a top-level scalar: the default, or the error without one."""
        p = PartialJSONParser()
        p.feed(text)
        assert p.finish(default={}, partial=True) == {}
        assert p.truncated
        with pytest.raises(PartialJSONError) as info:
            q = PartialJSONParser()
            q.feed(text)
            q.finish(partial=True)
        assert info.value.position == len(text)

    @pytest.mark.parametrize(
        ("text", "message"),
        [
            ('{"a": 01', "leading zeros are not allowed"),
            ('{"a": 1.e', "expected a digit after the decimal point"),
            ('{"a": --', "expected a digit after '-'"),
            ('{"a": nope', "expected 'null'"),
            ('{"a": 1,,', "expected '\"' (an object key) after ','"),
        ],
    )
    def test_invalid_text_still_raises(self, text: str, message: str) -> None:
        """Text that no continuation makes JSON is invalid, not cut short."""
        p = PartialJSONParser()
        with pytest.raises(PartialJSONError, match=re.escape(message)):
            p.feed(text)
            p.finish(default={}, partial=True)
        assert not p.truncated


class TestErrors:
    @pytest.mark.parametrize(
        ("text", "position", "message"),
        [
            ("[01]", 2, "leading zeros are not allowed"),
            ("-01", 2, "leading zeros are not allowed"),
            ('"a\nb"', 2, "invalid control character in string"),
            ('"\x00"', 1, "invalid control character in string"),
            ('{"a": 1,}', 8, "trailing commas are not allowed"),
            ("[1,]", 3, "trailing commas are not allowed"),
            ("NaN", 0, "NaN and Infinity are not JSON"),
            ("[Infinity]", 1, "NaN and Infinity are not JSON"),
            ("[-Infinity]", 2, "expected a digit after '-'"),
            ("{'a': 1}", 1, "JSON strings use double quotes"),
            ("['a']", 1, "JSON strings use double quotes"),
            ('{"a": 1 "b": 2}', 8, "expected ',' or '}' after object member"),
            ("[1 2]", 3, "expected ',' or ']' after array element"),
            ('{"a" 1}', 5, "expected ':' after object key"),
            ("{1: 2}", 1, "expected '\"' (an object key) or '}'"),
            ('"\\x"', 2, "after '\\' in string"),
            ('"\\u12G4"', 5, "expected 4 hex digits after '\\u'"),
            ('"\\ud83d\\uZ"', 9, "expected 4 hex digits after '\\u'"),
            ("[truE]", 4, "expected 'true'"),
            ("nul", 3, "expected 'null'"),
            ("[1.2.3]", 4, "invalid number"),
            ("[+1]", 1, "expected a JSON value"),
            ("[.5]", 1, "expected a JSON value"),
            ("[1e+]", 4, "expected a digit in the exponent"),
            ('{"a": 1} x', 9, "expected only whitespace after the top-level value"),
            ("[] []", 3, "expected only whitespace after the top-level value"),
            ("\ufeff{}", 0, "expected a JSON value"),
            ("]", 0, "expected a JSON value"),
        ],
    )
    def test_invalid_json_names_position(self, text: str, position: int, message: str) -> None:
        """Invalid text raises PartialJSONError naming what was expected and where."""
        with pytest.raises(ValueError):
            strict_loads(text)
        err = error_of(text)
        assert err.position == position
        assert message in str(err)
        assert f"at position {position}" in str(err)

    def test_raised_by_feed_as_soon_as_detectable(self) -> None:
        """The offending piece raises in feed(), with the message shown in the issue."""
        p = PartialJSONParser()
        p.feed('{"a": 1')
        with pytest.raises(PartialJSONError) as info:
            p.feed(' x"b": 2}')
        assert str(info.value) == (
            "expected ',' or '}' after object member at position 8 (found 'x')"
        )
        assert info.value.text == '{"a": 1 x"b": 2}'

    def test_parser_stays_broken(self) -> None:
        """After an error every call raises it again, and `text` still grows."""
        p = PartialJSONParser()
        with pytest.raises(PartialJSONError):
            p.feed("[1 2")
        with pytest.raises(PartialJSONError) as later:
            p.feed("]")
        assert later.value.position == 3
        assert later.value.text == "[1 2]"
        with pytest.raises(PartialJSONError):
            p.finish(default={})

    def test_is_a_value_error(self) -> None:
        """PartialJSONError is a ValueError, like json.JSONDecodeError."""
        assert issubclass(PartialJSONError, ValueError)

    def test_position_counts_characters_across_pieces(self) -> None:
        """The position is a character offset into all text fed, not into the last piece."""
        err = error_of('{"é😀": ', "[1, ", "01]")
        assert err.position == 12
        assert err.text[err.position] == "1"


class TestChanges:
    def test_records_in_document_order(self) -> None:
        """Each value is added, strings grow, and everything completes, in document order."""
        p = PartialJSONParser()
        first = p.feed('{"cmd": "ls -')
        assert [(c.path, c.kind, c.text, c.value) for c in first] == [
            ((), "added", "", {"cmd": ""}),
            (("cmd",), "added", "", ""),
            (("cmd",), "grew", "ls -", None),
        ]
        second = p.feed('la", "n": [7')
        third = p.feed("]}")
        assert [(c.path, c.kind, c.text, c.value) for c in second] == [
            (("cmd",), "grew", "la", None),
            (("cmd",), "completed", "", "ls -la"),
            (("n",), "added", "", [7]),
        ]
        assert [(c.path, c.kind, c.value) for c in third] == [
            (("n", 0), "added", 7),
            (("n", 0), "completed", 7),
            (("n",), "completed", [7]),
            ((), "completed", {"cmd": "ls -la", "n": [7]}),
        ]

    def test_one_grew_record_per_string_per_piece(self) -> None:
        """Text between escapes in one piece is reported as one decoded fragment."""
        p = PartialJSONParser()
        p.feed('["')
        assert [(c.kind, c.text) for c in p.feed('a\\nb\\u00e9c\\"')] == [("grew", 'a\nbéc"')]

    def test_nothing_for_keys_or_hidden_tokens(self) -> None:
        """A key, a half number or a half escape produces no record."""
        p = PartialJSONParser()
        p.feed('{"a": "x", ')
        assert p.feed('"key"') == []
        assert p.feed(": 12") == []
        p.feed(', "s": "')
        assert p.feed("\\u00") == []

    def test_array_indices_in_paths(self) -> None:
        """Array elements are addressed by index."""
        changes = PartialJSONParser().feed('[[], ["a"')
        assert [(c.path, c.kind) for c in changes] == [
            ((), "added"),
            ((0,), "added"),
            ((0,), "completed"),
            ((1,), "added"),
            ((1, 0), "added"),
            ((1, 0), "grew"),
            ((1, 0), "completed"),
        ]

    def test_equal_records_compare_equal(self) -> None:
        """Records compare by path, kind, text and value, not by identity."""
        text = '{"a": ["x", 1, {"b": null}]}'
        assert PartialJSONParser().feed(text) == PartialJSONParser().feed(text)
        assert PartialJSONParser().feed('["x"') != PartialJSONParser().feed('["y"')

    def test_repr(self) -> None:
        """A record's repr shows its path and its text or value."""
        p = PartialJSONParser()
        grew = p.feed('{"a": "hi')[-1]
        assert repr(grew) == "Change(path=('a',), kind='grew', text='hi')"
        assert repr(p.feed('"')[-1]) == "Change(path=('a',), kind='completed', value='hi')"


class TestValueReads:
    def test_repeated_reads_return_the_same_object(self) -> None:
        """Reading `value` twice with no feed in between returns the identical object."""
        p = PartialJSONParser()
        p.feed('{"a": "long text')
        s = p.value["a"]
        assert p.value["a"] is s

    def test_held_string_is_never_mutated(self) -> None:
        """A string the caller holds keeps its value when the parser extends the text."""
        p = PartialJSONParser()
        p.feed('{"a": "abc')
        held = p.value["a"]
        p.feed("def")
        assert p.value["a"] == "abcdef"
        assert held == "abc"

    def test_reads_between_every_piece_of_long_string(self) -> None:
        """Reading after every piece of a long string always shows the exact prefix."""
        content = "".join(chr(35 + i % 50) for i in range(20_000))  # nothing to escape
        text = json.dumps({"c": content, "d": 1})
        p = PartialJSONParser()
        for start in range(0, len(text), 3):
            p.feed(text[start : start + 3])
            shown = p.value.get("c", "") if p.value else ""
            assert shown == content[: max(0, start + 3 - len('{"c": "'))]
        assert p.finish() == {"c": content, "d": 1}


def pieces_of(text: str, size: int, offset: int) -> list[str]:
    """``text`` cut every ``size`` characters, the first piece ``offset`` characters long."""
    bounds = [0, *range(offset, len(text), size), len(text)]
    return [text[a:b] for a, b in itertools.pairwise(bounds) if b > a]


def feed_reading(pieces: list[str]) -> tuple[list[Any], list[str], Any]:
    """Feed the pieces, reading the value after each: the values (copies), the text of the
    "grew" records per piece, and the final value."""
    p = PartialJSONParser()
    values, grown = [], []
    for piece in pieces:
        changes = p.feed(piece)
        values.append(json.loads(json.dumps(p.value)) if p.value is not None else None)
        grown.append("".join(c.text for c in changes if c.kind == "grew"))
    return values, grown, p.finish()


class TestCutAnywhere:
    """Escapes, surrogate pairs and numbers cut at every point, by pieces of every size.

    The partial value depends on the text received, not on how it was cut: after every
    piece it equals the value of a parser fed the same text one character at a time.
    """

    TEXTS = (
        # Every kind of escape, one after another, then numbers and literals.
        '{"c": "a\\nb\\"c\\\\d\\u001be\\/f\\tg\\ud83d\\ude80h\\u00e9\\b\\f\\r", '
        '"n": [12, -3.5e+2, 0, 1E3, -0, 0.125, 123456789012345678901234567890], "t": true}',
        # Escaped backslashes before "u" (not an escape), and a backslash at the very end.
        '["\\\\u0041\\\\", "x\\\\\\\\u", "\\\\\\\\"]',
        # Lone surrogates: before a letter, before another escape, a low one alone, and a
        # high one closing the string.
        '["\\ud83dx\\ud83d\\n\\ude00\\ud83d\\u0041", "\\udbff"]',
        # Surrogate pairs back to back, and raw non-ASCII around escapes.
        '"\\ud83d\\ude00\\ud83d\\ude01é😀\\u00e9\\ud800\\udc00"',
        # Numbers of every shape split across pieces, one of 120 digits.
        "[0, -1, 10.5, 1e5, 1E-5, -2.5e+10, " + "9" * 120 + ", 3]",
        '{"a": 1, "bb": 22, "ccc": 333.25, "d": -4e4}',
        "123.5e-2",
    )

    @pytest.mark.parametrize("text", TEXTS)
    def test_partial_values_do_not_depend_on_the_cuts(self, text: str) -> None:
        """After any piece the value is the one-character-at-a-time value of that text."""
        by_char, grown_by_char, final = feed_reading(list(text))
        assert strict_equal(final, json.loads(text))
        for size in range(2, 14):
            for offset in range(1, size + 1):
                pieces = pieces_of(text, size, offset)
                values, grown, last = feed_reading(pieces)
                assert strict_equal(last, final)
                end = 0
                for piece, value, text_grown in zip(pieces, values, grown, strict=True):
                    end += len(piece)
                    assert strict_equal(value, by_char[end - 1]), (size, offset, end)
                    assert text_grown == "".join(grown_by_char[end - len(piece) : end])

    @pytest.mark.parametrize(
        ("text", "position"),
        [
            ('{"c": "abc\\n\\x"}', 13),  # an invalid escape after a valid one
            ('{"c": "ab\\ncd\nef"}', 13),  # a raw control character after an escape
            ('["a\\u00e9\\u12G4"]', 13),  # a bad hex digit
            ('["\\ud83d\\uZ"]', 10),  # ... in what may be a low surrogate
            ("[1, 01]", 5),  # a leading zero
            ("[1, -]", 5),  # a minus without digits
            ("[12.]", 4),  # a point without digits
            ("[3e+]", 4),  # an exponent without digits
            ("[1.5x]", 4),  # a letter after a number
        ],
    )
    def test_errors_at_the_same_position_however_cut(self, text: str, position: int) -> None:
        """Invalid text fails at the same character, whatever the pieces."""
        positions = {error_of(*list(text)).position}
        for size in range(2, 10):
            for offset in range(1, size + 1):
                positions.add(error_of(*pieces_of(text, size, offset)).position)
        assert positions == {position}


class TestProperties:
    @PROPERTY
    @given(doc=documents(), data=st.data())
    def test_any_split_gives_json_loads_value(self, doc: str, data: st.DataObject) -> None:
        """For any document and any split into pieces, the final value equals json.loads."""
        pieces = data.draw(split(doc))
        p = PartialJSONParser()
        for piece in pieces:
            p.feed(piece)
        assert strict_equal(p.finish(), json.loads(doc))
        assert p.done
        assert p.text == doc

    @PROPERTY
    @given(doc=documents(), data=st.data())
    def test_every_prefix_is_consistent(self, doc: str, data: st.DataObject) -> None:
        """After every piece the partial value is consistent with the final value."""
        assume(not has_duplicate_keys(doc))
        final = json.loads(doc)
        p = PartialJSONParser()
        for piece in data.draw(split(doc)):
            p.feed(piece)
            partial = p.value
            if partial is None:
                # Nothing shows before the first character of a string or container, and
                # a number or literal shows only when complete.
                assert not p.text.strip() or not isinstance(final, str | list | dict)
            else:
                assert consistent(partial, final), (partial, final)
        if not isinstance(final, int | float) or isinstance(final, bool):
            # Everything but a bare top-level number is complete without finish().
            assert strict_equal(p.value, final)

    @settings(max_examples=60, deadline=None)  # every prefix: quadratic in the text
    @given(
        value=st.dictionaries(texts, json_values, max_size=4),
        ensure_ascii=st.booleans(),
        data=st.data(),
    )
    def test_every_prefix_cut_keeps_whole_values(
        self, value: dict[str, Any], ensure_ascii: bool, data: st.DataObject
    ) -> None:
        """Every prefix of an object, finished as cut, is an object whose members are a
        prefix of the whole one's, each complete value whole: no part of a string or
        number. The whole text is not truncated and gives the object itself."""
        text = json.dumps(value, ensure_ascii=ensure_ascii)
        for end in range(1, len(text) + 1):
            p = PartialJSONParser()
            for piece in data.draw(split(text[:end])) if end == len(text) // 2 else [text[:end]]:
                p.feed(piece)
            cut = p.finish(default={}, partial=True)
            assert isinstance(cut, dict)
            assert cut_view(cut, value), (text[:end], cut)
            assert p.truncated == (end < len(text))
        assert strict_equal(cut, value)

    @PROPERTY
    @given(doc=documents(), data=st.data())
    def test_change_records_replay_the_value(self, doc: str, data: st.DataObject) -> None:
        """Records add every value once, grow strings by exactly their text, complete once."""
        assume(not has_duplicate_keys(doc))
        final = json.loads(doc)
        p = PartialJSONParser()
        records: list[Change] = []
        for piece in data.draw(split(doc)):
            records.extend(p.feed(piece))
        p.finish()
        records.extend(p.changes())
        added: dict[tuple[str | int, ...], int] = {}
        grown: dict[tuple[str | int, ...], str] = {}
        completed: set[tuple[str | int, ...]] = set()
        for record in records:
            path = record.path
            if record.kind == "added":
                assert path not in added
                added[path] = len(added)
            elif record.kind == "grew":
                assert path in added and path not in completed
                grown[path] = grown.get(path, "") + record.text
            else:
                assert path in added and path not in completed
                completed.add(path)
                assert strict_equal(record.value, at_path(final, path))
        assert set(added) == completed
        for path, text in grown.items():
            assert text == at_path(final, path)
        for path in completed:
            value = at_path(final, path)
            if isinstance(value, str) and value:
                assert grown[path] == value

    @PROPERTY
    @given(doc=documents(), data=st.data())
    def test_mutations_rejected_exactly_when_json_loads_rejects(
        self, doc: str, data: st.DataObject
    ) -> None:
        """A mutated document is rejected iff json.loads rejects it, never before the cut."""
        kind = data.draw(st.sampled_from(["truncate", "insert", "delete"]))
        at = data.draw(st.integers(0, len(doc) - 1))
        if kind == "truncate":
            text = doc[:at]
        elif kind == "insert":
            stray = data.draw(st.sampled_from([*"{}[]\",:\\ x0-+.eEtfn'/u", "\x00", "\n"]))
            text = doc[:at] + stray + doc[at:]
        else:
            text = doc[:at] + doc[at + 1 :]
        try:
            expected = strict_loads(text)
        except ValueError:
            expected = INVALID
        p = PartialJSONParser()
        try:
            for piece in data.draw(split(text)):
                p.feed(piece)
            result = p.finish()
        except PartialJSONError as err:
            assert expected is INVALID, f"{text!r} is valid JSON but was rejected: {err}"
            assert text.startswith(err.text)
            assert err.text == p.text
            assert at <= err.position <= len(text)
            if kind == "truncate":
                assert err.position == len(text)
        else:
            assert expected is not INVALID, f"{text!r} is invalid JSON but was accepted"
            assert strict_equal(result, expected)
