"""The `waconv` command line."""

from __future__ import annotations

import argparse
import sys
import warnings
from importlib import resources

import pandas as pd

from ._classify import classify
from ._errors import InputError

EXAMPLE_TIMEZONES = {"waba-br": "America/Sao_Paulo"}
ID_COLUMNS = {"business": str, "user": str, "waba": str, "portfolio": str, "message_id": str}


def example_log() -> pd.DataFrame:
    """The shipped example log (see data/make_example_log.py)."""
    with resources.as_file(resources.files("waconv") / "data" / "example_log.csv") as path:
        return pd.read_csv(path, dtype=ID_COLUMNS)


def _table(frame: pd.DataFrame) -> str:
    """A crosstab without its all-zero rows and columns (categoricals list every category)."""
    frame = frame.loc[frame.sum(axis=1) > 0, frame.sum(axis=0) > 0]
    return frame.to_string() if frame.size else "  (none)"


def demo_report(result) -> str:
    m = result.messages
    c = result.conversations
    delivered_out = m[(m.direction == "outbound") & m.pricing_type.notna()]
    charged = m[m.billable & (m.opens_conversation | m.conversation_id.isna())]
    lines = [
        f"Example log: {len(m):,} rows ({result.n_duplicates} webhook duplicates marked), "
        f"{m.business.nunique()} business numbers, {m.user.nunique()} users, "
        f"{pd.Timestamp(m.timestamp.min()).date()} .. {pd.Timestamp(m.timestamp.max()).date()}",
        "",
        "CBP conversations by era and category:",
        _table(pd.crosstab(c.era, c.category)),
        "",
        "Delivered business messages by era and pricing type (regular = charged):",
        _table(pd.crosstab(delivered_out.era, delivered_out.pricing_type)),
        "",
        "Charged units (a CBP conversation or a PMP message) by era and category:",
        _table(pd.crosstab(charged.era, charged.pricing_category)),
        "",
        "Windows: "
        + ", ".join(f"{n:,} {kind}" for kind, n in result.windows.kind.value_counts(sort=False).items()),
        f"Free-form messages sent outside the service window (Meta error 131047): {int(m.policy_violation.sum())}",
        f"Classified in {result.timings['total'] * 1000:.1f} ms.",
    ]
    return "\n".join(lines)


def what_if_line(log: pd.DataFrame, result) -> str:
    """'This log cost X under the rules in force; Y under per-message pricing' (SPEC §3 what-if)."""
    currency = result.messages.currency.dropna().iloc[0] if result.messages.currency.notna().any() else ""
    parts = []
    for rules in ("cbp_v2", "pmp_v1", "pmp_v2"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the same gaps were reported for the real run
            other = classify(log, timezones=EXAMPLE_TIMEZONES, rules=rules)
        parts.append(f"{other.messages.cost.sum():,.2f} as {rules}")
    return (f"This log cost {result.messages.cost.sum():,.2f} {currency} under the rules in force; "
            f"under one model for the whole log: {'; '.join(parts)}.")


def _demo(_args: argparse.Namespace) -> int:
    log = example_log()
    result = classify(log, timezones=EXAMPLE_TIMEZONES)
    print(demo_report(result))
    print(what_if_line(log, result))
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="waconv", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    demo = commands.add_parser("demo", help="classify the shipped example log and print a summary")
    demo.set_defaults(run=_demo)
    args = parser.parse_args(argv)
    try:
        return args.run(args)
    except InputError as error:
        print(f"waconv: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
