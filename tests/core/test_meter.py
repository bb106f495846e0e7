"""The usage meter, sans-I/O: sums, prices, cache savings, quotas, UTC windows, JSON, threads."""

from __future__ import annotations

import json
import logging
import pickle
import threading
from datetime import UTC, datetime

import msgspec
import pytest

import sluice
from sluice import Message, Usage, UsageMeter
from sluice.types import CacheCreation, ModelPricing, QuotaSettings, ServerToolUsage, UsageReport

SONNET = "claude-sonnet-4-5"  # $3 in, $15 out; writes $3.75 (5 min) and $6 (1 h), reads $0.30


class Clock:
    """A wall clock the test moves by hand."""

    def __init__(self, when: datetime) -> None:
        self.now = when.timestamp()

    def __call__(self) -> float:
        return self.now

    def set(self, when: datetime) -> None:
        self.now = when.timestamp()


def at(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)  # type: ignore[misc]


def cached_usage() -> Usage:
    """1,000 input, 500 output, 2,000 + 1,000 cache writes (5 min, 1 h), 10,000 reads."""
    return Usage(
        input_tokens=1_000,
        output_tokens=500,
        cache_creation_input_tokens=3_000,
        cache_read_input_tokens=10_000,
        cache_creation=CacheCreation(
            ephemeral_5m_input_tokens=2_000, ephemeral_1h_input_tokens=1_000
        ),
    )


def message(model: str = SONNET, **usage: int) -> Message:
    return Message(id="msg_1", model=model, content=[], usage=Usage(**usage))


class TestSums:
    def test_every_counter_adds_up(self) -> None:
        """Input, output, cache writes by TTL, cache reads and server tools are all summed."""
        meter = UsageMeter()
        meter.record(SONNET, cached_usage())
        tools = Usage(
            input_tokens=10,
            output_tokens=5,
            server_tool_use=ServerToolUsage(web_search_requests=2),
        )
        meter.record(SONNET, tools)
        total = meter.total
        assert (total.input_tokens, total.output_tokens) == (1_010, 505)
        assert total.cache_creation_input_tokens == 3_000
        assert total.cache_read_input_tokens == 10_000
        assert total.cache_creation == CacheCreation(
            ephemeral_5m_input_tokens=2_000, ephemeral_1h_input_tokens=1_000
        )
        assert total.server_tool_use == ServerToolUsage(web_search_requests=2, web_fetch_requests=0)
        assert meter.total_tokens == 1_010 + 505 + 3_000 + 10_000
        assert meter.requests == 2

    def test_by_model(self) -> None:
        """Each model has its own requests, usage and cost, sorted by name."""
        meter = UsageMeter()
        meter.record(SONNET, Usage(input_tokens=100, output_tokens=10))
        meter.record("claude-haiku-4-5", Usage(input_tokens=1_000, output_tokens=100), requests=3)
        models = meter.by_model
        assert list(models) == ["claude-haiku-4-5", SONNET]
        assert models["claude-haiku-4-5"].requests == 3
        assert models["claude-haiku-4-5"].cost == pytest.approx((1_000 * 1 + 100 * 5) / 1e6)
        assert models[SONNET].usage.input_tokens == 100
        assert meter.cost == pytest.approx((1_500 + 100 * 3 + 10 * 15) / 1e6)
        assert meter.requests == 4

    def test_dated_model_ids_are_priced_by_their_alias(self) -> None:
        """A response's dated model id is kept as its key and priced as its alias."""
        meter = UsageMeter()
        meter.record("claude-sonnet-4-5-20250929", Usage(input_tokens=1_000_000))
        assert meter.cost == pytest.approx(3.0)
        assert list(meter.by_model) == ["claude-sonnet-4-5-20250929"]

    def test_reset_forgets_everything(self) -> None:
        """reset() clears totals, models and the windows."""
        meter = UsageMeter(quotas=QuotaSettings(requests_per_day=1))
        meter.record(SONNET, Usage(input_tokens=5))
        meter.reset()
        assert meter.requests == 0 and meter.total_tokens == 0 and meter.by_model == {}
        meter.admit()  # the day's quota is free again


