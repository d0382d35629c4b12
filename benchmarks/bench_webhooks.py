"""Benchmark waconv.read_webhooks on a JSON-lines dump of status webhooks.

    python benchmarks/bench_webhooks.py --statuses 1000000

Writes ``--statuses`` status webhooks (one Cloud API payload per line, as a webhook
receiver would log them) to a temporary file: messages with ``sent`` + ``delivered`` +
``read`` statuses carrying PMP ``pricing`` and per-message ``conversation`` objects, ~3 %
failed with an error code, ~1 % of webhooks delivered twice, arrival slightly out of order.
Then times ``read_webhooks(path)`` (fastest of ``--repeat`` runs) and reports statuses/s,
output rows/s, MB/s and peak RSS. ``orjson.loads`` alone over the same lines is timed too,
to show how much of the total is JSON parsing. ``--exact`` disables the columnar (Arrow)
path, to time the payload-by-payload orjson path used for other inputs. Peak RSS is reset before reading where Linux
allows it (``/proc/self/clear_refs``), else it is ``ru_maxrss`` since process start.
"""

from __future__ import annotations

import argparse
import gc
import os
import random
import resource
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--statuses", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--exact", action="store_true", help="payload by payload (orjson), no Arrow fast path")
    args = parser.parse_args()
    if args.exact:
        waconv.io.webhooks.read.read_columns = lambda path: None  # every file takes the fallback path
        waconv.io.webhooks.read.read_native = lambda path: None

    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "statuses.jsonl"
        started = time.perf_counter()
        messages = write_dump(path, args.statuses, args.seed)
        lines = sum(1 for _ in open(path, "rb"))
        size_mb = os.path.getsize(path) / 2**20
        print(f"dump: {args.statuses:,} statuses ({lines:,} lines with duplicates, {messages:,} messages), "
              f"{size_mb:,.0f} MB, written in {time.perf_counter() - started:.1f} s")

        started = time.perf_counter()
        with open(path, "rb") as handle:
            for line in handle:
                orjson.loads(line)
        parse = time.perf_counter() - started

        gc.collect()
        baseline = _rss_mb()
        reset = _reset_peak()
        best = float("inf")
        for _ in range(args.repeat):
            started = time.perf_counter()
            events = read_webhooks(path)
            best = min(best, time.perf_counter() - started)
            rows = len(events)
            del events
            gc.collect()
        peak = _peak_mb()

    print(f"orjson.loads alone: {parse:.2f} s ({lines / parse:,.0f} lines/s)")
    path_name = "payload by payload (orjson)" if args.exact else "columnar (Arrow JSON reader)"
    print(f"read_webhooks, {path_name}: {best:.2f} s  ->  {lines / best:,.0f} status webhooks/s, {rows / best:,.0f} output rows/s "
          f"({rows:,} rows), {size_mb / best:,.0f} MB/s")
    print(f"memory: RSS before {baseline:,.0f} MB, peak {peak:,.0f} MB (+{peak - baseline:,.0f} MB)"
          + ("" if reset else " [peak since process start: /proc/self/clear_refs unavailable]"))


if __name__ == "__main__":
    main()
