"""read_webhooks and read_sunshine on hostile input: every problem is a waconv.InputError (or a
rejected row with errors="collect") naming file, line and field, never another exception type,
a crash or a value made up from the wrong type. One test per kind of escape (issue #11)."""

from __future__ import annotations

import copy
import json
import random
import subprocess
import sys
import textwrap
from pathlib import Path

import pandas as pd
import pytest

import waconv
import waconv.io.webhooks.read as webhooks_read
from waconv.io.sunshine.read import read_sunshine
from waconv.io.webhooks.columns import read_columns
from waconv.io.webhooks.read import read_webhooks
from waconv.io.webhooks import sources
from waconv.io.webhooks.sources import DEEPEST, nesting_depth

VALUE = "entry[0].changes[0].value."


def envelope(value: dict) -> dict:
    return {"object": "whatsapp_business_account",
            "entry": [{"id": "2000000001", "changes": [{"field": "messages", "value": value}]}]}


def full_status(**changes) -> dict:
    """A Cloud API status payload carrying every field the walker reads."""
    item = {"id": "wamid.S1", "status": "delivered", "timestamp": "1760000000", "recipient_id": "15550000001",
            "recipient_user_id": "US.1", "conversation": {"id": "c1", "origin": {"type": "marketing"},
                                                           "expiration_timestamp": "1760086400"},
            "pricing": {"billable": True, "pricing_model": "PMP", "category": "marketing", "type": "regular"}}
    item.update(changes)
    return envelope({"messaging_product": "whatsapp", "metadata": {"phone_number_id": "1000000001"},
                     "contacts": [{"user_id": "US.1", "wa_id": "15550000001"}], "statuses": [item]})


def failed_status() -> dict:
    return envelope({"metadata": {"phone_number_id": "1000000001"}, "statuses": [
        {"id": "wamid.F1", "status": "failed", "timestamp": "1760000000", "recipient_id": "15550000001",
         "errors": [{"code": 131026, "title": "undeliverable"}]}]})


def full_message() -> dict:
    return envelope({"metadata": {"phone_number_id": "1000000001"}, "messages": [
        {"id": "wamid.M1", "from": "15550000001", "from_user_id": "US.1", "timestamp": "1760000000",
         "type": "text", "referral": {"source_type": "ad"}}]})


def turn_status() -> dict:
    """A bare value object whose recipient is relayed under `message` (Turn.io)."""
    return {"statuses": [{"id": "wamid.T1", "status": "sent", "timestamp": "1760000000",
                          "message": {"recipient_id": "15550000001"}}]}


def replaced(payload: dict, path: str, value) -> dict:
    """A deep copy of `payload` with the value at the dotted `path` (``a.b[0].c``) replaced."""
    out = copy.deepcopy(payload)
    keys = [int(k) if k.isdigit() else k for k in path.replace("[", ".").replace("]", "").split(".")]
    node = out
    for key in keys[:-1]:
        node = node[key]
    node[keys[-1]] = value
    return out


def raised_by(reader, source, **kwargs) -> waconv.InputError:
    with pytest.raises(waconv.InputError) as raised:
        reader(source, **kwargs)
    return raised.value


