"""From a user's table to the canonical columns the core reads (docs/rules.md §Input columns).

Everything here is vectorised: categorical-like columns are factorised once and their few
distinct values mapped, so no per-row Python object is created for large inputs. Every
check raises :class:`InputError` naming the user's column, the first bad row and the reason.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Hashable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Union

import numpy as np
import pandas as pd

from waconv import _core
from waconv._errors import InputError
from waconv.engine.strings import encode_strings, factorize_strings

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
)
# Columns read from text files as text: "0044..." and "44..." are different users, and a
# BSUID or a WABA id is not a number.
TEXT_ID_COLUMNS = ("business", "user", "waba", "portfolio", "message_id", "user_country")

_DIRECTIONS = {name: code for code, name in enumerate(_core.DIRECTIONS)}
_TEMPLATE_CATEGORIES = {name: code for code, name in enumerate(_core.TEMPLATE_CATEGORIES) if name}
_STATUS_DELIVERED = {"sent": False, "failed": False, "delivered": True, "read": True, "played": True}
# Below this many rows a second thread costs more than it saves.
_OVERLAP_FROM_ROWS = 200_000
_NS_PER_UNIT = {"s": 1_000_000_000, "ms": 1_000_000, "us": 1_000, "ns": 1}
_TRUE_STRINGS = {"true": True, "1": True, "yes": True, "false": False, "0": False, "no": False, "": False}

CswRefreshing = Union[None, str, Callable[[pd.DataFrame], Any]]


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

    def __len__(self) -> int:
        return len(self.timestamp)


def resolve_columns(frame: pd.DataFrame, columns: Mapping[str, str] | None) -> dict[str, str]:
    """Canonical name -> the user's column name, for the columns present."""
    mapping = dict(columns or {})
    unknown = set(mapping) - set(REQUIRED) - set(OPTIONAL)
    if unknown:
        name = sorted(unknown)[0]
        raise InputError(name, None, f"not a waconv column; known: {', '.join(REQUIRED + OPTIONAL)}")
    resolved = {}
    for name in REQUIRED + OPTIONAL:
        source = mapping.get(name, name)
        if source in frame.columns:
            resolved[name] = source
        elif name in REQUIRED:
            raise InputError(source, None, "required column is missing")
        elif name in mapping:
            raise InputError(source, None, f"column mapped to {name!r} is missing")
    return resolved


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
    """Maps a column with few distinct values through `table` (case-insensitive names)."""
    fast = _map_arrow(series, table, null)
    if fast is not None:
        return fast
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
    """int64 ns UTC (NaT -> NOT_DELIVERED) and whether the input was tz-aware (None: numbers)."""
    if pd.api.types.is_bool_dtype(series.dtype):
        raise InputError(column, 0, "expected datetimes or epoch seconds, got booleans")
    if pd.api.types.is_numeric_dtype(series.dtype):
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
        return out, None
    native = _datetime_storage(series)
    if native is not None:
        # Out-of-range values come back clamped just outside 2000..2100 for _check_timestamps.
        ns, _ = _core.instants(*native)
        return ns, isinstance(series.dtype, pd.DatetimeTZDtype)
    aware, values = _parse_objects(series, column)
    ns = values.to_numpy(dtype="datetime64[ns]").view(np.int64)
    return ns, aware


def _datetime_storage(series: pd.Series) -> tuple[np.ndarray, int] | None:
    """(int64 values, ns per unit) of a datetime64 column, naive or tz-aware, or None.

    pandas stores both as int64 counts since the epoch in UTC with NaT as INT64_MIN, the
    core's own layout: the core scales them in one pass, no zone conversion needed.
    """
    if isinstance(series.dtype, pd.DatetimeTZDtype) or pd.api.types.is_datetime64_dtype(series.dtype):
        array = series.array
        return array.asi8, _NS_PER_UNIT[array.unit]
    return None


def _parse_objects(series: pd.Series, column: str) -> tuple[bool, pd.Series]:
    """Datetime objects or ISO strings; naive and tz-aware values may not be mixed."""
    non_null = series.dropna()
    if non_null.empty:
        return False, pd.Series(pd.NaT, index=series.index, dtype="datetime64[ns]")
    try:
        parsed = pd.to_datetime(non_null, format="ISO8601") if _all_strings(non_null) else None
    except (ValueError, TypeError):
        parsed = None
    if parsed is None or not (
        isinstance(parsed.dtype, pd.DatetimeTZDtype) or pd.api.types.is_datetime64_dtype(parsed.dtype)
    ):
        parsed = _parse_one_by_one(series, non_null, column)
    if isinstance(parsed.dtype, pd.DatetimeTZDtype):
        return True, parsed.dt.tz_convert("UTC").dt.tz_localize(None).reindex(series.index)
    return False, parsed.reindex(series.index)


def _all_strings(values: pd.Series) -> bool:
    return pd.api.types.is_string_dtype(values.dtype) and all(isinstance(v, str) for v in values.iloc[:1000])


