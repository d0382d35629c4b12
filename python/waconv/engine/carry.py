"""Continuing from a carried State (docs/rules.md §Daily runs): the batch classified together
with the rows the state carries, and the next state taken from that one call.

Why it is exact without a second copy of the rules:

- A pair's rows after a *quiet instant* x (every row of the pair is either sent at or after x,
  or done by x: its effective time plus 24 h, and the end of any conversation or free entry
  point window it belongs to, at or before x) are classified the same with or without the rows
  before x: every window those opened has ended, and every row after x looks at instants >= x
  only. The state carries each pair's rows from its latest quiet instant at or before
  ``watermark - LATE_SEND``, and the next call replays them with its batch.
- A batch may hold rows sent before its state's watermark (delivered after it), down to
  ``watermark - LATE_SEND``: the quiet instants are chosen before that, so those rows are
  replayed against everything they can see. Rows sent earlier are an InputError.
- The monthly counters (free tier, service allowance, volume tiers) also count rows that are
  no longer replayed. Every such row is done before ``watermark - LATE_SEND``, so it comes before
  every unit of a later batch in its group: the state hands the core how many units they used
  (their verdicts as classified when they were a batch), the core starts each count there,
  and the replayed rows are counted again by the replay itself.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Hashable, Mapping
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from waconv import _core
from waconv._errors import InputError
from waconv.engine.canonical import (
    NOT_DELIVERED,
    CanonicalEvents,
    CswRefreshing,
    _check_timestamps,
    _column,
    _csw_refreshing,
    _delivery,
    _map_small,
    _timestamps,
    _DIRECTIONS,
    canonicalize,
    resolve_columns,
)
from waconv.engine.identity import ID_COLUMNS
from waconv.engine.state import State, counters_table, fingerprint, plain_text, seen_table
from waconv.engine.strings import text_hashes
from waconv.engine.tables import Tables, messages_table, time_columns

HOUR = 3600 * 10**9
DAY = 24 * HOUR
# How long before the state's watermark a batch row may have been sent (delivered after it).
LATE_SEND = 3 * DAY
# How long the (message_id, direction) pairs seen stay in the state: a webhook redelivered
# later than this after its message is no longer recognised as a repeat (Meta retries for
# up to 7 days).
DUPLICATE_HORIZON = 45 * DAY
_CSW_REACH = DAY  # an inbound row's window; also the reach of a failed free-form (§7 option)
_REFRESH_COLUMN = "__waconv_refreshes_csw"
# Columns of a carried row besides its canonical input columns.
_CONVERSATION = "__waconv_conversation"
_UNIT_KIND, _UNIT_MONTH, _UNIT_MARKET, _UNIT_GROUP = ("__waconv_unit_kind", "__waconv_unit_month",
                                                     "__waconv_unit_market", "__waconv_unit_group")
_ID_HASH = "__waconv_id_hash"  # the row's id_hashes value (0 without an id)
_INBOUND_HASH, _OUTBOUND_HASH = np.uint64(0x9E3779B97F4A7C15), np.uint64(0xC2B2AE3D27D4EB4F)
_STATE_COLUMNS = (_CONVERSATION, _UNIT_KIND, _UNIT_MONTH, _UNIT_MARKET, _UNIT_GROUP, _ID_HASH)
_UNIT_KINDS = ("", "free_tier", "service", "tier")  # 0: the row uses no counted unit
_KEPT = ("business", *ID_COLUMNS, "direction", "template_category", "referral", "message_type", "message_id",
         "waba", "portfolio", "user_country")
_OUTPUTS = ("conversation_id", "opens_conversation", "pricing_type", "pricing_category", "era", "pricing_model",
            "market")
_TIER_CATEGORIES = {"utility": 0, "authentication": 1, "authentication_international": 1}
PRICING_OPTION = "rate_card and volume_tiers"


def _auth_fingerprint(auth_international: Any) -> str | None:
    if auth_international is None:
        return None
    if not isinstance(auth_international, Mapping) or not all(isinstance(v, Mapping)
                                                             for v in auth_international.values()):
        # Not checked yet: pricing rejects it with an InputError naming it; only equal
        # values must give equal fingerprints here.
        return fingerprint(repr(auth_international))
    return fingerprint(sorted((str(k), sorted((str(a), str(b)) for a, b in v.items()))
                              for k, v in auth_international.items()))


def state_options(*, rules: str, anchor: str, failed_freeform_opens_conversation: bool,
                  service_free_allowance: int, direct_billing: bool, free_tier_conversations: int,
                  timezones: Mapping[Hashable, str], csw_refreshing: CswRefreshing, price: bool,
                  pricing: str | None, auth_international: Any) -> dict[str, Any]:
    """What a state must agree on with the call continuing it, as JSON-ready values."""
    if csw_refreshing is None or isinstance(csw_refreshing, str):
        refreshing = csw_refreshing
    else:
        refreshing = f"predicate {getattr(csw_refreshing, '__qualname__', type(csw_refreshing).__name__)}"
    return {
        "rules": rules,
        "anchor": anchor,
        "failed_freeform_opens_conversation": failed_freeform_opens_conversation,
        "service_free_allowance": int(service_free_allowance),
        "direct_billing": direct_billing,
        "free_tier_conversations": int(free_tier_conversations),
        "timezones": sorted([str(k), str(v)] for k, v in timezones.items()),
        "csw_refreshing": refreshing,
        "price": price,
        PRICING_OPTION: pricing,
        "auth_international": _auth_fingerprint(auth_international),
        "late_send_hours": LATE_SEND // HOUR,
        "duplicate_horizon_days": DUPLICATE_HORIZON // DAY,
    }


def pricing_fingerprint(plan: Any, currencies: Mapping[Hashable, str] | None = None) -> str:
    # Not the countries: a batch's own user_country values add to them without changing a price.
    return fingerprint((plan.markets, plan.switches, plan.bands, plan.tier_labels, plan.currencies,
                        fingerprint(plan.rate.tobytes()), fingerprint(plan.card_of.tobytes()),
                        fingerprint(plan.band_set_of.tobytes()),
                        [(c.label, str(c.effective), c.currency, c.model) for c in plan.cards],
                        sorted((str(k), str(v)) for k, v in (currencies or {}).items())))


def tiered_slots(plan: Any) -> set[tuple[str, str]]:
    """(market, category column) pairs that have volume-tier bands."""
    from waconv.pricing.rate_cards import COLUMNS

    slots = len(plan.markets) * len(COLUMNS)  # plan.bands holds one such list per dated band set
    return {(plan.markets[slot % slots // len(COLUMNS)], COLUMNS[slot % len(COLUMNS)])
            for slot, bands in enumerate(plan.bands) if bands}


def engine_frame(events: pd.DataFrame, columns: Mapping[str, str] | None,
                 csw_refreshing: CswRefreshing) -> pd.DataFrame:
    """The canonical input columns of `events` under their canonical names, with times as UTC
    datetimes (delivered_at NaT where not delivered), so that rows of any day's layout concatenate.
    Errors name the user's columns and rows, as classify's would."""
    names = resolve_columns(events, columns)
    col = {name: _column(events, source).reset_index(drop=True) for name, source in names.items()}
    direction = _map_small(col["direction"], names["direction"], _DIRECTIONS, null=None, what="direction")
    timestamp, aware = _timestamps(col["timestamp"], names["timestamp"])
    _check_timestamps(timestamp, names["timestamp"])
    delivered = _delivery(col, names, timestamp, direction == _DIRECTIONS["outbound"], aware)
    out: dict[str, Any] = {name: col[name] for name in _KEPT if name in col}
    out["direction"] = pd.Series(np.array(_core.DIRECTIONS, dtype=object)[direction], dtype="string")
    # Always present, so that days with and without these columns concatenate (their defaults).
    out.setdefault("waba", col["business"])
    out.setdefault("portfolio", out["waba"])
    out["timestamp"] = _utc(timestamp)
    out["delivered_at"] = _utc(np.where(delivered == NOT_DELIVERED, np.iinfo(np.int64).min, delivered))
    if csw_refreshing is not None:
        out[_REFRESH_COLUMN] = _csw_refreshing(events, csw_refreshing).astype(bool)
    return pd.DataFrame(out)


def _utc(ns: np.ndarray) -> pd.Series:
    return pd.Series(ns.astype("datetime64[ns]"), copy=False).dt.tz_localize("UTC")


class Continuation:
    """One call's view of a state: the frame the engine classifies (carried rows, then the
    batch) and the hooks classify_frame calls with that frame's codes."""

    def __init__(self, state: State | None, events: pd.DataFrame, columns: Mapping[str, str] | None,
                 csw_refreshing: CswRefreshing) -> None:
        self.state = state
        self.names = resolve_columns(events, columns)
        batch = engine_frame(events, columns, csw_refreshing)
        self.csw_column = _REFRESH_COLUMN if csw_refreshing is not None else None
        carried = None if state is None or state.carried is None else state.carried.to_pandas()
        self.n_old = 0 if carried is None else len(carried)
        self.old = carried
        self.frame = batch if carried is None else _concat(carried.drop(columns=list(_STATE_COLUMNS)), batch)
        self._batch = batch
        self.links = None if state is None or state.links is None else state.links.to_pandas()
        self.canonical: CanonicalEvents | None = None
        self.plan: Any = None
        self._hashes = id_hashes(batch)
        # Carried rows are distinct messages; a batch row is a repeat of one of them, of an
        # id the state saw, or of an earlier batch row: hashes, not string comparisons.
        hashes, present = self._hashes
        with_id = np.flatnonzero(present)
        repeated = np.zeros(len(hashes), bool)
        repeated[with_id] = pd.Series(hashes[with_id]).duplicated().to_numpy()
        known = [] if state is None else [state.seen.column("hash").to_numpy()]  # sorted
        if carried is not None:
            known.append(np.sort(carried[_ID_HASH].to_numpy(np.uint64)))
        # Looked up in hash order: the binary searches then walk the known hashes forwards.
        order = np.argsort(hashes)
        in_order = hashes[order]
        for sorted_hashes in known:
            if len(sorted_hashes):
                at = np.minimum(np.searchsorted(sorted_hashes, in_order), len(sorted_hashes) - 1)
                repeated[order] |= present[order] & (sorted_hashes[at] == in_order)
        self.duplicates = np.concatenate([np.zeros(self.n_old, np.uint8), repeated.astype(np.uint8)])

    # -- hooks, in the order classify_frame calls them ------------------------------------
    def canonicalize(self, timezones: Mapping[Hashable, str] | None) -> CanonicalEvents:
        try:
            canonical = canonicalize(self.frame, timezones=timezones, csw_refreshing=self.csw_column,
                                     links=self.links, duplicates=self.duplicates)
        except InputError as error:  # carried rows were checked when they were a batch
            raise self._batch_error(error) from None
        self.canonical = canonical
        self._check_batch(canonical)
        return canonical

    def allowance_used(self, canonical: CanonicalEvents) -> dict[str, list[tuple[int, int, int]]]:
        if self.state is None:
            return {}
        counters = self.state.counters.to_pandas()
        out: dict[str, list[tuple[int, int, int]]] = {}
        for kind, values, argument in (("free_tier", canonical.waba_values, "free_tier_used"),
                                       ("service", canonical.business_values, "service_used")):
            code = {str(v): i for i, v in enumerate(values)}
            rows = counters[counters["kind"] == kind]
            out[argument] = [(code[a], int(m), int(u)) for a, m, u in
                             zip(rows["account"], rows["month"], rows["used"]) if a in code]
        return out

    def tier_used(self, canonical: CanonicalEvents, plan: Any) -> list[tuple[int, int, int, int, int]]:
        self.plan = plan
        if self.state is None:
            return []
        counters = self.state.counters.to_pandas()
        rows = counters[counters["kind"] == "tier"]
        code = {str(v): i for i, v in enumerate(canonical.portfolio_values)}
        market = {m: i for i, m in enumerate(plan.markets)}
        return [(code[a], market[k], int(g), int(m), int(u)) for a, k, g, m, u in
                zip(rows["account"], rows["market"], rows["group"], rows["month"], rows["used"])
                if a in code and k in market]

    # -- the batch's part of the combined result ------------------------------------------
    def batch_tables(self, combined: Tables, events: pd.DataFrame, columns: Mapping[str, str] | None) -> Tables:
        """The batch's rows of `combined`, as classify of the batch alone would lay them out:
        conversations opened by batch rows (ids numbered on from the state's), and windows
        still open at or after the state's watermark."""
        n_old, canonical = self.n_old, self.canonical
        assert canonical is not None
        ids = self.conversation_ids(combined.conversations)
        own = set(self.frame.columns)
        added = {name: combined.messages[name].array[n_old:] for name in combined.messages.columns
                 if name not in own}
        if "conversation_id" in added:
            local = combined.messages["conversation_id"].to_numpy(dtype=np.int64, na_value=-1)[n_old:]
            added["conversation_id"] = pd.arrays.IntegerArray(_by_conversation(ids, local, 0), local < 0)
        view = dataclasses.replace(canonical, timestamp=canonical.timestamp[n_old:],
                                   delivered_at=canonical.delivered_at[n_old:], direction=canonical.direction[n_old:])
        messages = messages_table(events, added, view, columns)
        conversations = combined.conversations
        opened = conversations["opened_by"].to_numpy() >= n_old
        conversations = conversations[opened].copy()
        conversations["conversation_id"] = ids[opened]
        conversations["opened_by"] = conversations["opened_by"].to_numpy() - n_old
        conversations = conversations.reset_index(drop=True)
        windows = combined.windows
        if self.state is not None and self.state.watermark is not None and len(windows):
            ends = windows["end"].to_numpy(dtype="datetime64[ns]").view(np.int64)
            windows = windows[ends > self.state.watermark].reset_index(drop=True)
        return Tables(messages=messages, conversations=conversations, windows=windows,
                      n_duplicates=int(canonical.duplicate[n_old:].sum()), options=combined.options,
                      timings=combined.timings)

    def conversation_ids(self, conversations: pd.DataFrame) -> np.ndarray:
        """Per conversation of the combined call, its id across calls: a carried opening row
        keeps the id it was given, conversations opened in this call number on."""
        opened_by = conversations["opened_by"].to_numpy()
        ids = np.full(len(opened_by), -1, np.int64)
        old = opened_by < self.n_old
        if old.any():
            assert self.old is not None
            ids[old] = self.old[_CONVERSATION].to_numpy(dtype=np.int64)[opened_by[old]]
        first = 0 if self.state is None else self.state.next_conversation_id
        new = ids < 0
        ids[new] = first + np.arange(int(np.count_nonzero(new)))
        return ids

    # -- the next state ----------------------------------------------------------------
    def next_state(self, combined: Tables, options: dict[str, Any], tiered: set[tuple[str, str]]) -> State:
        canonical = self.canonical
        assert canonical is not None
        n, n_old = len(canonical), self.n_old
        sent = canonical.timestamp
        delivered = canonical.delivered_at
        effective = np.where(delivered != NOT_DELIVERED, delivered, sent)
        duplicate = canonical.duplicate.astype(bool)
        batch = np.arange(n) >= n_old
        previous = None if self.state is None else self.state.watermark
        fresh = effective[batch & ~duplicate]
        watermark = max([w for w in (previous, int(fresh.max()) if len(fresh) else None) if w is not None],
                        default=None)
        messages = combined.messages
        conversation = messages["conversation_id"].to_numpy(dtype=np.int64, na_value=-1)
        conversation_end = combined.conversations["end"].to_numpy(dtype="datetime64[ns]").view(np.int64)
        done = np.maximum(effective + _CSW_REACH, _by_conversation(conversation_end, conversation, 0))
        ids = self.conversation_ids(combined.conversations)
        global_conversation = _by_conversation(ids, conversation, -1)

        kind, month, market, group = self._units(canonical, messages, combined.conversations, tiered, effective)
        if self.old is not None:  # carried rows keep the units they used when they were a batch
            kind[:n_old] = self.old[_UNIT_KIND].to_numpy()
            month[:n_old] = self.old[_UNIT_MONTH].to_numpy()
            market = _with_carried_markets(market, self.old[_UNIT_MARKET])
            group[:n_old] = self.old[_UNIT_GROUP].to_numpy()

        keep = np.zeros(n, bool) if watermark is None else _carried(
            canonical.business, canonical.user, sent, done, ~duplicate, watermark - LATE_SEND)
        carried = self.frame[keep].reset_index(drop=True)
        # Only an opening row's id is looked up again (conversation_ids): a row that opens
        # another conversation when replayed (docs/rules.md §Daily runs) gets a new id.
        opens = messages["opens_conversation"].to_numpy(dtype=bool)
        carried[_CONVERSATION] = np.where(opens, global_conversation, -1)[keep]
        hashes = np.concatenate([np.zeros(n_old, np.uint64) if self.old is None
                                 else self.old[_ID_HASH].to_numpy(np.uint64), self._hashes[0]])
        carried[_ID_HASH] = hashes[keep]
        carried[_UNIT_KIND] = kind[keep]
        carried[_UNIT_MONTH] = month[keep]
        carried[_UNIT_MARKET] = market[keep]
        carried[_UNIT_GROUP] = group[keep]

        counted = ~keep & ~duplicate & (kind > 0)
        counters = self._counters(canonical, counted, kind, month, market, group, watermark)
        first_id = 0 if self.state is None else self.state.next_conversation_id
        return State(
            options=options,
            watermark=watermark,
            next_conversation_id=max(first_id, int(ids.max()) + 1 if len(ids) else 0),
            carried=plain_text(pa.Table.from_pandas(carried, preserve_index=False)),
            counters=counters,
            links=self._links(),
            seen=self._seen(canonical, effective, batch, watermark),
        )

    def _units(self, canonical: CanonicalEvents, messages: pd.DataFrame, conversations: pd.DataFrame,
               tiered: set[tuple[str, str]], effective: np.ndarray) -> tuple[np.ndarray, ...]:
        """Per row the counted unit its verdict uses: kind (_UNIT_KINDS), local month, and for
        tiers the market and category group."""
        n = len(canonical)
        kind = np.zeros(n, np.int8)
        month = np.zeros(n, np.int32)
        market_code = np.full(n, -1, np.int16)
        market_names: list[str] = []
        group = np.zeros(n, np.int8)
        pricing_type = messages["pricing_type"]
        category = messages["pricing_category"]
        no_conversation = messages["conversation_id"].isna().to_numpy()
        opens = messages["opens_conversation"].to_numpy(dtype=bool)
        free_tier = opens & _equals(pricing_type, "free_tier")
        if free_tier.any():
            start = conversations["start"].to_numpy(dtype="datetime64[ns]").view(np.int64)
            local = messages["conversation_id"].to_numpy(dtype=np.int64, na_value=0)
            kind[free_tier] = 1
            month[free_tier] = _local_months(start[local[free_tier]], canonical, free_tier)
        service = (no_conversation & _equals(messages["era"], "pmp_v2") & _equals(category, "service")
                   & _equals(pricing_type, "free_customer_service"))
        kind[service] = 2
        month[service] = _local_months(effective[service], canonical, service)
        if tiered and "market" in messages.columns:
            market_values = pd.Categorical(messages["market"])
            category_values = pd.Categorical(category)
            group_of = np.array([_TIER_CATEGORIES.get(c, -1) for c in category_values.categories], np.int8)
            # (market code, category code) -> has bands: a small table, looked up per row.
            banded = np.array([[(m, c) in tiered for c in category_values.categories]
                               for m in market_values.categories], dtype=bool).reshape(
                len(market_values.categories), len(category_values.categories))
            markets, category_code = market_values.codes, category_values.codes
            known = (markets >= 0) & (category_code >= 0)
            # A cell can have bands in one period or currency and none in another (tables are
            # dated): the core counted exactly the rows it gave a tier, as every shipped table
            # covers every count from 1.
            has_tier = messages["tier"].notna().to_numpy() if "tier" in messages.columns else np.ones(n, bool)
            chosen = (no_conversation & _equals(pricing_type, "regular") & _equals(messages["pricing_model"], "PMP")
                      & known & has_tier)
            chosen[chosen] = banded[markets[chosen], category_code[chosen]] & (group_of[category_code[chosen]] >= 0)
            kind[chosen] = 3
            market_code[chosen] = markets[chosen]
            market_names = [str(m) for m in market_values.categories]
            group[chosen] = group_of[category_code[chosen]]
            month[chosen] = _local_months(effective[chosen], canonical, chosen)
        market = pd.Categorical.from_codes(market_code, categories=pd.Index(market_names, dtype=object),
                                           validate=False)
        return kind, month, market, group

    def _counters(self, canonical: CanonicalEvents, counted: np.ndarray, kind: np.ndarray, month: np.ndarray,
                  market: pd.Categorical, group: np.ndarray, watermark: int | None) -> pa.Table:
        accounts = {1: (canonical.waba_values, canonical.waba), 2: (canonical.business_values, canonical.business),
                    3: (canonical.portfolio_values, canonical.portfolio)}
        account = np.full(len(kind), None, dtype=object)
        for k, (values, codes) in accounts.items():
            rows = counted & (kind == k)
            text = np.array([str(v) for v in values], dtype=object)  # few accounts: their text once
            account[rows] = text[codes[rows]]
        new = pd.DataFrame({"kind": np.array(_UNIT_KINDS, dtype=object)[kind[counted]], "account": account[counted],
                            "market": np.asarray(market[counted], dtype=object), "group": group[counted],
                            "month": month[counted], "used": np.ones(int(counted.sum()), np.int64)})
        if self.state is not None:
            new = pd.concat([self.state.counters.to_pandas(), new], ignore_index=True)
        if watermark is not None and len(new):
            # No later row falls in a month that ended before the watermark's (UTC) month began.
            stamp = pd.Timestamp(watermark, tz="UTC")
            oldest = stamp.year * 12 + stamp.month - 1 - 1  # local months lag UTC by < 1 day
            new = new[new["month"] >= oldest]
        new["market"] = new["market"].astype(object).where(new["market"].notna(), "")
        summed = new.groupby(["kind", "account", "market", "group", "month"], as_index=False, sort=True)["used"].sum()
        summed["market"] = summed["market"].where(summed["market"] != "", None)
        return counters_table(summed["kind"].to_numpy(dtype=object), summed["account"].to_numpy(dtype=object),
                              summed["market"].to_numpy(dtype=object), summed["group"].to_numpy(np.int8),
                              summed["month"].to_numpy(np.int32), summed["used"].to_numpy(np.int64))

    def _links(self) -> pa.Table | None:
        present = [name for name in ID_COLUMNS if name in self.frame.columns]
        if len(present) < 2 and self.links is None:
            return None
        ids = pd.DataFrame({name: self.frame[name].astype("string") if name in self.frame.columns
                            else pd.array([None] * len(self.frame), dtype="string") for name in ID_COLUMNS})
        filled = ids.notna() & ids.ne("")
        linking = ids[filled.sum(axis=1) >= 2]
        if self.links is not None:
            old = self.links.astype("string")
            linking = pd.concat([old, linking], ignore_index=True)
        linking = linking.drop_duplicates(ignore_index=True)
        return pa.Table.from_pandas(linking, preserve_index=False) if len(linking) else None

    def _seen(self, canonical: CanonicalEvents, effective: np.ndarray, batch: np.ndarray,
              watermark: int | None) -> pa.Table:
        hashes, present = self._hashes
        hashes, at = hashes[present], effective[batch][present]
        if self.state is not None and self.state.seen.num_rows:
            hashes = np.concatenate([self.state.seen.column("hash").to_numpy(), hashes])
            at = np.concatenate([self.state.seen.column("at").to_numpy(), at])
        if watermark is not None:
            recent = at >= watermark - DUPLICATE_HORIZON
            hashes, at = hashes[recent], at[recent]
        # The state's hashes are sorted already: a stable sort finds that run and merges the
        # batch's into it. Each hash keeps its latest sighting.
        order = np.argsort(hashes, kind="stable")
        hashes, at = hashes[order], at[order]
        starts = np.flatnonzero(np.r_[True, hashes[1:] != hashes[:-1]]) if len(hashes) else np.zeros(0, np.intp)
        latest = np.maximum.reduceat(at, starts) if len(starts) else at[:0]
        return seen_table(hashes[starts], latest)

    # -- checks --------------------------------------------------------------------------
    def _check_batch(self, canonical: CanonicalEvents) -> None:
        n_old = self.n_old
        state = self.state
        if state is None:
            return
        duplicate = canonical.duplicate
        if state.watermark is None:
            return
        fresh = duplicate[n_old:] == 0
        sent = canonical.timestamp[n_old:]
        delivered = canonical.delivered_at[n_old:]
        effective = np.where(delivered != NOT_DELIVERED, delivered, sent)
        mark = pd.Timestamp(state.watermark, tz="UTC")
        early = fresh & (effective < state.watermark)
        if early.any():
            row = int(np.argmax(early))
            column = self.names["timestamp"] if delivered[row] == NOT_DELIVERED else self.names.get("delivered_at",
                                                                                                     "delivered_at")
            raise InputError(column, row, f"the row's time {pd.Timestamp(int(effective[row]), tz='UTC')} is before "
                             f"the state's watermark {mark} (the latest time the state has classified): the "
                             "rules cannot be rewound; classify from an earlier state or from the log's start")
        late = fresh & (sent < state.watermark - LATE_SEND)
        if late.any():
            row = int(np.argmax(late))
            raise InputError(self.names["timestamp"], row, f"sent {pd.Timestamp(int(sent[row]), tz='UTC')}, more than "
                             f"{LATE_SEND // HOUR} h before the state's watermark {mark}: the state no longer holds "
                             "what that message's verdict depends on")

    def _batch_error(self, error: InputError) -> InputError:
        if error.file is not None or (error.row is not None and error.row < self.n_old):
            return error
        # The engine's frame has canonical column names: the user's are in self.names.
        column = "/".join(self.names.get(part, part) for part in error.column.split("/")) if error.column else None
        return InputError(column, None if error.row is None else error.row - self.n_old, error.reason)


