"""waconv.read_sunshine: Zendesk Sunshine Conversations webhooks -> the canonical event table."""

from __future__ import annotations

import warnings
from collections import Counter
from collections.abc import Mapping
from typing import Any, Literal, overload

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from waconv._errors import WaconvWarning
from waconv.io.sunshine.fields import error_code, get, get_text, milliseconds, template, template_lookup
from waconv.io.webhooks.categories import ALIASES, TEMPLATE_CATEGORIES
from waconv.io.webhooks.aggregate import aggregate_messages, aggregate_statuses
from waconv.io.webhooks.events import DELIVERED, FAILED, SENT, events_frame, strings
from waconv.io.webhooks.sources import Bad, Document, Rejections, Source, WebhookRead, documents, shown, text

_V1_DELIVERY = {"delivery:success": DELIVERED, "delivery:user": DELIVERED, "delivery:channel": SENT,
                "delivery:failure": FAILED}
_V2_DELIVERY = {"conversation:message:delivery:channel": SENT, "conversation:message:delivery:user": DELIVERED,
                "conversation:message:delivery:failure": FAILED}
_OUT_OBJECTS = ("business", "waba", "user", "conversation", "template", "template_category", "message_type")
_IN_OBJECTS = ("business", "waba", "user", "message_type")
_MS = 1_000_000  # ns per millisecond: Sunshine times keep their milliseconds


@overload
def read_sunshine(source: Source, *, templates: Mapping[str, str] | None = ...,
                  errors: Literal["raise"] = ...) -> pd.DataFrame: ...
@overload
def read_sunshine(source: Source, *, templates: Mapping[str, str] | None = ...,
                  errors: Literal["collect"]) -> WebhookRead: ...


def read_sunshine(source: Source, *, templates: Mapping[str, str] | None = None,
                  errors: str = "raise") -> pd.DataFrame | WebhookRead:
    """Sunshine Conversations webhooks (v1 and v2) as one event row per WhatsApp message.

    source, errors: as in :func:`waconv.read_webhooks` (``errors="collect"`` returns
    ``WebhookRead(events, rejected)``).
    templates: WhatsApp template name -> template category, for business messages that are
    templates (see below).

    v1 (``trigger`` payloads): ``messages[]`` with ``role: appUser`` are inbound and
    ``appMaker`` outbound (``whisper``, an internal note, is skipped); ``received`` (epoch
    seconds) is the time. A business subscribes to ``message:appMaker`` for its own
    messages. Delivery triggers: ``delivery:success`` and ``delivery:user`` count as delivered
    (Sunshine's v1 ``delivery:success`` is its only success signal), ``delivery:channel`` as
    sent, ``delivery:failure`` as failed, at the payload's ``timestamp``. v2 (``events[]``
    payloads): ``conversation:message`` with ``author.type`` ``user`` (inbound) or
    ``business`` (outbound), ``received`` ISO time; ``conversation:message:delivery:channel``
    (sent: WhatsApp accepted it), ``:delivery:user`` (delivered to the phone),
    ``:delivery:failure`` (failed), at the event's ``createdAt``. Other triggers and event
    types are skipped.

    Ids: business and waba = the app id (``app._id`` / ``app.id``), user = the app user id
    (``appUser._id``; v2 ``author.userId`` or ``payload.user.id``; a business message takes
    the user of its conversation, learned from any event of that conversation), message_id =
    the Sunshine message id. Statuses combine as in :func:`waconv.read_webhooks`; error_code
    is the WhatsApp error code when the failure's ``underlyingError`` carries one.

    template_category: Sunshine says whether a business message is a WhatsApp template
    (v2 ``content.type == "template"``; v1 ``type: "template"`` or an
    ``override.whatsapp.payload`` of type ``template``/``hsm``) and its name, but not Meta's
    category. The category comes from the message's ``metadata.template_category`` if the
    sender set it, else from `templates` by name; a template whose category is unknown gets
    null (treated as free-form) and a :class:`waconv.WaconvWarning`. Non-template messages
    are null. referral is True only for a message carrying a ``referral`` object (Sunshine
    does not relay click-to-WhatsApp ad referrals on WhatsApp messages in its documented
    payloads). Messages on other channels (``source.type`` / ``destination.type`` not
    ``whatsapp``) are skipped with a warning.
    """
    rejections = Rejections(errors)
    walker = _Walker(rejections, template_lookup(templates))
    for document in documents(source):
        walker.document(document)
    events = walker.events()
    if rejections.collect:
        return WebhookRead(events, rejections.frame())
    return events


