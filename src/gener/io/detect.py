"""Format sniffing, so commands take FASTA or GenBank (plain or compressed) alike."""

from __future__ import annotations

import os
from collections.abc import Iterator

from gener.errors import GenerInputError
from gener.io._files import is_binary, open_binary
from gener.io.fasta import read_fasta
from gener.io.genbank import read_genbank_sequences
from gener.io.gff3 import read_gff3
from gener.io.records import FastaRecord


def detect_format(path) -> str:
    """'fasta', 'genbank' or 'gff3', from the first meaningful line (compression sniffed)."""
    path = os.fspath(path)
    head = b""
    with open_binary(path) as fh:
        try:  # read1: a cut .gz still gives its start; the reader then reports the cut in full
            while len(head) < 1 << 16 and (chunk := fh.read1(1 << 16)):
                head += chunk
        except GenerInputError:
            if not head:
                raise
    if not head.strip():
        raise GenerInputError("empty file", path=path)
    if is_binary(head):
        raise GenerInputError("binary data, not a FASTA, GenBank or GFF3 file", path=path, line=1)
    for lineno, line in enumerate(head.split(b"\n"), start=1):
        line = line.strip()
        if not line or line.startswith(b";") or (line.startswith(b"#") and not line.startswith(b"##gff")):
            continue
        if line.startswith(b">"):
            return "fasta"
        if line.startswith(b"LOCUS"):
            return "genbank"
        if line.startswith(b"##gff-version") or line.count(b"\t") == 8:  # header-less GFF3 too
            return "gff3"
        shown = line[:40].decode("utf-8", "replace")
        raise GenerInputError(f"not a FASTA, GenBank or GFF3 file: starts with {shown!r}", path=path, line=lineno)
    raise GenerInputError("no sequence found", path=path)


def read_sequences(path) -> Iterator[FastaRecord]:
    """Yield (id, description, sequence) records from FASTA, GenBank or GFF3+##FASTA."""
    fmt = detect_format(path)
    if fmt == "fasta":
        yield from read_fasta(path)
    elif fmt == "genbank":
        yield from read_genbank_sequences(path)
    else:
        for rec in read_gff3(path):
            if not rec.sequence:
                raise GenerInputError(
                    "GFF3 without a ##FASTA section has no sequence", path=os.fspath(path), record=rec.id
                )
            yield FastaRecord(rec.id, rec.description, rec.sequence)
