"""read_meta_analytics and reconcile_analytics (SPEC §10): Meta's analytics responses read
into summary's table, round trips through to_meta_json, and comparisons that report exactly
the buckets that differ."""

from __future__ import annotations

import copy
import io
import json
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import waconv
from builders import log
from waconv.analytics.meta_json import response_from_summary

pytestmark = pytest.mark.filterwarnings("ignore::waconv.WaconvWarning")  # rate gaps of the example log

META = Path(__file__).resolve().parent / "fixtures" / "meta"  # Meta's example responses (SOURCES.md)
WABA = "102290129340398"  # the WABA of Meta's examples
ZONES = waconv.examples.TIMEZONES
EXAMPLES = {
    "pricing": "analytics_pricing_analytics_response_meta.json",
    "all_dimensions": "analytics_conversation_analytics_monthly_all_dimensions_response_meta.json",
    "half_hour": "analytics_conversation_analytics_half_hour_by_category_response_meta.json",
    "by_type": "analytics_conversation_analytics_monthly_by_type_response_meta.json",
}


def example(name: str) -> dict:
    return json.loads((META / EXAMPLES[name]).read_text())


@pytest.fixture(scope="module")
def result() -> waconv.Result:
    return waconv.classify(waconv.examples.log(), timezones=ZONES)


def responses(result: waconv.Result, *args, **kwargs) -> list[dict]:
    """to_meta_json of every WABA of the result."""
    wabas = sorted(set(result.messages["waba"]))
    return [result.to_meta_json(*args, waba=w, **kwargs) for w in wabas]


# --- reading Meta's example responses ----------------------------------------------------


def test_metas_examples_read_into_the_summary_shape(result):
    summary = result.summary("DAILY", ["COUNTRY", "TIER", "PRICING_CATEGORY", "PRICING_TYPE"])
    summary = summary[summary["analytics"] == "pricing_analytics"].dropna(axis=1, how="all")  # no counterparts
    table = waconv.read_meta_analytics(META / EXAMPLES["pricing"], waba=WABA)
    assert list(table.columns) == list(summary.columns)
    assert table.dtypes.to_dict() == summary.dtypes.to_dict()
    points = example("pricing")["pricing_analytics"]["data"][0]["data_points"]
    assert len(table) == len(points) and set(table["analytics"]) == {"pricing_analytics"}
    assert table["volume"].sum() == sum(p["volume"] for p in points)
    assert table["cost"].sum() == pytest.approx(sum(p["cost"] for p in points))
    assert (table["waba"] == WABA).all()
    assert (table["end"] - table["start"] == pd.Timedelta(days=1)).all()
    assert table["start"].min() == pd.Timestamp(1748761200, unit="s", tz="UTC")  # midnight in Meta's zone
    free = table["pricing_type"] != "REGULAR"
    assert table.loc[free, "tier"].isna().all() and table.loc[~free, "tier"].notna().all()  # Meta leaves tier out
    fep = table[table["pricing_type"] == "FREE_ENTRY_POINT"]
    assert fep[["pricing_category", "volume"]].values.tolist() == [["SERVICE", 6]]


def test_metas_conversation_examples_read_with_the_fields_they_carry():
    table = waconv.read_meta_analytics(META / EXAMPLES["all_dimensions"])
    assert list(table.columns) == ["analytics", "waba", "start", "end", "phone_number", "country",
                                   "conversation_category", "conversation_type", "conversation_direction",
                                   "volume", "cost"]
    assert (table["waba"] == WABA).all() and (table["phone_number"] == "15550458206").all()
    assert table["conversation_direction"].tolist().count("UNKNOWN") == 1
    assert table["conversation_direction"].isna().sum() == 8  # Meta left the field out of the others
    assert table["volume"].sum() == 1558 + 2636 + 2238 + 1782 + 1568 + 2716 + 2180 + 1465 + 1433
    by_type = waconv.read_meta_analytics(META / EXAMPLES["by_type"], waba=WABA)  # the edge's response: no id
    assert by_type[["conversation_type", "volume"]].values.tolist() == [
        ["FREE_ENTRY_POINT", 250], ["FREE_TIER", 1000], ["REGULAR", 8500]]
    assert waconv.read_meta_analytics(META / EXAMPLES["by_type"])["waba"].isna().all()
    half_hour = waconv.read_meta_analytics(META / EXAMPLES["half_hour"])
    assert (half_hour["end"] - half_hour["start"] == pd.Timedelta(minutes=30)).all()
    assert half_hour["start"].is_monotonic_increasing  # summary's order; Meta wrote the newest first


