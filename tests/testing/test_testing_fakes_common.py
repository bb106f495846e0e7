"""The helpers every stateful fake shares: refusals, limits, cursors, page tokens, ids."""

from __future__ import annotations

import re
from typing import Any

import httpx
import msgspec
import pytest

from sluice.testing import MockAnthropic, RecordedRequest, Reply
from sluice.testing._fakes_common import (
    Refusal,
    invalid,
    json_object,
    new_id,
    page_token,
    page_token_value,
    paginate,
    query_limit,
    route,
)

ITEMS = [{"id": f"obj_{n}"} for n in range(5)]


def request_with(body: Any) -> RecordedRequest:
    return RecordedRequest(
        method="POST", path="/x", query={}, headers={}, body=b"", json=body, request_id="req_1"
    )


def page_of(query: dict[str, list[str]]) -> Any:
    reply = paginate(ITEMS, query)
    return msgspec.json.decode(reply._body)


class TestQueryLimit:
    def test_default_and_bounds(self) -> None:
        """limit defaults to 20 and must be an integer from 1 to the maximum."""
        assert query_limit({}) == 20
        assert query_limit({"limit": ["7"]}, maximum=7) == 7
        for raw in ("0", "1001", "x", ""):
            with pytest.raises(Refusal, match="limit") as caught:
                query_limit({"limit": [raw]})
            assert caught.value.reply._status == 400


class TestPaginate:
    def test_cursors_walk_both_ways(self) -> None:
        """after_id pages forward, before_id pages back, with first/last ids and has_more."""
        first = page_of({"limit": ["2"]})
        assert [i["id"] for i in first["data"]] == ["obj_0", "obj_1"]
        assert (first["has_more"], first["first_id"], first["last_id"]) == (True, "obj_0", "obj_1")
        after = page_of({"limit": ["2"], "after_id": ["obj_3"]})
        assert [i["id"] for i in after["data"]] == ["obj_4"] and after["has_more"] is False
        before = page_of({"limit": ["2"], "before_id": ["obj_3"]})
        assert [i["id"] for i in before["data"]] == ["obj_1", "obj_2"] and before["has_more"]

    def test_bad_cursors_are_refused(self) -> None:
        """Both cursors at once, or a cursor naming no object, is a 400."""
        with pytest.raises(Refusal, match="together"):
            paginate(ITEMS, {"after_id": ["obj_1"], "before_id": ["obj_2"]})
        with pytest.raises(Refusal, match="no object"):
            paginate(ITEMS, {"after_id": ["nope"]})


class TestPageTokens:
    def test_round_trip_and_garbage(self) -> None:
        """A page token carries its value back; anything else is an invalid page token."""
        assert page_token_value(page_token("2025-01-01T00:00:00Z")) == "2025-01-01T00:00:00Z"
        for token in ("garbage", "page_!!", "page_/w=="):
            with pytest.raises(Refusal, match="invalid page token"):
                page_token_value(token)


class TestBodiesAndIds:
    def test_json_object_requires_an_object_and_fields(self) -> None:
        """The body must be a JSON object with every required field."""
        assert json_object(request_with({"a": 1}), required=["a"]) == {"a": 1}
        with pytest.raises(Refusal, match="JSON object"):
            json_object(request_with([1]))
        with pytest.raises(Refusal, match="b: Field required"):
            json_object(request_with({"a": 1}), required=["a", "b"])

    def test_new_ids_look_like_the_apis(self) -> None:
        """Ids are the prefix, '_01' and 22 hex digits, fresh each time."""
        ids = {new_id("file") for _ in range(100)}
        assert len(ids) == 100
        assert all(re.fullmatch(r"file_01[0-9a-f]{22}", i) for i in ids)


class TestRoute:
    @pytest.mark.anyio
    async def test_a_raised_refusal_is_the_reply(self, server: MockAnthropic) -> None:
        """route() answers with a handler's reply, or with the reply of a Refusal it raised."""

        def handler(request: RecordedRequest) -> Reply:
            if request.query:
                raise invalid("no query, please")
            return Reply.json({"ok": True})

        route(server, "GET", "/thing", handler)
        async with httpx.AsyncClient(base_url=server.base_url) as http:
            assert (await http.get("/thing")).json() == {"ok": True}
            refused = await http.get("/thing?x=1")
        assert refused.status_code == 400
        assert refused.json()["error"] == {
            "type": "invalid_request_error",
            "message": "no query, please",
        }
