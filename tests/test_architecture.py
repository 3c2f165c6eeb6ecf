"""The plan of the house holds in the code: no import cycle in `zoo`, a leaf registry, families that never reach
into their regime, and small modules. Read from the source with `ast`, imports inside functions included."""

from __future__ import annotations

import ast
import inspect
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import REPO
from zoo import known

PACKAGE = REPO / "zoo"
MAX_LINES = 450


def module_name(path: Path) -> str:
    parts = path.relative_to(REPO).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(path): path for path in sorted(PACKAGE.rglob("*.py"))}


def _type_checking_only(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _import_nodes(tree: ast.AST) -> Iterator[ast.Import | ast.ImportFrom]:
    """Every import statement, at any depth (functions, classes, try blocks), except under `if TYPE_CHECKING:`."""
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, ast.If) and _type_checking_only(node):
            yield from (n for child in node.orelse for n in _import_nodes_of(child))
            continue
        yield from _import_nodes_of(node)


def _import_nodes_of(node: ast.AST) -> Iterator[ast.Import | ast.ImportFrom]:
    if isinstance(node, (ast.Import, ast.ImportFrom)):
        yield node
    else:
        yield from _import_nodes(node)


def imports_of(name: str) -> set[str]:
    """The `zoo` modules that module `name` imports (`from pkg import sub` counts as importing pkg.sub)."""
    path = MODULES[name]
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in _import_nodes(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        else:
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(anchor + ([base] if base else []))
            targets = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in MODULES else base for alias in node.names]
        found |= {target for target in targets if target in MODULES and target != name}
    return found


GRAPH = {name: imports_of(name) for name in MODULES}


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle of `graph` as [a, b, ..., a], or None."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for target in sorted(graph[node]):
            if state.get(target) == 1:
                return path[path.index(target) :] + [target]
            if target not in state:
                cycle = visit(target)
                if cycle:
                    return cycle
        path.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state:
            cycle = visit(node)
            if cycle:
                return cycle
    return None


def test_zoo_has_no_import_cycle() -> None:
    cycle = find_cycle(GRAPH)
    assert cycle is None, "import cycle: " + " -> ".join(cycle)


def test_the_cycle_finder_sees_a_cycle_through_an_import_inside_a_function() -> None:
    source = "def late():\n    from zoo.b import thing\n"
    tree_imports = [node for node in _import_nodes(ast.parse(source))]
    assert [node.module for node in tree_imports] == ["zoo.b"]
    hidden = "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from zoo.b import thing\n"
    assert [node.module for node in _import_nodes(ast.parse(hidden))] == ["typing"]
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None


def test_the_registry_is_a_leaf() -> None:
    assert GRAPH["zoo.registry"] <= {"zoo.errors"}


@pytest.mark.parametrize("family", known.families(), ids=lambda cls: cls.__name__)
def test_a_family_module_never_reaches_into_its_regime(family: type) -> None:
    """Family modules import no concrete regime and never read the regime they are trained with."""
    path = Path(inspect.getfile(family))
    tree = ast.parse(path.read_text())
    regimes = {target for target in GRAPH[module_name(path)] if target.startswith("zoo.regimes")}
    assert regimes <= {"zoo.regimes.base"}, f"{path.name} imports {sorted(regimes)}"
    reads = [
        node.lineno
        for node in ast.walk(tree)
        if isinstance(node, ast.Attribute) and node.attr in ("regime", "regime_state")
    ]
    assert not reads, f"{path.name} reads a regime attribute at lines {reads}"


def test_no_module_is_over_the_size_limit() -> None:
    roots = ["zoo", "triton_kernels", "tests", "benchmarks", "tools"]
    long = {
        path.relative_to(REPO).as_posix(): count
        for root in roots
        for path in (REPO / root).rglob("*.py")
        if (count := len(path.read_text().splitlines())) > MAX_LINES
    }
    assert not long, f"modules over {MAX_LINES} lines: {long}"
