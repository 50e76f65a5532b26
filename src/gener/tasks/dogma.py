"""Central dogma: fine-tune a GENERator on one protein family's coding DNA, generate, and
check that what comes out is a protein of that family (``gener dogma``).

The paper's experiment, made measurable on the data here:

1. **Family**: the complete CDS of a family (``build_family``: from annotations, by a
   regular expression on the product / note, e.g. U. maydis cytochrome P450s), or a FASTA.
   Only complete ORFs of the translation table are kept (start ATG, one stop at the end).
2. **Fine-tune** (:func:`gener.training.clm.finetune_clm`) on ``<s>`` CDS ``</s>``. A CDS
   whose length is 3 mod 6 gets its stop codon once more, so the real stop codon is never
   cut off by the 6-mer tokenizer and the model learns "stop, then ``</s>``".
3. **Generate** unconditionally from ``<s>`` (:func:`gener.tasks.generate.generate`).
4. **Translate** each sample from its first base with the family's table; a *complete
   ORF* starts with ATG and reaches an in-frame stop codon, and encodes ``min_aa`` amino
   acids or more. Complete ORFs identical to a training CDS (memorised) or to an earlier
   sample are dropped.
5. **Judge**: DNA and protein length distributions against the natural family, and the
   identity of each protein to its nearest natural one (global Needleman-Wunsch, BLOSUM62,
   gap open 11 / extend 1; identity = identical columns / alignment columns). Controls go
   through the same steps: codon-shuffled natural CDS (start and stop kept, so every one
   is a complete ORF with the natural amino-acid composition: what composition alone
   buys), dinucleotide-shuffled natural CDS (Altschul-Erickson; what local DNA statistics
   alone give), and each natural protein against the other natural ones (leave-one-out:
   how close family members are to each other).
"""

from __future__ import annotations

import json
import math
import re
from collections import Counter, defaultdict
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from gener.errors import GenerInputError

# Named families: (include, exclude) regular expressions on the feature's product / note.
FAMILIES = {
    "p450": (r"cytochrome P450", r"reductase"),
    "histone": (r"\bhistone H(1|2A|2B|3|4)\b", r"complex|ase\b|subunit|chaperone|binding"),
    "all": (r"", None),
}
DEFAULT_SOURCE = "umaydis"  # 19.7 Mb fungus, 6787 mRNAs with MIPS product notes (docs/data.md)


@dataclass
class Cds:
    id: str
    description: str
    sequence: str


# ---------------------------------------------------------------------------- family


