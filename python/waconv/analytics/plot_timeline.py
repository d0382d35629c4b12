"""``result.plot.timeline``: one user's windows, conversations and messages on a time axis.

Per business the user talks to, five lanes from top to bottom: CBP conversations (bars in
their category's colour), free entry point windows, customer service windows, outbound
messages (ticks at their effective time, coloured by pricing type; grey when undelivered or
a duplicate) and inbound messages (ticks at their timestamp; brown when they came from an
ad). Times are UTC.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from waconv._errors import InputError
from waconv.engine.canonical import NOT_DELIVERED
from waconv.analytics.buckets import message_columns
from waconv.analytics.plot import CATEGORY_COLORS, TYPE_COLORS, date_axis, new_axes, utc_ns

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes

    from waconv.engine.tables import Tables

LANES = ("conversations", "free entry point", "customer service", "outbound", "inbound")
WINDOW_STYLE = {  # window kind -> (lane, colour, legend label)
    "free_entry_point": ("free entry point", "#8c564b", "free entry point window"),
    "customer_service": ("customer service", "#9ecae1", "customer service window"),
}
UNDELIVERED_COLOR = "#bdbdbd"
INBOUND_COLOR = "#252525"
REFERRAL_COLOR = "#8c564b"


def _matches(values: pd.Series, wanted: Any) -> np.ndarray:
    """Rows equal to `wanted`; compared as text when the types differ (123 vs "123")."""
    try:
        hit = np.array((values == wanted).to_numpy(dtype=bool, na_value=False))  # writable copy
    except TypeError:
        hit = np.zeros(len(values), dtype=bool)
    if not hit.any() and len(values):
        hit = np.asarray((values.astype(str) == str(wanted)).to_numpy(dtype=bool, na_value=False))
    return hit


def _utc(value: Any) -> pd.Timestamp | None:
    if value is None:
        return None
    stamp = pd.Timestamp(value)
    return stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")


def _days(ns: np.ndarray) -> np.ndarray:
    """matplotlib date numbers of UTC nanoseconds."""
    import matplotlib.dates as mdates

    return np.asarray(mdates.date2num(np.asarray(ns, dtype=np.int64).view("datetime64[ns]")), dtype=float)


def _legend_label(text: str, seen: set[str]) -> str:
    """`text` the first time it is drawn, then hidden from the legend."""
    if text in seen:
        return "_nolegend_"
    seen.add(text)
    return text


def timeline(result: Tables, user: Any, business: Any = None, ax: Axes | None = None,
             start: Any = None, end: Any = None) -> Axes:
    """One user's timeline (see the module docstring); `business` limits it to one pair,
    `start`/`end` (datetimes or strings, UTC when naive) to a time range."""
    m = result.messages
    names = message_columns(result)
    # user_key: the user the rules saw, a phone number's and its linked BSUIDs' rows together.
    mine = _matches(m["user_key"] if "user_key" in m.columns else m[names["user"]], user)
    if not mine.any():
        raise InputError("user", None, f"unknown user {user!r}: no message of the result has it")
    if business is not None:
        mine = mine & _matches(m[names["business"]], business)
        if not mine.any():
            raise InputError("business", None, f"user {user!r} has no messages with business {business!r}")
    ax = new_axes(ax, (10, 3.5))
    rows = np.flatnonzero(mine)
    pair_business = m[names["business"]].take(rows)
    businesses = sorted(pd.unique(pair_business), key=str)

    sent = utc_ns(m, names, "timestamp")[rows]
    delivered = utc_ns(m, names, "delivered_at")[rows]
    effective = np.where(delivered == NOT_DELIVERED, sent, delivered)
    windows = result.windows[_matches(result.windows["user"], user)]
    conversations = result.conversations[_matches(result.conversations["user"], user)]
    conversations = conversations[conversations["category"] != "referral_conversion"]  # drawn as FEP windows

    first = int(min(effective.min(), _min_ns(windows["start"])))
    last = int(max(effective.max(), _max_ns(windows["end"])))
    margin = max((last - first) // 50, 3600 * 10**9)  # so the first and last ticks are not on the frame
    lo = _utc(start).value if start is not None else first - margin
    hi = _utc(end).value if end is not None else last + margin
    if hi <= lo:
        raise InputError("end", None, "end must be after start")

    lane_y, labels = {}, []
    for b_index, name in enumerate(businesses):
        for k, lane in enumerate(LANES):
            y = -(b_index * (len(LANES) + 1) + k)
            lane_y[(b_index, lane)] = y
            labels.append((y, f"{name} · {lane}" if len(businesses) > 1 else lane))
    seen: set[str] = set()  # legend labels already drawn (one entry per label)

    for b_index, name in enumerate(businesses):
        in_range = lambda table: table[(table["end"].array.as_unit("ns").asi8 > lo)  # noqa: E731
                                       & (table["start"].array.as_unit("ns").asi8 < hi)
                                       & _matches(table["business"], name)]
        for kind, (lane, color, text) in WINDOW_STYLE.items():
            bars = in_range(windows[windows["kind"] == kind])
            _bars(ax, bars, lane_y[(b_index, lane)], color, text, seen, gid=kind)
        shown = in_range(conversations)
        for category, group in shown.groupby(shown["category"].astype(str), sort=False):
            _bars(ax, group, lane_y[(b_index, "conversations")], CATEGORY_COLORS.get(category, "#7f7f7f"),
                  f"{category} conversation", seen, gid="conversation")

        here = _matches(pair_business, name) & (effective >= lo) & (effective < hi)
        inbound = (m[names["direction"]].take(rows).astype(str).str.lower() == "inbound").to_numpy()
        referral = m[names["referral"]].take(rows).fillna(False).astype(bool).to_numpy() if "referral" in names \
            else np.zeros(len(rows), dtype=bool)
        y_in, y_out = lane_y[(b_index, "inbound")], lane_y[(b_index, "outbound")]
        for mask, color, text in ((inbound & ~referral, INBOUND_COLOR, "inbound"),
                                  (inbound & referral, REFERRAL_COLOR, "inbound from an ad")):
            _ticks(ax, effective[here & mask], y_in, color, text, seen)
        pricing_type = m["pricing_type"].take(rows).astype(str).to_numpy()
        priced = m["pricing_type"].take(rows).notna().to_numpy()
        for value, color in TYPE_COLORS.items():
            _ticks(ax, effective[here & ~inbound & priced & (pricing_type == value)], y_out, color, value, seen)
        _ticks(ax, effective[here & ~inbound & ~priced], y_out, UNDELIVERED_COLOR, "undelivered or duplicate", seen)

    ax.set_yticks([y for y, _ in labels], [text for _, text in labels], fontsize="small")
    ax.set_xlim(_days(np.array([lo]))[0], _days(np.array([hi]))[0])
    ax.set_ylim(min(y for y, _ in labels) - 0.7, 0.7)
    date_axis(ax)
    ax.set_xlabel("UTC")
    title = f"user {user}" + (f" with business {business}" if business is not None else "")
    ax.set_title(f"Windows and messages of {title}")
    ax.legend(fontsize="x-small", loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0)
    return ax


def _min_ns(column: pd.Series) -> int:
    return int(column.min().value) if len(column) else np.iinfo(np.int64).max


def _max_ns(column: pd.Series) -> int:
    return int(column.max().value) if len(column) else np.iinfo(np.int64).min


def _bars(ax: Axes, table: pd.DataFrame, y: float, color: str, text: str, seen: set[str], gid: str) -> None:
    """One rectangle per row of `table` (start, end) on lane `y`."""
    if table.empty:
        return
    start = _days(table["start"].array.as_unit("ns").asi8)
    width = _days(table["end"].array.as_unit("ns").asi8) - start
    collection = ax.broken_barh(list(zip(start, width)), (y - 0.35, 0.7), facecolors=color,
                                edgecolor="#404040", linewidth=0.5, alpha=0.8, label=_legend_label(text, seen))
    collection.set_gid(gid)


def _ticks(ax: Axes, ns: np.ndarray, y: float, color: str, text: str, seen: set[str]) -> None:
    if len(ns):
        ax.vlines(_days(ns), y - 0.35, y + 0.35, colors=color, linewidth=1.2, label=_legend_label(text, seen))
