"""waconv.dask.classify (SPEC §9): shuffled by pair, phase 1 per partition, phase 2 as its own
task; per-message results equal one waconv.classify. Most tests run on Dask's synchronous
scheduler; two run on one 2-process LocalCluster (about 8 s to start here)."""

from __future__ import annotations

import pytest

dask = pytest.importorskip("dask")  # the `dask` extra; CI installs it with `test`
import dask.dataframe as dd  # noqa: E402
import pandas as pd  # noqa: E402

import waconv  # noqa: E402
import waconv.dask  # noqa: E402
from split_logs import NO_RATE, assert_same_messages, card_without_a_rate, conversation_rows, linked_log, options, \
    split_log, warning_texts  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore::waconv.WaconvWarning")


@pytest.fixture
def synchronous():
    with dask.config.set(scheduler="sync"):
        yield


@pytest.mark.parametrize("seed", [0, 4])
def test_per_message_results_equal_one_classify(synchronous, seed):
    log = split_log(seed)
    ref = waconv.classify(log, **options())
    out = waconv.dask.classify(dd.from_pandas(log, npartitions=3), npartitions=5, **options())
    assert_same_messages(ref.messages, out.messages.compute())
    assert conversation_rows(out.conversations.compute()) == conversation_rows(ref.conversations)
    assert len(out.windows.compute()) == len(ref.windows)


def test_identity_links_and_duplicates_across_input_partitions(synchronous):
    log = linked_log(2)
    ref = waconv.classify(log, **options()).messages
    assert ref["duplicate"].any()
    out = waconv.dask.classify(dd.from_pandas(log, npartitions=4), npartitions=3, **options())
    assert_same_messages(ref, out.messages.compute())


def test_a_parquet_dataset_of_several_files(synchronous, tmp_path):
    # Read with fewer columns, dask-expr may merge the files into fewer partitions: the
    # positions found over the whole input must come from the partitions phase 1 reads.
    log = split_log(2)
    for k, piece in enumerate((log.iloc[:150], log.iloc[150:400], log.iloc[400:])):
        piece.to_parquet(tmp_path / f"part-{k}.parquet")
    ref = waconv.classify(log, **options()).messages
    out = waconv.dask.classify(dd.read_parquet(tmp_path), npartitions=3, **options())
    assert_same_messages(ref, out.messages.compute())


def test_the_lazy_tables_have_the_columns_they_compute_to(synchronous):
    log = split_log(1, 300, 20)
    out = waconv.dask.classify(dd.from_pandas(log, npartitions=2), **options())
    assert list(out.messages.columns) == list(out.messages.compute().columns)
    assert list(out.conversations.columns) == list(out.conversations.compute().columns)


def test_not_a_dask_frame_is_an_input_error():
    with pytest.raises(waconv.InputError, match="dask DataFrame"):
        waconv.dask.classify(pd.DataFrame())


@pytest.fixture(scope="module")
def cluster():
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as local:
        with distributed.Client(local):
            yield


def test_on_a_local_cluster_of_two_processes(cluster):
    log = split_log(5)
    ref = waconv.classify(log, **options()).messages
    out = waconv.dask.classify(dd.from_pandas(log, npartitions=3), npartitions=4, **options())
    assert_same_messages(ref, out.messages.compute())


def test_a_clusters_pricing_warnings_and_errors_reach_the_caller_from_classify(cluster):
    # Phase 2 runs in a worker process: its warnings would stay in that worker's log.
    log = waconv.examples.log()
    one = warning_texts(lambda: waconv.classify(log))
    assert any("priced from another card" in text for text in one)
    assert warning_texts(lambda: waconv.dask.classify(dd.from_pandas(log, npartitions=3), npartitions=2)) == one
    card, frame = card_without_a_rate()
    with pytest.raises(waconv.InputError, match=NO_RATE):  # before any compute
        waconv.dask.classify(dd.from_pandas(frame, npartitions=1), rate_card=card)
