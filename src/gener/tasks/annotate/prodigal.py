"""Prodigal (through pyrodigal) as the baseline annotator, and readers for Prodigal's own
output files, so the comparison harness can be checked against Prodigal itself.

``prodigal_annotate`` runs the two ways Prodigal is used:
- ``mode="single"``: train on the genome itself (all records together, as ``prodigal``
  does with a multi-FASTA), then predict each record;
- ``mode="meta"``: the pre-trained metagenomic bins, each record on its own (``-p meta``).

Genes become :class:`~gener.io.records.Feature` objects the way Prodigal's ``-f gff`` writes
them (``ID=<seqnum>_<genenum>``, ``partial=`` in genome coordinates, start type, RBS motif and
spacer, GC, confidence), so ``write_gff3`` output and Prodigal's GFF carry the same genes.
pyrodigal is imported only when called (``pip install pyrodigal``).
"""

from __future__ import annotations

from collections.abc import Iterable

from gener.io.records import DEFAULT_TRANSL_TABLE, AnnotatedRecord, Feature

MODES = ("single", "meta")


def _pyrodigal():
    try:
        import pyrodigal
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError("the Prodigal baseline needs pyrodigal: pip install pyrodigal") from exc
    return pyrodigal


def prodigal_annotate(
    records: Iterable,
    *,
    mode: str = "single",
    translation_table: int | None = None,
    closed: bool = False,
    mask: bool = False,
) -> list[AnnotatedRecord]:
    """Predict CDS with pyrodigal; returns one record (same id and sequence) per input.

    ``records`` are anything with ``id`` and ``sequence`` (FastaRecord, AnnotatedRecord).
    ``translation_table`` (single mode) defaults to the first record's ``transl_table`` or
    11; meta mode picks the code with the bin, as Prodigal does. ``closed`` forbids genes
    running off the edges (``-c``), ``mask`` skips runs of N (``-m``).
    """
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}, not {mode!r}")
    pyrodigal = _pyrodigal()
    records = list(records)
    if translation_table is None:
        translation_table = next(
            (r.transl_table for r in records if getattr(r, "transl_table", None)), DEFAULT_TRANSL_TABLE
        )
    if mode == "meta":
        finder = pyrodigal.GeneFinder(meta=True, closed=closed, mask=mask)
    else:
        finder = pyrodigal.GeneFinder(meta=False, closed=closed, mask=mask)
        finder.train(*(r.sequence for r in records), translation_table=translation_table)
    source = f"pyrodigal_v{pyrodigal.__version__}"
    out = []
    for seqnum, rec in enumerate(records, start=1):
        genes = finder.find_genes(rec.sequence)
        features = [_feature(g, f"{seqnum}_{n}", source) for n, g in enumerate(genes, start=1)]
        table = features[0].transl_table if features else translation_table
        out.append(AnnotatedRecord(rec.id, getattr(rec, "description", ""), rec.sequence, features,
                                   transl_table=table))
    return out


def _feature(gene, gene_id: str, source: str) -> Feature:
    qualifiers = {
        "ID": [gene_id],
        "start_type": [gene.start_type],
        "rbs_motif": [gene.rbs_motif or "None"],
        "rbs_spacer": [gene.rbs_spacer or "None"],
        "gc_cont": [f"{gene.gc_cont:.3f}"],
        "conf": [f"{gene.confidence():.2f}"],
    }
    return Feature(
        type="CDS",
        start=gene.begin - 1,
        end=gene.end,
        strand=gene.strand,
        qualifiers=qualifiers,
        partial_start=bool(gene.partial_begin),
        partial_end=bool(gene.partial_end),
        transl_table=int(gene.translation_table),
        score=round(float(gene.score), 1),
        source=source,
    )


# --- Prodigal's own outputs ---------------------------------------------------------


def parse_gene_header(header: str) -> tuple[str, Feature]:
    """(sequence id, CDS) from a header of Prodigal's gene/protein FASTA (``-d`` / ``-a``):
    ``>SEQID_N # BEGIN # END # STRAND # ID=..;partial=10;start_type=..;...``."""
    name, begin, end, strand, data = (x.strip() for x in header.lstrip(">").split("#", 4))
    seqid = name.rsplit("_", 1)[0]
    attrs = dict(kv.split("=", 1) for kv in data.split(";") if "=" in kv)
    partial = attrs.pop("partial", "00")
    feature = Feature(
        type="CDS", start=int(begin) - 1, end=int(end), strand=int(strand),
        qualifiers={k: [v] for k, v in attrs.items()},
        partial_start=partial[0] == "1", partial_end=partial[1] == "1",
    )
    return seqid, feature


def read_gene_fasta_headers(path) -> dict[str, list[Feature]]:
    """Prodigal's genes, per sequence id, from its gene or protein FASTA (or a file of just
    its headers); only the headers are read."""
    from gener.io._files import open_binary

    genes: dict[str, list[Feature]] = {}
    with open_binary(path) as fh:
        for raw in fh:
            if raw.startswith(b">"):
                seqid, feature = parse_gene_header(raw.decode().rstrip("\r\n"))
                genes.setdefault(seqid, []).append(feature)
    return genes


def gene_key(feature: Feature) -> tuple:
    """What two Prodigal runs must agree on for "the same gene"."""
    q = feature.qualifiers
    return (feature.start, feature.end, feature.strand, feature.partial_start, feature.partial_end,
            q.get("start_type", [None])[0], q.get("rbs_motif", [None])[0], q.get("rbs_spacer", [None])[0])
