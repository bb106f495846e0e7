"""A stateful fake of the Admin API, served by :class:`MockAnthropic`.

:func:`install_admin` routes every ``/v1/organizations/...`` request of a started server to
a :class:`FakeAdmin`, which keeps the organization in memory and answers in the API's
shapes::

    async with MockAnthropic() as server:
        admin = install_admin(server)
        admin.add_user("ada@example.com", role="developer")
        admin.add_api_key("ci")
        ...  # point an AsyncClient(api_key="sk-ant-admin01-...") at server.base_url

What it serves:

* ``GET /me``; users (list/get/update/remove); invites (create/list/get/delete);
  workspaces (create/list/get/update/archive) and their members (add/list/get/update/
  remove); API keys (list/get/update). Users and API keys cannot be created through the
  API: the test adds them with :meth:`FakeAdmin.add_user`, :meth:`FakeAdmin.add_api_key`
  or :meth:`FakeAdmin.accept_invite`.
* The messages usage report, the cost report and the Claude Code report, generated
  deterministically from the requested range, bucket width, filters and ``group_by[]``
  (see :class:`FakeAdmin`), paginated with ``limit``, ``page``, ``next_page`` and
  ``has_more``.

Lists paginate like the API: ``limit`` (default 20, 1 to 1000), ``after_id`` or
``before_id``, answering ``{"data", "has_more", "first_id", "last_id"}``, oldest first.
A request whose ``x-api-key`` does not start with the admin prefix gets 401
``authentication_error``; invalid requests get 400 ``invalid_request_error`` and unknown
ids 404 ``not_found_error``, in the API's error shape. Array query parameters must be
sent as ``name[]``: a bare ``group_by=`` is refused with a 400, to catch clients that
drop the brackets.
"""

from __future__ import annotations

import re
import secrets
import zlib
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any, Final

from ._fakes_common import (
    Refusal,
    invalid,
    json_object,
    new_id,
    not_found,
    page_token,
    page_token_value,
    paginate,
    path_tail,
    query_limit,
    query_value,
    timestamp,
    utc_now,
)
from ._server import MockAnthropic, RecordedRequest, Reply

__all__ = ["FakeAdmin", "install_admin"]

_PREFIX: Final = "/v1/organizations/"

#: Roles the API lets an admin key grant (``admin`` is Console-only).
_ASSIGNABLE_ROLES: Final = frozenset({"user", "developer", "billing", "claude_code_user"})
_WORKSPACE_ROLES: Final = frozenset(
    {"workspace_user", "workspace_developer", "workspace_admin", "workspace_billing"}
)
_API_KEY_STATUSES: Final = frozenset({"active", "inactive", "archived"})
_INVITE_DAYS: Final = 21

#: bucket_width -> (width, default limit, max limit), per the usage report reference.
_USAGE_WIDTHS: Final = {
    "1m": (timedelta(minutes=1), 60, 1440),
    "1h": (timedelta(hours=1), 24, 168),
    "1d": (timedelta(days=1), 7, 31),
}
_COST_WIDTHS: Final = {"1d": (timedelta(days=1), 7, 31)}
_USAGE_DIMENSIONS: Final = (
    "api_key_id",
    "workspace_id",
    "model",
    "service_tier",
    "context_window",
    "inference_geo",
)
_COST_DIMENSIONS: Final = ("workspace_id", "description")
_USAGE_FILTERS: Final = {
    "models[]": "model",
    "api_key_ids[]": "api_key_id",
    "workspace_ids[]": "workspace_id",
    "service_tiers[]": "service_tier",
    "context_window[]": "context_window",
}

#: The usage the fake invents for each API key, every bucket: each combination below.
#: Prices are USD per million tokens (input, output, cache read, 5m write, 1h write).
_MODELS: Final = {
    "claude-sonnet-4-5-20250929": ("Claude Sonnet 4.5", ("3", "15", "0.30", "3.75", "6")),
    "claude-haiku-4-5-20251001": ("Claude Haiku 4.5", ("1", "5", "0.10", "1.25", "2")),
}
_SERVICE_TIERS: Final = ("standard", "batch")
_CONTEXT_WINDOWS: Final = ("0-200k", "200k-1M")
_TOKEN_TYPES: Final = (
    ("uncached_input_tokens", "Input Tokens"),
    ("output_tokens", "Output Tokens"),
    ("cache_read_input_tokens", "Cache Read Tokens"),
    ("cache_creation.ephemeral_5m_input_tokens", "5m Cache Write Tokens"),
    ("cache_creation.ephemeral_1h_input_tokens", "1h Cache Write Tokens"),
)
#: Web search costs $10 per 1,000 requests: one cent each.
_WEB_SEARCH_CENTS: Final = Decimal(1)
_TERMINALS: Final = ("vscode", "iTerm.app", "tmux")
_DAY_RE: Final = re.compile(r"\d{4}-\d{2}-\d{2}")


