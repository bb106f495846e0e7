"""``from_sse``: typed events from server-sent events someone else parsed (httpx-sse...).

sluice reads the Messages API's bytes itself (its decoder is faster than httpx-sse's), but
an app may already hold an SSE source: an ``httpx_sse.EventSource`` from
``aconnect_sse(...)``, a proxy's own parser, a recorded list. :func:`from_sse` turns its
events into sluice's typed events, so every operator applies::

    async with httpx_sse.aconnect_sse(http, "POST", url, json=body, headers=headers) as source:
        async for text in ops.text_deltas(ops.from_sse(source.aiter_sse())):
            print(text, end="")

When you hold the ``EventSource`` but not yet its events, ``sluice.MessageStream(
source.response)`` reads the same response with sluice's own decoder instead, with
``final_message()``, typed errors and a clean release when stopped early. httpx-sse's
generators, stopped before the end of the body, are left to the garbage collector (trio
warns about each one).
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterable
from typing import Protocol

from .._core._events import Event, decode_event
from .._core._exceptions import StreamError
from ._base import aclose_upstream

__all__ = ["SSELike", "from_sse"]


class SSELike(Protocol):
    """A server-sent event as SSE libraries model it (httpx-sse's, or sluice's own)."""

    @property
    def event(self) -> str: ...

    @property
    def data(self) -> str | bytes: ...


async def from_sse(source: AsyncIterable[SSELike]) -> AsyncGenerator[Event, None]:
    """Decode each server-sent event of ``source`` into a typed sluice event.

    Args:
        source: server-sent events with ``event`` (the SSE event name) and ``data`` (the
            JSON text, ``str`` or UTF-8 ``bytes``): httpx-sse's ``EventSource.aiter_sse()``,
            or :class:`sluice.ServerSentEvent` values from :class:`sluice.SSEDecoder`.

    Yields:
        typed events (``MessageStart``, ``ContentBlockDelta``...); unknown types arrive as
        ``UnknownEvent``, as from a ``MessageStream``. Compose with
        :func:`~sluice.ops.accumulate` for the message, which also raises an in-stream
        ``error`` event as its typed error with the partial message.

    Raises:
        EventDecodeError: an event's data is not JSON for its type; ``events_received``
            counts the events decoded before it.

    Closing the generator closes ``source``.
    """
    received = 0
    try:
        async for sse in source:
            data = sse.data
            raw = data if isinstance(data, bytes) else data.encode("utf-8", "surrogatepass")
            try:
                event = decode_event(raw, sse.event or "message")
            except StreamError as exc:
                exc.events_received = received
                raise
            received += 1
            yield event
    finally:
        await aclose_upstream(source)
