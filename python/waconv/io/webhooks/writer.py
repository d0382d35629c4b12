"""waconv.to_webhooks: canonical events (or a classified Result) -> Cloud API webhook payloads.

The inverse of :func:`waconv.read_webhooks`, for round-trip tests, reconciliation tests and
the shipped example dump. Given a :class:`waconv.Result`, each delivered outbound message's
status webhooks carry waconv's verdict in Meta's shapes, so a dump can be made to look like
what Meta would have sent.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any, Union

import numpy as np
import pandas as pd

from waconv._errors import InputError
from waconv.engine.canonical import NOT_DELIVERED, _timestamps
from waconv.engine.tables import Tables
from waconv.io.webhooks.events import STATUS_NAMES

# Any key type (Mapping is invariant in its key): business values as text or integers alike.
PhoneNumberIds = Mapping[Any, Union[str, Mapping[str, str]]]

# waconv's pricing categories as Meta spells pricing.category under PMP (the pricing-category
# list uses a hyphen); CBP webhooks and conversation.origin.type keep waconv's spellings.
_PMP_CATEGORY = {"authentication_international": "authentication-international"}
_ERROR_TITLES = {
    131026: "Message undeliverable",
    131047: "Re-engagement message",
    131049: "This message was not delivered to maintain healthy ecosystem engagement.",
    131050: "User has stopped marketing messages",
    130472: "User's number is part of an experiment",
}
_FOLLOWING = {  # the statuses Meta sends after `sent`, by final status
    "sent": (), "delivered": ("delivered",), "read": ("delivered", "read"),
    "played": ("delivered", "read", "played"),
}


def to_webhooks(events_or_result: pd.DataFrame | Tables, *,
                phone_number_ids: PhoneNumberIds | None = None) -> list[dict[str, Any]]:
    """One Cloud API ``messages`` webhook payload per inbound message and per status.

    events_or_result: canonical events (docs/rules.md §Input columns; also ``status``, ``error_code``,
    ``message_type`` when present) or a :class:`waconv.Result`, whose verdicts then ride on
    the status webhooks of delivered outbound messages:
    CBP rows get ``conversation`` {id, origin.type, expiration_timestamp on ``sent`` only} and
    ``pricing`` {billable, pricing_model "CBP", category}; PMP rows get ``pricing``
    {billable, pricing_model "PMP", type, category} and the per-message ``conversation``
    object Meta still sent after 2025-07-01 on Graph API v23 and lower (id unique per message,
    or per window for free entry points; expiration on ``sent``). Spellings: CBP v1 categories
    as real payloads had them (``user_initiated``, not the ``customer_initiated`` of Meta's
    old prose); ``authentication-international`` with a hyphen in PMP ``pricing.category``,
    with an underscore in CBP and in ``origin.type``; ``billable`` with Meta's deprecated
    meaning (CBP: every conversation but free entry points, free tier included; PMP:
    ``type == "regular"``). Undelivered messages carry no pricing.
    phone_number_ids: business value -> ``metadata.phone_number_id`` (or a dict with
    ``phone_number_id`` and ``display_phone_number``); default: the business value itself.

    Each outbound message becomes ``sent`` (at ``timestamp``) followed by ``delivered``,
    ``read``, ``played`` (at ``delivered_at``) as its final status requires, or a lone
    ``failed`` with ``errors[0].code`` from ``error_code``. Without ``status`` the final status
    is ``delivered`` when ``delivered_at`` is set (or when neither column exists, as in
    :func:`waconv.classify`), else ``sent``. Users starting with an ISO country prefix
    (``US.1349...``) are BSUIDs (``recipient_user_id``/``from_user_id``), others phone numbers
    sent as digits (a leading ``+`` is dropped); times are whole seconds (floored). Rows
    repeating a (message_id, direction) and Result rows marked ``duplicate`` are skipped.
    Payloads come back in the order Meta would send them (by event time).
    """
    if isinstance(events_or_result, Tables):
        frame, result = events_or_result.messages, events_or_result
    elif isinstance(events_or_result, pd.DataFrame):
        frame, result = events_or_result, None
    else:
        raise InputError("events", None, f"expected a DataFrame or a waconv.Result, got {type(events_or_result).__name__}")
    for column in ("business", "user", "timestamp", "direction"):
        if column not in frame.columns:
            raise InputError(column, None, "required column is missing")
    rows = _rows(frame, result)
    ends = _conversation_ends(result)
    stamped: list[tuple[int, int, dict]] = []
    for row in rows:
        metadata = _metadata(row["business"], phone_number_ids)
        waba = str(row["waba"])
        if row["direction"] == "inbound":
            stamped.append((row["sent"], len(stamped), _envelope(waba, metadata, "messages", _inbound(row), _contacts(row["user"]))))
            continue
        for status, time, verdict in _statuses(row):
            item = _status_item(row, status, time, verdict and result is not None, ends)
            stamped.append((time, len(stamped), _envelope(waba, metadata, "statuses", item)))
    stamped.sort(key=lambda entry: (entry[0], entry[1]))
    return [payload for _, _, payload in stamped]


def _rows(frame: pd.DataFrame, result: Tables | None) -> list[dict[str, Any]]:
    """The frame's rows as plain dicts with times in epoch seconds and the final status."""
    n = len(frame)
    sent_ns, _ = _timestamps(frame["timestamp"], "timestamp")
    direction = frame["direction"].astype(str).str.strip().str.lower().to_numpy()
    bad = ~np.isin(direction, ("inbound", "outbound"))
    if bad.any():
        raise InputError("direction", int(np.argmax(bad)), f"unknown direction {direction[np.argmax(bad)]!r}")
    if "delivered_at" in frame.columns:
        delivered_ns, _ = _timestamps(frame["delivered_at"], "delivered_at")
    else:
        delivered_ns = np.full(n, NOT_DELIVERED, dtype=np.int64)
    status = _final_status(frame, delivered_ns, sent_ns)
    ids = frame["message_id"].astype(object).to_numpy() if "message_id" in frame.columns else np.full(n, None, dtype=object)
    ids = np.array([f"wamid.waconv.{i}" if pd.isna(v) else str(v) for i, v in enumerate(ids)], dtype=object)
    if result is not None and "duplicate" in frame.columns:
        keep = ~frame["duplicate"].to_numpy(dtype=bool)
    else:
        keep = ~pd.DataFrame({"id": ids, "direction": direction}).duplicated().to_numpy()
    columns = {
        "business": frame["business"].to_numpy(dtype=object),
        "user": frame["user"].to_numpy(dtype=object),
        "waba": (frame["waba"] if "waba" in frame.columns else frame["business"]).to_numpy(dtype=object),
        "message_id": ids,
        "direction": direction,
        "sent": sent_ns // 1_000_000_000,
        "delivered": np.where(delivered_ns == NOT_DELIVERED, -1, delivered_ns // 1_000_000_000),
        "status": status,
        "referral": _optional(frame, "referral", False),
        "error_code": _optional(frame, "error_code", None),
        "message_type": _optional(frame, "message_type", None),
    }
    for name in ("pricing_model", "pricing_category", "pricing_type", "conversation_id"):
        columns[name] = _optional(frame, name, None) if result is not None else np.full(n, None, dtype=object)
    return [{name: values[i] for name, values in columns.items()} for i in np.flatnonzero(keep)]


def _optional(frame: pd.DataFrame, name: str, default: Any) -> np.ndarray:
    if name not in frame.columns:
        return np.full(len(frame), default, dtype=object)
    values = frame[name].astype(object).to_numpy()
    return np.array([default if pd.isna(v) else v for v in values], dtype=object)


def _final_status(frame: pd.DataFrame, delivered_ns: np.ndarray, sent_ns: np.ndarray) -> np.ndarray:
    if "status" in frame.columns:
        status = frame["status"].astype(object).to_numpy()
        status = np.array([None if pd.isna(s) else str(s).strip().lower() for s in status], dtype=object)
        unknown = np.array([s is not None and s not in STATUS_NAMES for s in status])
        if unknown.any():
            raise InputError("status", int(np.argmax(unknown)), f"unknown status {status[np.argmax(unknown)]!r}")
        derived = np.where(delivered_ns != NOT_DELIVERED, "delivered", "sent").astype(object)
        return np.where(pd.isna(status), derived, status)
    if "delivered_at" in frame.columns:
        return np.where(delivered_ns != NOT_DELIVERED, "delivered", "sent").astype(object)
    return np.full(len(sent_ns), "delivered", dtype=object)  # classify's reading of such a log


def _statuses(row: dict[str, Any]) -> list[tuple[str, int, bool]]:
    """(status, epoch seconds, carries the verdict objects) for one outbound message."""
    sent, final = int(row["sent"]), row["status"]
    if final == "failed":
        return [("failed", sent, False)]
    delivered = int(row["delivered"]) if row["delivered"] >= 0 else sent
    following = [(status, delivered, i == 0) for i, status in enumerate(_FOLLOWING[final])]
    return [("sent", sent, True), *following]


def _status_item(row: dict[str, Any], status: str, time: int, with_verdict: bool, ends: Mapping[int, int]) -> dict:
    item: dict[str, Any] = {"id": row["message_id"], "status": status, "timestamp": str(time)}
    item.update(_recipient(row["user"]))
    if status == "failed" and row["error_code"] is not None:
        code = int(row["error_code"])
        title = _ERROR_TITLES.get(code, "Message failed to send")
        item["errors"] = [{"code": code, "title": title, "message": title}]
    if with_verdict and row["pricing_type"] is not None:
        conversation, pricing = _verdict(row, ends)
        if status != "sent":
            conversation.pop("expiration_timestamp", None)  # Meta puts it on `sent` only
        item["conversation"], item["pricing"] = conversation, pricing
    return item


def _verdict(row: dict[str, Any], ends: Mapping[int, int]) -> tuple[dict, dict]:
    category, pricing_type = str(row["pricing_category"]), str(row["pricing_type"])
    key = row["conversation_id"]
    expiration = ends.get(int(key)) if key is not None else None
    if str(row["pricing_model"]) == "CBP":
        pricing = {"billable": category != "referral_conversion", "pricing_model": "CBP", "category": category}
        conversation_key = f"{row['business']}|{row['user']}|{key}"
    else:
        fep = pricing_type == "free_entry_point"
        pricing = {"billable": pricing_type == "regular", "pricing_model": "PMP", "type": pricing_type,
                   "category": "referral_conversion" if fep else _PMP_CATEGORY.get(category, category)}
        conversation_key = f"{row['business']}|{row['user']}|{key}" if fep and key is not None else f"{row['business']}|{row['message_id']}"
        if not (fep and expiration is not None):
            expiration = int(row["sent"]) + 86_400
        category = "referral_conversion" if fep else category
    conversation = {"id": hashlib.md5(conversation_key.encode()).hexdigest(), "origin": {"type": category}}
    if expiration is not None:
        conversation["expiration_timestamp"] = str(expiration)
    return conversation, pricing


def _conversation_ends(result: Tables | None) -> dict[int, int]:
    if result is None or result.conversations.empty:
        return {}
    ends = pd.DatetimeIndex(result.conversations["end"]).as_unit("ns").asi8 // 1_000_000_000
    return dict(zip(result.conversations["conversation_id"].astype(int).tolist(), ends.tolist()))


def _is_bsuid(user: Any) -> bool:
    text = str(user)
    return len(text) > 3 and text[:2].isalpha() and text[:2].isupper() and text[2] == "."


def _recipient(user: Any) -> dict[str, str]:
    return {"recipient_user_id": str(user)} if _is_bsuid(user) else {"recipient_id": str(user).lstrip("+")}


def _contacts(user: Any) -> list[dict[str, str]]:
    return [{"user_id": str(user)}] if _is_bsuid(user) else [{"wa_id": str(user).lstrip("+")}]


def _inbound(row: dict[str, Any]) -> dict[str, Any]:
    kind = str(row["message_type"] or "text")
    sender = {"from_user_id": str(row["user"])} if _is_bsuid(row["user"]) else {"from": str(row["user"]).lstrip("+")}
    item: dict[str, Any] = {**sender, "id": row["message_id"], "timestamp": str(int(row["sent"])), "type": kind}
    item[kind] = {"body": "[redacted]"} if kind == "text" else {}
    if bool(row["referral"]):
        digest = hashlib.sha1(row["message_id"].encode()).hexdigest()
        item["referral"] = {
            "source_url": f"https://fb.me/{digest[:9]}",
            "source_id": str(int(digest[:14], 16)),
            "source_type": "ad",
            "headline": "Chat with us",
            "media_type": "image",
            "ctwa_clid": digest,
        }
    return item


def _metadata(business: Any, phone_number_ids: PhoneNumberIds | None) -> dict[str, str]:
    given = None
    if phone_number_ids is not None:
        given = phone_number_ids.get(business, phone_number_ids.get(str(business)))
    if isinstance(given, Mapping):
        return {key: str(value) for key, value in given.items()}
    return {"phone_number_id": str(business if given is None else given)}


def _envelope(waba: str, metadata: dict, key: str, item: dict, contacts: list | None = None) -> dict:
    value: dict[str, Any] = {"messaging_product": "whatsapp", "metadata": metadata}
    if contacts is not None:
        value["contacts"] = contacts
    value[key] = [item]
    return {"object": "whatsapp_business_account",
            "entry": [{"id": waba, "changes": [{"value": value, "field": "messages"}]}]}
