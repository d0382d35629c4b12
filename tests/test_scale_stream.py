"""waconv.classify_stream (SPEC §9): any Arrow stream, spilled by pair to Parquet, gives
every row the result of one classify of the whole input."""

from __future__ import annotations

import os

import numpy as np

import pandas as pd
import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import waconv
from split_logs import NO_RATE, assert_same_messages, card_without_a_rate, conversation_rows, linked_log, options, \
    split_log, warning_texts
from waconv.scale.spill import Spill
from waconv.scale.stream import classify_stream

pytestmark = pytest.mark.filterwarnings("ignore::waconv.WaconvWarning")


def streamed(source, **kwargs):
    batches = list(classify_stream(source, **{"partitions": 4, **options(), **kwargs}))
    return (pd.concat([b.messages for b in batches]), pd.concat([b.conversations for b in batches], ignore_index=True),
            batches)


@pytest.mark.parametrize("seed", [0, 3, 5])
def test_a_record_batch_reader_equals_one_classify(seed):
    log = split_log(seed)
    ref = waconv.classify(log, **options())
    messages, conversations, batches = streamed(pa.Table.from_pandas(log).to_reader(max_chunksize=97))
    assert len(batches) == 4
    assert_same_messages(ref.messages, messages)
    assert conversation_rows(conversations) == conversation_rows(ref.conversations)


def test_parquet_files_and_directories(tmp_path):
    log = split_log(2)
    ref = waconv.classify(log, **options()).messages
    table = pa.Table.from_pandas(log, preserve_index=False)
    pq.write_table(table, tmp_path / "one.parquet", row_group_size=200)
    assert_same_messages(ref, streamed(tmp_path / "one.parquet")[0])
    (tmp_path / "set").mkdir()
    for k, start in enumerate(range(0, len(log), 400)):  # a dataset of several files, read in name order
        pq.write_table(table.slice(start, 400), tmp_path / "set" / f"part-{k:02d}.parquet")
    assert_same_messages(ref, streamed(str(tmp_path / "set"))[0])


def test_capsule_producers_and_iterators_of_frames():
    log = split_log(1)
    ref = waconv.classify(log, **options()).messages
    chunks = [log.iloc[i:i + 250] for i in range(0, len(log), 250)]
    assert_same_messages(ref, streamed(iter(chunks))[0])
    assert_same_messages(ref, streamed(pl.from_pandas(log))[0])  # __arrow_c_stream__

    class Producer:  # only the PyCapsule protocol, as DuckDB or chdb results offer it
        def __arrow_c_stream__(self, requested_schema=None):
            return pa.Table.from_pandas(log).to_reader(max_chunksize=300).__arrow_c_stream__(requested_schema)

    assert_same_messages(ref, streamed(Producer())[0])


def test_identity_links_over_the_whole_stream():
    log = linked_log(0)
    ref = waconv.classify(log, **options()).messages
    assert_same_messages(ref, streamed(pa.Table.from_pandas(log).to_reader(max_chunksize=150))[0])


def test_the_default_partition_count_follows_the_size(tmp_path):
    log = split_log(0, 900)
    pq.write_table(pa.Table.from_pandas(log, preserve_index=False), tmp_path / "log.parquet")
    assert len(list(classify_stream(tmp_path / "log.parquet", partition_rows=300, **options()))) == 3


def test_errors_name_the_row_of_the_stream_and_leave_no_spill(tmp_path):
    log = split_log(0, 600)
    log.loc[555, "direction"] = "sideways"
    with pytest.raises(waconv.InputError) as error:
        streamed(pa.Table.from_pandas(log).to_reader(max_chunksize=100), spill_dir=tmp_path)
    assert (error.value.column, error.value.row) == ("direction", 555)
    log = split_log(0, 600)
    log.loc[432, "delivered_at"] = log.loc[432, "timestamp"] - pd.Timedelta("1h")
    log.loc[432, "direction"] = "outbound"
    with pytest.raises(waconv.InputError) as error:
        streamed(pa.Table.from_pandas(log).to_reader(max_chunksize=100), spill_dir=tmp_path)
    assert (error.value.column, error.value.row) == ("delivered_at", 432)
    assert os.listdir(tmp_path) == []
    with pytest.raises(waconv.InputError, match="partitions"):
        streamed(log, partitions=0)
    with pytest.raises(waconv.InputError, match="no such file"):
        streamed(tmp_path / "missing.parquet")


@pytest.mark.skipif(os.name == "nt", reason="a memory-mapped file cannot be removed there")
def test_spill_files_are_removed_once_read_for_the_last_time(tmp_path):
    log = split_log(0)
    batches = classify_stream(pa.Table.from_pandas(log).to_reader(max_chunksize=200), spill_dir=tmp_path,
                              partitions=3, **options())
    next(batches)  # phase 1 and 2 are done, one partition finished
    (directory,) = tmp_path.iterdir()
    left = sorted(str(path.relative_to(directory)) for path in directory.rglob("*") if path.is_file())
    assert not [name for name in left if name.startswith(("ids", "units", "unit-conversations"))]
    assert len([name for name in left if name.startswith("pairs")]) == 2
    assert len([name for name in left if name.startswith("verdicts")]) == 2
    batches.close()
    assert os.listdir(tmp_path) == []


