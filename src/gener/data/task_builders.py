"""Real labelled tasks built from the reference data in the cache (``gener data task NAME``).

Each builder returns a :class:`gener.data.tasks.TaskData` with train / test splits (and
``group`` = the genome or chromosome region of every sequence); ``save_task`` writes it as
``DIR/{train,test}.parquet`` + ``task.json``, which ``gener finetune classify --data DIR``
reads. Splits keep related sequences apart where leakage matters:

- ``gene-type``: CDS / pseudogene / tRNA / rRNA / ncRNA (tmRNA, ncRNA, misc_RNA) /
  intergenic from the RefSeq prokaryotic annotations; **split by genome** (the registry's
  ``train`` genomes vs its ``valid`` genomes, never trained on). Genes read 5'->3'; at most
  ``max_bp`` bases from the 5' end; intergenic = the gaps between genes (+ strand).
  CDS and intergenic are capped at ``per_class`` per genome, rarer classes kept whole.
- ``taxonomy``: ``length``-bp fragments of 11 prokaryotic chromosomes, multi-label over the
  ranks of their lineage (domain, phylum, class, order, genus; scored by F1-max). Each
  chromosome is cut into 20 blocks; every 5th block is test, so no fragment straddles splits;
  the group of a fragment is its genome and block (``ecoli-k12:block3``).
- ``promoter``: Drosophila chr2R core promoters (the ``length`` bp just upstream of each
  RefSeq TSS, from dm3_upstream2000) vs gene-body windows (``length`` bp starting 500 bp
  inside genes of >= 1.5 kb, on the gene's strand); identical sequences kept once; split by
  position on chr2R (TSS beyond 75% of the arm is test).
- ``oct4-mafk``: janggu's Oct4 vs MafK ChIP-seq peaks (200 bp), its own test files; group =
  chromosome.
- ``pum2``: concise's PUM2 eCLIP binding sites (101 nt), its own train / valid / test; group =
  chromosome.
"""

from __future__ import annotations

import csv
import gzip
from collections import defaultdict
from pathlib import Path

import numpy as np

from gener.data.tasks import LabelledSet, TaskData
from gener.errors import GenerInputError

GENE_TYPE_TRAIN = ("ecoli-k12", "bjaponicum", "rdenitrificans", "macetivorans", "mthermautotrophicus",
                   "llongbeachae", "coxiella-endosymbiont")
GENE_TYPE_TEST = ("cburnetii", "mmaripaludis", "tkodakarensis", "mmycoides", "phage-t4")
GENE_CLASSES = ("CDS", "pseudogene", "tRNA", "rRNA", "ncRNA", "intergenic")
_GENE_CLASS = {"protein_coding": "CDS", "pseudogene": "pseudogene", "tRNA": "tRNA", "rRNA": "rRNA",
               "tmRNA": "ncRNA", "ncRNA": "ncRNA", "misc_RNA": "ncRNA"}
TAXONOMY_GENOMES = GENE_TYPE_TRAIN + GENE_TYPE_TEST[:-1]  # the phage's lineage has other ranks


def _records(name: str):
    from gener.data.regions import read_records, resolve_inputs

    for source in resolve_inputs([name]):
        yield from read_records(source)


def _ok(seq: str, min_acgt: float = 0.9) -> bool:
    return bool(seq) and sum(seq.count(b) for b in "ACGT") >= min_acgt * len(seq)


def _gene_type_rows(name: str, max_bp: int, per_class: int, min_intergenic: int, rng) -> list[tuple[str, str]]:
    from gener.data.genes import genbank_genes
    from gener.data.regions import gene_rows

    by_class: dict[str, list[str]] = defaultdict(list)
    for record in _records(name):
        spans = []
        for row in gene_rows(record, genbank_genes(record)):
            spans.append((row["start"], min(row["end"], len(record.sequence))))
            label = _GENE_CLASS.get(row["gene_type"])
            if label and _ok(row["sequence"]):
                by_class[label].append(row["sequence"][:max_bp])
        spans.sort()
        reach = 0
        for start, end in spans:  # gaps between the union of gene spans
            if start - reach >= min_intergenic:
                gap = record.sequence[reach:start]
                if _ok(gap):
                    by_class["intergenic"].append(gap[:max_bp])
            reach = max(reach, end)
    rows = []
    for label, seqs in by_class.items():
        keep = seqs if label not in ("CDS", "intergenic") or len(seqs) <= per_class else \
            [seqs[i] for i in sorted(rng.choice(len(seqs), per_class, replace=False))]
        rows.extend((s, label) for s in keep)
    return rows


