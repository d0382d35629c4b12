"""``waconv.dask.classify(dask_frame, ...)``: waconv over a Dask DataFrame (see waconv.scale.dask)."""

from __future__ import annotations

from waconv.scale.dask import classify

__all__ = ["classify"]
