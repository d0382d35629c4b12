"""``waconv.read_meta_analytics``: Meta's ``pricing_analytics`` and ``conversation_analytics``
responses read back into the table :func:`waconv.Result.summary` returns, so that the two
can be compared row by row (:func:`waconv.reconcile_analytics`).

Accepted shapes (tests/fixtures/meta/analytics_*):

- the WABA node's response, ``GET /<WABA_ID>?fields=pricing_analytics...``:
  ``{"pricing_analytics": {"data": [{"data_points": [...]}], "paging": {...}}, "id": "<WABA>"}``
  (``conversation_analytics`` likewise, either or both blocks);
- the edge's response, ``{"data": [{"data_points": [...]}], "paging": {...}}``, whose
  analytics is told by its count field (``conversation``: conversation_analytics,
  ``volume``: pricing_analytics) and whose WABA comes from ``waba=``;
- several WABAs' responses keyed by their ids, as ``waconv summary --json`` writes them;
- any number of such pages: a list, a JSON file holding one or a list of them, a JSON-lines
  file (one page per line), or an iterable of dicts, JSON texts and paths. Pages are the
  Graph API's ``paging`` cursors followed: every page is read, none is fetched.
"""

from __future__ import annotations

import json
import math
import os
import warnings
from collections.abc import Hashable, Iterable, Iterator
from pathlib import Path
from typing import Any, NamedTuple, Union

import numpy as np
import pandas as pd

from waconv._errors import InputError, WaconvWarning
from waconv.analytics.summary import ANALYTICS, DIMENSION_COLUMNS, sort_key

MetaSource = Union[str, os.PathLike, dict, Iterable[Any], pd.DataFrame]

COUNT_FIELD = {"conversation_analytics": "conversation", "pricing_analytics": "volume"}
FIELDS = {
    "conversation_analytics": ("phone_number", "country", "conversation_category", "conversation_type",
                               "conversation_direction"),
    "pricing_analytics": ("phone_number", "country", "tier", "pricing_category", "pricing_type"),
}
BLOCKS_ATTR = "waconv_analytics_blocks"  # table.attrs: the (waba, analytics) blocks Meta answered
_EARLIEST, _LATEST = 946_684_800, 4_102_444_800  # 2000-01-01 .. 2100-01-01, as classify's bounds
_LINE_SUFFIXES = {".jsonl", ".ndjson"}


class _Page(NamedTuple):
    file: str | None
    line: int | None  # 1-based line of a JSON-lines file, or the position in an in-memory list
    path: str  # JSON path of the page inside its document ("" for the document itself)
    body: Any


class _Point(NamedTuple):
    analytics: str
    waba: str | None
    start: int
    end: int
    dimensions: tuple  # FIELDS[analytics] values, None where left out
    volume: int
    cost: float


def read_meta_analytics(source: MetaSource, *, waba: Hashable | None = None) -> pd.DataFrame:
    """Meta's analytics responses as the table :meth:`waconv.Result.summary` returns.

    source: one response (dict or JSON text), a list of pages, a path to a JSON file (one
    response, a list of pages, or responses keyed by WABA id as ``waconv summary --json``
    writes them) or a JSON-lines file (one page per line), or an iterable of those.
    waba: the WABA of responses that do not name one (the edge's response has no ``id``);
    a response naming another WABA is an error.

    Returns the columns of ``summary(tz=None)``: ``analytics``, ``waba`` (text, as Meta's
    ``id``; null when neither the response nor `waba` names it), ``start`` and ``end``
    (UTC datetimes), the dimension columns the data points carry (Meta's lower-case field
    names and values, null where a point leaves the field out), ``volume`` (int64: Meta's
    ``conversation`` or ``volume``) and ``cost`` (float64, NaN where Meta gives none), one
    row per data point in summary's order. Which blocks Meta answered (also empty ones) is
    kept in ``table.attrs["waconv_analytics_blocks"]`` for :func:`waconv.reconcile_analytics`.

    Raises :class:`waconv.InputError` naming the file, line and field of a malformed
    response, an unknown field, or a data point that repeats another's bucket and
    dimensions (a page given twice); warns (:class:`waconv.WaconvWarning`) when the last page
    of a block has a ``paging.next`` link, i.e. pages are missing.
    """
    if isinstance(source, pd.DataFrame):
        raise InputError("source", None, "already a table; pass it to reconcile_analytics as it is")
    given = None if waba is None else str(waba)
    points: list[_Point] = []
    blocks: dict[tuple[str | None, str], dict] = {}  # (waba, analytics) -> the last page's paging
    for page in _pages(source):
        for where, analytics, block_waba, block in _blocks(page, given):
            blocks[(block_waba, analytics)] = _read_block(page, where, analytics, block_waba, block, points)
    for (block_waba, analytics), paging in blocks.items():
        if isinstance(paging, dict) and paging.get("next"):
            warnings.warn(f"the last page of {analytics} for WABA {block_waba} has a paging.next link: "
                          "Meta's analytics are incomplete; pass every page", WaconvWarning, stacklevel=2)
    table = _table(points)
    table.attrs[BLOCKS_ATTR] = sorted(blocks, key=lambda b: (sort_key(b[0]), ANALYTICS.index(b[1])))
    return table


