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

With :attr:`RecordReader.prefilter` set (:mod:`skillfilter.cli.prefilter`), a line of JSON Lines whose bytes
fail that condition, and that its :class:`~skillfilter.cli.prefilter.Proof` shows to be a record this
reader accepts (valid JSON, one object, no export page, numbers it holds), is counted as a record but not
decoded: it cannot match.  Any other line is decoded, so errors are the same with and without it.  The
module is split in three: :mod:`~skillfilter.cli.jsontext` (numbers, raw text, :class:`RecordError`),
:mod:`~skillfilter.cli.documents` (the document reader) and this one (the JSON Lines reader).
"""

from __future__ import annotations

import contextlib
import importlib
import itertools
import json
import operator
import os
import sys
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, cast

from .documents import BufferedReader, IrregularLines
from .jsontext import (  # noqa: F401 - re-exported: the readers' public names live here
    _BOM,
    _CONTINUED,
    _DEEP_MESSAGE,
    _MISSING,
    _NUMBER_MARKS,
    _NUMBER_REASON,
    _PAGE_KEYS,
    _PAGE_LOOKAHEAD,
    _PAGE_START_BYTES,
    _SIXTEEN,
    CHUNK_SIZE,
    HOLD_RECORDS,
    MAX_DEPTH,
    TEXT_CHUNK_SIZE,
    Record,
    RecordError,
    _inexact_for_orjson,
    _kind,
    _loads,
    _long_exponent,
    _NumberError,
    _too_deep_bytes,
    minify,
)

if TYPE_CHECKING:  # pragma: no cover
    from .prefilter import LineCondition
    from .projection import Projection

__all__ = [
    "CHUNK_SIZE", "MAX_DEPTH", "Record", "RecordError", "RecordReader", "minify", "read_records",
    "read_sources",
]

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


_NOT_BRACKETS = bytes(i for i in range(256) if i not in b"[]{}\n")
_PAGE_PREFIXES = frozenset(key[:3].encode() for key in _PAGE_KEYS)
_OBJECT_ENDS = (b"}", b"}\r")
#: What :func:`_object_line` looks at: brackets, quotes, backslashes (and the newlines between lines).
_NOT_SHAPE = bytes(i for i in range(256) if i not in b'[]{}"\\\n')


#: What a reader with :attr:`~BufferedReader.select` set hands out for a block read in part: its matching
#: lines' indexes are in :attr:`~BufferedReader.block_matches` (the lines in ``block_texts``).
class _Matches:
    def __repr__(self) -> str:
        return "MATCHES"


MATCHES: Any = _Matches()


_HEAD = operator.itemgetter(slice(0, 5))


def _regular(texts: list[bytes]) -> bool:
    """Whether each of the lines ``texts`` (a block split at its newlines) is shaped ``{"`` ... ``}``
    (maybe then ``\\r``), none starting as an export page may (the first three bytes of its first member's
    name, none of them an escape, which could spell a page's key).  No value can then span two lines (``}``
    and ``{`` never follow each other inside one): a block of such lines that holds as many valid values as
    lines holds one on each line.  The lines' starts are looked at once for each distinct start (an export
    starts every line alike)."""
    return all(map(bytes.endswith, texts, itertools.repeat(_OBJECT_ENDS))) and all(
        head[:2] == b'{"' and head[2:] not in _PAGE_PREFIXES and b"\\" not in head
        for head in set(map(_HEAD, texts))
    )


#: Deleted from a block to leave its lines' opening brackets (and the newlines between the lines).
_NOT_OPENING = bytes(i for i in range(256) if i not in b"[{\n")
#: A valid line this long or shorter nests at most :data:`MAX_DEPTH` levels (each level takes two brackets).
_SHORT = 2 * MAX_DEPTH + 1


def _shallow(block: bytes, texts: list[bytes]) -> bool:
    """Whether no valid line of ``block`` (split at its newlines: ``texts``) nests more than
    :data:`MAX_DEPTH` levels: none is longer than :data:`_SHORT`, or none holds more opening brackets than
    that."""
    return max(map(len, texts)) <= _SHORT or max(map(len, block.translate(None, _NOT_OPENING).split(b"\n"))) \
        <= MAX_DEPTH


#: What :func:`_within_limits` keeps of a block: digits (as ``0``), opening brackets (``{`` as ``[``), and the
#: ``-`` and newlines that part the digits of ids and of lines.
_DIGITS_AND_OPENINGS = bytes(0x30 if 0x30 <= i <= 0x39 else 0x5B if i == 0x7B else i for i in range(256))
_NOT_DIGIT_OR_OPENING = bytes(i for i in range(256) if i not in b"0123456789[{-\n")


def _within_limits(block: bytes, texts: list[bytes]) -> bool:
    """Whether no number in ``block`` (split at its newlines: ``texts``) has an exponent of 16 digits or more,
    and no valid line of it nests more than :data:`MAX_DEPTH` levels: what msgspec does not check in the
    members it skips.  One translation keeps the digits and opening brackets (and what parts them): a block
    without sixteen digits in a row there has none in a row at all, and a line that keeps no more than
    :data:`MAX_DEPTH` bytes holds no more opening brackets; only where either may fail is the block looked at
    more closely (:func:`_long_exponent`, :func:`_shallow`).  On an export, 49 ms per 55 MB where those two
    take 70."""
    kept = block.translate(_DIGITS_AND_OPENINGS, _NOT_DIGIT_OR_OPENING)
    if _SIXTEEN in kept and _long_exponent(block):
        return False
    return max(map(len, kept.split(b"\n"))) <= MAX_DEPTH or _shallow(block, texts)


def _starts(texts: list[bytes]) -> list[int]:
    """Where each of the lines ``texts`` starts in the block they were split from."""
    return list(map(operator.add, itertools.accumulate(map(len, texts[:-1]), initial=0), range(len(texts))))


def _utf8(data: bytes) -> bool:
    """Whether ``data`` is valid UTF-8 (CPython's decoder, which takes runs of ASCII a word at a time, is
    cheaper than any test built of other bytes methods)."""
    if data.isascii():
        return True
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _object_line(text: bytes, shape: bytes) -> bool:
    """Whether a line is shaped as one object that is not an export page (``{`` ... ``}``, brackets and
    quotes balanced): what the prefilter may pass over without decoding it.  ``shape``: the line's
    brackets, quotes and backslashes (``text.translate(None, _NOT_SHAPE)``)."""
    if shape[:1] != b"{" or shape[-1:] != b"}":
        return False
    end = text[-1:]
    if end != b"}":
        if end not in b" \t\r" or not end:
            return False
        text = text.rstrip(b" \t\r")
        if text[-1:] != b"}":
            return False
    if text[:1] != b"{":
        text = text.lstrip(b" \t")
        if text[:1] != b"{":
            return False
    maybe_page = text[1:2] != b'"' or text[2:5] in (b"has", b"rec", b"nex")
    if maybe_page and _PAGE_START_BYTES.match(text):
        return False
    # Cheap signs of a malformed line (brackets inside strings may tip them: the line is then decoded):
    # braces that do not pair up, and without escapes, brackets and quotes that cannot all pair up.
    if shape.count(b"{") != shape.count(b"}"):
        return False
    return not len(shape) % 2 or b"\\" in shape


class RecordReader(BufferedReader):
    """Iterate over the records of one stream (binary or text).

    >>> import io
    >>> text = '{"has_next": true, "records": [{"a": 1}]}\\n{"has_next": false, "records": [{"a": 2}]}'
    >>> [r["a"] for r in RecordReader(io.StringIO(text), "pages.json")]
    [1, 2]
    """

    # -- structure ------------------------------------------------------------------------------------
    def __iter__(self) -> Iterator[Record]:
        lines = self._sniff()
        if lines is not None:
            yield from self._lines(*lines)
        else:
            yield from self._document()

    def json_lines(self, line: int = 0) -> Iterator[Record]:
        """The records of a stream read as JSON Lines from its first byte on (``line`` lines came before
        it; :attr:`records` counts on from its value): what the reader does once it has decided the
        input is JSON Lines, for a stream that starts at the beginning of a line of such input."""
        self._binary = True
        self._started = True
        yield from self._lines(b"", line)

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
        check = self.prefilter
        # A line passed over must be proven a record the reader accepts (else its error would go
        # unreported): without a validator for that, every line is decoded.
        proof: Any = getattr(check, "proof", None)
        if proof is None:
            check = None
        projection = self.projection
        select = self.select if projection is not None else None
        # A prefilter that can pick out a block's lines (a LineCondition with its proof), for the blocks
        # read in part.
        picker = cast("LineCondition", check) if hasattr(check, "selective") else None
        while True:
            if not self._stream_done:
                more = self._stream.read(max(self._chunk, len(pending)))
                self.bytes_read += len(more)
                self._stream_done = not more
                pending += more
            final = self._stream_done
            base = self.bytes_read - len(pending)  # where the block starts in the stream
            if final:
                block, pending = pending, b""
            else:
                cut = pending.rfind(b"\n")
                if cut < 0:
                    continue  # no whole line yet: read on
                block, pending = pending[:cut], pending[cut + 1 :]
            texts = block.split(b"\n")
            shapes = texts
            self.block_texts, self.block_base = texts, base
            first_line = line
            # The lines with records: all but an empty last one (the end of a block that ends in a newline).
            count = len(texts) - (not texts[-1])
            part = None
            if projection is not None and select is not None and count:
                whole = count == len(texts)
                part = self._projected(block if whole else block[:-1], texts if whole else texts[:count],
                                       projection, picker)
            if part is not None:  # records in part, one per line
                indexes, values = part
                numbers = range(count) if indexes is None else indexes
                # The matches' indexes, handed out at once (a block is read in part only with `select`).
                assert select is not None
                self.block_matches = list(itertools.compress(numbers, map(select, values)))
                if self.block_matches:
                    self.last_index = self.block_matches[-1]
                    self.last_line = first_line + self.last_index + 1
                    yield MATCHES
                self._pass_over(count)  # (after the caller took the matches: a progress tick counts them)
                line = self.lines_read = first_line + len(texts)
                if final:
                    return
                continue
            if check is None:
                # A line's brackets: more than MAX_DEPTH of them in the block, or none nests that deeply (one
                # translation costs less than two counts).
                brackets = block.translate(None, _NOT_BRACKETS)
                deep = len(brackets) - len(texts) + 1 > MAX_DEPTH
                if deep:
                    shapes = brackets.split(b"\n")
                inexact = fast is not None and self.exact_numbers and _inexact_for_orjson(block)
                candidates = None
                passable = False
            else:
                # Each line's brackets, quotes and backslashes: no line with fewer than MAX_DEPTH of them
                # nests that deeply.  Lines that pass the prefilter are checked for numbers one by one;
                # one that fails it is left undecoded only in a block of UTF-8.
                shape = block.translate(None, _NOT_SHAPE)
                shapes = shape.split(b"\n")
                deep = max(map(len, shapes)) > MAX_DEPTH
                inexact = fast is not None and self.exact_numbers
                passable = _utf8(block)
                candidates = self._candidates(block, texts, shape, deep=deep) if passable else None
                if candidates is not None:  # the lines passed over: each a valid record, or decoded
                    skipped = set(range(len(texts))).difference(candidates)
                    if skipped:
                        candidates.update(proof.unproven(block, texts, skipped))
            pairs: Iterable[tuple[int, bytes]] = enumerate(texts)
            if candidates is not None:
                # Only the lines that may match are looked at; the others are records not decoded.
                pairs = [(i, texts[i]) for i in sorted(candidates)]
                pairs.append((len(texts), b""))
            previous = -1
            for index, text in pairs:
                line = first_line + index + 1
                value: Any = _MISSING
                if candidates is not None:
                    if index > previous + 1:  # objects that cannot match: not decoded
                        self._pass_over(index - previous - 1)
                    previous = index
                    if index == len(texts):
                        line -= 1
                        break
                elif deep and len(shapes[index]) > MAX_DEPTH and _too_deep_bytes(text):
                    head = text.lstrip()
                    if head[:1] == b"[" or _PAGE_START_BYTES.match(head):
                        value = _CONTINUED  # an array or a page: its records count, one by one
                    else:
                        error = self._line_error(_DEEP_MESSAGE, line, None)
                        self.records += 1
                        self._report(error)
                        continue
                elif (check is not None and passable and not check(text) and _object_line(text, shapes[index])
                      and proof.line(text)):
                    self.records += 1  # an object that cannot match: not decoded
                    if self.tick is not None and not self.records % self.tick_every:
                        self.tick()
                    continue
                if value is _MISSING and fast is not None and not (inexact and _inexact_for_orjson(text)):
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
                        self.last_line = line
                        self.last_index = index
                        yield value
                        continue
                    if type(value) is not dict and type(value) is not list:
                        error = self._line_error(f"expected a JSON object, found {_kind(value)}", line, None)
                        self.records += 1
                        self._report(error)
                        continue
                # The document reader takes this value (and gives the input back after it).
                if self.lines_only:
                    raise IrregularLines(line)
                rest = b"\n".join(texts[index:])
                self._prefix = rest if final else rest + b"\n" + pending
                self._started = True
                self._eof = False
                self._lc_line = line - 1
                yield from self._continued(line)
                return
            self.lines_read = first_line + len(texts) - (1 if final and not block else 0)
            if final:
                return

    def _candidates(self, block: bytes, texts: list[bytes], shape: bytes, *, deep: bool) -> set[int] | None:
        """The indexes of the lines of ``block`` that may match, where the prefilter can tell for the
        whole block at once: every line is shaped as one object (``{`` ... ``}``, no export page, the
        parity of quotes and brackets taken over the block), none nested too deeply; else ``None`` (each
        line is looked at alone)."""
        check = self.prefilter
        n = len(texts)
        if deep or check is None or not hasattr(check, "lines") or not _regular(texts):
            return None
        escapes = b"\\" in shape
        if (len(shape) - n + 1) % 2 and not escapes:  # without escapes, quotes and brackets pair up
            return None
        found: set[int] = check.lines(block, _starts(texts), escapes=escapes)
        return found

    def _projected(
        self, block: bytes, texts: list[bytes], projection: Projection, check: LineCondition | None
    ) -> tuple[list[int] | None, list[Any]] | None:
        """The records of a block of lines, each decoded into ``projection`` (the part of it the filter
        reads): all of them (indexes ``None``), or only the lines the prefilter ``check`` picks out where it
        is :meth:`~skillfilter.cli.prefilter.LineCondition.selective` (their indexes; the others are proven
        records first); ``None`` where the block is not plainly one valid record per line (the caller then
        reads it line by line)."""
        n = len(texts)
        if not _regular(texts) or not _utf8(block):
            return None
        if not _within_limits(block, texts):
            return None
        try:
            if check is not None and check.proof is not None and check.selective(block, n):
                if check.proof.values(block) != n:
                    return None
                indexes = sorted(check.lines(block, _starts(texts), escapes=b"\\" in block))
                return indexes, [projection.decode(texts[i]) for i in indexes]
            values: list[Any] = projection.decode_lines(block)
        except (ValueError, RecursionError):
            return None
        return (None, values) if len(values) == n else None

    def _pass_over(self, count: int) -> None:
        """Count ``count`` records that are not handed out (each cannot match), with a :attr:`tick` at each
        multiple of :attr:`tick_every`."""
        target = self.records + count
        if self.tick is not None:
            every = self.tick_every
            while (self.records // every + 1) * every <= target:
                self.records = (self.records // every + 1) * every
                self.tick()
        self.records = target

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
