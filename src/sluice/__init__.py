"""sluice: a streaming-first toolkit for the Anthropic Messages API.

Bytes from httpx -> SSE frames (``_sse``) -> typed events (``_events``) -> operators
(``sluice.ops``) -> your code; request helpers for every other endpoint hang off
:class:`AsyncClient`. See the README for the two commands and examples.
"""

from __future__ import annotations

from . import ops as ops
from ._client import AsyncClient as AsyncClient
from ._client import Messages as Messages
from ._core._accumulate import MessageAccumulator as MessageAccumulator
from ._core._completions import Completion as Completion
from ._core._decode import EventStreamDecoder as EventStreamDecoder
from ._core._events import CitationsDelta as CitationsDelta
from ._core._events import ContentBlockDelta as ContentBlockDelta
from ._core._events import ContentBlockStart as ContentBlockStart
from ._core._events import ContentBlockStop as ContentBlockStop
from ._core._events import Delta as Delta
from ._core._events import ErrorDetail as ErrorDetail
from ._core._events import ErrorEvent as ErrorEvent
from ._core._events import Event as Event
from ._core._events import InputJSONDelta as InputJSONDelta
from ._core._events import MessageDelta as MessageDelta
from ._core._events import MessageDeltaBody as MessageDeltaBody
from ._core._events import MessageDeltaUsage as MessageDeltaUsage
from ._core._events import MessageStart as MessageStart
from ._core._events import MessageStop as MessageStop
from ._core._events import Ping as Ping
from ._core._events import SignatureDelta as SignatureDelta
from ._core._events import TextDelta as TextDelta
from ._core._events import ThinkingDelta as ThinkingDelta
from ._core._events import UnknownDelta as UnknownDelta
from ._core._events import UnknownEvent as UnknownEvent
from ._core._events import decode_event as decode_event
from ._core._exceptions import AdminParamsError as AdminParamsError
from ._core._exceptions import APIConnectionError as APIConnectionError
from ._core._exceptions import APIError as APIError
from ._core._exceptions import APIStatusError as APIStatusError
from ._core._exceptions import APIStreamError as APIStreamError
from ._core._exceptions import APITimeoutError as APITimeoutError
from ._core._exceptions import AuthenticationError as AuthenticationError
from ._core._exceptions import AuthenticationStatusError as AuthenticationStatusError
from ._core._exceptions import AuthenticationStreamError as AuthenticationStreamError
from ._core._exceptions import BadRequestError as BadRequestError
from ._core._exceptions import BadRequestStatusError as BadRequestStatusError
from ._core._exceptions import BadRequestStreamError as BadRequestStreamError
from ._core._exceptions import BatchWaitTimeoutError as BatchWaitTimeoutError
from ._core._exceptions import BillingError as BillingError
from ._core._exceptions import BillingStatusError as BillingStatusError
from ._core._exceptions import BillingStreamError as BillingStreamError
from ._core._exceptions import BufferOverflowError as BufferOverflowError
from ._core._exceptions import EventDecodeError as EventDecodeError
from ._core._exceptions import EventTooLargeError as EventTooLargeError
from ._core._exceptions import GatewayTimeoutError as GatewayTimeoutError
from ._core._exceptions import GatewayTimeoutStatusError as GatewayTimeoutStatusError
from ._core._exceptions import GatewayTimeoutStreamError as GatewayTimeoutStreamError
from ._core._exceptions import IncompleteStreamError as IncompleteStreamError
from ._core._exceptions import InternalServerError as InternalServerError
from ._core._exceptions import InternalServerStatusError as InternalServerStatusError
from ._core._exceptions import InternalServerStreamError as InternalServerStreamError
from ._core._exceptions import NotFoundError as NotFoundError
from ._core._exceptions import NotFoundStatusError as NotFoundStatusError
from ._core._exceptions import NotFoundStreamError as NotFoundStreamError
from ._core._exceptions import OutputParseError as OutputParseError
from ._core._exceptions import OverloadedError as OverloadedError
from ._core._exceptions import OverloadedStatusError as OverloadedStatusError
from ._core._exceptions import OverloadedStreamError as OverloadedStreamError
from ._core._exceptions import ParamsError as ParamsError
from ._core._exceptions import PartialJSONError as PartialJSONError
from ._core._exceptions import PermissionDeniedError as PermissionDeniedError
from ._core._exceptions import PermissionDeniedStatusError as PermissionDeniedStatusError
from ._core._exceptions import PermissionDeniedStreamError as PermissionDeniedStreamError
from ._core._exceptions import RateLimitError as RateLimitError
from ._core._exceptions import RateLimitStatusError as RateLimitStatusError
from ._core._exceptions import RateLimitStreamError as RateLimitStreamError
from ._core._exceptions import RequestTooLargeError as RequestTooLargeError
from ._core._exceptions import RequestTooLargeStatusError as RequestTooLargeStatusError
from ._core._exceptions import RequestTooLargeStreamError as RequestTooLargeStreamError
from ._core._exceptions import SluiceError as SluiceError
from ._core._exceptions import StreamError as StreamError
from ._core._exceptions import StreamIdleTimeoutError as StreamIdleTimeoutError
from ._core._exceptions import StreamingRequiredError as StreamingRequiredError
from ._core._exceptions import SubscriberTooSlowError as SubscriberTooSlowError
from ._core._exceptions import ToolInputError as ToolInputError
from ._core._exceptions import UnexpectedEventError as UnexpectedEventError
from ._core._exceptions import UploadError as UploadError
from ._core._message import BashCodeExecutionOutput as BashCodeExecutionOutput
from ._core._message import BashCodeExecutionResult as BashCodeExecutionResult
from ._core._message import BashCodeExecutionToolResultBlock as BashCodeExecutionToolResultBlock
from ._core._message import BashCodeExecutionToolResultError as BashCodeExecutionToolResultError
from ._core._message import CacheCreation as CacheCreation
from ._core._message import Citation as Citation
from ._core._message import CitationCharLocation as CitationCharLocation
from ._core._message import CitationContentBlockLocation as CitationContentBlockLocation
from ._core._message import CitationPageLocation as CitationPageLocation
from ._core._message import CitationsSearchResultLocation as CitationsSearchResultLocation
from ._core._message import CitationsWebSearchResultLocation as CitationsWebSearchResultLocation
from ._core._message import CodeExecutionOutput as CodeExecutionOutput
from ._core._message import CodeExecutionResult as CodeExecutionResult
from ._core._message import CodeExecutionToolResultBlock as CodeExecutionToolResultBlock
from ._core._message import CodeExecutionToolResultError as CodeExecutionToolResultError
from ._core._message import Container as Container
from ._core._message import ContainerUploadBlock as ContainerUploadBlock
from ._core._message import ContentBlock as ContentBlock
from ._core._message import EncryptedCodeExecutionResult as EncryptedCodeExecutionResult
from ._core._message import MCPToolResultBlock as MCPToolResultBlock
from ._core._message import MCPToolUseBlock as MCPToolUseBlock
from ._core._message import Message as Message
from ._core._message import OutputTokensDetails as OutputTokensDetails
from ._core._message import RedactedThinkingBlock as RedactedThinkingBlock
from ._core._message import ServerToolUsage as ServerToolUsage
from ._core._message import ServerToolUseBlock as ServerToolUseBlock
from ._core._message import StopDetails as StopDetails
from ._core._message import TextBlock as TextBlock
from ._core._message import (
    TextEditorCodeExecutionToolResultBlock as TextEditorCodeExecutionToolResultBlock,
)
from ._core._message import ThinkingBlock as ThinkingBlock
from ._core._message import ToolSearchToolResultBlock as ToolSearchToolResultBlock
from ._core._message import ToolUseBlock as ToolUseBlock
from ._core._message import UnknownBlock as UnknownBlock
from ._core._message import Usage as Usage
from ._core._message import WebFetchResult as WebFetchResult
from ._core._message import WebFetchToolResultBlock as WebFetchToolResultBlock
from ._core._message import WebFetchToolResultError as WebFetchToolResultError
from ._core._message import WebSearchResult as WebSearchResult
from ._core._message import WebSearchToolResultBlock as WebSearchToolResultBlock
from ._core._message import WebSearchToolResultError as WebSearchToolResultError
from ._core._message import decode_message as decode_message
from ._core._params import Base64ImageSource as Base64ImageSource
from ._core._params import Base64PDFSource as Base64PDFSource
from ._core._params import BashTool as BashTool
from ._core._params import CacheControlEphemeral as CacheControlEphemeral
from ._core._params import CitationsConfig as CitationsConfig
from ._core._params import CodeExecutionTool as CodeExecutionTool
from ._core._params import ContainerParam as ContainerParam
from ._core._params import ContentBlockParam as ContentBlockParam
from ._core._params import ContentBlockSource as ContentBlockSource
from ._core._params import DocumentBlockParam as DocumentBlockParam
from ._core._params import FileSource as FileSource
from ._core._params import ImageBlockParam as ImageBlockParam
from ._core._params import JSONOutputFormat as JSONOutputFormat
from ._core._params import MCPServerURL as MCPServerURL
from ._core._params import MemoryTool as MemoryTool
from ._core._params import MessageCreateParams as MessageCreateParams
from ._core._params import MessageParam as MessageParam
from ._core._params import Metadata as Metadata
from ._core._params import OutputConfig as OutputConfig
from ._core._params import PlainTextSource as PlainTextSource
from ._core._params import RedactedThinkingBlockParam as RedactedThinkingBlockParam
from ._core._params import SearchResultBlockParam as SearchResultBlockParam
from ._core._params import TextBlockParam as TextBlockParam
from ._core._params import TextEditorTool as TextEditorTool
from ._core._params import ThinkingAdaptive as ThinkingAdaptive
from ._core._params import ThinkingBlockParam as ThinkingBlockParam
from ._core._params import ThinkingConfig as ThinkingConfig
from ._core._params import ThinkingDisabled as ThinkingDisabled
from ._core._params import ThinkingEnabled as ThinkingEnabled
from ._core._params import Tool as Tool
from ._core._params import ToolChoice as ToolChoice
from ._core._params import ToolChoiceAny as ToolChoiceAny
from ._core._params import ToolChoiceAuto as ToolChoiceAuto
from ._core._params import ToolChoiceNone as ToolChoiceNone
from ._core._params import ToolChoiceTool as ToolChoiceTool
from ._core._params import ToolResultBlockParam as ToolResultBlockParam
from ._core._params import ToolUnion as ToolUnion
from ._core._params import ToolUseBlockParam as ToolUseBlockParam
from ._core._params import URLSource as URLSource
from ._core._params import UserLocation as UserLocation
from ._core._params import WebFetchTool as WebFetchTool
from ._core._params import WebSearchTool as WebSearchTool
from ._core._params import json_schema_for as json_schema_for
from ._core._params import output_format_for as output_format_for
from ._core._params import parse_output as parse_output
from ._core._params import requires_streaming as requires_streaming
from ._core._params import to_request_body as to_request_body
from ._core._params import validate_count_tokens_params as validate_count_tokens_params
from ._core._params import validate_message_params as validate_message_params
from ._core._partial_json import PartialJSONParser as PartialJSONParser
from ._core._ratelimit import RateLimits as RateLimits
from ._core._serialize import to_builtins as to_builtins
from ._core._serialize import to_json as to_json
from ._core._sse import DEFAULT_MAX_EVENT_SIZE as DEFAULT_MAX_EVENT_SIZE
from ._core._sse import ServerSentEvent as ServerSentEvent
from ._core._sse import SSEDecoder as SSEDecoder
from ._http._pagination import AsyncPaginator as AsyncPaginator
from ._http._pagination import Page as Page
from ._http._pagination import cursor_pages as cursor_pages
from ._http._response import ResponseInfo as ResponseInfo
from ._http._response import response_info as response_info
from ._http._stream import CompletionStream as CompletionStream
from ._http._stream import CompletionStreamManager as CompletionStreamManager
from ._http._stream import MessageStream as MessageStream
from ._http._stream import MessageStreamManager as MessageStreamManager
from ._resources._admin import Admin as Admin
from ._resources._admin import APIKey as APIKey
from ._resources._admin import APIKeyCreator as APIKeyCreator
from ._resources._admin import APIKeys as APIKeys
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
from ._resources._admin import Invites as Invites
from ._resources._admin import MessagesUsageBucket as MessagesUsageBucket
from ._resources._admin import MessagesUsageResult as MessagesUsageResult
from ._resources._admin import Organization as Organization
from ._resources._admin import OrganizationInfo as OrganizationInfo
from ._resources._admin import OrganizationInvite as OrganizationInvite
from ._resources._admin import OrganizationUser as OrganizationUser
from ._resources._admin import UsageCacheCreation as UsageCacheCreation
from ._resources._admin import UsageReport as UsageReport
from ._resources._admin import UsageServerToolUse as UsageServerToolUse
from ._resources._admin import Users as Users
from ._resources._admin import Workspace as Workspace
from ._resources._admin import WorkspaceMember as WorkspaceMember
from ._resources._admin import WorkspaceMembers as WorkspaceMembers
from ._resources._admin import Workspaces as Workspaces
from ._resources._batches import Batches as Batches
from ._resources._batches import BatchResults as BatchResults
from ._resources._batches import DeletedMessageBatch as DeletedMessageBatch
from ._resources._batches import ErrorResponse as ErrorResponse
from ._resources._batches import MessageBatch as MessageBatch
from ._resources._batches import MessageBatchCanceledResult as MessageBatchCanceledResult
from ._resources._batches import MessageBatchErroredResult as MessageBatchErroredResult
from ._resources._batches import MessageBatchExpiredResult as MessageBatchExpiredResult
from ._resources._batches import MessageBatchIndividualResponse as MessageBatchIndividualResponse
from ._resources._batches import MessageBatchRequestCounts as MessageBatchRequestCounts
from ._resources._batches import MessageBatchResult as MessageBatchResult
from ._resources._batches import MessageBatchSucceededResult as MessageBatchSucceededResult
from ._resources._batches import UnknownBatchResult as UnknownBatchResult
from ._resources._batches import decode_batch_result as decode_batch_result
from ._resources._completions import Completions as Completions
from ._resources._files import MAX_FILE_SIZE as MAX_FILE_SIZE
from ._resources._files import DeletedFile as DeletedFile
from ._resources._files import FileDownload as FileDownload
from ._resources._files import FileMetadata as FileMetadata
from ._resources._files import Files as Files
from ._resources._files import FileScope as FileScope
from ._resources._models import ModelInfo as ModelInfo
from ._resources._models import Models as Models
from ._resources._skills import DeletedSkill as DeletedSkill
from ._resources._skills import DeletedSkillVersion as DeletedSkillVersion
from ._resources._skills import Skill as Skill
from ._resources._skills import SkillFiles as SkillFiles
from ._resources._skills import Skills as Skills
from ._resources._skills import SkillVersion as SkillVersion
from ._resources._skills import SkillVersions as SkillVersions
from ._resources._tokens import MessageTokensCount as MessageTokensCount

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
    "AuthenticationStatusError",
    "AuthenticationStreamError",
    "BadRequestError",
    "BadRequestStatusError",
    "BadRequestStreamError",
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
    "BillingStatusError",
    "BillingStreamError",
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
    "GatewayTimeoutStatusError",
    "GatewayTimeoutStreamError",
    "ImageBlockParam",
    "IncompleteStreamError",
    "InputJSONDelta",
    "InternalServerError",
    "InternalServerStatusError",
    "InternalServerStreamError",
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
    "NotFoundStatusError",
    "NotFoundStreamError",
    "Organization",
    "OrganizationInfo",
    "OrganizationInvite",
    "OrganizationUser",
    "OutputConfig",
    "OutputParseError",
    "OutputTokensDetails",
    "OverloadedError",
    "OverloadedStatusError",
    "OverloadedStreamError",
    "Page",
    "ParamsError",
    "PartialJSONError",
    "PartialJSONParser",
    "PermissionDeniedError",
    "PermissionDeniedStatusError",
    "PermissionDeniedStreamError",
    "Ping",
    "PlainTextSource",
    "RateLimitError",
    "RateLimitStatusError",
    "RateLimitStreamError",
    "RateLimits",
    "RedactedThinkingBlock",
    "RedactedThinkingBlockParam",
    "RequestTooLargeError",
    "RequestTooLargeStatusError",
    "RequestTooLargeStreamError",
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
