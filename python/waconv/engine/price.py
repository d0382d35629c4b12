"""Phase 2 glue: small dense tables from the reference data, cards and tiers; the per-row
work (markets, cards, tiers, costs) happens in the core's `price`."""

from __future__ import annotations

import datetime as dt
import math
import warnings
from collections.abc import Hashable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from waconv import _core
from waconv._errors import InputError, WaconvWarning
from waconv.engine.canonical import CanonicalEvents
from waconv.pricing.markets import BEGINNING, OTHER, market_reference
from waconv.pricing.rate_cards import COLUMNS, MODELS, RateCards
from waconv.engine.strings import arrow_buffers, as_arrow_text
from waconv.pricing.tiers import TierTable


@dataclass
class PricingPlan:
    countries: list[str]
    markets: list[str]
    switches: list[dt.date]
    market_of: np.ndarray  # int16 [period * countries + country]
    auth_international: np.ndarray  # uint8, same shape
    card_of: np.ndarray  # int16 [model * periods + period]
    cards: RateCards
    rate: np.ndarray  # float64 [(card * markets + market) * 5 + column]
    rate_source: np.ndarray  # int16, same shape
    bands: list[list[tuple[int, int, float, int]]]
    tier_labels: list[str]
    user_cards: bool

    def core_arguments(self) -> dict[str, Any]:
        return dict(
            switches=[(d.year, d.month, d.day) for d in self.switches],
            country_count=len(self.countries),
            market_count=len(self.markets),
            other_market=self.markets.index(OTHER),
            market_of=self.market_of,
            auth_international=self.auth_international,
            card_of=self.card_of,
            card_count=len(self.cards.cards),
            rate=self.rate,
            rate_source=self.rate_source,
            bands=self.bands,
            card_effective=np.array([pd.Timestamp(c.effective, tz="UTC").value for c in self.cards.cards], np.int64),
        )


_PLANS: dict[tuple, tuple[RateCards, PricingPlan]] = {}


def make_plan(cards: RateCards, tiers: TierTable | None, extra_countries: set[str], user_cards: bool) -> PricingPlan:
    """The dense tables for these cards and tiers; cached, as most calls reuse the defaults."""
    key = (tuple(id(c) for c in cards.cards), tiers, frozenset(extra_countries), user_cards)
    if key not in _PLANS:
        if len(_PLANS) >= 8:
            _PLANS.pop(next(iter(_PLANS)))
        # The cached entry holds `cards`, so the ids in the key stay theirs.
        _PLANS[key] = (cards, _build_plan(cards, tiers, extra_countries, user_cards))
    return _PLANS[key][1]


def _build_plan(cards: RateCards, tiers: TierTable | None, extra_countries: set[str], user_cards: bool) -> PricingPlan:
    reference = market_reference()
    countries = sorted(set(reference.countries) | extra_countries)
    markets = reference.markets
    switches = sorted(reference.switch_dates() | {c.effective for c in cards.cards})
    starts = [BEGINNING, *switches]
    market_index = {m: i for i, m in enumerate(markets)}
    market_of = np.array([market_index[reference.market(c, day)] for day in starts for c in countries], np.int16)
    auth = np.array([reference.is_auth_international(c, day) for day in starts for c in countries], np.uint8)

    card_list = cards.cards
    card_of = np.full(len(MODELS) * len(starts), -1, np.int16)
    for m, model in enumerate(MODELS):
        of_model = [i for i, c in enumerate(card_list) if c.model == model]
        for p, day in enumerate(starts):
            in_force = [i for i in of_model if card_list[i].effective <= day]
            # Before a model's first card, its earliest card applies (what-if pricing of old logs).
            chosen = in_force[-1] if in_force else (of_model[0] if of_model else -1)
            card_of[m * len(starts) + p] = chosen

    rate, source = _rates_with_fallback(cards, markets)
    bands, labels = _bands(tiers, markets)
    return PricingPlan(countries, markets, switches, market_of, auth, card_of, cards, rate, source, bands, labels,
                       user_cards)


