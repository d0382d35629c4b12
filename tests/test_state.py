"""Carried state (docs/rules.md §Daily runs): its format, its checks, what it keeps and the
command line. The guarantee itself is tested in test_state_guarantee.py."""

from __future__ import annotations

import io
import struct

import numpy as np
import pandas as pd
import pytest

import waconv
from waconv.engine.carry import LATE_SEND
from waconv.engine.state import FORMAT_VERSION


def log(start: str, *rows: tuple, user: str = "+5511987000001", business: str = "b1", ids: bool = True):
    """rows: (hours after start, direction, template category or None[, message id])."""
    base = pd.Timestamp(start, tz="UTC")
    frame = pd.DataFrame({
        "business": business,
        "user": user,
        "timestamp": [base + pd.Timedelta(hours=r[0]) for r in rows],
        "direction": ["inbound" if r[1] == "in" else "outbound" for r in rows],
        "template_category": [r[2] for r in rows],
    })
    if ids:
        frame["message_id"] = [r[3] if len(r) > 3 else f"{business}-{user}-{start}-{k}" for k, r in enumerate(rows)]
    return frame


def types(messages: pd.DataFrame) -> list:
    return [None if pd.isna(t) else t for t in messages.pricing_type.astype(object)]


def test_state_round_trips_through_bytes_and_files(tmp_path):
    day1 = log("2025-08-01", (0, "in", None), (1, "out", None), (30, "out", "utility"))
    state = waconv.classify(day1).state
    again = waconv.State.from_bytes(state.to_bytes())
    assert again.watermark == state.watermark == pd.Timestamp("2025-08-02 06:00", tz="UTC").value
    assert again.options == state.options
    assert again.carried.equals(state.carried)
    assert again.seen.equals(state.seen)
    path = tmp_path / "state.bin"
    state.save(path)
    loaded = waconv.State.load(path)
    assert loaded.carried.equals(state.carried) and loaded.watermark == state.watermark
    assert "carried rows" in repr(loaded)


def test_a_state_of_another_format_version_is_an_input_error():
    good = waconv.classify(log("2025-08-01", (0, "in", None))).state.to_bytes()
    data = bytearray(good)
    data[8:12] = struct.pack("<I", FORMAT_VERSION + 1)
    with pytest.raises(waconv.InputError, match=f"version {FORMAT_VERSION + 1}"):
        waconv.State.from_bytes(bytes(data))
    with pytest.raises(waconv.InputError, match="not a waconv state"):
        waconv.State.from_bytes(b"PAR1 something else")
    with pytest.raises(waconv.InputError, match="damaged or truncated"):
        waconv.State.from_bytes(good[: len(good) - 10])


def test_a_missing_state_file_is_an_input_error(tmp_path):
    with pytest.raises(waconv.InputError, match="cannot read the state"):
        waconv.State.load(tmp_path / "nothing.bin")


@pytest.mark.parametrize("changed", [
    {"anchor": "sent"},
    {"rules": "pmp_v1"},
    {"service_free_allowance": 10},
    {"free_tier_conversations": 5},
    {"timezones": {"b1": "America/Sao_Paulo"}},
    {"failed_freeform_opens_conversation": True},
    {"volume_tiers": io.StringIO("Market,Category,Tier,Rate\nBrazil,utility,0:2,0.01\nBrazil,utility,3:MAX,0.005\n")},
    {"price": False},
])
def test_continuing_with_other_options_is_an_input_error(changed):
    state = waconv.classify(log("2025-08-01", (0, "in", None))).state
    name = next(iter(changed))
    expected = "rate_card and volume_tiers" if name == "volume_tiers" else name
    with pytest.raises(waconv.InputError, match="the state was made with") as error:
        waconv.classify(log("2025-08-03", (0, "in", None)), state=state, **changed)
    assert error.value.column == expected


def test_rows_older_than_the_watermark_are_an_input_error():
    state = waconv.classify(log("2025-08-01", (0, "in", None), (10, "out", None))).state
    later = log("2025-08-01", (12, "in", None), (9, "in", None))
    with pytest.raises(waconv.InputError, match="before the state's watermark") as error:
        waconv.classify(later, state=state)
    assert (error.value.column, error.value.row) == ("timestamp", 1)


