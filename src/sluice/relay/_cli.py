"""``python -m sluice relay``: the relay app on uvicorn (asyncio) or hypercorn (trio).

The upstream is the Messages API at ``ANTHROPIC_BASE_URL`` with ``ANTHROPIC_API_KEY``, or,
with ``--mock``, sluice's mock API started in the same process, answering every request
with a scripted, paced text answer (for demos and browser tests without a key).
"""

from __future__ import annotations

import argparse
import errno
import sys
from contextlib import AsyncExitStack
from functools import partial
from typing import Any

import anyio

from .._client import AsyncClient
from .._core._exceptions import ConfigError, RedisError
from ..testing import MockAnthropic, RecordedRequest, Reply
from ._app import create_app
from ._memory import MemoryStore
from ._redis import RedisStore
from ._serve import bind, serve
from ._store import Store

__all__ = ["mock_answer", "mock_reply", "run"]

_STORY = (
    "Rivers do not hurry, yet they reach the sea. A stream that meets a stone goes around "
    "it, and the stone, after a thousand years, is sand. The water keeps no grudge and no "
    "record of the obstacle; it keeps only its direction. Engineers who build relays learn "
    "the same lesson: let every reader drink at its own pace, keep the source flowing, and "
    "write down where each drop went, so that anyone who looks away can look back and find "
    "the current exactly where they left it."
)


def mock_answer(request: Any) -> str:
    """The mock's answer to a Messages request body: an echo, then a fixed paragraph."""
    prompt = ""
    messages = request.get("messages") if isinstance(request, dict) else None
    if isinstance(messages, list) and messages and isinstance(messages[-1], dict):
        content = messages[-1].get("content")
        if isinstance(content, str):
            prompt = content
        elif isinstance(content, list):
            prompt = " ".join(
                part.get("text", "") for part in content if isinstance(part, dict)
            ).strip()
    return f"You asked: {prompt[:200]}\n\n{_STORY}"


def mock_reply(request: RecordedRequest, *, delay: float = 0.05) -> Reply:
    """A streamed Messages answer (see :func:`mock_answer`), one word per text delta."""
    text = mock_answer(request.json)
    words = [word + " " for word in text.split(" ")]
    words[-1] = words[-1].rstrip()
    events: list[dict[str, Any]] = [
        {
            "type": "message_start",
            "message": {
                "id": f"msg_mock_{request.request_id[4:16]}",
                "type": "message",
                "role": "assistant",
                "model": "mock",
                "content": [],
                "stop_reason": None,
                "stop_sequence": None,
                "usage": {"input_tokens": 10, "output_tokens": 1},
            },
        },
        {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}},
        *(
            {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": w}}
            for w in words
        ),
        {"type": "content_block_stop", "index": 0},
        {
            "type": "message_delta",
            "delta": {"stop_reason": "end_turn", "stop_sequence": None},
            "usage": {"output_tokens": len(words)},
        },
        {"type": "message_stop"},
    ]
    return Reply.events(events, delay=delay)


class _StartupError(Exception):
    """The relay cannot start: ``code`` is the exit status (internal to the command)."""

    def __init__(self, message: str, code: int) -> None:
        super().__init__(message)
        self.code = code


def _listen(host: str, port: int) -> Any:
    try:
        return bind(host, port)
    except OSError as exc:
        why = "the port is in use" if exc.errno == errno.EADDRINUSE else exc.strerror or str(exc)
        raise _StartupError(f"cannot listen on {host}:{port}: {why}", 1) from None


async def _main(args: argparse.Namespace) -> None:
    try:
        store: Store = RedisStore(args.redis) if args.redis else MemoryStore()
    except ConfigError as exc:  # not a redis:// URL: the message says so, password redacted
        raise _StartupError(str(exc), 2) from None
    if isinstance(store, RedisStore):
        try:
            await store.redis.execute("PING")  # fail now, not at the first request
        except RedisError as exc:  # the URL's password is redacted in the message
            raise _StartupError(str(exc), 1) from None
    sock = _listen(args.host, args.port)
    try:
        async with AsyncExitStack() as stack:
            if args.mock:
                mock = await stack.enter_async_context(MockAnthropic())
                mock.route("POST", "/v1/messages", partial(mock_reply, delay=args.mock_delay))
                client = AsyncClient(api_key="mock", base_url=mock.base_url)
            else:
                try:
                    client = AsyncClient()
                except ConfigError as exc:  # no API key (or a malformed one, never shown)
                    raise _StartupError(f"{exc} (or try --mock, which needs none)", 2) from None
            await stack.enter_async_context(client)
            defaults = {"model": args.model, "max_tokens": args.max_tokens}
            app = create_app(
                defaults=defaults,
                store=store,
                client=client,
                heartbeat=args.heartbeat,
                static_dir=args.static,
            )
            async with anyio.create_task_group() as tg:
                url = await tg.start(partial(serve, app, sock=sock))
                where = f"Redis at {store.redis.url}" if isinstance(store, RedisStore) else "memory"
                print(f"sluice relay: listening on {url} (store: {where})", flush=True)
    finally:
        sock.close()  # serve() closes it too; closing twice is harmless


def run(args: argparse.Namespace) -> int:
    """Run ``python -m sluice relay`` until interrupted.

    Returns:
        0 once interrupted; 2 for a configuration it cannot start with (no API key, a
        URL that is not ``redis://``); 1 when the port is taken or Redis unreachable.
        Either failure is one line on stderr, no traceback.
    """
    try:
        anyio.run(_main, args, backend=args.backend)
    except KeyboardInterrupt:
        pass
    except _StartupError as exc:
        print(f"sluice relay: {exc}", file=sys.stderr)
        return exc.code
    return 0
