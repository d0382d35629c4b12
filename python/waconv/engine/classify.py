"""Phases 1 and 2 driven over one pandas table: canonical columns in, the core's verdicts out."""

from __future__ import annotations

import time
import warnings
from collections.abc import Callable, Hashable, Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from waconv import _core
from waconv._errors import InputError, WaconvWarning
from waconv.engine.canonical import CswRefreshing, as_mapping, canonicalize
from waconv.engine.carry import PRICING_OPTION, Continuation, attach_state, pricing_fingerprint, state_options, tiered_slots
from waconv.engine.state import State
from waconv.engine.strings import arrow_buffers
from waconv.engine.price import check_cards_in_force, report_gaps
from waconv.engine.pricing_setup import PricingSetup, plan_pricing
from waconv.pricing.rate_cards import RateCard, RateCards, as_rate_cards
from waconv.engine.tables import (
    Tables,
    add_conversation_categories,
    charge_reasons,
    conversations_table,
    message_columns,
    messages_table,
    price_columns,
    pricing_categories,
    windows_table,
)
from waconv.pricing.tiers import TierTable, tier_choice

_ANCHORS = ("delivered", "sent")
_CBP_V1_FROM = pd.Timestamp("2022-02-01", tz="UTC").value
# The core takes counts as C++ integers. Larger requests mean "no limit" and are clamped:
# the core never starts more threads than rows, and no month holds 2**63 conversations.
_MAX_THREADS = np.iinfo(np.int32).max
_MAX_COUNT = np.iinfo(np.int64).max


