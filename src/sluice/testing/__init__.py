"""A local mock of the Anthropic API, for tests, demos and offline development.

:class:`MockAnthropic` is a real HTTP/1.1 server on ``127.0.0.1`` (a free port), built on
anyio so it runs under asyncio and trio and starts in milliseconds. Point any client at
its ``base_url``; queue :class:`Reply` objects or route paths to them; inspect what
arrived in :attr:`MockAnthropic.requests`::

    from sluice.testing import MockAnthropic, Reply

    async with MockAnthropic() as server:
        server.enqueue(Reply.sse(transcript, delay=0.01))          # one streamed reply
        server.enqueue(Reply.error(529, "overloaded_error", "Overloaded"))
        server.route("GET", "/v1/models", Reply.json({"data": [], "has_more": False}))
        ...  # talk to server.base_url
        assert server.requests[0].json["stream"] is True

Faults on demand -- ``drop_after``, ``stall_after``, ``inject_error`` and
:meth:`Reply.drop` -- reproduce broken connections, stalled streams and mid-stream API
errors deterministically; :meth:`MockAnthropic.rate_limit` enforces a requests-per-window
limit as the API does (``anthropic-ratelimit-*`` headers, 429s with ``retry-after``) and
counts what it let through (a :class:`RateLimit`). With pytest, the ``mock_anthropic``
fixture (registered by sluice's pytest plugin) yields a started server, under anyio's
plugin or pytest-trio.

Scripted model turns spare writing SSE: :class:`Turn` streams a message built from text,
:func:`thinking` and :func:`tool_use` blocks with a stop reason and pacing (``delay``,
:func:`pause`), and :class:`Conversation` plays turns in order, checking that each
request answers the previous turn's tool calls (and any ``expect`` of your own)::

    server.route("POST", "/v1/messages", Conversation(
        Turn(tool_use("get_weather", {"city": "Paris"})),
        Turn("Sunny in Paris."),
    ))

Stateful fakes make it answer the other endpoints like the API does, in memory:
``install_models``, ``install_batches`` (a :class:`FakeBatches` you can complete),
``install_count_tokens``, ``install_completions``, ``install_files``, ``install_skills``
and ``install_admin`` (users, invites, workspaces, keys and usage/cost reports).
"""

from __future__ import annotations

from ._fakes_admin import FakeAdmin as FakeAdmin
from ._fakes_admin import install_admin as install_admin
from ._fakes_core import FakeBatches as FakeBatches
from ._fakes_core import install_batches as install_batches
from ._fakes_core import install_completions as install_completions
from ._fakes_core import install_count_tokens as install_count_tokens
from ._fakes_core import install_models as install_models
from ._fakes_files import FakeFiles as FakeFiles
from ._fakes_files import FakeSkills as FakeSkills
from ._fakes_files import install_files as install_files
from ._fakes_files import install_skills as install_skills
from ._ratelimit import RateLimit as RateLimit
from ._script import Conversation as Conversation
from ._script import Pause as Pause
from ._script import Thinking as Thinking
from ._script import ToolUse as ToolUse
from ._script import Turn as Turn
from ._script import pause as pause
from ._script import thinking as thinking
from ._script import tool_use as tool_use
from ._server import MockAnthropic as MockAnthropic
from ._server import RecordedRequest as RecordedRequest
from ._server import Reply as Reply
from ._server import serve as serve

__all__ = [
    "Conversation",
    "FakeAdmin",
    "FakeBatches",
    "FakeFiles",
    "FakeSkills",
    "MockAnthropic",
    "Pause",
    "RateLimit",
    "RecordedRequest",
    "Reply",
    "Thinking",
    "ToolUse",
    "Turn",
    "install_admin",
    "install_batches",
    "install_completions",
    "install_count_tokens",
    "install_files",
    "install_models",
    "install_skills",
    "pause",
    "serve",
    "thinking",
    "tool_use",
]
