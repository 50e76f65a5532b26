"""Variant effect scores for SNVs with a causal GENERator model.

Two scores per SNV, both oriented so that **higher = the alternative allele is less likely
under the model** (the usual "deleterious" direction):

- ``upstream`` (the published protocol, docs/generation.md): the ``context_bp`` (8192) bases ending just
  before the variant, leading N stripped, left-trimmed to a multiple of 6, after ``<s>``; from
  the next-token distribution p(base) = the summed probability of the 4**5 6-mers starting
  with that base; score = log p(ref) - log p(alt).
- ``window``: the log-likelihood (gener.tasks.score, token mode) of a ``window_bp`` window
  centred on the variant with the reference allele minus that with the alternative allele,
  so the bases after the variant count too. Both windows share the 6-mer frame.

Input: a VCF (plain or compressed; CHROM, POS 1-based, REF, ALT). SNVs only: each ALT of a
multi-allelic site is its own row; indels, symbolic alleles and ``N`` are skipped and counted.
A REF that disagrees with the reference sequence is an error naming the VCF line. Labels, for
AUROC / AUPRC: the INFO key ``label_key`` (default ``LABEL``); 1/true/yes/pathogenic/
likely_pathogenic/deleterious are positives, 0/false/no/benign/likely_benign/neutral negatives,
anything else or absent unlabelled.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch

from gener.errors import GenerInputError

POSITIVE = {"1", "true", "yes", "pathogenic", "likely_pathogenic", "deleterious"}
NEGATIVE = {"0", "false", "no", "benign", "likely_benign", "neutral"}


@dataclass
class Variant:
    chrom: str
    pos: int  # 1-based, as in the VCF
    id: str
    ref: str
    alt: str
    label: int | None = None
    upstream: float = float("nan")
    window: float = float("nan")


def read_vcf(path, *, label_key: str = "LABEL") -> tuple[list[Variant], int]:
    """(SNVs, number of skipped records/alleles)."""
    from gener.io import open_binary

    out, skipped, header = [], 0, False
    with open_binary(path) as fh:
        for n, raw in enumerate(fh, start=1):
            line = raw.decode("utf-8", "replace").rstrip("\r\n")
            if line.startswith("##"):
                continue
            if line.startswith("#"):
                header = True
                continue
            if not line.strip():
                continue
            cols = line.split("\t")
            if len(cols) < 5 or not cols[1].isdigit():
                raise GenerInputError("not a VCF data line (need CHROM POS ID REF ALT, tab-separated)", path=path, line=n)
            chrom, pos, vid, ref, alts = cols[0], int(cols[1]), cols[2], cols[3].upper(), cols[4].upper()
            info = dict(kv.split("=", 1) if "=" in kv else (kv, "") for kv in cols[7].split(";")) if len(cols) > 7 else {}
            value = info.get(label_key, "").strip().lower()
            label = 1 if value in POSITIVE else 0 if value in NEGATIVE else None
            for alt in alts.split(","):
                if len(ref) == 1 and len(alt) == 1 and ref in "ACGT" and alt in "ACGT" and ref != alt:
                    out.append(Variant(chrom, pos, vid, ref, alt, label))
                else:
                    skipped += 1
    if not header and not out:
        raise GenerInputError("no VCF header and no variants", path=path)
    return out, skipped


def check_reference(variants: Sequence[Variant], genome: dict[str, str], vcf_path=None) -> None:
    for v in variants:
        seq = genome.get(v.chrom)
        if seq is None:
            known = ", ".join(list(genome)[:5])
            raise GenerInputError(f"chromosome {v.chrom!r} is not in the reference (it has {known}...)", path=vcf_path)
        if not 1 <= v.pos <= len(seq):
            raise GenerInputError(f"{v.chrom}:{v.pos} lies outside the reference ({len(seq):,} bp)", path=vcf_path)
        if seq[v.pos - 1] != v.ref:
            raise GenerInputError(f"{v.chrom}:{v.pos}: REF {v.ref} but the reference has {seq[v.pos - 1]} "
                                  "(wrong reference build?)", path=vcf_path)


@torch.inference_mode()
def score_upstream(model, tokenizer, variants: Sequence[Variant], genome: dict[str, str], *, context_bp: int = 8192,
                   batch_size: int = 8, progress=None) -> None:
    """Fill ``v.upstream`` (log p(ref) - log p(alt) at the variant from upstream context only)."""
    from gener.modeling.perbase import base_log_probs, kmer_ids
    from gener.tasks.generate import _left_pad

    ids = kmer_ids(tokenizer)
    device = next(model.parameters()).device
    limit = model.config.max_position_embeddings - 1
    k = tokenizer.k
    for b in range(0, len(variants), batch_size):
        chunk = variants[b:b + batch_size]
        rows = []
        for v in chunk:
            ctx = genome[v.chrom][max(0, v.pos - 1 - context_bp):v.pos - 1].lstrip("N")
            ctx = ctx[len(ctx) % k:]
            tokens = tokenizer.encode_bulk(ctx, add_bos=False, add_eos=False).astype(np.int64)[-limit:]
            rows.append(np.concatenate([[tokenizer.bos_token_id], tokens]))
        x, mask = _left_pad(rows, tokenizer.pad_token_id)
        logits = model(input_ids=x.to(device), attention_mask=mask.to(device), logits_to_keep=1).logits[:, -1]
        first = base_log_probs(logits, ids, normalize=False)[:, 0, :].cpu()  # (batch, 4): A T C G
        for v, lp in zip(chunk, first):
            v.upstream = float(lp["ATCG".index(v.ref)] - lp["ATCG".index(v.alt)])
        if progress:
            progress(len(chunk))


def score_window(model, tokenizer, variants: Sequence[Variant], genome: dict[str, str], *, window_bp: int = 6144,
                 batch_size: int = 8, progress=None) -> None:
    """Fill ``v.window`` (log-likelihood of the centred window with REF minus with ALT)."""
    from gener.tasks.score import score_sequences

    k = tokenizer.k
    window_bp = max(k, window_bp - window_bp % k)
    pairs = []
    for v in variants:
        seq = genome[v.chrom]
        start = max(0, min(v.pos - 1 - window_bp // 2, len(seq) - window_bp))
        piece = seq[start:start + window_bp]
        at = v.pos - 1 - start
        pairs.append((piece, piece[:at] + v.alt + piece[at + 1:]))

    def records():
        for i, (ref, alt) in enumerate(pairs):
            yield f"{i}r", ref
            yield f"{i}a", alt

    scores = score_sequences(model, tokenizer, records(), batch_size=batch_size)
    for v in variants:
        ref, alt = next(scores), next(scores)
        v.window = ref.log_likelihood - alt.log_likelihood
        if progress:
            progress(1)


def metrics(variants: Sequence[Variant]) -> dict[str, dict[str, float]]:
    """AUROC / AUPRC of each score over the labelled variants (NaN without both classes)."""
    from gener.metrics import average_precision, binary_auroc

    labelled = [v for v in variants if v.label is not None]
    y = np.array([v.label for v in labelled])
    out = {"labelled": {"n": len(labelled), "positives": int(y.sum()) if len(y) else 0}}
    for name in ("upstream", "window"):
        s = np.array([getattr(v, name) for v in labelled], np.float64)
        if len(s) and not np.isnan(s).all() and 0 < y.sum() < len(y):
            out[name] = {"auroc": binary_auroc(y, s), "auprc": average_precision(y, s)}
    return out


def write_variants(path, variants: Sequence[Variant]) -> None:
    from gener.io import atomic_write

    def fmt(x):
        return "" if x is None or (isinstance(x, float) and math.isnan(x)) else (f"{x:.6f}" if isinstance(x, float) else str(x))

    with atomic_write(path) as fh:
        fh.write("chrom\tpos\tid\tref\talt\tlabel\tupstream_score\twindow_score\n")
        for v in variants:
            fh.write("\t".join([v.chrom, str(v.pos), v.id, v.ref, v.alt, fmt(v.label), fmt(v.upstream), fmt(v.window)]) + "\n")
