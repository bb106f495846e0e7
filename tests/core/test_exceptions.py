"""The exception tree: written-out classes, flavours, pickling and the public names."""

from __future__ import annotations

import pickle
from datetime import UTC, datetime
from typing import Any

import pytest

import sluice
from sluice import RateLimits

EXCEPTIONS = sorted(
    (
        value
        for value in vars(sluice).values()
        if isinstance(value, type) and issubclass(value, BaseException)
    ),
    key=lambda cls: cls.__name__,
)

# Keyword arguments that make each class constructible, by the first base that needs them.
PARTIAL = sluice.Message(id="msg_1", model="claude", content=[sluice.TextBlock(text="Hi")])
KWARGS: dict[type[BaseException], dict[str, Any]] = {
    sluice.ParamsError: {"field": "max_tokens"},
    sluice.AdminParamsError: {"param": "limit"},
    sluice.OutputParseError: {"text": "{", "stop_reason": "max_tokens"},
    sluice.PartialJSONError: {"position": 3, "text": "[1,"},
    sluice.BatchWaitTimeoutError: {"batch": None, "timeout": 1.5},
    sluice.UploadError: {"filename": "a.txt", "size": 3},
    sluice.CircuitOpenError: {"endpoint": "api.anthropic.com /v1/messages", "retry_after": 3.5},
    sluice.DeadlineExceededError: {"deadline": 2.0, "attempts": 3},
    sluice.QuotaExceededError: {
        "quota": "cost_per_day",
        "used": 5.25,
        "limit": 5.0,
        "resets_at": datetime(2025, 6, 2, tzinfo=UTC),
    },
    sluice.UnexpectedResponseError: {
        "status_code": 200,
        "request_id": "req_1",
        "content_type": "text/html",
        "head": b"<html>",
    },
    sluice.IncompleteStreamError: {
        "partial_message": PARTIAL,
        "events_received": 4,
        "unparsed": b"data: {",
    },
    sluice.EventDecodeError: {
        "event": "ping",
        "data": b"{",
        "offset": 7,
        "partial_message": PARTIAL,
    },
    sluice.EventTooLargeError: {"limit": 10, "offset": 2},
    sluice.ToolInputError: {
        "tool_name": "get_weather",
        "tool_use_id": "toolu_1",
        "index": 1,
        "text": '{"city": ',
        "position": 9,
        "partial_message": PARTIAL,
    },
    sluice.BufferOverflowError: {"buffer_size": 8},
    sluice.SubscriberTooSlowError: {"buffer_size": 8, "events_received": 3},
    sluice.StreamIdleTimeoutError: {"timeout": 2.0},
    sluice.APIStreamError: {
        "error_type": "overloaded_error",
        "request_id": "req_1",
        "partial_message": PARTIAL,
        "events_received": 5,
    },
    sluice.APIError: {
        "error_type": "overloaded_error",
        "request_id": "req_1",
        "status_code": 529,
        "body": {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}},
        "rate_limits": RateLimits(retry_after=2.0),
    },
}


def build(cls: type[BaseException]) -> BaseException:
    for base in cls.__mro__:
        if base in KWARGS:
            return cls("something went wrong", **KWARGS[base])
    return cls("something went wrong")


class TestTree:
    def test_every_exception_is_a_sluice_error(self) -> None:
        """Every exported exception derives from the one root."""
        assert len(EXCEPTIONS) >= 50
        for cls in EXCEPTIONS:
            assert issubclass(cls, sluice.SluiceError), cls

    def test_classes_are_written_out(self) -> None:
        """Every exception is a module-level class reachable as sluice.<Name>."""
        for cls in EXCEPTIONS:
            assert cls.__module__ == "sluice", cls
            assert getattr(sluice, cls.__qualname__) is cls

    @pytest.mark.parametrize(
        ("status", "stream"),
        [
            (sluice.OverloadedStatusError, sluice.OverloadedStreamError),
            (sluice.RateLimitStatusError, sluice.RateLimitStreamError),
            (sluice.InternalServerStatusError, sluice.InternalServerStreamError),
        ],
    )
    def test_flavours(self, status: type[sluice.APIError], stream: type[sluice.APIError]) -> None:
        """A flavour is caught by its error type and by exactly one of status/stream."""
        base = status.__mro__[2]
        assert issubclass(status, base) and issubclass(stream, base)
        assert issubclass(status, sluice.APIStatusError)
        assert not issubclass(status, sluice.APIStreamError)
        assert issubclass(stream, sluice.APIStreamError)
        assert issubclass(stream, sluice.StreamError)
        assert not issubclass(stream, sluice.APIStatusError)


class TestPickle:
    @pytest.mark.parametrize("cls", EXCEPTIONS, ids=lambda cls: cls.__name__)
    def test_round_trip(self, cls: type[BaseException]) -> None:
        """Every exported exception survives pickle with its message and attributes."""
        exc = build(cls)
        copy = pickle.loads(pickle.dumps(exc))
        assert type(copy) is cls
        assert str(copy) == str(exc)
        assert copy.args == exc.args
        for name, value in vars(exc).items():
            assert getattr(copy, name) == value, name

    def test_response_is_dropped(self) -> None:
        """An HTTP response does not travel in a pickle; everything else does."""
        exc = sluice.OverloadedStatusError(
            "Overloaded",
            status_code=529,
            request_id="req_9",
            response=object(),  # type: ignore[arg-type]
        )
        copy = pickle.loads(pickle.dumps(exc))
        assert copy.response is None
        assert copy.status_code == 529
        assert copy.request_id == "req_9"

    def test_in_stream_error_keeps_the_partial_message(self) -> None:
        """An in-stream overload pickles with the partial message it carries."""
        exc = sluice.OverloadedStreamError("Overloaded", partial_message=PARTIAL, events_received=5)
        copy = pickle.loads(pickle.dumps(exc))
        assert isinstance(copy, sluice.OverloadedError)
        assert isinstance(copy, sluice.APIStreamError)
        assert copy.partial_message == PARTIAL
        assert copy.events_received == 5
