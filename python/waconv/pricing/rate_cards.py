"""Rate cards: Meta's CSV layout in, dated versioned cards out (docs/rules.md §Rate cards).

Meta publishes one CSV per currency and effective date: a preamble ("Cost per message in
USD ..., effective July 1, 2026"), a header ``Market,Currency,Marketing,Utility,
Authentication,"Authentication-\\nInternational",Service`` (one quoted cell holds a newline)
and one row per market, ``n/a`` where a rate does not apply.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import io
import math
import numbers
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from os import PathLike
from pathlib import Path
from typing import TYPE_CHECKING, Union

from waconv._errors import InputError
from waconv.pricing.markets import market_reference

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

COLUMNS = ("marketing", "utility", "authentication", "authentication_international", "service")
MODELS = ("CBP", "PMP")
_CURRENCY_SPELLINGS = {"$US": "USD", "US$": "USD", "$": "USD"}
_CURRENCY_CODE = re.compile(r"[A-Z]{3}")
# Meta's local-currency cards group thousands ("1,940.13" IDR). Only a strict grouping is
# read so: a decimal comma ("0,0625") has a leading zero group or not three digits after it.
_GROUPED = re.compile(r"[1-9]\d{0,2}(?:,\d{3})+(?:\.\d+)?")
_EFFECTIVE = re.compile(r"effective\s+([A-Za-z]+\s+\d{1,2},\s*\d{4})", re.IGNORECASE)

Source = Union[str, PathLike, io.TextIOBase]

# Card dates become nanosecond timestamps at UTC midnight (pandas' range is 1677-09-21 to
# 2262-04-11); whole years inside it, so a WABA's time zone cannot push a date out.
FIRST_DAY = dt.date(1678, 1, 1)
LAST_DAY = dt.date(2261, 12, 31)


@dataclass(frozen=True)
class RateCard:
    """One rate card: rates[market][column] (NaN = not published), in one currency."""

    effective: dt.date
    model: str  # "CBP" (per conversation) or "PMP" (per message)
    currency: str
    rates: dict[str, dict[str, float]] = field(repr=False)
    source: str = "user"

    def __post_init__(self) -> None:
        # Cards built in code reach the core as directly as cards read from a file.
        object.__setattr__(self, "effective", _as_day(self.effective, "effective", self.source, None))
        if self.model not in MODELS:
            raise InputError("model", None, f"model must be 'CBP' or 'PMP', got {self.model!r}", file=self.source)
        object.__setattr__(self, "currency", currency_code(self.currency, "currency", self.source, None))
        if not isinstance(self.rates, Mapping) or not all(isinstance(row, Mapping) for row in self.rates.values()):
            raise InputError("rates", None, "expected a mapping of market to a mapping of column to rate",
                             file=self.source)
        for market, row in self.rates.items():
            for column, value in row.items():
                if isinstance(value, bool) or not isinstance(value, numbers.Real):
                    raise InputError(column, None, f"{market}: rate {value!r} is not a number", file=self.source)
                if not math.isnan(value):
                    _check_rate(value, repr(value), self.source, None, column, market)

    @property
    def label(self) -> str:
        return f"{self.currency} {self.model} {self.effective.isoformat()}"

    def rate(self, market: str, column: str) -> float:
        return self.rates.get(market, {}).get(column, math.nan)

    def to_frame(self) -> pd.DataFrame:
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
        text, name = read_source(source, "source")
        return _parse(text, name, effective, model, currency)


def _parse(text: str, name: str, effective, model, currency) -> RateCard:
    preamble: list[tuple[int, str]] = []
    header: list[str] | None = None
    rates: dict[str, dict[str, float]] = {}
    currencies: set[str] = set()
    known_markets = set(market_reference().markets)
    for line, row in csv_rows(text, name):
        if header is None:
            if row and row[0].strip().lower() == "market":
                header = [_normalise_header(cell) for cell in row]
                check_unique_header(header, line, name)
                missing = [c for c in ("market", "marketing", "utility", "authentication") if c not in header]
                if missing:
                    raise InputError(None, line, f"header lacks column {missing[0]!r}", file=name)
            else:
                preamble.append((line, ",".join(row)))
            continue
        if not any(cell.strip() for cell in row):
            continue
        check_row_width(row, header, line, name)
        cells = dict(zip(header, (cell.strip() for cell in row)))
        market = cells.get("market", "")
        if market not in known_markets:
            raise InputError("Market", line, f"unknown market {market!r}", file=name)
        if market in rates:
            raise InputError("Market", line, f"market {market!r} appears twice", file=name)
        if cells.get("currency"):
            currencies.add(currency_code(cells["currency"], "Currency", name, line))
        rates[market] = {column: parse_rate(cells.get(column, "n/a"), name, line, column) for column in COLUMNS}
    if header is None:
        raise InputError(None, None, "no header line starting with 'Market'", file=name)
    intro = " ".join(text for _, text in preamble)
    return RateCard(
        effective=_effective(effective, preamble, name),
        model=_model(model, intro, name),
        currency=_currency(currency, currencies, name),
        rates=rates,
        source=name,
    )


def _normalise_header(cell: str) -> str:
    return re.sub(r"[\s\-]+", "_", cell.strip().lower())


def check_source(source: object, argument: str) -> None:
    """Raises unless `source` is something read_source reads."""
    if isinstance(source, (str, PathLike, io.TextIOBase)):
        return
    if isinstance(source, io.IOBase):
        raise InputError(argument, None, "expected a path or a text stream, got a binary stream "
                         "(open the file in text mode, encoding='utf-8')")
    raise InputError(argument, None, f"expected a path or a text stream, got {type(source).__name__}")


def read_source(source: Source, argument: str) -> tuple[str, str]:
    """The text of a CSV file or text stream, and the name its errors give it."""
    check_source(source, argument)
    if isinstance(source, io.TextIOBase):
        name = str(getattr(source, "name", "<stream>"))
        try:
            return source.read(), name
        except UnicodeDecodeError as error:
            raise InputError(None, None, f"not UTF-8 ({error.reason}, byte 0x{error.object[error.start]:02x}); "
                             "open it with its own encoding, or save it as UTF-8", file=name) from None
        except (OSError, ValueError) as error:  # ValueError: a closed stream
            raise InputError(None, None, f"cannot read the stream: {error}", file=name) from None
    name = str(source)
    try:
        data = Path(source).read_bytes()
    except FileNotFoundError:
        raise InputError(None, None, "no such file", file=name) from None
    except IsADirectoryError:
        raise InputError(None, None, "is a directory, not a CSV file", file=name) from None
    except PermissionError:
        raise InputError(None, None, "permission denied", file=name) from None
    except (OSError, ValueError, TypeError) as error:  # ValueError: a NUL in the path
        raise InputError(None, None, f"cannot read the file: {error}", file=name) from None
    return _decode(data, name), name


_WIDE_BOMS = ((codecs.BOM_UTF32_LE, "UTF-32"), (codecs.BOM_UTF32_BE, "UTF-32"),
              (codecs.BOM_UTF16_LE, "UTF-16"), (codecs.BOM_UTF16_BE, "UTF-16"))  # UTF-32 LE starts like UTF-16 LE


def _decode(data: bytes, name: str) -> str:
    for bom, encoding in _WIDE_BOMS:
        if data.startswith(bom):
            raise InputError(None, 1, f"the file is {encoding} (it starts with a {encoding} byte-order mark); "
                             "save it as UTF-8", file=name)
    # Excel writes a UTF-8 byte-order mark. It is dropped here rather than by decoding as
    # "utf-8-sig", whose error offsets do not count it: the quoted byte would be the wrong one.
    body = data[len(codecs.BOM_UTF8):] if data.startswith(codecs.BOM_UTF8) else data
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError as error:
        line = body.count(b"\n", 0, error.start) + 1
        raise InputError(None, line, f"not UTF-8: byte 0x{body[error.start]:02x} ({error.reason}); "
                         "save the file as UTF-8 (it may be Latin-1 or Windows-1252)", file=name) from None


def csv_rows(text: str, name: str) -> Iterator[tuple[int, list[str]]]:
    """CSV records with the line each starts on (a quoted cell may span lines)."""
    reader = csv.reader(io.StringIO(text))
    end = 0
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as error:
            if "field larger than field limit" in str(error):
                reason = f"a cell is longer than {csv.field_size_limit():,} characters"
            else:
                reason = f"not readable as CSV: {error}"
            raise InputError(None, reader.line_num, reason, file=name) from None
        start, end = end + 1, reader.line_num
        yield start, row


def check_unique_header(header: Sequence[str], line: int | None, name: str) -> None:
    """A column named twice would leave one of its cells unread (the other wins)."""
    seen: set[str] = set()
    for column in header:
        if column and column in seen:
            raise InputError(column, line, "column appears twice in the header", file=name)
        seen.add(column)


def check_row_width(row: Sequence[str], header: Sequence[str], line: int, name: str) -> None:
    """Cells past the header's last column are data the reader would drop, and they mean the
    row's cells are not where the header says: "0,0625" with a decimal comma is two cells."""
    if any(cell.strip() for cell in row[len(header):]):
        raise InputError(None, line, f"row has {len(row)} cells, the header {len(header)} columns "
                         "(a decimal comma, or a comma in an unquoted cell?)", file=name)