# (payload, path in the payload, a value of the wrong JSON type for it)
WRONG_TYPES = [
    (full_status, VALUE + "statuses[0].id", {"x": 1}),
    (full_status, VALUE + "statuses[0].status", ["sent"]),
    (full_status, VALUE + "statuses[0].status", {"x": 1}),
    (full_status, VALUE + "statuses[0].timestamp", ["1760000000"]),
    (full_status, VALUE + "statuses[0].recipient_id", {"x": 1}),
    (full_status, VALUE + "statuses[0].recipient_id", True),
    (full_status, VALUE + "statuses[0].recipient_id", 15550000001.5),
    (full_status, VALUE + "statuses[0].recipient_user_id", ["US.1"]),
    (full_status, VALUE + "statuses[0].conversation", "c1"),
    (full_status, VALUE + "statuses[0].conversation.id", {"x": 1}),
    (full_status, VALUE + "statuses[0].conversation.origin", "marketing"),
    (full_status, VALUE + "statuses[0].conversation.origin.type", ["marketing"]),
    (full_status, VALUE + "statuses[0].conversation.expiration_timestamp", {"x": 1}),
    (full_status, VALUE + "statuses[0].pricing", "PMP"),
    (full_status, VALUE + "statuses[0].pricing.billable", "yes"),
    (full_status, VALUE + "statuses[0].pricing.pricing_model", {"x": 1}),
    (full_status, VALUE + "statuses[0].pricing.category", ["marketing"]),
    (full_status, VALUE + "statuses[0].pricing.type", False),
    (full_status, "entry[0].id", {"x": 1}),
    (full_status, "entry[0].changes[0].field", ["messages"]),
    (full_status, VALUE + "metadata", "1000000001"),
    (full_status, VALUE + "metadata.phone_number_id", {"x": 1}),
    (full_status, VALUE + "contacts", {"wa_id": "1"}),
    (full_status, VALUE + "contacts[0]", "US.1"),
    (full_status, VALUE + "contacts[0].user_id", {"x": 1}),
    (full_status, VALUE + "contacts[0].wa_id", ["15550000001"]),
    (failed_status, VALUE + "statuses[0].errors", "131026"),
    (failed_status, VALUE + "statuses[0].errors[0]", 131026),
    (failed_status, VALUE + "statuses[0].errors[0].code", {"x": 1}),
    (failed_status, VALUE + "statuses[0].errors[0].code", True),
    (failed_status, VALUE + "statuses[0].errors[0].code", 131026.5),
    (full_message, VALUE + "messages[0].id", ["wamid.M1"]),
    (full_message, VALUE + "messages[0].timestamp", {"x": 1}),
    (full_message, VALUE + "messages[0].from", {"x": 1}),
    (full_message, VALUE + "messages[0].from_user_id", ["US.1"]),
    (full_message, VALUE + "messages[0].referral", "ad"),
    (full_message, VALUE + "messages[0].type", {"x": 1}),
    (turn_status, "statuses[0].message", "15550000001"),
    (turn_status, "statuses[0].message.recipient_id", {"x": 1}),
]


def test_a_field_of_the_wrong_type_is_rejected_by_name_on_both_paths(tmp_path):
    for number, (make, path, wrong) in enumerate(WRONG_TYPES):
        payload = make()
        assert len(read_webhooks(payload)) == 1, path  # the intact payload reads
        case = f"{path} = {wrong!r}"
        error = raised_by(read_webhooks, [replaced(payload, path, wrong)])
        assert (error.column, error.row) == (path, 1), case
        assert "expected" in error.reason, case
        # A JSON-lines file gives the same error, whether Arrow's reader sees the wrong type in
        # every line (the fast path must refuse it) or beside the right one (it cannot read it).
        for before in ([], [payload]):
            lines = tmp_path / f"case{number}_{len(before)}.jsonl"
            lines.write_text("".join(json.dumps(p) + "\n" for p in [*before, replaced(payload, path, wrong)]))
            error = raised_by(read_webhooks, lines)
            assert (error.file, error.line, error.column) == (str(lines), len(before) + 1, path), case


def test_an_object_is_never_made_into_a_user_id():
    events, rejected = read_webhooks([full_status(id="wamid.A"), full_status(id="wamid.B", recipient_id={"x": 1})],
                                     errors="collect")
    assert list(events["message_id"]) == ["wamid.A"]
    assert "{'x': 1}" not in set(events["user"])
    assert rejected["field"].tolist() == [VALUE + "statuses[0].recipient_id"]
    assert rejected["reason"][0] == "expected a string, got an object"


