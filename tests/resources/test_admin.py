"""The Admin API (sluice._admin) over real HTTP against MockAnthropic with the admin fake."""

from __future__ import annotations

import ssl
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import httpx
import pytest

import sluice
from sluice import AdminParamsError
from sluice._resources._admin import Admin
from sluice.admin import (
    APIKey,
    ClaudeCodeUsageRecord,
    CostReportBucket,
    DeletedInvite,
    DeletedUser,
    DeletedWorkspaceMember,
    MessagesUsageBucket,
    OrganizationInfo,
    OrganizationInvite,
    OrganizationUser,
    Workspace,
    WorkspaceMember,
)
from sluice.testing import FakeAdmin, MockAnthropic, Reply, install_admin

pytestmark = pytest.mark.anyio

# One shared TLS context spares every client the ~40 ms httpx spends loading CA certs.
TLS = ssl.create_default_context()
ADMIN_KEY = "sk-ant-admin01-test-key"
ORG = "/v1/organizations"
SONNET = "claude-sonnet-4-5-20250929"
HAIKU = "claude-haiku-4-5-20251001"


@pytest.fixture
def fake(server: MockAnthropic) -> FakeAdmin:
    return install_admin(server)


@pytest.fixture
def sent() -> list[httpx.Request]:
    """Every request as httpx put it on the wire (for exact query strings)."""
    return []


@asynccontextmanager
async def admin_for(
    server: MockAnthropic, key: str, sent: list[httpx.Request] | None = None
) -> AsyncIterator[Admin]:
    async def record(request: httpx.Request) -> None:
        if sent is not None:
            sent.append(request)

    async with (
        httpx.AsyncClient(verify=TLS, timeout=10.0, event_hooks={"request": [record]}) as http,
        sluice.AsyncClient(
            api_key=key, base_url=server.base_url, http_client=http, max_retries=0
        ) as client,
    ):
        yield client.admin


@pytest.fixture
async def admin(
    server: MockAnthropic, fake: FakeAdmin, sent: list[httpx.Request]
) -> AsyncIterator[Admin]:
    async with admin_for(server, ADMIN_KEY, sent) as resource:
        yield resource


def queries(server: MockAnthropic, path: str) -> list[dict[str, list[str]]]:
    return [r.query for r in server.requests if r.method == "GET" and r.path == path]


def raw_query(request: httpx.Request) -> str:
    return request.url.query.decode()


def add_users(fake: FakeAdmin, count: int) -> list[str]:
    return [fake.add_user(f"user{i}@example.com")["id"] for i in range(count)]


class TestAdminParamsError:
    def test_is_a_sluice_value_error_naming_the_parameter(self) -> None:
        """AdminParamsError is both a SluiceError and a ValueError, and carries param."""
        error = AdminParamsError("limit: bad", param="limit")
        assert isinstance(error, sluice.SluiceError)
        assert isinstance(error, ValueError)
        assert error.param == "limit"

    async def test_nothing_is_sent_for_a_bad_parameter(
        self, server: MockAnthropic, admin: Admin
    ) -> None:
        """Validation happens at call time, before any request reaches the server."""
        with pytest.raises(AdminParamsError):
            admin.users.list(limit=0)
        with pytest.raises(AdminParamsError):
            await admin.users.get("")
        assert server.requests == []


class TestOrganization:
    async def test_me_returns_the_organization(self, server: MockAnthropic, admin: Admin) -> None:
        """me() GETs /v1/organizations/me with the admin key and carries response info."""
        org = await admin.organization.me()
        assert isinstance(org, OrganizationInfo)
        assert (org.type, org.name) == ("organization", "Fake Organization")
        request = server.requests[-1]
        assert (request.method, request.path) == ("GET", f"{ORG}/me")
        assert request.headers["x-api-key"] == ADMIN_KEY
        info = sluice.response_info(org)
        assert info is not None and info.request_id == request.request_id

    async def test_standard_key_is_refused_with_401(
        self, server: MockAnthropic, fake: FakeAdmin
    ) -> None:
        """A non-admin key gets a typed 401 AuthenticationError in the API's error shape."""
        async with admin_for(server, "sk-ant-api03-standard") as admin:
            with pytest.raises(sluice.AuthenticationError) as caught:
                await admin.organization.me()
        error = caught.value
        assert error.status_code == 401
        assert error.error_type == "authentication_error"
        assert error.body["type"] == "error"
        assert error.request_id == server.requests[-1].request_id

    async def test_every_endpoint_refuses_a_standard_key(
        self, server: MockAnthropic, fake: FakeAdmin
    ) -> None:
        """Lists and reports are refused too, on the first page fetch."""
        async with admin_for(server, "sk-ant-api03-standard") as admin:
            with pytest.raises(sluice.AuthenticationError):
                await admin.users.list().to_list()
            with pytest.raises(sluice.AuthenticationError):
                await admin.usage_report.messages(starting_at="2025-01-01T00:00:00Z").to_list()
            with pytest.raises(sluice.AuthenticationError):
                await admin.cost_report(starting_at="2025-01-01T00:00:00Z").first_page()

    async def test_custom_admin_prefix(self, server: MockAnthropic) -> None:
        """install_admin(admin_key_prefix=) decides which keys count as admin keys."""
        install_admin(server, admin_key_prefix="test-admin-")
        async with admin_for(server, "test-admin-1") as admin:
            assert (await admin.organization.me()).type == "organization"
        async with admin_for(server, ADMIN_KEY) as admin:
            with pytest.raises(sluice.AuthenticationError):
                await admin.organization.me()

    def test_repr_shows_the_base_url_only(self) -> None:
        """repr(Admin) names the base URL and never the key."""
        client = sluice.AsyncClient(api_key=ADMIN_KEY, base_url="http://127.0.0.1:9")
        assert repr(client.admin) == "<Admin base_url='http://127.0.0.1:9/'>"
        assert ADMIN_KEY not in repr(client.admin)


