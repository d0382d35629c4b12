"""Benchmark reading webhook dumps: the C++ reader, read_webhooks, and read_webhooks + classify.

    python benchmarks/bench_webhooks.py --statuses 1000000 --repeat 3

Writes ``--statuses`` status webhooks (one Cloud API payload per line, as a webhook
receiver would log them) to a temporary JSON-lines file, and the same file gzipped:
messages with ``sent`` + ``delivered`` + ``read`` statuses carrying PMP ``pricing`` and
per-message ``conversation`` objects, ~3 % failed with an error code, ~1 % of webhooks
delivered twice, arrival slightly out of order. Then, in ``--repeat`` interleaved rounds in
this one process (timings on a shared machine drift; interleaving spreads the drift over
every measurement alike), times:

- ``cpp``: ``waconv._core.read_webhook_file`` alone, the C++ reader (simdjson on every core,
  zlib for the gzipped file) producing the per-status columns;
- ``read_webhooks``: the whole public call (C++ reader, then the per-message aggregation in
  Arrow / NumPy and the pandas frame);
- ``pipeline``: ``read_webhooks`` then ``waconv.classify`` (priced), from the file to results.

Each is reported as a range over the rounds (fastest - slowest): payloads/s (lines read),
MB/s of uncompressed JSON, the CPU seconds the process used (all threads: on a loaded
machine, the figure that does not depend on what else runs), and the peak RSS increase
during the call (the peak is reset before each call through ``/proc/self/clear_refs``
where Linux allows it; the mapped file counts in it). ``--exact``
also times the payload-by-payload orjson path that reads what the fast paths cannot;
``--steps`` prints the CPU seconds of each step of ``read_webhooks`` (mean over the rounds),
to see where the time after the C++ reader goes.
"""

from __future__ import annotations

import argparse
import gc
import gzip
import os
import random
import resource
import shutil
import tempfile
import time
from pathlib import Path

import orjson

import waconv.io.webhooks.read
from waconv.io.webhooks.read import read_webhooks

START = 1_751_500_000  # 2025-07-03, per-message pricing
CATEGORIES = (("marketing", "regular"), ("utility", "free_customer_service"), ("utility", "regular"),
              ("authentication", "regular"), ("service", "free_customer_service"))


def _rss_mb() -> float:
    with open("/proc/self/status") as handle:
        for line in handle:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def _reset_peak() -> bool:
    try:
        with open("/proc/self/clear_refs", "w") as handle:
            handle.write("5")
        return True
    except OSError:
        return False


def _peak_mb() -> float:
    with open("/proc/self/status") as handle:
        for line in handle:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def write_dump(path: Path, n_statuses: int, seed: int = 0) -> int:
    """Writes the dump; returns the number of distinct messages."""
    rng = random.Random(seed)
    metadata = {"display_phone_number": "15550783881", "phone_number_id": "106540352242922"}
    written = messages = 0
    pending: list[bytes] = []
    with open(path, "wb") as out:
        while written < n_statuses:
            messages += 1
            wamid = f"wamid.HBgM{messages:012d}FQIAERgSQjE{rng.getrandbits(40):010X}A="
            user = f"55119{rng.randrange(10**8):08d}"
            sent = START + messages // 3
            category, pricing_type = CATEGORIES[messages % len(CATEGORIES)]
            pricing = {"billable": pricing_type == "regular", "pricing_model": "PMP", "type": pricing_type, "category": category}
            conversation = {"id": f"{rng.getrandbits(128):032x}", "origin": {"type": category}}
            if rng.random() < 0.03:
                chain = [("failed", sent + 1, {"errors": [{"code": 131026, "title": "Message undeliverable"}]})]
            else:
                chain = [("sent", sent, {"conversation": {**conversation, "expiration_timestamp": str(sent + 86400)},
                                         "pricing": pricing}),
                         ("delivered", sent + 2, {"conversation": conversation, "pricing": pricing}),
                         ("read", sent + 40, {})]
            for name, time_, extra in chain:
                item = {"id": wamid, "status": name, "timestamp": str(time_), "recipient_id": user, **extra}
                payload = {"object": "whatsapp_business_account", "entry": [{"id": "102290129340398", "changes": [
                    {"value": {"messaging_product": "whatsapp", "metadata": metadata, "statuses": [item]},
                     "field": "messages"}]}]}
                line = orjson.dumps(payload) + b"\n"
                pending.append(line)
                if rng.random() < 0.01:
                    pending.append(line)  # delivered twice
                written += 1
            if len(pending) > 64:  # webhooks arrive a little out of order
                rng.shuffle(pending)
                out.writelines(pending[:32])
                del pending[:32]
        out.writelines(pending)
    return messages


def _measure(label: str, call, size_mb: float, lines: int) -> dict:
    gc.collect()
    baseline = _rss_mb()
    reset = _reset_peak()
    cpu = time.process_time()
    started = time.perf_counter()
    result = call()
    seconds = time.perf_counter() - started
    cpu = time.process_time() - cpu
    peak = _peak_mb()
    del result
    return {"label": label, "seconds": seconds, "payloads_per_s": lines / seconds, "mb_per_s": size_mb / seconds,
            "peak_mb": peak - baseline, "reset": reset, "cpu": cpu}


