"""Walking Cloud API webhook payloads into flat rows: one tuple per status and per message.

This is the per-payload Python loop of :func:`waconv.read_webhooks`, so it is written for
speed: one function call and one ``list.append`` per status, JSON paths for error messages
built only when something is wrong, and no conversion that can wait for NumPy. Every field
read is checked for its JSON type where it is read: a string field costs one ``type()`` test
when it is a string (anything else goes through :func:`~waconv.io.webhooks.sources.text`),
an object field one more.
"""

from __future__ import annotations

from typing import Any

from waconv.io.webhooks.events import STATUS_RANK
from waconv.io.webhooks.sources import (
    EARLIEST_SECONDS,
    LATEST_SECONDS,
    Bad,
    Document,
    Rejections,
    kind,
    seconds,
    shown,
    text,
)

STATUS_FIELDS = (
    "message_id", "status", "time", "business", "waba", "phone", "bsuid",
    "meta_conversation_id", "meta_conversation_origin", "meta_conversation_expiration",
    "meta_billable", "meta_pricing_model", "meta_pricing_category", "meta_pricing_type",
    "meta_cost", "meta_cost_currency", "error_code",
)
MESSAGE_FIELDS = ("message_id", "time", "referral", "business", "waba", "phone", "bsuid", "message_type")
_STATUS_LIST = ", ".join(STATUS_RANK)
_FAILED = STATUS_RANK["failed"]
_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1


def _time(value: Any, field: str) -> int:
    if type(value) is str and len(value) <= 10 and value.isdecimal():  # Meta's usual shape
        result = int(value)
        if EARLIEST_SECONDS <= result < LATEST_SECONDS:
            return result
    return seconds(value, field)


def _object(value: Any, field: str) -> dict | None:
    if value is None or type(value) is dict:
        return value
    raise Bad(field, f"expected an object, got {shown(value)}")


def _message_id(value: Any) -> str:
    if type(value) is str and value:
        return value
    raise Bad("id", "missing message id" if value is None or value == "" else f"expected a string, got {shown(value)}")


def _unknown_status(status: Any) -> Bad:
    if status is None:
        return Bad("status", f"missing (expected {_STATUS_LIST})")
    if type(status) is not str:
        return Bad("status", f"expected a string, got {shown(status)}")
    return Bad("status", f"unknown status {shown(status)} (expected {_STATUS_LIST})")


def status_row(item: dict, business: str | None, waba: str | None) -> tuple:
    """One status as a STATUS_FIELDS tuple; raises Bad with the field relative to the item."""
    get = item.get
    message_id = get("id")
    if type(message_id) is not str or not message_id:
        message_id = _message_id(message_id)
    status = get("status")
    code = STATUS_RANK.get(status) if type(status) is str else None
    if code is None:
        raise _unknown_status(status)
    time = _time(get("timestamp"), "timestamp")
    phone = get("recipient_id")
    if type(phone) is not str:
        phone = text(phone, "recipient_id")
        if phone is None:
            relayed = _object(get("message"), "message")
            if relayed is not None:
                phone = text(relayed.get("recipient_id"), "message.recipient_id")  # Turn.io relays it here
    bsuid = get("recipient_user_id")
    if type(bsuid) is not str:
        bsuid = text(bsuid, "recipient_user_id")
    if not phone and not bsuid:  # an empty string is no id
        raise Bad("recipient_id", "no recipient_id or recipient_user_id")
    conversation = get("conversation")
    if conversation is not None:
        if type(conversation) is not dict:
            raise Bad("conversation", f"expected an object, got {shown(conversation)}")
        origin = conversation.get("origin")
        if origin is not None:
            origin = text(_object(origin, "conversation.origin").get("type"), "conversation.origin.type")
        expiration = conversation.get("expiration_timestamp")
        if expiration is not None:
            expiration = _time(expiration, "conversation.expiration_timestamp")
        conversation_id = conversation.get("id")
        if type(conversation_id) is not str:
            conversation_id = text(conversation_id, "conversation.id")
    else:
        conversation_id = origin = expiration = None
    pricing = get("pricing")
    if pricing is not None:
        if type(pricing) is not dict:
            raise Bad("pricing", f"expected an object, got {shown(pricing)}")
        billable = pricing.get("billable")
        if billable is not None and type(billable) is not bool:
            raise Bad("pricing.billable", f"expected true or false, got {shown(billable)}")
        model, category, pricing_type = pricing.get("pricing_model"), pricing.get("category"), pricing.get("type")
        if type(model) is not str:
            model = text(model, "pricing.pricing_model")
        if type(category) is not str:
            category = text(category, "pricing.category")
        if type(pricing_type) is not str:
            pricing_type = text(pricing_type, "pricing.type")
        amount, currency = _cost(pricing.get("cost"))
    else:
        billable = model = category = pricing_type = amount = currency = None
    error = _error_code(get("errors")) if code == _FAILED else None
    return (message_id, code, time, business, waba, phone, bsuid, conversation_id, origin, expiration,
            billable, model, category, pricing_type, amount, currency, error)


