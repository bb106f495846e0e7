"""examples/relay/mount.py: the building blocks in a FastAPI app of one's own, for useChat."""

from __future__ import annotations

import importlib.util
import json
from types import ModuleType

import pytest
from _relay_util import ROOT, http, running, sse_events

import sluice
from _util import load
from sluice.testing import MockAnthropic, Reply

pytestmark = pytest.mark.anyio


def example() -> ModuleType:
    """examples/relay/mount.py, imported."""
    spec = importlib.util.spec_from_file_location("mount", ROOT / "examples" / "relay" / "mount.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class TestMountExample:
    async def test_use_chat_routes(self, server: MockAnthropic, client: sluice.AsyncClient) -> None:
        """POST /api/chat then GET its stream: a UI message stream ending in [DONE]; 204 after."""
        server.enqueue(Reply.sse(load("text.sse")))
        app = example().build_app(client)
        params = {"model": "m", "max_tokens": 9, "messages": [{"role": "user", "content": "Hi"}]}
        async with running(app) as url, http(url) as browser:
            created = await browser.post("/api/chat", json=params)
            assert created.status_code == 201
            chat = created.json()["id"]
            response = await browser.get(f"/api/chat/{chat}/stream")
            frames = sse_events(response.content)
            done = await browser.get(
                f"/api/chat/{chat}/stream", headers={"last-event-id": frames[-1]["id"]}
            )
        assert response.headers["x-vercel-ai-ui-message-stream"] == "v1"
        assert json.loads(frames[0]["data"])["type"] == "start" and frames[-1]["data"] == "[DONE]"
        assert done.status_code == 204

    async def test_bad_params_are_a_400(
        self, server: MockAnthropic, client: sluice.AsyncClient
    ) -> None:
        """Parameters the API would reject, or a request option, get a 400 JSON error, not a 500."""
        app = example().build_app(client)
        params = {"model": "m", "max_tokens": 9, "messages": [{"role": "user", "content": "Hi"}]}
        async with running(app) as url, http(url) as browser:
            for body in (
                {**params, "max_tokens": 0},
                {**params, "extra_headers": {"x-api-key": "attacker"}},
            ):
                response = await browser.post("/api/chat", json=body)
                assert response.status_code == 400, response.text
                assert response.json()["error"]["type"] == "invalid_request_error"
        assert server.requests == []
