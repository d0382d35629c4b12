"""Plots of a :class:`waconv.Result` (``result.plot.*``) and of ``waconv.compare`` tables.

matplotlib is an optional dependency (``pip install "waconv[plot]"``): it is imported when a
plot is drawn, never when waconv is imported. Every function draws on `ax` (a new figure
when None) and returns the Axes, so plots compose into the caller's own figures.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from waconv import _core
from waconv.analytics.buckets import charge_times, message_columns
from waconv._errors import InputError
from waconv.engine.canonical import NOT_DELIVERED, _timestamps, to_utc_index

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes

    from waconv.engine.tables import Tables

INSTALL_HINT = 'waconv plots need matplotlib: pip install "waconv[plot]"'

# One colour per value, the same in every plot (and free types in greens/browns, charged in red).
CATEGORY_COLORS = {
    "user_initiated": "#17becf",
    "business_initiated": "#ff7f0e",
    "marketing": "#d62728",
    "marketing_lite": "#ff9896",
    "utility": "#1f77b4",
    "authentication": "#2ca02c",
    "authentication_international": "#98df8a",
    "service": "#9467bd",
    "referral_conversion": "#8c564b",
}
TYPE_COLORS = {
    "regular": "#d62728",
    "free_tier": "#bcbd22",
    "free_customer_service": "#2ca02c",
    "free_entry_point": "#8c564b",
}
CBP_ERAS = ("cbp_v1", "cbp_v2")


def pyplot() -> Any:
    """matplotlib.pyplot, or an ImportError saying how to install it."""
    try:
        import matplotlib.pyplot as plt
    except ImportError as error:
        raise ImportError(INSTALL_HINT) from error
    return plt


def new_axes(ax: Axes | None, size: tuple[float, float]) -> Axes:
    plt = pyplot()  # also when `ax` is given: the date helpers below need matplotlib
    if ax is not None:
        return ax
    _, ax = plt.subplots(figsize=size, layout="constrained")
    return ax


def date_axis(ax: Axes) -> None:
    import matplotlib.dates as mdates

    locator = mdates.AutoDateLocator()
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))


def utc_ns(messages: pd.DataFrame, names: dict[str, str], canonical: str) -> np.ndarray:
    """A time column of the input as int64 UTC nanoseconds (NaT -> NOT_DELIVERED)."""
    if canonical not in names:
        return np.full(len(messages), NOT_DELIVERED, dtype=np.int64)
    return _timestamps(messages[names[canonical]], names[canonical])[0]


def charges(result: Tables) -> tuple[np.ndarray, pd.DatetimeIndex]:
    """Rows carrying a (known, non-zero) charge, and when each charge falls.

    A CBP conversation's charge sits on its opening row and falls at the conversation's
    start; a PMP message's at its delivery (its send time when the log has no delivery).
    """
    m = result.messages
    if "cost" not in m.columns:
        raise InputError("cost", None, "the result is not priced; classify with price=True to plot costs")
    cost = m["cost"].to_numpy(dtype=float, na_value=np.nan)
    rows = np.flatnonzero(np.nan_to_num(cost) != 0)
    return rows, to_utc_index(charge_times(result, message_columns(result), rows))


def _of_currency(m: pd.DataFrame, rows: np.ndarray, when: pd.DatetimeIndex,
                 currency: str | None) -> tuple[np.ndarray, pd.DatetimeIndex]:
    """The charges in `currency`; refuses to mix currencies when none is named."""
    if "currency" not in m.columns:
        return rows, when
    of_rows = m["currency"].take(rows)
    present = sorted(of_rows.dropna().astype(str).unique())
    if currency is None:
        if len(present) > 1:
            raise InputError("currency", None, f"several currencies ({', '.join(present)}); costs of two "
                             "currencies do not add up: plot one, e.g. daily_cost(currency="
                             f"{present[0]!r})")
        return rows, when
    keep = of_rows.astype(str).eq(str(currency)).to_numpy()
    return rows[keep], when[keep]


# The eras' first days (cpp/src/rules.cpp; each WABA switches at its own local midnight).
ERA_STARTS = {"cbp_v2": "2023-06-01", "pmp_v1": "2025-07-01", "pmp_v2": "2026-10-01"}
FREQUENCIES = {"D": "Daily", "W": "Weekly", "M": "Monthly"}  # freq -> title
# freq="auto": days up to a quarter, weeks up to two years, months beyond, so that a bar
# stays a few pixels wide and a multi-year log still shows its trend.
_AUTO_DAYS_UP_TO, _AUTO_WEEKS_UP_TO = 92, 731


def cost_buckets(days: pd.DatetimeIndex, freq: str) -> tuple[pd.DatetimeIndex, str]:
    """Each naive local day's bucket start (weeks start on Monday), and the freq used."""
    if freq == "auto":
        span = (days.max() - days.min()).days if len(days) else 0
        freq = "D" if span <= _AUTO_DAYS_UP_TO else "W" if span <= _AUTO_WEEKS_UP_TO else "M"
    if freq == "W":
        days = days - pd.to_timedelta(days.day_of_week, unit="D")
    elif freq == "M":
        days = pd.DatetimeIndex(days.to_numpy().astype("datetime64[M]").astype("datetime64[ns]"))
    return days, freq


