"""``async with x:`` for anything with an ``aclose()``: one ``__aexit__`` for every class.

The client, the lazily read bodies (batch results, downloads) and broadcast subscriptions
all release what they hold in ``aclose()``; this mixin makes each of them an async context
manager that calls it on the way out, whatever happened in the block. It needs no event
loop library, so it sits in the core where every layer can use it. :class:`Closeable` is
its twin for the synchronous client: ``with x:`` and ``close()``.
"""

from __future__ import annotations

from types import TracebackType
from typing import Self

__all__ = ["AsyncCloseable", "Closeable"]


class AsyncCloseable:
    """Mixin: ``async with`` yields the object and awaits :meth:`aclose` on exit."""

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Release what this object holds. Safe to call more than once."""
        raise NotImplementedError


class Closeable:
    """Mixin: ``with`` yields the object and calls :meth:`close` on exit."""

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        """Release what this object holds. Safe to call more than once."""
        raise NotImplementedError
