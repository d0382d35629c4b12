"""Phone numbers as people write them (issue #13): which values get a country, checked on
the issue's examples and against `phonenumbers` on thousands of generated numbers.

The rules (docs/rules.md, "Markets and countries"): a number is international when it
starts with '+' or '00', or is bare digits (webhooks' wa_id) whose length after the calling
code fits that code's numbering plan; digits with separators and neither prefix are
national format and get no country, as do numbers of fewer than 8 or more than 15 digits
and +1 numbers that cannot exist in the NANP.
"""

from __future__ import annotations

import csv
import random
import re
import warnings
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import phonenumbers
import pytest
from phonenumbers import PhoneNumber, PhoneNumberFormat, PhoneNumberType

import waconv
from builders import log

DATA = Path(waconv.__file__).with_name("pricing") / "data"
SEED = 20260713
VARIANTS_PER_EXAMPLE = 6
TYPES = (PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE, PhoneNumberType.FIXED_LINE_OR_MOBILE,
         PhoneNumberType.VOIP, PhoneNumberType.PERSONAL_NUMBER, PhoneNumberType.TOLL_FREE,
         PhoneNumberType.PREMIUM_RATE, PhoneNumberType.UAN, PhoneNumberType.PAGER)
# The numbers a WhatsApp user can have: bare digits must fit these (national_lengths.csv).
USER_TYPES = {PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE, PhoneNumberType.FIXED_LINE_OR_MOBILE,
              PhoneNumberType.VOIP, PhoneNumberType.PERSONAL_NUMBER}
INTERNATIONAL_FORMATS = ("e164", "international", "bare", "00", "dots", "dashes", "parentheses")


def countries_of(values: list[str], dtype: str = "object") -> dict[str, str | None]:
    """The country waconv prices each value in: one inbound row per value through classify."""
    distinct = pd.Series(sorted(set(values)), dtype=dtype)
    frame = pd.DataFrame({"business": "b1", "user": distinct, "timestamp": pd.Timestamp("2025-08-04", tz="UTC"),
                          "direction": "inbound"})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", waconv.WaconvWarning)  # the countryless users: the subject here
        messages = waconv.classify(frame).messages
    return {u: (None if pd.isna(c) else c) for u, c in zip(messages.user, messages.country)}


def country_of(value: str) -> str | None:
    return countries_of([value])[value]


# --------------------------------------------------------------------------- the examples


@pytest.mark.parametrize("value, country", [
    ("+55 (11) 99999-0000", "BR"),
    ("0091-98765-43210", "IN"),
    ("+44 7700 900123", "GB"),
    ("5511999990000", "BR"),  # a webhook's wa_id
    ("+1 (212) 555-0101", "US"),
    ("+44 (0)20 7946 0000", "GB"),  # the trunk 0 in parentheses, not dialled from abroad
    ("(+44) 7700 900123", "GB"),
    ("5215512345678", "MX"),  # WhatsApp's id of a Mexican mobile keeps the old 1
    ("US.13491208655302741918", "US"),
])
def test_numbers_written_internationally_resolve(value, country):
    assert country_of(value) == country


@pytest.mark.parametrize("value", [
    "(11) 99999-0000",  # Brazil's national format: its digits start with 1, it is no US number
    "11 99999-0000",
    "020 7946 0000",  # a trunk 0
    "02079460000",
    "(212) 555-0101",  # US national format, without its calling code
    "55 11 99999 0000",  # separators but no '+' or '00'
    "+1 055 555 0101",  # no NANP area code starts with 0 or 1
    "+1 212 555 010",  # NANP numbers have 11 digits
    "9876543210",  # an Indian mobile without +91, not an Iranian +98 number
    "2125550101",  # a New York number without 1, not a Moroccan +212 number
    "612345678",  # a Spanish mobile without +34, not an Australian +61 number
    "+44 7700",  # fewer than 8 digits
    "+44 7700 9001 2345 6789",  # more than 15
    "whatsapp:+447700900123",
    "user.9373",  # a BSUID without a country
])
def test_national_formats_and_impossible_numbers_get_no_country(value):
    assert country_of(value) is None


