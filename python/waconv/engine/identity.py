"""Identity (docs/rules.md §Identity): the user id columns to one user code per row.

A log names its users with `user` (a phone number or a BSUID), `user_phone` and
`user_bsuid`, any of them, at least one. Every id a row carries names the same person; links
are transitive over the whole input (a union-find in the core, on codes), and each linked
group is one user for everything downstream, keyed by its smallest phone number, else its
smallest BSUID. Empty strings are nulls, never an id. With `user` alone nothing can link,
so the ids are factorized as they are and the key of a row is its `user`.

Columnar throughout: each column is factorized once (in C++ for Arrow strings and int64),
and only the distinct values are looked at in Python, never the rows.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import pyarrow.compute as pc

from waconv import _core
from waconv._errors import InputError
from waconv.engine.strings import arrow_buffers, factorize_strings

ID_COLUMNS = ("user", "user_phone", "user_bsuid")
# A `user` value made only of digits, spaces and + - . ( ), with at least one digit, is a phone
# number; any other (letters: "US.13491208655302741918", "user.9373...") is a BSUID.
_PHONE_SHAPE = r"^[0-9+\-.() \t]*[0-9][0-9+\-.() \t]*$"

Factorize = Callable[[pd.Series, str, int], "tuple[np.ndarray, pd.Index]"]


@dataclass
class Users:
    codes: np.ndarray  # int32 per row: the row's user (linked group), in sorted order of the keys
    values: pd.Index  # per user code: its key
    key: Any  # per row: its key, the output column user_key (the user column itself, or a categorical)


def resolve_users(col: dict[str, pd.Series], names: dict[str, str], factorize: Factorize,
                  partitions: int = 0) -> Users:
    """The user of every row. `col` / `names`: the canonical columns and the input's names for
    them; `factorize(series, column, partitions)`: canonical's sorted factorization."""
    present = [name for name in ID_COLUMNS if name in col]
    if present == ["user"]:
        return _user_only(col["user"], names["user"], factorize, partitions)
    parts = [_Part(name, names[name], *factorize(col[name], names[name], partitions)) for name in present]
    node_values, nodes, preferred = _nodes(parts)
    group, key_node, missing = _core.resolve_identity([p.codes for p in parts], nodes, preferred, threads=partitions)
    if missing >= 0:
        raise _no_id(parts, int(missing))
    values = node_values.take(key_node)
    # A categorical over the keys: taking 10M strings row by row costs seconds, the codes are free.
    return Users(group, values, pd.Categorical.from_codes(group, dtype=pd.CategoricalDtype(values), validate=False))


def _user_only(series: pd.Series, column: str, factorize: Factorize, partitions: int) -> Users:
    codes, values = factorize(series, column, partitions)
    empty = _empty_code(values)
    bad = codes < 0 if empty < 0 else (codes < 0) | (codes == empty)
    if bad.any():
        row = int(np.argmax(bad))
        raise InputError(column, row, "null user" if codes[row] < 0 else "empty user (an empty string is no id)")
    # The key column is the user column itself, string_view columns too: nothing indexes
    # the key before the result is made, and a result other than polars' gets it as str
    # along with the user column (io.frames.with_plain_strings), without a second copy.
    return Users(codes, values, series.array)


@dataclass
class _Part:
    name: str  # canonical name: user, user_phone or user_bsuid
    column: str  # the input's name for it
    codes: np.ndarray
    uniques: pd.Index


def _empty_code(uniques: pd.Index) -> int:
    """Code of the empty string among sorted uniques (it sorts first), or -1."""
    if len(uniques) == 0:
        return -1
    first = uniques[0]
    return 0 if isinstance(first, str) and first == "" else -1