class TestUsers:
    async def test_list_walks_several_pages(
        self, server: MockAnthropic, fake: FakeAdmin, admin: Admin
    ) -> None:
        """limit=2 over five users fetches three pages, each after the previous last_id."""
        ids = add_users(fake, 5)
        pages = [page async for page in admin.users.list(limit=2).pages()]
        assert [[user.id for user in page.data] for page in pages] == [ids[:2], ids[2:4], ids[4:]]
        assert [page.has_more for page in pages] == [True, True, False]
        assert all(isinstance(user, OrganizationUser) for page in pages for user in page.data)
        assert queries(server, f"{ORG}/users") == [
            {"limit": ["2"]},
            {"limit": ["2"], "after_id": [ids[1]]},
            {"limit": ["2"], "after_id": [ids[3]]},
        ]

    async def test_list_backward_from_before_id(
        self, server: MockAnthropic, fake: FakeAdmin, admin: Admin
    ) -> None:
        """before_id walks backward with the previous page's first_id."""
        ids = add_users(fake, 5)
        pages = [page async for page in admin.users.list(limit=2, before_id=ids[4]).pages()]
        assert [[user.id for user in page.data] for page in pages] == [ids[2:4], ids[0:2]]
        assert queries(server, f"{ORG}/users")[1] == {"limit": ["2"], "before_id": [ids[2]]}

    async def test_list_filters_by_email(
        self, server: MockAnthropic, fake: FakeAdmin, admin: Admin
    ) -> None:
        """email= is sent as a query parameter and selects that user."""
        ids = add_users(fake, 3)
        users = await admin.users.list(email="user1@example.com").to_list()
        assert [user.id for user in users] == [ids[1]]
        assert queries(server, f"{ORG}/users") == [{"email": ["user1@example.com"]}]

    async def test_get_update_remove(
        self, server: MockAnthropic, fake: FakeAdmin, admin: Admin
    ) -> None:
        """get, update (POST with the new role) and remove (DELETE) act on one user."""
        user_id = fake.add_user("ada@example.com", name="Ada")["id"]
        user = await admin.users.get(user_id)
        assert (user.email, user.name, user.role) == ("ada@example.com", "Ada", "user")
        updated = await admin.users.update(user_id, role="developer")
        assert updated.role == "developer"
        assert server.requests[-1].method == "POST"
        assert server.requests[-1].json == {"role": "developer"}
        deleted = await admin.users.remove(user_id)
        assert isinstance(deleted, DeletedUser)
        assert (deleted.type, deleted.id) == ("user_deleted", user_id)
        assert server.requests[-1].method == "DELETE"
        assert fake.users == []

    async def test_unknown_user_is_not_found(self, admin: Admin) -> None:
        """A user id the organization does not have raises a typed 404."""
        with pytest.raises(sluice.NotFoundError) as caught:
            await admin.users.get("user_nope")
        assert caught.value.status_code == 404
        assert caught.value.error_type == "not_found_error"

    async def test_admin_role_cannot_be_granted(self, fake: FakeAdmin, admin: Admin) -> None:
        """The API refuses to grant 'admin'; the 400 arrives as BadRequestError."""
        user_id = fake.add_user("ada@example.com")["id"]
        with pytest.raises(sluice.BadRequestError, match="cannot be assigned"):
            await admin.users.update(user_id, role="admin")

    async def test_id_is_one_quoted_path_segment(self, server: MockAnthropic, admin: Admin) -> None:
        """An id with '/' or '?' stays inside its path segment."""
        with pytest.raises(sluice.NotFoundError):
            await admin.users.get("a/b?c")
        assert server.requests[-1].path == f"{ORG}/users/a%2Fb%3Fc"

    @pytest.mark.parametrize("limit", [0, 1001, True, "20"])
    async def test_list_limit_bounds(self, admin: Admin, limit: Any) -> None:
        """users.list() accepts limit 1 to 1000 only, as an int."""
        with pytest.raises(AdminParamsError, match="limit") as caught:
            admin.users.list(limit=limit)
        assert caught.value.param == "limit"

    async def test_both_cursors_are_refused(self, admin: Admin) -> None:
        """after_id and before_id together are a parameter error."""
        with pytest.raises(AdminParamsError, match="together"):
            admin.users.list(after_id="a", before_id="b")


