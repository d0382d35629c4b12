"""aggregate_statuses / aggregate_messages in the C++ core: same arguments, same result.

The functions of :mod:`waconv.io.webhooks.events` define the result and stay the reference
(the tests compare the two on random rows); here the grouping by message id, the ranking
of each message's rows, the timestamp / delivered_at / status reductions and the choice of
the row each other field is taken from run in ``waconv._core`` (GIL released, every core),
and the values are gathered with Arrow's ``take``. Ids with nulls (which no reader
produces) go to the reference.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pyarrow as pa

from waconv import _core
from waconv.engine.strings import array_buffers
from waconv.io.webhooks import events
from waconv.io.webhooks.events import Column, integers, numbers, strings


def aggregate_statuses(
    ids: Column, status: Column, time: Column,
    objects: Mapping[str, Column], numeric: Mapping[str, Column], *, order: Column | None = None,
) -> dict[str, Any]:
    """events.aggregate_statuses, in C++."""
    ids = strings(ids)
    if ids.null_count:
        return events.aggregate_statuses(ids, status, time, objects, numeric, order=order)
    status = np.ascontiguousarray(integers(status, np.int8))
    time = np.ascontiguousarray(integers(time))
    grouped = _core.aggregate_statuses(*_buffers(ids), status, time, _order(order))
    reduced = {name: grouped[name] for name in ("timestamp", "delivered_at", "status")}
    return _gathered(ids, grouped, reduced, objects, numeric)


def aggregate_messages(ids: Column, time: Column, referral: Column, objects: Mapping[str, Column], *,
                       order: Column | None = None) -> dict[str, Any]:
    """events.aggregate_messages, in C++."""
    ids = strings(ids)
    if ids.null_count:
        return events.aggregate_messages(ids, time, referral, objects, order=order)
    time = np.ascontiguousarray(integers(time))
    referral = np.ascontiguousarray(integers(referral, bool)).view(np.uint8)
    grouped = _core.aggregate_messages(*_buffers(ids), time, referral, _order(order))
    return _gathered(ids, grouped, {"timestamp": grouped["timestamp"], "referral": grouped["referral"].view(bool)},
                     objects, {})


def _order(order: Column | None) -> np.ndarray | None:
    return None if order is None else np.ascontiguousarray(integers(order))


def _gathered(ids: pa.Array, grouped: dict[str, np.ndarray], reduced: dict[str, np.ndarray],
              objects: Mapping[str, Column], numeric: Mapping[str, Column]) -> dict[str, Any]:
    """message_id, the reduced columns, and every other field, each from the first ranked row
    of its message that has it (the reference's keys, in its order)."""
    rows, starts = grouped["rows"], grouped["starts"]
    out: dict[str, Any] = {"message_id": ids.take(pa.array(rows[starts[:-1]])), **reduced}
    for name, values in objects.items():
        values = strings(values)
        validity = values.buffers()[0] if values.null_count else None
        picked = _core.first_present_rows(rows, starts, None if validity is None else np.frombuffer(validity, np.uint8),
                                          values.offset, len(values))
        out[name] = values.take(pa.array(picked, mask=picked < 0))
    for name, values in numeric.items():
        values = np.ascontiguousarray(numbers(values))
        picked = _core.first_number_rows(rows, starts, values)
        out[name] = np.where(picked >= 0, values[np.maximum(picked, 0)], np.nan)
    return out


def _buffers(ids: pa.Array) -> tuple:
    """An Arrow string array as the core's string functions take it."""
    if not (pa.types.is_string(ids.type) or pa.types.is_large_string(ids.type)):
        ids = ids.cast(pa.string())
    return array_buffers(ids)
