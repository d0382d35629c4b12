"""Streams larger than memory: `classify_stream` spills the rows by pair into
Parquet files, classifies them partition by partition, and prices what they gather.

The input need not be sorted by time, so no row can be classified before the last has
been read. The passes, each holding one partition (or one input batch) at a time:

1. read the stream once, numbering the rows; write each row to the spill file of its
   pair's partition, and its (message_id, direction) to a file partitioned by the id.
   With user_phone / user_bsuid, whose links are transitive over the whole input, rows go
   to staging files first and the distinct id combinations are kept; once resolved (one
   union-find over users, not rows), the staged rows are partitioned by their key.
2. find the duplicates id partition by id partition: the rows repeating an earlier id;
3. phase 1 per pair partition (its verdicts are written beside it); the rows with a unit
   are gathered;
4. phase 2 over the gathered rows, spilled by portfolio: one portfolio partition at a time
   when every phone number and WABA belongs to one portfolio (every monthly counter then
   lies inside one), else all at once; its verdicts are spilled by pair partition;
5. each partition's tables, patched with phase 2's verdicts, are yielded.
"""

from __future__ import annotations

import math
import os
import pickle
import shutil
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from waconv._errors import InputError
from waconv.io.frames import _plain_strings, as_pandas
from waconv.scale.keys import direction_codes, first_seen_duplicates, id_columns, links, pair_partition, \
    resolve_combinations, value_hashes
from waconv.scale.local import Tables
from waconv.scale.options import ScaleOptions
from waconv.scale.phases import DUPLICATE, KEY, PARTITION_BITS, PRICE_COLUMNS, REWRITTEN, ROW, Gathered, \
    PartitionResult, canonical_names, classify_partition, finish_partition, price_gathered

DEFAULT_PARTITION_ROWS = 4_000_000  # about 3 GB at the peak (2.5-2.6 GB at 3.3M rows: benchmarks/bench_stream.py)
_UNKNOWN_SIZE_PARTITIONS = 16
_FLUSH_ROWS = 262_144  # rows buffered per spill file before a row group is written


def classify_stream(source: Any, *, partitions: int | None = None, partition_rows: int = DEFAULT_PARTITION_ROWS,
                    spill_dir: str | os.PathLike[str] | None = None, **options: Any) -> Iterator[Tables]:
    """Classify (and price) a log of any size, yielding one :class:`Tables` per partition.

    source: an Arrow stream (an object with ``__arrow_c_stream__``, a
    ``pyarrow.RecordBatchReader``), a Parquet file or directory (a path or a
    ``pyarrow.dataset.Dataset``), a table, or an iterable of tables (pandas, Arrow, polars).
    partitions: how many partitions of pairs to spill into; by default one per
    `partition_rows` rows where the size is known (Parquet), else 16.
    spill_dir: where the temporary directory goes (default: the system's temp dir); it is
    removed when the iterator is exhausted or closed.
    options: those of :func:`waconv.classify` (`csw_refreshing` a column name or None).

    Each batch's messages are the rows of some pairs, indexed by their position in the
    input; the per-message results equal one ``waconv.classify`` of the whole input.
    Conversation ids are unique over the batches (not classify's values). Memory is
    bounded by a partition and by the rows with a unit (the only rows phase 2 holds).
    """
    checked = ScaleOptions.of(**options)
    batches, rows = _batches(source)
    if partitions is None:
        partitions = max(1, math.ceil(rows / partition_rows)) if rows is not None else _UNKNOWN_SIZE_PARTITIONS
    if isinstance(partitions, bool) or not isinstance(partitions, int) or partitions < 1:
        raise InputError("partitions", None, f"expected a positive integer, got {partitions!r}")
    directory = Path(tempfile.mkdtemp(prefix="waconv-", dir=spill_dir))
    try:
        yield from _run(batches, checked, partitions, directory)
    finally:
        shutil.rmtree(directory, ignore_errors=True)


