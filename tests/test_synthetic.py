"""waconv.synthetic.events: shape of the frame, determinism, and the promised traffic features
(checked by classifying the log, not by trusting the generator)."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

import waconv
from waconv import synthetic

START = pd.Timestamp("2025-06-01", tz="UTC")
COLUMNS = ["message_id", "business", "waba", "user", "timestamp", "direction", "template_category",
           "delivered_at", "status", "referral"]


def quiet_classify(frame: pd.DataFrame, **options) -> waconv.Result:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", waconv.WaconvWarning)  # rate-card gaps are not the subject
        return waconv.classify(frame, timezones=synthetic.TIMEZONES, **options)


@pytest.fixture(scope="module")
def log() -> pd.DataFrame:
    """Two months across the 2025-07-01 switch from conversations to per-message pricing."""
    return synthetic.events(n_users=600, days=60, start="2025-06-01", seed=7, n_businesses=4)


@pytest.fixture(scope="module")
def result(log) -> waconv.Result:
    return quiet_classify(log)


def test_columns_types_and_consistency(log):
    assert list(log.columns) == COLUMNS
    for name in ("timestamp", "delivered_at"):
        assert str(log[name].dt.tz) == "UTC"
        assert (log[name].dropna().dt.microsecond == 0).all()  # whole seconds, like webhooks
    assert log["timestamp"].is_monotonic_increasing  # ordered like an export
    end = START + pd.Timedelta(days=60)
    assert log["timestamp"].min() >= START and log["timestamp"].max() < end
    inbound = log["direction"] == "inbound"
    assert set(log["direction"]) == {"inbound", "outbound"}
    assert log.loc[inbound, ["template_category", "delivered_at", "status"]].isna().all().all()
    assert not log.loc[~inbound, "referral"].any()
    outbound = log[~inbound]
    assert set(outbound["status"]) == {"sent", "delivered", "read", "failed"}
    # a delivered time exists exactly when a delivered or read receipt does (classify's _delivery
    # reads the same answer from either column)
    received = outbound["status"].isin(["delivered", "read"])
    assert (received == outbound["delivered_at"].notna()).all()
    assert (outbound["delivered_at"].dropna() >= outbound.loc[received, "timestamp"]).all()
    assert set(log["template_category"].dropna()) == {"marketing", "utility", "authentication", "marketing_lite"}
    assert log["user"].str.fullmatch(r"\+[1-9]\d{9,13}").all()  # E.164
    assert log["message_id"].str.fullmatch(r"wamid\.[0-9a-f]{16}").all()
    mapping = synthetic.business_waba(4)
    assert log.groupby("business")["waba"].agg(lambda w: set(w)).to_dict() == {b: {w} for b, w in mapping.items()}
    assert set(log["waba"]) <= set(synthetic.TIMEZONES)


def test_row_count_scales_with_users_and_days():
    small = synthetic.events(n_users=200, days=10)
    assert 0.85 * 1.05 * 200 * 10 < len(small) < 1.25 * 1.05 * 200 * 10  # documented ~1.05 rows/user/day
    assert len(synthetic.events(n_users=400, days=10)) > 1.6 * len(small)
    assert len(synthetic.events(n_users=200, days=20)) > 1.6 * len(small)


def test_same_seed_same_frame_other_seed_other_frame():
    a = synthetic.events(n_users=150, days=10, seed=3)
    pd.testing.assert_frame_equal(a, synthetic.events(n_users=150, days=10, seed=3))
    b = synthetic.events(n_users=150, days=10, seed=4)
    assert not a.equals(b)
    assert set(a["message_id"]).isdisjoint(b["message_id"])
    assert set(a["user"]) != set(b["user"])


def test_many_countries_including_us_and_india(result):
    counts = result.messages["country"].value_counts()
    present = set(counts[counts > 0].index)
    assert {"US", "IN", "BR", "MX", "DE", "NG"} <= present
    assert len(present) >= 20


def test_injected_duplicates_are_exactly_those_classify_flags():
    with_copies = synthetic.events(n_users=300, days=15, seed=11, duplicate_rate=0.05)
    without = synthetic.events(n_users=300, days=15, seed=11, duplicate_rate=0.0)
    flagged = quiet_classify(with_copies, price=False)
    injected = len(with_copies) - len(without)
    assert injected > 100
    assert flagged.n_duplicates == injected
    duplicate = flagged.messages["duplicate"].to_numpy()
    pd.testing.assert_frame_equal(with_copies[~duplicate].reset_index(drop=True), without)
    # each copy repeats the row just before it (a re-delivered webhook)
    copies = np.flatnonzero(duplicate)
    pd.testing.assert_frame_equal(with_copies.iloc[copies].reset_index(drop=True),
                                  with_copies.iloc[copies - 1].reset_index(drop=True))


def test_default_duplicate_rate_is_small_but_present(log, result):
    assert 0 < result.n_duplicates < 0.02 * len(log)


def test_status_alone_gives_the_same_delivered_rows(log, result):
    by_status = quiet_classify(log.drop(columns="delivered_at"), price=False)
    undelivered = result.messages["pricing_type"].isna().to_numpy()
    assert (by_status.messages["pricing_type"].isna().to_numpy() == undelivered).all()


def test_replies_inside_and_outside_the_service_window(result):
    m = result.messages
    outbound = (m["direction"] == "outbound") & ~m["duplicate"]
    free_form = outbound & m["template_category"].isna()
    inside = free_form & m["csw_open"] & m["pricing_type"].notna()
    assert inside.sum() > 1000
    # free-form sent outside the window: flagged, and rejected (failed) like Meta does
    violations = m[m["policy_violation"]]
    assert len(violations) > 20
    assert (violations["status"] == "failed").all()
    assert violations["template_category"].isna().all()
    assert len(violations) < 0.03 * outbound.sum()
    # templates delivered outside the window: campaigns, notifications, re-engagement
    templates_outside = outbound & m["template_category"].notna() & ~m["csw_open"] & m["pricing_type"].notna()
    assert templates_outside.sum() > 500


def test_campaigns_reach_many_users_in_the_same_minute(log):
    marketing = log[log["template_category"].isin(["marketing", "marketing_lite"])]
    per_minute = marketing.groupby([marketing["business"], marketing["timestamp"].dt.floor("min")])["user"].nunique()
    assert per_minute.max() >= 20
    assert (marketing["template_category"] == "marketing_lite").mean() > 0.1


def test_marketing_lite_only_from_its_launch():
    frame = synthetic.events(n_users=300, days=30, start="2024-10-01")
    lite = frame.loc[frame["template_category"] == "marketing_lite", "timestamp"]
    assert len(lite) > 0
    assert lite.min() >= pd.Timestamp("2024-10-15", tz="UTC")


def test_inbound_bursts(log):
    inbound = log[log["direction"] == "inbound"].sort_values(["business", "user", "timestamp"], kind="stable")
    same_pair = (inbound["business"] == inbound["business"].shift()) & (inbound["user"] == inbound["user"].shift())
    within_a_minute = inbound["timestamp"].diff() < pd.Timedelta(minutes=1)
    assert (same_pair & within_a_minute).sum() > 0.1 * len(inbound)


def test_referrals_open_free_entry_point_windows(log, result):
    windows = result.windows
    fep = windows[windows["kind"] == "free_entry_point"]
    referrals = int(log["referral"].sum())
    assert 0 < len(fep) <= referrals
    assert len(fep) > 0.5 * referrals  # the business answers most ad clicks within a day
    assert (result.messages["pricing_type"] == "free_entry_point").sum() > len(fep)
    none = quiet_classify(synthetic.events(n_users=200, days=10, referral_rate=0.0), price=False)
    assert (none.windows["kind"] == "free_entry_point").sum() == 0


def test_failure_rate_and_lost_receipts():
    clean = synthetic.events(n_users=300, days=15, seed=2, failure_rate=0.0, lost_receipt_rate=0.0)
    flagged = quiet_classify(clean)
    m = flagged.messages
    failed = (m["status"] == "failed").to_numpy()
    # with no random failures, the only failures are Meta's rejections
    us_marketing = m["template_category"].isin(["marketing", "marketing_lite"]) & (m["country"] == "US")
    assert (failed == (m["policy_violation"] | us_marketing).to_numpy()).all()
    assert (m["status"] != "sent").all()

    lossy = synthetic.events(n_users=300, days=15, seed=2, failure_rate=0.3, lost_receipt_rate=1.0)
    outbound = lossy[lossy["direction"] == "outbound"]
    undelivered = outbound["delivered_at"].isna().mean()
    assert 0.27 < undelivered < 0.36
    assert set(outbound["status"]) == {"sent", "read", "failed"}  # no 'delivered' receipt survives
    # read-without-delivered: delivered_at is the (later) read time
    delay = lambda frame: (frame["delivered_at"] - frame["timestamp"]).dropna().median()  # noqa: E731
    assert delay(outbound) > delay(clean[clean["direction"] == "outbound"]) + pd.Timedelta(minutes=5)


ERA_STARTS = {  # SPEC §3, WABA-local midnight
    "cbp_v1": "2022-02-01", "cbp_v2": "2023-06-01", "pmp_v1": "2025-07-01", "pmp_v2": "2026-10-01",
}


def eras_between(start: str, days: int) -> set[str]:
    begin, end = pd.Timestamp(start), pd.Timestamp(start) + pd.Timedelta(days=days)
    bounds = [pd.Timestamp(v) for v in ERA_STARTS.values()] + [pd.Timestamp("2100-01-01")]
    return {era for era, lo, hi in zip(ERA_STARTS, bounds, bounds[1:]) if lo < end and hi > begin}


@pytest.mark.parametrize("start, days", [("2023-05-20", 25), ("2025-06-20", 25), ("2026-09-18", 25),
                                         ("2022-03-01", 10)])
def test_every_era_in_the_range_appears(start, days):
    expected = eras_between(start, days)
    classified = quiet_classify(synthetic.events(n_users=150, days=days, start=start, seed=1), price=False)
    m = classified.messages
    seen = set(m.loc[m["pricing_type"].notna(), "era"].astype(str))
    assert seen == expected


def test_priced_bill_covers_both_models(result):
    m = result.messages
    assert set(m["pricing_model"].astype(str)) == {"CBP", "PMP"}
    assert m["cost"].sum() > 0


@pytest.mark.parametrize("bad", [dict(n_users=0), dict(days=0), dict(n_businesses=0), dict(n_businesses=101),
                                 dict(failure_rate=1.5), dict(duplicate_rate=-0.1)])
def test_bad_arguments(bad):
    with pytest.raises(ValueError):
        synthetic.events(**bad)


def test_other_time_unit():
    frame = synthetic.events(n_users=50, days=5, time_unit="ns")
    assert frame["timestamp"].dtype == "datetime64[ns, UTC]"
    as_us = frame.astype({"timestamp": "datetime64[us, UTC]", "delivered_at": "datetime64[us, UTC]"})
    pd.testing.assert_frame_equal(as_us, synthetic.events(n_users=50, days=5))


def test_timezones_of_a_log_name_exactly_its_wabas_and_classify_does_not_warn():
    log = synthetic.events(n_users=300, days=5, seed=4, n_businesses=2)
    zones = synthetic.timezones(log)
    assert set(zones) == set(log["waba"]) and len(zones) < len(synthetic.TIMEZONES)
    assert all(zones[w] == synthetic.TIMEZONES[w] for w in zones)
    with warnings.catch_warnings():
        warnings.filterwarnings("error", message=".*names no WABA.*")
        waconv.classify(log, timezones=zones, price=False)
    with pytest.warns(waconv.WaconvWarning, match="names no WABA"):
        waconv.classify(log, timezones=synthetic.TIMEZONES, price=False)
