"""The parse tables: lark's LALR(1) automaton and lexer terminals for ``grammar.lark``, as plain data.

lark reads ``grammar.lark`` and computes the tables; :mod:`skillfilter.language.tables_lark` copies what
the driver (:mod:`skillfilter.language.lalr`) needs into plain lists and dicts.  The result is cached on disk
(``marshal`` of plain data behind a magic word, a format number and a CRC-32; see :func:`cache_dir`), so a
warm process neither imports lark nor loads the module that asks it.
"""

from __future__ import annotations

import os
import re
import threading
import zlib
from collections.abc import Collection
from pathlib import Path
from typing import Any

from ..errors import FilterError

__all__ = [
    "CACHE_MAGIC", "END", "ERROR", "Loaded", "Rule", "Tables",
    "cache_dir", "get_tables", "grammar_text", "read_cache",
]

END = "$END"
#: Name of the regex group that catches a character no terminal matches.
ERROR = "_error"
#: Version of the cached table format, part of the cache key: bump it whenever ``tables_lark`` changes
#: what it produces.
TABLE_FORMAT = 2


# --------------------------------------------------------------------------------------------------
# grammar loading
# --------------------------------------------------------------------------------------------------
def grammar_text() -> str:
    """The text of ``grammar.lark``: from the installed package, else from the source checkout."""
    here = Path(__file__).resolve()
    try:  # the package directory of a wheel (importlib.resources only where that is no plain directory)
        return (here.parents[1] / "grammar.lark").read_text(encoding="utf-8")
    except OSError:
        pass
    try:
        from importlib import resources

        return resources.files("skillfilter").joinpath("grammar.lark").read_text(encoding="utf-8")
    except (FileNotFoundError, OSError):
        pass
    for parent in here.parents:
        candidate = parent / "grammar.lark"
        if candidate.is_file():
            return candidate.read_text(encoding="utf-8")
    raise FilterError("grammar.lark is missing from the installation")  # pragma: no cover


def cache_dir() -> Path | None:
    """Where the parse tables computed from ``grammar.lark`` are cached (``None``: no cache).

    ``$SKILLFILTER_CACHE_DIR`` if set (an empty value switches the cache off), else
    ``$XDG_CACHE_HOME/skillfilter`` or ``~/.cache/skillfilter``.  A cache file holds the grammar text it
    was computed from and is used only for that same text.  Without a usable cache, lark computes the
    tables on first use (some tens of milliseconds).
    """
    env = os.environ.get("SKILLFILTER_CACHE_DIR")
    if env is not None:
        return Path(env) if env else None
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "skillfilter"


# --------------------------------------------------------------------------------------------------
# the tables: lark's LALR(1) automaton and lexer terminals, in plain data
# --------------------------------------------------------------------------------------------------
#: (origin, size, passthrough, inline, handler, keep, expand, expand1): see describe_rule.
Rule = tuple[str, int, bool, bool, str, "list[int] | None", list[bool], bool]


class Tables:
    """Everything the driver needs; immutable once built, shared by all threads.

    ``actions[state][symbol]`` is ``>= 0`` for a shift or goto (the next state) and ``~i`` for a
    reduction by ``rules[i]`` (see :func:`_describe_rule`).
    """

    __slots__ = ("actions", "end", "expected", "ignore", "kinds", "retype", "rules", "scanner", "start")

    def __init__(self, data: dict[str, Any], handlers: Collection[str]) -> None:
        self.scanner = re.compile(data["scanner"])
        self.retype: dict[str, dict[str, str]] = data["retype"]
        self.ignore = frozenset(data["ignore"])
        #: Terminal name by the number of its group in the scanner (``m.lastindex``); None: ignored.
        self.kinds: list[str | None] = [None] * (self.scanner.groups + 1)
        for name, index in self.scanner.groupindex.items():
            self.kinds[index] = None if name in self.ignore else name
        self.actions: list[dict[str, int]] = data["actions"]
        self.rules: list[Rule] = [(r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7]) for r in data["rules"]]
        self.start: int = data["start"]
        self.end: int = data["end"]
        terminals = set(data["terminals"]) | {END}
        self.expected = [frozenset(k for k in acts if k in terminals) for acts in self.actions]
        for _origin, _size, passthrough, inline, handler, _keep, _expand, _expand1 in self.rules:
            if not (passthrough or inline or handler in handlers):
                raise FilterError(f"grammar rule `{handler}` has no tree builder")


