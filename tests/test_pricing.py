"""Hand-computed bills (USD cards shipped with waconv) and pricing errors."""

from __future__ import annotations

import io
import warnings

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import waconv
from builders import log, verdicts
from random_logs import TIMEZONES, random_log
from waconv.engine.tables import charged_units

BRAZIL = "+5511987654321"
pytestmark = pytest.mark.filterwarnings("ignore::waconv.WaconvWarning")


def bill(frame, **options) -> float:
    return round(float(waconv.classify(frame, **options).messages.cost.sum()), 6)


def test_meta_pmp_v1_example_priced():
    # Oct-2025 card, Brazil: marketing 0.0625 + the out-of-window utility 0.0068.
    frame = log("2025-10-06", (0, "out", "marketing"), (2, "in"), (3, "out"), (4, "out", "utility"),
                (30, "out", "utility"), user=BRAZIL)
    r = waconv.classify(frame)
    assert verdicts(r, "cost") == [0.0625, 0.0, 0.0, 0.0, 0.0068]
    assert verdicts(r, "country") == ["BR"] * 5
    assert verdicts(r, "market")[0] == "Brazil"
    assert verdicts(r, "currency")[0] == "USD"


def test_meta_pmp_v2_example_priced_service_at_utility_rate():
    # Oct-2026 card, Brazil: marketing 0.0625 + 3 x utility 0.0068, no rate from another card.
    # Meta's example predates the service allowance (on by default): off here.
    frame = log("2026-10-05", (0, "out", "marketing"), (2, "in"), (3, "out"), (4, "out", "utility"),
                (30, "out", "utility"), user=BRAZIL)
    with warnings.catch_warnings():
        warnings.simplefilter("error", waconv.WaconvWarning)
        r = waconv.classify(frame, service_free_allowance=0)
    assert verdicts(r, "cost") == [0.0625, 0.0, 0.0068, 0.0068, 0.0068]
    assert verdicts(r, "rate_card") == ["USD PMP 2026-10-01", None, "USD PMP 2026-10-01", "USD PMP 2026-10-01",
                                        "USD PMP 2026-10-01"]
    assert bill(frame, service_free_allowance=0) == 0.0829


def test_meta_cbp_v2_example_priced():
    # Oct-2024 CBP card, Brazil: the marketing conversation 0.0625; the service conversation
    # of 2024-11 is free.
    frame = log("2024-11-04", (0, "out", "marketing"), (4, "in"), (5, "out"), (25, "out"), (26, "out"), user=BRAZIL)
    r = waconv.classify(frame)
    assert verdicts(r, "cost") == [0.0625, 0, 0, 0, 0]
    assert r.conversations.cost.tolist() == [0.0625, 0.0]


def test_free_tier_exhausted_at_the_1001st_conversation():
    # 1,001 service conversations with Indonesian users in October 2024: 1,000 free, the
    # last one at Indonesia's service rate (0.0190, the June-2023 card: Oct-2024 has none).
    frames = [log("2024-10-02", (0.01 * k, "in"), (0.01 * k + 0.001, "out"), user=f"+62812{k:07d}")
              for k in range(1001)]
    r = waconv.classify(pd.concat(frames, ignore_index=True))
    assert (r.conversations.pricing_type == "free_tier").sum() == 1000
    assert r.messages.cost.sum() == pytest.approx(0.0190)
    assert r.conversations.cost.sum() == pytest.approx(0.0190)


TIERS = """Market,Category,Tier,Rate
Brazil,utility,0:2,0.0068
Brazil,utility,3:MAX,0.005
"""


def test_volume_tier_boundary_crossed_mid_month_and_reset():
    frame = log("2025-10-20", *[(24 * k, "out", "utility") for k in range(4)], (24 * 13, "out", "utility"),
                user=BRAZIL)
    r = waconv.classify(frame, volume_tiers=io.StringIO(TIERS))
    assert verdicts(r, "cost") == [0.0068, 0.0068, 0.005, 0.005, 0.0068]  # Nov 2: new month
    assert verdicts(r, "tier") == ["0:2", "0:2", "3:MAX", "3:MAX", "0:2"]


def test_tiers_count_per_portfolio_across_wabas():
    a = log("2025-10-20", (0, "out", "utility"), (1, "out", "utility"), user=BRAZIL, waba="w1", portfolio="p")
    b = log("2025-10-20", (2, "out", "utility"), user="+5521912345678", waba="w2", portfolio="p")
    r = waconv.classify(pd.concat([a, b], ignore_index=True), volume_tiers=io.StringIO(TIERS))
    assert verdicts(r, "tier") == ["0:2", "0:2", "3:MAX"]


def test_sao_paulo_waba_switches_cards_three_hours_after_utc():
    # 2025-10-01 01:00 UTC is still September 30 in Sao Paulo: the July-2025 card (Mexico
    # marketing 0.0436) instead of October's 0.0305.
    frame = log("2025-10-01 01:00", (0, "out", "marketing"), user="+5215512345678", waba="w")
    assert bill(frame) == 0.0305
    assert bill(frame, timezones={"w": "America/Sao_Paulo"}) == 0.0436


