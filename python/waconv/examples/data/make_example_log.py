"""Writes example_log.csv, the small log `waconv demo` classifies.

A fictional retailer with two WABAs (one in São Paulo time) and three phone numbers, talking
to 60 users from 2022 to 2026: support chats, campaigns, OTPs, order updates, click-to-
WhatsApp ad entries, failed sends, a few webhook duplicates. Deterministic: rerun to
regenerate the same file.
"""

from __future__ import annotations

import random
from pathlib import Path

import pandas as pd

PHONES = {  # business phone number id -> WABA
    "106540352242922": "waba-br",
    "106540352242923": "waba-br",
    "209877113030411": "waba-global",
}
COUNTRIES = ["+55119", "+55219", "+52155", "+91981", "+1415", "+44770", "+49151", "+62812", "+234803", "+1809"]


def main() -> None:
    rng = random.Random(20260101)
    rows = []
    msg = 0

    def add(business, user, when, direction, category=None, delay_s=4, referral=False, delivered=True):
        nonlocal msg
        msg += 1
        rows.append(
            {
                "message_id": f"wamid.{msg:06d}",
                "business": business,
                "waba": PHONES[business],
                "user": user,
                "timestamp": when,
                "direction": direction,
                "template_category": category,
                "delivered_at": when + pd.Timedelta(seconds=delay_s) if direction == "outbound" and delivered else pd.NaT,
                "referral": referral,
            }
        )

    users = [f"{rng.choice(COUNTRIES)}{rng.randrange(10**6, 10**7)}" for _ in range(40)]
    start = pd.Timestamp("2022-03-01", tz="UTC")
    end = pd.Timestamp("2026-11-15", tz="UTC")
    for user in users:
        business = rng.choice(list(PHONES))
        t = start + pd.Timedelta(days=rng.randrange(0, 120))
        while t < end:
            kind = rng.random()
            if kind < 0.35:  # support chat: user writes, business answers
                add(business, user, t, "inbound", referral=rng.random() < 0.08)
                for k in range(rng.randrange(1, 4)):
                    add(business, user, t + pd.Timedelta(minutes=5 + 20 * k), "outbound")
                if rng.random() < 0.3:  # order update inside the window
                    add(business, user, t + pd.Timedelta(hours=3), "outbound", "utility")
            elif kind < 0.6:  # campaign
                add(business, user, t, "outbound", "marketing", delivered=rng.random() > 0.05)
                if rng.random() < 0.4:
                    add(business, user, t + pd.Timedelta(hours=2), "inbound")
                    add(business, user, t + pd.Timedelta(hours=2, minutes=3), "outbound")
            elif kind < 0.8:  # one-time password
                add(business, user, t, "outbound", "authentication", delay_s=2)
            elif kind < 0.95:  # order update
                add(business, user, t, "outbound", "utility")
            else:  # a late free-form reply that Meta rejects (131047)
                add(business, user, t, "outbound", delivered=False)
            t += pd.Timedelta(hours=rng.randrange(12, 24 * 60))
    frame = pd.DataFrame(rows)
    duplicates = frame.sample(6, random_state=7)
    frame = pd.concat([frame, duplicates]).sort_values("timestamp", kind="stable").reset_index(drop=True)
    frame.to_csv(Path(__file__).with_name("example_log.csv"), index=False)
    print(f"wrote {len(frame)} rows")


if __name__ == "__main__":
    main()
