"""The second peer: what an analyst with a polars pipeline writes, polars + the same numba loop.

``classify_polars(frame)`` takes a polars DataFrame with the benchmark log's columns and
does everything around the scan in polars (multi-threaded, on every core):

1. prepare: ``user`` to integer codes through a categorical, ``business`` to its dense
   rank, one int64 pair code from both; times as int64 ns, ``direction == "outbound"``,
   template category codes (``replace_strict``); rows repeating an earlier (message id,
   direction) flagged with ``is_first_distinct``;
2. sort: the rows that are not repeats by (pair, effective time, inbound first), stable
   (ties keep input order, decision 1 of docs/rules.md), as a row order;
3. scan: ``numba_baseline``'s loop over that order, verdicts written at input positions;
4. assemble: the input frame plus the verdict columns, as polars enums (categoricals with
   the fixed category lists), a nullable conversation id and booleans.

It does what ``numba_baseline`` does, no more (see there for what both leave out).
"""

from __future__ import annotations

import time

import numpy as np
import polars as pl

import numba_baseline as nb


def prepare(frame: pl.DataFrame) -> tuple[dict, np.ndarray]:
    """The arrays the scan reads (one per row, NumPy) and the scan's row order."""
    outbound = pl.col("direction") == "outbound"
    delivered = pl.col("delivered_at").dt.cast_time_unit("ns").cast(pl.Int64)
    sent = pl.col("timestamp").dt.cast_time_unit("ns").cast(pl.Int64)
    n_businesses = frame.get_column("business").n_unique()
    template = pl.col("template_category").replace_strict(nb.TEMPLATE_CATEGORIES, default=0, return_dtype=pl.Int8)
    columns = [
        (pl.col("user").cast(pl.Categorical).to_physical().cast(pl.Int64) * n_businesses
         + pl.col("business").rank("dense").cast(pl.Int64) - 1).alias("pair"),
        sent.alias("timestamp"),
        delivered.fill_null(nb.NAT).alias("delivered_at"),
        outbound.alias("outbound"),
        pl.when(outbound).then(template).otherwise(0).cast(pl.Int8).alias("template"),
        pl.when(outbound & pl.col("delivered_at").is_not_null()).then(delivered).otherwise(sent).alias("effective"),
    ]
    if "message_id" in frame.columns:
        first = pl.struct("message_id", "direction").is_first_distinct() | pl.col("message_id").is_null()
        columns.append((~first).alias("duplicate"))
    arrays = frame.select(columns).with_row_index("row")
    kept = arrays.filter(~pl.col("duplicate")) if "duplicate" in arrays.columns else arrays
    order = kept.sort(["pair", "effective", "outbound"], maintain_order=True).get_column("row")
    out = {name: arrays.get_column(name).to_numpy() for name in arrays.columns if name not in ("row", "effective")}
    return out, order.to_numpy().astype(np.int64)


def assemble(frame: pl.DataFrame, out: dict) -> pl.DataFrame:
    def enum(name: str, categories: list[str]) -> pl.Series:
        codes = out[name]  # -1: no verdict (inbound rows have no category, repeats nothing)
        values = pl.Series(name, categories, dtype=pl.Enum(categories)).gather(np.maximum(codes, 0))
        return values.scatter(np.flatnonzero(codes < 0), None)

    ids = pl.Series("conversation_id", out["conversation_id"])
    added = [
        enum("era", nb.ERAS),
        enum("pricing_model", nb.PRICING_MODELS),
        enum("pricing_category", nb.PRICING_CATEGORIES),
        enum("pricing_type", nb.PRICING_TYPES),
        pl.when(ids >= 0).then(ids).alias("conversation_id"),
        pl.Series("billable", out["pricing_type"] == 0),
        pl.Series("opens_conversation", out["opens_conversation"]),
        pl.Series("csw_open", out["csw_open"]),
        pl.Series("policy_violation", out["policy_violation"]),
    ]
    if "duplicate" in out:
        added.append(pl.Series("duplicate", out["duplicate"]))
    return frame.with_columns(added)


def classify_polars(frame: pl.DataFrame) -> tuple[pl.DataFrame, dict]:
    """Messages in input order with the verdict columns, and timings."""
    started = time.perf_counter()
    arrays, order = prepare(frame)
    prepared = time.perf_counter()
    out, n_conversations = nb.scan(arrays, order)
    if "duplicate" in arrays:
        out["duplicate"] = arrays["duplicate"]
    scanned = time.perf_counter()
    messages = assemble(frame, out)
    finished = time.perf_counter()
    # polars sorts inside prepare (one lazy plan would fuse it anyway): "sort" is part of it
    timings = {"prepare": prepared - started, "sort": 0.0, "scan": scanned - prepared,
               "assemble": finished - scanned, "total": finished - started, "n_conversations": n_conversations}
    return messages, timings
