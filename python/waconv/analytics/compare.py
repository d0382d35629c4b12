"""``waconv.compare``: one log priced under several pricing models (what-if across eras).

The question finance asked at every model change: what would last month have cost under
the new rules? The same events are classified and priced once per rules value, and the
charged units are counted per WABA-local month, market and category.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
import pandas as pd

from waconv import _core
from waconv.analytics.buckets import charge_times, local_months, waba_column
from waconv.engine.classify import classify_frame
from waconv.io.frames import as_pandas
from waconv._errors import InputError
from waconv.engine.canonical import _zones_for, resolve_columns
from waconv.engine.tables import charged_units

KEYS = ["month", "market", "category", "currency"]
COLUMNS = ["rules", "month", "market", "category", "units", "cost", "currency", "difference"]


def compare(
    events: Any,
    rules: Iterable[str] | str = ("cbp_v2", "pmp_v1", "pmp_v2"),
    *,
    baseline: str = "auto",
    **classify_kwargs: Any,
) -> pd.DataFrame:
    """Prices `events` under each of `rules` and under `baseline`; a tidy comparison table.

    rules: era names (``"cbp_v1"``, ``"cbp_v2"``, ``"pmp_v1"``, ``"pmp_v2"``) or ``"auto"``,
    each forced on every message as in ``classify(rules=...)``.
    baseline: the rules the differences are taken against, ``"auto"`` (the rules in force
    at each message's date, i.e. the bill) by default; its own rows come first.
    classify_kwargs: passed to :func:`waconv.classify` for every run (``columns``,
    ``timezones``, ``rate_card``, ``volume_tiers``, ...); ``price`` must stay True.

    Returns one row per (rules, month, market, category, currency): ``rules``, ``month``
    (``"YYYY-MM"``, the WABA-local month of the charge: a CBP conversation's start, a PMP
    message's delivery), ``market``, ``category`` (pricing category of the charged units),
    ``units`` (charged units: CBP conversations opened with a charge, PMP charged
    messages), ``cost``, ``currency`` and ``difference`` (cost minus the baseline's cost
    for the same month, market, category and currency). Every combination seen under any
    rules appears under all of them (0 units, 0 cost where a model charges nothing), so
    the differences of one rules value sum to its bill minus the baseline's bill. Free
    units are not listed: they cost nothing under the model that made them free.
    """
    names = _rules_list(rules, baseline)
    if classify_kwargs.get("price", True) is not True:
        raise InputError("price", None, "compare prices the log under each rules value; leave price=True")
    if "rules" in classify_kwargs:
        raise InputError("rules", None, "pass the rules to compare as compare's own `rules` argument")
    if "output" in classify_kwargs:
        raise InputError("output", None, "compare returns a pandas table; leave output out")
    frame = as_pandas(events)
    per_rules = [_units_by_month(classify_frame(frame, rules=name, **classify_kwargs), name, classify_kwargs)
                 for name in names]
    return _tidy(per_rules, names)


def _rules_list(rules: Iterable[str] | str, baseline: str) -> list[str]:
    listed = [rules] if isinstance(rules, str) else list(rules)
    allowed = ("auto", *_core.ERAS)
    for name, value in [("baseline", baseline), *(("rules", r) for r in listed)]:
        if value not in allowed:
            raise InputError(name, None, f"unknown rules {value!r}; use one of {', '.join(allowed)}")
    ordered = [baseline]
    for name in listed:
        if name not in ordered:
            ordered.append(name)
    return ordered


def _units_by_month(result, name: str, options: Mapping[str, Any]) -> pd.DataFrame:
    """Charged units of one run, counted per month, market, category and currency."""
    messages = result.messages
    columns = resolve_columns(messages, options.get("columns"))
    rows = np.flatnonzero(charged_units(messages))
    when = charge_times(result, columns, rows)

    wabas = messages[waba_column(columns)].take(rows)
    waba_codes, waba_values = pd.factorize(wabas)
    zones = _zones_for(pd.Index(waba_values), options.get("timezones"))
    units = pd.DataFrame(
        {
            "month": local_months(when, waba_codes, zones),
            "market": messages["market"].take(rows).astype("str").to_numpy(),
            "category": messages["pricing_category"].take(rows).astype("str").to_numpy(),
            "currency": messages["currency"].take(rows).astype("str").to_numpy(),
            "cost": messages["cost"].take(rows).to_numpy(dtype=np.float64),
        }
    )
    grouped = units.groupby(KEYS, sort=True, dropna=False)
    out = grouped.size().rename("units").reset_index()
    # A unit without a published rate leaves its group's cost unknown, not understated.
    out["cost"] = grouped["cost"].sum(skipna=False).to_numpy()
    out.insert(0, "rules", name)
    return out


def _tidy(per_rules: list[pd.DataFrame], names: list[str]) -> pd.DataFrame:
    counted = pd.concat(per_rules, ignore_index=True)
    combinations = counted[KEYS].drop_duplicates()
    grid = pd.DataFrame({"rules": names}).merge(combinations, how="cross")
    table = grid.merge(counted, on=["rules", *KEYS], how="left", indicator=True)
    # Not charged under these rules: 0. A NaN cost from a missing rate stays NaN.
    absent = (table.pop("_merge") == "left_only").to_numpy()
    table.loc[absent, ["units", "cost"]] = 0
    table["units"] = table["units"].astype(np.int64)
    base = table[table["rules"] == names[0]][[*KEYS, "cost"]].rename(columns={"cost": "baseline_cost"})
    table = table.merge(base, on=KEYS, how="left")
    table["difference"] = table["cost"] - table["baseline_cost"]
    table["rules"] = pd.Categorical(table["rules"], categories=names, ordered=True)
    table = table.sort_values(["rules", "month", "market", "category", "currency"], kind="stable")
    table["rules"] = table["rules"].astype("str")
    for column in ("month", "market", "category", "currency"):
        table[column] = table[column].astype("str")
    return table[COLUMNS].reset_index(drop=True)

