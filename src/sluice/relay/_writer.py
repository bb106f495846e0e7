"""The writer: one model stream into one chat's log, and the relay that runs many detached.

:func:`write_stream` pumps a stream's events into a store as they arrive, in batches (the
events that arrived while the previous append ran go in the next one: one Redis round trip
per batch, not per event). It never waits for readers: they read the durable log at their
own pace. It always ends the log with exactly one terminal entry -- ``message_stop`` from
the model, ``stopped`` after a stop request, or ``error`` for a failure (the upstream's
typed error, a truncated stream, an unreachable API, a relay shutting down) -- so every
reader, now or later, learns how the message ended.

An agent run (``client.messages.run(...)``, or any source whose first event is one of the
runner's: ``StepStart``...) is written whole: every step's message, with the runner's
events between them, until the run's last ``StepEnd`` (which carries its ``end_reason``);
its ``message_stop`` entries end steps, not the log.

:class:`Relay` starts generations in its own task group, detached from the HTTP request
that asked for them: a browser that disconnects does not stop the model.
"""

from __future__ import annotations

import logging
import re
import secrets
from collections.abc import AsyncIterable, Iterator, Mapping
from contextlib import AbstractAsyncContextManager, contextmanager
from types import TracebackType
from typing import Any, Final, Literal, Self, TypeAlias

import anyio
import anyio.abc

from .._client import AsyncClient
from .._core._events import Event, Ping
from .._core._exceptions import (
    APIConnectionError,
    APIError,
    APITimeoutError,
    ConfigError,
    ParamsError,
    SluiceError,
)
from ..ops._encode import event_item
from ._store import (
    RUN_END_EVENTS,
    RUN_EVENTS,
    TERMINAL_EVENTS,
    Entry,
    RelayError,
    Store,
    StoreFullError,
    ends_log,
    error_data,
)

__all__ = [
    "Outcome",
    "Relay",
    "StreamSource",
    "error_entry",
    "new_chat_id",
    "write_stream",
]

logger = logging.getLogger("sluice.relay")

#: A stream of events, or an async context manager giving one (such as
#: ``client.messages.stream(**params)``, whose HTTP errors then land in the log too).
StreamSource: TypeAlias = "AbstractAsyncContextManager[AsyncIterable[Event]] | AsyncIterable[Event]"
#: How a chat's log ended: its terminal entry's event type (``step_end``: an agent run's
#: last step).
Outcome = Literal["message_stop", "step_end", "error", "stopped"]

_OUTCOMES: Final[dict[str, Outcome]] = {
    "message_stop": "message_stop",
    "step_end": "step_end",
    "error": "error",
    "stopped": "stopped",
}
#: Events read ahead of the store while an append runs (then the upstream read waits).
_BATCH_BUFFER: Final = 1024
_STOPPED: Final = b'{"type":"stopped","reason":"stop_requested"}'
_CAMEL_RE: Final = re.compile(r"(?<!^)(?=[A-Z])")


def new_chat_id() -> str:
    """A fresh, unguessable chat id (22 URL-safe characters)."""
    return secrets.token_urlsafe(16)


def _error_type(exc: BaseException) -> str:
    if isinstance(exc, APIError):
        return exc.error_type or "api_error"
    if isinstance(exc, APITimeoutError):
        return "api_timeout_error"
    if isinstance(exc, APIConnectionError):
        return "api_connection_error"
    # IncompleteStreamError -> incomplete_stream_error, EventDecodeError -> ...
    return _CAMEL_RE.sub("_", type(exc).__name__).lower()


def error_entry(exc: SluiceError) -> bytes:
    """The ``error`` entry's JSON for a failure of the upstream stream.

    The type is the API's ``error.type`` for API errors (``overloaded_error``,
    ``rate_limit_error``...), else the exception's name in snake case
    (``incomplete_stream_error``, ``api_connection_error``). The message is the
    exception's, which never contains the API key.
    """
    request_id = exc.request_id if isinstance(exc, APIError) else None
    message = exc.message if isinstance(exc, APIError) else str(exc)
    return error_data(_error_type(exc), message, request_id=request_id)


#: Seconds a write to the store may take inside a shield (the Redis store's own command
#: timeout comes first; this bounds any store, so a shutdown cannot hang on one).
SHIELDED_WRITE_LIMIT: Final = 30.0