def message_row(item: dict, business: str | None, waba: str | None) -> tuple:
    """One inbound message as a MESSAGE_FIELDS tuple; raises Bad like status_row."""
    get = item.get
    message_id = get("id")
    if type(message_id) is not str or not message_id:
        message_id = _message_id(message_id)
    time = _time(get("timestamp"), "timestamp")
    phone, bsuid, message_type, referral = get("from"), get("from_user_id"), get("type"), get("referral")
    if type(phone) is not str:
        phone = text(phone, "from")
    if type(bsuid) is not str:
        bsuid = text(bsuid, "from_user_id")
    if not phone and not bsuid:  # an empty string is no id
        raise Bad("from", "no from or from_user_id")
    if type(message_type) is not str:
        message_type = text(message_type, "type")
    if referral is not None and type(referral) is not dict:
        raise Bad("referral", f"expected an object, got {shown(referral)}")
    return (message_id, time, referral is not None, business, waba, phone, bsuid, message_type)


def _cost(cost: Any) -> tuple[float | None, str | None]:
    """Meta's ``pricing.cost`` (max-price marketing messages): (amount, currency)."""
    if cost is None:
        return None, None
    if type(cost) is not dict:
        raise Bad("pricing.cost", f"expected an object, got {shown(cost)}")
    amount = cost.get("amount")
    if amount is not None:
        if type(amount) is not float and type(amount) is not int:
            raise Bad("pricing.cost.amount", f"expected a number, got {shown(amount)}")
        if not 0 <= amount < 1e15:
            raise Bad("pricing.cost.amount", f"out of range: {shown(amount)}")
        amount = float(amount)
    return amount, text(cost.get("currency"), "pricing.cost.currency")


def _error_code(errors: Any) -> int | None:
    if errors is None or (type(errors) is list and not errors):
        return None
    if type(errors) is not list:
        raise Bad("errors", f"expected a list of error objects, got {shown(errors)}")
    if type(errors[0]) is not dict:
        raise Bad("errors[0]", f"expected an error object, got {shown(errors[0])}")
    code = errors[0].get("code")
    if code is None:
        return None
    number = None
    if type(code) is int:
        number = code
    elif type(code) is str:
        try:
            number = int(code)
        except ValueError:
            pass
    elif type(code) is float and code.is_integer():
        number = int(code)
    if number is None or not _INT64_MIN <= number <= _INT64_MAX:  # the error_code column is int64
        raise Bad("errors[0].code", f"expected an integer error code, got {shown(code)}")
    return number