def _batches(source: Any) -> tuple[Iterator[pa.Table], int | None]:
    """The source as Arrow tables, one at a time, and its row count where known."""
    import pyarrow.dataset as ds  # 0.4 s to import: only for a stream, not with `import waconv`

    if isinstance(source, (str, os.PathLike)):
        if not Path(source).exists():
            raise InputError(None, None, "no such file or directory", file=str(source))
        source = ds.dataset(source, format="parquet")
    if isinstance(source, ds.Dataset):
        dataset = source
        return (pa.Table.from_batches([b]) for b in dataset.to_batches() if b.num_rows), dataset.count_rows()
    if isinstance(source, pa.RecordBatchReader):
        return (pa.Table.from_batches([b]) for b in source if b.num_rows), None
    if isinstance(source, pd.DataFrame):
        return iter([source]), len(source)  # type: ignore[list-item]
    if isinstance(source, (pa.Table, pa.RecordBatch)) or hasattr(source, "__arrow_c_stream__"):
        if not isinstance(source, (pa.Table, pa.RecordBatch)) and type(source).__module__.split(".")[0] != "polars":
            reader = pa.RecordBatchReader.from_stream(source)
            return (pa.Table.from_batches([b]) for b in reader if b.num_rows), None
        return iter([source]), source.num_rows if hasattr(source, "num_rows") else None
    if isinstance(source, Iterable):
        return iter(source), None
    raise InputError("source", None, f"expected an Arrow stream, a Parquet path or an iterable of tables, "
                     f"got {type(source).__name__}")


def _arrow(batch: Any) -> pa.Table:
    if isinstance(batch, pa.RecordBatch):
        return _plain_strings(pa.Table.from_batches([batch]))
    if isinstance(batch, pa.Table):
        return _plain_strings(batch)
    frame = as_pandas(batch)
    return pa.Table.from_pandas(frame, preserve_index=False)


class _Spill:
    """Parquet files of one kind, one per partition, written in row groups as rows arrive."""

    def __init__(self, directory: Path, name: str, partitions: int):
        self.directory = directory / name
        self.directory.mkdir()
        self.partitions = partitions
        self._writers: dict[int, pq.ParquetWriter] = {}
        self._buffered: dict[int, list[pa.Table]] = {}
        self._counts = np.zeros(partitions, np.int64)

    def path(self, partition: int) -> Path:
        return self.directory / f"{partition}.parquet"

    def add(self, table: pa.Table, partition: np.ndarray) -> None:
        order = np.argsort(partition, kind="stable")
        bounds = np.searchsorted(partition[order], np.arange(self.partitions + 1))
        table = table.take(pa.array(order))
        for k in range(self.partitions):
            if bounds[k + 1] > bounds[k]:
                self._buffered.setdefault(k, []).append(table.slice(bounds[k], bounds[k + 1] - bounds[k]))
                self._counts[k] += bounds[k + 1] - bounds[k]
                if sum(t.num_rows for t in self._buffered[k]) >= _FLUSH_ROWS:
                    self._flush(k)

    def _flush(self, k: int) -> None:
        pieces = self._buffered.pop(k, [])
        if not pieces:
            return
        table = pa.concat_tables(pieces, promote_options="permissive")
        if k not in self._writers:
            # Read back once or twice, soon: no compression, dictionaries or statistics to build.
            self._writers[k] = pq.ParquetWriter(self.path(k), table.schema, compression="none", use_dictionary=False,
                                                write_statistics=False)
        self._writers[k].write_table(table.cast(self._writers[k].schema))

    def close(self) -> list[int]:
        """Flushes everything; the partitions that hold rows."""
        for k in list(self._buffered):
            self._flush(k)
        for writer in self._writers.values():
            writer.close()
        return [k for k in range(self.partitions) if self._counts[k]]


def _run(batches: Iterator[Any], options: ScaleOptions, partitions: int, directory: Path) -> Iterator[Tables]:
    pairs = _Spill(directory, "pairs", partitions)
    ids = _Spill(directory, "ids", partitions)
    staged: list[Path] = []
    combinations: list[pd.DataFrame] = []
    first_row = 0
    linked: bool | None = None
    id_names: dict[str, str] = {}
    for batch in batches:
        table = _arrow(batch)
        if table.num_rows == 0:
            continue
        head = as_pandas(table.slice(0, 0))
        if linked is None:
            id_names = id_columns(head, options)
            linked = links(id_names)
        table = table.append_column(ROW, pa.array(np.arange(first_row, first_row + table.num_rows, dtype=np.int64)))
        names = canonical_names(head, options)
        frame = as_pandas(table.select(_key_columns(names)))
        _spill_ids(frame, names, table, ids, first_row)
        if linked:
            path = directory / f"staged-{len(staged)}.parquet"
            pq.write_table(table, path)
            staged.append(path)
            combinations.append(frame[list(id_names.values())].drop_duplicates())
        else:
            pairs.add(table, pair_partition(frame[names["business"]], frame[names["user"]], partitions))
        first_row += table.num_rows
    if linked is None:
        return
    if linked:
        _partition_staged(staged, combinations, id_names, options, pairs)
    filled = pairs.close()
    duplicates = _duplicates(ids, options)
    yield from _phases(pairs, filled, duplicates, options, directory, not linked)


