"""From a user's table to the canonical columns the core reads (docs/rules.md §Input columns).

Everything here is vectorised: categorical-like columns are factorised once and their few
distinct values mapped, so no per-row Python object is created for large inputs. Every
check raises :class:`InputError` naming the user's column, the first bad row and the reason.
"""

from __future__ import annotations

import contextvars
import math
import os
import warnings
from collections.abc import Callable, Hashable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Union

import numpy as np
import pandas as pd

from waconv import _core
from waconv._errors import InputError, WaconvWarning
from waconv.engine.duplicates import duplicate_rows
from waconv.engine.identity import ID_COLUMNS, resolve_users
from waconv.engine.strings import (
    as_arrow_text,
    checked_object_text,
    converting_once,
    encode_strings,
    factorize_strings,
    without_string_views,
)

NOT_DELIVERED = np.iinfo(np.int64).min
EARLIEST = pd.Timestamp("2000-01-01", tz="UTC").value
LATEST = pd.Timestamp("2100-01-01", tz="UTC").value
_OUT_OF_RANGE = "timestamp outside 2000-01-01 .. 2100-01-01"

REQUIRED = ("business", "user", "timestamp", "direction")
OPTIONAL = (
    "template_category",
    "delivered_at",
    "status",
    "referral",
    "message_id",
    "waba",
    "portfolio",
    "user_country",
    "user_phone",
    "user_bsuid",
    "message_type",
)
# Columns read from text files as text: "0044..." and "44..." are different users, and a
# BSUID or a WABA id is not a number.
TEXT_ID_COLUMNS = ("business", "user", "waba", "portfolio", "message_id", "user_country", "user_phone", "user_bsuid")

_DIRECTIONS = {name: code for code, name in enumerate(_core.DIRECTIONS)}
_TEMPLATE_CATEGORIES = {name: code for code, name in enumerate(_core.TEMPLATE_CATEGORIES) if name}
_STATUS_DELIVERED = {"sent": False, "failed": False, "delivered": True, "read": True, "played": True}
# Below this many rows a second thread costs more than it saves.
_OVERLAP_FROM_ROWS = 200_000
_NS_PER_UNIT = {"s": 1_000_000_000, "ms": 1_000_000, "us": 1_000, "ns": 1}
_TRUE_STRINGS = {"true": True, "1": True, "yes": True, "false": False, "0": False, "no": False, "": False}

CswRefreshing = Union[None, str, Callable[[pd.DataFrame], Any]]

# infer_dtype kinds made only of single values; the others ("mixed", "mixed-integer",
# "unknown-array") may hold lists, dicts or arrays, which are then looked for value by value.
_SCALAR_KINDS = frozenset({
    "empty", "string", "bytes", "integer", "floating", "mixed-integer-float", "decimal", "complex",
    "boolean", "datetime64", "datetime", "date", "timedelta64", "timedelta", "time", "period", "interval",
})
_TEXT_KINDS = ("string", "mixed", "mixed-integer")
# Strings are joined and encoded this many at a time: one encode call per chunk, bounded memory.
_ENCODE_CHUNK = 65_536
_MAPPINGS = {"columns": "waconv column name to the input's column name", "timezones": "WABA id to IANA time zone name"}
_EARLIEST_STAMP = pd.Timestamp(EARLIEST)  # naive UTC, for datetimes read value by value
_LATEST_STAMP = pd.Timestamp(LATEST)


@dataclass
class CanonicalEvents:
    """The canonical columns, as contiguous NumPy arrays, plus the values behind each code."""

    business: np.ndarray  # int32 codes
    user: np.ndarray  # int32 codes
    waba: np.ndarray  # int32 codes
    timestamp: np.ndarray  # int64 ns UTC
    delivered_at: np.ndarray  # int64 ns UTC, NOT_DELIVERED for undelivered/inbound
    direction: np.ndarray  # int8
    template_category: np.ndarray  # int8
    referral: np.ndarray | None  # uint8
    duplicate: np.ndarray  # uint8
    refreshes_csw: np.ndarray | None  # uint8
    business_values: pd.Index
    user_values: pd.Index
    waba_values: pd.Index
    portfolio: np.ndarray  # int32 codes
    portfolio_values: pd.Index
    time_zones: list[str]  # per waba code
    user_country: pd.Series | None  # the raw override column, validated in pricing
    user_country_column: str = "user_country"
    user_key: Any = None  # per row its user's key (docs/rules.md §Identity), the output column user_key
    message_id: pd.Series | None = None  # the ids (text as Arrow strings), whose order breaks ties (engine.classify)

    def __len__(self) -> int:
        return len(self.timestamp)


