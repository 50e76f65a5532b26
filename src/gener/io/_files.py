"""Opening inputs (compression sniffed from magic bytes); checking and writing outputs.

Compression is detected from the first bytes, not the file name: files renamed by
hand or downloaded without their ``.gz`` are common, and a wrong guess would surface
as a confusing parse error far from the cause.
"""

from __future__ import annotations

import bz2
import contextlib
import errno
import gzip
import io
import lzma
import os
import re
import stat
import sys
import tempfile
import zlib

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


def is_compressed(path) -> bool:
    """True for gzip, bzip2 and xz files (by their magic bytes)."""
    with open(os.fspath(path), "rb") as fh:
        head = fh.read(6)
    return any(head.startswith(magic) for magic, _ in _MAGIC)


def is_binary(sample: bytes) -> bool:
    """True when a sample is not text (a PNG, a BAM, an executable...)."""
    return b"\x00" in sample or sum(b < 9 or 13 < b < 32 for b in sample[:4096]) > 8


# Output destinations. "-" is stdout. A regular file (or a path to be created) is written
# to a temp file next to it and renamed over it on success; a symlink is followed and its
# target replaced the same way, so the link stays a link. Anything that is not a regular
# file (a FIFO, a terminal, /dev/stdout, a /dev/fd/N of a shell's >(...)) cannot be renamed
# over: it is written directly, in order, as a plain open() would.
STDOUT = "-"
_SPECIAL_ROOTS = ("/dev/", "/proc/")


def _is_stdout(path) -> bool:
    return os.fspath(path) == STDOUT


def _target(path) -> tuple[str, str]:
    """("stdout" | "direct" | "atomic", the path to write)."""
    if _is_stdout(path):
        return "stdout", STDOUT
    given = os.path.abspath(os.fspath(path))
    real = os.path.realpath(given)
    if given.startswith(_SPECIAL_ROOTS) or real.startswith(_SPECIAL_ROOTS):
        return "direct", given  # opened as given: /proc/self/fd/N links only mean something that way
    try:
        mode = os.stat(real).st_mode
    except FileNotFoundError:
        return "atomic", real
    return ("atomic" if stat.S_ISREG(mode) else "direct"), (real if stat.S_ISREG(mode) else given)


_DESCRIPTOR = re.compile(r"^/(?:dev/fd|proc/self/fd)/(\d+)$")
_STANDARD = {"/dev/stdout": 1, "/dev/stderr": 2}


def _own_descriptor(path: str) -> int | None:
    """The descriptor a /dev/stdout, /dev/fd/N or /proc/self/fd/N path names: written
    through a duplicate of it, so a shell's ``>>`` still appends."""
    if path in _STANDARD:
        return _STANDARD[path]
    match = _DESCRIPTOR.match(path)
    return int(match.group(1)) if match else None


def check_output(path, *, inputs=(), directory: bool = False) -> None:
    """Refuse, before any work, an output that could not be written: a missing or unwritable
    directory, a directory where a file goes (or the reverse), stdout for a directory, a
    path that is one of ``inputs``. ``directory``: ``path`` is a directory to create or fill."""
    if directory:
        _check_directory_output(path)
    else:
        _check_file_output(path)
    if _is_stdout(path):
        return
    for source in inputs:
        if source is not None and not _is_stdout(source) and os.path.exists(source) and os.path.exists(path) \
                and os.path.samefile(source, path):
            raise GenerInputError("output would overwrite an input", path=path)


def check_distinct(paths) -> None:
    """Outputs of one command must be different files (stdout at most once)."""
    seen = {}
    for p in paths:
        if p is None:
            continue
        key = STDOUT if _is_stdout(p) else os.path.realpath(os.fspath(p))
        if key in seen:
            raise GenerInputError(f"{seen[key]} and {p} are the same output" if key != STDOUT
                                  else "only one output can go to stdout (-)")
        seen[key] = p


def _check_file_output(path) -> None:
    kind, where = _target(path)
    if kind == "stdout":
        return
    if os.path.isdir(where):
        raise GenerInputError("is a directory; give a file name", path=path)
    if kind == "direct":
        try:  # opening without O_TRUNC changes nothing; O_NONBLOCK: a FIFO does not wait for a reader
            os.close(os.open(where, os.O_WRONLY | os.O_NONBLOCK))
        except FileNotFoundError:
            raise GenerInputError("no such device or file to write to", path=path) from None
        except OSError as exc:
            if exc.errno != errno.ENXIO:  # ENXIO: a FIFO nobody reads yet; its reader may come later
                raise GenerInputError(f"cannot write ({exc.strerror or exc})", path=path) from None
        return
    parent = os.path.dirname(where)
    if not os.path.isdir(parent):
        shown = os.path.dirname(os.fspath(path)) if not os.path.islink(path) else parent
        raise GenerInputError(f"output directory {shown} does not exist", path=path)
    _probe(parent, path)


