"""reconcile: zero disagreements on Meta columns written from waconv's own verdict, and the
right reason codes on deliberately altered ones."""

from __future__ import annotations

import copy
import warnings

import numpy as np
import pandas as pd
import pytest

import waconv
from waconv import reconcile
from waconv.examples import TIMEZONES as EXAMPLE_TIMEZONES, log as example_log

# What Meta's webhooks wrote for each waconv category (SPEC §7 spelling variants).
META_SPELLING = {"user_initiated": "customer_initiated",
                 "authentication_international": "authentication-international"}


@pytest.fixture(scope="module")
def classified():
    with pytest.warns(waconv.WaconvWarning):
        return waconv.classify(example_log(), timezones=EXAMPLE_TIMEZONES)


def as_meta_reported(result) -> pd.DataFrame:
    """The result's messages with meta_* columns saying exactly what waconv says, spelled as
    Meta spells it: CBP conversation ids shared by a conversation's messages, one id per
    message under PMP, FEP under PMP reported as category service + type free_entry_point."""
    m = result.messages.copy()
    category = m["pricing_category"].astype(object)
    kind = m["pricing_type"].astype(object)
    model = m["pricing_model"].astype(object)
    pmp_fep = (model == "PMP") & (category == "referral_conversion")
    meta_category = category.replace(META_SPELLING).mask(pmp_fep, "service")
    cbp = (model == "CBP") & m["conversation_id"].notna()
    conversation = np.where(cbp, "c" + m["conversation_id"].astype(str), "m" + pd.Series(np.arange(len(m))).astype(str))
    m["meta_pricing_category"] = meta_category.where(category.notna(), None)
    m["meta_conversation_origin"] = meta_category.where(category.notna(), None)
    m["meta_pricing_type"] = kind.where(model == "PMP", None)  # CBP-era webhooks had no type
    m["meta_pricing_model"] = model.where(category.notna(), None)
    # Meta's CBP billable is true for free-tier conversations; a faithful copy must not matter.
    m["meta_billable"] = pd.array(np.where(model == "CBP", True, m["billable"]), dtype="boolean")
    m.loc[category.isna(), "meta_billable"] = pd.NA
    m["meta_conversation_id"] = np.where(category.notna(), conversation, None)
    return m


def with_messages(result, messages):
    return waconv.Result(messages=messages, conversations=result.conversations, windows=result.windows)


def test_faithful_meta_columns_agree_everywhere(classified):
    outcome = reconcile(with_messages(classified, as_meta_reported(classified)))
    m = classified.messages
    priced = (m.direction == "outbound") & m.pricing_category.notna() & ~m.duplicate
    assert outcome.compared == int(priced.sum()) > 1000
    assert outcome.disagreements.empty
    assert outcome.grouping.empty
    assert outcome.agreement == 1.0
    assert set(outcome.summary.era) == {"cbp_v1", "cbp_v2", "pmp_v1", "pmp_v2"}
    assert (outcome.summary.agreement == 1.0).all()
    assert outcome.summary.compared.sum() == outcome.compared


def _first(mask: pd.Series) -> int:
    return int(np.flatnonzero(mask.to_numpy())[0])


def test_altered_meta_columns_give_the_reasons(classified):
    messages = as_meta_reported(classified)
    m = classified.messages
    category = m.pricing_category.astype(object)
    model = m.pricing_model.astype(object)
    marketing_pmp = _first((category == "marketing") & (model == "PMP") & ~m.duplicate)
    messages.loc[marketing_pmp, "meta_pricing_category"] = "utility"
    free_service = _first((m.pricing_type.astype(object) == "free_customer_service") & (model == "PMP") & ~m.duplicate)
    messages.loc[free_service, "meta_pricing_type"] = "regular"
    messages.loc[free_service, "meta_billable"] = True
    # Meta grouping two of waconv's CBP conversations under one id: a split on waconv's side.
    opened = m.index[m.opens_conversation & (model == "CBP") & (category == "marketing")]
    first, second = m.conversation_id[opened[0]], m.conversation_id[opened[1]]
    messages.loc[m.conversation_id == second, "meta_conversation_id"] = f"c{first}"
    # ... and one waconv conversation under two Meta ids: a merge on waconv's side.
    sizes = m[(model == "CBP") & m.conversation_id.notna() & ~m.duplicate].groupby("conversation_id").size()
    big = sizes[(sizes > 1) & ~sizes.index.isin([first, second])].index[0]
    last_row = m.index[(m.conversation_id == big) & ~m.duplicate][-1]
    messages.loc[last_row, "meta_conversation_id"] = "elsewhere"

    outcome = reconcile(with_messages(classified, messages))
    reasons = outcome.disagreements.groupby("reason", observed=True)["row"].apply(set).to_dict()
    assert reasons["category"] == {marketing_pmp}
    assert reasons["type"] == {free_service}
    assert reasons["billable"] == {free_service}
    split_rows = set(m.index[m.conversation_id.isin([first, second]) & ~m.duplicate])
    assert reasons["conversation_split"] == split_rows
    assert reasons["conversation_merged"] == set(m.index[(m.conversation_id == big) & ~m.duplicate])
    assert set(reasons) == {"category", "type", "billable", "conversation_split", "conversation_merged"}
    split = outcome.grouping[outcome.grouping.kind == "split"]
    assert split.meta_conversation_id.tolist() == [f"c{first}"] and split.counterparts.tolist() == [2]
    row = outcome.disagreements[outcome.disagreements.reason == "category"].iloc[0]
    assert (row.waconv, row.meta) == ("marketing", "utility")
    disagreeing = {marketing_pmp, free_service} | split_rows | set(m.index[m.conversation_id == big])
    assert outcome.agreement == pytest.approx(1 - len(disagreeing & set(outcome.disagreements.row)) / outcome.compared)


