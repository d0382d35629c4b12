"""The command line: every command, every input format, and one-line errors with exit code 2."""

from __future__ import annotations

import argparse
import io
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
from waconv.cli.main import build_parser, progress_bar
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


def run(*args: str, stdin=None, cwd=None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "waconv.cli", *args], capture_output=True, text=True,
                          stdin=stdin, cwd=cwd)


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


# --- Command-line conventions: --version, `-`, -o formats, --tz, option errors, help, warnings ---


def expected_classification():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return waconv.classify(examples.log())


def feed_stdin(monkeypatch, data: bytes) -> None:
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(data)))


def option_error_lines(done: subprocess.CompletedProcess) -> list[str]:
    return [line for line in done.stderr.splitlines() if "warning" not in line]


def test_version_prints_the_package_version():
    done = run("--version")
    assert done.returncode == 0
    assert done.stdout == f"waconv {waconv.__version__}\n"


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_summary_reads_a_sniffed_log_from_standard_input(fmt, example_csv, example_parquet, monkeypatch, capsys):
    feed_stdin(monkeypatch, (example_csv if fmt == "csv" else example_parquet).read_bytes())
    assert quietly(["summary", "-", "-q", "-o", "-"]) == 0
    table = pd.read_csv(io.StringIO(capsys.readouterr().out))
    assert table["cost"].sum() == pytest.approx(expected_classification().messages.cost.sum())


def test_webhook_json_lines_on_standard_input_are_sniffed(tmp_path):
    outdir = tmp_path / "out"
    with open(examples.webhooks(), "rb") as dump:
        done = run("classify", "-", "-o", str(outdir), "-q", stdin=dump)
    assert done.returncode == 0, done.stderr
    messages = pd.read_parquet(outdir / "messages.parquet")
    assert len(messages) == len(waconv.read_webhooks(examples.webhooks()))
    assert "meta_pricing_category" in messages.columns


def test_standard_input_with_an_explicit_format_beside_a_file(example_csv, tmp_path, monkeypatch, capsys):
    log = pd.read_csv(example_csv, dtype=str)
    half = len(log) // 2
    first, second = tmp_path / "first.csv", tmp_path / "second.csv"
    log.iloc[:half].to_csv(first, index=False)
    log.iloc[half:].to_csv(second, index=False)
    feed_stdin(monkeypatch, first.read_bytes())
    assert quietly(["compare", "-", str(second), "--input-format", "csv", "--rules", "pmp_v1", "-q", "-o", "-"]) == 0
    halves = pd.read_csv(io.StringIO(capsys.readouterr().out))
    assert quietly(["compare", str(example_csv), "--rules", "pmp_v1", "-q", "-o", "-"]) == 0
    whole = pd.read_csv(io.StringIO(capsys.readouterr().out))
    assert len(halves) == len(whole) > 0
    assert halves["cost"].sum() == pytest.approx(whole["cost"].sum())


def test_a_malformed_standard_input_is_named_stdin(tmp_path):
    broken = tmp_path / "broken.jsonl"
    broken.write_text('{"object": "whatsapp_business_account", "entry": [\n')
    with open(broken, "rb") as handle:
        done = run("summary", "-", "-q", stdin=handle)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    lines = done.stderr.splitlines()
    assert len(lines) == 1 and "file '<stdin>', line 1" in lines[0], done.stderr
    assert "waconv-stdin-" not in done.stderr


def test_standard_input_given_twice_is_an_argument_error(example_csv):
    with open(example_csv, "rb") as handle:
        done = run("summary", "-", "-", "-q", stdin=handle)
    assert done.returncode == 2
    assert option_error_lines(done) == ["waconv summary: error: argument input: '-' (standard input) can be given only once"]


