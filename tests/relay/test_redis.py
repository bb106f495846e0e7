"""The Redis Streams store against a real redis-server: keys, ids, TTL, cap, lost writers,
replies it cannot read, a quiet reader past the command timeout, a server restart.

The Redis client under it (``sluice._redis``) is tested in ``tests/redis/test_resp.py``."""

from __future__ import annotations

import anyio
import msgspec
import pytest

from _redis_util import OwnRedis, fake_redis
from conftest import redis_store
from sluice.relay import RedisProtocolError, RedisStore

pytestmark = pytest.mark.anyio

STOP = ("message_stop", b'{"type":"message_stop"}')
DELTA = (
    "content_block_delta",
    b'{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"x"}}',
)


class TestLayout:
    async def test_entry_n_is_stream_entry_0_n(self, redis_url: str) -> None:
        """The log is a stream whose entry ids are 0-1, 0-2...: the SSE id is the entry id."""
        async with redis_store(redis_url) as store:
            await store.create("c1")
            await store.append("c1", 1, [DELTA, DELTA, STOP])
            raw = await store.redis.execute("XRANGE", f"{store.prefix}{{c1}}:log", "-", "+")
            assert isinstance(raw, list)
            assert [item[0] for item in raw] == [b"0-1", b"0-2", b"0-3"]
            assert raw[2][1] == [b"e", b"message_stop", b"d", b'{"type":"message_stop"}']

    async def test_keys_expire_after_the_ttl(self, redis_url: str) -> None:
        """Log and meta carry the store's TTL once written, and again when the chat ends."""
        async with redis_store(redis_url, ttl=120) as store:
            await store.create("c1")
            await store.append("c1", 1, [STOP])
            await store.set_state("c1", "done")
            for name in ("log", "meta"):
                ttl = await store.redis.execute("TTL", f"{store.prefix}{{c1}}:{name}")
                assert isinstance(ttl, int) and 0 < ttl <= 120

    async def test_a_finished_chat_is_gone_after_its_ttl(self, redis_url: str) -> None:
        """After the TTL the chat is unknown (404 in the app)."""
        async with redis_store(redis_url, ttl=0.2) as store:
            await store.create("c1")
            await store.append("c1", 1, [STOP])
            await store.set_state("c1", "done")
            await anyio.sleep(0.4)
            assert await store.info("c1") is None

    async def test_log_length_is_capped(self, redis_url: str) -> None:
        """XADD MAXLEN ~ keeps the stream near max_entries however long the message."""
        async with redis_store(redis_url, max_entries=200) as store:
            await store.create("c1")
            for start in range(1, 10_001, 1000):
                await store.append("c1", start, [DELTA] * 1000)
            length = await store.redis.execute("XLEN", f"{store.prefix}{{c1}}:log")
            assert isinstance(length, int) and 200 <= length < 1200


class TestWorkers:
    async def test_a_new_store_instance_resumes_a_reader(self, redis_url: str) -> None:
        """A worker restart: another RedisStore (new connections) reads on from an id."""
        prefix_store = redis_store(redis_url)
        async with prefix_store as first:
            await first.create("c1")
            await first.append("c1", 1, [DELTA, DELTA])
            reader = first.read("c1")
            assert [(await reader.__anext__()).id for _ in range(2)] == [1, 2]  # type: ignore[union-attr]
            await reader.aclose()
        async with RedisStore(redis_url, prefix=prefix_store.prefix) as second:
            await second.append("c1", 3, [STOP])
            assert [e.id async for e in second.read("c1", 2) if e is not None] == [3]

    async def test_a_dead_writer_ends_the_log(self, redis_url: str) -> None:
        """A running chat whose writer stops renewing its lease ends with generation_lost_error."""
        async with redis_store(redis_url, lease=0.3, stop_poll=0.1) as store:
            await store.create("c1")
            await store.append("c1", 1, [DELTA])
            with anyio.fail_after(15):
                entries = [e async for e in store.read("c1") if e is not None]
            assert [e.id for e in entries] == [1, 2]
            error = msgspec.json.decode(entries[1].data)
            assert error["error"]["type"] == "generation_lost_error"
            info = await store.info("c1")
            assert info is not None and info.state == "done"

    async def test_a_live_writer_keeps_its_lease(self, redis_url: str) -> None:
        """wait_stop renews the lease, so a slow but alive writer is not reaped."""
        async with redis_store(redis_url, lease=0.6, stop_poll=0.05) as store:
            await store.create("c1")
            async with anyio.create_task_group() as tg:
                tg.start_soon(store.wait_stop, "c1")
                await anyio.sleep(1.5)
                info = await store.info("c1")
                assert info is not None and info.writer_alive
                tg.cancel_scope.cancel()

    async def test_stop_reaches_a_writer_in_another_process(self, redis_url: str) -> None:
        """request_stop through one store instance wakes wait_stop on another."""
        writer = redis_store(redis_url)
        async with writer, RedisStore(redis_url, prefix=writer.prefix) as other:
            await writer.create("c1")
            with anyio.fail_after(5):
                async with anyio.create_task_group() as tg:
                    tg.start_soon(writer.wait_stop, "c1")
                    await anyio.sleep(0.05)
                    assert await other.request_stop("c1")


class TestProtocolErrors:
    async def test_a_log_reply_of_the_wrong_shape(self) -> None:
        """An XRANGE reply the store cannot read is a RedisProtocolError naming the command."""
        with fake_redis(b"*1\r\n:5\r\n") as url:
            async with RedisStore(url) as store:
                with anyio.fail_after(5), pytest.raises(RedisProtocolError, match="XRANGE"):
                    await store.entries("c1", 0, 10)

    async def test_a_chat_state_of_the_wrong_shape(self) -> None:
        """A meta hash the store did not write (an unknown state) is a RedisProtocolError."""
        with fake_redis(b"*3\r\n$5\r\nweird\r\n$1\r\n3\r\n$-1\r\n:1\r\n") as url:
            async with RedisStore(url) as store:
                with anyio.fail_after(5), pytest.raises(RedisProtocolError, match="state"):
                    await store.info("c1")


class TestTimeouts:
    async def test_a_store_reader_waits_past_the_command_timeout(self, redis_url: str) -> None:
        """A quiet chat's reader blocks in XREAD longer than command_timeout and heartbeats."""
        async with redis_store(redis_url, command_timeout=0.2) as store:
            await store.create("c1")
            reader = store.read("c1", heartbeat=0.6)
            with anyio.fail_after(5):
                assert await reader.__anext__() is None  # a heartbeat tick, not an error
            await reader.aclose()


class TestStaleConnections:
    async def test_the_store_after_a_restart(self, own_redis: OwnRedis) -> None:
        """A RedisStore keeps working across a restart (what was in memory is gone)."""
        async with RedisStore(own_redis.url, prefix="t:") as store:
            await store.create("c1")
            assert (await store.info("c1")) is not None
            own_redis.restart()
            assert await store.info("c1") is None
            await anyio.sleep(1.1)
            await store.create("c1")
            await store.append("c1", 1, [STOP])
            assert [e.id for e in await store.entries("c1", 0, 10)] == [1]
