"""Publishing the fact base: snapshots, history, rollback, no-ops, replicas following them."""

from __future__ import annotations

import dataclasses
import datetime as dt
import io
import json
import shutil
import zlib
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from bot.cli import main
from bot.config import Settings
from bot.factbase import FactBase
from bot.publish.payload import PayloadError, decode, encode
from bot.publish.store import SnapshotStore, UnknownVersion, compare
from bot.runtime import Runtime, StartupError
from tests.conftest import SEEDS
from tests.fakeslack import FakeSlack

NOW = dt.datetime(2026, 11, 24, 9, 30, tzinfo=dt.UTC)


pytestmark = pytest.mark.usefixtures("default_settings")


@pytest.fixture
def database_url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    url = f"sqlite:///{tmp_path / 'bot.db'}"
    monkeypatch.setenv("BRIEFBOT_DATABASE_URL", url)
    return url


@pytest.fixture
def seeds(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    target = tmp_path / "seeds"
    shutil.copytree(SEEDS, target)
    monkeypatch.setenv("BRIEFBOT_SEEDS_DIR", str(target))
    return target


@pytest.fixture
def store(database_url: str) -> Iterator[SnapshotStore]:
    from bot.db import Database

    database = Database(database_url)
    yield SnapshotStore(database.engine)
    database.dispose()


def cli(*argv: str) -> tuple[int, str]:
    out = io.StringIO()
    code = main(list(argv), stdout=out)
    return code, out.getvalue()


def edited(factbase: FactBase, version: str) -> FactBase:
    """`factbase` with its first fact reworded, its second withdrawn and one fact added."""
    facts = list(factbase.facts.values())
    first, second = facts[0], facts[1]
    new = dataclasses.replace(facts[2], id="new-fact-one")
    changed = {f.id: f for f in facts if f.id != second.id}
    changed[first.id] = dataclasses.replace(first, statement=first.statement + " (corrected)")
    changed[new.id] = new
    return dataclasses.replace(factbase, facts=changed, version=version)


def test_a_payload_rebuilds_the_verified_objects(factbase: FactBase) -> None:
    contents = decode(encode(factbase, "- id: x\n"))
    rebuilt = contents.factbase
    assert rebuilt.version == factbase.version
    assert rebuilt.facts == factbase.facts
    assert list(rebuilt.facts) == list(factbase.facts)  # file order, which briefs keep
    assert rebuilt.documents == factbase.documents
    assert rebuilt.topics == factbase.topics
    assert dict(rebuilt.outcomes) == dict(factbase.outcomes)
    assert dict(rebuilt.facts_by_topic) == dict(factbase.facts_by_topic)
    assert contents.reminders == "- id: x\n"


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        (b"not zlib", "unreadable"),
        (zlib.compress(b'{"format": 99}'), "format 99"),
        (zlib.compress(b'{"format": 1, "fields": {}}'), "does not fit"),
    ],
)
def test_a_payload_this_code_cannot_read_is_refused_with_the_reason(
    payload: bytes, reason: str
) -> None:
    with pytest.raises(PayloadError, match=reason):
        decode(payload)


def test_changes_are_computed_by_comparing_facts(factbase: FactBase) -> None:
    facts = list(factbase.facts)
    changes = compare(factbase, edited(factbase, "v2"))
    assert changes.previous == factbase.version
    assert changes.added == ("new-fact-one",)
    assert changes.removed == (facts[1],)
    assert changes.changed == (facts[0],)
    moved = {k: dataclasses.replace(f, line=f.line + 3) for k, f in factbase.facts.items()}
    assert compare(factbase, dataclasses.replace(factbase, facts=moved)).changed == ()


def test_publishing_the_newest_version_again_stores_nothing(
    store: SnapshotStore, factbase: FactBase
) -> None:
    first = store.publish(factbase, None, rules=0, author="ana", now=NOW)
    again = store.publish(factbase, None, rules=0, author="ben", now=NOW)
    assert first.stored and not again.stored
    assert again.snapshot.author == "ana"
    assert [s.version for s in store.history()] == [factbase.version]


