"""domain/, routing/ and delivery/ know nothing of HTTP (STYLE.md)."""

import ast
import subprocess
import sys
from pathlib import Path

import pytest

import buurtplus

PACKAGE = Path(buurtplus.__file__).parent
HTTP_FREE = ["domain", "routing", "delivery"]
FORBIDDEN = ("fastapi", "starlette")


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


@pytest.mark.parametrize("layer", HTTP_FREE)
def test_layer_imports_no_web_framework(layer: str) -> None:
    offenders = [
        f"{path.relative_to(PACKAGE)}: {name}"
        for path in (PACKAGE / layer).rglob("*.py")
        for name in imported_modules(path)
        if name.split(".")[0] in FORBIDDEN or name.startswith("buurtplus.api")
    ]
    assert offenders == []


def test_importing_the_domain_loads_no_web_framework() -> None:
    modules = [
        "buurtplus." + ".".join(path.relative_to(PACKAGE).with_suffix("").parts)
        for layer in HTTP_FREE
        for path in (PACKAGE / layer).rglob("*.py")
        if path.name != "__init__.py"
    ]
    script = (
        "import importlib, sys\n"
        f"for name in {modules!r}: importlib.import_module(name)\n"
        f"loaded = sorted(m for m in sys.modules if m.split('.')[0] in {FORBIDDEN!r})\n"
        "print(','.join(loaded))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == ""
