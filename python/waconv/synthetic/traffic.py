"""The traffic model behind :func:`waconv.synthetic.events`: who writes when, what arrives.

Vectorised in stages, each a handful of NumPy calls over all rows at once:
users and their (business, user) pairs -> episodes (user-initiated exchanges, campaign
sends, notifications) -> rows of each episode (direction, time gaps, template category)
-> the customer service window at each send (to reject free-form messages outside it, as
Meta does) -> delivery receipts -> rows in time order.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from waconv.synthetic.tools import (
    DAY,
    HOUR,
    MINUTE,
    NAT,
    SECOND,
    mixture,
    phone_numbers,
    segment_arange,
    segment_cumsum,
    unique_sorted,
)

# (ISO country, E.164 prefix with leading national digits, share of users, digits after the
# prefix). Prefixes never extend one another, so numbers of different ranges never collide.
COUNTRIES: list[tuple[str, str, float, int]] = [
    ("BR", "+5511", 0.10, 9), ("BR", "+5521", 0.04, 9),
    ("IN", "+9198", 0.08, 8), ("IN", "+9170", 0.05, 8),
    ("US", "+1415", 0.04, 7), ("US", "+1212", 0.04, 7),
    ("MX", "+5255", 0.06, 8), ("ID", "+62812", 0.06, 8),
    ("CO", "+57300", 0.03, 7), ("AR", "+54911", 0.03, 8),
    ("DO", "+1809", 0.01, 7),  # a +1 area code outside North America
    ("GB", "+447", 0.03, 9), ("DE", "+4915", 0.04, 9),
    ("ES", "+346", 0.03, 8), ("IT", "+393", 0.02, 9), ("FR", "+336", 0.02, 8),
    ("NG", "+234803", 0.03, 7), ("ZA", "+2772", 0.02, 7), ("EG", "+20100", 0.02, 7),
    ("AE", "+9715", 0.02, 8), ("SA", "+9665", 0.02, 8), ("TR", "+90532", 0.02, 7),
    ("PK", "+923", 0.02, 9), ("RU", "+7916", 0.01, 7),
]

# (WABA id, IANA time zone, home country): business k belongs to WABAS[k % 6]
WABAS: list[tuple[str, str, str]] = [
    ("waba-br", "America/Sao_Paulo", "BR"),
    ("waba-in", "Asia/Kolkata", "IN"),
    ("waba-us", "America/New_York", "US"),
    ("waba-mx", "America/Mexico_City", "MX"),
    ("waba-id", "Asia/Jakarta", "ID"),
    ("waba-de", "Europe/Berlin", "DE"),
]

NONE, MARKETING, UTILITY, AUTHENTICATION, MARKETING_LITE = range(5)  # template category codes
SENT, DELIVERED, READ, FAILED = range(4)  # status codes (-1: inbound, no status)
USER, CAMPAIGN, NOTIFICATION = range(3)  # episode kinds

MARKETING_LITE_FROM = pd.Timestamp("2024-10-15", tz="UTC").value
US_MARKETING_PAUSE_FROM = pd.Timestamp("2025-04-01", tz="UTC").value

# Rates per (business, user) pair and day unless stated.
USER_EPISODES_PER_DAY = 0.1  # mean; gamma-distributed across pairs (a few chatty users)
NOTIFICATIONS_PER_DAY = 0.04
CAMPAIGN_DAY_SHARE = 0.3  # a business sends a campaign on ~30 % of days
CAMPAIGN_REACH = 0.4  # share of a business's users each campaign reaches
HOME_PREFERENCE = 8.0  # users from a business's home country pick it 9x as often
SECOND_BUSINESS_SHARE = 0.3  # drawn again; ~half the draws hit the first business
READ_SHARE = 0.7  # delivered messages that are also read


@dataclass
class Traffic:
    """Row arrays in time order (codes as in the constants above) and the user numbers."""

    business: np.ndarray
    user: np.ndarray
    timestamp: np.ndarray  # int64 ns UTC, whole seconds
    outbound: np.ndarray
    category: np.ndarray
    delivered_at: np.ndarray  # int64 ns, NAT when undelivered or inbound
    status: np.ndarray
    referral: np.ndarray
    user_numbers: list[str]
    n_businesses: int


def _pick_business(rng: np.random.Generator, user_range: np.ndarray, n_businesses: int) -> np.ndarray:
    """One business per user: Zipf-like sizes, strongly preferring home-country businesses."""
    size = 1.0 / np.arange(1, n_businesses + 1) ** 0.8
    range_iso = np.array([c[0] for c in COUNTRIES])
    home_iso = np.array([WABAS[b % len(WABAS)][2] for b in range(n_businesses)])
    weight = size[None, :] * (1 + HOME_PREFERENCE * (range_iso[:, None] == home_iso[None, :]))
    cumulative = np.cumsum(weight / weight.sum(axis=1, keepdims=True), axis=1)
    cumulative[:, -1] = 1.0
    # one searchsorted over all rows of the table: row c is shifted by c
    flat = (cumulative + np.arange(len(COUNTRIES))[:, None]).ravel()
    drawn = np.searchsorted(flat, user_range + rng.random(len(user_range)), side="right")
    return np.minimum(drawn - user_range * n_businesses, n_businesses - 1)


def _pairs(rng: np.random.Generator, n_users: int, n_businesses: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """User ranges (COUNTRIES rows) and the distinct (business, user) pairs."""
    shares = np.array([c[2] for c in COUNTRIES])
    user_range = rng.choice(len(COUNTRIES), size=n_users, p=shares / shares.sum())
    users = np.arange(n_users)
    first = _pick_business(rng, user_range, n_businesses)
    second = _pick_business(rng, user_range, n_businesses)
    extra = (rng.random(n_users) < SECOND_BUSINESS_SHARE) & (second != first)
    pair_user = np.concatenate([users, users[extra]])
    pair_business = np.concatenate([first, second[extra]])
    return user_range, pair_user, pair_business


def _campaigns(rng: np.random.Generator, start_ns: int, days: int, n_businesses: int) -> tuple[np.ndarray, np.ndarray]:
    """Campaign send times (ns) and businesses: some days, at the business's local hour."""
    times, owners = [], []
    local_dates = pd.date_range(pd.Timestamp(start_ns).date(), periods=days + 1, freq="D")
    for b in range(n_businesses):  # a few businesses: the loop is over them, not rows
        at = pd.Timedelta(hours=int(rng.integers(10, 19)), minutes=15 * int(rng.integers(0, 4)))
        chosen = local_dates[rng.random(len(local_dates)) < CAMPAIGN_DAY_SHARE] + at
        utc = chosen.tz_localize(WABAS[b % len(WABAS)][1]).tz_convert("UTC").as_unit("ns").asi8
        utc = utc[(utc >= start_ns) & (utc < start_ns + days * DAY)]
        times.append(utc)
        owners.append(np.full(len(utc), b))
    return np.concatenate(times), np.concatenate(owners)


