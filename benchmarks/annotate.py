"""CDS annotation speed on E. coli K-12 (4.6 Mbp): Prodigal's metagenomic mode (pyrodigal,
one thread: Prodigal does not thread one sequence) against gener's annotator, same run.

    python benchmarks/annotate.py [--genome PATH] [--model NAME | --no-model] [--threads 2] [--repeat 1]
        [--overlap BP] [--precision auto|bf16|fp32] [--evidence both|model|genome] [--options BP]

Prints the seconds of each (best of ``--repeat``, model loading excluded) and the ratio
annotator / pyrodigal. The annotator (``--model``, default the embedded
"gener-annotator-tiny", via ``gener.tasks.annotate.annotator.Annotator``) runs with
``--threads`` torch threads; it is skipped with a message when not available. The genome
defaults to the "ecoli-k12" dataset of gener's data cache (``gener data fetch``).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from gener.io import read_sequences
from gener.tasks.annotate.prodigal import prodigal_annotate

sys.path.insert(0, str(Path(__file__).resolve().parent))
from annotate_quality import load_annotator  # noqa: E402


def best_of(repeat: int, fn) -> tuple[float, object]:
    best, result = float("inf"), None
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - start)
    return best, result


def speed_options(annotator, sequence: str) -> int:
    """One forward pass over ``sequence`` per option; the reference is overlap 0 in fp32."""
    import numpy as np
    import torch

    from gener.tasks.annotate import inference

    model = annotator.model
    int8 = torch.ao.quantization.quantize_dynamic(model, {torch.nn.Linear}, dtype=torch.qint8)
    window = annotator.window
    batch = inference.default_batch_size(window)
    # the attention a bf16 run takes by default on this CPU (inference.model_for)
    fast, slow = ("sdpa", "windows") if inference.cpu_has_amx() else ("windows", "sdpa")
    label = {"sdpa": "SDPA", "windows": "windowed attention"}
    # (name, model, window, overlap, precision, attention, windows per batch)
    options = [("overlap half a window, fp32", model, window, window // 2, "fp32", "sdpa", batch),
               ("overlap 0, fp32, SDPA (reference)", model, window, 0, "fp32", "sdpa", batch),
               ("overlap 0, fp32, windowed attention", model, window, 0, "fp32", "windows", batch),
               (f"overlap 0, fp32, SDPA, {4 * batch} windows per batch", model, window, 0, "fp32", "sdpa", 4 * batch),
               (f"overlap 0, bf16, {label[slow]}", model, window, 0, "bf16", slow, batch),
               (f"overlap 0, bf16, {label[fast]} (the default on this CPU)", model, window, 0, "bf16", fast, batch),
               ("the same, one batch at a time on all threads", model, window, 0, "bf16", fast, batch),
               ("overlap 0, int8 linear layers, SDPA", int8, window, 0, "fp32", "sdpa", batch),
               (f"window {window // 2}, overlap 0, bf16, {label[fast]}", model, window // 2, 0, "bf16", fast,
                2 * batch),
               (f"window {2 * window}, overlap 0, fp32, SDPA", model, 2 * window, 0, "fp32", "sdpa", batch // 2)]
    rows, reference = [], None
    small = inference.SMALL_MODEL
    for name, net, win, overlap, precision, attention, size in options:
        # every other row runs a small model's batches side by side (inference.side_by_side)
        inference.SMALL_MODEL = 0 if "one batch at a time" in name else small
        start = time.perf_counter()
        probs = inference.predict_proba(net, sequence, window=win, overlap=overlap, precision=precision,
                                        attention=attention, batch_size=size)
        seconds = time.perf_counter() - start
        if name.endswith("(reference)"):
            reference = (seconds, probs)
        rows.append((name, seconds, probs))
    inference.SMALL_MODEL = small
    print(f"| option ({len(sequence) / 1e3:.0f} kbp) | kbp/s | speed-up | max probability change |")
    print("|---|---|---|---|")
    for name, seconds, probs in rows:
        change = float(np.abs(probs - reference[1]).max())
        print(f"| {name} | {len(sequence) / seconds / 1e3:.1f} | {reference[0] / seconds:.2f}x | {change:.3f} |")
    exported_runtime(model, window, batch)
    return 0


def exported_runtime(model, window: int, batch: int, repeat: int = 8) -> None:
    """The model exported to ONNX and run by ONNX Runtime (fp32, and int8 linear layers), against
    torch at gener's default precision: seconds per batch of windows on one thread, best of
    ``repeat``. Skipped where onnxruntime (not a gener dependency) is not installed."""
    import copy
    import logging
    import tempfile
    import warnings

    import torch

    from gener.tasks.annotate import inference

    try:
        import onnxruntime
        from onnxruntime.quantization import quantize_dynamic
    except ImportError:
        print("\nexported runtime: skipped (pip install onnxruntime onnx to measure it)")
        return
    ids = torch.randint(32, 41, (batch, window))  # A, C, G, T and the other nucleotide ids

    def best(fn) -> float:
        fn()
        times = []
        for _ in range(repeat):
            start = time.perf_counter()
            fn()
            times.append(time.perf_counter() - start)
        return min(times)

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        runner = inference.model_for(model, "auto", "auto")
        with torch.inference_mode():
            rows = [("torch, gener's default precision and attention", best(lambda: runner(input_ids=ids)))]
        with tempfile.TemporaryDirectory() as tmp, warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the exporter's and quantizer's deprecation notes
            fp32, int8 = f"{tmp}/model.onnx", f"{tmp}/model.int8.onnx"
            exported = copy.deepcopy(model).float().eval()
            exported.set_attn_implementation("eager")  # the exporter has no SDPA with grouped KV heads
            torch.onnx.export(exported, (ids,), fp32, input_names=["input_ids"], dynamo=False, opset_version=17)
            logging.disable(logging.WARNING)  # the quantizer's advice to pre-process the graph
            try:
                quantize_dynamic(fp32, int8)
            finally:
                logging.disable(logging.NOTSET)
            options = onnxruntime.SessionOptions()
            options.intra_op_num_threads = options.inter_op_num_threads = 1
            for name, path in (("ONNX Runtime, fp32", fp32), ("ONNX Runtime, int8 linear layers", int8)):
                session = onnxruntime.InferenceSession(path, options, providers=["CPUExecutionProvider"])
                rows.append((name, best(lambda: session.run(None, {"input_ids": ids.numpy()}))))
    finally:
        torch.set_num_threads(threads)
    print(f"\n| exported runtime ({batch} windows of {window} bp, 1 thread, onnxruntime "
          f"{onnxruntime.__version__}) | s per batch | speed-up |")
    print("|---|---|---|")
    for name, seconds in rows:
        print(f"| {name} | {seconds:.3f} | {rows[0][1] / seconds:.2f}x |")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--genome", type=Path, help="FASTA / GenBank (default: the ecoli-k12 dataset)")
    ap.add_argument("--model", default="gener-annotator-tiny")
    ap.add_argument("--no-model", action="store_true")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("--overlap", type=int, help="window overlap in bp (default: the annotator's)")
    ap.add_argument("--precision", choices=("auto", "bf16", "fp32"), help="model precision (default: auto)")
    ap.add_argument("--evidence", choices=("both", "model", "genome"), help="decoder evidence (default: both)")
    ap.add_argument("--options", type=int, metavar="BP",
                    help="instead: the network's speed options on the genome's first BP bases (overlap, batch, "
                         "bf16, attention, int8, window length), as kbp/s, speed-up and largest probability change vs fp32 overlap 0; "
                         "then ONNX Runtime against torch, where onnxruntime is installed")
    args = ap.parse_args(argv)

    if args.genome is None:
        from gener.data.fetch import dataset_path

        args.genome = Path(dataset_path("ecoli-k12"))
    records = list(read_sequences(args.genome))
    bases = sum(len(r.sequence) for r in records)
    print(f"genome: {args.genome.name}, {len(records)} record(s), {bases / 1e6:.2f} Mbp")

    prodigal_s, predicted = best_of(args.repeat, lambda: prodigal_annotate(records, mode="meta"))
    genes = sum(len(r.features) for r in predicted)
    print(f"pyrodigal meta (1 thread): {prodigal_s:7.2f} s  {genes} genes  {bases / prodigal_s / 1e6:.2f} Mbp/s")

    if args.no_model:
        print("gener annotator: skipped (--no-model)")
        return 0
    annotator, why = load_annotator(args.model, args.threads)
    if annotator is None:
        print(f"gener annotator: skipped ({why})")
        return 0
    if args.options:
        return speed_options(annotator, records[0].sequence[: args.options])
    if args.overlap is not None:
        annotator.overlap = args.overlap
    if args.precision:
        annotator.precision = args.precision
    if args.evidence:
        annotator.evidence = args.evidence
    ours_s, predicted = best_of(args.repeat, lambda: list(annotator.annotate_records(records)))
    genes = sum(len(found) for _, _, found in predicted)
    print(f"gener {args.model} ({args.threads} threads, window {annotator.window}, overlap {annotator.overlap}, "
          f"precision {annotator.precision}, evidence {annotator.evidence}): "
          f"{ours_s:7.2f} s  {genes} genes  {bases / ours_s / 1e6:.3f} Mbp/s  (target: 4.6 Mbp in <= 60 s)")
    print(f"ratio gener / pyrodigal: {ours_s / prodigal_s:.1f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
