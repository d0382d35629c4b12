"""waconv on Spark: the same phases as one classify, as Spark stages.

1. keys over the whole input: `monotonically_increasing_id` as each row's position (the
   frame's order); identity from the distinct id combinations, resolved once on the driver
   and broadcast back; duplicates by `row_number` over (message_id, direction), on those
   columns alone, their positions shipped to phase 1 (which flags the rows);
2. phase 1: `repartition(N, business, user key)`, `sortWithinPartitions(position)`,
   `mapInArrow` into the core per partition (`phases.classify_partition`); it emits one
   Arrow schema holding three kinds of rows: messages, conversations and windows;
3. phase 2: the rows with a unit and the conversations, repartitioned by portfolio (every
   monthly counter (docs/rules.md) lies inside one portfolio when each phone number and WABA belongs to
   one portfolio; otherwise one partition), `mapInArrow` into `phases.price_gathered`;
4. joins on the row position and conversation id patch phase 1's verdicts.

Codes cross the stages as bytes and become their names at the end: the messages come back
with classify's columns (categories as strings) plus `waconv_row`, the input position.
Phases 1 and 2 are persisted and computed in `classify`: a worker's InputError, and phase
2's pricing warnings, come back as rows of kind 3 (a pickled REPORT) that `classify` raises
and warns (`scale/remote.py`), since Spark would wrap the one and log the other.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from waconv import _core
from waconv._errors import InputError
from waconv.io.frames import _plain_strings, as_pandas
from waconv.scale.keys import id_columns, links, resolve_combinations, sorted_member
from waconv.scale.local import Tables
from waconv.scale.options import ScaleOptions
from waconv.scale.phases import DUPLICATE, KEY, ROW, canonical_names, classify_partition
from waconv.scale.remote import Notes, as_bytes, first_error, from_bytes, price_for_caller, report_at_caller

KIND = "_waconv_kind"  # 0 message, 1 conversation, 2 window, 3 a worker's report (REPORT)
REPORT = "_waconv_report"  # a pickled InputError, or phase 2's warnings (remote.Notes)
_REPORT_KIND = 3
_MONOTONIC_PARTITION_BITS = 33  # monotonically_increasing_id: partition << 33 | row within it
PHASE_TWO_KEY = "_waconv_phase_two"
OUTPUT_ROW = "waconv_row"
_CODES = {"era": _core.ERAS, "pricing_model": _core.PRICING_MODELS, "pricing_category": _core.PRICING_CATEGORIES,
          "pricing_type": _core.PRICING_TYPES, "charge_reason": _core.CHARGE_REASONS}
_BOOLS = ("opens_conversation", "csw_open", "policy_violation", "us_marketing_paused")
# Phase 1's per-kind fields (besides the input's columns, ROW, KEY and DUPLICATE).
_MESSAGE_FIELDS = [(name, pa.int8()) for name in _CODES] + [("conversation_id", pa.int64())] + [
    (name, pa.bool_()) for name in _BOOLS] + [
    ("country", pa.string()), ("g_business", pa.string()), ("g_waba", pa.string()), ("g_portfolio", pa.string()),
    ("g_timestamp", pa.int64()), ("g_delivered_at", pa.int64())]
_CONVERSATION_FIELDS = [("c_business", pa.string()), ("c_user", pa.string()), ("c_waba", pa.string()),
                        ("c_portfolio", pa.string()), ("c_era", pa.int8()), ("c_category", pa.int8()),
                        ("c_pricing_type", pa.int8()), ("c_start", pa.int64()), ("c_end", pa.int64()),
                        ("c_n_messages", pa.int64()), ("c_opened_by", pa.int64())]
_WINDOW_FIELDS = [("w_kind", pa.string()), ("w_business", pa.string()), ("w_user", pa.string()),
                  ("w_start", pa.timestamp("us", "UTC")), ("w_end", pa.timestamp("us", "UTC"))]
_PRICED_FIELDS = [(KIND, pa.int8()), (ROW, pa.int64()), ("conversation_id", pa.int64()),
                  ("pricing_category", pa.int8()), ("pricing_type", pa.int8()), ("charge_reason", pa.int8()),
                  ("market", pa.string()),
                  ("tier", pa.string()), ("rate", pa.float64()), ("cost", pa.float64()), ("currency", pa.string()),
                  ("rate_card", pa.string()), (REPORT, pa.binary())]


def classify(frame: Any, *, partitions: int | None = None, **options: Any) -> Tables:
    """waconv.classify over a Spark DataFrame: messages, conversations and windows as Spark
    DataFrames. partitions: partitions of pairs for phase 1 (default: the session's
    spark.sql.shuffle.partitions). Workers need waconv importable by the Python Spark
    starts (set PYSPARK_PYTHON to the interpreter that has it).

    This call runs phases 1 and 2 (persisted; the tables are joins over them, left lazy),
    so bad input raises `waconv.InputError` here, not pyspark's exception, naming the row
    by its input position; and pricing's warnings (units priced from another card, rates
    missing, users without a country) are raised here as `waconv.WaconvWarning`, with the
    counts of every portfolio group summed, not in the executors' logs."""
    from pyspark.sql import DataFrame, Window
    from pyspark.sql import functions as F
    from pyspark.sql.pandas.types import to_arrow_schema

    if not isinstance(frame, DataFrame):
        raise InputError("events", None, f"expected a Spark DataFrame, got {type(frame).__name__}")
    checked = ScaleOptions.of(**options)
    spark = frame.sparkSession
    input_schema = to_arrow_schema(frame.schema, timezone="UTC")
    head = as_pandas(_plain_strings(input_schema.empty_table()))
    names = canonical_names(head, checked)
    ids = id_columns(head, checked)
    n = partitions or int(spark.conf.get("spark.sql.shuffle.partitions"))

    numbered = frame.withColumn(ROW, F.monotonically_increasing_id())
    keyed = numbered
    if links(ids):
        columns = list(ids.values())
        distinct = keyed.select(*columns).distinct().toPandas()
        distinct[KEY] = resolve_combinations(distinct, ids)
        mapping = spark.createDataFrame(distinct.rename(columns={c: f"_m_{c}" for c in columns}).astype(
            {f"_m_{c}": object for c in columns}))
        condition = [keyed[c].eqNullSafe(mapping[f"_m_{c}"]) for c in columns]
        keyed = keyed.join(F.broadcast(mapping), condition, "left").drop(*[f"_m_{c}" for c in columns])
    else:
        keyed = keyed.withColumn(KEY, F.col(names["user"]))
    duplicates = _duplicate_rows(numbered, names, Window, F)
    keyed_schema = to_arrow_schema(keyed.schema, timezone="UTC")
    phase_one_schema = pa.schema([pa.field(KIND, pa.int8()), *[f.with_nullable(True) for f in keyed_schema],
                                  pa.field(DUPLICATE, pa.bool_()),
                                  *[pa.field(n_, t) for n_, t in _MESSAGE_FIELDS + _CONVERSATION_FIELDS + _WINDOW_FIELDS
                                    + [(REPORT, pa.binary())]]])
    spark_one = _spark_schema(phase_one_schema)
    phase_one = (keyed.repartition(n, F.col(names["business"]), F.col(KEY)).sortWithinPartitions(ROW)
                 .mapInArrow(_phase_one(checked, phase_one_schema, duplicates), spark_one)).persist()
    _raise_first_error(_reports(phase_one, F), numbered, F)

    units = phase_one.filter((F.col(KIND) == 0) & (F.col("pricing_type") >= 0))
    conversations = phase_one.filter(F.col(KIND) == 1)
    nested = units.groupBy("g_business").agg(F.countDistinct("g_portfolio").alias("n")).filter("n > 1").limit(1) \
        .count() == 0 and units.groupBy("g_waba").agg(F.countDistinct("g_portfolio").alias("n")) \
        .filter("n > 1").limit(1).count() == 0
    portfolio = F.coalesce(F.col("g_portfolio"), F.col("c_portfolio"))
    # Only what _phase_two reads crosses this shuffle, not every input column.
    to_price = units.unionByName(conversations).select(*_phase_two_inputs(names),
                                                       (portfolio if nested else F.lit("")).alias(PHASE_TWO_KEY))
    priced_schema = pa.schema([pa.field(name, kind) for name, kind in _PRICED_FIELDS])
    priced = (to_price.repartition(n if nested else 1, PHASE_TWO_KEY)
              .mapInArrow(_phase_two(checked, names), _spark_schema(priced_schema))).persist()
    reports = _reports(priced, F)
    _raise_first_error(reports, numbered, F)
    report_at_caller((r for r in reports if isinstance(r, Notes)), lambda row: _input_position(row, numbered, F))
    return _tables(phase_one, priced, input_schema, checked)


