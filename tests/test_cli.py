"""The command line: `waconv demo` classifies the shipped log and prints a summary."""

from __future__ import annotations

import shutil
import subprocess
import sys

import pytest

from waconv import cli


def test_demo_prints_every_era_and_the_windows(capsys):
    assert cli.main(["demo"]) == 0
    out = capsys.readouterr().out
    for era in ("cbp_v1", "cbp_v2", "pmp_v1", "pmp_v2"):
        assert era in out
    assert "webhook duplicates marked" in out and "customer_service" in out and "free_entry_point" in out


def test_demo_numbers_match_the_result():
    result = cli.classify(cli.example_log(), timezones=cli.EXAMPLE_TIMEZONES)
    report = cli.demo_report(result)
    assert f"{len(result.messages):,} rows ({result.n_duplicates} webhook duplicates" in report
    violations = int(result.messages.policy_violation.sum())
    assert f"(Meta error 131047): {violations}" in report


def test_installed_entry_point_runs():
    exe = shutil.which("waconv")
    if exe is None:
        pytest.fail("the waconv console script is not installed")
    run = subprocess.run([exe, "demo"], capture_output=True, text=True, check=True)
    assert "CBP conversations by era and category" in run.stdout


def test_usage_error_exits_2():
    run = subprocess.run([sys.executable, "-m", "waconv.cli", "frobnicate"], capture_output=True, text=True)
    assert run.returncode == 2
