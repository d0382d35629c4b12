"""read_webhooks and the user's identity (issue #13): user_phone, user_bsuid, user_country,
message_type, gzip files, bare changes[] elements and categories Meta adds later."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pandas as pd
import pytest

import waconv
from waconv.io.webhooks.columns import read_columns
from waconv.io.webhooks.read import read_webhooks

META = Path(__file__).parent / "fixtures" / "meta"
BSUID = "US.13491208655302741918"  # Meta's example user, phone 16505551234
IDS = ["user", "user_phone", "user_bsuid", "user_country"]
T = 1_760_000_000


def value(*, statuses=None, messages=None, contacts=None, business="1000000001") -> dict:
    out: dict = {"messaging_product": "whatsapp", "metadata": {"phone_number_id": business}}
    for key, items in (("contacts", contacts), ("statuses", statuses), ("messages", messages)):
        if items is not None:
            out[key] = items
    return out


def envelope(waba="2000000001", **parts) -> dict:
    return {"object": "whatsapp_business_account",
            "entry": [{"id": waba, "changes": [{"value": value(**parts), "field": "messages"}]}]}


def contact(phone=None, bsuid=None, country=None) -> dict:
    out: dict = {"profile": {"name": "A"}}
    if country is not None:
        out["profile"]["country_code"] = country
    if phone is not None:
        out["wa_id"] = phone
    if bsuid is not None:
        out["user_id"] = bsuid
    return out


def inbound(message_id, time, phone=None, bsuid=None, kind="text", **extra) -> dict:
    out = {"id": message_id, "timestamp": str(time), "type": kind, **extra}
    if phone is not None:
        out["from"] = phone
    if bsuid is not None:
        out["from_user_id"] = bsuid
    return out


def status(message_id, time, phone=None, bsuid=None, name="delivered", **extra) -> dict:
    out = {"id": message_id, "status": name, "timestamp": str(time), **extra}
    if phone is not None:
        out["recipient_id"] = phone
    if bsuid is not None:
        out["recipient_user_id"] = bsuid
    return out


def ids(frame: pd.DataFrame) -> dict[str, list]:
    """message id -> [user, user_phone, user_bsuid, user_country], None for missing."""
    rows = frame.set_index("message_id")[IDS].astype(object)
    return {key: [None if pd.isna(v) else v for v in row] for key, row in rows.iterrows()}


def both_paths(payloads: list[dict], tmp_path: Path) -> pd.DataFrame:
    """The payloads read by the Arrow fast path (a JSON-lines file) and payload by payload:
    the same frame, which is returned."""
    path = tmp_path / "dump.jsonl"
    path.write_text("".join(json.dumps(p) + "\n" for p in payloads))
    assert read_columns(path) is not None  # the fast path did read it
    fast = read_webhooks(path)
    pd.testing.assert_frame_equal(fast, read_webhooks(payloads))
    return fast


# --- Meta's example payloads -----------------------------------------------------------------


def test_meta_bsuid_only_status_has_no_phone():
    frame = read_webhooks(META / "pmp_status_delivered_bsuid_only_no_phone_meta.json")
    (row,) = ids(frame).values()
    assert row == [BSUID, None, BSUID, None]  # the user is the BSUID, never ""
    assert frame["waba"].tolist() == ["102290129340398"]


def test_meta_status_with_phone_and_bsuid():
    frame = read_webhooks(META / "pmp_status_delivered_phone_and_bsuid_meta.json")
    assert list(ids(frame).values()) == [["16505551234", "16505551234", BSUID, None]]
    assert frame.columns[:8].tolist() == ["business", "waba", "business_display_phone", "user", *IDS[1:], "message_id"]


def test_meta_inbound_message_carries_the_phone_and_its_type():
    frame = read_webhooks(META / "inbound_text_message_ctwa_referral_meta.json")
    assert list(ids(frame).values()) == [["16505551234", "16505551234", None, None]]
    assert frame["message_type"].tolist() == ["text"]


# --- hand-written payloads -----------------------------------------------------------------


def test_contacts_beside_a_row_complete_its_ids_and_country(tmp_path):
    payloads = [
        # BSUID only on the message; its contact pairs it with the phone and gives the country
        envelope(messages=[inbound("in1", T, bsuid="BR.1")], contacts=[contact("5511900000001", "BR.1", "br")]),
        # phone only on the status; its contact adds the BSUID
        envelope(statuses=[status("out1", T + 5, phone="5511900000002")], contacts=[contact("5511900000002", "BR.2")]),
        # a contact of another user in the same value completes nothing
        envelope(statuses=[status("out2", T + 6, bsuid="BR.3")], contacts=[contact("5511900000009", "BR.9", "AR")]),
        # the pair of BR.4 arrives in another payload: `user` maps to the phone, user_phone stays
        # what this row's own payload says
        envelope(statuses=[status("out3", T + 7, bsuid="BR.4")]),
        envelope(messages=[inbound("in2", T + 8, phone="5511900000004", bsuid="BR.4")]),
    ]
    assert ids(both_paths(payloads, tmp_path)) == {
        "in1": ["5511900000001", "5511900000001", "BR.1", "BR"],
        "out1": ["5511900000002", "5511900000002", "BR.2", None],
        "out2": ["BR.3", None, "BR.3", None],
        "out3": ["5511900000004", None, "BR.4", None],
        "in2": ["5511900000004", "5511900000004", "BR.4", None],
    }


def test_empty_strings_are_no_ids(tmp_path):
    payloads = [
        envelope(statuses=[status("out1", T, phone="", bsuid="US.1")], contacts=[contact("", "US.1", "")]),
        envelope(messages=[inbound("in1", T + 1, phone="", bsuid="US.2")]),
        envelope(messages=[inbound("in2", T + 2, phone="15550000003", bsuid="")],
                 contacts=[contact("15550000003", "")]),
    ]
    assert ids(both_paths(payloads, tmp_path)) == {
        "out1": ["US.1", None, "US.1", None],
        "in1": ["US.2", None, "US.2", None],
        "in2": ["15550000003", "15550000003", None, None],
    }


@pytest.mark.parametrize("payload, field", [
    (envelope(statuses=[status("o", T, phone="", bsuid="")]), "entry[0].changes[0].value.statuses[0].recipient_id"),
    (envelope(messages=[inbound("i", T, phone="")]), "entry[0].changes[0].value.messages[0].from"),
    (envelope(messages=[inbound("i", T, phone="1555")], contacts=[contact("1555", "US.1", "USA")]),
     "entry[0].changes[0].value.contacts[0].profile.country_code"),
    (envelope(messages=[inbound("i", T, phone="1555")], contacts=[contact("1555", "US.1", 1)]),
     "entry[0].changes[0].value.contacts[0].profile.country_code"),
])
def test_missing_ids_and_bad_countries_name_file_line_and_field(payload, field, tmp_path):
    path = tmp_path / "bad.jsonl"
    path.write_text(json.dumps(envelope(messages=[inbound("ok", T, phone="1")])) + "\n" + json.dumps(payload) + "\n")
    with pytest.raises(waconv.InputError) as raised:
        read_webhooks(path)
    assert (raised.value.file, raised.value.line, raised.value.column) == (str(path), 2, field)


def test_system_messages_are_rows_of_type_system(tmp_path):
    changed_number = inbound("sys1", T + 10, phone="5511900000001", kind="system", system={
        "body": "User A changed from 5511900000001 to 5511900000002", "new_wa_id": "5511900000002",
        "type": "user_changed_number"})
    changed_bsuid = inbound("sys2", T + 20, bsuid="BR.2", kind="system", system={
        "body": "User A changed their user id", "previous_user_id": "BR.1", "type": "user_changed_user_id"})
    payloads = [
        envelope(messages=[inbound("in1", T, phone="5511900000001"), changed_number]),
        envelope(messages=[changed_bsuid, inbound("in2", T + 30, bsuid="BR.2", kind="reaction")]),
        envelope(statuses=[status("out1", T + 40, bsuid="BR.2")]),
    ]
    frame = both_paths(payloads, tmp_path)
    assert frame["message_id"].tolist() == ["in1", "sys1", "sys2", "in2", "out1"]
    types = frame["message_type"].astype(object).where(frame["message_type"].notna(), None).tolist()
    assert types == ["text", "system", "system", "reaction", None]  # outbound: unknown, null
    assert frame["user"].tolist() == ["5511900000001", "5511900000001", "BR.2", "BR.2", "BR.2"]
    waconv.classify(frame)  # classify takes them as they are


def test_gzip_files_read_like_plain_ones(tmp_path):
    payloads = [envelope(messages=[inbound("in1", T, phone="1555", bsuid="US.1")], contacts=[contact("1555", "US.1", "US")]),
                envelope(statuses=[status("out1", T + 1, bsuid="US.1")])]
    plain = read_webhooks(payloads)
    lines = tmp_path / "dump.jsonl.gz"
    lines.write_bytes(gzip.compress("".join(json.dumps(p) + "\n" for p in payloads).encode()))
    assert read_columns(lines) is not None  # the fast path reads it too
    pd.testing.assert_frame_equal(read_webhooks(lines), plain)
    array = tmp_path / "dump.JSON.gz"
    array.write_bytes(gzip.compress(json.dumps(payloads).encode()))
    pd.testing.assert_frame_equal(read_webhooks(array), plain)
    folder = tmp_path / "folder"
    folder.mkdir()
    (folder / "a.ndjson.gz").write_bytes(lines.read_bytes())
    (folder / "notes.txt.gz").write_bytes(gzip.compress(b"not json"))  # not a JSON file: skipped
    pd.testing.assert_frame_equal(read_webhooks(folder), plain)


@pytest.mark.parametrize("name", ["dump.jsonl.gz", "dump.json.gz"])
@pytest.mark.parametrize("damage", ["garbage", "truncated"])
def test_a_corrupt_gzip_file_is_an_input_error_naming_it(tmp_path, name, damage):
    data = gzip.compress(("".join(json.dumps(envelope(messages=[inbound(f"in{i}", T + i, phone="1555")])) + "\n"
                                  for i in range(200))).encode())
    path = tmp_path / name
    path.write_bytes(b"this is not gzip" if damage == "garbage" else data[: len(data) // 2])
    with pytest.raises(waconv.InputError, match="not a readable gzip file") as raised:
        read_webhooks(path)
    assert raised.value.file == str(path) and raised.value.column == "gzip"
    collected = read_webhooks(path, errors="collect")
    assert collected.rejected[["file", "field"]].values.tolist() == [[str(path), "gzip"]]
    if damage == "truncated" and name.endswith(".jsonl.gz"):
        assert 0 < len(collected.events) < 200  # the lines before the damage are kept


def test_bare_changes_take_the_business_as_their_waba():
    bare = {"field": "messages", "value": value(messages=[inbound("in1", T, phone="15550000001")], business="111")}
    frame = read_webhooks([bare])
    assert frame[["business", "waba", "user"]].values.tolist() == [["111", "111", "15550000001"]]  # SPEC §2 default
    result = waconv.classify(frame)  # no "null waba" any more
    assert result.messages["waba"].tolist() == ["111"]
    # The one WABA the input shows for that phone number id wins over the default ...
    known = envelope(waba="222", business="111", statuses=[status("out1", T + 1, phone="1555")])
    assert read_webhooks([bare, known])["waba"].tolist() == ["222", "222"]
    # ... but not when it shows several: then the default again
    other = envelope(waba="333", business="111", statuses=[status("out2", T + 2, phone="1555")])
    assert read_webhooks([bare, known, other])["waba"].tolist() == ["111", "222", "333"]
    # A bare value with metadata gets the same default
    assert read_webhooks([value(messages=[inbound("in9", T, phone="1555")], business="444")])["waba"].tolist() == ["444"]


def test_bare_changes_name_their_fields_and_skip_other_fields():
    skipped = {"field": "account_update", "value": {"event": "VOLUME_BASED_PRICING_TIER_UPDATE"}}
    assert len(read_webhooks([skipped])) == 0
    broken = {"field": "messages", "value": value(statuses=[{"status": "sent", "timestamp": str(T)}])}
    with pytest.raises(waconv.InputError) as raised:
        read_webhooks([broken])
    assert raised.value.column == "value.statuses[0].id"
    with pytest.raises(waconv.InputError) as raised:
        read_webhooks([{"field": "messages", "value": [1]}])
    assert raised.value.column == "value"


def test_unknown_meta_categories_are_kept_not_fatal(tmp_path):
    ai = json.loads((META / "pmp_pricing_ai_provider_general_purpose_ai_meta.json").read_text())["pricing"]
    agent = {"billable": True, "pricing_model": "PMP", "type": "regular", "category": "business_agent"}
    payloads = [envelope(statuses=[status("out1", T, phone="5511900000001", pricing=ai)]),
                envelope(statuses=[status("out2", T + 1, phone="5511900000001", pricing=agent)])]
    frame = both_paths(payloads, tmp_path)
    assert frame["meta_pricing_category"].tolist() == ["general_purpose_ai", "business_agent"]
    assert frame["meta_pricing_type"].tolist() == ["regular", "regular"]
    assert frame["template_category"].isna().all()  # neither names a template category
    assert len(waconv.classify(frame).messages) == 2


def test_contacts_pair_only_within_their_own_value_across_files(tmp_path):
    # Both files' first change is change 0 of its file: the contact of a.jsonl must not
    # complete the status of b.jsonl, nor that of an in-memory payload.
    (tmp_path / "a.jsonl").write_text(json.dumps(envelope(
        statuses=[status("out1", T, bsuid="US.1")], contacts=[contact("15550000001", "US.1", "US")])) + "\n")
    (tmp_path / "b.jsonl").write_text(json.dumps(envelope(statuses=[status("out2", T + 1, phone="15550000001")])) + "\n")
    (tmp_path / "c.json").write_text(json.dumps(envelope(statuses=[status("out3", T + 2, bsuid="US.1")])))
    for part in ("a.jsonl", "b.jsonl"):
        assert read_columns(tmp_path / part) is not None
    expected = {
        "out1": ["15550000001", "15550000001", "US.1", "US"],
        "out2": ["15550000001", "15550000001", None, None],
        "out3": ["15550000001", None, "US.1", None],
    }
    assert ids(read_webhooks(tmp_path)) == expected
    assert ids(read_webhooks([json.loads(tmp_path.joinpath(n).read_text()) for n in ("c.json", "b.jsonl", "a.jsonl")])) == expected


def test_classify_links_the_ids_read_from_webhooks():
    # The user writes from a phone number (its contact pairs it with the BSUID); the reply
    # goes to the BSUID only: one user, and the reply is inside the window the message opened.
    payloads = [
        envelope(messages=[inbound("in1", T, phone="5511900000001", bsuid="BR.1")],
                 contacts=[contact("5511900000001", "BR.1", "BR")]),
        envelope(statuses=[status("out1", T + 60, bsuid="BR.1")]),
    ]
    frame = read_webhooks(payloads).drop(columns="user")  # only the new columns name the user
    messages = waconv.classify(frame).messages.set_index("message_id")
    assert messages["user_key"].tolist() == ["5511900000001", "5511900000001"]
    assert messages.loc["out1", "pricing_category"] == "service"
