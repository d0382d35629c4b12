"""Unit tests of the pure-Python reference model (tests/reference_model.py) itself:
SPEC §8 worked examples and one or more tests per rule of SPEC §4 / the decisions in
docs/rules.md."""

import os
import sys
from datetime import date, datetime, timezone

import pytest

sys.path.insert(0, os.path.dirname(__file__))

from reference_model import DAY, HOUR, local_midnight, reference_classify  # noqa: E402

MIN = HOUR // 60
_SAME = object()


def T(text):
    """'2023-07-03 04:00' (UTC) -> int ns."""
    dt = datetime.strptime(text, "%Y-%m-%d %H:%M").replace(tzinfo=timezone.utc)
    return int(dt.timestamp()) * 10**9


def inb(t, user="u1", business="b1", referral=False, **kw):
    return dict(business=business, user=user, timestamp=t, direction="inbound",
                template_category=None, delivered_at=None, referral=referral, **kw)


def out(t, cat=None, delivered=_SAME, user="u1", business="b1", **kw):
    return dict(business=business, user=user, timestamp=t, direction="outbound",
                template_category=cat, delivered_at=t if delivered is _SAME else delivered,
                referral=False, **kw)


def kinds(messages, *fields):
    return [tuple(m[f] for f in fields) for m in messages]


def ct(messages):
    """(pricing_category, pricing_type) per row."""
    return kinds(messages, "pricing_category", "pricing_type")


# --------------------------------------------------------------------------- SPEC §8


def test_worked_example_cbp_v2():
    h = lambda n: T("2023-07-03 00:00") + n * HOUR  # noqa: E731
    rows = [out(h(0), "marketing"), inb(h(4)), out(h(5)), out(h(25)), out(h(26))]
    msgs, convs, wins = reference_classify(rows)
    assert [m["era"] for m in msgs] == ["cbp_v2"] * 5
    assert [m["pricing_model"] for m in msgs] == ["CBP"] * 5
    assert [m["conversation_id"] for m in msgs] == [0, None, 0, 1, 1]
    assert ct(msgs) == [("marketing", "regular"), (None, None), ("marketing", "regular"),
                        ("service", "free_tier"), ("service", "free_tier")]
    assert [m["opens_conversation"] for m in msgs] == [True, False, False, True, False]
    assert [m["csw_open"] for m in msgs] == [False, True, True, True, True]
    assert not any(m["policy_violation"] for m in msgs)
    assert convs == [
        dict(conversation_id=0, business="b1", user="u1", waba="b1", era="cbp_v2",
             category="marketing", pricing_type="regular", start=h(0), end=h(24),
             n_messages=2, opened_by=0),
        dict(conversation_id=1, business="b1", user="u1", waba="b1", era="cbp_v2",
             category="service", pricing_type="free_tier", start=h(25), end=h(49),
             n_messages=2, opened_by=3),
    ]
    assert wins == [dict(kind="customer_service", business="b1", user="u1",
                         start=h(4), end=h(28))]
    # without a free tier the service conversation is charged
    msgs, convs, _ = reference_classify(rows, free_tier_conversations=0)
    assert [c["pricing_type"] for c in convs] == ["regular", "regular"]
    assert ct(msgs)[3:] == [("service", "regular")] * 2


def _pmp_flow(base):
    h = lambda n: base + n * HOUR  # noqa: E731
    return [out(h(0), "marketing"), inb(h(2)), out(h(3)), out(h(4), "utility"),
            out(h(30), "utility")]


def test_worked_example_pmp_v1():
    rows = _pmp_flow(T("2025-08-04 00:00"))
    msgs, convs, wins = reference_classify(rows)
    assert [m["era"] for m in msgs] == ["pmp_v1"] * 5
    assert [m["pricing_model"] for m in msgs] == ["PMP"] * 5
    assert ct(msgs) == [("marketing", "regular"), (None, None),
                        ("service", "free_customer_service"),
                        ("utility", "free_customer_service"), ("utility", "regular")]
    assert [m["conversation_id"] for m in msgs] == [None] * 5
    assert not any(m["opens_conversation"] for m in msgs)
    assert [m["csw_open"] for m in msgs] == [False, True, True, True, False]
    assert convs == []
    assert len(wins) == 1 and wins[0]["end"] - wins[0]["start"] == DAY
    assert sum(m["pricing_type"] == "regular" for m in msgs) == 2


def test_worked_example_pmp_v2():
    # Meta's example predates the service allowance: with it off, four charges
    rows = _pmp_flow(T("2026-10-05 00:00"))
    msgs, convs, _ = reference_classify(rows, service_free_allowance=0)
    assert [m["era"] for m in msgs] == ["pmp_v2"] * 5
    assert ct(msgs) == [("marketing", "regular"), (None, None), ("service", "regular"),
                        ("utility", "regular"), ("utility", "regular")]
    assert sum(m["pricing_type"] == "regular" for m in msgs) == 4
    assert convs == []
    # by default the text is the month's first service message of the number: free
    msgs, _, _ = reference_classify(rows)
    assert ct(msgs) == [("marketing", "regular"), (None, None),
                        ("service", "free_customer_service"),
                        ("utility", "regular"), ("utility", "regular")]


# --------------------------------------------------------------------------- eras (§3)


def test_era_boundaries_utc_and_before_2022():
    rows = [out(T("2021-06-01 00:00"), "marketing", user="a"),
            out(T("2022-01-31 23:59"), "marketing", user="b"),
            out(T("2022-02-01 00:00"), "marketing", user="c"),
            out(T("2023-05-31 23:59"), "marketing", user="d"),
            out(T("2023-06-01 00:00"), "marketing", user="e"),
            out(T("2025-06-30 23:59"), "marketing", user="f"),
            out(T("2025-07-01 00:00"), "marketing", user="g"),
            out(T("2026-09-30 23:59"), "marketing", user="h"),
            out(T("2026-10-01 00:00"), "marketing", user="i")]
    msgs, _, _ = reference_classify(rows)
    assert [m["era"] for m in msgs] == ["cbp_v1", "cbp_v1", "cbp_v1", "cbp_v1", "cbp_v2",
                                        "cbp_v2", "pmp_v1", "pmp_v1", "pmp_v2"]
    assert [m["pricing_model"] for m in msgs] == ["CBP"] * 6 + ["PMP"] * 3


