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


def test_one_line_says_which_periods_and_markets_another_card_prices():
    run = subprocess.run([sys.executable, "-m", "waconv.cli", "demo"], stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT, text=True, check=True)
    lines = [line for line in run.stdout.splitlines() if "another card" in line]
    assert len(lines) == 1
    line = lines[0]
    # The example's 2023-24 CBP traffic outside the June-2023 card's three markets, and its
    # summer-2026 Indonesian authentication (no July-2026 source): period, markets, source.
    assert "USD CBP 2023-06..2024-09: Rest of Latin America, Brazil" in line
    assert "(rates of USD CBP 2024-10-01)" in line
    assert "USD PMP 2026-07..2026-09: Indonesia (rates of USD PMP 2026-04-01)" in line
    assert line.startswith("waconv: warning: 407 charged units are priced from another card")
