"""The fast path of read_webhooks for JSON-lines files: Arrow's JSON reader, then columns.

A webhook log of millions of statuses is mostly the same envelope again and again. Arrow's
C++ reader parses the whole file into nested columns (on all cores) and the envelope is
flattened with list kernels, so no Python object is made per payload. The path only
accepts files it can read exactly as :mod:`waconv.io.webhooks.walk` would; anything unusual
(a bare value object, a type it would have to guess, a malformed item that must be named
by line) makes it return None and the file is read payload by payload instead, so the
result and the error messages never depend on which path ran.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.json as pj

from waconv.io.webhooks.events import STATUS_NAMES
from waconv.io.webhooks.sources import EARLIEST_SECONDS, LATEST_SECONDS


class _Unsupported(Exception):
    """Something the columnar path does not read exactly like the payload walker."""


def read_columns(path: Path) -> dict[str, Any] | None:
    """{"statuses": columns, "messages": columns, "pairs": (bsuids, phones)} or None."""
    try:
        table = pj.read_json(path, parse_options=pj.ParseOptions(newlines_in_values=False))
        return _envelopes(table)
    except (pa.ArrowException, _Unsupported):  # Arrow's errors include ArrowInvalid, ArrowTypeError
        return None


def _field(array: pa.Array | None, name: str) -> pa.Array | None:
    """The `name` field of an array of objects, None where there is none; values that are not
    objects are something the walker rejects by name."""
    if array is None or pa.types.is_null(array.type):
        return None
    if not pa.types.is_struct(array.type):
        raise _Unsupported(f"expected objects, got {array.type}")
    if array.type.get_field_index(name) < 0:
        return None
    return pc.struct_field(array, name)  # null where the parent object is null


def _list(array: pa.Array | None) -> pa.Array | None:
    if array is None or pa.types.is_null(array.type):
        return None
    if not pa.types.is_list(array.type) or not pa.types.is_struct(array.type.value_type):
        raise _Unsupported("expected a list of objects")
    return array


def _strings(array: pa.Array | None, size: int) -> pa.Array:
    if array is None or pa.types.is_null(array.type):
        return pa.nulls(size, pa.string())
    if pa.types.is_string(array.type):
        return array
    if pa.types.is_integer(array.type):
        return pc.cast(array, pa.string())  # the walker's str(), for numbers sent as JSON numbers
    raise _Unsupported(f"unexpected type {array.type}")


def _seconds(array: pa.Array | None, size: int, *, required: bool) -> pa.Array:
    if array is None or pa.types.is_null(array.type):
        if required:
            raise _Unsupported("missing times")
        return pa.nulls(size, pa.int64())
    if not (pa.types.is_string(array.type) or pa.types.is_integer(array.type)):
        raise _Unsupported("times that are not digits")
    seconds = pc.cast(array, pa.int64())  # raises ArrowInvalid for anything but digits
    _require(not (required and seconds.null_count))
    _require(pc.and_kleene(pc.greater_equal(seconds, EARLIEST_SECONDS), pc.less(seconds, LATEST_SECONDS)))
    return seconds


def _require(condition: pa.Array | bool) -> None:
    ok = condition if isinstance(condition, bool) else pc.all(condition).as_py() in (True, None)
    if not ok:
        raise _Unsupported("a payload the walker must name")


def _envelopes(table: pa.Table) -> dict[str, Any]:
    if "entry" not in table.column_names:
        raise _Unsupported("no envelopes")
    entry = _list(table["entry"].combine_chunks())
    _require(entry is not None and entry.null_count == 0)
    entries = pc.list_flatten(entry)
    changes_of_entry = _list(_field(entries, "changes"))
    _require(changes_of_entry is not None and changes_of_entry.null_count == 0)
    waba = _strings(_field(entries, "id"), len(entries)).take(pc.list_parent_indices(changes_of_entry))
    changes = pc.list_flatten(changes_of_entry)
    field = _field(changes, "field")
    keep = pa.array(np.ones(len(changes), dtype=bool)) if field is None else \
        pc.fill_null(pc.equal(_strings(field, len(changes)), "messages"), True)
    value = _field(changes, "value")
    _require(value is not None and pc.all(pc.or_(pc.invert(keep), value.is_valid())).as_py() in (True, None))
    keep_np = keep.to_numpy(zero_copy_only=False)
    business = _strings(_field(_field(value, "metadata"), "phone_number_id"), len(changes))
    _require(pc.or_(pc.invert(keep), business.is_valid()))
    statuses, messages = _list(_field(value, "statuses")), _list(_field(value, "messages"))
    errors = _field(value, "errors")
    anything = pa.array(np.zeros(len(changes), dtype=bool))
    for part in (statuses, messages, errors):  # a value-level `errors` notification is no message
        if part is not None:
            anything = pc.or_(anything, part.is_valid())
    _require(pc.or_(pc.invert(keep), anything))
    return {
        "statuses": _statuses(statuses, keep_np, business, waba),
        "messages": _messages(messages, keep_np, business, waba),
        "pairs": _pairs(_list(_field(value, "contacts")), keep_np),
    }


def _items(lists: pa.Array | None, keep: np.ndarray) -> tuple[pa.Array | None, np.ndarray]:
    """The items of the kept changes' lists and, for each, the index of its change."""
    if lists is None:
        return None, np.empty(0, dtype=np.int64)
    parent = pc.list_parent_indices(lists).to_numpy(zero_copy_only=False)
    items = pc.list_flatten(lists)
    kept = keep[parent]
    if not kept.all():
        mask = pa.array(kept)
        items, parent = items.filter(mask), parent[kept]
    return items, parent


