"""The legacy Text Completions API's wire type (``POST /v1/complete``).

Shapes follow the public API reference ("Create a Text Completion", "Streaming Text
Completions"): a streamed completion is a series of ``completion`` events, each carrying
the next piece of text in the same shape, the last one with the ``stop_reason``.
"""

from __future__ import annotations

from typing import ClassVar, Literal

from ._wire import Wire

__all__ = ["Completion"]


class Completion(Wire, kw_only=True, tag="completion"):
    """A text completion, or one streamed piece of it.

    Attributes:
        id: the completion's id (may be empty in streamed pieces).
        completion: the text (in a stream: the next piece of it).
        stop_reason: ``"stop_sequence"``, ``"max_tokens"``...; ``None`` until the end.
        model: the model that answered.
    """

    type: ClassVar[Literal["completion"]] = "completion"
    id: str = ""
    completion: str
    stop_reason: str | None = None
    model: str = ""
