"""The log split by pairs (waconv.scale, SPEC §9): phase 1 per partition with the allowances
off, phase 2 over the gathered rows, gives every row one classify's result."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import waconv
from split_logs import assert_same_messages, conversation_rows, linked_log, options, split_log
from waconv.scale.keys import pair_partition, shared_keys, sorted_member, with_keys
from waconv.scale.local import classify_split
from waconv.scale.options import ScaleOptions
from waconv.scale.phases import KEY

pytestmark = pytest.mark.filterwarnings("ignore::waconv.WaconvWarning")


@pytest.mark.parametrize("seed", range(6))  # random_log's anchors: every era switch
def test_split_equals_one_classify(seed):
    log = split_log(seed)
    ref = waconv.classify(log, **options())
    got = classify_split(log, 5, **options())
    assert_same_messages(ref.messages, got.messages)
    assert conversation_rows(got.conversations) == conversation_rows(ref.conversations)
    assert len(got.windows) == len(ref.windows)


def test_the_allowances_and_tiers_really_cross_partitions():
    # The shared log reaches every counter with rows of several partitions: else the
    # equality above would hold without phase 2 doing anything.
    log = split_log(4, 3000, 80)
    ref = waconv.classify(log, **options()).messages
    keyed = with_keys(log, ScaleOptions.of())
    part = pair_partition(keyed["business"], keyed[KEY], 5)
    for kind in ("free_customer_service", "free_tier"):
        rows = (ref["pricing_type"] == kind).to_numpy()
        assert len(np.unique(part[rows])) > 1 or not rows.any()
    tiers = ref["tier"].astype(object)
    assert {"0:15", "16:MAX"} <= set(tiers.dropna())
    assert len(np.unique(part[(tiers == "16:MAX").to_numpy()])) > 1


def test_without_phase_two_the_counters_would_be_per_partition():
    log = split_log(4, 3000, 80)
    ref = waconv.classify(log, **options()).messages
    got = classify_split(log, 5, **options()).messages
    assert (got["pricing_type"] == "free_customer_service").sum() == (ref["pricing_type"] == "free_customer_service").sum()
    # Each partition alone would grant 5 free service messages per phone and month.
    per_partition = sum(
        (waconv.classify(rows, **options())).messages["pricing_type"].eq("free_customer_service").sum()
        for _, rows in log.groupby(pair_partition(log["business"], log["user"], 5))
    )
    assert per_partition > (ref["pricing_type"] == "free_customer_service").sum()


@pytest.mark.parametrize("seed", range(3))
def test_identity_links_across_partitions(seed):
    log = linked_log(seed)
    ref = waconv.classify(log, **options())
    got = classify_split(log, 4, **options())
    assert_same_messages(ref.messages, got.messages)
    assert ref.messages["user_key"].nunique() < log["user_phone"].nunique() + log["user_bsuid"].nunique()


def test_duplicates_of_other_pairs_are_found_across_partitions():
    log = split_log(1)
    ref = waconv.classify(log, **options()).messages
    first = log.drop_duplicates(["message_id", "direction"])[["message_id", "direction", "user"]]
    repeats = log.loc[ref["duplicate"].to_numpy(), ["message_id", "direction", "user"]]
    joined = repeats.merge(first, on=["message_id", "direction"], suffixes=("", "_first"))
    assert len(joined) == len(repeats) and (joined["user"] != joined["user_first"]).any()  # another pair's id
    assert_same_messages(ref, classify_split(log, 5, **options()).messages)


def test_conversation_ids_are_unique_and_deterministic():
    log = split_log(2)
    a = classify_split(log, 5, **options())
    b = classify_split(log, 5, **options())
    assert a.conversations["conversation_id"].is_unique
    assert a.conversations["conversation_id"].tolist() == b.conversations["conversation_id"].tolist()
    assert set(a.messages["conversation_id"].dropna()) == set(a.conversations["conversation_id"])


def test_an_error_names_the_row_of_the_whole_input():
    log = split_log(0, 400, 20)
    log.loc[317, "direction"] = "sideways"
    with pytest.raises(waconv.InputError) as error:
        classify_split(log, 3)
    assert error.value.row == 317 and error.value.column == "direction"
    log = split_log(0, 400, 20)
    log.loc[211, "timestamp"] = pd.Timestamp("1999-01-01", tz="UTC")
    with pytest.raises(waconv.InputError) as error:
        classify_split(log, 3)
    assert error.value.row == 211 and error.value.column == "timestamp"


def test_split_equals_one_classify_with_meta_tiers_by_default_and_a_local_currency():
    # Shipped (dated) tier tables and a WABA billed in INR: phase 2 must price the gathered
    # rows with each WABA's currency, as one classify does.
    log = split_log(2)
    shift = pd.Timestamp("2026-10-05", tz="UTC") - log["timestamp"].min()
    log["timestamp"] += shift
    log["delivered_at"] += shift
    waba = sorted(log["waba"].unique())[0]
    given = {**options(), "volume_tiers": True, "currencies": {waba: "INR"}}
    ref = waconv.classify(log, **given)
    got = classify_split(log, 5, **given)
    assert set(ref.messages["currency"].dropna()) == {"INR", "USD"}
    assert_same_messages(ref.messages, got.messages)


def _countryless_log() -> pd.DataFrame:
    log = waconv.synthetic.events(n_users=300, days=3, start="2026-10-01", seed=1)
    # National-format numbers: no calling code, so no country (priced in market Other, with a warning).
    log["user"] = log["user"].astype(str).str.replace("+", "", regex=False).str.slice(3)
    return log


@pytest.mark.filterwarnings("default::waconv.WaconvWarning")
def test_a_split_run_warns_once_about_users_with_no_country():
    log = _countryless_log()
    with pytest.warns(waconv.WaconvWarning) as caught:
        classify_split(log, 4, timezones=waconv.synthetic.TIMEZONES)
    countryless = [str(w.message) for w in caught if "have no country" in str(w.message)]
    # Once for the call, from phase 2, which sees every row with a unit of every partition.
    assert len(countryless) == 1, countryless
    with pytest.warns(waconv.WaconvWarning) as whole:
        waconv.classify(log, timezones=waconv.synthetic.TIMEZONES)
    (one_call,) = [str(w.message) for w in whole if "have no country" in str(w.message)]
    # Phase 2 counts the users of the rows it prices (a subset of one call's), each once.
    count = int(countryless[0].split(" users")[0].replace(",", ""))
    assert 0 < count <= int(one_call.split(" users")[0].replace(",", ""))


def test_one_call_and_split_runs_plan_pricing_through_one_set_up(monkeypatch):
    # Every pricing option is wired in engine.pricing_setup alone: both paths go through it.
    from waconv.engine import pricing_setup

    calls = []
    real = pricing_setup.make_plan
    monkeypatch.setattr(pricing_setup, "make_plan", lambda *a, **k: calls.append(1) or real(*a, **k))
    log = split_log(1)
    waconv.classify(log, **options())
    assert len(calls) == 1
    classify_split(log, 3, **options())
    assert len(calls) > 1
    import waconv.engine.classify as one_call
    import waconv.scale.phases as phases

    for module in (one_call, phases):
        source = open(module.__file__).read()
        assert "make_plan(" not in source and "_core.price(" not in source, module.__name__


@pytest.mark.parametrize("rows, values", [
    (np.arange(0, 1000, 3), np.array([0, 2, 3, 500, 501, 999, 2000])),  # few values among ascending rows
    (np.arange(0, 30, 3)[::-1].copy(), np.array([0, 3, 5])),  # rows out of order
    (np.array([4, 9]), np.arange(10)),  # more values than rows
    (np.zeros(0, np.int64), np.array([1])),
    (np.array([7]), np.zeros(0, np.int64)),
])
def test_sorted_member_is_membership(rows, values):
    assert (sorted_member(rows.astype(np.int64), values.astype(np.int64)) == np.isin(rows, values)).all()


def test_shared_keys_marks_every_row_of_a_repeated_hash_and_direction():
    hashes = np.array([5, 6, 5, 5, 7, 6], np.uint64)
    direction = np.array([0, 0, 0, 1, 0, 1], np.int8)
    assert shared_keys(hashes, direction).tolist() == [True, False, True, False, False, False]