class TestInvites:
    async def test_create_get_delete(
        self, server: MockAnthropic, fake: FakeAdmin, admin: Admin
    ) -> None:
        """create POSTs email and role; get finds it; delete answers invite_deleted."""
        invite = await admin.invites.create(email="bob@example.com", role="developer")
        assert isinstance(invite, OrganizationInvite)
        assert (invite.email, invite.role, invite.status) == (
            "bob@example.com",
            "developer",
            "pending",
        )
        assert server.requests[-1].json == {"email": "bob@example.com", "role": "developer"}
        assert (await admin.invites.get(invite.id)).id == invite.id
        deleted = await admin.invites.delete(invite.id)
        assert isinstance(deleted, DeletedInvite)
        assert (deleted.type, deleted.id) == ("invite_deleted", invite.id)
        with pytest.raises(sluice.NotFoundError):
            await admin.invites.get(invite.id)

    async def test_list_walks_several_pages(self, server: MockAnthropic, admin: Admin) -> None:
        """Three invites with limit=2 come in two pages."""
        made = [
            await admin.invites.create(email=f"i{n}@example.com", role="user") for n in range(3)
        ]
        pages = [page async for page in admin.invites.list(limit=2).pages()]
        assert [[i.id for i in page.data] for page in pages] == [
            [made[0].id, made[1].id],
            [made[2].id],
        ]
        assert queries(server, f"{ORG}/invites")[1] == {"limit": ["2"], "after_id": [made[1].id]}

    async def test_accepted_invite_becomes_a_user(self, fake: FakeAdmin, admin: Admin) -> None:
        """FakeAdmin.accept_invite turns a pending invite into a listed user."""
        invite = await admin.invites.create(email="cy@example.com", role="billing")
        fake.accept_invite(invite.id)
        assert (await admin.invites.get(invite.id)).status == "accepted"
        users = await admin.users.list().to_list()
        assert [(u.email, u.role) for u in users] == [("cy@example.com", "billing")]

    async def test_invalid_email_is_a_bad_request(self, admin: Admin) -> None:
        """The fake checks the email like the API and answers 400."""
        with pytest.raises(sluice.BadRequestError, match="email"):
            await admin.invites.create(email="not-an-email", role="user")

    async def test_unknown_invite_delete_is_not_found(self, admin: Admin) -> None:
        """Deleting an unknown invite raises a typed 404."""
        with pytest.raises(sluice.NotFoundError):
            await admin.invites.delete("invite_nope")


class TestWorkspaces:
    async def test_create_get_update_archive(self, server: MockAnthropic, admin: Admin) -> None:
        """A workspace is created, read, renamed (POST) and archived (POST .../archive)."""
        workspace = await admin.workspaces.create(name="prod")
        assert isinstance(workspace, Workspace)
        assert (workspace.name, workspace.archived_at) == ("prod", None)
        assert workspace.id.startswith("wrkspc_")
        assert (await admin.workspaces.get(workspace.id)).name == "prod"
        renamed = await admin.workspaces.update(workspace.id, name="production")
        assert renamed.name == "production"
        assert server.requests[-1].json == {"name": "production"}
        archived = await admin.workspaces.archive(workspace.id)
        assert archived.archived_at is not None
        assert (server.requests[-1].method, server.requests[-1].path) == (
            "POST",
            f"{ORG}/workspaces/{workspace.id}/archive",
        )

    async def test_create_sends_data_residency(self, server: MockAnthropic, admin: Admin) -> None:
        """data_residency= is sent in the body and comes back on the workspace."""
        workspace = await admin.workspaces.create(name="eu", data_residency={"workspace_geo": "us"})
        assert server.requests[-1].json == {"name": "eu", "data_residency": {"workspace_geo": "us"}}
        assert workspace.data_residency == {"workspace_geo": "us"}

    async def test_list_hides_archived_unless_asked(
        self, server: MockAnthropic, sent: list[httpx.Request], admin: Admin
    ) -> None:
        """Archived workspaces are listed only with include_archived=true."""
        kept = await admin.workspaces.create(name="kept")
        gone = await admin.workspaces.create(name="gone")
        await admin.workspaces.archive(gone.id)
        assert [w.id for w in await admin.workspaces.list().to_list()] == [kept.id]
        listed = await admin.workspaces.list(include_archived=True).to_list()
        assert [w.id for w in listed] == [kept.id, gone.id]
        assert raw_query(sent[-1]) == "include_archived=true"

    async def test_list_walks_several_pages(self, server: MockAnthropic, admin: Admin) -> None:
        """Five workspaces with limit=2 come in three pages."""
        made = [(await admin.workspaces.create(name=f"w{n}")).id for n in range(5)]
        pages = [page async for page in admin.workspaces.list(limit=2).pages()]
        assert [[w.id for w in page.data] for page in pages] == [made[:2], made[2:4], made[4:]]
        assert [(page.first_id, page.last_id) for page in pages][1] == (made[2], made[3])

    async def test_unknown_workspace_is_not_found(self, admin: Admin) -> None:
        """get, update and archive of an unknown workspace raise a typed 404."""
        with pytest.raises(sluice.NotFoundError):
            await admin.workspaces.get("wrkspc_nope")
        with pytest.raises(sluice.NotFoundError):
            await admin.workspaces.update("wrkspc_nope", name="x")
        with pytest.raises(sluice.NotFoundError):
            await admin.workspaces.archive("wrkspc_nope")