def as_mapping(argument: str, value: Any) -> dict:
    """`columns` or `timezones` as a dict: None, a mapping, or a pandas Series keyed by its index."""
    if value is None:
        return {}
    if isinstance(value, pd.Series):
        return value.to_dict()
    if not isinstance(value, Mapping):
        raise InputError(argument, None, f"expected a mapping of {_MAPPINGS[argument]}, "
                                         f"got {type(value).__name__} {_short(value)}")
    return dict(value)


def resolve_columns(frame: pd.DataFrame, columns: Mapping[str, str] | None) -> dict[str, str]:
    """Canonical name -> the user's column name, for the columns present."""
    mapping = as_mapping("columns", columns)
    # key=str: keys of several types must not make the sort itself fail.
    unknown = sorted((name for name in mapping if name not in REQUIRED + OPTIONAL), key=str)
    if unknown:
        name = unknown[0]
        raise InputError(name, None, f"not a waconv column; known: {', '.join(REQUIRED + OPTIONAL)}")
    for name, source in mapping.items():
        try:
            hash(source)
        except TypeError:
            raise InputError("columns", None, f"{name!r} is mapped to {_short(source)}, not a column name") from None
    resolved = {}
    for name in REQUIRED + OPTIONAL:
        source = mapping.get(name, name)
        if source in frame.columns:
            resolved[name] = source
        elif name == "user" and any(mapping.get(n, n) in frame.columns for n in ("user_phone", "user_bsuid")):
            continue  # user_phone / user_bsuid name the users (docs/rules.md §Identity)
        elif name in REQUIRED:
            also = " (or user_phone / user_bsuid)" if name == "user" else ""
            raise InputError(source, None, f"required column is missing{also}")
        elif name in mapping:
            raise InputError(source, None, f"column mapped to {name!r} is missing")
    return resolved


# Canonical columns whose readers take Arrow string_view in place (the core's string code):
# the others are cast to large_string, as pandas cannot compare or factorize views.
READ_AS_VIEWS = frozenset({"message_id", "user", "user_phone", "user_bsuid", "direction", "template_category"})
# Canonical columns the core reads as Arrow strings when they are text objects (see
# strings.converting_once): their check converts them once for that reader. Direction and
# template category are not among them: their few str objects are encoded in place.
READ_AS_ARROW_TEXT = (READ_AS_VIEWS - {"direction", "template_category"}) | {"business", "waba", "portfolio"}
# Canonical columns whose one reader (_map_small) checks their values itself: encoding
# them checks that they are str, and only where that fails are they checked as any other
# column (a pass over 10M objects saved: 0.08-0.09 s each).
CHECKED_BY_READER = frozenset({"direction", "template_category"})


def _column(frame: pd.DataFrame, name: Hashable, keep_views: bool = False, read_as_arrow: bool = False,
            check: bool = True) -> pd.Series:
    """The one column of that name, in a layout the engine reads, its values checked unless
    `check` is false (its reader checks them). read_as_arrow: a reader takes it as Arrow
    strings if it is text objects."""
    found = frame[name]
    if isinstance(found, pd.DataFrame):  # the name labels several columns: which one is meant is unknowable
        raise InputError(name, None, f"{found.shape[1]} columns have this name; keep one (rename or drop the others)")
    if isinstance(found.dtype, pd.SparseDtype):  # every reader below expects dense values
        found = found.sparse.to_dense()
    if not keep_views:
        found = without_string_views(found)
    if check:
        _check_values(found, name, read_as_arrow)
    return found