def _key_columns(names: dict[str, str]) -> list[str]:
    wanted = [names[n] for n in ("business", "user", "user_phone", "user_bsuid", "message_id", "direction")
              if n in names]
    return list(dict.fromkeys(wanted)) + [ROW]


def _spill_ids(frame: pd.DataFrame, names: dict[str, str], table: pa.Table, ids: _Spill, first_row: int) -> None:
    direction = direction_codes(frame[names["direction"]], names["direction"], first_row)  # checked on the way
    if "message_id" not in names:
        return
    message_id = frame[names["message_id"]]
    keyed = pa.table({"id": table.column(names["message_id"]), "direction": pa.array(direction),
                      ROW: table.column(ROW)})
    part = (pd.util.hash_array(message_id.astype(str).to_numpy()) % np.uint64(ids.partitions)).astype(np.int32)
    ids.add(keyed, part)


def _duplicates(ids: _Spill, options: ScaleOptions) -> np.ndarray:
    """The rows (by position) repeating an earlier (message_id, direction): equal ids share an
    id partition, so each partition decides its own, in row order."""
    found = [np.zeros(0, np.int64)]
    for k in ids.close():
        frame = pq.read_table(ids.path(k)).to_pandas().sort_values(ROW, kind="stable")
        repeat = first_seen_duplicates(frame["id"], frame["direction"].to_numpy())
        found.append(frame[ROW].to_numpy(np.int64)[repeat])
    return np.sort(np.concatenate(found))


def _partition_staged(staged: list[Path], combinations: list[pd.DataFrame], id_names: dict[str, str],
                      options: ScaleOptions, pairs: _Spill) -> None:
    columns = list(id_names.values())
    distinct = pd.concat(combinations, ignore_index=True).drop_duplicates(ignore_index=True)
    distinct[KEY] = resolve_combinations(distinct, id_names)
    for path in staged:
        table = pq.read_table(path)
        head = as_pandas(table.slice(0, 0))
        names = canonical_names(head, options)
        frame = as_pandas(table.select(list(dict.fromkeys([names["business"], *columns]))))
        keys = _lookup(frame[columns], distinct, columns)
        table = table.append_column(KEY, pa.array(keys, pa.large_string()))
        pairs.add(table, pair_partition(frame[names["business"]], pd.Series(keys), pairs.partitions))
        path.unlink()


def _lookup(ids: pd.DataFrame, distinct: pd.DataFrame, columns: list[str]) -> np.ndarray:
    """Each row's key, from its id combination (nulls match nulls, as in drop_duplicates)."""
    merged = ids.reset_index(drop=True).merge(distinct, on=columns, how="left", sort=False)
    return merged[KEY].to_numpy(dtype=object)


PAIR_PARTITION = "_waconv_pair_partition"