class TestWorkspaceMembers:
    async def test_add_get_update_remove(
        self, server: MockAnthropic, fake: FakeAdmin, admin: Admin
    ) -> None:
        """A user joins a workspace, changes role and leaves it, under .../members/{user}."""
        user_id = fake.add_user("ada@example.com")["id"]
        workspace = await admin.workspaces.create(name="prod")
        member = await admin.workspaces.members.add(
            workspace.id, user_id=user_id, workspace_role="workspace_developer"
        )
        assert isinstance(member, WorkspaceMember)
        assert server.requests[-1].path == f"{ORG}/workspaces/{workspace.id}/members"
        assert server.requests[-1].json == {
            "user_id": user_id,
            "workspace_role": "workspace_developer",
        }
        got = await admin.workspaces.members.get(workspace.id, user_id)
        assert (got.user_id, got.workspace_id) == (user_id, workspace.id)
        updated = await admin.workspaces.members.update(
            workspace.id, user_id, workspace_role="workspace_admin"
        )
        assert updated.workspace_role == "workspace_admin"
        assert server.requests[-1].path == f"{ORG}/workspaces/{workspace.id}/members/{user_id}"
        removed = await admin.workspaces.members.remove(workspace.id, user_id)
        assert isinstance(removed, DeletedWorkspaceMember)
        assert removed.type == "workspace_member_deleted"
        with pytest.raises(sluice.NotFoundError):
            await admin.workspaces.members.get(workspace.id, user_id)

    async def test_list_walks_several_pages(
        self, server: MockAnthropic, fake: FakeAdmin, admin: Admin
    ) -> None:
        """Members paginate with after_id = the last member's user id."""
        ids = add_users(fake, 3)
        workspace = await admin.workspaces.create(name="prod")
        for user_id in ids:
            await admin.workspaces.members.add(
                workspace.id, user_id=user_id, workspace_role="workspace_user"
            )
        pages = [
            page async for page in admin.workspaces.members.list(workspace.id, limit=2).pages()
        ]
        assert [[m.user_id for m in page.data] for page in pages] == [ids[:2], ids[2:]]
        path = f"{ORG}/workspaces/{workspace.id}/members"
        assert queries(server, path) == [{"limit": ["2"]}, {"limit": ["2"], "after_id": [ids[1]]}]

    async def test_unknown_workspace_or_user_is_not_found(
        self, fake: FakeAdmin, admin: Admin
    ) -> None:
        """Members of an unknown workspace, or an unknown user, are typed 404s."""
        user_id = fake.add_user("ada@example.com")["id"]
        with pytest.raises(sluice.NotFoundError):
            await admin.workspaces.members.list("wrkspc_nope").to_list()
        workspace = await admin.workspaces.create(name="prod")
        with pytest.raises(sluice.NotFoundError):
            await admin.workspaces.members.add(
                workspace.id, user_id="user_nope", workspace_role="workspace_user"
            )
        with pytest.raises(sluice.NotFoundError):
            await admin.workspaces.members.remove(workspace.id, user_id)

    async def test_duplicate_and_billing_role_are_bad_requests(
        self, fake: FakeAdmin, admin: Admin
    ) -> None:
        """Adding twice, or with workspace_billing, is refused with a 400."""
        user_id = fake.add_user("ada@example.com")["id"]
        workspace = await admin.workspaces.create(name="prod")
        with pytest.raises(sluice.BadRequestError, match="workspace_billing"):
            await admin.workspaces.members.add(
                workspace.id, user_id=user_id, workspace_role="workspace_billing"
            )
        await admin.workspaces.members.add(
            workspace.id, user_id=user_id, workspace_role="workspace_user"
        )
        with pytest.raises(sluice.BadRequestError, match="already a member"):
            await admin.workspaces.members.add(
                workspace.id, user_id=user_id, workspace_role="workspace_user"
            )

    async def test_empty_ids_are_refused(self, admin: Admin) -> None:
        """An empty workspace or user id is a parameter error naming it."""
        with pytest.raises(AdminParamsError) as caught:
            await admin.workspaces.members.get("wrkspc_1", "")
        assert caught.value.param == "user_id"
        with pytest.raises(AdminParamsError) as caught:
            admin.workspaces.members.list("")
        assert caught.value.param == "workspace_id"


class TestAPIKeys:
    async def test_list_filters_and_pages(
        self, server: MockAnthropic, fake: FakeAdmin, sent: list[httpx.Request], admin: Admin
    ) -> None:
        """status, workspace_id and created_by_user_id filter; limit pages the rest."""
        creator = fake.add_user("ada@example.com")["id"]
        workspace = await admin.workspaces.create(name="prod")
        made = [fake.add_api_key(f"k{n}", workspace_id=workspace.id)["id"] for n in range(3)]
        fake.add_api_key("elsewhere")
        fake.add_api_key("off", workspace_id=workspace.id, status="inactive")
        paginator = admin.api_keys.list(
            status="active", workspace_id=workspace.id, created_by_user_id=creator, limit=2
        )
        pages = [page async for page in paginator.pages()]
        assert [[k.id for k in page.data] for page in pages] == [made[:2], made[2:]]
        assert raw_query(sent[-2]) == (
            f"status=active&workspace_id={workspace.id}&created_by_user_id={creator}&limit=2"
        )
        assert all(isinstance(key, APIKey) for page in pages for key in page.data)

    async def test_get_and_update(
        self, server: MockAnthropic, fake: FakeAdmin, admin: Admin
    ) -> None:
        """get reads a key; update POSTs only the fields given."""
        key_id = fake.add_api_key("ci")["id"]
        key = await admin.api_keys.get(key_id)
        assert (key.name, key.status, key.workspace_id) == ("ci", "active", None)
        assert isinstance(key.partial_key_hint, str)
        renamed = await admin.api_keys.update(key_id, name="ci-2")
        assert server.requests[-1].json == {"name": "ci-2"}
        assert renamed.name == "ci-2"
        disabled = await admin.api_keys.update(key_id, status="inactive")
        assert server.requests[-1].json == {"status": "inactive"}
        assert disabled.status == "inactive"

    async def test_update_needs_a_change(self, server: MockAnthropic, admin: Admin) -> None:
        """update() with neither name nor status is refused before sending."""
        with pytest.raises(AdminParamsError, match="nothing to change"):
            await admin.api_keys.update("apikey_1")
        assert server.requests == []

    async def test_unknown_key_is_not_found(self, admin: Admin) -> None:
        """get and update of an unknown key raise a typed 404."""
        with pytest.raises(sluice.NotFoundError):
            await admin.api_keys.get("apikey_nope")
        with pytest.raises(sluice.NotFoundError):
            await admin.api_keys.update("apikey_nope", name="x")

    async def test_invalid_status_is_a_bad_request(self, fake: FakeAdmin, admin: Admin) -> None:
        """A status the API does not know is a 400 from the server."""
        key_id = fake.add_api_key("ci")["id"]
        with pytest.raises(sluice.BadRequestError, match="status"):
            await admin.api_keys.update(key_id, status="paused")

    async def test_unknown_fields_are_kept(self, server: MockAnthropic, admin: Admin) -> None:
        """Fields this version does not model survive decoding and to_builtins."""
        wire = {
            "type": "api_key",
            "id": "apikey_x",
            "name": "x",
            "status": "active",
            "created_at": "2025-01-01T00:00:00Z",
            "workspace_id": None,
            "scope": {"type": "organization"},
            "brand_new": [1, 2],
        }
        server.route("GET", f"{ORG}/api_keys/apikey_x", Reply.json(wire))
        key = await admin.api_keys.get("apikey_x")
        assert sluice.to_builtins(key) == wire


