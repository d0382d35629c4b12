"""Files for the command line: event logs in (CSV, Parquet, webhook JSON lines), tables out."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from waconv._errors import InputError
from waconv.engine.canonical import read_csv_with_text_ids
from waconv.io.arrow_out import table_from_pandas

INPUT_FORMATS = ("auto", "csv", "parquet", "webhooks", "sunshine")
OUTPUT_FORMATS = ("parquet", "csv")


def input_format(path: Path, requested: str) -> str:
    if requested != "auto":
        return requested
    suffixes = [s.lower() for s in path.suffixes if s.lower() not in (".gz", ".bz2", ".zst", ".xz")]
    last = suffixes[-1] if suffixes else ""
    if last in (".parquet", ".pq"):
        return "parquet"
    if last in (".json", ".jsonl", ".ndjson"):
        return "webhooks"
    if last in (".csv", ".txt"):
        return "csv"
    raise InputError(None, None, "cannot tell the format from the name; pass --input-format", file=str(path))


def _read_csv(path: Path) -> pd.DataFrame:
    try:
        return read_csv_with_text_ids(path)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as error:
        raise InputError(None, None, f"not a readable CSV file ({error})", file=str(path)) from None


def _read_parquet(path: Path) -> pa.Table:
    try:
        return pq.read_table(path)
    except (pa.ArrowInvalid, OSError) as error:
        raise InputError(None, None, f"not a readable Parquet file ({error})", file=str(path)) from None


def read_events(paths: list[Path], requested: str = "auto") -> tuple[pd.DataFrame | pa.Table, str]:
    """The events of one or more files of one format, and that format."""
    from waconv.io.sunshine.read import read_sunshine
    from waconv.io.webhooks.read import read_webhooks

    for path in paths:
        if not path.exists():
            raise InputError(None, None, "no such file", file=str(path))
    formats = {input_format(path, requested) for path in paths}
    if len(formats) > 1:
        raise InputError(None, None, f"the inputs mix formats ({', '.join(sorted(formats))}); pass one kind")
    kind = formats.pop()
    if kind == "webhooks":
        return read_webhooks([str(p) for p in paths]), kind
    if kind == "sunshine":
        return read_sunshine([str(p) for p in paths]), kind
    if kind == "parquet":
        tables = [_read_parquet(p) for p in paths]
        return (tables[0] if len(tables) == 1 else pa.concat_tables(tables, promote_options="default")), kind
    frames = [_read_csv(p) for p in paths]
    return (frames[0] if len(frames) == 1 else pd.concat(frames, ignore_index=True)), kind


def _parquet_ready(frame: pd.DataFrame) -> pd.DataFrame:
    """Object columns holding mixed Python values (webhook ids, meta fields) as strings."""
    out = frame.copy(deep=False)
    for name in out.columns:
        if out[name].dtype == object:
            out[name] = out[name].map(lambda v: v if v is None or isinstance(v, str) else str(v))
    return out


def write_parquet(frame: pd.DataFrame, where) -> None:
    """`frame` as Parquet to `where`, a path or a binary stream (standard output)."""
    pq.write_table(table_from_pandas(_parquet_ready(frame)), where)


def write_table(frame: pd.DataFrame, directory: Path, name: str, fmt: str) -> Path:
    path = directory / f"{name}.{fmt}"
    if fmt == "parquet":
        write_parquet(frame, path)
    else:
        frame.to_csv(path, index=False)
    return path
