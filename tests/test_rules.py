"""One test per rule of SPEC §4 and the SPEC §8 worked examples, through the public API."""

from __future__ import annotations

import pandas as pd
import pytest

import waconv
from builders import log, verdicts


def test_meta_cbp_v2_example_two_conversations():
    r = waconv.classify(
        log("2024-03-04", (0, "out", "marketing"), (4, "in"), (5, "out"), (25, "out"), (26, "out"))
    )
    assert verdicts(r, "conversation_id") == [0, None, 0, 1, 1]
    assert verdicts(r, "pricing_category") == ["marketing", None, "marketing", "service", "service"]
    assert verdicts(r, "opens_conversation") == [True, False, False, True, False]
    assert r.conversations.category.tolist() == ["marketing", "service"]
    assert r.conversations.end[0] == pd.Timestamp("2024-03-05", tz="UTC")


@pytest.mark.parametrize(("origin", "charged"), [("2025-08-04", [0, 4]), ("2026-10-05", [0, 2, 3, 4])])
def test_meta_pmp_examples(origin, charged):
    # Meta's examples (July 2026) predate the service allowance: it is off here.
    frame = log(origin, (0, "out", "marketing"), (2, "in"), (3, "out"), (4, "out", "utility"), (30, "out", "utility"))
    r = waconv.classify(frame, service_free_allowance=0)
    assert [i for i, b in enumerate(r.messages.billable) if b] == charged
    assert len(r.conversations) == 0


def test_meta_pmp_v2_example_with_the_default_service_allowance():
    frame = log("2026-10-05", (0, "out", "marketing"), (2, "in"), (3, "out"), (4, "out", "utility"),
                (30, "out", "utility"))
    r = waconv.classify(frame, volume_tiers=None)
    assert verdicts(r, "pricing_type") == ["regular", None, "free_customer_service", "regular", "regular"]
    assert verdicts(r, "pricing_category") == ["marketing", None, "service", "utility", "utility"]
    assert verdicts(r, "cost") == [0.0625, 0.0, 0.0, 0.0068, 0.0068]  # Brazil's list rates


def test_pmp_v1_free_types():
    r = waconv.classify(log("2025-08-04", (2, "in"), (3, "out"), (4, "out", "utility")))
    assert verdicts(r, "pricing_type") == [None, "free_customer_service", "free_customer_service"]
    assert verdicts(r, "pricing_category") == [None, "service", "utility"]


def test_csw_is_anchored_and_not_extended_by_business_messages():
    r = waconv.classify(log("2025-08-04", (0, "in"), (20, "out"), (23.5, "out"), (24, "out", "utility")))
    assert verdicts(r, "csw_open") == [True, True, True, False]
    assert verdicts(r, "pricing_type")[3] == "regular"
    assert r.windows.end.tolist() == [pd.Timestamp("2025-08-05", tz="UTC")]


def test_csw_windows_are_maximal_intervals():
    r = waconv.classify(log("2025-08-04", (0, "in"), (10, "in"), (34, "in"), (100, "in")))
    assert r.windows[["start", "end"]].map(lambda t: t.strftime("%d %H")).values.tolist() == [
        ["04 00", "06 10"],
        ["08 04", "09 04"],
    ]


def test_policy_violation_kept_even_when_delivered():
    r = waconv.classify(log("2025-08-04", (0, "out"), (1, "in"), (2, "out")))
    assert verdicts(r, "policy_violation") == [True, False, False]
    assert verdicts(r, "pricing_category")[0] == "service"


def test_undelivered_messages_are_never_charged_and_open_nothing():
    r = waconv.classify(log("2024-03-04", (0, "out", "marketing", None), (1, "out", "marketing")))
    assert verdicts(r, "pricing_type") == [None, "regular"]
    assert verdicts(r, "opens_conversation") == [False, True]


def test_status_column_decides_delivery_when_delivered_at_is_absent():
    frame = log("2024-03-04", (0, "out", "marketing"), (1, "out", "utility"), (2, "out", "authentication"))
    frame = frame.drop(columns="delivered_at").assign(status=["failed", "read", "sent"])
    r = waconv.classify(frame)
    assert verdicts(r, "pricing_category") == [None, "utility", None]


