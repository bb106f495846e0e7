"""What the sync client does differently because it blocks: the deadline is computed per
attempt, waits end at it, hooks and callbacks are plain functions, and an abandoned
iterator is released by the garbage collector."""

from __future__ import annotations

import gc
import json
import logging
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest

import sluice
from sluice.testing import MockAnthropic, RecordedRequest, Reply, install_batches
from sluice.types import BreakerSettings

FIXTURES = Path(__file__).parent.parent.parent / "fixtures"
KEY = "sk-ant-api03-blocking-SECRET"
MODEL = {"type": "model", "id": "claude-x", "display_name": "X", "created_at": "t"}
PARAMS: dict[str, Any] = {
    "model": "claude-sonnet-4-5",
    "max_tokens": 64,
    "messages": [{"role": "user", "content": "Hi"}],
}


def client_for(server: MockAnthropic, **kwargs: Any) -> sluice.Client:
    kwargs.setdefault("max_retries", 0)
    return sluice.Client(api_key=KEY, base_url=server.base_url, **kwargs)


class TestDeadline:
    def test_a_stalled_response_ends_at_the_deadline(self, server: MockAnthropic) -> None:
        """The attempt's timeouts are cut to the time left: a stalled body ends the request
        at its deadline (not at the 10 s read timeout) with DeadlineExceededError."""
        server.enqueue(Reply.json(MODEL, stall_after=5))
        with client_for(server, timeout=10.0) as client:
            started = time.monotonic()
            with pytest.raises(sluice.DeadlineExceededError) as caught:
                client.models.get("claude-x", deadline=0.5)
            elapsed = time.monotonic() - started
        assert 0.45 < elapsed < 2.0
        assert caught.value.attempts == 1

    def test_a_stream_reads_past_the_deadline(self, server: MockAnthropic) -> None:
        """The deadline bounds getting the response; the stream then reads with the stream
        idle timeout, however long it runs."""
        data = (FIXTURES / "text.sse").read_bytes()
        server.enqueue(Reply.sse(data, delay=0.02))  # ~1 s of events
        with client_for(server) as client:
            with client.messages.stream(**PARAMS, deadline=0.3) as stream:
                message = stream.final_message()
        assert message.stop_reason == "end_turn"

    def test_a_timeout_before_the_deadline_is_a_timeout(self, server: MockAnthropic) -> None:
        """An attempt's own timeout, well before the deadline, is an APITimeoutError, not
        the deadline running out."""
        server.enqueue(Reply.json(MODEL, stall_after=5))
        with client_for(server, timeout=0.2) as client:
            with pytest.raises(sluice.APITimeoutError) as caught:
                client.models.get("claude-x", deadline=30)
        assert not isinstance(caught.value, sluice.DeadlineExceededError)

    def test_a_rate_limit_wait_ends_at_the_deadline(self, server: MockAnthropic) -> None:
        """A wait longer than the time left sleeps until the deadline, then raises."""
        server.enqueue(Reply.error(429, "rate_limit_error", "slow", headers={"retry-after": "5"}))
        with client_for(server) as client:
            with pytest.raises(sluice.RateLimitError):
                client.models.get("claude-x")
            started = time.monotonic()
            with pytest.raises(sluice.DeadlineExceededError):
                client.models.get("claude-x", deadline=0.3)
            assert 0.25 < time.monotonic() - started < 1.5
        assert len(server.requests) == 1


class TestRateLimiter:
    def test_requests_in_flight_are_released_however_they_end(self, server: MockAnthropic) -> None:
        """The limiter counts requests in flight against the headers' remaining; one that
        ends without an answer (a dropped connection, a timeout at the deadline, a hook
        that raises) is released, so none is counted for ever."""

        async def hang(request: RecordedRequest) -> Reply:
            await anyio.sleep(2)
            return Reply.json(MODEL)

        def fail_once(record: object) -> None:
            if not raised:
                raised.append(True)
                raise RuntimeError("hook failed")

        raised: list[bool] = []
        reset = (datetime.now(UTC) + timedelta(seconds=60)).isoformat().replace("+00:00", "Z")
        one_left = {
            "anthropic-ratelimit-requests-limit": "50",
            "anthropic-ratelimit-requests-remaining": "1",
            "anthropic-ratelimit-requests-reset": reset,
        }
        with client_for(server, on_request=fail_once) as client:
            with pytest.raises(RuntimeError, match="hook failed"):
                client.models.get("claude-x")
            server.enqueue(Reply.drop())
            with pytest.raises(sluice.APIConnectionError):
                client.models.get("claude-x")
            server.enqueue(hang)
            with pytest.raises(sluice.DeadlineExceededError):
                client.models.get("claude-x", deadline=0.3)
            # One request left by the headers: the next goes at once, the one after waits.
            server.enqueue(Reply.json(MODEL, headers=one_left), Reply.json(MODEL))
            assert client.models.get("claude-x").id == "claude-x"
            started = time.monotonic()
            assert client.models.get("claude-x", deadline=2.0).id == "claude-x"
            assert time.monotonic() - started < 0.5
            with pytest.raises(sluice.DeadlineExceededError):
                client.models.get("claude-x", deadline=0.2)


