"""Every type of the API's wire format, as ``msgspec`` structs: ``sluice.types``.

Mirrors ``anthropic.types`` so that code migrates by changing the import: the ``Message``
and its content blocks, citations and usage; the stream's events and deltas; the request
params (``MessageParam``, ``Tool``, ``ThinkingEnabled``...; plain dicts work wherever these
do); and the result types of the other endpoints (batches, files, skills, models, legacy
completions). Also the settings and records of the client's resilience features
(``LimitSettings``, ``BreakerSettings``, ``FailoverSettings``, ``HealthReport`` and the
records its hooks receive), the tool runner's events (``StepStart``, ``ToolStart``,
``ToolFinish``, ``StepEnd``), its tool types (``FunctionTool``, ``PartialInput``) and the
price table (``PRICING``, ``ModelPricing``, ``PriceTable``), and the usage meter's quotas and
reports (``QuotaSettings``, ``UsageReport``, ``ModelUsage``, ``UsageWindow``,
``QuotaStatus``, ``UsageTally``). The Admin API's types are in
:mod:`sluice.admin`.

The types used in almost every program (``Message``, the events and deltas, the common
content blocks) are also exported by ``sluice`` itself.
"""

from __future__ import annotations

from ._core._breaker import BreakerSettings as BreakerSettings
from ._core._completions import Completion as Completion
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
from ._core._limiter import LimitSettings as LimitSettings
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
from ._core._meter import ModelUsage as ModelUsage
from ._core._meter import QuotaSettings as QuotaSettings
from ._core._meter import QuotaStatus as QuotaStatus
from ._core._meter import UsageReport as UsageReport
from ._core._meter import UsageTally as UsageTally
from ._core._meter import UsageWindow as UsageWindow
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
from ._core._pricing import PRICING as PRICING
from ._core._pricing import ModelPricing as ModelPricing
from ._core._pricing import PriceTable as PriceTable
from ._core._request import PreparedRequest as PreparedRequest
from ._http._observe import FailoverRecord as FailoverRecord
from ._http._observe import RequestRecord as RequestRecord
from ._http._observe import ResponseRecord as ResponseRecord
from ._http._observe import RetryRecord as RetryRecord
from ._http._requester import FailoverSettings as FailoverSettings
from ._http._requester import HealthReport as HealthReport
from ._http._requester import RequestOptions as RequestOptions
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
from ._resources._files import DeletedFile as DeletedFile
from ._resources._files import FileMetadata as FileMetadata
from ._resources._files import FileScope as FileScope
from ._resources._messages import MessageTokensCount as MessageTokensCount
from ._resources._models import ModelInfo as ModelInfo
from ._resources._skills import DeletedSkill as DeletedSkill
from ._resources._skills import DeletedSkillVersion as DeletedSkillVersion
from ._resources._skills import Skill as Skill
from ._resources._skills import SkillFiles as SkillFiles
from ._resources._skills import SkillVersion as SkillVersion
from ._runner._events import RunEvent as RunEvent
from ._runner._events import StepEnd as StepEnd
from ._runner._events import StepStart as StepStart
from ._runner._events import ToolFinish as ToolFinish
from ._runner._events import ToolOutcome as ToolOutcome
from ._runner._events import ToolStart as ToolStart
from ._runner._tool import FunctionTool as FunctionTool
from ._runner._tool import PartialInput as PartialInput

__all__ = [
    "Base64ImageSource",
    "Base64PDFSource",
    "BashCodeExecutionOutput",
    "BashCodeExecutionResult",
    "BashCodeExecutionToolResultBlock",
    "BashCodeExecutionToolResultError",
    "BashTool",
    "BreakerSettings",
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
    "CodeExecutionOutput",
    "CodeExecutionResult",
    "CodeExecutionTool",
    "CodeExecutionToolResultBlock",
    "CodeExecutionToolResultError",
    "Completion",
    "Container",
    "ContainerParam",
    "ContainerUploadBlock",
    "ContentBlock",
    "ContentBlockDelta",
    "ContentBlockParam",
    "ContentBlockSource",
    "ContentBlockStart",
    "ContentBlockStop",
    "DeletedFile",
    "DeletedMessageBatch",
    "DeletedSkill",
    "DeletedSkillVersion",
    "Delta",
    "DocumentBlockParam",
    "EncryptedCodeExecutionResult",
    "ErrorDetail",
    "ErrorEvent",
    "ErrorResponse",
    "Event",
    "FailoverRecord",
    "FailoverSettings",
    "FileMetadata",
    "FileScope",
    "FileSource",
    "FunctionTool",
    "HealthReport",
    "ImageBlockParam",
    "InputJSONDelta",
    "JSONOutputFormat",
    "LimitSettings",
    "MCPServerURL",
    "MCPToolResultBlock",
    "MCPToolUseBlock",
    "MemoryTool",
    "Message",
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
    "MessageTokensCount",
    "Metadata",
    "ModelInfo",
    "ModelPricing",
    "ModelUsage",
    "OutputConfig",
    "OutputTokensDetails",
    "PRICING",
    "PartialInput",
    "Ping",
    "PlainTextSource",
    "PreparedRequest",
    "PriceTable",
    "QuotaSettings",
    "QuotaStatus",
    "RedactedThinkingBlock",
    "RedactedThinkingBlockParam",
    "RequestOptions",
    "RequestRecord",
    "ResponseRecord",
    "RetryRecord",
    "RunEvent",
    "SearchResultBlockParam",
    "ServerToolUsage",
    "ServerToolUseBlock",
    "SignatureDelta",
    "Skill",
    "SkillFiles",
    "SkillVersion",
    "StepEnd",
    "StepStart",
    "StopDetails",
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
    "ToolFinish",
    "ToolOutcome",
    "ToolResultBlockParam",
    "ToolSearchToolResultBlock",
    "ToolStart",
    "ToolUnion",
    "ToolUseBlock",
    "ToolUseBlockParam",
    "URLSource",
    "UnknownBatchResult",
    "UnknownBlock",
    "UnknownDelta",
    "UnknownEvent",
    "Usage",
    "UsageReport",
    "UsageTally",
    "UsageWindow",
    "UserLocation",
    "WebFetchResult",
    "WebFetchTool",
    "WebFetchToolResultBlock",
    "WebFetchToolResultError",
    "WebSearchResult",
    "WebSearchTool",
    "WebSearchToolResultBlock",
    "WebSearchToolResultError",
]
