"""The (message_id, direction) duplicate check: the core's hash set against pandas.

The reference is what waconv did before the check moved into C++, DataFrame.duplicated
on the ids and directions with null ids never counted; it is restated here so that the
test does not depend on the engine's own fallback.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import waconv
from waconv.engine.duplicates import duplicate_rows

ARROW_STRING_DTYPES = ["str", pd.StringDtype("pyarrow"), pd.ArrowDtype(pa.string()), pd.ArrowDtype(pa.large_string())]
TEXT_DTYPES = [*ARROW_STRING_DTYPES, object]


def reference(ids: pd.Series, direction: np.ndarray) -> np.ndarray:
    keyed = pd.DataFrame({"id": ids.to_numpy(), "direction": direction})
    return keyed.duplicated().to_numpy() & ids.notna().to_numpy()


def assert_same(ids: pd.Series, direction: np.ndarray, threads: int = 0) -> None:
    found = duplicate_rows(ids, direction, threads=threads)
    assert found.dtype == np.uint8 and found.shape == (len(ids),)
    np.testing.assert_array_equal(found.astype(bool), reference(ids, direction))


# A small pool makes repeats likely; long ids share their first 24 bytes (the part of a
# string the core's hash keys hold inline) and differ only after them.
_LONG = "wamid.HBgLMTU1NTEyMzQ1NjcVAgASGBQzQTI"
_TEXT = st.one_of(
    st.sampled_from(["wamid.1", "wamid.2", "", "é", "中😀", "a\x00", "a", _LONG + "0", _LONG + "1", _LONG]),
    st.text(max_size=30).filter(lambda s: all(not 0xD800 <= ord(c) <= 0xDFFF for c in s)),
)
_ROWS = st.lists(st.tuples(st.one_of(_TEXT, st.none()), st.integers(0, 1)), max_size=80)


@pytest.mark.parametrize("dtype", TEXT_DTYPES, ids=str)
@settings(deadline=None)  # a shared machine's load is no failure
@given(rows=_ROWS, data=st.data())
def test_text_ids_as_pandas(dtype, rows, data):
    ids = pd.Series([i for i, _ in rows], dtype=dtype)
    direction = np.array([d for _, d in rows], dtype=np.int8)
    threads = data.draw(st.integers(0, 4), label="threads")
    assert_same(ids, direction, threads)
    # A slice shares its parent's buffers with a non-zero Arrow offset (validity bits too).
    start = data.draw(st.integers(0, len(rows)), label="start")
    assert_same(ids.iloc[start:], direction[start:], threads)


@settings(deadline=None)  # a shared machine's load is no failure
@given(chunks=st.lists(_ROWS, min_size=2, max_size=4))
def test_chunked_arrow_ids(chunks):
    arrow = pa.chunked_array([pa.array([i for i, _ in chunk], pa.string()) for chunk in chunks], pa.string())
    direction = np.array([d for chunk in chunks for _, d in chunk], dtype=np.int8)
    assert_same(pd.Series(pd.arrays.ArrowExtensionArray(arrow)), direction)


# Object columns as users build them: ints and floats beside strings, NaN, None and pd.NA.
_MIXED = st.one_of(_TEXT, st.integers(-3, 3), st.sampled_from([1.0, 2.5, np.nan, None, pd.NA, True]))


@settings(deadline=None)  # a shared machine's load is no failure
@given(rows=st.lists(st.tuples(_MIXED, st.integers(0, 1)), max_size=60))
def test_mixed_object_ids_as_pandas(rows):
    ids = pd.Series([i for i, _ in rows], dtype=object)
    assert_same(ids, np.array([d for _, d in rows], dtype=np.int8))


@pytest.mark.parametrize("dtype", ["int64", "Int64", "float64", "uint64"])
@settings(deadline=None)  # a shared machine's load is no failure
@given(rows=st.lists(st.tuples(st.one_of(st.integers(0, 6), st.none()), st.integers(0, 1)), max_size=60),
       threads=st.integers(0, 3))
def test_numeric_ids_as_pandas(dtype, rows, threads):
    values = [i for i, _ in rows]
    if dtype in ("int64", "uint64"):
        values = [0 if v is None else v for v in values]
    ids = pd.Series(values, dtype=dtype)
    assert_same(ids, np.array([d for _, d in rows], dtype=np.int8), threads)


@pytest.mark.parametrize("dtype", TEXT_DTYPES, ids=str)
@pytest.mark.parametrize("threads", [1, 2, 7])
def test_large_log_on_several_threads(dtype, threads):
    # Big enough for every partition's table to hold thousands of ids; repeats far apart
    # and right after their first occurrence.
    rng = np.random.default_rng(threads)
    n = 60_000
    pool = np.array([f"wamid.{k:020x}" for k in range(n)], dtype=object)
    ids = pd.Series(pool[rng.integers(0, n, n)], dtype=dtype)
    ids[rng.random(n) < 0.02] = None
    assert_same(ids, rng.integers(0, 2, n).astype(np.int8), threads)


def test_first_occurrence_wins_and_directions_are_apart():
    ids = pd.Series(["m1", "m1", "m2", None, None, "m1", "m2"], dtype="str")
    direction = np.array([0, 1, 0, 0, 0, 1, 1], dtype=np.int8)
    np.testing.assert_array_equal(duplicate_rows(ids, direction), [0, 0, 0, 0, 0, 1, 0])


@pytest.mark.parametrize("kind", ["str", "object", "arrow", "polars"])
def test_classify_flags_the_same_rows_from_every_input_kind(kind):
    log = waconv.synthetic.events(n_users=60, days=10, seed=3, duplicate_rate=0.1)
    expected = reference(log["message_id"].astype(object), (log["direction"] == "outbound").to_numpy(np.int8))
    assert expected.any()
    if kind == "object":
        log = log.astype({name: object for name in log.columns if log[name].dtype == "str"})
    elif kind in ("arrow", "polars"):
        log = pa.Table.from_pandas(log, preserve_index=False)
        if kind == "polars":
            pl = pytest.importorskip("polars")
            log = pl.from_arrow(log)
    result = waconv.classify(log, price=False)
    messages = result.messages
    np.testing.assert_array_equal(messages["duplicate"].to_numpy(dtype=bool), expected)
    assert result.n_duplicates == expected.sum()