def _reports(stage: Any, F: Any) -> list[Any]:
    """The reports a stage's workers handed back (computing the stage, which is persisted)."""
    return [from_bytes(row[REPORT]) for row in stage.filter(F.col(KIND) == _REPORT_KIND).select(REPORT).collect()]


def _report_batch(value: Any, schema: pa.Schema) -> Iterator[pa.RecordBatch]:
    return _batches({KIND: pa.array([_REPORT_KIND], pa.int8()), REPORT: pa.array([as_bytes(value)], pa.binary())},
                    1, schema)


def _raise_first_error(reports: list[Any], numbered: Any, F: Any) -> None:
    """The workers' first InputError, raised here, its row as the input position."""
    error = first_error(r for r in reports if isinstance(r, InputError))
    if error is None:
        return
    if error.row is None or error.file is not None:
        raise error
    raise InputError(error.column, _input_position(error.row, numbered, F), error.reason)


def _input_position(row: int, numbered: Any, F: Any) -> int:
    """A row's position in the input, from its monotonically_increasing_id: its partition's
    rows come after those of every earlier partition (one count, on an error path only)."""
    partition = row >> _MONOTONIC_PARTITION_BITS
    earlier = numbered.where(F.shiftright(F.col(ROW), _MONOTONIC_PARTITION_BITS) < partition).count()
    return int(earlier + (row & ((1 << _MONOTONIC_PARTITION_BITS) - 1)))


