"""Where does waconv.classify spend its time? A profile at one size, with alternatives.

    python benchmarks/profile_classify.py --rows 10000000

1. ``result.timings`` of ``waconv.classify`` (best of ``--repeat``);
2. cProfile of one call: waconv's own functions by cumulative time, then the library
   functions (pandas, pyarrow, NumPy) with the most own time;
3. the pandas operations input preparation performs, timed one by one on the same frame,
   each next to cheaper alternatives (these are what ``canonicalize`` does at the time of
   writing, re-stated here so the timings do not depend on private helpers);
4. the result assembly steps, likewise.

Nothing here changes waconv; the alternatives are measurements, not patches.
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))

from synthetic_log import make_log  # noqa: E402


def _timed(label: str, fn, rows: int, repeat: int = 1, note: str = ""):
    best = float("inf")
    value = None
    for _ in range(repeat):
        started = time.perf_counter()
        value = fn()
        best = min(best, time.perf_counter() - started)
    print(f"    {label:<62}{best:>8.3f} s {rows / best / 1e6:>8.1f} M rows/s  {note}")
    return value


def _section(title: str) -> None:
    print(f"\n== {title}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--threads", type=int, default=0)
    parser.add_argument("--top", type=int, default=20)
    parser.add_argument("--price", default="default", choices=["default", "on", "off"],
                        help="waconv.classify(price=...); 'default' passes nothing")
    parser.add_argument("--string-dtype", default="str", choices=["str", "object", "category"])
    args = parser.parse_args()
    warnings.simplefilter("ignore")

    import pyarrow as pa
    import pyarrow.compute as pc

    import waconv

    options = {"threads": args.threads}
    if args.price != "default":
        options["price"] = args.price == "on"
    waconv.classify(make_log(5_000, seed=12345), **options)
    df = make_log(args.rows, seed=args.seed, string_dtype=args.string_dtype)
    n = len(df)
    print(f"{n:,} rows, input {df.memory_usage(deep=True).sum() / 2**20:.0f} MiB, dtypes: "
          + ", ".join(f"{k}={v}" for k, v in df.dtypes.items()))

    # ------------------------------------------------------------------ 1. timings
    _section(f"waconv.classify timings (best of {args.repeat}, options {options})")
    best = None
    for _ in range(args.repeat):
        result = waconv.classify(df, **options)
        if best is None or result.timings["total"] < best["total"]:
            best = dict(result.timings)
        del result
    for key in ("prepare", "core", "scan", "assemble", "price", "total"):
        if not best.get(key):
            continue
        share = best[key] / best["total"]
        print(f"    {key:<12}{best[key]:>8.3f} s  {share:>6.1%}  {n / best[key] / 1e6:>8.1f} M rows/s")

    # ------------------------------------------------------------------ 2. cProfile
    _section("cProfile of one waconv.classify call")
    profiler = cProfile.Profile()
    profiler.enable()
    result = waconv.classify(df, **options)
    profiler.disable()
    stats = pstats.Stats(profiler)
    total = result.timings["total"]
    entries = []
    for (filename, line, name), (_, calls, own, cumulative, _) in stats.stats.items():
        entries.append((filename, line, name, calls, own, cumulative))
    print(f"  waconv functions by cumulative time (profiled total {total:.2f} s):")
    for filename, line, name, calls, own, cumulative in sorted(entries, key=lambda e: -e[5]):
        if "/waconv/" in filename and cumulative >= 0.01:
            print(f"    {Path(filename).name}:{name:<40}{cumulative:>8.3f} s cumulative {own:>8.3f} s own")
    print(f"  top {args.top} by own time (library code included):")
    for filename, line, name, calls, own, cumulative in sorted(entries, key=lambda e: -e[4])[: args.top]:
        where = filename.split("site-packages/")[-1] if filename != "~" else "builtin"
        print(f"    {own:>8.3f} s own {cumulative:>8.3f} s cum  {calls:>4}x  {where}:{line}({name})")
    windows_users = result.windows["user"]

    # ------------------------------------------------------------------ 3. prepare
    _section("input preparation, operation by operation (what canonicalize does, and alternatives)")
    r = args.repeat
    print("  business (int64, few distinct):")
    _timed("isna().any()  [null check]", lambda: df["business"].isna().to_numpy().any(), n, r)
    _timed("pd.factorize(sort=True)  [waconv]", lambda: pd.factorize(df["business"], sort=True), n, r)
    _timed("pd.factorize(sort=False)", lambda: pd.factorize(df["business"], sort=False), n, r)
    print("  waba (int64, few distinct):")
    _timed("pd.factorize(sort=True)  [waconv]", lambda: pd.factorize(df["waba"], sort=True), n, r)

    user = df["user"]
    print(f"  user ({user.dtype}, {user.nunique():,} distinct):")
    _timed("isna().any()  [null check]", lambda: user.isna().to_numpy().any(), n, r)
    codes, uniques = _timed("pd.factorize(sort=True)", lambda: pd.factorize(user, sort=True), n, r)
    from waconv.engine.strings import encode_strings, factorize_strings

    if factorize_strings(user.head(1)) is not None:
        _timed("C++ over the Arrow buffers  [waconv factorize_strings]", lambda: factorize_strings(user), n, r)
    _timed("pd.factorize(sort=False)", lambda: pd.factorize(user, sort=False), n, r)

    def factorize_then_rank():
        c, u = pd.factorize(user, sort=False)
        values = u.array.__arrow_array__() if hasattr(u.array, "__arrow_array__") else pa.array(np.asarray(u, object))
        order = pc.sort_indices(values).to_numpy()  # sort only the distinct values (Arrow)
        rank = np.empty(len(order), dtype=np.int32)
        rank[order] = np.arange(len(order), dtype=np.int32)
        return rank[c], u.take(order)

    got = _timed("pd.factorize(sort=False) + Arrow-sort distinct values, remap", factorize_then_rank, n, r)
    assert np.array_equal(got[0], codes)
    if isinstance(user.dtype, pd.StringDtype) and user.dtype.storage == "pyarrow":
        arrow = user.array.__arrow_array__()
        _timed("pyarrow dictionary_encode (no sort)", lambda: pc.dictionary_encode(arrow), n, r)

        def phone_digits():
            # "+5511..." -> int64 (fast path when every value is '+' and digits; BSUIDs need the slow path)
            digits = pc.utf8_ltrim(arrow, characters="+")
            ok = pc.all(pc.utf8_is_digit(digits)).as_py()
            return pc.cast(digits, pa.int64()).to_numpy(zero_copy_only=False) if ok else None

        ints = _timed("phone -> int64 via pyarrow (validate + cast)", phone_digits, n, r)
        if ints is not None:
            _timed("  + pd.factorize(int64, sort=True)", lambda: pd.factorize(ints, sort=True), n, r)
    uniques = pd.Index(uniques)
    _timed("distinct users to a list: [str(v) for v in index]  [waconv pricing, non-Arrow ids]",
           lambda: [str(v) for v in uniques], n, r)
    _timed("  alternative: [str(v) for v in index.tolist()]", lambda: [str(v) for v in uniques.tolist()], n, r)
    cat = user.astype("category")
    _timed("pd.factorize of a category column (if the caller passes one)", lambda: pd.factorize(cat, sort=True), n, r)
    _timed("  (cost of user.astype('category') itself)", lambda: user.astype("category"), n, 1)
    del cat

    direction = df["direction"]
    print(f"  direction ({direction.dtype}):")

    def map_small(series, table):
        c, u = pd.factorize(series, use_na_sentinel=True)
        lookup = np.array([table[str(v).strip().lower()] for v in u] + [0])
        return lookup[c]

    _timed("pd.factorize + map the distinct values  [waconv, non-Arrow strings]",
           lambda: map_small(direction, {"inbound": 0, "outbound": 1}), n, r)
    if encode_strings(direction.head(1), ["inbound"]) is not None:
        _timed("C++ over the Arrow buffers  [waconv encode_strings]",
               lambda: encode_strings(direction, ["inbound", "outbound"], [0, 1], 0), n, r)
    _timed("(series == 'outbound').to_numpy()", lambda: (direction == "outbound").to_numpy(), n, r)
    if isinstance(direction.dtype, pd.StringDtype) and direction.dtype.storage == "pyarrow":
        darrow = direction.array.__arrow_array__()
        _timed("pyarrow dictionary_encode (distinct values -> table)", lambda: pc.dictionary_encode(darrow), n, r)

    category = df["template_category"]
    print(f"  template_category ({category.dtype}, mostly null):")
    table = {"marketing": 1, "utility": 2, "authentication": 3, "marketing_lite": 4, "": 0}
    _timed("pd.factorize + map the distinct values  [waconv, non-Arrow strings]", lambda: map_small(category, table), n, r)
    if encode_strings(category.head(1), [""]) is not None:
        _timed("C++ over the Arrow buffers  [waconv encode_strings]",
               lambda: encode_strings(category, list(table), list(table.values()), 0), n, r)
    if isinstance(category.dtype, pd.StringDtype) and category.dtype.storage == "pyarrow":
        carrow = category.array.__arrow_array__()
        values = pa.array(["marketing", "utility", "authentication", "marketing_lite"])
        _timed("pyarrow index_in(value_set)", lambda: pc.index_in(carrow, value_set=values), n, r)

    ts = df["timestamp"]
    print(f"  timestamp / delivered_at ({ts.dtype}):")

    def waconv_times(series):
        values = series.dt.tz_convert("UTC").dt.tz_localize(None)
        return values.to_numpy(dtype="datetime64[ns]").view(np.int64)

    _timed("tz_convert + tz_localize(None) + to_numpy(ns)", lambda: waconv_times(ts), n, r)
    _timed("array.as_unit('ns').asi8  [waconv]", lambda: ts.array.as_unit("ns").asi8, n, r)
    _timed("to_numpy(dtype='datetime64[ns]')", lambda: ts.to_numpy(dtype="datetime64[ns]").view(np.int64), n, r)
    _timed("array.asi8 (native unit, no copy)", lambda: ts.array.asi8, n, r)
    dl = df["delivered_at"]
    _timed("delivered_at: array.as_unit('ns').asi8  [waconv]", lambda: dl.array.as_unit("ns").asi8, n, r)

    referral = df["referral"]
    print("  referral (bool):")
    _timed("isna().any() + to_numpy(uint8)  [waconv _bools]",
           lambda: (referral.isna().any(), referral.to_numpy(dtype=np.uint8)), n, r)

    # ------------------------------------------------------------------ 4. assemble
    _section("result assembly (waconv's own steps are in the cProfile list above)")
    _, user_values = pd.factorize(user, sort=True)
    window_codes = user_values.get_indexer(windows_users)
    print(f"  {len(result.conversations):,} conversations, {len(windows_users):,} windows")
    _timed("user_values.take(codes): user strings for the windows table  [waconv]",
           lambda: user_values.take(window_codes), n, r)
    _timed("alternative: pd.Categorical.from_codes(codes, user_values)",
           lambda: pd.Categorical.from_codes(window_codes, categories=user_values, validate=False), n, r)
    _timed("frame.copy(deep=False)", lambda: df.copy(deep=False), n, r)

    def add_columns():
        out = df.copy(deep=False)
        for k in range(10):
            out[f"c{k}"] = np.zeros(n, dtype=np.int8)
        return out

    _timed("  + 10 new int8 columns one by one", add_columns, n, r)

    def one_construction():
        columns = {name: df[name].array for name in df.columns}
        columns.update({f"c{k}": np.zeros(n, dtype=np.int8) for k in range(10)})
        return pd.DataFrame(columns, index=df.index, copy=False)

    _timed("  + the same 10 columns in one DataFrame construction  [waconv]", one_construction, n, r)


if __name__ == "__main__":
    main()