def era_switches(result: Tables, first: pd.Timestamp, last: pd.Timestamp) -> list[tuple[str, pd.Timestamp]]:
    """The era switches from `first` to before `last` (naive local days); none when the result
    was classified under one forced era."""
    if result.options.get("rules", "auto") != "auto":
        return []
    return [(era, day) for era, day in ((e, pd.Timestamp(d)) for e, d in ERA_STARTS.items()) if first <= day < last]


def mark_switches(ax: Axes, switches: list[tuple[str, pd.Timestamp]], first: pd.Timestamp,
                  last: pd.Timestamp, highest: float) -> None:
    """A dashed line labelled with the era it starts, above the bars. Labels alternate between
    two rows, so neighbours never collide (a year apart on a multi-year axis of a narrow
    subplot, their text would); one near the right edge goes to the left of its line."""
    span = (last - first) / pd.Timedelta(days=1)
    rows = [k % 2 for k in range(len(switches))]
    if switches:
        ax.set_ylim(top=highest * (1.12 + 0.08 * max(rows)))
    for (era, day), row in zip(switches, rows):
        ax.axvline(day, color="black", linewidth=1, linestyle="--", gid="era_switch")
        right = (day - first) / pd.Timedelta(days=1) < 0.75 * span
        ax.annotate(era, (day, 0.985 - 0.075 * row), xycoords=("data", "axes fraction"),
                    xytext=(3 if right else -3, 0), textcoords="offset points", ha="left" if right else "right",
                    va="top", fontsize="small", gid="era_switch")


