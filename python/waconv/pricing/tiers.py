"""Volume tiers for PMP utility and authentication messages (docs/rules.md §Volume tiers).

waconv ships Meta's own USD table effective 2026-04-01 (``data/volume_tiers/``) and applies
it by default from that date (``volume_tiers=True``); no table of Meta's before it is public.
``volume_tiers=None`` (or False) turns tiers off. You may pass your own table instead, as a
CSV file or a DataFrame with these columns (one row per band), or Meta's file as it is
(below); it then applies at every date::

    Market,Category,Tier,Rate
    India,utility,0:750000,0.0014
    India,utility,750001:15000000,0.0013
    India,utility,15000001:MAX,0.0012
    India,authentication,0:750000,0.0014

Tier is written as Meta writes it (``"<LOWER>:<UPPER>"`` inclusive, ``MAX`` open-ended;
Meta starts the first band at 0). Category is ``utility``, ``authentication`` or
``authentication_international`` (the last two share one count). Rates are absolute
per-message rates in the rate cards' currency (finite and non-negative, as in a rate card;
files in UTF-8). Bands of one market and category must cover every monthly count once,
from 0 (or 1) to MAX, with no gap or overlap; bounds are at most 2**63 - 1, the core's count.

Meta's own tier CSV is read too (``usd_volume_tiers_2026-04-01.csv``): a title and notes,
a row of section labels (Utility, Authentication, Authentication-International), then the
header ``Market (per rate card),Currency,From,To,Rate type,Rate,vs. List rate`` with the
last five columns once per section; one row per band, the market named on its first band
only, bounds with thousands separators (``"100,001"``), ``--`` for an open top band and
``n/a`` in every cell of a section that does not apply. "Rate type" and "vs. List rate"
are not read: the Rate column is the rate.

A long layout, one row per band numbered from 0 with its inclusive upper bound (blank for
the open top band), is read too: ``market,currency,category,band,up_to,rate`` (the INR
table of 2026-10-01 shipped in ``data/volume_tiers/`` is in it).
"""

from __future__ import annotations

import datetime as dt
import io
import math
import re
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from os import PathLike
from pathlib import Path
from typing import Any, Union

from waconv._errors import InputError
from waconv.pricing.markets import market_reference
from waconv.pricing.rate_cards import (
    check_row_width,
    check_source,
    check_unique_header,
    csv_rows,
    currency_code,
    parse_rate,
    read_source,
    shown,
)

MAX = 2**63 - 1  # the core counts in int64
CATEGORIES = ("utility", "authentication", "authentication_international")
REQUIRED = ("market", "category", "tier", "rate")
_TIER = re.compile(r"^\s*([+-]?\d+)\s*:\s*([+-]?\d+|MAX)\s*$", re.IGNORECASE)
_FRAME = "<DataFrame>"


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
        text, name = read_source(source, "source")
        rows = [(line, row) for line, row in csv_rows(text, name) if any(cell.strip() for cell in row)]
        if not rows:
            raise InputError(None, None, "no header line (Market,Category,Tier,Rate)", file=name)
        meta = next((i for i, (_, row) in enumerate(rows) if _is_meta_header(row)), None)
        if meta is not None:
            return cls(_meta_bands(rows, meta, name), name)
        (header_line, header), body = rows[0], rows[1:]
        if {cell.strip().lower() for cell in header} >= set(_LONG):
            return cls(_long_bands(header, header_line, body, name), name)
        return cls(_bands(header, header_line, body, name), name)

    @classmethod
    def from_frame(cls, frame: Any) -> TierTable:
        import pandas as pd

        if not isinstance(frame, pd.DataFrame):
            raise InputError("volume_tiers", None, f"expected a pandas DataFrame, got {_type_name(frame)}")
        header = [str(column) for column in frame.columns]
        # Lines as a CSV file of the frame would number them: the header is line 1.
        columns = [_column_text(frame.iloc[:, j], header[j]) for j in range(len(header))]
        body = [(i + 2, list(cells)) for i, cells in enumerate(zip(*columns))]
        return cls(_bands(header, None, body, _FRAME), _FRAME)


def _column_text(column: Any, name: str) -> list[str]:
    """A frame column as the cells a CSV file would hold: "" where it is missing, and each
    number as its own dtype prints it (a float32 0.002 is "0.002", not 0.0020000000949949026)."""
    try:
        text = column.astype(str)
    except ValueError:  # an int longer than Python prints (4,300 digits)
        for i, value in enumerate(column):
            try:
                str(value)
            except ValueError:
                raise InputError(name, i + 2, "a number with more digits than Python prints", file=_FRAME) from None
        raise
    return ["" if missing else value for value, missing in zip(text.tolist(), column.isna().tolist())]


