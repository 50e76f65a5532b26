"""Rebuild the committed I/O fixtures: small windows cut from real, published genomes.

Sources (fetch into RAW, default /tmp/raw, with the ordinary clients):
  cd RAW && apt-get download cct-examples gbrowse-data \
    && dpkg -x cct-examples_*.deb cct && dpkg -x gbrowse-data_*.deb gbrowse
  pip download --no-deps --no-binary :all: -d RAW/pypi micomplete==1.1.1 pygenomeviz==1.7.0 pyrodigal==3.7.1
  (cd RAW/pypi && for f in *.tar.gz; do tar xzf $f; done)
Then: python tests/data/make_fixtures.py [RAW]
(umaydis_cds_families.fa and pombe_utr3_sample.csv come from the `gener data fetch` cache:
datasets umaydis and pombe-utr3.)

The cutting works on the text, not through a parser, so the slices keep NCBI's own
formatting (what the readers must cope with). A window is widened until no feature
crosses its edges, so every kept feature is whole; chromosome-wide regions are dropped.
Each slice is renamed ``ACCESSION.V:A-B`` (1-based, inclusive), the convention of ecoli_k12_60kb.fa.
"""

from __future__ import annotations

import gzip
import hashlib
import re
import sys
import textwrap
from pathlib import Path

HERE = Path(__file__).resolve().parent
RAW = Path(sys.argv[1] if len(sys.argv) > 1 else "/tmp/raw")

CCT = "cct/usr/share/doc/cct/examples/sample_projects/sample_project_3/comparison_genomes/NC_000913.gbk.gz"
MYCO = "pypi/pygenomeviz-1.7.0/tests/testdata/genbank/multi_record.gbff"
CBU = "pypi/micomplete-1.1.1/micomplete/test_data/coxiella_burnetii.gbff"
CLE = "pypi/micomplete-1.1.1/micomplete/test_data/coxiella-like_endosymbiont.gbff"
YEAST_GFF = "gbrowse/var/lib/gbrowse/databases/yeast_chr1+2/yeast_chr1+2.gff3"
YEAST_FA = "gbrowse/var/lib/gbrowse/databases/yeast_scaffolds/chr1.fa"
SHA256 = {
    CCT: "f5ccb73d0c68da186481e842b5d7df2bdcbb99b9edbc30f8abc8927dd589d4d4",
    MYCO: "d970ac57b7487f117eb8a04d446025b670b145426729676b7b7a033ed8aca89f",
    CBU: "9db761edb63390a548c2f9ead00bf089af49fc490ee3712d30f0209c8b27b3c0",
    CLE: "2cbb93cbdf562553572fab97a3d2df2ade5fc8b5e47eb871fbcbc9be761d991b",
    YEAST_GFF: "4c6cc20738db8adcc45d70c92705f7ca441acefdfe7c966080f7d6dbefae1679",
    YEAST_FA: "96ce637c5c5190878f32295d2d24572be21edccbf050b714f37f4e7013b024d1",
}
PACKAGE = {CCT: "Debian cct-examples 1:1.0.3-1", MYCO: "PyPI pygenomeviz 1.7.0 sdist",
           CBU: "PyPI micomplete 1.1.1 sdist", CLE: "PyPI micomplete 1.1.1 sdist",
           YEAST_GFF: "Debian gbrowse-data 2.56+dfsg-11", YEAST_FA: "Debian gbrowse-data 2.56+dfsg-11"}

