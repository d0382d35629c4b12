"""Bad input raises InputError naming column, first bad row and reason; nothing is returned."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import waconv
from builders import log


def good() -> pd.DataFrame:
    return log("2024-03-04", (0, "in"), (1, "out"), (2, "out", "marketing"))


def raises(frame, column, row, fragment, **kwargs):
    with pytest.raises(waconv.InputError) as info:
        waconv.classify(frame, **kwargs)
    assert info.value.column == column
    assert info.value.row == row
    assert fragment in info.value.reason
    assert isinstance(info.value, ValueError)
    return info.value


@pytest.mark.parametrize("column", ["business", "user", "timestamp", "direction"])
def test_missing_required_column(column):
    raises(good().drop(columns=column), column, None, "missing")


def test_mapped_column_names_are_used_in_errors():
    frame = good().rename(columns={"user": "wa_id"})
    assert len(waconv.classify(frame, columns={"user": "wa_id"}).messages) == 3
    frame.loc[1, "wa_id"] = None
    raises(frame, "wa_id", 1, "null user", columns={"user": "wa_id"})


def test_unknown_mapping_target():
    raises(good(), "usr", None, "not a waconv column", columns={"usr": "user"})


@pytest.mark.parametrize("column", ["business", "user"])
def test_null_ids(column):
    frame = good()
    frame.loc[2, column] = None
    raises(frame, column, 2, "null")


def test_null_timestamp():
    frame = good()
    frame.loc[1, "timestamp"] = pd.NaT
    raises(frame, "timestamp", 1, "null timestamp")


def test_unknown_direction():
    frame = good()
    frame.loc[2, "direction"] = "sideways"
    raises(frame, "direction", 2, "unknown direction 'sideways'")


def test_direction_is_case_insensitive():
    frame = good()
    frame["direction"] = frame["direction"].str.upper()
    assert waconv.classify(frame).messages.pricing_category.tolist()[2] == "marketing"


def test_unknown_template_category():
    frame = good()
    frame.loc[2, "template_category"] = "promo"
    raises(frame, "template_category", 2, "unknown template category 'promo'")


def test_unknown_status():
    frame = good().drop(columns="delivered_at").assign(status=["read", "delivered", "bounced"])
    raises(frame, "status", 2, "unknown status 'bounced'")


@pytest.mark.parametrize("when", ["1999-12-31", "2100-01-01"])
def test_timestamps_out_of_range(when):
    frame = good()
    frame.loc[1, "timestamp"] = pd.Timestamp(when, tz="UTC")
    raises(frame, "timestamp", 1, "outside 2000-01-01")


def test_a_null_timestamp_is_reported_before_an_earlier_out_of_range_one():
    frame = good()
    frame.loc[0, "timestamp"] = pd.Timestamp("1999-12-31", tz="UTC")
    frame.loc[2, "timestamp"] = pd.NaT
    raises(frame, "timestamp", 2, "null timestamp")


def test_epoch_seconds_out_of_range():
    frame = good()
    frame["timestamp"] = frame["timestamp"].map(lambda t: int(t.timestamp()))
    frame.loc[0, "timestamp"] = 12
    raises(frame, "timestamp", 0, "epoch seconds outside")


def test_delivered_before_sent():
    frame = good()
    frame.loc[2, "delivered_at"] = frame.loc[2, "timestamp"] - pd.Timedelta(seconds=1)
    raises(frame, "delivered_at", 2, "before timestamp")


def test_mixed_naive_and_aware_in_one_column():
    frame = good()
    frame["timestamp"] = pd.Series(
        [pd.Timestamp("2024-03-04 00:00", tz="UTC"), pd.Timestamp("2024-03-04 01:00"),
         pd.Timestamp("2024-03-04 02:00", tz="UTC")], dtype=object,
    )
    raises(frame, "timestamp", 1, "mixed naive and tz-aware")


def test_mixed_naive_and_aware_across_columns():
    frame = good()
    frame["delivered_at"] = frame["delivered_at"].dt.tz_localize(None)
    raises(frame, "delivered_at", 1, "mixed naive and tz-aware")


def test_unknown_time_zone():
    raises(good(), "timezones", None, "unknown time zone", timezones={"b1": "Mars/Olympus"})


def test_unknown_rules_and_anchor():
    raises(good(), "rules", None, "unknown rules", rules="nbp")
    raises(good(), "anchor", None, "unknown anchor", anchor="read")


def test_negative_allowance():
    raises(good(), "service_free_allowance", None, "non-negative", service_free_allowance=-1)


def test_not_a_dataframe():
    raises([{"business": 1}], "events", None, "expected a pandas DataFrame")


def test_mixed_id_types():
    frame = good()
    frame["business"] = pd.Series(["b1", 2, "b1"], dtype=object)
    raises(frame, "business", 1, "mixed value types")


def test_accepted_time_formats_agree():
    aware = good()
    naive = aware.assign(timestamp=aware.timestamp.dt.tz_localize(None), delivered_at=aware.delivered_at.dt.tz_localize(None))
    seconds = aware.assign(
        timestamp=aware.timestamp.map(lambda t: int(t.timestamp())),
        delivered_at=aware.delivered_at.map(lambda t: t.timestamp() if pd.notna(t) else np.nan),
    )
    strings = aware.assign(timestamp=aware.timestamp.map(lambda t: t.isoformat()))
    berlin = aware.assign(timestamp=aware.timestamp.dt.tz_convert("Europe/Berlin"))
    expected = waconv.classify(aware).messages.pricing_category.tolist()
    for frame in (naive, seconds, strings, berlin):
        assert waconv.classify(frame).messages.pricing_category.tolist() == expected


def test_error_message_reads_well():
    frame = good()
    frame.loc[1, "direction"] = None
    error = raises(frame, "direction", 1, "null direction")
    assert str(error) == "column 'direction', row 1: null direction"


@pytest.mark.parametrize("unit", ["s", "ms", "us", "ns"])
def test_every_datetime_unit_gives_the_same_result(unit):
    aware = good()
    expected = waconv.classify(aware).messages
    converted = aware.astype({"timestamp": f"datetime64[{unit}, UTC]", "delivered_at": f"datetime64[{unit}, UTC]"})
    got = waconv.classify(converted).messages
    for column in ("pricing_category", "conversation_id", "csw_open", "cost"):
        pd.testing.assert_series_equal(got[column], expected[column])


@pytest.mark.parametrize("when", ["1999-12-31 23:59:59", "2100-01-01", "2262-05-01", "2500-01-01"])
def test_out_of_range_in_a_coarse_unit_is_reported_not_overflowed(when):
    # 2500 fits datetime64[us] but not ns: it must be reported, not wrap around.
    frame = good().astype({"timestamp": "datetime64[us, UTC]", "delivered_at": "datetime64[us, UTC]"})
    late = frame.copy()
    late.loc[2, "delivered_at"] = pd.Timestamp(when, tz="UTC")
    raises(late, "delivered_at", 2, "outside 2000-01-01")
    early = frame.copy()
    early.loc[1, "timestamp"] = pd.Timestamp(when, tz="UTC")
    raises(early, "timestamp", 1, "outside 2000-01-01")


def test_delivery_on_inbound_rows_is_ignored_even_out_of_range():
    frame = good().astype({"delivered_at": "datetime64[us, UTC]"})
    frame.loc[0, "delivered_at"] = pd.Timestamp("2500-01-01", tz="UTC")  # row 0 is inbound
    assert waconv.classify(frame).messages.loc[0, "direction"] == "inbound"


def test_large_logs_report_the_same_first_error():
    # From 200,000 rows user ids are factorized on a second thread; an error in them must
    # still win over one in a later column, as on small logs.
    n = 200_000
    frame = pd.DataFrame({
        "business": np.ones(n, dtype=np.int64),
        "user": pd.Series(["u1"] * n, dtype=object),
        "timestamp": pd.Timestamp("2024-03-04", tz="UTC") + pd.to_timedelta(np.arange(n), unit="s"),
        "direction": ["inbound"] * n,
    })
    frame.loc[n - 5, "user"] = 7  # mixed types
    frame.loc[3, "direction"] = "sideways"
    raises(frame, "user", n - 5, "mixed value types")
    frame.loc[n - 5, "user"] = "u2"
    raises(frame, "direction", 3, "unknown direction")
    frame.loc[3, "direction"] = "outbound"
    result = waconv.classify(frame, price=False)
    assert len(result.messages) == n and result.messages.user.iloc[n - 5] == "u2"