def build_gene_type(*, max_bp: int = 2000, per_class: int = 300, min_intergenic: int = 50, seed: int = 0,
                    train=GENE_TYPE_TRAIN, test=GENE_TYPE_TEST) -> TaskData:
    rng = np.random.default_rng(seed)
    splits = {}
    for split, genomes in (("train", train), ("test", test)):
        seqs, labels, groups = [], [], []
        for genome in genomes:
            for seq, label in _gene_type_rows(genome, max_bp, per_class, min_intergenic, rng):
                seqs.append(seq)
                labels.append(GENE_CLASSES.index(label))
                groups.append(genome)
        splits[split] = LabelledSet(seqs, np.asarray(labels, np.int64), np.asarray(groups))
    return TaskData("gene-type", "classification", list(GENE_CLASSES), splits)


def _ranks(taxonomy: list[str]) -> list[str]:
    """domain / phylum / class by position; order by its -ales ending; genus = a last
    element that is a single word and not a family."""
    out = [f"{rank}:{name}" for rank, name in zip(("domain", "phylum", "class"), taxonomy)]
    out += [f"order:{t}" for t in taxonomy[3:] if t.endswith("ales")][:1]
    last = taxonomy[-1] if taxonomy else ""
    if len(taxonomy) > 3 and " " not in last and not last.endswith(("aceae", "ales")):
        out.append(f"genus:{last}")
    return out


