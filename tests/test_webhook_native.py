"""The C++ webhook reader (waconv._core.read_webhook_file, io/webhooks/native.py) against the
reference: read_webhooks with every fast path switched off (the payload walker over orjson).

Same events (dtypes included), same rejected rows, same InputError, on every fixture, Meta's
example payloads, the shipped example dump, and hypothesis-mutated payloads (malformed ones
included), written as JSON lines or JSON arrays, gzipped or not, read on one and on several
threads.
"""

from __future__ import annotations

import functools
import gzip
import json
import tempfile
from pathlib import Path

import orjson
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import waconv
import waconv.io.webhooks.read as webhooks_read
from tests.fuzz.payloads import WEBHOOK_KEYS, mutated, webhook_seeds
from waconv import _core
from waconv.io.webhooks.native import read_native

ROOT = Path(__file__).resolve().parents[1]
META = ROOT / "tests" / "fixtures" / "meta"
EXAMPLE_DUMP = ROOT / "python" / "waconv" / "examples" / "data" / "example_webhooks.jsonl"
MALFORMED = ROOT / "tests" / "fixtures" / "webhooks" / "malformed.jsonl"


def meta_payloads() -> list[Path]:
    """Meta's example payloads (tests/fixtures/meta: the project's sourced copies, SOURCES.md)."""
    return sorted(META.glob("*.json"))


def outcome(source, *, threads: int | None = None, native: bool = True, **kwargs):
    """(events, rejected, raised message or None) of read_webhooks on `source`, through the
    C++ reader on `threads` threads, or (native=False) through the reference path only."""
    saved = webhooks_read.read_native, webhooks_read.read_columns
    if not native:
        webhooks_read.read_native = webhooks_read.read_columns = lambda path: None
    elif threads is not None:
        webhooks_read.read_native = functools.partial(read_native, threads=threads)
    try:
        collected = waconv.read_webhooks(source, errors="collect", **kwargs)
        try:
            waconv.read_webhooks(source, **kwargs)
            raised = None
        except waconv.InputError as error:
            raised = str(error)
    finally:
        webhooks_read.read_native, webhooks_read.read_columns = saved
    return collected.events, collected.rejected, raised


def assert_same_as_reference(source, threads=(1, 2, 3), **kwargs):
    events, rejected, raised = outcome(source, native=False, **kwargs)
    for count in threads:
        fast_events, fast_rejected, fast_raised = outcome(source, threads=count, **kwargs)
        pd.testing.assert_frame_equal(fast_events, events)
        pd.testing.assert_frame_equal(fast_rejected, rejected)
        assert fast_raised == raised


def write_lines(path: Path, lines: list[bytes], gzipped: bool = False) -> Path:
    data = b"".join(line + b"\n" for line in lines)
    path.write_bytes(gzip.compress(data) if gzipped else data)
    return path


def test_meta_payloads_are_read_in_cpp_to_the_reference_frame(tmp_path):
    readable, envelopes = [], 0
    for path in meta_payloads():
        assert_same_as_reference(path)
        payload = json.loads(path.read_text())
        envelopes += "entry" in payload
        read = read_native(path)
        assert read is not None or "entry" not in payload, path.name  # every Cloud API envelope is understood
        if read is not None and read.payloads:
            readable.append(orjson.dumps(payload))
    assert len(readable) == envelopes >= 9
    # The same payloads as one dump: JSON lines, gzipped or not, and a JSON array.
    for name, gzipped in (("dump.jsonl", False), ("dump.jsonl.gz", True)):
        dump = write_lines(tmp_path / name, readable, gzipped)
        read = read_native(dump)
        assert read is not None and read.payloads == len(readable) and read.fallback == []
        assert_same_as_reference(dump)
    array = tmp_path / "dump.json"
    array.write_bytes(b"[" + b",".join(readable) + b"]")
    assert read_native(array).payloads == len(readable)
    assert_same_as_reference(array)


def test_example_dump_is_read_in_cpp_without_fallback(tmp_path):
    read = read_native(EXAMPLE_DUMP)
    lines = [line for line in EXAMPLE_DUMP.read_bytes().split(b"\n") if line.strip()]
    assert read is not None and read.fallback == [] and read.payloads == len(lines)
    assert_same_as_reference(EXAMPLE_DUMP)
    assert_same_as_reference(write_lines(tmp_path / "example.ndjson.gz", lines, gzipped=True))


def test_malformed_lines_alone_go_to_the_walker_with_their_line_numbers():
    read = read_native(MALFORMED, threads=2)
    assert read.payloads >= 1 and read.fallback  # the well-formed lines are read in C++, the others are not
    lines = MALFORMED.read_bytes().splitlines(keepends=True)
    for document in read.fallback:
        assert document.raw == lines[document.line - 1]
    assert_same_as_reference(MALFORMED)


