"""Where classify_stream spends its time: cProfile of one run over a Parquet dataset (as
bench_stream.py writes it with --data), the functions of each pass by cumulative time.

    python benchmarks/profile_stream.py data10m --partition-rows 4000000
    python benchmarks/profile_stream.py data10m --spill-formats 2000000   # Parquet vs IPC spill
    python benchmarks/profile_stream.py data10m --bounds   # what bounds the stream from below
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import resource
import time
import warnings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data")
    parser.add_argument("--partition-rows", type=int, default=4_000_000)
    parser.add_argument("--top", type=int, default=45)
    parser.add_argument("--spill-formats", type=int, metavar="ROWS",
                        help="instead: write and read back ROWS rows as the stream's spill would, "
                             "uncompressed Parquet against Arrow IPC, interleaved rounds")
    parser.add_argument("--bounds", action="store_true",
                        help="instead: seconds of one read of the dataset, one spill write and read back, "
                             "and one in-memory classify per partition, interleaved rounds")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    if args.spill_formats:
        compare_spill_formats(args.data, args.spill_formats, args.repeat)
        return
    if args.bounds:
        lower_bounds(args.data, args.partition_rows, args.repeat)
        return

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


def compare_spill_formats(data: str, rows: int, repeat: int) -> None:
    """Seconds to write `rows` rows of the dataset in 16 pieces and read them back, per format."""
    import tempfile
    from pathlib import Path

    import pyarrow as pa
    import pyarrow.dataset as ds
    import pyarrow.ipc as ipc
    import pyarrow.parquet as pq

    table = ds.dataset(data).head(rows)
    table = pa.table({name: (col.cast(col.type.value_type) if pa.types.is_dictionary(col.type) else col)
                      for name, col in zip(table.column_names, table.columns)})
    pieces = [table.slice(i, rows // 16) for i in range(0, rows, rows // 16)]

    def parquet(path: Path) -> pa.Table:
        with pq.ParquetWriter(path, table.schema, compression="none", use_dictionary=False,
                              write_statistics=False) as writer:
            for piece in pieces:
                writer.write_table(piece)
        return pq.read_table(path)

    def arrow_ipc(path: Path) -> pa.Table:
        with pa.OSFile(str(path), "wb") as sink, ipc.new_file(sink, table.schema) as writer:
            for piece in pieces:
                writer.write_table(piece)
        with pa.memory_map(str(path)) as source:
            return ipc.open_file(source).read_all()

    seconds: dict[str, list[float]] = {"parquet": [], "ipc": []}
    with tempfile.TemporaryDirectory() as scratch:
        for _ in range(repeat):
            for name, run in (("parquet", parquet), ("ipc", arrow_ipc)):
                started = time.perf_counter()
                back = run(Path(scratch) / name)
                back.to_pandas()  # what the stream does with a partition
                seconds[name].append(time.perf_counter() - started)
                assert back.num_rows == table.num_rows
    for name, values in seconds.items():
        print(f"{name:8s} write + read + to_pandas of {rows:,} rows: {min(values):.2f}-{max(values):.2f} s")


def lower_bounds(data: str, partition_rows: int, repeat: int) -> None:
    """What no stream can do without, each step timed alone over the whole dataset: one read of
    the Parquet files as the stream reads them, one spill of every row by pair partition
    (take, write; the batches held in memory first) and its read back as pandas, and one
    in-memory `waconv.classify` per partition."""
    import math
    import tempfile
    from pathlib import Path

    import pyarrow as pa
    import pyarrow.dataset as ds

    import waconv
    from waconv.scale.keys import pair_partition
    from waconv.scale.spill import Spill

    warnings.simplefilter("ignore")
    dataset = ds.dataset(data, format="parquet")
    partitions = max(1, math.ceil(dataset.count_rows() / partition_rows))

    def batches():
        return (b for b in dataset.to_batches(batch_size=1 << 20, batch_readahead=1, fragment_readahead=1)
                if b.num_rows)

    seconds: dict[str, list[float]] = {"read": [], "spill write": [], "spill read": [], "classify": []}
    for _ in range(repeat):
        started = time.perf_counter()
        rows = sum(b.num_rows for b in batches())
        seconds["read"].append(time.perf_counter() - started)
        # The batches and their partitions first, held in memory (a 10M-row dataset fits),
        # so that the spill's own take and writes are timed alone.
        held = []
        for batch in batches():
            table = pa.Table.from_batches([batch])
            frame = table.select(["business", "user"]).to_pandas()
            held.append((table, pair_partition(frame["business"], frame["user"], partitions)))
        with tempfile.TemporaryDirectory() as scratch:
            spill = Spill(Path(scratch), "pairs", partitions)  # close() ends its writer thread
            started = time.perf_counter()
            for table, part in held:
                spill.add(table, part)
            filled = spill.close()
            seconds["spill write"].append(time.perf_counter() - started)
            del held
            spill_seconds = classify_seconds = 0.0
            for k in filled:
                started = time.perf_counter()
                table = spill.read(k)
                table.to_pandas()  # what the stream makes of a partition: every page read
                spill_seconds += time.perf_counter() - started
                started = time.perf_counter()
                waconv.classify(table)
                classify_seconds += time.perf_counter() - started
                del table
            seconds["spill read"].append(spill_seconds)
            seconds["classify"].append(classify_seconds)
    print(f"{rows:,} rows, {partitions} partitions, {repeat} rounds; load average at the end "
          f"{' '.join(f'{load:.1f}' for load in os.getloadavg())}")
    for name, values in seconds.items():
        print(f"{name:12s} {min(values):6.2f}-{max(values):6.2f} s")


if __name__ == "__main__":
    main()