def _phases(pairs: _Spill, filled: list[int], duplicates: np.ndarray, options: ScaleOptions, directory: Path,
            key_is_user: bool) -> Iterator[Tables]:
    """Phase 1 per pair partition, phase 2 per portfolio partition, each partition's tables:
    every step holds one partition, the gathered rows and verdicts waiting on disk between."""
    units = _Spill(directory, "units", pairs.partitions)  # gathered rows, by portfolio
    units_conversations = _Spill(directory, "unit-conversations", pairs.partitions)
    nesting: list[pd.DataFrame] = []
    for k in filled:
        part = classify_partition(_read_partition(pairs.path(k), duplicates, options, key_is_user), options, k)
        gathered = part.gathered.assign(**{PAIR_PARTITION: np.int32(k)})
        by_portfolio = _portfolio_partition(gathered["portfolio"], pairs.partitions)
        units.add(_table(gathered), by_portfolio)
        portfolio = gathered.set_index(ROW)["portfolio"].reindex(part.conversations["opened_by"].to_numpy())
        units_conversations.add(_table(part.conversations), _portfolio_partition(portfolio, pairs.partitions))
        nesting.append(gathered[["business", "waba", "portfolio"]].drop_duplicates())
        part.frame = part.frame.iloc[0:0]  # read again when finished: the verdicts alone wait on disk
        with open(directory / f"verdicts-{k}.pickle", "wb") as out:
            pickle.dump(part, out, protocol=pickle.HIGHEST_PROTOCOL)
    priced_rows = _Spill(directory, "priced", pairs.partitions)  # phase 2's verdicts, by pair partition
    priced_conversations = _Spill(directory, "priced-conversations", pairs.partitions)
    for group in _phase_two_groups(units.close(), units_conversations.close(), nesting):
        gathered = _read_all([units.path(k) for k in group])
        conversations = _read_all([units_conversations.path(k) for k in group])
        priced = price_gathered(gathered.drop(columns=PAIR_PARTITION), conversations, options)
        pair_of = gathered.set_index(ROW)[PAIR_PARTITION].reindex(priced.rows[ROW].to_numpy()).to_numpy(np.int32)
        priced_rows.add(_table(priced.rows), pair_of)
        ids = priced.conversations["conversation_id"].to_numpy(np.int64)
        priced_conversations.add(_table(priced.conversations), (ids >> PARTITION_BITS).astype(np.int32))
    with_rows, with_conversations = set(priced_rows.close()), set(priced_conversations.close())
    for k in filled:
        with open(directory / f"verdicts-{k}.pickle", "rb") as source:
            part: PartitionResult = pickle.load(source)
        frame = _read_partition(pairs.path(k), duplicates, options, key_is_user)
        part.frame = frame.sort_values(ROW, kind="stable").reset_index(drop=True)
        rows = _read_all([priced_rows.path(k)] if k in with_rows else [])
        conversations = _read_all([priced_conversations.path(k)] if k in with_conversations else [])
        if rows.empty:  # no unit in this partition: phase 2's columns, no rows
            rows = _empty_priced(options)
        if conversations.empty:
            conversations = pd.DataFrame({"conversation_id": np.zeros(0, np.int64)})
        yield Tables(*finish_partition(part, Gathered(rows, conversations), options))


def _portfolio_partition(portfolio: pd.Series, partitions: int) -> np.ndarray:
    return (value_hashes(pd.Series(portfolio).astype(str)) % np.uint64(partitions)).astype(np.int32)


def _phase_two_groups(with_units: list[int], with_conversations: list[int], nesting: list[pd.DataFrame]) -> list[list[int]]:
    """Portfolio partitions that phase 2 may price apart: each, when every business phone and
    every WABA belongs to one portfolio (so each monthly counter lies in one); else all at once."""
    filled = sorted(set(with_units) | set(with_conversations))
    if not filled:
        return []
    seen = pd.concat(nesting, ignore_index=True)
    nested = all(seen.drop_duplicates([account, "portfolio"])[account].is_unique for account in ("business", "waba"))
    return [[k] for k in filled] if nested else [filled]


def _table(frame: pd.DataFrame) -> pa.Table:
    return pa.Table.from_pandas(frame, preserve_index=False)


def _read_all(paths: list[Path]) -> pd.DataFrame:
    tables = [pq.read_table(p) for p in paths if p.exists()]
    if not tables:
        return pd.DataFrame()
    return pa.concat_tables(tables, promote_options="permissive").to_pandas()


def _empty_priced(options: ScaleOptions) -> pd.DataFrame:
    columns: dict[str, Any] = {ROW: np.zeros(0, np.int64), **{name: np.zeros(0, np.int8) for name in REWRITTEN}}
    if options.price:
        columns.update({name: pd.Categorical([]) for name in PRICE_COLUMNS if name not in ("rate", "cost")})
        columns.update({"rate": np.zeros(0), "cost": np.zeros(0)})
    return pd.DataFrame(columns)


def _read_partition(path: Path, duplicates: np.ndarray, options: ScaleOptions, key_is_user: bool) -> pd.DataFrame:
    frame = as_pandas(pq.read_table(path))
    if key_is_user:
        frame[KEY] = frame[canonical_names(frame, options)["user"]]
    rows = frame[ROW].to_numpy(np.int64)
    position = np.minimum(np.searchsorted(duplicates, rows), max(len(duplicates) - 1, 0))
    frame[DUPLICATE] = (duplicates[position] == rows) if len(duplicates) else np.zeros(len(frame), bool)
    return frame
