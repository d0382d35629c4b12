"""``Result.summary``: waconv's numbers shaped like Meta's ``pricing_analytics`` (PMP
messages) and ``conversation_analytics`` (CBP conversations); see docs/analytics.md.

What is counted (so that the numbers are the bill, and `cost` sums to ``messages.cost``):

- ``pricing_analytics``: every delivered, non-duplicate message priced per message
  (``pricing_model == "PMP"``, a ``pricing_type``), free ones included, bucketed by delivery
  time. volume = messages, cost = their cost. Meta counts delivered messages the same way.
- ``conversation_analytics``: every conversation opened under CBP rules (era ``cbp_v1`` or
  ``cbp_v2``; free entry point windows of the PMP eras are per-message and belong above),
  bucketed by conversation start. volume = conversations, cost = conversation cost. Its
  COUNTRY is the country of the message that opened it.

PHONE is the business number's display phone number where the input has it (the
``business_display_phone`` column :func:`waconv.read_webhooks` writes), else the ``business``
id. Rows come in one order whatever the input's: analytics, waba, start, then the dimension
values (text order, nulls last), so that a table read back from Meta's JSON
(:func:`waconv.read_meta_analytics`) is row for row the same.
"""

from __future__ import annotations

import warnings
from collections.abc import Hashable, Iterable, Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from waconv.analytics.buckets import (
    CBP_ERAS,
    CONVERSATION_CATEGORY,
    CONVERSATION_DIRECTION,
    CONVERSATION_TYPE,
    OPEN_TIER,
    PRICING_CATEGORY,
    PRICING_TYPE,
    as_timestamps,
    buckets,
    check_granularity,
    check_tz,
    coded,
    delivery_ns,
    local_wall_times,
    message_columns,
    resolve_zones,
    waba_column,
)
from waconv._errors import InputError, WaconvWarning

DEFAULT_DIMENSIONS = ("PRICING_CATEGORY", "PRICING_TYPE", "COUNTRY")
PRICING_DIMENSIONS = {
    "PHONE": "phone_number",
    "COUNTRY": "country",
    "TIER": "tier",
    "PRICING_CATEGORY": "pricing_category",
    "PRICING_TYPE": "pricing_type",
}
CONVERSATION_DIMENSIONS = {
    "PHONE": "phone_number",
    "COUNTRY": "country",
    "CONVERSATION_CATEGORY": "conversation_category",
    "CONVERSATION_TYPE": "conversation_type",
    "CONVERSATION_DIRECTION": "conversation_direction",
}
# Requesting one of a pair groups each analytics by its own field of the pair, so that the
# default dimensions break CBP conversations down by category and type as well.
COUNTERPARTS = {
    "PRICING_CATEGORY": "CONVERSATION_CATEGORY",
    "PRICING_TYPE": "CONVERSATION_TYPE",
    "CONVERSATION_CATEGORY": "PRICING_CATEGORY",
    "CONVERSATION_TYPE": "PRICING_TYPE",
}
DIMENSION_COLUMNS = (
    "phone_number", "country", "tier", "pricing_category", "pricing_type",
    "conversation_category", "conversation_type", "conversation_direction",
)
ANALYTICS = ("conversation_analytics", "pricing_analytics")
DISPLAY_PHONE = "business_display_phone"  # read_webhooks' metadata.display_phone_number


@dataclass
class Units:
    """The counted units of one analytics: when, which WABA, dimension codes, cost."""

    analytics: str
    time: np.ndarray  # int64 UTC ns
    waba: pd.Series
    dimensions: dict[str, tuple[np.ndarray, list]]  # output column -> (codes, labels)
    cost: np.ndarray


