"""Streaming record readers: a JSON array, JSON Lines, or export pages, in constant memory.

One reader takes every input shape the ``filter`` command accepts and tells them apart as it goes.  The
input is a sequence of JSON values separated by whitespace, and each value is

- a **record** (a JSON object);
- an **export page**: an object whose *first* member is ``has_next``, ``records`` or
  ``next_starting_after`` (the API's response saved as is: ``{"has_next": ..., "records": [...],
  "next_starting_after": ...}``), which stands for its ``records``; or
- an **array** of records and export pages.

So a JSON array, JSON Lines, one export page, and many pages one after another (pretty-printed or one per
line, as a client following ``has_next`` saves them) are all read the same way.  Anything else where a
record should be (a number, a string, ``null``, a nested array) is an error about that record.

Two readers share that grammar.  When the first value is an object (not a page) that ends on its own line,
the input is **JSON Lines**: it is read as bytes line by line, each line one value, decoded with orjson
when that is installed (:data:`FAST_LOADS`) and otherwise with :mod:`json`.  Else the **document reader**
decodes the text value by value with :meth:`json.JSONDecoder.raw_decode` over a buffer of chunks, walking
arrays and pages element by element.  Either way nothing is loaded whole: memory is bounded by the
largest single record (for JSON Lines: the longest line), however large the input.

Errors are :class:`RecordError` and name the source, line, column and record number.  With ``on_error``
given, errors confined to one record are passed to it and reading goes on: a record that is not an object
(anywhere), a record nested more than :data:`MAX_DEPTH` levels, a number beyond what Python can hold, an
export page without a ``records`` array, and a malformed line of JSON Lines (bad JSON, bad UTF-8, however
the line was cut: a value that begins on a line of JSON Lines and fails, at the edge of a later line or at
the end of the input, costs that first line only).  Malformed JSON in the middle of an array, a page or
pretty-printed input, and bad UTF-8 there, cannot be stepped over (where the next record begins is
unknown): they are raised even with ``on_error``, after every record before them.

Numbers are read exactly, the same with and without orjson: an ``int``, a ``float`` where its shortest
``repr`` has the token's decimal value, else a :class:`decimal.Decimal` (``1e400``, ``1e-400``, more digits
than a double holds).  :attr:`RecordReader.raw` is the text of the record last handed out, as written.
"""

from __future__ import annotations

import codecs
import contextlib
import decimal
import importlib
import io
import json
import os
import re
import stat
import sys
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import IO, Any

from ..errors import FilterError

__all__ = [
    "CHUNK_SIZE", "MAX_DEPTH", "Record", "RecordError", "RecordReader", "minify", "read_records",
    "read_sources",
]

#: Bytes read at a time (the buffer grows beyond this only for a record larger than it).
CHUNK_SIZE = 1 << 16
#: At most this many characters decoded at a time for the document reader: its strings then stay below
#: the size where the C allocator switches to mmap and, adapting its threshold, lets the heap grow.
TEXT_CHUNK_SIZE = 1 << 14

Record = dict[str, Any]


def orjson_module() -> Any:
    """The ``orjson`` module if installed and ``SKILLFILTER_JSON`` is not ``stdlib``, else ``None``."""
    if os.environ.get("SKILLFILTER_JSON", "").lower() == "stdlib":
        return None
    try:
        return importlib.import_module("orjson")
    except ImportError:
        return None


def _fast_loads() -> Callable[[bytes], Any] | None:
    """``orjson.loads`` where :func:`orjson_module` offers it."""
    module = orjson_module()
    return None if module is None else module.loads


#: The JSON Lines reader's accelerator (``None``: the standard library only).  Its results are used only
#: where they equal the standard library's: a line it rejects is read again by :mod:`json` (for the exact
#: error, or for what only :mod:`json` takes, such as ``NaN``), and so is a line holding a number orjson
#: would change (see :func:`_inexact_for_orjson`).
FAST_LOADS = _fast_loads()

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