def _episodes(rng: np.random.Generator, start_ns: int, days: int, pair_business: np.ndarray, n_businesses: int,
              referral_rate: float) -> tuple[np.ndarray, ...]:
    """Episode arrays: pair, kind, start (ns), number of rows, opening category, referral."""
    n_pairs = len(pair_business)
    span = days * DAY

    activity = rng.gamma(0.8, USER_EPISODES_PER_DAY / 0.8, n_pairs) * days
    user_pair = np.repeat(np.arange(n_pairs), rng.poisson(activity))
    note_pair = np.repeat(np.arange(n_pairs), rng.poisson(NOTIFICATIONS_PER_DAY * days, n_pairs))

    campaign_time, campaign_owner = _campaigns(rng, start_ns, days, n_businesses)
    per_business = np.bincount(campaign_owner, minlength=n_businesses)
    first_campaign = np.cumsum(per_business) - per_business
    received = rng.binomial(per_business[pair_business], CAMPAIGN_REACH)
    receiver = np.repeat(np.arange(n_pairs), received)
    which = rng.integers(0, np.maximum(per_business[pair_business[receiver]], 1))
    most = max(int(per_business.max(initial=0)), 1)
    key = unique_sorted(receiver * most + which)  # a pair gets each campaign at most once
    camp_pair, which = key // most, key % most
    blast = rng.integers(0, 180, len(key)) * SECOND  # a campaign goes out over three minutes
    camp_start = campaign_time[first_campaign[pair_business[camp_pair]] + which] + blast

    pair = np.concatenate([user_pair, camp_pair, note_pair])
    kind = np.repeat([USER, CAMPAIGN, NOTIFICATION], [len(user_pair), len(camp_pair), len(note_pair)])
    e = len(pair)
    start = np.empty(e, dtype=np.int64)
    start[kind != CAMPAIGN] = start_ns + (rng.random(len(user_pair) + len(note_pair)) * span).astype(np.int64)
    start[kind == CAMPAIGN] = camp_start

    r = rng.random(e)
    category = np.where(kind == CAMPAIGN, MARKETING, np.where(r < 0.7, UTILITY, AUTHENTICATION))
    category[(kind == CAMPAIGN) & (r < 0.2) & (start >= MARKETING_LITE_FROM)] = MARKETING_LITE
    category[kind == USER] = NONE
    replies = rng.geometric(np.where(kind == CAMPAIGN, 1 / 4, 1 / 3))
    r = rng.random(e)
    replied = ((kind == CAMPAIGN) & (r < 0.2)) | ((kind == NOTIFICATION) & (category == UTILITY) & (r < 0.12))
    rows = np.where(kind == USER, np.minimum(rng.geometric(1 / 7, e), 60), 1 + np.where(replied, replies, 0))
    referral = (kind == USER) & (rng.random(e) < referral_rate)
    return pair, kind, start, rows, category, referral


