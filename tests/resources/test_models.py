"""client.models over real HTTP against MockAnthropic with the models fake."""

from __future__ import annotations

import msgspec
import pytest

import sluice
from sluice.testing import MockAnthropic, install_models
from sluice.testing._fakes_core import DEFAULT_MODELS
from sluice.types import ModelInfo

pytestmark = pytest.mark.anyio

IDS = [model["id"] for model in DEFAULT_MODELS]


def list_queries(server: MockAnthropic) -> list[dict[str, list[str]]]:
    return [r.query for r in server.requests if r.path == "/v1/models"]


class TestModelInfo:
    def test_decodes_the_api_shape(self) -> None:
        """A model object decodes with type 'model' and its timestamps as strings."""
        model = msgspec.json.decode(
            b'{"type":"model","id":"claude-x","display_name":"Claude X",'
            b'"created_at":"2025-02-19T00:00:00Z","max_tokens":64000}',
            type=ModelInfo,
        )
        assert (model.type, model.id, model.display_name) == ("model", "claude-x", "Claude X")
        assert model.created_at == "2025-02-19T00:00:00Z"
        assert model.max_tokens == 64000
        assert model.capabilities is msgspec.UNSET

    def test_rejects_another_object_type(self) -> None:
        """An object whose type is not 'model' is not a ModelInfo."""
        with pytest.raises(msgspec.ValidationError):
            msgspec.json.decode(
                b'{"type":"file","id":"x","display_name":"x","created_at":"t"}', type=ModelInfo
            )


class TestGet:
    async def test_returns_the_model_with_response_info(
        self, server: MockAnthropic, client: sluice.AsyncClient
    ) -> None:
        """get() answers a typed ModelInfo carrying the status and request-id."""
        install_models(server)
        model = await client.models.get("claude-sonnet-4-5-20250929")
        assert isinstance(model, ModelInfo)
        assert model.display_name == "Claude Sonnet 4.5"
        info = sluice.response_info(model)
        assert info is not None and info.status_code == 200
        assert info.request_id == server.requests[-1].request_id
        assert server.requests[-1].method == "GET"
        assert server.requests[-1].path == "/v1/models/claude-sonnet-4-5-20250929"

    async def test_unknown_model_is_not_found(
        self, server: MockAnthropic, client: sluice.AsyncClient
    ) -> None:
        """An unknown id raises NotFoundError with the API's message."""
        install_models(server)
        with pytest.raises(sluice.NotFoundError, match="model: claude-nope") as caught:
            await client.models.get("claude-nope")
        assert caught.value.status_code == 404
        assert isinstance(caught.value, sluice.APIStatusError)

    async def test_id_is_one_quoted_path_segment(
        self, server: MockAnthropic, client: sluice.AsyncClient
    ) -> None:
        """An id with '/' or '?' cannot escape its path segment."""
        install_models(server, ["a/b?c"])
        model = await client.models.get("a/b?c")
        assert model.id == "a/b?c"
        assert server.requests[-1].path == "/v1/models/a%2Fb%3Fc"

    async def test_empty_id_is_refused_before_sending(
        self, server: MockAnthropic, client: sluice.AsyncClient
    ) -> None:
        """An empty id is a ValueError, not a request for the model list."""
        with pytest.raises(ValueError, match="non-empty model id"):
            await client.models.get("")
        assert server.requests == []

    async def test_unknown_fields_are_kept(
        self, server: MockAnthropic, client: sluice.AsyncClient
    ) -> None:
        """Fields sluice does not model survive to_builtins, as for messages."""
        wire = {
            "type": "model",
            "id": "claude-new",
            "display_name": "Claude New",
            "created_at": "2026-01-01T00:00:00Z",
            "capabilities": {"batch": {"supported": True}},
            "lifecycle": "active",
            "brand_new_field": {"x": [1, 2]},
        }
        install_models(server, [wire])
        model = await client.models.get("claude-new")
        assert model.capabilities == {"batch": {"supported": True}}
        assert sluice.to_builtins(model) == wire

    async def test_betas_and_extra_headers_are_sent(
        self, server: MockAnthropic, client: sluice.AsyncClient
    ) -> None:
        """betas= becomes the anthropic-beta header; extra_headers are added."""
        install_models(server)
        await client.models.get(IDS[0], betas=["b1", "b2"], extra_headers={"x-trace": "t"})
        headers = server.requests[-1].headers
        assert headers["anthropic-beta"] == "b1,b2"
        assert headers["x-trace"] == "t"