def test_auth_international_before_and_after_start():
    frame = log("2025-10-15", (0, "out", "authentication"), (24 * 31, "out", "authentication"),
                user="+919812345678", portfolio="acme")
    config = {"acme": {"primary_country": "BR", "start": "2025-11-01"}}
    r = waconv.classify(frame, auth_international=config)
    assert verdicts(r, "pricing_category") == ["authentication", "authentication_international"]
    assert verdicts(r, "cost") == [0.0014, 0.0280]
    home = waconv.classify(frame, auth_international={"acme": {"primary_country": "IN", "start": "2025-11-01"}})
    assert verdicts(home, "cost") == [0.0014, 0.0014]


def test_auth_international_cbp_conversation():
    frame = log("2024-08-05", (0, "out", "authentication"), user="+6281234567890", portfolio="acme")
    r = waconv.classify(frame, auth_international={"acme": {"primary_country": "BR", "start": "2024-07-01"}})
    assert r.conversations.category.tolist() == ["authentication_international"]
    assert verdicts(r, "cost") == [0.1360]  # June-2023 card's Indonesia auth-international


def test_us_marketing_pause():
    us = log("2025-05-05", (0, "out", "marketing"), user="+12125550101")
    canada = log("2025-05-05", (0, "out", "marketing"), user="+14165550101")
    r = waconv.classify(us)
    assert verdicts(r, "us_marketing_paused") == [True]
    assert verdicts(r, "pricing_type") == [None] and bill(us) == 0
    assert bill(canada) == 0.0250
    before = log("2025-03-31", (0, "out", "marketing"), user="+12125550101")
    assert verdicts(waconv.classify(before), "us_marketing_paused") == [False]


def test_user_country_overrides_the_phone_number():
    frame = log("2025-10-06", (0, "out", "marketing"), user=BRAZIL).assign(user_country="de")
    assert bill(frame) == 0.1365
    bsuid = log("2025-10-06", (0, "out", "marketing"), user="DE.13491208655302741918")
    assert bill(bsuid) == 0.1365


def test_user_country_decides_the_us_marketing_pause_row_by_row():
    # The row's own user_country beats the phone number both ways; rows without one
    # (null) keep their number's country.
    frame = pd.concat([log("2025-05-05", (0, "out", "marketing"), user=BRAZIL),
                       log("2025-05-05", (1, "out", "marketing"), user="+12125550101"),
                       log("2025-05-05", (2, "out", "marketing"), user="+12125550102")], ignore_index=True)
    frame["user_country"] = ["US", "BR", None]
    r = waconv.classify(frame)
    assert verdicts(r, "us_marketing_paused") == [True, False, True]
    assert r.messages.country.tolist() == ["US", "BR", "US"]
    assert r.messages.market.tolist()[1] == "Brazil" and r.messages.cost.tolist()[1] == 0.0625


def test_what_if_same_traffic_priced_as_cbp_and_pmp():
    frame = log("2025-10-06", (0, "out", "marketing"), (1, "out", "marketing"), (2, "in"), (3, "out"), user=BRAZIL)
    assert bill(frame, rules="cbp_v2") == 0.0625  # one marketing conversation, service joins it
    assert bill(frame, rules="pmp_v1") == 0.125
    assert bill(frame, rules="pmp_v2", service_free_allowance=0) == 0.1318
    assert bill(frame, rules="pmp_v2") == 0.125  # the service allowance frees the text


def test_price_false_skips_phase_two():
    r = waconv.classify(log("2025-10-06", (0, "out", "marketing")), price=False)
    assert "cost" not in r.messages.columns


CARD = '''Cost per message in BRL on the WhatsApp Business Platform, effective July 1, 2026,,,,,,
Market,Currency,Marketing,Utility,Authentication,"Authentication-
International",Service
Brazil,BRL,0.3125,0.0340,0.0340,n/a,n/a
Other,BRL,0.30,0.04,0.04,n/a,n/a
'''


def test_own_card_in_meta_layout_any_currency():
    card = waconv.RateCard.from_csv(io.StringIO(CARD))
    assert (card.effective.isoformat(), card.model, card.currency) == ("2026-07-01", "PMP", "BRL")
    frame = log("2026-08-03", (0, "out", "marketing"), user=BRAZIL)
    r = waconv.classify(frame, rate_card=card)
    assert verdicts(r, "cost") == [0.3125] and verdicts(r, "currency") == ["BRL"]


def test_shipped_cards_can_be_inspected_and_combined():
    cards = waconv.RateCards.default()
    assert cards.in_force(pd.Timestamp("2026-02-01").date(), "PMP").rate("North America", "utility") == 0.0034
    mine = waconv.RateCard.from_csv(io.StringIO(CARD.replace("BRL", "USD")))
    combined = cards + mine
    assert combined.in_force(pd.Timestamp("2026-08-01").date(), "PMP").rate("Brazil", "marketing") == 0.3125


