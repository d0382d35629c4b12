"""Benchmark waconv.classify on the data users have, against two peers, with the issue's targets.

    python benchmarks/bench_classify.py --sizes 1000000 10000000

The log (``synthetic_log.make_log``) carries ``message_id`` (unique per message, about 1 %
of the messages logged twice, as at-least-once webhooks leave them) and string phone
numbers. One fresh Python process per size:

1. imports everything and warms every contender up on a 5,000-row log of its input kind
   (numba compiles its loop for each peer's array types) — not timed;
2. builds the log and from it the four input kinds waconv is measured on: pandas object
   strings (one Python ``str`` per cell, as ``read_csv`` makes them), pandas
   ``string[pyarrow]``, a pyarrow Table and a polars DataFrame — not timed;
3. runs ``--repeat`` rounds; each round runs every contender once, in turn, so all of them
   see the same machine state (a shared machine's speed drifts by tens of percent):

   - ``waconv.classify(frame)`` on each input kind (priced, as users call it), on the
     polars frame with ``output="polars"`` too (polars tables out, as the polars peer
     returns) and on the Arrow table with ``output="arrow"`` (Arrow in, Arrow out);
   - the pandas + numba peer (``numba_baseline``: factorizes each id column once, drops
     repeated message ids, one numba scan) on the ``string[pyarrow]`` frame;
   - the polars + numba peer (``polars_baseline``: encoding, ``is_first_distinct`` on
     message id + direction and the sort in polars, then the same numba scan) on the
     polars frame;
   - the duplicate check alone (``waconv.engine.duplicates.duplicate_rows``) on the
     ``string[pyarrow]`` and the object ids;

   before each run the peak resident set size (VmHWM) is reset to the current RSS
   (``/proc/self/clear_refs`` = 5, Linux) so that each run's own peak is measured: the
   increase over the RSS before the run, divided by the size of that run's input
   (``memory_usage(deep=True)`` for pandas, ``nbytes`` for Arrow, ``estimated_size()``
   for polars).

Reported: per contender the range of its times over the rounds (fastest-slowest, median in
brackets), the prepare / core / assemble split of its fastest run (waconv:
``result.timings``; ``prepare`` is every column to the core's codes, duplicates included),
the share of preparation in the total, the CPU seconds of the fastest run in user and
kernel (system) mode, the peak memory increase, and the speed-ups against each peer (fastest
against fastest, and median against median).

Memory touched for the first time can be slow on a VM: where the hypervisor takes back the
pages a guest frees (free page reporting), a page first written after a few seconds is
backed by the host again, in the kernel, at a fraction of the speed of memory reused at
once. The worker measures both rates at its start and prints them; ``--warm-memory GIB``
writes and frees that many GiB just before each timed run, so that the run's allocations
reuse pages the guest still holds: the figure a machine without that reporting gives. The targets of the issue
are printed with PASS/MISS at ``--target-rows``. Results are also written as JSON to
``benchmarks/results/`` (gitignored).
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

KINDS = ("object", "string[pyarrow]", "arrow", "polars")
POLARS_OUT = "waconv.classify (polars, output=polars)"
ARROW_OUT = "waconv.classify (arrow, output=arrow)"
PANDAS_KINDS = ("object", "string[pyarrow]")
TARGET_SPEEDUP_PANDAS = 5.0  # vs the pandas + numba peer, on the pandas frame
TARGET_SPEEDUP_POLARS = 3.0  # vs the polars + numba peer, on the polars frame
TARGET_SECONDS = {"object": 2.0, "string[pyarrow]": 2.0, "arrow": 1.2, "polars": 1.2}
TARGET_MEMORY_RATIO = 2.0  # peak increase / input
TARGET_PREPARE_SHARE = 0.5  # prepare / total


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
    return (_status_kb("VmRSS") or 0) * 1024


def _peak_bytes() -> int:
    return (_status_kb("VmHWM") or 0) * 1024


def _release_free_memory() -> None:
    gc.collect()
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass


def _cpu_seconds() -> tuple[float, float]:
    """This process's user and system CPU seconds so far, every thread included."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime, usage.ru_stime


def _touch(gib: float) -> float:
    """Writes then frees `gib` GiB; the rate, GiB/s."""
    import numpy as np

    started = time.perf_counter()
    block = np.empty(int(gib * 2**27), np.int64)
    block.fill(1)
    seconds = time.perf_counter() - started
    del block
    return gib / seconds


