"""Pricing reference data shipped with the package: calling codes and their national number
lengths, dated market membership and the dated authentication-international country list (docs/rules.md §Markets and countries,
§Authentication-international)."""

from __future__ import annotations

import csv
import datetime as dt
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

OTHER = "Other"
BEGINNING = dt.date(1970, 1, 1)


def _rows(name: str) -> list[dict[str, str]]:
    with (resources.files("waconv.pricing") / "data" / name).open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def _date(text: str) -> dt.date | None:
    return dt.date.fromisoformat(text) if text else None


@dataclass(frozen=True)
class Membership:
    country: str
    market: str
    valid_from: dt.date | None
    valid_to: dt.date | None  # exclusive

    def covers(self, day: dt.date) -> bool:
        return (self.valid_from is None or self.valid_from <= day) and (self.valid_to is None or day < self.valid_to)


@dataclass(frozen=True)
class MarketReference:
    """Which market a country belongs to on a given date, and what the countries are."""

    calling_codes: tuple[tuple[str, str], ...]  # (prefix, ISO country)
    memberships: tuple[Membership, ...]
    auth_international_from: dict[str, dt.date]
    # (calling code, national number lengths of the numbers users can have)
    national_lengths: tuple[tuple[str, tuple[int, ...]], ...] = ()

    @property
    def markets(self) -> list[str]:
        return sorted({m.market for m in self.memberships} | {OTHER})

    @property
    def countries(self) -> list[str]:
        found = {c for _, c in self.calling_codes} | {m.country for m in self.memberships}
        return sorted(found | set(self.auth_international_from))

    def market(self, country: str, day: dt.date) -> str:
        for membership in self._by_country().get(country, ()):
            if membership.covers(day):
                return membership.market
        return OTHER

    def _by_country(self) -> dict[str, list[Membership]]:
        return _memberships_by_country(self.memberships)

    def is_auth_international(self, country: str, day: dt.date) -> bool:
        since = self.auth_international_from.get(country)
        return since is not None and since <= day

    def switch_dates(self) -> set[dt.date]:
        dates = {d for m in self.memberships for d in (m.valid_from, m.valid_to) if d is not None}
        return dates | set(self.auth_international_from.values())


@lru_cache(maxsize=4)
def _memberships_by_country(memberships: tuple[Membership, ...]) -> dict[str, list[Membership]]:
    grouped: dict[str, list[Membership]] = {}
    for membership in memberships:
        grouped.setdefault(membership.country, []).append(membership)
    return grouped


@lru_cache(maxsize=1)
def market_reference() -> MarketReference:
    return MarketReference(
        calling_codes=tuple((r["prefix"], r["country"]) for r in _rows("calling_codes.csv")),
        memberships=tuple(
            Membership(r["country"], r["market"], _date(r["valid_from"]), _date(r["valid_to"]))
            for r in _rows("markets.csv")
        ),
        auth_international_from={r["country"]: dt.date.fromisoformat(r["valid_from"]) for r in _rows("auth_international.csv")},
        national_lengths=tuple((r["calling_code"], tuple(int(n) for n in r["lengths"].split()))
                               for r in _rows("national_lengths.csv")),
    )
