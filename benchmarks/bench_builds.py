"""Classify the same log under two builds of waconv, interleaved, to measure what a change costs.

    python benchmarks/bench_builds.py --before /tmp/base --after python --rows 10000000 --rounds 3

`--before` and `--after` are directories holding a `waconv` package (e.g. a copy of
`python/` taken before the change, with its built `_core` extension). Each round runs one
fresh process per build, alternating which goes first, and each process runs
its own measurement (`--repeat` runs, priced and unpriced alternating, on
`synthetic_log.make_log(rows)`). Machine load drifts over minutes, so interleaving
rounds and reporting every round's figures (best of each process) shows the spread a
single pair of runs would hide. The change's cost is reported as the range of the per-round
ratios after / before.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent

_FIGURES = {  # label -> (which measurement, where in its JSON)
    "classify (priced)": ("priced", "seconds_best"),
    "classify(price=False)": ("unpriced", "seconds_best"),
    "core (scan + allowances)": ("unpriced", "core"),
    "scan": ("unpriced", "scan"),
}


# Run in the measured build's own process: only waconv.classify and result.timings, which
# every build since 2026-11 has, so the same measurement serves old and new builds alike.
_MEASURE = """
import json, sys, time, warnings
sys.path.insert(0, sys.argv[1])
import waconv
from synthetic_log import make_log
rows, repeat, threads, out = int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
warnings.simplefilter("ignore")
waconv.classify(make_log(5_000, seed=1))
log = make_log(rows, seed=0)
best = {}
for _ in range(repeat):
    for priced in (True, False):
        started = time.perf_counter()
        result = waconv.classify(log, price=priced, threads=threads)
        seconds = time.perf_counter() - started
        key = "priced" if priced else "unpriced"
        if key not in best or seconds < best[key]["seconds_best"]:
            best[key] = {"seconds_best": seconds, "timings_best": dict(result.timings)}
json.dump(best, open(out, "w"))
"""


def _measure(package_dir: Path, rows: int, repeat: int, threads: int) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "result.json"
        env = {**os.environ, "PYTHONPATH": str(package_dir.resolve())}
        subprocess.run([sys.executable, "-c", _MEASURE, str(HERE), str(rows), str(repeat), str(threads), str(out)],
                       check=True, env=env)
        return json.loads(out.read_text())


def _figure(result: dict, which: str, key: str) -> float:
    part = result[which]
    if key == "seconds_best":
        return float(part["seconds_best"])
    return float(part["timings_best"][key])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", type=Path, required=True)
    parser.add_argument("--after", type=Path, required=True)
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--threads", type=int, default=0)
    args = parser.parse_args()
    builds = {"before": args.before, "after": args.after}
    rounds: list[dict[str, dict]] = []
    for k in range(args.rounds):
        order = ["before", "after"] if k % 2 == 0 else ["after", "before"]
        rounds.append({name: _measure(builds[name], args.rows, args.repeat, args.threads) for name in order})
        print(f"round {k + 1}/{args.rounds} done", file=sys.stderr)
    print(f"{args.rows:,} rows, {args.rounds} interleaved rounds, best of {args.repeat} runs per process")
    for label, (which, key) in _FIGURES.items():
        before = [_figure(r["before"], which, key) for r in rounds]
        after = [_figure(r["after"], which, key) for r in rounds]
        ratios = [a / b - 1 for a, b in zip(after, before)]
        print(f"  {label:<28} before {min(before):.3f}-{max(before):.3f} s  after {min(after):.3f}-{max(after):.3f} s"
              f"  change per round {min(ratios):+.1%} .. {max(ratios):+.1%}")


if __name__ == "__main__":
    main()
