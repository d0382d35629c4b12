"""result.plot.* and plot_compare: drawn without error, saved to PNG, and what the Axes show
checked against plain group-bys of the result tables."""

from __future__ import annotations

import subprocess
import sys
import warnings
from collections import defaultdict

import matplotlib

matplotlib.use("Agg")

import matplotlib.dates as mdates  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

import waconv  # noqa: E402
from waconv import synthetic  # noqa: E402
from waconv.analytics.plot import ERA_STARTS, cost_buckets, plot_compare  # noqa: E402  (plot_compare is waconv.plot_compare)


def classify_quietly(log: pd.DataFrame, timezones: dict, **options) -> waconv.Result:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", waconv.WaconvWarning)  # rate-card gaps are not the subject
        return waconv.classify(log, timezones=timezones, **options)


@pytest.fixture(scope="module")
def example() -> waconv.Result:
    return classify_quietly(waconv.examples.log(), waconv.examples.TIMEZONES)


@pytest.fixture(scope="module")
def generated() -> waconv.Result:
    """Six weeks across the 2025-07-01 switch: CBP conversations and PMP messages."""
    log = synthetic.events(n_users=300, days=42, start="2025-06-10", seed=5, n_businesses=2)
    return classify_quietly(log, synthetic.TIMEZONES)


@pytest.fixture(params=["example", "generated"])
def result(request) -> waconv.Result:
    return request.getfixturevalue(request.param)


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def save(ax, tmp_path, name: str) -> None:
    path = tmp_path / f"{name}.png"
    ax.figure.savefig(path, dpi=60)
    assert path.exists() and path.stat().st_size > 5_000  # an image with content, not an empty canvas


def utc(column: pd.Series) -> pd.Series:
    return pd.to_datetime(column, utc=True, format="ISO8601") if column.dtype == object or column.dtype == "str" \
        else column


def bar_heights_by_x(ax) -> dict[float, float]:
    """Sum of the stacked bar heights at each bar centre."""
    totals: dict[float, float] = defaultdict(float)
    for container in ax.containers:
        for patch in container.patches:
            totals[round(patch.get_x() + patch.get_width() / 2, 6)] += patch.get_height()
    return totals


def bar_heights_by_start(ax) -> dict[float, float]:
    """Sum of the stacked bar heights at each bar's left edge: daily_cost's bars start at
    their bucket's first instant."""
    totals: dict[float, float] = defaultdict(float)
    for container in ax.containers:
        for patch in container.patches:
            totals[round(patch.get_x(), 6)] += patch.get_height()
    return totals


def legend_labels(ax) -> list[str]:
    return [text.get_text() for text in ax.get_legend().get_texts()]


def test_daily_cost_bars_sum_to_each_days_cost(result, tmp_path):
    ax = result.plot.daily_cost(freq="D")
    save(ax, tmp_path, "daily_cost")
    m = result.messages
    charged = m[m["cost"].fillna(0) != 0]
    when = utc(charged["delivered_at"]).fillna(utc(charged["timestamp"]))
    expected = charged["cost"].groupby(when.dt.floor("D").dt.tz_localize(None)).sum()
    drawn = {mdates.num2date(x).replace(tzinfo=None): h for x, h in bar_heights_by_start(ax).items() if h}
    assert set(drawn) == {day.to_pydatetime() for day in expected[expected != 0].index}
    for day, cost in expected.items():
        if cost:
            assert drawn[day.to_pydatetime()] == pytest.approx(cost)
    present = [c for c in waconv.PRICING_CATEGORIES if c in set(charged["pricing_category"].astype(str))]
    assert legend_labels(ax) == present