def _bucket_time(moment: datetime) -> str:
    # Report buckets are whole minutes: "2025-01-01T00:00:00Z".
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _number(seed: str, modulo: int) -> int:
    """A deterministic pseudo-random number in ``range(modulo)`` (``hash()`` is salted)."""
    return zlib.crc32(seed.encode()) % modulo


# --------------------------------------------------------------------------- query parsing


def _flag(query: Mapping[str, list[str]], name: str) -> bool:
    raw = query_value(query, name)
    if raw is None:
        return False
    if raw.lower() not in ("true", "false"):
        raise invalid(f"{name}: Input should be a valid boolean, got {raw!r}")
    return raw.lower() == "true"


def _array(query: Mapping[str, list[str]], name: str) -> list[str]:
    """An array parameter; it must arrive as ``name[]``, like the API's examples."""
    bare = name.removesuffix("[]")
    if bare in query:
        raise invalid(f"{bare}: array parameters are sent as '{bare}[]=value', not '{bare}='")
    return list(query.get(name, []))


def _time(query: Mapping[str, list[str]], name: str) -> datetime | None:
    raw = query_value(query, name)
    if raw is None:
        return None
    try:
        moment = datetime.fromisoformat(raw)
    except ValueError:
        raise invalid(f"{name}: Input should be a valid datetime, got {raw!r}") from None
    if moment.utcoffset() is None:
        raise invalid(f"{name}: timezone information is required, got {raw!r}")
    return moment.astimezone(UTC)


def _page_start(token: str) -> datetime:
    """The bucket start a report's ``page`` token carries."""
    text = page_token_value(token)
    try:
        return datetime.fromisoformat(text).astimezone(UTC)
    except ValueError:
        raise invalid(f"page: invalid page token {token!r}") from None


def _snap(moment: datetime, width: timedelta) -> datetime:
    """The start of the minute, hour or day (UTC) that contains ``moment``."""
    if width >= timedelta(days=1):
        return moment.replace(hour=0, minute=0, second=0, microsecond=0)
    if width >= timedelta(hours=1):
        return moment.replace(minute=0, second=0, microsecond=0)
    return moment.replace(second=0, microsecond=0)


def _cursor_page(items: Sequence[dict[str, Any]], query: Mapping[str, list[str]]) -> Reply:
    """One page of ``items`` for the request's ``limit``/``after_id``/``before_id``."""
    return paginate(items, query, key=_key)


def _key(item: Mapping[str, Any]) -> str:
    """The cursor of a listed object (workspace members are keyed by user id)."""
    return str(item["id"] if "id" in item else item["user_id"])


# ------------------------------------------------------------------------------ the fake


