"""Where webhook payloads come from, and where the malformed ones go.

Shared by :func:`waconv.read_webhooks` and :func:`waconv.read_sunshine`. A source is a path
(a JSON file, a JSON-lines file or a directory of them), one payload (dict, JSON text), or an
iterable of payloads, JSON texts and paths. Every payload is yielded with the file and line it
came from, so a malformed one can be named precisely: either raised as
:class:`waconv.InputError` or collected into the ``rejected`` table, never dropped.

The payload walkers read every field through :func:`text`, :func:`seconds` and
:func:`shown`, so a field of the wrong JSON type is a :class:`Bad` naming it, never a value
made up from its Python text, and no message ever prints a whole nested structure.
"""

from __future__ import annotations

import gzip
import math
import os
import zlib
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any, NamedTuple, Union

import numpy as np
import orjson
import pandas as pd

from waconv._errors import InputError

Source = Union[str, os.PathLike, dict, bytes, Iterable[Any]]

REJECTED_COLUMNS = ("file", "line", "field", "reason", "payload")
_LINE_SUFFIXES = {".jsonl", ".ndjson"}
_FILE_SUFFIXES = {".json", ".jsonl", ".ndjson"}
_ERROR_MODES = ("raise", "collect")
_BOM = "\ufeff"
_BOM_BYTES = _BOM.encode()
_SHOWN_CHARACTERS = 80  # of a string value quoted in a reason
_SHOWN_DEPTH = 64  # levels of a rejected payload written out before "..."
# Levels of nesting a JSON text may have: orjson 3.9+ refuses more itself, older versions
# overflow the C stack (a segfault) near 100,000; webhooks have about ten.
DEEPEST = 1024
_DEPTH_BLOCK = 1 << 22  # bytes per step of nesting_depth

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
        """`field` is relative to the payload; "" for the payload as a whole."""
        if field:
            field = document.prefix + field  # the element of a JSON array file, "[3]."
        else:
            field = document.prefix.rstrip(".") or "payload"
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
    """The rejected payload as text for the ``payload`` column: always valid Unicode."""
    if document.raw is None:
        try:
            return orjson.dumps(document.payload, default=str).decode()
        except orjson.JSONEncodeError:  # too deep for orjson, a lone surrogate, a huge integer
            return orjson.dumps(_printable(document.payload)).decode()
    if isinstance(document.raw, bytes):
        return document.raw.decode("utf-8", errors="replace").rstrip("\r\n")
    return _valid_unicode(document.raw)


def _valid_unicode(value: str) -> str:
    """`value` with lone surrogates (which no UTF-8 text can hold) written as ``\\udxxx``."""
    if _has_lone_surrogate(value):
        return value.encode("utf-8", errors="backslashreplace").decode("utf-8")
    return value


def _printable(payload: Any) -> Any:
    """A copy of `payload` orjson can always write: strings made valid Unicode, integers beyond
    64 bits as text, anything else not JSON as its type name, and containers deeper than
    _SHOWN_DEPTH as "...". Iterative, so no depth reaches Python's recursion limit."""
    def leaf(value: Any) -> Any:
        if type(value) is str:
            return _valid_unicode(value)
        if type(value) is int and not -(2**63) <= value < 2**64:
            return f"<{value.bit_length()}-bit integer>"
        if value is None or type(value) in (bool, int, float):
            return value
        return f"<{type(value).__name__}>"

    root: list[Any] = [None]
    stack = [(payload, root, 0, 0)]  # (value, parent container, key in it, depth)
    while stack:
        value, parent, key, depth = stack.pop()
        if isinstance(value, (dict, list, tuple)):
            if depth >= _SHOWN_DEPTH:
                parent[key] = "..."
            elif isinstance(value, dict):
                parent[key] = out = {}
                for name, child in value.items():
                    name = _valid_unicode(name) if type(name) is str else str(leaf(name))
                    out[name] = None  # keeps the key order while the children are filled in
                    stack.append((child, out, name, depth + 1))
            else:
                parent[key] = out = [None] * len(value)
                stack.extend((child, out, i, depth + 1) for i, child in enumerate(value))
        else:
            parent[key] = leaf(value)
    return root[0]


