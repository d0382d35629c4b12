"""Arrow string_view columns (polars' own layout) read in place by the core's string code
must give what the same values as large_string give: codes, uniques, vocabulary codes,
duplicate flags and whole classify results."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import waconv
from waconv import _core
from waconv.engine.duplicates import duplicate_rows
from waconv.engine.strings import arrow_buffers, encode_strings, factorize_strings
from waconv.io.frames import as_pandas_reading_views

_INLINE = 12  # bytes a view holds inline

# Values around the inline limit (12 bytes) and the 24-byte head the hashing compares inline.
_CHARACTERS = st.sampled_from(["a", "b", "0", "+", "\x00", "é", "中", "😀"])
_VALUES = st.one_of(
    st.text(_CHARACTERS, max_size=4),
    st.text(_CHARACTERS, min_size=11, max_size=14),
    st.text(_CHARACTERS, min_size=22, max_size=40),
    st.none(),
)


def views_array(values: list[str | None], buffer_bytes: int = 64) -> pa.Array:
    """A string_view array built by hand: out-of-line strings spread over data buffers of
    about `buffer_bytes` each (pyarrow's own builder would use one buffer)."""
    views = np.zeros((len(values), 16), dtype=np.uint8)
    buffers: list[bytearray] = [bytearray()]
    valid = np.ones(len(values), dtype=bool)
    for row, value in enumerate(values):
        if value is None:
            valid[row] = False
            continue
        data = value.encode()
        views[row, 0:4] = np.frombuffer(np.int32(len(data)).tobytes(), np.uint8)
        if len(data) <= _INLINE:
            views[row, 4 : 4 + len(data)] = np.frombuffer(data, np.uint8)
            continue
        if len(buffers[-1]) + len(data) > buffer_bytes and buffers[-1]:
            buffers.append(bytearray())
        views[row, 4:8] = np.frombuffer(data[:4], np.uint8)
        views[row, 8:12] = np.frombuffer(np.int32(len(buffers) - 1).tobytes(), np.uint8)
        views[row, 12:16] = np.frombuffer(np.int32(len(buffers[-1])).tobytes(), np.uint8)
        buffers[-1] += data
    validity = None if valid.all() else pa.py_buffer(np.packbits(valid, bitorder="little"))
    array = pa.Array.from_buffers(pa.string_view(), len(values),
                                  [validity, pa.py_buffer(views), *(pa.py_buffer(bytes(b)) for b in buffers)],
                                  null_count=int((~valid).sum()))
    array.validate(full=True)
    assert array.to_pylist() == values
    return array


def as_series(array: pa.Array | pa.ChunkedArray) -> pd.Series:
    return pd.Series(pd.arrays.ArrowExtensionArray(array))


def plain(array: pa.Array | pa.ChunkedArray) -> pd.Series:
    return as_series(array.cast(pa.large_string()))


def assert_same_as_large_string(views: pa.Array | pa.ChunkedArray) -> None:
    series, expected = as_series(views), plain(views)
    codes, uniques = factorize_strings(series)
    expected_codes, expected_uniques = factorize_strings(expected)
    np.testing.assert_array_equal(codes, expected_codes)
    pd.testing.assert_index_equal(uniques, expected_uniques)  # large_string, as a copied column gives
    direction = np.arange(len(series), dtype=np.int8) % 2
    np.testing.assert_array_equal(duplicate_rows(series, direction), duplicate_rows(expected, direction))
    vocabulary = sorted({v for v in views.to_pylist() if v is not None})[:3]
    found, unknown, first_null = encode_strings(series, vocabulary)
    expected_found, expected_unknown, expected_null = encode_strings(expected, vocabulary)
    assert (unknown, first_null) == (expected_unknown, expected_null)
    end = unknown if unknown >= 0 else len(series)
    np.testing.assert_array_equal(found[:end], expected_found[:end])


@settings(max_examples=150, deadline=None)
@given(values=st.lists(_VALUES, max_size=60), buffer_bytes=st.sampled_from([16, 64, 1 << 20]), data=st.data())
def test_views_equal_large_strings(values, buffer_bytes, data):
    array = views_array(values, buffer_bytes)
    assert_same_as_large_string(array)
    start = data.draw(st.integers(0, len(values)))
    length = data.draw(st.integers(0, len(values) - start))
    assert_same_as_large_string(array.slice(start, length))  # a view offset and a bitmap offset


def test_inline_and_out_of_line_strings_over_several_buffers_with_nulls():
    values = ["+5511987654", "+55119876543", "+551198765432", None, "DE.13491208655302741918", "", "a"] * 50
    array = views_array(values, buffer_bytes=40)
    assert len(array.buffers()) > 4  # validity, views and several data buffers
    assert_same_as_large_string(array)
    assert_same_as_large_string(array.slice(3, 200))
    chunked = pa.chunked_array([array.slice(0, 100), views_array(values[::-1], 30).slice(7)])
    assert_same_as_large_string(chunked)


def test_many_rows_take_the_partitioned_path():
    rng = np.random.default_rng(1)
    ids = [f"+55119{n:08d}" if n % 3 else f"user.{n:030d}" for n in rng.integers(0, 200_000, 1 << 21)]
    assert_same_as_large_string(views_array(ids, buffer_bytes=1 << 16))


def _core_view_buffers(array: pa.Array) -> list:
    found = arrow_buffers(as_series(array))
    assert found is not None
    return list(found[1])


@pytest.mark.parametrize("field, value, reason", [
    (slice(0, 4), -1, "negative length"),
    (slice(8, 12), 7, "outside its data buffers"),  # no buffer 7
    (slice(12, 16), 1 << 20, "outside its data buffers"),  # offset past the buffer's end
])
def test_core_rejects_views_outside_their_buffers(field, value, reason):
    buffers = _core_view_buffers(views_array(["a" * 20, "b" * 30]))
    views = buffers[0].copy()
    views[16 + field.start : 16 + field.stop] = np.frombuffer(np.int32(value).tobytes(), np.uint8)
    buffers[0] = views
    with pytest.raises(ValueError, match=reason):
        _core.factorize_strings(*buffers)


def test_core_rejects_views_of_the_wrong_size():
    buffers = _core_view_buffers(views_array(["a" * 20, "b"]))
    buffers[0] = buffers[0][:-1]
    with pytest.raises(ValueError, match="16 bytes per value"):
        _core.factorize_strings(*buffers)


def test_polars_columns_the_engine_reads_stay_views_and_results_match():
    pl = pytest.importorskip("polars")
    frame = pd.DataFrame({
        "business": ["b1", "b1", "b2", "b1"],
        "user": ["+5511987654321", "+5511987654321", "+4915112345678", "+5511987654321"],
        "timestamp": pd.to_datetime(["2025-08-01T10:00Z", "2025-08-01T10:00Z", "2025-08-01T11:00Z",
                                     "2025-08-02T10:00Z"], utc=True),
        "direction": ["inbound", "inbound", "outbound", "outbound"],
        "message_id": ["wamid.HBgLNTUxMTk4NzY1NDMyMRUCABIYFDNBM0Y0", "wamid.HBgLNTUxMTk4NzY1NDMyMRUCABIYFDNBM0Y0",
                       None, "short"],
    })
    table = pa.Table.from_pandas(frame, preserve_index=False)
    polars_frame = pl.from_arrow(table)
    read, views = as_pandas_reading_views(polars_frame, None)
    in_place = {name for name in read.columns if isinstance(read[name].dtype, pd.ArrowDtype)}
    assert in_place == {"user", "direction", "message_id"}  # business is copied, as before
    assert views == [read.columns.get_loc(name) for name in ("user", "direction", "message_id")]
    for output in ("pandas", "arrow", "polars"):  # polars results are the ones read from views
        expected = waconv.classify(table, price=False, output=output)
        result = waconv.classify(polars_frame, price=False, output=output)
        for name in ("messages", "conversations", "windows"):
            got, want = getattr(result, name), getattr(expected, name)
            if output == "pandas":
                pd.testing.assert_frame_equal(got, want)
            else:
                assert got.equals(want), name
                assert got.schema == want.schema if output == "arrow" else got.dtypes == want.dtypes


def test_polars_input_read_as_views_keeps_the_pandas_result_and_state_of_plain_strings():
    # From polars the engine reads the ids as views for every output; a pandas result gets
    # them as str afterwards, user_key one array with the user column, and its state is the
    # one the same rows as an Arrow table give (the state records the carried rows' dtypes).
    pl = pytest.importorskip("polars")
    frame = pd.DataFrame({
        "business": [1, 1, 2, 1, 1],
        "user": ["+5511987654321", "+5511987654321", "+4915112345678", "+5511987654321", "+4915112345678"],
        "timestamp": pd.to_datetime(["2025-08-01T10:00Z", "2025-08-01T10:00Z", "2025-08-01T11:00Z",
                                     "2025-08-02T10:00Z", "2025-08-03T09:00Z"], utc=True),
        "direction": ["inbound", "inbound", "outbound", "outbound", "outbound"],
        "template_category": [None, None, "utility", None, "marketing"],
        "message_id": ["wamid.HBgLNTUxMTk4NzY1NDMyMRUCABIYFDNBM0Y0", "wamid.HBgLNTUxMTk4NzY1NDMyMRUCABIYFDNBM0Y0",
                       None, "short", "wamid.another-one-longer-than-twelve"],
    })
    table = pa.Table.from_pandas(frame, preserve_index=False)
    expected = waconv.classify(table)
    result = waconv.classify(pl.from_arrow(table))
    for name in ("messages", "conversations", "windows"):
        pd.testing.assert_frame_equal(getattr(result, name), getattr(expected, name))
    user, key = (result.messages[name].array.__arrow_array__().chunk(0) for name in ("user", "user_key"))
    assert user.buffers()[2].address == key.buffers()[2].address  # one copy of the user ids
    assert result.state.to_bytes() == expected.state.to_bytes()


def test_string_hashes_of_views_equal_those_of_large_string():
    # The pair partition and the carried message-id hashes take any text column (views included).
    from waconv.engine.strings import text_hashes
    values = ["+5511987654321", None, "a value longer than twelve bytes", "b", "+5511987654321"]
    plain = text_hashes(pd.Series(pa.array(values, pa.large_string()).to_pandas(types_mapper=pd.ArrowDtype)))
    views = text_hashes(pd.Series(pa.array(values, pa.string_view()).to_pandas(types_mapper=pd.ArrowDtype)))
    assert views.tolist() == plain.tolist() and plain[1] == 0 and plain[0] == plain[4]
