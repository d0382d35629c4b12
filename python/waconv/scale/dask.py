"""waconv on Dask: the same phases as one classify, split over a Dask DataFrame.

The graph: each input partition gets its rows' positions (from the partition lengths) and
user keys; the rows are shuffled on (business, user key) so every pair lies in one
partition; phase 1 runs per partition (`phases.classify_partition`, the core with the
allowances off); phase 2 is one task over the rows they gather; each partition's tables are
then finished with its verdicts. Identity links and duplicates are decided over the whole
input first: the distinct id combinations are resolved once on the client, and the
(message_id, direction) keys are shuffled on the id to find the repeats.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from waconv._errors import InputError
from waconv.scale.keys import _shifted, direction_codes, first_seen_duplicates, id_columns, links, \
    resolve_combinations
from waconv.scale.local import Tables, split_tables
from waconv.scale.options import ScaleOptions
from waconv.scale.phases import DUPLICATE, KEY, ROW, canonical_names, classify_partition, finish_partition
from waconv.scale.remote import price_for_caller, report_at_caller


def classify(frame: Any, *, npartitions: int | None = None, **options: Any) -> Tables:
    """waconv.classify over a Dask DataFrame: messages, conversations and windows as lazy
    Dask DataFrames (compute them, or write them with to_parquet).

    npartitions: partitions of pairs for phase 1 (default: the input's). Options as
    :func:`waconv.classify` (`csw_refreshing` a column name or None). The messages carry
    each row's input position as their index; conversation ids are unique, not classify's.

    This call computes phases 1 and 2 and persists them (in the cluster's memory on a
    distributed cluster, in this process with Dask's local schedulers) until the tables are
    dropped: so bad input raises `waconv.InputError` here, and pricing's warnings (units
    priced from another card, rates missing, users without a country) are raised here as
    `waconv.WaconvWarning`, once for the whole input, on any scheduler. Only finishing the
    tables is left lazy, and it computes each phase once for all three tables.
    """
    import dask
    import dask.dataframe as dd

    if not isinstance(frame, dd.DataFrame):
        raise InputError("events", None, f"expected a dask DataFrame, got {type(frame).__name__}")
    checked = ScaleOptions.of(**options)
    head = frame._meta
    names = canonical_names(head, checked)
    ids = id_columns(head, checked)
    offsets, mapping, duplicates = _whole_input_keys(frame, names, ids)
    meta_keyed = _numbered(head, 0).assign(**{KEY: pd.Series(dtype=object), DUPLICATE: pd.Series(dtype=bool)})
    numbered = [dask.delayed(_numbered)(p, int(offsets[k])) for k, p in enumerate(frame.to_delayed())]
    keyed = dd.from_delayed([dask.delayed(_keyed)(p, names, ids, mapping, duplicates) for p in numbered],
                            meta=meta_keyed, verify_meta=False)
    shuffled = keyed.shuffle(on=[names["business"], KEY], npartitions=npartitions or frame.npartitions)
    phase_one = [dask.delayed(classify_partition)(p, checked, k) for k, p in enumerate(shuffled.to_delayed())]
    gathered = dask.delayed(pd.concat)([dask.delayed(getattr)(p, "gathered") for p in phase_one], ignore_index=True)
    conversations = dask.delayed(pd.concat)([dask.delayed(getattr)(p, "conversations") for p in phase_one],
                                            ignore_index=True)
    priced_and_notes = dask.delayed(price_for_caller, nout=2)(gathered, conversations, checked)
    # Phases 1 and 2 run here, held by Dask (persist), so their InputError and pricing
    # warnings reach this caller, not a worker's log; the tables finish lazily from them.
    phase_one, priced_and_notes = dask.persist(phase_one, priced_and_notes)
    priced, notes = priced_and_notes
    report_at_caller([dask.compute(notes)[0]])
    finished = [dask.delayed(finish_partition)(p, priced, checked) for p in phase_one]
    meta = _meta(head, checked)
    return Tables(*(dd.from_delayed([dask.delayed(_item)(f, i) for f in finished], meta=getattr(meta, name),
                                    verify_meta=False)
                    for i, name in enumerate(("messages", "conversations", "windows"))))


def _item(parts: tuple, i: int) -> pd.DataFrame:
    return parts[i]


def _numbered(part: pd.DataFrame, first_row: int) -> pd.DataFrame:
    out = part.reset_index(drop=True)
    out[ROW] = np.arange(first_row, first_row + len(out), dtype=np.int64)
    return out


def _combinations(part: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    return part[columns].drop_duplicates()


def _whole_input_keys(frame: Any, names: dict[str, str], ids: dict[str, str]) -> tuple:
    """Each input partition's first row, the identity mapping (or None) and the sorted
    positions of the repeated rows, from one pass over only the id and direction columns.

    One compute: the partition lengths, the distinct id combinations and the duplicate keys
    all come from the same read, so the input is read once here and once by phase 1 (it was
    read three times). Repeats are found on (partition, position within it), which
    sorts as the input order does, and become input positions once the lengths are known."""
    import dask
    import dask.dataframe as dd

    columns = list(dict.fromkeys([*ids.values(), *[names[n] for n in ("message_id", "direction") if n in names]]))
    # frame[columns] would read fewer columns, but dask-expr may then merge Parquet files into
    # fewer partitions than phase 1's read, and the positions would not line up.
    parts = [dask.delayed(_columns)(p, columns) for p in frame.to_delayed()]
    scanned = [dask.delayed(_scan)(p, k, names, columns, list(ids.values()), links(ids)) for k, p in enumerate(parts)]
    wanted: list = [[dask.delayed(_item)(s, 0) for s in scanned], [dask.delayed(_item)(s, 3) for s in scanned]]
    if links(ids):
        wanted.append([dask.delayed(_item)(s, 1) for s in scanned])
    if "message_id" in names:
        key_meta = pd.DataFrame({"id": frame._meta[names["message_id"]].iloc[:0], "direction": np.zeros(0, np.int8),
                                 "part": np.zeros(0, np.int64), "local": np.zeros(0, np.int64)})
        keys = dd.from_delayed([dask.delayed(_item)(s, 2) for s in scanned], meta=key_meta, verify_meta=False)
        found = keys.shuffle(on="id").map_partitions(
            _repeats, meta=pd.DataFrame({"part": np.zeros(0, np.int64), "local": np.zeros(0, np.int64)}))
        wanted.append(found.to_delayed())  # delayed like the rest: one graph, its read shared
    computed = dask.compute(*wanted)
    lengths, errors = computed[0], computed[1]
    offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
    for k, error in enumerate(errors):  # the first bad row of the input, as classify names it
        if error is not None:
            raise _shifted(error, int(offsets[k])) from None
    mapping = None
    if links(ids):
        distinct = pd.concat(computed[2], ignore_index=True).drop_duplicates(ignore_index=True)
        distinct[KEY] = resolve_combinations(distinct, ids)
        mapping = dask.delayed(distinct)
    duplicates = np.zeros(0, np.int64)
    if "message_id" in names:
        repeats = pd.concat(computed[-1], ignore_index=True)
        duplicates = np.sort(offsets[repeats["part"].to_numpy(np.int64)] + repeats["local"].to_numpy(np.int64))
    return offsets, mapping, duplicates


def _columns(part: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    return part[columns]


def _scan(part: pd.DataFrame, k: int, names: dict[str, str], columns: list[str], id_names: list[str],
          linked: bool) -> tuple:
    """(length, distinct id combinations, duplicate keys, the direction's InputError or None)."""
    combinations = part[id_names].drop_duplicates() if linked else None
    keys = None
    error = None
    if "message_id" in names:
        try:
            direction = direction_codes(part[names["direction"]], names["direction"])
        except InputError as caught:  # its row is within the partition: shifted on the client
            error, direction = caught, np.zeros(len(part), np.int8)
        keys = pd.DataFrame({"id": part[names["message_id"]].to_numpy(), "direction": direction,
                             "part": np.full(len(part), k, np.int64), "local": np.arange(len(part), dtype=np.int64)})
    return len(part), combinations, keys, error


def _repeats(keys: pd.DataFrame) -> pd.DataFrame:
    keys = keys.sort_values(["part", "local"], kind="stable")
    repeat = first_seen_duplicates(keys["id"], keys["direction"].to_numpy())
    return keys.loc[repeat, ["part", "local"]].reset_index(drop=True)


def _keyed(part: pd.DataFrame, names: dict[str, str], ids: dict[str, str], mapping: pd.DataFrame | None,
           duplicates: np.ndarray) -> pd.DataFrame:
    out = part.copy(deep=False)
    if mapping is None:
        out[KEY] = part[names["user"]].to_numpy()
    else:
        columns = list(ids.values())
        out[KEY] = part[columns].merge(mapping, on=columns, how="left", sort=False)[KEY].to_numpy(dtype=object)
    rows = part[ROW].to_numpy(np.int64)
    out[DUPLICATE] = np.isin(rows, duplicates)
    return out


def _meta(head: pd.DataFrame, options: ScaleOptions) -> Tables:
    """The output's columns and dtypes: the local run on no rows."""
    return split_tables(head.iloc[:0], 1, options)
