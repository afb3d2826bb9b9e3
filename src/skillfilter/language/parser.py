"""Text to expression tree, through ``grammar.lark`` and lark's LALR(1) parser generator.

lark reads ``grammar.lark`` and computes the LALR(1) tables and the lexer's terminals; this module runs
those tables with a small driver of its own: one compiled regular expression (built from the grammar's
terminals exactly as lark's basic lexer builds it) finds the tokens, and the nodes of
:mod:`skillfilter.language.ast` are built on each reduction, so no lark token or parse tree is ever made.  The
tables are cached (``marshal`` of plain data, checked; see :func:`cache_dir`), so a warm process does not
even import lark.  When the tables cannot be taken from lark (an unexpected lark version), lark's own
LALR parser runs with the same builders as its inline transformer (``_parse_reference``, which the
tests also use as a second implementation to check the driver against).

Every failure becomes a :class:`~skillfilter.errors.FilterSyntaxError` with the position, what was
expected in plain words, and a hint for the usual mistakes.
"""

from __future__ import annotations

import os
import re
import threading
import zlib
from collections.abc import Callable, Collection, Iterable
from importlib import resources
from math import isfinite
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import FilterArgumentError, FilterError, FilterSyntaxError, FilterTypeError, type_name
from ..semantics.operators import KEYWORDS, OPERATOR_NAMES
from .ast import HARD_MAX_DEPTH, And, Comparison, CustomProperty, Expr, FieldRef, Not, Or, Span

if TYPE_CHECKING:
    from .ast import Literal

__all__ = [
    "DEFAULT_MAX_DEPTH",
    "DEFAULT_MAX_LENGTH",
    "cache_dir",
    "float_value",
    "grammar_text",
    "inexact_float_hint",
    "parse",
    "parse_lookup",
]

#: Longest filter text accepted by default (characters).  The API carries filters in URLs.
DEFAULT_MAX_LENGTH = 100_000
#: Deepest nesting accepted by default: parentheses, ``not`` chains and and/or levels.
DEFAULT_MAX_DEPTH = 100

_NAME_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
_WORD_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_ESCAPE_RE = re.compile(r"\\(.)", re.S)
# Strings (closed or not), parentheses and words: enough to count nesting and find unmatched `(`.
_SCAN_RE = re.compile(
    r"""'[^'\\]*(?:\\.[^'\\]*)*'?|"[^"\\]*(?:\\.[^"\\]*)*"?|[()]|[A-Za-z_][A-Za-z0-9_]*""", re.S
)
# The body of a string up to its first problem (an unknown escape, the closing quote, the end).
_STRING_BODY = {q: re.compile(r"[^" + q + r"\\]*(?:\\[\\'\"][^" + q + r"\\]*)*") for q in ("'", '"')}

VALUE_WORDS = "a value: a quoted string, a number, true, false or null"
_TERMINAL_WORDS = {
    "FIELD": "a field name",
    "STRING": VALUE_WORDS,
    "NUMBER": VALUE_WORDS,
    "TRUE": VALUE_WORDS,
    "FALSE": VALUE_WORDS,
    "NULL": VALUE_WORDS,
    "EQUAL": "`=`",
    "AND": "`and`",
    "OR": "`or`",
    "NOT": "`not`",
    "LPAR": "`(`",
    "RPAR": "`)`",
    "$END": "the end of the filter",
}
_ORDER = ["FIELD", "NOT", "LPAR", "STRING", "EQUAL", "AND", "OR", "RPAR", "$END"]
_TOKEN_DESCRIPTION = {
    "AND": "`and`",
    "OR": "`or`",
    "NOT": "`not`",
    "LPAR": "`(`",
    "RPAR": "`)`",
    "EQUAL": "`=`",
    "$END": "the end of the filter",
}
_KEYWORD_VALUES: dict[str, Literal] = {"true": True, "false": False, "null": None}
#: Integers with more digits are refused (Python's own limit for converting text is 4300).
_MAX_DIGITS = 4000
_DEPTH_HINT = "simplify the filter: remove double negations or needless parentheses"

_END = "$END"
#: Name of the regex group that catches a character no terminal matches.
_ERROR = "_error"
#: Version of the cached table format, part of the cache key: bump it whenever ``_tables_from_lark`` or
#: ``_describe_rule`` change what they produce.
_TABLE_FORMAT = 2


# --------------------------------------------------------------------------------------------------
# grammar loading
# --------------------------------------------------------------------------------------------------
def grammar_text() -> str:
    """The text of ``grammar.lark``: from the installed package, else from the source checkout."""
    try:
        return resources.files("skillfilter").joinpath("grammar.lark").read_text(encoding="utf-8")
    except (FileNotFoundError, OSError):
        pass
    for parent in Path(__file__).resolve().parents:
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
#: (origin, size, passthrough, inline, handler, keep, expand, expand1): see _describe_rule.
_Rule = tuple[str, int, bool, bool, str, "list[int] | None", list[bool], bool]


