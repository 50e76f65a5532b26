"""gener annotate: ORF-constrained decoding (on oracle probabilities of real genome slices),
window stitching with a tiny random model, the Annotator and the CLI end to end."""

from __future__ import annotations

import gzip
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
import torch
from Bio.Seq import Seq
from typer.testing import CliRunner

from gener.cli import app
from gener.errors import GenerInputError
from gener.io import read_fasta, read_genbank, read_gff3
from gener.modeling.presets import build_model
from gener.sequence import reverse_complement
from gener.tasks.annotate import decode as dec
from gener.tasks.annotate.annotator import Annotator, Gene, genes_from_probabilities, read_records
from gener.tasks.annotate.output import to_record, write_genes, write_gff3, write_proteins
from gener.tasks.annotate.inference import predict_proba, predict_proba_many, window_starts
from gener.tasks.annotate.labels import cds_labels, classify_cds
from gener.tokenization import NucleotideTokenizer

DATA = Path(__file__).parent / "data"
ECOLI_GB = DATA / "ecoli_k12_slices.gbk"
MYCO_GB = DATA / "mycoplasma_mycoides_t4.gbk"
CBU_GB = DATA / "coxiella_burnetii_slices.gbk"
PRODIGAL_STARTS = {"ATG", "GTG", "TTG"}


def oracle(record, classes: int = 5, eps: float = 0.1) -> np.ndarray:
    """(2, L, classes) probabilities that put 1 - eps on the reference label."""
    labels = cds_labels(record, training=False).astype(np.int64)
    if classes == 4:
        labels[labels == 4] = 1
    elif classes == 2:
        labels = (labels > 0).astype(np.int64)
    probs = np.full(labels.shape + (classes,), eps / classes, dtype=np.float32)
    np.put_along_axis(probs, labels[..., None], 1 - eps + eps / classes, axis=-1)
    return probs


def stop_of(f) -> tuple[int, int]:
    return (f.end if f.strand == 1 else f.start, f.strand)


def callable_cds(record, table_starts=PRODIGAL_STARTS):
    """Validated CDS an ORF decoder can report at all: one part, a start codon of the set,
    >= 90 bp, not sharing its stop with another validated CDS (one start per stop)."""
    validated, _ = classify_cds(record)
    stops = Counter(stop_of(f) for f in validated)
    return [f for f in validated if len(f.parts) == 1 and not (f.partial_start or f.partial_end)
            and f.extract(record.sequence)[:3] in table_starts and len(f) >= 90 and stops[stop_of(f)] == 1]


def assert_valid_orf(gene: Gene, sequence: str, table: int, starts=PRODIGAL_STARTS):
    nts = gene.nucleotides
    expected = "".join(sequence[s:e] if gene.strand == 1 else reverse_complement(sequence[s:e]) for s, e in gene.parts)
    assert nts == expected
    assert len(nts) % 3 == 0 and len(nts) >= 60
    protein = str(Seq(nts).translate(table=table))
    if gene.three_prime_partial:
        assert "*" not in protein
    else:
        assert protein.endswith("*") and "*" not in protein[:-1], gene
    if gene.five_prime_partial:
        assert gene.start_type == "Edge"
    else:
        assert nts[:3] in starts and gene.start_type == nts[:3]
    assert gene.translate().startswith("M") or gene.five_prime_partial
    assert "*" not in gene.translate()


def decode_file(path, classes=5, **kw):
    out = []
    for rec in read_genbank(path):
        genes = genes_from_probabilities(rec.id, rec.sequence, oracle(rec, classes), table=rec.transl_table, **kw)
        out.append((rec, genes))
    return out


# --- decoding on oracle probabilities ----------------------------------------------------

