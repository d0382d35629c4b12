"""A slow, deliberately simple pure-Python reference model of SPEC §4 (phase 1).

It is written straight from the project's SPEC (§2, §3, §4, §6 free tier, §7) and the
numbered decisions in docs/rules.md, independently of the C++ engine, so that the two can be
compared on random inputs.  Everything is plain loops over lists and dicts; times are
integer nanoseconds since the Unix epoch (UTC).  Nothing here is optimised.

Besides phase 1 it applies the two pieces of phase 2 that change `pricing_type`:
the CBP free tier (decision 13) and `service_free_allowance` (decision 14).

Ties (decision 1) are broken everywhere by the same key: rows with a message id first, in
the ids' order (Python compares str by code point, which is UTF-8 byte order), then input
order.
"""

from datetime import date, datetime, timezone
from functools import lru_cache
from zoneinfo import ZoneInfo

NS = 10**9
HOUR = 3600 * NS
DAY = 24 * HOUR

# era name, first local day
ERA_STARTS = [
    ("cbp_v2", date(2023, 6, 1)),
    ("pmp_v1", date(2025, 7, 1)),
    ("pmp_v2", date(2026, 10, 1)),
]
ERAS = ("cbp_v1", "cbp_v2", "pmp_v1", "pmp_v2")

FEP_72H_FROM = date(2023, 3, 1)          # FEP window 24 h in cbp_v1 before this day
DIRECT_BILLING_BI_UNTIL = date(2023, 4, 4)  # direct_billing: BI conversations stop qualifying
MARKETING_LITE_FROM = date(2024, 10, 15)  # marketing_lite is its own category from this day
SERVICE_FREE_FROM = date(2024, 11, 1)     # cbp_v2 service conversations free from this day

TEMPLATE_CATEGORIES = ("marketing", "utility", "authentication", "marketing_lite")


# ---------------------------------------------------------------------------------------
# time zone helpers
# ---------------------------------------------------------------------------------------

def _local_date_of_second(tzname, second):
    return datetime.fromtimestamp(second, ZoneInfo(tzname)).date()


@lru_cache(maxsize=None)
def local_midnight(tzname, day):
    """First instant (ns UTC) whose local date in `tzname` is `day` or later.

    Found by bisection over whole seconds, so a nonexistent local midnight (a DST jump
    at 00:00) maps to the first instant of that local day."""
    guess = int(datetime(day.year, day.month, day.day, tzinfo=timezone.utc).timestamp())
    lo = guess - 3 * 86400   # local date < day here (offsets are < 1 day)
    hi = guess + 3 * 86400   # local date >= day here
    assert _local_date_of_second(tzname, lo) < day <= _local_date_of_second(tzname, hi)
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if _local_date_of_second(tzname, mid) >= day:
            hi = mid
        else:
            lo = mid
    return hi * NS