def test_a_bad_line_among_good_ones_is_named_as_the_reference_names_it(tmp_path):
    good = (META / "status_failed_131049_meta.json").read_bytes().replace(b"\n", b"")
    inbound = (META / "inbound_text_message_ctwa_referral_meta.json").read_bytes().replace(b"\n", b"")
    bad = good.replace(b'"timestamp": "', b'"timestamp": "x')
    assert bad != good
    for gzipped in (False, True):
        path = write_lines(tmp_path / ("dump.jsonl.gz" if gzipped else "dump.jsonl"),
                           [good] * 40 + [bad] + [inbound] * 40 + [b"   ", b"{not json"], gzipped)
        read = read_native(path, threads=3)
        assert [d.line for d in read.fallback] == [41, 83]
        assert read.payloads == 80
        events, rejected, raised = outcome(path, threads=3)
        assert list(rejected["line"]) == [41, 83] and list(rejected["field"])[1] == "json"
        assert raised is not None and "line 41" in raised and "timestamp" in raised
        assert_same_as_reference(path)


def test_files_the_cpp_reader_cannot_take_apart_are_left_whole(tmp_path):
    good = (META / "status_failed_131049_meta.json").read_bytes()
    corrupt = tmp_path / "dump.jsonl.gz"
    corrupt.write_bytes(gzip.compress(good.replace(b"\n", b"") + b"\n")[:-6])
    assert read_native(corrupt) is None
    assert_same_as_reference(corrupt)
    lines_as_json = write_lines(tmp_path / "lines.json", [good.replace(b"\n", b"")] * 2)
    assert read_native(lines_as_json) is None  # not one document: the exact reader splits it
    assert_same_as_reference(lines_as_json)
    bare = tmp_path / "bare.json"  # a bare value object: the walker's shape only
    bare.write_bytes((META / "cbp_2020-2022_status_sent_business_initiated.json").read_bytes())
    assert read_native(bare) is None
    assert_same_as_reference(bare)


def test_repeated_keys_take_the_last_value_as_python_does(tmp_path):
    line = (META / "status_failed_131049_meta.json").read_bytes().replace(b"\n", b"")
    doubled = line.replace(b'"status": "failed"', b'"status": "sent", "status": "failed"')
    assert doubled != line
    path = write_lines(tmp_path / "dump.jsonl", [doubled])
    assert read_native(path).payloads == 1
    events, _, _ = outcome(path)
    assert list(events["status"]) == ["failed"]
    assert_same_as_reference(path)


def test_lines_split_across_threads_read_like_one_thread(tmp_path):
    lines = [line for line in EXAMPLE_DUMP.read_bytes().split(b"\n") if line.strip()]
    path = write_lines(tmp_path / "dump.jsonl", lines)
    one = _core.read_webhook_file(str(path), json_lines=True, gzipped=False, threads=1)
    many = _core.read_webhook_file(str(path), json_lines=True, gzipped=False, threads=4)
    assert len(one["batches"]) == 1 and len(many["batches"]) == 4
    ids = lambda read: [i for b in read["batches"] for i in _texts(b["statuses"]["message_id"])]  # noqa: E731
    assert ids(one) == ids(many) and len(ids(one)) > 0
    assert sum(b["changes"] for b in many["batches"]) == one["batches"][0]["changes"]


def _texts(column):
    offsets, data, valid = column
    return [data[offsets[i]:offsets[i + 1]].tobytes() if valid[i] else None for i in range(len(valid))]


SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))


@SETTINGS
@given(st.lists(mutated(webhook_seeds(), WEBHOOK_KEYS), min_size=1, max_size=6), st.sampled_from(
    ["dump.jsonl", "dump.jsonl.gz", "dump.json", "dump.json.gz"]), st.booleans(), st.integers(1, 3))
def test_generated_payloads_read_like_the_reference(payloads, name, ascii_only, threads):
    from tests.fuzz.payloads import _encode  # the fuzzer's writer: deep nesting, NaN, lone surrogates

    lines = [_encode(payload, ascii_only) for payload in payloads]
    one_document = not name.startswith("dump.jsonl")
    data = b"[" + b",\n".join(lines) + b"]" if one_document else b"\n".join(lines)
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / name
        path.write_bytes(gzip.compress(data) if name.endswith(".gz") else data)
        assert_same_as_reference(path, threads=(threads,))


