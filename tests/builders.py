"""Small event logs written like Meta's worked examples: hours from an origin."""

from __future__ import annotations

from typing import Any

import pandas as pd


def log(origin: str, *rows: tuple, **columns: Any) -> pd.DataFrame:
    """Rows are (hours, direction, template_category=None, delivery_delay_hours=0.0, referral=False).

    direction is "in" or "out"; delivery delay None = never delivered. Extra keyword
    arguments become constant columns (business, user, waba ...).
    """
    start = pd.Timestamp(origin, tz="UTC")
    records = []
    for row in rows:
        hours, direction, category, delay, referral = (tuple(row) + (None, 0.0, False)[len(row) - 2 :])[:5]
        sent = start + pd.Timedelta(hours=hours)
        outbound = direction == "out"
        records.append(
            {
                "business": "b1",
                "user": "+5511987654321",
                "timestamp": sent,
                "direction": "outbound" if outbound else "inbound",
                "template_category": category,
                "delivered_at": sent + pd.Timedelta(hours=delay) if outbound and delay is not None else pd.NaT,
                "referral": bool(referral),
            }
        )
    frame = pd.DataFrame(records)
    frame["delivered_at"] = pd.to_datetime(frame["delivered_at"], utc=True)
    for name, value in columns.items():
        frame[name] = value
    return frame


def verdicts(result, column: str) -> list:
    """A result column as a plain list with None for nulls."""
    return [None if pd.isna(v) else v for v in result.messages[column].tolist()]