def _short(value: Any, limit: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _check_values(series: pd.Series, column: Hashable, read_as_arrow: bool = False) -> None:
    """Every value of a Python-object column is a single value and every string valid
    Unicode: a list or dict is no id or category, and a lone surrogate ("\\ud800", as text
    decoded with errors="surrogateescape" holds) cannot be encoded as UTF-8 for Arrow or the core."""
    dtype = series.dtype
    if isinstance(dtype, pd.CategoricalDtype):
        if dtype.categories.dtype == object:
            found = _first_bad_value(dtype.categories.to_numpy())
            if found is not None:
                rows = series.cat.codes.to_numpy() == found[0]
                if rows.any():  # a category no row holds is never read
                    raise InputError(column, _first(rows), found[1])
        return
    if dtype == object or (isinstance(dtype, pd.StringDtype) and dtype.storage == "python"):
        if checked_object_text(series, keep=read_as_arrow):  # the usual column, checked in one C++ pass
            return
        found = _first_bad_value(series.to_numpy(dtype=object))
        if found is not None:
            raise InputError(column, *found)


def _first_bad_value(values: np.ndarray) -> tuple[int, str] | None:
    """(position, reason) of the first value that is not a single value or not valid Unicode."""
    kind = pd.api.types.infer_dtype(values, skipna=True)
    if kind not in _SCALAR_KINDS:
        single = np.fromiter((pd.api.types.is_scalar(v) for v in values), dtype=bool, count=len(values))
        if not single.all():
            position = _first(~single)
            value = values[position]
            return position, f"not a single value: {_short(value)} (a {type(value).__name__})"
    if kind not in _TEXT_KINDS:
        return None
    for start in range(0, len(values), _ENCODE_CHUNK):
        chunk = values[start : start + _ENCODE_CHUNK]
        strings = chunk[~pd.isna(chunk)] if kind == "string" else [v for v in chunk if isinstance(v, str)]
        try:
            "".join(strings).encode("utf-8")
        except UnicodeEncodeError:
            for offset, value in enumerate(chunk):
                if isinstance(value, str) and not _encodable(value):
                    return start + offset, f"not valid Unicode text: {_short(value)} holds a lone surrogate"
    return None


def _encodable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _first(mask: np.ndarray) -> int:
    return int(np.argmax(mask))


def _no_nulls(series: pd.Series, column: str, what: str) -> None:
    nulls = series.isna().to_numpy()
    if nulls.any():
        raise InputError(column, _first(nulls), f"null {what}")


def _factorize(series: pd.Series, column: str, partitions: int = 0) -> tuple[np.ndarray, pd.Index]:
    """Dense codes in sorted order of the values, so codes do not depend on row order.
    `partitions`: threads hashing an Arrow string column (0: every core)."""
    from_arrow = factorize_strings(series, partitions)  # hashes Arrow buffers in C++: no Python strings
    if from_arrow is not None:
        return from_arrow
    if series.dtype == np.int64:  # NumPy int64 ids (nullable Int64 goes the pandas way)
        codes, uniques = _core.factorize_integers(series.to_numpy())
        return codes, pd.Index(uniques)
    if series.dtype == object and pd.api.types.infer_dtype(series, skipna=True).startswith("mixed"):
        # "2" and 2 would silently become two different accounts or users.
        first_type = type(series.iloc[0])
        odd = series.map(lambda v: type(v) is not first_type).to_numpy()
        raise InputError(column, _first(odd), "mixed value types; use one type (all str or all int)")
    codes, uniques = pd.factorize(series, sort=True)
    return codes.astype(np.int32, copy=False), pd.Index(uniques)


def _map_arrow(series: pd.Series, table: Mapping[str, Any], null: Any) -> np.ndarray | None:
    """Fast path for Arrow-backed strings spelled exactly as in `table`; None otherwise."""
    keys = list(table)
    # C++ over the Arrow buffers: no Python strings, and the table's values written directly.
    encoded = encode_strings(series, keys, [int(table[k]) for k in keys], 0 if null is None else int(null))
    if encoded is None:
        return None
    values, first_unknown, first_null = encoded
    if first_unknown >= 0 or (null is None and first_null >= 0):
        return None  # other spellings or nulls: the general path normalises or reports them
    return values


def _map_small(
    series: pd.Series, column: str, table: Mapping[str, Any], *, null: Any, what: str
) -> np.ndarray:
    """Maps a column with few distinct values through `table` (case-insensitive names).
    Checks its values (see CHECKED_BY_READER)."""
    fast = _map_arrow(series, table, null)
    if fast is not None:
        return fast
    _check_values(series, column)
    series = without_string_views(series)  # pandas cannot factorize views
    codes, uniques = pd.factorize(series, use_na_sentinel=True)
    mapped = []
    for position, value in enumerate(uniques):
        key = str(value).strip().lower() if not isinstance(value, (bool, np.bool_)) else str(bool(value)).lower()
        if key not in table:
            allowed = ", ".join(repr(k) for k in table if k)
            raise InputError(column, _first(codes == position), f"unknown {what} {value!r} (allowed: {allowed})")
        mapped.append(table[key])
    if null is None and (codes < 0).any():
        raise InputError(column, _first(codes < 0), f"null {what}")
    lookup = np.array(mapped + [null if null is not None else 0])
    return lookup[codes]  # code -1 picks the trailing null entry


def _timestamps(series: pd.Series, column: str) -> tuple[np.ndarray, bool | None]:
    """int64 ns UTC (NaT -> NOT_DELIVERED) and whether the input was tz-aware (None: numbers).
    Values outside 2000..2100 come back clamped just outside it, for _check_timestamps."""
    if pd.api.types.is_bool_dtype(series.dtype):
        raise InputError(column, 0, "expected datetimes or epoch seconds, got booleans")
    if pd.api.types.is_numeric_dtype(series.dtype):
        return _epoch_seconds(series, column), None
    native = _datetime_storage(series)
    if native is not None:
        ns, _ = _core.instants(*native)
        return ns, isinstance(series.dtype, pd.DatetimeTZDtype)
    return _parse_objects(series, column)


def _epoch_seconds(series: pd.Series, column: str) -> np.ndarray:
    seconds = series.to_numpy(dtype=np.float64, na_value=np.nan)
    nulls = np.isnan(seconds)
    out = np.full(len(seconds), NOT_DELIVERED, dtype=np.int64)
    bad = ~nulls & ((seconds < EARLIEST / 1e9) | (seconds >= LATEST / 1e9))
    if bad.any():
        raise InputError(column, _first(bad), "epoch seconds outside 2000-01-01 .. 2100-01-01")
    if pd.api.types.is_integer_dtype(series.dtype) and not nulls.any():
        out = series.to_numpy(dtype=np.int64) * 1_000_000_000
    else:
        out[~nulls] = np.round(seconds[~nulls] * 1e9).astype(np.int64)
    return out


def _datetime_storage(series: pd.Series) -> tuple[np.ndarray, int] | None:
    """(int64 values, ns per unit) of a datetime64 column, naive or tz-aware, or None.

    pandas stores both as int64 counts since the epoch in UTC with NaT as INT64_MIN, the
    core's own layout: the core scales them in one pass, no zone conversion needed.
    """
    if isinstance(series.dtype, pd.DatetimeTZDtype) or pd.api.types.is_datetime64_dtype(series.dtype):
        array = series.array
        return array.asi8, _NS_PER_UNIT[array.unit]
    return None


def _parse_objects(series: pd.Series, column: str) -> tuple[np.ndarray, bool | None]:
    """Datetime objects, ISO strings or epoch seconds as Python numbers; naive and tz-aware
    values may not be mixed, nor numbers with datetimes."""
    present = series.notna().to_numpy()
    rows = np.flatnonzero(present)
    # By position, never by label: an index may repeat labels, and a label would then
    # stand for several rows.
    non_null = series[present].reset_index(drop=True)
    ns = np.full(len(series), NOT_DELIVERED, dtype=np.int64)
    if non_null.empty:
        return ns, False
    numbers = _numbers(non_null, rows, column)
    if numbers is not None:
        seconds = np.full(len(series), np.nan)
        seconds[rows] = numbers
        return _epoch_seconds(pd.Series(seconds), column), None
    parsed = None
    if _all_strings(non_null):
        try:
            parsed = pd.to_datetime(non_null, format="ISO8601")
        except (ValueError, TypeError, OverflowError):  # other formats, mixed zones, beyond datetime64[ns]
            parsed = None
    native = _datetime_storage(parsed) if parsed is not None else None
    if native is None:
        ns[rows], aware = _parse_one_by_one(non_null, rows, column)
        return ns, aware
    ns[rows], _ = _core.instants(*native)
    return ns, isinstance(parsed.dtype, pd.DatetimeTZDtype)


def _numbers(values: pd.Series, rows: np.ndarray, column: str) -> np.ndarray | None:
    """Python numbers (epoch seconds) of an object column as floats; None when the values
    are no numbers. Numbers mixed with strings or datetimes are an error: an int read as a
    datetime would count nanoseconds, not seconds."""
    if values.dtype != object:
        return None
    kind = pd.api.types.infer_dtype(values, skipna=False)
    if kind in ("integer", "floating", "mixed-integer-float"):
        try:
            return values.to_numpy(dtype=np.float64)
        except OverflowError:  # an int beyond float64: out of range either way
            return np.array([_float_or_infinity(v) for v in values])
    if kind in ("mixed", "mixed-integer"):
        numeric = np.fromiter((_is_number(v) for v in values), dtype=bool, count=len(values))
        if numeric.any():
            odd = numeric != numeric[0]
            raise InputError(column, int(rows[_first(odd)]),
                             "mixed value types: epoch seconds and datetimes (or ISO strings); use one type")
    return None


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, (bool, np.bool_))


