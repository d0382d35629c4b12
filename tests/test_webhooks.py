"""read_webhooks on Meta's example payloads, hand-made payloads and malformed dumps."""

from __future__ import annotations

import itertools
import json
from importlib import resources
from pathlib import Path

import pandas as pd
import pytest

import waconv
from waconv.io.webhooks.columns import read_columns
from waconv.io.webhooks.read import read_webhooks

FIXTURES = Path(__file__).parent / "fixtures"
META = FIXTURES / "meta"
WAMID = "wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQUFERjg0NDEzNDdFODU3MUMxMAA="  # shared by four Meta examples


def utc(seconds: int) -> pd.Timestamp:
    return pd.Timestamp(seconds, unit="s", tz="UTC")


def envelope(*, statuses=None, messages=None, contacts=None, business="1000000001", waba="2000000001") -> dict:
    value: dict = {"messaging_product": "whatsapp", "metadata": {"phone_number_id": business}}
    for key, items in (("contacts", contacts), ("statuses", statuses), ("messages", messages)):
        if items is not None:
            value[key] = items
    return {"object": "whatsapp_business_account",
            "entry": [{"id": waba, "changes": [{"value": value, "field": "messages"}]}]}


def status(message_id: str, name: str, time: int, user: str = "15550000001", **extra) -> dict:
    return {"id": message_id, "status": name, "timestamp": str(time), "recipient_id": user, **extra}


def only_row(frame: pd.DataFrame) -> pd.Series:
    assert len(frame) == 1, frame
    return frame.iloc[0]


# --- Meta's example payloads, one file at a time -------------------------------------------


def test_cbp_2025_delivered_service_status():
    row = only_row(read_webhooks(META / "cbp_2025_status_delivered_service_meta.json"))
    assert (row.business, row.waba, row.user) == ("106540352242922", "102290129340398", "16505551234")
    assert row.direction == "outbound" and row.status == "delivered"
    # No `sent` status: the send time is the earliest status time.
    assert row.timestamp == utc(1750263773) and row.delivered_at == utc(1750263773)
    assert row.meta_conversation_id == "6ceb9d929c9bdc4f90e967a32f8639b4"
    assert (row.meta_conversation_origin, row.meta_pricing_model, row.meta_pricing_category) == ("service", "CBP", "service")
    assert bool(row.meta_billable)
    assert pd.isna(row.meta_pricing_type) and pd.isna(row.meta_conversation_expiration)
    assert pd.isna(row.template_category)  # CBP service: a free-form message


def test_pmp_v23_sent_marketing_status():
    row = only_row(read_webhooks(META / "pmp_v23_status_sent_marketing_with_conversation_meta.json"))
    assert row.status == "sent" and pd.isna(row.delivered_at)
    assert row.meta_conversation_expiration == utc(1750116480)
    assert (row.meta_pricing_model, row.meta_pricing_type, row.meta_pricing_category) == ("PMP", "regular", "marketing")
    assert row.template_category == "marketing"  # PMP pricing is per message


def test_pmp_v24_status_without_objects():
    row = only_row(read_webhooks(META / "pmp_v24_status_without_conversation_or_pricing_meta.json"))
    assert row.status == "sent" and row.user == "16505551234"
    meta = row[[c for c in row.index if c.startswith("meta_")]]
    assert meta.isna().all()
    assert pd.isna(row.template_category)


def test_failed_status_keeps_its_error_code():
    row = only_row(read_webhooks(META / "status_failed_131049_meta.json"))
    assert row.status == "failed" and row.error_code == 131049
    assert row.timestamp == utc(1751142888) and pd.isna(row.delivered_at)


def test_bsuid_only_status_uses_the_bsuid():
    row = only_row(read_webhooks(META / "pmp_status_delivered_bsuid_only_no_phone_meta.json"))
    assert row.user == "US.13491208655302741918" and row.status == "delivered"


def test_bsuid_with_phone_uses_the_phone():
    row = only_row(read_webhooks(META / "pmp_status_delivered_phone_and_bsuid_meta.json"))
    assert row.user == "16505551234"