# (output, source, [(record accession.version, first base, last base), ...]) -- 1-based.
GENBANK_SLICES = [
    # thr operon and the sokC misc_RNA (same bases as ecoli_k12_60kb.fa), the rrnH operon (rRNA, tRNA) and prfB,
    # whose CDS is a join: the RF2 +1 programmed frameshift.
    ("ecoli_k12_slices.gbk", CCT, [("NC_000913.2", 1, 18000), ("NC_000913.2", 223000, 230000),
                                   ("NC_000913.2", 3031000, 3036000)]),
    # Translation table 4; frameshifted pseudogenes, programmed-frameshift joins on both
    # strands, a pseudo CDS partial in mid-contig, contig-edge partials (<1), ncRNA, tmRNA.
    ("mycoplasma_mycoides_t4.gbk", MYCO, [("NZ_LAEX01000001.1", 20000, 31300),
                                          ("NZ_LAEX01000001.1", 59400, 59900),
                                          ("NZ_LAEX01000002.1", 1, 1500),
                                          ("NZ_LAEX01000002.1", 71000, 80200)]),
    # Chromosome window with the intron-split 23S rRNA (a 4-part join), plus the plasmid.
    ("coxiella_burnetii_slices.gbk", CBU, [("NC_002971.4", 165000, 174000), ("NC_004704.2", 1, 6500)]),
    # A decaying genome: pseudogenes with < and > ends inside the contig, tmRNA.
    ("coxiella_endosymbiont_pseudo.gbk", CLE, [("NZ_CP011126.1", 1283000, 1304000)]),
]
YEAST_WINDOW = ("chrI", 136801, 152000)  # EFB1 and TFC3 (spliced CDS), a tRNA, CEN1

# Prodigal 2.6.3's own outputs for SRR492066 (a 79.9 kb Mycoplasma contig), from pyrodigal's
# test data: the genome, the -p meta GFF, and the headers of the single-mode gene FASTA
# (coordinates, strand, partial flags, start type, RBS; the sequences are dropped).
PRODIGAL_DIR = "pypi/pyrodigal-3.7.1/src/pyrodigal/tests/data"
PRODIGAL_SHA256 = {
    "SRR492066.fna.gz": "484e50cf3f0ed0a3d5ea35e224ad1b5f6060c1fbb1e34234aae9963e406d38b7",
    "SRR492066.meta.gff": "4944b4b7ed38c410218bacdab6ed78e0834cc89be52365ed68b6e270c385d64e",
    "SRR492066.single.fna.gz": "4b709c5c29cc3a80fbfc5fcde1e19f2588efc056c7e4bb757345c168fc0dbff3",
}


def read_source(rel: str) -> str:
    path = RAW / rel
    if not path.exists():
        sys.exit(f"missing {path}: see the fetch steps at the top of {__file__}")
    data = path.read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    if digest != SHA256[rel]:
        sys.exit(f"{path}: sha256 {digest} differs from the expected {SHA256[rel]}")
    return (gzip.decompress(data) if data[:2] == b"\x1f\x8b" else data).decode()


def genbank_records(text: str) -> dict[str, str]:
    records = {}
    for chunk in text.split("\n//\n"):
        m = re.search(r"^VERSION\s+(\S+)", chunk, re.M)
        if m:
            records[m.group(1)] = chunk.lstrip("\n") + "\n"
    return records


def feature_blocks(features: str) -> list[tuple[str, str, str]]:
    """(key, location text, qualifier lines) per feature of a FEATURES section."""
    blocks, current = [], None
    for line in features.split("\n"):
        if re.match(r"^ {5}\S", line):
            current = [line[5:21].strip(), line[21:].strip(), []]
            blocks.append(current)
        elif current is not None and line.startswith(" " * 21):
            if line[21:].startswith("/") or current[2]:
                current[2].append(line)
            else:  # a long location continues on the next line
                current[1] += line[21:].strip()
    return [(k, loc, "\n".join(q)) for k, loc, q in blocks]


def span(location: str) -> tuple[int, int]:
    numbers = [int(n) for n in re.findall(r"\d+", location)]
    return min(numbers), max(numbers)


def widen(first: int, last: int, spans: list[tuple[int, int]]) -> tuple[int, int]:
    """Grow the window until no feature crosses an edge (chromosome-wide ones are dropped)."""
    changed = True
    while changed:
        changed = False
        for lo, hi in spans:
            if hi - lo > 100_000:
                continue
            if lo < first <= hi:
                first, changed = lo, True
            if lo <= last < hi:
                last, changed = hi, True
    return first, last