def test_a_spill_write_failing_in_the_background_is_raised_and_a_stream_error_still_wins(tmp_path, monkeypatch):
    table = pa.table({"x": np.arange(10)})
    spill = Spill(tmp_path, "kept", 2)
    spill.add(table, np.zeros(10, np.int32))
    spill.close()
    assert spill.read(0).column("x").to_pylist() == list(range(10))

    def full_disk(self, table, partition):
        raise OSError("no space left on device")

    monkeypatch.setattr(Spill, "_add", full_disk)
    with pytest.raises(OSError, match="no space left"):
        with Spill(tmp_path, "failing", 2) as spill:
            spill.add(table, np.zeros(10, np.int32))  # returns: the write runs in the background
            spill.close()
    with pytest.raises(waconv.InputError, match="the stream's own"):
        with Spill(tmp_path, "failing-too", 2) as spill:
            spill.add(table, np.zeros(10, np.int32))
            raise waconv.InputError("direction", 3, "the stream's own error")


def test_each_result_column_is_its_own():
    # The tables' columns are taken as they are made (no copy into 2-D blocks): editing one
    # column of a result must still leave the others, among them the user the key came from.
    log = split_log(1, 400)
    messages = next(iter(classify_stream(log, partitions=2, **options()))).messages
    users = messages["user"].copy()
    first = messages.index[0]
    messages.loc[first, "user_key"] = "someone else"
    messages.loc[first, "duplicate"] = not messages.loc[first, "duplicate"]
    messages.loc[first, "billable"] = not messages.loc[first, "billable"]
    assert messages["user"].equals(users)
    assert messages.loc[first, "user_key"] == "someone else"


def test_portfolios_shared_by_a_phone_number_are_priced_together():
    # Phase 2 prices portfolio partitions apart only when every phone number and WABA lies in
    # one portfolio; here a phone number's rows name two portfolios, so they are priced at once.
    log = split_log(3)
    log["portfolio"] = np.where(np.arange(len(log)) % 3 == 0, "p-a", "p-b")
    ref = waconv.classify(log, **options()).messages
    assert_same_messages(ref, streamed(pa.Table.from_pandas(log).to_reader(max_chunksize=200))[0])


def test_each_portfolio_priced_apart_gives_the_same_tiers():
    log = split_log(4)
    log["portfolio"] = np.where(log["waba"] == "w-sp", "p-a", "p-b")  # phones in WABAs in portfolios
    ref = waconv.classify(log, **options()).messages
    assert {"16:MAX", "11:MAX"} <= set(ref["tier"].astype(object))
    assert_same_messages(ref, streamed(pa.Table.from_pandas(log).to_reader(max_chunksize=200), partitions=6)[0])


def test_integer_message_ids_find_their_repeats_in_other_batches_and_pairs():
    # Ids are spilled by a hash of their text: int64 ids take the fallback path of id_hashes.
    log = split_log(6)
    log["message_id"] = pd.factorize(log["message_id"])[0].astype(np.int64) * 7919
    ref = waconv.classify(log, **options()).messages
    assert ref["duplicate"].sum() > 0
    chunks = [log.iloc[i:i + 200] for i in range(0, len(log), 200)]
    assert_same_messages(ref, streamed(iter(chunks), partitions=5)[0])


def test_ids_sharing_a_hash_are_told_apart_by_their_text(monkeypatch):
    # Only rows whose (id hash, direction) another row shares have their ids compared: with
    # every hash equal, every row is compared, and a hash alone never makes a duplicate.
    import waconv.scale.stream as stream

    monkeypatch.setattr(stream, "id_hashes", lambda ids: np.full(len(ids), 7, np.uint64))
    log = split_log(6)
    log.loc[log.index[::50], "message_id"] = None  # null ids are never duplicates
    ref = waconv.classify(log, **options()).messages
    assert ref["duplicate"].sum() > 0
    chunks = [log.iloc[i:i + 200] for i in range(0, len(log), 200)]
    assert_same_messages(ref, streamed(iter(chunks), partitions=5)[0])


def test_id_hashes_depend_on_the_text_alone():
    from waconv.scale.keys import id_hashes

    text = id_hashes(pd.Series(["12", "7", None, "12"], dtype="str"))
    assert text[0] == text[3] and text[0] != text[1] and text[2] == 0
    assert (id_hashes(pd.Series(["12", "7", None, "12"], dtype=object)) == text).all()
    assert (id_hashes(pd.Series([12, 7, 99, 12], dtype=np.int64))[[0, 1, 3]] == text[[0, 1, 3]]).all()
    assert (id_hashes(pd.Series(pa.array(["12", "7", None, "12"], pa.large_string()).to_pandas(
        types_mapper=pd.ArrowDtype))) == text).all()


