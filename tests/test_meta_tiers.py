"""Meta's own volume-tier CSV read by the tier reader and applied (issue #14, SPEC §6).

tests/fixtures/rate_cards/usd_volume_tiers_2026-04-01.csv is a byte copy of Meta's file:
17 columns (Market, Currency, then From / To / Rate type / Rate / "vs. List rate" for
utility, authentication and authentication-international), the market named on its first
band only, bounds with thousands separators, "--" for the open top band.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import waconv
from waconv import InputError, TierTable
from waconv.pricing.tiers import MAX

META_TIERS = Path(__file__).resolve().parent / "fixtures" / "rate_cards" / "usd_volume_tiers_2026-04-01.csv"
US_USER = "+12025550123"  # North America: utility list rate 0.0034 up to 80,000 a month


def _file_bands() -> list[tuple[str, str, int, int, float]]:
    """Every band as the file writes it, read with the csv module alone."""
    with META_TIERS.open(newline="", encoding="utf-8") as fh:
        rows = list(csv.reader(fh))
    sections = {2: "utility", 7: "authentication", 12: "authentication_international"}
    out, market = [], None
    for row in rows[5:]:
        market = row[0] or market
        for j, category in sections.items():
            if row[j] == "n/a":
                continue
            upper = MAX if row[j + 1] == "--" else int(row[j + 1].replace(",", ""))
            out.append((market, category, int(row[j].replace(",", "")), upper, float(row[j + 3])))
    return out


def test_reads_every_band_of_meta_tier_csv():
    table = TierTable.from_csv(META_TIERS)
    got = [(b.market, b.category, b.lower, b.upper, b.rate) for b in table.bands]
    expected = _file_bands()
    assert len(expected) == 32 * 6 * 2 + 9 * 6
    assert sorted(got) == sorted(expected)
    india = [b for b in table.bands if (b.market, b.category) == ("India", "authentication_international")]
    assert [(b.label, b.rate) for b in india] == [
        ("0:750000", 0.0304), ("750001:15000000", 0.0286), ("15000001:20000000", 0.0268),
        ("20000001:50000000", 0.0249), ("50000001:100000000", 0.0231), ("100000001:MAX", 0.0213)]
    assert not [b for b in table.bands if b.market == "Argentina" and b.category == "authentication_international"]


def test_meta_layout_errors_name_line_and_column():
    text = META_TIERS.read_text(encoding="utf-8").replace('"100,001","1,000,000"', '"100,001","1.000.000"', 1)
    with pytest.raises(InputError, match=r"line 8, column 'Utility To': message count '1\.000\.000' is not a whole number"):
        TierTable.from_csv(io.StringIO(text))
    text = META_TIERS.read_text(encoding="utf-8").replace("Argentina,USD", "Argentinia,USD", 1)
    with pytest.raises(InputError, match="unknown market 'Argentinia'"):
        TierTable.from_csv(io.StringIO(text))


def _utility(times, *, portfolio: str, waba: str, category: str = "utility", user: str = US_USER) -> pd.DataFrame:
    n = len(times)
    return pd.DataFrame({
        "business": f"phone-{waba}", "user": user, "waba": waba, "portfolio": portfolio,
        "timestamp": times, "direction": "outbound", "template_category": category,
        "delivered_at": times, "message_id": [f"{waba}-{category}-{i}" for i in range(n)],
    })


def test_meta_tiers_graduated_across_a_band_boundary_mid_month():
    # Portfolio p: 80,001 utility templates to North America from 2026-04-15 (mid-month),
    # then one at 2026-04-30 23:30 and one at 2026-05-01 00:30 India time (the WABA's zone:
    # 18:00 and 19:00 UTC on April 30). Messages 1..80,000 are list rate 0.0034, 80,001 and
    # 80,002 the tier rate 0.0032; May's first is list rate again.
    start = pd.Timestamp("2026-04-15 00:00", tz="UTC")
    times = start + pd.to_timedelta(np.arange(80_001) * 5, unit="s")
    late = pd.DatetimeIndex([pd.Timestamp("2026-04-30 18:00", tz="UTC"), pd.Timestamp("2026-04-30 19:00", tz="UTC")])
    p = _utility(times.append(late), portfolio="p", waba="w1")
    # Same portfolio, same market, authentication: its own count (list rate).
    auth = _utility(pd.DatetimeIndex([pd.Timestamp("2026-04-29", tz="UTC")]), portfolio="p", waba="w1",
                    category="authentication", user="+12025550124")
    # Another portfolio in the same market and month: its own count (list rate).
    q = _utility(pd.DatetimeIndex([pd.Timestamp("2026-04-29", tz="UTC")]), portfolio="q", waba="w2")
    frame = pd.concat([p, auth, q], ignore_index=True)
    r = waconv.classify(frame, volume_tiers=META_TIERS, timezones={"w1": "Asia/Kolkata", "w2": "Asia/Kolkata"})
    m = r.messages
    cost = m.cost.to_numpy()
    assert (m.market[:80_003] == "North America").all()
    assert (cost[:80_000] == 0.0034).all()
    assert list(cost[80_000:80_003]) == [0.0032, 0.0032, 0.0034]
    assert list(m.tier[79_999:80_003]) == ["0:80000", "80001:750000", "80001:750000", "0:80000"]
    assert list(cost[80_003:]) == [0.0034, 0.0034]  # authentication; portfolio q
    assert list(m.tier[80_003:]) == ["0:100000", "0:80000"]


def test_shipped_meta_tier_table_is_meta_file():
    import hashlib

    shipped = Path(waconv.__file__).parent / "pricing" / "data" / "volume_tiers" / "usd_2026-04-01.csv"
    digest = hashlib.sha256(shipped.read_bytes()).hexdigest()
    assert digest == "78245f8a0115201b988a2f9e1d0ffae020532b130b98de3b90a016bb47a82127"
    assert TierTable.from_csv(shipped).bands == TierTable.from_csv(META_TIERS).bands


LONG = Path(__file__).resolve().parent / "fixtures" / "rate_cards" / "inr_volume_tiers_2026-10-01_long.csv"


def test_reads_the_long_tier_layout_band_by_band():
    # market,currency,category,band,up_to,rate: band n starts after band n-1's up_to.
    with LONG.open(newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    table = TierTable.from_csv(LONG)
    assert len(table.bands) == len(rows) == 672
    for row, band in zip(rows, table.bands):
        assert (band.market, band.category.replace("_", "-"), band.rate) == (row["market"], row["category"],
                                                                            float(row["rate"]))
        assert band.upper == (int(row["up_to"]) if row["up_to"] else MAX)
    india = [(b.label, b.rate) for b in table.bands if (b.market, b.category) == ("India", "utility")]
    assert india[:2] == [("0:25000000", 0.115), ("25000001:50000000", 0.1081)]
    assert india[-1] == ("300000001:MAX", 0.0805)
    shipped = Path(waconv.__file__).parent / "pricing" / "data" / "volume_tiers" / "inr_2026-10-01.csv"
    assert shipped.read_bytes() == LONG.read_bytes()


def test_long_layout_errors_name_line_and_column():
    text = LONG.read_text(encoding="utf-8").replace("Argentina,INR,utility,2,", "Argentina,INR,utility,3,", 1)
    with pytest.raises(InputError, match=r"line 4, column 'band': band '3' of Argentina utility: expected 2"):
        TierTable.from_csv(io.StringIO(text))
    text = LONG.read_text(encoding="utf-8").replace("Argentina,INR,utility,1,1000000", "Argentina,INR,utility,1,50", 1)
    with pytest.raises(InputError, match=r"line 3, column 'up_to': band 1 of Argentina utility ends at 50"):
        TierTable.from_csv(io.StringIO(text))
