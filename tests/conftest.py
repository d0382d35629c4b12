"""Shared pytest configuration.

Hypothesis profiles: "ci" (default; 2000 examples for the engine-vs-reference comparison)
and "dev" (200 examples), selected with the environment variable HYPOTHESIS_PROFILE.
"""

import os

from hypothesis import HealthCheck, settings

_COMMON = dict(
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    print_blob=True,
)

settings.register_profile("ci", max_examples=2000, **_COMMON)
settings.register_profile("dev", max_examples=200, **_COMMON)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))
