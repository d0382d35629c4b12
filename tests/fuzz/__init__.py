"""Fuzzing waconv's promise: any input gives a result or a waconv.InputError, nothing else.

See tests/README.md for the profiles and how to run one target alone.
"""