# --- sources and pages -------------------------------------------------------------------


def _pages(source: Any) -> Iterator[_Page]:
    if isinstance(source, (str, os.PathLike)) and not _is_json_text(source):
        yield from _file_pages(Path(source))
    elif isinstance(source, (str, bytes, dict)):
        yield from _expanded(_Page(None, None, "", _parsed(source, None, None)))
    elif isinstance(source, Iterable):
        for i, item in enumerate(source):
            if isinstance(item, (str, os.PathLike)) and not _is_json_text(item):
                yield from _file_pages(Path(item))
            elif isinstance(item, (str, bytes, dict, list)):
                yield from _expanded(_Page(None, i, f"[{i}]", _parsed(item, None, i)))
            else:
                raise InputError(f"[{i}]", i, f"expected a response (dict or JSON text) or a path, got "
                                 f"{type(item).__name__}")
    else:
        raise InputError("source", None, f"expected a response, a list of pages or a path, got {type(source).__name__}")


def _is_json_text(value: Any) -> bool:
    text = value.decode(errors="replace") if isinstance(value, bytes) else value
    return isinstance(text, str) and text.lstrip("\ufeff \t\r\n")[:1] in ("{", "[")


def _parsed(value: Any, file: str | None, line: int | None) -> Any:
    if isinstance(value, (dict, list)):
        return value
    try:
        text = value.decode("utf-8") if isinstance(value, bytes) else value
        return json.loads(text.lstrip("\ufeff"))
    except (UnicodeDecodeError, ValueError) as error:
        if file is not None:
            raise InputError("", line, f"not JSON: {error}", file=file) from None
        raise InputError("source", line, f"not JSON: {error}") from None


def _file_pages(path: Path) -> Iterator[_Page]:
    name = str(path)
    try:
        data = path.read_bytes()
    except OSError as error:
        raise InputError("source", None, f"cannot read {name!r}: {error.strerror or error}") from None
    if path.suffix.lower() in _LINE_SUFFIXES:
        for number, line in enumerate(data.splitlines(), start=1):
            if line.strip():
                yield from _expanded(_Page(name, number, "", _parsed(line, name, number)))
        return
    yield from _expanded(_Page(name, None, "", _parsed(data, name, None)))


def _expanded(page: _Page) -> Iterator[_Page]:
    """A JSON array of pages as its pages."""
    if isinstance(page.body, list):
        for i, body in enumerate(page.body):
            yield _Page(page.file, page.line, f"{page.path}[{i}]", body)
    else:
        yield page


def _error(page: _Page, field: str, reason: str) -> InputError:
    path = ".".join(p for p in (page.path, field) if p).replace(".[", "[")
    if page.file is not None:
        return InputError(path, page.line, reason, file=page.file)
    return InputError(path or "source", page.line, reason)


