"""A prefilter that never lies: a necessary condition on a JSON Lines line's raw bytes, from the plan.

A record can match a filter only if its line holds certain bytes: ``...__name='Python'`` needs a JSON
string whose value is ``Python``, and a line without a backslash spells every string exactly as its
UTF-8 bytes between quotes, so such a line must contain ``"Python"``.  :func:`line_condition` derives that
condition from the checked filter's plan (:func:`skillfilter.plan.planner.compile_plan`):

- a case-sensitive text test (``exact``, ``contains``, ``startswith``, ``endswith``) of a non-empty literal
  needs the literal's JSON text (with the quote on the side the test anchors: ``"Python"`` for ``exact``,
  ``"Py`` for ``startswith``), and where the value is a member of an object, that member's name before it
  (``"name": "Python``, whitespace allowed around the colon);
- ``and`` needs what any of its parts needs, ``or`` what every part needs (one of the alternatives),
  ``exists`` what its body needs;
- everything else needs nothing: ``not``, case-insensitive tests, ordering, numbers, dates, booleans,
  nulls, and any test that holds on null (the empty-relation element of LANGUAGE.md rule 3 is null, and
  it is in no line).

A line that may spell the text with escapes passes whatever it holds: one with a ``\\u`` escape
(``\\u0050ython``), or with any backslash when the literal holds a character that another escape spells
(a quote, a backslash, ``/``, a control character).
The condition only lets the reader leave out lines that cannot match; every line that passes is decoded
and gets the exact predicate.  A line left out must still be a record the reader would have accepted (else
its error would go unreported): :class:`Proof` shows that without building the record, with msgspec's
validating parser (the ``fast`` extra), else orjson's; a line it cannot prove is decoded after all.

>>> from skillfilter.plan.planner import compile_plan
>>> check = line_condition(compile_plan("skill__name='Python' or not x=1")[0])
>>> check is None
True
>>> check = line_condition(compile_plan("skill__name='Python' and name__startswith='J'")[0])
>>> check(b'{"skill": {"name": "Python"}, "name": "Jo"}'), check(b'{"skill": {"name": "Pythons"}}')
(True, False)
>>> check(b'{"skill": {"name": "\\\\u0050ython"}, "name": "Jo"}')  # escapes: never rejected
True
"""

from __future__ import annotations

import bisect
import functools
import importlib
import json
import os
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from ..plan.atoms import TEXT
from ..plan.nodes import Key, PAnd, PAtom, PExists, PNode, POr
from .jsontext import _long_exponent, escaped_first_key

__all__ = ["LineCondition", "Needle", "Proof", "line_condition", "needs", "proof"]

_QUOTED_KINDS = {"exact": (True, True), "startswith": (True, False), "endswith": (False, True),
                 "contains": (False, False)}
#: Blocks between two counts of which part of an `and` is rarest.
REORDER_EVERY = 32
#: The prefilter picks out a block's lines (rather than letting the reader decode all of them, in part:
#: :mod:`skillfilter.cli.projection`) where its texts occur in fewer than one line in this many.
SELECTIVE = 8
#: JSON whitespace, as the pattern between a member's name, its colon and its value.
_WS = rb"[ \t\r\n]*"


@dataclass(frozen=True)
class Needle:
    """Bytes a line must hold (``text``), and where known a pattern it must match (``pattern``: the
    member name before the text)."""

    text: bytes
    pattern: bytes | None = None
    #: A line that holds these bytes passes anyway: it may spell the text with escapes.
    guard: bytes = b"\\"
    #: The member's name as the pattern starts with it (quoted), where there is a pattern.
    key: bytes | None = None


#: A condition: a needle, or ``("and" | "or", [conditions])``; ``None``: no condition.
Condition = Needle | tuple[str, list["Condition"]]


def _json_text(value: str) -> bytes:
    """``value`` as JSON spells it without ``\\u`` escapes for non-ASCII, without the quotes; a lone
    surrogate (which only an escape can spell) comes out as its escape, so it needs a backslash."""
    text = json.dumps(value, ensure_ascii=False)[1:-1]
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError:
        return json.dumps(value)[1:-1].encode("ascii")