def _inexact_for_orjson(text: bytes) -> bool:
    """Whether ``text`` may hold a number orjson would read differently from :func:`_number`: an integer of
    19 digits or more (orjson makes a float of it beyond 64 bits), a number with an exponent of three
    digits or more (1e400 that orjson refuses, 1e-400 that it makes 0.0), or a fraction or exponent form
    of 16 characters or more that is not the shortest repr of its double (more digits than a double
    holds).  A float written as Python and orjson write floats (``repr``) reads the same either way.
    (Runs of digits inside strings may be taken for numbers: they are only looked at more closely.)"""
    marks = text.translate(_NUMBER_MARKS)
    if b"0e000" in marks or b"0e+000" in marks:
        return True
    pos = marks.find(_LONG_RUN)
    while pos >= 0:
        end = _TOKEN_REST.match(marks, pos + 16).end()  # type: ignore[union-attr]  # `*` always matches
        token = text[pos:end]
        if token.isdigit():
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
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    return type(value).__name__


_MISSING: Any = object()
_CONTINUED: Any = object()
_TOO_DEEP: Any = object()
#: Records of a value that spans lines in JSON Lines held back until the value has ended (so that a
#: malformed one costs its first line only); beyond this many the value is taken as meant, and streamed.
HOLD_RECORDS = 64


