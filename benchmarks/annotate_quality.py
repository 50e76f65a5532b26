"""CDS annotation quality on the validation genomes: Prodigal (pyrodigal, single and meta
mode) and gener's annotator, scored by the one evaluation harness.

    python benchmarks/annotate_quality.py [--out results.md] [--model NAME | --no-model]
        [--genomes cburnetii,phage-t4] [--tools ...] [--keep DIR] [--cache DIR] [--threads 2]
        [--fragment BP]

For every validation genome of docs/data.md (never trained on: C. burnetii, M. maripaludis,
T. kodakarensis, M. mycoides with translation table 4, phage T4), each tool predicts CDS on
the GenBank sequences, the prediction is written as GFF3 (``--keep DIR`` keeps the files)
read back and scored against the genome's validated CDS with
:func:`gener.tasks.annotate.evaluate.evaluate` (what ``gener evaluate-annotation`` runs).
Tools:

- ``prodigal-single``: pyrodigal trained on the genome itself (all its records, with the
  genome's translation table), as ``prodigal`` runs by default;
- ``prodigal-meta``: pyrodigal's metagenomic bins (``prodigal -p meta``);
- ``gener``: the annotator (``--model``, default the embedded "gener-annotator-tiny") with
  its default evidence: the model's per-base probabilities combined with the genome's own
  statistics (``gener annotate``'s default); skipped with a message when the model is not
  available;
- ``gener-model`` / ``gener-genome``: the ablation, the same decoder with the model's
  evidence alone / the genome's statistics alone (each with its own tuned settings);
- ``gener-meta``: the default evidence with ``-p meta`` (pyrodigal's metagenomic bins
  instead of training on the genome).

``--fragment BP`` cuts every genome into linear contigs of BP bases (the last piece of each
record shorter), as a draft assembly comes: every tool then sees contig edges, partial genes
and, in single mode, a genome to train on that is split into pieces. Reference genes that
cross a cut are dropped from the reference (a tool's partial calls at the cuts then count
only against its precision).

Prints a markdown table (genome x tool x the paper's six metrics + stop recall/precision and
gene-level exact recall, genes, seconds); ``--out X.md`` also writes it to X.md and every metric and count to X.json.
The model card's table is generated from this. Genomes come from gener's data cache
(``gener data fetch``).
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import tempfile
import time
import warnings
from dataclasses import replace
from pathlib import Path

from gener.data.fetch import dataset_path
from gener.io import read_genbank, write_gff3
from gener.tasks.annotate.evaluate import LABELS, evaluate, format_rate, read_annotation
from gener.tasks.annotate.prodigal import prodigal_annotate

VALIDATION = ("cburnetii", "mmaripaludis", "tkodakarensis", "mmycoides", "phage-t4")
TOOLS = ("prodigal-single", "prodigal-meta", "gener", "gener-model", "gener-genome", "gener-meta")
# gener's decoder with both sources of evidence (the default), or one alone (the ablation), and mode
EVIDENCE = {"gener": ("both", "auto"), "gener-model": ("model", "auto"), "gener-genome": ("genome", "auto"),
            "gener-meta": ("both", "meta")}
MODEL_TOOLS = {tool for tool, (evidence, _) in EVIDENCE.items() if evidence != "genome"}  # run the network
TABLE_METRICS = ("bp_precision", "bp_sensitivity", "start_accuracy", "end_accuracy", "boundary_accuracy",
                 "exact_match", "stop_recall", "stop_precision", "gene_exact_recall")
SHORT = {"bp_precision": "bp P", "bp_sensitivity": "bp S", "start_accuracy": "start", "end_accuracy": "end",
         "boundary_accuracy": "boundary", "exact_match": "exact", "stop_recall": "stop R",
         "stop_precision": "stop P", "gene_exact_recall": "gene exact"}


def load_annotator(name: str, threads: int):
    """(annotator, None) or (None, why not)."""
    import torch

    from gener.tasks.annotate.annotator import Annotator

    torch.set_num_threads(threads)
    try:
        return Annotator(name), None
    except Exception as exc:  # not built yet, not installed, bad checkpoint
        return None, f"cannot load annotator model {name!r}: {type(exc).__name__}: {exc}"


def model_probabilities(annotator, name, records, cache: Path | None):
    """The annotator's per-base probabilities of a genome's records, computed once
    (``cache/NAME.npz`` keeps them between runs: they depend only on the model and its
    window, overlap and precision)."""
    import numpy as np

    path = cache / f"{name}.npz" if cache else None
    if path and path.exists():
        data = np.load(path)
        return [data[f"p{i}"].astype(np.float32) for i in range(len(records))]
    started = time.perf_counter()
    probs = annotator.probabilities_many([r.sequence for r in records], [r.circular for r in records])
    print(f"# {name}: model probabilities in {time.perf_counter() - started:.0f} s", file=sys.stderr)
    if path:
        path.parent.mkdir(parents=True, exist_ok=True)
        np.savez(path, **{f"p{i}": p.astype(np.float16) for i, p in enumerate(probs)})
    return probs


def fragment(records, size: int) -> list:
    """``records`` cut into linear contigs of ``size`` bp, named ``ID_N``, each with the
    features that lie wholly inside it (joined features are dropped: on a linear contig a gene
    across a circular record's origin cannot stand)."""
    pieces = []
    for rec in records:
        for n, left in enumerate(range(0, len(rec.sequence), size)):
            right = min(left + size, len(rec.sequence))
            inside = [replace(f, start=f.start - left, end=f.end - left,
                              parts=[(a - left, b - left) for a, b in f.parts], children=[])
                      for f in rec.features if left <= f.start and f.end <= right and len(f.parts) == 1]
            pieces.append(replace(rec, id=f"{rec.id}_{n + 1}", sequence=rec.sequence[left:right],
                                  features=inside, circular=False, length=right - left))
    return pieces


def run_tool(tool: str, records, annotator=None, probs=None):
    table = records[0].transl_table
    if tool in EVIDENCE:
        from gener.tasks.annotate.output import to_record

        annotator.table = table  # the genome's code, as Prodigal is given it
        annotator.evidence, annotator.mode = EVIDENCE[tool]
        statistics = annotator.genome_statistics([r.sequence for r in records])
        group = [(r.id, r.sequence, r.circular) for r in records]
        results = annotator.decode_group(group, None if annotator.evidence == "genome" else probs, statistics)
        return [to_record(*result) for result in results]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # short genomes: pyrodigal's training-size warning
        return prodigal_annotate(records, mode=tool.split("-")[1], translation_table=table)


def markdown(rows) -> str:
    head = ["genome", "tool"] + [SHORT[m] for m in TABLE_METRICS] + ["genes ref / pred", "s"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for row in rows:
        cells = [row["genome"], row["tool"]]
        cells += [format_rate(row["metrics"][m], 3) for m in TABLE_METRICS]
        cells += [f"{row['counts']['ref_genes']} / {row['counts']['pred_genes']}", f"{row['seconds']:.1f}"]
        lines.append("| " + " | ".join(cells) + " |")
    legend = ", ".join(f"{SHORT[m]} = {LABELS[m]}" for m in TABLE_METRICS)
    return "\n".join(lines) + (
        "\n\nReference: validated CDS only (pseudo and hypothetical CDS count as non-coding). "
        f"{legend}; definitions in gener.tasks.annotate.evaluate. Pooled over each genome's records.\n"
    )


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", type=Path, help="write the markdown here and the JSON next to it (.json)")
    ap.add_argument("--model", default="gener-annotator-tiny", help="annotator model (name, dir or hub id)")
    ap.add_argument("--no-model", action="store_true", help="Prodigal only")
    ap.add_argument("--genomes", default=",".join(VALIDATION), help="comma-separated dataset names")
    ap.add_argument("--tools", default=",".join(TOOLS), help=f"comma-separated, from {', '.join(TOOLS)}")
    ap.add_argument("--keep", type=Path, help="keep the predicted GFF3 files in this directory")
    ap.add_argument("--threads", type=int, default=2, help="torch threads for the annotator")
    ap.add_argument("--cache", type=Path, help="keep the annotator's probabilities here (NAME.npz per genome)")
    ap.add_argument("--fragment", type=int, metavar="BP", help="cut every genome into contigs of BP bases")
    args = ap.parse_args(argv)

    if args.fragment is not None and args.fragment < 1000:
        ap.error("--fragment needs contigs of at least 1000 bp")
    tools = [t for t in args.tools.split(",") if t]
    unknown = set(tools) - set(TOOLS)
    if unknown:
        ap.error(f"unknown tools: {', '.join(sorted(unknown))}")
    annotator = None
    if any(t in EVIDENCE for t in tools):
        why = "--no-model given"
        if not args.no_model:
            annotator, why = load_annotator(args.model, args.threads)
        if annotator is None:
            print(f"# gener annotator skipped: {why}", file=sys.stderr)
            tools = [t for t in tools if t not in EVIDENCE]

    workdir = args.keep or Path(tempfile.mkdtemp(prefix="gener-annotate-quality-"))
    workdir.mkdir(parents=True, exist_ok=True)
    rows = []
    for genome in [g for g in args.genomes.split(",") if g]:
        records = list(read_genbank(dataset_path(genome)))
        name = genome  # the name of its probabilities in --cache
        if args.fragment:
            records, name = fragment(records, args.fragment), f"{genome}.fragment{args.fragment}"
        probs, probs_seconds = None, 0.0
        if annotator is not None and MODEL_TOOLS & set(tools):
            start = time.perf_counter()
            probs = model_probabilities(annotator, name, records, args.cache)
            probs_seconds = time.perf_counter() - start  # shared by the MODEL_TOOLS
        for tool in tools:
            start = time.perf_counter()
            predicted = run_tool(tool, records, annotator, probs)
            seconds = time.perf_counter() - start + (probs_seconds if tool in MODEL_TOOLS else 0.0)
            gff = workdir / f"{genome}.{tool}.gff3"
            write_gff3(gff, predicted, source=tool)
            report = evaluate(read_annotation(gff), records, pred_path=gff)
            pooled = report.pooled
            rows.append({"genome": genome, "tool": tool, "seconds": seconds, **pooled.to_dict(),
                         "records": {rid: s.to_dict() for rid, s in report.records.items()}})
            print(f"# {genome:14s} {tool:16s} {seconds:6.1f} s  exact {format_rate(pooled.exact_match, 3)}"
                  f"  stop R {format_rate(pooled.stop_recall, 3)}", file=sys.stderr, flush=True)

    text = markdown(rows)
    print(text)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text)
        meta = {"python": platform.python_version(), "model": args.model if annotator else None,
                "fragment": args.fragment}
        try:
            import pyrodigal

            meta["pyrodigal"] = pyrodigal.__version__
        except ImportError:  # pragma: no cover
            pass
        args.out.with_suffix(".json").write_text(json.dumps({"meta": meta, "rows": rows}, indent=1) + "\n")
        print(f"# wrote {args.out} and {args.out.with_suffix('.json')}", file=sys.stderr)
    if not args.keep:
        for f in workdir.glob("*.gff3"):
            f.unlink()
        workdir.rmdir()
    return 0


if __name__ == "__main__":
    sys.exit(main())
