"""A Messages API request as plain data, for any HTTP library: the sans-I/O request side.

:func:`build_request` turns request params into the method, URL, headers and body bytes
that :class:`~sluice.AsyncClient` would send, checked the same way; :func:`status_error`
turns an error response into the typed exception the client would raise. Between them, a
program on ``requests``, ``aiohttp``, ``urllib3`` or a queue worker's own transport gets
sluice's checks and errors, and feeds the body to :class:`~sluice.EventStreamDecoder`.

The key lives here too: :class:`Secret` never shows it, :func:`check_api_key` rejects a
copy-paste slip before anything is sent.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from typing import Any, Final

import msgspec

from ._exceptions import APIStatusError, ConfigError
from ._params import MessageCreateParams, to_request_body, validate_message_params
from ._status import MAX_ERROR_BODY, api_error

__all__ = [
    "API_VERSION",
    "DEFAULT_BASE_URL",
    "USER_AGENT",
    "PreparedRequest",
    "Secret",
    "build_request",
    "check_api_key",
    "status_error",
]

#: The ``anthropic-version`` header every request carries.
API_VERSION: Final = "2023-06-01"
USER_AGENT: Final = "sluice/0.1"
DEFAULT_BASE_URL: Final = "https://api.anthropic.com"

_json_encode = msgspec.json.Encoder().encode


class Secret:
    """Holds the API key so that it never shows in a repr, a log line or a traceback."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def get(self) -> str:
        """The secret itself, for the one place that sends it."""
        return self._value

    def __repr__(self) -> str:
        return "<redacted>"

    __str__ = __repr__

    def __reduce__(self) -> str:
        raise TypeError("an API key is not pickled")


def check_api_key(key: object, where: str) -> Secret:
    """``key`` as a :class:`Secret`, after checking its form (never showing it).

    Raises:
        ConfigError: no key, or one with whitespace, a line break or a control character
            (a copy-paste slip), which would fail at the API or corrupt the header.
    """
    if not isinstance(key, str) or not key:
        raise ConfigError(
            f"no API key: pass {where}(api_key=...) or set the ANTHROPIC_API_KEY "
            "environment variable"
        )
    if key != key.strip():
        raise ConfigError(
            f"the API key given to {where} starts or ends with whitespace (a copy-paste "
            f"slip?): strip it"
        )
    if any(ch in key for ch in "\r\n"):
        raise ConfigError(f"the API key given to {where} contains a line break: remove it")
    if any(ch.isspace() or ord(ch) < 32 or ord(ch) == 127 for ch in key):
        raise ConfigError(
            f"the API key given to {where} contains whitespace or a control character: "
            "check how it was copied"
        )
    if not key.isascii():
        raise ConfigError(
            f"the API key given to {where} contains non-ASCII characters: check how it was copied"
        )
    return Secret(key)


class PreparedRequest:
    """A request ready for any HTTP library: ``method``, ``url``, ``headers``, ``body``.

    ``headers`` holds the key in ``x-api-key`` (it has to be sent), but the repr shows only
    the header names, so printing or logging the object never shows it.

    Attributes:
        method: ``"POST"``.
        url: the endpoint's full URL.
        headers: every header to send, lower-case names.
        body: the JSON body, encoded.
        stream: whether the response is a server-sent event stream.
    """

    __slots__ = ("body", "headers", "method", "stream", "url")

    def __init__(
        self, method: str, url: str, headers: dict[str, str], body: bytes, *, stream: bool
    ) -> None:
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body
        self.stream = stream

    def __repr__(self) -> str:
        names = ", ".join(self.headers)
        return (
            f"<PreparedRequest {self.method} {self.url} headers=[{names}] "
            f"body={len(self.body)} bytes>"
        )

    def __reduce__(self) -> str:
        raise TypeError("a PreparedRequest carries the API key and is not pickled")


def build_request(
    params: Mapping[str, Any] | MessageCreateParams,
    *,
    api_key: str | None = None,
    base_url: str | None = None,
    betas: Iterable[str] = (),
    stream: bool = True,
) -> PreparedRequest:
    """A ``POST /v1/messages`` request for ``params``, checked as the client checks it.

    Args:
        params: the request body (``model``, ``max_tokens``, ``messages``...), a dict or a
            :class:`~sluice.types.MessageCreateParams`.
        api_key: defaults to the ``ANTHROPIC_API_KEY`` environment variable.
        base_url: defaults to ``ANTHROPIC_BASE_URL``, else ``https://api.anthropic.com``.
        betas: values for the ``anthropic-beta`` header.
        stream: ask for a server-sent event stream (``"stream": true`` in the body).

    Raises:
        ConfigError: no key, or a key with whitespace or a line break.
        ParamsError: a body the API would refuse (a misspelled field, ``max_tokens=0``,
            empty ``messages``...), as :meth:`AsyncClient.messages.stream` raises it.
    """
    secret = check_api_key(
        api_key if api_key is not None else os.environ.get("ANTHROPIC_API_KEY"),
        "build_request",
    )
    betas = list(dict.fromkeys(betas))
    body = to_request_body(params)
    body.pop("stream", None)
    validate_message_params(body, stream=stream, betas=betas)
    if stream:
        body["stream"] = True
    root = (base_url or os.environ.get("ANTHROPIC_BASE_URL") or DEFAULT_BASE_URL).rstrip("/")
    headers = {
        "x-api-key": secret.get(),
        "anthropic-version": API_VERSION,
        "content-type": "application/json",
        "accept": "text/event-stream" if stream else "application/json",
        "user-agent": USER_AGENT,
    }
    if betas:
        headers["anthropic-beta"] = ",".join(betas)
    url = f"{root}/v1/messages"
    return PreparedRequest("POST", url, headers, _json_encode(body), stream=stream)


def status_error(
    status_code: int, headers: Mapping[str, str] | Iterable[tuple[str, str]], body: bytes
) -> APIStatusError:
    """The typed error for an HTTP error response read by any HTTP library.

    ``OverloadedStatusError`` for a 529, ``RateLimitStatusError`` (with
    ``rate_limits.retry_after``) for a 429, and so on, carrying the API's error type and
    message and the ``request-id``, exactly as the client raises them.

    Args:
        status_code: the response's status (4xx or 5xx).
        headers: the response headers, a mapping or (name, value) pairs, any case.
        body: the body, or its first bytes: only the first 64 KiB are read.
    """
    pairs = headers.items() if isinstance(headers, Mapping) else headers
    lowered = {name.lower(): value for name, value in pairs}
    head = bytes(body[:MAX_ERROR_BODY])
    return api_error(status_code, lowered, head, truncated=len(body) > MAX_ERROR_BODY)