class TestList:
    async def test_first_page_defaults(
        self, server: MockAnthropic, client: sluice.AsyncClient
    ) -> None:
        """Without arguments one request fetches every default model, newest first."""
        install_models(server)
        models = await client.models.list().to_list()
        assert [model.id for model in models] == IDS
        assert list_queries(server) == [{}]

    async def test_forward_across_pages(
        self, server: MockAnthropic, client: sluice.AsyncClient
    ) -> None:
        """limit=3 walks forward page by page with after_id = the previous last_id."""
        install_models(server)
        models = await client.models.list(limit=3).to_list()
        assert [model.id for model in models] == IDS
        assert list_queries(server) == [
            {"limit": ["3"]},
            {"limit": ["3"], "after_id": [IDS[2]]},
            {"limit": ["3"], "after_id": [IDS[5]]},
        ]

    async def test_backward_across_pages(
        self, server: MockAnthropic, client: sluice.AsyncClient
    ) -> None:
        """before_id walks backward with before_id = the previous first_id."""
        install_models(server)
        pages = [page async for page in client.models.list(limit=2, before_id=IDS[6]).pages()]
        assert [[m.id for m in page.data] for page in pages] == [IDS[4:6], IDS[2:4], IDS[0:2]]
        assert [page.has_more for page in pages] == [True, True, False]
        assert list_queries(server) == [
            {"limit": ["2"], "before_id": [IDS[6]]},
            {"limit": ["2"], "before_id": [IDS[4]]},
            {"limit": ["2"], "before_id": [IDS[2]]},
        ]

    async def test_pages_carry_cursors_and_request_ids(
        self, server: MockAnthropic, client: sluice.AsyncClient
    ) -> None:
        """Each page has first_id, last_id, has_more and its response's request-id."""
        install_models(server)
        pages = [page async for page in client.models.list(limit=4).pages()]
        assert [(p.first_id, p.last_id, p.has_more) for p in pages] == [
            (IDS[0], IDS[3], True),
            (IDS[4], IDS[6], False),
        ]
        got = [page.request_id for page in pages]
        assert got == [r.request_id for r in server.requests]
        assert all(page.rate_limits is not None for page in pages)

    async def test_starting_after_an_id(
        self, server: MockAnthropic, client: sluice.AsyncClient
    ) -> None:
        """after_id resumes a listing after that model."""
        install_models(server)
        models = await client.models.list(after_id=IDS[4]).to_list()
        assert [model.id for model in models] == IDS[5:]

    async def test_nothing_is_sent_until_iteration(
        self, server: MockAnthropic, client: sluice.AsyncClient
    ) -> None:
        """list() is lazy: no request before the first item is asked for."""
        install_models(server)
        paginator = client.models.list(limit=1)
        assert server.requests == []
        first = await paginator.__anext__()
        await paginator.aclose()
        assert first.id == IDS[0]
        assert len(server.requests) == 1

    async def test_invalid_limit_is_a_bad_request(
        self, server: MockAnthropic, client: sluice.AsyncClient
    ) -> None:
        """The fake validates limit like the API: 0 is a 400 BadRequestError."""
        install_models(server)
        with pytest.raises(sluice.BadRequestError, match="limit"):
            await client.models.list(limit=0).first_page()


class TestFake:
    async def test_ids_and_objects_mix(
        self, server: MockAnthropic, client: sluice.AsyncClient
    ) -> None:
        """install_models accepts bare ids and full objects, listed in the order given."""
        install_models(
            server,
            [
                "m-plain",
                {"id": "m-full", "display_name": "Full", "created_at": "2025-01-02T00:00:00Z"},
            ],
        )
        models = await client.models.list().to_list()
        assert [(m.id, m.display_name) for m in models] == [
            ("m-plain", "m-plain"),
            ("m-full", "Full"),
        ]

    async def test_no_models(self, server: MockAnthropic, client: sluice.AsyncClient) -> None:
        """An empty catalogue is one empty page without cursors."""
        install_models(server, [])
        page = await client.models.list().first_page()
        assert (page.data, page.has_more, page.first_id, page.last_id) == ([], False, None, None)

    async def test_unknown_cursor_is_a_bad_request(
        self, server: MockAnthropic, client: sluice.AsyncClient
    ) -> None:
        """A cursor naming no model is a 400, not an empty page."""
        install_models(server)
        with pytest.raises(sluice.BadRequestError, match="after_id"):
            await client.models.list(after_id="nope").first_page()


class TestAliases:
    async def test_get_resolves_an_alias_like_the_api(self) -> None:
        """GET /v1/models/{alias} on the fake answers the newest model with that alias."""
        from sluice.testing import MockAnthropic, install_models

        async with MockAnthropic() as server:
            install_models(server, ["claude-x-1-20250101", "claude-x-1-20240101"])
            async with sluice.AsyncClient(api_key="k", base_url=server.base_url) as client:
                model = await client.models.get("claude-x-1")
        assert model.id == "claude-x-1-20250101"
