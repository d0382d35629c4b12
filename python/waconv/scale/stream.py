"""Streams larger than memory: `classify_stream` spills the rows by pair into
Arrow IPC files (`spill.py`), classifies them partition by partition, and prices what they gather.

The input need not be sorted by time, so no row can be classified before the last has
been read. The passes, each holding one partition (or one input batch) at a time:

1. read the stream once, numbering the rows; write each row to the spill file of its
   pair's partition, and the core's hash of its message_id and its direction to a file
   partitioned by that hash (the ids' text is in the pairs spill already).
   With user_phone / user_bsuid, whose links are transitive over the whole input, rows go
   to a staging file first and the distinct id combinations are kept; once resolved (one
   union-find over users, not rows), the staged rows are partitioned by their key.
2. find the duplicates: id partition by id partition, the rows whose (hash, direction)
   another row shares (the core's hash set); then among these few, by their ids' text read
   back from the pairs spill, the rows repeating an earlier (message_id, direction);
3. phase 1 per pair partition (its verdicts are written beside it); the rows with a unit
   are gathered;
4. phase 2 over the gathered rows, spilled by portfolio: one portfolio partition at a time
   when every phone number and WABA belongs to one portfolio (every monthly counter then
   lies inside one), else all at once; its verdicts are spilled by pair partition;
5. each partition's tables, patched with phase 2's verdicts, are yielded (the partition's
   rows read again from its memory-mapped spill file: holding every partition's frame
   until phase 2 is done would be the whole input).
"""

from __future__ import annotations

import math
import os
import pickle
import shutil
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from waconv._errors import InputError
from waconv.engine.duplicates import duplicate_rows
from waconv.engine.price import report_gaps_once
from waconv.io.frames import _plain_strings, as_pandas
from waconv.scale.keys import direction_codes, id_columns, id_hashes, links, pair_partition, resolve_combinations, \
    shared_keys, sorted_member, value_hashes
from waconv.scale.local import Tables
from waconv.scale.options import ScaleOptions
from waconv.scale.phases import DUPLICATE, KEY, PARTITION_BITS, PRICE_COLUMNS, REWRITTEN, ROW, Gathered, \
    PartitionResult, canonical_names, classify_partition, finish_partition, price_gathered, row_positions
from waconv.scale.spill import Spill

DEFAULT_PARTITION_ROWS = 4_000_000  # about 3 GB at the peak (2.5-2.6 GB at 3.3M rows: benchmarks/bench_stream.py)
_UNKNOWN_SIZE_PARTITIONS = 16
_BATCH_ROWS = 1 << 20  # rows read from a Parquet dataset at a time: fewer, larger spill writes


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
        with ExitStack() as spills:  # every spill's background write done before the directory goes
            yield from _run(batches, checked, partitions, directory, spills)
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
        # Large batches, read ahead by one only: Arrow's default read-ahead (16 batches of 4
        # files) held 4-6 GB of a 100M-row dataset before the first row was spilled.
        batches = dataset.to_batches(batch_size=_BATCH_ROWS, batch_readahead=1, fragment_readahead=1)
        return (pa.Table.from_batches([b]) for b in batches if b.num_rows), dataset.count_rows()
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


def _run(batches: Iterator[Any], options: ScaleOptions, partitions: int, directory: Path,
         spills: ExitStack) -> Iterator[Tables]:
    pairs = spills.enter_context(Spill(directory, "pairs", partitions))
    ids = spills.enter_context(Spill(directory, "ids", partitions))
    # rows whose key waits for every link (user_phone / user_bsuid)
    staged = spills.enter_context(Spill(directory, "staged", 1))
    combinations: list[pd.DataFrame] = []
    first_row = 0
    linked: bool | None = None
    id_names: dict[str, str] = {}
    id_sources: list[tuple[int, str]] = []  # (first row, message_id column) as batches change it
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
        _spill_ids(table, names, ids, first_row, id_sources)
        if linked:
            staged.add(table, np.zeros(table.num_rows, np.int32))
            combinations.append(_columns(table, list(id_names.values())).drop_duplicates())
        else:
            frame = _columns(table, [names["business"], names["user"]])
            pairs.add(table, pair_partition(frame[names["business"]], frame[names["user"]], partitions))
        first_row += table.num_rows
    if linked is None:
        return
    if linked:
        staged.close()
        _partition_staged(staged, combinations, id_names, options, pairs)
    filled = pairs.close()
    duplicates = _duplicates(ids, pairs, filled, id_sources)
    yield from _phases(pairs, filled, duplicates, options, directory, not linked, spills)


