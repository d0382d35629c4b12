"""waconv: rebuild WhatsApp Business Platform conversations, windows and charges from logs."""

from __future__ import annotations

from . import synthetic
from ._classify import classify
from ._compare import compare
from ._core import ERAS, PRICING_CATEGORIES, PRICING_TYPES
from ._errors import InputError, WaconvWarning
from ._frames import ResultTables
from ._plot import plot_compare
from ._rate_cards import RateCard, RateCards
from ._reconcile import Reconciliation, reconcile
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
    "WaconvWarning",
    "classify",
    "compare",
    "plot_compare",
    "reconcile",
    "synthetic",
]