def sunshine_v1(**changes) -> dict:
    payload = {"trigger": "message:appUser", "app": {"_id": "app1"}, "appUser": {"_id": "user1"},
               "messages": [{"_id": "m1", "role": "appUser", "received": 1760000000.5, "type": "text",
                             "source": {"type": "whatsapp"}, "referral": {"ad": 1}}]}
    payload.update(changes)
    return payload


def sunshine_v1_template() -> dict:
    return {"trigger": "message:appMaker", "app": {"_id": "app1"}, "appUser": {"_id": "user1"},
            "messages": [{"_id": "m2", "role": "appMaker", "received": 1760000000, "type": "text",
                          "metadata": {"template_category": "utility"},
                          "override": {"whatsapp": {"payload": {"type": "template", "template": {"name": "t1"}}}}}]}


def sunshine_v1_delivery() -> dict:
    return {"trigger": "delivery:failure", "app": {"_id": "app1"}, "appUser": {"_id": "user1"},
            "destination": {"type": "whatsapp"}, "message": {"_id": "m2"}, "timestamp": 1760000005,
            "error": {"code": "uncategorized", "underlyingError": {"code": 131026}}}


def sunshine_v2_user() -> dict:
    return {"app": {"id": "app2"}, "events": [{"type": "conversation:message", "createdAt": "2025-10-09T09:00:00Z",
            "payload": {"conversation": {"id": "c1"}, "message": {
                "id": "m3", "received": "2025-10-09T09:00:00Z", "author": {"type": "user", "userId": "user2"},
                "content": {"type": "text"}, "source": {"type": "whatsapp"}}}}]}


def sunshine_v2_business() -> dict:
    return {"app": {"id": "app2"}, "events": [{"type": "conversation:message", "createdAt": "2025-10-09T09:01:00Z",
            "payload": {"conversation": {"id": "c1"}, "message": {
                "id": "m4", "received": "2025-10-09T09:01:00Z", "author": {"type": "business"},
                "content": {"type": "template", "template": {"name": "t1"}},
                "metadata": {"template_category": "utility"}}}},
            {"type": "conversation:message:delivery:user", "createdAt": "2025-10-09T09:01:05Z",
             "payload": {"conversation": {"id": "c1"}, "user": {"id": "user2"}, "destination": {"type": "whatsapp"},
                         "message": {"id": "m4"}}}]}


EVENT = "events[0].payload."
SUNSHINE_WRONG_TYPES = [
    (sunshine_v1, "trigger", ["message:appUser"]),
    (sunshine_v1, "app", "app1"),
    (sunshine_v1, "app._id", {"x": 1}),
    (sunshine_v1, "appUser._id", ["user1"]),
    (sunshine_v1, "messages", {"_id": "m1"}),
    (sunshine_v1, "messages[0]._id", {"x": 1}),
    (sunshine_v1, "messages[0].role", ["appUser"]),
    (sunshine_v1, "messages[0].received", ["1760000000"]),
    (sunshine_v1, "messages[0].source", "whatsapp"),
    (sunshine_v1, "messages[0].source.type", {"x": 1}),
    (sunshine_v1, "messages[0].type", {"x": 1}),
    (sunshine_v1, "messages[0].referral", "ad"),
    (sunshine_v1_template, "messages[0].metadata.template_category", ["utility"]),
    (sunshine_v1_template, "messages[0].override.whatsapp.payload.type", ["template"]),
    (sunshine_v1_template, "messages[0].override.whatsapp.payload.template.name", {"x": 1}),
    (sunshine_v1_delivery, "trigger", {"x": 1}),
    (sunshine_v1_delivery, "destination.type", ["whatsapp"]),
    (sunshine_v1_delivery, "timestamp", ["1760000005"]),
    (sunshine_v2_user, "app.id", {"x": 1}),
    (sunshine_v2_user, "events[0]", "conversation:message"),
    (sunshine_v2_user, "events[0].type", ["conversation:message"]),
    (sunshine_v2_user, "events[0].payload", "x"),
    (sunshine_v2_user, EVENT + "conversation.id", {"x": 1}),
    (sunshine_v2_user, EVENT + "message.author", "user"),
    (sunshine_v2_user, EVENT + "message.author.type", ["user"]),
    (sunshine_v2_user, EVENT + "message.author.userId", {"x": 1}),
    (sunshine_v2_user, EVENT + "message.content", "text"),
    (sunshine_v2_user, EVENT + "message.content.type", {"x": 1}),
    (sunshine_v2_business, EVENT + "message.content.template.name", {"x": 1}),
    (sunshine_v2_business, "events[1].payload.user.id", {"x": 1}),
    (sunshine_v2_business, "events[1].payload.destination.type", ["whatsapp"]),
    (sunshine_v2_business, "events[1].createdAt", ["2025-10-09T09:01:05Z"]),
]