class Interrupt(BaseException):
    """What a KeyboardInterrupt or SystemExit from a hook looks like to the requester."""


class TestInterruptedHooks:
    def test_only_the_probe_gives_the_probe_back(self, server: MockAnthropic) -> None:
        """A request let through while the breaker was closed, interrupted in its hook after
        the breaker turned half-open, does not give back the probe another thread holds:
        the next request is refused, not sent as a second probe."""
        entered, go_on, hold = threading.Event(), threading.Event(), threading.Event()
        interrupted: list[BaseException] = []

        def on_request(record: object) -> None:
            if threading.current_thread().name == "early":
                entered.set()
                go_on.wait(5)
                raise Interrupt

        async def slow(request: RecordedRequest) -> Reply:
            await anyio.to_thread.run_sync(hold.wait, 5)
            return Reply.json(MODEL)

        def early() -> None:
            try:
                client.models.get("claude-x")
            except Interrupt as exc:
                interrupted.append(exc)

        settings = BreakerSettings(failure_threshold=1, cooldown=0.1)
        with client_for(server, breaker=settings, on_request=on_request) as client:
            first = threading.Thread(target=early, name="early")
            first.start()
            assert entered.wait(5)  # let through while closed, held in its hook
            server.enqueue(Reply.error(529, "overloaded_error", "busy"))
            with pytest.raises(sluice.OverloadedError):
                client.models.get("claude-x")
            time.sleep(0.15)
            server.enqueue(slow)
            probe = threading.Thread(target=client.models.get, args=("claude-x",))
            probe.start()
            deadline = time.monotonic() + 5
            while len(server.requests) < 2 and time.monotonic() < deadline:
                time.sleep(0.005)
            go_on.set()
            first.join(5)
            try:
                with pytest.raises(sluice.CircuitOpenError):
                    client.models.get("claude-x")  # the probe is still out
            finally:
                hold.set()
                probe.join(5)
        assert len(interrupted) == 1
        assert len(server.requests) == 2

    def test_on_response_hook_closes_the_response(self, server: MockAnthropic) -> None:
        """A response whose ``on_response`` hook raised is closed: with a pool of one
        connection, the next request gets it instead of timing out on the pool."""
        raising = [True]

        def on_response(record: object) -> None:
            if raising[0]:
                raise Interrupt

        server.route("GET", "/v1/models/claude-x", Reply.json(MODEL))
        with (
            httpx.Client(timeout=1.0, limits=httpx.Limits(max_connections=1)) as http,
            client_for(server, http_client=http, on_response=on_response, timeout=1.0) as client,
        ):
            with pytest.raises(Interrupt):
                client.models.get("claude-x")
            raising[0] = False
            assert client.models.get("claude-x").id == "claude-x"

    def test_on_retry_hook_after_a_connection_error(self, server: MockAnthropic) -> None:
        """A request whose connection failed gave its count back once, not again when its
        ``on_retry`` hook raises: another request in flight stays counted against what the
        headers say is left."""
        hold = threading.Event()

        async def in_flight(request: RecordedRequest) -> Reply:
            await anyio.to_thread.run_sync(hold.wait, 5)
            return Reply.json(MODEL)

        def on_retry(record: object) -> None:
            raise Interrupt

        reset = (datetime.now(UTC) + timedelta(seconds=60)).isoformat().replace("+00:00", "Z")
        one_left = {
            "anthropic-ratelimit-requests-limit": "50",
            "anthropic-ratelimit-requests-remaining": "1",
            "anthropic-ratelimit-requests-reset": reset,
        }
        server.enqueue(in_flight, Reply.drop(), Reply.json(MODEL, headers=one_left))
        with client_for(server, max_retries=1, on_retry=on_retry) as client:
            held = threading.Thread(target=client.models.get, args=("claude-x",))
            held.start()
            deadline = time.monotonic() + 5
            while len(server.requests) < 1 and time.monotonic() < deadline:
                time.sleep(0.005)
            try:
                with pytest.raises(Interrupt):
                    client.models.get("claude-x")
                client.models.get("claude-x")
                with pytest.raises(sluice.DeadlineExceededError):
                    client.models.get("claude-x", deadline=0.3)
            finally:
                hold.set()
                held.join(5)
        assert len(server.requests) == 3


