"""What mypy --strict infers for waconv's public API, and what it must reject.

Never run, only type-checked by tests/test_typing.py: every line that ends in an ``E:``
comment must get a mypy error whose message contains the comment's text, and no other line
may get one. The ``assert_type`` lines fail (an error on an unmarked line) when a public
return type turns into ``Any`` or into a union, e.g. when classify's @overloads on
``output=`` are removed.
"""

from __future__ import annotations

import io
from collections.abc import Hashable
from pathlib import Path
from typing import Any

from typing_extensions import assert_type

import pandas as pd
from matplotlib.axes import Axes

import waconv
from waconv import examples, synthetic

log = examples.log()
assert_type(log, pd.DataFrame)
assert_type(synthetic.events(n_users=10, days=2), pd.DataFrame)
assert_type(examples.webhooks(), str)

# classify: the output= literal picks the return type.
assert_type(waconv.classify(log), waconv.Result)
assert_type(waconv.classify(log, output="pandas"), waconv.Result)
assert_type(waconv.classify(log, output="arrow"), waconv.ResultTables)
assert_type(waconv.classify(log, output="polars"), waconv.ResultTables)
wanted: str = "arrow"
waconv.classify(log, output=wanted)  # E: No overload variant of "classify" matches argument types
waconv.classify(log, output="parquet")  # E: No overload variant of "classify" matches argument types
arrow: waconv.Result = waconv.classify(log, output="arrow")  # E: expression has type "ResultTables"
waconv.classify(log, output="arrow").summary()  # E: "ResultTables" has no attribute "summary"
assert_type(waconv.classify(log, output="arrow").to_pandas(), waconv.Result)

# Mappings: any key type the runtime matches, values still checked.
by_number: dict[int, str] = {102290129340398: "America/Sao_Paulo"}
by_hashable: dict[Hashable, str] = {"waba-br": "America/Sao_Paulo"}
waconv.classify(log, timezones=by_number)
waconv.classify(log, timezones=by_hashable)
waconv.classify(log, timezones={"waba-br": 3})  # E: Dict entry 0 has incompatible type "str": "int"
waconv.classify(log, columns={"user": 3})  # E: Dict entry 0 has incompatible type "str": "int"
waconv.classify(log, auth_international={7: {"primary_country": "IN", "start": "2025-02-01"}})
waconv.classify(log, auth_international={"portfolio-1": "IN"})  # E: Dict entry 0 has incompatible type "str": "str"

# Rate cards and tiers: paths, streams and lists as the runtime reads them.
card = waconv.RateCard.from_csv(Path("rates.csv"))
assert_type(card, waconv.RateCard)
assert_type(card.to_frame(), pd.DataFrame)
cards = waconv.RateCards.default() + card
assert_type(cards, waconv.RateCards)
waconv.classify(log, rate_card=Path("rates.csv"), volume_tiers=Path("tiers.csv"))
waconv.classify(log, rate_card=[card, "rates.csv", Path("more.csv")], volume_tiers=io.StringIO("..."))
waconv.classify(log, volume_tiers=False, currencies={"waba-in": "INR"})
waconv.classify(log, volume_tiers=None, currencies={12345: "INR"})
waconv.classify(log, currencies={"waba-in": 356})  # E: Dict entry 0 has incompatible type
waconv.classify(log, rate_card=3)  # E: No overload variant of "classify" matches argument types
assert_type(waconv.TierTable.from_csv("tiers.csv"), waconv.TierTable)

# Result's analytics and plots.
result = waconv.classify(log)
assert_type(result.messages, pd.DataFrame)
assert_type(result.summary("MONTHLY", tz="waba", timezones=by_number), pd.DataFrame)
assert_type(result.to_meta_json(waba="waba-br"), dict[str, Any])
assert_type(result.plot.daily_cost(), Axes)
assert_type(result.plot.by_type(), Axes)
assert_type(result.plot.timeline("5511999990000"), Axes)
result.plot.daily_cost(tz=3)  # E: Argument "tz" to "daily_cost" of "PlotAccessor" has incompatible type "int"
assert_type(waconv.compare(log, rules=["pmp_v1"], timezones=by_number), pd.DataFrame)
assert_type(waconv.plot_compare(waconv.compare(log)), Axes)

# Webhooks: errors= picks the return type.
assert_type(waconv.read_webhooks(examples.webhooks()), pd.DataFrame)
assert_type(waconv.read_webhooks(examples.webhooks(), errors="collect"), waconv.WebhookRead)
assert_type(waconv.read_webhooks(examples.webhooks(), errors="collect").rejected, pd.DataFrame)
waconv.read_webhooks(examples.webhooks(), errors="ignore")  # E: No overload variant of "read_webhooks" matches
events: pd.DataFrame = waconv.read_webhooks("dump.jsonl", errors="collect")  # E: expression has type "WebhookRead"
assert_type(waconv.read_sunshine("sunshine.json"), pd.DataFrame)
assert_type(waconv.read_sunshine("sunshine.json", errors="collect"), waconv.WebhookRead)
assert_type(waconv.to_webhooks(result, phone_number_ids={5511: "1065"}), list[dict[str, Any]])
rec = waconv.reconcile(result)
assert_type(rec, waconv.Reconciliation)
assert_type(rec.agreement, float)
waconv.reconcile(log)  # E: Argument 1 to "reconcile" has incompatible type "DataFrame"