def _first_touch_rates() -> dict[str, float]:
    """GiB/s writing memory this process never had (pages the host may have taken back),
    then the same amount again at once (pages the guest still holds)."""
    return {"cold": _touch(1.0), "reused": _touch(1.0)}


def _reset_peak() -> bool:
    """Resets the peak RSS mark (VmHWM) to the current RSS (Linux >= 4.0); False if impossible."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
    except OSError:
        return False
    return True


# ----------------------------------------------------------------------------- inputs


def _input_kind(base, kind: str):
    """The log in one input kind; text columns of the pandas kinds in their own dtype."""
    import pandas as pd
    import pyarrow as pa

    text = [name for name in base.columns if pd.api.types.is_string_dtype(base[name].dtype)]
    if kind == "object":  # one str object per cell, as read_csv gives them
        return base.astype({name: object for name in text})
    if kind == "string[pyarrow]":
        return base.astype({name: pd.StringDtype("pyarrow") for name in text})
    table = pa.Table.from_pandas(base, preserve_index=False)
    if kind == "arrow":
        return table
    import polars as pl

    return pl.from_arrow(table)


def _input_bytes(frame) -> int:
    if hasattr(frame, "memory_usage"):
        return int(frame.memory_usage(deep=True).sum())
    if hasattr(frame, "estimated_size"):
        return int(frame.estimated_size())
    return int(frame.nbytes)


# ----------------------------------------------------------------------------- worker


def _contenders(inputs: dict) -> list[tuple[str, str, object]]:
    """(name, input kind, call taking the input and returning (result, timings))."""
    import numpy as np

    import numba_baseline
    import polars_baseline
    import waconv
    from waconv.engine.duplicates import duplicate_rows

    def classify(frame):
        result = waconv.classify(frame)
        return result, dict(result.timings)

    def classify_to_polars(frame):
        result = waconv.classify(frame, output="polars")
        return result, dict(result.timings)

    def classify_to_arrow(frame):
        result = waconv.classify(frame, output="arrow")
        return result, dict(result.timings)

    def duplicates(frame):
        direction = (frame["direction"] == "outbound").to_numpy(dtype=np.int8)  # not timed: classify has it
        started = time.perf_counter()
        found = duplicate_rows(frame["message_id"], direction)
        return found, {"total": time.perf_counter() - started}

    out: list[tuple[str, str, object]] = [(f"waconv.classify ({kind})", kind, classify) for kind in KINDS]
    out += [
        (POLARS_OUT, "polars", classify_to_polars),
        (ARROW_OUT, "arrow", classify_to_arrow),
        ("pandas + numba peer", "string[pyarrow]", numba_baseline.classify_numba),
        ("polars + numba peer", "polars", polars_baseline.classify_polars),
        ("duplicate check alone (string[pyarrow])", "string[pyarrow]", duplicates),
        ("duplicate check alone (object)", "object", duplicates),
    ]
    return [c for c in out if c[1] in inputs]


def _worker(size: int, args: argparse.Namespace, result_file: str) -> None:
    from synthetic_log import make_log

    warnings.simplefilter("ignore")  # warm-up warnings; the measured runs record theirs
    first_touch = _first_touch_rates()
    small = make_log(5_000, seed=12345, time_unit=args.time_unit)
    warm = {kind: _input_kind(small, kind) for kind in KINDS}
    contenders = _contenders(warm)
    for _, kind, call in contenders:
        call(warm[kind])
    del small, warm

    base = make_log(size, seed=args.seed, time_unit=args.time_unit, repeat_rate=args.repeat_rate)
    inputs = {kind: _input_kind(base, kind) for kind in KINDS}
    dtypes = {name: str(dtype) for name, dtype in base.dtypes.items()}
    duplicates = int(base.duplicated(["message_id", "direction"]).sum())
    del base
    input_bytes = {kind: _input_bytes(frame) for kind, frame in inputs.items()}
    _release_free_memory()

    runs: dict[str, list[dict]] = {name: [] for name, _, _ in contenders}
    messages: set[str] = set()
    reset = True
    load_before = os.getloadavg()
    cpu_before = _cpu_times()
    for _ in range(args.repeat):
        for name, kind, call in contenders:
            _release_free_memory()
            before = _rss_bytes()
            if args.warm_memory:
                _touch(args.warm_memory)
            reset = _reset_peak() and reset
            with warnings.catch_warnings(record=True) as caught:  # e.g. pricing gaps: kept in the JSON
                warnings.simplefilter("always")
                cpu = _cpu_seconds()
                started = time.perf_counter()
                result, timings = call(inputs[kind])
                seconds = time.perf_counter() - started
                user, system = (after - before for after, before in zip(_cpu_seconds(), cpu))
            peak = _peak_bytes()
            messages.update(f"{w.category.__name__}: {w.message}" for w in caught)
            del result
            runs[name].append({"seconds": seconds, "timings": timings, "peak_increase_bytes": max(0, peak - before),
                               "user_seconds": user, "system_seconds": system})
    out = {
        "rows": size,
        "seed": args.seed,
        "repeat": args.repeat,
        "duplicates": duplicates,
        "input_bytes": input_bytes,
        "peak_reset": reset,
        "first_touch_gib_per_second": first_touch,
        "warm_memory_gib": args.warm_memory,
        "contenders": {name: {"kind": kind, **_summarise(runs[name], input_bytes[kind])} for name, kind, _ in contenders},
        "load_average_before": load_before,
        "load_average_after": os.getloadavg(),
        "cpu_steal_share": _steal_share(cpu_before, _cpu_times()),
        "dtypes": dtypes,
        "warnings": sorted(messages),
    }
    Path(result_file).write_text(json.dumps(out))


def _cpu_times() -> list[int] | None:
    """The machine's cumulative CPU times (Linux /proc/stat), or None elsewhere."""
    try:
        with open("/proc/stat") as stat:
            return [int(v) for v in stat.readline().split()[1:]]
    except (OSError, ValueError):
        return None