def test_a_sunshine_field_of_the_wrong_type_is_rejected_by_name():
    for make, path, wrong in SUNSHINE_WRONG_TYPES:
        payload = make()
        if make is sunshine_v1_delivery:  # a delivery needs its message's user from an earlier payload
            assert len(read_sunshine([sunshine_v1_template(), payload])) == 1
        else:
            assert len(read_sunshine(payload)) >= 1, path
        case = f"{path} = {wrong!r}"
        events, rejected = read_sunshine([replaced(payload, path, wrong)], errors="collect")
        assert rejected[["line", "field"]].values.tolist()[:1] == [[1, path]], (case, rejected.values.tolist())
        assert "expected" in rejected["reason"][0], case


def deep(depth: int) -> list:
    value: list = []
    for _ in range(depth):
        value = [value]
    return value


def test_deep_python_payloads_are_rejected_by_name_or_read():
    nested = deep(5000)
    error = raised_by(read_webhooks, [full_status(recipient_id=nested)])
    assert (error.column, error.row) == (VALUE + "statuses[0].recipient_id", 1)
    assert error.reason == "expected a string, got a list"
    # A deep field the walker never reads does not matter, and a rejected payload is still shown.
    events, rejected = read_webhooks([{"statuses": "x", "big": 10**30, "extra": nested}, full_status(extra=nested)],
                                     errors="collect")
    assert len(events) == 1 and rejected["field"].tolist() == ["statuses"]
    assert rejected["payload"][0].startswith('{"statuses":"x","big":"<100-bit integer>","extra":[[[')
    error = raised_by(read_sunshine, [sunshine_v1(app={"_id": nested})])
    assert (error.column, error.row) == ("app._id", 1)


def nested_text(levels: int) -> str:
    """A status payload whose recipient_id (8 levels in) makes it `levels` deep."""
    return json.dumps(full_status(recipient_id="PLACE")).replace('"PLACE"', "[" * (levels - 8) + "]" * (levels - 8))


def test_json_nested_deeper_than_the_limit_is_rejected_on_every_path(tmp_path):
    assert nesting_depth(nested_text(DEEPEST).encode()) == DEEPEST
    assert len(read_webhooks([nested_text(DEEPEST)], errors="collect").rejected) == 1  # read: a list as recipient_id
    too_deep = nested_text(DEEPEST + 1)
    error = raised_by(read_webhooks, [json.dumps(full_status()), too_deep])
    assert (error.column, error.row, error.reason) == ("json", 2, f"nested deeper than {DEEPEST} levels")
    # In a field no reader uses, Arrow's reader would take it: the fast path must refuse the file.
    unread = json.dumps(full_status())[:-1] + ', "note": ' + "[" * DEEPEST + "]" * DEEPEST + "}"
    lines = tmp_path / "deep.jsonl"
    lines.write_text(json.dumps(full_status()) + "\n" + unread + "\n")
    fast, exact = raised_by(read_webhooks, lines), exact_path(raised_by, read_webhooks, lines)
    assert (fast.file, fast.line, fast.column) == (str(lines), 2, "json") and str(fast) == str(exact)
    one = tmp_path / "deep.json"
    one.write_text(too_deep)
    assert raised_by(read_sunshine, one).column == "json"


