"""`waconv demo`: the shipped example logs, classified and summarised in plain text."""

from __future__ import annotations

import warnings

import pandas as pd

from waconv.analytics.summary import costs_by_currency
from waconv.api import classify
from waconv.engine.tables import charged_units
from waconv.examples import TIMEZONES as EXAMPLE_TIMEZONES
from waconv.examples import log as example_log


def _table(frame: pd.DataFrame) -> str:
    """A crosstab without its all-zero rows and columns (categoricals list every category)."""
    frame = frame.loc[frame.sum(axis=1) > 0, frame.sum(axis=0) > 0]
    return frame.to_string() if frame.size else "  (none)"


def demo_report(result) -> str:
    m = result.messages
    c = result.conversations
    delivered_out = m[(m.direction == "outbound") & m.pricing_type.notna()]
    charged = m[charged_units(m)]
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


def bill_text(messages: pd.DataFrame, digits: int = 2) -> str:
    """The bill per currency, "12.34 USD + 560.00 INR": costs of two currencies never add up."""
    totals = costs_by_currency(messages)
    return " + ".join(f"{total:,.{digits}f} {currency}" for currency, total in totals.items()) or f"{0:.{digits}f}"


def what_if_line(log: pd.DataFrame, result) -> str:
    """'This log cost X under the rules in force; Y under per-message pricing' (what-if
    across eras, docs/rules.md §Eras)."""
    parts = []
    for rules in ("cbp_v2", "pmp_v1", "pmp_v2"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the same gaps were reported for the real run
            other = classify(log, timezones=EXAMPLE_TIMEZONES, rules=rules)
        parts.append(f"{bill_text(other.messages)} as {rules}")
    return (f"This log cost {bill_text(result.messages)} under the rules in force; "
            f"under one model for the whole log: {'; '.join(parts)}.")


def webhook_report(events: pd.DataFrame, result, reconciliation) -> str:
    """What the webhook dump held, what waconv rebuilt from it, and how that compares with Meta."""
    m = result.messages
    outbound = m[m.direction == "outbound"]
    statuses = outbound.status.value_counts().to_dict() if "status" in m else {}
    charged = charged_units(m)
    lines = [
        f"Webhook dump: {len(events):,} messages rebuilt "
        f"({int((m.direction == 'inbound').sum()):,} inbound, {len(outbound):,} outbound; "
        f"final statuses: {', '.join(f'{n} {s}' for s, n in sorted(statuses.items()))}), "
        f"{int(m.referral.sum()) if 'referral' in m else 0} click-to-WhatsApp entries",
        "",
        "Charged units (a CBP conversation or a PMP message) by era and category:",
        _table(pd.crosstab(m.era[charged], m.pricing_category[charged])),
        "",
        f"Bill: {bill_text(m, digits=4)}",
        "",
        f"Against Meta's own verdict in the webhooks: {reconciliation.compared:,} messages compared, "
        + (f"{reconciliation.agreement:.1%} agree." if reconciliation.compared else "nothing to agree on."),
    ]
    if len(reconciliation.disagreements):
        lines.append("Disagreements by reason:")
        counts = reconciliation.disagreements.reason.value_counts()
        lines += [f"  {reason}: {n}" for reason, n in counts.items() if n]
        for row in reconciliation.disagreements.itertuples():
            lines.append(f"  row {row.row} ({row.era}, {m.pricing_category.iloc[row.row]}): {row.reason}: "
                         f"waconv {row.waconv!r}, Meta {row.meta!r}")
        if ((reconciliation.disagreements.waconv == "free_customer_service")
                & (reconciliation.disagreements.meta == "regular")).any():
            lines.append("Meta charged a message waconv found inside a service window: Meta did not count some "
                         "inbound message (in this dump, a reaction) as opening it. classify(..., csw_refreshing=...) "
                         "decides which inbound messages do (docs/rules.md §Options for open questions).")
    if reconciliation.not_reported:
        lines.append(f"{reconciliation.not_reported} delivered messages carried no Meta pricing.")
    return "\n".join(lines)
