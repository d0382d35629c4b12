"""What a cluster worker hands back to the caller: phase 2's pricing warnings, and the
first InputError of the workers, so that they reach the caller as one classify raises them.

A warning raised in a Spark executor or a distributed Dask worker goes to that worker's log,
and Spark wraps a worker's exception in its own type (PythonException). So the workers
record what they would raise or warn, the drivers carry it back as data, and the caller
re-raises the InputError and warns, with the gap counts of every phase 2 group summed
(`report_gaps_once`), as the stream does.
"""

from __future__ import annotations

import pickle
import warnings
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from waconv._errors import InputError, WaconvWarning
from waconv.engine.price import first_unpriced, no_rate_error, report_gaps_once
from waconv.scale.options import ScaleOptions
from waconv.scale.phases import Gathered, price_gathered


@dataclass
class Notes:
    """One worker's phase 2 report: its pricing gaps (plan and counts, or None), the text of
    the other WaconvWarnings it raised (users without a country), and where a user's card
    lacks a rate, the first such unit's (category, market, row): the caller raises that
    InputError, naming the row as the input position it knows."""

    gaps: dict[str, Any] | None = None
    warnings: list[str] = field(default_factory=list)
    unpriced: tuple[Any, Any, int] | None = None


def price_for_caller(gathered: pd.DataFrame, conversations: pd.DataFrame,
                     options: ScaleOptions) -> tuple[Gathered, Notes]:
    """price_gathered in a worker, its warnings kept for the caller instead of raised here."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", WaconvWarning)
        priced = price_gathered(gathered, conversations, options, report=False)
    notes = Notes(warnings=[str(w.message) for w in caught if issubclass(w.category, WaconvWarning)])
    for other in caught:  # not waconv's: left to the worker as before
        if not issubclass(other.category, WaconvWarning):
            warnings.warn_explicit(other.message, other.category, other.filename, other.lineno)
    if priced.gaps:
        plan, gaps = priced.gaps["plan"], priced.gaps["gaps"]
        if plan.user_cards and gaps["unknown_rate"]:
            notes.unpriced = first_unpriced(gaps, priced.gaps["messages"], priced.gaps["rows"])
        # The per-row categories and markets serve that error only: they stay in the worker.
        notes.gaps = {"plan": plan, "gaps": gaps, "messages": None}
    return priced, notes


def report_at_caller(notes: Iterable[Notes], position: Callable[[int], int] = int) -> None:
    """Raise or warn here what the workers recorded: the InputError of a user's card lacking
    a rate at its earliest row (position: a worker's row id to the input position), else each
    distinct warning once and the gaps summed."""
    notes = list(notes)
    failing = [note for note in notes if note.unpriced is not None]
    if failing:
        first = min(failing, key=lambda note: note.unpriced[2])
        category, market, row = first.unpriced
        raise no_rate_error(first.gaps["plan"], first.gaps["gaps"], category, market, position(row))
    for text in dict.fromkeys(text for note in notes for text in note.warnings):
        warnings.warn(text, WaconvWarning, stacklevel=3)
    report_gaps_once([note.gaps for note in notes if note.gaps is not None])


def first_error(errors: Iterable[InputError]) -> InputError | None:
    """The error of the earliest row (a whole column's or a file's last), as one classify,
    which checks rows in input order, would name it."""
    return min(errors, key=lambda e: (e.file is not None, e.row is None, e.row or 0), default=None)


def as_bytes(value: Notes | InputError) -> bytes:
    return pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)


def from_bytes(data: bytes) -> Notes | InputError:
    return pickle.loads(data)

