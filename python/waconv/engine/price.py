"""Phase 2 glue: small dense tables from the reference data, cards and tiers; the per-row
work (markets, cards, tiers, costs) happens in the core's `price`."""

from __future__ import annotations

import datetime as dt
import math
import warnings
from collections.abc import Hashable, Mapping
import dataclasses
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from waconv import _core
from waconv._errors import InputError, WaconvWarning
from waconv.engine.canonical import CanonicalEvents
from waconv.pricing.markets import BEGINNING, OTHER, market_reference
from waconv.pricing.rate_cards import COLUMNS, MODELS, RateCard, RateCards, currency_code, shipped_currencies
from waconv.engine.strings import arrow_buffers, as_arrow_text
from waconv.pricing.tiers import DatedTiers, TierTable, shipped_tiers


@dataclass
class PricingPlan:
    countries: list[str]
    markets: list[str]
    switches: list[dt.date]
    market_of: np.ndarray  # int16 [period * countries + country]
    auth_international: np.ndarray  # uint8, same shape
    currencies: list[str]  # currency codes of the core; 0 is the default (WABAs not in currencies=)
    cards: list[RateCard]  # every currency's cards, one index space
    card_of: np.ndarray  # int16 [(currency * models + model) * periods + period]
    rate: np.ndarray  # float64 [(card * markets + market) * 5 + column]
    rate_source: np.ndarray  # int16, same shape
    bands: list[list[tuple[int, int, float, int]]]  # [band set * markets * 5 + market * 5 + column]
    band_set_of: np.ndarray  # int16 [currency * periods + period], -1: no tiers
    tier_labels: list[str]
    user_cards: bool
    # Cells a shipped tier table leaves untiered from a date on (its list rate is not the card's
    # any more): (currency, market, column, since, upper bound of the table's first band, table).
    untiered: list[tuple[str, str, str, dt.date, int, str]] = dataclasses.field(default_factory=list)

    def core_arguments(self) -> dict[str, Any]:
        return dict(
            switches=[(d.year, d.month, d.day) for d in self.switches],
            country_count=len(self.countries),
            market_count=len(self.markets),
            other_market=self.markets.index(OTHER),
            market_of=self.market_of,
            auth_international=self.auth_international,
            card_of=self.card_of,
            card_count=len(self.cards),
            rate=self.rate,
            rate_source=self.rate_source,
            bands=self.bands,
            card_effective=np.array([pd.Timestamp(c.effective, tz="UTC").value for c in self.cards], np.int64),
            currency_count=len(self.currencies),
            band_set_of=self.band_set_of,
        )


_PLANS: dict[tuple, tuple[tuple[RateCards, ...], PricingPlan]] = {}


def make_plan(cards: RateCards, tiers: TierTable | bool, extra_countries: set[str], user_cards: bool,
              currencies: tuple[str, ...] = ()) -> PricingPlan:
    """The dense tables for these cards and tiers; cached, as most calls reuse the defaults.

    cards: the default currency's; currencies: the other currencies WABAs are billed in,
    priced by the cards (and tiers) waconv ships for them. tiers: True = Meta's shipped
    tables by date, False = none, a table = the user's for the default currency."""
    sets = [cards, *(_shipped_cards_of(c) for c in currencies)]
    key = (tuple(id(c) for s in sets for c in s.cards), tiers, frozenset(extra_countries), user_cards, currencies)
    if key not in _PLANS:
        if len(_PLANS) >= 8:
            _PLANS.pop(next(iter(_PLANS)))
        # The cached entry holds the cards, so the ids in the key stay theirs.
        _PLANS[key] = (tuple(sets), _build_plan(sets, tiers, extra_countries, user_cards))
    return _PLANS[key][1]


def _shipped_cards_of(currency: str) -> RateCards:
    found = RateCards.shipped(currency)
    if found is None:
        raise InputError("currencies", None, f"waconv ships no {currency} rate card (it never converts currencies); "
                         f"shipped: {', '.join(shipped_currencies())}")
    return found