class TestMessagesUsageReport:
    async def test_exact_query_string_for_arrays_and_times(
        self, server: MockAnthropic, sent: list[httpx.Request], admin: Admin
    ) -> None:
        """Arrays go out as repeated key[] parameters; times as RFC 3339 UTC with Z."""
        report = admin.usage_report.messages(
            starting_at=datetime(2025, 1, 1, 2, 0, tzinfo=timezone(timedelta(hours=2))),
            ending_at="2025-01-02T00:00:00+00:00",
            bucket_width="1h",
            group_by=["model", "workspace_id"],
            models=[SONNET, HAIKU],
            api_key_ids=["apikey_a"],
            workspace_ids=["wrkspc_a", "wrkspc_b"],
            service_tiers=["standard", "batch"],
            context_window=["0-200k"],
            limit=3,
        )
        await report.first_page()
        assert raw_query(sent[-1]) == (
            "starting_at=2025-01-01T00%3A00%3A00Z&ending_at=2025-01-02T00%3A00%3A00Z"
            "&bucket_width=1h&group_by%5B%5D=model&group_by%5B%5D=workspace_id"
            f"&models%5B%5D={SONNET}&models%5B%5D={HAIKU}&api_key_ids%5B%5D=apikey_a"
            "&workspace_ids%5B%5D=wrkspc_a&workspace_ids%5B%5D=wrkspc_b"
            "&service_tiers%5B%5D=standard&service_tiers%5B%5D=batch"
            "&context_window%5B%5D=0-200k&limit=3"
        )
        assert server.requests[-1].query == {
            "starting_at": ["2025-01-01T00:00:00Z"],
            "ending_at": ["2025-01-02T00:00:00Z"],
            "bucket_width": ["1h"],
            "group_by[]": ["model", "workspace_id"],
            "models[]": [SONNET, HAIKU],
            "api_key_ids[]": ["apikey_a"],
            "workspace_ids[]": ["wrkspc_a", "wrkspc_b"],
            "service_tiers[]": ["standard", "batch"],
            "context_window[]": ["0-200k"],
            "limit": ["3"],
        }

    @pytest.mark.parametrize(
        ("given", "sent_as"),
        [
            (datetime(2025, 3, 1, 12, 30, tzinfo=UTC), "2025-03-01T12:30:00Z"),
            (datetime(2025, 3, 1, 12, 30, 0, 250000, tzinfo=UTC), "2025-03-01T12:30:00.250000Z"),
            (
                datetime(2025, 3, 1, 1, 0, tzinfo=timezone(timedelta(hours=5))),
                "2025-02-28T20:00:00Z",
            ),
            (date(2025, 3, 1), "2025-03-01T00:00:00Z"),
            ("2025-03-01", "2025-03-01T00:00:00Z"),
            ("2025-03-01T12:30:00Z", "2025-03-01T12:30:00Z"),
            ("2025-03-01t12:30:00z", "2025-03-01T12:30:00Z"),
            ("2025-03-01T12:30:00.5-01:00", "2025-03-01T13:30:00.500000Z"),
        ],
    )
    async def test_times_are_sent_as_rfc3339_utc(
        self, server: MockAnthropic, admin: Admin, given: Any, sent_as: str
    ) -> None:
        """datetime, date and RFC 3339 strings all become RFC 3339 UTC with Z."""
        await admin.usage_report.messages(
            starting_at=given, ending_at="2026-01-01T00:00:00Z", limit=1
        ).first_page()
        assert server.requests[-1].query["starting_at"] == [sent_as]

    @pytest.mark.parametrize(
        ("kwargs", "param", "match"),
        [
            ({"starting_at": datetime(2025, 1, 1)}, "starting_at", "naive"),
            ({"starting_at": "yesterday"}, "starting_at", "RFC 3339"),
            ({"starting_at": "2025-02-30"}, "starting_at", "not a valid date"),
            ({"starting_at": "2025-01-01T25:00:00Z"}, "starting_at", "not a valid"),
            ({"starting_at": 1735689600}, "starting_at", "got int"),
            (
                {"starting_at": "2025-01-02T00:00:00Z", "ending_at": "2025-01-01T00:00:00Z"},
                "ending_at",
                "must be after",
            ),
            ({"starting_at": "2025-01-01", "bucket_width": "1w"}, "bucket_width", "'1m'"),
            ({"starting_at": "2025-01-01", "group_by": ["model", ""]}, "group_by", "non-empty"),
        ],
    )
    async def test_bad_parameters_raise_before_sending(
        self, admin: Admin, kwargs: dict[str, Any], param: str, match: str
    ) -> None:
        """Bad times, bucket widths and array values raise AdminParamsError naming them."""
        with pytest.raises(AdminParamsError, match=match) as caught:
            admin.usage_report.messages(**kwargs)
        assert caught.value.param == param

    @pytest.mark.parametrize(
        ("width", "maximum"), [("1m", 1440), ("1h", 168), ("1d", 31), (None, 31)]
    )
    async def test_limit_bounds_follow_bucket_width(
        self, server: MockAnthropic, admin: Admin, width: Any, maximum: int
    ) -> None:
        """limit may reach 1440 / 168 / 31 buckets for 1m / 1h / 1d (the default), no more."""
        start = "2025-01-01T00:00:00Z"
        with pytest.raises(AdminParamsError, match=f"1 to {maximum}"):
            admin.usage_report.messages(starting_at=start, bucket_width=width, limit=maximum + 1)
        with pytest.raises(AdminParamsError, match="limit"):
            admin.usage_report.messages(starting_at=start, bucket_width=width, limit=0)
        page = await admin.usage_report.messages(
            starting_at=start, ending_at="2025-01-01T00:05:00Z", bucket_width=width, limit=maximum
        ).first_page()
        assert server.requests[-1].query["limit"] == [str(maximum)]
        assert page.has_more is False

    async def test_buckets_walk_several_pages(
        self, server: MockAnthropic, fake: FakeAdmin, admin: Admin
    ) -> None:
        """Ten hourly buckets with limit=4 arrive in pages of 4, 4 and 2 via next_page."""
        fake.add_api_key("ci")
        report = admin.usage_report.messages(
            starting_at="2025-01-01T00:00:00Z",
            ending_at="2025-01-01T10:00:00Z",
            bucket_width="1h",
            limit=4,
        )
        pages = [page async for page in report.pages()]
        assert [len(page.data) for page in pages] == [4, 4, 2]
        assert [page.has_more for page in pages] == [True, True, False]
        assert pages[-1].next_page is None
        buckets = [bucket for page in pages for bucket in page.data]
        assert all(isinstance(bucket, MessagesUsageBucket) for bucket in buckets)
        assert [(b.starting_at, b.ending_at) for b in buckets] == [
            (f"2025-01-01T{h:02d}:00:00Z", f"2025-01-01T{h + 1:02d}:00:00Z") for h in range(10)
        ]
        sent_pages = [q.get("page") for q in queries(server, f"{ORG}/usage_report/messages")]
        assert sent_pages == [None, [pages[0].next_page], [pages[1].next_page]]

    async def test_starting_at_is_snapped_to_the_bucket(
        self, fake: FakeAdmin, admin: Admin
    ) -> None:
        """Buckets start at the whole minute, hour or day (UTC) containing starting_at."""
        report = admin.usage_report.messages(
            starting_at="2025-01-01T05:17:42Z", ending_at="2025-01-01T08:00:00Z", bucket_width="1h"
        )
        starts = [bucket.starting_at for bucket in await report.to_list()]
        assert starts == ["2025-01-01T05:00:00Z", "2025-01-01T06:00:00Z", "2025-01-01T07:00:00Z"]

    async def test_without_group_by_one_row_per_bucket(self, fake: FakeAdmin, admin: Admin) -> None:
        """Ungrouped, each bucket has one row whose dimensions are all null."""
        fake.add_api_key("ci")
        buckets = await admin.usage_report.messages(
            starting_at="2025-01-01", ending_at="2025-01-03"
        ).to_list()
        assert [len(bucket.results) for bucket in buckets] == [1, 1]
        row = buckets[0].results[0]
        assert (row.model, row.workspace_id, row.api_key_id, row.service_tier) == (
            None,
            None,
            None,
            None,
        )
        assert row.output_tokens > 0

    async def test_group_by_splits_and_preserves_totals(
        self, fake: FakeAdmin, admin: Admin
    ) -> None:
        """group_by=model gives one row per model; their sums equal the ungrouped row."""
        fake.add_api_key("a")
        fake.add_api_key("b")
        span: dict[str, Any] = {"starting_at": "2025-01-01", "ending_at": "2025-01-02"}
        (total,) = (await admin.usage_report.messages(**span).to_list())[0].results
        grouped = (await admin.usage_report.messages(**span, group_by="model").to_list())[0]
        assert sorted(str(row.model) for row in grouped.results) == sorted([SONNET, HAIKU])
        assert all(row.workspace_id is None and row.api_key_id is None for row in grouped.results)
        for field in ("uncached_input_tokens", "output_tokens", "cache_read_input_tokens"):
            assert sum(getattr(row, field) for row in grouped.results) == getattr(total, field)

    async def test_group_by_workspace_and_filters(self, fake: FakeAdmin, admin: Admin) -> None:
        """Filters restrict rows; group_by[] names the dimensions that stay set."""
        workspace = await admin.workspaces.create(name="prod")
        key_a = fake.add_api_key("a", workspace_id=workspace.id)["id"]
        fake.add_api_key("b")
        (bucket,) = await admin.usage_report.messages(
            starting_at="2025-01-01",
            ending_at="2025-01-02",
            group_by=["workspace_id", "model"],
            models=[HAIKU],
        ).to_list()
        assert {(row.workspace_id, row.model) for row in bucket.results} == {
            (None, HAIKU),
            (workspace.id, HAIKU),
        }
        (bucket,) = await admin.usage_report.messages(
            starting_at="2025-01-01",
            ending_at="2025-01-02",
            group_by="api_key_id",
            api_key_ids=key_a,
        ).to_list()
        assert [row.api_key_id for row in bucket.results] == [key_a]

    async def test_reports_are_deterministic(self, fake: FakeAdmin, admin: Admin) -> None:
        """The same request twice gets the same numbers."""
        fake.add_api_key("ci")
        args: dict[str, Any] = {
            "starting_at": "2025-01-01",
            "ending_at": "2025-01-04",
            "group_by": ["model"],
        }
        first = [sluice.to_builtins(b) for b in await admin.usage_report.messages(**args).to_list()]
        again = [sluice.to_builtins(b) for b in await admin.usage_report.messages(**args).to_list()]
        assert first == again

    async def test_page_resumes_a_report(self, fake: FakeAdmin, admin: Admin) -> None:
        """page= resumes from a next_page token of an earlier call."""
        args: dict[str, Any] = {"starting_at": "2025-01-01", "ending_at": "2025-01-06", "limit": 2}
        first = await admin.usage_report.messages(**args).first_page()
        assert first.next_page is not None
        rest = await admin.usage_report.messages(**args, page=first.next_page).to_list()
        assert [bucket.starting_at[:10] for bucket in rest] == [
            "2025-01-03",
            "2025-01-04",
            "2025-01-05",
        ]

    async def test_unknown_group_by_is_a_bad_request(self, admin: Admin) -> None:
        """group_by values pass through unchecked; the server's 400 is a BadRequestError."""
        with pytest.raises(sluice.BadRequestError, match="group_by"):
            await admin.usage_report.messages(
                starting_at="2025-01-01", group_by=["colour"]
            ).first_page()

    async def test_extra_query_is_sent_as_given(
        self, sent: list[httpx.Request], admin: Admin
    ) -> None:
        """extra_query adds parameters newer than this version, as repeated keys for lists."""
        await admin.usage_report.messages(
            starting_at="2025-01-01",
            ending_at="2025-01-02",
            extra_query={"inference_geos[]": ["us", "global"]},
        ).first_page()
        assert raw_query(sent[-1]).endswith("&inference_geos%5B%5D=us&inference_geos%5B%5D=global")


