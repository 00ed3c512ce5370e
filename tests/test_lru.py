"""The bounded cache behind the payload, acknowledgement and composed-brief caches."""

from __future__ import annotations

from bot.lru import Lru


def test_a_kept_value_is_not_made_again_and_the_least_recently_used_goes_first() -> None:
    made: list[str] = []
    cache: Lru[str] = Lru(2)

    def get(key: str) -> str:
        return cache.get_or_make(key, lambda: made.append(key) or key.upper())

    assert [get("a"), get("b"), get("a")] == ["A", "B", "A"]
    get("c")  # "b" was used least recently: it goes
    assert get("a") == "A" and len(cache) == 2
    get("b")
    assert made == ["a", "b", "c", "b"]