def test_era_by_delivery_time_for_delivered_rows_else_timestamp():
    sent = T("2025-06-30 23:00")
    rows = [out(sent, "marketing", delivered=T("2025-07-01 01:00"), user="a"),
            out(sent, "marketing", delivered=None, user="b"),
            inb(T("2025-06-30 23:30"), user="c")]
    msgs, _, _ = reference_classify(rows)
    assert [m["era"] for m in msgs] == ["pmp_v1", "cbp_v2", "cbp_v2"]
    assert ct(msgs) == [("marketing", "regular"), (None, None), (None, None)]


def test_sao_paulo_time_zone_shifts_era_boundary():
    # 2025-07-01 00:00 in Sao Paulo (UTC-3) is 03:00 UTC
    rows = [out(T("2025-07-01 01:00"), "marketing", user="a", waba="w"),
            out(T("2025-07-01 02:59"), "marketing", user="b", waba="w"),
            out(T("2025-07-01 03:00"), "marketing", user="c", waba="w")]
    msgs, convs, _ = reference_classify(rows, timezones={"w": "America/Sao_Paulo"})
    assert [m["era"] for m in msgs] == ["cbp_v2", "cbp_v2", "pmp_v1"]
    assert [m["pricing_model"] for m in msgs] == ["CBP", "CBP", "PMP"]
    assert [m["conversation_id"] for m in msgs] == [0, 1, None]
    assert [c["waba"] for c in convs] == ["w", "w"]
    # in UTC (no entry for the WABA) all three are pmp_v1
    msgs, convs, _ = reference_classify(rows, timezones={"other": "America/Sao_Paulo"})
    assert [m["era"] for m in msgs] == ["pmp_v1"] * 3 and convs == []
    # the time zone of the row's own WABA applies
    rows2 = [dict(r, waba="x") for r in rows]
    msgs, _, _ = reference_classify(rows2, timezones={"w": "America/Sao_Paulo"})
    assert [m["era"] for m in msgs] == ["pmp_v1"] * 3


def test_local_midnight_nonexistent_maps_to_first_instant_of_day():
    # Sao Paulo DST began at 00:00 local on 2018-11-04 (clocks jumped to 01:00, -02:00)
    assert local_midnight("America/Sao_Paulo", date(2018, 11, 4)) == T("2018-11-04 03:00")
    assert local_midnight("America/Sao_Paulo", date(2025, 7, 1)) == T("2025-07-01 03:00")
    assert local_midnight("UTC", date(2025, 7, 1)) == T("2025-07-01 00:00")
    assert local_midnight("Asia/Kolkata", date(2025, 7, 1)) == T("2025-06-30 18:30")


def test_forced_rules_apply_to_every_row():
    rows = _pmp_flow(T("2025-08-04 00:00"))
    msgs, convs, _ = reference_classify(rows, rules="cbp_v2")
    assert [m["era"] for m in msgs] == ["cbp_v2"] * 5
    # h3 text joins the open marketing conversation; utility opens its own
    assert [c["category"] for c in convs] == ["marketing", "utility", "utility"]
    assert [m["conversation_id"] for m in msgs] == [0, None, 0, 1, 2]
    assert [c["pricing_type"] for c in convs] == ["regular"] * 3
    msgs, convs, _ = reference_classify(rows, rules="cbp_v1")
    assert [m["era"] for m in msgs] == ["cbp_v1"] * 5
    assert [c["category"] for c in convs] == ["business_initiated", "business_initiated"]
    assert [c["pricing_type"] for c in convs] == ["free_tier"] * 2
    msgs, _, _ = reference_classify(_pmp_flow(T("2023-07-03 00:00")), rules="pmp_v2",
                                    service_free_allowance=0)
    assert [m["era"] for m in msgs] == ["pmp_v2"] * 5
    assert sum(m["pricing_type"] == "regular" for m in msgs) == 4
    with pytest.raises(ValueError):
        reference_classify(rows, rules="nbp")


# --------------------------------------------------------------------------- CSW, order


def test_csw_windows_are_maximal_unions_and_business_messages_do_not_extend():
    t0 = T("2025-08-04 00:00")
    rows = [inb(t0), inb(t0 + 10 * HOUR), out(t0 + 36 * HOUR), inb(t0 + 40 * HOUR),
            inb(t0 + 64 * HOUR),           # touches the end of [40h, 64h): one union
            inb(t0 + 100 * HOUR)]
    msgs, _, wins = reference_classify(rows)
    assert [(w["start"] - t0, w["end"] - t0) for w in wins] == [
        (0, 34 * HOUR), (40 * HOUR, 88 * HOUR), (100 * HOUR, 124 * HOUR)]
    assert all(w["kind"] == "customer_service" for w in wins)
    assert msgs[2]["policy_violation"] and not msgs[2]["csw_open"]


def test_half_open_intervals():
    t0 = T("2023-07-03 00:00")
    rows = [out(t0, "marketing"), out(t0 + DAY - 1, "marketing"), out(t0 + DAY, "marketing")]
    msgs, convs, _ = reference_classify(rows)
    assert [m["conversation_id"] for m in msgs] == [0, 0, 1]
    assert [(c["start"], c["end"]) for c in convs] == [(t0, t0 + DAY), (t0 + DAY, t0 + 2 * DAY)]
    # CSW: utility at exactly t + 24 h is outside the window
    t1 = T("2025-08-04 00:00")
    rows = [inb(t1), out(t1 + DAY - 1, "utility"), out(t1 + DAY, "utility"),
            out(t1 + DAY, delivered=t1 + DAY)]
    msgs, _, _ = reference_classify(rows)
    assert ct(msgs)[1:3] == [("utility", "free_customer_service"), ("utility", "regular")]
    assert [m["csw_open"] for m in msgs] == [True, True, False, False]
    assert [m["policy_violation"] for m in msgs] == [False, False, False, True]


