"""Relay benchmark: one upstream stream through the relay to 1, 100 and 1,000 SSE readers.

Run with ``.venv/bin/python benchmarks/relay.py`` (about two minutes); ``--quick`` is a
smoke run. Results are in BENCHMARKS.md ("Relay").

Layout: this process runs the upstream (a minimal Messages API that streams on cue) and the
readers; the relay under test runs in its own process (``benchmarks/relay_server.py``), so
its CPU time is read from ``/proc`` alone; with the Redis store, ``redis-server`` is a third
process whose CPU time is reported beside it. Contenders: sluice's relay with the memory
store and with the Redis store, and the hand-written relay (official SDK + sse-starlette +
a queue per subscriber).

For each reader count: POST a chat, connect every reader (``GET /chats/{id}/stream`` on a
plain TCP connection, HTTP/1.0), then let the upstream send its events, and time until
every reader has its ``message_stop``. Two passes:

* **throughput**: the upstream sends text deltas as fast as it can, 64 to a write
  (``--events``, 50,000, for 1 reader; ``--events * 10 / readers`` beyond: 5,000 for 100
  readers, 500 for 1,000; 50,000, 500,000 and 500,000 deliveries). Reported:
  events delivered to readers per second of the relay's CPU time (events/s per core) and
  per second of wall time. The latency pass below is also reported this way ("paced"):
  events that trickle in one at a time, as from a real model, cannot share a write.
* **latency**: the upstream sends 100 deltas per second (a fast model; 10 per second for
  1,000 readers, so that this process, which reads for every reader, keeps up), each
  carrying its send time (``time.monotonic_ns()``, one clock for every process on the
  machine), for ``--latency-seconds``; ten sampled readers compute the delay at arrival.
  Reported: p50 and p99 in milliseconds.

Every reader must receive every delta, or the run stops with exit status 1.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import anyio
import anyio.abc
import httpx

ROOT = Path(__file__).resolve().parent.parent
_STAMP = re.compile(rb"T(\d{10,20})_")
_TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process, from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / _TICKS


#: The least CPU time a per-core rate is computed from: /proc counts in clock ticks (10 ms),
#: so below ten ticks the error is over 10% (and at zero ticks the rate is infinite).
MIN_CPU_SECONDS = 10 / _TICKS


def per_core(events: float, cpu: float) -> float | None:
    """Events per CPU second, or ``None`` when ``cpu`` is too little to measure."""
    return events / cpu if cpu >= MIN_CPU_SECONDS else None


def rate_text(rate: float | None) -> str:
    return "n/a" if rate is None else f"{rate:,.0f}"


class Upstream:
    """A Messages API that streams ``events`` text deltas once ``go`` is set."""

    def __init__(self) -> None:
        self.go = anyio.Event()
        self.events = 0
        self.rate: float | None = None

    async def handle(self, sock: anyio.abc.SocketStream) -> None:
        async with sock:
            request = b""
            while b"\r\n\r\n" not in request:
                request += await sock.receive()
            head, _, body = request.partition(b"\r\n\r\n")
            length = int(re.search(rb"(?i)content-length: *(\d+)", head).group(1))  # type: ignore[union-attr]
            while len(body) < length:
                body += await sock.receive()
            await sock.send(
                b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\nconnection: close\r\n\r\n"
            )
            await self.go.wait()
            start = (
                b'event: message_start\ndata: {"type":"message_start","message":{"id":"msg_b",'
                b'"type":"message","role":"assistant","model":"m","content":[],"stop_reason":null,'
                b'"stop_sequence":null,"usage":{"input_tokens":1,"output_tokens":1}}}\n\n'
                b'event: content_block_start\ndata: {"type":"content_block_start","index":0,'
                b'"content_block":{"type":"text","text":""}}\n\n'
            )
            await sock.send(start)
            began = time.monotonic()
            batch = []
            for n in range(self.events):
                batch.append(
                    b'event: content_block_delta\ndata: {"type":"content_block_delta","index":0,'
                    b'"delta":{"type":"text_delta","text":"T%d_ word "}}\n\n' % time.monotonic_ns()
                )
                if self.rate is not None:
                    await sock.send(batch.pop())
                    delay = began + (n + 1) / self.rate - time.monotonic()
                    if delay > 0:
                        await anyio.sleep(delay)
                elif len(batch) == 64:
                    await sock.send(b"".join(batch))
                    batch.clear()
            await sock.send(
                b"".join(batch)
                + b'event: content_block_stop\ndata: {"type":"content_block_stop","index":0}\n\n'
                b'event: message_delta\ndata: {"type":"message_delta","delta":{"stop_reason":'
                b'"end_turn","stop_sequence":null},"usage":{"output_tokens":9}}\n\n'
                b'event: message_stop\ndata: {"type":"message_stop"}\n\n'
            )


async def read(url: str, path: str, connected: Any, sample: list[float] | None) -> int:
    """One SSE reader on a raw connection: the number of deltas it got."""
    host, port = url.removeprefix("http://").split(":")
    deltas = 0
    tail = b""
    async with await anyio.connect_tcp(host, int(port)) as sock:
        await sock.send(f"GET {path} HTTP/1.0\r\nhost: {host}\r\n\r\n".encode())
        connected()
        while True:
            try:
                chunk = await sock.receive(65536)
            except (anyio.EndOfStream, anyio.BrokenResourceError):
                break
            data = tail + chunk
            deltas += data.count(b"event: content_block_delta") - tail.count(
                b"event: content_block_delta"
            )
            if sample is not None:
                now = time.monotonic_ns()
                sample.extend((now - int(m)) / 1e6 for m in _STAMP.findall(chunk))
            if b"event: message_stop" in data:
                break
            tail = data[-40:]
    return deltas


@contextmanager
def process(*args: str) -> Iterator[tuple[subprocess.Popen[str], str]]:
    """A relay_server.py process; its Popen and URL."""
    with subprocess.Popen(
        [sys.executable, str(ROOT / "benchmarks" / "relay_server.py"), *args],
        stdout=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    ) as proc:
        try:
            assert proc.stdout is not None
            line = proc.stdout.readline()
            assert "listening on" in line, line
            yield proc, line.split("listening on ")[1].strip()
        finally:
            proc.terminate()
            proc.wait(15)


@contextmanager
def redis_server() -> Iterator[tuple[str, int]]:
    """A throwaway redis-server on a free port; its URL and pid."""
    binary = shutil.which("redis-server")
    if binary is None:
        sys.exit("redis-server is not installed (bash scripts/system-deps.sh)")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with (
        tempfile.TemporaryDirectory() as directory,
        subprocess.Popen(
            [
                binary,
                "--bind",
                "127.0.0.1",
                "--port",
                str(port),
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                directory,
            ],
            stdout=subprocess.DEVNULL,
        ) as proc,
    ):
        try:
            for _ in range(500):
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=1).close()
                    break
                except OSError:
                    time.sleep(0.01)
            yield f"redis://127.0.0.1:{port}/0", proc.pid
        finally:
            proc.terminate()
            proc.wait(10)


async def one_run(
    relay_url: str, upstream: Upstream, readers: int, *, pids: list[int]
) -> dict[str, Any]:
    """One chat to ``readers`` readers; CPU, wall time, latency samples."""
    upstream.go = anyio.Event()
    params = {"model": "m", "max_tokens": 64, "messages": [{"role": "user", "content": "go"}]}
    async with httpx.AsyncClient(base_url=relay_url, timeout=30) as http:
        chat = (await http.post("/chats", json=params)).json()["id"]
    connected = 0
    all_connected = anyio.Event()
    samples: list[float] = []
    counts: list[int] = []

    def on_connect() -> None:
        nonlocal connected
        connected += 1
        if connected == readers:
            all_connected.set()

    async def reader(n: int) -> None:
        sample = samples if n < 10 else None
        counts.append(await read(relay_url, f"/chats/{chat}/stream", on_connect, sample))

    async with anyio.create_task_group() as tg:
        for n in range(readers):
            tg.start_soon(reader, n)
            if n % 100 == 99:
                await anyio.sleep(0.01)
        await all_connected.wait()
        await anyio.sleep(0.5 + readers / 1000)  # every GET reached its reader loop
        cpu = [cpu_seconds(pid) for pid in pids]
        began = time.perf_counter()
        upstream.go.set()
    wall = time.perf_counter() - began
    cpu = [cpu_seconds(pid) - before for pid, before in zip(pids, cpu, strict=True)]
    if counts != [upstream.events] * readers:
        sys.exit(f"FAIL: readers got {sorted(set(counts))} deltas, expected {upstream.events}")
    return {"wall": wall, "cpu": cpu, "samples": samples}


async def main(args: argparse.Namespace) -> None:
    upstream = Upstream()
    listener = await anyio.create_tcp_listener(local_host="127.0.0.1", local_port=0)
    port = listener.extra(anyio.abc.SocketAttribute.local_port)
    upstream_url = f"http://127.0.0.1:{port}"
    results: list[dict[str, Any]] = []
    async with anyio.create_task_group() as tg:
        tg.start_soon(listener.serve, upstream.handle)
        with redis_server() as (redis_url, redis_pid):
            for kind in args.kinds:
                extra = [redis_url] if kind == "redis" else []
                with process(kind, upstream_url, *extra) as (proc, url):
                    pids = [proc.pid] + ([redis_pid] if kind == "redis" else [])
                    for readers in args.readers:
                        # Fewer events for more readers, to keep a run within seconds.
                        events = max(100, args.events * 10 // max(10, readers))
                        upstream.events, upstream.rate = events, None
                        thr = await one_run(url, upstream, readers, pids=pids)
                        # A load the machine can carry (this process reads for every
                        # reader): 100 deltas/s, at most 10,000 deliveries/s.
                        rate = min(100.0, 10_000 / readers)
                        upstream.events, upstream.rate = (
                            max(20, int(rate * args.latency_seconds)),
                            rate,
                        )
                        lat = await one_run(url, upstream, readers, pids=pids)
                        delivered = events * readers
                        paced = lat["cpu"][0]
                        row = {
                            "relay": kind,
                            "readers": readers,
                            "per_cpu": per_core(delivered, thr["cpu"][0]),
                            "per_wall": delivered / thr["wall"],
                            "redis_cpu": thr["cpu"][1] if len(thr["cpu"]) > 1 else None,
                            "relay_cpu": thr["cpu"][0],
                            "rate": rate,
                            "paced_per_cpu": per_core(upstream.events * readers, paced),
                            "p50": statistics.median(lat["samples"]),
                            "p99": statistics.quantiles(lat["samples"], n=100)[98],
                        }
                        results.append(row)
                        print(
                            f"{kind:7} {readers:5} readers: {rate_text(row['per_cpu']):>10} ev/s "
                            f"per relay core, {row['per_wall']:10,.0f} ev/s wall"
                            + (
                                f" (redis-server CPU {row['redis_cpu']:.2f} s"
                                f" of relay {row['relay_cpu']:.2f} s)"
                                if row["redis_cpu"] is not None
                                else ""
                            )
                            + f"; paced {rate_text(row['paced_per_cpu'])} ev/s per relay core"
                            + f"; latency at {rate:.0f} deltas/s: p50 {row['p50']:.1f} ms, "
                            f"p99 {row['p99']:.1f} ms",
                            flush=True,
                        )
        tg.cancel_scope.cancel()
    print("verified: every reader received every delta, in every run")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="smoke run: small and fast")
    parser.add_argument("--events", type=int, default=50_000)
    parser.add_argument("--latency-seconds", type=float, default=3.0)
    parser.add_argument("--kinds", nargs="+", default=["memory", "redis", "sdk"])
    parser.add_argument("--readers", type=int, nargs="+", default=[1, 100, 1000])
    args = parser.parse_args()
    if args.quick:
        args.events, args.latency_seconds, args.readers = 200, 0.3, [1, 20]
    anyio.run(main, args)
