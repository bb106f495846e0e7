"""``client.admin``: the Admin API, to manage an organization and read its usage and costs.

Shapes and query parameters follow the public Admin API reference: "Get Current
Organization", Users, Invites, Workspaces, Workspace Members, API Keys, "Get Messages Usage
Report", "Get Cost Report" and "Get Claude Code Usage Report". Every endpoint lives under
``/v1/organizations/`` and wants an **Admin API key** (``sk-ant-admin...``) in ``x-api-key``:
create the client with one (``AsyncClient(api_key=admin_key)``); a standard key gets a
401 :class:`~sluice.AuthenticationError`.

Two pagination styles meet here (both are :class:`~sluice._http._pagination.AsyncPaginator`):

* lists (users, invites, workspaces, members, API keys) take ``limit`` (1 to 1000) and an
  ``after_id``/``before_id`` cursor and answer ``{"data", "has_more", "first_id",
  "last_id"}``;
* reports take ``limit`` (a number of time buckets or records) and a ``page`` token and
  answer ``{"data", "has_more", "next_page"}``. A report's items are its time buckets
  (``starting_at``, ``ending_at``, ``results``); the Claude Code report's items are
  per-actor records of one day.

Parameters are checked before anything is sent, and a bad one raises
:class:`AdminParamsError` naming it: datetimes (``datetime``, ``date`` or RFC 3339 strings,
sent as RFC 3339 UTC with ``Z``), ``bucket_width``, and ``limit`` within the bounds the
reference gives for the endpoint and bucket width. Array filters go out as repeated
``key[]`` parameters (``group_by[]=model&group_by[]=workspace_id``), as the reference's
examples write them. Enumerated values (roles, ``group_by`` dimensions, service tiers...)
are passed through unchecked: the API adds new ones, and it answers an unknown one with a
400 :class:`~sluice.BadRequestError`.

Timestamps in responses stay RFC 3339 strings as sent; fields sluice does not model are
kept (``sluice.to_json`` writes them back).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, date, datetime
from typing import Any, ClassVar, Final, Literal, Unpack

import msgspec
from msgspec import UNSET, UnsetType

from .._core._exceptions import AdminParamsError
from .._core._wire import Wire
from .._http._pagination import AsyncPaginator
from .._http._requester import Requester, RequestOptions
from ._base import Resource, api_path

__all__ = [
    "APIKey",
    "APIKeyCreator",
    "APIKeys",
    "Admin",
    "AdminParamsError",
    "ClaudeCodeActor",
    "ClaudeCodeCoreMetrics",
    "ClaudeCodeEstimatedCost",
    "ClaudeCodeLinesOfCode",
    "ClaudeCodeModelBreakdown",
    "ClaudeCodeTokens",
    "ClaudeCodeToolActionCounts",
    "ClaudeCodeToolActions",
    "ClaudeCodeUsageRecord",
    "CostReportBucket",
    "CostReportResult",
    "DeletedInvite",
    "DeletedUser",
    "DeletedWorkspaceMember",
    "Invites",
    "MessagesUsageBucket",
    "MessagesUsageResult",
    "Organization",
    "OrganizationInfo",
    "OrganizationInvite",
    "OrganizationUser",
    "UsageCacheCreation",
    "UsageReport",
    "UsageServerToolUse",
    "Users",
    "Workspace",
    "WorkspaceMember",
    "WorkspaceMembers",
    "Workspaces",
]


# ---------------------------------------------------------------------- organization


class OrganizationInfo(Wire, kw_only=True, tag="organization"):
    """The organization the admin key belongs to (``GET /v1/organizations/me``)."""

    type: ClassVar[Literal["organization"]] = "organization"
    id: str
    name: str


class OrganizationUser(Wire, kw_only=True, tag="user"):
    """A member of the organization.

    Attributes:
        id: ``user_...``.
        email, name: who the user is.
        role: organization role (``"user"``, ``"developer"``, ``"billing"``, ``"admin"``,
            ``"claude_code_user"``...), a plain string so new roles are data.
        added_at: RFC 3339 time the user joined.
    """

    type: ClassVar[Literal["user"]] = "user"
    id: str
    email: str
    name: str
    role: str
    added_at: str


class DeletedUser(Wire, kw_only=True, tag="user_deleted"):
    """The answer to removing a user from the organization."""

    type: ClassVar[Literal["user_deleted"]] = "user_deleted"
    id: str


class OrganizationInvite(Wire, kw_only=True, tag="invite"):
    """An invitation to join the organization.

    Attributes:
        id: ``invite_...``.
        email, role: who is invited, with which organization role.
        invited_at, expires_at: RFC 3339 times.
        status: ``"pending"``, ``"accepted"``, ``"expired"`` or ``"deleted"``.
    """

    type: ClassVar[Literal["invite"]] = "invite"
    id: str
    email: str
    role: str
    invited_at: str
    expires_at: str
    status: str


class DeletedInvite(Wire, kw_only=True, tag="invite_deleted"):
    """The answer to deleting an invite."""

    type: ClassVar[Literal["invite_deleted"]] = "invite_deleted"
    id: str


class Workspace(Wire, kw_only=True, tag="workspace"):
    """A workspace of the organization.

    Attributes:
        id: ``wrkspc_...``.
        name: its name.
        created_at: RFC 3339 creation time.
        archived_at: RFC 3339 archive time, ``None`` while active.
        display_color: hex color shown in the Console.
        data_residency: data residency settings, when the API sends them.
    """

    type: ClassVar[Literal["workspace"]] = "workspace"
    id: str
    name: str
    created_at: str
    archived_at: str | None = None
    display_color: str | UnsetType = UNSET
    data_residency: dict[str, Any] | UnsetType = UNSET


class WorkspaceMember(Wire, kw_only=True, tag="workspace_member"):
    """A user's membership of a workspace.

    Attributes:
        workspace_role: ``"workspace_user"``, ``"workspace_developer"``,
            ``"workspace_admin"``, ``"workspace_billing"``...
    """

    type: ClassVar[Literal["workspace_member"]] = "workspace_member"
    user_id: str
    workspace_id: str
    workspace_role: str


class DeletedWorkspaceMember(Wire, kw_only=True, tag="workspace_member_deleted"):
    """The answer to removing a user from a workspace."""

    type: ClassVar[Literal["workspace_member_deleted"]] = "workspace_member_deleted"
    user_id: str
    workspace_id: str


class APIKeyCreator(Wire, kw_only=True, tag=False):
    """Who created an API key: ``type`` is ``"user"`` or ``"service_account"``."""

    id: str
    type: str


class APIKey(Wire, kw_only=True, tag="api_key"):
    """An API key of the organization (the secret itself is never returned).

    Attributes:
        id: ``apikey_...``.
        name: its name.
        status: ``"active"``, ``"inactive"``, ``"archived"`` or ``"expired"``.
        created_at: RFC 3339 creation time.
        workspace_id: its workspace; ``None`` for the default workspace.
        created_by: who created it, when recorded.
        partial_key_hint: a redacted hint such as ``"sk-ant-api03-R2D...igAA"``.
        expires_at: RFC 3339 expiry, ``None`` if it never expires (newer field).
    """

    type: ClassVar[Literal["api_key"]] = "api_key"
    id: str
    name: str
    status: str
    created_at: str
    workspace_id: str | UnsetType | None = UNSET
    created_by: APIKeyCreator | UnsetType | None = UNSET
    partial_key_hint: str | UnsetType | None = UNSET
    expires_at: str | UnsetType | None = UNSET


# ----------------------------------------------------------------------------- reports


class UsageCacheCreation(Wire, kw_only=True, tag=False):
    """Cache-write input tokens of a usage row, by cache lifetime."""

    ephemeral_1h_input_tokens: int = 0
    ephemeral_5m_input_tokens: int = 0


class UsageServerToolUse(Wire, kw_only=True, tag=False):
    """Server tool requests of a usage row."""

    web_search_requests: int = 0


class MessagesUsageResult(Wire, kw_only=True, tag=False):
    """One row of a messages usage bucket: token counts for one group.

    The dimension fields (``api_key_id``, ``workspace_id``, ``model``, ``service_tier``,
    ``context_window``, ``inference_geo``) hold the group's value when the report was
    grouped by them and ``None`` otherwise (``workspace_id`` is also ``None`` for the
    default workspace).
    """

    uncached_input_tokens: int = 0
    cache_read_input_tokens: int = 0
    cache_creation: UsageCacheCreation | UnsetType = UNSET
    output_tokens: int = 0
    server_tool_use: UsageServerToolUse | UnsetType | None = UNSET
    api_key_id: str | UnsetType | None = UNSET
    workspace_id: str | UnsetType | None = UNSET
    model: str | UnsetType | None = UNSET
    service_tier: str | UnsetType | None = UNSET
    context_window: str | UnsetType | None = UNSET
    inference_geo: str | UnsetType | None = UNSET


class MessagesUsageBucket(Wire, kw_only=True, tag=False):
    """One time bucket of the messages usage report.

    Attributes:
        starting_at, ending_at: RFC 3339 bounds (``ending_at`` exclusive).
        results: one row per group (one row in all without ``group_by``).
    """

    starting_at: str
    ending_at: str
    results: list[MessagesUsageResult]


class CostReportResult(Wire, kw_only=True, tag=False):
    """One row of a cost bucket.

    Attributes:
        amount: the cost in the lowest currency unit (cents) as a decimal string, so
            ``"123.45"`` in USD is $1.2345; parse it with ``decimal.Decimal``.
        currency: ``"USD"``.
        workspace_id: set when grouped by ``workspace_id``.
        description, cost_type, model, token_type, service_tier, context_window: set when
            grouped by ``description`` (``model`` and ``token_type`` only for token costs).
    """

    amount: str
    currency: str = "USD"
    workspace_id: str | UnsetType | None = UNSET
    description: str | UnsetType | None = UNSET
    cost_type: str | UnsetType | None = UNSET
    model: str | UnsetType | None = UNSET
    token_type: str | UnsetType | None = UNSET
    service_tier: str | UnsetType | None = UNSET
    context_window: str | UnsetType | None = UNSET
    inference_geo: str | UnsetType | None = UNSET


class CostReportBucket(Wire, kw_only=True, tag=False):
    """One day of the cost report: ``starting_at``, ``ending_at`` and its cost rows."""

    starting_at: str
    ending_at: str
    results: list[CostReportResult]


class ClaudeCodeActor(Wire, kw_only=True, tag=False):
    """Who used Claude Code.

    ``type`` is ``"user_actor"`` (with ``email_address``) or ``"api_actor"`` (with
    ``api_key_name``); one struct for both, so a new actor type decodes too.
    """

    type: str
    email_address: str | UnsetType = UNSET
    api_key_name: str | UnsetType = UNSET


class ClaudeCodeLinesOfCode(Wire, kw_only=True, tag=False):
    """Lines of code Claude Code added and removed."""

    added: int = 0
    removed: int = 0


class ClaudeCodeCoreMetrics(Wire, kw_only=True, tag=False):
    """Sessions, lines of code, commits and pull requests of one actor for one day."""

    num_sessions: int = 0
    lines_of_code: ClaudeCodeLinesOfCode | UnsetType = UNSET
    commits_by_claude_code: int = 0
    pull_requests_by_claude_code: int = 0


class ClaudeCodeToolActionCounts(Wire, kw_only=True, tag=False):
    """How many proposals of one tool the user accepted and rejected."""

    accepted: int = 0
    rejected: int = 0


class ClaudeCodeToolActions(Wire, kw_only=True, tag=False):
    """Accept/reject counts per editing tool."""

    edit_tool: ClaudeCodeToolActionCounts | UnsetType = UNSET
    multi_edit_tool: ClaudeCodeToolActionCounts | UnsetType = UNSET
    notebook_edit_tool: ClaudeCodeToolActionCounts | UnsetType = UNSET
    write_tool: ClaudeCodeToolActionCounts | UnsetType = UNSET


class ClaudeCodeTokens(Wire, kw_only=True, tag=False):
    """Tokens one model used for one actor."""

    input: int = 0
    output: int = 0
    cache_read: int = 0
    cache_creation: int = 0


class ClaudeCodeEstimatedCost(Wire, kw_only=True, tag=False):
    """Estimated cost in cents of ``currency`` (``"USD"``)."""

    amount: int | float
    currency: str = "USD"


class ClaudeCodeModelBreakdown(Wire, kw_only=True, tag=False):
    """Tokens and estimated cost of one model."""

    model: str
    tokens: ClaudeCodeTokens | UnsetType = UNSET
    estimated_cost: ClaudeCodeEstimatedCost | UnsetType = UNSET


class ClaudeCodeUsageRecord(Wire, kw_only=True, tag=False):
    """One actor's Claude Code usage on one day.

    Attributes:
        date: RFC 3339 start of the day (UTC).
        actor: the user (by email) or API key (by name).
        organization_id: the organization.
        customer_type: ``"api"`` or ``"subscription"``.
        terminal_type: where Claude Code ran (``"vscode"``, ``"iTerm.app"``...).
        core_metrics, tool_actions, model_breakdown: the metrics.
    """

    date: str
    actor: ClaudeCodeActor
    organization_id: str | UnsetType = UNSET
    customer_type: str | UnsetType = UNSET
    terminal_type: str | UnsetType = UNSET
    subscription_type: str | UnsetType | None = UNSET
    core_metrics: ClaudeCodeCoreMetrics | UnsetType = UNSET
    tool_actions: ClaudeCodeToolActions | UnsetType = UNSET
    model_breakdown: list[ClaudeCodeModelBreakdown] = msgspec.field(default_factory=list)


# ---------------------------------------------------------------------------- parameters

#: Cursor-paginated lists: ``limit`` is 1 to 1000 (the API's default is 20).
_LIST_LIMIT: Final = (1, 1000)
#: Messages usage report: buckets per page by ``bucket_width`` (defaults 60, 24, 7).
_USAGE_LIMITS: Final = {"1m": (1, 1440), "1h": (1, 168), "1d": (1, 31)}
#: Cost report: only daily buckets, 1 to 31 per page (default 7).
_COST_LIMITS: Final = {"1d": (1, 31)}
#: Claude Code report: records per page (default 20).
_CLAUDE_CODE_LIMIT: Final = (1, 1000)

# RFC 3339 section 5.6 date-time (``T``/``t`` or, as its note allows, a space).
_RFC3339_RE: Final = re.compile(
    r"\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})"
)
_DATE_RE: Final = re.compile(r"\d{4}-\d{2}-\d{2}")

TimeLike = datetime | date | str


def _moment(name: str, value: object) -> datetime:
    """``value`` as an aware UTC datetime; a ``date`` is midnight UTC."""
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=UTC)
    elif isinstance(value, str):
        if _DATE_RE.fullmatch(value):
            try:
                day = date.fromisoformat(value)
            except ValueError:
                raise AdminParamsError(
                    f"{name}: {value!r} is not a valid date", param=name
                ) from None
            return datetime(day.year, day.month, day.day, tzinfo=UTC)
        if not _RFC3339_RE.fullmatch(value):
            raise AdminParamsError(
                f"{name}: {value!r} is not an RFC 3339 timestamp; use e.g. "
                "'2025-01-01T00:00:00Z' or pass a timezone-aware datetime",
                param=name,
            )
        try:
            moment = datetime.fromisoformat(value.upper())
        except ValueError:
            raise AdminParamsError(
                f"{name}: {value!r} is not a valid RFC 3339 timestamp", param=name
            ) from None
    else:
        raise AdminParamsError(
            f"{name}: expected a datetime, a date or an RFC 3339 string, "
            f"got {type(value).__name__}",
            param=name,
        )
    if moment.utcoffset() is None:
        raise AdminParamsError(
            f"{name}: {value!r} is a naive datetime; attach a timezone "
            "(e.g. datetime(..., tzinfo=datetime.UTC)) so the time is unambiguous",
            param=name,
        )
    return moment.astimezone(UTC)


def _rfc3339(moment: datetime) -> str:
    """RFC 3339 in UTC with ``Z``; microseconds only when there are some."""
    text = moment.strftime("%Y-%m-%dT%H:%M:%S")
    if moment.microsecond:
        text += f".{moment.microsecond:06d}"
    return text + "Z"


def _time_range(starting_at: object, ending_at: object) -> tuple[str, str | None]:
    start = _moment("starting_at", starting_at)
    if ending_at is None:
        return _rfc3339(start), None
    end = _moment("ending_at", ending_at)
    if end <= start:
        raise AdminParamsError(
            f"ending_at ({_rfc3339(end)}) must be after starting_at ({_rfc3339(start)})",
            param="ending_at",
        )
    return _rfc3339(start), _rfc3339(end)


def _limit(value: object, bounds: tuple[int, int], where: str) -> int | None:
    if value is None:
        return None
    low, high = bounds
    if isinstance(value, bool) or not isinstance(value, int):
        raise AdminParamsError(
            f"limit: expected an integer, got {type(value).__name__}", param="limit"
        )
    if not low <= value <= high:
        raise AdminParamsError(
            f"limit: {where} accepts {low} to {high}, got {value}", param="limit"
        )
    return value


def _bucket_width(value: object, allowed: Mapping[str, tuple[int, int]]) -> str | None:
    if value is None:
        return None
    if value not in allowed:
        choices = ", ".join(repr(width) for width in allowed)
        raise AdminParamsError(
            f"bucket_width: expected one of {choices}, got {value!r}", param="bucket_width"
        )
    return str(value)


def _strings(name: str, values: str | Iterable[str] | None) -> list[str] | None:
    """An array parameter as a list (``None`` when empty, so nothing is sent)."""
    if values is None:
        return None
    items = [values] if isinstance(values, str) else list(values)
    for item in items:
        if not isinstance(item, str) or not item:
            raise AdminParamsError(f"{name}: expected non-empty strings, got {item!r}", param=name)
    return items or None


def _cursor(after_id: str | None, before_id: str | None) -> None:
    if after_id is not None and before_id is not None:
        raise AdminParamsError(
            "after_id and before_id cannot be used together; pick one direction",
            param="before_id",
        )


def _org_path(template: str, **ids: object) -> str:
    """``api_path`` under ``/v1/organizations``, a bad id an :class:`AdminParamsError`."""
    return api_path(_ORG + template, error=AdminParamsError, **ids)


def _optional_body(**fields: object) -> dict[str, object]:
    return {key: value for key, value in fields.items() if value is not None}


# ----------------------------------------------------------------------------- resources

_ORG: Final = "/v1/organizations"


class _Resource(Resource):
    """Admin API resources: a bad parameter raises :class:`AdminParamsError`."""


class Organization(_Resource):
    """``client.admin.organization``: the organization of the admin key."""

    async def me(self, **options: Unpack[RequestOptions]) -> OrganizationInfo:
        """The organization (``GET /v1/organizations/me``).

        Raises: :class:`~sluice.AuthenticationError` for a non-admin key, other
        :class:`~sluice.APIError` subclasses, :class:`~sluice.APIConnectionError`.
        """
        return await self._get(f"{_ORG}/me", OrganizationInfo, options)


class Users(_Resource):
    """``client.admin.users``: the members of the organization."""

    def list(
        self,
        *,
        email: str | None = None,
        limit: int | None = None,
        after_id: str | None = None,
        before_id: str | None = None,
        **options: Unpack[RequestOptions],
    ) -> AsyncPaginator[OrganizationUser]:
        """Every member, fetched page by page as you iterate.

        Args:
            email: only the user with this email.
            limit: users per page, 1 to 1000 (the API's default is 20).
            after_id / before_id: start after (before) this user id.

        Raises:
            AdminParamsError: at once, for a bad ``limit`` or both cursors.
        """
        _cursor(after_id, before_id)
        params = {
            "email": email,
            "limit": _limit(limit, _LIST_LIMIT, "users.list()"),
            "after_id": after_id,
            "before_id": before_id,
        }
        return self._list(f"{_ORG}/users", OrganizationUser, params, options, style="cursor")

    async def get(
        self,
        user_id: str,
        **options: Unpack[RequestOptions],
    ) -> OrganizationUser:
        """One user by id. Raises :class:`~sluice.NotFoundError` for an unknown id."""
        path = _org_path("/users/{user_id}", user_id=user_id)
        return await self._get(path, OrganizationUser, options)

    async def update(
        self,
        user_id: str,
        *,
        role: str,
        **options: Unpack[RequestOptions],
    ) -> OrganizationUser:
        """Change a user's organization role (``"user"``, ``"developer"``, ``"billing"``,
        ``"claude_code_user"``; the API refuses to grant ``"admin"``)."""
        path = _org_path("/users/{user_id}", user_id=user_id)
        return await self._post(path, OrganizationUser, options, body={"role": role})

    async def remove(
        self,
        user_id: str,
        **options: Unpack[RequestOptions],
    ) -> DeletedUser:
        """Remove a user from the organization."""
        path = _org_path("/users/{user_id}", user_id=user_id)
        return await self._delete(path, DeletedUser, options)


class Invites(_Resource):
    """``client.admin.invites``: invitations to join the organization."""

    async def create(
        self,
        *,
        email: str,
        role: str,
        **options: Unpack[RequestOptions],
    ) -> OrganizationInvite:
        """Invite ``email`` with an organization ``role`` (not ``"admin"``)."""
        return await self._post(
            f"{_ORG}/invites", OrganizationInvite, options, body={"email": email, "role": role}
        )

    def list(
        self,
        *,
        limit: int | None = None,
        after_id: str | None = None,
        before_id: str | None = None,
        **options: Unpack[RequestOptions],
    ) -> AsyncPaginator[OrganizationInvite]:
        """Every invite, page by page (``limit`` 1 to 1000, default 20).

        Raises:
            AdminParamsError: at once, for a bad ``limit`` or both cursors.
        """
        _cursor(after_id, before_id)
        params = {
            "limit": _limit(limit, _LIST_LIMIT, "invites.list()"),
            "after_id": after_id,
            "before_id": before_id,
        }
        return self._list(f"{_ORG}/invites", OrganizationInvite, params, options, style="cursor")

    async def get(
        self,
        invite_id: str,
        **options: Unpack[RequestOptions],
    ) -> OrganizationInvite:
        """One invite by id."""
        path = _org_path("/invites/{invite_id}", invite_id=invite_id)
        return await self._get(path, OrganizationInvite, options)

    async def delete(
        self,
        invite_id: str,
        **options: Unpack[RequestOptions],
    ) -> DeletedInvite:
        """Delete an invite."""
        path = _org_path("/invites/{invite_id}", invite_id=invite_id)
        return await self._delete(path, DeletedInvite, options)


class WorkspaceMembers(_Resource):
    """``client.admin.workspaces.members``: who belongs to a workspace, in which role."""

    @staticmethod
    def _path(workspace_id: str, user_id: str | None = None) -> str:
        if user_id is None:
            return _org_path("/workspaces/{workspace_id}/members", workspace_id=workspace_id)
        return _org_path(
            "/workspaces/{workspace_id}/members/{user_id}",
            workspace_id=workspace_id,
            user_id=user_id,
        )

    async def add(
        self,
        workspace_id: str,
        *,
        user_id: str,
        workspace_role: str,
        **options: Unpack[RequestOptions],
    ) -> WorkspaceMember:
        """Add an organization user to a workspace (``workspace_role`` such as
        ``"workspace_developer"``; the API refuses ``"workspace_billing"`` here)."""
        return await self._post(
            self._path(workspace_id),
            WorkspaceMember,
            options,
            body={"user_id": user_id, "workspace_role": workspace_role},
        )

    def list(
        self,
        workspace_id: str,
        *,
        limit: int | None = None,
        after_id: str | None = None,
        before_id: str | None = None,
        **options: Unpack[RequestOptions],
    ) -> AsyncPaginator[WorkspaceMember]:
        """Every member of the workspace, page by page (``limit`` 1 to 1000).

        Raises:
            AdminParamsError: at once, for a bad ``limit``, both cursors or an empty id.
        """
        _cursor(after_id, before_id)
        params = {
            "limit": _limit(limit, _LIST_LIMIT, "workspaces.members.list()"),
            "after_id": after_id,
            "before_id": before_id,
        }
        return self._list(
            self._path(workspace_id), WorkspaceMember, params, options, style="cursor"
        )

    async def get(
        self,
        workspace_id: str,
        user_id: str,
        **options: Unpack[RequestOptions],
    ) -> WorkspaceMember:
        """One membership. Raises :class:`~sluice.NotFoundError` if the user is not a member."""
        return await self._get(self._path(workspace_id, user_id), WorkspaceMember, options)

    async def update(
        self,
        workspace_id: str,
        user_id: str,
        *,
        workspace_role: str,
        **options: Unpack[RequestOptions],
    ) -> WorkspaceMember:
        """Change a member's workspace role."""
        return await self._post(
            self._path(workspace_id, user_id),
            WorkspaceMember,
            options,
            body={"workspace_role": workspace_role},
        )

    async def remove(
        self,
        workspace_id: str,
        user_id: str,
        **options: Unpack[RequestOptions],
    ) -> DeletedWorkspaceMember:
        """Remove a user from the workspace (they stay in the organization)."""
        return await self._delete(
            self._path(workspace_id, user_id), DeletedWorkspaceMember, options
        )


