"""Daily runs with carried state against one call over the same rows.

A synthetic log (`waconv.synthetic.events`, pmp_v2 from 2026-10-01 so the service allowance
and Meta's volume tiers count) is cut at UTC midnights by effective time into daily batches.
Each round runs, in fresh subprocesses one after the other (the machine is shared, so rounds
interleave the two): `one` classifies the whole log at once; `daily` classifies the batches
in order, each with the state of the day before read back from its bytes. Reported: rows/s,
CPU seconds (all threads; steadier than wall time on a shared machine), peak RSS of each process, the state's size and carried rows per day, and with --check that
every row of days 2.. got the same per-message verdict as in the one call.

    python benchmarks/bench_state.py --users 1000000 --days 10 --repeat 2 --check
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
import warnings

import numpy as np
import pandas as pd

import waconv

COMPARED = ["user_key", "era", "pricing_category", "pricing_type", "opens_conversation", "csw_open",
            "policy_violation", "duplicate", "market", "tier", "cost"]


def daily_batches(users: int, days: int, seed: int) -> list[pd.DataFrame]:
    log = waconv.synthetic.events(n_users=users, days=days, start="2026-10-01", seed=seed)
    delivered = log["delivered_at"].where(log["status"].isin(["delivered", "read"]))
    effective = delivered.where(delivered.notna(), log["timestamp"])
    day = ((effective - pd.Timestamp("2026-10-01", tz="UTC")) // pd.Timedelta(days=1)).to_numpy()
    return [log[day == d].reset_index(drop=True) for d in np.unique(day)]


def run(mode: str, users: int, days: int, seed: int, check: bool) -> dict:
    batches = daily_batches(users, days, seed)
    rows = sum(len(b) for b in batches)
    warnings.simplefilter("ignore")
    out: dict = {"mode": mode, "rows": rows, "days": len(batches)}
    if mode == "one":
        whole = pd.concat(batches, ignore_index=True)
        started, cpu = time.perf_counter(), time.process_time()
        result = waconv.classify(whole, timezones=waconv.synthetic.TIMEZONES)
        out["seconds"] = time.perf_counter() - started
        out["cpu_seconds"] = time.process_time() - cpu
        started = time.perf_counter()
        out["state_bytes"] = len(result.state.to_bytes())
        out["state_seconds"] = time.perf_counter() - started
        if check:
            result.messages[COMPARED].to_parquet(f"/tmp/bench_state_one_{seed}.parquet")
    else:
        state, seconds, sizes, carried, per_day = None, 0.0, [], [], []
        kept = []
        cpu = time.process_time()
        for batch in batches:
            started = time.perf_counter()
            result = waconv.classify(batch, timezones=waconv.synthetic.TIMEZONES, state=state)
            data = result.state.to_bytes()
            state = waconv.State.from_bytes(data)
            elapsed = time.perf_counter() - started
            seconds += elapsed
            per_day.append(round(elapsed, 2))
            sizes.append(len(data))
            carried.append(state.carried_rows)
            if check:
                kept.append(result.messages[COMPARED])
        out.update(seconds=seconds, cpu_seconds=time.process_time() - cpu, per_day_seconds=per_day,
                   state_bytes=sizes, carried_rows=carried)
        if check:
            one = pd.read_parquet(f"/tmp/bench_state_one_{seed}.parquet")
            daily = pd.concat(kept, ignore_index=True)
            first = len(batches[0])
            mismatched = {}
            for name in COMPARED:
                a = one[name].iloc[first:].astype(object).fillna("<null>").to_numpy()
                b = daily[name].iloc[first:].astype(object).fillna("<null>").to_numpy()
                mismatched[name] = int((a != b).sum())
            out["mismatched_rows_after_day_1"] = mismatched
    out["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    out["rows_per_second"] = rows / out["seconds"]
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=100_000, help="about one row per user per day")
    parser.add_argument("--days", type=int, default=10)
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--check", action="store_true", help="compare the daily verdicts with the one call's")
    parser.add_argument("--mode", choices=("one", "daily"), help=argparse.SUPPRESS)  # one subprocess's part
    args = parser.parse_args()
    if args.mode:
        print(json.dumps(run(args.mode, args.users, args.days, args.seed, args.check)))
        return
    results: dict[str, list[dict]] = {"one": [], "daily": []}
    for _ in range(args.repeat):
        for mode in ("one", "daily"):
            command = [sys.executable, __file__, "--mode", mode, "--users", str(args.users), "--days", str(args.days),
                       "--seed", str(args.seed)] + (["--check"] if args.check else [])
            done = subprocess.run(command, capture_output=True, text=True, check=True)
            results[mode].append(json.loads(done.stdout.strip().splitlines()[-1]))
            print(json.dumps(results[mode][-1]), flush=True)
    for mode, runs in results.items():
        speed = [r["rows_per_second"] for r in runs]
        rss = [r["peak_rss_mb"] for r in runs]
        cpu = [r["cpu_seconds"] for r in runs]
        print(f"{mode:>5}: {runs[0]['rows']:,} rows in {runs[0]['days']} days, "
              f"{min(speed):,.0f}-{max(speed):,.0f} rows/s, CPU {min(cpu):.1f}-{max(cpu):.1f} s, "
              f"peak RSS {min(rss):,.0f}-{max(rss):,.0f} MB")
    sizes = results["daily"][0]["state_bytes"]
    carried = results["daily"][0]["carried_rows"]
    print(f"state: {min(sizes) / 1e6:.1f}-{max(sizes) / 1e6:.1f} MB, {min(carried):,}-{max(carried):,} carried rows")


if __name__ == "__main__":
    main()
