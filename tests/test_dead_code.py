"""Every public name defined in `bot/` has a caller in `bot/` or a template, not only in tests."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

from tests.conftest import ROOT, TEMPLATES

USED_OUTSIDE_BOT = {
    "ACTIONS": "the registry's routes: tests/test_manifests.py checks the manifests against them",
    "BOT_SCOPES": "the registry's scopes: tests/test_manifests.py checks the manifests",
    "EVENTS": "the registry's events: tests/test_manifests.py checks the manifests",
    "ENVIRONMENT_VARIABLES": "the documented settings: tests/test_deploy.py checks the docs",
    "downgrade": "Alembic calls each migration's downgrade",
    "reducer_override": "pickle calls it for every object bot/cache.py stores",
    "make_globals": "Jinja2 calls it for each template bot/render.py's environment loads",
    "ASSISTANT_SCOPES": "the registry's optional scopes: tests/test_manifests.py checks them",
    "SHORTCUTS": "the registry's shortcuts: tests/test_manifests.py checks the manifests",
    "bot_events": "the registry's event list: tests/test_manifests.py checks the manifests",
    "pending": "the ack runner's queue depth, watched by tests/test_slack_acks.py",
}
"""Names whose callers are outside `bot/` by design, with the reason."""

_DEFINITION = re.compile(
    r"^(?:(?:async )?def|class) ([A-Za-z]\w*)"  # a function or class
    r"|^([A-Z][A-Z0-9_]+)\s*[:=]"  # a constant
    r"|^    (?:async )?def ([a-z]\w*)\("  # a public method
)


def test_no_public_name_in_bot_is_used_only_by_tests() -> None:
    sources = {path: path.read_text(encoding="utf-8") for path in (ROOT / "bot").rglob("*.py")}
    templates = "".join(p.read_text(encoding="utf-8") for p in Path(TEMPLATES).rglob("*.j2"))
    defined: dict[str, int] = {}
    for text in sources.values():
        for line in text.splitlines():
            match = _DEFINITION.match(line)
            if match:
                name = next(group for group in match.groups() if group)
                defined[name] = defined.get(name, 0) + 1
    mentions = Counter(re.findall(r"\w+", "\n".join([*sources.values(), templates])))
    unused = sorted(
        name
        for name, definitions in defined.items()
        if name not in USED_OUTSIDE_BOT and mentions[name] <= definitions
    )
    assert unused == []
