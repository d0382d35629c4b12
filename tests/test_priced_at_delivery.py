"""A message sent before a card, market or rule switch and delivered after it is priced by
what is in force at its delivery (issue #14): choosing by send time must fail these."""

from __future__ import annotations

import pandas as pd
import pytest

import waconv

pytestmark = pytest.mark.filterwarnings("ignore::waconv.WaconvWarning")
SENT = "23:50"  # on the day before each switch, UTC


def one(sent: str, delivered: str, user: str, category: str = "marketing") -> pd.Series:
    frame = pd.DataFrame({"business": ["b"], "user": [user], "timestamp": [pd.Timestamp(sent, tz="UTC")],
                          "direction": ["outbound"], "template_category": [category],
                          "delivered_at": [pd.Timestamp(delivered, tz="UTC")]})
    return waconv.classify(frame).messages.iloc[0]


@pytest.mark.parametrize("user, switch, before, after", [
    # Mexico marketing: July-2025 card 0.0436, October-2025 card 0.0305.
    ("+5215512345678", "2025-10-01", ("Mexico", 0.0436, "USD PMP 2025-07-01"), ("Mexico", 0.0305, "USD PMP 2025-10-01")),
    # Zimbabwe joins Rest of Africa on 2025-10-01 (Other 0.0604 before, Rest of Africa 0.0225 after).
    ("+263771234567", "2025-10-01", ("Other", 0.0604, "USD PMP 2025-07-01"),
     ("Rest of Africa", 0.0225, "USD PMP 2025-10-01")),
    # Hong Kong stands alone from 2026-07-01.
    ("+85291234567", "2026-07-01", ("Rest of Asia Pacific", 0.0732, "USD PMP 2026-04-01"),
     ("Hong Kong", 0.0732, "USD PMP 2026-07-01")),
    # A CBP conversation starts at delivery: its card is the one in force then.
    ("+6281234567890", "2024-10-01", ("Indonesia", 0.0411, "USD CBP 2023-06-01"),
     ("Indonesia", 0.0411, "USD CBP 2024-10-01")),
])
def test_card_and_market_in_force_at_delivery(user, switch, before, after):
    eve = (pd.Timestamp(switch) - pd.Timedelta(days=1)).strftime("%Y-%m-%d")
    early = one(f"{eve} {SENT}", f"{eve} 23:55", user)
    late = one(f"{eve} {SENT}", f"{switch} 00:10", user)
    assert (early.market, early.cost, early.rate_card) == before
    assert (late.market, late.cost, late.rate_card) == after


def test_us_marketing_pause_starts_with_deliveries_of_2025_04_01():
    late = one(f"2025-03-31 {SENT}", "2025-04-01 00:30", "+12125550101")
    assert late.us_marketing_paused and pd.isna(late.pricing_type) and late.cost == 0
    early = one(f"2025-03-31 {SENT}", "2025-03-31 23:55", "+12125550101")
    assert not early.us_marketing_paused and early.cost == 0.025
