"""The engine's output: the core's arrays assembled into three pandas tables."""

from __future__ import annotations

import functools
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from waconv import _core
from waconv.engine.canonical import CanonicalEvents, _timestamps, resolve_columns, to_utc_index
from waconv.engine.strings import without_string_views

_UTC = pd.DatetimeTZDtype("ns", "UTC")


def _categorical(codes: np.ndarray, names: Sequence[str]) -> pd.Categorical:
    # The core's codes are in range by construction: skipping pandas' check of every code
    # saves a pass over each of ~15 columns of 10M rows.
    return pd.Categorical.from_codes(codes, dtype=_dtype(tuple(names)), validate=False)


@functools.lru_cache(maxsize=64)
def _dtype(names: tuple[str, ...]) -> pd.CategoricalDtype:
    # Building a dtype validates its categories (an Index, a uniqueness check): ~1 ms each,
    # for ~20 columns per call. Dtypes are immutable, so the same few are shared.
    return pd.CategoricalDtype(list(names))


def _nullable_ids(ids: np.ndarray) -> pd.arrays.IntegerArray:
    return pd.arrays.IntegerArray(ids, ids < 0)


@dataclass
class Tables:
    """What the engine returns: classified messages, conversations and windows (see
    :class:`waconv.Result`, which adds the analytics, for the columns)."""

    messages: pd.DataFrame
    conversations: pd.DataFrame
    windows: pd.DataFrame
    n_duplicates: int = 0
    options: dict[str, Any] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)
    # Builds the carried state on first use (engine.carry.attach_state); None: none kept.
    state_source: Any = field(default=None, repr=False, compare=False)

    def __getstate__(self) -> dict[str, Any]:
        # A pickled result (multiprocessing, Dask) keeps a state already built, not the recipe.
        return {**self.__dict__, "state_source": None}


def charged_units(messages: pd.DataFrame) -> np.ndarray:
    """Rows that are a charge: a charged CBP conversation's opening row or a charged PMP message.

    Duplicates never are: they carry no pricing type, so they are never billable.
    """
    billable = messages["billable"].to_numpy(dtype=bool)
    opens = messages["opens_conversation"].to_numpy(dtype=bool)
    return billable & (opens | messages["conversation_id"].isna().to_numpy())


def message_columns(
    events: CanonicalEvents, core: dict[str, np.ndarray], *, categories: bool = True
) -> dict[str, Any]:
    """The phase 1 columns of docs/rules.md §Output columns, by name.

    categories=False leaves `pricing_category` and `charge_reason` as None, in their places,
    while pricing may still be rewriting the category codes (see `pricing_categories` and
    `charge_reasons`, which needs the priced categories and costs).
    """
    pricing_type = core["pricing_type"]
    return {
        # The row's user as the rules saw it (docs/rules.md §Identity): its linked group's key.
        "user_key": events.user_key if events.user_key is not None else events.user_values.take(events.user),
        "era": _categorical(core["era"], _core.ERAS),
        "pricing_model": _categorical(core["pricing_model"], _core.PRICING_MODELS),
        "conversation_id": _nullable_ids(core["conversation_id"]),
        "pricing_category": pricing_categories(core["pricing_category"]) if categories else None,
        "pricing_type": _categorical(pricing_type, _core.PRICING_TYPES),
        "billable": pricing_type == _core.PRICING_TYPES.index("regular"),
        "opens_conversation": core["opens_conversation"],
        "csw_open": core["csw_open"],
        "policy_violation": core["policy_violation"],
        "us_marketing_paused": core["us_marketing_paused"],
        "duplicate": events.duplicate.astype(bool),
        "charge_reason": charge_reasons(core["charge_reason"]) if categories else None,
    }


_REASON = {name: code for code, name in enumerate(_core.CHARGE_REASONS)}
_AUTH_INTERNATIONAL = _core.PRICING_CATEGORIES.index("authentication_international")


