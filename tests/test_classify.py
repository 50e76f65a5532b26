"""Sequence understanding: pooling, task loaders (local stand-ins for the hub suites), folds,
and `gener finetune classify` end to end on real Oct4 / MafK peaks and PUM2 eCLIP sites."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import torch
from typer.testing import CliRunner

from gener.cli import app
from gener.data.tasks import load_task
from gener.errors import GenerInputError
from gener.io import read_fasta
from gener.training.classify import FinetuneSettings, build_classifier, encode_sequences, load_tokenizer_for
from gener.training.crossval import fold_indices, parse_grid

DATA = Path(__file__).parent / "data"
TINY = dict(num_hidden_layers=1, hidden_size=32, intermediate_size=64, num_attention_heads=2, num_key_value_heads=1)


def _peaks(n=60):
    oct4 = [r.sequence for r in read_fasta(DATA / "oct4_slice.fa")][:n]
    mafk = [r.sequence for r in read_fasta(DATA / "mafk_slice.fa")][:n]
    return oct4, mafk


def _write_labelled_fasta(path: Path, n=60):
    oct4, mafk = _peaks(n)
    with open(path, "w") as fh:
        for i, s in enumerate(oct4):
            fh.write(f">oct4_{i} label=Oct4 split={'test' if i % 5 == 0 else 'train'}\n{s}\n")
        for i, s in enumerate(mafk):
            fh.write(f">mafk_{i} label=MafK split={'test' if i % 5 == 0 else 'train'}\n{s}\n")
    return path


@pytest.mark.parametrize("preset", ["generator-tiny", "generanno-tiny"])
def test_pooling_is_independent_of_right_padding(preset):
    """Each row pools its own last real token (GENERator) / its <s> (GENERanno): a short
    sequence batched with a long one (so padded on the right) gets its unpadded logits."""
    torch.manual_seed(0)
    model = build_classifier(preset, "classification", ["a", "b", "c"], TINY).eval()
    tok = load_tokenizer_for(preset)
    oct4, _ = _peaks(2)
    family = "generator" if preset.startswith("generator") else "generanno"
    ids, _ = encode_sequences([oct4[0][:60], oct4[1]], tok, family, 10_000)
    if family == "generator":
        assert ids[0][0] == ids[0][-1] == tok.bos_token_id and len(ids[0]) == 12  # <s> + 10 6-mers + <s>
    width = max(len(i) for i in ids)
    batch = torch.full((2, width), tok.pad_token_id)
    mask = torch.zeros((2, width), dtype=torch.long)
    for r, row in enumerate(ids):
        batch[r, : len(row)] = torch.as_tensor(row)
        mask[r, : len(row)] = 1
    with torch.no_grad():
        batched = model(input_ids=batch, attention_mask=mask).logits
        alone = model(input_ids=torch.as_tensor(ids[0])[None]).logits
        if family == "generator":  # the pooled vector is the hidden state of the trailing <s>
            hidden = model.model(input_ids=torch.as_tensor(ids[0])[None]).last_hidden_state
            assert torch.allclose(model.score(hidden[0, -1]), alone[0], atol=1e-5)
    assert torch.allclose(batched[0], alone[0], atol=1e-5)


def test_loaders_local_files(tmp_path):
    t = load_task(DATA / "pum2_slice.csv", label_cols=["binding_site"])
    assert t.task == "classification" and t.label_names == ["FALSE", "TRUE"]
    assert len(t.splits["train"]) == 443 and 0.1 < t.splits["train"].labels.mean() < 0.4
    assert set(t.splits["train"].sequences[0]) <= set("ACGTN")

    fa = load_task(_write_labelled_fasta(tmp_path / "peaks.fa"))
    assert fa.label_names == ["MafK", "Oct4"] and len(fa.splits["test"]) == 24 and len(fa.splits["train"]) == 96

    # TSV with a split column, ';'-separated multi-labels, two regression columns.
    oct4, mafk = _peaks(20)
    rows = ["sequence\tsplit\ttags\tgc\tat"]
    for i, s in enumerate(oct4 + mafk):
        gc = (s.count("G") + s.count("C")) / len(s)
        tags = ";".join(t for t, on in (("gcrich", gc > 0.5), ("cpg", "CG" in s), ("oct4", i < 20)) if on)
        rows.append(f"{s}\t{'validation' if i % 4 == 0 else 'train'}\t{tags}\t{gc:.4f}\t{1 - gc:.4f}")
    (tmp_path / "t.tsv").write_text("\n".join(rows) + "\n")
    ml = load_task(tmp_path / "t.tsv", label_cols=["tags"], task="multilabel")
    assert ml.label_names == ["cpg", "gcrich", "oct4"] and ml.splits["train"].labels.shape[1] == 3
    assert set(ml.splits) == {"train", "validation"}
    reg = load_task(tmp_path / "t.tsv", label_cols=["gc", "at"])
    assert reg.task == "regression" and reg.splits["train"].labels.shape == (30, 2)
    assert np.allclose(reg.splits["train"].labels.sum(1), 1.0, atol=1e-3)


def test_loaders_hub_layouts_and_errors(tmp_path, monkeypatch):
    """Local directories laid out as the published suites' hub repositories."""
    oct4, mafk = _peaks(30)
    seqs = oct4 + mafk
    labels = [1] * 30 + [0] * 30

    def shard(path: Path, seq_name: str, part: slice):
        path.parent.mkdir(parents=True, exist_ok=True)
        pq.write_table(pa.table({seq_name: seqs[part], "label": labels[part], "name": ["x"] * len(seqs[part])}), path)

    # NT tasks (revised): one directory per task, parquet shards per split.
    shard(tmp_path / "nt" / "H3K4me3" / "train-00000-of-00001.parquet", "sequence", slice(0, 60, 2))
    shard(tmp_path / "nt" / "H3K4me3" / "test-00000-of-00001.parquet", "sequence", slice(1, 60, 2))
    nt = load_task(tmp_path / "nt", subset="H3K4me3")
    assert nt.label_names == ["0", "1"] and len(nt.splits["train"]) == 30 and len(nt.splits["test"]) == 30
    # Genomic Benchmarks: one repository per task, data/ with `seq` columns.
    shard(tmp_path / "gb" / "data" / "train-00000-of-00002.parquet", "seq", slice(0, 20))
    shard(tmp_path / "gb" / "data" / "train-00001-of-00002.parquet", "seq", slice(20, 50))
    shard(tmp_path / "gb" / "data" / "test-00000-of-00001.parquet", "seq", slice(50, 60))
    gb = load_task(tmp_path / "gb")
    assert len(gb.splits["train"]) == 50 and gb.splits["train"].sequences[:20] == seqs[:20]

    with pytest.raises(GenerInputError, match="no train/validation/test"):
        load_task(tmp_path / "nt", subset="H3K27ac")
    # NT tasks (original): every task in one table, picked by its `task` column.
    for split, part in (("train", slice(0, 40)), ("test", slice(40, 60))):
        (tmp_path / "nt1").mkdir(exist_ok=True)
        pq.write_table(pa.table({"sequence": seqs[part], "label": labels[part],
                                 "task": ["enhancers" if i % 2 else "promoter_all" for i in range(len(seqs[part]))]}),
                       tmp_path / "nt1" / f"{split}.parquet")
    nt1 = load_task(tmp_path / "nt1", subset="enhancers")
    assert len(nt1.splits["train"]) == 20 and len(nt1.splits["test"]) == 10
    with pytest.raises(GenerInputError, match="no rows of task 'H3K4me3'; tasks: enhancers, promoter_all"):
        load_task(tmp_path / "nt1", subset="H3K4me3")
    with pytest.raises(GenerInputError, match="no seq column"):
        load_task(tmp_path / "gb", seq_col="dna")
    bad = tmp_path / "bad.csv"
    bad.write_text("sequence,label\nACGTACGT,a\nACGT-ACGT,b\n")
    with pytest.raises(GenerInputError, match="row 2"):
        load_task(bad)
    bad.write_text("sequence,label\nACGTACGT,a\nACGTACGT,\n")
    with pytest.raises(GenerInputError, match="train row 2 has no 'label'"):
        load_task(bad)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")
    import huggingface_hub.constants  # read the variable when first imported: set it there too

    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", True)
    try:
        import datasets.config
    except ImportError:  # not installed: load_task says so, with the same advice
        pass
    else:
        monkeypatch.setattr(datasets.config, "HF_HUB_OFFLINE", True)
    with pytest.raises(GenerInputError, match="pass DIR instead"):
        load_task("nt-revised:H3K4me3")
    with pytest.raises(GenerInputError, match="needs a task name"):
        load_task("genomic-benchmarks")