def slice_genbank(record: str, version: str, first: int, last: int, origin: str) -> str:
    head, rest = record.split("\nFEATURES", 1)
    features, seq_text = rest.split("\nORIGIN", 1)
    sequence = re.sub(r"[^A-Za-z]", "", seq_text)
    blocks = feature_blocks(features.split("\n", 1)[1])
    spans = [span(loc) for key, loc, _ in blocks if key != "source" and ":" not in loc]
    first, last = widen(first, last, spans)
    sub = sequence[first - 1 : last].lower()
    name = f"{version}:{first}-{last}"

    kept_head = []
    for block in re.split(r"\n(?=\S)", head):
        key = block.split()[0]
        if key == "LOCUS":
            block = re.sub(r"\s\d+ bp", lambda m: f" {len(sub):>{len(m.group(0)) - 4}} bp", block)
            block = block.replace("circular", "linear  ")
        elif key == "VERSION":
            block = f"VERSION     {name}"
        elif key not in ("DEFINITION", "ACCESSION", "KEYWORDS", "SOURCE"):
            continue  # references, comments, DBLINK: bulk, not needed by the tests
        kept_head.append(block)
    note = f"Bases {first}..{last} of {version}, cut from {PACKAGE[origin]}: {origin}, by tests/data/make_fixtures.py."
    kept_head.append("COMMENT     " + "\n            ".join(textwrap.wrap(note, 68)))

    def shift(loc: str) -> str:
        return re.sub(r"\d+", lambda m: str(int(m.group(0)) - first + 1), loc)

    out = ["FEATURES             Location/Qualifiers"]
    for key, loc, quals in blocks:
        if key == "source":
            loc = f"1..{len(sub)}"
        elif ":" in loc or not (first <= span(loc)[0] and span(loc)[1] <= last):
            continue
        else:
            loc = shift(loc)
        out.append(f"     {key:<16}{loc}" + (f"\n{quals}" if quals else ""))
    lines = ["ORIGIN"]
    for i in range(0, len(sub), 60):
        chunk = " ".join(sub[j : j + 10] for j in range(i, min(i + 60, len(sub)), 10))
        lines.append(f"{i + 1:>9} {chunk}")
    return "\n".join(kept_head + out + lines) + "\n//\n"


def make_yeast() -> None:
    seqid, first, last = YEAST_WINDOW
    fasta = read_source(YEAST_FA)
    sequence = "".join(fasta.split("\n", 1)[1].split())
    lines = [ln for ln in read_source(YEAST_GFF).split("\n") if ln.startswith(seqid + "\t")]
    rows = [ln.split("\t") for ln in lines]
    first, last = widen(first, last, [(int(r[3]), int(r[4])) for r in rows])
    name = f"{seqid}:{first}-{last}"
    out = ["##gff-version 3", "##Index-subfeatures 1", f"##sequence-region {name} 1 {last - first + 1}",
           f"# Bases {first}..{last} of {seqid} from {PACKAGE[YEAST_GFF]}: {YEAST_GFF}"]
    for r in rows:
        start, end = int(r[3]), int(r[4])
        if first <= start and end <= last:
            out.append("\t".join([name, *r[1:3], str(start - first + 1), str(end - first + 1), *r[5:]]))
    stem = f"yeast_{seqid}_{first}-{last}"
    (HERE / f"{stem}.gff3").write_text("\n".join(out) + "\n")
    sub = sequence[first - 1 : last]
    body = "\n".join(sub[i : i + 60] for i in range(0, len(sub), 60))
    header = f">{name} Saccharomyces cerevisiae S288C {seqid} bases {first}..{last} (SGD, via gbrowse-data)"
    (HERE / f"{stem}.fa").write_text(f"{header}\n{body}\n")
    print(f"{stem}.gff3 / .fa  {name}")