def test_inbound_referral_message():
    row = only_row(read_webhooks(META / "inbound_text_message_ctwa_referral_meta.json"))
    assert row.direction == "inbound" and bool(row.referral) and row.message_type == "text"
    assert row.user == "16505551234" and row.timestamp == utc(1750275992)
    assert pd.isna(row.status) and pd.isna(row.delivered_at) and pd.isna(row.error_code)


def test_gupshup_v3_relay_is_a_cloud_api_envelope():
    row = only_row(read_webhooks(META / "bsp_gupshup_v3_pmp_sent_with_conversation.json"))
    assert (row.business, row.waba, row.user) == ("{{PHONE_ID}}", "112535025189792", "{{END_USER_PHONE_NUMBER}}")
    assert row.meta_conversation_origin == "service" and row.meta_pricing_category == "marketing"
    assert row.meta_conversation_expiration == utc(1710936120)
    assert row.template_category == "marketing"


def test_bare_value_payloads_have_no_business():
    early = only_row(read_webhooks(META / "cbp_2020-2022_status_sent_business_initiated.json"))
    assert pd.isna(early.business) and pd.isna(early.waba) and early.user == "PHONE"
    assert early.meta_conversation_expiration == utc(1603172713) and early.meta_pricing_category == "business_initiated"
    assert pd.isna(early.template_category)  # CBP v1 categories cannot name a template category
    turn = only_row(read_webhooks(META / "cbp_2023_status_delivered_user_initiated_bsp_capture.json"))
    assert turn.user == "15551234567"  # Turn.io relays recipient_id under `message`
    assert turn.delivered_at == utc(1676930082) and turn.meta_conversation_origin == "user_initiated"


def test_account_update_carries_no_messages():
    result = read_webhooks(META / "account_update_volume_based_pricing_tier_update_meta.json", errors="collect")
    assert result.events.empty and result.rejected.empty


NOT_WEBHOOKS = [
    "analytics_pricing_analytics_response_meta.json",
    "analytics_conversation_analytics_monthly_by_type_response_meta.json",
    "auth_international_rate_eligibility_response_meta.json",
    "pmp_groups_pricing_objects_meta.json",
    "pmp_pricing_free_customer_service_utility_meta.json",
]


@pytest.mark.parametrize("name", NOT_WEBHOOKS)
def test_non_webhook_documents_are_rejected_by_name(name):
    with pytest.raises(waconv.InputError) as raised:
        read_webhooks(META / name)
    assert raised.value.file == str(META / name) and raised.value.column == "entry"
    assert "not a WhatsApp Cloud API webhook" in raised.value.reason


def test_every_meta_payload_is_read_or_rejected_with_a_reason():
    files = sorted(META.glob("*.json"))
    result = read_webhooks(files, errors="collect")
    rejected = set(Path(f).name for f in result.rejected["file"])
    non_webhooks = {f.name for f in files if f.name.startswith(("analytics_", "auth_")) or f.name.startswith("pmp_pricing_")
                    or f.name == "pmp_groups_pricing_objects_meta.json"}
    assert rejected == non_webhooks
    # Four examples describe the same message; the others are one message each.
    webhook_files = len(files) - len(non_webhooks) - 1  # minus account_update
    assert len(result.events) == webhook_files - 3
    assert result.events["message_id"].is_unique


# --- combining statuses ---------------------------------------------------------------------


SAME_MESSAGE = [
    "pmp_v23_status_sent_marketing_with_conversation_meta.json",
    "pmp_status_delivered_phone_and_bsuid_meta.json",
    "pmp_status_delivered_bsuid_only_no_phone_meta.json",
    "pmp_v24_status_without_conversation_or_pricing_meta.json",
]


def test_statuses_of_one_message_combine_whatever_their_order():
    frames = [read_webhooks([META / name for name in order]) for order in itertools.permutations(SAME_MESSAGE)]
    row = only_row(frames[0])
    assert row.message_id == WAMID and row.user == "16505551234"  # the BSUID-only copy maps to the phone
    assert row.status == "delivered" and row.delivered_at == utc(1750030073)
    assert row.meta_conversation_id == "72b14d6bd5407799e66f64d1b338e567"  # only the v23 `sent` has it
    assert row.meta_conversation_expiration == utc(1750116480)
    for frame in frames[1:]:
        pd.testing.assert_frame_equal(frame, frames[0])


