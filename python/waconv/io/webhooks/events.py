"""From flat per-status and per-message columns to one event row per message, vectorised.

The adapters produce columns (Arrow arrays, or Python sequences that are converted once);
everything after that is Arrow and NumPy: statuses are sorted once by message and
preference, and each message's values are picked with ``reduceat`` over the groups and an
Arrow ``take``, so no Python object is made per status, and neither duplicates nor arrival
order can change the result.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Union

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

STATUS_NAMES = ("sent", "delivered", "read", "played", "failed")
STATUS_RANK = {name: rank for rank, name in enumerate(STATUS_NAMES)}
SENT, DELIVERED, READ, PLAYED, FAILED = range(5)
NO_TIME = np.iinfo(np.int64).max  # "no such status" while taking minima

Column = Union[pa.Array, pa.ChunkedArray, Sequence[Any], np.ndarray]


def strings(values: Column) -> pa.Array:
    """An Arrow string array from an Arrow array or a sequence of str/None (other scalars,
    e.g. a phone number sent as a JSON number, become their text)."""
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks() if values.num_chunks != 1 else values.chunk(0)
    if isinstance(values, pa.Array):
        return values if values.type == pa.string() else pc.cast(values, pa.string())
    try:
        return pa.array(values, type=pa.string(), from_pandas=True)
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        return pa.array([None if v is None else str(v) for v in values], type=pa.string())


def numbers(values: Column) -> np.ndarray:
    """float64 with NaN where missing (seconds, error codes, 1/0 flags)."""
    if isinstance(values, (pa.Array, pa.ChunkedArray)):
        return pc.cast(values, pa.float64()).to_numpy(zero_copy_only=False)
    return np.array(values, dtype=np.float64) if len(values) else np.empty(0, dtype=np.float64)


def integers(values: Column, dtype: Any = np.int64) -> np.ndarray:
    if isinstance(values, (pa.Array, pa.ChunkedArray)):
        return values.to_numpy(zero_copy_only=False).astype(dtype, copy=False)
    return np.asarray(values, dtype=dtype) if len(values) else np.empty(0, dtype=dtype)


def _groups(codes_sorted: np.ndarray) -> np.ndarray:
    """Start positions of the runs of equal codes in a sorted code array."""
    if len(codes_sorted) == 0:
        return np.empty(0, dtype=np.intp)
    return np.flatnonzero(np.r_[True, codes_sorted[1:] != codes_sorted[:-1]])


def _first_positions(valid_sorted: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """Per group, the first sorted position where `valid`; len(valid) where none is."""
    n = len(valid_sorted)
    return np.minimum.reduceat(np.where(valid_sorted, np.arange(n), n), starts)


def _pick_strings(values: pa.Array, order: np.ndarray, starts: np.ndarray) -> pa.Array:
    valid = values.is_valid().to_numpy(zero_copy_only=False)[order]
    first = _first_positions(valid, starts)
    missing = first == len(order)
    rows = order[np.where(missing, 0, first)]
    return values.take(pa.array(rows, mask=missing))


def _pick_numbers(values: np.ndarray, order: np.ndarray, starts: np.ndarray) -> np.ndarray:
    sorted_values = values[order]
    first = _first_positions(~np.isnan(sorted_values), starts)
    return np.r_[sorted_values, np.nan][first]


def _message_codes(ids: Column) -> tuple[np.ndarray, pa.Array]:
    encoded = pc.dictionary_encode(strings(ids))
    return encoded.indices.to_numpy(zero_copy_only=False).astype(np.int64), encoded.dictionary


def aggregate_statuses(
    ids: Column, status: Column, time: Column,
    objects: Mapping[str, Column], numeric: Mapping[str, Column], *, order: Column | None = None,
) -> dict[str, Any]:
    """One row per outbound message id from its statuses.

    timestamp: the earliest `sent` time, else the earliest status time; delivered_at: the
    earliest delivered/read/played time, never before the timestamp (-1: not delivered);
    status: the furthest delivery status reached, else `failed`, else `sent`. Every other
    field is taken from the most trusted status that carries it: a `delivered` status first,
    then the latest status (ties: the furthest status). `objects` come back as Arrow string
    arrays, `numeric` as float64 with NaN. `order`: each row's place in the input, the last
    tie-break (default: the rows' own order).
    """
    codes, uniques = _message_codes(ids)
    status = integers(status, np.int8)
    time = integers(time)
    keys = (-status, -time, (status != DELIVERED).astype(np.int8), codes)
    order = np.lexsort(keys if order is None else (integers(order), *keys))
    starts = _groups(codes[order])
    out: dict[str, Any] = {"message_id": uniques.take(pa.array(codes[order][starts])) if len(starts) else uniques[:0]}
    if len(starts) == 0:
        out.update(timestamp=np.empty(0, np.int64), delivered_at=np.empty(0, np.int64), status=np.empty(0, np.int8))
        out.update({name: pa.array([], pa.string()) for name in objects})
        out.update({name: np.empty(0, np.float64) for name in numeric})
        return out
    status_sorted, time_sorted = status[order], time[order]
    sent = np.minimum.reduceat(np.where(status_sorted == SENT, time_sorted, NO_TIME), starts)
    timestamp = np.where(sent != NO_TIME, sent, np.minimum.reduceat(time_sorted, starts))
    reached = (status_sorted >= DELIVERED) & (status_sorted <= PLAYED)
    delivery = np.minimum.reduceat(np.where(reached, time_sorted, NO_TIME), starts)
    # A delivery stamped before the send (clock skew between webhooks) counts at the send.
    out["timestamp"] = timestamp
    out["delivered_at"] = np.where(delivery != NO_TIME, np.maximum(delivery, timestamp), -1)
    furthest = np.maximum.reduceat(np.where(reached, status_sorted, -1), starts)
    failed = np.maximum.reduceat(status_sorted == FAILED, starts)
    out["status"] = np.where(furthest >= DELIVERED, furthest, np.where(failed, FAILED, SENT)).astype(np.int8)
    for name, values in objects.items():
        out[name] = _pick_strings(strings(values), order, starts)
    for name, values in numeric.items():
        out[name] = _pick_numbers(numbers(values), order, starts)
    return out


def aggregate_messages(ids: Column, time: Column, referral: Column, objects: Mapping[str, Column], *,
                       order: Column | None = None) -> dict[str, Any]:
    """One row per inbound message id: the earliest copy's time, referral if any copy has one,
    other fields from the earliest copy that carries them (`order` breaks ties, as above)."""
    codes, uniques = _message_codes(ids)
    time = integers(time)
    order = np.lexsort((time, codes) if order is None else (integers(order), time, codes))
    starts = _groups(codes[order])
    if len(starts) == 0:
        out = {"message_id": uniques[:0], "timestamp": np.empty(0, np.int64), "referral": np.empty(0, bool)}
        out.update({name: pa.array([], pa.string()) for name in objects})
        return out
    out = {
        "message_id": uniques.take(pa.array(codes[order][starts])),
        "timestamp": np.minimum.reduceat(time[order], starts),
        "referral": np.maximum.reduceat(integers(referral, bool)[order], starts),
    }
    for name, values in objects.items():
        out[name] = _pick_strings(strings(values), order, starts)
    return out


def resolve_users(phone: pa.Array, bsuid: pa.Array, phone_of: Mapping[str, str]) -> pa.Array:
    """The phone number where known (from this message or any payload pairing it with the
    BSUID), else the BSUID."""
    if phone.null_count == 0:
        return phone
    if phone_of:
        keys = pa.array(list(phone_of), pa.string())
        mapped = pa.array(list(phone_of.values()), pa.string()).take(pc.index_in(bsuid, value_set=keys))
        return pc.coalesce(phone, mapped, bsuid)
    return pc.coalesce(phone, bsuid)


def _utc(times: np.ndarray, missing: np.ndarray | None = None, unit: int = 1_000_000_000) -> pd.DatetimeIndex:
    values = (np.asarray(times, dtype=np.int64) * unit).view("datetime64[ns]").copy()
    if missing is not None:
        values[missing] = np.datetime64("NaT")
    return pd.DatetimeIndex(values).tz_localize("UTC")


def events_frame(inbound: dict[str, Any], outbound: dict[str, Any],
                 extra: Sequence[tuple[str, str]] = (), *, unit: int = 1_000_000_000) -> pd.DataFrame:
    """Stacks inbound and outbound rows into the canonical frame, sorted by
    (timestamp, direction, message_id) so that payload order never shows.

    extra: further (name, kind) columns after the core ones, kind ``"str"``, ``"time"``
    (like the times, NaN = missing), ``"float"`` (NaN = missing) or ``"bool"`` (1/0/NaN);
    missing on inbound rows.
    unit: nanoseconds per unit of the integer times (default: epoch seconds).
    """
    n_in, n_out = len(inbound["timestamp"]), len(outbound["timestamp"])
    timestamp = np.concatenate([inbound["timestamp"], outbound["timestamp"]]).astype(np.int64)
    outgoing = np.r_[np.zeros(n_in, dtype=np.int8), np.ones(n_out, dtype=np.int8)]
    message_id = pa.concat_arrays([strings(inbound["message_id"]), strings(outbound["message_id"])])
    order = pc.sort_indices(
        pa.table({"t": timestamp, "d": outgoing, "m": message_id}),
        sort_keys=[("t", "ascending"), ("d", "ascending"), ("m", "ascending")],
    )
    order_np = order.to_numpy()

    def text(name: str) -> pd.arrays.ArrowStringArray:
        parts = [strings(side[name]) if name in side else pa.nulls(size, pa.string())
                 for side, size in ((inbound, n_in), (outbound, n_out))]
        return pd.array(pa.concat_arrays(parts).take(order), dtype="str")

    def floats(name: str) -> np.ndarray:
        return np.r_[np.full(n_in, np.nan), numbers(outbound[name])][order_np]

    delivered = np.r_[np.full(n_in, -1, dtype=np.int64), outbound["delivered_at"]][order_np]
    status = np.r_[np.full(n_in, -1, dtype=np.int8), outbound["status"]][order_np]
    status_names = pa.DictionaryArray.from_arrays(pa.array(status, mask=status < 0), pa.array(STATUS_NAMES))
    columns: dict[str, Any] = {
        "business": text("business"),
        "waba": text("waba"),
        "user": text("user"),
    }
    for name in ("user_phone", "user_bsuid", "user_country"):  # where the adapter reads them
        if name in inbound or name in outbound:
            columns[name] = text(name)
    columns.update({
        "message_id": pd.array(message_id.take(order), dtype="str"),
        "timestamp": _utc(timestamp[order_np], unit=unit),
        "direction": pd.array(pa.DictionaryArray.from_arrays(pa.array(outgoing[order_np]), pa.array(["inbound", "outbound"]))
                              .cast(pa.string()), dtype="str"),
        "template_category": text("template_category"),
        "delivered_at": _utc(np.maximum(delivered, 0), delivered < 0, unit),
        "referral": np.r_[np.asarray(inbound["referral"], dtype=bool), np.zeros(n_out, dtype=bool)][order_np],
        "status": pd.array(status_names.cast(pa.string()), dtype="str"),
        "error_code": pd.array(floats("error_code"), dtype="Int64"),
        "message_type": text("message_type"),
    })
    for name, kind in extra:
        if kind == "str":
            columns[name] = text(name)
        elif kind == "time":
            seconds = floats(name)
            missing = np.isnan(seconds)
            columns[name] = _utc(np.where(missing, 0, seconds).astype(np.int64), missing, unit)
        elif kind == "float":
            columns[name] = floats(name)
        else:
            columns[name] = pd.array(floats(name), dtype="boolean")
    return pd.DataFrame(columns)