def _float_or_infinity(value: Any) -> float:
    try:
        return float(value)
    except OverflowError:
        return math.copysign(math.inf, value)


def _all_strings(values: pd.Series) -> bool:
    return pd.api.types.is_string_dtype(values.dtype) and all(isinstance(v, str) for v in values.iloc[:1000])


def _parse_one_by_one(values: pd.Series, rows: np.ndarray, column: str) -> tuple[np.ndarray, bool]:
    """ns UTC of each value, clamped like the core's instants (a year such as 2600 fits a
    datetime but not int64 nanoseconds), and whether the values are tz-aware."""
    first_kind: bool | None = None
    ns = np.empty(len(values), dtype=np.int64)
    for position, value in enumerate(values):
        try:
            stamp = pd.Timestamp(value)
        except (ValueError, TypeError, OverflowError):
            raise InputError(column, int(rows[position]), f"not a datetime: {_short(value)}") from None
        if stamp is pd.NaT:
            ns[position] = NOT_DELIVERED
            continue
        kind = stamp.tzinfo is not None
        if first_kind is None:
            first_kind = kind
        elif kind != first_kind:
            raise InputError(column, int(rows[position]), "mixed naive and tz-aware datetimes")
        if kind:
            stamp = stamp.tz_convert("UTC").tz_localize(None)
        if stamp < _EARLIEST_STAMP:
            ns[position] = EARLIEST - 1
        elif stamp >= _LATEST_STAMP:
            ns[position] = LATEST
        else:
            ns[position] = stamp.as_unit("ns").value
    return ns, bool(first_kind)


