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

from collections.abc import AsyncIterable, AsyncIterator, Awaitable, Callable
from typing import Any, TypeAlias

import anyio

__all__ = ["Operator", "Pipeline", "aclose_all", "aclose_upstream", "pipe"]

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


class Pipeline(AsyncIterator[Any]):
    """The result of :func:`pipe`: iterate it; closing it closes every stage and the source.

    Python runs an async generator's ``finally:`` only once it has started, so closing an
    operator before its first item would not reach its upstream by itself. A pipeline
    remembers its stages and, if it is closed before the first item, closes each of them
    and the source explicitly; after that, closing the last stage is enough, because each
    started stage closes its own upstream.
    """

    __slots__ = ("_last", "_source", "_stages", "_started")

    def __init__(self, source: AsyncIterable[Any], stages: list[AsyncIterator[Any]]) -> None:
        self._source = source
        self._stages = stages
        self._last: AsyncIterator[Any] = stages[-1] if stages else aiter(source)
        self._started = False

    def __aiter__(self) -> Pipeline:
        return self

    def __anext__(self) -> Awaitable[Any]:
        self._started = True
        return self._last.__anext__()

    async def aclose(self) -> None:
        """Close the last stage, and every earlier stage and the source if none started."""
        with anyio.CancelScope(shield=True):
            await aclose_upstream(self._last)
            if not self._started:
                for stage in reversed(self._stages[:-1]):
                    await aclose_upstream(stage)
                await aclose_upstream(self._source)


async def aclose_all(source: object, iterator: AsyncIterator[object]) -> None:
    """Close the iterator taken from ``source``, then ``source`` itself (both shielded).

    For an async generator or a ``MessageStream`` one of the two is enough, but an
    iterable whose ``__aiter__`` makes a fresh generator needs that generator closed too,
    or trio warns that it was garbage collected unfinished.
    """
    await aclose_upstream(iterator)
    if iterator is not source:
        await aclose_upstream(source)


def pipe(source: AsyncIterable[Any], *stages: Operator) -> Pipeline:
    """Compose operators left to right: ``pipe(s, a, b)`` iterates like ``b(a(s))``.

    Args:
        source: the upstream, e.g. a ``MessageStream``.
        stages: operators taking one positional argument (use ``functools.partial`` for
            options).

    Returns:
        a :class:`Pipeline`; closing it (``aclose()``, ``contextlib.aclosing``) closes every
        stage and the source, even before the first item.
    """
    built: list[AsyncIterator[Any]] = []
    upstream: Any = source
    for stage in stages:
        upstream = stage(upstream)
        built.append(upstream)
    return Pipeline(source, built)
