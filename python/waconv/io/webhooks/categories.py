"""Template categories of outbound messages: from a send log, else from Meta's pricing objects.

A status webhook never says "this was a template of category X". Its ``pricing.category`` is
the category of the *charge*: per message under PMP (so it names the template's category, or
``service`` for a free-form message), but per *conversation* under CBP, where a free-form
message joining a marketing conversation is also priced ``marketing``. What can and cannot
be decided is listed in :func:`waconv.read_webhooks`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from waconv._errors import InputError
from waconv.io.webhooks.events import strings

TEMPLATE_CATEGORIES = ("marketing", "utility", "authentication", "marketing_lite")
ALIASES = {  # spellings a send log or Meta may use for a template's category
    "authentication_international": "authentication",
    "authentication-international": "authentication",
}
# PMP pricing.category -> the template category it proves (None: a free-form message).
_PMP = {
    "marketing": "marketing", "utility": "utility", "authentication": "authentication",
    "authentication-international": "authentication", "authentication_international": "authentication",
    "marketing_lite": "marketing_lite", "group_marketing": "marketing", "group_utility": "utility",
    "service": None, "general_purpose_ai": None, "group_service": None,
}
# CBP conversation categories opened only by a template of that category.
_CBP_OPENED_BY_TEMPLATE = {
    "marketing": "marketing", "utility": "utility", "authentication": "authentication",
    "authentication_international": "authentication", "authentication-international": "authentication",
    "marketing_lite": "marketing_lite",
}
_MISSING = object()


def sends_lookup(sends: Any) -> dict[str, str | None] | None:
    """The send log as {message id: template category or None}, spellings normalised."""
    if sends is None:
        return None
    if isinstance(sends, pd.DataFrame):
        for column in ("message_id", "template_category"):
            if column not in sends.columns:
                raise InputError(column, None, "the sends table needs message_id and template_category columns")
        keys, values = sends["message_id"].to_numpy(dtype=object), sends["template_category"]
    elif isinstance(sends, pd.Series):
        keys, values = sends.index.to_numpy(dtype=object), sends
    elif isinstance(sends, Mapping):
        keys, values = np.array(list(sends.keys()), dtype=object), pd.Series(list(sends.values()), dtype=object)
    else:
        raise InputError("sends", None, f"expected a mapping, Series or DataFrame, got {type(sends).__name__}")
    values = pd.Series(values, dtype=object).to_numpy()
    try:
        codes, uniques = pd.factorize(values, use_na_sentinel=True)
    except TypeError:  # an unhashable category (a list, an object): name the first
        row = next(i for i, value in enumerate(values) if not _hashable(value))
        raise InputError("sends", row, f"the template category of message {keys[row]!r} is a "
                         f"{type(values[row]).__name__}, expected a string or null") from None
    normalised = []
    for value in uniques:
        text = str(value).strip().lower()
        text = ALIASES.get(text, text)
        if text == "":
            normalised.append(None)
        elif text in TEMPLATE_CATEGORIES:
            normalised.append(text)
        else:
            row = int(np.argmax(np.asarray(uniques, dtype=object)[codes] == value))
            raise InputError("sends", row, f"unknown template category {value!r} for message {keys[row]!r} "
                             f"(allowed: {', '.join(TEMPLATE_CATEGORIES)} or null)")
    lookup = np.array([*normalised, None], dtype=object)[codes]  # code -1 (null) -> None
    return dict(zip((str(k) for k in keys), lookup))


def _hashable(value: Any) -> bool:
    try:
        hash(value)
    except TypeError:
        return False
    return True


def _rule(model: Any, category: Any, pricing_type: Any) -> tuple[str, str | None] | None:
    """("message", category) when pricing decides each message, ("opener", category) when it
    decides only a CBP conversation's first message, None when it cannot decide."""
    if not isinstance(category, str):
        return None
    category, model = category.lower(), model.upper() if isinstance(model, str) else None
    pricing_type = pricing_type.lower() if isinstance(pricing_type, str) else None
    if pricing_type == "free_entry_point" or category == "referral_conversion":
        return None
    if model == "PMP" or (model is None and pricing_type is not None):  # only PMP has pricing.type
        return ("message", _PMP[category]) if category in _PMP else None
    if category in _CBP_OPENED_BY_TEMPLATE:
        return ("opener", _CBP_OPENED_BY_TEMPLATE[category])
    return None  # CBP service (free-form), user_/business_initiated (undecidable), unknown


def _codes(values: Any) -> tuple[np.ndarray, list]:
    """Dictionary codes (-1 for null) and the distinct values of a low-cardinality column."""
    encoded = pc.dictionary_encode(strings(values))
    return pc.fill_null(encoded.indices, -1).to_numpy(zero_copy_only=False), encoded.dictionary.to_pylist()


def infer_template_categories(outbound: dict[str, Any], sends: dict[str, str | None] | None) -> np.ndarray:
    """Per outbound message: the send log's category, else what Meta's pricing proves, else None."""
    n = len(outbound["timestamp"])
    result = np.full(n, None, dtype=object)
    if n:
        (model, models), (category, categories), (kind, kinds) = (
            _codes(outbound[name]) for name in ("meta_pricing_model", "meta_pricing_category", "meta_pricing_type"))
        # One key per (model, category, type) combination: few distinct, each ruled on once.
        width_c, width_k = len(categories) + 1, len(kinds) + 1
        key = ((model.astype(np.int64) + 1) * width_c + category + 1) * width_k + kind + 1
        combos, combo_of_row = np.unique(key, return_inverse=True)
        look = lambda values, code: None if code < 0 else values[code]  # noqa: E731
        rules = [_rule(look(models, k // width_k // width_c - 1), look(categories, k // width_k % width_c - 1),
                       look(kinds, k % width_k - 1)) for k in combos.tolist()]
        rule_kind = np.array([r[0] if r else "" for r in rules], dtype=object)[combo_of_row]
        decided = np.array([r[1] if r else None for r in rules], dtype=object)[combo_of_row]
        per_message = rule_kind == "message"
        result[per_message] = decided[per_message]
        candidates = (rule_kind == "opener") & strings(outbound["meta_conversation_id"]).is_valid().to_numpy(zero_copy_only=False)
        opened = _conversation_openers(outbound, candidates)
        result[opened] = decided[opened]
    if sends:
        for i, message_id in enumerate(strings(outbound["message_id"]).to_pylist()):
            value = sends.get(message_id, _MISSING)
            if value is not _MISSING:
                result[i] = value
    return result


def _conversation_openers(outbound: dict[str, Any], candidates: np.ndarray) -> np.ndarray:
    """Rows that opened their CBP conversation: per (business, conversation id), the earliest
    delivered (then sent) message among `candidates`."""
    rows = np.flatnonzero(candidates)
    if len(rows) == 0:
        return rows
    take = pa.array(rows)
    delivered = outbound["delivered_at"][rows]
    frame = pd.DataFrame({
        "row": rows,
        "business": pd.Series(strings(outbound["business"]).take(take).to_pylist(), dtype=object).fillna(""),
        "conversation": strings(outbound["meta_conversation_id"]).take(take).to_pylist(),
        "delivered": np.where(delivered >= 0, delivered, np.iinfo(np.int64).max),
        "sent": outbound["timestamp"][rows],
        "id": strings(outbound["message_id"]).take(take).to_pylist(),
    }).sort_values(["business", "conversation", "delivered", "sent", "id"])
    return frame.drop_duplicates(["business", "conversation"])["row"].to_numpy()