def test_json_lines_fast_path_matches_payload_by_payload(tmp_path):
    lines = [json.dumps(json.loads((META / name).read_text())) for name in SAME_MESSAGE + [
        "status_failed_131049_meta.json", "inbound_text_message_ctwa_referral_meta.json",
        "account_update_volume_based_pricing_tier_update_meta.json"]]
    path = tmp_path / "dump.jsonl"
    path.write_text("\n".join(lines) + "\n")
    assert read_columns(path) is not None
    fast = read_webhooks(path)
    assert len(fast) == 3 and fast.set_index("message_id").loc[WAMID, "user"] == "16505551234"
    pd.testing.assert_frame_equal(fast, read_webhooks([json.loads(line) for line in lines]))
    # A line the fast path cannot read exactly (a bare value object) sends the file down the exact path.
    bare = path.with_name("mixed.jsonl")
    bare.write_text(path.read_text() + (META / "cbp_2020-2022_status_sent_business_initiated.json").read_text().replace("\n", "") + "\n")
    assert read_columns(bare) is None
    assert len(read_webhooks(bare)) == 4


def pricing(category: str, pricing_type: str = "regular", model: str = "PMP") -> dict:
    return {"billable": pricing_type == "regular", "pricing_model": model, "type": pricing_type, "category": category}


def test_delivered_status_objects_win_then_the_latest():
    payloads = [
        envelope(statuses=[status("w1", "sent", 100_000_0000, pricing=pricing("utility"))]),
        envelope(statuses=[status("w1", "delivered", 100_000_0005, pricing=pricing("utility", "free_customer_service"))]),
        envelope(statuses=[status("w1", "read", 100_000_0009, pricing=pricing("marketing"))]),
        envelope(statuses=[status("w2", "sent", 100_000_0000, pricing=pricing("utility"))]),
        envelope(statuses=[status("w2", "read", 100_000_0009, pricing=pricing("marketing"))]),
    ]
    frame = read_webhooks(payloads).set_index("message_id")
    assert frame.loc["w1", "meta_pricing_type"] == "free_customer_service"
    assert frame.loc["w1", "meta_pricing_category"] == "utility"
    assert frame.loc["w2", "meta_pricing_category"] == "marketing"  # no delivered: the latest
    assert frame.loc["w2", "status"] == "read" and frame.loc["w2", "delivered_at"] == utc(100_000_0009)


def test_send_and_delivery_times():
    payloads = [
        # delivered stamped a second before sent (clock skew): delivery counts at the send
        envelope(statuses=[status("skew", "delivered", 1_800_000_000)]),
        envelope(statuses=[status("skew", "sent", 1_800_000_001)]),
        # read without delivered, played after read
        envelope(statuses=[status("voice", "sent", 1_800_000_100), status("voice", "played", 1_800_000_190),
                           status("voice", "read", 1_800_000_150)]),
        # sent then failed
        envelope(statuses=[status("lost", "failed", 1_800_000_210, errors=[{"code": 131026}])]),
        envelope(statuses=[status("lost", "sent", 1_800_000_200)]),
    ]
    frame = read_webhooks(payloads).set_index("message_id")
    assert frame.loc["skew", "timestamp"] == utc(1_800_000_001) and frame.loc["skew", "delivered_at"] == utc(1_800_000_001)
    assert frame.loc["voice", "status"] == "played" and frame.loc["voice", "delivered_at"] == utc(1_800_000_150)
    assert frame.loc["lost", "status"] == "failed" and frame.loc["lost", "error_code"] == 131026
    assert frame.loc["lost", "timestamp"] == utc(1_800_000_200) and pd.isna(frame.loc["lost", "delivered_at"])


def test_inbound_duplicates_collapse_and_bsuids_resolve_across_payloads():
    hidden = {"from_user_id": "BR.10000000000000000001", "id": "in1", "timestamp": "1800000000", "type": "text"}
    known = {"from": "5511900000001", "from_user_id": "BR.10000000000000000001", "id": "in2",
             "timestamp": "1800000500", "type": "reaction"}
    frame = read_webhooks([envelope(messages=[hidden]), envelope(messages=[hidden]), envelope(messages=[known])])
    assert list(frame["message_id"]) == ["in1", "in2"]
    assert list(frame["user"]) == ["5511900000001", "5511900000001"]
    assert list(frame["message_type"]) == ["text", "reaction"]


