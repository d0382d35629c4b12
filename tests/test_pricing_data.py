"""Checks of the pricing reference data shipped in python/waconv/pricing/data/.

These tests read the data files directly (no import of waconv), so they run without a
built C++ core.
"""

from __future__ import annotations

import csv
import datetime as dt
import re
from collections import Counter, defaultdict
from pathlib import Path

import phonenumbers
import pytest
from phonenumbers import PhoneNumber, PhoneNumberType

DATA = Path(__file__).resolve().parent.parent / "python" / "waconv" / "pricing" / "data"
RATE_CARDS = sorted((DATA / "rate_cards").glob("usd_*.csv"))

CARD_HEADER = [
    "Market",
    "Currency",
    "Marketing",
    "Utility",
    "Authentication",
    "Authentication-\nInternational",
    "Service",
]
REGION_MARKETS = {
    "North America",
    "Rest of Africa",
    "Rest of Asia Pacific",
    "Rest of Central & Eastern Europe",
    "Rest of Latin America",
    "Rest of Middle East",
    "Rest of Western Europe",
}
# Prefixes with no valid phonenumbers number: ITU gives +7 6xx to Kazakhstan, but
# phonenumbers only knows Kazakh numbers in +7 7xx.
NO_PHONENUMBERS_SAMPLE = {"76": "KZ"}


