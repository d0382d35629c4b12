"""int64 id columns with many distinct values: 10^5 users, 10^6 businesses and portfolios.

Regression test: factorizing int64 ids read the new id from the hash table slot after the
table had grown and freed it (a heap use-after-free that segfaulted from ~40,000 distinct
values). Each log is classified in a child process, so a crash fails the test instead of
killing pytest. The checks go through the codes: the businesses and users of the windows
and conversations are decoded from them, and so are the portfolios that auth_international
applies to.
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

# Shared by both logs: the ids, shuffled (the first `distinct` rows hold each id once, the
# rest repeat random ones), spread over int64 so they hash into many slots.
PRELUDE = """
import numpy as np, pandas as pd, waconv

rng = np.random.default_rng(20251201)

def ids(distinct, rows, step, offset):
    values = rng.permutation(np.arange(distinct, dtype=np.int64)) * step + offset
    return np.concatenate([values, values[rng.integers(0, distinct, rows - distinct)]])

def pairs(frame):
    return frame[["business", "user"]].drop_duplicates().sort_values(["business", "user"]).to_numpy()
"""

# 10^5 users, each opening a window with its first (inbound) row, under CBP (2024): every
# window's pair and every conversation member's pair must be the row's own.
USERS = PRELUDE + """
distinct, rows = 100_000, 150_000
user = ids(distinct, rows, 7_919_000_003, 5_511_900_000_000)
inbound = np.arange(rows) < distinct
inbound[distinct:] = rng.random(rows - distinct) < 0.5
frame = pd.DataFrame({
    "business": rng.integers(0, 3, rows).astype(np.int64) * -(2**61),
    "user": user,
    "timestamp": pd.Timestamp("2024-03-01", tz="UTC") + pd.to_timedelta(rng.integers(0, 20 * 86400, rows), unit="s"),
    "direction": np.where(inbound, "inbound", "outbound"),
})
result = waconv.classify(frame)
m = result.messages
assert len(m) == rows, len(m)
assert (m["user"].to_numpy() == user).all()
assert result.windows["user"].nunique() == distinct, result.windows["user"].nunique()
assert np.array_equal(pairs(result.windows), pairs(frame[inbound]))
member = m["conversation_id"].to_numpy() >= 0
assert member.any()
conversations = result.conversations.set_index("conversation_id")
opened = conversations.loc[m["conversation_id"][member], ["business", "user"]].to_numpy()
assert np.array_equal(opened, frame.loc[member, ["business", "user"]].to_numpy())
print("ok")
"""

# 10^6 businesses and portfolios (each business its own WABA id space would need 10^6 clocks
# of 11 KB; WABAs are business % 1000) sending authentication templates to Indian numbers
# under PMP (October 2025). Portfolios listed in auth_international (primary country
# Brazil) make exactly their outbound rows authentication_international.
ACCOUNTS = PRELUDE + """
distinct, rows = 1_000_000, 1_500_000
business = ids(distinct, rows, 7_919_000_003, 10**12)
portfolio = ids(distinct, rows, -104_729_001, -1)
outbound = rng.random(rows) < 0.5
frame = pd.DataFrame({
    "business": business,
    "user": rng.integers(0, 1000, rows).astype(np.int64) + 919_812_000_000,
    "waba": business % 1000,
    "portfolio": portfolio,
    "timestamp": pd.Timestamp("2025-10-01", tz="UTC") + pd.to_timedelta(rng.integers(0, 20 * 86400, rows), unit="s"),
    "direction": np.where(outbound, "outbound", "inbound"),
    "template_category": np.where(outbound, "authentication", None),
})
listed = rng.choice(np.unique(portfolio), 1000, replace=False)
config = {int(p): {"primary_country": "BR", "start": "2025-01-01"} for p in listed}
result = waconv.classify(frame, auth_international=config)
m = result.messages
assert len(m) == rows, len(m)
assert (m["business"].to_numpy() == business).all()
assert np.array_equal(pairs(result.windows), pairs(frame[~outbound]))
international = (m["pricing_category"] == "authentication_international").to_numpy()
expected = outbound & np.isin(portfolio, listed)
assert expected.sum() > 100 and (international == expected).all(), (international.sum(), expected.sum())
assert (m["pricing_category"][outbound & ~expected] == "authentication").all()
print("ok")
"""


@pytest.mark.parametrize("script", [USERS, ACCOUNTS], ids=["1e5-users", "1e6-businesses-and-portfolios"])
def test_classify_int64_ids_with_many_distinct_values(script):
    # Blocks from 128 KiB on are mapped and unmapped one by one (glibc otherwise raises this
    # threshold as big blocks are freed): a read of a freed hash table then crashes at once
    # instead of depending on what the process allocated before.
    env = {**os.environ, "MALLOC_MMAP_THRESHOLD_": str(128 * 1024)}
    run = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=300)
    assert run.returncode == 0, f"exit code {run.returncode}\n{run.stdout}\n{run.stderr}"
    assert run.stdout.strip() == "ok"
