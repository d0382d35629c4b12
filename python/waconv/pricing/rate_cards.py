"""Rate cards: Meta's CSV layout in, dated versioned cards out (docs/rules.md §Rate cards).

Meta publishes one CSV per currency and effective date: a preamble ("Cost per message in
USD ..., effective July 1, 2026"), a header ``Market,Currency,Marketing,Utility,
Authentication,"Authentication-\\nInternational",Service`` (one quoted cell holds a newline)
and one row per market, ``n/a`` where a rate does not apply.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from os import PathLike
from pathlib import Path
from typing import Union

from waconv._errors import InputError
from waconv.pricing.markets import market_reference

COLUMNS = ("marketing", "utility", "authentication", "authentication_international", "service")
MODELS = ("CBP", "PMP")
_CURRENCY_SPELLINGS = {"$US": "USD", "US$": "USD", "$": "USD"}
_EFFECTIVE = re.compile(r"effective\s+([A-Za-z]+\s+\d{1,2},\s*\d{4})", re.IGNORECASE)

Source = Union[str, PathLike, io.TextIOBase]


@dataclass(frozen=True)
class RateCard:
    """One rate card: rates[market][column] (NaN = not published), in one currency."""

    effective: dt.date
    model: str  # "CBP" (per conversation) or "PMP" (per message)
    currency: str
    rates: dict[str, dict[str, float]] = field(repr=False)
    source: str = "user"

    @property
    def label(self) -> str:
        return f"{self.currency} {self.model} {self.effective.isoformat()}"

    def rate(self, market: str, column: str) -> float:
        return self.rates.get(market, {}).get(column, math.nan)

    def to_frame(self):
        import pandas as pd

        return pd.DataFrame.from_dict(self.rates, orient="index", columns=list(COLUMNS)).rename_axis("market")

    def __repr__(self) -> str:
        return f"<RateCard {self.label}, {len(self.rates)} markets, from {self.source}>"

    @classmethod
    def from_csv(
        cls, source: Source, *, effective: dt.date | str | None = None, model: str | None = None,
        currency: str | None = None,
    ) -> RateCard:
        """Reads a card in Meta's CSV layout; effective date and model default to the preamble."""
        name = str(source) if not isinstance(source, io.TextIOBase) else getattr(source, "name", "<stream>")
        text = Path(source).read_text(encoding="utf-8-sig") if not isinstance(source, io.TextIOBase) else source.read()
        return _parse(text, name, effective, model, currency)


def _parse(text: str, name: str, effective, model, currency) -> RateCard:
    reader = csv.reader(io.StringIO(text))
    preamble: list[str] = []
    header: list[str] | None = None
    rates: dict[str, dict[str, float]] = {}
    currencies: set[str] = set()
    known_markets = set(market_reference().markets)
    for row in reader:
        line = reader.line_num
        if header is None:
            if row and row[0].strip().lower() == "market":
                header = [_normalise_header(cell) for cell in row]
                missing = [c for c in ("market", "marketing", "utility", "authentication") if c not in header]
                if missing:
                    raise InputError(None, line, f"header lacks column {missing[0]!r}", file=name)
            else:
                preamble.append(",".join(row))
            continue
        if not any(cell.strip() for cell in row):
            continue
        cells = dict(zip(header, (cell.strip() for cell in row)))
        market = cells.get("market", "")
        if market not in known_markets:
            raise InputError("Market", line, f"unknown market {market!r}", file=name)
        if market in rates:
            raise InputError("Market", line, f"market {market!r} appears twice", file=name)
        if cells.get("currency"):
            currencies.add(_CURRENCY_SPELLINGS.get(cells["currency"], cells["currency"].upper()))
        rates[market] = {column: _rate(cells.get(column, "n/a"), name, line, column) for column in COLUMNS}
    if header is None:
        raise InputError(None, None, "no header line starting with 'Market'", file=name)
    intro = " ".join(preamble)
    return RateCard(
        effective=_effective(effective, intro, name),
        model=_model(model, intro, name),
        currency=_currency(currency, currencies, name),
        rates=rates,
        source=name,
    )


def _normalise_header(cell: str) -> str:
    return re.sub(r"[\s\-]+", "_", cell.strip().lower())