def _atom(node: PAtom, member: Key | None = None, listed: bool = False) -> Condition | None:
    """The condition of a test; ``member``: the name of the object member that holds the tested value
    (``listed``: or holds a list with it as an element)."""
    test = node.test
    if test.vtype != TEXT or test.ci or test.kind not in _QUOTED_KINDS or test.null_truth:
        return None
    if not isinstance(test.value, str) or not test.value:
        return None
    before, after = _QUOTED_KINDS[test.kind]
    core = _json_text(test.value)
    # Escapes other than \u decode to `"`, `\`, `/` and control characters: where the literal holds
    # none of them, only a \u escape can spell a part of it.
    plain = not any(c in test.value for c in '"\\/') and all(ord(c) >= 0x20 for c in test.value)
    text = (b'"' if before else b"") + core + (b'"' if after else b"")
    if node.keys:
        member, listed = node.keys[-1], False
    pattern = key = None
    if isinstance(member, str) and plain and not any(c in member for c in '"\\/') and all(
        ord(c) >= 0x20 for c in member
    ):
        # The value is the member's value (or an element of it, a list: then `[` and anything before
        # the string); what comes before the text in the string is anything but a quote, or an escape.
        value = b'"' + (b"" if before else rb'(?:[^"\\]|\\.)*') + re.escape(core) + (b'"' if after else b"")
        key = b'"' + _json_text(member) + b'"'
        pattern = (re.escape(key) + _WS + b":" + _WS
                   + (b"(?:\\[.*?)?" if listed else b"") + value)
    return Needle(text, pattern, b"\\u" if plain else b"\\", key)


def needs(node: PNode) -> Condition | None:
    """The condition a line must meet for ``node`` to hold on its record (``None``: none known)."""
    if isinstance(node, PAtom):
        return _atom(node)
    if isinstance(node, PExists):
        body = node.body
        if isinstance(body, PAtom) and body.var == node.var and not body.keys:
            # A test of the list's elements (or of the value itself, when it is not a list).
            return _atom(body, node.keys[-1] if node.keys else None, listed=True)
        return needs(body)
    if isinstance(node, PAnd):
        parts = [c for c in (needs(i) for i in node.items) if c is not None]
        return None if not parts else parts[0] if len(parts) == 1 else ("and", parts)
    if isinstance(node, POr):
        alternatives = [needs(i) for i in node.items]
        if not alternatives or any(c is None for c in alternatives):
            return None
        return ("or", [c for c in alternatives if c is not None])
    return None  # PNot, PConst


class LineCondition:
    """A necessary condition on lines: call it on one line, or ask :meth:`lines` of a block of them."""

    def __init__(self, cond: Condition, proof: Proof | None = None) -> None:
        self.cond = cond
        #: What shows that a line passed over is a record the reader accepts (``None``: none installed;
        #: the reader then decodes every line).
        self.proof = proof
        names: dict[str, object] = {}
        body = _source(cond, names)
        namespace: dict[str, object] = dict(names)
        exec(f"def check(line):\n    return {body}\n", namespace)  # noqa: S102 - our own text
        self._check: Callable[[bytes], bool] = namespace["check"]  # type: ignore[assignment]
        self._block: dict[int, Callable[..., re.Match[bytes] | None]] = {}
        self._line: dict[int, Callable[..., re.Match[bytes] | None]] = {}
        #: Per needle with a pattern: its block pattern's ``match`` (tried where the member's name is), and
        #: whether to look for the name first (else the text first), as last counted.
        self._match: dict[int, Callable[..., re.Match[bytes] | None]] = {}
        #: What was last counted about a block (see :meth:`_recounted`), by key: blocks seen, the answer.
        self._counted: dict[object, tuple[int, Any]] = {}
        for needle in _needles(cond):
            if needle.pattern is not None:
                self._line[id(needle)] = re.compile(needle.pattern, re.S).search
                # In a block every line starts with `{`: no match may run on into the next line.
                pattern = needle.pattern.replace(b'[^"\\\\]', b'[^"\\\\\n]')
                compiled = re.compile(pattern)
                self._block[id(needle)] = compiled.search
                self._match[id(needle)] = compiled.match

    def __call__(self, line: bytes) -> bool:
        return self._check(line)

    def selective(self, block: bytes, lines: int) -> bool:
        """Whether the condition's texts occur in ``block`` (of ``lines`` lines) rarely enough to pick out
        the lines that may match (:data:`SELECTIVE`): counted every :data:`REORDER_EVERY` blocks."""
        return bool(self._recounted("selective", lambda: _occurrences(self.cond, block) * SELECTIVE < lines))

    def _recounted(self, key: object, count: Callable[[], Any]) -> Any:
        """``count()``, for the first block and then every :data:`REORDER_EVERY` blocks; in between, what it
        last gave (the data changes slowly, and counting costs a pass over the block)."""
        seen, answer = self._counted.get(key, (0, None))
        if not seen % REORDER_EVERY:
            answer = count()
        self._counted[key] = (seen + 1, answer)
        return answer

    def lines(self, block: bytes, starts: list[int], *, escapes: bool = True) -> set[int]:
        """The indexes of the lines of ``block`` that may meet the condition (``starts``: where each line
        starts; every line starts with ``{``; ``escapes``: false when the block holds no backslash)."""
        return self._lines(self.cond, block, starts, escapes)

    def _lines(self, cond: Condition, block: bytes, starts: list[int], escapes: bool) -> set[int]:
        if isinstance(cond, Needle):
            found = _find(cond.guard, block, starts) if escapes else set()
            if cond.key is None:
                return found | _find(cond.text, block, starts)
            # Where the member's name is (when it is rarer than the text), else where the text is, then
            # the pattern there (which of the two: counted every REORDER_EVERY blocks).
            key = id(cond)
            name, text = cond.key, cond.text
            if self._recounted(("by key", key), lambda: block.count(name) <= 4 * block.count(text)):
                return found | _find(cond.key, block, starts, self._match[key])
            search = self._block[key]
            end = len(block) + 1
            return found | {
                i for i in _find(cond.text, block, starts)
                if search(block, starts[i], starts[i + 1] - 1 if i + 1 < len(starts) else end) is not None
            }
        kind, parts = cond
        if kind == "or":
            return set.union(*(self._lines(p, block, starts, escapes) for p in parts))
        # `and`: the lines of the part whose text the block holds least often (counted every
        # REORDER_EVERY blocks: the data changes slowly), then each of those lines alone.
        first: Condition = self._recounted(("first", id(cond)), lambda: min(
            parts, key=lambda p: block.count(p.text) if isinstance(p, Needle) else len(block)))
        found = self._lines(first, block, starts, escapes)
        rest = [p for p in parts if p is not first]
        if not found or not rest:
            return found
        end = len(block) + 1
        return {
            i for i in found
            if all(self._holds(p, block[starts[i] : (starts[i + 1] if i + 1 < len(starts) else end) - 1])
                   for p in rest)
        }

    def _holds(self, cond: Condition, line: bytes) -> bool:
        if isinstance(cond, Needle):
            if cond.guard in line:
                return True
            if cond.text not in line:
                return False
            search = self._line.get(id(cond))
            return search is None or search(line) is not None
        kind, parts = cond
        if kind == "or":
            return any(self._holds(p, line) for p in parts)
        return all(self._holds(p, line) for p in parts)


