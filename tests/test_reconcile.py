"""reconcile: zero disagreements on Meta columns written from waconv's own verdict, and the
right reason codes on deliberately altered ones."""

from __future__ import annotations

import copy
import json
import warnings
from pathlib import Path

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


# ---- SPEC §10: every message Meta priced is accounted for, on Meta's own payloads -------------

META = Path(__file__).resolve().parent / "fixtures" / "meta"  # copies of Meta's examples (SOURCES.md)
STATUS_TEMPLATE = "pmp_status_delivered_phone_and_bsuid_meta.json"
BR_USER = "5511987654321"  # not a US number: the US marketing pause does not apply
PMP_DAY = int(pd.Timestamp("2026-03-02", tz="UTC").timestamp())


def delivered_status(pricing: dict, when: int, message_id: str, user: str = BR_USER) -> dict:
    """Meta's delivered-status example carrying another pricing object (Meta shows some of its
    pricing objects bare, outside any webhook)."""
    payload = json.loads((META / STATUS_TEMPLATE).read_text())
    value = payload["entry"][0]["changes"][0]["value"]
    value.pop("contacts")
    item = value["statuses"][0]
    for key in ("recipient_user_id", "recipient_parent_user_id"):
        item.pop(key)
    item.update(id=message_id, timestamp=str(when), recipient_id=user, pricing=pricing)
    return payload


def bare_pricing_objects(name: str) -> list[dict]:
    document = json.loads((META / name).read_text())
    return [document["pricing"]] if "pricing" in document else [v["pricing"] for v in document.values()]


def payloads_of(name: str) -> list[dict]:
    if name.startswith("pmp_pricing_") or name.startswith("pmp_groups_"):
        return [delivered_status(pricing, PMP_DAY + 60 * i, f"wamid.{name}.{i}")
                for i, pricing in enumerate(bare_pricing_objects(name))]
    return [json.loads((META / name).read_text())]