def complete_orf(seq: str, table: int = 1, *, min_aa: int = 1) -> str | None:
    """The protein of ``seq`` read from its first base when it is a complete ORF: ATG, then
    codons up to the first in-frame stop (protein without ``*``), ``min_aa`` long or more."""
    from Bio.Seq import Seq

    if not seq.startswith("ATG"):
        return None
    protein = str(Seq(seq[: len(seq) // 3 * 3]).translate(table=table))
    stop = protein.find("*")
    if stop < max(1, min_aa):
        return None
    return protein[:stop]


def is_complete_cds(seq: str, table: int = 1) -> bool:
    """A whole natural CDS: ATG ... stop, length a multiple of 3, no internal stop."""
    protein = complete_orf(seq, table)
    return len(seq) % 3 == 0 and protein is not None and len(protein) * 3 + 3 == len(seq)


def build_family(family: str = "p450", source: str = DEFAULT_SOURCE, *, include: str | None = None,
                 exclude: str | None = None, table: int = 1, max_members: int | None = None,
                 max_length: int | None = None, seed: int = 0) -> list[Cds]:
    """Complete CDS of a family from an annotated genome (GenBank, GFF3 + FASTA, or a
    cached dataset name). ``family`` names a preset (``FAMILIES``) or ``include`` gives the
    regular expression; the match is on the product / note / gene name (``+`` read as space,
    case ignored). Incomplete or non-translating CDS are skipped; ``max_members`` keeps a
    seeded random subset (for ``all``)."""
    from gener.data.regions import read_records, resolve_inputs

    if include is None:
        if family not in FAMILIES:
            raise GenerInputError(f"unknown family {family!r}; choose one of: {', '.join(FAMILIES)} "
                                  "(or give --match REGEX, or a FASTA of CDS)")
        include, exclude = FAMILIES[family]
    inc = re.compile(include, re.I)
    exc = re.compile(exclude, re.I) if exclude else None
    members: list[Cds] = []
    for src in resolve_inputs([source]):
        for rec in read_records(src):
            for f in rec.features:
                if f.type != "CDS" or f.pseudo:
                    continue
                text = " ".join(v for key in ("product", "Note", "note", "gene", "Name")
                                for v in f.qualifiers.get(key, ())).replace("+", " ").strip()
                if not inc.search(text) or (exc and exc.search(text)):
                    continue
                seq = f.extract(rec.sequence)
                if not is_complete_cds(seq, table) or (max_length and len(seq) > max_length):
                    continue
                name = (f.locus_tag or (f.parent_ids[0] if f.parent_ids else None) or f.id
                        or f"{rec.id}:{f.start + 1}").removeprefix("mRNA:")
                strand = "+" if f.strand >= 0 else "-"
                members.append(Cds(name, f"{text} | {rec.id}:{f.start + 1}-{f.end}({strand})", seq))
    if max_members and len(members) > max_members:
        keep = sorted(np.random.default_rng(seed).choice(len(members), max_members, replace=False))
        members = [members[i] for i in keep]
    if not members:
        raise GenerInputError(f"no complete CDS matching {include!r}", path=source)
    return members


def read_family(path, table: int = 1) -> tuple[list[Cds], int]:
    """CDS from a FASTA (or any sequence file); returns (complete ones, number dropped)."""
    from gener.io import read_sequences

    records = list(read_sequences(path))
    kept = [Cds(r.id, r.description, r.sequence) for r in records if is_complete_cds(r.sequence, table)]
    if not kept:
        raise GenerInputError(f"no complete CDS (ATG ... stop, table {table}) among {len(records)} record(s)",
                              path=path)
    return kept, len(records) - len(kept)


def write_family(path, members: list[Cds]) -> None:
    from gener.io import write_fasta

    write_fasta(path, members)


def training_text(cds: str) -> str:
    """The CDS as whole 6-mers: a length of 3 mod 6 gets its stop codon repeated, so the
    tokenizer trims nothing and the real stop codon stays whole."""
    return cds + cds[-3:] if len(cds) % 6 == 3 else cds


# ---------------------------------------------------------------------------- controls


def codon_shuffle(cds: str, rng: np.random.Generator) -> str:
    """Sense codons between the start and the stop codon in random order."""
    codons = [cds[i:i + 3] for i in range(3, len(cds) - 3, 3)]
    order = rng.permutation(len(codons))
    return cds[:3] + "".join(codons[i] for i in order) + cds[-3:]


def dinucleotide_shuffle(seq: str, rng: np.random.Generator) -> str:
    """A uniformly random sequence with exactly the dinucleotide counts of ``seq`` (and its
    first and last base): a random Eulerian path (Altschul & Erickson 1985; Wilson's
    algorithm for the random last-exit arborescence)."""
    if len(seq) < 3:
        return seq
    edges: dict[str, list[str]] = defaultdict(list)
    for a, b in zip(seq, seq[1:]):
        edges[a].append(b)
    last = seq[-1]
    exit_of: dict[str, str] = {}
    in_tree = {last}
    for v in list(edges):
        u = v
        while u not in in_tree:  # loop-erased random walk: later choices overwrite loops
            exit_of[u] = edges[u][rng.integers(len(edges[u]))]
            u = exit_of[u]
        u = v
        while u not in in_tree:
            in_tree.add(u)
            u = exit_of[u]
    for v, out in edges.items():
        rest = list(out)
        if v != last:
            rest.remove(exit_of[v])
        rest = [rest[i] for i in rng.permutation(len(rest))]
        edges[v] = rest + ([exit_of[v]] if v != last else [])
    used = Counter()
    walk = [seq[0]]
    for _ in range(len(seq) - 1):
        here = walk[-1]
        walk.append(edges[here][used[here]])
        used[here] += 1
    return "".join(walk)


# ---------------------------------------------------------------------------- identity


class NearestProtein:
    """Identity of a protein to its nearest one in a reference set.

    Candidates are the ``candidates`` references with the most similar amino-acid 2-mer
    profile (cosine), so big families stay fast; each is aligned globally (BLOSUM62, gap
    open 11, extend 1) and the best identity (identical columns / alignment columns) wins.
    """

    def __init__(self, references: list[str], candidates: int = 8):
        from Bio import Align
        from Bio.Align import substitution_matrices

        self.references = references
        self.candidates = candidates
        self.aligner = Align.PairwiseAligner(mode="global", substitution_matrix=substitution_matrices.load("BLOSUM62"),
                                             open_gap_score=-11, extend_gap_score=-1)
        self.profiles = np.stack([self._profile(p) for p in references])

    @staticmethod
    def _profile(protein: str) -> np.ndarray:
        aa = "ACDEFGHIKLMNPQRSTVWY"
        index = {a: i for i, a in enumerate(aa)}
        v = np.zeros(len(aa) ** 2, np.float32)
        for a, b in zip(protein, protein[1:]):
            if a in index and b in index:
                v[index[a] * len(aa) + index[b]] += 1
        return v / max(float(np.linalg.norm(v)), 1e-9)

    def identity(self, a: str, b: str) -> float:
        if not a or not b:
            return 0.0
        alignment = self.aligner.align(a, b)[0]
        return alignment.counts().identities / alignment.length

    def nearest(self, protein: str, exclude: int | None = None) -> tuple[int, float]:
        sims = self.profiles @ self._profile(protein)
        if exclude is not None:
            sims[exclude] = -np.inf
        order = np.argsort(-sims)[: self.candidates]
        best = max(((int(i), self.identity(protein, self.references[i])) for i in order if np.isfinite(sims[i])),
                   key=lambda t: t[1], default=(-1, 0.0))
        return best


# ---------------------------------------------------------------------------- evaluation


@dataclass
class GroupReport:
    """The numbers of one group of sequences (generated, a control, or natural)."""

    name: str
    sequences: int
    complete_orfs: int
    complete_fraction: float
    memorised: int = 0  # identical to a training CDS (dropped)
    duplicates: int = 0  # identical to an earlier one in the group (dropped)
    kept: int = 0
    same_protein: int = 0  # kept (new DNA) but encoding a natural protein exactly
    dna_length: dict = field(default_factory=dict)
    protein_length: dict = field(default_factory=dict)
    identity: dict = field(default_factory=dict)
    # per kept ORF, for plots and the JSON (lists stay small: a few hundred values)
    dna_lengths: list = field(default_factory=list, repr=False)
    protein_lengths: list = field(default_factory=list, repr=False)
    identities: list = field(default_factory=list, repr=False)
    nearest: list = field(default_factory=list, repr=False)


def _summary(values) -> dict:
    if not len(values):
        return {"n": 0}
    v = np.asarray(values, float)
    return {"n": int(v.size), "mean": round(float(v.mean()), 4), "median": round(float(np.median(v)), 4),
            "min": round(float(v.min()), 4), "max": round(float(v.max()), 4),
            "q25": round(float(np.quantile(v, 0.25)), 4), "q75": round(float(np.quantile(v, 0.75)), 4)}


def evaluate_group(name: str, sequences: list[str], natural: list[Cds], nearest: NearestProtein, *,
                   table: int = 1, min_aa: int = 30, leave_one_out: list[int] | bool = False) -> GroupReport:
    """Complete ORFs, deduplication against the training CDS, lengths and identities.
    ``leave_one_out`` (natural sequences themselves): True when ``sequences[i]`` is
    ``natural[i]``, or the natural index of each sequence; that member is not its own
    nearest, and nothing counts as memorised."""
    if leave_one_out is True:
        leave_one_out = list(range(len(sequences)))
    training = {c.sequence for c in natural}
    seen: set[str] = set()
    complete = memorised = duplicates = 0
    rep = GroupReport(name, len(sequences), 0, 0.0)
    for i, seq in enumerate(sequences):
        protein = complete_orf(seq, table, min_aa=min_aa)
        if protein is None:
            continue
        complete += 1
        orf = seq[: len(protein) * 3 + 3]
        if not leave_one_out and orf in training:
            memorised += 1
            continue
        if orf in seen:
            duplicates += 1
            continue
        seen.add(orf)
        index, ident = nearest.nearest(protein, exclude=leave_one_out[i] if leave_one_out else None)
        rep.dna_lengths.append(len(orf))
        rep.protein_lengths.append(len(protein))
        rep.identities.append(round(ident, 4))
        rep.nearest.append(natural[index].id if index >= 0 else None)
    rep.complete_orfs, rep.memorised, rep.duplicates = complete, memorised, duplicates
    rep.complete_fraction = round(complete / max(len(sequences), 1), 4)
    rep.kept = len(rep.identities)
    rep.same_protein = sum(i >= 1.0 for i in rep.identities)
    rep.dna_length, rep.protein_length = _summary(rep.dna_lengths), _summary(rep.protein_lengths)
    rep.identity = _summary(rep.identities)
    return rep


def controls(natural: list[Cds], seed: int = 0) -> dict[str, list[str]]:
    rng = np.random.default_rng(seed)
    return {"codon_shuffled": [codon_shuffle(c.sequence, rng) for c in natural],
            "dinucleotide_shuffled": [dinucleotide_shuffle(c.sequence, rng) for c in natural]}


def compare(natural: list[Cds], generated: list[str], *, table: int = 1, min_aa: int = 30, seed: int = 0,
            control_size: int | None = 200) -> dict:
    """Every group's report plus a Mann-Whitney test of generated vs control identities.
    Controls and the leave-one-out natural group use at most ``control_size`` members (a
    seeded sample; alignments are the cost); the reference set is always the whole family."""
    from scipy.stats import mannwhitneyu

    proteins = [complete_orf(c.sequence, table) for c in natural]
    nearest = NearestProtein(proteins)
    sample = list(range(len(natural)))
    if control_size and len(natural) > control_size:
        sample = sorted(np.random.default_rng(seed).choice(len(natural), control_size, replace=False).tolist())
    groups = {"generated": evaluate_group("generated", generated, natural, nearest, table=table, min_aa=min_aa)}
    for name, seqs in controls([natural[i] for i in sample], seed).items():
        groups[name] = evaluate_group(name, seqs, natural, nearest, table=table, min_aa=min_aa)
    if len(natural) > 1:
        groups["natural"] = evaluate_group("natural", [natural[i].sequence for i in sample], natural, nearest,
                                           table=table, min_aa=min_aa, leave_one_out=sample)
    tests = {}
    gen = groups["generated"].identities
    for name in ("codon_shuffled", "dinucleotide_shuffled"):
        other = groups[name].identities
        if len(gen) and len(other):
            u = mannwhitneyu(gen, other, alternative="greater")
            tests[f"generated_vs_{name}"] = {"statistic": float(u.statistic), "p_value": float(u.pvalue),
                                             "alternative": "generated identities greater"}
    return {"groups": groups, "tests": tests}


def plot(groups: dict[str, GroupReport], path, title: str = "") -> None:
    """DNA length, protein length and nearest-natural identity per group (PNG, atomic)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from gener.io import atomic_write

    colours = {"natural": "tab:green", "generated": "tab:blue", "codon_shuffled": "tab:orange",
               "dinucleotide_shuffled": "tab:gray"}
    fig, axes = plt.subplots(1, 4, figsize=(17, 3.8))
    panels = (("dna_lengths", "complete ORF length (bp)"), ("protein_lengths", "protein length (aa)"),
              ("identities", "identity to nearest natural protein"))
    for ax, (attr, label) in zip(axes, panels):
        values = [v for g in groups.values() for v in getattr(g, attr)]
        if not values:
            continue
        bins = np.linspace(0, 1, 21) if attr == "identities" else np.linspace(0, max(values) * 1.05, 25)
        for name, g in groups.items():
            data = getattr(g, attr)
            if data:
                ax.hist(data, bins=bins, histtype="step", lw=1.6, density=True, color=colours.get(name),
                        label=f"{name} (n={len(data)})")
        ax.set_xlabel(label)
        ax.set_ylabel("density")
    axes[0].legend(fontsize=7)
    names = list(groups)
    axes[3].bar(range(len(names)), [groups[n].complete_fraction for n in names], color=[colours.get(n) for n in names])
    axes[3].set_xticks(range(len(names)), [n.replace("_", "\n") for n in names], fontsize=7)
    axes[3].set_ylabel("fraction complete ORFs")
    axes[3].set_ylim(0, 1.05)
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    with atomic_write(path, "wb") as fh:
        fig.savefig(fh, format="png", dpi=110)
    plt.close(fig)


# ---------------------------------------------------------------------------- the verb


def run_dogma(model: str, family: str, out, *, source: str = DEFAULT_SOURCE, table: int = 1,
              max_members: int | None = 200, max_length: int | None = 3000, num_samples: int = 64,
              max_new_bp: int | None = None, temperature: float = 1.0, top_p: float = 1.0, top_k: int = 0,
              min_aa: int = 30, steps: int | None = None, epochs: float = 3.0, batch_size: int = 4,
              learning_rate: float = 1e-4, loss: str = "token", max_tokens: int | None = None,
              valid_fraction: float = 0.1, control_size: int | None = 200, generate_batch: int = 16, seed: int = 0,
              model_overrides: dict | None = None, progress: bool = True, log=print) -> dict:
    """The whole experiment; writes ``out/`` = family.fa, model/ (the fine-tuned run),
    generated.fa, generated.faa, dogma.json, dogma.png. Returns the report."""
    import gener
    from gener.io import atomic_write, write_fasta
    from gener.tasks.generate import generate
    from gener.training.clm import Example, check_model, finetune_clm

    check_model(model)
    out = Path(out)
    if Path(family).exists():
        natural, dropped = read_family(family, table)
        origin = str(family)
    else:
        natural = build_family(family, source, table=table, max_members=max_members, max_length=max_length, seed=seed)
        dropped, origin = 0, f"{family} from {source}"
    if len(natural) < 2:
        raise GenerInputError(f"the family has {len(natural)} complete CDS: too few to fine-tune on "
                              "(try --family all, or a larger FASTA)")
    out.mkdir(parents=True, exist_ok=True)
    write_family(out / "family.fa", natural)
    longest = max(len(c.sequence) for c in natural)
    log(f"family {origin}: {len(natural)} complete CDS ({dropped} dropped), {min(len(c.sequence) for c in natural)}"
        f"-{longest} bp, table {table}")

    tokens = max_tokens or min(math.ceil(longest / 6) + 3, 2048)
    examples = [Example(c.id, training_text(c.sequence)) for c in natural]
    run = finetune_clm(model, None, out / "model", examples=examples, valid_fraction=valid_fraction, loss=loss,
                       max_tokens=tokens, batch_size=batch_size, learning_rate=learning_rate, steps=steps,
                       epochs=epochs, seed=seed, model_overrides=model_overrides, log=log)

    net, tokenizer = gener.load(str(run.final))
    budget = max_new_bp or int(math.ceil(longest * 1.25 / 6) * 6)
    samples = generate(net, tokenizer, [""], num_samples=num_samples, max_new_bp=budget, temperature=temperature,
                       top_p=top_p, top_k=top_k, seed=seed, allow_empty=True, batch_size=generate_batch,
                       progress=progress)
    generated = [g.sequence for g in samples]
    log(f"{len(samples)} samples, {sum(g.finished for g in samples)} ended with </s>; comparing with the family")
    result = compare(natural, generated, table=table, min_aa=min_aa, seed=seed, control_size=control_size)
    groups: dict[str, GroupReport] = result["groups"]

    write_fasta(out / "generated.fa", [Cds(f"gen{i + 1}", f"finished={'yes' if g.finished else 'no'}", g.sequence)
                                       for i, g in enumerate(samples)])
    proteins = [(i, complete_orf(s, table, min_aa=min_aa)) for i, s in enumerate(generated)]
    write_fasta(out / "generated.faa", [Cds(f"gen{i + 1}", f"{len(p)} aa", p) for i, p in proteins if p])
    report = {
        "family": {"origin": origin, "members": len(natural), "dropped": dropped, "table": table,
                   "cds_length": _summary([len(c.sequence) for c in natural])},
        "model": {"base": model, "fine_tuned": str(run.final), "loss": loss, "steps": run.global_step,
                  "best_eval_loss": run.best_eval_loss, "train_sequences": run.train_sequences,
                  "valid_sequences": run.valid_sequences},
        "generation": {"samples": len(samples), "max_new_bp": budget, "temperature": temperature, "top_p": top_p,
                       "top_k": top_k, "finished_fraction": round(sum(g.finished for g in samples) / len(samples), 4),
                       "min_aa": min_aa},
        "groups": {name: asdict(g) for name, g in groups.items()},
        "tests": result["tests"],
    }
    with atomic_write(out / "dogma.json") as fh:
        json.dump(report, fh, indent=1)
    plot(groups, out / "dogma.png", title=f"{origin}: {len(natural)} natural CDS, {len(samples)} samples")
    return report