@pytest.mark.parametrize("name", ["all_dimensions", "half_hour", "by_type"])
def test_metas_conversation_examples_are_written_back_exactly_in_metas_order(name):
    """Read, then written by waconv's writer: Meta's own response, field for field and in
    Meta's order of data points (the newest bucket first; REGULAR, FREE_TIER, FREE_ENTRY_POINT)."""
    original = example(name)
    table = waconv.read_meta_analytics(original, waba=WABA)
    written = response_from_summary(table, WABA, ["conversation_analytics"])
    if "data" in original:  # the edge's response is the block alone
        written = written["conversation_analytics"]
    elif "id" not in original:
        written.pop("id")
    assert written == original


def test_metas_pricing_example_is_written_back_point_for_point():
    original = example("pricing")
    written = response_from_summary(waconv.read_meta_analytics(original, waba=WABA), WABA, ["pricing_analytics"])
    points = written["pricing_analytics"]["data"][0]["data_points"]
    expected = original["pricing_analytics"]["data"][0]["data_points"]
    assert sorted(map(json.dumps, points)) == sorted(map(json.dumps, [{**p, "cost": float(p["cost"])} for p in expected]))
    starts = [p["start"] for p in points]
    assert starts == sorted(starts, reverse=True) == [p["start"] for p in expected]  # newest bucket first, as Meta


# --- round trip: summary -> to_meta_json -> read_meta_analytics ---------------------------------


@pytest.mark.parametrize(
    ("granularity", "dimensions", "tz"),
    [
        ("DAILY", ["PRICING_CATEGORY", "PRICING_TYPE", "COUNTRY"], None),
        ("MONTHLY", ["PHONE", "TIER", "CONVERSATION_DIRECTION", "CONVERSATION_CATEGORY"], None),
        ("HALF_HOUR", ["CONVERSATION_TYPE"], None),
        ("MONTHLY", [], None),
    ],
)
def test_summary_to_meta_json_and_back_is_the_same_table(result, granularity, dimensions, tz):
    summary = result.summary(granularity, dimensions, tz)
    pages = responses(result, granularity, dimensions, tz, analytics=["pricing_analytics", "conversation_analytics"])
    back = waconv.read_meta_analytics(pages)
    assert len(summary) > 10
    pd.testing.assert_frame_equal(back, summary)
    # And through a JSON file, as `waconv summary --json` writes several WABAs' responses.
    keyed = json.loads(json.dumps({r["id"]: r for r in pages}))
    pd.testing.assert_frame_equal(waconv.read_meta_analytics(keyed), summary)


def test_summary_order_does_not_depend_on_the_input_order(result):
    events = waconv.examples.log()
    shuffled = events.sample(frac=1.0, random_state=7).reset_index(drop=True)
    other = waconv.classify(shuffled, timezones=ZONES)
    dimensions = ["PHONE", "COUNTRY", "PRICING_CATEGORY", "PRICING_TYPE", "TIER"]
    mine, theirs = result.summary("MONTHLY", dimensions), other.summary("MONTHLY", dimensions)
    pd.testing.assert_frame_equal(mine, theirs)
    pricing = mine[mine["analytics"] == "pricing_analytics"]
    key = pricing[["waba", "start", "phone_number", "country"]].astype(str).agg("|".join, axis=1).tolist()
    assert key == sorted(key)  # text order of the values


