"""Outputs as a Unix tool writes them: stdout by default for annotate and with ``-o -``,
symlinks written through, FIFOs / /dev/stdout / a shell's ``>(...)`` written directly,
SIGTERM leaving no temp file; Prodigal's formats (GFF3 that a GFF3 library and Bakta's
``--regions`` take, GenBank, SCO); progress and summaries on stderr."""

from __future__ import annotations

import io
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from Bio import SeqIO
from Bio.Seq import Seq
from typer.testing import CliRunner

from gener.cli import app
from gener.io import atomic_write, read_fasta, read_gff3
from gener.io._files import check_output
from gener.progress import Progress, plain_line, trainer_callback

from tiny_models import tiny_generator

DATA = Path(__file__).parent / "data"
FA = DATA / "ecoli_k12_60kb.fa"
GB = DATA / "ecoli_k12_slices.gbk"
GENES = DATA / "yeast_chrII_genes.fa"


@pytest.fixture(scope="module")
def slice_fa(tmp_path_factory):
    """15 kb of E. coli K-12 as two records with the same id (a common assembler slip)."""
    seq = next(read_fasta(FA)).sequence
    path = tmp_path_factory.mktemp("slice") / "ecoli.fa"
    path.write_text(f">contig circular=false\n{seq[:9000]}\n>contig\n{seq[9000:15000]}\n")
    return path


@pytest.fixture(scope="module")
def annotated(slice_fa, tmp_path_factory):
    """One run of each format with the embedded annotator (meta mode, closed ends)."""
    out = tmp_path_factory.mktemp("annotated")
    runner = CliRunner()
    runs = {}
    for fmt in ("gff", "gbk", "sco"):
        argv = ["annotate", "-i", str(slice_fa), "-f", fmt, "-p", "meta", "-c"]
        if fmt == "gff":
            argv += ["-a", str(out / "p.faa"), "-d", str(out / "g.ffn")]
        runs[fmt] = runner.invoke(app, argv)
        assert runs[fmt].exit_code == 0, runs[fmt].output
    return runs, out


# --- atomic_write and destinations ----------------------------------------------------------

def test_symlink_is_written_through(tmp_path):
    target = tmp_path / "target.txt"
    target.write_text("old\n")
    target.chmod(0o640)
    link = tmp_path / "link.txt"
    link.symlink_to(target.name)
    with atomic_write(link) as fh:
        fh.write("new\n")
    assert link.is_symlink() and target.read_text() == "new\n"
    assert oct(target.stat().st_mode & 0o777) == oct(0o640)  # a replaced file keeps its permissions
    assert sorted(p.name for p in tmp_path.iterdir()) == ["link.txt", "target.txt"]


def test_fifo_is_written_directly(tmp_path):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    check_output(fifo)  # no reader yet: still a valid destination, and the check does not block
    got = []
    reader = threading.Thread(target=lambda: got.append(fifo.read_text()))
    reader.start()
    with atomic_write(fifo) as fh:
        fh.write("through the pipe\n")
    reader.join(10)
    assert got == ["through the pipe\n"] and sorted(p.name for p in tmp_path.iterdir()) == ["pipe"]


def test_stdout_and_parquet_on_a_pipe(capfdbinary):
    import pyarrow as pa
    import pyarrow.parquet as pq

    with atomic_write("-", "wb") as fh:  # parquet asks tell(): the stream counts what it wrote
        pq.write_table(pa.table({"a": [1, 2, 3]}), fh)
    data = capfdbinary.readouterr().out
    assert pq.read_table(io.BytesIO(data)).column("a").to_pylist() == [1, 2, 3]


def test_interrupted_write_leaves_nothing(tmp_path):
    out = tmp_path / "out.tsv"
    with pytest.raises(KeyboardInterrupt):
        with atomic_write(out) as fh:
            fh.write("half")
            raise KeyboardInterrupt
    assert list(tmp_path.iterdir()) == []


def test_shell_destinations(tmp_path):
    """/dev/stdout (with >> appending), a shell's >(gzip), a symlink: the real CLI in bash."""
    script = f"""
        set -e
        cd {tmp_path}
        echo first > appended.tsv
        gener data regions {GB} -q -o /dev/stdout | head -c 4 > piped.bin
        gener data family {GB} --match . --table 11 -q -o /dev/stdout >> appended.tsv
        gener data family {GB} --match . --table 11 -q -o >(gzip > family.fa.gz)
        sleep 1
    """
    done = subprocess.run(["bash", "-c", script], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "piped.bin").read_bytes() == b"PAR1"  # parquet, streamed down a pipe
    lines = (tmp_path / "appended.tsv").read_text().splitlines()
    assert lines[0] == "first" and lines[1].startswith(">")
    import gzip

    assert gzip.decompress((tmp_path / "family.fa.gz").read_bytes()).decode().startswith(">")
    assert done.stderr == ""  # -q: nothing but results