def classify_frame(
    events: pd.DataFrame,
    *,
    columns: Mapping[str, str] | None = None,
    rules: str = "auto",
    timezones: Mapping[Hashable, str] | None = None,
    anchor: str = "delivered",
    failed_freeform_opens_conversation: bool = False,
    service_free_allowance: int = 1000,
    csw_refreshing: CswRefreshing = None,
    direct_billing: bool = False,
    free_tier_conversations: int = 1000,
    price: bool = True,
    rate_card: RateCards | RateCard | str | None = None,
    volume_tiers: TierTable | str | pd.DataFrame | bool | None = True,
    currencies: Mapping[Hashable, str] | None = None,
    auth_international: Mapping[Hashable, Mapping[str, object]] | None = None,
    threads: int = 0,
    state: State | None = None,
    rows_for_state: Callable[[], pd.DataFrame] | None = None,
) -> Tables:
    """Classify (and unless `price` is False, price) one pandas table; arguments as
    :func:`waconv.classify`, whose checks of `output` and input conversion come first.

    state: continue from it (engine.carry): the batch is classified with the rows it carries.
    rows_for_state: the rows of `events` as the result's state is to keep them, made when the
    state is first asked for: `events` holds string_view columns the result does not (the
    state records the dtypes of the rows it carries)."""
    started = time.perf_counter()
    if rules != "auto" and rules not in _core.ERAS:
        raise InputError("rules", None, f"unknown rules {rules!r}; use 'auto' or one of {', '.join(_core.ERAS)}")
    if anchor not in _ANCHORS:
        raise InputError("anchor", None, f"unknown anchor {anchor!r}; use 'delivered' or 'sent'")
    service_free_allowance = _count("service_free_allowance", service_free_allowance, _MAX_COUNT)
    free_tier_conversations = _count("free_tier_conversations", free_tier_conversations, _MAX_COUNT)
    threads = _count("threads", threads, _MAX_THREADS, "0 = one per core")
    columns, timezones = as_mapping("columns", columns), as_mapping("timezones", timezones)
    failed_freeform_opens_conversation = _flag("failed_freeform_opens_conversation", failed_freeform_opens_conversation)
    direct_billing = _flag("direct_billing", direct_billing)
    price = _flag("price", price)  # price="no" would otherwise be true

    if state is not None and not isinstance(state, State):
        raise InputError("state", None, f"expected a waconv.State (result.state), got {type(state).__name__}")
    options = state_options(rules=rules, anchor=anchor,
                            failed_freeform_opens_conversation=failed_freeform_opens_conversation,
                            service_free_allowance=service_free_allowance, direct_billing=direct_billing,
                            free_tier_conversations=free_tier_conversations, timezones=timezones,
                            csw_refreshing=csw_refreshing, price=price, pricing=None,
                            auth_international=auth_international)
    if state is not None:
        state.check_options(options, skip=PRICING_OPTION)
    carry = None if state is None else Continuation(state, events, columns, csw_refreshing)
    if carry is None:
        canonical = canonicalize(events, columns=columns, timezones=timezones, csw_refreshing=csw_refreshing)
    else:
        canonical = carry.canonicalize(timezones)
    setup: PricingSetup | None = None
    tier_used: list[tuple[int, int, int, int, int]] = []
    if price:
        cards, user_cards = as_rate_cards(rate_card)
        setup = plan_pricing(canonical, cards, user_cards, tier_choice(volume_tiers), currencies, stacklevel=3)
        options[PRICING_OPTION] = pricing_fingerprint(setup.plan, currencies)
        if state is not None:
            state.check_options(options)
        tier_used = carry.tier_used(canonical, setup.plan) if carry is not None else []
    plan = None if setup is None else setup.plan
    message_ids = _message_id_buffers(canonical.message_id)
    prepared = time.perf_counter()
    core = _core.classify(
        canonical.business,
        canonical.user,
        canonical.waba,
        canonical.timestamp,
        canonical.delivered_at,
        canonical.direction,
        canonical.template_category,
        canonical.referral,
        canonical.duplicate,
        canonical.refreshes_csw,
        None if setup is None else setup.us_user,
        None if setup is None else setup.us_override,
        len(canonical.user_values),
        canonical.time_zones,
        message_id=None if message_ids is None else message_ids[1],
        forced_era=None if rules == "auto" else rules,
        anchor_sent=anchor == "sent",
        failed_freeform_opens_conversation=failed_freeform_opens_conversation,
        free_tier_conversations=int(free_tier_conversations),
        direct_billing=direct_billing,
        service_free_allowance=int(service_free_allowance),
        threads=threads,
        **(carry.allowance_used(canonical) if carry is not None else {}),
    )
    classified = time.perf_counter()
    arrays = core.to_numpy()  # views of the core's columns
    priced = None
    price_seconds = 0.0
    if setup is None:
        added = message_columns(canonical, arrays["messages"])
        conversations = conversations_table(canonical, arrays["conversations"])
        window_frame = windows_table(canonical, arrays["windows"])
    else:
        # The core prices with the GIL released while this thread builds every table column
        # pricing leaves alone (string takes and categoricals, mostly waiting on memory).
        # Pricing rewrites the category codes in place, so those are read only after it.
        with ThreadPoolExecutor(max_workers=1) as pool:
            pricing = pool.submit(_timed, setup.price, core, canonical, auth_international=auth_international,
                                  threads=threads, tier_used=tier_used)
            added = message_columns(canonical, arrays["messages"], categories=False)
            conversations = conversations_table(canonical, arrays["conversations"], categories=False)
            window_frame = windows_table(canonical, arrays["windows"])
            priced, price_seconds = pricing.result()
        check_cards_in_force(plan, priced["gaps"], canonical)
        added["pricing_category"] = pricing_categories(arrays["messages"]["pricing_category"])
        added["charge_reason"] = charge_reasons(arrays["messages"]["charge_reason"],
                                                arrays["messages"]["pricing_category"], priced["messages"]["cost"])
        add_conversation_categories(conversations, arrays["conversations"]["category"])
        message_prices, conversation_prices = price_columns(plan, priced)
        added.update(message_prices)
        for name, values in conversation_prices.items():
            conversations[name] = values
    early = int(np.count_nonzero(canonical.timestamp < _CBP_V1_FROM)) if rules == "auto" else 0
    if early:
        warnings.warn(
            f"{early:,} rows are dated before 2022-02-01 (notification-based pricing); "
            "they are classified under cbp_v1 rules",
            WaconvWarning,
            stacklevel=3,
        )
    result = Tables(
        messages=messages_table(events if carry is None else carry.frame, added, canonical,
                                columns if carry is None else None),
        conversations=conversations,
        windows=window_frame,
        n_duplicates=int(canonical.duplicate.sum()),
        options={
            "rules": rules,
            "anchor": anchor,
            "failed_freeform_opens_conversation": failed_freeform_opens_conversation,
            "service_free_allowance": service_free_allowance,
            "direct_billing": direct_billing,
            "free_tier_conversations": free_tier_conversations,
            "timezones": dict(timezones or {}),
            "columns": dict(columns or {}),
            "csw_refreshing": csw_refreshing,
            "price": price,
            # As passed (a card or tier table is kept by reference, not copied): enough to
            # run the same classification again, or to tell two results' pricing apart.
            "rate_card": rate_card,
            "volume_tiers": volume_tiers,
            "currencies": currencies,
            "auth_international": auth_international,
        },
    )
    if plan is not None:
        report_gaps(plan, priced["gaps"], result.messages, canonical)
    attach_state(result, carry, events=events, columns=columns, timezones=timezones, csw_refreshing=csw_refreshing,
                 options=options,
                 tiered=set() if plan is None else tiered_slots(plan), rows_for_state=rows_for_state)
    if carry is not None:
        batch = carry.batch_tables(result, events, columns)
        batch.state_source = result.state_source
        result = batch
    finished = time.perf_counter()
    result.timings = {
        "prepare": prepared - started,
        "core": classified - prepared,
        "scan": float(arrays["scan_seconds"]),
        **{f"scan_{name}": float(seconds) for name, seconds in arrays["scan_stages"].items()},
        "price": price_seconds,
        "assemble": finished - classified,
        "total": finished - started,
    }
    return result


