"""Reading single fields of Sunshine Conversations payloads: times, templates, error codes."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from waconv._errors import InputError
from waconv.io.webhooks.categories import ALIASES, TEMPLATE_CATEGORIES
from waconv.io.webhooks.sources import EARLIEST_SECONDS, LATEST_SECONDS, Bad


def template_lookup(templates: Mapping[str, str] | None) -> dict[str, str]:
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
    try:
        if isinstance(value, str):
            seconds = datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
        elif isinstance(value, (int, float)) and not isinstance(value, bool):
            seconds = float(value)
        else:
            raise Bad(field, "missing" if value is None else f"not a time: {value!r}")
    except ValueError:
        raise Bad(field, f"not a time: {value!r}") from None
    if not EARLIEST_SECONDS <= seconds < LATEST_SECONDS:
        raise Bad(field, f"time {value!r} outside 2000-01-01 .. 2100-01-01")
    return int(round(seconds * 1000))


def get(obj: Any, *keys: str) -> Any:
    for key in keys:
        if type(obj) is not dict:
            return None
        obj = obj.get(key)
    return obj


def template(message: dict) -> tuple[str | None, str | None]:
    """(template name or "" when it is a template without a name, metadata category)."""
    content = message.get("content") if type(message.get("content")) is dict else message
    payload = get(message, "override", "whatsapp", "payload")
    name = None
    if content.get("type") == "template":
        name = get(content, "template", "name") or ""
    elif type(payload) is dict and payload.get("type") in ("template", "hsm"):
        name = get(payload, "template", "name") or get(payload, "hsm", "element_name") or ""
    category = get(message, "metadata", "template_category")
    return name, None if category is None else str(category).strip().lower()


def error_code(error: Any) -> float | None:
    """The WhatsApp error code inside a Sunshine failure (``underlyingError``), when it has one."""
    underlying = get(error, "underlyingError")
    nested = get(underlying, "errors")
    candidates = [get(underlying, "code"), get(underlying, "error", "code")]
    if type(nested) is list and nested and type(nested[0]) is dict:
        candidates.append(nested[0].get("code"))
    candidates.append(get(error, "code"))  # Sunshine's own codes are words ("unauthorized")
    for candidate in candidates:
        try:
            return float(int(candidate))
        except (TypeError, ValueError):
            continue
    return None