def parse_rate(cell: str, name: str, line: int | None, column: str) -> float:
    """A rate cell of a card or a tier table: NaN where the cell says none applies."""
    text = cell.replace("$", "").strip()
    if text.lower() in ("", "n/a", "na", "-"):
        return math.nan
    if _GROUPED.fullmatch(text):
        text = text.replace(",", "")
    try:
        value = float(text)
    except ValueError:
        raise InputError(column, line, f"rate {shown(cell)} is not a number", file=name) from None
    _check_rate(value, shown(cell), name, line, column)
    return value + 0.0  # "-0" is zero: a cost of -0.0 would print with its sign


def _check_rate(value: float, cell: str, name: str, line: int | None, column: str, market: str | None = None) -> None:
    if value < 0 or not math.isfinite(value):
        where = f"{market}: " if market is not None else ""
        raise InputError(column, line, f"{where}rate {cell} must be a finite, non-negative number", file=name)


def shown(cell: str) -> str:
    """A cell as an error quotes it: a 100 KB cell would bury the message."""
    return repr(cell if len(cell) <= 40 else cell[:37] + "...")


def _effective(given, preamble: list[tuple[int, str]], name: str) -> dt.date:
    if given is not None:
        return _as_day(given, "effective", name, None)
    # Meta's preamble is one line, but its date may sit in cells of its own: search each
    # line, then (in case the phrase is split over lines) all of them, counted from line 1.
    found = [(line, _EFFECTIVE.search(text)) for line, text in preamble]
    found = [(line, match) for line, match in found if match]
    if not found:
        joined = _EFFECTIVE.search(" ".join(text for _, text in preamble))
        if not joined:
            raise InputError(None, 1, "no 'effective <Month> <day>, <year>' in the preamble; pass effective=",
                             file=name)
        found = [(preamble[0][0], joined)]
    line, match = found[0]
    written = re.sub(r"\s+", " ", match.group(1))
    try:
        day = dt.datetime.strptime(written, "%B %d, %Y").date()
    except ValueError as error:
        raise InputError(None, line, f"effective date {written!r} is not a date ({error})", file=name) from None
    return _check_day(day, repr(written), name, line)