def _check_timestamps(ns: np.ndarray, column: str) -> None:
    """A null anywhere is reported before an out-of-range row. NaT (NOT_DELIVERED) is below
    the range too, so a single pass screens the column for both."""
    bad = (ns < EARLIEST) | (ns >= LATEST)
    if bad.any():
        missing = ns == NOT_DELIVERED
        if missing.any():
            raise InputError(column, _first(missing), "null timestamp")
        raise InputError(column, _first(bad), _OUT_OF_RANGE)


def _bools(series: pd.Series, column: str) -> np.ndarray:
    if pd.api.types.is_bool_dtype(series.dtype) and not series.isna().any():
        return series.to_numpy(dtype=np.uint8)
    table = {**_TRUE_STRINGS, "true": True, "false": False}
    return _map_small(series, column, table, null=False, what="boolean").astype(np.uint8)


def canonicalize(
    frame: pd.DataFrame,
    *,
    columns: Mapping[str, str] | None = None,
    timezones: Mapping[Hashable, str] | None = None,
    csw_refreshing: CswRefreshing = None,
    links: pd.DataFrame | None = None,
    duplicates: np.ndarray | None = None,
) -> CanonicalEvents:
    """links: identity links an earlier call saw (carried state, engine.carry): rows of
    user / user_phone / user_bsuid that take part in linking but are not events.
    duplicates: the rows' duplicate flags (uint8) when the caller knows them (engine.carry)."""
    if not isinstance(frame, pd.DataFrame):
        raise InputError("events", None, f"expected a pandas DataFrame, got {type(frame).__name__}")
    names = resolve_columns(frame, columns)
    zones = as_mapping("timezones", timezones)
    with converting_once():
        return _canonical_events(frame, names, zones, csw_refreshing, links, duplicates)


