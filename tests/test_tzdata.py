"""Without the system time zone database waconv says so, instead of calling every zone unknown."""

from __future__ import annotations

import shutil
import subprocess
import sys

CODE = """
import waconv
try:
    waconv.classify(waconv.examples.log(), timezones={"waba-br": "UTC"}, price=False)
except RuntimeError as error:
    print("RuntimeError:", error)
"""


def test_a_missing_zoneinfo_directory_names_the_tzdata_package():
    assert shutil.which("unshare"), "util-linux's unshare runs the check in a private mount namespace"
    # An empty tmpfs over the zoneinfo directory, visible to this one child process only.
    script = f"mount -t tmpfs none /usr/share/zoneinfo && exec {sys.executable} -c '{CODE}'"
    run = subprocess.run(["unshare", "-m", "sh", "-c", script], capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    assert "RuntimeError: no time zone database found in /usr/share/zoneinfo: install the tzdata package" in run.stdout


def test_an_unknown_zone_is_still_an_input_error_when_the_database_is_there():
    import pytest

    import waconv

    with pytest.raises(waconv.InputError, match="unknown time zone 'Mars/Olympus'"):
        waconv.classify(waconv.examples.log(), timezones={"waba-br": "Mars/Olympus"}, price=False)
