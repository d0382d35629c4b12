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


# 1. paths that are not readable files


@pytest.mark.parametrize("as_path", [str, Path], ids=["str", "Path"])
@pytest.mark.parametrize("argument", ["rate_card", "volume_tiers"])
def test_a_missing_file_names_the_file(tmp_path, argument, as_path):
    missing = tmp_path / "nowhere.csv"
    error = _classify_error(**{argument: as_path(missing)})
    assert (error.file, error.line) == (str(missing), None)
    assert error.reason == "no such file"


@pytest.mark.parametrize("as_path", [str, Path], ids=["str", "Path"])
@pytest.mark.parametrize("argument", ["rate_card", "volume_tiers"])
def test_a_directory_is_not_a_csv_file(tmp_path, argument, as_path):
    error = _classify_error(**{argument: as_path(tmp_path)})
    assert error.file == str(tmp_path) and "is a directory" in error.reason


def test_a_missing_file_in_a_list_of_cards(tmp_path):
    good = tmp_path / "good.csv"
    good.write_text(CARD)
    missing = tmp_path / "nowhere.csv"
    error = _classify_error(rate_card=[good, str(missing)])
    assert error.file == str(missing) and error.reason == "no such file"


def test_the_readers_name_a_missing_file(tmp_path):
    missing = tmp_path / "nowhere.csv"
    assert _card_error(missing).file == str(missing)
    assert _tiers_error(missing).file == str(missing)


@pytest.mark.parametrize("value", [5, [5], b"card.csv", io.BytesIO(CARD.encode())],
                         ids=["int", "list-of-int", "bytes", "binary-stream"])
def test_rate_card_of_the_wrong_type(value):
    error = _classify_error(rate_card=value)
    assert error.column == "rate_card" and "expected" in error.reason


def test_readers_want_text_not_bytes():
    assert "text stream" in _card_error(io.BytesIO(CARD.encode())).reason
    assert "text stream" in _tiers_error(io.BytesIO(TIERS.encode())).reason


def test_a_text_stream_that_is_not_utf8(tmp_path):
    path = tmp_path / "card.csv"
    path.write_bytes(CARD.replace("BRL on", "BRL (São Paulo) on").encode("latin-1"))
    with path.open(encoding="utf-8") as stream:
        error = _card_error(stream)
    assert error.file == str(path) and "UTF-8" in error.reason


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


# 3. tier bounds


@pytest.mark.parametrize("tier", ["0:99999999999999999999", "99999999999999999999:MAX", "0:" + "9" * 5000],
                         ids=["upper", "lower", "5000-digits"])
def test_tier_bound_beyond_int64(tier):
    error = _classify_error(volume_tiers=_tier_row(tier))
    assert (error.column, error.line) == ("Tier", 2)
    assert "larger than 9223372036854775807" in error.reason and "MAX" in error.reason


@pytest.mark.parametrize("tier", ["-5:10", "0:-1"])
def test_negative_tier_bound(tier):
    error = _tiers_error(_tier_row(tier))
    assert (error.column, error.line) == ("Tier", 2) and "negative" in error.reason


# 4. tier rates: the rate-card reader's check, not a negative, NaN or infinite cost


@pytest.mark.parametrize("rate", ["-1", "nan", "inf", "-inf", "1e400"])
def test_tier_rate_must_be_finite_and_non_negative(rate):
    error = _classify_error(volume_tiers=_tier_row(rate=rate))
    assert (error.file, error.column, error.line) == ("<stream>", "Rate", 2)
    assert error.reason == f"rate {rate!r} must be a finite, non-negative number"


@pytest.mark.parametrize("rate", ["n/a", "", "-"])
def test_tier_rate_is_required(rate):
    assert _tiers_error(_tier_row(rate=rate)).reason == f"rate {rate!r}: a tier band needs a rate"


@pytest.mark.parametrize("rate", ["-1", "nan", "inf", "$-0.5"])
def test_tier_and_card_readers_reject_a_rate_alike(rate):
    card = _card_error(io.StringIO(CARD.replace("0.3125", rate)))
    tier = _tiers_error(_tier_row(rate=rate))
    assert card.reason == tier.reason