class Workspaces(_Resource):
    """``client.admin.workspaces``: workspaces, and their members as ``.members``."""

    def __init__(self, requester: Requester) -> None:
        super().__init__(requester)
        self.members = WorkspaceMembers(requester)

    async def create(
        self,
        *,
        name: str,
        data_residency: Mapping[str, Any] | None = None,
        **options: Unpack[RequestOptions],
    ) -> Workspace:
        """Create a workspace.

        Args:
            name: its name.
            data_residency: data residency settings (e.g. ``{"workspace_geo": "us"}``);
                the API's defaults when omitted.
        """
        return await self._post(
            f"{_ORG}/workspaces",
            Workspace,
            options,
            body=_optional_body(
                name=name, data_residency=None if data_residency is None else dict(data_residency)
            ),
        )

    def list(
        self,
        *,
        include_archived: bool | None = None,
        limit: int | None = None,
        after_id: str | None = None,
        before_id: str | None = None,
        **options: Unpack[RequestOptions],
    ) -> AsyncPaginator[Workspace]:
        """Every workspace, page by page.

        Args:
            include_archived: also list archived workspaces (the API's default: no).
            limit: workspaces per page, 1 to 1000 (default 20).

        Raises:
            AdminParamsError: at once, for a bad ``limit`` or both cursors.
        """
        _cursor(after_id, before_id)
        params = {
            "include_archived": include_archived,
            "limit": _limit(limit, _LIST_LIMIT, "workspaces.list()"),
            "after_id": after_id,
            "before_id": before_id,
        }
        return self._list(f"{_ORG}/workspaces", Workspace, params, options, style="cursor")

    async def get(
        self,
        workspace_id: str,
        **options: Unpack[RequestOptions],
    ) -> Workspace:
        """One workspace by id."""
        path = _org_path("/workspaces/{workspace_id}", workspace_id=workspace_id)
        return await self._get(path, Workspace, options)

    async def update(
        self,
        workspace_id: str,
        *,
        name: str,
        **options: Unpack[RequestOptions],
    ) -> Workspace:
        """Rename a workspace."""
        path = _org_path("/workspaces/{workspace_id}", workspace_id=workspace_id)
        return await self._post(path, Workspace, options, body={"name": name})

    async def archive(
        self,
        workspace_id: str,
        **options: Unpack[RequestOptions],
    ) -> Workspace:
        """Archive a workspace (its API keys stop working); returns it with ``archived_at``."""
        path = _org_path("/workspaces/{workspace_id}/archive", workspace_id=workspace_id)
        return await self._post(path, Workspace, options)


