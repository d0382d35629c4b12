"""Identity (SPEC §2): phone numbers and BSUIDs linked into one user per person, over the whole log.

Rates: the shipped card of 2025-07-01 (Brazil marketing 0.0625, utility 0.0068; Germany
marketing 0.1365).
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import waconv
from builders import log, verdicts
from random_logs import TIMEZONES, random_log

PHONE = "+5511987654321"
OTHER_PHONE = "+5511900000001"
BSUID = "BR.13491208655302741918"
VERDICTS = ["era", "pricing_model", "conversation_id", "pricing_category", "pricing_type", "billable",
            "opens_conversation", "csw_open", "policy_violation", "duplicate", "us_marketing_paused", "charge_reason",
            "country", "market", "tier", "rate", "cost", "currency", "rate_card"]
H = pd.Timedelta(hours=1)
T0 = pd.Timestamp("2025-08-04", tz="UTC")


def with_ids(frame: pd.DataFrame, phones: list, bsuids: list, users: list | None = None) -> pd.DataFrame:
    """The log with user_phone / user_bsuid (and `user` only when given) in place of its user."""
    out = frame.drop(columns="user").assign(user_phone=pd.Series(phones, dtype=object),
                                            user_bsuid=pd.Series(bsuids, dtype=object))
    if users is not None:
        out.insert(1, "user", pd.Series(users, dtype=object))
    return out


def windows(result) -> list[tuple]:
    w = result.windows
    return [(k, u, (s - T0) / H, (e - T0) / H) for k, u, s, e in zip(w.kind, w.user, w.start, w.end)]


def raises(frame, column, row, fragment, **kwargs):
    with pytest.raises(waconv.InputError) as info:
        waconv.classify(frame, **kwargs)
    assert (info.value.column, info.value.row) == (column, row)
    assert fragment in info.value.reason
    return info.value


def test_a_reply_to_a_bsuid_is_inside_the_window_its_phone_number_opened():
    frame = with_ids(
        log("2025-08-04", (0, "in"), (2, "out", "utility"), (3, "in"), (26, "out", "marketing"), (26.5, "out", "utility")),
        phones=[PHONE, None, PHONE, None, PHONE],
        bsuids=[None, BSUID, BSUID, BSUID, None],  # row 2 carries both and links them
    )
    result = waconv.classify(frame)
    assert verdicts(result, "user_key") == [PHONE] * 5
    assert verdicts(result, "csw_open") == [True, True, True, True, True]
    assert verdicts(result, "pricing_category") == [None, "utility", None, "marketing", "utility"]
    assert verdicts(result, "pricing_type") == [None, "free_customer_service", None, "regular", "free_customer_service"]
    assert verdicts(result, "country") == ["BR"] * 5
    assert result.messages.cost.sum() == pytest.approx(0.0625)
    assert windows(result) == [("customer_service", PHONE, 0.0, 27.0)]


def test_without_the_linking_row_the_bsuid_is_another_user():
    frame = with_ids(log("2025-08-04", (0, "in"), (2, "out", "utility")), phones=[PHONE, None], bsuids=[None, BSUID])
    result = waconv.classify(frame)
    assert verdicts(result, "user_key") == [PHONE, BSUID]
    assert verdicts(result, "csw_open") == [True, False]
    assert verdicts(result, "pricing_type") == [None, "regular"]
    assert result.messages.cost.sum() == pytest.approx(0.0068)
    assert windows(result) == [("customer_service", PHONE, 0.0, 24.0)]


def test_links_are_transitive_and_the_smallest_phone_number_is_the_key():
    # PHONE - BR.1 - OTHER_PHONE (a number change seen under one BSUID) - BR.2.
    frame = with_ids(
        log("2025-08-04", (0, "in"), (1, "in"), (2, "in"), (3, "in"), (30, "out", "utility")),
        phones=[PHONE, PHONE, OTHER_PHONE, OTHER_PHONE, None],
        bsuids=[None, "BR.1", "BR.1", "BR.2", "BR.2"],
    )
    result = waconv.classify(frame)
    assert OTHER_PHONE < PHONE
    assert verdicts(result, "user_key") == [OTHER_PHONE] * 5
    assert verdicts(result, "csw_open") == [True] * 4 + [False]
    assert windows(result) == [("customer_service", OTHER_PHONE, 0.0, 27.0)]
    assert verdicts(result, "pricing_type")[-1] == "regular"


def test_a_chain_through_the_user_column_links_too():
    # `user` is a row's phone number or BSUID by its shape, and links like them.
    frame = with_ids(
        log("2025-08-04", (0, "in"), (1, "out"), (2, "out"), (3, "out")),
        phones=[None, PHONE, None, None],
        bsuids=[None, "BR.1", "BR.2", None],
        users=["BR.1", "BR.2", "55 11 90000-0001", "55 11 90000-0001"],
    )
    result = waconv.classify(frame)
    # Phone numbers beat BSUIDs; of the two, the smallest value: "+55..." < "55 ...".
    assert verdicts(result, "user_key") == [PHONE] * 4
    assert verdicts(result, "policy_violation") == [False] * 4
    assert windows(result) == [("customer_service", PHONE, 0.0, 24.0)]
    # Without row 1's links, "55 11 ..." is a user of its own, and answered outside any window.
    apart = waconv.classify(frame.drop(index=1))
    assert verdicts(apart, "user_key") == ["BR.1", "55 11 90000-0001", "55 11 90000-0001"]
    assert verdicts(apart, "policy_violation") == [False, True, True]


def test_a_phone_number_is_the_key_even_where_a_bsuid_sorts_before_it():
    # Real BSUIDs start with letters and sort after every number; this one does not. The
    # user value is a phone number by its shape (digits only), the other is in user_bsuid.
    frame = with_ids(log("2025-08-04", (0, "in"), (1, "in")), phones=[None, None], bsuids=["12.345", "12.345"],
                     users=["5511987654321", None])
    assert verdicts(waconv.classify(frame), "user_key") == ["5511987654321"] * 2


def test_user_alone_is_used_where_a_row_has_no_phone_or_bsuid():
    frame = with_ids(log("2025-08-04", (0, "in"), (1, "out", "marketing")), phones=[None, None], bsuids=[BSUID, None],
                     users=[None, PHONE])
    result = waconv.classify(frame)
    assert verdicts(result, "user_key") == [BSUID, PHONE]
    assert verdicts(result, "csw_open") == [True, False]


def test_username_users_with_only_a_bsuid_stay_apart():
    frame = with_ids(
        log("2025-08-04", (0, "in"), (1, "in"), (2, "out"), (3, "out"), (30, "out", "marketing")),
        phones=[""] * 5,  # the phone number withheld: empty strings, not one user ""
        bsuids=["DE.111", "DE.222", "DE.111", "DE.222", "DE.222"],
    )
    result = waconv.classify(frame)
    assert verdicts(result, "user_key") == ["DE.111", "DE.222", "DE.111", "DE.222", "DE.222"]
    assert windows(result) == [("customer_service", "DE.111", 0.0, 24.0), ("customer_service", "DE.222", 1.0, 25.0)]
    assert verdicts(result, "pricing_type") == [None, None, "free_customer_service", "free_customer_service", "regular"]
    assert verdicts(result, "country") == ["DE"] * 5
    assert result.messages.cost.sum() == pytest.approx(0.1365)
    assert "" not in set(result.windows.user) | set(result.messages.user_key)


def test_the_keys_phone_number_gives_the_country():
    # A BSUID prefix says US, the linked phone number Brazil: the key is the number, so Brazil.
    frame = with_ids(log("2025-08-04", (0, "in"), (1, "out", "marketing"), (2, "out", "marketing")),
                     phones=[PHONE, None, None], bsuids=["US.1", "US.1", "US.2"])
    result = waconv.classify(frame)
    assert verdicts(result, "country") == ["BR", "BR", "US"]
    assert verdicts(result, "user_key") == [PHONE, PHONE, "US.2"]
    assert verdicts(result, "rate")[1] == pytest.approx(0.0625)


def test_empty_strings_are_nulls():
    frame = with_ids(log("2025-08-04", (0, "in"), (1, "in"), (2, "in")), phones=["", PHONE, ""],
                     bsuids=["DE.1", "", "DE.2"], users=["", "", ""])
    assert verdicts(waconv.classify(frame), "user_key") == ["DE.1", PHONE, "DE.2"]


def test_a_row_with_no_user_id_is_an_input_error():
    frame = with_ids(log("2025-08-04", (0, "in"), (1, "in"), (2, "in"), (3, "in")), phones=[PHONE, None, "", None],
                     bsuids=[None, BSUID, None, ""])
    raises(frame, "user_phone/user_bsuid", 2, "no user id")
    renamed = frame.rename(columns={"user_phone": "wa_id", "user_bsuid": "user_id"})
    error = raises(renamed, "wa_id/user_id", 2, "no user id", columns={"user_phone": "wa_id", "user_bsuid": "user_id"})
    assert "empty string" in error.reason
    raises(frame.assign(user=[None, None, None, PHONE]), "user/user_phone/user_bsuid", 2, "no user id")
    raises(frame.drop(columns="user_phone"), "user_bsuid", 0, "null or empty user_bsuid")
    raises(frame.assign(user=[PHONE, "", PHONE, PHONE]).drop(columns=["user_phone", "user_bsuid"]), "user", 1,
           "empty user")
    raises(frame.drop(columns=["user_phone", "user_bsuid"]), "user", None, "required column is missing")


def test_a_row_with_a_null_user_alone_is_still_a_null_user():
    frame = log("2025-08-04", (0, "in"), (1, "in"), (2, "in"))
    frame["user"] = pd.Series([PHONE, "", None], dtype=object)
    raises(frame, "user", 1, "empty user")
    frame.loc[1, "user"] = PHONE
    raises(frame, "user", 2, "null user")


def test_the_input_columns_come_back_unchanged():
    frame = with_ids(log("2025-08-04", (0, "in"), (1, "out"), (2, "out")), phones=[PHONE, "", None],
                     bsuids=[BSUID, BSUID, "DE.1"], users=["x.1", None, ""])
    frame = frame.astype({"user": "str", "user_phone": "string[pyarrow]", "user_bsuid": pd.ArrowDtype(pa.string())})
    result = waconv.classify(frame)
    pd.testing.assert_frame_equal(result.messages[frame.columns], frame)
    assert verdicts(result, "user_key") == [PHONE, PHONE, "DE.1"]
    assert list(result.conversations.user) + list(result.windows.user) == [PHONE]


def test_user_only_logs_get_their_user_as_the_key():
    frame = log("2025-08-04", (0, "in"), (1, "out"), user="US.1")
    result = waconv.classify(frame)
    assert verdicts(result, "user_key") == ["US.1", "US.1"]
    pd.testing.assert_frame_equal(result.messages[frame.columns], frame)


@pytest.mark.parametrize("dtype", [object, "str", "string[pyarrow]"])
def test_user_key_of_a_user_only_log_has_the_user_columns_dtype(dtype):
    # An object column stays object: pandas would otherwise convert the key to `str` row by row.
    frame = log("2025-08-04", (0, "in"), (1, "out"), user="US.1")
    frame["user"] = frame["user"].astype(dtype)
    key = waconv.classify(frame).messages["user_key"]
    assert key.dtype == frame["user"].dtype
    assert list(key) == ["US.1", "US.1"]


def test_integer_phone_numbers_beside_bsuids_become_text_keys():
    frame = with_ids(log("2025-08-04", (0, "in"), (1, "in"), (2, "out")), phones=[None, None, None],
                     bsuids=["BR.1", "BR.1", "BR.9"])
    frame["user_phone"] = pd.array([None, 5511987654321, 5511900000001], dtype="Int64")
    result = waconv.classify(frame)
    assert verdicts(result, "user_key") == ["5511987654321", "5511987654321", "5511900000001"]
    assert verdicts(result, "country") == ["BR"] * 3
    only = waconv.classify(frame.drop(columns="user_bsuid").iloc[1:])
    assert verdicts(only, "user_key") == [5511987654321, 5511900000001]


def test_row_order_changes_no_key_and_no_conversation():
    frame = with_ids(
        log("2023-07-03", (0, "in"), (1, "out", "marketing"), (2, "in"), (3, "out", "utility"), (4, "in")),
        phones=[OTHER_PHONE, None, PHONE, None, None], bsuids=["BR.2", "BR.2", "BR.1", "BR.1", "BR.3"],
    ).assign(message_id=[f"m{i}" for i in range(5)])
    a = waconv.classify(frame)
    b = waconv.classify(frame.iloc[::-1])
    pd.testing.assert_frame_equal(a.messages[["user_key", *VERDICTS]], b.messages[["user_key", *VERDICTS]].loc[frame.index])
    pd.testing.assert_frame_equal(a.conversations.drop(columns="opened_by"), b.conversations.drop(columns="opened_by"))
    assert list(a.conversations.user) == ["+5511900000001", "+5511987654321"]


# --- random logs against a naive union-find -------------------------------------------------

_PHONE_SHAPE = re.compile(r"[0-9+\-.() \t]*[0-9][0-9+\-.() \t]*")


def naive_keys(users: list, phones: list, bsuids: list) -> list:
    """Each row's key by the rules of SPEC §2, one value at a time."""
    parent: dict = {}
    is_phone: dict = {}

    def find(x):
        while parent[x] != x:
            x = parent[x]
        return x

    def given(value) -> bool:
        return isinstance(value, str) and value != ""  # None, NaN and "" are no id

    rows = []
    for user, phone, bsuid in zip(users, phones, bsuids):
        ids = []
        if given(user):
            ids.append((user, bool(_PHONE_SHAPE.fullmatch(user))))
        if given(phone):
            ids.append((phone, True))
        if given(bsuid):
            ids.append((bsuid, False))
        for value, phone_like in ids:
            parent.setdefault(value, value)
            is_phone[value] = is_phone.get(value, False) or phone_like
        for value, _ in ids[1:]:
            a, b = find(ids[0][0]), find(value)
            if a != b:
                parent[a] = b
        rows.append(ids[0][0])
    members: dict = {}
    for value in parent:
        members.setdefault(find(value), []).append(value)
    key = {}
    for group in members.values():
        phones_of = [v for v in group if is_phone[v]]
        chosen = min(phones_of) if phones_of else min(group)
        for v in group:
            key[v] = chosen
    return [key[v] for v in rows]


