"""Usage, cost and quotas: what a client's requests used, priced, capped per day and month.

A :class:`UsageMeter` sums the usage the API reports (every counter of ``Usage``: input,
output, cache writes by TTL, cache reads, server tool requests) across requests and
streams, per model, and prices it with the table the tool runner uses
(:data:`~sluice.types.PRICING`, plus prices of your own). :class:`QuotaSettings` cap
requests, tokens and cost per calendar day and month in UTC, checked before a request is
sent (:meth:`UsageMeter.admit`, raising :class:`~sluice.QuotaExceededError`). Its state
exports as JSON for monitoring (:meth:`UsageMeter.to_json`, the schema is
:class:`UsageReport`) and comes back from it (:meth:`UsageMeter.from_json`), so quotas
survive a restart.

What counts, as the client records it:

* A **request** counts once, when it is about to be sent (:meth:`UsageMeter.admit`):
  whether it succeeds or not, whatever its retries and failover; a request a quota refuses
  does not count. A recovered stream's re-send is a request of its own (it is billed).
* **Tokens** count as responses report them, through one :class:`UsageTally` per
  response: a message's usage at once, a stream's as it arrives (``message_start``
  brings the input and cache tokens, ``message_delta`` the output), so a stream that
  fails or is closed early still counts what it reported. A model's ``requests`` count
  the messages it answered.
* **Tokens** of a quota, like the tool runner's ``token_budget``: every token, input
  (uncached, cache writes and reads) and output (:func:`~sluice._core._pricing.total_tokens`).

Cost is each model's summed token counts priced at its rates (``ModelPricing.cost``),
so it is the same whatever the order the usage came in. A model the table does not know
is counted in tokens and listed in ``unpriced_models``; its cost is unknown, and adds
nothing to the total or to a cost quota (a warning is logged once per model).

Cache savings are what prompt caching saved: what the cached tokens would have cost as
plain input, minus what they cost. Per million tokens, for each model::

    savings = reads * (input - cache_read)
              - writes_5m * (cache_write_5m - input)
              - writes_1h * (cache_write_1h - input)

Reads cost 0.1x the input price and writes 1.25x (5 minutes) or 2x (1 hour), so savings
are negative while the cache writes have not yet paid for themselves.

Sans-I/O: the wall clock is passed in (``clock``, seconds since the epoch, for tests);
every method is synchronous and holds one ``threading.Lock`` briefly, never across an
await, so one meter serves async tasks on asyncio or trio and threads alike, and may be
shared by several clients.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any, Final, Literal, TypeAlias

import msgspec

from ._exceptions import QuotaExceededError
from ._message import CacheCreation, Message, ServerToolUsage, Usage
from ._pricing import PRICING, ModelPricing, PriceTable, _cache_writes, _count

__all__ = [
    "ModelUsage",
    "QuotaSettings",
    "QuotaStatus",
    "UsageMeter",
    "UsageReport",
    "UsageTally",
    "UsageWindow",
]

logger: Final = logging.getLogger("sluice")

#: The version of the :class:`UsageReport` schema.
REPORT_VERSION: Final = 1

Period: TypeAlias = Literal["day", "month"]

# One model's counts: input, output, cache writes (5 minutes, 1 hour), cache reads, web
# searches, web fetches. Integers, so sums are exact and a JSON round trip is lossless.
_Counts: TypeAlias = tuple[int, int, int, int, int, int, int]
_ZERO: Final[_Counts] = (0, 0, 0, 0, 0, 0, 0)


def _counts(usage: Usage) -> _Counts:
    write_5m, write_1h = _cache_writes(usage)
    tools = usage.server_tool_use
    searches = fetches = 0
    if isinstance(tools, ServerToolUsage):
        searches = _count(tools.web_search_requests)
        fetches = _count(tools.web_fetch_requests)
    return (
        _count(usage.input_tokens),
        _count(usage.output_tokens),
        write_5m,
        write_1h,
        _count(usage.cache_read_input_tokens),
        searches,
        fetches,
    )


def _usage(counts: _Counts | list[int]) -> Usage:
    usage = Usage(
        input_tokens=counts[0],
        output_tokens=counts[1],
        cache_creation_input_tokens=counts[2] + counts[3],
        cache_read_input_tokens=counts[4],
        cache_creation=CacheCreation(
            ephemeral_5m_input_tokens=counts[2], ephemeral_1h_input_tokens=counts[3]
        ),
    )
    if counts[5] or counts[6]:
        usage.server_tool_use = ServerToolUsage(
            web_search_requests=counts[5], web_fetch_requests=counts[6]
        )
    return usage


def _tokens(counts: _Counts | list[int]) -> int:
    return counts[0] + counts[1] + counts[2] + counts[3] + counts[4]


def _savings(price: ModelPricing, counts: _Counts | list[int]) -> float:
    """What the cache tokens of ``counts`` saved against paying for them as plain input."""
    return (
        counts[4] * (price.input - price.cache_read)
        - counts[2] * (price.cache_write_5m - price.input)
        - counts[3] * (price.cache_write_1h - price.input)
    ) / 1_000_000


# ------------------------------------------------------------------------------ settings


class QuotaSettings(msgspec.Struct, frozen=True, kw_only=True):
    """Caps on a meter's use per calendar day and month, in UTC (``None``: no cap).

    Checked before each request is sent: a request is refused with
    :class:`~sluice.QuotaExceededError` when the current day's or month's use is already
    at or over a quota. Requests are counted as they are sent, so ``requests_per_day=100``
    lets exactly 100 through; tokens and cost are known only once responses report them,
    so the requests in flight when a token or cost quota is reached complete, and the
    ones after them are refused. ``0`` refuses every request.

    Attributes:
        requests_per_day: Messages requests sent per UTC day.
        tokens_per_day: tokens per UTC day: input (uncached, cache writes and reads) and
            output.
        cost_per_day: US dollars per UTC day (priced models only).
        requests_per_month: requests per UTC calendar month.
        tokens_per_month: tokens per UTC calendar month.
        cost_per_month: US dollars per UTC calendar month.
    """

    requests_per_day: int | None = None
    tokens_per_day: int | None = None
    cost_per_day: float | None = None
    requests_per_month: int | None = None
    tokens_per_month: int | None = None
    cost_per_month: float | None = None

    def __post_init__(self) -> None:
        for name in self.__struct_fields__:
            value = getattr(self, name)
            if value is not None and not value >= 0:
                raise ValueError(f"{name} must be >= 0, got {value}")


# ------------------------------------------------------------------------------- reports


class ModelUsage(msgspec.Struct, frozen=True, kw_only=True):
    """What one model used, summed.

    Attributes:
        requests: the messages it answered (a stream counts once, at its first usage).
        usage: every token counter summed (``cache_creation`` split by TTL, server tool
            requests when there were any).
        total_tokens: input (uncached, cache writes and reads) and output tokens.
        cost: US dollars; ``None`` when the model has no price.
        cache_savings: US dollars prompt caching saved (negative while cache writes have
            not paid for themselves); ``None`` when the model has no price.
    """

    requests: int
    usage: Usage
    total_tokens: int
    cost: float | None
    cache_savings: float | None


class UsageWindow(msgspec.Struct, frozen=True, kw_only=True):
    """The use of the current UTC day or month: what quotas are checked against.

    Attributes:
        period: ``"day"`` or ``"month"``.
        start: when it began (midnight UTC; the first of the month).
        resets_at: when the next one begins.
        requests: requests sent in it.
        tokens: tokens reported in it.
        cost: US dollars of priced models in it.
        models: the use in it, by model.
    """

    period: Period
    start: datetime
    resets_at: datetime
    requests: int
    tokens: int
    cost: float
    models: dict[str, ModelUsage]


class QuotaStatus(msgspec.Struct, frozen=True, kw_only=True):
    """One quota and how much of it is used.

    Attributes:
        quota: its name (``"cost_per_day"``...; see :class:`QuotaSettings`).
        limit: the quota.
        used: the current window's use (requests, tokens, or US dollars).
        remaining: what is left (0 when used up).
        exceeded: whether it is used up, so requests are refused until ``resets_at``.
        resets_at: when the window starts again.
    """

    quota: str
    limit: int | float
    used: int | float
    remaining: int | float
    exceeded: bool
    resets_at: datetime


class UsageReport(msgspec.Struct, frozen=True, kw_only=True):
    """A meter's state at one moment: what :meth:`UsageMeter.to_json` writes.

    Attributes:
        version: the schema's version (1).
        at: when the report was made.
        since: when the meter started counting (made, or last reset).
        requests: requests sent (every one, also those still in flight or that failed).
        usage: every token counter, summed over models.
        total_tokens: input (uncached, cache writes and reads) and output tokens.
        cost: US dollars, summed over priced models.
        cache_savings: US dollars prompt caching saved, over priced models.
        unpriced_models: models with usage and no price: their cost is unknown.
        models: the use of each model.
        day: the current UTC day.
        month: the current UTC month.
        quotas: each configured quota and its headroom.
    """

    version: int
    at: datetime
    since: datetime
    requests: int
    usage: Usage
    total_tokens: int
    cost: float
    cache_savings: float
    unpriced_models: list[str]
    models: dict[str, ModelUsage]
    day: UsageWindow
    month: UsageWindow
    quotas: list[QuotaStatus]


# --------------------------------------------------------------------------------- state


class _Tally:
    """One model's counts and answered requests (within the whole meter or a window)."""

    __slots__ = ("counts", "requests")

    def __init__(self, counts: _Counts = _ZERO, requests: int = 0) -> None:
        self.counts = list(counts)
        self.requests = requests

    def add(self, counts: _Counts, requests: int) -> None:
        mine = self.counts
        for index, value in enumerate(counts):
            mine[index] += value
        self.requests += requests