def _steal_share(before: list[int] | None, after: list[int] | None) -> float | None:
    """Share of CPU time a hypervisor gave to other guests between two _cpu_times() readings."""
    if before is None or after is None or len(before) < 8 or len(after) < 8:
        return None
    total = sum(after[:8]) - sum(before[:8])
    return (after[7] - before[7]) / total if total > 0 else None


def _summarise(runs: list[dict], input_bytes: int) -> dict:
    seconds = [r["seconds"] for r in runs]
    best = min(runs, key=lambda r: r["seconds"])
    peak = max(r["peak_increase_bytes"] for r in runs)
    return {
        "seconds_best": best["seconds"],
        "seconds_worst": max(seconds),
        "seconds_median": statistics.median(seconds),
        "seconds_all": seconds,
        "timings_best": best["timings"],
        "cpu_best": {"user": best["user_seconds"], "system": best["system_seconds"]},
        "peak_increase_bytes": peak,
        "peak_increase_ratio": peak / input_bytes,
    }


def _measure(size: int, args: argparse.Namespace) -> dict:
    with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as handle:
        result_file = handle.name
    command = [
        sys.executable, str(Path(__file__).resolve()), "--worker", "--size", str(size), "--seed", str(args.seed),
        "--repeat", str(args.repeat), "--time-unit", args.time_unit, "--repeat-rate", str(args.repeat_rate),
        "--result-file", result_file, "--warm-memory", str(args.warm_memory),
    ]
    try:
        subprocess.run(command, check=True)
        return json.loads(Path(result_file).read_text())
    finally:
        Path(result_file).unlink(missing_ok=True)


# ----------------------------------------------------------------------------- checks


def _check_agreement(size: int, seed: int, time_unit: str) -> dict:
    """waconv vs the pandas + numba peer on one log (not timed), repeated rows left out."""
    import numba_baseline
    import waconv
    from synthetic_log import make_log

    frame = make_log(size, seed=seed, time_unit=time_unit)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ours = waconv.classify(frame, price=False, service_free_allowance=0)  # the peer has no allowance
    theirs, _ = numba_baseline.classify_numba(frame)
    kept = ~theirs["duplicate"].to_numpy(dtype=bool)
    agreement = numba_baseline.compare_with_waconv(frame[kept], theirs[kept], ours.messages[kept])
    agreement["rows"] = size
    return agreement


# ----------------------------------------------------------------------------- report


def _fmt_bytes(n: float) -> str:
    return f"{n / 2**30:.2f} GiB" if n >= 2**30 else f"{n / 2**20:.0f} MiB"


def _status(ok: bool | None) -> str:
    return "" if ok is None else ("PASS" if ok else "MISS")


