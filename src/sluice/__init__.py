"""sluice: a streaming-first toolkit for the Anthropic Messages API.

The data path, and the package's rooms along it: bytes from httpx -> SSE frames ->
typed events -> accumulated message (the sans-I/O core, ``_core/``) -> operators
(:mod:`sluice.ops`) -> your code. The HTTP layer (``_http/``) sends requests and owns
response bodies; the agent loop (``_runner/``, ``client.messages.run`` and
``@sluice.tool``) runs tools over its streams; the endpoint resources (``_resources/``)
hang off :class:`AsyncClient`; :class:`Client` is its synchronous twin (``_sync/``,
generated from the async code).
Every wire type is in :mod:`sluice.types`, the Admin API's in :mod:`sluice.admin`, and a
local mock of the API for tests in :mod:`sluice.testing`. See the README for the two
commands and examples.
"""

from __future__ import annotations

from . import admin as admin
from . import ops as ops
from . import types as types
from ._client import AsyncClient as AsyncClient
from ._core._accumulate import MessageAccumulator as MessageAccumulator
from ._core._conversation import inject_system as inject_system
from ._core._conversation import prune_tool_results as prune_tool_results
from ._core._decode import EventStreamDecoder as EventStreamDecoder
from ._core._events import CitationsDelta as CitationsDelta
from ._core._events import ContentBlockDelta as ContentBlockDelta
from ._core._events import ContentBlockStart as ContentBlockStart
from ._core._events import ContentBlockStop as ContentBlockStop
from ._core._events import Delta as Delta
from ._core._events import ErrorEvent as ErrorEvent
from ._core._events import Event as Event
from ._core._events import InputJSONDelta as InputJSONDelta
from ._core._events import MessageDelta as MessageDelta
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
from ._core._exceptions import CircuitOpenError as CircuitOpenError
from ._core._exceptions import ConfigError as ConfigError
from ._core._exceptions import DeadlineExceededError as DeadlineExceededError
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
from ._core._exceptions import QuotaExceededError as QuotaExceededError
from ._core._exceptions import RateLimitError as RateLimitError
from ._core._exceptions import RateLimitStatusError as RateLimitStatusError
from ._core._exceptions import RateLimitStreamError as RateLimitStreamError
from ._core._exceptions import RedisError as RedisError
from ._core._exceptions import RedisProtocolError as RedisProtocolError
from ._core._exceptions import RedisReplyError as RedisReplyError
from ._core._exceptions import RedisTimeoutError as RedisTimeoutError
from ._core._exceptions import RequestTooLargeError as RequestTooLargeError
from ._core._exceptions import RequestTooLargeStatusError as RequestTooLargeStatusError
from ._core._exceptions import RequestTooLargeStreamError as RequestTooLargeStreamError
from ._core._exceptions import RunCancelledError as RunCancelledError
from ._core._exceptions import SluiceError as SluiceError
from ._core._exceptions import StreamError as StreamError
from ._core._exceptions import StreamIdleTimeoutError as StreamIdleTimeoutError
from ._core._exceptions import StreamingRequiredError as StreamingRequiredError
from ._core._exceptions import SubscriberTooSlowError as SubscriberTooSlowError
from ._core._exceptions import ToolError as ToolError
from ._core._exceptions import ToolInputError as ToolInputError
from ._core._exceptions import UnexpectedEventError as UnexpectedEventError
from ._core._exceptions import UnexpectedResponseError as UnexpectedResponseError
from ._core._exceptions import UploadError as UploadError
from ._core._message import ContentBlock as ContentBlock
from ._core._message import Message as Message
from ._core._message import RedactedThinkingBlock as RedactedThinkingBlock
from ._core._message import ServerToolUseBlock as ServerToolUseBlock
from ._core._message import TextBlock as TextBlock
from ._core._message import ThinkingBlock as ThinkingBlock
from ._core._message import ToolUseBlock as ToolUseBlock
from ._core._message import UnknownBlock as UnknownBlock
from ._core._message import Usage as Usage
from ._core._message import decode_message as decode_message
from ._core._meter import UsageMeter as UsageMeter
from ._core._partial_json import PartialJSONParser as PartialJSONParser
from ._core._ratelimit import RateLimits as RateLimits
from ._core._request import build_request as build_request
from ._core._request import status_error as status_error
from ._core._serialize import to_builtins as to_builtins
from ._core._serialize import to_json as to_json
from ._core._sse import ServerSentEvent as ServerSentEvent
from ._core._sse import SSEDecoder as SSEDecoder
from ._core._structured import json_schema_for as json_schema_for
from ._core._structured import output_format_for as output_format_for
from ._core._structured import parse_output as parse_output
from ._http._observe import curl as curl
from ._http._pagination import AsyncPaginator as AsyncPaginator
from ._http._pagination import Page as Page
from ._http._requester import Endpoint as Endpoint
from ._http._response import ResponseInfo as ResponseInfo
from ._http._response import response_info as response_info
from ._http._stream import CompletionStream as CompletionStream
from ._http._stream import MessageStream as MessageStream
from ._http._stream import MessageStreamManager as MessageStreamManager
from ._resources._batches import BatchResults as BatchResults
from ._resources._files import FileDownload as FileDownload
from ._runner._run import Run as Run
from ._runner._tool import tool as tool
from ._sync._batches import SyncBatchResults as SyncBatchResults
from ._sync._client import Client as Client
from ._sync._files import SyncFileDownload as SyncFileDownload
from ._sync._pagination import Paginator as Paginator
from ._sync._stream import SyncCompletionStream as SyncCompletionStream
from ._sync._stream import SyncMessageStream as SyncMessageStream
from ._sync._stream import SyncMessageStreamManager as SyncMessageStreamManager

