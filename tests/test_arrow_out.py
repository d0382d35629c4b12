"""Result tables as Arrow: the columns laid over their own memory give exactly the table
pa.Table.from_pandas writes (types, nulls, values, pandas metadata), whatever the mix."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pandas.testing as pdt
import pyarrow as pa
from hypothesis import given, settings
from hypothesis import strategies as st

import waconv
from waconv.io.arrow_out import table_from_pandas
from waconv.io.frames import from_arrow
from waconv.synthetic import events as synthetic_events, timezones as synthetic_timezones

NAT = np.iinfo(np.int64).min


def _column(kind: str, n: int, rng: np.random.Generator) -> pd.Series:
    holes = rng.random(n) < 0.3
    if kind == "category":
        codes = rng.integers(0, 3, n).astype(np.int8)
        codes[holes] = -1
        return pd.Series(pd.Categorical.from_codes(codes, ["marketing", "utility", "service"]))
    if kind == "ordered category":
        codes = rng.integers(0, 300, n).astype(np.int16)  # int16 codes
        codes[holes] = -1
        return pd.Series(pd.Categorical.from_codes(codes, [f"c{k:03d}" for k in range(300)], ordered=True))
    if kind == "int category":
        return pd.Series(pd.Categorical(rng.integers(0, 4, n)))
    if kind == "bool":
        return pd.Series(rng.random(n) < 0.5)
    if kind == "float":
        values = rng.random(n)
        values[holes] = np.nan
        return pd.Series(values)
    if kind.startswith("time"):
        unit, zone = {"time": ("us", "UTC"), "time ns": ("ns", None), "time s": ("s", "America/Sao_Paulo")}[kind]
        values = rng.integers(0, 2_000_000_000, n) * {"s": 1, "us": 10**6, "ns": 10**9}[unit]
        values[holes] = NAT
        series = pd.Series(values.view(f"datetime64[{unit}]"))
        return series.dt.tz_localize("UTC").dt.tz_convert(zone) if zone else series
    if kind == "Int64":
        return pd.Series(pd.array(np.where(holes, None, rng.integers(-5, 5, n)), dtype="Int64"))
    if kind == "str":
        return pd.Series(np.where(holes, None, rng.integers(0, 9, n).astype(str)), dtype="str")
    if kind == "object":
        return pd.Series(np.where(holes, None, rng.integers(0, 9, n).astype(str)), dtype=object)
    return pd.Series(rng.integers(0, 9, n))  # int64


KINDS = ["category", "ordered category", "int category", "bool", "float", "time", "time ns", "time s",
         "Int64", "str", "object", "int64"]


def _assert_same_table(frame: pd.DataFrame) -> None:
    expected = pa.Table.from_pandas(frame, preserve_index=False)
    got = table_from_pandas(frame)
    got.validate(full=True)
    assert got.schema.equals(expected.schema, check_metadata=True)
    assert got.equals(expected)
    pdt.assert_frame_equal(from_arrow(got), from_arrow(expected))


@settings(max_examples=60, deadline=None)
@given(kinds=st.lists(st.sampled_from(KINDS), min_size=1, max_size=8),
       n=st.integers(0, 40), seed=st.integers(0, 2**32 - 1), step=st.sampled_from([1, 2]))
def test_table_from_pandas_is_from_pandas(kinds, n, seed, step):
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame({f"{kind} {k}": _column(kind, n, rng) for k, kind in enumerate(kinds)})
    _assert_same_table(frame.iloc[::step])  # every other row too: no column is contiguous then


def test_a_results_tables_are_from_pandas_own():
    log = synthetic_events(n_users=80, days=30, start="2025-06-01", seed=3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = waconv.classify(log, timezones=synthetic_timezones(log))
    for table in (result.messages, result.conversations, result.windows):
        _assert_same_table(table)
