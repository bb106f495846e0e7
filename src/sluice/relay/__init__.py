"""Relays: model streams to browsers and websockets, resumable, across workers and machines.

A generation runs detached from any request and writes each event of the model's stream
into a durable, bounded log (a :class:`Store`); readers replay it from any position
(an SSE ``Last-Event-ID``, ``?after=``, a websocket's first message) and then follow it
live, in whatever process shares the store. Slow readers never stall the model: the log
is the buffer.

The pieces, from the model to the browser:

* :func:`write_stream` runs one stream, or a whole agent run (``client.messages.run``),
  into a chat's log; :class:`Relay` starts generations in its own task group and stops
  them on request.
* :class:`MemoryStore` (one process) and :class:`RedisStore` (Redis Streams: many
  workers and machines), both on asyncio and trio; :meth:`Store.read` replays then
  follows.
* :func:`sse_frame`, :func:`ws_message` and :class:`VercelEncoder` (the AI SDK UI message
  stream protocol v1) encode entries; :func:`sse_response` and :func:`serve_websocket`
  answer Starlette requests with them.
* :func:`browser_params` keeps what a browser may set (Messages API fields, never the
  client's request options); :func:`create_app`'s ``params=`` hook is the owner's say.
* :func:`create_app` is the whole relay as an ASGI app; :func:`serve` runs an app on
  uvicorn (asyncio) or hypercorn (trio); ``python -m sluice relay`` does both.

Needs the ``relay`` extra: ``pip install 'sluice[relay]'``. ``import sluice`` does not
import this package.
"""

from __future__ import annotations

from .._core._exceptions import RedisError as RedisError
from .._core._exceptions import RedisProtocolError as RedisProtocolError
from .._core._exceptions import RedisTimeoutError as RedisTimeoutError
from ._app import create_app as create_app
from ._memory import MemoryStore as MemoryStore
from ._params import browser_params as browser_params
from ._redis import RedisStore as RedisStore
from ._responses import Format as Format
from ._responses import parse_position as parse_position
from ._responses import serve_websocket as serve_websocket
from ._responses import sse_frame as sse_frame
from ._responses import sse_response as sse_response
from ._responses import ws_message as ws_message
from ._serve import bind as bind
from ._serve import serve as serve
from ._store import RUN_EVENTS as RUN_EVENTS
from ._store import TERMINAL_EVENTS as TERMINAL_EVENTS
from ._store import ChatExistsError as ChatExistsError
from ._store import ChatInfo as ChatInfo
from ._store import ChatNotFoundError as ChatNotFoundError
from ._store import ChatState as ChatState
from ._store import Entry as Entry
from ._store import InvalidChatIdError as InvalidChatIdError
from ._store import InvalidPositionError as InvalidPositionError
from ._store import RelayError as RelayError
from ._store import Store as Store
from ._store import StoreFullError as StoreFullError
from ._store import ends_log as ends_log
from ._store import error_data as error_data
from ._store import validate_chat_id as validate_chat_id
from ._vercel import VercelEncoder as VercelEncoder
from ._vercel import finish_reason as finish_reason
from ._writer import Outcome as Outcome
from ._writer import Relay as Relay
from ._writer import StreamSource as StreamSource
from ._writer import new_chat_id as new_chat_id
from ._writer import write_stream as write_stream

__all__ = [
    "RUN_EVENTS",
    "TERMINAL_EVENTS",
    "ChatExistsError",
    "ChatInfo",
    "ChatNotFoundError",
    "ChatState",
    "Entry",
    "Format",
    "InvalidChatIdError",
    "InvalidPositionError",
    "MemoryStore",
    "Outcome",
    "RedisError",
    "RedisProtocolError",
    "RedisStore",
    "RedisTimeoutError",
    "Relay",
    "RelayError",
    "Store",
    "StoreFullError",
    "StreamSource",
    "VercelEncoder",
    "bind",
    "browser_params",
    "create_app",
    "ends_log",
    "error_data",
    "finish_reason",
    "new_chat_id",
    "parse_position",
    "serve",
    "serve_websocket",
    "sse_frame",
    "sse_response",
    "validate_chat_id",
    "write_stream",
    "ws_message",
]
