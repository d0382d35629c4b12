"""Writes example_webhooks.jsonl: a small, anonymised WhatsApp Cloud API webhook dump.

Run from the repository root: ``python python/waconv/examples/data/make_example_webhooks.py``.

The story (one WABA, two business numbers, June 2025 to May 2026; every number and id is
fictional, message texts are made up): a user arriving from a click-to-WhatsApp ad; a
marketing template answered by the user, then free-form replies; authentication codes; the
switch to per-message pricing on 2025-07-01 with marketing, free in-window utility and
charged out-of-window utility templates; a marketing template to a US number failing with
131049 (US pause); a free-form message outside the service window failing with 131047; a
template never delivered (phone off); and, in 2026, a user known only by a business-scoped
user id (phone number withheld).

The events are classified by waconv and written with :func:`waconv.io.webhooks.writer.to_webhooks`,
so each status carries the ``conversation``/``pricing`` objects Meta would have sent; then
the dump is made to look like a real capture: statuses after 2025-10-08 in the Graph API
v24 shape (no ``conversation`` object outside free entry points), two messages read without
a ``delivered`` webhook (the ``pricing`` object then rides on ``read``), a ``read`` arriving
before its ``delivered``, three webhooks delivered twice, user names and message texts, and
one ``account_update`` webhook (no messages). One utility template is reported as charged
where waconv's default says free: the user had only reacted to a message, and Meta did not
count the reaction as opening the service window (reconcile shows it as a ``type`` and
``billable`` disagreement; ``csw_refreshing`` excluding reactions makes them agree).
"""

from __future__ import annotations

import base64
import hashlib
from pathlib import Path

import orjson
import pandas as pd

import waconv
from waconv.io.webhooks.writer import to_webhooks

OUT = Path(__file__).with_name("example_webhooks.jsonl")
WABA = "102290129340398"
NUMBERS = {  # business phone number id -> display number (Meta's fictional 555 range)
    "106540352242922": "15550783881",
    "106540352242923": "15550783882",
}
TIMEZONES = {WABA: "America/Sao_Paulo"}
NAMES = {"5511900000101": "Ana S.", "5511900000102": "Bruno L.", "5521900000103": "Carla M.",
         "5531900000104": "Diego R.", "16505550105": "Evan T.", "5511900000106": "Fernanda C.",
         "5541900000107": "Gustavo P.", "BR.10000000000000000108": "Helena"}
TEXTS = ["Hi! Is the sofa in the ad still available?", "Great, thanks", "Can I pay in instalments?",
         "What time do you open on Saturday?", "Thank you!", "Where is my order?", "ok", "Perfect"]

# (minutes offset from the day, business suffix, user, direction, template, delivery delay s, status, error, referral)
STORY = [
    # Ana arrives from an ad (CBP free entry point): a reply, then a utility template in the window.
    ("2025-06-23 13:00", "22", "5511900000101", "in", None, None, None, None, True),
    ("2025-06-23 13:03", "22", "5511900000101", "out", None, 3, "read", None, False),
    ("2025-06-24 09:00", "22", "5511900000101", "out", "utility", 4, "read", None, False),
    # Bruno gets a marketing template, answers; the replies join the marketing conversation.
    ("2025-06-25 12:00", "22", "5511900000102", "out", "marketing", 5, "read", None, False),
    ("2025-06-25 14:10", "22", "5511900000102", "in", None, None, None, None, False),
    ("2025-06-25 14:12", "22", "5511900000102", "out", None, 2, "read", None, False),
    # A day later his question opens a service conversation.
    ("2025-06-26 15:00", "22", "5511900000102", "in", None, None, None, None, False),
    ("2025-06-26 15:02", "22", "5511900000102", "out", None, 2, "delivered", None, False),
    ("2025-06-26 15:09", "22", "5511900000102", "out", None, 3, "read", None, False),
    # Carla logs in: an authentication code on the second number.
    ("2025-06-27 18:30", "23", "5521900000103", "out", "authentication", 2, "delivered", None, False),
    # Per-message pricing: Diego gets a marketing template, asks, gets answers and utility templates.
    ("2025-07-02 12:00", "22", "5531900000104", "out", "marketing", 6, "read", None, False),
    ("2025-07-02 12:40", "22", "5531900000104", "in", None, None, None, None, False),
    ("2025-07-02 12:41", "22", "5531900000104", "out", None, 2, "read", None, False),
    ("2025-07-02 13:30", "22", "5531900000104", "out", "utility", 3, "delivered", None, False),
    ("2025-07-04 10:00", "22", "5531900000104", "out", "utility", 3, "delivered", None, False),
    # Evan has a US number: marketing templates are not delivered there (131049).
    ("2025-07-03 16:00", "22", "16505550105", "out", "marketing", None, "failed", 131049, False),
    # Fernanda wrote two days ago; a free-form message now fails (131047); a template goes through.
    ("2025-07-05 11:00", "23", "5511900000106", "in", None, None, None, None, False),
    ("2025-07-07 12:00", "23", "5511900000106", "out", None, None, "failed", 131047, False),
    ("2025-07-07 12:05", "23", "5511900000106", "out", "utility", 4, "read", None, False),
    # Gustavo's phone is off: the template is sent, never delivered.
    ("2025-07-08 09:00", "22", "5541900000107", "out", "marketing", None, "sent", None, False),
    # 2026: Helena has hidden her phone number; only her business-scoped user id is known.
    ("2026-05-12 17:20", "22", "BR.10000000000000000108", "in", None, None, None, None, False),
    ("2026-05-12 17:22", "22", "BR.10000000000000000108", "out", None, 2, "read", None, False),
    ("2026-05-14 10:00", "22", "BR.10000000000000000108", "out", "marketing", 8, "delivered", None, False),
    # Bruno only reacts (thumbs up) to the June reply (row 8); an hour later a shipping update goes out.
    ("2025-08-12 10:00", "22", "5511900000102", "in", None, None, None, None, False),
    ("2025-08-12 11:00", "22", "5511900000102", "out", "utility", 3, "delivered", None, False),
]
READ_WITHOUT_DELIVERED = (1, 12)  # STORY rows whose `delivered` webhook never came
DUPLICATED = ((4, "messages"), (8, "delivered"), (10, "read"))  # STORY rows with a webhook sent twice
READ_BEFORE_DELIVERED = 21
REACTIONS = (23,)  # STORY rows that are reactions, not texts
# Meta did not count the reaction as opening the customer service window and charged the
# update (waconv, by default, lets every inbound message open it: `csw_refreshing`,
# docs/rules.md §Options for open questions), so this dump disagrees with waconv's default
# verdict on exactly this message.
CHARGED_BY_META = 24
V24_FROM = pd.Timestamp("2025-10-08", tz="UTC")