def _blocks(page: _Page, given: str | None) -> Iterator[tuple[str, str, str | None, dict]]:
    """(JSON path, analytics, waba, block) of each analytics block of one page."""
    body = page.body
    if not isinstance(body, dict):
        raise _error(page, "", f"expected a response object, got {_kind(body)}")
    if "error" in body and isinstance(body["error"], dict):
        message = body["error"].get("message", "no message")
        raise _error(page, "error", f"Meta answered with an error, not analytics: {message}")
    named = [a for a in ANALYTICS if a in body]
    if named:
        waba = _waba(page, body.get("id"), "id", given)
        for analytics in named:
            yield analytics, analytics, waba, _object(page, analytics, body[analytics])
        return
    if "data" in body:  # the edge's response: the analytics from the count field of its points
        analytics = _edge_analytics(page, body)
        if analytics is not None:
            yield "", analytics, _waba(page, body.get("id"), "id", given), body
        return
    responses = [(key, value) for key, value in body.items()
                 if isinstance(value, dict) and any(a in value for a in ANALYTICS)]
    if body and len(responses) == len(body):  # {waba id: response}, as `waconv summary --json` writes
        for key, value in responses:
            waba = _waba(page, value.get("id", key), f"{key}.id", given)
            if str(key) != waba:
                raise _error(page, f"{key}.id", f"the response keyed {key!r} names WABA {waba!r}")
            for analytics in (a for a in ANALYTICS if a in value):
                yield f"{key}.{analytics}", analytics, waba, _object(page, f"{key}.{analytics}", value[analytics])
        return
    keys = sorted(map(str, body))[:6]
    raise _error(page, "", f"not a Meta analytics response: no pricing_analytics, conversation_analytics or "
                 f"data (keys {keys})")


def _waba(page: _Page, value: Any, field: str, given: str | None) -> str | None:
    if value is None:
        return given
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise _error(page, field, f"expected the WABA id as text, got {_kind(value)}")
    if given is not None and str(value) != given:
        raise _error(page, field, f"the response is for WABA {str(value)!r}, not waba={given!r}")
    return str(value)


def _edge_analytics(page: _Page, body: dict) -> str | None:
    found = set()
    for entry in body["data"] if isinstance(body["data"], list) else []:
        for point in entry.get("data_points", []) if isinstance(entry, dict) else []:
            if isinstance(point, dict):
                found |= {a for a, count in COUNT_FIELD.items() if count in point}
    if len(found) > 1:
        raise _error(page, "data", "data points of both analytics (conversation and volume counts) in one edge response")
    if not found and _has_points(body["data"]):
        raise _error(page, "data", "data points without a conversation or volume count")
    return found.pop() if found else None


def _has_points(data: Any) -> bool:
    return isinstance(data, list) and any(isinstance(e, dict) and e.get("data_points") for e in data)


def _object(page: _Page, field: str, value: Any) -> dict:
    if not isinstance(value, dict):
        raise _error(page, field, f"expected an object, got {_kind(value)}")
    return value


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    for types, name in ((dict, "an object"), ((list, tuple), "a list"), (str, "a string"), ((int, float), "a number")):
        if isinstance(value, types):
            return name
    return f"a {type(value).__name__}"


# --- data points -----------------------------------------------------------------------------


def _read_block(page: _Page, where: str, analytics: str, waba: str | None, block: dict,
                points: list[_Point]) -> Any:
    """Appends the block's data points to `points`; returns its paging object."""
    data = block.get("data", [])
    prefix = f"{where}.data" if where else "data"
    if not isinstance(data, list):
        raise _error(page, prefix, f"expected a list, got {_kind(data)}")
    fields = FIELDS[analytics]
    count = COUNT_FIELD[analytics]
    known = {"start", "end", count, "cost", *fields}
    for i, entry in enumerate(data):
        if not isinstance(entry, dict):
            raise _error(page, f"{prefix}[{i}]", f"expected an object, got {_kind(entry)}")
        items = entry.get("data_points", [])
        if not isinstance(items, list):
            raise _error(page, f"{prefix}[{i}].data_points", f"expected a list, got {_kind(items)}")
        for j, point in enumerate(items):
            field = f"{prefix}[{i}].data_points[{j}]"
            if not isinstance(point, dict):
                raise _error(page, field, f"expected an object, got {_kind(point)}")
            unknown = sorted(str(k) for k in point if k not in known)
            if unknown:
                raise _error(page, f"{field}.{unknown[0]}", f"unknown field of a {analytics} data point "
                             f"(known: {', '.join(sorted(known))})")
            start, end = _seconds(page, f"{field}.start", point.get("start")), _seconds(page, f"{field}.end", point.get("end"))
            if end <= start:
                raise _error(page, f"{field}.end", f"ends at {end}, not after its start {start}")
            dimensions = tuple(_text(page, f"{field}.{name}", point.get(name)) for name in fields)
            points.append(_Point(analytics, waba, start, end, dimensions,
                                 _count(page, f"{field}.{count}", point.get(count)),
                                 _cost(page, f"{field}.cost", point.get("cost"))))
    return block.get("paging")


