"""The installed nn-tui must hold every module and data file the source tree has.

The tests import the source tree (pytest runs from the checkout), so a subpackage or a data file
left out of the distribution would pass every other test and still break `nn-tui` once installed.
"""
from __future__ import annotations

import sys
from importlib import metadata
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("tui", "engine", "data", "models")


def source_files() -> set[str]:
    files = {p.relative_to(ROOT).as_posix() for pkg in PACKAGES for p in (ROOT / pkg).rglob("*.py")}
    files |= {p.relative_to(ROOT).as_posix() for p in (ROOT / "tui").glob("*.tcss")}
    files |= {p.relative_to(ROOT).as_posix() for p in (ROOT / "data" / "mnist").glob("*.gz")}
    return {f for f in files if "__pycache__" not in f}


def test_every_module_directory_is_a_package_the_build_finds():
    if sys.version_info < (3, 11):
        pytest.skip("tomllib needs Python 3.11")
    import tomllib
    from setuptools import find_namespace_packages

    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    include = config["packages"]["find"]["include"]
    found = set(find_namespace_packages(str(ROOT), include=include))
    dirs = {p.parent.relative_to(ROOT).as_posix().replace("/", ".")
            for pkg in PACKAGES for p in (ROOT / pkg).rglob("*.py") if "__pycache__" not in p.parts}
    assert dirs <= found, f"not packaged: {sorted(dirs - found)}"
    for d in dirs:
        assert (ROOT / d.replace(".", "/") / "__init__.py").is_file(), f"{d} has no __init__.py"
    data = config["package-data"]
    assert "mnist/*.gz" in data["data"] and "*.tcss" in data["tui"]


def test_the_installed_distribution_holds_every_file():
    try:
        installed = {str(f) for f in metadata.files("nn-tui") or ()}
    except metadata.PackageNotFoundError:
        pytest.skip("nn-tui is not installed")
    if "tui/app.py" not in installed:
        pytest.skip("an editable install: the source tree is what runs")
    missing = sorted(source_files() - installed)
    assert not missing, f"left out of the installed package: {missing[:10]}"