def test_tie_order_inbound_first_then_message_id_then_input_order():
    # inbound first: a referral tied with a reply listed before it still makes it a free
    # entry point (the CSW, asked at a time, would not tell the order apart)
    for day in ("2022-06-01 00:00", "2025-08-04 00:00"):
        t = T(day)
        msgs, convs, _ = reference_classify([out(t, delivered=t), inb(t, referral=True)])
        assert ct(msgs) == [("referral_conversion", "free_entry_point"), (None, None)]
        assert [c["opened_by"] for c in convs] == [0]
    # PMP: the referral tied with the reply's send, the reply delivered later
    t = T("2025-08-04 00:00")
    msgs, _, _ = reference_classify([out(t, "marketing", delivered=t + HOUR), inb(t, referral=True)])
    assert ct(msgs)[0] == ("referral_conversion", "free_entry_point")
    # cbp_v2: two marketing templates delivered at one instant: the lower message id opens
    # the conversation, whatever the input order
    t1 = T("2023-07-03 00:00")
    rows = [out(t1 - HOUR, "marketing", delivered=t1, message_id="y"),
            out(t1 - 2 * HOUR, "marketing", delivered=t1, message_id="x")]
    for listed in (rows, rows[::-1]):
        msgs, convs, _ = reference_classify(listed)
        opener = [r["message_id"] for r, m in zip(listed, msgs) if m["opens_conversation"]]
        assert opener == ["x"] and len(convs) == 1 and convs[0]["n_messages"] == 2
    # ids are compared as text, byte by byte: "m10" < "m9"
    rows = [out(t1, "marketing", message_id="m9"), out(t1, "marketing", message_id="m10")]
    assert [m["opens_conversation"] for m in reference_classify(rows)[0]] == [False, True]
    # a row without an id comes after the rows with one; among rows without, input order
    rows = [out(t1, "marketing"), out(t1, "marketing", message_id="z"), out(t1, "marketing")]
    msgs, _, _ = reference_classify(rows)
    assert [m["opens_conversation"] for m in msgs] == [False, True, False]
    msgs, _, _ = reference_classify([out(t1, "marketing"), out(t1, "marketing")])
    assert [m["opens_conversation"] for m in msgs] == [True, False]


def test_processing_order_is_by_effective_time_not_input_order():
    t0 = T("2023-07-03 00:00")
    rows = [out(t0 + 2 * HOUR, "marketing"), out(t0, "marketing", delivered=t0 + HOUR)]
    msgs, convs, _ = reference_classify(rows)
    assert convs[0]["opened_by"] == 1 and convs[0]["start"] == t0 + HOUR
    assert [m["conversation_id"] for m in msgs] == [0, 0]


def test_csw_refreshing_false_rows_do_not_open_the_window():
    t0 = T("2025-08-04 00:00")
    rows = [inb(t0, csw_refreshing=False), out(t0 + HOUR, "utility"), out(t0 + 2 * HOUR)]
    msgs, _, wins = reference_classify(rows)
    assert wins == []
    assert [m["csw_open"] for m in msgs] == [False, False, False]
    assert ct(msgs)[1] == ("utility", "regular")
    assert msgs[2]["policy_violation"]


# --------------------------------------------------------------------------- policy, undelivered


def test_policy_violation_is_flagged_but_delivered_rows_are_classified():
    t0 = T("2023-07-03 00:00")
    rows = [out(t0), out(t0 + HOUR, "marketing"), out(t0 + 2 * HOUR, delivered=None,
                                                      user="u2")]
    msgs, convs, _ = reference_classify(rows, free_tier_conversations=0)
    assert [m["policy_violation"] for m in msgs] == [True, False, True]
    assert ct(msgs) == [("service", "regular"), ("marketing", "regular"), (None, None)]
    assert [c["category"] for c in convs] == ["service", "marketing"]


def test_policy_uses_send_time_even_when_the_inbound_is_processed_later():
    t0 = T("2023-07-03 00:00")
    # sent at t0+1h (CSW open: inbound at t0), delivered at t0+30h (CSW closed)
    rows = [inb(t0), out(t0 + HOUR, delivered=t0 + 30 * HOUR)]
    msgs, _, _ = reference_classify(rows)
    assert not msgs[1]["policy_violation"] and not msgs[1]["csw_open"]
    # an inbound at t0+2h with a non-template sent at t0+3h, delivered at t0+2h30:
    # CSW is asked at a time (decision 2)
    rows = [out(t0 + 3 * HOUR, delivered=t0 + 3 * HOUR), inb(t0 + 2 * HOUR)]
    msgs, _, _ = reference_classify(rows)
    assert not msgs[0]["policy_violation"]


def test_undelivered_rows_open_and_join_nothing():
    t0 = T("2023-07-03 00:00")
    rows = [out(t0, "marketing", delivered=None), out(t0 + HOUR, "marketing"),
            out(t0 + 2 * HOUR, "marketing", delivered=None)]
    msgs, convs, _ = reference_classify(rows)
    assert ct(msgs) == [(None, None), ("marketing", "regular"), (None, None)]
    assert [m["conversation_id"] for m in msgs] == [None, 0, None]
    assert convs[0]["n_messages"] == 1 and convs[0]["opened_by"] == 1
    # PMP: not charged
    rows = [out(T("2025-08-04 00:00"), "marketing", delivered=None)]
    msgs, _, _ = reference_classify(rows)
    assert ct(msgs) == [(None, None)] and msgs[0]["era"] == "pmp_v1"


def test_inbound_rows_ignore_template_category():
    t0 = T("2023-07-03 00:00")
    rows = [dict(inb(t0), template_category="marketing"), out(t0 + HOUR)]
    msgs, convs, _ = reference_classify(rows)
    assert ct(msgs) == [(None, None), ("service", "free_tier")]
    assert msgs[0]["conversation_id"] is None


# --------------------------------------------------------------------------- FEP


def test_fep_is_24h_in_cbp_v1_before_2023_03_01_and_72h_after():
    for day, length in (("2023-02-10", 24), ("2023-03-10", 72), ("2023-08-10", 72)):
        t0 = T(day + " 00:00")
        rows = [inb(t0, referral=True), out(t0 + HOUR, delivered=t0 + 2 * HOUR),
                out(t0 + 30 * HOUR, "marketing")]
        msgs, convs, wins = reference_classify(rows)
        assert convs[0]["category"] == "referral_conversion"
        assert convs[0]["pricing_type"] == "free_entry_point"
        assert (convs[0]["start"], convs[0]["end"]) == (t0 + 2 * HOUR,
                                                        t0 + 2 * HOUR + length * HOUR)
        assert ct(msgs)[1] == ("referral_conversion", "free_entry_point")
        assert msgs[1]["opens_conversation"] and msgs[1]["conversation_id"] == 0
        if length == 24:
            assert ct(msgs)[2] == ("business_initiated", "free_tier")
            assert msgs[2]["conversation_id"] == 1
        else:
            assert ct(msgs)[2] == ("referral_conversion", "free_entry_point")
            assert msgs[2]["conversation_id"] == 0
            assert convs[0]["n_messages"] == 2
        assert [w["kind"] for w in wins] == ["customer_service", "free_entry_point"]
        assert (wins[1]["start"], wins[1]["end"]) == (convs[0]["start"], convs[0]["end"])