def _type_name(value: Any) -> str:
    kind = type(value)
    module = kind.__module__.split(".")[0]
    return kind.__qualname__ if module == "builtins" else f"{module}.{kind.__qualname__}"


def _check_header(header: list[str], line: int | None, name: str) -> list[str]:
    normalised = [cell.strip().lower() for cell in header]
    check_unique_header(normalised, line, name)
    for column in REQUIRED:
        if column not in normalised:
            raise InputError(column, line, "column is required in a tier table", file=name)
    return normalised


def _bands(header: list[str], header_line: int | None, body: list[tuple[int, list[str]]],
           name: str) -> tuple[Band, ...]:
    columns = _check_header(header, header_line, name)
    position = {column: columns.index(column) for column in REQUIRED}
    markets = set(market_reference().markets)
    bands: list[tuple[int, Band]] = []
    for line, row in body:
        if not any(cell.strip() for cell in row):
            continue
        check_row_width(row, header, line, name)
        cells = {column: (row[i].strip() if i < len(row) else "") for column, i in position.items()}
        if cells["market"] not in markets:
            raise InputError("Market", line, f"unknown market {shown(cells['market'])}", file=name)
        category = re.sub(r"[\s\-]+", "_", cells["category"].lower())
        if category not in CATEGORIES:
            raise InputError("Category", line, f"tiers apply to {', '.join(CATEGORIES)}, not "
                             f"{shown(cells['category'])}", file=name)
        lower, upper = _tier(cells["tier"], name, line)
        rate = parse_rate(cells["rate"], name, line, "Rate")
        if math.isnan(rate):
            raise InputError("Rate", line, f"rate {shown(cells['rate'])}: a tier band needs a rate", file=name)
        label = f"{lower}:{'MAX' if upper == MAX else upper}"
        bands.append((line, Band(cells["market"], category, lower, upper, rate, label)))
    _check_overlaps(bands, name)
    return tuple(b for _, b in bands)


_LONG = ("market", "category", "band", "up_to", "rate")


def _long_bands(header: list[str], header_line: int, body: list[tuple[int, list[str]]],
                name: str) -> tuple[Band, ...]:
    """Bands numbered 0, 1, ... per market and category, each from the last one's bound + 1."""
    columns = [cell.strip().lower() for cell in header]
    check_unique_header(columns, header_line, name)
    position = {column: columns.index(column) for column in _LONG}
    markets = set(market_reference().markets)
    last: dict[tuple[str, str], tuple[int, int]] = {}  # (market, category) -> (band, upper)
    bands: list[tuple[int, Band]] = []
    for line, row in body:
        check_row_width(row, header, line, name)
        cells = {column: (row[i].strip() if i < len(row) else "") for column, i in position.items()}
        market, category = cells["market"], _category(cells["category"])
        if market not in markets:
            raise InputError("market", line, f"unknown market {shown(market)}", file=name)
        if category not in CATEGORIES:
            raise InputError("category", line, f"tiers apply to {', '.join(CATEGORIES)}, not "
                             f"{shown(cells['category'])}", file=name)
        number, upper_previous = last.get((market, category), (-1, -1))
        if upper_previous == MAX:
            raise InputError("band", line, f"a band after the open top band of {market} {category}", file=name)
        if cells["band"] != str(number + 1):
            raise InputError("band", line, f"band {shown(cells['band'])} of {market} {category}: expected "
                             f"{number + 1} (bands are numbered from 0 in order)", file=name)
        lower = upper_previous + 1 if number >= 0 else 0
        upper = MAX if not cells["up_to"] else _bound(cells["up_to"], cells["up_to"], name, line)
        if upper < max(lower, 1):
            raise InputError("up_to", line, f"band {number + 1} of {market} {category} ends at {upper}, before it "
                             f"starts ({lower})", file=name)
        rate = parse_rate(cells["rate"], name, line, "rate")
        if math.isnan(rate):
            raise InputError("rate", line, f"rate {shown(cells['rate'])}: a tier band needs a rate", file=name)
        last[(market, category)] = (number + 1, upper)
        bands.append((line, Band(market, category, lower, upper, rate, f"{lower}:{'MAX' if upper == MAX else upper}")))
    if not bands:
        raise InputError(None, header_line, "no tier band below the header", file=name)
    return tuple(b for _, b in bands)