class _Window:
    """The current day or month: its start, requests sent, and use by model."""

    __slots__ = ("models", "period", "requests", "start")

    def __init__(self, period: Period, start: datetime) -> None:
        self.period: Period = period
        self.start = start
        self.requests = 0
        self.models: dict[str, _Tally] = {}

    @property
    def resets_at(self) -> datetime:
        start = self.start
        if self.period == "day":
            return start + timedelta(days=1)
        if start.month == 12:
            return start.replace(year=start.year + 1, month=1)
        return start.replace(month=start.month + 1)


def _start_of(period: Period, now: datetime) -> datetime:
    day = now.replace(hour=0, minute=0, second=0, microsecond=0)
    return day if period == "day" else day.replace(day=1)


#: The quotas in the order they are checked and reported: (name, period, what).
_QUOTAS: Final[tuple[tuple[str, Period, str], ...]] = (
    ("requests_per_day", "day", "requests"),
    ("tokens_per_day", "day", "tokens"),
    ("cost_per_day", "day", "cost"),
    ("requests_per_month", "month", "requests"),
    ("tokens_per_month", "month", "tokens"),
    ("cost_per_month", "month", "cost"),
)


class UsageMeter:
    """Sums usage across requests and streams, prices it, and checks quotas.

    Every client has one (``client.usage``); pass your own as ``AsyncClient(meter=...)``
    to share it between clients (the async and the sync one alike), to price models of
    your own, or to restore it from JSON. See the module docs for what counts.

    Args:
        quotas: caps per UTC day and month (``None``: none).
        pricing: prices to add to or override in ``sluice.types.PRICING``, as for
            ``messages.run(pricing=...)``.
        clock: the wall clock, in seconds since the epoch (``time.time``); the day and
            month windows are read from it in UTC.
    """

    def __init__(
        self,
        *,
        quotas: QuotaSettings | None = None,
        pricing: Mapping[str, ModelPricing | Mapping[str, float]] | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._quotas = quotas
        self._pricing: PriceTable = PRICING.with_prices(pricing) if pricing else PRICING
        self._clock = clock
        self._lock = threading.Lock()
        self._warned: set[str] = set()
        self._clear(self._now())

    def _clear(self, now: datetime) -> None:
        self._since = now
        self._requests = 0
        self._models: dict[str, _Tally] = {}
        self._day = _Window("day", _start_of("day", now))
        self._month = _Window("month", _start_of("month", now))

    def __repr__(self) -> str:
        with self._lock:
            tokens = sum(_tokens(tally.counts) for tally in self._models.values())
            return f"<UsageMeter {self._requests} requests, {tokens} tokens>"

    # --------------------------------------------------------------------------- reading

    @property
    def quotas(self) -> QuotaSettings | None:
        """The quotas checked before each request (``None``: none)."""
        return self._quotas

    @property
    def pricing(self) -> PriceTable:
        """The prices usage is costed with."""
        return self._pricing

    @property
    def requests(self) -> int:
        """Requests sent (every one, also those in flight or that failed)."""
        with self._lock:
            return self._requests

    @property
    def total(self) -> Usage:
        """Every token counter, summed over requests, streams and models."""
        with self._lock:
            return _usage(self._sum(self._models))

    @property
    def total_tokens(self) -> int:
        """Input (uncached, cache writes and reads) and output tokens, summed."""
        with self._lock:
            return _tokens(self._sum(self._models))

    @property
    def by_model(self) -> dict[str, ModelUsage]:
        """The use of each model (keyed by the ``model`` its responses reported)."""
        with self._lock:
            return self._by_model(self._models)

    @property
    def cost(self) -> float:
        """US dollars, summed over priced models (see :attr:`unpriced_models`)."""
        with self._lock:
            return self._cost(self._models)

    @property
    def cache_savings(self) -> float:
        """US dollars prompt caching saved, over priced models (see the module docs)."""
        with self._lock:
            return sum(
                _savings(price, tally.counts)
                for model, tally in self._models.items()
                if (price := self._pricing.lookup(model)) is not None
            )

    @property
    def unpriced_models(self) -> list[str]:
        """Models with usage but no price, sorted: their tokens count, their cost does not."""
        with self._lock:
            return sorted(model for model in self._models if self._pricing.lookup(model) is None)

    def report(self) -> UsageReport:
        """The meter's state now: totals, each model, the day and month, quota headroom."""
        with self._lock:
            now = self._roll()
            models = self._by_model(self._models)
            counts = self._sum(self._models)
            return UsageReport(
                version=REPORT_VERSION,
                at=now,
                since=self._since,
                requests=self._requests,
                usage=_usage(counts),
                total_tokens=_tokens(counts),
                cost=sum(usage.cost for usage in models.values() if usage.cost is not None),
                cache_savings=sum(
                    usage.cache_savings
                    for usage in models.values()
                    if usage.cache_savings is not None
                ),
                unpriced_models=[name for name, usage in models.items() if usage.cost is None],
                models=models,
                day=self._window_report(self._day),
                month=self._window_report(self._month),
                quotas=self._statuses(),
            )

    def to_dict(self) -> dict[str, Any]:
        """:meth:`report` as JSON-ready builtins (datetimes as RFC 3339 strings)."""
        result: dict[str, Any] = msgspec.to_builtins(self.report())
        return result

    def to_json(self) -> bytes:
        """:meth:`report` as JSON: the schema of :class:`UsageReport`, for monitoring and
        for :meth:`from_json`."""
        return msgspec.json.encode(self.report())

    @classmethod
    def from_json(
        cls,
        data: bytes | str,
        *,
        quotas: QuotaSettings | None = None,
        pricing: Mapping[str, ModelPricing | Mapping[str, float]] | None = None,
        clock: Callable[[], float] = time.time,
    ) -> UsageMeter:
        """A meter that goes on from a :meth:`to_json` export (e.g. after a restart).

        Token counts and requests are restored, in total and for the current day and
        month (a window that has ended since starts again). Quotas and prices are not part
        of the export: pass them again; costs are recomputed from the token counts.

        Args:
            data: what :meth:`to_json` wrote.
            quotas, pricing, clock: as for :class:`UsageMeter`.

        Raises:
            msgspec.ValidationError: ``data`` is not a usage report (a ``ValueError``).
        """
        report = msgspec.json.decode(data, type=UsageReport)
        meter = cls(quotas=quotas, pricing=pricing, clock=clock)
        with meter._lock:
            meter._since = report.since
            meter._requests = report.requests
            meter._models = _tallies(report.models)
            for window in (report.day, report.month):
                restored = _Window(window.period, window.start)
                restored.requests = window.requests
                restored.models = _tallies(window.models)
                if window.period == "day":
                    meter._day = restored
                else:
                    meter._month = restored
            meter._roll()
        return meter

    # --------------------------------------------------------------------------- writing

    def check(self) -> None:
        """Raise :class:`~sluice.QuotaExceededError` if a quota is used up; count nothing.

        For work the client does not send itself (a batch, say) before you start it.
        """
        with self._lock:
            self._check(self._roll())

    def admit(self) -> None:
        """Check the quotas and count a request about to be sent (the client calls this).

        Raises:
            QuotaExceededError: a quota is used up; the request is not counted.
        """
        with self._lock:
            self._check(self._roll())
            self._requests += 1
            self._day.requests += 1
            self._month.requests += 1

    def tally(self, on_output: Callable[[int], object] | None = None) -> UsageTally:
        """A tally for one response's usage as it grows (the client makes one per
        response); ``on_output`` is also told each increase of its output tokens (the
        client charges them to a configured ``output_tokens_per_minute``)."""
        return UsageTally(self, on_output)

    def record(self, model: str, usage: Usage, *, requests: int = 1) -> None:
        """Add usage the client did not see itself: a batch's results
        (``result.message.usage``), work of another process...

        Args:
            model: the model that used it (its price is looked up).
            usage: the token counts.
            requests: how many requests it counts as (in total, for the model, and for
                today's and this month's quotas).

        Message Batches are billed at half price, which the price table does not model: the
        cost recorded here is the standard one.
        """
        with self._lock:
            self._roll()
            self._requests += requests
            self._day.requests += requests
            self._month.requests += requests
            self._add(model, _counts(usage), requests)

    def reset(self) -> None:
        """Forget everything counted: totals, models, and the day's and month's use."""
        with self._lock:
            self._clear(self._now())

    # -------------------------------------------------------------------------- internal

    def _now(self) -> datetime:
        return datetime.fromtimestamp(self._clock(), UTC)

    def _roll(self) -> datetime:
        """The time now, after starting a new day or month if one began (lock held)."""
        now = self._now()
        for window in (self._day, self._month):
            start = _start_of(window.period, now)
            if start != window.start:
                window.start = start
                window.requests = 0
                window.models = {}
        return now

    def _add(self, model: str, counts: _Counts, requests: int) -> None:
        """Add ``counts`` to ``model`` everywhere (lock held, windows rolled)."""
        for tallies in (self._models, self._day.models, self._month.models):
            tally = tallies.get(model)
            if tally is None:
                tally = tallies[model] = _Tally()
            tally.add(counts, requests)
        if model not in self._warned and self._pricing.lookup(model) is None:
            self._warned.add(model)
            logger.warning(
                "usage: no price for model %r: its tokens are counted, its cost is not (nor "
                "by cost quotas); price it with UsageMeter(pricing={...})",
                model,
            )

    def _record_response(self, model: str, counts: _Counts, answered: bool) -> None:
        with self._lock:
            self._roll()
            self._add(model, counts, 1 if answered else 0)

    @staticmethod
    def _sum(tallies: Mapping[str, _Tally]) -> list[int]:
        total = list(_ZERO)
        for tally in tallies.values():
            for index, value in enumerate(tally.counts):
                total[index] += value
        return total

    def _cost(self, tallies: Mapping[str, _Tally]) -> float:
        total = 0.0
        for model, tally in tallies.items():
            price = self._pricing.lookup(model)
            if price is not None:
                total += price.cost(_usage(tally.counts))
        return total

    def _by_model(self, tallies: Mapping[str, _Tally]) -> dict[str, ModelUsage]:
        result = {}
        for model in sorted(tallies):
            tally = tallies[model]
            price = self._pricing.lookup(model)
            usage = _usage(tally.counts)
            result[model] = ModelUsage(
                requests=tally.requests,
                usage=usage,
                total_tokens=_tokens(tally.counts),
                cost=None if price is None else price.cost(usage),
                cache_savings=None if price is None else _savings(price, tally.counts),
            )
        return result

    def _window_report(self, window: _Window) -> UsageWindow:
        return UsageWindow(
            period=window.period,
            start=window.start,
            resets_at=window.resets_at,
            requests=window.requests,
            tokens=_tokens(self._sum(window.models)),
            cost=self._cost(window.models),
            models=self._by_model(window.models),
        )

    def _used(self, window: _Window, what: str) -> int | float:
        if what == "requests":
            return window.requests
        if what == "tokens":
            return _tokens(self._sum(window.models))
        return self._cost(window.models)

    def _statuses(self) -> list[QuotaStatus]:
        quotas = self._quotas
        if quotas is None:
            return []
        statuses = []
        for name, period, what in _QUOTAS:
            limit = getattr(quotas, name)
            if limit is None:
                continue
            window = self._day if period == "day" else self._month
            used = self._used(window, what)
            statuses.append(
                QuotaStatus(
                    quota=name,
                    limit=limit,
                    used=used,
                    remaining=max(limit - used, 0),
                    exceeded=used >= limit,
                    resets_at=window.resets_at,
                )
            )
        return statuses

    def _check(self, now: datetime) -> None:
        quotas = self._quotas
        if quotas is None:
            return
        refusal: QuotaExceededError | None = None
        for name, period, what in _QUOTAS:
            limit = getattr(quotas, name)
            if limit is None:
                continue
            window = self._day if period == "day" else self._month
            used = self._used(window, what)
            # Of the quotas used up, name the one that lasts longest: waiting for a new
            # day does not help when the month's is used up too.
            if used >= limit and (refusal is None or window.resets_at > refusal.resets_at):
                refusal = _exceeded(name, period, what, used, limit, window.resets_at, now)
        if refusal is not None:
            raise refusal


def _tallies(models: Mapping[str, ModelUsage]) -> dict[str, _Tally]:
    return {model: _Tally(_counts(usage.usage), usage.requests) for model, usage in models.items()}


def _amounts(what: str, used: float, limit: float) -> str:
    if what == "cost":
        return f"${used:,.4f} of ${limit:,.2f}"
    return f"{used:,} of {limit:,} {what}"


def _exceeded(
    name: str,
    period: Period,
    what: str,
    used: float,
    limit: float,
    resets_at: datetime,
    now: datetime,
) -> QuotaExceededError:
    this = "today" if period == "day" else "this month"
    left = resets_at - now
    hours, seconds = divmod(int(left.total_seconds()), 3600)
    return QuotaExceededError(
        f"quota {name} is used up: {_amounts(what, used, limit)} {this} (UTC), so the "
        f"request was not sent. It resets at {resets_at:%Y-%m-%d %H:%M} UTC (in {hours} h "
        f"{seconds // 60} min): wait, or raise the quota (QuotaSettings)",
        quota=name,
        used=used,
        limit=limit,
        resets_at=resets_at,
    )


class UsageTally:
    """One response's usage as it grows, recorded into a meter as it changes.

    A stream reports cumulative counts (``message_start``, then ``message_delta``):
    :meth:`update` records what changed since its last call, so each token counts once,
    as soon as it is reported. The first update counts the message as answered by its
    model.

    Args:
        meter: where to record.
        on_output: called with each increase of the output tokens.
    """

    __slots__ = ("_answered", "_meter", "_on_output", "_raw", "_seen")

    def __init__(self, meter: UsageMeter, on_output: Callable[[int], object] | None = None) -> None:
        self._meter = meter
        self._on_output = on_output
        self._seen: _Counts = _ZERO
        self._raw: tuple[Any, ...] = ()
        self._answered = False

    def update(self, message: Message | None) -> None:
        """Record what ``message``'s usage reports beyond the last update (``None``: no
        message yet, nothing to record)."""
        if message is None:
            return
        usage = message.usage
        # A stream calls this after every chunk, and usage changes twice a message: the
        # fields as they are, compared first, spare counting them again.
        raw = (
            usage.input_tokens,
            usage.output_tokens,
            usage.cache_creation_input_tokens,
            usage.cache_read_input_tokens,
            usage.cache_creation,
            usage.server_tool_use,
        )
        if raw == self._raw:
            return
        self._raw = raw
        counts = _counts(usage)
        seen = self._seen
        if counts == seen and self._answered:
            return
        delta: _Counts = (
            counts[0] - seen[0],
            counts[1] - seen[1],
            counts[2] - seen[2],
            counts[3] - seen[3],
            counts[4] - seen[4],
            counts[5] - seen[5],
            counts[6] - seen[6],
        )
        self._seen = counts
        model = message.model if isinstance(message.model, str) and message.model else "unknown"
        self._meter._record_response(model, delta, not self._answered)
        self._answered = True
        if self._on_output is not None and delta[1] > 0:
            self._on_output(delta[1])
