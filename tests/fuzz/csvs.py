"""Hostile rate-card and volume-tier CSVs, as Python source.

Rate cards start from the shipped cards (Meta's layout: a preamble, a header whose quoted
cell holds a newline, one row per market, ``n/a`` cells); tier tables from a valid
``Market,Category,Tier,Rate`` table. Cells, rows, columns and the preamble are mutated, the
text is re-encoded (BOM, UTF-16, Latin-1, NUL, CR, truncation, giant fields, open quotes),
and the result is read from a path, a text stream or a DataFrame, then used by classify on
a log that reaches every market the table names.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

from hypothesis import strategies as st

from tests.fuzz.values import lit

ROOT = Path(__file__).resolve().parents[2]
CARDS = ROOT / "python" / "waconv" / "pricing" / "data" / "rate_cards"
MARKETS_CSV = ROOT / "python" / "waconv" / "pricing" / "data" / "markets.csv"

HOSTILE_CELLS = ["", " ", "n/a", "N/A", "-", "na", "nan", "NaN", "inf", "-inf", "1e309", "-0", "-0.01", "-1e-300",
                 "$0.01", "0.01$", "US$0.01", "0,01", "1,000.5", "0x10", "1_000", "\u0661\u066b\u0665", "\uff10.\uff15",
                 " 0.5 ", "0.5\x00", "0.5 0.6", "1e-320", "9" * 400, "+0.3", ".5", "5.", "\u00a00.5", "\ud800",
                 "\U0001f600", "None", "True", "0:MAX", "MAX", "x" * 200_000, '"', "\n", "=1+1"]
HOSTILE_TIERS = ["0:750000", "750001:MAX", "0:MAX", "1:MAX", "5:3", "3:3", "-1:5", "+1:5", "0:-1", "0 : 10", "0:10:20",
                 ":5", "5:", "MAX:MAX", "0:max", "0:Max", "\uff10:\uff15", "\u0661:\u0665", "0:" + "9" * 30,
                 "9223372036854775807:MAX", "9223372036854775808:MAX", "0:9223372036854775806", "0x1:5", "1.5:3",
                 "0:1e3", "", "0:750,000", "0\u2013750000"]
HOSTILE_MARKETS = ["India", "india", " India ", "INDIA", "Indian", "Other", "Rest of Africa", "Rest of  Africa",
                   "North America", "", "\u202eaidnI", "Brazil\x00", "Côte d'Ivoire", "Market", "Zimbabwe"]
PREAMBLES = [
    "Cost per message in USD on the WhatsApp Business Platform, effective July 1, 2026",
    "Cost per conversation in USD, effective June 1, 2023",
    "Cost per message in BRL, effective February 30, 2026", "Cost per message, effective Juli 1, 2026",
    "Cost per message, effective July 1, 20260", "Cost per message, effective July 1, 0001",
    "Cost per message, effective July 32, 2026", "Cost per message, effective   July   1,2026",
    "Cost per conversation and per message, effective July 1, 2026", "Cost in USD, effective July 1, 2026",
    "per message effective July 1, 2026 effective June 1, 2023", "", "effective July 1, 99999999999999999999",
    "Cost per message, EFFECTIVE JULY 1, 2026", "Cost per message, effective \u0661 July, 2026",
]
BYTE_DAMAGE = ["none"] * 5 + ["bom", "bom_twice", "utf16", "latin1", "bad_utf8", "nul", "cr", "crlf", "truncate",
                             "open_quote", "empty", "only_bom", "gzip"]


def card_seeds() -> list[str]:
    return [p.read_text(encoding="utf-8-sig") for p in sorted(CARDS.glob("*.csv"))]


def _country_of_market() -> dict[str, str]:
    """One ISO country per market (the first listed, today's membership first)."""
    out: dict[str, str] = {}
    with open(MARKETS_CSV, encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            if not row.get("valid_to"):
                out.setdefault(row["market"], row["country"])
    return out


COUNTRY_OF = _country_of_market()


def _rows(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text)))


def _text(rows: list[list[str]], draw) -> str:
    out = io.StringIO()
    writer = csv.writer(out, quoting=draw(st.sampled_from([csv.QUOTE_MINIMAL, csv.QUOTE_ALL, csv.QUOTE_NONNUMERIC])),
                        lineterminator=draw(st.sampled_from(["\n", "\r\n"])))
    for row in rows:
        writer.writerow(row)
    return out.getvalue()


