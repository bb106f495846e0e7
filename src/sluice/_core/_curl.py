"""A request as a copy-paste ``curl`` command, with its secrets redacted.

For support tickets and bug reports: ``sluice.curl(...)`` and ``error.curl()`` give the
exact request (method, URL, headers, JSON body) as a shell command, with the API key and
any other credential replaced by an environment variable reference, so the command runs
as it is for whoever has ``ANTHROPIC_API_KEY`` set, and shows no secret.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterable
from typing import Final

__all__ = ["curl_command", "is_secret_header"]

#: Parts of a header name that say it carries a credential: ``x-api-key``,
#: ``authorization``, ``proxy-authorization``, ``cookie``, and what gateways and proxies
#: name theirs (``cf-aig-authorization``, ``x-portkey-api-key``, ``x-goog-api-key``...).
_SECRET_PARTS: Final = re.compile(r"auth|key|token|secret|cookie|passw|credential|session")


def is_secret_header(name: str) -> bool:
    """Whether the header ``name`` may carry a credential, and so is never shown: any
    whose name has ``auth``, ``key``, ``token``, ``secret``, ``cookie``, ``passw``,
    ``credential`` or ``session`` in it (a harmless header so named is hidden too:
    better than a gateway's key in a support ticket). In ``curl_command`` the API key
    shows as ``$ANTHROPIC_API_KEY``, any other as ``<redacted>``."""
    return _SECRET_PARTS.search(name.lower()) is not None


#: Headers curl computes itself, or that only matter to the transport.
_SKIPPED: Final = frozenset({"content-length", "host", "accept-encoding", "connection"})
#: Bodies larger than this are cut in the command (a note says so).
_MAX_BODY: Final = 64 * 1024


def curl_command(
    method: str,
    url: str,
    headers: Iterable[tuple[str, str]],
    body: bytes | None = None,
) -> str:
    """The ``curl`` command that sends this request, secrets redacted.

    Args:
        method: the HTTP method.
        url: the full URL.
        headers: the request headers, as ``(name, value)`` pairs.
        body: the request body, if it is known (a streamed upload is not).
    """
    parts = ["curl", "-X", method.upper(), shlex.quote(url)]
    for name, value in headers:
        lower = name.lower()
        if lower in _SKIPPED:
            continue
        if lower == "x-api-key":
            shown = f"{name}: $ANTHROPIC_API_KEY"
            parts += ["-H", f'"{shown}"']
            continue
        if is_secret_header(lower):
            value = "<redacted>"
        parts += ["-H", shlex.quote(f"{name}: {value}")]
    if body:
        text = body[:_MAX_BODY].decode("utf-8", "replace")
        if len(body) > _MAX_BODY:
            parts += ["--data-binary", shlex.quote(text), f"# (body cut at {_MAX_BODY} bytes)"]
        else:
            parts += ["--data-binary", shlex.quote(text)]
    return " ".join(parts)
