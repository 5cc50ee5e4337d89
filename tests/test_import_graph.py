"""The import graph stays readable (docs/architecture.md, "Import graph").

- A `portal.*` import inside a function is allowed only where a real import cycle forces it, and
  then says which one in a `# cycle: a -> b -> a` comment on the same or the previous line.
- The base layers never import a feature package: features are built on them, not the reverse.
  (The layering of the features themselves is import-linter's contract in pyproject.toml.)
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PORTAL = Path(__file__).resolve().parent.parent / "portal"

BASE_MODULES = {
    "portal.assets",
    "portal.refusals",
    "portal.extensions",
    "portal.config",
    "portal.i18n",
    "portal.text",
    "portal.forms",
    "portal.urls",
    "portal.converters",
    "portal.mail",
    "portal.uploads",
    "portal.access",
    "portal.columns",
    "portal.keyset",
    "portal.lists",
    "portal.signals",
    "portal.web",
    "portal.exports",
}
BASE_PACKAGES = {"portal.reference", "portal.enterprises"}
FEATURES = {
    "accounts",
    "filings",
    "review",
    "registry",
    "publicity",
    "editorial",
    "news",
    "disclosure",
    "compliance",
    "opendata",
    "search",
    "audit",
    "main",
    "downloads",
    "sharing",
}


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PORTAL.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


MODULES = sorted(PORTAL.rglob("*.py"))


def _imported(node: ast.Import | ast.ImportFrom, module: str, is_package: bool) -> list[str]:
    """The absolute module names an import statement reaches (`from portal import x` gives
    portal.x)."""
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    if node.level:
        base = module.split(".")
        if not is_package:
            base.pop()
        base = base[: len(base) - (node.level - 1)]
        target = ".".join(base + ([node.module] if node.module else []))
    else:
        target = node.module or ""
    return [target] + [f"{target}.{alias.name}" for alias in node.names]


def _function_imports(tree: ast.Module):
    def walk(node, in_function):
        for child in ast.iter_child_nodes(node):
            if in_function and isinstance(child, ast.Import | ast.ImportFrom):
                yield child
            yield from walk(
                child, in_function or isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef)
            )

    yield from walk(tree, False)


def _is_base(module: str) -> bool:
    return module in BASE_MODULES or any(
        module == package or module.startswith(package + ".") for package in BASE_PACKAGES
    )


def test_modules_found():
    names = {_module_name(path) for path in MODULES}
    assert {"portal.accounts.services", "portal.extensions", "portal.reference"} <= names


@pytest.mark.parametrize("path", MODULES, ids=lambda p: _module_name(p))
def test_function_level_portal_imports_name_their_cycle(path: Path):
    source = path.read_text(encoding="utf-8")
    lines = source.splitlines()
    module = _module_name(path)
    is_package = path.name == "__init__.py"
    unexplained = []
    for node in _function_imports(ast.parse(source)):
        targets = _imported(node, module, is_package)
        if not any(t == "portal" or t.startswith("portal.") for t in targets):
            continue
        here = lines[node.lineno - 1]
        before = lines[node.lineno - 2] if node.lineno >= 2 else ""
        if "# cycle:" not in here and "# cycle:" not in before:
            unexplained.append(f"{path.relative_to(PORTAL.parent)}:{node.lineno}: {here.strip()}")
    assert not unexplained, (
        "Move these imports to the top of the module, or name the import cycle that keeps them "
        "in the function in a `# cycle: a -> b -> a` comment:\n" + "\n".join(unexplained)
    )


@pytest.mark.parametrize(
    "path",
    [p for p in MODULES if _is_base(_module_name(p))],
    ids=lambda p: _module_name(p),
)
def test_base_layers_import_no_feature_package(path: Path):
    module = _module_name(path)
    is_package = path.name == "__init__.py"
    wrong = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if not isinstance(node, ast.Import | ast.ImportFrom):
            continue
        for target in _imported(node, module, is_package):
            parts = target.split(".")
            if len(parts) >= 2 and parts[0] == "portal" and parts[1] in FEATURES:
                wrong.append(f"{path.relative_to(PORTAL.parent)}:{node.lineno}: {target}")
    assert not wrong, f"{module} is a base layer and must not import a feature package:\n" + (
        "\n".join(wrong)
    )