def _damage(text: str, damage: str, at: int) -> bytes:
    data = text.encode("utf-8", "surrogatepass")
    k = at % (len(data) + 1)
    if damage == "bom":
        return b"\xef\xbb\xbf" + data
    if damage == "bom_twice":
        return b"\xef\xbb\xbf\xef\xbb\xbf" + data
    if damage == "utf16":
        return text.encode("utf-16", "surrogatepass")
    if damage == "latin1":
        return text.encode("latin-1", "replace") + "\nC\u00f4te,USD,0.1\n".encode("latin-1")
    if damage == "bad_utf8":
        return data[:k] + b"\xff\xfe\xc3\x28" + data[k:]
    if damage == "nul":
        return data[:k] + b"\x00" + data[k:]
    if damage == "cr":
        return data.replace(b"\r\n", b"\r").replace(b"\n", b"\r")
    if damage == "crlf":
        return data.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
    if damage == "truncate":
        return data[:k]
    if damage == "open_quote":
        return data[:k] + b'"' + data[k:]
    if damage == "empty":
        return b""
    if damage == "only_bom":
        return b"\xef\xbb\xbf"
    if damage == "gzip":
        import gzip

        return gzip.compress(data)
    return data


@st.composite
def _mutated_rows(draw, rows: list[list[str]], header_at: int, cells: list[str], first_column: list[str]) -> list[list[str]]:
    rows = [list(r) for r in rows]
    for _ in range(draw(st.sampled_from([0, 1, 1, 2, 3, 6]))):
        op = draw(st.sampled_from(["cell", "cell", "cell", "first", "drop_row", "dup_row", "drop_col", "add_col",
                                   "swap_cols", "header_cell", "short_row", "long_row", "blank_row", "move_header"]))
        body = list(range(header_at + 1, len(rows)))
        if op in ("cell", "first", "short_row", "long_row", "dup_row", "drop_row") and not body:
            continue
        if op == "cell":
            r = draw(st.sampled_from(body))
            if rows[r]:
                rows[r][draw(st.integers(0, len(rows[r]) - 1))] = draw(st.sampled_from(cells))
        elif op == "first":
            r = draw(st.sampled_from(body))
            if rows[r]:
                rows[r][0] = draw(st.sampled_from(first_column))
        elif op == "drop_row":
            del rows[draw(st.sampled_from(body))]
        elif op == "dup_row":
            r = draw(st.sampled_from(body))
            rows.insert(r, list(rows[r]))
        elif op == "drop_col":
            c = draw(st.integers(0, 6))
            rows = [r[:c] + r[c + 1:] if i >= header_at else r for i, r in enumerate(rows)]
        elif op == "add_col":
            c = draw(st.integers(0, 7))
            new = draw(st.sampled_from(["Notes", "Marketing", "Rate", "", "Tier"]))
            rows = [r[:c] + [new if i == header_at else draw(st.sampled_from(cells))] + r[c:] if i >= header_at else r
                    for i, r in enumerate(rows)]
        elif op == "swap_cols":
            a, b = draw(st.integers(0, 6)), draw(st.integers(0, 6))
            for r in rows[header_at:]:
                if max(a, b) < len(r):
                    r[a], r[b] = r[b], r[a]
        elif op == "header_cell":
            header = rows[header_at]
            if header:
                header[draw(st.integers(0, len(header) - 1))] = draw(st.sampled_from(
                    ["", "market", " MARKET ", "Utility", "Authentication International", "Authentication-\r\nInternational",
                     "Rate", "Tier", "Category", "\ufeffMarket", "Service", "Currency", "x"]))
        elif op == "short_row":
            r = draw(st.sampled_from(body))
            rows[r] = rows[r][: draw(st.integers(0, 3))]
        elif op == "long_row":
            r = draw(st.sampled_from(body))
            rows[r] = rows[r] + ["0.1"] * draw(st.integers(1, 3))
        elif op == "blank_row":
            rows.insert(draw(st.integers(0, len(rows))), draw(st.sampled_from([[], [""], ["", "", ""], [" "]])))
        elif op == "move_header":
            rows.insert(draw(st.integers(0, len(rows))), list(rows[header_at]))
    return rows


