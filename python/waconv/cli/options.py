"""Option values of the command line, checked before any file is read.

A bad value raises :class:`OptionError`, which `waconv` reports the way argparse reports its
own (``waconv summary: error: option --tz: ...``) with exit code 2. waconv's API names a
bad argument as an :class:`~waconv.InputError` column (``column 'tz'``); the command line
names the option the user typed instead.
"""

from __future__ import annotations

import zoneinfo
from collections.abc import Iterator, Mapping
from contextlib import contextmanager

from waconv._errors import InputError
from waconv.engine.canonical import OPTIONAL, REQUIRED


class OptionError(Exception):
    """A command-line option (or argument) with a value waconv cannot use."""

    def __init__(self, option: str, reason: str) -> None:
        self.option = option
        self.reason = reason
        kind = "option" if option.startswith("-") else "argument"
        super().__init__(f"{kind} {option}: {reason}")


def is_zone(name: str) -> bool:
    """Whether `name` is an IANA time zone of the system's database (the one the core reads)."""
    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, OSError):
        return False
    return True


def pairs(values: list[str] | None, option: str) -> dict[str, str]:
    """Repeated KEY=VALUE options as a mapping (a later KEY wins)."""
    out = {}
    for value in values or []:
        key, sep, rest = value.partition("=")
        if not sep or not key or not rest:
            raise OptionError(option, f"expected KEY=VALUE, got {value!r}")
        out[key] = rest
    return out


def waba_timezones(values: list[str] | None) -> dict[str, str] | None:
    """--timezone WABA=ZONE options, every zone an IANA name."""
    zones = pairs(values, "--timezone")
    for waba, zone in zones.items():
        if not is_zone(zone):
            raise OptionError("--timezone", f"unknown time zone {zone!r} for WABA {waba!r}; "
                                            "use an IANA name such as America/Sao_Paulo")
    return zones or None


def waba_currencies(values: list[str] | None) -> dict[str, str] | None:
    """--currency WABA=CODE options, every CODE a 3-letter ISO 4217 currency code."""
    currencies = pairs(values, "--currency")
    for waba, code in currencies.items():
        if len(code) != 3 or not code.isascii() or not code.isalpha():
            raise OptionError("--currency", f"expected a 3-letter currency code such as INR for WABA {waba!r}, "
                                            f"got {code!r}")
        currencies[waba] = code.upper()
    return currencies or None


def column_names(values: list[str] | None) -> dict[str, str] | None:
    """--column CANONICAL=YOURS options, every CANONICAL one of waconv's columns."""
    columns = pairs(values, "--column")
    for name in columns:
        if name not in REQUIRED + OPTIONAL:
            raise OptionError("--column", f"{name!r} is not a waconv column; known: {', '.join(REQUIRED + OPTIONAL)}")
    return columns or None


def bucket_zone(value: str) -> str | None:
    """--tz: ``utc`` (the default, None for the API), ``waba`` or an IANA zone."""
    if value.lower() == "utc":
        return None
    if value == "waba" or is_zone(value):
        return value
    raise OptionError("--tz", f"unknown time zone {value!r}; use utc, waba or an IANA name such as Europe/Berlin")


@contextmanager
def options_named(api_to_option: Mapping[str, str]) -> Iterator[None]:
    """Report the API's InputError about an argument (``column 'dimensions'``) as the option.

    Only around calls whose input is already checked, so that every InputError naming one of
    `api_to_option` is about an option, not about a column of the log.
    """
    try:
        yield
    except InputError as error:
        if error.file is None and error.column in api_to_option:
            raise OptionError(api_to_option[error.column], error.reason) from None
        raise
