"""``gener data fetch`` / ``gener data list``: the reference data of :mod:`gener.data.registry` in a
verified local cache.

Packages are fetched with the ordinary clients (``apt-get download``, ``pip download`` of
the sdist) into a temp dir, once per package. Only the registry's members are unpacked;
each is streamed to a temp file next to its destination while hashed, and renamed into
place only when size and sha256 match, so the cache never holds a partial or wrong file.
Files already present and verified are never downloaded again.
"""

from __future__ import annotations

import contextlib
import difflib
import fnmatch
import hashlib
import os
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, NamedTuple

import platformdirs
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, DownloadColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from gener.data.registry import DATASETS, Dataset
from gener.errors import GenerInputError

ENV_VAR = "GENER_DATA_DIR"


class DataFetchError(GenerInputError):
    """A package could not be downloaded, or a file in it did not match the registry."""


class Package(NamedTuple):
    registry: str  # "deb" | "pypi"
    name: str
    version: str
    pip_python: str | None = None


# (package, empty work dir) -> path of the downloaded .deb / sdist; tests inject their own.
Downloader = Callable[[Package, Path], Path]


def data_dir(dest: str | os.PathLike | None = None) -> Path:
    """The cache root: ``dest``, else ``$GENER_DATA_DIR``, else the user cache dir."""
    if dest is not None:
        return Path(dest).expanduser()
    if os.environ.get(ENV_VAR):
        return Path(os.environ[ENV_VAR]).expanduser()
    return Path(platformdirs.user_cache_dir("gener")) / "data"


def list_datasets() -> list[Dataset]:
    return list(DATASETS)


def get_dataset(name: str) -> Dataset:
    by_name = {d.name: d for d in DATASETS}
    if name not in by_name:
        close = difflib.get_close_matches(name, by_name, n=3, cutoff=0.5)
        hint = f" (did you mean {', '.join(close)}?)" if close else ""
        raise GenerInputError(f"unknown dataset {name!r}{hint}; `gener data list` shows them all")
    return by_name[name]


def _target(ds: Dataset, root: Path) -> Path:
    return root / ds.name if ds.is_directory else root / ds.name / next(iter(ds.files))


def _fetch_hint(name: str, dest) -> str:
    return f"gener data fetch --only {name}" + (f" --dest {dest}" if dest is not None else "")


def dataset_path(name: str, dest: str | os.PathLike | None = None) -> Path:
    """The cached file (or directory, for multi-file entries) of dataset ``name``."""
    ds, root = get_dataset(name), data_dir(dest)
    if _missing(ds, root, verify=False):
        raise GenerInputError(f"dataset {name!r} is not in the cache {root}; run `{_fetch_hint(name, dest)}`")
    return _target(ds, root)


def missing_datasets(names, dest: str | os.PathLike | None = None) -> list[str]:
    """Which of ``names`` are not (completely) in the cache, sizes checked, in order."""
    root = data_dir(dest)
    return [name for name in names if _missing(get_dataset(name), root, verify=False)]


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _missing(ds: Dataset, root: Path, verify: bool = True) -> list[str]:
    """Basenames of ``ds`` absent from the cache (or, with ``verify``, failing sha256)."""
    out = []
    for base, (sha, size) in ds.files.items():
        path = root / ds.name / base
        ok = path.is_file() and path.stat().st_size == size and (not verify or _sha256(path) == sha)
        if not ok:
            out.append(base)
    return out


def download_package(pkg: Package, workdir: Path) -> Path:
    """The default downloader: ``apt-get download`` or ``pip download`` of the sdist."""
    if pkg.registry == "deb":
        attempts = [["apt-get", "download", f"{pkg.name}={pkg.version}"]]
    else:
        cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--no-binary", pkg.name, "-d", str(workdir),
               "--disable-pip-version-check", "-q", f"{pkg.name}=={pkg.version}"]
        if pkg.pip_python:
            cmd += ["--python-version", pkg.pip_python]
        # pip builds sdist metadata; reusing this environment's setuptools is fast, an
        # isolated build env (the default) copes with other build backends.
        attempts = [cmd + ["--no-build-isolation"], cmd]
    for cmd in attempts:
        try:
            proc = subprocess.run(cmd, cwd=workdir, capture_output=True, text=True)
        except FileNotFoundError:
            raise DataFetchError(f"cannot download {pkg.name} {pkg.version}: {cmd[0]} is not installed") from None
        found = [p for p in workdir.iterdir() if p.is_file()]
        if proc.returncode == 0 and found:
            return found[0]
        if "metadata" not in proc.stderr:  # only a failed metadata build is worth the second try
            break
    lines = [ln.strip() for ln in (proc.stderr + proc.stdout).splitlines() if ln.strip()]
    errs = [ln for ln in lines if ln.startswith(("E:", "ERROR:", "error:"))] or lines
    deb = pkg.registry == "deb"
    why = errs[-1] if errs else f"exit status {proc.returncode}"
    raise DataFetchError(
        f"could not download {pkg.registry} package {pkg.name}{'=' if deb else '=='}{pkg.version} with"
        f" {'apt-get' if deb else 'pip'} ({why}); offline, or the index lacks this version"
        + (" (run `apt-get update`)?" if deb else "?")
    )