class Walker:
    """Collects status rows, message rows and (BSUID, phone) pairs from `contacts[]`.

    Each `value` object read gets a number; `status_values` / `message_values` hold, for each
    row, the number of the value it came from, and `contacts` its contacts as (value number,
    BSUID, phone, country), so that a row's ids are completed from the contacts beside it.
    `status_orders` / `message_orders` hold each row's `order`, the place of its payload in
    the input, which the caller sets before each document (see read_webhooks).
    """

    def __init__(self, rejections: Rejections) -> None:
        self.rejections = rejections
        self.statuses: list[tuple] = []
        self.messages: list[tuple] = []
        self.contact_pairs: list[tuple[str, str]] = []
        self.values = 0  # value objects read so far
        self.status_values: list[int] = []
        self.message_values: list[int] = []
        self.order = 0
        self.status_orders: list[int] = []
        self.message_orders: list[int] = []
        self.contacts: list[tuple[int, str | None, str | None, str | None]] = []
        self.display_phones: dict[str, str] = {}  # metadata.phone_number_id -> display_phone_number

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
                self.rejections.add(document, f"entry[{e}].changes", "expected an entry with a list of changes")
                e += 1
                continue
            waba = entry.get("id")
            if type(waba) is not str:
                try:
                    waba = text(waba, f"entry[{e}].id")
                except Bad as bad:
                    self.rejections.add(document, bad.field, bad.reason)
                    e += 1
                    continue
            c = 0
            for change in changes:
                value = change.get("value") if type(change) is dict else None
                try:
                    field = text(change.get("field"), f"entry[{e}].changes[{c}].field") if type(change) is dict else None
                except Bad as bad:
                    self.rejections.add(document, bad.field, bad.reason)
                    field = ""
                if field is None or field == "messages":
                    if type(value) is dict:
                        self.value(document, value, waba, (e, c))
                    else:
                        self.rejections.add(document, f"entry[{e}].changes[{c}]", "expected a change with a value object")
                # other fields (account_update, calls, ...) carry no messages to count
                c += 1
            e += 1

    def _unusual(self, document: Document, payload: Any) -> None:
        """Not a Cloud API envelope: a bare `value` object, or something to reject."""
        if isinstance(payload, Bad):
            self.rejections.add(document, payload.field, payload.reason)
        elif type(payload) is not dict:
            self.rejections.add(document, "", f"expected a JSON object, got {type(payload).__name__}")
        elif "entry" in payload:
            self.rejections.add(document, "entry", "expected a list")
        elif "statuses" in payload or "messages" in payload:
            self.value(document, payload, None, None)
        elif "value" in payload and "field" in payload:  # one bare `changes[]` element
            try:
                field = text(payload.get("field"), "field")
            except Bad as bad:
                self.rejections.add(document, bad.field, bad.reason)
                return
            value = payload.get("value")
            if field is None or field == "messages":
                if type(value) is dict:
                    self.value(document, value, None, _CHANGE)
                else:
                    self.rejections.add(document, "value", f"expected an object, got {shown(value)}")
        else:
            self.rejections.add(document, "entry", _not_a_webhook(payload))

    def value(self, document: Document, value: dict, waba: str | None, where: tuple[int, int] | str | None) -> None:
        """One `value` object; `where` is (entry, change) inside an envelope, _CHANGE in a bare
        changes[] element, None for a bare value."""
        try:
            metadata = _object(value.get("metadata"), "metadata")
            business = None if metadata is None else text(metadata.get("phone_number_id"), "metadata.phone_number_id")
            display = None if metadata is None else \
                text(metadata.get("display_phone_number"), "metadata.display_phone_number")
        except Bad as bad:
            self.rejections.add(document, _path(where, bad.field), bad.reason)
            return
        if business is None and type(where) is tuple:
            self.rejections.add(document, _path(where, "metadata.phone_number_id"), "missing: the business phone number id")
            return
        if display and business is not None:  # the smallest if they ever differ: order-independent
            known = self.display_phones.get(business)
            if known is None or display < known:
                self.display_phones[business] = display
        statuses, messages = value.get("statuses"), value.get("messages")
        if statuses is None and messages is None:
            if "errors" not in value:  # a value-level error notification is not a message
                self.rejections.add(document, _path(where, "statuses"), "no statuses or messages in this value")
            return
        number = self.values
        self.values += 1
        contacts = value.get("contacts")
        if contacts is not None:
            self._contacts(document, where, contacts, number)
        if statuses is not None:
            before = len(self.statuses)
            self._items(document, where, "statuses", statuses, status_row, self.statuses, business, waba)
            self.status_values.extend([number] * (len(self.statuses) - before))
            self.status_orders.extend([self.order] * (len(self.statuses) - before))
        if messages is not None:
            before = len(self.messages)
            self._items(document, where, "messages", messages, message_row, self.messages, business, waba)
            self.message_values.extend([number] * (len(self.messages) - before))
            self.message_orders.extend([self.order] * (len(self.messages) - before))

    def _contacts(self, document: Document, where: tuple[int, int] | str | None, contacts: Any, number: int) -> None:
        """(BSUID, phone) pairs and countries from `contacts[]`; a malformed contact is rejected,
        the statuses and messages beside it are still read."""
        if type(contacts) is not list:
            self.rejections.add(document, _path(where, "contacts"), f"expected a list, got {shown(contacts)}")
            return
        for i, contact in enumerate(contacts):
            try:
                if type(contact) is not dict:
                    raise Bad("", f"expected an object, got {shown(contact)}")
                bsuid, phone = text(contact.get("user_id"), "user_id"), text(contact.get("wa_id"), "wa_id")
                profile = _object(contact.get("profile"), "profile")
                country = None if profile is None else _country(profile.get("country_code"))
            except Bad as bad:
                self.rejections.add(document, _path(where, f"contacts[{i}]" + (f".{bad.field}" if bad.field else "")),
                                    bad.reason)
                continue
            if bsuid and phone:
                self.contact_pairs.append((bsuid, phone))
            if bsuid or phone:
                self.contacts.append((number, bsuid or None, phone or None, country))

    def _items(self, document: Document, where: tuple[int, int] | str | None, name: str, items: Any,
               read: Any, rows: list[tuple], business: str | None, waba: str | None) -> None:
        if type(items) is not list:
            self.rejections.add(document, _path(where, name), "expected a list")
            return
        try:  # the common case, one try for the whole list
            rows.extend([read(item, business, waba) for item in items])
            return
        except (Bad, AttributeError):
            pass
        for i, item in enumerate(items):  # something is wrong: find it, keep the good items
            try:
                if type(item) is not dict:
                    raise Bad("", f"expected an object, got {shown(item)}")
                rows.append(read(item, business, waba))
            except Bad as bad:
                field = f"{name}[{i}]" + (f".{bad.field}" if bad.field else "")
                self.rejections.add(document, _path(where, field), bad.reason)


