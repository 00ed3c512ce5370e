"""Benchmark of the fact base core: loading and verifying, resolving queries, rendering briefs.

    python bench/factbase.py                 # the figures recorded in bench/README.md
    python bench/factbase.py --facts 5000    # a quicker, smaller run

Steps: (a) load and verify the real `seeds/`; (b) generate a synthetic fact base (50,000 facts,
2,000 documents, 500 topics by default, from a fixed random seed) into a temporary directory and
load and verify it; (c) resolve 10,000 mixed queries (ids, aliases, typos, questions, word
searches, nonsense, 10,000 characters of random Unicode), timing each; (d) compose and render
1,000 briefs as terminal text and as a Block Kit payload, timing each. Prints the median and p99
of every operation and the peak resident memory. Nothing here is asserted: the figures are read
by people (see bench/README.md for the aims).
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import json
import math
import os
import platform
import random
import resource
import statistics
import sys
import tempfile
import textwrap
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # run from a checkout without installing

from bot.brief import compose_brief  # noqa: E402
from bot.factbase import FactBase, load_factbase  # noqa: E402
from bot.factbase.yamlsrc import LineDict, _LineLoader, load_yaml  # noqa: E402
from bot.render import TEXT, Renderer  # noqa: E402
from bot.replies import BriefReply  # noqa: E402
from bot.resolve import TopicResolver  # noqa: E402
from bot.search import FactSearch  # noqa: E402
from bot.slack.limits import check_message  # noqa: E402
from bot.slack.messages import MessageBuilder  # noqa: E402

SEED = 20261123
TODAY = dt.date(2026, 11, 23)
KINDS = ("official", "analysis", "commentary")
FACT_KINDS = ("event", "commitment", "figure", "position", "deadline")
QUESTION_FORMS = (
    "what's the latest on the {}?",
    "tell me about {}",
    "@briefbot what about {}",
    "any news on {} please",
)


# --- synthetic fact base ---------------------------------------------------------------------


def _vocabulary(rng: random.Random, size: int) -> list[str]:
    """Pronounceable made-up words, unique, so that generated text never collides by accident."""
    onsets = [
        "b",
        "c",
        "d",
        "f",
        "g",
        "h",
        "k",
        "l",
        "m",
        "n",
        "p",
        "r",
        "s",
        "t",
        "v",
        "w",
        "z",
        "br",
        "cr",
        "dr",
        "fl",
        "gr",
        "kl",
        "pr",
        "st",
        "tr",
    ]
    vowels = ["a", "e", "i", "o", "u", "ai", "ea", "io", "ou"]
    words: set[str] = set()
    while len(words) < size:
        syllables = rng.randint(2, 4)
        words.add("".join(rng.choice(onsets) + rng.choice(vowels) for _ in range(syllables)))
    return sorted(words)


def _straighten(rng: random.Random, quote: str) -> str:
    """Half the quotes use straight quotes and dashes where the document has typographic ones."""
    if rng.random() < 0.5:
        return quote
    return quote.replace("“", '"').replace("”", '"').replace("–", "-")


def _scalar(key: str, text: str, *, folded: bool) -> list[str]:
    """A fact field as curators write it: a folded block (as in seeds/README.md) or quoted."""
    if not folded:
        return [f"  {key}: {json.dumps(text)}"]
    return [
        f"  {key}: >-",
        *textwrap.wrap(
            text,
            70,
            initial_indent="    ",
            subsequent_indent="    ",
            break_on_hyphens=False,
            break_long_words=False,
        ),
    ]


def _partial_date(rng: random.Random) -> str:
    year = rng.randint(1995, 2026)
    month, day = rng.randint(1, 12), rng.randint(1, 28)
    roll = rng.random()
    if roll < 0.6:
        return f"{year:04d}-{month:02d}-{day:02d}"
    if roll < 0.8:
        return f"{year:04d}-{month:02d}"
    if roll < 0.9:
        return f"{year:04d}"
    if roll < 0.95:
        return f"{year:04d}-{month:02d}-{day:02d}/{year + 1:04d}-{month:02d}"
    return ""


@dataclass
class Synthetic:
    """What the generator wrote, kept for building realistic queries."""

    topic_ids: list[str] = field(default_factory=list)
    aliases: list[str] = field(default_factory=list)
    statement_words: list[list[str]] = field(default_factory=list)
    vocabulary: list[str] = field(default_factory=list)


def generate(root: Path, *, facts: int, documents: int, topics: int, seed: int) -> Synthetic:
    """Write a valid seeds directory under `root`: every quote is cut from its document."""
    rng = random.Random(seed)
    vocab = _vocabulary(rng, 4000)
    out = Synthetic(vocabulary=vocab)
    seeds = root / "seeds"
    (seeds / "documents").mkdir(parents=True)
    (seeds / "facts").mkdir()

    # Documents: ~30 sentences each; some words in typographic quotes and dashes, one noise line.
    doc_sentences: list[list[list[str]]] = []
    for d in range(documents):
        sentences = [[rng.choice(vocab) for _ in range(rng.randint(10, 22))] for _ in range(30)]
        doc_sentences.append(sentences)
        lines = []
        for words in sentences:
            text = " ".join(words)
            if rng.random() < 0.2:
                text = text.replace(" ", " “", 1).replace(" ", "” – ", 1)
            lines.append(text[0].upper() + text[1:] + ".")
        doc_sentences[-1] = [line.split(" ") for line in lines]  # quotes are cut from these
        published = _partial_date(rng).split("/")[0]
        header = "\n".join(
            [
                "---",
                f"id: doc-{d:04d}",
                f"title: {json.dumps(' '.join(rng.choice(vocab) for _ in range(6)).title())}",
                f"publisher: {json.dumps(rng.choice(vocab).title() + ' Institute')}",
                f"author: {json.dumps(rng.choice(vocab).title())}",
                f'published: "{published}"',
                f'url: "https://example.org/{d:04d}"' if d % 3 else 'url: ""',
                f"kind: {KINDS[d % 3]}",
                "noise:",
                '  - "We use cookies"',
                "---",
            ]
        )
        body = (
            "\n".join(lines[:15])
            + "\nWe use cookies to improve this page.\n"
            + "\n".join(lines[15:])
            + "\n"
        )
        (seeds / "documents" / f"doc-{d:04d}.md").write_text(header + "\n" + body, "utf-8")

    # Topics: ids and aliases from distinct word pairs, so no alias is claimed twice.
    pairs: set[tuple[str, str]] = set()
    while len(pairs) < topics:
        a, b = rng.sample(vocab, 2)
        pairs.add((a, b))
    topic_names = sorted(pairs)
    out.topic_ids = [f"{a}-{b}"[:80] for a, b in topic_names]

    # Facts: each cut from one document, on one or two topics, some corroborated by another.
    by_topic: dict[str, list[str]] = {t: [] for t in out.topic_ids}
    files: list[list[str]] = [[] for _ in range(max(facts // 1000, 1))]
    for f in range(facts):
        fid = f"f{f:06d}"
        doc = rng.randrange(documents)
        words = rng.choice(doc_sentences[doc])
        start = rng.randrange(0, len(words) - 6)
        quote_words = words[start : start + rng.randint(6, 20)]
        statement_words = [w for w in quote_words if rng.random() < 0.9] or quote_words
        out.statement_words.append(statement_words)
        fact_topics = [out.topic_ids[f % topics]]
        if rng.random() < 0.3:
            other = rng.choice(out.topic_ids)
            if other not in fact_topics:
                fact_topics.append(other)
        for t in fact_topics:
            by_topic[t].append(fid)
        statement = "Reportedly " + " ".join(statement_words) + "."
        quote = _straighten(rng, " ".join(quote_words))
        lines = [
            f"- id: {fid}",
            f"  topics: [{', '.join(fact_topics)}]",
            *_scalar("statement", statement, folded=f % 2 == 0),
            f'  date: "{_partial_date(rng)}"' if f % 3 else f"  date: {_partial_date(rng)}",
            f"  source: doc-{doc:04d}",
            *_scalar("quote", quote, folded=f % 2 == 0),
            f"  kind: {rng.choice(FACT_KINDS)}",
            f"  importance: {rng.choice((1, 2, 2, 3))}",
        ]
        if rng.random() < 0.1:
            other_doc = rng.randrange(documents)
            other_words = rng.choice(doc_sentences[other_doc])
            lines += [
                "  also:",
                f"    - source: doc-{other_doc:04d}",
                f"      quote: {json.dumps(' '.join(other_words[:5]))}",
            ]
        files[f % len(files)].append("\n".join(lines))
    for index, items in enumerate(files):
        (seeds / "facts" / f"part-{index:03d}.yaml").write_text("\n".join(items) + "\n", "utf-8")

    topic_lines = []
    for (a, b), tid in zip(topic_names, out.topic_ids, strict=True):
        aliases = [f"{a} {b} partnership", f"{b} {a}"]
        out.aliases += aliases
        cited = by_topic[tid][:2] or [f"f{0:06d}"]
        topic_lines += [
            f"- id: {tid}",
            f"  title: {json.dumps(f'{a.title()} and {b.title()}')}",
            f"  aliases: {json.dumps(aliases)}",
            "  summary:",
            f"    - text: {json.dumps(f'{a.title()} works with {b}.')}",
            f"      facts: [{cited[0]}]",
            f"    - text: {json.dumps(f'The ties between {a} and {b} are recorded.')}",
            f"      facts: [{cited[-1]}]",
        ]
    (seeds / "topics.yaml").write_text("\n".join(topic_lines) + "\n", "utf-8")
    return out


# --- queries ---------------------------------------------------------------------------------


def _typo(rng: random.Random, text: str) -> str:
    i = rng.randrange(len(text))
    letter = rng.choice("abcdefghijklmnopqrstuvwxyz")
    edit = rng.randrange(4)
    if edit == 0:
        return text[:i] + letter + text[i + 1 :]
    if edit == 1:
        return text[:i] + text[i + 1 :]
    if edit == 2:
        return text[:i] + letter + text[i:]
    j = min(i + 1, len(text) - 1)
    return text[:i] + text[j] + text[i] + text[j + 1 :] if j > i else text


def _random_unicode(rng: random.Random, length: int) -> str:
    chars = []
    while len(chars) < length:
        code = rng.randrange(0x1, 0x30000)
        if 0xD800 <= code <= 0xDFFF:
            continue
        chars.append(chr(code))
    return "".join(chars)


def make_queries(rng: random.Random, synthetic: Synthetic, count: int) -> list[tuple[str, str]]:
    """`count` (kind, query) pairs in fixed proportions, shuffled."""
    makers: list[tuple[str, float, Callable[[], str]]] = [
        ("id", 0.15, lambda: rng.choice(synthetic.topic_ids).upper()),
        ("alias", 0.15, lambda: f" {rng.choice(synthetic.aliases).title()}! "),
        ("typo", 0.15, lambda: _typo(rng, rng.choice(synthetic.aliases))),
        (
            "question",
            0.15,
            lambda: rng.choice(QUESTION_FORMS).format(rng.choice(synthetic.aliases)),
        ),
        ("words", 0.15, lambda: " ".join(rng.choice(synthetic.statement_words)[:3])),
        (
            "nonsense",
            0.15,
            lambda: " ".join(_typo(rng, rng.choice(synthetic.vocabulary)) for _ in range(3)),
        ),
        ("unicode", 0.10, lambda: _random_unicode(rng, 10_000)),
    ]
    queries = [(kind, make()) for kind, share, make in makers for _ in range(int(count * share))]
    rng.shuffle(queries)
    return queries


# --- measuring -------------------------------------------------------------------------------


@dataclass
class Timings:
    """Per-operation samples in seconds."""

    samples: dict[str, list[float]] = field(default_factory=dict)

    def add(self, name: str, seconds: float) -> None:
        self.samples.setdefault(name, []).append(seconds)

    def rows(self) -> Iterator[tuple[str, int, float, float]]:
        for name, values in self.samples.items():
            ordered = sorted(values)
            p99 = ordered[max(math.ceil(len(ordered) * 0.99) - 1, 0)]  # nearest rank
            yield name, len(values), statistics.median(ordered), p99


def timed(timings: Timings, name: str, action: Callable[[], object]) -> object:
    start = time.perf_counter()
    result = action()
    timings.add(name, time.perf_counter() - start)
    return result


def peak_rss_mib() -> float:
    """Peak resident set size of this process so far (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def load(seeds: Path) -> FactBase:
    report = load_factbase(seeds, now=dt.datetime(2026, 11, 23, tzinfo=dt.UTC))
    return report.require()


def check_yaml_fast_path(files: list[Path]) -> bool:
    """The loader builds YAML values itself (for speed); check they equal PyYAML's own."""
    for path in files:
        text = path.read_text("utf-8")
        fast = load_yaml(text)
        reference = yaml.load(text, Loader=_LineLoader)  # a SafeLoader subclass
        if not _same(fast, reference):
            print(f"fast YAML differs from PyYAML's in {path}")
            return False
    return True


def _same(a: object, b: object) -> bool:
    if type(a) is not type(b):
        return False
    if isinstance(a, LineDict) and isinstance(b, LineDict):
        return (a.line, a.key_lines, list(a)) == (b.line, b.key_lines, list(b)) and all(
            _same(a[k], b[k]) for k in a
        )
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    return a == b


def render_briefs(
    timings: Timings, factbase: FactBase, renderer: Renderer, count: int, full: bool, label: str
) -> None:
    """Compose, render as text and build the Block Kit payload of `count` briefs."""
    builder = MessageBuilder(renderer)
    topic_ids = sorted(factbase.topics)
    mode = "full" if full else "key facts"
    for i in range(count):
        topic_id = topic_ids[i % len(topic_ids)]

        def compose(topic_id: str = topic_id) -> BriefReply:
            return BriefReply(
                compose_brief(
                    factbase,
                    topic_id,
                    query=topic_id,
                    resolved_by="alias",
                    today=TODAY,
                    full=full,
                )
            )

        reply = timed(timings, f"{label}: compose brief ({mode})", compose)
        assert isinstance(reply, BriefReply)
        timed(
            timings,
            f"{label}: render text ({mode})",
            lambda reply=reply: renderer.render("brief", TEXT, **reply.context()),
        )
        payload = timed(
            timings,
            f"{label}: build Block Kit ({mode})",
            lambda reply=reply: builder.build(reply),
        )
        assert isinstance(payload, dict) and not check_message(payload)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--facts", type=int, default=50_000)
    parser.add_argument("--documents", type=int, default=2_000)
    parser.add_argument("--topics", type=int, default=500)
    parser.add_argument("--queries", type=int, default=10_000)
    parser.add_argument("--briefs", type=int, default=1_000)
    parser.add_argument(
        "--full-briefs",
        type=int,
        default=100,
        help="briefs with every fact, measured apart (default 100)",
    )
    parser.add_argument(
        "--loads", type=int, default=3, help="times the synthetic fact base is loaded (default 3)"
    )
    parser.add_argument("--seed", type=int, default=SEED)
    args = parser.parse_args(argv)
    timings = Timings()
    memory: list[tuple[str, float]] = []
    renderer = Renderer(ROOT / "templates")
    rng = random.Random(args.seed)

    # (a) the real seeds
    real = timed(timings, "real seeds: load + verify", lambda: load(ROOT / "seeds"))
    assert isinstance(real, FactBase)
    memory.append(("real seeds loaded", peak_rss_mib()))

    # (b) the synthetic fact base
    with tempfile.TemporaryDirectory(prefix="briefbot-bench-") as tmp:
        start = time.perf_counter()
        synthetic = generate(
            Path(tmp),
            facts=args.facts,
            documents=args.documents,
            topics=args.topics,
            seed=args.seed,
        )
        generated = time.perf_counter() - start
        seeds = Path(tmp) / "seeds"
        same_yaml = check_yaml_fast_path(
            [
                ROOT / "seeds" / "topics.yaml",
                *sorted((ROOT / "seeds" / "facts").glob("*.yaml")),
                seeds / "topics.yaml",
                *sorted((seeds / "facts").glob("*.yaml"))[:3],
            ]
        )
        factbase: FactBase | None = None
        for _ in range(args.loads):
            factbase = None  # each load starts afresh, as the first load of a server does
            gc.collect()
            loaded = timed(timings, "synthetic: load + verify", lambda: load(seeds))
            assert isinstance(loaded, FactBase)
            factbase, loaded = loaded, None
    assert factbase is not None
    assert len(factbase.facts) == args.facts and len(factbase.topics) == args.topics
    memory.append(("synthetic loaded", peak_rss_mib()))
    resolver = timed(timings, "synthetic: build resolver", lambda: TopicResolver(factbase))
    assert isinstance(resolver, TopicResolver)
    timed(timings, "synthetic: build search index", lambda: FactSearch(factbase))

    # Each phase starts without garbage pending from the last, as in a server that has settled.
    gc.collect()

    # (c) resolving queries
    found: dict[str, int] = {}
    for kind, query in make_queries(rng, synthetic, args.queries):
        resolution = timed(timings, f"resolve: {kind}", lambda q=query: resolver.resolve(q))
        found[kind] = found.get(kind, 0) + bool(getattr(resolution, "found", False))
    timings.samples["resolve: all kinds"] = [
        s
        for name, values in timings.samples.items()
        if name.startswith("resolve: ")
        for s in values
    ]
    memory.append(("after resolving", peak_rss_mib()))

    gc.collect()

    # (d) rendering briefs; templates are compiled once per renderer, so warm it up first
    render_briefs(Timings(), real, renderer, 3, True, "warm-up")
    render_briefs(timings, real, renderer, len(real.topics), False, "real seeds")
    render_briefs(timings, real, renderer, len(real.topics), True, "real seeds")
    render_briefs(timings, factbase, renderer, args.briefs, False, "synthetic")
    render_briefs(timings, factbase, renderer, args.full_briefs, True, "synthetic")
    memory.append(("after rendering", peak_rss_mib()))

    print(
        f"briefbot fact-base benchmark · Python {platform.python_version()} · "
        f"{platform.machine()} · {_cores()} cores · seed {args.seed}"
    )
    print(
        f"synthetic: {len(factbase.facts):,} facts, {len(factbase.documents):,} documents, "
        f"{len(factbase.topics):,} topics (written in {generated:.1f} s); "
        f"fast YAML equals PyYAML's: {'yes' if same_yaml else 'NO'}"
    )
    print()
    print(f"| {'operation':<42} | {'n':>6} | {'median':>10} | {'p99':>10} |")
    print(f"|{'-' * 44}|{'-' * 7}:|{'-' * 11}:|{'-' * 11}:|")
    for name, n, median, p99 in timings.rows():
        print(f"| {name:<42} | {n:>6} | {_ms(median):>10} | {_ms(p99):>10} |")
    print()
    print(
        "found a topic: "
        + ", ".join(
            f"{kind} {count}/{len(timings.samples['resolve: ' + kind])}"
            for kind, count in sorted(found.items())
        )
    )
    print("peak memory (max RSS): " + ", ".join(f"{label} {mib:.0f} MiB" for label, mib in memory))
    return 0 if same_yaml else 1


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.3f} ms" if seconds < 1 else f"{seconds:.2f} s"


def _cores() -> int:
    affinity = getattr(os, "sched_getaffinity", None)
    return len(affinity(0)) if affinity else (os.cpu_count() or 0)


if __name__ == "__main__":
    raise SystemExit(main())
