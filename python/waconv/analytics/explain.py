"""One message's charge in one sentence: `result.explain(message_id)` and `waconv explain`.

The sentence is built from the row's `charge_reason` (docs/rules.md §Charge reasons) and the
facts the result already holds: the row's times, the conversation or window it belongs to
(the conversations and windows tables), its era, market, rate card and rate. Nothing is
classified again; only the row's own times are read back through the engine's input
conversion, so that a text, epoch or status-only log gives the instants the rules used.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Hashable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from waconv import _core
from waconv._errors import InputError
from waconv.engine.canonical import NOT_DELIVERED, canonicalize, resolve_columns
from waconv.engine.tables import Tables

_MODEL = {
    "cbp_v1": "conversation-based pricing, cbp_v1",
    "cbp_v2": "conversation-based pricing by category, cbp_v2",
    "pmp_v1": "per-message pricing, pmp_v1",
    "pmp_v2": "per-message pricing, pmp_v2",
}
_WHAT = {
    "marketing": "marketing template",
    "utility": "utility template",
    "authentication": "authentication template",
    "marketing_lite": "marketing lite template",
    "": "non-template message",
}
_FREE = {"free_tier": "the monthly free tier", "free_customer_service": "a free service conversation",
         "free_entry_point": "a free entry point"}
_CATEGORY = {"user_initiated": "user-initiated", "business_initiated": "business-initiated",
             "authentication_international": "authentication-international", "marketing_lite": "marketing lite",
             "referral_conversion": "free entry point"}


def explain(result: Tables, message: Hashable | None = None, *, row: int | None = None) -> str:
    """The sentence for one message: by its message id (`message`), or by its position in
    `result.messages` (`row`, from 0; a positional `message` is a row too when the log has
    no message ids). An id that repeats is explained at its first row, and the sentence says
    which rows repeat it."""
    position, others = _find(result, message, row)
    facts = _Facts.of(result, position)
    return _SENTENCES[facts.reason](facts) + _repeats(result, facts.message_id, others)


def _repeats(result: Tables, message_id: Any, others: list[int]) -> str:
    """What to add when the explained id names other rows too: repeats (duplicates, free) or,
    rarely, a message of the other direction under the same id."""
    if not others:
        return ""
    duplicate = result.messages["duplicate"].to_numpy(dtype=bool)
    repeats = [str(k) for k in others if duplicate[k]]
    distinct = [str(k) for k in others if not duplicate[k]]
    parts = []
    if repeats:
        parts.append(f"rows {', '.join(repeats)} repeat it and cost nothing" if len(repeats) > 1
                     else f"row {repeats[0]} repeats it and costs nothing")
    if distinct:
        parts.append(f"rows {', '.join(distinct)} (the other direction) are other messages" if len(distinct) > 1
                     else f"row {distinct[0]} (the other direction) is another message")
    return f" Message id {message_id!r} appears {len(others) + 1} times in the log: {', '.join(parts)}."


def _find(result: Tables, message: Hashable | None, row: int | None) -> tuple[int, list[int]]:
    """(position of the row to explain, positions of the other rows with its message id)."""
    m = result.messages
    n = len(m)
    if (message is None) == (row is None):
        raise InputError("message_id", None, "give a message id or row=, not both or neither")
    id_column = _names(result).get("message_id")
    if row is None and id_column is None:
        row = message  # type: ignore[assignment]  # no ids: the argument is a position
    if row is not None:
        if isinstance(row, (bool, np.bool_)) or not isinstance(row, (int, np.integer)):
            raise InputError("row", None, f"expected a row number, got {row!r}")
        if not 0 <= row < n:
            raise InputError("row", int(row), f"out of range: the result has {n:,} messages (rows 0 to {n - 1:,})")
        return int(row), []
    ids = m[id_column]
    matches = np.flatnonzero((ids == message).fillna(False).to_numpy(dtype=bool)) if _comparable(ids, message) \
        else np.array([], dtype=np.int64)
    if len(matches) == 0:  # an id typed on the command line, or 12 for "12": compared as text
        text = ids.map(str, na_action="ignore")
        matches = np.flatnonzero((text == str(message)).fillna(False).to_numpy(dtype=bool))
    if len(matches) == 0:
        raise InputError(id_column, None, f"no message has id {message!r}")
    return int(matches[0]), [int(k) for k in matches[1:]]


def _comparable(ids: pd.Series, value: Any) -> bool:
    try:
        ids.iloc[:1] == value  # noqa: B015  # raises where pandas cannot compare the two
    except (TypeError, ValueError):
        return False
    return True


def _names(result: Tables) -> dict[str, str]:
    """Canonical column name -> the result's own, for the input columns it has."""
    return resolve_columns(result.messages, result.options.get("columns"))


