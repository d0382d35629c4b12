"""ARCHITECTURE.md's promises about the package layout: imports flow one way, no cycle."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "python" / "waconv"

# Lowest first: a module may import its own layer or a lower one, never a higher one.
LAYERS = [
    {"_errors", "_core"},
    {"pricing"},
    {"engine"},
    {"io"},
    {"scale"},
    {"analytics"},
    {"result", "api", "spark", "dask"},
    {"cli", "__init__"},
]
BESIDE = {"synthetic", "examples"}  # beside the stack: they may use engine helpers only
BESIDE_MAY_IMPORT = {"_errors", "_core", "engine", "synthetic", "examples"}


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _modules() -> dict[str, Path]:
    found = {_module_name(p): p for p in PACKAGE.rglob("*.py") if "data" not in p.relative_to(PACKAGE).parts}
    found["waconv._core"] = PACKAGE / "_core.pyi"
    return found


def _imports(name: str, path: Path, modules: dict[str, Path]) -> set[str]:
    """Every waconv module `path` imports, wherever the import statement stands."""
    out = set()
    is_package = path.name == "__init__.py"
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            out.update(a.name for a in node.names if a.name in modules)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = name.split(".") if is_package else name.split(".")[:-1]
                base = base[: len(base) - node.level + 1]
                source = ".".join(base + ([node.module] if node.module else []))
            else:
                source = node.module or ""
            for alias in node.names:
                if f"{source}.{alias.name}" in modules:
                    out.add(f"{source}.{alias.name}")
                elif source in modules:
                    out.add(source)
    out.discard(name)
    return out


def _graph() -> dict[str, set[str]]:
    modules = _modules()
    return {name: _imports(name, path, modules) for name, path in modules.items() if path.suffix == ".py"}


def _top(name: str) -> str:
    parts = name.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def _layer(name: str) -> int:
    return next(i for i, layer in enumerate(LAYERS) if _top(name) in layer)


def test_every_module_has_a_place():
    for name in _graph():
        assert _top(name) in BESIDE or any(_top(name) in layer for layer in LAYERS), name


def test_no_import_cycle():
    graph = _graph()
    state: dict[str, int] = {}

    def visit(name: str, path: list[str]) -> None:
        state[name] = 1
        for dep in graph.get(name, ()):
            if state.get(dep) == 1:
                pytest.fail("import cycle: " + " -> ".join(path[path.index(dep):] + [dep]))
            if dep not in state:
                visit(dep, path + [dep])
        state[name] = 2

    for name in graph:
        if name not in state:
            visit(name, [name])


def test_imports_flow_down_the_layers():
    upward = []
    for name, deps in _graph().items():
        for dep in deps:
            if _top(name) in BESIDE:
                if _top(dep) not in BESIDE_MAY_IMPORT:
                    upward.append(f"{name} -> {dep}")
            elif _top(dep) in BESIDE:
                if _top(name) not in {"cli", "__init__"}:
                    upward.append(f"{name} -> {dep}")
            elif _layer(dep) > _layer(name):
                upward.append(f"{name} -> {dep}")
    assert not upward, upward


def test_the_checker_sees_lazy_and_relative_imports(tmp_path):
    module = tmp_path / "x.py"
    module.write_text("def f():\n    from ..result import Result\n    import waconv.api\n")
    modules = {"waconv.result": module, "waconv.api": module, "waconv.engine.x": module}
    assert _imports("waconv.engine.x", module, modules) == {"waconv.result", "waconv.api"}