def test_sigterm_removes_temp_files(tmp_path, slice_fa):
    """SIGTERM while gener annotate reads stdin (its copy is a temp file): exit 143, nothing left."""
    env = {**os.environ, "TMPDIR": str(tmp_path)}
    proc = subprocess.Popen([sys.executable, "-m", "gener.cli", "annotate", "-o", str(tmp_path / "g.gff")],
                            stdin=subprocess.PIPE, stderr=subprocess.PIPE, env=env, cwd=tmp_path)
    proc.stdin.write(slice_fa.read_bytes()[:4000])
    proc.stdin.flush()
    deadline = time.time() + 120
    while not any(p.name.startswith("gener-stdin-") for p in tmp_path.iterdir()):
        assert time.time() < deadline and proc.poll() is None, proc.stderr.read()
        time.sleep(0.2)
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(60) == 128 + signal.SIGTERM
    proc.stdin.close()
    assert list(tmp_path.iterdir()) == []


# --- annotate: Prodigal's interface and formats ---------------------------------------------

def test_gff3_to_stdout_with_prodigal_headers(annotated):
    runs, out = annotated
    gff = runs["gff"].stdout
    lines = gff.splitlines()
    assert lines[0] == "##gff-version 3"
    assert lines[1] == "##sequence-region contig 1 9000" and lines[2].startswith("# Sequence Data: seqnum=1;seqlen=9000;")
    assert lines[3].startswith("# Model Data: version=gener.v") and "run_type=Metagenomic" in lines[3]
    assert "##sequence-region contig.2 1 6000" in lines  # the repeated id, made unique
    assert "warning: record id 'contig' appears more than once" in runs["gff"].stderr
    assert " genes " in runs["gff"].stderr and "genes" not in gff.split("\n", 1)[0]  # the summary: stderr
    features = [ln.split("\t") for ln in lines if not ln.startswith("#")]
    assert features and all(len(f) == 9 and f[2] == "CDS" for f in features)
    ids = [dict(kv.split("=") for kv in f[8].split(";"))["ID"] for f in features]
    assert len(set(ids)) == len(ids) and any(i.startswith("contig.2_") for i in ids)
    proteins = list(read_fasta(out / "p.faa", dna=False))
    assert [p.id for p in proteins] == ids and len(list(read_fasta(out / "g.ffn"))) == len(ids)


def test_gff3_reads_back_with_gffutils_and_fits_bakta(annotated, slice_fa, tmp_path):
    gffutils = pytest.importorskip("gffutils")
    runs, _ = annotated
    gff = tmp_path / "genes.gff3"
    gff.write_text(runs["gff"].stdout)
    db = gffutils.create_db(str(gff), ":memory:", merge_strategy="error")
    cds = list(db.features_of_type("CDS"))
    ours = [f for r in read_gff3(gff) for f in r.features]
    assert len(cds) == len(ours) > 0 and all(f.id for f in cds)
    # Bakta's --regions: the seqids are the input's, every CDS a complete ORF of table 11 (-c)
    sequences = {"contig": "", "contig.2": ""}
    records = list(read_fasta(slice_fa))
    sequences["contig"], sequences["contig.2"] = records[0].sequence, records[1].sequence
    for f in cds:
        assert f.seqid in sequences
        nt = Seq(sequences[f.seqid][f.start - 1:f.end])
        nt = nt if f.strand == "+" else nt.reverse_complement()
        nt.translate(table=11, cds=True)  # raises unless start codon, stop, no internal stop


def test_genbank_and_sco_match_the_gff3(annotated, tmp_path):
    runs, _ = annotated
    gff_features = [ln.split("\t") for ln in runs["gff"].stdout.splitlines() if not ln.startswith("#")]
    gbk = tmp_path / "genes.gbk"
    gbk.write_text(runs["gbk"].stdout)
    records = list(SeqIO.parse(gbk, "genbank"))
    assert [r.id for r in records] == ["contig", "contig.2"] and len(records[0].seq) == 9000
    locations = [(int(f.location.start) + 1, int(f.location.end), "+" if f.location.strand == 1 else "-")
                 for r in records for f in r.features if f.type == "CDS"]
    assert locations == [(int(f[3]), int(f[4]), f[6]) for f in gff_features]
    note = records[0].features[0].qualifiers["note"][0]
    assert note.startswith("ID=contig_1;partial=00;start_type=")
    sco = [ln for ln in runs["sco"].stdout.splitlines() if ln.startswith(">")]
    assert [tuple(ln[1:].split("_")[1:]) for ln in sco] == [(f[3], f[4], f[6]) for f in gff_features]
    assert runs["sco"].stdout.startswith("# Sequence Data: seqnum=1;seqlen=9000;")