def _report(label: str, runs: list[dict]) -> None:
    low, high = min(runs, key=lambda r: r["seconds"]), max(runs, key=lambda r: r["seconds"])
    peaks, cpu = [r["peak_mb"] for r in runs], [r["cpu"] for r in runs]
    print(f"{label:<38} {low['seconds']:6.2f} - {high['seconds']:6.2f} s   "
          f"{high['payloads_per_s'] / 1e6:5.2f} - {low['payloads_per_s'] / 1e6:5.2f} M payloads/s   "
          f"{high['mb_per_s']:5.0f} - {low['mb_per_s']:5.0f} MB/s   CPU {min(cpu):5.2f} - {max(cpu):5.2f} s   "
          f"peak +{min(peaks):,.0f} - {max(peaks):,.0f} MB"
          + ("" if all(r["reset"] for r in runs) else "  [peak since process start]"))


# The steps of read_webhooks (functions of waconv.io.webhooks.read) that --steps times.
STEPS = ("read_native", "_stack", "_identities", "_phones_of_bsuids", "aggregate_statuses", "aggregate_messages",
         "resolve_users", "infer_template_categories", "events_frame", "_display_phones")


def step_times(path: Path, rounds: int) -> dict[str, float]:
    """CPU seconds per call of each of STEPS (all threads), and of the whole call."""
    module = waconv.io.webhooks.read
    totals = dict.fromkeys((*STEPS, "read_webhooks"), 0.0)
    saved = {name: getattr(module, name) for name in STEPS}

    def timed(name: str, step):
        def call(*args, **kwargs):
            started = time.process_time()
            try:
                return step(*args, **kwargs)
            finally:
                totals[name] += time.process_time() - started
        return call

    try:
        for name, step in saved.items():
            setattr(module, name, timed(name, step))
        for _ in range(rounds):
            started = time.process_time()
            read_webhooks(path)
            totals["read_webhooks"] += time.process_time() - started
    finally:
        for name, step in saved.items():
            setattr(module, name, step)
    return {name: seconds / rounds for name, seconds in totals.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--statuses", type=int, default=1_000_000, help="status webhooks (payloads, lines) to write")
    parser.add_argument("--repeat", type=int, default=3, help="interleaved rounds")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=0, help="threads of the C++ reader (0: one per core)")
    parser.add_argument("--exact", action="store_true", help="also time the payload-by-payload orjson path")
    parser.add_argument("--steps", action="store_true", help="CPU seconds of each step of read_webhooks")
    args = parser.parse_args()

    import waconv
    from waconv import _core

    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "statuses.jsonl"
        started = time.perf_counter()
        messages = write_dump(path, args.statuses, args.seed)
        packed = path.with_name("statuses.jsonl.gz")
        with open(path, "rb") as source, gzip.open(packed, "wb", compresslevel=6) as target:
            shutil.copyfileobj(source, target, 1 << 24)
        lines = sum(1 for _ in open(path, "rb"))
        size_mb = os.path.getsize(path) / 2**20
        print(f"dump: {args.statuses:,} statuses ({lines:,} payloads, one per line, with duplicates; {messages:,} "
              f"messages), {size_mb:,.0f} MB of JSON lines, {os.path.getsize(packed) / 2**20:,.0f} MB gzipped; "
              f"written in {time.perf_counter() - started:.1f} s")
        print(f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f} before the runs")

        def cpp(file: Path):
            return lambda: _core.read_webhook_file(str(file), json_lines=True, gzipped=file.suffix == ".gz",
                                                   threads=args.threads)

        def pipeline(file: Path):
            return lambda: waconv.classify(read_webhooks(file))

        steps = [("cpp reader, JSON lines", cpp(path)), ("cpp reader, gzip", cpp(packed)),
                 ("read_webhooks, JSON lines", lambda: read_webhooks(path)),
                 ("read_webhooks, gzip", lambda: read_webhooks(packed)),
                 ("read_webhooks + classify, JSON lines", pipeline(path))]
        read_webhooks(path)  # warm up: imports, the page cache
        runs: dict[str, list[dict]] = {label: [] for label, _ in steps}
        for _ in range(args.repeat):
            for label, call in steps:
                runs[label].append(_measure(label, call, size_mb, lines))
        if args.exact:
            saved = waconv.io.webhooks.read.read_columns, waconv.io.webhooks.read.read_native
            waconv.io.webhooks.read.read_columns = waconv.io.webhooks.read.read_native = lambda path: None
            runs["read_webhooks, exact path"] = [_measure("exact", lambda: read_webhooks(path), size_mb, lines)]
            waconv.io.webhooks.read.read_columns, waconv.io.webhooks.read.read_native = saved
        started = time.perf_counter()
        with open(path, "rb") as handle:
            for line in handle:
                orjson.loads(line)
        parse = time.perf_counter() - started
        print(f"load average {os.getloadavg()[0]:.1f} after the runs; {args.repeat} rounds; ranges are fastest - slowest")
        for label, measured in runs.items():
            _report(label, measured)
        print(f"{'orjson.loads alone, one thread':<38} {parse:6.2f} s   {lines / parse / 1e6:5.2f} M payloads/s   "
              f"{size_mb / parse:5.0f} MB/s")
        if args.steps:
            print(f"steps of read_webhooks, JSON lines, CPU seconds per call (mean of {args.repeat}):")
            for name, seconds in step_times(path, args.repeat).items():
                print(f"  {name:<36} {seconds:6.3f}")


if __name__ == "__main__":
    main()
