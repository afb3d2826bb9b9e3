"""``skillfilter filter --engine duckdb``: the default engine's answer, byte for byte, computed by DuckDB.

Each file of JSON Lines is read by DuckDB as lines of text (``read_csv`` with no quoting, in parallel on every
core), each line turned into a row by ``json_transform`` with a structure of only what the filter reads, the
leaves kept as JSON text, and the condition of :mod:`.compile` (its raw mode) evaluated.  DuckDB gives each
line's status (no, yes, Python's) and length in bytes; the lines are found in the memory-mapped file by those
lengths (every line end checked) and the matching ones written from it as they are.  (A file with raw
control bytes, where DuckDB's reader may split a line, has DuckDB write the lines itself, ``COPY``.)

DuckDB's reader casts freely (``"5"`` to 5, ``2.5`` to 2, an object where a list belongs to NULL) and
accepts what the default engine refuses (trailing commas); so every line is checked where the filter reads
it, and a line DuckDB cannot answer for exactly goes to Python, which reads it as the default engine does
and applies ``predicate()``:

- a leaf of the wrong kind (text where an integer is declared...), a list that is an object or a scalar,
  custom properties in the API's list shape, a number token a double does not hold exactly where a
  ``number`` field is read (16 or more digits, an exponent of 3 digits), an escaped ASCII character (a key
  could hide behind it), a trailing comma, a line that does not start with ``{``, an export page, JSON
  DuckDB cannot parse (a lone surrogate...).

In Python such a line is a record that fits (then ``predicate()`` decides), or one that does not fit the
schema where the filter reads it: an error naming file and line (exit 2, after the records before it), or
skipped and counted with ``--skip-invalid``.  Input that is not plain JSON Lines (a JSON array, export pages,
a record over several lines, bad UTF-8, malformed JSON, a lone carriage return, a raw control character) is
read by the default engine, whole file, with its own messages.  Nothing of a file is written before DuckDB
is done with it, so a fallback never repeats a record.

Known limit: an object with the same key twice (DuckDB reads the first, the default engine the last).
"""

from __future__ import annotations

import contextlib
import io
import mmap
import os
import re
import shutil
import tempfile
from collections.abc import Callable, Iterable
from typing import IO, Any, TextIO

from ...errors import FilterError
from ...language.ast import Expr
from ...semantics.schema import Schema
from .compile import Use
from .lines import TARGET, misfit, query, rows_query

__all__ = ["run_filter"]

PROG = "skillfilter filter"
MAX_SHOWN_SKIPS = 10


# --------------------------------------------------------------------------------------------------
# running
# --------------------------------------------------------------------------------------------------
def _has_lone_cr(path: str) -> bool:
    with open(path, "rb") as f:
        try:
            m = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
        except ValueError:  # an empty file
            return False
        with m:
            if m.find(b"\r") < 0:
                return False
            return m.count(b"\r") != m.count(b"\r\n") if hasattr(m, "count") else bool(
                re.search(rb"\r(?!\n)", m))


