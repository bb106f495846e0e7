"""The rate limiter's state machine, sans-I/O: time is passed in, nothing sleeps.

The monotonic clock is 0 at :data:`WALL` on the wall clock, so ``update(t, ..., wall=WALL +
t)`` reads a ``reset`` header ``WALL + x`` as ``x`` seconds on the monotonic clock.
"""

from __future__ import annotations

import heapq
import itertools
import math
from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sluice import RateLimits
from sluice._core._limiter import POLL, RateLimiter, Ticket, output_tokens_of
from sluice.types import LimitSettings

WALL = 1_700_000_000.0
_ids = itertools.count()


def ticket(tokens: int = 0) -> Ticket:
    return Ticket(f"t{next(_ids)}", tokens)


def iso(seconds: float) -> str:
    """A ``reset`` header for ``seconds`` on the test's monotonic clock."""
    return datetime.fromtimestamp(WALL + seconds, UTC).isoformat().replace("+00:00", "Z")


def said(remaining: int, reset: float | None, *, limit: int = 10) -> RateLimits:
    """The headers of a response: ``remaining`` of ``limit`` requests until ``reset``."""
    return RateLimits(
        requests_limit=limit,
        requests_remaining=remaining,
        requests_reset=None if reset is None else iso(reset),
    )


def answer(limiter: RateLimiter, now: float, held: Ticket, limits: RateLimits) -> None:
    limiter.update(now, held, limits, wall=WALL + now)


def take(limiter: RateLimiter, now: float, count: int) -> list[Ticket]:
    """Take capacity for ``count`` requests at ``now`` (each must go at once)."""
    taken = []
    for _ in range(count):
        held = ticket()
        assert limiter.try_acquire(now, held) == (0.0, "")
        taken.append(held)
    return taken


def goes(limiter: RateLimiter, now: float) -> bool:
    """Whether one more request may go at ``now`` (its capacity is then taken)."""
    delay, _ = limiter.try_acquire(now, ticket())
    return delay == 0


class TestInFlight:
    def test_requests_in_flight_count_against_remaining(self) -> None:
        """Three left by a response, two of ours still in flight: one more goes, then the
        next waits for their answers (the API may have counted them already)."""
        limiter = RateLimiter()
        first, *_ = take(limiter, 0.0, 3)
        answer(limiter, 0.1, first, said(3, 5.0))
        assert limiter.in_flight == 2
        assert goes(limiter, 0.1)
        assert limiter.try_acquire(0.1, ticket()) == (POLL, "requests")

    def test_answers_give_room_back(self) -> None:
        """The two in flight were counted already: their answers say so (the same count
        goes on holding), and two more go."""
        limiter = RateLimiter()
        first, second, third = take(limiter, 0.0, 3)
        answer(limiter, 0.1, first, said(3, 5.0))
        answer(limiter, 0.2, second, said(4, 5.0))  # answered by the API before the first
        answer(limiter, 0.2, third, said(5, 5.0))
        assert [goes(limiter, 0.3) for _ in range(4)] == [True] * 3 + [False]

    def test_nothing_left_waits_for_the_reset(self) -> None:
        """Nothing left: whatever is in flight, only the reset gives room."""
        limiter = RateLimiter()
        first, _ = take(limiter, 0.0, 2)
        answer(limiter, 0.1, first, said(0, 5.0))
        delay, why = limiter.try_acquire(0.1, ticket())
        assert (delay, why) == (pytest.approx(4.9), "requests")

    def test_a_ticket_is_given_back_once(self) -> None:
        """Releasing a ticket twice, or after its answer, changes nothing: no path can
        uncount another request in flight."""
        limiter = RateLimiter()
        first, second = take(limiter, 0.0, 2)
        answer(limiter, 0.1, first, said(5, 5.0))
        limiter.release(first)
        limiter.release(first)
        assert limiter.in_flight == 1
        limiter.release(second)
        assert limiter.in_flight == 0

    def test_an_answer_that_says_nothing_still_counts(self) -> None:
        """A response without rate-limit headers, or a request given back unanswered, may
        have been counted by the API: what remains goes down by one each (once)."""
        limiter = RateLimiter()
        (first,) = take(limiter, 0.0, 1)
        answer(limiter, 0.1, first, said(2, 30.0))
        quiet, lost = take(limiter, 0.1, 2)
        answer(limiter, 0.2, quiet, RateLimits())
        limiter.release(lost)
        limiter.release(lost)
        delay, why = limiter.try_acquire(0.3, ticket())
        assert why == "requests" and delay == pytest.approx(29.7)

    def test_asking_again_with_a_held_ticket_takes_nothing(self) -> None:
        """A ticket that holds capacity is not counted twice."""
        limiter = RateLimiter()
        (held,) = take(limiter, 0.0, 1)
        assert limiter.try_acquire(0.0, held) == (0.0, "")
        assert limiter.in_flight == 1

    def test_input_tokens_in_flight_count_too(self) -> None:
        """Input tokens of requests in flight count against the input-tokens remaining."""
        limiter = RateLimiter()
        first = ticket(100)
        assert limiter.try_acquire(0.0, first) == (0.0, "")
        big = ticket(600)
        assert limiter.try_acquire(0.0, big) == (0.0, "")
        limits = RateLimits(
            input_tokens_limit=10_000, input_tokens_remaining=1000, input_tokens_reset=iso(30)
        )
        answer(limiter, 0.1, first, limits)  # 1000 left, 600 of them in flight: 400
        assert limiter.try_acquire(0.1, ticket(400)) == (0.0, "")
        assert limiter.try_acquire(0.1, ticket(1)) == (POLL, "input tokens")