def test_pages_are_read_as_one_response(result):
    response = result.to_meta_json("DAILY", ["COUNTRY"], waba="waba-br", analytics="pricing_analytics")
    points = response["pricing_analytics"]["data"][0]["data_points"]
    pages = []
    for i in range(0, len(points), 40):
        page = {"pricing_analytics": {"data": [{"data_points": points[i:i + 40]}],
                                      "paging": {"cursors": {"before": f"b{i}", "after": f"a{i}"}}},
                "id": "waba-br"}
        if i + 40 < len(points):
            page["pricing_analytics"]["paging"]["next"] = f"https://graph.facebook.com/v23.0/waba-br?after=a{i}"
        pages.append(page)
    assert len(pages) > 2
    with warnings.catch_warnings():
        warnings.simplefilter("error", waconv.WaconvWarning)  # every page given: no warning
        whole = waconv.read_meta_analytics(pages)
    pd.testing.assert_frame_equal(whole, waconv.read_meta_analytics(response))
    with pytest.warns(waconv.WaconvWarning, match="paging.next"):
        waconv.read_meta_analytics(pages[:-1])
    with pytest.raises(waconv.InputError, match="a page given twice"):
        waconv.read_meta_analytics([*pages, pages[1]])


def test_json_lines_of_pages_and_input_errors_name_file_line_and_field(tmp_path):
    original = example("pricing")
    path = tmp_path / "pages.jsonl"
    broken = copy.deepcopy(original)
    broken["pricing_analytics"]["data"][0]["data_points"][3]["volume"] = -2
    path.write_text(json.dumps(original) + "\n" + json.dumps(broken) + "\n")
    with pytest.raises(waconv.InputError) as error:
        waconv.read_meta_analytics(path, waba=WABA)
    assert error.value.file == str(path) and error.value.line == 2
    assert error.value.column == "pricing_analytics.data[0].data_points[3].volume"
    assert "expected a count" in error.value.reason
    path.write_text(json.dumps(original) + "\n")
    pd.testing.assert_frame_equal(waconv.read_meta_analytics(path, waba=WABA),
                                  waconv.read_meta_analytics(original, waba=WABA))


@pytest.mark.parametrize(
    ("change", "field", "reason"),
    [
        (lambda p: p.update(template="x"), "data_points[0].template", "unknown field"),
        (lambda p: p.update(start="soon"), "data_points[0].start", "epoch seconds"),
        (lambda p: p.update(end=p["start"]), "data_points[0].end", "not after its start"),
        (lambda p: p.update(cost="10"), "data_points[0].cost", "expected a number"),
        (lambda p: p.update(country=["US"]), "data_points[0].country", "expected a string"),
        (lambda p: p.pop("volume"), "data_points[0].volume", "expected a count"),
    ],
)
def test_malformed_data_points_are_input_errors_naming_the_field(change, field, reason):
    response = example("pricing")
    change(response["pricing_analytics"]["data"][0]["data_points"][0])
    with pytest.raises(waconv.InputError, match=reason) as error:
        waconv.read_meta_analytics(response)
    assert error.value.column == f"pricing_analytics.data[0].{field}"


def test_other_documents_are_input_errors():
    with pytest.raises(waconv.InputError, match="not a Meta analytics response"):
        waconv.read_meta_analytics(json.loads((META / "cbp_2025_status_delivered_service_meta.json").read_text()))
    with pytest.raises(waconv.InputError, match="Meta answered with an error"):
        waconv.read_meta_analytics({"error": {"message": "(#100) Invalid parameter", "code": 100}})
    with pytest.raises(waconv.InputError, match="not waba='1'"):
        waconv.read_meta_analytics(example("all_dimensions"), waba="1")


# --- reconcile_analytics ----------------------------------------------------------------------


def test_utc_analytics_against_waba_zone_buckets_are_told_to_check_the_zone(result):
    pages = responses(result, "DAILY", [], analytics="pricing_analytics")  # UTC days; the result knows Sao Paulo's
    outcome = waconv.reconcile_analytics(result, pages)
    assert outcome.tz == "waba" and not outcome.agrees
    assert any("waba-br: no bucket in common" in note for note in outcome.notes)
    assert waconv.reconcile_analytics(result, pages, tz="UTC").agrees is True


