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
from waconv.io.sunshine.fields import error_code, get, milliseconds, template, template_lookup
from waconv.io.webhooks.categories import ALIASES, TEMPLATE_CATEGORIES
from waconv.io.webhooks.events import DELIVERED, FAILED, SENT, aggregate_messages, aggregate_statuses, events_frame, strings
from waconv.io.webhooks.sources import Bad, Document, Rejections, Source, WebhookRead, documents

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
                raise Bad("payload", f"expected a JSON object, got {type(payload).__name__}")
            if "trigger" in payload:
                self.v1(document, payload)
            elif type(payload.get("events")) is list:
                self.v2(document, payload)
            else:
                raise Bad("trigger", "not a Sunshine Conversations webhook: no trigger (v1) or events (v2)")
        except Bad as bad:
            self.rejections.add(document, bad.field, bad.reason)

    def v1(self, document: Document, payload: dict) -> None:
        app = get(payload, "app", "_id")
        if app is None:
            raise Bad("app._id", "missing: the app id")
        app, user, trigger = str(app), get(payload, "appUser", "_id"), payload["trigger"]
        messages = payload.get("messages") or []
        if type(messages) is not list:
            raise Bad("messages", "expected a list")
        for i, message in enumerate(messages):
            try:
                self.v1_message(document, app, user, message, f"messages[{i}]")
            except Bad as bad:
                self.rejections.add(document, bad.field, bad.reason)
        status = _V1_DELIVERY.get(trigger)
        if status is not None:
            ids = [m.get("_id") for m in messages if type(m) is dict]
            if type(payload.get("message")) is dict:
                ids.append(payload["message"].get("_id"))
            ids = sorted({i for i in ids if isinstance(i, str)})
            if not ids:
                raise Bad("message._id", "a delivery event without a message id")
            time = milliseconds(payload.get("timestamp"), "timestamp")
            channel = get(payload, "destination", "type")
            for message_id in ids:
                self.status(document, "message._id", app, None if user is None else str(user), None, message_id,
                            status, time, channel, error=error_code(payload.get("error")) if status == FAILED else None)

    def v1_message(self, document: Document, app: str, user: Any, message: Any, path: str) -> None:
        if type(message) is not dict:
            raise Bad(path, "expected an object")
        role, message_id = message.get("role"), message.get("_id")
        if not isinstance(message_id, str):
            raise Bad(path + "._id", "missing message id")
        time = milliseconds(message.get("received"), path + ".received")
        if role == "appUser":
            user = user if user is not None else message.get("authorId")
            if user is None:
                raise Bad("appUser._id", "missing: the app user id")
            self.inbound(app, str(user), message_id, time, message, get(message, "source", "type"))
        elif role == "appMaker":
            self.outbound(document, path + "._id", app, None if user is None else str(user), None, message_id,
                          time, message, message.get("type"))
        elif role != "whisper":  # whispers are internal notes, never sent to the user
            raise Bad(path + ".role", f"unknown role {role!r} (expected appUser, appMaker or whisper)")

    def v2(self, document: Document, payload: dict) -> None:
        app = get(payload, "app", "id")
        if app is None:
            raise Bad("app.id", "missing: the app id")
        app = str(app)
        for i, event in enumerate(payload["events"]):
            path = f"events[{i}]"
            try:
                if type(event) is not dict:
                    raise Bad(path, "expected an object")
                kind, body = event.get("type"), event.get("payload") or {}
                message = body.get("message") if type(body) is dict else None
                conversation = get(body, "conversation", "id")
                if kind == "conversation:message":
                    self.v2_message(document, app, conversation, message, path + ".payload.message")
                elif kind in _V2_DELIVERY:
                    message_id = get(message, "id")
                    if not isinstance(message_id, str):
                        raise Bad(path + ".payload.message.id", "missing message id")
                    user = get(body, "user", "id")
                    status = _V2_DELIVERY[kind]
                    self.status(document, path + ".payload.message.id", app, None if user is None else str(user),
                                conversation, message_id, status, milliseconds(event.get("createdAt"), path + ".createdAt"),
                                get(body, "destination", "type"),
                                error=error_code(body.get("error")) if status == FAILED else None)
            except Bad as bad:
                self.rejections.add(document, bad.field, bad.reason)

    def v2_message(self, document: Document, app: str, conversation: Any, message: Any, path: str) -> None:
        if type(message) is not dict or not isinstance(message.get("id"), str):
            raise Bad(path + ".id", "missing message id")
        author = message.get("author") or {}
        kind = get(author, "type")
        time = milliseconds(message.get("received"), path + ".received")
        message_type = get(message, "content", "type")
        if kind == "user":
            user = author.get("userId") or get(author, "user", "id")
            if user is None:
                raise Bad(path + ".author.userId", "missing: the user id")
            if conversation is not None:
                self.user_of_conversation.setdefault(str(conversation), str(user))
            self.inbound(app, str(user), message["id"], time, message, get(message, "source", "type"))
        elif kind == "business":
            self.outbound(document, path + ".id", app, None, conversation, message["id"], time, message, message_type)
        else:
            raise Bad(path + ".author.type", f"unknown author type {kind!r} (expected user or business)")

    def inbound(self, app: str, user: str, message_id: str, time: int, message: dict, channel: Any) -> None:
        if channel is not None and channel != "whatsapp":
            self.other_channels[channel] += 1
            return
        self.in_id.append(message_id)
        self.in_time.append(time)
        self.in_referral.append(type(message.get("referral")) is dict)
        for name, value in (("business", app), ("waba", app), ("user", user),
                            ("message_type", get(message, "content", "type") or message.get("type"))):
            self.in_objects[name].append(value)

    def outbound(self, document: Document, field: str, app: str, user: str | None, conversation: Any,
                 message_id: str, time: int, message: dict, message_type: Any) -> None:
        name, category = template(message)
        if category is not None:
            category = ALIASES.get(category, category)
            if category not in TEMPLATE_CATEGORIES:
                raise Bad(field.rsplit(".", 1)[0] + ".metadata.template_category",
                          f"unknown template category {category!r} (allowed: {', '.join(TEMPLATE_CATEGORIES)})")
        if name is not None and category is None:
            category = self.templates.get(name)
        self.status(document, field, app, user, conversation, message_id, SENT, time, None,
                    template=name, category=category if name is not None else None, message_type=message_type)

    def status(self, document: Document, field: str, app: str, user: str | None, conversation: Any,
               message_id: str, status: int, time: int, channel: Any, *, error: float | None = None,
               template: str | None = None, category: str | None = None, message_type: Any = None) -> None:
        if channel is not None:
            if channel != "whatsapp":
                self.other_channels[channel] += 1
                self.other_channel_ids.add(message_id)
                return
            self.whatsapp_ids.add(message_id)
        if user is not None and conversation is not None:
            self.user_of_conversation.setdefault(str(conversation), user)
        self.where.setdefault(message_id, (document, field))
        self.out_id.append(message_id)
        self.out_status.append(status)
        self.out_time.append(time)
        self.out_error.append(error)
        for key, value in (("business", app), ("waba", app), ("user", user),
                           ("conversation", None if conversation is None else str(conversation)),
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