def test_quiet_and_stdin(slice_fa):
    result = CliRunner().invoke(app, ["annotate", "-", "-q", "-p", "meta", "-f", "sco"], input=slice_fa.read_bytes())
    assert result.exit_code == 0 and result.stdout.startswith("# Sequence Data:")
    assert result.stderr.splitlines() == ["warning: record id 'contig' appears more than once; this one is written "
                                          "as 'contig.2'"]  # -q: no progress, no summary; warnings stay


# --- other verbs: -o -, streams, progress -----------------------------------------------------

def test_dash_is_stdout_for_every_file_output(tmp_path):
    import pyarrow.parquet as pq

    model = tmp_path / "gen"
    tiny_generator(model)
    runner = CliRunner()
    result = runner.invoke(app, ["generate", "--prompt", "ATGAAACGC", "--max-new-bp", "12", "--seed", "1",
                                 "--model", str(model), "-o", "-"])
    assert result.exit_code == 0 and result.stdout.startswith(">") and "samples" in result.stderr
    result = runner.invoke(app, ["embed", str(GENES), "--model", str(model), "-o", "-"])
    assert result.exit_code == 0
    assert pq.read_table(io.BytesIO(result.stdout_bytes)).num_rows == 12
    assert "Loading weights" not in result.stderr
    result = runner.invoke(app, ["recover", "--data", str(GENES), "--model", str(model), "-o", "-"])
    assert result.exit_code == 0 and result.stdout.startswith("id\t") and "Sequence recovery" in result.stderr
    assert list(tmp_path.iterdir()) == [model]


def test_progress_off_a_terminal(capsys):
    with Progress("scoring", total=300, unit="bp", interval=0, terminal=False) as bar:
        bar.advance(100)
        bar.advance(200)
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 2 and err[0].startswith("scoring: 100/300 bp (33.3%), ") and "ETA" in err[0]
    assert plain_line("annotating", 1_203_000, 4_641_652, "bp", 56.2).startswith(
        "annotating: 1,203,000/4,641,652 bp (25.9%), 21,406 bp/s, ETA 2m41s")


def test_resumed_training_rate_counts_only_this_run(capsys, monkeypatch):
    """A run resumed at step 500 of 2000 reports its own pace, not 500 steps in 10 s."""
    import gener.progress as progress

    clock = iter([0.0, 1.0, 10.0])
    monkeypatch.setattr(progress.time, "monotonic", lambda: next(clock))

    class State:
        is_world_process_zero, global_step, max_steps = True, 0, 2000

    steps = trainer_callback("training")
    steps.on_train_begin(None, State(), None)
    steps.bar.interval = 0
    for State.global_step in (501, 510):  # the Trainer loads the checkpoint's step after on_train_begin
        steps.on_step_end(None, State(), None)
    line = capsys.readouterr().err.strip().splitlines()[-1]
    assert line.startswith("training: 510/2,000 steps (25.5%), 1.0 steps/s, ETA 24m50s"), line


def test_trainer_logs_are_numbers(capsys):
    class State:
        is_world_process_zero, global_step, max_steps = True, 40, 300

    trainer_callback("training").on_log(None, State(), None, logs={"loss": 1.38629, "learning_rate": 3.9e-4,
                                                                    "grad_norm": 0.52, "epoch": 0.5})
    assert capsys.readouterr().err.strip() == "step 40/300: loss 1.3863, learning_rate 3.900e-04, grad_norm 0.5200, epoch 0.5000"


def test_help_shows_the_entry_points():
    import gener

    text = CliRunner().invoke(app, ["--help"]).stdout
    assert "gener annotate genome.fna > genes.gff3" in text and "gener.load" in text
    assert "gener.load(name_or_path)" in gener.__doc__ and "Annotator" in gener.__doc__


def test_autotokenizer_without_import_gener_names_gener(tmp_path):
    """A saved tokenizer directory read by AutoTokenizer in a process that never imported gener:
    without trust_remote_code the error points at the shim, which names gener; trusted, the
    shim imports gener and the ids are gener's."""
    from gener.tokenization import KmerTokenizer

    KmerTokenizer().save_pretrained(tmp_path)
    assert "pip install gener" in (tmp_path / "gener_tokenizer.py").read_text()
    code = f"""
import sys
from transformers import AutoTokenizer
try:
    AutoTokenizer.from_pretrained({str(tmp_path)!r})
except ValueError as exc:
    print("refused:", "trust_remote_code" in str(exc))
assert "gener" not in sys.modules
tok = AutoTokenizer.from_pretrained({str(tmp_path)!r}, trust_remote_code=True)
print("ids:", tok("ATGAAACGC")["input_ids"])
"""
    env = {**os.environ, "HF_MODULES_CACHE": str(tmp_path / "modules")}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300, env=env,
                          stdin=subprocess.DEVNULL)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "refused: True" in done.stdout
    assert f"ids: {KmerTokenizer()('ATGAAACGC')['input_ids']}" in done.stdout
