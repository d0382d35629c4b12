"""Errors and warnings raised by waconv."""

from __future__ import annotations


class InputError(ValueError):
    """Bad input, raised before anything is computed, so no partial result ever exists.

    For tables: `column`, the first offending `row` (None: the whole column) and `reason`.
    For files (rate cards, tier tables): also `file`; `row` is then the 1-based line.
    """

    def __init__(self, column: str | None, row: int | None, reason: str, *, file: str | None = None) -> None:
        self.column = column
        self.row = row
        self.reason = reason
        self.file = file
        if file is not None:
            where = f"file {file!r}" + (f", line {row}" if row is not None else "")
            if column:
                where += f", column {column!r}"
        else:
            where = f"column {column!r}" + (f", row {row}" if row is not None else "")
        super().__init__(f"{where}: {reason}")

    @property
    def line(self) -> int | None:
        return self.row if self.file is not None else None

    def __reduce__(self):  # keep the fields through pickling (multiprocessing, Dask)
        return (_rebuild, (self.column, self.row, self.reason, self.file))


def _rebuild(column: str | None, row: int | None, reason: str, file: str | None) -> InputError:
    return InputError(column, row, reason, file=file)


class WaconvWarning(UserWarning):
    """Something in the input that is classified, but deserves a look."""
