"""The raw extension: array contracts and errors crossing the GIL boundary."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import waconv
from waconv import _core

DAY = 86_400 * 10**9
T0 = 1_709_510_400 * 10**9  # 2024-03-04 UTC


def columns(n: int = 3) -> dict:
    return dict(
        business=np.zeros(n, np.int32), user=np.zeros(n, np.int32), waba=np.zeros(n, np.int32),
        timestamp=T0 + np.arange(n, dtype=np.int64) * 3600 * 10**9,
        delivered_at=np.full(n, np.iinfo(np.int64).min), direction=np.zeros(n, np.int8),
        template_category=np.zeros(n, np.int8), referral=None, duplicate=None, refreshes_csw=None,
        us_user=None, us_override=None, user_count=1, time_zones=["UTC"],
    )


def test_returns_new_arrays_of_the_documented_types():
    classification = _core.classify(**columns())
    assert classification.size == 3
    out = classification.to_numpy()
    m = out["messages"]
    assert m["era"].dtype == np.int8 and m["conversation_id"].dtype == np.int64
    assert m["csw_open"].dtype == np.bool_ and m["csw_open"].tolist() == [True, True, True]
    assert m["csw_open"].flags.owndata is False  # viewing the core's buffer, kept alive by a capsule
    assert out["conversations"]["start"].size == 0
    assert out["windows"]["end"].tolist() == [T0 + 2 * 3600 * 10**9 + DAY]


def test_core_input_error_becomes_waconv_input_error():
    bad = columns()
    bad["user"] = np.array([0, 5, 0], np.int32)
    with pytest.raises(waconv.InputError) as info:
        _core.classify(**bad)
    assert (info.value.column, info.value.row) == ("user", 1)


def test_wrong_length_column_is_rejected():
    bad = columns()
    bad["direction"] = np.zeros(2, np.int8)
    with pytest.raises(ValueError, match="direction"):
        _core.classify(**bad)


def test_error_on_the_last_row_of_a_large_input_names_it():
    n = 400_000
    bad = columns(n)
    bad["user"] = (np.arange(n) % 1000).astype(np.int32)
    bad["user_count"] = 1000
    bad["timestamp"] = T0 + np.arange(n, dtype=np.int64)
    bad["delivered_at"] = np.full(n, np.iinfo(np.int64).min)
    bad["delivered_at"][-1] = bad["timestamp"][-1] - 1
    bad["direction"][:] = 1
    with pytest.raises(waconv.InputError) as info:
        _core.classify(**bad, threads=2)
    assert (info.value.column, info.value.row) == ("delivered_at", n - 1)


def test_country_resolution_from_raw_core():
    codes = _core.resolve_countries(["+1 809 555 0101", "US.1349120865", "+44 7700 900123", "nonsense"],
                                    ["1", "1809", "44"], [0, 1, 2], ["US", "DO", "GB"])
    assert codes.dtype == np.int16 and codes.tolist() == [1, 0, 2, -1]


def test_country_resolution_from_arrow_buffers_matches_the_list_path():
    import pyarrow as pa

    from waconv.engine.strings import arrow_buffers

    users = ["+1 809 555 0101", None, "US.1349120865", "+44 7700 900123", "nonsense", "", "0044 20 7946 0000"]
    tables = (["1", "1809", "44"], [0, 1, 2], ["US", "DO", "GB"])
    expected = [1, -1, 0, 2, -1, -1, 2]
    for arrow_type in (pa.string(), pa.large_string()):
        index = pd.Index(pd.arrays.ArrowExtensionArray(pa.array(users, arrow_type)))
        for start in (0, 1, 3):  # sliced: non-zero Arrow offsets into data and bitmap
            _, buffers = arrow_buffers(index[start:])
            codes = _core.resolve_country_buffers(*buffers, *tables)
            assert codes.dtype == np.int16 and codes.tolist() == expected[start:]
    listed = _core.resolve_countries([u for u in users if u is not None], *tables)
    assert listed.tolist() == [e for u, e in zip(users, expected) if u is not None]
