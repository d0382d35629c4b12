"""waconv.spark.classify (SPEC §9) in local mode: per-message results equal one
waconv.classify. One session for the module (local[2], 4 shuffle partitions): its start
and the few jobs below add about 1-2 minutes to a test run on this 2-core machine."""

from __future__ import annotations

import pandas as pd
import pyarrow as pa
import pytest

pytest.importorskip("pyspark")  # the `spark` extra; CI installs it with `test`

import waconv  # noqa: E402
import waconv.spark  # noqa: E402
from split_logs import NO_RATE, assert_same_messages, card_without_a_rate, conversation_rows, linked_log, options, \
    split_log, warning_texts  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore::waconv.WaconvWarning", "ignore::FutureWarning",
                                        "ignore::DeprecationWarning")


@pytest.fixture(scope="module")
def spark():
    session = waconv.spark.local_session(cores=2, shuffle_partitions=4)
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()


def in_microseconds(log: pd.DataFrame) -> pd.DataFrame:
    """Spark keeps microseconds: the reference classifies the log Spark holds (equal
    instants then tie by message id, which Spark carries as well)."""
    for column in ("timestamp", "delivered_at"):
        log[column] = log[column].dt.floor("us")
    return log


def run(spark, log, **more):
    out = waconv.spark.classify(spark.createDataFrame(pa.Table.from_pandas(log, preserve_index=False)),
                                **options(**more))
    messages = out.messages.toPandas().set_index("waconv_row").sort_index()
    messages.index = pd.RangeIndex(len(messages))
    for column in ("timestamp", "delivered_at"):  # Spark hands instants back as naive UTC
        messages[column] = messages[column].dt.tz_localize("UTC")
    return messages, out


def as_text(conversations: pd.DataFrame) -> pd.DataFrame:
    out = conversations.copy()
    for column in ("business", "user", "waba"):
        out[column] = out[column].astype(str)
    for column in ("start", "end"):
        out[column] = pd.to_datetime(out[column], utc=True)
    return out


@pytest.mark.parametrize("seed", [3, 5])  # pmp_v1 (tiers) and the 2026-10-01 switch (service allowance)
def test_per_message_results_equal_one_classify(spark, seed):
    log = in_microseconds(split_log(seed))
    ref = waconv.classify(log, **options())
    messages, out = run(spark, log)
    assert_same_messages(ref.messages, messages)
    assert conversation_rows(as_text(out.conversations.toPandas())) == conversation_rows(as_text(ref.conversations))
    assert out.windows.count() == len(ref.windows)


def test_identity_links_and_duplicates(spark):
    log = in_microseconds(linked_log(1))
    ref = waconv.classify(log, **options())
    assert ref.messages["duplicate"].any()
    assert_same_messages(ref.messages, run(spark, log)[0])


def test_not_a_spark_frame_is_an_input_error():
    with pytest.raises(waconv.InputError, match="Spark DataFrame"):
        waconv.spark.classify(pd.DataFrame())



def test_pricing_warnings_reach_the_caller_once_with_the_whole_inputs_counts(spark):
    # Phase 2 runs in executors, per portfolio group: each group's gaps come back and are summed.
    log = waconv.examples.log()
    one = warning_texts(lambda: waconv.classify(log))
    assert any("priced from another card" in text for text in one)
    frame = spark.createDataFrame(pa.Table.from_pandas(log, preserve_index=False))
    assert warning_texts(lambda: waconv.spark.classify(frame)) == one


def test_a_workers_input_error_is_an_input_error_at_its_input_row(spark):
    log = waconv.examples.log().head(300).copy()
    log.loc[250, "direction"] = "sideways"
    frame = spark.createDataFrame(pa.Table.from_pandas(log, preserve_index=False))
    assert frame.rdd.getNumPartitions() > 1  # row 250 is not the first of its partition
    with pytest.raises(waconv.InputError, match="column 'direction', row 250: unknown direction 'sideways'"):
        waconv.spark.classify(frame)
    card, built = card_without_a_rate()
    with pytest.raises(waconv.InputError, match=NO_RATE):  # raised in phase 2
        waconv.spark.classify(spark.createDataFrame(pa.Table.from_pandas(built, preserve_index=False)), rate_card=card)
