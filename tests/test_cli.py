"""The command line: every command, every input format, and one-line errors with exit code 2."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import warnings

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import waconv
from waconv import cli, examples
from waconv.cli.demo import demo_report



@pytest.fixture(scope="module")
def example_csv(tmp_path_factory):
    path = tmp_path_factory.mktemp("csv") / "log.csv"
    examples.log().to_csv(path, index=False)
    return path


@pytest.fixture(scope="module")
def example_parquet(tmp_path_factory):
    frame = examples.log()
    frame["timestamp"] = pd.to_datetime(frame["timestamp"], utc=True)
    frame["delivered_at"] = pd.to_datetime(frame["delivered_at"], utc=True, format="ISO8601")
    path = tmp_path_factory.mktemp("parquet") / "log.parquet"
    pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), path)
    return path


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "waconv.cli", *args], capture_output=True, text=True)


def quietly(argv: list[str]) -> int:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return cli.main(argv)


def test_demo_prints_every_era_and_the_windows(capsys):
    assert quietly(["demo"]) == 0
    out = capsys.readouterr().out
    for era in ("cbp_v1", "cbp_v2", "pmp_v1", "pmp_v2"):
        assert era in out
    assert "webhook duplicates marked" in out and "customer_service" in out and "free_entry_point" in out


def test_demo_numbers_match_the_result():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = waconv.classify(examples.log(), timezones=examples.TIMEZONES)
    report = demo_report(result)
    assert f"{len(result.messages):,} rows ({result.n_duplicates} webhook duplicates" in report
    violations = int(result.messages.policy_violation.sum())
    assert f"(Meta error 131047): {violations}" in report


def test_demo_webhooks_reconciles_the_shipped_dump(capsys):
    assert quietly(["demo", "--webhooks"]) == 0
    out = capsys.readouterr().out
    events = waconv.read_webhooks(examples.webhooks())
    assert f"Webhook dump: {len(events):,} messages rebuilt" in out
    assert "Against Meta's own verdict in the webhooks" in out


def test_installed_entry_point_runs():
    exe = shutil.which("waconv")
    if exe is None:
        pytest.fail("the waconv console script is not installed")
    run_ = subprocess.run([exe, "demo"], capture_output=True, text=True, check=True)
    assert "CBP conversations by era and category" in run_.stdout


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_classify_writes_the_tables_from_csv_and_parquet(fmt, example_csv, example_parquet, tmp_path):
    source = example_csv if fmt == "csv" else example_parquet
    outdir = tmp_path / "out"
    assert quietly(["classify", str(source), "-o", str(outdir), "-q", "--timezone", "waba-br=America/Sao_Paulo",
                    "--output-format", "csv" if fmt == "csv" else "parquet"]) == 0
    read = pd.read_csv if fmt == "csv" else pd.read_parquet
    messages = read(outdir / f"messages.{fmt}")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expected = waconv.classify(examples.log(), timezones=examples.TIMEZONES)
    assert len(messages) == len(expected.messages)
    assert messages["cost"].sum() == pytest.approx(expected.messages.cost.sum())
    assert len(read(outdir / f"conversations.{fmt}")) == len(expected.conversations)
    assert len(read(outdir / f"windows.{fmt}")) == len(expected.windows)
    summary = read(outdir / f"summary.{fmt}")
    assert summary["cost"].sum() == pytest.approx(expected.messages.cost.sum())


def test_classify_reads_webhook_json_lines(tmp_path):
    outdir = tmp_path / "out"
    assert quietly(["classify", examples.webhooks(), "-o", str(outdir), "-q"]) == 0
    messages = pd.read_parquet(outdir / "messages.parquet")
    assert len(messages) == len(waconv.read_webhooks(examples.webhooks()))
    assert "meta_pricing_category" in messages.columns


def test_summary_table_and_meta_json(example_csv, capsys):
    assert quietly(["summary", str(example_csv), "--granularity", "MONTHLY", "--dimensions", "PRICING_CATEGORY", "-q"]) == 0
    table = capsys.readouterr().out
    assert "pricing_analytics" in table and "conversation_analytics" in table
    assert quietly(["summary", str(example_csv), "--json", "--granularity", "MONTHLY", "-q"]) == 0
    responses = json.loads(capsys.readouterr().out)
    assert set(responses) == {"waba-br", "waba-global"}
    for response in responses.values():
        points = response["pricing_analytics"]["data"][0]["data_points"]
        assert points and all(isinstance(p["start"], int) and p["end"] > p["start"] for p in points)


def test_compare_prints_each_model(example_csv, tmp_path):
    out = tmp_path / "compare.csv"
    assert quietly(["compare", str(example_csv), "--rules", "pmp_v1", "-o", str(out), "-q"]) == 0
    table = pd.read_csv(out)
    assert set(table.rules) == {"auto", "pmp_v1"}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pmp = waconv.classify(examples.log(), rules="pmp_v1")
    assert table[table.rules == "pmp_v1"].cost.sum() == pytest.approx(pmp.messages.cost.sum())


def test_reconcile_command_on_the_webhook_dump(tmp_path):
    done = run("reconcile", examples.webhooks(), "-o", str(tmp_path / "rec"), "-q")
    assert done.returncode == 0, done.stderr
    assert "messages compared" in done.stdout
    assert (tmp_path / "rec" / "disagreements.csv").exists()


def test_each_command_has_help():
    for command in ("demo", "classify", "summary", "compare", "reconcile"):
        done = run(command, "--help")
        assert done.returncode == 0 and "usage: waconv " + command in done.stdout


@pytest.mark.parametrize(
    "content, name, expected",
    [
        ("business,user,timestamp,direction\nb1,+5511987654321,2025-08-01T10:00:00Z,sideways\n", "bad.csv",
         "column 'direction', row 0"),
        ("business,user,direction\nb1,+5511987654321,inbound\n", "missing.csv", "column 'timestamp'"),
        ("PAR1 this is not parquet", "broken.parquet", "not a readable Parquet file"),
        ('{"object": "whatsapp_business_account", "entry": [\n', "broken.jsonl", "line 1"),
        ("a,b\n1,2\n", "log.xlsx", "pass --input-format"),
    ],
)
def test_bad_input_exits_2_with_one_line(content, name, expected, tmp_path):
    path = tmp_path / name
    path.write_text(content)
    done = run("classify", str(path), "-o", str(tmp_path / "out"), "-q")
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    errors = [line for line in done.stderr.splitlines() if line.startswith("waconv:") and "warning" not in line]
    assert len(errors) == 1 and expected in errors[0], done.stderr


def test_missing_file_and_bad_option_values_exit_2(tmp_path):
    missing = run("summary", str(tmp_path / "nope.csv"))
    assert missing.returncode == 2 and "no such file" in missing.stderr and "Traceback" not in missing.stderr
    bad_zone = run("summary", examples.webhooks(), "--timezone", "Europe/Berlin")
    assert bad_zone.returncode == 2 and "expected KEY=VALUE" in bad_zone.stderr


def test_usage_error_exits_2():
    assert run("frobnicate").returncode == 2


def test_summary_json_of_a_log_with_nothing_to_count(tmp_path):
    path = tmp_path / "inbound.csv"
    path.write_text("business,user,timestamp,direction\nb1,+5511987654321,2025-08-01T10:00:00Z,inbound\n")
    done = run("summary", str(path), "--json", "-q")
    assert done.returncode == 0, done.stderr
    response = json.loads(done.stdout)
    assert response["pricing_analytics"]["data"][0]["data_points"] == []