def _message_id_buffers(ids: pd.Series | None) -> tuple[pa.Array, tuple] | None:
    """The message ids as an Arrow string array and its buffers for the core, which breaks
    ties by them (docs/rules.md §Time and order). Arrow-backed strings (pandas' default) are
    read in place; other ids are compared as their text, converted once here."""
    if ids is None:
        return None
    found = arrow_buffers(ids)
    if found is not None:
        return found
    try:
        array = pa.array(ids, from_pandas=True)
    except (pa.ArrowInvalid, pa.ArrowTypeError):  # ids of several types: each as its text
        array = pa.array(ids.map(str, na_action="ignore"), from_pandas=True)
    if isinstance(array, pa.ChunkedArray):
        array = array.combine_chunks()
    if pa.types.is_dictionary(array.type):
        array = array.dictionary_decode()
    if not (pa.types.is_string(array.type) or pa.types.is_large_string(array.type)):
        array = array.cast(pa.large_string())
    return arrow_buffers(pd.Series(pd.arrays.ArrowExtensionArray(array), copy=False))


def _count(name: str, value: Any, maximum: int, hint: str = "") -> int:
    """A non-negative integer argument as a Python int of at most `maximum`."""
    # bool is an int to Python, but threads=True is a slip, not one thread.
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)) or value < 0:
        raise InputError(name, None, f"expected a non-negative integer{f' ({hint})' if hint else ''}, got {value!r}")
    return min(int(value), maximum)


def _flag(name: str, value: Any) -> bool:
    if not isinstance(value, (bool, np.bool_)):
        raise InputError(name, None, f"expected True or False, got {value!r}")
    return bool(value)


def _timed(call: Any, *args: Any, **kwargs: Any) -> tuple[Any, float]:
    started = time.perf_counter()
    out = call(*args, **kwargs)
    return out, time.perf_counter() - started