def _occurrences(cond: Condition, block: bytes) -> int:
    """About how many lines of ``block`` may meet ``cond``, from how often its texts occur."""
    if isinstance(cond, Needle):
        return block.count(cond.text)
    counts = [_occurrences(part, block) for part in cond[1]]
    return min(counts) if cond[0] == "and" else sum(counts)


def _needles(cond: Condition) -> Iterator[Needle]:
    if isinstance(cond, Needle):
        yield cond
    else:
        for part in cond[1]:
            yield from _needles(part)


def _find(text: bytes, block: bytes, starts: list[int],
          match: Callable[..., re.Match[bytes] | None] | None = None) -> set[int]:
    """The indexes of the lines that hold ``text`` (with ``match``: where ``match`` also matches at an
    occurrence of ``text``, its start)."""
    locate = _locator(text)
    found: set[int] = set()
    pos = locate(block, 0)
    last = len(starts) - 1
    while pos >= 0:
        if match is not None and match(block, pos) is None:
            pos = locate(block, pos + 1)
            continue
        index = bisect.bisect_right(starts, pos) - 1
        found.add(index)
        if index >= last:
            break
        pos = locate(block, starts[index + 1])
    return found


#: How many backslashes :func:`_locator` looks at one by one before it searches for an escape's text.
_BACKSLASHES = 32


@functools.lru_cache(maxsize=256)
def _locator(text: bytes) -> Callable[[bytes, int], int]:
    """Where ``text`` next occurs in a block from a position on (``-1``: nowhere).  Searched with a regular
    expression of the literal: as fast as ``bytes.find`` or up to three times faster (``bytes.find`` is
    slow on some short needles, ``\\u``).  A text that starts with a backslash (a guard against escapes)
    is looked for at each backslash first: those are few, and found at the speed of ``memchr``, four times
    faster than the search."""
    search = re.compile(re.escape(text)).search

    def locate(block: bytes, pos: int) -> int:
        found = search(block, pos)
        return -1 if found is None else found.start()

    if text[:1] != b"\\":
        return locate

    def locate_escape(block: bytes, pos: int) -> int:
        for _ in range(_BACKSLASHES):
            pos = block.find(b"\\", pos)
            if pos < 0 or block.startswith(text, pos):
                return pos
            pos += 1
        return locate(block, pos)  # a block of many backslashes

    return locate_escape


