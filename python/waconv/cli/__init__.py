"""The ``waconv`` command line (``waconv --help``)."""

from waconv.cli.main import main

__all__ = ["main"]