@dataclass
class _Facts:
    """What one sentence may say about its row."""

    result: Tables
    row: int
    reason: str
    values: pd.Series  # the row of result.messages
    message_id: Any
    category: str      # the template category ("" for non-template, inbound)
    sent: pd.Timestamp
    delivered: pd.Timestamp | None
    zone: str          # the WABA's time zone
    waba: Any

    @classmethod
    def of(cls, result: Tables, row: int) -> _Facts:
        m = result.messages
        names = _names(result)
        with warnings.catch_warnings():  # unused zones, implausible numbers: said at classify time
            warnings.simplefilter("ignore")
            one = canonicalize(m.iloc[[row]], columns=result.options.get("columns"),
                               timezones=result.options.get("timezones"))
        delivered = int(one.delivered_at[0])
        outbound = int(one.direction[0]) == _core.DIRECTIONS.index("outbound")
        values = m.iloc[row]
        return cls(
            result=result, row=row, reason=str(values["charge_reason"]), values=values,
            message_id=values[names["message_id"]] if "message_id" in names else None,
            category=_core.TEMPLATE_CATEGORIES[int(one.template_category[0])] if outbound else "",
            sent=pd.Timestamp(int(one.timestamp[0]), tz="UTC"),
            delivered=pd.Timestamp(delivered, tz="UTC") if outbound and delivered != NOT_DELIVERED else None,
            zone=one.time_zones[0], waba=one.waba_values[0],
        )

    def get(self, column: str) -> Any:
        value = self.values.get(column)
        return None if value is None or (not isinstance(value, str) and pd.isna(value)) else value

    @property
    def what(self) -> str:
        return _WHAT.get(self.category, f"{self.category} template")

    @property
    def at(self) -> pd.Timestamp:
        """The row's effective time (docs/rules.md decision 1)."""
        return self.delivered if self.delivered is not None else self.sent

    @property
    def user(self) -> Any:
        return self.values["user_key"]

    @property
    def business(self) -> Any:
        return self.values[_names(self.result)["business"]]

    def month(self) -> str:
        return self.at.tz_convert(self.zone).strftime("%B %Y")

    def conversation(self) -> pd.Series | None:
        cid = self.get("conversation_id")
        return None if cid is None else self.result.conversations.iloc[int(cid)]

    def window(self, kind: str, at: pd.Timestamp) -> pd.Series | None:
        w = self.result.windows
        found = w[(w["kind"] == kind) & (w["business"] == self.business) & (w["user"] == self.user)
                  & (w["start"] <= at) & (at < w["end"])]
        return None if found.empty else found.iloc[0]

    def last_inbound(self) -> str:
        """The user's last message before this row, as a clue: which kinds of message open the
        window is an option (`csw_refreshing`), and a reaction may be one Meta did not count."""
        m, names = self.result.messages, _names(self.result)
        times = m[names["timestamp"]]
        if not pd.api.types.is_datetime64_any_dtype(times):  # epoch numbers: the clue is left out
            return ""
        if times.dt.tz is None:
            times = times.dt.tz_localize("UTC")
        mask = ((m[names["direction"]] == "inbound") & (m[names["business"]] == self.business)
                & (m["user_key"] == self.user) & (times <= self.at) & ~m["duplicate"]).to_numpy(dtype=bool)
        if not mask.any():
            return ""
        last = int(np.flatnonzero(mask)[np.argmax(times.to_numpy()[mask])])
        kind = m[names["message_type"]].iloc[last] if "message_type" in names else None
        kind = f"a {kind}" if isinstance(kind, str) else "a message"
        return f" (the user's last message before it: row {last}, {kind}, at {_when(times.iloc[last])})"

    def charge(self) -> str:
        cost, currency = self.get("cost"), self.get("currency")
        return f"{_money(cost)} {currency}" if cost is not None and currency else "an unknown amount"

    def terms(self, *, rate: bool = False, unit: str = "message") -> str:
        """The parenthesis: the era's model, the market, and for charges the card and rate."""
        era = str(self.values["era"])
        parts = [_MODEL[era]]
        if self.get("pricing_model") == "CBP" and era.startswith("pmp"):
            parts = [f"a conversation carried over the 2025-07-01 switch to per-message pricing, {era}"]
        if self.get("market") is not None:
            parts.append(str(self.get("market")))
        if rate and self.get("rate_card") is not None:
            parts.append(f"card {self.get('rate_card')}")
        if rate and self.get("rate") is not None:
            parts.append(f"rate {_money(self.get('rate'))} {self.get('currency')} per {unit}")
        if rate and self.get("tier") is not None:
            parts.append(f"volume tier {self.get('tier')}")
        if "cost" not in self.values.index:
            parts.append("not priced: classified with price=False")
        return "(" + ", ".join(parts) + ")"


