"""Volume tiers for PMP utility and authentication messages (docs/rules.md §Volume tiers).

Meta's boundaries were not published in a verifiable form, so waconv ships none: you pass
your own table, as a CSV file or a DataFrame with these columns (one row per band)::

    Market,Category,Tier,Rate
    India,utility,0:750000,0.0014
    India,utility,750001:15000000,0.0013
    India,utility,15000001:MAX,0.0012
    India,authentication,0:750000,0.0014

Tier is written as Meta writes it (``"<LOWER>:<UPPER>"`` inclusive, ``MAX`` open-ended;
Meta starts the first band at 0). Category is ``utility``, ``authentication`` or
``authentication_international`` (the last two share one count). Rates are absolute
per-message rates in the rate cards' currency. Bands of one market and category must not
overlap.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from os import PathLike
from pathlib import Path
from typing import Any, Union

from waconv._errors import InputError
from waconv.pricing.markets import market_reference

MAX = 2**63 - 1
CATEGORIES = ("utility", "authentication", "authentication_international")
_TIER = re.compile(r"^\s*(\d+)\s*:\s*(\d+|MAX)\s*$", re.IGNORECASE)


@dataclass(frozen=True)
class Band:
    market: str
    category: str
    lower: int
    upper: int
    rate: float
    label: str


@dataclass(frozen=True)
class TierTable:
    bands: tuple[Band, ...]
    source: str = "user"

    @classmethod
    def from_csv(cls, source: Union[str, PathLike, io.TextIOBase]) -> TierTable:
        name = str(source) if not isinstance(source, io.TextIOBase) else getattr(source, "name", "<stream>")
        text = Path(source).read_text(encoding="utf-8-sig") if not isinstance(source, io.TextIOBase) else source.read()
        reader = csv.DictReader(io.StringIO(text))
        rows = [(reader.line_num, row) for row in reader]
        return cls(_bands(rows, name), name)

    @classmethod
    def from_frame(cls, frame: Any) -> TierTable:
        rows = [(i + 2, {str(k): str(v) for k, v in row.items()}) for i, row in enumerate(frame.to_dict("records"))]
        return cls(_bands(rows, "<DataFrame>"), "<DataFrame>")


def _bands(rows: list[tuple[int, dict[str, str]]], name: str) -> tuple[Band, ...]:
    markets = set(market_reference().markets)
    bands: list[tuple[int, Band]] = []
    for line, row in rows:
        cells = {k.strip().lower(): (v or "").strip() for k, v in row.items() if k}
        for column in ("market", "category", "tier", "rate"):
            if column not in cells:
                raise InputError(column, None, "column is required in a tier table", file=name)
        if cells["market"] not in markets:
            raise InputError("Market", line, f"unknown market {cells['market']!r}", file=name)
        category = re.sub(r"[\s\-]+", "_", cells["category"].lower())
        if category not in CATEGORIES:
            raise InputError("Category", line, f"tiers apply to {', '.join(CATEGORIES)}, not {cells['category']!r}",
                             file=name)
        match = _TIER.match(cells["tier"])
        if not match:
            raise InputError("Tier", line, f"tier {cells['tier']!r} is not '<lower>:<upper>' or '<lower>:MAX'",
                             file=name)
        lower = int(match.group(1))
        upper = MAX if match.group(2).upper() == "MAX" else int(match.group(2))
        if upper < lower:
            raise InputError("Tier", line, f"tier {cells['tier']!r} ends before it starts", file=name)
        try:
            rate = float(cells["rate"].replace("$", ""))
        except ValueError:
            raise InputError("Rate", line, f"rate {cells['rate']!r} is not a number", file=name) from None
        label = f"{lower}:{'MAX' if upper == MAX else upper}"
        bands.append((line, Band(cells["market"], category, lower, upper, rate, label)))
    _check_overlaps(bands, name)
    return tuple(b for _, b in bands)


def _check_overlaps(bands: list[tuple[int, Band]], name: str) -> None:
    ordered = sorted(bands, key=lambda lb: (lb[1].market, lb[1].category, lb[1].lower))
    for (_, a), (line, b) in zip(ordered, ordered[1:]):
        # Meta's first band is written 0:N and means messages 1..N: 0 and 1 start the same band.
        if (a.market, a.category) == (b.market, b.category) and max(b.lower, 1) <= a.upper:
            raise InputError("Tier", line, f"tier {b.label} overlaps tier {a.label} of {b.market} {b.category}",
                             file=name)


def as_tier_table(value: Any) -> TierTable | None:
    if value is None or isinstance(value, TierTable):
        return value
    if isinstance(value, (str, PathLike, io.TextIOBase)):
        return TierTable.from_csv(value)
    if hasattr(value, "to_dict"):
        return TierTable.from_frame(value)
    raise InputError("volume_tiers", None, "expected a CSV path, a DataFrame or a TierTable")
