"""pytest plugin: the ``mock_anthropic`` fixture.

Registered through the ``pytest11`` entry point ``sluice``, so installing sluice makes the
fixture available everywhere. It is an async fixture run by anyio's pytest plugin: use it
from tests marked ``@pytest.mark.anyio`` (they run on every ``anyio_backend``)::

    @pytest.mark.anyio
    async def test_retries_on_overload(mock_anthropic: MockAnthropic) -> None:
        mock_anthropic.enqueue(Reply.error(529, "overloaded_error", "Overloaded"))
        ...

This module imports pytest; ``sluice.testing`` itself does not.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator

import pytest

from ._server import MockAnthropic

__all__ = ["mock_anthropic"]


@pytest.fixture
async def mock_anthropic(anyio_backend: object) -> AsyncGenerator[MockAnthropic, None]:
    """A started :class:`~sluice.testing.MockAnthropic`, stopped after the test.

    Depends on ``anyio_backend`` so that anyio's plugin runs it on the test's backend.
    """
    async with MockAnthropic() as server:
        yield server
