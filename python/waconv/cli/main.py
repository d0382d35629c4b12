"""The `waconv` command line: classify, summarise and compare message logs from files.

User errors (a missing file, a malformed row, an unknown option value) end with one line on
stderr and exit code 2, never a traceback.
"""

from __future__ import annotations

import argparse
import json
import sys
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from waconv import _core
from waconv.api import classify
from waconv import examples
from waconv.cli.demo import EXAMPLE_TIMEZONES, demo_report, example_log, webhook_report, what_if_line
from waconv.io.files import INPUT_FORMATS, OUTPUT_FORMATS, read_events, write_table
from waconv._errors import InputError
from waconv.analytics.meta_json import response_from_summary

__all__ = ["EXAMPLE_TIMEZONES", "classify", "demo_report", "example_log", "main", "what_if_line"]

GRANULARITIES = ("HALF_HOUR", "DAILY", "MONTHLY")


def _pairs(values: list[str] | None, option: str) -> dict[str, str]:
    out = {}
    for value in values or []:
        key, sep, rest = value.partition("=")
        if not sep or not key or not rest:
            raise InputError(option, None, f"expected KEY=VALUE, got {value!r}")
        out[key] = rest
    return out


def _model_options(args: argparse.Namespace) -> dict[str, Any]:
    """The classify options every command shares (compare chooses rules and prices itself)."""
    options: dict[str, Any] = {
        "timezones": _pairs(args.timezone, "--timezone") or None,
        "columns": _pairs(args.column, "--column") or None,
        "anchor": args.anchor,
    }
    if args.rate_card:
        options["rate_card"] = args.rate_card if len(args.rate_card) > 1 else args.rate_card[0]
    if args.volume_tiers:
        options["volume_tiers"] = args.volume_tiers
    return options


def _classify_options(args: argparse.Namespace) -> dict[str, Any]:
    return {**_model_options(args), "rules": args.rules, "price": not args.no_price}


@contextmanager
def _progress(args: argparse.Namespace, stages: list[str]) -> Iterator[Any]:
    """A stage-by-stage bar on stderr; hidden when stderr is not a terminal or with --quiet."""
    from tqdm import tqdm

    with tqdm(total=len(stages), desc=stages[0], unit="step", file=sys.stderr,
              disable=True if args.quiet else None, leave=False) as bar:
        def advance(done: str, next_stage: str | None = None) -> None:
            bar.set_postfix_str(done)
            bar.update(1)
            if next_stage:
                bar.set_description(next_stage)
        yield advance


def _load_and_classify(args: argparse.Namespace, advance) -> tuple[Any, Any]:
    events, _kind = read_events([Path(p) for p in args.input], args.input_format)
    advance(f"{len(events):,} rows", "classify")
    result = classify(events, **_classify_options(args))
    return events, result


def _summary_arguments(args: argparse.Namespace) -> dict[str, Any]:
    return {"granularity": args.granularity, "dimensions": args.dimensions,
            "tz": None if args.tz == "utc" else args.tz}


def _cmd_classify(args: argparse.Namespace) -> int:
    outdir = Path(args.output)
    outdir.mkdir(parents=True, exist_ok=True)
    with _progress(args, ["read", "classify", "summarise", "write"]) as advance:
        _events, result = _load_and_classify(args, advance)
        advance(f"{len(result.conversations):,} conversations", "summarise")
        tables = {"messages": result.messages, "conversations": result.conversations, "windows": result.windows}
        if not args.no_price:
            tables["summary"] = result.summary(**_summary_arguments(args))
        advance("done", "write")
        written = [write_table(frame, outdir, name, args.output_format) for name, frame in tables.items()]
        advance("written")
    print(f"{len(result.messages):,} messages, {len(result.conversations):,} conversations, "
          f"{len(result.windows):,} windows" + (f"; bill {result.messages.cost.sum():,.2f}" if not args.no_price else ""))
    for path in written:
        print(f"  {path}")
    return 0


def _cmd_summary(args: argparse.Namespace) -> int:
    with _progress(args, ["read", "classify", "summarise"]) as advance:
        _events, result = _load_and_classify(args, advance)
        advance("classified", "summarise")
        table = result.summary(**_summary_arguments(args))
        if args.json:
            # Meta answers per WABA; a log of several WABAs gets one response per WABA id.
            responses = [response_from_summary(table, w) for w in table["waba"].unique().tolist()]
            if not responses:  # nothing to count: Meta's empty response, for the log's account
                responses = [result.to_meta_json(**_summary_arguments(args))]
            text = json.dumps(responses[0] if len(responses) == 1 else {r["id"]: r for r in responses}, indent=2)
        else:
            text = table.to_string(index=False)
        advance("done")
    return _emit(text, args.output)


def _cmd_compare(args: argparse.Namespace) -> int:
    from waconv.analytics.compare import compare

    with _progress(args, ["read", "compare"]) as advance:
        events, _kind = read_events([Path(p) for p in args.input], args.input_format)
        advance(f"{len(events):,} rows", "compare")
        table = compare(events, rules=args.rules_list, **_model_options(args))
        advance("done")
    if args.output and args.output.endswith(".parquet"):
        write_table(table, Path(args.output).parent, Path(args.output).stem, "parquet")
        return 0
    if args.output:
        table.to_csv(args.output, index=False)
        return 0
    return _emit(table.to_string(index=False), None)