class APIKeys(_Resource):
    """``client.admin.api_keys``: the organization's API keys (created in the Console)."""

    def list(
        self,
        *,
        status: str | None = None,
        workspace_id: str | None = None,
        created_by_user_id: str | None = None,
        limit: int | None = None,
        after_id: str | None = None,
        before_id: str | None = None,
        **options: Unpack[RequestOptions],
    ) -> AsyncPaginator[APIKey]:
        """Every API key, page by page.

        Args:
            status: only keys in this status (``"active"``, ``"inactive"``,
                ``"archived"``, ``"expired"``).
            workspace_id: only keys of this workspace.
            created_by_user_id: only keys this user created.
            limit: keys per page, 1 to 1000 (default 20).

        Raises:
            AdminParamsError: at once, for a bad ``limit`` or both cursors.
        """
        _cursor(after_id, before_id)
        params = {
            "status": status,
            "workspace_id": workspace_id,
            "created_by_user_id": created_by_user_id,
            "limit": _limit(limit, _LIST_LIMIT, "api_keys.list()"),
            "after_id": after_id,
            "before_id": before_id,
        }
        return self._list(f"{_ORG}/api_keys", APIKey, params, options, style="cursor")

    async def get(
        self,
        api_key_id: str,
        **options: Unpack[RequestOptions],
    ) -> APIKey:
        """One API key by id."""
        path = _org_path("/api_keys/{api_key_id}", api_key_id=api_key_id)
        return await self._get(path, APIKey, options)

    async def update(
        self,
        api_key_id: str,
        *,
        name: str | None = None,
        status: str | None = None,
        **options: Unpack[RequestOptions],
    ) -> APIKey:
        """Rename an API key and/or change its status (``"active"``, ``"inactive"``,
        ``"archived"``; archiving is final).

        Raises:
            AdminParamsError: neither ``name`` nor ``status`` was given.
        """
        body = _optional_body(name=name, status=status)
        if not body:
            raise AdminParamsError(
                "api_keys.update() needs name= or status= (nothing to change)", param="name"
            )
        path = _org_path("/api_keys/{api_key_id}", api_key_id=api_key_id)
        return await self._post(path, APIKey, options, body=body)