def test_a_batch_row_delivered_after_the_watermark_may_be_sent_before_it_but_not_too_long_before():
    state = waconv.classify(log("2025-08-10", (0, "in", None))).state
    hours = LATE_SEND // (3600 * 10**9)
    late = log("2025-08-10", (-hours + 1, "out", "utility"), (-hours - 1, "out", "utility"))
    late["delivered_at"] = pd.Timestamp("2025-08-10 01:00", tz="UTC")
    with pytest.raises(waconv.InputError, match=f"more than {hours} h before the state's watermark") as error:
        waconv.classify(late, state=state)
    assert error.value.row == 1
    assert len(waconv.classify(late.iloc[:1], state=state).messages) == 1


def test_a_repeat_of_an_earlier_batch_is_a_duplicate_even_when_older_than_the_watermark():
    day1 = log("2025-08-01", (0, "in", None, "wamid.1"), (1, "out", None, "wamid.2"))
    state = waconv.classify(day1).state
    # Webhooks are at-least-once: yesterday's message arrives again today, and a new one.
    day2 = log("2025-08-01", (0, "in", None, "wamid.1"), (40, "in", None, "wamid.3"))
    result = waconv.classify(day2, state=state)
    assert result.messages.duplicate.tolist() == [True, False]
    assert result.n_duplicates == 1
    # The same id in the other direction is another message.
    other = log("2025-08-03", (0, "out", None, "wamid.1"))
    assert not waconv.classify(other, state=state).messages.duplicate.any()


def test_a_window_open_at_midnight_frees_the_next_days_reply():
    # pmp_v1: a utility template is free while the service window is open; the window
    # opened yesterday at 22:00 still covers today's 01:00.
    day1 = log("2025-08-01", (22, "in", None))
    day2 = log("2025-08-02", (1, "out", "utility"), (23, "out", "utility"))
    result = waconv.classify(day2, state=waconv.classify(day1).state)
    assert result.messages.pricing_type.tolist() == ["free_customer_service", "regular"]
    assert result.messages.csw_open.tolist() == [True, False]


def test_conversation_ids_go_on_across_batches_and_a_conversation_keeps_its_id():
    # cbp_v2: the marketing conversation opened on day 1 at 20:00 is joined on day 2 at 02:00.
    day1 = log("2023-08-01", (20, "out", "marketing"))
    day2 = log("2023-08-02", (2, "out", "marketing"), (30, "out", "marketing"))
    first = waconv.classify(day1)
    second = waconv.classify(day2, state=first.state)
    assert first.messages.conversation_id.tolist() == [0]
    assert second.messages.conversation_id.tolist() == [0, 1]
    assert second.messages.opens_conversation.tolist() == [False, True]
    # The table holds the conversations this batch opened; day 1's was reported on day 1.
    assert second.conversations.conversation_id.tolist() == [1]
    assert second.conversations.opened_by.tolist() == [1]


def test_the_free_tier_used_by_rows_no_longer_carried_still_counts():
    # cbp_v2 service conversations before 2024-11 are free tier: 2 per month here. Day 1
    # uses both, long before its watermark (so its rows are not carried); day 2's is regular.
    users = [f"+55119870000{k:02d}" for k in range(3)]
    day1 = pd.concat([log("2023-08-01", (0, "in", None), (1, "out", None), user=users[0]),
                      log("2023-08-02", (0, "in", None), (1, "out", None), user=users[1]),
                      log("2023-08-20", (0, "in", None), user=users[2])], ignore_index=True)
    first = waconv.classify(day1, free_tier_conversations=2)
    assert first.messages.pricing_type.dropna().tolist() == ["free_tier", "free_tier"]
    state = first.state
    assert state.carried_rows == 1  # only the third user's row is recent
    day2 = log("2023-08-25", (0, "in", None), (1, "out", None), user=users[0])
    second = waconv.classify(day2, state=state, free_tier_conversations=2)
    assert types(second.messages) == [None, "regular"]
    # Next month the free tier starts again.
    september = log("2023-09-05", (0, "in", None), (1, "out", None), user=users[0])
    third = waconv.classify(september, state=second.state, free_tier_conversations=2)
    assert types(third.messages) == [None, "free_tier"]


