"""Regenerate ``calling_codes.csv`` (international calling-code prefix -> ISO 3166 alpha-2)
and ``national_lengths.csv`` (calling code -> possible national number lengths).

Usage::

    python python/waconv/pricing/data/make_calling_codes.py [output directory]

The shipped artefacts are the CSVs; this script only documents how they were made and lets
them be rebuilt when ``phonenumbers`` metadata changes.  Lookup is longest-prefix on the
E.164 digits (no ``+``).

Rules:

* One row per country calling code in ``phonenumbers.COUNTRY_CODE_TO_REGION_CODE``,
  mapped to the first (main) region phonenumbers lists for that code (so +44 -> GB, not
  GG/IM/JE; +39 -> IT, not VA; +358 -> FI, not AX ...).  Non-geographic codes (region
  ``001``: +800, +808, +870, +878, +881, +882, +883, +888, +979) are left out: no country,
  so they price as ``Other``.
* NANP (+1): ``1`` -> US is the base.  Every area code (NPA) that phonenumbers assigns to
  another NANP region (Canada and the Caribbean / Pacific territories) gets a 4-digit
  ``1NPA`` row.  The assignment is found by asking ``region_code_for_number`` for every
  NPA NXX combination (NPA, NXX in 200..999) and requiring the answer to be the same for
  the whole NPA.  Non-area-code leading digits (e.g. phonenumbers' DO toll-free
  ``+1 800 1x``) are deliberately ignored: toll-free 8XX stays with the US base row.
* +7: ``7`` -> RU is the base; ``76`` and ``77`` -> KZ (ITU allocates +7 6xx / 7xx to
  Kazakhstan; phonenumbers only has numbers in 7xx, +7 6xx is unassigned there).
* National lengths: for every calling code, the digit counts after it that a number a
  WhatsApp user can have (fixed line, mobile, VoIP, personal number) may have in any
  geographic region of that code.  waconv checks them only for bare digits (no ``+`` or
  ``00``), which may as well be a national number.  Extra lengths for the ids WhatsApp
  itself writes: Mexican mobiles come as ``52 1`` + 10 digits (the old mobile prefix).
"""

from __future__ import annotations

import csv
import sys
from collections import defaultdict
from pathlib import Path

import phonenumbers
from phonenumbers import PhoneNumber, PhoneNumberType
from phonenumbers.phonenumberutil import _number_desc_by_type

NON_GEOGRAPHIC = "001"
NANP_BASE = "US"
KZ_PREFIXES = ("76", "77")
USER_NUMBER_TYPES = (PhoneNumberType.FIXED_LINE, PhoneNumberType.MOBILE, PhoneNumberType.VOIP,
                     PhoneNumberType.PERSONAL_NUMBER)
WHATSAPP_EXTRA_LENGTHS = {"52": (11,)}  # wa_id 521XXXXXXXXXX: Mexican mobiles keep the old 1


def country_code_rows() -> dict[str, str]:
    rows: dict[str, str] = {}
    for cc, regions in phonenumbers.COUNTRY_CODE_TO_REGION_CODE.items():
        geo = [r for r in regions if r != NON_GEOGRAPHIC]
        if not geo:
            continue
        rows[str(cc)] = geo[0]
    assert rows["1"] == NANP_BASE and rows["7"] == "RU", (rows["1"], rows["7"])
    return rows


def nanp_area_codes() -> dict[str, str]:
    """NPA -> region for every NPA whose numbers phonenumbers gives to a non-US region."""
    seen: dict[int, set[str]] = defaultdict(set)
    for npa in range(200, 1000):
        for nxx in range(200, 1000):
            num = PhoneNumber(country_code=1, national_number=int(f"{npa}{nxx}4567"))
            region = phonenumbers.region_code_for_number(num)
            if region is not None:
                seen[npa].add(region)
    out: dict[str, str] = {}
    for npa, regions in sorted(seen.items()):
        if regions == {NANP_BASE}:
            continue
        if len(regions) != 1:
            raise SystemExit(f"area code {npa} is split between regions {sorted(regions)}")
        (region,) = regions
        out[f"1{npa}"] = region
    return out


def build() -> list[tuple[str, str]]:
    rows = country_code_rows()
    rows.update(nanp_area_codes())
    for prefix in KZ_PREFIXES:
        rows[prefix] = "KZ"
    return sorted(rows.items())


def national_lengths() -> dict[str, tuple[int, ...]]:
    """Calling code -> the national number lengths of the numbers users can have."""
    out: dict[str, tuple[int, ...]] = {}
    for cc, regions in phonenumbers.COUNTRY_CODE_TO_REGION_CODE.items():
        lengths: set[int] = set(WHATSAPP_EXTRA_LENGTHS.get(str(cc), ()))
        for region in regions:
            if region == NON_GEOGRAPHIC:
                continue
            metadata = phonenumbers.PhoneMetadata.metadata_for_region(region)
            for number_type in USER_NUMBER_TYPES:
                desc = _number_desc_by_type(metadata, number_type)
                if desc is not None and desc.national_number_pattern is not None:
                    lengths |= {n for n in desc.possible_length if n > 0}  # -1: no such numbers
        if lengths:
            out[str(cc)] = tuple(sorted(lengths))
    return out


def write(path: Path, header: list[str], rows: list[tuple[str, str]]) -> None:
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(header)
        w.writerows(rows)
    print(f"wrote {len(rows)} rows to {path} (phonenumbers {phonenumbers.__version__})")


def main(argv: list[str]) -> None:
    out = Path(argv[1]) if len(argv) > 1 else Path(__file__).parent
    rows = build()
    write(out / "calling_codes.csv", ["prefix", "country"], rows)
    lengths = national_lengths()
    codes = {prefix for prefix, _ in rows if prefix in lengths}
    write(out / "national_lengths.csv", ["calling_code", "lengths"],
          [(cc, " ".join(map(str, lengths[cc]))) for cc in sorted(codes)])


if __name__ == "__main__":
    main(sys.argv)