def test_without_delivery_columns_outbound_rows_count_as_delivered():
    frame = log("2024-03-04", (0, "out", "marketing")).drop(columns="delivered_at")
    assert verdicts(waconv.classify(frame), "pricing_type") == ["regular"]


def test_cbp_v1_type_at_send_time_start_at_delivery():
    # Sent before the user's message arrived, delivered after it: business-initiated.
    r = waconv.classify(log("2022-05-02", (10, "in"), (9.9, "out", "utility", 0.6), (11, "out")))
    assert verdicts(r, "pricing_category") == [None, "business_initiated", "business_initiated"]
    assert r.conversations.start[0] == pd.Timestamp("2022-05-02 10:30", tz="UTC")
    assert r.conversations.n_messages[0] == 2


def test_cbp_v1_one_conversation_at_a_time_absorbs_templates():
    r = waconv.classify(log("2022-05-02", (0, "in"), (1, "out"), (2, "out", "marketing"), (25, "out", "marketing")))
    assert verdicts(r, "conversation_id") == [None, 0, 0, 1]
    assert r.conversations.category.tolist() == ["user_initiated", "business_initiated"]


def test_cbp_v2_utility_in_open_service_conversation_opens_utility():
    r = waconv.classify(log("2024-04-01", (0, "in"), (1, "out"), (2, "out", "utility"), (3, "out")))
    assert verdicts(r, "pricing_category") == [None, "service", "utility", "service"]
    assert verdicts(r, "conversation_id") == [None, 0, 1, 0]


def test_cbp_v2_non_template_joins_most_recent_when_no_service():
    r = waconv.classify(log("2024-04-01", (0, "out", "marketing"), (1, "out", "utility"), (2, "in"), (3, "out")))
    assert verdicts(r, "conversation_id")[3] == 1


def test_service_conversations_free_from_november_2024():
    r = waconv.classify(
        log("2024-10-31", (0, "in"), (1, "out"), (26, "in"), (27, "out")), free_tier_conversations=0
    )
    assert verdicts(r, "pricing_type") == [None, "regular", None, "free_customer_service"]


def test_free_entry_point_closes_conversations_and_lasts_72h():
    r = waconv.classify(
        log("2024-02-05", (0, "out", "marketing"), (1, "in", None, 0, True), (2, "out", None, 0.5),
            (60, "out", "marketing"), (74.5, "out", "marketing"))
    )
    assert verdicts(r, "pricing_category") == [
        "marketing", None, "referral_conversion", "referral_conversion", "marketing",
    ]
    assert verdicts(r, "pricing_type")[2:4] == ["free_entry_point", "free_entry_point"]
    assert r.conversations.end[0] == pd.Timestamp("2024-02-05 02:30", tz="UTC")
    fep = r.windows[r.windows.kind == "free_entry_point"]
    assert fep.start.tolist() == [pd.Timestamp("2024-02-05 02:30", tz="UTC")]
    assert fep.end.tolist() == [pd.Timestamp("2024-02-08 02:30", tz="UTC")]


def test_free_entry_point_24h_in_early_cbp_v1_and_from_send_under_pmp():
    early = waconv.classify(log("2022-06-01", (0, "in", None, 0, True), (1, "out", None, 0.5)))
    assert (early.conversations.end - early.conversations.start).tolist() == [pd.Timedelta(hours=24)]
    pmp = waconv.classify(log("2025-09-01", (0, "in", None, 0, True), (1, "out", "marketing", 0.5)))
    assert pmp.conversations.start.tolist() == [pd.Timestamp("2025-09-01 01:00", tz="UTC")]
    assert pmp.conversations.end.tolist() == [pd.Timestamp("2025-09-04 01:00", tz="UTC")]


def test_free_entry_point_needs_a_reply_within_24h():
    r = waconv.classify(log("2025-09-01", (0, "in", None, 0, True), (24, "out", "marketing")))
    assert verdicts(r, "pricing_type") == [None, "regular"]