def test_the_service_allowance_and_volume_tiers_count_on(tmp_path):
    tiers = tmp_path / "tiers.csv"
    tiers.write_text("Market,Category,Tier,Rate\nBrazil,utility,0:2,0.01\nBrazil,utility,3:MAX,0.005\n")
    # pmp_v2: service messages inside the window are charged after 1 free per month.
    day1 = log("2026-11-02", (0, "in", None), (1, "out", None), (2, "out", "utility"), (3, "out", "utility"))
    first = waconv.classify(day1, service_free_allowance=1, volume_tiers=tiers)
    assert types(first.messages) == [None, "free_customer_service", "regular", "regular"]
    day2 = log("2026-11-12", (0, "in", None), (1, "out", None), (2, "out", "utility"), (3, "out", "utility"))
    second = waconv.classify(day2, state=first.state, service_free_allowance=1, volume_tiers=tiers)
    assert second.state.carried_rows == 4 and first.state.carried_rows == 4
    assert types(second.messages) == [None, "regular", "regular", "regular"]
    assert second.messages.rate.tolist()[2:] == [0.005, 0.005]
    # Ten days on, day 1's rows are no longer carried: their units are counters.
    day3 = log("2026-11-25", (2, "out", "utility"))
    third = waconv.classify(day3, state=second.state, service_free_allowance=1, volume_tiers=tiers)
    assert third.messages.rate.tolist() == [0.005]
    counters = third.state.counters.to_pandas()
    assert set(counters.kind) == {"service", "tier"}
    assert counters.set_index("kind").loc["tier", "used"].sum() == 4


def test_identity_links_seen_before_carry_over():
    day1 = pd.DataFrame({"business": "b1", "user_phone": ["+5511987000001"], "user_bsuid": ["BR.1234"],
                         "timestamp": [pd.Timestamp("2026-05-01", tz="UTC")], "direction": ["inbound"]})
    state = waconv.classify(day1).state
    assert state.links.num_rows == 1
    # Weeks later the pair is no longer carried; the BSUID alone still names the phone's user.
    day2 = pd.DataFrame({"business": "b1", "user_bsuid": ["BR.1234"], "timestamp": [pd.Timestamp("2026-06-01", tz="UTC")],
                         "direction": ["inbound"]})
    later = waconv.classify(day2, state=state)
    assert later.state.carried_rows == 1
    assert later.messages.user_key.tolist() == ["+5511987000001"]
    assert later.messages.country.tolist() == ["BR"]


def test_a_batch_error_names_the_batch_row():
    state = waconv.classify(log("2025-08-01", (0, "in", None), (1, "in", None))).state
    bad = log("2025-08-01", (3, "in", None), (4, "in", None))
    bad.loc[1, "direction"] = "sideways"
    with pytest.raises(waconv.InputError, match="unknown direction") as error:
        waconv.classify(bad, state=state)
    assert (error.value.column, error.value.row) == ("direction", 1)


def test_state_must_be_a_state():
    with pytest.raises(waconv.InputError, match="expected a waconv.State"):
        waconv.classify(log("2025-08-01", (0, "in", None)), state=b"bytes")


def test_arrow_output_keeps_the_state():
    result = waconv.classify(log("2025-08-01", (0, "in", None)), output="arrow")
    assert result.state.watermark == pd.Timestamp("2025-08-01", tz="UTC").value
    assert result.to_pandas().state.watermark == result.state.watermark


def test_message_columns_come_back_as_given_with_a_state():
    state = waconv.classify(log("2025-08-01", (0, "in", None))).state
    day2 = log("2025-08-02", (0, "in", None), (1, "out", None))
    day2["note"] = [1, 2]
    day2["timestamp"] = day2["timestamp"].dt.strftime("%Y-%m-%dT%H:%M:%SZ")
    messages = waconv.classify(day2, state=state).messages
    assert messages["note"].tolist() == [1, 2]
    assert messages["timestamp"].tolist() == [pd.Timestamp("2025-08-02", tz="UTC"),
                                              pd.Timestamp("2025-08-02 01:00", tz="UTC")]
    assert list(messages.columns[: len(day2.columns)]) == list(day2.columns)


