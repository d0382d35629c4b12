"""The result users hold: the engine's tables plus what can be asked of them.

`Result` adds the analytics (summary, Meta's response layout, plots) to the engine's
tables. It lives above both, so the engine never imports phase 3 and phase 3 never
imports the class it is called from.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import pyarrow as pa

from waconv.analytics import html
from waconv.analytics.explain import explain
from waconv.analytics.meta_json import to_meta_json
from waconv.analytics.plot import by_type, daily_cost
from waconv.analytics.plot_timeline import timeline
from waconv.analytics.summary import DEFAULT_DIMENSIONS, summary
from waconv.engine.state import State
from waconv.engine.tables import Tables
from waconv.io.frames import convert, from_arrow

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes


class PlotAccessor:
    """``result.plot``: the plots of one result (matplotlib, imported on first use)."""

    def __init__(self, result: Tables) -> None:
        self._result = result

    def daily_cost(self, ax: Axes | None = None, tz: str | None = None, freq: str = "auto",
                   currency: str | None = None) -> Axes:
        """Cost per day, week or month (in `tz`, an IANA zone; default UTC), stacked by pricing
        category, era switches marked. freq: ``"D"``, ``"W"``, ``"M"`` or ``"auto"`` (days up to
        92 days of charges, weeks up to two years, months beyond). currency: the one to plot
        where WABAs are billed in several (required then: currencies never add up)."""
        return daily_cost(self._result, ax=ax, tz=tz, freq=freq, currency=currency)

    def by_type(self, ax: Axes | None = None) -> Axes:
        """CBP conversations and PMP messages per pricing category, stacked by pricing type, in
        two panels (different units, so never one scale) drawn inside `ax`: ``ax.child_axes``."""
        return by_type(self._result, ax=ax)

    def timeline(self, user: Any, business: Any = None, ax: Axes | None = None,
                 start: Any = None, end: Any = None) -> Axes:
        """One user's windows (bars) and messages (ticks coloured by pricing type) over time."""
        return timeline(self._result, user, business=business, ax=ax, start=start, end=end)


