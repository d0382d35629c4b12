"""Fast sorted factorization of Arrow-backed string columns (user ids).

``pd.factorize(series, sort=True)`` on 10M phone numbers takes seconds, most of it building
and sorting Python-level objects. Here the C++ core hashes the Arrow buffers directly and
returns the same codes plus, for each distinct string, the first row holding it; the uniques
are then taken from the series itself so they keep its exact dtype.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

import numpy as np
import pandas as pd
import pyarrow as pa

from waconv import _core

_INT32_MAX = np.iinfo(np.int32).max
_VIEW_BYTES = 16  # Arrow's string_view: one 16-byte view per value


def _without_view_type(data_type: pa.DataType) -> pa.DataType:
    """large_string for string_view, large_binary for binary_view, any other type as it is."""
    # The view types exist from pyarrow 16; older versions have neither.
    is_string_view = getattr(pa.types, "is_string_view", None)
    if is_string_view is not None and is_string_view(data_type):
        return pa.large_string()
    is_binary_view = getattr(pa.types, "is_binary_view", None)
    if is_binary_view is not None and is_binary_view(data_type):
        return pa.large_binary()
    return data_type


def _is_view(data_type: pa.DataType) -> bool:
    return _without_view_type(data_type) != data_type


def without_views(data: pa.ChunkedArray) -> pa.ChunkedArray:
    """string_view / binary_view columns (also as dictionary values) as large_string /
    large_binary: pandas cannot sort or factorize view types and Arrow cannot decode their
    dictionaries, while the core reads the offsets-and-data layout."""
    data_type = data.type
    if pa.types.is_dictionary(data_type) and _is_view(data_type.value_type):
        plain = _without_view_type(data_type.value_type)
        # Arrow has no kernel to decode a dictionary of views: the dictionary is cast first.
        chunks = [pa.DictionaryArray.from_arrays(chunk.indices, chunk.dictionary.cast(plain)) for chunk in data.chunks]
        return pa.chunked_array(chunks, type=pa.dictionary(data_type.index_type, plain, data_type.ordered))
    if _is_view(data_type):
        return data.cast(_without_view_type(data_type))
    return data


def without_string_views(series: pd.Series) -> pd.Series:
    """A pandas column backed by an Arrow view type as the same values in large_string /
    large_binary (see without_views); any other column as it is."""
    dtype = series.dtype
    if not isinstance(dtype, pd.ArrowDtype):
        return series
    data_type = dtype.pyarrow_dtype
    if not (_is_view(data_type) or (pa.types.is_dictionary(data_type) and _is_view(data_type.value_type))):
        return series
    data = series.array.__arrow_array__()
    plain = without_views(data if isinstance(data, pa.ChunkedArray) else pa.chunked_array([data]))
    return pd.Series(pd.arrays.ArrowExtensionArray(plain), index=series.index, name=series.name, copy=False)


def is_string_view(data_type: pa.DataType) -> bool:
    is_view = getattr(pa.types, "is_string_view", None)  # pyarrow >= 16
    return is_view is not None and is_view(data_type)


def _is_arrow_string(dtype: object) -> bool:
    if isinstance(dtype, pd.StringDtype):
        return dtype.storage == "pyarrow"
    if isinstance(dtype, pd.ArrowDtype):
        data_type = dtype.pyarrow_dtype
        return pa.types.is_string(data_type) or pa.types.is_large_string(data_type) or is_string_view(data_type)
    return False


def _single_array(data: pa.Array | pa.ChunkedArray) -> pa.Array:
    """One contiguous string/large_string array (copies only when there are several chunks)."""
    if isinstance(data, pa.Array):
        return data
    if data.num_chunks == 1:
        return data.chunk(0)
    if pa.types.is_string(data.type):
        # Concatenated int32 offsets could overflow past 2 GiB of characters.
        total = sum(chunk.buffers()[2].size if chunk.buffers()[2] is not None else 0 for chunk in data.chunks)
        if total > _INT32_MAX:
            data = data.cast(pa.large_string())
    return data.combine_chunks()


def arrow_buffers(series: pd.Series | pd.Index) -> tuple[pa.Array, tuple] | None:
    """The Arrow string array behind a series and its buffers as the core's string functions
    take them (see array_buffers); None for any other dtype."""
    if not _is_arrow_string(series.dtype):
        return None
    arrow = _single_array(series.array.__arrow_array__())
    found = array_buffers(arrow)
    return None if found is None else (arrow, found)


def array_buffers(arrow: pa.Array) -> tuple | None:
    """A string, large_string or string_view array's buffers as the core's string functions
    take them (offsets, data, validity, validity offset, size); None for any other type.
    A string_view array is read in place: its views (uint8, 16 bytes a value) stand for the
    offsets and the list of its data buffers for the data."""
    if is_string_view(arrow.type):
        return _view_buffers(arrow)
    if not (pa.types.is_string(arrow.type) or pa.types.is_large_string(arrow.type)):
        return None
    size = len(arrow)
    _, offsets_buffer, data_buffer = arrow.buffers()
    offset_type = np.int32 if pa.types.is_string(arrow.type) else np.int64
    # Buffers are zero-copy NumPy views; a sliced array starts `arrow.offset` values (and bits) in.
    offsets = (np.frombuffer(offsets_buffer, dtype=offset_type)[arrow.offset : arrow.offset + size + 1]
               if offsets_buffer is not None else np.zeros(1, offset_type))
    data = np.frombuffer(data_buffer, dtype=np.uint8) if data_buffer is not None else np.empty(0, np.uint8)
    return offsets, data, _validity(arrow), arrow.offset, size


def _validity(arrow: pa.Array) -> np.ndarray | None:
    validity_buffer = arrow.buffers()[0]
    if validity_buffer is None or arrow.null_count == 0:
        return None
    return np.frombuffer(validity_buffer, dtype=np.uint8)


def _views(arrow: pa.Array) -> np.ndarray:
    """The 16-byte views of a string_view array's own rows, as a (rows, 16) uint8 array."""
    views = np.frombuffer(arrow.buffers()[1], dtype=np.uint8).reshape(-1, _VIEW_BYTES)
    return views[arrow.offset : arrow.offset + len(arrow)]