def kind(value: Any) -> str:
    """The JSON type of `value`, as a reason says it ("an object", "a list", ...)."""
    if value is None:
        return "null"
    if type(value) is bool:
        return "true" if value else "false"
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, (list, tuple)):
        return "a list"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, (int, float)):
        return "a number"
    return f"a {type(value).__name__}"


def shown(value: Any) -> str:
    """`value` quoted for a reason: a short string or number as itself, anything else by its
    kind, so a message never holds a nested structure, a huge number or a lone surrogate."""
    if type(value) is str:
        cut = value if len(value) <= _SHOWN_CHARACTERS else value[:_SHOWN_CHARACTERS] + "..."
        return repr(cut)  # repr escapes lone surrogates
    if type(value) is float or (type(value) is int and -(10**18) < value < 10**18):
        return repr(value)
    return kind(value)


def text(value: Any, field: str) -> str | None:
    """A string field: the string, None when absent, an integer as its digits (ids and phone
    numbers sent as JSON numbers, as Arrow's fast path reads them); any other type is Bad."""
    if type(value) is str or value is None:
        return value
    if type(value) is int and -(10**30) < value < 10**30:
        return str(value)
    raise Bad(field, f"expected a string, got {shown(value)}")


def seconds(value: Any, field: str) -> int:
    """Meta's epoch seconds (a string of digits, or a number) as an int within 2000..2100."""
    if type(value) is str:
        try:
            result = int(value)
        except ValueError:  # "1760000000.5", "1e9", or not a number at all
            try:
                number = float(value)
            except ValueError:
                raise Bad(field, f"not epoch seconds: {shown(value)}") from None
            if not math.isfinite(number):
                raise Bad(field, f"not epoch seconds: {shown(value)}")
            result = int(number)
    elif type(value) is int:
        result = value
    elif type(value) is float:
        if not math.isfinite(value):
            raise Bad(field, f"not epoch seconds: {shown(value)}")
        result = int(value)
    elif value is None:
        raise Bad(field, "missing")
    else:
        raise Bad(field, f"expected epoch seconds, got {shown(value)}")
    if not EARLIEST_SECONDS <= result < LATEST_SECONDS:
        shown_result = result if -(10**18) < result < 10**18 else shown(value)
        raise Bad(field, f"epoch seconds {shown_result} outside 2000-01-01 .. 2100-01-01")
    return result


def documents(source: Source, *, files: bool = False) -> Iterator[Document | Path]:
    """Every payload of `source`, in order, each with its file and line. With `files`, each
    file is yielded as its Path instead (for a columnar reader to try first)."""
    if isinstance(source, (str, os.PathLike)) and not _is_json_text(source):
        yield from _from_path(Path(source), files)
        return
    if isinstance(source, (dict, str, bytes, bytearray)):
        source = [source]
    if not isinstance(source, Iterable):
        raise InputError("source", None, f"expected a path, a payload or an iterable of payloads, got {type(source).__name__}")
    for position, item in enumerate(source, 1):
        if isinstance(item, dict):
            yield _in_memory(position, item)
        elif isinstance(item, (str, bytes, bytearray)) and (_is_json_text(item) or not isinstance(item, str)):
            yield _parsed(None, position, bytes(item) if isinstance(item, bytearray) else item)
        elif isinstance(item, (str, os.PathLike)):
            yield from _from_path(Path(item), files)
        else:
            yield Document(None, position, None, item, "")


def _is_json_text(value: Any) -> bool:
    if isinstance(value, str):
        return _without_bom(value).lstrip()[:1] in ("{", "[")
    return isinstance(value, (bytes, bytearray))


def _without_bom(raw: Any) -> Any:
    """JSON text without a leading byte order mark, which orjson refuses and Arrow's reader
    skips (RFC 8259 lets a parser ignore it): a JSON-lines file then reads the same on both
    paths, and a text saved by Windows tools is still JSON."""
    if isinstance(raw, str):
        return raw[1:] if raw.startswith(_BOM) else raw
    return raw[len(_BOM_BYTES):] if raw.startswith(_BOM_BYTES) else raw


