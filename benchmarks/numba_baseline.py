"""What a strong analyst would write today instead of waconv: pandas + one numba loop.

``classify_numba(df)`` rebuilds the per-message verdicts of the conversation-based
(``cbp_v1``, ``cbp_v2``) and per-message (``pmp_v1``, ``pmp_v2``) eras with the usual
recipe:

1. prepare (pandas/NumPy): factorize ``user`` and ``business`` with ``pd.factorize``
   (no sorting of the uniques: the analyst does not need stable conversation ids), turn
   datetimes into int64 ns, ``direction == "outbound"``, template category codes by
   factorizing the column and mapping its few distinct values; with a ``message_id``
   column, factorize it once and flag rows repeating an earlier (id, direction) by
   ``duplicated`` on int64 codes;
2. sort: one ``np.lexsort`` by (pair, effective time, inbound first) of the rows that are
   not repeats; lexsort is stable, so ties keep input order (decision 1 of docs/rules.md);
3. scan: one ``@numba.njit`` pass over the sorted rows, per pair:
   - the customer service window from inbound rows (24 h from the latest inbound);
   - era of a row by effective time (delivery for delivered outbound rows), UTC midnights;
   - ``cbp_v1``: one open conversation, ``user_initiated`` if the CSW was open when the
     opener was sent, else ``business_initiated``; later delivered rows join it;
   - ``cbp_v2``: one open conversation per category for 24 h from delivery; a template
     joins the open conversation of its category (``marketing_lite`` before 2024-10-15
     counts as marketing) or opens one; a non-template message joins the open service
     conversation, else the most recently opened open conversation, else opens a service
     conversation (free from 2024-11-01);
   - ``pmp_v1``: marketing / marketing_lite / authentication ``regular``; utility free if the
     CSW is open at delivery; non-template ``service`` free. ``pmp_v2``: all ``regular``.
     A utility template delivered while a ``cbp_v2`` utility conversation is still open
     joins it (the 2025-07-01 transition);
   - ``policy_violation`` for free-form messages sent outside the CSW;
   per-row outputs are written straight to input positions (a scatter through the sort
   permutation);
4. assemble: the input frame (shallow copy) plus categorical / nullable-int / bool
   columns, in input order, like ``waconv.classify(...).messages``.

Left out on purpose (waconv does them, so the baseline does *less* work): free entry
point windows, the free tier, time zones, ``anchor``/``failed_freeform`` options,
input validation, CSW questions asked at send time across later-processed rows (decision 2
of docs/rules.md), and the conversations and windows tables.

The loop is single-threaded (numba ``prange`` over pairs would need the pair boundaries and
per-thread conversation numbering; few analysts go that far).
"""

from __future__ import annotations

import time

import numba
import numpy as np
import pandas as pd

NAT = np.iinfo(np.int64).min
DAY = 24 * 3600 * 1_000_000_000

ERAS = ["cbp_v1", "cbp_v2", "pmp_v1", "pmp_v2"]
PRICING_MODELS = ["CBP", "PMP"]
# Same code order as waconv's output, so the two results can be compared.
PRICING_CATEGORIES = [
    "user_initiated", "business_initiated", "marketing", "utility", "authentication",
    "authentication_international", "marketing_lite", "service", "referral_conversion",
]
PRICING_TYPES = ["regular", "free_tier", "free_customer_service", "free_entry_point"]
TEMPLATE_CATEGORIES = {"marketing": 1, "utility": 2, "authentication": 3, "marketing_lite": 4}


def _utc(day: str) -> int:
    return pd.Timestamp(day, tz="UTC").value


CBP_V2_FROM = _utc("2023-06-01")
PMP_V1_FROM = _utc("2025-07-01")
PMP_V2_FROM = _utc("2026-10-01")
MARKETING_LITE_FROM = _utc("2024-10-15")
FREE_SERVICE_FROM = _utc("2024-11-01")

# output category codes
UI, BI, MKT, UTL, AUTH, LITE, SVC = 0, 1, 2, 3, 4, 6, 7
REGULAR, FREE_CS = 0, 2
# conversation slots per pair: one per cbp_v2 category, plus the single cbp_v1 slot
S_MKT, S_UTL, S_AUTH, S_LITE, S_SVC, S_V1 = 0, 1, 2, 3, 4, 5
N_SLOTS = 6