def identity_log(seed: int, with_user: bool) -> pd.DataFrame:
    """random_log's 12 users as people with 0-2 phone numbers and 1-2 BSUIDs drawn from small
    pools (so people share ids and merge), each row showing one or both, empty strings for some
    nulls, and with_user: a `user` column holding one of them on some rows."""
    frame = random_log(seed)
    rng = np.random.default_rng(seed)
    phones = [f"+55119{k:07d}" for k in range(15)] + ["5511 90000-0099", "(11) 99999-0000"]
    bsuids = [f"{c}.{k}" for c in ("BR", "DE", "US") for k in range(6)] + ["user.9373", "US.ENT.5"]
    people = {}
    for user in sorted(frame.user.unique()):
        n_phones = int(rng.integers(0, 3))
        people[user] = (list(rng.choice(phones, n_phones)), list(rng.choice(bsuids, int(rng.integers(1, 3)))))
    u_col, p_col, b_col = [], [], []
    for user in frame.user:
        own_phones, own_bsuids = people[user]
        phone = str(rng.choice(own_phones)) if own_phones and rng.random() < 0.6 else None
        bsuid = str(rng.choice(own_bsuids)) if rng.random() < 0.7 or phone is None else None
        row_user = None
        if with_user and rng.random() < 0.4:
            if rng.random() < 0.5 and bsuid is not None:
                row_user, bsuid = bsuid, None
            elif phone is not None:
                row_user, phone = phone, None
            else:
                row_user = str(rng.choice(own_phones + own_bsuids))
        u_col.append(row_user)
        p_col.append(phone if phone is not None or rng.random() < 0.7 else "")
        b_col.append(bsuid if bsuid is not None or rng.random() < 0.7 else "")
    out = frame.drop(columns="user").assign(user_phone=pd.Series(p_col, dtype=object),
                                            user_bsuid=pd.Series(b_col, dtype=object))
    if with_user:
        out.insert(1, "user", pd.Series(u_col, dtype=object))
    return out