def _money(value: float) -> str:
    if value is None or math.isnan(value):
        return "unknown"
    text = f"{value:.6f}".rstrip("0")
    whole, _, decimals = text.partition(".")
    return f"{whole}.{decimals.ljust(2, '0')}"


def _when(t: pd.Timestamp) -> str:
    t = t.tz_convert("UTC")
    return t.strftime("%Y-%m-%d %H:%M:%S UTC" if t.second or t.microsecond else "%Y-%m-%d %H:%M UTC")


def _span(start: pd.Timestamp, end: pd.Timestamp) -> str:
    return f"{_when(start)} to {_when(end)}"


def _conversation_words(c: pd.Series) -> str:
    category = str(c["category"])
    return f"{_CATEGORY.get(category, category)} conversation {int(c['conversation_id'])} ({_span(c['start'], c['end'])})"


def _inbound(f: _Facts) -> str:
    text = f"Free: message from {f.user} received {_when(f.sent)}; the business is never charged for what users send."
    names = _names(f.result)
    if "message_type" in names and f.get(names["message_type"]) == "system":
        return text + " It is a system notice (a changed number or id), which opens no customer service window."
    w = f.window("customer_service", f.sent)
    if w is not None:
        text += f" The customer service window it falls in runs {_span(w['start'], w['end'])}."
    if "referral" in names and bool(f.get(names["referral"])):
        text += " It came from an ad: the first reply sent within 24 hours opens a free entry point window."
    return text


def _duplicate(f: _Facts) -> str:
    names = _names(f.result)
    m = f.result.messages
    direction = names["direction"]
    same = np.flatnonzero(((m[names["message_id"]] == f.message_id) & (m[direction] == f.values[direction])).to_numpy())
    first = int(same[0])
    return (f"Free: a repeat of row {first} (message id {f.message_id!r}, {f.values[direction]}); webhooks "
            f"arrive at least once, so waconv counts the message once, at row {first}.")


def _status(f: _Facts) -> str:
    """What the log itself says of a send that was not delivered: its status and, from webhooks
    (read_webhooks' `error_code`), Meta's error, which may name another cause than the rules."""
    said = [f"status {f.get(_names(f.result).get('status', 'status'))}"] if f.get(
        _names(f.result).get("status", "status")) is not None else []
    if f.get("error_code") is not None:
        said.append(f"error {f.get('error_code')}")
    return f" (the log says: {', '.join(said)})" if said else ""


def _undelivered(f: _Facts) -> str:
    return (f"Free: {f.what} sent {_when(f.sent)} was never delivered{_status(f)}, so it is not charged and opens "
            f"nothing {f.terms()}.")


def _policy_violation(f: _Facts) -> str:
    return (f"Free: {f.what} sent {_when(f.sent)} outside any customer service window was never delivered"
            f"{_status(f)}: Meta rejects non-template messages outside the window (error 131047) {f.terms()}.")


def _us_marketing_pause(f: _Facts) -> str:
    return (f"Free: {f.what} sent {_when(f.sent)} to the US number {f.user}: Meta has not delivered marketing "
            f"templates to US numbers since 2025-04-01 (error 131049), whatever the log says {f.terms()}.")


def _opened(f: _Facts, c: pd.Series) -> str:
    if f.delivered is None:  # failed_freeform_opens_conversation
        return (f"{f.what} sent {_when(f.sent)}, never delivered, opened {_conversation_words(c)} because the user "
                f"wrote within 24 hours (option failed_freeform_opens_conversation)")
    return f"{f.what} delivered {_when(f.at)} opened {_conversation_words(c)}"


def _opened_conversation(f: _Facts) -> str:
    c = f.conversation()
    assert c is not None  # an opening row belongs to its conversation
    return f"Charged {f.charge()}: {_opened(f, c)} {f.terms(rate=True, unit='conversation')}."


def _joined_conversation(f: _Facts) -> str:
    c = f.conversation()
    assert c is not None
    opener = int(c["opened_by"])
    if c["pricing_type"] == "regular":
        cost = c.get("cost")
        paid = f" of {_money(cost)} {c.get('currency')}" if cost is not None and not pd.isna(cost) else ""
        carried = f"whose charge{paid} is on row {opener}, which opened it"
    else:
        carried = f"which is free ({_FREE[str(c['pricing_type'])]}) and was opened by row {opener}"
    return f"Free: {f.what} delivered {_when(f.at)} joined {_conversation_words(c)}, {carried} {f.terms()}."