class TestCost:
    def test_hand_computed_cost_and_savings(self) -> None:
        """Each kind of token at its rate; savings = reads at (input - read) minus the
        write premiums, per million tokens."""
        meter = UsageMeter()
        meter.record(SONNET, cached_usage())
        # 1,000 x 3 + 500 x 15 + 2,000 x 3.75 + 1,000 x 6 + 10,000 x 0.30 = 27,000
        assert meter.cost == pytest.approx(0.027)
        # 10,000 x 2.70 - 2,000 x 0.75 - 1,000 x 3 = 27,000 - 1,500 - 3,000 = 22,500
        assert meter.cache_savings == pytest.approx(0.0225)
        # The same as: the cache tokens as plain input, minus what was paid.
        uncached = (1_000 + 3_000 + 10_000) * 3 + 500 * 15
        assert meter.cache_savings == pytest.approx(uncached / 1e6 - 0.027)
        model = meter.by_model[SONNET]
        assert (model.cost, model.cache_savings) == (meter.cost, meter.cache_savings)

    def test_writes_without_reads_save_less_than_nothing(self) -> None:
        """Cache writes not yet read back cost their premium: negative savings."""
        meter = UsageMeter()
        meter.record(SONNET, Usage(input_tokens=0, cache_creation_input_tokens=4_000))
        assert meter.cache_savings == pytest.approx(-4_000 * 0.75 / 1e6)

    def test_order_does_not_change_the_cost(self) -> None:
        """Cost is the summed counts priced, so it is the same whatever the order."""
        usages = [Usage(input_tokens=n, output_tokens=n // 3) for n in (7, 1_000_003, 42)]
        forward, backward = UsageMeter(), UsageMeter()
        for usage in usages:
            forward.record(SONNET, usage)
        for usage in reversed(usages):
            backward.record(SONNET, usage)
        assert forward.cost == backward.cost

    def test_unknown_model_counts_tokens_but_no_cost(
        self, caplog: pytest.LogCaptureFixture
    ) -> None:
        """An unpriced model's tokens count; its cost is None, listed, and warned about once."""
        meter = UsageMeter()
        with caplog.at_level(logging.WARNING, logger="sluice"):
            meter.record("claude-next", Usage(input_tokens=100, output_tokens=1))
            meter.record("claude-next", Usage(input_tokens=100, output_tokens=1))
            meter.record(SONNET, Usage(input_tokens=1_000_000))
        assert meter.total_tokens == 1_000_202
        assert meter.by_model["claude-next"].cost is None
        assert meter.by_model["claude-next"].cache_savings is None
        assert meter.unpriced_models == ["claude-next"]
        assert meter.cost == pytest.approx(3.0)
        assert caplog.text.count("no price for model 'claude-next'") == 1

    def test_pricing_adds_models(self) -> None:
        """pricing= adds to the runner's table, as messages.run(pricing=...) does."""
        meter = UsageMeter(pricing={"claude-next": ModelPricing.from_base(2.0, 10.0)})
        meter.record("claude-next", Usage(input_tokens=1_000_000, output_tokens=100_000))
        assert meter.cost == pytest.approx(3.0)
        assert meter.unpriced_models == []
        assert "claude-next" in meter.pricing and "claude-next" not in sluice.types.PRICING


class TestTally:
    def test_cumulative_counts_count_once(self) -> None:
        """A stream's cumulative usage (start, then delta) is recorded as it grows, once."""
        meter = UsageMeter()
        tally = meter.tally()
        tally.update(None)  # nothing arrived yet
        assert meter.by_model == {}
        msg = message(input_tokens=100, output_tokens=1, cache_read_input_tokens=50)
        tally.update(msg)
        assert (meter.total.input_tokens, meter.total.output_tokens) == (100, 1)
        tally.update(msg)  # nothing new
        msg.usage.output_tokens = 40
        tally.update(msg)
        total = meter.total
        assert (total.input_tokens, total.output_tokens, total.cache_read_input_tokens) == (
            100,
            40,
            50,
        )
        assert meter.by_model[SONNET].requests == 1  # one message answered

    def test_a_message_with_no_usage_is_still_answered(self) -> None:
        """The first update counts the message, even when its usage is all zeros."""
        meter = UsageMeter()
        meter.tally().update(message())
        assert meter.by_model[SONNET].requests == 1
        assert meter.requests == 0  # requests are counted when sent: admit()


class TestQuotas:
    def test_requests_per_day_lets_exactly_that_many_through(self) -> None:
        """The quota-th request is admitted; the next is refused, and not counted."""
        clock = Clock(at(2025, 6, 1, 21, 30))
        meter = UsageMeter(quotas=QuotaSettings(requests_per_day=2), clock=clock)
        meter.admit()
        meter.admit()
        with pytest.raises(sluice.QuotaExceededError) as caught:
            meter.admit()
        error = caught.value
        assert (error.quota, error.used, error.limit) == ("requests_per_day", 2, 2)
        assert error.resets_at == at(2025, 6, 2)
        assert "requests_per_day" in str(error) and "2 of 2 requests today" in str(error)
        assert "2025-06-02 00:00 UTC (in 2 h 30 min)" in str(error)
        assert meter.requests == 2

    def test_tokens_and_cost_are_checked_as_already_used(self) -> None:
        """Token and cost quotas refuse once what was reported reaches them."""
        meter = UsageMeter(quotas=QuotaSettings(tokens_per_day=1_000))
        meter.record(SONNET, Usage(input_tokens=999))
        meter.admit()  # 999 < 1,000: the request goes, whatever it will use
        meter.record(SONNET, Usage(input_tokens=1))
        with pytest.raises(sluice.QuotaExceededError, match="tokens_per_day"):
            meter.admit()
        costly = UsageMeter(quotas=QuotaSettings(cost_per_month=3.0))
        costly.record(SONNET, Usage(input_tokens=1_000_000))
        with pytest.raises(sluice.QuotaExceededError) as caught:
            costly.check()
        assert caught.value.quota == "cost_per_month"
        assert caught.value.used == pytest.approx(3.0)
        assert "$3.0000 of $3.00 this month" in str(caught.value)

    def test_unpriced_usage_is_not_in_cost_quotas(self) -> None:
        """A model without a price adds nothing to a cost quota (its cost is unknown)."""
        meter = UsageMeter(quotas=QuotaSettings(cost_per_day=0.01))
        meter.record("claude-next", Usage(input_tokens=10_000_000))
        meter.admit()

    def test_check_counts_nothing(self) -> None:
        """check() raises like admit() but counts no request."""
        meter = UsageMeter(quotas=QuotaSettings(requests_per_day=1))
        meter.check()
        meter.check()
        assert meter.requests == 0

    def test_zero_refuses_everything(self) -> None:
        """A quota of 0 is a switch that refuses every request."""
        meter = UsageMeter(quotas=QuotaSettings(cost_per_day=0))
        with pytest.raises(sluice.QuotaExceededError):
            meter.admit()

    def test_settings_are_checked(self) -> None:
        """A negative quota is refused when the settings are made."""
        with pytest.raises(ValueError, match="tokens_per_month must be >= 0"):
            QuotaSettings(tokens_per_month=-1)

    def test_error_pickles(self) -> None:
        """QuotaExceededError travels through pickle with its attributes."""
        meter = UsageMeter(quotas=QuotaSettings(requests_per_month=0))
        with pytest.raises(sluice.QuotaExceededError) as caught:
            meter.admit()
        copy = pickle.loads(pickle.dumps(caught.value))
        assert (copy.quota, copy.used, copy.limit) == ("requests_per_month", 0, 0)
        assert copy.resets_at == caught.value.resets_at


class TestWindows:
    def test_a_new_utc_day_resets_the_day_not_the_month(self) -> None:
        """At midnight UTC the day's use starts again; the month's goes on."""
        clock = Clock(at(2025, 6, 1, 23, 59, 59))
        quotas = QuotaSettings(requests_per_day=1, requests_per_month=2)
        meter = UsageMeter(quotas=quotas, clock=clock)
        meter.admit()
        meter.record(SONNET, Usage(input_tokens=10), requests=0)
        with pytest.raises(sluice.QuotaExceededError, match="requests_per_day"):
            meter.admit()
        clock.set(at(2025, 6, 2))
        report = meter.report()
        assert (report.day.start, report.day.resets_at) == (at(2025, 6, 2), at(2025, 6, 3))
        assert (report.day.requests, report.day.tokens, report.day.models) == (0, 0, {})
        assert (report.month.requests, report.month.tokens) == (1, 10)
        meter.admit()
        with pytest.raises(sluice.QuotaExceededError, match="requests_per_month"):
            meter.admit()
        assert meter.requests == 2 and meter.total_tokens == 10  # totals never reset

    def test_month_rollover_at_the_year_end(self) -> None:
        """December's window ends on the first of January; then a new month begins."""
        clock = Clock(at(2025, 12, 31, 12))
        meter = UsageMeter(quotas=QuotaSettings(cost_per_month=1.0), clock=clock)
        meter.record(SONNET, Usage(input_tokens=1_000_000))
        with pytest.raises(sluice.QuotaExceededError) as caught:
            meter.admit()
        assert caught.value.resets_at == at(2026, 1, 1)
        clock.set(at(2026, 1, 1, 0, 0, 1))
        meter.admit()
        report = meter.report()
        assert report.month.start == at(2026, 1, 1)
        assert report.month.resets_at == at(2026, 2, 1)
        assert report.month.cost == 0.0 and report.cost == pytest.approx(3.0)

    def test_quota_headroom_is_reported(self) -> None:
        """Each configured quota reports its limit, use, what remains and its reset."""
        clock = Clock(at(2025, 2, 10, 8))
        quotas = QuotaSettings(requests_per_day=10, tokens_per_month=1_000)
        meter = UsageMeter(quotas=quotas, clock=clock)
        meter.admit()
        meter.record(SONNET, Usage(input_tokens=1_200), requests=0)
        day, month = meter.report().quotas
        assert (day.quota, day.limit, day.used, day.remaining, day.exceeded) == (
            "requests_per_day",
            10,
            1,
            9,
            False,
        )
        assert day.resets_at == at(2025, 2, 11)
        assert (month.quota, month.used, month.remaining, month.exceeded) == (
            "tokens_per_month",
            1_200,
            0,
            True,
        )
        assert month.resets_at == at(2025, 3, 1)


class TestJSON:
    def test_schema(self) -> None:
        """to_dict() has the documented keys, datetimes as RFC 3339 strings in UTC."""
        clock = Clock(at(2025, 6, 1, 12))
        meter = UsageMeter(quotas=QuotaSettings(cost_per_day=5.0), clock=clock)
        meter.admit()
        meter.tally().update(message(input_tokens=100, output_tokens=10))
        data = meter.to_dict()
        assert set(data) == {
            "version",
            "at",
            "since",
            "requests",
            "usage",
            "total_tokens",
            "cost",
            "cache_savings",
            "unpriced_models",
            "models",
            "day",
            "month",
            "quotas",
        }
        assert data["version"] == 1
        assert data["at"] == data["since"] == "2025-06-01T12:00:00Z"
        assert data["usage"]["input_tokens"] == 100
        assert data["models"][SONNET]["requests"] == 1
        assert data["day"]["start"] == "2025-06-01T00:00:00Z"
        assert data["day"]["resets_at"] == "2025-06-02T00:00:00Z"
        assert data["month"]["start"] == "2025-06-01T00:00:00Z"
        assert data["quotas"][0]["quota"] == "cost_per_day"
        assert data["quotas"][0]["remaining"] == pytest.approx(5.0 - (300 + 150) / 1e6)
        assert json.loads(meter.to_json()) == data

    def test_round_trip(self) -> None:
        """from_json(to_json()) goes on where the meter was: totals, models, windows."""
        clock = Clock(at(2025, 6, 1, 12))
        quotas = QuotaSettings(requests_per_day=3)
        meter = UsageMeter(quotas=quotas, clock=clock)
        meter.admit()
        meter.admit()
        meter.tally().update(message(input_tokens=100, output_tokens=10))
        meter.record("claude-next", cached_usage())
        meter.record(
            SONNET, Usage(output_tokens=1, server_tool_use=ServerToolUsage(web_fetch_requests=1))
        )
        exported = meter.to_json()
        restored = UsageMeter.from_json(exported, quotas=quotas, clock=clock)
        assert restored.report() == meter.report()
        assert restored.to_json() == exported
        with pytest.raises(sluice.QuotaExceededError):
            restored.admit()  # the day's 3 requests were used before the restart

    def test_restore_after_the_day_ended(self) -> None:
        """A window that ended while the meter was stored starts again on restore."""
        clock = Clock(at(2025, 6, 1, 12))
        meter = UsageMeter(clock=clock)
        meter.record(SONNET, Usage(input_tokens=7))
        exported = meter.to_json()
        clock.set(at(2025, 6, 2, 1))
        restored = UsageMeter.from_json(exported, clock=clock)
        report = restored.report()
        assert report.day.start == at(2025, 6, 2) and report.day.tokens == 0
        assert report.month.tokens == 7 and report.total_tokens == 7
        assert report.since == at(2025, 6, 1, 12)

    def test_not_a_report(self) -> None:
        """Anything but a usage report is refused, as a ValueError."""
        with pytest.raises(msgspec.ValidationError):
            UsageMeter.from_json(b'{"version": 1}')
        assert issubclass(msgspec.ValidationError, ValueError)

    def test_report_type(self) -> None:
        """report() is a UsageReport, the schema's type."""
        assert isinstance(UsageMeter().report(), UsageReport)


class TestThreads:
    def test_concurrent_records_add_up_exactly(self) -> None:
        """Threads recording at once lose nothing."""
        meter = UsageMeter()

        def work() -> None:
            for _ in range(500):
                meter.record(SONNET, Usage(input_tokens=1, output_tokens=2))

        threads = [threading.Thread(target=work) for _ in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert meter.requests == 4_000
        assert (meter.total.input_tokens, meter.total.output_tokens) == (4_000, 8_000)

    def test_concurrent_admits_keep_to_the_quota(self) -> None:
        """However many threads ask at once, exactly the quota is admitted."""
        meter = UsageMeter(quotas=QuotaSettings(requests_per_day=100))
        admitted = []
        lock = threading.Lock()

        def work() -> None:
            for _ in range(50):
                try:
                    meter.admit()
                except sluice.QuotaExceededError:
                    continue
                with lock:
                    admitted.append(1)

        threads = [threading.Thread(target=work) for _ in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert len(admitted) == 100 == meter.requests