def _error(source, **kwargs):
    with pytest.raises(waconv.InputError) as info:
        waconv.RateCard.from_csv(source, **kwargs)
    return info.value


def test_card_with_unknown_market(tmp_path):
    path = tmp_path / "card.csv"
    path.write_text(CARD.replace("Other,", "Atlantis,"))
    error = _error(path)
    assert (error.file, error.line, error.reason) == (str(path), 5, "unknown market 'Atlantis'")


def test_unparseable_card(tmp_path):
    path = tmp_path / "card.csv"
    path.write_text(CARD.replace("0.3125", "cheap"))
    error = _error(path)
    assert error.line == 4 and "not a number" in error.reason
    path.write_text("just,some,text\n1,2,3\n")
    assert "no header line" in _error(path).reason


def test_user_card_without_rate_for_a_charged_category():
    card = waconv.RateCard.from_csv(io.StringIO(CARD.replace("0.0340,0.0340", "n/a,n/a")))
    frame = log("2026-08-03", (0, "out", "utility"), user=BRAZIL)
    with pytest.raises(waconv.InputError, match="no rate for utility in Brazil"):
        waconv.classify(frame, rate_card=card)


def test_overlapping_tier_bands(tmp_path):
    path = tmp_path / "tiers.csv"
    path.write_text(TIERS + "Brazil,utility,2:10,0.004\n")
    with pytest.raises(waconv.InputError) as info:
        waconv.classify(log("2025-10-20", (0, "out", "utility")), volume_tiers=path)
    assert info.value.file == str(path) and info.value.line == 4 and "overlaps" in info.value.reason


@pytest.mark.parametrize("bands, line, reason", [
    ("0:1000,0.02\n2000:MAX,0.01", 3, "counts 1001 to 1999 would have no tier"),
    ("0:1000,0.02\n1001:5000,0.01", 3, "counts above 5000 would have no tier; end it at MAX"),
    ("101:1000,0.02\n1001:MAX,0.01", 2, "counts 1 to 100 would have no tier; start it at 0"),
])
def test_tier_bands_must_cover_every_count(tmp_path, bands, line, reason):
    # A count no band covers used to be priced at the list rate, and left out of the carried counts.
    path = tmp_path / "tiers.csv"
    path.write_text("Market,Category,Tier,Rate\n" + "".join(f"Brazil,utility,{b}\n" for b in bands.split("\n")))
    with pytest.raises(waconv.InputError) as info:
        waconv.classify(log("2025-10-20", (0, "out", "utility")), volume_tiers=path)
    assert (info.value.file, info.value.line) == (str(path), line) and reason in info.value.reason


def test_shipped_gaps_warn_instead_of_inventing_numbers():
    # No 2022 (cbp_v1) card ships: conversations past the free tier get NaN, with a warning.
    frame = pd.concat([log("2022-06-01", (0.01 * k, "out", "marketing"), user=f"+4477009{k:05d}") for k in range(3)],
                      ignore_index=True)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        r = waconv.classify(frame, free_tier_conversations=1)
    assert r.messages.cost.isna().tolist() == [False, True, True]
    assert any("2 charged units have no published rate" in str(w.message) and "(business_initiated in United Kingdom: 2)"
               in str(w.message) for w in caught)


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), threads=st.sampled_from([1, 2, 3]), free_tier=st.sampled_from([0, 3, 1000]))
def test_gap_warning_agrees_with_a_recount_of_the_result(seed, threads, free_tier):
    # The core counts unknown rates per (category, market) as it prices rows, tiered rows
    # after their tier; the warning must say what the finished messages table shows.
    frame = random_log(seed, n_rows=400, n_users=40)
    numbers = ["+5511987{:06d}", "+1415555{:04d}", "+4477009{:05d}", "+9198765{:05d}", "+2348031{:05d}"]
    users = {u: numbers[k % len(numbers)].format(k) for k, u in enumerate(frame.user.unique())}
    frame["user"] = frame.user.map(users)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        r = waconv.classify(frame, timezones=TIMEZONES, volume_tiers=io.StringIO(TIERS), threads=threads,
                            free_tier_conversations=free_tier)
    m = r.messages
    unknown = charged_units(m) & m.cost.isna().to_numpy()
    said = [str(w.message) for w in caught if "no published rate" in str(w.message)]
    if not unknown.any():
        assert said == []
        return
    (message,) = said
    assert message.startswith(f"{int(unknown.sum()):,} charged units have no published rate")
    cells = pd.DataFrame({"category": m.pricing_category[unknown].astype(str),
                          "market": m.market[unknown].astype(str)}).value_counts()
    expected = sorted((-n, c, mk) for (c, mk), n in cells.items())[:5]
    assert message.endswith("(" + "; ".join(f"{c} in {mk}: {-n:,}" for n, c, mk in expected) + ")")