def test_a_result_agrees_with_its_own_analytics(result):
    pages = responses(result, "MONTHLY", ["COUNTRY", "PRICING_TYPE", "PRICING_CATEGORY", "TIER"], "waba",
                      timezones=ZONES, analytics=["conversation_analytics", "pricing_analytics"])
    outcome = waconv.reconcile_analytics(result, pages)
    assert outcome.agrees is True and outcome.differences.empty
    assert outcome.granularity == {"conversation_analytics": "MONTHLY", "pricing_analytics": "MONTHLY"}
    assert outcome.dimensions["pricing_analytics"] == ["COUNTRY", "TIER", "PRICING_CATEGORY", "PRICING_TYPE"]
    assert outcome.tz == "waba"  # the result records classify's zones: Meta buckets in them
    verdicts = outcome.verdicts
    assert verdicts["agrees"].all() and set(verdicts["waba"]) == {"waba-br", "waba-global"}
    assert verdicts["month"].is_unique is False and len(verdicts) == len(verdicts[["waba", "month"]].drop_duplicates())
    assert all(line.startswith(f"{w} {m}: agrees (") for w, m, line in verdicts[["waba", "month", "verdict"]].values)
    assert outcome.table["volume_waconv"].sum() == outcome.table["volume_meta"].sum() == \
        result.summary("MONTHLY", []).volume.sum()
    assert "all agree" in repr(outcome)


def test_one_changed_bucket_is_exactly_the_one_difference(result):
    pages = responses(result, "DAILY", ["COUNTRY", "PRICING_CATEGORY"], "waba", timezones=ZONES,
                      analytics="pricing_analytics")
    altered = copy.deepcopy(pages)
    point = altered[0]["pricing_analytics"]["data"][0]["data_points"][5]
    point["volume"] += 3
    outcome = waconv.reconcile_analytics(result, altered)
    row = outcome.differences.iloc[0]
    assert len(outcome.differences) == 1 and outcome.agrees is False
    assert (row.waba, int(row.start.timestamp()), row.country, row.pricing_category) == (
        altered[0]["id"], point["start"], point["country"], point["pricing_category"])
    assert (row.volume_difference, row.differs, row.cost_difference) == (-3, "volume", 0.0)
    month = pd.Timestamp(point["start"], unit="s").strftime("%Y-%m")
    verdict = outcome.verdicts.set_index(["waba", "month"]).loc[(altered[0]["id"], month)]
    assert not verdict.agrees and verdict.differing == 1 and "(-3)" in verdict.verdict
    assert outcome.verdicts["agrees"].sum() == len(outcome.verdicts) - 1

    cost = copy.deepcopy(pages)
    cost[0]["pricing_analytics"]["data"][0]["data_points"][5]["cost"] += 0.01
    row = waconv.reconcile_analytics(result, cost).differences.iloc[0]
    assert (row.differs, row.volume_difference) == ("cost", 0) and row.cost_difference == pytest.approx(-0.01)


def test_a_bucket_on_one_side_only_differs_by_all_of_it(result):
    pages = responses(result, "DAILY", ["PRICING_TYPE"], "waba", timezones=ZONES, analytics="pricing_analytics")
    altered = copy.deepcopy(pages)
    points = altered[1]["pricing_analytics"]["data"][0]["data_points"]
    dropped = points.pop(4)
    extra = {**points[0], "pricing_type": "FREE_TIER", "volume": 2}  # a type waconv has none of there
    points.append(extra)
    outcome = waconv.reconcile_analytics(result, altered)
    differences = outcome.differences.set_index("pricing_type")
    assert len(differences) == 2
    assert differences.loc[dropped["pricing_type"], "volume_meta"] == 0
    assert differences.loc[dropped["pricing_type"], "volume_waconv"] == dropped["volume"]
    assert differences.loc["FREE_TIER", ["volume_waconv", "volume_meta"]].tolist() == [0, 2]


def test_an_empty_answer_compares_nothing_and_never_agrees():
    empty = waconv.classify(log("2025-10-06", (0, "in")), price=False)
    outcome = waconv.reconcile_analytics(empty, {"pricing_analytics": {"data": [{"data_points": []}]}, "id": "b1"})
    assert outcome.table.empty and outcome.agrees is None
    assert "0 rows compared: nothing to agree on" in repr(outcome)