class UsageReport(_Resource):
    """``client.admin.usage_report``: token usage of the Messages API and of Claude Code."""

    def messages(
        self,
        *,
        starting_at: TimeLike,
        ending_at: TimeLike | None = None,
        bucket_width: Literal["1m", "1h", "1d"] | None = None,
        group_by: str | Sequence[str] | None = None,
        models: str | Sequence[str] | None = None,
        api_key_ids: str | Sequence[str] | None = None,
        workspace_ids: str | Sequence[str] | None = None,
        service_tiers: str | Sequence[str] | None = None,
        context_window: str | Sequence[str] | None = None,
        limit: int | None = None,
        page: str | None = None,
        **options: Unpack[RequestOptions],
    ) -> AsyncPaginator[MessagesUsageBucket]:
        """Token usage in time buckets (``GET /v1/organizations/usage_report/messages``).

        Iterating yields :class:`MessagesUsageBucket` values across every page;
        ``.pages()`` yields the pages (``next_page``, ``has_more``, ``request_id``).

        Args:
            starting_at: buckets starting at or after this time (snapped by the API to
                the start of its minute/hour/day in UTC): a timezone-aware ``datetime``,
                an RFC 3339 string, or a ``date``/``"YYYY-MM-DD"`` (midnight UTC).
            ending_at: buckets ending before this time (same forms).
            bucket_width: ``"1m"``, ``"1h"`` or ``"1d"`` (the API's default).
            group_by: dimensions to group rows by (``"model"``, ``"workspace_id"``,
                ``"api_key_id"``, ``"service_tier"``, ``"context_window"``...), sent as
                ``group_by[]``.
            models, api_key_ids, workspace_ids, service_tiers, context_window: filters,
                each sent as a repeated ``name[]`` parameter.
            limit: buckets per page: 1 to 1440 for ``"1m"`` (default 60), 1 to 168 for
                ``"1h"`` (default 24), 1 to 31 for ``"1d"`` (default 7).
            page: resume from a ``next_page`` token.

        Raises:
            AdminParamsError: at once, for a bad time, ``bucket_width`` or ``limit``.
        """
        start, end = _time_range(starting_at, ending_at)
        width = _bucket_width(bucket_width, _USAGE_LIMITS)
        bounds = _USAGE_LIMITS[width or "1d"]
        params: dict[str, Any] = {
            "starting_at": start,
            "ending_at": end,
            "bucket_width": width,
            "group_by[]": _strings("group_by", group_by),
            "models[]": _strings("models", models),
            "api_key_ids[]": _strings("api_key_ids", api_key_ids),
            "workspace_ids[]": _strings("workspace_ids", workspace_ids),
            "service_tiers[]": _strings("service_tiers", service_tiers),
            "context_window[]": _strings("context_window", context_window),
            "limit": _limit(limit, bounds, f"bucket_width={width or '1d'!r}"),
            "page": page,
        }
        return self._list(
            f"{_ORG}/usage_report/messages", MessagesUsageBucket, params, options, style="page"
        )

    def claude_code(
        self,
        *,
        starting_at: datetime | date | str,
        limit: int | None = None,
        page: str | None = None,
        **options: Unpack[RequestOptions],
    ) -> AsyncPaginator[ClaudeCodeUsageRecord]:
        """Claude Code usage of one UTC day, one record per actor
        (``GET /v1/organizations/usage_report/claude_code``).

        Args:
            starting_at: the day: a ``date``, a ``"YYYY-MM-DD"`` string, or a datetime or
                RFC 3339 string whose UTC date is taken. Sent as ``YYYY-MM-DD``.
            limit: records per page, 1 to 1000 (default 20).
            page: resume from a ``next_page`` token.

        Raises:
            AdminParamsError: at once, for a bad day or ``limit``.
        """
        day = _moment("starting_at", starting_at).date()
        params: dict[str, Any] = {
            "starting_at": day.isoformat(),
            "limit": _limit(limit, _CLAUDE_CODE_LIMIT, "usage_report.claude_code()"),
            "page": page,
        }
        return self._list(
            f"{_ORG}/usage_report/claude_code", ClaudeCodeUsageRecord, params, options, style="page"
        )


