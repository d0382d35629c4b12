"""The fuzz harness in CI: each target's fixed cases (launch.CI) in child processes.

A target passes when every case gave a result that passes the checks, or a
waconv.InputError. A crash or hang of a child fails the test with the case that caused it
(the next child resumes after that case, so one crash does not hide what follows); an
escape fails it with a runnable reproducer. The long profile is a separate command
(tests/README.md).
"""

from __future__ import annotations

import sys
import warnings
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # `tests.fuzz`, as the children import it
from tests.fuzz.launch import TARGETS, run_target  # noqa: E402


def _describe(total) -> str:
    parts = []
    for crash in total.crashes:
        parts.append(f"CRASH: the child was {crash['how']} ({crash['kind']}) at case {crash['case_number']} of seed "
                     f"{crash['seed']}:\n{crash['source'][:6000]}\n--- stderr ---\n{crash['stderr'][-2000:]}")
    for f in total.findings:
        parts.append(f"{f['kind'].upper()}: {f['signature']} (x{f['count']})\n{f['message']}\n{f['detail'][-1500:]}\n"
                     f"--- reproducer ---\n{f['source'][:6000]}")
    return "\n\n".join(parts)


@pytest.mark.parametrize("target", TARGETS)
def test_any_input_gives_a_result_or_an_input_error(target, tmp_path):
    total = run_target(target, tmp_path)
    if total.crashes or total.findings:
        kinds = sorted({f["signature"] for f in total.findings})
        pytest.fail(f"{target}: {len(total.crashes)} crashes and {len(kinds)} kinds of escape in {total.cases} "
                    "cases:\n  " + "\n  ".join(kinds + [c["how"] for c in total.crashes]) + "\n\n" + _describe(total),
                    pytrace=False)
    if total.skipped_after_limit:
        warnings.warn(f"{target}: {total.skipped_after_limit} fuzz cases not run, the machine was too slow "
                      "for the time limit in tests/fuzz/launch.py")
    # The cases must reach the code: most end in a result or an InputError, not in the case's own error.
    assert total.cases > 0 and total.user_raised <= total.cases // 4, (total.cases, total.user_raised)