def _source(cond: Condition, names: dict[str, object]) -> str:
    if isinstance(cond, Needle):
        name = f"_n{len(names)}"
        names[name] = cond.text
        test = f"{name} in line"
        if cond.pattern is not None:
            pattern = f"_p{len(names)}"
            names[pattern] = re.compile(cond.pattern, re.S).search
            test = f"{test} and {pattern}(line) is not None"
        guard = f"_g{len(names)}"
        names[guard] = cond.guard
        return f"({test} or {guard} in line)"
    kind, parts = cond
    joiner = " and " if kind == "and" else " or "
    return "(" + joiner.join(_source(p, names) for p in parts) + ")"


def line_condition(plan: PNode) -> LineCondition | None:
    """A function of a line's bytes that is false only where the line's record cannot satisfy ``plan``
    (``None``: no condition is known, every line may match)."""
    cond = needs(plan)
    return None if cond is None else LineCondition(cond, proof())


# --------------------------------------------------------------------------------------------------
# Proof that a line passed over is a record the reader accepts
# --------------------------------------------------------------------------------------------------
#: A line whose first member's name is spelled without escapes and is no export page's key (or ``{}``):
#: what it holds is a record, not a page.
_PLAIN_FIRST_KEY = re.compile(
    rb'[ \t]*\{[ \t\r\n]*(?:\}|"(?!(?:has_next|records|next_starting_after)")[^"\\]*")'
)
class Proof:
    """Shows that lines the prefilter passes over are records the JSON Lines reader accepts: valid JSON,
    one object that is not an export page, no number beyond what the reader holds.  ``validate`` decodes
    one line (raising ``ValueError`` where it is not valid JSON) without building the record where it can;
    ``validate_lines``, where given, does the same for a block of lines at once (a sequence of values).
    Every line is assumed valid UTF-8 and nested at most :data:`~skillfilter.cli.jsontext.MAX_DEPTH`
    levels (the reader checks both before it asks).  What the validator accepts must be a subset of what
    the reader's decoders accept (msgspec and orjson refuse ``NaN``, lone surrogates, ..., which the
    reader takes: such a line is only decoded after all)."""

    def __init__(
        self, name: str, validate: Callable[[bytes], object],
        validate_lines: Callable[[bytes], list[object]] | None = None,
    ) -> None:
        self.name = name
        self._validate = validate
        self._validate_lines = validate_lines

    def line(self, text: bytes) -> bool:
        """Whether ``text`` (one line, without its newline) is proven a record the reader accepts."""
        if _PLAIN_FIRST_KEY.match(text) is None or _long_exponent(text):
            return False
        try:
            self._validate(text)
        except (ValueError, RecursionError):
            return False
        return True

    def values(self, block: bytes) -> int:
        """How many valid JSON values ``block`` holds, one after another (-1: it is not such a sequence, or
        no validator for whole blocks is installed).  Nothing else is checked: see :meth:`unproven`."""
        if self._validate_lines is None:
            return -1
        try:
            return len(self._validate_lines(block))
        except (ValueError, RecursionError):
            return -1

    def unproven(self, block: bytes, texts: list[bytes], indexes: Iterable[int]) -> list[int]:
        """Which of the lines ``indexes`` of ``block`` (split into ``texts``) are not proven records.  Every
        line starts with ``{"``, ends with ``}`` (and maybe ``\\r``) and is no export page by its first
        three bytes: no value can then span two lines (``}`` and ``{`` never follow each other inside one),
        so a block that holds as many valid values as lines holds one valid object on each line."""
        if not _long_exponent(block) and self.values(block) == len(texts):
            if not escaped_first_key(block):
                return []
            return [i for i in indexes if _PLAIN_FIRST_KEY.match(texts[i]) is None]
        return [i for i in indexes if not self.line(texts[i])]


def proof() -> Proof | None:
    """The fastest validator installed: msgspec (which checks JSON without building the values it skips),
    else orjson; ``None`` without either, or with ``SKILLFILTER_JSON=stdlib`` (then every line the
    prefilter would pass over is decoded)."""
    if os.environ.get("SKILLFILTER_JSON", "").lower() == "stdlib":
        return None
    try:
        msgspec = importlib.import_module("msgspec")
    except ImportError:
        pass
    else:
        # Raw: each value checked (syntax, escapes, nesting) and skipped, nothing built; a line taken as a
        # record starts with `{` (see Proof.line and Proof.unproven), so its value is an object.
        decoder = msgspec.json.Decoder(msgspec.Raw)
        return Proof("msgspec", decoder.decode, decoder.decode_lines)
    try:
        orjson = importlib.import_module("orjson")
    except ImportError:
        return None
    return Proof("orjson", orjson.loads)
