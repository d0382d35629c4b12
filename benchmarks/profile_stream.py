"""Where classify_stream spends its time: cProfile of one run over a Parquet dataset (as
bench_stream.py writes it with --data), the functions of each pass by cumulative time.

    python benchmarks/profile_stream.py /work/data10m --partition-rows 4000000
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import resource
import time
import warnings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data")
    parser.add_argument("--partition-rows", type=int, default=4_000_000)
    parser.add_argument("--top", type=int, default=45)
    args = parser.parse_args()

    import waconv

    warnings.simplefilter("ignore")
    profile = cProfile.Profile()
    started = time.perf_counter()
    rows = 0
    profile.enable()
    for batch in waconv.classify_stream(args.data, partition_rows=args.partition_rows):
        rows += len(batch.messages)
    profile.disable()
    seconds = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
    print(f"{rows:,} rows in {seconds:.1f} s = {rows / seconds / 1e6:.2f} M rows/s, peak RSS {peak:.2f} GB")
    pstats.Stats(profile).sort_stats("cumulative").print_stats(args.top)


if __name__ == "__main__":
    main()