@pytest.mark.parametrize("path,classes", [(ECOLI_GB, 5), (ECOLI_GB, 4), (ECOLI_GB, 2), (MYCO_GB, 5), (CBU_GB, 5)])
def test_oracle_exact_match_of_validated_cds(path, classes):
    hits = total = callable_total = callable_hits = 0
    for rec, genes in decode_file(path, classes):
        called = {(g.start, g.end, g.strand) for g in genes}
        validated, _ = classify_cds(rec)
        total += len(validated)
        hits += sum((f.start, f.end, f.strand) in called for f in validated)
        ok = callable_cds(rec)
        callable_total += len(ok)
        callable_hits += sum((f.start, f.end, f.strand) in called for f in ok)
        for g in genes:
            assert_valid_orf(g, rec.sequence, rec.transl_table)
    assert callable_hits / callable_total >= 0.95
    # what is left out: thrL (66 bp), a CTG start, a stop shared by two CDS, programmed
    # frameshifts (joins), TTA starts of table 4 -- at most a fifth of the genes here
    assert hits / total >= 0.75


def test_table_4_reads_tga_as_tryptophan():
    genes = [g for _, gs in decode_file(MYCO_GB) for g in gs]
    internal_tga = [g for g in genes if any(g.nucleotides[i:i + 3] == "TGA" for i in range(0, len(g) - 3, 3))]
    assert internal_tga, "Mycoplasma genes use TGA for Trp"
    assert all("W" in g.translate() for g in internal_tga)
    # the same sequences decoded with table 11 must stop at those TGAs
    rec = next(read_genbank(MYCO_GB))
    t11 = genes_from_probabilities(rec.id, rec.sequence, oracle(rec), table=11)
    for g in t11:
        assert_valid_orf(g, rec.sequence, 11)


def test_all_table_starts_option():
    rec = list(read_genbank(MYCO_GB))[3]
    genes = genes_from_probabilities(rec.id, rec.sequence, oracle(rec), table=4, start_codons="table")
    starts = {g.start_type for g in genes}
    assert "TTA" in starts  # the RefSeq annotation of M. mycoides uses TTA starts
    for g in genes:
        assert_valid_orf(g, rec.sequence, 4, starts={"TTA", "TTG", "CTG", "ATT", "ATC", "ATA", "ATG", "GTG"})


def test_genes_cut_by_the_contig_edges_are_partial():
    rec = next(read_genbank(ECOLI_GB))
    validated, _ = classify_cds(rec)
    plus = next(f for f in validated if f.strand == 1 and f.start > 1000 and len(f) > 900)
    minus = next(f for f in validated if f.strand == -1 and f.start > plus.end and len(f) > 400)
    a, b = plus.start + 301, minus.end - 200  # inside both genes, not codon-aligned
    seq, probs = rec.sequence[a:b], oracle(rec)[:, a:b]
    genes = genes_from_probabilities("cut", seq, probs)
    first, last = genes[0], genes[-1]
    assert (first.start, first.end, first.strand, first.partial) == (plus.start + 303 - a, plus.end - a, 1, "10")
    assert first.start_type == "Edge" and first.start in (0, 1, 2)
    assert (last.start, last.strand, last.partial) == (minus.start - a, -1, "01")
    assert last.end > len(seq) - 3 and last.start_type == "Edge"
    assert all(g.partial == "00" for g in genes[1:-1])
    for g in genes:
        assert_valid_orf(g, seq, 11)
    assert genes[0].translate() == str(Seq(plus.extract(rec.sequence)).translate(table=11))[101:-1]
    # closed ends (Prodigal -c): no partial genes
    closed = genes_from_probabilities("cut", seq, probs, closed=True)
    assert all(g.partial == "00" for g in closed)
    assert {(g.start, g.end) for g in genes[1:-1]} <= {(g.start, g.end) for g in closed}
    assert all(g.start_type != "Edge" for g in closed)


def test_a_gap_of_ns_makes_partial_genes_and_a_single_n_does_not_split():
    rec = next(read_genbank(ECOLI_GB))
    validated, _ = classify_cds(rec)
    gene = next(f for f in validated if f.strand == 1 and len(f) > 1500)
    probs = oracle(rec)
    mid = gene.start + 600
    gapped = rec.sequence[:mid] + "N" * 100 + rec.sequence[mid + 100:]
    genes = genes_from_probabilities("gap", gapped, probs)
    left = next(g for g in genes if g.start == gene.start)
    right = next(g for g in genes if g.end == gene.end)
    assert (left.end, left.partial, right.start, right.partial, right.start_type) == (mid, "01", mid + 102, "10", "Edge")
    assert left.end <= mid and right.start >= mid + 100
    one_n = rec.sequence[:mid] + "N" + rec.sequence[mid + 1:]
    genes = genes_from_probabilities("n", one_n, probs)
    g = next(g for g in genes if g.start == gene.start)
    assert (g.end, g.partial) == (gene.end, "00") and "X" in g.translate()
    # IUPAC codes and lowercase go through too
    iupac = rec.sequence[:mid] + "RYKMSW" + rec.sequence[mid + 6:]
    assert any(g.start == gene.start for g in genes_from_probabilities("iupac", iupac, probs))