def _columns(table: pa.Table, names: list[str]) -> pd.DataFrame:
    """Some columns of a batch as pandas (the key helpers read pandas columns)."""
    return as_pandas(table.select(list(dict.fromkeys(names))))


def _spill_ids(table: pa.Table, names: dict[str, str], ids: Spill, first_row: int,
               id_sources: list[tuple[int, str]]) -> None:
    column = names["direction"]
    direction = direction_codes(_columns(table, [column])[column], column, first_row)  # checked on the way
    if "message_id" not in names:
        return
    if not id_sources or id_sources[-1][1] != names["message_id"]:
        id_sources.append((first_row, names["message_id"]))
    # A null id is never a duplicate nor makes one, whatever the column's type: not spilled.
    keep = pc.invert(table.column(names["message_id"]).is_null()).combine_chunks()
    hashes = id_hashes(_columns(table, [names["message_id"]])[names["message_id"]])
    keyed = pa.table({"hash": pa.array(hashes.view(np.int64)), "direction": pa.array(direction), ROW: table.column(ROW)})
    if keep.false_count:
        keyed, hashes = keyed.filter(keep), hashes[keep.to_numpy(zero_copy_only=False)]
    ids.add(keyed, (hashes % np.uint64(ids.partitions)).astype(np.int32))


def _duplicates(ids: Spill, pairs: Spill, filled: list[int], id_sources: list[tuple[int, str]]) -> np.ndarray:
    """The rows (by position) repeating an earlier (message_id, direction). Equal ids share an
    id partition and a hash, so each partition names the rows whose (hash, direction) another
    shares; only these candidates' ids are compared by their text, in row order."""
    rows_of, directions = [np.zeros(0, np.int64)], [np.zeros(0, np.int8)]
    for k in ids.close():
        table = ids.read(k)
        ids.discard(k)
        rows = table.column(ROW).to_numpy()
        if not np.all(rows[1:] > rows[:-1]):  # batches arrive in row order, so this is a safeguard
            order = np.argsort(rows, kind="stable")
            table, rows = table.take(pa.array(order)), rows[order]
        direction = table.column("direction").to_numpy()
        shared = shared_keys(table.column("hash").to_numpy(), direction)
        rows_of.append(rows[shared])
        directions.append(direction[shared])
    rows = np.concatenate(rows_of)
    order = np.argsort(rows, kind="stable")
    rows, direction = rows[order], np.concatenate(directions)[order]
    if not len(rows):
        return rows
    repeat = duplicate_rows(_candidate_ids(pairs, filled, rows, id_sources), direction)
    return rows[repeat.astype(bool)]


def _candidate_ids(pairs: Spill, filled: list[int], rows: np.ndarray,
                   id_sources: list[tuple[int, str]]) -> pd.Series:
    """The message ids of `rows` (ascending), read from the pair partitions holding them; each
    row's id column is the one its batch had (`id_sources`: first row, column name)."""
    starts = np.array([start for start, _ in id_sources], np.int64)
    source_of = np.searchsorted(starts, rows, side="right") - 1
    pieces, found = [], []
    for k in filled:
        table = pairs.read(k)
        at = row_positions(rows, table.column(ROW).to_numpy())
        for source in np.unique(source_of[at >= 0]):
            mine = np.flatnonzero((at >= 0) & (source_of == source))
            pieces.append(pa.table({"id": table.column(id_sources[source][1]).take(pa.array(at[mine]))}))
            found.append(mine)
    ids = pa.concat_tables(pieces, promote_options="permissive")
    return as_pandas(ids.take(pa.array(np.argsort(np.concatenate(found), kind="stable"))))["id"]


