"""The options of waconv.classify, checked once for a driver that splits the log."""

from __future__ import annotations

from collections.abc import Hashable, Mapping
from dataclasses import dataclass, field
from typing import Any

from waconv import _core
from waconv._errors import InputError
from waconv.engine.canonical import as_mapping
from waconv.engine.classify import _ANCHORS, _MAX_COUNT, _MAX_THREADS, _count, _flag
from waconv.pricing.rate_cards import as_rate_cards
from waconv.pricing.tiers import tier_choice


@dataclass(frozen=True)
class ScaleOptions:
    columns: dict[str, str] = field(default_factory=dict)
    rules: str = "auto"
    timezones: dict[Hashable, str] = field(default_factory=dict)
    anchor: str = "delivered"
    failed_freeform_opens_conversation: bool = False
    service_free_allowance: int = 1000
    csw_refreshing: str | None = None
    direct_billing: bool = False
    free_tier_conversations: int = 1000
    price: bool = True
    rate_cards: Any = None  # (RateCards, whether the user gave them): read once, as every partition prices
    volume_tiers: Any = True  # True (Meta's shipped tables), False or a TierTable, as tier_choice gives
    currencies: Mapping[Hashable, str] | None = None  # per-WABA currency, as waconv.classify takes it
    auth_international: Mapping[Hashable, Mapping[str, object]] | None = None
    threads: int = 0

    @classmethod
    def of(cls, **given: Any) -> "ScaleOptions":
        """The options as waconv.classify takes them, checked the same way."""
        unknown = sorted(set(given) - set(cls.__dataclass_fields__) - {"rate_card"})
        if unknown:
            raise InputError(unknown[0], None, "not an option of waconv.classify")
        rules = given.get("rules", "auto")
        if rules != "auto" and rules not in _core.ERAS:
            raise InputError("rules", None, f"unknown rules {rules!r}; use 'auto' or one of {', '.join(_core.ERAS)}")
        anchor = given.get("anchor", "delivered")
        if anchor not in _ANCHORS:
            raise InputError("anchor", None, f"unknown anchor {anchor!r}; use 'delivered' or 'sent'")
        csw = given.get("csw_refreshing")
        if csw is not None and not isinstance(csw, str):
            # A predicate sees one frame; split over partitions it would see pieces of one.
            raise InputError("csw_refreshing", None, "on a stream or cluster, give a column name (or None)")
        return cls(
            columns=as_mapping("columns", given.get("columns")),
            rules=rules,
            timezones=as_mapping("timezones", given.get("timezones")),
            anchor=anchor,
            failed_freeform_opens_conversation=_flag("failed_freeform_opens_conversation",
                                                     given.get("failed_freeform_opens_conversation", False)),
            service_free_allowance=_count("service_free_allowance", given.get("service_free_allowance", 1000),
                                          _MAX_COUNT),
            csw_refreshing=csw,
            direct_billing=_flag("direct_billing", given.get("direct_billing", False)),
            free_tier_conversations=_count("free_tier_conversations", given.get("free_tier_conversations", 1000),
                                           _MAX_COUNT),
            price=_flag("price", given.get("price", True)),
            rate_cards=as_rate_cards(given.get("rate_card")),
            volume_tiers=tier_choice(given.get("volume_tiers", True)),
            currencies=as_mapping("currencies", given.get("currencies")),
            auth_international=given.get("auth_international"),
            threads=_count("threads", given.get("threads", 0), _MAX_THREADS, "0 = one per core"),
        )
