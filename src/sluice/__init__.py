"""sluice: a streaming-first toolkit for the Anthropic Messages API.

Bytes from httpx -> SSE frames (``_sse``) -> typed events (``_events``) -> operators
(``sluice.ops``) -> your code; request helpers for every other endpoint hang off
:class:`AsyncClient`. See the README for the two commands and examples.
"""

from __future__ import annotations

from . import ops as ops
from ._accumulate import MessageAccumulator as MessageAccumulator
from ._admin import Admin as Admin
from ._admin import APIKey as APIKey
from ._admin import APIKeyCreator as APIKeyCreator
from ._admin import APIKeys as APIKeys
from ._admin import ClaudeCodeActor as ClaudeCodeActor
from ._admin import ClaudeCodeCoreMetrics as ClaudeCodeCoreMetrics
from ._admin import ClaudeCodeEstimatedCost as ClaudeCodeEstimatedCost
from ._admin import ClaudeCodeLinesOfCode as ClaudeCodeLinesOfCode
from ._admin import ClaudeCodeModelBreakdown as ClaudeCodeModelBreakdown
from ._admin import ClaudeCodeTokens as ClaudeCodeTokens
from ._admin import ClaudeCodeToolActionCounts as ClaudeCodeToolActionCounts
from ._admin import ClaudeCodeToolActions as ClaudeCodeToolActions
from ._admin import ClaudeCodeUsageRecord as ClaudeCodeUsageRecord
from ._admin import CostReportBucket as CostReportBucket
from ._admin import CostReportResult as CostReportResult
from ._admin import DeletedInvite as DeletedInvite
from ._admin import DeletedUser as DeletedUser
from ._admin import DeletedWorkspaceMember as DeletedWorkspaceMember
from ._admin import Invites as Invites
from ._admin import MessagesUsageBucket as MessagesUsageBucket
from ._admin import MessagesUsageResult as MessagesUsageResult
from ._admin import Organization as Organization
from ._admin import OrganizationInfo as OrganizationInfo
from ._admin import OrganizationInvite as OrganizationInvite
from ._admin import OrganizationUser as OrganizationUser
from ._admin import UsageCacheCreation as UsageCacheCreation
from ._admin import UsageReport as UsageReport
from ._admin import UsageServerToolUse as UsageServerToolUse
from ._admin import Users as Users
from ._admin import Workspace as Workspace
from ._admin import WorkspaceMember as WorkspaceMember
from ._admin import WorkspaceMembers as WorkspaceMembers
from ._admin import Workspaces as Workspaces
from ._batches import Batches as Batches
from ._batches import BatchResults as BatchResults
from ._batches import DeletedMessageBatch as DeletedMessageBatch
from ._batches import ErrorResponse as ErrorResponse
from ._batches import MessageBatch as MessageBatch
from ._batches import MessageBatchCanceledResult as MessageBatchCanceledResult
from ._batches import MessageBatchErroredResult as MessageBatchErroredResult
from ._batches import MessageBatchExpiredResult as MessageBatchExpiredResult
from ._batches import MessageBatchIndividualResponse as MessageBatchIndividualResponse
from ._batches import MessageBatchRequestCounts as MessageBatchRequestCounts
from ._batches import MessageBatchResult as MessageBatchResult
from ._batches import MessageBatchSucceededResult as MessageBatchSucceededResult
from ._batches import UnknownBatchResult as UnknownBatchResult
from ._batches import decode_batch_result as decode_batch_result
from ._client import AsyncClient as AsyncClient
from ._client import Messages as Messages
from ._completions import Completion as Completion
from ._completions import Completions as Completions
from ._completions import CompletionStream as CompletionStream
from ._completions import CompletionStreamManager as CompletionStreamManager
from ._decode import EventStreamDecoder as EventStreamDecoder
from ._events import BashCodeExecutionOutput as BashCodeExecutionOutput
from ._events import BashCodeExecutionResult as BashCodeExecutionResult
from ._events import BashCodeExecutionToolResultBlock as BashCodeExecutionToolResultBlock
from ._events import BashCodeExecutionToolResultError as BashCodeExecutionToolResultError
from ._events import CacheCreation as CacheCreation
from ._events import Citation as Citation
from ._events import CitationCharLocation as CitationCharLocation
from ._events import CitationContentBlockLocation as CitationContentBlockLocation
from ._events import CitationPageLocation as CitationPageLocation
from ._events import CitationsDelta as CitationsDelta
from ._events import CitationsSearchResultLocation as CitationsSearchResultLocation
from ._events import CitationsWebSearchResultLocation as CitationsWebSearchResultLocation
from ._events import CodeExecutionOutput as CodeExecutionOutput
from ._events import CodeExecutionResult as CodeExecutionResult
from ._events import CodeExecutionToolResultBlock as CodeExecutionToolResultBlock
from ._events import CodeExecutionToolResultError as CodeExecutionToolResultError
from ._events import Container as Container
from ._events import ContainerUploadBlock as ContainerUploadBlock
from ._events import ContentBlock as ContentBlock
from ._events import ContentBlockDelta as ContentBlockDelta
from ._events import ContentBlockStart as ContentBlockStart
from ._events import ContentBlockStop as ContentBlockStop
from ._events import Delta as Delta
from ._events import EncryptedCodeExecutionResult as EncryptedCodeExecutionResult
from ._events import ErrorDetail as ErrorDetail
from ._events import ErrorEvent as ErrorEvent
from ._events import Event as Event
from ._events import InputJSONDelta as InputJSONDelta
from ._events import MCPToolResultBlock as MCPToolResultBlock
from ._events import MCPToolUseBlock as MCPToolUseBlock
from ._events import Message as Message
from ._events import MessageDelta as MessageDelta
from ._events import MessageDeltaBody as MessageDeltaBody
from ._events import MessageDeltaUsage as MessageDeltaUsage
from ._events import MessageStart as MessageStart
from ._events import MessageStop as MessageStop
from ._events import OutputTokensDetails as OutputTokensDetails
from ._events import Ping as Ping
from ._events import RedactedThinkingBlock as RedactedThinkingBlock
from ._events import ServerToolUsage as ServerToolUsage
from ._events import ServerToolUseBlock as ServerToolUseBlock
from ._events import SignatureDelta as SignatureDelta
from ._events import StopDetails as StopDetails
from ._events import TextBlock as TextBlock
from ._events import TextDelta as TextDelta
from ._events import (
    TextEditorCodeExecutionToolResultBlock as TextEditorCodeExecutionToolResultBlock,
)
from ._events import ThinkingBlock as ThinkingBlock
from ._events import ThinkingDelta as ThinkingDelta
from ._events import ToolSearchToolResultBlock as ToolSearchToolResultBlock
from ._events import ToolUseBlock as ToolUseBlock
from ._events import UnknownBlock as UnknownBlock
from ._events import UnknownDelta as UnknownDelta
from ._events import UnknownEvent as UnknownEvent
from ._events import Usage as Usage
from ._events import WebFetchResult as WebFetchResult
from ._events import WebFetchToolResultBlock as WebFetchToolResultBlock
from ._events import WebFetchToolResultError as WebFetchToolResultError
from ._events import WebSearchResult as WebSearchResult
from ._events import WebSearchToolResultBlock as WebSearchToolResultBlock
from ._events import WebSearchToolResultError as WebSearchToolResultError
from ._events import decode_event as decode_event
from ._events import decode_message as decode_message
from ._exceptions import AdminParamsError as AdminParamsError
from ._exceptions import APIConnectionError as APIConnectionError
from ._exceptions import APIError as APIError
from ._exceptions import APIStatusError as APIStatusError
from ._exceptions import APIStreamError as APIStreamError
from ._exceptions import APITimeoutError as APITimeoutError
from ._exceptions import AuthenticationError as AuthenticationError
from ._exceptions import BadRequestError as BadRequestError
from ._exceptions import BatchWaitTimeoutError as BatchWaitTimeoutError
from ._exceptions import BillingError as BillingError
from ._exceptions import BufferOverflowError as BufferOverflowError
from ._exceptions import EventDecodeError as EventDecodeError
from ._exceptions import EventTooLargeError as EventTooLargeError
from ._exceptions import GatewayTimeoutError as GatewayTimeoutError
from ._exceptions import IncompleteStreamError as IncompleteStreamError
from ._exceptions import InternalServerError as InternalServerError
from ._exceptions import NotFoundError as NotFoundError
from ._exceptions import OutputParseError as OutputParseError
from ._exceptions import OverloadedError as OverloadedError
from ._exceptions import ParamsError as ParamsError
from ._exceptions import PartialJSONError as PartialJSONError
from ._exceptions import PermissionDeniedError as PermissionDeniedError
from ._exceptions import RateLimitError as RateLimitError
from ._exceptions import RequestTooLargeError as RequestTooLargeError
from ._exceptions import SluiceError as SluiceError
from ._exceptions import StreamError as StreamError
from ._exceptions import StreamIdleTimeoutError as StreamIdleTimeoutError
from ._exceptions import StreamingRequiredError as StreamingRequiredError
from ._exceptions import SubscriberTooSlowError as SubscriberTooSlowError
from ._exceptions import ToolInputError as ToolInputError
from ._exceptions import UnexpectedEventError as UnexpectedEventError
from ._exceptions import UploadError as UploadError
from ._files import MAX_FILE_SIZE as MAX_FILE_SIZE
from ._files import DeletedFile as DeletedFile
from ._files import FileDownload as FileDownload
from ._files import FileMetadata as FileMetadata
from ._files import Files as Files
from ._files import FileScope as FileScope
from ._models import ModelInfo as ModelInfo
from ._models import Models as Models
from ._pagination import AsyncPaginator as AsyncPaginator
from ._pagination import Page as Page
from ._pagination import cursor_pages as cursor_pages
from ._params import Base64ImageSource as Base64ImageSource
from ._params import Base64PDFSource as Base64PDFSource
from ._params import BashTool as BashTool
from ._params import CacheControlEphemeral as CacheControlEphemeral
from ._params import CitationsConfig as CitationsConfig
from ._params import CodeExecutionTool as CodeExecutionTool
from ._params import ContainerParam as ContainerParam
from ._params import ContentBlockParam as ContentBlockParam
from ._params import ContentBlockSource as ContentBlockSource
from ._params import DocumentBlockParam as DocumentBlockParam
from ._params import FileSource as FileSource
from ._params import ImageBlockParam as ImageBlockParam
from ._params import JSONOutputFormat as JSONOutputFormat
from ._params import MCPServerURL as MCPServerURL
from ._params import MemoryTool as MemoryTool
from ._params import MessageCreateParams as MessageCreateParams
from ._params import MessageParam as MessageParam
from ._params import Metadata as Metadata
from ._params import OutputConfig as OutputConfig
from ._params import PlainTextSource as PlainTextSource
from ._params import RedactedThinkingBlockParam as RedactedThinkingBlockParam
from ._params import SearchResultBlockParam as SearchResultBlockParam
from ._params import TextBlockParam as TextBlockParam
from ._params import TextEditorTool as TextEditorTool
from ._params import ThinkingAdaptive as ThinkingAdaptive
from ._params import ThinkingBlockParam as ThinkingBlockParam
from ._params import ThinkingConfig as ThinkingConfig
from ._params import ThinkingDisabled as ThinkingDisabled
from ._params import ThinkingEnabled as ThinkingEnabled
from ._params import Tool as Tool
from ._params import ToolChoice as ToolChoice
from ._params import ToolChoiceAny as ToolChoiceAny
from ._params import ToolChoiceAuto as ToolChoiceAuto
from ._params import ToolChoiceNone as ToolChoiceNone
from ._params import ToolChoiceTool as ToolChoiceTool
from ._params import ToolResultBlockParam as ToolResultBlockParam
from ._params import ToolUnion as ToolUnion
from ._params import ToolUseBlockParam as ToolUseBlockParam
from ._params import URLSource as URLSource
from ._params import UserLocation as UserLocation
from ._params import WebFetchTool as WebFetchTool
from ._params import WebSearchTool as WebSearchTool
from ._params import json_schema_for as json_schema_for
from ._params import output_format_for as output_format_for
from ._params import parse_output as parse_output
from ._params import requires_streaming as requires_streaming
from ._params import to_request_body as to_request_body
from ._params import validate_count_tokens_params as validate_count_tokens_params
from ._params import validate_message_params as validate_message_params
from ._partial_json import PartialJSONParser as PartialJSONParser
from ._ratelimit import RateLimits as RateLimits
from ._response import ResponseInfo as ResponseInfo
from ._response import response_info as response_info
from ._serialize import to_builtins as to_builtins
from ._serialize import to_json as to_json
from ._skills import DeletedSkill as DeletedSkill
from ._skills import DeletedSkillVersion as DeletedSkillVersion
from ._skills import Skill as Skill
from ._skills import SkillFiles as SkillFiles
from ._skills import Skills as Skills
from ._skills import SkillVersion as SkillVersion
from ._skills import SkillVersions as SkillVersions
from ._sse import DEFAULT_MAX_EVENT_SIZE as DEFAULT_MAX_EVENT_SIZE
from ._sse import ServerSentEvent as ServerSentEvent
from ._sse import SSEDecoder as SSEDecoder
from ._stream import MessageStream as MessageStream
from ._stream import MessageStreamManager as MessageStreamManager
from ._tokens import MessageTokensCount as MessageTokensCount