def _is_meta_header(row: list[str]) -> bool:
    """Meta's header: "Market\n(per rate card)", Currency, then From, To, ... per section."""
    cells = [cell.strip().lower() for cell in row]
    return bool(cells) and cells[0].startswith("market") and "from" in cells and "to" in cells


_META_FIELDS = ("from", "to", "rate type", "rate", "vs. list rate")
_GROUPED_COUNT = re.compile(r"\d{1,3}(?:,\d{3})+|\d+")


def _meta_bands(rows: list[tuple[int, list[str]]], at: int, name: str) -> tuple[Band, ...]:
    header_line, header = rows[at]
    cells = [cell.strip().lower() for cell in header]
    starts = [j for j, cell in enumerate(cells) if cell == "from"]
    for j in starts:
        if tuple(cells[j:j + 5]) != _META_FIELDS:
            raise InputError(None, header_line, "Meta's tier header repeats From, To, Rate type, Rate, "
                             f"vs. List rate per category; column {j + 1} starts {header[j:j + 5]!r}", file=name)
    # The section labels (Utility, Authentication, ...) sit above each section's From column.
    labels = next((row for _, row in reversed(rows[:at])
                   if any(_category(cell) in CATEGORIES for cell in row)), None)
    if labels is None:
        raise InputError(None, header_line, "no row of section labels (Utility, Authentication, ...) above "
                         "the header", file=name)
    sections = []
    for j in starts:
        category = _category(labels[j]) if j < len(labels) else ""
        if category not in CATEGORIES:
            raise InputError(None, header_line, f"column {j + 1}: section {shown(labels[j] if j < len(labels) else '')}"
                             f" is not one of {', '.join(CATEGORIES)}", file=name)
        sections.append((j, category, labels[j].strip()))
    if len({c for _, c, _ in sections}) != len(sections):
        raise InputError(None, header_line, "a category has two sections", file=name)
    markets = set(market_reference().markets)
    market = ""
    bands: list[tuple[int, Band]] = []
    for line, row in rows[at + 1:]:
        check_row_width(row, header, line, name)
        row = row + [""] * (len(header) - len(row))
        if row[0].strip():
            market = row[0].strip()
            if market not in markets:
                raise InputError("Market", line, f"unknown market {shown(market)}", file=name)
        elif not market:
            raise InputError("Market", line, "a band before any market is named", file=name)
        for j, category, label in sections:
            lower_cell, upper_cell, _, rate_cell, _ = (cell.strip() for cell in row[j:j + 5])
            if all(cell.strip().lower() in ("", "n/a") for cell in row[j:j + 5]):
                continue  # no such rate in this market (auth-international outside its markets)
            lower = _meta_bound(lower_cell, f"{label} {header[j]}", name, line, open_ended=False)
            upper = _meta_bound(upper_cell, f"{label} {header[j + 1]}", name, line, open_ended=True)
            if upper < lower:
                raise InputError(f"{label} {header[j + 1]}", line, f"band {shown(lower_cell)} to {shown(upper_cell)} ends "
                                 "before it starts", file=name)
            rate = parse_rate(rate_cell, name, line, f"{label} Rate")
            if math.isnan(rate):
                raise InputError(f"{label} Rate", line, f"rate {shown(rate_cell)}: a tier band needs a rate",
                                 file=name)
            tier = f"{lower}:{'MAX' if upper == MAX else upper}"
            bands.append((line, Band(market, category, lower, upper, rate, tier)))
    if not bands:
        raise InputError(None, header_line, "no tier band below the header", file=name)
    _check_overlaps(bands, name)
    return tuple(b for _, b in bands)


def _category(cell: str) -> str:
    return re.sub(r"[\s\-]+", "_", cell.strip().lower())


def _meta_bound(cell: str, column: str, name: str, line: int, open_ended: bool) -> int:
    if open_ended and cell in ("--", "-", "—"):
        return MAX
    if not _GROUPED_COUNT.fullmatch(cell):
        raise InputError(column, line, f"message count {shown(cell)} is not a whole number"
                         + (" or '--'" if open_ended else ""), file=name)
    return _bound(cell.replace(",", ""), cell, name, line)


def _tier(cell: str, name: str, line: int) -> tuple[int, int]:
    match = _TIER.match(cell)
    if not match:
        raise InputError("Tier", line, f"tier {shown(cell)} is not '<lower>:<upper>' or '<lower>:MAX'", file=name)
    lower, upper = (_bound(match.group(k), cell, name, line) for k in (1, 2))
    if upper < lower:
        raise InputError("Tier", line, f"tier {shown(cell)} ends before it starts", file=name)
    return lower, upper


