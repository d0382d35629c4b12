"""The fuzz targets: what is called on each case, and what counts as an escape.

A case is Python source (see values.PRELUDE). Running it must end in a result that passes
the checks, or a waconv.InputError. An escape is anything else: another exception raised
out of waconv, a broken invariant (checks.Broken), a crash or a hang (seen by run.py from
outside the process). An exception whose innermost waconv-or-case frame is the case's own
code (a user's predicate that raises, a DataFrame the case could not build) is the user's,
not an escape.
"""

from __future__ import annotations

import datetime as dt
import math
import shutil
import tempfile
import traceback
import warnings
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import pandas as pd
from hypothesis import strategies as st

import waconv
from tests.fuzz import checks, csvs, frames, payloads
from tests.fuzz.checks import Broken
from tests.fuzz.values import PRELUDE

CASE_FILE = "<case>"
_BASE: dict[str, Any] = {}
# How calls ended, to see that the cases reach the code: "label: ok" / "label: InputError (reason)".
OUTCOMES: Counter = Counter()


def namespace() -> dict[str, Any]:
    if not _BASE:
        exec(compile(PRELUDE, CASE_FILE, "exec"), _BASE)
    return dict(_BASE)


def run_source(source: str, ns: dict[str, Any] | None = None) -> dict[str, Any]:
    """Builds a case; a case that cannot be built (its own code raised) raises UserRaised."""
    ns = namespace() if ns is None else ns
    try:
        exec(compile(source, CASE_FILE, "exec"), ns)
    except Exception as error:  # noqa: BLE001
        raise UserRaised(f"building the case: {type(error).__name__}: {str(error)[:200]}") from None
    return ns


@dataclass
class Finding:
    target: str
    kind: str  # "exception", "invariant", "crash", "hang"
    signature: str  # what findings are grouped by
    message: str
    detail: str = ""
    source: str = ""  # the reproducer
    count: int = 1
    extra: dict = field(default_factory=dict)

    def as_dict(self) -> dict:
        return dict(self.__dict__)


class UserRaised(Exception):
    """The case's own code raised (not an escape): the case is skipped."""


def _short(filename: str) -> str:
    text = filename.replace("\\", "/")
    for marker in ("/python/waconv/", "/site-packages/"):
        if marker in text:
            return text.split(marker, 1)[1] if marker != "/python/waconv/" else "waconv/" + text.split(marker, 1)[1]
    return text


def _is_waconv(filename: str) -> bool:
    return "/waconv/" in filename.replace("\\", "/") and "/tests/" not in filename.replace("\\", "/")


def classify_error(error: BaseException, target: str, call: str) -> Finding | None:
    """None for an InputError; raises UserRaised for the case's own exceptions; else a Finding."""
    if isinstance(error, waconv.InputError):
        return None
    frames_ = traceback.extract_tb(error.__traceback__)
    relevant = [f for f in frames_ if f.filename == CASE_FILE or _is_waconv(f.filename)]
    if not relevant or relevant[-1].filename == CASE_FILE:
        raise UserRaised(f"{type(error).__name__}: {error}")
    where = relevant[-1]
    deepest = frames_[-1]
    signature = f"{call}: {type(error).__name__} at {_short(where.filename)}:{where.lineno} ({where.name})"
    message = f"{type(error).__name__}: {str(error)[:500]}"
    detail = "".join(traceback.format_exception(type(error), error, error.__traceback__)[-12:])
    return Finding(target, "exception", signature, message, detail,
                   extra={"deepest": f"{_short(deepest.filename)}:{deepest.lineno}"})