def test_fep_in_pmp_starts_at_send_time_and_makes_everything_free():
    t0 = T("2025-08-04 00:00")
    rows = [inb(t0, referral=True), out(t0 + HOUR, "marketing", delivered=t0 + 5 * HOUR),
            out(t0 + 50 * HOUR, "utility"), out(t0 + 73 * HOUR - 1, "marketing"),
            out(t0 + 73 * HOUR, "marketing")]
    msgs, convs, wins = reference_classify(rows)
    assert (convs[0]["start"], convs[0]["end"]) == (t0 + HOUR, t0 + 73 * HOUR)
    assert convs[0]["era"] == "pmp_v1" and convs[0]["n_messages"] == 3
    assert ct(msgs) == [(None, None)] + [("referral_conversion", "free_entry_point")] * 3 + [
        ("marketing", "regular")]
    assert [m["conversation_id"] for m in msgs] == [None, 0, 0, 0, None]
    assert wins[-1] == dict(kind="free_entry_point", business="b1", user="u1",
                            start=t0 + HOUR, end=t0 + 73 * HOUR)


def test_fep_in_pmp_opens_at_the_first_reply_sent_and_holds_what_is_sent_inside():
    t0 = T("2025-08-04 00:00")
    rows = [inb(t0, referral=True),
            out(t0 + 2 * HOUR, "marketing", delivered=t0 + 3 * HOUR),   # delivered first
            out(t0 + HOUR, "utility", delivered=t0 + 10 * HOUR),        # sent first: opener
            out(t0 + 72 * HOUR, "marketing", delivered=t0 + 90 * HOUR),  # sent inside
            out(t0 + 73 * HOUR, "marketing", delivered=t0 + 73 * HOUR)]  # sent at the end
    msgs, convs, wins = reference_classify(rows)
    assert ct(msgs) == [(None, None)] + [("referral_conversion", "free_entry_point")] * 3 + [
        ("marketing", "regular")]
    assert [m["opens_conversation"] for m in msgs] == [False, False, True, False, False]
    assert [m["conversation_id"] for m in msgs] == [None, 0, 0, 0, None]
    assert convs == [dict(conversation_id=0, business="b1", user="u1", waba="b1", era="pmp_v1",
                          category="referral_conversion", pricing_type="free_entry_point",
                          start=t0 + HOUR, end=t0 + 73 * HOUR, n_messages=3, opened_by=2)]
    assert wins[-1] == dict(kind="free_entry_point", business="b1", user="u1",
                            start=t0 + HOUR, end=t0 + 73 * HOUR)
    # the same log in cbp_v2 keeps delivery time: the first reply delivered opens at its
    # delivery, the reply sent at 72 h is outside (delivered at 90 h), the one sent at 73 h
    # inside (delivered at 73 h)
    shift = t0 - T("2024-03-04 00:00")
    cbp = [dict(r, timestamp=r["timestamp"] - shift,
                delivered_at=r["delivered_at"] and r["delivered_at"] - shift) for r in rows]
    msgs, convs, _ = reference_classify(cbp)
    assert [m["opens_conversation"] for m in msgs] == [False, True, False, True, False]
    assert ct(msgs) == [(None, None), ("referral_conversion", "free_entry_point"),
                        ("referral_conversion", "free_entry_point"), ("marketing", "regular"),
                        ("referral_conversion", "free_entry_point")]
    assert (convs[0]["start"], convs[0]["end"]) == (T("2024-03-04 03:00"), T("2024-03-07 03:00"))


def test_fep_in_pmp_a_member_delivered_before_its_opener_numbers_the_window():
    # the window is numbered when first met (the member, delivered first), opened by the
    # reply sent first; the later referral is inside the window and changes nothing
    t0 = T("2026-10-05 00:00")
    rows = [out(t0 - HOUR, "marketing"),
            inb(t0, referral=True),
            out(t0 + HOUR, "utility", delivered=t0 + 30 * HOUR),
            out(t0 + 2 * HOUR, delivered=t0 + 2 * HOUR),
            inb(t0 + 40 * HOUR, referral=True),
            out(t0 + 80 * HOUR, "marketing")]
    msgs, convs, _ = reference_classify(rows, service_free_allowance=0)
    assert ct(msgs) == [("marketing", "regular"), (None, None),
                        ("referral_conversion", "free_entry_point"),
                        ("referral_conversion", "free_entry_point"), (None, None),
                        ("marketing", "regular")]
    assert [(c["opened_by"], c["start"], c["end"], c["n_messages"]) for c in convs] == [
        (2, t0 + HOUR, t0 + 73 * HOUR, 2)]
    assert [m["opens_conversation"] for m in msgs] == [False, False, True, False, False, False]


def test_system_rows_neither_open_the_csw_nor_come_from_an_ad():
    t0 = T("2025-08-04 00:00")
    rows = [dict(inb(t0, referral=True), message_type="system"),
            out(t0 + HOUR, "utility"), out(t0 + 2 * HOUR),
            inb(t0 + 3 * HOUR, message_type="text"), out(t0 + 4 * HOUR, "utility")]
    msgs, convs, wins = reference_classify(rows)
    assert convs == []
    assert ct(msgs) == [(None, None), ("utility", "regular"), ("service", "free_customer_service"),
                        (None, None), ("utility", "free_customer_service")]
    assert [m["csw_open"] for m in msgs] == [False, False, False, True, True]
    assert [m["policy_violation"] for m in msgs] == [False, False, True, False, False]
    assert [(w["start"], w["end"]) for w in wins] == [(t0 + 3 * HOUR, t0 + 27 * HOUR)]
    # an outbound row's message_type means nothing to the rules
    msgs, _, _ = reference_classify([inb(t0), dict(out(t0 + HOUR), message_type="system")])
    assert ct(msgs)[1] == ("service", "free_customer_service")


