"""The HTML notebooks show for a result or a reconciliation (their ``_repr_html_``).

A few counts and the first rows of each table, never a whole table: a 10M-row result must
display as fast as a small one, and a notebook saved with its outputs must stay small.
"""

from __future__ import annotations

import html
from collections.abc import Iterable

import numpy as np
import pandas as pd

HEAD_ROWS = 5


def escape(value: object) -> str:
    return html.escape(str(value))


def counted(codes: np.ndarray, labels: Iterable[object]) -> list[tuple[object, int]]:
    """(label, rows) of the labels present, in the labels' order; code -1 (null) is left out."""
    labels = list(labels)
    counts = np.bincount(codes[codes >= 0], minlength=len(labels))
    return [(label, int(n)) for label, n in zip(labels, counts) if n]


def codes_of(column: pd.Series) -> tuple[np.ndarray, list[object]]:
    """Integer codes and their labels: a categorical's own (no pass over the rows), else factorized."""
    if isinstance(column.dtype, pd.CategoricalDtype):
        return column.cat.codes.to_numpy(), list(column.cat.categories)
    codes, uniques = pd.factorize(column, sort=True)
    return codes, list(uniques)


def facts(rows: Iterable[tuple[str, str]]) -> str:
    """A two-column table of already escaped (name, value) HTML."""
    body = "".join(f'<tr><th style="text-align:left">{name}</th><td style="text-align:left">{value}</td></tr>'
                   for name, value in rows)
    return f"<table>{body}</table>"


def head(name: str, frame: pd.DataFrame, rows: int = HEAD_ROWS, *, open_: bool = False) -> str:
    """The first `rows` rows of `frame`, folded under a line saying how many it has."""
    shown = frame.head(rows)
    # pandas' own column limit (display.max_columns), so the user's display settings apply.
    table = shown.to_html(max_cols=pd.get_option("display.max_columns"), border=0)
    what = f"first {len(shown):,} of {len(frame):,} rows" if len(frame) > len(shown) else f"{len(frame):,} rows"
    return (f"<details{' open' if open_ else ''}><summary><strong>{escape(name)}</strong> ({what})</summary>"
            f"{table}</details>")


def block(title: str, *parts: str) -> str:
    return f'<div class="waconv-repr"><p><strong>{escape(title)}</strong></p>{"".join(parts)}</div>'
