"""Benchmark waconv.classify against a pandas + numba baseline, with the issue's targets.

    python benchmarks/bench_classify.py --sizes 1000000 10000000

For each size and each measurement (``waconv`` and ``numba``) a fresh Python process:

1. imports the code under test and warms it up on a 5,000-row log (numba compiles its
   loop, waconv loads its extension) — not timed, not counted in memory;
2. builds the synthetic log (``synthetic_log.make_log(size, seed)``) — not timed;
3. frees what the generator left behind (``gc.collect()``, ``malloc_trim``), reads the
   resident set size (RSS) as the baseline, and resets the kernel's peak-RSS mark
   (``/proc/self/clear_refs`` = 5, Linux), so the log generator's own peak does not hide
   the measured peak. Where that reset is unavailable the peak is
   ``getrusage(RUSAGE_SELF).ru_maxrss`` since process start (flagged in the output);
4. runs the measurement ``--repeat`` times (results dropped between runs) and reports the
   fastest run, the median, the stage timings of the fastest run, and the peak RSS over
   all runs: absolute, increase over the baseline, and that increase divided by the input
   DataFrame's ``memory_usage(deep=True).sum()``.

Targets (from the issue) are printed next to each figure with PASS/MISS; the two that are
stated for 10M rows (``--target-rows``) are only judged at that size:

- classify >= 5x faster than the numba baseline end to end (at 10M rows),
- classify of 10M rows in under 2.5 s,
- peak memory increase of classify under 3x the input DataFrame's size,
- C++ scan (``result.timings["scan"]``: grouping by user, sort + pair scan, scatter back to
  row order) above 30M rows/s; its steps are printed too (``scan_group``, ``scan_pairs``,
  ``scan_join``, ``scan_scatter``), the pair scan alone against the same rate;
- with ``--price both`` (the default): pricing adds at most 20 % to classification alone.
  The priced call (``classify(df)``, the library default) and the unpriced one
  (``classify(df, price=False)``) alternate in the same process, so both see the same
  machine state; each is reported as its best run (median in brackets), and the overhead
  is the ratio of the two bests. The end-to-end figures and the memory peak are those of
  the priced call, as users call it.

Results are also written as JSON to ``benchmarks/results/`` (gitignored).
"""

from __future__ import annotations

import argparse
import ctypes
import datetime as dt
import gc
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"
sys.path.insert(0, str(HERE))

TARGET_SPEEDUP = 5.0
TARGET_SECONDS = 2.5
TARGET_MEMORY_RATIO = 3.0
TARGET_SCAN_RATE = 30e6
TARGET_PRICING_OVERHEAD = 0.20


# ----------------------------------------------------------------------------- memory


def _status_kb(field: str) -> int | None:
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def _rss_bytes() -> int:
    kb = _status_kb("VmRSS")
    if kb is not None:
        return kb * 1024
    return _peak_bytes()  # no /proc: the best we have


def _peak_bytes() -> int:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak if sys.platform == "darwin" else peak * 1024  # Linux reports KiB


def _release_free_memory() -> None:
    gc.collect()
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass


