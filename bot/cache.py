"""The command line's on-disk cache: verified seeds and compiled templates, so that `briefbot
brief` starts without parsing YAML, verifying quotes or compiling Jinja2 each time.

Verifying `seeds/` (`bot.state.verify_seeds`) is a pure function of the seed files and the code
that reads them, so its outcome is pickled under a key made of:

- every file under the seeds directory: its path and its content;
- every source file of the `bot` package: path, size and modification time, the test Python
  applies to its own `.pyc` files; the same of the libraries that shape the outcome (PyYAML,
  RapidFuzz), by their `__init__.py`, which installing any version writes anew; and the Python
  version.

Any change gives another key, and the entry is rebuilt by verifying the seeds again. There is one
entry per seeds directory (its file name is a hash of the directory's path), replaced atomically
(written to a temporary file, then renamed). Only seeds that verified without errors are stored.
Anything wrong with the cache (a missing, unreadable, corrupt or foreign file, a directory that
cannot be created or written) is ignored: the seeds are verified as if there were no cache.
Today's date, staleness and lapsed targets are never cached: a brief is composed on every run.

Templates go through Jinja2's bytecode cache in the same directory (`TemplateBytecodeCache`):
Jinja2 checks each template's source against the checksum stored with its compiled code.

The directory is `BRIEFBOT_CACHE_DIR` (`off` disables the cache), else
`$XDG_CACHE_HOME/briefbot`, else `~/.cache/briefbot`. Deleting it is always safe.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import hashlib
import os
import pickle
import stat
import sys
from collections.abc import Callable
from importlib.machinery import PathFinder
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from jinja2.bccache import Bucket, FileSystemBytecodeCache

from bot.brief import rankings
from bot.memory import gc_paused

if TYPE_CHECKING:
    from bot.factbase.model import Fact, FactBase
    from bot.state import VerifiedSeeds

FORMAT = b"briefbot-seeds-1"
"""The first element of every entry; a file that does not start with it is not an entry."""

CODE_LIBRARIES = ("yaml", "rapidfuzz")
"""Libraries whose version can change what verifying the seeds gives (parsing, likeness)."""

_PACKAGE_DIR = Path(__file__).resolve().parent


class SeedCache:
    """Verified seeds on disk, keyed by the content of the seed files and the code's version.

    An entry also keeps the topics' rankings (`bot.brief.rankings`) computed so far: a brief
    ranks its topic's facts once per version of the seeds, and `keep_rankings` stores what the
    command ranked.
    """

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._entry: tuple[Path, str, VerifiedSeeds, FactBase, int] | None = None

    def verified(
        self, seeds_dir: Path | str, verify: Callable[[Path], VerifiedSeeds]
    ) -> VerifiedSeeds:
        """The verified seeds of `seeds_dir`: from the cache when its entry was made from the
        same files by the same code, else `verify(seeds_dir)`, stored for next time."""
        root = Path(seeds_dir)
        key = seeds_key(root)
        if key is None:  # a seed file that cannot be read as it is: the loader says why
            return verify(root)
        path = self.entry_path(root)
        cached = _read_entry(path, key)
        if cached is not None:
            stored, ranked = cached
            seeds = _loaded_now(stored)
        else:
            stored = seeds = verify(root)
            ranked = {}
            if not seeds.storable:
                return seeds
            _write_entry(path, (FORMAT, key, seeds, ranked))
        assert seeds.factbase is not None
        rankings(seeds.factbase).update(ranked)
        self._entry = (path, key, stored, seeds.factbase, len(ranked))
        return seeds

    def keep_rankings(self) -> None:
        """Store the rankings computed since the seeds were loaded, if there are new ones."""
        if self._entry is None:
            return
        path, key, stored, factbase, count = self._entry
        ranked = rankings(factbase)
        if len(ranked) > count:
            _write_entry(path, (FORMAT, key, stored, dict(ranked)))
            self._entry = (path, key, stored, factbase, len(ranked))

    def entry_path(self, seeds_dir: Path) -> Path:
        """The file holding the entry for one seeds directory."""
        where = hashlib.sha256(os.fsencode(os.path.abspath(seeds_dir))).hexdigest()[:16]
        return self.directory / f"seeds-{where}.pickle"


def seeds_key(root: Path) -> str | None:
    """The key of an entry: the seeds directory as given and where it is, the seed files' paths
    and contents, and the code's version; None when a file under `root` is not a regular file
    that can be read."""
    digest = hashlib.sha256(code_version().encode())
    digest.update(_sized(os.fsencode(root)) + _sized(os.fsencode(os.path.abspath(root))))
    seen: set[tuple[int, int]] = set()
    try:
        for folder, dirs, files in os.walk(root, followlinks=True, onerror=_raise):
            info = os.stat(folder)
            if (info.st_dev, info.st_ino) in seen:  # a symbolic link looping back
                dirs.clear()
                continue
            seen.add((info.st_dev, info.st_ino))
            dirs.sort()
            relative = os.path.relpath(folder, root)
            digest.update(b"d" + _sized(os.fsencode(relative)))
            for name in sorted(files):
                path = os.path.join(folder, name)
                if not stat.S_ISREG(os.stat(path).st_mode):
                    return None  # a FIFO or a device: reading it could block
                with open(path, "rb") as file:
                    digest.update(b"f" + _sized(os.fsencode(name)) + _sized(file.read()))
    except OSError:
        return None
    return digest.hexdigest()


def _raise(error: OSError) -> None:
    raise error


def _sized(data: bytes) -> bytes:
    """`data` with its length before it, so that no two sequences of parts hash alike."""
    return len(data).to_bytes(8, "big") + data


_code_version: str | None = None


def code_version() -> str:
    """The Python version, the path, size and modification time of every source file of the
    `bot` package, and those of each of `CODE_LIBRARIES`' `__init__.py` (computed once per
    process)."""
    global _code_version
    if _code_version is None:
        parts = [sys.version, sys.implementation.cache_tag or ""]
        for path, dirs, files in os.walk(_PACKAGE_DIR):
            dirs[:] = sorted(d for d in dirs if d != "__pycache__")
            parts += [_stamp(os.path.join(path, f)) for f in sorted(files) if f.endswith(".py")]
        for name in CODE_LIBRARIES:
            spec = PathFinder.find_spec(name)  # where it is, without importing it
            parts.append(_stamp(spec.origin) if spec and spec.origin else f"{name}: none")
        _code_version = hashlib.sha256("\n".join(parts).encode()).hexdigest()
    return _code_version


def _stamp(path: str) -> str:
    info = os.stat(path)
    return f"{path}:{info.st_size}:{info.st_mtime_ns}"


class _EntryPickler(pickle.Pickler):
    """Pickles the bot's dataclasses as calls to their constructors: unpickling a slotted
    dataclass otherwise goes through its Python `__setstate__`, twice as slow on a fact base."""

    def reducer_override(self, obj: Any) -> Any:
        """A dataclass instance of the bot as its class and field values; else pickle's own."""
        cls = type(obj)
        if cls.__module__.startswith("bot.") and dataclasses.is_dataclass(cls):
            fields = dataclasses.fields(cls)
            if all(f.init for f in fields):
                return cls, tuple(getattr(obj, f.name) for f in fields)
        return NotImplemented