def test_classify_to_standard_output_writes_the_messages_as_csv(example_csv, tmp_path):
    done = run("classify", str(example_csv), "-o", "-", "-q", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    expected = expected_classification()
    messages = pd.read_csv(io.StringIO(done.stdout))
    assert len(messages) == len(expected.messages)
    assert messages["cost"].sum() == pytest.approx(expected.messages.cost.sum())
    assert f"{len(expected.messages):,} messages" in done.stderr  # the counts stay off the data
    assert not (tmp_path / "-").exists()


def test_classify_to_standard_output_honours_an_asked_format(example_csv, monkeypatch, capsysbinary):
    assert quietly(["classify", str(example_csv), "-o", "-", "-q", "--output-format", "parquet"]) == 0
    messages = pq.read_table(io.BytesIO(capsysbinary.readouterr().out)).to_pandas()
    assert len(messages) == len(expected_classification().messages)


def test_reconcile_to_standard_output_writes_the_disagreements(tmp_path):
    done = run("reconcile", examples.webhooks(), "-o", "-", "-q", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    disagreements = pd.read_csv(io.StringIO(done.stdout))
    outcome = waconv.reconcile(waconv.classify(waconv.read_webhooks(examples.webhooks())))
    assert len(disagreements) == len(outcome.disagreements) > 0
    assert "messages compared" in done.stderr and not (tmp_path / "-").exists()


@pytest.mark.parametrize("name", ["summary.csv", "summary.parquet", "summary.json", "summary.txt"])
def test_summary_writes_the_format_of_the_extension(name, example_csv, tmp_path):
    path = tmp_path / name
    assert quietly(["summary", str(example_csv), "-q", "--granularity", "MONTHLY", "-o", str(path)]) == 0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expected = waconv.classify(examples.log()).summary(granularity="MONTHLY")
    if name.endswith(".csv"):
        table = pd.read_csv(path)
    elif name.endswith(".parquet"):
        table = pd.read_parquet(path)
    elif name.endswith(".json"):
        table = pd.DataFrame(json.loads(path.read_text()))
    else:
        assert path.read_text() == expected.to_string(index=False) + "\n"
        return
    assert len(table) == len(expected)
    assert table["cost"].sum() == pytest.approx(expected["cost"].sum())


def test_summary_json_file_keeps_the_zone_of_tz(example_csv, tmp_path):
    path = tmp_path / "summary.json"
    assert quietly(["summary", str(example_csv), "-q", "--tz", "America/Sao_Paulo", "-o", str(path)]) == 0
    rows = json.loads(path.read_text())
    assert rows and all(row["start"].endswith("T00:00:00-03:00") for row in rows)


def test_tz_takes_any_iana_zone(example_csv, capsys):
    assert quietly(["summary", str(example_csv), "-q", "--tz", "Asia/Tokyo", "-o", "-"]) == 0
    table = pd.read_csv(io.StringIO(capsys.readouterr().out))
    assert table["start"].str.endswith(" 00:00:00+09:00").all()


def test_summary_json_to_standard_output(example_csv, capsys):
    assert quietly(["summary", str(example_csv), "-q", "--json", "--granularity", "MONTHLY", "-o", "-"]) == 0
    assert set(json.loads(capsys.readouterr().out)) == {"waba-br", "waba-global"}


@pytest.mark.parametrize("command", ["summary", "compare"])
def test_an_unknown_output_extension_is_an_option_error(command, example_csv, tmp_path):
    target = tmp_path / "table.xlsx"
    done = run(command, str(example_csv), "-q", "-o", str(target))
    assert done.returncode == 2
    lines = option_error_lines(done)
    assert len(lines) == 1 and lines[0].startswith(f"waconv {command}: error: option --output: "), done.stderr
    assert ".parquet" in lines[0] and not target.exists()


@pytest.mark.parametrize(
    "command, options, expected",
    [
        ("summary", ["--tz", "Mars/Olympus_Mons"], "option --tz: unknown time zone 'Mars/Olympus_Mons'"),
        ("classify", ["-o", "out", "--tz", "utc+3"], "option --tz: unknown time zone 'utc+3'"),
        ("summary", ["--timezone", "waba-br=Bad/Zone"], "option --timezone: unknown time zone 'Bad/Zone'"),
        ("compare", ["--timezone", "waba-br=Bad/Zone"], "option --timezone: unknown time zone 'Bad/Zone'"),
        ("reconcile", ["--timezone", "waba-br=../etc"], "option --timezone: unknown time zone '../etc'"),
        ("classify", ["-o", "out", "--timezone", "Europe/Berlin"], "option --timezone: expected KEY=VALUE"),
        ("summary", ["--column", "sender=from"], "option --column: 'sender' is not a waconv column"),
        ("compare", ["--column", "user"], "option --column: expected KEY=VALUE"),
        ("summary", ["--dimensions", "COLOUR"], "option --dimensions: unknown dimension 'COLOUR'"),
        ("summary", ["--json", "-o", "meta.csv"], "option --output: --json writes Meta's JSON layout"),
    ],
)
def test_option_errors_name_the_option_like_argparse(command, options, expected, example_csv, tmp_path):
    done = run(command, str(example_csv), "-q", *options, cwd=tmp_path)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    lines = option_error_lines(done)
    assert len(lines) == 1 and lines[0].startswith(f"waconv {command}: error: {expected}"), done.stderr
    assert "column '-" not in done.stderr


def test_every_option_of_every_command_has_help():
    parser = build_parser()
    parsers = {"waconv": parser}
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            parsers.update(action.choices)
    assert set(parsers) == {"waconv", "demo", "classify", "summary", "compare", "reconcile", "explain"}
    missing = [f"{name} {action.dest}" for name, sub in parsers.items() for action in sub._actions
               if not isinstance(action, argparse._HelpAction) and not (action.help or "").strip()]
    assert not missing, missing


class Terminal(io.StringIO):
    """A stderr that says it is a terminal, so that tqdm draws its bar."""

    def isatty(self) -> bool:
        return True


def test_warnings_print_through_the_progress_bar(example_csv, monkeypatch):
    terminal = Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    with warnings.catch_warnings():
        warnings.simplefilter("always")
        assert cli.main(["summary", str(example_csv), "-o", str(example_csv.parent / "summary.csv")]) == 0
    written = terminal.getvalue()
    assert "%|" in written  # the bar was drawn
    warning_lines = [line.rsplit("\r", 1)[-1] for line in written.split("\n") if "warning:" in line]
    assert warning_lines, written
    assert all(line.startswith("waconv: warning: ") for line in warning_lines), warning_lines


def test_progress_bar_routes_warnings_only_while_it_is_up(capsys):
    seen = []
    with warnings.catch_warnings():
        warnings.simplefilter("always")
        warnings.showwarning = lambda message, *rest, **kw: seen.append(str(message))
        with progress_bar(argparse.Namespace(quiet=True), ["one"]):
            warnings.warn("during the bar", waconv.WaconvWarning)
        warnings.warn("after the bar", waconv.WaconvWarning)
    assert capsys.readouterr().err == "waconv: warning: during the bar\n"
    assert seen == ["after the bar"]


def test_webhook_demo_with_nothing_compared_reports_no_agreement_rate():
    from waconv.cli.demo import webhook_report

    events = waconv.read_webhooks(waconv.examples.webhooks())
    for column in [c for c in events.columns if c.startswith("meta_")]:
        events[column] = None  # a dump whose statuses carry no pricing object
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = waconv.classify(events)
    report = webhook_report(events, result, waconv.reconcile(result))
    assert "0 messages compared, nothing to agree on." in report
    assert "nan%" not in report and "agree." not in report.replace("nothing to agree on.", "")
