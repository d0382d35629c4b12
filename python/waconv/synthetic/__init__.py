"""Realistic synthetic WhatsApp Business message logs for demos, docs and benchmarks.

``waconv.synthetic.events(n_users=1000, days=30, start="2025-06-01", seed=0)`` returns a
pandas DataFrame in the columns of docs/rules.md §Input columns, ready for :func:`waconv.classify`::

    log = waconv.synthetic.events(n_users=5000, days=60, start="2025-06-01")
    result = waconv.classify(log, timezones=waconv.synthetic.TIMEZONES)

Columns: ``message_id`` (``wamid.`` + 16 hex digits), ``business`` (15-digit phone number
ids, see :data:`BUSINESS_IDS`), ``waba`` (see :data:`WABAS`), ``user`` (E.164 numbers from
21 countries, US and India included), ``timestamp`` and ``delivered_at`` (tz-aware UTC, whole
seconds), ``direction``, ``template_category``, ``status`` (``sent``/``delivered``/``read``/
``failed`` on outbound rows, null on inbound rows) and ``referral``.

The traffic (see :mod:`waconv.synthetic.traffic` for the numbers):

- each user talks to one business, ~15 % of them to two; businesses have Zipf-like sizes
  and a home country (their WABA's) that is their largest group of users (~30 %);
- user-initiated exchanges: a burst of inbound messages, quick free-form replies, sometimes
  a utility template; some replies come hours later, around the end of the 24 h customer
  service window or days later: then usually as a template, sometimes free-form (outside the
  window Meta rejects those, error 131047, so they are ``failed``);
- a share ``referral_rate`` of those exchanges start from a Click-to-WhatsApp ad
  (``referral=True``), so free entry point windows open;
- marketing campaigns by business, about twice a week at a fixed local hour, reaching ~40 %
  of its users within three minutes (``marketing_lite`` for a fifth of them from
  2024-10-15); some users reply;
- utility notifications and authentication codes at any hour;
- ``failure_rate`` of outbound messages are never delivered (status ``failed``, or ``sent``
  when no receipt ever came); marketing templates to US numbers from 2025-04-01 fail too
  (Meta stopped delivering them);
- ``lost_receipt_rate`` of delivered messages lost their ``delivered`` receipt but were
  read: ``status="read"`` and ``delivered_at`` is the read time (the first receipt seen);
- ``duplicate_rate`` of rows are logged twice (at-least-once webhooks): the copy follows the
  original and repeats its ``message_id`` and direction, so ``classify`` marks exactly the
  copies. Duplicates come from their own random stream: dropping them gives the log
  generated with ``duplicate_rate=0``.

Rows are ordered by ``timestamp`` like an export. The frame depends only on the arguments
(and the NumPy/pandas versions). Everything is vectorised: 10M rows take seconds.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from waconv.synthetic.tools import fixed_width_strings, hex_digits, string_series, utc_series
from waconv.synthetic.traffic import COUNTRIES, WABAS, Traffic, generate

__all__ = ["BUSINESS_IDS", "COUNTRIES", "TIMEZONES", "WABAS", "business_waba", "events", "timezones"]

TIMEZONES: dict[str, str] = {waba: zone for waba, zone, _ in WABAS}
"""WABA id -> IANA time zone of the synthetic WABAs: pass as ``classify(..., timezones=)``."""

BUSINESS_IDS: list[str] = [str(106_540_352_242_922 + 1_000_003 * k) for k in range(100)]
"""Business phone number ids in order: business k belongs to WABA ``WABAS[k % len(WABAS)]``."""

_DIRECTIONS = ["inbound", "outbound"]
_CATEGORIES = ["marketing", "utility", "authentication", "marketing_lite"]  # codes 1.. in the traffic
_STATUSES = ["sent", "delivered", "read", "failed"]


def timezones(log: pd.DataFrame) -> dict[str, str]:
    """The time zones of the WABAs that occur in `log`, for ``classify(timezones=...)``.

    A small log uses only some of :data:`WABAS`; classify warns about zones given for WABAs
    a log does not have (they usually mean a misspelt id), so pass these, not TIMEZONES.
    """
    present = set(pd.unique(log["waba"]))
    return {waba: zone for waba, zone in TIMEZONES.items() if waba in present}


def business_waba(n_businesses: int) -> dict[str, str]:
    """Business phone number id -> WABA id for a log made with `n_businesses`."""
    return {BUSINESS_IDS[k]: WABAS[k % len(WABAS)][0] for k in range(n_businesses)}


def _check_rate(name: str, value: float) -> float:
    if not 0.0 <= float(value) <= 1.0:
        raise ValueError(f"{name} must be between 0 and 1, got {value!r}")
    return float(value)


def events(
    n_users: int = 1000,
    days: int = 30,
    start: str | pd.Timestamp = "2025-06-01",
    seed: int = 0,
    *,
    n_businesses: int = 3,
    failure_rate: float = 0.03,
    duplicate_rate: float = 0.005,
    referral_rate: float = 0.1,
    lost_receipt_rate: float = 0.02,
    time_unit: str = "us",
) -> pd.DataFrame:
    """A synthetic message log: `n_users` users over `days` days from `start` (UTC midnight).

    About 1.05 rows per user per day (n_users=1000, days=30: ~31,000 rows; 300,000 users
    and 30 days: ~9.5M rows in about 11 s on 2 cores).
    n_businesses: business phone numbers (1..100), spread over the WABAs of :data:`WABAS`
    (business k in WABA k mod 6; :func:`business_waba` gives the mapping).
    failure_rate: share of outbound messages never delivered (besides policy rejections).
    duplicate_rate: share of rows logged twice (same message_id and direction).
    referral_rate: share of user-initiated exchanges opened from a Click-to-WhatsApp ad.
    lost_receipt_rate: share of delivered messages known only from their read receipt.
    time_unit: resolution of the datetime columns ("us" as pandas 3 parses, or "ns").
    Same arguments, same frame.
    """
    if int(n_users) < 1 or int(days) < 1:
        raise ValueError("n_users and days must be at least 1")
    if not 1 <= int(n_businesses) <= len(BUSINESS_IDS):
        raise ValueError(f"n_businesses must be between 1 and {len(BUSINESS_IDS)}, got {n_businesses!r}")
    begin = pd.Timestamp(start)
    begin = (begin.tz_localize("UTC") if begin.tzinfo is None else begin.tz_convert("UTC")).normalize()
    traffic_seed, delivery_seed, duplicate_seed = np.random.SeedSequence(int(seed)).spawn(3)
    traffic = generate(
        n_users=int(n_users),
        days=int(days),
        start_ns=begin.as_unit("ns").value,
        n_businesses=int(n_businesses),
        referral_rate=_check_rate("referral_rate", referral_rate),
        failure_rate=_check_rate("failure_rate", failure_rate),
        lost_receipt_rate=_check_rate("lost_receipt_rate", lost_receipt_rate),
        traffic_rng=np.random.default_rng(traffic_seed),
        delivery_rng=np.random.default_rng(delivery_seed),
    )
    repeat = _duplicates(len(traffic.timestamp), _check_rate("duplicate_rate", duplicate_rate),
                         np.random.default_rng(duplicate_seed))
    return _frame(traffic, repeat, int(seed), time_unit)


def _duplicates(n: int, rate: float, rng: np.random.Generator) -> np.ndarray:
    """Row indices of the output: every row once, a `rate` share twice in a row."""
    twice = rng.random(n) < rate
    return np.repeat(np.arange(n), 1 + twice.astype(np.int64))


def _message_ids(rows: np.ndarray, seed: int) -> pd.Series:
    """``wamid.`` ids that look random: splitmix64 of the row number (a bijection), so
    distinct rows get distinct ids and repeated rows (duplicates) repeat theirs."""
    n = len(rows)
    with np.errstate(over="ignore"):
        x = rows.astype(np.uint64) + np.uint64(1) + np.uint64((seed * 0x632BE59BD9B4E019) % 2**64)
        x = x * np.uint64(0x9E3779B97F4A7C15)
        x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        x = x ^ (x >> np.uint64(31))
    text = np.empty((n, 22), dtype=np.uint8)
    text[:, :6] = np.frombuffer(b"wamid.", dtype=np.uint8)
    text[:, 6:] = hex_digits(x)
    return fixed_width_strings(text, "message_id")


def _frame(traffic: Traffic, repeat: np.ndarray, seed: int, time_unit: str) -> pd.DataFrame:
    """The output columns, rows `repeat` of the traffic (already in time order)."""
    t = traffic
    waba_codes = np.arange(len(BUSINESS_IDS)) % len(WABAS)
    return pd.DataFrame(
        {
            "message_id": _message_ids(repeat, seed),
            "business": string_series(t.business[repeat], BUSINESS_IDS[: t.n_businesses], "business"),
            "waba": string_series(waba_codes[t.business[repeat]], [w for w, _, _ in WABAS], "waba"),
            "user": string_series(t.user[repeat], t.user_numbers, "user"),
            "timestamp": utc_series(t.timestamp[repeat], "timestamp", time_unit),
            "direction": string_series(t.outbound[repeat].astype(np.int64), _DIRECTIONS, "direction"),
            "template_category": string_series(t.category[repeat].astype(np.int64) - 1, _CATEGORIES,
                                               "template_category"),
            "delivered_at": utc_series(t.delivered_at[repeat], "delivered_at", time_unit),
            "status": string_series(t.status[repeat].astype(np.int64), _STATUSES, "status"),
            "referral": t.referral[repeat],
        }
    )
