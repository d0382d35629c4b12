"""``waconv.spark.classify(spark_frame, ...)``: waconv over a Spark DataFrame (see waconv.scale.spark)."""

from __future__ import annotations

from waconv.scale.spark import classify, local_session

__all__ = ["classify", "local_session"]