def test_circular_sequence_gene_across_the_origin():
    rec = next(read_genbank(ECOLI_GB))
    validated, _ = classify_cds(rec)
    gene = next(f for f in validated if f.strand == -1 and len(f) > 600)
    shift = gene.start + 300  # the origin falls inside the gene
    seq = rec.sequence[shift:] + rec.sequence[:shift]
    probs = np.roll(oracle(rec), -shift, axis=1)
    linear = genes_from_probabilities("lin", seq, probs)
    assert linear[0].partial == "10" and linear[-1].partial == "01"
    genes = genes_from_probabilities("circ", seq, probs, circular=True)
    assert all(g.partial == "00" for g in genes)
    across = [g for g in genes if len(g.parts) == 2]
    assert len(across) == 1
    g = across[0]
    length = len(seq)
    assert g.strand == -1 and g.parts == [(0, gene.end - shift), (gene.start - shift + length, length)]
    assert g.nucleotides == gene.extract(rec.sequence)
    assert_valid_orf(g, seq, 11)
    others = {(h.start + shift) % length for h in genes if h is not g}
    assert {f.start for f in callable_cds(rec) if f is not gene} <= others | {f.start for f in validated if f is gene}


def _scan_orfs(seq: str, strand: int, min_len: int = 300):
    """(start, end) genome coordinates of ATG...stop ORFs >= min_len on one strand."""
    s = seq if strand == 1 else reverse_complement(seq)
    out = []
    for frame in range(3):
        protein = str(Seq(s[frame:len(s) - (len(s) - frame) % 3]).translate(table=11))
        pos = 0
        for chunk in protein.split("*"):
            m = chunk.find("M")
            if m >= 0 and pos + len(chunk) < len(protein) and 3 * (len(chunk) - m + 1) >= min_len:
                a, e = frame + 3 * (pos + m), frame + 3 * (pos + len(chunk) + 1)
                out.append((a, e) if strand == 1 else (len(s) - e, len(s) - a))
            pos += len(chunk) + 1
    return out


def _paint(probs, gene_start, gene_end, strand, eps=0.1):
    track = probs[0 if strand == 1 else 1]
    n = gene_end - gene_start
    codon = 1 + np.arange(n) % 3
    codon[0] = 4
    labels = codon if strand == 1 else codon[::-1]
    block = np.full((n, 5), eps / 5, dtype=np.float32)
    block[np.arange(n), labels] = 1 - eps + eps / 5
    track[gene_start:gene_end] = block


def test_overlapping_genes_on_opposite_strands_and_in_other_frames_are_separate():
    rng = np.random.default_rng(1)
    seq = "".join(rng.choice(list("ACGT"), 20000, p=[0.1, 0.4, 0.4, 0.1]))  # GC-rich: long ORFs
    plus, minus = _scan_orfs(seq, 1), _scan_orfs(seq, -1)
    def overlap(p, m):
        return min(p[1], m[1]) - max(p[0], m[0])

    # tail to tail (3' ends overlap: the + gene on the left), as in convergent operons
    pair = next((p, m) for p in plus for m in minus if p[0] < m[0] and p[1] < m[1] and 40 <= overlap(p, m) <= 150)
    same = next((p, q) for p in plus for q in plus if p[0] < q[0] and 10 <= p[1] - q[0] <= 40 and (q[0] - p[0]) % 3)
    background = np.zeros((2, len(seq), 5), dtype=np.float32)
    background[..., 0] = 0.9
    background[..., 1:] = 0.025
    for genes, strands in ((pair, (1, -1)), (same, (1, 1))):
        probs = background.copy()
        for (a, e), s in zip(genes, strands):
            _paint(probs, a, e, s)
        called = {(g.start, g.end, g.strand) for g in genes_from_probabilities("syn", seq, probs)}
        assert {(a, e, s) for (a, e), s in zip(genes, strands)} <= called
    # head to head (5' ends overlap: the - gene on the left): Prodigal allows no such overlap
    heads = next((p, m) for p in plus for m in minus if m[0] < p[0] and m[1] < p[1] and 40 <= overlap(p, m) <= 150)
    probs = background.copy()
    for (a, e), s in zip(heads, (1, -1)):
        _paint(probs, a, e, s)
    called = genes_from_probabilities("syn", seq, probs)
    assert any(g.end == heads[0][1] and g.strand == 1 or g.start == heads[1][0] and g.strand == -1 for g in called)
    assert not any(m.start < p.start < m.end for p in called if p.strand == 1 for m in called if m.strand == -1)


