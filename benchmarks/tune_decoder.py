"""Choose the decoder's weights on TUNING genomes of the training split (never the validation genomes).

    python benchmarks/tune_decoder.py [--model NAME] [--genomes mthermautotrophicus,amarina-plasmids,rdenitrificans]
        [--cache DIR] [--write]

What is chosen, and how, is gener.tasks.annotate.tuning (``gener finetune decoder`` runs the
same on any annotated genomes). This script runs it on the embedded annotator's tuning
genomes: the training genomes that were held out of its training. The model's
probabilities are computed once per genome (``--cache`` keeps them). ``--write`` stores the
result in the model's decoder.json, which the Annotator reads.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import torch

from gener.data.fetch import dataset_path
from gener.io import read_genbank
from gener.modeling.loading import resolve
from gener.tasks.annotate.annotator import Annotator
from gener.tasks.annotate.tuning import entry, markdown, prepare, tune_all, write_decoder_json

sys.path.insert(0, str(Path(__file__).resolve().parent))
from annotate_quality import model_probabilities  # noqa: E402

TUNING = "mthermautotrophicus,amarina-plasmids,rdenitrificans"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", default="gener-annotator-tiny")
    ap.add_argument("--genomes", default=TUNING, help="tuning genomes (training split only)")
    ap.add_argument("--cache", type=Path, help="keep the model's probabilities here")
    ap.add_argument("--sources", default="both,model,genome")
    ap.add_argument("--modes", default="single,meta")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--write", action="store_true", help="write the model's decoder.json")
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)

    annotator = Annotator(args.model, evidence="model")
    genomes = []
    for name in args.genomes.split(","):
        records = list(read_genbank(dataset_path(name)))
        genomes.append(prepare(name, records, model_probabilities(annotator, name, records, args.cache)))
    rows = tune_all(genomes, sources=args.sources.split(","), modes=args.modes.split(","),
                    log=lambda line: print(f"# {line}", file=sys.stderr, flush=True))
    print(f"Tuning genomes: {args.genomes}\n")
    print(markdown(rows), end="")
    if args.write:
        path = write_decoder_json(resolve(args.model), {key: entry(params) for key, params, _ in rows})
        print(f"\nwrote {path}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
