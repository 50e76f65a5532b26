"""GFF3 reading (with ##FASTA or a separate FASTA) and atomic writing.

Reading keeps every feature line in memory until the sequences come (GFF3 may list a
sequence's features anywhere and puts ##FASTA last); sequences still stream one by one.
Lines that share an ID are one feature with several parts (the GFF3 rule for
discontinuous features); CDS lines without an ID but with the same Parent are merged the
same way, because SGD-style files write spliced CDSs like that. ID/Parent links fill
``Feature.children``. The phase column is not stored: it follows from the parts and
``codon_start`` (set from the phase of the 5' part when it is not 0).

Partial ends are written Prodigal's way (``partial=10`` = left end open, genome
coordinates) and read from that or NCBI's ``start_range``/``end_range``.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterable, Iterator
from urllib.parse import unquote

from gener.errors import GenerInputError
from gener.io._files import atomic_write, is_binary, open_binary
from gener.io.fasta import iter_fasta_stream, read_fasta, write_fasta_to
from gener.io.records import DEFAULT_TRANSL_TABLE, AnnotatedRecord, Feature

_STRAND = {"+": 1, "-": -1, ".": 0, "?": 0}
_CONSUMED = ("partial", "start_range", "end_range")  # turned into Feature fields


def read_gff3(path, fasta=None) -> Iterator[AnnotatedRecord]:
    """Yield one record per sequence: features from ``path``, sequence from its ##FASTA
    section or from the separate FASTA file ``fasta``. Without either, ``sequence`` is ""
    and ``length`` comes from ##sequence-region."""
    path = os.fspath(path)
    with open_binary(path) as fh:
        groups, regions, line = _read_feature_lines(fh, path)
        if line is not None:  # ##FASTA seen: the rest of this stream is FASTA
            sequences = iter_fasta_stream(fh, path, first_line=line + 1)
            yield from _attach(groups, sequences, path)
            return
    if fasta is not None:
        yield from _attach(groups, read_fasta(fasta), path)
        return
    for seqid, group in groups.items():
        length = regions.get(seqid)
        yield _record(seqid, "", "", group, length, path)


def _read_feature_lines(fh, path):
    """Group lines per seqid and feature key; return (groups, region lengths, ##FASTA line)."""
    groups: dict[str, dict[object, list]] = {}
    regions: dict[str, int] = {}
    lineno, header_seen = 0, False
    if is_binary(fh.peek(4096)[:4096]):
        raise GenerInputError("binary data, not a GFF3 file", path=path, line=1)
    for lineno, raw in enumerate(iter(fh.readline, b""), start=1):
        text = raw.decode("utf-8", "replace").rstrip("\r\n")
        if not text.strip():
            continue
        if text.startswith("#"):
            header_seen = header_seen or text.startswith("##gff-version")
            if text.startswith("##FASTA"):
                return groups, regions, lineno
            if text.startswith("##sequence-region"):
                fields = text.split()
                if len(fields) != 4 or not fields[3].isdigit():
                    raise GenerInputError("malformed ##sequence-region", path=path, line=lineno)
                regions[unquote(fields[1])] = int(fields[3])
            continue
        if text.startswith(">"):
            raise GenerInputError("FASTA without a preceding ##FASTA line", path=path, line=lineno)
        cols = text.split("\t")
        if len(cols) != 9:
            what = "malformed GFF3 line" if groups or header_seen else "not a GFF3 file"
            raise GenerInputError(
                f"{what}: expected 9 tab-separated columns, found {len(cols)}", path=path, line=lineno
            )
        seqid = unquote(cols[0])
        try:
            start, end = int(cols[3]) - 1, int(cols[4])
        except ValueError:
            raise GenerInputError(
                f"start/end must be integers, got {cols[3]!r} {cols[4]!r}", path=path, line=lineno
            ) from None
        if start < 0 or end <= start:
            raise GenerInputError(f"invalid coordinates {cols[3]}..{cols[4]}", path=path, line=lineno)
        if cols[5] != ".":
            try:
                float(cols[5])
            except ValueError:
                message = f"score must be a number or '.', not {cols[5]!r}"
                raise GenerInputError(message, path=path, line=lineno) from None
        attrs = _parse_attributes(cols[8], path, lineno)
        ids, parents = attrs.get("ID"), attrs.get("Parent")
        ftype = unquote(cols[2])
        key = ("ID", ids[0]) if ids else ("CDS", tuple(parents)) if ftype == "CDS" and parents else lineno
        group = groups.setdefault(seqid, {}).setdefault(key, [])
        if group and group[0][1][2] != cols[2]:
            raise GenerInputError(
                f"ID {ids[0]!r} is used by a {group[0][1][2]} and a {cols[2]}", path=path, line=lineno
            )
        group.append((lineno, cols, start, end, attrs))
    if lineno == 0:
        raise GenerInputError("empty file: no GFF3 content", path=path)
    return groups, regions, None


