"""The Redis Streams store against a real redis-server: keys, ids, TTL, cap, lost writers."""

from __future__ import annotations

from functools import partial

import anyio
import msgspec
import pytest
from _relay_util import fake_redis

import sluice
from conftest import OwnRedis, redis_store
from sluice.relay import RedisError, RedisProtocolError, RedisStore, RedisTimeoutError
from sluice.relay._resp import RedisClient, RedisReplyError, RedisURL

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


class TestResp:
    async def test_replies_of_every_type(self, redis_url: str) -> None:
        """Simple strings, integers, bulk strings, nil, arrays and errors decode."""
        async with RedisClient(RedisURL.parse(redis_url)) as redis:
            key = "test:resp:" + str(id(redis))
            replies = await redis.pipeline(
                [
                    ("SET", key, b"\x00bin\r\n"),
                    ("GET", key),
                    ("GET", key + ":none"),
                    ("INCR", key + ":n"),
                    ("MGET", key, key + ":none"),
                    ("HGET", key, "f"),
                ]
            )
            assert replies[:5] == ["OK", b"\x00bin\r\n", None, 1, [b"\x00bin\r\n", None]]
            assert isinstance(replies[5], RedisReplyError) and "WRONGTYPE" in str(replies[5])
            with pytest.raises(RedisReplyError):
                await redis.execute("HGET", key, "f")
            await redis.execute("DEL", key, key + ":n")

    async def test_a_cancelled_command_does_not_poison_the_pool(self, redis_url: str) -> None:
        """A command cancelled mid-reply closes its connection; the next command is fine."""
        async with RedisClient(RedisURL.parse(redis_url), max_connections=1) as redis:
            with anyio.move_on_after(0.05):
                await redis.execute("BLPOP", "test:resp:never", 5)
            assert await redis.execute("PING") == "PONG"

    async def test_no_server(self) -> None:
        """An unreachable server raises RedisError naming where, not a raw OSError."""
        async with RedisClient(RedisURL.parse("redis://127.0.0.1:1/0")) as redis:
            with pytest.raises(RedisError, match="cannot connect"):
                await redis.execute("PING")

    def test_url_parsing_and_redaction(self) -> None:
        """redis:// URLs parse; the password never shows in repr or str."""
        url = RedisURL.parse("redis://user:s3cret@example:6380/2")
        assert (url.host, url.port, url.db, url.username, url.password) == (
            "example",
            6380,
            2,
            "user",
            "s3cret",
        )
        assert "s3cret" not in repr(url) and "s3cret" not in str(url)

    @pytest.mark.parametrize(
        ("url", "match"),
        [
            ("http://x", "redis://"),
            ("redis://h/zero", "database"),
            ("redis://h:port/0", "port"),
            ("redis://:s3cret@h:99999/0", "port"),
        ],
    )
    def test_a_bad_url_is_a_config_error(self, url: str, match: str) -> None:
        """A malformed URL raises sluice.ConfigError (a ValueError) saying what, no secret."""
        with pytest.raises(sluice.ConfigError, match=match) as caught:
            RedisURL.parse(url)
        assert isinstance(caught.value, ValueError) and "s3cret" not in str(caught.value)

    async def test_auth_failure_is_a_redis_error(self, redis_url: str) -> None:
        """A password the server does not expect fails the connection setup clearly."""
        url = redis_url.replace("redis://", "redis://:wrong@")
        async with RedisClient(RedisURL.parse(url)) as redis:
            with pytest.raises(RedisError, match="refused the connection setup") as caught:
                await redis.execute("PING")
            assert "wrong" not in str(caught.value)


class TestProtocolErrors:
    @pytest.mark.parametrize(
        "answer",
        [b"?what\r\n", b":12x\r\n", b"$abc\r\n", b"*-5x\r\n", b"$3\r\nabcXY", b"\r\n"],
        ids=["type", "integer", "bulk-size", "array-size", "bulk-end", "empty"],
    )
    async def test_a_reply_that_is_not_resp(self, answer: bytes) -> None:
        """Bytes that are not RESP2 raise RedisProtocolError, never ValueError or an assert."""
        async with fake_redis(answer) as url, RedisClient(RedisURL.parse(url)) as redis:
            with anyio.fail_after(5), pytest.raises(RedisProtocolError):
                await redis.execute("PING")

    async def test_a_log_reply_of_the_wrong_shape(self) -> None:
        """An XRANGE reply the store cannot read is a RedisProtocolError naming the command."""
        async with fake_redis(b"*1\r\n:5\r\n") as url, RedisStore(url) as store:
            with anyio.fail_after(5), pytest.raises(RedisProtocolError, match="XRANGE"):
                await store.entries("c1", 0, 10)

    async def test_a_chat_state_of_the_wrong_shape(self) -> None:
        """A meta hash the store did not write (an unknown state) is a RedisProtocolError."""
        async with fake_redis(b"*3\r\n$5\r\nweird\r\n$1\r\n3\r\n$-1\r\n:1\r\n") as url:
            async with RedisStore(url) as store:
                with anyio.fail_after(5), pytest.raises(RedisProtocolError, match="state"):
                    await store.info("c1")


