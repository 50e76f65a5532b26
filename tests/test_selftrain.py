"""Per-genome statistics (selftrain.py) and their use in the ORF decoder, on real E. coli sequence."""

import warnings
from pathlib import Path

import numpy as np
import pytest
import pyrodigal

from gener.errors import GenerInputError
from gener.io import read_fasta
from gener.sequence import reverse_complement
from gener.tasks.annotate.annotator import genes_from_probabilities
from gener.tasks.annotate.decode import Weights, prodigal_confidence
from gener.tasks.annotate.selftrain import GenomeStatistics, choose_mode

DATA = Path(__file__).parent / "data"


@pytest.fixture(scope="module")
def ecoli():
    return next(iter(read_fasta(DATA / "ecoli_k12_60kb.fa"))).sequence


@pytest.fixture(scope="module")
def statistics(ecoli):
    return GenomeStatistics([ecoli], mode="single")


def test_mode_follows_prodigals_size_rule(ecoli):
    assert choose_mode("auto", [ecoli]) == "single"
    assert choose_mode("auto", [ecoli[:15_000]]) == "meta"
    assert choose_mode("meta", [ecoli]) == "meta"
    with pytest.raises(GenerInputError, match="mode"):
        choose_mode("sinlge", [ecoli])


def test_start_scores_sit_on_start_codons_of_both_strands(ecoli, statistics):
    scores = statistics.start_scores(ecoli)
    plus, minus = scores.positions
    assert len(plus) > 1000 and len(minus) > 1000
    starts = {"ATG", "GTG", "TTG"}
    on_plus = np.mean([ecoli[p : p + 3] in starts for p in plus])
    on_minus = np.mean([reverse_complement(ecoli[p - 2 : p + 1]) in starts for p in minus])
    assert on_plus > 0.99 and on_minus > 0.99  # the rest: edge starts at the first complete codon
    # the start score is the sum of its parts, for every candidate
    s = scores.scores[0]
    np.testing.assert_allclose(s["start"], s["rbs"] + s["upstream"] + s["start_codon"], atol=1e-9)



def test_single_mode_scores_are_prodigals_before_its_gene_search(ecoli, statistics):
    """Every candidate's scores equal those pyrodigal's find_genes computes, except the start
    score of starts on Prodigal's own chosen path, to which its search adds an operon-spacing
    bonus: gener's statistics must not carry Prodigal's choice of genes."""
    ours = statistics.start_scores(ecoli)
    genes = statistics.finder.find_genes(ecoli)
    chosen = {(g.begin - 1 if g.strand == 1 else g.end - 1, g.strand) for g in genes}
    by_strand = {1: {}, -1: {}}
    for node in genes.nodes:
        if node.type != "Stop":
            by_strand[node.strand][node.index] = node
    differs = 0
    for i, strand in enumerate((1, -1)):
        assert sorted(by_strand[strand]) == ours.positions[i].tolist()
        for pos, coding, start in zip(ours.positions[i], ours.scores[i]["coding"], ours.scores[i]["start"]):
            node = by_strand[strand][int(pos)]
            assert coding == node.cscore
            if start != node.sscore:
                assert (int(pos), strand) in chosen
                differs += 1
    assert differs > 0  # the bonus exists, and only Prodigal's path has it

def test_genome_evidence_alone_reproduces_prodigal(ecoli, statistics):
    finder = pyrodigal.GeneFinder()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # pyrodigal would like 100 kbp to train on
        finder.train(ecoli)
    prodigal = {(g.begin - 1, g.end, g.strand) for g in finder.find_genes(ecoli)}
    zeros = np.zeros((2, len(ecoli), 5), dtype=np.float32)  # no model evidence at all
    genes = genes_from_probabilities("ec", ecoli, zeros, weights=Weights(model=0, coding=1, start=1),
                                     statistics=statistics)
    ours = {(g.start, g.end, g.strand) for g in genes}
    # the same candidates, scores and selection (dynamic programming over the candidates)
    assert len(ours & prodigal) >= 0.9 * len(prodigal)
    assert abs(len(ours) - len(prodigal)) <= 0.1 * len(prodigal)
    gene = genes[len(genes) // 2]
    assert gene.score == pytest.approx(gene.cscore + gene.sscore)
    assert float(gene.attributes()["conf"]) == pytest.approx(prodigal_confidence(gene.score), abs=0.01)
    assert "model_coding" not in gene.evidence  # the model was not consulted


def test_genome_weights_need_statistics(ecoli):
    zeros = np.zeros((2, 3000, 5), dtype=np.float32)
    with pytest.raises(ValueError, match="statistics"):
        genes_from_probabilities("ec", ecoli[:3000], zeros, weights=Weights(model=1, coding=1, start=1))
