"""sluice: a streaming-first toolkit for the Anthropic Messages API.

Bytes from httpx -> SSE frames (``_sse``) -> typed events (``_events``) -> operators
(``sluice.ops``) -> your code. See the README for the two commands and examples.
"""

from __future__ import annotations

from . import ops as ops
from ._accumulate import MessageAccumulator as MessageAccumulator
from ._client import AsyncClient as AsyncClient
from ._client import Messages as Messages
from ._client import ResponseInfo as ResponseInfo
from ._client import response_info as response_info
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
from ._exceptions import APIConnectionError as APIConnectionError
from ._exceptions import APIError as APIError
from ._exceptions import APIStatusError as APIStatusError
from ._exceptions import APIStreamError as APIStreamError
from ._exceptions import APITimeoutError as APITimeoutError
from ._exceptions import AuthenticationError as AuthenticationError
from ._exceptions import BadRequestError as BadRequestError
from ._exceptions import BillingError as BillingError
from ._exceptions import BufferOverflowError as BufferOverflowError
from ._exceptions import EventDecodeError as EventDecodeError
from ._exceptions import EventTooLargeError as EventTooLargeError
from ._exceptions import GatewayTimeoutError as GatewayTimeoutError
from ._exceptions import IncompleteStreamError as IncompleteStreamError
from ._exceptions import InternalServerError as InternalServerError
from ._exceptions import NotFoundError as NotFoundError
from ._exceptions import OverloadedError as OverloadedError
from ._exceptions import PartialJSONError as PartialJSONError
from ._exceptions import PermissionDeniedError as PermissionDeniedError
from ._exceptions import RateLimitError as RateLimitError
from ._exceptions import RequestTooLargeError as RequestTooLargeError
from ._exceptions import SluiceError as SluiceError
from ._exceptions import StreamError as StreamError
from ._exceptions import StreamIdleTimeoutError as StreamIdleTimeoutError
from ._exceptions import SubscriberTooSlowError as SubscriberTooSlowError
from ._exceptions import ToolInputError as ToolInputError
from ._exceptions import UnexpectedEventError as UnexpectedEventError
from ._pagination import AsyncPaginator as AsyncPaginator
from ._pagination import Page as Page
from ._partial_json import PartialJSONParser as PartialJSONParser
from ._ratelimit import RateLimits as RateLimits
from ._serialize import to_builtins as to_builtins
from ._serialize import to_json as to_json
from ._sse import DEFAULT_MAX_EVENT_SIZE as DEFAULT_MAX_EVENT_SIZE
from ._sse import ServerSentEvent as ServerSentEvent
from ._sse import SSEDecoder as SSEDecoder
from ._stream import MessageStream as MessageStream
from ._stream import MessageStreamManager as MessageStreamManager

__version__ = "0.1.0"

__all__ = [
    "APIConnectionError",
    "APIError",
    "APIStatusError",
    "APIStreamError",
    "APITimeoutError",
    "AsyncClient",
    "AsyncPaginator",
    "AuthenticationError",
    "BadRequestError",
    "BashCodeExecutionOutput",
    "BashCodeExecutionResult",
    "BashCodeExecutionToolResultBlock",
    "BashCodeExecutionToolResultError",
    "BillingError",
    "BufferOverflowError",
    "CacheCreation",
    "Citation",
    "CitationCharLocation",
    "CitationContentBlockLocation",
    "CitationPageLocation",
    "CitationsDelta",
    "CitationsSearchResultLocation",
    "CitationsWebSearchResultLocation",
    "CodeExecutionOutput",
    "CodeExecutionResult",
    "CodeExecutionToolResultBlock",
    "CodeExecutionToolResultError",
    "Container",
    "ContainerUploadBlock",
    "ContentBlock",
    "ContentBlockDelta",
    "ContentBlockStart",
    "ContentBlockStop",
    "DEFAULT_MAX_EVENT_SIZE",
    "Delta",
    "EncryptedCodeExecutionResult",
    "ErrorDetail",
    "ErrorEvent",
    "Event",
    "EventDecodeError",
    "EventStreamDecoder",
    "EventTooLargeError",
    "GatewayTimeoutError",
    "IncompleteStreamError",
    "InputJSONDelta",
    "InternalServerError",
    "MCPToolResultBlock",
    "MCPToolUseBlock",
    "Message",
    "MessageAccumulator",
    "MessageDelta",
    "MessageDeltaBody",
    "MessageDeltaUsage",
    "MessageStart",
    "MessageStop",
    "MessageStream",
    "MessageStreamManager",
    "Messages",
    "NotFoundError",
    "OutputTokensDetails",
    "OverloadedError",
    "Page",
    "PartialJSONError",
    "PartialJSONParser",
    "PermissionDeniedError",
    "Ping",
    "RateLimitError",
    "RateLimits",
    "RedactedThinkingBlock",
    "RequestTooLargeError",
    "ResponseInfo",
    "SSEDecoder",
    "ServerSentEvent",
    "ServerToolUsage",
    "ServerToolUseBlock",
    "SignatureDelta",
    "SluiceError",
    "StopDetails",
    "StreamError",
    "StreamIdleTimeoutError",
    "SubscriberTooSlowError",
    "TextBlock",
    "TextDelta",
    "TextEditorCodeExecutionToolResultBlock",
    "ThinkingBlock",
    "ThinkingDelta",
    "ToolInputError",
    "ToolSearchToolResultBlock",
    "ToolUseBlock",
    "UnexpectedEventError",
    "UnknownBlock",
    "UnknownDelta",
    "UnknownEvent",
    "Usage",
    "WebFetchResult",
    "WebFetchToolResultBlock",
    "WebFetchToolResultError",
    "WebSearchResult",
    "WebSearchToolResultBlock",
    "WebSearchToolResultError",
    "decode_event",
    "decode_message",
    "ops",
    "response_info",
    "to_builtins",
    "to_json",
]