def _message_id(value: Any, field: str) -> str:
    if type(value) is str:
        return value
    raise Bad(field, "missing message id" if value is None else f"expected a string, got {shown(value)}")


class _Walker:
    def __init__(self, rejections: Rejections, templates: dict[str, str]) -> None:
        self.rejections, self.templates = rejections, templates
        self.out_id: list[str] = []
        self.out_status: list[int] = []
        self.out_time: list[int] = []
        self.out_objects: dict[str, list] = {name: [] for name in _OUT_OBJECTS}
        self.out_error: list[float | None] = []
        self.in_id: list[str] = []
        self.in_time: list[int] = []
        self.in_referral: list[bool] = []
        self.in_objects: dict[str, list] = {name: [] for name in _IN_OBJECTS}
        self.user_of_conversation: dict[str, str] = {}
        self.where: dict[str, tuple[Document, str]] = {}  # outbound id -> where it was first seen
        self.other_channels: Counter = Counter()
        self.other_channel_ids: set[str] = set()
        self.whatsapp_ids: set[str] = set()

    def document(self, document: Document) -> None:
        payload = document.payload
        try:
            if isinstance(payload, Bad):
                raise payload
            if type(payload) is not dict:
                raise Bad("", f"expected a JSON object, got {type(payload).__name__}")
            if "trigger" in payload:
                self.v1(document, payload)
            elif type(payload.get("events")) is list:
                self.v2(document, payload)
            elif "events" in payload:
                raise Bad("events", f"expected a list, got {shown(payload['events'])}")
            else:
                raise Bad("trigger", "not a Sunshine Conversations webhook: no trigger (v1) or events (v2)")
        except Bad as bad:
            self.rejections.add(document, bad.field, bad.reason)

    def v1(self, document: Document, payload: dict) -> None:
        app = get_text(payload, "app", "_id")
        if app is None:
            raise Bad("app._id", "missing: the app id")
        user, trigger = get_text(payload, "appUser", "_id"), text(payload["trigger"], "trigger")
        messages = payload.get("messages")
        if messages is None:
            messages = []
        elif type(messages) is not list:
            raise Bad("messages", f"expected a list, got {shown(messages)}")
        for i, message in enumerate(messages):
            try:
                self.v1_message(document, app, user, message, f"messages[{i}]")
            except Bad as bad:
                self.rejections.add(document, bad.field, bad.reason)
        status = _V1_DELIVERY.get(trigger)
        if status is not None:
            ids = [m.get("_id") for m in messages if type(m) is dict]  # a malformed one was rejected above
            delivered = get(payload, "message", "_id")
            if delivered is not None:
                ids.append(_message_id(delivered, "message._id"))
            ids = sorted({i for i in ids if isinstance(i, str)})
            if not ids:
                raise Bad("message._id", "a delivery event without a message id")
            time = milliseconds(payload.get("timestamp"), "timestamp")
            channel = get_text(payload, "destination", "type")
            for message_id in ids:
                self.status(document, "message._id", app, user, None, message_id, status, time, channel,
                            error=error_code(payload.get("error")) if status == FAILED else None)

    def v1_message(self, document: Document, app: str, user: str | None, message: Any, path: str) -> None:
        if type(message) is not dict:
            raise Bad(path, f"expected an object, got {shown(message)}")
        role = text(message.get("role"), path + ".role")
        message_id = _message_id(message.get("_id"), path + "._id")
        time = milliseconds(message.get("received"), path + ".received")
        if role == "appUser":
            if user is None:
                user = text(message.get("authorId"), path + ".authorId")
            if user is None:
                raise Bad("appUser._id", "missing: the app user id")
            self.inbound(app, user, message_id, time, message, path)
        elif role == "appMaker":
            self.outbound(document, path, path + "._id", app, user, None, message_id, time, message,
                          get_text(message, "type", at=path))
        elif role != "whisper":  # whispers are internal notes, never sent to the user
            raise Bad(path + ".role", f"unknown role {shown(role)} (expected appUser, appMaker or whisper)")

    def v2(self, document: Document, payload: dict) -> None:
        app = get_text(payload, "app", "id")
        if app is None:
            raise Bad("app.id", "missing: the app id")
        for i, event in enumerate(payload["events"]):
            path = f"events[{i}]"
            try:
                if type(event) is not dict:
                    raise Bad(path, f"expected an object, got {shown(event)}")
                kind = text(event.get("type"), path + ".type")
                if kind != "conversation:message" and kind not in _V2_DELIVERY:
                    continue  # other event types carry no WhatsApp message
                at = path + ".payload"
                body = event.get("payload")
                if body is None:
                    body = {}
                elif type(body) is not dict:
                    raise Bad(at, f"expected an object, got {shown(body)}")
                conversation = get_text(body, "conversation", "id", at=at)
                if kind == "conversation:message":
                    self.v2_message(document, app, conversation, body.get("message"), at + ".message")
                    continue
                message_id = _message_id(get(body, "message", "id", at=at), at + ".message.id")
                status = _V2_DELIVERY[kind]
                self.status(document, at + ".message.id", app, get_text(body, "user", "id", at=at), conversation,
                            message_id, status, milliseconds(event.get("createdAt"), path + ".createdAt"),
                            get_text(body, "destination", "type", at=at),
                            error=error_code(body.get("error")) if status == FAILED else None)
            except Bad as bad:
                self.rejections.add(document, bad.field, bad.reason)

    def v2_message(self, document: Document, app: str, conversation: str | None, message: Any, path: str) -> None:
        if message is not None and type(message) is not dict:
            raise Bad(path, f"expected an object, got {shown(message)}")
        message_id = _message_id(get(message, "id", at=path), path + ".id")
        author = message.get("author")
        if author is None:
            author = {}
        elif type(author) is not dict:
            raise Bad(path + ".author", f"expected an object, got {shown(author)}")
        kind = get_text(author, "type", at=path + ".author")
        time = milliseconds(message.get("received"), path + ".received")
        if kind == "user":
            user = (get_text(author, "userId", at=path + ".author")
                    or get_text(author, "user", "id", at=path + ".author"))
            if user is None:
                raise Bad(path + ".author.userId", "missing: the user id")
            if conversation is not None:
                self.user_of_conversation.setdefault(conversation, user)
            self.inbound(app, user, message_id, time, message, path)
        elif kind == "business":
            self.outbound(document, path, path + ".id", app, None, conversation, message_id, time, message,
                          get_text(message, "content", "type", at=path))
        else:
            raise Bad(path + ".author.type", f"unknown author type {shown(kind)} (expected user or business)")

    def inbound(self, app: str, user: str, message_id: str, time: int, message: dict, path: str) -> None:
        """An inbound message; `path` is the JSON path of `message`."""
        channel = get_text(message, "source", "type", at=path)
        if channel is not None and channel != "whatsapp":
            self.other_channels[channel] += 1
            return
        referral = message.get("referral")
        if referral is not None and type(referral) is not dict:
            raise Bad(path + ".referral", f"expected an object, got {shown(referral)}")
        message_type = get_text(message, "content", "type", at=path) or get_text(message, "type", at=path)
        self.in_id.append(message_id)
        self.in_time.append(time)
        self.in_referral.append(referral is not None)
        for name, value in (("business", app), ("waba", app), ("user", user), ("message_type", message_type)):
            self.in_objects[name].append(value)

    def outbound(self, document: Document, path: str, id_field: str, app: str, user: str | None,
                 conversation: str | None, message_id: str, time: int, message: dict, message_type: str | None) -> None:
        """A business message; `path` is the JSON path of `message`, `id_field` of its id."""
        name, category = template(message, path)
        if category is not None:
            category = ALIASES.get(category, category)
            if category not in TEMPLATE_CATEGORIES:
                raise Bad(path + ".metadata.template_category",
                          f"unknown template category {shown(category)} (allowed: {', '.join(TEMPLATE_CATEGORIES)})")
        if name is not None and category is None:
            category = self.templates.get(name)
        self.status(document, id_field, app, user, conversation, message_id, SENT, time, None,
                    template=name, category=category if name is not None else None, message_type=message_type)

    def status(self, document: Document, field: str, app: str, user: str | None, conversation: str | None,
               message_id: str, status: int, time: int, channel: str | None, *, error: float | None = None,
               template: str | None = None, category: str | None = None, message_type: str | None = None) -> None:
        if channel is not None:
            if channel != "whatsapp":
                self.other_channels[channel] += 1
                self.other_channel_ids.add(message_id)
                return
            self.whatsapp_ids.add(message_id)
        if user is not None and conversation is not None:
            self.user_of_conversation.setdefault(conversation, user)
        self.where.setdefault(message_id, (document, field))
        self.out_id.append(message_id)
        self.out_status.append(status)
        self.out_time.append(time)
        self.out_error.append(error)
        for key, value in (("business", app), ("waba", app), ("user", user),
                           ("conversation", conversation),
                           ("template", template), ("template_category", category), ("message_type", message_type)):
            self.out_objects[key].append(value)

    def events(self) -> pd.DataFrame:
        outbound = aggregate_statuses(self.out_id, self.out_status, self.out_time, self.out_objects,
                                      {"error_code": self.out_error})
        ids = outbound["message_id"].to_pylist()
        other_only = self.other_channel_ids - self.whatsapp_ids
        keep = np.array([message_id not in other_only for message_id in ids], dtype=bool)
        users, conversations = outbound["user"].to_pylist(), outbound["conversation"].to_pylist()
        for i in np.flatnonzero(keep):
            if users[i] is None:
                users[i] = self.user_of_conversation.get(conversations[i])
            if users[i] is None:
                document, field = self.where[ids[i]]
                self.rejections.add(document, field, "business message whose user never appears "
                                    "(no appUser, payload.user or user message in its conversation)")
                keep[i] = False
        outbound["user"] = strings(users)
        mask = pa.array(keep)
        outbound = {name: values.filter(mask) if isinstance(values, pa.Array) else values[keep]
                    for name, values in outbound.items()}
        inbound = aggregate_messages(self.in_id, self.in_time, self.in_referral, self.in_objects)
        self._warn(outbound)
        return events_frame(inbound, outbound, unit=_MS)

    def _warn(self, outbound: dict[str, Any]) -> None:
        if self.other_channels:
            counts = ", ".join(f"{channel}: {n}" for channel, n in sorted(self.other_channels.items()))
            warnings.warn(f"skipped {sum(self.other_channels.values())} Sunshine events on channels other than "
                          f"WhatsApp ({counts})", WaconvWarning, stacklevel=4)
        unknown = pc.and_(outbound["template"].is_valid(), outbound["template_category"].is_null())
        if pc.any(unknown).as_py():
            names = sorted({str(n) or "(unnamed)" for n in outbound["template"].filter(unknown).to_pylist()})
            warnings.warn(f"{pc.sum(unknown).as_py()} template messages have no known category (templates: "
                          f"{', '.join(names[:10])}); they are read as free-form. Pass templates={{name: category}} "
                          "or set metadata.template_category", WaconvWarning, stacklevel=4)