def test_command_line_writes_and_reads_the_state(tmp_path, capsys):
    from waconv.cli.main import main

    day1, day2 = tmp_path / "day1.csv", tmp_path / "day2.csv"
    log("2025-08-01", (22, "in", None)).to_csv(day1, index=False)
    log("2025-08-02", (1, "out", "utility")).to_csv(day2, index=False)
    state = tmp_path / "state.bin"
    assert main(["classify", str(day1), "-o", str(tmp_path / "out1"), "--state-out", str(state), "-q"]) == 0
    assert main(["classify", str(day2), "-o", str(tmp_path / "out2"), "--state-in", str(state),
                 "--state-out", str(state), "-q"]) == 0
    messages = pd.read_parquet(tmp_path / "out2" / "messages.parquet")
    assert messages.pricing_type.tolist() == ["free_customer_service"]
    assert waconv.State.load(state).watermark == pd.Timestamp("2025-08-02 01:00", tz="UTC").value
    # Today's file again: its row is a duplicate now, and older than the watermark is fine then;
    # a new row older than the watermark is not.
    log("2025-08-02", (0, "in", None, "new")).to_csv(day2, index=False)
    assert main(["classify", str(day2), "-o", str(tmp_path / "out3"), "--state-in", str(state), "-q"]) != 0
    assert "before the state's watermark" in capsys.readouterr().err


def test_a_late_delivery_sees_the_window_of_a_row_kept_for_it():
    # The batch's reply was sent 14 h after the user wrote, inside the window, but delivered
    # 71 h later, after the watermark. The state must keep the user's row for it, though that
    # row's own window closed long before the watermark.
    other = log("2025-08-04", (12, "in", None), user="+5511987000099")
    day1 = pd.concat([log("2025-08-01", (0, "in", None)), other], ignore_index=True)
    state = waconv.classify(day1).state
    reply = log("2025-08-01", (14, "out", None))
    reply["delivered_at"] = reply["timestamp"] + pd.Timedelta(hours=71)
    messages = waconv.classify(reply, state=state).messages
    assert messages.policy_violation.tolist() == [False]
    whole = waconv.classify(pd.concat([day1, reply], ignore_index=True)).messages
    assert not whole.policy_violation.iloc[-1]  # as one call over both says


def test_csw_refreshing_and_price_false_carry_over():
    # A reaction that does not refresh the window: tomorrow's reply is outside it.
    day1 = log("2025-08-01", (0, "in", None), (20, "in", None))
    day1["refreshes"] = [True, False]
    day2 = log("2025-08-02", (1, "out", None))
    day2["refreshes"] = [True]
    first = waconv.classify(day1, csw_refreshing="refreshes", price=False)
    second = waconv.classify(day2, state=first.state, csw_refreshing="refreshes", price=False)
    assert second.messages.policy_violation.tolist() == [True]
    assert "cost" not in second.messages.columns
    day1["refreshes"] = True
    refreshed = waconv.classify(day1, csw_refreshing="refreshes", price=False).state
    assert not waconv.classify(day2, state=refreshed, csw_refreshing="refreshes",
                               price=False).messages.policy_violation.any()


def test_a_pickled_result_keeps_a_state_it_built():
    import pickle

    result = waconv.classify(log("2025-08-01", (0, "in", None)))
    assert pickle.loads(pickle.dumps(result)).messages.shape == result.messages.shape  # no state recipe inside
    watermark = result.state.watermark
    assert pickle.loads(pickle.dumps(result)).state.watermark == watermark


def test_a_batch_error_names_the_users_column():
    state = waconv.classify(log("2025-08-01", (0, "in", None))).state
    bad = log("2025-08-02", (0, "out", "marketing"), (1, "out", "newsletter")).rename(columns={"template_category": "kind"})
    with pytest.raises(waconv.InputError, match="newsletter") as error:
        waconv.classify(bad, state=state, columns={"template_category": "kind"})
    assert (error.value.column, error.value.row) == ("kind", 1)


def _carried_by_groupby(business, user, sent, done, rows, before):
    """Which rows to carry, pair by pair in pandas: the reference for engine.carry._carried."""
    frame = pd.DataFrame({"business": business, "user": user, "sent": sent, "done": done})[rows]
    keep = np.zeros(len(rows), bool)
    for _, pair in frame.sort_values(["business", "user", "sent"], kind="stable").groupby(["business", "user"]):
        s, d = pair["sent"].to_numpy(), pair["done"].to_numpy()
        earlier_done = np.r_[np.iinfo(np.int64).min, np.maximum.accumulate(d)[:-1]]
        if not ((s < before) & (d > before)).any():
            cut = before
        else:
            quiet = s[(earlier_done <= s) & (s <= before)]
            cut = quiet.max() if len(quiet) else s.min()
        keep[pair.index[s >= cut]] = True
    return keep