def wamid(business: str, user: str, number: int) -> str:
    """An id shaped like Meta's: base64 of the user's number and a random-looking hex id."""
    digits = user.encode()[-13:]
    token = hashlib.sha256(f"{business}|{user}|{number}".encode()).hexdigest()[:18].upper().encode()
    return "wamid." + base64.b64encode(b"\x1c\x18" + bytes([len(digits)]) + digits + b"\x15\x02\x00\x11\x18\x12" + token).decode()


def story_events() -> pd.DataFrame:
    rows = []
    for number, (when, suffix, user, direction, template, delay, status, error, referral) in enumerate(STORY):
        business = "1065403522429" + suffix
        sent = pd.Timestamp(when, tz="UTC")
        rows.append({
            "message_id": wamid(business, user, number),
            "business": business,
            "waba": WABA,
            "user": user,
            "timestamp": sent,
            "direction": "inbound" if direction == "in" else "outbound",
            "template_category": template,
            "delivered_at": sent + pd.Timedelta(seconds=delay) if delay is not None else pd.NaT,
            "status": status,
            "error_code": error,
            "referral": referral,
            "message_type": ("reaction" if number in REACTIONS else "text") if direction == "in" else None,
        })
    frame = pd.DataFrame(rows)
    frame["delivered_at"] = pd.to_datetime(frame["delivered_at"], utc=True)
    frame["error_code"] = frame["error_code"].astype("Int64")
    return frame


def _item(payload: dict) -> dict:
    value = payload["entry"][0]["changes"][0]["value"]
    return (value.get("statuses") or value.get("messages"))[0]


def dump() -> list[dict]:
    events = story_events()
    result = waconv.classify(events, timezones=TIMEZONES, price=False)
    display = {business: {"display_phone_number": shown, "phone_number_id": business} for business, shown in NUMBERS.items()}
    payloads = to_webhooks(result, phone_number_ids=display)
    row_of = {mid: i for i, mid in enumerate(events["message_id"])}
    texts = iter(TEXTS * 2)
    for payload in payloads:
        value = payload["entry"][0]["changes"][0]["value"]
        item = _item(payload)
        for contact in value.get("contacts", []):
            user = contact.get("wa_id") or contact.get("user_id")
            contact["profile"] = {"name": NAMES[user]}
        if "messages" in value and item["type"] == "reaction":
            item["reaction"] = {"message_id": events["message_id"][8], "emoji": "\U0001F44D"}
        elif "messages" in value:
            item["text"] = {"body": next(texts)}
        elif pd.Timestamp(int(item["timestamp"]), unit="s", tz="UTC") >= V24_FROM:
            if item.get("pricing", {}).get("type") != "free_entry_point":
                item.pop("conversation", None)  # Graph API v24.0 and later
    charged = events["message_id"][CHARGED_BY_META]
    for payload in payloads:
        item = _item(payload)
        if item["id"] == charged and "pricing" in item:
            item["pricing"].update(billable=True, type="regular")
    out = []
    for payload in payloads:  # read without delivered: pricing moves to `read`
        item = _item(payload)
        row = row_of[item["id"]]
        if row in READ_WITHOUT_DELIVERED and item.get("status") == "delivered":
            read = next(p for p in payloads if _item(p)["id"] == item["id"] and _item(p).get("status") == "read")
            for key in ("conversation", "pricing"):
                if key in item:
                    _item(read)[key] = item[key]
            continue
        out.append(payload)
    for row, kind in DUPLICATED:  # webhooks are at-least-once: a later second copy
        copy = next(p for p in out if _item(p)["id"] == events["message_id"][row]
                    and (kind == "messages" or _item(p).get("status") == kind))
        out.insert(out.index(copy) + 3, orjson.loads(orjson.dumps(copy)))
    late = events["message_id"][READ_BEFORE_DELIVERED]
    delivered, read = (next(i for i, p in enumerate(out) if _item(p)["id"] == late and _item(p).get("status") == s)
                       for s in ("delivered", "read"))
    out[delivered], out[read] = out[read], out[delivered]
    out.append({"object": "whatsapp_business_account", "entry": [{"id": WABA, "time": 1775001600, "changes": [{
        "value": {"volume_tier_info": {"tier_update_time": 1775001600, "pricing_category": "UTILITY",
                                       "tier": "0:750000", "effective_month": "2026-04", "region": "Brazil"},
                  "event": "VOLUME_BASED_PRICING_TIER_UPDATE"},
        "field": "account_update"}]}]})
    return out


def main() -> None:
    payloads = dump()
    OUT.write_bytes(b"".join(orjson.dumps(p) + b"\n" for p in payloads))
    print(f"wrote {len(payloads)} payloads to {OUT}")


if __name__ == "__main__":
    main()