__version__ = "0.1.0"

__all__ = [
    "APIConnectionError",
    "APIError",
    "APIKey",
    "APIKeyCreator",
    "APIKeys",
    "APIStatusError",
    "APIStreamError",
    "APITimeoutError",
    "Admin",
    "AdminParamsError",
    "AsyncClient",
    "AsyncPaginator",
    "AuthenticationError",
    "BadRequestError",
    "Base64ImageSource",
    "Base64PDFSource",
    "BashCodeExecutionOutput",
    "BashCodeExecutionResult",
    "BashCodeExecutionToolResultBlock",
    "BashCodeExecutionToolResultError",
    "BashTool",
    "BatchResults",
    "BatchWaitTimeoutError",
    "Batches",
    "BillingError",
    "BufferOverflowError",
    "CacheControlEphemeral",
    "CacheCreation",
    "Citation",
    "CitationCharLocation",
    "CitationContentBlockLocation",
    "CitationPageLocation",
    "CitationsConfig",
    "CitationsDelta",
    "CitationsSearchResultLocation",
    "CitationsWebSearchResultLocation",
    "ClaudeCodeActor",
    "ClaudeCodeCoreMetrics",
    "ClaudeCodeEstimatedCost",
    "ClaudeCodeLinesOfCode",
    "ClaudeCodeModelBreakdown",
    "ClaudeCodeTokens",
    "ClaudeCodeToolActionCounts",
    "ClaudeCodeToolActions",
    "ClaudeCodeUsageRecord",
    "CodeExecutionOutput",
    "CodeExecutionResult",
    "CodeExecutionTool",
    "CodeExecutionToolResultBlock",
    "CodeExecutionToolResultError",
    "Completion",
    "CompletionStream",
    "CompletionStreamManager",
    "Completions",
    "Container",
    "ContainerParam",
    "ContainerUploadBlock",
    "ContentBlock",
    "ContentBlockDelta",
    "ContentBlockParam",
    "ContentBlockSource",
    "ContentBlockStart",
    "ContentBlockStop",
    "CostReportBucket",
    "CostReportResult",
    "DEFAULT_MAX_EVENT_SIZE",
    "DeletedFile",
    "DeletedInvite",
    "DeletedMessageBatch",
    "DeletedSkill",
    "DeletedSkillVersion",
    "DeletedUser",
    "DeletedWorkspaceMember",
    "Delta",
    "DocumentBlockParam",
    "EncryptedCodeExecutionResult",
    "ErrorDetail",
    "ErrorEvent",
    "ErrorResponse",
    "Event",
    "EventDecodeError",
    "EventStreamDecoder",
    "EventTooLargeError",
    "FileDownload",
    "FileMetadata",
    "FileScope",
    "FileSource",
    "Files",
    "GatewayTimeoutError",
    "ImageBlockParam",
    "IncompleteStreamError",
    "InputJSONDelta",
    "InternalServerError",
    "Invites",
    "JSONOutputFormat",
    "MAX_FILE_SIZE",
    "MCPServerURL",
    "MCPToolResultBlock",
    "MCPToolUseBlock",
    "MemoryTool",
    "Message",
    "MessageAccumulator",
    "MessageBatch",
    "MessageBatchCanceledResult",
    "MessageBatchErroredResult",
    "MessageBatchExpiredResult",
    "MessageBatchIndividualResponse",
    "MessageBatchRequestCounts",
    "MessageBatchResult",
    "MessageBatchSucceededResult",
    "MessageCreateParams",
    "MessageDelta",
    "MessageDeltaBody",
    "MessageDeltaUsage",
    "MessageParam",
    "MessageStart",
    "MessageStop",
    "MessageStream",
    "MessageStreamManager",
    "MessageTokensCount",
    "Messages",
    "MessagesUsageBucket",
    "MessagesUsageResult",
    "Metadata",
    "ModelInfo",
    "Models",
    "NotFoundError",
    "Organization",
    "OrganizationInfo",
    "OrganizationInvite",
    "OrganizationUser",
    "OutputConfig",
    "OutputParseError",
    "OutputTokensDetails",
    "OverloadedError",
    "Page",
    "ParamsError",
    "PartialJSONError",
    "PartialJSONParser",
    "PermissionDeniedError",
    "Ping",
    "PlainTextSource",
    "RateLimitError",
    "RateLimits",
    "RedactedThinkingBlock",
    "RedactedThinkingBlockParam",
    "RequestTooLargeError",
    "ResponseInfo",
    "SSEDecoder",
    "SearchResultBlockParam",
    "ServerSentEvent",
    "ServerToolUsage",
    "ServerToolUseBlock",
    "SignatureDelta",
    "Skill",
    "SkillFiles",
    "SkillVersion",
    "SkillVersions",
    "Skills",
    "SluiceError",
    "StopDetails",
    "StreamError",
    "StreamIdleTimeoutError",
    "StreamingRequiredError",
    "SubscriberTooSlowError",
    "TextBlock",
    "TextBlockParam",
    "TextDelta",
    "TextEditorCodeExecutionToolResultBlock",
    "TextEditorTool",
    "ThinkingAdaptive",
    "ThinkingBlock",
    "ThinkingBlockParam",
    "ThinkingConfig",
    "ThinkingDelta",
    "ThinkingDisabled",
    "ThinkingEnabled",
    "Tool",
    "ToolChoice",
    "ToolChoiceAny",
    "ToolChoiceAuto",
    "ToolChoiceNone",
    "ToolChoiceTool",
    "ToolInputError",
    "ToolResultBlockParam",
    "ToolSearchToolResultBlock",
    "ToolUnion",
    "ToolUseBlock",
    "ToolUseBlockParam",
    "URLSource",
    "UnexpectedEventError",
    "UnknownBatchResult",
    "UnknownBlock",
    "UnknownDelta",
    "UnknownEvent",
    "UploadError",
    "Usage",
    "UsageCacheCreation",
    "UsageReport",
    "UsageServerToolUse",
    "UserLocation",
    "Users",
    "WebFetchResult",
    "WebFetchTool",
    "WebFetchToolResultBlock",
    "WebFetchToolResultError",
    "WebSearchResult",
    "WebSearchTool",
    "WebSearchToolResultBlock",
    "WebSearchToolResultError",
    "Workspace",
    "WorkspaceMember",
    "WorkspaceMembers",
    "Workspaces",
    "cursor_pages",
    "decode_batch_result",
    "decode_event",
    "decode_message",
    "json_schema_for",
    "ops",
    "output_format_for",
    "parse_output",
    "requires_streaming",
    "response_info",
    "to_builtins",
    "to_json",
    "to_request_body",
    "validate_count_tokens_params",
    "validate_message_params",
]
