"""What a browser may ask for, and what only the app's owner sets: the relay's trust boundary.

The relay's routes answer browsers, while its upstream client carries the owner's API key.
So a request body is taken as untrusted: it may hold Messages API body fields only (``model``,
``max_tokens``, ``messages``, ``system``, ``tools``...: every top-level field of
``POST /v1/messages`` this version of sluice knows), never the client's per-request options
(``extra_headers``, which could replace the ``x-api-key``; ``extra_query``; ``extra_body``,
which would skip sluice's checks; ``betas``; ``timeout``; ``deadline``) nor ``recover``.
Those, and any narrowing of the body fields (a model allow-list, a ``max_tokens`` cap), are
the owner's, set in the app's ``params=`` hook (see :func:`sluice.relay.create_app`).
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from typing import Any, Final

import msgspec

from .._core._exceptions import ParamsError
from .._core._params import MESSAGE_FIELDS
from .._http._requester import OPTION_NAMES

__all__ = ["browser_params", "params_from_json"]

#: Names ``client.messages.stream()`` takes besides the body: only the owner sets them.
_SERVER_SIDE: Final = OPTION_NAMES | {"recover", "invalid_tool_input"}


def browser_params(fields: Mapping[str, Any]) -> dict[str, Any]:
    """The Messages API body fields of an untrusted request (a browser's), checked.

    Returns the fields without ``stream`` (a relay always streams). Use it in routes of
    your own before :meth:`Relay.start`: what a browser sends must not reach the upstream
    client as request options.

    Raises:
        ParamsError: a field that is a request option (``extra_headers``, ``extra_query``,
            ``extra_body``, ``betas``, ``timeout``, ``deadline``) or ``recover``, which only
            the server sets, or a field the Messages API does not have; ``field`` names it.
    """
    params: dict[str, Any] = {}
    for name, value in fields.items():
        if name in MESSAGE_FIELDS:
            if name != "stream":
                params[name] = value
        elif name in _SERVER_SIDE:
            raise ParamsError(
                f"{name!r} is a request option, which a browser cannot set: send Messages API "
                "fields only. The server sets options (create_app(params=...))",
                field=str(name),
            )
        else:
            close = difflib.get_close_matches(str(name), sorted(MESSAGE_FIELDS), n=1, cutoff=0.75)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            raise ParamsError(
                f"{name!r} is not a Messages API field{hint} (fields newer than this relay are "
                "the server's to add, in create_app(params=...))",
                field=str(name),
            )
    return params


def params_from_json(body: bytes) -> dict[str, Any]:
    """Decode a request body that must be a JSON object.

    Raises:
        ParamsError: not JSON, or not an object (``field`` is ``"body"``).
    """
    try:
        params = msgspec.json.decode(body)
    except msgspec.DecodeError as exc:
        raise ParamsError(f"the body is not JSON: {exc}", field="body") from None
    if not isinstance(params, dict):
        raise ParamsError("the body must be a JSON object of Messages API parameters", field="body")
    return params