def test_folds_are_stratified_partitions_and_seeded():
    t = load_task(DATA / "pum2_slice.csv", label_cols=["binding_site"])
    y = t.splits["train"].labels
    folds = fold_indices(y, "classification", 10, seed=3)
    assert np.array_equal(np.sort(np.concatenate(folds)), np.arange(len(y)))
    positives = [y[f].sum() for f in folds]
    assert max(positives) - min(positives) <= 1 and max(map(len, folds)) - min(map(len, folds)) <= 1
    assert all(np.array_equal(a, b) for a, b in zip(folds, fold_indices(y, "classification", 10, seed=3)))
    assert not all(np.array_equal(a, b) for a, b in zip(folds, fold_indices(y, "classification", 10, seed=4)))
    assert parse_grid(["lr=1e-3,2e-3 batch=8,16"]) == [
        {"learning_rate": 1e-3, "batch_size": 8}, {"learning_rate": 1e-3, "batch_size": 16},
        {"learning_rate": 2e-3, "batch_size": 8}, {"learning_rate": 2e-3, "batch_size": 16}]
    with pytest.raises(GenerInputError):
        parse_grid(["momentum=0.9"])


def test_finetune_classify_cli_cross_validation_grid_and_baseline(tmp_path):
    data = _write_labelled_fasta(tmp_path / "peaks.fa", n=40)
    out = tmp_path / "run"
    sets = [f"--set={k}={v}" for k, v in TINY.items()]
    result = CliRunner().invoke(app, ["finetune", "classify", "--model", "generator-tiny", "--data", str(data),
                                      "-o", str(out), "--folds", "2", "--grid", "lr=1e-4,3e-3", "--batch-size", "16",
                                      "--epochs", "2", "--patience", "1", "--max-length", "20", "--save-model", *sets])
    assert result.exit_code == 0, result.output
    report = json.loads((out / "results.json").read_text())
    means = [e["valid"]["mcc"]["mean"] for e in report["grid"]]
    assert report["best"]["valid"]["mcc"]["mean"] == max(means)  # chosen on validation only
    assert len(report["best"]["test"]["mcc"]["values"]) == 2 and report["sizes"]["test"] == 16
    assert np.sum(report["best"]["confusion"]) == 2 * 16
    assert (out / "results.md").read_text().count("| mcc |") == 1 and (out / "confusion.png").stat().st_size > 0
    assert "truncated" in result.stderr  # 200 bp peaks are 35 tokens, cut to 20
    # the k-mer baseline on the same two folds and test split, compared fold by fold
    base, comp = report["baseline"], report["comparison"]
    assert len(base["test"]["mcc"]["values"]) == 2 and base["test"]["mcc"]["mean"] > 0.2  # composition separates the peaks
    diffs = np.subtract(report["best"]["test"]["mcc"]["values"], base["test"]["mcc"]["values"])
    assert comp["advantage"]["mean"] == pytest.approx(diffs.mean()) and comp["verdict"] in ("better", "tie", "worse")
    assert "k-mer baseline" in result.stdout and "k-mer baseline" in (out / "results.md").read_text()
    assert "fold 2/2 epoch 1/2: train loss" in result.stderr and "train loss" not in result.stdout  # progress: stderr
    import gener

    model, tok = gener.load(out / "model")  # the best run, a plain LlamaForSequenceClassification
    assert type(model).__name__ == "LlamaForSequenceClassification" and model.config.id2label[1] == "Oct4"
    assert model.config.pad_token_id == tok.pad_token_id == 3


