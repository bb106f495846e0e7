"""sluice's final message equals the official SDK's get_final_message(), field for field.

The SDK (a test-only dependency here) is the oracle: its ``accumulate_event`` is what
``get_final_message()`` returns, and ``to_dict()`` is its serialization with API field names.
"""

from __future__ import annotations

import json
import warnings
from typing import Any

import pytest
from anthropic.lib.streaming._messages import accumulate_event

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