def test_best_path_takes_the_best_total_under_prodigals_overlap_rules():
    from gener.tasks.annotate.paths import Spacing, best_path

    def path(genes, length=5000, spacing=None):  # genes: (genome start, genome end, strand, score)
        strand = np.array([0 if g[2] == 1 else 1 for g in genes])
        begin = np.array([g[0] if g[2] == 1 else length - g[1] for g in genes])
        end = np.array([g[1] if g[2] == 1 else length - g[0] for g in genes])
        score = np.array([g[3] for g in genes], dtype=float)
        return sorted(best_path(score, 0.0, strand, begin, end, length, 60, 200, spacing)[0])

    # one long gene (10) or the two genes inside it (6 + 6): the two, which greedy would miss
    assert path([(0, 1000, 1, 10.0), (0, 480, 1, 6.0), (520, 1000, 1, 6.0)]) == [1, 2]
    # 3' ends of opposite-strand genes may overlap by 100 bp (tail to tail) ...
    assert path([(0, 600, 1, 5.0), (500, 1200, -1, 5.0)]) == [0, 1]
    # ... their 5' ends may not (head to head), nor may same-strand genes by more than 60 bp
    assert path([(0, 600, -1, 5.0), (500, 1200, 1, 4.0)]) == [0]
    assert path([(0, 600, 1, 5.0), (500, 1200, 1, 4.0)]) == [0]
    assert path([(0, 600, 1, 5.0), (550, 1200, 1, 4.0)]) == [0, 1]
    # Prodigal's gene spacing: a weaker gene 20 bp after a gene of its strand (an operon) beats
    # a stronger one on the other strand, which it does not without the spacing term
    genes = [(0, 600, 1, 5.0), (620, 1200, 1, 1.0), (620, 1200, -1, 1.2)]
    assert path(genes) == [0, 2]
    assert path(genes, spacing=Spacing(0.65, np.zeros(3))) == [0, 1]


def test_gene_spacing_follows_prodigal():
    from gener.tasks.annotate.paths import Spacing

    spacing = Spacing(0.65, np.array([0.0, 2.0]))
    assert spacing.term(0, 600, 1, 700, False, True) == -0.65  # opposite strands
    assert spacing.term(0, 600, 1, 800, True, True) == -0.65  # 203 bp from stop to start: far
    assert spacing.term(0, 600, 1, 700, True, True) == 0.0  # 103 bp: neither
    assert spacing.term(0, 600, 1, 617, True, True) == pytest.approx((2 - 20 / 60) * 0.65)  # close
    assert spacing.term(0, 600, 1, 577, True, True) == 0.0  # overlapping by 23 bp: no bonus
    # ATGA: the start codon overlaps the stop by 4 bp; the downstream gene's negative RBS and
    # upstream scores (here 2.0 of them, candidate 1 on the + strand) are forgiven
    assert spacing.term(0, 600, 1, 596, True, True) == pytest.approx(2.0 + (2 - 1 / 60) * 0.65)
    # on the - strand the downstream gene is the left one (candidate 0)
    assert spacing.term(0, 600, 1, 596, True, False) == pytest.approx((2 - 1 / 60) * 0.65)