def _cmd_reconcile(args: argparse.Namespace) -> int:
    from waconv.analytics.reconcile import reconcile

    with _progress(args, ["read", "classify", "reconcile"]) as advance:
        _events, result = _load_and_classify(args, advance)
        advance("classified", "reconcile")
        outcome = reconcile(result)
        advance("done")
    print(repr(outcome))
    print(outcome.summary.to_string(index=False))
    if args.output:
        outdir = Path(args.output)
        outdir.mkdir(parents=True, exist_ok=True)
        for name in ("disagreements", "summary", "grouping"):
            print(f"  {write_table(getattr(outcome, name), outdir, name, args.output_format)}")
    return 0


def _emit(text: str, output: str | None) -> int:
    if output:
        Path(output).write_text(text + "\n")
    else:
        print(text)
    return 0


def _cmd_demo(args: argparse.Namespace) -> int:
    if args.webhooks:
        from waconv.analytics.reconcile import reconcile
        from waconv.io.webhooks.read import read_webhooks

        events = read_webhooks(examples.webhooks())
        result = classify(events)
        print(webhook_report(events, result, reconcile(result)))
        return 0
    log = example_log()
    result = classify(log, timezones=EXAMPLE_TIMEZONES)
    print(demo_report(result))
    print(what_if_line(log, result))
    return 0


def _add_input_options(parser: argparse.ArgumentParser, *, one_model: bool = True) -> None:
    """Input and classify options; one_model=False (compare) leaves out --rules and --no-price."""
    parser.add_argument("input", nargs="+", help="event files: CSV, Parquet, or webhook JSON / JSON lines")
    parser.add_argument("--input-format", choices=INPUT_FORMATS, default="auto",
                        help="default: from the file name (.csv, .parquet, .json/.jsonl = Cloud API webhooks)")
    if one_model:
        parser.add_argument("--rules", default="auto", choices=("auto", *_core.ERAS),
                            help="pricing era: auto (by date, the default) or one era for every message")
        parser.add_argument("--no-price", action="store_true", help="classify only, no cost")
    parser.add_argument("--timezone", action="append", metavar="WABA=ZONE",
                        help="a WABA's IANA time zone (repeatable); default UTC")
    parser.add_argument("--column", action="append", metavar="CANONICAL=YOURS",
                        help="map an input column name (docs/rules.md §Input columns) to yours, "
                             "e.g. user=wa_id (repeatable)")
    parser.add_argument("--anchor", choices=("delivered", "sent"), default="delivered",
                        help="when CBP conversations start (default: delivery)")
    parser.add_argument("--rate-card", action="append", metavar="CSV", help="a rate card in Meta's CSV layout")
    parser.add_argument("--volume-tiers", metavar="CSV", help="a volume tier table (Market,Category,Tier,Rate)")
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress bar")


def _add_summary_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--granularity", choices=GRANULARITIES, default="DAILY")
    parser.add_argument("--dimensions", nargs="+", default=["PRICING_CATEGORY", "PRICING_TYPE", "COUNTRY"],
                        help="PMP: COUNTRY PHONE PRICING_CATEGORY PRICING_TYPE TIER; "
                             "CBP: CONVERSATION_CATEGORY CONVERSATION_TYPE CONVERSATION_DIRECTION COUNTRY PHONE")
    parser.add_argument("--tz", choices=("utc", "waba"), default="utc", help="bucket in UTC or each WABA's zone")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="waconv", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)

    demo = commands.add_parser("demo", help="classify a shipped example and print what waconv sees")
    demo.add_argument("--webhooks", action="store_true",
                      help="use the shipped Cloud API webhook dump and reconcile with Meta's verdict")
    demo.set_defaults(run=_cmd_demo)

    run = commands.add_parser("classify", help="classify a log and write messages, conversations, windows, summary")
    _add_input_options(run)
    _add_summary_options(run)
    run.add_argument("-o", "--output", required=True, metavar="OUTDIR", help="directory for the tables")
    run.add_argument("--output-format", choices=OUTPUT_FORMATS, default="parquet")
    run.set_defaults(run=_cmd_classify)

    summary = commands.add_parser("summary", help="print analytics shaped like Meta's pricing/conversation analytics")
    _add_input_options(summary)
    _add_summary_options(summary)
    summary.add_argument("--json", action="store_true", help="Meta's API response layout instead of a table")
    summary.add_argument("-o", "--output", metavar="FILE", help="write to FILE instead of standard output")
    summary.set_defaults(run=_cmd_summary)

    compare = commands.add_parser("compare", help="cost of the same log under several pricing models")
    _add_input_options(compare, one_model=False)
    compare.add_argument("--rules", dest="rules_list", nargs="+", choices=_core.ERAS,
                         default=["cbp_v2", "pmp_v1", "pmp_v2"], help="models to compare with the rules in force")
    compare.add_argument("-o", "--output", metavar="FILE", help="write CSV (or .parquet) instead of printing")
    compare.set_defaults(run=_cmd_compare)

    reconcile = commands.add_parser("reconcile", help="compare waconv with Meta's verdict in webhook dumps")
    _add_input_options(reconcile)
    reconcile.add_argument("-o", "--output", metavar="OUTDIR", help="write disagreements, summary, grouping")
    reconcile.add_argument("--output-format", choices=OUTPUT_FORMATS, default="csv")
    reconcile.set_defaults(run=_cmd_reconcile)
    return parser


def _warn_in_one_line(message, category, filename, lineno, file=None, line=None) -> None:
    print(f"waconv: warning: {message}", file=sys.stderr)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    with warnings.catch_warnings():
        warnings.showwarning = _warn_in_one_line
        try:
            return args.run(args)
        except InputError as error:
            print(f"waconv: {error}", file=sys.stderr)
        except BrokenPipeError:  # `waconv summary ... | head` stopped reading: not an error
            return 0
        except OSError as error:  # output directory not writable, disk full, ...
            print(f"waconv: {error.strerror or error}: {error.filename or ''}".rstrip(": "), file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
