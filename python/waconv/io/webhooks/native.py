"""The fast path of read_webhooks for files: the C++ reader (simdjson, zlib, every core).

``waconv._core.read_webhook_file`` reads a JSON-lines file (or one JSON array / payload)
straight into the columns :mod:`waconv.io.webhooks.columns` produces with Arrow, one batch
per thread. It reads a line only when every field the payload walker uses has a shape the
walker accepts, to the same values; every other line comes back as its bytes and is read
by the walker (:mod:`waconv.io.webhooks.walk`) as if the file had been read line by line,
so its rows, file / line / field messages and rejected rows are the walker's own. A file it
cannot take apart at all (a corrupt gzip stream, a ``.json`` file that is not one document
of readable payloads) is left to the other paths whole.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import pyarrow as pa

from waconv import _core
from waconv.io.webhooks.sources import Document, is_gzipped, is_json_lines, line_document


class NativeRead(NamedTuple):
    """Columnar batches (the shape of columns.read_columns) and the lines left to the walker."""

    batches: list[dict[str, Any]]
    fallback: list[Document]
    payloads: int  # payloads read in C++


def read_native(path: Path, threads: int = 0) -> NativeRead | None:
    """The file read by the C++ reader, or None when it must be read by another path."""
    try:
        read = _core.read_webhook_file(str(path), json_lines=is_json_lines(path), gzipped=is_gzipped(path),
                                       threads=threads)
    except (MemoryError, ValueError):  # a column past 2 GiB in one share: the other paths cope
        return None
    if isinstance(read, str):
        return None
    batches = [_batch(batch) for batch in read["batches"]]
    offsets, data, _ = read["fallback_text"]
    name = str(path)
    fallback = []
    for k, number in enumerate(read["fallback_lines"].tolist()):
        document = line_document(name, number, data[offsets[k]:offsets[k + 1]].tobytes())
        if document is not None:
            fallback.append(document)
    return NativeRead(batches, fallback, sum(batch["payloads"] for batch in read["batches"]))


def _batch(raw: dict[str, Any]) -> dict[str, Any]:
    statuses, messages = raw["statuses"], raw["messages"]
    change, bsuid, phone, country = raw["contacts"]
    return {
        "statuses": {name: _column(values) for name, values in statuses.items()},
        "messages": {name: _column(values) for name, values in messages.items()},
        "pairs": (_text(raw["pairs"][0]), _text(raw["pairs"][1])),
        "contacts": (change, _text(bsuid), _text(phone), _text(country)),
        "changes": raw["changes"],
        "displays": (_text(raw["displays"][0]), _text(raw["displays"][1])),
    }


def _column(values: Any) -> pa.Array:
    if isinstance(values, np.ndarray):
        return pa.array(values.astype(bool) if values.dtype == np.uint8 else values)
    if len(values) == 3:
        return _text(values)
    numbers, valid = values
    mask = valid == 0
    if numbers.dtype == np.uint8:  # meta_billable
        return pa.array(numbers.astype(bool), mask=mask)
    return pa.array(numbers, mask=mask if mask.any() else None)


def _text(column: tuple[np.ndarray, np.ndarray, np.ndarray]) -> pa.Array:
    """An Arrow string array over the C++ buffers (no copy of offsets or bytes)."""
    offsets, data, valid = column
    size = len(valid)
    nulls = size - int(np.count_nonzero(valid))
    bitmap = pa.py_buffer(np.packbits(valid.view(bool), bitorder="little")) if nulls else None
    return pa.StringArray.from_buffers(size, pa.py_buffer(offsets), pa.py_buffer(data), bitmap, nulls)
