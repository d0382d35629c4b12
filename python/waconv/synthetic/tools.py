"""Vectorised NumPy building blocks for synthetic message logs.

Shared by :mod:`waconv.synthetic` (demo/doc logs) and ``benchmarks/synthetic_log.py`` (the
benchmark log). Nothing here loops over rows in Python: string columns are assembled as
Arrow arrays from byte buffers or dictionary codes, so 10M-row columns take well under a
second.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd

try:  # pandas >= 3 stores strings in Arrow; building them there avoids 10M Python objects
    import pyarrow as pa
except ImportError:  # pragma: no cover - pandas 2 without pyarrow
    pa = None

SECOND = 1_000_000_000  # ns
MINUTE = 60 * SECOND
HOUR = 3600 * SECOND
DAY = 24 * HOUR
NAT = np.iinfo(np.int64).min  # int64 view of NaT


def segment_cumsum(values: np.ndarray, group: np.ndarray, first_of_group: np.ndarray) -> np.ndarray:
    """Cumulative sum of `values` restarting at every group (a group's elements contiguous).

    group[i]: group number of element i; first_of_group[g]: index of group g's first
    element. The first value of each group is included (callers zero it if needed).
    """
    total = np.cumsum(values)
    before = total[first_of_group] - values[first_of_group]  # sum before each group's first element
    return total - before[group]


def segment_arange(counts: np.ndarray) -> np.ndarray:
    """0, 1, .., counts[0]-1, 0, 1, .., counts[1]-1, ...: the position inside each segment."""
    counts = np.asarray(counts, dtype=np.int64)
    total = int(counts.sum())
    first = np.cumsum(counts) - counts
    return np.arange(total, dtype=np.int64) - np.repeat(first, counts)


def unique_sorted(values: np.ndarray) -> np.ndarray:
    """Sorted distinct values (np.unique's hash path is very slow on some NumPy 2.x builds)."""
    ordered = np.sort(values)
    return ordered[np.concatenate([[True], ordered[1:] != ordered[:-1]])] if len(ordered) else ordered


def mixture(rng: np.random.Generator, n: int, parts: Sequence[tuple[float, Callable[[int], np.ndarray]]]) -> np.ndarray:
    """n int64 draws from a mixture [(weight, draw(k) -> k values)], each part drawn once."""
    weights = np.array([w for w, _ in parts], dtype=float)
    which = rng.choice(len(parts), size=n, p=weights / weights.sum())
    out = np.empty(n, dtype=np.int64)
    for k, (_, draw) in enumerate(parts):
        mask = which == k
        out[mask] = draw(int(mask.sum()))
    return out


def _default_str_dtype() -> object:
    return pd.Series(["x"]).dtype


def _arrow_to_str_series(array, name: str) -> pd.Series:
    """An Arrow large_string array as a pandas Series of this pandas' default string dtype."""
    series = array.to_pandas(types_mapper=lambda t: pd.StringDtype("pyarrow", na_value=np.nan)
                             if t == pa.large_string() else None)
    series.name = name
    if series.dtype != _default_str_dtype():  # match whatever this pandas infers for str
        series = series.astype("str")
    return series


def string_series(codes: np.ndarray, values: Sequence[str], name: str, dtype: str = "str") -> pd.Series:
    """A string column from dictionary codes (-1 = null), without per-row Python objects.

    dtype: "str" (pandas' default string dtype), "object" or "category".
    """
    if dtype == "category":
        return pd.Series(pd.Categorical.from_codes(codes, categories=list(values)), name=name)
    if dtype == "str" and pa is not None:
        indices = pa.array(codes.astype(np.int32, copy=False), mask=codes < 0)
        # take() copies the strings once; faster than decoding a DictionaryArray
        return _arrow_to_str_series(pa.array(list(values), type=pa.large_string()).take(indices), name)
    table = np.array(list(values) + [None], dtype=object)
    return pd.Series(table[codes], name=name, dtype=object if dtype == "object" else None)


def fixed_width_strings(text: np.ndarray, name: str) -> pd.Series:
    """A string column from an (n, width) uint8 matrix of ASCII bytes, one row per value."""
    n, width = text.shape
    if pa is not None:
        offsets = pa.py_buffer(np.arange(n + 1, dtype=np.int64) * width)  # zero-copy views
        data = pa.py_buffer(np.ascontiguousarray(text))
        return _arrow_to_str_series(pa.Array.from_buffers(pa.large_string(), n, [None, offsets, data]), name)
    return pd.Series(np.ascontiguousarray(text).view(f"S{width}").ravel().astype(f"U{width}"), name=name)


def decimal_digits(numbers: np.ndarray, digits: int) -> np.ndarray:
    """(n, digits) ASCII bytes of non-negative integers, zero-padded on the left."""
    powers = 10 ** np.arange(digits - 1, -1, -1, dtype=np.int64)
    return (np.asarray(numbers, dtype=np.int64)[:, None] // powers % 10 + ord("0")).astype(np.uint8)


_HEX_PAIRS = np.frombuffer("".join(f"{b:02x}" for b in range(256)).encode(), dtype=np.uint16)


def hex_digits(numbers: np.ndarray) -> np.ndarray:
    """(n, 16) lowercase ASCII hex of uint64 values (bytes in memory order; a bijection)."""
    octets = np.ascontiguousarray(numbers, dtype=np.uint64).view(np.uint8).reshape(-1, 8)
    return _HEX_PAIRS[octets].view(np.uint8).reshape(-1, 16)  # one 2-character lookup per byte


def phone_numbers(country: np.ndarray, ranges: Sequence[tuple[str, int]], rng: np.random.Generator) -> list[str]:
    """Distinct E.164 numbers: number i inside range country[i] = (prefix, digits after it).

    Prefixes must not extend one another, so numbers of different ranges never collide.
    """
    n_users = len(country)
    out = np.empty(n_users, dtype=object)
    for k, (prefix, digits) in enumerate(ranges):
        idx = np.flatnonzero(country == k)
        if len(idx) == 0:
            continue
        space = 10**digits  # distinct subscriber numbers inside the range
        numbers = unique_sorted(rng.integers(0, space, size=int(len(idx) * 1.05) + 16))
        while len(numbers) < len(idx):  # rare: draw more until there are enough
            numbers = unique_sorted(np.concatenate([numbers, rng.integers(0, space, size=len(idx))]))
        numbers = rng.permutation(numbers)[: len(idx)]
        width = len(prefix) + digits
        text = np.empty((len(idx), width), dtype=np.uint8)
        text[:, : len(prefix)] = np.frombuffer(prefix.encode(), dtype=np.uint8)
        text[:, len(prefix):] = decimal_digits(numbers, digits)
        out[idx] = text.view(f"S{width}").ravel().astype(f"U{width}").tolist()
    return out.tolist()


def utc_series(ns: np.ndarray, name: str, time_unit: str = "us") -> pd.Series:
    """A tz-aware UTC datetime column from int64 nanoseconds (NAT -> NaT)."""
    values = np.asarray(ns, dtype=np.int64).view("datetime64[ns]").astype(f"datetime64[{time_unit}]")
    return pd.Series(pd.DatetimeIndex(values).tz_localize("UTC"), name=name)
