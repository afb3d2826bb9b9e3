"""The document reader: JSON text value by value over a buffer of decoded chunks (arrays, export pages,
pretty-printed input), and the buffer, line and error bookkeeping the JSON Lines reader shares with it.

:class:`skillfilter.cli.records.RecordReader` builds on :class:`BufferedReader` and adds the JSON Lines
reader (split out of :mod:`skillfilter.cli.records` to keep each module readable)."""

from __future__ import annotations

import codecs
import contextlib
import io
import json
import os
import stat
from collections.abc import Callable, Iterator
from typing import IO, TYPE_CHECKING, Any

from .jsontext import (
    _BIG_DECODER,
    _DECODER,
    _DEEP_MESSAGE,
    _LINE_TAIL,
    _NUMBER_REASON,
    _PAGE_LOOKAHEAD,
    _PAGE_START,
    _TOO_DEEP,
    _TRUNCATION_WINDOW,
    _WS,
    CHUNK_SIZE,
    HOLD_RECORDS,
    TEXT_CHUNK_SIZE,
    Record,
    RecordError,
    _kind,
    _NumberError,
    _scan_end,
    _too_deep,
    minify,
)

if TYPE_CHECKING:  # pragma: no cover
    from .projection import Projection

__all__ = ["BufferedReader", "IrregularLines"]


class IrregularLines(Exception):
    """A line of JSON Lines holds what only the document reader reads (an array, a page, a value that
    goes on past its line), met by a reader with ``lines_only`` set; ``line`` is its number."""

    def __init__(self, line: int) -> None:
        super().__init__(line)
        self.line = line


class BufferedReader:
    """The state and the document reader of :class:`~skillfilter.cli.records.RecordReader`."""

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
        #: A necessary condition on a JSON Lines line's bytes (:mod:`skillfilter.cli.prefilter`): a line
        #: shaped as one object that fails it is counted as a record but not decoded (it cannot match).
        self.prefilter: Callable[[bytes], bool] | None = None
        #: Decodes a JSON Lines line into only the part of its record a filter reads
        #: (:mod:`skillfilter.cli.projection`): whole blocks of lines are then read that way (with
        #: :attr:`select`).
        self.projection: Projection | None = None
        #: With :attr:`projection`: the predicate of the caller, which the reader then applies itself to
        #: the records of a block read in part, handing out the block as one
        #: :data:`~skillfilter.cli.records.MATCHES` with the indexes of its matching lines in
        #: :attr:`block_matches` (the lines in :attr:`block_texts`; for a caller that only takes the lines).
        self.select: Callable[[Any], bool] | None = None
        self.block_matches: list[int] = []
        #: Raise :class:`IrregularLines` instead of reading a value that does not fit on its line
        #: (for a reader of one byte range of JSON Lines, which cannot see where such a value ends).
        self.lines_only = False
        #: JSON Lines: the lines of the blocks read so far (counted on from the ``line`` given to the reader).
        self.lines_read = 0
        #: JSON Lines: the lines of the block the last record came from (``block_texts``, each without its
        #: newline), where that block starts in the stream (``block_base``), and the record's line in it.
        self.block_texts: list[bytes] = []
        self.block_base = 0
        self.last_index = 0
        #: Called when :attr:`records` reaches a multiple of :attr:`tick_every` on a line the prefilter
        #: passed over (for progress reports: such records are never handed out).
        self.tick: Callable[[], None] | None = None
        self.tick_every = 2048
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
        #: The line number of the JSON Lines record last handed out.
        self.last_line = 0

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

    def _lines(self, pending: bytes, line: int) -> Iterator[Record]:
        """The JSON Lines reader (:class:`~skillfilter.cli.records.RecordReader`)."""
        raise NotImplementedError

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

