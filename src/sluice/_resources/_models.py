"""``client.models``: which models the API serves (``GET /v1/models``, ``/v1/models/{id}``).

Shapes follow the public API reference ("List Models", "Get a Model"). Timestamps stay RFC
3339 strings as sent; parse them with ``datetime.fromisoformat`` when needed.
"""

from __future__ import annotations

from typing import Any, ClassVar, Literal, Unpack

from msgspec import UNSET, UnsetType

from .._core._wire import Wire
from .._http._pagination import AsyncPaginator
from .._http._requester import RequestOptions
from ._base import Resource, segment

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


class Models(Resource):
    """``client.models``: list the available models and look one up."""

    def list(
        self,
        *,
        limit: int | None = None,
        after_id: str | None = None,
        before_id: str | None = None,
        **options: Unpack[RequestOptions],
    ) -> AsyncPaginator[ModelInfo]:
        """Every available model, most recently released first, fetched page by page.

        Args:
            limit: models per page (the API's default is 20, its maximum 1000).
            after_id: start after this model id (the next page forward).
            before_id: start before this model id; iteration then goes backward.
            options: per-request options (``betas``, ``extra_headers``...).

        Nothing is sent until iteration starts. Raises (while iterating):
        :class:`~sluice.APIError` subclasses, :class:`~sluice.APIConnectionError`.
        """
        params = {"limit": limit, "after_id": after_id, "before_id": before_id}
        return self._list("/v1/models", ModelInfo, params, options)

    async def get(self, model_id: str, **options: Unpack[RequestOptions]) -> ModelInfo:
        """One model by id or alias (an alias such as ``"claude-sonnet-4-5"`` resolves).

        Raises:
            NotFoundError: no such model.
            ParamsError: ``model_id`` is empty (also a ``ValueError``).
            APIError: another error status; :class:`~sluice.APIConnectionError`.
        """
        return await self._get(f"/v1/models/{segment('model_id', model_id)}", ModelInfo, options)
