"""Carried state for daily runs (docs/rules.md §Daily runs): what a later ``classify`` needs
of the rows an earlier one saw, and its byte format.

The rules keep three kinds of memory, and the state keeps each in the form that stays exact:

- per pair, the scan's windows and conversations: the pair's own rows since its last *quiet
  instant* (no window, conversation or message in flight spans it), replayed by the next
  call (``carried``; see engine.carry for how that instant is found);
- per account and month, the allowances and tier counts used by rows no longer replayed
  (``counters``), which the core takes as starting counts;
- over the whole log, the ``(message_id, direction)`` pairs seen (64-bit hashes, ``seen``)
  and the identity links (``links``: the distinct id combinations of linking rows).

Everything is keyed by stable text ids and calendar months, never by one call's codes.
"""

from __future__ import annotations

import hashlib
import json
import os
import struct
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from waconv._errors import InputError

FORMAT_VERSION = 2  # 2: message-id hashes by the core's string hash (1: pandas' SipHash)
_MAGIC = b"WACONVST"
_SECTIONS = ("carried", "counters", "links", "seen")
_COUNTER_SCHEMA = pa.schema([
    ("kind", pa.string()),  # free_tier (per WABA), service (per business phone), tier (per portfolio)
    ("account", pa.string()),
    ("market", pa.string()),  # tier only
    ("group", pa.int8()),  # tier only: 0 utility, 1 authentication
    ("month", pa.int32()),  # year * 12 + month - 1 in the WABA's time zone (the core's month index)
    ("used", pa.int64()),
])
_SEEN_SCHEMA = pa.schema([("hash", pa.uint64()), ("at", pa.int64())])


def _empty(schema: pa.Schema) -> pa.Table:
    return schema.empty_table()


