"""Where the command line writes one table: a file whose extension names the format, or ``-``.

``.csv``, ``.parquet``, ``.json`` (an array of row objects; times in ISO 8601 with their UTC
offset) and ``.txt`` (the table as printed). ``-`` is standard output, as CSV unless a
format is asked for. Any other extension is an option error, raised before any work.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd

from waconv.cli.options import OptionError
from waconv.io.files import write_parquet

STDOUT = "-"
FILE_FORMATS = {".csv": "csv", ".parquet": "parquet", ".json": "json", ".txt": "text"}


def file_format(target: str, option: str = "--output") -> str:
    """The format `target` asks for by its extension; ``-`` (standard output) is CSV."""
    if target == STDOUT:
        return "csv"
    fmt = FILE_FORMATS.get(Path(target).suffix.lower())
    if fmt is None:
        raise OptionError(option, f"cannot tell the format of {target!r} from its extension; "
                                  f"use {', '.join(FILE_FORMATS)} or - (standard output)")
    return fmt


def table_text(frame: pd.DataFrame) -> str:
    return frame.to_string(index=False)


def _iso(value):
    return value.isoformat() if isinstance(value, pd.Timestamp) else value


def table_json(frame: pd.DataFrame) -> str:
    """Row objects; times keep their zone's offset (pandas' own ISO output turns them to UTC)."""
    out = frame.copy(deep=False)
    for name in out.columns:
        column = out[name]
        if pd.api.types.is_datetime64_any_dtype(column.dtype) or column.dtype == object:
            out[name] = column.map(_iso).astype(object).where(column.notna(), None)
    return out.to_json(orient="records", indent=2, date_format="iso")


def write_output(frame: pd.DataFrame, target: str, fmt: str) -> None:
    """`frame` as `fmt` (csv, parquet, json, text) into the file `target`, or ``-``."""
    if fmt == "parquet":
        if target == STDOUT:
            sys.stdout.flush()
            write_parquet(frame, sys.stdout.buffer)
            sys.stdout.buffer.flush()
        else:
            write_parquet(frame, target)
    elif fmt == "csv":
        frame.to_csv(sys.stdout if target == STDOUT else target, index=False)
    else:
        write_text(table_json(frame) if fmt == "json" else table_text(frame), target)


def write_text(text: str, target: str | None) -> None:
    """`text` and a newline into the file `target`, or standard output (None or ``-``)."""
    if target is None or target == STDOUT:
        print(text)
    else:
        Path(target).write_text(text + "\n")
