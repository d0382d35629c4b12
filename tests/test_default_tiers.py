"""Meta's volume tiers by default (SPEC §6, issue #14): the shipped USD table of 2026-04-01
applies from its date (WABA-local), counted per portfolio x market x category group per
WABA-local month, graduated; a user table replaces it; None / False / --no-volume-tiers
turn tiers off."""

from __future__ import annotations

import io
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

import waconv

US_USER = "+12025550123"  # North America: utility list rate 0.0034 up to 80,000 a month, then 0.0032
PERU_USER = "+51912345678"  # Peru: list 0.02 to 100,000 in the April table; 0.03 on the October card
KOLKATA = {"w1": "Asia/Kolkata", "w2": "Asia/Kolkata"}
pytestmark = pytest.mark.filterwarnings("ignore::waconv.WaconvWarning")


def templates(times, *, waba: str = "w1", portfolio: str = "p", category: str = "utility",
              user: str = US_USER) -> pd.DataFrame:
    times = pd.DatetimeIndex(times)
    times = times.tz_localize("UTC") if times.tz is None else times
    return pd.DataFrame({
        "business": f"phone-{waba}", "user": user, "waba": waba, "portfolio": portfolio,
        "timestamp": times, "direction": "outbound", "template_category": category,
        "delivered_at": times, "message_id": [f"{waba}-{category}-{user}-{i}" for i in range(len(times))],
    })


def every(start: str, n: int, seconds: int = 5) -> pd.DatetimeIndex:
    return pd.Timestamp(start, tz="UTC") + pd.to_timedelta(np.arange(n) * seconds, unit="s")


def test_default_tiers_graduate_across_a_band_boundary_mid_month():
    # 80,001 utility templates to North America from 2026-04-15, then one on 2026-04-30 at
    # 23:30 and one on 2026-05-01 at 00:30 India time (18:00 and 19:00 UTC on April 30).
    late = pd.DatetimeIndex(["2026-04-30 18:00", "2026-04-30 19:00"], tz="UTC")
    p = templates(every("2026-04-15", 80_001).append(late))
    auth = templates(["2026-04-29"], category="authentication", user="+12025550124")  # its own count
    q = templates(["2026-04-29"], waba="w2", portfolio="q")  # another portfolio: its own count
    m = waconv.classify(pd.concat([p, auth, q], ignore_index=True), timezones=KOLKATA).messages
    cost = m.cost.to_numpy()
    assert (cost[:80_000] == 0.0034).all()
    assert list(cost[80_000:80_003]) == [0.0032, 0.0032, 0.0034]  # May (India time) counts afresh
    assert list(m.tier[79_999:80_003]) == ["0:80000", "80001:750000", "80001:750000", "0:80000"]
    assert list(m.tier[80_003:]) == ["0:100000", "0:80000"]
    assert list(cost[80_003:]) == [0.0034, 0.0034]
    assert (m.rate_card[:80_003] == "USD PMP 2026-04-01").all()


def test_no_tiers_before_2026_04_01_wherever_the_waba_is():
    # 80,002 in March 2026: no public table, so every one at list rate and no tier. The last
    # is sent 2026-03-31 19:00 UTC, which is 2026-04-01 00:30 in Kolkata: tiers apply there.
    frame = templates(every("2026-03-05", 80_001).append(pd.DatetimeIndex(["2026-03-31 19:00"], tz="UTC")))
    m = waconv.classify(frame, timezones=KOLKATA).messages
    assert m.tier[:80_001].isna().all()
    assert (m.cost[:80_001] == 0.0034).all()
    assert m.tier.iloc[-1] == "0:80000"
    utc = waconv.classify(frame).messages  # in UTC the last one is still March
    assert utc.tier.isna().all()


