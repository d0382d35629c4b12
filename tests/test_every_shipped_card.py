"""One priced row per shipped card and currency, checked against the card file's own cell
(issue #14): a marketing template delivered the day after the card takes effect, by a WABA
billed in the card's currency, to a user of the file's first market with a marketing rate."""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

import pandas as pd
import pytest

import waconv
from waconv.pricing.markets import market_reference

CARDS = Path(__file__).resolve().parent.parent / "python" / "waconv" / "pricing" / "data" / "rate_cards"
SHIPPED = sorted(CARDS.glob("*.csv")) + sorted((CARDS / "local").glob("*.csv"))


def first_marketing_cell(path: Path) -> tuple[str, str, float]:
    """(currency, market, rate) of the first row with a marketing rate, read with csv alone."""
    with path.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    start = next(i for i, row in enumerate(rows) if row and row[0] == "Market")
    marketing = rows[start].index("Marketing")
    row = next(r for r in rows[start + 1:] if r and r[marketing] not in ("", "n/a"))
    return row[1], row[0], float(row[marketing].replace(",", ""))


def a_country_of(market: str, day: dt.date) -> str:
    reference = market_reference()
    # Not the US: marketing to US numbers is paused from 2025-04-01.
    return next(c for c in sorted(reference.countries) if c != "US" and reference.market(c, day) == market)


def test_every_shipped_card_is_here():
    assert len(SHIPPED) == 17


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.name)
def test_a_row_priced_by_each_shipped_card_costs_its_cell(path):
    currency, market, rate = first_marketing_cell(path)
    currency = {"$US": "USD"}.get(currency, currency)
    effective = dt.date.fromisoformat(path.stem.split("_")[1])
    day = effective + dt.timedelta(days=1)
    at = pd.Timestamp(day, tz="UTC") + pd.Timedelta(hours=12)
    frame = pd.DataFrame({"business": ["b"], "waba": ["w"], "user": ["u1"], "user_country": [a_country_of(market, day)],
                          "timestamp": [at], "direction": ["outbound"], "template_category": ["marketing"],
                          "delivered_at": [at]})
    m = waconv.classify(frame, currencies={"w": currency}).messages
    assert m.market.iloc[0] == market
    assert m.cost.iloc[0] == rate
    assert m.currency.iloc[0] == currency
    assert m.rate_card.iloc[0].split(" ")[0] == currency
    assert m.rate_card.iloc[0].endswith(effective.isoformat())