def _read(name: str) -> list[dict[str, str]]:
    with (DATA / name).open(newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


@pytest.fixture(scope="module")
def calling_codes() -> dict[str, str]:
    rows = _read("calling_codes.csv")
    table = {r["prefix"]: r["country"] for r in rows}
    assert len(table) == len(rows), "duplicate prefix"
    return table


def lookup(table: dict[str, str], digits: str) -> str | None:
    for n in range(min(len(digits), 6), 0, -1):
        if digits[:n] in table:
            return table[digits[:n]]
    return None


def e164_digits(num: PhoneNumber) -> str:
    return phonenumbers.format_number(num, phonenumbers.PhoneNumberFormat.E164)[1:]


def example_for(region: str) -> PhoneNumber | None:
    num = phonenumbers.example_number(region)
    if num is not None:
        return num
    for t in (PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE, PhoneNumberType.VOIP):
        num = phonenumbers.example_number_for_type(region, t)
        if num is not None:
            return num
    return None


def sample_for_prefix(prefix: str) -> PhoneNumber | None:
    """A number phonenumbers considers to belong to some region, starting with prefix."""
    if prefix.startswith("1") and len(prefix) == 4:
        for nxx in range(200, 1000):
            num = PhoneNumber(country_code=1, national_number=int(f"{prefix[1:]}{nxx}4567"))
            if phonenumbers.region_code_for_number(num) is not None:
                return num
        return None
    if int(prefix) in phonenumbers.COUNTRY_CODE_TO_REGION_CODE:
        return example_for(phonenumbers.COUNTRY_CODE_TO_REGION_CODE[int(prefix)][0])
    # a longer prefix inside a country code (+7 6x, +7 7x)
    cc = next(
        int(prefix[:n])
        for n in (1, 2, 3)
        if int(prefix[:n]) in phonenumbers.COUNTRY_CODE_TO_REGION_CODE
    )
    rest = prefix[len(str(cc)):]
    for region in phonenumbers.COUNTRY_CODE_TO_REGION_CODE[cc]:
        num = example_for(region)
        if num is not None and str(num.national_number).startswith(rest):
            return num
    return None


# --------------------------------------------------------------------------- calling codes


def test_calling_codes_format(calling_codes):
    assert calling_codes
    for prefix, country in calling_codes.items():
        assert re.fullmatch(r"[1-9]\d{0,3}", prefix), prefix
        assert country in phonenumbers.SUPPORTED_REGIONS, (prefix, country)


def test_every_geographic_country_code_present(calling_codes):
    for cc, regions in phonenumbers.COUNTRY_CODE_TO_REGION_CODE.items():
        geo = [r for r in regions if r != "001"]
        if geo:
            assert calling_codes.get(str(cc)) == geo[0], (cc, geo)
        else:
            assert str(cc) not in calling_codes, cc


def test_every_prefix_agrees_with_phonenumbers(calling_codes):
    for prefix, country in calling_codes.items():
        num = sample_for_prefix(prefix)
        if num is None:
            assert NO_PHONENUMBERS_SAMPLE.get(prefix) == country, prefix
            continue
        digits = e164_digits(num)
        assert digits.startswith(prefix), (prefix, digits)
        assert phonenumbers.region_code_for_number(num) == country, (prefix, digits)
        assert lookup(calling_codes, digits) == country, (prefix, digits)


def test_unsampled_prefixes_are_not_claimed_by_phonenumbers():
    # +7 6xx: phonenumbers must not give these numbers to Russia (or anyone).
    for npa in range(600, 700):
        num = PhoneNumber(country_code=7, national_number=int(f"{npa}1234567"))
        assert phonenumbers.region_code_for_number(num) is None, npa


def test_example_numbers_of_every_region(calling_codes):
    shared_non_nanp = {
        r: regions[0]
        for cc, regions in phonenumbers.COUNTRY_CODE_TO_REGION_CODE.items()
        if len(regions) > 1 and cc not in (1, 7)
        for r in regions[1:]
    }
    checked = 0
    for region in sorted(phonenumbers.SUPPORTED_REGIONS):
        for t in (PhoneNumberType.FIXED_LINE, PhoneNumberType.MOBILE):
            num = phonenumbers.example_number_for_type(region, t)
            if num is None:
                continue
            pn_region = phonenumbers.region_code_for_number(num)
            if pn_region is None:
                continue
            expected = shared_non_nanp.get(pn_region, pn_region)
            assert lookup(calling_codes, e164_digits(num)) == expected, (region, t, num)
            checked += 1
    assert checked > 300


@pytest.mark.parametrize(
    "number, country",
    [
        ("+18095550123", "DO"),
        ("+18292345678", "DO"),
        ("+18492345678", "DO"),
        ("+18762345678", "JM"),
        ("+16582345678", "JM"),
        ("+17872345678", "PR"),
        ("+19392345678", "PR"),
        ("+12423456789", "BS"),
        ("+14165550123", "CA"),
        ("+16045550123", "CA"),
        ("+12125550123", "US"),
        ("+18005550123", "US"),
        ("+77012345678", "KZ"),
        ("+77172123456", "KZ"),
        ("+74951234567", "RU"),
        ("+442079460000", "GB"),
        ("+5511912345678", "BR"),
        ("+263771234567", "ZW"),
    ],
)
def test_known_numbers(calling_codes, number, country):
    digits = number[1:]
    assert lookup(calling_codes, digits) == country
    parsed = phonenumbers.parse(number)
    region = phonenumbers.region_code_for_number(parsed)
    if region is not None:
        assert region == country, (number, region)


# --------------------------------------------------------------------------- markets


@pytest.fixture(scope="module")
def markets() -> list[dict[str, str]]:
    return _read("markets.csv")


def _date(s: str) -> dt.date | None:
    return dt.date.fromisoformat(s) if s else None


def market_at(markets, country: str, day: str) -> str:
    d = dt.date.fromisoformat(day)
    hits = [
        r["market"]
        for r in markets
        if r["country"] == country
        and (not r["valid_from"] or _date(r["valid_from"]) <= d)
        and (not r["valid_to"] or d < _date(r["valid_to"]))
    ]
    assert len(hits) <= 1, (country, day, hits)
    return hits[0] if hits else "Other"


def test_markets_format(markets, calling_codes):
    assert list(markets[0].keys()) == ["country", "market", "valid_from", "valid_to"]
    countries_with_code = set(calling_codes.values())
    for r in markets:
        assert r["country"] in phonenumbers.SUPPORTED_REGIONS, r
        assert r["country"] in countries_with_code, r
        assert r["market"] and r["market"] != "Other", r
        f, t = _date(r["valid_from"]), _date(r["valid_to"])
        if f and t:
            assert f < t, r


def test_market_intervals_never_overlap(markets):
    by_country = defaultdict(list)
    for r in markets:
        lo = _date(r["valid_from"]) or dt.date.min
        hi = _date(r["valid_to"]) or dt.date.max
        by_country[r["country"]].append((lo, hi))
    for country, spans in by_country.items():
        spans.sort()
        for (_, hi), (lo2, _) in zip(spans, spans[1:]):
            assert hi <= lo2, (country, spans)


@pytest.mark.parametrize(
    "country, day, market",
    [
        ("ZW", "2025-09-30", "Other"),
        ("ZW", "2025-10-01", "Rest of Africa"),
        ("PL", "2026-06-30", "Rest of Central & Eastern Europe"),
        ("PL", "2026-07-01", "Poland"),
        ("HK", "2026-06-30", "Rest of Asia Pacific"),
        ("HK", "2026-07-01", "Hong Kong"),
        ("SG", "2026-07-01", "Singapore"),
        ("HU", "2026-07-01", "Hungary"),
        ("RO", "2026-07-01", "Romania"),
        ("QA", "2026-06-30", "Rest of Middle East"),
        ("QA", "2026-07-01", "Qatar"),
        ("BD", "2026-09-30", "Rest of Asia Pacific"),
        ("BD", "2026-10-01", "Bangladesh"),
        ("NP", "2026-10-01", "Nepal"),
        ("LK", "2026-10-01", "Sri Lanka"),
        ("IQ", "2026-10-01", "Iraq"),
        ("KW", "2026-10-01", "Kuwait"),
        ("OM", "2026-10-01", "Oman"),
        ("MA", "2026-09-30", "Rest of Africa"),
        ("MA", "2026-10-01", "Morocco"),
        ("UA", "2026-09-30", "Rest of Central & Eastern Europe"),
        ("UA", "2026-10-01", "Ukraine"),
        ("KZ", "2026-09-30", "Other"),
        ("KZ", "2026-10-01", "Kazakhstan"),
        ("US", "2023-01-01", "North America"),
        ("CA", "2026-11-01", "North America"),
        ("DO", "2024-01-01", "Rest of Latin America"),
        ("JM", "2024-01-01", "Rest of Latin America"),
        ("PR", "2024-01-01", "Rest of Latin America"),
        ("BS", "2024-01-01", "Other"),
        ("KR", "2024-01-01", "Other"),
        ("BR", "2022-02-01", "Brazil"),
        ("AE", "2026-11-01", "United Arab Emirates"),
        ("GB", "2026-11-01", "United Kingdom"),
    ],
)
def test_market_moves(markets, country, day, market):
    assert market_at(markets, country, day) == market


@pytest.mark.parametrize(
    "day, sizes",
    [
        (
            "2024-01-01",
            {"standalone": 24, "North America": 2, "Rest of Africa": 40,
             "Rest of Asia Pacific": 21, "Rest of Central & Eastern Europe": 20,
             "Rest of Western Europe": 9, "Rest of Latin America": 15, "Rest of Middle East": 8},
        ),
        (
            "2026-07-01",
            {"standalone": 30, "North America": 2, "Rest of Africa": 41,
             "Rest of Asia Pacific": 19, "Rest of Central & Eastern Europe": 17,
             "Rest of Western Europe": 9, "Rest of Latin America": 15, "Rest of Middle East": 7},
        ),
    ],
)
def test_market_sizes(markets, day, sizes):
    countries = {r["country"] for r in markets}
    got = Counter()
    for c in countries:
        m = market_at(markets, c, day)
        if m == "Other":
            continue
        got["standalone" if m not in REGION_MARKETS else m] += 1
    assert dict(got) == sizes


# --------------------------------------------------------------------------- rate cards

AUTH_NOT_FOUND = {("usd_2026-07-01.csv", m) for m in (
    "Argentina", "Chile", "Peru", "France", "Poland", "Hungary", "Romania", "Russia", "Turkey",
    "Rest of Central & Eastern Europe", "Indonesia", "Malaysia", "Singapore", "Hong Kong", "Pakistan",
    "Rest of Asia Pacific", "Israel")}
PREAMBLE = re.compile(
    r"^Cost per (conversation|message) in USD(?: on the WhatsApp Business Platform)?, "
    r"effective ([A-Z][a-z]+ \d{1,2}, \d{4}),*$"
)


def _card(path: Path) -> tuple[str, list[list[str]]]:
    """The title (first cell of line 1) and the rows from the header on: Meta's own CSV has
    four note lines between them, a transcription one line saying what it is."""
    with path.open(newline="", encoding="utf-8") as fh:
        rows = list(csv.reader(fh))
    start = next(i for i, row in enumerate(rows) if row and row[0] == "Market")
    assert 1 <= start <= 5, path.name
    return ",".join(rows[0]), rows[start:]


def test_expected_cards_shipped():
    assert [p.name for p in RATE_CARDS] == [
        "usd_2023-06-01.csv",
        "usd_2024-10-01.csv",
        "usd_2025-07-01.csv",
        "usd_2025-10-01.csv",
        "usd_2026-01-01.csv",
        "usd_2026-04-01.csv",
        "usd_2026-07-01.csv",
        "usd_2026-10-01.csv",
    ]


@pytest.mark.parametrize("path", RATE_CARDS, ids=lambda p: p.name)
def test_rate_card_parses(path):
    preamble, rows = _card(path)
    m = PREAMBLE.match(preamble)
    assert m, preamble
    effective = dt.datetime.strptime(m.group(2), "%B %d, %Y").date()
    assert path.stem == f"usd_{effective.isoformat()}"
    pmp = effective >= dt.date(2025, 7, 1)
    assert m.group(1) == ("message" if pmp else "conversation")

    header, body = rows[0], rows[1:]
    assert header == CARD_HEADER
    assert body
    names = [r[0] for r in body]
    assert len(set(names)) == len(names), "duplicate market"
    for r in body:
        assert len(r) == 7, r
        assert r[1] == ("USD" if pmp else "$US"), r
        for cell in r[2:]:
            assert cell == "n/a" or re.fullmatch(r"\d+\.\d{4}", cell), r
        if pmp:
            # Authentication = Utility in every PMP card a source prints both for; the July-2026
            # card leaves authentication n/a where no source prints it (AUTH_NOT_FOUND).
            if (path.name, r[0]) in AUTH_NOT_FOUND:
                assert r[4] == "n/a", r
            else:
                assert r[3] == r[4], f"utility != authentication in PMP card: {r}"
            # Service is charged from 2026-10-01 at the utility rate; before, no USD rate.
            assert r[6] == (r[3] if effective >= dt.date(2026, 10, 1) else "n/a"), r


@pytest.mark.parametrize("path", RATE_CARDS, ids=lambda p: p.name)
def test_rate_card_markets_exist(path, markets):
    known = {r["market"] for r in markets} | {"Other"}
    _, rows = _card(path)
    for r in rows[1:]:
        assert r[0] in known, (path.name, r[0])


def test_full_cards_cover_every_market_in_force(markets):
    for name, day in [("usd_2024-10-01.csv", "2024-10-01"), ("usd_2025-10-01.csv", "2025-10-01"),
                      ("usd_2026-01-01.csv", "2026-01-01"), ("usd_2025-07-01.csv", "2025-07-01"),
                      ("usd_2026-04-01.csv", "2026-04-01"), ("usd_2026-07-01.csv", "2026-07-01"),
                      ("usd_2026-10-01.csv", "2026-10-01")]:
        _, rows = _card(DATA / "rate_cards" / name)
        in_force = {market_at(markets, r["country"], day) for r in markets} | {"Other"}
        assert {r[0] for r in rows[1:]} == in_force, name


def test_selected_rates():
    def cell(name, market, col):
        _, rows = _card(DATA / "rate_cards" / name)
        (row,) = [r for r in rows[1:] if r[0] == market]
        return row[CARD_HEADER.index(col)]

    assert cell("usd_2023-06-01.csv", "Other", "Service") == "0.0145"
    assert cell("usd_2024-10-01.csv", "United Kingdom", "Marketing") == "0.0529"
    assert cell("usd_2024-10-01.csv", "India", "Authentication-\nInternational") == "0.0280"
    assert cell("usd_2024-10-01.csv", "Other", "Service") == "n/a"
    assert cell("usd_2025-07-01.csv", "Mexico", "Marketing") == "0.0436"
    assert cell("usd_2025-07-01.csv", "Argentina", "Utility") == "0.0289"
    assert cell("usd_2025-07-01.csv", "Egypt", "Utility") == "0.0052"
    assert cell("usd_2025-07-01.csv", "Colombia", "Utility") == "0.0002"
    assert cell("usd_2025-07-01.csv", "Saudi Arabia", "Utility") == "n/a"  # no direct source
    assert cell("usd_2025-10-01.csv", "Mexico", "Marketing") == "0.0305"
    assert cell("usd_2026-01-01.csv", "North America", "Authentication") == "0.0034"
    assert cell("usd_2026-01-01.csv", "India", "Marketing") == "0.0118"
    assert cell("usd_2026-07-01.csv", "Qatar", "Utility") == "0.0120"
    assert cell("usd_2026-07-01.csv", "Brazil", "Marketing") == "0.0625"
    assert cell("usd_2026-07-01.csv", "India", "Authentication-\nInternational") == "n/a"  # not found
    assert cell("usd_2026-04-01.csv", "Saudi Arabia", "Marketing") == "0.0501"
    assert cell("usd_2026-04-01.csv", "India", "Authentication-\nInternational") == "0.0304"
    assert cell("usd_2026-04-01.csv", "Pakistan", "Utility") == "0.0100"
    assert cell("usd_2026-04-01.csv", "Turkey", "Authentication") == "0.0009"
    assert cell("usd_2026-10-01.csv", "Kazakhstan", "Authentication-\nInternational") == "0.1600"
    assert cell("usd_2026-10-01.csv", "Saudi Arabia", "Service") == "0.0107"
    assert cell("usd_2026-10-01.csv", "India", "Authentication-\nInternational") == "n/a"  # not found


def test_meta_own_card_is_a_byte_copy():
    import hashlib

    data = (DATA / "rate_cards" / "usd_2026-04-01.csv").read_bytes()
    assert hashlib.sha256(data).hexdigest() == "343c7aa9383abf86c24b62fd0e28e76c07b1bfdd810a721c86d445a3ced002f8"


# --------------------------------------------------------------------------- auth-international


def test_auth_international(calling_codes):
    rows = _read("auth_international.csv")
    assert list(rows[0].keys()) == ["country", "valid_from"]
    got = {r["country"]: r["valid_from"] for r in rows}
    assert len(got) == len(rows)
    assert got["ID"] == "2024-06-01"
    assert got["IN"] == "2024-07-01"
    for c in ("EG", "MY", "NG", "PK", "SA", "ZA", "AE"):
        assert got[c] == "2025-02-01"
    for c in ("BD", "IQ", "NP", "LK", "KZ", "KW", "MA", "OM", "UA"):
        assert got[c] == "2026-10-01"
    assert len(got) == 18
    for c in got:
        assert c in set(calling_codes.values())
