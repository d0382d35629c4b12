"""Result.summary and Result.to_meta_json: Meta-shaped analytics, checked against plain
group-bys of the result's tables and against hand-counted DST days."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
import pytest

import waconv
from builders import log

pytestmark = pytest.mark.filterwarnings("ignore::waconv.WaconvWarning")  # rate gaps, pre-2022 dates

ZONES = waconv.examples.TIMEZONES
PAYLOADS = Path(__file__).resolve().parent / "fixtures" / "meta"  # Meta's example payloads (SOURCES.md)
USER_SIDE = {"user_initiated", "service", "referral_conversion"}


@pytest.fixture(scope="module")
def example() -> waconv.Result:
    return waconv.classify(waconv.examples.log(), timezones=ZONES)


def pmp_units(result: waconv.Result) -> pd.DataFrame:
    """Delivered PMP messages, with their delivery time: computed here without waconv's help."""
    m = result.messages
    units = m[(m["pricing_model"] == "PMP") & m["pricing_type"].notna() & ~m["duplicate"]].copy()
    units["time"] = pd.to_datetime(units["delivered_at"], utc=True)
    return units


def cbp_units(result: waconv.Result) -> pd.DataFrame:
    c = result.conversations
    units = c[c["era"].isin(["cbp_v1", "cbp_v2"])].copy()
    units["country"] = result.messages["country"].to_numpy()[units["opened_by"].to_numpy()]
    units["time"] = units["start"]
    return units


def upper(values: pd.Series) -> pd.Series:
    return values.astype(str).str.upper()


def rows_of(table: pd.DataFrame, analytics: str, keys: list[str]) -> dict:
    part = table[table["analytics"] == analytics]
    return {tuple(row[k] for k in keys): (row["volume"], row["cost"]) for _, row in part.iterrows()}


def assert_same(got: dict, expected: dict) -> None:
    assert got.keys() == expected.keys()
    for key, (volume, cost) in expected.items():
        assert got[key][0] == volume, key
        assert got[key][1] == pytest.approx(cost), key


def test_daily_utc_summary_equals_group_bys(example):
    table = example.summary()  # DAILY, PRICING_CATEGORY / PRICING_TYPE / COUNTRY, UTC
    p = pmp_units(example)
    # SPEC §10: a free entry point message is SERVICE + FREE_ENTRY_POINT in pricing_analytics too.
    assert (p["pricing_category"] == "referral_conversion").any()
    category = upper(p["pricing_category"]).replace({"REFERRAL_CONVERSION": "SERVICE"})
    expected = p.groupby([p["waba"], p["time"].dt.floor("D"), p["country"].astype(str),
                          category, upper(p["pricing_type"])])["cost"].agg(["size", "sum"])
    keys = ["waba", "start", "country", "pricing_category", "pricing_type"]
    assert_same(rows_of(table, "pricing_analytics", keys), {k: tuple(v) for k, v in expected.iterrows()})

    c = cbp_units(example)
    # Counterparts: PRICING_CATEGORY/TYPE group conversations by conversation_category/type.
    category = upper(c["category"]).replace({"REFERRAL_CONVERSION": "SERVICE"})
    expected = c.groupby([c["waba"], c["time"].dt.floor("D"), c["country"].astype(str), category,
                          upper(c["pricing_type"])])["cost"].agg(["size", "sum"])
    keys = ["waba", "start", "country", "conversation_category", "conversation_type"]
    assert_same(rows_of(table, "conversation_analytics", keys), {k: tuple(v) for k, v in expected.iterrows()})

    assert (table["end"] - table["start"] == pd.Timedelta(days=1)).all()
    assert str(table["start"].dt.tz) == "UTC"
    assert table["cost"].sum() == pytest.approx(example.messages["cost"].sum())  # the bill


