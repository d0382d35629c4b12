"""`waconv classify --memory-budget`: Parquet inputs larger than the budget go through
waconv.classify_stream, and the tables are written batch by batch (docs: README §Beyond
one table)."""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq

from waconv.cli.options import OptionError
from waconv.io.arrow_out import table_from_pandas
from waconv.io.files import _parquet_ready, input_format
from waconv.scale.stream import classify_stream

# Peak memory per row of a partition, rounded up from benchmarks/bench_stream.py (2.5-2.6 GB
# for partitions of 3.3M rows of the synthetic log; one in-memory classify needs about a
# third of that per row): the budget divided by it is how many rows one partition may have.
BYTES_PER_ROW = 800
_UNITS = {"": 1, "k": 2**10, "m": 2**20, "g": 2**30, "t": 2**40}
TABLES = ("messages", "conversations", "windows")


def memory_budget(text: str | None) -> int | None:
    """`--memory-budget 4G` in bytes (K, M, G, T are powers of 1,024)."""
    if text is None:
        return None
    found = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([kmgt]?)i?b?\s*", text.lower())
    if not found or float(found.group(1)) <= 0:
        raise OptionError("--memory-budget", f"expected a size such as 4G or 500M, got {text!r}")
    return int(float(found.group(1)) * _UNITS[found.group(2)])


def rows_if_larger(inputs: list[str], requested: str, budget: int | None) -> int | None:
    """The inputs' row count when they are Parquet files too large for the budget, else None."""
    if budget is None or "-" in inputs:
        return None
    paths = [Path(p) for p in inputs]
    if not all(p.is_file() and input_format(p, requested) == "parquet" for p in paths):
        return None
    rows = sum(pq.ParquetFile(p).metadata.num_rows for p in paths)
    return rows if rows * BYTES_PER_ROW > budget else None


def classify_to_files(inputs: list[str], rows: int, budget: int, outdir: Path, fmt: str,
                      options: dict[str, Any]) -> tuple[dict[str, int], float | None, list[Path]]:
    """Streams the inputs into outdir's tables; (rows per table, the bill, the files)."""
    partitions = max(1, math.ceil(rows * BYTES_PER_ROW / budget))
    source = inputs[0] if len(inputs) == 1 else [pq.read_table(p) for p in inputs]
    writers: dict[str, Any] = {}
    counts = dict.fromkeys(TABLES, 0)
    bill = 0.0 if options.get("price", True) else None
    paths = {name: outdir / f"{name}.{fmt}" for name in TABLES}
    try:
        for batch in classify_stream(source, partitions=partitions, **options):
            for name in TABLES:
                frame = getattr(batch, name)
                if name == "messages":
                    frame = frame.reset_index(names="input_row")
                    if bill is not None:
                        bill += float(frame["cost"].sum())
                _write(writers, paths[name], frame, fmt, counts[name] == 0)
                counts[name] += len(frame)
    finally:
        for writer in writers.values():
            writer.close()
    return counts, bill, list(paths.values())


def _write(writers: dict[str, Any], path: Path, frame: Any, fmt: str, first: bool) -> None:
    if fmt == "csv":
        frame.to_csv(path, index=False, mode="w" if first else "a", header=first)
        return
    table = table_from_pandas(_parquet_ready(frame))
    if str(path) not in writers:
        writers[str(path)] = pq.ParquetWriter(path, table.schema)
    writer = writers[str(path)]
    writer.write_table(table.cast(writer.schema))