@contextmanager
def _shielded() -> Iterator[None]:
    """Shielded from cancellation, but bounded: raises RelayError after the limit."""
    with anyio.CancelScope(shield=True):
        try:
            with anyio.fail_after(SHIELDED_WRITE_LIMIT):
                yield
        except TimeoutError as exc:
            if isinstance(exc, SluiceError):  # the store's own typed timeout
                raise
            raise RelayError(
                f"the store did not complete a write within {SHIELDED_WRITE_LIMIT:g} s"
            ) from None


class _Log:
    """Appends to one chat, tracking the next id; appends are shielded from cancellation
    (a cancelled Redis append might have landed, leaving the next id unknown), within a
    bound. Once an append fails, the store is taken as gone for this chat: ``failed``."""

    def __init__(self, store: Store, chat_id: str) -> None:
        self.store = store
        self.chat_id = chat_id
        self.next_id = 1
        self.terminal: str | None = None
        self.failed: Exception | None = None
        self.run = False  # an agent run's log: its first entry is a runner event

    async def append(self, items: list[tuple[str, bytes]]) -> None:
        """Append up to the entry that ends the log (what a source sends after it is
        dropped), or raise what made the store fail (now or before)."""
        if self.next_id == 1:
            self.run = items[0][0] in RUN_EVENTS
        ends = RUN_END_EVENTS if self.run else TERMINAL_EVENTS
        for index, (event, data) in enumerate(items):
            if event in ends and ends_log(Entry(0, event, data), self.run):
                items = items[: index + 1]
                break
        if self.failed is None:
            await self._write(items)
        if self.failed is not None:
            raise self.failed

    async def end(self, items: list[tuple[str, bytes]]) -> None:
        """Append the terminal entry, unless the log is over or the store failed (a
        failure is kept in ``failed``, for :func:`write_stream` to raise)."""
        if self.terminal is None and self.failed is None:
            await self._write(items)

    async def _write(self, items: list[tuple[str, bytes]]) -> None:
        try:
            with _shielded():
                await self.store.append(self.chat_id, self.next_id, items)
        except Exception as exc:
            self.failed = exc
            return
        self.next_id += len(items)
        event, data = items[-1]
        if ends_log(Entry(0, event, data), self.run):
            self.terminal = event


async def _pump(source: StreamSource, log: _Log) -> None:
    """Read ``source`` and append its events in batches, until it ends or fails."""
    send, receive = anyio.create_memory_object_stream[tuple[str, bytes]](_BATCH_BUFFER)
    failure: list[Exception] = []
    item = event_item

    async def produce() -> None:
        try:
            async with send:
                if isinstance(source, AbstractAsyncContextManager):
                    async with source as events:
                        await _send_events(events)
                else:
                    await _send_events(source)
        except Exception as exc:
            failure.append(exc)

    async def _send_events(events: AsyncIterable[Event]) -> None:
        async for event in events:
            if type(event) is Ping:
                continue  # the relay sends its own heartbeats
            # No checkpoint per event while there is room (anyio's send() has one): the
            # events of one network read then reach the store as one append, and its
            # readers wake once for them, not once per event.
            try:
                send.send_nowait(item(event))
            except anyio.WouldBlock:
                await send.send(item(event))

    async with anyio.create_task_group() as tg, receive:
        tg.start_soon(produce)
        async for first in receive:
            batch = [first]
            while len(batch) < _BATCH_BUFFER:
                try:
                    batch.append(receive.receive_nowait())
                except (anyio.WouldBlock, anyio.EndOfStream):
                    break
            await log.append(batch)
            if log.terminal is not None:
                tg.cancel_scope.cancel()
                break
    if failure:
        raise failure[0]


