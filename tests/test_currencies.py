"""Local currencies (SPEC §6, issue #14): a WABA billed in INR is priced by the INR cards
waconv ships, the `currency` column says so, a currency with no card in force is an
InputError naming WABA, currency and date (never a conversion), and bills never add two
currencies."""

from __future__ import annotations

import csv
import subprocess
import sys
import warnings
from pathlib import Path

import pandas as pd
import pytest

import waconv
from waconv.analytics.summary import costs_by_currency

CARDS = Path(__file__).resolve().parent.parent / "python" / "waconv" / "pricing" / "data" / "rate_cards"
INDIA, BRAZIL = "+919876543210", "+5511987654321"
COLUMN = {"marketing": "Marketing", "utility": "Utility", "authentication": "Authentication"}


def cell(path: Path, market: str, category: str) -> float:
    """A card's cell read with the csv module alone (the header's 'Market' row starts the table)."""
    with path.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    header = next(i for i, row in enumerate(rows) if row and row[0] == "Market")
    columns = rows[header]
    row = next(r for r in rows[header + 1:] if r and r[0] == market)
    return float(row[columns.index(COLUMN[category])].replace(",", ""))


def sends(waba: str, day: str, *templates: tuple[str, str]) -> pd.DataFrame:
    """One business-initiated template per (user, category), an hour apart, outside any window."""
    start = pd.Timestamp(day, tz="UTC")
    times = [start + pd.Timedelta(hours=k) for k in range(len(templates))]
    return pd.DataFrame({
        "business": f"phone-{waba}", "waba": waba, "user": [u for u, _ in templates], "timestamp": times,
        "direction": "outbound", "template_category": [c for _, c in templates], "delivered_at": times,
        "message_id": [f"{waba}-{day}-{k}" for k in range(len(templates))],
    })


TRAFFIC = ((INDIA, "marketing"), (BRAZIL, "utility"), (INDIA, "authentication"))


def test_inr_and_usd_wabas_in_one_log_each_priced_from_its_own_card():
    frame = pd.concat([sends("waba-in", "2025-11-03", *TRAFFIC), sends("waba-us", "2025-11-03", *TRAFFIC),
                       sends("waba-in", "2026-11-03", *TRAFFIC), sends("waba-us", "2026-11-03", *TRAFFIC)],
                      ignore_index=True)
    m = waconv.classify(frame, currencies={"waba-in": "INR"}, service_free_allowance=0).messages
    sources = {("waba-in", "2025"): "local/inr_2025-10-01.csv", ("waba-us", "2025"): "usd_2025-10-01.csv",
               ("waba-in", "2026"): "local/inr_2026-10-01.csv", ("waba-us", "2026"): "usd_2026-10-01.csv"}
    for row in m.itertuples():
        source = sources[(row.waba, str(row.timestamp.year))]
        assert row.cost == cell(CARDS / source, row.market, row.pricing_category), (row.waba, row.timestamp)
        assert row.currency == ("INR" if row.waba == "waba-in" else "USD")
        assert row.rate_card == f"{row.currency} PMP {Path(source).stem.split('_')[1]}"
    assert m.cost.iloc[0] == 0.7846 and m.cost.iloc[3] == 0.0107  # India marketing, INR and USD
    totals = costs_by_currency(m)
    assert list(totals.index) == ["INR", "USD"]
    assert totals["INR"] == pytest.approx(m.cost[m.waba == "waba-in"].sum())
    r = waconv.classify(frame, currencies={"waba-in": "INR"}, service_free_allowance=0)
    summary = r.summary(granularity="MONTHLY")
    by_waba = summary.groupby("waba")["cost"].sum()
    assert by_waba["waba-in"] == pytest.approx(totals["INR"]) and by_waba["waba-us"] == pytest.approx(totals["USD"])


def test_a_currency_without_a_card_in_force_is_an_input_error():
    # The first INR card is 2025-10-01: an INR WABA's September message has no card, and
    # waconv does not convert the USD rate.
    frame = pd.concat([sends("waba-us", "2025-09-10", *TRAFFIC), sends("waba-in", "2025-09-10", *TRAFFIC)],
                      ignore_index=True)
    with pytest.raises(waconv.InputError, match=r"column 'currencies', row 3: WABA 'waba-in' is billed in INR, "
                                                r"but no INR card is in force on 2025-09-10"):
        waconv.classify(frame, currencies={"waba-in": "INR"})
    # 02:00 UTC on the card's day is still September 30 in Sao Paulo: the date is the WABA's.
    late = sends("waba-br", "2025-10-01 02:00", (BRAZIL, "marketing"))
    with pytest.raises(waconv.InputError, match=r"no INR card is in force on 2025-09-30 \(America/Sao_Paulo;"):
        waconv.classify(late, currencies={"waba-br": "INR"}, timezones={"waba-br": "America/Sao_Paulo"})
    assert waconv.classify(late, currencies={"waba-br": "INR"}).messages.cost.iloc[0] == 4.5808
    cbp = sends("waba-in", "2024-11-04", (INDIA, "marketing"))  # no INR card of the CBP eras
    with pytest.raises(waconv.InputError, match="no INR card is in force on 2024-11-04"):
        waconv.classify(cbp, currencies={"waba-in": "INR"})


def test_a_currency_waconv_ships_no_card_of():
    with pytest.raises(waconv.InputError, match="column 'currencies': waconv ships no JPY rate card"):
        waconv.classify(sends("w", "2026-11-03", *TRAFFIC), currencies={"w": "JPY"})
    with pytest.raises(waconv.InputError, match="currencies.*3-letter ISO 4217"):
        waconv.classify(sends("w", "2026-11-03", *TRAFFIC), currencies={"w": "rupees"})