def daily_cost(result: Tables, ax: Axes | None = None, tz: str | None = None, freq: str = "auto",
               currency: str | None = None) -> Axes:
    """Cost per calendar day, week or month (in `tz`, default UTC), bars stacked by pricing
    category, with a dashed line at each era switch inside the range.

    freq: ``"D"``, ``"W"`` (weeks from Monday), ``"M"`` or ``"auto"``: days for up to 92 days
    of charges, weeks for up to two years, months beyond. Each bar spans its bucket from its
    first day, so a switch line falls between the last bar of one era and the first of the next.
    currency: the one currency to plot where WABAs are billed in several (costs of two
    currencies are never stacked); needed then.
    """
    if freq not in ("auto", *FREQUENCIES):
        raise InputError("freq", None, f"unknown freq {freq!r}; use 'auto', 'D', 'W' or 'M'")
    rows, when = charges(result)
    m = result.messages
    rows, when = _of_currency(m, rows, when, currency)
    ax = new_axes(ax, (9, 4))
    buckets, freq = cost_buckets(when.tz_convert(tz or "UTC").normalize().tz_localize(None), freq)
    table = pd.DataFrame({
        "bucket": buckets,
        "category": m["pricing_category"].take(rows).astype(str).to_numpy(),
        "cost": m["cost"].to_numpy(dtype=float)[rows],
    }).pivot_table(index="bucket", columns="category", values="cost", aggfunc="sum", fill_value=0.0)
    if currency is None:
        currency = m["currency"].dropna().iloc[0] if "currency" in m.columns and m["currency"].notna().any() else ""
    unit = {"D": "days", "W": "weeks from Monday", "M": "months"}[freq]
    if table.empty:
        ax.text(0.5, 0.5, "no charges", transform=ax.transAxes, ha="center", va="center")
    else:
        step = {"D": "D", "W": "W-MON", "M": "MS"}[freq]
        starts = pd.date_range(table.index.min(), table.index.max(), freq=step)
        table = table.reindex(starts, fill_value=0.0)
        following = starts + pd.tseries.frequencies.to_offset(step)
        widths = 0.85 * ((following - starts) / pd.Timedelta(days=1)).to_numpy()
        bottom = np.zeros(len(table))
        for category in [c for c in _core.PRICING_CATEGORIES if c in table.columns]:
            heights = table[category].to_numpy()
            drawn = heights != 0  # no zero-height patches: years of sparse days stay fast to draw
            ax.bar(starts.to_numpy()[drawn], heights[drawn], width=widths[drawn], bottom=bottom[drawn],
                   align="edge", label=category, color=CATEGORY_COLORS.get(category))
            bottom += heights
        date_axis(ax)
        ax.legend(title="pricing category", fontsize="small", loc="upper left", bbox_to_anchor=(1.01, 1.0),
                  borderaxespad=0)
        mark_switches(ax, era_switches(result, starts[0], following[-1]), starts[0], following[-1], bottom.max())
    ax.set_ylabel(f"cost ({currency})" if currency else "cost")
    ax.set_title(f"{FREQUENCIES[freq]} cost by pricing category ({tz or 'UTC'} {unit})")
    return ax


def units_by_type(result: Tables) -> pd.DataFrame:
    """Counts per (unit, category, type): CBP conversations (FEP windows opened under CBP
    included) and PMP delivered messages, the units Meta's two analytics count."""
    c = result.conversations
    cbp = c[c["era"].astype(str).isin(CBP_ERAS)]
    m = result.messages
    pmp = m[(m["pricing_model"] == "PMP") & m["pricing_type"].notna() & ~m["duplicate"]]
    parts = [
        pd.DataFrame({"unit": "conversations", "category": cbp["category"].astype(str),
                      "type": cbp["pricing_type"].astype(str)}),
        pd.DataFrame({"unit": "messages", "category": pmp["pricing_category"].astype(str),
                      "type": pmp["pricing_type"].astype(str)}),
    ]
    units = pd.concat(parts, ignore_index=True)
    return units.groupby(["unit", "category", "type"], sort=False).size().rename("count").reset_index()


UNIT_PANELS = {"conversations": "CBP conversations", "messages": "PMP messages"}  # unit -> panel title