@dataclass(repr=False)
class Result(Tables):
    """Classified messages, conversations and windows.

    messages: the input rows in input order, with the per-message columns added (their
    meaning: ``docs/rules.md``). The input's columns come back as given, except `timestamp`
    and `delivered_at` (under their mapped names) given as text, ISO strings or Python
    objects: those are datetime64[ns, UTC], from the instants classify parsed (a naive
    datetime column beside them is localized to UTC, so the two compare). NaT where a
    delivery is missing.
    conversations: one row per CBP conversation or free entry point window.
    windows: customer service and free entry point windows.
    n_duplicates: rows that repeat an earlier (message_id, direction).
    options: the classify options that produced this result (the pricing ones too: price,
    rate_card and volume_tiers as passed, currencies, auth_international).
    timings: seconds spent in `prepare` (input to codes), `core` (the C++ classification
    and monthly allowances), `scan` (the classification inside it: `scan_group`,
    `scan_pairs`, `scan_join`, `scan_scatter`), `assemble` (the result tables, with pricing
    running meanwhile on other threads), `price` (the C++ pricing inside `assemble`; 0 when
    not priced) and `total`.
    """

    @classmethod
    def of(cls, tables: Tables) -> Result:
        return cls(messages=tables.messages, conversations=tables.conversations, windows=tables.windows,
                   n_duplicates=tables.n_duplicates, options=tables.options, timings=tables.timings,
                   state_source=tables.state_source)

    @property
    def state(self) -> State:
        """What ``classify(next_batch, state=result.state)`` continues from (docs/rules.md
        §Daily runs); built on first use. ``state.save(path)`` / ``State.load(path)`` keep it."""
        return _state_of(self)

    @property
    def plot(self) -> PlotAccessor:
        """Plots of this result: ``daily_cost``, ``by_type``, ``timeline`` (needs matplotlib)."""
        return PlotAccessor(self)  # matplotlib itself is imported only when a plot is drawn

    def __repr__(self) -> str:
        return (
            f"<waconv.Result: {len(self.messages):,} messages ({self.n_duplicates:,} duplicates), "
            f"{len(self.conversations):,} conversations, {len(self.windows):,} windows>"
        )

    def _repr_html_(self) -> str:
        """What a notebook shows: counts, the bill per currency, the eras present and the first
        rows of each table (computed from category codes and one cost pass, so large results
        display quickly)."""
        m = self.messages
        rows = [
            ("messages", f"{len(m):,} ({self.n_duplicates:,} duplicates)"),
            ("conversations", f"{len(self.conversations):,}"),
            ("windows", f"{len(self.windows):,}"),
        ]
        if "era" in m.columns:
            eras = html.counted(*html.codes_of(m["era"]))
            rows.append(("eras", ", ".join(f"{html.escape(era)}: {n:,} messages" for era, n in eras) or "none"))
        rows.append(("bill", self._bill_html()))
        rules = self.options.get("rules")
        if rules is not None:
            rows.append(("rules", html.escape(rules)))
        return html.block(
            "waconv.Result", html.facts(rows),
            html.head("messages", m), html.head("conversations", self.conversations),
            html.head("windows", self.windows),
        )

    def _bill_html(self) -> str:
        m = self.messages
        if "cost" not in m.columns:
            return "not priced (classified with price=False)"
        cost = m["cost"].to_numpy(dtype=np.float64, na_value=np.nan)
        unknown = np.isnan(cost)
        if "currency" in m.columns:
            codes, currencies = html.codes_of(m["currency"])
        else:
            codes, currencies = np.zeros(len(m), dtype=np.int64), [""]
        known = ~unknown & (codes >= 0)
        totals = np.bincount(codes[known], weights=cost[known], minlength=len(currencies))
        present = np.bincount(codes[known], minlength=len(currencies)) > 0
        parts = [f"{total:,.2f} {html.escape(currency)}".strip()
                 for total, currency, shown in zip(totals, currencies, present) if shown]
        text = "; ".join(parts) or "0.00"
        if unknown.any():
            text += f" (and {int(unknown.sum()):,} charged units with no rate: cost NaN)"
        return text

    def summary(
        self,
        granularity: str = "DAILY",
        dimensions: Sequence[str] | str = DEFAULT_DIMENSIONS,
        tz: str | None = None,
        *,
        timezones: Mapping[Any, str] | None = None,  # any key type: see api.classify
    ) -> pd.DataFrame:
        """    Volume and cost per bucket and dimension values, like Meta's analytics endpoints.

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
        Meta omits it, e.g. ``tier`` of free messages), ``volume`` (messages or conversations)
        and ``cost`` (NaN when the result was classified with ``price=False``, or when a
        charged unit in the group had no rate). Charged PMP messages outside any volume-tier
        band have tier ``"0:MAX"``, as Meta reports marketing. COUNTRY and TIER need a priced
        result. Value spellings: ``docs/analytics.md``.
    """
        return summary(self, granularity, dimensions, tz, timezones=timezones)

    def explain(self, message: Hashable | None = None, *, row: int | None = None) -> str:
        """One sentence saying why a message costs what it costs: its `charge_reason` with the
        times, the conversation or window involved, the era, the market, the rate card and the rate.

        message: a message id (the first row with it is explained; the sentence says which rows
        repeat it), or when the log has no message ids a row number. row: a position in
        `messages`, from 0. An unknown id or a row out of range is an :class:`~waconv.InputError`.
        """
        return explain(self, message, row=row)

    def to_meta_json(
        self,
        granularity: str = "DAILY",
        dimensions: Sequence[str] | str = DEFAULT_DIMENSIONS,
        tz: str | None = None,
        *,
        timezones: Mapping[Any, str] | None = None,
        waba: Hashable | None = None,
        analytics: Sequence[str] | str | None = None,
    ) -> dict[str, Any]:
        """    One WABA's analytics as Meta's API returns them (arguments as :meth:`summary`).

        Returns ``{"conversation_analytics": {"data": [{"data_points": [...]}]},
        "pricing_analytics": {...}, "id": "<waba>"}`` with the blocks asked for: `analytics`,
        else the analytics whose own dimensions `dimensions` names (PRICING_CATEGORY,
        PRICING_TYPE, TIER; CONVERSATION_CATEGORY, CONVERSATION_TYPE, CONVERSATION_DIRECTION),
        both when it names both or neither; a block asked for is present even when empty.
        Each data point has ``start`` and ``end`` (int epoch seconds), the dimension fields as
        Meta spells them (a field is left out where its value is null, as Meta leaves out
        ``tier`` for free messages), ``conversation`` or ``volume``, and ``cost`` (float; left
        out when unknown, as Meta leaves it out for partner-billed accounts), the newest
        bucket first as in Meta's responses (docs/analytics.md).

        waba: which WABA; may be omitted when the log has only one. Meta's endpoint is per WABA.
    """
        return to_meta_json(self, granularity, dimensions, tz, timezones=timezones, waba=waba, analytics=analytics)


@dataclass
class ResultTables:
    """A result as Arrow tables or polars DataFrames (``classify(output="arrow"|"polars")``).

    The same three tables as :class:`waconv.Result`; ``to_pandas()`` gives the Result back
    (its analytics, plots and reconciliation work on pandas).
    """

    messages: Any
    conversations: Any
    windows: Any
    format: str
    n_duplicates: int = 0
    options: dict[str, Any] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)

    state_source: Any = field(default=None, repr=False, compare=False)

    def __getstate__(self) -> dict[str, Any]:
        return {**self.__dict__, "state_source": None}  # as Tables.__getstate__

    @property
    def state(self) -> State:
        """As :attr:`Result.state`."""
        return _state_of(self)

    def to_pandas(self) -> Result:
        def back(table: Any) -> pd.DataFrame:
            return from_arrow(table if isinstance(table, pa.Table) else table.to_arrow())

        return Result(messages=back(self.messages), conversations=back(self.conversations),
                      windows=back(self.windows), n_duplicates=self.n_duplicates,
                      options=dict(self.options), timings=dict(self.timings), state_source=self.state_source)

    def __repr__(self) -> str:
        return (f"<waconv.ResultTables ({self.format}): {len(self.messages):,} messages, "
                f"{len(self.conversations):,} conversations, {len(self.windows):,} windows>")


def export(result: Result, output: str) -> Result | ResultTables:
    """`result` as the requested output: itself for pandas, else ResultTables."""
    if output == "pandas":
        return result
    return ResultTables(
        messages=convert(result.messages, output),
        conversations=convert(result.conversations, output),
        windows=convert(result.windows, output),
        format=output,
        n_duplicates=result.n_duplicates,
        options=dict(result.options),
        timings=dict(result.timings),
        state_source=result.state_source,
    )


def _state_of(result: Any) -> State:
    built = getattr(result, "_state", None)
    if built is None:
        if result.state_source is None:
            raise ValueError("this result keeps no state (it was not made by waconv.classify)")
        built = result.state_source()
        result._state = built
    return built