def build_taxonomy(*, length: int = 500, per_genome: int = 300, seed: int = 0, genomes=TAXONOMY_GENOMES) -> TaskData:
    rng = np.random.default_rng(seed)
    rows = {"train": [], "test": []}
    for genome in genomes:
        chromosome = max(_records(genome), key=lambda r: len(r.sequence))
        labels = _ranks(chromosome.taxonomy)
        if not labels:
            raise GenerInputError(f"{genome}: the GenBank record has no lineage")
        n = len(chromosome.sequence)
        block = n // 20
        starts = rng.choice(n - length, size=min(per_genome * 3, (n - length) // length), replace=False)
        taken = 0
        for s in sorted(starts):
            b = s // block
            if b >= 20 or (s + length - 1) // block != b:
                continue  # the fragment crosses a block boundary: it could leak across splits
            seq = chromosome.sequence[s:s + length]
            if not _ok(seq, 0.99):
                continue
            rows["test" if b % 5 == 4 else "train"].append((seq, labels, genome, b))
            taken += 1
        if taken < per_genome // 2:
            raise GenerInputError(f"{genome}: only {taken} fragments of {length} bp")
    names = sorted({label for split in rows.values() for _, labels, _, _ in split for label in labels},
                   key=lambda x: (("domain", "phylum", "class", "order", "genus").index(x.split(":")[0]), x))
    index = {n: i for i, n in enumerate(names)}
    splits = {}
    cap = {"train": per_genome * 4 // 5, "test": per_genome // 5}  # per_genome in all, 4:1 as the blocks are
    for split, items in rows.items():
        multi = np.zeros((len(items), len(names)), np.float32)
        for i, (_, labels, _, _) in enumerate(items):
            multi[i, [index[l] for l in labels]] = 1.0
        # group = genome and block: cross-validation folds keep a block whole (neighbouring
        # fragments share composition), yet every genome, so every label, is on both sides
        part = LabelledSet([s for s, _, _, _ in items], multi, np.asarray([f"{g}:block{b}" for _, _, g, b in items]))
        genomes = np.asarray([g for _, _, g, _ in items])
        keep = []
        for g in dict.fromkeys(genomes):
            members = np.flatnonzero(genomes == g)
            keep.extend(sorted(rng.choice(members, min(cap[split], len(members)), replace=False)))
        splits[split] = part.subset(keep)
    return TaskData("taxonomy", "multilabel", names, splits)


def build_promoter(*, length: int = 300, seed: int = 0) -> TaskData:
    from gener.data.fetch import dataset_path
    from gener.io import read_fasta
    from gener.sequence import reverse_complement

    chrom = next(read_fasta(dataset_path("dm-chr2R"))).sequence
    n = len(chrom)
    refseq = dataset_path("dm3-refseq")
    tss = set()
    with gzip.open(refseq / "RefSeqTSS.dm3.txt.gz", "rt") as fh:
        for line in fh:
            c, pos, strand = line.split()[:3]
            if c == "chr2R":
                tss.add((int(pos), strand))
    items = []  # (sequence, label, position)
    with gzip.open(refseq / "RefSeqGene.dm3.bed.gz", "rt") as fh:
        for line in fh:
            c, s, e = line.split()[:3]
            s, e = int(s), int(e)
            if c != "chr2R" or e - s < 1500:
                continue
            if (s, "+") in tss:
                seq, pos = chrom[s + 500:s + 500 + length], s
            elif (e - 1, "-") in tss:
                seq, pos = reverse_complement(chrom[e - 500 - length:e - 500]), e
            else:
                continue
            items.append((seq.upper(), "gene_body", pos))
    for rec in read_fasta(dataset_path("dm3-upstream")):
        where = rec.description.split()[-1] if rec.description else ""
        if not where.startswith("chr2R:"):
            continue
        # UCSC upstream2000: 2 kb ending at the TSS, in the gene's orientation
        start = int(where.split(":")[1].split("-")[0])
        items.append((rec.sequence[-length:], "promoter", start))
    seen, rows = set(), {"train": [], "test": []}
    for seq, label, pos in items:
        if seq in seen or len(seq) != length or not _ok(seq):
            continue
        seen.add(seq)
        rows["test" if pos > 0.75 * n else "train"].append((seq, label, f"chr2R:{pos // 1_000_000}Mb"))
    names = ["gene_body", "promoter"]
    splits = {k: LabelledSet([s for s, _, _ in v], np.asarray([names.index(l) for _, l, _ in v], np.int64),
                             np.asarray([g for _, _, g in v])) for k, v in rows.items()}
    return TaskData("promoter", "classification", names, splits)


def build_oct4_mafk(*, root=None) -> TaskData:
    from gener.data.fetch import dataset_path
    from gener.io import read_fasta

    root = Path(root) if root else dataset_path("oct4-mafk")
    names = ["MafK", "Oct4"]
    splits = {}
    for split, suffix in (("train", ""), ("test", "_test")):
        seqs, labels, groups = [], [], []
        for label, stem in (("Oct4", "sample"), ("MafK", "sample2")):
            for rec in read_fasta(root / f"{stem}{suffix}.fa"):
                seqs.append(rec.sequence)
                labels.append(names.index(label))
                groups.append(rec.id.split(":")[0])  # headers are chrN:start-end
        splits[split] = LabelledSet(seqs, np.asarray(labels, np.int64), np.asarray(groups))
    return TaskData("oct4-mafk", "classification", names, splits)


def build_pum2(*, root=None) -> TaskData:
    from gener.data.fetch import dataset_path

    root = Path(root) if root else dataset_path("pum2")
    names = ["unbound", "bound"]
    splits = {}
    for split, stem in (("train", "train"), ("validation", "valid"), ("test", "test")):
        with open(root / f"PUM2_{stem}.csv", newline="") as fh:
            rows = list(csv.DictReader(fh))
        splits[split] = LabelledSet([r["seq"] for r in rows],
                                    np.asarray([int(r["binding_site"] == "TRUE") for r in rows], np.int64),
                                    np.asarray([r["seqnames"] for r in rows]))
    return TaskData("pum2", "classification", names, splits)


BUILDERS = {
    "gene-type": build_gene_type,
    "taxonomy": build_taxonomy,
    "promoter": build_promoter,
    "oct4-mafk": build_oct4_mafk,
    "pum2": build_pum2,
}


# The cached datasets each builder reads (``gener data fetch --only NAME``).
REQUIRES = {
    "gene-type": GENE_TYPE_TRAIN + GENE_TYPE_TEST,
    "taxonomy": TAXONOMY_GENOMES,
    "promoter": ("dm-chr2R", "dm3-refseq", "dm3-upstream"),
    "oct4-mafk": ("oct4-mafk",),
    "pum2": ("pum2",),
}


def build_task(name: str, **options) -> TaskData:
    try:
        builder = BUILDERS[name]
    except KeyError:
        raise GenerInputError(f"unknown task {name!r}; choose one of: {', '.join(BUILDERS)}") from None
    return builder(**options)