def _rates_with_fallback(cards: RateCards, markets: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """Missing cells come from the nearest earlier card of the same model, else the nearest later."""
    card_list = cards.cards
    rate = np.full(len(card_list) * len(markets) * len(COLUMNS), np.nan)
    source = np.full(rate.shape, -1, np.int16)
    for k, card in enumerate(card_list):
        same_model = [i for i, c in enumerate(card_list) if c.model == card.model]
        position = same_model.index(k)
        order = [k, *reversed(same_model[:position]), *same_model[position + 1 :]]
        for mi, market in enumerate(markets):
            for ci, column in enumerate(COLUMNS):
                for candidate in order:
                    value = card_list[candidate].rate(market, column)
                    if not math.isnan(value):
                        cell = (k * len(markets) + mi) * len(COLUMNS) + ci
                        rate[cell], source[cell] = value, candidate
                        break
    return rate, source


def _bands(tiers: TierTable | None, markets: list[str]) -> tuple[list[list[tuple[int, int, float, int]]], list[str]]:
    bands: list[list[tuple[int, int, float, int]]] = [[] for _ in range(len(markets) * len(COLUMNS))]
    labels: list[str] = []
    for band in tiers.bands if tiers else ():
        if band.label not in labels:
            labels.append(band.label)
        slot = markets.index(band.market) * len(COLUMNS) + COLUMNS.index(band.category)
        bands[slot].append((band.lower, band.upper, band.rate, labels.index(band.label)))
    for slot in bands:
        slot.sort()
    return bands, labels


def user_countries(canonical: CanonicalEvents, plan: PricingPlan, override: np.ndarray | None,
                   override_values: list[str]) -> tuple[np.ndarray, np.ndarray | None]:
    """Countries as the core reads them: one per user (BSUID prefix, else calling code; see
    CountryResolver::resolve for what counts as an international number) and,
    where the log has a user_country column, one per row (-1 where the row gives none).

    override: codes into override_values (-1 where the row gives no user_country)."""
    reference = market_reference()
    index = {c: i for i, c in enumerate(plan.countries)}
    tables = ([p for p, _ in reference.calling_codes], [index[c] for _, c in reference.calling_codes], plan.countries,
              [code for code, _ in reference.national_lengths],
              [sum(1 << n for n in lengths) for _, lengths in reference.national_lengths])
    found = arrow_buffers(canonical.user_values)  # Arrow-backed ids: read in C++, no Python strings
    if found is None:  # str objects: into Arrow's layout in one C++ pass
        found = arrow_buffers(as_arrow_text(pd.Series(canonical.user_values, copy=False)))
    if found is not None:
        per_user = _core.resolve_country_buffers(*found[1], *tables)
    else:
        per_user = _core.resolve_countries(_as_strings(canonical.user_values), *tables)
    _warn_countryless_users(canonical, per_user, override)
    if override is None:
        return per_user, None
    # Trailing -1 entry: code -1 (no user_country) stays -1.
    return per_user, np.array([index[c] for c in override_values] + [-1], np.int16)[override]


def _warn_countryless_users(canonical: CanonicalEvents, per_user: np.ndarray, override: np.ndarray | None) -> None:
    """One warning for the users some row of whom gets no country: market Other is then a
    guess, and a national-format number may well be a user of a standalone market."""
    countryless = per_user < 0
    if override is not None and countryless.any():
        # A user whose every row gives user_country is priced by those rows alone.
        countryless &= np.bincount(canonical.user[override < 0], minlength=len(per_user)).astype(bool)
    count = int(np.count_nonzero(countryless))
    if count:
        first = canonical.user_values[int(np.argmax(countryless))]  # user ids are sorted: the smallest
        who = "1 user has no country and is" if count == 1 else f"{count:,} users have no country and are"
        ids = "its id is" if count == 1 else "their ids are"
        warnings.warn(f"{who} priced in market {OTHER}: {ids} neither a BSUID of a known country nor an "
                      f"international phone number (first: {str(first)!r}). Write numbers with + or 00 and the "
                      "calling code (bare digits, as webhooks' wa_id, count as international too), or give a "
                      "user_country column", WaconvWarning, stacklevel=5)


def us_flags(
    plan: PricingPlan, per_user: np.ndarray, per_row: np.ndarray | None
) -> tuple[np.ndarray, np.ndarray | None]:
    """What the classification needs for the US marketing pause: US users and, where rows
    give their own country, per row -1 (none), 0 or 1."""
    us = plan.countries.index("US")
    by_user = (per_user == us).view(np.uint8)
    if per_row is None:
        return by_user, None
    return by_user, np.where(per_row >= 0, per_row == us, -1).astype(np.int8)


def _as_strings(values: pd.Index) -> list[str]:
    # tolist() converts Arrow-backed values in one call (iterating an Index is 15x slower).
    listed = values.tolist()
    if isinstance(values.dtype, pd.StringDtype):
        return listed
    return [str(v) for v in listed]  # int phone numbers, or an object column


def override_codes(series: pd.Series | None, column: str) -> tuple[np.ndarray | None, list[str]]:
    """user_country as codes into its own sorted uniques (-1 = not given)."""
    if series is None:
        return None, []
    codes, uniques = pd.factorize(series.astype("string").str.strip().str.upper(), sort=True)
    for position, value in enumerate(uniques):
        if len(value) != 2 or not value.isalpha():
            raise InputError(column, int(np.argmax(codes == position)), f"not an ISO 3166 alpha-2 code: {value!r}")
    return codes, list(uniques)


def auth_international_arrays(
    config: Mapping[Hashable, Mapping[str, Any]] | None, portfolios: pd.Index, countries: list[str]
) -> tuple[np.ndarray, np.ndarray]:
    primary = np.full(len(portfolios), -1, np.int16)
    start = np.full(len(portfolios), np.iinfo(np.int64).min, np.int64)
    by_text = _auth_international_entries(config, countries)
    for i, portfolio in enumerate(portfolios):
        entry = by_text.get(str(portfolio))
        if entry is not None:
            primary[i], start[i] = entry
    return primary, start


def _auth_international_entries(config: Any, countries: list[str]) -> dict[str, tuple[int, int]]:
    """Every entry checked, also those of portfolios this log lacks: (country index, UTC ns)."""
    if config is None:
        return {}
    if not isinstance(config, Mapping):
        raise InputError("auth_international", None, "expected a mapping of portfolio id to "
                         f"{{'primary_country': ..., 'start': ...}}, got {type(config).__name__}")
    index = {c: i for i, c in enumerate(countries)}
    entries: dict[str, tuple[int, int]] = {}
    for portfolio, entry in config.items():
        key = str(portfolio)  # portfolio ids are matched as text
        if key in entries:
            raise _auth_error(portfolio, f"given twice (portfolio ids are compared as text: {key!r})")
        if not isinstance(entry, Mapping):
            raise _auth_error(portfolio, f"expected a mapping with primary_country and start, got "
                              f"{type(entry).__name__}")
        for required in ("primary_country", "start"):
            if required not in entry:
                raise _auth_error(portfolio, f"{required} is required")
        entries[key] = (_primary_country(portfolio, entry["primary_country"], index),
                        _start_nanoseconds(portfolio, entry["start"]))
    return entries


def _auth_error(portfolio: Hashable, reason: str) -> InputError:
    return InputError("auth_international", None, f"portfolio {portfolio!r}: {reason}")


def _primary_country(portfolio: Hashable, value: Any, index: dict[str, int]) -> int:
    # An unknown primary country would make every listed country international.
    code = value.strip().upper() if isinstance(value, str) else None
    if code not in index:
        raise _auth_error(portfolio, f"primary_country {value!r} is not a known ISO 3166 alpha-2 country code")
    return index[code]


def _start_nanoseconds(portfolio: Hashable, value: Any) -> int:
    missing = value is None or value is pd.NaT or (isinstance(value, str) and not value.strip())
    if missing or (isinstance(value, (float, np.floating)) and math.isnan(value)):
        raise _auth_error(portfolio, f"start {value!r} is not a date")  # NaT would mean "since forever"
    if isinstance(value, (bool, int, float, np.number)):
        raise _auth_error(portfolio, f"start {value!r} must be a date or timestamp, not a number "
                          "(seconds or nanoseconds?)")
    try:
        when = pd.Timestamp(value)
    except (TypeError, ValueError) as error:
        raise _auth_error(portfolio, f"start {value!r} is not a date ({error})") from None
    if when is pd.NaT:
        raise _auth_error(portfolio, f"start {value!r} is not a date")
    try:
        return (when.tz_convert("UTC") if when.tzinfo else when.tz_localize("UTC")).as_unit("ns").value
    except (OverflowError, ValueError):  # OutOfBoundsDatetime is a ValueError
        raise _auth_error(portfolio, f"start {value!r} is outside the timestamps waconv handles "
                          f"({pd.Timestamp.min:%Y-%m-%d} to {pd.Timestamp.max:%Y-%m-%d})") from None


def report_gaps(plan: PricingPlan, gaps: Mapping[str, Any], messages: pd.DataFrame) -> None:
    """Warns (or, for user-supplied cards, raises) where a charged unit has no exact rate.

    gaps: what the core's pricing pass counted (see PricingGaps in cpp/include/waconv/price.hpp).
    """
    unknown = int(gaps["unknown_rate"])
    if unknown:
        first = int(gaps["first_unknown_rate"])
        if plan.user_cards:
            category, market = messages["pricing_category"].iloc[first], messages["market"].iloc[first]
            card = int(gaps["first_unknown_card"])
            label = plan.cards.cards[card].source if card >= 0 else "the rate cards"
            raise InputError(None, None, f"no rate for {category} in {market} (first needed by row {first})",
                             file=label)
        by_cell = np.asarray(gaps["unknown_by_category_market"]).reshape(len(_core.PRICING_CATEGORIES), -1)
        cells = [(-int(by_cell[c, m]), _core.PRICING_CATEGORIES[c], plan.markets[m])
                 for c, m in zip(*np.nonzero(by_cell))]
        detail = "; ".join(f"{c} in {m}: {-n:,}" for n, c, m in sorted(cells)[:5])
        warnings.warn(f"{unknown:,} charged units have no published rate in the shipped cards, "
                      f"cost is NaN ({detail})", WaconvWarning, stacklevel=4)
    if gaps["before_first_card"]:
        warnings.warn(f"{int(gaps['before_first_card']):,} charged units predate every card of their pricing "
                      "model and use its earliest card", WaconvWarning, stacklevel=4)
    if gaps["borrowed"]:
        labels = sorted(plan.cards.cards[s].label for s in np.flatnonzero(gaps["borrowed_from"]))
        warnings.warn(f"{int(gaps['borrowed']):,} charged units use a rate from another card where their card "
                      f"has none ({', '.join(labels)})", WaconvWarning, stacklevel=4)
