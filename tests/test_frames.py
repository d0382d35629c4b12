"""classify reads pyarrow and polars tables as well as pandas, and returns any of the three."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pandas.testing as pdt
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import waconv
from waconv.engine import canonical as _input
from waconv.examples import TIMEZONES as EXAMPLE_TIMEZONES, log as example_log

VERDICT = ["era", "pricing_model", "conversation_id", "pricing_category", "pricing_type", "billable",
           "opens_conversation", "csw_open", "policy_violation", "duplicate", "cost"]


@pytest.fixture(scope="module")
def log() -> pd.DataFrame:
    frame = example_log()
    frame["timestamp"] = pd.to_datetime(frame["timestamp"], utc=True)
    frame["delivered_at"] = pd.to_datetime(frame["delivered_at"], utc=True, format="ISO8601")
    return frame


@pytest.fixture(scope="module")
def expected(log):
    return waconv.classify(log, timezones=EXAMPLE_TIMEZONES)


def _same_verdict(result, expected) -> None:
    pdt.assert_frame_equal(result.messages[VERDICT], expected.messages[VERDICT])
    pdt.assert_frame_equal(result.conversations, expected.conversations)
    pdt.assert_frame_equal(result.windows, expected.windows)


def test_arrow_table_and_record_batch(log, expected):
    table = pa.Table.from_pandas(log, preserve_index=False)
    _same_verdict(waconv.classify(table, timezones=EXAMPLE_TIMEZONES), expected)
    batch = table.combine_chunks().to_batches()[0]
    _same_verdict(waconv.classify(batch, timezones=EXAMPLE_TIMEZONES), expected)


def test_polars_frame_and_lazy_frame(log, expected):
    import polars as pl  # in the test extras
    frame = pl.from_pandas(log)
    _same_verdict(waconv.classify(frame, timezones=EXAMPLE_TIMEZONES), expected)
    _same_verdict(waconv.classify(frame.lazy(), timezones=EXAMPLE_TIMEZONES), expected)


def test_parquet_dictionary_columns_give_the_same_ids_as_plain_strings(log, tmp_path):
    # Parquet readers hand back dictionary-encoded strings whose dictionary order follows the
    # rows (here: newest first); ids and conversation numbering must not depend on it.
    newest_first = log.iloc[::-1].reset_index(drop=True)
    path = tmp_path / "log.parquet"
    pq.write_table(pa.Table.from_pandas(newest_first, preserve_index=False), path)
    table = pq.read_table(path, read_dictionary=["business", "user", "waba", "direction"])
    assert pa.types.is_dictionary(table.schema.field("user").type)
    dictionary = table.column("user").chunk(0).dictionary.to_pylist()
    assert dictionary != sorted(dictionary)
    _same_verdict(waconv.classify(table, timezones=EXAMPLE_TIMEZONES),
                  waconv.classify(newest_first, timezones=EXAMPLE_TIMEZONES))


def test_arrow_string_ids_never_become_python_strings(log, monkeypatch):
    table = pa.Table.from_pandas(log, preserve_index=False)

    def no_python_factorize(*args, **kwargs):
        raise AssertionError("pd.factorize was called on an Arrow string column")

    monkeypatch.setattr(_input.pd, "factorize", no_python_factorize)
    result = waconv.classify(table, timezones=EXAMPLE_TIMEZONES, price=False)
    assert len(result.messages) == len(log)


def test_other_objects_are_refused_with_the_reason():
    with pytest.raises(waconv.InputError, match="expected a pandas DataFrame, pyarrow Table or polars"):
        waconv.classify([{"business": "b"}])


def test_arrow_output_keeps_types_and_comes_back(log, expected):
    tables = waconv.classify(log, timezones=EXAMPLE_TIMEZONES, output="arrow")
    assert isinstance(tables, waconv.ResultTables) and tables.format == "arrow"
    schema = tables.messages.schema
    assert pa.types.is_dictionary(schema.field("pricing_category").type)
    assert schema.field("conversation_id").type == pa.int64()
    assert tables.messages.column("conversation_id").null_count == int(expected.messages.conversation_id.isna().sum())
    start = tables.conversations.schema.field("start").type
    assert pa.types.is_timestamp(start) and start.tz == "UTC"
    assert tables.messages.num_rows == len(log) and tables.n_duplicates == expected.n_duplicates
    _same_verdict(tables.to_pandas(), expected)


def test_polars_output(log, expected):
    import polars as pl
    tables = waconv.classify(pl.from_pandas(log), timezones=EXAMPLE_TIMEZONES, output="polars")
    assert isinstance(tables.messages, pl.DataFrame)
    assert tables.messages["pricing_type"].dtype == pl.Categorical
    assert tables.conversations.height == len(expected.conversations)
    assert tables.messages["cost"].sum() == pytest.approx(expected.messages.cost.sum())


@pytest.mark.parametrize("output", ["arrow", "polars"])
def test_converting_to_the_output_counts_in_the_timings(log, output, monkeypatch):
    """An Arrow or polars result's timings include making those tables (a user comparing
    outputs by timings must not see the conversion left out)."""
    import time

    import waconv.api

    made = waconv.api.export

    def slow_export(result, output):
        time.sleep(0.25)
        return made(result, output)

    monkeypatch.setattr(waconv.api, "export", slow_export)
    timings = waconv.classify(log, timezones=EXAMPLE_TIMEZONES, output=output).timings
    assert timings["assemble"] >= 0.25 and timings["total"] >= 0.25 + timings["prepare"] + timings["core"]


def test_unknown_output_is_refused(log):
    with pytest.raises(waconv.InputError, match="unknown output 'excel'"):
        waconv.classify(log, output="excel")
