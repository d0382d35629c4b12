"""The fast path of read_webhooks for JSON-lines files: Arrow's JSON reader, then columns.

A webhook log of millions of statuses is mostly the same envelope again and again. Arrow's
C++ reader parses the whole file into nested columns (on all cores) and the envelope is
flattened with list kernels, so no Python object is made per payload. The path only
accepts files it can read exactly as :mod:`waconv.io.webhooks.walk` would; anything unusual
(a bare value object, a type it would have to guess, a malformed item that must be named
by line) makes it return None and the file is read payload by payload instead, so the
result and the error messages never depend on which path ran.

Before Arrow sees a file, two checks that cost a few percent of the read (both native or
vectorised, no Python per line): the file is valid UTF-8 (Arrow keeps invalid bytes in its
strings, where orjson rejects the line and names it), and no line holds enough ``[``/``{``
to overflow the stack of Arrow's recursive parser (a segfault near 17,000 levels of nesting).
After it, the nesting of the types it inferred (the deepest line's) must be within the
exact path's limit, which would reject the deeper lines.
"""

from __future__ import annotations

import gzip
import mmap
import os
import zlib
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.json as pj

from waconv.io.webhooks.events import STATUS_NAMES
from waconv.io.webhooks.sources import DEEPEST, EARLIEST_SECONDS, LATEST_SECONDS


class _Unsupported(Exception):
    """Something the columnar path does not read exactly like the payload walker."""


_CHUNK = 1 << 15  # bytes per step of the nesting bound
# At most this many '[' and '{' in one line of a file given to Arrow: a quarter of the depth
# at which Arrow's parser overflows an 8 MiB stack; webhook lines hold a few dozen.
_MOST_OPENINGS = 4096
_WHITESPACE = np.array([ord(c) for c in " \t\r\n"], dtype=np.uint8)


def read_columns(path: Path) -> dict[str, Any] | None:
    """{"statuses": columns, "messages": columns, "pairs": (bsuids, phones),
    "displays": (phone number ids, display phone numbers)} or None."""
    try:
        if path.name.lower().endswith(".gz"):  # decompressed in memory; a corrupt file is for the exact path
            data: Any = gzip.decompress(path.read_bytes())
            lines, source = _lines_in(data), pa.BufferReader(data)
        else:
            lines, source = _lines_for_arrow(path), path
        if lines is None:
            return None
        table = pj.read_json(source, parse_options=pj.ParseOptions(newlines_in_values=False))
        # One row per line (Arrow also splits at a bare CR and reads two objects on one line,
        # which orjson refuses), within the exact path's nesting, numbers that orjson reads.
        if table.num_rows != lines or _levels(table.schema) > DEEPEST or not _finite(table):
            return None
        return _envelopes(table)
    # Arrow's errors include ArrowInvalid, ArrowTypeError; a key that is not UTF-8 fails as its
    # field name is decoded; an unreadable file is for the exact path to report
    except (pa.ArrowException, UnicodeDecodeError, OSError, EOFError, zlib.error, _Unsupported):
        return None


def _lines_for_arrow(path: Path) -> int | None:
    """The number of lines from the first to the last that holds more than whitespace, or None
    when the file is not for Arrow's reader."""
    with open(path, "rb") as handle:
        if os.fstat(handle.fileno()).st_size == 0:
            return None  # nothing to read (and nothing to map)
        with mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as data:
            return _lines_in(data)


def _lines_in(data: mmap.mmap | bytes) -> int | None:
    if len(data) == 0 or not (_valid_utf8(data) and _shallow(data)):
        return None
    return _lines_between_content(data)


def _lines_between_content(data: mmap.mmap | bytes) -> int | None:
    octets = np.frombuffer(data, dtype=np.uint8)
    content = np.flatnonzero(~np.isin(octets[:4096], _WHITESPACE))
    if len(content) == 0:
        return None  # leading whitespace longer than that: let the exact path sort it out
    first = int(content[0])
    last = len(octets) - 1
    while last > first and octets[last] in _WHITESPACE:
        last -= 1
    return int(np.count_nonzero(octets[first:last] == ord("\n"))) + 1


def _finite(table: pa.Table) -> bool:
    """Whether every float Arrow read is finite: it reads NaN, Infinity and integers beyond
    a double's range (as infinity), which orjson refuses."""
    stack: list[pa.Array] = [chunk for column in table.columns for chunk in column.chunks]
    while stack:
        array = stack.pop()
        if pa.types.is_struct(array.type):
            stack.extend(array.field(i) for i in range(array.type.num_fields))
        elif pa.types.is_list(array.type) or pa.types.is_large_list(array.type):
            stack.append(array.values)
        elif pa.types.is_floating(array.type) and pc.all(pc.is_finite(array)).as_py() is False:
            return False
    return True