@pytest.mark.parametrize("seed", range(5))
def test_the_rows_carried_are_those_of_a_pair_by_pair_search(seed):
    from waconv.engine.carry import _carried

    rng = np.random.default_rng(seed)
    n = 3000
    business = rng.integers(0, 4, n).astype(np.int32)
    user = rng.integers(0, 60, n).astype(np.int32)
    sent = rng.integers(0, 100, n).astype(np.int64) * 3600
    done = sent + rng.integers(0, 40, n).astype(np.int64) * 3600
    rows = rng.random(n) > 0.1
    for before in (0, 50 * 3600, 80 * 3600 + 1, 200 * 3600):
        expected = _carried_by_groupby(business, user, sent, done, rows, before)
        assert np.array_equal(_carried(business, user, sent, done, rows, before), expected)
        assert 0 < expected.sum() or before >= 140 * 3600


def test_a_state_whose_sections_are_lz4_reads_back():
    # Arrow's stream names its codec: sections read back whatever codec wrote them (lz4 before zstd).
    import pyarrow as pa

    from waconv.engine.state import _MAGIC, _SECTIONS

    state = waconv.classify(log("2025-08-01", (0, "in", None), (1, "out", None))).state
    header = state.to_bytes()[16:16 + struct.unpack("<I", state.to_bytes()[12:16])[0]]
    parts = [_MAGIC + struct.pack("<II", FORMAT_VERSION, len(header)) + header]
    for name in _SECTIONS:
        table = getattr(state, name)
        body = b""
        if table is not None:
            sink = pa.BufferOutputStream()
            with pa.ipc.new_stream(sink, table.schema, options=pa.ipc.IpcWriteOptions(compression="lz4")) as writer:
                writer.write_table(table)
            body = sink.getvalue().to_pybytes()
        parts.append(struct.pack("<Q", len(body)) + body)
    again = waconv.State.from_bytes(b"".join(parts))
    assert again.carried.equals(state.carried) and again.seen.equals(state.seen)
    assert again.counters.equals(state.counters) and again.watermark == state.watermark


def test_the_seen_ids_keep_their_latest_sighting():
    # The duplicate horizon runs from the latest sighting: a repeat keeps the id in the state longer.
    day1 = log("2025-08-01", (0, "in", None, "m1"), (1, "out", None, "m2"))
    first = waconv.classify(day1).state
    day2 = log("2025-08-02", (0, "in", None, "m1"), (2, "out", None, "m3"))  # m1 redelivered a day later
    second = waconv.classify(day2, state=first).state

    def sightings(state):
        return dict(zip(state.seen.column("at").to_pylist(), state.seen.column("hash").to_pylist()))

    m1_hash = sightings(first)[pd.Timestamp("2025-08-01", tz="UTC").value]
    seen = {h: at for at, h in sightings(second).items()}
    assert seen[m1_hash] == pd.Timestamp("2025-08-02", tz="UTC").value
    assert second.seen.num_rows == 3


def test_message_id_hashes_follow_the_text_and_the_direction():
    # The state keeps these hashes for 45 days: a batch typing its ids otherwise must still match.
    from waconv.engine.carry import id_hashes
    ids = ["wamid.A", "wamid.B", None, "wamid.A"]
    direction = pd.Series(["outbound", "outbound", "outbound", "inbound"], dtype="string")
    as_object = id_hashes(pd.DataFrame({"message_id": pd.Series(ids, dtype=object), "direction": direction}))
    as_arrow = id_hashes(pd.DataFrame({"message_id": pd.Series(ids, dtype="str"), "direction": direction}))
    assert (as_object[0] == as_arrow[0]).all() and as_object[1].tolist() == [True, True, False, True]
    assert len({int(h) for h in as_object[0][[0, 1, 3]]}) == 3  # the inbound copy of wamid.A differs
    numbers = id_hashes(pd.DataFrame({"message_id": pd.Series([12, 7]), "direction": direction[:2]}))
    text = id_hashes(pd.DataFrame({"message_id": pd.Series(["12", "7"], dtype="str"), "direction": direction[:2]}))
    assert (numbers[0] == text[0]).all()
