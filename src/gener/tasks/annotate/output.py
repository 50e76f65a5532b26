"""Writing annotation results as Prodigal does: GFF3, GenBank and SCO gene tables
(Prodigal's ``-f gff|gbk|sco``), protein FASTA (``-a``) and gene nucleotide FASTA (``-d``).

A result is ``(record id, sequence, genes)`` as :meth:`Annotator.annotate_records` yields
it. Every writer takes a path (written atomically; ``-`` is stdout) or an open text handle.

What is Prodigal's and what is gener's:

- GFF3 starts with ``##gff-version 3`` (Prodigal writes two spaces, which strict GFF3
  parsers refuse) and gives every sequence a ``##sequence-region`` line followed by
  Prodigal's ``# Sequence Data:`` / ``# Model Data:`` comment lines. Each gene is one CDS
  line (two lines sharing the ID for a gene across the origin of a circular sequence).
- Gene IDs are ``seqid_N`` (N counts genes along each sequence from 1); Prodigal writes
  ``seqnum_N``. Attributes are whatever :meth:`Gene.attributes` gives, in its order.
- GenBank is Prodigal's feature table (``DEFINITION`` with the run data, a ``CDS`` per
  gene with a ``/note`` of its attributes, ``<``/``>`` on open ends) made a complete
  GenBank record, which Prodigal's is not: ``LOCUS``, ``ACCESSION``/``VERSION`` (the id) and
  the sequence (``ORIGIN``) are added, so that GenBank readers (Biopython, Bakta's ``--regions``) take it.
- SCO is Prodigal's: ``>N_begin_end_strand`` per gene after the comment lines.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

from gener.io import AnnotatedRecord, atomic_write
from gener.io import write_gff3 as _write_gff3_records
from gener.sequence import gc_content

SOURCE = "gener"
FORMATS = ("gff", "gbk", "sco")
Result = tuple[str, str, list]  # (record id, sequence, genes)


@dataclass
class RunInfo:
    """What Prodigal's ``# Model Data`` says: the model, single or meta mode, the table;
    ``headers`` maps record ids to their full header line (``# Sequence Data`` seqhdr)."""

    model: str = "gener-annotator-tiny"
    mode: str = "single"
    table: int = 11
    headers: dict[str, str] = field(default_factory=dict)

    def sequence_data(self, number: int, record_id: str, length: int) -> str:
        header = self.headers.get(record_id, record_id).replace('"', "'")
        return f'seqnum={number};seqlen={length};seqhdr="{header}"'

    def model_data(self, gc: float) -> str:
        from gener import __version__

        run = "Single" if self.mode == "single" else "Metagenomic"
        return (f'version=gener.v{__version__};run_type={run};model="{self.model}";gc_cont={100 * gc:.2f};'
                f"transl_table={self.table}")


def unique_record_ids(records: list, on_warning: Callable[[str], None] | None = None) -> list:
    """Records with unique ids: the second record named ``x`` becomes ``x.2``, the third
    ``x.3`` (skipping names already taken), with a warning, so that seqids and gene IDs of
    the outputs stay distinguishable. ``records`` have a writable ``id``."""
    warn = on_warning or (lambda message: warnings.warn(message, stacklevel=2))
    taken = {r.id for r in records}
    seen: dict[str, int] = {}
    for rec in records:
        if rec.id not in seen:
            seen[rec.id] = 2  # the suffix of its next namesake
            continue
        n = seen[rec.id]
        while f"{rec.id}.{n}" in taken:
            n += 1
        seen[rec.id] = n + 1
        new = f"{rec.id}.{n}"
        warn(f"record id {rec.id!r} appears more than once; this one is written as {new!r}")
        taken.add(new)
        rec.id = new
    return records


def to_record(record_id: str, sequence: str, genes: list, *, with_sequence: bool = True) -> AnnotatedRecord:
    """One result as a :class:`gener.io.AnnotatedRecord` (what the evaluation harness and
    gener.io's writers take)."""
    table = genes[0].table if genes else 11
    return AnnotatedRecord(record_id, "", sequence if with_sequence else "", [g.to_feature() for g in genes],
                           transl_table=table, length=len(sequence))


def _training_gc(results: list[Result], info: RunInfo) -> dict[str, float]:
    """GC per record as Prodigal's Model Data has it: the whole input's in single mode (it
    trains on all of it), each record's own in meta mode."""
    if info.mode == "single":
        total = sum(len(seq) for _, seq, _ in results)
        gc = sum(gc_content(seq) * len(seq) for _, seq, _ in results) / max(total, 1)
        return {rid: gc for rid, _, _ in results}
    return {rid: gc_content(seq) for rid, seq, _ in results}


def _comments(results: list[Result], info: RunInfo | None) -> Iterator[tuple[str, str, str]]:
    info = info or RunInfo()
    gc = _training_gc(results, info)
    for number, (rid, seq, _) in enumerate(results, start=1):
        yield rid, info.sequence_data(number, rid, len(seq)), info.model_data(gc[rid])


def write_gff3(dest, results: Iterable[Result], *, source: str = SOURCE, info: RunInfo | None = None) -> None:
    """GFF3 with Prodigal's attributes and header lines (see the module docstring)."""
    results = list(results)
    lines = {rid: (s, m) for rid, s, m in _comments(results, info)}

    def comments(record):
        sequence_data, model_data = lines[record.id]
        return [f"Sequence Data: {sequence_data}", f"Model Data: {model_data}"]

    records = (to_record(rid, seq, genes, with_sequence=False) for rid, seq, genes in results)
    _write_gff3_records(dest, records, source=source, comments=comments)


def _span(gene) -> tuple[int, int]:
    """Prodigal's 1-based begin and end: the gene's first and last base in genome order."""
    first, last = (gene.parts[0], gene.parts[-1]) if gene.strand == 1 else (gene.parts[-1], gene.parts[0])
    return first[0] + 1, last[1]


def _location(gene) -> str:
    """GenBank location: parts in + strand order (``parts`` are 5'->3'), ``<``/``>`` on an
    open left/right end as Prodigal marks partial genes."""
    parts = list(gene.parts) if gene.strand == 1 else list(gene.parts)[::-1]
    spans = [f"{s + 1}..{e}" for s, e in parts]
    if gene.partial_start:
        spans[0] = "<" + spans[0]
    if gene.partial_end:
        head, _, end = spans[-1].rpartition("..")
        spans[-1] = f"{head}..>{end}"
    text = spans[0] if len(spans) == 1 else f"join({','.join(spans)})"
    return f"complement({text})" if gene.strand == -1 else text


def _gbk_lines(results: list[Result], info: RunInfo | None, circular: set[str]) -> Iterator[str]:
    for (rid, seq, genes), (_, sequence_data, model_data) in zip(results, _comments(results, info)):
        topology = "circular" if rid in circular else "linear"
        yield f"LOCUS       {rid:<16} {len(seq):>11} bp    DNA     {topology:<8} UNK 01-JAN-1980\n"
        yield f"DEFINITION  {sequence_data};{model_data}\n"
        yield f"ACCESSION   {rid}\nVERSION     {rid}\n"  # where readers take the id from
        yield "FEATURES             Location/Qualifiers\n"
        for g in genes:
            note = "".join(f"{k}={v};" for k, v in g.attributes().items())
            yield f"     CDS             {_location(g)}\n"
            yield f'                     /note="{note}"\n'
        yield "ORIGIN\n"
        for i in range(0, len(seq), 60):
            line = seq[i : i + 60].lower()
            yield f"{i + 1:>9} " + " ".join(line[j : j + 10] for j in range(0, len(line), 10)) + "\n"
        yield "//\n"


def _sco_lines(results: list[Result], info: RunInfo | None) -> Iterator[str]:
    for (_, _, genes), (_, sequence_data, model_data) in zip(results, _comments(results, info)):
        yield f"# Sequence Data: {sequence_data}\n"
        yield f"# Model Data: {model_data}\n"
        for g in genes:
            begin, end = _span(g)
            yield f">{g.index}_{begin}_{end}_{'+' if g.strand == 1 else '-'}\n"


def write_genbank(dest, results: Iterable[Result], *, info: RunInfo | None = None, circular=()) -> None:
    """Prodigal's ``-f gbk`` gene table (see the module docstring); ``circular``: record
    ids to mark circular in LOCUS."""
    _write_lines(dest, _gbk_lines(list(results), info, set(circular)))


def write_sco(dest, results: Iterable[Result], *, info: RunInfo | None = None) -> None:
    """Prodigal's ``-f sco``: comment lines per sequence, then ``>N_begin_end_strand``."""
    _write_lines(dest, _sco_lines(list(results), info))


def write_genes_table(dest, results: Iterable[Result], fmt: str = "gff", *, info: RunInfo | None = None,
                      circular=()) -> None:
    """The gene table in one of :data:`FORMATS` (what ``gener annotate -f`` writes)."""
    if fmt == "gff":
        write_gff3(dest, results, info=info)
    elif fmt == "gbk":
        write_genbank(dest, results, info=info, circular=circular)
    elif fmt == "sco":
        write_sco(dest, results, info=info)
    else:
        from gener.errors import GenerInputError

        raise GenerInputError(f"unknown output format {fmt!r}; choose one of {', '.join(FORMATS)}")


def _fasta_lines(results: Iterable[Result], protein: bool, width: int = 60) -> Iterator[str]:
    for _, _, genes in results:
        for g in genes:
            text = g.translate(stop_symbol=True) if protein else g.nucleotides
            yield f">{g.id} {g.fasta_header()}\n"
            for i in range(0, len(text), width):
                yield text[i : i + width] + "\n"


def write_proteins(dest, results: Iterable[Result], *, width: int = 60) -> None:
    """Protein FASTA (Prodigal's ``-a``): headers as Prodigal's, ``*`` for a present stop."""
    _write_lines(dest, _fasta_lines(results, True, width))


def write_genes(dest, results: Iterable[Result], *, width: int = 60) -> None:
    """Nucleotide FASTA of the genes, 5'->3' (Prodigal's ``-d``)."""
    _write_lines(dest, _fasta_lines(results, False, width))


def _write_lines(dest, lines) -> None:
    if hasattr(dest, "write"):
        dest.writelines(lines)
        return
    with atomic_write(dest) as out:
        out.writelines(lines)