def test_noisy_probabilities_still_give_valid_orfs_only():
    rec = next(read_genbank(ECOLI_GB))
    rng = np.random.default_rng(0)
    for classes in (2, 5):
        noise = rng.dirichlet(np.ones(classes) * 0.3, size=(2, len(rec.sequence))).astype(np.float32)
        noise[..., 0] *= 0.3  # noise leaning to "coding": many candidates, many overlaps
        noise /= noise.sum(-1, keepdims=True)
        probs = 0.5 * oracle(rec, classes) + 0.5 * noise
        genes = genes_from_probabilities(rec.id, rec.sequence, probs)
        assert len(genes) >= 10
        for g in genes:
            assert_valid_orf(g, rec.sequence, 11)
        for strand, limit in ((1, 60), (-1, 60), (0, 200)):  # overlap limits hold, no gene inside another
            iv = sorted((g.start, g.end, g.strand) for g in genes)
            for i, a in enumerate(iv):
                for b in iv[i + 1:]:
                    if b[0] >= a[1] or (strand and not a[2] == b[2] == strand) or (not strand and a[2] == b[2]):
                        continue
                    assert min(a[1], b[1]) - b[0] <= limit and b[1] > a[1], (a, b)
        ids = [g.id for g in genes]
        assert ids == [f"{rec.id}_{i}" for i in range(1, len(genes) + 1)]
        assert all(0 < g.confidence <= 100 and np.isfinite(g.score) for g in genes)


def test_decoder_edge_cases():
    probs = lambda n, c=5: np.full((2, n, c), 1 / c, dtype=np.float32)  # noqa: E731
    assert dec.decode("", probs(0)) == []
    assert dec.decode("ATG", probs(3)) == []
    with pytest.raises(ValueError):
        dec.decode("ACGT", probs(5))
    with pytest.raises(ValueError):
        dec.decode("ACGT", probs(4, 3))
    with pytest.raises(GenerInputError, match="translation table"):
        dec.decode("ACGT", probs(4), table=99)
    # one long ORF without start or stop on a 2-class "all coding" track: partial=11
    seq = "GCC" * 40 + "G"
    p = np.zeros((2, len(seq), 2), dtype=np.float32)
    p[0, :, 1], p[0, :, 0], p[1, :, 0], p[1, :, 1] = 0.9, 0.1, 0.9, 0.1
    calls = dec.decode(seq, p)
    assert [(c.start, c.end, c.strand, c.partial_start, c.partial_end, c.start_type) for c in calls] == [
        (0, 120, 1, True, True, "Edge")]


# --- inference ---------------------------------------------------------------------------

@pytest.fixture(scope="module")
def tiny_model():
    torch.manual_seed(0)
    return build_model("generanno-tiny", "token-classification", num_labels=5, num_hidden_layers=1).eval()


@pytest.fixture(scope="module")
def tiny_dir(tmp_path_factory, tiny_model):
    out = tmp_path_factory.mktemp("tiny-annotator")
    tiny_model.save_pretrained(out)
    NucleotideTokenizer().save_pretrained(out)
    return out


@pytest.fixture(scope="module")
def coding_dir(tmp_path_factory):
    """A 2-class model that calls every base coding with P = 0.9 (MLP head, constant output):
    the decoder then reports the longest ORFs, so outputs are not empty."""
    torch.manual_seed(0)
    model = build_model("generanno-tiny", "token-classification", num_labels=2, num_hidden_layers=1,
                        use_mlp_classifier=True).eval()
    with torch.no_grad():
        for head in model.score:
            head[0].weight.zero_()
            head[0].bias.fill_(1.0)
            head[3].weight.zero_()
            head[3].weight[1].fill_(float(np.log(9)) / (model.config.hidden_size * 0.8413447))
    out = tmp_path_factory.mktemp("coding-annotator")
    model.save_pretrained(out)
    NucleotideTokenizer().save_pretrained(out)
    return out


def _window_probs(model, ids):
    with torch.inference_mode():
        logits = model(input_ids=torch.tensor(ids, dtype=torch.long)[None]).logits
    return torch.softmax(logits.float(), -1)[0].permute(1, 0, 2).numpy()


