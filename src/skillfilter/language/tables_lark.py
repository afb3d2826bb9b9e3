"""Computing the parse tables with lark (only when the cache of :mod:`skillfilter.language.tables` has
none for this grammar): lark's LALR(1) table and lexer terminals for ``grammar.lark``, read into plain data,
and the cache file written.
"""

from __future__ import annotations

import os
import re
import threading
import zlib
from pathlib import Path
from typing import Any

from .tables import CACHE_MAGIC, ERROR, grammar_text

__all__ = ["lark", "tables_from_lark", "write_cache"]


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
    rule_index: dict[Any, int] = {}  # by lark rule (equal rules: the same origin and expansion)
    state_ids = sorted(table.states)
    state_of = {s: i for i, s in enumerate(state_ids)}
    actions: list[dict[str, int]] = []
    for s in state_ids:
        acts: dict[str, int] = {}
        for symbol, (action, arg) in table.states[s].items():
            if action.name == "Shift":
                acts[symbol] = state_of[arg]
                continue
            index = rule_index.get(arg)
            if index is None:
                index = rule_index[arg] = len(rules)
                rules.append(_describe_rule(arg))
            acts[symbol] = ~index
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


def write_cache(path: Path, key: str, data: dict[str, Any]) -> None:
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


