"""The built-in request transforms: pruning old tool results, injecting system text."""

from __future__ import annotations

import copy
from typing import Any

import pytest

import sluice
from sluice.types import MessageParam, ToolResultBlockParam


def result(tool_use_id: str, content: Any, **extra: Any) -> dict[str, Any]:
    return {"type": "tool_result", "tool_use_id": tool_use_id, "content": content, **extra}


def conversation() -> list[dict[str, Any]]:
    return [
        {"role": "user", "content": "go"},
        {
            "role": "assistant",
            "content": [{"type": "tool_use", "id": "a", "name": "f", "input": {}}],
        },
        {"role": "user", "content": [result("a", "big output A", is_error=True)]},
        {
            "role": "assistant",
            "content": [
                {"type": "tool_use", "id": "b", "name": "f", "input": {}},
                {"type": "tool_use", "id": "c", "name": "f", "input": {}},
            ],
        },
        {
            "role": "user",
            "content": [result("b", [{"type": "text", "text": "B"}]), result("c", "C")],
        },
    ]


class TestPruneToolResults:
    def test_keeps_the_last_n_and_every_id(self) -> None:
        """Older results get the placeholder; ids, is_error and the last N stay."""
        request = {"model": "m", "messages": conversation()}
        out = sluice.prune_tool_results(keep_last=1, placeholder="[gone]")(request)
        results = [
            b
            for m in out["messages"]
            if isinstance(m["content"], list)
            for b in m["content"]
            if b["type"] == "tool_result"
        ]
        assert results == [
            result("a", "[gone]", is_error=True),
            result("b", "[gone]"),
            result("c", "C"),
        ]
        assert out["model"] == "m"

    def test_does_not_change_what_it_was_given(self) -> None:
        """The caller's request and messages are left as they were."""
        messages = conversation()
        before = copy.deepcopy(messages)
        request = {"messages": messages}
        sluice.prune_tool_results(keep_last=0)(request)
        assert messages == before and request["messages"] is messages

    def test_nothing_to_prune_returns_the_request(self) -> None:
        """With no more results than keep_last, the request is returned unchanged."""
        request = {"messages": conversation()}
        assert sluice.prune_tool_results(keep_last=3)(request) is request

    def test_typed_messages_are_pruned_too(self) -> None:
        """MessageParam and ToolResultBlockParam structs are read like dicts."""
        request = {
            "messages": [
                MessageParam(
                    role="user", content=[ToolResultBlockParam(tool_use_id="x", content="old")]
                ),
                MessageParam(
                    role="user", content=[ToolResultBlockParam(tool_use_id="y", content="new")]
                ),
            ]
        }
        out = sluice.prune_tool_results(keep_last=1, placeholder="-")(request)
        assert out["messages"][0]["content"] == [result("x", "-")]
        assert out["messages"][1]["content"] == [result("y", "new")]

    def test_rejects_a_negative_keep_last(self) -> None:
        """keep_last below 0 is refused at once."""
        with pytest.raises(ValueError, match="keep_last"):
            sluice.prune_tool_results(keep_last=-1)


class TestInjectSystem:
    def test_string_system_becomes_blocks(self) -> None:
        """A string system prompt becomes one text block, then the new one."""
        out = sluice.inject_system("Be brief.")({"system": "You help."})
        assert out["system"] == [
            {"type": "text", "text": "You help."},
            {"type": "text", "text": "Be brief."},
        ]

    def test_blocks_and_cache_control_are_kept(self) -> None:
        """Existing blocks keep their cache_control; the new one gets its own."""
        cached = {"type": "text", "text": "Long rules", "cache_control": {"type": "ephemeral"}}
        request = {"system": [cached]}
        out = sluice.inject_system("Now: 12:00", cache_control={"type": "ephemeral", "ttl": "1h"})(
            request
        )
        assert out["system"] == [
            cached,
            {
                "type": "text",
                "text": "Now: 12:00",
                "cache_control": {"type": "ephemeral", "ttl": "1h"},
            },
        ]
        assert request["system"] == [cached]

    def test_no_system_and_a_callable_text(self) -> None:
        """Without a system prompt the block is the prompt; a function is called each time."""
        counter = iter(range(10))
        inject = sluice.inject_system(lambda: f"step {next(counter)}")
        assert inject({})["system"] == [{"type": "text", "text": "step 0"}]
        assert inject({})["system"] == [{"type": "text", "text": "step 1"}]
