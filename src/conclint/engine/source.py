"""Read a file's bytes and decode them as Python source (PEP 263 cookies, UTF-8 BOM)."""

from __future__ import annotations

import io
import re
import tokenize
from dataclasses import dataclass
from typing import List, Union

# Python ends a line only at LF, CRLF or CR; str.splitlines() also splits at form feeds,
# U+2028, U+0085 and more, so rows counted with it drift from the parser's.
LINE_END = re.compile(r"\r\n?|\n")


@dataclass(frozen=True)
class SourceText:
    path: str
    text: str
    encoding: str = "utf-8"  # as detected: "utf-8-sig" when the file starts with a BOM


@dataclass(frozen=True)
class SourceError:
    """The file could not be turned into text; reported as CCL002."""

    path: str
    reason: str
    row: int = 1
    col: int = 1


def read_source(path: str) -> Union[SourceText, SourceError]:
    try:
        with open(path, "rb") as handle:
            data = handle.read()
    except IsADirectoryError:
        return SourceError(path, "is a directory, not a Python file")
    except OSError as exc:
        return SourceError(path, f"cannot be read: {exc.strerror or exc}")
    return decode_source(path, data)


def decode_source(path: str, data: bytes) -> Union[SourceText, SourceError]:
    nul = data.find(b"\0")
    if nul >= 0:
        row = data.count(b"\n", 0, nul) + 1
        col = nul - (data.rfind(b"\n", 0, nul) + 1) + 1
        return SourceError(path, "contains a NUL byte; Python refuses such source", row, col)
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
    except SyntaxError as exc:
        return SourceError(path, f"cannot be decoded: {exc.msg if hasattr(exc, 'msg') else exc}")
    try:
        text = data.decode(encoding)
    except (UnicodeError, LookupError) as exc:  # UnicodeError: codecs like `undefined` that refuse all input
        row, col = _offset_position(data, getattr(exc, "start", 0))
        return SourceError(path, f"cannot be decoded as {encoding}: {_short(exc)}", row, col)
    if text.startswith("\ufeff"):
        text = text[1:]
    return SourceText(path, text, encoding)


def python_lines(text: str) -> List[str]:
    """The lines of ``text`` as the parser numbers them (row N is item N-1), without line ends."""
    return LINE_END.split(text)


def _offset_position(data: bytes, offset: int):
    row = data.count(b"\n", 0, offset) + 1
    col = offset - (data.rfind(b"\n", 0, offset) + 1) + 1
    return row, col


def _short(exc: Exception) -> str:
    if isinstance(exc, UnicodeDecodeError):
        return f"invalid byte 0x{exc.object[exc.start]:02x}"
    return str(exc)