def test_fep_needs_a_send_within_24h_of_the_referral():
    t0 = T("2025-08-04 00:00")
    rows = [inb(t0, referral=True), out(t0 + DAY, "marketing")]
    msgs, convs, _ = reference_classify(rows)
    assert convs == [] and ct(msgs)[1] == ("marketing", "regular")
    # sent inside the 24 h, delivered after: still opens
    rows = [inb(t0, referral=True), out(t0 + DAY - 1, "marketing", delivered=t0 + 2 * DAY)]
    msgs, convs, _ = reference_classify(rows)
    assert ct(msgs)[1] == ("referral_conversion", "free_entry_point")
    assert convs[0]["start"] == t0 + DAY - 1


def test_undelivered_rows_do_not_consume_fep_eligibility():
    t0 = T("2025-08-04 00:00")
    rows = [inb(t0, referral=True), out(t0 + HOUR, "marketing", delivered=None),
            out(t0 + 2 * HOUR, "marketing")]
    msgs, convs, _ = reference_classify(rows)
    assert ct(msgs)[1:] == [(None, None), ("referral_conversion", "free_entry_point")]
    assert convs[0]["opened_by"] == 2


def test_referral_during_open_fep_changes_nothing_and_eligibility_is_used_once():
    t0 = T("2025-08-04 00:00")
    rows = [inb(t0, referral=True), out(t0 + HOUR, "marketing"),          # FEP [1h, 73h)
            inb(t0 + 60 * HOUR, referral=True),                            # inside: ignored
            out(t0 + 74 * HOUR, "marketing"),                              # not FEP
            inb(t0 + 80 * HOUR, referral=True),                            # new eligibility
            out(t0 + 81 * HOUR, "marketing")]                              # FEP again
    msgs, convs, wins = reference_classify(rows)
    assert ct(msgs)[3] == ("marketing", "regular")
    assert ct(msgs)[5] == ("referral_conversion", "free_entry_point")
    assert [c["opened_by"] for c in convs] == [1, 5]
    assert [(w["kind"], w["start"] - t0, w["end"] - t0) for w in wins] == [
        ("customer_service", 0, DAY), ("customer_service", 60 * HOUR, 104 * HOUR),
        ("free_entry_point", HOUR, 73 * HOUR), ("free_entry_point", 81 * HOUR, 153 * HOUR)]
    # a referral is used once: a send inside its 24 h delivered after the window closed
    # opens no second window (CBP: membership by delivery)
    t1 = T("2023-08-07 00:00")
    rows = [inb(t1, referral=True), out(t1 + HOUR, delivered=t1 + HOUR),
            out(t1 + 20 * HOUR, "marketing", delivered=t1 + 80 * HOUR)]
    msgs, convs, _ = reference_classify(rows)
    assert ct(msgs)[2] == ("marketing", "regular") and len(convs) == 2
    assert [c["category"] for c in convs] == ["referral_conversion", "marketing"]


def test_fep_closes_other_conversations_in_cbp():
    t0 = T("2023-07-03 00:00")
    rows = [out(t0, "marketing"),                       # marketing [0, 24h)
            inb(t0 + 2 * HOUR, referral=True),
            out(t0 + 3 * HOUR),                          # opens FEP [3h, 75h)
            out(t0 + 10 * HOUR, "marketing"),            # inside FEP
            out(t0 + 76 * HOUR, "marketing")]            # new marketing conversation
    msgs, convs, wins = reference_classify(rows)
    assert [(c["category"], c["start"] - t0, c["end"] - t0) for c in convs] == [
        ("marketing", 0, 3 * HOUR), ("referral_conversion", 3 * HOUR, 75 * HOUR),
        ("marketing", 76 * HOUR, 100 * HOUR)]
    assert [m["conversation_id"] for m in msgs] == [0, None, 1, 1, 2]
    assert ct(msgs)[3] == ("referral_conversion", "free_entry_point")
    assert [(w["kind"], w["start"] - t0, w["end"] - t0) for w in wins] == [
        ("customer_service", 2 * HOUR, 26 * HOUR), ("free_entry_point", 3 * HOUR, 75 * HOUR)]


def test_fep_with_anchor_sent_closes_conversations_open_at_its_start():
    # cbp_v1, anchor="sent": A [10:00, +24h); B sent 12:00, delivered when A ends, so it
    # opens [12:00, +24h); the FEP opener sent at 14:00 is delivered after both ended
    rows = [out(T("2022-03-01 10:00"), "marketing"),
            out(T("2022-03-01 12:00"), "marketing", delivered=T("2022-03-02 10:00")),
            inb(T("2022-03-01 13:00"), referral=True, csw_refreshing=False),
            out(T("2022-03-01 14:00"), delivered=T("2022-03-02 13:00"))]
    _, convs, _ = reference_classify(rows, anchor="sent")
    assert [(c["category"], c["start"], c["end"]) for c in convs] == [
        ("business_initiated", T("2022-03-01 10:00"), T("2022-03-01 14:00")),
        ("business_initiated", T("2022-03-01 12:00"), T("2022-03-01 14:00")),
        ("referral_conversion", T("2022-03-01 14:00"), T("2022-03-02 14:00"))]
    # a conversation opened by an earlier-processed row but starting after the FEP start
    # ends at its own start
    rows = [inb(T("2023-07-03 00:00"), referral=True),
            out(T("2023-07-03 01:00"), delivered=T("2023-07-05 00:00")),
            out(T("2023-07-04 06:00"), "marketing")]
    msgs, convs, _ = reference_classify(rows, anchor="sent")
    assert [(c["category"], c["start"], c["end"]) for c in convs] == [
        ("marketing", T("2023-07-04 06:00"), T("2023-07-04 06:00")),
        ("referral_conversion", T("2023-07-03 01:00"), T("2023-07-06 01:00"))]
    assert ct(msgs)[1:] == [("referral_conversion", "free_entry_point"),
                            ("marketing", "regular")]


def test_fep_under_pmp_does_not_close_the_transition_utility_conversation():
    t0 = T("2025-06-30 22:00")
    rows = [out(t0, "utility"),                               # cbp_v2 utility [22:00, +24h)
            inb(T("2025-07-01 00:30"), referral=True),
            out(T("2025-07-01 00:45")),                        # pmp_v1: opens FEP
            out(T("2025-07-04 01:00"), "utility")]             # after FEP, after utility
    msgs, convs, _ = reference_classify(rows)
    assert convs[0]["end"] == t0 + DAY
    assert convs[1]["category"] == "referral_conversion" and convs[1]["era"] == "pmp_v1"
    assert ct(msgs)[3] == ("utility", "regular") and msgs[3]["conversation_id"] is None


# --------------------------------------------------------------------------- cbp_v1


