"""Hostile webhook payloads (Cloud API and Sunshine Conversations), as Python source.

Real payloads (the fixtures, the shipped example dump) are mutated: wrong types at any
field, keys dropped or added, items repeated, values wrapped or nested deeply, huge and
odd numbers, odd strings. They are handed over in memory (dicts, JSON texts, bytes, a
generator) or as files (.jsonl, .json arrays, one-object .json, JSON lines saved as .json,
a directory), and files get byte-level damage: BOMs, UTF-16, bad UTF-8, NUL, CR line ends,
truncated lines, gzip garbage, blank or giant lines.
"""

from __future__ import annotations

import copy
import gzip
import json
import math
from pathlib import Path
from typing import Any

from hypothesis import strategies as st

from tests.fuzz.values import Deep, lit

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures"


def _json_files(folder: Path) -> list[Any]:
    out = []
    for path in sorted(folder.glob("*.json")):
        out.append(json.loads(path.read_text(encoding="utf-8")))
    return out


def _json_lines(path: Path, limit: int = 60) -> list[Any]:
    out = []
    if not path.exists():
        return out
    for line in path.read_text(encoding="utf-8").splitlines()[:limit]:
        try:
            out.append(json.loads(line))
        except ValueError:
            continue
    return out


def webhook_seeds() -> list[Any]:
    seeds = [p for p in _json_files(FIXTURES / "meta") if isinstance(p, dict) and ("entry" in p or "statuses" in p)]
    seeds += _json_lines(ROOT / "python" / "waconv" / "examples" / "data" / "example_webhooks.jsonl")
    seeds += _json_lines(FIXTURES / "webhooks" / "malformed.jsonl")
    return seeds


def sunshine_seeds() -> list[Any]:
    return _json_lines(FIXTURES / "sunshine" / "v1_whatsapp.jsonl") + _json_lines(FIXTURES / "sunshine" / "v2_whatsapp.jsonl")


WEBHOOK_KEYS = ["id", "status", "timestamp", "recipient_id", "recipient_user_id", "from", "from_user_id",
                "conversation", "pricing", "billable", "errors", "code", "metadata", "phone_number_id", "entry",
                "changes", "value", "field", "statuses", "messages", "contacts", "wa_id", "user_id", "referral",
                "type", "origin", "expiration_timestamp", "category", "pricing_model", "message", "object"]
SUNSHINE_KEYS = ["trigger", "app", "_id", "appUser", "messages", "role", "received", "authorId", "type", "source",
                 "destination", "timestamp", "events", "payload", "message", "author", "userId", "user", "content",
                 "template", "name", "metadata", "template_category", "createdAt", "conversation", "error",
                 "underlyingError", "override", "whatsapp", "hsm", "element_name", "referral", "id"]
JSON_HOSTILE = [None, True, False, 0, -1, 1, 2**31, 2**53 + 1, 2**63, 2**64, -(2**63) - 1, 10**30, 10**400, 1.5, -0.0,
                math.nan, math.inf, -math.inf, 1e308, 1e-308, "", " ", "\x00", "\ud800", "\U0001f600", "\u202e",
                "x" * 5000, "1760000000", "1760000000.5", "-5", "1e9", "0x10", "not a number", "2025-08-04T09:00:00Z",
                "2025-08-04T09:00:00+25:00", "9999-12-31T23:59:59Z", "delivered", "failed", "appUser", "business",
                [], [None], [{}], {}, {"": None}, {"id": "x"}, ["1760000000"], "whatsapp", "messages"]


def _paths(node: Any, prefix: tuple = ()) -> list[tuple]:
    """Every (path to a container, key) pair in a JSON tree."""
    out = []
    if isinstance(node, dict):
        for key, value in node.items():
            out.append(prefix + (key,))
            out.extend(_paths(value, prefix + (key,)))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            out.append(prefix + (i,))
            out.extend(_paths(value, prefix + (i,)))
    return out


def _at(node: Any, path: tuple) -> Any:
    for key in path:
        node = node[key]
    return node