class _TooDeep(Exception):
    """A JSON text nested deeper than DEEPEST levels, refused before orjson parses it."""


def _loads(raw: bytes | str) -> Any:
    """orjson.loads, but JSON nested deeper than DEEPEST levels raises _TooDeep. A text holds
    at most as many levels as '[' and '{', so most need no more than a length test."""
    if len(raw) > DEEPEST:
        opening = ("[", "{") if isinstance(raw, str) else (b"[", b"{")
        if raw.count(opening[0]) + raw.count(opening[1]) > DEEPEST:
            data = raw.encode("utf-8", errors="surrogatepass") if isinstance(raw, str) else raw
            if nesting_depth(data) > DEEPEST:
                raise _TooDeep(f"nested deeper than {DEEPEST} levels")
    return orjson.loads(raw)


def _unreadable(error: Exception) -> Bad:
    if isinstance(error, _TooDeep):
        return Bad("json", str(error))
    return Bad("json", f"invalid JSON: {error}")


def nesting_depth(data: bytes) -> int:
    """The deepest nesting of '[' and '{' outside strings that a JSON parser reading `data`
    meets before a syntax error stops it (exact for valid JSON). Vectorised over the
    brackets and quotes only, block by block, so it costs a few percent of parsing."""
    if b"\\" in data:  # escaped backslashes, then escaped quotes, out: every quote left delimits a string
        data = data.replace(b"\\\\", b"").replace(b'\\"', b"")
    octets = np.frombuffer(data, dtype=np.uint8)
    deepest = level = 0
    inside = False  # in a string at the end of the previous block
    for start in range(0, len(octets), _DEPTH_BLOCK):
        block = octets[start:start + _DEPTH_BLOCK]
        folded = block | 0x20  # '[' becomes '{', ']' becomes '}'
        opening, closing = folded == ord("{"), folded == ord("}")
        marks = np.flatnonzero(opening | closing | (block == ord('"')))
        if len(marks) == 0:
            continue
        in_string = np.bitwise_xor.accumulate(block[marks] == ord('"'))
        if inside:
            in_string = ~in_string
        step = opening[marks].view(np.int8) - closing[marks].view(np.int8)
        step[in_string] = 0
        levels = np.cumsum(step, dtype=np.int64)
        levels += level
        deepest = max(deepest, int(levels.max()))
        level, inside = int(levels[-1]), bool(in_string[-1])
    return deepest


def _parsed(file: str | None, line: int | None, raw: bytes | str) -> Document:
    raw = _without_bom(raw)
    try:
        return Document(file, line, raw, _loads(raw), "")
    except (orjson.JSONDecodeError, _TooDeep) as error:
        return Document(file, line, raw, _unreadable(error), "")


def _in_memory(position: int, payload: dict) -> Document:
    """A payload given as Python objects, which no JSON parser has checked: a string holding a
    lone surrogate (no UTF-8 text can) rejects it as a whole, as invalid JSON would be."""
    try:
        orjson.dumps(payload, default=_anything)  # one pass in C; it refuses lone surrogates
    except orjson.JSONEncodeError:  # or too deep, or an integer beyond 64 bits: look closer
        where = _lone_surrogate(payload)
        if where is not None:
            shown_payload = orjson.dumps(_printable(payload)).decode()
            return Document(None, position, shown_payload, Bad(where, "not valid Unicode: a lone surrogate"), "")
    return Document(None, position, None, payload, "")


def _anything(value: Any) -> None:
    return None  # types orjson cannot write do not matter to the surrogate check


def _lone_surrogate(payload: Any) -> str | None:
    """The JSON path of the first string holding a lone surrogate (of its object, for a key)."""
    stack: list[tuple[Any, str]] = [(payload, "")]
    while stack:
        value, path = stack.pop()
        if isinstance(value, str):
            if _has_lone_surrogate(value):
                return path
        elif isinstance(value, dict):
            if any(isinstance(key, str) and _has_lone_surrogate(key) for key in value):
                return path
            stack.extend(reversed([(child, f"{path}.{key}" if path else f"{key}") for key, child in value.items()]))
        elif isinstance(value, (list, tuple)):
            stack.extend(reversed([(child, f"{path}[{i}]") for i, child in enumerate(value)]))
    return None


