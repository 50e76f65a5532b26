"""Which annotated features are genes, what type each is, and which taxonomic group a
record belongs to: the rules behind ``gener data regions`` (docs/data.md, "Gene regions").

Gene types (``GENE_TYPES``) are coarse on purpose: they are the classes the papers count
and GENERator has special tokens for (``<cds> <pseudo> <tRNA> <rRNA> <ncRNA> <miscRNA>``);
the finer label (``snoRNA``, ``antisense_RNA``, ``transposable_element_gene``...) is kept
as ``biotype``. A pseudo flag anywhere (the gene, or any of its products) wins: a tRNA
pseudogene is a ``pseudogene``.

GenBank: every ``gene`` is a gene. Its type comes from the product features that name the
same locus (``/locus_tag``, else ``/gene``) and overlap it on the same strand -- or, for a
product that names no locus at all, the same-strand gene overlapping it most: CDS or mRNA
-> protein_coding, else the RNA kind. A product feature that
no gene claims (files with CDS but no gene features, e.g. the kaptive loci) is a gene of
its own. A gene without any product is ``other``.

GFF3: the top-level features (no Parent in the file) that are genes (``gene``,
``pseudogene``, ``*_gene`` such as ``tRNA_gene``) or products (mRNA, CDS, any ``*RNA``:
SGD puts tRNAs and snoRNAs at the top; U. maydis has only mRNA+CDS). The type comes from,
in order: a pseudo flag or ``pseudogene`` type; a ``gene_biotype``/``biotype``/``gene_type``
attribute (NCBI, Ensembl, GENCODE); the feature type itself; its descendants.
"""

from __future__ import annotations

import bisect
from collections import defaultdict

from gener.errors import GenerInputError
from gener.io.records import AnnotatedRecord, Feature

GENE_TYPES = ("protein_coding", "pseudogene", "tRNA", "rRNA", "tmRNA", "ncRNA", "misc_RNA", "other")
# When a gene has products of several kinds, the first in this order names it.
_PRIORITY = {t: i for i, t in enumerate(GENE_TYPES)}
_GENBANK_PRODUCTS = {"CDS": "protein_coding", "mRNA": "protein_coding", "tRNA": "tRNA", "rRNA": "rRNA",
                     "tmRNA": "tmRNA", "ncRNA": "ncRNA", "misc_RNA": "misc_RNA"}
_BIOTYPE_KEYS = ("gene_biotype", "biotype", "gene_type")


def product_type(kind: str) -> str | None:
    """The gene type a product/transcript feature type (or biotype) implies; None if none."""
    if kind in ("CDS", "mRNA", "protein_coding") or kind.startswith(("IG_", "TR_")) and kind.endswith("_gene"):
        return "protein_coding"  # Ensembl's immunoglobulin / T-cell receptor segments code too
    if "pseudogen" in kind:
        return "pseudogene"
    if kind in ("tRNA", "rRNA", "tmRNA", "misc_RNA"):
        return kind
    if kind.endswith("_gene"):
        return product_type(kind[: -len("_gene")])
    if kind.endswith("RNA") or kind in ("ribozyme", "lncRNA", "lnc_RNA"):
        return "ncRNA"  # snoRNA, snRNA, lnc_RNA, miRNA, RNase_P_RNA, SRP_RNA, antisense_RNA, ...
    return None


def _best(types) -> str:
    types = [t for t in types if t]
    return min(types, key=_PRIORITY.__getitem__) if types else "other"


# --- GenBank ---------------------------------------------------------------------------

def genbank_genes(record: AnnotatedRecord) -> list[tuple[Feature, str, str]]:
    """``(feature, gene_type, biotype)`` for every gene of a GenBank record, in file order."""
    genes = [f for f in record.features if f.type == "gene"]
    by_key: dict[object, list[int]] = defaultdict(list)
    for i, g in enumerate(genes):
        by_key[_locus_key(g)].append(i)
    children: list[list[Feature]] = [[] for _ in genes]
    orphans, index = [], None
    for f in record.features:
        if f.type not in _GENBANK_PRODUCTS:
            continue
        key = _locus_key(f)
        owner = next((i for i in by_key.get(key, ()) if _overlap(genes[i], f) > 0), None)
        if owner is None and key[0] == "at":  # no tag at all (E. coli's leuV tRNA is 1 bp off its gene)
            index = index or _GeneIndex(genes)
            owner = max(index.overlapping(f), key=lambda i: _overlap(genes[i], f), default=None)
        if owner is None:
            orphans.append(f)  # nobody claims it: a gene of its own
        else:
            children[owner].append(f)
    typed = {id(g): _genbank_type(g, kids) for g, kids in zip(genes, children)}
    typed.update((id(f), _genbank_type(f, [f])) for f in orphans)
    return [(f, *typed[id(f)]) for f in record.features if id(f) in typed]  # in file order


def _overlap(gene: Feature, f: Feature) -> int:
    return min(gene.end, f.end) - max(gene.start, f.start) if gene.strand == f.strand else 0


