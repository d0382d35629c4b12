"""factorize_strings (C++ hashing of Arrow string buffers) must equal pd.factorize(sort=True)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from waconv import _core
from waconv.engine.strings import encode_strings, factorize_strings

ARROW_STRING_DTYPES = [
    pytest.param("str", id="str"),
    pytest.param(pd.StringDtype("pyarrow"), id="string[pyarrow]"),
    pytest.param(pd.ArrowDtype(pa.string()), id="arrow-string"),
    pytest.param(pd.ArrowDtype(pa.large_string()), id="arrow-large_string"),
]

# Arrow strings are UTF-8: no lone surrogates. Small alphabets make repeats (and so real
# factorization) likely; the multi-byte characters exercise code point order.
_CHARACTERS = st.sampled_from(["a", "b", "0", "+", "\x00", "é", "ω", "中", "😀", "\x7f"])
_VALUES = st.one_of(
    st.text(_CHARACTERS, max_size=4),
    st.text(_CHARACTERS, min_size=14, max_size=24),  # around the 16-byte head the core compares inline
    st.text(st.characters(exclude_categories=("Cs",)), max_size=30),
    st.none(),
)


def assert_same_as_pandas(series: pd.Series) -> None:
    result = factorize_strings(series)
    assert result is not None
    codes, uniques = result
    expected_codes, expected_uniques = pd.factorize(series, sort=True)
    assert codes.dtype == np.int32
    np.testing.assert_array_equal(codes, expected_codes)
    pd.testing.assert_index_equal(uniques, expected_uniques)


@pytest.mark.parametrize("dtype", ARROW_STRING_DTYPES)
@given(values=st.lists(_VALUES, max_size=60), data=st.data())
def test_equals_pandas_on_random_series(dtype, values, data):
    series = pd.Series(values, dtype=dtype)
    assert_same_as_pandas(series)
    # A slice shares the parent's buffers with a non-zero Arrow offset.
    start = data.draw(st.integers(0, len(values)), label="start")
    stop = data.draw(st.integers(start, len(values)), label="stop")
    assert_same_as_pandas(series.iloc[start:stop])


@given(chunks=st.lists(st.lists(_VALUES, max_size=20), min_size=2, max_size=4))
def test_equals_pandas_on_chunked_arrays(chunks):
    arrow = pa.chunked_array([pa.array(chunk, pa.string()) for chunk in chunks], pa.string())
    assert_same_as_pandas(pd.Series(pd.arrays.ArrowExtensionArray(arrow)))


@pytest.mark.parametrize("dtype", ARROW_STRING_DTYPES)
def test_nulls_empty_strings_and_unicode_order(dtype):
    series = pd.Series(["b", None, "", "é", "z", "😀", "", None, "b", "中"], dtype=dtype, name="user", index=range(5, 15))
    codes, uniques = factorize_strings(series)
    np.testing.assert_array_equal(codes, [1, -1, 0, 3, 2, 5, 0, -1, 1, 4])
    assert list(uniques) == ["", "b", "z", "é", "中", "😀"]
    assert_same_as_pandas(series)


@pytest.mark.parametrize("dtype", ARROW_STRING_DTYPES)
def test_all_null_and_empty_series(dtype):
    assert_same_as_pandas(pd.Series([None, None, None], dtype=dtype))
    assert_same_as_pandas(pd.Series([], dtype=dtype))
    assert_same_as_pandas(pd.Series(["", "", ""], dtype=dtype))


def test_many_phone_numbers():
    rng = np.random.default_rng(7)
    phones = np.array([f"+55{n}" for n in rng.integers(11_900_000_000, 11_999_999_999, size=20_000)], dtype=object)
    series = pd.Series(phones[rng.integers(0, len(phones), size=200_000)], dtype="str")
    series[rng.integers(0, len(series), size=1000)] = None
    assert_same_as_pandas(series)
    assert_same_as_pandas(series.iloc[12_345:])


@pytest.mark.parametrize(
    "series",
    [
        pd.Series(["a", 1, None], dtype=object),
        pd.Series([b"a", b"b"], dtype=object),
        pd.Series(["a", "b"], dtype="category"),
        pd.Series([1, 2, 3]),
        pd.Series([b"a", b"b"], dtype=pd.ArrowDtype(pa.binary())),
    ],
    ids=["object-mixed", "object-bytes", "category", "int", "arrow-binary"],
)
def test_series_other_than_text_return_none(series):
    assert factorize_strings(series) is None


# Text in Python objects: read into Arrow's layout by the core, nulls as pandas sees them.
_OBJECT_NULLS = st.sampled_from([None, np.nan, pd.NA])


@pytest.mark.parametrize("dtype", [object, pd.StringDtype("python")], ids=["object", "string[python]"])
@settings(deadline=None)  # a shared machine's load is no failure
@given(values=st.lists(st.one_of(_VALUES, _OBJECT_NULLS), max_size=60))
def test_object_text_equals_pandas(dtype, values):
    if dtype != object:
        values = [None if v is np.nan else v for v in values]
    assert_same_as_pandas(pd.Series(values, dtype=dtype))


_NOT_TEXT = st.sampled_from([1, 2.5, b"bytes", ("a",), "\ud800", "x\udfff"])  # the last two: lone surrogates


@settings(deadline=None)
@given(values=st.lists(st.one_of(_VALUES, _OBJECT_NULLS), max_size=80), threads=st.sampled_from([1, 2, 3, 7, 16]),
       bad=st.none() | st.tuples(st.integers(min_value=0), _NOT_TEXT))
def test_strings_from_objects_equals_pyarrow_in_every_chunking(values, threads, bad):
    """The conversion runs in chunks of whole bitmap bytes on several threads, non-ASCII str
    read apart: its layout is pyarrow's, or None (the check too) for an item that is no text,
    wherever it lies."""
    if bad is not None:
        values.insert(bad[0] % (len(values) + 1), bad[1])
    array = np.empty(len(values), dtype=object)
    array[:] = values
    found = _core.strings_from_objects(array, pd.NA, threads=threads)
    assert _core.objects_are_text(array, pd.NA, threads=threads) == (bad is None)
    if bad is not None:
        assert found is None
        return
    offsets, data, validity, nulls = found
    buffers = [None if validity is None else pa.py_buffer(validity), pa.py_buffer(offsets), pa.py_buffer(data)]
    converted = pa.Array.from_buffers(pa.large_string(), len(values), buffers, null_count=nulls)
    converted.validate(full=True)
    expected = pa.array([None if v is None or v is pd.NA or v is np.nan else v for v in values], pa.large_string())
    assert converted.equals(expected)
    assert nulls == expected.null_count and (validity is None) == (nulls == 0)


def _buffers(values: list[str | None]):
    arrow = pa.array(values, pa.string())
    validity, offsets, data = arrow.buffers()
    return np.frombuffer(offsets, np.int32), np.frombuffer(data, np.uint8), validity


def test_core_accepts_int64_offsets_and_a_bitmap_offset():
    arrow = pa.array(["x", None, "a", "x", None, "b"], pa.large_string()).slice(1)
    validity, offsets, data = arrow.buffers()
    codes, first_row = _core.factorize_strings(
        np.frombuffer(offsets, np.int64)[1:], np.frombuffer(data, np.uint8),
        np.frombuffer(validity, np.uint8), 1, 5,
    )
    np.testing.assert_array_equal(codes, [-1, 0, 2, -1, 1])
    np.testing.assert_array_equal(first_row, [1, 4, 2])


def test_core_rejects_inconsistent_buffers():
    offsets, data, _ = _buffers(["ab", "c"])
    with pytest.raises(ValueError, match="size \\+ 1"):
        _core.factorize_strings(offsets, data, None, 0, 3)
    with pytest.raises(ValueError, match="past the end of data"):
        _core.factorize_strings(offsets, data[:2], None, 0, 2)
    with pytest.raises(ValueError, match="non-decreasing"):
        _core.factorize_strings(np.array([0, 2, 1], np.int32), data, None, 0, 2)
    with pytest.raises(ValueError, match="negative"):
        _core.factorize_strings(np.array([-1, 2, 3], np.int32), data, None, 0, 2)
    with pytest.raises(ValueError, match="int32 or int64"):
        _core.factorize_strings(offsets.astype(np.float64), data, None, 0, 2)
    with pytest.raises(ValueError, match="bitmap"):
        _core.factorize_strings(offsets, data, np.zeros(1, np.uint8), 7, 2)


_WORDS = st.sampled_from(["inbound", "outbound", "Outbound", "", "out", "outbound ", "é"])


@pytest.mark.parametrize("dtype", [*ARROW_STRING_DTYPES, pytest.param(object, id="object")])
@given(values=st.lists(st.one_of(_WORDS, st.none()), max_size=60), data=st.data())
def test_encode_strings_matches_a_python_lookup(dtype, values, data):
    vocabulary = ["inbound", "outbound", ""]
    start = data.draw(st.integers(0, len(values)), label="start")
    stop = data.draw(st.integers(start, len(values)), label="stop")
    series = pd.Series(values, dtype=dtype).iloc[start:stop]  # sliced: a non-zero Arrow offset
    window = values[start:stop]
    codes, first_unknown, first_null = encode_strings(series, vocabulary)
    unknown = [i for i, v in enumerate(window) if v is not None and v not in vocabulary]
    assert first_unknown == (unknown[0] if unknown else -1)
    known = window[: first_unknown] if unknown else window
    nulls = [i for i, v in enumerate(known) if v is None]
    if nulls or not unknown:  # a null after the first unknown row may or may not be seen
        assert first_null == (nulls[0] if nulls else -1)
    expected = [-1 if v is None else vocabulary.index(v) for v in known]
    assert codes[: len(known)].tolist() == expected


def _fresh(word: str) -> str:
    return "".join(list(word))  # equal text in another object: only the bytes can tell


@given(values=st.lists(st.one_of(_WORDS, _WORDS.map(_fresh), st.sampled_from([None, np.nan, pd.NA])), max_size=200))
def test_encode_strings_of_objects_match_their_arrow_strings(values):
    """Objects are encoded in place, a str seen before known by its address: shared and
    distinct objects of the same text, and every kind of null, get the codes the same
    values get as Arrow strings."""
    vocabulary = ["inbound", "outbound", ""]
    objects = pd.Series(values, dtype=object)
    arrow = pd.Series([None if v is None or v is pd.NA or v is np.nan else v for v in values],
                      dtype="string[pyarrow]")
    codes, first_unknown, first_null = encode_strings(objects, vocabulary, null_code=7)
    expected_codes, expected_unknown, expected_null = encode_strings(arrow, vocabulary, null_code=7)
    assert first_unknown == expected_unknown
    known = len(values) if first_unknown < 0 else first_unknown  # what follows is unspecified
    assert codes[:known].tolist() == expected_codes[:known].tolist()
    if first_unknown < 0 or 0 <= first_null < known or 0 <= expected_null < known:
        assert first_null == expected_null


@settings(deadline=None)
@given(values=st.lists(st.one_of(_WORDS, _WORDS.map(_fresh), st.just("ωout"), st.sampled_from([None, np.nan, pd.NA])),
                       max_size=120),
       threads=st.sampled_from([1, 2, 3, 7, 16]), bad=st.none() | st.tuples(st.integers(min_value=0), _NOT_TEXT))
def test_encode_objects_in_every_chunking(values, threads, bad):
    """Encoded in chunks on several threads, a non-ASCII str ("é") coded apart with the GIL
    held ("ω…" is unknown): every code, the first unknown and the first null row are what
    a lookup of each value gives, and an item that is no text (in any chunk) declines the column."""
    if bad is not None:
        values.insert(bad[0] % (len(values) + 1), bad[1])
    array = np.empty(len(values), dtype=object)
    array[:] = values
    vocabulary, codes = ["inbound", "outbound", "", "é"], [0, 1, 2, 3]
    found = _core.encode_objects(array, pd.NA, vocabulary, codes, 7, threads=threads)
    if bad is not None:
        assert found is None
        return
    encoded, first_unknown, first_null = found
    texts = [None if v is None or v is pd.NA or v is np.nan else v for v in values]
    unknown = [i for i, v in enumerate(texts) if v is not None and v not in vocabulary]
    nulls = [i for i, v in enumerate(texts) if v is None]
    assert first_unknown == (unknown[0] if unknown else -1)
    assert first_null == (nulls[0] if nulls else -1)
    assert encoded.tolist() == [7 if v is None else vocabulary.index(v) if v in vocabulary else 0 for v in texts]


def test_encode_strings_declines_other_dtypes():
    assert encode_strings(pd.Series(["inbound", 1], dtype=object), ["inbound"]) is None
    assert encode_strings(pd.Series(["inbound", ["inbound"]], dtype=object), ["inbound"]) is None
    assert encode_strings(pd.Series(["inbound", "in\ud800"], dtype=object), ["inbound"]) is None
    assert encode_strings(pd.Series(["inbound"], dtype="category"), ["inbound"]) is None


@given(values=st.lists(st.integers(-(2**63), 2**63 - 1) | st.integers(-3, 3), max_size=80),
       threads=st.integers(1, 3))
def test_factorize_integers_equals_pandas(values, threads):
    array = np.array(values, dtype=np.int64)
    codes, uniques = _core.factorize_integers(array, threads)
    expected_codes, expected_uniques = pd.factorize(array, sort=True)
    np.testing.assert_array_equal(codes, expected_codes)
    np.testing.assert_array_equal(uniques, expected_uniques)


@pytest.mark.parametrize("rows", [1_000, 250_000])  # either side of the threaded user-id read
def test_classify_reads_each_object_text_column_once(monkeypatch, rows):
    """A check pass and then a conversion pass over the same Python objects cost 0.08-0.13 s
    per 10M-row column: each object column of text the core reads as Arrow strings is gone
    over once, its check included, on the caller's thread and on the user-id worker's, and
    each column of few values (direction, template category) once, encoded in place."""
    import waconv

    passes: list[tuple[str, int]] = []  # ("check/convert <first value>", number of values)
    strings_from_objects, objects_are_text = _core.strings_from_objects, _core.objects_are_text
    encode_objects = _core.encode_objects

    def converted(values, na):
        passes.append((f"convert {values[0]}", len(values)))
        return strings_from_objects(values, na)

    def checked(values, na):
        passes.append((f"check {values[0]}", len(values)))
        return objects_are_text(values, na)

    def encoded(values, na, *vocabulary):
        passes.append((f"encode {values[0]}", len(values)))
        return encode_objects(values, na, *vocabulary)

    monkeypatch.setattr(_core, "strings_from_objects", converted)
    monkeypatch.setattr(_core, "encode_objects", encoded)
    monkeypatch.setattr(_core, "objects_are_text", checked)
    frame = pd.DataFrame({
        "message_id": pd.Series([f"wamid.{i}" for i in range(rows)], dtype=object),
        "business": pd.Series(["acme"] * rows, dtype=object),
        "user": pd.Series([f"+1555{i % 97:07d}" for i in range(rows)], dtype=object),
        "timestamp": pd.date_range("2025-08-01", periods=rows, freq="s", tz="UTC"),
        "direction": pd.Series(["inbound", "outbound"] * (rows // 2), dtype=object),
        "template_category": pd.Series([None, "utility"] * (rows // 2), dtype=object),
    })
    waconv.classify(frame, rate_card=None)
    over_rows = sorted(what for what, length in passes if length == rows)  # not the users' uniques
    assert over_rows == sorted([*(f"convert {v}" for v in ("wamid.0", "acme", "+15550000000")),
                                "encode inbound", "encode None"])
