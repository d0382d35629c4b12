"""The `waconv` command line: classify, summarise and compare message logs from files.

User errors (a missing file, a malformed row, an unknown option value) end with one line on
stderr and exit code 2, never a traceback. An input of `-` is standard input; `-o -` writes
one table to standard output (see cli/stdin.py and cli/output.py).
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

from waconv import __version__, _core
from waconv.api import classify
from waconv.engine.state import State
from waconv import examples
from waconv.cli.demo import EXAMPLE_TIMEZONES, bill_text, demo_report, example_log, webhook_report, what_if_line
from waconv.cli.options import OptionError, bucket_zone, column_names, options_named, waba_currencies, waba_timezones
from waconv.cli.output import FILE_FORMATS, STDOUT, file_format, table_text, write_output, write_text
from waconv.cli.stdin import read_inputs
from waconv.cli.stream import classify_to_files, memory_budget, rows_if_larger
from waconv.io.files import INPUT_FORMATS, OUTPUT_FORMATS, write_table
from waconv._errors import InputError
from waconv.analytics.meta_json import requested_analytics, response_from_summary

__all__ = ["EXAMPLE_TIMEZONES", "classify", "demo_report", "example_log", "main", "what_if_line"]

GRANULARITIES = ("HALF_HOUR", "DAILY", "MONTHLY")
# The summary's arguments as the API names them in an InputError, and as the user typed them.
SUMMARY_OPTIONS = {"dimensions": "--dimensions", "granularity": "--granularity", "tz": "--tz"}


def _model_options(args: argparse.Namespace) -> dict[str, Any]:
    """The classify options every command shares (compare chooses rules and prices itself)."""
    options: dict[str, Any] = {
        "timezones": waba_timezones(args.timezone),
        "columns": column_names(args.column),
        "anchor": args.anchor,
    }
    if args.rate_card:
        options["rate_card"] = args.rate_card if len(args.rate_card) > 1 else args.rate_card[0]
    if args.volume_tiers:
        options["volume_tiers"] = args.volume_tiers
    if args.no_volume_tiers:
        options["volume_tiers"] = None
    currencies = waba_currencies(args.currency)
    if currencies:
        options["currencies"] = currencies
    return options


def _classify_options(args: argparse.Namespace) -> dict[str, Any]:
    return {**_model_options(args), "rules": args.rules, "price": not args.no_price}


def _warning_line(message: Warning | str) -> str:
    return f"waconv: warning: {message}"


@contextmanager
def progress_bar(args: argparse.Namespace, stages: list[str]) -> Iterator[Any]:
    """A stage-by-stage bar on stderr; hidden when stderr is not a terminal or with --quiet.

    While it is up, warnings go through the bar (tqdm.write, one line each) instead of into it.
    """
    from tqdm import tqdm

    def through_the_bar(message, category, filename, lineno, file=None, line=None) -> None:
        tqdm.write(_warning_line(message), file=sys.stderr)

    with tqdm(total=len(stages), desc=stages[0], unit="step", file=sys.stderr,
              disable=True if args.quiet else None, leave=False) as bar:
        def advance(done: str, next_stage: str | None = None) -> None:
            bar.set_postfix_str(done)
            bar.update(1)
            if next_stage:
                bar.set_description(next_stage)

        shown_before = warnings.showwarning
        warnings.showwarning = through_the_bar
        try:
            yield advance
        finally:
            warnings.showwarning = shown_before


def _load_and_classify(args: argparse.Namespace, advance, options: dict[str, Any]) -> tuple[Any, Any]:
    events, _kind = read_inputs(args.input, args.input_format)
    advance(f"{len(events):,} rows", "classify")
    result = classify(events, **options)
    return events, result


def _summary_arguments(args: argparse.Namespace) -> dict[str, Any]:
    return {"granularity": args.granularity, "dimensions": args.dimensions, "tz": bucket_zone(args.tz)}


def _cmd_classify(args: argparse.Namespace) -> int:
    options, summary_arguments = _classify_options(args), _summary_arguments(args)
    if args.state_in:
        options["state"] = State.load(args.state_in)
    to_stdout = args.output == STDOUT
    fmt = args.output_format or ("csv" if to_stdout else "parquet")
    budget = memory_budget(args.memory_budget)
    rows = None if to_stdout else rows_if_larger(args.input, args.input_format, budget)
    if not to_stdout:
        outdir = Path(args.output)
        outdir.mkdir(parents=True, exist_ok=True)
    if rows is not None and budget is not None:
        return _classify_streamed(args, rows, budget, outdir, fmt, options)
    with progress_bar(args, ["read", "classify", "summarise", "write"]) as advance:
        _events, result = _load_and_classify(args, advance, options)
        advance(f"{len(result.conversations):,} conversations", "summarise")
        if args.state_out:
            result.state.save(args.state_out)
        tables = {"messages": result.messages, "conversations": result.conversations, "windows": result.windows}
        if not args.no_price and not to_stdout:
            with options_named(SUMMARY_OPTIONS):
                tables["summary"] = result.summary(**summary_arguments)
        advance("done", "write")
        if to_stdout:  # one table fits standard output: the messages
            write_output(result.messages, STDOUT, fmt)
            written = []
        else:
            written = [write_table(frame, outdir, name, fmt) for name, frame in tables.items()]
        advance("written")
    report = sys.stderr if to_stdout else sys.stdout
    print(f"{len(result.messages):,} messages, {len(result.conversations):,} conversations, "
          f"{len(result.windows):,} windows" + (f"; bill {bill_text(result.messages)}" if not args.no_price else ""),
          file=report)
    for path in written:
        print(f"  {path}")
    return 0


def _classify_streamed(args: argparse.Namespace, rows: int, budget: int, outdir: Path, fmt: str,
                       options: dict[str, Any]) -> int:
    """Parquet inputs over --memory-budget: spilled by pair, written batch by batch (no summary)."""
    counts, bill, written = classify_to_files(args.input, rows, budget, outdir, fmt, options)
    print(f"{counts['messages']:,} messages, {counts['conversations']:,} conversations, {counts['windows']:,} windows"
          + (f"; bill {bill:,.2f}" if bill is not None else "") + " (streamed: over --memory-budget, no summary)")
    for path in written:
        print(f"  {path}")
    return 0


def _summary_format(args: argparse.Namespace) -> str | None:
    """The format -o asks for (None: print the table); --json wants a .json file or -."""
    if args.output is None:
        return None
    fmt = file_format(args.output)
    if args.json and args.output != STDOUT and fmt != "json":
        raise OptionError("--output", f"--json writes Meta's JSON layout; give a .json file or -, not {args.output!r}")
    return fmt


def _cmd_summary(args: argparse.Namespace) -> int:
    options, summary_arguments, fmt = _classify_options(args), _summary_arguments(args), _summary_format(args)
    with progress_bar(args, ["read", "classify", "summarise"]) as advance:
        _events, result = _load_and_classify(args, advance, options)
        advance("classified", "summarise")
        with options_named(SUMMARY_OPTIONS):
            table = result.summary(**summary_arguments)
            if args.json:
                # Meta answers per WABA; a log of several WABAs gets one response per WABA id.
                blocks = requested_analytics(args.dimensions)  # the blocks to_meta_json writes
                responses = [response_from_summary(table, w, blocks) for w in table["waba"].unique().tolist()]
                if not responses:  # nothing to count: Meta's empty response, for the log's account
                    responses = [result.to_meta_json(**summary_arguments)]
        advance("done")
    if args.json:
        write_text(json.dumps(responses[0] if len(responses) == 1 else {r["id"]: r for r in responses}, indent=2),
                   args.output)
    else:
        _show(table, args.output, fmt)
    return 0


def _show(table: Any, output: str | None, fmt: str | None) -> None:
    """The table as printed text without -o, else in the format -o chose."""
    if fmt is None:
        write_text(table_text(table), None)
    else:
        write_output(table, output, fmt)


def _cmd_compare(args: argparse.Namespace) -> int:
    from waconv.analytics.compare import compare

    options = _model_options(args)
    fmt = file_format(args.output) if args.output else None
    with progress_bar(args, ["read", "compare"]) as advance:
        events, _kind = read_inputs(args.input, args.input_format)
        advance(f"{len(events):,} rows", "compare")
        table = compare(events, rules=args.rules_list, **options)
        advance("done")
    _show(table, args.output, fmt)
    return 0


def _cmd_reconcile(args: argparse.Namespace) -> int:
    from waconv.analytics.meta_analytics import read_meta_analytics
    from waconv.analytics.reconcile import VERDICT_COLUMNS, reconcile
    from waconv.analytics.reconcile_analytics import reconcile_analytics

    options = _classify_options(args)
    to_stdout = args.output == STDOUT
    fmt = args.output_format or "csv"
    with progress_bar(args, ["read", "classify", "reconcile"]) as advance:
        meta = read_meta_analytics(args.analytics) if args.analytics else None
        _events, result = _load_and_classify(args, advance, options)
        advance("classified", "reconcile")
        # With --analytics, a log without Meta's per-message verdict (a CSV export) is fine.
        verdict = meta is None or any(c in result.messages.columns for c in VERDICT_COLUMNS)
        outcome = reconcile(result) if verdict else None
        analytics = reconcile_analytics(result, meta) if meta is not None else None
        advance("done")
    report = sys.stderr if to_stdout else sys.stdout
    tables: dict[str, Any] = {}
    if outcome is not None:
        print(repr(outcome), file=report)
        print(outcome.summary.to_string(index=False), file=report)
        tables.update(disagreements=outcome.disagreements, summary=outcome.summary, grouping=outcome.grouping)
    if analytics is not None:
        print(repr(analytics), file=report)
        tables.update(analytics_differences=analytics.differences, analytics_verdicts=analytics.verdicts)
    if to_stdout:  # one table fits standard output: the analytics differences, else the disagreements
        write_output(tables["analytics_differences" if analytics is not None else "disagreements"], STDOUT, fmt)
    elif args.output:
        outdir = Path(args.output)
        outdir.mkdir(parents=True, exist_ok=True)
        for name, frame in tables.items():
            print(f"  {write_table(frame, outdir, name, fmt)}")
    return 0


def _cmd_explain(args: argparse.Namespace) -> int:
    from waconv.analytics.explain import explain

    if args.row and not args.message_id.isdigit():
        raise OptionError("MESSAGE_ID", f"with --row, expected a row number from 0, got {args.message_id!r}")
    options = _classify_options(args)
    with progress_bar(args, ["read", "classify"]) as advance:
        _events, result = _load_and_classify(args, advance, options)
        advance("classified")
    print(explain(result, row=int(args.message_id)) if args.row else explain(result, args.message_id))
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
    # The report comes first: what the example computed. Its warnings (gaps of the shipped
    # cards, which a reader of the demo cannot fill) follow it, in the order they arose.
    with warnings.catch_warnings(record=True) as caught:  # the filters in force still apply
        result = classify(log, timezones=EXAMPLE_TIMEZONES)
    print(demo_report(result))
    print(what_if_line(log, result), flush=True)
    for warning in caught:
        warnings.showwarning(warning.message, warning.category, warning.filename, warning.lineno)
    return 0


def _add_input_options(parser: argparse.ArgumentParser, *, one_model: bool = True) -> None:
    """Input and classify options; one_model=False (compare) leaves out --rules and --no-price."""
    parser.add_argument("input", nargs="+",
                        help="event files: CSV, Parquet, or webhook JSON / JSON lines; - reads standard input")
    parser.add_argument("--input-format", choices=INPUT_FORMATS, default="auto",
                        help="default auto: from the file name (.csv, .parquet, .json/.jsonl = Cloud API webhooks); "
                             "for - sniffed: Parquet bytes, JSON (webhooks) or else CSV (sunshine must be named)")
    if one_model:
        parser.add_argument("--rules", default="auto", choices=("auto", *_core.ERAS),
                            help="pricing era: auto (by date, the default) or one era for every message")
        parser.add_argument("--no-price", action="store_true", help="classify only, no cost")
    parser.add_argument("--timezone", action="append", metavar="WABA=ZONE",
                        help="a WABA's IANA time zone, e.g. waba-br=America/Sao_Paulo, for its era switches and "
                             "months (repeatable); default UTC")
    parser.add_argument("--column", action="append", metavar="CANONICAL=YOURS",
                        help="map an input column name (docs/rules.md §Input columns) to yours, "
                             "e.g. user=wa_id (repeatable)")
    parser.add_argument("--anchor", choices=("delivered", "sent"), default="delivered",
                        help="when CBP conversations start (default: delivery)")
    parser.add_argument("--rate-card", action="append", metavar="CSV", help="a rate card in Meta's CSV layout")
    tiers = parser.add_mutually_exclusive_group()
    tiers.add_argument("--volume-tiers", metavar="CSV",
                       help="your volume tier table (Market,Category,Tier,Rate, or Meta's layout) instead of "
                            "Meta's tables shipped with waconv (applied by default from 2026-04-01)")
    tiers.add_argument("--no-volume-tiers", action="store_true", help="no volume tiers: every message at list rate")
    parser.add_argument("--currency", action="append", metavar="WABA=CODE",
                        help="the currency a WABA is billed in, e.g. waba-in=INR: its rows are priced with the "
                             "cards waconv ships in that currency (repeatable); default USD")
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress bar")


def _add_summary_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--granularity", choices=GRANULARITIES, default="DAILY",
                        help="length of the summary's time buckets (default: DAILY)")
    parser.add_argument("--dimensions", nargs="+", default=["PRICING_CATEGORY", "PRICING_TYPE", "COUNTRY"],
                        help="PMP: COUNTRY PHONE PRICING_CATEGORY PRICING_TYPE TIER; "
                             "CBP: CONVERSATION_CATEGORY CONVERSATION_TYPE CONVERSATION_DIRECTION COUNTRY PHONE")
    parser.add_argument("--tz", default="utc", metavar="ZONE",
                        help="the summary's bucket zone: utc (the default), waba (each WABA's --timezone) "
                             "or any IANA zone, e.g. Europe/Berlin")


def _add_output_format(parser: argparse.ArgumentParser, tables: str, default: str) -> None:
    parser.add_argument("--output-format", choices=OUTPUT_FORMATS,
                        help=f"format of the files in OUTDIR (default: {default}), or of the {tables} table "
                             "written by -o - (default: csv)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="waconv", description=__doc__.splitlines()[0])
    parser.add_argument("--version", action="version", version=f"waconv {__version__}",
                        help="print waconv's version and exit")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND",
                                     help="what to do; waconv COMMAND --help lists its options")
    formats = ", ".join(FILE_FORMATS)

    demo = commands.add_parser("demo", help="classify a shipped example and print what waconv sees")
    demo.add_argument("--webhooks", action="store_true",
                      help="use the shipped Cloud API webhook dump and reconcile with Meta's verdict")
    demo.set_defaults(run=_cmd_demo)

    run = commands.add_parser("classify", help="classify a log and write messages, conversations, windows, summary")
    _add_input_options(run)
    _add_summary_options(run)
    run.add_argument("-o", "--output", required=True, metavar="OUTDIR",
                     help="directory for the tables; - writes the messages table alone to standard output "
                          "(the counts go to stderr)")
    _add_output_format(run, "messages", "parquet")
    run.add_argument("--state-in", metavar="FILE",
                     help="continue from the state an earlier run wrote (daily runs: the input holds only rows "
                          "after that run's; docs/rules.md §Daily runs)")
    run.add_argument("--state-out", metavar="FILE", help="write the state the next run continues from")
    run.add_argument("--memory-budget", metavar="SIZE",
                     help="e.g. 4G: Parquet inputs larger than this are classified out of core (spilled by pair to "
                          "a temporary directory, written batch by batch, rows in pair order with their input_row; "
                          "no summary table)")
    run.set_defaults(run=_cmd_classify)

    summary = commands.add_parser("summary", help="print analytics shaped like Meta's pricing/conversation analytics")
    _add_input_options(summary)
    _add_summary_options(summary)
    summary.add_argument("--json", action="store_true", help="Meta's API response layout instead of a table")
    summary.add_argument("-o", "--output", metavar="FILE",
                         help=f"write FILE instead of printing, in the format of its extension ({formats}); "
                              "- writes CSV to standard output (with --json: a .json file or -)")
    summary.set_defaults(run=_cmd_summary)

    compare = commands.add_parser("compare", help="cost of the same log under several pricing models")
    _add_input_options(compare, one_model=False)
    compare.add_argument("--rules", dest="rules_list", nargs="+", choices=_core.ERAS,
                         default=["cbp_v2", "pmp_v1", "pmp_v2"], help="models to compare with the rules in force")
    compare.add_argument("-o", "--output", metavar="FILE",
                         help=f"write FILE instead of printing, in the format of its extension ({formats}); "
                              "- writes CSV to standard output")
    compare.set_defaults(run=_cmd_compare)

    reconcile = commands.add_parser("reconcile", help="compare waconv with Meta's verdict in webhook dumps")
    _add_input_options(reconcile)
    reconcile.add_argument("--analytics", metavar="FILE",
                           help="also compare waconv's summary with Meta's pricing_analytics / conversation_analytics "
                                "response in FILE (JSON, or JSON lines of pages), bucket by bucket in volume and cost; "
                                "granularity and dimensions from the response, buckets in the --timezone zones")
    reconcile.add_argument("-o", "--output", metavar="OUTDIR",
                           help="write disagreements, summary, grouping (and with --analytics analytics_differences, "
                                "analytics_verdicts) into OUTDIR; - writes the analytics differences, else the "
                                "disagreements, alone to standard output (the report goes to stderr)")
    _add_output_format(reconcile, "disagreements", "csv")
    reconcile.set_defaults(run=_cmd_reconcile)

    why = commands.add_parser("explain", help="say in one sentence why one message costs what it costs")
    _add_input_options(why)
    why.add_argument("message_id", metavar="MESSAGE_ID",
                     help="the message id to explain (its first row when it repeats); with --row, a row number")
    why.add_argument("--row", action="store_true", help="MESSAGE_ID is a row number: the position in the log, from 0")
    why.set_defaults(run=_cmd_explain)
    return parser


def _warn_in_one_line(message, category, filename, lineno, file=None, line=None) -> None:
    print(_warning_line(message), file=sys.stderr)


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    with warnings.catch_warnings():
        warnings.showwarning = _warn_in_one_line
        try:
            return args.run(args)
        except OptionError as error:  # worded like argparse's own: "waconv summary: error: option --tz: ..."
            print(f"{parser.prog} {args.command}: error: {error}", file=sys.stderr)
        except InputError as error:
            print(f"waconv: {error}", file=sys.stderr)
        except BrokenPipeError:  # `waconv summary ... | head` stopped reading: not an error
            return 0
        except OSError as error:  # output directory not writable, disk full, ...
            print(f"waconv: {error.strerror or error}: {error.filename or ''}".rstrip(": "), file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
