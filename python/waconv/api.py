"""The entry point users call: any table in, a :class:`waconv.Result` out.

Adapters turn the input into pandas columns, the engine runs phases 1 and 2, and the
engine's tables become a Result (with its analytics) or Arrow/polars tables.
"""

from __future__ import annotations

import io
import os
import time
from collections.abc import Mapping, Sequence
from typing import Any, Literal, Union, overload

import pandas as pd
import pyarrow as pa

from waconv.engine.canonical import CswRefreshing
from waconv.engine.classify import classify_frame
from waconv.engine.state import State
from waconv.io.frames import (as_pandas, as_pandas_reading_views, check_names_for, check_output, collected,
                              is_polars_frame, with_plain_strings)
from waconv.pricing.rate_cards import RateCard, RateCards
from waconv.pricing.tiers import TierTable
from waconv.result import Result, ResultTables, export


# What the user may pass where the runtime accepts it (pricing.rate_cards.as_rate_cards,
# pricing.tiers.as_tier_table): paths as text or os.PathLike, text streams, lists of cards.
CardSource = Union[str, os.PathLike[str], io.TextIOBase]
RateCardArgument = Union[RateCards, RateCard, CardSource, Sequence[Union[RateCard, CardSource]], None]
TierArgument = Union[TierTable, CardSource, pd.DataFrame, bool, None]

# WABA and portfolio ids are matched by value or by their text (engine.canonical._zones_for),
# so any key type is accepted: Mapping[Any, ...], since Mapping is invariant in its key and
# Mapping[Hashable, str] would reject the dict[str, str] everyone writes.


@overload
def classify(
    events: pd.DataFrame | pa.Table | Any,
    *,
    columns: Mapping[str, str] | None = ...,
    rules: str = ...,
    timezones: Mapping[Any, str] | None = ...,
    anchor: str = ...,
    failed_freeform_opens_conversation: bool = ...,
    service_free_allowance: int = ...,
    csw_refreshing: CswRefreshing = ...,
    direct_billing: bool = ...,
    free_tier_conversations: int = ...,
    price: bool = ...,
    rate_card: RateCardArgument = ...,
    volume_tiers: TierArgument = ...,
    currencies: Mapping[Any, str] | None = ...,
    auth_international: Mapping[Any, Mapping[str, object]] | None = ...,
    threads: int = ...,
    output: Literal["pandas"] = ...,
    state: State | None = ...,
) -> Result: ...


@overload
def classify(
    events: pd.DataFrame | pa.Table | Any,
    *,
    columns: Mapping[str, str] | None = ...,
    rules: str = ...,
    timezones: Mapping[Any, str] | None = ...,
    anchor: str = ...,
    failed_freeform_opens_conversation: bool = ...,
    service_free_allowance: int = ...,
    csw_refreshing: CswRefreshing = ...,
    direct_billing: bool = ...,
    free_tier_conversations: int = ...,
    price: bool = ...,
    rate_card: RateCardArgument = ...,
    volume_tiers: TierArgument = ...,
    currencies: Mapping[Any, str] | None = ...,
    auth_international: Mapping[Any, Mapping[str, object]] | None = ...,
    threads: int = ...,
    output: Literal["arrow", "polars"],
    state: State | None = ...,
) -> ResultTables: ...


