"""The Redis protocol, sans-I/O (any chunking gives the same replies), and the two clients
over it (``sluice._redis``: anyio and blocking) against a real redis-server: replies,
errors, bounded waits, and connections gone stale after a server restart."""

from __future__ import annotations

import socket
import threading
import time
from functools import partial

import anyio
import pytest
from hypothesis import given
from hypothesis import strategies as st

import sluice
from _redis_util import OwnRedis, fake_redis
from sluice._core._resp import (
    NEED_DATA,
    RedisURL,
    Reply,
    ReplyParser,
    encode_command,
    is_idempotent,
)
from sluice._redis._client import RedisClient
from sluice._redis._sync_client import SyncRedisClient

pytestmark = pytest.mark.anyio

#: Replies of every kind, as Redis sends them, and what they parse to.
WIRE = (
    b"+OK\r\n"
    b":-42\r\n"
    b"$5\r\nhe\r\nl\r\n"
    b"$-1\r\n"
    b"*-1\r\n"
    b"*0\r\n"
    b"*3\r\n:1\r\n*2\r\n$1\r\na\r\n*1\r\n$0\r\n\r\n$2\r\nzz\r\n"
    b"-ERR wrong number of arguments\r\n"
)


def parse_all(chunks: list[bytes]) -> list[Reply]:
    parser = ReplyParser()
    replies: list[Reply] = []
    for chunk in chunks:
        parser.feed(chunk)
        while not isinstance(reply := parser.next_reply(), type(NEED_DATA)):
            replies.append(reply)
    return replies


