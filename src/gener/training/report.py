"""What ``gener finetune classify`` writes: ``results.json`` (every setting, fold values, the
baseline and the comparison), ``results.md``, ``confusion.png``, and the one verdict line
that says whether the language model beat the k-mer baseline."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

FINE_TUNE, PROBE = "fine-tuning", "linear probe on frozen embeddings"


def _fmt(s: dict) -> str:
    return f"{s['mean']:.4f} ± {s['se']:.4f}" if s["se"] else f"{s['mean']:.4f}"


def verdict(report: dict) -> str | None:
    """One sentence: model vs baseline on the selection metric, paired over folds."""
    c = report.get("comparison")
    if c is None:
        return None
    m, metric = f"{report['model']} ({report['mode']})", report["metric"]
    model, base = report["best"]["test"][metric]["mean"], report["baseline"]["test"][metric]["mean"]
    adv, z, folds = c["advantage"]["mean"], c["standard_errors"], report["folds"]
    scores = f"test {metric} {model:.3f} vs {base:.3f}, {adv:+.3f}"
    noise = f" ({z:+.1f} SE over {folds} folds)" if z is not None else \
        " (one fold: no standard error; --folds 2 or more gives one)" if folds < 2 else ""
    if c["verdict"] == "better":
        return f"{m} beats the k-mer baseline: {scores}{noise}."
    if c["verdict"] == "tie":
        return f"{m} does not clearly beat the k-mer baseline: {scores}{noise} - within noise."
    return (f"{m} does NOT beat the k-mer baseline: {scores}{noise}; on this task the baseline is the better "
            f"model (try a larger model or more data).")


def report_markdown(report: dict) -> str:
    best, metric = report["best"], report["metric"]
    if best["learning_rate"] is None:
        chosen = "linear probe on frozen embeddings and k-mer frequencies"
    else:
        chosen = f"fine-tuned, selected on validation {metric}: lr {best['learning_rate']:g}, batch {best['batch_size']}"
    selection = report.get("selection")
    if selection:
        z = selection.get("fine_tune_margin_se")
        chosen += (f"; kept over the other by validation {metric} (fine-tuning {selection[FINE_TUNE]:.4f}, "
                   f"linear probe {selection[PROBE]:.4f}" + (f", fine-tune ahead by {z:+.1f} SE" if z is not None else "")
                   + f"; the fine-tune is kept when ahead by at least {selection['fine_tune_needs_se']:g} SE)")
    lines = [f"# {report['data']} with {report['model']}", "",
             f"{report['task']}, {len(report['labels'])} label(s); {report['folds']}-fold cross-validation "
             f"({report['fold_split']}) on {report['sizes']['train+validation']:,} sequences, test "
             f"{report['sizes']['test']:,}; {chosen}."]
    if report.get("defaults"):
        lines += ["", f"Defaults by model scale: {report['defaults']}."]
    base = report.get("baseline")
    head = "| metric | test (mean ± SE over folds) | validation |" + (" k-mer baseline, test |" if base else "")
    lines += ["", head, "|---|---|---|" + ("---|" if base else "")]
    for k, s in best["test"].items():
        row = f"| {k} | {_fmt(s)} | {_fmt(best['valid'][k]) if k in best['valid'] else ''} |"
        lines.append(row + (f" {_fmt(base['test'][k])} |" if base and k in base["test"] else (" |" if base else "")))
    if base:
        lines += ["", f"Baseline: {base['method']}, on the same folds and test split.", "", f"**{verdict(report)}**"]
    if len(report["grid"]) > 1:
        lines += ["", f"Grid (validation {metric}):", "", "| lr | batch | validation | test |", "|---|---|---|---|"]
        for e in report["grid"]:
            lines.append(f"| {e['learning_rate']:g} | {e['batch_size']} | {_fmt(e['valid'][metric])} | {_fmt(e['test'][metric])} |")
    return "\n".join(lines) + "\n"


def plot_confusion(matrix, names: list[str], path: Path, title: str) -> Path:
    """A row-normalised confusion matrix with counts (matplotlib, Agg)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from gener.io import atomic_write

    m = np.asarray(matrix, np.float64)
    share = m / np.maximum(m.sum(1, keepdims=True), 1)
    size = 2.5 + 0.5 * len(names)
    fig, ax = plt.subplots(figsize=(size, size))
    ax.imshow(share, cmap="Blues", vmin=0, vmax=1)
    ax.set_xticks(range(len(names)), names, rotation=45, ha="right")
    ax.set_yticks(range(len(names)), names)
    for i in range(len(names)):
        for j in range(len(names)):
            ax.text(j, i, f"{int(m[i, j])}", ha="center", va="center", color="white" if share[i, j] > 0.5 else "black")
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title(title, fontsize=9)
    fig.tight_layout()
    with atomic_write(path, "wb") as fh:
        fig.savefig(fh, dpi=110, format="png")
    plt.close(fig)
    return path


def write_report(report: dict, out: Path) -> list[Path]:
    from gener.io import atomic_write

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    with atomic_write(out / "results.json") as fh:
        fh.write(json.dumps(report, indent=1) + "\n")
    written.append(out / "results.json")
    with atomic_write(out / "results.md") as fh:
        fh.write(report_markdown(report))
    written.append(out / "results.md")
    if report["best"]["confusion"] is not None:
        written.append(plot_confusion(report["best"]["confusion"], report["labels"], out / "confusion.png",
                                      f"{report['data']}: {report['model']} (test, summed over folds)"))
    return written
