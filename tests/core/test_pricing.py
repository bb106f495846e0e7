"""The price table: lookup by alias and dated id, cost per kind of token, overrides."""

from __future__ import annotations

import pytest

import sluice
from sluice import Usage
from sluice.types import PRICING, CacheCreation, ModelPricing, PriceTable


class TestLookup:
    def test_aliases_and_dated_ids(self) -> None:
        """A dated id or a -latest alias is priced as its alias."""
        assert PRICING.lookup("claude-sonnet-4-5-20250929") is PRICING["claude-sonnet-4-5"]
        assert PRICING.lookup("claude-3-7-sonnet-latest") is PRICING["claude-3-7-sonnet"]
        assert PRICING.lookup("claude-opus-4-20250514") is PRICING["claude-opus-4"]

    def test_issue_examples(self) -> None:
        """Opus 4.5/4.6 cost $5/$25 and Haiku 3 $0.25/$1.25 per million tokens."""
        for model in ("claude-opus-4-5", "claude-opus-4-6", "claude-opus-4-5-20251101"):
            price = PRICING.lookup(model)
            assert price is not None and (price.input, price.output) == (5.0, 25.0)
        haiku = PRICING.lookup("claude-3-haiku-20240307")
        assert haiku is not None and (haiku.input, haiku.output) == (0.25, 1.25)
        assert (haiku.cache_write_5m, haiku.cache_write_1h, haiku.cache_read) == pytest.approx(
            (0.3125, 0.5, 0.025)
        )

    @pytest.mark.parametrize(
        ("model", "base"),
        [
            ("claude-fable-5-1", (10.0, 50.0)),
            ("claude-opus-5-5", (4.0, 20.0)),
            ("claude-opus-5", (5.0, 25.0)),
            ("claude-sonnet-5-5", (2.0, 10.0)),
            ("claude-sonnet-5", (2.0, 10.0)),
            ("claude-opus-4-8", (5.0, 25.0)),
            ("claude-sonnet-4-6", (3.0, 15.0)),
        ],
    )
    def test_the_current_lineup(self, model: str, base: tuple[float, float]) -> None:
        """Newer models at their published rates, cache at the usual multiples
        (Sonnet 5: $2.50 and $4 to write 5 minutes and an hour, $0.20 to read)."""
        price = PRICING.lookup(model)
        assert price is not None and (price.input, price.output) == base
        assert price.cache_read == pytest.approx(base[0] / 10)

    def test_a_tiered_price_is_left_out(self) -> None:
        """Haiku 5.5 is priced by tier ("from $0.10"): no single rate, so none here."""
        assert PRICING.lookup("claude-haiku-5-5") is None

    def test_unknown_model_is_never_guessed(self) -> None:
        """A model the table does not know has no price, even if a prefix matches."""
        assert PRICING.lookup("claude-opus-4-7") is None
        assert PRICING.cost(Usage(input_tokens=1), "gpt-5") is None

    def test_overrides_make_a_new_table(self) -> None:
        """with_prices adds or replaces models and leaves PRICING as it was."""
        table = PRICING.with_prices(
            {
                "claude-next": {
                    "input": 1,
                    "output": 2,
                    "cache_write_5m": 3,
                    "cache_write_1h": 4,
                    "cache_read": 5,
                }
            }
        )
        assert isinstance(table, PriceTable) and "claude-next" in table
        assert table["claude-next"] == ModelPricing(
            input=1, output=2, cache_write_5m=3, cache_write_1h=4, cache_read=5
        )
        assert "claude-next" not in PRICING
        assert len(table) == len(PRICING) + 1

    @pytest.mark.parametrize(
        ("price", "why"),
        [
            ({"input": 1, "output": 2}, "cache_write_5m"),
            (
                {
                    "input": "cheap",
                    "output": 2,
                    "cache_write_5m": 0,
                    "cache_write_1h": 0,
                    "cache_read": 0,
                },
                "Expected `float`, got `str`",
            ),
            (5.0, "Expected `object`, got `float`"),
        ],
    )
    def test_a_bad_price_is_a_params_error(self, price: object, why: str) -> None:
        """A price that is not a ModelPricing nor a mapping of its fields is a ParamsError
        (also a ValueError) naming the model and what is wrong."""
        with pytest.raises(sluice.ParamsError, match="claude-next") as caught:
            PRICING.with_prices({"claude-next": price})  # type: ignore[dict-item]
        assert why in str(caught.value) and caught.value.field == "pricing"
        assert isinstance(caught.value, ValueError)


class TestCost:
    def test_each_kind_at_its_rate(self) -> None:
        """Input, output, 5-minute and 1-hour cache writes and cache reads each have a rate."""
        price = ModelPricing(
            input=1, output=10, cache_write_5m=100, cache_write_1h=1000, cache_read=0.5
        )
        usage = Usage(
            input_tokens=1_000_000,
            output_tokens=1_000_000,
            cache_creation_input_tokens=3_000_000,
            cache_read_input_tokens=2_000_000,
            cache_creation=CacheCreation(
                ephemeral_5m_input_tokens=1_000_000, ephemeral_1h_input_tokens=2_000_000
            ),
        )
        assert price.cost(usage) == pytest.approx(1 + 10 + 100 + 2000 + 1)

    def test_cache_writes_without_breakdown_are_5_minute(self) -> None:
        """Cache writes with no TTL breakdown are priced at the 5-minute rate."""
        price = ModelPricing.from_base(3.0, 15.0)
        usage = Usage(input_tokens=0, output_tokens=0, cache_creation_input_tokens=1_000_000)
        assert price.cost(usage) == pytest.approx(3.75)

    def test_from_base_applies_the_cache_multipliers(self) -> None:
        """Cache writes cost 1.25x and 2x the input price, reads 0.1x."""
        price = ModelPricing.from_base(5.0, 25.0)
        assert (price.cache_write_5m, price.cache_write_1h, price.cache_read) == (6.25, 10.0, 0.5)