def test_a_column_all_null_in_the_first_batch_and_text_later(monkeypatch):
    # Small spill buffers, so later batches reach files whose type the first batch set: a
    # template_category of None only (Arrow's null type) and text afterwards.
    import waconv.scale.spill as spill

    monkeypatch.setattr(spill, "BUFFERED_ROWS", 64)
    monkeypatch.setattr(spill, "MIN_FLUSH_ROWS", 8)
    log = split_log(0)
    log["template_category"] = log["template_category"].astype(object)
    log.loc[:99, "template_category"] = None
    ref = waconv.classify(log, **options()).messages
    chunks = [log.iloc[:100]] + [log.iloc[i:i + 200] for i in range(100, len(log), 200)]
    assert pa.Table.from_pandas(chunks[0]).schema.field("template_category").type == pa.null()
    assert_same_messages(ref, streamed(iter(chunks))[0])


@pytest.mark.parametrize("partitions", [3, 8])
def test_pricing_warnings_are_the_whole_inputs_once_not_one_per_portfolio_group(partitions):
    # Phase 2 prices each portfolio partition apart; its gap counts are summed before warning.
    log = waconv.examples.log()
    one = warning_texts(lambda: waconv.classify(log))
    assert any("charged units are priced from another card" in text for text in one)
    assert warning_texts(lambda: list(classify_stream(log, partitions=partitions))) == one


@pytest.mark.parametrize("partitions", [3, 8])
def test_users_without_a_country_are_counted_once_over_the_portfolio_groups(partitions):
    # One national-format number writes to both WABAs (priced in separate groups), another to one.
    log = waconv.examples.log()
    first_user = log.groupby("waba")["user"].first()
    log.loc[log["user"].isin(first_user), "user"] = "(11) 99999-0000"
    log.loc[log["user"] == log.loc[log["waba"] == "waba-br", "user"].iloc[-1], "user"] = "(11) 98888-0000"
    one = warning_texts(lambda: waconv.classify(log))
    assert any(text.startswith("2 users have no country") for text in one)
    assert warning_texts(lambda: list(classify_stream(log, partitions=partitions))) == one


def test_summed_gaps_add_counts_and_keep_the_first_row_found():
    from waconv.engine.price import _summed_gaps
    a = {"unknown_rate": 0, "first_unknown_rate": -1, "borrowed_from": np.array([1, 0]),
         "first_without_card": np.array([-1, 4])}
    b = {"unknown_rate": 2, "first_unknown_rate": 7, "borrowed_from": np.array([2, 5]),
         "first_without_card": np.array([3, 9])}
    out = _summed_gaps([a, b])
    assert out["unknown_rate"] == 2 and out["first_unknown_rate"] == 7
    assert out["borrowed_from"].tolist() == [3, 5] and out["first_without_card"].tolist() == [3, 4]


def test_a_users_card_without_a_rate_is_still_an_error_in_a_stream():
    card, frame = card_without_a_rate()
    with pytest.raises(waconv.InputError, match=NO_RATE):
        waconv.classify(frame, rate_card=card)
    with pytest.raises(waconv.InputError, match=NO_RATE):
        list(classify_stream(frame, rate_card=card, partitions=2))


@pytest.mark.parametrize("start", ["2026-08-03", "2025-10-06"])
def test_a_log_whose_messages_open_no_conversation(start):
    # Under PMP no message opens a conversation: phase 2's groups have units and nothing else.
    from builders import log as built_log
    frame = built_log(start, (0, "out", "utility"), (2, "in"), (3, "out"), (30, "out", "marketing"),
                      user="+5511987654321")
    ref = waconv.classify(frame)
    assert ref.conversations.empty and ref.messages["cost"].sum() > 0
    for partitions in (1, 2):
        messages = pd.concat([b.messages for b in classify_stream(frame, partitions=partitions)])
        assert_same_messages(ref.messages, messages)


def test_pair_hashes_depend_on_the_text_not_the_column_type():
    # Batches of one stream may type the user column differently; a pair must keep its partition.
    from waconv.scale.keys import pair_partition, value_hashes
    users = ["+5511987654321", None, "+919876543210", "US.13491208655302741918"]
    kinds = [pd.Series(users, dtype=object), pd.Series(users, dtype="str"),
             pd.Series(pa.array(users, pa.large_string()).to_pandas(types_mapper=pd.ArrowDtype)),
             pd.Series(pa.array(users, pa.string()).to_pandas(types_mapper=pd.ArrowDtype))]
    hashes = [value_hashes(k).tolist() for k in kinds]
    assert all(h == hashes[0] for h in hashes) and hashes[0][1] == 0 and len(set(hashes[0])) == 4
    business = pd.Series([7, 7, 8, 8], dtype=np.int64)
    assert len({tuple(pair_partition(business, k, 64).tolist()) for k in kinds}) == 1