def test_each_referral_opens_one_free_entry_point_even_for_a_late_delivery():
    # The reply sent at hour 2 is delivered only at hour 82. Its referral (hour 0) was already
    # used by the hour-3 reply; a later referral having been used since must not revive it.
    r = waconv.classify(
        log("2022-02-01", (0, "in", None, 0, True), (2, "out", None, 80), (3, "out"),
            (27, "in", None, 0, True), (29, "out")),
        free_tier_conversations=0,
    )
    assert verdicts(r, "pricing_type") == [None, "regular", "free_entry_point", None, "free_entry_point"]
    assert verdicts(r, "pricing_category")[1] == "user_initiated"


def test_referral_inside_open_fep_window_changes_nothing():
    r = waconv.classify(
        log("2025-09-01", (0, "in", None, 0, True), (1, "out"), (50, "in", None, 0, True), (80, "out", "marketing"))
    )
    assert verdicts(r, "pricing_type") == [None, "free_entry_point", None, "regular"]


def test_transition_utility_conversation_absorbs_after_switch():
    r = waconv.classify(
        log("2025-06-30", (22, "out", "utility"), (25, "out", "utility"), (26, "out", "marketing"))
    )
    assert verdicts(r, "era") == ["cbp_v2", "pmp_v1", "pmp_v1"]
    assert verdicts(r, "pricing_model") == ["CBP", "CBP", "PMP"]
    assert verdicts(r, "conversation_id") == [0, 0, None]


def test_half_open_conversation_end():
    r = waconv.classify(log("2023-09-04", (0, "out", "utility"), (24, "out", "utility")))
    assert verdicts(r, "opens_conversation") == [True, True]


def test_ties_inbound_first():
    r = waconv.classify(log("2022-08-01", (1, "out"), (1, "in")))
    assert verdicts(r, "pricing_category") == ["user_initiated", None]
    assert verdicts(r, "policy_violation") == [False, False]
    # The CSW is asked at a time, so only a referral shows the order: listed after the
    # reply it answers at the same instant, it still comes first and makes it free.
    for origin in ("2022-08-01", "2025-09-01"):
        r = waconv.classify(log(origin, (1, "out"), (1, "in", None, 0, True)))
        assert verdicts(r, "pricing_type") == ["free_entry_point", None]
        assert verdicts(r, "opens_conversation") == [True, False]


def verdicts_of(column: pd.Series) -> list:
    return [None if pd.isna(v) else v for v in column.tolist()]


def test_ties_go_by_message_id_whatever_the_input_order():
    # Two marketing templates delivered at one instant (cbp_v2): the lower id opens the
    # conversation; ids compare as text, byte by byte ("m10" < "m9").
    frame = log("2024-03-04", (0, "out", "marketing", 1), (0.5, "out", "marketing", 0.5), (1, "out", "utility", 0))
    frame["message_id"] = ["m9", "m10", None]
    for order in ([0, 1, 2], [2, 1, 0], [1, 2, 0]):
        r = waconv.classify(frame.iloc[order]).messages.loc[frame.index]
        assert verdicts_of(r.opens_conversation) == [False, True, True]
        assert verdicts_of(r.conversation_id) == [0, 0, 1]
    # A row without an id comes after the rows with one.
    frame = log("2024-03-04", (0, "out", "marketing"), (0, "out", "marketing"))
    frame["message_id"] = [None, "z"]
    assert verdicts(waconv.classify(frame), "opens_conversation") == [False, True]


@pytest.mark.parametrize("dtype", [object, "category", "string[python]", "string[pyarrow]", "large_string[pyarrow]",
                                   "int64", "mixed"])
def test_tie_order_reads_message_ids_of_any_dtype_as_text(dtype):
    frame = log("2024-03-04", (0, "out", "marketing"), (0, "out", "marketing"), (0, "out", "utility"),
                (0, "out", "utility"))
    ids = {"int64": [9, 10, 7, 8], "mixed": [9, "10", 7, "8"]}.get(dtype, ["9", "10", "7", "8"])
    frame["message_id"] = pd.Series(ids, dtype=object if dtype in ("int64", "mixed") else dtype)
    if dtype == "int64":
        frame["message_id"] = frame["message_id"].astype("int64")
    assert verdicts(waconv.classify(frame), "opens_conversation") == [False, True, True, False]


