"""Wire structs keep the fields this version does not model, through every way of copying."""

from __future__ import annotations

import copy
import json
import pickle

import msgspec
import pytest

import sluice
from sluice import ops

RAW = (
    b'{"type":"message","id":"msg_1","role":"assistant","model":"claude-x",'
    b'"content":[{"type":"text","text":"Hi","future_block_field":{"a":1}}],'
    b'"stop_reason":"end_turn","stop_sequence":null,'
    b'"usage":{"input_tokens":3,"output_tokens":1,"future_usage":7},'
    b'"input_transformations":[{"type":"trimmed"}]}'
)


@pytest.fixture
def message() -> sluice.Message:
    return sluice.decode_message(RAW)


class TestUnknownFields:
    def test_to_builtins_writes_them_back(self, message: sluice.Message) -> None:
        """sluice.to_builtins gives back the JSON as received, unknown fields included."""
        assert sluice.to_builtins(message) == json.loads(RAW)

    def test_methods_mirror_the_official_sdk(self, message: sluice.Message) -> None:
        """value.to_dict() and value.to_json() keep them too, as the SDK's models do."""
        assert message.to_dict() == json.loads(RAW)
        assert json.loads(message.to_json()) == json.loads(RAW)
        assert json.loads(message.to_json(indent=2)) == json.loads(RAW)
        assert "\n  " in message.to_json(indent=2)

    @pytest.mark.parametrize(
        "clone",
        [copy.copy, copy.deepcopy, lambda value: pickle.loads(pickle.dumps(value))],
        ids=["copy", "deepcopy", "pickle"],
    )
    def test_copies_keep_them(self, message: sluice.Message, clone: object) -> None:
        """copy.copy, copy.deepcopy and pickle keep the extras of the message and its parts."""
        copied = clone(message)  # type: ignore[operator]
        assert copied == message
        assert sluice.to_builtins(copied) == json.loads(RAW)

    def test_deepcopy_is_independent(self, message: sluice.Message) -> None:
        """A deep copy's nested extras are not shared with the original."""
        copied = copy.deepcopy(message)
        copied.content[0].text = "changed"
        assert message.content[0].text == "Hi"

    def test_msgspec_alone_knows_only_declared_fields(self, message: sluice.Message) -> None:
        """msgspec's own encoders leave the extras out: to_json is the path that keeps them."""
        plain = json.loads(msgspec.json.encode(message))
        assert "input_transformations" not in plain
        assert "input_transformations" in json.loads(sluice.to_json(message))


class TestLoneSurrogates:
    EVENT = (
        b'{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"a\\ud800b"}}'
    )

    def test_sse_encoder_writes_back_what_the_decoder_accepted(self) -> None:
        """A lone surrogate decoded from the wire re-encodes as the same escape in SSE."""
        event = sluice.decode_event(self.EVENT)
        frame = ops.SSEEncoder(include_ids=False).encode(event)
        assert frame == b"event: content_block_delta\ndata: " + self.EVENT + b"\n\n"

    @pytest.mark.anyio
    async def test_to_sse_and_to_jsonl(self) -> None:
        """The async encoders pass such an event through too."""
        event = sluice.decode_event(self.EVENT)

        async def events():  # type: ignore[no-untyped-def]
            yield event

        frames = [frame async for frame in ops.to_sse(events())]
        lines = [line async for line in ops.to_jsonl(events())]
        assert self.EVENT in frames[0]
        assert lines == [self.EVENT + b"\n"]