def _canonical_events(frame: pd.DataFrame, names: dict[str, str], zones: dict[Hashable, str],
                      csw_refreshing: CswRefreshing, links: pd.DataFrame | None,
                      duplicates: np.ndarray | None) -> CanonicalEvents:
    linked = links is not None and len(links) > 0
    # With links, the user ids are read only after the link rows are appended to them.
    as_arrow = READ_AS_ARROW_TEXT - set(ID_COLUMNS) if linked else READ_AS_ARROW_TEXT
    col = {name: _column(frame, source, keep_views=name in READ_AS_VIEWS, read_as_arrow=name in as_arrow,
                         check=name not in CHECKED_BY_READER)
           for name, source in names.items()}
    if linked:
        return _with_links(frame, col, names, zones, csw_refreshing, links, duplicates)

    _no_nulls(col["business"], names["business"], "business")
    business, business_values = _factorize(col["business"], names["business"])
    if len(frame) < _OVERLAP_FROM_ROWS:
        users = resolve_users(col, names, _factorize)
        rest = _other_columns(frame, col, names, csw_refreshing, business, business_values, duplicates)
    else:
        # User ids are the costliest column (hashing millions of strings in C++, GIL
        # released): other threads factorize them while this one converts the others, so
        # their hashing leaves this thread its core (on 2 cores, sharing it measured slower).
        # The sort at the end, when this thread waits, uses every core.
        with ThreadPoolExecutor(max_workers=1) as pool:
            # In a copy of this context: the worker takes the object user columns checked here.
            pending = pool.submit(contextvars.copy_context().run, resolve_users, col, names, _factorize,
                                  max(1, (os.cpu_count() or 1) - 1))
            try:
                rest = _other_columns(frame, col, names, csw_refreshing, business, business_values, duplicates)
            except InputError:
                pending.result()  # columns are checked in order: an error in user ids comes first
                raise
            users = pending.result()
    time_zones = _zones_for(rest["waba_values"], zones)
    _warn_unused_zones(rest["waba_values"], zones)
    return CanonicalEvents(
        business=business,
        user=users.codes,
        business_values=business_values,
        user_values=users.values,
        user_key=users.key,
        time_zones=time_zones,
        user_country=col.get("user_country"),
        user_country_column=names.get("user_country", "user_country"),
        **rest,
    )


def _with_links(frame: pd.DataFrame, col: dict[str, pd.Series], names: dict[str, str],
                zones: dict[Hashable, str], csw_refreshing: CswRefreshing, links: pd.DataFrame,
                duplicates: np.ndarray | None) -> CanonicalEvents:
    """canonicalize with the carried links resolved beside the rows' own ids; the link rows
    are dropped again (their users keep codes, without rows)."""
    col = {name: without_string_views(series) for name, series in col.items()}  # concatenated below
    _no_nulls(col["business"], names["business"], "business")
    business, business_values = _factorize(col["business"], names["business"])
    n = len(frame)
    ids, id_names = {}, {}
    for name in ID_COLUMNS:
        if name not in col and name not in links.columns:
            continue
        own = col[name].reset_index(drop=True) if name in col else pd.Series([None] * n, dtype=object)
        extra = links[name] if name in links.columns else pd.Series([None] * len(links), dtype=object)
        if own.dtype != extra.dtype:
            own, extra = own.astype("string"), extra.astype("string")
        ids[name] = pd.concat([own, extra.reset_index(drop=True)], ignore_index=True)
        id_names[name] = names.get(name, name)
    users = resolve_users(ids, id_names, _factorize)
    if (users.codes[:n] < 0).any():
        raise InputError("/".join(id_names.values()), _first(users.codes[:n] < 0), "the row has no user id")
    rest = _other_columns(frame, col, names, csw_refreshing, business, business_values, duplicates)
    time_zones = _zones_for(rest["waba_values"], zones)
    _warn_unused_zones(rest["waba_values"], zones)
    return CanonicalEvents(
        business=business,
        user=users.codes[:n],
        business_values=business_values,
        user_values=users.values,
        user_key=users.key[:n],
        time_zones=time_zones,
        user_country=col.get("user_country"),
        user_country_column=names.get("user_country", "user_country"),
        **rest,
    )