def _build_plan(sets: list[RateCards], tiers: TierTable | bool, extra_countries: set[str],
                user_cards: bool) -> PricingPlan:
    reference = market_reference()
    countries = sorted(set(reference.countries) | extra_countries)
    markets = reference.markets
    currencies = [s.currency for s in sets]
    # A user table stands in for the default currency's shipped tables only (its rates are in
    # that currency); tiers=False turns every table off.
    tiered = currencies if tiers is True else currencies[1:] if tiers is not False else []
    dated = [d for d in shipped_tiers() if d.currency in tiered]
    switches = sorted(reference.switch_dates() | {c.effective for s in sets for c in s.cards}
                      | {d.effective for d in dated})
    starts = [BEGINNING, *switches]
    market_index = {m: i for i, m in enumerate(markets)}
    market_of = np.array([market_index[reference.market(c, day)] for day in starts for c in countries], np.int16)
    auth = np.array([reference.is_auth_international(c, day) for day in starts for c in countries], np.uint8)

    card_list: list[RateCard] = []
    card_of = np.full(len(sets) * len(MODELS) * len(starts), -1, np.int16)
    rates, sources = [], []
    for k, cards in enumerate(sets):
        offset = len(card_list)
        card_list += cards.cards
        for m, model in enumerate(MODELS):
            of_model = [offset + i for i, c in enumerate(cards.cards) if c.model == model]
            for p, day in enumerate(starts):
                in_force = [i for i in of_model if card_list[i].effective <= day]
                # Before a model's first card its earliest card applies (what-if pricing of old
                # logs), in the default currency only: a local card must be in force, never
                # stood in for (docs/rules.md §Rate cards).
                chosen = in_force[-1] if in_force else (of_model[0] if of_model and k == 0 else -1)
                card_of[(k * len(MODELS) + m) * len(starts) + p] = chosen
        rate, source = _rates_with_fallback(cards, markets)
        rates.append(rate)
        sources.append(np.where(source >= 0, source + offset, -1).astype(np.int16))
    rate, source = np.concatenate(rates), np.concatenate(sources)
    untiered: list[tuple[str, str, str, dt.date, int, str]] = []
    bands, band_set_of, labels = _dated_bands(tiers, dated, currencies, starts, markets, card_of, rate, untiered)
    return PricingPlan(countries, markets, switches, market_of, auth, currencies, card_list, card_of, rate, source,
                       bands, band_set_of, labels, user_cards, untiered)


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