def _as_day(value, column: str, name: str, line: int | None) -> dt.date:
    if isinstance(value, dt.datetime):  # also pd.Timestamp; a card takes effect on a day
        value = value.date()
    if not isinstance(value, dt.date):
        try:
            value = dt.date.fromisoformat(str(value))
        except ValueError as error:
            raise InputError(column, line, f"{column}={value!r} is not a date ({error})", file=name) from None
    return _check_day(value, repr(value), name, line, column)


def _check_day(day: dt.date, written: str, name: str, line: int | None, column: str | None = None) -> dt.date:
    if not FIRST_DAY <= day <= LAST_DAY:
        raise InputError(column, line, f"effective date {written} is outside the dates waconv prices "
                         f"({FIRST_DAY} to {LAST_DAY})", file=name)
    return day


def _model(given, intro: str, name: str) -> str:
    if given is not None:
        if given not in MODELS:
            raise InputError("model", None, f"model must be 'CBP' or 'PMP', got {given!r}", file=name)
        return given
    lowered = intro.lower()
    if "per conversation" in lowered:
        return "CBP"
    if "per message" in lowered:
        return "PMP"
    raise InputError(None, 1, "preamble says neither 'per conversation' nor 'per message'; pass model=", file=name)


def currency_code(value: object, column: str, name: str | None = None, line: int | None = None) -> str:
    """A currency as its ISO 4217 code: three letters (any case; Meta's "$" spellings are USD)."""
    if isinstance(value, str) and value.isascii():  # not "uſd", whose upper case is "USD"
        code = _CURRENCY_SPELLINGS.get(value.strip(), value.strip().upper())
        if _CURRENCY_CODE.fullmatch(code):
            return code
    shown_value = shown(value) if isinstance(value, str) else repr(value)
    raise InputError(column, line, f"currency must be a 3-letter ISO 4217 code such as 'USD', got {shown_value}",
                     file=name)