def test_monthly_waba_zone_summary_equals_group_bys(example):
    table = example.summary("MONTHLY", ["PHONE", "TIER", "CONVERSATION_DIRECTION"], tz="waba", timezones=ZONES)

    def month_start(units: pd.DataFrame) -> pd.Series:
        starts = pd.Series(index=units.index, dtype=object)
        for waba, group in units.groupby("waba"):
            zone = ZONES.get(waba, "UTC")
            first = pd.to_datetime(group["time"].dt.tz_convert(zone).dt.strftime("%Y-%m-01"))
            starts[group.index] = list(first.dt.tz_localize(zone))
        return starts

    p = pmp_units(example)
    charged = p["pricing_type"] == "regular"
    tier = p["tier"].astype(object).where(p["tier"].notna(), np.where(charged, "0:MAX", None))
    expected = p.groupby([p["waba"], month_start(p), p["business"].astype(str), tier.fillna("-")])["cost"]
    got = rows_of(table.fillna({"tier": "-"}), "pricing_analytics", ["waba", "start", "phone_number", "tier"])
    assert_same(got, {k: tuple(v) for k, v in expected.agg(["size", "sum"]).iterrows()})

    c = cbp_units(example)
    direction = np.where(c["category"].astype(str).isin(USER_SIDE), "USER_INITIATED", "BUSINESS_INITIATED")
    expected = c.groupby([c["waba"], month_start(c), c["business"].astype(str), direction])["cost"]
    got = rows_of(table, "conversation_analytics", ["waba", "start", "phone_number", "conversation_direction"])
    assert_same(got, {k: tuple(v) for k, v in expected.agg(["size", "sum"]).iterrows()})

    # Two WABAs in two zones: one datetime column of UTC instants, each row's zone beside it,
    # and each bucket a month from local midnight to local midnight in its own WABA's zone.
    assert str(table["start"].dtype) == str(table["end"].dtype) == "datetime64[ns, UTC]"
    for row in table.itertuples():
        assert row.tz == ZONES.get(row.waba, "UTC")
        start, end = row.start.tz_convert(row.tz), row.end.tz_convert(row.tz)
        assert (start.day, start.hour, end.day, end.hour) == (1, 0, 1, 0)
        assert row.local_start == start.tz_localize(None)