class _Tables:
    """Everything the driver needs; immutable once built, shared by all threads.

    ``actions[state][symbol]`` is ``>= 0`` for a shift or goto (the next state) and ``~i`` for a
    reduction by ``rules[i]`` (see :func:`_describe_rule`).
    """

    __slots__ = ("actions", "end", "expected", "ignore", "kinds", "retype", "rules", "scanner", "start")

    def __init__(self, data: dict[str, Any]) -> None:
        self.scanner = re.compile(data["scanner"])
        self.retype: dict[str, dict[str, str]] = data["retype"]
        self.ignore = frozenset(data["ignore"])
        #: Terminal name by the number of its group in the scanner (``m.lastindex``); None: ignored.
        self.kinds: list[str | None] = [None] * (self.scanner.groups + 1)
        for name, index in self.scanner.groupindex.items():
            self.kinds[index] = None if name in self.ignore else name
        self.actions: list[dict[str, int]] = data["actions"]
        self.rules: list[_Rule] = [(r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7]) for r in data["rules"]]
        self.start: int = data["start"]
        self.end: int = data["end"]
        terminals = set(data["terminals"]) | {_END}
        self.expected = [frozenset(k for k in acts if k in terminals) for acts in self.actions]
        for _origin, _size, passthrough, inline, handler, _keep, _expand, _expand1 in self.rules:
            if not (passthrough or inline or handler in _HANDLERS):
                raise FilterError(f"grammar rule `{handler}` has no tree builder")


def _lark(**options: Any) -> Any:
    from lark import Lark

    return Lark(grammar_text(), parser="lalr", lexer="basic", maybe_placeholders=False, **options)


def _tables_from_lark() -> dict[str, Any]:
    """Read lark's LALR table and terminals into plain data (raises if lark's internals moved)."""
    from lark.lexer import PatternRE, PatternStr

    lk = _lark()
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
    alternatives.append(rf"(?P<{_ERROR}>[\s\S])")

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


class _Loaded:
    """The parser's lazily built, then shared, state."""

    lock = threading.Lock()
    tables: _Tables | None = None
    tables_failed = False
    reference: tuple[Any, threading.local] | None = None


def _get_tables() -> _Tables | None:
    if _Loaded.tables is not None or _Loaded.tables_failed:
        return _Loaded.tables
    with _Loaded.lock:
        if _Loaded.tables is None and not _Loaded.tables_failed:
            try:
                _Loaded.tables = _load_tables()
            except Exception:  # pragma: no cover - lark moved its internals: use lark's own parser
                _Loaded.tables_failed = True
    return _Loaded.tables


#: First bytes of a table-cache file: a magic word and the cache format, then the CRC-32 of the rest.
_CACHE_MAGIC = b"skillfilter-tables\0" + _TABLE_FORMAT.to_bytes(2, "big")


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


def _read_cache(path: Path, key: str) -> dict[str, Any] | None:
    """The tables in a cache file, or None when it is missing, damaged, of another format or grammar.

    The file is ``_CACHE_MAGIC``, the CRC-32 of the payload (4 bytes) and the payload, ``marshal`` of
    ``(key, tables)``.  The checksum is verified before unmarshalling, and the result is used only when
    it is plain data: nothing in the file is executed.
    """
    import marshal

    try:
        blob = path.read_bytes()
    except OSError:
        return None
    head = len(_CACHE_MAGIC)
    if not blob.startswith(_CACHE_MAGIC) or len(blob) < head + 4:
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
    blob = _CACHE_MAGIC + zlib.crc32(payload).to_bytes(4, "big") + payload
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f"{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
        tmp.write_bytes(blob)
        os.replace(tmp, path)
    except OSError:
        pass


def _load_tables() -> _Tables:
    grammar = grammar_text()
    key = f"{_TABLE_FORMAT}\0{grammar}"
    directory = cache_dir()
    path = None
    if directory is not None:
        path = directory / f"tables-{_TABLE_FORMAT}-{zlib.crc32(key.encode()):08x}-{len(key)}.bin"
        cached = _read_cache(path, key)
        if cached is not None:
            try:
                return _Tables(cached)
            except Exception:  # noqa: S110 - well-formed but not tables this code can use: rebuild them
                pass
    data = _tables_from_lark()
    tables = _Tables(data)
    if path is not None:
        _write_cache(path, key, data)
    return tables


# --------------------------------------------------------------------------------------------------
# field references
# --------------------------------------------------------------------------------------------------
def parse_lookup(
    text: str,
    *,
    operators: Collection[str] = OPERATOR_NAMES,
    source: str | None = None,
    offset: int = 0,
) -> tuple[FieldRef | CustomProperty, str]:
    """Split a lookup (``job__job_family__external_id__startswith``) the way Django does.

    Returns the target and the operator; raises :class:`FilterSyntaxError` with positions relative to
    ``source`` (the whole filter) when given, else to ``text``.
    """
    src = text if source is None else source
    parts = text.split("__")
    pos = offset
    for i, part in enumerate(parts):
        if not part:
            if i == len(parts) - 1 and i > 0:
                raise FilterSyntaxError(
                    "field name ends in `__`",
                    src,
                    offset + len(text) - 2,
                    end=offset + len(text),
                    hint="`__` separates a relation from its field or a field from its operator: "
                    f"add an operator (`{_shorten(text)}icontains=...`) or remove the trailing `__`",
                )
            raise FilterSyntaxError(
                "empty name in field reference" if i else "field name starts with `__`",
                src,
                pos,
                end=pos + 2,
                hint="names in a field reference are separated by exactly one `__`",
            )
        if not _NAME_RE.match(part):
            raise FilterSyntaxError(
                f"`{_shorten(part)}` is not a valid name: a name starts with a letter or `_`",
                src,
                pos,
                end=pos + len(part),
            )
        pos += len(part) + 2
    op = "exact"
    if len(parts) >= 2 and parts[-1] in operators:
        op = parts.pop()
    first = parts[0]
    if first.startswith("cp_") and len(first) > 3:
        if len(parts) > 1:
            bad_pos = offset + len(first) + 2
            raise FilterSyntaxError(
                f"`{_shorten(parts[1])}` is not an operator; only an operator may follow a custom property",
                src,
                bad_pos,
                end=offset + len(text),
                expected=sorted(operators),
                hint=_did_you_mean(parts[1], operators, "an operator")
                or "custom properties have no relations: write `cp_name__operator=value`",
            )
        return CustomProperty(first[3:]), op
    if len(parts) == 1 and parts[0] in KEYWORDS:
        raise FilterSyntaxError(
            f"`{parts[0]}` is a keyword, not a field",
            src,
            offset,
            end=offset + len(parts[0]),
            hint="a field cannot be named `and`, `or`, `not`, `true`, `false` or `null`",
        )
    return FieldRef(tuple(parts)), op