def test_classify_defaults_freeze_max_train_and_no_baseline(tmp_path):
    """Nothing set: learning rate, batch, epochs from the model's scale, and the probe next to
    the fine-tune, the better on validation kept. --freeze embeds once and fits a head per
    fold; --max-train subsamples; --baseline none drops the row."""
    data = _write_labelled_fasta(tmp_path / "peaks.fa", n=40)
    runner = CliRunner()
    sets = [f"--set={k}={v}" for k, v in TINY.items()]
    result = runner.invoke(app, ["finetune", "classify", "--model", "generanno-tiny", "--data", str(data), "-o",
                                 str(tmp_path / "d"), "--folds", "2", "--max-train", "30", "--patience", "1", *sets])
    assert result.exit_code == 0, result.output
    report = json.loads((tmp_path / "d" / "results.json").read_text())
    tuned = report["grid"][0]
    assert tuned["learning_rate"] == 1e-3 and tuned["batch_size"] == 32  # < 30M parameters
    chosen = report["selection"]  # the probe, unless the fine-tune is ahead on validation by >= 1 SE
    z = chosen["fine_tune_margin_se"]
    ahead = chosen["fine-tuning"] > chosen["linear probe on frozen embeddings"] if z is None else z >= 1
    kept = "fine-tuning" if ahead else "linear probe on frozen embeddings"
    assert chosen["kept"] == report["mode"] == kept and f"kept the {kept}" in result.stderr
    assert report["best"]["valid"]["mcc"]["mean"] == pytest.approx(chosen[kept])
    assert report["defaults"] == "13.4K parameters: lr 0.001, batch 32, epochs 10, warm-up 0.5"  # --patience was set
    assert report["settings"]["epochs"] == 10 and report["sizes"]["train+validation"] == 30
    assert "baseline" in report and f"generanno-tiny ({kept})" in result.stdout  # the verdict names what was kept

    # no --model: auto, both embedded models probed on the validation folds, the better one used
    result = runner.invoke(app, ["finetune", "classify", "--data", str(data), "-o", str(tmp_path / "f"), "--folds", "3",
                                 "--freeze", "--baseline", "none"])
    assert result.exit_code == 0, result.output
    report = json.loads((tmp_path / "f" / "results.json").read_text())
    assert report["mode"] == "linear probe on frozen embeddings" and "baseline" not in report
    assert len(report["best"]["test"]["mcc"]["values"]) == 3 and "baseline" not in result.stdout.lower()
    choice = report["model_choice"]
    assert set(choice["validation"]) == {"gener-annotator-tiny", "gener-generator-tiny"} and "--model auto" in result.stderr
    assert report["model"] == choice["chosen"] == max(choice["validation"], key=choice["validation"].get)
    assert report["best"]["valid"]["mcc"]["mean"] == pytest.approx(choice["validation"][report["model"]])
    result = runner.invoke(app, ["finetune", "classify", "--model", "gener-annotator-tiny", "--data", str(data), "-o",
                                 str(tmp_path / "g"), "--freeze", "--grid", "auto"])
    assert result.exit_code == 2 and "--freeze" in result.output and not (tmp_path / "g").exists()


