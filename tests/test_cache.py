"""The command line's cache (`bot.cache`): the same answers as without it, never stale, and
never in the way when it cannot be used."""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
import pickle
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import time_machine

from bot import cache as cache_module
from bot.cache import FORMAT, SeedCache, seeds_key
from bot.cli import EXIT_CONFIG, EXIT_OK
from bot.render import TEXT, Renderer
from tests.conftest import SEEDS, cli
from tests.seedkit import fact_yaml, make_seeds

TODAY = "2026-11-23"


pytestmark = pytest.mark.usefixtures("default_settings")


@pytest.fixture
def cache_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty cache directory of this test's own."""
    where = tmp_path / "cache"
    monkeypatch.setenv("BRIEFBOT_CACHE_DIR", str(where))
    return where


def entry_file(cache_dir: Path, seeds: Path = SEEDS) -> Path:
    return SeedCache(cache_dir).entry_path(seeds)


def read_entry(path: Path) -> tuple[Any, ...]:
    with open(path, "rb") as file:
        entry = pickle.load(file)
    assert isinstance(entry, tuple)
    return entry


def write_entry(path: Path, entry: tuple[Any, ...]) -> None:
    with open(path, "wb") as file:
        pickle.dump(entry, file)


def tamper_title(cache_dir: Path, title: str) -> Path:
    """Rewrite the bundled seeds' entry under its own key with another title for `nato`: what
    the CLI prints then shows whether it took the fact base from the cache."""
    path = entry_file(cache_dir)
    fmt, key, seeds, ranked = read_entry(path)
    factbase = seeds.factbase
    topics = dict(factbase.topics)
    topics["nato"] = dataclasses.replace(topics["nato"], title=title)
    seeds = dataclasses.replace(seeds, factbase=dataclasses.replace(factbase, topics=topics))
    write_entry(path, (fmt, key, seeds, ranked))
    return path


QUERIES = [
    ("brief", "nato", "--today", TODAY),
    ("brief", "natoo", "--today", TODAY),  # a typo
    ("brief", "what is new zealand doing with nato", "--today", TODAY),
    ("brief", "nato", "--full", "--format", "markdown", "--today", TODAY),
    ("brief", "nato", "--format", "json", "--today", TODAY),
    ("brief", "no such thing at all", "--today", TODAY),
    ("brief", "upcoming", "--today", TODAY),
    ("topics",),
    ("search", "partnership", "programme"),
]