@st.composite
def rate_card_cases(draw) -> dict:
    seeds = card_seeds()
    rows = _rows(draw(st.sampled_from(seeds)))
    header_at = next((i for i, r in enumerate(rows) if r and r[0].strip().lower() == "market"), 0)
    if header_at and draw(st.integers(0, 3)) == 0:
        rows[0] = [draw(st.sampled_from(PREAMBLES))] + rows[0][1:]
    if draw(st.integers(0, 9)) == 0:
        rows = rows[header_at:]  # no preamble
        header_at = 0
    rows = draw(_mutated_rows(rows, header_at, HOSTILE_CELLS, HOSTILE_MARKETS + ["USD", "$US"]))
    data = _damage(_text(rows, draw), draw(st.sampled_from(BYTE_DAMAGE)), draw(st.integers(0, 10**6)))
    kwargs = {}
    if draw(st.integers(0, 3)) == 0:
        kwargs["effective"] = draw(st.sampled_from(["'2026-07-01'", "'2026-02-30'", "'July 1, 2026'", "5",
                                                    "datetime.date(2026, 7, 1)", "datetime.datetime(2026, 7, 1)",
                                                    "'0001-01-01'", "'9999-12-31'", "''", "None"]))
    if draw(st.integers(0, 3)) == 0:
        kwargs["model"] = draw(st.sampled_from(["'PMP'", "'CBP'", "'pmp'", "''", "5", "None"]))
    if draw(st.integers(0, 4)) == 0:
        kwargs["currency"] = draw(st.sampled_from(["'BRL'", "'usd'", "''", "5", "'\\x00'", "None"]))
    reader = draw(st.sampled_from(["path", "path", "path", "str_path", "stream", "bytes_stream", "classify_path", "list"]))
    days = draw(st.sampled_from([1, 1, 1, 2, 35, 400, -1]))
    rules = {"CBP": draw(st.sampled_from(["auto", "auto", "cbp_v2", "cbp_v1"])),
             "PMP": draw(st.sampled_from(["auto", "auto", "pmp_v1", "pmp_v2"]))}
    return {"data": data, "kwargs": kwargs, "reader": reader, "days": days, "rules": rules}


def pricing_log_source(day: str, markets: list[str] | None = None) -> str:
    """Source building a log that charges every category in every market (one user each)."""
    countries = sorted(set(COUNTRY_OF[m] for m in (markets or COUNTRY_OF) if m in COUNTRY_OF))
    return (
        f"countries = {lit(countries)}\n"
        f"start = pd.Timestamp({day!r}, tz='UTC')\n"
        "rows = []\n"
        "for i, country in enumerate(countries):\n"
        "    for k, category in enumerate([None, 'marketing', 'utility', 'authentication', 'marketing_lite', 'utility',\n"
        "                                  'utility', 'authentication', None]):\n"
        "        when = start + pd.Timedelta(hours=30 * k, seconds=i)\n"
        "        rows.append(dict(business='b1', user=f'user.{i}', timestamp=when, direction='outbound',\n"
        "                         template_category=category, delivered_at=when, user_country=country,\n"
        "                         waba='w1', portfolio='p1'))\n"
        "    rows.append(dict(business='b1', user=f'user.{i}', timestamp=start + pd.Timedelta(hours=200, seconds=i),\n"
        "                     direction='inbound', template_category=None, delivered_at=pd.NaT, user_country=country,\n"
        "                     waba='w1', portfolio='p1'))\n"
        "log = pd.DataFrame(rows)\n"
        "log['__row'] = range(len(log))\n"
    )


def render_rate_card(case: dict) -> str:
    kwargs = ", ".join(f"{k}={v}" for k, v in case["kwargs"].items())
    lines = ["folder = pathlib.Path(tempfile.mkdtemp())", "path = folder / 'card.csv'",
             f"path.write_bytes({lit(case['data'])})"]
    reader = case["reader"]
    if reader == "path":
        lines.append(f"def read():\n    return waconv.RateCard.from_csv(path{', ' + kwargs if kwargs else ''})")
    elif reader == "str_path":
        lines.append(f"def read():\n    return waconv.RateCard.from_csv(str(path){', ' + kwargs if kwargs else ''})")
    elif reader == "stream":
        lines.append("def read():\n    return waconv.RateCard.from_csv(io.StringIO(path.read_bytes().decode('utf-8', "
                     f"'replace')){', ' + kwargs if kwargs else ''})")
    elif reader == "bytes_stream":
        lines.append(f"def read():\n    return waconv.RateCard.from_csv(io.BytesIO(path.read_bytes()){', ' + kwargs if kwargs else ''})")
    elif reader == "list":
        lines.append("def read():\n    return waconv.RateCards([waconv.RateCard.from_csv(path"
                     f"{', ' + kwargs if kwargs else ''})] + waconv.RateCards.default().cards[:2])")
    else:
        lines.append("def read():\n    return str(path)  # read by classify(rate_card=...)")
    lines.append(CARD_LOG.replace("@COUNTRIES@", lit(COUNTRY_OF)).replace("@DAYS@", str(case["days"]))
                 .replace("@RULES@", lit(case["rules"])))
    return "\n".join(lines)


