"""What identity linking (user_phone + user_bsuid) costs `classify`, against `user` alone.

Since April 2026 every webhook carries the user's BSUID and only some carry the phone
number, so real logs have both columns. This takes the benchmark log of
`synthetic_log.make_log`, gives every user a BSUID, keeps the phone number on a share of
the rows only, and times `classify(price=False)` on the same rows with `user` alone and
with `user_phone` + `user_bsuid`, interleaved in one process (the machine is shared).

    python benchmarks/bench_identity.py --rows 10000000 --repeat 3
"""

from __future__ import annotations

import argparse
import resource
import time

import numpy as np
import pandas as pd

import waconv
from synthetic_log import make_log


def with_identities(log: pd.DataFrame, phone_share: float, seed: int) -> pd.DataFrame:
    """`log` with user_phone on `phone_share` of the rows and user_bsuid on every row."""
    codes, phones = pd.factorize(log["user"])
    rng = np.random.default_rng(seed)
    digits = rng.integers(10**17, 10**18, size=len(phones)).astype(str)
    bsuids = pd.Index(np.char.add("BR.", digits))
    keep_phone = rng.random(len(log)) < phone_share
    return log.assign(
        user_phone=pd.Series(np.where(keep_phone, log["user"].to_numpy(dtype=object), None), dtype="str"),
        user_bsuid=pd.Series(bsuids.take(codes), dtype="str"),
    )


def timed(frame: pd.DataFrame) -> dict[str, float]:
    started = time.perf_counter()
    result = waconv.classify(frame, price=False)
    total = time.perf_counter() - started
    return {"total": total, "prepare": result.timings["prepare"], "users": result.messages["user_key"].nunique()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3, help="rounds; each round times both inputs once")
    parser.add_argument("--phone-share", type=float, default=0.5, help="share of rows that carry the phone number")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    log = make_log(args.rows, seed=args.seed)
    linked = with_identities(log, args.phone_share, args.seed).drop(columns=["user"])
    runs: dict[str, list[dict[str, float]]] = {"user only": [], "user_phone + user_bsuid": []}
    for _ in range(args.repeat):
        runs["user only"].append(timed(log))
        runs["user_phone + user_bsuid"].append(timed(linked))
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    print(f"{args.rows:,} rows, phone number on {args.phone_share:.0%} of them; {args.repeat} interleaved rounds")
    for name, found in runs.items():
        totals = [r["total"] for r in found]
        prepares = [r["prepare"] for r in found]
        print(f"  {name:<24} total {min(totals):.2f}-{max(totals):.2f} s, prepare {min(prepares):.2f}-{max(prepares):.2f} s, "
              f"{int(found[0]['users']):,} users")
    print(f"  peak RSS of the process: {peak / 2**30:.2f} GiB")


if __name__ == "__main__":
    main()