class TestTimeouts:
    async def test_a_server_that_never_answers(self) -> None:
        """A server that accepts and never answers: RedisTimeoutError after command_timeout."""
        async with (
            fake_redis(None) as url,
            RedisClient(RedisURL.parse(url), command_timeout=0.2) as redis,
        ):
            with anyio.fail_after(5), pytest.raises(RedisTimeoutError) as caught:
                await redis.execute("PING")
        assert isinstance(caught.value, TimeoutError)
        assert "within 0.2 s" in str(caught.value) and "reply to PING" in str(caught.value)

    async def test_the_setup_of_a_connection_is_bounded_and_redacted(self) -> None:
        """AUTH against a silent server times out too; the password is not in the message."""
        async with fake_redis(None) as url:
            secret = url.replace("redis://", "redis://:s3cret@")
            async with RedisClient(RedisURL.parse(secret), command_timeout=0.2) as redis:
                with anyio.fail_after(5), pytest.raises(RedisTimeoutError) as caught:
                    await redis.execute("PING")
        assert "connecting" in str(caught.value) and "s3cret" not in str(caught.value)

    async def test_a_blocking_read_gets_its_block_time(self, redis_url: str) -> None:
        """XREAD BLOCK 500 ms under a 0.2 s command timeout: no error, a nil reply."""
        async with RedisClient(RedisURL.parse(redis_url), command_timeout=0.2) as redis:
            reply = await redis.execute(
                "XREAD", "BLOCK", 500, "STREAMS", "test:never", "0-0", block=0.5
            )
        assert reply is None

    async def test_a_store_reader_waits_past_the_command_timeout(self, redis_url: str) -> None:
        """A quiet chat's reader blocks in XREAD longer than command_timeout and heartbeats."""
        async with redis_store(redis_url, command_timeout=0.2) as store:
            await store.create("c1")
            reader = store.read("c1", heartbeat=0.6)
            with anyio.fail_after(5):
                assert await reader.__anext__() is None  # a heartbeat tick, not an error
            await reader.aclose()

    async def test_waiting_for_a_free_connection_is_bounded(self, redis_url: str) -> None:
        """Every pooled connection busy: the next command times out saying so."""
        async with RedisClient(
            RedisURL.parse(redis_url), max_connections=1, command_timeout=0.2
        ) as redis:
            async with anyio.create_task_group() as tg:
                tg.start_soon(partial(redis.execute, "BLPOP", "test:never", 1, block=1))
                await anyio.sleep(0.05)
                with pytest.raises(RedisTimeoutError, match="free connection"):
                    await redis.execute("PING")
                tg.cancel_scope.cancel()


class TestStaleConnections:
    async def test_reads_after_a_restart(self, own_redis: OwnRedis) -> None:
        """After a server restart, pooled connections are dead; reads go on, no error."""
        async with RedisClient(RedisURL.parse(own_redis.url)) as redis:
            await redis.pipeline([["PING"], ["PING"]])
            async with anyio.create_task_group() as tg:  # two connections in the pool
                for _ in range(2):
                    tg.start_soon(redis.execute, "GET", "k")
            own_redis.restart()
            for _ in range(3):
                assert await redis.execute("GET", "k") is None
            assert await redis.pipeline([["SET", "k", "v", "PX", 5000], ["EXISTS", "k"]]) == [
                "OK",
                1,
            ]

    async def test_a_write_is_never_sent_twice(self, own_redis: OwnRedis) -> None:
        """INCR on a stale connection used a moment ago fails (it may have run), never twice."""
        async with RedisClient(RedisURL.parse(own_redis.url)) as redis:
            assert await redis.execute("INCR", "n") == 1
            own_redis.restart()
            with pytest.raises(RedisError, match="may or may not have run"):
                await redis.execute("INCR", "n")
            assert await redis.execute("INCR", "n") == 1

    async def test_an_idle_connection_is_checked_before_a_write(self, own_redis: OwnRedis) -> None:
        """A connection idle over a second gets a PING first: the restart costs nothing."""
        async with RedisClient(RedisURL.parse(own_redis.url)) as redis:
            assert await redis.execute("INCR", "n") == 1
            own_redis.restart()
            await anyio.sleep(1.1)
            assert await redis.execute("INCR", "n") == 1

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
