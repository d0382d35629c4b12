"""Phases 1 and 2 as separate steps, for drivers that split a log.

Every driver (stream, Spark, Dask) does the same three things with these functions:

1. global keys (`keys.py`): each row's input position, its resolved user key and whether
   it repeats an earlier (message_id, direction), all decided over the whole input;
2. `classify_partition` per partition of pairs (a hash of business and user key): phase 1
   in the core with the monthly allowances off, so every unit stays `regular`; it returns
   the rows' verdicts and the *gathered* rows, those with a unit, with what phase 2 needs;
3. `price_gathered` once over the gathered rows of every partition: the core's
   `apply_allowances` and `price` on them, in input order (their ties go by it);
   `finish_partition` then patches each partition's verdicts with the result.

Conversation ids are `partition << 40 | id within the partition`: unique and deterministic
for a given partition count, never the values one `classify` gives (the rows they group are the same).
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from waconv import _core
from waconv._errors import InputError
from waconv.engine.canonical import CanonicalEvents, canonicalize, resolve_columns
from waconv.engine.classify import _message_id_buffers
from waconv.engine.price import report_gaps
from waconv.engine.pricing_setup import PricingSetup, plan_pricing
from waconv.engine.tables import _categorical, _nullable_ids, charge_reasons, price_columns
from waconv.scale.options import ScaleOptions

ROW = "_waconv_row"  # the row's position in the whole input
KEY = "_waconv_user_key"  # its resolved user (docs/rules.md §Identity)
DUPLICATE = "_waconv_duplicate"  # repeats an earlier (message_id, direction) anywhere in the input
INTERNAL = (ROW, KEY, DUPLICATE)
PARTITION_BITS = 40  # conversation ids: partition << 40 | id within the partition

# The per-row verdict codes phase 1 leaves and phase 2 reads (and partly rewrites). Every
# per-row field of the core's MessageVerdicts is here, so the gathered Classification is
# whole: a field added to the core (e.g. a charge reason) is added here too.
VERDICTS = ("era", "pricing_model", "pricing_category", "pricing_type", "conversation_id",
            "opens_conversation", "csw_open", "policy_violation", "us_marketing_paused", "charge_reason")
# What phase 2 needs of a gathered row besides its verdicts (canonical names).
GATHERED_INPUTS = ("business", "waba", "portfolio", "timestamp", "delivered_at", "message_id", "user_country")
CONVERSATION_CODES = ("era", "category", "pricing_type")
# What the allowances and pricing rewrite, for finish_partition to patch.
REWRITTEN = ("pricing_category", "pricing_type", "charge_reason")
PRICE_COLUMNS = ("market", "tier", "rate", "cost", "currency", "rate_card")


@dataclass
class PartitionResult:
    """Phase 1 of one partition: every row's verdict codes, its conversations and windows,
    and the gathered rows (those with a unit) for phase 2."""

    frame: pd.DataFrame  # the partition's rows in input order, internal columns included
    verdicts: dict[str, np.ndarray]
    country: pd.Categorical | None  # per row, when priced
    conversations: pd.DataFrame
    windows: pd.DataFrame
    gathered: pd.DataFrame


@dataclass
class Gathered:
    """Phase 2's verdicts: per gathered row (by ROW) and per conversation (by id)."""

    rows: pd.DataFrame
    conversations: pd.DataFrame
    gaps: dict[str, Any] = field(default_factory=dict)


def canonical_names(frame: pd.DataFrame, options: ScaleOptions) -> dict[str, str]:
    """Canonical name -> the input's column, as classify resolves them."""
    return resolve_columns(frame.drop(columns=[c for c in INTERNAL if c in frame.columns]), options.columns)


def _work_frame(frame: pd.DataFrame, options: ScaleOptions) -> pd.DataFrame:
    """The partition's columns under their canonical names, the user being the resolved key
    (identity was resolved over the whole input: nothing may link again here)."""
    names = canonical_names(frame, options)
    keep = {name: frame[source] for name, source in names.items() if name not in ("user", "user_phone", "user_bsuid")}
    keep["user"] = frame[KEY]
    if isinstance(options.csw_refreshing, str):
        keep[options.csw_refreshing] = frame[options.csw_refreshing]
    return pd.DataFrame(keep, copy=False).reset_index(drop=True)