class TestWindowReset:
    def test_requests_in_flight_count_in_the_new_window(self) -> None:
        """At the reset, the requests still in flight may land in the new window: with six
        of ten in flight, four more go, and the next waits for an answer."""
        limiter = RateLimiter()
        (first,) = take(limiter, 0.0, 1)
        answer(limiter, 0.1, first, said(9, 1.0))
        take(limiter, 0.2, 6)
        assert [goes(limiter, 1.01) for _ in range(5)] == [True] * 4 + [False]
        assert limiter.try_acquire(1.01, ticket()) == (POLL, "requests")

    def test_the_window_resets_once(self) -> None:
        """Past the reset, the new window is counted down by what goes, not refilled at
        every request until a response speaks for it."""
        limiter = RateLimiter()
        (first,) = take(limiter, 0.0, 1)
        answer(limiter, 0.1, first, said(0, 1.0))
        assert not goes(limiter, 0.5)
        assert [goes(limiter, 1.2) for _ in range(11)] == [True] * 10 + [False]

    def test_with_nothing_in_flight_an_unknown_window_goes(self) -> None:
        """Nothing left, no reset known and nothing of ours in flight (so no answer to wait
        for): the request goes, and the API's retry-after will say if it is full."""
        limiter = RateLimiter()
        (first,) = take(limiter, 0.0, 1)
        answer(limiter, 0.1, first, said(0, None))
        assert goes(limiter, 0.2)
        assert limiter.try_acquire(0.2, ticket()) == (POLL, "requests")


class TestOutOfOrder:
    def test_a_late_answer_does_not_raise_the_count(self) -> None:
        """The API answered A (6 left) before B (5 left) but B's headers arrived first: A's
        late answer does not bring the count back up."""
        limiter = RateLimiter()
        early, late = take(limiter, 0.0, 2)
        answer(limiter, 0.1, late, said(5, 30.0))  # 5 left, A in flight: 4 may go
        assert [goes(limiter, 0.1) for _ in range(5)] == [True] * 4 + [False]
        answer(limiter, 0.2, early, said(6, 30.0))  # 5 left, the four in flight: 1
        assert [goes(limiter, 0.2) for _ in range(2)] == [True, False]

    def test_a_later_window_replaces_what_was_known(self) -> None:
        """A response naming a later reset is about a newer window: its count replaces a
        lower one."""
        limiter = RateLimiter()
        first, second = take(limiter, 0.0, 2)
        answer(limiter, 0.1, first, said(0, 1.0))
        answer(limiter, 1.1, second, said(8, 2.0))
        assert [goes(limiter, 1.2) for _ in range(9)] == [True] * 8 + [False]

    def test_an_answer_about_an_ended_window_says_nothing(self) -> None:
        """Past the reset, a late answer from the old window neither lowers nor raises the
        count of the new one."""
        limiter = RateLimiter()
        first, slow = take(limiter, 0.0, 2)
        answer(limiter, 0.1, first, said(5, 1.0))
        answer(limiter, 1.5, slow, said(0, 1.0))
        assert [goes(limiter, 1.5) for _ in range(11)] == [True] * 10 + [False]

    def test_without_a_reset_the_latest_answer_wins(self) -> None:
        """With no reset to order them by, the latest answer's count is taken."""
        limiter = RateLimiter()
        first, second = take(limiter, 0.0, 2)
        answer(limiter, 0.1, first, said(1, None))
        answer(limiter, 0.2, second, said(3, None))
        assert [goes(limiter, 0.3) for _ in range(4)] == [True] * 3 + [False]


