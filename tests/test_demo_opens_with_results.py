"""`waconv demo` opens with what it computed; the shipped cards' gaps come after (issue #14)."""

from __future__ import annotations

import subprocess
import sys


def test_demo_prints_its_report_before_any_warning():
    run = subprocess.run([sys.executable, "-m", "waconv.cli", "demo"], stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT, text=True, check=True)
    lines = run.stdout.splitlines()
    assert lines[0].startswith("Example log: ")
    bill = next(i for i, line in enumerate(lines) if line.startswith("This log cost "))
    warned = [i for i, line in enumerate(lines) if line.startswith("waconv: warning:")]
    assert warned, "the example's card gaps are still reported"
    assert min(warned) > bill


def test_demo_keeps_the_filters_in_force():
    run = subprocess.run([sys.executable, "-W", "ignore", "-m", "waconv.cli", "demo"], capture_output=True,
                         text=True, check=True)
    assert run.stderr == ""
    assert run.stdout.startswith("Example log: ")
