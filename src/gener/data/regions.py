"""``gener data regions``: gene regions (or whole sequences in chunks) from annotated genomes
into one parquet table, streamed record by record and written in row groups.

Policies (docs/data.md, "Gene regions"; which features are genes: :mod:`gener.data.genes`):
- a region is the gene's whole genomic span (introns and annotated UTRs included) plus
  ``flank`` bp on each side, clipped at the ends of a linear record;
- ``sequence`` is in the *transcribed* orientation: a minus-strand region is the reverse
  complement of the genome slice, so every region reads 5'->3' like its RNA (unstranded
  features read as the + strand). Coordinates stay in genome terms (0-based, end exclusive);
- overlapping and nested genes are each their own region: regions may share bases;
- circular records: a gene across the origin (``join(120679..120693,1..1722)``) gets
  ``end`` > record length (coordinates run on past the origin) and flanks may cross it too;
- ``whole`` mode (the papers' scheme 2) emits every record, + strand as in the file, cut
  into ``chunk``-bp pieces that tile it; FASTA input is accepted there.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from gener.data.genes import UNKNOWN_GROUP, genbank_genes, gff3_genes, parse_group, record_group
from gener.errors import GenerInputError
from gener.io import atomic_write, detect_format, read_fasta, read_genbank, read_gff3
from gener.io._files import check_output
from gener.io.records import AnnotatedRecord
from gener.sequence import reverse_complement

DEFAULT_CHUNK = 98_304  # one GENERator context (16,384 6-mers)
SCHEMA = pa.schema([
    ("source", pa.string()), ("record", pa.string()), ("gene_id", pa.string()), ("name", pa.string()),
    ("gene_type", pa.string()), ("biotype", pa.string()), ("group", pa.string()), ("organism", pa.string()),
    ("strand", pa.int8()), ("start", pa.int64()), ("end", pa.int64()),
    ("region_start", pa.int64()), ("region_end", pa.int64()), ("record_length", pa.int64()),
    ("partial", pa.bool_()), ("length", pa.int64()), ("sequence", pa.string()),
])
_ROW_GROUP_BASES = 32 << 20  # flush a row group every ~32 Mbp: bounded memory, good scans
_SUFFIXES = {".gb", ".gbk", ".gbff", ".genbank", ".gff", ".gff3", ".fa", ".fasta", ".fna", ".fas"}


@dataclass
class Source:
    label: str  # the file name, as stored in the ``source`` column
    path: Path
    format: str  # genbank | gff3 | fasta
    fastas: list[Path] = field(default_factory=list)  # sequences of a GFF3 without ##FASTA


@dataclass
class CurationSummary:
    regions: int = 0
    bases: int = 0  # bases written (the regions' sequences)
    input_bases: int = 0  # bases of the records read
    records: int = 0
    seconds: float = 0.0
    unlabelled: list[str] = field(default_factory=list)  # sources without a taxonomic group


def open_regions(path, columns: set[str]) -> pq.ParquetFile:
    """A regions parquet opened for batch reading, with a one-line error when it is not one."""
    try:
        parquet = pq.ParquetFile(path)
    except FileNotFoundError:
        raise GenerInputError("no such file", path=path) from None
    except (pa.ArrowException, OSError):
        raise GenerInputError("not a parquet file", path=path) from None
    missing = columns - set(parquet.schema_arrow.names)
    if missing:
        raise GenerInputError(f"not a `gener data regions` table: no column {', '.join(sorted(missing))}", path=path)
    return parquet


def resolve_inputs(specs: list[str], fasta: list[Path] | None = None) -> list[Source]:
    """Paths (files or directories) or cached dataset names -> the sequence files to read.
    In a directory, a GFF3 takes the directory's FASTA files as its sequences."""
    sources: list[Source] = []
    for spec in specs:
        path = Path(spec).expanduser()
        if not path.exists():
            from gener.data.fetch import dataset_path  # lazily: only names need the registry

            path = dataset_path(spec)
        if path.is_file():
            sources.append(Source(path.name, path, detect_format(path), list(fasta or [])))
            continue
        found = []
        for file in sorted(path.iterdir()):
            stem = file.name.removesuffix(".gz").removesuffix(".bz2").removesuffix(".xz")
            if file.is_file() and Path(stem).suffix.lower() in _SUFFIXES:
                found.append(Source(file.name, file, detect_format(file)))
        gffs = [s for s in found if s.format == "gff3"]
        fastas = [s.path for s in found if s.format == "fasta"]
        for s in gffs:
            s.fastas = fastas + list(fasta or [])
        kept = [s for s in found if s.format != "fasta" or not gffs]
        if not kept:
            raise GenerInputError("no GenBank, GFF3 or FASTA file in this directory", path=path)
        sources.extend(kept)
    return sources