def _duplicate_rows(numbered: Any, names: dict[str, str], Window: Any, F: Any) -> np.ndarray:
    """The positions of the rows repeating an earlier (message_id, direction), sorted.

    The window runs on those three columns only, not on the whole rows (it was a shuffle and
    sort of every input column), and only the repeats (about 1 % of rows in a webhook log)
    reach the driver: phase 1 flags them from this array, which Spark ships with the
    function (PySpark broadcasts a large pickled function itself)."""
    if "message_id" not in names:
        return np.zeros(0, np.int64)
    message_id = F.col(names["message_id"])
    direction = F.lower(F.trim(F.col(names["direction"]).cast("string"))).alias("_waconv_direction")
    first = Window.partitionBy(message_id, "_waconv_direction").orderBy(ROW)
    repeats = (numbered.select(message_id, direction, ROW).where(message_id.isNotNull())
               .withColumn("_waconv_seen", F.row_number().over(first)).where("_waconv_seen > 1").select(ROW))
    return np.sort(repeats.toArrow().column(ROW).to_numpy().astype(np.int64))


def _phase_two_inputs(names: dict[str, str]) -> list[str]:
    """The columns _phase_two reads of a message or conversation row."""
    inputs = [names[name] for name in ("message_id", "user_country") if name in names]
    return [KIND, ROW, KEY, "g_business", "g_waba", "g_portfolio", "g_timestamp", "g_delivered_at", *inputs,
            *_CODES, "conversation_id", *_BOOLS, "c_era", "c_category", "c_pricing_type", "c_start", "c_end",
            "c_n_messages", "c_opened_by"]


def _spark_schema(schema: pa.Schema) -> Any:
    from pyspark.sql.pandas.types import from_arrow_schema

    return from_arrow_schema(schema, prefer_timestamp_ntz=False)  # instants, not wall times