@st.composite
def mutated(draw, seeds: list[Any], keys: list[str]) -> Any:
    payload = copy.deepcopy(draw(st.sampled_from(seeds)))
    for _ in range(draw(st.sampled_from([0, 1, 1, 2, 3, 5]))):
        paths = _paths(payload)
        op = draw(st.sampled_from(["replace", "replace", "delete", "insert", "duplicate", "wrap", "nest", "swap",
                                   "retype", "root"]))
        if op == "root" or not paths:
            payload = draw(st.sampled_from([[payload], {"entry": payload}, {"value": payload}, payload,
                                            [payload, copy.deepcopy(payload)]]))
            continue
        path = draw(st.sampled_from(paths))
        parent, key = _at(payload, path[:-1]), path[-1]
        value = parent[key]
        if op == "replace":
            parent[key] = copy.deepcopy(draw(st.sampled_from(JSON_HOSTILE)))  # never alias the pool's [] and {}
        elif op == "delete":
            del parent[key]
        elif op == "insert":
            target = value if isinstance(value, (dict, list)) else parent
            new = copy.deepcopy(draw(st.sampled_from(JSON_HOSTILE)))
            if isinstance(target, dict):
                target[draw(st.sampled_from(keys))] = new
            else:
                target.insert(draw(st.integers(0, len(target))), new)
        elif op == "duplicate":
            if isinstance(parent, list):
                parent.insert(key, copy.deepcopy(value))
            else:
                parent[draw(st.sampled_from(keys))] = copy.deepcopy(value)
        elif op == "wrap":
            parent[key] = draw(st.sampled_from([[value], {"value": value}, str(value), _json(value, True)]))
        elif op == "nest":
            parent[key] = Deep(value, draw(st.sampled_from([50, 400, 2000] * 3 + [100_000])), draw(st.sampled_from(["list", "dict"])))
        elif op == "swap":
            other = draw(st.sampled_from(paths))
            try:
                parent[key] = copy.deepcopy(_at(payload, other))
            except (KeyError, IndexError, TypeError):
                pass
        else:  # "retype": the same value as another JSON type
            if isinstance(value, str) and value.lstrip("-").isdigit():
                parent[key] = draw(st.sampled_from([int(value), float(value), float(value) + 0.5, value + ".0",
                                                    " " + value, value + "\n"]))
            elif isinstance(value, (int, float)) and not isinstance(value, bool):
                parent[key] = draw(st.sampled_from([str(value), [value], bool(value), value * 1000, -value]))
            elif isinstance(value, bool):
                parent[key] = draw(st.sampled_from(["true", int(value), None]))
            elif isinstance(value, str):
                parent[key] = draw(st.sampled_from([value.upper(), value + " ", value.encode().hex(), 0]))
    return payload


BYTE_DAMAGE = ["none", "none", "none", "bom", "utf16", "bad_utf8", "nul", "crlf", "cr", "truncate", "gzip",
               "garbage_line", "blank_lines", "empty", "flip", "long_line", "surrogate_line", "bad_utf8_in_string",
               "bad_utf8_in_string", "nan_token", "duplicate_key", "escaped_nul"]
_STRING_KEYS = [b'"id": "', b'"recipient_id": "', b'"from": "', b'"phone_number_id": "', b'"wa_id": "', b'"_id": "',
                b'"userId": "', b'"status": "', b'"type": "']


def _json(node: Any, ascii_only: bool) -> str:
    if isinstance(node, Deep):
        opening, closing = ("[", "]") if node.kind == "list" else ('{"a": ', "}")
        return opening * node.depth + _json(node.value, ascii_only) + closing * node.depth
    if isinstance(node, dict):
        return "{" + ", ".join(json.dumps(str(k), ensure_ascii=ascii_only) + ": " + _json(v, ascii_only)
                               for k, v in node.items()) + "}"
    if isinstance(node, list):
        return "[" + ", ".join(_json(v, ascii_only) for v in node) + "]"
    return json.dumps(node, ensure_ascii=ascii_only, allow_nan=True)


def _encode(payload: Any, ascii_only: bool) -> bytes:
    return _json(payload, ascii_only).encode("utf-8", "surrogatepass")


def _damage(data: bytes, damage: str, at: int) -> bytes:
    k = at % (len(data) + 1)
    if damage == "bom":
        return b"\xef\xbb\xbf" + data
    if damage == "utf16":
        return data.decode("utf-8", "surrogatepass").encode("utf-16", "surrogatepass")
    if damage == "bad_utf8":
        return data[:k] + b"\xff\xc3\x28" + data[k:]
    if damage == "nul":
        return data[:k] + b"\x00" + data[k:]
    if damage == "crlf":
        return data.replace(b"\n", b"\r\n")
    if damage == "cr":
        return data.replace(b"\n", b"\r")
    if damage == "truncate":
        return data[:k]
    if damage == "gzip":
        return gzip.compress(data)[: max(10, k)] if at % 2 else gzip.compress(data)
    if damage == "garbage_line":
        return data[:k] + b"\n{\"entry\": [\n" + data[k:]
    if damage == "blank_lines":
        return b"\n\n" + data.replace(b"\n", b"\n \n\t\n") + b"\n\n"
    if damage == "empty":
        return b""
    if damage == "flip":
        return data[:k] + bytes([(data[k] ^ 0x20) if k < len(data) else 0x7B]) + data[k + 1:]
    if damage == "long_line":
        return data + b'\n{"entry": [], "pad": "' + b"x" * 300_000 + b'"}\n'
    if damage in ("bad_utf8_in_string", "escaped_nul", "duplicate_key"):
        keys = [key for key in _STRING_KEYS if key in data]
        if not keys:
            return data
        key = keys[at % len(keys)]
        k = data.index(key) + len(key)
        if damage == "bad_utf8_in_string":
            return data[:k] + [b"\xed\xa0\x80", b"\xff", b"\xc3", b"\xe2\x82"][at % 4] + data[k:]
        if damage == "escaped_nul":
            return data[:k] + b"\\u0000" + data[k:]
        end = data.index(b'"', k)
        return data[:k - len(key)] + key + b"dup" + data[k:end] + b'", ' + data[k - len(key):]
    if damage == "nan_token":
        for token in (b'"timestamp": "', b'"code": ', b'"received": '):
            if token in data:
                k = data.index(token)
                end = data.index(b",", k) if b"," in data[k:] else len(data)
                return data[:k] + token.rstrip(b' "') + b" NaN" + data[end:]
        return data
    if damage == "surrogate_line":
        return data + b'\n{"entry": [{"id": "\xed\xa0\x80", "changes": []}]}\n'
    return data