def test_a_card_change_after_the_table_leaves_those_cells_untiered():
    # October 2026 raised Peru's utility list rate (0.02 -> 0.03): the April table's bands are
    # not Meta's October bands, and no public USD table has them. Peru is priced at its list
    # rate untiered; North America, whose rate did not change, stays tiered.
    peru = templates(every("2026-10-02", 100_001, seconds=2), user=PERU_USER)
    north_america = templates(every("2026-10-02", 80_001, seconds=2), waba="w2", portfolio="q")
    m = waconv.classify(pd.concat([peru, north_america], ignore_index=True),
                        service_free_allowance=0).messages
    assert (m.market[:100_001] == "Peru").all()
    assert m.tier[:100_001].isna().all()
    assert (m.cost[:100_001] == 0.03).all()
    assert m.tier.iloc[-1] == "80001:750000" and m.cost.iloc[-1] == 0.0032
    september = templates(every("2026-09-02", 100_001, seconds=2), user=PERU_USER)  # July card: 0.02
    s = waconv.classify(september).messages
    assert s.tier.iloc[-1] == "100001:1000000" and s.cost.iloc[-1] == 0.019


TABLE = """Market,Category,Tier,Rate
North America,utility,0:2,0.0034
North America,utility,3:MAX,0.001
"""


def test_a_user_table_replaces_the_shipped_one_at_every_date():
    frame = pd.concat([templates(every("2026-04-10", 4)), templates(every("2025-09-10", 4), waba="w2")],
                      ignore_index=True)
    m = waconv.classify(frame, volume_tiers=io.StringIO(TABLE)).messages
    assert m.tier.tolist() == ["0:2", "0:2", "3:MAX", "3:MAX"] * 2  # also before 2026-04-01
    assert m.cost.tolist()[:4] == [0.0034, 0.0034, 0.001, 0.001]
    default = waconv.classify(frame).messages
    assert default.tier.astype(object).where(default.tier.notna(), None).tolist() == ["0:80000"] * 4 + [None] * 4


@pytest.mark.parametrize("off", [None, False])
def test_none_or_false_turns_tiers_off(off):
    frame = templates(every("2026-04-15", 80_001))
    m = waconv.classify(frame, volume_tiers=off).messages
    assert m.tier.isna().all()
    assert (m.cost == 0.0034).all()


def test_volume_tiers_must_be_a_table_or_a_switch():
    with pytest.raises(waconv.InputError, match="volume_tiers.*expected True, False/None or a tier table"):
        waconv.classify(templates(every("2026-04-15", 2)), volume_tiers=1)


def test_command_line_switch_turns_tiers_off(tmp_path):
    path = tmp_path / "log.csv"
    templates(every("2026-04-15", 80_001)).to_csv(path, index=False)
    for flags, bill in (([], 80_000 * 0.0034 + 0.0032), (["--no-volume-tiers"], 80_001 * 0.0034)):
        out = tmp_path / ("off" if flags else "on")
        run = subprocess.run([sys.executable, "-m", "waconv.cli", "classify", str(path), "-o", str(out), "-q",
                              "--output-format", "csv", *flags], capture_output=True, text=True, check=True)
        assert f"bill {bill:,.2f} USD" in run.stdout
        written = pd.read_csv(out / "messages.csv")
        assert written.cost.sum() == pytest.approx(bill)
    with pytest.raises(subprocess.CalledProcessError):
        subprocess.run([sys.executable, "-m", "waconv.cli", "classify", str(path), "-o", str(tmp_path / "x"), "-q",
                        "--no-volume-tiers", "--volume-tiers", str(path)], capture_output=True, check=True)


def test_list_rate_past_the_first_band_of_a_stale_cell_is_reported_not_silent():
    # Peru utility: the October card changed the list rate the April table starts from, so the
    # cell is untiered from 2026-10-01; past 100,000 a month Meta would most likely discount.
    log = templates(every("2026-10-02", 100_007, seconds=20), user=PERU_USER)
    with pytest.warns(waconv.WaconvWarning, match=r"utility in Peru from 2026-10-01: 7 past 100,000 a month"):
        result = waconv.classify(log)
    assert result.messages["tier"].isna().all()
    assert (result.messages["rate"] == 0.03).all()


def test_a_stale_cell_within_its_first_band_is_not_reported():
    import warnings

    log = templates(every("2026-10-02", 1_000, seconds=20), user=PERU_USER)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        waconv.classify(log)
    assert not [w for w in caught if "no volume tier" in str(w.message)]