def _machine() -> dict:
    import numba
    import numpy
    import pandas
    import polars
    import pyarrow

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
        "cpu": cpu, "cores": os.cpu_count(), "memory_bytes": memory, "python": platform.python_version(),
        "numpy": numpy.__version__, "pandas": pandas.__version__, "pyarrow": pyarrow.__version__,
        "polars": polars.__version__, "numba": numba.__version__, "waconv": waconv.__version__,
        "git": commit + ("+dirty" if dirty else ""), "platform": platform.platform(),
    }


def _report(m: dict, target_rows: int) -> tuple[list[str], dict]:
    size = m["rows"]
    at_target = size == target_rows
    c = m["contenders"]
    pandas_peer, polars_peer = c["pandas + numba peer"], c["polars + numba peer"]
    lines = [
        f"rows {size:,} ({m['duplicates']:,} repeated message ids); {m['repeat']} interleaved rounds: "
        "fastest-slowest [median] seconds; split of the fastest run; peak = RSS increase / that run's input",
        "  input: " + ", ".join(f"{kind} {_fmt_bytes(n)}" for kind, n in m["input_bytes"].items()),
        f"  {'contender':<42}{'seconds':>22}   {'prepare':>7} {'core':>6} {'assem.':>6} {'prep%':>5}"
        f"   {'user':>5} {'sys':>5}   {'peak':>6}",
    ]
    verdicts: dict[str, bool | None] = {}
    for name, r in c.items():
        t = r["timings_best"]
        split = ""
        if "core" in t:  # waconv
            split = f"{t['prepare']:>7.3f} {t['core']:>6.3f} {t['assemble']:>6.3f} {t['prepare'] / t['total']:>5.0%}"
        elif "scan" in t:  # a peer: its sort counts as core work, its prepare as preparation
            core = t["sort"] + t["scan"]
            split = f"{t['prepare']:>7.3f} {core:>6.3f} {t['assemble']:>6.3f} {t['prepare'] / t['total']:>5.0%}"
        times = f"{r['seconds_best']:.3f}-{r['seconds_worst']:.3f} [{r['seconds_median']:.3f}]"
        cpu = f"{r['cpu_best']['user']:>5.2f} {r['cpu_best']['system']:>5.2f}"
        lines.append(f"  {name:<42}{times:>22}   {split:<29}   {cpu}   {r['peak_increase_ratio']:>5.2f}x")
    lines.append("  targets:")

    def target(label: str, value: str, ok: bool | None, key: str) -> None:
        verdicts[key] = ok
        lines.append(f"    {label:<58}{value:>22}   {_status(ok)}")

    for kind in KINDS:
        r = c[f"waconv.classify ({kind})"]
        limit = TARGET_SECONDS[kind]
        target(f"classify ({kind}) < {limit:g} s at {target_rows / 1e6:g}M rows", f"{r['seconds_best']:.3f} s",
               r["seconds_best"] < limit if at_target else None, f"seconds_{kind}")
    for name, peer, goal, key in (("waconv.classify (string[pyarrow])", pandas_peer, TARGET_SPEEDUP_PANDAS,
                                   "speedup_vs_pandas_numba"),
                                  ("waconv.classify (polars)", polars_peer, TARGET_SPEEDUP_POLARS,
                                   "speedup_vs_polars_numba"),
                                  (POLARS_OUT, polars_peer, TARGET_SPEEDUP_POLARS,
                                   "speedup_vs_polars_numba_polars_out")):
        r = c[name]
        best = peer["seconds_best"] / r["seconds_best"]
        median = peer["seconds_median"] / r["seconds_median"]
        peer_name = "pandas + numba" if peer is pandas_peer else "polars + numba"
        target(f"{name.removeprefix('waconv.')} >= {goal:g}x the {peer_name} peer",
               f"{best:.2f}x [{median:.2f}x]", best >= goal if at_target else None, key)
    for kind in KINDS:
        r = c[f"waconv.classify ({kind})"]
        share = r["timings_best"]["prepare"] / r["timings_best"]["total"]
        target(f"classify ({kind}) prepare <= {TARGET_PREPARE_SHARE:.0%} of the total", f"{share:.0%}",
               share <= TARGET_PREPARE_SHARE if at_target else None, f"prepare_share_{kind}")
    for name, key in [(f"waconv.classify ({kind})", kind) for kind in KINDS] + [(POLARS_OUT, "polars_out"),
                                                                                   (ARROW_OUT, "arrow_out")]:
        r = c[name]
        target(f"{name.removeprefix('waconv.')} peak memory increase < {TARGET_MEMORY_RATIO:g}x the input",
               f"{r['peak_increase_ratio']:.2f}x", r["peak_increase_ratio"] < TARGET_MEMORY_RATIO, f"memory_{key}")
    steal = m.get("cpu_steal_share")
    lines.append(f"  load average {m['load_average_before'][0]:.2f} -> {m['load_average_after'][0]:.2f}"
                 + (f"; CPU stolen by the hypervisor {steal:.0%}" if steal is not None else ""))
    touch = m["first_touch_gib_per_second"]
    lines.append(f"  first write to memory: {touch['cold']:.1f} GiB/s to pages this process never had, "
                 f"{touch['reused']:.1f} GiB/s reused at once"
                 + (f"; {m['warm_memory_gib']:g} GiB written and freed before each run" if m["warm_memory_gib"] else ""))
    if not m["peak_reset"]:
        lines.append("  note: the peak RSS mark could not be reset: peaks are the process's since it started")
    summary = {"rows": size, "verdicts": {k: _status(v) or "n/a" for k, v in verdicts.items()},
               "seconds_best": {name: r["seconds_best"] for name, r in c.items()}}
    return lines, summary