def _free_tier(f: _Facts) -> str:
    c = f.conversation()
    assert c is not None
    n = f.result.options.get("free_tier_conversations", 1000)
    return (f"Free: {_opened(f, c)}, one of the first {n:,} eligible conversations of WABA {f.waba} in {f.month()}: "
            f"the monthly free tier {f.terms()}.")


def _free_service(f: _Facts) -> str:
    c = f.conversation()
    if c is not None:
        return f"Free: {_opened(f, c)}; service conversations are free from 2024-11-01 {f.terms()}."
    return (f"Free: {f.what} delivered {_when(f.at)} is a service message, free under per-message pricing "
            f"until 2026-10-01 {f.terms()}.")


def _customer_service_window(f: _Facts) -> str:
    w = f.window("customer_service", f.at)
    inside = f" {_span(w['start'], w['end'])}" if w is not None else ""
    return (f"Free: {f.what} delivered {_when(f.at)} inside the customer service window{inside}{f.last_inbound()}, "
            f"where utility templates are free until 2026-10-01 {f.terms()}.")


def _service_allowance(f: _Facts) -> str:
    n = f.result.options.get("service_free_allowance", 1000)
    return (f"Free: {f.what} delivered {_when(f.at)}, one of the first {n:,} service messages of business phone "
            f"{f.business} in {f.month()}: the monthly service allowance {f.terms()}.")


def _free_entry_point(f: _Facts) -> str:
    c = f.conversation()
    assert c is not None
    pmp = str(f.values["era"]).startswith("pmp")
    when = f"sent {_when(f.sent)}" if pmp or f.delivered is None else f"delivered {_when(f.at)}"
    hours = int((c["end"] - c["start"]) / pd.Timedelta(hours=1))
    role = "opened" if int(c["opened_by"]) == f.row else "was inside"
    return (f"Free: {f.what} {when} {role} the free entry point window {_span(c['start'], c['end'])} "
            f"(conversation {int(c['conversation_id'])}), which the first reply to a user who came from an ad "
            f"opens for {hours} hours {f.terms()}.")


def _charged_message(f: _Facts) -> str:
    era = str(f.values["era"])
    context = " outside any free entry point window"
    if f.category == "utility" and era == "pmp_v1":
        context = " outside any customer service window and free entry point window"
    elif f.category == "utility" and f.get("csw_open"):
        context = " inside a customer service window, which frees utility templates no longer (from 2026-10-01)"
    elif f.category == "" and era == "pmp_v2":
        n = f.result.options.get("service_free_allowance", 1000)
        context = (f" after the first {n:,} service messages of business phone {f.business} in {f.month()}"
                   if n else " with the service allowance off")
    return f"Charged {f.charge()}: {f.what} delivered {_when(f.at)}{context} {f.terms(rate=True)}."


def _authentication_international(f: _Facts) -> str:
    c = f.conversation()
    sent = f"{f.what} delivered {_when(f.at)}" if c is None else _opened(f, c)
    return (f"Charged {f.charge()}: {sent} to a user in {f.get('country')}, outside the business's primary "
            f"country: the authentication-international rate {f.terms(rate=True, unit='message' if c is None else 'conversation')}.")


def _no_rate(f: _Facts) -> str:
    c = f.conversation()
    category = str(f.get("pricing_category"))
    unit = f"{_opened(f, c)}, a charged conversation" if c is not None else \
        f"{f.what} delivered {_when(f.at)} is a charged message"
    return (f"Cost unknown (NaN): {unit}, but no rate card has a {_CATEGORY.get(category, category)} rate for "
            f"{f.get('market')} on that date {f.terms(rate=True)}; pass rate_card= with one.")


_SENTENCES = {
    "inbound": _inbound,
    "duplicate": _duplicate,
    "undelivered": _undelivered,
    "policy_violation": _policy_violation,
    "us_marketing_pause": _us_marketing_pause,
    "opened_conversation": _opened_conversation,
    "joined_conversation": _joined_conversation,
    "free_tier": _free_tier,
    "free_service": _free_service,
    "customer_service_window": _customer_service_window,
    "service_allowance": _service_allowance,
    "free_entry_point": _free_entry_point,
    "charged_message": _charged_message,
    "authentication_international": _authentication_international,
    "no_rate": _no_rate,
}
assert set(_SENTENCES) == set(_core.CHARGE_REASONS), "one sentence per charge reason"
