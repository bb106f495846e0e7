from __future__ import annotations

import pytest
from hypothesis import Phase, settings

# pytester runs small suites in a subprocess (the mock_anthropic fixture under trio_mode).
pytest_plugins = ["pytester"]

# Hypothesis's "target" phase imports a module lazily mid-test; under pytest's assertion
# rewriting on CPython 3.11 that was seen to fail once with "AST constructor recursion
# depth mismatch". The phase only tunes search; turning it off removes the flake.
settings.register_profile(
    "sluice",
    phases=[Phase.explicit, Phase.reuse, Phase.generate, Phase.shrink],
)
settings.load_profile("sluice")


@pytest.fixture(params=["asyncio", "trio"])
def anyio_backend(request: pytest.FixtureRequest) -> str:
    """Every async test runs on both asyncio and trio (anyio's pytest plugin)."""
    return request.param