def test_cbp_v1_initiator_decided_at_send_time_start_at_delivery():
    t0 = T("2022-06-01 00:00")
    rows = [inb(t0),
            out(t0 + 23 * HOUR, "utility", delivered=t0 + 25 * HOUR),  # CSW open at send
            out(t0 + 30 * HOUR, "marketing"),                          # joins
            out(t0 + 49 * HOUR, "marketing"),                          # BI
            inb(t0 - HOUR, user="u2"),                                  # CSW [-1h, 23h)
            out(t0 + 22 * HOUR, "marketing", user="u2"),               # UI
            out(t0 - 2 * HOUR, "marketing", delivered=t0, user="u3"),
            inb(t0 - HOUR, user="u3")]                                  # after the send
    msgs, convs, _ = reference_classify(rows, free_tier_conversations=0)
    assert [(c["user"], c["category"], c["start"] - t0, c["end"] - t0) for c in convs] == [
        ("u1", "user_initiated", 25 * HOUR, 49 * HOUR),
        ("u1", "business_initiated", 49 * HOUR, 73 * HOUR),
        ("u2", "user_initiated", 22 * HOUR, 46 * HOUR),
        ("u3", "business_initiated", 0, DAY)]
    assert ct(msgs)[1:4] == [("user_initiated", "regular")] * 2 + [
        ("business_initiated", "regular")]
    assert msgs[6]["csw_open"] and not msgs[6]["policy_violation"]
    # anchor="sent" moves the start to the send time
    msgs, convs, _ = reference_classify(rows, anchor="sent", free_tier_conversations=0)
    assert (convs[0]["start"] - t0, convs[0]["end"] - t0) == (23 * HOUR, 47 * HOUR)
    assert [m["conversation_id"] for m in msgs[1:4]] == [0, 0, 1]


def test_cbp_v1_one_conversation_at_a_time_templates_included():
    t0 = T("2022-06-01 00:00")
    rows = [out(t0, "marketing"), out(t0 + HOUR, "utility"), out(t0 + 2 * HOUR, "authentication"),
            inb(t0 + 3 * HOUR), out(t0 + 4 * HOUR)]
    msgs, convs, _ = reference_classify(rows)
    assert len(convs) == 1 and convs[0]["n_messages"] == 4
    assert convs[0]["category"] == "business_initiated"
    assert [m["conversation_id"] for m in msgs] == [0, 0, 0, None, 0]


def test_failed_freeform_opens_conversation_option():
    t0 = T("2022-06-01 00:00")
    rows = [out(t0, delivered=None), inb(t0 + 5 * HOUR), out(t0 + 6 * HOUR),
            out(t0 + 28 * HOUR)]
    msgs, convs, _ = reference_classify(rows)
    assert convs[0]["opened_by"] == 2 and convs[0]["category"] == "user_initiated"
    msgs, convs, _ = reference_classify(rows, failed_freeform_opens_conversation=True,
                                        free_tier_conversations=0)
    assert [(c["category"], c["start"], c["opened_by"], c["n_messages"]) for c in convs] == [
        ("business_initiated", t0, 0, 2), ("user_initiated", t0 + 28 * HOUR, 3, 1)]
    assert ct(msgs)[0] == ("business_initiated", "regular") and msgs[0]["opens_conversation"]
    assert msgs[0]["policy_violation"]
    # not when the reply is exactly 24 h later, nor for templates, nor in cbp_v2
    for r0 in (out(t0, delivered=None), ):
        rows = [r0, inb(t0 + DAY)]
        assert reference_classify(rows, failed_freeform_opens_conversation=True)[1] == []
    rows = [out(t0, "marketing", delivered=None), inb(t0 + HOUR)]
    assert reference_classify(rows, failed_freeform_opens_conversation=True)[1] == []
    t1 = T("2023-07-03 00:00")
    rows = [out(t1, delivered=None), inb(t1 + HOUR)]
    assert reference_classify(rows, failed_freeform_opens_conversation=True)[1] == []


# --------------------------------------------------------------------------- cbp_v2


def test_cbp_v2_utility_in_open_service_conversation_opens_utility_conversation():
    t0 = T("2024-03-04 00:00")
    rows = [inb(t0), out(t0 + HOUR), out(t0 + 2 * HOUR, "utility"), out(t0 + 3 * HOUR),
            out(t0 + 4 * HOUR, "utility"), out(t0 + 5 * HOUR, "authentication")]
    msgs, convs, _ = reference_classify(rows)
    assert [(c["category"], c["pricing_type"]) for c in convs] == [
        ("service", "free_tier"), ("utility", "regular"), ("authentication", "regular")]
    # the non-template prefers the open service conversation
    assert [m["conversation_id"] for m in msgs] == [None, 0, 1, 0, 1, 2]


def test_cbp_v2_non_template_joins_latest_open_conversation_without_service():
    t0 = T("2024-03-04 00:00")
    rows = [out(t0, "marketing"), out(t0 + HOUR, "utility"), inb(t0 + 2 * HOUR),
            out(t0 + 3 * HOUR)]
    msgs, convs, _ = reference_classify(rows)
    assert msgs[3]["conversation_id"] == 1 and ct(msgs)[3] == ("utility", "regular")
    assert len(convs) == 2


def test_cbp_v1_conversation_open_at_the_switch_absorbs_cbp_v2_non_templates():
    t0 = T("2023-05-31 20:00")
    rows = [inb(t0), out(t0 + HOUR), out(t0 + 5 * HOUR), out(t0 + 6 * HOUR, "utility")]
    msgs, convs, _ = reference_classify(rows)
    assert [m["era"] for m in msgs] == ["cbp_v1", "cbp_v1", "cbp_v2", "cbp_v2"]
    assert [(c["era"], c["category"]) for c in convs] == [("cbp_v1", "user_initiated"),
                                                          ("cbp_v2", "utility")]
    assert [m["conversation_id"] for m in msgs] == [None, 0, 0, 1]


