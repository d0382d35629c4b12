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
from waconv.scale.keys import direction_codes, first_seen_duplicates, id_columns, links, resolve_combinations
from waconv.scale.local import Tables, split_tables
from waconv.scale.options import ScaleOptions
from waconv.scale.phases import DUPLICATE, KEY, ROW, canonical_names, classify_partition, finish_partition, \
    price_gathered


def classify(frame: Any, *, npartitions: int | None = None, **options: Any) -> Tables:
    """waconv.classify over a Dask DataFrame: messages, conversations and windows as lazy
    Dask DataFrames (compute them, or write them with to_parquet).

    npartitions: partitions of pairs for phase 1 (default: the input's). Options as
    :func:`waconv.classify` (`csw_refreshing` a column name or None). The messages carry
    each row's input position as their index; conversation ids are unique, not classify's.
    """
    import dask
    import dask.dataframe as dd

    if not isinstance(frame, dd.DataFrame):
        raise InputError("events", None, f"expected a dask DataFrame, got {type(frame).__name__}")
    checked = ScaleOptions.of(**options)
    head = frame._meta
    names = canonical_names(head, checked)
    ids = id_columns(head, checked)
    parts = frame.to_delayed()
    lengths = dask.compute(*[dask.delayed(len)(p) for p in parts])
    offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
    numbered = [dask.delayed(_numbered)(p, int(offsets[k])) for k, p in enumerate(parts)]
    mapping = None
    if links(ids):
        combos = dask.compute(*[dask.delayed(_combinations)(p, list(ids.values())) for p in numbered])
        distinct = pd.concat(combos, ignore_index=True).drop_duplicates(ignore_index=True)
        distinct[KEY] = resolve_combinations(distinct, ids)
        mapping = dask.delayed(distinct)
    meta_keyed = _numbered(head, 0).assign(**{KEY: pd.Series(dtype=object), DUPLICATE: pd.Series(dtype=bool)})
    duplicates = _duplicate_rows(numbered, names, meta_keyed) if "message_id" in names else np.zeros(0, np.int64)
    keyed = dd.from_delayed([dask.delayed(_keyed)(p, names, ids, mapping, duplicates) for p in numbered],
                            meta=meta_keyed, verify_meta=False)
    shuffled = keyed.shuffle(on=[names["business"], KEY], npartitions=npartitions or frame.npartitions)
    phase_one = [dask.delayed(classify_partition)(p, checked, k) for k, p in enumerate(shuffled.to_delayed())]
    gathered = dask.delayed(pd.concat)([dask.delayed(getattr)(p, "gathered") for p in phase_one], ignore_index=True)
    conversations = dask.delayed(pd.concat)([dask.delayed(getattr)(p, "conversations") for p in phase_one],
                                            ignore_index=True)
    priced = dask.delayed(price_gathered)(gathered, conversations, checked)
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


def _duplicate_rows(numbered: list, names: dict[str, str], meta: pd.DataFrame) -> np.ndarray:
    """Positions of the rows repeating an earlier (message_id, direction) anywhere: the keys
    are shuffled on the id, and each partition finds its repeats in row order."""
    import dask
    import dask.dataframe as dd

    key_meta = pd.DataFrame({"id": meta[names["message_id"]].iloc[:0], "direction": np.zeros(0, np.int8),
                             ROW: np.zeros(0, np.int64)})
    keys = dd.from_delayed([dask.delayed(_id_keys)(p, names) for p in numbered], meta=key_meta, verify_meta=False)
    found = keys.shuffle(on="id").map_partitions(_repeats, meta=pd.Series(np.zeros(0, np.int64), name=ROW))
    return np.sort(found.compute().to_numpy(np.int64))


def _id_keys(part: pd.DataFrame, names: dict[str, str]) -> pd.DataFrame:
    first = int(part[ROW].iloc[0]) if len(part) else 0
    direction = direction_codes(part[names["direction"]], names["direction"], first)
    return pd.DataFrame({"id": part[names["message_id"]].to_numpy(), "direction": direction, ROW: part[ROW].to_numpy()})


def _repeats(keys: pd.DataFrame) -> pd.Series:
    keys = keys.sort_values(ROW, kind="stable")
    repeat = first_seen_duplicates(keys["id"], keys["direction"].to_numpy())
    return pd.Series(keys[ROW].to_numpy(np.int64)[repeat], name=ROW)


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