def test_era_switch_at_waba_local_midnight():
    frame = log("2025-07-01", (1, "out", "marketing"), (4, "out", "utility"), waba="w")
    utc = waconv.classify(frame)
    sao_paulo = waconv.classify(frame, timezones={"w": "America/Sao_Paulo"})
    assert verdicts(utc, "era") == ["pmp_v1", "pmp_v1"]
    assert verdicts(sao_paulo, "era") == ["cbp_v2", "pmp_v1"]


def test_forced_rules_apply_one_era_everywhere():
    frame = log("2022-05-02", (0, "out", "marketing"), (1, "in"), (2, "out"))
    r = waconv.classify(frame, rules="pmp_v2", service_free_allowance=0)
    assert verdicts(r, "era") == ["pmp_v2"] * 3
    assert verdicts(r, "pricing_category") == ["marketing", None, "service"]
    assert verdicts(r, "billable") == [True, False, True]


def test_duplicates_are_marked_and_ignored():
    frame = log("2024-03-04", (0, "out", "marketing"), (0, "out", "marketing"), (1, "in"), (1, "in"))
    frame["message_id"] = ["m1", "m1", "m1", None]
    r = waconv.classify(frame)
    assert verdicts(r, "duplicate") == [False, True, False, False]
    assert verdicts(r, "pricing_type") == ["regular", None, None, None]
    assert r.n_duplicates == 1
    assert r.conversations.n_messages.tolist() == [1]


def test_free_tier_first_n_per_waba_local_month():
    # 23:00, 00:00, 01:00, 02:00 UTC around the turn of March: in UTC the last three fall in
    # April; in Sao Paulo (UTC-3) all four are still March 31.
    frames = [log("2022-03-31 23:00", (h, "out", "marketing"), user=f"u{h}") for h in range(4)]
    frame = pd.concat(frames, ignore_index=True)
    utc = waconv.classify(frame, free_tier_conversations=2)
    sao_paulo = waconv.classify(frame, free_tier_conversations=2, timezones={"b1": "America/Sao_Paulo"})
    assert verdicts(utc, "pricing_type") == ["free_tier", "free_tier", "free_tier", "regular"]
    assert verdicts(sao_paulo, "pricing_type") == ["free_tier", "free_tier", "regular", "regular"]


def test_free_tier_ties_in_start_go_by_the_openers_message_ids():
    frame = pd.concat([log("2022-03-01", (0, "out", "marketing"), user=f"+551198765432{k}") for k in range(3)],
                      ignore_index=True)
    frame["message_id"] = ["c", "a", "b"]
    for order in ([0, 1, 2], [2, 0, 1]):
        r = waconv.classify(frame.iloc[order], free_tier_conversations=2).messages.loc[frame.index]
        assert r.pricing_type.tolist() == ["regular", "free_tier", "free_tier"]


def test_free_tier_is_1000_conversations_by_default():
    frame = pd.concat([log("2022-03-01", (0.001 * k, "out", "marketing"), user=f"u{k:04d}") for k in range(1001)],
                      ignore_index=True)
    r = waconv.classify(frame)
    assert (r.conversations.pricing_type == "free_tier").sum() == 1000
    assert r.conversations.pricing_type[r.conversations.start.idxmax()] == "regular"


def test_cbp_v2_free_tier_only_for_service():
    r = waconv.classify(log("2024-03-04", (0, "out", "marketing"), (1, "in"), (2, "out", "utility"), (3, "out")))
    assert verdicts(r, "pricing_type") == ["regular", None, "regular", "regular"]
    r = waconv.classify(log("2024-03-04", (1, "in"), (3, "out")))
    assert verdicts(r, "pricing_type") == [None, "free_tier"]


def test_direct_billing_business_initiated_leaves_free_tier():
    frame = log("2023-04-05", (0, "out", "marketing"))
    assert verdicts(waconv.classify(frame), "pricing_type") == ["free_tier"]
    assert verdicts(waconv.classify(frame, direct_billing=True), "pricing_type") == ["regular"]