def _identified_items(lists: pa.Array | None, keep: np.ndarray) -> tuple[pa.Array, np.ndarray, pa.Array] | None:
    """The kept statuses or messages with their parent rows and non-empty ``id`` strings."""
    items, parent = _items(lists, keep)
    if items is None or len(items) == 0:
        return None
    ids = _field(items, "id")
    _require(ids is not None and pa.types.is_string(ids.type) and ids.null_count == 0)
    _require(pc.greater(pc.utf8_length(ids), 0))
    return items, parent, ids


def _statuses(lists: pa.Array | None, keep: np.ndarray, business: pa.Array, waba: pa.Array) -> dict[str, pa.Array] | None:
    found = _identified_items(lists, keep)
    if found is None:
        return None
    items, parent, ids = found
    n = len(items)
    status = pc.index_in(_strings(_field(items, "status"), n), value_set=pa.array(STATUS_NAMES))
    _require(status.null_count == 0)
    phone = _strings(_field(items, "recipient_id"), n)
    relayed = _field(_field(items, "message"), "recipient_id")
    if relayed is not None:
        phone = pc.coalesce(phone, _strings(relayed, n))
    bsuid = _strings(_field(items, "recipient_user_id"), n)
    _require(pc.or_(phone.is_valid(), bsuid.is_valid()))
    conversation, pricing = _field(items, "conversation"), _field(items, "pricing")
    for obj in (conversation, pricing):
        _require(obj is None or pa.types.is_struct(obj.type) or pa.types.is_null(obj.type))
    billable = _field(pricing, "billable")
    if billable is None or pa.types.is_null(billable.type):
        billable = pa.nulls(n, pa.bool_())
    _require(pa.types.is_boolean(billable.type))
    failed = pc.equal(status, STATUS_NAMES.index("failed"))
    take = pa.array(parent)
    return {
        "message_id": ids,
        "status": pc.cast(status, pa.int8()),
        "time": _seconds(_field(items, "timestamp"), n, required=True),
        "business": business.take(take),
        "waba": waba.take(take),
        "phone": phone,
        "bsuid": bsuid,
        "meta_conversation_id": _strings(_field(conversation, "id"), n),
        "meta_conversation_origin": _strings(_field(_field(conversation, "origin"), "type"), n),
        "meta_conversation_expiration": _seconds(_field(conversation, "expiration_timestamp"), n, required=False),
        "meta_billable": billable,
        "meta_pricing_model": _strings(_field(pricing, "pricing_model"), n),
        "meta_pricing_category": _strings(_field(pricing, "category"), n),
        "meta_pricing_type": _strings(_field(pricing, "type"), n),
        "error_code": pc.if_else(failed, _first_error_code(_list(_field(items, "errors")), n), pa.scalar(None, pa.int64())),
    }


def _first_error_code(errors: pa.Array | None, size: int) -> pa.Array:
    if errors is None:
        return pa.nulls(size, pa.int64())
    lengths = pc.fill_null(pc.list_value_length(errors), 0).to_numpy(zero_copy_only=False)
    offsets = errors.offsets.to_numpy(zero_copy_only=False)[:-1]
    codes = _field(errors.values, "code")
    if codes is None or pa.types.is_null(codes.type):
        return pa.nulls(size, pa.int64())
    if not (pa.types.is_integer(codes.type) or pa.types.is_string(codes.type)):
        raise _Unsupported("error codes that are not integers")
    codes = pc.cast(codes, pa.int64())
    return codes.take(pa.array(np.where(lengths > 0, offsets, 0), mask=lengths == 0))


def _messages(lists: pa.Array | None, keep: np.ndarray, business: pa.Array, waba: pa.Array) -> dict[str, pa.Array] | None:
    found = _identified_items(lists, keep)
    if found is None:
        return None
    items, parent, ids = found
    n = len(items)
    phone, bsuid = _strings(_field(items, "from"), n), _strings(_field(items, "from_user_id"), n)
    _require(pc.or_(phone.is_valid(), bsuid.is_valid()))
    referral = _field(items, "referral")
    if referral is None:
        is_referral = pa.array(np.zeros(n, dtype=bool))
    elif pa.types.is_struct(referral.type):
        is_referral = referral.is_valid()
    else:
        raise _Unsupported("a referral that is not an object")
    take = pa.array(parent)
    return {
        "message_id": ids,
        "time": _seconds(_field(items, "timestamp"), n, required=True),
        "referral": is_referral,
        "business": business.take(take),
        "waba": waba.take(take),
        "phone": phone,
        "bsuid": bsuid,
        "message_type": _strings(_field(items, "type"), n),
    }


def _pairs(contacts: pa.Array | None, keep: np.ndarray) -> tuple[pa.Array, pa.Array] | None:
    items, _ = _items(contacts, keep)
    if items is None or len(items) == 0:
        return None
    bsuid, phone = _strings(_field(items, "user_id"), len(items)), _strings(_field(items, "wa_id"), len(items))
    both = pc.and_(pc.fill_null(pc.greater(pc.utf8_length(bsuid), 0), False),
                   pc.fill_null(pc.greater(pc.utf8_length(phone), 0), False))
    return bsuid.filter(both), phone.filter(both)