def _by_conversation(values: np.ndarray, conversation: np.ndarray, missing: int) -> np.ndarray:
    """values[conversation] per row, `missing` where the row has none (-1)."""
    if not len(values):
        return np.full(len(conversation), missing, np.int64)
    return np.where(conversation >= 0, values[np.maximum(conversation, 0)], missing)


def id_hashes(frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """A 64-bit hash of each row's (message_id as text, direction) of an engine_frame, and
    where an id is given."""
    if "message_id" not in frame.columns:
        return np.zeros(len(frame), np.uint64), np.zeros(len(frame), bool)
    ids = frame["message_id"]
    present = ids.notna().to_numpy()
    outbound = (frame["direction"] == "outbound").to_numpy(dtype=bool, na_value=False)  # as engine_frame spells it
    # The direction flips the text's hash by one of two constants: a bijection each, so an
    # inbound and an outbound copy of one id differ, and other collisions stay at 2^-64.
    return text_hashes(ids) ^ np.where(outbound, _OUTBOUND_HASH, _INBOUND_HASH), present


def _carried(business: np.ndarray, user: np.ndarray, sent: np.ndarray, done: np.ndarray, rows: np.ndarray,
             before: int) -> np.ndarray:
    """Which rows to carry: per pair, those sent at or after its latest quiet instant at or
    before `before` (none when the pair is done by then; all when it has no such instant)."""
    index = np.flatnonzero(rows)
    keep = np.zeros(len(rows), bool)
    if not len(index):
        return keep
    # One key per pair (codes are small), and lexsort is stable: ties stay in row order.
    pair_key = business[index].astype(np.int64) * (int(user.max()) + 1) + user[index]
    by_pair = np.lexsort((sent[index], pair_key))
    order = index[by_pair]
    key, s, d = pair_key[by_pair], sent[order], done[order]
    first = np.ones(len(order), bool)
    first[1:] = key[1:] != key[:-1]
    starts = np.flatnonzero(first)
    lowest = np.iinfo(np.int64).min
    # The latest `done` among the pair's earlier rows: a running maximum restarted per pair,
    # taken over ranks of `done` offset by the pair, so one accumulate serves every pair.
    distinct, rank = np.unique(d, return_inverse=True)
    pair = np.cumsum(first) - 1
    offset = pair.astype(np.int64) * len(distinct)
    running = distinct[np.maximum.accumulate(rank.reshape(-1) + offset) - offset]
    before_row = np.empty_like(running)
    before_row[1:] = running[:-1]
    before_row[first] = lowest

    def per_pair(reduce: np.ufunc, values: np.ndarray) -> np.ndarray:
        return np.repeat(reduce.reduceat(values, starts), np.diff(np.r_[starts, len(values)]))

    # `before` itself is quiet when every row sent before it is done by then; else the latest
    # quiet instant is the send time of a row that every earlier row is done by.
    open_at_cut = per_pair(np.logical_or, (s < before) & (d > before))
    quiet = (before_row <= s) & (s <= before)
    latest = per_pair(np.maximum, np.where(quiet, s, lowest))
    pair_start = per_pair(np.minimum, s)
    cut = np.where(~open_at_cut, before, np.where(latest == lowest, pair_start, latest))
    keep[order] = s >= cut
    return keep


def _equals(column: pd.Series, value: str) -> np.ndarray:
    """column == value, on a categorical's codes (no Python object per row)."""
    if not isinstance(column.dtype, pd.CategoricalDtype):
        return (column.astype(object) == value).to_numpy(dtype=bool)
    categories = column.cat.categories
    if value not in categories:
        return np.zeros(len(column), bool)
    return column.cat.codes.to_numpy() == categories.get_loc(value)


def _with_carried_markets(market: pd.Categorical, carried: pd.Series) -> pd.Categorical:
    """`market` with its first rows (the carried ones) replaced by the markets they kept."""
    codes, names = pd.factorize(carried)
    categories = list(dict.fromkeys([*market.categories, *(str(n) for n in names)]))
    position = {name: i for i, name in enumerate(categories)}
    lookup = np.array([position[str(n)] for n in names] + [-1], np.int16)  # -1 (no market) stays -1
    merged = np.array(market.codes, np.int16)
    merged[: len(codes)] = lookup[codes]
    return pd.Categorical.from_codes(merged, categories=pd.Index(categories, dtype=object), validate=False)


def _local_months(instants: np.ndarray, canonical: CanonicalEvents, rows: np.ndarray) -> np.ndarray:
    """ZoneCalendar's month index (year * 12 + month - 1, local) of each instant, in its row's WABA zone."""
    out = np.zeros(len(instants), np.int32)
    if not len(instants):
        return out
    zones = np.asarray(canonical.time_zones, dtype=object)[canonical.waba[rows]]
    for zone in pd.unique(zones):
        where = zones == zone
        local = pd.DatetimeIndex(instants[where].astype("datetime64[ns]")).tz_localize("UTC").tz_convert(zone)
        out[where] = local.year * 12 + local.month - 1
    return out


def _concat(carried: pd.DataFrame, batch: pd.DataFrame) -> pd.DataFrame:
    """Carried rows, then the batch, column by column; a column one side lacks is null there
    (False for flags), and ids of different types on the two sides are compared as text."""
    columns = list(dict.fromkeys([*carried.columns, *batch.columns]))
    out = {}
    for name in columns:
        a = carried[name] if name in carried.columns else _nulls_like(batch, name, len(carried))
        b = batch[name] if name in batch.columns else _nulls_like(carried, name, len(batch))
        if a.dtype != b.dtype and not (str(a.dtype).startswith("datetime64") and str(b.dtype).startswith("datetime64")):
            if name in ("referral", _REFRESH_COLUMN):
                a, b = a.astype(bool), b.astype(bool)
            else:
                a, b = a.astype("string"), b.astype("string")
        out[name] = pd.concat([a.reset_index(drop=True), b.reset_index(drop=True)], ignore_index=True)
    return pd.DataFrame(out)


def _nulls_like(other: pd.DataFrame, name: str, n: int) -> pd.Series:
    if name == "referral":
        return pd.Series(np.zeros(n, bool))
    if name == _REFRESH_COLUMN:
        return pd.Series(np.ones(n, bool))
    return pd.Series(pd.array([None] * n, dtype="string"))


def attach_state(tables: Tables, carry: Continuation | None, *, events: pd.DataFrame,
                 columns: Mapping[str, str] | None, timezones: Mapping[Hashable, str] | None,
                 csw_refreshing: CswRefreshing, options: dict[str, Any], tiered: set[tuple[str, str]],
                 rows_for_state: Callable[[], pd.DataFrame] | None = None) -> None:
    """Gives `tables` its state, built on first use: a call without a state keeps nothing for it
    but what its result holds anyway (the input rows are read again when asked).
    rows_for_state: the input rows to build it from instead of `events` (see classify_frame)."""
    if carry is not None:
        tables.state_source = lambda: carry.next_state(tables, options, tiered)
        return

    def fresh() -> State:
        first = Continuation(None, events if rows_for_state is None else rows_for_state(), columns, csw_refreshing)
        first.canonical = canonicalize(first.frame, timezones=timezones, csw_refreshing=first.csw_column,
                                       duplicates=first.duplicates)
        outputs = Tables(messages=tables.messages[[c for c in _OUTPUTS if c in tables.messages.columns]],
                         conversations=tables.conversations, windows=tables.windows)
        return first.next_state(outputs, options, tiered)

    tables.state_source = fresh