class TestCostReport:
    async def test_exact_query_and_pages(
        self, server: MockAnthropic, fake: FakeAdmin, sent: list[httpx.Request], admin: Admin
    ) -> None:
        """group_by[] repeats; ten days with limit=4 come in pages of 4, 4 and 2."""
        fake.add_api_key("ci")
        report = admin.cost_report(
            starting_at=date(2025, 1, 1),
            ending_at=date(2025, 1, 11),
            bucket_width="1d",
            group_by=["workspace_id", "description"],
            limit=4,
        )
        pages = [page async for page in report.pages()]
        assert raw_query(sent[0]) == (
            "starting_at=2025-01-01T00%3A00%3A00Z&ending_at=2025-01-11T00%3A00%3A00Z"
            "&bucket_width=1d&group_by%5B%5D=workspace_id&group_by%5B%5D=description&limit=4"
        )
        assert [len(page.data) for page in pages] == [4, 4, 2]
        assert queries(server, f"{ORG}/cost_report")[2]["page"] == [pages[1].next_page]
        buckets = [bucket for page in pages for bucket in page.data]
        assert all(isinstance(bucket, CostReportBucket) for bucket in buckets)
        assert buckets[-1].ending_at == "2025-01-11T00:00:00Z"

    async def test_description_rows_carry_cost_details(self, fake: FakeAdmin, admin: Admin) -> None:
        """Grouped by description, rows name the model and token type; amounts add up."""
        fake.add_api_key("ci")
        span: dict[str, Any] = {"starting_at": "2025-01-01", "ending_at": "2025-01-02"}
        (total,) = (await admin.cost_report(**span).to_list())[0].results
        (bucket,) = await admin.cost_report(**span, group_by=["description"]).to_list()
        tokens = [row for row in bucket.results if row.cost_type == "tokens"]
        assert {row.model for row in tokens} == {SONNET, HAIKU}
        assert "output_tokens" in {row.token_type for row in tokens}
        assert all(row.currency == "USD" for row in bucket.results)
        grouped = sum(Decimal(row.amount) for row in bucket.results)
        assert abs(grouped - Decimal(total.amount)) <= Decimal("0.01") * len(bucket.results)
        assert total.description is None

    @pytest.mark.parametrize(
        ("kwargs", "param"),
        [
            ({"bucket_width": "1h"}, "bucket_width"),
            ({"limit": 32}, "limit"),
            ({"limit": 0}, "limit"),
        ],
    )
    async def test_bad_parameters_raise(
        self, admin: Admin, kwargs: dict[str, Any], param: str
    ) -> None:
        """Only daily buckets exist, and limit is 1 to 31."""
        with pytest.raises(AdminParamsError) as caught:
            admin.cost_report(starting_at="2025-01-01", **kwargs)
        assert caught.value.param == param


