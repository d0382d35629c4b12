"""waconv.compare: one log priced under several models, checked against hand-computed bills."""

from __future__ import annotations

import datetime as dt
import math

import pandas as pd
import pytest

import waconv
from builders import log
from waconv.analytics.compare import COLUMNS, compare

BRAZIL = "+5511987654321"
INDIA = "+919812345678"
NAN = math.nan
pytestmark = pytest.mark.filterwarnings("ignore::waconv.WaconvWarning")  # the example log's rate gaps


def cards() -> waconv.RateCards:
    """A tiny card pair with round numbers, so that each model's bill is computed by hand."""
    cbp = waconv.RateCard(dt.date(2022, 1, 1), "CBP", "USD", {
        "Brazil": dict(marketing=0.10, utility=0.05, authentication=0.03, authentication_international=NAN,
                       service=0.02),
        "India": dict(marketing=0.20, utility=0.04, authentication=0.04, authentication_international=NAN,
                      service=0.01),
    })
    pmp = waconv.RateCard(dt.date(2025, 7, 1), "PMP", "USD", {
        "Brazil": dict(marketing=0.08, utility=0.01, authentication=0.015, authentication_international=NAN,
                       service=0.01),
        "India": dict(marketing=0.12, utility=0.005, authentication=0.005, authentication_international=NAN,
                      service=0.005),
    })
    return waconv.RateCards([cbp, pmp])


def what_if_log() -> pd.DataFrame:
    # Brazil, October 2025: Meta's pmp_v1 flow plus an authentication template at h50.
    brazil = log("2025-10-06", (0, "out", "marketing"), (2, "in"), (3, "out"), (4, "out", "utility"),
                 (30, "out", "utility"), (50, "out", "authentication"), user=BRAZIL, waba="w")
    # India: 2025-11-01 01:00 UTC is still October 31 in Sao Paulo, the WABA's zone.
    india = log("2025-11-01 01:00", (0, "out", "marketing"), (48, "out", "marketing"), user=INDIA, waba="w")
    return pd.concat([brazil, india], ignore_index=True)


# (rules, month, market, category) -> (units, cost), worked out from SPEC §4 by hand:
# cbp_v2: marketing conversation h0 (the h3 text joins it), utility conversations at h4 and
#   h30 (none open either time), authentication at h50; India one marketing each.
# pmp_v1: marketing h0; h3 text free; h4 utility free (CSW open from h2); h30 utility
#   charged (CSW closed at h26); authentication h50.
# pmp_v2: as pmp_v1 plus the h3 text (service at the utility rate) and the h4 utility.
# auto: October/November 2025 is pmp_v1.
PMP_V1 = {
    ("2025-10", "Brazil", "marketing"): (1, 0.08),
    ("2025-10", "Brazil", "utility"): (1, 0.01),
    ("2025-10", "Brazil", "authentication"): (1, 0.015),
    ("2025-10", "Brazil", "service"): (0, 0.0),
    ("2025-10", "India", "marketing"): (1, 0.12),
    ("2025-11", "India", "marketing"): (1, 0.12),
}
EXPECTED = {
    "auto": PMP_V1,
    "cbp_v2": {
        ("2025-10", "Brazil", "marketing"): (1, 0.10),
        ("2025-10", "Brazil", "utility"): (2, 0.10),
        ("2025-10", "Brazil", "authentication"): (1, 0.03),
        ("2025-10", "Brazil", "service"): (0, 0.0),
        ("2025-10", "India", "marketing"): (1, 0.20),
        ("2025-11", "India", "marketing"): (1, 0.20),
    },
    "pmp_v1": PMP_V1,
    "pmp_v2": {
        ("2025-10", "Brazil", "marketing"): (1, 0.08),
        ("2025-10", "Brazil", "utility"): (2, 0.02),
        ("2025-10", "Brazil", "authentication"): (1, 0.015),
        ("2025-10", "Brazil", "service"): (1, 0.01),
        ("2025-10", "India", "marketing"): (1, 0.12),
        ("2025-11", "India", "marketing"): (1, 0.12),
    },
}
# cost minus auto's, by hand.
DIFFERENCES = {
    "cbp_v2": {("2025-10", "Brazil", "marketing"): 0.02, ("2025-10", "Brazil", "utility"): 0.09,
               ("2025-10", "Brazil", "authentication"): 0.015, ("2025-10", "India", "marketing"): 0.08,
               ("2025-11", "India", "marketing"): 0.08},
    "pmp_v2": {("2025-10", "Brazil", "utility"): 0.01, ("2025-10", "Brazil", "service"): 0.01},
}