def _shorten(word: str) -> str:
    """User text quoted in a message: at most 40 characters."""
    return word if len(word) <= 40 else word[:37] + "…"


def float_value(text: str) -> tuple[float, bool]:
    """The double nearest the decimal number ``text``, and whether that double has the same decimal value.

    ``text`` is ASCII decimal notation (a NUMBER token, or the schema's number text).  "The same value"
    means that the double's shortest representation, ``repr(value)``, is the decimal number written:
    ``0.1``, ``1.50``, ``1e16`` and ``2.5e-3`` are held exactly; ``0.10000000000000000001``, ``1e-400``
    and pi to 20 digits are not.  Infinite results are not exact.  Cheap for ordinary literals: up to 15
    significant digits in the normal range are always exact (a double keeps 15 decimal digits).
    """
    value = float(text)
    if not isfinite(value):
        return value, False
    e = text.find("e")
    if e < 0:
        e = text.find("E")
    mantissa = text if e < 0 else text[:e]
    digits = mantissa.lstrip("+-").replace(".", "").strip("0")
    if not digits:  # zero, however written
        return value, True
    if value == 0.0:  # underflow
        return value, False
    if len(digits) <= 15 and 1e-300 < abs(value) < 1e300:
        return value, True
    from decimal import Decimal, InvalidOperation

    try:
        return value, Decimal(repr(value)) == Decimal(text)
    except (InvalidOperation, ValueError):  # pragma: no cover - an exponent beyond 10**18 gives 0 or inf
        return value, False


def inexact_float_hint(value: float) -> str:
    """The hint for a number a double cannot hold: the nearest value that is exact."""
    if not isfinite(value):
        return "numbers must fit a 64-bit floating point value"
    if value == 0.0:
        return (
            "the number is too small for a 64-bit floating point value (the smallest is 5e-324): "
            "write 0 or a larger number"
        )
    return (
        f"a 64-bit floating point value cannot hold it exactly; the nearest one is {value!r}: write {value!r}"
    )


def _did_you_mean(word: str, candidates: Iterable[str], what: str) -> str | None:
    import difflib

    if len(word) > 40:
        return None

    close = difflib.get_close_matches(word, list(candidates), n=1, cutoff=0.6)
    if close:
        return f"did you mean {what} `{close[0]}`?"
    return None


# Lookups of the built-in operators, memoised: a filter names few distinct fields, and the results are
# immutable.  Bounded; cleared when full.
_LOOKUPS: dict[str, tuple[FieldRef | CustomProperty, str]] = {}
_LOOKUPS_MAX = 4096


# --------------------------------------------------------------------------------------------------
# the builders run on each reduction
# --------------------------------------------------------------------------------------------------
class _Context:
    __slots__ = ("max_depth", "operators", "text")

    def __init__(self, text: str, max_depth: int, operators: Collection[str] | None) -> None:
        self.text = text
        self.max_depth = max_depth
        self.operators = operators


class _Tok:
    """A lark token seen through the ``re.Match`` interface the builders use (reference path only)."""

    __slots__ = ("_end", "_start", "_text", "lastgroup")

    def __init__(self, tok: Any) -> None:
        self.lastgroup: str = tok.type
        self._text = str(tok)
        self._start: int = tok.start_pos
        self._end: int = tok.end_pos

    def group(self) -> str:
        return self._text

    def start(self) -> int:
        return self._start

    def end(self) -> int:
        return self._end


def _build_comparison(ctx: _Context, children: list[Any]) -> Comparison:
    ftok, _eq, vtok = children
    field_text: str = ftok.group()
    fstart: int = ftok.start()
    fend = fstart + len(field_text)
    text = ctx.text
    if ctx.operators is None:
        found = _LOOKUPS.get(field_text)
        if found is None:
            found = parse_lookup(field_text, source=text, offset=fstart)
            if len(_LOOKUPS) >= _LOOKUPS_MAX:
                _LOOKUPS.clear()
            _LOOKUPS[field_text] = found
        target, op = found
    else:
        target, op = parse_lookup(field_text, operators=ctx.operators, source=text, offset=fstart)
    raw: str = vtok.group()
    vstart: int = vtok.start()
    vend = vstart + len(raw)
    kind = vtok.lastgroup
    value: Literal
    if kind == "STRING":
        value = raw[1:-1]
        if "\\" in value:
            value = _ESCAPE_RE.sub(r"\1", value)
    elif kind == "NUMBER":
        if "." in raw or "e" in raw or "E" in raw:
            fvalue, exact = float_value(raw)
            if not exact:
                raise FilterSyntaxError(
                    "number out of range" if not isfinite(fvalue)
                    else "number too small" if fvalue == 0.0
                    else "number more precise than a 64-bit floating point value",
                    text,
                    vstart,
                    end=vend,
                    hint=inexact_float_hint(fvalue),
                )
            value = fvalue
        else:
            digits = raw.lstrip("-").lstrip("0")  # leading zeros are allowed, and do not count
            if len(digits) > _MAX_DIGITS:
                raise FilterSyntaxError(
                    "number has too many digits",
                    text,
                    vstart,
                    end=vend,
                    hint=f"an integer has at most {_MAX_DIGITS} digits",
                )
            value = int(digits or "0")
            if raw[0] == "-":
                value = -value
    else:
        value = _KEYWORD_VALUES[raw]
    if op == "is_null" and value is not True and value is not False:
        raise FilterSyntaxError(
            "`is_null` takes `true` or `false`",
            text,
            vstart,
            end=vend,
            expected=["true", "false"],
            hint=f"write `{_shorten(field_text)}=true` or `{_shorten(field_text)}=false`",
        )
    if value is None and op != "exact":
        raise FilterSyntaxError(
            f"`null` cannot be used with `{op}`, only with `exact`",
            text,
            vstart,
            end=vend,
            hint=f"to test for a missing value write `{_shorten(target.text())}__is_null=true`",
        )
    return Comparison(target, op, value, Span(fstart, vend), Span(fstart, fend), Span(vstart, vend))


