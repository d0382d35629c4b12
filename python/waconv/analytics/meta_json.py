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
from waconv.analytics.summary import ANALYTICS, DEFAULT_DIMENSIONS, requested_dimensions, summary

# Field order of Meta's example data points (tests/fixtures/meta/analytics_*_response_meta.json).
_FIELDS = {
    "conversation_analytics": ("phone_number", "country", "conversation_type", "conversation_direction",
                               "conversation_category"),
    "pricing_analytics": ("phone_number", "country", "tier", "pricing_type", "pricing_category"),
}
_VOLUME = {"conversation_analytics": "conversation", "pricing_analytics": "volume"}
# The dimensions only one analytics has: naming one asks for that analytics' block.
OWN_DIMENSIONS = {
    "conversation_analytics": {"CONVERSATION_CATEGORY", "CONVERSATION_TYPE", "CONVERSATION_DIRECTION"},
    "pricing_analytics": {"PRICING_CATEGORY", "PRICING_TYPE", "TIER"},
}
# Meta's order of data points (docs/analytics.md, to_meta_json): the newest bucket first, as
# in all of Meta's examples; inside a bucket, conversation types in the order of Meta's
# example (REGULAR, FREE_TIER, FREE_ENTRY_POINT), then the other values in text order.
_TYPE_ORDER = ("REGULAR", "FREE_TIER", "FREE_ENTRY_POINT", "FREE_CUSTOMER_SERVICE")
_POINT_ORDER = {
    "conversation_analytics": ("phone_number", "country", "conversation_type", "conversation_category",
                               "conversation_direction"),
    "pricing_analytics": ("phone_number", "country", "pricing_type", "pricing_category", "tier"),
}


def to_meta_json(
    result,
    granularity: str = "DAILY",
    dimensions: Iterable[str] | str = DEFAULT_DIMENSIONS,
    tz: str | None = None,
    *,
    timezones: Mapping[Hashable, str] | None = None,
    waba: Hashable | None = None,
    analytics: Iterable[str] | str | None = None,
) -> dict[str, Any]:
    """One WABA's analytics as Meta's API returns them (arguments as :func:`summary`).

    Returns ``{"conversation_analytics": {"data": [{"data_points": [...]}]},
    "pricing_analytics": {...}, "id": "<waba>"}`` with the blocks asked for: `analytics`
    (``"pricing_analytics"``, ``"conversation_analytics"`` or both), else the analytics whose
    own dimensions `dimensions` names (``PRICING_CATEGORY``, ``PRICING_TYPE``, ``TIER``:
    pricing_analytics; ``CONVERSATION_CATEGORY``, ``CONVERSATION_TYPE``,
    ``CONVERSATION_DIRECTION``: conversation_analytics), both when it names both or neither
    (only ``COUNTRY``/``PHONE``). A block asked for is present even when empty (no unit of
    that model: an empty ``data_points`` list). Each data point has ``start`` and ``end``
    (int epoch seconds), the dimension fields as Meta spells them (a field is left out where
    its value is null, as Meta leaves out ``tier`` for free messages), ``conversation`` or
    ``volume``, and ``cost`` (float; left out when unknown, as Meta leaves it out for
    partner-billed accounts). Data points come in Meta's order: the newest bucket first.

    waba: which WABA; may be omitted when the log has only one. Meta's endpoint is per WABA.
    """
    blocks = requested_analytics(dimensions, analytics)
    table = summary(result, granularity, dimensions, tz, timezones=timezones)
    return response_from_summary(table, _choose_waba(table, result, waba), blocks)


def requested_analytics(dimensions: Iterable[str] | str, analytics: Iterable[str] | str | None = None) -> tuple[str, ...]:
    """The analytics blocks asked for, in Meta's order of fields (see :func:`to_meta_json`)."""
    if analytics is not None:
        names = [analytics] if isinstance(analytics, str) else list(analytics)
        unknown = [a for a in names if str(a).lower() not in ANALYTICS]
        if unknown or not names:
            what = f"unknown analytics {unknown[0]!r}" if unknown else "no analytics asked for"
            raise InputError("analytics", None, f"{what}; use {' and/or '.join(map(repr, ANALYTICS))}")
        return tuple(a for a in ANALYTICS if a in {str(n).lower() for n in names})
    named = requested_dimensions(dimensions)
    asked = tuple(a for a in ANALYTICS if named & OWN_DIMENSIONS[a])
    return asked or ANALYTICS


def response_from_summary(table: pd.DataFrame, chosen: Hashable,
                          analytics: Iterable[str] = ANALYTICS) -> dict[str, Any]:
    """Meta's response for one WABA of an already computed :func:`summary` table (callers
    wanting every WABA summarise once, then call this per WABA), with the `analytics` blocks."""
    response: dict[str, Any] = {}
    for name in analytics:
        rows = table[(table["analytics"] == name).to_numpy() & _same_waba(table["waba"], chosen)]
        response[name] = {"data": [{"data_points": _data_points(rows, name)}]}
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


def _meta_order(rows: pd.DataFrame, analytics: str) -> pd.DataFrame:
    """The rows in Meta's order of data points: newest bucket first, then by dimension value."""
    keys = []  # np.lexsort: the last key is the first
    for field in reversed([f for f in _POINT_ORDER[analytics] if f in rows.columns]):
        codes, values = pd.factorize(rows[field])  # a null value is -1: after every value

        def position(value: Any) -> tuple:
            first = _TYPE_ORDER.index(value) if field.endswith("_type") and value in _TYPE_ORDER else len(_TYPE_ORDER)
            return (first, str(value))

        order = sorted(range(len(values)), key=lambda i: position(values[i]))
        rank = np.empty(len(values) + 1, dtype=np.int64)
        rank[order] = np.arange(len(values))
        rank[-1] = len(values)
        keys.append(rank[codes])
    keys.append(-_epoch_seconds(rows["start"]))
    return rows.iloc[np.lexsort(keys)]


def _data_points(rows: pd.DataFrame, analytics: str) -> list[dict[str, Any]]:
    if rows.empty:
        return []
    rows = _meta_order(rows, analytics)
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
