"""Repeated deliveries: rows repeating an earlier row's (message_id, direction).

Webhooks are delivered at least once, so logs built from them hold some messages twice.
The first row of each (message_id, direction) is the message, later ones are flagged and
skipped by the scan; a null id is never a duplicate. Arrow string ids (pandas' default
strings, Arrow and polars tables), Python ``str`` object columns and int64 ids are checked
in the core's hash set (GIL released, every core); ids of any other type by pandas, whose
``DataFrame.duplicated`` defines the result for all of them.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from waconv import _core
from waconv.engine.strings import arrow_buffers, as_arrow_text


def duplicate_rows(ids: pd.Series, direction: np.ndarray, threads: int = 0) -> np.ndarray:
    """uint8 per row: 1 where an earlier row has the same id and direction code.
    `threads`: 0 = one per core."""
    direction = np.ascontiguousarray(direction, dtype=np.int8)
    found = arrow_buffers(as_arrow_text(ids))  # object columns of str as Arrow strings
    if found is not None:
        return _core.duplicate_strings(*found[1], direction, threads=threads)
    if ids.dtype == np.int64:
        return _core.duplicate_integers(ids.to_numpy(), direction, threads=threads)
    return pandas_duplicate_rows(ids, direction)


def pandas_duplicate_rows(ids: pd.Series, direction: np.ndarray) -> np.ndarray:
    """The same by pandas: ids compare as Python values (so 1 and 1.0 are one id, "1" another)."""
    keyed = pd.DataFrame({"id": ids.to_numpy(), "direction": direction})
    return (keyed.duplicated().to_numpy() & ids.notna().to_numpy()).astype(np.uint8)
