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


def daily_cost(result: Tables, ax: Axes | None = None, tz: str | None = None) -> Axes:
    """Cost per calendar day (in `tz`, default UTC), bars stacked by pricing category."""
    ax = new_axes(ax, (9, 4))
    rows, when = charges(result)
    m = result.messages
    days = when.tz_convert(tz or "UTC").normalize().tz_localize(None)
    table = pd.DataFrame({
        "day": days,
        "category": m["pricing_category"].take(rows).astype(str).to_numpy(),
        "cost": m["cost"].to_numpy(dtype=float)[rows],
    }).pivot_table(index="day", columns="category", values="cost", aggfunc="sum", fill_value=0.0)
    currency = m["currency"].dropna().iloc[0] if "currency" in m.columns and m["currency"].notna().any() else ""
    if table.empty:
        ax.text(0.5, 0.5, "no charges", transform=ax.transAxes, ha="center", va="center")
    else:
        table = table.reindex(pd.date_range(table.index.min(), table.index.max(), freq="D"), fill_value=0.0)
        bottom = np.zeros(len(table))
        for category in [c for c in _core.PRICING_CATEGORIES if c in table.columns]:
            heights = table[category].to_numpy()
            drawn = heights != 0  # no zero-height patches: years of sparse days stay fast to draw
            ax.bar(table.index.to_numpy()[drawn], heights[drawn], width=0.85, bottom=bottom[drawn],
                   label=category, color=CATEGORY_COLORS.get(category))
            bottom += heights
        date_axis(ax)
        ax.legend(title="pricing category", fontsize="small", ncol=2)
    ax.set_ylabel(f"cost ({currency})" if currency else "cost")
    ax.set_title(f"Daily cost by pricing category ({tz or 'UTC'} days)")
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


def by_type(result: Tables, ax: Axes | None = None) -> Axes:
    """Billing units by pricing category, stacked by pricing type: CBP conversations and PMP
    messages side by side (a bar per unit and category)."""
    ax = new_axes(ax, (9, 4))
    counts = units_by_type(result)
    order = {name: k for k, name in enumerate(_core.PRICING_CATEGORIES)}
    bars = counts[["unit", "category"]].drop_duplicates()
    bars = bars.assign(rank=bars["category"].map(order)).sort_values(["unit", "rank"], ascending=[True, True])
    labels = [f"{category}\n({unit})" for unit, category in zip(bars["unit"], bars["category"])]
    x = np.arange(len(bars))
    table = counts.pivot_table(index=["unit", "category"], columns="type", values="count", fill_value=0)
    table = table.reindex(pd.MultiIndex.from_frame(bars[["unit", "category"]]))
    bottom = np.zeros(len(bars))
    for pricing_type in [t for t in _core.PRICING_TYPES if t in table.columns]:
        heights = table[pricing_type].to_numpy(dtype=float)
        ax.bar(x, heights, bottom=bottom, width=0.7, label=pricing_type, color=TYPE_COLORS.get(pricing_type))
        bottom += heights
    ax.set_xticks(x, labels, rotation=30, ha="right", fontsize="small")
    ax.set_ylabel("units")
    ax.set_title("CBP conversations and PMP messages by category and pricing type")
    if len(bars):
        ax.legend(title="pricing type", fontsize="small")
    return ax


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
