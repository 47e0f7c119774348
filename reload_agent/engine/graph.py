"""The import graph of loaded modules, read from their source, and reload order.

Edges come from ``import`` statements anywhere except inside function bodies
(those run lazily and see the new module anyway): ``import a.b``, ``from a import
b``, relative imports and ``from . import x``. Each file's edges are cached by its
stat. Dependents are the reverse edges; order puts dependencies first, with import
cycles grouped together and reported.

>>> sorted(imports_in("from . import x\\nimport a.b\\n", "pkg.mod", "pkg"))
['a', 'a.b', 'pkg', 'pkg.x']
"""

from __future__ import annotations

import sys
from types import ModuleType
from typing import Iterable

from . import sources
from .modules import source_file

__all__ = ["imports_in", "ImportGraph"]


def imports_in(text: str, name: str, package: str | None) -> set[str]:
    """Absolute names of every module ``text`` may import (whether loaded or not)."""
    import ast  # here, not at the top: the launcher imports the engine before the program starts

    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return set()
    found: set[str] = set()

    def add(dotted: str) -> None:
        parts = dotted.split(".")
        for i in range(1, len(parts) + 1):
            found.add(".".join(parts[:i]))

    stack: list[ast.AST] = [tree]
    while stack:
        node = stack.pop()
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
                continue
            if isinstance(child, ast.Import):
                for alias in child.names:
                    add(alias.name)
            elif isinstance(child, ast.ImportFrom):
                base = child.module or ""
                if child.level:
                    pkg = (package or "").split(".") if package else []
                    keep = len(pkg) - (child.level - 1)
                    if keep <= 0 and child.level > 1:
                        continue
                    prefix = ".".join(pkg[: max(keep, 0)])
                    base = f"{prefix}.{base}" if prefix and base else (prefix or base)
                if not base:
                    continue
                add(base)
                for alias in child.names:
                    if alias.name != "*":
                        found.add(f"{base}.{alias.name}")
            elif isinstance(child, (ast.stmt, ast.excepthandler, ast.match_case)):
                stack.append(child)
    found.discard(name)
    return found


def _package_of(name: str, module: ModuleType) -> str | None:
    package = getattr(module, "__package__", None)
    if package is None:
        package = name if hasattr(module, "__path__") else name.rpartition(".")[0]
    return package


class ImportGraph:
    """Edges between loaded modules, computed lazily per file and cached by stat."""

    def __init__(self) -> None:
        self._cache: dict[tuple[str, str], tuple[sources.StatKey | None, frozenset[str]]] = {}

    def imports_of(self, name: str, module: ModuleType | None = None, text: str | None = None) -> frozenset[str]:
        """The loaded modules ``name`` imports (from ``text`` when given, else its file)."""
        module = module if module is not None else sys.modules.get(name)
        file = source_file(module) if module is not None else None
        if file is None:
            return frozenset()
        if text is None:
            key = sources.stat_key(file)
            cached = self._cache.get((name, file))
            if cached is not None and cached[0] == key and key is not None:
                raw = cached[1]
            else:
                try:
                    with open(file, "rb") as f:
                        text = sources.decode(f.read())
                except (OSError, SyntaxError, UnicodeDecodeError, LookupError):
                    return frozenset()
                raw = frozenset(imports_in(text, name, _package_of(name, module)))
                self._cache[(name, file)] = (key, raw)
        else:
            raw = frozenset(imports_in(text, name, _package_of(name, module)))
        modules = sys.modules
        return frozenset(n for n in raw if modules.get(n) is not None)

    def dependents(self, names: Iterable[str]) -> set[str]:
        """Loaded project modules that import any of ``names``, directly or not (``names`` excluded)."""
        targets = set(names)
        reverse: dict[str, set[str]] = {}
        for name, module in list(sys.modules.items()):
            file = source_file(module) if module is not None else None
            if file is None or sources.is_library_file(file):
                continue
            for dep in self.imports_of(name, module):
                reverse.setdefault(dep, set()).add(name)
        found: set[str] = set()
        todo = list(targets)
        while todo:
            for importer in reverse.get(todo.pop(), ()):
                if importer not in found and importer not in targets:
                    found.add(importer)
                    todo.append(importer)
        return found

    def order(self, names: list[str], texts: dict[str, str] | None = None) -> tuple[list[str], list[list[str]]]:
        """``names`` with dependencies first, and the import cycles among them.

        A dependency through a module outside ``names`` counts too (a imports b imports c: c before a).
        """
        texts = texts or {}
        selected = set(names)
        edges: dict[str, list[str]] = {}
        for name in names:
            reach: list[str] = []
            seen = {name}
            todo = list(self.imports_of(name, text=texts.get(name)))
            while todo:
                dep = todo.pop()
                if dep in seen:
                    continue
                seen.add(dep)
                if dep in selected:
                    reach.append(dep)
                    continue
                file = getattr(sys.modules.get(dep), "__file__", None)
                if isinstance(file, str) and not sources.is_library_file(file):
                    todo.extend(self.imports_of(dep))
            edges[name] = sorted(reach, key=names.index)
        return _tarjan(names, edges)


def _tarjan(nodes: list[str], edges: dict[str, list[str]]) -> tuple[list[str], list[list[str]]]:
    """Strongly connected components, dependencies first (iterative Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    order: list[str] = []
    cycles: list[list[str]] = []
    counter = 0
    for root in nodes:
        if root in index:
            continue
        work = [(root, iter(edges.get(root, ())))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, it = work[-1]
            advanced = False
            for nxt in it:
                if nxt not in index:
                    index[nxt] = low[nxt] = counter
                    counter += 1
                    stack.append(nxt)
                    on_stack.add(nxt)
                    work.append((nxt, iter(edges.get(nxt, ()))))
                    advanced = True
                    break
                if nxt in on_stack:
                    low[node] = min(low[node], index[nxt])
            if advanced:
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                component.sort(key=nodes.index)
                order.extend(component)
                if len(component) > 1:
                    cycles.append(component)
    return order, cycles