def _country(value: Any) -> str | None:
    """contacts[].profile.country_code: an ISO 3166 alpha-2 code (any case), "" = none."""
    if type(value) is str and len(value) == 2 and value.isascii() and value.isalpha():
        return value
    if value is None or value == "":
        return None
    raise Bad("profile.country_code", f"expected a two-letter ISO 3166 country code, got {shown(value)}")


_CHANGE = "value"  # `where` of a bare changes[] element: its fields are under "value."


def _path(where: tuple[int, int] | str | None, field: str) -> str:
    if where is None:
        return field
    if type(where) is str:
        return f"{where}.{field}"
    return f"entry[{where[0]}].changes[{where[1]}].value.{field}"


def _not_a_webhook(payload: dict) -> str:
    keys = {key if type(key) is str else kind(key) for key in payload}
    if keys & {"conversation_analytics", "pricing_analytics", "analytics", "data"}:
        what = "an Analytics API response"
    elif keys == {"pricing"}:
        what = "a bare pricing object"
    elif keys & {"trigger", "events"}:
        what = "a Sunshine Conversations webhook (use waconv.read_sunshine)"
    else:
        what = f"an object with keys {sorted(keys)[:6]}"
    return f"not a WhatsApp Cloud API webhook: no entry, statuses or messages ({what})"