def test_an_empty_block_meta_answered_is_compared_against_waconvs_units(result):
    answer = {"pricing_analytics": {"data": [{"data_points": []}]}, "id": "waba-br"}
    outcome = waconv.reconcile_analytics(result, answer, granularity="MONTHLY", start="2025-07-01", end="2025-09-01")
    assert not outcome.agrees and (outcome.table["volume_meta"] == 0).all()
    assert outcome.table["volume_waconv"].sum() > 0


def test_units_outside_metas_span_are_noted_not_compared(result):
    pages = responses(result, "MONTHLY", [], "waba", timezones=ZONES, analytics="pricing_analytics")
    for page in pages:
        data = page["pricing_analytics"]["data"][0]
        data["data_points"] = [p for p in data["data_points"] if p["start"] < 1_767_225_600]  # before 2026
    outcome = waconv.reconcile_analytics(result, pages)
    assert outcome.agrees is True
    assert any("outside Meta's span" in note for note in outcome.notes)


def test_metas_half_hour_example_against_a_log_of_the_same_conversations():
    """Meta's example: 3 marketing conversations 10:00-10:30 UTC, 2 authentication ones
    10:30-11:00 on 2023-05-31. A log opening exactly those agrees in volume. (That day was
    still cbp_v1, whose conversations have no template category: Meta's illustration uses
    the categories of June 2023 on, so the log is classified under cbp_v2's rules.)"""
    steps = [(k / 60, "out", "marketing") for k in range(3)] + [(0.5 + k / 60, "out", "authentication") for k in range(2)]
    frame = log("2023-05-31 10:00", *steps, waba=WABA)
    frame["user"] = [f"+91987654321{k}" for k in range(len(frame))]
    mine = waconv.classify(frame, rules="cbp_v2")
    outcome = waconv.reconcile_analytics(mine, META / EXAMPLES["half_hour"])
    assert outcome.granularity == {"conversation_analytics": "HALF_HOUR"}
    assert outcome.dimensions == {"conversation_analytics": ["CONVERSATION_CATEGORY"]}
    table = outcome.table.set_index("conversation_category")
    assert table.loc["MARKETING", ["volume_waconv", "volume_meta"]].tolist() == [3, 3]
    assert table.loc["AUTHENTICATION", ["volume_waconv", "volume_meta"]].tolist() == [2, 2]
    assert table["cost_difference"].notna().all()  # compared in cost too, whatever Meta's 2023 rates were
    assert set(outcome.differences["differs"]) <= {"cost"}


def test_metas_example_against_another_log_reports_differences_not_agreement(result):
    outcome = waconv.reconcile_analytics(result, waconv.read_meta_analytics(META / EXAMPLES["by_type"], waba="waba-br"))
    assert outcome.agrees is False and set(outcome.differences["differs"]) >= {"volume"}
    assert outcome.verdicts["verdict"].str.contains("differs").all()


def test_meta_response_without_a_waba_needs_one_when_the_result_has_several(result):
    with pytest.raises(waconv.InputError, match="names no WABA"):
        waconv.reconcile_analytics(result, META / EXAMPLES["by_type"])


# --- display phone numbers and spellings --------------------------------------------------------


def test_phone_is_the_display_number_when_the_webhooks_carry_it(tmp_path):
    events = waconv.synthetic.events(n_users=30, days=10, start="2025-08-01", seed=5, duplicate_rate=0)
    truth = waconv.classify(events)
    businesses = sorted(set(events["business"]))
    numbers = {b: {"phone_number_id": str(b), "display_phone_number": f"1555000{i:04d}"}
               for i, b in enumerate(businesses)}
    payloads = waconv.to_webhooks(truth, phone_number_ids=numbers)
    with_display = waconv.read_webhooks(payloads)
    dump = tmp_path / "dump.jsonl"  # read by Arrow's columns, the same
    dump.write_text("".join(json.dumps(p) + "\n" for p in payloads))
    from waconv.io.webhooks.columns import read_columns

    assert read_columns(dump) is not None
    pd.testing.assert_frame_equal(waconv.read_webhooks(dump), with_display)
    assert dict(zip(with_display["business"], with_display["business_display_phone"])) == {
        str(b): numbers[b]["display_phone_number"] for b in businesses}
    table = waconv.classify(with_display).summary("MONTHLY", ["PHONE"])
    assert set(table["phone_number"]) == {n["display_phone_number"] for n in numbers.values()}
    without = waconv.read_webhooks(waconv.to_webhooks(truth))
    assert without["business_display_phone"].isna().all()
    assert set(waconv.classify(without).summary("MONTHLY", ["PHONE"])["phone_number"]) == set(map(str, businesses))