def main() -> None:
    parser = argparse.ArgumentParser(description="Benchmark waconv.classify on logs with message ids, against "
                                                 "a pandas + numba and a polars + numba peer.")
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000_000, 10_000_000])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--repeat", type=int, default=3,
                        help="interleaved rounds (every contender once per round; ranges reported)")
    parser.add_argument("--time-unit", default="us", choices=["s", "ms", "us", "ns"],
                        help="resolution of the log's datetime columns (pandas 3 default for parsed times: us)")
    parser.add_argument("--repeat-rate", type=float, default=0.01,
                        help="share of messages logged twice (same message_id and direction)")
    parser.add_argument("--target-rows", type=int, default=10_000_000, help="size the 10M-row targets apply to")
    parser.add_argument("--check", action="store_true",
                        help="also compare the pandas + numba peer's verdicts with waconv's on the smallest size")
    parser.add_argument("--warm-memory", type=float, default=0.0, metavar="GIB",
                        help="write and free this many GiB just before each timed run (see the module's docstring)")
    parser.add_argument("--results", type=Path, default=RESULTS, help="directory for the JSON results")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--size", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--result-file", help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.worker:
        _worker(args.size, args, args.result_file)
        return

    machine = _machine()
    header = (f"waconv {machine['waconv']} ({machine['git'] or 'no git'}) | {machine['cpu']}, {machine['cores']} cores, "
              f"{_fmt_bytes(machine['memory_bytes'])} | Python {machine['python']}, numpy {machine['numpy']}, "
              f"pandas {machine['pandas']}, pyarrow {machine['pyarrow']}, polars {machine['polars']}, "
              f"numba {machine['numba']} | log seed {args.seed}, datetime64[{args.time_unit}, UTC]")
    print(header, flush=True)
    measurements = []
    lines_all = [header]
    for size in args.sizes:
        print(f"\nmeasuring {size:,} rows ...", flush=True)
        m = _measure(size, args)
        lines, summary = _report(m, args.target_rows)
        print("\n" + "\n".join(lines), flush=True)
        lines_all += [""] + lines
        measurements.append({"summary": summary, "measurement": m})

    agreement = None
    if args.check:
        size = min(args.sizes)
        agreement = _check_agreement(size, args.seed, args.time_unit)
        line = (f"\npeer vs waconv agreement on {size:,} rows ({agreement['rows_compared']:,} rows outside "
                "referral pairs and repeats; free_tier counted as regular): " +
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
        "targets": {"speedup_vs_pandas_numba": TARGET_SPEEDUP_PANDAS, "speedup_vs_polars_numba": TARGET_SPEEDUP_POLARS,
                    "seconds": TARGET_SECONDS, "memory_increase_ratio": TARGET_MEMORY_RATIO,
                    "prepare_share": TARGET_PREPARE_SHARE, "target_rows": args.target_rows},
        "measurements": measurements,
        "agreement": agreement,
        "table": "\n".join(lines_all),
    }, indent=2))
    print(f"\nresults written to {path}")


if __name__ == "__main__":
    main()