class RecordReader:
    """Iterate over the records of one stream (binary or text).

    >>> import io
    >>> text = '{"has_next": true, "records": [{"a": 1}]}\\n{"has_next": false, "records": [{"a": 2}]}'
    >>> [r["a"] for r in RecordReader(io.StringIO(text), "pages.json")]
    [1, 2]
    """

    def __init__(
        self,
        stream: IO[bytes] | IO[str],
        name: str = "<stdin>",
        *,
        on_error: Callable[[RecordError], None] | None = None,
        chunk_size: int = CHUNK_SIZE,
        exact_numbers: bool = True,
    ) -> None:
        self.name = name
        self.on_error = on_error
        #: Numbers must be read exactly (see :func:`_number`).  ``False`` lets orjson read every number as
        #: it does, for a caller that never looks at numbers (the ``filter`` command with a filter that
        #: compares none writes each record's own text).
        self.exact_numbers = exact_numbers
        #: Records handed out or rejected so far (the number of the last record seen).
        self.records = 0
        #: Bytes read from a binary stream so far (characters for a text stream).
        self.bytes_read = 0
        self._stream: Any = stream
        #: The size in bytes of a regular file being read (for progress reports), else ``None``.
        self.size: int | None = None
        with contextlib.suppress(AttributeError, OSError, ValueError, io.UnsupportedOperation):
            info = os.fstat(stream.fileno())
            if stat.S_ISREG(info.st_mode):
                self.size = info.st_size
        self._chunk = max(64, chunk_size)
        self._text_chunk = max(64, min(chunk_size, TEXT_CHUNK_SIZE))
        self._decoder = codecs.getincrementaldecoder("utf-8")("strict")
        self._decode = _DECODER.raw_decode
        self._buf = ""
        self._pos = 0
        self._eof = False
        self._started = False
        #: Input already read (by the format sniffer) that the document reader takes first.
        self._prefix: bytes | str | None = None
        #: The stream has reported its end (``_eof``: and the prefix is used up as well).
        self._stream_done = False
        self._pending: str | None = None
        #: Buffer position of the last malformed-JSON error.
        self._error_pos = 0
        # Line bookkeeping: `_lc_line` newlines lie before buffer position `_lc_pos`; `_base` is the
        # absolute character offset of the buffer's start, `_line_start` that of the current line's start.
        self._lc_pos = 0
        self._lc_line = 0
        self._base = 0
        self._line_start = 0
        #: Every top-level value so far fitted on one line (JSON Lines): a malformed one can be skipped.
        self._single_line = True
        #: The last value read by :meth:`_held_value` was malformed, and skipped.
        self._failed = False
        #: The stream gives bytes (not text).
        self._binary = False
        #: Absolute offset of text the buffer must keep (see :meth:`_continued`), else ``None``.
        self._keep: int | None = None
        #: Bytes read but not decoded, after a byte that is not UTF-8.
        self._undecoded = b""
        # The record last handed out, as written: its bytes, or (``_raw is None``) its span in the buffer.
        self._raw: bytes | None = None
        self._raw_start = 0
        self._raw_end = 0

    @property
    def raw(self) -> bytes:
        """The record last handed out as it was written, in UTF-8: for JSON Lines its line's bytes (without
        the line end), else its text without whitespace outside strings (:func:`minify`).  Numbers and
        strings are exactly as in the input.  Valid until the next record is asked for."""
        if self._raw is not None:
            return self._raw
        text = minify(self._buf[self._raw_start : self._raw_end])
        return text.encode("utf-8", "backslashreplace")  # a lone surrogate (text input) as its escape

    # -- reading --------------------------------------------------------------------------------------
    def _read_text(self) -> str:
        if self._prefix is not None:
            data, self._prefix = self._prefix, None
        elif self._stream_done:
            data = b""
        else:
            want = max(self._text_chunk, len(self._buf) - self._pos)  # doubles for a record larger than it
            data = self._stream.read(want)
            self.bytes_read += len(data)
        if not data:
            self._eof = True
        if isinstance(data, str):
            return data
        held = self._decoder.getstate()[0]
        try:
            return self._decoder.decode(data, final=not data)
        except UnicodeDecodeError as exc:
            # Keep the valid text before the bad byte: its records are read before the error is raised
            # (and the bytes from it on, for the JSON Lines reader to take back).
            data = held + data
            self._decoder.reset()
            self._undecoded = data[exc.start :]
            self._pending = f"not valid UTF-8 (byte 0x{data[exc.start : exc.start + 1].hex()})"
            return data[: exc.start].decode("utf-8", "ignore")

    def _fill(self, *, raise_pending: bool = True) -> bool:
        """Read more text, keeping the buffer from the current position; false at the end of input.

        An undecodable byte met while reading ahead is raised only once the text before it is used up.
        """
        if self._pending is None and not self._eof:
            pos = self._pos
            if self._keep is not None:
                pos = max(0, min(pos, self._keep - self._base))
            if pos:
                self._count_to(pos)
                nl = self._buf.rfind("\n", 0, pos)
                if nl >= 0:
                    self._line_start = self._base + nl + 1
                self._buf = self._buf[pos:]
                self._base += pos
                self._lc_pos -= pos
                self._pos -= pos
            while not self._eof and self._pending is None:
                text = self._read_text()
                if not self._started and text:
                    self._started = True
                    if text[0] == "\ufeff":  # a byte order mark
                        text = text[1:]
                if text:
                    self._buf += text
                    return True
        if self._pending is not None and raise_pending:
            raise self._make_error(self._pending, len(self._buf))
        return False

    def _skip_ws(self) -> bool:
        """Move past whitespace; false at the end of input."""
        while True:
            pos = _WS.match(self._buf, self._pos).end()  # type: ignore[union-attr]  # `*` always matches
            self._pos = pos
            if pos < len(self._buf):
                return True
            if not self._fill():
                return False

    def _ensure(self, n: int) -> None:
        """Have at least ``n`` characters from the position on, unless the input ends sooner."""
        while len(self._buf) - self._pos < n and self._fill(raise_pending=False):
            pass

    def _value(self) -> tuple[Any, int]:
        """Decode the JSON value at the position, move past it; the value and where it started.

        The start is returned because reading ahead moves the buffer under the caller's positions (so
        positions found before a :meth:`_fill` are kept relative to the value's start).
        """
        while True:
            buf, start = self._buf, self._pos
            try:
                value, end = self._decode(buf, start)
            except json.JSONDecodeError as exc:
                offset = exc.pos - start
                if (exc.pos >= len(buf) - _TRUNCATION_WINDOW or exc.msg.startswith("Unterminated string")) \
                        and self._fill():
                    continue
                error = self._make_error(f"malformed JSON: {exc.msg}", self._pos + offset)
                raise RecordError(
                    error.reason, source=error.source, line=error.line, column=error.column,
                    record=error.record, record_line=self._count_to(self._pos) + 1,
                ) from None
            except RecursionError:
                scanned = _scan_end(buf, start) if buf[start] in "[{" else None
                if scanned is None:
                    if self._fill():
                        continue
                    raise self._make_error(_DEEP_MESSAGE, start) from None
                value, end = _TOO_DEEP, scanned
            except _NumberError:
                raise self._make_error(_NUMBER_REASON, start) from None
            except ValueError:  # an integer with more digits than int() converts
                if self._decode != _BIG_DECODER.raw_decode:
                    self._decode = _BIG_DECODER.raw_decode
                    continue
                raise
            length = end - start
            if end == len(buf) and not isinstance(value, (dict, list, str)) and self._fill():
                continue  # a number (or literal) at the end of the buffer may go on in the next chunk
            start = self._pos
            self._pos = start + length
            return value, start

    # -- positions and errors -------------------------------------------------------------------------
    def _count_to(self, pos: int) -> int:
        """Newlines before buffer position ``pos`` (since the start of input)."""
        if pos >= self._lc_pos:
            self._lc_line += self._buf.count("\n", self._lc_pos, pos)
            self._lc_pos = pos
            return self._lc_line
        return self._lc_line - self._buf.count("\n", pos, self._lc_pos)

    def _line_col(self, pos: int) -> tuple[int, int]:
        line = self._count_to(pos) + 1
        nl = self._buf.rfind("\n", 0, pos)
        start = self._base + nl + 1 if nl >= 0 else self._line_start
        return line, self._base + pos - start + 1

    def _make_error(self, reason: str, pos: int, *, record: int | None = None,
                    recoverable: bool = False) -> RecordError:
        pos = self._error_pos = max(0, min(pos, len(self._buf)))
        line, column = self._line_col(pos)
        return RecordError(
            reason, source=self.name, line=line, column=column,
            record=self.records + 1 if record is None else record, recoverable=recoverable,
        )

    def _report(self, error: RecordError) -> None:
        if self.on_error is None:
            raise error
        self.on_error(error)

    def _skip_line(self) -> None:
        """Move to the start of the next line (after a malformed line of JSON Lines)."""
        while True:
            nl = self._buf.find("\n", self._pos)
            if nl >= 0:
                self._pos = nl + 1
                return
            self._pos = len(self._buf)
            if not self._fill():
                return

    # -- structure ------------------------------------------------------------------------------------
    def __iter__(self) -> Iterator[Record]:
        lines = self._sniff()
        if lines is not None:
            yield from self._lines(*lines)
        else:
            yield from self._document()

    # -- JSON Lines -----------------------------------------------------------------------------------
    def _sniff(self) -> tuple[bytes, int] | None:
        """Read the start of the input: JSON Lines (the bytes from the first value's line on and the
        number of lines before it) when the first value is an object, not an export page, that ends on
        its own line; ``None`` (the text read kept for :meth:`_document`) otherwise."""
        data = self._stream.read(self._chunk)
        self.bytes_read += len(data)
        self._stream_done = not data
        self._binary = isinstance(data, bytes)
        if not self._binary:
            self._prefix = data
            return None
        bom_checked = False
        while True:
            if not bom_checked and (len(data) >= len(_BOM) or self._stream_done):
                bom_checked = True
                if data.startswith(_BOM):
                    data = data[len(_BOM) :]
            begin = len(data) - len(data.lstrip(b" \t\r\n"))
            settled = self._stream_done or (bom_checked and begin < len(data) and (
                data.find(b"\n", begin) >= 0 or len(data) - begin >= _PAGE_LOOKAHEAD
            ))
            if settled:
                if begin == len(data) or data[begin] != 0x7B or _PAGE_START_BYTES.match(data, begin):
                    break  # empty, an array, a page, or not an object: the document reader decides
                end = data.find(b"\n", begin)
                if end >= 0 or self._stream_done:
                    first = data[begin : end if end >= 0 else len(data)].rstrip()
                    try:
                        json.loads(first.decode("utf-8"))
                    except UnicodeDecodeError:
                        pass  # a malformed line: JSON Lines decides
                    except json.JSONDecodeError as exc:
                        if exc.pos >= len(first.decode("utf-8", "replace")):
                            break  # the value goes on past its line: pretty-printed
                    except (RecursionError, ValueError):
                        pass  # too deep, or an integer too long for int(): JSON Lines decides
                    line_start = data.rfind(b"\n", 0, begin) + 1
                    return data[line_start:], data.count(b"\n", 0, line_start)
            more = self._stream.read(max(self._chunk, len(data)))
            self.bytes_read += len(more)
            self._stream_done = not more
            data += more
        self._prefix = data
        self._started = True
        return None

    def _lines(self, pending: bytes, line: int) -> Iterator[Record]:
        """One JSON value per line, from bytes (``line`` lines came before them); blank lines are skipped.

        The input is taken in blocks of whole lines.  A block that may hold a number orjson would change
        has each of its lines checked, and those lines go to :mod:`json` (see :data:`FAST_LOADS`); a block
        with more than :data:`MAX_DEPTH` brackets has each line's nesting checked before it is decoded.
        A line whose value is an array or an export page, or goes on past the line, is read by the document
        reader (:meth:`_continued`).
        """
        fast = FAST_LOADS
        while True:
            if not self._stream_done:
                more = self._stream.read(max(self._chunk, len(pending)))
                self.bytes_read += len(more)
                self._stream_done = not more
                pending += more
            final = self._stream_done
            if final:
                block, pending = pending, b""
            else:
                cut = pending.rfind(b"\n")
                if cut < 0:
                    continue  # no whole line yet: read on
                block, pending = pending[:cut], pending[cut + 1 :]
            texts = block.split(b"\n")
            inexact = fast is not None and self.exact_numbers and _inexact_for_orjson(block)
            deep = block.count(b"[") + block.count(b"{") > MAX_DEPTH
            for index, text in enumerate(texts):
                line += 1
                value: Any = _MISSING
                if deep and _too_deep_bytes(text):
                    head = text.lstrip()
                    if head[:1] == b"[" or _PAGE_START_BYTES.match(head):
                        value = _CONTINUED  # an array or a page: its records count, one by one
                    else:
                        error = self._line_error(_DEEP_MESSAGE, line, None)
                        self.records += 1
                        self._report(error)
                        continue
                elif fast is not None and not (inexact and _inexact_for_orjson(text)):
                    with contextlib.suppress(ValueError):  # orjson's error; json says why, below
                        value = fast(text)
                if value is _MISSING:
                    if not text.strip():
                        continue
                    value = self._load_line(text, line)
                    if value is _MISSING:
                        continue
                if value is not _CONTINUED:
                    if type(value) is dict and not (value and next(iter(value)) in _PAGE_KEYS):
                        self.records += 1
                        self._raw = text[:-1] if text[-1:] == b"\r" else text
                        yield value
                        continue
                    if type(value) is not dict and type(value) is not list:
                        error = self._line_error(f"expected a JSON object, found {_kind(value)}", line, None)
                        self.records += 1
                        self._report(error)
                        continue
                # The document reader takes this value (and gives the input back after it).
                rest = b"\n".join(texts[index:])
                self._prefix = rest if final else rest + b"\n" + pending
                self._started = True
                self._eof = False
                self._lc_line = line - 1
                yield from self._continued(line)
                return
            if final:
                return

    def _line_error(
        self, reason: str, line: int, column: int | None, *, record: int | None = None
    ) -> RecordError:
        return RecordError(
            reason, source=self.name, line=line, column=column,
            record=self.records + 1 if record is None else record, recoverable=True,
        )

    def _load_line(self, data: bytes, line: int) -> Any:
        """Decode one line with :mod:`json`; ``_MISSING`` after reporting a malformed one, ``_CONTINUED``
        when the value may go on past the line (the error is at its end)."""
        error: RecordError | None = None
        try:
            return _loads(data.decode("utf-8"))
        except UnicodeDecodeError as exc:
            column = len(data[: exc.start].decode("utf-8", "ignore")) + 1
            bad = data[exc.start : exc.start + 1].hex()
            error = self._line_error(f"not valid UTF-8 (byte 0x{bad})", line, column)
        except json.JSONDecodeError as exc:
            if exc.pos >= len(exc.doc.rstrip()):
                return _CONTINUED
            error = self._line_error(f"malformed JSON: {exc.msg}", line, exc.colno)
        except _NumberError:
            error = self._line_error(_NUMBER_REASON, line, None)
        except RecursionError:  # pragma: no cover - lines are checked for depth first
            error = self._line_error(_DEEP_MESSAGE, line, None)
        self.records += 1
        self._report(error)
        return _MISSING

    def _continued(self, line: int) -> Iterator[Record]:
        """The document reader's turn, for the JSON Lines reader: the one value that begins on ``line``
        (an array, a page, or a value that goes on past its line), then back to JSON Lines."""
        self._skip_ws()
        yield from self._held_value(line)
        yield from self._back_to_lines()

    def _held_value(self, line: int) -> Iterator[Record]:
        """The value at the position, which begins on ``line``, where every value before it fitted on
        one line (so JSON Lines, perhaps with a line that is cut short or garbled).

        Its records are held back until it ends (up to :data:`HOLD_RECORDS` of them), so that when it turns
        out malformed it costs its first line only: with ``on_error`` the error is reported and reading
        goes on at the next line (``_failed`` is then true).  Beyond that many records the value is taken
        as meant, and streamed.
        """
        self._failed = False
        self._keep = self._base + self._pos
        records_before = self.records
        held: list[tuple[Record, bytes]] | None = []
        try:
            char = self._buf[self._pos] if self._pos < len(self._buf) else ""
            if char == "[":
                values = self._array(top=True)
            elif char == "{" and self._is_page():
                values = self._page()
            else:
                values = self._single()
            for record in values:
                if held is None:
                    yield record
                    continue
                held.append((record, self.raw))
                if len(held) >= HOLD_RECORDS:  # the value is meant as it is: stream it
                    self._keep = None
                    waiting, held = held, None
                    for record_, raw in waiting:
                        self._raw = raw
                        yield record_
        except RecordError as exc:
            keep, self._keep = self._keep, None
            if held is None or self.on_error is None or keep is None or exc.recoverable or not (
                exc.line == line or self._error_at_line_edge(exc.reason)
            ):
                raise
            self.records = records_before + 1
            self._report(RecordError(
                exc.reason, source=self.name, line=exc.line, column=exc.column, record=self.records,
                record_line=line, recoverable=True,
            ))
            self._failed = True
            self._pos = max(0, keep - self._base)
            self._skip_line()
            return
        self._keep = None
        for record, raw in held or ():
            self._raw = raw
            yield record

    def _error_at_line_edge(self, reason: str) -> bool:
        """Whether the last error lies at the edge of a line (its first character, its last token, its
        line end) or at the end of the input: what a line cut short meets (``{"a": 2, "b":`` then the next
        record, another cut line, or nothing).  Malformed JSON in the middle of a later line is a mistake
        inside a value that spans lines (pretty-printed), which cannot be stepped over."""
        buf, pos = self._buf, self._error_pos
        if pos >= len(buf) or "Unterminated string" in reason:
            return True
        line_start = buf.rfind("\n", 0, pos) + 1
        if not buf[line_start:pos].strip(" \t\r"):
            return True
        line_end = buf.find("\n", pos)
        if line_end < 0:
            line_end = len(buf)
        return line_end <= pos + 1 or _LINE_TAIL.fullmatch(buf, pos + 1, line_end) is not None

    def _single(self) -> Iterator[Record]:
        record = self._record(*self._value())
        if record is not None:
            yield record

    # -- documents ------------------------------------------------------------------------------------
    def _document(self) -> Iterator[Record]:
        while self._skip_ws():
            if self._single_line and self.on_error is not None:
                # Every value so far on one line: a malformed one can cost its first line only.
                start_line = self._count_to(self._pos)
                yield from self._held_value(start_line + 1)
                if self._failed and self._binary:
                    # JSON Lines after all, with a bad line first: read on line by line, as bytes.
                    yield from self._back_to_lines()
                    return
                if not self._failed and self._count_to(self._pos) != start_line:
                    self._single_line = False
                continue
            char = self._buf[self._pos]
            start_line = self._count_to(self._pos) if self._single_line else 0
            if char == "[":
                yield from self._array(top=True)
            elif char == "{" and self._is_page():
                yield from self._page()
            else:
                record = self._record(*self._value())
                if record is not None:
                    yield record
            if self._single_line and self._count_to(self._pos) != start_line:
                self._single_line = False

    def _back_to_lines(self) -> Iterator[Record]:
        """Hand the rest of the input back to the JSON Lines reader (after :meth:`_lines` gave it here)."""
        data = self._buf[self._pos :].encode("utf-8") + self._decoder.getstate()[0] + self._undecoded
        if isinstance(self._prefix, bytes):
            data += self._prefix
        lines_before = self._count_to(self._pos)
        self._prefix = None
        self._pending = None
        self._undecoded = b""
        self._decoder.reset()
        self._buf, self._pos, self._lc_pos, self._base, self._line_start = "", 0, 0, 0, 0
        self._lc_line = 0
        yield from self._lines(data, lines_before)

    def _is_page(self) -> bool:
        self._ensure(_PAGE_LOOKAHEAD)
        return _PAGE_START.match(self._buf, self._pos) is not None

    def _record(self, value: Any, start: int) -> Record | None:
        """Count ``value`` as the next record; ``None`` (after reporting) when it is not an object."""
        self.records += 1
        if type(value) is dict:
            if _too_deep(self._buf, start, self._pos):
                value = _TOO_DEEP
            else:
                self._raw = None
                self._raw_start = start
                self._raw_end = self._pos
                return value
        if value is _TOO_DEEP:
            self._report(self._make_error(_DEEP_MESSAGE, start, record=self.records, recoverable=True))
            return None
        self._report(self._make_error(
            f"expected a JSON object, found {_kind(value)}", start, record=self.records, recoverable=True,
        ))
        return None

    def _expect(self, what: str) -> str:
        if not self._skip_ws():
            raise self._make_error(f"unexpected end of input: expected {what}", self._pos)
        return self._buf[self._pos]

    def _array(self, *, top: bool) -> Iterator[Record]:
        self._pos += 1  # "["
        if self._expect("a value or ']'") == "]":
            self._pos += 1
            return
        while True:
            char = self._expect("a value")
            if top and char == "{" and self._is_page():
                yield from self._page()
            else:
                record = self._record(*self._value())
                if record is not None:
                    yield record
                    # The consumer may take its time: positions stay valid, the buffer is ours.
            char = self._expect("',' or ']'")
            self._pos += 1
            if char == "]":
                return
            if char != ",":
                self._pos -= 1
                raise self._make_error("malformed JSON: Expecting ',' delimiter", self._pos)

    def _page(self) -> Iterator[Record]:
        self._pos += 1  # "{"
        seen: set[str] = set()
        char = self._expect("a member name or '}'")
        while char != "}":
            if char != '"':
                raise self._make_error(
                    "malformed JSON: Expecting property name enclosed in double quotes", self._pos
                )
            key, _ = self._value()
            if key in seen:
                raise self._make_error(f"export page has the member `{key}` twice", self._pos)
            seen.add(key)
            if self._expect("':'") != ":":
                raise self._make_error("malformed JSON: Expecting ':' delimiter", self._pos)
            self._pos += 1
            char = self._expect("a value")
            if key == "records":
                if char == "[":
                    yield from self._array(top=False)
                else:
                    value, start = self._value()
                    self._report(self._make_error(
                        f"export page whose `records` is {_kind(value)}", start, recoverable=True
                    ))
            else:
                self._value()
            char = self._expect("',' or '}'")
            if char == ",":
                self._pos += 1
                char = self._expect("a member name")
                if char == "}":
                    raise self._make_error(
                        "malformed JSON: Expecting property name enclosed in double quotes", self._pos
                    )
            elif char != "}":
                raise self._make_error("malformed JSON: Expecting ',' delimiter", self._pos)
        self._pos += 1
        if "records" not in seen:
            self._report(self._make_error("export page without `records`", self._pos - 1, recoverable=True))


