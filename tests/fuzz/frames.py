"""Hostile event tables for waconv.classify, as Python source.

A case starts from rows that mostly make sense (pairs, times around the era switches,
deliveries, duplicates), so the engine is reached; then every column gets a random
representation (object, pandas string/category/nullable dtypes, NumPy datetimes in any unit
and zone, epoch numbers, ISO strings, Python datetimes, Arrow string/large_string/
string_view/dictionary/timestamp arrays, polars Series), some cells are replaced by hostile
values (nulls, empty strings, surrogates, NUL, huge ints, NaN/inf, containers ...), columns
are renamed, dropped or duplicated, the index is odd, and the table is handed over as
pandas, Arrow (Table, chunked, RecordBatch, stream), polars (DataFrame, LazyFrame) or
something that is no table. The options of classify are fuzzed too.
"""

from __future__ import annotations

import pandas as pd
from hypothesis import strategies as st

from tests.fuzz.values import HOSTILE_NUMBERS, HOSTILE_OTHER, HOSTILE_STRINGS, hostile_scalars, lit

NS = 10**9
HOUR = 3600 * NS
_SWITCHES = ["2000-01-01", "2022-01-31T23:00", "2022-02-01", "2023-03-01", "2023-04-04", "2023-06-01",
             "2024-10-15", "2024-10-31T23:59:59", "2024-11-01", "2025-04-01", "2025-06-30T21:00", "2025-07-01",
             "2025-10-01", "2026-03-29T01:00", "2026-07-01", "2026-09-30T22:00", "2026-10-01", "2026-10-25T00:30",
             "2099-12-31T23:00"]
SWITCH_NS = [pd.Timestamp(s, tz="UTC").value for s in _SWITCHES]
EARLIEST_NS, LATEST_NS = pd.Timestamp("2000-01-01", tz="UTC").value, pd.Timestamp("2100-01-01", tz="UTC").value

BUSINESSES = ["b1", "b2", "1000000001"]
BUSINESS_INTS = [1000000001, 2, 0]
USERS = ["+5511987654321", "5511987654321", "+1 (809) 555-0100", "00447700900123", "US.13491208655302741918",
         "user.9373", "919812345678", "15550000001", "(11) 99999-0000", "+79161234567", "263771234567",
         "12125550100", "+86 10 1234 5678"]
USER_INTS = [5511987654321, 15550000001, 12125550100, 919812345678, 263771234567, 447700900123, 18095550100, 0,
             2**63 - 1, -5511987654321, 7]
WABAS = ["w1", "w-sp", "waba-br"]
PORTFOLIOS = ["p1", "p2"]
MESSAGE_IDS = ["m1", "m2", "m3", "wamid.X", "m4", "m5"]
COUNTRIES = ["BR", "US", "IN", "br", " in ", "ZW", "GB", "XK"]
DIRECTIONS = ["inbound", "outbound", "INBOUND", " Outbound ", "Inbound"]
CATEGORIES = [None, None, "marketing", "utility", "authentication", "marketing_lite", "", "MARKETING", " utility "]
STATUSES = ["sent", "delivered", "read", "failed", "played", None, "DELIVERED"]
ZONES = ["UTC", "America/Sao_Paulo", "Asia/Kolkata", "Pacific/Chatham", "Europe/London", "America/New_York",
         "Pacific/Kiritimati", "Etc/GMT+12"]
BAD_ZONES = ["Not/AZone", "", "+05:00", "utc", "Europe/Lon don", "../../etc/passwd", "\x00", "US/Pacific-New"]

# Column kinds: (family, spec). family "pd": a pandas dtype; "pa": an Arrow type; "pl": a polars dtype.
STRING_KINDS = [("list", None), ("pd", "object"), ("pd", "string"), ("pd", "string[pyarrow]"), ("pd", "str"),
                ("pd", "category"), ("pa", "pa.string()"), ("pa", "pa.large_string()"), ("pa", "pa.string_view()"),
                ("pa", "pa.dictionary(pa.int8(), pa.string())"), ("pa", "pa.dictionary(pa.int32(), pa.large_string())"),
                ("pl", "pl.String"), ("pl", "pl.Categorical")] * 4 + [
                ("pa", "pa.binary()"), ("pa", "pa.large_binary()"), ("pd", "Sparse[object]")]
