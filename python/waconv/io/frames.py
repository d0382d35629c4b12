"""Tables in and out: pandas, pyarrow and polars (and anything speaking the Arrow C stream).

The engine reads pandas columns; Arrow and polars tables are wrapped, not copied: Arrow
string columns become Arrow-backed pandas strings (their buffers are hashed in C++, see
waconv.engine.strings), numeric and timestamp columns keep their memory. polars is never imported
here, so it stays an optional dependency.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Mapping
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from waconv._errors import InputError
from waconv.engine.canonical import READ_AS_VIEWS, resolve_columns
from waconv.engine.strings import is_string_view, without_views
from waconv.io.arrow_out import table_from_pandas

OUTPUTS = ("pandas", "arrow", "polars")


def _module_of(obj: object) -> str:
    return type(obj).__module__.split(".", 1)[0]


def _plain_strings(table: pa.Table, keep_views: set[str] | None = None) -> pa.Table:
    """Dictionary-encoded columns (Parquet's default for low-cardinality strings) and
    run-end encoded ones decoded, string_view columns (pyarrow >= 16, polars' own layout) as
    large_string.

    A pandas Categorical would keep the dictionary's order, which depends on the order rows
    were written; waconv's ids must not. The casts run in Arrow's C++, no Python objects.
    keep_views: the plain string_view columns of these names stay as they are (see
    as_pandas_reading_views).
    """
    for i, field in enumerate(table.schema):
        original = table.column(i)
        column = original
        if _is_run_end_encoded(column.type):  # pandas' split blocks refuse them
            column = pc.run_end_decode(column)
        if not (keep_views and field.name in keep_views and is_string_view(column.type)):
            column = without_views(column)
        if pa.types.is_dictionary(column.type):
            column = column.cast(column.type.value_type)
        if column is not original:
            table = table.set_column(i, field.name, column)
    return table


def _is_run_end_encoded(data_type: pa.DataType) -> bool:
    is_run_end_encoded = getattr(pa.types, "is_run_end_encoded", None)  # pyarrow >= 13
    return is_run_end_encoded is not None and is_run_end_encoded(data_type)


_EXPECTED = "expected a pandas DataFrame, pyarrow Table or polars DataFrame"


def collected(events: Any) -> Any:
    """A polars LazyFrame's result (the user asked for it); any other table as it is."""
    if _module_of(events) == "polars" and hasattr(events, "collect"):
        return events.collect()
    return events


def is_polars_frame(events: Any) -> bool:
    return _module_of(events) == "polars" and not _is_column(events) and hasattr(events, "to_arrow")


def as_pandas(events: Any) -> pd.DataFrame:
    """The user's table as a pandas DataFrame sharing its memory where the layout allows."""
    if isinstance(events, pd.DataFrame):
        return events
    given = type(events).__name__
    if _is_column(events):  # a Series exports an Arrow stream too, of its values rather than of rows
        raise InputError("events", None, f"{_EXPECTED}, got {given}: one column, not a table")
    if isinstance(events, pa.RecordBatch):
        events = pa.Table.from_batches([events])
    if _module_of(events) == "polars":
        events = collected(events)
        # polars' default export uses large_string, which the C++ factorizer reads directly.
        events = events.to_arrow()
    elif not isinstance(events, pa.Table) and hasattr(events, "__arrow_c_stream__"):
        events = _arrow_table(events, given)  # DuckDB relations, other Arrow producers
    if isinstance(events, pa.Table):
        return _table_to_pandas(_plain_strings(events))
    raise InputError("events", None, f"{_EXPECTED}, got {given}")


def as_pandas_reading_views(events: Any, columns: Mapping[str, str] | None) -> tuple[pd.DataFrame, list[int]]:
    """as_pandas, but the string_view columns of an Arrow table or polars frame (polars' own
    layout) that the engine reads in place (canonical.READ_AS_VIEWS, named as `columns`
    says) stay string_view instead of being copied: (the frame, the positions of those
    columns)."""
    events = collected(events)
    if is_polars_frame(events):
        events = _polars_to_arrow(events, columns)
    if not isinstance(events, (pa.Table, pa.RecordBatch)):
        return as_pandas(events), []
    if isinstance(events, pa.RecordBatch):
        events = pa.Table.from_batches([events])
    read_in_place = set(_in_place_names(events.column_names, columns))
    table = _plain_strings(events, keep_views=read_in_place)
    views = [k for k, field in enumerate(table.schema) if is_string_view(field.type)]
    mapper = {table.schema.field(k).type: pd.ArrowDtype(table.schema.field(k).type) for k in views}
    return _table_to_pandas(table, mapper.get if views else None), views


def _polars_to_arrow(frame: Any, columns: Mapping[str, str] | None) -> pa.Table:
    """A polars DataFrame as Arrow: its String columns the engine reads in place exported as
    polars holds them (string_view, no copy), every other column as as_pandas exports it."""
    polars = sys.modules["polars"]
    compat = getattr(polars, "CompatLevel", None)  # polars >= 1.1
    in_place = {name for name in _in_place_names(frame.columns, columns) if frame.schema[name] == polars.String}
    if compat is None or not in_place:
        return frame.to_arrow()
    views = frame.select([name for name in frame.columns if name in in_place]).to_arrow(compat_level=compat.newest())
    rest = frame.select([name for name in frame.columns if name not in in_place]).to_arrow()
    return pa.table({name: (views if name in in_place else rest).column(name) for name in frame.columns})


def with_plain_strings(table: pd.DataFrame, events: Any) -> pd.DataFrame:
    """A result table of a polars frame read through as_pandas_reading_views, with the
    columns left in Arrow types as as_pandas would have given them: the string_view columns
    taken from `events` (user_key is the user column's own array) as polars exports them,
    to large_string then pandas, one copy for the columns sharing an array; and the ids the
    engine took from views as large_string (users in conversations and windows) by Arrow's
    own conversion.

    Made once the core has run rather than before it: preparation is shorter, and the copy
    of the strings does not sit beside the core's working memory."""
    shared: dict[tuple[int, int, int], list[int]] = {}  # positions per string_view array
    large = []
    for position, dtype in enumerate(table.dtypes):
        if isinstance(dtype, pd.ArrowDtype) and is_string_view(dtype.pyarrow_dtype):
            shared.setdefault(_identity(table.iloc[:, position]), []).append(position)
        elif isinstance(dtype, pd.ArrowDtype) and pa.types.is_large_string(dtype.pyarrow_dtype):
            large.append(position)
    if not shared and not large:
        return table
    own = set(events.columns) if len(table) == len(events) else set()
    sources = {key: [table.columns[k] for k in positions if table.columns[k] in own]
               for key, positions in shared.items()}
    # polars' own export of its views to large_string is faster than Arrow's cast.
    exported = as_pandas(events.select([names[0] for names in sources.values() if names]))
    arrays = {str(k): table.iloc[:, k].array.__arrow_array__() for k in large}
    arrays.update({str(positions[0]): without_views(table.iloc[:, positions[0]].array.__arrow_array__())
                   for key, positions in shared.items() if not sources[key]})
    converted = _table_to_pandas(pa.table(arrays))
    table = table.copy(deep=False)
    for key, positions in shared.items():
        column = exported[sources[key][0]] if sources[key] else converted[str(positions[0])]
        for position in positions:
            table.isetitem(position, column.array)
    for position in large:
        table.isetitem(position, converted[str(position)].array)
    return table


def _identity(column: pd.Series) -> tuple[int, int, int]:
    """Where a string_view column's rows are: its first views buffer, offset and length."""
    chunks = column.array.__arrow_array__().chunks
    first = chunks[0] if chunks else None
    return (0 if first is None else first.buffers()[1].address, 0 if first is None else first.offset, len(column))


def _in_place_names(names: list[str], columns: Mapping[str, str] | None) -> list[str]:
    """The input's names for the canonical columns read as views; none when its names are
    ambiguous (canonicalize then reports them, from plain columns)."""
    if len(set(names)) != len(names):
        return []
    try:
        resolved = resolve_columns(pd.DataFrame(columns=names), columns)
    except InputError:
        return []
    return [resolved[name] for name in READ_AS_VIEWS if name in resolved]


def _table_to_pandas(table: pa.Table, types_mapper: Any = None) -> pd.DataFrame:
    try:
        return table.to_pandas(split_blocks=True, self_destruct=False, types_mapper=types_mapper)
    except pa.ArrowException as error:  # a type pandas has no column for, a time zone it does not know
        for name, column in zip(table.column_names, table.columns):
            try:
                pa.table({"column": column}).to_pandas(split_blocks=True, self_destruct=False)
            except pa.ArrowException as own:
                raise InputError(name, None, f"an Arrow column of type {column.type} pandas cannot hold: "
                                 f"{_first_line(own)}") from None
        # Each column alone converts: the table's pandas metadata asks for what its data is not.
        raise InputError("events", None, f"pandas cannot read this Arrow table: {_first_line(error)}") from None


def _first_line(error: Exception) -> str:
    return str(error).splitlines()[0] if str(error) else type(error).__name__


def _is_column(events: Any) -> bool:
    if isinstance(events, (pd.Series, pd.Index, pa.Array, pa.ChunkedArray)):
        return True
    return _module_of(events) == "polars" and type(events).__name__ == "Series"


def _arrow_table(events: Any, given: str) -> pa.Table:
    """The table an Arrow C stream producer exports; its stream must be of rows (a struct)."""
    try:
        return pa.table(events)
    except (pa.ArrowException, TypeError, ValueError) as error:
        raise InputError("events", None, f"{_EXPECTED}, got {given}: its Arrow stream is not a table "
                         f"({_first_line(error)})") from None


def check_output(output: str) -> None:
    if output not in OUTPUTS:
        raise InputError("output", None, f"unknown output {output!r}; use one of {', '.join(OUTPUTS)}")


def check_names_for(output: str, frame: pd.DataFrame) -> None:
    """Arrow and polars tables need distinct column names; pandas frames do not. Checked
    before anything is computed, as the input's columns all come back."""
    if output == "pandas" or frame.columns.is_unique:
        return
    name = frame.columns[frame.columns.duplicated()][0]
    raise InputError(name, None, f"several columns have this name; output={output!r} needs distinct names")


def to_arrow(frame: pd.DataFrame) -> pa.Table:
    """A result table as Arrow: categoricals become dictionary arrays, nullable ints keep nulls.

    The input's own columns come back too, and pandas holds what Arrow cannot (a Python
    object column mixing ints and strings, a string with a lone surrogate): such a column
    is reported as an InputError naming it and its first such row.
    """
    frame = _dense(frame)
    try:
        return table_from_pandas(frame)
    except (pa.ArrowException, UnicodeError) as error:
        raise _unwritable(frame, error) from None


def _dense(frame: pd.DataFrame) -> pd.DataFrame:
    """Sparse columns as their dense values: Arrow has no sparse layout and refuses them."""
    sparse = [k for k, dtype in enumerate(frame.dtypes) if isinstance(dtype, pd.SparseDtype)]
    if not sparse:
        return frame
    frame = frame.copy(deep=False)
    for position in sparse:
        frame.isetitem(position, frame.iloc[:, position].sparse.to_dense())
    return frame


def _unwritable(frame: pd.DataFrame, error: Exception) -> Exception:
    for position, name in enumerate(frame.columns):
        column = frame.iloc[:, position]
        if _arrow_error(column) is None:
            continue
        # The shortest prefix Arrow refuses ends at the first row it cannot take.
        low, high = 0, len(column)  # column[:low] converts, column[:high] does not
        while high - low > 1:
            middle = (low + high) // 2
            if _arrow_error(column.iloc[:middle]) is None:
                low = middle
            else:
                high = middle
        reason = _arrow_error(column.iloc[:high])
        return InputError(name, high - 1, f"cannot be written to Arrow: {reason}")
    return error  # not one column's values: a bug, not bad input


def _arrow_error(column: pd.Series) -> str | None:
    try:
        pa.Array.from_pandas(column)
    except (pa.ArrowException, UnicodeError) as error:
        return str(error).splitlines()[0] if str(error) else type(error).__name__
    return None


def from_arrow(table: pa.Table) -> pd.DataFrame:
    """An Arrow table (one `to_arrow` wrote, say) back as pandas.

    pandas records each column's dtype by name in the table's metadata, but cannot parse
    every name back: an Arrow-backed column of a dictionary, list, struct or decimal type
    made to_pandas() raise. Such columns come back with that Arrow type (pd.ArrowDtype).
    """
    meta = table.schema.pandas_metadata
    if not meta:
        return table.to_pandas()
    unreadable = {c.get("field_name", c.get("name")) for c in meta.get("columns", []) if not _known_dtype(c)}
    if not unreadable:
        return table.to_pandas()
    columns = [dict(c, numpy_type="object") if c.get("field_name", c.get("name")) in unreadable else c
               for c in meta["columns"]]
    metadata = {**table.schema.metadata, b"pandas": json.dumps({**meta, "columns": columns}).encode()}
    frame = table.replace_schema_metadata(metadata).to_pandas()
    index_fields = {i for i in meta.get("index_columns", []) if isinstance(i, str)}
    data_fields = [name for name in table.column_names if name not in index_fields]
    for position, name in enumerate(data_fields):  # by position: the frame's labels may differ
        if name in unreadable:
            frame.isetitem(position, pd.arrays.ArrowExtensionArray(table.column(name)))
    return frame


def _known_dtype(column: dict[str, Any]) -> bool:
    try:
        pd.api.types.pandas_dtype(column.get("numpy_type"))
    except (TypeError, ValueError, NotImplementedError):
        return False
    return True


def convert(frame: pd.DataFrame, output: str) -> Any:
    if output == "pandas":
        return frame
    table = to_arrow(frame)
    if output == "arrow":
        return table
    try:
        import polars as pl
    except ImportError as error:  # pragma: no cover - depends on the environment
        raise ImportError('output="polars" needs polars: pip install "waconv[polars]"') from error
    return pl.from_arrow(table)
