"""Spill files of a stream: Arrow tables split by partition, appended to one file per
partition as rows arrive, read back whole (one partition at a time).

Arrow IPC files, uncompressed: writing is a copy of the buffers and reading back a memory
map, with no encoding, decoding or statistics either way (Parquet, even uncompressed and
without dictionaries, took 3-4x as long to write, read back and convert to pandas:
benchmarks/README.md). The files
live only as long as the stream's temporary directory.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.ipc as ipc

BUFFERED_ROWS = 1 << 20  # rows buffered over all partitions of a spill before they are written
MIN_FLUSH_ROWS = 16_384


class Spill:
    """Files of one kind, one per partition, written in batches as rows arrive."""

    def __init__(self, directory: Path, name: str, partitions: int):
        self.directory = directory / name
        self.directory.mkdir()
        self.partitions = partitions
        self._sinks: dict[int, tuple[pa.OSFile, ipc.RecordBatchFileWriter, pa.Schema]] = {}
        self._buffered: dict[int, list[pa.Table]] = {}
        self._buffered_rows = np.zeros(partitions, np.int64)
        self._counts = np.zeros(partitions, np.int64)
        # Per partition: a share of one budget, so the buffers stay bounded however many partitions.
        self._flush_rows = max(MIN_FLUSH_ROWS, BUFFERED_ROWS // partitions)

    def path(self, partition: int) -> Path:
        return self.directory / f"{partition}.arrow"

    def add(self, table: pa.Table, partition: np.ndarray) -> None:
        """Each row to its partition's file, keeping the rows' order within a partition."""
        order = np.argsort(partition, kind="stable")
        bounds = np.searchsorted(partition[order], np.arange(self.partitions + 1))
        table = table.take(pa.array(order))
        for k in np.flatnonzero(np.diff(bounds)):
            size = int(bounds[k + 1] - bounds[k])
            self._buffered.setdefault(k, []).append(table.slice(bounds[k], size))
            self._counts[k] += size
            self._buffered_rows[k] += size
            if self._buffered_rows[k] >= self._flush_rows:
                self._flush(int(k))

    def _flush(self, k: int) -> None:
        pieces = self._buffered.pop(k, [])
        self._buffered_rows[k] = 0
        if not pieces:
            return
        if k not in self._sinks:
            # The file's schema: the first rows' types, promoted as concat does (a column all
            # null in one batch and text in another is text).
            pieces = [pa.concat_tables(pieces, promote_options="permissive")]
            sink = pa.OSFile(str(self.path(k)), "wb")
            self._sinks[k] = (sink, ipc.new_file(sink, pieces[0].schema), pieces[0].schema)
        _, writer, schema = self._sinks[k]
        for piece in pieces:  # slices are written as they are: the writer copies only their rows
            writer.write_table(piece if piece.schema.equals(schema) else piece.cast(schema))

    def close(self) -> list[int]:
        """Flushes everything; the partitions that hold rows."""
        for k in list(self._buffered):
            self._flush(k)
        for sink, writer, _ in self._sinks.values():
            writer.close()
            sink.close()
        self._sinks.clear()
        return [k for k in range(self.partitions) if self._counts[k]]

    def read(self, partition: int) -> pa.Table | None:
        """The partition's rows in the order they were added (None if it has none)."""
        return read_spilled(self.path(partition))

    def batches(self, partition: int) -> Iterator[pa.Table]:
        """The partition's rows one written batch at a time (at most a flush's rows), for a pass that must not hold the whole file."""
        path = self.path(partition)
        if not path.exists():
            return
        with pa.memory_map(str(path)) as source:
            reader = ipc.open_file(source)
            for i in range(reader.num_record_batches):
                yield pa.Table.from_batches([reader.get_batch(i)])


def read_spilled(path: Path) -> pa.Table | None:
    """A spill file's rows, memory-mapped (the page cache holds what was just written)."""
    if not path.exists():
        return None
    with pa.memory_map(str(path)) as source:
        return ipc.open_file(source).read_all()
