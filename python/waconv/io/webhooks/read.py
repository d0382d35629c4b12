"""waconv.read_webhooks: WhatsApp Cloud API webhook payloads -> the canonical event table."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal, Union, overload

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from waconv.io.webhooks.categories import infer_template_categories, sends_lookup
from waconv.io.webhooks.columns import read_columns
from waconv.io.webhooks.events import (
    aggregate_messages,
    aggregate_statuses,
    events_frame,
    resolve_users,
    strings,
)
from waconv.io.webhooks.sources import Rejections, Source, WebhookRead, documents
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
    (``.jsonl``/``.ndjson``; one payload per line) or a directory of them; or one payload
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
    ``type``) and every outbound message id seen in ``statuses[]``: ``timestamp`` is its
    ``sent`` time, else its earliest status time; ``delivered_at`` the earliest
    ``delivered``/``read``/``played`` time (a read without a delivered counts as delivered;
    never before ``timestamp``); ``status`` the furthest state reached (``played`` > ``read``
    > ``delivered``), else ``failed``, else ``sent``; ``error_code`` from the failed status's
    ``errors[0].code``. A BSUID is replaced by the phone number whenever any payload pairs
    the two (``contacts[]``, ``recipient_id`` + ``recipient_user_id``, ``from`` +
    ``from_user_id``). Duplicate deliveries collapse and payload order does not matter: the
    rows are sorted by (timestamp, direction, message_id).

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

    Speed: JSON-lines files are parsed by Arrow's JSON reader straight into columns (about
    5x faster than payload by payload); a file it cannot read exactly as the payload walker
    would (a bare value object, a malformed line, an unusual type, bytes that are not
    UTF-8, nesting deeper than Arrow's parser copes with) is read payload by payload with
    orjson instead, so results and error messages do not depend on the path.

    Accepted shapes: Cloud API envelopes (``object``/``entry[]``/``changes[]``/``value``),
    also as relayed by BSPs with extra fields (e.g. Gupshup v3 ``gs_app_id``/``gs_id``); and a
    bare ``value`` object with ``statuses``/``messages`` at the top (older docs, BSP
    captures such as Turn.io's ``message.recipient_id``), whose ``business``/``waba`` are
    null when it carries no ``metadata``: fill them before classifying. Changes of other
    fields (``account_update``, ...) and value-level ``errors`` carry no messages and are
    skipped. Anything else (analytics responses, bare pricing objects) is rejected.
    """
    rejections = Rejections(errors)
    lookup = sends_lookup(sends)
    walker = Walker(rejections)
    batches = []  # columns read by Arrow from JSON-lines files
    for part in documents(source, line_files=True):
        if isinstance(part, Path):
            columns = read_columns(part)
            if columns is not None:
                batches.append(columns)
                continue
            for document in documents(part):  # the exact, payload-by-payload path
                walker.document(document)
        else:
            walker.document(part)
    events = _events(walker, batches, lookup)
    if rejections.collect:
        return WebhookRead(events, rejections.frame())
    return events


# Arrow types of the non-string columns; every other column is a string.
_TYPES = {"status": pa.int8(), "time": pa.int64(), "referral": pa.bool_(), "meta_billable": pa.bool_(),
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


def _events(walker: Walker, batches: list[dict], sends: dict[str, str | None] | None) -> pd.DataFrame:
    statuses = _stack(walker.statuses, STATUS_FIELDS, [batch["statuses"] for batch in batches])
    messages = _stack(walker.messages, MESSAGE_FIELDS, [batch["messages"] for batch in batches])
    pairs = [(strings([b for b, _ in walker.contact_pairs]), strings([p for _, p in walker.contact_pairs]))]
    pairs += [batch["pairs"] for batch in batches if batch["pairs"] is not None]
    phone_of = _phones_of_bsuids(pairs, statuses, messages)
    outbound = aggregate_statuses(
        statuses["message_id"], statuses["status"], statuses["time"],
        objects={name: statuses[name] for name in ("business", "waba", "phone", "bsuid", *META_STRINGS)},
        numeric={name: statuses[name] for name in ("meta_conversation_expiration", "meta_billable", "meta_cost",
                                                   "error_code")},
    )
    inbound = aggregate_messages(
        messages["message_id"], messages["time"], messages["referral"],
        objects={name: messages[name] for name in ("business", "waba", "phone", "bsuid", "message_type")},
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