def _valid_utf8(data: mmap.mmap | bytes) -> bool:
    """Arrow's own UTF-8 check over the whole file, viewed as one string without a copy."""
    offsets = pa.array([0, len(data)], pa.int64()).buffers()[1]
    text = pa.LargeStringArray.from_buffers(1, offsets, pa.py_buffer(data))
    try:
        text.validate(full=True)
    except pa.ArrowInvalid:
        return False
    finally:
        del text  # release the view, so the file's mapping can be closed
    return True


def _shallow(data: mmap.mmap | bytes) -> bool:
    """Whether every line holds at most _MOST_OPENINGS '[' and '{' (its nesting depth cannot be
    more), bounded chunk by chunk: a line that reaches into a chunk began after the last
    newline before it, so it holds no more than the chunks since that newline's chunk."""
    octets = np.frombuffer(data, dtype=np.uint8)
    since_newline = 0
    for start in range(0, len(octets), _CHUNK):
        end = start + _CHUNK
        openings = int(np.count_nonzero((octets[start:end] | 0x20) == ord("{")))  # '[' | 0x20 is '{'
        if since_newline + openings > _MOST_OPENINGS:
            return False
        since_newline = openings if data.find(b"\n", start, end) >= 0 else since_newline + openings
    return True


def _levels(schema: pa.Schema) -> int:
    """Levels of nesting of the rows (a row is an object: 1), as JSON counts its brackets."""
    deepest = 1
    stack = [(field.type, 1) for field in schema]  # (type, levels of the object or list holding it)
    while stack:
        kind, above = stack.pop()
        if pa.types.is_struct(kind):
            deepest = max(deepest, above + 1)
            stack.extend((kind.field(i).type, above + 1) for i in range(kind.num_fields))
        elif pa.types.is_list(kind) or pa.types.is_large_list(kind):
            deepest = max(deepest, above + 1)
            stack.append((kind.value_type, above + 1))
    return deepest


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
    metadata = _field(value, "metadata")
    business = _strings(_field(metadata, "phone_number_id"), len(changes))
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
        "contacts": _contacts(_list(_field(value, "contacts")), keep_np),
        "changes": len(changes),
        "displays": _displays(business, _strings(_field(metadata, "display_phone_number"), len(changes)), keep_np),
    }


def _displays(business: pa.Array, display: pa.Array, keep: np.ndarray) -> tuple[pa.Array, pa.Array]:
    """(phone number id, display phone number) of the kept changes that carry both."""
    both = pc.and_(pa.array(keep), pc.fill_null(pc.greater(pc.utf8_length(display), 0), False))
    both = pc.and_(both, business.is_valid())
    return business.filter(both), display.filter(both)


def _amounts(array: pa.Array | None, size: int) -> pa.Array:
    """pricing.cost.amount as float64, as the walker reads it (numbers only, none negative)."""
    if array is None or pa.types.is_null(array.type):
        return pa.nulls(size, pa.float64())
    if not (pa.types.is_integer(array.type) or pa.types.is_floating(array.type)):
        raise _Unsupported(f"cost amounts of type {array.type}")
    amounts = pc.cast(array, pa.float64())
    _require(pc.and_kleene(pc.greater_equal(amounts, 0.0), pc.less(amounts, 1e15)))
    return amounts


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
    _require(pc.or_(_nonempty(phone), _nonempty(bsuid)))  # an empty string is no id
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
        "change": pa.array(parent),
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
        "meta_cost": _amounts(_field(_field(pricing, "cost"), "amount"), n),
        "meta_cost_currency": _strings(_field(_field(pricing, "cost"), "currency"), n),
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
    _require(pc.or_(_nonempty(phone), _nonempty(bsuid)))
    referral = _field(items, "referral")
    if referral is None:
        is_referral = pa.array(np.zeros(n, dtype=bool))
    elif pa.types.is_struct(referral.type):
        is_referral = referral.is_valid()
    else:
        raise _Unsupported("a referral that is not an object")
    take = pa.array(parent)
    return {
        "change": pa.array(parent),
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


def _nonempty(strings: pa.Array) -> pa.Array:
    return pc.fill_null(pc.greater(pc.utf8_length(strings), 0), False)


def _contacts(contacts: pa.Array | None, keep: np.ndarray) -> tuple[np.ndarray, pa.Array, pa.Array, pa.Array] | None:
    """(change index, BSUID, phone, country) of every kept contact with an id, as the walker
    reads them (empty strings null, a country code two ASCII letters)."""
    items, parent = _items(contacts, keep)
    if items is None or len(items) == 0:
        return None
    n = len(items)
    bsuid, phone = _strings(_field(items, "user_id"), n), _strings(_field(items, "wa_id"), n)
    country = _strings(_field(_field(items, "profile"), "country_code"), n)
    _require(pc.or_(pc.invert(_nonempty(country)), pc.match_substring_regex(country, "^[A-Za-z]{2}$")))
    bsuid, phone, country = (pc.if_else(_nonempty(a), a, pa.scalar(None, pa.string())) for a in (bsuid, phone, country))
    some = pc.or_(bsuid.is_valid(), phone.is_valid())
    return parent[some.to_numpy(zero_copy_only=False)], bsuid.filter(some), phone.filter(some), country.filter(some)