def test_nesting_too_deep_for_the_parsers_does_not_crash_the_reader(tmp_path):
    # Arrow's JSON reader overflows its stack (a segfault) near 17,000 levels, orjson 3.8
    # near 100,000: such texts must be refused before either parser sees them.
    arrow = json.dumps(full_status())[:-1] + ', "extra": ' + "[" * 30_000 + "]" * 30_000 + "}"
    orjson_ = '{"entry": ' + '{"a": ' * 200_000 + "1" + "}" * 200_000 + "}"
    (tmp_path / "arrow.jsonl").write_text(arrow + "\n")
    (tmp_path / "orjson.jsonl").write_text(orjson_ + "\n")
    (tmp_path / "orjson.json").write_text(orjson_)
    (tmp_path / "orjson.txt").write_text(orjson_)
    script = textwrap.dedent(f"""
        import pathlib, waconv
        folder = pathlib.Path({str(tmp_path)!r})
        for source in [folder / "arrow.jsonl", folder / "orjson.jsonl", folder / "orjson.json",
                       [(folder / "orjson.txt").read_text()], [(folder / "orjson.txt").read_bytes()]]:
            try:
                waconv.read_webhooks(source)
                print("read")
            except waconv.InputError as error:
                print(error.row, error.column, error.reason.replace(" ", "_"))
    """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    reason = f"nested_deeper_than_{DEEPEST}_levels"
    assert done.stdout.split("\n")[:5] == [f"1 json {reason}", f"1 json {reason}", f"None json {reason}",
                                          f"1 json {reason}", f"1 json {reason}"]


@pytest.mark.parametrize("block", [1, 3, 7, 1 << 22])  # strings and levels carried across blocks
def test_nesting_depth_counts_brackets_outside_strings_only(block, monkeypatch):
    monkeypatch.setattr(sources, "_DEPTH_BLOCK", block)

    def reference(text: bytes) -> tuple[int, bytes]:
        """A JSON tokenizer, character by character: the depth, and the text up to a backslash
        outside a string, where a parser stops."""
        level = deepest = 0
        in_string = escaped = False
        for i, char in enumerate(text.decode()):
            if in_string:
                escaped, in_string = (False, True) if escaped else (char == "\\", char != '"')
            elif char == "\\":
                return deepest, text[:i]
            elif char == '"':
                in_string = True
            elif char in "[{":
                level += 1
                deepest = max(deepest, level)
            elif char in "]}":
                level -= 1
        return deepest, text

    rng = random.Random(11)
    for _ in range(3000):
        text = "".join(rng.choice('[]{}"\\a') for _ in range(rng.randrange(40))).encode()
        deepest, parsed = reference(text)
        assert nesting_depth(parsed) == deepest, parsed
    assert nesting_depth(b'{"a": "[[[\\"[[", "b": [[]], "c": "\\\\"}') == 3


BOM = "\ufeff"


def test_a_byte_order_mark_before_json_text_is_not_taken_for_a_path(tmp_path):
    text = json.dumps(full_status())
    assert list(read_webhooks([BOM + text])["message_id"]) == ["wamid.S1"]
    assert list(read_webhooks(BOM + text)["message_id"]) == ["wamid.S1"]
    assert list(read_webhooks([(BOM + text).encode()])["message_id"]) == ["wamid.S1"]
    assert list(read_sunshine([BOM + json.dumps(sunshine_v1())])["message_id"]) == ["m1"]
    # Files: a leading byte order mark is skipped by Arrow's reader, so the exact path skips it too.
    one = tmp_path / "one.json"
    one.write_bytes((BOM + text).encode())
    assert list(read_webhooks(one)["message_id"]) == ["wamid.S1"]
    lines = tmp_path / "lines.jsonl"
    lines.write_bytes((BOM + text + "\n" + json.dumps(full_message()) + "\n").encode())
    assert read_columns(lines) is not None
    fast = read_webhooks(lines)
    assert len(fast) == 2
    pd.testing.assert_frame_equal(fast, exact_path(read_webhooks, lines))


def exact_path(reader, *args, **kwargs):
    """`reader` with the fast paths (C++ and Arrow) switched off (every file payload by payload)."""
    original = webhooks_read.read_columns, webhooks_read.read_native
    webhooks_read.read_columns = webhooks_read.read_native = lambda path: None
    try:
        return reader(*args, **kwargs)
    finally:
        webhooks_read.read_columns, webhooks_read.read_native = original


def test_lone_surrogates_are_rejected_by_name_and_shown():
    bad = full_status(id="wamid.\ud800")
    events, rejected = read_webhooks([full_status(), bad], errors="collect")
    assert list(events["message_id"]) == ["wamid.S1"]
    assert rejected[["line", "field"]].values.tolist() == [[2, VALUE + "statuses[0].id"]]
    assert "surrogate" in rejected["reason"][0]
    assert "\\ud800" in rejected["payload"][0]
    rejected["payload"][0].encode("utf-8")  # printable: no lone surrogate left in the table
    error = raised_by(read_webhooks, [bad])
    assert (error.column, error.row) == (VALUE + "statuses[0].id", 1)
    str(error).encode("utf-8")  # the message can be printed
    # As JSON text, the surrogate makes invalid JSON; the rejected row still shows the text.
    events, rejected = read_webhooks([json.dumps(bad, ensure_ascii=False)], errors="collect")
    assert rejected["field"].tolist() == ["json"] and "\\ud800" in rejected["payload"][0]
    events, rejected = read_sunshine([sunshine_v1(appUser={"_id": "u\udc00"})], errors="collect")
    assert events.empty and rejected["field"].tolist() == ["appUser._id"]


def test_times_and_codes_out_of_float_range_are_rejected(tmp_path):
    for wrong in ("1e400", "-1e400", "nan", float("inf"), float("nan"), "1" * 5000, "²"):
        error = raised_by(read_webhooks, [full_status(timestamp=wrong)])
        assert (error.column, error.row) == (VALUE + "statuses[0].timestamp", 1), wrong
    error = raised_by(read_webhooks, [replaced(failed_status(), VALUE + "statuses[0].errors[0].code", float("inf"))])
    assert error.column == VALUE + "statuses[0].errors[0].code"
    error = raised_by(read_sunshine, [sunshine_v1(messages=[{"_id": "m1", "role": "appUser", "received": 10**400}])])
    assert error.column == "messages[0].received"
    # Sunshine's error codes are read where they are integers; anything else is no code.
    for junk in (float("inf"), float("nan"), True, 131026.5, [131026]):
        failure = replaced(sunshine_v1_delivery(), "error.underlyingError.code", junk)
        events = read_sunshine([sunshine_v1_template(), failure])
        assert events["status"].tolist() == ["failed"] and events["error_code"].isna().all(), junk
    path = tmp_path / "overflow.jsonl"
    path.write_text(json.dumps(full_status(timestamp="1e400")) + "\n")
    error = raised_by(read_webhooks, path)
    assert (error.file, error.line, error.column) == (str(path), 1, VALUE + "statuses[0].timestamp")
    done = subprocess.run([sys.executable, "-m", "waconv.cli", "summary", str(path)], capture_output=True, text=True)
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr
    errors = [line for line in done.stderr.splitlines() if line.startswith("waconv:")]
    assert len(errors) == 1 and "statuses[0].timestamp" in errors[0], done.stderr


def test_invalid_utf8_gives_the_same_error_on_both_paths(tmp_path):
    good = json.dumps(full_status()).encode()
    for name, bad in [("value", good.replace(b"15550000001", b"1555\xff0000001")),
                      ("key", good.replace(b'"recipient_id"', b'"recipient_\xffid"')),
                      ("unread", good[:-1] + b', "note": "caf\xc3"}'),
                      ("surrogate", good[:-1] + b', "note": "\xed\xa0\x80"}')]:
        path = tmp_path / f"{name}.jsonl"
        path.write_bytes(good + b"\n" + bad + b"\n")
        fast = raised_by(read_webhooks, path)
        exact = exact_path(raised_by, read_webhooks, path)
        assert (fast.file, fast.line, fast.column) == (str(path), 2, "json"), name
        assert str(fast) == str(exact), name
        events, rejected = read_webhooks(path, errors="collect")
        assert len(events) == 1 and rejected[["line", "field"]].values.tolist() == [[2, "json"]], name
        rejected["payload"][0].encode("utf-8")


def test_lines_arrow_would_read_differently_from_orjson_take_the_exact_path(tmp_path):
    good = json.dumps(full_status())
    other = json.dumps(full_status(id="wamid.S2"))
    for name, data in [("nan", good[:-1] + ', "note": NaN}\n'),
                       ("huge_number", good[:-1] + ', "note": 1' + "0" * 400 + "}\n"),
                       ("two_on_a_line", good + other + "\n"),
                       ("bare_cr", good + "\r" + other + "\r")]:
        path = tmp_path / f"{name}.jsonl"
        path.write_text(other + "\n" + data if name in ("nan", "huge_number") else data)
        assert read_columns(path) is None, name
        fast = read_webhooks(path, errors="collect")
        exact = exact_path(read_webhooks, path, errors="collect")
        assert len(fast.rejected) == 1 and fast.rejected["field"][0] == "json", name
        pd.testing.assert_frame_equal(fast.rejected, exact.rejected)
        pd.testing.assert_frame_equal(fast.events, exact.events)
    # Blank lines around the payloads keep the fast path; between them they only cost speed.
    path = tmp_path / "blank.jsonl"
    path.write_text("\n\n" + good + "\n" + other + "\n\n \n")
    assert read_columns(path) is not None and len(read_webhooks(path)) == 2


def test_rejections_from_a_json_array_name_the_element(tmp_path):
    path = tmp_path / "array.json"
    path.write_text(json.dumps([full_status(), 5, full_status(status=["sent"])], indent=2))
    events, rejected = read_webhooks(path, errors="collect")
    assert len(events) == 1
    assert rejected["field"].tolist() == ["[1]", "[2]." + VALUE + "statuses[0].status"]
    assert (rejected["file"] == str(path)).all() and rejected["line"].isna().all()
    sunshine = tmp_path / "sunshine.json"
    sunshine.write_text(json.dumps([sunshine_v1(), {"trigger": "message:appUser"}, 5, sunshine_v1(app={"_id": ["a"]})]))
    events, rejected = read_sunshine(sunshine, errors="collect")
    assert list(events["message_id"]) == ["m1"]
    assert rejected["field"].tolist() == ["[1].app._id", "[2]", "[3].app._id"]
    error = raised_by(read_sunshine, sunshine)
    assert (error.file, error.column) == (str(sunshine), "[1].app._id")


def test_sends_and_templates_of_the_wrong_type_are_rejected():
    for sends in ({"wamid.S1": ["marketing"]}, {"other": "utility", "wamid.S1": {"x": 1}}):
        error = raised_by(read_webhooks, [full_status()], sends=sends)
        assert error.column == "sends" and "expected a string or null" in error.reason, sends
    for templates in ("utility", [("t1", "utility")]):
        error = raised_by(read_sunshine, [sunshine_v1_template()], templates=templates)
        assert error.column == "templates" and "expected a mapping" in error.reason, templates
