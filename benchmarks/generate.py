"""Generation with vs without the KV cache, and scoring / embedding throughput, on CPU.

    python benchmarks/generate.py [--model gener-generator-tiny] [--new-tokens 1000] [--threads 1]
                                  [--skip-nocache]

- **KV cache**: one prompt (600 bp of real E. coli, 100 tokens + ``<s>``), greedy, exactly
  ``--new-tokens`` new 6-mers (``</s>`` and the specials banned so both runs are the same
  length), HF ``model.generate`` with ``use_cache=True`` and ``use_cache=False``; the ratio of
  the two times is the figure (target >= 10x at 1,000 new tokens). Both runs must produce the
  same tokens (checked). Then ``gener.tasks.generate.generate`` (what ``gener generate`` runs)
  with 8 samples of 600 new bp, batched, for tokens/s.
- **Scoring** (``gener score``): the 60 kb E. coli fixture, token mode and per-base mode, kbp/s.
- **Embeddings** (``gener embed``): the same sequence cut into 2 kb records (30 sequences), last-
  token pooling, kbp/s; and a GENERanno (generanno-tiny preset, random weights: speed does not
  depend on them) with first-token pooling.

The model is ``--model`` when it can be loaded, else a randomly initialised ``generator-tiny``
preset (5.06M parameters, the embedded generator's architecture). The machine is shared with
other jobs (2 cores): figures vary with load, ratios measured in the same run are what counts.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ECOLI = ROOT / "tests" / "data" / "ecoli_k12_60kb.fa"


def timed(fn):
    t = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - t


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default="gener-generator-tiny")
    ap.add_argument("--new-tokens", type=int, default=1000)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--skip-nocache", action="store_true")
    ap.add_argument("--json", type=Path, default=None)
    args = ap.parse_args(argv)

    import torch
    from transformers import GenerationConfig

    import gener
    from gener.errors import GenerInputError
    from gener.io import read_fasta
    from gener.modeling.presets import build_model
    from gener.tasks.embed import embed_sequences
    from gener.tasks.generate import DnaOnly, generate
    from gener.tasks.score import score_sequences
    from gener.tokenization import KmerTokenizer, NucleotideTokenizer

    torch.set_num_threads(args.threads)
    try:
        model, tok = gener.load(args.model, device="cpu")
        name = args.model
    except GenerInputError as exc:
        print(f"({exc}; using a random generator-tiny preset)")
        torch.manual_seed(0)
        model, tok, name = build_model("generator-tiny").eval(), KmerTokenizer(), "generator-tiny (random weights)"
    params = sum(p.numel() for p in model.parameters())
    genome = next(read_fasta(ECOLI)).sequence
    print(f"model {name}: {params / 1e6:.2f}M parameters, {args.threads} thread(s), shared machine")
    results = {"model": name, "parameters": params, "threads": args.threads}

    # --- KV cache ---------------------------------------------------------------------------
    ids = torch.tensor([[tok.bos_token_id] + tok.encode_bulk(genome[:600], add_bos=False).tolist()])
    processor = DnaOnly(tok, model.get_output_embeddings().weight.shape[0], allow_eos=False)

    def run(cache: bool):
        config = GenerationConfig(max_new_tokens=args.new_tokens, min_new_tokens=args.new_tokens, do_sample=False,
                                  use_cache=cache, eos_token_id=None, pad_token_id=tok.pad_token_id)
        with torch.inference_mode():
            return model.generate(input_ids=ids, attention_mask=torch.ones_like(ids), generation_config=config,
                                  logits_processor=[processor])

    run(True)  # warm-up (allocations, SDPA kernels)
    cached, t_cache = timed(lambda: run(True))
    print(f"KV cache:    {args.new_tokens:,} new tokens in {t_cache:6.1f} s = {args.new_tokens / t_cache:7.1f} tokens/s")
    results["cache_seconds"] = round(t_cache, 2)
    if not args.skip_nocache:
        plain, t_plain = timed(lambda: run(False))
        same = torch.equal(cached, plain)
        print(f"no KV cache: {args.new_tokens:,} new tokens in {t_plain:6.1f} s = {args.new_tokens / t_plain:7.1f} tokens/s")
        print(f"-> the KV cache is {t_plain / t_cache:.1f}x faster (target >= 10x); identical tokens: {same}")
        results.update(nocache_seconds=round(t_plain, 2), cache_speedup=round(t_plain / t_cache, 1), identical=same)

    prompts = [genome[i * 5000:i * 5000 + 600] for i in range(8)]
    out, t = timed(lambda: generate(model, tok, prompts, max_new_bp=600, seed=0, progress=False, batch_size=8))
    new_tokens = sum(len(g.sequence) for g in out) / tok.k
    print(f"gener generate: 8 prompts x 600 new bp, one batch: {t:.1f} s = {new_tokens / t:,.0f} tokens/s "
          f"({new_tokens * tok.k / t / 1e3:.1f} kbp/s)")
    results["generate_tokens_per_s"] = round(new_tokens / t, 1)

    # --- scoring and embeddings ----------------------------------------------------------------
    for per_base in (False, True):
        s, t = timed(lambda: list(score_sequences(model, tok, [("ecoli", genome)], per_base=per_base)))
        label = "per-base" if per_base else "token"
        print(f"score ({label:8s}): {len(genome):,} bp in {t:5.1f} s = {len(genome) / t / 1e3:6.1f} kbp/s "
              f"({s[0].per_bp:.4f} nats/bp)")
        results[f"score_{label}_kbp_s"] = round(len(genome) / t / 1e3, 1)
    records = [(f"r{i}", genome[i:i + 2000]) for i in range(0, len(genome), 2000)]
    e, t = timed(lambda: list(embed_sequences(model, tok, records, pool="last", batch_size=8)))
    print(f"embed (GENERator, last): {len(records)} x 2 kb in {t:5.1f} s = {len(genome) / t / 1e3:6.1f} kbp/s")
    results["embed_generator_kbp_s"] = round(len(genome) / t / 1e3, 1)
    torch.manual_seed(0)
    anno = build_model("generanno-tiny", "base").eval()
    e, t = timed(lambda: list(embed_sequences(anno, NucleotideTokenizer(), records, pool="first", batch_size=8)))
    print(f"embed (generanno-tiny, first): {len(records)} x 2 kb in {t:5.1f} s = {len(genome) / t / 1e3:6.1f} kbp/s")
    results["embed_generanno_kbp_s"] = round(len(genome) / t / 1e3, 1)
    print("(machine shared with other jobs: absolute figures vary with load)")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n")
    return results


if __name__ == "__main__":
    main()