@st.composite
def payload_cases(draw, seeds: list[Any], keys: list[str], kind: str) -> dict:
    """{"kind": "webhooks"|"sunshine", "source": source defining make_source(), "kwargs": source}."""
    payloads = draw(st.lists(mutated(seeds, keys), min_size=1, max_size=4))
    mode = draw(st.sampled_from(["dicts", "dict", "texts", "bytes", "generator", "jsonl", "jsonl", "jsonl", "json_array",
                                 "json_one", "lines_as_json", "ndjson", "dir", "mixed", "path_str"]))
    damage = draw(st.sampled_from(BYTE_DAMAGE)) if mode in ("jsonl", "json_array", "json_one", "lines_as_json",
                                                            "ndjson", "dir", "path_str") else "none"
    at = draw(st.integers(0, 10**6))
    ascii_only = draw(st.booleans())
    lines = [_encode(p, ascii_only) for p in payloads]
    src = []
    if mode == "dicts":
        src.append(f"def make_source():\n    return {lit(payloads)}")
    elif mode == "dict":
        src.append(f"def make_source():\n    return {lit(payloads[0])}")
    elif mode == "texts":
        src.append(f"def make_source():\n    return {lit([b.decode('utf-8', 'surrogatepass') for b in lines])}")
    elif mode == "bytes":
        src.append(f"def make_source():\n    return {lit(lines)}")
    elif mode == "generator":
        src.append(f"def make_source():\n    return (p for p in {lit(payloads)})")
    elif mode == "mixed":
        items = [payloads[0], lines[0].decode("utf-8", "surrogatepass")] + lines[1:]
        src.append(f"def make_source():\n    return {lit(items)}")
    else:
        if mode in ("jsonl", "ndjson", "lines_as_json", "path_str", "dir"):
            data = b"\n".join(lines) + (b"\n" if at % 3 else b"")
        elif mode == "json_array":
            data = b"[" + b",\n".join(lines) + b"]"
        else:
            data = lines[0]
        data = _damage(data, damage, at)
        name = {"jsonl": "dump.jsonl", "ndjson": "dump.NDJSON", "lines_as_json": "dump.json", "json_array": "dump.json",
                "json_one": "one.json", "path_str": "dump.jsonl", "dir": "dump.jsonl"}[mode]
        src.append("folder = pathlib.Path(tempfile.mkdtemp())")
        src.append(f"(folder / {name!r}).write_bytes({lit(data)})")
        if mode == "dir":
            src.append("(folder / 'sub.json').mkdir()")
            src.append("(folder / 'notes.txt').write_text('not json')")
            src.append(f"(folder / 'more.jsonl').write_bytes({lit(lines[-1])})")
            src.append("def make_source():\n    return folder")
        elif mode == "path_str":
            src.append(f"def make_source():\n    return str(folder / {name!r})")
        else:
            src.append(f"def make_source():\n    return folder / {name!r}")
    if kind == "webhooks":
        sends = draw(st.sampled_from([None] * 6 + [
            "{'wamid.ID': 'marketing'}", "{'wamid.ID': 'promo'}", "{1: None, 'x': nan}",
            "pd.Series({'wamid.ID': 'utility', 'm2': None})", "pd.DataFrame({'message_id': ['wamid.ID'], 'template_category': ['UTILITY ']})",
            "pd.DataFrame({'id': [1]})", "'marketing'", "[('wamid.ID', 'marketing')]", "{'wamid.ID': ['marketing']}",
            "{'wamid.ID': 'authentication-international'}", "pd.DataFrame({'message_id': [None, 5], 'template_category': ['marketing', 3]})",
        ]))
        kwargs = f"dict(sends={sends})" if sends else "dict()"
    else:
        templates = draw(st.sampled_from([None] * 6 + [
            "{'appointment_reminder': 'utility'}", "{'order_update': 'promo'}", "{1: 2}", "'utility'", "[]",
            "{'appointment_reminder': None}", "{'x': 'Authentication-International'}",
        ]))
        kwargs = f"dict(templates={templates})" if templates else "dict()"
    src.append(f"kwargs = {kwargs}")
    return {"kind": kind, "mode": mode, "damage": damage, "source": "\n".join(src), "lines": lines}
