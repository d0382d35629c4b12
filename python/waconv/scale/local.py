"""The split run on one machine, every partition in memory: what each driver does, without
an engine around it. The stream driver and the tests use it."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import pandas as pd

from waconv.scale.keys import pair_partition, with_keys
from waconv.scale.options import ScaleOptions
from waconv.scale.phases import KEY, PartitionResult, canonical_names, classify_partition, finish_partition, price_gathered


@dataclass
class Tables:
    """One batch of results: the messages of some pairs, their conversations and windows.
    The messages' index is each row's position in the input."""

    messages: pd.DataFrame
    conversations: pd.DataFrame
    windows: pd.DataFrame


def split(keyed: pd.DataFrame, options: ScaleOptions, partitions: int) -> Iterator[tuple[int, pd.DataFrame]]:
    """The keyed rows by partition of their pair."""
    if keyed.empty:  # one empty partition: its tables still have every column
        yield 0, keyed
        return
    names = canonical_names(keyed, options)
    part = pair_partition(keyed[names["business"]], keyed[KEY], partitions)
    for k, rows in keyed.groupby(part, sort=True):
        yield int(k), rows


def run_phases(parts: Iterable[tuple[int, pd.DataFrame]], options: ScaleOptions) -> Iterator[Tables]:
    """Phase 1 per partition, phase 2 over the rows they gather, then each partition's tables."""
    done: list[PartitionResult] = [classify_partition(rows, options, k) for k, rows in parts]
    gathered = pd.concat([p.gathered for p in done], ignore_index=True)
    conversations = pd.concat([p.conversations for p in done], ignore_index=True)
    priced = price_gathered(gathered, conversations, options)
    for part in done:
        yield Tables(*finish_partition(part, priced, options))


def classify_split(frame: pd.DataFrame, partitions: int = 4, **options: object) -> Tables:
    """waconv.classify's tables computed partition by partition, in input order."""
    return split_tables(frame, partitions, ScaleOptions.of(**options))


def split_tables(frame: pd.DataFrame, partitions: int, checked: ScaleOptions) -> Tables:
    keyed = with_keys(frame, checked)
    batches = list(run_phases(split(keyed, checked, partitions), checked))
    return Tables(
        pd.concat([b.messages for b in batches]).sort_index(),
        pd.concat([b.conversations for b in batches], ignore_index=True),
        pd.concat([b.windows for b in batches], ignore_index=True),
    )