def by_type(result: Tables, ax: Axes | None = None) -> Axes:
    """Billing units by pricing category, stacked by pricing type, in two panels with their own
    scales: CBP conversations and PMP messages are different units (a conversation holds many
    messages), so they never share an axis.

    The panels (only those of units present) are drawn inside `ax`, which keeps its place in
    the caller's figure but hides its own frame: ``ax.child_axes`` holds them, left to right.
    """
    host = new_axes(ax, (10, 4))
    from matplotlib.patches import Patch  # after new_axes, which says how to install matplotlib

    host.set_axis_off()
    counts = units_by_type(result)
    order = {name: k for k, name in enumerate(_core.PRICING_CATEGORIES)}
    present = [unit for unit in UNIT_PANELS if (counts["unit"] == unit).any()]
    if not present:
        host.text(0.5, 0.5, "no billing units", transform=host.transAxes, ha="center", va="center")
        return host
    table = counts.pivot_table(index=["unit", "category"], columns="type", values="count", fill_value=0)
    types = [t for t in _core.PRICING_TYPES if t in table.columns]
    bars = {unit: sorted(counts.loc[counts["unit"] == unit, "category"].unique(), key=order.get) for unit in present}
    # Widths in proportion to the bars, so a bar is as wide in either panel; a gap for the
    # right panel's y labels.
    gap = 0.12 if len(present) > 1 else 0.0
    share = [(len(bars[unit]) + 1) / sum(len(bars[u]) + 1 for u in present) * (1 - gap) for unit in present]
    left = 0.0
    for unit, width in zip(present, share):
        panel = host.inset_axes((left, 0.0, width, 1.0))
        left += width + gap
        rows = table.loc[unit].reindex(bars[unit])
        x = np.arange(len(rows))
        bottom = np.zeros(len(rows))
        for pricing_type in types:
            heights = rows[pricing_type].to_numpy(dtype=float)
            # No zero-height patches: one on top of a stack would pin the y limit to it (a bar's
            # base is a sticky edge), leaving the tallest bar touching the frame.
            drawn = heights != 0
            panel.bar(x[drawn], heights[drawn], bottom=bottom[drawn], width=0.7, label=pricing_type,
                      color=TYPE_COLORS.get(pricing_type))
            bottom += heights
        panel.set_xticks(x, list(rows.index), rotation=30, ha="right", fontsize="small")
        panel.set_xlim(-0.6, len(rows) - 0.4)
        panel.set_ylabel(unit)
        panel.set_title(UNIT_PANELS[unit], fontsize="medium")
    # One legend for both panels, from the colours: a type may have bars in one panel only.
    handles = [Patch(color=TYPE_COLORS.get(t), label=t) for t in types if (table[t] > 0).any()]
    host.legend(handles=handles, title="pricing type", fontsize="small", loc="upper left",
                bbox_to_anchor=(1.01, 1.0), borderaxespad=0)
    host.set_title("Billing units by category and pricing type", pad=22)
    return host


def plot_compare(table: pd.DataFrame, ax: Axes | None = None) -> Axes:
    """Monthly cost of one log under each pricing model: the table of ``waconv.compare``,
    one group of bars per month, one bar per rules value (baseline first)."""
    for column in ("rules", "month", "cost", "currency"):
        if column not in table.columns:
            raise InputError(column, None, "not a waconv.compare table: column missing")
    currencies = table["currency"].dropna().unique()
    if len(currencies) > 1:
        raise InputError("currency", None, f"several currencies ({', '.join(map(str, currencies))}); "
                         "plot one at a time")
    ax = new_axes(ax, (9, 4))
    rules = list(pd.unique(table["rules"]))
    totals = table.groupby(["month", "rules"])["cost"].sum().unstack("rules").reindex(columns=rules).fillna(0.0)
    x = np.arange(len(totals))
    width = 0.8 / max(len(rules), 1)
    for k, name in enumerate(rules):
        shown = "auto (rules in force)" if name == "auto" else name
        ax.bar(x - 0.4 + width * (k + 0.5), totals[name].to_numpy(), width=width, label=shown)
    step = max(1, int(np.ceil(len(x) / 12)))  # at most ~12 month labels stay readable
    ax.set_xticks(x[::step], [str(month) for month in totals.index[::step]],
                  rotation=30 if len(x) > 6 else 0, ha="right" if len(x) > 6 else "center")
    ax.set_ylabel(f"cost ({currencies[0]})" if len(currencies) else "cost")
    ax.set_title("The same traffic priced under each pricing model")
    if rules:
        ax.legend(title="rules", fontsize="small")
    return ax
