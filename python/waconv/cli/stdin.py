"""The log of the command line: its files, and ``-`` for standard input.

Standard input is spooled to a temporary file named for its format, so that every reader of
:mod:`waconv.io.files` (and its errors) serves it unchanged; errors then name ``<stdin>``.
With ``--input-format auto`` its format is sniffed: Parquet's ``PAR1`` magic bytes are
Parquet, text starting with ``{`` or ``[`` is Cloud API webhooks (JSON lines, one JSON
payload or a JSON array of them), anything else CSV. Sunshine webhooks need
``--input-format sunshine``.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path
from typing import Any

import orjson

from waconv._errors import InputError
from waconv.cli.options import OptionError
from waconv.io.files import read_events

STDIN = "-"
STDIN_NAME = "<stdin>"


def sniff_format(data: bytes) -> str:
    """The input format of standard input's bytes, for ``--input-format auto``."""
    if data[:4] == b"PAR1":
        return "parquet"
    if data.lstrip()[:1] in (b"{", b"["):
        return "webhooks"
    return "csv"


def _suffix(kind: str, data: bytes) -> str:
    if kind == "parquet":
        return ".parquet"
    if kind in ("webhooks", "sunshine"):
        # One JSON document (a payload, an array of them, or one pretty-printed) reads as .json;
        # anything else as JSON lines, whose errors name the line of the broken payload.
        try:
            orjson.loads(data)
        except orjson.JSONDecodeError:
            first = data.lstrip().split(b"\n", 1)[0].strip()
            return ".json" if first in (b"{", b"[") else ".jsonl"
        return ".json"
    return ".csv"


def read_inputs(inputs: list[str], requested: str = "auto") -> tuple[Any, str]:
    """The events of the input files, ``-`` among them for standard input, and their format."""
    if inputs.count(STDIN) > 1:
        raise OptionError("input", "'-' (standard input) can be given only once")
    if STDIN not in inputs:
        return read_events([Path(p) for p in inputs], requested)
    data = sys.stdin.buffer.read()
    kind = sniff_format(data) if requested == "auto" else requested
    with tempfile.TemporaryDirectory(prefix="waconv-stdin-") as directory:
        spooled = Path(directory) / f"stdin{_suffix(kind, data)}"
        spooled.write_bytes(data)
        paths = [spooled if p == STDIN else Path(p) for p in inputs]
        try:
            # The readers hold every row in memory when they return: the file can go.
            # Its name tells read_events the sniffed format when the others are by name too.
            return read_events(paths, requested)
        except InputError as error:
            raise _named_stdin(error, spooled) from None


def _named_stdin(error: InputError, spooled: Path) -> InputError:
    if error.file != str(spooled) and str(spooled) not in error.reason:
        return error
    file = STDIN_NAME if error.file == str(spooled) else error.file
    return InputError(error.column, error.row, error.reason.replace(str(spooled), STDIN_NAME), file=file)