def test_scale_defaults_follow_the_checkpoint_and_the_parameter_count():
    from gener.training.scale import parameter_count, scale_defaults

    tiny = scale_defaults("gener-annotator-tiny")  # its training.json (the start-weighted stage) peaked at 1e-3
    assert tiny.learning_rate == 5e-4 and "recorded training" in tiny.why and tiny.parameters < 1e6
    assert [g["learning_rate"] for g in tiny.grid] == [0.00017, 0.0005, 0.0015]
    big = scale_defaults("generator-1.2b")  # meta device: no memory
    assert 1.1e9 < big.parameters < 1.3e9 and big.learning_rate == 1e-5 and big.batch_size == 64
    assert big.warmup_epochs == 0 and {g["batch_size"] for g in big.grid} == {64, 128}
    assert parameter_count("generanno-tiny", {"num_hidden_layers": 1}) < parameter_count("generanno-tiny")
    assert parse_grid(["auto"]) == "auto"


def test_grouped_folds_and_stratified_subsample_on_real_groups():
    from gener.training.crossval import stratified_sample

    t = load_task(DATA / "pum2_slice.csv", label_cols=["binding_site"], group_col="seqnames")
    part = t.splits["train"]
    folds = fold_indices(part.labels, "classification", 5, seed=1, groups=part.groups)
    assert np.array_equal(np.sort(np.concatenate(folds)), np.arange(len(part)))
    owners = [{part.groups[i] for i in f} for f in folds]
    assert all(not (a & b) for i, a in enumerate(owners) for b in owners[i + 1:])  # no chromosome in two folds
    assert max(map(len, folds)) - min(map(len, folds)) < 50  # greedy balance of 14 chromosomes (10-50 each)
    with pytest.raises(GenerInputError, match="14 groups"):
        fold_indices(part.labels, "classification", 20, seed=1, groups=part.groups)
    with pytest.raises(GenerInputError, match="no group column 'genome'"):
        load_task(DATA / "pum2_slice.csv", label_cols=["binding_site"], group_col="genome")

    small = stratified_sample(part, "classification", 100, seed=0)
    assert len(small) == 100 and abs(small.labels.mean() - part.labels.mean()) < 0.01
    assert set(small.sequences) <= set(part.sequences) and small.groups is not None
    assert stratified_sample(part, "classification", 100, seed=0).sequences == small.sequences


