"""``waconv.reconcile_analytics``: waconv's summary against Meta's own analytics, bucket by
bucket and dimension by dimension, in volume and cost.

Meta's response (read with :func:`waconv.read_meta_analytics`) says how it was asked for:
the bucket length gives the granularity (30 minutes, a day of 23 to 25 hours, a month),
the fields its data points carry give the dimensions of each analytics. waconv's result is
summarised the same way (:func:`waconv.Result.summary`) over the same span (Meta's first
bucket start to its last bucket end, or `start`/`end`), and the two tables are joined on
(analytics, WABA, bucket, dimension values). A row on one side only is a difference (the
other side counted 0). Nothing is averaged away: a month agrees only when each of its rows does.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from waconv._errors import InputError
from waconv.analytics import html
from waconv.analytics.buckets import (
    check_granularity,
    check_tz,
    local_months,
    message_columns,
    resolve_zones,
    waba_column,
)
from waconv.analytics.meta_analytics import BLOCKS_ATTR, FIELDS, read_meta_analytics
from waconv.analytics.summary import (
    ANALYTICS,
    CONVERSATION_DIMENSIONS,
    COUNTERPARTS,
    PRICING_DIMENSIONS,
    requested_dimensions,
    summary,
)

_DIMENSION_OF = {
    "conversation_analytics": {column: name for name, column in CONVERSATION_DIMENSIONS.items()},
    "pricing_analytics": {column: name for name, column in PRICING_DIMENSIONS.items()},
}
_UNITS = {"conversation_analytics": "conversations", "pricing_analytics": "messages"}
_HALF_HOUR, _HOUR, _DAY = 1800, 3600, 86_400
_NULL = "\x00"  # a null dimension value, as a join key
REQUIRED = ("analytics", "waba", "start", "end", "volume", "cost")


@dataclass
class AnalyticsReconciliation:
    """The outcome of :func:`reconcile_analytics`.

    table: every (analytics, waba, start, end, dimension values) row of either side:
    ``volume_waconv``, ``volume_meta``, ``volume_difference`` (waconv minus Meta),
    ``cost_waconv``, ``cost_meta``, ``cost_difference`` (NaN where a side has no cost),
    ``differs`` (``""``, ``"volume"``, ``"cost"`` or ``"volume, cost"``).
    differences: the rows of `table` that differ.
    verdicts: one row per WABA and month (of the bucket start, in the zone of the buckets):
    ``waba``, ``month``, ``rows``, ``differing``, ``agrees`` and ``verdict``, one line of text.
    granularity, dimensions (per analytics), tz: how the two sides were bucketed.
    notes: what was not compared and why (units outside Meta's span, costs unknown, ...).
    """

    table: pd.DataFrame
    verdicts: pd.DataFrame
    granularity: dict[str, str]
    dimensions: dict[str, list[str]]
    tz: str | None
    notes: list[str] = field(default_factory=list)

    @property
    def differences(self) -> pd.DataFrame:
        return self.table[self.table["differs"] != ""].reset_index(drop=True)

    @property
    def agrees(self) -> bool | None:
        """True when every compared row agrees, False when one differs, None when there was
        nothing to compare (never an agreement)."""
        if self.table.empty:
            return None
        return bool((self.table["differs"] == "").all())

    def __repr__(self) -> str:
        if self.table.empty:
            head = "0 rows compared: nothing to agree on"
        else:
            n = len(self.table)
            differing = int((self.table["differs"] != "").sum())
            head = f"{n:,} rows compared, {differing:,} differ" if differing else f"{n:,} rows compared, all agree"
        lines = [f"<waconv.AnalyticsReconciliation: {head}"]
        lines += [f"  {v}" for v in self.verdicts["verdict"]]
        lines += [f"  note: {note}" for note in self.notes]
        return "\n".join(lines) + ">"

    def _repr_html_(self) -> str:
        facts = html.facts([
            ("compared", f"{len(self.table):,} rows (analytics, WABA, bucket, dimension values)"),
            ("differing", f"{int((self.table['differs'] != '').sum()):,} rows"),
            ("granularity", html.escape(", ".join(f"{a}: {g}" for a, g in self.granularity.items()) or "-")),
            ("notes", html.escape("; ".join(self.notes)) or "none"),
        ])
        return html.block("waconv.AnalyticsReconciliation", facts,
                          html.head("verdicts", self.verdicts, 40, open_=True),
                          html.head("differences", self.differences, 10))


def reconcile_analytics(
    result,
    meta: Any,
    *,
    granularity: str | None = None,
    dimensions: Mapping[str, Iterable[str]] | Iterable[str] | None = None,
    tz: str | None = None,
    timezones: Mapping[Hashable, str] | None = None,
    start: Any = None,
    end: Any = None,
    cost_tolerance: float = 1e-6,
) -> AnalyticsReconciliation:
    """Compare a result with Meta's analytics, per bucket and dimension, in volume and cost.

    meta: the table :func:`waconv.read_meta_analytics` returns, or anything it reads.
    granularity: ``HALF_HOUR``, ``DAILY`` or ``MONTHLY``; default: from the length of Meta's
    buckets. dimensions: Meta's dimension names (``COUNTRY``, ``PRICING_TYPE``, ...), as a
    list for every analytics or a mapping analytics -> list; default: the fields Meta's data
    points carry. tz: the zone of the buckets, as for summary; default ``"waba"`` when the
    result records classify's `timezones` (Meta buckets in each WABA's zone), else UTC.
    start, end: the span that was asked of Meta (anything pandas reads as an instant);
    default: Meta's first bucket start and last bucket end. waconv's units outside it are
    counted in the notes, not compared. cost_tolerance: the largest cost difference taken
    as equal (Meta's analytics round costs; the default only absorbs float noise).

    A WABA Meta's response does not name (the edge's response has no ``id``) is the result's
    WABA when it has only one. Raises :class:`waconv.InputError` for a table without the
    summary's columns, buckets that are not one of Meta's granularities, or a WABA that
    cannot be told.
    """
    table = meta if isinstance(meta, pd.DataFrame) else read_meta_analytics(meta)
    for column in REQUIRED:
        if column not in table.columns:
            raise InputError(column, None, "not a table of read_meta_analytics: the column is missing")
    check_tz(tz)
    if tz is None and (timezones if timezones is not None else result.options.get("timezones")):
        tz = "waba"  # Meta buckets in each WABA's zone
    names = message_columns(result)
    wabas = pd.unique(result.messages[waba_column(names)].dropna())
    theirs = _with_wabas(table, wabas)
    blocks = _blocks(theirs, table.attrs.get(BLOCKS_ATTR), wabas)
    span = _span(theirs, start, end)
    notes: list[str] = []
    parts, grains, chosen = [], {}, {}
    for analytics in ANALYTICS:
        block_wabas = sorted({w for w, a in blocks if a == analytics})
        if not block_wabas:
            continue
        rows = theirs[theirs["analytics"] == analytics]
        grains[analytics] = check_granularity(granularity) if granularity is not None else _granularity(rows, theirs)
        chosen[analytics] = _dimensions(rows, analytics, dimensions)
        ours = summary(result, grains[analytics], chosen[analytics], tz, timezones=timezones)
        ours = ours[(ours["analytics"] == analytics).to_numpy() & ours["waba"].astype(str).isin(block_wabas).to_numpy()]
        if span is not None:
            inside = (ours["start"] >= span[0]).to_numpy() & (ours["end"] <= span[1]).to_numpy()
            if (~inside).any():
                notes.append(f"{int(ours.loc[~inside, 'volume'].sum()):,} waconv {_UNITS[analytics]} outside Meta's "
                             f"span {span[0]:%Y-%m-%d %H:%M} .. {span[1]:%Y-%m-%d %H:%M} UTC not compared")
            ours = ours[inside]
        columns = [c for c in FIELDS[analytics] if _DIMENSION_OF[analytics][c] in chosen[analytics]]
        parts.append(_joined(analytics, ours, rows, columns, cost_tolerance, notes))
    joined = pd.concat(parts, ignore_index=True) if parts else _joined(None, None, None, [], cost_tolerance, notes)
    if "cost" not in result.messages.columns and len(joined):
        notes.append("costs not compared: the result is not priced (classify with price=True)")
    zones = _zones(joined, tz, result, timezones)
    verdicts = _verdicts(joined, zones)
    _hint_zones(joined, notes)
    return AnalyticsReconciliation(table=joined, verdicts=verdicts, granularity=grains, dimensions=chosen, tz=tz,
                                   notes=notes)


def _with_wabas(table: pd.DataFrame, wabas: np.ndarray) -> pd.DataFrame:
    unnamed = table["waba"].isna().to_numpy()
    if not unnamed.any():
        return table.assign(waba=table["waba"].astype(str))
    if len(wabas) != 1:
        raise InputError("waba", int(np.argmax(unnamed)), f"Meta's response names no WABA and the result has "
                         f"{len(wabas)}: read it with read_meta_analytics(source, waba=...)")
    return table.assign(waba=table["waba"].astype(object).where(~unnamed, str(wabas[0])).astype(str))


def _blocks(table: pd.DataFrame, recorded: Any, wabas: np.ndarray) -> set[tuple[str, str]]:
    """The (waba, analytics) Meta answered: recorded by read_meta_analytics (empty blocks
    included), else those with rows."""
    found = set(zip(table["waba"].astype(str), table["analytics"].astype(str)))
    if recorded:
        only = str(wabas[0]) if len(wabas) == 1 else None
        found |= {(str(w) if w is not None else only, str(a)) for w, a in recorded if w is not None or only}
    return {(w, a) for w, a in found if a in ANALYTICS}


def _span(table: pd.DataFrame, start: Any, end: Any) -> tuple[pd.Timestamp, pd.Timestamp] | None:
    def instant(value: Any, column: str) -> pd.Timestamp:
        try:
            stamp = pd.Timestamp(value)
        except (TypeError, ValueError):
            raise InputError(column, None, f"not an instant: {value!r}") from None
        return stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")

    first = instant(start, "start") if start is not None else (table["start"].min() if len(table) else None)
    last = instant(end, "end") if end is not None else (table["end"].max() if len(table) else None)
    if first is None or last is None:
        return None
    if last <= first:
        raise InputError("end", None, f"the span ends ({last}) before it starts ({first})")
    return pd.Timestamp(first).tz_convert("UTC"), pd.Timestamp(last).tz_convert("UTC")


def _granularity(rows: pd.DataFrame, table: pd.DataFrame) -> str:
    """Meta's granularity from its bucket lengths (a day lasts 23 to 25 hours, a month 28 to 31 days)."""
    sample = rows if len(rows) else table
    if not len(sample):
        return "DAILY"
    seconds = ((sample["end"] - sample["start"]).dt.total_seconds()).to_numpy()
    kinds = np.where(seconds == _HALF_HOUR, 0,
                     np.where((seconds >= 23 * _HOUR) & (seconds <= 25 * _HOUR), 1,
                              np.where((seconds >= 28 * _DAY - _HOUR) & (seconds <= 31 * _DAY + _HOUR), 2, -1)))
    if (kinds < 0).any():
        row = int(np.argmax(kinds < 0))
        raise InputError("end", row, f"a bucket of {seconds[row] / _HOUR:g} hours is not one of Meta's granularities "
                         "(HALF_HOUR, DAILY, MONTHLY)")
    found = sorted(set(kinds.tolist()))
    if len(found) > 1:
        raise InputError("end", None, "buckets of several granularities in one response; pass granularity=")
    return ("HALF_HOUR", "DAILY", "MONTHLY")[found[0]]


