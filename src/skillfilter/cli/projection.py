"""Records decoded only as far as a filter reads them: the JSON Lines reader's fast path.

A filter reads a few members of each record: ``external_id__startswith='1'`` reads ``external_id``, a
scope over ``skill_clusters`` reads ``domain_name`` of each cluster.  :func:`projection` derives from the
checked filter's plan (:func:`skillfilter.plan.planner.compile_plan`) a msgspec type that keeps exactly
those members, and the reader (:class:`~skillfilter.cli.records.RecordReader`) decodes whole blocks of
lines into it with msgspec's ``decode_lines`` (the ``fast`` extra): members the filter does not read are
checked (the line must be valid JSON) but never built.  The predicate gets the same answer on the part as
on the whole record, because it reads nothing else:

- a value an atom tests (``PAtom``) is kept whole (``Any``), as is every custom property (rule 9 reads the
  ``custom_properties`` member in two shapes);
- a value that keys are read from is a mapping of just those keys; since rule 3 takes a value that is not
  a list as its own only element, and reads keys of a list's elements, the same value may also be a list
  of such mappings (an element that is itself a list, read through keys, gives null: it is kept whole),
  or a scalar, or null -- all kept as they are (``Union[part, list[Union[part, list, scalars]], scalars]``).

Numbers kept are read as the reader reads them (an ``int``; a ``float`` where its shortest ``repr`` has
the token's value, else a ``Decimal``).  What the part cannot hold (``NaN``, a lone surrogate, an integer
of thousands of digits) makes msgspec refuse the block, which the reader then reads line by line as before;
what msgspec does not check in the members it skips (UTF-8, exponents beyond :mod:`decimal`'s range, nesting
deeper than :data:`~skillfilter.cli.jsontext.MAX_DEPTH`) the reader checks on the block's bytes first.

>>> from skillfilter.plan.planner import compile_plan
>>> decode = projection(compile_plan("skill_clusters__domain_name='Finance' or external_id='1'")[0])
>>> decode(b'{"external_id": "1", "name": "Jo", "skill_clusters": [{"domain_name": "IT", "size": 3}]}')
{'external_id': '1', 'skill_clusters': [{'domain_name': 'IT'}]}
"""

from __future__ import annotations

import importlib
import os
from typing import Any, TypedDict, Union

from ..plan.nodes import ROOT, CPKey, Key, PAtom, PExists, PNode, walk
from .jsontext import _number

__all__ = ["Projection", "projection"]

#: What a value that keys are read from may also be, kept as it is.
_SCALARS: tuple[Any, ...] = (None, bool, int, float, str)


class _Demand:
    """What a filter reads of one value: the value itself (``whole``), or members of it (``keys``)."""

    __slots__ = ("keys", "whole")

    def __init__(self) -> None:
        self.whole = False
        self.keys: dict[str, _Demand] = {}

    def reach(self, keys: tuple[Key, ...]) -> _Demand:
        """The demand on the value reached through ``keys`` (a custom property: its whole member)."""
        demand = self
        for key in keys:
            if isinstance(key, CPKey):
                demand = demand.keys.setdefault("custom_properties", _Demand())
                demand.whole = True
                return demand
            demand = demand.keys.setdefault(key, _Demand())
        return demand


def demands(plan: PNode) -> _Demand:
    """What ``plan`` reads of a record."""
    root = _Demand()
    by_var = {ROOT: root}
    for node in walk(plan):  # parents before children: a list's variable is bound before its body
        if isinstance(node, PAtom):
            by_var[node.var].reach(node.keys).whole = True
        elif isinstance(node, PExists):
            # The list's elements (or the value itself, when it is no list) are read as the list is.
            by_var[node.var] = by_var[node.parent].reach(node.keys)
    return root


def _part(demand: _Demand, names: list[str]) -> Any:
    """A TypedDict of the members ``demand`` reads (each of them typed by :func:`_value`)."""
    names.append(f"Part{len(names)}")
    fields = {key: _value(child, names) for key, child in demand.keys.items()}
    return TypedDict(names[-1], fields, total=False)  # type: ignore[operator]  # the functional form


def _value(demand: _Demand, names: list[str]) -> Any:
    if demand.whole or not demand.keys:
        return Any
    part = _part(demand, names)
    return _union((part, list[_union((part, list[Any], *_SCALARS))], *_SCALARS))  # type: ignore[misc]


def _union(types: tuple[Any, ...]) -> Any:
    """The union of ``types``, built at run time."""
    return Union[types]  # noqa: UP007


class Projection:
    """Decodes lines into the part of a record a filter reads: ``decode`` one line, ``decode_lines`` a
    block of them (both raise ``ValueError`` where msgspec refuses)."""

    def __init__(self, part: Any) -> None:
        msgspec = importlib.import_module("msgspec")
        # Numbers with a fraction or an exponent as the reader reads them: a float where exact, else a
        # Decimal (``_number`` raises a ValueError beyond decimal's range: the block is read line by line).
        decoder = msgspec.json.Decoder(part, float_hook=_number)
        self.decode = decoder.decode
        self.decode_lines = decoder.decode_lines

    def __call__(self, line: bytes) -> Any:
        return self.decode(line)


def projection(plan: PNode) -> Projection | None:
    """The decoder of the part of a record ``plan`` reads; ``None`` without msgspec, with
    ``SKILLFILTER_JSON=stdlib``, where the filter reads the record whole, or reads a member whose name is
    not ASCII."""
    if os.environ.get("SKILLFILTER_JSON", "").lower() == "stdlib":
        return None
    try:
        importlib.import_module("msgspec")
    except ImportError:
        return None
    root = demands(plan)
    if root.whole or not _ascii_keys(root):
        return None
    return Projection(_part(root, []))


def _ascii_keys(demand: _Demand) -> bool:
    """Whether every member name ``demand`` reads is ASCII (msgspec 0.23 matches a TypedDict's
    non-ASCII keys to nothing; field names are ASCII identifiers, but a decoder that loses a member must
    never be built)."""
    return all(key.isascii() and _ascii_keys(child) for key, child in demand.keys.items())