def _too_deep(ctx: _Context, position: int) -> FilterSyntaxError:
    return FilterSyntaxError(
        f"filter nested deeper than {ctx.max_depth} levels", ctx.text, position, hint=_DEPTH_HINT
    )


def _build_nary(cls: type[And] | type[Or], ctx: _Context, children: list[Any]) -> Expr:
    operands = children[0::2]
    keywords = children[1::2]
    spans = [Span(k.start(), k.end()) for k in keywords]
    if any(o.__class__ is cls for o in operands):  # `(a or b) or c`: flatten
        flat: list[Expr] = []
        for o in operands:
            if o.__class__ is cls:
                flat.extend(o.operands)
                spans.extend(o.keyword_spans or ())
            else:
                flat.append(o)
        operands = flat
        spans.sort(key=lambda s: s.start)
    try:
        node = cls(tuple(operands), tuple(spans), Span(children[0].span.start, children[-1].span.end))
    except FilterError:
        raise _too_deep(ctx, spans[0].start) from None
    if node.depth > ctx.max_depth:
        raise _too_deep(ctx, spans[0].start)
    return node


def _build_and(ctx: _Context, children: list[Any]) -> Expr:
    return _build_nary(And, ctx, children)


def _build_or(ctx: _Context, children: list[Any]) -> Expr:
    return _build_nary(Or, ctx, children)


def _build_not(ctx: _Context, children: list[Any]) -> Expr:
    tok, operand = children
    start = tok.start()
    try:
        node = Not(operand, Span(start, operand.span.end))
    except FilterError:
        raise _too_deep(ctx, start) from None
    if node.depth > ctx.max_depth:
        raise _too_deep(ctx, start)
    return node


def _build_group(ctx: _Context, children: list[Any]) -> Expr:
    lpar, rpar = children[0], children[2]
    inner: Expr = children[1]
    # The node was just built by this parse and is not shared yet: record the parentheses in its span.
    # Comparisons keep their own span.
    if not isinstance(inner, Comparison):
        object.__setattr__(inner, "span", Span(lpar.start(), rpar.end()))
    return inner


_HANDLERS: dict[str, Callable[[_Context, list[Any]], Any]] = {
    "comparison": _build_comparison,
    "and_expr": _build_and,
    "or_expr": _build_or,
    "not_": _build_not,
    "group": _build_group,
}


# --------------------------------------------------------------------------------------------------
# the driver
# --------------------------------------------------------------------------------------------------
class _Stuck(Exception):
    """The parser cannot go on: internal, turned into a FilterSyntaxError by ``_translate``.

    ``span`` is where the offending token stands (at the end: an empty span after the last token),
    ``kind`` its terminal (``$END``, or ``_error`` for a character no terminal matches), ``previous``
    the ``(start, end, kind, text)`` of the token before it.
    """

    def __init__(self, span: tuple[int, int], kind: str, found: str, expected: Collection[str],
                 previous: tuple[int, int, str, str] | None) -> None:
        super().__init__(span)
        self.position, self.end = span
        self.kind = kind
        self.found = found
        self.expected = set(expected)
        self.previous = previous


def _reduce(rule: _Rule, children: list[Any], ctx: _Context) -> Any:
    _origin, _size, _passthrough, inline, handler, keep, expand, expand1 = rule
    if keep is None:
        return children if inline else _HANDLERS[handler](ctx, children)
    out: list[Any] = []
    for j, i in enumerate(keep):
        child = children[i]
        if expand[j]:
            if out:
                out.extend(child)
            else:
                out = child  # left recursion: grow the list in place (linear time)
        else:
            out.append(child)
    if inline:
        return out
    if expand1 and len(out) == 1:
        return out[0]
    return _HANDLERS[handler](ctx, out)


