"""waconv.reconcile: waconv's reconstruction against what Meta reported, message by message.

Meta's verdict travels in the webhooks' ``conversation`` and ``pricing`` objects, which
:func:`waconv.read_webhooks` keeps as ``meta_*`` columns; :func:`waconv.classify` carries
them through to ``result.messages``. Only delivered, non-duplicate business messages that
Meta priced are compared: Meta attaches pricing to ``sent`` statuses too, but charges on
delivery, so an undelivered message has nothing to disagree about.

Reason codes, one disagreement row per message and reason:

- ``category``: pricing categories differ after the known spelling variants are unified
  (``customer_initiated`` = ``user_initiated``, ``authentication-international`` =
  ``authentication_international``, and a free entry point is one whether Meta calls its
  category ``referral_conversion`` or ``service`` with type ``free_entry_point``);
- ``type``: pricing types differ, where Meta sent one (CBP-era webhooks had none; only a
  ``referral_conversion`` origin implies ``free_entry_point`` there);
- ``pricing_model``: ``CBP``/``PMP`` differ;
- ``billable``: under PMP only. Under CBP Meta's ``billable`` was also true for free-tier
  and some free service conversations (docs/rules.md §Output columns), so it says nothing about the charge;
- ``conversation_split``: one Meta conversation id spread over several waconv conversations;
- ``conversation_merged``: one waconv conversation holding several Meta conversation ids.
  Grouping is compared for CBP-priced messages only: from 2025-07-01 Meta gives every
  message its own conversation id, which is expected and never reported.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from waconv._errors import InputError
from waconv.analytics import html

if TYPE_CHECKING:  # pragma: no cover
    from waconv.engine.tables import Tables

META_COLUMNS = ("meta_pricing_category", "meta_conversation_origin")
_SPELLINGS = {
    "customer_initiated": "user_initiated",
    "authentication-international": "authentication_international",
}
FEP = "referral_conversion"
REASONS = ("category", "type", "pricing_model", "billable", "conversation_split", "conversation_merged")


@dataclass
class Reconciliation:
    """The outcome of :func:`reconcile`.

    disagreements: one row per (message, reason): ``row`` (position in result.messages),
    ``message_id``, ``era``, ``reason``, ``waconv``, ``meta``, ``conversation_id``,
    ``meta_conversation_id``.
    summary: per era and waconv category: ``compared``, ``agreeing``, ``agreement``.
    grouping: split and merged conversations: ``kind``, ``conversation_id`` (waconv, for
    merged) or ``meta_conversation_id`` (for split), ``counterparts`` (how many of the other
    side's conversations it touches), ``messages``.
    not_reported: delivered business messages Meta sent no pricing for (not compared).
    """

    disagreements: pd.DataFrame
    summary: pd.DataFrame
    grouping: pd.DataFrame
    compared: int
    not_reported: int

    @property
    def agreement(self) -> float:
        """Share of compared messages with no disagreement at all (1.0 when none compared)."""
        if self.compared == 0:
            return 1.0
        return 1.0 - self.disagreements["row"].nunique() / self.compared

    def __repr__(self) -> str:
        counts = self.disagreements["reason"].value_counts()
        reasons = ", ".join(f"{n:,} {reason}" for reason, n in counts.items() if n) or "none"
        return (f"<waconv.Reconciliation: {self.compared:,} messages compared, "
                f"{self.agreement:.2%} agree; disagreements: {reasons}; "
                f"{self.not_reported:,} delivered messages without Meta pricing>")


    def _repr_html_(self) -> str:
        """What a notebook shows: the counts, the agreement per era and category (a short
        table: eras x categories) and the first disagreements and split/merged conversations."""
        counts = self.disagreements["reason"].value_counts()
        reasons = ", ".join(f"{html.escape(reason)}: {n:,}" for reason, n in counts.items() if n) or "none"
        eras = ", ".join(html.escape(e) for e in pd.unique(self.summary["era"])) or "none"
        facts = html.facts([
            ("compared", f"{self.compared:,} delivered business messages Meta priced"),
            ("agreement", f"{self.agreement:.2%}"),
            ("disagreements", f"{self.disagreements['row'].nunique():,} messages ({reasons})"),
            ("not reported", f"{self.not_reported:,} delivered messages without Meta pricing"),
            ("eras", eras),
        ])
        return html.block(
            "waconv.Reconciliation", facts,
            html.head("summary", self.summary, 40, open_=True),  # at most 4 eras x 9 categories
            html.head("disagreements", self.disagreements, 10), html.head("grouping", self.grouping),
        )


def _text(series: pd.Series) -> pd.Series:
    """Meta's strings, lower-cased, spellings unified, missing as None."""
    values = series.astype("string").str.strip().str.lower()
    return values.replace(_SPELLINGS).astype(object).where(values.notna(), None)


def _meta_verdict(m: pd.DataFrame) -> pd.DataFrame:
    category = _text(m["meta_pricing_category"]) if "meta_pricing_category" in m else None
    origin = _text(m["meta_conversation_origin"]) if "meta_conversation_origin" in m else None
    if category is None:
        category = origin
    elif origin is not None:
        category = category.where(category.notna(), origin)
    kind = _text(m["meta_pricing_type"]) if "meta_pricing_type" in m else pd.Series(None, index=m.index, dtype=object)
    fep = (kind == "free_entry_point") | (category == FEP)
    category = category.mask(fep, FEP)
    kind = kind.mask(fep, "free_entry_point")
    model = m["meta_pricing_model"].astype("string").str.upper() if "meta_pricing_model" in m else None
    billable = m["meta_billable"].astype("boolean") if "meta_billable" in m else None
    return pd.DataFrame({"category": category, "type": kind, "pricing_model": model, "billable": billable},
                        index=m.index)


def _mismatch(reason: str, rows: np.ndarray, waconv: pd.Series, meta: pd.Series) -> pd.DataFrame:
    return pd.DataFrame({"row": rows, "reason": reason,
                         "waconv": waconv.astype(object).to_numpy(), "meta": meta.astype(object).to_numpy()})


def _field_disagreements(ours: pd.DataFrame, theirs: pd.DataFrame) -> list[pd.DataFrame]:
    found = []
    for reason, waconv_column in (("category", "pricing_category"), ("type", "pricing_type"),
                                  ("pricing_model", "pricing_model")):
        meta = theirs[reason]
        if meta is None or meta.isna().all():
            continue
        waconv = ours[waconv_column].astype(object)
        differ = meta.notna().to_numpy() & (waconv.to_numpy() != meta.astype(object).to_numpy())
        found.append(_mismatch(reason, ours.index[differ].to_numpy(), waconv[differ], meta[differ]))
    if theirs["billable"] is not None:
        pmp = (ours["pricing_model"].astype(object) == "PMP").to_numpy()
        known = theirs["billable"].notna().to_numpy()
        waconv = ours["billable"].to_numpy(dtype=bool)
        meta = theirs["billable"].fillna(False).to_numpy(dtype=bool)
        differ = pmp & known & (waconv != meta)
        found.append(_mismatch("billable", ours.index[differ].to_numpy(),
                               ours["billable"][differ], theirs["billable"][differ]))
    return found


def _grouping(ours: pd.DataFrame) -> tuple[pd.DataFrame, list[pd.DataFrame]]:
    """Split and merged conversations among CBP-priced messages carrying both ids."""
    pairs = ours.loc[
        (ours["pricing_model"].astype(object) == "CBP").to_numpy()
        & ours["conversation_id"].notna().to_numpy()
        & ours["meta_conversation_id"].notna().to_numpy(),
        ["conversation_id", "meta_conversation_id"],
    ]
    tables, found = [], []
    for kind, key, other, reason in (
        ("split", "meta_conversation_id", "conversation_id", "conversation_split"),
        ("merged", "conversation_id", "meta_conversation_id", "conversation_merged"),
    ):
        counts = pairs.groupby(key, sort=True)[other].agg(["nunique", "size"])
        counts = counts[counts["nunique"] > 1]
        tables.append(pd.DataFrame({"kind": kind, key: counts.index.to_numpy(),
                                    "counterparts": counts["nunique"].to_numpy(),
                                    "messages": counts["size"].to_numpy()}))
        involved = pairs[pairs[key].isin(counts.index)]
        found.append(_mismatch(reason, involved.index.to_numpy(), involved["conversation_id"],
                               involved["meta_conversation_id"]))
    grouping = pd.concat(tables, ignore_index=True)
    grouping = grouping.reindex(columns=["kind", "conversation_id", "meta_conversation_id", "counterparts", "messages"])
    grouping["conversation_id"] = grouping["conversation_id"].astype("Int64")
    return grouping, found


def reconcile(result: Tables) -> Reconciliation:
    """Compare a result of :func:`waconv.classify` on :func:`waconv.read_webhooks` output with
    the verdict Meta sent in those webhooks. See the module documentation for reason codes."""
    m = result.messages
    if not any(column in m.columns for column in META_COLUMNS):
        raise InputError("meta_pricing_category", None,
                         "reconcile needs Meta's verdict: classify the output of waconv.read_webhooks")
    if "meta_conversation_id" not in m.columns:
        m = m.assign(meta_conversation_id=None)
    delivered = (m["direction"].astype(object) == "outbound").to_numpy() & ~m["duplicate"].to_numpy(dtype=bool)
    delivered &= m["pricing_category"].notna().to_numpy()
    theirs_all = _meta_verdict(m)
    reported = theirs_all["category"].notna().to_numpy() | theirs_all["type"].notna().to_numpy()
    compared = delivered & reported
    positions = np.flatnonzero(compared)
    ours = m.iloc[positions].set_axis(positions)
    theirs = theirs_all.iloc[positions].set_axis(positions)

    found = _field_disagreements(ours, theirs)
    grouping, grouping_found = _grouping(ours)
    disagreements = pd.concat(found + grouping_found, ignore_index=True)
    disagreements["reason"] = pd.Categorical(disagreements["reason"], categories=REASONS)
    disagreements = disagreements.sort_values(["row", "reason"], kind="stable").reset_index(drop=True)
    rows = disagreements["row"].to_numpy(dtype=np.int64)
    disagreements.insert(1, "message_id", m["message_id"].to_numpy()[rows] if "message_id" in m else None)
    disagreements.insert(2, "era", m["era"].to_numpy()[rows])
    disagreements["conversation_id"] = m["conversation_id"].to_numpy()[rows]
    disagreements["meta_conversation_id"] = m["meta_conversation_id"].to_numpy()[rows]

    agreeing = ~np.isin(positions, rows)
    summary = (
        pd.DataFrame({"era": ours["era"].astype(object).to_numpy(),
                      "category": ours["pricing_category"].astype(object).to_numpy(),
                      "agreeing": agreeing})
        .groupby(["era", "category"], sort=True)["agreeing"].agg(compared="size", agreeing="sum")
        .reset_index()
    )
    summary["agreement"] = summary["agreeing"] / summary["compared"]
    return Reconciliation(
        disagreements=disagreements,
        summary=summary,
        grouping=grouping,
        compared=int(compared.sum()),
        not_reported=int((delivered & ~reported).sum()),
    )
