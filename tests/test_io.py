"""gener.io on slices of real genomes (tests/data/make_fixtures.py says where each is from)."""

from __future__ import annotations

import bz2
import gzip
import io
import os
from pathlib import Path

import pytest
from Bio.Seq import Seq

import gener.io.fasta as fasta_module
from gener.errors import GenerInputError
from gener.io import (
    AnnotatedRecord,
    FastaRecord,
    Feature,
    detect_format,
    read_fasta,
    read_genbank,
    read_gff3,
    read_sequences,
    write_fasta,
    write_gff3,
)

DATA = Path(__file__).parent / "data"
ECOLI_FA = DATA / "ecoli_k12_60kb.fa"
ECOLI_GB = DATA / "ecoli_k12_slices.gbk"
MYCO_GB = DATA / "mycoplasma_mycoides_t4.gbk"
CBU_GB = DATA / "coxiella_burnetii_slices.gbk"
CLE_GB = DATA / "coxiella_endosymbiont_pseudo.gbk"
YEAST_GFF = DATA / "yeast_chrI_136801-152000.gff3"
YEAST_FA = DATA / "yeast_chrI_136801-152000.fa"
GENBANK_FIXTURES = [ECOLI_GB, MYCO_GB, CBU_GB, CLE_GB]


def put(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def by_tag(record: AnnotatedRecord, feature_type: str, tag: str) -> Feature:
    return next(f for f in record.features if f.type == feature_type and tag in (f.locus_tag, f.gene))


def translate(feature: Feature, sequence: str) -> str:
    """Protein as GenBank writes /translation: codon_start honoured, alternative start -> M."""
    nt = feature.extract(sequence)[int(feature.qualifiers.get("codon_start", ["1"])[0]) - 1 :]
    protein = str(Seq(nt[: len(nt) // 3 * 3]).translate(table=feature.transl_table)).removesuffix("*")
    return protein if feature.five_prime_partial else "M" + protein[1:]


# --- FASTA -------------------------------------------------------------------------


def test_fasta_fixture_facts():
    (rec,) = read_fasta(ECOLI_FA)
    assert rec.id == "NC_000913.2:1-60000"
    assert rec.description == "Escherichia coli K-12 MG1655, first 60 kb"
    assert len(rec.sequence) == 60_000
    assert rec.sequence.startswith("AGCTTTTCATTCTGACTGCAACGGGCAATATGTCTCTGTGTGGATTAAAAAAAGAGTG")


def test_fasta_tolerates_crlf_lowercase_blank_lines_and_comments(tmp_path):
    text = (
        ";old-style comment\r\n\r\n>seq1 first>one\r\nacgtn\r\n\r\nAC GT\r\n"
        ">seq2\n;comment inside\nacguu\n>empty\n>seq3 no final newline\nGGCC"
    )
    records = list(read_fasta(put(tmp_path, "x.fa", text.encode())))
    assert records == [
        FastaRecord("seq1", "first>one", "ACGTNACGT"),
        FastaRecord("seq2", "", "ACGTT"),
        FastaRecord("empty", "", ""),
        FastaRecord("seq3", "no final newline", "GGCC"),
    ]


@pytest.mark.parametrize("chunk", [1, 2, 3, 7, 64, 1 << 22])
def test_fasta_chunk_boundaries_do_not_matter(tmp_path, monkeypatch, chunk):
    text = b">a x\nACGT\nAC\n\n>b\nGG\n>c\n>d\nTTTT"
    monkeypatch.setattr(fasta_module, "_CHUNK", chunk)
    got = [(r.id, r.sequence) for r in read_fasta(put(tmp_path, "c.fa", text))]
    assert got == [("a", "ACGTAC"), ("b", "GG"), ("c", ""), ("d", "TTTT")]


@pytest.mark.parametrize("name, compress", [("plain.fa", gzip.compress), ("looks_plain.txt", gzip.compress),
                                            ("x.fa.bz2", bz2.compress)])
def test_compression_detected_by_magic_bytes(tmp_path, name, compress):
    path = put(tmp_path, name, compress(ECOLI_FA.read_bytes()))
    assert list(read_fasta(path)) == list(read_fasta(ECOLI_FA))
    assert detect_format(path) == "fasta"


def test_fasta_protein_mode(tmp_path):
    path = put(tmp_path, "p.faa", b">p1\nMKRIS TTITT\nTITT*\n")
    assert next(read_fasta(path, dna=False)).sequence == "MKRISTTITTTITT*"


def test_write_fasta_round_trip_width_and_gz(tmp_path):
    records = list(read_fasta(ECOLI_FA))
    for name, width in [("w.fa", 70), ("one.fa", None), ("z.fa.gz", 60)]:
        write_fasta(tmp_path / name, records, width=width)
        assert list(read_fasta(tmp_path / name)) == records
    lines = (tmp_path / "w.fa").read_text().splitlines()
    assert lines[0] == ">NC_000913.2:1-60000 Escherichia coli K-12 MG1655, first 60 kb"
    assert {len(x) for x in lines[1:-1]} == {70}
    assert len((tmp_path / "one.fa").read_text().splitlines()) == 2
    write_fasta(tmp_path / "t.fa", [("a", "ACGT"), ("b", "MKV")])
    assert (tmp_path / "t.fa").read_text() == ">a\nACGT\n>b\nMKV\n"


def test_writers_leave_nothing_behind_on_error(tmp_path):
    target = tmp_path / "out.fa"
    target.write_text(">old\nACGT\n")

    def records():
        yield FastaRecord("ok", "", "ACGT")
        raise RuntimeError("upstream failure")

    with pytest.raises(RuntimeError):
        write_fasta(target, records())
    with pytest.raises(ValueError):
        write_fasta(tmp_path / "new.fa", [FastaRecord("has space", "", "ACGT")])
    gff = tmp_path / "out.gff3"
    bad = AnnotatedRecord("r", "", "ACGT", [Feature("CDS", 0, 40)])
    with pytest.raises(ValueError):
        write_gff3(gff, [AnnotatedRecord("ok", "", "ACGT"), bad])
    assert target.read_text() == ">old\nACGT\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.fa"]


def test_written_files_get_normal_permissions(tmp_path):
    write_fasta(tmp_path / "p.fa", [("a", "ACGT")])
    umask = os.umask(0)
    os.umask(umask)
    assert (tmp_path / "p.fa").stat().st_mode & 0o777 == 0o666 & ~umask


# --- GenBank -----------------------------------------------------------------------


def test_genbank_ecoli_facts():
    thr, rrnh, prfb = read_genbank(ECOLI_GB)
    assert [r.id for r in (thr, rrnh, prfb)] == [
        "NC_000913.2:1-18655", "NC_000913.2:222833-230881", "NC_000913.2:3031000-3036128"]
    assert thr.organism == "Escherichia coli K12"
    assert thr.taxonomy[:3] == ["Bacteria", "Proteobacteria", "Gammaproteobacteria"]
    assert thr.transl_table == 11 and not thr.circular
    # Same bases as the FASTA fixture cut from the same genome.
    assert thr.sequence == next(read_fasta(ECOLI_FA)).sequence[: len(thr.sequence)]
    thrl = by_tag(thr, "CDS", "thrL")  # GenBank 190..255
    assert (thrl.start, thrl.end, thrl.strand, thrl.locus_tag) == (189, 255, 1, "b0001")
    assert thrl.product == "thr operon leader peptide"
    assert translate(thrl, thr.sequence) == thrl.qualifiers["translation"][0] == "MKRISTTITTTITITTGNGAG"
    thra = by_tag(thr, "CDS", "thrA")  # 337..2799
    assert (thra.start, thra.end, thra.strand) == (336, 2799, 1)
    assert thra.extract(thr.sequence)[:3] == "ATG"
    assert by_tag(thr, "misc_RNA", "sokC").parts == [(16951, 17006)]
    assert {(f.type, f.gene) for f in rrnh.features if f.type in ("rRNA", "tRNA")} == {
        ("rRNA", "rrsH"), ("rRNA", "rrlH"), ("rRNA", "rrfH"), ("tRNA", "ileV"), ("tRNA", "alaV"), ("tRNA", "aspU")}
    # prfB: complement(join(...)) for the RF2 +1 programmed frameshift; parts 5'->3'.
    rf2 = by_tag(prfb, "CDS", "prfB")
    assert rf2.strand == -1 and rf2.parts == [(3230, 3305), (2206, 3229)]
    assert (rf2.start, rf2.end, len(rf2)) == (2206, 3305, 1098)
    assert translate(rf2, prfb.sequence) == rf2.qualifiers["translation"][0]


@pytest.mark.parametrize("path", GENBANK_FIXTURES, ids=lambda p: p.name)
def test_every_cds_translation_matches_its_qualifier(path):
    checked = 0
    for rec in read_genbank(path):
        for f in rec.features:
            if f.type == "CDS" and "translation" in f.qualifiers:
                assert translate(f, rec.sequence) == f.qualifiers["translation"][0], f.locus_tag
                checked += 1
    assert checked >= 6


def test_mycoplasma_uses_table_4_and_joins():
    records = list(read_genbank(MYCO_GB))
    assert all(r.transl_table == 4 for r in records)
    assert all(f.transl_table == 4 for r in records for f in r.features)
    first = records[0]
    # Programmed frameshift on the minus strand: complement(join(22055..22974,22974..23466)).
    tnp = by_tag(first, "CDS", "TS60_RS06235")
    assert tnp.strand == -1 and tnp.parts == [(4250, 4743), (3331, 4251)]
    assert tnp.qualifiers["ribosomal_slippage"] == ["true"]
    srld = by_tag(first, "CDS", "srlD")  # its TGA codon is Trp in table 4, a stop in table 11
    assert "*" in str(Seq(srld.extract(first.sequence)).translate(table=11))[:-1]
    assert translate(srld, first.sequence) == srld.qualifiers["translation"][0]
    plus_join = by_tag(records[3], "CDS", "TS60_RS06940")
    assert plus_join.strand == 1 and plus_join.parts == [(8151, 8647), (8646, 9566)]
    assert by_tag(records[3], "tmRNA", "ssrA").parts == [(1547, 1958)]
    assert by_tag(records[1], "ncRNA", "ffs").strand == -1


def test_partial_flags_are_genome_coordinates_and_match_ncbi_notes():
    partial = [
        (f, " ".join(f.qualifiers.get("note", [])))
        for path in GENBANK_FIXTURES for r in read_genbank(path) for f in r.features
        if f.type == "CDS" and (f.partial_start or f.partial_end)
    ]
    assert len(partial) == 4
    for f, note in partial:
        if "missing N-terminus" in note:
            assert f.five_prime_partial and not f.three_prime_partial
        if "missing C-terminus" in note:
            assert f.three_prime_partial and not f.five_prime_partial
    edge = next(f for f, _ in partial if f.locus_tag == "TS60_RS07145")  # complement(<1..218)
    assert (edge.start, edge.end, edge.strand, edge.partial_start, edge.partial_end) == (0, 218, -1, True, False)
    mid = next(f for f, _ in partial if f.locus_tag == "TS60_RS00130")  # complement(11616..>11939)
    assert (mid.partial_start, mid.partial_end, mid.five_prime_partial, mid.pseudo) == (False, True, True, True)


def test_pseudogenes():
    (rec,) = read_genbank(CLE_GB)
    pseudo = [f for f in rec.features if f.pseudo]
    assert len(pseudo) == 12
    assert all(f.qualifiers["pseudo"] == ["true"] for f in pseudo)
    assert not any("translation" in f.qualifiers for f in pseudo)
    assert by_tag(rec, "tmRNA", "ssrA").product == "transfer-messenger RNA"


def test_chromosome_and_plasmid_and_a_four_part_rrna():
    chromosome, plasmid = read_genbank(CBU_GB)
    assert chromosome.description == "Coxiella burnetii RSA 493, complete genome"
    assert plasmid.description == "Coxiella burnetii RSA 493 plasmid pQpH1, complete sequence"
    rrl = by_tag(chromosome, "rRNA", "CBU_23S")
    assert rrl.parts == [(2640, 3805), (4243, 4986), (5274, 5308), (6028, 6980)]
    gaps = [(a_end, b_start) for (_, a_end), (b_start, _) in zip(rrl.parts, rrl.parts[1:])]
    inserts = sorted(f.parts[0] for f in chromosome.features if f.type in ("intron", "misc_feature"))
    assert gaps == inserts  # the IVS and the two introns are exactly the gaps of the join
    assert sum(f.pseudo for f in plasmid.features) == 5


def test_genbank_gz_equals_plain(tmp_path):
    path = put(tmp_path, "slices.gbk", gzip.compress(MYCO_GB.read_bytes()))
    assert list(read_genbank(path)) == list(read_genbank(MYCO_GB))


# --- GFF3 --------------------------------------------------------------------------


def yeast(**kwargs):
    (rec,) = read_gff3(YEAST_GFF, fasta=YEAST_FA, **kwargs)
    return rec


def test_gff3_yeast_facts():
    rec = yeast()
    assert rec.id == "chrI:136801-152000" and len(rec.sequence) == rec.length == 15_200
    efb1 = next(f for f in rec.features if f.id == "YAL003W")
    (cds,) = efb1.children
    assert cds.type == "CDS" and cds.parent_ids == ["YAL003W"] and cds.gene == "EFB1"
    assert cds.parts == [(5375, 5455), (5821, 6362)]  # one intron, GFF 5376-5455 and 5822-6362
    protein = str(Seq(cds.extract(rec.sequence)).translate())
    assert protein.startswith("MASTDFSKIETL") and protein.index("*") == len(protein) - 1
    tfc3 = next(f for f in rec.features if f.type == "CDS" and f.parent_ids == ["YAL001C"])
    assert tfc3.strand == -1 and tfc3.parts == [(14298, 14368), (10795, 14208)]
    assert str(Seq(tfc3.extract(rec.sequence)).translate()).count("*") == 1
    assert efb1.qualifiers["Ontology_term"][0] == "GO:0005840"  # comma-separated values
    snr18 = next(f for f in rec.features if f.id == "snR18")
    assert snr18.qualifiers["Note"][0].startswith("C/D box small nucleolar RNA (snoRNA); commonly")
    trna = next(f for f in rec.features if f.type == "tRNA")
    assert trna.id == "tP(UGG)A" and [c.type for c in trna.children] == ["noncoding_exon"] * 2
    cen = next(f for f in rec.features if f.id == "CEN1")
    assert len(cen.children) == 3 and cen.strand == 1
    ars = next(f for f in rec.features if f.id == "ARS108")
    assert ars.strand == 0 and ars.source == "SGD"


def test_gff3_embedded_fasta_and_no_fasta(tmp_path):
    combined = YEAST_GFF.read_bytes() + b"##FASTA\n" + YEAST_FA.read_bytes()
    path = put(tmp_path, "y.gff3.gz", gzip.compress(combined))
    (embedded,) = read_gff3(path)
    assert embedded == yeast()
    assert next(read_sequences(path)).sequence == embedded.sequence
    (bare,) = read_gff3(YEAST_GFF)
    assert bare.sequence == "" and bare.length == 15_200 and bare.features == embedded.features


def test_gff3_round_trip_is_exact_and_keeps_phases(tmp_path):
    rec = yeast()
    write_gff3(tmp_path / "y.gff3", [rec], include_fasta=True)
    (back,) = read_gff3(tmp_path / "y.gff3")
    assert back == rec
    phases = lambda p: [ln.split("\t")[7] for ln in p.read_text().splitlines() if "\tCDS\t" in ln]  # noqa: E731
    assert phases(tmp_path / "y.gff3") == phases(YEAST_GFF)
    assert "1" in phases(YEAST_GFF) and "2" in phases(YEAST_GFF)


@pytest.mark.parametrize("path", GENBANK_FIXTURES, ids=lambda p: p.name)
def test_genbank_to_gff3_and_back(tmp_path, path):
    records = list(read_genbank(path))
    write_gff3(tmp_path / "out.gff3", records, include_fasta=True)
    back = list(read_gff3(tmp_path / "out.gff3"))
    assert [(r.id, r.description, r.sequence, r.transl_table) for r in back] == [
        (r.id, r.description, r.sequence, r.transl_table) for r in records]
    for rec, got in zip(records, back):
        assert len(got.features) == len(rec.features)
        for want, have in zip(rec.features, got.features):
            if len(want.parts) > 1 and "ID" not in want.qualifiers:  # the writer names multi-part features
                assert have.qualifiers.pop("ID") == [f"{rec.id}_{want.type}_{want.start + 1}_{want.end}"]
            assert have == want


def test_gff3_writer_format_and_escaping(tmp_path):
    nasty = {"ID": ["cds;1"], "Note": ["a=b; c,d & 100% \t tab"], "product": ["x", "y"]}
    rec = AnnotatedRecord("contig 1", "", "ACGT" * 30, [
        Feature("CDS", 2, 92, -1, qualifiers=nasty, partial_start=True, score=12.5, source="gener"),
        Feature("gene", 0, 30, 1, pseudo=True, transl_table=4),
    ])
    out = io.StringIO()
    write_gff3(out, [rec])
    lines = out.getvalue().splitlines()
    assert lines[:2] == ["##gff-version 3", "##sequence-region contig%201 1 120"]
    cols = lines[2].split("\t")
    assert cols[:8] == ["contig%201", "gener", "CDS", "3", "92", "12.5", "-", "0"]
    assert cols[8] == "ID=cds%3B1;Note=a%3Db%3B c%2Cd %26 100%25 %09 tab;product=x,y;partial=10"
    assert lines[3].split("\t")[8] == "pseudo=true;transl_table=4"
    path = put(tmp_path, "w.gff3", out.getvalue().encode())
    (back,) = read_gff3(path)
    assert back.id == "contig 1" and back.features[0] == rec.features[0]
    gene = back.features[1]  # what the writer had to spell out is now in the qualifiers
    assert (gene.pseudo, gene.transl_table, gene.qualifiers) == (True, 4, {"pseudo": ["true"], "transl_table": ["4"]})


def test_gff3_reads_ncbi_partial_ranges(tmp_path):
    text = "##gff-version 3\nc1\tRefSeq\tCDS\t1\t300\t.\t+\t2\tID=c;start_range=.,1;partial=true\n"
    (rec,) = read_gff3(put(tmp_path, "n.gff3", text.encode()))
    (f,) = rec.features
    assert (f.partial_start, f.partial_end, f.qualifiers) == (True, False, {"ID": ["c"], "codon_start": ["3"]})


# --- format detection and errors ---------------------------------------------------


def test_read_sequences_detects_formats(tmp_path):
    gz = put(tmp_path, "e.dat", gzip.compress(ECOLI_GB.read_bytes()))
    ids = [r.id for r in read_sequences(gz)]
    assert ids == [r.id for r in read_genbank(ECOLI_GB)]
    assert [r.sequence for r in read_sequences(ECOLI_GB)] == [r.sequence for r in read_genbank(ECOLI_GB)]
    assert next(read_sequences(ECOLI_FA)).id == "NC_000913.2:1-60000"
    assert detect_format(YEAST_GFF) == "gff3"
    headerless = b"# made by hand\n" + YEAST_GFF.read_bytes().split(b"\n", 4)[4]
    assert detect_format(put(tmp_path, "h.gff", headerless)) == "gff3"
    with pytest.raises(GenerInputError, match="without a ##FASTA"):
        list(read_sequences(YEAST_GFF))


PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 8
TEXT = b"Dear reviewer,\nplease find attached.\n"


@pytest.mark.parametrize("reader", [read_fasta, read_genbank, read_gff3, read_sequences])
@pytest.mark.parametrize("data, message", [(PNG, "binary data"), (TEXT, "not a"), (b"", "empty")])
def test_not_a_sequence_file(tmp_path, reader, data, message):
    path = put(tmp_path, "input.fa", data)
    with pytest.raises(GenerInputError, match=message) as err:
        list(reader(path))
    assert err.value.path == str(path)
    assert str(err.value).startswith(str(path))


def _cut(data: bytes, marker: bytes, extra: int) -> bytes:
    return data[: data.index(marker) + extra]


@pytest.mark.parametrize("cut, record, line", [
    (lambda d: _cut(d, b"     CDS             14168", 30), "NC_000913.2:1-18655", 378),  # in features
    (lambda d: _cut(d, b"ORIGIN", 3000), "NC_000913.2:1-18655", 565),  # inside the sequence
    (lambda d: _cut(d, b"     tRNA            2549", 30), "NC_000913.2:222833-230881", 899),  # 2nd record
])
def test_truncated_genbank(tmp_path, cut, record, line):
    path = put(tmp_path, "cut.gbk", cut(ECOLI_GB.read_bytes()))
    with pytest.raises(GenerInputError, match="truncated") as err:
        list(read_genbank(path))
    assert (err.value.record, err.value.line) == (record, line)


def test_genbank_sequence_shorter_than_locus(tmp_path):
    data = ECOLI_GB.read_bytes()
    end = data.index(b"//\n")
    cut = data[: data.rindex(b"\n", 0, end - 200) + 1] + data[end:]  # drop whole sequence lines
    with pytest.raises(GenerInputError, match="18480 bytes of sequence, LOCUS promised 18655") as err:
        list(read_genbank(put(tmp_path, "short.gbk", cut)))
    assert err.value.record == "NC_000913.2:1-18655"


@pytest.mark.parametrize("source, reader", [(ECOLI_FA, read_fasta), (ECOLI_GB, read_genbank),
                                            (ECOLI_FA, read_sequences), (ECOLI_GB, read_sequences)])
def test_truncated_gzip(tmp_path, source, reader):
    packed = gzip.compress(source.read_bytes())
    path = put(tmp_path, "cut.gz", packed[: len(packed) // 2])
    with pytest.raises(GenerInputError, match="truncated or corrupt compressed") as err:
        list(reader(path))
    assert err.value.record is not None and err.value.line > 1


def test_invalid_characters(tmp_path):
    fa = ECOLI_FA.read_bytes().replace(b"GATTAAAAAAAGAGTG", b"GATTAAAAJAAGAGTG", 1)
    with pytest.raises(GenerInputError, match="invalid nucleotide 'J' at column 51") as err:
        list(read_fasta(put(tmp_path, "bad.fa", fa)))
    assert (err.value.record, err.value.line) == ("NC_000913.2:1-60000", 2)
    for body, symbol in [(b"AC-T", "-"), (b"AC>T", ">")]:
        with pytest.raises(GenerInputError, match=f"'{symbol}' at column 3") as err:
            list(read_fasta(put(tmp_path, "gap.fa", b">s\nACGT\n" + body + b"\n>t\nA\n")))
        assert (err.value.record, err.value.line) == ("s", 3)
    gb = ECOLI_GB.read_bytes().replace(b"        1 agcttttcat", b"        1 agcttjtcat", 1)
    with pytest.raises(GenerInputError, match="invalid nucleotide 'j'") as err:
        list(read_genbank(put(tmp_path, "bad.gbk", gb)))
    assert err.value.record == "NC_000913.2:1-18655"
    assert ECOLI_GB.read_text().splitlines()[err.value.line - 1].startswith("        1 agctttt")


def test_feature_outside_its_sequence(tmp_path):
    gb = ECOLI_GB.read_bytes().replace(b"     CDS             190..255", b"     CDS             190..25500", 1)
    with pytest.raises(GenerInputError, match="outside the sequence") as err:
        list(read_genbank(put(tmp_path, "o.gbk", gb)))
    assert (err.value.record, err.value.line) == ("NC_000913.2:1-18655", 26)
    gff = YEAST_GFF.read_bytes().replace(b"\t116\t712\t", b"\t116\t71200\t", 1)
    path = put(tmp_path, "o.gff3", gff)
    for kwargs in ({}, {"fasta": YEAST_FA}):
        with pytest.raises(GenerInputError, match="outside the sequence") as err:
            list(read_gff3(path, **kwargs))
        assert (err.value.path, err.value.record, err.value.line) == (str(path), "chrI:136801-152000", 5)


def test_malformed_gff3_lines(tmp_path):
    lines = YEAST_GFF.read_text().splitlines()
    broken = lines[:6] + ["\t".join(lines[6].split("\t")[:8])] + lines[7:]
    with pytest.raises(GenerInputError, match="expected 9 tab-separated columns") as err:
        list(read_gff3(put(tmp_path, "m.gff3", "\n".join(broken).encode())))
    assert err.value.line == 7
    with pytest.raises(GenerInputError, match="no sequence of that name"):
        list(read_gff3(YEAST_GFF, fasta=ECOLI_FA))


def test_genbank_real_world_blemishes_are_tolerated(tmp_path):
    """Trailing blanks on header lines and a '/transl_table=11)' typo, both seen in kaptive."""
    from gener.io import read_genbank

    text = (DATA / "ecoli_k12_slices.gbk").read_text()
    text = text.replace("FEATURES             Location/Qualifiers", "FEATURES             Location/Qualifiers  ")
    text = text.replace("/transl_table=11", "/transl_table=11)", 1)
    blemished = tmp_path / "blemished.gbk"
    blemished.write_text(text)
    clean = list(read_genbank(DATA / "ecoli_k12_slices.gbk"))
    again = list(read_genbank(blemished))
    assert [r.sequence for r in again] == [r.sequence for r in clean]
    assert [len(r.features) for r in again] == [len(r.features) for r in clean]
    assert {f.transl_table for r in again for f in r.features if f.type == "CDS"} == {11}