def make_prodigal() -> None:
    raw = {}
    for name, digest in PRODIGAL_SHA256.items():
        path = RAW / PRODIGAL_DIR / name
        if not path.exists():
            sys.exit(f"missing {path}: see the fetch steps at the top of {__file__}")
        raw[name] = path.read_bytes()
        if hashlib.sha256(raw[name]).hexdigest() != digest:
            sys.exit(f"{path}: sha256 differs from the expected {digest}")
    headers = b"".join(ln + b"\n" for ln in gzip.decompress(raw["SRR492066.single.fna.gz"]).split(b"\n")
                       if ln.startswith(b">"))
    outputs = {
        "prodigal_SRR492066.fna.gz": raw["SRR492066.fna.gz"],  # committed as published
        "prodigal_SRR492066.meta.gff.gz": gzip.compress(raw["SRR492066.meta.gff"], 9, mtime=0),
        "prodigal_SRR492066.single.headers.gz": gzip.compress(headers, 9, mtime=0),
    }
    for output, data in outputs.items():
        (HERE / output).write_bytes(data)
        print(f"{output:40s} {len(data):>8,d} bytes")


def make_dogma_design() -> None:
    """Protein families and measured 3'UTRs for tests/test_dogma.py and tests/test_design.py,
    taken from the verified `gener data fetch` cache (datasets umaydis and pombe-utr3)."""
    import csv
    import io
    import random

    from gener.data.fetch import dataset_path
    from gener.tasks.dogma import build_family

    lines = []
    for family in ("p450", "histone"):
        for cds in build_family(family, "umaydis"):
            body = "\n".join(cds.sequence[i : i + 60] for i in range(0, len(cds.sequence), 60))
            lines.append(f">{cds.id} family={family} {cds.description}\n{body}\n")
    (HERE / "umaydis_cds_families.fa").write_text("".join(lines))
    with open(dataset_path("pombe-utr3"), newline="") as fh:
        rows = [r for r in csv.DictReader(fh) if 12 <= len(r["seq"]) <= 300]
    rows = random.Random(0).sample(rows, 240)
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\n")
    writer.writerow(["ID", "hlt", "seq"])
    writer.writerows([r["ID"], r["hlt"], r["seq"]] for r in rows)
    (HERE / "pombe_utr3_sample.csv").write_text(text.getvalue())
    print(f"umaydis_cds_families.fa ({len(lines)} CDS), pombe_utr3_sample.csv ({len(rows)} 3'UTRs)")


