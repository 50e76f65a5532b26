"""The annotation evaluation harness: hand-made cases with known answers, Prodigal's GFF,
Prodigal reproduced through the harness, a real-genome self-check and the CLI."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import pytest
from typer.testing import CliRunner

from gener.cli import app
from gener.errors import GenerInputError
from gener.io import AnnotatedRecord, Feature, read_fasta, read_genbank, read_gff3, write_gff3
from gener.tasks.annotate.evaluate import (
    GENE_METRICS,
    METRICS,
    PAPER_METRICS,
    evaluate,
    evaluate_files,
)
from gener.tasks.annotate.labels import cds_labels, classify_cds

DATA = Path(__file__).parent / "data"
MYCO_GB = DATA / "mycoplasma_mycoides_t4.gbk"
PRODIGAL_FNA = DATA / "prodigal_SRR492066.fna.gz"
PRODIGAL_META_GFF = DATA / "prodigal_SRR492066.meta.gff.gz"
PRODIGAL_SINGLE_HEADERS = DATA / "prodigal_SRR492066.single.headers.gz"
L = 1000


def cds(start, end, strand=1, parts=None, **kw):
    return Feature("CDS", start, end, strand, parts=list(parts or []), **kw)


def record(features, rid="r1", length=L):
    return AnnotatedRecord(rid, "", "A" * length, list(features))


# Reference: A (+ 100..400), B (- 500..800), C (+ 850..950): 3 runs, 700 coding cells.
A, B, C = cds(100, 400), cds(500, 800, -1), cds(850, 950)
REF = [record([A, B, C])]


def scores(pred, ref=REF):
    return evaluate([record(pred)] if isinstance(pred, list) else pred, ref).pooled


def assert_all_one(s, names=METRICS):
    bad = {n: getattr(s, n) for n in names if getattr(s, n) != 1.0}
    assert not bad, bad


def test_perfect_prediction_scores_one_everywhere():
    s = scores([cds(100, 400), cds(500, 800, -1), cds(850, 950)])
    assert_all_one(s)
    assert (s.ref_genes, s.pred_genes, s.ref_runs, s.ref_cells) == (3, 3, 3, 700)


def test_wrong_start_plus_strand():
    s = scores([cds(130, 400), cds(500, 800, -1), cds(850, 950)])  # start codon 30 bp downstream
    assert s.bp_precision == 1.0 and s.bp_sensitivity == pytest.approx(670 / 700)
    assert (s.start_accuracy, s.end_accuracy) == (pytest.approx(2 / 3), 1.0)
    assert s.boundary_accuracy == pytest.approx(2 / 3) and s.exact_match == pytest.approx(2 / 3)
    assert (s.stop_recall, s.stop_precision) == (1.0, 1.0)
    assert s.gene_start_recall == pytest.approx(2 / 3)
    assert s.gene_exact_recall == pytest.approx(2 / 3) and s.gene_exact_precision == pytest.approx(2 / 3)
    assert s.start_given_stop == pytest.approx(2 / 3)


def test_wrong_start_minus_strand_is_a_right_edge_in_the_paper_metrics():
    # The paper's start/end are run edges in genome coordinates: the start codon of a
    # minus-strand gene is its right edge, so it shows in end_accuracy; the gene-level
    # start metric is biological.
    s = scores([cds(100, 400), cds(500, 770, -1), cds(850, 950)])
    assert (s.start_accuracy, s.end_accuracy) == (1.0, pytest.approx(2 / 3))
    assert s.stop_recall == 1.0 and s.gene_start_recall == pytest.approx(2 / 3)


def test_missed_gene():
    s = scores([cds(100, 400), cds(500, 800, -1)])
    assert s.bp_precision == 1.0 and s.bp_sensitivity == pytest.approx(600 / 700)
    for name in ("start_accuracy", "end_accuracy", "boundary_accuracy", "exact_match",
                 "stop_recall", "gene_exact_recall"):
        assert getattr(s, name) == pytest.approx(2 / 3), name
    for name in ("stop_precision", "gene_exact_precision", "exact_precision"):
        assert getattr(s, name) == 1.0, name


def test_false_positive():
    s = scores([cds(100, 400), cds(500, 800, -1), cds(850, 950), cds(20, 90, -1)])
    assert s.bp_sensitivity == 1.0 and s.bp_precision == pytest.approx(700 / 770)
    assert_all_one(s, PAPER_METRICS[1:] + ("stop_recall", "gene_exact_recall"))
    for name in ("stop_precision", "gene_exact_precision", "exact_precision", "start_precision"):
        assert getattr(s, name) == pytest.approx(3 / 4), name


def test_opposite_strand_is_not_a_true_positive():
    ref = [record([cds(100, 400)])]
    s = scores([cds(100, 400, -1)], ref)
    assert (s.tp_cells, s.bp_precision, s.bp_sensitivity) == (0, 0.0, 0.0)
    assert (s.exact_match, s.stop_recall, s.gene_exact_recall) == (0.0, 0.0, 0.0)


def test_opposite_strand_overlap_scored_per_strand():
    ref = [record([cds(100, 400), cds(300, 600, -1)])]  # 100 bases code on both strands
    assert_all_one(scores([cds(100, 400), cds(300, 600, -1)], ref))
    s = scores([cds(100, 400)], ref)
    assert s.ref_cells == 600 and s.bp_sensitivity == pytest.approx(0.5) and s.bp_precision == 1.0
    assert s.exact_match == pytest.approx(0.5) and s.stop_recall == pytest.approx(0.5)


def test_hole_inside_gene_keeps_boundary_not_exact():
    s = scores([cds(100, 200), cds(250, 400), cds(500, 800, -1), cds(850, 950)])
    assert s.start_accuracy == s.end_accuracy == s.boundary_accuracy == 1.0
    assert s.exact_match == pytest.approx(2 / 3)
    assert s.boundary_precision == pytest.approx(2 / 4) and s.exact_precision == pytest.approx(2 / 4)


def test_hypothetical_and_pseudo_reference_genes_do_not_count():
    hypo = cds(20, 90, -1, qualifiers={"product": ["hypothetical protein"]})
    pseudo = cds(410, 490, pseudo=True)
    gene = Feature("gene", 960, 990, 1, pseudo=True, qualifiers={"locus_tag": ["X_1"]})
    pseudo_locus = cds(960, 990, qualifiers={"locus_tag": ["X_1"]})  # CDS of a pseudo gene
    ref = [record([A, B, C, hypo, pseudo, gene, pseudo_locus])]
    assert len(classify_cds(ref[0])[0]) == 3
    s = scores([cds(100, 400), cds(500, 800, -1), cds(850, 950)], ref)
    assert_all_one(s)
    assert s.ref_genes == 3
    s = scores([cds(100, 400), cds(500, 800, -1), cds(850, 950), cds(20, 90, -1)], ref)
    assert s.stop_recall == 1.0 and s.stop_precision == pytest.approx(3 / 4)  # counted as non-coding
    # a prediction the predictor itself flags pseudo is not a coding claim
    assert_all_one(scores([cds(100, 400), cds(500, 800, -1), cds(850, 950), cds(20, 90, pseudo=True)], ref))


def test_partial_ends_at_the_record_edge_match():
    ref = [record([cds(0, 300, partial_start=True), cds(700, L, -1, partial_end=True)])]
    # Prodigal stops edge genes at the last whole codon: begin 2 / end 998, flagged partial
    prodigal = [cds(1, 300, partial_start=True), cds(700, 998, -1, partial_end=True)]
    assert_all_one(scores(prodigal, ref))
    s = scores([cds(1, 300, partial_start=True), cds(700, 998, -1)], ref)  # not flagged: a real end
    assert s.stop_recall == 1.0 and s.gene_exact_recall == pytest.approx(0.5)


def test_joins_count_by_their_ends():
    frameshift = cds(100, 400, parts=[(100, 250), (249, 400)])  # ribosomal slippage, + strand
    minus = cds(500, 800, -1, parts=[(650, 800), (500, 651)])
    ref = [record([frameshift, minus])]
    assert_all_one(scores([cds(100, 400), cds(500, 800, -1)], ref))
    # a gene across the origin of a circular record: its ends, not its envelope
    wrap = cds(0, L, parts=[(900, L), (0, 60)])
    ref = [record([wrap])]
    assert_all_one(scores([cds(0, L, parts=[(900, L), (0, 60)])], ref))
    s = scores([cds(900, L, partial_end=True)], ref)
    assert s.gene_start_recall == 1.0 and s.stop_recall == 0.0


def test_multi_record_pooling_and_missing_predictions():
    refs = [record([A, B, C], "r1"), record([cds(10, 310)], "r2", length=500)]
    report = evaluate([record([cds(100, 400), cds(500, 800, -1), cds(850, 950)], "r1")], refs)
    assert list(report.records) == ["r1", "r2"]
    assert_all_one(report.records["r1"])
    r2 = report.records["r2"]
    assert r2.stop_recall == 0.0 and r2.stop_precision is None and r2.bp_precision is None
    pooled = report.pooled
    assert (pooled.records, pooled.bases, pooled.ref_genes) == (2, 1500, 4)
    assert pooled.stop_recall == pytest.approx(3 / 4) and pooled.stop_precision == 1.0
    # a mapping record id -> features works the same
    same = evaluate({"r1": [cds(100, 400), cds(500, 800, -1), cds(850, 950)]}, refs)
    assert same.to_dict() == report.to_dict()
    # bare features: only for a one-record reference
    assert_all_one(evaluate([cds(100, 400), cds(500, 800, -1), cds(850, 950)], REF).pooled)
    with pytest.raises(GenerInputError, match="bare features"):
        evaluate([cds(100, 400)], refs)


def test_bad_predictions_are_errors():
    with pytest.raises(GenerInputError, match="'chr9' is not in the reference"):
        evaluate([record([cds(1, 100)], "chr9")], REF)
    with pytest.raises(GenerInputError, match="outside the reference record"):
        evaluate({"r1": [cds(900, 1200)]}, REF)
    with pytest.raises(GenerInputError, match="two records named"):
        evaluate([], REF + REF)


def test_gff3_reference_without_sequence(tmp_path):
    ref = tmp_path / "ref.gff3"
    write_gff3(ref, REF)  # ##sequence-region gives the length
    pred = tmp_path / "pred.gff3"
    write_gff3(pred, [record([cds(100, 400), cds(500, 800, -1)])])
    s = evaluate_files(pred, ref).pooled
    assert s.bases == L and s.stop_recall == pytest.approx(2 / 3) and s.stop_precision == 1.0


# --- Prodigal ---------------------------------------------------------------------


def test_prodigal_gff_parsing():
    (rec,) = read_gff3(PRODIGAL_META_GFF)
    assert rec.id == "NODE_23_length_79939_cov_26.984653"
    cds_features = [f for f in rec.features if f.type == "CDS"]
    assert len(cds_features) == 70
    first = cds_features[0]  # ... CDS 1 177 8.4 - 0 ID=1_1;partial=10;start_type=ATG;...
    assert (first.start, first.end, first.strand) == (0, 177, -1)
    assert (first.partial_start, first.partial_end) == (True, False)
    assert first.source == "Prodigal_v2.6.3" and first.score == 8.4
    assert first.qualifiers["start_type"] == ["ATG"]


def _prodigal_keys(records):
    from gener.tasks.annotate.prodigal import gene_key

    return sorted((r.id, gene_key(f)) for r in records for f in r.features if f.type == "CDS")


def test_pyrodigal_write_gff_parses_to_the_same_genes(tmp_path):
    pyrodigal = pytest.importorskip("pyrodigal")
    from gener.tasks.annotate.prodigal import prodigal_annotate

    (genome,) = read_fasta(PRODIGAL_FNA)
    genes = pyrodigal.GeneFinder(meta=True).find_genes(genome.sequence)
    gff = tmp_path / "pyrodigal.gff"
    with open(gff, "w") as fh:
        genes.write_gff(fh, genome.id)
    assert _prodigal_keys(read_gff3(gff)) == _prodigal_keys(prodigal_annotate([genome], mode="meta"))


@pytest.mark.parametrize("mode", ["meta", "single"])
def test_harness_reproduces_prodigal(mode, tmp_path):
    """pyrodigal through the harness (run, write_gff3, read back) gives Prodigal 2.6.3's genes."""
    pytest.importorskip("pyrodigal")
    from gener.tasks.annotate.prodigal import prodigal_annotate, read_gene_fasta_headers

    genome = list(read_fasta(PRODIGAL_FNA))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # single mode: "sequence should be at least 100000 characters"
        ours = prodigal_annotate(genome, mode=mode)
    out = tmp_path / f"ours.{mode}.gff3"
    write_gff3(out, ours)
    ours_back = list(read_gff3(out))
    if mode == "meta":
        theirs = list(read_gff3(PRODIGAL_META_GFF))
    else:
        theirs = [AnnotatedRecord(sid, "", "", feats) for sid, feats in
                  read_gene_fasta_headers(PRODIGAL_SINGLE_HEADERS).items()]
    assert len(_prodigal_keys(theirs)) == {"meta": 70, "single": 76}[mode]
    assert _prodigal_keys(ours_back) == _prodigal_keys(theirs)
    sequences = {g.id: g.sequence for g in genome}
    report = evaluate(ours_back, [AnnotatedRecord(r.id, "", sequences[r.id], r.features) for r in theirs])
    assert report.pooled.bases == 79939
    assert_all_one(report.pooled)


