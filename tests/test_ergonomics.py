"""What analysts get back (issue #12): text timestamps as UTC datetimes, summary buckets as
datetime columns whatever the WABAs' zones, and small HTML reprs for notebooks."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

import waconv
from builders import log

pytestmark = pytest.mark.filterwarnings("ignore::waconv.WaconvWarning")  # rate gaps are not the subject

ZONES = waconv.examples.TIMEZONES


@pytest.fixture(scope="module")
def example() -> waconv.Result:
    return waconv.classify(waconv.examples.log(), timezones=ZONES)


def as_text(frame: pd.DataFrame, *columns: str) -> pd.DataFrame:
    """`frame` with the named datetime columns written as ISO strings (NaT -> missing)."""
    out = frame.copy()
    for column in columns:
        out[column] = out[column].map(lambda t: None if pd.isna(t) else t.isoformat()).astype(object)
    return out


def utc(column: pd.Series) -> pd.Series:
    return pd.to_datetime(column, utc=True, format="ISO8601").dt.as_unit("ns")


def same_instants(got: pd.Series, expected: pd.Series) -> bool:
    return bool((got.isna().to_numpy() == expected.isna().to_numpy()).all()
                and (got.dropna().to_numpy() == expected.dropna().to_numpy()).all())


# -- 1. text timestamps come back as datetimes ------------------------------------------------

def test_iso_text_timestamps_come_back_as_utc_datetimes(example):
    raw = waconv.examples.log()  # times as ISO text, as read from the CSV
    assert raw["timestamp"].dtype != "datetime64[ns, UTC]"
    m = example.messages
    assert str(m["timestamp"].dtype) == str(m["delivered_at"].dtype) == "datetime64[ns, UTC]"
    assert same_instants(m["timestamp"], utc(raw["timestamp"]))
    assert same_instants(m["delivered_at"], utc(raw["delivered_at"]))
    assert m["delivered_at"].isna().sum() == raw["delivered_at"].isna().sum() > 0
    # Datetimes make the obvious arithmetic work.
    assert (m["delivered_at"] - m["timestamp"]).dropna().min() >= pd.Timedelta(0)


def test_the_users_frame_is_left_as_it_was():
    raw = waconv.examples.log()
    before = raw.copy()
    waconv.classify(raw, timezones=ZONES, price=False)
    pd.testing.assert_frame_equal(raw, before)


def test_mapped_time_columns_are_converted_under_their_own_names():
    frame = as_text(log("2025-07-01 10:00", (0, "in"), (1, "out", "utility"), (30, "out", "marketing", None)),
                    "timestamp", "delivered_at")
    frame = frame.rename(columns={"timestamp": "sent_at", "delivered_at": "dlv"})
    result = waconv.classify(frame, columns={"timestamp": "sent_at", "delivered_at": "dlv"}, price=False)
    m = result.messages
    assert list(m.columns[: len(frame.columns)]) == list(frame.columns)  # converted in place, not appended
    assert str(m["sent_at"].dtype) == str(m["dlv"].dtype) == "datetime64[ns, UTC]"
    assert m["sent_at"].tolist() == [pd.Timestamp("2025-07-01 10:00", tz="UTC") + pd.Timedelta(hours=h)
                                     for h in (0, 1, 30)]
    assert m["dlv"].isna().tolist() == [True, False, True]


def test_naive_iso_text_is_read_as_utc():
    frame = log("2025-07-01 10:00", (0, "in"), (1, "out", "utility"))
    frame["timestamp"] = ["2025-07-01 10:00:00", "2025-07-01T11:00:00"]
    frame = frame.drop(columns="delivered_at")
    m = waconv.classify(frame, price=False).messages
    assert m["timestamp"].tolist() == [pd.Timestamp("2025-07-01 10:00", tz="UTC"),
                                       pd.Timestamp("2025-07-01 11:00", tz="UTC")]


def test_an_inbound_rows_delivery_time_is_kept():
    # classify ignores delivery on inbound rows; the column still holds the user's value.
    frame = as_text(log("2025-07-01 10:00", (0, "in"), (1, "out", "utility")), "timestamp", "delivered_at")
    frame.loc[0, "delivered_at"] = "2025-07-01T10:00:05+00:00"
    m = waconv.classify(frame, price=False).messages
    assert m["delivered_at"].tolist() == [pd.Timestamp("2025-07-01 10:00:05", tz="UTC"),
                                          pd.Timestamp("2025-07-01 11:00", tz="UTC")]


def test_numbers_and_datetimes_stay_as_given():
    frame = log("2025-07-01 10:00", (0, "in"), (1, "out", "utility"))
    seconds = frame.assign(timestamp=frame["timestamp"].dt.as_unit("s").astype("int64"))
    m = waconv.classify(seconds, price=False).messages
    assert m["timestamp"].dtype == np.int64 and str(m["delivered_at"].dtype) == str(frame["delivered_at"].dtype)
    naive = frame.assign(timestamp=frame["timestamp"].dt.tz_localize(None),
                         delivered_at=frame["delivered_at"].dt.tz_localize(None))
    m = waconv.classify(naive, price=False).messages
    assert m["timestamp"].dt.tz is None and m["delivered_at"].dt.tz is None


def test_a_naive_datetime_beside_converted_text_becomes_utc_too():
    frame = log("2025-07-01 10:00", (0, "in"), (1, "out", "utility"))
    frame["delivered_at"] = frame["delivered_at"].dt.tz_localize(None)
    frame = as_text(frame, "timestamp")
    frame["timestamp"] = frame["timestamp"].str.replace("+00:00", "", regex=False)  # naive text
    m = waconv.classify(frame, price=False).messages
    assert str(m["delivered_at"].dt.tz) == "UTC"
    assert (m["delivered_at"] - m["timestamp"]).iloc[1] == pd.Timedelta(0)  # comparable: one kind
    again = waconv.classify(m[list(frame.columns)], price=False).messages  # and classifiable again
    assert again["pricing_type"].astype(str).tolist() == m["pricing_type"].astype(str).tolist()


def test_arrow_text_timestamps_come_back_as_datetimes_too():
    frame = as_text(log("2025-07-01 10:00", (0, "in"), (1, "out", "utility")), "timestamp", "delivered_at")
    table = pa.Table.from_pandas(frame, preserve_index=False)
    assert pa.types.is_string(table.schema.field("timestamp").type)
    m = waconv.classify(table, price=False).messages
    assert str(m["timestamp"].dtype) == "datetime64[ns, UTC]"
    arrow = waconv.classify(table, price=False, output="arrow").messages
    assert arrow.schema.field("timestamp").type == pa.timestamp("ns", tz="UTC")


# -- 2. summary buckets are datetime columns ----------------------------------------------------

def test_waba_zone_summary_of_several_zones_has_datetime_columns(example):
    table = example.summary("MONTHLY", [], tz="waba", timezones=ZONES)
    assert set(table["tz"]) == {"America/Sao_Paulo", "UTC"}
    assert str(table["start"].dtype) == str(table["end"].dtype) == "datetime64[ns, UTC]"
    assert str(table["local_start"].dtype) == "datetime64[ns]"
    assert list(table.columns[:6]) == ["analytics", "waba", "start", "end", "tz", "local_start"]
    for row in table.itertuples():
        assert row.local_start == row.start.tz_convert(row.tz).tz_localize(None)
        assert (row.local_start.day, row.local_start.hour) == (1, 0)


def test_filtering_by_local_date_gives_each_wabas_own_month(example):
    table = example.summary("MONTHLY", [], tz="waba", timezones=ZONES)
    july = table[(table["local_start"] >= "2025-07-01") & (table["local_start"] < "2025-08-01")]
    assert set(july["waba"]) == {"waba-br", "waba-global"}
    starts = dict(zip(july["waba"], july["start"]))
    assert starts["waba-br"] == pd.Timestamp("2025-07-01 03:00", tz="UTC")  # Sao Paulo's midnight
    assert starts["waba-global"] == pd.Timestamp("2025-07-01", tz="UTC")
    m = example.messages
    pmp_july = m[(m["pricing_model"] == "PMP") & m["pricing_type"].notna() & ~m["duplicate"]]
    local = pmp_july["delivered_at"].where(pmp_july["waba"] != "waba-br",
                                           pmp_july["delivered_at"].dt.tz_convert("America/Sao_Paulo"))
    in_july = [t.year == 2025 and t.month == 7 for t in local]
    assert july.loc[july["analytics"] == "pricing_analytics", "volume"].sum() == sum(in_july)


def test_waba_zone_summary_of_one_zone_keeps_that_zone_and_the_same_columns():
    frame = log("2024-05-06 10:00", (0, "out", "utility"), waba="w")
    result = waconv.classify(frame, rules="pmp_v1", timezones={"w": "Asia/Tokyo"}, price=False)
    table = result.summary(dimensions=[], tz="waba")
    assert str(table["start"].dtype) == "datetime64[ns, Asia/Tokyo]"
    assert table["tz"].tolist() == ["Asia/Tokyo"]
    assert table["local_start"].tolist() == [pd.Timestamp("2024-05-06")]


def test_other_zones_add_no_columns(example):
    for tz in (None, "Asia/Kolkata"):
        assert "tz" not in example.summary("MONTHLY", [], tz=tz).columns


# -- 3. HTML reprs ----------------------------------------------------------------------------

def table_rows(html: str, name: str) -> int:
    """Body rows of the table folded under `name`."""
    part = html.split(f"<strong>{name}</strong>", 1)[1].split("</details>", 1)[0]
    return len(re.findall(r"<tr>\s*<th>", part.split("<tbody>", 1)[1]))


def test_result_html_shows_counts_bill_eras_and_table_heads(example):
    html = example._repr_html_()
    m = example.messages
    assert f"{len(m):,} ({example.n_duplicates:,} duplicates)" in html
    assert f"{len(example.conversations):,}" in html and f"{len(example.windows):,}" in html
    assert f"{m['cost'].sum():,.2f} USD" in html
    for era, n in m["era"].value_counts().items():
        assert f"{era}: {n:,} messages" in html
    for name in ("messages", "conversations", "windows"):
        assert table_rows(html, name) == 5
    assert f"first 5 of {len(m):,} rows" in html


def test_result_html_stays_small_whatever_the_size(example):
    bigger = waconv.classify(pd.concat([waconv.examples.log()] * 10, ignore_index=True), timezones=ZONES)
    assert len(bigger.messages) == 10 * len(example.messages)
    assert len(bigger._repr_html_()) < 1.1 * len(example._repr_html_()) < 30_000


def test_result_html_bills_each_currency_and_names_unknown_costs(example):
    m = example.messages.copy()
    half = np.arange(len(m)) % 2 == 0
    m["currency"] = pd.Categorical(np.where(half, "USD", "BRL"))
    m.loc[m.index[1], "cost"] = np.nan
    html = waconv.Result(messages=m, conversations=example.conversations, windows=example.windows)._repr_html_()
    for currency, part in (("USD", half), ("BRL", ~half)):
        assert f"{m['cost'][part].sum():,.2f} {currency}" in html
    assert "1 charged units with no rate" in html


def test_unpriced_result_html_says_so():
    unpriced = waconv.classify(waconv.examples.log(), timezones=ZONES, price=False)
    assert "not priced" in unpriced._repr_html_()


def test_result_html_escapes_the_users_values():
    # Ids reach the table heads, a user's rate card names the currency in the bill line.
    frame = log("2025-07-01 10:00", (0, "in"), (1, "out", "utility"), user="<script>x</script>")
    result = waconv.classify(frame)
    result.messages["currency"] = pd.Categorical(["<i>"] * len(frame))
    html = result._repr_html_()
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert "<i>" not in html and "&lt;i&gt;" in html


def test_reconciliation_html_shows_counts_agreement_and_heads():
    result = waconv.classify(waconv.read_webhooks(waconv.examples.webhooks()))
    rec = waconv.reconcile(result)
    assert not rec.disagreements.empty  # the example dump has one known disagreement
    html = rec._repr_html_()
    assert f"{rec.compared:,} delivered business messages" in html
    assert f"{rec.agreement:.2%}" in html
    for reason, n in rec.disagreements["reason"].value_counts().items():
        if n:
            assert f"{reason}: {n:,}" in html
    assert f"{rec.not_reported:,} delivered messages without Meta pricing" in html
    for era in rec.summary["era"].unique():
        assert era in html
    assert table_rows(html, "summary") == len(rec.summary)
    assert table_rows(html, "disagreements") == min(10, len(rec.disagreements))


def test_result_records_every_option_that_changes_the_bill():
    # A result read later (or next to another) must say how it was priced, not only how classified.
    frame = waconv.examples.log()
    r = waconv.classify(frame, currencies={}, volume_tiers=None, auth_international={}, service_free_allowance=0)
    assert r.options["volume_tiers"] is None and r.options["currencies"] == {} and r.options["price"] is True
    assert r.options["auth_international"] == {} and r.options["rate_card"] is None
    assert r.options["service_free_allowance"] == 0
    unpriced = waconv.classify(frame, price=False)
    assert unpriced.options["price"] is False
