"""Fast, deterministic synthetic WhatsApp Business message logs (docs/rules.md §Input columns).

``make_log(n_rows, seed=0)`` returns a pandas DataFrame with one row per message:

- ``message_id``: ``wamid.`` + 16 hex digits, unique per message; about 1 % of the messages
  are logged twice in a row (at-least-once webhook delivery: same id and values),
- ``business``: a few dozen business phone number ids (int64, Zipf-like volumes),
- ``waba``: the WhatsApp Business Account of each business (fewer ids, int64),
- ``user``: E.164 phone numbers as strings (Brazil, India, Indonesia, Mexico, Colombia,
  US, UK, Germany, Spain, Nigeria, ...),
- ``timestamp``: tz-aware UTC, second resolution (like webhook ``timestamp`` fields),
- ``direction``: ``"inbound"`` / ``"outbound"``,
- ``template_category``: ``"marketing"``, ``"utility"``, ``"authentication"``,
  ``"marketing_lite"`` (only from 2024-10-15) or null (free-form, and every inbound row),
- ``delivered_at``: tz-aware UTC; NaT for inbound rows and ~3 % of outbound rows
  (undelivered); otherwise a few seconds, sometimes minutes, after ``timestamp``,
- ``referral``: bool, ~1 % of inbound rows (Click-to-WhatsApp ads), mostly on rows that
  start a user-initiated exchange.

Shape of the traffic. There are ``n_rows / 10`` distinct (business, user) pairs with a
skewed number of rows each (mean 10). A pair's rows form *episodes* (on average ~3):

- user-initiated (55 %): a burst of inbound messages, then a back-and-forth of free-form
  replies (seconds to minutes apart), sometimes a utility template; some replies come hours
  later, inside or just outside the 24 h customer service window, and some well after it;
- campaign (30 %): a marketing template (``marketing_lite`` for some after 2024-10-15) sent
  at the business's daily campaign time, so many users share the same send second; the
  user sometimes replies, which opens a service exchange;
- notification (15 %): a utility or authentication template at any time of day.

Episodes of a pair are days to weeks apart (a fifth of them less than a day apart, so
windows and conversations overlap). Pair start dates grow linearly in density from
2022-02-01 to 2026-12 (platform growth), so every era appears: ``cbp_v1`` (~8 % of rows),
``cbp_v2`` (~40 %), ``pmp_v1`` (~40 %) and ``pmp_v2`` (~10 %).

Rows come back ordered by ``timestamp`` like an export of a message store (ties in pair
order). Everything is vectorised with NumPy (no per-row Python); string columns are built
in Arrow from dictionary codes, so 10M rows take a few seconds. The output depends only on
``(n_rows, seed)`` (and the library versions).

The building blocks (segment sums, mixtures, phone numbers, string columns) live in
``waconv.synthetic.tools``, shared with ``waconv.synthetic.events`` (the demo/doc log:
sized by users and days rather than rows, with statuses, message ids and duplicates). This
module keeps its own traffic model so benchmark figures stay comparable across versions.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd

from waconv.synthetic.tools import DAY, HOUR, MINUTE, SECOND, fixed_width_strings, hex_digits, phone_numbers
from waconv.synthetic.tools import mixture as _mixture
from waconv.synthetic.tools import segment_cumsum as _segment_cumsum
from waconv.synthetic.tools import string_series as _string_series
from waconv.synthetic.tools import unique_sorted as _unique

START = pd.Timestamp("2022-02-01", tz="UTC").value
END = pd.Timestamp("2026-12-28", tz="UTC").value  # last pair start; episodes stay in 2026
MARKETING_LITE_FROM = pd.Timestamp("2024-10-15", tz="UTC").value

# (calling code + leading national digits, share of users, digits after the prefix)
COUNTRIES = [
    ("+5511", 0.14, 9), ("+5521", 0.05, 9), ("+5531", 0.03, 9),  # Brazil
    ("+9198", 0.10, 8), ("+9197", 0.06, 8), ("+9170", 0.04, 8),  # India
    ("+62812", 0.08, 8),  # Indonesia
    ("+52155", 0.07, 8), ("+5281", 0.03, 8),  # Mexico
    ("+57300", 0.04, 7),  # Colombia
    ("+1415", 0.03, 7), ("+1212", 0.03, 7),  # US
    ("+1809", 0.01, 7),  # Dominican Republic (+1 area code)
    ("+447", 0.04, 9),  # UK mobile
    ("+4915", 0.04, 9),  # Germany
    ("+346", 0.04, 8),  # Spain
    ("+234803", 0.04, 7),  # Nigeria
    ("+2772", 0.03, 7),  # South Africa
    ("+9715", 0.03, 8),  # UAE
    ("+62857", 0.03, 8),  # Indonesia (other range; prefixes never extend one another)
    ("+20100", 0.03, 7),  # Egypt
    ("+90532", 0.02, 7),  # Turkey
]

TEMPLATE_CATEGORIES = [None, "marketing", "utility", "authentication", "marketing_lite"]
NONE, MARKETING, UTILITY, AUTHENTICATION, MARKETING_LITE = range(5)


def _phone_numbers(n_users: int, rng: np.random.Generator) -> list[str]:
    """n_users distinct E.164 numbers, countries drawn by share."""
    shares = np.array([c[1] for c in COUNTRIES])
    country = rng.choice(len(COUNTRIES), size=n_users, p=shares / shares.sum())
    return phone_numbers(country, [(prefix, digits) for prefix, _, digits in COUNTRIES], rng)


def make_log(
    n_rows: int,
    seed: int = 0,
    *,
    n_businesses: int = 40,
    n_wabas: int = 12,
    rows_per_pair: float = 10.0,
    time_unit: str = "us",
    string_dtype: str = "str",
    message_ids: bool = True,
    repeat_rate: float = 0.01,
) -> pd.DataFrame:
    """A synthetic message log of exactly `n_rows` rows (see the module docstring).

    message_ids: a first column ``message_id`` (``wamid.`` + 16 hex digits, one per message).
    repeat_rate: share of messages logged twice in a row (same id, same values), as
    at-least-once webhooks leave them; 0 for none. False / 0 give the log of earlier
    versions of this benchmark.

    time_unit: resolution of the datetime columns ("us" is what pandas 3 gives for epoch
    seconds and parsed strings; "ns" also works).
    string_dtype: "str" (the pandas default string dtype: Arrow-backed in pandas 3),
    "object" (Python str objects) or "category".
    """
    if n_rows <= 0:
        raise ValueError("n_rows must be positive")
    rng = np.random.default_rng(seed)
    n = int(n_rows)

    # ---- businesses, WABAs -------------------------------------------------------------
    business_ids = 106_540_000_000_000 + rng.choice(9_999_999, size=n_businesses, replace=False)
    waba_ids = 102_290_000_000_000 + rng.choice(9_999_999, size=n_wabas, replace=False)
    business_waba = np.concatenate([np.arange(n_wabas), rng.integers(0, n_wabas, n_businesses - n_wabas)])
    business_weight = 1.0 / np.arange(1, n_businesses + 1) ** 0.9  # Zipf-like volumes
    business_weight /= business_weight.sum()
    campaign_hour = rng.integers(10, 20, n_businesses) * HOUR + rng.integers(0, 4, n_businesses) * 15 * MINUTE

    # ---- pairs: distinct (business, user); a user talks to ~1.25 businesses on average --
    n_pairs = max(1, int(round(n / rows_per_pair)))
    n_users = max(1, int(n_pairs / 0.45))  # uniform draws: n_pairs / distinct users ~ 1.25
    pair_business = np.empty(0, dtype=np.int64)
    pair_user = np.empty(0, dtype=np.int64)
    while len(pair_user) < n_pairs:
        draw = int((n_pairs - len(pair_user)) * 1.1) + 16
        b = rng.choice(n_businesses, size=draw, p=business_weight)
        u = rng.integers(0, n_users, size=draw)
        keys = _unique(np.concatenate([pair_user * n_businesses + pair_business, u * n_businesses + b]))
        keys = rng.permutation(keys)[:n_pairs]
        pair_user, pair_business = keys // n_businesses, keys % n_businesses
    pair_user = pair_user[:n_pairs]
    pair_business = pair_business[:n_pairs]
    used_users = _unique(pair_user)  # only users that appear get a phone number
    pair_user = np.searchsorted(used_users, pair_user)

    # rows per pair: 1 + multinomial over gamma weights (skewed, mean `rows_per_pair`)
    weights = rng.gamma(0.8, 1.0, n_pairs)
    counts = 1 + rng.multinomial(n - n_pairs, weights / weights.sum()) if n > n_pairs else np.ones(n_pairs, np.int64)
    if n < n_pairs:  # tiny logs: fewer pairs than planned
        counts = np.ones(n, np.int64)
        n_pairs = n
        pair_user, pair_business = pair_user[:n], pair_business[:n]
    pair_first = np.concatenate([[0], np.cumsum(counts)[:-1]])
    row_pair = np.repeat(np.arange(n_pairs), counts)
    pos_in_pair = np.arange(n) - pair_first[row_pair]

    # ---- episodes --------------------------------------------------------------------
    episode_flag = (pos_in_pair == 0) | (rng.random(n) < 0.25)
    row_episode = np.cumsum(episode_flag) - 1
    episode_first = np.flatnonzero(episode_flag)
    n_episodes = len(episode_first)
    episode_pair = row_pair[episode_first]
    first_episode_of_pair = np.flatnonzero(np.concatenate([[True], episode_pair[1:] != episode_pair[:-1]]))
    pos_in_episode = np.arange(n) - episode_first[row_episode]

    kind = rng.choice(3, size=n_episodes, p=[0.55, 0.30, 0.15])  # 0 user, 1 campaign, 2 notification
    kind_of_row = kind[row_episode]

    gap = _mixture(rng, n_episodes, [
        (0.2, lambda k: rng.uniform(2 * HOUR, 30 * HOUR, k)),  # windows overlap
        (0.5, lambda k: rng.exponential(5 * DAY, k)),
        (0.3, lambda k: rng.exponential(30 * DAY, k)),
    ])
    gap[first_episode_of_pair] = 0
    episode_offset = _segment_cumsum(gap, episode_pair, first_episode_of_pair)

    # inside an episode: bursts seconds apart, some minutes/hours, some past the 24 h window
    row_gap = _mixture(rng, n, [
        (0.80, lambda k: SECOND + rng.exponential(40 * SECOND, k)),  # burst / chat
        (0.13, lambda k: rng.exponential(90 * MINUTE, k)),  # later the same day
        (0.04, lambda k: rng.uniform(20 * HOUR, 30 * HOUR, k)),  # around the 24 h window end
        (0.03, lambda k: rng.uniform(2 * DAY, 6 * DAY, k)),  # days later
    ])
    row_gap[episode_first] = 0
    row_offset = _segment_cumsum(row_gap, row_episode, episode_first)

    # pair start dates: density growing linearly over 2022-02 .. 2026-12; the pair's whole
    # history fits before END
    offset_in_pair = episode_offset[row_episode] + row_offset
    span = np.maximum.reduceat(offset_in_pair, pair_first)
    room = np.maximum(END - START - span, 0)
    pair_start = START + (np.sqrt(rng.random(n_pairs)) * room).astype(np.int64)
    episode_start = pair_start[episode_pair] + episode_offset

    # campaigns go out at the business's campaign time of that day, to many users at once
    campaign = kind == 1
    ep_business = pair_business[episode_pair]
    day = (episode_start[campaign] - START) // DAY * DAY + START
    episode_start[campaign] = day + campaign_hour[ep_business[campaign]] + rng.integers(0, 90, campaign.sum()) * SECOND

    timestamp = episode_start[row_episode] + row_offset
    timestamp -= timestamp % SECOND  # webhook timestamps are whole seconds

    # ---- direction and template category ----------------------------------------------
    opener = pos_in_episode == 0
    r = rng.random(n)
    # user episodes: the first rows are a burst of inbound messages; later a back-and-forth
    p_inbound = np.where(kind_of_row == 0, np.where(pos_in_episode <= 2, 0.75, 0.5), 0.45)
    inbound = r < p_inbound
    inbound[opener] = kind_of_row[opener] == 0
    outbound = ~inbound

    category = np.zeros(n, dtype=np.int8)
    r = rng.random(n)
    # later outbound rows: mostly free-form, sometimes a utility or marketing template
    category[outbound & (r < 0.07)] = UTILITY
    category[outbound & (r >= 0.07) & (r < 0.10)] = MARKETING
    category[outbound & (r >= 0.10) & (r < 0.105)] = AUTHENTICATION
    camp_open = opener & (kind_of_row == 1)
    lite = camp_open & (r < 0.2) & (timestamp >= MARKETING_LITE_FROM)
    category[camp_open] = MARKETING
    category[lite] = MARKETING_LITE
    note_open = opener & (kind_of_row == 2)
    category[note_open] = np.where(r[note_open] < 0.7, UTILITY, AUTHENTICATION)

    # ---- delivery --------------------------------------------------------------------
    r = rng.random(n)
    delay = _mixture(rng, n, [
        (0.85, lambda k: rng.lognormal(np.log(2.0), 0.8, k) * SECOND),  # a few seconds
        (0.15, lambda k: rng.uniform(30, 1800, k) * SECOND),  # phone offline: up to half an hour
    ])
    delivered = outbound & (r >= 0.03)
    delivered_at = np.where(delivered, timestamp + delay - delay % SECOND, np.iinfo(np.int64).min)

    # ---- referral: ~1 % of inbound rows, mostly openers of user episodes ------------------
    r = rng.random(n)
    referral = inbound & np.where(opener, r < 0.025, r < 0.002)

    # ---- order like an export sorted by time ------------------------------------------
    # (seconds, row) packed into one unique key: an unstable sort of it is a stable sort
    # by time, and SIMD quicksort is ~3x faster than NumPy's stable sort
    key = (timestamp - START) // SECOND * n + np.arange(n)
    order = np.argsort(key)
    del key
    # at-least-once delivery: a `repeat_rate` share of the messages logged twice in a row,
    # the copies pushing the last rows out so the log keeps n rows
    message = np.repeat(np.arange(n), 1 + (np.random.default_rng([seed, 1]).random(n) < repeat_rate))[:n]
    order = order[message]
    row_pair = row_pair[order]
    business_code = pair_business[row_pair]
    user_code = pair_user[row_pair]
    user_values = _phone_numbers(len(used_users), rng)

    datetime_dtype = f"datetime64[{time_unit}]"
    ts = timestamp[order].view("datetime64[ns]").astype(datetime_dtype)
    dl = delivered_at[order].view("datetime64[ns]").astype(datetime_dtype)  # int64 min -> NaT

    frame = pd.DataFrame(
        {
            "business": business_ids[business_code],
            "waba": waba_ids[business_waba[business_code]],
            "user": _string_series(user_code, user_values, "user", string_dtype),
            "timestamp": pd.DatetimeIndex(ts).tz_localize("UTC"),
            "direction": _string_series(outbound[order].astype(np.int64), ["inbound", "outbound"], "direction",
                                        string_dtype),
            "template_category": _string_series(category[order].astype(np.int64) - 1, TEMPLATE_CATEGORIES[1:],
                                                "template_category", string_dtype),
            "delivered_at": pd.DatetimeIndex(dl).tz_localize("UTC"),
            "referral": referral[order],
        }
    )
    if message_ids:
        ids = _message_ids(message, seed)
        frame.insert(0, "message_id", ids if string_dtype == "str" else ids.astype(object))
    return frame


def _message_ids(message: np.ndarray, seed: int) -> pd.Series:
    """``wamid.`` + 16 hex digits per message (splitmix64 of its number, a bijection): one id
    per message, shared by its repeated rows."""
    with np.errstate(over="ignore"):
        x = message.astype(np.uint64) + np.uint64((seed * 0x632BE59BD9B4E019 + 1) % 2**64)
        x = x * np.uint64(0x9E3779B97F4A7C15)
        x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        x = x ^ (x >> np.uint64(31))
    text = np.empty((len(message), 22), dtype=np.uint8)
    text[:, :6] = np.frombuffer(b"wamid.", dtype=np.uint8)
    text[:, 6:] = hex_digits(x)
    return fixed_width_strings(text, "message_id")


def describe(frame: pd.DataFrame) -> dict:
    """A few statistics showing the log looks like what the docstring promises."""
    out = frame["direction"] == "outbound"
    era_bounds = pd.to_datetime(["2022-02-01", "2023-06-01", "2025-07-01", "2026-10-01"], utc=True)
    when = frame["delivered_at"].where(out & frame["delivered_at"].notna(), frame["timestamp"])
    era = np.searchsorted(era_bounds.as_unit("ns").asi8, when.dt.as_unit("ns").array.asi8, side="right") - 1
    pairs = frame.groupby(["business", "user"], sort=False).size()
    return {
        "rows": len(frame),
        "businesses": int(frame["business"].nunique()),
        "wabas": int(frame["waba"].nunique()),
        "users": int(frame["user"].nunique()),
        "pairs": len(pairs),
        "rows_per_pair_mean": float(pairs.mean()),
        "rows_per_pair_p99": float(pairs.quantile(0.99)),
        "outbound_share": float(out.mean()),
        "undelivered_share_of_outbound": float(frame.loc[out, "delivered_at"].isna().mean()),
        "template_share_of_outbound": float(frame.loc[out, "template_category"].notna().mean()),
        "category_counts": {str(k): int(v) for k, v in frame["template_category"].value_counts(dropna=False).items()},
        "referral_share_of_inbound": float(frame.loc[~out, "referral"].mean()),
        "era_share": {name: float(np.mean(era == k)) for k, name in
                      enumerate(["cbp_v1", "cbp_v2", "pmp_v1", "pmp_v2"])},
        "first": str(frame["timestamp"].min()),
        "last": str(frame["timestamp"].max()),
        "memory_bytes": int(frame.memory_usage(deep=True).sum()),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("n_rows", type=int, nargs="?", default=1_000_000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    started = time.perf_counter()
    frame = make_log(args.n_rows, args.seed)
    elapsed = time.perf_counter() - started
    print(frame.head(10).to_string())
    print(frame.dtypes.to_string())
    print(f"generated {len(frame):,} rows in {elapsed:.2f} s")
    for key, value in describe(frame).items():
        print(f"  {key}: {value}")


if __name__ == "__main__":
    main()