def test_history_lists_publications_newest_first_with_what_changed(
    store: SnapshotStore, factbase: FactBase
) -> None:
    store.publish(factbase, None, rules=2, author="ana", now=NOW)
    later = NOW + dt.timedelta(hours=1)
    store.publish(edited(factbase, "v2"), None, rules=2, author="ben", now=later)
    newest, oldest = store.history()
    assert (newest.version, newest.author, newest.published_at) == ("v2", "ben", later)
    assert newest.facts == len(factbase.facts) and newest.rules == 2
    assert newest.changes.summary() == "1 added, 1 changed, 1 removed"
    assert oldest.changes.summary() == "first publication"


def test_a_rollback_republishes_an_earlier_snapshot_as_the_newest(
    store: SnapshotStore, factbase: FactBase
) -> None:
    store.publish(factbase, "[]\n", rules=0, author="ana", now=NOW)
    store.publish(edited(factbase, "v2"), None, rules=0, author="ben", now=NOW)
    back = store.rollback(factbase.version, author="cat", now=NOW)
    assert back.stored
    assert back.snapshot.changes.rollback_of == factbase.version
    assert back.snapshot.changes.added == tuple(
        i for i in factbase.facts if i not in edited(factbase, "v2").facts
    )
    newest = store.newest()
    assert newest is not None and newest.version == factbase.version
    assert decode(store.payload(newest.id)).reminders == "[]\n"
    assert [s.version for s in store.history()] == [factbase.version, "v2", factbase.version]
    assert not store.rollback(factbase.version, author="cat", now=NOW).stored
    with pytest.raises(UnknownVersion):
        store.rollback("never", author="cat", now=NOW)


def test_publish_refuses_a_broken_base_with_file_and_line_and_stores_nothing(
    seeds: Path, database_url: str
) -> None:
    (seeds / "topics.yaml").write_text("- id: [\n", encoding="utf-8")
    code, out = cli("publish")
    assert code == 2
    assert "seeds/topics.yaml:2: error: YAML syntax" in out
    assert "nothing published" in out
    assert cli("history", "--format", "json") == (0, "[]\n")


def test_publish_history_and_rollback_on_the_command_line(seeds: Path, database_url: str) -> None:
    code, out = cli("publish", "--author", "ana")
    assert code == 0 and "first publication" in out
    first = json.loads(cli("history", "--format", "json")[1])[0]
    assert first["author"] == "ana" and first["counts"]["facts"] > 100
    assert cli("publish")[1].startswith(f"version {first['version']} is already the newest")
    path = sorted((seeds / "facts").glob("*.yaml"))[0]
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("statement: >-\n    ", "statement: >-\n    Now: ", 1))
    code, out = cli("publish", "--author", "ben")
    assert code == 0 and "1 changed" in out
    code, out = cli("publish", "--rollback", first["version"], "--author", "cat")
    assert code == 0 and f"rollback to {first['version']}" in out
    code, out = cli("history")
    lines = out.splitlines()
    assert lines[0].startswith(first["version"]) and "by cat  (served)" in lines[0]
    assert len([line for line in lines if not line.startswith(" ")]) == 3
    assert cli("publish", "--rollback", "nope")[0] == 2


def test_publish_can_announce_what_changed_in_the_team_channel(
    seeds: Path, database_url: str, monkeypatch: pytest.MonkeyPatch, fake_slack: FakeSlack
) -> None:
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-test")
    monkeypatch.setenv("SLACK_API_URL", fake_slack.base_url)
    monkeypatch.setenv("BRIEFBOT_REMINDER_CHANNEL", "C0TEAM")
    assert cli("publish")[0] == 0
    assert fake_slack.messages("C0TEAM") == []  # announcing is opt-in
    path = sorted((seeds / "facts").glob("*.yaml"))[0]
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("statement: >-\n    ", "statement: >-\n    Now: ", 1))
    code, out = cli("publish", "--announce", "--author", "ana")
    assert code == 0 and "announced in C0TEAM" in out
    (message,) = fake_slack.messages("C0TEAM")
    assert "published by ana" in message["text"]
    assert "1 fact corrected" in message["text"]


