"""``Result.to_meta_json``: the summary in the layout of Meta's Graph API analytics response,
so that a dashboard reading ``GET /<WABA_ID>?fields=conversation_analytics...,pricing_analytics...``
can read waconv's numbers (and history older than Meta's one-year lookback) unchanged.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping
from typing import Any

import numpy as np
import pandas as pd

from waconv._errors import InputError
from waconv.analytics.summary import ANALYTICS, DEFAULT_DIMENSIONS, summary

# Field order of Meta's example data points (tests/fixtures/meta/analytics_*_response_meta.json).
_FIELDS = {
    "conversation_analytics": ("phone_number", "country", "conversation_type", "conversation_direction",
                               "conversation_category"),
    "pricing_analytics": ("phone_number", "country", "tier", "pricing_type", "pricing_category"),
}
_VOLUME = {"conversation_analytics": "conversation", "pricing_analytics": "volume"}


def to_meta_json(
    result,
    granularity: str = "DAILY",
    dimensions: Iterable[str] | str = DEFAULT_DIMENSIONS,
    tz: str | None = None,
    *,
    timezones: Mapping[Hashable, str] | None = None,
    waba: Hashable | None = None,
) -> dict[str, Any]:
    """One WABA's analytics as Meta's API returns them (arguments as :func:`summary`).

    Returns ``{"conversation_analytics": {"data": [{"data_points": [...]}]},
    "pricing_analytics": {...}, "id": "<waba>"}``; both blocks are always present (an empty
    ``data_points`` list when the log has no unit of that model). Each data point has
    ``start`` and ``end`` (int epoch seconds), the dimension fields as Meta spells them
    (a field is left out where its value is null, as Meta leaves out ``tier`` for free
    messages), ``conversation`` or ``volume``, and ``cost`` (float; left out when unknown,
    as Meta leaves it out for partner-billed accounts).

    waba: which WABA; may be omitted when the log has only one. Meta's endpoint is per WABA.
    """
    table = summary(result, granularity, dimensions, tz, timezones=timezones)
    return response_from_summary(table, _choose_waba(table, result, waba))


def response_from_summary(table: pd.DataFrame, chosen: Hashable) -> dict[str, Any]:
    """Meta's response for one WABA of an already computed :func:`summary` table (callers
    wanting every WABA summarise once, then call this per WABA)."""
    response: dict[str, Any] = {}
    for analytics in ANALYTICS:
        rows = table[(table["analytics"] == analytics).to_numpy() & _same_waba(table["waba"], chosen)]
        response[analytics] = {"data": [{"data_points": _data_points(rows, analytics)}]}
    response["id"] = str(chosen)
    return response


def _choose_waba(table: pd.DataFrame, result, waba: Hashable | None) -> Hashable:
    present = list(pd.unique(table["waba"]))
    if waba is not None:
        if present and not _same_waba(pd.Series(present), waba).any():
            raise InputError("waba", None, f"WABA {waba!r} has no analytics in this result")
        return waba
    if len(present) == 1:
        return present[0]
    if not present:
        wabas = result.conversations["waba"].unique() if len(result.conversations) else []
        return wabas[0] if len(wabas) == 1 else ""
    listed = ", ".join(repr(w) for w in present[:5])
    raise InputError("waba", None,
                     f"the log has {len(present)} WABAs ({listed}...); pass waba= (Meta's analytics are per WABA)")


def _same_waba(values: pd.Series, waba: Hashable) -> np.ndarray:
    # "123" and 123 name the same account, as in classify's timezones= mapping.
    return values.astype(str).to_numpy() == str(waba)


def _epoch_seconds(column: pd.Series) -> np.ndarray:
    return pd.DatetimeIndex(pd.to_datetime(column, utc=True)).as_unit("s").asi8


def _data_points(rows: pd.DataFrame, analytics: str) -> list[dict[str, Any]]:
    if rows.empty:
        return []
    fields = [f for f in _FIELDS[analytics] if f in rows.columns]
    columns = {
        "start": _epoch_seconds(rows["start"]).tolist(),
        "end": _epoch_seconds(rows["end"]).tolist(),
        _VOLUME[analytics]: rows["volume"].astype(np.int64).tolist(),
        **{f: rows[f].astype(object).where(rows[f].notna(), None).tolist() for f in fields},
        "cost": [None if np.isnan(c) else float(c) for c in rows["cost"].to_numpy(dtype=np.float64)],
    }
    order = ["start", "end"] + (["conversation"] if analytics == "conversation_analytics" else []) + fields
    order += ["volume"] if analytics == "pricing_analytics" else []
    order += ["cost"]
    points = []
    for values in zip(*(columns[k] for k in order)):
        points.append({k: v for k, v in zip(order, values) if v is not None})
    return points