def read_records(source: Source) -> Iterator[AnnotatedRecord]:
    """Records with their sequences (and features, for GenBank and GFF3)."""
    if source.format == "genbank":
        yield from read_genbank(source.path)
    elif source.format == "fasta":
        for rec in read_fasta(source.path):
            yield AnnotatedRecord(rec.id, rec.description, rec.sequence)
    else:
        yield from _gff3_with_sequences(source)


def _gff3_with_sequences(source: Source) -> Iterator[AnnotatedRecord]:
    records = read_gff3(source.path)
    first = next(records, None)
    if first is None:
        return
    if first.sequence:  # ##FASTA: records come with their sequences, one by one
        yield first
        yield from records
        return
    annotated = [first, *records]  # features only (small); the sequences stream from FASTA
    if not source.fastas:
        bare = next(r for r in annotated if not r.sequence)
        raise GenerInputError("GFF3 without ##FASTA: give its sequences with --fasta", path=source.path,
                              record=bare.id)
    by_id = {r.id: r for r in annotated}
    for fasta in source.fastas:
        for seq in read_fasta(fasta):
            rec = by_id.pop(_match_id(seq.id, by_id), None) or AnnotatedRecord(seq.id, seq.description, "")
            rec.sequence, rec.length, rec.description = seq.sequence, len(seq.sequence), seq.description
            for f in rec.features:
                if f.end > rec.length:
                    raise GenerInputError(f"{f.type} {f.start + 1}..{f.end} lies outside the sequence "
                                          f"({rec.length} bp of {fasta.name})", path=source.path, record=rec.id)
            yield rec
    missing = [r.id for r in by_id.values() if r.features]
    if missing:
        raise GenerInputError(f"features on {missing[0]!r} but no FASTA record of that name "
                              f"(looked in {', '.join(p.name for p in source.fastas)})", path=source.path)


def _match_id(fasta_id: str, by_id: dict) -> str | None:
    """Exact id, else the one ``:``/``|`` field of the FASTA id that is a GFF3 seqid
    (``Umaydis:chr01:1:+:2476500`` -> ``chr01``); ambiguous matches do not count."""
    if fasta_id in by_id:
        return fasta_id
    hits = {f for f in fasta_id.replace("|", ":").split(":") if f in by_id}
    return hits.pop() if len(hits) == 1 else None


def _span(f, length: int, circular: bool) -> tuple[int, int]:
    """Genome interval of a feature; across the origin of a circular record ``end`` > length."""
    parts = f.parts
    if circular and f.strand and len(parts) > 1:
        step = [b[0] - a[0] for a, b in zip(parts, parts[1:])]
        if any(s * f.strand < 0 for s in step):  # biological order runs back: it wraps
            ordered = sorted(parts)
            gaps = [b[0] - a[1] for a, b in zip(ordered, ordered[1:])]
            i = max(range(len(gaps)), key=gaps.__getitem__)
            return ordered[i + 1][0], ordered[i][1] + length
    return f.start, f.end


def _cut(sequence: str, start: int, end: int) -> str:
    n = len(sequence)
    return sequence[start:end] if end <= n else sequence[start:] + sequence[: end - n]


