"""The public surface: the exported names are pinned, documented, and importable."""

from __future__ import annotations

import inspect
from types import ModuleType

import pytest

import sluice
from sluice import admin, ops, testing, types

# What ``import sluice`` offers: what users call, construct or catch. Changing this set is
# a decision, made here on purpose; the wire types live in sluice.types, the Admin API's in
# sluice.admin.
TOP_LEVEL = {
    "Endpoint",
    "build_request",
    "curl",
    "status_error",
    "AsyncClient",
    "AsyncPaginator",
    "BatchResults",
    "CitationsDelta",
    "Client",
    "CompletionStream",
    "ContentBlock",
    "ContentBlockDelta",
    "ContentBlockStart",
    "ContentBlockStop",
    "Delta",
    "ErrorEvent",
    "Event",
    "EventStreamDecoder",
    "FileDownload",
    "InputJSONDelta",
    "Message",
    "MessageAccumulator",
    "MessageDelta",
    "MessageStart",
    "MessageStop",
    "MessageStream",
    "MessageStreamManager",
    "Page",
    "Paginator",
    "PartialJSONParser",
    "Ping",
    "RateLimits",
    "RedactedThinkingBlock",
    "ResponseInfo",
    "Run",
    "SSEDecoder",
    "ServerSentEvent",
    "ServerToolUseBlock",
    "SignatureDelta",
    "SyncBatchResults",
    "SyncCompletionStream",
    "SyncFileDownload",
    "SyncMessageStream",
    "SyncMessageStreamManager",
    "TextBlock",
    "TextDelta",
    "ThinkingBlock",
    "ThinkingDelta",
    "ToolUseBlock",
    "UnknownBlock",
    "UnknownDelta",
    "UnknownEvent",
    "Usage",
    "UsageMeter",
    "admin",
    "decode_event",
    "decode_message",
    "inject_system",
    "json_schema_for",
    "ops",
    "output_format_for",
    "parse_output",
    "prune_tool_results",
    "response_info",
    "to_builtins",
    "to_json",
    "tool",
    "types",
}
EXCEPTIONS = {
    "CircuitOpenError",
    "ConfigError",
    "DeadlineExceededError",
    "APIConnectionError",
    "APIError",
    "APIStatusError",
    "APIStreamError",
    "APITimeoutError",
    "AdminParamsError",
    "AuthenticationError",
    "AuthenticationStatusError",
    "AuthenticationStreamError",
    "BadRequestError",
    "BadRequestStatusError",
    "BadRequestStreamError",
    "BatchWaitTimeoutError",
    "BillingError",
    "BillingStatusError",
    "BillingStreamError",
    "BufferOverflowError",
    "EventDecodeError",
    "EventTooLargeError",
    "GatewayTimeoutError",
    "GatewayTimeoutStatusError",
    "GatewayTimeoutStreamError",
    "IncompleteStreamError",
    "InternalServerError",
    "InternalServerStatusError",
    "InternalServerStreamError",
    "NotFoundError",
    "NotFoundStatusError",
    "NotFoundStreamError",
    "OutputParseError",
    "OverloadedError",
    "OverloadedStatusError",
    "OverloadedStreamError",
    "ParamsError",
    "PartialJSONError",
    "PermissionDeniedError",
    "PermissionDeniedStatusError",
    "PermissionDeniedStreamError",
    "QuotaExceededError",
    "RateLimitError",
    "RateLimitStatusError",
    "RateLimitStreamError",
    "RedisError",
    "RedisProtocolError",
    "RedisReplyError",
    "RedisTimeoutError",
    "RequestTooLargeError",
    "RequestTooLargeStatusError",
    "RequestTooLargeStreamError",
    "RunCancelledError",
    "SluiceError",
    "StreamError",
    "StreamIdleTimeoutError",
    "StreamingRequiredError",
    "SubscriberTooSlowError",
    "ToolError",
    "ToolInputError",
    "UnexpectedEventError",
    "UnexpectedResponseError",
    "UploadError",
}


def public_names(module: ModuleType) -> set[str]:
    return {
        name
        for name, value in vars(module).items()
        if not name.startswith(("_", "@"))
        and name != "annotations"
        and not (isinstance(value, ModuleType) and name not in module.__all__)
    }


class TestTopLevel:
    def test_exported_set_is_pinned(self) -> None:
        """sluice.__all__ is exactly the pinned set of names, sorted."""
        assert set(sluice.__all__) == TOP_LEVEL | EXCEPTIONS
        assert sluice.__all__ == sorted(sluice.__all__)

    def test_about_sixty_names_besides_exceptions(self) -> None:
        """The top level stays small: what users call or construct, plus every exception.

        Exceptions are all exported (users catch them by name), so they are not counted; the
        sync client's seven twins of async names are.
        """
        others = [name for name in sluice.__all__ if name not in EXCEPTIONS]
        assert len(others) <= 70, others

    def test_all_matches_public_names(self) -> None:
        """__all__ lists every public name of the package and nothing else."""
        assert set(sluice.__all__) == public_names(sluice)

    def test_every_exception_is_exported(self) -> None:
        """Every exception class of the package is in sluice.__all__, under the one root."""
        for name in EXCEPTIONS:
            obj = getattr(sluice, name)
            assert issubclass(obj, sluice.SluiceError), name
        for name in TOP_LEVEL:
            obj = getattr(sluice, name)
            assert not (isinstance(obj, type) and issubclass(obj, BaseException)), name


@pytest.mark.parametrize("module", [sluice, types, admin, ops, testing], ids=lambda m: m.__name__)
class TestNamespaces:
    def test_all_is_sorted_and_complete(self, module: ModuleType) -> None:
        """Each public namespace's __all__ lists exactly its public names, sorted."""
        assert set(module.__all__) == public_names(module)
        assert module.__all__ == sorted(module.__all__)

    def test_every_name_is_documented(self, module: ModuleType) -> None:
        """Every exported class and function has a docstring."""
        for name in module.__all__:
            obj = getattr(module, name)
            if isinstance(obj, type) or inspect.isfunction(obj):
                assert obj.__doc__, name

    def test_no_private_names_leak(self, module: ModuleType) -> None:
        """Resource classes and plumbing stay private."""
        for name in (
            "Messages",
            "Models",
            "Files",
            "Skills",
            "Batches",
            "Requester",
            "cursor_pages",
            "to_request_body",
            "decode_batch_result",
        ):
            assert name not in module.__all__, name


class TestTypes:
    def test_top_level_types_are_the_same_objects(self) -> None:
        """A type exported at the top level and in sluice.types is one class."""
        for name in set(sluice.__all__) & set(types.__all__):
            assert getattr(sluice, name) is getattr(types, name), name

    def test_admin_types_are_not_in_types(self) -> None:
        """The Admin API's types live in sluice.admin only."""
        assert not set(admin.__all__) & set(types.__all__)
