"""Sequence recovery protocols and the Markov baseline on real sequences."""

import json
from collections import Counter
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

import pytest
import torch
from typer.testing import CliRunner

from gener.cli import app
from gener.errors import GenerInputError
from gener.io import read_fasta
from gener.modeling.perbase import base_log_probs, kmer_ids
from gener.tasks.markov import MarkovModel
from gener.tasks.recovery import Sample, accuracy_report, cut_samples, read_table_records, recover
from tiny_models import tiny_generanno, tiny_generator, one_thread  # noqa: F401 (fixture)

pytestmark = pytest.mark.usefixtures("one_thread")

DATA = Path(__file__).parent / "data"
ECOLI = str(DATA / "ecoli_k12_60kb.fa")
SLICES = str(DATA / "ecoli_k12_slices.gbk")


@pytest.fixture(scope="module")
def genome():
    return next(read_fasta(ECOLI)).sequence


def test_markov_counts_backoff_and_greedy(genome):
    seq = genome[:4000] + "NN" + genome[4000:8000]
    model = MarkovModel(4).fit([seq])
    want = Counter(seq[i - 4:i + 1] for i in range(4, len(seq)) if "N" not in seq[i - 4:i + 1])
    got = {a + b + c + d + e: model.counts[4][(("ACGT".index(a) * 4 + "ACGT".index(b)) * 4 + "ACGT".index(c)) * 4
                                             + "ACGT".index(d), "ACGT".index(e)]
           for a in "ACGT" for b in "ACGT" for c in "ACGT" for d in "ACGT" for e in "ACGT"}
    assert all(got[w] == want.get(w, 0) for w in got) and model.bases_seen == len(seq) - 2
    periodic = MarkovModel(3).fit(["ACGTTG" * 50])
    assert periodic.predict(["GGACGT", "TTGACG"], 12) == ["TGACGTTGACGT", "TTGACGTTGACG"]
    # a context never seen at order 3 backs off to what order 2 / 1 saw
    assert periodic.predict(["CCC"], 1) == ["G"]  # CCC and CC never seen: backs off to order 1 (C -> G)
    ll, n = periodic.log_likelihood("ACGTTGACGTTG")
    assert n == 12 and ll > 12 * np.log(0.25)


def test_cut_samples_and_table_input(tmp_path, genome):
    records = [("a", "cds", genome[:1000]), ("b", "tRNA", genome[1000:1100]), ("c", "cds", genome[2000:2080]),
               ("d", "cds", genome[3000:3610] + "N" + genome[3611:4000])]
    samples, skipped = cut_samples(records, 600, 30)
    assert [s.id for s in samples] == ["a", "b"] and skipped == 2  # c shorter than 60 + 30, d's target has an N
    assert samples[0].context == genome[:600] and samples[0].target == genome[600:630]
    assert samples[1].context == genome[1000:1070] and samples[1].target == genome[1070:1100]
    random_cut, _ = cut_samples(records, 600, 30, cut="random", seed=1)
    again, _ = cut_samples(records, 600, 30, cut="random", seed=1)
    assert [s.target for s in random_cut] == [s.target for s in again]
    path = tmp_path / "regions.parquet"
    pq.write_table(pa.table({"gene_id": ["g1", "g2"], "gene_type": ["protein_coding", "tRNA"],
                             "sequence": [genome[:700], genome[800:900].lower()]}), path)
    assert read_table_records(path) == [("g1", "protein_coding", genome[:700]), ("g2", "tRNA", genome[800:900])]
    report = accuracy_report([Sample("x", "t", "", "ACGT"), Sample("y", "u", "", "AAAA")], ["ACGA", "AAAA"])
    assert report.accuracy == pytest.approx(0.875) and report.per_type == {"t": (0.75, 1), "u": (1.0, 1)}


def test_causal_protocol_is_greedy_over_dna_tokens_only(genome):
    model, tok = tiny_generator()
    with torch.no_grad():  # make specials (and </s>) the likeliest tokens
        model.lm_head.weight[:32] += 5 * model.lm_head.weight[32:64]
    samples = [Sample("a", "t", genome[:605], genome[605:635]), Sample("b", "t", genome[5000:5120], genome[5120:5150])]
    preds = recover(model, tok, samples, 30, batch_size=2)
    ids = torch.tensor([[1] + tok.encode_bulk(genome[5:605], add_bos=False).tolist()])  # 605 -> trim 5 left
    for _ in range(5):
        with torch.no_grad():
            logits = model(ids).logits[0, -1]
        logits[:32] = -float("inf")
        ids = torch.cat([ids, logits.argmax().view(1, 1)], 1)
    assert preds[0] == tok.decode(ids[0, -5:]) and len(preds[1]) == 30 and set(preds[0] + preds[1]) <= set("ACGT")
    per_base = recover(model, tok, samples[:1], 30, per_base=True)[0]
    with torch.no_grad():
        first = model(ids[:, :-5]).logits[0, -1]
    best = base_log_probs(first, kmer_ids(tok)).argmax(-1)
    assert per_base[:6] == "".join("ATCG"[i] for i in best)


def test_masked_protocol_batched_equals_single(genome):
    model, tok = tiny_generanno()
    samples = [Sample("a", "t", genome[:200], genome[200:210]), Sample("b", "t", genome[300:350], genome[350:360])]
    both = recover(model, tok, samples, 10, batch_size=2)
    one = recover(model, tok, samples[1:], 10, batch_size=1)
    assert both[1] == one[0] and all(len(p) == 10 for p in both)
    ids = torch.tensor([[1] + tok.encode_bulk(genome[300:350], add_bos=False).tolist() + [tok.mask_token_id]])
    with torch.no_grad():
        logits = model(input_ids=ids).logits[0, -1, tok.convert_tokens_to_ids(list("ACGT"))]
    assert one[0][0] == "ACGT"[int(logits.argmax())]
    with pytest.raises(GenerInputError, match="per-base"):
        recover(model, tok, samples, 10, per_base=True)


def test_cli_recover_json_and_errors(tmp_path):
    tiny_generator(tmp_path / "m")
    runner = CliRunner()
    args = ["recover", "--data", SLICES, "--model", str(tmp_path / "m"), "--context-bp", "600",
            "--json", "-o", str(tmp_path / "p.tsv")]
    r = runner.invoke(app, args)
    assert r.exit_code == 0, r.output
    report = json.loads(r.stdout[r.stdout.index("{"):])
    assert report["samples"] == 3 and 0 <= report["accuracy"] <= 1 and report["per_type"]["all"]["samples"] == 3
    assert len((tmp_path / "p.tsv").read_text().splitlines()) == 4
    r = runner.invoke(app, ["recover", "--data", SLICES, "--model", str(tmp_path / "m"),
                            "--min-context-bp", "100000", "--context-bp", "200000"])
    assert r.exit_code == 2 and "no sequence is long enough" in r.output