def _parse_one_by_one(series: pd.Series, non_null: pd.Series, column: str) -> pd.Series:
    positions = {label: i for i, label in enumerate(series.index)} if not series.index.is_unique else None
    first_kind: bool | None = None
    stamps = []
    for label, value in non_null.items():
        row = positions[label] if positions else series.index.get_loc(label)
        try:
            stamp = pd.Timestamp(value)
        except (ValueError, TypeError):
            raise InputError(column, int(row), f"not a datetime: {value!r}") from None
        if stamp is pd.NaT:
            stamps.append(stamp)
            continue
        kind = stamp.tzinfo is not None
        if first_kind is None:
            first_kind = kind
        elif kind != first_kind:
            raise InputError(column, int(row), "mixed naive and tz-aware datetimes")
        stamps.append(stamp.tz_convert("UTC") if kind else stamp)
    return pd.Series(pd.to_datetime(stamps, utc=bool(first_kind)), index=non_null.index)


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
) -> CanonicalEvents:
    if not isinstance(frame, pd.DataFrame):
        raise InputError("events", None, f"expected a pandas DataFrame, got {type(frame).__name__}")
    names = resolve_columns(frame, columns)
    col = {name: frame[source] for name, source in names.items()}

    _no_nulls(col["business"], names["business"], "business")
    _no_nulls(col["user"], names["user"], "user")
    business, business_values = _factorize(col["business"], names["business"])
    if len(frame) < _OVERLAP_FROM_ROWS:
        user, user_values = _factorize(col["user"], names["user"])
        rest = _other_columns(frame, col, names, csw_refreshing, business, business_values)
    else:
        # User ids are the costliest column (hashing millions of strings in C++, GIL
        # released): other threads factorize them while this one converts the others, so
        # their hashing leaves this thread its core (on 2 cores, sharing it measured slower).
        # The sort at the end, when this thread waits, uses every core.
        with ThreadPoolExecutor(max_workers=1) as pool:
            users = pool.submit(_factorize, col["user"], names["user"], max(1, (os.cpu_count() or 1) - 1))
            try:
                rest = _other_columns(frame, col, names, csw_refreshing, business, business_values)
            except InputError:
                users.result()  # columns are checked in order: an error in user ids comes first
                raise
            user, user_values = users.result()
    return CanonicalEvents(
        business=business,
        user=user,
        business_values=business_values,
        user_values=user_values,
        time_zones=_zones_for(rest["waba_values"], timezones),
        user_country=col.get("user_country"),
        user_country_column=names.get("user_country", "user_country"),
        **rest,
    )


def _other_columns(
    frame: pd.DataFrame, col: dict[str, pd.Series], names: dict[str, str], csw_refreshing: CswRefreshing,
    business: np.ndarray, business_values: pd.Index,
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
    if referral is not None:
        np.multiply(referral, ~outbound, out=referral, casting="unsafe")
    duplicate = _duplicates(col, names, direction)
    refreshes = _csw_refreshing(frame, csw_refreshing)

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


def _duplicates(col: dict[str, pd.Series], names: dict[str, str], direction: np.ndarray) -> np.ndarray:
    if "message_id" not in col:
        return np.zeros(len(direction), dtype=np.uint8)
    ids = col["message_id"]
    keyed = pd.DataFrame({"id": ids.to_numpy(), "direction": direction})
    duplicate = keyed.duplicated().to_numpy() & ids.notna().to_numpy()
    return duplicate.astype(np.uint8)


def _csw_refreshing(frame: pd.DataFrame, option: CswRefreshing) -> np.ndarray | None:
    if option is None:
        return None
    if isinstance(option, str):
        if option not in frame.columns:
            raise InputError(option, None, "csw_refreshing names a column that is missing")
        return _bools(frame[option], option)
    if callable(option):
        mask = np.asarray(option(frame))
        if mask.shape != (len(frame),):
            raise InputError("csw_refreshing", None, "the predicate must return one boolean per row")
        return mask.astype(bool).astype(np.uint8)
    raise InputError("csw_refreshing", None, "expected None, a column name or a predicate")


def _zones_for(waba_values: pd.Index, timezones: Mapping[Hashable, str] | None) -> list[str]:
    zones = dict(timezones or {})
    by_text = {str(k): v for k, v in zones.items()}
    out = []
    for value in waba_values:
        zone = zones.get(value, by_text.get(str(value), "UTC"))
        if not isinstance(zone, str):
            raise InputError("timezones", None, f"time zone of WABA {value!r} must be a string, got {zone!r}")
        out.append(zone)
    return out


def read_csv_with_text_ids(path) -> pd.DataFrame:
    """A CSV event log with its id columns (TEXT_ID_COLUMNS) kept as text."""
    header = pd.read_csv(path, nrows=0).columns
    return pd.read_csv(path, dtype={name: "str" for name in header if name in TEXT_ID_COLUMNS})


def to_utc_index(ns: np.ndarray) -> pd.DatetimeIndex:
    return pd.DatetimeIndex(ns.view("datetime64[ns]")).tz_localize("UTC")