def _dated_bands(tiers: TierTable | bool, dated: list[DatedTiers], currencies: list[str], starts: list[dt.date],
                 markets: list[str], card_of: np.ndarray, rate: np.ndarray,
                 untiered: list[tuple[str, str, str, dt.date, int, str]]):
    """Band sets and the one in force per currency and period.

    A user table applies to the default currency at every date. A shipped table applies to
    its currency from its date, in the cells where its first band ("List rate") is the list
    rate of the card in force: where a later card changed that rate (USD Peru, Pakistan and
    South Africa utility and authentication on 2026-10-01) the table's bands are not Meta's
    any more, and no public table gives the new ones, so those cells are priced untiered."""
    slots = len(markets) * len(COLUMNS)
    labels: list[str] = []
    bands: list[list[tuple[int, int, float, int]]] = []
    band_set_of = np.full(len(currencies) * len(starts), -1, np.int16)
    known: dict[tuple, int] = {}

    def band_set(table: TierTable, dropped: frozenset[int]) -> int:
        key = (id(table), dropped)
        if key not in known:
            known[key] = len(bands) // slots
            lists = _bands(table, markets, labels)
            bands.extend([] if slot in dropped else lst for slot, lst in enumerate(lists))
        return known[key]

    if isinstance(tiers, TierTable):
        for p in range(len(starts)):
            band_set_of[p] = band_set(tiers, frozenset())
    pmp = MODELS.index("PMP")
    for k, currency in enumerate(currencies):
        if k == 0 and isinstance(tiers, TierTable):
            continue
        own = [d for d in dated if d.currency == currency]
        for p, day in enumerate(starts):
            in_force = [d for d in own if d.effective <= day]
            if not in_force:
                continue
            table = in_force[-1].table
            card = int(card_of[(k * len(MODELS) + pmp) * len(starts) + p])
            lists = _bands(table, markets, labels)
            dropped = frozenset(slot for slot, lst in enumerate(lists)
                                if lst and not _lists_rate_of(lst, rate, card, slot, slots))
            for slot in sorted(dropped):
                cell = (currency, markets[slot // len(COLUMNS)], COLUMNS[slot % len(COLUMNS)])
                if not any(u[:3] == cell for u in untiered):
                    untiered.append((*cell, day, lists[slot][0][1], f"{currency} table of {in_force[-1].effective}"))
            band_set_of[k * len(starts) + p] = band_set(table, dropped)
    return bands or [[] for _ in range(slots)], band_set_of, labels


def _lists_rate_of(bands: list[tuple[int, int, float, int]], rate: np.ndarray, card: int, slot: int,
                   slots: int) -> bool:
    """Whether a cell's first band is the card's list rate there."""
    if card < 0:
        return False
    lower, _, first, _ = bands[0]
    listed = rate[card * slots + slot]
    return lower <= 1 and not math.isnan(listed) and abs(listed - first) < 1e-9


def _bands(tiers: TierTable, markets: list[str], labels: list[str]) -> list[list[tuple[int, int, float, int]]]:
    bands: list[list[tuple[int, int, float, int]]] = [[] for _ in range(len(markets) * len(COLUMNS))]
    for band in tiers.bands:
        if band.label not in labels:
            labels.append(band.label)
        slot = markets.index(band.market) * len(COLUMNS) + COLUMNS.index(band.category)
        bands[slot].append((band.lower, band.upper, band.rate, labels.index(band.label)))
    for slot in bands:
        slot.sort()
    return bands


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
    if override is None:
        return per_user, None
    # Trailing -1 entry: code -1 (no user_country) stays -1.
    return per_user, np.array([index[c] for c in override_values] + [-1], np.int16)[override]


def countryless_users(canonical: CanonicalEvents, per_user: np.ndarray, override: np.ndarray | None) -> pd.Index:
    """The ids of the users some row of whom gets no country (sorted, as user_values, in their
    dtype: no Python string is made for a warning that names one): market Other is then a
    guess, and a national-format number may well be a user of a standalone market."""
    countryless = per_user < 0
    if override is not None and countryless.any():
        # A user whose every row gives user_country is priced by those rows alone.
        countryless &= np.bincount(canonical.user[override < 0], minlength=len(per_user)).astype(bool)
    return canonical.user_values[countryless]


def warn_countryless(users: pd.Index | np.ndarray, stacklevel: int) -> None:
    """One warning counting `users` (sorted ids, distinct) and naming the smallest."""
    count = len(users)
    if count:
        first = users[0]
        who = "1 user has no country and is" if count == 1 else f"{count:,} users have no country and are"
        ids = "its id is" if count == 1 else "their ids are"
        warnings.warn(f"{who} priced in market {OTHER}: {ids} neither a BSUID of a known country nor an "
                      f"international phone number (first: {str(first)!r}). Write numbers with + or 00 and the "
                      "calling code (bare digits, as webhooks' wa_id, count as international too), or give a "
                      "user_country column", WaconvWarning, stacklevel=stacklevel + 1)


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


def waba_currencies(config: Any, waba_values: pd.Index, default: str, *,
                    warn_at: int | None = 2) -> tuple[tuple[str, ...], np.ndarray | None]:
    """currencies= as the other currencies (sorted) and each WABA's code (0: the default).

    Keys match WABA ids by value or by their text, as timezones= does; a key naming no WABA
    of the log warns (a misspelt id would silently bill that WABA in the default currency)
    at stack level `warn_at` from here, unless it is None (one part of a split log)."""
    if config is None:
        return (), None
    if isinstance(config, pd.Series):
        config = config.to_dict()
    if not isinstance(config, Mapping):
        raise InputError("currencies", None, f"expected a mapping of WABA id to currency code such as "
                         f"{{'waba-in': 'INR'}}, got {type(config).__name__}")
    chosen = {key: currency_code(value, "currencies") for key, value in config.items()}
    others = tuple(sorted({c for c in chosen.values() if c != default}))
    codes = {default: 0, **{c: i + 1 for i, c in enumerate(others)}}
    by_text = {str(key): value for key, value in chosen.items()}
    per_waba = np.array([codes[chosen.get(w, by_text.get(str(w), default))] for w in waba_values.tolist()], np.int8)
    texts = {str(w) for w in waba_values.tolist()}
    wabas = set(waba_values.tolist())
    unused = [key for key in chosen if key not in wabas and str(key) not in texts]
    if unused and warn_at is not None:
        more = f" (and {len(unused) - 1} more)" if len(unused) > 1 else ""
        warnings.warn(f"currencies key {unused[0]!r}{more} names no WABA of the log: its currency is not used",
                      WaconvWarning, stacklevel=warn_at)
    return others, per_waba


def check_cards_in_force(plan: PricingPlan, gaps: Mapping[str, Any], canonical: CanonicalEvents) -> None:
    """A WABA billed in a currency with no card in force is an error: no rate may be
    converted from another currency (Meta publishes local cards, not exchange rates)."""
    first = np.asarray(gaps["first_without_card"])
    for code in range(1, len(plan.currencies)):  # the default currency falls back to its earliest card
        row = int(first[code])
        if row < 0:
            continue
        currency = plan.currencies[code]
        delivered = int(canonical.delivered_at[row])
        zone = canonical.time_zones[int(canonical.waba[row])]  # cards switch at WABA-local midnight
        when = pd.Timestamp(delivered if delivered != np.iinfo(np.int64).min else int(canonical.timestamp[row]),
                            tz="UTC").tz_convert(zone)
        waba = canonical.waba_values[int(canonical.waba[row])]
        dates = ", ".join(sorted({c.effective.isoformat() for c in plan.cards if c.currency == currency}))
        raise InputError("currencies", row, f"WABA {waba!r} is billed in {currency}, but no {currency} card is in "
                         f"force on {when:%Y-%m-%d} ({zone}; waconv ships {currency} cards effective {dates}; "
                         "it never converts from another currency)")


def report_gaps(plan: PricingPlan, gaps: Mapping[str, Any], messages: pd.DataFrame,
                canonical: CanonicalEvents | None = None, rows: np.ndarray | None = None) -> None:
    """Warns (or, for user-supplied cards, raises) where a charged unit has no exact rate.

    gaps: what the core's pricing pass counted (see PricingGaps in cpp/include/waconv/price.hpp).
    rows: the input positions of `messages`' rows, where they are not their positions (phase 2
    of a split run prices the gathered rows only).
    """
    unknown = int(gaps["unknown_rate"])
    if unknown:
        if plan.user_cards:
            raise no_rate_error(plan, gaps, *first_unpriced(gaps, messages, rows))
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
        warnings.warn(borrowed_line(plan, gaps), WaconvWarning, stacklevel=4)
    if plan.untiered and canonical is not None:
        _report_untiered(plan, canonical, messages)


def first_unpriced(gaps: Mapping[str, Any], messages: pd.DataFrame,
                   rows: np.ndarray | None = None) -> tuple[Any, Any, int]:
    """The category, market and input row of the first charged unit without a rate."""
    first = int(gaps["first_unknown_rate"])
    return (messages["pricing_category"].iloc[first], messages["market"].iloc[first],
            first if rows is None else int(rows[first]))


def no_rate_error(plan: PricingPlan, gaps: Mapping[str, Any], category: Any, market: Any, row: int) -> InputError:
    """A user's card lacks a rate the log needs: an error, not a warning (a typo in their file)."""
    card = int(gaps["first_unknown_card"])
    label = plan.cards[card].source if card >= 0 else "the rate cards"
    return InputError(None, None, f"no rate for {category} in {market} (first needed by row {row})", file=label)


def _report_untiered(plan: PricingPlan, canonical: CanonicalEvents, messages: pd.DataFrame) -> None:
    """Warns where an untiered cell's list rate was charged past the first band of the table
    that no longer applies there: Meta would most likely have given a discount, but no public
    table says which, so the list rate stands and the user is told (docs/rules.md, Volume tiers)."""
    if not {"market", "currency", "pricing_type", "pricing_model"} <= set(messages.columns):
        return
    # Only rows in an untiered market can count: narrowing to them first keeps this off the
    # full-log path (object copies of 10M-row columns would cost seconds every call).
    charged = ((messages["pricing_model"] == "PMP") & (messages["pricing_type"] == "regular")
               & messages["tier"].isna() & messages["market"].isin({u[1] for u in plan.untiered})).to_numpy(dtype=bool)
    if not charged.any():
        return
    taken = np.flatnonzero(charged)
    delivered = canonical.delivered_at[taken].astype("datetime64[ns]")
    rows = pd.DataFrame({"currency": messages["currency"].iloc[taken].to_numpy(dtype=object),
                         "market": messages["market"].iloc[taken].to_numpy(dtype=object),
                         "category": messages["pricing_category"].iloc[taken].to_numpy(dtype=object),
                         "portfolio": canonical.portfolio[taken],
                         "at": pd.to_datetime(delivered, utc=True),
                         "month": delivered.astype("datetime64[M]")})  # UTC months, as before
    found = []
    for currency, market, column, since, first_upper, table in plan.untiered:
        cell = rows[(rows["currency"] == currency) & (rows["market"] == market) & (rows["category"] == column)
                    & (rows["at"] >= pd.Timestamp(since, tz="UTC"))]
        counts = cell.groupby(["portfolio", "month"]).size()
        past = int((counts - first_upper).clip(lower=0).sum())
        if past:
            found.append(f"{column} in {market} from {since}: {past:,} past {first_upper:,} a month "
                         f"({table})")
    if found:
        warnings.warn("charged at the list rate with no volume tier, where the card changed the list rate "
                      "after the last public tier table; pass volume_tiers= with your account's table: "
                      + "; ".join(found), WaconvWarning, stacklevel=4)


def report_gaps_once(reports: list[Mapping[str, Any]]) -> None:
    """report_gaps for phase 2 run in several groups (a stream's portfolio partitions): the
    counts of groups priced under one plan are summed, so the user reads one warning with the
    whole log's numbers, as one classify gives it, not one partial warning per group.

    reports: each group's {"plan", "gaps", "messages", "rows", "countryless"}
    (price_gathered(report=False)); "messages" may be None where no group of a user's cards
    lacks a rate (scale/remote.py). A user of several groups is counted once among those
    without a country."""
    countryless = [r["countryless"] for r in reports if len(r.get("countryless", ()))]
    if countryless:  # the ids of one log: of one type, so they sort as one classify sorts them
        warn_countryless(np.asarray(sorted(set().union(*map(set, countryless))), dtype=object), stacklevel=3)
    by_plan: dict[tuple, list[Mapping[str, Any]]] = {}
    for report in reports:
        by_plan.setdefault(_gaps_layout(report["plan"]), []).append(report)
    for same in by_plan.values():
        plan = same[0]["plan"]
        failing = [r for r in same if r["gaps"]["unknown_rate"]]
        if plan.user_cards and failing:  # an error, named in the group that found it
            report_gaps(plan, failing[0]["gaps"], failing[0]["messages"], rows=failing[0].get("rows"))
        report_gaps(plan, _summed_gaps([r["gaps"] for r in same]), same[0]["messages"])


def _gaps_layout(plan: PricingPlan) -> tuple:
    """What the gap counts are indexed by (cards, markets, currencies): plans alike in it
    count alike, whether they are one object or copies unpickled from several workers."""
    cards = tuple((c.currency, c.model, c.effective, c.source) for c in plan.cards)
    return cards, tuple(plan.markets), tuple(plan.currencies), plan.user_cards


def _summed_gaps(parts: list[Mapping[str, Any]]) -> dict[str, Any]:
    """Counts added up; a `first_*` (a row of one group, or per currency) from the first
    group that has one."""
    out: dict[str, Any] = {}
    for name in parts[0]:
        values = [part[name] for part in parts]
        if not name.startswith("first_"):
            out[name] = sum(values[1:], values[0]) if np.ndim(values[0]) == 0 else np.sum(values, axis=0)
        elif np.ndim(values[0]) == 0:
            out[name] = next((v for v in values if v >= 0), values[0])
        else:
            stacked = np.asarray(values)
            found = (stacked >= 0).argmax(axis=0)
            out[name] = stacked[found, np.arange(stacked.shape[1])]
    return out


def borrowed_line(plan: PricingPlan, gaps: Mapping[str, Any]) -> str:
    """One line: which periods and markets are priced from another card than the one in force."""
    categories = _core.PRICING_CATEGORIES
    by_cell = np.asarray(gaps["borrowed_by_card_cell"]).reshape(len(plan.cards), len(plan.markets), len(categories))
    parts = []
    for card in np.flatnonzero(by_cell.sum(axis=(1, 2))):
        counts = by_cell[card].sum(axis=1)
        markets = sorted(np.flatnonzero(counts), key=lambda m: (-counts[m], plan.markets[m]))
        names = [plan.markets[m] for m in markets]
        shown_names = ", ".join(names[:4]) + (f" and {len(names) - 4} more" if len(names) > 4 else "")
        sources = {_rate_source(plan, int(card), int(m), categories[c]) for m in markets
                   for c in np.flatnonzero(by_cell[card, m])}
        labels = sorted(plan.cards[s].label for s in sources if s >= 0)
        parts.append(f"{_validity(plan, int(card))} {shown_names} (rates of {', '.join(labels)})")
    return (f"{int(gaps['borrowed']):,} charged units are priced from another card where the card in force has no "
            f"rate: {'; '.join(parts)}")


def _rate_source(plan: PricingPlan, card: int, market: int, category: str) -> int:
    """The card that supplied a category's rate in a market at a card (the core's rate_column)."""
    column = {"marketing_lite": "marketing"}.get(category, category)
    if category == "service" and plan.cards[card].model == "PMP":
        column = "utility"  # pmp_v2 service messages cost the utility rate
    if column not in COLUMNS:
        return -1
    return int(plan.rate_source[(card * len(plan.markets) + market) * len(COLUMNS) + COLUMNS.index(column)])


def _validity(plan: PricingPlan, card: int) -> str:
    """A card's period, 'CBP 2023-06..2024-09' style, ended by the next card of its model and currency."""
    this = plan.cards[card]
    later = sorted(c.effective for c in plan.cards
                   if c.model == this.model and c.currency == this.currency and c.effective > this.effective)
    end = f"..{later[0] - dt.timedelta(days=1):%Y-%m}" if later else " onwards"
    return f"{this.currency} {this.model} {this.effective:%Y-%m}{end}:"