async def write_stream(
    store: Store, chat_id: str, source: StreamSource, *, create: bool = True
) -> Outcome:
    """Run a model stream into a chat's log, until it ends, fails or is stopped.

    A stop requested through ``store.request_stop(chat_id)`` (from any process sharing
    the store) closes the upstream stream and ends the log with a ``stopped`` entry; what
    arrived before stays in the log. Failures of the upstream end it with an ``error``
    entry (see :func:`error_entry`) and are not raised. If this task is cancelled (the
    relay shuts down), the log ends with ``generation_interrupted_error`` and the
    cancellation propagates.

    Args:
        store: where the log lives.
        chat_id: the chat (see :func:`validate_chat_id`).
        source: ``client.messages.stream(**params)`` (HTTP errors land in the log too),
            an open ``MessageStream``, ``client.messages.run(...)`` (an agent run,
            written whole, its runner events included), or any async iterable of events.
        create: create the chat (``False``: it exists, e.g. ``pending``).

    Returns:
        How the log ended: ``"message_stop"``, ``"step_end"`` (a run's last step),
        ``"error"`` or ``"stopped"``.

    Raises:
        ChatExistsError: ``create`` and the id is taken. StoreFullError: no room.
        RedisError: the store failed (Redis unreachable or stuck: every store call is
            bounded), so the log could not be written on; nothing more is tried (a Redis
            chat ends when its writer's lease expires). Any store's failure is raised.
        Exception: a bug in ``source`` other than a sluice error is raised after the log
            was ended with a ``relay_error`` entry.
    """
    if create:
        await store.create(chat_id, state="running")
    else:
        await store.set_state(chat_id, "running")
    log = _Log(store, chat_id)
    stopped = False
    unexpected: Exception | None = None
    try:
        async with anyio.create_task_group() as tg:

            async def watch_stop() -> None:
                nonlocal stopped
                try:
                    await store.wait_stop(chat_id)
                except Exception as exc:  # the store failed (Redis down): nothing to write to
                    log.failed = log.failed or exc
                else:
                    stopped = True
                tg.cancel_scope.cancel()

            tg.start_soon(watch_stop)
            try:
                await _pump(source, log)
            except Exception as exc:
                if log.failed is None:  # else the store failed, and nothing can be written
                    if isinstance(exc, SluiceError):
                        await log.end([("error", error_entry(exc))])
                    else:
                        unexpected = exc
                        message = f"the relay failed: {type(exc).__name__}"
                        await log.end([("error", error_data("relay_error", message))])
            tg.cancel_scope.cancel()
        if stopped:
            await log.end([("stopped", _STOPPED)])
        else:
            last = "its last step_end" if log.run else "message_stop"
            message = f"the upstream stream ended before {last}"
            await log.end([("error", error_data("incomplete_stream_error", message))])
    except BaseException:
        message = "the relay shut down while generating; the message ends here, incomplete"
        await log.end([("error", error_data("generation_interrupted_error", message))])
        raise
    finally:
        # A store that failed is not asked again: a Redis chat then ends when its
        # writer's lease expires (generation_lost_error), once Redis is back.
        if log.failed is None:
            try:
                with _shielded():
                    await store.set_state(chat_id, "done")
            except Exception as failure:
                log.failed = failure
    if log.failed is not None:
        raise log.failed
    if unexpected is not None:
        raise unexpected
    return _OUTCOMES[log.terminal or "error"]


