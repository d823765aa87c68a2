"""What each route can raise, read from the source: the domain errors raised in the route and in
every function it calls, through any depth. A call is followed to the function its module
imports under that name (or defines); a method call to every function of that name, so the
answer is a superset."""

import ast
from collections.abc import Iterator
from pathlib import Path

from buurtplus.core.errors import DomainError

ROUTE_METHODS = {"get", "post", "put", "patch", "delete"}


def _named(node: ast.expr) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return None


def _module_path(package: Path, dotted: str) -> Path:
    """src/buurtplus/a/b.py (or its package's __init__.py) for buurtplus.a.b."""
    base = package.parent.joinpath(*dotted.split("."))
    return base.with_suffix(".py") if base.with_suffix(".py").exists() else base / "__init__.py"


def _imports(package: Path, tree: ast.Module) -> dict[str, Path]:
    """Each name a module imports from this package -> the module that defines it (for a
    module imported by name, that module itself)."""
    names: dict[str, Path] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith(package.name):
            for alias in node.names:
                module = _module_path(package, f"{node.module}.{alias.name}")
                names[alias.asname or alias.name] = (
                    module if module.exists() else _module_path(package, node.module or "")
                )
    return names


class _Function:
    def __init__(
        self, module: Path, node: ast.FunctionDef | ast.AsyncFunctionDef, imports: dict[str, Path]
    ) -> None:
        self.module = module
        self.node = node
        self.raises: set[str] = set()
        # (name, module it is looked up in, or None: any function of that name)
        self.calls: set[tuple[str, Path | None]] = set()
        for sub in ast.walk(node):
            if isinstance(sub, ast.Raise) and sub.exc is not None:
                exc = sub.exc.func if isinstance(sub.exc, ast.Call) else sub.exc
                if name := _named(exc):
                    self.raises.add(name)
            elif isinstance(sub, ast.Call):
                func = sub.func
                if isinstance(func, ast.Name):
                    self.calls.add((func.id, imports.get(func.id, module)))
                elif isinstance(func, ast.Attribute):
                    owner = func.value.id if isinstance(func.value, ast.Name) else None
                    self.calls.add((func.attr, imports.get(owner) if owner else None))
                # An error class handed over to be raised (version_from_if_match(v, StaleAed)).
                self.raises.update(a.id for a in sub.args if isinstance(a, ast.Name))


def _functions(package: Path) -> Iterator[_Function]:
    for path in sorted(package.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        imports = _imports(package, tree)
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                yield _Function(path, node, imports)


def _error_classes() -> dict[str, type[DomainError]]:
    found: dict[str, type[DomainError]] = {}
    todo: list[type[DomainError]] = [DomainError]
    while todo:
        for sub in todo.pop().__subclasses__():
            found[sub.__name__] = sub
            todo.append(sub)
    return found


def raised_by_routes(package: Path) -> dict[str, set[type[DomainError]]]:
    """Route function name -> the domain errors it can raise."""
    by_name: dict[str, list[_Function]] = {}
    for function in _functions(package):
        by_name.setdefault(function.node.name, []).append(function)
    errors = _error_classes()

    def reach(function: _Function, seen: set[int]) -> set[str]:
        if id(function) in seen:
            return set()
        seen.add(id(function))
        names = set(function.raises)
        for call, module in function.calls:
            candidates = by_name.get(call, [])
            found = [c for c in candidates if c.module == module] if module else []
            for callee in found or ([] if module else candidates):
                names |= reach(callee, seen)
        return names

    routes: dict[str, set[type[DomainError]]] = {}
    for function in by_name.values():
        for candidate in function:
            if "/api/routes/" not in str(candidate.module):
                continue
            decorators = [
                d.func.attr
                for d in candidate.node.decorator_list
                if isinstance(d, ast.Call) and isinstance(d.func, ast.Attribute)
            ]
            if ROUTE_METHODS & set(decorators):
                routes[candidate.node.name] = {
                    errors[name] for name in reach(candidate, set()) if name in errors
                }
    return routes