def hourly_templates(zone: str, first_day: dt.date, days: int, every_minutes: int) -> pd.DataFrame:
    """Utility templates every few minutes over whole local days, each to its own user."""
    start = dt.datetime.combine(first_day, dt.time(), ZoneInfo(zone))
    end = dt.datetime.combine(first_day + dt.timedelta(days=days), dt.time(), ZoneInfo(zone))
    count = int((end.timestamp() - start.timestamp()) // (60 * every_minutes))
    frame = log(start.astimezone(dt.timezone.utc).isoformat(),
                *[(k * every_minutes / 60, "out", "utility") for k in range(count)], waba="w")
    frame["user"] = [f"+4915{k:09d}" for k in range(count)]
    return frame


DST_DAYS = [
    ("America/Sao_Paulo", dt.date(2018, 11, 4), 23),  # 00:00 -> 01:00: the day starts at 01:00
    ("America/Sao_Paulo", dt.date(2018, 2, 17), 25),  # 00:00 on the 18th -> 23:00 on the 17th
    ("Europe/Berlin", dt.date(2024, 3, 31), 23),
    ("Europe/Berlin", dt.date(2024, 10, 27), 25),
]


@pytest.mark.parametrize(("zone", "day", "hours"), DST_DAYS)
@pytest.mark.parametrize("rules", ["pmp_v1", "cbp_v2"])
def test_daily_waba_buckets_on_dst_days(zone, day, hours, rules):
    frame = hourly_templates(zone, day - dt.timedelta(days=1), 3, 20)
    result = waconv.classify(frame, rules=rules, timezones={"w": zone}, price=False)
    table = result.summary("DAILY", ["PRICING_CATEGORY"], tz="waba", timezones={"w": zone})
    analytics = "pricing_analytics" if rules == "pmp_v1" else "conversation_analytics"
    assert set(table["analytics"]) == {analytics}
    days = [day - dt.timedelta(days=1), day, day + dt.timedelta(days=1)]
    starts = [pd.Timestamp(dt.datetime.combine(d, dt.time(), ZoneInfo(zone))) for d in days]
    assert table["start"].tolist() == starts
    assert (table["end"] - table["start"]).tolist() == [pd.Timedelta(hours=h) for h in (24, hours, 24)]
    assert table["volume"].tolist() == [72, 3 * hours, 72]  # one template every 20 minutes
    # The same counts by each message's local calendar date (zoneinfo, one row at a time).
    local_dates = [t.astimezone(ZoneInfo(zone)).date() for t in frame["timestamp"]]
    assert table["volume"].tolist() == [local_dates.count(d) for d in days]
    assert str(table["start"].dt.tz) == zone
    assert table["cost"].isna().all()  # classified with price=False


@pytest.mark.parametrize(
    ("zone", "day", "buckets"),
    [("Europe/Berlin", dt.date(2024, 10, 27), 50), ("America/Sao_Paulo", dt.date(2018, 11, 4), 46)],
)
def test_half_hour_waba_buckets_on_dst_days(zone, day, buckets):
    frame = hourly_templates(zone, day, 1, 10)
    result = waconv.classify(frame, rules="pmp_v1", timezones={"w": zone}, price=False)
    result.options["timezones"] = {"w": zone}  # as classify records it (see the report to the lead)
    table = result.summary("HALF_HOUR", [], tz="waba")
    assert len(table) == buckets
    assert (table["volume"] == 3).all()
    assert (table["end"] - table["start"] == pd.Timedelta(minutes=30)).all()
    assert (table["start"].iloc[1:].to_numpy() == table["end"].iloc[:-1].to_numpy()).all()
    assert set(table["start"].dt.minute) == {0, 30}
    wall = table["start"].dt.strftime("%H:%M").tolist()
    if buckets == 50:  # Berlin's 02:00-03:00 happens twice: four buckets, two pairs of wall times
        assert wall.count("02:00") == 2 and wall.count("02:30") == 2
    else:  # Sao Paulo's 00:00-01:00 never happened
        assert wall[0] == "01:00" and "00:30" not in wall


def test_half_hour_buckets_align_on_local_half_hours_in_a_quarter_hour_zone():
    frame = log("2024-05-06 10:00", *[(k / 6, "out", "utility") for k in range(12)], waba="w")
    result = waconv.classify(frame, rules="pmp_v1", price=False)
    table = result.summary("HALF_HOUR", [], tz="Asia/Kathmandu")  # UTC+05:45
    assert set(table["start"].dt.minute) == {0, 30}
    assert set(table["start"].dt.tz_convert("UTC").dt.minute) == {15, 45}
    assert table["volume"].sum() == 12
    utc = result.summary("HALF_HOUR", [])
    assert utc["volume"].tolist() == [3, 3, 3, 3]


def test_dimensions_apply_to_their_own_analytics(example):
    table = example.summary("MONTHLY", ["TIER", "CONVERSATION_DIRECTION"])
    assert list(table.columns) == ["analytics", "waba", "start", "end", "tier", "conversation_direction",
                                   "volume", "cost"]
    pricing = table["analytics"] == "pricing_analytics"
    assert table.loc[pricing, "conversation_direction"].isna().all()
    assert table.loc[~pricing, "tier"].isna().all()
    assert table.loc[~pricing, "conversation_direction"].notna().all()
    counterpart = example.summary("MONTHLY", ["CONVERSATION_CATEGORY"])
    assert counterpart.loc[counterpart["analytics"] == "pricing_analytics", "pricing_category"].notna().all()
    totals = example.summary("MONTHLY", [])
    assert totals.groupby("analytics")["volume"].sum().to_dict() == {
        "conversation_analytics": len(cbp_units(example)), "pricing_analytics": len(pmp_units(example))}


@pytest.mark.parametrize(
    ("arguments", "column"),
    [({"granularity": "WEEKLY"}, "granularity"), ({"dimensions": ["PHONE", "TEMPLATE"]}, "dimensions"),
     ({"tz": "Mars/Olympus"}, "tz")],
)
def test_bad_arguments_name_the_argument(example, arguments, column):
    with pytest.raises(waconv.InputError) as error:
        example.summary(**arguments)
    assert error.value.column == column


def test_unpriced_result_has_no_cost_and_no_country():
    result = waconv.classify(log("2025-10-06", (0, "out", "marketing")), price=False)
    table = result.summary(dimensions=["PRICING_CATEGORY"])
    assert table["volume"].tolist() == [1] and table["cost"].isna().all()
    with pytest.raises(waconv.InputError, match="COUNTRY needs a priced result"):
        result.summary()
    point = result.to_meta_json(dimensions=["PRICING_CATEGORY"])["pricing_analytics"]["data"][0]["data_points"][0]
    assert "cost" not in point  # as Meta leaves cost out where it has none


def example_points(name: str, block: str | None) -> list[dict]:
    payload = json.loads((PAYLOADS / name).read_text())
    return (payload[block] if block else payload)["data"][0]["data_points"]


def test_meta_json_matches_the_layout_of_metas_examples(example):
    cbp = example.to_meta_json("MONTHLY", ["CONVERSATION_CATEGORY", "CONVERSATION_TYPE", "COUNTRY", "PHONE"],
                               waba="waba-br")
    reference = json.loads((PAYLOADS / "analytics_conversation_analytics_monthly_all_dimensions_response_meta.json")
                           .read_text())
    # Only the block the dimensions ask for, as in Meta's response (SPEC §10).
    assert set(cbp) == set(reference) == {"conversation_analytics", "id"} and cbp["id"] == "waba-br"
    both = example.to_meta_json("MONTHLY", ["CONVERSATION_CATEGORY", "PRICING_CATEGORY"], waba="waba-br")
    assert list(both) == ["conversation_analytics", "pricing_analytics", "id"]
    for response, block in ((cbp, "conversation_analytics"), (both, "pricing_analytics")):
        assert list(response[block]) == ["data"] and len(response[block]["data"]) == 1
        assert list(response[block]["data"][0]) == ["data_points"]
    # Meta's points without the direction field (not requested) have exactly our keys, in order.
    meta_keys = list(example_points("analytics_conversation_analytics_monthly_all_dimensions_response_meta.json",
                                    "conversation_analytics")[1])
    points = cbp["conversation_analytics"]["data"][0]["data_points"]
    assert points and all(list(p) == meta_keys for p in points)
    cbp_conversations = cbp_units(example)
    assert sum(p["conversation"] for p in points) == (cbp_conversations["waba"] == "waba-br").sum()

    pmp = example.to_meta_json("DAILY", ["PRICING_CATEGORY", "PRICING_TYPE", "TIER", "COUNTRY"], waba="waba-br")
    meta_layouts = {tuple(p) for p in example_points("analytics_pricing_analytics_response_meta.json",
                                                     "pricing_analytics")}
    points = pmp["pricing_analytics"]["data"][0]["data_points"]
    assert {tuple(p) for p in points} == meta_layouts  # with tier (charged) and without (free)
    assert all(p["end"] - p["start"] == 86_400 for p in points)
    assert all(type(p["start"]) is int and type(p["volume"]) is int and type(p["cost"]) is float for p in points)
    messages = pmp_units(example)
    br = messages[messages["waba"] == "waba-br"]
    assert sum(p["volume"] for p in points) == len(br)
    assert sum(p["cost"] for p in points) == pytest.approx(br["cost"].sum())
    json.dumps(pmp)  # plain Python values only

    half_hour = example.to_meta_json("HALF_HOUR", ["CONVERSATION_CATEGORY"], waba="waba-br")
    meta_keys = list(example_points("analytics_conversation_analytics_half_hour_by_category_response_meta.json",
                                    "conversation_analytics")[0])
    points = half_hour["conversation_analytics"]["data"][0]["data_points"]
    assert all(list(p) == meta_keys and p["end"] - p["start"] == 1800 for p in points)
    by_type = example.to_meta_json("MONTHLY", ["CONVERSATION_TYPE"], waba="waba-br")["conversation_analytics"]
    meta_keys = list(example_points("analytics_conversation_analytics_monthly_by_type_response_meta.json", None)[0])
    assert all(list(p) == meta_keys for p in by_type["data"][0]["data_points"])


def test_meta_json_buckets_match_the_summary_in_epoch_seconds(example):
    table = example.summary("DAILY", ["COUNTRY"], tz="waba", timezones=ZONES)
    points = example.to_meta_json("DAILY", ["COUNTRY"], tz="waba", timezones=ZONES,
                                  waba="waba-br")["pricing_analytics"]["data"][0]["data_points"]
    rows = table[(table["analytics"] == "pricing_analytics") & (table["waba"] == "waba-br")]
    # Meta's order: the newest bucket first; inside one, the summary's order (country A-Z).
    newest_first = rows.sort_values("start", ascending=False, kind="stable")
    assert [(p["start"], p["country"]) for p in points] == [
        (int(t.timestamp()), country) for t, country in zip(newest_first["start"], newest_first["country"])]
    assert len(set(rows["start"])) > 1 and rows["country"].is_monotonic_increasing is False
    assert all(p["start"] % 86_400 == 3 * 3600 for p in points)  # Sao Paulo midnight is 03:00 UTC


def test_meta_json_needs_a_waba_when_the_log_has_several(example):
    with pytest.raises(waconv.InputError) as error:
        example.to_meta_json()
    assert error.value.column == "waba"


def test_waba_zones_unknown_to_the_result_warn_and_fall_back_to_utc():
    frame = log("2024-05-06 10:00", (0, "out", "utility"), waba="w")
    result = waconv.classify(frame, rules="pmp_v1", timezones={"w": "Asia/Tokyo"}, price=False)
    result.options.pop("timezones", None)  # a result that does not record classify's zones
    with pytest.warns(waconv.WaconvWarning, match="timezones"):
        table = result.summary(dimensions=[], tz="waba")
    assert str(table["start"].dt.tz) == "UTC"
    tokyo = result.summary(dimensions=[], tz="waba", timezones={"w": "Asia/Tokyo"})
    assert tokyo["start"].tolist() == [pd.Timestamp("2024-05-06", tz="Asia/Tokyo")]
