"""The Jupyter case: the sync client called from code that runs inside an event loop.

A notebook cell runs in a coroutine on IPython's own (running) asyncio loop; a library that
started a loop of its own there would fail with "this event loop is already running" (or
"run() from inside a run()" under trio). ``sluice.Client`` runs no loop at all.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import anyio
import pytest

import sluice
from sluice.testing import MockAnthropic, Reply, install_batches, install_files, install_models

FIXTURES = Path(__file__).parent.parent.parent / "fixtures"
PARAMS: dict[str, Any] = {
    "model": "claude-sonnet-4-5",
    "max_tokens": 64,
    "messages": [{"role": "user", "content": "Hi"}],
}


@pytest.mark.parametrize("backend", ["asyncio", "trio"])
def test_works_inside_a_running_event_loop(
    backend: str, server: MockAnthropic, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Called from a coroutine under anyio.run (both backends), the client streams, pages,
    uploads, downloads and waits for a batch without touching the running loop."""
    data = (FIXTURES / "text.sse").read_bytes()
    server.enqueue(Reply.sse(data))
    install_models(server)
    install_files(server)
    install_batches(server, complete_after=1)

    async def notebook_cell() -> tuple[str, int, bytes, str]:
        # What a cell does, blocking calls included, while its loop runs.
        with (
            monkeypatch.context() as patch,
            sluice.Client(api_key="test", base_url=server.base_url) as client,
        ):
            no_loops(patch)
            with client.messages.stream(**PARAMS) as stream:
                text = stream.final_text()
            models = client.models.list(limit=2).to_list()
            uploaded = client.files.upload(b"hello", filename="a.txt")
            with client.files.download(uploaded.id) as content:
                body = b"".join(content)
            batch = client.messages.batches.create(
                requests=[{"custom_id": "a", "params": PARAMS}]
            )
            ended = client.messages.batches.wait(batch.id, poll_interval=0.01)
        return text, len(models), body, ended.processing_status

    text, models, body, status = anyio.run(notebook_cell, backend=backend)
    assert text.startswith("A streaming parser")
    assert (models, body, status) == (7, b"hello", "ended")


def no_loops(monkeypatch: pytest.MonkeyPatch) -> None:
    """From here on, starting any event loop fails the test (the call would nest loops)."""
    import trio

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("sluice.Client started an event loop")

    for module, name in (
        (asyncio, "run"),
        (asyncio, "new_event_loop"),
        (trio, "run"),
        (anyio, "run"),
    ):
        monkeypatch.setattr(module, name, refuse)