def _parse_attributes(column: str, path: str, lineno: int) -> dict[str, list[str]]:
    attrs: dict[str, list[str]] = {}
    if column == ".":
        return attrs
    for item in column.split(";"):
        if not item.strip():
            continue  # tolerate "a=1;" and "a=1; b=2"
        key, sep, value = item.strip().partition("=")
        if not sep:
            raise GenerInputError(f"attribute {item!r} has no '='", path=path, line=lineno)
        attrs.setdefault(unquote(key), []).extend(unquote(v) for v in value.split(","))
    return attrs


def _build(lines) -> tuple[Feature, int]:
    first_line, cols, _, _, attrs = lines[0]
    strand = _STRAND.get(cols[6], 0)
    parts = sorted((start, end) for _, _, start, end, _ in lines)
    if strand == -1:
        parts.reverse()  # biological order
    qualifiers = {k: v for k, v in attrs.items() if k not in _CONSUMED}
    partial = attrs.get("partial", [""])[0]
    partial_start = (partial[:1] == "1" and len(partial) == 2) or "start_range" in attrs
    partial_end = (partial[1:2] == "1" and len(partial) == 2) or "end_range" in attrs
    if partial == "true" and not ("start_range" in attrs or "end_range" in attrs):
        qualifiers["partial"] = ["true"]  # NCBI "partial" without saying which end: keep it
    # The phase of the 5' part is the GFF3 form of GenBank's codon_start.
    five_prime = next(ln for ln in lines if (ln[2], ln[3]) == parts[0])
    if cols[2] == "CDS" and five_prime[1][7] in ("1", "2") and "codon_start" not in qualifiers:
        qualifiers["codon_start"] = [str(int(five_prime[1][7]) + 1)]
    table = qualifiers.get("transl_table")
    feature = Feature(
        type=unquote(cols[2]),
        start=min(p[0] for p in parts),
        end=max(p[1] for p in parts),
        strand=strand,
        parts=parts,
        qualifiers=qualifiers,
        partial_start=partial_start,
        partial_end=partial_end,
        pseudo="pseudo" in qualifiers or "pseudogene" in qualifiers or cols[2] == "pseudogene",
        transl_table=int(table[0]) if table else DEFAULT_TRANSL_TABLE,
        score=None if cols[5] == "." else float(cols[5]),
        source=None if cols[1] == "." else unquote(cols[1]),
    )
    return feature, first_line


def _record(seqid, description, sequence, group, length, path) -> AnnotatedRecord:
    built = [_build(lines) for lines in group.values()]
    limit = len(sequence) if sequence else length
    for feature, line in built:
        if limit is not None and feature.end > limit:
            raise GenerInputError(
                f"{feature.type} {feature.start + 1}..{feature.end} lies outside the sequence ({limit} bp)",
                path=path, record=seqid, line=line,
            )
    features = [f for f, _ in built]
    by_id = {f.id: f for f in features if f.id}
    for f in features:
        for parent in f.parent_ids:
            if parent in by_id:
                by_id[parent].children.append(f)
    # As in GenBank, the first CDS that names a code sets the record's default.
    tables = [f.transl_table for f in features if f.type == "CDS" and "transl_table" in f.qualifiers]
    table = tables[0] if tables else DEFAULT_TRANSL_TABLE
    for f in features:
        if "transl_table" not in f.qualifiers:
            f.transl_table = table
    return AnnotatedRecord(
        seqid, description, sequence, features, transl_table=table, length=len(sequence) if sequence else length
    )


def _attach(groups, sequences, path) -> Iterator[AnnotatedRecord]:
    for rec in sequences:
        group = groups.pop(rec.id, {})
        yield _record(rec.id, rec.description, rec.sequence, group, None, path)
    if groups:
        seqid, group = next(iter(groups.items()))
        line = next(iter(group.values()))[0][0]
        raise GenerInputError(f"features on {seqid!r} but no sequence of that name", path=path, record=seqid, line=line)


# --- writing -----------------------------------------------------------------------

_ATTR_RESERVED = ";=&,\t"  # GFF3 column 9; '%' and control characters always
_SEQID_OK = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.:^*$@!+_?-|")


