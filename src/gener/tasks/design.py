"""Prompted design: generate sequences of high or low measured activity (``gener design``).

The paper's recipe (top / bottom quartile enhancers labelled ``<high>`` / ``<low>``) on a
measured set available here: S. pombe 3'UTRs with their mRNA half-life (``pombe-utr3``,
from the concise sdist; any CSV/TSV/parquet with a sequence and an activity column works).

1. Split the measured set into train / test (seeded). Quartiles come from the training
   part: activity >= Q3 is ``high``, <= Q1 is ``low``.
2. **Generator**: fine-tune a causal GENERator (:func:`gener.training.clm.finetune_clm`) on
   the training quartiles, each sequence ``<s>`` + its label's control token + 6-mers +
   ``</s>``. The vocabulary has no ``<high>``/``<low>``, so ``high`` -> ``<sp0>`` and
   ``low`` -> ``<sp1>`` (reserved spare specials; saved as control_tokens.json).
3. **Judge**: a regression head (``LlamaForSequenceClassification``, ``num_labels=1``) on
   the same base model, fine-tuned on *all* training sequences with the measured activity
   (:func:`gener.training.classify.run_finetune`), checked on the held-out test set.
4. Generate unconditionally per label (``<s>`` + control token), predict the activity of
   every generated and held-out natural sequence, and test the separation of generated
   ``high`` vs ``low`` (one-sided Mann-Whitney U; AUC = U / (n1 n2)), next to the same test
   on the natural held-out quartiles, which bounds what the judge can see.

Sequences longer than ``max_bp`` are left out of the whole experiment (median UTR 223 bp;
600 keeps 89%), so CPU runs stay short and generation lengths are comparable.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from gener.errors import GenerInputError

DEFAULT_DATA = "pombe-utr3"
LABELS = {"high": "<sp0>", "low": "<sp1>"}


@dataclass
class Measured:
    sequences: list[str]
    activity: np.ndarray
    names: list[str]


def read_measured(data: str = DEFAULT_DATA, *, sequence_col: str = "seq", activity_col: str = "hlt",
                  min_bp: int = 12, max_bp: int | None = 600) -> tuple[Measured, dict]:
    """Sequences with a numeric activity: a cached dataset name or a CSV/TSV/parquet. Rows
    without a number (``NA``) are skipped; lengths outside ``[min_bp, max_bp]`` too."""
    from gener.sequence import normalize
    from gener.training.clm import table_rows

    path = Path(data)
    if not path.exists():
        from gener.data.fetch import dataset_path

        path = dataset_path(data)
        if path.is_dir():
            raise GenerInputError("a directory, not one table: give the CSV/TSV/parquet file", path=path)
    rows = table_rows(path, sequence_col, activity_col)
    seqs, values, names = [], [], []
    skipped = {"no_activity": 0, "length": 0}
    for i, (name, seq, value) in enumerate(rows):
        name = str(name if name is not None else i + 1)
        try:
            v = float(value)
        except (TypeError, ValueError):
            v = math.nan
        if not math.isfinite(v):
            skipped["no_activity"] += 1
            continue
        try:
            seq = normalize(seq or "", name=name)
        except GenerInputError as exc:
            raise GenerInputError(str(exc), path=path) from None
        if len(seq) < min_bp or (max_bp and len(seq) > max_bp):
            skipped["length"] += 1
            continue
        seqs.append(seq)
        values.append(v)
        names.append(name)
    if len(seqs) < 16:
        raise GenerInputError(f"{len(seqs)} usable sequences with an activity: too few (need 16)", path=path)
    return Measured(seqs, np.asarray(values, np.float32), names), {"path": str(path), "skipped": skipped}


def quartile_labels(activity: np.ndarray, quantile: float = 0.25) -> tuple[np.ndarray, float, float]:
    """``high`` / ``low`` / "" per value, and the (low, high) thresholds."""
    lo, hi = np.quantile(activity, [quantile, 1 - quantile])
    labels = np.where(activity >= hi, "high", np.where(activity <= lo, "low", ""))
    return labels, float(lo), float(hi)


def predict(model, tokenizer, sequences: list[str], *, batch_size: int = 64) -> np.ndarray:
    """The regression head's output per sequence (inputs as in training: classify's encoding)."""
    from gener.training.classify import encode_sequences

    ids, _ = encode_sequences(sequences, tokenizer, "generator", model.config.max_position_embeddings)
    device = next(model.parameters()).device
    model.eval()
    out = []
    with torch.inference_mode():
        for start in range(0, len(ids), batch_size):
            rows = ids[start:start + batch_size]
            width = max(len(r) for r in rows)
            x = torch.full((len(rows), width), tokenizer.pad_token_id, dtype=torch.long)
            mask = torch.zeros_like(x)
            for i, r in enumerate(rows):
                x[i, :len(r)], mask[i, :len(r)] = torch.as_tensor(r), 1
            out.append(model(input_ids=x.to(device), attention_mask=mask.to(device)).logits.float().reshape(-1).cpu())
    return torch.cat(out).numpy() if out else np.zeros(0, np.float32)


def separation(a, b) -> dict:
    """One-sided Mann-Whitney U (``a`` greater than ``b``) and the AUC it implies."""
    from scipy.stats import mannwhitneyu

    if len(a) == 0 or len(b) == 0:
        return {"n": [len(a), len(b)]}
    u = mannwhitneyu(a, b, alternative="greater")
    return {"n": [len(a), len(b)], "u": float(u.statistic), "p_value": float(u.pvalue),
            "auc": round(float(u.statistic) / (len(a) * len(b)), 4),
            "median_difference": round(float(np.median(a) - np.median(b)), 4)}


def _summary(values) -> dict:
    v = np.asarray(values, float)
    if not v.size:
        return {"n": 0}
    return {"n": int(v.size), "mean": round(float(v.mean()), 4), "median": round(float(np.median(v)), 4),
            "q25": round(float(np.quantile(v, 0.25)), 4), "q75": round(float(np.quantile(v, 0.75)), 4)}


def plot(groups: dict[str, np.ndarray], path, title: str, thresholds: tuple[float, float]) -> None:
    """Predicted activity per group (box + points), quartile thresholds dashed (PNG, atomic)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from gener.io import atomic_write

    names = [n for n in groups if len(groups[n])]
    colours = {"natural_high": "tab:red", "natural_low": "tab:blue", "natural_all": "tab:gray",
               "generated_high": "salmon", "generated_low": "lightblue"}
    fig, ax = plt.subplots(figsize=(8, 4.2))
    box = ax.boxplot([groups[n] for n in names], patch_artist=True, showfliers=False)
    for patch, n in zip(box["boxes"], names):
        patch.set_facecolor(colours.get(n, "white"))
    rng = np.random.default_rng(0)
    for i, n in enumerate(names, start=1):
        ax.scatter(i + rng.uniform(-0.18, 0.18, len(groups[n])), groups[n], s=5, color="black", alpha=0.35)
    for t in thresholds:
        ax.axhline(t, color="gray", ls="--", lw=0.8)
    ax.set_xticks(range(1, len(names) + 1), [f"{n.replace('_', chr(10))}\n(n={len(groups[n])})" for n in names],
                  fontsize=8)
    ax.set_ylabel("predicted activity")
    ax.set_title(title, fontsize=9)
    fig.tight_layout()
    with atomic_write(path, "wb") as fh:
        fig.savefig(fh, format="png", dpi=110)
    plt.close(fig)