class TestHooks:
    def test_hooks_are_plain_functions(self, server: MockAnthropic) -> None:
        """Each hook gets its typed record; the request's key is in none of them."""
        seen: list[Any] = []
        server.enqueue(Reply.error(529, "overloaded_error", "busy", headers={"retry-after": "0"}))
        server.enqueue(Reply.json(MODEL))
        with client_for(
            server,
            max_retries=1,
            on_request=seen.append,
            on_response=seen.append,
            on_retry=seen.append,
        ) as client:
            client.models.get("claude-x")
        kinds = [type(record).__name__ for record in seen]
        assert kinds == [
            "RequestRecord",
            "ResponseRecord",
            "RetryRecord",
            "RequestRecord",
            "ResponseRecord",
        ]
        assert KEY not in repr(seen)

    def test_async_hooks_are_refused(self, server: MockAnthropic) -> None:
        """An async def hook cannot be awaited by a blocking client: a TypeError at once."""

        async def hook(record: object) -> None:
            pass

        with pytest.raises(TypeError, match="plain functions"):
            client_for(server, on_response=hook)

    def test_a_hook_returning_an_awaitable_is_refused(self, server: MockAnthropic) -> None:
        """A plain function that returns a coroutine is caught when called (and the
        coroutine closed, so nothing warns that it was never awaited)."""

        async def later(record: object) -> None:
            pass

        server.enqueue(Reply.json(MODEL))
        with client_for(server, on_request=lambda record: later(record)) as client:
            with pytest.raises(TypeError, match="returned an awaitable"):
                client.models.get("claude-x")


class TestBatchWait:
    def test_async_progress_callback_is_refused(
        self, server: MockAnthropic, client: sluice.Client
    ) -> None:
        """on_progress must be a plain function."""
        install_batches(server)

        async def progress(batch: object) -> None:
            pass

        with pytest.raises(TypeError, match="plain function"):
            client.messages.batches.wait("msgbatch_x", on_progress=progress)
        assert server.requests == []

    def test_timeout_bounds_a_slow_retrieve(self, server: MockAnthropic) -> None:
        """The wait's timeout cuts a retrieve that hangs: BatchWaitTimeoutError on time."""

        async def hang(request: RecordedRequest) -> Reply:
            await anyio.sleep(5)
            return Reply.json({})

        server.route("GET", "/v1/messages/batches/msgbatch_x", hang)
        with client_for(server) as client:
            started = time.monotonic()
            with pytest.raises(sluice.BatchWaitTimeoutError) as caught:
                client.messages.batches.wait("msgbatch_x", timeout=0.3)
            assert time.monotonic() - started < 2.0
        assert caught.value.batch is None
        assert caught.value.timeout == 0.3


class TestRelease:
    def test_abandoned_results_are_released_by_the_garbage_collector(
        self, server: MockAnthropic, client: sluice.Client
    ) -> None:
        """Dropped mid-file without with, the results iterator is closed when collected,
        releasing the response."""
        fake = install_batches(server)
        batches = client.messages.batches
        batch = batches.create(requests=[{"custom_id": "a", "params": PARAMS}])
        line = json.dumps({"custom_id": "gone", "result": {"type": "canceled"}}).encode()
        fake.complete_batch(batch.id, (line + b"\n") * 5_000)
        results = batches.results(batch.id)
        for _ in results:
            break
        response = results.response
        assert response is not None and not response.is_closed
        del results
        gc.collect()
        assert response.is_closed

    def test_break_out_of_a_stream_releases_the_connection(
        self, server: MockAnthropic, client: sluice.Client
    ) -> None:
        """Leaving the with block after a break closes the response at once."""
        server.enqueue(Reply.sse((FIXTURES / "long_text.sse").read_bytes(), chunk_size=256))
        with client.messages.stream(**PARAMS) as stream:
            for _ in stream:
                break
            response = stream.response
        assert response.is_closed
        assert stream.current_message_snapshot is not None


class TestKeyHygiene:
    def test_no_key_in_repr_logs_or_errors(
        self, server: MockAnthropic, caplog: pytest.LogCaptureFixture
    ) -> None:
        """The key is in no repr, log line, error, curl command or cause."""
        server.enqueue(Reply.error(401, "authentication_error", "invalid x-api-key"))
        caplog.set_level(logging.DEBUG, logger="sluice")
        with client_for(server) as client:
            with pytest.raises(sluice.AuthenticationError) as caught:
                client.models.get("claude-x")
            shown = [repr(client), repr(client.messages), repr(client.rate_limiter)]
        error = caught.value
        shown += [str(error), repr(error), error.curl() or "", caplog.text]
        assert caplog.text
        for text in shown:
            assert KEY not in text
        assert isinstance(error.response, httpx.Response)
        assert KEY not in repr(error.response.request.headers)