class TestClaudeCodeReport:
    @pytest.mark.parametrize(
        ("given", "day"),
        [
            (date(2025, 9, 8), "2025-09-08"),
            ("2025-09-08", "2025-09-08"),
            (datetime(2025, 9, 8, 23, 30, tzinfo=timezone(timedelta(hours=-2))), "2025-09-09"),
            ("2025-09-08T01:00:00+02:00", "2025-09-07"),
        ],
    )
    async def test_starting_at_is_a_utc_day(
        self, sent: list[httpx.Request], admin: Admin, given: Any, day: str
    ) -> None:
        """The report's day is sent as YYYY-MM-DD, taken in UTC."""
        await admin.usage_report.claude_code(starting_at=given, limit=5).first_page()
        assert raw_query(sent[-1]) == f"starting_at={day}&limit=5"

    async def test_records_walk_several_pages(
        self, server: MockAnthropic, fake: FakeAdmin, admin: Admin
    ) -> None:
        """Three users and two keys with limit=2 come in three pages, users first."""
        add_users(fake, 3)
        fake.add_api_key("ci")
        fake.add_api_key("bot")
        pages = [
            page
            async for page in admin.usage_report.claude_code(
                starting_at="2025-09-08", limit=2
            ).pages()
        ]
        assert [len(page.data) for page in pages] == [2, 2, 1]
        records = [record for page in pages for record in page.data]
        assert all(isinstance(record, ClaudeCodeUsageRecord) for record in records)
        assert [record.actor.type for record in records] == ["user_actor"] * 3 + ["api_actor"] * 2
        assert records[0].actor.email_address == "user0@example.com"
        assert records[-1].actor.api_key_name == "bot"
        assert records[0].date == "2025-09-08T00:00:00Z"
        assert [m.model for m in records[0].model_breakdown] == [SONNET, HAIKU]
        sent_pages = [q.get("page") for q in queries(server, f"{ORG}/usage_report/claude_code")]
        assert sent_pages == [None, [pages[0].next_page], [pages[1].next_page]]

    async def test_record_keeps_integer_costs(self, fake: FakeAdmin, admin: Admin) -> None:
        """Estimated costs written as integers are written back as integers."""
        fake.add_user("ada@example.com")
        (record,) = await admin.usage_report.claude_code(starting_at="2025-09-08").to_list()
        cost = sluice.to_builtins(record)["model_breakdown"][0]["estimated_cost"]["amount"]
        assert isinstance(cost, int)

    @pytest.mark.parametrize("limit", [0, 1001])
    async def test_limit_bounds(self, admin: Admin, limit: int) -> None:
        """limit is 1 to 1000 records."""
        with pytest.raises(AdminParamsError, match="1 to 1000"):
            admin.usage_report.claude_code(starting_at="2025-09-08", limit=limit)


