"""``client.completions``: the legacy Text Completions API (``POST /v1/complete``).

Kept for code that still sends ``"\\n\\nHuman: ...\\n\\nAssistant:"`` prompts; new code should
use the Messages API. Shapes follow the public API reference ("Create a Text Completion")
and "Streaming Text Completions". The stream (:class:`~sluice.CompletionStream`) reuses the
Messages stream's layers and typed errors (an in-stream ``overloaded_error`` raises
:class:`~sluice.OverloadedError`, which is also an :class:`~sluice.APIStreamError`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import httpx
import msgspec

from .._core._completions import Completion
from .._core._wire import attach_extras
from .._http import _response
from .._http._stream import CompletionStreamManager

if TYPE_CHECKING:
    from .._client import AsyncClient

__all__ = ["Completions"]

_completion_decoder = msgspec.json.Decoder(Completion)
_any_decoder = msgspec.json.Decoder()


class Completions:
    """``client.completions``: the legacy Text Completions API.

    Args:
        client: the :class:`~sluice.AsyncClient` that sends the requests.
    """

    def __init__(self, client: AsyncClient) -> None:
        self._client = client

    async def create(
        self,
        *,
        model: str,
        prompt: str,
        max_tokens_to_sample: int,
        extra_headers: Mapping[str, str] | None = None,
        betas: Sequence[str] = (),
        **params: Any,
    ) -> Completion:
        """Create a text completion without streaming.

        Args:
            model: the model to use.
            prompt: the prompt, in ``"\\n\\nHuman: ...\\n\\nAssistant:"`` form.
            max_tokens_to_sample: the most tokens to generate.
            params: other request fields (``stop_sequences``, ``temperature``,
                ``top_p``, ``top_k``, ``metadata``), sent as given.

        Raises: :class:`~sluice.APIError` subclasses, :class:`~sluice.APIConnectionError`.
        """
        body = _body(model, prompt, max_tokens_to_sample, params, stream=False)
        response = await self._client._call(
            "POST", "/v1/complete", json=body, headers=extra_headers, betas=betas
        )
        completion = _completion_decoder.decode(response.content)
        attach_extras(completion, _any_decoder.decode(response.content))
        _response.attach_info(completion, response)
        return completion

    def stream(
        self,
        *,
        model: str,
        prompt: str,
        max_tokens_to_sample: int,
        extra_headers: Mapping[str, str] | None = None,
        betas: Sequence[str] = (),
        **params: Any,
    ) -> CompletionStreamManager:
        """Stream a text completion: ``async with client.completions.stream(...) as stream``.

        The arguments are those of :meth:`create`; the request (with ``"stream": true``) is
        sent, with retries, when the block is entered.

        Raises (on enter): :class:`~sluice.APIError` subclasses,
        :class:`~sluice.APIConnectionError`.
        """
        client = self._client
        body = _body(model, prompt, max_tokens_to_sample, params, stream=True)
        headers = {"accept": "text/event-stream", **(extra_headers or {})}

        async def send() -> httpx.Response:
            return await client._call(
                "POST", "/v1/complete", json=body, headers=headers, betas=betas, stream=True
            )

        return CompletionStreamManager(send, max_event_size=client.max_event_size)


def _body(
    model: str, prompt: str, max_tokens: int, params: dict[str, Any], *, stream: bool
) -> dict[str, Any]:
    if "stream" in params:
        raise TypeError("do not pass stream=: use completions.create() or completions.stream()")
    body = {"model": model, "prompt": prompt, "max_tokens_to_sample": max_tokens, **params}
    if stream:
        body["stream"] = True
    return body