DTYPES = [object, "str", "string[pyarrow]", pd.ArrowDtype(pa.large_string())]


@settings(max_examples=50, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), with_user=st.booleans(), dtype=st.sampled_from(DTYPES),
       rules=st.sampled_from(["auto", "cbp_v2", "pmp_v2"]))
@pytest.mark.filterwarnings("ignore::waconv.WaconvWarning")
def test_random_links_equal_classifying_with_the_naive_keys(seed, with_user, dtype, rules):
    frame = identity_log(seed, with_user)
    id_columns = [c for c in ("user", "user_phone", "user_bsuid") if c in frame.columns]
    keys = naive_keys(*[list(frame[c]) if c in frame else [None] * len(frame) for c in ("user", "user_phone", "user_bsuid")])
    typed = frame.astype({c: dtype for c in id_columns})
    actual = waconv.classify(typed, timezones=TIMEZONES, rules=rules)
    expected = waconv.classify(frame.drop(columns=id_columns).assign(user=keys), timezones=TIMEZONES, rules=rules)
    assert list(actual.messages.user_key.astype(object)) == keys
    pd.testing.assert_frame_equal(actual.messages[VERDICTS], expected.messages[VERDICTS])
    for table in ("conversations", "windows"):
        got, want = getattr(actual, table), getattr(expected, table)
        assert list(got.user.astype(object)) == list(want.user.astype(object))
        pd.testing.assert_frame_equal(got.drop(columns="user"), want.drop(columns="user"))
    if dtype is not object:  # object columns of text come back in pandas' str dtype (messages_table)
        pd.testing.assert_frame_equal(actual.messages[typed.columns], typed)


