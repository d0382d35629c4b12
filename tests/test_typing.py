"""Issue #12: the types users check. `mypy --strict` accepts a typical analyst's script, infers
the public API's precise return types (classify's `output=` and read_webhooks' `errors=`
overloads) and rejects what is wrong; the script itself runs.

mypy analyses waconv as users get it, installed with its py.typed marker (the package's own
errors are not reported: only the two files here are held to --strict). One mypy run serves
all the checks; its cache is the repository's .mypy_cache (ignored by git): cold, with
pandas-stubs, about 8 s of CPU (20-30 s on a busy 2-core machine), warm 1-2 s.
"""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
TYPING = ROOT / "tests" / "typing"
USER_SCRIPT = TYPING / "user_script.py"
API_TYPES = TYPING / "api_types.py"
PACKAGE = ROOT / "python" / "waconv"

_ERROR = re.compile(r"^(?P<path>[^:]+):(?P<line>\d+): error: (?P<message>.*)$")
_MARKER = re.compile(r"#\s*E:\s*(?P<text>.+?)\s*$")


def _mypy(*files: Path) -> dict[str, list[tuple[int, str]]]:
    """mypy --strict's errors per file name: (line, message with its [code])."""
    run = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--config-file", str(ROOT / "pyproject.toml"),
         "--cache-dir", str(ROOT / ".mypy_cache"), "--no-pretty", "--no-color-output",
         "--no-error-summary", "--show-error-codes", *map(str, files)],
        cwd=ROOT, capture_output=True, text=True, timeout=600,
    )
    # 0: clean, 1: type errors (api_types.py has them on purpose); anything else is a crash,
    # a bad option or a missing mypy.
    assert run.returncode in (0, 1), run.stdout + run.stderr
    errors: dict[str, list[tuple[int, str]]] = {}
    for line in run.stdout.splitlines():
        match = _ERROR.match(line)
        if match:
            errors.setdefault(Path(match["path"]).name, []).append((int(match["line"]), match["message"]))
        else:
            assert ": note: " in line, f"unexpected mypy output: {line!r}"
    return errors


@pytest.fixture(scope="module")
def mypy_errors() -> dict[str, list[tuple[int, str]]]:
    return _mypy(USER_SCRIPT, API_TYPES)


def test_user_script_passes_mypy_strict(mypy_errors):
    assert mypy_errors.get(USER_SCRIPT.name, []) == []
    # Only the two files given are checked: waconv's own modules raise nothing here.
    assert set(mypy_errors) <= {USER_SCRIPT.name, API_TYPES.name}


def test_api_types_infers_and_rejects_exactly_what_is_marked(mypy_errors):
    expected = {
        number: match["text"]
        for number, text in enumerate(API_TYPES.read_text(encoding="utf-8").splitlines(), start=1)
        if (match := _MARKER.search(text))
    }
    assert len(expected) >= 10
    got: dict[int, list[str]] = {}
    for number, message in mypy_errors.get(API_TYPES.name, []):
        got.setdefault(number, []).append(message)
    unexpected = {number: messages for number, messages in got.items() if number not in expected}
    assert unexpected == {}, "errors on lines not marked `# E:` (an assert_type failing, or a rejected call)"
    missing = {number: (text, got.get(number)) for number, text in expected.items()
               if not any(text in message for message in got.get(number, []))}
    assert missing == {}, "marked lines mypy did not reject as expected"


def test_user_script_runs(tmp_path):
    run = subprocess.run([sys.executable, str(USER_SCRIPT), str(tmp_path)], cwd=tmp_path,
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    assert re.search(r"^bill: \d+\.\d\d USD for [\d,]+ messages", run.stdout, re.MULTILINE), run.stdout
    assert re.search(r"^agreement with Meta: \d+\.\d%$", run.stdout, re.MULTILINE), run.stdout
    assert (tmp_path / "daily_cost.png").read_bytes().startswith(b"\x89PNG")


def _signatures(path: Path, name: str) -> list[ast.FunctionDef]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return [node for node in tree.body if isinstance(node, ast.FunctionDef) and node.name == name]


def _is_overload(node: ast.FunctionDef) -> bool:
    return any(isinstance(d, ast.Name) and d.id == "overload" for d in node.decorator_list)


@pytest.mark.parametrize("path, name, overloads", [
    (PACKAGE / "api.py", "classify", 2),
    (PACKAGE / "io" / "webhooks" / "read.py", "read_webhooks", 2),
    (PACKAGE / "io" / "sunshine" / "read.py", "read_sunshine", 2),
])
def test_overloads_take_every_parameter_of_the_implementation(path, name, overloads):
    # A parameter added to the implementation but not to the @overloads is one mypy users
    # cannot pass; mypy itself only checks the other direction.
    *stubs, implementation = _signatures(path, name)
    assert len(stubs) == overloads and all(map(_is_overload, stubs)) and not _is_overload(implementation)

    def parameters(node: ast.FunctionDef) -> list[str]:
        return [a.arg for a in node.args.posonlyargs + node.args.args] + ["*"] + [a.arg for a in node.args.kwonlyargs]

    for stub in stubs:
        assert parameters(stub) == parameters(implementation), stub.lineno