def summary(
    result,
    granularity: str = "DAILY",
    dimensions: Iterable[str] | str = DEFAULT_DIMENSIONS,
    tz: str | None = None,
    *,
    timezones: Mapping[Hashable, str] | None = None,
) -> pd.DataFrame:
    """Volume and cost per bucket and dimension values, like Meta's analytics endpoints.

    granularity: ``"HALF_HOUR"``, ``"DAILY"`` or ``"MONTHLY"``.
    dimensions: any of ``COUNTRY``, ``PHONE``, ``PRICING_CATEGORY``, ``PRICING_TYPE``,
    ``TIER`` (pricing_analytics) and ``CONVERSATION_CATEGORY``, ``CONVERSATION_TYPE``,
    ``CONVERSATION_DIRECTION``, ``COUNTRY``, ``PHONE`` (conversation_analytics). A dimension
    applies to the analytics that has it and is ignored for the other (TIER says nothing
    about conversations); PRICING_CATEGORY and CONVERSATION_CATEGORY, and PRICING_TYPE and
    CONVERSATION_TYPE, are counterparts: asking for one groups both analytics by their own.
    tz: None (UTC buckets), ``"waba"`` (each WABA's time zone, from classify's `timezones`)
    or an IANA zone name for every WABA. Daily and monthly buckets start at local midnight
    (the first instant of the day where DST skips midnight), so a DST day lasts 23 or 25 h;
    half-hour buckets are 30 real minutes aligned on local :00 and :30.
    timezones: WABA -> zone, overriding the mapping recorded on the result.

    Returns one row per (analytics, waba, bucket, dimension values): ``analytics``
    (``"pricing_analytics"`` / ``"conversation_analytics"``), ``waba`` (Meta's analytics
    are per WABA), ``start`` and ``end`` (tz-aware instants in the zone of `tz`; with
    tz="waba", in the WABAs' zone when they share one, else in UTC, as one pandas column
    holds one zone), with tz="waba" also ``tz`` (the row's WABA zone) and ``local_start``
    (naive: the bucket's start on that zone's wall clock, the same for every WABA's July,
    so filter and group days or months on it: ``table[table.local_start >= "2025-07-01"]``),
    the requested dimension columns in Meta's lower-case
    field names with Meta's upper-case values (null where a dimension does not apply or
    Meta omits it, e.g. ``tier`` of free messages; ``phone_number`` the display phone number
    where the input has a ``business_display_phone`` column, else the ``business`` id),
    ``volume`` (messages or conversations)
    and ``cost`` (NaN when the result was classified with ``price=False``, or when a
    charged unit in the group had no rate), in the row's WABA's currency: rows are per WABA
    and each WABA is billed in one currency (classify's ``currencies``), so no row adds two. Charged PMP messages outside any volume-tier
    band have tier ``"0:MAX"``, as Meta reports marketing. COUNTRY and TIER need a priced
    result. Rows are ordered by analytics, waba, start and the dimension values (text order,
    nulls last). Value spellings: docs/analytics.md.
    """
    granularity = check_granularity(granularity)
    check_tz(tz)
    requested = requested_dimensions(dimensions)
    priced = "cost" in result.messages.columns
    if not priced and requested & {"COUNTRY", "TIER"}:
        unpriced = sorted(requested & {"COUNTRY", "TIER"})[0]
        raise InputError("dimensions", None, f"{unpriced} needs a priced result (classify with price=True)")
    pricing = [d for d in PRICING_DIMENSIONS if d in requested or COUNTERPARTS.get(d) in requested]
    conversation = [d for d in CONVERSATION_DIMENSIONS if d in requested or COUNTERPARTS.get(d) in requested]
    zones = timezones if timezones is not None else result.options.get("timezones")
    if tz == "waba" and zones is None:
        warnings.warn("the result does not record classify's timezones; buckets are in UTC. Pass "
                      "summary(..., timezones={waba: zone})", WaconvWarning, stacklevel=3)
    parts = [
        _aggregate(_conversation_units(result, conversation, priced), granularity, tz, zones),
        _aggregate(_pricing_units(result, pricing, priced), granularity, tz, zones),
    ]
    used = {PRICING_DIMENSIONS[d] for d in pricing} | {CONVERSATION_DIMENSIONS[d] for d in conversation}
    dimension_columns = [c for c in DIMENSION_COLUMNS if c in used]
    local = ["tz", "local_start"] if tz == "waba" else []
    columns = ["analytics", "waba", "start", "end", *local, *dimension_columns, "volume", "cost"]
    non_empty = [p for p in parts if len(p)] or parts[:1]
    out = pd.concat(non_empty, ignore_index=True)
    zone_of_row, zones = pd.factorize(out["tz"])
    start = out["start"].to_numpy(dtype=np.int64)
    for column in ("start", "end"):
        out[column] = as_timestamps(out[column].to_numpy(dtype=np.int64), zone_of_row, list(zones))
    if local:
        out["local_start"] = local_wall_times(start, zone_of_row, list(zones))
    out = out.reindex(columns=columns)
    for column in dimension_columns:
        out[column] = out[column].astype("str")  # a part without the column leaves it all-NaN object
    return out