@pytest.mark.filterwarnings("ignore::waconv.WaconvWarning")
def test_a_large_log_links_the_same_way():
    # From 200,000 rows the ids are resolved on a second thread while the other columns convert.
    rng = np.random.default_rng(7)
    n, people = 240_000, 30_000
    person = rng.integers(0, people, n)
    phone_of = np.char.add("+55119", np.char.zfill(np.arange(people).astype(str), 7))
    bsuid_of = np.char.add("BR.", np.arange(people).astype(str))
    shown = rng.integers(0, 3, n)  # 0 phone, 1 BSUID, 2 both
    linked = np.zeros(people, bool)
    linked[person[shown == 2]] = True
    frame = pd.DataFrame({
        "business": "b1",
        "user_phone": pd.Series(np.where(shown != 1, phone_of[person], None), dtype="str"),
        "user_bsuid": pd.Series(np.where(shown != 0, bsuid_of[person], ""), dtype="str"),
        "timestamp": pd.Timestamp("2025-08-04", tz="UTC") + pd.to_timedelta(rng.integers(0, 30 * 86_400, n), "s"),
        "direction": np.where(rng.random(n) < 0.5, "inbound", "outbound"),
    })
    result = waconv.classify(frame)
    keys = np.where((shown != 1) | linked[person], phone_of[person], bsuid_of[person])
    assert (result.messages.user_key.to_numpy(dtype=object) == keys).all()
    expected = waconv.classify(frame.drop(columns=["user_phone", "user_bsuid"]).assign(user=keys))
    # DataFrame.equals compares column by column in C; assert_frame_equal takes 30 s on 240,000 rows.
    assert result.messages[VERDICTS].equals(expected.messages[VERDICTS])
    assert result.windows.equals(expected.windows) and len(result.windows) > 10_000


def test_the_timeline_of_a_key_draws_the_rows_of_its_linked_ids():
    frame = with_ids(log("2025-08-04", (0, "in"), (2, "out", "utility"), (3, "in"), (5, "out")),
                     phones=[PHONE, None, PHONE, None], bsuids=[None, BSUID, BSUID, "DE.1"])
    ax = waconv.classify(frame).plot.timeline(PHONE)
    assert sum(len(c.get_segments()) for c in ax.collections if c.get_gid() is None) == 3  # not DE.1's