def test_every_answer_is_the_same_with_and_without_the_cache(
    cache_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = [cli(*argv) for argv in QUERIES]  # builds the cache, ranking as it goes
    assert entry_file(cache_dir).is_file()
    again = [cli(*argv) for argv in QUERIES]  # answered from it
    monkeypatch.setenv("BRIEFBOT_CACHE_DIR", "off")
    without = [cli(*argv) for argv in QUERIES]
    assert first == again == without
    assert [code for code, _out in without][:2] == [EXIT_OK, EXIT_OK]


def test_the_cache_is_what_a_later_run_answers_from(cache_dir: Path) -> None:
    cli("brief", "nato")
    tamper_title(cache_dir, "Taken From The Cache")
    assert cli("brief", "nato", "--today", TODAY)[1].startswith("TAKEN FROM THE CACHE\n")


def test_briefs_keep_the_topics_they_ranked(cache_dir: Path) -> None:
    cli("brief", "nato")
    ranked = read_entry(entry_file(cache_dir))[3]
    assert list(ranked) == ["nato"]
    cli("brief", "rok")
    _fmt, _key, seeds, ranked = read_entry(entry_file(cache_dir))
    assert sorted(ranked) == ["nato", "rok"]
    assert all(fact is seeds.factbase.facts[fact.id] for fact in ranked["nato"])


def test_a_changed_seed_file_is_verified_again(
    tmp_path: Path, cache_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seeds = make_seeds(tmp_path, facts=fact_yaml("f1", statement="Ministers met first."))
    monkeypatch.setenv("BRIEFBOT_SEEDS_DIR", str(seeds))
    assert "Ministers met first." in cli("brief", "alpha")[1]
    facts = seeds / "facts" / "main.yaml"
    facts.write_text(fact_yaml("f1", statement="Ministers met again."), encoding="utf-8")
    assert "Ministers met again." in cli("brief", "alpha")[1]
    (seeds / "facts" / "more.yaml").write_text(
        fact_yaml("f2", statement="A new file was read."), encoding="utf-8"
    )
    assert "A new file was read." in cli("brief", "alpha")[1]
    (seeds / "facts" / "more.yaml").unlink()
    assert "A new file was read." not in cli("brief", "alpha")[1]


def test_seeds_that_stop_verifying_are_refused_despite_the_cache(
    tmp_path: Path, cache_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seeds = make_seeds(tmp_path)
    monkeypatch.setenv("BRIEFBOT_SEEDS_DIR", str(seeds))
    assert cli("brief", "alpha")[0] == EXIT_OK
    broken = fact_yaml("f1", quote="Ministers met in Auckland")  # not in the document
    (seeds / "facts" / "main.yaml").write_text(broken, encoding="utf-8")
    assert cli("brief", "alpha")[0] == EXIT_CONFIG
    assert read_entry(entry_file(cache_dir, seeds))[2].factbase.facts["f1"].quote == (
        "Ministers met in Wellington"  # the last good seeds stay cached, and are not served
    )


def test_a_change_of_code_is_never_answered_from_an_older_entry(
    cache_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cli("brief", "nato")
    tamper_title(cache_dir, "Made By Other Code")
    monkeypatch.setattr(cache_module, "_code_version", "another version of the code")
    assert cli("brief", "nato", "--today", TODAY)[1].startswith("NEW ZEALAND AND NATO\n")


def test_a_corrupt_entry_is_ignored_and_rewritten(cache_dir: Path) -> None:
    expected = cli("brief", "nato", "--today", TODAY)
    path = entry_file(cache_dir)
    for garbage in (b"", b"not a pickle", pickle.dumps(("something", "else")), b"\x80\x05K"):
        path.write_bytes(garbage)
        assert cli("brief", "nato", "--today", TODAY) == expected
        assert read_entry(path)[:2] == (FORMAT, seeds_key(SEEDS))


def test_entries_are_private_whatever_the_umask(cache_dir: Path) -> None:
    before = os.umask(0o002)  # a group-writable default, as on many desktops
    try:
        cli("brief", "nato")
    finally:
        os.umask(before)
    assert entry_file(cache_dir).stat().st_mode & 0o777 == 0o600
    tamper_title(cache_dir, "Still Trusted")
    assert cli("brief", "nato", "--today", TODAY)[1].startswith("STILL TRUSTED\n")


def test_an_entry_others_may_write_is_not_trusted(cache_dir: Path) -> None:
    cli("brief", "nato")
    path = tamper_title(cache_dir, "Planted By Someone Else")
    path.chmod(0o666)
    assert cli("brief", "nato", "--today", TODAY)[1].startswith("NEW ZEALAND AND NATO\n")


def test_a_cache_directory_that_cannot_be_written_changes_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    expected = cli("brief", "nato", "--today", TODAY)
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    monkeypatch.setenv("BRIEFBOT_CACHE_DIR", str(blocker / "cache"))  # cannot be created
    assert cli("brief", "nato", "--today", TODAY) == expected
    assert cli("brief", "rok", "--today", TODAY)[0] == EXIT_OK
    monkeypatch.setenv("BRIEFBOT_CACHE_DIR", str(blocker))  # a file, not a directory
    assert cli("brief", "nato", "--today", TODAY) == expected


def test_off_keeps_no_cache(
    cache_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    monkeypatch.setenv("BRIEFBOT_CACHE_DIR", "off")
    assert cli("brief", "nato")[0] == EXIT_OK
    assert not (tmp_path / "xdg").exists()
    monkeypatch.delenv("BRIEFBOT_CACHE_DIR")
    assert cli("brief", "nato")[0] == EXIT_OK
    assert list((tmp_path / "xdg" / "briefbot").glob("seeds-*.pickle"))


def test_a_seeds_directory_with_a_fifo_is_verified_as_without_a_cache(
    tmp_path: Path, cache_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seeds = make_seeds(tmp_path)
    os.mkfifo(seeds / "facts" / "pipe.yaml")  # reading it would block
    monkeypatch.setenv("BRIEFBOT_SEEDS_DIR", str(seeds))
    assert seeds_key(seeds) is None
    code, _out = cli("check")
    assert code == EXIT_CONFIG
    assert cli("brief", "alpha")[0] == EXIT_CONFIG
    assert not entry_file(cache_dir, seeds).exists()


def test_about_shows_when_this_run_loaded_the_fact_base(cache_dir: Path) -> None:
    with time_machine.travel(dt.datetime(2026, 1, 2, 3, 4, tzinfo=dt.UTC), tick=False):
        assert "2026-01-02 03:04 UTC" in cli("brief", "about")[1]
    with time_machine.travel(dt.datetime(2026, 5, 6, 7, 8, tzinfo=dt.UTC), tick=False):
        assert "2026-05-06 07:08 UTC" in cli("brief", "about")[1]  # from the cache


def test_compiled_templates_follow_their_source(tmp_path: Path) -> None:
    templates = tmp_path / "templates"
    templates.mkdir()
    (templates / "error.txt.j2").write_text("first: {{ reply }}")
    cached = tmp_path / "cache"
    assert Renderer(templates, cache_dir=cached).render("error", TEXT, reply="x") == "first: x\n"
    assert list((cached / "templates").glob("text-*.cache"))
    (templates / "error.txt.j2").write_text("second: {{ reply }}")
    assert Renderer(templates, cache_dir=cached).render("error", TEXT, reply="x") == "second: x\n"
    for compiled in (cached / "templates").glob("*.cache"):
        compiled.write_bytes(b"j2 corrupt")
    assert Renderer(templates, cache_dir=cached).render("error", TEXT, reply="y") == "second: y\n"
    blocked = tmp_path / "a-file"
    blocked.write_text("")
    assert Renderer(templates, cache_dir=blocked).render("error", TEXT, reply="z") == "second: z\n"


def test_a_brief_from_the_cache_imports_neither_the_loader_nor_yaml_nor_rapidfuzz(
    cache_dir: Path,
) -> None:
    """What a cached start saves: no YAML parsing, no verifying, no typo matching or ranking
    for an exact name, and none of the commands' modules that `brief` does not run."""
    lazy = (
        "yaml",
        "rapidfuzz",
        "bot.factbase.loader",
        "bot.reminders.rules",
        "bot.curate.review",
        "bot.editorial",
        "bot.gaps",
        "bot.status_replies",
        "importlib.resources",
    )
    probe = (
        "import io, sys, bot.cli; bot.cli.main(['brief', 'nato'], stdout=io.StringIO()); "
        f"print([m for m in {lazy!r} if m in sys.modules])"
    )
    env = {**os.environ, "BRIEFBOT_CACHE_DIR": str(cache_dir)}
    runs = [
        subprocess.run(
            [sys.executable, "-c", probe], capture_output=True, text=True, env=env, check=True
        ).stdout.strip()
        for _ in range(2)
    ]
    assert "'yaml'" in runs[0]  # the first run verifies the seeds
    assert runs[1] == "[]"