def test_negative_zero_rate_is_plain_zero():
    card = waconv.RateCard.from_csv(io.StringIO(CARD.replace("0.3125", "-0")))
    assert math.copysign(1, card.rate("Brazil", "marketing")) == 1
    result = waconv.classify(_frame(), volume_tiers=_tier_row(rate="-0.0"))
    assert math.copysign(1, result.messages.cost.iloc[0]) == 1


# 5. file encodings, cell sizes, dates


def _with_latin1_line(text: str) -> bytes:
    return (text + "Note: São Paulo numbers are Brazil,,,\n").encode("latin-1")


@pytest.mark.parametrize("reader", ["card", "tiers"])
def test_latin1_file_names_the_line(tmp_path, reader):
    path = tmp_path / "file.csv"
    text = CARD if reader == "card" else TIERS
    path.write_bytes(_with_latin1_line(text))
    error = _card_error(path) if reader == "card" else _tiers_error(path)
    assert (error.file, error.line) == (str(path), text.count("\n") + 1)
    assert "not UTF-8" in error.reason and "0xe3" in error.reason


@pytest.mark.parametrize("reader", ["card", "tiers"])
@pytest.mark.parametrize("encoding", ["utf-16", "utf-32"])
def test_utf16_file_is_named_as_such(tmp_path, reader, encoding):
    path = tmp_path / "file.csv"
    path.write_bytes((CARD if reader == "card" else TIERS).encode(encoding))
    error = _card_error(path) if reader == "card" else _tiers_error(path)
    assert (error.file, error.line) == (str(path), 1) and "save it as UTF-8" in error.reason


def test_utf8_with_bom_reads_like_utf8(tmp_path):
    card, tiers = tmp_path / "card.csv", tmp_path / "tiers.csv"
    card.write_bytes(b"\xef\xbb\xbf" + CARD.encode())
    assert waconv.RateCard.from_csv(card).rate("Brazil", "marketing") == 0.3125
    # The byte an error quotes is the offending one, not one three bytes off for the BOM.
    tiers.write_bytes(b"\xef\xbb\xbf" + TIERS.encode() + "Note: été\n".encode("latin-1"))
    error = _tiers_error(tiers)
    assert error.line == 4 and "byte 0xe9" in error.reason


def test_cell_over_the_csv_field_limit():
    huge = "9" * 200_000
    card = _card_error(io.StringIO(CARD.replace("0.3125", huge)))
    assert (card.file, card.line) == ("<stream>", 4) and "131,072 characters" in card.reason
    tiers = _tiers_error(io.StringIO(TIERS + f"India,authentication,0:MAX,{huge}\n"))
    assert (tiers.line, "131,072 characters" in tiers.reason) == (4, True)


@pytest.mark.parametrize("date", ["February 30, 2026", "Juny 1, 2026", "July 1, 0000"])
def test_preamble_date_that_does_not_exist(date):
    text = "Rates for Brazil,,,,,,\n" + CARD.replace("July 1, 2026", date)
    error = _card_error(io.StringIO(text))
    assert (error.file, error.line) == ("<stream>", 2)
    assert error.reason.startswith(f"effective date {date!r} is not a date")


@pytest.mark.parametrize("date", ["July 1, 9999", "July 1, 1000"])
def test_preamble_date_outside_the_timestamp_range(date):
    error = _card_error(io.StringIO(CARD.replace("July 1, 2026", date)))
    assert error.line == 1 and "outside" in error.reason


@pytest.mark.parametrize("effective", ["2026-02-30", 5, "July 2026", dt.date(3000, 1, 1)])
def test_effective_argument_that_is_not_a_date(effective):
    error = _card_error(io.StringIO(CARD), effective=effective)
    assert error.column == "effective" and repr(effective) in error.reason


def test_effective_datetime_is_its_day():
    card = waconv.RateCard.from_csv(io.StringIO(CARD), effective=dt.datetime(2025, 1, 1, 12))
    assert type(card.effective) is dt.date
    brazil = log("2025-10-20", (0, "out", "marketing"), user="+5511987654321")
    assert waconv.classify(brazil, rate_card=card).messages.cost.tolist() == [0.3125]