def _rows(rng: np.random.Generator, ep_kind: np.ndarray, ep_start: np.ndarray, ep_rows: np.ndarray,
          ep_category: np.ndarray, ep_referral: np.ndarray) -> tuple[np.ndarray, ...]:
    """Per-row episode index, direction, timestamp, template category and referral flag."""
    row_ep = np.repeat(np.arange(len(ep_rows)), ep_rows)
    pos = segment_arange(ep_rows)
    kind = ep_kind[row_ep]
    n = len(row_ep)
    user_led = kind == USER
    # user exchanges start with an inbound burst; templates get a reply, then back-and-forth
    p_inbound = np.array([[0.0, 1.0, 0.45, 0.45],  # campaign / notification, by position 0, 1, 2, 3+
                          [1.0, 0.5, 0.4, 0.45]])  # user-initiated
    inbound = rng.random(n) < p_inbound[user_led.astype(np.intp), np.minimum(pos, 3)]
    outbound = ~inbound

    gap = np.zeros(n, dtype=np.int64)
    answer = outbound & (pos > 0)
    gap[answer] = mixture(rng, int(answer.sum()), [
        (0.70, lambda k: 5 * SECOND + rng.exponential(90 * SECOND, k)),  # a quick reply
        (0.17, lambda k: rng.exponential(2 * HOUR, k)),  # later the same day
        (0.08, lambda k: rng.uniform(20 * HOUR, 30 * HOUR, k)),  # around the window's end
        (0.05, lambda k: rng.uniform(36 * HOUR, 5 * DAY, k)),  # days later
    ])
    # a business writing a day or more later re-engages the user, who answers it
    follows_late = np.zeros(n, dtype=bool)
    follows_late[1:] = answer[:-1] & (gap[:-1] >= 20 * HOUR) & (pos[1:] > 0)
    inbound |= follows_late
    outbound = ~inbound
    answer = outbound & (pos > 0)
    reply = inbound & (((pos == 1) & ~user_led) | follows_late)  # a user answering a template
    gap[reply] = 30 * SECOND + rng.exponential(2 * HOUR, int(reply.sum())).astype(np.int64)
    chat = inbound & (pos > 0) & ~reply
    gap[chat] = mixture(rng, int(chat.sum()), [
        (0.82, lambda k: SECOND + rng.exponential(40 * SECOND, k)),  # bursts
        (0.15, lambda k: rng.exponential(HOUR, k)),
        (0.03, lambda k: rng.uniform(DAY, 4 * DAY, k)),  # the user comes back days later
    ])
    first = np.cumsum(ep_rows) - ep_rows
    timestamp = ep_start[row_ep] + segment_cumsum(gap, row_ep, first)
    timestamp -= timestamp % SECOND  # webhook timestamps are whole seconds

    category = np.where(pos == 0, ep_category[row_ep], NONE).astype(np.int8)
    r = rng.random(n)
    late = answer & (gap >= 20 * HOUR)  # usually re-engaged with a template
    category[late & (r < 0.5)] = UTILITY
    category[late & (r >= 0.5) & (r < 0.8)] = MARKETING
    prompt = answer & ~late
    category[prompt & (r < 0.06)] = UTILITY
    category[prompt & (r >= 0.06) & (r < 0.08)] = MARKETING
    category[prompt & (r >= 0.08) & (r < 0.09)] = AUTHENTICATION
    referral = (pos == 0) & ep_referral[row_ep]
    return row_ep, outbound, timestamp, category, referral


def _csw_open_at_send(pair: np.ndarray, timestamp: np.ndarray, outbound: np.ndarray, start_ns: int) -> np.ndarray:
    """Whether an inbound row of the pair has t <= timestamp < t + 24 h (docs/rules.md
    §Customer service window)."""
    seconds = (timestamp - start_ns) // SECOND
    base = pair.astype(np.int64) << 34  # 2^34 s > 500 years: pairs never overlap
    stamp = base + seconds
    order = np.argsort(stamp * 2 + outbound)  # inbound first at equal seconds: t <= send counts
    stamp, base = stamp[order], base[order]
    last_inbound = np.maximum.accumulate(np.where(outbound[order], -1, stamp))
    open_sorted = (last_inbound >= base) & (stamp - last_inbound < 86_400)
    out = np.empty(len(order), dtype=bool)
    out[order] = open_sorted
    return out


