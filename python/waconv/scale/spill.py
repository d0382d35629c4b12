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
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.ipc as ipc

BUFFERED_ROWS = 1 << 20  # rows buffered over all partitions of a spill before they are written
MIN_FLUSH_ROWS = 16_384
_RADIX_PARTITIONS = np.iinfo(np.int16).max


class Spill:
    """Files of one kind, one per partition, written in batches as rows arrive.

    An IPC file has one schema; batches of a stream need not (a column all null in one
    batch and text in the next). A piece whose columns do not cast to the file's types
    starts the partition's next file, a segment, with the types promoted; reading a
    partition concatenates its segments with the same promotion.

    `add` returns at once: one thread sorts, takes and writes the rows (Arrow and NumPy
    release the GIL) while the caller reads and hashes the next batch, on the other core.
    At most one batch waits, so the memory held is one batch more than a synchronous spill.
    Use it as a context manager, so that no write is still running when the directory is removed."""

    def __init__(self, directory: Path, name: str, partitions: int):
        self.directory = directory / name
        self.directory.mkdir()
        self.partitions = partitions
        self._sinks: dict[int, tuple[pa.OSFile, ipc.RecordBatchFileWriter, pa.Schema]] = {}
        self._segments = np.zeros(partitions, np.int64)  # files written per partition
        self._buffered: dict[int, list[pa.Table]] = {}
        self._buffered_rows = np.zeros(partitions, np.int64)
        self._counts = np.zeros(partitions, np.int64)
        # Per partition: a share of one budget, so the buffers stay bounded however many partitions.
        self._flush_rows = max(MIN_FLUSH_ROWS, BUFFERED_ROWS // partitions)
        self._worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"waconv-spill-{name}")
        self._pending: Future[None] | None = None

    def __enter__(self) -> Spill:
        return self

    def __exit__(self, failure: type[BaseException] | None, *details: object) -> None:
        """Waits for the write under way; raises its error only if nothing else is raised."""
        try:
            self._wait()
        except Exception:
            if failure is None:
                raise
        finally:
            self._worker.shutdown(wait=True)

    def _path(self, partition: int, segment: int) -> Path:
        return self.directory / f"{partition}-{segment}.arrow"

    def add(self, table: pa.Table, partition: np.ndarray) -> None:
        """Each row to its partition's file, keeping the rows' order within a partition
        (written in the background: an error of the write before this one is raised here)."""
        self._wait()
        self._pending = self._worker.submit(self._add, table, partition)

    def _wait(self) -> None:
        pending, self._pending = self._pending, None
        if pending is not None:
            pending.result()

    def _add(self, table: pa.Table, partition: np.ndarray) -> None:
        # A stable sort of 16-bit codes is a radix sort: 5x faster than of int32 codes.
        codes = partition.astype(np.int16) if self.partitions <= _RADIX_PARTITIONS else partition
        order = np.argsort(codes, kind="stable")
        bounds = np.concatenate([[0], np.cumsum(np.bincount(partition, minlength=self.partitions))])
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
            # The first rows' types, promoted as concat promotes them.
            pieces = [pa.concat_tables(pieces, promote_options="permissive")]
            self._open(k, pieces[0].schema)
        for piece in pieces:  # slices are written as they are: the writer copies only their rows
            _, writer, schema = self._sinks[k]
            if not piece.schema.equals(schema):
                try:
                    piece = piece.cast(schema)
                except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError):
                    self._open(k, pa.unify_schemas([schema, piece.schema], promote_options="permissive"))
                    _, writer, schema = self._sinks[k]
                    piece = piece.cast(schema)
            writer.write_table(piece)

    def _open(self, k: int, schema: pa.Schema) -> None:
        """Starts partition k's next segment (closing the one before)."""
        self._close_sink(k)
        sink = pa.OSFile(str(self._path(k, int(self._segments[k]))), "wb")
        self._segments[k] += 1
        self._sinks[k] = (sink, ipc.new_file(sink, schema), schema)

    def _close_sink(self, k: int) -> None:
        if k in self._sinks:
            sink, writer, _ = self._sinks.pop(k)
            writer.close()
            sink.close()

    def close(self) -> list[int]:
        """Flushes everything; the partitions that hold rows."""
        self._wait()
        for k in list(self._buffered):
            self._flush(k)
        for k in list(self._sinks):
            self._close_sink(k)
        self._worker.shutdown(wait=True)
        return [k for k in range(self.partitions) if self._counts[k]]

    def read(self, partition: int) -> pa.Table | None:
        """The partition's rows in the order they were added (None if it has none), memory-mapped
        (the page cache holds what was just written)."""
        tables = []
        for segment in range(int(self._segments[partition])):
            with pa.memory_map(str(self._path(partition, segment))) as source:
                tables.append(ipc.open_file(source).read_all())
        if not tables:
            return None
        return tables[0] if len(tables) == 1 else pa.concat_tables(tables, promote_options="permissive")

    def discard(self, partition: int) -> None:
        """Removes the partition's files once read for the last time: their pages in the page
        cache go back to the system at once, for the next steps' memory, instead of when the
        stream ends (a table read from them keeps its memory map, which outlives the name)."""
        for segment in range(int(self._segments[partition])):
            try:
                self._path(partition, segment).unlink()
            except OSError:  # still mapped where that forbids it (Windows): removed with the directory
                pass

    def batches(self, partition: int) -> Iterator[pa.Table]:
        """The partition's rows one written batch at a time (at most a flush's rows), for a pass
        that must not hold the whole file."""
        for segment in range(int(self._segments[partition])):
            with pa.memory_map(str(self._path(partition, segment))) as source:
                reader = ipc.open_file(source)
                for i in range(reader.num_record_batches):
                    yield pa.Table.from_batches([reader.get_batch(i)])