INT_KINDS = [("list", None), ("pd", "int64"), ("pd", "Int64"), ("pd", "uint64"), ("pd", "int32"), ("pd", "float64"),
             ("pd", "object"), ("pd", "category"), ("pa", "pa.int64()"), ("pa", "pa.uint32()"),
             ("pa", "pa.dictionary(pa.int8(), pa.int64())"), ("pl", "pl.Int64"), ("pl", "pl.UInt8")]
BOOL_KINDS = [("list", None), ("pd", "bool"), ("pd", "boolean"), ("pd", "object"), ("pd", "category"),
              ("pa", "pa.bool_()"), ("pl", "pl.Boolean")]
UNITS = ["s", "ms", "us", "ns"]


def _series(family: str, spec: str | None, values: list, container: str) -> str:
    """Source of one column of `values` in `container` ("pandas", "arrow", "polars")."""
    v = lit(values)
    if container == "pandas":
        if family == "list":
            return v
        if family == "pd":
            return f"pd.Series({v}, dtype={spec!r})"
        if family == "pa":
            return f"pd.Series(pd.arrays.ArrowExtensionArray(pa.array({v}, type={spec})))"
        return f"pl.Series({v}, dtype={spec}, strict=False).to_pandas()"
    if container == "arrow":
        if family in ("list", "pd"):
            return f"pa.array({v})" if family == "list" else f"pa.array(pd.Series({v}, dtype={spec!r}))"
        if family == "pa":
            return f"pa.array({v}, type={spec})"
        return f"pl.Series({v}, dtype={spec}, strict=False).to_arrow()"
    if family == "pl":
        return f"pl.Series({v}, dtype={spec}, strict=False)"
    if family == "pa":
        return f"pl.from_arrow(pa.array({v}, type={spec}))"
    if family == "pd":
        return f"pl.from_pandas(pd.Series({v}, dtype={spec!r}))"
    return f"pl.Series({v}, strict=False)"


def _fallback(values: list, container: str) -> str:
    """A column that can always be built: object values, or their text for Arrow and polars."""
    if container == "pandas":
        return f"pd.Series({lit(values)}, dtype=object)"
    text = [None if v is None else v if type(v) is str else repr(v) for v in values]
    if container == "arrow":
        return f"pa.array({lit(text)}, type=pa.string())"
    return f"pl.Series({lit(text)}, dtype=pl.String)"


