#!/usr/bin/env bash
# The papers' data finding at toy scale: two tiny GENERators, one pre-trained on gene regions,
# one on whole sequences of the same genomes, on the same token budget; compared by sequence
# recovery (30 bp after a context, greedy, the published protocol) on held-out gene regions.
#
#   bash scripts/gene_region_ablation.sh [WORKDIR] [STEPS]      # needs `gener data fetch` first
#
# Corpus and split: scripts/generator_corpus.py (U. maydis, yeast I-II, D. melanogaster 2R;
# held out: U. maydis chr20-23, yeast chrII, 2R from 18 Mb). Models: generator-tiny with hidden
# 128 (1.8M parameters), 512-token windows, 8 x 512 = 4,096 tokens per step. Recovery uses
# 3,072 bp of context (512 tokens: the trained window) on every held-out region.
set -euo pipefail
W=${1:-runs/ablation}
STEPS=${2:-500}
mkdir -p "$W"
[ -f "$W/corpus/train_genes.parquet" ] || python scripts/generator_corpus.py -o "$W/corpus"
for arm in genes whole; do
  [ -f "$W/shards-$arm/index.json" ] || gener data tokenize "$W/corpus/train_$arm.parquet" --tokenizer kmer -o "$W/shards-$arm"
  [ -d "$W/$arm/final" ] || OMP_NUM_THREADS=1 gener pretrain --preset generator-tiny --data "$W/shards-$arm" --out "$W/$arm" \
      --seq-len 512 --batch-size 8 --tokens-per-step 4096 --lr 2e-3 --warmup 25 --steps "$STEPS" --save-steps 100 \
      --log-steps 10 --set hidden_size=128 --set intermediate_size=352
done
for arm in genes whole; do
  gener recover --model "$W/$arm/final" --data "$W/corpus/heldout_genes.parquet" --context-bp 3072 --json > "$W/recovery-$arm.json"
  gener recover --model "$W/$arm/final" --data "$W/corpus/heldout_genes.parquet" --context-bp 3072 --per-base --json \
      > "$W/recovery-$arm-per-base.json"
done
python - "$W" <<'PY'
import json, sys
from pathlib import Path
w = Path(sys.argv[1])
print("| pre-training data | tokens seen | held-out recovery (greedy 6-mers) | per-base decoding |")
print("|---|---|---|---|")
for arm, label in (("genes", "gene regions"), ("whole", "whole sequences")):
    record = json.loads((w / arm / "final" / "training.json").read_text())
    greedy = json.loads((w / f"recovery-{arm}.json").read_text())
    per_base = json.loads((w / f"recovery-{arm}-per-base.json").read_text())
    print(f"| {label} | {record['tokens_seen']:,} | {greedy['accuracy']:.4f} | {per_base['accuracy']:.4f} |")
PY
