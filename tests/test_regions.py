"""gener data regions / stats on slices of real genomes (tests/data/make_fixtures.py)."""

from __future__ import annotations

from pathlib import Path

import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

import gener.data.regions as regions_module
from gener.cli import app
from gener.data.genes import GROUP_TOKENS, genbank_genes, gff3_genes, parse_group, record_group
from gener.data.regions import curate_regions, gene_rows
from gener.data.stats import region_stats, save_stats
from gener.errors import GenerInputError
from gener.io import Feature, read_fasta, read_genbank, read_gff3
from gener.io.records import AnnotatedRecord
from gener.sequence import reverse_complement

DATA = Path(__file__).parent / "data"
ECOLI_GB = DATA / "ecoli_k12_slices.gbk"
ECOLI_FA = DATA / "ecoli_k12_60kb.fa"
CLE_GB = DATA / "coxiella_endosymbiont_pseudo.gbk"
CBU_GB = DATA / "coxiella_burnetii_slices.gbk"
YEAST_GFF = DATA / "yeast_chrI_136801-152000.gff3"
YEAST_FA = DATA / "yeast_chrI_136801-152000.fa"
STOPS = {"TAA", "TAG", "TGA"}


def rows(path) -> list[dict]:
    return pq.read_table(path).to_pylist()


def by_id(path) -> dict[str, dict]:
    return {r["gene_id"]: r for r in rows(path)}


@pytest.fixture(scope="module")
def genomes():
    return {r.id: r.sequence for f in (ECOLI_GB, CLE_GB, CBU_GB) for r in read_genbank(f)}


def test_known_genes_have_type_coordinates_strand_and_sequence(tmp_path, genomes):
    out = tmp_path / "r.parquet"
    summary = curate_regions([str(ECOLI_GB), str(CLE_GB)], out)
    genes = by_id(out)
    assert summary.regions == len(genes) == sum(
        f.type == "gene" for p in (ECOLI_GB, CLE_GB) for r in read_genbank(p) for f in r.features)
    thrL = genes["b0001"]
    genome = genomes[thrL["record"]]
    assert (thrL["gene_type"], thrL["strand"], thrL["start"], thrL["end"]) == ("protein_coding", 1, 189, 255)
    assert thrL["sequence"] == genome[189:255] and thrL["sequence"].startswith("ATG")
    assert (thrL["group"], thrL["source"], thrL["name"]) == ("bacteria", ECOLI_GB.name, "thrL")
    yaaA = genes["b0006"]  # minus strand: the region reads 5'->3' like its mRNA
    assert (yaaA["strand"], yaaA["start"], yaaA["end"]) == (-1, 5682, 6459)
    assert yaaA["sequence"] == reverse_complement(genome[5682:6459])
    assert yaaA["sequence"][:3] == "ATG" and yaaA["sequence"][-3:] in STOPS
    types = {g: genes[g]["gene_type"] for g in ("b0201", "b0202", "b4413", "CleRt_RS09235")}
    assert types == {"b0201": "rRNA", "b0202": "tRNA", "b4413": "misc_RNA", "CleRt_RS09235": "tmRNA"}
    # overlapping genes (yaaW on -, htgA on + inside it) are each their own region
    assert genes["b0011"]["start"] < genes["b0012"]["start"] < genes["b0012"]["end"] < genes["b0011"]["end"]
    assert all(r["length"] == len(r["sequence"]) == r["end"] - r["start"] for r in genes.values())


def test_pseudogenes_are_typed_as_such(tmp_path):
    out = tmp_path / "r.parquet"
    curate_regions([str(CLE_GB)], out)
    genes = by_id(out)
    pseudo = {f.locus_tag for r in read_genbank(CLE_GB) for f in r.features if f.type == "gene" and f.pseudo}
    assert len(pseudo) == 6
    assert {g for g, r in genes.items() if r["gene_type"] == "pseudogene"} == pseudo
    assert genes["CleRt_RS06025"]["strand"] == -1 and genes["CleRt_RS06025"]["biotype"] == "CDS"


def test_intron_split_rrna_region_is_its_whole_span(tmp_path, genomes):
    out = tmp_path / "r.parquet"
    curate_regions([str(CBU_GB)], out)
    rrna = [f for r in read_genbank(CBU_GB) for f in r.features if f.type == "rRNA" and len(f.parts) > 1]
    assert rrna, "fixture lost its 4-part 23S rRNA"
    region = by_id(out)[rrna[0].locus_tag]
    assert region["gene_type"] == "rRNA" and (region["start"], region["end"]) == (rrna[0].start, rrna[0].end)


