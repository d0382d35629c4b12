"""The C++ per-message aggregation (io/webhooks/aggregate.py over waconv._core) against the
NumPy reference it replaces in read_webhooks (io/webhooks/events.py), on random status and
message rows: repeated deliveries, ties in time, status and input order, nulls, failed
messages, deliveries stamped before the send."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import waconv
import waconv.io.webhooks.read as webhooks_read
from waconv import _core
from waconv.io.webhooks import aggregate, events

# Ids that share the 24 bytes the core's hash keys hold inline, differ only in length or by
# a trailing NUL, are empty, or are not ASCII.
HEAD = "wamid.HBgLMTU1NTEyMzQ1NjcVAgASGBQz"
IDS = ["", "a", "a\0", "é", *(f"{HEAD}{k}" for k in range(6)), *(f"m{k}" for k in range(6))]
TEXTS = st.one_of(st.none(), st.sampled_from(["", "x", "y", "marketing", HEAD]))
NUMBERS = st.one_of(st.just(float("nan")), st.sampled_from([0.0, 1.0, 131026.0, -2.5]))


@st.composite
def rows(draw: st.DrawFn, *, statuses: bool) -> dict:
    n = draw(st.integers(0, 40))
    column = lambda element: draw(st.lists(element, min_size=n, max_size=n))  # noqa: E731
    base = draw(st.integers(0, 2_000_000_000))
    drawn = {
        "ids": column(st.sampled_from(IDS)),
        # A narrow range makes ties; the spread lets a delivery precede its send.
        "time": [base + t for t in column(st.integers(-3, 3))],
        "order": column(st.integers(0, 5)) if draw(st.booleans()) else None,
        "objects": {"business": column(TEXTS), "meta_pricing_category": column(TEXTS)},
    }
    if statuses:
        drawn["status"] = column(st.integers(0, 4))
        drawn["numeric"] = {"error_code": column(NUMBERS), "meta_cost": column(NUMBERS)}
    else:
        drawn["referral"] = column(st.booleans())
    return drawn


def assert_same(expected: dict, actual: dict) -> None:
    assert list(actual) == list(expected)
    for name, value in expected.items():
        if isinstance(value, pa.Array):
            assert actual[name].type == value.type, name
            assert actual[name].to_pylist() == value.to_pylist(), name
        else:
            assert actual[name].dtype == value.dtype, name
            np.testing.assert_array_equal(actual[name], value, err_msg=name)


def _as_columns(drawn: dict, kind: str) -> dict:
    """The rows as the readers hand them over: Arrow strings, NumPy numbers."""
    out = dict(drawn, ids=pa.array(drawn["ids"], pa.string()),
               objects={k: pa.array(v, pa.string()) for k, v in drawn["objects"].items()})
    if kind == "numpy":
        out["time"] = np.array(drawn["time"], np.int64)
        if "status" in drawn:
            out["status"] = np.array(drawn["status"], np.int8)
            out["numeric"] = {k: np.array(v, np.float64) for k, v in drawn["numeric"].items()}
    return out


@settings(max_examples=300, deadline=None)
@given(rows(statuses=True), st.sampled_from(["lists", "numpy"]))
def test_statuses_match_the_reference(drawn: dict, kind: str) -> None:
    columns = _as_columns(drawn, kind)
    args = (columns["ids"], columns["status"], columns["time"], columns["objects"], columns["numeric"])
    assert_same(events.aggregate_statuses(*args, order=columns["order"]),
                aggregate.aggregate_statuses(*args, order=columns["order"]))


@settings(max_examples=300, deadline=None)
@given(rows(statuses=False), st.sampled_from(["lists", "numpy"]))
def test_messages_match_the_reference(drawn: dict, kind: str) -> None:
    columns = _as_columns(drawn, kind)
    args = (columns["ids"], columns["time"], columns["referral"], columns["objects"])
    assert_same(events.aggregate_messages(*args, order=columns["order"]),
                aggregate.aggregate_messages(*args, order=columns["order"]))


def test_sliced_and_large_string_columns() -> None:
    """Arrow arrays that start inside their buffers, and large_string ids, read the same."""
    ids = pa.array(["z", "a", "b", "a", None, "b"], pa.string())[1:4]
    business = pa.array([None, "x", None, "y", "w"], pa.string())[1:4]
    status, time = np.array([0, 1, 2], np.int8), np.array([5, 6, 7])
    for values in (ids, ids.cast(pa.large_string())):
        assert_same(events.aggregate_statuses(values, status, time, {"business": business}, {}),
                    aggregate.aggregate_statuses(values, status, time, {"business": business}, {}))


def test_the_binding_checks_rows_and_starts() -> None:
    rows, starts = np.array([0, 1], np.int64), np.array([0, 2], np.int64)
    with pytest.raises(ValueError, match="outside"):
        _core.first_number_rows(rows, starts, np.zeros(1))
    with pytest.raises(ValueError, match="starts"):
        _core.first_number_rows(rows, np.array([0, 3], np.int64), np.zeros(2))
    with pytest.raises(ValueError, match="bitmap"):
        _core.first_present_rows(rows, starts, np.zeros(0, np.uint8), 0, 2)


ROOT = Path(__file__).resolve().parents[1]
DUMPS = [ROOT / "python" / "waconv" / "examples" / "data" / "example_webhooks.jsonl",
         ROOT / "tests" / "fixtures" / "webhooks" / "malformed.jsonl",
         *sorted((ROOT / "tests" / "fixtures" / "meta").glob("*.json"))]


@pytest.mark.parametrize("path", DUMPS, ids=lambda path: path.name)
def test_read_webhooks_gives_the_reference_frame(path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The whole call with the C++ aggregation and with the NumPy reference in its place."""
    fast = waconv.read_webhooks(path, errors="collect")
    monkeypatch.setattr(webhooks_read, "aggregate_statuses", events.aggregate_statuses)
    monkeypatch.setattr(webhooks_read, "aggregate_messages", events.aggregate_messages)
    reference = waconv.read_webhooks(path, errors="collect")
    assert len(reference.events) > 0 or path.name != "example_webhooks.jsonl"
    pd.testing.assert_frame_equal(fast.events, reference.events)
    pd.testing.assert_frame_equal(fast.rejected, reference.rejected)