def make_variants() -> None:
    """ecoli_snvs.vcf: every-other-codon nonsense (LABEL=1) and synonymous (LABEL=0) SNVs in the
    validated CDS of ecoli_k12_slices.gbk (itself a fixture, so this needs no download).
    Real genes, constructed variants: a sanity check for `gener variants`, not a benchmark."""
    from Bio.Data.CodonTable import unambiguous_dna_by_id

    sys.path.insert(0, str(HERE.parent.parent / "src"))
    from gener.io import read_genbank
    from gener.sequence import reverse_complement

    table = unambiguous_dna_by_id[11]
    stops = set(table.stop_codons)
    lines = ["##fileformat=VCFv4.2", "##source=gener tests/data/make_fixtures.py (constructed from ecoli_k12_slices.gbk)",
             '##INFO=<ID=LABEL,Number=1,Type=Integer,Description="1 nonsense (stop gained), 0 synonymous">',
             '##INFO=<ID=CLASS,Number=1,Type=String,Description="nonsense or synonymous">',
             '##INFO=<ID=GENE,Number=1,Type=String,Description="locus tag of the CDS">',
             "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO"]
    rows = []
    for record in read_genbank(HERE / "ecoli_k12_slices.gbk"):
        for f in record.features:
            if f.type != "CDS" or f.pseudo or len(f.parts) != 1 or f.partial_start or f.partial_end:
                continue
            cds = record.sequence[f.start:f.end]
            cds = cds if f.strand == 1 else reverse_complement(cds)
            tag = f.qualifiers.get("locus_tag", ["?"])[0]
            found: dict[str, list] = {"nonsense": [], "synonymous": []}  # first SNV of each kind per codon
            for c in range(1, len(cds) // 3 - 1):  # skip the start and stop codons
                codon = cds[3 * c:3 * c + 3]
                if codon in stops or codon not in table.forward_table:
                    continue
                seen = set()
                for j in (2, 0, 1):
                    for base in "ACGT":
                        new = codon[:j] + base + codon[j + 1:]
                        kind = None if base == codon[j] else "nonsense" if new in stops else (
                            "synonymous" if table.forward_table.get(new) == table.forward_table[codon] else None)
                        if kind and kind not in seen:
                            seen.add(kind)
                            found[kind].append((3 * c + j, codon[j], base))
            for kind, candidates in found.items():  # three per kind, spread along the gene
                picks = sorted({round(x) for x in [(len(candidates) - 1) * q for q in (0.2, 0.5, 0.8)]}) if candidates else []
                for n, (i, ref, alt) in enumerate(candidates[p] for p in picks):
                    pos0 = f.start + i if f.strand == 1 else f.end - 1 - i  # CDS coordinate -> genome
                    if f.strand == -1:
                        ref, alt = reverse_complement(ref), reverse_complement(alt)
                    rows.append((record.id, pos0 + 1, f"{tag}_{kind[:3]}{n + 1}", ref, alt, int(kind == "nonsense"), kind, tag))
    rows.sort(key=lambda r: (r[0], r[1]))
    lines += [f"{c}\t{p}\t{i}\t{r}\t{a}\t.\tPASS\tLABEL={lab};CLASS={k};GENE={g}" for c, p, i, r, a, lab, k, g in rows]
    (HERE / "ecoli_snvs.vcf").write_text("\n".join(lines) + "\n")
    print(f"ecoli_snvs.vcf ({len(rows)} SNVs, {sum(r[5] for r in rows)} nonsense)")


def make_heldout_genes() -> None:
    """Gene regions of yeast chromosome II (+-200 bp, transcribed orientation): held out from
    the embedded generator's training (scripts/generator_corpus.py), for its test."""
    import tempfile

    import pyarrow.parquet as pq

    from gener.data.regions import curate_regions

    with tempfile.TemporaryDirectory() as tmp:
        curate_regions(["yeast-sgd"], Path(tmp) / "r.parquet", flank=200)
        rows = pq.read_table(Path(tmp) / "r.parquet").to_pylist()
    rows = [r for r in rows if r["record"] == "chrII" and r["gene_type"] == "protein_coding"
            and 1000 <= r["length"] <= 2000][:12]
    lines = []
    for r in rows:
        body = "\n".join(r["sequence"][i : i + 60] for i in range(0, len(r["sequence"]), 60))
        lines.append(f">{r['gene_id']} type={r['gene_type']} chrII:{r['region_start'] + 1}-{r['region_end']}\n{body}\n")
    (HERE / "yeast_chrII_genes.fa").write_text("".join(lines))
    print(f"yeast_chrII_genes.fa ({len(rows)} gene regions)")


def main() -> None:
    for output, origin, windows in GENBANK_SLICES:
        records = genbank_records(read_source(origin))
        text = "".join(slice_genbank(records[v], v, a, b, origin) for v, a, b in windows)
        (HERE / output).write_text(text)
        print(f"{output:40s} {len(text):>8,d} bytes")
    make_yeast()
    make_prodigal()
    make_dogma_design()
    make_variants()
    make_heldout_genes()
    import make_task_fixtures  # PUM2 / Oct4 / MafK slices, from the gener data cache

    make_task_fixtures.main()


if __name__ == "__main__":
    main()
