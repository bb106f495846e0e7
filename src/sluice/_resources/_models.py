"""``client.models``: which models the API serves (``GET /v1/models``, ``/v1/models/{id}``).

Shapes follow the public API reference ("List Models", "Get a Model"). Timestamps stay RFC
3339 strings as sent; parse them with ``datetime.fromisoformat`` when needed.
"""

from __future__ import annotations

import urllib.parse
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, ClassVar, Literal

import msgspec
from msgspec import UNSET, UnsetType

from .._core._wire import Wire, attach_extras

# The module, not its names: _client imports this module at its top to wire
# ``client.models``, so names are looked up at call time to keep the import acyclic.
from .._http import _response
from .._http._pagination import AsyncPaginator, cursor_pages

if TYPE_CHECKING:
    from .._client import AsyncClient

__all__ = ["ModelInfo", "Models"]


class ModelInfo(Wire, kw_only=True, tag="model"):
    """A model the API serves.

    Attributes:
        id: the model identifier to send as ``model`` (``"claude-sonnet-4-5-20250929"``).
        display_name: a human-readable name.
        created_at: RFC 3339 release time (an epoch value when unknown).
        capabilities, max_input_tokens, max_tokens, lifecycle, line, deprecated_at,
        retires_at: newer fields, ``UNSET`` when the API did not send them.

    Fields this version does not model are kept (``sluice.to_json`` writes them back).
    """

    type: ClassVar[Literal["model"]] = "model"
    id: str
    display_name: str
    created_at: str
    capabilities: dict[str, Any] | UnsetType | None = UNSET
    max_input_tokens: int | UnsetType | None = UNSET
    max_tokens: int | UnsetType | None = UNSET
    lifecycle: str | UnsetType = UNSET
    line: str | UnsetType | None = UNSET
    deprecated_at: str | UnsetType | None = UNSET
    retires_at: str | UnsetType | None = UNSET


_model_decoder = msgspec.json.Decoder(ModelInfo)
_any_decoder = msgspec.json.Decoder()


def _model_path(model_id: str) -> str:
    if not isinstance(model_id, str) or not model_id:
        raise ValueError(f"expected a non-empty model id, got {model_id!r}")
    return f"/v1/models/{urllib.parse.quote(model_id, safe='')}"


class Models:
    """``client.models``: list the available models and look one up.

    Args:
        client: the :class:`~sluice.AsyncClient` that sends the requests.
    """

    def __init__(self, client: AsyncClient) -> None:
        self._client = client

    def list(
        self,
        *,
        limit: int | None = None,
        after_id: str | None = None,
        before_id: str | None = None,
        betas: Sequence[str] = (),
        extra_headers: Mapping[str, str] | None = None,
    ) -> AsyncPaginator[ModelInfo]:
        """Every available model, most recently released first, fetched page by page.

        Args:
            limit: models per page (the API's default is 20, its maximum 1000).
            after_id: start after this model id (the next page forward).
            before_id: start before this model id; iteration then goes backward.
            betas: values for the ``anthropic-beta`` header.
            extra_headers: extra request headers.

        Nothing is sent until iteration starts. Raises (while iterating):
        :class:`~sluice.APIError` subclasses, :class:`~sluice.APIConnectionError`.
        """
        fetch = cursor_pages(
            self._client, "/v1/models", ModelInfo, betas=betas, headers=extra_headers
        )
        return AsyncPaginator(fetch, {"limit": limit, "after_id": after_id, "before_id": before_id})

    async def get(
        self,
        model_id: str,
        *,
        betas: Sequence[str] = (),
        extra_headers: Mapping[str, str] | None = None,
    ) -> ModelInfo:
        """One model by id or alias (an alias such as ``"claude-sonnet-4-5"`` resolves).

        Raises:
            NotFoundError: no such model.
            APIError: another error status; :class:`~sluice.APIConnectionError`.
            ValueError: ``model_id`` is empty.
        """
        response = await self._client._call(
            "GET", _model_path(model_id), headers=extra_headers, betas=betas
        )
        model = _model_decoder.decode(response.content)
        attach_extras(model, _any_decoder.decode(response.content))
        _response.attach_info(model, response)
        return model
