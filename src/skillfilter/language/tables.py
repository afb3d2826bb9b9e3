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


class _EndOfText:
    """The token after the last one: it stands where a scanner match would, with a ``lastindex`` only."""

    __slots__ = ("lastindex",)

    def __init__(self, lastindex: int) -> None:
        self.lastindex = lastindex


class Tables:
    """Everything the driver needs; immutable once built, shared by all threads.

    ``actions[state][symbol]`` is ``>= 0`` for a shift or goto (the next state) and ``~i`` for a
    reduction by ``rules[i]`` (see :func:`_describe_rule`).
    """

    __slots__ = ("actions", "end", "end_token", "expected", "ignore", "kinds", "retype", "rules", "scanner",
                 "start")

    def __init__(self, data: dict[str, Any], handlers: Collection[str]) -> None:
        self.scanner = re.compile(data["scanner"])
        self.retype: dict[str, dict[str, str]] = data["retype"]
        self.ignore = frozenset(data["ignore"])
        #: Terminal name by the number of its group in the scanner (``m.lastindex``); None: ignored.
        self.kinds: list[str | None] = [None] * (self.scanner.groups + 1)
        for name, index in self.scanner.groupindex.items():
            self.kinds[index] = None if name in self.ignore else name
        #: What the driver reads after the scanner's last match: a token of kind ``END`` (``lastindex`` is
        #: the number of a group the scanner does not have, whose kind is ``END``).
        self.end_token = _EndOfText(len(self.kinds))
        self.kinds.append(END)
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


# The marshal codes plain data is written with, by class (``FLAG_REF``, 0x80, may be added to each but a
# reference): 1 None/True/False, 2 a 32-bit int, 3 a long int, 4 a str with a 4-byte length, 5 a short
# ASCII str with a 1-byte length, 6 a reference, 7 a tuple or list with a 4-byte count, 8 a small tuple,
# 9 a dict, 10 a dict's end; 0 anything else.
_CLASS = bytearray(128)
for _codes, _class in ((b"NTF", 1), (b"i", 2), (b"l", 3), (b"utaA", 4), (b"zZ", 5), (b"r", 6), (b"([", 7),
                       (b")", 8), (b"{", 9), (b"0", 10)):
    for _code in _codes:
        _CLASS[_code] = _class
_OPEN, _DONE, _TEXT = 0, 1, 2  # what a reference may point at: a container being read, anything else, a str


def _plain_marshal(payload: bytes, max_depth: int = 8) -> bool:
    """Whether ``payload`` is ``marshal`` of one plain value (dicts with str keys, lists, tuples, strings,
    integers, booleans, None; at most ``max_depth`` containers deep) and nothing after it.

    This reads the bytes without building anything, so ``marshal.loads`` runs only on data whose every
    count fits in the bytes that follow it (marshal allocates a tuple or list of the size a file claims
    before reading its items: junk with a valid checksum could otherwise ask for gigabytes), and a
    reference never points at a container still being read (no cycles).
    """
    end = len(payload)
    pos = 0
    refs: list[int] = []  # by reference number: _OPEN, _DONE or _TEXT
    stack: list[tuple[int, int, bool]] = []  # the enclosing containers' (left, number, key)
    # The innermost open container: ``left`` items to read in a tuple or list (-1: a dict, whose next
    # item is a key when ``key``; -2: none, the value itself is next), its reference number or -1.
    left, number, key = -2, -1, False
    while True:
        if left == 0:  # a tuple or list is complete
            if number >= 0:
                refs[number] = _DONE
            left, number, key = stack.pop()
            continue
        if left > 0:
            left -= 1
        elif left == -1:
            key = not key
        elif pos:
            return pos == end  # the one value is read
        if pos >= end:
            return False
        byte = payload[pos]
        pos += 1
        kind = _CLASS[byte & 0x7F]
        if key:  # (flipped above: the item just begun is a dict's key, or its end)
            if kind == 10 and byte == 0x30:
                if number >= 0:
                    refs[number] = _DONE
                left, number, key = stack.pop()
                continue
            if kind == 6:
                if byte & 0x80 or pos + 4 > end:
                    return False
                ref = int.from_bytes(payload[pos : pos + 4], "little")
                pos += 4
                if ref >= len(refs) or refs[ref] != _TEXT:
                    return False
                continue
            if not 4 <= kind <= 5:  # a key is a str or a reference to one
                return False
        what = _DONE
        if kind == 1:
            pass
        elif kind == 2:
            pos += 4
            if pos > end:
                return False
        elif 4 <= kind <= 5:
            size = 4 if kind == 4 else 1
            if pos + size > end:
                return False
            pos += size + int.from_bytes(payload[pos : pos + size], "little")
            if pos > end:
                return False
            what = _TEXT
        elif kind == 6:
            if byte & 0x80 or pos + 4 > end:
                return False
            ref = int.from_bytes(payload[pos : pos + 4], "little")
            pos += 4
            if ref >= len(refs) or refs[ref] == _OPEN:
                return False
            continue
        elif kind == 3:  # |n| digits of 2 bytes
            if pos + 4 > end:
                return False
            pos += 4 + 2 * abs(int.from_bytes(payload[pos : pos + 4], "little", signed=True))
            if pos > end:
                return False
        elif 7 <= kind <= 9:
            count = -1
            if kind != 9:
                size = 4 if kind == 7 else 1
                if pos + size > end:
                    return False
                count = int.from_bytes(payload[pos : pos + size], "little", signed=True)
                pos += size
                if not 0 <= count <= end - pos:  # each item takes a byte at least
                    return False
            if len(stack) >= max_depth:
                return False
            stack.append((left, number, key))
            number = -1
            if byte & 0x80:
                number = len(refs)
                refs.append(_OPEN)
            left, key = count, False
            continue
        else:
            return False
        if byte & 0x80:
            refs.append(what)


def read_cache(path: Path, key: str) -> dict[str, Any] | None:
    """The tables in a cache file, or None when it is missing, damaged, of another format or grammar.

    The file is ``CACHE_MAGIC``, the CRC-32 of the payload (4 bytes) and the payload, ``marshal`` of
    ``(key, tables)``.  The checksum is verified, and the payload is unmarshalled only when it is plain
    data of sizes its bytes can hold (:func:`_plain_marshal`): nothing in the file is executed, and junk
    with a valid checksum cannot make marshal allocate more than the file's size in objects.
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
    if not _plain_marshal(payload):
        return None
    try:
        cached = marshal.loads(payload)  # noqa: S302 - checksummed, checked to be plain data of fitting sizes
    except Exception:  # a damaged file that still has the right checksum: rebuild it
        return None
    if not (type(cached) is tuple and len(cached) == 2 and cached[0] == key and type(cached[1]) is dict):
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


