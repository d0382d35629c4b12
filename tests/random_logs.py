"""Random multi-pair logs for the invariant tests: dense in time so windows overlap and
expire, spread over every era switch, with nanosecond jitter so no two rows of a pair share
an effective time (ties would make input order matter, by design)."""

from __future__ import annotations

import numpy as np
import pandas as pd

SWITCHES = ["2022-02-01", "2023-03-01", "2023-06-01", "2024-10-15", "2024-11-01", "2025-07-01", "2026-10-01"]
CATEGORIES = np.array([None, None, "marketing", "utility", "authentication", "marketing_lite"], dtype=object)


def random_log(seed: int, n_rows: int = 300, n_users: int = 12, n_businesses: int = 3) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    anchor = pd.Timestamp(rng.choice(SWITCHES), tz="UTC").value
    spread = int(rng.choice([2, 10, 40])) * 86_400 * 10**9
    timestamp = anchor - spread // 2 + rng.integers(0, spread, n_rows)
    direction = np.where(rng.random(n_rows) < 0.45, "inbound", "outbound")
    outbound = direction == "outbound"
    delay = rng.choice([0, 2 * 10**9, 3600 * 10**9, 30 * 3600 * 10**9], n_rows, p=[0.2, 0.6, 0.15, 0.05])
    delay = delay + rng.integers(0, 10**6, n_rows)
    delivered = np.where(outbound & (rng.random(n_rows) > 0.1), timestamp + delay, np.iinfo(np.int64).min)
    frame = pd.DataFrame(
        {
            "business": rng.integers(0, n_businesses, n_rows) + 100,
            "user": np.array([f"+55119{u:07d}" for u in range(n_users)])[rng.integers(0, n_users, n_rows)],
            "timestamp": pd.to_datetime(timestamp, utc=True),
            "direction": direction,
            "template_category": np.where(outbound, CATEGORIES[rng.integers(0, len(CATEGORIES), n_rows)], None),
            "delivered_at": pd.to_datetime(np.where(delivered == np.iinfo(np.int64).min, np.datetime64("NaT"),
                                                    delivered.astype("datetime64[ns]")), utc=True),
            "referral": (~outbound) & (rng.random(n_rows) < 0.15),
            "message_id": [f"m{k}" for k in rng.integers(0, int(n_rows * 0.97), n_rows)],
        }
    )
    frame["waba"] = np.where(frame.business == 100, "w-sp", "w-utc")
    return frame


TIMEZONES = {"w-sp": "America/Sao_Paulo"}
