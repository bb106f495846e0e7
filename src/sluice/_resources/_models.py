"""``client.models``: which models the API serves (``GET /v1/models``, ``/v1/models/{id}``).

Shapes follow the public API reference ("List Models", "Get a Model"). Timestamps stay RFC
3339 strings as sent; parse them with ``datetime.fromisoformat`` when needed.
"""

from __future__ import annotations

from typing import Any, ClassVar, Literal, Unpack

from msgspec import UNSET, UnsetType

from .._core._wire import Wire
from .._http._requester import RequestOptions
from ._base import CursorListed, api_path

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


class Models(CursorListed[ModelInfo]):
    """``client.models``: list the available models and look one up."""

    list_path = "/v1/models"
    item_type = ModelInfo

    async def get(self, model_id: str, **options: Unpack[RequestOptions]) -> ModelInfo:
        """One model by id or alias (an alias such as ``"claude-sonnet-4-5"`` resolves).

        Raises:
            NotFoundError: no such model.
            ParamsError: ``model_id`` is empty (also a ``ValueError``).
            APIError: another error status; :class:`~sluice.APIConnectionError`.
        """
        path = api_path("/v1/models/{model_id}", model_id=model_id)
        return await self._get(path, ModelInfo, options)