def _view_buffers(arrow: pa.Array) -> tuple:
    data = [np.frombuffer(buffer, dtype=np.uint8) for buffer in arrow.buffers()[2:]]
    return _views(arrow).reshape(-1), data, _validity(arrow), arrow.offset, len(arrow)


def take_views(arrow: pa.Array, rows: np.ndarray) -> pa.Array:
    """Rows of a string_view array as large_string, which pandas can index and sort (Arrow's
    take has no kernel for views): their views are gathered and point into the same data."""
    views = np.ascontiguousarray(_views(arrow)[rows])
    buffers = [None, pa.py_buffer(views), *arrow.buffers()[2:]]
    if arrow.null_count > 0:
        valid = arrow.is_valid().to_numpy(zero_copy_only=False)[rows]
        buffers[0] = pa.py_buffer(np.packbits(valid, bitorder="little"))
        nulls = int(len(rows) - valid.sum())
    else:
        nulls = 0
    taken = pa.Array.from_buffers(pa.string_view(), len(rows), buffers, null_count=nulls)
    return taken.cast(pa.large_string())


def _is_object_text(dtype: object) -> bool:
    return dtype == object or (isinstance(dtype, pd.StringDtype) and dtype.storage == "python")


# Object columns already converted by a check (checked_object_text), by id, with the
# series itself so that no other object can take its id while the entry lives.
_CONVERTED: ContextVar[dict[int, tuple[pd.Series, pa.Array]] | None] = ContextVar("waconv_converted", default=None)


@contextmanager
def converting_once() -> Iterator[None]:
    """Within it, checked_object_text(series, keep=True) keeps the Arrow strings its check
    made, and the next object_strings of that same series takes them: one pass over the
    Python objects for the check and the core's reading (a check pass, then a conversion,
    cost 0.08-0.13 s more per 10M-row column). Worker threads see it when they run in a
    copy of the caller's context (contextvars.copy_context().run)."""
    token = _CONVERTED.set({})
    try:
        yield
    finally:
        _CONVERTED.reset(token)


def checked_object_text(series: pd.Series, keep: bool = False) -> bool:
    """Whether an object column holds only ``str`` with UTF-8 bytes (no lone surrogate) and
    nulls. keep: a reader will take the column as Arrow strings (object_strings), so inside
    converting_once the check converts it and keeps that for the reader."""
    converted = _CONVERTED.get()
    if not keep or converted is None:
        return bool(_core.objects_are_text(series.to_numpy(dtype=object), pd.NA))
    arrow = _convert_objects(series)
    if arrow is None:
        return False
    converted[id(series)] = (series, arrow)
    return True


def object_strings(series: pd.Series) -> pa.Array | None:
    """An object column (or pandas' Python-backed strings) holding only ``str`` and nulls
    (None, NaN, pd.NA) as an Arrow large_string array, built by the core in two passes over
    the objects (each on every core, the GIL released); None for any other column (numbers
    among the strings, any other dtype)."""
    if not _is_object_text(series.dtype):
        return None
    converted = _CONVERTED.get()
    if converted is not None:
        kept = converted.pop(id(series), None)
        if kept is not None and kept[0] is series:
            return kept[1]
    return _convert_objects(series)


