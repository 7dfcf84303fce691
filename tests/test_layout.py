"""The package's layout holds: inference (detect/, stance/) never imports training or anything above it,
and no module reaches into another's private names."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import propscan

PACKAGE = Path(propscan.__file__).parent
# What inference may import of propscan: itself and the plain modules below every stage.
INFERENCE_MAY_IMPORT = ("propscan.detect", "propscan.stance", "propscan.errors", "propscan.taxonomy",
                        "propscan.document", "propscan.segment")


def _imports(path: Path) -> list[tuple[str, list[str]]]:
    """(module, names) of every ``import`` and ``from ... import`` in a file, wherever it sits."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append((node.module, [alias.name for alias in node.names]))
        elif isinstance(node, ast.Import):
            found += [(alias.name, []) for alias in node.names]
    return found


def _modules(*folders: str) -> list[Path]:
    return sorted(p for folder in folders for p in (PACKAGE / folder).rglob("*.py"))


@pytest.mark.parametrize("path", _modules("detect", "stance"), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_inference_imports_nothing_above_it(path):
    upward = [module for module, _ in _imports(path)
              if module.startswith("propscan") and not module.startswith(INFERENCE_MAY_IMPORT)]
    assert upward == []


def test_no_module_imports_another_modules_private_names():
    private = [(str(path.relative_to(PACKAGE)), module, name)
               for path in sorted(PACKAGE.rglob("*.py")) for module, names in _imports(path)
               if module.startswith("propscan") for name in names if name.startswith("_")]
    assert private == []


def test_the_old_models_package_is_gone():
    assert not (PACKAGE / "models").exists()