def test_daily_cost_in_another_time_zone(generated):
    zone = "Asia/Kolkata"
    ax = generated.plot.daily_cost(tz=zone)
    m = generated.messages
    charged = m[m["cost"].fillna(0) != 0]
    local_day = charged["delivered_at"].fillna(charged["timestamp"]).dt.tz_convert(zone).dt.floor("D")
    expected = charged["cost"].groupby(local_day.dt.tz_localize(None)).sum()
    drawn = {mdates.num2date(x).replace(tzinfo=None): h for x, h in bar_heights_by_start(ax).items() if h}
    assert sorted(drawn) == [d.to_pydatetime() for d in expected.index]
    assert [drawn[d.to_pydatetime()] for d in expected.index] == pytest.approx(expected.tolist())
    assert zone in ax.get_title()


def charge_days(result: waconv.Result) -> tuple[pd.Series, pd.Series]:
    """Each non-zero charge and its UTC day, computed without waconv's plot helpers."""
    m = result.messages
    charged = m[m["cost"].fillna(0) != 0]
    when = utc(charged["delivered_at"]).fillna(utc(charged["timestamp"]))
    # A CBP conversation's charge falls at its start.
    opened = charged["conversation_id"].notna().to_numpy()
    starts = result.conversations.set_index("conversation_id")["start"]
    when = when.where(~opened, starts.reindex(charged["conversation_id"].astype("float")).to_numpy())
    return charged["cost"], when.dt.floor("D").dt.tz_localize(None)


def drawn_by_start(ax) -> dict[pd.Timestamp, float]:
    return {pd.Timestamp(mdates.num2date(x).replace(tzinfo=None)): h for x, h in bar_heights_by_start(ax).items() if h}


def test_daily_cost_of_a_multi_year_log_draws_months(example):
    ax = example.plot.daily_cost()
    assert ax.get_title().startswith("Monthly cost")
    cost, day = charge_days(example)
    expected = cost.groupby(day.dt.to_period("M").dt.start_time).sum()
    drawn = drawn_by_start(ax)
    assert sorted(drawn) == list(expected[expected != 0].index)
    assert [drawn[month] for month in sorted(drawn)] == pytest.approx(expected[expected != 0].tolist())
    assert len(drawn) < 60  # four years of days would be ~1,200 bars


def test_weekly_bars_start_on_mondays_and_hold_each_weeks_cost(example):
    ax = example.plot.daily_cost(freq="W")
    assert ax.get_title().startswith("Weekly cost")
    cost, day = charge_days(example)
    monday = day - pd.to_timedelta(day.dt.day_of_week, unit="D")
    expected = cost.groupby(monday).sum()
    drawn = drawn_by_start(ax)
    assert {d.day_of_week for d in drawn} == {0}
    assert sorted(drawn) == list(expected[expected != 0].index)
    assert [drawn[week] for week in sorted(drawn)] == pytest.approx(expected[expected != 0].tolist())


@pytest.mark.parametrize(("days", "freq"), [(0, "D"), (92, "D"), (93, "W"), (731, "W"), (732, "M")])
def test_auto_frequency_follows_the_span_of_the_charges(days, freq):
    first = pd.Timestamp("2024-01-01")
    _, used = cost_buckets(pd.DatetimeIndex([first, first + pd.Timedelta(days=days)]), "auto")
    assert used == freq


def test_each_bar_stays_inside_its_bucket(example):
    # So that no bar straddles a month boundary, where an era switch line may stand.
    for freq, length in (("M", None), ("W", 7.0), ("D", 1.0)):
        ax = example.plot.daily_cost(freq=freq)
        for container in ax.containers:
            for patch in container.patches:
                start = pd.Timestamp(mdates.num2date(patch.get_x()).replace(tzinfo=None))
                days = length if length else start.days_in_month
                assert 0.5 * days < patch.get_width() < days
        plt.close("all")


def era_lines(ax) -> dict[str, pd.Timestamp]:
    """Era name -> where its dashed line stands, read from the labels and the lines."""
    lines = [pd.Timestamp(mdates.num2date(mdates.date2num(line.get_xdata()[0])).replace(tzinfo=None))
             for line in ax.get_lines() if line.get_gid() == "era_switch"]
    labels = [text.get_text() for text in ax.texts if text.get_gid() == "era_switch"]
    assert len(lines) == len(labels)
    return dict(zip(labels, lines))


