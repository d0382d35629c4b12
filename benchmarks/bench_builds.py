"""Classify the same log under two builds of waconv, interleaved, to measure what a change costs.

    python benchmarks/bench_builds.py --before /tmp/base --after python --rows 10000000 --rounds 3

`--before` and `--after` are directories holding a `waconv` package (e.g. a copy of
`python/` taken before the change, with its built `_core` extension). Each round runs one
fresh process per build, alternating which goes first, and each process runs
`bench_classify.py`'s waconv measurement (`--repeat` runs, priced and unpriced alternating,
on `synthetic_log.make_log(rows)`). Machine load drifts over minutes, so interleaving
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


def _measure(package_dir: Path, rows: int, repeat: int, threads: int) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "result.json"
        code = ("import sys; sys.path.insert(0, sys.argv[1]); import bench_classify as b; "
                "b._worker('waconv', int(sys.argv[2]), 0, int(sys.argv[3]), int(sys.argv[4]), 'us', 'both', sys.argv[5])")
        env = {**os.environ, "PYTHONPATH": str(package_dir.resolve())}
        subprocess.run([sys.executable, "-c", code, str(HERE), str(rows), str(repeat), str(threads), str(out)],
                       check=True, env=env)
        return json.loads(out.read_text())


def _figure(result: dict, which: str, key: str) -> float:
    part = result if which == "priced" else result["unpriced"]
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
