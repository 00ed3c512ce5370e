"""The Reloader: one swap of the served snapshot, then whatever must follow it (the App Home)."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.config import Settings
from bot.metrics import Metrics
from bot.runtime import Reloader
from bot.state import Knowledge, KnowledgeHolder, LoadResult, load_knowledge
from tests.seedkit import fact_yaml, make_seeds


def _knowledge(root: Path, statement: str) -> Knowledge:
    return load_knowledge(make_seeds(root, facts=fact_yaml("f1", statement=statement))).require()


def test_after_a_swap_each_listener_sees_the_new_snapshot_and_a_failure_is_only_logged(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    old, new = (
        _knowledge(tmp_path / "a", "Ministers met."),
        _knowledge(tmp_path / "b", "Envoys met."),
    )
    holder = KnowledgeHolder(old)
    reloader = Reloader(Settings(), holder, Metrics(), load=lambda: LoadResult(new, []))
    seen: list[tuple[Knowledge, Knowledge]] = []

    def broken(_knowledge: Knowledge) -> None:
        raise RuntimeError("Slack is down")

    reloader.after_swap += [broken, lambda knowledge: seen.append((knowledge, holder.current))]
    outcome = reloader.reload()
    assert outcome.ok and outcome.version == new.version
    assert seen == [(new, new)]  # called once the new snapshot is the one served
    assert "after a reload: broken failed" in caplog.text


def test_a_refused_reload_calls_no_listener(tmp_path: Path) -> None:
    old = _knowledge(tmp_path / "a", "Ministers met.")
    refused = LoadResult(None, [])
    reloader = Reloader(Settings(), KnowledgeHolder(old), Metrics(), load=lambda: refused)
    called: list[Knowledge] = []
    reloader.after_swap.append(called.append)
    assert not reloader.reload().ok
    assert called == []
