"""read_sunshine on Sunshine Conversations v1 and v2 webhook captures (tests/fixtures/sunshine)."""

from __future__ import annotations

import json
import random
import warnings
from pathlib import Path

import pandas as pd
import pytest

import waconv
from waconv.io.sunshine.read import read_sunshine

SUNSHINE = Path(__file__).parent / "fixtures" / "sunshine"
V1, V2 = SUNSHINE / "v1_whatsapp.jsonl", SUNSHINE / "v2_whatsapp.jsonl"
APP_V1, USER_V1 = "5f3c1a2b9d8e7f0012345678", "c7f6e6d6c3a637261bd9656f"
APP_V2, USER_V2 = "6020a1b2c3d4e5f601234567", "cbec0073faeda4dfcd21d0f1"


def at(text: str) -> pd.Timestamp:
    return pd.Timestamp(text, tz="UTC")


def seconds(value: float) -> pd.Timestamp:
    return pd.Timestamp(round(value * 1000), unit="ms", tz="UTC")


def quietly(function, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", waconv.WaconvWarning)
        return function(*args, **kwargs)


def test_v1_roles_deliveries_and_failures():
    with pytest.warns(waconv.WaconvWarning, match="messenger: 1"):
        events = read_sunshine(V1, templates={"order_update": "utility"})
    assert (events["business"] == APP_V1).all() and (events["waba"] == APP_V1).all()
    assert (events["user"] == USER_V1).all()
    rows = events.set_index("message_id")
    # The whisper (internal note) and the Messenger message are not WhatsApp messages.
    assert list(rows.index) == ["64a0000000000000000000a1", "64a0000000000000000000b1",
                                "64a0000000000000000000b2", "64a0000000000000000000b3"]
    assert list(rows["direction"]) == ["inbound", "outbound", "outbound", "outbound"]
    assert rows.loc["64a0000000000000000000a1", "timestamp"] == seconds(1715000000.123)
    reply = rows.loc["64a0000000000000000000b1"]  # delivered twice (a retried webhook): one row
    assert reply.timestamp == seconds(1715000060.5) and reply.delivered_at == seconds(1715000061.25)
    assert reply.status == "delivered" and pd.isna(reply.template_category)
    template = rows.loc["64a0000000000000000000b2"]
    assert template.template_category == "utility" and template.delivered_at == seconds(1715090003.0)
    failed = rows.loc["64a0000000000000000000b3"]
    assert failed.status == "failed" and failed.error_code == 131047 and pd.isna(failed.delivered_at)


def test_v1_template_without_a_known_category_warns():
    with pytest.warns(waconv.WaconvWarning) as caught:
        events = read_sunshine(V1)
    messages = sorted(str(w.message) for w in caught)
    assert len(messages) == 2 and "order_update" in messages[0] and "messenger" in messages[1]
    assert events["template_category"].isna().all()


def test_v2_authors_delivery_events_and_unattributable_messages():
    with pytest.raises(waconv.InputError) as raised:
        read_sunshine(V2)
    assert (raised.value.file, raised.value.line, raised.value.column) == (str(V2), 8, "events[0].payload.message.id")
    events, rejected = read_sunshine(V2, errors="collect")
    assert rejected[["line", "field"]].values.tolist() == [[8, "events[0].payload.message.id"]]
    assert "user never appears" in rejected["reason"][0]
    rows = events.set_index("message_id")
    assert list(rows.index) == ["m-user-1", "m-biz-1", "m-biz-2", "m-biz-3"]
    assert (events["user"] == USER_V2).all() and (events["business"] == APP_V2).all()
    assert rows.loc["m-user-1", "direction"] == "inbound" and rows.loc["m-user-1", "timestamp"] == at("2025-08-04 09:00:00.250")
    template = rows.loc["m-biz-1"]  # delivery to the phone arrived before the message event
    assert template.template_category == "utility" and template.message_type == "template"
    assert template.timestamp == at("2025-08-04 09:05") and template.delivered_at == at("2025-08-04 09:05:04")
    assert template.status == "delivered"
    accepted = rows.loc["m-biz-2"]  # only the channel (WhatsApp) accepted it
    assert accepted.status == "sent" and pd.isna(accepted.delivered_at) and pd.isna(accepted.template_category)
    unseen = rows.loc["m-biz-3"]  # a failure for a message whose own event never came
    assert unseen.status == "failed" and unseen.error_code == 131026 and unseen.timestamp == at("2025-08-06 12:00:02")


def test_line_order_and_duplicates_do_not_matter(tmp_path):
    for source in (V1, V2):
        lines = source.read_text().splitlines()
        shuffled = lines + lines[:3]
        random.Random(7).shuffle(shuffled)
        copy = tmp_path / source.name
        copy.write_text("\n".join(shuffled) + "\n")
        first = quietly(read_sunshine, source, errors="collect").events
        second = quietly(read_sunshine, copy, errors="collect").events
        pd.testing.assert_frame_equal(first, second)


def test_sunshine_events_feed_classify():
    events = quietly(read_sunshine, V2, errors="collect").events
    result = waconv.classify(events, price=False)
    m = result.messages.set_index("message_id")
    # pmp_v1: the utility template is delivered inside the window the user opened at 09:00.
    assert (m.loc["m-biz-1", "pricing_category"], m.loc["m-biz-1", "pricing_type"]) == ("utility", "free_customer_service")
    assert pd.isna(m.loc["m-biz-2", "pricing_type"])  # never confirmed delivered: not charged


def test_malformed_sunshine_payloads_are_named():
    meta = {"object": "whatsapp_business_account", "entry": []}
    bad_category = {"app": {"id": "a1"}, "events": [{"type": "conversation:message", "createdAt": "2025-08-04T09:00:00Z",
                    "payload": {"conversation": {"id": "c1"}, "message": {
                        "id": "m1", "received": "2025-08-04T09:00:00Z", "author": {"type": "business"},
                        "content": {"type": "template", "template": {"name": "x"}},
                        "metadata": {"template_category": "promotional"}}}}]}
    no_time = {"trigger": "message:appUser", "app": {"_id": "a1"}, "appUser": {"_id": "u1"},
               "messages": [{"_id": "m2", "role": "appUser", "source": {"type": "whatsapp"}}]}
    events, rejected = read_sunshine([meta, bad_category, json.dumps(no_time)], errors="collect")
    assert events.empty
    assert rejected[["line", "field"]].values.tolist() == [
        [1, "trigger"], [2, "events[0].payload.message.metadata.template_category"], [3, "messages[0].received"]]
    assert "promotional" in rejected["reason"][1]
    with pytest.raises(waconv.InputError, match="unknown template category"):
        read_sunshine(V1, templates={"order_update": "transactional"})
