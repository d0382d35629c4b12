"""Running one fuzz target in a child process, so a crash or a hang cannot take pytest down.

Kept free of waconv, hypothesis and the other fuzz modules: pytest imports it, the child
(``python -m tests.fuzz.run --worker``) does the work. The child writes each case's source
to ``last_case.py`` before running it, and its report (``report.json``) after each new
finding, so after a crash the case that crashed and everything found before are known.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
TARGETS = ("classify", "webhooks", "sunshine", "rate_card", "tiers")

# CI profile: a fixed seed and a fixed number of cases per target (5-20 s each on a shared
# 2-core machine; twice that when the machine is busy); "limit" (seconds) is only a safety
# net against a very slow machine: cases left when it is reached are not run.
CI = {
    "classify": {"examples": 240, "limit": 120},
    "webhooks": {"examples": 120, "limit": 90},
    "sunshine": {"examples": 150, "limit": 90},
    "rate_card": {"examples": 150, "limit": 90},
    "tiers": {"examples": 150, "limit": 90},
}
CI_SEED = 20261201
CASE_TIMEOUT = 60  # seconds one case may take before it counts as a hang


@dataclass
class Outcome:
    target: str
    returncode: int | None
    report: dict = field(default_factory=dict)
    crash: dict | None = None  # {"kind": "crash"|"hang", "signal"/"seconds", "source", "stderr"}
    seconds: float = 0.0

    @property
    def findings(self) -> list[dict]:
        return self.report.get("findings", [])


def run_worker(target: str, workdir: Path, *, profile: str = "ci", seed: int | None = None,
               examples: int | None = None, seconds: float | None = None, shrink: bool = False,
               timeout: float | None = None, skip: int = 0, shrink_seconds: float = 60.0) -> Outcome:
    """Runs `target` in a child; its crash (signal, abort, hang) becomes Outcome.crash."""
    workdir.mkdir(parents=True, exist_ok=True)
    report, last = workdir / "report.json", workdir / "last_case.py"
    for path in (report, last):
        path.unlink(missing_ok=True)
    settings = CI[target]
    command = [sys.executable, "-X", "faulthandler", "-m", "tests.fuzz.run", "--worker", "--target", target,
               "--profile", profile, "--seed", str(CI_SEED if seed is None else seed),
               "--examples", str(settings["examples"] if examples is None else examples),
               "--seconds", str(settings["limit"] if seconds is None else seconds),
               "--report", str(report), "--last-case", str(last)]
    if shrink:
        command += ["--shrink", "--shrink-seconds", str(shrink_seconds)]
    if skip:
        command += ["--skip", str(skip)]
    started = time.monotonic()
    limit = timeout if timeout is not None else (settings["limit"] if seconds is None else seconds) + CASE_TIMEOUT + 60
    stderr_path = workdir / "stderr.txt"
    with open(stderr_path, "wb") as stderr:
        process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=stderr,
                                   env={**os.environ, "PYTHONFAULTHANDLER": "1"})
        try:
            code = process.wait(limit)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
            code = None
    outcome = Outcome(target, code, seconds=time.monotonic() - started)
    if report.exists():
        try:
            outcome.report = json.loads(report.read_text(encoding="utf-8"))
        except ValueError:
            outcome.report = {}
    if code != 0 or not outcome.report.get("finished"):
        stderr_text = stderr_path.read_text(encoding="utf-8", errors="replace")[-6000:]
        source = last.read_text(encoding="utf-8", errors="replace") if last.exists() else "(no case started)"
        if code is None:
            kind, how = "hang", f"killed after {limit:.0f} s"
        elif code < 0:
            kind, how = "crash", f"killed by {signal.Signals(-code).name}"
        elif "Timeout (0:" in stderr_text:
            kind, how = "hang", f"one case ran over {CASE_TIMEOUT} s"
        else:
            kind, how = "crash", f"exit code {code}"
        number = None
        if source.startswith("# target="):
            number = int(source.split("case=", 1)[1].split()[0])
        outcome.crash = {"kind": kind, "how": how, "source": source, "stderr": stderr_text,
                         "seed": CI_SEED if seed is None else seed, "case_number": number}
    return outcome


@dataclass
class TargetOutcome:
    """One target's CI run, over as many children as crashes needed."""

    target: str
    findings: list[dict] = field(default_factory=list)
    crashes: list[dict] = field(default_factory=list)
    cases: int = 0
    user_raised: int = 0
    skipped_after_limit: int = 0
    seconds: float = 0.0
    outcomes: dict = field(default_factory=dict)


def run_target(target: str, workdir: Path, *, max_restarts: int = 5, **options) -> TargetOutcome:
    """A CI run of `target`: after a crash at case k, a new child resumes at case k + 1 (the
    cases are generated from the seed again, the first k are not run), so one crash does not
    hide the escapes after it."""
    total = TargetOutcome(target)
    skip = 0
    seen: set[str] = set()
    for attempt in range(max_restarts + 1):
        outcome = run_worker(target, workdir / f"run{attempt}", skip=skip, **options)
        total.seconds += outcome.seconds
        report = outcome.report
        total.cases += (report.get("cases") or 0)
        total.user_raised += (report.get("user_raised") or 0)
        total.skipped_after_limit += (report.get("skipped_after_deadline") or 0)
        for key, value in (report.get("outcomes") or {}).items():
            total.outcomes[key] = total.outcomes.get(key, 0) + value
        for finding in outcome.findings:
            if finding["signature"] not in seen:
                seen.add(finding["signature"])
                total.findings.append(finding)
        if not outcome.crash:
            break
        total.crashes.append(outcome.crash)
        number = outcome.crash.get("case_number")
        if number is None or number <= skip:
            break
        skip = number
    return total