def _partition_staged(staged: Spill, combinations: list[pd.DataFrame], id_names: dict[str, str],
                      options: ScaleOptions, pairs: Spill) -> None:
    columns = list(id_names.values())
    distinct = pd.concat(combinations, ignore_index=True).drop_duplicates(ignore_index=True)
    distinct[KEY] = resolve_combinations(distinct, id_names)
    for table in staged.batches(0):
        head = as_pandas(table.slice(0, 0))
        names = canonical_names(head, options)
        frame = _columns(table, [names["business"], *columns])
        keys = _lookup(frame[columns], distinct, columns)
        table = table.append_column(KEY, pa.array(keys, pa.large_string()))
        pairs.add(table, pair_partition(frame[names["business"]], pd.Series(keys), pairs.partitions))
    staged.discard(0)


def _lookup(ids: pd.DataFrame, distinct: pd.DataFrame, columns: list[str]) -> np.ndarray:
    """Each row's key, from its id combination (nulls match nulls, as in drop_duplicates)."""
    merged = ids.reset_index(drop=True).merge(distinct, on=columns, how="left", sort=False)
    return merged[KEY].to_numpy(dtype=object)


PAIR_PARTITION = "_waconv_pair_partition"


def _phases(pairs: Spill, filled: list[int], duplicates: np.ndarray, options: ScaleOptions, directory: Path,
            key_is_user: bool, spills: ExitStack) -> Iterator[Tables]:
    """Phase 1 per pair partition, phase 2 per portfolio partition, each partition's tables:
    every step holds one partition, the gathered rows and verdicts waiting on disk between."""
    units = spills.enter_context(Spill(directory, "units", pairs.partitions))  # gathered rows, by portfolio
    units_conversations = spills.enter_context(Spill(directory, "unit-conversations", pairs.partitions))
    nesting: list[pd.DataFrame] = []
    no_conversations = pd.DataFrame()  # phase 1's conversation columns, for a group without any
    for k in filled:
        part = classify_partition(_read_partition(pairs.read(k), duplicates, options, key_is_user), options, k)
        no_conversations = part.conversations.iloc[0:0]
        gathered = part.gathered.assign(**{PAIR_PARTITION: np.int32(k)})
        by_portfolio = _portfolio_partition(gathered["portfolio"], pairs.partitions)
        units.add(_table(gathered), by_portfolio)
        units_conversations.add(_table(part.conversations), _opener_partitions(gathered, part.conversations,
                                                                                by_portfolio, pairs.partitions))
        nesting.append(gathered[["business", "waba", "portfolio"]].drop_duplicates())
        # Only the verdicts wait on disk: the rows are read again when finished, the gathered
        # rows are in `units`.
        part.frame, part.gathered = part.frame.iloc[0:0], part.gathered.iloc[0:0]
        with open(directory / f"verdicts-{k}.pickle", "wb") as out:
            pickle.dump(part, out, protocol=pickle.HIGHEST_PROTOCOL)
    priced_rows = spills.enter_context(Spill(directory, "priced", pairs.partitions))  # phase 2's verdicts, by pair partition
    priced_conversations = spills.enter_context(Spill(directory, "priced-conversations", pairs.partitions))
    reports = []  # each group's pricing gaps, reported once for the whole input
    for group in _phase_two_groups(units.close(), units_conversations.close(), nesting):
        gathered = _read_all(units, group)
        # A group may hold units but no conversation (PMP messages open none): nothing spilled.
        conversations = _read_all(units_conversations, group, empty=no_conversations)
        for k in group:
            units.discard(k)
            units_conversations.discard(k)
        priced = price_gathered(gathered.drop(columns=PAIR_PARTITION), conversations, options, report=False)
        if priced.gaps:
            reports.append(priced.gaps)
        pair_of = _pair_partitions(gathered, priced.rows[ROW].to_numpy(np.int64))
        priced_rows.add(_table(priced.rows), pair_of)
        ids = priced.conversations["conversation_id"].to_numpy(np.int64)
        priced_conversations.add(_table(priced.conversations), (ids >> PARTITION_BITS).astype(np.int32))
    report_gaps_once(reports)
    priced_rows.close()
    priced_conversations.close()
    for k in filled:
        with open(directory / f"verdicts-{k}.pickle", "rb") as source:
            part: PartitionResult = pickle.load(source)
        (directory / f"verdicts-{k}.pickle").unlink()
        frame = _read_partition(pairs.read(k), duplicates, options, key_is_user)
        part.frame = _in_row_order(frame)
        rows = _read_all(priced_rows, [k])
        conversations = _read_all(priced_conversations, [k])
        for spill in (pairs, priced_rows, priced_conversations):
            spill.discard(k)
        if rows.empty:  # no unit in this partition: phase 2's columns, no rows
            rows = _empty_priced(options)
        if conversations.empty:
            conversations = pd.DataFrame({"conversation_id": np.zeros(0, np.int64)})
        yield Tables(*finish_partition(part, Gathered(rows, conversations), options))