class Relay:
    """Generations detached from requests: :meth:`start` returns at once with a chat id,
    the model streams into the store in the relay's own task group (:meth:`start_source`
    for a source of the caller's, such as an agent run).

    Args:
        store: where the logs live.
        client: the upstream ``sluice.AsyncClient`` (its API key stays inside it).
        max_running: generations running at once in this process; :meth:`start` beyond
            it raises :class:`StoreFullError`.

    Raises:
        ConfigError: ``max_running`` below 1.

    Use as ``async with Relay(store, client) as relay:``; leaving the block cancels the
    generations still running (their logs end with ``generation_interrupted_error``; with
    a stuck store, leaving takes at most its timeout).
    """

    def __init__(self, store: Store, client: AsyncClient, *, max_running: int = 256) -> None:
        if max_running < 1:
            raise ConfigError(f"max_running must be >= 1, got {max_running}")
        self.store = store
        self.client = client
        self.max_running = max_running
        self._running = 0
        self._task_group: anyio.abc.TaskGroup | None = None

    def __repr__(self) -> str:
        return f"<Relay {self.store!r}, {self._running} running>"

    @property
    def running(self) -> int:
        """Generations running now in this process."""
        return self._running

    async def __aenter__(self) -> Self:
        self._task_group = anyio.create_task_group()
        await self._task_group.__aenter__()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> bool | None:
        assert self._task_group is not None
        self._task_group.cancel_scope.cancel()
        task_group, self._task_group = self._task_group, None
        return await task_group.__aexit__(exc_type, exc, tb)

    async def start(
        self, params: Mapping[str, Any], *, chat_id: str | None = None, create: bool = True
    ) -> str:
        """Create a chat and start generating it; returns the chat id at once.

        Args:
            params: Messages API request fields (``model``, ``max_tokens``, ``messages``...);
                ``stream`` is implied. Trusted as given: request options pass through (for
                a browser's fields, see :func:`browser_params`).
            chat_id: the id to use (default: :func:`new_chat_id`).
            create: ``False`` to generate into ``chat_id``, which exists and has no
                generation yet (created ``pending``, or ``running`` by its creator). If the
                generation cannot start, a ``running`` chat is not left waiting: its log
                ends with an ``error`` entry (``overloaded_error`` when the relay is full)
                and it is marked done; a ``pending`` one stays pending.

        Raises:
            ParamsError: parameters the API would reject (nothing is created).
            StoreFullError: too many generations running here, or no room in the store.
            ChatExistsError: ``chat_id`` is taken.
            RelayError: the relay is not running (use ``async with``).
        """
        if not create and chat_id is None:
            raise TypeError("create=False needs the chat_id of an existing chat")
        try:
            self._check_room()
            fields = {key: value for key, value in params.items() if key != "stream"}
            # Invalid tool input JSON (fine-grained tool streaming) does not end the chat:
            # the message goes on, readers see the call's input as it came (the Vercel
            # encoder reports a tool-input-error for it).
            fields.setdefault("invalid_tool_input", "keep")
            source = self.client.messages.stream(**fields)  # validates the parameters now
        except SluiceError as exc:
            if not create and chat_id is not None:
                await self._abandon(chat_id, exc)
            raise
        return await self._launch(source, chat_id, create)

    async def start_source(
        self, source: StreamSource, *, chat_id: str | None = None, create: bool = True
    ) -> str:
        """Create a chat and start writing ``source`` into it; returns the chat id at once.

        Like :meth:`start`, for a source made by the caller: ``client.messages.run(...)``
        (an agent run: every step, with the runner's events), a stream with options of
        its own, or any async iterable of events. If it cannot start, nothing of the
        source was entered or read; it stays the caller's.

        Raises:
            StoreFullError: too many generations running here, or no room in the store.
            ChatExistsError: ``chat_id`` is taken.
            RelayError: the relay is not running (use ``async with``).
        """
        if not create and chat_id is None:
            raise TypeError("create=False needs the chat_id of an existing chat")
        try:
            self._check_room()
        except SluiceError as exc:
            if not create and chat_id is not None:
                await self._abandon(chat_id, exc)
            raise
        return await self._launch(source, chat_id, create)

    def _check_room(self) -> None:
        if self._task_group is None:
            raise RelayError("the relay is not running; use `async with Relay(...)`")
        if self._running >= self.max_running:
            raise StoreFullError(f"{self.max_running} generations are running here; retry later")

    async def _launch(self, source: StreamSource, chat_id: str | None, create: bool) -> str:
        """Take a slot, create the chat if asked, and start the generation (no await
        between the room check and taking the slot, so concurrent starts cannot overfill)."""
        assert self._task_group is not None
        self._running += 1
        try:
            if create:
                chat_id = chat_id or new_chat_id()
                await self.store.create(chat_id, state="running")
        except BaseException:
            self._running -= 1
            raise
        assert chat_id is not None
        self._task_group.start_soon(self._generate, chat_id, source)
        return chat_id

    async def _abandon(self, chat_id: str, exc: SluiceError) -> None:
        """End a ``running`` chat that no generation will write (see :meth:`start`)."""
        if isinstance(exc, StoreFullError):
            error_type = "overloaded_error"
        elif isinstance(exc, ParamsError):
            error_type = "invalid_request_error"
        else:
            error_type = _error_type(exc)
        try:
            info = await self.store.info(chat_id)
            if info is None or info.state != "running" or info.last_id:
                return
            with _shielded():
                await self.store.append(chat_id, 1, [("error", error_data(error_type, str(exc)))])
                await self.store.set_state(chat_id, "done")
        except SluiceError as failure:
            # The original error is the one to raise; a Redis store's lease ends the chat.
            logger.warning("sluice.relay: could not end chat %s: %s", chat_id, failure)

    async def stop(self, chat_id: str) -> bool:
        """Ask the chat's generation to stop (wherever it runs). False if not running."""
        return await self.store.request_stop(chat_id)

    async def _generate(self, chat_id: str, source: StreamSource) -> None:
        try:
            await write_stream(self.store, chat_id, source, create=False)
        except SluiceError as exc:
            # write_stream raises sluice errors only when the store failed (upstream
            # failures are in the log): one line, no traceback; the message names no
            # secret (a Redis URL's password is redacted).
            logger.warning("sluice.relay: generation %s ended: the store failed: %s", chat_id, exc)
        except Exception:
            # Already in the log as a relay_error entry; the traceback goes to the log
            # handler (exception messages in sluice never carry the API key).
            logger.exception("sluice.relay: generation %s failed", chat_id)
        finally:
            self._running -= 1