def test_era_switches_inside_the_range_are_marked(example, generated):
    assert era_lines(example.plot.daily_cost()) == {
        "cbp_v2": pd.Timestamp("2023-06-01"), "pmp_v1": pd.Timestamp("2025-07-01"),
        "pmp_v2": pd.Timestamp("2026-10-01")}
    assert era_lines(generated.plot.daily_cost()) == {"pmp_v1": pd.Timestamp("2025-07-01")}


def test_no_era_switch_is_marked_under_forced_rules():
    log = synthetic.events(n_users=100, days=42, start="2025-06-10", seed=5)
    forced = classify_quietly(log, synthetic.TIMEZONES, rules="pmp_v1")
    assert era_lines(forced.plot.daily_cost()) == {}


def test_era_switch_labels_do_not_overlap(example):
    for size in ((9, 4), (5, 3), (3.5, 2.5)):  # the README's figure and narrow subplots
        fig, ax = plt.subplots(figsize=size, layout="constrained")
        example.plot.daily_cost(ax=ax)
        fig.canvas.draw()
        boxes = [text.get_window_extent() for text in ax.texts if text.get_gid() == "era_switch"]
        assert len(boxes) == 3
        assert not any(a.overlaps(b) for k, a in enumerate(boxes) for b in boxes[k + 1:])
        frame = ax.get_window_extent()
        assert all(frame.x0 <= box.x0 and box.x1 <= frame.x1 and box.y1 <= frame.y1 for box in boxes)


def test_era_starts_are_the_cores():
    # One template a second before and at each switch: the core's era flips exactly there.
    for era, day in ERA_STARTS.items():
        start = pd.Timestamp(day, tz="UTC")
        frame = log_at([start - pd.Timedelta(seconds=1), start])
        eras = waconv.classify(frame, price=False).messages["era"].astype(str).tolist()
        assert eras[1] == era and eras[0] != era


def log_at(times: list[pd.Timestamp]) -> pd.DataFrame:
    return pd.DataFrame({"business": "b", "user": [f"+4915{k:09d}" for k in range(len(times))],
                         "timestamp": times, "direction": "outbound", "template_category": "utility"})


def test_unknown_freq_is_an_input_error(example):
    with pytest.raises(waconv.InputError) as error:
        example.plot.daily_cost(freq="Q")
    assert error.value.column == "freq"


def panel_counts(ax) -> dict[str, dict[str, float]]:
    """by_type's panels: title -> {category: stacked height}."""
    panels = {}
    for panel in ax.child_axes:
        labels = [tick.get_text() for tick in panel.get_xticklabels()]
        heights = bar_heights_by_x(panel)
        panels[panel.get_title()] = {label: heights[round(float(x), 6)] for label, x in zip(labels, panel.get_xticks())}
    return panels


def test_by_type_counts_conversations_and_messages(result, tmp_path):
    ax = result.plot.by_type()
    save(ax, tmp_path, "by_type")
    m = result.messages
    cbp = m["era"].astype(str).isin(["cbp_v1", "cbp_v2"])
    openers = m[m["opens_conversation"] & cbp]  # one opening row per CBP conversation
    pmp = m[~cbp & (m["pricing_model"] == "PMP") & m["pricing_type"].notna() & ~m["duplicate"]]
    expected = {
        "CBP conversations": openers["pricing_category"].astype(str).value_counts(),
        "PMP messages": pmp["pricing_category"].astype(str).value_counts(),
    }
    expected = {title: {c: float(n) for c, n in counts.items() if n} for title, counts in expected.items()}
    assert panel_counts(ax) == {title: counts for title, counts in expected.items() if counts}
    for panel in ax.child_axes:  # categories in waconv's order, each panel on its own scale
        labels = [tick.get_text() for tick in panel.get_xticklabels()]
        assert labels == [c for c in waconv.PRICING_CATEGORIES if c in labels]
        assert panel.get_ylim()[1] >= max(panel_counts(ax)[panel.get_title()].values())
    types = set(openers["pricing_type"].astype(str)) | set(pmp["pricing_type"].astype(str))
    assert legend_labels(ax) == [t for t in waconv.PRICING_TYPES if t in types]