def test_cbp_billable_and_pmp_per_message_ids_are_not_disagreements(classified):
    messages = as_meta_reported(classified)
    cbp = messages.pricing_model.astype(object) == "CBP"
    messages.loc[cbp & messages.meta_billable.notna(), "meta_billable"] = False
    outcome = reconcile(with_messages(classified, messages))
    assert outcome.disagreements.empty


def test_spelling_variants_are_equal(classified):
    messages = as_meta_reported(classified)
    user_initiated = messages.pricing_category.astype(object) == "user_initiated"
    assert (messages.meta_pricing_category[user_initiated] == "customer_initiated").all() and user_initiated.any()
    messages.loc[user_initiated, "meta_pricing_category"] = "CUSTOMER_INITIATED"
    assert reconcile(with_messages(classified, messages)).disagreements.empty


def test_needs_meta_columns(classified):
    with pytest.raises(waconv.InputError, match="read_webhooks"):
        reconcile(classified)


# ---- end to end: synthetic traffic -> waconv's verdict as webhooks -> read back -> reconcile

@pytest.fixture(scope="module")
def webhook_round_trip():
    """A synthetic log over the 2025-07-01 switch, its webhooks carrying waconv's verdict."""
    events = waconv.synthetic.events(n_users=150, days=40, start="2025-06-10", seed=3, duplicate_rate=0)
    with pytest.warns(waconv.WaconvWarning):
        truth = waconv.classify(events)
    payloads = waconv.to_webhooks(truth)
    # The send log a business keeps: which template each message was (CBP webhooks cannot say).
    sends = dict(zip(events.message_id[events.direction == "outbound"],
                     events.template_category[events.direction == "outbound"]))
    return truth, payloads, sends


def _reconciled(payloads, sends):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", waconv.WaconvWarning)
        return reconcile(waconv.classify(waconv.read_webhooks(payloads, sends=sends)))


def test_webhooks_written_from_waconv_reconcile_without_disagreement(webhook_round_trip):
    truth, payloads, sends = webhook_round_trip
    outcome = _reconciled(payloads, sends)
    m = truth.messages
    assert outcome.compared == int(((m.direction == "outbound") & m.pricing_category.notna()).sum())
    assert outcome.disagreements.empty, outcome.disagreements.head()
    assert set(outcome.summary.era) == {"cbp_v2", "pmp_v1"}


def _status_with_pricing(payloads, model, category):
    for payload in payloads:
        for status in payload["entry"][0]["changes"][0]["value"].get("statuses", []):
            pricing = status.get("pricing", {})
            if pricing.get("pricing_model") == model and pricing.get("category") == category \
                    and status["status"] == "delivered":
                return status
    raise AssertionError(f"no delivered {model} {category} status")


def test_altered_webhooks_give_the_right_reason_codes(webhook_round_trip):
    _truth, payloads, sends = webhook_round_trip
    payloads = copy.deepcopy(payloads)
    marketing = _status_with_pricing(payloads, "PMP", "marketing")
    marketing["pricing"]["category"] = "utility"
    free = _status_with_pricing(payloads, "PMP", "service")
    free["pricing"].update(type="regular", billable=True)
    outcome = _reconciled(payloads, sends)
    found = {(row.message_id, row.reason) for row in outcome.disagreements.itertuples()}
    assert found == {(marketing["id"], "category"), (free["id"], "type"), (free["id"], "billable")}
