"""Shared pytest configuration.

Hypothesis profiles for the engine-vs-reference comparison (tests/test_engine_vs_reference.py):
"ci" (default, 2000 examples) and "dev" (200), selected with the environment variable
HYPOTHESIS_PROFILE.  The comparison applies the selected profile itself; it is not loaded
globally, so other hypothesis tests keep their own settings, except the deadline: no test
asserts a speed, and on a loaded machine hypothesis' 200 ms per example failed tests whose
results were right.
"""

from hypothesis import HealthCheck, settings

_COMMON = dict(
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    print_blob=True,
)

settings.register_profile("ci", max_examples=2000, **_COMMON)
settings.register_profile("dev", max_examples=200, **_COMMON)
settings.register_profile("no_deadline", deadline=None)
settings.load_profile("no_deadline")