def test_the_announcement_names_new_facts_by_topic_with_their_brief(
    store: SnapshotStore, factbase: FactBase
) -> None:
    from bot.publish.announce import announcement

    store.publish(factbase, None, rules=0, author="ana", now=NOW)
    after = edited(factbase, "v2")
    snapshot = store.publish(after, None, rules=0, author="<!channel>", now=NOW).snapshot
    text = announcement(snapshot, after)
    new = after.facts["new-fact-one"]
    topic = after.topics[new.topics[0]]
    assert f"1 new fact on {topic.title} from " in text
    assert f"`/brief {topic.id}`" in text
    assert "1 fact corrected" in text and "1 fact withdrawn" in text
    assert "<!channel>" not in text  # names and titles are escaped


def test_a_replica_following_the_database_refuses_to_start_with_nothing_published(
    database_url: str, tmp_path: Path
) -> None:
    settings = Settings(database_url=database_url, factbase_source="database", watch_seeds=False)
    with pytest.raises(StartupError) as info:
        Runtime.build(settings)
    assert str(info.value) == (
        "BRIEFBOT_FACTBASE=database: no fact base has been published to the database: "
        "run `briefbot publish`"
    )
    assert info.value.lines == []


def test_a_replica_switches_to_a_new_snapshot_and_keeps_the_last_good_one_on_failure(
    store: SnapshotStore, factbase: FactBase, database_url: str
) -> None:
    store.publish(factbase, None, rules=0, author="ana", now=NOW)
    settings = Settings(database_url=database_url, factbase_source="database", watch_seeds=False)
    runtime = Runtime.build(settings)
    try:
        follower = runtime.follower
        assert follower is not None
        _status, body = runtime.readiness()
        assert (body["source"], body["factbase"]["version"]) == ("database", factbase.version)
        assert follower.check() is False  # nothing new

        store.publish(edited(factbase, "v2"), None, rules=0, author="ben", now=NOW)
        assert follower.check() is True
        assert runtime.knowledge.current.version == "v2"
        assert "new-fact-one" in runtime.knowledge.current.factbase.facts

        with store.engine.begin() as connection:
            connection.execute(
                sa.text(
                    "INSERT INTO factbase_snapshots (version, author, published_at, documents, "
                    "topics, facts, rules, changes, payload) VALUES ('bad', 'x', :now, 0, 0, 0, "
                    "0, '{}', :payload)"
                ),
                {"now": NOW, "payload": b"garbage"},
            )
        assert follower.check() is True
        assert follower.check() is False  # a snapshot that failed is not retried every poll
        _status, body = runtime.readiness()
        assert body["status"] == "degraded"
        assert body["factbase"]["version"] == "v2"
        assert body["problems"] == [
            "snapshot bad:0: error: the snapshot is unreadable: "
            "Error -3 while decompressing data: incorrect header check"
        ]
    finally:
        runtime.close()


def test_a_payload_written_with_another_field_order_still_loads(factbase: FactBase) -> None:
    """Snapshots name their fields, so code that reorders or adds a defaulted field reads
    snapshots published before it."""
    document = json.loads(zlib.decompress(encode(factbase, None)))
    names = document["fields"]["fact"]
    keep = [i for i, name in enumerate(names) if name != "reviewed"]  # a field added since
    document["fields"]["fact"] = [names[i] for i in reversed(keep)]
    document["fact"] = [[row[i] for i in reversed(keep)] for row in document["fact"]]
    rebuilt = decode(zlib.compress(json.dumps(document).encode())).factbase
    expected = {k: dataclasses.replace(f, reviewed=None) for k, f in factbase.facts.items()}
    assert rebuilt.facts == expected