def _drive(tables: _Tables, ctx: _Context) -> Expr:
    actions = tables.actions
    rules = tables.rules
    retype = tables.retype
    kinds = tables.kinds
    states = [tables.start]
    values: list[Any] = []
    previous: Any = None
    for m in tables.scanner.finditer(ctx.text):
        kind = kinds[m.lastindex]  # type: ignore[index]
        if kind is None:  # white space
            continue
        words = retype.get(kind)
        if words is not None:
            kind = words.get(m.group(), kind)
        while True:
            code = actions[states[-1]].get(kind)
            if code is None:
                raise _stuck(tables, states[-1], m, kind, previous)
            if code >= 0:
                states.append(code)
                values.append(m)
                break
            rule = rules[~code]
            if rule[2]:  # passthrough: the value stays on the stack
                del states[-1]
            else:
                size = rule[1]
                children = values[-size:] if size else []
                if size:
                    del values[-size:]
                    del states[-size:]
                values.append(_reduce(rule, children, ctx))
            states.append(actions[states[-1]][rule[0]])
        previous = m
    while True:
        code = actions[states[-1]].get(_END)
        if code is None or code >= 0:
            raise _stuck(tables, states[-1], None, _END, previous)
        rule = rules[~code]
        if rule[2]:
            del states[-1]
        else:
            size = rule[1]
            children = values[-size:] if size else []
            if size:
                del values[-size:]
                del states[-size:]
            values.append(_reduce(rule, children, ctx))
        goto = actions[states[-1]][rule[0]]
        if goto == tables.end:
            result: Expr = values[-1]
            return result
        states.append(goto)


def _stuck(tables: _Tables, state: int, token: Any, kind: str, previous: Any) -> _Stuck:
    """``token`` (a match) could not be shifted in ``state``; ``None`` means the end of the text."""
    prev = None
    if previous is not None:
        ptext = previous.group()
        pkind = previous.lastgroup
        words = tables.retype.get(pkind)
        if words is not None:
            pkind = words.get(ptext, pkind)
        prev = (previous.start(), previous.end(), pkind, ptext)
    if token is None:
        end = prev[1] if prev is not None else 0
        return _Stuck((end, end), kind, "", tables.expected[state], prev)
    return _Stuck((token.start(), token.end()), kind, token.group(), tables.expected[state], prev)


def _parse_reference(text: str, *, max_depth: int = DEFAULT_MAX_DEPTH,
                     operators: Collection[str] | None = None) -> Expr:
    """The same parse through lark's own lexer, LALR parser and parse tree (tests and fallback).

    Raises ``_Stuck`` (not yet translated) where the text is not a filter.
    """
    from lark.exceptions import UnexpectedCharacters, UnexpectedInput, UnexpectedToken

    lk, local = _reference_parser()
    local.ctx = _Context(text, max_depth, operators)
    try:
        tree = lk.parse(text)
    except UnexpectedInput as exc:
        position: int
        end: int
        expected: set[str]
        if isinstance(exc, UnexpectedToken) and exc.token.type == _END:
            position = end = exc.token.end_pos if exc.token.end_pos is not None else len(text)
            kind, found, expected = _END, "", set(exc.expected)
        elif isinstance(exc, UnexpectedToken):
            position, end = int(exc.token.start_pos or 0), int(exc.token.end_pos or 0)
            kind, found, expected = exc.token.type, str(exc.token), set(exc.expected)
        else:
            assert isinstance(exc, UnexpectedCharacters)
            position = int(exc.pos_in_stream or 0)
            end = position + 1
            kind, found, expected = _ERROR, text[position], set(exc.allowed or ())
        previous = None
        try:
            for tok in lk.lex(text):
                if tok.end_pos > position:
                    break
                previous = (tok.start_pos, tok.end_pos, tok.type, str(tok))
        except UnexpectedInput:
            pass
        raise _Stuck((position, end), kind, found, expected, previous) from None
    result: Expr = tree
    return result


def _reference_parser() -> tuple[Any, threading.local]:
    """lark's own parser with the builders as its inline transformer, and the per-thread context."""
    if _Loaded.reference is None:
        with _Loaded.lock:
            if _Loaded.reference is None:
                from lark import Token, Transformer

                local = threading.local()

                def method(handler: Callable[[_Context, list[Any]], Any]) -> Callable[[Any, list[Any]], Any]:
                    def call(self: Any, children: list[Any]) -> Any:
                        return handler(local.ctx, [_Tok(c) if isinstance(c, Token) else c for c in children])

                    return call

                builders = type("_Builders", (Transformer,), {n: method(h) for n, h in _HANDLERS.items()})
                _Loaded.reference = (_lark(transformer=builders()), local)
    result: tuple[Any, threading.local] = _Loaded.reference
    return result


# --------------------------------------------------------------------------------------------------
# entry point
# --------------------------------------------------------------------------------------------------
def parse(
    text: str,
    *,
    max_length: int | None = DEFAULT_MAX_LENGTH,
    max_depth: int = DEFAULT_MAX_DEPTH,
    operators: Collection[str] | None = None,
) -> Expr:
    """Parse a filter into an immutable :class:`~skillfilter.language.ast.Expr`.

    Raises :class:`FilterSyntaxError` for any text that is not a filter, including text longer than
    ``max_length`` characters (``None``: no limit) or nested deeper than ``max_depth`` (at most
    :data:`~skillfilter.language.ast.HARD_MAX_DEPTH`).  ``operators`` are the names that end a field reference
    as its operator (default: the built-in ones; a schema may add more, see ``Schema.operator_names``).
    """
    if not isinstance(text, str):
        raise FilterTypeError(f"parse() takes the filter text as a str, not {type_name(text)}")
    if isinstance(max_depth, bool) or not isinstance(max_depth, int):
        raise FilterTypeError(f"max_depth must be an int, not {type_name(max_depth)}")
    if max_depth > HARD_MAX_DEPTH or max_depth < 1:
        raise FilterArgumentError(f"max_depth must be between 1 and {HARD_MAX_DEPTH}, not {max_depth}")
    if max_length is not None and (isinstance(max_length, bool) or not isinstance(max_length, int)):
        raise FilterTypeError(f"max_length must be an int or None, not {type_name(max_length)}")
    if operators is not None and not isinstance(operators, frozenset) and (
        isinstance(operators, str) or not all(isinstance(o, str) for o in operators)
    ):
        raise FilterTypeError("operators must be a collection of operator names (str)")
    if max_length is not None and len(text) > max_length:
        raise FilterSyntaxError(
            f"filter is {len(text)} characters long; the limit is {max_length}",
            text[: max_length + 1],
            max_length,
            hint="split the filter, or raise the limit with parse(..., max_length=N)",
        )
    if not text.strip(" \t\r\n"):
        raise FilterSyntaxError(
            "the filter is empty",
            text,
            len(text),
            expected=["a field name", "`not`", "`(`"],
            hint="write a comparison such as `external_id='1'`",
        )
    if text.count("(") + text.count("not") > max_depth:
        _check_nesting(text, max_depth)
    if operators is not None and operators is OPERATOR_NAMES:
        operators = None
    ctx = _Context(text, max_depth, operators)
    tables = _get_tables()
    try:
        if tables is None:  # pragma: no cover - see _get_tables
            return _parse_reference(text, max_depth=max_depth, operators=operators)
        return _drive(tables, ctx)
    except _Stuck as stuck:
        raise _translate(stuck, text) from None


