"""Sequence file I/O: streamed readers for FASTA, GenBank and GFF3 (plain, gzip, bzip2, xz)
and atomic writers for FASTA and GFF3. Coordinates: see :mod:`gener.io.records`."""

from gener.io._files import atomic_write, open_binary
from gener.io.detect import detect_format, read_sequences
from gener.io.fasta import read_fasta, write_fasta
from gener.io.genbank import read_genbank
from gener.io.gff3 import read_gff3, write_gff3
from gener.io.records import AnnotatedRecord, FastaRecord, Feature, GenBankRecord

__all__ = [
    "AnnotatedRecord",
    "FastaRecord",
    "Feature",
    "GenBankRecord",
    "atomic_write",
    "detect_format",
    "open_binary",
    "read_fasta",
    "read_genbank",
    "read_gff3",
    "read_sequences",
    "write_fasta",
    "write_gff3",
]
