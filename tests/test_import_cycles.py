"""No import cycle among mock_server's modules, and the layers import in one direction.

Imports are read with `ast`: those a module makes when it loads, the ones under `if TYPE_CHECKING:`
included (a cycle of type imports still ties the two modules together); imports inside functions
are left out (they are the deliberate way to reach a module only when needed).
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = "mock_server"


def module_names() -> dict[str, Path]:
    """Every module of the package by its dotted name (a package by its own name)."""
    found = {}
    for path in sorted((ROOT / PACKAGE).rglob("*.py")):
        parts = list(path.relative_to(ROOT).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join(parts)] = path
    return found


def _load_time_statements(body: list[ast.stmt]) -> Iterator[ast.stmt]:
    """The statements run when the module loads, through if/try blocks but not into functions or classes."""
    for node in body:
        yield node
        if isinstance(node, ast.If):
            yield from _load_time_statements(node.body)
            yield from _load_time_statements(node.orelse)
        elif isinstance(node, ast.Try):
            for block in (node.body, node.orelse, node.finalbody, *[h.body for h in node.handlers]):
                yield from _load_time_statements(block)


def imports(name: str, path: Path, known: set[str]) -> set[str]:
    """The package's modules `name` imports when it loads."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    targets: set[str] = set()
    for node in _load_time_statements(ast.parse(path.read_text(encoding="utf-8")).body):
        if isinstance(node, ast.Import):
            targets.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            for alias in node.names:
                submodule = f"{base}.{alias.name}"
                targets.add(submodule if submodule in known else base)
    return {t for t in targets if t in known and t != name}


def graph() -> dict[str, set[str]]:
    """Each module and the package's modules it imports."""
    modules = module_names()
    known = set(modules)
    return {name: imports(name, path, known) for name, path in modules.items()}


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected groups of more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(edges.get(node, ())):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                groups.append(sorted(group))

    for node in sorted(edges):
        if node not in index:
            visit(node)
    return groups


def test_the_cycle_finder_finds_a_cycle() -> None:
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_the_reader_sees_type_checking_and_relative_imports(tmp_path: Path) -> None:
    module = tmp_path / "m.py"
    module.write_text(
        "from typing import TYPE_CHECKING\n"
        "from . import sibling\n"
        "if TYPE_CHECKING:\n"
        "    from pkg.other import Thing\n"
        "def later():\n"
        "    import pkg.lazy\n"
    )
    known = {"pkg.m", "pkg.sibling", "pkg.other", "pkg.lazy"}
    assert imports("pkg.m", module, known) == {"pkg.sibling", "pkg.other"}


def test_mock_server_has_no_import_cycle() -> None:
    edges = graph()
    assert len(edges) > 40
    assert cycles(edges) == []


def test_the_domain_never_imports_the_web_edge_the_stores_or_the_recorder() -> None:
    edges = graph()
    outward = ("mock_server.web", "mock_server.stores", "mock_server.recording")
    crossing = {
        (name, target)
        for name, targets in edges.items()
        if name.startswith("mock_server.domain")
        for target in targets
        if target.startswith(outward)
    }
    assert crossing == set()