def test_windows_are_stitched_by_averaging(tiny_model):
    rng = np.random.default_rng(0)
    seq = "".join(rng.choice(list("ACGT"), 1500))
    starts = window_starts(len(seq), 512, 128)
    assert starts.tolist() == [0, 384, 768, 988]  # the last window is aligned to the end
    probs = predict_proba(tiny_model, seq, window=512, overlap=128, batch_size=3, precision="fp32")
    assert probs.shape == (2, 1500, 5) and probs.dtype == np.float32
    ids = NucleotideTokenizer().encode_bulk(seq, add_bos=False, add_eos=False)
    total, count = np.zeros((2, 1500, 5)), np.zeros(1500)
    for s in starts:
        total[:, s:s + 512] += _window_probs(tiny_model, ids[s:s + 512])
        count[s:s + 512] += 1
    np.testing.assert_allclose(probs, total / count[None, :, None], atol=1e-5)
    taper = predict_proba(tiny_model, seq, window=512, overlap=128, weighting="taper", precision="fp32")
    np.testing.assert_allclose(taper.sum(-1), 1, atol=1e-5)
    np.testing.assert_allclose(taper[:, :384], probs[:, :384], atol=1e-5)  # one window there
    assert np.abs(taper - probs).max() > 1e-4
    # bf16 (the default on CPUs with bf16 units, and asked for here) stays close to fp32
    fast = predict_proba(tiny_model, seq, window=512, overlap=128, batch_size=3, precision="bf16")
    assert np.abs(fast - probs).max() < 0.05
    assert next(tiny_model.parameters()).dtype == torch.float32  # bf16 runs a copy: the model is left as it was



def test_windowed_attention_is_sdpa_arithmetic(tiny_model, monkeypatch):
    """The CPU attention of bf16 runs without AMX (gener.modeling.cpu_attention) computes what
    SDPA does: same probabilities in fp32 on a real genome slice, padded batches (a short
    contig next to full windows) included, and the caller's model keeps SDPA."""
    from gener.io import read_fasta
    from gener.tasks.annotate import inference
    from gener.tasks.annotate.inference import model_for

    genome = next(iter(read_fasta(DATA / "ecoli_k12_60kb.fa"))).sequence
    seqs = [genome[:3000], genome[10000:10300]]
    plain = predict_proba_many(tiny_model, seqs, window=512, overlap=0, precision="fp32", attention="sdpa")
    windowed = predict_proba_many(tiny_model, seqs, window=512, overlap=0, precision="fp32", attention="windows")
    for a, b in zip(plain, windowed):
        np.testing.assert_allclose(a, b, atol=1e-5)
    monkeypatch.setattr(inference, "cpu_has_amx", lambda: False)
    fast = model_for(tiny_model, "bf16")  # bf16 on a CPU without AMX: windowed attention by default
    assert fast.config._attn_implementation == "gener_cpu_windows"
    monkeypatch.setattr(inference, "cpu_has_amx", lambda: True)  # AMX runs SDPA's own kernel faster
    assert model_for(tiny_model, "bf16").config._attn_implementation == "sdpa"
    assert tiny_model.config._attn_implementation == "sdpa" and model_for(tiny_model, "fp32") is tiny_model
    with pytest.raises(GenerInputError, match="attention"):
        model_for(tiny_model, "fp32", "flash")

def test_short_and_many_contigs_and_ambiguous_bases(tiny_model):
    rng = np.random.default_rng(1)
    seqs = ["".join(rng.choice(list("ACGT"), n)) for n in (700, 200, 37)]
    seqs.append("NNNNNNNNNNACGTRYKMSWBDHVN" * 8)
    many = predict_proba_many(tiny_model, seqs, window=256, overlap=64, batch_size=4, precision="fp32")
    assert [p.shape for p in many] == [(2, len(s), 5) for s in seqs]
    for seq, p in zip(seqs, many):
        alone = predict_proba(tiny_model, seq, window=256, overlap=64, batch_size=1, precision="fp32")
        np.testing.assert_allclose(p, alone, atol=1e-5)  # padding and batching change nothing
    short = predict_proba(tiny_model, seqs[1], window=512, precision="fp32")
    ids = NucleotideTokenizer().encode_bulk(seqs[1], add_bos=False, add_eos=False)
    np.testing.assert_allclose(short, _window_probs(tiny_model, ids), atol=1e-5)
    circ = predict_proba(tiny_model, seqs[0], window=256, overlap=64, circular=True)
    assert circ.shape == (2, 700, 5)
    with pytest.raises(GenerInputError, match="overlap"):
        predict_proba(tiny_model, seqs[0], window=256, overlap=256)
    seen = Counter()
    predict_proba_many(tiny_model, seqs, window=256, overlap=64, progress=lambda i, n: seen.update({i: n}))
    assert seen == {i: len(s) for i, s in enumerate(seqs)}


