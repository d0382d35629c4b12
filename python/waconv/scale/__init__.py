"""Beyond one table: streams larger than memory, Spark and Dask, all thin drivers of
the same phase 1 and phase 2 entry points (`phases`)."""
