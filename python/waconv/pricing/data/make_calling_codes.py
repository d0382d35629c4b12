"""Regenerate ``calling_codes.csv`` (international calling-code prefix -> ISO 3166 alpha-2).

Usage::

    python python/waconv/pricing/data/make_calling_codes.py [output.csv]

The shipped artefact is the CSV; this script only documents how it was made and lets it
be rebuilt when ``phonenumbers`` metadata changes.  Lookup is longest-prefix on the
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
"""

from __future__ import annotations

import csv
import sys
from collections import defaultdict
from pathlib import Path

import phonenumbers
from phonenumbers import PhoneNumber

NON_GEOGRAPHIC = "001"
NANP_BASE = "US"
KZ_PREFIXES = ("76", "77")


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


def main(argv: list[str]) -> None:
    out = Path(argv[1]) if len(argv) > 1 else Path(__file__).with_name("calling_codes.csv")
    rows = build()
    with out.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(["prefix", "country"])
        w.writerows(rows)
    print(f"wrote {len(rows)} prefixes to {out} (phonenumbers {phonenumbers.__version__})")


if __name__ == "__main__":
    main(sys.argv)