def _read_entry(path: Path, key: str) -> tuple[VerifiedSeeds, dict[str, list[Fact]]] | None:
    """The seeds and rankings stored at `path` under `key`; None when there is no such entry,
    or the file is not the current user's, others may write it, or it does not unpickle."""
    try:
        with open(path, "rb") as file:
            if not _owned_privately(file):
                return None
            with gc_paused():  # many small objects that all survive, as in loading
                entry = pickle.load(file)
    except Exception:
        return None
    if not (isinstance(entry, tuple) and len(entry) == 4 and entry[:2] == (FORMAT, key)):
        return None
    from bot.state import VerifiedSeeds

    seeds, ranked = entry[2:]
    if not (isinstance(seeds, VerifiedSeeds) and seeds.storable and isinstance(ranked, dict)):
        return None
    return seeds, ranked


def _owned_privately(file: IO[bytes]) -> bool:
    """Whether the file is the current user's and no one else may write it (unpickling runs
    code, so the cache must be trusted as the code is)."""
    info = os.fstat(file.fileno())
    getuid = getattr(os, "getuid", None)  # not on Windows
    return getuid is None or (info.st_uid == getuid() and not info.st_mode & 0o022)


def _write_entry(path: Path, entry: object) -> None:
    """Replace the entry at `path` atomically; any failure leaves the cache as it was."""
    temporary = path.with_name(f".{path.name}.{os.getpid()}.{os.urandom(4).hex()}.tmp")
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        # Readable and writable by the user alone, whatever the umask: see `_owned_privately`.
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with open(descriptor, "wb") as file:
            _EntryPickler(file, protocol=pickle.HIGHEST_PROTOCOL).dump(entry)
        os.replace(temporary, path)
    except (OSError, pickle.PicklingError, RecursionError):
        with contextlib.suppress(OSError):
            temporary.unlink(missing_ok=True)


def _loaded_now(seeds: VerifiedSeeds) -> VerifiedSeeds:
    """Cached seeds as if loaded now: `about` shows when the fact base was loaded."""
    if seeds.factbase is None:
        return seeds
    factbase = dataclasses.replace(seeds.factbase, loaded_at=dt.datetime.now(dt.UTC))
    return dataclasses.replace(seeds, factbase=factbase)


class TemplateBytecodeCache(FileSystemBytecodeCache):
    """Jinja2's bytecode cache in `directory`, one set of files per format and Jinja2 version,
    that never fails a render: a file it cannot read or write is compiled again instead."""

    def __init__(self, directory: Path, fmt: str) -> None:
        import jinja2

        super().__init__(str(directory), f"{fmt}-{jinja2.__version__}-%s.cache")
        self._writable = True

    def load_bytecode(self, bucket: Bucket) -> None:
        """Fill `bucket` from its file; a corrupt file leaves it empty (compiled again)."""
        try:
            super().load_bytecode(bucket)
        except Exception:
            bucket.reset()

    def dump_bytecode(self, bucket: Bucket) -> None:
        """Store `bucket`'s code; a directory that cannot be written is given up on."""
        if not self._writable:
            return
        try:
            os.makedirs(self.directory, mode=0o700, exist_ok=True)
            super().dump_bytecode(bucket)
        except OSError:
            self._writable = False


def template_cache_dir(cache_dir: Path) -> Path:
    """Where compiled templates go inside the cache directory."""
    return cache_dir / "templates"
