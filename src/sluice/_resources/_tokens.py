"""``client.messages.count_tokens``: how many input tokens a Messages request would use.

``POST /v1/messages/count_tokens`` takes the fields of a Messages request (``model``,
``messages``, ``system``, ``tools``, ``thinking``...) without ``max_tokens``, and answers
``{"input_tokens": N}`` (public API reference, "Count tokens in a Message").
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import msgspec

from .._core._params import to_request_body, validate_count_tokens_params
from .._core._wire import Wire, attach_extras

# The module, not its names: _client wires this module in at its top (see _models).
from .._http import _response

if TYPE_CHECKING:
    from .._client import AsyncClient

__all__ = ["MessageTokensCount", "count_tokens"]


class MessageTokensCount(Wire, kw_only=True, tag=False):
    """The token count of a Messages request.

    Attributes:
        input_tokens: tokens across the messages, system prompt and tools.
    """

    input_tokens: int


_count_decoder = msgspec.json.Decoder(MessageTokensCount)
_any_decoder = msgspec.json.Decoder()


async def count_tokens(
    client: AsyncClient,
    *,
    extra_headers: Mapping[str, str] | None = None,
    betas: Sequence[str] = (),
    **params: Any,
) -> MessageTokensCount:
    """Count the input tokens of a Messages request without creating a message.

    Args:
        client: the client that sends the request.
        extra_headers: extra request headers.
        betas: values for the ``anthropic-beta`` header.
        params: the request fields (``model``, ``messages``...), values or typed structs.

    Raises: :class:`~sluice.ParamsError` for fields the API would reject (before sending),
    :class:`~sluice.APIError` subclasses (e.g. :class:`~sluice.BadRequestError`
    for an invalid request), :class:`~sluice.APIConnectionError`.
    """
    body = to_request_body(params)
    validate_count_tokens_params(body, betas=[*client.betas, *betas])
    response = await client._call(
        "POST", "/v1/messages/count_tokens", json=body, headers=extra_headers, betas=betas
    )
    count = _count_decoder.decode(response.content)
    attach_extras(count, _any_decoder.decode(response.content))
    _response.attach_info(count, response)
    return count