def _check_nesting(text: str, limit: int) -> None:
    """Reject deep nesting before parsing: parentheses plus runs of ``not``."""
    depth = 0
    nots: list[int] = [0]  # per parenthesis level: the current run of `not`
    total = 0  # sum(nots)
    for m in _SCAN_RE.finditer(text):
        tok = m.group()
        if tok == "(":
            depth += 1
            nots.append(0)
        elif tok == ")":
            if depth:
                depth -= 1
                total -= nots.pop()
            continue
        elif tok == "not":
            nots[-1] += 1
            total += 1
        else:
            total -= nots[-1]
            nots[-1] = 0
            continue
        if depth + total > limit:
            raise FilterSyntaxError(
                f"filter nested deeper than {limit} levels",
                text,
                m.start(),
                end=m.end(),
                hint=_DEPTH_HINT,
            )


# --------------------------------------------------------------------------------------------------
# error translation
# --------------------------------------------------------------------------------------------------
def _plain_expected(names: Iterable[str]) -> list[str]:
    names = set(names)
    words: list[str] = []
    for name in sorted(names, key=lambda n: _ORDER.index(n) if n in _ORDER else 99):
        word = _TERMINAL_WORDS.get(name)
        if word and word not in words:
            words.append(word)
    return words


def _translate(stuck: _Stuck, text: str) -> FilterSyntaxError:
    position, end, expected = stuck.position, stuck.end, set(stuck.expected)
    at_end = stuck.kind == _END
    if at_end:
        found = "the end of the filter"
    elif stuck.kind == _ERROR:
        found = f"`{stuck.found}`"
        if text[position : position + 2] in ("&&", "||", "!=", "<=", ">="):
            end = position + 2  # the whole operator
            found = f"`{text[position:end]}`"
    else:
        found = _TOKEN_DESCRIPTION.get(stuck.kind) or f"`{_shorten(stuck.found)}`"
    # LALR states are shared between nesting levels: say `)` only inside parentheses, the end only outside.
    if _open_parens(text, position):
        expected.discard(_END)
    else:
        expected.discard("RPAR")
        if expected & {"AND", "OR"}:
            expected.add(_END)
    special = _special_case(text, stuck, expected)
    if special is not None:
        return special
    words = _plain_expected(expected)
    value_expected = "STRING" in expected
    if value_expected and (at_end or stuck.kind in ("AND", "OR", "RPAR")):
        return FilterSyntaxError(
            "missing value after `=`",
            text,
            stuck.previous[1] if stuck.previous else position,
            expected=words,
            hint="a comparison needs a value after `=`, such as `name='x'`, `level__gte=3` or `active=true`",
        )
    message = "the filter ends too early" if at_end else f"unexpected {found}"
    hint = _hint(text, stuck, expected)
    # A keyword written in capitals is read as a field name, so the parser stumbles one token later:
    # point at the word itself.
    prev = stuck.previous
    if prev is not None and prev[2] == "FIELD" and prev[3].lower() in _KEYWORD_FIX and "EQUAL" in expected:
        word = prev[3]
        return FilterSyntaxError(
            f"unexpected `{word}`",
            text,
            prev[0],
            end=prev[1],
            expected=["a field name", "`not`", "`(`"],
            hint=f"keywords are lowercase: write `{word.lower()}` instead of `{word}`",
        )
    return FilterSyntaxError(message, text, position, expected=words, hint=hint, end=end)




#: Characters that look like a token of the language: what to write instead.
_LOOKALIKES = {
    "\u2018": "'", "\u2019": "'", "\u201a": "'", "\u201b": "'", "\u2032": "'", "\u00b4": "'", "`": "'",
    "\uff07": "'", "\u201c": '"', "\u201d": '"', "\u201e": '"', "\u201f": '"', "\u2033": '"',
    "\u00ab": '"', "\u00bb": '"', "\uff02": '"', "\uff1d": "=", "\uff08": "(", "\uff09": ")",
    "\u2212": "-", "\u2010": "-", "\u2011": "-", "\u2012": "-", "\u2013": "-", "\u2014": "-",
    "\ufe63": "-", "\uff0d": "-",
}
#: Invisible characters that are not Unicode white space but act like a space (or nothing).
_ZERO_WIDTH = frozenset("\u200b\u200c\u200d\u2060\ufeff\u180e")
_CONTROL_NAMES = {
    "\x0b": "LINE TABULATION", "\x0c": "FORM FEED", "\x1c": "FILE SEPARATOR", "\x1d": "GROUP SEPARATOR",
    "\x1e": "RECORD SEPARATOR", "\x1f": "UNIT SEPARATOR", "\x85": "NEXT LINE",
}
_INCOMPLETE_EXPONENT = re.compile(r"[eE][+-]?(?![0-9])")