class FakeAdmin:
    """The in-memory organization behind :func:`install_admin`, with hooks for the test.

    Reports are invented, deterministically: every API key the fake holds (whatever its
    status) used each model of :data:`_MODELS` in each service tier and context window in
    every time bucket, with token counts derived from a checksum of the bucket start and
    the combination. So the same request always gets the same numbers, filters remove
    combinations, ``group_by[]`` sums over the dimensions it does not name (setting them
    to ``null``), and the cost report prices the same tokens. With no ``group_by[]`` a
    bucket has one row (zeros if there are no keys). The Claude Code report has one
    record per user and per API key.

    Attributes:
        admin_key_prefix: ``x-api-key`` values starting with this are admin keys.
        organization: the organization object served by ``GET /me``.
        now: the end of a report whose request has no ``ending_at`` (the API uses the
            current time; set it to make such reports reproducible).
    """

    def __init__(
        self,
        *,
        admin_key_prefix: str = "sk-ant-admin",
        organization_name: str = "Fake Organization",
        now: datetime | None = None,
    ) -> None:
        if not admin_key_prefix:
            raise ValueError("admin_key_prefix must not be empty")
        self.admin_key_prefix = admin_key_prefix
        self.organization: dict[str, Any] = {
            "type": "organization",
            "id": "12345678-1234-5678-1234-567812345678",
            "name": organization_name,
        }
        self.now = now or utc_now()
        self._users: dict[str, dict[str, Any]] = {}
        self._invites: dict[str, dict[str, Any]] = {}
        self._workspaces: dict[str, dict[str, Any]] = {}
        # workspace id -> user id -> membership
        self._members: dict[str, dict[str, dict[str, Any]]] = {}
        self._api_keys: dict[str, dict[str, Any]] = {}

    def __repr__(self) -> str:
        return (
            f"<FakeAdmin {len(self._users)} users, {len(self._invites)} invites, "
            f"{len(self._workspaces)} workspaces, {len(self._api_keys)} API keys>"
        )

    # -- hooks for the test

    @property
    def users(self) -> list[dict[str, Any]]:
        """The users, oldest first (copies)."""
        return [dict(user) for user in self._users.values()]

    @property
    def invites(self) -> list[dict[str, Any]]:
        """The invites, oldest first (copies)."""
        return [dict(invite) for invite in self._invites.values()]

    @property
    def workspaces(self) -> list[dict[str, Any]]:
        """The workspaces, archived ones included, oldest first (copies)."""
        return [dict(workspace) for workspace in self._workspaces.values()]

    @property
    def api_keys(self) -> list[dict[str, Any]]:
        """The API keys, oldest first (copies)."""
        return [dict(key) for key in self._api_keys.values()]

    def add_user(
        self, email: str, *, name: str | None = None, role: str = "user"
    ) -> dict[str, Any]:
        """Add a member to the organization (the API has no endpoint for this).

        Returns the user object as the API serves it.
        """
        user = {
            "type": "user",
            "id": new_id("user"),
            "email": email,
            "name": name if name is not None else email.partition("@")[0],
            "role": role,
            "added_at": timestamp(utc_now()),
        }
        self._users[user["id"]] = user
        return dict(user)

    def add_api_key(
        self,
        name: str,
        *,
        workspace_id: str | None = None,
        created_by: str | None = None,
        status: str = "active",
    ) -> dict[str, Any]:
        """Add an API key (keys are created in the Console, not through the API).

        Args:
            name: the key's name.
            workspace_id: its workspace (``None``: the default workspace).
            created_by: the id of the user who created it (default: the first user, if any).
            status: ``"active"``, ``"inactive"`` or ``"archived"``.

        Raises:
            KeyError: ``workspace_id`` is not a workspace of the fake.
        """
        if workspace_id is not None and workspace_id not in self._workspaces:
            raise KeyError(workspace_id)
        creator = created_by or next(iter(self._users), None)
        key: dict[str, Any] = {
            "type": "api_key",
            "id": new_id("apikey"),
            "name": name,
            "workspace_id": workspace_id,
            "created_at": timestamp(utc_now()),
            "created_by": {"id": creator, "type": "user"} if creator else None,
            "partial_key_hint": f"sk-ant-api03-{secrets.token_hex(2)}...{secrets.token_hex(2)}",
            "status": status,
        }
        self._api_keys[key["id"]] = key
        return dict(key)

    def accept_invite(self, invite_id: str) -> dict[str, Any]:
        """Accept a pending invite: its email joins the organization with its role.

        Returns the new user object.

        Raises:
            KeyError: no such invite.
            ValueError: the invite is not pending.
        """
        invite = self._invites[invite_id]
        if invite["status"] != "pending":
            raise ValueError(f"invite {invite_id} is {invite['status']}, not pending")
        invite["status"] = "accepted"
        return self.add_user(invite["email"], role=invite["role"])

    # -- dispatch

    def handle(self, request: RecordedRequest) -> Reply:
        """Answer one request under ``/v1/organizations/`` (the route's reply function)."""
        key = request.headers.get("x-api-key", "")
        if not key.startswith(self.admin_key_prefix):
            return Reply.error(
                401,
                "authentication_error",
                "invalid x-api-key: the Admin API requires an Admin API key (sk-ant-admin...)",
            )
        parts = path_tail(request, _PREFIX)
        try:
            handler = self._handler(request.method, parts)
            return handler(request)
        except Refusal as refusal:
            return refusal.reply

    def _handler(self, method: str, parts: list[str]) -> Callable[[RecordedRequest], Reply]:
        match method, parts:
            case "GET", ["me"]:
                return lambda request: Reply.json(self.organization)
            case "GET", ["users"]:
                return self._list_users
            case "GET", ["users", user_id]:
                return lambda request: Reply.json(self._user(user_id))
            case "POST", ["users", user_id]:
                return lambda request: self._update_user(user_id, request)
            case "DELETE", ["users", user_id]:
                return lambda request: self._remove_user(user_id)
            case "POST", ["invites"]:
                return self._create_invite
            case "GET", ["invites"]:
                return lambda request: _cursor_page(list(self._invites.values()), request.query)
            case "GET", ["invites", invite_id]:
                return lambda request: Reply.json(self._invite(invite_id))
            case "DELETE", ["invites", invite_id]:
                return lambda request: self._delete_invite(invite_id)
            case "POST", ["workspaces"]:
                return self._create_workspace
            case "GET", ["workspaces"]:
                return self._list_workspaces
            case "GET", ["workspaces", workspace_id]:
                return lambda request: Reply.json(self._workspace(workspace_id))
            case "POST", ["workspaces", workspace_id]:
                return lambda request: self._update_workspace(workspace_id, request)
            case "POST", ["workspaces", workspace_id, "archive"]:
                return lambda request: self._archive_workspace(workspace_id)
            case "POST", ["workspaces", workspace_id, "members"]:
                return lambda request: self._add_member(workspace_id, request)
            case "GET", ["workspaces", workspace_id, "members"]:
                return lambda request: self._list_members(workspace_id, request)
            case "GET", ["workspaces", workspace_id, "members", user_id]:
                return lambda request: Reply.json(self._member(workspace_id, user_id))
            case "POST", ["workspaces", workspace_id, "members", user_id]:
                return lambda request: self._update_member(workspace_id, user_id, request)
            case "DELETE", ["workspaces", workspace_id, "members", user_id]:
                return lambda request: self._remove_member(workspace_id, user_id)
            case "GET", ["api_keys"]:
                return self._list_api_keys
            case "GET", ["api_keys", key_id]:
                return lambda request: Reply.json(self._api_key(key_id))
            case "POST", ["api_keys", key_id]:
                return lambda request: self._update_api_key(key_id, request)
            case "GET", ["usage_report", "messages"]:
                return self._usage_report
            case "GET", ["cost_report"]:
                return self._cost_report
            case "GET", ["usage_report", "claude_code"]:
                return self._claude_code_report
        raise not_found(
            f"sluice.testing: no Admin API endpoint {method} {_PREFIX}{'/'.join(parts)}"
        )

    # -- lookups

    def _user(self, user_id: str) -> dict[str, Any]:
        user = self._users.get(user_id)
        if user is None:
            raise not_found(f"user: {user_id!r} not found")
        return user

    def _invite(self, invite_id: str) -> dict[str, Any]:
        invite = self._invites.get(invite_id)
        if invite is None:
            raise not_found(f"invite: {invite_id!r} not found")
        return invite

    def _workspace(self, workspace_id: str) -> dict[str, Any]:
        workspace = self._workspaces.get(workspace_id)
        if workspace is None:
            raise not_found(f"workspace: {workspace_id!r} not found")
        return workspace

    def _member(self, workspace_id: str, user_id: str) -> dict[str, Any]:
        self._workspace(workspace_id)
        member = self._members[workspace_id].get(user_id)
        if member is None:
            raise not_found(f"workspace member: {user_id!r} is not in {workspace_id!r}")
        return member

    def _api_key(self, key_id: str) -> dict[str, Any]:
        key = self._api_keys.get(key_id)
        if key is None:
            raise not_found(f"api_key: {key_id!r} not found")
        return key

    # -- users and invites

    def _list_users(self, request: RecordedRequest) -> Reply:
        email = query_value(request.query, "email")
        users = [
            user
            for user in self._users.values()
            if email is None or user["email"].lower() == email.lower()
        ]
        return _cursor_page(users, request.query)

    def _update_user(self, user_id: str, request: RecordedRequest) -> Reply:
        user = self._user(user_id)
        body = json_object(request, required=("role",))
        _check_role(body["role"])
        user["role"] = body["role"]
        return Reply.json(user)

    def _remove_user(self, user_id: str) -> Reply:
        self._user(user_id)
        del self._users[user_id]
        for members in self._members.values():
            members.pop(user_id, None)
        return Reply.json({"type": "user_deleted", "id": user_id})

    def _create_invite(self, request: RecordedRequest) -> Reply:
        body = json_object(request, required=("email", "role"))
        email = body["email"]
        if not isinstance(email, str) or "@" not in email:
            raise invalid(f"email: value is not a valid email address: {email!r}")
        _check_role(body["role"])
        now = utc_now()
        invite = {
            "type": "invite",
            "id": new_id("invite"),
            "email": email,
            "role": body["role"],
            "invited_at": timestamp(now),
            "expires_at": timestamp(now + timedelta(days=_INVITE_DAYS)),
            "status": "pending",
        }
        self._invites[invite["id"]] = invite
        return Reply.json(invite)

    def _delete_invite(self, invite_id: str) -> Reply:
        self._invite(invite_id)
        del self._invites[invite_id]
        return Reply.json({"type": "invite_deleted", "id": invite_id})

    # -- workspaces and members

    def _list_workspaces(self, request: RecordedRequest) -> Reply:
        archived = _flag(request.query, "include_archived")
        workspaces = [
            workspace
            for workspace in self._workspaces.values()
            if archived or workspace["archived_at"] is None
        ]
        return _cursor_page(workspaces, request.query)

    def _create_workspace(self, request: RecordedRequest) -> Reply:
        body = json_object(request, required=("name",))
        name = _name(body["name"])
        workspace: dict[str, Any] = {
            "type": "workspace",
            "id": new_id("wrkspc"),
            "name": name,
            "created_at": timestamp(utc_now()),
            "archived_at": None,
            "display_color": f"#{_number(name, 0xFFFFFF):06X}",
        }
        if body.get("data_residency") is not None:
            workspace["data_residency"] = body["data_residency"]
        self._workspaces[workspace["id"]] = workspace
        self._members[workspace["id"]] = {}
        return Reply.json(workspace)

    def _update_workspace(self, workspace_id: str, request: RecordedRequest) -> Reply:
        workspace = self._workspace(workspace_id)
        body = json_object(request, required=("name",))
        if workspace["archived_at"] is not None:
            raise invalid(f"workspace {workspace_id!r} is archived and cannot be modified")
        workspace["name"] = _name(body["name"])
        return Reply.json(workspace)

    def _archive_workspace(self, workspace_id: str) -> Reply:
        workspace = self._workspace(workspace_id)
        if workspace["archived_at"] is None:
            workspace["archived_at"] = timestamp(utc_now())
            for key in self._api_keys.values():
                if key["workspace_id"] == workspace_id:
                    key["status"] = "archived"
        return Reply.json(workspace)

    def _list_members(self, workspace_id: str, request: RecordedRequest) -> Reply:
        self._workspace(workspace_id)
        return _cursor_page(list(self._members[workspace_id].values()), request.query)

    def _add_member(self, workspace_id: str, request: RecordedRequest) -> Reply:
        self._workspace(workspace_id)
        body = json_object(request, required=("user_id", "workspace_role"))
        user_id, role = body["user_id"], body["workspace_role"]
        if not isinstance(user_id, str) or user_id not in self._users:
            raise not_found(f"user: {user_id!r} not found")
        if role == "workspace_billing" or role not in _WORKSPACE_ROLES:
            raise invalid(f"workspace_role: {role!r} cannot be assigned when adding a member")
        if user_id in self._members[workspace_id]:
            raise invalid(f"user {user_id!r} is already a member of workspace {workspace_id!r}")
        member = {
            "type": "workspace_member",
            "user_id": user_id,
            "workspace_id": workspace_id,
            "workspace_role": role,
        }
        self._members[workspace_id][user_id] = member
        return Reply.json(member)

    def _update_member(self, workspace_id: str, user_id: str, request: RecordedRequest) -> Reply:
        member = self._member(workspace_id, user_id)
        body = json_object(request, required=("workspace_role",))
        if body["workspace_role"] not in _WORKSPACE_ROLES:
            raise invalid(f"workspace_role: invalid role {body['workspace_role']!r}")
        member["workspace_role"] = body["workspace_role"]
        return Reply.json(member)

    def _remove_member(self, workspace_id: str, user_id: str) -> Reply:
        self._member(workspace_id, user_id)
        del self._members[workspace_id][user_id]
        return Reply.json(
            {"type": "workspace_member_deleted", "user_id": user_id, "workspace_id": workspace_id}
        )

    # -- API keys

    def _list_api_keys(self, request: RecordedRequest) -> Reply:
        query = request.query
        status = query_value(query, "status")
        workspace_id = query_value(query, "workspace_id")
        creator = query_value(query, "created_by_user_id")
        keys = [
            key
            for key in self._api_keys.values()
            if (status is None or key["status"] == status)
            and (workspace_id is None or key["workspace_id"] == workspace_id)
            and (creator is None or (key["created_by"] or {}).get("id") == creator)
        ]
        return _cursor_page(keys, query)

    def _update_api_key(self, key_id: str, request: RecordedRequest) -> Reply:
        key = self._api_key(key_id)
        body = json_object(request, required=())
        if key["status"] == "archived":
            raise invalid(f"api_key {key_id!r} is archived and cannot be modified")
        if "status" in body and body["status"] not in _API_KEY_STATUSES:
            raise invalid(f"status: invalid API key status {body['status']!r}")
        if "name" in body:
            key["name"] = _name(body["name"])
        if "status" in body:
            key["status"] = body["status"]
        return Reply.json(key)

    # -- reports

    def _buckets(
        self,
        query: Mapping[str, list[str]],
        widths: Mapping[str, tuple[timedelta, int, int]],
    ) -> tuple[list[datetime], timedelta, str | None]:
        """The bucket starts of this page, the width, and the next page's token."""
        start = _time(query, "starting_at")
        if start is None:
            raise invalid("starting_at: Field required")
        end = _time(query, "ending_at") or self.now
        width_name = query_value(query, "bucket_width") or "1d"
        if width_name not in widths:
            allowed = ", ".join(repr(name) for name in widths)
            raise invalid(f"bucket_width: Input should be {allowed}, got {width_name!r}")
        width, default, maximum = widths[width_name]
        limit = query_limit(query, default=default, maximum=maximum)
        first = _snap(start, width)
        token = query_value(query, "page")
        cursor = first if token is None else _page_start(token)
        if cursor < first or (cursor - first) % width:
            raise invalid(f"page: token {token!r} does not belong to this report")
        starts: list[datetime] = []
        while cursor + width <= end and len(starts) < limit:
            starts.append(cursor)
            cursor += width
        next_page = page_token(_bucket_time(cursor)) if cursor + width <= end else None
        return starts, width, next_page

    def _usage_rows(
        self, bucket: datetime, filters: Mapping[str, list[str]]
    ) -> list[dict[str, Any]]:
        """The invented usage of one bucket, one row per key, model, tier and window."""
        rows: list[dict[str, Any]] = []
        for key in self._api_keys.values():
            for model in _MODELS:
                for tier in _SERVICE_TIERS:
                    for window in _CONTEXT_WINDOWS:
                        dims = {
                            "api_key_id": key["id"],
                            "workspace_id": key["workspace_id"],
                            "model": model,
                            "service_tier": tier,
                            "context_window": window,
                            "inference_geo": "global",
                        }
                        if any(
                            values and dims[dim] not in values for dim, values in filters.items()
                        ):
                            continue
                        seed = f"{_bucket_time(bucket)}|{key['id']}|{model}|{tier}|{window}"
                        rows.append(
                            {
                                **dims,
                                "uncached_input_tokens": _number(seed + "|in", 5000),
                                "output_tokens": _number(seed + "|out", 2000),
                                "cache_read_input_tokens": _number(seed + "|read", 3000),
                                "ephemeral_5m_input_tokens": _number(seed + "|5m", 1000),
                                "ephemeral_1h_input_tokens": _number(seed + "|1h", 500),
                                "web_search_requests": _number(seed + "|web", 5),
                            }
                        )
        return rows

    def _usage_filters(self, query: Mapping[str, list[str]]) -> dict[str, list[str]]:
        return {dim: _array(query, name) for name, dim in _USAGE_FILTERS.items()}

    def _usage_report(self, request: RecordedRequest) -> Reply:
        query = request.query
        group_by = _group_by(query, _USAGE_DIMENSIONS)
        filters = self._usage_filters(query)
        starts, width, next_page = self._buckets(query, _USAGE_WIDTHS)
        data = []
        for bucket in starts:
            groups: dict[tuple[Any, ...], dict[str, Any]] = {}
            if not group_by:
                groups[()] = _usage_result({})
            for row in self._usage_rows(bucket, filters):
                key = tuple(row[dim] for dim in group_by)
                if key not in groups:
                    groups[key] = _usage_result(dict(zip(group_by, key, strict=True)))
                _add_usage(groups[key], row)
            data.append(_bucket(bucket, width, [groups[key] for key in sorted(groups, key=_order)]))
        return Reply.json({"data": data, "has_more": next_page is not None, "next_page": next_page})

    def _cost_report(self, request: RecordedRequest) -> Reply:
        query = request.query
        group_by = _group_by(query, _COST_DIMENSIONS)
        starts, width, next_page = self._buckets(query, _COST_WIDTHS)
        data = []
        for bucket in starts:
            groups: dict[tuple[Any, ...], tuple[dict[str, Any], Decimal]] = {}
            if not group_by:
                groups[_cost_key({})] = (_cost_result({}), Decimal(0))
            for item in _cost_items(self._usage_rows(bucket, {})):
                fields = {dim: item[dim] for dim in group_by}
                if "description" in fields:
                    # A description row is one model, token type, tier and window.
                    fields.update(item["detail"])
                key = _cost_key(fields)
                result, total = groups.get(key, (_cost_result(fields), Decimal(0)))
                groups[key] = (result, total + item["amount"])
            results = []
            for key in sorted(groups, key=_order):
                result, total = groups[key]
                results.append({**result, "amount": str(total.quantize(Decimal("0.01")))})
            data.append(_bucket(bucket, width, results))
        return Reply.json({"data": data, "has_more": next_page is not None, "next_page": next_page})

    def _claude_code_report(self, request: RecordedRequest) -> Reply:
        query = request.query
        raw = query_value(query, "starting_at")
        if raw is None:
            raise invalid("starting_at: Field required")
        if not _DAY_RE.fullmatch(raw):
            raise invalid(f"starting_at: Input should be a date in YYYY-MM-DD format, got {raw!r}")
        try:
            day = date.fromisoformat(raw)
        except ValueError:
            raise invalid(f"starting_at: invalid date {raw!r}") from None
        limit = query_limit(query)
        actors: list[dict[str, str]] = [
            {"type": "user_actor", "email_address": user["email"]} for user in self._users.values()
        ]
        actors += [
            {"type": "api_actor", "api_key_name": key["name"]} for key in self._api_keys.values()
        ]
        token = query_value(query, "page")
        offset = 0
        if token is not None:
            text = page_token_value(token)
            try:
                offset = int(text)
            except ValueError:
                raise invalid(f"page: invalid page token {token!r}") from None
            if not 0 <= offset < len(actors):
                raise invalid(f"page: token {token!r} does not belong to this report")
        page = actors[offset : offset + limit]
        after = offset + len(page)
        next_page = page_token(str(after)) if after < len(actors) else None
        data = [self._claude_code_record(day, actor) for actor in page]
        return Reply.json({"data": data, "has_more": next_page is not None, "next_page": next_page})

    def _claude_code_record(self, day: date, actor: Mapping[str, str]) -> dict[str, Any]:
        seed = f"{day.isoformat()}|{actor.get('email_address') or actor.get('api_key_name')}"
        breakdown = []
        for model in _MODELS:
            tokens = {
                part: _number(f"{seed}|{model}|{part}", 50_000)
                for part in ("input", "output", "cache_read", "cache_creation")
            }
            breakdown.append(
                {
                    "model": model,
                    "tokens": tokens,
                    "estimated_cost": {"currency": "USD", "amount": _number(seed + model, 500)},
                }
            )
        return {
            "date": f"{day.isoformat()}T00:00:00Z",
            "actor": dict(actor),
            "organization_id": self.organization["id"],
            "customer_type": "api",
            "terminal_type": _TERMINALS[_number(seed + "|terminal", len(_TERMINALS))],
            "core_metrics": {
                "num_sessions": _number(seed + "|sessions", 20),
                "lines_of_code": {
                    "added": _number(seed + "|added", 800),
                    "removed": _number(seed + "|removed", 300),
                },
                "commits_by_claude_code": _number(seed + "|commits", 10),
                "pull_requests_by_claude_code": _number(seed + "|prs", 4),
            },
            "tool_actions": {
                tool: {
                    "accepted": _number(f"{seed}|{tool}|yes", 50),
                    "rejected": _number(f"{seed}|{tool}|no", 10),
                }
                for tool in ("edit_tool", "multi_edit_tool", "notebook_edit_tool", "write_tool")
            },
            "model_breakdown": breakdown,
        }


