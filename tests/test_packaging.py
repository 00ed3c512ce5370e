"""pyproject.toml ships every package, the fact base and the templates, under the MIT licence.

The wheel itself is built and run in tests/e2e/test_wheel.py; these checks are the fast half.
"""

from __future__ import annotations

import tomllib
from typing import Any

from bot.config import Settings
from tests.conftest import ROOT, SEEDS, TEMPLATES


def pyproject() -> dict[str, Any]:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())


def test_every_python_package_and_data_folder_is_listed() -> None:
    listed = set(pyproject()["tool"]["setuptools"]["packages"])
    code = {".".join(p.parent.relative_to(ROOT).parts) for p in (ROOT / "bot").rglob("__init__.py")}
    data = {
        ".".join(("bot", *p.relative_to(ROOT).parts))
        for folder in (SEEDS, TEMPLATES)
        for p in (folder, *folder.rglob("*"))
        if p.is_dir() and p.name != "__pycache__"
    }
    assert listed == code | data


def test_the_licence_is_an_spdx_expression_with_its_file() -> None:
    project = pyproject()["project"]
    assert project["license"] == "MIT"
    assert project["license-files"] == ["LICENSE"]
    assert (ROOT / "LICENSE").read_text().startswith("MIT License\n")
    assert "setuptools>=77" in pyproject()["build-system"]["requires"]


def test_a_checkout_uses_its_own_seeds_and_templates() -> None:
    settings = Settings()
    assert (settings.seeds_dir, settings.templates_dir) == (SEEDS, TEMPLATES)