# A log charging each cell the card prices (a missing rate in a user's card is an InputError).
CARD_LOG = """\
COUNTRY_OF = @COUNTRIES@
TEMPLATE_OF = {'marketing': 'marketing', 'utility': 'utility', 'authentication': 'authentication', 'service': None}
def make_log(card):
    if not isinstance(card, waconv.RateCard):
        try:
            card = waconv.RateCard.from_csv(card)
        except Exception:
            card = waconv.RateCards.default().cards[-1]
    start = pd.Timestamp(card.effective, tz='UTC') + pd.Timedelta(days=@DAYS@)
    rows = []
    for i, (market, rates) in enumerate(sorted(card.rates.items())):
        for k, (column, rate) in enumerate(sorted(rates.items())):
            if rate != rate or column not in TEMPLATE_OF or market not in COUNTRY_OF:
                continue
            when = start + pd.Timedelta(hours=25 * k, seconds=i)
            rows.append(dict(business='b1', user=f'user.{i}', timestamp=when, direction='outbound',
                             template_category=TEMPLATE_OF[column], delivered_at=when,
                             user_country=COUNTRY_OF[market], waba='w1', portfolio='p1'))
    log = pd.DataFrame(rows, columns=['business', 'user', 'timestamp', 'direction', 'template_category',
                                      'delivered_at', 'user_country', 'waba', 'portfolio'])
    log['__row'] = range(len(log))
    return log, @RULES@[card.model]
"""


@st.composite
def tier_cases(draw) -> dict:
    markets = draw(st.lists(st.sampled_from(["India", "Brazil", "North America", "Rest of Africa", "Indonesia", "Other"]),
                            min_size=1, max_size=3, unique=True))
    categories = draw(st.lists(st.sampled_from(["utility", "authentication", "authentication_international"]),
                               min_size=1, max_size=3, unique=True))
    rows = [["Market", "Category", "Tier", "Rate"]]
    for market in markets:
        for category in categories:
            bounds = sorted(set(draw(st.lists(st.integers(1, 6), max_size=3))))
            lower = 0
            for upper in bounds:
                rows.append([market, category, f"{lower}:{upper}", f"{draw(st.sampled_from([0.02, 0.01, 0.005, 0])):g}"])
                lower = upper + 1
            rows.append([market, category, f"{lower}:MAX", "0.001"])
    header_at = 0
    if draw(st.integers(0, 4)) == 0:
        rows[0] = draw(st.permutations(rows[0]))
        rows = [rows[0]] + [draw(st.permutations(r)) if draw(st.booleans()) else r for r in rows[1:]]
    rows = draw(_mutated_rows(rows, header_at, HOSTILE_CELLS + HOSTILE_TIERS + ["Utility", "AUTHENTICATION",
                                                                               "authentication-international", "marketing",
                                                                               "service"], HOSTILE_MARKETS))
    data = _damage(_text(rows, draw), draw(st.sampled_from(BYTE_DAMAGE)), draw(st.integers(0, 10**6)))
    reader = draw(st.sampled_from(["path", "stream", "str_path", "frame", "frame_raw", "classify_path", "classify_frame"]))
    rules = draw(st.sampled_from(["auto", "pmp_v1", "pmp_v2"]))
    day = draw(st.sampled_from(["2025-07-02", "2026-07-02", "2026-10-02", "2025-10-30"]))
    return {"data": data, "reader": reader, "rules": rules, "day": day, "markets": markets}


def render_tiers(case: dict) -> str:
    lines = ["folder = pathlib.Path(tempfile.mkdtemp())", "path = folder / 'tiers.csv'",
             f"path.write_bytes({lit(case['data'])})"]
    reader = case["reader"]
    if reader == "path":
        lines.append("def read():\n    return waconv.TierTable.from_csv(path)")
    elif reader == "str_path":
        lines.append("def read():\n    return waconv.TierTable.from_csv(str(path))")
    elif reader == "stream":
        lines.append("def read():\n    return waconv.TierTable.from_csv(io.StringIO(path.read_text('utf-8', 'replace')))")
    elif reader == "frame":
        lines.append("def read():\n    return waconv.TierTable.from_frame(pd.read_csv(io.BytesIO(path.read_bytes())))")
    elif reader == "frame_raw":
        lines.append("def read():\n    return waconv.TierTable.from_frame(pd.read_csv(io.BytesIO(path.read_bytes()), dtype=str,"
                     " keep_default_na=False))")
    elif reader == "classify_frame":
        lines.append("def read():\n    return pd.read_csv(io.BytesIO(path.read_bytes()))  # handed to classify")
    else:
        lines.append("def read():\n    return str(path)  # read by classify(volume_tiers=...)")
    lines.append(pricing_log_source(case["day"], case["markets"]))
    lines.append(f"rules = {case['rules']!r}")
    return "\n".join(lines)