def read_records(
    stream: IO[bytes] | IO[str],
    name: str = "<stdin>",
    *,
    on_error: Callable[[RecordError], None] | None = None,
    chunk_size: int = CHUNK_SIZE,
) -> Iterator[Record]:
    """The records of one stream (see the module's description of the shapes it takes).

    >>> import io
    >>> list(read_records(io.BytesIO(b'[{"id": 1}, {"id": 2}]')))
    [{'id': 1}, {'id': 2}]
    >>> list(read_records(io.StringIO('{"id": 1}\\n{"id": 2}\\n')))
    [{'id': 1}, {'id': 2}]
    """
    return iter(RecordReader(stream, name, on_error=on_error, chunk_size=chunk_size))


def read_sources(
    paths: Iterable[str | Path],
    stdin: IO[bytes] | IO[str] | None = None,
    *,
    on_error: Callable[[RecordError], None] | None = None,
    on_reader: Callable[[RecordReader], None] | None = None,
    exact_numbers: bool = True,
) -> Iterator[Record]:
    """The records of each file in turn; ``-`` (or no paths at all) means ``stdin``.

    A file that cannot be opened raises :class:`RecordError` when its turn comes.  ``on_reader`` is called
    with each source's reader before it is read (for progress reports; its :attr:`RecordReader.raw` is
    the text of the record last handed out).  ``exact_numbers``: see :class:`RecordReader`.
    """
    names = [str(p) for p in paths] or ["-"]
    for name in names:
        if name == "-":
            stream: Any = stdin if stdin is not None else sys.stdin
            stream = getattr(stream, "buffer", stream)
            reader = RecordReader(stream, "<stdin>", on_error=on_error, exact_numbers=exact_numbers)
            if on_reader is not None:
                on_reader(reader)
            yield from reader
            continue
        try:
            handle = open(name, "rb")  # noqa: SIM115 - closed below, after the generator is done
        except OSError as exc:
            raise RecordError(f"cannot read: {exc.strerror or exc}", source=name) from None
        with handle:
            reader = RecordReader(handle, name, on_error=on_error, exact_numbers=exact_numbers)
            if on_reader is not None:
                on_reader(reader)
            try:
                yield from reader
            except OSError as exc:  # e.g. EISDIR on read, EIO
                raise RecordError(f"cannot read: {exc.strerror or exc}", source=name) from None