# --- Annotator and writers ---------------------------------------------------------------

def test_annotator_api(tiny_dir, coding_dir, tmp_path):
    tiny = Annotator(str(tiny_dir), window=256)
    assert tiny.num_labels == 5 and tiny.overlap == 128
    assert isinstance(tiny.annotate("acgtnnACGT" * 30, id="x"), list)
    coding = Annotator(coding_dir, window=256, table=4)
    rec = list(read_genbank(MYCO_GB))[1]
    genes = coding.annotate(rec.sequence, id=rec.id)
    assert genes and all(g.table == 4 for g in genes)
    for g in genes:
        assert_valid_orf(g, rec.sequence, 4)
    with pytest.raises(GenerInputError, match="invalid nucleotide"):
        coding.annotate("ACGT?", id="bad")
    with pytest.raises(GenerInputError, match="translation table"):
        Annotator(coding_dir, table=0)
    base = tmp_path / "base"
    build_model("generanno-tiny", "masked-lm", num_hidden_layers=1).save_pretrained(base)
    with pytest.raises(GenerInputError, match="not a CDS annotator"):
        Annotator(base)


def test_default_model_message_when_not_built():
    from gener.modeling.loading import EMBEDDED_MODELS

    if EMBEDDED_MODELS["gener-annotator-tiny"].available():
        pytest.skip("the embedded annotator is built in this installation")
    with pytest.raises(GenerInputError, match="not built yet"):
        Annotator()


def test_writers_follow_prodigal(tmp_path):
    results = [(rec.id, rec.sequence, genes) for rec, genes in decode_file(ECOLI_GB)]
    write_gff3(tmp_path / "g.gff3", results)
    write_proteins(tmp_path / "p.faa", results)
    write_genes(tmp_path / "n.ffn", results)
    lines = [ln for ln in (tmp_path / "g.gff3").read_text().splitlines() if not ln.startswith("#")]
    first = lines[0].split("\t")
    assert first[1:3] == ["gener", "CDS"] and first[7] == "0"
    keys = [kv.split("=")[0] for kv in first[8].split(";")]
    assert keys[:8] == ["ID", "partial", "start_type", "gc_cont", "conf", "score", "cscore", "sscore"]
    assert keys == list(results[0][2][0].attributes())  # then gener's evidence, as Gene.attributes() has it
    back = {r.id: r for r in read_gff3(tmp_path / "g.gff3")}
    for rid, seq, genes in results:
        feats = back[rid].features
        assert [(f.start, f.end, f.strand, f.id) for f in feats] == [(g.start, g.end, g.strand, g.id) for g in genes]
    proteins = list(read_fasta(tmp_path / "p.faa", dna=False))
    all_genes = [g for _, _, gs in results for g in gs]
    assert [p.id for p in proteins] == [g.id for g in all_genes]
    g, p = all_genes[0], proteins[0]
    strand = 1 if g.strand == 1 else -1
    assert p.description.startswith(f"# {g.start + 1} # {g.end} # {strand} # ID={g.id};partial=00;start_type=")
    assert p.sequence == g.translate() + "*"
    nts = list(read_fasta(tmp_path / "n.ffn"))
    assert [n.sequence for n in nts] == [g.nucleotides for g in all_genes]
    rec = to_record(*results[0])
    assert rec.sequence == results[0][1] and [f.id for f in rec.features] == [g.id for g in results[0][2]]