def split(data: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({cut % (len(data) + 1) for cut in cuts})
    return [data[a:b] for a, b in zip([0, *points], [*points, len(data)], strict=True)]


class TestReplyParser:
    def test_every_kind_of_reply(self) -> None:
        """Simple strings, integers, bulk strings (CRLF inside), nils, empty and nested
        arrays, errors (returned, not raised)."""
        *replies, error = parse_all([WIRE])
        assert replies == [
            "OK",
            -42,
            b"he\r\nl",
            None,
            None,
            [],
            [1, [b"a", [b""]], b"zz"],
        ]
        assert isinstance(error, sluice.RedisReplyError)
        assert str(error) == "ERR wrong number of arguments"

    @given(st.lists(st.integers(0, len(WIRE)), max_size=30))
    def test_any_chunking_gives_the_same_replies(self, cuts: list[int]) -> None:
        """However the bytes are split across reads, the replies are the same."""
        whole = parse_all([WIRE])
        assert repr(parse_all(split(WIRE, cuts))) == repr(whole)

    def test_a_reply_arrives_in_pieces(self) -> None:
        """An incomplete reply asks for more data and keeps its place."""
        parser = ReplyParser()
        parser.feed(b"*2\r\n$3\r\nab")
        assert parser.next_reply() is NEED_DATA
        parser.feed(b"c\r\n:7")
        assert parser.next_reply() is NEED_DATA
        parser.feed(b"\r\n")
        assert parser.next_reply() == [b"abc", 7]

    @pytest.mark.parametrize(
        ("data", "says"),
        [
            (b"?what\r\n", "unknown RESP reply type"),
            (b"\r\n", "empty reply line"),
            (b":12x\r\n", "malformed number"),
            (b": 12\r\n", "malformed number"),
            (b":+12\r\n", "malformed number"),
            (b":1_2\r\n", "malformed number"),
            (b":" + b"9" * 21 + b"\r\n", "malformed number"),
            (b"$abc\r\n", "malformed number"),
            (b"*-5x\r\n", "malformed number"),
            (b"$3\r\nabcd\r\n", "malformed bulk string"),
            (b"$999999999999\r\n", "over the limit"),
            (b"+" + b"x" * 70_000, "over 64 KiB"),
        ],
    )
    def test_malformed_input(self, data: bytes, says: str) -> None:
        """What is not RESP2, or over the bounds, is a RedisProtocolError saying why (never
        a ValueError from int())."""
        parser = ReplyParser()
        parser.feed(data)
        with pytest.raises(sluice.RedisProtocolError, match=says) as caught:
            parser.next_reply()
        assert isinstance(caught.value, sluice.RedisError)

    def test_a_simple_string_that_is_not_utf8(self) -> None:
        """A simple string's bytes that are not UTF-8 decode with replacement, no error."""
        parser = ReplyParser()
        parser.feed(b"+caf\xe9\r\n")
        assert parser.next_reply() == "caf\ufffd"

    def test_encode_command(self) -> None:
        """A command is an array of bulk strings; numbers go as their text."""
        assert encode_command(["SET", b"k", 1, 2.5]) == (
            b"*4\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\n1\r\n$3\r\n2.5\r\n"
        )


class TestRedisURL:
    def test_parse_and_hide_the_password(self) -> None:
        """Host, port, db, user and password from the URL; the password in no repr."""
        url = RedisURL.parse("redis://me:s%40cret@redis.internal:6380/2")
        assert (url.host, url.port, url.db, url.username, url.password) == (
            "redis.internal",
            6380,
            2,
            "me",
            "s@cret",
        )
        assert "cret" not in repr(url) and "cret" not in str(url)
        assert url.setup() == [["AUTH", "me", "s@cret"], ["SELECT", 2]]

    @pytest.mark.parametrize("text", ["http://x", "redis://x/db"])
    def test_malformed(self, text: str) -> None:
        with pytest.raises(ValueError):
            RedisURL.parse(text)

    @pytest.mark.parametrize(
        ("url", "match"),
        [
            ("http://x", "redis://"),
            ("redis://h/zero", "database"),
            ("redis://h/\u00b2", "database"),
            ("redis://h:port/0", "port"),
            ("redis://:s3cret@h:99999/0", "port"),
        ],
    )
    def test_a_bad_url_is_a_config_error(self, url: str, match: str) -> None:
        """A malformed URL raises sluice.ConfigError (a ValueError) saying what, no secret."""
        with pytest.raises(sluice.ConfigError, match=match) as caught:
            RedisURL.parse(url)
        assert isinstance(caught.value, ValueError) and "s3cret" not in str(caught.value)


class TestIdempotent:
    @pytest.mark.parametrize(
        "command",
        [
            ["GET", "k"],
            ["get", "k"],
            [b"XREAD", "BLOCK", 5, "STREAMS", "s", "0-0"],
            ["HMGET", "h", "a"],
            ["SET", "k", "v", "PX", 5000],
            ["HSET", "h", "a", "1"],
            ["PEXPIRE", "k", 10],
            ["DEL", "k"],
        ],
    )
    def test_sent_again_after_a_lost_connection(self, command: list[str | bytes | int]) -> None:
        """Reads and writes that do the same thing twice may be resent."""
        assert is_idempotent(command)

    @pytest.mark.parametrize(
        "command",
        [
            ["SET", "k", "v", "NX"],
            ["SET", "k", "v", "PX", 5000, "xx"],
            ["SET", "k", "v", "GET"],
            ["EVAL", "return 1", 0],
            ["EVALSHA", "abc", 0],
            ["HSETNX", "h", "a", "1"],
            ["XADD", "s", "*", "e", "x"],
            ["INCR", "n"],
            [],
        ],
    )
    def test_never_sent_twice(self, command: list[str | int]) -> None:
        """Scripts, conditional writes and counters are never resent."""
        assert not is_idempotent(command)


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class TestRedisClient:
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
            assert isinstance(replies[5], sluice.RedisReplyError)
            assert "WRONGTYPE" in str(replies[5])
            with pytest.raises(sluice.RedisReplyError):
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
        async with RedisClient(RedisURL.parse(f"redis://127.0.0.1:{closed_port()}/0")) as redis:
            with pytest.raises(sluice.RedisError, match="cannot connect"):
                await redis.execute("PING")

    async def test_auth_failure_is_a_redis_error(self, redis_url: str) -> None:
        """A password the server does not expect fails the connection setup clearly."""
        url = redis_url.replace("redis://", "redis://:wrong@")
        async with RedisClient(RedisURL.parse(url)) as redis:
            with pytest.raises(sluice.RedisError, match="refused the connection setup") as caught:
                await redis.execute("PING")
            assert "wrong" not in str(caught.value)

    @pytest.mark.parametrize(
        "options", [{"max_connections": 0}, {"connect_timeout": 0}, {"command_timeout": -1}]
    )
    async def test_bad_bounds(self, options: dict[str, float]) -> None:
        """A bound that is not positive is a ConfigError, for both clients."""
        with pytest.raises(sluice.ConfigError):
            RedisClient(RedisURL(), **options)  # type: ignore[arg-type]
        with pytest.raises(sluice.ConfigError):
            SyncRedisClient(RedisURL(), **options)  # type: ignore[arg-type]


class TestSyncRedisClient:
    def test_commands_and_pipelines(self, redis_url: str) -> None:
        """execute() returns a reply or raises an error reply; pipeline() returns each."""
        with SyncRedisClient(RedisURL.parse(redis_url)) as redis:
            key = f"test:resp:{threading.get_ident()}"
            assert redis.execute("SET", key, "v", "PX", 5000) == "OK"
            assert redis.execute("GET", key) == b"v"
            replies = redis.pipeline([["SET", key, "1"], ["INCR", key], ["LPUSH", key, "x"]])
            assert replies[:2] == ["OK", 2]
            assert isinstance(replies[2], sluice.RedisReplyError)
            with pytest.raises(sluice.RedisReplyError, match="WRONGTYPE"):
                redis.execute("LPUSH", key, "x")
            redis.execute("DEL", key)

    def test_threads_share_the_pool(self, redis_url: str) -> None:
        """Eight threads, a pool of two connections: every command gets its own reply."""
        seen: list[Reply] = []
        with SyncRedisClient(RedisURL.parse(redis_url), max_connections=2) as redis:

            def work(n: int) -> None:
                for i in range(50):
                    seen.append(redis.execute("ECHO", f"{n}-{i}"))

            threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
        assert sorted(seen) == sorted(f"{n}-{i}".encode() for n in range(8) for i in range(50))

    def test_no_server(self) -> None:
        """Nothing listening: RedisError naming where, not the password."""
        url = RedisURL.parse(f"redis://:hunter2@127.0.0.1:{closed_port()}/0")
        with SyncRedisClient(url, connect_timeout=1) as redis:
            with pytest.raises(sluice.RedisError, match="cannot connect") as caught:
                redis.execute("PING")
        assert "hunter2" not in str(caught.value)

    def test_a_wrong_password_is_refused(self, redis_url: str) -> None:
        """AUTH refused by a server without a password: a RedisError from the setup."""
        url = RedisURL.parse(redis_url.replace("redis://", "redis://:nope@"))
        with SyncRedisClient(url) as redis:
            with pytest.raises(sluice.RedisError, match="refused the connection setup"):
                redis.execute("PING")

    def test_a_closed_client(self, redis_url: str) -> None:
        redis = SyncRedisClient(RedisURL.parse(redis_url))
        assert redis.execute("PING") == "PONG"
        redis.close()
        with pytest.raises(sluice.RedisError, match="closed"):
            redis.execute("PING")

    def test_a_server_that_stops_answering_times_out(self) -> None:
        """A server that never accepts (the kernel's backlog does): the command's timeout,
        a RedisTimeoutError."""
        with socket.socket() as listener:
            listener.bind(("127.0.0.1", 0))
            listener.listen()
            url = RedisURL(port=listener.getsockname()[1])
            with SyncRedisClient(url, command_timeout=0.2) as redis:
                with pytest.raises(sluice.RedisTimeoutError, match=r"within 0\.2 s"):
                    redis.execute("PING")


#: Bytes that are not RESP2, as a server would send them.
NOT_RESP = pytest.mark.parametrize(
    "answer",
    [b"?what\r\n", b":12x\r\n", b"$abc\r\n", b"*-5x\r\n", b"$3\r\nabcXY", b"\r\n"],
    ids=["type", "integer", "bulk-size", "array-size", "bulk-end", "empty"],
)


class TestProtocolErrors:
    @NOT_RESP
    async def test_a_reply_that_is_not_resp(self, answer: bytes) -> None:
        """Bytes that are not RESP2 raise RedisProtocolError, never ValueError or an assert."""
        with fake_redis(answer) as url:
            async with RedisClient(RedisURL.parse(url)) as redis:
                with anyio.fail_after(5), pytest.raises(sluice.RedisProtocolError):
                    await redis.execute("PING")

    @NOT_RESP
    def test_a_reply_that_is_not_resp_sync(self, answer: bytes) -> None:
        """The blocking client: the same RedisProtocolError."""
        with fake_redis(answer) as url, SyncRedisClient(RedisURL.parse(url)) as redis:
            with pytest.raises(sluice.RedisProtocolError):
                redis.execute("PING")

    async def test_an_idle_connection_answering_ping_wrongly(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """The PING that checks an idle connection before a write must get PONG: any other
        reply is a RedisProtocolError naming PING (the write is not sent)."""
        monkeypatch.setattr("sluice._redis._client.PROBE_IDLE", 0.0)
        with fake_redis(b"+NOPE\r\n") as url:
            async with RedisClient(RedisURL.parse(url)) as redis:
                assert await redis.execute("GET", "k") == "NOPE"  # pooled now
                with anyio.fail_after(5), pytest.raises(sluice.RedisProtocolError, match="PING"):
                    await redis.execute("INCR", "n")

    def test_an_idle_connection_answering_ping_wrongly_sync(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """The blocking client: the same check, the same RedisProtocolError."""
        monkeypatch.setattr("sluice._redis._sync_client.PROBE_IDLE", 0.0)
        with fake_redis(b"+NOPE\r\n") as url, SyncRedisClient(RedisURL.parse(url)) as redis:
            assert redis.execute("GET", "k") == "NOPE"
            with pytest.raises(sluice.RedisProtocolError, match="PING"):
                redis.execute("INCR", "n")


class TestTimeouts:
    async def test_a_server_that_never_answers(self) -> None:
        """A server that accepts and never answers: RedisTimeoutError after command_timeout."""
        with fake_redis(None) as url:
            async with RedisClient(RedisURL.parse(url), command_timeout=0.2) as redis:
                with anyio.fail_after(5), pytest.raises(sluice.RedisTimeoutError) as caught:
                    await redis.execute("PING")
        assert isinstance(caught.value, TimeoutError)
        assert "within 0.2 s" in str(caught.value) and "reply to PING" in str(caught.value)

    def test_a_server_that_never_answers_sync(self) -> None:
        """The blocking client: RedisTimeoutError after command_timeout, not a hang."""
        with fake_redis(None) as url:
            with SyncRedisClient(RedisURL.parse(url), command_timeout=0.2) as redis:
                started = time.monotonic()
                with pytest.raises(sluice.RedisTimeoutError) as caught:
                    redis.execute("PING")
        assert time.monotonic() - started < 5
        assert isinstance(caught.value, TimeoutError)
        assert "within 0.2 s" in str(caught.value) and "reply to PING" in str(caught.value)

    async def test_the_setup_of_a_connection_is_bounded_and_redacted(self) -> None:
        """AUTH against a silent server times out too; the password is not in the message."""
        with fake_redis(None) as url:
            secret = url.replace("redis://", "redis://:s3cret@")
            async with RedisClient(RedisURL.parse(secret), command_timeout=0.2) as redis:
                with anyio.fail_after(5), pytest.raises(sluice.RedisTimeoutError) as caught:
                    await redis.execute("PING")
        assert "connecting" in str(caught.value) and "s3cret" not in str(caught.value)

    def test_the_setup_of_a_connection_is_bounded_and_redacted_sync(self) -> None:
        """The blocking client: AUTH against a silent server times out, no password shown."""
        with fake_redis(None) as url:
            secret = url.replace("redis://", "redis://:s3cret@")
            with SyncRedisClient(RedisURL.parse(secret), command_timeout=0.2) as redis:
                with pytest.raises(sluice.RedisTimeoutError) as caught:
                    redis.execute("PING")
        assert "connecting" in str(caught.value) and "s3cret" not in str(caught.value)

    async def test_a_blocking_read_gets_its_block_time(self, redis_url: str) -> None:
        """XREAD BLOCK 500 ms under a 0.2 s command timeout: no error, a nil reply."""
        async with RedisClient(RedisURL.parse(redis_url), command_timeout=0.2) as redis:
            reply = await redis.execute(
                "XREAD", "BLOCK", 500, "STREAMS", "test:never", "0-0", block=0.5
            )
        assert reply is None

    def test_a_blocking_read_gets_its_block_time_sync(self, redis_url: str) -> None:
        """The blocking client: XREAD BLOCK gets its block time on top of the timeout."""
        with SyncRedisClient(RedisURL.parse(redis_url), command_timeout=0.2) as redis:
            reply = redis.execute("XREAD", "BLOCK", 500, "STREAMS", "test:never", "0-0", block=0.5)
        assert reply is None

    async def test_waiting_for_a_free_connection_is_bounded(self, redis_url: str) -> None:
        """Every pooled connection busy: the next command times out saying so."""
        async with RedisClient(
            RedisURL.parse(redis_url), max_connections=1, command_timeout=0.2
        ) as redis:
            async with anyio.create_task_group() as tg:
                tg.start_soon(partial(redis.execute, "BLPOP", "test:never", 1, block=1))
                await anyio.sleep(0.05)
                with pytest.raises(sluice.RedisTimeoutError, match="free connection"):
                    await redis.execute("PING")
                tg.cancel_scope.cancel()

    def test_waiting_for_a_free_connection_is_bounded_sync(self, redis_url: str) -> None:
        """The blocking client: a thread holds the only connection; the next command times
        out saying so."""
        with SyncRedisClient(
            RedisURL.parse(redis_url), max_connections=1, command_timeout=0.2
        ) as redis:
            holder = threading.Thread(
                target=partial(redis.execute, "BLPOP", "test:never", 1, block=1)
            )
            holder.start()
            time.sleep(0.05)
            try:
                with pytest.raises(sluice.RedisTimeoutError, match="free connection"):
                    redis.execute("PING")
            finally:
                holder.join()


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

    def test_reads_after_a_restart_sync(self, own_redis: OwnRedis) -> None:
        """The blocking client: reads on a dead pooled connection are resent, no error."""
        with SyncRedisClient(RedisURL.parse(own_redis.url)) as redis:
            assert redis.execute("GET", "k") is None
            own_redis.restart()
            for _ in range(3):
                assert redis.execute("GET", "k") is None
            assert redis.pipeline([["SET", "k", "v", "PX", 5000], ["EXISTS", "k"]]) == ["OK", 1]

    async def test_a_write_is_never_sent_twice(self, own_redis: OwnRedis) -> None:
        """INCR on a stale connection used a moment ago fails (it may have run), never twice."""
        async with RedisClient(RedisURL.parse(own_redis.url)) as redis:
            assert await redis.execute("INCR", "n") == 1
            own_redis.restart()
            with pytest.raises(sluice.RedisError, match="may or may not have run"):
                await redis.execute("INCR", "n")
            assert await redis.execute("INCR", "n") == 1

    def test_a_write_is_never_sent_twice_sync(self, own_redis: OwnRedis) -> None:
        """The blocking client: INCR on a stale connection fails, never runs twice."""
        with SyncRedisClient(RedisURL.parse(own_redis.url)) as redis:
            assert redis.execute("INCR", "n") == 1
            own_redis.restart()
            with pytest.raises(sluice.RedisError, match="may or may not have run"):
                redis.execute("INCR", "n")
            assert redis.execute("INCR", "n") == 1

    async def test_an_idle_connection_is_checked_before_a_write(self, own_redis: OwnRedis) -> None:
        """A connection idle over a second gets a PING first: the restart costs nothing."""
        async with RedisClient(RedisURL.parse(own_redis.url)) as redis:
            assert await redis.execute("INCR", "n") == 1
            own_redis.restart()
            await anyio.sleep(1.1)
            assert await redis.execute("INCR", "n") == 1

    def test_an_idle_connection_is_checked_before_a_write_sync(self, own_redis: OwnRedis) -> None:
        """The blocking client: an idle connection is PINGed before a script or a write."""
        with SyncRedisClient(RedisURL.parse(own_redis.url)) as redis:
            assert redis.execute("INCR", "n") == 1
            own_redis.restart()
            time.sleep(1.1)
            assert redis.execute("INCR", "n") == 1