def _zones_present(options: ScaleOptions, wabas: pd.Index) -> dict[Hashable, str]:
    """The time zones of the WABAs a partition holds: a key naming no WABA of one partition
    is no slip (the driver warns once for the whole input)."""
    texts = {str(value) for value in wabas}
    return {key: zone for key, zone in options.timezones.items() if str(key) in texts or key in set(wabas)}


def _global_error(error: InputError, rows: np.ndarray) -> InputError:
    """The partition's error at the row's position in the whole input."""
    row = getattr(error, "row", None)
    if isinstance(row, (int, np.integer)) and 0 <= row < len(rows):
        return InputError(error.column, int(rows[row]), error.reason)
    return error


def _canonical(work: pd.DataFrame, rows: np.ndarray, duplicate: np.ndarray, options: ScaleOptions,
               wabas: pd.Index) -> CanonicalEvents:
    """duplicate: decided over the whole input (keys.py), so canonicalize need not look for
    repeats among these rows only (a hash of every message id, a quarter of its time)."""
    try:
        return canonicalize(work, timezones=_zones_present(options, wabas), csw_refreshing=options.csw_refreshing,
                            duplicates=duplicate.astype(np.uint8))
    except InputError as error:
        raise _global_error(error, rows) from None


def _pricing(canonical: CanonicalEvents, options: ScaleOptions, *, reports_countryless: bool) -> PricingSetup:
    cards, user_cards = options.rate_cards
    # A partition holds some WABAs only: a currencies= key naming none of them is no slip.
    return plan_pricing(canonical, cards, user_cards, options.volume_tiers, options.currencies, whole_log=False,
                        reports_countryless=reports_countryless, stacklevel=3)


def classify_partition(frame: pd.DataFrame, options: ScaleOptions, partition: int) -> PartitionResult:
    """Phase 1 over one partition of pairs (rows carrying ROW, KEY and DUPLICATE)."""
    frame = frame.sort_values(ROW, kind="stable").reset_index(drop=True)
    rows = frame[ROW].to_numpy(np.int64)
    work = _work_frame(frame, options)
    names = canonical_names(frame, options)
    wabas = pd.Index(frame[names["waba"]].unique()) if "waba" in names else pd.Index(frame[names["business"]].unique())
    canonical = _canonical(work, rows, frame[DUPLICATE].to_numpy(bool), options, wabas)
    # Phase 2 warns once for the whole call about users with no country (price_gathered).
    pricing = _pricing(canonical, options, reports_countryless=False) if options.price else None
    ids = _message_id_buffers(canonical.message_id)
    try:
        core = _core.classify(
            canonical.business, canonical.user, canonical.waba, canonical.timestamp, canonical.delivered_at,
            canonical.direction, canonical.template_category, canonical.referral, canonical.duplicate,
            canonical.refreshes_csw, None if pricing is None else pricing.us_user,
            None if pricing is None else pricing.us_override, len(canonical.user_values), canonical.time_zones,
            message_id=None if ids is None else ids[1], forced_era=None if options.rules == "auto" else options.rules,
            anchor_sent=options.anchor == "sent",
            failed_freeform_opens_conversation=options.failed_freeform_opens_conversation,
            free_tier_conversations=0, service_free_allowance=0,  # phase 2 grants them over every partition
            threads=options.threads,
        )
    except InputError as error:
        raise _global_error(error, rows) from None
    arrays = core.to_numpy()
    m = arrays["messages"]
    offset = np.int64(partition) << PARTITION_BITS
    verdicts = {name: np.array(m[name]) for name in VERDICTS}
    local_ids = verdicts["conversation_id"]
    verdicts["conversation_id"] = np.where(local_ids >= 0, local_ids + offset, -1)
    country = None
    if pricing is not None:
        per_row = pricing.user_country[canonical.user]
        if pricing.row_country is not None:
            per_row = np.where(pricing.row_country >= 0, pricing.row_country, per_row)
        country = _categorical(per_row.astype(np.int16), pricing.plan.countries)
    c = arrays["conversations"]
    conversations = _new_frame({
        "conversation_id": np.arange(len(c["start"]), dtype=np.int64) + offset,
        "business": canonical.business_values.take(c["business"]),
        "user": canonical.user_values.take(c["user"]),
        "waba": canonical.waba_values.take(c["waba"]),
        **{name: np.array(c[name]) for name in CONVERSATION_CODES},
        "start": np.array(c["start"]),
        "end": np.array(c["end"]),
        "n_messages": np.array(c["n_messages"]),
        "opened_by": rows[c["opened_by"]],
    })
    w = arrays["windows"]
    windows = _new_frame({
        "kind": _categorical(np.array(w["kind"]), _core.WINDOW_KINDS),
        "business": canonical.business_values.take(w["business"]),
        "user": canonical.user_values.take(w["user"]),
        "start": _utc(w["start"]),
        "end": _utc(w["end"]),
    })
    with_unit = verdicts["pricing_type"] >= 0
    gathered = _gathered_rows(frame, work, canonical, verdicts, with_unit)
    return PartitionResult(frame, verdicts, country, conversations, windows, gathered)