class TestFake:
    """The fake's own checks, with raw requests that bypass the client's validation."""

    @pytest.fixture
    async def http(
        self, server: MockAnthropic, fake: FakeAdmin
    ) -> AsyncIterator[httpx.AsyncClient]:
        headers = {"x-api-key": ADMIN_KEY, "anthropic-version": "2023-06-01"}
        async with httpx.AsyncClient(
            base_url=server.base_url, headers=headers, verify=TLS, timeout=10.0
        ) as client:
            yield client

    async def test_arrays_without_brackets_are_refused(self, http: httpx.AsyncClient) -> None:
        """group_by=model (no []) is a 400, so a client that drops the brackets is caught."""
        response = await http.get(
            f"{ORG}/usage_report/messages",
            params={"starting_at": "2025-01-01T00:00:00Z", "group_by": "model"},
        )
        assert response.status_code == 400
        assert response.json()["error"]["type"] == "invalid_request_error"
        assert "group_by[]" in response.json()["error"]["message"]

    @pytest.mark.parametrize(
        ("path", "params"),
        [
            ("usage_report/messages", {"starting_at": "2025-01-01T00:00:00Z", "limit": "32"}),
            (
                "usage_report/messages",
                {"starting_at": "2025-01-01T00:00:00Z", "bucket_width": "1h", "limit": "169"},
            ),
            ("usage_report/messages", {"starting_at": "2025-01-01T00:00:00"}),
            ("usage_report/messages", {}),
            ("cost_report", {"starting_at": "2025-01-01T00:00:00Z", "bucket_width": "1h"}),
            ("usage_report/claude_code", {"starting_at": "2025-01-01T00:00:00Z"}),
            ("usage_report/claude_code", {"starting_at": "2025-09-08", "page": "page_garbage"}),
            ("users", {"limit": "1001"}),
            ("workspaces", {"include_archived": "maybe"}),
        ],
    )
    async def test_invalid_queries_are_400(
        self, http: httpx.AsyncClient, path: str, params: dict[str, str]
    ) -> None:
        """Out-of-range limits, bad widths, times, tokens and flags get the API's 400 shape."""
        response = await http.get(f"{ORG}/{path}", params=params)
        assert response.status_code == 400
        body = response.json()
        assert body["type"] == "error"
        assert body["error"]["type"] == "invalid_request_error"

    async def test_unknown_endpoint_is_404(self, http: httpx.AsyncClient) -> None:
        """A path or method the Admin API does not have is a 404 not_found_error."""
        for method, path in [("GET", "nothing"), ("DELETE", "workspaces/w"), ("PUT", "me")]:
            response = await http.request(method, f"{ORG}/{path}")
            assert response.status_code == 404
            assert response.json()["error"]["type"] == "not_found_error"

    async def test_missing_key_is_401(self, server: MockAnthropic, fake: FakeAdmin) -> None:
        """No x-api-key at all is refused like a standard key."""
        async with httpx.AsyncClient(base_url=server.base_url, verify=TLS) as client:
            response = await client.get(f"{ORG}/me")
        assert response.status_code == 401
        assert response.json()["error"]["type"] == "authentication_error"

    async def test_repr_and_snapshots(self, fake: FakeAdmin) -> None:
        """The fake summarises itself, and its listings are copies."""
        fake.add_user("ada@example.com")
        fake.users[0]["email"] = "changed@example.com"
        assert fake.users[0]["email"] == "ada@example.com"
        assert repr(fake) == "<FakeAdmin 1 users, 0 invites, 0 workspaces, 0 API keys>"

    async def test_archiving_a_workspace_archives_its_keys(
        self, fake: FakeAdmin, admin: Admin
    ) -> None:
        """Keys of an archived workspace are archived and can no longer be changed."""
        workspace = await admin.workspaces.create(name="prod")
        key_id = fake.add_api_key("ci", workspace_id=workspace.id)["id"]
        await admin.workspaces.archive(workspace.id)
        assert (await admin.api_keys.get(key_id)).status == "archived"
        with pytest.raises(sluice.BadRequestError, match="archived"):
            await admin.api_keys.update(key_id, name="again")
