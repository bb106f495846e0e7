"""What a client tells the outside world: log lines, hooks for metrics, curl reproductions.

Every request, response, retry, rate-limit wait, circuit-breaker change and failover is a
line on the ``logging.getLogger("sluice")`` logger (requests and responses at ``DEBUG``,
the rest at ``INFO``; ``SLUICE_LOG=debug|info`` in the environment adds a handler to
stderr), and, for metrics, a typed record handed to the client's hooks (``on_request``,
``on_response``, ``on_retry``, ``on_failover``). No line, record or curl command ever
carries the API key.
"""

from __future__ import annotations

import inspect
import logging
import os
import sys
from collections.abc import Awaitable, Callable
from typing import Any, Final, Literal, TypeAlias, TypeVar

import httpx
import msgspec

from .._core._curl import curl_command
from .._core._exceptions import _Reproducible

__all__ = [
    "FailoverRecord",
    "Hooks",
    "RequestRecord",
    "ResponseRecord",
    "RetryRecord",
    "call_hook",
    "curl",
    "logger",
    "reproducible",
    "setup_logging",
]

#: The logger every sluice log line goes to.
logger: Final = logging.getLogger("sluice")


class RequestRecord(msgspec.Struct, frozen=True, kw_only=True):
    """A request about to be sent (one attempt)."""

    method: str
    path: str
    endpoint: str
    attempt: int


class ResponseRecord(msgspec.Struct, frozen=True, kw_only=True):
    """A response's status line arrived (its body may still be streaming)."""

    method: str
    path: str
    endpoint: str
    attempt: int
    status_code: int
    request_id: str | None
    elapsed: float


class RetryRecord(msgspec.Struct, frozen=True, kw_only=True):
    """An attempt failed and another follows after ``wait`` seconds.

    ``reason`` is the status (``"529"``) or the transport error (``"ConnectError"``).
    """

    method: str
    path: str
    endpoint: str
    attempt: int
    reason: str
    wait: float


class FailoverRecord(msgspec.Struct, frozen=True, kw_only=True):
    """The request moved from one endpoint to the next, and why."""

    method: str
    path: str
    from_endpoint: str
    to_endpoint: str
    reason: str


#: A hook: a function of one record, plain or async.
Hook: TypeAlias = Callable[[Any], Awaitable[None] | None]


class Hooks(msgspec.Struct, frozen=True, kw_only=True):
    """The client's hooks, each ``None`` or a function (plain or async) of one record."""

    on_request: Hook | None = None
    on_response: Hook | None = None
    on_retry: Hook | None = None
    on_failover: Hook | None = None


async def call_hook(hook: Hook | None, record: object) -> None:
    """Call ``hook`` with ``record`` (awaiting it if it is async)."""
    if hook is None:
        return
    outcome = hook(record)
    if inspect.isawaitable(outcome):
        await outcome


_LEVELS: Final[dict[str, int]] = {"debug": logging.DEBUG, "info": logging.INFO}
_configured = False


def setup_logging(value: str | None = None) -> Literal["debug", "info"] | None:
    """Honour ``SLUICE_LOG``: add a stderr handler to the ``sluice`` logger once.

    Returns the level set, or ``None`` when ``SLUICE_LOG`` is unset or unknown.
    """
    global _configured
    setting = (value if value is not None else os.environ.get("SLUICE_LOG", "")).lower()
    level = _LEVELS.get(setting)
    if level is None:
        return None
    if not _configured:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(asctime)s sluice %(levelname)s %(message)s"))
        logger.addHandler(handler)
        _configured = True
    logger.setLevel(level)
    return "debug" if level == logging.DEBUG else "info"


def curl(request: httpx.Request) -> str:
    """``request`` as a copy-paste ``curl`` command; the key becomes ``$ANTHROPIC_API_KEY``.

    The body is included when it is known (JSON requests); a streamed upload is not.
    """
    try:
        body: bytes | None = request.content
    except httpx.RequestNotRead:
        body = None
    return curl_command(request.method, str(request.url), request.headers.multi_items(), body)


E = TypeVar("E", bound=BaseException)


def reproducible(error: E, source: httpx.Request | httpx.Response) -> E:
    """``error``, whose ``curl()`` now gives the request ``source`` is (or answers).

    An error that has a command already keeps it (the first one set is its own request's,
    however far the error travels); errors without ``curl()``, and a response made by
    hand rather than sent, leave it unchanged.
    """
    if not isinstance(error, _Reproducible) or "_curl" in error.__dict__:
        return error
    if isinstance(source, httpx.Response):
        try:
            source = source.request
        except RuntimeError:  # httpx.Response(...) made in code: no request known
            return error
    error.__dict__["_curl"] = curl(source)
    return error
