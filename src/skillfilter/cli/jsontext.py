"""JSON text without decoding it: exact numbers, whitespace, nesting, export-page starts, and the
:class:`RecordError` the readers raise (split out of :mod:`skillfilter.cli.records`)."""

from __future__ import annotations

import decimal
import json
import re
from typing import Any

from ..errors import FilterError

#: Bytes read at a time (the buffer grows beyond this only for a record larger than it).
CHUNK_SIZE = 1 << 16
#: At most this many characters decoded at a time for the document reader: its strings then stay below
#: the size where the C allocator switches to mmap and, adapting its threshold, lets the heap grow.
TEXT_CHUNK_SIZE = 1 << 14

Record = dict[str, Any]


#: Records (and JSON Lines lines) may nest arrays and objects this many levels deep, counting the record
#: itself (``{"a": [1]}`` has 2); deeper ones are refused with a :class:`RecordError`, with and without
#: orjson alike (orjson stops at 1024 levels, :mod:`json` near the interpreter's recursion limit).
MAX_DEPTH = 512
_DEEP_MESSAGE = f"nested too deeply (more than {MAX_DEPTH} levels of arrays and objects)"

# Numbers.  A number token means the decimal value written: it is read as an ``int``, as a ``float`` where
# that float's shortest repr has the same decimal value (up to 15 significant digits, within the range of
# doubles), and otherwise as a ``decimal.Decimal`` (more digits than a double holds, 1e400, 1e-400).
#: Digits and `.` as `0`, exponent marks as `e`, signs as `+`, anything else a space: long number tokens
#: and three-digit exponents are then found with ``bytes.find``, at C speed.
_NUMBER_MARKS = bytes(
    0x30 if (0x30 <= i <= 0x39 or i == 0x2E) else 0x65 if i in b"eE" else 0x2B if i in b"+-" else 0x20
    for i in range(256)
)
_LONG_RUN = b"0" * 16
_TOKEN_REST = re.compile(rb"[0e+]*")


#: What may stand before a number token in JSON text, and after it.
_BEFORE_NUMBER = frozenset(b":,[ \t\r\n")
_AFTER_NUMBER = frozenset(b",]} \t\r\n")


def _delimited(text: bytes, marks: bytes, pos: int) -> bool:
    """Whether the run of number characters at ``pos`` stands where JSON puts a number token (not inside
    a word: ``573550e0328f`` in a UUID is no number; inside a string it may still be taken for one)."""
    start = marks.rfind(b" ", 0, pos) + 1
    end = marks.find(b" ", pos)
    return (start == 0 or text[start - 1] in _BEFORE_NUMBER) and (end < 0 or text[end] in _AFTER_NUMBER)


def _inexact_for_orjson(text: bytes, marks: bytes | None = None) -> bool:
    """Whether ``text`` may hold a number orjson would read differently from :func:`_number`: an integer of
    19 digits or more (orjson makes a float of it beyond 64 bits), a number with an exponent of three
    digits or more (1e400 that orjson refuses, 1e-400 that it makes 0.0), or a fraction or exponent form
    of 16 characters or more that is not the shortest repr of its double (more digits than a double
    holds).  A float written as Python and orjson write floats (``repr``) reads the same either way.
    (Runs of digits inside strings may be taken for numbers: they are only looked at more closely.)
    ``marks``: ``text.translate(_NUMBER_MARKS)``, where the caller has it."""
    if marks is None:
        marks = text.translate(_NUMBER_MARKS)
    for exponent in (b"0e000", b"0e+000"):
        pos = marks.find(exponent)
        while pos >= 0:
            if _delimited(text, marks, pos):
                return True
            pos = marks.find(exponent, pos + 1)
    pos = marks.find(_LONG_RUN)
    while pos >= 0:
        end = _TOKEN_REST.match(marks, pos + 16).end()  # type: ignore[union-attr]  # `*` always matches
        token = text[pos:end]
        if not _delimited(text, marks, pos):
            pass  # part of a word: no number
        elif token.isdigit():
            if len(token) >= 19:
                return True
        else:
            try:
                if repr(float(token)).encode() != token:
                    return True
            except ValueError:  # not a number (a run inside a string)
                pass
        pos = marks.find(_LONG_RUN, end)
    return False


#: An exponent of 16 digits or more (in text marked by ``_NUMBER_MARKS``: digits as ``0``, ``e``/``E`` as
#: ``e``, signs as ``+``): it may be beyond :mod:`decimal`'s range, which the reader reports (from 18 digits).
_LONG_EXPONENTS = (b"e" + b"0" * 16, b"e+" + b"0" * 16)
_SIXTEEN = b"0" * 16