def _dimensions(rows: pd.DataFrame, analytics: str, given: Any) -> list[str]:
    """This analytics' own dimension names: `given` (counterparts translated, the other
    analytics' own dropped, as summary does), else the fields Meta's points carry."""
    if given is None:
        return [_DIMENSION_OF[analytics][c] for c in FIELDS[analytics] if c in rows.columns and rows[c].notna().any()]
    if isinstance(given, Mapping):
        given = given.get(analytics, [])
    own = set(_DIMENSION_OF[analytics].values())
    chosen = []
    for name in requested_dimensions(given):
        name = name if name in own else COUNTERPARTS.get(name)
        if name in own and name not in chosen:
            chosen.append(name)
    return [_DIMENSION_OF[analytics][c] for c in FIELDS[analytics] if _DIMENSION_OF[analytics][c] in chosen]


def _keys(frame: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    keys = pd.DataFrame({
        "analytics": frame["analytics"].astype(str).to_numpy(),
        "waba": frame["waba"].astype(str).to_numpy(),
        "start": pd.DatetimeIndex(frame["start"]).tz_convert("UTC").as_unit("ns").asi8,
        "end": pd.DatetimeIndex(frame["end"]).tz_convert("UTC").as_unit("ns").asi8,
    })
    for column in columns:
        values = frame[column] if column in frame.columns else pd.Series(np.nan, index=frame.index)
        keys[column] = values.astype(object).where(values.notna(), _NULL).astype(str).to_numpy()
    return keys


def _joined(analytics: str | None, ours: pd.DataFrame | None, theirs: pd.DataFrame | None, columns: list[str],
            tolerance: float, notes: list[str]) -> pd.DataFrame:
    key_columns = ["analytics", "waba", "start", "end", *columns]
    if analytics is None:
        empty = {c: pd.Series(dtype="str") for c in ("analytics", "waba")}
        empty |= {"start": pd.Series(dtype="datetime64[ns, UTC]"), "end": pd.Series(dtype="datetime64[ns, UTC]")}
        for name in ("volume_waconv", "volume_meta", "volume_difference"):
            empty[name] = pd.Series(dtype=np.int64)
        for name in ("cost_waconv", "cost_meta", "cost_difference"):
            empty[name] = pd.Series(dtype=np.float64)
        empty["differs"] = pd.Series(dtype="str")
        return pd.DataFrame(empty)
    for side, frame in (("waconv", ours), ("Meta", theirs)):
        repeated = _keys(frame, columns).duplicated().to_numpy()
        if repeated.any():
            raise InputError("dimensions", None, f"{side}'s {analytics} has several rows for one bucket and the "
                             f"dimensions {columns}: its data points carry more dimensions; pass them all")
    left = _keys(ours, columns).assign(volume_waconv=ours["volume"].to_numpy(dtype=np.int64),
                                       cost_waconv=ours["cost"].to_numpy(dtype=np.float64))
    right = _keys(theirs, columns).assign(volume_meta=theirs["volume"].to_numpy(dtype=np.int64),
                                          cost_meta=theirs["cost"].to_numpy(dtype=np.float64))
    both = left.merge(right, on=key_columns, how="outer", sort=False, indicator=True)
    waconv_priced = len(ours) == 0 or not np.isnan(left["cost_waconv"].to_numpy()).all()
    meta_priced = np.isfinite(right["cost_meta"].to_numpy()).any()
    if len(theirs) and not meta_priced:
        notes.append(f"{analytics}: costs not compared, Meta's response has none (an account billed through a partner?)")
    only_meta = (both["_merge"] == "right_only").to_numpy()
    only_waconv = (both["_merge"] == "left_only").to_numpy()
    volume_waconv = np.where(only_meta, 0, both["volume_waconv"].fillna(0).to_numpy()).astype(np.int64)
    volume_meta = np.where(only_waconv, 0, both["volume_meta"].fillna(0).to_numpy()).astype(np.int64)
    # A row one side lacks costs it nothing there, where that side reports costs at all.
    cost_waconv = np.where(only_meta, 0.0 if waconv_priced else np.nan, both["cost_waconv"].to_numpy(dtype=np.float64))
    cost_meta = np.where(only_waconv, 0.0 if meta_priced else np.nan, both["cost_meta"].to_numpy(dtype=np.float64))
    cost_difference = cost_waconv - cost_meta
    volume_differs = volume_waconv != volume_meta
    cost_differs = np.abs(cost_difference) > tolerance  # NaN (a side without cost) compares False
    differs = np.where(volume_differs & cost_differs, "volume, cost",
                       np.where(volume_differs, "volume", np.where(cost_differs, "cost", "")))
    out = pd.DataFrame({
        "analytics": pd.array(both["analytics"].to_numpy(), dtype="str"),
        "waba": pd.array(both["waba"].to_numpy(), dtype="str"),
        "start": _utc(both["start"].to_numpy(dtype=np.int64)),
        "end": _utc(both["end"].to_numpy(dtype=np.int64)),
    })
    for column in columns:
        values = both[column].to_numpy(dtype=object)
        out[column] = pd.array(np.where(values == _NULL, None, values), dtype="str")
    out["volume_waconv"], out["volume_meta"] = volume_waconv, volume_meta
    out["volume_difference"] = volume_waconv - volume_meta
    out["cost_waconv"], out["cost_meta"], out["cost_difference"] = cost_waconv, cost_meta, cost_difference
    out["differs"] = pd.array(differs, dtype="str")
    last = "\U0010ffff"  # nulls after every value, as in summary
    order = np.lexsort([np.where(both[c].to_numpy(dtype=str) == _NULL, last, both[c].to_numpy(dtype=str))
                        for c in reversed(columns)]
                       + [both["start"].to_numpy(dtype=np.int64), both["waba"].to_numpy(dtype=str)])
    return out.iloc[order].reset_index(drop=True)


def _utc(ns: np.ndarray) -> pd.Series:
    return pd.Series(pd.DatetimeIndex(np.asarray(ns, dtype=np.int64).view("datetime64[ns]")).tz_localize("UTC"))


def _zones(joined: pd.DataFrame, tz: str | None, result, timezones) -> dict[str, str]:
    wabas = pd.Index(pd.unique(joined["waba"]))
    zones = resolve_zones(tz, wabas, timezones if timezones is not None else result.options.get("timezones"))
    return dict(zip(wabas, zones))


def _verdicts(joined: pd.DataFrame, zones: dict[str, str]) -> pd.DataFrame:
    columns = ["waba", "month", "rows", "differing", "agrees", "verdict"]
    if joined.empty:
        return pd.DataFrame({c: pd.Series(dtype=t) for c, t in zip(columns, ("str", "str", "int64", "int64", "bool",
                                                                             "str"))})
    waba_codes, wabas = pd.factorize(joined["waba"])
    zone_list = [zones.get(w, "UTC") for w in wabas]
    month = local_months(pd.DatetimeIndex(joined["start"]).as_unit("ns").asi8, waba_codes, zone_list)
    frame = joined.assign(month=month, differing=(joined["differs"] != "").to_numpy())
    rows = []
    for (waba, when), group in frame.groupby(["waba", "month"], sort=True):
        parts = [_analytics_verdict(name, part) for name, part in group.groupby("analytics", sort=False)]
        differing = int(group["differing"].sum())
        head = f"{waba} {when}: " + ("agrees" if not differing else f"differs in {differing:,} of {len(group):,} rows")
        rows.append((waba, when, len(group), differing, not differing, head + " (" + "; ".join(parts) + ")"))
    return pd.DataFrame(rows, columns=columns).astype({"waba": "str", "month": "str", "verdict": "str"})


def _analytics_verdict(analytics: str, group: pd.DataFrame) -> str:
    ours, theirs = int(group["volume_waconv"].sum()), int(group["volume_meta"].sum())
    text = f"{analytics}: {ours:,} {_UNITS[analytics]}" if ours == theirs else \
        f"{analytics}: {ours:,} {_UNITS[analytics]} vs Meta's {theirs:,} ({ours - theirs:+,})"
    cost_ours, cost_theirs = group["cost_waconv"].to_numpy(), group["cost_meta"].to_numpy()
    known = ~np.isnan(cost_ours) & ~np.isnan(cost_theirs)
    if not known.any():
        return text + ", cost not compared"
    a, b = float(cost_ours[known].sum()), float(cost_theirs[known].sum())
    text += f", cost {a:,.4f}" if (group["differs"].str.contains("cost")).sum() == 0 else \
        f", cost {a:,.4f} vs Meta's {b:,.4f} ({a - b:+,.4f})"
    if not known.all():
        text += f" ({int((~known).sum())} rows without a cost)"
    return text


def _hint_zones(joined: pd.DataFrame, notes: list[str]) -> None:
    """When the two sides share no bucket at all, the likely cause is the zone of the buckets."""
    for (analytics, waba), group in joined.groupby(["analytics", "waba"], sort=True):
        ours = set(zip(group["start"][group["volume_waconv"] > 0], group["end"][group["volume_waconv"] > 0]))
        theirs = set(zip(group["start"][group["volume_meta"] > 0], group["end"][group["volume_meta"] > 0]))
        if ours and theirs and not ours & theirs:
            notes.append(f"{analytics} of WABA {waba}: no bucket in common; Meta buckets in the WABA's time zone: "
                         "pass tz= or classify(..., timezones=)")