class Admin(_Resource):
    """``client.admin``: the Admin API (organization, members, workspaces, keys, reports).

    The client must be created with an **Admin API key** (``sk-ant-admin...``), which only
    organization admins can provision in the Console; with a standard key every call
    fails with a 401 :class:`~sluice.AuthenticationError`::

        async with sluice.AsyncClient(api_key=os.environ["ANTHROPIC_ADMIN_KEY"]) as client:
            org = await client.admin.organization.me()
            async for user in client.admin.users.list():
                print(user.email, user.role)
            async for bucket in client.admin.usage_report.messages(
                starting_at="2025-01-01T00:00:00Z", group_by=["model"]
            ):
                print(bucket.starting_at, [row.output_tokens for row in bucket.results])

    Attributes:
        organization: :class:`Organization` (``me()``).
        users: :class:`Users`.
        invites: :class:`Invites`.
        workspaces: :class:`Workspaces`, with ``workspaces.members``.
        api_keys: :class:`APIKeys`.
        usage_report: :class:`UsageReport` (``messages()``, ``claude_code()``).

    """

    def __init__(self, requester: Requester) -> None:
        super().__init__(requester)
        self.organization = Organization(requester)
        self.users = Users(requester)
        self.invites = Invites(requester)
        self.workspaces = Workspaces(requester)
        self.api_keys = APIKeys(requester)
        self.usage_report = UsageReport(requester)

    def cost_report(
        self,
        *,
        starting_at: TimeLike,
        ending_at: TimeLike | None = None,
        bucket_width: Literal["1d"] | None = None,
        group_by: str | Sequence[str] | None = None,
        limit: int | None = None,
        page: str | None = None,
        **options: Unpack[RequestOptions],
    ) -> AsyncPaginator[CostReportBucket]:
        """Costs in USD per day (``GET /v1/organizations/cost_report``).

        Args:
            starting_at: days starting at or after this time (snapped to the UTC day):
                an aware ``datetime``, an RFC 3339 string, or a ``date``/``"YYYY-MM-DD"``.
            ending_at: days ending before this time (same forms).
            bucket_width: only ``"1d"`` exists.
            group_by: ``"workspace_id"`` and/or ``"description"`` (which also fills
                ``model``, ``token_type``, ``cost_type``...), sent as ``group_by[]``.
            limit: days per page, 1 to 31 (default 7).
            page: resume from a ``next_page`` token.

        Raises:
            AdminParamsError: at once, for a bad time, ``bucket_width`` or ``limit``.
        """
        start, end = _time_range(starting_at, ending_at)
        params: dict[str, Any] = {
            "starting_at": start,
            "ending_at": end,
            "bucket_width": _bucket_width(bucket_width, _COST_LIMITS),
            "group_by[]": _strings("group_by", group_by),
            "limit": _limit(limit, _COST_LIMITS["1d"], "cost_report()"),
            "page": page,
        }
        return self._list(f"{_ORG}/cost_report", CostReportBucket, params, options, style="page")
