"""The trust boundary: a browser sends Messages API fields only; the app's owner sets the rest."""

from __future__ import annotations

import json
from typing import Any

import pytest
from _relay_util import http, running, sse_events
from starlette.requests import Request

import sluice
from _util import load
from sluice.relay import MemoryStore, browser_params, create_app
from sluice.testing import MockAnthropic, Reply

pytestmark = pytest.mark.anyio

PARAMS = {"model": "m", "max_tokens": 64, "messages": [{"role": "user", "content": "Hi"}]}
#: What a browser must never set: the client's per-request options, and stream recovery.
OPTIONS = {
    "extra_headers": {"x-api-key": "attacker-key"},
    "extra_query": {"beta": "true"},
    "extra_body": {"max_tokens": 10**9},
    "betas": ["some-beta"],
    "timeout": 1e9,
    "deadline": 1e9,
    "recover": 3,
}


def ai_sdk_body(chat: str, **extra: Any) -> dict[str, Any]:
    """DefaultChatTransport's POST body, with fields of useChat's `body` option."""
    message = {"id": "m1", "role": "user", "parts": [{"type": "text", "text": "Hi"}]}
    return {**extra, "id": chat, "messages": [message], "trigger": "submit-message"}


class TestBrowserFields:
    @pytest.mark.parametrize("name", sorted(OPTIONS))
    async def test_a_request_option_is_refused(
        self, server: MockAnthropic, client: sluice.AsyncClient, name: str
    ) -> None:
        """POST /chats with a request option: 400 naming it, nothing created or sent."""
        store = MemoryStore()
        async with running(create_app(store=store, client=client)) as url, http(url) as browser:
            response = await browser.post("/chats", json={**PARAMS, name: OPTIONS[name]})
        assert response.status_code == 400
        error = response.json()
        assert error["type"] == "error" and error["error"]["type"] == "invalid_request_error"
        assert repr(name) in error["error"]["message"]
        assert "server" in error["error"]["message"]
        assert server.requests == [] and store._chats == {}

    async def test_a_field_the_api_does_not_have_is_refused(
        self, server: MockAnthropic, client: sluice.AsyncClient
    ) -> None:
        """An unknown top-level field: 400 naming it (there is no extra_body for browsers)."""
        async with running(create_app(client=client)) as url, http(url) as browser:
            response = await browser.post("/chats", json={**PARAMS, "evil": 1})
        assert response.status_code == 400 and "'evil'" in response.json()["error"]["message"]
        assert server.requests == []

    @pytest.mark.parametrize("name", sorted(OPTIONS))
    async def test_the_ai_sdk_route_refuses_them_too(
        self, server: MockAnthropic, client: sluice.AsyncClient, name: str
    ) -> None:
        """POST /vercel/chat with a request option in its body: 400, no turn created."""
        store = MemoryStore()
        app = create_app(store=store, client=client, defaults={"model": "m", "max_tokens": 9})
        async with running(app) as url, http(url) as browser:
            response = await browser.post(
                "/vercel/chat", json=ai_sdk_body("c", **{name: OPTIONS[name]})
            )
            assert response.status_code == 400
            assert repr(name) in response.json()["error"]["message"]
            assert (await browser.get("/vercel/chat/c/stream")).status_code == 204
        assert server.requests == [] and await store.info("c--1") is None

    def test_browser_params(self) -> None:
        """The building block: Messages API fields pass (stream dropped), others raise."""
        assert browser_params({**PARAMS, "stream": True, "temperature": 0.5}) == {
            **PARAMS,
            "temperature": 0.5,
        }
        for name, value in OPTIONS.items():
            with pytest.raises(sluice.ParamsError, match="server") as caught:
                browser_params({**PARAMS, name: value})
            assert caught.value.field == name
        with pytest.raises(sluice.ParamsError, match="did you mean 'max_tokens'"):
            browser_params({**PARAMS, "max_token": 5})


class TestOwnerParams:
    async def test_the_owner_hook_shapes_every_request(
        self, server: MockAnthropic, client: sluice.AsyncClient
    ) -> None:
        """params=: the owner caps max_tokens, allows models and adds server-side options."""
        server.route("POST", "/v1/messages", Reply.sse(load("text.sse")))
        seen: list[str] = []

        async def owner(request: Request, params: dict[str, Any]) -> dict[str, Any]:
            seen.append(request.url.path)
            if params["model"] not in ("m", "claude-haiku-4-5"):
                raise sluice.ParamsError(
                    f"model {params['model']!r} is not offered here", field="model"
                )
            return {
                **params,
                "max_tokens": min(params["max_tokens"], 100),
                "extra_headers": {"x-owner": "1"},
            }

        app = create_app(client=client, params=owner, defaults={"model": "m", "max_tokens": 10**6})
        async with running(app) as url, http(url) as browser:
            created = await browser.post("/chats", json={**PARAMS, "max_tokens": 10**9})
            assert created.status_code == 201
            body = (await browser.get(f"/chats/{created.json()['id']}/stream")).content
            assert sse_events(body)[-1]["event"] == "message_stop"
            refused = await browser.post("/chats", json={**PARAMS, "model": "claude-opus-4-1"})
            assert refused.status_code == 400
            assert "not offered here" in refused.json()["error"]["message"]
            streamed = await browser.post("/vercel/chat", json=ai_sdk_body("c"))
            assert json.loads(sse_events(streamed.content)[-2]["data"])["type"] == "finish"
        assert seen == ["/chats", "/chats", "/vercel/chat"]
        assert len(server.requests) == 2
        for sent in server.requests:
            assert sent.json["max_tokens"] == 100 and sent.headers["x-owner"] == "1"

    async def test_a_sync_hook(self, server: MockAnthropic, client: sluice.AsyncClient) -> None:
        """The hook may be a plain function."""
        server.enqueue(Reply.sse(load("text.sse")))

        def owner(request: Request, params: dict[str, Any]) -> dict[str, Any]:
            return {**params, "model": "claude-haiku-4-5"}

        async with running(create_app(client=client, params=owner)) as url, http(url) as browser:
            created = await browser.post("/chats", json=PARAMS)
            assert created.status_code == 201
            await browser.get(f"/chats/{created.json()['id']}/stream")
        assert server.requests[0].json["model"] == "claude-haiku-4-5"