def _escape(text: str, reserved: str) -> str:
    """Percent-encode '%', control characters and the column's reserved characters."""
    return "".join(f"%{ord(c):02X}" if c in reserved or c == "%" or ord(c) < 32 or ord(c) == 127 else c for c in text)


def _escape_seqid(seqid: str) -> str:
    return "".join(c if c in _SEQID_OK else f"%{ord(c):02X}" for c in seqid)


def write_gff3(dest, records: Iterable[AnnotatedRecord], *, source: str | None = None,
               include_fasta: bool = False, fasta_width: int = 60, comments=None) -> None:
    """Write GFF3 (1-based inclusive coordinates, escaped attributes, ##sequence-region per
    record, optional ##FASTA) to a path, atomically, or to an open text handle.

    ``source`` fills column 2 for features without their own. Multi-part features are
    written one line per part sharing an ID; one is made up (seqid_type_start_end) when a
    feature has neither ID nor (for CDS) a Parent, so that it reads back as one feature.
    ``comments(record)``: ``#`` lines written after each record's ##sequence-region.
    """
    if hasattr(dest, "write"):
        _write(dest, records, source, include_fasta, fasta_width, comments)
    else:
        with atomic_write(dest) as out:
            _write(out, records, source, include_fasta, fasta_width, comments)


def _write(out, records, source, include_fasta, fasta_width, comments) -> None:
    out.write("##gff-version 3\n")
    # Sequences go to a spooled side file so records can stream; copied in at the end.
    with tempfile.SpooledTemporaryFile(max_size=64 << 20, mode="w+", encoding="utf-8") as fasta:
        for rec in records:
            length = rec.length if rec.length is not None else len(rec.sequence)
            seqid = _escape_seqid(rec.id)
            out.write(f"##sequence-region {seqid} 1 {length}\n")
            if comments is not None:
                out.writelines(f"# {line}\n" for line in comments(rec))
            for f in rec.features:
                if f.end > length or f.start < 0:
                    raise ValueError(f"{rec.id}: {f.type} {f.start + 1}..{f.end} lies outside the sequence")
                out.writelines(_feature_lines(seqid, rec, f, source))
            if include_fasta:
                write_fasta_to(fasta, [rec], width=fasta_width)
        if include_fasta:
            out.write("##FASTA\n")
            fasta.seek(0)
            shutil.copyfileobj(fasta, out)


def _feature_lines(seqid: str, rec: AnnotatedRecord, f: Feature, source: str | None) -> list[str]:
    attrs = {k: list(v) for k, v in f.qualifiers.items()}
    if len(f.parts) > 1 and "ID" not in attrs and not (f.type == "CDS" and "Parent" in attrs):
        attrs = {"ID": [f"{rec.id}_{f.type}_{f.start + 1}_{f.end}"], **attrs}
    if f.partial_start or f.partial_end:
        attrs["partial"] = [f"{int(f.partial_start)}{int(f.partial_end)}"]
    if f.pseudo and not ("pseudo" in attrs or "pseudogene" in attrs or f.type == "pseudogene"):
        attrs["pseudo"] = ["true"]
    # A reader takes a record's code from its first CDS that names one, so CDSs always say
    # theirs and other features only when they differ from the record's.
    expected = DEFAULT_TRANSL_TABLE if f.type == "CDS" else rec.transl_table
    if f.transl_table != expected and "transl_table" not in attrs:
        attrs["transl_table"] = [str(f.transl_table)]
    column9 = ";".join(
        f"{_escape(k, _ATTR_RESERVED)}={','.join(_escape(v, _ATTR_RESERVED) for v in values)}"
        for k, values in attrs.items()
    ) or "."
    strand = {1: "+", -1: "-"}.get(f.strand, ".")
    score = "." if f.score is None else str(float(f.score))  # repr-exact, so it reads back equal
    src = _escape(f.source or source or ".", "\t")
    ftype = _escape(f.type, "\t")
    # Phase per part, walking 5'->3' from codon_start (GenBank) or 0.
    phases = {}
    if f.type == "CDS":
        phase = int(f.qualifiers.get("codon_start", ["1"])[0]) - 1
        for part in f.parts:
            phases[part] = phase
            phase = (phase - (part[1] - part[0])) % 3
    return [
        f"{seqid}\t{src}\t{ftype}\t{s + 1}\t{e}\t{score}\t{strand}\t{phases.get((s, e), '.')}\t{column9}\n"
        for s, e in sorted(f.parts)
    ]
