"""Hostile scalar values and their Python source.

Every fuzz case is a piece of Python source (built from these literals) that the target
executes, so the reproducer written to a report is exactly what ran.
"""

from __future__ import annotations

import datetime
import decimal
import math
from typing import Any

import numpy as np
import pandas as pd
from hypothesis import strategies as st

# Executed before every case's source; a reproducer starts with it too.
PRELUDE = """\
import datetime, decimal, io, pathlib, tempfile, zoneinfo
import numpy as np
import pandas as pd
import pyarrow as pa
import waconv
from decimal import Decimal
from pandas import Timestamp, Timedelta, NaT, Period, Interval
nan, inf = float("nan"), float("inf")


def nest(value, depth, kind="list"):
    for _ in range(depth):
        value = [value] if kind == "list" else {"a": value}
    return value
"""


class Deep:
    """`value` nested `depth` times in lists or objects; rendered as nest(...), not as a literal
    (Python's parser refuses 200 nested brackets)."""

    def __init__(self, value, depth: int, kind: str) -> None:
        self.value, self.depth, self.kind = value, depth, kind

    def __deepcopy__(self, memo):
        return self

    def __repr__(self) -> str:
        return f"nest({lit(self.value)}, {self.depth}, {self.kind!r})"


def lit(value: Any) -> str:
    """Python source that evaluates (after PRELUDE) to `value`; strings and bytes ASCII-escaped."""
    if isinstance(value, Deep):
        return repr(value)
    if value is None or type(value) is bool:
        return repr(value)
    if value is pd.NA:
        return "pd.NA"
    if value is pd.NaT:
        return "pd.NaT"
    if type(value) is str:
        return ascii(value)
    if type(value) in (bytes, bytearray):
        return repr(bytes(value)) if type(value) is bytes else f"bytearray({bytes(value)!r})"
    if type(value) is int:
        return repr(value)
    if type(value) is float:
        if math.isnan(value):
            return "nan"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return repr(value)
    if isinstance(value, list):
        return "[" + ", ".join(lit(v) for v in value) + "]"
    if isinstance(value, tuple):
        return "(" + "".join(lit(v) + ", " for v in value) + ")"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{lit(k)}: {lit(v)}" for k, v in value.items()) + "}"
    if isinstance(value, np.generic):
        if isinstance(value, np.datetime64):
            return repr(value)
        inner = value.item()
        if isinstance(inner, float) and (math.isnan(inner) or math.isinf(inner)):
            return f"np.{type(value).__name__}({lit(inner)})"
        return f"np.{type(value).__name__}({inner!r})"
    if isinstance(value, pd.Timestamp):
        tz = f", tz={str(value.tz)!r}" if value.tz is not None else ""
        return f"pd.Timestamp({value.tz_localize(None).isoformat()!r}{tz})"
    if isinstance(value, (datetime.datetime, datetime.date, datetime.time, datetime.timedelta,
                          decimal.Decimal, complex, frozenset, set, pd.Timedelta, pd.Period, pd.Interval)):
        return repr(value)
    raise TypeError(f"no literal for {type(value).__name__}: {value!r}")


HOSTILE_STRINGS = [
    "", " ", "\x00", "a\x00b", "\ud800", "x\udfffy", "\u202eevil\u202c", "\u200f", "\ufeff", "\U0001f600",
    "\U0001f469\u200d\U0001f469\u200d\U0001f467", "\n", "\r\n", "None", "nan", "NaT", "null", "0", "-1",
    "1e309", "\uff11\uff12\uff13", "e\u0301", "\u0130nbound", "\u00df", "'", '"', "\\", "%s{0}", "inbound\u200b",
    " Inbound ", "OUTBOUND", "\t", "x" * 70_000, "+" + "9" * 300,
]
HOSTILE_NUMBERS = [
    0, -1, 1, 2**31 - 1, -(2**31), 2**32, 2**53 + 1, 2**63 - 1, -(2**63), 2**63, 2**64, 10**30, -(10**30),
    0.5, -0.0, math.nan, math.inf, -math.inf, 1e308, 5e-324, np.int8(-1), np.uint64(2**64 - 1),
    np.float32("nan"), np.int64(946_684_800), 4_102_444_800, 946_684_799,
]
HOSTILE_OTHER = [
    None, pd.NaT, pd.NA, b"bytes", b"\xff\xfe", [], [1], {}, {"a": 1}, (1, 2), decimal.Decimal("1.5"),
    decimal.Decimal("NaN"), complex(1, 2), datetime.date(2024, 1, 1), datetime.time(1, 2),
    pd.Timedelta(1), pd.Timestamp("2024-01-01"), pd.Timestamp("2024-01-01", tz="UTC"), np.datetime64("NaT"),
    np.datetime64("2024-01-01"), frozenset(), pd.Period("2024-01", "M"), True, False,
]

hostile_scalars = st.one_of(
    st.sampled_from(HOSTILE_STRINGS),
    st.sampled_from(HOSTILE_NUMBERS),
    st.sampled_from(HOSTILE_OTHER),
    st.text(max_size=8),
    st.integers(),
    st.floats(),
)
