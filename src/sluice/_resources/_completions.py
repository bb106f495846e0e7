"""``client.completions``: the legacy Text Completions API (``POST /v1/complete``).

Kept for code that still sends ``"\\n\\nHuman: ...\\n\\nAssistant:"`` prompts; new code should
use the Messages API. Shapes follow the public API reference ("Create a Text Completion")
and "Streaming Text Completions": with ``"stream": true`` the body is server-sent events
named ``completion`` (each with the next piece of text; the last one carries the
``stop_reason``), ``ping`` and ``error``. The stream reuses the Messages stream's layers:
:class:`~sluice._core._sse.SSEDecoder` for framing, one module-level msgspec decoder per event,
and the same typed errors (an in-stream ``overloaded_error`` raises
:class:`~sluice.OverloadedError`, which is also an :class:`~sluice.APIStreamError`).
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Awaitable, Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, ClassVar, Literal

import httpx
import msgspec

from .._core._events import ErrorEvent, Ping
from .._core._exceptions import EventDecodeError, IncompleteStreamError, StreamError, stream_error
from .._core._sse import DEFAULT_MAX_EVENT_SIZE, ServerSentEvent, SSEDecoder
from .._core._wire import Wire, attach_extras

# The module, not its names: _client wires this module in at its top (see _models).
from .._http import _response
from .._http._body import BodyIterator
from .._http._stream import StreamManager, release

if TYPE_CHECKING:
    from .._client import AsyncClient

__all__ = ["Completion", "CompletionStream", "CompletionStreamManager", "Completions"]


class Completion(Wire, kw_only=True, tag="completion"):
    """A text completion, or one streamed piece of it.

    Attributes:
        id: the completion's id (may be empty in streamed pieces).
        completion: the text (in a stream: the next piece of it).
        stop_reason: ``"stop_sequence"``, ``"max_tokens"``...; ``None`` until the end.
        model: the model that answered.
    """

    type: ClassVar[Literal["completion"]] = "completion"
    id: str = ""
    completion: str
    stop_reason: str | None = None
    model: str = ""


_completion_decoder = msgspec.json.Decoder(Completion)
_event_decoder = msgspec.json.Decoder(Completion | Ping | ErrorEvent)
_any_decoder = msgspec.json.Decoder()
_KNOWN_EVENTS = frozenset({"completion", "ping", "error"})


class CompletionStream(BodyIterator[Completion]):
    """A streaming text completion: an async iterator of :class:`Completion` pieces.

    ``ping`` events are skipped and events of unknown types ignored; an ``error`` event
    raises the typed error for its ``error.type``.

    Attributes:
        response: the ``httpx.Response`` being read.
        request_id: the ``request-id`` header of the response.
    """

    def __init__(
        self, response: httpx.Response, *, max_event_size: int = DEFAULT_MAX_EVENT_SIZE
    ) -> None:
        self.response: httpx.Response = response
        self.request_id: str | None = response.headers.get("request-id")
        self._sse = SSEDecoder(max_event_size=max_event_size)
        self._pieces: list[str] = []
        self._last: Completion | None = None
        self._events = 0
        self._iterator = self._iter_completions()
        self._closed = False

    def __repr__(self) -> str:
        state = "done" if self.done else f"{self._events} events"
        return f"<CompletionStream request_id={self.request_id!r} {state}>"

    @property
    def done(self) -> bool:
        """Whether the final piece (the one with a ``stop_reason``) has arrived."""
        return self._last is not None and self._last.stop_reason is not None

    @property
    def current_completion(self) -> Completion | None:
        """The completion so far: the text of the pieces yielded, joined; ``None`` before
        the first piece."""
        last = self._last
        if last is None:
            return None
        return Completion(
            id=last.id,
            completion="".join(self._pieces),
            stop_reason=last.stop_reason,
            model=last.model,
        )

    @property
    def text_stream(self) -> AsyncGenerator[str, None]:
        """The text pieces only, as they arrive."""
        return self._text_stream()

    async def _text_stream(self) -> AsyncGenerator[str, None]:
        async for piece in self._iterator:
            yield piece.completion

    async def until_done(self) -> None:
        """Consume the rest of the stream."""
        async for _ in self._iterator:
            pass

    async def final_completion(self) -> Completion:
        """Consume the rest of the stream; the whole completion, its text joined.

        Raises:
            IncompleteStreamError: the body ended before the piece with a ``stop_reason``.
            APIStreamError: the API sent an in-stream ``error`` event.
        """
        await self.until_done()
        completion = self.current_completion
        assert completion is not None  # until_done() raised otherwise
        return completion

    async def final_text(self) -> str:
        """Consume the rest of the stream and return the whole text."""
        return (await self.final_completion()).completion

    async def _iter_completions(self) -> AsyncGenerator[Completion, None]:
        sse = self._sse
        chunks = self.response.aiter_bytes()
        try:
            try:
                async for chunk in chunks:
                    for frame in sse.feed(chunk):
                        piece = self._handle(frame)
                        if piece is not None:
                            yield piece
                sse.close()
            except httpx.TransportError as exc:
                raise IncompleteStreamError(
                    f"the connection failed after {self._events} events "
                    f"({type(exc).__name__}: {exc}); current_completion holds what arrived",
                    events_received=self._events,
                    unparsed=sse.unparsed,
                ) from exc
            if not self.done:
                raise IncompleteStreamError(
                    f"the response ended before the final completion event (the one with a "
                    f"stop_reason), after {self._events} events; current_completion holds "
                    f"what arrived",
                    events_received=self._events,
                    unparsed=sse.unparsed,
                )
        finally:
            await release(self.response, chunks)

    def _handle(self, frame: ServerSentEvent) -> Completion | None:
        try:
            event = _event_decoder.decode(frame.data)
        except msgspec.ValidationError as exc:
            _reject_malformed(frame, exc)
            return None  # an event type this version does not know: skip it
        except msgspec.DecodeError as exc:
            raise _decode_error(exc, frame, self._events) from exc
        self._events += 1
        cls = type(event)
        if cls is Completion:
            assert isinstance(event, Completion)
            self._pieces.append(event.completion)
            self._last = event
            return event
        if cls is ErrorEvent:
            assert isinstance(event, ErrorEvent)
            raise self._stream_error(event)
        return None  # ping

    def _stream_error(self, event: ErrorEvent) -> StreamError:
        request_id = event.request_id if isinstance(event.request_id, str) else None
        return stream_error(
            event.error.type,
            event.error.message,
            request_id=request_id or self.request_id,
            events_received=self._events,
        )


def _reject_malformed(frame: ServerSentEvent, exc: msgspec.ValidationError) -> None:
    # An event the typed decoder rejected: a known type with the wrong shape is a malformed
    # stream (raise); an unknown type is a newer API feature (the caller skips it).
    try:
        raw = _any_decoder.decode(frame.data)
    except msgspec.DecodeError as error:  # pragma: no cover - the typed pass parsed it
        raise _decode_error(error, frame, 0) from error
    wire_type = raw.get("type") if isinstance(raw, dict) else None
    if wire_type in _KNOWN_EVENTS or frame.event in _KNOWN_EVENTS:
        raise _decode_error(exc, frame, 0) from exc


def _decode_error(exc: Exception, frame: ServerSentEvent, events: int) -> EventDecodeError:
    preview = frame.data[:200].decode("utf-8", "replace")
    more = "..." if len(frame.data) > 200 else ""
    return EventDecodeError(
        f"could not decode SSE event {frame.event!r} at byte {frame.offset} of the "
        f"completion stream: {exc}; data was {preview!r}{more}",
        event=frame.event,
        data=frame.data,
        offset=frame.offset,
        events_received=events,
    )


class CompletionStreamManager(StreamManager[CompletionStream]):
    """``async with client.completions.stream(...) as stream``: a :class:`CompletionStream`."""

    def __init__(
        self, send: Callable[[], Awaitable[httpx.Response]], *, max_event_size: int
    ) -> None:
        super().__init__(
            send,
            lambda response: CompletionStream(response, max_event_size=max_event_size),
            usage="client.completions.stream(...)",
        )


class Completions:
    """``client.completions``: the legacy Text Completions API.

    Args:
        client: the :class:`~sluice.AsyncClient` that sends the requests.
    """

    def __init__(self, client: AsyncClient) -> None:
        self._client = client

    async def create(
        self,
        *,
        model: str,
        prompt: str,
        max_tokens_to_sample: int,
        extra_headers: Mapping[str, str] | None = None,
        betas: Sequence[str] = (),
        **params: Any,
    ) -> Completion:
        """Create a text completion without streaming.

        Args:
            model: the model to use.
            prompt: the prompt, in ``"\\n\\nHuman: ...\\n\\nAssistant:"`` form.
            max_tokens_to_sample: the most tokens to generate.
            params: other request fields (``stop_sequences``, ``temperature``,
                ``top_p``, ``top_k``, ``metadata``), sent as given.

        Raises: :class:`~sluice.APIError` subclasses, :class:`~sluice.APIConnectionError`.
        """
        body = _body(model, prompt, max_tokens_to_sample, params, stream=False)
        response = await self._client._call(
            "POST", "/v1/complete", json=body, headers=extra_headers, betas=betas
        )
        completion = _completion_decoder.decode(response.content)
        attach_extras(completion, _any_decoder.decode(response.content))
        _response.attach_info(completion, response)
        return completion

    def stream(
        self,
        *,
        model: str,
        prompt: str,
        max_tokens_to_sample: int,
        extra_headers: Mapping[str, str] | None = None,
        betas: Sequence[str] = (),
        **params: Any,
    ) -> CompletionStreamManager:
        """Stream a text completion: ``async with client.completions.stream(...) as stream``.

        The arguments are those of :meth:`create`; the request (with ``"stream": true``) is
        sent, with retries, when the block is entered.

        Raises (on enter): :class:`~sluice.APIError` subclasses,
        :class:`~sluice.APIConnectionError`.
        """
        client = self._client
        body = _body(model, prompt, max_tokens_to_sample, params, stream=True)
        headers = {"accept": "text/event-stream", **(extra_headers or {})}

        async def send() -> httpx.Response:
            return await client._call(
                "POST", "/v1/complete", json=body, headers=headers, betas=betas, stream=True
            )

        return CompletionStreamManager(send, max_event_size=client.max_event_size)


def _body(
    model: str, prompt: str, max_tokens: int, params: dict[str, Any], *, stream: bool
) -> dict[str, Any]:
    if "stream" in params:
        raise TypeError("do not pass stream=: use completions.create() or completions.stream()")
    body = {"model": model, "prompt": prompt, "max_tokens_to_sample": max_tokens, **params}
    if stream:
        body["stream"] = True
    return body