def priced_ids(payloads: list[dict]) -> set[str]:
    """Message ids of the statuses carrying a pricing or conversation object, from the raw JSON."""
    found = set()

    def walk(node):
        if isinstance(node, dict):
            for item in node.get("statuses", []) or []:
                if item.get("pricing") or item.get("conversation"):
                    found.add(item["id"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(payloads)
    return found


def reconciled(payloads: list[dict]) -> tuple[waconv.Result, waconv.Reconciliation]:
    events = waconv.read_webhooks(payloads)
    if events["business"].isna().any():  # a bare value object (older docs, BSP captures) has no metadata
        events = events.assign(business="106540352242922", waba="102290129340398")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", waconv.WaconvWarning)
        result = waconv.classify(events)
    return result, reconcile(result)


WEBHOOK_FILES = sorted(p.name for p in META.glob("*.json")
                       if not p.name.startswith(("analytics_", "auth_", "account_update")))


def test_the_payload_list_covers_every_verdict_shape():
    assert len(WEBHOOK_FILES) == 16
    priced = [name for name in WEBHOOK_FILES if priced_ids(payloads_of(name))]
    assert len(priced) == 13  # all but the v24 status without objects, the failed status, the inbound message


@pytest.mark.parametrize("name", WEBHOOK_FILES)
def test_every_message_meta_priced_is_compared_or_listed(name):
    payloads = payloads_of(name)
    result, outcome = reconciled(payloads)
    priced = priced_ids(payloads)
    assert outcome.meta_priced == len(priced)
    assert outcome.compared + sum(outcome.not_compared.values()) == len(priced)
    listed = outcome.disagreements[outcome.disagreements.reason.isin(["missing", "duplicate", "delivery",
                                                                      "unknown_category"])]
    assert listed["row"].is_unique  # one reason per message not compared
    compared_ids = set(result.messages.message_id) & priced - set(listed.message_id)
    assert len(compared_ids) == outcome.compared and set(listed.message_id) | compared_ids == priced
    assert outcome.summary["meta_priced"].sum() == len(priced)
    assert outcome.summary["compared"].sum() == outcome.compared
    text = repr(outcome)
    if outcome.compared == 0:
        assert np.isnan(outcome.agreement) and "nothing to agree on" in text and "%" not in text
        assert "nothing compared" in outcome._repr_html_()
    assert f"{outcome.compared:,} of {len(priced):,} Meta-priced messages compared" in text


def test_a_priced_message_waconv_saw_undelivered_is_a_delivery_disagreement_not_an_agreement():
    # Meta's v23 example: a `sent` status with pricing, and nothing after it in the log.
    result, outcome = reconciled(payloads_of("pmp_v23_status_sent_marketing_with_conversation_meta.json"))
    assert outcome.compared == 0 and outcome.meta_priced == 1
    assert not (outcome.agreement == 1.0) and "100.00%" not in repr(outcome)
    assert "0 of 1 Meta-priced messages compared: nothing to agree on; not compared: 1 delivery" in repr(outcome)
    row = only_row(outcome.disagreements)
    assert (row.reason, row.waconv, row.meta) == ("delivery", "undelivered", "marketing")
    assert outcome.summary[["category", "meta_priced", "compared", "delivery"]].values.tolist() == [["marketing", 1, 0, 1]]
    assert outcome.summary["agreement"].isna().all()


def only_row(frame: pd.DataFrame) -> pd.Series:
    assert len(frame) == 1, frame
    return frame.iloc[0]


def test_a_marketing_message_the_us_pause_withheld_is_a_delivery_disagreement():
    # Meta's delivered marketing status to a US number in June 2025, during the US pause.
    result, outcome = reconciled(payloads_of(STATUS_TEMPLATE))
    assert result.messages["us_marketing_paused"].all()
    row = only_row(outcome.disagreements)
    assert (row.reason, row.waconv, row.meta) == ("delivery", "us_marketing_paused", "marketing")


def test_unknown_meta_categories_are_kept_and_listed_not_compared():
    pricing = [
        {"billable": True, "pricing_model": "PMP", "type": "regular", "category": "general_purpose_ai"},
        {"billable": True, "pricing_model": "PMP", "type": "regular", "category": "group_marketing"},
        {"billable": False, "pricing_model": "PMP", "type": "free_group_customer_service", "category": "group_service"},
        {"billable": True, "pricing_model": "PMP", "type": "regular", "category": "business_agent"},  # a future value
        {"billable": True, "pricing_model": "PMP", "type": "regular", "category": "authentication-international"},
        {"billable": True, "pricing_model": "PMP", "type": "regular", "category": "AUTHENTICATION_INTERNATIONAL"},
    ]
    payloads = [delivered_status(p, PMP_DAY + 60 * i, f"w{i}", user="919876543210") for i, p in enumerate(pricing)]
    _result, outcome = reconciled(payloads)
    unknown = outcome.disagreements[outcome.disagreements.reason == "unknown_category"]
    assert dict(zip(unknown.message_id, unknown.meta)) == {
        "w0": "general_purpose_ai", "w1": "group_marketing", "w2": "group_service", "w3": "business_agent"}
    assert outcome.compared == 2  # authentication-international, spelled either way, is known
    assert outcome.not_compared == {"unknown_category": 4}
    assert "not compared: 4 unknown_category" in repr(outcome)
    assert outcome.summary["unknown_category"].sum() == 4


def test_an_unknown_pricing_type_alone_is_listed():
    status = delivered_status({"billable": False, "pricing_model": "PMP", "type": "free_group_customer_service",
                               "category": "utility"}, PMP_DAY, "w0")
    _result, outcome = reconciled([status])
    row = only_row(outcome.disagreements)
    assert (row.reason, row.meta) == ("unknown_category", "free_group_customer_service")


def test_metas_max_price_cost_is_compared():
    pricing = bare_pricing_objects("pmp_pricing_marketing_lite_max_price_with_cost_meta.json")[0]
    result, outcome = reconciled([delivered_status(pricing, PMP_DAY, "w0")])
    assert result.messages["meta_cost"].tolist() == [0.035]
    assert result.messages["meta_cost_currency"].tolist() == ["USD"]
    waconv_cost = float(result.messages["cost"].iloc[0])
    assert waconv_cost != 0.035  # waconv prices the list rate: Meta charged less than it
    row = only_row(outcome.disagreements)
    assert (row.reason, row.waconv, row.meta) == ("cost", waconv_cost, 0.035)
    assert outcome.costs_compared == 1 and "1 of Meta's costs compared" in repr(outcome)

    same = copy.deepcopy(pricing)
    same["cost"]["amount"] = waconv_cost
    _result, agreeing = reconciled([delivered_status(same, PMP_DAY, "w0")])
    assert agreeing.disagreements.empty and agreeing.agreement == 1.0 and agreeing.costs_compared == 1
    other = copy.deepcopy(same)
    other["cost"]["currency"] = "BRL"
    _result, currency = reconciled([delivered_status(other, PMP_DAY, "w0")])
    row = only_row(currency.disagreements)
    assert (row.reason, row.waconv, row.meta) == ("currency", "USD", "BRL")


def test_meta_cost_is_read_alike_by_both_webhook_paths(tmp_path):
    pricing = bare_pricing_objects("pmp_pricing_marketing_lite_max_price_with_cost_meta.json")[0]
    payloads = [delivered_status(pricing, PMP_DAY, "w0"), delivered_status({**pricing, "cost": {"amount": 1}}, PMP_DAY, "w1")]
    path = tmp_path / "dump.jsonl"
    path.write_text("".join(json.dumps(p) + "\n" for p in payloads))
    from waconv.io.webhooks.columns import read_columns

    assert read_columns(path) is not None  # the Arrow path reads it
    fast = waconv.read_webhooks(path)
    pd.testing.assert_frame_equal(fast, waconv.read_webhooks(payloads))
    assert fast["meta_cost"].tolist() == [0.035, 1.0]
    assert fast["meta_cost_currency"].iloc[0] == "USD" and pd.isna(fast["meta_cost_currency"].iloc[1])


@pytest.mark.parametrize("cost, field", [("0.035", "pricing.cost.amount"), (-1, "pricing.cost.amount"),
                                         (True, "pricing.cost.amount"), ("USD", "pricing.cost")])
def test_a_malformed_meta_cost_is_an_input_error_naming_the_field(cost, field, tmp_path):
    pricing = {"billable": True, "pricing_model": "PMP", "type": "regular", "category": "marketing"}
    pricing["cost"] = cost if field == "pricing.cost" else {"amount": cost, "currency": "USD"}
    payload = delivered_status(pricing, PMP_DAY, "w0")
    path = tmp_path / "dump.jsonl"
    path.write_text(json.dumps(payload) + "\n")
    for source in (path, [payload]):
        with pytest.raises(waconv.InputError, match=field.replace(".", r"\.")) as error:
            waconv.read_webhooks(source)
        assert "statuses[0]." + field in str(error.value)


def test_a_verdict_on_a_row_that_is_no_delivered_business_message_is_missing_or_duplicate():
    """Tables built other than by read_webhooks (a database export joining statuses to rows by
    id) can put Meta's verdict on an inbound row, or on a repeated row."""
    payloads = payloads_of("inbound_text_message_ctwa_referral_meta.json")
    pricing = {"billable": True, "pricing_model": "PMP", "type": "regular", "category": "utility"}
    payloads.append(delivered_status(pricing, 1_750_276_000, "wamid.out", user="16505551234"))
    events = waconv.read_webhooks(payloads)
    inbound = events.index[events.direction == "inbound"][0]
    outbound = events.index[events.direction == "outbound"][0]
    for column in ("meta_pricing_model", "meta_pricing_category", "meta_pricing_type", "meta_billable"):
        events.loc[inbound, column] = events.loc[outbound, column]
    events = pd.concat([events, events.loc[[outbound]]], ignore_index=True)  # a repeated row, verdict and all
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", waconv.WaconvWarning)
        result = waconv.classify(events)
    outcome = reconcile(result)
    listed = outcome.disagreements.set_index("row")
    assert listed.loc[inbound, "reason"] == "missing" and listed.loc[inbound, "waconv"] == "inbound"
    assert listed.loc[len(events) - 1, "reason"] == "duplicate"
    assert outcome.meta_priced == 3 and outcome.compared == 1
    assert outcome.not_compared == {"missing": 1, "duplicate": 1}
