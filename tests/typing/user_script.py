"""A typical analyst's script: `mypy --strict` must accept it, and it must run
(tests/test_typing.py does both). The bill of a month of traffic, Meta's analytics, a what-if
across pricing models, plots, Arrow output, and a webhook dump reconciled with Meta's verdict.
"""

from __future__ import annotations

import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import pandas as pd
from matplotlib.axes import Axes

import waconv
from waconv import examples, synthetic

out = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(".")
log = synthetic.events(n_users=80, days=30, start="2025-06-15", seed=3).rename(columns={"user": "wa_id"})
zones: dict[str, str] = synthetic.timezones(log)
india: dict[str, dict[str, str]] = {"waba-in": {"primary_country": "IN", "start": "2025-02-01"}}

result = waconv.classify(log, columns={"user": "wa_id"}, timezones=zones, auth_international=india)
bill = float(result.messages.cost.sum())
print(f"bill: {bill:.2f} USD for {len(result.messages):,} messages, {len(result.conversations):,} conversations")

monthly: pd.DataFrame = result.summary(granularity="MONTHLY", dimensions=["PRICING_CATEGORY"], tz="waba")
print(monthly.groupby(["analytics", "waba"])["cost"].sum().round(2))
first_waba = str(monthly["waba"].iloc[0])
response = result.to_meta_json(granularity="DAILY", waba=first_waba)
points: list[dict[str, object]] = response["pricing_analytics"]["data"][0]["data_points"]
print(f"{first_waba}: {len(points)} pricing data points")

what_if = waconv.compare(log, rules=["pmp_v1", "pmp_v2"], columns={"user": "wa_id"}, timezones=zones)
by_rules: pd.Series[float] = what_if.groupby("rules")["difference"].sum()
print(by_rules.round(2))

figure, ax = plt.subplots(figsize=(10, 4))
drawn: Axes = result.plot.daily_cost(ax=ax, tz="America/Sao_Paulo")
drawn.set_title("Daily cost, São Paulo days")
figure.savefig(out / "daily_cost.png")
panels = result.plot.by_type()
compared = waconv.plot_compare(what_if)
print(f"plots: {len(panels.child_axes)} panels by type, {len(compared.patches)} bars compared")

tables = waconv.classify(log, columns={"user": "wa_id"}, timezones=zones, output="arrow")
print(f"as Arrow: {tables.messages.num_rows:,} rows; back to pandas: {tables.to_pandas()!r}")

dump = examples.webhooks()
read = waconv.read_webhooks(dump, errors="collect")
print(f"webhooks: {len(read.events)} events, {len(read.rejected)} rejected payloads")
rec = waconv.reconcile(waconv.classify(waconv.read_webhooks(dump)))
print(f"agreement with Meta: {rec.agreement:.1%}")
print(rec.disagreements.groupby("reason").size())