class TestConfigured:
    def test_bucket_refills_continuously(self) -> None:
        """Sixty a minute: the bucket starts full, then gives one a second."""
        limiter = RateLimiter(LimitSettings(requests_per_minute=60, follow_headers=False))
        take(limiter, 0.0, 60)
        delay, why = limiter.try_acquire(0.0, ticket())
        assert why == "requests (configured)" and delay == pytest.approx(1.0)
        assert goes(limiter, 1.0)

    def test_output_tokens_are_charged_as_reported(self) -> None:
        """Sixty output tokens a minute: a request goes while the bucket is not empty, and
        the output a response reports is charged, so after 90 the next waits 31 s."""
        limiter = RateLimiter(LimitSettings(output_tokens_per_minute=60, follow_headers=False))
        assert limiter.charges_output
        assert goes(limiter, 0.0)
        limiter.record_usage(0.0, 90)
        delay, why = limiter.try_acquire(0.0, ticket())
        assert why == "output tokens (configured)" and delay == pytest.approx(31.0)
        assert goes(limiter, 31.0)
        assert not RateLimiter(LimitSettings(requests_per_minute=5)).charges_output

    @pytest.mark.parametrize(
        ("body", "tokens"),
        [
            (b'{"type":"message","usage":{"input_tokens":3,"output_tokens":42}}', 42),
            (b'{"type":"completion","completion":"x"}', 0),
            (b'{"usage":null}', 0),
            (b"<html>", 0),
            (b'{"usage":{"output_tokens":-5}}', 0),
        ],
    )
    def test_output_tokens_of_a_reply(self, body: bytes, tokens: int) -> None:
        assert output_tokens_of(body) == tokens


def simulate(
    limit: int, window: float, workers: int, requests: int, latencies: list[tuple[float, float]]
) -> tuple[int, int, int]:
    """Workers make ``requests`` through one limiter against a server with a fixed window
    of ``limit`` requests (which counts a request when it arrives, and answers after its
    latency, so answers cross). Returns (429s, the most served in a window, answered).

    One request goes first, alone: until a response has said what the limit is, the
    limiter has nothing to hold requests back by (the first answer may be a whole
    message away, so it does not make the others wait for it).
    """
    limiter = RateLimiter()
    served: dict[int, int] = {}
    too_many = answered = started = 0
    events: list[tuple[float, int, str, int, object]] = []
    order = itertools.count()
    delays = itertools.cycle(latencies)

    def at(time: float, kind: str, worker: int, data: object = None) -> None:
        heapq.heappush(events, (time, next(order), kind, worker, data))

    at(0.0, "try", 0)
    while events:
        now, _, kind, worker, data = heapq.heappop(events)
        if kind == "try":
            if started == requests:
                continue
            held = Ticket(f"{worker}-{started}")
            delay, _ = limiter.try_acquire(now, held)
            if delay > 0:
                at(now + delay, "try", worker)
                continue
            started += 1
            to_server, back = next(delays)
            at(now + to_server, "arrive", worker, (held, back))
        elif kind == "arrive":
            held, back = data  # type: ignore[misc]
            index = math.floor(now / window)
            used = served.get(index, 0)
            status = 429 if used >= limit else 200
            if status == 429:
                too_many += 1
            else:
                served[index] = used = used + 1
            limits = RateLimits(
                requests_limit=limit,
                requests_remaining=limit - used,
                requests_reset=iso((index + 1) * window),
            )
            at(now + back, "answer", worker, (held, limits, status))
        else:
            held, limits, status = data  # type: ignore[misc]
            limiter.update(now, held, limits, wall=WALL + now, status_code=status)
            answered += 1
            at(now, "try", worker)
            if answered == 1:  # the limit is known: the others start
                for other in range(1, workers):
                    at(now, "try", other)
    return too_many, max(served.values(), default=0), answered


class TestUnderLoad:
    @settings(max_examples=300, deadline=None)
    @given(
        limit=st.integers(1, 12),
        window=st.sampled_from([0.5, 1.0]),
        workers=st.integers(1, 10),
        requests=st.integers(1, 80),
        latencies=st.lists(
            st.tuples(st.floats(0.001, 0.3), st.floats(0.001, 0.3)), min_size=1, max_size=20
        ),
    )
    def test_never_over_the_limit(
        self,
        limit: int,
        window: float,
        workers: int,
        requests: int,
        latencies: list[tuple[float, float]],
    ) -> None:
        """Any number of workers, any latencies, answers crossing each other and window
        resets while requests are in flight: the server never sees more than its limit in
        a window (no 429), and every request is answered."""
        too_many, most, answered = simulate(limit, window, workers, requests, latencies)
        assert too_many == 0
        assert most <= limit
        assert answered == requests

    def test_six_workers_against_ten_a_window(self) -> None:
        """The case seen with the HTTP mock: six at once against ten per window, latencies
        that cross answers."""
        latencies = [(0.001, 0.05), (0.002, 0.001), (0.02, 0.03), (0.001, 0.2)]
        too_many, most, answered = simulate(10, 1.0, 6, 200, latencies)
        assert (too_many, answered) == (0, 200)
        assert most <= 10