__version__ = "0.1.0"

__all__ = [
    "APIConnectionError",
    "APIError",
    "APIStatusError",
    "APIStreamError",
    "APITimeoutError",
    "AdminParamsError",
    "AsyncClient",
    "AsyncPaginator",
    "AuthenticationError",
    "AuthenticationStatusError",
    "AuthenticationStreamError",
    "BadRequestError",
    "BadRequestStatusError",
    "BadRequestStreamError",
    "BatchResults",
    "BatchWaitTimeoutError",
    "BillingError",
    "BillingStatusError",
    "BillingStreamError",
    "BufferOverflowError",
    "CircuitOpenError",
    "CitationsDelta",
    "Client",
    "CompletionStream",
    "ConfigError",
    "ContentBlock",
    "ContentBlockDelta",
    "ContentBlockStart",
    "ContentBlockStop",
    "DeadlineExceededError",
    "Delta",
    "Endpoint",
    "ErrorEvent",
    "Event",
    "EventDecodeError",
    "EventStreamDecoder",
    "EventTooLargeError",
    "FileDownload",
    "GatewayTimeoutError",
    "GatewayTimeoutStatusError",
    "GatewayTimeoutStreamError",
    "IncompleteStreamError",
    "InputJSONDelta",
    "InternalServerError",
    "InternalServerStatusError",
    "InternalServerStreamError",
    "Message",
    "MessageAccumulator",
    "MessageDelta",
    "MessageStart",
    "MessageStop",
    "MessageStream",
    "MessageStreamManager",
    "NotFoundError",
    "NotFoundStatusError",
    "NotFoundStreamError",
    "OutputParseError",
    "OverloadedError",
    "OverloadedStatusError",
    "OverloadedStreamError",
    "Page",
    "Paginator",
    "ParamsError",
    "PartialJSONError",
    "PartialJSONParser",
    "PermissionDeniedError",
    "PermissionDeniedStatusError",
    "PermissionDeniedStreamError",
    "Ping",
    "QuotaExceededError",
    "RateLimitError",
    "RateLimitStatusError",
    "RateLimitStreamError",
    "RateLimits",
    "RedactedThinkingBlock",
    "RedisError",
    "RedisProtocolError",
    "RedisReplyError",
    "RedisTimeoutError",
    "RequestTooLargeError",
    "RequestTooLargeStatusError",
    "RequestTooLargeStreamError",
    "ResponseInfo",
    "Run",
    "RunCancelledError",
    "SSEDecoder",
    "ServerSentEvent",
    "ServerToolUseBlock",
    "SignatureDelta",
    "SluiceError",
    "StreamError",
    "StreamIdleTimeoutError",
    "StreamingRequiredError",
    "SubscriberTooSlowError",
    "SyncBatchResults",
    "SyncCompletionStream",
    "SyncFileDownload",
    "SyncMessageStream",
    "SyncMessageStreamManager",
    "TextBlock",
    "TextDelta",
    "ThinkingBlock",
    "ThinkingDelta",
    "ToolError",
    "ToolInputError",
    "ToolUseBlock",
    "UnexpectedEventError",
    "UnexpectedResponseError",
    "UnknownBlock",
    "UnknownDelta",
    "UnknownEvent",
    "UploadError",
    "Usage",
    "UsageMeter",
    "admin",
    "build_request",
    "curl",
    "decode_event",
    "decode_message",
    "inject_system",
    "json_schema_for",
    "ops",
    "output_format_for",
    "parse_output",
    "prune_tool_results",
    "response_info",
    "status_error",
    "to_builtins",
    "to_json",
    "tool",
    "types",
]