def test_anchor_sent_starts_conversation_at_send():
    frame = log("2024-03-04", (0, "out", "marketing", 2))
    assert waconv.classify(frame).conversations.start[0] == pd.Timestamp("2024-03-04 02:00", tz="UTC")
    assert waconv.classify(frame, anchor="sent").conversations.start[0] == pd.Timestamp("2024-03-04", tz="UTC")


def test_failed_freeform_option():
    frame = log("2022-08-01", (0, "out", None, None), (3, "in"))
    assert len(waconv.classify(frame).conversations) == 0
    r = waconv.classify(frame, failed_freeform_opens_conversation=True)
    assert verdicts(r, "pricing_category") == ["business_initiated", None]
    assert verdicts(r, "billable") == [False, False]  # free tier, default partner-served account


def test_service_free_allowance():
    frame = log("2026-11-02", (0, "in"), (1, "out"), (2, "out"), (3, "out"))
    r = waconv.classify(frame, service_free_allowance=2)
    assert verdicts(r, "pricing_type") == [None, "free_customer_service", "free_customer_service", "regular"]
    assert verdicts(waconv.classify(frame, service_free_allowance=0), "pricing_type")[1:] == ["regular"] * 3
    assert verdicts(r, "cost")[1:] == [0.0, 0.0, 0.0068]


def test_service_allowance_is_on_by_default_1000_per_number_and_month_ties_by_message_id():
    # 1,001 users answered at one delivery instant, plus one reply from another number.
    users = [f"+5511987{k:06d}" for k in range(1001)]
    inbound = pd.concat([log("2026-11-02", (0, "in"), user=u) for u in users], ignore_index=True)
    replies = pd.concat([log("2026-11-02", (1, "out"), user=u) for u in users], ignore_index=True)
    replies["message_id"] = [f"wamid.{1000 - k:04d}" for k in range(1001)]
    other = log("2026-11-02", (0, "in"), (1, "out"), business="b2", user=users[0])
    frame = pd.concat([inbound, replies, other], ignore_index=True)
    for shuffled in (frame, frame.sample(frac=1, random_state=7)):
        r = waconv.classify(shuffled).messages.loc[frame.index]
        types = r.pricing_type.tolist()
        # wamid.1000 (user 0) is the 1,001st of b1's month; b2 has its own 1,000
        assert types[1001] == "regular"
        assert types[1002:2002] == ["free_customer_service"] * 1000
        assert types[-1] == "free_customer_service"
        assert r.cost.tolist()[1001] == 0.0068 and r.cost.sum() == pytest.approx(0.0068)
    off = waconv.classify(frame, service_free_allowance=0).messages
    assert (off.pricing_type[off.direction == "outbound"] == "regular").all()


def test_direct_send_utility_and_authentication_outside_the_csw_are_charged_templates():
    # A text sent with category utility or authentication (Direct Send, since 2026-07-31)
    # is given as template_category: charged at that category's rate, never a violation.
    for origin in ("2025-08-04", "2026-10-05"):
        frame = log(origin, (0, "out", "utility"), (1, "out", "authentication"), (2, "out"))
        frame["message_type"] = "text"
        r = waconv.classify(frame, volume_tiers=None)  # the card's list rate
        assert verdicts(r, "pricing_category") == ["utility", "authentication", "service"]
        assert verdicts(r, "pricing_type")[:2] == ["regular", "regular"]
        assert verdicts(r, "policy_violation") == [False, False, True]
        assert verdicts(r, "csw_open") == [False, False, False]
        assert verdicts(r, "cost")[:2] == [0.0068, 0.0068]  # Brazil's utility and authentication rates
        assert verdicts(r, "rate")[:2] == [0.0068, 0.0068]