class _Locator:
    """The line numbers of lines given in file order (for messages): one pass over the file in all."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.offset = 0
        self.line = 0

    def __call__(self, data: bytes) -> int:
        with open(self.path, "rb") as f:
            f.seek(self.offset)
            for raw in f:
                self.offset += len(raw)
                self.line += 1
                if raw.rstrip(b"\n").removesuffix(b"\r") == data:
                    return self.line
        return self.line  # pragma: no cover - the line is in the file


_RAW, _LINE, _PY = 0, 1, 2


class _At:
    """The line number of a line already known (for messages)."""

    def __init__(self, line: int) -> None:
        self.line = line

    def __call__(self, data: bytes) -> int:
        return self.line


def _align(m: mmap.mmap, rows: list[tuple[int, int]]) -> list[tuple[int, int, int, int]] | None:
    """What to write, from DuckDB's (status, length) of each line that is not empty, in file order:
    ``(_RAW, a, b, n)`` bytes as they are (whole lines with their ``\\n``), ``(_LINE, a, b, n)`` a line
    then ``\\n``, ``(_PY, a, b, n)`` line ``n`` for Python; ``None`` if a length does not end a line."""
    ops: list[tuple[int, int, int, int]] = []
    size = len(m)
    off = line = 0
    run_start = run_end = -1
    for status, length in rows:
        while True:  # empty lines: DuckDB has no row for them
            if m[off : off + 1] == b"\n":
                off += 1
            elif m[off : off + 2] == b"\r\n":
                off += 2
            else:
                break
            line += 1
        line += 1
        end = off + length
        if m[end : end + 1] == b"\n":
            after = end + 1
        elif m[end : end + 2] == b"\r\n" or end == size:
            after = -1
        else:
            return None
        if status == 2 and after > 0:
            if run_end == off:
                run_end = after
            else:
                if run_start >= 0:
                    ops.append((_RAW, run_start, run_end, 0))
                run_start, run_end = off, after
        else:
            if run_start >= 0:
                ops.append((_RAW, run_start, run_end, 0))
                run_start = run_end = -1
            if status == 2:
                ops.append((_LINE, off, end, line))
            elif status == 1:
                ops.append((_PY, off, end, line))
        off = after if after > 0 else end + (2 if m[end : end + 1] == b"\r" else 0)
    if run_start >= 0:
        ops.append((_RAW, run_start, run_end, 0))
    while off < size:
        if m[off : off + 1] == b"\n":
            off += 1
        elif m[off : off + 2] == b"\r\n":
            off += 2
        else:
            return None
    return ops


def _numpy_ops(m: mmap.mmap, cur: Any) -> tuple[list[tuple[int, int, int, int]], int] | None:
    """:func:`_align` at C speed (with NumPy) for a file of ``\\n``-ended lines, none empty: every line end
    checked at once; ``None`` (NumPy missing, or another file) for the line-by-line walk."""
    try:
        import numpy as np
    except ImportError:  # pragma: no cover - numpy comes with most DuckDB installs, not all
        return None
    got = cur.fetchnumpy()
    status = np.asarray(got["status"], dtype=np.int8)
    length = np.asarray(got[list(got)[1]], dtype=np.int64)
    size = len(m)
    if not len(status):
        return None
    ends = np.cumsum(length + 1) - 1  # where each line's \n must be
    total = int(ends[-1]) + 1
    if total == size + 1:  # the last line has no line end
        if m[size - 1 : size] == b"\n":
            return None
        body = ends[:-1]
    elif total == size:
        body = ends
    else:
        return None
    data = np.frombuffer(m, dtype=np.uint8)
    ok = bool((data[body] == 10).all()) if len(body) else True
    if ok and len(body):
        starts_cr = data[body - 1] == 13 if int(body.min()) > 0 else np.ones(1, dtype=bool)
        ok = not bool(starts_cr.any())  # a line ending in \r\n: the walk strips it
    del data
    if not ok:
        return None
    starts = ends - length
    ops: list[tuple[int, int, int, int]] = []
    hit = status == 2
    hits = int(hit.sum())
    # runs of matching lines: written as they are, line ends included
    edges = np.flatnonzero(np.diff(np.concatenate(([0], hit.view(np.int8), [0]))))
    special = np.flatnonzero(status == 1)
    pieces: list[tuple[int, int, int, int]] = []
    for a, b in zip(edges[::2].tolist(), edges[1::2].tolist(), strict=True):
        pieces.append((_RAW, int(starts[a]), min(int(ends[b - 1]) + 1, size), a))
        if int(ends[b - 1]) + 1 > size:  # the last line, without its \n: write one
            pieces[-1] = (_RAW, int(starts[a]), size, a)
            pieces.append((_LINE, size, size, b))
    for i in special.tolist():
        pieces.append((_PY, int(starts[i]), int(ends[i]), i + 1))
    pieces.sort(key=lambda op: (op[1], op[0]))
    ops = [(kind, a, b, (n if kind == _PY else 0)) for kind, a, b, n in pieces]
    return ops, hits


def _count_lines(m: mmap.mmap) -> int:
    n = 0
    for start in range(0, len(m), 1 << 24):
        n += m[start : start + (1 << 24)].count(b"\n")
    return n


def run_filter(
    expr: Expr | str,
    *,
    schema: Schema | str | None,
    entity: str | None,
    paths: Iterable[str],
    out: IO[bytes],
    skip_invalid: bool = False,
    err: TextIO,
    stdin: IO[bytes] | None = None,
    stats: dict[str, int] | None = None,
) -> int:
    """Filter JSON Lines ``paths`` (``-``: standard input) into ``out``; the exit status (0, 1, 2).

    ``stats`` (if given) counts ``duckdb`` (matching lines DuckDB answered for), ``python`` (lines
    Python read) and ``fallback`` (files read by the default engine).
    """
    try:
        import duckdb
    except ImportError:
        err.write(f"{PROG}: --engine duckdb needs DuckDB: pip install 'skillfilter[duckdb]'\n")
        return 2
    from ...backends.python import predicate

    if schema is None:
        err.write(f"{PROG}: --engine duckdb needs --schema (DuckDB reads typed columns)\n")
        return 2
    try:
        sch = Schema.coerce(schema)
        ent = entity or sch.implied_entity()
        if ent is None:
            raise FilterError("name the entity with --entity")
        sql, params, use = query(expr, sch, ent)
        test = predicate(expr, schema=sch, entity=ent)
    except FilterError as exc:
        err.write(f"{PROG}: invalid filter\n{exc}\n")
        return 1

    con = duckdb.connect(config={"threads": max(1, os.cpu_count() or 1)})
    con.execute("SET enable_progress_bar = false")  # it would write to our standard output
    run = _Run(con, sql, params, use, test, out=out, err=err, skip_invalid=skip_invalid,
               state=stats if stats is not None else {})
    status = 0
    spooled: list[str] = []
    try:
        for name in list(paths) or ["-"]:
            path, label = name, name
            if name == "-":
                label = "<stdin>"
                with tempfile.NamedTemporaryFile(prefix="skillfilter-", suffix=".jsonl", delete=False) as tmp:
                    spooled.append(tmp.name)
                    shutil.copyfileobj(stdin if stdin is not None else _stdin(), tmp, 1 << 20)
                path = tmp.name
            elif not os.path.isfile(name):
                why = "no such file" if not os.path.exists(name) else "not a file"
                raise _Stop(f"{name}: cannot read: {why}")
            if not run.duckdb_file(path, label):
                run.state["fallback"] += 1
                run.default_engine(path, label)
    except _Stop as exc:
        out.flush()
        err.write(f"{PROG}: {exc}\n")
        status = 2
    finally:
        con.close()
        for tmp_name in spooled:
            with contextlib.suppress(OSError):
                os.unlink(tmp_name)
    skipped = run.state["skipped"]
    if skipped:
        err.write(f"{PROG}: skipped {skipped} invalid record{'s' if skipped != 1 else ''}\n")
    return status


def _stdin() -> IO[bytes]:
    import sys

    return sys.stdin.buffer


class _Stop(Exception):
    """Input that ends the run (exit 2): the message names it."""


class _Run:
    def __init__(self, con: Any, sql: str, params: list[Any], use: Use, test: Callable[[Any], bool], *,
                 out: IO[bytes], err: TextIO, skip_invalid: bool, state: dict[str, int]) -> None:
        self.con, self.sql, self.params, self.use, self.test = con, sql, params, use, test
        self.rows_sql = rows_query(sql)
        self.out, self.err, self.skip_invalid = out, err, skip_invalid
        self.state = state
        for k in ("skipped", "duckdb", "python", "fallback"):
            state.setdefault(k, 0)

    def skip(self, message: str) -> None:
        self.state["skipped"] += 1
        n = self.state["skipped"]
        if n <= MAX_SHOWN_SKIPS:
            self.err.write(f"{PROG}: skipped {message}\n")
        elif n == MAX_SHOWN_SKIPS + 1:
            self.err.write(f"{PROG}: (more invalid records: only counted from here on)\n")

    def duckdb_file(self, path: str, label: str) -> bool:
        """Filter one file through DuckDB; ``False``: the default engine must read it (nothing written).

        DuckDB gives each line's status and length; the lines are found in the file by those lengths (a
        check of every line end), and the matching ones written from the mapped file.  Where that does
        not line up, DuckDB writes the lines itself (:meth:`copied_file`).
        """
        import duckdb

        if _has_lone_cr(path):
            return False
        with open(path, "rb") as f:
            size = os.fstat(f.fileno()).st_size
            if size == 0:
                return True
            with mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as m:
                if m[:3] == b"\xef\xbb\xbf":
                    return False  # a byte order mark: the default engine says what it makes of it
                if m.find(b"\x01") >= 0 or m.find(b"\x00") >= 0:
                    return self.copied_file(path, label)
                try:
                    cur = self.con.execute(self.rows_sql, [*self.params, path])
                    fast = _numpy_ops(m, cur)
                    if fast is not None:
                        self.state["duckdb"] += fast[1]
                        return self._write_ops(m, fast[0], label)
                    rows = self.con.execute(self.rows_sql, [*self.params, path]).fetchall()
                except duckdb.Error:
                    return False
                ops = _align(m, rows)
                self.state["duckdb"] += sum(1 for st, _ in rows if st == 2) if ops is not None else 0
                if ops is None:
                    return self.copied_file(path, label)  # pragma: no cover - lengths always line up
                return self._write_ops(m, ops, label)

    def _write_ops(self, m: mmap.mmap, ops: list[tuple[int, int, int, int]], label: str) -> bool:
        verdicts: dict[int, bool | str] = {}
        for i, (kind, a, b, line) in enumerate(ops):
            if kind == _PY:
                verdict = self.python_line(m[a:b], label, _At(line))
                if verdict is None:
                    return False
                verdicts[i] = verdict
                if isinstance(verdict, str) and not self.skip_invalid:
                    break
        self.state["python"] += len(verdicts)
        with memoryview(m) as view:
            for i, (kind, a, b, _line) in enumerate(ops):
                if kind == _RAW:
                    self.out.write(view[a:b])
                elif kind == _LINE:
                    self.out.write(view[a:b])
                    self.out.write(b"\n")
                else:
                    verdict = verdicts[i]
                    if verdict is True:
                        self.out.write(view[a:b])
                        self.out.write(b"\n")
                    elif isinstance(verdict, str):
                        if not self.skip_invalid:
                            raise _Stop(verdict)
                        self.skip(verdict)
        return True

    def copied_file(self, path: str, label: str) -> bool:
        """DuckDB writes the matching lines (and those for Python, marked) into a file of its own."""
        import duckdb

        with tempfile.TemporaryDirectory(prefix="skillfilter-") as folder:
            target = os.path.join(folder, "lines")
            try:
                self.con.execute(self.sql.replace(TARGET, target.replace("'", "''")), [*self.params, path])
            except duckdb.Error:
                return False
            with open(target, "rb") as f:
                if os.fstat(f.fileno()).st_size == 0:
                    return True
                with mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as m:
                    return self._write(m, path, label)

    def _write(self, m: mmap.mmap, path: str, label: str) -> bool:
        # The lines for Python (few): where they are, and what becomes of each, before anything is written.
        marks: list[tuple[int, int, bool | str]] = []
        pos = 0 if m[:1] == b"\x01" else m.find(b"\n\x01") + 1
        locate = _Locator(path)
        while pos > 0 or (pos == 0 and m[:1] == b"\x01"):
            end = m.find(b"\n", pos)
            data = m[pos + 1 : end]
            verdict = self.python_line(data, label, locate)
            if verdict is None:
                return False
            marks.append((pos, end + 1, verdict))
            if isinstance(verdict, str) and not self.skip_invalid:
                break
            nxt = m.find(b"\n\x01", end)
            pos = nxt + 1 if nxt >= 0 else -1
        lines = _count_lines(m)
        self.state["python"] += len(marks)
        self.state["duckdb"] += lines - len(marks)
        done = 0
        with memoryview(m) as view:  # slices written without copies
            for start, stop, verdict in marks:
                self.out.write(view[done:start])
                done = stop
                if verdict is True:
                    self.out.write(view[start + 1 : stop])
                elif isinstance(verdict, str):
                    if not self.skip_invalid:
                        raise _Stop(verdict)
                    self.skip(verdict)
            self.out.write(view[done:])
        return True

    def python_line(self, data: bytes, label: str, locate: Callable[[bytes], int]) -> bool | str | None:
        """Whether the line is written (read as the default engine reads it), the message of a record that
        does not fit, or ``None``: not one record (the default engine reads the file)."""
        from ...cli.records import RecordError, RecordReader

        if not data.strip():
            return False
        reader = RecordReader(io.BytesIO(data), label)
        try:
            records = [(r, reader.raw) for r in reader]
        except RecordError:
            return None
        if len(records) != 1 or records[0][1] != data.removesuffix(b"\r"):
            return None  # not one record on its line (an array, a page...)
        record = records[0][0]
        why = misfit(record, self.use)
        if why is None:
            return bool(self.test(record))
        return f"{label}:{locate(data)}: record does not fit the schema: {why}"

    def default_engine(self, path: str, label: str) -> None:
        from ...cli.records import RecordError, RecordReader

        def skip(error: RecordError) -> None:
            self.skip(str(error))

        with open(path, "rb") as handle:
            reader = RecordReader(handle, label, on_error=skip if self.skip_invalid else None)
            try:
                for record in reader:
                    if self.test(record):
                        self.out.write(reader.raw)
                        self.out.write(b"\n")
            except RecordError as exc:
                raise _Stop(str(exc)) from None