def _convert_objects(series: pd.Series) -> pa.Array | None:
    found = _core.strings_from_objects(series.to_numpy(dtype=object), pd.NA)
    if found is None:
        return None
    offsets, data, validity, nulls = found
    buffers = [None if validity is None else pa.py_buffer(validity), pa.py_buffer(offsets), pa.py_buffer(data)]
    return pa.Array.from_buffers(pa.large_string(), len(series), buffers, null_count=nulls)


def as_arrow_text(series: pd.Series) -> pd.Series:
    """An object column of str and nulls as the same values Arrow-backed (see
    object_strings), for the core's string code; any other column as it is."""
    arrow = object_strings(series)
    if arrow is None:
        return series
    return pd.Series(pd.arrays.ArrowExtensionArray(arrow), index=series.index, name=series.name, copy=False)


def factorize_strings(series: pd.Series, partitions: int = 0) -> tuple[np.ndarray, pd.Index] | None:
    """``pd.factorize(series, sort=True)`` for Arrow-backed string series and object columns
    of ``str`` and nulls, or None for any other column (the caller then falls back to
    ``pd.factorize``).

    Codes are int32 (-1 for null) and equal pandas' codes; uniques are sorted in code point
    order and have the dtype pandas would give them. `partitions`: threads hashing the
    strings of a large column (0: every core).
    """
    found = arrow_buffers(series)
    if found is None and _is_object_text(series.dtype):
        found = arrow_buffers(as_arrow_text(series))  # the uniques still come from `series`
    if found is None:
        return None
    arrow, buffers = found
    if len(arrow) == 0:
        empty = pa.array([], pa.large_string()) if is_string_view(arrow.type) else None
        return np.empty(0, dtype=np.int32), pd.Index(series.array[:0] if empty is None
                                                     else pd.arrays.ArrowExtensionArray(empty))
    codes, first_row = _core.factorize_strings(*buffers, partitions=partitions)
    if is_string_view(arrow.type):  # the uniques as large_string, as a copied column would give them
        return codes, pd.Index(pd.arrays.ArrowExtensionArray(take_views(arrow, first_row)))
    if series.dtype == object:  # pd.Index would infer pandas' str dtype for them
        return codes, pd.Index(series.to_numpy()[first_row], dtype=object)
    return codes, pd.Index(series.array.take(first_row))


def encode_strings(
    series: pd.Series, vocabulary: list[str], codes: list[int] | None = None, null_code: int = -1
) -> tuple[np.ndarray, int, int] | None:
    """Exact-spelling codes of a text series (Arrow-backed, or objects as object_strings
    reads them) against a short vocabulary:
    (int8 array: codes[k] for vocabulary[k] (default k), null_code for null; first row spelled
    otherwise or -1; first null row or -1), or None for any other column. The array is
    unspecified after an unknown row."""
    codes = list(range(len(vocabulary))) if codes is None else codes
    if _is_object_text(series.dtype) and not _was_converted(series):
        # Few distinct str objects, known by address: no Arrow copy of the column is needed.
        return _core.encode_objects(series.to_numpy(dtype=object), pd.NA, vocabulary, codes, null_code)
    found = arrow_buffers(as_arrow_text(series))  # object columns of str read as Arrow strings
    if found is None:
        return None
    return _core.encode_strings(*found[1], vocabulary, codes, null_code)


def _was_converted(series: pd.Series) -> bool:
    converted = _CONVERTED.get()
    return converted is not None and id(series) in converted


def text_hashes(values: pd.Series) -> np.ndarray:
    """A 64-bit hash of each value's text that is the same in every process and for every
    column type of the same text (Arrow or object `str`, or numbers by their `str`): the
    core's string hash, on every core. Nulls of text hash to 0."""
    hashes = hashes_if_text(values)
    if hashes is None:  # values that are not all text (numbers, mixed objects): their text
        text = pa.array(values.astype(str).to_numpy(dtype=object), pa.large_string())
        hashes = _core.string_hashes(*array_buffers(text))
    return hashes


def hashes_if_text(values: pd.Series) -> np.ndarray | None:
    """text_hashes of a column of text (Arrow-backed, or object `str` and nulls); None for
    any other column."""
    found = arrow_buffers(as_arrow_text(values))
    return None if found is None else _core.string_hashes(*found[1])