def test_kmer_features_warm_up_and_balanced_loss():
    from types import SimpleNamespace

    from gener.training.classify import WarmUp, balanced_loss
    from gener.training.linear import kmer_features

    x = kmer_features(["ACGTA", "AANAA"], kmax=2)
    assert x.shape == (2, 4 + 16)
    assert np.allclose(x[0, :4], [0.4, 0.2, 0.2, 0.2])  # A C G T
    assert x[0, 4 + 0 * 4 + 1] == 0.25  # AC is one of the four 2-mers
    assert np.isclose(x[1, 4 + 0], 1.0)  # AA twice; the windows over N are skipped

    class State:
        global_step = 0

    opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=1e-3)
    warm, state, seen = WarmUp(4), State(), []
    for step in range(6):
        state.global_step = step
        warm.on_step_begin(None, state, None, optimizer=opt)
        seen.append(opt.param_groups[0]["lr"])
    assert np.allclose(seen, [2.5e-4, 5e-4, 7.5e-4, 1e-3, 1e-3, 1e-3])

    y = load_task(DATA / "pum2_slice.csv", label_cols=["binding_site"]).splits["train"].labels  # ~25% bound
    loss = balanced_loss(y, 2)
    labels = torch.as_tensor(y)
    constant = SimpleNamespace(logits=torch.tensor([[2.0, -2.0]]).repeat(len(y), 1))  # always "unbound"
    per_row = torch.nn.functional.cross_entropy(constant.logits, labels, reduction="none")
    share = y.mean()
    expected = (per_row[labels == 0].sum() / (2 * (1 - share)) + per_row[labels == 1].sum() / (2 * share)) / len(y)
    assert torch.isclose(loss(constant, labels), expected)
    assert loss(constant, labels) > per_row.mean() * 1.5  # predicting the majority costs more than unweighted