def test_a_national_format_number_is_neither_us_nor_paused():
    frame = pd.concat([log("2025-05-05", (0, "out", "marketing"), user=user)
                       for user in ("(11) 99999-0000", "(212) 555-0101", "+1 (212) 555-0101")], ignore_index=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", waconv.WaconvWarning)
        messages = waconv.classify(frame).messages
    assert messages.country.tolist()[2] == "US" and messages.country[:2].isna().all()
    assert messages.market.tolist()[:2] == ["Other", "Other"]  # the paused row has no charged unit
    # Marketing to the national-format numbers is delivered and charged; only the US one is paused.
    assert messages.us_marketing_paused.tolist() == [False, False, True]
    assert (messages.cost[:2] > 0).all() and messages.cost[2] == 0


# --------------------------------------------------------------------------- the warning

COUNTRYLESS = "no country and "


def classify_warnings(frame: pd.DataFrame) -> list[str]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        waconv.classify(frame)
    return [str(w.message) for w in caught if COUNTRYLESS in str(w.message)]


def one_row_per_user(users: list, **columns) -> pd.DataFrame:
    return pd.concat([log("2025-08-04", (k, "in"), user=u) for k, u in enumerate(users)],
                     ignore_index=True).assign(**columns)


def test_one_warning_counts_the_countryless_users_and_names_the_smallest():
    users = ["020 7946 0000", "+5511987654321", "(11) 99999-0000", "XX.1349", "020 7946 0000", "5511999990000"]
    (message,) = classify_warnings(one_row_per_user(users))
    assert message.startswith("3 users have no country and are priced in market Other")
    assert "(first: '(11) 99999-0000')" in message  # sorted ids: '(' before '0' and 'X'
    assert "user_country" in message
    arrow = one_row_per_user(users).astype({"user": "string[pyarrow]"})
    assert classify_warnings(arrow) == [message]


def test_no_warning_when_every_user_has_a_country():
    assert classify_warnings(one_row_per_user(["+5511987654321", "5511999990000", "BR.1349"])) == []


def test_integer_phone_numbers_warn_by_their_digits():
    (message,) = classify_warnings(one_row_per_user([5511999990000, 999, 12, 5511999990000]))
    assert message.startswith("2 users have no country") and "(first: '12')" in message


def test_user_country_on_every_row_of_a_user_silences_the_warning_for_that_user():
    users = ["(11) 99999-0000", "(11) 99999-0000", "020 7946 0000", "020 7946 0000"]
    frame = one_row_per_user(users, user_country=["BR", "BR", "GB", None])
    (message,) = classify_warnings(frame)  # the second user's last row has no user_country
    assert message.startswith("1 user has no country and is priced") and "(first: '020 7946 0000')" in message
    assert classify_warnings(frame.assign(user_country=["BR", "BR", "GB", "GB"])) == []


def test_the_warning_points_at_the_callers_line():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        waconv.classify(one_row_per_user(["(11) 99999-0000"]))
    (warning,) = [w for w in caught if COUNTRYLESS in str(w.message)]
    assert warning.category is waconv.WaconvWarning and warning.filename == __file__


def test_pricing_warns_without_swapping_the_process_warning_state(monkeypatch):
    """catch_warnings swaps the filters of every thread: while one thread's classify had
    them swapped to record its own warnings, another thread's warnings were recorded there
    and re-raised or dropped. Pricing's warnings are given or left out where they arise."""
    import sys

    original = warnings.catch_warnings
    callers = []

    def watched(*args, **kwargs):
        callers.append(sys._getframe(1).f_globals.get("__name__", ""))
        return original(*args, **kwargs)

    frame = one_row_per_user(["(11) 99999-0000"])
    with original(record=True) as caught:
        warnings.simplefilter("always")
        monkeypatch.setattr(warnings, "catch_warnings", watched)
        try:
            waconv.classify(frame, currencies={"no-such-waba": "INR"})
        finally:
            monkeypatch.undo()
    assert [name for name in callers if name.startswith("waconv")] == []
    messages = [str(w.message) for w in caught if w.category is waconv.WaconvWarning]
    assert any(COUNTRYLESS in m for m in messages) and any("names no WABA" in m for m in messages)
    assert all(w.filename == __file__ for w in caught if w.category is waconv.WaconvWarning)


# --------------------------------------------------------------------------- against phonenumbers


def _calling_codes() -> dict[str, str]:
    with (DATA / "calling_codes.csv").open(newline="", encoding="utf-8") as handle:
        return {r["prefix"]: r["country"] for r in csv.DictReader(handle)}


def e164_digits(number: PhoneNumber) -> str:
    return phonenumbers.format_number(number, PhoneNumberFormat.E164)[1:]


def expected_country(number: PhoneNumber) -> str | None:
    """phonenumbers' region, by area code for +1 (NANP) and +7 (Russia, Kazakhstan) as
    calling_codes.csv does, else the main region of a shared code (data/README.md: +44 is GB
    for GG, IM and JE too, +358 FI for AX ...). No country below 8 digits (Niue, Tokelau,
    Tristan da Cunha: market Other either way) nor for +1 numbers of other than 11 digits
    (Canada's 310-XXXX service numbers: no user has one)."""
    digits = e164_digits(number)
    if len(digits) < 8 or (number.country_code == 1 and len(digits) != 11):
        return None
    if number.country_code in (1, 7):
        return phonenumbers.region_code_for_number(number)
    return phonenumbers.region_code_for_country_code(number.country_code)


@dataclass(frozen=True)
class Sample:
    region: str  # whose example it comes from (phonenumbers may give it to another, e.g. MF -> GP)
    number_type: int
    expected: str | None
    forms: dict[str, str]  # style -> the number written so
    national: str  # phonenumbers' NATIONAL format
    significant: str  # the national digits without trunk prefix, as a CRM may store them
    possible_as_international: bool  # are those digits, read as '+' + digits, a possible number?


def sample_numbers() -> list[Sample]:
    """Every example number of every region and type, plus seeded valid variants of each."""
    rng = random.Random(SEED)
    numbers: list[tuple[str, int, PhoneNumber]] = []
    for region in sorted(phonenumbers.SUPPORTED_REGIONS):
        for number_type in TYPES:
            example = phonenumbers.example_number_for_type(region, number_type)
            if example is None:
                continue
            numbers.append((region, number_type, example))
            national = str(example.national_number)
            keep = max(1, len(national) - 4)  # the leading digits say the region and type
            variants = 0
            for _ in range(VARIANTS_PER_EXAMPLE * 3):
                digits = national[:keep] + "".join(rng.choice("0123456789") for _ in national[keep:])
                variant = PhoneNumber(country_code=example.country_code, national_number=int(digits),
                                      italian_leading_zero=example.italian_leading_zero)
                if phonenumbers.is_valid_number(variant) and phonenumbers.number_type(variant) == number_type:
                    numbers.append((region, number_type, variant))
                    variants += 1
                    if variants == VARIANTS_PER_EXAMPLE:
                        break
    out = []
    for region, number_type, number in numbers:
        significant = phonenumbers.national_significant_number(number)
        out.append(Sample(region, number_type, expected_country(number),
                          {style: written(number, style) for style in INTERNATIONAL_FORMATS},
                          phonenumbers.format_number(number, PhoneNumberFormat.NATIONAL), significant,
                          possible_international(significant)))
    return out


def possible_international(digits: str) -> bool:
    try:
        return phonenumbers.is_possible_number(phonenumbers.parse("+" + digits))
    except phonenumbers.NumberParseException:  # no calling code starts them
        return False


def written(number: PhoneNumber, style: str) -> str:
    international = phonenumbers.format_number(number, PhoneNumberFormat.INTERNATIONAL)
    if style == "e164":
        return phonenumbers.format_number(number, PhoneNumberFormat.E164)
    if style == "international":
        return international
    if style == "bare":
        return e164_digits(number)
    if style == "00":
        return "00" + international[1:]
    if style == "dots":
        return re.sub(r"[ -]", ".", international)
    if style == "dashes":
        return re.sub(r" ", "-", international)
    if style == "parentheses":  # "+55 (11) 96123-4567": the first group after the calling code
        code, _, rest = international.partition(" ")
        first, _, tail = re.sub(r"-", " ", rest).partition(" ")
        return f"{code} ({first}) {tail}".rstrip()
    raise ValueError(style)


_CALLING_CODES = _calling_codes()


@pytest.fixture(scope="module")
def sample() -> list[Sample]:
    return sample_numbers()


@pytest.fixture(scope="module")
def resolved(sample) -> dict[str, str | None]:
    values = [form for s in sample for form in s.forms.values()]
    return countries_of(values + [s.national for s in sample] + [s.significant for s in sample])


def test_the_sample_is_large_and_covers_every_region(sample):
    assert len(sample) > 4000
    with_examples = {r for r in phonenumbers.SUPPORTED_REGIONS if phonenumbers.example_number(r) is not None}
    assert len(with_examples) > 230 and {s.region for s in sample} >= with_examples
    assert {s.expected for s in sample} >= {"US", "CA", "DO", "PR", "JM", "RU", "KZ", "GB", "BR", "IN", None}


def test_arrow_backed_ids_resolve_as_python_strings_do(sample, resolved):
    # Arrow-backed ids are read from their buffers in C++, Python strings one by one.
    values = list(resolved)
    assert countries_of(values, "string[pyarrow]") == resolved


@pytest.mark.parametrize("style", [s for s in INTERNATIONAL_FORMATS if s != "bare"])
def test_international_formats_get_phonenumbers_region(sample, resolved, style):
    wrong = [(s.forms[style], resolved[s.forms[style]], s.expected) for s in sample
             if resolved[s.forms[style]] != s.expected]
    assert wrong == []


def test_bare_digits_of_user_numbers_get_phonenumbers_region(sample, resolved):
    wrong = [(s.forms["bare"], resolved[s.forms["bare"]], s.expected) for s in sample
             if s.number_type in USER_TYPES and resolved[s.forms["bare"]] != s.expected]
    assert wrong == []


def test_bare_digits_of_other_numbers_never_get_another_country(sample, resolved):
    # Toll-free, premium and shared numbers need not fit the user lengths: no country is fine.
    others = [s for s in sample if s.number_type not in USER_TYPES]
    assert len(others) > 500
    assert [(s.forms["bare"], resolved[s.forms["bare"]]) for s in others
            if resolved[s.forms["bare"]] not in (None, s.expected)] == []


def test_national_format_gets_no_country(sample, resolved):
    # Every national format with a separator, a trunk prefix or parentheses is no international
    # number. The few that are bare digits (e.g. Bolivia's "71234567") are read as webhooks'
    # wa_id: they may get a country only where phonenumbers finds their digits possible.
    wrong = []
    for s in sample:
        got = resolved[s.national]
        bare = re.fullmatch(r"[1-9]\d*", s.national) is not None
        if got is not None and not (bare and s.possible_as_international):
            wrong.append((s.region, s.national, got))
    assert wrong == []
    assert sum(not re.fullmatch(r"\d+", s.national) for s in sample) > 0.9 * len(sample)


def test_bare_national_digits_are_read_only_where_their_length_fits(sample, resolved):
    # "9876543210" is an Indian mobile written without +91; read as international it starts
    # with Iran's +98, whose numbers are longer. Bare digits get a country only when their
    # length after the calling code is one phonenumbers allows there: never an impossible one.
    impossible = [(s.region, s.significant, resolved[s.significant]) for s in sample
                  if resolved[s.significant] is not None and not s.possible_as_international]
    assert impossible == []
    misread = sum(resolved[s.significant] is not None for s in sample)
    assert misread < len(sample) / 5  # 8 % of them; 56 % without the length check


# --------------------------------------------------------------------------- the shipped lengths


def test_national_lengths_cover_every_calling_code_and_only_user_numbers():
    with (DATA / "national_lengths.csv").open(newline="", encoding="utf-8") as handle:
        rows = {r["calling_code"]: [int(n) for n in r["lengths"].split()] for r in csv.DictReader(handle)}
    codes = {p for p in _CALLING_CODES if int(p) in phonenumbers.COUNTRY_CODE_TO_REGION_CODE}
    assert set(rows) == codes
    for prefix in _CALLING_CODES:
        assert any(prefix.startswith(code) for code in rows), prefix
    for code, lengths in rows.items():
        assert lengths == sorted(set(lengths)) and all(1 <= n <= 17 for n in lengths), code
    assert rows["1"] == [10] and rows["52"] == [10, 11] and rows["91"] == [10]