def charge_reasons(
    codes: np.ndarray, pricing_category: np.ndarray | None = None, cost: np.ndarray | None = None
) -> pd.Categorical:
    """`charge_reason` (docs/rules.md §Charge reasons) from the core's codes, and after pricing
    from the priced category codes and costs.

    The core decides every reason its rules decide (the pair scan and the monthly allowances).
    Two depend on the rate cards, which are read here rather than in the pricing core: a charged
    unit priced at the authentication-international rate (pricing rewrote its category) and one
    no card has a rate for (pricing leaves its cost NaN, which it does on charged units only).
    Rows that are neither keep the core's array, uncopied.
    """
    out = codes
    if pricing_category is not None:
        international = pricing_category == _AUTH_INTERNATIONAL
        if international.any():
            # Rows joined to an authentication-international conversation carry its category
            # but not its charge: only the charged units change reason.
            international &= (codes == _REASON["charged_message"]) | (codes == _REASON["opened_conversation"])
            out = np.where(international, np.int8(_REASON["authentication_international"]), out)
    if cost is not None:
        unknown = np.isnan(cost)
        if unknown.any():
            out = np.where(unknown, np.int8(_REASON["no_rate"]), out)
    return _categorical(out, _core.CHARGE_REASONS)


def messages_table(
    frame: pd.DataFrame, added: dict[str, Any], events: CanonicalEvents | None = None,
    columns: Mapping[str, str] | None = None,
) -> pd.DataFrame:
    """The input rows with `added` columns after them (replacing same-named ones in place),
    and with their text timestamps as UTC datetimes when `events` is given (see `time_columns`).

    The input's columns are shared, not copied (copy-on-write), and the frame is built in
    one step: inserting 20 columns one by one into a 10M-row frame costs 0.2 s.
    """
    if events is not None:
        added = {**time_columns(frame, events, columns), **added}
    if not frame.columns.is_unique:
        out = frame.copy(deep=False)
        for name, values in added.items():
            out[name] = values
        return out
    # An object column goes in as a Series, as pandas infers `str` from an object array (and
    # raises on a lone surrogate); by position, as a repeated index label would align rows.
    positions = pd.RangeIndex(len(frame))
    columns: dict[Hashable, Any] = {
        name: frame[name].set_axis(positions) if frame[name].dtype == object else frame[name].array
        for name in frame.columns
    }
    columns.update({name: _kept_objects(values, positions) for name, values in added.items()})
    out = pd.DataFrame(columns, index=positions, copy=False)
    out.index = frame.index
    return out


def _kept_objects(values: Any, positions: pd.RangeIndex) -> Any:
    """An added column of Python objects (user_key of an object user column) as an object
    Series: given as an array, pandas would convert it to `str` (1-2 s at 10M rows)."""
    if isinstance(values, pd.arrays.NumpyExtensionArray):
        values = values.to_numpy()
    if isinstance(values, np.ndarray) and values.dtype == object:
        return pd.Series(values, index=positions, dtype=object, copy=False)
    return values


def time_columns(
    frame: pd.DataFrame, events: CanonicalEvents, columns: Mapping[str, str] | None
) -> dict[Hashable, Any]:
    """The input's `timestamp` and `delivered_at` columns that hold text (or Python objects),
    as datetime64[ns, UTC] columns built from the instants canonicalize already parsed.

    Datetime and epoch-number columns are the user's own choice and stay as they are, except
    a naive datetime column beside a converted one: it is localized to UTC (waconv reads naive
    times as UTC), so that the two stay comparable (pandas refuses naive against aware) and
    the messages can be classified again.
    """
    names = resolve_columns(frame, columns)
    # An all-null text column holds no time to convert: it comes back as given, and does not
    # force a naive datetime column beside it to UTC.
    text = {name: _is_text(frame[names[name]]) and bool(frame[names[name]].notna().any())
            for name in ("timestamp", "delivered_at") if name in names}
    if not any(text.values()):
        return {}
    out: dict[Hashable, Any] = {}
    for name, is_text in text.items():
        column = frame[names[name]]
        if is_text:
            out[names[name]] = _utc_array(events.timestamp if name == "timestamp" else _delivered(events, column))
        elif _is_naive_datetime(column):
            out[names[name]] = (column.dt.tz_localize("UTC").array if isinstance(column.dtype, pd.ArrowDtype)
                                else column.array.tz_localize("UTC"))
    return out