def _phase_one(options: ScaleOptions, schema: pa.Schema, duplicates: np.ndarray) -> Any:
    """The mapInArrow function of phase 1: one partition of pairs, in row order
    (duplicates: the sorted positions of the repeated rows of the whole input)."""

    def run(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        from pyspark import TaskContext

        batches = [b for b in batches if b.num_rows]
        if not batches:
            return
        table = pa.Table.from_batches(batches)
        table = table.sort_by(ROW)
        rows = table.column(ROW).to_numpy()
        table = table.append_column(DUPLICATE, pa.array(sorted_member(rows, duplicates)))
        frame = as_pandas(_plain_strings(table))
        try:
            part = classify_partition(frame, options, TaskContext.get().partitionId())
        except InputError as error:  # the driver raises it: Spark would wrap it in its own type
            yield from _report_batch(error, schema)
            return
        yield from _phase_one_batches(table, part, schema)

    return run


def _input_names(schema: pa.Schema) -> list[str]:
    own = {KIND, REPORT} | {n for n, _ in _MESSAGE_FIELDS + _CONVERSATION_FIELDS + _WINDOW_FIELDS}
    return [f.name for f in schema if f.name not in own]


def _text(values: Any) -> pa.Array:
    """Each value as str(value), nulls as nulls: str runs once per distinct value (a
    partition repeats its businesses and users many times), Arrow takes them per row."""
    codes, uniques = pd.factorize(values if isinstance(values, (pd.Series, pd.Categorical)) else
                                  pd.Series(values, dtype=object))
    text = pa.array([str(v) for v in uniques], pa.string())
    return text.take(pa.array(codes, mask=codes < 0))


def _phase_one_batches(table: pa.Table, part: Any, schema: pa.Schema) -> Iterator[pa.RecordBatch]:
    n = table.num_rows
    v = part.verdicts
    with_unit = v["pricing_type"] >= 0
    g = part.gathered  # the rows with a unit, in row order, as the messages
    columns: dict[str, Any] = {KIND: pa.array(np.zeros(n, np.int8))}
    for name in _input_names(schema):
        columns[name] = table.column(name)
    for name in _CODES:
        columns[name] = pa.array(v[name].astype(np.int8))
    columns["conversation_id"] = pa.array(v["conversation_id"], mask=v["conversation_id"] < 0)
    for name in _BOOLS:
        columns[name] = pa.array(v[name].astype(bool))
    columns["country"] = _text(part.country) if part.country is not None else pa.nulls(n, pa.string())
    for name in ("business", "waba", "portfolio"):
        values = np.full(n, None, dtype=object)
        values[with_unit] = g[name].to_numpy()
        columns[f"g_{name}"] = _text(values)
    for name in ("timestamp", "delivered_at"):
        values = np.zeros(n, np.int64)
        values[with_unit] = g[name].to_numpy(np.int64)
        columns[f"g_{name}"] = pa.array(values, mask=~with_unit)
    yield from _batches(columns, n, schema)
    c = part.conversations
    k = len(c)
    if k:
        portfolio = g.set_index(ROW)["portfolio"].reindex(c["opened_by"].to_numpy()).to_numpy()
        yield from _batches({
            KIND: pa.array(np.ones(k, np.int8)), "conversation_id": pa.array(c["conversation_id"].to_numpy()),
            "c_business": _text(c["business"]), "c_user": _text(c["user"]), "c_waba": _text(c["waba"]),
            "c_portfolio": _text(portfolio), "c_era": pa.array(c["era"].to_numpy(np.int8)),
            "c_category": pa.array(c["category"].to_numpy(np.int8)),
            "c_pricing_type": pa.array(c["pricing_type"].to_numpy(np.int8)),
            "c_start": pa.array(c["start"].to_numpy(np.int64)), "c_end": pa.array(c["end"].to_numpy(np.int64)),
            "c_n_messages": pa.array(c["n_messages"].to_numpy(np.int64)),
            "c_opened_by": pa.array(c["opened_by"].to_numpy(np.int64)),
        }, k, schema)
    w = part.windows
    if len(w):
        yield from _batches({
            KIND: pa.array(np.full(len(w), 2, np.int8)), "w_kind": _text(w["kind"]), "w_business": _text(w["business"]),
            "w_user": _text(w["user"]), "w_start": pa.array(w["start"]), "w_end": pa.array(w["end"]),
        }, len(w), schema)


def _batches(columns: dict[str, Any], n: int, schema: pa.Schema) -> Iterator[pa.RecordBatch]:
    arrays = [columns[f.name].cast(f.type) if f.name in columns else pa.nulls(n, f.type) for f in schema]
    yield from pa.Table.from_arrays(arrays, schema=schema).combine_chunks().to_batches(max_chunksize=65_536)


def _phase_two(options: ScaleOptions, names: dict[str, str]) -> Any:
    """The mapInArrow function of phase 2: the rows with a unit and the conversations of
    some portfolios (or of all)."""

    def run(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        batches = [b for b in batches if b.num_rows]
        if not batches:
            return
        table = pa.Table.from_batches(batches)
        kind = table.column(KIND)
        # Split in Arrow: a column with nulls would reach pandas as float64, and nanosecond
        # instants do not survive that.
        rows = table.filter(pc.equal(kind, 0)).to_pandas()
        c = table.filter(pc.equal(kind, 1)).to_pandas()
        gathered = pd.DataFrame({
            ROW: rows[ROW].to_numpy(np.int64), "user": rows[KEY].astype(str).to_numpy(),
            "business": rows["g_business"].to_numpy(), "waba": rows["g_waba"].to_numpy(),
            "portfolio": rows["g_portfolio"].to_numpy(),
            "timestamp": rows["g_timestamp"].to_numpy(np.int64), "delivered_at": rows["g_delivered_at"].to_numpy(np.int64),
            **{name: rows[names[name]].to_numpy() for name in ("message_id", "user_country") if name in names},
            **{name: rows[name].to_numpy(np.int8) for name in _CODES},
            "conversation_id": rows["conversation_id"].fillna(-1).to_numpy(np.int64),
            **{name: rows[name].to_numpy(bool).astype(np.uint8) for name in _BOOLS},
        })
        conversations = pd.DataFrame({
            "conversation_id": c["conversation_id"].to_numpy(np.int64), "era": c["c_era"].to_numpy(np.int8),
            "category": c["c_category"].to_numpy(np.int8), "pricing_type": c["c_pricing_type"].to_numpy(np.int8),
            "start": c["c_start"].to_numpy(np.int64), "end": c["c_end"].to_numpy(np.int64),
            "n_messages": c["c_n_messages"].to_numpy(np.int64), "opened_by": c["c_opened_by"].to_numpy(np.int64),
        })
        schema = pa.schema([pa.field(name, kind) for name, kind in _PRICED_FIELDS])
        try:
            priced, notes = price_for_caller(gathered, conversations, options)
        except InputError as error:  # the driver raises it: Spark would wrap it in its own type
            yield from _report_batch(error, schema)
            return
        if notes.gaps:
            yield from _report_batch(notes, schema)
        r, pconv = priced.rows, priced.conversations
        row_columns: dict[str, Any] = {KIND: pa.array(np.zeros(len(r), np.int8)), ROW: pa.array(r[ROW].to_numpy()),
                                       "pricing_category": pa.array(r["pricing_category"].astype(np.int8)),
                                       "pricing_type": pa.array(r["pricing_type"].astype(np.int8)),
                                       "charge_reason": pa.array(r["charge_reason"].astype(np.int8))}
        conversation_columns: dict[str, Any] = {KIND: pa.array(np.ones(len(pconv), np.int8)),
                                                "conversation_id": pa.array(pconv["conversation_id"].to_numpy()),
                                                "pricing_type": pa.array(pconv["pricing_type"].astype(np.int8)),
                                                "pricing_category": pa.array(pconv["category"].astype(np.int8))}
        if options.price:
            for name in ("market", "tier", "currency", "rate_card"):
                row_columns[name] = _text(r[name])
            row_columns["rate"] = pa.array(r["rate"].to_numpy(np.float64))
            row_columns["cost"] = pa.array(r["cost"].to_numpy(np.float64))
            conversation_columns["market"] = _text(pconv["market"])
            conversation_columns["currency"] = _text(pconv["currency"])
            conversation_columns["cost"] = pa.array(pconv["cost"].to_numpy(np.float64))
        yield from _batches(row_columns, len(r), schema)
        if len(pconv):
            yield from _batches(conversation_columns, len(pconv), schema)

    return run


def _label(column: str, names: tuple[str, ...] | list[str]) -> Any:
    from pyspark.sql import functions as F

    code = F.col(column)
    return F.when(code >= 0, F.element_at(F.array(*[F.lit(v) for v in names]), code.cast("int") + 1))


def _tables(phase_one: Any, priced: Any, input_schema: pa.Schema, options: ScaleOptions) -> Tables:
    from pyspark.sql import functions as F

    p_rows = priced.filter(F.col(KIND) == 0).select(
        F.col(ROW).alias("_p_row"), *[F.col(c).alias(f"_p_{c}") for c in
                                      ("pricing_category", "pricing_type", "charge_reason", "market", "tier",
                                       "rate", "cost",
                                       "currency", "rate_card")])
    m = phase_one.filter(F.col(KIND) == 0).join(p_rows, F.col(ROW) == F.col("_p_row"), "left")
    for name in ("pricing_category", "pricing_type", "charge_reason"):
        m = m.withColumn(name, F.coalesce(F.col(f"_p_{name}"), F.col(name)))
    pricing_type = F.col("pricing_type")
    columns = [F.col(f.name) for f in input_schema] + [
        F.col(KEY).alias("user_key"), _label("era", _core.ERAS).alias("era"),
        _label("pricing_model", _core.PRICING_MODELS).alias("pricing_model"), F.col("conversation_id"),
        _label("pricing_category", _core.PRICING_CATEGORIES).alias("pricing_category"),
        _label("pricing_type", _core.PRICING_TYPES).alias("pricing_type"),
        F.coalesce(pricing_type == _core.PRICING_TYPES.index("regular"), F.lit(False)).alias("billable"),
        *[F.col(name) for name in _BOOLS], F.col(DUPLICATE).alias("duplicate"),
        _label("charge_reason", _core.CHARGE_REASONS).alias("charge_reason")]
    if options.price:
        columns += [F.col("country"), F.col("_p_market").alias("market"), F.col("_p_tier").alias("tier"),
                    F.coalesce(F.col("_p_rate"), F.lit(float("nan"))).alias("rate"),
                    F.coalesce(F.col("_p_cost"), F.lit(0.0)).alias("cost"), F.col("_p_currency").alias("currency"),
                    F.col("_p_rate_card").alias("rate_card")]
    messages = m.select(*columns, F.col(ROW).alias(OUTPUT_ROW))

    p_conversations = priced.filter(F.col(KIND) == 1).select(
        F.col("conversation_id").alias("_p_id"), F.col("pricing_type").alias("_p_type"),
        F.col("pricing_category").alias("_p_category"), F.col("market").alias("_p_market"),
        F.col("cost").alias("_p_cost"), F.col("currency").alias("_p_currency"))
    c = phase_one.filter(F.col(KIND) == 1).join(p_conversations, F.col("conversation_id") == F.col("_p_id"), "left")
    conversation_columns = [
        F.col("conversation_id"), F.col("c_business").alias("business"), F.col("c_user").alias("user"),
        F.col("c_waba").alias("waba"), _label("c_era", _core.ERAS).alias("era"),
        _label("_p_category", _core.PRICING_CATEGORIES).alias("category"),
        _label("_p_type", _core.PRICING_TYPES).alias("pricing_type"),
        # integer division: nanoseconds since 1970 are past a double's exact range
        F.timestamp_micros(F.expr("c_start div 1000")).alias("start"),
        F.timestamp_micros(F.expr("c_end div 1000")).alias("end"),
        F.col("c_n_messages").alias("n_messages"), F.col("c_opened_by").alias("opened_by")]
    if options.price:
        conversation_columns += [F.col("_p_market").alias("market"), F.col("_p_cost").alias("cost"),
                                 F.col("_p_currency").alias("currency")]
    conversations = c.select(*conversation_columns)
    windows = phase_one.filter(F.col(KIND) == 2).select(
        F.col("w_kind").alias("kind"), F.col("w_business").alias("business"), F.col("w_user").alias("user"),
        F.col("w_start").alias("start"), F.col("w_end").alias("end"))
    return Tables(messages, conversations, windows)


def local_session(cores: int = 2, shuffle_partitions: int = 4) -> Any:
    """A local Spark session whose workers run this interpreter (tests, benchmarks, notebooks)."""
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    from pyspark.sql import SparkSession

    return (SparkSession.builder.master(f"local[{cores}]").appName("waconv")
            .config("spark.sql.shuffle.partitions", str(shuffle_partitions)).config("spark.ui.enabled", "false")
            .config("spark.sql.session.timeZone", "UTC").getOrCreate())
