"""waconv: rebuild WhatsApp Business Platform conversations, windows and charges from logs."""

from __future__ import annotations

from waconv import examples
from waconv import synthetic
from waconv.api import classify
from waconv.analytics.compare import compare
from waconv._core import ERAS, PRICING_CATEGORIES, PRICING_TYPES
from waconv._errors import InputError, WaconvWarning
from waconv.analytics.plot import plot_compare
from waconv.pricing.rate_cards import RateCard, RateCards
from waconv.analytics.reconcile import Reconciliation, reconcile
from waconv.analytics.meta_analytics import read_meta_analytics
from waconv.analytics.reconcile_analytics import AnalyticsReconciliation, reconcile_analytics
from waconv.io.sunshine.read import read_sunshine
from waconv.io.webhooks.writer import to_webhooks
from waconv.io.webhooks.read import WebhookRead, read_webhooks
from waconv.result import Result, ResultTables
from waconv.scale.stream import classify_stream
from waconv.pricing.tiers import TierTable
from waconv.engine.state import State

__version__ = "0.1.0"

__all__ = [
    "AnalyticsReconciliation",
    "ERAS",
    "PRICING_CATEGORIES",
    "PRICING_TYPES",
    "InputError",
    "RateCard",
    "RateCards",
    "Reconciliation",
    "Result",
    "ResultTables",
    "State",
    "TierTable",
    "WebhookRead",
    "WaconvWarning",
    "classify",
    "classify_stream",
    "compare",
    "examples",
    "plot_compare",
    "read_meta_analytics",
    "read_sunshine",
    "read_webhooks",
    "reconcile",
    "reconcile_analytics",
    "synthetic",
    "to_webhooks",
]
