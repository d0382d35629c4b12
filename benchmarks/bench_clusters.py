"""waconv.spark and waconv.dask on one machine: 1 core vs 2 cores, and the speed-up.

The log is `synthetic_log.make_log` as a Parquet dataset (see bench_stream.py). Each run is
a fresh process: Spark local[1] / local[2] (`spark.sql.shuffle.partitions` = 2 x cores),
Dask LocalCluster with 1 / 2 single-threaded worker processes (`dask-threads`: one worker
process with 1 / 2 threads). A run reads the dataset,
classifies and prices it, and computes every message row without collecting it (Spark's
`noop` sink; Dask: the length of each partition). Session or cluster start is timed apart.
Each run also reports the CPU seconds of its whole process tree (session start included),
the tree's RSS at the end of the run and the load average before and after it: on a shared machine a second core only helps
if the load leaves one free.

    python benchmarks/bench_clusters.py --rows 2000000 --engines spark dask
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def spark_run(directory: str, cores: int) -> dict:
    import waconv.spark

    started = time.perf_counter()
    spark = waconv.spark.local_session(cores=cores, shuffle_partitions=2 * cores)
    spark.sparkContext.setLogLevel("ERROR")
    ready = time.perf_counter()
    out = waconv.spark.classify(spark.read.parquet(directory))
    out.messages.write.format("noop").mode("overwrite").save()
    done = time.perf_counter()
    tree = process_tree()
    spark.stop()
    return {"start_s": ready - started, "seconds": done - ready} | tree


def dask_threads_run(directory: str, threads: int) -> dict:
    """One Dask worker process with this many threads: no shuffle between processes (the
    core releases the GIL while it runs)."""
    return dask_run(directory, 1, threads)


def dask_run(directory: str, workers: int, threads: int = 1) -> dict:
    import dask.dataframe as dd
    from distributed import Client, LocalCluster

    import waconv.dask

    started = time.perf_counter()
    with LocalCluster(n_workers=workers, threads_per_worker=threads, processes=True,
                      dashboard_address=None) as cluster:
        with Client(cluster):
            ready = time.perf_counter()
            frame = dd.read_parquet(directory)
            out = waconv.dask.classify(frame, npartitions=2 * workers * threads)
            rows = int(out.messages.map_partitions(len).compute().sum())
            done = time.perf_counter()
            tree = process_tree()
    return {"start_s": ready - started, "seconds": done - ready, "rows": rows} | tree


def process_tree() -> dict:
    """CPU seconds of this process and every live descendant (the JVM and its Python
    workers, or the Dask workers), and their summed RSS, at the end of the run. Spark reuses
    its Python workers and Dask keeps its workers for the cluster's life, so nothing that
    worked has exited yet."""
    import psutil

    me = psutil.Process()
    cpu = rss = 0.0
    for process in [me, *me.children(recursive=True)]:
        try:
            times = process.cpu_times()
            cpu += times.user + times.system
            rss += process.memory_info().rss
        except psutil.NoSuchProcess:
            pass
    return {"cpu_s": cpu, "tree_rss_gb": rss / 1e9}


def run_child(engine: str, directory: Path, cores: int) -> dict:
    code = ("import json, sys, warnings; warnings.simplefilter('ignore'); sys.path.insert(0, %r); "
            "import bench_clusters as b; print(json.dumps(b.%s_run(%r, %d)))" % (str(HERE), engine.replace("-", "_"),
                                                                                str(directory), cores))
    load = os.getloadavg()[0]
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    if done.returncode:
        raise RuntimeError(done.stderr[-3000:])
    return json.loads(done.stdout.strip().splitlines()[-1]) | {"load_before": load, "load_after": os.getloadavg()[0]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=2_000_000)
    parser.add_argument("--chunk", type=int, default=1_000_000)
    parser.add_argument("--engines", nargs="+", default=["spark", "dask"], choices=("spark", "dask", "dask-threads"))
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--data", type=Path, help="reuse (or keep) the generated dataset here")
    parser.add_argument("--results", type=Path, default=HERE / "results")
    args = parser.parse_args()
    sys.path.insert(0, str(HERE))
    from bench_stream import write_dataset

    scratch = None
    directory = args.data
    if directory is None:
        scratch = tempfile.TemporaryDirectory(prefix="waconv-bench-clusters-")
        directory = Path(scratch.name) / "log"
    if not directory.exists():
        write_dataset(directory, args.rows, args.chunk)
    runs = []
    for _ in range(args.repeat):
        for engine in args.engines:
            for cores in (1, 2):  # interleaved: the machine is shared
                out = run_child(engine, directory, cores) | {"engine": engine, "cores": cores, "rows": args.rows}
                runs.append(out)
                print(f"{engine} x{cores}: {out['seconds']:.1f} s ({args.rows / out['seconds']:,.0f} rows/s), "
                      f"start {out['start_s']:.1f} s, CPU {out['cpu_s']:.0f} s, RSS of the process tree "
                      f"{out['tree_rss_gb']:.2f} GB, load {out['load_before']:.1f}-{out['load_after']:.1f}", flush=True)
    for engine in args.engines:
        one = [r["seconds"] for r in runs if r["engine"] == engine and r["cores"] == 1]
        two = [r["seconds"] for r in runs if r["engine"] == engine and r["cores"] == 2]
        print(f"{engine}: 1 core {min(one):.1f}-{max(one):.1f} s, 2 cores {min(two):.1f}-{max(two):.1f} s, "
              f"speed-up {min(one) / max(two):.2f}-{max(one) / min(two):.2f}")
    args.results.mkdir(parents=True, exist_ok=True)
    (args.results / f"clusters_{args.rows}.json").write_text(json.dumps(runs, indent=2))
    if scratch is not None:
        scratch.cleanup()


if __name__ == "__main__":
    main()
