"""What every operator shares: closing upstream, and composition with :func:`pipe`.

An operator is a function whose first positional argument is its upstream (an async
iterable, usually of events) and which returns an async generator. Operators compose by
plain nesting, ``text_deltas(take_until(stream, pred))``, or left to right with
:func:`pipe` / ``MessageStream.pipe``; options go through ``functools.partial``::

    from functools import partial
    async for text in stream.pipe(partial(ops.take_until, predicate=is_tool_stop), ops.text_deltas):
        ...

Closing an operator (``aclose()``, ``break`` followed by closing, cancellation) closes its
upstream, down to the HTTP response: see :func:`aclose_upstream`. Operators that need a
background task (``coalesce``, ``controlled``, ``broadcast``) are async context managers that
hand out a bounded stream instead, so that no generator ever yields inside a task group
(PEP 789).
"""

from __future__ import annotations

from collections.abc import AsyncIterable, AsyncIterator, Callable
from typing import Any, TypeAlias

import anyio

__all__ = ["Operator", "aclose_upstream", "pipe"]

#: A pipeline stage: takes the upstream iterable, returns the downstream iterator.
Operator: TypeAlias = Callable[[AsyncIterable[Any]], AsyncIterator[Any]]


async def aclose_upstream(source: object) -> None:
    """Close ``source`` if it can be closed, shielded from cancellation.

    Called from an operator's ``finally:`` so that closing any stage of a chain releases
    the connection at its root, even while the surrounding scope is being cancelled.
    """
    aclose = getattr(source, "aclose", None)
    if aclose is not None:
        with anyio.CancelScope(shield=True):
            await aclose()


def pipe(source: AsyncIterable[Any], *stages: Operator) -> AsyncIterator[Any]:
    """Compose operators left to right: ``pipe(s, a, b)`` is ``b(a(s))``.

    Args:
        source: the upstream, e.g. a ``MessageStream``.
        stages: operators taking one positional argument (use ``functools.partial`` for
            options).

    Returns:
        the last stage's iterator; closing it closes every stage and the source.
    """
    result: Any = source
    for stage in stages:
        result = stage(result)
    if not stages:
        return aiter(result)
    return result  # type: ignore[no-any-return]