# ------------------------------------------------------------------------- report helpers


def _group_by(query: Mapping[str, list[str]], allowed: Sequence[str]) -> list[str]:
    group_by = _array(query, "group_by[]")
    for dim in group_by:
        if dim not in allowed:
            names = ", ".join(repr(name) for name in allowed)
            raise invalid(f"group_by[]: Input should be {names}, got {dim!r}")
    # Repeats collapse; the order of first appearance is kept.
    return list(dict.fromkeys(group_by))


def _order(key: tuple[Any, ...]) -> tuple[str, ...]:
    # Group keys may hold None (the default workspace): sort them first, as "".
    return tuple("" if part is None else str(part) for part in key)


def _bucket(start: datetime, width: timedelta, results: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "starting_at": _bucket_time(start),
        "ending_at": _bucket_time(start + width),
        "results": results,
    }


def _usage_result(dims: Mapping[str, Any]) -> dict[str, Any]:
    result: dict[str, Any] = {dim: dims.get(dim) for dim in _USAGE_DIMENSIONS}
    result.update(
        uncached_input_tokens=0,
        cache_creation={"ephemeral_1h_input_tokens": 0, "ephemeral_5m_input_tokens": 0},
        cache_read_input_tokens=0,
        output_tokens=0,
        server_tool_use={"web_search_requests": 0},
    )
    return result


