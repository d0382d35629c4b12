"""What must be decided over the whole input before a log is split: each
row's position, its resolved user key, and whether it repeats an earlier
(message_id, direction). The rules inside a partition then never need another partition.

Identity is resolved on the distinct combinations of a row's ids (phone, BSUID, user),
which are as many as the users, not the rows: a driver collects them from every partition,
resolves them here with the core's union-find, and joins the keys back.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from waconv import _core
from waconv._errors import InputError
from waconv.engine.canonical import _DIRECTIONS, _factorize, _map_small
from waconv.engine.identity import ID_COLUMNS, resolve_users
from waconv.engine.strings import hashes_if_text, text_hashes
from waconv.scale.phases import DUPLICATE, KEY, ROW, canonical_names, row_positions
from waconv.scale.options import ScaleOptions


def id_columns(frame: pd.DataFrame, options: ScaleOptions) -> dict[str, str]:
    """The user id columns present: canonical name -> the input's name."""
    names = canonical_names(frame, options)
    return {name: names[name] for name in ID_COLUMNS if name in names}


def links(ids: dict[str, str]) -> bool:
    """Whether rows may link ids (user_phone / user_bsuid), so that keys need the whole input."""
    return any(name != "user" for name in ids)


def resolve_combinations(combinations: pd.DataFrame, ids: dict[str, str]) -> np.ndarray:
    """The user key of each distinct combination of ids (columns named as in the input)."""
    col = {name: combinations[source].reset_index(drop=True) for name, source in ids.items()}
    users = resolve_users(col, dict(ids), _factorize)
    return np.asarray(users.values.take(users.codes), dtype=object)


def direction_codes(series: pd.Series, column: str, first_row: int = 0) -> np.ndarray:
    """The direction column as the core's codes, checked as classify checks it."""
    try:
        return _map_small(series, column, _DIRECTIONS, null=None, what="direction").astype(np.int8)
    except InputError as error:
        raise _shifted(error, first_row) from None


def _shifted(error: InputError, first_row: int) -> InputError:
    row = getattr(error, "row", None)
    if isinstance(row, (int, np.integer)):
        return InputError(error.column, int(row) + first_row, error.reason)
    return error


def first_seen_duplicates(ids: pd.Series, direction: np.ndarray) -> np.ndarray:
    """Rows repeating an earlier (id, direction) of the given rows, in their order (as classify)."""
    keyed = pd.DataFrame({"id": ids.to_numpy(), "direction": direction})
    return keyed.duplicated().to_numpy() & ids.notna().to_numpy()


def with_keys(frame: pd.DataFrame, options: ScaleOptions, first_row: int = 0,
              keys: Any = None, duplicate: np.ndarray | None = None) -> pd.DataFrame:
    """The frame with ROW (first_row onwards), KEY and DUPLICATE. Without `keys` and
    `duplicate`, this frame is taken to be the whole input, and they are decided over it."""
    out = frame.copy(deep=False)
    out[ROW] = np.arange(first_row, first_row + len(frame), dtype=np.int64)
    if keys is None:
        ids = id_columns(frame, options)
        if not ids:
            raise InputError("user", None, "required column is missing")
        try:
            col = {name: frame[source].reset_index(drop=True) for name, source in ids.items()}
            users = resolve_users(col, dict(ids), _factorize)
        except InputError as error:
            raise _shifted(error, first_row) from None
        keys = np.asarray(users.key) if links(ids) else frame[ids["user"]].to_numpy()
    out[KEY] = keys
    if duplicate is None:
        names = canonical_names(frame, options)
        if "message_id" in names:
            direction = direction_codes(frame[names["direction"]], names["direction"], first_row)
            duplicate = first_seen_duplicates(frame[names["message_id"]], direction)
        else:
            duplicate = np.zeros(len(frame), dtype=bool)
    out[DUPLICATE] = duplicate
    return out


def pair_partition(business: pd.Series, key: pd.Series, partitions: int) -> np.ndarray:
    """Partition of each row's (business, user key) pair: a hash that is the same in every
    process (pandas' fixed-key SipHash), so a stream's spill is reproducible."""
    h = value_hashes(business) * np.uint64(0x9E3779B97F4A7C15)
    h ^= value_hashes(key)
    return (h % np.uint64(partitions)).astype(np.int32)


def value_hashes(values: pd.Series) -> np.ndarray:
    """A hash of each value that is the same in every process and for every column type of
    the same text (a stream's batches may type a column differently): text, Arrow-backed or
    object `str`, by the core's string hash (every core); anything else by pandas'
    fixed-key SipHash. Nulls of text hash to 0."""
    hashes = hashes_if_text(values)
    return hashes if hashes is not None else pd.util.hash_array(values.to_numpy())


def id_hashes(ids: pd.Series) -> np.ndarray:
    """A hash of each message id that is the same in every process and for every input type
    of the same text (a stream's batches may type one id column differently): the core's
    string hash of the id's text. Equal ids, equal hashes; nulls hash to 0."""
    return text_hashes(ids)


def shared_keys(hashes: np.ndarray, direction: np.ndarray) -> np.ndarray:
    """Whether another row has the same (hash, direction): the rows that may repeat an id or be
    repeated (equal ids, equal hashes), found by the core's hash set forwards and backwards."""
    keys = np.ascontiguousarray(hashes).view(np.int64)
    direction = np.ascontiguousarray(direction, dtype=np.int8)
    later = _core.duplicate_integers(keys, direction)
    earlier = _core.duplicate_integers(keys[::-1].copy(), direction[::-1].copy())[::-1]
    return (later | earlier).astype(bool)


def sorted_member(rows: np.ndarray, sorted_values: np.ndarray) -> np.ndarray:
    """Whether each of `rows` is in `sorted_values` (ascending). Fewer values than ascending
    rows (a partition's rows and the duplicates) are each looked up among the rows: a search
    per value instead of one per row, 3-4x faster."""
    if len(sorted_values) < len(rows) and np.all(rows[1:] > rows[:-1]):
        member = np.zeros(len(rows), bool)
        at = np.minimum(np.searchsorted(rows, sorted_values), len(rows) - 1)
        member[at[rows[at] == sorted_values]] = True
        return member
    return row_positions(rows, sorted_values) >= 0