def test_read_records_topology(tmp_path):
    fa = tmp_path / "t.fa"
    fa.write_text(">a circular=true\nACGT\n>b [topology=circular]\nACGT\n>c linear\nACGT\n")
    assert [r.circular for r in read_records(fa)] == [True, True, False]
    assert [r.circular for r in read_records(fa, topology="linear")] == [False] * 3
    assert [r.circular for r in read_records(ECOLI_GB)] == [False, False, False]
    gb = tmp_path / "c.gbk"
    gb.write_text(ECOLI_GB.read_text().replace(" bp    DNA     linear", " bp    DNA     circular", 1))
    assert [r.circular for r in read_records(gb)][0] in (True,)


# --- CLI -----------------------------------------------------------------------------------

def _slice_fasta(tmp_path, n=3) -> Path:
    recs = list(read_genbank(ECOLI_GB))[:n]
    path = tmp_path / "in.fa.gz"
    with gzip.open(path, "wt") as fh:
        for r in recs:
            fh.write(f">{r.id}\n{r.sequence[:4000].lower()}\n")
        fh.write(">empty\n")
        fh.write(">tiny\nACGTNNNNACGT\n")
    return path


def test_cli_end_to_end(tmp_path, tiny_dir, coding_dir):
    runner = CliRunner()
    src = _slice_fasta(tmp_path)
    for model in (tiny_dir, coding_dir):
        out, faa, ffn = tmp_path / "o.gff3", tmp_path / "o.faa", tmp_path / "o.ffn"
        result = runner.invoke(app, ["annotate", str(src), "-o", str(out), "--proteins", str(faa), "--genes", str(ffn),
                                     "--model", str(model), "--window", "512", "--overlap", "64"])
        assert result.exit_code == 0, result.output
        assert "'empty' has no sequence" in result.output
        regions = [ln.split()[1:] for ln in out.read_text().splitlines() if ln.startswith("##sequence-region")]
        assert regions == [[f"NC_000913.2:{r}", "1", "4000"] for r in ("1-18655", "222833-230881", "3031000-3036128")] + [
            ["tiny", "1", "12"]]
        n_genes = sum(len(r.features) for r in read_gff3(out))
        assert faa.read_text().count(">") == n_genes == ffn.read_text().count(">")
    assert n_genes > 0  # the "all coding" model reports ORFs
    # table 4 and a GenBank input
    result = runner.invoke(app, ["annotate", str(MYCO_GB), "-o", str(tmp_path / "m.gff3"), "--model", str(coding_dir),
                                 "--window", "1024", "--table", "4"])
    assert result.exit_code == 0, result.output
    feats = [f for r in read_gff3(tmp_path / "m.gff3") for f in r.features]
    assert feats and all(f.qualifiers["transl_table"] == ["4"] for f in feats)


def test_cli_bad_input_leaves_no_output(tmp_path, tiny_dir):
    runner = CliRunner()
    bad = tmp_path / "bad.fa"
    bad.write_text(">a\nACGTACGT\n>b\nACGT-ACGT\n")
    out, faa = tmp_path / "o.gff3", tmp_path / "o.faa"
    result = runner.invoke(app, ["annotate", str(bad), "-o", str(out), "--proteins", str(faa), "--model", str(tiny_dir)])
    assert result.exit_code == 2 and "error:" in result.output and "Traceback" not in result.output
    assert not out.exists() and not faa.exists()
    assert list(tmp_path.iterdir()) == [bad]  # no temp files either
    empty = tmp_path / "empty.fa"
    empty.write_text(">a\n\n")
    result = runner.invoke(app, ["annotate", str(empty), "-o", str(out), "--model", str(tiny_dir)])
    assert result.exit_code == 2 and "no sequence" in result.output and not out.exists()
    for args, message in (
        (["--table", "99"], "translation table"),
        (["--overlap", "600", "--window", "512"], "overlap"),
        (["-o", str(tmp_path / "missing" / "o.gff3")], "does not exist"),
        (["--model", str(tmp_path / "nowhere")], "cannot find model"),
    ):
        argv = ["annotate", str(_slice_fasta(tmp_path, 1)), "-o", str(out), "--model", str(tiny_dir), *args]
        result = runner.invoke(app, argv)
        assert result.exit_code == 2 and message in result.output, (args, result.output)
        assert not out.exists()
