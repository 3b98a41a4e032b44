"""Line endings as DuckDB's readers need them.

JSON Lines: DuckDB splits lines with its CSV reader (fast, in parallel). Told that lines end
in CR LF, it takes LF alone too, so a file mixing both reads right; but it also ends a line at
a lone carriage return, and would cut a line at its column delimiter. Both are rare: a file
holding either is copied once with each replaced by a marker, and `restored()` puts the
original bytes back in SQL, so a line is counted once and kept verbatim.

CSV: DuckDB's reader refuses a file that mixes CR LF with LF or CR alone; such a file is read
from a copy with LF alone (`one_ending`)."""

from __future__ import annotations

import re
import uuid
from pathlib import Path

from ..sql import literal

DELIMITER = "\x1f\x1e\x1d\x1c"  # a JSON line is one column: a delimiter no text should hold
MAX_LINE_BYTES = 1 << 30  # a longer line refuses the file
DUCKDB_LINE_BYTES = 2_000_000  # DuckDB's own longest line, and what its read buffer is sized to
# a line past DuckDB's own longest holds a whole aligned block this long without a line end
LINE_END_BLOCK = 1 << 19
CHUNK = 1 << 24
_LONE_CR = re.compile(rb"\r(?!\n)")


def read_sql(path: Path, max_line_bytes: int | None = None, buffer: bool = False) -> str:
    """DuckDB's reader of the file's lines as one VARCHAR column `line`; with `buffer`, a read
    buffer as large as the longest line (DuckDB parses a buffer's lines together). The longest
    line allowed is DuckDB's own unless the file may hold a longer one (`has_long_lines`)."""
    if max_line_bytes is None:
        long = has_long_lines(path, b"\n")
        max_line_bytes = MAX_LINE_BYTES if long else DUCKDB_LINE_BYTES
    sized = f", buffer_size={max_line_bytes}" if buffer else ""
    return (f"read_csv({literal(str(path))}, columns={{'line': 'VARCHAR'}}, "
            f"delim={literal(DELIMITER)}, quote='', escape='', header=false, auto_detect=false, "
            f"new_line='\\r\\n', strict_mode=false, max_line_size={max_line_bytes}{sized})")


def _needs_guard(path: Path) -> bool:
    """Whether the file holds a lone carriage return or the delimiter."""
    delimiter, carry = DELIMITER.encode(), b""
    with path.open("rb") as fh:
        while chunk := fh.read(CHUNK):
            data = carry + chunk
            if delimiter in data:
                return True
            lone = b"\r" in data and _LONE_CR.search(data)
            if lone and lone.start() < len(data) - 1:  # the last byte's follower comes next
                return True
            carry = data[-len(delimiter):]
    return carry.endswith(b"\r")


class Guarded:
    """The file to read (a guarded copy in `workdir` when needed) and the SQL expression that
    gives a line back as it was."""

    def __init__(self, path: Path, workdir: Path):
        self.path, self.markers = path, {}
        if not _needs_guard(path):
            return
        mark = f"\u2063{uuid.uuid4().hex}"
        self.markers = {"\r": mark + "r", DELIMITER: mark + "d"}
        self.path = workdir / f"lines-{path.name}"
        with path.open("rb") as src, self.path.open("wb") as dst:
            carry = b""
            while chunk := src.read(CHUNK):
                data = carry + chunk
                end = data.rfind(b"\n") + 1  # whole lines only: no marker spans a line feed
                dst.write(self._marked(data[:end]))
                carry = data[end:]
            dst.write(self._marked(carry))

    def _marked(self, data: bytes) -> bytes:
        data = data.replace(DELIMITER.encode(), self.markers[DELIMITER].encode())
        return _LONE_CR.sub(self.markers["\r"].encode(), data)

    def restored(self, column: str) -> str:
        """SQL giving the column's text with the original bytes back in place of markers."""
        for original, marker in self.markers.items():
            column = f"replace({column}, {literal(marker)}, {literal(original)})"
        return column


def count(path: Path) -> int:
    """The file's lines, as a line feed ends them (a last line without one counts too)."""
    total, last = 0, b""
    with path.open("rb") as fh:
        while chunk := fh.read(CHUNK):
            total, last = total + chunk.count(b"\n"), chunk[-1:]
    return total + (last not in (b"", b"\n"))


def has_long_lines(path: Path, ends: bytes = b"\n\r") -> bool:
    """Whether a line of the file may be longer than DuckDB's own longest (2 MB): some aligned
    512 KiB block holds none of the line-end bytes. DuckDB sizes its read buffer to the longest
    line allowed, so allowing 1 GiB for every file read 1 GiB at a time (a 5M-event CSV: 7-9.6 s
    and 2.5 GB instead of 4.6-5.6 s and 1.7 GB, and no read at all under a 512 MB limit)."""
    with path.open("rb") as fh:
        while chunk := fh.read(CHUNK):
            for start in range(0, len(chunk) - LINE_END_BLOCK + 1, LINE_END_BLOCK):
                end = start + LINE_END_BLOCK
                if not any(chunk.find(bytes([end_byte]), start, end) >= 0 for end_byte in ends):
                    return True
    return False


def csv_line_room(path: Path) -> str:
    """The read_csv option for the longest line a CSV file may need: DuckDB's own unless the
    file may hold a longer line."""
    return long_lines() if has_long_lines(path) else ""


def long_lines() -> str:
    """The read_csv option that lets a line (or a quoted value's lines together) be 1 GiB."""
    return f", max_line_size={MAX_LINE_BYTES}"


def mixed_endings(path: Path) -> bool:
    """Whether a file ends some lines in CR LF and others in LF or CR alone (counted, not
    parsed: a line break inside a quoted value counts too)."""
    crlf = other = False
    with path.open("rb") as fh:
        carry = b""
        while chunk := fh.read(CHUNK):
            data = carry + chunk
            carry = b"\r" if data.endswith(b"\r") else b""  # its LF may come next
            data = data[:len(data) - len(carry)]
            if b"\r" not in data:  # LF alone (or no line end): one fast pass
                other = other or b"\n" in data
                if crlf and other:
                    return True
                continue
            pairs = data.count(b"\r\n")
            crlf = crlf or pairs > 0
            other = other or data.count(b"\n") > pairs or data.count(b"\r") > pairs
            if crlf and other:
                return True
    return crlf and (other or carry == b"\r")


def one_ending(path: Path, workdir: Path) -> Path:
    """A copy of the file with every line ending (CR LF, CR) made LF, which DuckDB's CSV
    sniffer needs: it refuses a file that mixes them. A line break inside a quoted value is
    made LF too."""
    target = workdir / f"lf-{path.name}"
    with path.open("rb") as src, target.open("wb") as dst:
        carry = b""
        while chunk := src.read(CHUNK):
            data = carry + chunk
            carry = b"\r" if data.endswith(b"\r") else b""
            dst.write(re.sub(rb"\r\n?", b"\n", data[:len(data) - len(carry)]))
        dst.write(carry.replace(b"\r", b"\n"))
    return target