def _bound(text: str, cell: str, name: str, line: int) -> int:
    if text.upper() == "MAX":
        return MAX
    digits = text.lstrip("+-").lstrip("0") or "0"
    if text.startswith("-") and digits != "0":
        raise InputError("Tier", line, f"tier {shown(cell)} has a negative bound; counts start at 0", file=name)
    # The length test comes first: int() refuses strings of over 4,300 digits.
    if len(digits) > len(str(MAX)) or int(digits) > MAX:
        raise InputError("Tier", line, f"tier {shown(cell)} has a bound larger than {MAX}; write MAX for an "
                         "open-ended band", file=name)
    return int(digits)


def _check_overlaps(bands: list[tuple[int, Band]], name: str) -> None:
    """Each market and category's bands must cover every monthly count, 1 to MAX, once: a
    count no band covers would be priced at the list rate without a word."""
    ordered = sorted(bands, key=lambda lb: (lb[1].market, lb[1].category, lb[1].lower))
    for k, (line, b) in enumerate(ordered):
        a = ordered[k - 1][1] if k else None
        if a is None or (a.market, a.category) != (b.market, b.category):
            # Meta's first band is written 0:N and means messages 1..N: 0 and 1 start the same band.
            if b.lower > 1:
                raise InputError("Tier", line, f"the first tier of {b.market} {b.category} is {b.label}: counts "
                                 f"1 to {b.lower - 1} would have no tier; start it at 0", file=name)
        elif max(b.lower, 1) <= a.upper:
            raise InputError("Tier", line, f"tier {b.label} overlaps tier {a.label} of {b.market} {b.category}",
                             file=name)
        elif b.lower > a.upper + 1:
            raise InputError("Tier", line, f"tier {b.label} leaves a gap after tier {a.label} of {b.market} "
                             f"{b.category}: counts {a.upper + 1} to {b.lower - 1} would have no tier", file=name)
        last = k + 1 == len(ordered) or (ordered[k + 1][1].market, ordered[k + 1][1].category) != (b.market, b.category)
        if last and b.upper != MAX:
            raise InputError("Tier", line, f"the last tier of {b.market} {b.category} is {b.label}: counts above "
                             f"{b.upper} would have no tier; end it at MAX", file=name)


def as_tier_table(value: Any) -> TierTable | None:
    import pandas as pd

    if value is None or isinstance(value, TierTable):
        return value
    if isinstance(value, pd.DataFrame):
        return TierTable.from_frame(value)
    if isinstance(value, io.IOBase):
        check_source(value, "volume_tiers")  # binary streams: ask for text mode
    if isinstance(value, (str, PathLike, io.TextIOBase)):
        return TierTable.from_csv(value)
    raise InputError("volume_tiers", None, "expected a CSV path, a text stream, a pandas DataFrame or a TierTable, "
                     f"got {_type_name(value)}")


def tier_choice(value: Any) -> TierTable | bool:
    """volume_tiers= as True (Meta's shipped tables, by date), False (no tiers) or a user table."""
    if value is True:
        return True
    if value is None or value is False:
        return False
    if isinstance(value, (int, float)):  # volume_tiers=1 is a slip, not a table or a switch
        raise InputError("volume_tiers", None, f"expected True, False/None or a tier table, got {value!r}")
    table = as_tier_table(value)
    assert table is not None
    return table


@dataclass(frozen=True)
class DatedTiers:
    """A shipped tier table: Meta's bands for one currency from its effective date (WABA-local)."""

    currency: str
    effective: dt.date
    table: TierTable


@lru_cache(maxsize=1)
def shipped_tiers() -> tuple[DatedTiers, ...]:
    """The tables in ``data/volume_tiers/``, named ``<currency>_<YYYY-MM-DD>.csv``, by date."""
    folder = resources.files("waconv.pricing") / "data" / "volume_tiers"
    found = []
    for entry in folder.iterdir():
        match = re.fullmatch(r"([a-z]{3})_(\d{4}-\d{2}-\d{2})\.csv", entry.name)
        if match:
            table = TierTable.from_csv(Path(str(folder / entry.name)))
            found.append(DatedTiers(currency_code(match.group(1), "currency"), dt.date.fromisoformat(match.group(2)),
                                    table))
    return tuple(sorted(found, key=lambda d: (d.currency, d.effective)))