def test_prodigal_against_itself_is_one_everywhere():
    report = evaluate_files(PRODIGAL_META_GFF, PRODIGAL_META_GFF)
    assert report.pooled.ref_genes == 70
    assert_all_one(report.pooled)
    report = evaluate_files(PRODIGAL_META_GFF, PRODIGAL_META_GFF, ref_fasta=PRODIGAL_FNA)
    assert report.pooled.bases == 79939
    assert_all_one(report.pooled)


# --- real genome ---------------------------------------------------------------------


def _validated_gff(tmp_path, gbk):
    refs = list(read_genbank(gbk))
    out = tmp_path / "validated.gff3"
    write_gff3(out, [AnnotatedRecord(r.id, r.description, r.sequence, classify_cds(r)[0]) for r in refs])
    return refs, out


def test_real_genome_validated_cds_score_one(tmp_path):
    refs, gff = _validated_gff(tmp_path, MYCO_GB)  # table 4, frameshift joins on both strands, partials
    report = evaluate_files(gff, MYCO_GB)
    assert len(report.records) == len(refs) == 4
    assert_all_one(report.pooled)
    for rid, s in report.records.items():
        if s.ref_genes:
            assert_all_one(s)
    # the mask view is the labels' evaluation view (validated CDS coding, the rest not)
    expected = sum(int((cds_labels(r, training=False) > 0).sum()) for r in refs)
    assert report.pooled.ref_cells == expected
    # and the whole annotation, unvalidated CDS included, is penalised only in precision
    full = evaluate_files(MYCO_GB, MYCO_GB).pooled
    assert full.stop_recall == 1.0 and full.stop_precision < 1.0


def test_cli_json(tmp_path):
    _, gff = _validated_gff(tmp_path, MYCO_GB)
    runner = CliRunner()
    res = runner.invoke(app, ["evaluate-annotation", "--pred", str(gff), "--ref", str(MYCO_GB), "--json",
                              "--per-record"])
    assert res.exit_code == 0, res.output
    data = json.loads(res.stdout)
    assert set(data["pooled"]["metrics"]) == set(METRICS)
    assert all(data["pooled"]["metrics"][m] == 1.0 for m in PAPER_METRICS + GENE_METRICS)
    assert len(data["records"]) == 4
    res = runner.invoke(app, ["evaluate-annotation", "--pred", str(gff), "--ref", str(MYCO_GB)])
    assert res.exit_code == 0 and "exact match" in res.stdout and "pooled" in res.stdout
    res = runner.invoke(app, ["evaluate-annotation", "--pred", str(PRODIGAL_META_GFF), "--ref", str(MYCO_GB)])
    assert res.exit_code == 2 and "not in the reference" in res.output