def gene_rows(record: AnnotatedRecord, genes, *, flank: int = 0, min_length: int = 0) -> Iterator[dict]:
    """One row per gene: coordinates, flanks (clipped, or across the origin if circular) and
    the transcribed-orientation sequence."""
    n = len(record.sequence)
    for f, gene_type, biotype in genes:
        start, end = _span(f, n, record.circular)
        if end - start < min_length:
            continue
        if record.circular:  # flanks may cross the origin, but a region never exceeds the circle
            room = n - (end - start)
            left = min(flank, room - min(flank, room // 2))
            right = min(flank, room - left)
        else:
            left, right = min(flank, start), min(flank, n - end)
        lo, hi = start - left, end + right
        if lo < 0:
            lo, hi = lo + n, hi + n
        seq = _cut(record.sequence, lo, hi)
        yield {
            "gene_id": f.locus_tag or f.id or f.gene or f"{record.id}:{start + 1}-{end}",
            "name": f.gene, "gene_type": gene_type, "biotype": biotype,
            "strand": f.strand, "start": start, "end": end, "region_start": lo, "region_end": hi,
            "partial": f.partial_start or f.partial_end,
            "sequence": reverse_complement(seq) if f.strand == -1 else seq,
        }


def chunk_rows(record: AnnotatedRecord, *, chunk: int = DEFAULT_CHUNK, min_length: int = 0) -> Iterator[dict]:
    n = len(record.sequence)
    for start in range(0, n, chunk):
        end = min(start + chunk, n)
        if end - start < min_length:
            continue
        yield {"gene_id": f"{record.id}:{start + 1}-{end}", "name": None, "gene_type": "chunk",
               "biotype": "chunk", "strand": 1, "start": start, "end": end, "region_start": start,
               "region_end": end, "partial": False, "sequence": record.sequence[start:end]}


class RegionWriter:
    """Parquet rows into an open binary handle, buffered and flushed as row groups."""

    def __init__(self, handle):
        self._writer = pq.ParquetWriter(handle, SCHEMA, compression="zstd")
        self._rows: dict[str, list] = {name: [] for name in SCHEMA.names}
        self._bases = 0

    def add(self, row: dict) -> None:
        for name, values in self._rows.items():
            values.append(row[name])
        self._bases += row["length"]
        if self._bases >= _ROW_GROUP_BASES:
            self.flush()

    def flush(self) -> None:
        if self._rows["sequence"]:
            self._writer.write_table(pa.table(self._rows, schema=SCHEMA))
            self._rows = {name: [] for name in SCHEMA.names}
            self._bases = 0

    def close(self) -> None:
        self.flush()
        self._writer.close()

    def discard(self) -> None:
        """After a failure: close while the handle is still open (the output goes with it)."""
        with contextlib.suppress(Exception):
            self._writer.close()


def curate_regions(specs: list[str], out, *, group: str | None = None, flank: int = 0, whole: bool = False,
                   chunk: int = DEFAULT_CHUNK, min_length: int = 0, fasta: list[Path] | None = None,
                   progress: Callable[[str, int], None] | None = None) -> CurationSummary:
    """Write the regions of every input to ``out`` (parquet). ``group`` (a name, token or
    alias: :func:`gener.data.genes.parse_group`) overrides the group read from each file;
    ``progress(record_id, bases)`` is called after each record."""
    if flank < 0 or min_length < 0 or chunk <= 0:
        raise GenerInputError("--flank and --min-length must be >= 0 and --chunk > 0")
    group = parse_group(group) if group else None
    sources = resolve_inputs(specs, fasta)
    if not whole:
        for s in sources:
            if s.format == "fasta":
                raise GenerInputError("FASTA has no annotation: use --whole, or give a GenBank or GFF3 file "
                                      "(a GFF3's sequences go in --fasta)", path=s.path)
    check_output(out)  # before any input is read
    summary, started = CurationSummary(), time.perf_counter()
    # The table appears only when complete (atomic_write: a temp file renamed at the end).
    with atomic_write(out, "wb") as handle:
        writer = RegionWriter(handle)
        try:
            _write_regions(writer, sources, summary, whole=whole, chunk=chunk, min_length=min_length, flank=flank,
                           group=group, progress=progress)
        except BaseException:
            writer.discard()
            raise
        if summary.regions == 0:
            writer.discard()
            raise GenerInputError(f"no regions found in {', '.join(specs)}")
        writer.close()
    summary.seconds = time.perf_counter() - started
    return summary


def _write_regions(writer, sources, summary, *, whole, chunk, min_length, flank, group, progress) -> None:
    """Every source's gene (or chunk) rows into ``writer``, counted in ``summary``."""
    for source in sources:
        for record in read_records(source):
            if not record.sequence:
                continue
            if whole:
                rows = chunk_rows(record, chunk=chunk, min_length=min_length)
            else:
                genes = genbank_genes(record) if source.format == "genbank" else gff3_genes(record)
                rows = gene_rows(record, genes, flank=flank, min_length=min_length)
            label = group or record_group(record)
            if label == UNKNOWN_GROUP and source.label not in summary.unlabelled:
                summary.unlabelled.append(source.label)
            shared = {"source": source.label, "record": record.id, "organism": record.organism,
                      "group": label, "record_length": len(record.sequence)}
            for row in rows:
                row.update(shared, length=len(row["sequence"]))
                writer.add(row)
                summary.regions += 1
                summary.bases += row["length"]
            summary.records += 1
            summary.input_bases += len(record.sequence)
            if progress is not None:
                progress(record.id, len(record.sequence))


__all__ = ["CurationSummary", "DEFAULT_CHUNK", "SCHEMA", "UNKNOWN_GROUP", "curate_regions", "resolve_inputs"]