@pytest.mark.parametrize("task", ["regression", "multilabel"])
def test_regression_and_multilabel_runs(tmp_path, task):
    from gener.data.tasks import LabelledSet
    from gener.training.classify import run_finetune

    oct4, mafk = _peaks(40)
    seqs = oct4 + mafk
    gc = np.array([(s.count("G") + s.count("C")) / len(s) for s in seqs], np.float32)
    if task == "regression":
        labels, names = np.stack([gc, 1 - gc], 1), ["gc", "at"]
    else:
        labels = np.stack([np.r_[np.ones(40), np.zeros(40)], gc > np.median(gc)], 1).astype(np.float32)
        names = ["oct4", "gcrich"]
    part = LabelledSet(seqs, labels)
    train, valid = part.subset(range(0, 80, 2)), part.subset(range(1, 80, 2))
    run = run_finetune("generanno-tiny", task, names, train, valid, valid,
                       FinetuneSettings(learning_rate=3e-3, batch_size=16, epochs=1, model_overrides=TINY))
    keys = {"mse", "mae", "r2", "pearson", "pearson_1"} if task == "regression" else {"f1_max", "auprc"}
    assert keys <= set(run.test) and run.test_logits.shape == (40, 2)


def test_gene_type_task_splits_by_genome_with_real_labels(tmp_path):
    from gener.data.task_builders import GENE_CLASSES, build_gene_type
    from gener.data.tasks import save_task

    train = [str(DATA / "ecoli_k12_slices.gbk"), str(DATA / "coxiella_endosymbiont_pseudo.gbk")]
    test = [str(DATA / "mycoplasma_mycoides_t4.gbk")]
    t = build_gene_type(train=train, test=test, per_class=10, max_bp=1500)
    tr, te = t.splits["train"], t.splits["test"]
    assert set(tr.groups) == set(train) and set(te.groups) == set(test)
    assert not set(tr.sequences) & set(te.sequences)
    counts = np.bincount(tr.labels, minlength=len(GENE_CLASSES))
    assert all(counts[GENE_CLASSES.index(c)] > 0 for c in ("CDS", "pseudogene", "tRNA", "rRNA", "intergenic"))
    assert counts[GENE_CLASSES.index("CDS")] == 20  # capped per genome
    cds = [s for s, y in zip(tr.sequences, tr.labels) if GENE_CLASSES[y] == "CDS"]
    assert np.mean([s[:3] in ("ATG", "GTG", "TTG") for s in cds]) > 0.9  # genes read 5'->3'
    rrna = [s for s, y in zip(tr.sequences, tr.labels) if GENE_CLASSES[y] == "rRNA"]
    assert any(s.startswith("AAATTGAAGAGTTTGATCATGGCTCAG") for s in rrna)  # E. coli rrsH 16S
    assert max(map(len, tr.sequences)) <= 1500
    save_task(t, tmp_path / "gt")
    back = load_task(tmp_path / "gt")
    assert back.label_names == list(GENE_CLASSES) and np.array_equal(back.splits["test"].labels, te.labels)
    assert np.array_equal(back.splits["train"].groups, tr.groups)


def test_taxonomy_task_multilabel_over_ranks():
    from gener.data.task_builders import _ranks, build_taxonomy

    genomes = [str(DATA / "ecoli_k12_slices.gbk"), str(DATA / "coxiella_burnetii_slices.gbk")]
    t = build_taxonomy(genomes=genomes, length=200, per_genome=50)
    assert t.task == "multilabel" and "genus:Escherichia" in t.label_names and "genus:Coxiella" in t.label_names
    y = t.splits["train"].labels
    shared = [t.label_names.index(n) for n in ("domain:Bacteria", "class:Gammaproteobacteria")]
    assert y[:, shared].all() and set(y.sum(1)) == {5.0}  # domain, phylum, class, order, genus
    assert 40 <= len(t.splits["train"]) <= 80 and 10 <= len(t.splits["test"]) <= 20  # at most 4:1 per genome
    assert not set(t.splits["train"].sequences) & set(t.splits["test"].sequences)
    assert _ranks(["Bacteria", "Mycoplasmatota", "Mollicutes", "Mycoplasmataceae", "Mycoplasma"]) == [
        "domain:Bacteria", "phylum:Mycoplasmatota", "class:Mollicutes", "genus:Mycoplasma"]