def char_name(ch: str) -> str:
    """``U+00A0 NO-BREAK SPACE``: a character by its code point and Unicode name."""
    import unicodedata

    name = unicodedata.name(ch, "") or _CONTROL_NAMES.get(ch, "")
    return f"U+{ord(ch):04X}" + (f" {name}" if name else "")


def _odd_character(text: str, stuck: _Stuck, expected: set[str]) -> FilterSyntaxError | None:
    """A character no token starts with: Unicode spaces and look-alikes of quotes, `=`, `(`, `)`, `-`."""
    position = stuck.position
    ch = text[position]
    if ch in _LOOKALIKES:
        plain = _LOOKALIKES[ch]
        if plain in "'\"":
            hint = f"strings are quoted with straight quotes: write {plain} instead of {ch}"
        else:
            hint = f"write `{plain}` instead of `{ch}`"
        return FilterSyntaxError(
            f"unexpected `{ch}` ({char_name(ch)})",
            text,
            position,
            expected=_plain_expected(expected),
            hint=hint,
        )
    if ch.isspace() or ch in _ZERO_WIDTH:
        name = char_name(ch)
        return FilterSyntaxError(
            f"unexpected {name}",
            text,
            position,
            expected=_plain_expected(expected),
            hint=f"{name} is not white space here; use a plain space"
            + (" (or nothing)" if ch in _ZERO_WIDTH else ""),
        )
    return None


def _after_value(text: str, stuck: _Stuck, expected: set[str]) -> FilterSyntaxError | None:
    """A token glued to the string or number before it: an unescaped quote, an incomplete number."""
    prev = stuck.previous
    position = stuck.position
    if prev is None or stuck.kind in (_END, "AND", "OR", "RPAR", "EQUAL", "LPAR"):
        return None
    pstart, pend, pkind, ptext = prev
    if pkind == "STRING" and stuck.kind != _ERROR:
        # `'it's'`: the string ended at the quote inside it.  Also `"5" screen"`: a word, then the
        # closing quote, with no `=` between (that would be a comparison missing its `and`).
        quote = ptext[0]
        doubled = stuck.kind == "STRING" and stuck.found[0] == quote  # SQL's `'it''s'`
        body = _STRING_BODY[quote].match(text, pend + doubled)
        assert body is not None
        j = body.end()
        closed = j < len(text) and text[j] == quote
        if pend != position and not (stuck.kind == "FIELD" and closed and "=" not in text[pend:j]):
            return None
        if closed:
            inner = ptext[1:-1] + quote + text[pend + doubled : j]
            whole = quote + ptext[1:-1] + "\\" + quote + text[pend + doubled : j + 1]
            other = "'" if quote == '"' else '"'
            hint = f"write \\{quote} for a {quote} inside a string: `{_shorten(whole)}`"
            if doubled:
                hint = f"a doubled {quote}{quote} is not an escape; " + hint
            if other not in inner and "\\" not in inner:
                hint += f", or quote it with {other}: `{_shorten(other + inner + other)}`"
        else:
            hint = f"write \\{quote} for a {quote} inside a string"
        return FilterSyntaxError(
            f"unescaped {quote} inside a string: the string ends here",
            text,
            pend - 1,
            end=pend,
            expected=_plain_expected(expected),
            hint=hint,
        )
    if pkind == "NUMBER" and pend == position:
        rest = text[position:]
        m = _INCOMPLETE_EXPONENT.match(rest)
        if m is not None:
            shown = ptext + m.group()
            return FilterSyntaxError(
                f"incomplete number `{_shorten(shown)}`: the exponent has no digits",
                text,
                pstart,
                end=position + m.end(),
                expected=["digits"],
                hint="an exponent is `e` followed by digits, as in `1e5` or `2.5e-3`",
            )
        if rest.startswith("."):
            return FilterSyntaxError(
                f"incomplete number `{_shorten(ptext)}.`: digits must follow the `.`",
                text,
                pstart,
                end=position + 1,
                expected=["digits"],
                hint=f"write `{_shorten(ptext)}.0` or `{_shorten(ptext)}`",
            )
        word = _WORD_RE.match(rest)
        if word is not None or stuck.kind == "NUMBER":
            glued = ptext + (word.group() if word is not None else stuck.found)
            return FilterSyntaxError(
                f"unexpected `{_shorten(stuck.found)}` right after the number `{_shorten(ptext)}`",
                text,
                position,
                end=stuck.end,
                expected=_plain_expected(expected),
                hint=f"text values are quoted: write `'{_shorten(glued)}'`; "
                "or put `and` or `or` between two comparisons",
            )
    return None


