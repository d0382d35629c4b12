"""`waconv classify --memory-budget`: Parquet inputs over the budget are classified out of
core, and the files hold the rows one in-memory run writes."""

from __future__ import annotations

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from waconv import cli
from split_logs import split_log, values

pytestmark = pytest.mark.filterwarnings("ignore::waconv.WaconvWarning")


@pytest.fixture
def log_file(tmp_path):
    path = tmp_path / "log.parquet"
    pq.write_table(pa.Table.from_pandas(split_log(3), preserve_index=False), path)
    return path


def test_over_the_budget_the_tables_are_streamed_and_equal(tmp_path, log_file, capsys):
    zone = ["--timezone", "w-sp=America/Sao_Paulo", "-q"]
    assert cli.main(["classify", str(log_file), "-o", str(tmp_path / "memory"), *zone]) == 0
    assert cli.main(["classify", str(log_file), "-o", str(tmp_path / "stream"), "--memory-budget", "300K", *zone]) == 0
    assert "streamed" in capsys.readouterr().out
    ref = pd.read_parquet(tmp_path / "memory" / "messages.parquet")
    got = pd.read_parquet(tmp_path / "stream" / "messages.parquet").sort_values("input_row")
    assert got["input_row"].tolist() == list(range(len(ref)))
    got = got.drop(columns="input_row").reset_index(drop=True)
    for column in ref.columns:
        if column != "conversation_id":
            assert values(got[column]) == values(ref[column]), column
    assert len(pd.read_parquet(tmp_path / "stream" / "conversations.parquet")) == len(
        pd.read_parquet(tmp_path / "memory" / "conversations.parquet"))
    assert not (tmp_path / "stream" / "summary.parquet").exists()


def test_within_the_budget_nothing_changes(tmp_path, log_file, capsys):
    assert cli.main(["classify", str(log_file), "-o", str(tmp_path / "out"), "--memory-budget", "4G", "-q"]) == 0
    assert "streamed" not in capsys.readouterr().out
    assert (tmp_path / "out" / "summary.parquet").exists()


def test_a_bad_budget_is_a_usage_error(tmp_path, log_file, capsys):
    assert cli.main(["classify", str(log_file), "-o", str(tmp_path / "out"), "--memory-budget", "4X"]) == 2
    assert "--memory-budget" in capsys.readouterr().err
