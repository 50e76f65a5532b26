"""gener variants on real E. coli CDS SNVs (tests/data/ecoli_snvs.vcf, built by make_fixtures.py)."""

import json
import math
from pathlib import Path

import pytest
import torch
from typer.testing import CliRunner

from gener.cli import app
from gener.errors import GenerInputError
from gener.io import read_genbank
from gener.modeling.perbase import kmer_ids
from gener.tasks.score import score_sequences
from gener.tasks.variants import check_reference, metrics, read_vcf, score_upstream, score_window
from tiny_models import tiny_generator, one_thread  # noqa: F401 (fixture)

pytestmark = pytest.mark.usefixtures("one_thread")

DATA = Path(__file__).parent / "data"
VCF = str(DATA / "ecoli_snvs.vcf")
GBK = str(DATA / "ecoli_k12_slices.gbk")


@pytest.fixture(scope="module")
def genome():
    return {r.id: r.sequence for r in read_genbank(GBK)}


def test_vcf_reading_labels_and_reference(tmp_path, genome):
    variants, skipped = read_vcf(VCF)
    assert len(variants) == 154 and skipped == 0 and sum(v.label for v in variants) == 76
    check_reference(variants, genome)
    text = ("##fileformat=VCFv4.2\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n"
            "c1\t5\t.\tA\tG,T\t.\t.\tCLNSIG=Pathogenic\nc1\t9\t.\tAC\tA\t.\t.\t.\nc1\t12\t.\tG\t<DEL>\t.\t.\tLABEL=0\n")
    (tmp_path / "m.vcf").write_text(text)
    multi, skipped = read_vcf(tmp_path / "m.vcf", label_key="CLNSIG")
    assert [(v.alt, v.label) for v in multi] == [("G", 1), ("T", 1)] and skipped == 2
    with pytest.raises(GenerInputError, match="c1:5: REF A but the reference has C"):
        check_reference(multi, {"c1": "CCCCCCCCCCCC"})
    with pytest.raises(GenerInputError, match="chromosome 'c1' is not in the reference"):
        check_reference(multi, {"chr1": "ACGT"})


def test_scores_match_their_definitions(genome):
    model, tok = tiny_generator(init=0.05)
    variants = read_vcf(VCF)[0][2:6]  # positions 225..919: the first two have < 300 bp upstream
    score_upstream(model, tok, variants, genome, context_bp=300, batch_size=3)
    score_window(model, tok, variants, genome, window_bp=120, batch_size=3)
    v = variants[-1]  # 919: 300 bp of upstream context
    seq = genome[v.chrom]
    ctx = seq[v.pos - 1 - 300:v.pos - 1]
    with torch.no_grad():
        logits = model(torch.tensor([[1] + tok.encode_bulk(ctx, add_bos=False).tolist()])).logits[0, -1]
    p = torch.softmax(logits, -1)[kmer_ids(tok)].reshape(4, -1).sum(-1)  # first base A T C G
    assert v.upstream == pytest.approx(math.log(p["ATCG".index(v.ref)]) - math.log(p["ATCG".index(v.alt)]), abs=1e-4)
    start = v.pos - 1 - 60
    ref = seq[start:start + 120]
    alt = ref[:60] + v.alt + ref[61:]
    lls = [s.log_likelihood for s in score_sequences(model, tok, [("r", ref), ("a", alt)])]
    assert v.window == pytest.approx(lls[0] - lls[1], abs=1e-3)
    for x in variants:  # a perfect score gives AUROC 1
        x.upstream = x.label
    assert metrics(variants)["upstream"]["auroc"] == 1.0


def test_cli_variants(tmp_path):
    tiny_generator(tmp_path / "m")
    out = tmp_path / "v.tsv"
    runner = CliRunner()
    args = ["variants", "--vcf", VCF, "--fasta", GBK, "-o", str(out), "--model", str(tmp_path / "m"),
            "--context-bp", "120", "--window-bp", "60", "--batch-size", "32", "--json"]
    r = runner.invoke(app, args)
    assert r.exit_code == 0, r.output
    summary = json.loads(r.stdout[r.stdout.index("{"):])
    assert summary["variants"] == 154 and summary["labelled"] == {"n": 154, "positives": 76}
    assert 0 <= summary["upstream"]["auroc"] <= 1 and 0 <= summary["window"]["auprc"] <= 1
    rows = out.read_text().splitlines()
    assert len(rows) == 155 and rows[0].split("\t")[-2:] == ["upstream_score", "window_score"]
    bad = tmp_path / "bad.vcf"
    bad.write_text(open(VCF).read().replace("\t193\tb0001_non1\tA\t", "\t193\tb0001_non1\tG\t"))
    r = runner.invoke(app, ["variants", "--vcf", str(bad), "--fasta", GBK, "-o", str(tmp_path / "x.tsv"),
                            "--model", str(tmp_path / "m")])
    assert r.exit_code == 2 and "REF G but the reference has A" in r.output and not (tmp_path / "x.tsv").exists()