def _gathered_rows(frame: pd.DataFrame, work: pd.DataFrame, canonical: CanonicalEvents,
                   verdicts: dict[str, np.ndarray], with_unit: np.ndarray) -> pd.DataFrame:
    """The rows with a unit, with their verdicts and what phase 2 reads of their input."""
    # Columns stay in their pandas arrays (Arrow-backed strings mostly): phase 2 holds the
    # gathered rows of every partition at once, and a Python object per id would be most of it.
    out: dict[str, Any] = {ROW: frame[ROW].to_numpy(np.int64)[with_unit], "user": frame[KEY].array[with_unit]}
    out["business"] = canonical.business_values.take(canonical.business[with_unit])
    out["waba"] = canonical.waba_values.take(canonical.waba[with_unit])
    out["portfolio"] = canonical.portfolio_values.take(canonical.portfolio[with_unit])
    out["timestamp"] = canonical.timestamp[with_unit]
    out["delivered_at"] = canonical.delivered_at[with_unit]
    if "message_id" in work.columns:
        out["message_id"] = work["message_id"].array[with_unit]
    if "user_country" in work.columns:
        out["user_country"] = work["user_country"].array[with_unit]
    for name in VERDICTS:
        out[name] = verdicts[name][with_unit]
    return _new_frame(out)


def _new_frame(columns: dict[str, Any], index: pd.Index | None = None) -> pd.DataFrame:
    """A frame of columns made for it, taken as they are: pandas' default copies the NumPy
    columns into one 2-D block per dtype, a second copy of each in fresh pages (0.2-1 s for
    3M rows of 15 columns here). No two columns may share an array, and nothing but arrays
    discarded after (a partition's verdicts, finished once) may share one with a column."""
    return pd.DataFrame(columns, index=index, copy=False)


def _utc(ns: np.ndarray) -> pd.Series:
    return pd.Series(np.asarray(ns).view("datetime64[ns]")).dt.tz_localize("UTC")