def test_generated_log_shows_both_units_in_panels_of_their_own(generated):
    ax = generated.plot.by_type()
    conversations, messages = ax.child_axes
    assert (conversations.get_title(), messages.get_title()) == ("CBP conversations", "PMP messages")
    assert (conversations.get_ylabel(), messages.get_ylabel()) == ("conversations", "messages")
    # Separate scales: each panel's top is set by its own tallest bar, not by the other unit.
    for panel in (conversations, messages):
        tallest = max(bar_heights_by_x(panel).values())
        assert tallest < panel.get_ylim()[1] <= 1.1 * tallest
    assert not ax.axison  # the host only holds the panels


def test_by_type_of_a_log_of_one_unit_has_one_panel():
    log = synthetic.events(n_users=60, days=5, start="2025-08-01", seed=3)
    result = classify_quietly(log, synthetic.TIMEZONES)
    ax = result.plot.by_type()
    assert [panel.get_title() for panel in ax.child_axes] == ["PMP messages"]


def collection_rectangles(ax, gid: str) -> int:
    return sum(len(c.get_paths()) for c in ax.collections if c.get_gid() == gid)


def test_timeline_has_one_bar_per_window_and_one_tick_per_message(generated, tmp_path):
    windows = generated.windows
    fep = windows[windows["kind"] == "free_entry_point"].iloc[0]
    user, business = fep["user"], fep["business"]
    ax = generated.plot.timeline(user, business=business)
    save(ax, tmp_path, "timeline")
    mine = windows[(windows["user"] == user) & (windows["business"] == business)]
    for kind in ("customer_service", "free_entry_point"):
        assert collection_rectangles(ax, kind) == (mine["kind"] == kind).sum() > 0
    m = generated.messages
    pair = m[(m["user"] == user) & (m["business"] == business)]
    ticks = sum(len(c.get_segments()) for c in ax.collections if c.get_gid() is None)
    assert ticks == len(pair)
    conversations = generated.conversations
    cbp = conversations[(conversations["user"] == user) & (conversations["business"] == business)
                        & (conversations["category"] != "referral_conversion")]
    assert collection_rectangles(ax, "conversation") == len(cbp)


def test_timeline_range_keeps_only_overlapping_windows(generated):
    windows = generated.windows
    busiest = windows["user"].value_counts().index[0]
    mine = windows[windows["user"] == busiest]
    start = mine["start"].min() + pd.Timedelta(days=3)
    end = start + pd.Timedelta(days=5)
    ax = generated.plot.timeline(busiest, start=start, end=end)
    overlapping = mine[(mine["end"] > start) & (mine["start"] < end)]
    drawn = collection_rectangles(ax, "customer_service") + collection_rectangles(ax, "free_entry_point")
    assert drawn == len(overlapping)
    assert ax.get_xlim() == pytest.approx((mdates.date2num(start.tz_localize(None)),
                                           mdates.date2num(end.tz_localize(None))))


def test_timeline_of_a_user_with_several_businesses(example, tmp_path):
    m = example.messages
    pairs = m.groupby("user")["business"].nunique()
    user = pairs[pairs > 1].index[0] if (pairs > 1).any() else pairs.index[0]
    ax = example.plot.timeline(user)
    save(ax, tmp_path, "timeline_all")
    lanes = [tick.get_text() for tick in ax.get_yticklabels()]
    assert len(lanes) == 5 * m.loc[m["user"] == user, "business"].nunique()
    assert len(set(legend_labels(ax))) == len(legend_labels(ax))  # each label once


def test_timeline_unknown_user_or_business(example):
    with pytest.raises(waconv.InputError) as error:
        example.plot.timeline("+10000000000")
    assert error.value.column == "user" and "+10000000000" in str(error.value)
    user = example.messages["user"].iloc[0]
    with pytest.raises(waconv.InputError) as error:
        example.plot.timeline(user, business="no-such-business")
    assert error.value.column == "business"


