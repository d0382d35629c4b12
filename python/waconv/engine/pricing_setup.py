"""Plan and price one canonical table: the set-up every pricing run shares, one call or a
split run's phases, so that a pricing option is wired in one place.

Phase 1 needs the plan already (the US marketing pause reads each user's country); phase 2
runs the core's `price` on the classification with the same plan and countries. Both are
here: `plan_pricing` before the core's classify, `PricingSetup.price` after it.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from waconv import _core
from waconv.engine.canonical import CanonicalEvents
from waconv.engine.price import (
    PricingPlan,
    auth_international_arrays,
    countryless_users,
    make_plan,
    override_codes,
    us_flags,
    user_countries,
    waba_currencies,
    warn_countryless,
)
from waconv.pricing.rate_cards import RateCards
from waconv.pricing.tiers import TierTable


@dataclass
class PricingSetup:
    """One table's pricing plan and what the core reads of its users' countries."""

    plan: PricingPlan
    user_country: np.ndarray  # per user code, into plan.countries (-1: none)
    row_country: np.ndarray | None  # per row where the log gives user_country (-1: not given)
    waba_currency: np.ndarray | None  # per WABA code, into plan.currencies
    us_user: np.ndarray  # what phase 1 needs for the US marketing pause
    us_override: np.ndarray | None
    countryless: pd.Index  # ids of the users some row of whom gets no country

    def price(self, classification: Any, canonical: CanonicalEvents, *,
              auth_international: Mapping[Hashable, Mapping[str, object]] | None, threads: int,
              tier_used: Sequence[tuple[int, int, int, int, int]] = ()) -> Any:
        """The core's phase 2 pricing of `classification` (rewritten in place), its prices and gaps."""
        primary, start = auth_international_arrays(auth_international, canonical.portfolio_values,
                                                   self.plan.countries)
        return _core.price(classification, canonical.waba, canonical.timestamp, canonical.delivered_at,
                           canonical.user, self.user_country, self.row_country, canonical.portfolio,
                           canonical.time_zones, **self.plan.core_arguments(), auth_primary_country=primary,
                           auth_start=start, waba_currency=self.waba_currency, threads=threads,
                           tier_used=list(tier_used))


def plan_pricing(canonical: CanonicalEvents, cards: RateCards, user_cards: bool, tiers: TierTable | bool,
                 currencies: Mapping[Hashable, str] | None, *, whole_log: bool = True,
                 reports_countryless: bool = True, stacklevel: int = 2) -> PricingSetup:
    """The plan for `canonical`'s cards, tiers and currencies, and its users' countries.

    whole_log: False for one part of a split log, where a currencies= key naming none of the
    part's WABAs is no slip (the driver checks the keys against the whole input).
    reports_countryless: False where another step of the same call warns about the users
    with no country, so that the user reads it once (a split run's partitions: phase 2 does;
    phase 2 priced in groups: the caller, from each group's `countryless`).
    stacklevel: as warnings.warn's, from the caller: the line the set-up's warnings point at.
    """
    # Warned where they arise, at the caller's line, or not at all: catching warnings to
    # re-raise or drop them would swap the process's warning filters under other threads.
    other_currencies, waba_currency = waba_currencies(currencies, canonical.waba_values, cards.currency,
                                                      warn_at=stacklevel + 2 if whole_log else None)
    override, override_values = override_codes(canonical.user_country, canonical.user_country_column)
    plan = make_plan(cards, tiers, set(override_values), user_cards, other_currencies)
    user_country, row_country = user_countries(canonical, plan, override, override_values)
    countryless = countryless_users(canonical, user_country, override)
    if reports_countryless:
        warn_countryless(countryless, stacklevel + 1)
    us_user, us_override = us_flags(plan, user_country, row_country)
    return PricingSetup(plan, user_country, row_country, waba_currency, us_user, us_override, countryless)
