"""Phases 1 and 2 glue: canonical columns to the C++ core and its arrays back to tables."""