@st.composite
def _times(draw, ns: list[int | None], container: str) -> str:
    """One datetime column (ns since the epoch, None = missing) in a random representation."""
    kind = draw(st.sampled_from(["dt64", "dt64", "epoch", "iso", "objects", "arrow", "polars", "extreme"]))
    if kind == "dt64":
        utc = draw(st.booleans())
        expr = f"pd.Series(pd.to_datetime({lit(ns)}, unit='ns', utc={utc}))"
        if utc and draw(st.booleans()):
            expr += f".dt.tz_convert({draw(st.sampled_from(ZONES))!r})"
        unit = draw(st.sampled_from(UNITS))
        if unit != "ns":
            expr += f".dt.as_unit({unit!r})"
        if container == "arrow":
            expr = f"pa.array({expr})"
        elif container == "polars":
            expr = f"pl.from_pandas({expr})"
        return expr
    if kind == "epoch":
        fractional = draw(st.booleans())
        values = [None if t is None else (t / NS if fractional else t // NS) for t in ns]
        kinds = [("pd", "float64"), ("pd", "Float64"), ("pd", "object"), ("pa", "pa.float64()")] if fractional \
            else INT_KINDS
        family, spec = draw(st.sampled_from(kinds))
        return _series(family, spec, values, container)
    if kind in ("iso", "arrow"):
        style = draw(st.sampled_from(["Z", "+00:00", "+05:30", "naive", "space", "nanos", "date", "mixed", "rfc"]))
        texts = [None if t is None else _iso(t, style if style != "mixed" else draw(st.sampled_from(
            ["Z", "+05:30", "naive", "nanos", "date"]))) for t in ns]
        if kind == "arrow":
            family, spec = "pa", draw(st.sampled_from(["pa.string()", "pa.large_string()", "pa.string_view()"]))
        else:
            family, spec = draw(st.sampled_from(STRING_KINDS))
        return _series(family, spec, texts, container)
    if kind == "objects":
        style = draw(st.sampled_from(["aware", "naive", "mixed", "timestamps", "numpy", "zoned"]))
        objects = []
        for t in ns:
            if t is None:
                objects.append(draw(st.sampled_from([None, pd.NaT])))
                continue
            stamp = pd.Timestamp(t, unit="ns", tz="UTC")
            pick = style if style != "mixed" else draw(st.sampled_from(["aware", "naive"]))
            if pick == "aware":
                objects.append(stamp.to_pydatetime(warn=False))
            elif pick == "naive":
                objects.append(stamp.tz_localize(None).to_pydatetime(warn=False))
            elif pick == "timestamps":
                objects.append(stamp)
            elif pick == "zoned":
                objects.append(stamp.tz_convert(draw(st.sampled_from(ZONES))))
            else:
                objects.append(stamp.tz_localize(None).to_datetime64())
        return _series("pd", "object", objects, container) if container == "pandas" else _series(
            "list", None, objects, container)
    if kind == "polars":
        unit = draw(st.sampled_from(["ms", "us", "ns"]))
        zone = draw(st.sampled_from([None, "UTC", "America/Sao_Paulo"]))
        values = [None if t is None else t // (10**6 if unit == "ms" else 10**3 if unit == "us" else 1) for t in ns]
        arrow = f"pa.array({lit(values)}, type=pa.timestamp({unit!r}, tz={zone!r}))"
        if container == "pandas":
            return f"pd.Series(pd.arrays.ArrowExtensionArray({arrow}))"
        return arrow if container == "arrow" else f"pl.from_arrow({arrow})"
    # "extreme": raw counts in a datetime64 unit, far outside pandas' ns range
    unit = draw(st.sampled_from(UNITS))
    raw = [None if t is None else draw(st.sampled_from(
        [t // {"s": NS, "ms": 10**6, "us": 10**3, "ns": 1}[unit], 2**62, -(2**62), 2**63 - 1, -(2**63) + 1, 0,
         253_402_300_800, -62_135_596_800])) for t in ns]
    values = [("NaT" if v is None else v) for v in raw]
    expr = f"pd.Series(np.array({lit(values)}, dtype='datetime64[{unit}]'))"
    if draw(st.booleans()):
        expr += ".dt.tz_localize('UTC')"
    if container == "arrow":
        return f"pa.array(np.array({lit(values)}, dtype='datetime64[{unit}]'))"
    if container == "polars":
        return f"pl.from_arrow(pa.array(np.array({lit(values)}, dtype='datetime64[{unit}]')))"
    return expr


def _iso(t: int, style: str) -> str:
    stamp = pd.Timestamp(t, unit="ns", tz="UTC")
    if style == "Z":
        return stamp.strftime("%Y-%m-%dT%H:%M:%SZ")
    if style == "+00:00":
        return stamp.isoformat()
    if style == "+05:30":
        return stamp.tz_convert("Asia/Kolkata").isoformat()
    if style == "naive":
        return stamp.tz_localize(None).isoformat()
    if style == "space":
        return stamp.strftime("%Y-%m-%d %H:%M:%S")
    if style == "nanos":
        return stamp.strftime("%Y-%m-%dT%H:%M:%S") + f".{t % NS:09d}Z"
    if style == "date":
        return stamp.strftime("%Y-%m-%d")
    return stamp.strftime("%a, %d %b %Y %H:%M:%S GMT")


def _mutate(draw, values: list) -> list:
    """Some cells replaced by hostile values (most columns stay clean)."""
    if not values or draw(st.integers(0, 24)) != 12:
        return values
    values = list(values)
    for _ in range(draw(st.integers(1, 2))):
        values[draw(st.integers(0, len(values) - 1))] = draw(hostile_scalars)
    return values


@st.composite
def classify_cases(draw) -> dict:
    """{"events": source of a table (or not), "options": {name: source}, "notes": ...}."""
    n = draw(st.one_of(st.integers(0, 8), st.integers(0, 8), st.integers(9, 40)))
    container = draw(st.sampled_from(["pandas"] * 5 + ["arrow"] * 2 + ["polars"]))
    base = draw(st.one_of(st.sampled_from(SWITCH_NS), st.sampled_from(SWITCH_NS[1:-1]),
                          st.integers(EARLIEST_NS - 40 * HOUR, LATEST_NS + HOUR)))
    int_businesses = draw(st.integers(0, 4)) == 2
    int_users = draw(st.integers(0, 5)) == 2  # phone numbers as numbers, as a CSV reader leaves them
    early = int(draw(st.integers(0, 19)) == 10)  # deliveries before their send time (an InputError)
    rows = []
    for _ in range(n):
        t = base + draw(st.one_of(st.integers(-48, 96).map(lambda h: h * HOUR), st.integers(-HOUR, 4 * 24 * HOUR)))
        outbound = draw(st.booleans())
        delay = draw(st.sampled_from([0, 1, 2 * NS, 2 * NS, HOUR, 30 * HOUR, None] + [-NS] * early)) if outbound else None
        rows.append({
            "business": draw(st.sampled_from(BUSINESS_INTS if int_businesses else BUSINESSES)),
            "user": draw(st.sampled_from(USER_INTS if int_users else USERS[: draw(st.integers(1, len(USERS)))])),
            "timestamp": t,
            "direction": draw(st.sampled_from(DIRECTIONS[1::2] if outbound else DIRECTIONS[0::2])),
            "template_category": draw(st.sampled_from(CATEGORIES)) if outbound else None,
            "delivered_at": None if delay is None else t + delay,
            "status": draw(st.sampled_from(STATUSES)),
            "referral": (not outbound) and draw(st.integers(0, 4)) == 0,
            "message_id": draw(st.sampled_from(MESSAGE_IDS + [None])),
            "waba": draw(st.sampled_from(WABAS)),
            "portfolio": draw(st.sampled_from(PORTFOLIOS)),
            "user_country": draw(st.sampled_from(COUNTRIES + [None])),
            "message_type": draw(st.sampled_from(["text", "reaction", "system", None])),
        })
    optional = ["template_category", "delivered_at", "status", "referral", "message_id", "waba", "portfolio",
                "user_country", "message_type"]
    present = ["business", "user", "timestamp", "direction"] + [c for c in optional if draw(st.booleans())]
    if draw(st.integers(0, 19)) == 10:  # a required column missing
        present.remove(draw(st.sampled_from(["business", "user", "timestamp", "direction"])))
    columns: list[tuple[object, list[str]]] = []
    values_of: dict[str, list] = {}
    for name in present:
        values = [row[name] for row in rows]
        if name in ("timestamp", "delivered_at"):
            expr = draw(_times(values, container))
            if draw(st.integers(0, 24)) == 12:  # hostile cells in a datetime column: objects
                values = _mutate(draw, [pd.Timestamp(v, unit="ns", tz="UTC") if v is not None else None
                                        for v in values])
                expr = _series("pd", "object", values, container) if container == "pandas" else expr
            columns.append((name, [expr, _fallback(values, container)]))
            values_of[name] = values
            continue
        values = _mutate(draw, values)
        if name == "referral":
            family, spec = draw(st.sampled_from(BOOL_KINDS + [("pd", "object")]))
            if draw(st.integers(0, 4)) == 0:
                values = [draw(st.sampled_from(["true", "yes", "0", "", 1, 0, None, "FALSE", 1.0])) for _ in values]
        elif name == "business" and int_businesses or name == "user" and int_users:
            family, spec = draw(st.sampled_from(INT_KINDS))
        else:
            family, spec = draw(st.sampled_from(STRING_KINDS))
        columns.append((name, [_series(family, spec, values, container), _fallback(values, container)]))
        values_of[name] = values
    # a tracer column: every row must come back once, in order
    columns.append(("__row", [_series("list", None, list(range(n)), container)]))
    if draw(st.integers(0, 7)) == 3:  # an unrelated column of hostile values
        junk = [draw(hostile_scalars) for _ in range(n)]
        columns.insert(draw(st.integers(0, len(columns))), (draw(st.sampled_from(["extra", 0, "", "user ", "\u00fcser"])),
                                                            [_series("list", None, junk, container), _fallback(junk, container)]))
    options: dict[str, str] = {}
    mapping: dict[str, object] = {}
    if draw(st.integers(0, 7)) == 3:  # user's own column names (and, rarely, a bad mapping)
        for i, (name, exprs) in enumerate(columns):
            if name in present and draw(st.booleans()):
                new = draw(st.sampled_from([f"my_{name}", f"{name}_x", name.upper(), "wa_id", "\U0001f600"]))
                columns[i] = (new, exprs)
                mapping[name] = new
        if draw(st.integers(0, 9)) == 0:
            mapping[draw(st.sampled_from(["usr", "template_category", "user"]))] = draw(st.sampled_from(["nope", "user"]))
        options["columns"] = lit(mapping)
    elif draw(st.integers(0, 9)) == 5:  # one column read as two canonical ones
        canonical, source = draw(st.sampled_from([("waba", "business"), ("portfolio", "user"), ("portfolio", "waba"),
                                                  ("delivered_at", "timestamp"), ("message_id", "user"),
                                                  ("user_country", "direction"), ("referral", "__row")]))
        options["columns"] = lit({canonical: source})
    if columns and draw(st.integers(0, 19)) == 10:  # a duplicate column name
        name, exprs = draw(st.sampled_from(columns))
        other = present[draw(st.integers(0, len(present) - 1))] if present else "business"
        columns.append((name, list(dict(columns).get(other, exprs))))
    index = None
    if container == "pandas" and draw(st.integers(0, 3)) == 0:
        index = draw(st.sampled_from([
            f"pd.Index({lit([f'r{i}' for i in range(n)])})", f"pd.Index({lit([0] * n)})",
            f"pd.RangeIndex(10, 10 + 2 * {n}, 2)", f"pd.Index({lit(list(range(n))[::-1])})",
            f"pd.MultiIndex.from_arrays([{lit(list(range(n)))}, {lit(['a'] * n)}])",
            f"pd.date_range('2024-01-01', periods={n}, freq='h', tz='UTC')",
            f"pd.CategoricalIndex({lit([f'c{i % 2}' for i in range(n)])})",
        ]))
    form = draw(st.sampled_from({
        "pandas": ["frame"] * 40 + ["records", "dict", "series", "none", "empty_frame", "empty_frame", "multi_columns"],
        "arrow": ["table", "table", "chunked", "batch", "stream", "c_stream"],
        "polars": ["frame", "frame", "lazy"],
    }[container]))
    options.update(_options(draw, values_of))
    return {"container": container, "form": form, "columns": columns, "index": index, "options": options,
            "n": n}


def _pick(draw, valid: list, hostile: list) -> object:
    """A valid value mostly; a hostile one in about one draw in ten."""
    return draw(st.sampled_from(hostile)) if hostile and draw(st.integers(0, 19)) == 10 else draw(st.sampled_from(valid))


def _options(draw, values_of: dict[str, list]) -> dict[str, str]:
    o: dict[str, str] = {}
    if draw(st.booleans()):
        o["rules"] = lit(_pick(draw, ["auto", "cbp_v1", "cbp_v2", "pmp_v1", "pmp_v2"], ["CBP_V1", "", None, 1]))
    if draw(st.integers(0, 2)) == 0:
        o["anchor"] = lit(_pick(draw, ["delivered", "sent"], ["Sent", None]))
    if draw(st.integers(0, 2)) == 0:
        keys = sorted({str(v) for v in values_of.get("waba", values_of.get("business", [])) if v is not None})[:3]
        zones = {}
        for key in keys + ([draw(st.sampled_from([None, 7, "w1"]))] if draw(st.integers(0, 5)) == 0 else []):
            zones[key] = _pick(draw, ZONES, BAD_ZONES + [None, 5, b"UTC"])
        o["timezones"] = lit(zones) if draw(st.integers(0, 19)) else lit(draw(st.sampled_from([[1], "UTC", 0])))
    o_int = {"service_free_allowance": ([0, 1, 2, 1000], [-1, 2**31, 2**63 - 1, 2**63, 2**64, True, 1.5, "3"]),
             "free_tier_conversations": ([0, 1, 3, 1000], [-1, 2**31, 2**63 - 1, 2**63, 10**30, False, None])}
    for name, (valid, hostile) in o_int.items():
        if draw(st.integers(0, 2)) == 0:
            o[name] = lit(_pick(draw, valid, hostile))
    for name in ("failed_freeform_opens_conversation", "direct_billing"):
        if draw(st.integers(0, 3)) == 0:
            o[name] = lit(_pick(draw, [True, False], [1, "yes", None]))
    if draw(st.integers(0, 3)) == 0:
        o["price"] = lit(_pick(draw, [False, True], [0, None]))
    if draw(st.integers(0, 3)) == 0:
        o["threads"] = lit(_pick(draw, [0, 1, 2, 3], [-1, -2, 2**31, 1.5, None, True]))
    if draw(st.integers(0, 3)) == 0:
        o["output"] = lit(_pick(draw, ["pandas", "arrow", "polars"], ["Pandas", None]))
    if draw(st.integers(0, 7)) == 0:
        o["csw_refreshing"] = _pick(draw, ["'referral'", "'__row'", "lambda f: [True] * len(f)",
                                           "lambda f: np.ones(len(f), dtype=bool)"], [
            "'missing'", "lambda f: []", "lambda f: None", "lambda f: np.ones((len(f), 2))", "lambda f: ['x'] * len(f)",
            "lambda f: 1 / 0", "5", "lambda f: np.full(len(f), np.nan)", "lambda f: pd.Series([True] * len(f)).iloc[::-1]"])
    if draw(st.integers(0, 7)) == 0:
        o["auth_international"] = lit(_pick(draw, [
            {"p1": {"primary_country": "IN", "start": "2025-02-01"}},
            {"p1": {"primary_country": "in", "start": "2025-02-01T00:00:00+05:30"}},
            {"p2": {"primary_country": "BR", "start": pd.Timestamp("2024-01-01")}}], [
            {"p1": {"primary_country": None, "start": None}}, {"p1": {}}, {"p1": "IN"},
            {"w1": {"primary_country": "ZZ", "start": "not a date"}}, {"p2": {"primary_country": 5, "start": 10**30}},
            {"p1": {"primary_country": "IN", "start": "1900-01-01"}}, [("p1", 1)], "p1",
        ]))
    if draw(st.integers(0, 7)) == 0:
        o["volume_tiers"] = _pick(draw, [
            "pd.DataFrame({'Market': ['India', 'Brazil'], 'Category': ['utility', 'utility'], "
            "'Tier': ['0:1', '2:MAX'], 'Rate': [0.01, 0.005]})",
            "pd.DataFrame({'Market': ['North America'], 'Category': ['authentication'], 'Tier': ['0:MAX'], 'Rate': [0.02]})",
            "None"], [
            "pd.DataFrame({'Market': ['India', 'Brazil'], 'Category': ['utility', 'utility'], "
            "'Tier': ['0:1', '2:MAX'], 'Rate': [0.01, -0.5]})",
            "pd.DataFrame({'Market': ['Brazil'], 'Category': ['utility'], 'Tier': ['0:MAX'], 'Rate': [nan]})",
            "pd.DataFrame({'Market': ['North America'], 'Category': ['authentication'], 'Tier': ['0:MAX'], 'Rate': [inf]})",
            "pd.DataFrame({'Market': ['Brazil'], 'Category': ['utility'], 'Tier': ['0:99999999999999999999'], 'Rate': [0.1]})",
            "pd.DataFrame({'Market': [], 'Category': [], 'Tier': [], 'Rate': []})", "pd.DataFrame()",
            "pd.DataFrame({'Market': ['Brazil'], 'Category': ['utility'], 'Tier': [None], 'Rate': [None]})",
            "'/nonexistent/tiers.csv'", "5", "[]"])
    if draw(st.integers(0, 9)) == 0:
        o["rate_card"] = _pick(draw, ["waconv.RateCards.default()", "None"], [
            "'/nonexistent/card.csv'", "5", "[]", "[None]", "waconv.RateCards([])"])
    return o


def render(case: dict, build) -> str:
    """The case's source; `build(source)` tells whether a column expression can be built."""
    container, form, n = case["container"], case["form"], case["n"]
    lines = []
    if container == "polars" or "pl." in repr(case["columns"]):
        lines.append("import polars as pl")
    names, exprs = [], []
    wrap = {"pandas": f"pd.DataFrame({{0: (@@)}}, index=pd.RangeIndex({n}))",
            "arrow": "pa.Table.from_arrays([@@], names=['x'])", "polars": "pl.DataFrame([(@@).alias('x')])"}[container]
    for name, candidates in case["columns"]:
        chosen = next((c for c in candidates if build("\n".join(lines + [wrap.replace('@@', c)]))), None)
        if chosen is None:
            continue
        names.append(name)
        exprs.append(chosen)
    if container == "pandas":
        body = ", ".join(f"{i}: {e}" for i, e in enumerate(exprs))
        lines.append(f"events = pd.DataFrame({{{body}}}, index=pd.RangeIndex({n}))")
        lines.append(f"events.columns = {lit(names)}")
        if case["index"] is not None:
            lines.append(f"events.index = {case['index']}")
        extra = {"records": "events = events.to_dict('records')", "dict": "events = events.to_dict('list')",
                 "series": "events = events.iloc[:, 0] if events.shape[1] else pd.Series([])", "none": "events = None",
                 "empty_frame": "events = events.iloc[:0]",
                 "multi_columns": "events.columns = pd.MultiIndex.from_arrays([events.columns, events.columns])"}
        if form in extra:
            lines.append(extra[form])
    elif container == "arrow":
        lines.append(f"events = pa.Table.from_arrays([{', '.join(exprs)}], names={lit([str(x) for x in names])})")
        if form == "chunked":
            lines.append("events = pa.concat_tables([events.slice(0, events.num_rows // 2), events.slice(0, 0), "
                         "events.slice(events.num_rows // 2)])")
        elif form == "batch":
            lines.append("events = events.combine_chunks().to_batches()[0] if events.num_rows else events")
        elif form == "stream":
            lines.append("_table = events")
            lines.append("events = pa.RecordBatchReader.from_batches(events.schema, events.to_batches())")
        elif form == "c_stream":
            lines.append("class Producer:\n    def __init__(self, t): self.t = t\n"
                         "    def __arrow_c_stream__(self, requested_schema=None):\n"
                         "        return self.t.__arrow_c_stream__(requested_schema)\nevents = Producer(events)")
    else:
        series = ", ".join(f"({e}).alias({str(name)!r})" for name, e in zip(names, exprs))
        lines.append(f"events = pl.DataFrame([{series}])")
        if form == "lazy":
            lines.append("events = events.lazy()")
    options = ", ".join(f"{k}={v}" for k, v in case["options"].items())
    lines.append(f"options = dict({options})")
    return "\n".join(lines)