@pytest.mark.parametrize("gzipped", [False, True])
def test_cpp_reader_takes_the_common_shapes_without_fallback(tmp_path, gzipped):
    """Statuses with pricing, conversation, cost and errors; messages with referrals, system
    messages; contacts with BSUIDs and countries; integer ids: all read in C++."""
    value = {"messaging_product": "whatsapp", "metadata": {"display_phone_number": "15550001000",
                                                           "phone_number_id": 1000000001},
             "contacts": [{"profile": {"name": "A", "country_code": "br"}, "wa_id": "5511999990000",
                           "user_id": "BR.1A2B"}],
             "statuses": [{"id": "wamid.S1", "status": "sent", "timestamp": "1760000000", "recipient_id": 5511999990000,
                           "conversation": {"id": "c1", "origin": {"type": "marketing"},
                                            "expiration_timestamp": 1760086400},
                           "pricing": {"billable": True, "pricing_model": "PMP", "category": "marketing_lite",
                                       "type": "regular", "cost": {"amount": 0.0125, "currency": "USD"}}},
                          {"id": "wamid.S2", "status": "failed", "timestamp": "1760000001",
                           "recipient_user_id": "BR.1A2B", "errors": [{"code": "131049", "title": "x"}]}],
             "messages": [{"from": "5511999990000", "id": "wamid.M1", "timestamp": "1760000002", "type": "text",
                           "referral": {"source_type": "ad"}},
                          {"from_user_id": "BR.1A2B", "id": "wamid.M2", "timestamp": 1760000003, "type": "system"}]}
    payload = {"object": "whatsapp_business_account", "entry": [{"id": 2000000001, "changes": [
        {"value": value, "field": "messages"}, {"value": {"x": 1}, "field": "account_update"}]}]}
    path = write_lines(tmp_path / ("dump.jsonl.gz" if gzipped else "dump.jsonl"), [orjson.dumps(payload)] * 3, gzipped)
    read = read_native(path)
    assert read.payloads == 3 and read.fallback == []
    events, rejected, _ = outcome(path)
    assert len(events) == 4 and len(rejected) == 0
    assert set(events["message_type"].dropna()) == {"text", "system"}
    row = events.set_index("message_id").loc["wamid.S1"]
    assert row.meta_cost == 0.0125 and row.user_country == "BR" and row.waba == "2000000001"
    assert events.set_index("message_id").loc["wamid.S2", "error_code"] == 131049
    assert_same_as_reference(path)


def test_gzip_blocks_read_like_the_plain_file(tmp_path):
    """A gzip dump larger than the reader's 8 MiB blocks, in two members, with a line longer
    than a block and a bad line: read while inflating, it equals the plain file's read."""
    lines = [line for line in EXAMPLE_DUMP.read_bytes().split(b"\n") if line.strip()]
    long_line = orjson.dumps({**json.loads(lines[0]), "pad": "x" * (9 << 20)})
    body = lines * (12_000_000 // sum(map(len, lines)) + 1)
    middle = len(body) // 2
    dump = body[:middle] + [long_line, b"{not json"] + body[middle:]
    plain = write_lines(tmp_path / "dump.jsonl", dump)
    data = plain.read_bytes()
    packed = tmp_path / "dump.jsonl.gz"
    packed.write_bytes(gzip.compress(data[: len(data) // 3]) + gzip.compress(data[len(data) // 3:]))
    expected, read = read_native(plain), read_native(packed)
    assert len(read.batches) >= 2  # one per block of lines
    assert read.payloads == expected.payloads == len(dump) - 1
    assert [d.line for d in read.fallback] == [d.line for d in expected.fallback] == [middle + 2]
    assert sum(b["changes"] for b in read.batches) == sum(b["changes"] for b in expected.batches)
    events, rejected, raised = outcome(plain)
    fast_events, fast_rejected, fast_raised = outcome(packed)
    pd.testing.assert_frame_equal(fast_events, events)
    pd.testing.assert_frame_equal(fast_rejected.drop(columns="file"), rejected.drop(columns="file"))
    assert len(rejected) == 1 and raised.replace(str(plain), str(packed)) == fast_raised


def test_statuses_tied_across_paths_combine_in_line_order(tmp_path):
    """Two copies of one status, same time, different pricing: the first line's wins. The
    second is read by the walker (its timestamp is a float string), yet the result is the one
    reading the file line by line gives."""
    def line(category: str, timestamp: str) -> bytes:
        item = {"id": "wamid.T", "status": "delivered", "timestamp": timestamp, "recipient_id": "15550000001",
                "pricing": {"billable": True, "pricing_model": "PMP", "category": category, "type": "regular"}}
        value = {"messaging_product": "whatsapp", "metadata": {"phone_number_id": "1000000001"}, "statuses": [item]}
        return orjson.dumps({"object": "whatsapp_business_account",
                             "entry": [{"id": "2000000001", "changes": [{"value": value, "field": "messages"}]}]})

    path = write_lines(tmp_path / "dump.jsonl", [line("utility", "1760000000"), line("marketing", "1760000000.0")])
    read = read_native(path)
    assert read.payloads == 1 and [d.line for d in read.fallback] == [2]
    events, _, _ = outcome(path)
    assert list(events["meta_pricing_category"]) == ["utility"]
    assert_same_as_reference(path)