class Loaded:
    """The parser's lazily built, then shared, state."""

    lock = threading.Lock()
    tables: Tables | None = None
    tables_failed = False


def get_tables(handlers: Collection[str]) -> Tables | None:
    """The tables, loaded once (``None``: they cannot be had; the parser then runs lark's own).

    ``handlers`` are the rule names that have a tree builder; tables with another rule are refused.
    """
    if Loaded.tables is not None or Loaded.tables_failed:
        return Loaded.tables
    with Loaded.lock:
        if Loaded.tables is None and not Loaded.tables_failed:
            try:
                Loaded.tables = _load_tables(handlers)
            except Exception:  # pragma: no cover - lark moved its internals: use lark's own parser
                Loaded.tables_failed = True
    return Loaded.tables


#: First bytes of a table-cache file: a magic word and the cache format, then the CRC-32 of the rest.
CACHE_MAGIC = b"skillfilter-tables\0" + TABLE_FORMAT.to_bytes(2, "big")


def _plain(value: object, depth: int = 0) -> bool:
    """Whether ``value`` is plain data (dicts, lists, tuples, strings, integers, booleans, None): a
    cache file that holds anything else (a code object, say) is not used."""
    if value is None or type(value) in (str, int, bool):
        return True
    if depth > 8:
        return False
    if type(value) in (list, tuple):
        return all(_plain(v, depth + 1) for v in value)  # type: ignore[attr-defined]
    if type(value) is dict:
        return all(type(k) is str and _plain(v, depth + 1) for k, v in value.items())
    return False


def read_cache(path: Path, key: str) -> dict[str, Any] | None:
    """The tables in a cache file, or None when it is missing, damaged, of another format or grammar.

    The file is ``CACHE_MAGIC``, the CRC-32 of the payload (4 bytes) and the payload, ``marshal`` of
    ``(key, tables)``.  The checksum is verified before unmarshalling, and the result is used only when
    it is plain data: nothing in the file is executed.
    """
    import marshal

    try:
        blob = path.read_bytes()
    except OSError:
        return None
    head = len(CACHE_MAGIC)
    if not blob.startswith(CACHE_MAGIC) or len(blob) < head + 4:
        return None
    payload = blob[head + 4 :]
    if zlib.crc32(payload) != int.from_bytes(blob[head : head + 4], "big"):
        return None
    try:
        cached = marshal.loads(payload)  # noqa: S302 - checksummed, then only plain data is used
    except Exception:  # a damaged file that still has the right checksum: rebuild it
        return None
    if not (type(cached) is tuple and len(cached) == 2 and cached[0] == key and type(cached[1]) is dict):
        return None
    if not _plain(cached[1]):
        return None
    return cached[1]


def _load_tables(handlers: Collection[str]) -> Tables:
    grammar = grammar_text()
    key = f"{TABLE_FORMAT}\0{grammar}"
    directory = cache_dir()
    path = None
    if directory is not None:
        path = directory / f"tables-{TABLE_FORMAT}-{zlib.crc32(key.encode()):08x}-{len(key)}.bin"
        cached = read_cache(path, key)
        if cached is not None:
            try:
                return Tables(cached, handlers)
            except Exception:  # noqa: S110 - well-formed but not tables this code can use: rebuild them
                pass
    from .tables_lark import tables_from_lark, write_cache

    data = tables_from_lark()
    tables = Tables(data, handlers)
    if path is not None:
        write_cache(path, key, data)
    return tables


