"""The example data shipped with waconv, for trying things out and for the docs.

``log()`` is a 4,473-row message log from 2022 to 2026 (two WABAs, one in São Paulo time:
pass ``timezones=TIMEZONES`` to classify); ``webhooks()`` is the path of a Cloud API webhook
dump (JSON lines) for :func:`waconv.read_webhooks`.
"""

from __future__ import annotations

from importlib import resources

import pandas as pd

from ._cli_demo import EXAMPLE_TIMEZONES as TIMEZONES
from ._cli_demo import example_log

__all__ = ["TIMEZONES", "log", "webhooks"]


def log() -> pd.DataFrame:
    """The example message log in the SPEC §2 columns (ids as strings, times as ISO text)."""
    return example_log()


def webhooks() -> str:
    """Path of the example Cloud API webhook dump (one payload per line)."""
    return str(resources.files("waconv") / "data" / "example_webhooks.jsonl")
