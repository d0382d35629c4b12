"""Walking Cloud API webhook payloads into flat rows: one tuple per status and per message.

This is the per-payload Python loop of :func:`waconv.read_webhooks`, so it is written for
speed: one function call and one ``list.append`` per status, JSON paths for error messages
built only when something is wrong, and no conversion that can wait for NumPy.
"""

from __future__ import annotations

from typing import Any

from waconv.io.webhooks.events import STATUS_RANK
from waconv.io.webhooks.sources import EARLIEST_SECONDS, LATEST_SECONDS, Bad, Document, Rejections, seconds

STATUS_FIELDS = (
    "message_id", "status", "time", "business", "waba", "phone", "bsuid",
    "meta_conversation_id", "meta_conversation_origin", "meta_conversation_expiration",
    "meta_billable", "meta_pricing_model", "meta_pricing_category", "meta_pricing_type", "error_code",
)
MESSAGE_FIELDS = ("message_id", "time", "referral", "business", "waba", "phone", "bsuid", "message_type")
_STATUS_LIST = ", ".join(STATUS_RANK)
_FAILED = STATUS_RANK["failed"]


def _time(value: Any, field: str) -> int:
    if type(value) is str and value.isdigit():  # Meta's usual shape: epoch seconds as a string
        result = int(value)
        if EARLIEST_SECONDS <= result < LATEST_SECONDS:
            return result
    return seconds(value, field)


def status_row(item: dict, business: str | None, waba: str | None) -> tuple:
    """One status as a STATUS_FIELDS tuple; raises Bad with the field relative to the item."""
    get = item.get
    message_id = get("id")
    if type(message_id) is not str or not message_id:
        raise Bad("id", "missing message id")
    code = STATUS_RANK.get(get("status"))
    if code is None:
        raise Bad("status", f"unknown status {get('status')!r} (expected {_STATUS_LIST})")
    time = _time(get("timestamp"), "timestamp")
    phone = get("recipient_id")
    if phone is None:
        relayed = get("message")
        if type(relayed) is dict:
            phone = relayed.get("recipient_id")  # Turn.io relays it here
    bsuid = get("recipient_user_id")
    if phone is None and bsuid is None:
        raise Bad("recipient_id", "no recipient_id or recipient_user_id")
    conversation = get("conversation")
    if conversation:
        if type(conversation) is not dict:
            raise Bad("conversation", "expected an object")
        origin = conversation.get("origin")
        origin = origin.get("type") if type(origin) is dict else None
        expiration = conversation.get("expiration_timestamp")
        if expiration is not None:
            expiration = _time(expiration, "conversation.expiration_timestamp")
        conversation_id = conversation.get("id")
    else:
        conversation_id = origin = expiration = None
    pricing = get("pricing")
    if pricing:
        if type(pricing) is not dict:
            raise Bad("pricing", "expected an object")
        billable = pricing.get("billable")
        if billable is not None and type(billable) is not bool:
            raise Bad("pricing.billable", f"expected true or false, got {billable!r}")
        model, category, pricing_type = pricing.get("pricing_model"), pricing.get("category"), pricing.get("type")
    else:
        billable = model = category = pricing_type = None
    error = _error_code(get("errors")) if code == _FAILED and get("errors") else None
    return (message_id, code, time, business, waba, phone, bsuid, conversation_id, origin, expiration,
            billable, model, category, pricing_type, error)


def message_row(item: dict, business: str | None, waba: str | None) -> tuple:
    """One inbound message as a MESSAGE_FIELDS tuple; raises Bad like status_row."""
    get = item.get
    message_id = get("id")
    if type(message_id) is not str or not message_id:
        raise Bad("id", "missing message id")
    time = _time(get("timestamp"), "timestamp")
    phone, bsuid = get("from"), get("from_user_id")
    if phone is None and bsuid is None:
        raise Bad("from", "no from or from_user_id")
    return (message_id, time, type(get("referral")) is dict, business, waba, phone, bsuid, get("type"))


def _error_code(errors: Any) -> int | None:
    if type(errors) is not list or type(errors[0]) is not dict:
        raise Bad("errors", "expected a list of error objects")
    code = errors[0].get("code")
    if code is None:
        return None
    try:
        return int(code)
    except (TypeError, ValueError):
        raise Bad("errors[0].code", f"not an integer error code: {code!r}") from None