class _GeneIndex:
    """Same-strand genes overlapping a feature, by bisection over the genes sorted by start."""

    def __init__(self, genes: list[Feature]):
        self.genes = genes
        self.order = sorted(range(len(genes)), key=lambda i: genes[i].start)
        self.starts = [genes[i].start for i in self.order]
        self.longest = max((g.end - g.start for g in genes), default=0)

    def overlapping(self, f: Feature) -> list[int]:
        hits, pos = [], bisect.bisect_left(self.starts, f.end) - 1
        while pos >= 0 and self.starts[pos] + self.longest > f.start:
            i = self.order[pos]
            if _overlap(self.genes[i], f) > 0:
                hits.append(i)
            pos -= 1
        return hits


def _locus_key(f: Feature):
    tag = f.locus_tag or f.gene
    return ("tag", tag) if tag else ("at", f.start, f.end, f.strand)


def _genbank_type(gene: Feature, products: list[Feature]) -> tuple[str, str]:
    kinds = [_GENBANK_PRODUCTS[p.type] for p in products]
    best = _best(kinds)
    product = next((p for p in products if _GENBANK_PRODUCTS[p.type] == best), None)
    biotype = product.type if product is not None else gene.type
    if product is not None and product.type == "ncRNA" and "ncRNA_class" in product.qualifiers:
        biotype = product.qualifiers["ncRNA_class"][0]
    if gene.pseudo or any(p.pseudo for p in products):
        return "pseudogene", biotype
    return best, biotype


# --- GFF3 ------------------------------------------------------------------------------

def gff3_genes(record: AnnotatedRecord) -> list[tuple[Feature, str, str]]:
    """``(feature, gene_type, biotype)`` for every top-level gene or product of a GFF3 record."""
    ids = {f.id for f in record.features if f.id}
    out = []
    for f in record.features:
        if any(p in ids for p in f.parent_ids):
            continue  # a part of something else
        if not (f.type in ("gene", "pseudogene") or f.type.endswith("_gene") or product_type(f.type)):
            continue  # chromosome, region, repeat, ARS, centromere, ...
        biotype = next((f.qualifiers[k][0] for k in _BIOTYPE_KEYS if f.qualifiers.get(k)), f.type)
        out.append((f, _gff3_type(f, biotype), biotype))
    return out


def _gff3_type(f: Feature, biotype: str) -> str:
    descendants, stack = [], list(f.children)
    while stack:
        child = stack.pop()
        descendants.append(child)
        stack.extend(child.children)
    if f.pseudo or any(d.pseudo for d in descendants):
        return "pseudogene"
    for label in (biotype, f.type):
        kind = product_type(label)
        if kind:
            return kind
    return _best(product_type(d.type) for d in descendants)


# --- taxonomic groups --------------------------------------------------------------------

# The RefSeq release divisions, which is what GENERator's group tokens stand for.
GROUP_TOKENS = {
    "vertebrate_mammalian": "<mam>", "vertebrate_other": "<vrt>", "invertebrate": "<inv>",
    "plant": "<pln>", "fungi": "<fng>", "protozoa": "<prt>", "archaea": "<arc>", "bacteria": "<bct>",
    "mitochondrion": "<mit>", "plastid": "<plt>", "plasmid": "<plm>", "viral": "<vir>",
}
UNKNOWN_GROUP = "unknown"
_ALIASES = {
    "mammal": "vertebrate_mammalian", "mammals": "vertebrate_mammalian", "vertebrate": "vertebrate_other",
    "plants": "plant", "fungus": "fungi", "protist": "protozoa", "protists": "protozoa",
    "archaeon": "archaea", "bacterium": "bacteria", "mitochondria": "mitochondrion",
    "chloroplast": "plastid", "virus": "viral", "viruses": "viral",
}
# Lineage taxon -> group, most specific first (a mammal is also a vertebrate and a metazoan).
_LINEAGE = (("Viruses", "viral"), ("Archaea", "archaea"), ("Bacteria", "bacteria"),
            ("Mammalia", "vertebrate_mammalian"), ("Vertebrata", "vertebrate_other"),
            ("Metazoa", "invertebrate"), ("Viridiplantae", "plant"), ("Fungi", "fungi"),
            ("Eukaryota", "protozoa"))
_REPLICONS = (("mitochondri", "mitochondrion"), ("chloroplast", "plastid"), ("plastid", "plastid"),
              ("apicoplast", "plastid"), ("plasmid", "plasmid"))


def parse_group(value: str) -> str:
    """A user's --group: a division name, a token (``<bct>`` or ``bct``) or a common word."""
    key = value.strip().strip("<>").lower()
    by_token = {tok.strip("<>"): name for name, tok in GROUP_TOKENS.items()}
    group = key if key in GROUP_TOKENS or key == UNKNOWN_GROUP else by_token.get(key) or _ALIASES.get(key)
    if group is None:
        raise GenerInputError(f"unknown taxonomic group {value!r}; use one of {', '.join(GROUP_TOKENS)} "
                              f"or their tokens ({', '.join(GROUP_TOKENS.values())})")
    return group


def record_group(record: AnnotatedRecord) -> str:
    """The group of a record from its own annotation: organelle/plasmid replicons by the
    definition line (RefSeq files them apart), else the lineage; ``unknown`` without either."""
    text = (record.description or "").lower()
    for word, group in _REPLICONS:
        if word in text:
            return group
    lineage = {t.strip().lower() for t in record.taxonomy}
    return next((group for taxon, group in _LINEAGE if taxon.lower() in lineage), UNKNOWN_GROUP)