def _has_lone_surrogate(value: str) -> bool:
    if value.isascii():
        return False
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def _suffix(path: Path) -> str:
    """The file's JSON suffix, ``.gz`` aside: ``.jsonl`` for ``log.jsonl.gz``."""
    name = path.name.lower()
    return Path(name[:-3]).suffix if name.endswith(".gz") else Path(name).suffix


def _gzipped(path: Path) -> bool:
    return path.name.lower().endswith(".gz")


def is_json_lines(path: Path) -> bool:
    """Whether the file holds one payload per line (``.jsonl``/``.ndjson``, gzipped or not)."""
    return _suffix(path) in _LINE_SUFFIXES


def is_gzipped(path: Path) -> bool:
    return _gzipped(path)


# What a corrupt gzip file raises while it is read: a bad header or CRC, a truncated stream,
# bad deflate data.
_GZIP_ERRORS = (gzip.BadGzipFile, EOFError, zlib.error)


def _corrupt(error: Exception) -> Bad:
    return Bad("gzip", f"not a readable gzip file: {error}")


def _from_path(path: Path, files: bool = False) -> Iterator[Document | Path]:
    if path.is_dir():
        found = sorted(p for p in path.iterdir() if p.is_file() and _suffix(p) in _FILE_SUFFIXES)
    elif path.is_file():
        found = [path]
    else:
        raise InputError("source", None, f"no such file or directory: {str(path)!r}")
    for file in found:
        if files:
            yield file
        else:
            yield from _from_file(file)


def _from_file(path: Path) -> Iterator[Document]:
    name = str(path)
    if _suffix(path) in _LINE_SUFFIXES:
        yield from _lines(path, name)
        return
    data = path.read_bytes()
    if _gzipped(path):
        try:
            data = gzip.decompress(data)
        except _GZIP_ERRORS as error:
            yield Document(name, None, None, _corrupt(error), "")
            return
    data = _without_bom(data)
    try:
        payload = _loads(data)
    except (orjson.JSONDecodeError, _TooDeep) as error:
        if _looks_like_lines(data):  # JSON lines saved as .json
            yield from _lines(path, name)
        else:
            yield Document(name, getattr(error, "lineno", None), data, _unreadable(error), "")
        return
    if isinstance(payload, list):  # a JSON array of payloads
        for index, item in enumerate(payload):
            yield Document(name, None, None, item, f"[{index}].")
    else:
        yield Document(name, None, data, payload, "")


def _looks_like_lines(data: bytes) -> bool:
    first = _without_bom(data).lstrip().split(b"\n", 1)[0]
    try:
        _loads(first)
    except (orjson.JSONDecodeError, _TooDeep):
        return False
    return True


def _lines(path: Path, name: str) -> Iterator[Document]:
    if not _gzipped(path):
        yield from _lines_of(open(path, "rb"), name)
        return
    try:
        yield from _lines_of(gzip.open(path, "rb"), name)
    except _GZIP_ERRORS as error:  # the lines before the corruption are read
        yield Document(name, None, None, _corrupt(error), "")


def _lines_of(handle: Any, name: str) -> Iterator[Document]:
    with handle:
        for number, raw in enumerate(handle, 1):
            document = line_document(name, number, raw)
            if document is not None:
                yield document


def line_document(name: str, number: int, raw: bytes) -> Document | None:
    """Line `number` of JSON-lines file `name` as a Document; None for a blank line."""
    if number == 1:
        raw = _without_bom(raw)
    try:
        payload = orjson.loads(raw) if len(raw) <= DEEPEST else _loads(raw)  # short lines cannot be too deep
    except (orjson.JSONDecodeError, _TooDeep) as error:
        if raw.strip():  # blank lines are not payloads
            return Document(name, number, raw, _unreadable(error), "")
        return None
    return Document(name, number, raw, payload, "")