@numba.njit(cache=False, nogil=True)
def _scan(order, pair, timestamp, delivered_at, outbound, template,
          era_out, model_out, category_out, type_out, conversation_out, opens_out, csw_out, violation_out):
    """One pass over the rows in (pair, effective time, inbound first) order."""
    slot_end = np.empty(N_SLOTS, np.int64)
    slot_start = np.empty(N_SLOTS, np.int64)
    slot_id = np.empty(N_SLOTS, np.int64)
    slot_category = np.empty(N_SLOTS, np.int8)
    slot_type = np.empty(N_SLOTS, np.int8)
    slot_of_template = np.array([S_SVC, S_MKT, S_UTL, S_AUTH, S_LITE], np.int64)
    category_of_slot = np.array([MKT, UTL, AUTH, LITE, SVC, UI], np.int8)
    next_id = 0
    current = -1
    csw_end = NAT  # end of the CSW opened by the latest inbound row
    for k in range(order.shape[0]):
        i = order[k]
        if pair[i] != current:  # a new pair: nothing open
            current = pair[i]
            csw_end = NAT
            for s in range(N_SLOTS):
                slot_end[s] = NAT
        sent = timestamp[i]
        delivered = outbound[i] and delivered_at[i] != NAT
        t = delivered_at[i] if delivered else sent
        era = 0
        if t >= CBP_V2_FROM:
            era = 1
        if t >= PMP_V1_FROM:
            era = 2
        if t >= PMP_V2_FROM:
            era = 3
        era_out[i] = era
        model_out[i] = 0 if era < 2 else 1
        if not outbound[i]:  # inbound: opens / refreshes the CSW, nothing else
            if sent + DAY > csw_end:
                csw_end = sent + DAY
            csw_out[i] = True
            continue
        csw_out[i] = t < csw_end
        open_at_send = sent < csw_end
        c = template[i]
        if c == 0 and not open_at_send:
            violation_out[i] = True
        if not delivered:
            continue

        if era <= 1:  # conversation-based pricing
            joined = -1
            if era == 0:  # cbp_v1: at most one open conversation, anything joins it
                for s in range(N_SLOTS):
                    if slot_end[s] > t and (joined < 0 or slot_start[s] > slot_start[joined]):
                        joined = s
            else:  # cbp_v2
                if c == 4 and t < MARKETING_LITE_FROM:
                    c = 1
                if c != 0:  # a template joins its own category only
                    s = slot_of_template[c]
                    if slot_end[s] > t:
                        joined = s
                elif slot_end[S_SVC] > t:
                    joined = S_SVC
                else:  # the open conversation with the latest start (ties: higher id)
                    for s in range(N_SLOTS):
                        if slot_end[s] > t and (joined < 0 or slot_start[s] > slot_start[joined] or (
                                slot_start[s] == slot_start[joined] and slot_id[s] > slot_id[joined])):
                            joined = s
            if joined < 0:  # open a conversation
                if era == 0:
                    s = S_V1
                    slot_category[s] = UI if open_at_send else BI
                    slot_type[s] = REGULAR
                else:
                    s = slot_of_template[c]
                    slot_category[s] = category_of_slot[s]
                    slot_type[s] = FREE_CS if (s == S_SVC and t >= FREE_SERVICE_FROM) else REGULAR
                slot_start[s] = t
                slot_end[s] = t + DAY
                slot_id[s] = next_id
                next_id += 1
                opens_out[i] = True
                joined = s
            category_out[i] = slot_category[joined]
            type_out[i] = slot_type[joined]
            conversation_out[i] = slot_id[joined]
        else:  # per-message pricing
            if c == 2 and slot_end[S_UTL] > t:  # transition: an open CBP utility conversation
                model_out[i] = 0
                category_out[i] = slot_category[S_UTL]
                type_out[i] = slot_type[S_UTL]
                conversation_out[i] = slot_id[S_UTL]
                continue
            if c == 0:
                category_out[i] = SVC
                type_out[i] = FREE_CS if era == 2 else REGULAR
            elif c == 2:
                category_out[i] = UTL
                type_out[i] = FREE_CS if (era == 2 and t < csw_end) else REGULAR
            else:
                category_out[i] = category_of_slot[slot_of_template[c]]
                type_out[i] = REGULAR
    return next_id


def prepare(df: pd.DataFrame) -> dict:
    """The pandas part: codes and int64 times as NumPy arrays; with a ``message_id`` column,
    which rows repeat an earlier row's (id, direction). Each id column is factorized once,
    and the repeats are found on int64 codes, not on the strings."""
    user, _ = pd.factorize(df["user"])
    business, business_values = pd.factorize(df["business"])
    pair = user.astype(np.int64) * len(business_values) + business
    timestamp = df["timestamp"].to_numpy(dtype="datetime64[ns]").view(np.int64)
    delivered_at = df["delivered_at"].to_numpy(dtype="datetime64[ns]").view(np.int64)  # NaT -> int64 min
    outbound = (df["direction"] == "outbound").to_numpy(dtype=bool)
    codes, values = pd.factorize(df["template_category"])  # few distinct values: map those
    lookup = np.array([TEMPLATE_CATEGORIES[v] for v in values] + [0], dtype=np.int8)
    template = lookup[codes]  # code -1 (null) picks the trailing 0
    template[~outbound] = 0
    arrays = {"pair": pair, "timestamp": timestamp, "delivered_at": delivered_at, "outbound": outbound,
              "template": template}
    if "message_id" in df.columns:
        ids, _ = pd.factorize(df["message_id"])  # null ids get -1 and are never repeats
        key = ids.astype(np.int64) * 2 + outbound
        arrays["duplicate"] = pd.Series(key).duplicated().to_numpy() & (ids >= 0)
    return arrays


