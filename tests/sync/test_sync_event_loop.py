"""The Jupyter case: the sync client called from code that runs inside an event loop.

A notebook cell runs in a coroutine on IPython's own (running) asyncio loop; a library that
started a loop of its own there would fail with "this event loop is already running" (or
"run() from inside a run()" under trio). ``sluice.Client`` runs no loop at all.
"""

from __future__ import annotations

import asyncio
import threading
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


class TestInsideARunningLoop:
    @pytest.mark.parametrize("backend", ["asyncio", "trio"])
    def test_works_inside_a_running_event_loop(
        self,
        backend: str,
        server: MockAnthropic,
        monkeypatch: pytest.MonkeyPatch,
        tmp_path: Path,
    ) -> None:
        """Called from a coroutine under anyio.run (both backends), the client streams, pages,
        uploads (bytes and a path), downloads, saves and waits for a batch without touching
        the running loop."""
        data = (FIXTURES / "text.sse").read_bytes()
        server.enqueue(Reply.sse(data))
        install_models(server)
        install_files(server)
        install_batches(server, complete_after=1)

        path = tmp_path / "notes.txt"
        path.write_bytes(b"from disk")

        async def notebook_cell() -> tuple[str, int, bytes, str]:
            # What a cell does, blocking calls included, while its loop runs.
            with (
                monkeypatch.context() as patch,
                sluice.Client(api_key="test", base_url=server.base_url) as client,
            ):
                no_loops(patch)
                with pytest.raises(AssertionError):
                    anyio.current_time()  # the guard is on
                with client.messages.stream(**PARAMS) as stream:
                    text = stream.final_text()
                models = client.models.list(limit=2).to_list()
                uploaded = client.files.upload(b"hello", filename="a.txt")
                with client.files.download(uploaded.id) as content:
                    body = b"".join(content)
                from_disk = client.files.upload(path)
                client.files.download_to(from_disk.id, tmp_path / "copy.txt")
                assert (tmp_path / "copy.txt").read_bytes() == b"from disk"
                batch = client.messages.batches.create(
                    requests=[{"custom_id": "a", "params": PARAMS}]
                )
                ended = client.messages.batches.wait(batch.id, poll_interval=0.01)
            return text, len(models), body, ended.processing_status

        text, models, body, status = anyio.run(notebook_cell, backend=backend)
        assert text.startswith("A streaming parser")
        assert (models, body, status) == (7, b"hello", "ended")


def no_loops(monkeypatch: pytest.MonkeyPatch) -> None:
    """From here on, starting an event loop or calling into anyio fails the test: the sync
    client must neither nest loops nor use the loop that happens to be running."""
    import anyio.lowlevel
    import anyio.to_thread
    import trio

    cell = threading.get_ident()  # the mock API's own loop, in its thread, goes on

    def refusing(original: Any) -> Any:
        def refuse(*args: Any, **kwargs: Any) -> Any:
            if threading.get_ident() == cell:
                raise AssertionError("sluice.Client started an event loop or called anyio")
            return original(*args, **kwargs)

        return refuse

    for module, name in (
        (asyncio, "run"),
        (asyncio, "new_event_loop"),
        (trio, "run"),
        (anyio, "run"),
        (anyio, "sleep"),
        (anyio, "current_time"),
        (anyio, "move_on_after"),
        (anyio, "fail_after"),
        (anyio, "CancelScope"),
        (anyio, "open_file"),
        (anyio.to_thread, "run_sync"),
        (anyio.lowlevel, "checkpoint"),
    ):
        monkeypatch.setattr(module, name, refusing(getattr(module, name)))
