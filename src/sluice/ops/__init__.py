"""Composable operators over Messages API event streams.

Every operator takes its upstream (an async iterable, usually a ``MessageStream`` or another
operator) as its first argument. Plain operators return an async generator; closing it, by
``aclose()``, by leaving an ``async with aclosing(...)`` block or by cancellation, closes the
upstream down to the HTTP response. Operators that need a background task (``coalesce``,
``controlled``, ``broadcast``) are async context managers that hand out a bounded stream.

Compose by nesting or, left to right, with :func:`pipe` / ``MessageStream.pipe``::

    from functools import partial
    from sluice import ops

    async with client.messages.stream(**params) as stream:
        async for text in stream.pipe(partial(ops.take_until, predicate=ops.tool_use_stopped()),
                                      ops.text_deltas):
            print(text, end="")

Closing before the first item: Python runs an async generator's ``finally:`` only once it
has started, so a directly nested operator that is closed before yielding anything cannot
reach its upstream (the stream's own ``async with`` still releases the connection when it
exits). A :func:`pipe` (or ``MessageStream.pipe``) has no such gap: closing it closes every
stage and the source, started or not. Prefer ``pipe`` when you may close early.

Families: views (:func:`accumulate`, :func:`text_deltas`, :func:`thinking_deltas`,
:func:`text_blocks`, :func:`joined_text`, :func:`citations`), selection (:func:`of_type`,
:func:`filter_events`, :func:`map_events`, :func:`take_until`), tool calls
(:func:`tool_calls`), flow control (:func:`coalesce`, :func:`idle_timeout`,
:func:`controlled`), fan-out (:func:`broadcast`) and relay encoders (:func:`to_sse`,
:func:`to_jsonl`, :class:`SSEEncoder`); and a source from another SSE parser, such as
httpx-sse (:func:`from_sse`).

The views and :func:`tool_calls` take :func:`accumulate`'s snapshots wherever they take
events, so ``text_deltas(accumulate(events, accumulator=acc))`` paints text while ``acc``
holds the message; :func:`text_deltas` and :func:`thinking_deltas` fuse with
:func:`accumulate` into one stage (see :class:`Snapshots`).
"""

from __future__ import annotations

from .._core._tool_calls import ToolCall as ToolCall
from .._core._tool_calls import ToolCallAssembler as ToolCallAssembler
from .._core._tool_calls import ToolCallDelta as ToolCallDelta
from ._base import Operator as Operator
from ._base import Pipeline as Pipeline
from ._base import aclose_upstream as aclose_upstream
from ._base import pipe as pipe
from ._broadcast import Broadcaster as Broadcaster
from ._broadcast import SlowPolicy as SlowPolicy
from ._broadcast import Subscription as Subscription
from ._broadcast import broadcast as broadcast
from ._coalesce import CoalescedEvents as CoalescedEvents
from ._coalesce import coalesce as coalesce
from ._control import Control as Control
from ._control import ControlledEvents as ControlledEvents
from ._control import Overflow as Overflow
from ._control import controlled as controlled
from ._encode import SSEEncoder as SSEEncoder
from ._encode import to_jsonl as to_jsonl
from ._encode import to_sse as to_sse
from ._from_sse import SSELike as SSELike
from ._from_sse import from_sse as from_sse
from ._timeout import idle_timeout as idle_timeout
from ._tools import tool_calls as tool_calls
from ._views import BlockCitations as BlockCitations
from ._views import Snapshot as Snapshot
from ._views import Snapshots as Snapshots
from ._views import TextBlockDone as TextBlockDone
from ._views import accumulate as accumulate
from ._views import citations as citations
from ._views import filter_events as filter_events
from ._views import joined_text as joined_text
from ._views import map_events as map_events
from ._views import of_type as of_type
from ._views import take_until as take_until
from ._views import text_blocks as text_blocks
from ._views import text_deltas as text_deltas
from ._views import thinking_deltas as thinking_deltas
from ._views import tool_use_stopped as tool_use_stopped

__all__ = [
    "BlockCitations",
    "Broadcaster",
    "CoalescedEvents",
    "Control",
    "ControlledEvents",
    "Operator",
    "Overflow",
    "Pipeline",
    "SSEEncoder",
    "SSELike",
    "SlowPolicy",
    "Snapshot",
    "Snapshots",
    "Subscription",
    "TextBlockDone",
    "ToolCall",
    "ToolCallAssembler",
    "ToolCallDelta",
    "accumulate",
    "aclose_upstream",
    "broadcast",
    "citations",
    "coalesce",
    "controlled",
    "filter_events",
    "from_sse",
    "idle_timeout",
    "joined_text",
    "map_events",
    "of_type",
    "pipe",
    "take_until",
    "text_blocks",
    "text_deltas",
    "thinking_deltas",
    "to_jsonl",
    "to_sse",
    "tool_calls",
    "tool_use_stopped",
]
