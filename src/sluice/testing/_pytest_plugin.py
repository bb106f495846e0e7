"""pytest plugin: the ``mock_anthropic`` fixture.

Registered through the ``pytest11`` entry point ``sluice``, so installing sluice makes the
fixture available everywhere. It is a plain async fixture, so whichever plugin runs the
requesting test also runs the fixture, in the test's own event loop:

* anyio's pytest plugin, for tests marked ``@pytest.mark.anyio`` (they run on every
  ``anyio_backend``; anyio runs the async fixtures of any test that has ``anyio_backend``
  among its fixtures)::

      @pytest.mark.anyio
      async def test_retries_on_overload(mock_anthropic: MockAnthropic) -> None:
          mock_anthropic.enqueue(Reply.error(529, "overloaded_error", "Overloaded"))
          ...

* pytest-trio, for tests marked ``@pytest.mark.trio`` or every async test under
  ``trio_mode = true`` (pytest-trio runs the async fixtures of the trio tests itself).

The fixture deliberately does not request ``anyio_backend``: if it did, every test using it
would be parametrized by anyio's backends and anyio would run the fixture in a loop of its
own -- under pytest-trio that loop is not the one running the test (an ``[asyncio]``
server never answers; a ``[trio]`` one fails with "run() from inside a run()"). So do not
mark one test both ``anyio`` and ``trio``.

This module imports pytest; ``sluice.testing`` itself does not.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator

import pytest

from ._server import MockAnthropic

__all__ = ["mock_anthropic"]


@pytest.fixture
async def mock_anthropic() -> AsyncGenerator[MockAnthropic, None]:
    """A started :class:`~sluice.testing.MockAnthropic`, stopped after the test.

    Runs in the requesting test's event loop, under anyio's plugin (on the test's
    ``anyio_backend``) or under pytest-trio.
    """
    async with MockAnthropic() as server:
        yield server