def test_rate_card_built_in_code_is_checked_too():
    rates = {"India": {"utility": 0.01, "authentication": 0.01}}
    with pytest.raises(waconv.InputError, match="outside"):
        waconv.RateCard(dt.date(3000, 1, 1), "PMP", "USD", rates)
    with pytest.raises(waconv.InputError, match="must be a finite, non-negative number"):
        waconv.RateCard(dt.date(2026, 1, 1), "PMP", "USD", {"India": {"utility": -0.01}})
    with pytest.raises(waconv.InputError, match="model must be"):
        waconv.RateCard(dt.date(2026, 1, 1), "pmp", "USD", rates)


def test_card_row_with_more_cells_than_the_header():
    # A decimal comma shifts every later rate one column: 0,3125 would be marketing 0, utility 3125.
    error = _card_error(io.StringIO(CARD.replace("0.3125", "0,3125")))
    assert error.line == 4 and "8 cells" in error.reason and "7 columns" in error.reason


def test_tier_row_with_more_cells_than_the_header():
    error = _classify_error(volume_tiers=_tier_row(rate="0,002"))
    assert error.line == 2 and "5 cells" in error.reason


def test_tier_header_names_a_column_twice():
    csv_error = _tiers_error(io.StringIO("Market,Category,Tier,Rate,rate\nIndia,utility,0:MAX,0.1,0.5\n"))
    assert (csv_error.column, csv_error.line) == ("rate", 1) and "twice" in csv_error.reason
    frame = pd.DataFrame([["India", "utility", "0:MAX", 0.1, 0.5]], columns=["Market", "Category", "Tier", "Rate", "Rate"])
    assert "twice" in _classify_error(volume_tiers=frame).reason


def test_card_header_names_a_column_twice():
    error = _card_error(io.StringIO(CARD.replace("Marketing,Utility", "Utility,Utility")))
    assert (error.column, error.line) == ("utility", 2) and "twice" in error.reason


def test_tier_file_without_a_header():
    error = _classify_error(volume_tiers=io.StringIO(""))
    assert error.file == "<stream>" and "no header" in error.reason


def test_tier_header_without_a_required_column():
    error = _tiers_error(io.StringIO("Market,Category,Rate\n"))
    assert (error.column, error.line) == ("tier", 1)


# 6. tier DataFrames


def _tier_frame(**columns) -> pd.DataFrame:
    base = {"Market": ["India"], "Category": ["utility"], "Tier": ["0:MAX"], "Rate": [0.002]}
    return pd.DataFrame({**base, **columns})


@pytest.mark.parametrize("rate", [float("nan"), None, pd.NA, np.float32("nan")], ids=["nan", "None", "NA", "float32"])
def test_tier_frame_missing_rate(rate):
    # A float column with NaN used to price at NaN.
    error = _classify_error(volume_tiers=_tier_frame(Rate=pd.Series([rate], dtype=object)))
    assert (error.file, error.column, error.line) == ("<DataFrame>", "Rate", 2)
    assert "needs a rate" in error.reason or "finite" in error.reason


def test_tier_frame_rate_column_of_huge_ints():
    error = _classify_error(volume_tiers=_tier_frame(Rate=pd.Series([10**5000], dtype=object)))
    assert (error.column, error.line) == ("Rate", 2) and "more digits" in error.reason


@pytest.mark.parametrize("column, value", [("Rate", -0.5), ("Rate", np.inf), ("Rate", "nan")])
def test_tier_frame_bad_cell(column, value):
    error = _classify_error(volume_tiers=_tier_frame(**{column: pd.Series([value], dtype=object)}))
    assert (error.column, error.line) == (column, 2)


def test_tier_frame_float_rates_price():
    result = waconv.classify(_frame(), volume_tiers=_tier_frame(Rate=np.array([0.002], np.float32)))
    assert result.messages.cost.iloc[0] == 0.002


@pytest.mark.parametrize("kind", ["Series", "polars", "dict"])
def test_tier_table_that_is_not_a_pandas_frame(kind):
    data = {"Market": ["India"], "Category": ["utility"], "Tier": ["0:MAX"], "Rate": [0.002]}
    value = {"Series": lambda: pd.Series(data), "dict": lambda: data,
             "polars": lambda: polars.DataFrame(data)}[kind]()
    error = _classify_error(volume_tiers=value)
    assert error.column == "volume_tiers" and "pandas DataFrame" in error.reason