def _currency(given, found: set[str], name: str) -> str:
    if given is not None:
        return currency_code(given, "currency", name, None)
    if len(found) > 1:
        raise InputError("Currency", None, f"one card, one currency; found {sorted(found)}", file=name)
    return found.pop() if found else "USD"


class RateCards:
    """A versioned set of rate cards of one currency: the card in force on a date applies."""

    def __init__(self, cards: Iterable[RateCard]) -> None:
        if not isinstance(cards, Iterable) or isinstance(cards, (str, bytes, Mapping)):
            raise InputError("cards", None, f"expected RateCard objects, got {type(cards).__name__}")
        cards = list(cards)
        for position, card in enumerate(cards):
            if not isinstance(card, RateCard):
                raise InputError("cards", None, f"item {position}: not a RateCard, got {type(card).__name__}")
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
        """The USD cards shipped with waconv (sources and gaps: waconv/pricing/data/rate_cards/README.md).

        Only the USD cards: the local-currency cards shipped beside them (``local/``) price
        the WABAs that ``classify(..., currencies=...)`` bills in their currency
        (:meth:`shipped`)."""
        return _default_cards()

    @classmethod
    def shipped(cls, currency: str) -> RateCards | None:
        """The cards of `currency` shipped with waconv (USD: :meth:`default`), None if none is."""
        return _shipped_cards().get(currency_code(currency, "currency"))

    @classmethod
    def _read_default(cls) -> RateCards:
        return _shipped_cards()["USD"]

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


def shipped_currencies() -> list[str]:
    """The currencies waconv ships rate cards of."""
    return list(_shipped_cards())


@lru_cache(maxsize=1)
def _shipped_cards() -> dict[str, RateCards]:
    """Every shipped card (``usd_*.csv`` and ``local/*.csv``), one set per currency."""
    folder = resources.files("waconv.pricing") / "data" / "rate_cards"
    files = [folder / entry.name for entry in folder.iterdir() if entry.name.endswith(".csv")]
    files += [folder / "local" / entry.name for entry in (folder / "local").iterdir() if entry.name.endswith(".csv")]
    by_currency: dict[str, list[RateCard]] = {}
    for path in files:
        card = RateCard.from_csv(Path(str(path)))
        by_currency.setdefault(card.currency, []).append(card)
    return {currency: RateCards(cards) for currency, cards in sorted(by_currency.items())}


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
    if isinstance(value, (bytes, bytearray, Mapping, io.IOBase)) or not isinstance(value, Iterable):
        raise InputError("rate_card", None, "expected RateCards, a RateCard, a CSV path, a text stream or a list "
                         f"of cards and paths, got {type(value).__name__}")
    cards = []
    for position, item in enumerate(value):
        if not isinstance(item, RateCard):
            try:
                check_source(item, "rate_card")
            except InputError as error:
                raise InputError("rate_card", None, f"item {position}: not a RateCard; {error.reason}") from None
            item = RateCard.from_csv(item)
        cards.append(item)
    if not cards:
        raise InputError("rate_card", None, "the list of cards is empty (pass None for the shipped cards)")
    return RateCards(cards), True
