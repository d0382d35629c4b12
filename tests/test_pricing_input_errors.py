"""Bad pricing inputs (rate cards, tier tables, auth_international) are InputErrors that
name the argument or file, the line and the reason: never another exception type, never a
silently wrong cost (issue #11)."""

from __future__ import annotations

import datetime as dt
import io
import math
from pathlib import Path

import numpy as np
import pandas as pd
import polars
import pytest

import waconv
from builders import log

pytestmark = pytest.mark.filterwarnings("ignore::waconv.WaconvWarning")

INDIA = "+919812345678"
CARD = '''Cost per message in BRL on the WhatsApp Business Platform, effective July 1, 2026,,,,,,
Market,Currency,Marketing,Utility,Authentication,"Authentication-
International",Service
Brazil,BRL,0.3125,0.0340,0.0340,n/a,n/a
Other,BRL,0.30,0.04,0.04,n/a,n/a
'''
TIERS = """Market,Category,Tier,Rate
India,utility,0:2,0.0068
India,utility,3:MAX,0.005
"""


def _frame() -> pd.DataFrame:
    return log("2025-10-20", (0, "out", "utility"), (1, "out", "authentication"), user=INDIA, portfolio="acme")


def _classify_error(**options) -> waconv.InputError:
    with pytest.raises(waconv.InputError) as info:
        waconv.classify(_frame(), **options)
    return info.value


def _card_error(source, **options) -> waconv.InputError:
    with pytest.raises(waconv.InputError) as info:
        waconv.RateCard.from_csv(source, **options)
    return info.value


def _tiers_error(source) -> waconv.InputError:
    with pytest.raises(waconv.InputError) as info:
        waconv.TierTable.from_csv(source)
    return info.value


def _tier_row(tier: str = "0:MAX", rate: str = "0.002") -> io.StringIO:
    return io.StringIO(f"Market,Category,Tier,Rate\nIndia,utility,{tier},{rate}\n")


# 2. auth_international


def _auth_error(entry) -> waconv.InputError:
    return _classify_error(auth_international={"acme": entry})


@pytest.mark.parametrize("start", ["3000-01-01", pd.Timestamp("3000-01-01"), dt.date(3000, 1, 1), "1500-06-01"],
                         ids=["str", "Timestamp", "date", "year-1500"])
def test_auth_international_start_out_of_range(start):
    error = _auth_error({"primary_country": "BR", "start": start})
    assert error.column == "auth_international"
    assert error.reason.startswith("portfolio 'acme': start") and "outside" in error.reason


@pytest.mark.parametrize("start", [None, "", float("nan"), pd.NaT], ids=["None", "empty", "nan", "NaT"])
def test_auth_international_start_must_be_given(start):
    # Today a missing start is NaT, which counts as "since forever".
    error = _auth_error({"primary_country": "BR", "start": start})
    assert error.reason.startswith("portfolio 'acme': start") and "not a date" in error.reason


@pytest.mark.parametrize("start", [1735689600, 1735689600.0, True, np.int64(1735689600)],
                         ids=["int", "float", "bool", "numpy-int"])
def test_auth_international_start_as_a_number_is_ambiguous(start):
    # Seconds or nanoseconds? pandas reads 1735689600 as nanoseconds (1970), silently.
    error = _auth_error({"primary_country": "BR", "start": start})
    assert "a date or timestamp, not a number" in error.reason


@pytest.mark.parametrize("start", ["not a date", "2025-13-01", "2025-02-30"])
def test_auth_international_start_unparseable(start):
    error = _auth_error({"primary_country": "BR", "start": start})
    assert error.reason.startswith(f"portfolio 'acme': start {start!r} is not a date")


@pytest.mark.parametrize("config", [["acme"], "acme", 5], ids=["list", "str", "int"])
def test_auth_international_must_be_a_mapping(config):
    error = _classify_error(auth_international=config)
    assert error.column == "auth_international" and "expected a mapping" in error.reason


@pytest.mark.parametrize("entry", ["BR", ["BR", "2025-01-01"], None], ids=["str", "list", "None"])
def test_auth_international_entry_must_be_a_mapping(entry):
    error = _auth_error(entry)
    assert error.reason.startswith("portfolio 'acme': expected a mapping with primary_country and start")


@pytest.mark.parametrize("missing", ["primary_country", "start"])
def test_auth_international_entry_lacks_a_key(missing):
    entry = {"primary_country": "BR", "start": "2025-01-01"}
    del entry[missing]
    assert _auth_error(entry).reason == f"portfolio 'acme': {missing} is required"


@pytest.mark.parametrize("country", ["ZZ", "Brazil", None, 55, ""])
def test_auth_international_unknown_primary_country(country):
    # Today an unknown primary country makes every listed country international.
    error = _auth_error({"primary_country": country, "start": "2025-01-01"})
    assert error.reason.startswith("portfolio 'acme': primary_country") and repr(country) in error.reason


def test_auth_international_portfolio_given_twice():
    config = {1: {"primary_country": "BR", "start": "2025-01-01"}, "1": {"primary_country": "IN",
                                                                          "start": "2025-01-01"}}
    error = _classify_error(auth_international=config)
    assert "twice" in error.reason


def test_a_valid_auth_international_still_prices():
    # Spaces and lower case are still India: home, not international.
    config = {"acme": {"primary_country": " in ", "start": dt.datetime(2025, 1, 1)}}
    result = waconv.classify(_frame(), auth_international=config)
    assert result.messages.pricing_category.tolist() == ["utility", "authentication"]
