"""``client.completions``: the legacy Text Completions API (``POST /v1/complete``).

Kept for code that still sends ``"\\n\\nHuman: ...\\n\\nAssistant:"`` prompts; new code should
use the Messages API. Shapes follow the public API reference ("Create a Text Completion")
and "Streaming Text Completions". The stream (:class:`~sluice.CompletionStream`) reuses the
Messages stream's layers and typed errors (an in-stream ``overloaded_error`` raises
:class:`~sluice.OverloadedError`, which is also an :class:`~sluice.APIStreamError`).
"""

from __future__ import annotations

from typing import Any

from .._core._completions import Completion
from .._http._requester import split_options
from .._http._stream import CompletionStreamManager
from ._base import Resource

__all__ = ["Completions"]


class Completions(Resource):
    """``client.completions``: the legacy Text Completions API."""

    async def create(
        self, *, model: str, prompt: str, max_tokens_to_sample: int, **params: Any
    ) -> Completion:
        """Create a text completion without streaming.

        Args:
            model: the model to use.
            prompt: the prompt, in ``"\\n\\nHuman: ...\\n\\nAssistant:"`` form.
            max_tokens_to_sample: the most tokens to generate.
            params: other request fields (``stop_sequences``, ``temperature``,
                ``top_p``, ``top_k``, ``metadata``), sent as given, and the per-request
                options (``betas``, ``extra_headers``, ``extra_query``, ``extra_body``,
                ``timeout``).

        Raises: :class:`~sluice.APIError` subclasses, :class:`~sluice.APIConnectionError`.
        """
        options, fields = split_options(params)
        body = _body(model, prompt, max_tokens_to_sample, fields, stream=False)
        return await self._post("/v1/complete", Completion, options, body=body)

    def stream(
        self, *, model: str, prompt: str, max_tokens_to_sample: int, **params: Any
    ) -> CompletionStreamManager:
        """Stream a text completion: ``async with client.completions.stream(...) as stream``.

        The arguments are those of :meth:`create`; the request (with ``"stream": true``) is
        sent, with retries, when the block is entered.

        Raises (on enter): :class:`~sluice.APIError` subclasses,
        :class:`~sluice.APIConnectionError`.
        """
        options, fields = split_options(params)
        body = _body(model, prompt, max_tokens_to_sample, fields, stream=True)
        send = self._sender(
            "POST",
            "/v1/complete",
            options,
            body=body,
            headers={"accept": "text/event-stream"},
            event_stream=True,
        )
        return CompletionStreamManager(send, max_event_size=self._requester.max_event_size)


def _body(
    model: str, prompt: str, max_tokens: int, params: dict[str, Any], *, stream: bool
) -> dict[str, Any]:
    if "stream" in params:
        raise TypeError("do not pass stream=: use completions.create() or completions.stream()")
    body = {"model": model, "prompt": prompt, "max_tokens_to_sample": max_tokens, **params}
    if stream:
        body["stream"] = True
    return body
