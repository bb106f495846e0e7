"""What tokens cost: a per-model price table, usage summed across requests, priced.

Prices are US dollars per million tokens, from Anthropic's public pricing page: input,
output, cache writes (5-minute and 1-hour TTL, 1.25x and 2x the input price) and cache
reads (0.1x the input price). :data:`PRICING` holds the models this version knows;
:class:`PriceTable` looks a model up by its alias or its dated id
(``claude-sonnet-4-5-20250929`` is priced as ``claude-sonnet-4-5``) and never guesses a
price for a model it does not know: a new model costs ``None`` until you add it
(``PRICING.with_prices({"claude-next": ModelPricing(...)})``).

Not modelled: server tool fees (web search is billed per search), long-context surcharges
(Sonnet's 1M-token beta above 200K input tokens), batch discounts and regional endpoints.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any, TypeVar

import msgspec
from msgspec import UNSET

from ._exceptions import ParamsError
from ._message import CacheCreation, Usage

__all__ = ["PRICING", "ModelPricing", "PriceTable", "add_usage", "total_tokens"]

_PER = 1_000_000


class ModelPricing(msgspec.Struct, frozen=True, kw_only=True):
    """The prices of one model, in US dollars per million tokens.

    Attributes:
        input: uncached input tokens.
        output: output tokens (thinking included).
        cache_write_5m: input tokens written to the cache with the default 5-minute TTL.
        cache_write_1h: input tokens written to the cache with the 1-hour TTL.
        cache_read: input tokens read from the cache.
    """

    input: float
    output: float
    cache_write_5m: float
    cache_write_1h: float
    cache_read: float

    @classmethod
    def from_base(cls, input: float, output: float) -> ModelPricing:
        """Prices with the cache rates Anthropic applies to every model: writes at 1.25x
        (5 minutes) and 2x (1 hour) the input price, reads at 0.1x."""
        return cls(
            input=input,
            output=output,
            cache_write_5m=input * 1.25,
            cache_write_1h=input * 2,
            cache_read=input / 10,
        )

    def cost(self, usage: Usage) -> float:
        """The cost of ``usage`` in US dollars, each kind of token at its own rate.

        Cache writes are split by TTL when the usage says how (``cache_creation``); without
        that breakdown they are priced at the 5-minute rate.
        """
        write_5m, write_1h = _cache_writes(usage)
        return (
            usage.input_tokens * self.input
            + usage.output_tokens * self.output
            + write_5m * self.cache_write_5m
            + write_1h * self.cache_write_1h
            + _count(usage.cache_read_input_tokens) * self.cache_read
        ) / _PER


# A dated model id ends in -YYYYMMDD (claude-opus-4-5-20251101); aliases may end in -latest.
_VERSION_SUFFIX = re.compile(r"-(?:\d{8}|latest)$")


class PriceTable(Mapping[str, ModelPricing]):
    """Model prices by model name: a read-only mapping with lookup by dated id.

    Args:
        prices: model name (an alias such as ``claude-sonnet-4-5``) -> prices, as
            :class:`ModelPricing` or a mapping of its fields.

    Raises:
        ParamsError: a price is neither (``field`` is ``"pricing"``; the message names the
            model and says what is wrong). Also a ``ValueError``.
    """

    __slots__ = ("_prices",)

    def __init__(self, prices: Mapping[str, ModelPricing | Mapping[str, float]]) -> None:
        if not isinstance(prices, Mapping):
            raise ParamsError(
                f"prices must be a mapping of model name to price, not {type(prices).__name__}",
                field="pricing",
            )
        self._prices: dict[str, ModelPricing] = {
            name: _price(name, price) for name, price in prices.items()
        }

    def __getitem__(self, model: str) -> ModelPricing:
        return self._prices[model]

    def __iter__(self) -> Iterator[str]:
        return iter(self._prices)

    def __len__(self) -> int:
        return len(self._prices)

    def __repr__(self) -> str:
        return f"<PriceTable of {len(self._prices)} models>"

    def lookup(self, model: str) -> ModelPricing | None:
        """The prices of ``model``: by its exact name, else without a ``-YYYYMMDD`` or
        ``-latest`` suffix; ``None`` for a model the table does not know (never a guess
        from a similar name: ``claude-opus-4-7`` is not priced as ``claude-opus-4``)."""
        price = self._prices.get(model)
        if price is None:
            price = self._prices.get(_VERSION_SUFFIX.sub("", model))
        return price

    def cost(self, usage: Usage, model: str) -> float | None:
        """The cost of ``usage`` on ``model`` in US dollars; ``None`` if it is not priced."""
        price = self.lookup(model)
        return None if price is None else price.cost(usage)

    def with_prices(self, prices: Mapping[str, ModelPricing | Mapping[str, float]]) -> PriceTable:
        """A new table: this one with ``prices`` added or replaced.

        Raises:
            ParamsError: a price is not valid (see :class:`PriceTable`).
        """
        if not isinstance(prices, Mapping):
            return PriceTable(prices)  # raises: says what it must be
        return PriceTable({**self._prices, **prices})


def _price(model: str, price: ModelPricing | Mapping[str, float]) -> ModelPricing:
    """``price`` as :class:`ModelPricing`; a ``ParamsError`` saying what is wrong."""
    if isinstance(price, ModelPricing):
        return price
    try:
        return msgspec.convert(price, ModelPricing)
    except msgspec.ValidationError as exc:
        raise ParamsError(
            f"the price of {model!r} is not valid: {exc}. Pass sluice.types.ModelPricing(...) "
            "or a mapping of its fields: input, output, cache_write_5m, cache_write_1h, "
            "cache_read (US dollars per million tokens)",
            field="pricing",
        ) from exc


#: The prices this version of sluice knows (US dollars per million tokens), from each
#: model's page of the API documentation; a model whose price is not published as one
#: rate (tiered) is left out rather than guessed.
PRICING = PriceTable(
    {
        "claude-fable-5-1": ModelPricing.from_base(10.0, 50.0),
        "claude-fable-5": ModelPricing.from_base(10.0, 50.0),
        "claude-mythos-5": ModelPricing.from_base(10.0, 50.0),
        "claude-opus-5-5": ModelPricing.from_base(4.0, 20.0),
        "claude-opus-5": ModelPricing.from_base(5.0, 25.0),
        "claude-sonnet-5-5": ModelPricing.from_base(2.0, 10.0),
        "claude-sonnet-5": ModelPricing.from_base(2.0, 10.0),
        "claude-opus-4-8": ModelPricing.from_base(5.0, 25.0),
        "claude-sonnet-4-6": ModelPricing.from_base(3.0, 15.0),
        "claude-opus-4-6": ModelPricing.from_base(5.0, 25.0),
        "claude-opus-4-5": ModelPricing.from_base(5.0, 25.0),
        "claude-opus-4-1": ModelPricing.from_base(15.0, 75.0),
        "claude-opus-4-0": ModelPricing.from_base(15.0, 75.0),
        "claude-opus-4": ModelPricing.from_base(15.0, 75.0),
        "claude-sonnet-4-5": ModelPricing.from_base(3.0, 15.0),
        "claude-sonnet-4-0": ModelPricing.from_base(3.0, 15.0),
        "claude-sonnet-4": ModelPricing.from_base(3.0, 15.0),
        "claude-3-7-sonnet": ModelPricing.from_base(3.0, 15.0),
        "claude-3-5-sonnet": ModelPricing.from_base(3.0, 15.0),
        "claude-haiku-4-5": ModelPricing.from_base(1.0, 5.0),
        "claude-3-5-haiku": ModelPricing.from_base(0.8, 4.0),
        "claude-3-opus": ModelPricing.from_base(15.0, 75.0),
        "claude-3-haiku": ModelPricing.from_base(0.25, 1.25),
    }
)


# ----------------------------------------------------------------------------- usage


def _count(value: Any) -> int:
    # Absent counters are UNSET or None: both count as 0.
    return value if isinstance(value, int) else 0


def _cache_writes(usage: Usage) -> tuple[int, int]:
    """Cache-write tokens at the 5-minute and the 1-hour TTL."""
    total = _count(usage.cache_creation_input_tokens)
    detail = usage.cache_creation
    if isinstance(detail, CacheCreation):
        write_1h = _count(detail.ephemeral_1h_input_tokens)
        write_5m = _count(detail.ephemeral_5m_input_tokens)
        # Anything the breakdown does not account for is priced at the default TTL.
        return max(write_5m, total - write_1h), write_1h
    return total, 0


def total_tokens(usage: Usage) -> int:
    """Every token of ``usage``: input (uncached, cache writes and reads) and output."""
    write_5m, write_1h = _cache_writes(usage)
    return (
        usage.input_tokens
        + usage.output_tokens
        + write_5m
        + write_1h
        + _count(usage.cache_read_input_tokens)
    )


S = TypeVar("S", bound=msgspec.Struct)


def add_usage(first: S, second: S) -> S:
    """``first`` and ``second`` (usage structs of one type, such as
    :class:`~sluice.Usage`) with every numeric counter summed, nested ones too
    (``cache_creation``, ``server_tool_use``...); absent counters count as 0, other
    fields (``service_tier``...) are ``second``'s, or ``first``'s where ``second`` has
    none. What a run sums over its steps and a recovered stream over its attempts."""
    changes = {}
    for name in first.__struct_fields__:
        a, b = getattr(first, name), getattr(second, name)
        if a is UNSET or a is None:
            continue
        if b is UNSET or b is None:
            changes[name] = a
        elif type(a) is int and type(b) is int:
            changes[name] = a + b
        elif isinstance(a, msgspec.Struct) and type(a) is type(b):
            changes[name] = add_usage(a, b)
    return msgspec.structs.replace(second, **changes)
