"""The record and feature types every reader yields and every writer accepts.

Coordinates (one convention for GenBank, GFF3 and everything downstream):
- ``start`` is 0-based, ``end`` exclusive, like Python slices: ``sequence[start:end]``.
  GenBank ``<1..218`` and GFF3 ``1 218`` both become ``start=0, end=218``.
- ``strand`` is +1 or -1; 0 means unstranded (GFF3 ``.``) or, rarely, a trans-spliced
  feature whose parts lie on both strands.
- ``parts`` are the (start, end) pieces in *biological* order: 5'->3' of the product,
  so a minus-strand ``complement(join(1..10,20..30))`` has parts ``[(19, 30), (0, 10)]``.
  ``start``/``end`` are the envelope (min start, max end) of the parts.
- ``partial_start`` / ``partial_end`` are in *genome* coordinates: they flag ``start`` and
  ``end`` exactly as GenBank's ``<`` and ``>`` do (and Prodigal's ``partial=10``), for
  either strand. ``five_prime_partial`` / ``three_prime_partial`` give the biological view
  (a minus-strand ``>`` means a missing 5' end, i.e. a CDS without its start codon).
- Value-less GenBank qualifiers such as ``/pseudo`` are stored as ``["true"]``, the way
  NCBI's GFF3 writes them, so GenBank and GFF3 give the same qualifiers.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from gener.sequence import reverse_complement

DEFAULT_TRANSL_TABLE = 11  # bacterial/archaeal code: what gener annotates by default


@dataclass(slots=True)
class Feature:
    type: str
    start: int
    end: int
    strand: int = 1
    parts: list[tuple[int, int]] = field(default_factory=list)
    qualifiers: dict[str, list[str]] = field(default_factory=dict)
    partial_start: bool = False
    partial_end: bool = False
    pseudo: bool = False
    transl_table: int = DEFAULT_TRANSL_TABLE
    score: float | None = None  # GFF3 column 6
    source: str | None = None  # GFF3 column 2
    # GFF3 ID/Parent links, filled by read_gff3; not part of equality (it would recurse).
    children: list[Feature] = field(default_factory=list, repr=False, compare=False)

    def __post_init__(self):
        if not self.parts:
            self.parts = [(self.start, self.end)]

    def _first(self, key: str) -> str | None:
        values = self.qualifiers.get(key)
        return values[0] if values else None

    @property
    def gene(self) -> str | None:
        return self._first("gene") or self._first("Name")

    @property
    def locus_tag(self) -> str | None:
        return self._first("locus_tag")

    @property
    def product(self) -> str | None:
        return self._first("product")

    @property
    def id(self) -> str | None:
        return self._first("ID")

    @property
    def parent_ids(self) -> list[str]:
        return list(self.qualifiers.get("Parent", ()))

    @property
    def five_prime_partial(self) -> bool:
        return self.partial_end if self.strand == -1 else self.partial_start

    @property
    def three_prime_partial(self) -> bool:
        return self.partial_start if self.strand == -1 else self.partial_end

    def __len__(self) -> int:
        return sum(end - start for start, end in self.parts)

    def extract(self, sequence: str) -> str:
        """The feature's nucleotides 5'->3' (parts joined, minus strand reverse-complemented)."""
        if self.strand == -1:
            return "".join(reverse_complement(sequence[s:e]) for s, e in self.parts)
        return "".join(sequence[s:e] for s, e in self.parts)


@dataclass(slots=True)
class FastaRecord:
    id: str
    description: str
    sequence: str


@dataclass(slots=True)
class AnnotatedRecord:
    """A sequence with features: what read_genbank and read_gff3 yield, write_gff3 takes."""

    id: str
    description: str
    sequence: str  # normalised; "" for a GFF3 read without any sequence
    features: list[Feature] = field(default_factory=list)
    organism: str | None = None
    taxonomy: list[str] = field(default_factory=list)
    transl_table: int = DEFAULT_TRANSL_TABLE
    circular: bool = False
    length: int | None = None  # len(sequence), or the ##sequence-region length without one

    def __post_init__(self):
        if self.length is None:
            self.length = len(self.sequence)


GenBankRecord = AnnotatedRecord  # the name callers of read_genbank expect