def classify(
    events: pd.DataFrame | pa.Table | Any,
    *,
    columns: Mapping[str, str] | None = None,
    rules: str = "auto",
    timezones: Mapping[Any, str] | None = None,
    anchor: str = "delivered",
    failed_freeform_opens_conversation: bool = False,
    service_free_allowance: int = 1000,
    csw_refreshing: CswRefreshing = None,
    direct_billing: bool = False,
    free_tier_conversations: int = 1000,
    price: bool = True,
    rate_card: RateCardArgument = None,
    volume_tiers: TierArgument = True,
    currencies: Mapping[Any, str] | None = None,
    auth_international: Mapping[Any, Mapping[str, object]] | None = None,
    threads: int = 0,
    output: str = "pandas",
    state: State | None = None,
) -> Result | ResultTables:
    """Rebuild windows, conversations and each message's pricing category and type.

    events: one row per message with the columns of docs/rules.md §Input columns (names
    mappable with `columns`, e.g. ``{"user": "wa_id"}``): a pandas DataFrame, a pyarrow
    Table or RecordBatch, a polars DataFrame/LazyFrame, or any Arrow stream producer;
    Arrow memory is read in place. The rules applied: docs/rules.md.
    rules: ``"auto"`` picks the era by delivery date at WABA-local midnight; an era name
    (``"cbp_v1"``, ``"cbp_v2"``, ``"pmp_v1"``, ``"pmp_v2"``) applies it to every message.
    timezones: WABA id -> IANA time zone (default UTC) for era switches and months.
    anchor: ``"delivered"`` (Meta's text) or ``"sent"``: when CBP conversations start.
    failed_freeform_opens_conversation: 360dialog's 2022 rule for failed free-form messages.
    service_free_allowance: free service messages per business phone number per month from
    2026-10-01 (1,000, as providers quote Meta's pricing page; 0 turns the allowance off).
    csw_refreshing: which inbound rows refresh the service window: None (all), a bool
    column name, or a predicate ``frame -> bool array``.
    direct_billing: the WABA pays Meta directly (business-initiated conversations leave
    the free tier on 2023-04-04).
    free_tier_conversations: Meta's monthly free tier (1,000); change it only for what-ifs.
    price: run phase 2 (markets, rate cards, tiers, cost); False returns classification only.
    rate_card: a RateCards set, a RateCard, a path to a card in Meta's CSV layout, or a list of
    those (default: the USD cards shipped with waconv).
    volume_tiers: PMP utility/authentication volume tiers. True (the default): Meta's tables
    shipped with waconv, by date (USD from 2026-04-01; no public table is older); None or
    False: no tiers; a table (CSV path, DataFrame or TierTable) replaces them for the
    default currency at every date.
    currencies: WABA id -> currency code (``{"waba-in": "INR"}``): those WABAs are priced by
    the cards (and tiers) waconv ships in that currency; others in rate_card's currency (USD).
    No card of that currency in force at a row's delivery is an InputError (no conversion).
    auth_international: portfolio id -> {"primary_country": "IN", "start": "2025-02-01"}.
    threads: worker threads for the scan and pricing (0 = one per core, fewer for logs under
    100,000 rows per core; an explicit number is used as given).
    output: ``"pandas"`` (a Result), ``"arrow"`` or ``"polars"`` (a ResultTables holding
    pyarrow Tables or polars DataFrames; its ``to_pandas()`` gives the Result back).
    state: the ``result.state`` of the call before (daily runs, docs/rules.md §Daily runs):
    this batch continues from it and gets the verdicts one call over both would give. Its
    rows must not be older than the state's watermark; the options must be the state's.

    Raises InputError (a ValueError) naming the column, first bad row and reason.
    """
    started = time.perf_counter()
    check_output(output)
    # Without carried state (which concatenates the frame with earlier rows), string_view
    # columns are read in place: polars' own layout, which a polars result takes as it is.
    # From polars, a pandas or Arrow result gets them as str once the core is done
    # (with_plain_strings): preparation is shorter and the copy is not held beside the core's.
    events = collected(events)
    from_polars = is_polars_frame(events)
    reads_views = state is None and (output == "polars" or from_polars)
    plain_later = reads_views and output != "polars" and from_polars
    frame = as_pandas_reading_views(events, columns)[0] if reads_views else as_pandas(events)
    check_names_for(output, frame)
    converted = time.perf_counter() - started
    tables = classify_frame(
        frame,
        columns=columns,
        rules=rules,
        timezones=timezones,
        anchor=anchor,
        failed_freeform_opens_conversation=failed_freeform_opens_conversation,
        service_free_allowance=service_free_allowance,
        csw_refreshing=csw_refreshing,
        direct_billing=direct_billing,
        free_tier_conversations=free_tier_conversations,
        price=price,
        rate_card=rate_card,
        volume_tiers=volume_tiers,
        currencies=currencies,
        auth_international=auth_international,
        threads=threads,
        state=state,
        rows_for_state=(lambda: as_pandas(events)) if plain_later else None,
    )
    # Converting the input to pandas is part of preparing it.
    tables.timings["prepare"] += converted
    tables.timings["total"] += converted
    if plain_later:
        assembled = time.perf_counter()
        tables.messages = with_plain_strings(tables.messages, events)
        tables.conversations = with_plain_strings(tables.conversations, events)
        tables.windows = with_plain_strings(tables.windows, events)
        plain_seconds = time.perf_counter() - assembled
        tables.timings["assemble"] += plain_seconds
        tables.timings["total"] += plain_seconds
    exporting = time.perf_counter()
    result = export(Result.of(tables), output)
    exported = time.perf_counter() - exporting  # to Arrow or polars: part of assembling the result
    result.timings["assemble"] += exported
    result.timings["total"] += exported
    return result