def _reset_peak() -> bool:
    """Resets the peak RSS mark to the current RSS (Linux >= 4.0); False if impossible."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
    except OSError:
        return False
    return True


# ----------------------------------------------------------------------------- worker


def _worker(kind: str, size: int, seed: int, repeat: int, threads: int, time_unit: str, price: str,
            result_file: str) -> None:
    from synthetic_log import make_log

    warnings.simplefilter("ignore")  # warm-up warnings; the measured runs record theirs

    if kind == "waconv":
        import waconv

        options = {"threads": threads}
        if price in ("on", "off"):
            options["price"] = price == "on"

        def run(frame, **more):
            result = waconv.classify(frame, **options, **more)
            return result, dict(result.timings)

        run(make_log(5_000, seed=12345, time_unit=time_unit))  # load the extension, warm pandas paths
    elif kind == "numba":
        import numba_baseline

        def run(frame):
            return numba_baseline.classify_numba(frame)

        numba_baseline.warm_up()
        run(make_log(5_000, seed=12345, time_unit=time_unit))
    else:
        raise SystemExit(f"unknown measurement {kind!r}")

    frame = make_log(size, seed=seed, time_unit=time_unit)
    input_bytes = int(frame.memory_usage(deep=True).sum())
    peak_while_generating = _peak_bytes()
    _release_free_memory()
    baseline = _rss_bytes()
    reset = _reset_peak()

    runs = []
    unpriced_runs = []
    messages: set[str] = set()
    load_before = os.getloadavg()
    cpu_before = _cpu_times()

    def timed(into: list, **more) -> None:
        with warnings.catch_warnings(record=True) as caught:  # e.g. pricing gaps: kept in the JSON
            warnings.simplefilter("always")
            started = time.perf_counter()
            result, timings = run(frame, **more)
            seconds = time.perf_counter() - started
        messages.update(f"{w.category.__name__}: {w.message}" for w in caught)
        into.append({"seconds": seconds, "timings": timings})
        del result
        _release_free_memory()

    for _ in range(repeat):
        timed(runs)
        if kind == "waconv" and price == "both":
            timed(unpriced_runs, price=False)
    load_after = os.getloadavg()
    steal = _steal_share(cpu_before, _cpu_times())
    peak = _peak_bytes()
    out = {
        "kind": kind,
        "rows": size,
        "seed": seed,
        "repeat": repeat,
        "threads": threads,
        "price": price,
        "input_bytes": input_bytes,
        "rss_baseline_bytes": baseline,
        "peak_rss_bytes": peak,
        "peak_increase_bytes": max(0, peak - baseline),
        "peak_increase_ratio": max(0, peak - baseline) / input_bytes,
        "peak_reset": reset,
        "peak_rss_while_generating_bytes": peak_while_generating,
        **_summarise(runs),
        "unpriced": _summarise(unpriced_runs) if unpriced_runs else None,
        "load_average_before": load_before,
        "load_average_after": load_after,
        "cpu_steal_share": steal,
        "dtypes": {k: str(v) for k, v in frame.dtypes.items()},
        "warnings": sorted(messages),
    }
    Path(result_file).write_text(json.dumps(out))


def _cpu_times() -> list[int] | None:
    """The machine's cumulative CPU times (Linux /proc/stat: user nice system idle iowait irq
    softirq steal ...), or None elsewhere."""
    try:
        with open("/proc/stat") as stat:
            return [int(v) for v in stat.readline().split()[1:]]
    except (OSError, ValueError):
        return None


def _steal_share(before: list[int] | None, after: list[int] | None) -> float | None:
    """Share of CPU time a hypervisor gave to other guests between two _cpu_times() readings:
    on a shared VM it explains runs of one build that differ by tens of percent."""
    if before is None or after is None or len(before) < 8 or len(after) < 8:
        return None
    total = sum(after[:8]) - sum(before[:8])
    return (after[7] - before[7]) / total if total > 0 else None


def _steal_note(waconv_run: dict, baseline_run: dict) -> str:
    shares = [run.get("cpu_steal_share") for run in (waconv_run, baseline_run)]
    if any(share is None for share in shares):
        return ""
    return f"; CPU stolen by the hypervisor {shares[0]:.0%} / {shares[1]:.0%}"


def _summarise(runs: list[dict]) -> dict:
    best = min(runs, key=lambda r: r["seconds"])
    return {
        "seconds_best": best["seconds"],
        "seconds_median": statistics.median(r["seconds"] for r in runs),
        "seconds_all": [r["seconds"] for r in runs],
        "timings_best": best["timings"],
    }


def _measure(kind: str, size: int, args: argparse.Namespace) -> dict:
    with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as handle:
        result_file = handle.name
    command = [
        sys.executable, str(Path(__file__).resolve()), "--worker", kind, "--size", str(size), "--seed", str(args.seed),
        "--repeat", str(args.repeat), "--threads", str(args.threads), "--time-unit", args.time_unit,
        "--price", args.price, "--result-file", result_file,
    ]
    try:
        subprocess.run(command, check=True)
        return json.loads(Path(result_file).read_text())
    finally:
        Path(result_file).unlink(missing_ok=True)


# ----------------------------------------------------------------------------- checks


def _parameters(fn) -> set[str]:
    import inspect

    return set(inspect.signature(fn).parameters)


def _check_agreement(size: int, seed: int, time_unit: str) -> dict:
    """waconv vs the baseline on one log (not timed): a sanity check of the baseline."""
    import numba_baseline
    import waconv
    from synthetic_log import make_log

    frame = make_log(size, seed=seed, time_unit=time_unit)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        options = {"price": False} if "price" in _parameters(waconv.classify) else {}
        if "service_free_allowance" in _parameters(waconv.classify):
            options["service_free_allowance"] = 0  # the baseline has no service allowance
        ours = waconv.classify(frame, **options)
    theirs, _ = numba_baseline.classify_numba(frame)
    agreement = numba_baseline.compare_with_waconv(frame, theirs, ours.messages)
    agreement["rows"] = size
    return agreement


# ----------------------------------------------------------------------------- report


def _fmt_rate(rows: float, seconds: float) -> str:
    return f"{rows / seconds / 1e6:8.2f} M/s" if seconds > 0 else "       - M/s"


def _fmt_bytes(n: float) -> str:
    return f"{n / 2**30:.2f} GiB" if n >= 2**30 else f"{n / 2**20:.0f} MiB"


def _status(ok: bool | None) -> str:
    return "" if ok is None else ("PASS" if ok else "MISS")


def _machine() -> dict:
    import numba
    import numpy
    import pandas

    import waconv

    cpu = platform.processor() or ""
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next((line.split(":", 1)[1].strip() for line in f if line.startswith("model name")), cpu)
    except OSError:
        pass
    try:
        commit = subprocess.run(["git", "-C", str(HERE.parent), "rev-parse", "--short", "HEAD"],
                                capture_output=True, text=True, check=False).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(HERE.parent), "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True, check=False).stdout.strip()
    except OSError:
        commit, dirty = "", ""
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") if hasattr(os, "sysconf") else 0
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_bytes": memory,
        "python": platform.python_version(),
        "numpy": numpy.__version__,
        "pandas": pandas.__version__,
        "numba": numba.__version__,
        "waconv": waconv.__version__,
        "git": commit + ("+dirty" if dirty else ""),
        "platform": platform.platform(),
    }


def _report(size: int, w: dict, b: dict, target_rows: int) -> tuple[list[str], dict]:
    at_target = size == target_rows
    t = w["timings_best"]
    bt = b["timings_best"]
    scan_rate = size / t["scan"] if t["scan"] > 0 else float("inf")
    speedup = b["seconds_best"] / w["seconds_best"]
    verdicts = {
        "speedup_vs_numba": (speedup >= TARGET_SPEEDUP) if at_target else None,
        "seconds": (w["seconds_best"] < TARGET_SECONDS) if at_target else None,
        "memory": w["peak_increase_ratio"] < TARGET_MEMORY_RATIO,
        "scan_rate": scan_rate > TARGET_SCAN_RATE,
    }
    unpriced = w.get("unpriced")
    overhead = unpriced and w["seconds_best"] / unpriced["seconds_best"] - 1
    if unpriced:
        verdicts["pricing_overhead"] = overhead <= TARGET_PRICING_OVERHEAD
    tr = f"{target_rows / 1e6:g}M"
    lines = [
        f"rows {size:,}  (input DataFrame {_fmt_bytes(w['input_bytes'])} by memory_usage(deep=True); "
        f"best of {w['repeat']}, median in brackets)",
        f"  {'measurement':<36}{'seconds':>16}{'rows/s':>14}   {'target':<24}{'status'}",
        f"  {'waconv.classify end to end':<36}{w['seconds_best']:>7.3f} [{w['seconds_median']:6.3f}]"
        f"{_fmt_rate(size, w['seconds_best']):>14}   {f'< {TARGET_SECONDS:g} s at {tr} rows':<24}"
        f"{_status(verdicts['seconds'])}",
        f"  {'  prepare (Python: input -> codes)':<36}{t['prepare']:>7.3f}{'':9}{_fmt_rate(size, t['prepare']):>14}",
        f"  {'  core (C++ classification)':<36}{t['core']:>7.3f}{'':9}{_fmt_rate(size, t['core']):>14}",
        f"  {'    scan (C++ sort + pair scan)':<36}{t['scan']:>7.3f}{'':9}{_fmt_rate(size, t['scan']):>14}   "
        f"{f'> {TARGET_SCAN_RATE / 1e6:g} M rows/s':<24}{_status(verdicts['scan_rate'])}",
        *(
            f"  {'      ' + label:<36}{t[key]:>7.3f}{'':9}{_fmt_rate(size, t[key]):>14}"
            + (f"   {f'> {TARGET_SCAN_RATE / 1e6:g} M rows/s':<24}"
               f"{_status(t[key] > 0 and size / t[key] > TARGET_SCAN_RATE)}" if key == "scan_pairs" else "")
            for key, label in (("scan_group", "group rows by user"), ("scan_pairs", "sort pairs + pair scan"),
                               ("scan_join", "join thread results"), ("scan_scatter", "verdicts to row order"))
            if key in t
        ),
        f"  {'  assemble (tables + pricing)':<36}{t['assemble']:>7.3f}{'':9}"
        f"{_fmt_rate(size, t['assemble']):>14}",
        *([f"  {'    price (C++, on other threads)':<36}{t['price']:>7.3f}{'':9}{_fmt_rate(size, t['price']):>14}"]
          if t.get("price") else []),
        *([
            f"  {'classify(price=False), interleaved':<36}{unpriced['seconds_best']:>7.3f} "
            f"[{unpriced['seconds_median']:6.3f}]{_fmt_rate(size, unpriced['seconds_best']):>14}",
            f"  {'pricing overhead (priced / unpriced)':<36}{overhead:>+7.1%}{'':23}   "
            f"{f'<= {TARGET_PRICING_OVERHEAD:.0%}':<24}{_status(verdicts['pricing_overhead'])}",
        ] if unpriced else []),
        f"  {'numba baseline end to end':<36}{b['seconds_best']:>7.3f} [{b['seconds_median']:6.3f}]"
        f"{_fmt_rate(size, b['seconds_best']):>14}",
        "  " + "  ".join(f"{k} {bt[k]:.3f}" for k in ("prepare", "sort", "scan", "assemble")).join(("  (", ")")),
        f"  {'classify vs numba (end to end)':<36}{speedup:>7.2f}x faster{'':15}   "
        f"{f'>= {TARGET_SPEEDUP:g}x at {tr} rows':<24}{_status(verdicts['speedup_vs_numba'])}",
        f"  {'peak RSS, classify':<36}{_fmt_bytes(w['peak_rss_bytes']):>16}  increase "
        f"{_fmt_bytes(w['peak_increase_bytes'])} = {w['peak_increase_ratio']:.2f}x input   "
        f"{f'< {TARGET_MEMORY_RATIO:g}x input':<12}{_status(verdicts['memory'])}",
        f"  {'peak RSS, numba baseline':<36}{_fmt_bytes(b['peak_rss_bytes']):>16}  increase "
        f"{_fmt_bytes(b['peak_increase_bytes'])} = {b['peak_increase_ratio']:.2f}x input",
        f"  (RSS after the log was built: classify process {_fmt_bytes(w['rss_baseline_bytes'])}, "
        f"numba process {_fmt_bytes(b['rss_baseline_bytes'])}; load average "
        f"{w['load_average_before'][0]:.2f}->{w['load_average_after'][0]:.2f} / "
        f"{b['load_average_before'][0]:.2f}->{b['load_average_after'][0]:.2f}{_steal_note(w, b)})",
    ]
    if not (w["peak_reset"] and b["peak_reset"]):
        lines.append("  note: peak RSS could not be reset after building the log; peaks include the generator's")
    summary = {
        "rows": size,
        "classify_seconds": w["seconds_best"],
        "classify_rows_per_second": size / w["seconds_best"],
        "scan_rows_per_second": scan_rate,
        "numba_seconds": b["seconds_best"],
        "numba_rows_per_second": size / b["seconds_best"],
        "speedup_vs_numba": speedup,
        "unpriced_seconds": unpriced["seconds_best"] if unpriced else None,
        "pricing_overhead": overhead,
        "peak_increase_ratio": w["peak_increase_ratio"],
        "verdicts": {k: _status(v) or "n/a" for k, v in verdicts.items()},
    }
    return lines, summary


def main() -> None:
    parser = argparse.ArgumentParser(description="Benchmark waconv.classify against a pandas + numba baseline.")
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000_000, 10_000_000])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--repeat", type=int, default=5,
                        help="runs per measurement (best and median reported: shared machines vary by tens of %% "
                             "between runs)")
    parser.add_argument("--threads", type=int, default=0, help="waconv scan threads (0 = one per core)")
    parser.add_argument("--time-unit", default="us", choices=["s", "ms", "us", "ns"],
                        help="resolution of the log's datetime columns (pandas 3 default for parsed times: us)")
    parser.add_argument("--price", default="both", choices=["both", "default", "on", "off"],
                        help="waconv.classify(price=...): 'default' passes nothing (the library default); "
                             "'off' measures classification only (phase 1), like the baseline; 'both' "
                             "(default) measures the library default and alternates price=False runs with it, "
                             "to report the pricing overhead")
    parser.add_argument("--target-rows", type=int, default=10_000_000, help="size the 10M-row targets apply to")
    parser.add_argument("--check", action="store_true",
                        help="also compare baseline and waconv verdicts on the smallest size (not timed)")
    parser.add_argument("--results", type=Path, default=RESULTS, help="directory for the JSON results")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--size", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--result-file", help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.worker:
        _worker(args.worker, args.size, args.seed, args.repeat, args.threads, args.time_unit, args.price,
                args.result_file)
        return

    machine = _machine()
    header = (f"waconv {machine['waconv']} ({machine['git'] or 'no git'}) | {machine['cpu']}, "
              f"{machine['cores']} cores, "
              f"{_fmt_bytes(machine['memory_bytes'])} | Python {machine['python']}, numpy {machine['numpy']}, "
              f"pandas {machine['pandas']}, numba {machine['numba']} | waconv threads="
              f"{args.threads or 'auto'}, price={args.price} | log seed {args.seed}, datetime64[{args.time_unit}, UTC]")
    print(header, flush=True)
    measurements = []
    lines_all = [header]
    for size in args.sizes:
        print(f"\nmeasuring {size:,} rows ...", flush=True)
        w = _measure("waconv", size, args)
        b = _measure("numba", size, args)
        lines, summary = _report(size, w, b, args.target_rows)
        print("\n" + "\n".join(lines), flush=True)
        lines_all += [""] + lines
        measurements.append({"summary": summary, "waconv": w, "numba": b})

    agreement = None
    if args.check:
        size = min(args.sizes)
        agreement = _check_agreement(size, args.seed, args.time_unit)
        line = (f"\nbaseline vs waconv agreement on {size:,} rows ({agreement['rows_compared']:,} rows outside "
                "referral pairs; free_tier counted as regular): " +
                ", ".join(f"{k} {v:.4%}" for k, v in agreement.items() if isinstance(v, float)))
        print(line)
        lines_all.append(line)

    args.results.mkdir(parents=True, exist_ok=True)
    stamp = dt.datetime.now(dt.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    path = args.results / f"bench_classify_{stamp}.json"
    path.write_text(json.dumps({
        "created": stamp,
        "command": sys.argv,
        "machine": machine,
        "targets": {"speedup_vs_numba": TARGET_SPEEDUP, "seconds_at_target_rows": TARGET_SECONDS,
                    "memory_increase_ratio": TARGET_MEMORY_RATIO, "scan_rows_per_second": TARGET_SCAN_RATE,
                    "target_rows": args.target_rows},
        "measurements": measurements,
        "agreement": agreement,
        "table": "\n".join(lines_all),
    }, indent=2))
    print(f"\nresults written to {path}")


if __name__ == "__main__":
    main()