def _delivery(rng: np.random.Generator, outbound: np.ndarray, category: np.ndarray, timestamp: np.ndarray,
              us_user: np.ndarray, csw_open: np.ndarray, failure_rate: float,
              lost_receipt_rate: float) -> tuple[np.ndarray, np.ndarray]:
    """delivered_at (ns or NAT) and status codes (-1 for inbound rows) of every row."""
    out = np.flatnonzero(outbound)  # draws only for outbound rows
    k = len(out)
    category, timestamp = category[out], timestamp[out]
    rejected = (category == NONE) & ~csw_open[out]  # Meta error 131047
    marketing = (category == MARKETING) | (category == MARKETING_LITE)
    paused = us_user[out] & marketing & (timestamp >= US_MARKETING_PAUSE_FROM)  # Meta stopped delivering
    r = rng.random(k)
    lost = r < failure_rate
    delivered = ~(rejected | paused | lost)
    delay = mixture(rng, k, [
        (0.85, lambda size: rng.lognormal(np.log(2.0), 0.8, size) * SECOND),  # a few seconds
        (0.15, lambda size: rng.uniform(30, 1800, size) * SECOND),  # phone offline: up to half an hour
    ])
    delivered_time = timestamp + delay - delay % SECOND
    read_time = delivered_time + SECOND + rng.exponential(20 * MINUTE, k).astype(np.int64) // SECOND * SECOND
    read = rng.random(k) < READ_SHARE
    receipt_lost = delivered & (rng.random(k) < lost_receipt_rate)  # only the read receipt came
    status = np.where(delivered, np.where(read | receipt_lost, READ, DELIVERED), FAILED).astype(np.int8)
    status[lost & ~(rejected | paused) & (r < failure_rate / 3)] = SENT  # no receipt ever came
    delivered_at = np.full(len(outbound), NAT, dtype=np.int64)
    delivered_at[out] = np.where(delivered, np.where(receipt_lost, read_time, delivered_time), NAT)
    all_status = np.full(len(outbound), -1, dtype=np.int8)
    all_status[out] = status
    return delivered_at, all_status


def generate(*, n_users: int, days: int, start_ns: int, n_businesses: int, referral_rate: float,
             failure_rate: float, lost_receipt_rate: float, traffic_rng: np.random.Generator,
             delivery_rng: np.random.Generator) -> Traffic:
    """All rows of a synthetic log, in time order (see :mod:`waconv.synthetic`)."""
    rng = traffic_rng
    user_range, pair_user, pair_business = _pairs(rng, n_users, n_businesses)
    ep_pair, ep_kind, ep_start, ep_rows, ep_category, ep_referral = _episodes(
        rng, start_ns, days, pair_business, n_businesses, referral_rate)
    row_ep, outbound, timestamp, category, referral = _rows(rng, ep_kind, ep_start, ep_rows, ep_category, ep_referral)
    keep = timestamp < start_ns + days * DAY  # late replies of the last days fall outside the log
    pair = ep_pair[row_ep[keep]]
    outbound, timestamp, category, referral = outbound[keep], timestamp[keep], category[keep], referral[keep]
    del row_ep, keep

    user_numbers = phone_numbers(user_range, [(prefix, digits) for _, prefix, _, digits in COUNTRIES], rng)
    us_range = np.array([c[0] == "US" for c in COUNTRIES])
    us_user = us_range[user_range[pair_user[pair]]]
    csw_open = _csw_open_at_send(pair, timestamp, outbound, start_ns)
    delivered_at, status = _delivery(delivery_rng, outbound, category, timestamp, us_user, csw_open,
                                     failure_rate, lost_receipt_rate)

    # like an export: by time; (seconds, row) packed into one unique key, so an unstable
    # sort of it is a stable sort by time
    n = len(timestamp)
    order = np.argsort((timestamp - start_ns) // SECOND * max(n, 1) + np.arange(n))
    pair = pair[order]
    return Traffic(
        business=pair_business[pair],
        user=pair_user[pair],
        timestamp=timestamp[order],
        outbound=outbound[order],
        category=category[order],
        delivered_at=delivered_at[order],
        status=status[order],
        referral=referral[order],
        user_numbers=user_numbers,
        n_businesses=n_businesses,
    )