def test_hand_computed_what_if_table():
    # By hand without the service allowance (on by default, it would make the h3 text free).
    table = compare(what_if_log(), rate_card=cards(), timezones={"w": "America/Sao_Paulo"}, service_free_allowance=0)
    assert list(table.columns) == COLUMNS
    assert list(pd.unique(table["rules"])) == ["auto", "cbp_v2", "pmp_v1", "pmp_v2"]
    assert set(table["currency"]) == {"USD"}
    got = {(r.rules, r.month, r.market, r.category): (r.units, r.cost, r.difference) for r in table.itertuples()}
    expected = {}
    for rules, rows in EXPECTED.items():
        for key, (units, cost) in rows.items():
            expected[(rules, *key)] = (units, cost, DIFFERENCES.get(rules, {}).get(key, 0.0))
    assert got.keys() == expected.keys()
    for key, (units, cost, difference) in expected.items():
        assert got[key][0] == units, key
        assert got[key][1] == pytest.approx(cost), key
        assert got[key][2] == pytest.approx(difference, abs=1e-12), key


def test_month_follows_the_waba_time_zone():
    # In UTC both India messages fall in November.
    table = compare(what_if_log(), rules=["pmp_v1"], rate_card=cards())
    india = table[(table["market"] == "India") & (table["rules"] == "pmp_v1")]
    assert india[["month", "units"]].values.tolist() == [["2025-11", 2]]


def test_baseline_rows_are_the_bill_and_differences_sum_to_bill_differences():
    events = waconv.examples.log()
    zones = waconv.examples.TIMEZONES
    table = compare(events, rules=["cbp_v2", "pmp_v2"], timezones=zones)
    bills = {rules: waconv.classify(events, rules=rules, timezones=zones).messages.cost.sum()
             for rules in ("auto", "cbp_v2", "pmp_v2")}
    totals = table.groupby("rules")[["cost", "difference"]].sum()
    for rules, bill in bills.items():
        assert totals.loc[rules, "cost"] == pytest.approx(bill)
        assert totals.loc[rules, "difference"] == pytest.approx(bill - bills["auto"])
    assert (table.loc[table["rules"] == "auto", "difference"] == 0).all()


def test_charged_units_count_conversations_and_messages():
    events = waconv.examples.log()
    zones = waconv.examples.TIMEZONES
    table = compare(events, rules=["cbp_v2"], baseline="pmp_v1", timezones=zones)
    cbp = waconv.classify(events, rules="cbp_v2", timezones=zones)
    pmp = waconv.classify(events, rules="pmp_v1", timezones=zones)
    units = table.groupby("rules")["units"].sum()
    charged_conversations = int((cbp.conversations.pricing_type == "regular").sum())
    m = pmp.messages
    charged_messages = int(((m.pricing_type == "regular") & ~m.duplicate).sum())
    assert units["cbp_v2"] == charged_conversations
    assert units["pmp_v1"] == charged_messages
    assert list(pd.unique(table["rules"])) == ["pmp_v1", "cbp_v2"]


@pytest.mark.parametrize(
    ("arguments", "column"),
    [({"rules": ["cbp_v3"]}, "rules"), ({"baseline": "pmp"}, "baseline"), ({"price": False}, "price")],
)
def test_bad_arguments_name_the_argument(arguments, column):
    with pytest.raises(waconv.InputError) as error:
        compare(what_if_log(), **arguments)
    assert error.value.column == column
