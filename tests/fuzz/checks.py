"""What must hold when a call succeeds (SPEC §5 and README "Decisions").

Each check raises Broken(name, detail); the name is what findings are grouped by, so keep
names stable and specific.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

import waconv

TRACER = "__row"
PRICING_CATEGORIES = set(waconv.PRICING_CATEGORIES) - {""}
PRICING_TYPES = set(waconv.PRICING_TYPES) - {""}
ERAS = set(waconv.ERAS) - {""}
WINDOW_KINDS = {"customer_service", "free_entry_point"}
VERDICT_COLUMNS = ["era", "pricing_model", "conversation_id", "pricing_category", "pricing_type", "billable",
                   "opens_conversation", "csw_open", "policy_violation", "duplicate", "us_marketing_paused", "charge_reason"]


class Broken(Exception):
    """A broken invariant: `name` groups findings, `detail` says where."""

    def __init__(self, name: str, detail: str) -> None:
        super().__init__(f"{name}: {detail}")
        self.name = name
        self.detail = detail


def expect(condition: Any, name: str, detail: str = "") -> None:
    if not bool(condition):
        raise Broken(name, detail)


def _rows(mask: Any) -> list[int]:
    return [int(i) for i in np.flatnonzero(np.asarray(mask, dtype=bool))[:5]]


def column_values(table: Any, name: Any) -> list | None:
    """A column of the user's table as a list, or None when it is absent or ambiguous."""
    try:
        if isinstance(table, pd.DataFrame):
            if list(table.columns).count(name) != 1:
                return None
            return table[name].tolist()
        if isinstance(table, (pa.Table, pa.RecordBatch)):
            found = table.schema.get_all_field_indices(str(name))
            return table.column(found[0]).to_pylist() if len(found) == 1 else None
        if type(table).__module__.startswith("polars"):
            frame = table.collect() if hasattr(table, "collect") else table
            return frame[str(name)].to_list() if list(frame.columns).count(str(name)) == 1 else None
    except Exception:  # the user's table itself is odd: nothing to compare against
        return None
    return None


def row_count(table: Any) -> int | None:
    if isinstance(table, pd.DataFrame):
        return len(table)
    if isinstance(table, (pa.Table, pa.RecordBatch)):
        return table.num_rows
    if type(table).__module__.startswith("polars"):
        return (table.collect() if hasattr(table, "collect") else table).height
    return None


def table_length(table: Any) -> int:
    if isinstance(table, pd.DataFrame):
        return len(table)
    if isinstance(table, pa.Table):
        return table.num_rows
    return table.height  # polars


def _same_column(out: pd.Series, given: pd.Series, name: Any) -> None:
    try:
        pd.testing.assert_series_equal(out, given, check_names=False, check_index=False)
        return
    except AssertionError as error:
        raise Broken("input_column_changed", f"{name!r}: {str(error)[:300]}") from None
    except Exception:  # noqa: BLE001 - pandas cannot compare this dtype (e.g. Arrow string_view)
        pass
    try:
        a, b = out.astype(object).tolist(), given.astype(object).tolist()
    except Exception:  # noqa: BLE001
        return
    same = len(a) == len(b) and all(x is y or x == y or (pd.isna(x) is True and pd.isna(y) is True)
                                    for x, y in zip(a, b))
    expect(same, "input_column_changed", f"{name!r}: values differ")