def test_flanks_are_clipped_at_record_edges_and_upstream_comes_first(tmp_path, genomes):
    out = tmp_path / "r.parquet"
    curate_regions([str(ECOLI_GB)], out, flank=200)
    genes = by_id(out)
    thrL = genes["b0001"]  # 189 bp from the record start: the left flank is clipped to 189
    assert (thrL["region_start"], thrL["region_end"]) == (0, 455)
    assert thrL["sequence"] == genomes[thrL["record"]][0:455]
    gmhB, yafC = genes["b0200"], genes["b0208"]  # first base of a record / last base of it
    assert gmhB["region_start"] == 0 and gmhB["region_end"] == gmhB["end"] + 200
    assert yafC["region_end"] == yafC["end"] == yafC["record_length"]
    yaaA = genes["b0006"]
    genome = genomes[yaaA["record"]]
    assert yaaA["sequence"] == reverse_complement(genome[yaaA["region_start"]:yaaA["region_end"]])
    assert yaaA["sequence"][200:203] == "ATG"  # the 5' (upstream) flank precedes the gene
    assert yaaA["sequence"][200:-200] == reverse_complement(genome[5682:6459])


def test_circular_records_wrap_genes_and_flanks_across_the_origin():
    seq = "".join("ACGT"[(i * 7 + i // 3) % 4] for i in range(300))
    wrap = Feature("gene", 0, 300, 1, [(285, 300), (0, 30)], {"locus_tag": ["w1"]})
    minus = Feature("gene", 0, 300, -1, [(0, 30), (285, 300)], {"locus_tag": ["w2"]})
    near = Feature("gene", 10, 40, 1, [(10, 40)], {"locus_tag": ["n1"]})
    genes = [(f, "protein_coding", "CDS") for f in (wrap, minus, near)]
    circ = {r["gene_id"]: r for r in gene_rows(AnnotatedRecord("c", "", seq, circular=True), genes, flank=20)}
    assert (circ["w1"]["start"], circ["w1"]["end"]) == (285, 330)
    assert circ["w1"]["sequence"] == seq[265:] + seq[:50]
    assert circ["w2"]["sequence"] == reverse_complement(seq[265:] + seq[:50])
    assert (circ["n1"]["region_start"], circ["n1"]["region_end"]) == (290, 360)  # flank crosses the origin
    assert circ["n1"]["sequence"] == seq[290:] + seq[:60]
    lin = {r["gene_id"]: r for r in gene_rows(AnnotatedRecord("l", "", seq), genes, flank=20)}
    assert (lin["n1"]["region_start"], lin["n1"]["sequence"]) == (0, seq[0:60])
    assert lin["w1"]["sequence"] == seq  # a linear record has no origin to cross: the envelope


def test_whole_mode_chunks_tile_every_record(tmp_path):
    out = tmp_path / "w.parquet"
    curate_regions([str(ECOLI_GB), str(ECOLI_FA)], out, whole=True, chunk=5000, min_length=0)
    records = {}
    for r in rows(out):
        assert r["gene_type"] == "chunk" and r["strand"] == 1 and r["end"] - r["start"] <= 5000
        records.setdefault((r["source"], r["record"]), []).append(r)
    expected = {(ECOLI_GB.name, r.id): r.sequence for r in read_genbank(ECOLI_GB)}
    expected |= {(ECOLI_FA.name, r.id): r.sequence for r in read_fasta(ECOLI_FA)}
    assert records.keys() == expected.keys()
    for key, chunks in records.items():
        assert [c["start"] for c in chunks] == list(range(0, len(expected[key]), 5000))
        assert "".join(c["sequence"] for c in chunks) == expected[key]
    curate_regions([str(ECOLI_FA)], out, whole=True, chunk=25000, min_length=10001)  # drops the 10 kb tail
    assert [r["length"] for r in rows(out)] == [25000, 25000]


def test_gff3_with_separate_fasta(tmp_path):
    out = tmp_path / "y.parquet"
    summary = curate_regions([str(YEAST_GFF)], out, fasta=[YEAST_FA])
    assert summary.unlabelled == [YEAST_GFF.name]
    genes = by_id(out)
    genome = next(read_fasta(YEAST_FA)).sequence
    assert set(genes) == {"YAL008W", "YAL007C", "tP(UGG)A", "YAL005C", "YAL004W", "YAL003W", "snR18",
                          "YAL002W", "YAL001C"}  # not the LTR, ARS or centromere
    erp2 = genes["YAL007C"]
    assert (erp2["gene_type"], erp2["strand"], erp2["start"], erp2["end"]) == ("protein_coding", -1, 899, 1547)
    assert erp2["sequence"] == reverse_complement(genome[899:1547]) and erp2["sequence"][:3] == "ATG"
    assert (genes["tP(UGG)A"]["gene_type"], genes["snR18"]["gene_type"], genes["snR18"]["biotype"]) == (
        "tRNA", "ncRNA", "snoRNA")
    assert (genes["YAL003W"]["start"], genes["YAL003W"]["end"]) == (5375, 6362)  # intron inside the region
    assert {r["group"] for r in genes.values()} == {"unknown"}
    curate_regions([str(YEAST_GFF)], out, fasta=[YEAST_FA], group="<fng>")
    assert {r["group"] for r in rows(out)} == {"fungi"}


def test_gff3_gene_types_from_biotype_type_and_children(tmp_path):
    gff = tmp_path / "g.gff3"
    lines = [
        "chr01\tx\tgene\t1\t30\t.\t+\t.\tID=g1;gene_biotype=pseudogene",
        "chr01\tx\tgene\t40\t90\t.\t-\t.\tID=g2",
        "chr01\tx\tmRNA\t40\t90\t.\t-\t.\tID=m2;Parent=g2",
        "chr01\tx\tCDS\t40\t90\t.\t-\t0\tParent=m2",
        "chr01\tx\tncRNA_gene\t100\t120\t.\t+\t.\tID=g3",
        "chr01\tx\tgene\t130\t160\t.\t+\t.\tID=g4",
        "chr01\tx\ttRNA\t130\t160\t.\t+\t.\tID=t4;Parent=g4",
        "chr01\tx\tmRNA\t170\t190\t.\t+\t.\tID=m5",  # a transcript with no gene above it
        "chr01\tx\tpseudogene\t191\t199\t.\t+\t.\tID=p6",
        "chr01\tx\tgene\t191\t199\t.\t+\t.\tID=g7;pseudo=true",
        "chr01\tx\trepeat_region\t1\t200\t.\t+\t.\tID=r8",
    ]
    gff.write_text("##gff-version 3\n" + "\n".join(lines) + "\n")
    fasta = tmp_path / "g.fa"
    fasta.write_text(">Umaydis:chr01:1:+:200\n" + "ACGT" * 50 + "\n")  # seqid is one ':' field
    typed = {f.id: kind for f, kind, _ in gff3_genes(next(read_gff3(gff)))}
    assert typed == {"g1": "pseudogene", "g2": "protein_coding", "g3": "ncRNA", "g4": "tRNA",
                     "m5": "protein_coding", "p6": "pseudogene", "g7": "pseudogene"}
    out = tmp_path / "g.parquet"
    curate_regions([str(gff)], out, fasta=[fasta])
    assert [r["gene_id"] for r in rows(out)] == ["g1", "g2", "g3", "g4", "m5", "p6", "g7"]


def test_genbank_products_are_claimed_by_their_gene():
    def feature(kind, start, end, strand=1, **q):
        return Feature(kind, start, end, strand, qualifiers={k: [v] for k, v in q.items()})

    record = AnnotatedRecord("r", "", "A" * 1000, features=[
        feature("gene", 0, 90, locus_tag="a"), feature("CDS", 0, 90, locus_tag="a"),
        feature("gene", 100, 187, -1, locus_tag="b"), feature("tRNA", 99, 187, -1),  # untagged, 1 bp off (E. coli leuV)
        feature("CDS", 200, 290, locus_tag="c"),  # no gene feature: a gene of its own (kaptive)
        feature("gene", 300, 400, locus_tag="d", pseudo="true"),
        feature("gene", 500, 600, locus_tag="e"),
        feature("ncRNA", 500, 600, locus_tag="e", ncRNA_class="antisense_RNA"),
        feature("gene", 700, 800, locus_tag="f"),  # nothing but the gene
        feature("repeat_region", 0, 1000),
    ])
    record.features[5].pseudo = True
    typed = [(f.locus_tag, kind, biotype) for f, kind, biotype in genbank_genes(record)]
    assert typed == [("a", "protein_coding", "CDS"), ("b", "tRNA", "tRNA"), ("c", "protein_coding", "CDS"),
                     ("d", "pseudogene", "gene"), ("e", "ncRNA", "antisense_RNA"), ("f", "other", "gene")]


def test_groups_from_lineage_and_replicon():
    def group(taxonomy, description=""):
        return record_group(AnnotatedRecord("x", description, "", taxonomy=taxonomy))

    assert group(["Eukaryota", "Metazoa", "Chordata", "Craniata", "Vertebrata", "Mammalia", "Primates"]) == (
        "vertebrate_mammalian")
    assert group(["Eukaryota", "Metazoa", "Chordata", "Craniata", "Vertebrata", "Actinopterygii"]) == "vertebrate_other"
    assert group(["Eukaryota", "Metazoa", "Arthropoda", "Insecta"]) == "invertebrate"
    assert group(["Eukaryota", "Viridiplantae", "Streptophyta"]) == "plant"
    assert group(["Eukaryota", "Fungi", "Basidiomycota"]) == "fungi"
    assert group(["Eukaryota", "Apicomplexa", "Plasmodium"]) == "protozoa"
    assert group(["Archaea", "Euryarchaeota"]) == "archaea"
    assert group(["Viruses", "Caudoviricetes"]) == "viral"
    assert group(["Bacteria", "Pseudomonadota"], "Coxiella burnetii RSA 493 plasmid pQpH1") == "plasmid"
    assert group(["Eukaryota", "Metazoa", "Vertebrata", "Mammalia"], "Homo sapiens mitochondrion") == "mitochondrion"
    assert group(["Eukaryota", "Viridiplantae"], "Arabidopsis thaliana chloroplast") == "plastid"
    assert group([]) == "unknown"
    assert parse_group("<bct>") == parse_group("bct") == parse_group("Bacteria") == "bacteria"
    assert parse_group("mammal") == "vertebrate_mammalian"
    assert set(GROUP_TOKENS.values()) == {"<mam>", "<vrt>", "<inv>", "<pln>", "<fng>", "<prt>", "<arc>", "<bct>",
                                          "<mit>", "<plt>", "<plm>", "<vir>"}
    with pytest.raises(GenerInputError, match="unknown taxonomic group"):
        parse_group("martians")


def test_stats_tables_add_up(tmp_path):
    out = tmp_path / "r.parquet"
    curate_regions([str(ECOLI_GB), str(CLE_GB), str(CBU_GB)], out, flank=50)
    table = rows(out)
    groups, types = region_stats(out)
    for stats in (groups, types):
        *body, total = stats.rows
        assert total[0] == "total" and total[1] == len(table) and total[3] == sum(r["length"] for r in table)
        assert sum(r[1] for r in body) == total[1] and sum(r[3] for r in body) == total[3]
        assert abs(sum(r[2] for r in body) - 100) < 1e-9 and abs(sum(r[4] for r in body) - 100) < 1e-9
    assert {r[0]: r[1] for r in groups.rows} == {"bacteria": 70, "plasmid": 11, "total": 81}
    assert {r[0]: r[1] for r in types.rows}["pseudogene"] == sum(r["gene_type"] == "pseudogene" for r in table)
    written = save_stats((groups, types), tmp_path / "stats")
    assert sorted(p.name for p in written) == ["gene_types.csv", "gene_types.md", "groups.csv", "groups.md"]
    assert (tmp_path / "stats" / "groups.csv").read_text().splitlines()[-1].startswith("total,81,")


def test_parquet_is_written_in_row_groups(tmp_path, monkeypatch):
    monkeypatch.setattr(regions_module, "_ROW_GROUP_BASES", 5000)
    out = tmp_path / "r.parquet"
    curate_regions([str(ECOLI_GB)], out)
    assert pq.ParquetFile(out).metadata.num_row_groups > 5


def test_bad_input_errors_leave_no_output(tmp_path):
    out = tmp_path / "r.parquet"
    cases = [
        (([str(ECOLI_FA)],), {}, "FASTA has no annotation"),
        (([str(YEAST_GFF)],), {}, "GFF3 without ##FASTA"),
        (([str(tmp_path / "missing.gbk")],), {}, "unknown dataset"),
        (([str(ECOLI_GB)],), {"flank": -1}, "--flank"),
    ]
    for args, kwargs, message in cases:
        with pytest.raises(GenerInputError, match=message):
            curate_regions(*args, out, **kwargs)
    short = tmp_path / "short.fa"
    short.write_text(">chrI:136801-152000\n" + "ACGT" * 100 + "\n")
    with pytest.raises(GenerInputError, match="outside the sequence"):
        curate_regions([str(YEAST_GFF)], out, fasta=[short])
    with pytest.raises(GenerInputError, match="output directory .*nowhere does not exist"):
        curate_regions([str(ECOLI_GB)], tmp_path / "nowhere" / "r.parquet")
    assert list(tmp_path.iterdir()) == [short]  # no partial parquet, no temp file


def test_cli_regions_stats_and_errors(tmp_path):
    runner = CliRunner()
    out = tmp_path / "r.parquet"
    result = runner.invoke(app, ["data", "regions", str(ECOLI_GB), str(CLE_GB), "-o", str(out), "--flank", "10"])
    assert result.exit_code == 0, result.output
    assert "59 regions" in result.output
    result = runner.invoke(app, ["data", "stats", str(out), "-o", str(tmp_path / "stats")])
    assert result.exit_code == 0 and "pseudogene" in result.output and (tmp_path / "stats" / "groups.md").is_file()
    result = runner.invoke(app, ["data", "regions", str(ECOLI_FA), "-o", str(tmp_path / "x.parquet")])
    assert result.exit_code == 2 and "FASTA has no annotation" in result.output
    result = runner.invoke(app, ["data", "stats", str(ECOLI_FA)])
    assert result.exit_code == 2 and "not a parquet file" in result.output