def _opener_partitions(gathered: pd.DataFrame, conversations: pd.DataFrame, by_portfolio: np.ndarray,
                       partitions: int) -> np.ndarray:
    """Each conversation's portfolio partition: that of the gathered row opening it."""
    opened_by = conversations["opened_by"].to_numpy(np.int64)
    at = row_positions(opened_by, gathered[ROW].to_numpy(np.int64))
    if np.all(at >= 0):
        return by_portfolio[at]
    portfolio = gathered.set_index(ROW)["portfolio"].reindex(opened_by)  # an opener without a unit
    return _portfolio_partition(portfolio, partitions)


def _pair_partitions(gathered: pd.DataFrame, rows: np.ndarray) -> np.ndarray:
    """The pair partition of each of `rows`, all among the gathered rows."""
    at = row_positions(rows, gathered[ROW].to_numpy(np.int64))
    return gathered[PAIR_PARTITION].to_numpy(np.int32)[at]


def _in_row_order(frame: pd.DataFrame) -> pd.DataFrame:
    rows = frame[ROW].to_numpy()
    if np.all(rows[1:] > rows[:-1]):  # a partition's spill file is written in row order
        return frame.reset_index(drop=True)
    return frame.sort_values(ROW, kind="stable").reset_index(drop=True)


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


def _read_all(spill: Spill, partitions: list[int], empty: pd.DataFrame | None = None) -> pd.DataFrame:
    tables = [t for t in (spill.read(k) for k in partitions) if t is not None]
    if not tables:
        return pd.DataFrame() if empty is None else empty
    return pa.concat_tables(tables, promote_options="permissive").to_pandas()


def _empty_priced(options: ScaleOptions) -> pd.DataFrame:
    columns: dict[str, Any] = {ROW: np.zeros(0, np.int64), **{name: np.zeros(0, np.int8) for name in REWRITTEN}}
    if options.price:
        columns.update({name: pd.Categorical([]) for name in PRICE_COLUMNS if name not in ("rate", "cost")})
        columns.update({"rate": np.zeros(0), "cost": np.zeros(0)})
    return pd.DataFrame(columns)


def _read_partition(table: pa.Table, duplicates: np.ndarray, options: ScaleOptions, key_is_user: bool) -> pd.DataFrame:
    frame = as_pandas(table)
    if key_is_user:
        frame[KEY] = frame[canonical_names(frame, options)["user"]]
    frame[DUPLICATE] = sorted_member(frame[ROW].to_numpy(np.int64), duplicates)
    return frame
