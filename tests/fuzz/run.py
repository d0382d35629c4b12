"""Fuzz waconv: ``python -m tests.fuzz.run --profile ci|long [--target NAME ...]``.

Profiles (see tests/README.md):

- ``ci``: per target a fixed seed and a fixed number of cases (launch.CI), the same cases
  on every run; what ``tests/fuzz/test_fuzz.py`` runs under pytest.
- ``long``: random seeds for ``--minutes`` in total (split over the targets), new kinds of
  escape shrunk to a small case; every finding is written to ``--out`` as a runnable
  reproducer (``<target>-<n>.py``) plus ``findings.json``.

Every target runs in a child process (``--worker``), restarted with a new seed after a
crash, so a segfault or an abort is reported with the case that caused it.
"""

from __future__ import annotations

import argparse
import faulthandler
import json
import os
import random
import sys
import time
from pathlib import Path

from tests.fuzz.launch import CASE_TIMEOUT, CI, CI_SEED, ROOT, TARGETS, run_target, run_worker


class _Hunted(Exception):
    """Raised for the kind of escape being shrunk (long profile with --shrink)."""


def _write_atomic(path: Path, text: str) -> None:
    temporary = path.with_suffix(path.suffix + ".tmp")
    temporary.write_text(text, encoding="utf-8")
    os.replace(temporary, path)


def worker(args: argparse.Namespace) -> int:
    """Runs one target in this process; the parent watches for crashes."""
    from hypothesis import HealthCheck, Phase, given, seed, settings

    from tests.fuzz.targets import OUTCOMES, TARGETS as IMPLEMENTED, Finding, UserRaised

    target = IMPLEMENTED[args.target]
    report_path, last_path = Path(args.report), Path(args.last_case)
    started = time.monotonic()
    deadline = started + args.seconds
    findings: dict[str, Finding] = {}
    stats = {"generated": 0, "cases": 0, "ok_or_input_error": 0, "user_raised": 0, "skipped_after_deadline": 0}
    seeds: list[int] = []
    state = {"hunting": None, "hunt_deadline": 0.0}

    def save(finished: bool = False) -> None:
        report = {"target": args.target, "profile": args.profile, "seeds": seeds, "finished": finished,
                  "seconds": round(time.monotonic() - started, 2), "skip": args.skip, **stats,
                  "outcomes": dict(OUTCOMES), "findings": [f.as_dict() for f in findings.values()]}
        _write_atomic(report_path, json.dumps(report, indent=1, default=str))

    def one_case(case) -> None:
        stats["generated"] += 1
        number = stats["generated"]
        if number <= args.skip:  # resuming after a crash: these ran in an earlier child
            return
        now = time.monotonic()
        if now > deadline or (state["hunting"] and now > state["hunt_deadline"]):
            stats["skipped_after_deadline"] += 1
            return
        source = target.render(case)
        stats["cases"] += 1
        header = f"# target={args.target} seed={seeds[-1]} case={number}\n"
        last_path.write_text(header + target.reproducer(source), encoding="utf-8", errors="surrogateescape")
        faulthandler.dump_traceback_later(CASE_TIMEOUT, exit=True)
        try:
            found = target.execute(source)
        except UserRaised:
            stats["user_raised"] += 1
            return
        finally:
            faulthandler.cancel_dump_traceback_later()
        if not found:
            stats["ok_or_input_error"] += 1
            return
        hunted = False
        for finding in found:
            known = findings.get(finding.signature)
            if known is None:
                finding.source = target.reproducer(source, finding)
                finding.extra["seed"] = seeds[-1]
                findings[finding.signature] = finding
                save()
                if args.shrink and state["hunting"] is None:
                    state["hunting"] = finding.signature
                    state["hunt_deadline"] = time.monotonic() + args.shrink_seconds
                    hunted = True
            else:
                known.count += 1
                if finding.signature == state["hunting"]:
                    # Hypothesis replays ever smaller cases while shrinking: keep the latest.
                    if len(source) <= len(known.source):
                        known.source = target.reproducer(source, finding)
                        known.message = finding.message
                        known.detail = finding.detail
                    hunted = True
        if hunted:
            raise _Hunted(state["hunting"])

    strategy = target.strategy()
    phases = [Phase.generate, Phase.shrink] if args.shrink else [Phase.generate]
    chunk = args.examples if args.profile == "ci" else min(args.examples, 200)
    run_seed = args.seed
    while True:
        seeds.append(run_seed)
        state["hunting"] = None
        stats["generated"] = 0  # case numbers count from the start of this seed's run

        @seed(run_seed)
        @settings(max_examples=chunk, database=None, deadline=None, phases=phases, derandomize=False,
                  suppress_health_check=list(HealthCheck), report_multiple_bugs=False, print_blob=False)
        @given(strategy)
        def fuzz(case):
            one_case(case)

        try:
            fuzz()
        except _Hunted:
            pass
        except Exception as error:  # noqa: BLE001 - e.g. Flaky when a hunt ran out of time
            if not state["hunting"]:
                raise
            print(f"hunt ended: {type(error).__name__}", file=sys.stderr)
        hunted = state["hunting"]
        if hunted:
            findings[hunted].extra["shrunk"] = True
        save()
        if args.profile == "ci" and not hunted:
            break
        if time.monotonic() > deadline:
            break
        # ci: the same seed again, so the cases after the shrunk one still run (known kinds are not hunted)
        run_seed = random.randrange(2**32) if args.profile == "long" else run_seed
    save(finished=True)
    return 0


