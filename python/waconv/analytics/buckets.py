"""Shared pieces of phase 3: Meta's spellings, time buckets in UTC or each WABA's time zone,
and the per-message columns the analytics read back from a :class:`Result`.

Meta's analytics spell categories and types in upper case; the mapping of waconv's values
to Meta's (``PRICING_CATEGORY``, ``CONVERSATION_CATEGORY``, ``CONVERSATION_DIRECTION``,
``PRICING_TYPE`` below) and why: docs/analytics.md §Meta's spellings.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping

import numpy as np
import pandas as pd

from waconv import _core
from waconv._errors import InputError
from waconv.engine.canonical import NOT_DELIVERED, _timestamps, _zones_for, resolve_columns

GRANULARITIES = ("HALF_HOUR", "DAILY", "MONTHLY")
CBP_ERAS = ("cbp_v1", "cbp_v2")

# A free entry point message is SERVICE + FREE_ENTRY_POINT in both analytics, as in Meta's
# examples (pricing_analytics has no REFERRAL_CONVERSION category).
PRICING_CATEGORY = {name: name.upper() for name in _core.PRICING_CATEGORIES} | {"referral_conversion": "SERVICE"}
PRICING_TYPE = {name: name.upper() for name in _core.PRICING_TYPES}
CONVERSATION_CATEGORY = PRICING_CATEGORY
CONVERSATION_TYPE = PRICING_TYPE
_ANSWERS_A_USER = {"user_initiated", "service", "referral_conversion"}
CONVERSATION_DIRECTION = {
    name: "USER_INITIATED" if name in _ANSWERS_A_USER else "BUSINESS_INITIATED" for name in _core.PRICING_CATEGORIES
}
# Meta writes tiers "<lower>:<upper>"; a charged message outside any user-supplied band (all
# marketing, and everything when no tier table is given) is in the one open band.
OPEN_TIER = "0:MAX"

_HALF_HOUR = 30 * 60 * 10**9
_DAY = 24 * 3600 * 10**9


def coded(values: pd.Series, mapping: Mapping[str, str] | None = None) -> tuple[np.ndarray, list]:
    """Dense int codes (-1 = null) and the label behind each code, mapped through `mapping`.

    Works on categoricals (the result's columns) and plain columns alike; only the few
    distinct values are mapped, never the rows.
    """
    if isinstance(values.dtype, pd.CategoricalDtype):
        codes, uniques = values.cat.codes.to_numpy(), list(values.cat.categories)
    else:
        codes, found = pd.factorize(values)
        uniques = list(found)
    labels = [mapping.get(u, u) for u in uniques] if mapping else uniques
    # Several values may share one label (referral_conversion and service are both SERVICE).
    label_codes, distinct = pd.factorize(pd.Series(labels, dtype=object))
    remap = np.append(label_codes, -1).astype(np.int64)
    return remap[codes], list(distinct)


def message_columns(result) -> dict[str, str]:
    """Canonical name -> the column of result.messages holding it (classify's `columns=`)."""
    try:
        return resolve_columns(result.messages, result.options.get("columns"))
    except InputError as error:
        raise InputError(error.column, None, f"{error.reason}; the analytics read the input columns back from "
                         "result.messages under the names given to classify(columns=...), recorded in "
                         "result.options['columns']") from None


def waba_column(names: Mapping[str, str]) -> str:
    return names.get("waba", names["business"])


def delivery_ns(messages: pd.DataFrame, names: Mapping[str, str], rows: np.ndarray) -> np.ndarray:
    """UTC nanoseconds of delivery of the given outbound rows.

    Without a delivered_at column classify takes delivery at the send time (docs/rules.md
    §Input columns); a row counted although never delivered (an option's rule) counts at
    its send time.
    """
    sent, _ = _timestamps(messages[names["timestamp"]].take(rows), names["timestamp"])
    if "delivered_at" not in names:
        return sent
    delivered, _ = _timestamps(messages[names["delivered_at"]].take(rows), names["delivered_at"])
    return np.where(delivered == NOT_DELIVERED, sent, delivered)


def charge_times(result, names: Mapping[str, str], rows: np.ndarray) -> np.ndarray:
    """UTC nanoseconds at which the charges on `rows` fall: a CBP conversation's at its start
    (the free tier counts starts per month), a PMP message's at its delivery."""
    conversation = result.messages["conversation_id"].to_numpy(dtype=np.int64, na_value=-1)[rows]
    in_conversation = conversation >= 0
    when = np.empty(len(rows), dtype=np.int64)
    starts = pd.DatetimeIndex(result.conversations["start"]).as_unit("ns").asi8
    when[in_conversation] = starts[conversation[in_conversation]]
    when[~in_conversation] = delivery_ns(result.messages, names, rows[~in_conversation])
    return when


def resolve_zones(tz: str | None, waba_values: pd.Index, timezones: Mapping[Hashable, str] | None) -> list[str]:
    """The zone of each WABA value for `tz`: None -> UTC, "waba" -> the WABA's, else `tz`."""
    if tz is None:
        return ["UTC"] * len(waba_values)
    if tz == "waba":
        return _zones_for(waba_values, timezones)
    return [tz] * len(waba_values)


def check_tz(tz: str | None) -> None:
    if tz is None or tz == "waba":
        return
    try:
        pd.Timestamp(0, tz=tz)
    except Exception:
        raise InputError("tz", None, f"unknown time zone {tz!r}; use None (UTC), 'waba' or an IANA name") from None


def check_granularity(granularity: str) -> str:
    upper = str(granularity).upper()
    if upper not in GRANULARITIES:
        raise InputError("granularity", None, f"unknown granularity {granularity!r}; use {', '.join(GRANULARITIES)}")
    return upper


def _wall_ns(ns: np.ndarray, zone: str) -> np.ndarray:
    """Local wall-clock time of UTC instants, as nanoseconds of a naive clock."""
    if zone == "UTC":
        return ns
    local = pd.DatetimeIndex(ns.view("datetime64[ns]")).tz_localize("UTC").tz_convert(zone).tz_localize(None)
    return local.as_unit("ns").asi8


def _localize(wall: np.ndarray, zone: str) -> np.ndarray:
    """UTC nanoseconds of local wall-clock instants.

    A wall time skipped by a DST change (Sao Paulo's midnights of 2018-11-04 and others) maps
    to the first instant after the gap; one that occurs twice maps to its first occurrence.
    """
    if zone == "UTC":
        return wall
    naive = pd.DatetimeIndex(wall.view("datetime64[ns]"))
    aware = naive.tz_localize(zone, ambiguous=np.ones(len(naive), dtype=bool), nonexistent="shift_forward")
    return aware.as_unit("ns").asi8


def _month_keys(wall: np.ndarray) -> np.ndarray:
    return wall.view("datetime64[ns]").astype("datetime64[M]")


def _zone_buckets(ns: np.ndarray, zone: str, granularity: str) -> tuple[np.ndarray, np.ndarray]:
    wall = _wall_ns(ns, zone)
    if granularity == "HALF_HOUR":
        # Absolute 30-minute intervals aligned on local :00 and :30: a repeated local hour at
        # the end of DST is two hours of buckets, not one bucket holding both.
        start = ns - wall % _HALF_HOUR
        return start, start + _HALF_HOUR
    if granularity == "DAILY":
        keys = wall - wall % _DAY
        codes, uniques = pd.factorize(keys)
        first, following = uniques, uniques + _DAY
    else:
        months = _month_keys(wall)
        codes, uniques = pd.factorize(months.view(np.int64))
        month = uniques.view("datetime64[M]")
        first = month.astype("datetime64[ns]").view(np.int64)
        following = (month + 1).astype("datetime64[ns]").view(np.int64)
    # Local midnights are converted once per distinct bucket, not once per row.
    return _localize(first, zone)[codes], _localize(following, zone)[codes]


def buckets(
    ns: np.ndarray, zone_of_row: np.ndarray, zones: list[str], granularity: str
) -> tuple[np.ndarray, np.ndarray]:
    """Start and end (UTC nanoseconds) of each instant's bucket in its row's zone.

    zone_of_row: an index into `zones` per instant.
    """
    start = np.empty_like(ns)
    end = np.empty_like(ns)
    for zone in set(zones):
        members = np.flatnonzero([z == zone for z in zones])
        rows = np.isin(zone_of_row, members) if len(members) < len(zones) else slice(None)
        start[rows], end[rows] = _zone_buckets(ns[rows], zone, granularity)
    return start, end


def local_months(ns: np.ndarray, zone_of_row: np.ndarray, zones: list[str]) -> np.ndarray:
    """The local calendar month ("YYYY-MM") of each instant in its row's zone."""
    months = np.empty(len(ns), dtype="datetime64[M]")
    for zone in set(zones):
        members = np.flatnonzero([z == zone for z in zones])
        rows = np.isin(zone_of_row, members) if len(members) < len(zones) else slice(None)
        months[rows] = _month_keys(_wall_ns(ns[rows], zone))
    codes, uniques = pd.factorize(months.view(np.int64))
    labels = np.array([str(m) for m in uniques.view("datetime64[M]")], dtype=object)
    return labels[codes]


def as_timestamps(ns: np.ndarray, zone_of_row: np.ndarray, zones: list[str]) -> pd.Series:
    """Tz-aware timestamps: in the rows' zone when they share one, else in UTC (a pandas
    column holds one zone; see `local_wall_times` for each row's own wall clock)."""
    utc = pd.DatetimeIndex(ns.view("datetime64[ns]")).tz_localize("UTC")
    used = {zones[i] for i in np.unique(zone_of_row)} if len(ns) else {"UTC"}
    return pd.Series(utc.tz_convert(used.pop()) if len(used) == 1 else utc)


def local_wall_times(ns: np.ndarray, zone_of_row: np.ndarray, zones: list[str]) -> np.ndarray:
    """Naive datetime64[ns]: the wall-clock time of each instant in its row's zone."""
    out = np.empty(len(ns), dtype=np.int64)
    for zone in set(zones):
        members = np.flatnonzero([z == zone for z in zones])
        rows = np.isin(zone_of_row, members)
        out[rows] = _wall_ns(ns[rows], zone)
    return out.view("datetime64[ns]")
