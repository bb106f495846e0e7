"""The exception tree. Every error sluice raises is a :class:`SluiceError`.

::

    SluiceError
    ├── ConfigError                   the client's configuration is unusable (no key, a key with
    │                                 a line break...), or a run's hook answered nonsense (also
    │                                 a ValueError)
    ├── APIConnectionError            the request never got an HTTP response
    │   ├── APITimeoutError           ... because a timeout expired
    │   │   └── DeadlineExceededError ... the request's total time budget ran out
    │   └── CircuitOpenError          ... the endpoint's circuit breaker is open
    ├── APIError                      the API said no (HTTP status or in-stream `error` event)
    │   ├── BadRequestError           400  invalid_request_error
    │   ├── AuthenticationError       401  authentication_error
    │   ├── BillingError              402  billing_error
    │   ├── PermissionDeniedError     403  permission_error
    │   ├── NotFoundError             404  not_found_error
    │   ├── RequestTooLargeError      413  request_too_large
    │   ├── RateLimitError            429  rate_limit_error
    │   ├── InternalServerError       500  api_error (and any other 5xx)
    │   ├── GatewayTimeoutError       504  timeout_error
    │   └── OverloadedError           529  overloaded_error
    │   (each comes in two flavours, written out below: for an HTTP status it is raised as
    │    <Name>StatusError, also an APIStatusError, e.g. OverloadedStatusError; for an
    │    in-stream `event: error` as <Name>StreamError, also an APIStreamError)
    ├── ParamsError                   request parameters the API would reject, or options sluice
    │   │                             cannot use (nothing sent; also a ValueError)
    │   ├── StreamingRequiredError    too many max_tokens for a non-streaming request
    │   └── AdminParamsError          an Admin API parameter is invalid
    ├── QuotaExceededError            a quota of the usage meter (requests, tokens or cost per
    │                                 UTC day or month) is used up; nothing was sent
    ├── OutputParseError              a structured-output reply does not decode into its type
    ├── PartialJSONError              text fed to the partial-JSON parser is not JSON
    ├── BatchWaitTimeoutError         batches.wait() gave up before the batch ended
    │                                 (also a TimeoutError)
    ├── UploadError                   a file or skill upload is invalid (empty, too large, no
    │                                 SKILL.md...); the API never got it (also a ValueError)
    ├── UnexpectedResponseError       a successful response whose body is not what the
    │                                 endpoint returns (a proxy's HTML page...)
    ├── RedisError                    talking to Redis failed (rate limits shared through
    │   │                             Redis, the relay's store): no connection, a broken one
    │   ├── RedisReplyError           ... Redis answered a command with an error
    │   ├── RedisProtocolError        ... what came back is not RESP2, or not the reply's shape
    │   └── RedisTimeoutError         ... no answer within the command timeout (also a
    │                                 TimeoutError)
    ├── ToolError                     raised by your tool: its content (text, images) goes
    │                                 back to the model as an `is_error` tool_result
    ├── RunCancelledError             run.final_message() of a run cancelled before any step
    │                                 completed: there is no message
    └── StreamError                   the stream broke; carries the partial message so far
        ├── APIStreamError            an in-stream `event: error` (mixed into the classes above)
        ├── IncompleteStreamError     the body ended before `message_stop`
        ├── EventDecodeError          an event's JSON did not decode
        ├── EventTooLargeError        one SSE event exceeded the configured maximum size
        ├── UnexpectedEventError      events out of order (a delta before message_start...)
        ├── ToolInputError            a tool call's streamed input is not valid JSON
        ├── BufferOverflowError       ops.controlled(overflow="error") found its buffer full
        ├── SubscriberTooSlowError    a broadcast subscriber fell behind (slow="disconnect")
        └── StreamIdleTimeoutError    no event arrived within the idle timeout

``except sluice.OverloadedError`` catches an overload whether it came as HTTP 529 before the
body started or as an ``error`` event in the middle of a 200 stream; ``except
sluice.APIStreamError`` catches only the latter, ``except sluice.APIStatusError`` only the
former. The official SDK raises in-stream errors as a generic status-200 error instead.

Every exception pickles (``pickle.dumps``/``loads`` round-trips its message and attributes;
an HTTP ``response`` arrives as ``None``) and is importable as ``sluice.<Name>``.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any, ClassVar, Protocol

if TYPE_CHECKING:
    from ._message import Message
    from ._ratelimit import RateLimits

__all__ = [
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
    "CircuitOpenError",
    "ConfigError",
    "DeadlineExceededError",
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
]


class HTTPResponse(Protocol):
    """What an :class:`APIError` keeps of the HTTP response: an ``httpx.Response``.

    Declared structurally so that this sans-I/O module does not import httpx.
    """

    @property
    def status_code(self) -> int: ...

    @property
    def headers(self) -> Mapping[str, str]: ...

    @property
    def content(self) -> bytes: ...

    @property
    def text(self) -> str: ...


class SluiceError(Exception):
    """Root of every exception sluice raises.

    Every sluice exception pickles (for multiprocessing pools and task queues) with its
    message and attributes, except ``response`` (an HTTP response is tied to its
    connection), which arrives as ``None``.
    """

    def __reduce__(self) -> tuple[Any, ...]:
        # BaseException pickles as cls(*args), which fails for keyword-only arguments:
        # rebuild without calling __init__, then restore the attributes.
        state = dict(self.__dict__)
        if "response" in state:
            state["response"] = None
        return (_rebuild, (type(self), self.args, state))


def _rebuild(cls: type[SluiceError], args: tuple[Any, ...], state: dict[str, Any]) -> SluiceError:
    exc = cls.__new__(cls, *args)
    exc.args = args
    exc.__dict__.update(state)
    return exc


class ConfigError(SluiceError, ValueError):
    """The client, or a run, cannot work as configured.

    For example no API key, or a key with whitespace or a line break from a copy-paste:
    raised before anything is sent. Or a hook given to ``client.messages.run`` that
    answers what it must not (a ``needs_approval`` returning neither ``True``, ``False``
    nor a reason): the run fails with it, its calls answered. The message says what to
    fix; it never shows the key.
    """


class _Reproducible:
    """Errors about a request that can be replayed by hand: :meth:`curl`.

    Every error a client raises about a request it sent (or was about to send) has the
    command: HTTP and in-stream API errors, connection errors, timeouts, deadlines, open
    breakers, and the errors of a response read as it arrives (a stream that breaks off,
    an event that does not decode, a body of the wrong kind).
    """

    def curl(self) -> str:
        """The failed request as a copy-paste ``curl`` command, the key redacted
        (``""`` when the request is not known: an error from bytes fed to a decoder)."""
        return str(self.__dict__.get("_curl", ""))


class APIConnectionError(_Reproducible, SluiceError):
    """The request failed before any HTTP response arrived (DNS, refused, reset, TLS...),
    or a successful response's body broke off before it was whole.

    The underlying ``httpx`` exception is chained as ``__cause__``.

    Attributes:
        request_id: the ``request-id`` of the response whose body broke off (quote it to
            support); ``None`` when no response arrived.
    """

    request_id: str | None = None


class APITimeoutError(APIConnectionError):
    """A connect, read, write or pool timeout expired before the response started."""


class DeadlineExceededError(APITimeoutError):
    """The request's total time budget (``deadline``) ran out.

    The budget covers every attempt, the backoff between retries, rate-limit waits and
    failover; for a stream, until its response starts.

    Attributes:
        deadline: the budget in seconds.
        attempts: how many attempts were started.
    """

    def __init__(self, message: str, *, deadline: float, attempts: int) -> None:
        super().__init__(message)
        self.deadline = deadline
        self.attempts = attempts


class CircuitOpenError(APIConnectionError):
    """The endpoint's circuit breaker is open: recent requests failed, this one was not sent.

    Attributes:
        endpoint: the endpoint (its name, by default the base URL's host) and path.
        retry_after: seconds until the breaker lets a probe request through.
    """

    def __init__(self, message: str, *, endpoint: str, retry_after: float) -> None:
        super().__init__(message)
        self.endpoint = endpoint
        self.retry_after = retry_after


class ParamsError(SluiceError, ValueError):
    """The request parameters are ones the API would reject, or an option of the call is
    one sluice cannot use (``max_steps=0``, a ``pricing`` entry that is not a price...);
    nothing was sent.

    Attributes:
        field: where the problem is, as a path into the request body
            (``"max_tokens"``, ``"thinking.budget_tokens"``, ``"tools[2].name"``), or the
            option's name (``"deadline"``, ``"max_steps"``, ``"pricing"``).
    """

    def __init__(self, message: str, *, field: str) -> None:
        super().__init__(message)
        self.field = field


class StreamingRequiredError(ParamsError):
    """A non-streaming request asks for so many tokens that it may outlive the 10-minute timeout.

    Use ``client.messages.stream(...)`` (and ``await stream.final_message()`` for the same
    ``Message``), or lower ``max_tokens``.
    """


class QuotaExceededError(SluiceError):
    """A quota of the client's usage meter is used up: the request was not sent.

    Quotas (``sluice.types.QuotaSettings``) count requests, tokens and US dollars per
    calendar day and month, in UTC. Checked before each Messages request: tokens and cost
    are known only once responses report their usage, so the request that reaches a token
    or cost quota completes, and the next one is refused.

    Attributes:
        quota: which quota: ``"requests_per_day"``, ``"tokens_per_day"``,
            ``"cost_per_day"``, or the same ``_per_month`` (of several used up, the one
            that resets last).
        used: what the current day or month used: requests, tokens or US dollars.
        limit: the quota.
        resets_at: when the window starts again (the next midnight UTC, or the first of
            the next month), a timezone-aware ``datetime``.
    """

    def __init__(
        self, message: str, *, quota: str, used: float, limit: float, resets_at: datetime
    ) -> None:
        super().__init__(message)
        self.quota = quota
        self.used = used
        self.limit = limit
        self.resets_at = resets_at


class OutputParseError(SluiceError, ValueError):
    """The reply's text does not decode into the requested structured-output type.

    Attributes:
        text: the text that failed to decode (``""`` if the reply had no text block).
        stop_reason: the reply's ``stop_reason`` (``"max_tokens"`` means it was cut off).
    """

    def __init__(self, message: str, *, text: str, stop_reason: str | None) -> None:
        super().__init__(message)
        self.text = text
        self.stop_reason = stop_reason


class AdminParamsError(ParamsError):
    """An Admin API parameter is invalid; raised before any request is sent.

    Attributes:
        param: the name of the offending parameter (``"limit"``, ``"starting_at"``...);
            the same as ``field``.
    """

    def __init__(self, message: str, *, param: str | None = None, field: str = "") -> None:
        param = field if param is None else param
        super().__init__(message, field=param)
        self.param = param


class PartialJSONError(SluiceError, ValueError):
    """The text fed to a ``PartialJSONParser`` is not (the beginning of) valid JSON.

    Attributes:
        position: offset, in characters, into ``text`` where the problem is; for text that
            ended too early, ``len(text)``.
        text: all the text fed to the parser so far, including the piece that failed, so
            nothing the stream delivered is lost.
    """

    def __init__(self, message: str, *, position: int, text: str) -> None:
        super().__init__(message)
        self.position = position
        self.text = text


class BatchWaitTimeoutError(SluiceError, TimeoutError):
    """``client.messages.batches.wait()`` ran out of time before the batch ended.

    The batch keeps processing on the API side: wait again, or cancel it.

    Attributes:
        batch: the batch as last retrieved (``None`` if no retrieve completed in time).
        timeout: the timeout in seconds that expired.
    """

    def __init__(self, message: str, *, batch: Any, timeout: float) -> None:
        super().__init__(message)
        self.batch = batch
        self.timeout = timeout


class UploadError(SluiceError, ValueError):
    """A file or skill upload was refused on this side: nothing reached the API.

    Raised before the request is sent (an empty or over-size file, a skill folder without
    ``SKILL.md``...), or while the body streams when only then the problem shows (an async
    iterable that goes past the size limit, a file that changed size as it was read): the
    request is then aborted, so the API never stores a partial file.

    Attributes:
        filename: the file concerned, when there is one.
        size: its size in bytes, when known.
    """

    def __init__(
        self, message: str, *, filename: str | None = None, size: int | None = None
    ) -> None:
        super().__init__(message)
        self.filename = filename
        self.size = size


class UnexpectedResponseError(_Reproducible, SluiceError):
    """A successful HTTP response whose body is not what the endpoint returns.

    Typically a proxy or gateway between you and the API answering ``200`` with an HTML
    page, or a response of another shape than this version of sluice knows. Check
    ``base_url`` and any proxy in between.

    Attributes:
        status_code: the HTTP status.
        request_id: the ``request-id`` header, if any.
        content_type: the ``Content-Type`` header, if any.
        head: the first bytes of the body (at most 200), to see what came instead.
    """

    def __init__(
        self,
        message: str,
        *,
        status_code: int,
        request_id: str | None = None,
        content_type: str | None = None,
        head: bytes = b"",
    ) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.request_id = request_id
        self.content_type = content_type
        self.head = head


class RedisError(SluiceError):
    """Talking to Redis failed: no connection, a broken connection, or a protocol error.

    Raised by a client whose rate limits are shared through Redis (``shared_limits=``)
    when it cannot ask Redis for capacity (the request is not sent), and by the relay's
    Redis store.
    """


class RedisReplyError(RedisError):
    """Redis answered a command with an error reply (``-ERR ...``, ``-WRONGTYPE ...``)."""


class RedisProtocolError(RedisError):
    """What came back is not what Redis sends: bytes that are not RESP2, or a reply whose
    shape does not fit the command. Is the URL pointing at a Redis server, and is nothing
    else writing the keys sluice uses?"""


class RedisTimeoutError(RedisError, TimeoutError):
    """Redis did not answer within the client's command timeout (the server is overloaded,
    stuck, or not a Redis server). The command may or may not have run; the connection it
    used is closed."""


class ToolError(SluiceError):
    """Raise it from a tool to answer the model with an error of your own wording.

    The tool runner (``client.messages.run``) sends ``content`` back as the call's
    ``tool_result`` with ``is_error: true``. Any other exception a tool raises becomes an
    error result too, with the exception's type and message as its text; ``ToolError``
    says exactly what the model reads, and may carry images or documents::

        raise sluice.ToolError("no such city; try the English name")
        raise sluice.ToolError([{"type": "text", "text": "the page rendered as:"},
                                {"type": "image", "source": {...}}])

    Args:
        content: the result's content: a string, or a list of content blocks (``text``,
            ``image``, ``document``, ``search_result``; dicts or the ``sluice.types``
            params).

    Attributes:
        content: as given.
    """

    def __init__(self, content: str | list[Any]) -> None:
        if isinstance(content, str):
            message = content
        else:
            texts = [
                block.get("text") if isinstance(block, Mapping) else getattr(block, "text", None)
                for block in content
            ]
            message = " ".join(text for text in texts if isinstance(text, str)) or (
                f"tool error with {len(content)} content blocks"
            )
        super().__init__(message)
        self.content = content


class RunCancelledError(SluiceError):
    """``run.final_message()`` has no message to return: the run was cancelled
    (``run.cancel()``, leaving its block, closing an operator over it) before any of its
    steps completed.

    ``run.messages`` still holds the conversation as far as it went (every ``tool_use``
    answered), ready to be continued; ``run.end_reason`` is ``"cancelled"``.
    """


class StreamError(_Reproducible, SluiceError):
    """The event stream broke after it started.

    :meth:`curl` gives the request of the stream, when a client sent it.

    Attributes:
        partial_message: the message accumulated from the events received before the
            failure (``None`` if not even ``message_start`` arrived). Nothing the stream
            delivered is lost: text, tool input and usage so far are all in it.
        events_received: how many events were decoded before the failure.
    """

    partial_message: Message | None
    events_received: int

    def __init__(
        self,
        message: str,
        *,
        partial_message: Message | None = None,
        events_received: int = 0,
    ) -> None:
        super().__init__(message)
        self.partial_message = partial_message
        self.events_received = events_received


class IncompleteStreamError(StreamError):
    """The response body ended before ``message_stop``.

    Attributes:
        unparsed: bytes of a trailing event that never got its terminating blank line.
    """

    def __init__(
        self,
        message: str,
        *,
        partial_message: Message | None = None,
        events_received: int = 0,
        unparsed: bytes = b"",
    ) -> None:
        super().__init__(message, partial_message=partial_message, events_received=events_received)
        self.unparsed = unparsed


class EventDecodeError(StreamError):
    """An SSE event's ``data`` was not valid JSON for its event type.

    Attributes:
        event: the SSE event name (``content_block_delta``...).
        data: the raw ``data`` bytes that failed to decode.
        offset: byte offset of the event in the response body.
    """

    def __init__(
        self,
        message: str,
        *,
        event: str,
        data: bytes,
        offset: int,
        partial_message: Message | None = None,
        events_received: int = 0,
    ) -> None:
        super().__init__(message, partial_message=partial_message, events_received=events_received)
        self.event = event
        self.data = data
        self.offset = offset


class EventTooLargeError(StreamError):
    """One SSE event grew past ``max_event_size`` bytes without ending.

    Raised instead of buffering without bound when a peer sends a runaway line.

    Attributes:
        limit: the configured maximum event size in bytes.
        offset: byte offset in the body where the oversized event started.
    """

    def __init__(
        self,
        message: str,
        *,
        limit: int,
        offset: int,
        partial_message: Message | None = None,
        events_received: int = 0,
    ) -> None:
        super().__init__(message, partial_message=partial_message, events_received=events_received)
        self.limit = limit
        self.offset = offset


class UnexpectedEventError(StreamError):
    """An event arrived where the protocol does not allow it.

    For example a ``content_block_delta`` for a block that never started, or any content
    before ``message_start``. The stream is not what the Messages API sends.
    """


class ToolInputError(StreamError, ValueError):
    """The JSON input the model streamed for a tool call is invalid.

    Attributes:
        tool_name: the tool's name.
        tool_use_id: the ``tool_use`` block id.
        index: the content block index.
        text: every character of input JSON received for this call (never lost).
        position: character offset in ``text`` where parsing failed.
    """

    def __init__(
        self,
        message: str,
        *,
        tool_name: str,
        tool_use_id: str,
        index: int,
        text: str,
        position: int,
        partial_message: Message | None = None,
        events_received: int = 0,
    ) -> None:
        super().__init__(message, partial_message=partial_message, events_received=events_received)
        self.tool_name = tool_name
        self.tool_use_id = tool_use_id
        self.index = index
        self.text = text
        self.position = position


class BufferOverflowError(StreamError):
    """The buffer of :func:`controlled` was full and its ``overflow`` policy is ``"error"``.

    The upstream was closed. ``partial_message`` holds everything received, including the
    events that were still buffered.

    Attributes:
        buffer_size: the size of the buffer that overflowed.
    """

    def __init__(
        self,
        message: str,
        *,
        buffer_size: int,
        partial_message: Message | None = None,
        events_received: int = 0,
    ) -> None:
        super().__init__(message, partial_message=partial_message, events_received=events_received)
        self.buffer_size = buffer_size


class SubscriberTooSlowError(StreamError):
    """A subscription fell ``buffer_size`` events behind under ``slow="disconnect"``.

    Raised by the subscription's iteration after the events that were already in its buffer;
    the broadcast and the other subscriptions carry on. Read faster, raise ``buffer_size``,
    or use ``slow="drop"``/``"block"``.

    Attributes:
        buffer_size: the size of the buffer that overflowed.
        events_received: how many events the subscription got before the error (catch-up
            included).
        partial_message: always ``None``: accumulate the events you received if you need
            the message so far.
    """

    def __init__(self, message: str, *, buffer_size: int, events_received: int) -> None:
        super().__init__(message, partial_message=None, events_received=events_received)
        self.buffer_size = buffer_size


class StreamIdleTimeoutError(StreamError):
    """No event arrived for ``timeout`` seconds.

    Attributes:
        timeout: the idle timeout in seconds that expired.
    """

    def __init__(
        self,
        message: str,
        *,
        timeout: float,
        partial_message: Message | None = None,
        events_received: int = 0,
    ) -> None:
        super().__init__(message, partial_message=partial_message, events_received=events_received)
        self.timeout = timeout


class APIError(_Reproducible, SluiceError):
    """The API reported an error, as an HTTP status or as an in-stream ``error`` event.

    Attributes:
        message: the human-readable ``error.message`` from the API.
        error_type: the API's ``error.type`` string (``overloaded_error``...).
        body: the parsed error body (``{"type": "error", "error": {...}}``) or ``None``
            when the body was not JSON.
        request_id: the ``request-id`` response header (or the body's ``request_id``).
        status_code: the HTTP status; ``None`` for an in-stream error (the HTTP status
            of such a stream was 200, which says nothing about the error).
        response: the ``httpx.Response`` for an HTTP status error, else ``None``.
        rate_limits: the parsed ``anthropic-ratelimit-*``/``retry-after`` headers.
    """

    #: The ``error.type`` the API uses for this class, and its HTTP status.
    type_name: ClassVar[str] = ""
    status: ClassVar[int] = 0

    def __init__(
        self,
        message: str,
        *,
        error_type: str | None = None,
        body: Any = None,
        request_id: str | None = None,
        status_code: int | None = None,
        response: HTTPResponse | None = None,
        rate_limits: RateLimits | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.error_type = error_type or self.type_name
        self.body = body
        self.request_id = request_id
        self.status_code = status_code
        self.response = response
        self.rate_limits = rate_limits

    def __str__(self) -> str:
        where = f"HTTP {self.status_code}" if self.status_code is not None else "in-stream error"
        rid = f", request-id {self.request_id}" if self.request_id else ""
        return f"{self.message} ({where}, {self.error_type}{rid})"


class APIStatusError(APIError):
    """Mixin marking an :class:`APIError` raised for an HTTP error status."""


class APIStreamError(StreamError, APIError):
    """Mixin marking an :class:`APIError` raised for an in-stream ``event: error``.

    It is also a :class:`StreamError`, so ``partial_message`` holds everything the stream
    delivered before the error.
    """

    def __init__(
        self,
        message: str,
        *,
        error_type: str | None = None,
        body: Any = None,
        request_id: str | None = None,
        partial_message: Message | None = None,
        events_received: int = 0,
    ) -> None:
        APIError.__init__(self, message, error_type=error_type, body=body, request_id=request_id)
        self.partial_message = partial_message
        self.events_received = events_received


class BadRequestError(APIError):
    """400: the request was malformed or asked for something impossible."""

    type_name = "invalid_request_error"
    status = 400


class AuthenticationError(APIError):
    """401: the API key is missing, malformed or revoked."""

    type_name = "authentication_error"
    status = 401


class BillingError(APIError):
    """402: a billing problem on the account (e.g. no credit)."""

    type_name = "billing_error"
    status = 402


class PermissionDeniedError(APIError):
    """403: the key may not use this resource."""

    type_name = "permission_error"
    status = 403


class NotFoundError(APIError):
    """404: the resource (model, batch, file...) does not exist."""

    type_name = "not_found_error"
    status = 404


class RequestTooLargeError(APIError):
    """413: the request body exceeds the API's size limit."""

    type_name = "request_too_large"
    status = 413


class RateLimitError(APIError):
    """429: a rate limit was hit; ``rate_limits.retry_after`` says when to try again."""

    type_name = "rate_limit_error"
    status = 429


class InternalServerError(APIError):
    """500 (or another 5xx): an unexpected error inside the API."""

    type_name = "api_error"
    status = 500


class GatewayTimeoutError(APIError):
    """504: the request timed out inside the API; streaming avoids this for long requests."""

    type_name = "timeout_error"
    status = 504


class OverloadedError(APIError):
    """529: the API is temporarily overloaded; retry with backoff."""

    type_name = "overloaded_error"
    status = 529


# ----------------------------------------------------------------------------- flavours
# One concrete class per (error type, origin), so that both ``except OverloadedError`` and
# ``except APIStreamError`` work. Written out rather than made by a factory: greppable,
# visible to type checkers, and picklable by name.


class BadRequestStatusError(APIStatusError, BadRequestError):
    """BadRequestError for an HTTP 400 response (``invalid_request_error``)."""


class BadRequestStreamError(APIStreamError, BadRequestError):
    """BadRequestError for an in-stream ``invalid_request_error`` event."""


class AuthenticationStatusError(APIStatusError, AuthenticationError):
    """AuthenticationError for an HTTP 401 response (``authentication_error``)."""


class AuthenticationStreamError(APIStreamError, AuthenticationError):
    """AuthenticationError for an in-stream ``authentication_error`` event."""


class BillingStatusError(APIStatusError, BillingError):
    """BillingError for an HTTP 402 response (``billing_error``)."""


class BillingStreamError(APIStreamError, BillingError):
    """BillingError for an in-stream ``billing_error`` event."""


class PermissionDeniedStatusError(APIStatusError, PermissionDeniedError):
    """PermissionDeniedError for an HTTP 403 response (``permission_error``)."""


class PermissionDeniedStreamError(APIStreamError, PermissionDeniedError):
    """PermissionDeniedError for an in-stream ``permission_error`` event."""


class NotFoundStatusError(APIStatusError, NotFoundError):
    """NotFoundError for an HTTP 404 response (``not_found_error``)."""


class NotFoundStreamError(APIStreamError, NotFoundError):
    """NotFoundError for an in-stream ``not_found_error`` event."""


class RequestTooLargeStatusError(APIStatusError, RequestTooLargeError):
    """RequestTooLargeError for an HTTP 413 response (``request_too_large``)."""


class RequestTooLargeStreamError(APIStreamError, RequestTooLargeError):
    """RequestTooLargeError for an in-stream ``request_too_large`` event."""


class RateLimitStatusError(APIStatusError, RateLimitError):
    """RateLimitError for an HTTP 429 response (``rate_limit_error``)."""


class RateLimitStreamError(APIStreamError, RateLimitError):
    """RateLimitError for an in-stream ``rate_limit_error`` event."""


class InternalServerStatusError(APIStatusError, InternalServerError):
    """InternalServerError for an HTTP 500 response (``api_error``)."""


class InternalServerStreamError(APIStreamError, InternalServerError):
    """InternalServerError for an in-stream ``api_error`` event."""


class GatewayTimeoutStatusError(APIStatusError, GatewayTimeoutError):
    """GatewayTimeoutError for an HTTP 504 response (``timeout_error``)."""


class GatewayTimeoutStreamError(APIStreamError, GatewayTimeoutError):
    """GatewayTimeoutError for an in-stream ``timeout_error`` event."""


class OverloadedStatusError(APIStatusError, OverloadedError):
    """OverloadedError for an HTTP 529 response (``overloaded_error``)."""


class OverloadedStreamError(APIStreamError, OverloadedError):
    """OverloadedError for an in-stream ``overloaded_error`` event."""


_STATUS_CLASSES: tuple[type[APIStatusError], ...] = (
    BadRequestStatusError,
    AuthenticationStatusError,
    BillingStatusError,
    PermissionDeniedStatusError,
    NotFoundStatusError,
    RequestTooLargeStatusError,
    RateLimitStatusError,
    InternalServerStatusError,
    GatewayTimeoutStatusError,
    OverloadedStatusError,
)
_STREAM_CLASSES: tuple[type[APIStreamError], ...] = (
    BadRequestStreamError,
    AuthenticationStreamError,
    BillingStreamError,
    PermissionDeniedStreamError,
    NotFoundStreamError,
    RequestTooLargeStreamError,
    RateLimitStreamError,
    InternalServerStreamError,
    GatewayTimeoutStreamError,
    OverloadedStreamError,
)
_STATUS_BY_TYPE: dict[str, type[APIStatusError]] = {cls.type_name: cls for cls in _STATUS_CLASSES}
_STATUS_BY_CODE: dict[int, type[APIStatusError]] = {cls.status: cls for cls in _STATUS_CLASSES}
_STREAM_BY_TYPE: dict[str, type[APIStreamError]] = {cls.type_name: cls for cls in _STREAM_CLASSES}


def status_error_class(status_code: int, error_type: str | None) -> type[APIStatusError]:
    """The exception class for an HTTP error response (status first, then error type)."""
    cls = _STATUS_BY_CODE.get(status_code)
    if cls is None and error_type is not None:
        cls = _STATUS_BY_TYPE.get(error_type)
    if cls is None and status_code >= 500:
        cls = InternalServerStatusError
    return APIStatusError if cls is None else cls


def stream_error_class(error_type: str | None) -> type[APIStreamError]:
    """The exception class for an in-stream ``error`` event with this ``error.type``."""
    return _STREAM_BY_TYPE.get(error_type or "", APIStreamError)


def stream_error(
    error_type: str,
    message: str | None,
    *,
    request_id: str | None,
    events_received: int,
    partial_message: Message | None = None,
) -> APIStreamError:
    """The typed exception for an in-stream ``error`` event (see :func:`stream_error_class`).

    Args:
        error_type: the event's ``error.type``, e.g. ``"overloaded_error"``.
        message: the event's ``error.message``.
        request_id: the request the stream answers.
        events_received: how many events arrived before it.
        partial_message: what the stream had built so far, if anything.
    """
    return stream_error_class(error_type)(
        message or f"the API sent an in-stream {error_type}",
        error_type=error_type,
        body={"type": "error", "error": {"type": error_type, "message": message}},
        request_id=request_id,
        partial_message=partial_message,
        events_received=events_received,
    )


def _public_names() -> None:
    # Every exception is reachable as ``sluice.<Name>``: tracebacks show that path and
    # pickles refer to it, so moving this module never breaks a stored exception.
    for name in __all__:
        value = globals()[name]
        if isinstance(value, type):
            value.__module__ = "sluice"


_public_names()