def test_marketing_lite_is_marketing_before_2024_10_15_in_cbp():
    # before: joins the open marketing conversation; from: opens its own
    for day, expect in (("2024-10-14", ["marketing"]),
                        ("2024-10-20", ["marketing", "marketing_lite"])):
        t0 = T(day + " 10:00")
        rows = [out(t0, "marketing"), out(t0 + HOUR, "marketing_lite")]
        msgs, convs, _ = reference_classify(rows)
        assert [c["category"] for c in convs] == expect
        assert msgs[1]["pricing_category"] == expect[-1]
        assert msgs[1]["conversation_id"] == len(expect) - 1
    # in Sao Paulo 2024-10-15 02:00 UTC is still October 14
    rows = [out(T("2024-10-15 02:00"), "marketing_lite", waba="w")]
    _, convs, _ = reference_classify(rows, timezones={"w": "America/Sao_Paulo"})
    assert convs[0]["category"] == "marketing"
    _, convs, _ = reference_classify(rows)
    assert convs[0]["category"] == "marketing_lite"
    msgs, _, _ = reference_classify([out(T("2025-08-04 00:00"), "marketing_lite")])
    assert ct(msgs) == [("marketing_lite", "regular")]


def test_service_conversations_free_from_2024_11_01():
    rows = [inb(T("2024-10-31 22:00")), out(T("2024-10-31 23:00")),
            inb(T("2024-11-01 00:30"), user="u2"), out(T("2024-11-01 01:00"), user="u2")]
    msgs, convs, _ = reference_classify(rows)
    assert [c["pricing_type"] for c in convs] == ["free_tier", "free_customer_service"]
    msgs, convs, _ = reference_classify(rows, free_tier_conversations=0)
    assert [c["pricing_type"] for c in convs] == ["regular", "free_customer_service"]
    assert ct(msgs)[1] == ("service", "regular")
    # WABA-local: in Sao Paulo 2024-11-01 01:00 UTC is still October 31
    msgs, convs, _ = reference_classify([dict(r, waba="w") for r in rows],
                                        timezones={"w": "America/Sao_Paulo"},
                                        free_tier_conversations=0)
    assert [c["pricing_type"] for c in convs] == ["regular", "regular"]


# --------------------------------------------------------------------------- PMP


def test_transition_utility_conversation_after_2025_07_01():
    t0 = T("2025-06-30 20:00")
    rows = [out(t0, "utility"),
            out(T("2025-07-01 10:00"), "utility"),     # absorbed
            out(T("2025-07-01 11:00"), "marketing"),   # not absorbed
            out(T("2025-07-01 12:00"), "marketing"),   # not absorbed either
            out(T("2025-07-01 20:00"), "utility")]     # at the end: outside
    msgs, convs, _ = reference_classify(rows)
    assert [m["era"] for m in msgs] == ["cbp_v2"] + ["pmp_v1"] * 4
    assert [m["pricing_model"] for m in msgs] == ["CBP", "CBP", "PMP", "PMP", "PMP"]
    assert [m["conversation_id"] for m in msgs] == [0, 0, None, None, None]
    assert ct(msgs) == [("utility", "regular"), ("utility", "regular"),
                        ("marketing", "regular"), ("marketing", "regular"),
                        ("utility", "regular")]
    assert convs[0]["n_messages"] == 2 and convs[0]["era"] == "cbp_v2"
    assert not msgs[1]["opens_conversation"]
    # a cbp_v2 marketing conversation absorbs nothing after the switch
    rows = [out(t0, "marketing"), out(T("2025-07-01 10:00"), "marketing")]
    msgs, _, _ = reference_classify(rows)
    assert [m["conversation_id"] for m in msgs] == [0, None]


def test_pmp_v1_utility_free_only_inside_csw_at_delivery():
    t0 = T("2025-08-04 00:00")
    rows = [inb(t0), out(t0 - HOUR, "utility", delivered=t0 + HOUR),
            out(t0 + 20 * HOUR, "utility", delivered=t0 + 25 * HOUR),
            out(t0 + 2 * HOUR, "authentication")]
    msgs, _, _ = reference_classify(rows)
    assert ct(msgs)[1:] == [("utility", "free_customer_service"), ("utility", "regular"),
                            ("authentication", "regular")]


def test_service_free_allowance_per_business_and_month():
    rows = [inb(T("2026-10-05 00:00"), user="a"), inb(T("2026-10-05 00:00"), user="b"),
            out(T("2026-10-05 01:00"), user="a"), out(T("2026-10-05 03:00"), user="a"),
            out(T("2026-10-05 02:00"), user="b"),
            inb(T("2026-10-05 00:00"), user="a", business="b2"),
            out(T("2026-10-05 04:00"), user="a", business="b2"),
            out(T("2026-10-05 05:00"), "utility", user="a"),
            inb(T("2026-10-31 23:00"), user="c"), out(T("2026-10-31 23:30"), user="c"),
            out(T("2026-11-01 00:30"), user="c")]
    msgs, _, _ = reference_classify(rows, service_free_allowance=2)
    assert [m["pricing_type"] for m in msgs] == [
        None, None, "free_customer_service", "regular", "free_customer_service", None,
        "free_customer_service", "regular", None, "regular", "free_customer_service"]
    msgs, _, _ = reference_classify(rows, service_free_allowance=0)
    assert all(m["pricing_type"] in (None, "regular") for m in msgs)
    # on by default: 1,000 per number and month, so every service row here is free
    msgs, _, _ = reference_classify(rows)
    assert [m["pricing_type"] for m in msgs] == [
        None, None, "free_customer_service", "free_customer_service", "free_customer_service",
        None, "free_customer_service", "regular", None, "free_customer_service",
        "free_customer_service"]
    # not in pmp_v1 (already free) nor under CBP
    msgs, _, _ = reference_classify(rows, service_free_allowance=2, rules="pmp_v1")
    assert ct(msgs)[2] == ("service", "free_customer_service")


def test_service_free_allowance_is_1000_by_default_and_ties_go_by_message_id():
    t0 = T("2026-10-05 00:00")
    rows = [inb(t0, user="u%d" % k) for k in range(1001)]
    rows += [out(t0 + HOUR, user="u%d" % k, message_id="m%04d" % (1000 - k)) for k in range(1001)]
    msgs, _, _ = reference_classify(rows)
    types = [m["pricing_type"] for m in msgs[1001:]]
    # all delivered at one instant: the highest id (row of u0) is the 1,001st
    assert types == ["regular"] + ["free_customer_service"] * 1000
    msgs, _, _ = reference_classify(rows[::-1])
    assert [m["pricing_type"] for m in msgs[:1001]] == types[::-1]
    # without ids, input order
    plain = [dict(r, message_id=None) for r in rows]
    msgs, _, _ = reference_classify(plain)
    assert [m["pricing_type"] for m in msgs[1001:]] == ["free_customer_service"] * 1000 + ["regular"]