def price_gathered(gathered: pd.DataFrame, conversations: pd.DataFrame, options: ScaleOptions, *,
                   report: bool = True) -> Gathered:
    """Phase 2 over the gathered rows of every partition (and all their conversations).

    report: warn about pricing gaps here; False leaves them in the result's `gaps` (with the
    rows' categories, markets and input positions) for a caller pricing in several groups to report
    once."""
    gathered = gathered.sort_values(ROW, kind="stable").reset_index(drop=True)
    conversations = conversations.sort_values("conversation_id", kind="stable").reset_index(drop=True)
    rows = gathered[ROW].to_numpy(np.int64)
    work = pd.DataFrame({
        "business": gathered["business"].array,
        "user": gathered["user"].array,
        "waba": gathered["waba"].array,
        "portfolio": gathered["portfolio"].array,
        "timestamp": _utc(gathered["timestamp"].to_numpy(np.int64)),
        "delivered_at": _utc(gathered["delivered_at"].to_numpy(np.int64)),
        "direction": "outbound",
        **{name: gathered[name].array for name in ("message_id", "user_country") if name in gathered.columns},
    })
    # Phase 2 never reads the duplicate flags (the allowances and prices take phase 1's verdicts).
    canonical = _canonical(work, rows, np.zeros(len(rows), bool), options, pd.Index(pd.unique(work["waba"])))
    ids = conversations["conversation_id"].to_numpy(np.int64)
    conversation_of = gathered["conversation_id"].to_numpy(np.int64)
    position = np.searchsorted(ids, conversation_of)
    known = conversation_of < 0
    if len(ids):  # none under PMP, where no message opens a conversation
        known |= (position < len(ids)) & (ids[np.minimum(position, len(ids) - 1)] == conversation_of)
    if not known.all():
        raise InputError("conversation_id", int(rows[np.argmin(known)]), "the row's conversation was not gathered")
    opened_by = np.searchsorted(rows, conversations["opened_by"].to_numpy(np.int64))
    messages = {name: np.ascontiguousarray(gathered[name].to_numpy()) for name in VERDICTS}
    messages["conversation_id"] = np.where(conversation_of >= 0, position, -1).astype(np.int64)
    opened = np.minimum(opened_by, max(len(rows) - 1, 0))
    table = {
        "business": canonical.business[opened] if len(rows) else np.zeros(0, np.int32),
        "user": canonical.user[opened] if len(rows) else np.zeros(0, np.int32),
        "waba": canonical.waba[opened] if len(rows) else np.zeros(0, np.int32),
        **{name: np.ascontiguousarray(conversations[name].to_numpy(np.int8)) for name in CONVERSATION_CODES},
        "start": conversations["start"].to_numpy(np.int64),
        "end": conversations["end"].to_numpy(np.int64),
        "n_messages": conversations["n_messages"].to_numpy(np.int64),
        "opened_by": opened_by.astype(np.int64),
    }
    result = _core.gathered_classification(messages, table)
    message_ids = _message_id_buffers(canonical.message_id)
    _core.apply_allowances(
        result, canonical.business, canonical.waba, canonical.timestamp, canonical.delivered_at,
        canonical.time_zones, message_id=None if message_ids is None else message_ids[1],
        free_tier_conversations=options.free_tier_conversations, direct_billing=options.direct_billing,
        service_free_allowance=options.service_free_allowance, threads=options.threads,
    )
    out_rows: dict[str, Any] = {ROW: rows}
    out_conversations: dict[str, Any] = {"conversation_id": ids}
    gaps: dict[str, Any] = {}
    if options.price:
        pricing = _pricing(canonical, options, reports_countryless=report)
        priced = pricing.price(result, canonical, auth_international=options.auth_international,
                               threads=options.threads)
        plan = pricing.plan
        p, pc = priced["messages"], priced["conversations"]
        message_prices, conversation_prices = price_columns(plan, priced)
        message_prices.pop("country")  # known per partition already (PartitionResult.country)
        out_rows.update(message_prices)
        out_conversations.update(conversation_prices)
        gaps = {"plan": plan, "gaps": priced["gaps"], "countryless": pricing.countryless}
    arrays = result.to_numpy()
    for name in REWRITTEN:
        out_rows[name] = np.array(arrays["messages"][name])
    # The final reason, pricing's two included (only gathered rows carry a charge, so the
    # others keep phase 1's): what finish_partition and the Spark driver patch in.
    out_rows["charge_reason"] = charge_reasons(
        out_rows["charge_reason"], out_rows["pricing_category"] if options.price else None,
        np.asarray(out_rows["cost"], dtype=np.float64) if options.price else None).codes.astype(np.int8)
    out_conversations["pricing_type"] = np.array(arrays["conversations"]["pricing_type"])
    out_conversations["category"] = np.array(arrays["conversations"]["category"])
    if gaps:
        # Kept only for a caller that reports: the finished tables travel with this result.
        messages = pd.DataFrame({
            "pricing_category": _categorical(out_rows["pricing_category"], _core.PRICING_CATEGORIES),
            "market": out_rows["market"],
        })
        if report:
            report_gaps(gaps["plan"], gaps["gaps"], messages, rows=rows)
        else:
            gaps["messages"], gaps["rows"] = messages, rows
    return Gathered(pd.DataFrame(out_rows), pd.DataFrame(out_conversations), gaps)