def _long_exponent(data: bytes, marks: bytes | None = None) -> bool:
    """Whether ``data`` may hold a number with an exponent of 16 digits or more (a translation and two
    searches, at C speed: a regular expression takes ten times as long; ``marks``: the translation, where
    the caller has it)."""
    if marks is None:
        marks = data.translate(_NUMBER_MARKS)
    # Sixteen digits in a row are rare: one search for them, the two for an exponent only where found.
    return marks.rfind(_SIXTEEN) >= 0 and any(marks.find(needle) >= 0 for needle in _LONG_EXPONENTS)


#: In a block of lines each ``{"...``: a line whose first member's name has an escape in its first three
#: characters (at the block's start, and after a newline).
_ESCAPED_KEY = re.compile(rb'\{"[^"\\\n]{0,2}\\')
_ESCAPED_KEY_AFTER = re.compile(rb'\n\{"[^"\\\n]{0,2}\\')


def _escaped_key_after(block: bytes) -> bool:
    """Whether ``_ESCAPED_KEY_AFTER`` finds a match in ``block``: a line (after a newline) that starts with
    ``{"`` and up to two characters other than a quote, a backslash or a newline, then a backslash.  Found
    from each line's first backslash (a few per block: cheaper than a search over all of it)."""
    pos = block.find(b"\\")
    while pos >= 0:
        start = block.rfind(b"\n", 0, pos) + 1  # the start of its line; 0: the block's first line
        if start and pos - start <= 4 and block.startswith(b'{"', start) and not any(
            c in b'"\\\n' for c in block[start + 2 : pos]
        ):
            return True
        end = block.find(b"\n", pos)
        if end < 0:
            return False
        pos = block.find(b"\\", end)
    return False


def escaped_first_key(block: bytes) -> bool:
    """Whether a line of ``block`` (each ``{"...``) may start with a member's name that has an escape in
    its first three characters: it may spell an export page's key (``{"\\u0068as_next": ...}``)."""
    return b"\\" in block and (_ESCAPED_KEY.match(block) is not None or _escaped_key_after(block))


class _NumberError(ValueError):
    """A number token no Python number type can hold (an exponent beyond ``decimal``'s range)."""


def _number(text: str) -> Any:
    """A JSON number token with a fraction or an exponent: ``float`` where exact, else ``Decimal``."""
    value = float(text)
    if repr(value) == text:
        return value
    try:
        exact = decimal.Decimal(text)
    except decimal.InvalidOperation:
        raise _NumberError(text) from None
    if value - value == 0 and decimal.Decimal(repr(value)) == exact:  # finite, and the same decimal value
        return value
    return exact


def _integer(text: str) -> Any:
    """A JSON integer token: an ``int``; beyond Python's limit for converting digits, a ``Decimal``."""
    try:
        return int(text)
    except ValueError:
        return decimal.Decimal(text)


_DECODER = json.JSONDecoder(parse_float=_number)
_BIG_DECODER = json.JSONDecoder(parse_float=_number, parse_int=_integer)
_NUMBER_REASON = "a number beyond the range of numbers skillfilter reads"


def _loads(text: str) -> Any:
    """:func:`json.loads` with skillfilter's numbers (raises ``JSONDecodeError``, ``_NumberError``)."""
    try:
        return _DECODER.decode(text)
    except json.JSONDecodeError:
        raise
    except _NumberError:
        raise
    except ValueError:  # an integer with more digits than int() converts
        return _BIG_DECODER.decode(text)


# Raw text and nesting.
_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"', re.S)
_JSON_WS = re.compile(r"[ \t\n\r]")
_DROP_WS = str.maketrans("", "", " \t\n\r")
#: A token for :func:`_scan_end`: a string, a bracket, a run of anything else, or an unterminated string.
#: What may follow an error on a line cut short: the rest of a literal or a number.
_LINE_TAIL = re.compile(r"[A-Za-z0-9.+\-]*[ \t\r]*")
_SCAN = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"|[\[\]{}]|[^"\[\]{}]+|"', re.S)


def minify(text: str) -> str:
    """JSON text without its whitespace outside strings (strings and numbers stay exactly as written).

    >>> minify('{ "a" : [1.50, "x y"],\\n "b": 1e400 }')
    '{"a":[1.50,"x y"],"b":1e400}'
    """
    if _JSON_WS.search(text) is None:
        return text
    out: list[str] = []
    pos = 0
    for match in _STRING.finditer(text):
        out.append(text[pos : match.start()].translate(_DROP_WS))
        out.append(match.group())
        pos = match.end()
    out.append(text[pos:].translate(_DROP_WS))
    return "".join(out)


