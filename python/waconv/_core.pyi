# Type stub of the C++ extension waconv._core; tests/test_core_stub.py keeps it in step.
from typing import Any

import numpy as np
import numpy.typing as npt

DIRECTIONS: list[str]
TEMPLATE_CATEGORIES: list[str]
ERAS: list[str]
PRICING_MODELS: list[str]
PRICING_CATEGORIES: list[str]
PRICING_TYPES: list[str]
WINDOW_KINDS: list[str]
CHARGE_REASONS: list[str]

class Classification:
    """Phase 1 result held in C++ until priced and exported."""

    @property
    def size(self) -> int: ...
    def to_numpy(self) -> dict[str, Any]: ...

def classify(
    business: npt.NDArray[np.int32],
    user: npt.NDArray[np.int32],
    waba: npt.NDArray[np.int32],
    timestamp: npt.NDArray[np.int64],
    delivered_at: npt.NDArray[np.int64],
    direction: npt.NDArray[np.int8],
    template_category: npt.NDArray[np.int8],
    referral: npt.NDArray[np.uint8] | None,
    duplicate: npt.NDArray[np.uint8] | None,
    refreshes_csw: npt.NDArray[np.uint8] | None,
    us_user: npt.NDArray[np.uint8] | None,
    us_override: npt.NDArray[np.int8] | None,
    user_count: int,
    time_zones: list[str],
    *,
    message_id: tuple[
        npt.NDArray[np.int32] | npt.NDArray[np.int64], npt.NDArray[np.uint8], npt.NDArray[np.uint8] | None, int, int
    ]
    | None = None,
    forced_era: str | None = None,
    anchor_sent: bool = False,
    failed_freeform_opens_conversation: bool = False,
    free_tier_conversations: int = 1000,
    direct_billing: bool = False,
    service_free_allowance: int = 1000,
    threads: int = 0,
    free_tier_used: list[tuple[int, int, int]] = ...,
    service_used: list[tuple[int, int, int]] = ...,
) -> Classification: ...
def resolve_countries(
    users: list[str],
    prefixes: list[str],
    prefix_country: list[int],
    iso_codes: list[str],
    calling_codes: list[str] = ...,
    national_lengths: list[int] = ...,
) -> npt.NDArray[np.int16]: ...
def resolve_country_buffers(
    offsets: npt.NDArray[np.int32] | npt.NDArray[np.int64] | npt.NDArray[np.uint8],  # uint8: string views
    data: npt.NDArray[np.uint8] | list[npt.NDArray[np.uint8]],  # a list: a string_view array's data buffers
    validity: npt.NDArray[np.uint8] | None,
    validity_offset: int,
    size: int,
    prefixes: list[str],
    prefix_country: list[int],
    iso_codes: list[str],
    calling_codes: list[str] = ...,
    national_lengths: list[int] = ...,
) -> npt.NDArray[np.int16]: ...
def price(
    result: Classification,
    waba: npt.NDArray[np.int32],
    timestamp: npt.NDArray[np.int64],
    delivered_at: npt.NDArray[np.int64],
    user: npt.NDArray[np.int32],
    user_country: npt.NDArray[np.int16],
    country_override: npt.NDArray[np.int16] | None,
    portfolio: npt.NDArray[np.int32],
    time_zones: list[str],
    switches: list[tuple[int, int, int]],
    country_count: int,
    market_count: int,
    other_market: int,
    market_of: npt.NDArray[np.int16],
    auth_international: npt.NDArray[np.uint8],
    card_of: npt.NDArray[np.int16],
    card_count: int,
    rate: npt.NDArray[np.float64],
    rate_source: npt.NDArray[np.int16],
    bands: list[list[tuple[int, int, float, int]]],
    auth_primary_country: npt.NDArray[np.int16],
    auth_start: npt.NDArray[np.int64],
    card_effective: npt.NDArray[np.int64],
    currency_count: int,
    band_set_of: npt.NDArray[np.int16],
    waba_currency: npt.NDArray[np.int8] | None = None,
    threads: int = 0,
    tier_used: list[tuple[int, int, int, int, int]] = ...,
) -> dict[str, Any]: ...
def gathered_classification(
    messages: dict[str, npt.NDArray[Any]], conversations: dict[str, npt.NDArray[Any]]
) -> Classification: ...
def apply_allowances(
    result: Classification,
    business: npt.NDArray[np.int32],
    waba: npt.NDArray[np.int32],
    timestamp: npt.NDArray[np.int64],
    delivered_at: npt.NDArray[np.int64],
    time_zones: list[str],
    *,
    message_id: tuple[Any, ...] | None = None,
    free_tier_conversations: int = 1000,
    direct_billing: bool = False,
    service_free_allowance: int = 1000,
    threads: int = 0,
) -> None: ...
def instants(
    raw: npt.NDArray[np.int64], unit_ns: int, threads: int = 0
) -> tuple[npt.NDArray[np.int64], int]: ...
def delivery_instants(
    raw: npt.NDArray[np.int64],
    unit_ns: int,
    sent: npt.NDArray[np.int64],
    direction: npt.NDArray[np.int8],
    threads: int = 0,
) -> tuple[npt.NDArray[np.int64], int, int]: ...
def factorize_strings(
    offsets: npt.NDArray[np.int32] | npt.NDArray[np.int64] | npt.NDArray[np.uint8],  # uint8: string views
    data: npt.NDArray[np.uint8] | list[npt.NDArray[np.uint8]],  # a list: a string_view array's data buffers
    validity: npt.NDArray[np.uint8] | None,
    validity_offset: int,
    size: int,
    threads: int = 0,
    partitions: int = 0,
) -> tuple[npt.NDArray[np.int32], npt.NDArray[np.int64]]: ...
def string_hashes(
    offsets: npt.NDArray[np.int32] | npt.NDArray[np.int64] | npt.NDArray[np.uint8],  # uint8: string views
    data: npt.NDArray[np.uint8] | list[npt.NDArray[np.uint8]],  # a list: a string_view array's data buffers
    validity: npt.NDArray[np.uint8] | None,
    validity_offset: int,
    size: int,
    threads: int = 0,
) -> npt.NDArray[np.uint64]: ...
def factorize_integers(
    values: npt.NDArray[np.int64], threads: int = 0
) -> tuple[npt.NDArray[np.int32], npt.NDArray[np.int64]]: ...
def duplicate_strings(
    offsets: npt.NDArray[np.int32] | npt.NDArray[np.int64] | npt.NDArray[np.uint8],  # uint8: string views
    data: npt.NDArray[np.uint8] | list[npt.NDArray[np.uint8]],  # a list: a string_view array's data buffers
    validity: npt.NDArray[np.uint8] | None,
    validity_offset: int,
    size: int,
    direction: npt.NDArray[np.int8],
    threads: int = 0,
) -> npt.NDArray[np.uint8]: ...
def duplicate_integers(
    ids: npt.NDArray[np.int64], direction: npt.NDArray[np.int8], threads: int = 0
) -> npt.NDArray[np.uint8]: ...
def objects_are_text(values: npt.NDArray[np.object_], na: object, threads: int = 0) -> bool: ...
def strings_from_objects(
    values: npt.NDArray[np.object_], na: object, threads: int = 0
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.uint8], npt.NDArray[np.uint8] | None, int] | None: ...
def encode_objects(
    values: npt.NDArray[np.object_], na: object, vocabulary: list[str], codes: list[int], null_code: int,
    threads: int = 0,
) -> tuple[npt.NDArray[np.int8], int, int] | None: ...
def resolve_identity(
    codes: list[npt.NDArray[np.int32]],
    nodes: list[npt.NDArray[np.int32] | tuple[int, int, int]],
    preferred: npt.NDArray[np.uint8],
    threads: int = 0,
) -> tuple[npt.NDArray[np.int32], npt.NDArray[np.int32], int]: ...
def encode_strings(
    offsets: npt.NDArray[np.int32] | npt.NDArray[np.int64] | npt.NDArray[np.uint8],  # uint8: string views
    data: npt.NDArray[np.uint8] | list[npt.NDArray[np.uint8]],  # a list: a string_view array's data buffers
    validity: npt.NDArray[np.uint8] | None,
    validity_offset: int,
    size: int,
    vocabulary: list[str],
    codes: list[int],
    null_code: int,
    threads: int = 0,
) -> tuple[npt.NDArray[np.int8], int, int]: ...
def read_webhook_file(path: str, json_lines: bool, gzipped: bool, threads: int = 0) -> dict[str, Any] | str: ...
def read_webhook_lines(data: bytes, threads: int = 0) -> dict[str, Any] | str: ...
def aggregate_statuses(
    offsets: npt.NDArray[np.int32] | npt.NDArray[np.int64],
    data: npt.NDArray[np.uint8],
    validity: npt.NDArray[np.uint8] | None,
    validity_offset: int,
    size: int,
    status: npt.NDArray[np.int8],
    time: npt.NDArray[np.int64],
    order: npt.NDArray[np.int64] | None,
    threads: int = 0,
) -> dict[str, npt.NDArray[Any]]: ...
def aggregate_messages(
    offsets: npt.NDArray[np.int32] | npt.NDArray[np.int64],
    data: npt.NDArray[np.uint8],
    validity: npt.NDArray[np.uint8] | None,
    validity_offset: int,
    size: int,
    time: npt.NDArray[np.int64],
    referral: npt.NDArray[np.uint8],
    order: npt.NDArray[np.int64] | None,
    threads: int = 0,
) -> dict[str, npt.NDArray[Any]]: ...
def first_present_rows(
    rows: npt.NDArray[np.int64],
    starts: npt.NDArray[np.int64],
    validity: npt.NDArray[np.uint8] | None,
    validity_offset: int,
    size: int,
    threads: int = 0,
) -> npt.NDArray[np.int64]: ...
def first_number_rows(
    rows: npt.NDArray[np.int64], starts: npt.NDArray[np.int64], values: npt.NDArray[np.float64], threads: int = 0
) -> npt.NDArray[np.int64]: ...
