"""waconv.classify_stream out of core: rows/s and peak RSS, against one in-memory classify.

The log is `synthetic_log.make_log` written as a Parquet dataset of `--chunk`-row files,
each chunk with its own seed (its pairs' rows interleave with the other chunks' in time,
so the dataset is not sorted by pair or by time, as a year of daily exports would be).
Each measurement runs in a fresh process, so its peak RSS is its own; the stream run
consumes every result batch (counts rows, sums the bill) but writes nothing.

    python benchmarks/bench_stream.py --rows 10000000 --repeat 2
    python benchmarks/bench_stream.py --rows 100000000 --no-memory-run   # the 100M-row run
"""

from __future__ import annotations

import argparse
import json
import math
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def write_dataset(directory: Path, rows: int, chunk: int) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    sys.path.insert(0, str(HERE))
    from synthetic_log import make_log

    directory.mkdir(parents=True, exist_ok=True)
    for k in range(math.ceil(rows / chunk)):
        n = min(chunk, rows - k * chunk)
        log = make_log(n, seed=k)
        pq.write_table(pa.Table.from_pandas(log, preserve_index=False), directory / f"part-{k:04d}.parquet")
        del log


def measure(kind: str, directory: str, partition_rows: int) -> dict:
    """One run in this process: the seconds and the result's size (peak RSS by the caller)."""
    import warnings

    import pyarrow.dataset as ds

    import waconv

    warnings.simplefilter("ignore")
    started = time.perf_counter()
    if kind == "stream":
        rows = batches = 0
        bill = 0.0
        for batch in waconv.classify_stream(directory, partition_rows=partition_rows):
            rows += len(batch.messages)
            bill += float(batch.messages["cost"].sum())
            batches += 1
    else:
        result = waconv.classify(ds.dataset(directory).to_table())
        rows, batches, bill = len(result.messages), 1, float(result.messages["cost"].sum())
    return {"kind": kind, "rows": rows, "batches": batches, "bill": bill, "seconds": time.perf_counter() - started}


def run_child(kind: str, directory: Path, partition_rows: int) -> dict:
    code = ("import json, resource, sys; sys.path.insert(0, %r); import bench_stream as b; "
            "out = b.measure(%r, %r, %d); "
            "out['peak_rss_gb'] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20; print(json.dumps(out))"
            % (str(HERE), kind, str(directory), partition_rows))
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--chunk", type=int, default=5_000_000, help="rows per Parquet file (and seed)")
    parser.add_argument("--partition-rows", type=int, default=4_000_000)
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--no-memory-run", action="store_true", help="skip the in-memory classify comparison")
    parser.add_argument("--data", type=Path, help="reuse (or keep) the generated dataset here")
    parser.add_argument("--results", type=Path, default=HERE / "results")
    args = parser.parse_args()

    scratch = None
    directory = args.data
    if directory is None:
        scratch = tempfile.TemporaryDirectory(prefix="waconv-bench-stream-")
        directory = Path(scratch.name) / "log"
    if not directory.exists():
        started = time.perf_counter()
        write_dataset(directory, args.rows, args.chunk)
        print(f"wrote {args.rows:,} rows in {time.perf_counter() - started:.0f} s to {directory}", flush=True)
    kinds = ["stream"] + ([] if args.no_memory_run else ["memory"])
    runs = []
    for _ in range(args.repeat):  # interleaved: the machine is shared
        for kind in kinds:
            out = run_child(kind, directory, args.partition_rows)
            out["rows_per_s"] = out["rows"] / out["seconds"]
            runs.append(out)
            print(f"{kind:6s} {out['rows']:,} rows in {out['seconds']:.1f} s = {out['rows_per_s'] / 1e6:.2f} M rows/s, "
                  f"peak RSS {out['peak_rss_gb']:.2f} GB, {out['batches']} batches, bill {out['bill']:,.2f}", flush=True)
    for kind in kinds:
        mine = [r for r in runs if r["kind"] == kind]
        speeds = [r["rows_per_s"] / 1e6 for r in mine]
        rss = [r["peak_rss_gb"] for r in mine]
        print(f"{kind}: {min(speeds):.2f}-{max(speeds):.2f} M rows/s, peak RSS {min(rss):.2f}-{max(rss):.2f} GB")
    args.results.mkdir(parents=True, exist_ok=True)
    (args.results / f"stream_{args.rows}.json").write_text(json.dumps(runs, indent=2))
    if scratch is not None:
        scratch.cleanup()


if __name__ == "__main__":
    main()
