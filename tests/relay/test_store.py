"""Both stores keep the same log: dense ids, replay from any position, live follow, caps."""

from __future__ import annotations

from typing import Any

import anyio
import msgspec
import pytest

from sluice.relay import (
    ChatExistsError,
    ChatNotFoundError,
    Entry,
    InvalidChatIdError,
    InvalidPositionError,
    MemoryStore,
    RelayError,
    Store,
    StoreFullError,
)

pytestmark = pytest.mark.anyio


def delta(text: str) -> tuple[str, bytes]:
    """A text delta item as the writer appends it."""
    body = {
        "type": "content_block_delta",
        "index": 0,
        "delta": {"type": "text_delta", "text": text},
    }
    return "content_block_delta", msgspec.json.encode(body)


STOP = ("message_stop", b'{"type":"message_stop"}')


async def collect(store: Store, chat_id: str, after: int = 0, **options: Any) -> list[Entry]:
    """Every entry a reader gets (heartbeats left out)."""
    return [e async for e in store.read(chat_id, after, **options) if e is not None]


class TestLog:
    async def test_replay_then_end_at_the_terminal_entry(self, store: Store) -> None:
        """Entries come back in order with ids 1..n, and reading ends at message_stop."""
        await store.create("c1")
        await store.append("c1", 1, [delta("a"), delta("b")])
        await store.append("c1", 3, [STOP])
        entries = await collect(store, "c1")
        assert [e.id for e in entries] == [1, 2, 3]
        assert [e.event for e in entries] == ["content_block_delta"] * 2 + ["message_stop"]
        assert entries[-1].terminal and not entries[0].terminal
        assert msgspec.json.decode(entries[1].data)["delta"]["text"] == "b"

    async def test_read_after_a_position_skips_what_the_reader_has(self, store: Store) -> None:
        """A reader resuming after id 2 gets 3.. only."""
        await store.create("c1")
        await store.append("c1", 1, [delta("a"), delta("b"), delta("c"), STOP])
        assert [e.id for e in await collect(store, "c1", 2)] == [3, 4]

    async def test_a_reader_follows_live_appends(self, store: Store) -> None:
        """A reader that starts on an empty log receives entries as they are appended."""
        await store.create("c1")
        got: list[Entry] = []

        async def read() -> None:
            got.extend(await collect(store, "c1"))

        async with anyio.create_task_group() as tg:
            tg.start_soon(read)
            for i in range(1, 6):
                await anyio.sleep(0.01)
                await store.append("c1", i, [delta(str(i))])
            await store.append("c1", 6, [STOP])
        assert [e.id for e in got] == [1, 2, 3, 4, 5, 6]

    async def test_many_readers_get_the_same_log(self, store: Store) -> None:
        """Fifty concurrent readers, some joining late, each get every entry once."""
        await store.create("c1")
        results: list[list[int]] = []

        async def read(after: int) -> None:
            results.append([e.id for e in await collect(store, "c1", after)])

        async with anyio.create_task_group() as tg:
            for n in range(50):
                tg.start_soon(read, 0)
                if n % 10 == 0:
                    await store.append("c1", n // 10 + 1, [delta("x")])
            await anyio.sleep(0.02)
            await store.append("c1", 6, [STOP])
        assert results == [[1, 2, 3, 4, 5, 6]] * 50

    async def test_done_chat_ends_the_reader(self, store: Store) -> None:
        """A chat marked done without a terminal entry ends its readers too."""
        store.check_interval = 0.05  # a quiet reader notices state changes this often
        await store.create("c1")
        await store.append("c1", 1, [delta("a")])

        async def finish() -> None:
            await anyio.sleep(0.05)
            await store.set_state("c1", "done")

        async with anyio.create_task_group() as tg:
            tg.start_soon(finish)
            with anyio.fail_after(10):
                assert [e.id for e in await collect(store, "c1")] == [1]


class TestHeartbeat:
    async def test_none_after_quiet_seconds(self, store: Store) -> None:
        """A reader with heartbeat=0.05 on a quiet chat yields None, then the entries."""
        await store.create("c1")
        items: list[Entry | None] = []

        async def read() -> None:
            async for item in store.read("c1", heartbeat=0.05):
                items.append(item)

        async with anyio.create_task_group() as tg:
            tg.start_soon(read)
            await anyio.sleep(0.3)
            await store.append("c1", 1, [STOP])
        assert None in items and isinstance(items[-1], Entry) and items[-1].id == 1


class TestErrors:
    async def test_unknown_chat(self, store: Store) -> None:
        """Reading an unknown chat raises ChatNotFoundError; info() is None."""
        assert await store.info("nope") is None
        with pytest.raises(ChatNotFoundError):
            await collect(store, "nope")

    async def test_create_twice(self, store: Store) -> None:
        """A chat id cannot be created twice."""
        await store.create("c1")
        with pytest.raises(ChatExistsError):
            await store.create("c1")

    async def test_invalid_chat_id(self, store: Store) -> None:
        """Chat ids are checked (they become Redis keys and URL segments): a typed error."""
        for bad in ("a/b", "", "x" * 129):
            with pytest.raises(InvalidChatIdError, match="chat id") as caught:
                await store.create(bad)
            assert isinstance(caught.value, ValueError)

    async def test_a_negative_position(self, store: Store) -> None:
        """read(after=-1) raises InvalidPositionError (a ValueError), before any I/O."""
        await store.create("c1")
        with pytest.raises(InvalidPositionError, match=">= 0") as caught:
            await collect(store, "c1", -1)
        assert isinstance(caught.value, ValueError)

    async def test_append_at_the_wrong_id(self, store: Store) -> None:
        """An append that is not at the next id is refused: one writer per chat."""
        await store.create("c1")
        await store.append("c1", 1, [delta("a")])
        with pytest.raises(RelayError):
            await store.append("c1", 1, [delta("b")])
        assert [e.id for e in await store.entries("c1", 0, 10)] == [1]


class TestCap:
    async def test_a_reader_behind_the_cap_gets_an_error_not_a_gap(self, make_store: Any) -> None:
        """With a small cap, reading from 0 yields one log_trimmed_error entry, id unchanged."""
        async with make_store(max_entries=10) as store:
            await store.create("c1")
            for start in range(1, 2001, 100):
                await store.append("c1", start, [delta("x")] * 100)
            entries = await collect(store, "c1", 0)
            assert len(entries) == 1
            error = msgspec.json.decode(entries[0].data)
            assert entries[0].event == "error" and entries[0].id == 0
            assert error["error"]["type"] == "log_trimmed_error"
            assert "max_entries" in error["error"]["message"]
            # The newest entries are still there for a reader that kept up.
            tail = await store.entries("c1", 1995, 10)
            assert [e.id for e in tail] == [1996, 1997, 1998, 1999, 2000]

    async def test_the_writer_never_waits_for_a_reader(self, make_store: Any) -> None:
        """A reader that stops reading does not slow appends; it later resumes or errors."""
        async with make_store(max_entries=100_000) as store:
            await store.create("c1")
            await store.append("c1", 1, [delta("x")])
            reader = store.read("c1")
            first = await reader.__anext__()
            assert first is not None and first.id == 1
            with anyio.fail_after(10):  # the reader is parked; appends go on
                for start in range(2, 5002, 500):
                    await store.append("c1", start, [delta("x")] * 500)
                await store.append("c1", 5002, [STOP])
            rest = [e async for e in reader if e is not None]
            assert [e.id for e in rest] == list(range(2, 5003))
            await reader.aclose()


class TestStop:
    async def test_request_and_wait(self, store: Store) -> None:
        """request_stop on a running chat wakes wait_stop; on a done chat it says False."""
        await store.create("c1")
        async with anyio.create_task_group() as tg:
            tg.start_soon(store.wait_stop, "c1")
            await anyio.sleep(0.05)
            assert await store.request_stop("c1") is True
        await store.set_state("c1", "done")
        assert await store.request_stop("c1") is False


class TestMemoryBounds:
    async def test_oldest_done_chat_makes_room(self) -> None:
        """At max_chats, creating evicts the oldest finished chat; all running -> full."""
        async with MemoryStore(max_chats=2) as store:
            await store.create("a")
            await store.create("b")
            with pytest.raises(StoreFullError):
                await store.create("c")
            await store.set_state("a", "done")
            await store.create("c")
            assert await store.info("a") is None and await store.info("b") is not None

    async def test_finished_chats_expire(self) -> None:
        """A finished chat is forgotten ttl seconds after it ended."""
        async with MemoryStore(ttl=0.05) as store:
            await store.create("a")
            await store.append("a", 1, [STOP])
            await store.set_state("a", "done")
            assert await store.info("a") is not None
            await anyio.sleep(0.1)
            assert await store.info("a") is None
