"""README's two commands are the ones CI runs and a newcomer types."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _commands() -> list[str]:
    return re.findall(r"```bash\n(.+?)\n```", (ROOT / "README.md").read_text())


def test_ci_runs_exactly_the_readme_test_command():
    commands = _commands()
    test_command = next(c for c in commands if "pytest" in c)
    ci = (ROOT / ".ci" / "run").read_text().splitlines()
    assert ci[-1] == test_command


def test_readme_demo_command_runs_the_demo():
    assert any(c.endswith("waconv demo") and "pip install ." in c for c in _commands())


def test_readme_example_runs(monkeypatch, tmp_path):
    import matplotlib

    matplotlib.use("Agg")
    import waconv

    block = re.search(r"## Use it\n\n```python\n(.+?)\n```", (ROOT / "README.md").read_text(), re.S).group(1)
    assert len(block.splitlines()) <= 20
    # The example reads a webhook dump of the reader's own; the shipped one stands in.
    code = block.replace('"dump.jsonl"', repr(waconv.examples.webhooks()))
    monkeypatch.chdir(tmp_path)
    namespace: dict = {}
    exec(compile(code, "README.md", "exec"), namespace)
    assert namespace["result"].messages.cost.sum() > 0
    assert namespace["rec"].compared > 0
