"""to_webhooks -> read_webhooks round trips, order/duplicate independence, Meta's shapes."""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
import orjson
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import waconv
from builders import log
from waconv.io.webhooks.columns import read_columns
from waconv.io.webhooks.writer import to_webhooks
from waconv.io.webhooks.read import read_webhooks

CORE = ["business", "waba", "user", "message_id", "timestamp", "direction", "template_category",
        "delivered_at", "referral", "status", "error_code", "message_type"]
USERS = ["5511987650001", "5511987650002", "919812300003", "447700900004", "BR.10000000000000000005"]
SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def event_logs(draw, start: str = "2022-02-01", end: str = "2027-06-01") -> pd.DataFrame:
    """Canonical events as read_webhooks returns them: whole seconds, consistent statuses."""
    lo, hi = (pd.Timestamp(t, tz="UTC").value // 10**9 for t in (start, end))
    rows = []
    for i in range(draw(st.integers(1, 25))):
        sent = draw(st.integers(lo, lo + 20 * 86400)) if draw(st.booleans()) else draw(st.integers(lo, hi))
        outbound = draw(st.booleans())
        status = draw(st.sampled_from(["sent", "delivered", "read", "played", "failed"])) if outbound else None
        delivered = sent + draw(st.integers(0, 600)) if status in ("delivered", "read", "played") else None
        business = draw(st.sampled_from(["1000000001", "1000000002"]))
        rows.append({
            "business": business,
            "waba": "2000000001" if business == "1000000001" else "2000000002",
            "user": draw(st.sampled_from(USERS)),
            "message_id": f"wamid.{i:03d}",
            "timestamp": sent,
            "direction": "outbound" if outbound else "inbound",
            "template_category": draw(st.sampled_from([None, "marketing", "utility", "authentication", "marketing_lite"]))
            if outbound else None,
            "delivered_at": delivered,
            "referral": (not outbound) and draw(st.booleans()),
            "status": status,
            "error_code": draw(st.sampled_from([None, 131026, 131047])) if status == "failed" else None,
            "message_type": None if outbound else draw(st.sampled_from(["text", "image", "reaction", "button"])),
        })
    frame = pd.DataFrame(rows)
    for name in ("timestamp", "delivered_at"):
        seconds = frame[name].astype("float64")
        frame[name] = pd.to_datetime(seconds, unit="s", utc=True).astype("datetime64[ns, UTC]")
    frame["error_code"] = frame["error_code"].astype("Int64")
    for name in ("business", "waba", "user", "message_id", "direction", "template_category", "status", "message_type"):
        frame[name] = frame[name].astype("str")
    frame["referral"] = frame["referral"].astype(bool)
    return frame


def canonical_order(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.sort_values(["timestamp", "direction", "message_id"], kind="stable").reset_index(drop=True)[CORE]


@SETTINGS
@given(event_logs())
def test_events_survive_the_round_trip(events):
    payloads = to_webhooks(events)
    back = read_webhooks(payloads, sends=dict(zip(events["message_id"], events["template_category"])))
    pd.testing.assert_frame_equal(back[CORE], canonical_order(events))


@SETTINGS
@given(event_logs(), st.data())
def test_duplicates_and_order_do_not_change_the_events(events, data):
    payloads = to_webhooks(events)
    copies = data.draw(st.lists(st.sampled_from(range(len(payloads))), max_size=10))
    shuffled = data.draw(st.permutations(payloads + [payloads[i] for i in copies]))
    pd.testing.assert_frame_equal(read_webhooks(shuffled), read_webhooks(payloads))
    pd.testing.assert_frame_equal(read_webhooks(payloads + payloads), read_webhooks(payloads))


def read_as_json_lines(payloads: list[dict]) -> pd.DataFrame:
    """read_webhooks through the columnar (Arrow) path for JSON-lines files."""
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "dump.jsonl"
        path.write_bytes(b"".join(orjson.dumps(p) + b"\n" for p in payloads))
        assert read_columns(path) is not None  # the fast path read it, no fallback
        return read_webhooks(path)


@SETTINGS
@given(event_logs(), st.data())
def test_columnar_path_reads_like_the_payload_walker(events, data):
    payloads = data.draw(st.permutations(to_webhooks(events)))
    pd.testing.assert_frame_equal(read_as_json_lines(payloads), read_webhooks(payloads))


def verdicts(result: waconv.Result) -> pd.DataFrame:
    m = result.messages.set_index("message_id")
    return m[["pricing_category", "pricing_type"]].astype(object).where(m[["pricing_category", "pricing_type"]].notna(), None)


@SETTINGS
@given(st.one_of(event_logs("2025-08-01", "2027-06-01"), event_logs("2022-02-01", "2023-05-20")))
def test_verdicts_survive_when_pricing_decides_the_categories(events):
    """PMP pricing names each message's category and CBP v1 never needed it, so classifying
    the dump written from waconv's verdicts gives the same verdicts."""
    first = waconv.classify(events, price=False)
    payloads = to_webhooks(first)
    back = read_webhooks(payloads)
    pd.testing.assert_frame_equal(read_as_json_lines(payloads), back)  # with pricing objects too
    again = waconv.classify(back, price=False)
    pd.testing.assert_frame_equal(verdicts(again).sort_index(), verdicts(first).sort_index())
    # Meta's columns hold the verdict in Meta's spellings.
    m = first.messages.set_index("message_id")
    read = back.set_index("message_id")
    priced = m.index[m["pricing_type"].notna()]
    pmp = priced[m.loc[priced, "pricing_model"].astype(str) == "PMP"]
    fep = m.loc[pmp, "pricing_type"].astype(str) == "free_entry_point"
    expected_category = m.loc[pmp, "pricing_category"].astype(str).where(~fep, "referral_conversion")
    assert (read.loc[pmp, "meta_pricing_category"] == expected_category).all()
    assert (read.loc[pmp, "meta_pricing_type"] == m.loc[pmp, "pricing_type"].astype(str)).all()
    assert (read.loc[pmp, "meta_billable"] == (m.loc[pmp, "pricing_type"].astype(str) == "regular")).all()
    cbp = priced[m.loc[priced, "pricing_model"].astype(str) == "CBP"]
    assert (read.loc[cbp, "meta_billable"] == (m.loc[cbp, "pricing_category"].astype(str) != "referral_conversion")).all()
    assert read.loc[m.index[m["pricing_type"].isna()], "meta_pricing_model"].isna().all()


def test_cbp_v2_worked_example_survives_through_conversation_openers():
    # SPEC §8: marketing template, user message, interactive reply, later two texts.
    events = log("2024-03-04", (0, "out", "marketing"), (4, "in"), (5, "out"), (25, "out"), (26, "out"),
                 business="1000000001", user="5511987650001")
    events["message_id"] = [f"wamid.{i}" for i in range(len(events))]
    first = waconv.classify(events, price=False)
    back = read_webhooks(to_webhooks(first))
    categories = back.set_index("message_id")["template_category"]
    # Only the conversation's opener is known to be a template; the joiner reads as free-form.
    assert categories["wamid.0"] == "marketing" and categories.drop("wamid.0").isna().all()
    again = waconv.classify(back, price=False)
    assert len(again.conversations) == len(first.conversations) == 2
    pd.testing.assert_frame_equal(verdicts(again).sort_index(), verdicts(first).sort_index())


def test_writer_uses_metas_spellings_and_shapes():
    sent = pd.Timestamp("2025-08-01 10:00", tz="UTC")
    messages = pd.DataFrame({
        "business": ["1000000001"] * 5, "user": ["919812300003"] * 5,
        "timestamp": [sent] * 5, "direction": ["outbound"] * 5,
        "delivered_at": [sent + pd.Timedelta(seconds=5)] * 5, "message_id": list("abcde"),
        "pricing_model": ["PMP", "CBP", "CBP", "CBP", "PMP"],
        "pricing_category": ["authentication_international"] * 2 + ["service"] + ["referral_conversion"] * 2,
        "pricing_type": ["regular", "regular", "free_tier", "free_entry_point", "free_entry_point"],
        "conversation_id": pd.array([None, 0, 1, 2, 3], dtype="Int64"), "duplicate": [False] * 5,
    })
    ends = [sent + pd.Timedelta(hours=24)] * 2 + [sent + pd.Timedelta(hours=72)] * 2
    conversations = pd.DataFrame({"conversation_id": [0, 1, 2, 3], "end": ends})
    payloads = to_webhooks(waconv.Result(messages=messages, conversations=conversations, windows=pd.DataFrame()))
    items = [p["entry"][0]["changes"][0]["value"]["statuses"][0] for p in payloads]
    by = {(i["id"], i["status"]): i for i in items}
    assert set(by) == {(m, s) for m in "abcde" for s in ("sent", "delivered")}
    assert by["a", "sent"]["pricing"] == {"billable": True, "pricing_model": "PMP", "type": "regular",
                                          "category": "authentication-international"}
    assert by["b", "delivered"]["pricing"] == {"billable": True, "pricing_model": "CBP", "category": "authentication_international"}
    assert by["c", "sent"]["pricing"]["billable"] is True  # Meta counted free-tier conversations as billable
    assert by["d", "sent"]["pricing"] == {"billable": False, "pricing_model": "CBP", "category": "referral_conversion"}
    assert by["e", "sent"]["pricing"] == {"billable": False, "pricing_model": "PMP", "type": "free_entry_point",
                                          "category": "referral_conversion"}
    window_end = str(int((sent + pd.Timedelta(hours=72)).timestamp()))
    assert by["e", "sent"]["conversation"]["expiration_timestamp"] == window_end
    assert by["e", "sent"]["conversation"]["origin"] == {"type": "referral_conversion"}
    expiry = str(int((sent + pd.Timedelta(hours=24)).timestamp()))
    assert by["b", "sent"]["conversation"]["expiration_timestamp"] == expiry
    assert "expiration_timestamp" not in by["b", "delivered"]["conversation"]
    assert by["a", "sent"]["conversation"]["id"] != by["b", "sent"]["conversation"]["id"]
    assert all(len(i["conversation"]["id"]) == 32 for i in items)
    assert {i["recipient_id"] for i in items} == {"919812300003"}


def test_writer_statuses_follow_the_final_status():
    events = pd.DataFrame({
        "business": ["1"] * 5, "user": ["+5511987650001"] * 5, "direction": ["outbound"] * 4 + ["inbound"],
        "timestamp": pd.to_datetime([1_760_000_000 + i for i in range(5)], unit="s", utc=True),
        "status": ["failed", "sent", "read", "played", None], "error_code": pd.array([131049, None, None, None, None], dtype="Int64"),
        "message_id": list("abcde"), "referral": [False] * 4 + [True],
    })
    payloads = to_webhooks(events)
    seen = [(item["id"], item.get("status")) for p in payloads
            for item in p["entry"][0]["changes"][0]["value"].get("statuses", []) + p["entry"][0]["changes"][0]["value"].get("messages", [])]
    assert seen == [("a", "failed"), ("b", "sent"), ("c", "sent"), ("c", "delivered"), ("c", "read"),
                    ("d", "sent"), ("d", "delivered"), ("d", "read"), ("d", "played"), ("e", None)]
    failed = payloads[0]["entry"][0]["changes"][0]["value"]["statuses"][0]
    assert failed["errors"][0]["code"] == 131049 and failed["recipient_id"] == "5511987650001"
    inbound = payloads[-1]["entry"][0]["changes"][0]["value"]
    assert inbound["messages"][0]["referral"]["source_type"] == "ad" and inbound["contacts"] == [{"wa_id": "5511987650001"}]
    assert np.array_equal(read_webhooks(payloads)["status"].fillna("-").to_numpy(),
                          np.array(["failed", "sent", "read", "played", "-"], dtype=object))