def check_classify(result: Any, *, table: Any, n: int | None, directions: list | None, options: dict,
                   warned: list[str]) -> None:
    """Every row back once, in order; the verdicts consistent with each other (SPEC §5)."""
    output = options.get("output", "pandas")
    if output in ("arrow", "polars"):
        expect(isinstance(result, waconv.ResultTables), "result_type", f"output={output!r} gave {type(result)}")
        kinds = pa.Table if output == "arrow" else type(result.messages)
        for name in ("messages", "conversations", "windows"):
            expect(isinstance(getattr(result, name), kinds), "result_type", f"{name} is {type(getattr(result, name))}")
        if n is not None:
            expect(table_length(result.messages) == n, "rows_lost", f"{table_length(result.messages)} rows out, {n} in")
        result = result.to_pandas()
    expect(isinstance(result, waconv.Result), "result_type", f"got {type(result).__name__}")
    m, conversations, windows = result.messages, result.conversations, result.windows
    if n is not None:
        expect(len(m) == n, "rows_lost", f"{len(m)} rows out, {n} in")
    tracer = column_values(table, TRACER)
    if tracer is not None and list(m.columns).count(TRACER) == 1:
        got = m[TRACER].tolist()
        expect(got == tracer, "rows_reordered", f"tracer {got[:10]} != {tracer[:10]}")
    if isinstance(table, pd.DataFrame) and table.columns.is_unique and len(m) == len(table) and output == "pandas":
        expect(m.index.equals(table.index), "index_changed", f"{list(m.index[:5])} != {list(table.index[:5])}")
        time_columns = {(options.get("columns") or {}).get(c, c) if isinstance(options.get("columns"), dict) else c
                        for c in ("timestamp", "delivered_at")}
        for name in table.columns:
            if list(m.columns).count(name) != 1:
                raise Broken("input_column_lost", f"column {name!r} is not once in result.messages")
            if name in time_columns and isinstance(m[name].dtype, pd.DatetimeTZDtype) and \
                    not isinstance(table[name].dtype, pd.DatetimeTZDtype):
                continue  # text and object times come back parsed, as UTC datetimes (engine/tables.py)
            _same_column(m[name], table[name], name)
    for name, vocabulary in (("pricing_category", PRICING_CATEGORIES), ("pricing_type", PRICING_TYPES)):
        odd = m[name].notna() & ~m[name].isin(vocabulary)
        expect(not odd.any(), "vocabulary", f"{name} has {set(m.loc[odd, name])}")
    expect(m["era"].notna().all() and m["era"].isin(ERAS).all(), "vocabulary", f"era {set(m['era'])}")
    category_null, type_null = m["pricing_category"].isna(), m["pricing_type"].isna()
    expect((category_null == type_null).all(), "category_type_nulls_differ",
           f"rows {_rows(category_null != type_null)}")
    billable = m["billable"].astype(bool)
    regular = (m["pricing_type"] == "regular").fillna(False).astype(bool)
    expect((billable == regular).all(), "billable_not_regular", f"rows {_rows(billable != regular)}")
    if directions is not None and len(directions) == len(m):
        inbound = np.array([isinstance(v, str) and v.strip().lower() == "inbound" for v in directions], dtype=bool)
        for name in ("pricing_category", "pricing_type", "conversation_id"):
            bad = inbound & m[name].notna().to_numpy()
            expect(not bad.any(), "inbound_priced", f"{name} set on inbound rows {_rows(bad)}")
    duplicate = m["duplicate"].astype(bool).to_numpy()
    for name in ("pricing_category", "pricing_type", "conversation_id"):
        bad = duplicate & m[name].notna().to_numpy()
        expect(not bad.any(), "duplicate_priced", f"{name} set on duplicate rows {_rows(bad)}")
    expect(int(duplicate.sum()) == result.n_duplicates, "n_duplicates",
           f"{int(duplicate.sum())} flagged, n_duplicates={result.n_duplicates}")
    if "cost" in m.columns:
        cost = m["cost"].to_numpy(dtype=float)
        expect(not (cost < 0).any(), "negative_cost", f"rows {_rows(cost < 0)}: {cost[cost < 0][:3]}")
        expect(not np.isinf(cost).any(), "infinite_cost", f"rows {_rows(np.isinf(cost))}")
        not_billable = ~billable.to_numpy()
        bad = not_billable & ~(cost == 0)
        expect(not bad.any(), "cost_on_free_row", f"rows {_rows(bad)}: {cost[bad][:3]}")
        nan = np.isnan(cost)
        if nan.any():
            expect(any("NaN" in w or "no published rate" in w for w in warned), "nan_cost_without_warning",
                   f"rows {_rows(nan)}")
        rate = m["rate"].to_numpy(dtype=float)
        expect(not (rate < 0).any() and not np.isinf(rate).any(), "bad_rate", f"rows {_rows((rate < 0) | np.isinf(rate))}")
        expect(not (duplicate & (cost != 0) & ~nan).any(), "duplicate_priced", "cost on a duplicate row")
        per_message = m.loc[m["conversation_id"].isna(), "cost"]
        if "cost" in conversations.columns:
            total = m["cost"].sum()
            parts = pd.concat([conversations["cost"], per_message]).sum()
            expect(math.isclose(total, parts, rel_tol=1e-9, abs_tol=1e-9) or (math.isnan(total) and math.isnan(parts)),
                   "bill_mismatch", f"messages {total} != conversations + per-message {parts}")
    ids = m["conversation_id"].dropna()
    if len(conversations):
        expect(conversations["conversation_id"].is_unique, "conversation_ids", "conversation ids repeat")
        expect(set(ids) <= set(conversations["conversation_id"]), "conversation_ids",
               "a message's conversation_id is not in result.conversations")
        expect(int(conversations["n_messages"].sum()) == len(ids), "conversation_sizes",
               f"n_messages sum {int(conversations['n_messages'].sum())} != {len(ids)} rows with a conversation")
        opened = conversations["opened_by"].to_numpy()
        expect(((opened >= 0) & (opened < len(m))).all(), "opened_by", f"opened_by outside 0..{len(m)}")
        if ((opened >= 0) & (opened < len(m))).all():
            own = m["conversation_id"].iloc[opened].to_numpy(dtype=object)
            expect((own == conversations["conversation_id"].to_numpy(dtype=object)).all(), "opened_by",
                   "the opening row does not belong to its conversation")
        expect((conversations["start"] <= conversations["end"]).all(), "conversation_ends_before_start", "")
    else:
        expect(len(ids) == 0, "conversation_ids", "rows carry conversation ids but there are no conversations")
    if len(windows):
        expect(windows["kind"].isin(WINDOW_KINDS).all(), "vocabulary", f"window kinds {set(windows['kind'])}")
        expect((windows["start"] < windows["end"]).all(), "window_ends_before_start", "")


