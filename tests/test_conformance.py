"""sluice's final message equals the official SDK's get_final_message(), field for field.

The SDK (a test-only dependency here) is the oracle: its ``accumulate_event`` is what
``get_final_message()`` returns, and ``to_dict()`` is its serialization with API field names.
"""

from __future__ import annotations

import json
import re
import warnings
from typing import Any

import pytest
from anthropic.lib.streaming._messages import accumulate_event
from hypothesis import given, settings
from hypothesis import strategies as st

from _util import COMPLETE, load
from sluice import EventStreamDecoder, MessageAccumulator, to_builtins

# The SDK crashes on a message_start without usage; sluice does not (tested elsewhere).
SDK_CAN_ACCUMULATE = [name for name in COMPLETE if name != "no_usage.sse"]


def sdk_final(data: bytes) -> dict[str, Any]:
    """What the official SDK accumulates from these bytes, as a dict with API names."""
    snapshot = None
    buffers: dict[int, bytes] = {}
    for frame in data.replace(b"\r\n", b"\n").split(b"\n\n"):
        lines = [line[5:].lstrip(b" ") for line in frame.split(b"\n") if line.startswith(b"data:")]
        if not lines:
            continue
        event = json.loads(b"\n".join(lines))
        if event["type"] in ("ping", "error"):
            continue
        snapshot = accumulate_event(event=event, current_snapshot=snapshot, json_bufs=buffers)
    assert snapshot is not None
    with warnings.catch_warnings():
        # pydantic warns when serializing a block type the SDK does not know.
        warnings.simplefilter("ignore")
        result: dict[str, Any] = snapshot.to_dict(mode="json")
    return result


def sluice_final(data: bytes) -> dict[str, Any]:
    decoder = EventStreamDecoder()
    acc = MessageAccumulator()
    for event in [*decoder.feed(data), *decoder.close()]:
        acc.feed(event)
    result: dict[str, Any] = to_builtins(acc.finish())
    return result


class TestFinalMessageMatchesSDK:
    @pytest.mark.parametrize("name", SDK_CAN_ACCUMULATE)
    def test_fixture(self, name: str) -> None:
        """The final message of each transcript is identical to the SDK's."""
        data = load(name)
        assert sluice_final(data) == sdk_final(data)

    def test_unknown_fields_kept_like_the_sdk(self) -> None:
        """Fields unknown to both libraries survive accumulation in both, identically."""
        final = sluice_final(load("unknown_types.sse"))
        assert "future_field" in final
        assert any("future_flag" in block for block in final["content"])
        assert "shiny_tokens" in final["usage"]


def cut_tool_call(text: str) -> bytes:
    """A transcript whose one tool call streams ``text`` (in pieces of 7), then stops for
    max_tokens, as the API sends a call cut short: block stop, then message_delta."""
    events: list[dict[str, Any]] = [
        {
            "type": "message_start",
            "message": {
                "id": "msg_1",
                "type": "message",
                "role": "assistant",
                "model": "m",
                "content": [],
                "stop_reason": None,
                "stop_sequence": None,
                "usage": {"input_tokens": 9, "output_tokens": 1},
            },
        },
        {
            "type": "content_block_start",
            "index": 0,
            "content_block": {"type": "tool_use", "id": "toolu_1", "name": "f", "input": {}},
        },
        *(
            {
                "type": "content_block_delta",
                "index": 0,
                "delta": {"type": "input_json_delta", "partial_json": text[i : i + 7]},
            }
            for i in range(0, len(text), 7)
        ),
        {"type": "content_block_stop", "index": 0},
        {
            "type": "message_delta",
            "delta": {"stop_reason": "max_tokens", "stop_sequence": None},
            "usage": {"output_tokens": 64},
        },
        {"type": "message_stop"},
    ]
    return b"".join(f"event: {e['type']}\ndata: {json.dumps(e)}\n\n".encode() for e in events)


#: A number at the very end of a cut text: the one thing sluice leaves out and the SDK keeps.
TRAILING_NUMBER = re.compile(r"-?[0-9][0-9.eE+-]*\Z|-\Z")

# Characters jiter reads as Python does (no lone surrogates, which it refuses).
_text = st.text(st.characters(blacklist_categories=("Cs",)), max_size=10)
_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | _text,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(_text, inner, max_size=4),
    max_leaves=10,
)


class TestCutToolCallMatchesSDK:
    def test_fixture_input(self) -> None:
        """The recorded cut call: the SDK's input, every complete value, the string left out."""
        data = load("max_tokens_tool.sse")
        block = sdk_final(data)["content"][1]
        assert block["input"] == {
            "path": "notes/haiku.txt",
            "mode": 420,
            "options": {"overwrite": True, "tags": ["haiku", "draft"]},
        }
        assert sluice_final(data) == sdk_final(data)

    @pytest.mark.parametrize(
        ("text", "sdk", "sluice"),
        [
            ('{"a": 1, "n": 12', {"a": 1, "n": 12}, {"a": 1}),
            ('{"a": 1, "n": -1.5e+1', {"a": 1, "n": -15.0}, {"a": 1}),
            ('{"a": 1, "n": 1.', {"a": 1}, {"a": 1}),
        ],
    )
    def test_a_number_at_the_cut_is_left_out(self, text: str, sdk: Any, sluice: Any) -> None:
        """The one difference: the SDK keeps a number as far as the cut let it go (12 of
        what may be 123), sluice leaves it out as it leaves out an unfinished string."""
        assert sdk_final(cut_tool_call(text))["content"][0]["input"] == sdk
        assert sluice_final(cut_tool_call(text))["content"][0]["input"] == sluice

    @settings(max_examples=100, deadline=None)
    @given(value=st.dictionaries(_text, _values, max_size=5), data=st.data())
    def test_any_cut(self, value: dict[str, Any], data: st.DataObject) -> None:
        """An object cut anywhere: sluice's final message is the SDK's, once a number at
        the cut is left out of what the SDK reads."""
        text = json.dumps(value, ensure_ascii=data.draw(st.booleans()))
        cut = text[: data.draw(st.integers(1, len(text)))]
        ours = sluice_final(cut_tool_call(cut))
        sdk = sdk_final(cut_tool_call(TRAILING_NUMBER.sub("", cut)))
        assert ours["content"] == sdk["content"]
        assert ours["stop_reason"] == sdk["stop_reason"] == "max_tokens"