def local_month(tzname, ns):
    """(year, month) of the local calendar day containing instant `ns`."""
    d = _local_date_of_second(tzname, ns // NS)  # floor: sub-second part never changes the day
    return (d.year, d.month)


def before_local_day(tzname, ns, day):
    return ns < local_midnight(tzname, day)


def era_at(tzname, ns):
    era = "cbp_v1"  # also for anything before 2022-02-01
    for name, start in ERA_STARTS:
        if ns >= local_midnight(tzname, start):
            era = name
    return era


def model_of(era):
    return "CBP" if era.startswith("cbp") else "PMP"


def tie_key(message_id, index):
    """Decision 1: rows with a message id before rows without, ids as text, then input order."""
    return (0, str(message_id), index) if message_id is not None else (1, "", index)


# ---------------------------------------------------------------------------------------
# the model
# ---------------------------------------------------------------------------------------

def reference_classify(rows, *, rules="auto", timezones=None, anchor="delivered",
                       failed_freeform_opens_conversation=False, service_free_allowance=1000,
                       direct_billing=False, free_tier_conversations=1000):
    """rows: list of dicts with keys business (str|int), user (str), timestamp (int ns UTC),
    direction ("inbound"/"outbound"), template_category (None or "marketing"/"utility"/
    "authentication"/"marketing_lite"), delivered_at (int ns or None = undelivered),
    referral (bool), message_id (str or None), waba (str|int; default business),
    csw_refreshing (bool, default True), message_type (str or None; an inbound "system"
    row neither refreshes the CSW nor counts as a referral).
    Returns (messages, conversations, windows):
      messages: list (same order as rows) of dicts: era, pricing_model ("CBP"/"PMP"),
        conversation_id (int or None), pricing_category (str or None), pricing_type (str or None),
        opens_conversation, csw_open, policy_violation, duplicate (bools), charge_reason
        (str: docs/rules.md §Charge reasons, those phase 1 and the allowances decide)
      conversations: list of dicts: conversation_id, business, user, waba, era, category,
        pricing_type, start, end (int ns), n_messages, opened_by (row index)
      windows: list of dicts: kind ("customer_service"/"free_entry_point"), business, user, start, end
    """
    if rules != "auto" and rules not in ERAS:
        raise ValueError("unknown rules %r" % (rules,))
    if anchor not in ("delivered", "sent"):
        raise ValueError("unknown anchor %r" % (anchor,))
    timezones = timezones or {}

    # ---- normalise the rows ----------------------------------------------------------
    R = []
    for i, row in enumerate(rows):
        waba = row.get("waba")
        if waba is None:
            waba = row["business"]
        inbound = row["direction"] == "inbound"
        assert inbound or row["direction"] == "outbound"
        delivered_at = row.get("delivered_at")
        delivered = (not inbound) and delivered_at is not None
        send = row["timestamp"]
        eff = delivered_at if delivered else send       # effective time (decision 1)
        refreshing = row.get("csw_refreshing")
        if refreshing is None:
            refreshing = True
        system = inbound and row.get("message_type") == "system"   # not a user message
        template = None if inbound else row.get("template_category")  # decision 16
        tzname = timezones.get(waba, "UTC")
        R.append(dict(
            index=i, business=row["business"], user=row["user"], waba=waba, tz=tzname,
            inbound=inbound, outbound=not inbound, delivered=delivered, send=send, eff=eff,
            template=template, referral=bool(row.get("referral", False)) and not system,
            refreshing=bool(refreshing) and not system, message_id=row.get("message_id"),
            direction=row["direction"],
        ))

    # ---- era (decision 11) and duplicates (decision 15) -------------------------------
    messages = []
    seen = set()
    for r in R:
        era = rules if rules != "auto" else era_at(r["tz"], r["eff"])
        r["era"] = era
        duplicate = False
        if r["message_id"] is not None:
            key = (r["message_id"], r["direction"])
            duplicate = key in seen
            seen.add(key)
        r["duplicate"] = duplicate
        messages.append(dict(
            era=era, pricing_model=model_of(era), conversation_id=None,
            pricing_category=None, pricing_type=None, opens_conversation=False,
            csw_open=False, policy_violation=False, duplicate=duplicate,
            charge_reason="duplicate" if duplicate else None,
        ))

    # ---- group the (non-duplicate) rows by pair ---------------------------------------
    pairs = {}
    for r in R:
        if not r["duplicate"]:
            pairs.setdefault((r["business"], r["user"]), []).append(r)
    # decision 17: pairs in sorted order of user values, then business values
    pair_keys = sorted(pairs, key=lambda bu: (bu[1], bu[0]))

    conversations = []   # all conversations / FEP windows, in id order
    windows = []

    for business, user in pair_keys:
        prow = pairs[(business, user)]
        refresh_times = sorted(r["send"] for r in prow if r["inbound"] and r["refreshing"])

        def csw_open_at(t):
            # decision 2: asked at a time, over every refreshing inbound row of the pair
            return any(u <= t < u + DAY for u in refresh_times)

        # CSW windows: maximal unions of [t, t + 24 h)
        cur = None
        for t in refresh_times:
            if cur is not None and t <= cur[1]:
                cur[1] = max(cur[1], t + DAY)
            else:
                if cur is not None:
                    windows.append(dict(kind="customer_service", business=business,
                                        user=user, start=cur[0], end=cur[1]))
                cur = [t, t + DAY]
        if cur is not None:
            windows.append(dict(kind="customer_service", business=business, user=user,
                                start=cur[0], end=cur[1]))

        # processing order (decision 1): effective time, inbound first, then message id,
        # then input order
        order = sorted(prow, key=lambda r: (r["eff"], 0 if r["inbound"] else 1,
                                            tie_key(r["message_id"], r["index"])))

        # free entry point windows (decision 3), planned in their own order: referrals at
        # their time, delivered replies at their FEP time (PMP era: sent; CBP: delivered),
        # then processing order
        def fep_time(r):
            return r["send"] if r["inbound"] or model_of(r["era"]) == "PMP" else r["eff"]

        position = {r["index"]: k for k, r in enumerate(order)}
        fep_rows = [r for r in prow if (r["inbound"] and r["referral"])
                    or (r["outbound"] and r["delivered"])]
        fep_rows.sort(key=lambda r: (fep_time(r), position[r["index"]]))
        fep_windows = []  # in opening order: start, end, opener (a row), conv (once met)
        window_of = {}    # row index -> its window
        referrals = []    # eligible referrals: [time, used]
        for r in fep_rows:
            t = fep_time(r)
            inside = bool(fep_windows) and t < fep_windows[-1]["end"]
            if r["inbound"]:
                if not inside:     # a referral inside an open window changes nothing
                    referrals.append([t, False])
                continue
            if inside:
                window_of[r["index"]] = fep_windows[-1]
                continue
            candidates = [ref for ref in referrals if ref[0] <= r["send"]]
            if candidates and r["send"] < candidates[-1][0] + DAY and not candidates[-1][1]:
                candidates[-1][1] = True
                pmp = model_of(r["era"]) == "PMP"
                start = r["send"] if pmp or anchor == "sent" else r["eff"]
                length = 72 * HOUR
                if r["era"] == "cbp_v1" and before_local_day(r["tz"], start, FEP_72H_FROM):
                    length = 24 * HOUR
                fep_windows.append(dict(start=start, end=start + length, opener=r, conv=None))
                window_of[r["index"]] = fep_windows[-1]

        convs = []        # this pair's conversations and FEP windows, in the order met

        def open_conv(kind, category, ptype, start, end, opener):
            c = dict(conversation_id=len(conversations), kind=kind, business=business,
                     user=user, waba=opener["waba"], tz=opener["tz"], era=opener["era"],
                     category=category, pricing_type=ptype, start=start, end=end,
                     opened_by=opener["index"],
                     opener_message_id=opener["message_id"], members=[])
            conversations.append(c)
            convs.append(c)
            messages[opener["index"]]["opens_conversation"] = True
            return c

        def join(c, r):
            c["members"].append(r["index"])

        for r in order:
            m = messages[r["index"]]
            eff, send, era = r["eff"], r["send"], r["era"]
            m["csw_open"] = csw_open_at(eff)

            if r["inbound"]:
                m["charge_reason"] = "inbound"
                continue

            # ---- outbound ----
            if r["template"] is None and not csw_open_at(send):
                m["policy_violation"] = True

            if not r["delivered"]:
                # rows that open a conversation get their reason with its members, below
                m["charge_reason"] = "policy_violation" if m["policy_violation"] else "undelivered"
                if (failed_freeform_opens_conversation and era == "cbp_v1"
                        and r["template"] is None and not csw_open_at(send)
                        and not any(send < c["end"] for c in convs)
                        and any(send < t < send + DAY for t in refresh_times)):
                    join(open_conv("cbp", "business_initiated", "regular", send, send + DAY, r), r)
                continue

            # 1. inside a free entry point window (numbered when first met: under PMP a
            # member sent after the opener may be delivered before it)
            w = window_of.get(r["index"])
            if w is not None:
                if w["conv"] is None:
                    w["conv"] = open_conv("fep", "referral_conversion", "free_entry_point",
                                          w["start"], w["end"], w["opener"])
                if r is w["opener"] and model_of(era) == "CBP":
                    # decision 4: every CBP conversation opened so far whose end is later
                    # than the FEP start ends there, or at its own start if it starts
                    # later (with anchor="sent" the FEP start may precede this row's
                    # effective time and conversations opened before it)
                    for c in convs:
                        if c["kind"] == "cbp" and c["end"] > w["start"]:
                            c["end"] = max(c["start"], w["start"])
                join(w["conv"], r)
                continue

            open_cbp = [c for c in convs if c["kind"] == "cbp" and eff < c["end"]]
            start = send if anchor == "sent" else eff

            # 3. transition (decision 10)
            if model_of(era) == "PMP" and r["template"] == "utility":
                utility = [c for c in open_cbp if c["category"] == "utility"]
                if utility:
                    join(utility[-1], r)
                    m["pricing_model"] = "CBP"
                    continue

            # 4. the era's own rules
            if era == "cbp_v1":
                if open_cbp:
                    join(max(open_cbp, key=lambda c: (c["start"], c["conversation_id"])), r)
                else:
                    cat = "user_initiated" if csw_open_at(send) else "business_initiated"
                    join(open_conv("cbp", cat, "regular", start, start + DAY, r), r)
            elif era == "cbp_v2":
                cat = r["template"]
                if cat == "marketing_lite" and before_local_day(r["tz"], eff, MARKETING_LITE_FROM):
                    cat = "marketing"    # decision 7
                if cat is not None:
                    same = [c for c in open_cbp if c["category"] == cat]
                    if same:
                        join(same[-1], r)
                    else:
                        join(open_conv("cbp", cat, "regular", start, start + DAY, r), r)
                else:
                    service = [c for c in open_cbp if c["category"] == "service"]
                    if service:
                        join(service[-1], r)
                    elif open_cbp:
                        join(max(open_cbp, key=lambda c: (c["start"], c["conversation_id"])), r)
                    else:
                        ptype = ("regular" if before_local_day(r["tz"], start, SERVICE_FREE_FROM)
                                 else "free_customer_service")   # decision 12
                        join(open_conv("cbp", "service", ptype, start, start + DAY, r), r)
            elif era == "pmp_v1":
                if r["template"] is None:
                    m["pricing_category"], m["pricing_type"] = "service", "free_customer_service"
                    m["charge_reason"] = "free_service"
                elif r["template"] == "utility":
                    m["pricing_category"] = "utility"
                    in_csw = csw_open_at(eff)
                    m["pricing_type"] = "free_customer_service" if in_csw else "regular"
                    m["charge_reason"] = "customer_service_window" if in_csw else "charged_message"
                else:
                    m["pricing_category"], m["pricing_type"] = r["template"], "regular"
                    m["charge_reason"] = "charged_message"
            else:  # pmp_v2
                m["pricing_category"] = r["template"] if r["template"] is not None else "service"
                m["pricing_type"] = "regular"
                m["charge_reason"] = "charged_message"

        # FEP windows of the pair
        for c in convs:
            if c["kind"] == "fep":
                windows.append(dict(kind="free_entry_point", business=business, user=user,
                                    start=c["start"], end=c["end"]))

    # ---- free tier (decision 13) ------------------------------------------------------
    buckets = {}
    for c in conversations:
        if c["kind"] != "cbp":
            continue
        eligible = False
        if c["era"] == "cbp_v1":
            eligible = True
            if (direct_billing and c["category"] == "business_initiated"
                    and not before_local_day(c["tz"], c["start"], DIRECT_BILLING_BI_UNTIL)):
                eligible = False
        elif c["era"] == "cbp_v2":
            eligible = (c["category"] == "service"
                        and before_local_day(c["tz"], c["start"], SERVICE_FREE_FROM))
        if eligible:
            key = (c["waba"], local_month(c["tz"], c["start"]))
            buckets.setdefault(key, []).append(c)
    for key in buckets:
        # equal starts: the opening rows' tie order (decision 1), not conversation ids,
        # which a cluster numbers differently (SPEC §9)
        ranked = sorted(buckets[key], key=lambda c: (c["start"],
                                                     tie_key(c["opener_message_id"], c["opened_by"])))
        for c in ranked[:free_tier_conversations]:
            c["pricing_type"] = "free_tier"

    # ---- rows of conversations carry the conversation's category and type (decision 5)
    for c in conversations:
        for i in c["members"]:
            m = messages[i]
            m["conversation_id"] = c["conversation_id"]
            m["pricing_category"] = c["category"]
            m["pricing_type"] = c["pricing_type"]
            if c["kind"] == "fep":
                m["charge_reason"] = "free_entry_point"
            elif i != c["opened_by"]:
                m["charge_reason"] = "joined_conversation"
            else:
                m["charge_reason"] = {"regular": "opened_conversation", "free_tier": "free_tier",
                                      "free_customer_service": "free_service"}[c["pricing_type"]]

    # ---- service_free_allowance (decision 14) -----------------------------------------
    if service_free_allowance > 0:
        buckets = {}
        for r in R:
            m = messages[r["index"]]
            if (not r["duplicate"] and r["delivered"] and r["era"] == "pmp_v2"
                    and m["pricing_category"] == "service" and m["pricing_type"] == "regular"):
                key = (r["business"], local_month(r["tz"], r["eff"]))
                buckets.setdefault(key, []).append(r)
        for key in buckets:
            ranked = sorted(buckets[key], key=lambda r: (r["eff"], tie_key(r["message_id"], r["index"])))
            for r in ranked[:service_free_allowance]:
                messages[r["index"]]["pricing_type"] = "free_customer_service"
                messages[r["index"]]["charge_reason"] = "service_allowance"

    conv_out = [dict(conversation_id=c["conversation_id"], business=c["business"],
                     user=c["user"], waba=c["waba"], era=c["era"], category=c["category"],
                     pricing_type=c["pricing_type"], start=c["start"], end=c["end"],
                     n_messages=len(c["members"]), opened_by=c["opened_by"])
                for c in conversations]
    windows.sort(key=lambda w: (w["user"], w["business"], w["kind"], w["start"]))
    return messages, conv_out, windows