def _other_columns(
    frame: pd.DataFrame, col: dict[str, pd.Series], names: dict[str, str], csw_refreshing: CswRefreshing,
    business: np.ndarray, business_values: pd.Index, duplicates: np.ndarray | None = None,
) -> dict[str, Any]:
    """Every canonical column but business and user, checked in this order."""
    direction = _map_small(col["direction"], names["direction"], _DIRECTIONS, null=None, what="direction")
    direction = direction.astype(np.int8)
    outbound = direction == _DIRECTIONS["outbound"]

    timestamp, aware = _timestamps(col["timestamp"], names["timestamp"])
    _check_timestamps(timestamp, names["timestamp"])

    delivered_at = _delivery(col, names, timestamp, outbound, aware)

    if "template_category" in col:
        category = _map_small(
            col["template_category"], names["template_category"], {**_TEMPLATE_CATEGORIES, "": 0},
            null=0, what="template category",
        ).astype(np.int8)
        # A category on an inbound row means nothing (multiplying by the mask beats a masked store).
        np.multiply(category, outbound, out=category, casting="unsafe")
    else:
        category = np.zeros(len(frame), dtype=np.int8)

    referral = _bools(col["referral"], names["referral"]) if "referral" in col else None
    system = _system_rows(col, outbound)
    if referral is not None:
        np.multiply(referral, ~outbound, out=referral, casting="unsafe")
        if system is not None:
            referral[system] = 0
    # Object ids of text become Arrow strings once, for the duplicate check here and the
    # core's tie-break (engine.classify).
    message_id = as_arrow_text(col["message_id"]) if "message_id" in col else None
    duplicate = _duplicates(message_id, direction) if duplicates is None else duplicates
    refreshes = _csw_refreshing(frame, csw_refreshing)
    if system is not None:
        refreshes = np.where(system, 0, 1 if refreshes is None else refreshes).astype(np.uint8)

    if "waba" in col:
        _no_nulls(col["waba"], names["waba"], "waba")
        waba, waba_values = _factorize(col["waba"], names["waba"])
    else:
        waba, waba_values = business, business_values
    if "portfolio" in col:
        _no_nulls(col["portfolio"], names["portfolio"], "portfolio")
        portfolio, portfolio_values = _factorize(col["portfolio"], names["portfolio"])
    else:
        portfolio, portfolio_values = waba, waba_values
    return {
        "waba": waba,
        "timestamp": timestamp,
        "delivered_at": delivered_at,
        "direction": direction,
        "template_category": category,
        "referral": referral,
        "duplicate": duplicate,
        "message_id": message_id,
        "refreshes_csw": refreshes,
        "waba_values": waba_values,
        "portfolio": portfolio,
        "portfolio_values": portfolio_values,
    }


def _delivery(
    col: dict[str, pd.Series], names: dict[str, str], timestamp: np.ndarray, outbound: np.ndarray, aware: bool | None
) -> np.ndarray:
    if "delivered_at" in col:
        series = col["delivered_at"]
        native = _datetime_storage(series)  # datetime64: read in its own unit
        if native is None:
            ns, delivered_aware = _timestamps(series, names["delivered_at"])  # numbers, strings, objects
            native = (ns, 1)
        else:
            delivered_aware = isinstance(series.dtype, pd.DatetimeTZDtype)
        _check_awareness(names, native[0], aware, delivered_aware)  # NaT is INT64_MIN in any unit
        # One C++ pass: scale, keep outbound rows, find the first out-of-range and early rows.
        delivered, out_of_range, early = _core.delivery_instants(*native, timestamp, outbound.view(np.int8))
        if out_of_range >= 0:
            raise InputError(names["delivered_at"], out_of_range, _OUT_OF_RANGE)
        if early >= 0:
            raise InputError(names["delivered_at"], early, "delivered_at is before timestamp")
        return delivered
    if "status" in col:
        delivered_flag = _map_small(col["status"], names["status"], _STATUS_DELIVERED, null=False, what="status")
        return np.where(outbound & delivered_flag.astype(bool), timestamp, NOT_DELIVERED)
    return np.where(outbound, timestamp, NOT_DELIVERED)


