"""A run composes with the operators unchanged: text_deltas, tool_calls, controlled,
broadcast, to_sse (and pipe)."""

from __future__ import annotations

from contextlib import aclosing
from typing import Any

import anyio
import pytest

import sluice
from sluice import ops
from sluice.testing import Conversation, MockAnthropic, Turn, tool_use
from sluice.types import StepEnd, StepStart, ToolFinish, ToolStart

pytestmark = pytest.mark.anyio

RUNNER_EVENTS = (StepStart, StepEnd, ToolStart, ToolFinish)


@sluice.tool
async def get_weather(city: str) -> str:
    """Current weather for a city.

    Args:
        city: The city name.
    """
    return f"18c in {city}"


def two_steps(server: MockAnthropic) -> None:
    server.route(
        "POST",
        "/v1/messages",
        Conversation(
            Turn("Let me check. ", tool_use("get_weather", {"city": "Paris"}, id="toolu_1")),
            Turn("It is 18c in Paris."),
        ),
    )


def run(client: sluice.AsyncClient) -> sluice.Run:
    return client.messages.run(
        model="claude-sonnet-4-5",
        max_tokens=1024,
        messages=[{"role": "user", "content": "Weather in Paris?"}],
        tools=[get_weather],
    )


class TestViews:
    async def test_text_deltas_of_every_step(
        self, server: MockAnthropic, client: sluice.AsyncClient
    ) -> None:
        """ops.text_deltas(run) is the text of every step; the run ends normally."""
        two_steps(server)
        async with run(client) as agent:
            text = "".join([piece async for piece in ops.text_deltas(agent)])
            final = await agent.final_message()
        assert text == "Let me check. It is 18c in Paris."
        assert final.stop_reason == "end_turn" and agent.end_reason == "end_turn"

    async def test_pipe(self, server: MockAnthropic, client: sluice.AsyncClient) -> None:
        """run.pipe(...) composes left to right like MessageStream.pipe."""
        two_steps(server)
        async with run(client) as agent:
            async with aclosing(agent.pipe(ops.text_deltas)) as texts:
                pieces = [piece async for piece in texts]
        assert "".join(pieces).endswith("18c in Paris.")

    async def test_tool_calls_across_steps(
        self, server: MockAnthropic, client: sluice.AsyncClient
    ) -> None:
        """ops.tool_calls(run) yields the deltas and the complete call."""
        two_steps(server)
        async with run(client) as agent:
            items = [item async for item in ops.tool_calls(agent)]
        calls = [item for item in items if isinstance(item, ops.ToolCall)]
        assert [(c.id, c.input) for c in calls] == [("toolu_1", {"city": "Paris"})]
        assert any(isinstance(item, ops.ToolCallDelta) for item in items)

    async def test_of_type_selects_runner_events(
        self, server: MockAnthropic, client: sluice.AsyncClient
    ) -> None:
        """ops.of_type picks the runner's events like any other class."""
        two_steps(server)
        async with run(client) as agent:
            finishes = [e async for e in ops.of_type(agent, ToolFinish)]
        assert [f.outcome for f in finishes] == ["ok"]


class TestFlowControl:
    async def test_controlled_pause_and_resume(
        self, server: MockAnthropic, client: sluice.AsyncClient
    ) -> None:
        """ops.controlled(run): paused delivery buffers, resumed delivery hands out everything."""
        two_steps(server)
        async with run(client) as agent:
            async with ops.controlled(agent, buffer_size=8) as (events, control):
                control.pause()
                await anyio.sleep(0.05)
                assert control.buffered <= 8
                control.resume()
                received = [event async for event in events]
            final = await agent.final_message()
        assert sum(isinstance(e, StepEnd) for e in received) == 2
        assert isinstance(received[-1], StepEnd) and received[-1].end_reason == "end_turn"
        assert final.content[0].text == "It is 18c in Paris."  # type: ignore[union-attr]

    async def test_controlled_error_policy_reports_the_step(
        self, server: MockAnthropic, client: sluice.AsyncClient
    ) -> None:
        """overflow="error" reports the run's current message (its current_message_snapshot)."""
        two_steps(server)
        async with run(client) as agent:
            with pytest.raises(sluice.BufferOverflowError) as info:
                async with ops.controlled(agent, buffer_size=2, overflow="error") as (
                    events,
                    control,
                ):
                    control.pause()
                    await anyio.sleep(0.1)
                    control.resume()
                    async for _ in events:
                        pass
        assert info.value.partial_message is not None


class TestRelays:
    async def test_broadcast_to_two_subscribers(
        self, server: MockAnthropic, client: sluice.AsyncClient
    ) -> None:
        """ops.broadcast(run): every subscriber gets every event, runner events included."""
        two_steps(server)
        received: dict[str, list[Any]] = {"a": [], "b": []}
        async with run(client) as agent, ops.broadcast(agent, buffer_size=16) as hub:
            async with anyio.create_task_group() as tg:
                for name in received:
                    subscription = hub.subscribe()

                    async def read(
                        name: str = name, subscription: ops.Subscription = subscription
                    ) -> None:
                        async with subscription:
                            received[name].extend([event async for event in subscription])

                    tg.start_soon(read)
        assert received["a"] == received["b"]
        assert sum(isinstance(e, StepStart) for e in received["a"]) == 2
        assert sum(isinstance(e, sluice.MessageStart) for e in received["a"]) == 2

    async def test_broadcast_late_subscriber_catches_up_on_the_current_message(
        self, server: MockAnthropic, client: sluice.AsyncClient
    ) -> None:
        """A subscriber joining at step 2 gets the message so far, then what follows."""
        two_steps(server)
        late: list[Any] = []
        async with run(client) as agent, ops.broadcast(agent, buffer_size=64) as hub:
            async with hub.subscribe() as first:
                in_step_2 = False
                async for event in first:
                    in_step_2 = in_step_2 or (isinstance(event, StepStart) and event.step == 2)
                    if in_step_2 and isinstance(event, sluice.ContentBlockDelta):
                        async with hub.subscribe() as second:
                            late.extend([e async for e in second])
                        break
        accumulator = sluice.MessageAccumulator()
        for event in late:
            if not isinstance(event, RUNNER_EVENTS):
                accumulator.feed(event)
        assert accumulator.finish().content[0].text == "It is 18c in Paris."  # type: ignore[union-attr]

    async def test_to_sse_round_trip(
        self, server: MockAnthropic, client: sluice.AsyncClient
    ) -> None:
        """ops.to_sse(run) writes runner events as SSE events of their type; they decode back."""
        two_steps(server)
        async with run(client) as agent:
            frames = [frame async for frame in ops.to_sse(agent)]
        decoder = sluice.EventStreamDecoder()
        decoded = [event for frame in frames for event in decoder.feed(frame)]
        unknown = [e for e in decoded if isinstance(e, sluice.UnknownEvent)]
        assert [e.type for e in unknown] == [
            "step_start",
            "tool_start",
            "tool_finish",
            "step_end",
            "step_start",
            "step_end",
        ]
        finish = next(e for e in unknown if e.type == "tool_finish")
        assert finish.raw["result"] == {
            "type": "tool_result",
            "tool_use_id": "toolu_1",
            "content": "18c in Paris",
        }
        assert frames[0].startswith(b"id: 1\nevent: step_start\n")
        messages = [e for e in decoded if isinstance(e, sluice.MessageStart)]
        assert len(messages) == 2
