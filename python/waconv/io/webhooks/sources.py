"""Where webhook payloads come from, and where the malformed ones go.

Shared by :func:`waconv.read_webhooks` and :func:`waconv.read_sunshine`. A source is a path
(a JSON file, a JSON-lines file or a directory of them), one payload (dict, JSON text), or an
iterable of payloads, JSON texts and paths. Every payload is yielded with the file and line it
came from, so a malformed one can be named precisely: either raised as
:class:`waconv.InputError` or collected into the ``rejected`` table, never dropped.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any, NamedTuple, Union

import orjson
import pandas as pd

from waconv._errors import InputError

Source = Union[str, os.PathLike, dict, bytes, Iterable[Any]]

REJECTED_COLUMNS = ("file", "line", "field", "reason", "payload")
_LINE_SUFFIXES = {".jsonl", ".ndjson"}
_FILE_SUFFIXES = {".json", ".jsonl", ".ndjson"}
_ERROR_MODES = ("raise", "collect")

EARLIEST_SECONDS = 946_684_800  # 2000-01-01, the same bounds classify enforces
LATEST_SECONDS = 4_102_444_800  # 2100-01-01


class WebhookRead(NamedTuple):
    """What ``errors="collect"`` returns: the events and the payloads that could not be read."""

    events: pd.DataFrame
    rejected: pd.DataFrame


class Bad(Exception):
    """A malformed part of a payload: `field` is its JSON path, `reason` says what is wrong."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(reason)
        self.field = field
        self.reason = reason


class Document(NamedTuple):
    """One parsed payload and where it came from (`raw` is None for in-memory dicts)."""

    file: str | None
    line: int | None  # 1-based line in the file, or position in an in-memory iterable
    raw: bytes | str | None
    payload: Any  # the parsed JSON; a Bad instance when it did not parse
    prefix: str  # JSON path prefix, e.g. "[3]." for the fourth element of a JSON array


class Rejections:
    """Raises on the first malformed payload, or collects them all (``errors="collect"``)."""

    def __init__(self, errors: str) -> None:
        if errors not in _ERROR_MODES:
            raise InputError("errors", None, f"unknown mode {errors!r}; use 'raise' or 'collect'")
        self.collect = errors == "collect"
        self.rows: list[tuple] = []

    def add(self, document: Document, field: str, reason: str) -> None:
        if not self.collect:
            if document.file is None:
                raise InputError(field, document.line, reason)
            raise InputError(field, document.line, reason, file=document.file)
        self.rows.append((document.file, document.line, field, reason, _text(document)))

    def frame(self) -> pd.DataFrame:
        frame = pd.DataFrame(self.rows, columns=list(REJECTED_COLUMNS))
        frame["line"] = frame["line"].astype("Int64")
        for name in ("file", "field", "reason", "payload"):
            frame[name] = frame[name].astype("str")
        return frame


def _text(document: Document) -> str:
    if document.raw is None:
        return orjson.dumps(document.payload, default=str).decode()
    if isinstance(document.raw, bytes):
        return document.raw.decode("utf-8", errors="replace").rstrip("\r\n")
    return document.raw


def seconds(value: Any, field: str) -> int:
    """Meta's epoch seconds (a string of digits, or a number) as an int within 2000..2100."""
    if type(value) is str:
        try:
            result = int(value)
        except ValueError:
            try:
                result = int(float(value))
            except ValueError:
                raise Bad(field, f"not epoch seconds: {value!r}") from None
    elif type(value) is int:
        result = value
    elif type(value) is float:
        result = int(value)
    elif value is None:
        raise Bad(field, "missing")
    else:
        raise Bad(field, f"not epoch seconds: {value!r}")
    if not EARLIEST_SECONDS <= result < LATEST_SECONDS:
        raise Bad(field, f"epoch seconds {result} outside 2000-01-01 .. 2100-01-01")
    return result


def documents(source: Source, *, line_files: bool = False) -> Iterator[Document | Path]:
    """Every payload of `source`, in order, each with its file and line. With `line_files`,
    JSON-lines files are yielded as their Path instead (for a columnar reader to try)."""
    if isinstance(source, (str, os.PathLike)) and not _is_json_text(source):
        yield from _from_path(Path(source), line_files)
        return
    if isinstance(source, (dict, str, bytes, bytearray)):
        source = [source]
    if not isinstance(source, Iterable):
        raise InputError("source", None, f"expected a path, a payload or an iterable of payloads, got {type(source).__name__}")
    for position, item in enumerate(source, 1):
        if isinstance(item, dict):
            yield Document(None, position, None, item, "")
        elif isinstance(item, (str, bytes, bytearray)) and (_is_json_text(item) or not isinstance(item, str)):
            yield _parsed(None, position, bytes(item) if isinstance(item, bytearray) else item)
        elif isinstance(item, (str, os.PathLike)):
            yield from _from_path(Path(item), line_files)
        else:
            yield Document(None, position, None, item, "")


def _is_json_text(value: Any) -> bool:
    if isinstance(value, str):
        return value.lstrip()[:1] in ("{", "[")
    return isinstance(value, (bytes, bytearray))


def _parsed(file: str | None, line: int | None, raw: bytes | str) -> Document:
    try:
        return Document(file, line, raw, orjson.loads(raw), "")
    except orjson.JSONDecodeError as error:
        return Document(file, line, raw, Bad("json", f"invalid JSON: {error}"), "")


def _from_path(path: Path, line_files: bool = False) -> Iterator[Document | Path]:
    if path.is_dir():
        files = sorted(p for p in path.iterdir() if p.is_file() and p.suffix.lower() in _FILE_SUFFIXES)
    elif path.is_file():
        files = [path]
    else:
        raise InputError("source", None, f"no such file or directory: {str(path)!r}")
    for file in files:
        if line_files and file.suffix.lower() in _LINE_SUFFIXES:
            yield file
        else:
            yield from _from_file(file)


def _from_file(path: Path) -> Iterator[Document]:
    name = str(path)
    if path.suffix.lower() in _LINE_SUFFIXES:
        yield from _lines(path, name)
        return
    data = path.read_bytes()
    try:
        payload = orjson.loads(data)
    except orjson.JSONDecodeError as error:
        if _looks_like_lines(data):  # JSON lines saved as .json
            yield from _lines(path, name)
        else:
            yield Document(name, getattr(error, "lineno", None), data, Bad("json", f"invalid JSON: {error}"), "")
        return
    if isinstance(payload, list):  # a JSON array of payloads
        for index, item in enumerate(payload):
            yield Document(name, None, None, item, f"[{index}].")
    else:
        yield Document(name, None, data, payload, "")


def _looks_like_lines(data: bytes) -> bool:
    first = data.lstrip().split(b"\n", 1)[0]
    try:
        orjson.loads(first)
    except orjson.JSONDecodeError:
        return False
    return True


def _lines(path: Path, name: str) -> Iterator[Document]:
    loads = orjson.loads
    with open(path, "rb") as handle:
        for number, raw in enumerate(handle, 1):
            try:
                payload = loads(raw)
            except orjson.JSONDecodeError as error:
                if raw.strip():  # blank lines are not payloads
                    yield Document(name, number, raw, Bad("json", f"invalid JSON: {error}"), "")
                continue
            yield Document(name, number, raw, payload, "")
