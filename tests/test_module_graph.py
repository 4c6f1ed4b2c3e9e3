"""The modules' imports flow one way: no two modules of a package import each other, directly
or in a circle, counting imports inside functions too (a lazy import is still a dependency;
an annotation-only import under ``TYPE_CHECKING`` is not)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent / "gitops"


def imports_of(path: Path, package: str) -> set[str]:
    """The ``gitops.<package>.*`` modules that ``path`` imports, anywhere in it."""
    found: set[str] = set()
    tree = ast.parse(path.read_text())
    typing_only = {  # `if TYPE_CHECKING:` imports: for annotations, never run
        id(inner)
        for node in ast.walk(tree)
        if isinstance(node, ast.If) and getattr(node.test, "id", "") == "TYPE_CHECKING"
        for inner in ast.walk(node)
    }
    for node in ast.walk(tree):
        if id(node) in typing_only:
            continue
        if isinstance(node, ast.ImportFrom) and node.module:
            if node.module == f"gitops.{package}":
                found |= {f"gitops.{package}.{a.name}" for a in node.names}
            elif node.module.startswith(f"gitops.{package}."):
                found.add(node.module)
        elif isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.startswith(f"gitops.{package}.")}
    return found


def cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One cycle of the graph, or None."""
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return [*stack[stack.index(nxt) :], nxt]
            if nxt not in state and (found := visit(nxt)):
                return found
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (found := visit(node)):
            return found
    return None


@pytest.mark.parametrize(
    "package", ["ci", "commands", "promote", "report", "deploy", "artifacts", "catalog"]
)
def test_no_import_cycle_within(package: str) -> None:
    modules = {
        f"gitops.{package}.{p.stem}": p for p in (ROOT / package).glob("*.py")
        if p.stem != "__init__"
    }  # fmt: skip
    graph = {name: imports_of(path, package) & set(modules) for name, path in modules.items()}
    assert cycle(graph) is None


def test_the_ci_context_is_data_alone() -> None:
    assert imports_of(ROOT / "ci" / "context.py", "ci") == set()
