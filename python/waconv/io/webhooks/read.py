"""waconv.read_webhooks: WhatsApp Cloud API webhook payloads -> the canonical event table."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal, Union, overload

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from waconv.io.webhooks.categories import infer_template_categories, sends_lookup
from waconv.io.webhooks.aggregate import aggregate_messages, aggregate_statuses
from waconv.io.webhooks.columns import read_columns
from waconv.io.webhooks.events import events_frame, resolve_users, strings
from waconv.io.webhooks.native import read_native
from waconv.io.webhooks.sources import Rejections, Source, WebhookRead, documents, is_json_lines
from waconv.io.webhooks.walk import MESSAGE_FIELDS, STATUS_FIELDS, Walker

Sends = Union[Mapping[str, Any], pd.Series, pd.DataFrame, None]

META_STRINGS = (
    "meta_conversation_id", "meta_conversation_origin",
    "meta_pricing_model", "meta_pricing_category", "meta_pricing_type", "meta_cost_currency",
)
# The meta_* columns in output order, with their kinds (see events_frame).
META_COLUMNS = (
    ("meta_conversation_id", "str"), ("meta_conversation_origin", "str"),
    ("meta_conversation_expiration", "time"), ("meta_billable", "bool"),
    ("meta_pricing_model", "str"), ("meta_pricing_category", "str"), ("meta_pricing_type", "str"),
    ("meta_cost", "float"), ("meta_cost_currency", "str"),
)


@overload
def read_webhooks(source: Source, *, sends: Sends = ..., errors: Literal["raise"] = ...) -> pd.DataFrame: ...
@overload
def read_webhooks(source: Source, *, sends: Sends = ..., errors: Literal["collect"]) -> WebhookRead: ...


def read_webhooks(source: Source, *, sends: Sends = None, errors: str = "raise") -> pd.DataFrame | WebhookRead:
    """WhatsApp Cloud API ``messages`` webhooks as one event row per message, ready for
    :func:`waconv.classify`.

    source: a path to a JSON file (one payload or an array of payloads), a JSON-lines file
    (``.jsonl``/``.ndjson``; one payload per line), either gzipped (``.json.gz``,
    ``.jsonl.gz``, ``.ndjson.gz``: decompressed on the fly; a corrupt one is an error naming
    the file, field ``gzip``) or a directory of them; or one payload
    (dict or JSON text); or an iterable of payloads, JSON texts and paths. A byte order mark
    before a JSON text (or at the start of a file) is ignored.
    sends: your send log, message id -> template category (``marketing``, ``utility``,
    ``authentication``, ``marketing_lite``) or null for a free-form message; a mapping, a
    Series indexed by message id, or a DataFrame with ``message_id`` and
    ``template_category``. It wins over what the webhooks imply.
    errors: ``"raise"`` (default) raises :class:`waconv.InputError` naming the file, line and
    field of the first malformed payload; ``"collect"`` returns
    ``WebhookRead(events, rejected)``, where ``rejected`` has one row per malformed payload or
    item (``file``, ``line``, ``field``, ``reason``, ``payload``). ``line`` is the 1-based
    line of a JSON-lines file, the position in an in-memory iterable, or None inside a
    one-document ``.json`` file (whose array elements show as ``[i].`` in ``field``).
    Malformed: not JSON (invalid UTF-8, or a lone surrogate in a string of an in-memory
    payload, included), or a field the reader uses that is missing, of another JSON type
    (ids and phone numbers may be JSON integers) or out of range.

    Rows: every inbound ``messages[]`` item (``user`` from ``from``, else the BSUID
    ``from_user_id``; ``referral`` when it has a ``referral`` object; ``message_type`` its
    ``type``: ``text``, ``reaction``, ``system`` (a changed number or BSUID), ``unsupported``,
    any other as Meta spells it; null on outbound rows, which statuses do not type) and every
    outbound message id seen in ``statuses[]``: ``timestamp`` is its
    ``sent`` time, else its earliest status time; ``delivered_at`` the earliest
    ``delivered``/``read``/``played`` time (a read without a delivered counts as delivered;
    never before ``timestamp``); ``status`` the furthest state reached (``played`` > ``read``
    > ``delivered``), else ``failed``, else ``sent``; ``error_code`` from the failed status's
    ``errors[0].code``. A BSUID is replaced by the phone number whenever any payload pairs
    the two (``contacts[]``, ``recipient_id`` + ``recipient_user_id``, ``from`` +
    ``from_user_id``). An empty id is a missing one: ``user`` is never ``""``, and a row with
    no id at all is malformed. Duplicate deliveries collapse and payload order does not
    matter: the rows are sorted by (timestamp, direction, message_id).

    ``user_phone`` / ``user_bsuid`` are the ids the row's own payload carries
    (``recipient_id``/``from`` and ``recipient_user_id``/``from_user_id``, completed by the
    ``contacts[]`` entry of the same ``value`` that pairs ``wa_id`` with ``user_id``), for
    classify's identity linking; ``user_country`` is that contact's ``profile.country_code``
    (two letters, upper-cased; null where absent).

    ``meta_*`` columns keep Meta's own verdict verbatim: ``conversation.id``,
    ``conversation.origin.type``, ``conversation.expiration_timestamp``, ``pricing.billable``,
    ``pricing.pricing_model``, ``pricing.category``, ``pricing.type``, and ``pricing.cost``
    (max-price marketing messages) as ``meta_cost`` (its ``amount``) and ``meta_cost_currency``.
    ``business_display_phone`` is the business number's ``metadata.display_phone_number``
    (on every row of that phone number id; null where no payload carries it). When a message's
    statuses disagree, each field comes from its ``delivered`` status if that carries it, else
    from the latest status that does (expiration, which Meta puts only on ``sent``, comes
    from there).

    template_category, without a send log, is read from Meta's pricing where it decides it:
    PMP ``marketing``/``utility``/``authentication``/``authentication-international``/
    ``marketing_lite`` (and the group_* variants) name the template's category, PMP
    ``service`` and ``general_purpose_ai`` mean free-form. It cannot decide (null, i.e.
    treated as free-form): statuses without pricing (``failed``, sent-only v24 statuses),
    free entry point messages (``free_entry_point`` / ``referral_conversion``: any message
    is free there), CBP v1 ``user_initiated``/``business_initiated``, and CBP v2 messages
    that joined an already open conversation (a template of that category and a free-form
    message look the same). A CBP v2 conversation's first message (earliest delivery among
    the messages carrying that ``conversation.id`` in the input) is its template; CBP
    ``service`` means free-form. Pass ``sends=`` for exact categories.

    Speed: files are read by a C++ reader (simdjson on every core; gzip inflated by zlib in
    the same pass) straight into columns, no Python object per payload. It reads a line (or
    a ``.json`` file's payloads) only where every field used has the shape the payload
    walker accepts, to the same values; any other line (malformed, an unusual type, a bare
    value object, deep nesting) is read payload by payload with orjson, with its own line
    number, and a file it cannot take apart (a corrupt gzip stream, a ``.json`` file with
    such a payload) is read that way whole, so results and error messages do not depend on
    the path.

    Accepted shapes: Cloud API envelopes (``object``/``entry[]``/``changes[]``/``value``),
    also as relayed by BSPs with extra fields (e.g. Gupshup v3 ``gs_app_id``/``gs_id``); and a
    bare ``value`` object with ``statuses``/``messages`` at the top (older docs, BSP
    captures such as Turn.io's ``message.recipient_id``), whose ``business`` is null when it
    carries no ``metadata``: fill it before classifying; and a bare ``changes[]`` element
    (``{"field": "messages", "value": {...}}``). Where the WABA id is unknown (no
    ``entry[].id``: bare values and changes), ``waba`` is the one WABA the input shows for
    that business phone number id, else the business phone number id (the default of
    docs/rules.md §Input columns), so classify takes the rows as they are. Changes of other
    fields (``account_update``, ...) and value-level ``errors`` carry no messages and are
    skipped. Anything else (analytics responses, bare pricing objects) is rejected.
    """
    rejections = Rejections(errors)
    lookup = sends_lookup(sends)
    walker = Walker(rejections)
    batches = []  # columns read by C++ or Arrow from files
    # Every row carries its payload's place in the input (part << _LINE_BITS | line), the
    # last tie-break when statuses are combined: rows read in C++ and rows of the lines it
    # left to the walker then combine as if the whole file had been walked line by line.
    for index, part in enumerate(documents(source, files=True)):
        start = index << _LINE_BITS
        if isinstance(part, Path):
            native = read_native(part)
            if native is not None:
                for batch in native.batches:
                    _place(batch, start, None)
                batches.extend(native.batches)
                for document in native.fallback:  # the lines the C++ reader leaves to the walker
                    walker.order = start + document.line
                    walker.document(document)
                continue
            columns = read_columns(part) if is_json_lines(part) else None
            if columns is not None:
                batches.append(_place(columns, start, "row"))
                continue
            for k, document in enumerate(documents(part)):  # the exact, payload-by-payload path
                walker.order = start + k
                walker.document(document)
        else:
            walker.order = start
            walker.document(part)
    events = _events(walker, batches, lookup)
    if rejections.collect:
        return WebhookRead(events, rejections.frame())
    return events


_LINE_BITS = 40  # lines (or payloads) per input part, at most


def _place(batch: dict, start: int, by: str | None) -> dict:
    """Adds each row's place in the input: `start` plus its payload's line (by=None, the
    C++ reader's "line"), or plus its row number (by="row": Arrow reads one row per line)."""
    for kind in ("statuses", "messages"):
        rows = batch[kind]
        if rows is not None:
            offset = rows["line"].to_numpy(zero_copy_only=False) if by is None else np.arange(len(rows["message_id"]))
            rows["order"] = pa.array(offset + start, pa.int64())
    return batch


# Arrow types of the non-string columns; every other column is a string.
_TYPES = {"status": pa.int8(), "time": pa.int64(), "order": pa.int64(), "referral": pa.bool_(), "meta_billable": pa.bool_(),
          "meta_conversation_expiration": pa.int64(), "error_code": pa.int64(), "meta_cost": pa.float64()}


def _stack(rows: list[tuple], fields: tuple[str, ...], batches: list[dict | None]) -> dict[str, pa.Array]:
    """The walker's row tuples and the columnar batches as one Arrow array per field."""
    transposed = dict(zip(fields, zip(*rows))) if rows else {name: () for name in fields}
    out = {}
    for name in fields:
        kind = _TYPES.get(name)
        parts = [strings(transposed[name]) if kind is None else pa.array(transposed[name], type=kind)]
        parts += [batch[name] if kind is None else pc.cast(batch[name], kind) for batch in batches if batch is not None]
        out[name] = pa.concat_arrays(parts) if len(parts) > 1 else parts[0]
    return out


def _phones_of_bsuids(pairs: list[tuple[pa.Array, pa.Array]], *tables: dict[str, pa.Array]) -> dict[str, str]:
    """BSUID -> phone number from every payload carrying both (the smallest phone if they
    ever disagree, so the choice does not depend on payload order)."""
    bsuids, phones = [p[0] for p in pairs], [p[1] for p in pairs]
    for table in tables:
        both = pc.and_(table["bsuid"].is_valid(), table["phone"].is_valid())
        bsuids.append(table["bsuid"].filter(both))
        phones.append(table["phone"].filter(both))
    bsuid, phone = pa.concat_arrays(bsuids), pa.concat_arrays(phones)
    if len(bsuid) == 0:
        return {}
    smallest = pa.table({"bsuid": bsuid, "phone": phone}).group_by("bsuid").aggregate([("phone", "min")])
    return dict(zip(smallest["bsuid"].to_pylist(), smallest["phone_min"].to_pylist()))


# The user's ids and country as each row's own payload carries them (docs/rules.md §Identity).
IDENTITY = ("user_phone", "user_bsuid", "user_country")


def _identities(walker: Walker, batches: list[dict], *tables: dict[str, pa.Array]) -> None:
    """Adds IDENTITY to the stacked status and message columns, in place, and fills `waba`.

    An empty id is a missing one. user_phone / user_bsuid: the row's own ``recipient_id`` /
    ``from`` and ``recipient_user_id`` / ``from_user_id``, else the id that a contact of the
    same ``value`` object pairs with the row's other id (``contacts[].wa_id`` with
    ``contacts[].user_id``); user_country: the ``profile.country_code`` of that contact.
    waba: ``entry[].id``; where no payload says it (bare values and changes), the one WABA the
    input shows for that business phone number id, else (none, or several) the business id.
    """
    offsets = np.cumsum([walker.values] + [batch["changes"] for batch in batches])
    contacts = [(np.array([c[0] for c in walker.contacts], np.int64), strings([c[1] for c in walker.contacts]),
                 strings([c[2] for c in walker.contacts]), strings([c[3] for c in walker.contacts]))]
    contacts += [(found[0] + offset, *found[1:]) for batch, offset in zip(batches, offsets)
                 if (found := batch["contacts"]) is not None]
    value, c_bsuid, c_phone, c_country = (
        pa.concat_arrays([pa.array(c[i], pa.int64()) if i == 0 else c[i] for c in contacts]) for i in range(4))
    # Only the contacts that can add something, and only the rows that can gain something, are
    # looked up: a dump whose rows carry both ids, or whose contacts have no number, costs nothing.
    useful = pc.or_(pc.and_(c_phone.is_valid(), c_bsuid.is_valid()), c_country.is_valid())
    value, c_bsuid, c_phone, c_country = (array.filter(useful) for array in (value, c_bsuid, c_phone, c_country))
    for table in tables:
        table["phone"], table["bsuid"] = _id(table["phone"]), _id(table["bsuid"])
    countries = c_country.null_count < len(c_country)
    wanted = len(value) > 0 and (countries or any(
        table["phone"].null_count or table["bsuid"].null_count for table in tables))
    # One lookup per (value, id): the smallest paired id and country, so order never shows.
    keyed = pa.table({
        "key": pa.concat_arrays([_keys(value, c_phone), _keys(value, c_bsuid)]),
        "other": pa.concat_arrays([c_bsuid, c_phone]),
        "country": pa.concat_arrays([c_country, c_country]),
    }) if wanted else pa.table({"key": pa.array([], pa.string()), "other": pa.array([], pa.string()),
                                "country": pa.array([], pa.string())})
    keyed = keyed.filter(keyed["key"].is_valid())
    lookup = keyed.group_by("key").aggregate([("other", "min"), ("country", "min")])
    keys = lookup["key"].combine_chunks()
    other, country = lookup["other_min"].combine_chunks(), lookup["country_min"].combine_chunks()
    for table, (walked, kind) in zip(tables, ((walker.status_values, "statuses"), (walker.message_values, "messages"))):
        values = [np.asarray(walked, np.int64)]
        values += [batch[kind]["change"].to_numpy(zero_copy_only=False) + offset
                   for batch, offset in zip(batches, offsets) if batch[kind] is not None]
        rows = pa.array(np.concatenate(values), pa.int64())
        phone, bsuid = table["phone"], table["bsuid"]
        has_phone = phone.is_valid().to_numpy(zero_copy_only=False)
        has_bsuid = bsuid.is_valid().to_numpy(zero_copy_only=False)
        by_phone = _lookup(rows, phone, has_phone & (countries | ~has_bsuid) & wanted, keys)
        by_bsuid = _lookup(rows, bsuid, has_bsuid & (countries | ~has_phone) & wanted, keys)
        table["user_phone"] = pc.coalesce(phone, other.take(by_bsuid))
        table["user_bsuid"] = pc.coalesce(bsuid, other.take(by_phone))
        table["user_country"] = pc.utf8_upper(pc.coalesce(country.take(by_phone), country.take(by_bsuid)))
        table["waba"] = _id(table["waba"])
    if all(table["waba"].null_count == 0 for table in tables):
        return
    business = pa.concat_arrays([table["business"] for table in tables])
    waba = pa.concat_arrays([table["waba"] for table in tables])
    known = pa.table({"business": business, "waba": waba}).filter(pc.and_(business.is_valid(), waba.is_valid()))
    wabas = known.group_by("business").aggregate([("waba", "min"), ("waba", "max")])
    single = wabas.filter(pc.equal(wabas["waba_min"], wabas["waba_max"]))
    for table in tables:
        found = single["waba_min"].combine_chunks().take(
            pc.index_in(table["business"], value_set=single["business"].combine_chunks()))
        table["waba"] = pc.coalesce(table["waba"], found, table["business"])


def _lookup(values: pa.Array, ids: pa.Array, wanted: np.ndarray, keys: pa.Array) -> pa.Array:
    """For each row, the position of (value number, id) in `keys`; null where not found or
    not wanted."""
    out = np.full(len(ids), -1, np.int64)
    where = np.flatnonzero(wanted)
    if len(where):
        positions = pa.array(where)
        found = pc.index_in(_keys(values.take(positions), ids.take(positions)), value_set=keys)
        out[where] = pc.fill_null(found, -1).to_numpy(zero_copy_only=False)
    return pa.array(out, mask=out < 0)


def _id(values: pa.Array) -> pa.Array:
    """Ids with the empty strings made null: "" is never an id."""
    return pc.if_else(pc.equal(values, ""), pa.scalar(None, pa.string()), values)


def _keys(values: pa.Array, ids: pa.Array) -> pa.Array:
    """(value number, id) as one string; null where the id is."""
    return pc.binary_join_element_wise(pc.cast(values, pa.string()), ids, "\x1f")


def _events(walker: Walker, batches: list[dict], sends: dict[str, str | None] | None) -> pd.DataFrame:
    statuses = _stack([(*row, order) for row, order in zip(walker.statuses, walker.status_orders)],
                      (*STATUS_FIELDS, "order"), [batch["statuses"] for batch in batches])
    messages = _stack([(*row, order) for row, order in zip(walker.messages, walker.message_orders)],
                      (*MESSAGE_FIELDS, "order"), [batch["messages"] for batch in batches])
    _identities(walker, batches, statuses, messages)
    pairs = [(strings([b for b, _ in walker.contact_pairs]), strings([p for _, p in walker.contact_pairs]))]
    pairs += [batch["pairs"] for batch in batches if batch["pairs"] is not None]
    phone_of = _phones_of_bsuids(pairs, statuses, messages)
    outbound = aggregate_statuses(
        statuses["message_id"], statuses["status"], statuses["time"], order=statuses["order"],
        objects={name: statuses[name] for name in ("business", "waba", "phone", "bsuid", *IDENTITY, *META_STRINGS)},
        numeric={name: statuses[name] for name in ("meta_conversation_expiration", "meta_billable", "meta_cost",
                                                   "error_code")},
    )
    inbound = aggregate_messages(
        messages["message_id"], messages["time"], messages["referral"], order=messages["order"],
        objects={name: messages[name] for name in ("business", "waba", "phone", "bsuid", *IDENTITY, "message_type")},
    )
    for rows in (outbound, inbound):
        rows["user"] = resolve_users(rows.pop("phone"), rows.pop("bsuid"), phone_of)
    outbound["template_category"] = infer_template_categories(outbound, sends)
    events = events_frame(inbound, outbound, extra=META_COLUMNS)
    displays = [(strings(list(walker.display_phones)), strings(list(walker.display_phones.values())))]
    displays += [batch["displays"] for batch in batches]
    events.insert(events.columns.get_loc("waba") + 1, "business_display_phone", _display_phones(events, displays))
    return events


def _display_phones(events: pd.DataFrame, pairs: list[tuple[pa.Array, pa.Array]]) -> pd.arrays.ArrowStringArray:
    """Each row's business display phone number (the smallest if payloads ever disagree)."""
    business = pa.concat_arrays([p[0] for p in pairs])
    display = pa.concat_arrays([p[1] for p in pairs])
    if len(business):
        smallest = pa.table({"b": business, "d": display}).group_by("b").aggregate([("d", "min")])
        business_of_rows = pc.cast(pa.array(events["business"], from_pandas=True), pa.string())
        rows = pc.index_in(business_of_rows, value_set=smallest["b"].combine_chunks())
        found = smallest["d_min"].combine_chunks().take(rows)
    else:
        found = pa.nulls(len(events), pa.string())
    return pd.array(found, dtype="str")


__all__ = ["WebhookRead", "read_webhooks"]