def run_design(model: str, out, *, data: str = DEFAULT_DATA, sequence_col: str = "seq", activity_col: str = "hlt",
               max_bp: int | None = 600, max_sequences: int | None = None, test_fraction: float = 0.2,
               quantile: float = 0.25, num_samples: int = 64, max_new_bp: int | None = None,
               temperature: float = 1.0, top_p: float = 1.0, top_k: int = 0, gen_steps: int | None = None,
               gen_epochs: float = 3.0, gen_lr: float = 1e-4, batch_size: int = 8, loss: str = "token",
               judge_epochs: int = 10, judge_lr: float = 1e-4, judge_batch: int = 32, generate_batch: int = 16,
               seed: int = 0,
               model_overrides: dict | None = None, progress: bool = True, log=print) -> dict:
    """The whole experiment; writes ``out/`` = generator/ (fine-tuned run),
    generated_{high,low}.fa, design.json, design.png. Returns the report."""
    import gener
    from gener.data.tasks import LabelledSet
    from gener.io import atomic_write, write_fasta
    from gener.tasks.dogma import Cds
    from gener.tasks.generate import generate, load_control_tokens
    from gener.training.classify import FinetuneSettings, run_finetune
    from gener.training.clm import Example, check_model, finetune_clm

    check_model(model)
    out = Path(out)
    measured, info = read_measured(data, sequence_col=sequence_col, activity_col=activity_col, max_bp=max_bp)
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(measured.sequences))
    if max_sequences and len(order) > max_sequences:
        order = order[:max_sequences]
    n_test = max(8, round(len(order) * test_fraction))
    test_idx, train_idx = order[:n_test], order[n_test:]
    seqs, act = measured.sequences, measured.activity
    train_labels, lo, hi = quartile_labels(act[train_idx], quantile)
    log(f"{len(order):,} measured sequences ({info['path']}): {len(train_idx):,} train, {len(test_idx):,} test; "
        f"low <= {lo:.3f}, high >= {hi:.3f} ({activity_col})")
    out.mkdir(parents=True, exist_ok=True)

    # 1. the judge: a regression head on the same base model, all training sequences
    held = max(4, len(train_idx) // 10)
    fit = LabelledSet([seqs[i] for i in train_idx[held:]], act[train_idx[held:]])
    val = LabelledSet([seqs[i] for i in train_idx[:held]], act[train_idx[:held]])
    test = LabelledSet([seqs[i] for i in test_idx], act[test_idx])
    settings = FinetuneSettings(learning_rate=judge_lr, batch_size=judge_batch, epochs=judge_epochs, seed=seed,
                                model_overrides=dict(model_overrides or {}))
    judged = run_finetune(model, "regression", [activity_col], fit, val, test, settings, keep_model=True, warn=log)
    judge = judged.model
    from gener.training.classify import load_tokenizer_for

    judge_tokenizer = load_tokenizer_for(model)
    pred_test = predict(judge, judge_tokenizer, test.sequences)
    from scipy.stats import spearmanr

    judge_report = {"test": judged.test, "test_spearman": round(float(spearmanr(pred_test, test.labels)[0]), 4),
                    "best_epoch": judged.best_epoch, "epochs_run": judged.epochs_run}
    log(f"judge on held-out natural sequences: Pearson {judged.test['pearson']:.3f}, "
        f"Spearman {judge_report['test_spearman']:.3f}")

    # 2. the generator: CLM with control tokens on the training quartiles
    examples = [Example(measured.names[i], seqs[i], str(lab)) for i, lab in zip(train_idx, train_labels) if lab]
    longest = max(len(seqs[i]) for i in order)
    run = finetune_clm(model, None, out / "generator", examples=examples, control_map=LABELS, loss=loss,
                       max_tokens=math.ceil(longest / 6) + 3, batch_size=batch_size, learning_rate=gen_lr,
                       steps=gen_steps, epochs=gen_epochs, seed=seed, model_overrides=model_overrides, log=log)
    net, tokenizer = gener.load(str(run.final))
    controls = load_control_tokens(run.final)
    budget = max_new_bp or int(math.ceil(longest / 6) * 6)

    # 3. generate per label, judge everything
    groups: dict[str, np.ndarray] = {}
    lengths: dict[str, list[int]] = {}
    too_short: dict[str, int] = {}
    for label in LABELS:
        samples = generate(net, tokenizer, [""], num_samples=num_samples, max_new_bp=budget, temperature=temperature,
                           top_p=top_p, top_k=top_k, control=label, control_tokens=controls, seed=seed,
                           batch_size=generate_batch, progress=progress)
        write_fasta(out / f"generated_{label}.fa",
                    [Cds(f"{label}_{i + 1}", f"finished={'yes' if g.finished else 'no'}", g.sequence)
                     for i, g in enumerate(samples)])
        usable = [g.sequence for g in samples if len(g.sequence) >= 12]
        too_short[label] = len(samples) - len(usable)
        groups[f"generated_{label}"] = predict(judge, judge_tokenizer, usable)
        lengths[f"generated_{label}"] = [len(s) for s in usable]
    test_labels = np.where(test.labels >= hi, "high", np.where(test.labels <= lo, "low", ""))
    for label in LABELS:
        groups[f"natural_{label}"] = pred_test[test_labels == label]
        lengths[f"natural_{label}"] = [len(s) for s, t in zip(test.sequences, test_labels) if t == label]
    groups["natural_all"] = pred_test
    lengths["natural_all"] = [len(s) for s in test.sequences]

    report = {
        "data": {**info, "activity": activity_col, "sequences": len(order), "train": len(train_idx),
                 "test": len(test_idx), "max_bp": max_bp, "quartiles": {"low": lo, "high": hi}},
        "controls": run.controls,
        "generator": {"base": model, "fine_tuned": str(run.final), "train_sequences": run.train_sequences,
                      "steps": run.global_step, "best_eval_loss": run.best_eval_loss},
        "judge": judge_report,
        "generation": {"samples_per_label": num_samples, "max_new_bp": budget, "temperature": temperature,
                       "top_p": top_p, "top_k": top_k, "shorter_than_12bp": too_short},
        "predicted_activity": {name: _summary(v) for name, v in groups.items()},
        "length_bp": {name: _summary(v) for name, v in lengths.items()},
        "separation": {"generated_high_vs_low": separation(groups["generated_high"], groups["generated_low"]),
                       "natural_high_vs_low": separation(groups["natural_high"], groups["natural_low"])},
        "values": {name: [round(float(x), 4) for x in v] for name, v in groups.items()},
    }
    with atomic_write(out / "design.json") as fh:
        json.dump(report, fh, indent=1)
    gen_sep = report["separation"]["generated_high_vs_low"]
    plot(groups, out / "design.png", f"{Path(info['path']).name}: predicted {activity_col}; generated high vs low "
         f"AUC {gen_sep.get('auc', float('nan')):.2f} (p={gen_sep.get('p_value', float('nan')):.2g})", (lo, hi))
    return report
