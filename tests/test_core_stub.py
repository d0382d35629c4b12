"""_core.pyi must describe the compiled module exactly: same names, same parameters."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import waconv
from waconv import _core

STUB = Path(waconv.__file__).with_name("_core.pyi")


def _stub_tree() -> ast.Module:
    return ast.parse(STUB.read_text())


def _runtime_parameters(function) -> list[tuple[str, bool, bool]]:
    """(name, has_default, keyword_only) from pybind11's signature line."""
    signature = function.__doc__.splitlines()[0]
    inside = signature[signature.index("(") + 1 : signature.rindex(") ->")]
    depth, parts, current = 0, [], ""
    for char in inside:
        depth += char in "[(" and 1 or (-1 if char in "])" else 0)
        if char == "," and depth == 0:
            parts.append(current.strip())
            current = ""
        else:
            current += char
    parts.append(current.strip())
    out, keyword_only = [], False
    for part in parts:
        if part == "*":
            keyword_only = True
            continue
        name = re.match(r"\w+", part).group(0)
        out.append((name, "=" in part, keyword_only))
    return out


def _stub_parameters(node: ast.FunctionDef) -> list[tuple[str, bool, bool]]:
    positional = node.args.args
    defaults = [None] * (len(positional) - len(node.args.defaults)) + list(node.args.defaults)
    out = [(a.arg, d is not None, False) for a, d in zip(positional, defaults)]
    out += [(a.arg, d is not None, True) for a, d in zip(node.args.kwonlyargs, node.args.kw_defaults)]
    return out


def test_stub_names_match_module():
    tree = _stub_tree()
    stub_names = {n.name for n in tree.body if isinstance(n, (ast.FunctionDef, ast.ClassDef))}
    stub_names |= {n.target.id for n in tree.body if isinstance(n, ast.AnnAssign)}
    runtime = {name for name in dir(_core) if not name.startswith("_")}
    assert stub_names == runtime


def test_stub_classes_match_module():
    for node in _stub_tree().body:
        if isinstance(node, ast.ClassDef):
            stub_members = {n.name for n in node.body if isinstance(n, ast.FunctionDef)}
            runtime = {name for name in dir(getattr(_core, node.name)) if not name.startswith("_")}
            assert stub_members == runtime, node.name


def test_stub_signatures_match_module():
    for node in _stub_tree().body:
        if isinstance(node, ast.FunctionDef):
            assert _stub_parameters(node) == _runtime_parameters(getattr(_core, node.name)), node.name


def test_stub_constants_are_lists_of_str():
    for node in _stub_tree().body:
        if isinstance(node, ast.AnnAssign):
            value = getattr(_core, node.target.id)
            assert ast.unparse(node.annotation) == "list[str]"
            assert isinstance(value, list) and all(isinstance(v, str) for v in value)