def _phones(part: _Part, uniques: pd.Index) -> np.ndarray:
    """Which distinct values of the part are phone numbers (bool per value)."""
    if part.name != "user":
        return np.full(len(uniques), part.name == "user_phone")
    if pd.api.types.is_numeric_dtype(uniques.dtype):
        return np.ones(len(uniques), dtype=bool)
    found = arrow_buffers(uniques)
    if found is not None:  # Arrow-backed: the regex runs in Arrow's C++
        return pc.match_substring_regex(found[0], _PHONE_SHAPE).to_numpy(zero_copy_only=False)
    return pd.Series(uniques.astype(str)).str.fullmatch(_PHONE_SHAPE).to_numpy(dtype=bool)


def _nodes(parts: list[_Part]) -> tuple[pd.Index, list, np.ndarray]:
    """The distinct ids of every column as one sorted node space (the same value in two
    columns is one node): (node values, per part how its codes map to nodes, as the core's
    resolve_identity takes it, per node whether it is a phone number)."""
    valid = []  # per part: its first valid code and its valid uniques
    for part in parts:
        first = _empty_code(part.uniques) + 1
        valid.append((first, part.uniques[first:]))
    nodes: list = []
    starts = []  # per part: the node of its first valid code, or None (then `nodes` maps each code)
    if len({uniques.dtype for _, uniques in valid}) == 1 and _ascending_apart([u for _, u in valid]):
        # The usual log: every phone sorts before every BSUID, so the columns' sorted uniques,
        # one after the other, are already the sorted node space: codes shift, nothing merges.
        start = 0
        for part, (first, uniques) in zip(parts, valid):
            nodes.append((len(part.uniques), first, start - first))
            starts.append(start)
            start += len(uniques)
        node_values = _concat([u for _, u in valid])
    else:
        merged = _concat(_common_dtype([u for _, u in valid]))
        codes, node_values = _sorted_factorize(merged)
        start = 0
        for first, uniques in valid:
            nodes.append(np.concatenate([np.full(first, -1, np.int32), codes[start : start + len(uniques)]]))
            starts.append(None)
            start += len(uniques)
    preferred = np.zeros(len(node_values), dtype=np.uint8)
    for part, (first, uniques), mapping, start in zip(parts, valid, nodes, starts):
        of_valid = np.arange(start, start + len(uniques)) if start is not None else mapping[first:]
        preferred[of_valid[_phones(part, uniques)]] = 1
    return node_values, nodes, preferred


def _ascending_apart(uniques: list[pd.Index]) -> bool:
    """Whether each (sorted) index's values all sort before the next one's."""
    filled = [u for u in uniques if len(u)]
    try:
        return all(a[-1] < b[0] for a, b in zip(filled, filled[1:]))
    except TypeError:  # values that do not compare
        return False


def _common_dtype(uniques: list[pd.Index]) -> list[pd.Index]:
    """The indexes in one dtype: as they are when they share one, else as text (an int phone
    number beside string BSUIDs becomes its decimal digits), in the first string dtype given."""
    if len({u.dtype for u in uniques}) == 1:
        return uniques
    text = [u.dtype for u in uniques if pd.api.types.is_string_dtype(u.dtype) and u.dtype != object]
    target = text[0] if text else object
    return [u.astype(str).astype(target) for u in uniques]


def _concat(indexes: list[pd.Index]) -> pd.Index:
    return indexes[0].append(indexes[1:]) if len(indexes) > 1 else indexes[0]


def _sorted_factorize(values: pd.Index) -> tuple[np.ndarray, pd.Index]:
    series = pd.Series(values, copy=False)
    found = factorize_strings(series)
    if found is not None:
        return found
    if series.dtype == np.int64:
        codes, uniques = _core.factorize_integers(series.to_numpy())
        return codes, pd.Index(uniques)
    codes, uniques = pd.factorize(series, sort=True)
    return codes.astype(np.int32, copy=False), pd.Index(uniques)


def _no_id(parts: list[_Part], row: int) -> InputError:
    column = "/".join(p.column for p in parts)
    if len(parts) == 1:
        return InputError(column, row, f"null or empty {parts[0].name}: the row has no user id")
    listed = " and ".join(p.column for p in parts)
    return InputError(column, row, f"no user id: {listed} are null or empty (an empty string is no id)")