def sort_rows(arrays: dict) -> np.ndarray:
    """Row order by (pair, effective time, inbound first, input order), repeated rows left out."""
    delivered = arrays["outbound"] & (arrays["delivered_at"] != NAT)
    effective = np.where(delivered, arrays["delivered_at"], arrays["timestamp"])
    if "duplicate" not in arrays:
        return np.lexsort((arrays["outbound"], effective, arrays["pair"]))
    kept = np.flatnonzero(~arrays["duplicate"])
    return kept[np.lexsort((arrays["outbound"][kept], effective[kept], arrays["pair"][kept]))]


def scan(arrays: dict, order: np.ndarray) -> tuple[dict, int]:
    """The numba loop over the rows in `order`; rows not in it (repeats) keep empty verdicts."""
    n = len(arrays["pair"])
    out = {
        "era": np.full(n, -1, np.int8),
        "pricing_model": np.full(n, -1, np.int8),
        "pricing_category": np.full(n, -1, np.int8),
        "pricing_type": np.full(n, -1, np.int8),
        "conversation_id": np.full(n, -1, np.int64),
        "opens_conversation": np.zeros(n, bool),
        "csw_open": np.zeros(n, bool),
        "policy_violation": np.zeros(n, bool),
    }
    n_conversations = _scan(order, arrays["pair"], arrays["timestamp"], arrays["delivered_at"], arrays["outbound"],
                            arrays["template"], out["era"], out["pricing_model"], out["pricing_category"],
                            out["pricing_type"], out["conversation_id"], out["opens_conversation"], out["csw_open"],
                            out["policy_violation"])
    return out, n_conversations


def assemble(df: pd.DataFrame, out: dict) -> pd.DataFrame:
    frame = df.copy(deep=False)
    frame["era"] = pd.Categorical.from_codes(out["era"], categories=ERAS)
    frame["pricing_model"] = pd.Categorical.from_codes(out["pricing_model"], categories=PRICING_MODELS)
    ids = out["conversation_id"]
    frame["conversation_id"] = pd.arrays.IntegerArray(ids, ids < 0)
    frame["pricing_category"] = pd.Categorical.from_codes(out["pricing_category"], categories=PRICING_CATEGORIES)
    frame["pricing_type"] = pd.Categorical.from_codes(out["pricing_type"], categories=PRICING_TYPES)
    frame["billable"] = out["pricing_type"] == 0
    frame["opens_conversation"] = out["opens_conversation"]
    frame["csw_open"] = out["csw_open"]
    frame["policy_violation"] = out["policy_violation"]
    if "duplicate" in out:
        frame["duplicate"] = out["duplicate"]
    return frame


def classify_numba(df: pd.DataFrame) -> tuple[pd.DataFrame, dict]:
    """Messages in input order with era / category / type / conversation id, and timings."""
    started = time.perf_counter()
    arrays = prepare(df)
    prepared = time.perf_counter()
    order = sort_rows(arrays)
    sorted_ = time.perf_counter()
    out, n_conversations = scan(arrays, order)
    if "duplicate" in arrays:
        out["duplicate"] = arrays["duplicate"]
    scanned = time.perf_counter()
    messages = assemble(df, out)
    finished = time.perf_counter()
    timings = {
        "prepare": prepared - started,
        "sort": sorted_ - prepared,
        "scan": scanned - sorted_,
        "assemble": finished - scanned,
        "total": finished - started,
        "n_conversations": n_conversations,
    }
    return messages, timings


def warm_up() -> None:
    """Compile the numba loop (and touch the pandas paths) before anything is timed."""
    from synthetic_log import make_log

    classify_numba(make_log(2_000, seed=12345))


def compare_with_waconv(df: pd.DataFrame, baseline: pd.DataFrame, waconv_messages: pd.DataFrame) -> dict:
    """How often the baseline agrees with waconv, on rows the baseline's rules cover.

    Excluded: rows of pairs that have a referral (FEP is not in the baseline). Free-tier
    rows count as ``regular`` (the baseline has no free tier).
    """
    pair_key = df["business"].astype("int64").astype("str") + "|" + df["user"].astype("str")
    referral_pairs = set(pair_key[df["referral"].to_numpy(bool)])
    keep = ~pair_key.isin(referral_pairs).to_numpy()
    w_type = waconv_messages["pricing_type"].astype(object).replace({"free_tier": "regular"})
    agree = {}
    for column, theirs in (("era", waconv_messages["era"]), ("pricing_model", waconv_messages["pricing_model"]),
                           ("pricing_category", waconv_messages["pricing_category"]), ("pricing_type", w_type),
                           ("csw_open", waconv_messages["csw_open"]),
                           ("opens_conversation", waconv_messages["opens_conversation"]),
                           ("policy_violation", waconv_messages["policy_violation"])):
        mine = baseline[column].astype(object).to_numpy()[keep]
        other = pd.Series(theirs).astype(object).to_numpy()[keep]
        same = (mine == other) | (pd.isna(mine) & pd.isna(other))
        agree[column] = float(np.mean(same)) if len(same) else 1.0
    agree["rows_compared"] = int(keep.sum())
    return agree