def _check_directory_output(path) -> None:
    if _is_stdout(path):
        raise GenerInputError("this output is a directory; it cannot be stdout (-)")
    where = os.path.abspath(os.fspath(path))
    if os.path.exists(where) and not os.path.isdir(where):
        raise GenerInputError("exists and is not a directory", path=path)
    existing = where
    while not os.path.exists(existing):  # the nearest ancestor that exists is where we create
        existing = os.path.dirname(existing)
    if not os.path.isdir(existing):
        raise GenerInputError(f"{existing} is not a directory", path=path)
    _probe(existing, path)


def _probe(directory: str, path) -> None:
    """Create and remove a temp file: the one test that also holds for root, read-only
    mounts and /proc."""
    try:
        fd, probe = tempfile.mkstemp(prefix=".gener-probe-", dir=directory)
    except OSError as exc:
        raise GenerInputError(f"cannot write in {directory} ({exc.strerror or exc})", path=path) from None
    os.close(fd)
    os.unlink(probe)


class _Counted(io.RawIOBase):
    """A write-only stream that knows its position, so that writers which ask ``tell()``
    (parquet) work on pipes too. ``owned``: close the underlying file on close."""

    def __init__(self, raw, owned: bool, path):
        self._raw, self._owned, self._pos, self._path = raw, owned, 0, path

    def writable(self):
        return True

    def write(self, data):
        try:
            n = self._raw.write(data)
        except OSError as exc:
            if exc.errno == errno.EPIPE:  # the reader went away (| head): the CLI exits quietly
                raise
            raise GenerInputError(f"cannot write ({exc.strerror or exc})", path=self._path) from None
        n = len(data) if n is None else n
        self._pos += n
        return n

    def tell(self):
        return self._pos

    def flush(self):
        if not self._raw.closed:
            self._raw.flush()

    def close(self):
        if not self.closed:
            self.flush()
            if self._owned:
                self._raw.close()
        super().close()


@contextlib.contextmanager
def _sink(raw, path, mode):
    """``raw`` as a binary or text handle, gzip-compressed for a ``.gz`` name."""
    gz = not _is_stdout(path) and os.fspath(path).endswith(".gz")
    with (gzip.GzipFile(fileobj=raw, mode="wb", filename="", mtime=0) if gz else contextlib.nullcontext(raw)) as sink:
        if "b" in mode:
            yield sink
        else:
            text = io.TextIOWrapper(sink, encoding="utf-8", newline="\n")
            try:
                yield text
            finally:
                text.detach()  # flushes; closing is left to the with-statement above


@contextlib.contextmanager
def atomic_write(path, mode: str = "w"):
    """Write ``path``: a temp file in the target's directory renamed over it on success.

    On any exception (SIGINT and SIGTERM included: the CLI turns SIGTERM into SystemExit) the
    temp file is removed and ``path`` is untouched, so a crash or a bad record never leaves
    a half-written output. ``.gz`` targets are gzip-compressed. ``-`` writes to stdout; a
    symlink has its target replaced; FIFOs, devices and /dev/fd paths are written directly
    (what reached them stays there).
    """
    kind, where = _target(path)
    if kind != "atomic":
        if kind == "stdout":
            sys.stdout.flush()
            raw = _Counted(sys.stdout.buffer, owned=False, path=path)
        else:
            try:
                fd = _own_descriptor(where)
                handle = open(os.dup(fd), "wb", buffering=0) if fd is not None else open(where, "wb", buffering=0)
                raw = _Counted(handle, owned=True, path=path)
            except OSError as exc:
                raise GenerInputError(f"cannot write ({exc.strerror or exc})", path=path) from None
        with raw, io.BufferedWriter(raw) as buffered, _sink(buffered, path, mode) as out:
            yield out
        return
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{os.path.basename(where)}.", suffix=".tmp", dir=os.path.dirname(where))
    except OSError as exc:
        raise GenerInputError(f"cannot write in {os.path.dirname(where)} ({exc.strerror or exc})", path=path) from None
    try:
        with open(fd, "wb") as raw, _sink(raw, path, mode) as out:
            yield out
        try:  # an existing file keeps its permissions; a new one gets what open() would give
            permissions = stat.S_IMODE(os.stat(where).st_mode)
        except FileNotFoundError:
            permissions = 0o666 & ~_UMASK
        os.chmod(tmp, permissions)
        os.replace(tmp, where)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
