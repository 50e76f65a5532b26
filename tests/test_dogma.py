"""gener dogma on real CDS: U. maydis cytochrome P450 and histone families (tests/data)."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
import torch

from gener.errors import GenerInputError
from gener.tasks import dogma

DATA = Path(__file__).parent / "data"
FAMILIES = DATA / "umaydis_cds_families.fa"
TINY = dict(num_hidden_layers=1, hidden_size=32, intermediate_size=64, num_attention_heads=2, num_key_value_heads=1)


@pytest.fixture(scope="module")
def family():
    members, dropped = dogma.read_family(FAMILIES)
    assert dropped == 0 and len(members) == 19
    return members


def _tag(cds, name):
    return f"family={name}" in cds.description


def test_orfs_and_training_text(family):
    for cds in family:
        assert dogma.is_complete_cds(cds.sequence, 1)
        protein = dogma.complete_orf(cds.sequence)
        assert len(protein) * 3 + 3 == len(cds.sequence) and "*" not in protein
        text = dogma.training_text(cds.sequence)
        assert len(text) % 6 == 0 and dogma.complete_orf(text) == protein
    h4 = next(c for c in family if "histone H4" in c.description).sequence
    assert dogma.complete_orf(h4).startswith("MSGRGKGGKG")  # histone H4, as conserved as proteins get
    assert dogma.complete_orf(h4[3:]) is None  # no start codon
    assert dogma.complete_orf(h4[:60]) is None  # no stop codon
    assert dogma.complete_orf(h4[:30] + "TAA" + h4[30:]) == dogma.complete_orf(h4)[:10]
    assert dogma.complete_orf(h4[:30] + "TAA", min_aa=30) is None
    # table 4 (Mycoplasma) reads TGA as tryptophan, table 1 as stop
    assert dogma.complete_orf("ATGTGATGGTAA", 4) == "MWW" and dogma.complete_orf("ATGTGATGGTAA", 1) == "M"


def test_shuffles_keep_what_they_promise(family):
    rng = np.random.default_rng(0)
    for cds in family[:6]:
        s = cds.sequence
        d = dogma.dinucleotide_shuffle(s, rng)
        assert Counter(zip(s, s[1:])) == Counter(zip(d, d[1:])) and (d[0], d[-1]) == (s[0], s[-1]) and d != s
        c = dogma.codon_shuffle(s, rng)
        assert dogma.is_complete_cds(c) and c != s
        assert sorted(dogma.complete_orf(c)) == sorted(dogma.complete_orf(s))


def test_nearest_protein_finds_the_family_member(family):
    proteins = [dogma.complete_orf(c.sequence) for c in family]
    nearest = dogma.NearestProtein(proteins)
    h3 = [i for i, c in enumerate(family) if "histone H3" in c.description]
    assert len(h3) == 2
    index, identity = nearest.nearest(proteins[h3[0]])
    assert index == h3[0] and identity == 1.0
    index, identity = nearest.nearest(proteins[h3[0]], exclude=h3[0])
    assert index == h3[1] and identity > 0.9  # the two histone H3 genes: nearly identical proteins
    rng = np.random.default_rng(1)
    scrambled = "".join(rng.permutation(list(proteins[h3[0]])))
    assert nearest.nearest(scrambled)[1] < 0.35


def test_evaluate_counts_memorised_duplicates_and_incomplete(family):
    proteins = [dogma.complete_orf(c.sequence) for c in family]
    nearest = dogma.NearestProtein(proteins)
    p450 = family[0].sequence
    mutant = p450[:300] + ("A" if p450[300] != "A" else "C") + p450[301:]
    assert dogma.complete_orf(mutant) is not None
    synonymous = p450[:5] + ("C" if p450[5] != "C" else "T") + p450[6:]  # 2nd codon's third base
    assert synonymous != p450 and dogma.complete_orf(synonymous) == dogma.complete_orf(p450)
    generated = [p450, mutant, mutant, p450[3:], "ATG" * 5 + "TAA", synonymous]
    rep = dogma.evaluate_group("generated", generated, family, nearest, min_aa=30)
    assert (rep.sequences, rep.complete_orfs, rep.memorised, rep.duplicates, rep.kept) == (6, 4, 1, 1, 2)
    assert rep.nearest == [family[0].id] * 2 and 0.99 < rep.identities[0] < 1.0 and rep.identities[1] == 1.0
    assert rep.same_protein == 1
    assert rep.complete_fraction == round(4 / 6, 4)


def test_compare_generated_against_controls(family):
    # stand-in "generations": natural P450s with 10% of their codons replaced by random sense
    # codons (what a good model might make), plus one that stops early
    rng = np.random.default_rng(2)
    sense = [a + b + c for a in "ACGT" for b in "ACGT" for c in "ACGT" if a + b + c not in ("TAA", "TAG", "TGA")]
    generated = []
    for cds in family:
        if _tag(cds, "p450"):
            codons = [cds.sequence[i:i + 3] for i in range(0, len(cds.sequence), 3)]
            for i in rng.choice(np.arange(1, len(codons) - 1), len(codons) // 10, replace=False):
                codons[i] = sense[rng.integers(len(sense))]
            generated.append("".join(codons))
    generated.append(generated[0][:300] + "TAA")
    result = dogma.compare(family, generated, seed=0)
    groups = result["groups"]
    assert set(groups) == {"generated", "codon_shuffled", "dinucleotide_shuffled", "natural"}
    assert groups["codon_shuffled"].complete_fraction == 1.0
    assert groups["dinucleotide_shuffled"].complete_fraction < 0.3  # random-like DNA hits a stop early
    assert groups["codon_shuffled"].identity["max"] < 0.4  # composition alone is not homology
    gen = groups["generated"]
    assert (gen.sequences, gen.complete_orfs, gen.kept) == (13, 13, 13)
    assert gen.identity["median"] > 0.8 > 0.4 > groups["codon_shuffled"].identity["median"]
    assert min(gen.protein_lengths) == 100  # the early stop: 100 codons, then TAA
    assert result["tests"]["generated_vs_codon_shuffled"]["p_value"] < 0.01
    assert groups["natural"].kept == 19  # every natural protein against the others (leave-one-out)


def test_build_family_from_genbank():
    members = dogma.build_family(include=r"threonine", source=str(DATA / "ecoli_k12_slices.gbk"), table=11)
    assert {m.id for m in members} >= {"b0002", "b0003", "b0004"}  # thrA, thrB, thrC
    assert all(dogma.is_complete_cds(m.sequence, 11) for m in members)
    with pytest.raises(GenerInputError, match="no complete CDS"):
        dogma.build_family(include=r"no such protein anywhere", source=str(DATA / "ecoli_k12_slices.gbk"))
    with pytest.raises(GenerInputError, match="unknown family"):
        dogma.build_family("kinases", source=str(DATA / "ecoli_k12_slices.gbk"))


def test_run_dogma_end_to_end(tmp_path):
    torch.set_num_threads(1)
    hist = tmp_path / "histones.fa"
    hist.write_text("".join(f">{c.id}\n{c.sequence}\n" for c in dogma.read_family(FAMILIES)[0] if _tag(c, "histone")))
    report = dogma.run_dogma("generator-tiny", str(hist), tmp_path / "out", steps=4, batch_size=4, num_samples=4,
                             max_new_bp=120, model_overrides=TINY, progress=False, log=lambda *_: None)
    out = tmp_path / "out"
    for name in ("family.fa", "generated.fa", "generated.faa", "dogma.json", "dogma.png"):
        assert (out / name).is_file(), name
    assert (out / "model" / "final" / "config.json").is_file()
    saved = json.loads((out / "dogma.json").read_text())
    assert saved["family"]["members"] == 7 and saved["generation"]["samples"] == 4
    assert saved["groups"]["generated"]["sequences"] == 4
    assert saved["groups"]["codon_shuffled"]["complete_fraction"] == 1.0
    assert report["model"]["steps"] == 4
    assert not list(out.glob(".*.tmp"))


def test_controls_use_a_sample_of_the_family(family):
    result = dogma.compare(family, [], seed=3, control_size=5)
    groups = result["groups"]
    assert groups["generated"].sequences == 0 and result["tests"] == {}
    assert groups["codon_shuffled"].sequences == groups["natural"].sequences == 5
    # leave-one-out still holds for a sample: no natural protein is its own nearest
    assert groups["natural"].identity["max"] < 1.0
