"""Errors and warnings raised by waconv."""

from __future__ import annotations


class InputError(ValueError):
    """Bad input: names the column, the first offending row (None for the whole column) and why.

    Raised before anything is computed, so no partial result ever exists.
    """

    def __init__(self, column: str, row: int | None, reason: str) -> None:
        self.column = column
        self.row = row
        self.reason = reason
        where = f"column {column!r}" + (f", row {row}" if row is not None else "")
        super().__init__(f"{where}: {reason}")

    def __reduce__(self):  # keep column/row/reason through pickling (multiprocessing, Dask)
        return (type(self), (self.column, self.row, self.reason))


class WaconvWarning(UserWarning):
    """Something in the input that is classified, but deserves a look."""