def compare_table() -> pd.DataFrame:
    rows = []
    rng = np.random.default_rng(1)
    for rules in ("auto", "cbp_v2", "pmp_v1"):
        for month in ("2025-06", "2025-07", "2025-08"):
            for market in ("Brazil", "India"):
                for category in ("marketing", "utility"):
                    units = int(rng.integers(0, 50))
                    rows.append({"rules": rules, "month": month, "market": market, "category": category,
                                 "units": units, "cost": units * 0.0625, "currency": "USD"})
    table = pd.DataFrame(rows)
    baseline = table[table["rules"] == "auto"].set_index(["month", "market", "category"])["cost"]
    table["difference"] = table["cost"].to_numpy() - baseline.reindex(
        pd.MultiIndex.from_frame(table[["month", "market", "category"]])).to_numpy()
    return table


def test_plot_compare_bars_are_monthly_totals_per_rules(tmp_path):
    table = compare_table()
    ax = plot_compare(table)
    save(ax, tmp_path, "compare")
    expected = table.groupby(["rules", "month"])["cost"].sum()
    assert legend_labels(ax) == ["auto (rules in force)", "cbp_v2", "pmp_v1"]
    for container, rules in zip(ax.containers, ["auto", "cbp_v2", "pmp_v1"]):
        heights = [patch.get_height() for patch in container.patches]
        assert heights == pytest.approx([expected[(rules, m)] for m in ("2025-06", "2025-07", "2025-08")])
    assert [t.get_text() for t in ax.get_xticklabels()] == ["2025-06", "2025-07", "2025-08"]
    assert "USD" in ax.get_ylabel()


def test_plot_compare_rejects_other_tables():
    table = compare_table()
    with pytest.raises(waconv.InputError) as error:
        plot_compare(table.drop(columns="month"))
    assert error.value.column == "month"
    mixed = table.assign(currency=np.where(table["market"] == "India", "INR", "USD"))
    with pytest.raises(waconv.InputError) as error:
        plot_compare(mixed)
    assert error.value.column == "currency"


def test_plots_draw_on_a_given_axes(example):
    _, (left, right) = plt.subplots(1, 2)
    assert example.plot.daily_cost(ax=left) is left
    assert example.plot.by_type(ax=right) is right


def test_unpriced_result_has_no_cost_plot():
    unpriced = classify_quietly(waconv.examples.log(), waconv.examples.TIMEZONES, price=False)
    with pytest.raises(waconv.InputError) as error:
        unpriced.plot.daily_cost()
    assert error.value.column == "cost"


def test_missing_matplotlib_gives_an_install_hint(example, monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib.pyplot", None)  # import fails as if not installed
    with pytest.raises(ImportError, match=r'pip install "waconv\[plot\]"'):
        example.plot.daily_cost()


def test_import_waconv_does_not_import_matplotlib():
    code = (
        "import sys, waconv\n"
        "r = waconv.classify(waconv.examples.log(), price=False)\n"
        "r.plot\n"
        "assert 'matplotlib' not in sys.modules, 'matplotlib was imported'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_plots_read_renamed_columns():
    log = synthetic.events(n_users=80, days=10, seed=2).rename(columns={"user": "wa_id", "delivered_at": "dl"})
    renamed = classify_quietly(log, synthetic.TIMEZONES, columns={"user": "wa_id", "delivered_at": "dl"})
    user = log["wa_id"].iloc[0]
    ax = renamed.plot.timeline(user)
    pair_rows = (log["wa_id"] == user).sum()
    assert sum(len(c.get_segments()) for c in ax.collections if c.get_gid() is None) == pair_rows
    charged = renamed.messages[renamed.messages["cost"].fillna(0) != 0]
    assert sum(bar_heights_by_x(renamed.plot.daily_cost()).values()) == pytest.approx(charged["cost"].sum())