def call(target: str, label: str, function: Callable[[], Any], findings: list[Finding],
         warned: list[str] | None = None) -> tuple[bool, Any]:
    """(True, value) on success, (False, InputError) on InputError, (False, None) on an escape."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            value = function()
        except Exception as error:  # noqa: BLE001 - the point is to see everything
            finding = classify_error(error, target, label)
            if finding is None:
                OUTCOMES[f"{label}: InputError ({_reason(error)})"] += 1
                return False, error
            findings.append(finding)
            return False, None
        finally:
            if warned is not None:
                warned.extend(str(w.message) for w in caught)
    OUTCOMES[f"{label}: ok"] += 1
    return True, value


def _reason(error: Exception) -> str:
    reason = getattr(error, "reason", str(error))
    return " ".join(str(reason).split()[:4])[:60]


def check(target: str, findings: list[Finding], function: Callable[[], None]) -> bool:
    try:
        function()
    except Broken as broken:
        findings.append(Finding(target, "invariant", f"{target}: {broken.name}", str(broken)[:800]))
        return False
    except Exception as error:  # noqa: BLE001 - a check tripping over the result is a finding too
        try:
            finding = classify_error(error, target, "check")
        except UserRaised:
            finding = None
        if finding is None:  # the harness's own code failed: report it, never hide it
            detail = "".join(traceback.format_exception(type(error), error, error.__traceback__)[-8:])
            finding = Finding(target, "harness", f"{target}: checker failed ({type(error).__name__})", str(error)[:500],
                              detail)
        else:
            finding.kind = "invariant"
            finding.signature = f"{target}: result unusable ({finding.signature})"
        findings.append(finding)
        return False
    return True


# ---------------------------------------------------------------------------------------------
# classify


def _direction_column(options: dict) -> Any:
    return (options.get("columns") or {}).get("direction", "direction") if isinstance(options.get("columns"), dict) \
        else "direction"


def classify_and_check(target: str, events: Any, options: dict, findings: list[Finding], *, label: str = "classify",
                       directions: list | None = None, source_table: Any = None) -> Any:
    table = events if source_table is None else source_table
    n = checks.row_count(table)
    if directions is None:
        directions = checks.column_values(table, _direction_column(options))
    warned: list[str] = []
    ok, result = call(target, label, lambda: waconv.classify(events, **options), findings, warned)
    if not ok:
        return None
    if not check(target, findings, lambda: checks.check_classify(result, table=table, n=n, directions=directions,
                                                                  options=options, warned=warned)):
        return None
    return result


def _can_build(source: str) -> bool:
    try:
        run_source(source)
    except UserRaised:
        return False
    return True


class Target:
    name = ""
    call_line = ""

    def strategy(self) -> st.SearchStrategy:
        raise NotImplementedError

    def render(self, case: Any) -> str:
        raise NotImplementedError

    def execute(self, source: str) -> list[Finding]:
        raise NotImplementedError

    def reproducer(self, source: str, finding: Finding | None = None) -> str:
        note = f"# {finding.kind}: {finding.message.splitlines()[0][:300]}\n" if finding else ""
        return note + PRELUDE + source + "\n" + self.call_line


class Classify(Target):
    name = "classify"
    call_line = "result = waconv.classify(events, **options)\n"

    def strategy(self):
        return frames.classify_cases()

    def render(self, case):
        return frames.render(case, _can_build)

    def execute(self, source):
        findings: list[Finding] = []
        ns = run_source(source)
        events, options = ns["events"], ns["options"]
        table = ns.get("_table", events.t if type(events).__name__ == "Producer" else events)
        if isinstance(events, pa_reader()):
            table = None
        result = classify_and_check(self.name, events, options, findings, source_table=table)
        # Threads must not change a verdict: the same input on one thread.
        if result is not None and "threads" not in options and checks.row_count(table) and not findings:
            ns2 = run_source(source)
            warned: list[str] = []
            ok, single = call(self.name, "classify(threads=1)",
                              lambda: waconv.classify(ns2["events"], **{**ns2["options"], "threads": 1}), findings, warned)
            if ok:
                def same():
                    a = result if isinstance(result, waconv.Result) else result.to_pandas()
                    b = single if isinstance(single, waconv.Result) else single.to_pandas()
                    cols = [c for c in checks.VERDICT_COLUMNS + ["cost"] if c in a.messages.columns]
                    try:
                        pd.testing.assert_frame_equal(a.messages[cols], b.messages[cols])
                        pd.testing.assert_frame_equal(a.conversations, b.conversations)
                        pd.testing.assert_frame_equal(a.windows, b.windows)
                    except AssertionError as error:
                        raise Broken("threads_change_result", str(error)[:300]) from None
                check(self.name, findings, same)
        return findings


def pa_reader():
    import pyarrow as pa

    return pa.RecordBatchReader


# ---------------------------------------------------------------------------------------------
# webhooks and Sunshine


class Adapter(Target):
    reader: Callable[..., Any]
    label = ""

    def render(self, case):
        return case["source"]

    def execute(self, source):
        findings: list[Finding] = []
        ns = run_source(source)
        try:
            return self._execute(ns, findings)
        finally:
            folder = ns.get("folder")
            if isinstance(folder, Path) and str(folder).startswith(tempfile.gettempdir()):
                shutil.rmtree(folder, ignore_errors=True)

    def _execute(self, ns, findings):
        make, kwargs = ns["make_source"], ns["kwargs"]
        read = type(self).reader
        ok_c, collected = call(self.name, f"{self.label}(errors='collect')",
                               lambda: read(make(), errors="collect", **kwargs), findings)
        ok_r, raised = call(self.name, self.label, lambda: read(make(), **kwargs), findings)
        if findings:
            return findings
        def consistent():
            if not ok_c:  # an InputError even when collecting: only for bad arguments, then both raise
                checks.expect(not ok_r, "collect_raises_but_raise_reads", str(collected)[:300])
                return
            checks.expect(isinstance(collected, waconv.WebhookRead), "collect_type", type(collected).__name__)
            rejected = collected.rejected
            if len(rejected):
                checks.expect(not ok_r, "rejected_but_raise_mode_reads",
                              f"{len(rejected)} rejected ({rejected['reason'].iloc[0][:200]!r}) yet errors='raise' returned")
            else:
                checks.expect(ok_r, "raise_mode_rejects_what_collect_accepts", str(raised)[:300])
                try:
                    pd.testing.assert_frame_equal(collected.events, raised)
                except AssertionError as error:
                    raise Broken("collect_and_raise_differ", str(error)[:300]) from None
            checks.check_events(collected.events, self.name)
        if not check(self.name, findings, consistent) or not ok_c:
            return findings
        self.extra_checks(ns, collected, findings)
        events = collected.events
        if not findings and len(events):
            frame = events.assign(__row=range(len(events)))
            classify_and_check(self.name, frame, {}, findings, label=f"classify({self.label}(...))")
        return findings

    def extra_checks(self, ns, collected, findings):
        pass


class Webhooks(Adapter):
    name = "webhooks"
    label = "read_webhooks"
    reader = staticmethod(waconv.read_webhooks)
    call_line = "events = waconv.read_webhooks(make_source(), errors='collect', **kwargs)\n"

    def strategy(self):
        return payloads.payload_cases(payloads.webhook_seeds(), payloads.WEBHOOK_KEYS, "webhooks")

    def extra_checks(self, ns, collected, findings):
        # A JSON-lines file is read by Arrow when it can be; the payload walker must agree.
        path = ns["make_source"]()
        if not isinstance(path, Path) or path.suffix.lower() not in (".jsonl", ".ndjson") or not path.is_file():
            return
        lines = [line for line in path.read_bytes().split(b"\n")]
        ok, walked = call(self.name, "read_webhooks(lines, errors='collect')",
                          lambda: waconv.read_webhooks([l for l in lines if l.strip()], errors="collect", **ns["kwargs"]),
                          findings)
        if not ok or walked is None:
            return
        def same():
            if len(walked.rejected) != len(collected.rejected):
                raise Broken("file_and_lines_reject_differently",
                             f"file rejected {len(collected.rejected)}, its lines in memory {len(walked.rejected)}")
            if not len(collected.rejected) and "\r" not in path.read_bytes().decode("utf-8", "replace"):
                try:
                    pd.testing.assert_frame_equal(collected.events, walked.events)
                except AssertionError as error:
                    raise Broken("file_and_lines_read_differently", str(error)[:300]) from None
        check(self.name, findings, same)


class Sunshine(Adapter):
    name = "sunshine"
    label = "read_sunshine"
    reader = staticmethod(waconv.read_sunshine)
    call_line = "events = waconv.read_sunshine(make_source(), errors='collect', **kwargs)\n"

    def strategy(self):
        return payloads.payload_cases(payloads.sunshine_seeds(), payloads.SUNSHINE_KEYS, "sunshine")


# ---------------------------------------------------------------------------------------------
# rate cards and tier tables


def _check_card(card: Any) -> None:
    from waconv.pricing.rate_cards import COLUMNS, MODELS

    checks.expect(isinstance(card, waconv.RateCard), "card_type", type(card).__name__)
    checks.expect(type(card.effective) is dt.date, "card_effective", repr(card.effective))
    checks.expect(card.model in MODELS, "card_model", repr(card.model))
    checks.expect(isinstance(card.currency, str) and card.currency.strip() != "", "card_currency", repr(card.currency))
    for market, rates in card.rates.items():
        checks.expect(set(rates) == set(COLUMNS), "card_columns", f"{market}: {sorted(rates)}")
        for column, value in rates.items():
            ok = isinstance(value, float) and (math.isnan(value) or (math.isfinite(value) and value >= 0))
            checks.expect(ok, "card_rate", f"{market} {column} = {value!r}")


class RateCardTarget(Target):
    name = "rate_card"
    call_line = "card = read()\nlog, rules = make_log(card)\nresult = waconv.classify(log, rate_card=card, rules=rules)\n"

    def strategy(self):
        return csvs.rate_card_cases()

    def render(self, case):
        return csvs.render_rate_card(case)

    def execute(self, source):
        findings: list[Finding] = []
        ns = run_source(source)
        try:
            ok, card = call(self.name, "RateCard.from_csv", ns["read"], findings)
            if not ok:
                return findings
            cards = card.cards if isinstance(card, waconv.RateCards) else [card] if isinstance(card, waconv.RateCard) else []
            for one in cards:
                if not check(self.name, findings, lambda: _check_card(one)):
                    return findings
            one = card.cards[0] if isinstance(card, waconv.RateCards) else card
            try:
                log, rules = ns["make_log"](one)
            except Exception as error:  # noqa: BLE001
                raise UserRaised(f"make_log: {error}") from None
            classify_and_check(self.name, log, {"rate_card": card, "rules": rules}, findings,
                               label="classify(rate_card=...)")
            return findings
        finally:
            shutil.rmtree(ns["folder"], ignore_errors=True)


def _check_tiers(table: Any) -> None:
    from waconv.pricing.markets import market_reference
    from waconv.pricing.tiers import CATEGORIES, MAX

    checks.expect(isinstance(table, waconv.TierTable), "tier_type", type(table).__name__)
    markets = set(market_reference().markets)
    seen: dict[tuple, list] = {}
    for band in table.bands:
        checks.expect(band.market in markets, "tier_market", repr(band.market))
        checks.expect(band.category in CATEGORIES, "tier_category", repr(band.category))
        checks.expect(isinstance(band.lower, int) and isinstance(band.upper, int) and 0 <= band.lower <= band.upper <= MAX,
                      "tier_bounds", f"{band.lower}:{band.upper}")
        checks.expect(isinstance(band.rate, float) and math.isfinite(band.rate) and band.rate >= 0, "tier_rate",
                      f"{band.market} {band.category} {band.label} rate {band.rate!r}")
        seen.setdefault((band.market, band.category), []).append(band)


class TierTarget(Target):
    name = "tiers"
    call_line = "tiers = read()\nresult = waconv.classify(log, volume_tiers=tiers, rules=rules)\n"

    def strategy(self):
        return csvs.tier_cases()

    def render(self, case):
        return csvs.render_tiers(case)

    def execute(self, source):
        findings: list[Finding] = []
        ns = run_source(source)
        try:
            ok, tiers = call(self.name, "TierTable.from_csv/from_frame", ns["read"], findings)
            if not ok:
                return findings
            if isinstance(tiers, waconv.TierTable) and not check(self.name, findings, lambda: _check_tiers(tiers)):
                return findings
            classify_and_check(self.name, ns["log"], {"volume_tiers": tiers, "rules": ns["rules"]}, findings,
                               label="classify(volume_tiers=...)")
            return findings
        finally:
            shutil.rmtree(ns["folder"], ignore_errors=True)


TARGETS: dict[str, Target] = {t.name: t for t in (Classify(), Webhooks(), Sunshine(), RateCardTarget(), TierTarget())}