def test_free_entry_points_are_service_and_free_entry_point_in_pricing_analytics(result):
    table = result.summary("MONTHLY", ["PRICING_CATEGORY", "PRICING_TYPE"])
    pricing = table[table["analytics"] == "pricing_analytics"]
    fep = pricing[pricing["pricing_type"] == "FREE_ENTRY_POINT"]
    assert len(fep) and (fep["pricing_category"] == "SERVICE").all()
    assert "REFERRAL_CONVERSION" not in set(table["pricing_category"].dropna())


def test_to_meta_json_writes_the_blocks_asked_for(result):
    assert list(result.to_meta_json("MONTHLY", ["TIER"], waba="waba-br")) == ["pricing_analytics", "id"]
    assert list(result.to_meta_json("MONTHLY", ["CONVERSATION_DIRECTION"], waba="waba-br")) == [
        "conversation_analytics", "id"]
    assert list(result.to_meta_json("MONTHLY", ["COUNTRY"], waba="waba-br")) == [
        "conversation_analytics", "pricing_analytics", "id"]
    assert list(result.to_meta_json("MONTHLY", ["COUNTRY"], waba="waba-br", analytics="conversation_analytics")) == [
        "conversation_analytics", "id"]
    with pytest.raises(waconv.InputError) as error:
        result.to_meta_json("MONTHLY", waba="waba-br", analytics="template_analytics")
    assert error.value.column == "analytics"


# --- the command line --------------------------------------------------------------------------


def test_reconcile_command_with_analytics(tmp_path, result):
    dump = tmp_path / "log.csv"
    waconv.examples.log().to_csv(dump, index=False)
    pages = responses(result, "MONTHLY", ["PRICING_CATEGORY"], "waba", timezones=ZONES)
    meta = tmp_path / "meta.json"
    meta.write_text(json.dumps({r["id"]: r for r in pages}))
    zone = ["--timezone", "waba-br=America/Sao_Paulo"]
    done = subprocess.run([sys.executable, "-m", "waconv.cli", "reconcile", str(dump), "--analytics", str(meta), *zone,
                           "-q", "-o", str(tmp_path / "rec")], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert "rows compared, all agree" in done.stdout and "waba-br 2025-07: agrees" in done.stdout
    assert pd.read_csv(tmp_path / "rec" / "analytics_differences.csv").empty
    altered = copy.deepcopy(pages)
    altered[0]["pricing_analytics"]["data"][0]["data_points"][0]["volume"] += 1
    meta.write_text(json.dumps(altered[0]))
    done = subprocess.run([sys.executable, "-m", "waconv.cli", "reconcile", str(dump), "--analytics", str(meta), *zone,
                           "-q", "-o", "-"], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert "1 differ" in done.stderr
    assert len(pd.read_csv(io.StringIO(done.stdout))) == 1


def test_summary_json_writes_the_blocks_the_dimensions_ask_for(tmp_path, capsys):
    from waconv import cli

    dump = tmp_path / "log.csv"
    waconv.examples.log().to_csv(dump, index=False)
    assert cli.main(["summary", str(dump), "--json", "--granularity", "MONTHLY", "-q",
                     "--dimensions", "CONVERSATION_CATEGORY", "COUNTRY"]) == 0
    responses_by_waba = json.loads(capsys.readouterr().out)
    assert set(responses_by_waba) == {"waba-br", "waba-global"}
    assert all(list(r) == ["conversation_analytics", "id"] for r in responses_by_waba.values())
