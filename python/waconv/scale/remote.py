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
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import pandas as pd

from waconv._errors import InputError
from waconv.engine.price import first_unpriced, no_rate_error, report_gaps_once
from waconv.scale.options import ScaleOptions
from waconv.scale.phases import Gathered, price_gathered


@dataclass
class Notes:
    """One worker's phase 2 report: its pricing gaps (plan, counts and the users without a
    country, or None), and where a user's card lacks a rate, the first such unit's
    (category, market, row): the caller raises that InputError, naming the row as the input
    position it knows."""

    gaps: dict[str, Any] | None = None
    unpriced: tuple[Any, Any, int] | None = None


def price_for_caller(gathered: pd.DataFrame, conversations: pd.DataFrame,
                     options: ScaleOptions) -> tuple[Gathered, Notes]:
    """price_gathered in a worker, what it would warn about kept for the caller (never by
    catching warnings: that swaps the filters of the worker's other threads too)."""
    priced = price_gathered(gathered, conversations, options, report=False)
    notes = Notes()
    if priced.gaps:
        plan, gaps = priced.gaps["plan"], priced.gaps["gaps"]
        if plan.user_cards and gaps["unknown_rate"]:
            notes.unpriced = first_unpriced(gaps, priced.gaps["messages"], priced.gaps["rows"])
        # The per-row categories and markets serve that error only: they stay in the worker.
        notes.gaps = {"plan": plan, "gaps": gaps, "messages": None, "countryless": priced.gaps["countryless"]}
    return priced, notes


def report_at_caller(notes: Iterable[Notes], position: Callable[[int], int] = int) -> None:
    """Raise or warn here what the workers recorded: the InputError of a user's card lacking
    a rate at its earliest row (position: a worker's row id to the input position), else the
    gaps summed into one warning each."""
    notes = list(notes)
    failing = [note for note in notes if note.unpriced is not None]
    if failing:
        first = min(failing, key=lambda note: note.unpriced[2])
        category, market, row = first.unpriced
        raise no_rate_error(first.gaps["plan"], first.gaps["gaps"], category, market, position(row))
    report_gaps_once([note.gaps for note in notes if note.gaps is not None])


def first_error(errors: Iterable[InputError]) -> InputError | None:
    """The error of the earliest row (a whole column's or a file's last), as one classify,
    which checks rows in input order, would name it."""
    return min(errors, key=lambda e: (e.file is not None, e.row is None, e.row or 0), default=None)


def as_bytes(value: Notes | InputError) -> bytes:
    return pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)


def from_bytes(data: bytes) -> Notes | InputError:
    return pickle.loads(data)

