"""The built wheel answers on its own: seeds and templates ship inside it as package data.

`pip install .` (not `-e`) is what the systemd recipe and the Docker image do; a wheel without
`seeds/` and `templates/` cannot answer anything outside a checkout.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import venv
import zipfile
from pathlib import Path

import pytest

from tests.conftest import ROOT, SEEDS, TEMPLATES

pytestmark = pytest.mark.e2e

SOURCES = ("pyproject.toml", "README.md", "LICENSE", "bot", "seeds", "templates")
"""What building the wheel reads (copied, so that building writes nothing into the checkout)."""


def run(command: list[str], cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        command, cwd=cwd, env=env, capture_output=True, text=True, timeout=300, check=False
    )
    assert done.returncode == 0, f"{command}\n{done.stdout}\n{done.stderr}"
    return done


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The wheel `pip wheel .` builds from a copy of the checkout."""
    source = tmp_path_factory.mktemp("source")
    for name in SOURCES:
        origin = ROOT / name
        if origin.is_dir():
            shutil.copytree(origin, source / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(origin, source / name)
    out = tmp_path_factory.mktemp("wheel")
    run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", str(out), "."],
        source,
        clean_env(),
    )
    (built,) = out.glob("briefbot-*.whl")
    return built


def clean_env() -> dict[str, str]:
    """The environment without the bot's settings or a path into the checkout."""
    return {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("BRIEFBOT_", "SLACK_")) and k not in ("PYTHONPATH", "VIRTUAL_ENV")
    }


def test_the_wheel_carries_every_seed_and_template(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    for folder, packaged in ((SEEDS, "bot/seeds"), (TEMPLATES, "bot/templates")):
        files = [p for p in folder.rglob("*") if p.is_file() and p.suffix != ".pyc"]
        assert files
        missing = [str(p) for p in files if f"{packaged}/{p.relative_to(folder)}" not in names]
        assert missing == []
    assert any(name.endswith(".dist-info/licenses/LICENSE") for name in names)


def test_an_installed_wheel_answers_outside_the_checkout(wheel: Path, tmp_path: Path) -> None:
    target = tmp_path / "venv"
    venv.create(target, with_pip=True)
    python = target / "bin" / "python"
    env = clean_env()
    run([str(python), "-m", "pip", "install", "--no-deps", "--quiet", str(wheel)], tmp_path, env)
    # The dependencies come from the environment running the tests (no download); the wheel's own
    # `bot` is found first, in the new venv's site-packages.
    site = Path(
        run(
            [str(python), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
            tmp_path,
            env,
        ).stdout.strip()
    )
    (site / "zz_test_dependencies.pth").write_text(sysconfig.get_path("purelib") + "\n")
    run([str(python), "-m", "pip", "check"], tmp_path, env)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    where = run(
        [str(python), "-c", "import bot, sys; sys.stdout.write(bot.__file__)"], elsewhere, env
    )
    assert Path(where.stdout).is_relative_to(site)
    done = run([str(target / "bin" / "briefbot"), "brief", "nato"], elsewhere, env)
    assert done.stdout.startswith("NEW ZEALAND AND NATO\n")
    assert "[1]" in done.stdout
    checked = run([str(target / "bin" / "briefbot"), "check"], elsewhere, env)
    assert checked.stdout.splitlines()[-1].startswith("ok: ")
