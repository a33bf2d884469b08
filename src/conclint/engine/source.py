"""Read a file's bytes and decode them as Python source (PEP 263 cookies, UTF-8 BOM)."""

from __future__ import annotations

import errno
import io
import os
import re
import stat
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
    subject: str = "file"  # what the message names: "file", or "folder" for one that cannot be listed


class NotRegularFile(OSError):
    """A FIFO, socket or device where a file was expected: reading it could wait forever."""

    def __init__(self, path: str, reason: str = "not a regular file") -> None:
        super().__init__(errno.EINVAL, reason, path)


def read_regular_file(path: str) -> bytes:
    """The bytes of ``path``, which must be a regular file (symlinks followed).

    Anything else is refused before it is opened (opening a FIFO waits for a writer; a device
    may act on open), and opened without blocking, then checked again, in case it was swapped.
    """
    info = os.stat(path)
    if stat.S_ISDIR(info.st_mode):
        raise IsADirectoryError(errno.EISDIR, "is a directory", path)
    if not stat.S_ISREG(info.st_mode):
        raise NotRegularFile(path)
    descriptor = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
    with open(descriptor, "rb") as handle:
        if not stat.S_ISREG(os.fstat(descriptor).st_mode):
            raise NotRegularFile(path)
        return handle.read()


def read_source(path: str) -> Union[SourceText, SourceError]:
    try:
        data = read_regular_file(path)
    except IsADirectoryError:
        return _folder_error(path)
    except NotRegularFile:
        return SourceError(path, "is not a regular file (a FIFO, socket or device): not read")
    except OSError as exc:
        return SourceError(path, f"cannot be read: {exc.strerror or exc}")
    return decode_source(path, data)


def _folder_error(path: str) -> SourceError:
    """A folder in the list of files: discovery lists a folder it could not walk, so that it is reported."""
    try:
        os.listdir(path)
    except OSError as exc:
        return SourceError(
            path, f"cannot be listed: {exc.strerror or exc}; its files are not checked", subject="folder"
        )
    return SourceError(path, "is a directory, not a Python file")


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
