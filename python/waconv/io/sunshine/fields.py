"""Reading single fields of Sunshine Conversations payloads: times, templates, error codes.

Every field is read through :func:`get` (objects on the way) and
:func:`~waconv.io.webhooks.sources.text` (strings), so a field of the wrong JSON type is a
:class:`Bad` naming its path.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from waconv._errors import InputError
from waconv.io.webhooks.categories import ALIASES, TEMPLATE_CATEGORIES
from waconv.io.webhooks.sources import EARLIEST_SECONDS, LATEST_SECONDS, Bad, shown, text

_INT64_MAX = 2**63 - 1


def template_lookup(templates: Mapping[str, str] | None) -> dict[str, str]:
    if templates is not None and not isinstance(templates, Mapping):
        raise InputError("templates", None, f"expected a mapping of template name to category, got {type(templates).__name__}")
    lookup = {}
    for name, category in (templates or {}).items():
        text = str(category).strip().lower()
        text = ALIASES.get(text, text)
        if text not in TEMPLATE_CATEGORIES:
            raise InputError("templates", None, f"unknown template category {category!r} for template {name!r}")
        lookup[str(name)] = text
    return lookup


def milliseconds(value: Any, field: str) -> int:
    """Epoch milliseconds from v1 epoch seconds (float) or a v2 ISO 8601 string."""
    if isinstance(value, str):
        try:
            seconds = datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
        except (ValueError, OverflowError):
            raise Bad(field, f"not a time: {shown(value)}") from None
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        seconds = float(value) if -1e18 < value < 1e18 else math.inf  # float(10**400) would overflow
    elif value is None:
        raise Bad(field, "missing")
    else:
        raise Bad(field, f"expected a time (epoch seconds or ISO 8601), got {shown(value)}")
    if not EARLIEST_SECONDS <= seconds < LATEST_SECONDS:  # false for NaN too
        raise Bad(field, f"time {shown(value)} outside 2000-01-01 .. 2100-01-01")
    return int(round(seconds * 1000))


def get(obj: Any, *keys: str, at: str = "") -> Any:
    """obj[keys[0]][keys[1]]...; None where a level is missing. A level that is there but not
    an object is Bad, named by its path (`at` is the path of `obj`)."""
    path = at
    for key in keys:
        if obj is None:
            return None
        if type(obj) is not dict:
            raise Bad(path, f"expected an object, got {shown(obj)}")
        obj = obj.get(key)
        path = f"{path}.{key}" if path else key
    return obj


def get_text(obj: Any, *keys: str, at: str = "") -> str | None:
    """The string at obj[keys[0]][keys[1]]..., None where missing; see :func:`get`."""
    return text(get(obj, *keys, at=at), ".".join(filter(None, (at, *keys))))


def template(message: dict, at: str) -> tuple[str | None, str | None]:
    """(template name or "" when it is a template without a name, metadata category); `at`
    is the path of `message`."""
    content, content_at = get(message, "content", at=at), f"{at}.content"
    if content is None:  # v1 messages carry their type and template at the top
        content, content_at = message, at
    payload_at = f"{at}.override.whatsapp.payload"
    payload = get(message, "override", "whatsapp", "payload", at=at)
    name = None
    if get_text(content, "type", at=content_at) == "template":
        name = get_text(content, "template", "name", at=content_at) or ""
    elif payload is not None and get_text(payload, "type", at=payload_at) in ("template", "hsm"):
        name = (get_text(payload, "template", "name", at=payload_at)
                or get_text(payload, "hsm", "element_name", at=payload_at) or "")
    category = get_text(message, "metadata", "template_category", at=at)
    return name, None if category is None else category.strip().lower()


def error_code(error: Any) -> float | None:
    """The WhatsApp error code inside a Sunshine failure (``underlyingError``), when it has one:
    best effort, as the failure's shape varies, so only an integer (or digits) is a code."""
    underlying = _object_at(error, "underlyingError")
    nested = _object_at(underlying, "errors")
    candidates = [_object_at(underlying, "code"), _object_at(_object_at(underlying, "error"), "code")]
    if type(nested) is list and nested and type(nested[0]) is dict:
        candidates.append(nested[0].get("code"))
    candidates.append(_object_at(error, "code"))  # Sunshine's own codes are words ("unauthorized")
    for candidate in candidates:
        code = _integer(candidate)
        if code is not None:
            return float(code)
    return None


def _object_at(obj: Any, key: str) -> Any:
    return obj.get(key) if type(obj) is dict else None


def _integer(value: Any) -> int | None:
    if type(value) is str:
        try:
            value = int(value)
        except ValueError:
            return None
    if type(value) is float and value.is_integer():
        value = int(value)
    return value if type(value) is int and -_INT64_MAX <= value <= _INT64_MAX else None
