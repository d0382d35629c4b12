"""Writes the README's images into this folder: ``python notebooks/images/make_images.py``.

daily_cost.png: the daily bill of a synthetic log (two businesses, June and July 2025),
stacked by pricing category, across the 2025-07-01 switch from conversation-based to
per-message pricing. Deterministic: rerunning gives the same picture.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402

import waconv  # noqa: E402
from waconv import synthetic  # noqa: E402

HERE = Path(__file__).resolve().parent


def daily_cost(path: Path) -> None:
    log = synthetic.events(n_users=2000, days=61, start="2025-06-01", seed=1, n_businesses=2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", waconv.WaconvWarning)  # a few rates borrowed from a neighbouring card
        result = waconv.classify(log, timezones=synthetic.TIMEZONES)
    fig, ax = plt.subplots(figsize=(9, 4), dpi=100, layout="constrained")
    result.plot.daily_cost(ax=ax)  # marks the 2025-07-01 switch to pmp_v1 itself
    ax.set_title(f"Daily cost of a synthetic log ({len(log):,} messages, 2 business numbers)")
    fig.savefig(path)
    plt.close(fig)


if __name__ == "__main__":
    target = HERE / "daily_cost.png"
    daily_cost(target)
    print(f"wrote {target} ({target.stat().st_size / 1024:.0f} KB)")
