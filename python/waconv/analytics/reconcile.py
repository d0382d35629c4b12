"""waconv.reconcile: waconv's reconstruction against what Meta reported, message by message.

Meta's verdict travels in the webhooks' ``conversation`` and ``pricing`` objects, which
:func:`waconv.read_webhooks` keeps as ``meta_*`` columns; :func:`waconv.classify` carries
them through to ``result.messages``. Every row carrying a verdict (any non-null ``meta_*``
column of ``VERDICT_COLUMNS``) is accounted for, exactly once: compared, or listed in
``disagreements`` with the reason it could not be compared. So nothing Meta priced goes
unaccounted, and ``compared + sum(not_compared.values()) == meta_priced``.

Compared: delivered, non-duplicate business messages waconv priced, whose Meta category and
type are ones waconv knows. Reason codes of a compared message, one row per reason:

- ``category``: pricing categories differ after the known spelling variants are unified
  (``customer_initiated`` = ``user_initiated``, ``authentication-international`` =
  ``authentication_international``, any case, and a free entry point is one whether Meta
  calls its category ``referral_conversion`` or ``service`` with type ``free_entry_point``);
- ``type``: pricing types differ, where Meta sent one (CBP-era webhooks had none; only a
  ``referral_conversion`` origin implies ``free_entry_point`` there);
- ``pricing_model``: ``CBP``/``PMP`` differ;
- ``billable``: under PMP only. Under CBP Meta's ``billable`` was also true for free-tier
  and some free service conversations (docs/rules.md §Output columns), so it says nothing about the charge;
- ``cost``: Meta's ``pricing.cost.amount`` (``meta_cost``: max-price marketing messages)
  differs from the row's ``cost`` (by more than 1e-9), where Meta sent one;
- ``currency``: Meta's ``pricing.cost.currency`` differs from the row's ``currency``;
- ``conversation_split``: one Meta conversation id spread over several waconv conversations;
- ``conversation_merged``: one waconv conversation holding several Meta conversation ids.
  Grouping is compared for CBP-priced messages only: from 2025-07-01 Meta gives every
  message its own conversation id, which is expected and never reported.

Not compared, one row per message (``not_compared`` counts them):

- ``missing``: Meta priced a message id that has no business row here: the verdict sits on
  an inbound row (:func:`waconv.read_webhooks` makes an outbound row of every status, so
  this comes from tables built otherwise);
- ``duplicate``: the verdict sits on a row classify dropped as a repeat of an earlier one;
- ``delivery``: the log says the message was not delivered (``waconv`` is ``undelivered``),
  or the US marketing pause withheld it (``us_marketing_paused``), while Meta priced it
  (Meta attaches pricing to ``sent`` statuses too);
- ``unknown_category``: Meta's category or type is one waconv does not price
  (``general_purpose_ai`` of AI Providers, the Groups API's ``group_*`` and
  ``free_group_customer_service``, Meta Business Agent values, ...): kept, not compared.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from waconv import _core
from waconv._errors import InputError
from waconv.analytics import html

if TYPE_CHECKING:  # pragma: no cover
    from waconv.engine.tables import Tables

META_COLUMNS = ("meta_pricing_category", "meta_conversation_origin")
# The columns of Meta's verdict: a row with any of them non-null is a message Meta priced.
VERDICT_COLUMNS = ("meta_pricing_model", "meta_pricing_category", "meta_pricing_type", "meta_billable",
                   "meta_cost", "meta_cost_currency", "meta_conversation_id", "meta_conversation_origin")
_SPELLINGS = {"customer_initiated": "user_initiated"}
FEP = "referral_conversion"
KNOWN_CATEGORIES = frozenset(c for c in _core.PRICING_CATEGORIES if c)
KNOWN_TYPES = frozenset(t for t in _core.PRICING_TYPES if t)
COMPARED_REASONS = ("category", "type", "pricing_model", "billable", "cost", "currency",
                    "conversation_split", "conversation_merged")
LISTED_REASONS = ("missing", "duplicate", "delivery", "unknown_category")
REASONS = COMPARED_REASONS + LISTED_REASONS
COST_TOLERANCE = 1e-9


@dataclass
class Reconciliation:
    """The outcome of :func:`reconcile`.

    disagreements: one row per (message, reason): ``row`` (position in result.messages),
    ``message_id``, ``era``, ``reason``, ``waconv``, ``meta``, ``conversation_id``,
    ``meta_conversation_id``; the compared messages' disagreements and the messages that
    could not be compared (reasons ``missing``, ``duplicate``, ``delivery``,
    ``unknown_category``: see the module documentation).
    summary: per era and category (waconv's, or Meta's for a message waconv did not price):
    ``meta_priced``, ``compared``, ``agreeing``, ``agreement`` (NaN where none compared),
    and the messages not compared, per reason.
    grouping: split and merged conversations: ``kind``, ``conversation_id`` (waconv, for
    merged) or ``meta_conversation_id`` (for split), ``counterparts`` (how many of the other
    side's conversations it touches), ``messages``.
    compared: messages compared. meta_priced: rows carrying Meta's verdict.
    not_reported: delivered business messages Meta sent no pricing for (not compared).
    costs_compared: compared messages whose cost Meta sent (``meta_cost``) and waconv priced.
    notes: what could not be checked and why.
    """

    disagreements: pd.DataFrame
    summary: pd.DataFrame
    grouping: pd.DataFrame
    compared: int
    not_reported: int
    meta_priced: int = 0
    costs_compared: int = 0
    notes: list[str] = field(default_factory=list)

    @property
    def not_compared(self) -> dict[str, int]:
        """Messages Meta priced that could not be compared, per reason (reasons with none left out)."""
        counts = self.disagreements["reason"].value_counts()
        return {reason: int(counts[reason]) for reason in LISTED_REASONS if counts.get(reason, 0)}

    @property
    def agreement(self) -> float:
        """Share of compared messages with no disagreement at all; NaN when none was compared
        (nothing to agree on is not an agreement)."""
        if self.compared == 0:
            return math.nan
        compared = self.disagreements["reason"].isin(COMPARED_REASONS).to_numpy()
        return 1.0 - self.disagreements["row"][compared].nunique() / self.compared

    def _reasons(self, reasons: tuple[str, ...], template: str) -> list[str]:
        counts = self.disagreements["reason"].value_counts()
        return [template.format(reason=reason, n=int(counts[reason])) for reason in reasons if counts.get(reason, 0)]

    def __repr__(self) -> str:
        if self.compared:
            head = f"{self.compared:,} of {self.meta_priced:,} Meta-priced messages compared, {self.agreement:.2%} agree"
            head += "; disagreements: " + (", ".join(self._reasons(COMPARED_REASONS, "{n:,} {reason}")) or "none")
        else:
            head = f"0 of {self.meta_priced:,} Meta-priced messages compared: nothing to agree on"
        listed = self._reasons(LISTED_REASONS, "{n:,} {reason}")
        head += "; not compared: " + ", ".join(listed) if listed else ""
        if self.costs_compared:
            head += f"; {self.costs_compared:,} of Meta's costs compared"
        return (f"<waconv.Reconciliation: {head}; {self.not_reported:,} delivered messages without Meta pricing"
                + "".join(f"; {note}" for note in self.notes) + ">")

    def _repr_html_(self) -> str:
        """What a notebook shows: the counts, the agreement per era and category (a short
        table: eras x categories) and the first disagreements and split/merged conversations."""
        reasons = ", ".join(html.escape(r) for r in self._reasons(COMPARED_REASONS, "{reason}: {n:,}")) or "none"
        listed = ", ".join(html.escape(r) for r in self._reasons(LISTED_REASONS, "{reason}: {n:,}")) or "none"
        eras = ", ".join(html.escape(e) for e in pd.unique(self.summary["era"].dropna())) or "none"
        compared_rows = self.disagreements["row"][self.disagreements["reason"].isin(COMPARED_REASONS).to_numpy()]
        facts = html.facts([
            ("compared", f"{self.compared:,} delivered business messages Meta priced (of {self.meta_priced:,} "
                         "messages carrying Meta's verdict)"),
            ("agreement", f"{self.agreement:.2%}" if self.compared else "none: nothing compared, nothing to agree on"),
            ("disagreements", f"{compared_rows.nunique():,} messages ({reasons})"),
            ("not compared", f"{sum(self.not_compared.values()):,} messages Meta priced ({listed})"),
            ("not reported", f"{self.not_reported:,} delivered messages without Meta pricing"),
            *((("notes", html.escape("; ".join(self.notes))),) if self.notes else ()),
            ("eras", eras),
        ])
        return html.block(
            "waconv.Reconciliation", facts,
            html.head("summary", self.summary, 40, open_=True),  # at most 4 eras x 9 categories
            html.head("disagreements", self.disagreements, 10), html.head("grouping", self.grouping),
        )


def _text(series: pd.Series) -> pd.Series:
    """Meta's strings, lower-cased, spellings unified (``-`` read as ``_``), missing as None."""
    values = series.astype("string").str.strip().str.lower().str.replace("-", "_", regex=False)
    return values.replace(_SPELLINGS).astype(object).where(values.notna(), None)


def _none(m: pd.DataFrame) -> pd.Series:
    return pd.Series(None, index=m.index, dtype=object)


def _meta_verdict(m: pd.DataFrame) -> pd.DataFrame:
    category = _text(m["meta_pricing_category"]) if "meta_pricing_category" in m else _none(m)
    if "meta_conversation_origin" in m:
        category = category.where(category.notna(), _text(m["meta_conversation_origin"]))
    kind = _text(m["meta_pricing_type"]) if "meta_pricing_type" in m else _none(m)
    unknown = (category.notna() & ~category.isin(KNOWN_CATEGORIES)) | (kind.notna() & ~kind.isin(KNOWN_TYPES))
    raw = category.where(category.notna() & ~category.isin(KNOWN_CATEGORIES), kind)  # what waconv does not know
    fep = (kind == "free_entry_point") | (category == FEP)
    category = category.mask(fep, FEP)
    kind = kind.mask(fep, "free_entry_point")
    model = m["meta_pricing_model"].astype("string").str.strip().str.upper() if "meta_pricing_model" in m else None
    billable = m["meta_billable"].astype("boolean") if "meta_billable" in m else None
    return pd.DataFrame({"category": category, "type": kind, "pricing_model": model, "billable": billable,
                         "unknown": unknown.to_numpy(dtype=bool), "unknown_value": raw}, index=m.index)


def _mismatch(reason: str, rows: np.ndarray, waconv: pd.Series | np.ndarray, meta: pd.Series | np.ndarray) -> pd.DataFrame:
    def values(v):
        return v.astype(object).to_numpy() if isinstance(v, pd.Series) else np.asarray(v, dtype=object)
    return pd.DataFrame({"row": np.asarray(rows, dtype=np.int64), "reason": reason,
                         "waconv": values(waconv), "meta": values(meta)})


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
    if theirs["billable"] is not None and theirs["billable"].notna().any():
        pmp = (ours["pricing_model"].astype(object) == "PMP").to_numpy()
        known = theirs["billable"].notna().to_numpy()
        waconv = ours["billable"].to_numpy(dtype=bool)
        meta = theirs["billable"].fillna(False).to_numpy(dtype=bool)
        differ = pmp & known & (waconv != meta)
        found.append(_mismatch("billable", ours.index[differ].to_numpy(),
                               ours["billable"][differ], theirs["billable"][differ]))
    return found


def _cost_disagreements(ours: pd.DataFrame) -> tuple[list[pd.DataFrame], int]:
    """Meta's max-price costs against the rows' cost and currency."""
    if "meta_cost" not in ours.columns or "cost" not in ours.columns:
        return [], 0
    meta = pd.to_numeric(ours["meta_cost"], errors="coerce").to_numpy(dtype=np.float64)
    known = ~np.isnan(meta)
    waconv = ours["cost"].to_numpy(dtype=np.float64, na_value=np.nan)
    differ = known & ~(np.abs(waconv - meta) <= COST_TOLERANCE)  # a NaN cost (no rate) differs
    found = [_mismatch("cost", ours.index[differ].to_numpy(), waconv[differ], meta[differ])]
    if "meta_cost_currency" in ours.columns:
        theirs = ours["meta_cost_currency"].astype("string").str.strip().str.upper()
        mine = ours["currency"].astype("string").str.strip().str.upper() if "currency" in ours.columns \
            else pd.Series(pd.NA, index=ours.index, dtype="string")
        has = theirs.notna().to_numpy()
        other = has & ~(mine == theirs).fillna(False).to_numpy(dtype=bool)
        found.append(_mismatch("currency", ours.index[other].to_numpy(), mine[other], theirs[other]))
    return found, int(known.sum())


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


def _listed(m: pd.DataFrame, theirs: pd.DataFrame, masks: dict[str, np.ndarray]) -> list[pd.DataFrame]:
    """The rows Meta priced that cannot be compared, with what each side says."""
    label = theirs["category"].astype(object)
    for column in ("type", "pricing_model"):
        if theirs[column] is not None:
            label = label.where(label.notna(), theirs[column].astype(object))
    label = label.where(label.notna(), "priced")
    direction = m["direction"].astype(object)
    paused = m["us_marketing_paused"].to_numpy(dtype=bool) if "us_marketing_paused" in m else np.zeros(len(m), bool)
    says = {
        "missing": direction.where(direction.notna(), "no direction").to_numpy(dtype=object),
        "duplicate": np.full(len(m), "duplicate", dtype=object),
        "delivery": np.where(paused, "us_marketing_paused", "undelivered").astype(object),
        "unknown_category": m["pricing_category"].astype(object).to_numpy(),
    }
    meta = {"unknown_category": theirs["unknown_value"].astype(object).to_numpy()}
    found = []
    for reason in LISTED_REASONS:
        rows = np.flatnonzero(masks[reason])
        found.append(_mismatch(reason, rows, says[reason][rows], meta.get(reason, label.to_numpy())[rows]))
    return found


def reconcile(result: Tables) -> Reconciliation:
    """Compare a result of :func:`waconv.classify` on :func:`waconv.read_webhooks` output with
    the verdict Meta sent in those webhooks; every message carrying Meta's verdict is
    compared or listed with the reason it could not be. See the module documentation for
    reason codes."""
    m = result.messages
    present = [column for column in VERDICT_COLUMNS if column in m.columns]
    if not any(column in m.columns for column in (*META_COLUMNS, "meta_pricing_type", "meta_pricing_model")):
        raise InputError("meta_pricing_category", None,
                         "reconcile needs Meta's verdict: classify the output of waconv.read_webhooks")
    if "meta_conversation_id" not in m.columns:
        m = m.assign(meta_conversation_id=None)
    verdict = np.zeros(len(m), dtype=bool)
    for column in present:
        verdict |= m[column].notna().to_numpy()
    outbound = (m["direction"].astype(object) == "outbound").to_numpy()
    duplicate = m["duplicate"].to_numpy(dtype=bool)
    priced = m["pricing_category"].notna().to_numpy()
    theirs_all = _meta_verdict(m)
    unknown = theirs_all["unknown"].to_numpy()
    masks = {
        "missing": verdict & ~outbound,
        "duplicate": verdict & outbound & duplicate,
        "delivery": verdict & outbound & ~duplicate & ~priced,
        "unknown_category": verdict & outbound & ~duplicate & priced & unknown,
    }
    compared = verdict & outbound & ~duplicate & priced & ~unknown
    positions = np.flatnonzero(compared)
    ours = m.iloc[positions].set_axis(positions)
    theirs = theirs_all.iloc[positions].set_axis(positions)

    found = _field_disagreements(ours, theirs)
    costs, costs_compared = _cost_disagreements(ours)
    grouping, grouping_found = _grouping(ours)
    disagreements = pd.concat(found + costs + grouping_found + _listed(m, theirs_all, masks), ignore_index=True)
    disagreements["reason"] = pd.Categorical(disagreements["reason"], categories=REASONS)
    disagreements = disagreements.sort_values(["row", "reason"], kind="stable").reset_index(drop=True)
    rows = disagreements["row"].to_numpy(dtype=np.int64)
    disagreements.insert(1, "message_id", m["message_id"].to_numpy()[rows] if "message_id" in m else None)
    disagreements.insert(2, "era", m["era"].to_numpy()[rows])
    disagreements["conversation_id"] = m["conversation_id"].to_numpy()[rows]
    disagreements["meta_conversation_id"] = m["meta_conversation_id"].to_numpy()[rows]

    notes = []
    if "meta_cost" in m.columns and "cost" not in m.columns and m["meta_cost"].notna().to_numpy()[compared].any():
        notes.append("Meta's costs not compared: the result is not priced (classify with price=True)")
    return Reconciliation(
        disagreements=disagreements,
        summary=_summary(m, theirs_all, compared, masks, disagreements),
        grouping=grouping,
        compared=int(compared.sum()),
        not_reported=int((outbound & ~duplicate & priced & ~verdict).sum()),
        meta_priced=int(verdict.sum()),
        costs_compared=costs_compared,
        notes=notes,
    )


def _summary(m: pd.DataFrame, theirs: pd.DataFrame, compared: np.ndarray, masks: dict[str, np.ndarray],
             disagreements: pd.DataFrame) -> pd.DataFrame:
    """Per era and category: Meta-priced, compared, agreeing, agreement, not compared per reason."""
    accounted = compared.copy()
    for mask in masks.values():
        accounted |= mask
    rows = np.flatnonzero(accounted)
    waconv = m["pricing_category"].astype(object).to_numpy()[rows]
    meta = theirs["category"].astype(object).to_numpy()[rows]
    category = np.where(pd.isna(waconv), meta, waconv)
    disagreeing = disagreements["row"][disagreements["reason"].isin(COMPARED_REASONS).to_numpy()].to_numpy()
    frame = pd.DataFrame({
        "era": m["era"].astype(object).to_numpy()[rows],
        "category": pd.Series(category, dtype=object).where(pd.notna(category), "unknown").to_numpy(),
        "meta_priced": 1,
        "compared": compared[rows],
        "agreeing": compared[rows] & ~np.isin(rows, disagreeing),
        **{reason: mask[rows] for reason, mask in masks.items()},
    })
    columns = ["meta_priced", "compared", "agreeing", *masks]
    summary = frame.groupby(["era", "category"], sort=True, dropna=False)[columns].sum().reset_index()
    summary[columns] = summary[columns].astype(np.int64)
    summary.insert(5, "agreement", summary["agreeing"] / summary["compared"].where(summary["compared"] > 0))
    return summary
