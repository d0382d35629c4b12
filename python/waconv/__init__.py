"""waconv: rebuild WhatsApp Business Platform conversations, windows and charges from logs."""

from __future__ import annotations

from . import examples, synthetic
from ._classify import classify
from ._compare import compare
from ._core import ERAS, PRICING_CATEGORIES, PRICING_TYPES
from ._errors import InputError, WaconvWarning
from ._frames import ResultTables
from ._plot import plot_compare
from ._rate_cards import RateCard, RateCards
from ._reconcile import Reconciliation, reconcile
from ._sunshine import read_sunshine
from ._webhook_writer import to_webhooks
from ._webhooks import WebhookRead, read_webhooks
from ._result import Result
from ._tiers import TierTable

__version__ = "0.1.0"

__all__ = [
    "ERAS",
    "PRICING_CATEGORIES",
    "PRICING_TYPES",
    "InputError",
    "RateCard",
    "RateCards",
    "Reconciliation",
    "Result",
    "ResultTables",
    "TierTable",
    "WebhookRead",
    "WaconvWarning",
    "classify",
    "compare",
    "examples",
    "plot_compare",
    "read_sunshine",
    "read_webhooks",
    "reconcile",
    "synthetic",
    "to_webhooks",
]
