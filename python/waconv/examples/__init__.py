"""The example data shipped with waconv, for trying things out and for the docs.

``log()`` is a 4,473-row message log from 2022 to 2026 (two WABAs, one in São Paulo time:
pass ``timezones=TIMEZONES`` to classify); ``webhooks()`` is the path of a Cloud API webhook
dump (JSON lines) for :func:`waconv.read_webhooks`.
"""

from __future__ import annotations

from importlib import resources

import pandas as pd

from waconv.engine.canonical import read_csv_with_text_ids

__all__ = ["TIMEZONES", "log", "webhooks"]

TIMEZONES = {"waba-br": "America/Sao_Paulo"}


def log() -> pd.DataFrame:
    """The example message log in the columns of docs/rules.md §Input columns (ids as
    strings, times as ISO text); written by data/make_example_log.py (see data/README.md)."""
    with resources.as_file(resources.files("waconv.examples") / "data" / "example_log.csv") as path:
        return read_csv_with_text_ids(path)


def webhooks() -> str:
    """Path of the example Cloud API webhook dump (one payload per line); written by
    data/make_example_webhooks.py."""
    return str(resources.files("waconv.examples") / "data" / "example_webhooks.jsonl")
