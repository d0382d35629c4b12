# Type stub of the C++ extension waconv._core; tests/test_core_stub.py keeps it in step.
from typing import Any

import numpy as np
import numpy.typing as npt

DIRECTIONS: list[str]
TEMPLATE_CATEGORIES: list[str]
ERAS: list[str]
PRICING_MODELS: list[str]
PRICING_CATEGORIES: list[str]
PRICING_TYPES: list[str]
WINDOW_KINDS: list[str]

def classify(
    business: npt.NDArray[np.int32],
    user: npt.NDArray[np.int32],
    waba: npt.NDArray[np.int32],
    timestamp: npt.NDArray[np.int64],
    delivered_at: npt.NDArray[np.int64],
    direction: npt.NDArray[np.int8],
    template_category: npt.NDArray[np.int8],
    referral: npt.NDArray[np.uint8] | None,
    duplicate: npt.NDArray[np.uint8] | None,
    refreshes_csw: npt.NDArray[np.uint8] | None,
    user_count: int,
    time_zones: list[str],
    *,
    forced_era: str | None = None,
    anchor_sent: bool = False,
    failed_freeform_opens_conversation: bool = False,
    free_tier_conversations: int = 1000,
    direct_billing: bool = False,
    service_free_allowance: int = 0,
    threads: int = 0,
) -> dict[str, Any]: ...
