"""Opening inputs (compression sniffed from magic bytes) and writing outputs atomically.

Compression is detected from the first bytes, not the file name: files renamed by
hand or downloaded without their ``.gz`` are common, and a wrong guess would surface
as a confusing parse error far from the cause.
"""

from __future__ import annotations

import bz2
import contextlib
import gzip
import io
import lzma
import os
import tempfile
import zlib
from pathlib import Path

from gener.errors import GenerInputError

_MAGIC = ((b"\x1f\x8b", gzip.open), (b"BZh", bz2.open), (b"\xfd7zXZ\x00", lzma.open))
# What the decompressors raise on a cut or corrupt stream.
_STREAM_ERRORS = (EOFError, zlib.error, gzip.BadGzipFile, lzma.LZMAError, OSError)
# Read once: os.umask can only be queried by setting it, which is not thread-safe later.
_UMASK = os.umask(0o022)
os.umask(_UMASK)


class _Guarded(io.RawIOBase):
    """Turns decompression errors into GenerInputError, whoever is reading (gb-io too)."""

    def __init__(self, inner, path):
        self._inner, self._path = inner, path

    def readable(self):
        return True

    def readinto(self, buffer):
        try:
            # readinto1: one decompression step per call, so everything before the cut is
            # handed out before the error (a looping readinto would drop it with the error).
            return self._inner.readinto1(buffer)
        except _STREAM_ERRORS as exc:
            raise GenerInputError(f"truncated or corrupt compressed file ({exc})", path=self._path) from None

    def close(self):
        self._inner.close()
        super().close()


def open_binary(path) -> io.BufferedReader:
    """Open ``path`` for binary reading, transparently decompressing gzip, bzip2 and xz."""
    path = os.fspath(path)
    try:
        raw = open(path, "rb")
    except FileNotFoundError:
        raise GenerInputError("no such file", path=path) from None
    except IsADirectoryError:
        raise GenerInputError("is a directory, not a sequence file", path=path) from None
    except PermissionError:
        raise GenerInputError("permission denied", path=path) from None
    head = raw.read(6)
    raw.seek(0)
    for magic, opener in _MAGIC:
        if head.startswith(magic):
            return io.BufferedReader(_Guarded(opener(raw), path), buffer_size=1 << 20)
    return raw


def is_binary(sample: bytes) -> bool:
    """True when a sample is not text (a PNG, a BAM, an executable...)."""
    return b"\x00" in sample or sum(b < 9 or 13 < b < 32 for b in sample[:4096]) > 8


@contextlib.contextmanager
def atomic_write(path, mode: str = "w"):
    """Write to a temp file in the target's directory and rename it over ``path`` on success.

    On any exception the temp file is removed and ``path`` is untouched, so a crash or a
    bad record never leaves a half-written output. ``.gz`` targets are gzip-compressed.
    """
    path = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with open(fd, "wb") as raw, (
            gzip.GzipFile(fileobj=raw, mode="wb", filename="", mtime=0)
            if path.suffix == ".gz"
            else contextlib.nullcontext(raw)
        ) as sink:
            if "b" in mode:
                yield sink
            else:
                text = io.TextIOWrapper(sink, encoding="utf-8", newline="\n")
                try:
                    yield text
                finally:
                    text.detach()  # flushes; closing is left to the with-statement above
        # mkstemp creates 0600 files; give the output the permissions a plain open() would.
        os.chmod(tmp, 0o666 & ~_UMASK)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