# --- template categories --------------------------------------------------------------------


def test_template_categories_from_pricing_and_from_the_send_log():
    cbp = {"pricing_model": "CBP", "billable": True, "category": "marketing"}
    payloads = [
        envelope(statuses=[status("open", "delivered", 1_700_000_000, conversation={"id": "c1"}, pricing=cbp)]),
        envelope(statuses=[status("join", "delivered", 1_700_000_600, conversation={"id": "c1"}, pricing=cbp)]),
        envelope(statuses=[status("intl", "delivered", 1_760_000_000, pricing=pricing("authentication-international"))]),
        envelope(statuses=[status("fep", "delivered", 1_760_000_100, pricing=pricing("utility", "free_entry_point"))]),
        envelope(statuses=[status("svc", "delivered", 1_760_000_200, pricing=pricing("service", "free_customer_service"))]),
        envelope(statuses=[status("lite", "delivered", 1_760_000_300, pricing=pricing("marketing_lite"))]),
    ]
    inferred = read_webhooks(payloads).set_index("message_id")["template_category"]
    expected = {"open": "marketing", "join": None, "intl": "authentication", "fep": None, "svc": None, "lite": "marketing_lite"}
    assert {k: (None if pd.isna(v) else v) for k, v in inferred.items()} == expected
    sends = {"join": None, "fep": "Utility", "open": "authentication_international"}
    logged = read_webhooks(payloads, sends=sends).set_index("message_id")["template_category"]
    assert pd.isna(logged["join"]) and logged["fep"] == "utility" and logged["open"] == "authentication"
    as_table = pd.DataFrame({"message_id": ["fep"], "template_category": ["marketing"]})
    assert read_webhooks(payloads, sends=as_table).set_index("message_id").loc["fep", "template_category"] == "marketing"
    with pytest.raises(waconv.InputError, match="unknown template category 'promo'"):
        read_webhooks(payloads, sends={"fep": "promo"})


# --- sources and malformed input -------------------------------------------------------------


def test_sources_json_array_directory_iterables(tmp_path):
    payloads = [envelope(statuses=[status("a", "sent", 1_700_000_000)]), envelope(statuses=[status("b", "sent", 1_700_000_001)])]
    (tmp_path / "array.json").write_text(json.dumps(payloads))
    (tmp_path / "lines.jsonl").write_text("\n".join(json.dumps(p) for p in payloads[:1]) + "\n")
    (tmp_path / "notes.txt").write_text("not read")
    assert list(read_webhooks(tmp_path / "array.json")["message_id"]) == ["a", "b"]
    assert list(read_webhooks(tmp_path)["message_id"]) == ["a", "b"]  # a is in both files: one row
    assert list(read_webhooks([json.dumps(p) for p in payloads])["message_id"]) == ["a", "b"]
    assert list(read_webhooks(payloads[1])["message_id"]) == ["b"]
    with pytest.raises(waconv.InputError, match="no such file"):
        read_webhooks(tmp_path / "missing.jsonl")


def test_malformed_lines_raise_with_file_line_and_field():
    path = FIXTURES / "webhooks" / "malformed.jsonl"
    with pytest.raises(waconv.InputError) as raised:
        read_webhooks(path)
    assert (raised.value.file, raised.value.line, raised.value.column) == (str(path), 2, "json")


def test_malformed_lines_are_collected_and_good_items_kept():
    path = FIXTURES / "webhooks" / "malformed.jsonl"
    events, rejected = read_webhooks(path, errors="collect")
    assert list(events["message_id"]) == ["wamid.IN1", "wamid.OUT1"]
    value = "entry[0].changes[0].value."
    expected = [
        (2, "json"),
        (3, value + "statuses[1].status"),
        (4, value + "statuses[0].timestamp"),
        (5, value + "statuses[0].recipient_id"),
        (6, value + "statuses[0].timestamp"),
        (7, "entry"),
        (9, "payload"),
        (10, value + "metadata.phone_number_id"),
        (11, value + "statuses[0].errors[0].code"),
    ]
    assert list(zip(rejected["line"].tolist(), rejected["field"].tolist())) == expected
    assert (rejected["file"] == str(path)).all() and rejected["reason"].str.len().gt(0).all()
    assert "deleted" in rejected["reason"][1] and "1970" not in rejected["reason"][4]
    lines = path.read_text().splitlines()
    assert rejected["payload"].tolist() == [lines[n - 1] for n, _ in expected]


