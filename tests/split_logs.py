"""Logs and checks shared by the tests of the split drivers (waconv.scale): logs that make
phase 2 cross partitions, and the equality with one waconv.classify that SPEC §9 promises."""

from __future__ import annotations

import io
import warnings

import numpy as np
import pandas as pd

from builders import log as built_log
from random_logs import TIMEZONES, random_log
from waconv import RateCard, WaconvWarning

# Small bands, so random logs cross a tier boundary with rows of many pairs.
TIERS = """Market,Category,Tier,Rate
Brazil,utility,0:15,0.0068
Brazil,utility,16:MAX,0.005
Brazil,authentication,0:10,0.0300
Brazil,authentication,11:MAX,0.0200
"""
# Small allowances, so the free tier and the service allowance run out across partitions.
OPTIONS = {"timezones": TIMEZONES, "free_tier_conversations": 6, "service_free_allowance": 5}


def options(**more):
    return {**OPTIONS, "volume_tiers": io.StringIO(TIERS), **more}


def split_log(seed: int, n_rows: int = 1500, n_users: int = 60) -> pd.DataFrame:
    """A random log over an era switch, in two time zones, with message ids that repeat
    across pairs (random_log draws them from the whole log)."""
    return random_log(seed, n_rows, n_users)


def linked_log(seed: int, n_rows: int = 1200, n_users: int = 40) -> pd.DataFrame:
    """The same users named by user_phone, user_bsuid or both (no user column): only the
    rows carrying both link a person's two ids, wherever in the log they are."""
    frame = random_log(seed, n_rows, n_users)
    rng = np.random.default_rng(seed + 1000)
    phones = frame.pop("user").to_numpy()
    bsuids = np.array(["BR." + p[-7:] for p in phones], dtype=object)
    which = rng.choice(3, len(frame), p=[0.4, 0.35, 0.25])  # phone only, BSUID only, both
    frame["user_phone"] = np.where(which != 1, phones, None)
    frame["user_bsuid"] = np.where(which != 0, bsuids, None)
    return frame


def same_conversations(ref: pd.Series, got: pd.Series) -> bool:
    """Whether the ids group the rows alike: one-to-one, nulls at the same rows."""
    a, b = ref.isna().to_numpy(), got.isna().to_numpy()
    if not (a == b).all():
        return False
    pairs = pd.DataFrame({"ref": ref[~a].to_numpy(), "got": got[~b].to_numpy()}).drop_duplicates()
    return pairs["ref"].is_unique and pairs["got"].is_unique


def values(series: pd.Series) -> list:
    return series.astype(object).where(series.notna(), None).tolist()


def assert_same_messages(ref: pd.DataFrame, got: pd.DataFrame) -> None:
    """Every row's per-message result equal to one classify's, rows by input position."""
    got = got.sort_index()
    assert len(got) == len(ref) and (got.index.to_numpy() == np.arange(len(ref))).all()
    assert list(got.columns) == list(ref.columns)
    for column in ref.columns:
        if column == "conversation_id":
            assert same_conversations(ref[column].reset_index(drop=True), got[column].reset_index(drop=True))
        else:
            expected, found = values(ref[column]), values(got[column])
            differ = [i for i, (x, y) in enumerate(zip(expected, found)) if x != y]
            assert not differ, f"{column}: first different row {differ[0]}: {expected[differ[0]]!r} != {found[differ[0]]!r}"


def conversation_rows(conversations: pd.DataFrame) -> list[tuple]:
    """The conversations by their opening row, without their ids (which may differ)."""
    keep = [c for c in conversations.columns if c != "conversation_id"]
    rows = conversations[keep].astype(object).where(conversations[keep].notna(), None)
    return sorted(map(tuple, rows.itertuples(index=False)), key=lambda r: (r[keep.index("opened_by")],))


def warning_texts(call) -> list[str]:
    """The WaconvWarnings call() raises in this process, sorted."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        call()
    return sorted(str(w.message) for w in caught if issubclass(w.category, WaconvWarning))


NO_RATE = r"no rate for utility in Brazil \(first needed by row 2\)"  # card_without_a_rate's error


def card_without_a_rate() -> tuple:
    """A user's rate card with no utility rate for Brazil, and a log that needs one first at
    row 2 (phase 2's InputError, NO_RATE):
    another user's inbound rows come first, so phase 2, which holds only the rows with a
    unit, must name the row by its input position."""
    card = RateCard.from_csv(io.StringIO(
        "Cost per message in USD on the WhatsApp Business Platform, effective July 1, 2026,,,,\n"
        "Market,Currency,Marketing,Utility,Authentication,Service\n"
        "Brazil,USD,0.0625,n/a,0.0068,0\nOther,USD,0.06,0.01,0.01,0\n"))
    before = built_log("2026-08-03", (0, "in"), (1, "in"), user="+5511900000000")
    frame = built_log("2026-08-03", (2, "out", "utility"), (30, "out", "marketing"), user="+5511987654321")
    return card, pd.concat([before, frame], ignore_index=True)