def _depth(text: str) -> int:
    """How deeply arrays and objects nest in JSON text (0 for a scalar)."""
    depth = deepest = 0
    for char in _STRING.sub("", text):
        if char in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif char in "]}":
            depth -= 1
    return deepest


def _too_deep(text: str, start: int = 0, end: int | None = None) -> bool:
    """Whether the JSON value ``text[start:end]`` nests more than :data:`MAX_DEPTH` levels (cheap unless
    it has that many brackets at all)."""
    if end is None:
        end = len(text)
    if end - start <= MAX_DEPTH or text.count("[", start, end) + text.count("{", start, end) <= MAX_DEPTH:
        return False
    return _depth(text[start:end]) > MAX_DEPTH


def _too_deep_bytes(text: bytes) -> bool:
    if len(text) <= MAX_DEPTH or text.count(b"[") + text.count(b"{") <= MAX_DEPTH:
        return False
    return _depth(text.decode("utf-8", "replace")) > MAX_DEPTH


def _scan_end(text: str, pos: int) -> int | None:
    """The end of the array or object starting at ``text[pos]``, found without recursion (``None``: it
    goes on past the end of ``text``)."""
    depth = 0
    for match in _SCAN.finditer(text, pos):
        char = text[match.start()]
        if char in "[{":
            depth += 1
        elif char in "]}":
            depth -= 1
            if depth <= 0:
                return match.end()
        elif char == '"' and match.end() - match.start() == 1:
            return None  # a string that does not end here
    return None

#: An object whose first member is one of these is an export page.
_PAGE_KEYS = frozenset({"has_next", "records", "next_starting_after"})
_PAGE_START = re.compile(r'\{[ \t\n\r]*"(?:' + "|".join(sorted(_PAGE_KEYS)) + r')"[ \t\n\r]*:')
_PAGE_START_BYTES = re.compile(_PAGE_START.pattern.encode())
#: Look-ahead enough to recognise a page start (longer than any text ``_PAGE_START`` needs, but a run
#: of whitespace).
_PAGE_LOOKAHEAD = 256
_BOM = b"\xef\xbb\xbf"
_WS = re.compile(r"[ \t\n\r]*")
#: A decode error this close to the end of the buffer may be a value cut by the chunk boundary.
_TRUNCATION_WINDOW = 16


class RecordError(FilterError):
    """Input that cannot be read as records.

    ``source`` names the file (``<stdin>`` for standard input), ``line`` and ``column`` are 1-based (either
    may be ``None`` when not known) and point at the problem, ``record`` is the 1-based number of the record
    in that source and ``record_line`` the line where that record starts, ``reason`` the message without
    the location.  ``recoverable`` is true when reading can go on after it.
    """

    def __init__(
        self,
        reason: str,
        *,
        source: str,
        line: int | None = None,
        column: int | None = None,
        record: int | None = None,
        record_line: int | None = None,
        recoverable: bool = False,
    ) -> None:
        self.reason = reason
        self.record_line = record_line
        self.source = source
        self.line = line
        self.column = column
        self.record = record
        self.recoverable = recoverable
        where = source
        if line is not None:
            where += f":{line}"
            if column is not None:
                where += f":{column}"
        what = ""
        if record is not None:
            starts = f" (from line {record_line})" if record_line not in (None, line) else ""
            what = f"record {record}{starts}: "
        super().__init__(f"{where}: {what}{reason}")

    def __reduce__(self) -> tuple[Any, ...]:
        return (
            _rebuild_record_error,
            (self.reason, self.source, self.line, self.column, self.record, self.record_line,
             self.recoverable),
        )


def _rebuild_record_error(*args: Any) -> RecordError:
    reason, source, line, column, record, record_line, recoverable = args
    return RecordError(
        reason, source=source, line=line, column=column, record=record, record_line=record_line,
        recoverable=recoverable,
    )


def _kind(value: object) -> str:
    """What a JSON value is, for a message (``a number``): the JSON form reader's words."""
    from ..authoring.jsonform import _kind as kind  # only on an error: not imported before

    return kind(value)


_MISSING: Any = object()
_CONTINUED: Any = object()
_TOO_DEEP: Any = object()
#: Records of a value that spans lines in JSON Lines held back until the value has ended (so that a
#: malformed one costs its first line only); beyond this many the value is taken as meant, and streamed.
HOLD_RECORDS = 64

