"""The deployment files in deploy/ agree with the code: variables, probes, commands, routes."""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path

import pytest
import yaml

from bot.cli import build_parser
from bot.config import ENVIRONMENT_VARIABLES, Settings
from bot.runtime import Runtime
from bot.server import create_http_app

ROOT = Path(__file__).resolve().parent.parent
DEPLOY = ROOT / "deploy"


def dockerfile() -> str:
    return (DEPLOY / "Dockerfile").read_text()


def dockerfile_env() -> set[str]:
    names: set[str] = set()
    for block in re.findall(r"^ENV ((?:.*\\\n)*.*)$", dockerfile(), re.M):
        names |= set(re.findall(r"([A-Z_][A-Z0-9_]*)=", block))
    return names - {"PATH", "PYTHONUNBUFFERED", "PYTHONDONTWRITEBYTECODE", "PIP_NO_CACHE_DIR",
                    "PIP_DISABLE_PIP_VERSION_CHECK"}


def compose() -> dict:  # type: ignore[type-arg]
    return yaml.safe_load((DEPLOY / "docker-compose.yml").read_text())


def k8s(name: str) -> dict:  # type: ignore[type-arg]
    return yaml.safe_load((DEPLOY / "k8s" / name).read_text())


def env_file(path: Path) -> set[str]:
    return {line.split("=", 1)[0] for line in path.read_text().splitlines()
            if line.strip() and not line.startswith("#")}


def test_every_variable_the_deploy_files_set_is_one_the_code_reads() -> None:
    known = set(ENVIRONMENT_VARIABLES)
    sets = {
        "Dockerfile": dockerfile_env(),
        "docker-compose.yml": set(compose()["services"]["bot"]["environment"]),
        "k8s/configmap.yaml": set(k8s("configmap.yaml")["data"]),
        "k8s/secret.example.yaml": set(k8s("secret.example.yaml")["stringData"]),
        "systemd/briefbot.env.example": env_file(DEPLOY / "systemd" / "briefbot.env.example"),
        ".env.example": env_file(DEPLOY / ".env.example"),
    }
    for where, names in sets.items():
        assert names, where
        assert names <= known, f"{where} sets variables the code does not read: {names - known}"


def test_the_settings_read_exactly_the_documented_variables() -> None:
    source = (ROOT / "bot" / "config.py").read_text()
    read = set(re.findall(r'(?:text|secret|integer|directory|boolean|id_list)\(\s*"([A-Z_]+)"',
                          source))
    assert read == set(ENVIRONMENT_VARIABLES)
    readme = (ROOT / "README.md").read_text()
    missing = [name for name in ENVIRONMENT_VARIABLES if f"`{name}`" not in readme]
    assert missing == [], f"README's configuration table lacks {missing}"


def served_paths(tmp_path: Path) -> set[str]:
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'bot.db'}", watch_seeds=False)
    runtime = Runtime.build(settings)
    try:
        return {route.path for route in create_http_app(runtime, slack=False).routes}  # type: ignore[attr-defined]
    finally:
        runtime.close()


def test_probes_point_at_routes_the_server_serves(tmp_path: Path) -> None:
    paths = served_paths(tmp_path) | {"/slack/events"}
    container = k8s("deployment.yaml")["spec"]["template"]["spec"]["containers"][0]
    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert {"/readyz", "/healthz", "/metrics"} <= paths
    health = re.search(r"^HEALTHCHECK .*$\n.*", dockerfile(), re.M)
    assert health and "/healthz" in health.group(0)
    compose_check = " ".join(compose()["services"]["bot"]["healthcheck"]["test"])
    assert "/readyz" in compose_check
    assert k8s("deployment.yaml")["spec"]["replicas"] == 3


def cli_accepts(argv: list[str]) -> None:
    args = build_parser().parse_args(argv)
    assert args.command == argv[0]


def test_the_image_and_units_run_real_cli_commands() -> None:
    entrypoint = json.loads(re.search(r"^ENTRYPOINT (\[.*\])$", dockerfile(), re.M).group(1))  # type: ignore[union-attr]
    command = json.loads(re.search(r"^CMD (\[.*\])$", dockerfile(), re.M).group(1))  # type: ignore[union-attr]
    assert entrypoint == ["briefbot"]
    cli_accepts(command)
    container = k8s("deployment.yaml")["spec"]["template"]["spec"]["containers"][0]
    cli_accepts(container["args"])
    unit = (DEPLOY / "systemd" / "briefbot.service").read_text()
    exec_start = re.search(r"^ExecStart=(.*)$", unit, re.M).group(1)  # type: ignore[union-attr]
    words = shlex.split(exec_start)
    assert words[0].endswith("/briefbot")
    cli_accepts(words[1:])
    assert "ExecReload=/bin/kill -HUP $MAINPID" in unit
    assert "EnvironmentFile=" in unit and "Restart=on-failure" in unit


@pytest.mark.parametrize("port_var", ["PORT"])
def test_ports_agree(port_var: str) -> None:
    container = k8s("deployment.yaml")["spec"]["template"]["spec"]["containers"][0]
    assert str(container["ports"][0]["containerPort"]) == k8s("configmap.yaml")["data"][port_var]
    assert compose()["services"]["bot"]["ports"] == ["3000:3000"]
    assert "EXPOSE 3000" in dockerfile()
