"""The embedded default annotator, on a genome it never saw in training.

C. burnetii is a validation genome (docs/data.md): the model was not trained on it.
The thresholds are far below what the model card reports for the whole genome, so this
test fails only if the shipped model or its decoding is broken, not on noise.
"""

from pathlib import Path

import pytest
from Bio.Seq import Seq

from gener.io import read_genbank
from gener.modeling.loading import EMBEDDED_MODELS
from gener.tasks.annotate.annotator import Annotator
from gener.tasks.annotate.output import to_record
from gener.tasks.annotate.evaluate import evaluate

DATA = Path(__file__).parent / "data"


@pytest.fixture(scope="module")
def annotated():
    records = list(read_genbank(DATA / "coxiella_burnetii_slices.gbk"))
    annotator = Annotator()  # no model named: the embedded default
    results = list(annotator.annotate_records(records))
    return records, results


def test_embedded_annotator_ships_with_the_package():
    model = EMBEDDED_MODELS["gener-annotator-tiny"]
    assert model.available()
    assert (model.directory / "README.md").is_file()  # the model card
    size = sum(f.stat().st_size for f in model.directory.iterdir())
    assert size < 20_000_000


def test_embedded_annotator_finds_real_genes(annotated):
    records, results = annotated
    report = evaluate([to_record(*r) for r in results], records)
    assert report.pooled.stop_recall >= 0.8
    assert report.pooled.bp_sensitivity >= 0.8


def test_every_call_is_a_valid_orf(annotated):
    _, results = annotated
    genes = [g for _, _, found in results for g in found]
    assert genes
    for gene in genes:
        if gene.partial != "00":
            continue
        protein = str(Seq(gene.nucleotides).translate(table=11))
        assert len(gene.nucleotides) % 3 == 0
        assert protein.endswith("*") and "*" not in protein[:-1]
        assert gene.nucleotides[:3] in {"ATG", "GTG", "TTG"}