def costs_by_currency(messages: pd.DataFrame) -> pd.Series:
    """The bill of a messages table per currency, sorted by code (charged units with no rate,
    cost NaN, are left out as ``messages.cost.sum()`` leaves them out; pricing warned of them).
    Costs of two currencies are never added: waconv does not convert."""
    if "cost" not in messages.columns or "currency" not in messages.columns:
        return pd.Series(dtype=np.float64)
    known = messages["currency"].notna().to_numpy()
    cost = messages["cost"].to_numpy(dtype=np.float64, na_value=np.nan)[known]
    currency = messages["currency"].astype("str").to_numpy()[known]
    return pd.Series(cost).groupby(currency, sort=True).sum().rename_axis("currency").rename("cost")


def requested_dimensions(dimensions: Iterable[str] | str) -> set[str]:
    """The dimension names asked for, upper-cased and checked."""
    if isinstance(dimensions, str):
        dimensions = [dimensions]
    if dimensions is None:
        return set()
    known = {**PRICING_DIMENSIONS, **CONVERSATION_DIMENSIONS}
    requested = set()
    for name in dimensions:
        upper = str(name).upper()
        if upper not in known:
            raise InputError("dimensions", None, f"unknown dimension {name!r}; use {', '.join(sorted(known))}")
        requested.add(upper)
    return requested


def _pricing_units(result, dimensions: list[str], priced: bool) -> Units:
    messages = result.messages
    names = message_columns(result)
    counted = (
        messages["pricing_model"].eq("PMP").to_numpy(dtype=bool, na_value=False)
        & messages["pricing_type"].notna().to_numpy()
        & ~messages["duplicate"].to_numpy(dtype=bool)
    )
    rows = np.flatnonzero(counted)

    def take(column: str) -> pd.Series:
        return messages[column].take(rows)

    builders = {
        "PHONE": lambda: _phones(result, names, take(names["business"])),
        "COUNTRY": lambda: coded(take("country")),
        "TIER": lambda: _tiers(take("tier"), take("pricing_type")),
        "PRICING_CATEGORY": lambda: coded(take("pricing_category"), PRICING_CATEGORY),
        "PRICING_TYPE": lambda: coded(take("pricing_type"), PRICING_TYPE),
    }
    return Units(
        analytics="pricing_analytics",
        time=delivery_ns(messages, names, rows),
        waba=take(waba_column(names)),
        dimensions={PRICING_DIMENSIONS[d]: builders[d]() for d in dimensions},
        cost=take("cost").to_numpy(dtype=np.float64) if priced else np.full(len(rows), np.nan),
    )


def _tiers(tier: pd.Series, pricing_type: pd.Series) -> tuple[np.ndarray, list]:
    codes, labels = coded(tier)
    open_band = (codes < 0) & pricing_type.eq("regular").to_numpy(dtype=bool, na_value=False)
    if open_band.any():
        if OPEN_TIER not in labels:
            labels = [*labels, OPEN_TIER]
        codes = np.where(open_band, labels.index(OPEN_TIER), codes)
    return codes, labels


def _conversation_units(result, dimensions: list[str], priced: bool) -> Units:
    conversations = result.conversations
    cbp = conversations[conversations["era"].isin(CBP_ERAS).to_numpy()]
    names = message_columns(result) if "PHONE" in dimensions else {}
    builders = {
        "PHONE": lambda: _phones(result, names, cbp["business"]),
        "COUNTRY": lambda: coded(result.messages["country"].take(cbp["opened_by"].to_numpy())),
        "CONVERSATION_CATEGORY": lambda: coded(cbp["category"], CONVERSATION_CATEGORY),
        "CONVERSATION_TYPE": lambda: coded(cbp["pricing_type"], CONVERSATION_TYPE),
        "CONVERSATION_DIRECTION": lambda: coded(cbp["category"], CONVERSATION_DIRECTION),
    }
    return Units(
        analytics="conversation_analytics",
        time=pd.DatetimeIndex(cbp["start"]).as_unit("ns").asi8,
        waba=cbp["waba"],
        dimensions={CONVERSATION_DIMENSIONS[d]: builders[d]() for d in dimensions},
        cost=cbp["cost"].to_numpy(dtype=np.float64) if priced else np.full(len(cbp), np.nan),
    )