def _add_usage(result: dict[str, Any], row: Mapping[str, Any]) -> None:
    for field in ("uncached_input_tokens", "cache_read_input_tokens", "output_tokens"):
        result[field] += row[field]
    for field in ("ephemeral_1h_input_tokens", "ephemeral_5m_input_tokens"):
        result["cache_creation"][field] += row[field]
    result["server_tool_use"]["web_search_requests"] += row["web_search_requests"]


_COST_DETAIL: Final = (
    "cost_type",
    "model",
    "token_type",
    "service_tier",
    "context_window",
    "inference_geo",
)


def _cost_key(fields: Mapping[str, Any]) -> tuple[Any, ...]:
    return tuple(fields.get(dim) for dim in (*_COST_DIMENSIONS, *_COST_DETAIL))


def _cost_result(fields: Mapping[str, Any]) -> dict[str, Any]:
    result: dict[str, Any] = {"currency": "USD", "amount": "0.00"}
    for dim in (*_COST_DIMENSIONS, *_COST_DETAIL):
        result[dim] = fields.get(dim)
    return result


def _cost_items(rows: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Each usage row priced per token type, plus its web searches, in cents."""
    items: list[dict[str, Any]] = []
    million = Decimal(1_000_000)
    for row in rows:
        label, prices = _MODELS[row["model"]]
        discount = Decimal("0.5") if row["service_tier"] == "batch" else Decimal(1)
        for (token_type, token_label), price in zip(_TOKEN_TYPES, prices, strict=True):
            count = row[token_type.rpartition(".")[2]]
            items.append(
                {
                    "workspace_id": row["workspace_id"],
                    "description": f"{label} Usage - {token_label}",
                    "amount": Decimal(count) * Decimal(price) * 100 * discount / million,
                    "detail": {
                        "cost_type": "tokens",
                        "model": row["model"],
                        "token_type": token_type,
                        "service_tier": row["service_tier"],
                        "context_window": row["context_window"],
                    },
                }
            )
        items.append(
            {
                "workspace_id": row["workspace_id"],
                "description": "Web Search Usage",
                "amount": Decimal(row["web_search_requests"]) * _WEB_SEARCH_CENTS,
                "detail": {"cost_type": "web_search"},
            }
        )
    return items


# ----------------------------------------------------------------------------- bodies


def _check_role(role: object) -> None:
    if role not in _ASSIGNABLE_ROLES:
        allowed = ", ".join(sorted(_ASSIGNABLE_ROLES))
        raise invalid(f"role: {role!r} cannot be assigned through the API (use one of {allowed})")


def _name(value: object) -> str:
    if not isinstance(value, str) or not value.strip():
        raise invalid(f"name: expected a non-empty string, got {value!r}")
    return value


def install_admin(server: MockAnthropic, *, admin_key_prefix: str = "sk-ant-admin") -> FakeAdmin:
    """Serve the Admin API (everything under ``/v1/organizations/``) from memory.

    Args:
        server: a started mock server.
        admin_key_prefix: requests whose ``x-api-key`` does not start with this get 401
            ``authentication_error``, as a standard key does from the API.

    Returns:
        The :class:`FakeAdmin` holding the state, to seed users and API keys and to
        inspect what the code under test did.
    """
    fake = FakeAdmin(admin_key_prefix=admin_key_prefix)
    server.route("*", _PREFIX + "*", fake.handle)
    return fake