def _special_case(text: str, stuck: _Stuck, expected: set[str]) -> FilterSyntaxError | None:
    position = stuck.position
    quote = text[position : position + 1]
    if stuck.kind == _ERROR:
        odd = _odd_character(text, stuck, expected)
        if odd is not None:
            return odd
    glued = _after_value(text, stuck, expected)
    if glued is not None:
        return glued
    if stuck.kind == _ERROR:
        value_expected = "STRING" in expected
        if value_expected and quote == "." and text[position + 1 : position + 2].isdigit():
            digits = re.match(r"\.[0-9]+", text[position:])
            assert digits is not None
            return FilterSyntaxError(
                "a number starts with a digit",
                text,
                position,
                end=position + digits.end(),
                expected=_plain_expected(expected),
                hint=f"write `0{_shorten(digits.group())}`",
            )
        if value_expected and quote == "-":
            return FilterSyntaxError(
                "`-` must be followed by digits",
                text,
                position,
                expected=["digits"],
                hint="write a negative number such as `-1`, or quote text: `'-...'`",
            )
    # Strings: unclosed, or with an unknown escape.
    if stuck.kind == _ERROR and quote in ("'", '"'):
        body = _STRING_BODY[quote].match(text, position + 1)
        assert body is not None
        i = body.end()
        if i < len(text) and text[i] == "\\" and i + 1 < len(text):
            shown = "\\" + text[i + 1]
            return FilterSyntaxError(
                f"unknown escape `{shown}` in string",
                text,
                i,
                end=i + 2,
                hint="only `\\\\`, `\\'` and `\\\"` are escapes; write `\\\\` for a backslash",
            )
        # `i` is at the end of the text, or at a backslash that ends it.
        return FilterSyntaxError(
            "unclosed string",
            text,
            position,
            end=len(text),
            expected=_plain_expected(expected),
            hint=f"close the string with {quote}; write \\{quote} for a {quote} inside it",
        )
    # Unclosed parenthesis.
    if stuck.kind == _END and "RPAR" in stuck.expected:
        open_pos = _unmatched_open(text)
        if open_pos is not None:
            return FilterSyntaxError(
                "this `(` is never closed",
                text,
                open_pos,
                expected=["`)`"],
                hint="add a `)` to close it",
            )
    return None


def _open_parens(text: str, position: int) -> int:
    depth = 0
    for m in _SCAN_RE.finditer(text, 0, position):
        if m.group() == "(":
            depth += 1
        elif m.group() == ")" and depth:
            depth -= 1
    return depth


def _unmatched_open(text: str) -> int | None:
    stack: list[int] = []
    for m in _SCAN_RE.finditer(text):
        if m.group() == "(":
            stack.append(m.start())
        elif m.group() == ")" and stack:
            stack.pop()
    return stack[-1] if stack else None


_KEYWORD_FIX = {"and": "and", "or": "or", "not": "not"}
_VALUE_FIX = {"true": "true", "false": "false", "none": "null", "null": "null", "nil": "null"}


def _hint(text: str, stuck: _Stuck, expected: set[str]) -> str | None:
    position = stuck.position
    rest = text[position:]
    word_m = _WORD_RE.match(rest)
    word = word_m.group() if word_m else None
    value_expected = bool(expected & {"STRING", "NUMBER", "TRUE"})
    before = text[:position].rstrip(" \t\r\n")
    prev = stuck.previous
    if rest.startswith("&"):
        return f"write `and` instead of `{'&&' if rest.startswith('&&') else '&'}`"
    if rest.startswith("|"):
        return f"write `or` instead of `{'||' if rest.startswith('||') else '|'}`"
    if rest.startswith("!="):
        return "there is no `!=`: write `not field=value`"
    if rest.startswith("!"):
        return "write `not` instead of `!`"
    if rest.startswith("=") and before.endswith("="):
        return "compare with a single `=`, not `==`"
    if rest[:1] in ("<", ">"):
        sign = rest[:2] if rest[:2] in ("<=", ">=") else rest[:1]
        op = {"<=": "lte", ">=": "gte", "<": "lt", ">": "gt"}[sign]
        return f"there is no `{sign}`: write `field__{op}=value`"
    if rest[:1] in ("'", '"') and "FIELD" in expected:
        return "field names are not quoted: write `name='value'`"
    if word is not None:
        low = word.lower()
        if low in _KEYWORD_FIX and word != low:
            return f"keywords are lowercase: write `{low}` instead of `{word}`"
        if low in _VALUE_FIX and word != low:
            return f"write `{_VALUE_FIX[low]}` instead of `{word}`"
        if value_expected:
            return f"text values are quoted: write `'{_shorten(word)}'`"
        if word in ("true", "false", "null") and "FIELD" in expected:
            return f"`{word}` is a value, not a field"
        if expected & {"AND", "OR"} and "EQUAL" not in expected:
            return "join comparisons with `and` or `or`"
        if "EQUAL" in expected:
            return (
                "a comparison is `field=value`; operators follow the field after `__`, "
                "as in `name__icontains='x'`"
            )
        if word in ("and", "or") and "FIELD" in expected:
            return f"`{word}` must stand between two comparisons"
    if value_expected:
        return "a comparison needs a value after `=`, such as `name='x'`, `level__gte=3` or `active=true`"
    if rest.startswith("=") and "FIELD" in expected:
        return "a comparison starts with a field name, as in `external_id='1'`"
    if rest.startswith(")") and prev is not None and prev[2] == "LPAR":
        return "empty parentheses: put a comparison between them"
    if rest.startswith(")") and "RPAR" not in expected:
        return "this `)` has no `(` to close"
    if rest.startswith("(") and expected & {"AND", "OR"}:
        return "join expressions with `and` or `or`"
    if stuck.kind == _END and "FIELD" in expected:
        return "the filter ends after a keyword: add a comparison"
    if stuck.kind == _END and "EQUAL" in expected:
        return "a comparison is `field=value`, such as `external_id='1'`"
    return None