def _members(archive: Path) -> Iterator[tuple[str, IO[bytes]]]:
    """(path inside the package, readable stream) for every regular file of the archive."""
    if archive.suffix == ".deb":
        with tempfile.TemporaryFile() as err:  # dpkg-deb complains of SIGPIPE when we stop early
            proc = subprocess.Popen(["dpkg-deb", "--fsys-tarfile", str(archive)], stdout=subprocess.PIPE, stderr=err)
            try:
                with tarfile.open(fileobj=proc.stdout, mode="r|") as tar:
                    for m in tar:
                        if m.isfile():
                            yield m.name.removeprefix("./"), tar.extractfile(m)
            except tarfile.TarError as exc:
                proc.wait()
                err.seek(0)
                why = err.read().decode(errors="replace").strip() or exc
                raise DataFetchError(f"{archive.name}: not a readable Debian package ({why})") from None
            finally:
                proc.stdout.close()
                proc.wait()
    elif archive.suffix == ".zip":  # sdist members sit under NAME-VERSION/
        with zipfile.ZipFile(archive) as zf:
            for info in zf.infolist():
                if not info.is_dir():
                    with zf.open(info) as fh:
                        yield info.filename.split("/", 1)[-1], fh
    else:
        with tarfile.open(archive, mode="r|*") as tar:
            for m in tar:
                if m.isfile():
                    yield m.name.split("/", 1)[-1], tar.extractfile(m)