def test_oct4_mafk_and_pum2_builders_read_their_sources(tmp_path):
    from gener.data.task_builders import build_oct4_mafk, build_pum2

    peaks = tmp_path / "oct4-mafk"
    peaks.mkdir()
    for name, src in (("sample.fa", "oct4_slice.fa"), ("sample2.fa", "mafk_slice.fa"),
                      ("sample_test.fa", "oct4_slice.fa"), ("sample2_test.fa", "mafk_slice.fa")):
        (peaks / name).write_text((DATA / src).read_text())
    t = build_oct4_mafk(root=peaks)
    assert t.label_names == ["MafK", "Oct4"] and np.bincount(t.splits["train"].labels).tolist() == [60, 60]
    pum2 = tmp_path / "pum2"
    pum2.mkdir()
    for split in ("train", "valid", "test"):
        (pum2 / f"PUM2_{split}.csv").write_text((DATA / "pum2_slice.csv").read_text())
    p = build_pum2(root=pum2)
    assert set(p.splits) == {"train", "validation", "test"} and p.splits["test"].labels.sum() == \
        load_task(DATA / "pum2_slice.csv", label_cols=["binding_site"]).splits["train"].labels.sum()


def test_data_task_cli_refuses_bad_options(tmp_path):
    runner = CliRunner()
    result = runner.invoke(app, ["data", "task", "pum2", "-o", str(tmp_path / "p"), "--length", "50"])
    assert result.exit_code == 2 and "takes no --length" in result.output and not (tmp_path / "p").exists()
    result = runner.invoke(app, ["data", "task", "splice", "-o", str(tmp_path / "s")])
    assert result.exit_code == 2 and "unknown task 'splice'" in result.output


def test_probe_embedding_pools_only_the_dna_tokens():
    """Each sequence's probe embedding is the mean and the maximum of its own DNA tokens'
    hidden states: the same alone as next to a longer sequence (padding and specials left
    out), one block of means and one of maxima per depth."""
    from gener.io import read_fasta
    from gener.training.probe import depths, embed_frozen

    chrom = next(iter(read_fasta(DATA / "yeast_chrI_136801-152000.fa"))).sequence
    sequences = [chrom[1000:1300], chrom[5000:5120]]
    for name, hidden, layers in (("gener-annotator-tiny", 128, 4), ("gener-generator-tiny", None, None)):
        together = embed_frozen(name, sequences)
        alone = np.concatenate([embed_frozen(name, [s]) for s in sequences])
        np.testing.assert_allclose(together, alone, atol=2e-4)
        if hidden:
            assert together.shape == (2, 2 * len(depths(layers)) * hidden)
        means, maxima = np.split(together, 2, axis=1)
        assert (maxima >= means - 1e-5).all() and (maxima > means + 1e-3).any()


def test_the_fine_tune_is_kept_only_when_clearly_better_on_validation():
    from gener.training.crossval import select_mode, summarize

    def entry(values, metric="mcc"):
        return {"valid": {metric: summarize(values)}}

    probe = entry([0.30, 0.32, 0.31, 0.29, 0.33])
    noisy = entry([0.10, 0.57, 0.45, 0.55, 0.05])  # a higher mean, folds far apart: within noise
    steady = entry([0.35, 0.37, 0.37, 0.33, 0.39])
    assert select_mode("mcc", noisy, probe)["kept"] == "linear probe on frozen embeddings"
    chosen = select_mode("mcc", steady, probe)
    assert chosen["kept"] == "fine-tuning" and chosen["fine_tune_margin_se"] > 1
    assert select_mode("mcc", entry([0.4]), entry([0.3]))["kept"] == "fine-tuning"  # one fold: the sign
    assert select_mode("mse", entry([0.5, 0.6, 0.55], "mse"), entry([0.9, 1.1, 0.95], "mse"))["kept"] == "fine-tuning"  # lower wins