def finish_partition(part: PartitionResult, priced: Gathered, options: ScaleOptions) -> tuple[pd.DataFrame, ...]:
    """The partition's messages, conversations and windows tables, as classify shapes them
    (input columns first, then the verdicts), with phase 2's verdicts patched in."""
    rows = part.frame[ROW].to_numpy(np.int64)
    found = priced.rows
    verdicts = dict(part.verdicts)
    mine = row_positions(rows, found[ROW].to_numpy(np.int64))
    has = mine >= 0
    take = mine[has]
    for name in REWRITTEN:
        values = verdicts[name].copy()
        values[has] = found[name].to_numpy()[take]
        verdicts[name] = values
    pricing_type = verdicts["pricing_type"]
    added: dict[str, Any] = {
        "user_key": _values(part.frame[KEY]),
        "era": _categorical(verdicts["era"], _core.ERAS),
        "pricing_model": _categorical(verdicts["pricing_model"], _core.PRICING_MODELS),
        "conversation_id": _nullable_ids(verdicts["conversation_id"]),
        "pricing_category": _categorical(verdicts["pricing_category"], _core.PRICING_CATEGORIES),
        "pricing_type": _categorical(pricing_type, _core.PRICING_TYPES),
        "billable": pricing_type == _core.PRICING_TYPES.index("regular"),
        "opens_conversation": verdicts["opens_conversation"].astype(bool),
        "csw_open": verdicts["csw_open"].astype(bool),
        "policy_violation": verdicts["policy_violation"].astype(bool),
        "us_marketing_paused": verdicts["us_marketing_paused"].astype(bool),
        "duplicate": part.frame[DUPLICATE].to_numpy(bool, copy=True),  # its own: see _new_frame
        "charge_reason": _categorical(verdicts["charge_reason"], _core.CHARGE_REASONS),
    }
    if options.price:
        added["country"] = part.country
        for name in PRICE_COLUMNS:
            column = found[name]
            if name in ("rate", "cost"):
                values = np.full(len(rows), np.nan if name == "rate" else 0.0)
                values[has] = column.to_numpy()[take]
                added[name] = values
            else:
                if not isinstance(column.dtype, pd.CategoricalDtype):  # read back from a spill file as text
                    column = column.astype("category")
                codes = np.full(len(rows), -1, np.int16)
                codes[has] = column.cat.codes.to_numpy()[take]
                added[name] = pd.Categorical.from_codes(codes, dtype=column.dtype)
    user_columns = part.frame.drop(columns=list(INTERNAL))
    messages = pd.concat([user_columns, _new_frame(added, index=user_columns.index)], axis=1)
    messages.index = pd.Index(rows, name=None)
    conversations = _finish_conversations(part.conversations, priced.conversations, options)
    return messages, conversations, part.windows


_TEXT = pd.api.types.pandas_dtype("str")


def _values(column: pd.Series) -> Any:
    """A column's values for a new frame, its own (see _new_frame): pandas' text column as a
    new wrapper of its immutable Arrow data, since to_numpy's Python object per row would only
    be inferred back to it (most of finishing a partition); any other as a NumPy copy."""
    return column.array.copy() if column.dtype == _TEXT else column.to_numpy(copy=True)


def row_positions(rows: np.ndarray, found: np.ndarray) -> np.ndarray:
    """The position of each of `rows` among `found` (distinct row positions, most often
    ascending: phase 2's groups each priced theirs in order), -1 where absent: searchsorted,
    not a hash table."""
    if not len(found):
        return np.full(len(rows), -1, np.intp)
    order = None if np.all(found[1:] > found[:-1]) else np.argsort(found, kind="stable")
    ascending = found if order is None else found[order]
    at = np.minimum(np.searchsorted(ascending, rows), len(found) - 1)
    hit = ascending[at] == rows
    return np.where(hit, at if order is None else order[at], -1)


def _finish_conversations(mine: pd.DataFrame, priced: pd.DataFrame, options: ScaleOptions) -> pd.DataFrame:
    if "category" not in priced.columns and mine.empty:  # no conversation in this partition, none priced
        priced = pd.DataFrame({"conversation_id": np.zeros(0, np.int64), "category": np.zeros(0, np.int8),
                               "pricing_type": np.zeros(0, np.int8), "market": pd.Categorical([]),
                               "cost": np.zeros(0), "currency": pd.Categorical([])})
    found = priced.set_index("conversation_id").reindex(mine["conversation_id"].to_numpy())
    out = pd.DataFrame({
        "conversation_id": mine["conversation_id"].to_numpy(),
        "business": _values(mine["business"]),
        "user": _values(mine["user"]),
        "waba": _values(mine["waba"]),
        "era": _categorical(mine["era"].to_numpy(np.int8), _core.ERAS),
        "category": _categorical(found["category"].to_numpy(np.int8), _core.PRICING_CATEGORIES),
        "pricing_type": _categorical(found["pricing_type"].to_numpy(np.int8), _core.PRICING_TYPES),
        "start": _utc(mine["start"].to_numpy(np.int64)),
        "end": _utc(mine["end"].to_numpy(np.int64)),
        "n_messages": mine["n_messages"].to_numpy(),
        "opened_by": mine["opened_by"].to_numpy(),
    })
    if options.price:
        for name in ("market", "cost", "currency"):
            out[name] = found[name].to_numpy() if name == "cost" else found[name].array
    return out

