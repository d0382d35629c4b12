"""`messages.charge_reason`: every value reached by a constructed log, and what ties it to the
other columns on any log (docs/rules.md §Charge reasons)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import waconv
from builders import log, verdicts
from random_logs import TIMEZONES, random_log
from waconv import _core

CHARGED = {"opened_conversation", "charged_message", "authentication_international"}
BR = "+5511987654321"


def reasons(frame: pd.DataFrame, **options) -> list:
    return verdicts(waconv.classify(frame, **options), "charge_reason")


def test_the_column_is_a_categorical_of_the_core_vocabulary():
    r = waconv.classify(log("2025-08-04", (0, "in"), (1, "out")))
    dtype = r.messages["charge_reason"].dtype
    assert isinstance(dtype, pd.CategoricalDtype)
    assert list(dtype.categories) == list(_core.CHARGE_REASONS)
    assert len(_core.CHARGE_REASONS) == 15
    unpriced = waconv.classify(log("2025-08-04", (0, "in"), (1, "out")), price=False)
    assert verdicts(unpriced, "charge_reason") == ["inbound", "free_service"]


def test_inbound_and_inbound_system_rows():
    frame = log("2025-08-04", (0, "in"), (1, "in"))
    frame["message_type"] = ["text", "system"]
    assert reasons(frame) == ["inbound", "inbound"]


def test_duplicate():
    frame = log("2025-08-04", (0, "in"), (1, "out", "marketing"), (2, "out", "marketing"))
    frame["message_id"] = ["a", "b", "b"]
    r = waconv.classify(frame)
    assert verdicts(r, "charge_reason") == ["inbound", "charged_message", "duplicate"]
    assert verdicts(r, "cost")[2] == 0


def test_undelivered_and_policy_violation():
    # A template never delivered; a free-form message outside the CSW never delivered
    # (Meta rejects it, 131047); the same inside the CSW.
    frame = log("2025-08-04", (0, "out", "marketing", None), (1, "out", None, None), (2, "in"),
                (3, "out", None, None))
    assert reasons(frame) == ["undelivered", "policy_violation", "inbound", "undelivered"]


def test_a_delivered_policy_violation_is_charged_by_its_era_rules():
    # Meta would have refused it; the log says it was delivered, so it is classified (SPEC §4).
    r = waconv.classify(log("2024-03-04", (0, "out")), free_tier_conversations=0, price=False)
    assert verdicts(r, "policy_violation") == [True]
    assert verdicts(r, "charge_reason") == ["opened_conversation"]
    r = waconv.classify(log("2026-10-05", (0, "out")), service_free_allowance=0)
    assert verdicts(r, "policy_violation") == [True]
    assert verdicts(r, "charge_reason") == ["charged_message"]


def test_us_marketing_pause():
    frame = log("2025-08-04", (0, "out", "marketing"), (1, "out", "utility"), user="+12125550101")
    r = waconv.classify(frame)
    assert verdicts(r, "charge_reason") == ["us_marketing_pause", "charged_message"]
    assert verdicts(r, "cost")[0] == 0


def test_opened_and_joined_conversation():
    frame = log("2024-03-04", (0, "out", "marketing"), (4, "in"), (5, "out"), (25, "out", "utility"),
                (26, "out"))
    r = waconv.classify(frame, free_tier_conversations=0)
    assert verdicts(r, "charge_reason") == ["opened_conversation", "inbound", "joined_conversation",
                                            "opened_conversation", "joined_conversation"]
    assert verdicts(r, "cost") == [0.0625, 0, 0, 0.0080, 0]


def test_free_tier_marks_the_opening_row_only():
    # Unpriced: waconv ships no card of 2022 (a cbp_v1 charge is no_rate, tested below).
    frame = log("2022-05-02", (0, "out", "utility"), (1, "out", "marketing"), (30, "out", "utility"),
                user=BR)
    r = waconv.classify(frame, free_tier_conversations=1, price=False)
    assert verdicts(r, "charge_reason") == ["free_tier", "joined_conversation", "opened_conversation"]
    assert verdicts(r, "pricing_type") == ["free_tier", "free_tier", "regular"]


def test_free_service_in_cbp_v2_from_2024_11_01_and_in_pmp_v1():
    cbp = log("2024-11-04", (0, "in"), (1, "out"), (2, "out"))
    assert reasons(cbp) == ["inbound", "free_service", "joined_conversation"]
    pmp = log("2025-08-04", (0, "in"), (1, "out"))
    assert reasons(pmp) == ["inbound", "free_service"]


def test_customer_service_window_frees_pmp_v1_utility_only_inside_it():
    frame = log("2025-08-04", (0, "in"), (1, "out", "utility"), (30, "out", "utility"))
    assert reasons(frame) == ["inbound", "customer_service_window", "charged_message"]
    in_pmp_v2 = log("2026-10-05", (0, "in"), (1, "out", "utility"))
    assert reasons(in_pmp_v2) == ["inbound", "charged_message"]


def test_service_allowance_then_charged_service():
    frame = log("2026-10-05", (0, "in"), (1, "out"), (2, "out"))
    assert reasons(frame, service_free_allowance=1) == ["inbound", "service_allowance", "charged_message"]
    assert reasons(frame, service_free_allowance=0) == ["inbound", "charged_message", "charged_message"]


def test_free_entry_point_opener_and_members():
    frame = log("2025-08-04", (0, "in", None, 0.0, True), (1, "out", "marketing"), (50, "out", "utility"),
                (80, "out", "marketing"))
    r = waconv.classify(frame)
    assert verdicts(r, "charge_reason") == ["inbound", "free_entry_point", "free_entry_point", "charged_message"]
    assert verdicts(r, "cost")[:3] == [0, 0, 0]


def test_charged_message():
    r = waconv.classify(log("2025-08-01 10:00", (0, "out", "marketing"), user=BR))
    assert verdicts(r, "charge_reason") == ["charged_message"]
    assert verdicts(r, "cost") == [0.0625]


def test_authentication_international_marks_charged_units_only():
    frame = log("2025-10-15", (0, "out", "authentication"), (24 * 31, "out", "authentication"),
                user="+919812345678", portfolio="acme")
    config = {"acme": {"primary_country": "BR", "start": "2025-11-01"}}
    assert reasons(frame, auth_international=config) == ["charged_message", "authentication_international"]
    cbp = log("2024-08-05", (0, "out", "authentication"), (1, "out", "authentication"),
              user="+6281234567890", portfolio="acme")
    r = waconv.classify(cbp, auth_international={"acme": {"primary_country": "BR", "start": "2024-07-01"}})
    assert verdicts(r, "charge_reason") == ["authentication_international", "joined_conversation"]
    assert verdicts(r, "pricing_category") == ["authentication_international"] * 2


def test_no_rate_where_no_card_prices_the_unit():
    # cbp_v1 forced onto 2025: no CBP card of that date has user-initiated rates.
    frame = log("2025-07-01 02:00", (0, "in"), (1, "out"), user=BR)
    with pytest.warns(waconv.WaconvWarning):
        r = waconv.classify(frame, rules="cbp_v1", free_tier_conversations=0)
    assert verdicts(r, "charge_reason") == ["inbound", "no_rate"]
    assert np.isnan(r.messages.cost.iloc[1])


def test_failed_free_form_that_opens_a_conversation_opened_it():
    frame = log("2022-08-01", (0, "out", None, None), (3, "in"))
    assert reasons(frame) == ["policy_violation", "inbound"]
    assert reasons(frame, failed_freeform_opens_conversation=True, free_tier_conversations=0,
                   price=False) == ["opened_conversation", "inbound"]
    assert reasons(frame, failed_freeform_opens_conversation=True) == ["free_tier", "inbound"]


def test_every_value_is_reached_by_this_file():
    # The vocabulary and these tests stay in step: a new reason needs a test of its own.
    source = open(__file__).read()
    missing = [name for name in _core.CHARGE_REASONS if f'"{name}"' not in source.replace("CHARGED = {", "")]
    assert missing == []


OPTIONS = st.fixed_dictionaries(
    {
        "rules": st.sampled_from(["auto", "cbp_v1", "cbp_v2", "pmp_v1", "pmp_v2"]),
        "free_tier_conversations": st.sampled_from([0, 3, 1000]),
        "service_free_allowance": st.sampled_from([0, 2, 1000]),
        "failed_freeform_opens_conversation": st.booleans(),
    }
)


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), options=OPTIONS)
@pytest.mark.filterwarnings("ignore::waconv.WaconvWarning")
def test_reason_agrees_with_cost_type_and_flags_on_random_logs(seed, options):
    frame = random_log(seed)
    frame.loc[frame.index[::17], "user"] = "+12125550101"  # some US numbers: the marketing pause
    m = waconv.classify(frame, timezones=TIMEZONES, **options).messages
    reason = m["charge_reason"].astype(object).to_numpy()
    assert not pd.isna(reason).any()
    cost = m["cost"].to_numpy(dtype=float)
    charged = np.isin(reason, list(CHARGED))
    assert ((cost > 0) == charged).all()
    assert (np.isnan(cost) == (reason == "no_rate")).all()
    assert (charged | (reason == "no_rate") == waconv.engine.tables.charged_units(m)).all()
    assert ((reason == "duplicate") == m["duplicate"].to_numpy()).all()
    inbound = (m["direction"] == "inbound").to_numpy() & ~m["duplicate"].to_numpy()
    assert ((reason == "inbound") == inbound).all()
    assert ((reason == "us_marketing_pause") == m["us_marketing_paused"].to_numpy()).all()
    assert ((reason == "free_entry_point") == (m["pricing_type"] == "free_entry_point").to_numpy()).all()
    assert ((reason == "joined_conversation")
            == (m["conversation_id"].notna() & ~m["opens_conversation"]
                & (m["pricing_type"] != "free_entry_point")).to_numpy()).all()
    opened_free_tier = (m["pricing_type"] == "free_tier").to_numpy() & m["opens_conversation"].to_numpy()
    assert ((reason == "free_tier") == opened_free_tier).all()
    # Rows the rules never classified carry no category; every row they did carries one.
    unclassified = np.isin(reason, ["inbound", "duplicate", "undelivered", "policy_violation",
                                    "us_marketing_pause"])
    assert (unclassified == m["pricing_type"].isna().to_numpy()).all()
