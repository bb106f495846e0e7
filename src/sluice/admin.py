"""The Admin API's types: ``sluice.admin``.

What ``client.admin`` returns: the organization, its users, invites, workspaces and their
members, API keys, and the rows of the usage, cost and Claude Code reports. A bad Admin
API parameter raises :class:`sluice.AdminParamsError` before anything is sent.
"""

from __future__ import annotations

from ._resources._admin import APIKey as APIKey
from ._resources._admin import APIKeyCreator as APIKeyCreator
from ._resources._admin import ClaudeCodeActor as ClaudeCodeActor
from ._resources._admin import ClaudeCodeCoreMetrics as ClaudeCodeCoreMetrics
from ._resources._admin import ClaudeCodeEstimatedCost as ClaudeCodeEstimatedCost
from ._resources._admin import ClaudeCodeLinesOfCode as ClaudeCodeLinesOfCode
from ._resources._admin import ClaudeCodeModelBreakdown as ClaudeCodeModelBreakdown
from ._resources._admin import ClaudeCodeTokens as ClaudeCodeTokens
from ._resources._admin import ClaudeCodeToolActionCounts as ClaudeCodeToolActionCounts
from ._resources._admin import ClaudeCodeToolActions as ClaudeCodeToolActions
from ._resources._admin import ClaudeCodeUsageRecord as ClaudeCodeUsageRecord
from ._resources._admin import CostReportBucket as CostReportBucket
from ._resources._admin import CostReportResult as CostReportResult
from ._resources._admin import DeletedInvite as DeletedInvite
from ._resources._admin import DeletedUser as DeletedUser
from ._resources._admin import DeletedWorkspaceMember as DeletedWorkspaceMember
from ._resources._admin import MessagesUsageBucket as MessagesUsageBucket
from ._resources._admin import MessagesUsageResult as MessagesUsageResult
from ._resources._admin import OrganizationInfo as OrganizationInfo
from ._resources._admin import OrganizationInvite as OrganizationInvite
from ._resources._admin import OrganizationUser as OrganizationUser
from ._resources._admin import UsageCacheCreation as UsageCacheCreation
from ._resources._admin import UsageServerToolUse as UsageServerToolUse
from ._resources._admin import Workspace as Workspace
from ._resources._admin import WorkspaceMember as WorkspaceMember

__all__ = [
    "APIKey",
    "APIKeyCreator",
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
    "MessagesUsageBucket",
    "MessagesUsageResult",
    "OrganizationInfo",
    "OrganizationInvite",
    "OrganizationUser",
    "UsageCacheCreation",
    "UsageServerToolUse",
    "Workspace",
    "WorkspaceMember",
]
