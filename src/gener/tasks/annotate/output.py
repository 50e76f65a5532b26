"""Writing annotation results as Prodigal does: GFF3, protein FASTA (``-a``) and gene
nucleotide FASTA (``-d``).

A result is ``(record id, sequence, genes)`` as :meth:`Annotator.annotate_records` yields
it. Every writer takes a path (written atomically) or an open text handle.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from gener.io import AnnotatedRecord, atomic_write
from gener.io import write_gff3 as _write_gff3_records

SOURCE = "gener"
Result = tuple[str, str, list]  # (record id, sequence, genes)


def to_record(record_id: str, sequence: str, genes: list, *, with_sequence: bool = True) -> AnnotatedRecord:
    """One result as a :class:`gener.io.AnnotatedRecord` (what the evaluation harness and
    gener.io's writers take)."""
    table = genes[0].table if genes else 11
    return AnnotatedRecord(record_id, "", sequence if with_sequence else "", [g.to_feature() for g in genes],
                           transl_table=table, length=len(sequence))


def _records_for_gff(results: Iterable[Result]) -> Iterator[AnnotatedRecord]:
    for rid, sequence, genes in results:
        yield to_record(rid, sequence, genes, with_sequence=False)


def write_gff3(dest, results: Iterable[Result], *, source: str = SOURCE) -> None:
    """GFF3 with Prodigal's attributes, one ``##sequence-region`` per record."""
    _write_gff3_records(dest, _records_for_gff(results), source=source)


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