def _phones(result, names: Mapping[str, str], business: pd.Series) -> tuple[np.ndarray, list]:
    """PHONE: each business id's display phone number where the messages carry one, else the id."""
    codes, labels = coded(business)
    displays = _display_phones(result.messages, names["business"])
    # Two ids showing one number would be one PHONE value, as in Meta's analytics.
    label_codes, distinct = pd.factorize(pd.Series([displays.get(v, str(v)) for v in labels], dtype=object))
    return np.append(label_codes, -1).astype(np.int64)[codes], list(distinct)


def _display_phones(messages: pd.DataFrame, business_column: str) -> dict:
    """business id -> display phone number (the smallest where the rows of one id disagree)."""
    if DISPLAY_PHONE not in messages.columns:
        return {}
    display = messages[DISPLAY_PHONE]
    known = display.notna().to_numpy()
    if not known.any():
        return {}
    codes, ids = pd.factorize(messages[business_column].to_numpy()[known])
    smallest = pd.Series(display.to_numpy()[known].astype(str), dtype=object).groupby(codes).min()
    return {ids[code]: value for code, value in smallest.items()}


def _ranked(codes: np.ndarray, labels, null: int) -> tuple[np.ndarray, list[int]]:
    """The codes renumbered in the order of their labels (`sort_key`), null (-1) as `null`,
    and the old code of each new one."""
    order = sorted(range(len(labels)), key=lambda i: sort_key(labels[i]))
    rank = np.empty(len(labels) + 1, dtype=np.int64)
    rank[order] = np.arange(len(labels))
    rank[-1] = null
    return rank[codes], order


def sort_key(value) -> tuple:
    """How summary orders WABAs and dimension values: numbers by value, then text in code
    point order (read_meta_analytics orders its rows with the same key)."""
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        return (0, int(value), "")
    return (1, 0, str(value))


def _aggregate(units: Units, granularity: str, tz: str | None, timezones) -> pd.DataFrame:
    waba_codes, waba_values = pd.factorize(units.waba)
    waba_codes, order = _ranked(waba_codes, waba_values, -1)
    waba_values = pd.Index(waba_values).take(order)
    zones = resolve_zones(tz, waba_values, timezones)
    start, end = buckets(units.time, waba_codes, zones, granularity)
    dimensions = {}
    for name, (codes, labels) in units.dimensions.items():
        ranked, order = _ranked(codes, labels, len(labels))  # nulls after every value
        dimensions[name] = (ranked, [labels[i] for i in order])
    # Grouping by small integer codes is several times faster than by strings or categoricals;
    # ranked codes make the sort below the order of the labels.
    keys = {"waba": waba_codes, "start": start, "end": end, **{n: c for n, (c, _) in dimensions.items()}}
    frame = pd.DataFrame({**keys, "cost": units.cost})
    grouped = frame.groupby(list(keys), sort=False)
    out = grouped.size().rename("volume").reset_index()
    out["cost"] = grouped["cost"].sum(skipna=False).to_numpy()
    out = out.sort_values(["waba", "start", *dimensions], kind="stable").reset_index(drop=True)
    for name, (_, labels) in dimensions.items():
        lookup = np.array([*labels, None], dtype=object)
        out[name] = pd.Series(lookup[out[name].to_numpy()], dtype="str")
    waba = out["waba"].to_numpy()
    decoded = pd.DataFrame(
        {
            "analytics": units.analytics,
            "waba": waba_values.take(waba),
        }
    )
    # UTC nanoseconds and each row's zone: `summary` makes datetimes of both analytics at once.
    decoded["start"] = out["start"].to_numpy()
    decoded["end"] = out["end"].to_numpy()
    decoded["tz"] = pd.Series(np.array(zones, dtype=object)[waba] if len(zones) else [], dtype="str")
    for name in units.dimensions:
        decoded[name] = out[name].to_numpy()
    decoded["volume"] = out["volume"].to_numpy(dtype=np.int64)
    decoded["cost"] = out["cost"].to_numpy()
    return decoded