def _is_text(column: pd.Series) -> bool:
    dtype = column.dtype
    if isinstance(dtype, pd.ArrowDtype):  # pandas' dtype checks raise on string_view
        data_type = dtype.pyarrow_dtype
        is_view = getattr(pa.types, "is_string_view", None)  # pyarrow >= 16
        return pa.types.is_string(data_type) or pa.types.is_large_string(data_type) or bool(
            is_view is not None and is_view(data_type))
    return dtype == object or pd.api.types.is_string_dtype(dtype)


def _is_naive_datetime(column: pd.Series) -> bool:
    dtype = column.dtype
    if isinstance(dtype, pd.ArrowDtype):
        return pa.types.is_timestamp(dtype.pyarrow_dtype) and dtype.pyarrow_dtype.tz is None
    return isinstance(dtype, np.dtype) and dtype.kind == "M"


def _utc_array(ns: np.ndarray) -> pd.arrays.DatetimeArray:
    # Built as a UTC dtype directly: DatetimeIndex.tz_localize("UTC") takes 0.5 s on 10M rows.
    return pd.Series(ns.view("datetime64[ns]"), dtype=_UTC, copy=False).array


def _delivered(events: CanonicalEvents, column: pd.Series) -> np.ndarray:
    """The delivery instants of the column's rows: canonicalize keeps those of outbound rows
    only (NOT_DELIVERED elsewhere). An inbound row's delivery means nothing to waconv but is
    the user's data: the few such values are parsed here rather than dropped."""
    outbound = events.direction == _core.DIRECTIONS.index("outbound")
    stray = ~outbound & column.notna().to_numpy()
    if not stray.any():
        return events.delivered_at
    ns = events.delivered_at.copy()
    ns[stray] = _timestamps(without_string_views(column[stray]), str(column.name))[0]
    return ns


def pricing_categories(codes: np.ndarray) -> pd.Categorical:
    return _categorical(codes, _core.PRICING_CATEGORIES)


def conversations_table(
    events: CanonicalEvents, core: dict[str, np.ndarray], *, categories: bool = True
) -> pd.DataFrame:
    """categories=False leaves `category` out until `add_conversation_categories` (see
    `message_columns`)."""
    n = len(core["start"])
    table = pd.DataFrame(
        {
            "conversation_id": np.arange(n, dtype=np.int64),
            "business": events.business_values.take(core["business"]),
            "user": events.user_values.take(core["user"]),
            "waba": events.waba_values.take(core["waba"]),
            "era": _categorical(core["era"], _core.ERAS),
            "pricing_type": _categorical(core["pricing_type"], _core.PRICING_TYPES),
            "start": to_utc_index(core["start"]),
            "end": to_utc_index(core["end"]),
            "n_messages": core["n_messages"],
            "opened_by": core["opened_by"],
        },
        copy=False,  # consolidating the core's arrays into 2D blocks would copy them
    )
    if categories:
        add_conversation_categories(table, core["category"])
    return table


def add_conversation_categories(table: pd.DataFrame, codes: np.ndarray) -> None:
    table.insert(table.columns.get_loc("era") + 1, "category", pricing_categories(codes))


def windows_table(events: CanonicalEvents, core: dict[str, np.ndarray]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "kind": _categorical(core["kind"], _core.WINDOW_KINDS),
            "business": events.business_values.take(core["business"]),
            "user": events.user_values.take(core["user"]),
            "start": to_utc_index(core["start"]),
            "end": to_utc_index(core["end"]),
        },
        copy=False,
    )


def price_columns(plan, priced: dict) -> tuple[dict[str, Any], dict[str, Any]]:
    """The phase 2 columns (docs/rules.md §Output columns) of the messages and of the
    conversations tables."""
    m, c = priced["messages"], priced["conversations"]
    currency = plan.currencies  # the core's currency codes: each WABA's where a card is in force
    card_labels = [card.label for card in plan.cards]
    messages = {
        "country": _categorical(m["country"], plan.countries),
        "market": _categorical(m["market"], plan.markets),
        "tier": _categorical(m["tier"], plan.tier_labels),
        "rate": m["rate"],
        "cost": m["cost"],
        "currency": _categorical(m["currency"], currency),
        "rate_card": _categorical(m["rate_source"], card_labels),
    }
    conversations = {
        "market": _categorical(c["market"], plan.markets),
        "cost": c["cost"],
        "currency": _categorical(c["currency"], currency),
    }
    return messages, conversations
