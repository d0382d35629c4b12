"""What cluster workers hand back (waconv.scale.remote): phase 2's warnings and errors, as
data the caller re-raises, reported as one classify reports them."""

from __future__ import annotations

import pickle
import warnings

import numpy as np
import pytest

import waconv
from split_logs import NO_RATE, card_without_a_rate, warning_texts
from waconv.scale.options import ScaleOptions
from waconv.scale.phases import DUPLICATE, KEY, ROW, classify_partition
from waconv.scale.remote import first_error, price_for_caller, report_at_caller


def _phase_two(log, **options):
    frame = log.copy()
    frame[ROW], frame[KEY], frame[DUPLICATE] = np.arange(len(frame)), frame["user"], False
    checked = ScaleOptions.of(**options)
    part = classify_partition(frame, checked, 0)
    with warnings.catch_warnings():
        warnings.simplefilter("error", waconv.WaconvWarning)  # a worker must raise none itself
        return price_for_caller(part.gathered, part.conversations, checked)


def test_notes_reported_at_the_caller_warn_as_one_classify():
    log = waconv.examples.log()
    _, notes = _phase_two(log)
    copy = pickle.loads(pickle.dumps(notes))  # as the caller receives it from a worker
    assert warning_texts(lambda: report_at_caller([copy])) == warning_texts(lambda: waconv.classify(log))


def test_groups_unpickled_from_several_workers_are_summed_into_one_warning():
    _, notes = _phase_two(waconv.examples.log())
    copies = [pickle.loads(pickle.dumps(notes)) for _ in range(2)]
    assert copies[0].gaps["plan"] is not copies[1].gaps["plan"]
    texts = warning_texts(lambda: report_at_caller(copies))
    borrowed = [t for t in texts if "priced from another card" in t]
    count = int(notes.gaps["gaps"]["borrowed"])
    assert len(borrowed) == 1 and borrowed[0].startswith(f"{2 * count:,} charged units")


def test_a_users_card_without_a_rate_is_raised_at_the_caller_at_the_input_row():
    card, frame = card_without_a_rate()
    with pytest.raises(waconv.InputError, match=NO_RATE):
        waconv.classify(frame, rate_card=card)
    _, notes = _phase_two(frame, rate_card=card)  # the worker raises nothing
    with pytest.raises(waconv.InputError, match=NO_RATE):
        report_at_caller([pickle.loads(pickle.dumps(notes))])


def test_the_first_error_is_the_earliest_rows():
    errors = [waconv.InputError("rate", None, "a file", file="card.csv"), waconv.InputError("user", None, "all"),
              waconv.InputError("direction", 40, "late"), waconv.InputError("timestamp", 7, "early")]
    assert first_error(errors).row == 7
    assert first_error(errors[:2]).column == "user"
    assert first_error([]) is None