def test_inbound_system_rows_never_open_the_csw_nor_count_as_referrals():
    frame = log("2025-08-04", (0, "in", None, 0, True), (1, "out", "utility"), (2, "out"), (3, "in"),
                (4, "out", "utility"))
    frame["message_type"] = ["system", "text", "system", "text", "text"]  # outbound: meaningless
    r = waconv.classify(frame)
    assert verdicts(r, "pricing_type") == [None, "regular", "free_customer_service", None, "free_customer_service"]
    assert verdicts(r, "pricing_category") == [None, "utility", "service", None, "utility"]
    assert verdicts(r, "policy_violation") == [False, False, True, False, False]
    assert verdicts(r, "csw_open") == [False, False, False, True, True]
    assert r.windows.start.tolist() == [pd.Timestamp("2025-08-04 03:00", tz="UTC")]
    assert r.windows.kind.tolist() == ["customer_service"]
    assert len(r.conversations) == 0
    # the same rows as text messages: the referral opens a free entry point, the CSW opens at 0
    r = waconv.classify(frame.assign(message_type="text"))
    assert verdicts(r, "pricing_type")[1:3] == ["free_entry_point", "free_entry_point"]
    # csw_refreshing still applies to the other rows
    r = waconv.classify(frame, csw_refreshing=lambda f: f["message_type"] != "text")
    assert verdicts(r, "pricing_type")[4] == "regular"


def test_pmp_free_entry_point_opens_at_the_first_reply_sent_and_frees_what_is_sent_inside():
    # Sent at 1 h but delivered at 10 h, the utility template is the first reply: the window
    # is [1 h, 73 h) of send times. The one sent at 72 h is free though delivered at 90 h.
    rows = [(0, "in", None, 0, True), (2, "out", "marketing", 1), (1, "out", "utility", 9),
            (72, "out", "marketing", 18), (73, "out", "marketing")]
    r = waconv.classify(log("2025-08-04", *rows))
    assert verdicts(r, "pricing_type") == [None, "free_entry_point", "free_entry_point", "free_entry_point", "regular"]
    assert verdicts(r, "opens_conversation") == [False, False, True, False, False]
    assert verdicts(r, "conversation_id") == [None, 0, 0, 0, None]
    assert verdicts(r, "cost") == [0.0, 0.0, 0.0, 0.0, 0.0625]
    c = r.conversations
    assert (c.opened_by.tolist(), c.n_messages.tolist()) == ([2], [3])
    assert c.start.tolist() == [pd.Timestamp("2025-08-04 01:00", tz="UTC")]
    assert c.end.tolist() == [pd.Timestamp("2025-08-07 01:00", tz="UTC")]
    # CBP keeps delivery time: opened by the reply delivered first, at its delivery; the
    # message delivered at 90 h is outside, the one delivered at 73 h inside.
    r = waconv.classify(log("2024-03-04", *rows))
    assert verdicts(r, "pricing_type") == [None, "free_entry_point", "free_entry_point", "regular", "free_entry_point"]
    assert verdicts(r, "opens_conversation") == [False, True, False, True, False]
    assert r.conversations.start[0] == pd.Timestamp("2024-03-04 03:00", tz="UTC")


def test_csw_refreshing_column():
    frame = log("2025-08-04", (0, "in"), (20, "in"), (30, "out", "utility"))
    frame["is_reaction"] = [False, True, False]
    r = waconv.classify(frame, csw_refreshing=lambda f: ~f["is_reaction"])
    assert verdicts(r, "pricing_type")[2] == "regular"
    assert verdicts(waconv.classify(frame), "pricing_type")[2] == "free_customer_service"


def test_marketing_lite_is_marketing_before_october_2024():
    r = waconv.classify(log("2024-10-01", (0, "out", "marketing"), (1, "out", "marketing_lite")))
    assert verdicts(r, "conversation_id") == [0, 0]
    r = waconv.classify(log("2024-10-20", (0, "out", "marketing"), (1, "out", "marketing_lite")))
    assert verdicts(r, "pricing_category") == ["marketing", "marketing_lite"]


def test_before_2022_warns_and_uses_cbp_v1():
    with pytest.warns(waconv.WaconvWarning, match="before 2022-02-01"):
        r = waconv.classify(log("2021-06-01", (0, "out", "marketing")))
    assert verdicts(r, "era") == ["cbp_v1"]