def _rate(cell: str, name: str, line: int, column: str) -> float:
    text = cell.replace("$", "").strip()
    if text.lower() in ("", "n/a", "na", "-"):
        return math.nan
    try:
        value = float(text)
    except ValueError:
        raise InputError(column, line, f"rate {cell!r} is not a number", file=name) from None
    if value < 0 or not math.isfinite(value):
        raise InputError(column, line, f"rate {cell!r} must be a non-negative number", file=name)
    return value


def _effective(given, intro: str, name: str) -> dt.date:
    if given is not None:
        return given if isinstance(given, dt.date) else dt.date.fromisoformat(str(given))
    match = _EFFECTIVE.search(intro)
    if not match:
        raise InputError(None, 1, "no 'effective <Month> <day>, <year>' in the preamble; pass effective=", file=name)
    return dt.datetime.strptime(re.sub(r"\s+", " ", match.group(1)), "%B %d, %Y").date()


def _model(given, intro: str, name: str) -> str:
    if given is not None:
        if given not in MODELS:
            raise InputError(None, None, f"model must be 'CBP' or 'PMP', got {given!r}", file=name)
        return given
    lowered = intro.lower()
    if "per conversation" in lowered:
        return "CBP"
    if "per message" in lowered:
        return "PMP"
    raise InputError(None, 1, "preamble says neither 'per conversation' nor 'per message'; pass model=", file=name)


def _currency(given, found: set[str], name: str) -> str:
    if given is not None:
        return given
    if len(found) > 1:
        raise InputError("Currency", None, f"one card, one currency; found {sorted(found)}", file=name)
    return found.pop() if found else "USD"


class RateCards:
    """A versioned set of rate cards of one currency: the card in force on a date applies."""

    def __init__(self, cards: Iterable[RateCard]) -> None:
        self.cards: list[RateCard] = sorted(cards, key=lambda c: (c.model, c.effective))
        currencies = {c.currency for c in self.cards}
        if len(currencies) > 1:
            odd = next(c for c in self.cards if c.currency != self.cards[0].currency)
            raise InputError("Currency", None, f"cards mix currencies {sorted(currencies)}", file=odd.source)
        keys = [(c.model, c.effective) for c in self.cards]
        if len(set(keys)) != len(keys):
            raise InputError(None, None, "two cards share one model and effective date", file=self.cards[0].source)

    @classmethod
    def default(cls) -> RateCards:
        """The USD cards shipped with waconv (sources and gaps: waconv/pricing/data/rate_cards/README.md)."""
        return _default_cards()

    @classmethod
    def _read_default(cls) -> RateCards:
        folder = resources.files("waconv.pricing") / "data" / "rate_cards"
        return cls(RateCard.from_csv(Path(str(folder / entry.name))) for entry in folder.iterdir()
                   if entry.name.endswith(".csv"))

    @property
    def currency(self) -> str:
        return self.cards[0].currency if self.cards else "USD"

    def __add__(self, other: RateCards | RateCard) -> RateCards:
        more = [other] if isinstance(other, RateCard) else other.cards
        replaced = {(c.model, c.effective) for c in more}
        return RateCards([c for c in self.cards if (c.model, c.effective) not in replaced] + list(more))

    def in_force(self, day: dt.date, model: str) -> RateCard | None:
        """The latest card of `model` effective on or before `day`."""
        chosen = None
        for card in self.cards:
            if card.model == model and card.effective <= day:
                chosen = card
        return chosen

    def __repr__(self) -> str:
        return f"<RateCards {self.currency}: " + ", ".join(c.label.split(" ", 1)[1] for c in self.cards) + ">"


@lru_cache(maxsize=1)
def _default_cards() -> RateCards:
    return RateCards._read_default()


def as_rate_cards(value: RateCards | RateCard | Source | Sequence | None) -> tuple[RateCards, bool]:
    """Normalises the rate_card= argument; the flag says whether the user supplied it."""
    if value is None:
        return RateCards.default(), False
    if isinstance(value, RateCards):
        return value, True
    if isinstance(value, RateCard):
        return RateCards([value]), True
    if isinstance(value, (str, PathLike, io.TextIOBase)):
        return RateCards([RateCard.from_csv(value)]), True
    return RateCards(v if isinstance(v, RateCard) else RateCard.from_csv(v) for v in value), True
