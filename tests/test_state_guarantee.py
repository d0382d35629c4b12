"""SPEC §9's guarantee for carried state: cut a log at instants T1 < T2 (by effective time),
classify the first part, then each later part with the state of the call before (through its
bytes), and every row of the last part gets the per-message result one classify of the whole
log gives it. Conversation ids need only be consistent: one id per conversation.

Only the last part is compared: a middle part's verdicts may be revised by a later one, where
PMP's free entry point window opens at the first reply *sent* and a reply sent before a cut is
delivered after it (docs/rules.md §Daily runs); the state replays such rows, so the part after
is exact."""

from __future__ import annotations

import io
import warnings

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

import waconv
from waconv.engine.carry import LATE_SEND
from random_logs import TIMEZONES, random_log

# Small bands, so that a month's count crosses them within a few hundred rows.
TIERS = """Market,Category,Tier,Rate
Brazil,utility,0:3,0.0068
Brazil,utility,4:8,0.005
Brazil,utility,9:MAX,0.004
India,authentication,0:2,0.0014
India,authentication,3:MAX,0.0010
India,authentication_international,0:2,0.028
India,authentication_international,3:MAX,0.02
"""
NUMBERS = ["+5511987{:06d}", "+9198765{:05d}", "+1415555{:04d}", "+4477009{:05d}"]
COMPARED = ["user_key", "era", "pricing_model", "pricing_category", "pricing_type", "billable",
            "opens_conversation", "csw_open", "policy_violation", "us_marketing_paused", "duplicate", "market",
            "country", "tier", "rate", "cost", "currency", "charge_reason"]


def effective(frame: pd.DataFrame) -> pd.Series:
    return frame["delivered_at"].where(frame["delivered_at"].notna(), frame["timestamp"])


def with_identities(frame: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    """Users as phone numbers of several markets and BSUIDs, each row carrying its phone, its
    BSUID or both, so links made before a cut must hold after it. A user's first row links
    both: a link first seen in a later batch cannot re-key the rows of earlier ones (docs/rules.md
    §Daily runs), while one call over the whole log links them all."""
    users = frame["user"].unique()
    phone = {u: NUMBERS[k % len(NUMBERS)].format(k) for k, u in enumerate(users)}
    bsuid = {u: f"BR.{k:020d}" for k, u in enumerate(users)}
    carries = rng.choice(["phone", "bsuid", "both"], len(frame), p=[0.3, 0.4, 0.3])
    first = effective(frame).groupby(frame["user"]).idxmin().to_numpy()
    carries[frame.index.get_indexer(first)] = "both"
    out = frame.drop(columns=["user"])
    out["user_phone"] = np.where(carries != "bsuid", frame["user"].map(phone), None)
    out["user_bsuid"] = np.where(carries != "phone", frame["user"].map(bsuid), None)
    return out


def with_late_deliveries(frame: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    """Some deliveries up to LATE_SEND after their send: the oldest rows a later batch may hold."""
    late = frame["delivered_at"].notna().to_numpy() & (rng.random(len(frame)) < 0.05)
    delay = pd.to_timedelta(rng.integers(24 * 3600, LATE_SEND // 10**9 - 3600, len(frame)), unit="s")
    out = frame.copy()
    out.loc[late, "delivered_at"] = frame["timestamp"][late] + delay[late]
    return out


def column_values(frame: pd.DataFrame, name: str) -> list:
    values = frame[name].astype(object)
    return [None if v is None or v is pd.NA or (isinstance(v, float) and np.isnan(v)) else v for v in values]


def assert_same_verdicts(whole: pd.DataFrame, part: pd.DataFrame, where: str) -> None:
    for name in COMPARED:
        if name not in whole.columns:
            continue
        expected, got = column_values(whole, name), column_values(part, name)
        wrong = [k for k, (a, b) in enumerate(zip(expected, got)) if a != b]
        assert not wrong, f"{where}: {name} differs at rows {wrong[:5]}: {[expected[k] for k in wrong[:3]]} " \
                          f"!= {[got[k] for k in wrong[:3]]}"
    # One conversation, one id: the pairing of ids is a bijection.
    a = whole["conversation_id"].astype("Int64").fillna(-1).to_numpy()
    b = part["conversation_id"].astype("Int64").fillna(-1).to_numpy()
    assert ((a < 0) == (b < 0)).all(), where
    pairs = set(zip(a[a >= 0].tolist(), b[b >= 0].tolist()))
    assert len({x for x, _ in pairs}) == len(pairs) == len({y for _, y in pairs}), where


@settings(max_examples=60, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    cuts=st.lists(st.floats(0.02, 0.98), min_size=1, max_size=2),
    identities=st.booleans(),
    free_tier=st.sampled_from([0, 2, 6, 1000]),
    service=st.sampled_from([0, 2, 7, 1000]),
    anchor=st.sampled_from(["delivered", "sent"]),
    rules=st.sampled_from(["auto", "auto", "cbp_v1", "cbp_v2", "pmp_v1", "pmp_v2"]),
    failed_freeform=st.booleans(),
)
def test_later_batches_get_the_verdicts_of_one_call(seed, cuts, identities, free_tier, service, anchor, rules,
                                                    failed_freeform):
    rng = np.random.default_rng(seed)
    log = random_log(seed, n_rows=int(rng.integers(60, 400)), n_users=int(rng.integers(3, 30)))
    log = with_late_deliveries(log, rng)
    if identities:
        log = with_identities(log, rng)
    else:
        users = {u: NUMBERS[k % len(NUMBERS)].format(k) for k, u in enumerate(log["user"].unique())}
        log["user"] = log["user"].map(users)
    times = effective(log)
    instants = sorted(times.quantile(sorted(cuts)).tolist())
    bounds = [None, *instants, None]
    parts = []
    for low, high in zip(bounds, bounds[1:]):
        inside = pd.Series(True, index=log.index)
        if low is not None:
            inside &= times >= low
        if high is not None:
            inside &= times < high
        parts.append(log[inside].reset_index(drop=True))
    whole = pd.concat(parts, ignore_index=True)
    options = dict(timezones=TIMEZONES, free_tier_conversations=free_tier, service_free_allowance=service,
                   anchor=anchor, rules=rules, failed_freeform_opens_conversation=failed_freeform)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        one = waconv.classify(whole, volume_tiers=io.StringIO(TIERS), **options).messages
        state = None
        offset = 0
        for k, part in enumerate(parts):
            result = waconv.classify(part, volume_tiers=io.StringIO(TIERS), state=state, **options)
            assert len(result.messages) == len(part)
            if k == len(parts) - 1 and k > 0:
                expected = one.iloc[offset : offset + len(part)].reset_index(drop=True)
                assert_same_verdicts(expected, result.messages, f"part {k} of {len(parts)}")
            offset += len(part)
            state = waconv.State.from_bytes(result.state.to_bytes())
