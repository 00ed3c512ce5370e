"""The deployment files in deploy/ agree with the code: variables, probes, commands, routes."""

from __future__ import annotations

import configparser
import json
import re
import shlex
import shutil
import subprocess
import sys
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
    return names - {
        "PATH",
        "PYTHONUNBUFFERED",
        "PYTHONDONTWRITEBYTECODE",
        "PIP_NO_CACHE_DIR",
        "PIP_DISABLE_PIP_VERSION_CHECK",
    }


def compose() -> dict:  # type: ignore[type-arg]
    return yaml.safe_load((DEPLOY / "docker-compose.yml").read_text())


def k8s(name: str) -> dict:  # type: ignore[type-arg]
    return yaml.safe_load((DEPLOY / "k8s" / name).read_text())


def env_file(path: Path) -> set[str]:
    return {
        line.split("=", 1)[0]
        for line in path.read_text().splitlines()
        if line.strip() and not line.startswith("#")
    }


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
    read = set(
        re.findall(r'(?:text|secret|integer|directory|boolean|id_list)\(\s*"([A-Z_]+)"', source)
    )
    assert read == set(ENVIRONMENT_VARIABLES)
    readme = (ROOT / "README.md").read_text()
    missing = [name for name in ENVIRONMENT_VARIABLES if f"`{name}`" not in readme]
    assert missing == [], f"README's configuration table lacks {missing}"


def served_paths(tmp_path: Path) -> set[str]:
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'bot.db'}", watch_seeds=False)
    runtime = Runtime.build(settings)
    try:
        return {route.path for route in create_http_app(runtime, slack=False).others.routes}  # type: ignore[attr-defined]
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


# --- the operator's recipes work as written -----------------------------------------------------


def readme_section(title: str) -> str:
    text = (ROOT / "README.md").read_text()
    start = text.index(f"### {title}\n")
    end = text.find("\n##", start + 4)
    return text[start:end]


def shell_blocks(section: str) -> list[list[str]]:
    """The commands of each `sh` block, without comments."""
    return [
        [
            line.split("  #")[0].strip()
            for line in block.splitlines()
            if line.strip() and not line.startswith("#")
        ]
        for block in re.findall(r"```sh\n(.*?)```", section, re.S)
    ]


def shell_lines(section: str) -> list[str]:
    return [line for block in shell_blocks(section) for line in block]


def unit() -> configparser.ConfigParser:
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read_string((DEPLOY / "systemd" / "briefbot.service").read_text())
    return parser


def test_the_systemd_unit_is_valid_and_raises_the_open_file_limit(tmp_path: Path) -> None:
    service = unit()["Service"]
    assert service["LimitNOFILE"] == "65536"
    assert service["StateDirectory"] == "briefbot"
    # systemd's own checker, with ExecStart pointing at a briefbot that exists here
    text = (DEPLOY / "systemd" / "briefbot.service").read_text()
    exe = Path(sys.executable).with_name("briefbot")
    (tmp_path / "briefbot.service").write_text(
        text.replace("/opt/briefbot/venv/bin/briefbot", str(exe))
    )
    checker = shutil.which("systemd-analyze")
    assert checker, "systemd-analyze checks the unit; install systemd"
    done = subprocess.run(
        [checker, "verify", str(tmp_path / "briefbot.service")],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert (done.returncode, done.stdout + done.stderr) == (0, "")


def test_the_systemd_recipe_creates_everything_the_unit_needs() -> None:
    lines = shell_blocks(readme_section("systemd (one VM)"))[0]
    service = unit()["Service"]
    user = service["User"]
    useradd = next(line for line in lines if "useradd" in line)
    assert useradd.split()[-1] == user and "--user-group" in useradd
    assert service["Group"] == user
    exec_start = shlex.split(service["ExecStart"])[0]
    venv = exec_start.removesuffix("/bin/briefbot")
    assert f"sudo python3 -m venv {venv}" in lines
    assert f'sudo {venv}/bin/pip install ".[postgres]"' in lines
    env_path = service["EnvironmentFile"]
    assert f"sudo install -d -m 0755 {Path(env_path).parent}" in lines
    assert f"sudo install -m 0600 deploy/systemd/briefbot.env.example {env_path}" in lines
    assert (
        "sudo install -m 0644 deploy/systemd/briefbot.service /etc/systemd/system/briefbot.service"
    ) in lines
    assert lines[-2:] == ["sudo systemctl daemon-reload", "sudo systemctl enable --now briefbot"]
    # what the bot writes lives in the directory systemd creates for it
    state = f"/var/lib/{service['StateDirectory']}"
    assert service["WorkingDirectory"] == state
    settings = dict(
        line.split("=", 1)
        for line in (DEPLOY / "systemd" / "briefbot.env.example").read_text().splitlines()
        if line and not line.startswith("#")
    )
    assert settings["BRIEFBOT_DATABASE_URL"] == f"sqlite:///{state}/briefbot.db"
    assert "BRIEFBOT_SEEDS_DIR" not in settings  # the package carries the fact base


def test_kubernetes_ships_the_postgres_the_deployment_points_at() -> None:
    url = k8s("secret.example.yaml")["stringData"]["BRIEFBOT_DATABASE_URL"]
    host = re.search(r"@([^:/]+):(\d+)/(\w+)$", url)
    assert host
    documents = list(yaml.safe_load_all((DEPLOY / "k8s" / "postgres.yaml").read_text()))
    service = next(d for d in documents if d["kind"] == "Service")
    assert service["metadata"]["name"] == host.group(1)
    assert service["spec"]["ports"][0]["port"] == int(host.group(2))
    (stateful,) = [d for d in documents if d["kind"] == "StatefulSet"]
    env = {e["name"]: e for e in stateful["spec"]["template"]["spec"]["containers"][0]["env"]}
    assert env["POSTGRES_DB"]["value"] == host.group(3)
    assert env["POSTGRES_USER"]["value"] in url
    secret = env["POSTGRES_PASSWORD"]["valueFrom"]["secretKeyRef"]
    section = readme_section("Kubernetes")
    assert (
        f'kubectl create secret generic {secret["name"]} --from-literal={secret["key"]}="$PASSWORD"'
    ) in shell_lines(section)
    assert "kubectl apply -f deploy/k8s/postgres.yaml" in shell_lines(section)


def test_kubernetes_applies_no_placeholder_channel() -> None:
    assert "BRIEFBOT_REMINDER_CHANNEL" not in k8s("configmap.yaml")["data"]
    applied = [
        line
        for line in shell_lines(readme_section("Kubernetes"))
        if line.startswith("kubectl apply")
    ]
    assert all("deploy/k8s/configmap.yaml" not in line for line in applied)
    assert any("-f configmap.yaml" in line for line in applied)


def test_the_docker_context_leaves_out_env_files_anywhere() -> None:
    patterns = (ROOT / ".dockerignore").read_text().split()
    assert "**/.env" in patterns  # deploy/.env holds the real tokens for compose
