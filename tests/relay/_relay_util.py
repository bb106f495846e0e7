"""Helpers of the relay's tests: serving an app, reading SSE."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from functools import partial
from pathlib import Path
from typing import Any

import anyio
import anyio.abc
import httpx

from _util import load
from sluice import EventStreamDecoder, Ping
from sluice.ops import SSEEncoder
from sluice.relay import Entry, bind, serve

#: The AI SDK validates UI message stream parts with strict schemas: every key each part
#: may have, by part type.
STRICT_KEYS: dict[str, set[str]] = {
    # The AI SDK validates parts with strict schemas: these are every key each part may have.
    "start": {"type", "messageId", "messageMetadata"},
    "start-step": {"type"},
    "text-start": {"type", "id", "providerMetadata"},
    "text-delta": {"type", "id", "delta", "providerMetadata"},
    "text-end": {"type", "id", "providerMetadata"},
    "reasoning-start": {"type", "id", "providerMetadata"},
    "reasoning-delta": {"type", "id", "delta", "providerMetadata"},
    "reasoning-end": {"type", "id", "providerMetadata"},
    "tool-input-start": {
        "type",
        "toolCallId",
        "toolName",
        "providerExecuted",
        "providerMetadata",
        "dynamic",
        "title",
    },
    "tool-input-delta": {"type", "toolCallId", "inputTextDelta"},
    "tool-input-available": {
        "type",
        "toolCallId",
        "toolName",
        "input",
        "providerExecuted",
        "providerMetadata",
        "dynamic",
        "title",
    },
    "tool-input-error": {
        "type",
        "toolCallId",
        "toolName",
        "input",
        "providerExecuted",
        "providerMetadata",
        "dynamic",
        "errorText",
        "title",
    },
    "tool-output-available": {
        "type",
        "toolCallId",
        "output",
        "providerExecuted",
        "dynamic",
        "preliminary",
    },
    "tool-output-error": {"type", "toolCallId", "errorText", "providerExecuted", "dynamic"},
    "source-url": {"type", "sourceId", "url", "title", "providerMetadata"},
    "finish-step": {"type"},
    "finish": {"type", "finishReason", "messageMetadata"},
    "error": {"type", "errorText"},
    "abort": {"type", "reason"},
}


@asynccontextmanager
async def running(app: Any) -> AsyncIterator[str]:
    """Serve ``app`` on 127.0.0.1 (uvicorn on asyncio, hypercorn on trio); yield its URL."""
    async with anyio.create_task_group() as tg:
        url = await tg.start(partial(serve, app, sock=bind()))
        try:
            yield url
        finally:
            tg.cancel_scope.cancel()


def http(url: str, **options: Any) -> httpx.AsyncClient:
    """An httpx client for a relay at ``url``."""
    return httpx.AsyncClient(base_url=url, timeout=options.pop("timeout", 10.0), **options)


def entries_of(name: str) -> list[Entry]:
    """A recorded transcript (``fixtures/NAME``) as the writer logs it (pings left out)."""
    encode = SSEEncoder(include_ids=False).encode
    entries: list[Entry] = []
    for event in decode_native(load(name)):
        if isinstance(event, Ping):
            continue
        frame = encode(event)
        end = frame.index(b"\n")
        entries.append(Entry(len(entries) + 1, frame[7:end].decode(), frame[end + 7 : -2]))
    return entries


def sse_events(body: bytes) -> list[dict[str, str]]:
    """The SSE frames of a body as dicts of their fields (``id``, ``event``, ``data``)."""
    frames = []
    for raw in body.replace(b"\r\n", b"\n").split(b"\n\n"):
        fields: dict[str, str] = {}
        for line in raw.decode().split("\n"):
            if not line or line.startswith(":"):
                continue
            name, _, value = line.partition(":")
            fields[name] = value.removeprefix(" ")
        if "data" in fields or "event" in fields:
            frames.append(fields)
    return frames


def decode_native(body: bytes) -> list[Any]:
    """The relay's native SSE decoded by sluice's own decoder into typed events."""
    decoder = EventStreamDecoder()
    return [*decoder.feed(body), *decoder.close()]


ON_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
ROOT = Path(__file__).resolve().parents[2]


@asynccontextmanager
async def raw_get(url: str, path: str) -> AsyncIterator[anyio.abc.SocketStream]:
    """A GET on a plain TCP connection, for a reader that stops reading or hangs up."""
    host, port = url.removeprefix("http://").split(":")
    async with await anyio.connect_tcp(host, int(port)) as sock:
        # HTTP/1.0: a close-delimited body, no chunk framing in what is read.
        await sock.send(f"GET {path} HTTP/1.0\r\nhost: {host}\r\n\r\n".encode())
        yield sock


async def receive_until(sock: anyio.abc.SocketStream, marker: bytes) -> bytes:
    """Receive on a raw connection until ``marker`` has arrived."""
    seen = b""
    while marker not in seen:
        seen += await sock.receive()
    return seen