def _print_findings(target: str, findings: list[dict], out=sys.stdout) -> None:
    for f in findings:
        first = (f["message"].splitlines() or [""])[0]
        print(f"  [{target}] {f['kind']}: {f['signature']} (x{f['count']})\n      {first[:200]}", file=out)


def _crash_finding(name: str, crash: dict) -> dict:
    return {"target": name, "kind": crash["kind"], "signature": f"{name}: {crash['kind']} ({crash['how']})",
            "message": crash["how"], "detail": crash["stderr"][-3000:], "source": crash["source"], "count": 1,
            "extra": {"seed": crash["seed"], "case": crash.get("case_number")}}


def supervise(args: argparse.Namespace) -> int:
    """Runs each target in children: ci resumes after a crash, long restarts with a new seed
    until the target's share of --minutes is used."""
    targets = args.target or list(TARGETS)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    everything: list[dict] = []
    summary = []
    budget = args.minutes * 60 / len(targets)
    for name in targets:
        seen: set[str] = set()
        found: list[dict] = []
        if args.profile == "ci":
            total = run_target(name, out / "work" / name, seed=args.seed, examples=args.examples, shrink=args.shrink,
                               shrink_seconds=args.shrink_seconds)
            found = total.findings + [_crash_finding(name, c) for c in total.crashes]
            summary.append({"target": name, "seconds": round(total.seconds, 1), "cases": total.cases,
                            "user_raised": total.user_raised, "kinds_of_escape": len(found)})
            print(f"[{name}] {total.cases} cases in {total.seconds:.1f} s: {len(found)} kinds of escape", flush=True)
        else:
            started = time.monotonic()
            runs = 0
            while (left := budget - (time.monotonic() - started)) > 5:
                runs += 1
                outcome = run_worker(name, out / "work" / name, profile="long", seed=random.randrange(2**32),
                                     examples=10**9, seconds=left, shrink=not args.no_shrink,
                                     timeout=left + CASE_TIMEOUT + 120, shrink_seconds=args.shrink_seconds)
                new = [f for f in outcome.findings if f["signature"] not in seen]
                if outcome.crash:
                    crash = _crash_finding(name, outcome.crash)
                    same = next((f for f in found if f["signature"] == crash["signature"]), None)
                    if same is None:
                        new.append(crash)
                    else:  # the same kind of crash again: count it, keep the smaller case
                        same["count"] += 1
                        if len(crash["source"]) < len(same["source"]):
                            same.update(source=crash["source"], detail=crash["detail"], extra=crash["extra"])
                seen.update(f["signature"] for f in new)
                found += new
                report = outcome.report
                summary.append({"target": name, "run": runs, "seconds": round(outcome.seconds, 1),
                                "seeds": report.get("seeds"), "cases": report.get("cases"),
                                "user_raised": report.get("user_raised"), "kinds_of_escape": len(outcome.findings),
                                "crash": outcome.crash["how"] if outcome.crash else None})
                print(f"[{name}] run {runs}: {report.get('cases')} cases in {outcome.seconds:.1f} s, "
                      f"{len(new)} new kinds of escape" + (f", {outcome.crash['how']}" if outcome.crash else ""),
                      flush=True)
        _print_findings(name, found)
        everything += found
    for i, finding in enumerate(everything, 1):
        path = out / f"{finding['target']}-{i}.py"
        path.write_text(f"# {finding['signature']}\n{finding['source']}", encoding="utf-8", errors="surrogateescape")
        finding["file"] = str(path)
    _write_atomic(out / "findings.json", json.dumps({"profile": args.profile, "summary": summary,
                                                     "findings": everything}, indent=1, default=str))
    print(f"{len(everything)} kinds of escape; reproducers and findings.json in {out}")
    return 1 if everything else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.fuzz.run", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--profile", choices=("ci", "long"), default="ci")
    parser.add_argument("--target", action="append", choices=TARGETS,
                        help="a target to run (repeatable; default: all)")
    parser.add_argument("--minutes", type=float, default=10.0, help="long profile: total minutes over all targets")
    parser.add_argument("--seed", type=int, default=CI_SEED, help="ci profile: the seed")
    parser.add_argument("--examples", type=int, default=None, help="ci profile: cases per target (default: launch.CI)")
    parser.add_argument("--shrink", action="store_true", help="ci profile: shrink each new kind of escape")
    parser.add_argument("--no-shrink", action="store_true", help="long profile: do not shrink")
    parser.add_argument("--out", default=str(ROOT / "tests" / "fuzz" / "failures"),
                        help="where findings.json and the reproducers go")
    # the child's options
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--seconds", type=float, default=120.0, help=argparse.SUPPRESS)
    parser.add_argument("--shrink-seconds", type=float, default=60.0, help="at most this long shrinking one escape")
    parser.add_argument("--report", help=argparse.SUPPRESS)
    parser.add_argument("--last-case", help=argparse.SUPPRESS)
    parser.add_argument("--skip", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        args.target = args.target[0]
        if args.examples is None:
            args.examples = CI[args.target]["examples"]
        return worker(args)
    return supervise(args)


if __name__ == "__main__":
    sys.exit(main())
