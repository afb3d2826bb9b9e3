"""The parse tables: lark's LALR(1) automaton and lexer terminals for ``grammar.lark``, as plain data.

lark reads ``grammar.lark`` and computes the tables; :func:`tables_from_lark` copies what the driver
(:mod:`skillfilter.language.lalr`) needs into plain lists and dicts, and the scanner regex is built from
the terminals exactly as lark's basic lexer orders them.  The result is cached on disk (``marshal`` of plain
data behind a magic word, a format number and a CRC-32; see :func:`cache_dir`), so a warm process does not
even import lark.
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

__all__ = ["END", "ERROR", "Loaded", "Rule", "Tables", "cache_dir", "get_tables", "grammar_text", "lark"]

END = "$END"
#: Name of the regex group that catches a character no terminal matches.
ERROR = "_error"
#: Version of the cached table format, part of the cache key: bump it whenever ``tables_from_lark`` or
#: ``_describe_rule`` change what they produce.
_TABLE_FORMAT = 2


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


def lark(**options: Any) -> Any:
    from lark import Lark

    return Lark(grammar_text(), parser="lalr", lexer="basic", maybe_placeholders=False, **options)


def tables_from_lark() -> dict[str, Any]:
    """Read lark's LALR table and terminals into plain data (raises if lark's internals moved)."""
    from lark.lexer import PatternRE, PatternStr

    lk = lark()
    table = lk.parser.parser.parser.parse_table
    # The lexer: lark's basic lexer, rebuilt as one regex.  Same order as lark's, and strings that a
    # regex terminal matches in full (the keywords, matched by FIELD) are re-typed after the match.
    terminals = sorted(
        lk.terminals, key=lambda t: (-t.priority, -t.pattern.max_width, -len(t.pattern.value), t.name)
    )
    retype: dict[str, dict[str, str]] = {}
    embedded: set[str] = set()
    for retok in (t for t in terminals if isinstance(t.pattern, PatternRE)):
        regex = re.compile(retok.pattern.to_regexp())
        for strtok in (t for t in terminals if isinstance(t.pattern, PatternStr)):
            if strtok.priority != retok.priority:
                continue
            m = regex.match(strtok.pattern.value)
            if m is not None and m.group() == strtok.pattern.value:
                retype.setdefault(retok.name, {})[strtok.pattern.value] = strtok.name
                if strtok.pattern.flags <= retok.pattern.flags:
                    embedded.add(strtok.name)
    alternatives = [f"(?P<{t.name}>{t.pattern.to_regexp()})" for t in terminals if t.name not in embedded]
    alternatives.append(rf"(?P<{ERROR}>[\s\S])")

    rules: list[Any] = []
    rule_index: dict[int, int] = {}
    state_ids = sorted(table.states)
    state_of = {s: i for i, s in enumerate(state_ids)}
    actions: list[dict[str, int]] = []
    for s in state_ids:
        acts: dict[str, int] = {}
        for symbol, (action, arg) in table.states[s].items():
            if action.name == "Shift":
                acts[symbol] = state_of[arg]
                continue
            if id(arg) not in rule_index:
                rule_index[id(arg)] = len(rules)
                rules.append(_describe_rule(arg))
            acts[symbol] = ~rule_index[id(arg)]
        actions.append(acts)
    return {
        "scanner": "|".join(alternatives),
        "retype": retype,
        "ignore": sorted(lk.ignore_tokens),
        "terminals": sorted(t.name for t in lk.terminals),
        "actions": actions,
        "rules": rules,
        "start": state_of[table.start_states["start"]],
        "end": state_of[table.end_states["start"]],
    }


def _describe_rule(rule: Any) -> list[Any]:
    """A lark rule as ``[origin, size, passthrough, inline, handler, keep, expand, expand1]``.

    This is lark's parse-tree shaping: terminals marked ``filter_out`` are dropped (``keep`` lists the
    children kept; ``None``: all of them, none spliced), children from ``_rules`` are spliced in
    (``expand``), a ``?rule`` left with one child is that child (``expand1``), and otherwise the builder
    named by the alias or the rule's name runs.
    """
    expansion = rule.expansion
    keep_all = rule.options.keep_all_tokens
    keep = [i for i, sym in enumerate(expansion) if keep_all or not (sym.is_term and sym.filter_out)]
    expand = [not expansion[i].is_term and expansion[i].name.startswith("_") for i in keep]
    origin = str(rule.origin.name)
    inline = origin.startswith("_")
    expand1 = bool(rule.options.expand1) and not rule.alias
    passthrough = expand1 and len(expansion) == 1 and keep == [0] and not expand[0] and not inline
    plain = keep == list(range(len(expansion))) and not any(expand)
    handler = str(rule.alias or origin)
    return [origin, len(expansion), passthrough, inline, handler, None if plain else keep, expand, expand1]


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
CACHE_MAGIC = b"skillfilter-tables\0" + _TABLE_FORMAT.to_bytes(2, "big")


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


def _write_cache(path: Path, key: str, data: dict[str, Any]) -> None:
    import marshal

    payload = marshal.dumps((key, data))
    blob = CACHE_MAGIC + zlib.crc32(payload).to_bytes(4, "big") + payload
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f"{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
        tmp.write_bytes(blob)
        os.replace(tmp, path)
    except OSError:
        pass


def _load_tables(handlers: Collection[str]) -> Tables:
    grammar = grammar_text()
    key = f"{_TABLE_FORMAT}\0{grammar}"
    directory = cache_dir()
    path = None
    if directory is not None:
        path = directory / f"tables-{_TABLE_FORMAT}-{zlib.crc32(key.encode()):08x}-{len(key)}.bin"
        cached = read_cache(path, key)
        if cached is not None:
            try:
                return Tables(cached, handlers)
            except Exception:  # noqa: S110 - well-formed but not tables this code can use: rebuild them
                pass
    data = tables_from_lark()
    tables = Tables(data, handlers)
    if path is not None:
        _write_cache(path, key, data)
    return tables