def _check_awareness(names: dict[str, str], delivered: np.ndarray, aware: bool | None,
                     delivered_aware: bool | None) -> None:
    if aware is not None and delivered_aware is not None and aware != delivered_aware:
        present = delivered != NOT_DELIVERED
        raise InputError(
            names["delivered_at"], _first(present) if present.any() else 0,
            "mixed naive and tz-aware datetimes (timestamp and delivered_at differ)",
        )


def _duplicates(message_id: pd.Series | None, direction: np.ndarray) -> np.ndarray:
    if message_id is None:
        return np.zeros(len(direction), dtype=np.uint8)
    return duplicate_rows(message_id, direction)


def _system_rows(col: dict[str, pd.Series], outbound: np.ndarray) -> np.ndarray | None:
    """Inbound rows of message_type "system" (Meta's notices of a changed number or BSUID),
    or None when there are none: no user wrote, so they neither open nor refresh the CSW
    nor come from an ad (docs/rules.md §Customer service window)."""
    if "message_type" not in col:
        return None
    system = col["message_type"].eq("system").to_numpy(dtype=bool, na_value=False) & ~outbound
    return system if system.any() else None


def _csw_refreshing(frame: pd.DataFrame, option: CswRefreshing) -> np.ndarray | None:
    if option is None:
        return None
    if isinstance(option, str):
        if option not in frame.columns:
            raise InputError(option, None, "csw_refreshing names a column that is missing")
        return _bools(_column(frame, option), option)
    if callable(option):
        mask = np.asarray(option(frame))
        if mask.shape != (len(frame),):
            raise InputError("csw_refreshing", None, "the predicate must return one boolean per row")
        return mask.astype(bool).astype(np.uint8)
    raise InputError("csw_refreshing", None, "expected None, a column name or a predicate")


def _zones_for(waba_values: pd.Index, timezones: Mapping[Hashable, str] | None) -> list[str]:
    zones = as_mapping("timezones", timezones)
    by_text = {str(k): v for k, v in zones.items()}
    out = []
    for value in waba_values:
        zone = zones.get(value, by_text.get(str(value), "UTC"))
        if not isinstance(zone, str):
            raise InputError("timezones", None, f"time zone of WABA {value!r} must be a string, got {_short(zone)}")
        if not _encodable(zone):  # no zone name holds a lone surrogate, and the core reads UTF-8
            raise InputError("timezones", None, f"unknown time zone {zone!r}")
        out.append(zone)
    return out


def _warn_unused_zones(waba_values: pd.Index, zones: dict[Hashable, str]) -> None:
    """A key naming no WABA of the log is no error (one mapping may serve many logs), but a
    misspelt WABA id would silently leave that WABA on UTC. Keys match as in _zones_for."""
    if not zones:
        return
    wabas = set(waba_values)
    texts = {str(value) for value in waba_values}
    unused = [key for key in zones if key not in wabas and str(key) not in texts]
    if unused:
        others = f" (and {len(unused) - 1} more)" if len(unused) > 1 else ""
        warnings.warn(
            f"timezones key {unused[0]!r}{others} names no WABA of the log: its time zone is not used",
            WaconvWarning,
            stacklevel=5,  # from here: canonicalize, classify_frame, classify, the caller
        )


def read_csv_with_text_ids(path) -> pd.DataFrame:
    """A CSV event log with its id columns (TEXT_ID_COLUMNS) kept as text."""
    header = pd.read_csv(path, nrows=0).columns
    return pd.read_csv(path, dtype={name: "str" for name in header if name in TEXT_ID_COLUMNS})


def to_utc_index(ns: np.ndarray) -> pd.DatetimeIndex:
    return pd.DatetimeIndex(ns.view("datetime64[ns]")).tz_localize("UTC")