def test_an_unknown_waba_key_warns_like_timezones():
    with pytest.warns(waconv.WaconvWarning, match="currencies key 'waba-typo' names no WABA of the log"):
        m = waconv.classify(sends("waba-in", "2026-11-03", *TRAFFIC), currencies={"waba-typo": "INR"}).messages
    assert (m.currency == "USD").all()


def test_inr_wabas_are_tiered_by_the_inr_table_from_its_date():
    # INR tiers ship from 2026-10-01 (North America utility: 0.2491 to 80,000, then 0.2366).
    # The USD table's rates are dollars: before that date an INR WABA is not tiered at all.
    us = "+12025550123"
    october = pd.Timestamp("2026-10-05", tz="UTC") + pd.to_timedelta(range(0, 80_001 * 2, 2), unit="s")
    frame = pd.DataFrame({"business": "b", "waba": "waba-in", "user": us, "timestamp": october,
                          "direction": "outbound", "template_category": "utility", "delivered_at": october,
                          "message_id": [f"m{k}" for k in range(len(october))]})
    m = waconv.classify(frame, currencies={"waba-in": "INR"}).messages
    assert (m.cost[:80_000] == 0.2491).all() and (m.tier[:80_000] == "0:80000").all()
    assert m.cost.iloc[-1] == 0.2366 and m.tier.iloc[-1] == "80001:750000"
    assert (m.currency == "INR").all()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", waconv.WaconvWarning)
        frame = sends("waba-in", "2026-09-03", (INDIA, "utility"))
        usd = waconv.classify(frame).messages
        inr = waconv.classify(frame, currencies={"waba-in": "INR"}).messages
    assert usd.tier.iloc[0] == "0:25000000" and usd.cost.iloc[0] == 0.0014
    assert inr.cost.iloc[0] == 0.115 and inr.currency.iloc[0] == "INR" and pd.isna(inr.tier.iloc[0])


def test_command_line_currency_option(tmp_path):
    path = tmp_path / "log.csv"
    pd.concat([sends("waba-in", "2026-11-03", *TRAFFIC), sends("waba-us", "2026-11-03", *TRAFFIC)],
              ignore_index=True).to_csv(path, index=False)
    run = subprocess.run([sys.executable, "-m", "waconv.cli", "classify", str(path), "-o", str(tmp_path / "out"),
                          "-q", "--output-format", "csv", "--currency", "waba-in=inr"],
                         capture_output=True, text=True, check=True)
    written = pd.read_csv(tmp_path / "out" / "messages.csv")
    assert written.groupby("waba").currency.unique().map(list).to_dict() == {"waba-in": ["INR"], "waba-us": ["USD"]}
    inr, usd = (written.cost[written.waba == w].sum() for w in ("waba-in", "waba-us"))
    assert f"bill {inr:,.2f} INR + {usd:,.2f} USD" in run.stdout
    bad = subprocess.run([sys.executable, "-m", "waconv.cli", "classify", str(path), "-o", str(tmp_path / "x"),
                          "--currency", "waba-in=rupee"], capture_output=True, text=True)
    assert bad.returncode == 2
    assert "option --currency: expected a 3-letter currency code" in bad.stderr


def test_daily_cost_refuses_to_stack_two_currencies():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    frame = pd.concat([sends("waba-in", "2026-11-03", *TRAFFIC), sends("waba-us", "2026-11-04", *TRAFFIC)],
                      ignore_index=True)
    r = waconv.classify(frame, currencies={"waba-in": "INR"})
    with pytest.raises(waconv.InputError, match=r"several currencies \(INR, USD\).*currency='INR'"):
        r.plot.daily_cost()
    ax = r.plot.daily_cost(currency="INR")
    heights = sum(p.get_height() for p in ax.patches)
    assert heights == pytest.approx(r.messages.cost[r.messages.waba == "waba-in"].sum())
    assert ax.get_ylabel() == "cost (INR)"
    plt.close("all")


def test_a_free_entry_point_window_of_an_inr_waba_is_in_inr():
    # A click-to-WhatsApp entry opens a free entry point window: a conversation row in the
    # PMP eras too, whose card (for its currency) is a per-message one, not a CBP card.
    start = pd.Timestamp("2026-11-03", tz="UTC")
    times = [start, start + pd.Timedelta(minutes=5)]
    frame = pd.DataFrame({"business": "b", "waba": "waba-in", "user": INDIA, "timestamp": times,
                          "direction": ["inbound", "outbound"], "template_category": [None, "marketing"],
                          "delivered_at": [pd.NaT, times[1]], "referral": [True, False]})
    r = waconv.classify(frame, currencies={"waba-in": "INR"})
    assert r.messages.pricing_type.iloc[1] == "free_entry_point"
    assert r.messages.currency.iloc[1] == "INR"
    assert r.conversations.currency.tolist() == ["INR"] and r.conversations.cost.tolist() == [0.0]


def test_a_user_tier_table_is_for_the_default_currency_only():
    # Its rates are dollars: the INR WABA keeps the INR table (North America 0.2491 to 80,000).
    table = "Market,Category,Tier,Rate\nNorth America,utility,0:MAX,0.001\n"
    frame = pd.concat([sends("waba-in", "2026-11-03", ("+12025550123", "utility")),
                       sends("waba-us", "2026-11-03", ("+12025550123", "utility"))], ignore_index=True)
    import io

    m = waconv.classify(frame, currencies={"waba-in": "INR"}, volume_tiers=io.StringIO(table)).messages
    assert m.cost.tolist() == [0.2491, 0.001]
    assert m.tier.tolist() == ["0:80000", "0:MAX"]
    off = waconv.classify(frame, currencies={"waba-in": "INR"}, volume_tiers=None).messages
    assert off.tier.isna().all() and off.cost.tolist() == [0.2491, 0.0034]
