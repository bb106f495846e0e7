"""The Redis protocol, sans-I/O (any chunking gives the same replies), and the blocking
client over it against a real redis-server."""

from __future__ import annotations

import socket
import threading

import pytest
from hypothesis import given
from hypothesis import strategies as st

import sluice
from sluice._core._resp import NEED_DATA, RedisURL, Reply, ReplyParser, encode_command
from sluice._redis._sync_client import SyncRedisClient

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
            (b"$3\r\nabcd\r\n", "malformed bulk string"),
            (b"$999999999999\r\n", "over the limit"),
            (b"+" + b"x" * 70_000, "over 64 KiB"),
        ],
    )
    def test_malformed_input(self, data: bytes, says: str) -> None:
        """What is not RESP2, or over the bounds, is a RedisError saying why."""
        parser = ReplyParser()
        parser.feed(data)
        with pytest.raises(sluice.RedisError, match=says):
            parser.next_reply()

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


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


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
        """A server that accepts and never answers: the command's timeout, a RedisError."""
        with socket.socket() as listener:
            listener.bind(("127.0.0.1", 0))
            listener.listen()
            url = RedisURL(port=listener.getsockname()[1])
            with SyncRedisClient(url, timeout=0.2) as redis:
                with pytest.raises(sluice.RedisError, match="failed"):
                    redis.execute("PING")