def _seconds(page: _Page, field: str, value: Any) -> int:
    if isinstance(value, str) and value.isdecimal():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise _error(page, field, f"expected epoch seconds, got {_kind(value) if value is not None else 'nothing'}")
    if not _EARLIEST <= value < _LATEST:
        raise _error(page, field, f"{value} is not between 2000 and 2100")
    return value


def _text(page: _Page, field: str, value: Any) -> str | None:
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)  # a phone number sent as a JSON number
    raise _error(page, field, f"expected a string, got {_kind(value)}")


def _count(page: _Page, field: str, value: Any) -> int:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        shown = repr(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else _kind(value)
        raise _error(page, field, f"expected a count (a whole number, 0 or more), got {shown}")
    return value


def _cost(page: _Page, field: str, value: Any) -> float:
    if value is None:
        return math.nan
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise _error(page, field, f"expected a number, got {_kind(value)}")
    return float(value)


def _table(points: list[_Point]) -> pd.DataFrame:
    present = {name for p in points for name, value in zip(FIELDS[p.analytics], p.dimensions) if value is not None}
    dimension_columns = [c for c in DIMENSION_COLUMNS if c in present]
    columns: dict[str, Any] = {
        "analytics": pd.array([p.analytics for p in points], dtype="str"),
        "waba": pd.array([p.waba for p in points], dtype="str"),
        "start": _utc([p.start for p in points]),
        "end": _utc([p.end for p in points]),
    }
    for name in dimension_columns:
        values = [dict(zip(FIELDS[p.analytics], p.dimensions)).get(name) for p in points]
        columns[name] = pd.array(values, dtype="str")
    columns["volume"] = np.array([p.volume for p in points], dtype=np.int64)
    columns["cost"] = np.array([p.cost for p in points], dtype=np.float64)
    table = pd.DataFrame(columns)
    keys = _point_keys(table, dimension_columns)
    repeated = pd.DataFrame(keys).duplicated().to_numpy()
    if repeated.any():
        row = int(np.argmax(repeated))
        point = points[row]
        raise InputError("data_points", row, f"a {point.analytics} data point of WABA {point.waba} repeats another's "
                         f"bucket ({point.start}..{point.end}) and dimensions: a page given twice?")
    return table.iloc[np.lexsort(list(reversed(keys.values())))].reset_index(drop=True) if len(table) else table


def _utc(seconds: list[int]) -> pd.Series:
    ns = np.asarray(seconds, dtype=np.int64) * 1_000_000_000
    return pd.Series(pd.DatetimeIndex(ns.view("datetime64[ns]")).tz_localize("UTC"))


def _point_keys(table: pd.DataFrame, dimension_columns: list[str]) -> dict[str, np.ndarray]:
    """Integer sort keys in summary's order: analytics, waba, start, dimension values (nulls last)."""
    keys = {"analytics": table["analytics"].map({a: i for i, a in enumerate(ANALYTICS)}).to_numpy(dtype=np.int64)}
    for name in ("waba", *dimension_columns):
        codes, values = pd.factorize(table[name])
        order = sorted(range(len(values)), key=lambda i: sort_key(values[i]))
        rank = np.empty(len(values) + 1, dtype=np.int64)
        rank[order] = np.arange(len(values))
        rank[-1] = -1 if name == "waba" else len(values)  # as summary: a null WABA first, null values last
        keys[name] = rank[codes]
        if name == "waba":
            keys["start"] = pd.DatetimeIndex(table["start"]).asi8
            keys["end"] = pd.DatetimeIndex(table["end"]).asi8
    return keys
