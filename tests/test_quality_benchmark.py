"""benchmarks/annotate_quality.py --fragment: a genome cut into contigs keeps every reference
gene that lies inside one contig, at the right place, and drops the genes across a cut."""

import importlib.util
from pathlib import Path

from gener.io import read_genbank

SCRIPT = Path(__file__).parent.parent / "benchmarks" / "annotate_quality.py"
GENOME = Path(__file__).parent / "data" / "mycoplasma_mycoides_t4.gbk"


def _fragment():
    spec = importlib.util.spec_from_file_location("annotate_quality", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.fragment


def test_fragment_keeps_the_genes_inside_contigs():
    records = list(read_genbank(GENOME))
    pieces = _fragment()(records, 5000)
    # 12577 bp -> 3 contigs, 1547 -> 1, 2059 -> 1, 10359 -> 3, the last piece of each shorter
    assert [len(p.sequence) for p in pieces] == [5000, 5000, 2577, 1547, 2059, 5000, 5000, 359]
    assert pieces[0].id == f"{records[0].id}_1" and pieces[2].id == f"{records[0].id}_3"
    assert all(not p.circular and p.transl_table == 4 for p in pieces)
    originals = {f.extract(r.sequence) for r in records for f in r.features if f.type == "CDS"}
    kept = [(p, f) for p in pieces for f in p.features if f.type == "CDS"]
    assert kept and all(f.extract(p.sequence) in originals for p, f in kept)
    assert all(0 <= f.start < f.end <= len(p.sequence) for p, f in kept)
    # genes across a cut are gone: fewer CDS than the uncut genome, none of them straddling
    total = sum(f.type == "CDS" for r in records for f in r.features)
    assert len(kept) < total
    cut = [f for f in records[0].features if f.type == "CDS" and f.start < 5000 < f.end]
    assert cut, "the fixture should have a gene across the first cut"
    assert not any(f.extract(p.sequence) == cut[0].extract(records[0].sequence) for p, f in kept)