def _install(src: IO[bytes], dest: Path, sha: str, size: int, label: str, advance) -> None:
    """Copy ``src`` to ``dest`` through a temp file; rename only if size and sha256 match."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".part", dir=dest.parent)
    h, n = hashlib.sha256(), 0
    try:
        with os.fdopen(fd, "wb") as out:
            for block in iter(lambda: src.read(1 << 20), b""):
                h.update(block)
                out.write(block)
                n += len(block)
                advance(len(block))
        if n != size or h.hexdigest() != sha:
            raise DataFetchError(
                f"{label}: checksum mismatch (sha256 {h.hexdigest()[:16]}..., {n} bytes; registry has"
                f" {sha[:16]}..., {size} bytes); the file was not kept"
            )
        os.replace(tmp, dest)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def _unpack(pkg: Package, archive: Path, need: dict[Dataset, list[str]], root: Path, advance) -> dict:
    """Install the needed members of one package; returns dataset -> error messages."""
    left = {(ds, b) for ds, bases in need.items() for b in bases}
    errors: dict[Dataset, list[str]] = {}
    with contextlib.closing(_members(archive)) as members:
        for member, fh in members:
            base = member.rsplit("/", 1)[-1]
            hits = [ds for ds in need if (ds, base) in left and any(fnmatch.fnmatchcase(member, g) for g in ds.members)]
            for i, ds in enumerate(hits):
                sha, size = ds.files[base]
                label = f"{ds.name}/{base} from {pkg.name} {pkg.version}"
                try:  # a member shared by two datasets is read once, then copied
                    with contextlib.nullcontext(fh) if i == 0 else open(root / hits[0].name / base, "rb") as src:
                        _install(src, root / ds.name / base, sha, size, label, advance)
                except DataFetchError as exc:
                    for d in hits[i:]:
                        errors.setdefault(d, []).append(str(exc))
                    break
            left -= {(ds, base) for ds in hits}
            if not left:
                break  # closing the stream stops dpkg-deb early
    for ds, base in sorted(left, key=lambda x: (x[0].name, x[1])):
        errors.setdefault(ds, []).append(
            f"{ds.name}/{base}: no such member in {pkg.name} {pkg.version} ({', '.join(ds.members)})"
        )
    return errors


def fetch(
    dest=None, names=None, console: Console | None = None, *, downloader: Downloader | None = None
) -> dict[str, Path]:
    """Fetch ``names`` (default: every dataset) into the cache; returns name -> dataset_path."""
    console = console or Console()
    root = data_dir(dest)
    selected = [get_dataset(n) for n in dict.fromkeys(names)] if names else list(DATASETS)
    todo = {ds: miss for ds in selected if (miss := _missing(ds, root))}
    if not todo:
        console.print(f"All {len(selected)} dataset(s) present and verified in {root}; nothing to download.")
        return {ds.name: _target(ds, root) for ds in selected}

    groups: dict[Package, dict[Dataset, list[str]]] = {}
    for ds, miss in todo.items():
        groups.setdefault(Package(ds.registry, ds.package, ds.version, ds.pip_python), {})[ds] = miss
    total = sum(ds.files[b][1] for miss in groups.values() for ds, bases in miss.items() for b in bases)
    console.print(f"Fetching {len(todo)} dataset(s) from {len(groups)} package(s) into {root} "
                  f"({len(selected) - len(todo)} already present)")
    downloader = downloader or download_package
    errors: list[str] = []
    columns = (SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), DownloadColumn(), TimeElapsedColumn())
    with Progress(*columns, console=console, transient=True) as progress:
        task = progress.add_task("", total=total)
        advance = lambda n: progress.advance(task, n)  # noqa: E731
        for i, (pkg, need) in enumerate(groups.items(), 1):
            step = f"[{i}/{len(groups)}] {pkg.name} {pkg.version}"
            with tempfile.TemporaryDirectory(prefix="gener-fetch-") as tmp:
                progress.update(task, description=f"{step}: downloading")
                try:
                    archive = downloader(pkg, Path(tmp))
                except DataFetchError as exc:
                    errors.append(str(exc))
                    progress.console.print(f"[red]✗[/] {escape(str(exc))}")
                    continue
                progress.update(task, description=f"{step}: unpacking")
                errs = _unpack(pkg, archive, need, root, advance)
            for ds in need:
                for e in errs.get(ds, []):
                    errors.append(e)
                    progress.console.print(f"[red]✗[/] {escape(e)}")
                if ds not in errs:
                    rel = _target(ds, root).relative_to(root).as_posix()
                    progress.console.print(f"[green]✓[/] {ds.name:<22} {_mb(ds.size):>9}  {escape(rel)}")
    if errors:
        raise DataFetchError(f"{len(errors)} problem(s) while fetching: " + "; ".join(errors))
    console.print(f"Done: {len(todo)} dataset(s), {_mb(total)} written to {root}")
    return {ds.name: _target(ds, root) for ds in selected}


def _mb(n: int) -> str:
    return f"{n / 1e6:.1f} MB" if n >= 1e5 else f"{n / 1e3:.1f} kB"


def print_listing(dest=None, console: Console | None = None) -> None:
    """Table of every dataset: name, role, organism, size, cached (by size, not re-hashed), path."""
    console = console or Console()
    root = data_dir(dest)
    if not console.is_terminal and console.width < 190:  # piped or captured: one line per dataset
        console = Console(file=console.file, width=190, color_system=None)
    width = console.width
    cols = ("name", "role", "organism", "size", "cached", "path (in the cache)")
    cols = cols if width >= 130 else tuple(c for c in cols if c != "organism")
    table = Table(title=f"Reference datasets (cache: {root})")
    for col in cols:
        wraps = col in ("organism", "path (in the cache)")
        table.add_column(col, justify="right" if col == "size" else "left", no_wrap=not wraps, overflow="fold",
                         min_width={"size": 8, "cached": 6}.get(col))
    cached_bytes = n_cached = 0
    for ds in DATASETS:
        miss = _missing(ds, root, verify=False)
        state = "yes" if not miss else ("no" if len(miss) == len(ds.files) else "partial")
        n_cached += state == "yes"
        cached_bytes += ds.size if state == "yes" else 0
        style = {"yes": "green", "no": "red", "partial": "yellow"}[state]
        rel = _target(ds, root).relative_to(root).as_posix()
        cells = {"name": ds.name, "role": ds.role, "organism": ds.organism, "size": _mb(ds.size),
                 "cached": f"[{style}]{state}[/]", "path (in the cache)": escape(rel)}
        table.add_row(*(cells[c] for c in cols))
    console.print(table)
    summary = f"{n_cached}/{len(DATASETS)} cached ({_mb(cached_bytes)} of {_mb(sum(d.size for d in DATASETS))})."
    if n_cached < len(DATASETS):
        summary += " Fetch the rest: gener data fetch" + (f" --dest {dest}" if dest is not None else "")
    console.print(summary)