# --------------------------------------------------------------------------- free tier


def test_free_tier_first_n_conversations_per_waba_and_month():
    t0 = T("2022-06-29 00:00")
    rows = []
    for k, u in enumerate(["u5", "u1", "u3", "u2"]):
        rows.append(out(t0 + k * HOUR, "marketing", user=u))
    rows.append(out(T("2022-07-01 00:00"), "marketing", user="u9"))
    rows.append(out(t0 + 5 * HOUR, "marketing", user="u7", business="b2"))
    msgs, convs, _ = reference_classify(rows, free_tier_conversations=2)
    by_user = {(c["business"], c["user"]): c["pricing_type"] for c in convs}
    assert by_user == {("b1", "u5"): "free_tier", ("b1", "u1"): "free_tier",
                       ("b1", "u3"): "regular", ("b1", "u2"): "regular",
                       ("b1", "u9"): "free_tier", ("b2", "u7"): "free_tier"}
    assert [m["pricing_type"] for m in msgs] == ["free_tier", "free_tier", "regular",
                                                 "regular", "free_tier", "free_tier"]
    # the same WABA for both businesses: one allowance
    msgs, convs, _ = reference_classify([dict(r, waba="w") for r in rows],
                                        free_tier_conversations=2)
    assert [m["pricing_type"] for m in msgs] == ["free_tier", "free_tier", "regular",
                                                 "regular", "free_tier", "regular"]


def test_free_tier_ineligible_conversations_do_not_use_the_allowance():
    t0 = T("2024-03-04 00:00")
    rows = [out(t0, "marketing"), inb(t0 + HOUR, user="u2"), out(t0 + 2 * HOUR, user="u2"),
            inb(t0 + 3 * HOUR, user="u3"), out(t0 + 4 * HOUR, user="u3")]
    msgs, convs, _ = reference_classify(rows, free_tier_conversations=1)
    assert [(c["category"], c["pricing_type"]) for c in convs] == [
        ("marketing", "regular"), ("service", "free_tier"), ("service", "regular")]


def test_free_tier_direct_billing_business_initiated_from_2023_04_04():
    rows = [out(T("2023-04-03 10:00"), "marketing", user="a"),
            out(T("2023-04-04 10:00"), "marketing", user="b"),
            inb(T("2023-04-04 11:00"), user="c"), out(T("2023-04-04 12:00"), user="c")]
    _, convs, _ = reference_classify(rows)
    assert [c["pricing_type"] for c in convs] == ["free_tier"] * 3
    _, convs, _ = reference_classify(rows, direct_billing=True, free_tier_conversations=2)
    assert [(c["category"], c["pricing_type"]) for c in convs] == [
        ("business_initiated", "free_tier"), ("business_initiated", "regular"),
        ("user_initiated", "free_tier")]


def test_free_tier_month_is_waba_local():
    # 2022-07-01 01:00 UTC is June 30 in Sao Paulo: same month as the first conversation
    rows = [out(T("2022-06-20 10:00"), "marketing", user="a", waba="w"),
            out(T("2022-07-01 01:00"), "marketing", user="b", waba="w")]
    _, convs, _ = reference_classify(rows, free_tier_conversations=1)
    assert [c["pricing_type"] for c in convs] == ["free_tier", "free_tier"]
    _, convs, _ = reference_classify(rows, free_tier_conversations=1,
                                     timezones={"w": "America/Sao_Paulo"})
    assert [c["pricing_type"] for c in convs] == ["free_tier", "regular"]


def test_fep_conversations_are_not_in_the_free_tier():
    t0 = T("2022-06-01 00:00")
    rows = [inb(t0, referral=True), out(t0 + HOUR), out(t0 + 30 * HOUR, "marketing")]
    _, convs, _ = reference_classify(rows, free_tier_conversations=1)
    assert [(c["category"], c["pricing_type"]) for c in convs] == [
        ("referral_conversion", "free_entry_point"), ("business_initiated", "free_tier")]


# --------------------------------------------------------------------------- duplicates, ids


def test_duplicates_are_marked_and_invisible():
    t0 = T("2023-07-03 00:00")
    rows = [inb(t0, message_id="m1"), out(t0 + HOUR, message_id="m1"),
            inb(t0 + 30 * HOUR, message_id="m1", referral=True),   # duplicate inbound
            out(t0 + 26 * HOUR, message_id="m1"),                   # duplicate outbound
            out(t0 + 27 * HOUR, "marketing", message_id=None),
            out(t0 + 28 * HOUR, "marketing", message_id=None)]
    msgs, convs, wins = reference_classify(rows)
    assert [m["duplicate"] for m in msgs] == [False, False, True, True, False, False]
    for m in (msgs[2], msgs[3]):
        assert m == dict(era="cbp_v2", pricing_model="CBP", conversation_id=None,
                         pricing_category=None, pricing_type=None, opens_conversation=False,
                         csw_open=False, policy_violation=False, duplicate=True,
                         charge_reason="duplicate")
    assert len(wins) == 1 and len(convs) == 2
    assert [c["n_messages"] for c in convs] == [1, 2]


def test_conversation_ids_sorted_by_user_then_business_raw_values():
    t0 = T("2023-07-03 00:00")
    rows = [out(t0, "marketing", user="u2", business=10),
            out(t0, "marketing", user="u1", business=9),
            out(t0, "marketing", user="u1", business=10),
            out(t0 + HOUR, "utility", user="u1", business=9),
            out(t0 - HOUR, "utility", user="u2", business=10)]
    msgs, convs, _ = reference_classify(rows)
    # pairs: (u1, 9), (u1, 10), (u2, 10) -- 9 < 10 numerically
    assert [(c["user"], c["business"], c["category"]) for c in convs] == [
        ("u1", 9, "marketing"), ("u1", 9, "utility"), ("u1", 10, "marketing"),
        ("u2", 10, "utility"), ("u2", 10, "marketing")]
    assert [m["conversation_id"] for m in msgs] == [4, 0, 2, 1, 3]
    assert [c["conversation_id"] for c in convs] == [0, 1, 2, 3, 4]
    # input order does not matter
    msgs2, convs2, _ = reference_classify(rows[::-1])
    assert [m["conversation_id"] for m in msgs2] == [3, 1, 2, 0, 4]
    assert [(c["user"], c["business"], c["start"]) for c in convs2] == [
        (c["user"], c["business"], c["start"]) for c in convs]