def test_in_memory_items_are_numbered():
    good = envelope(statuses=[status("a", "sent", 1_700_000_000)])
    events, rejected = read_webhooks([good, {"entry": "x"}, "{bad"], errors="collect")
    assert len(events) == 1
    assert rejected[["line", "field"]].values.tolist() == [[2, "entry"], [3, "json"]]
    assert rejected["file"].isna().all()
    with pytest.raises(waconv.InputError, match="unknown mode"):
        read_webhooks([good], errors="ignore")


# --- the shipped example and classify ---------------------------------------------------------


def example_path() -> Path:
    return Path(str(resources.files("waconv.examples") / "data" / "example_webhooks.jsonl"))


def test_example_dump_reads_cleanly_and_matches_its_raw_statuses():
    path = example_path()
    events, rejected = read_webhooks(path, errors="collect")
    assert rejected.empty
    # Independent reading of the raw lines: distinct ids, first delivery, failures.
    items = []
    for line in path.read_text().splitlines():
        for entry in json.loads(line)["entry"]:
            for change in entry["changes"]:
                value = change["value"]
                items += [("in", m) for m in value.get("messages", [])] + [("out", s) for s in value.get("statuses", [])]
    ids = {(kind, item["id"]) for kind, item in items}
    assert len(events) == len(ids) and len(items) > len(ids)  # duplicates and several statuses per message
    by_id = events.set_index("message_id")
    for message_id in {i for kind, i in ids if kind == "out"}:
        statuses = [s for kind, s in items if kind == "out" and s["id"] == message_id]
        deliveries = [int(s["timestamp"]) for s in statuses if s["status"] in ("delivered", "read")]
        row = by_id.loc[message_id]
        assert (pd.isna(row.delivered_at) if not deliveries else row.delivered_at == utc(min(deliveries)))
        codes = [s["errors"][0]["code"] for s in statuses if s["status"] == "failed"]
        assert (pd.isna(row.error_code) if not codes else row.error_code == codes[0])
    read_only = [i for kind, i in ids if kind == "out"
                 and {s["status"] for k, s in items if k == "out" and s["id"] == i} == {"sent", "read"}]
    assert len(read_only) == 2 and (by_id.loc[read_only, "status"] == "read").all()
    assert events["referral"].sum() == 1 and set(events["error_code"].dropna()) == {131047, 131049}


def test_events_feed_classify_with_their_extra_columns():
    events = read_webhooks(example_path())
    zones = {"102290129340398": "America/Sao_Paulo"}
    result = waconv.classify(events, timezones=zones)
    assert result.n_duplicates == 0 and len(result.messages) == len(events)
    assert list(result.messages.columns[: len(events.columns)]) == list(events.columns)
    # Meta's verdict in the dump is waconv's own, written with reactions not opening the
    # service window: with that rule category and (under PMP) type agree everywhere ...
    strict = waconv.classify(events, timezones=zones, csw_refreshing=lambda f: f["message_type"] != "reaction")
    m = strict.messages[strict.messages["meta_pricing_category"].notna()]
    assert len(m) > 10
    assert (m["pricing_category"].astype(str) == m["meta_pricing_category"]).all()
    pmp = m[m["meta_pricing_model"] == "PMP"]
    assert len(pmp) > 3 and (pmp["pricing_type"].astype(str) == pmp["meta_pricing_type"]).all()
    # ... and by default (every inbound message opens it) only the template after the reaction differs.
    default = result.messages.loc[pmp.index]
    differs = default.index[default["pricing_type"].astype(str) != pmp["meta_pricing_type"]]
    assert len(differs) == 1
    assert result.messages["message_type"].iloc[differs[0] - 1] == "reaction"