def check_events(events: Any, what: str) -> None:
    """An adapter's output (read_webhooks, read_sunshine): canonical, one row per message."""
    expect(isinstance(events, pd.DataFrame), f"{what}_type", f"got {type(events).__name__}")
    for name in ("business", "user", "timestamp", "direction", "message_id"):
        expect(name in events.columns, f"{what}_columns", f"no {name!r} column")
    expect(events["message_id"].notna().all(), f"{what}_null_id", f"rows {_rows(events['message_id'].isna())}")
    expect(events["direction"].isin(["inbound", "outbound"]).all(), f"{what}_direction", "")
    stamp = events["timestamp"]
    expect(isinstance(stamp.dtype, pd.DatetimeTZDtype), f"{what}_timestamp", f"dtype {stamp.dtype}")
    expect(stamp.notna().all(), f"{what}_timestamp", "null timestamp")
    if len(events):
        expect(stamp.min() >= pd.Timestamp("2000-01-01", tz="UTC") and stamp.max() < pd.Timestamp("2100-01-01", tz="UTC"),
               f"{what}_timestamp", "outside 2000..2100")
    if "delivered_at" in events.columns:
        early = (events["delivered_at"] < stamp).fillna(False).to_numpy(dtype=bool)
        expect(not early.any(), f"{what}_delivered_early", f"rows {_rows(early)}")
    repeated = events[["message_id", "direction"]].duplicated().to_numpy()
    expect(not repeated.any(), f"{what}_duplicates_kept", f"rows {_rows(repeated)}")