class Walker:
    """Collects status rows, message rows and (BSUID, phone) pairs from `contacts[]`."""

    def __init__(self, rejections: Rejections) -> None:
        self.rejections = rejections
        self.statuses: list[tuple] = []
        self.messages: list[tuple] = []
        self.contact_pairs: list[tuple[Any, Any]] = []

    def document(self, document: Document) -> None:
        payload = document.payload
        entries = payload.get("entry") if type(payload) is dict else None
        if type(entries) is not list:
            self._unusual(document, payload)
            return
        e = 0
        for entry in entries:
            changes = entry.get("changes") if type(entry) is dict else None
            if type(changes) is not list:
                self.rejections.add(document, f"{document.prefix}entry[{e}].changes", "expected an entry with a list of changes")
                e += 1
                continue
            waba = entry.get("id")
            if waba is not None and type(waba) is not str:
                waba = str(waba)
            c = 0
            for change in changes:
                value = change.get("value") if type(change) is dict else None
                messages = type(change) is not dict or change.get("field") in (None, "messages")
                if type(value) is dict and messages:
                    self.value(document, value, waba, (e, c))
                elif messages:
                    self.rejections.add(document, f"{document.prefix}entry[{e}].changes[{c}]", "expected a change with a value object")
                # other fields (account_update, calls, ...) carry no messages to count
                c += 1
            e += 1

    def _unusual(self, document: Document, payload: Any) -> None:
        """Not a Cloud API envelope: a bare `value` object, or something to reject."""
        if isinstance(payload, Bad):
            self.rejections.add(document, payload.field, payload.reason)
        elif type(payload) is not dict:
            self.rejections.add(document, document.prefix.rstrip(".") or "payload",
                                f"expected a JSON object, got {type(payload).__name__}")
        elif "entry" in payload:
            self.rejections.add(document, document.prefix + "entry", "expected a list")
        elif "statuses" in payload or "messages" in payload:
            self.value(document, payload, None, None)
        else:
            self.rejections.add(document, document.prefix + "entry", _not_a_webhook(payload))

    def value(self, document: Document, value: dict, waba: str | None, where: tuple[int, int] | None) -> None:
        """One `value` object; `where` is (entry, change) inside an envelope, None for a bare value."""
        metadata = value.get("metadata")
        business = metadata.get("phone_number_id") if type(metadata) is dict else None
        if business is None and where is not None:
            self.rejections.add(document, _path(document, where, "metadata.phone_number_id"),
                                "missing: the business phone number id")
            return
        if business is not None and type(business) is not str:
            business = str(business)
        statuses, messages = value.get("statuses"), value.get("messages")
        if statuses is None and messages is None:
            if "errors" not in value:  # a value-level error notification is not a message
                self.rejections.add(document, _path(document, where, "statuses"), "no statuses or messages in this value")
            return
        contacts = value.get("contacts")
        if type(contacts) is list:
            for contact in contacts:
                if type(contact) is dict and contact.get("user_id") and contact.get("wa_id"):
                    self.contact_pairs.append((contact["user_id"], contact["wa_id"]))
        if statuses is not None:
            self._items(document, where, "statuses", statuses, status_row, self.statuses, business, waba)
        if messages is not None:
            self._items(document, where, "messages", messages, message_row, self.messages, business, waba)

    def _items(self, document: Document, where: tuple[int, int] | None, name: str, items: Any,
               read: Any, rows: list[tuple], business: str | None, waba: str | None) -> None:
        if type(items) is not list:
            self.rejections.add(document, _path(document, where, name), "expected a list")
            return
        try:  # the common case, one try for the whole list
            rows.extend([read(item, business, waba) for item in items])
            return
        except (Bad, AttributeError):
            pass
        for i, item in enumerate(items):  # something is wrong: find it, keep the good items
            try:
                if type(item) is not dict:
                    raise Bad("", "expected an object")
                rows.append(read(item, business, waba))
            except Bad as bad:
                field = f"{name}[{i}]" + (f".{bad.field}" if bad.field else "")
                self.rejections.add(document, _path(document, where, field), bad.reason)


def _path(document: Document, where: tuple[int, int] | None, field: str) -> str:
    if where is None:
        return document.prefix + field
    return f"{document.prefix}entry[{where[0]}].changes[{where[1]}].value.{field}"


def _not_a_webhook(payload: dict) -> str:
    keys = set(payload)
    if keys & {"conversation_analytics", "pricing_analytics", "analytics", "data"}:
        what = "an Analytics API response"
    elif keys == {"pricing"}:
        what = "a bare pricing object"
    elif keys & {"trigger", "events"}:
        what = "a Sunshine Conversations webhook (use waconv.read_sunshine)"
    else:
        what = f"an object with keys {sorted(keys)[:6]}"
    return f"not a WhatsApp Cloud API webhook: no entry, statuses or messages ({what})"