@dataclass(repr=False)
class State:
    """What ``classify(batch, state=...)`` continues from: ``result.state`` of the call before.

    Serialise it with :meth:`to_bytes` / :meth:`save` and read it back with
    :meth:`from_bytes` / :meth:`load`. A state is tied to the options that made it (rules,
    anchor, allowances, rate cards, tiers, time zones, ...): continuing with other options is
    an InputError, as is a state written by another format version.
    """

    options: dict[str, Any]
    watermark: int | None = None  # latest effective time classified, ns UTC
    next_conversation_id: int = 0
    carried: pa.Table | None = None
    counters: pa.Table = field(default_factory=lambda: _empty(_COUNTER_SCHEMA))
    links: pa.Table | None = None
    seen: pa.Table = field(default_factory=lambda: _empty(_SEEN_SCHEMA))

    @property
    def carried_rows(self) -> int:
        return 0 if self.carried is None else self.carried.num_rows

    def __repr__(self) -> str:
        import pandas as pd

        mark = "empty" if self.watermark is None else f"watermark {pd.Timestamp(self.watermark, tz='UTC')}"
        return (f"<waconv.State v{FORMAT_VERSION}: {mark}, {self.carried_rows:,} carried rows, "
                f"{self.counters.num_rows:,} counters, {self.seen.num_rows:,} message ids, "
                f"{0 if self.links is None else self.links.num_rows:,} identity links>")

    def to_bytes(self) -> bytes:
        header = json.dumps({
            "options": self.options,
            "watermark": self.watermark,
            "next_conversation_id": self.next_conversation_id,
        }, sort_keys=True).encode()
        parts: list[bytes | pa.Buffer] = [_MAGIC + struct.pack("<II", FORMAT_VERSION, len(header)) + header]
        for name in _SECTIONS:
            table = getattr(self, name)
            body = pa.py_buffer(b"") if table is None else _ipc_buffer(table)
            parts += [struct.pack("<Q", body.size), body]
        return b"".join(parts)  # one copy of the Arrow buffers, into the result

    @classmethod
    def from_bytes(cls, data: bytes) -> State:
        view = memoryview(bytes(data) if not isinstance(data, (bytes, bytearray, memoryview)) else data)
        if len(view) < 16 or bytes(view[:8]) != _MAGIC:
            raise InputError("state", None, "not a waconv state (it does not start with waconv's state header)")
        version, header_length = struct.unpack("<II", view[8:16])
        if version != FORMAT_VERSION:
            raise InputError("state", None, f"state format version {version}, but this waconv reads version "
                             f"{FORMAT_VERSION}: classify the log again from its start to make a new state")
        try:
            position = 16 + header_length
            header = json.loads(bytes(view[16:position]))
            tables: dict[str, pa.Table | None] = {}
            for name in _SECTIONS:
                (length,) = struct.unpack("<Q", view[position : position + 8])
                position += 8
                body = view[position : position + length]
                if len(body) != length:
                    raise ValueError("truncated")
                tables[name] = pa.ipc.open_stream(pa.py_buffer(body)).read_all() if length else None
                position += length
        except (ValueError, struct.error, pa.ArrowInvalid) as error:
            raise InputError("state", None, f"the state is damaged or truncated ({error})") from None
        return cls(
            options=header["options"],
            watermark=header["watermark"],
            next_conversation_id=int(header["next_conversation_id"]),
            carried=tables["carried"],
            counters=tables["counters"] if tables["counters"] is not None else _empty(_COUNTER_SCHEMA),
            links=tables["links"],
            seen=tables["seen"] if tables["seen"] is not None else _empty(_SEEN_SCHEMA),
        )

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write the state to `path` (written whole, then renamed: a crash never leaves half a state)."""
        path = os.fspath(path)
        partial = path + ".partial"
        with open(partial, "wb") as out:
            out.write(self.to_bytes())
        os.replace(partial, path)

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> State:
        try:
            with open(path, "rb") as source:
                data = source.read()
        except OSError as error:
            raise InputError(None, None, f"cannot read the state: {error.strerror}", file=os.fspath(path)) from None
        return cls.from_bytes(data)

    def check_options(self, options: dict[str, Any], skip: str | None = None) -> None:
        """An InputError naming the first option that differs from the ones this state was made with."""
        for name in sorted(set(self.options) | set(options)):
            if name == skip:
                continue
            before, now = self.options.get(name), options.get(name)
            if before != now:
                raise InputError(name, None, f"the state was made with {name}={_shown(before)}, this call has "
                                 f"{name}={_shown(now)}: a state continues only the options that made it")


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _ipc_buffer(table: pa.Table) -> pa.Buffer:
    sink = pa.BufferOutputStream()
    options = pa.ipc.IpcWriteOptions(compression="zstd")  # smaller than lz4 at about its speed here
    with pa.ipc.new_stream(sink, table.schema, options=options) as writer:
        writer.write_table(table)
    return sink.getvalue()


def plain_text(table: pa.Table) -> pa.Table:
    """Dictionary columns as plain text again: a state's tables have one schema in memory."""
    columns = [pc.cast(c, pa.large_string()) if pa.types.is_dictionary(c.type) else c for c in table.columns]
    return pa.Table.from_arrays(columns, schema=_with_types(table.schema, columns))


def _with_types(schema: pa.Schema, columns: list[Any]) -> pa.Schema:
    return pa.schema([field.with_type(column.type) for field, column in zip(schema, columns)], schema.metadata)


def fingerprint(value: Any) -> str:
    """A short stable digest of an option too large to keep as it is (cards, tier tables)."""
    return hashlib.sha256(repr(value).encode()).hexdigest()[:16]


def counters_table(kind: np.ndarray, account: np.ndarray, market: np.ndarray, group: np.ndarray,
                   month: np.ndarray, used: np.ndarray) -> pa.Table:
    def text(values: np.ndarray) -> pa.Array:
        return pa.array(values, pa.string(), from_pandas=True)  # NaN and None are null

    return pa.table({"kind": text(kind), "account": text(account), "market": text(market), "group": group,
                     "month": month, "used": used}, schema=_COUNTER_SCHEMA)


def seen_table(hashes: np.ndarray, at: np.ndarray) -> pa.Table:
    return pa.table({"hash": hashes, "at": at}, schema=_SEEN_SCHEMA)
