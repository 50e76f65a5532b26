"""gener score / gener embed against brute-force forward passes on real sequences."""

import math
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest
import torch
from typer.testing import CliRunner

from gener.cli import app
from gener.errors import GenerInputError
from gener.io import read_fasta
from gener.modeling.perbase import base_log_probs, kmer_ids, target_bases
from gener.tasks.embed import embed_sequences
from gener.tasks.score import score_sequences
from gener.tasks.windows import plan_windows
from tiny_models import tiny_generanno, tiny_generator, one_thread  # noqa: F401 (fixture)

pytestmark = pytest.mark.usefixtures("one_thread")

DATA = Path(__file__).parent / "data"
ECOLI = str(DATA / "ecoli_k12_60kb.fa")
YEAST = str(DATA / "yeast_chrI_136801-152000.fa")


@pytest.fixture(scope="module")
def genome():
    return next(read_fasta(ECOLI)).sequence


@pytest.fixture(scope="module")
def gen():
    return tiny_generator(init=0.05)


def test_windows_cover_every_position_once():
    for causal in (True, False):
        for n, w, s in ((10, 20, None), (100, 30, 10), (101, 30, 30), (1000, 64, 17)):
            plan = plan_windows(n, w, s, causal=causal)
            owned = np.concatenate([np.arange(p.own_start, p.own_end) for p in plan])
            assert owned.tolist() == list(range(n))
            assert all(p.start <= p.own_start and p.own_end <= p.end and p.end - p.start <= w for p in plan)
            assert plan[-1].last and plan[-1].end == n


def test_causal_score_is_the_exact_log_likelihood(gen, genome):
    model, tok = gen
    seq = genome[3000:4003]  # 1003 bp: 167 6-mers + a 1-base tail
    ids = torch.tensor([[1] + tok.encode_bulk(seq, add_bos=False, remainder="trim_right").tolist()])
    with torch.no_grad():
        logp = torch.log_softmax(model(ids).logits.float(), -1)[0]
    tokens = logp[:-1].gather(-1, ids[0, 1:, None]).sum()
    tail = torch.logsumexp(logp[-1][kmer_ids(tok)].reshape(4, -1)["ATCG".index(seq[-1])], 0)  # p(next 6-mer starts with it)
    got = next(score_sequences(model, tok, [("x", seq)]))
    assert got.scored_bp == 1003 and got.length == 1003
    assert got.log_likelihood == pytest.approx(float(tokens + tail), abs=1e-2)
    # per-base (v2): sum of the normalised marginals of each target base
    ids_k = kmer_ids(tok)
    lp = base_log_probs(logp[:-1], ids_k).gather(-1, target_bases(ids[0, 1:], ids_k).unsqueeze(-1)).sum()
    tail_pb = base_log_probs(logp[-1], ids_k)[0, "ATCG".index(seq[-1])]
    pb = next(score_sequences(model, tok, [("x", seq)], per_base=True))
    assert pb.log_likelihood == pytest.approx(float(lp + tail_pb), abs=1e-2)
    # windows: close to the full-context value, every base still scored once
    win = next(score_sequences(model, tok, [("x", seq)], window=41, stride=10))
    assert win.scored_bp == 1003 and abs(win.log_likelihood - got.log_likelihood) < 0.01 * abs(got.log_likelihood)


def test_scores_stream_in_order_and_skip_ambiguous_bases(gen, genome):
    model, tok = gen
    records = [("a", genome[:600]), ("b", genome[600:612] + "N" + genome[613:1200]), ("c", genome[:600])]
    out = list(score_sequences(model, tok, records, window=33, batch_size=3))
    assert [s.id for s in out] == ["a", "b", "c"]
    assert out[1].scored_bp == 600 - 6 and out[0].log_likelihood == pytest.approx(out[2].log_likelihood, abs=1e-3)


def test_generanno_pseudo_log_likelihood_matches_brute_force(genome):
    model, tok = tiny_generanno()
    seq = genome[100:140]
    ids = torch.tensor([[1] + tok.encode_bulk(seq, add_bos=False).tolist()])
    bases = torch.tensor(tok.convert_tokens_to_ids(list("ACGT")))
    want = 0.0
    with torch.no_grad():
        for i in range(1, ids.shape[1]):
            masked = ids.clone()
            masked[0, i] = tok.mask_token_id
            lp = torch.log_softmax(model(input_ids=masked).logits[0, i, bases].float(), -1)
            want += float(lp["ACGT".index(seq[i - 1])])
    got = next(score_sequences(model, tok, [("x", seq)], batch_size=2))
    assert got.scored_bp == 40 and got.log_likelihood == pytest.approx(want, abs=1e-3)
    approx = next(score_sequences(model, tok, [("x", seq)], mask_spacing=4))
    assert approx.scored_bp == 40 and approx.log_likelihood != pytest.approx(want, abs=1e-3)


def test_embeddings_pool_at_the_real_last_token_and_window(gen, genome):
    model, tok = gen
    recs = [("a", genome[:300]), ("b", genome[1000:1120])]
    out = list(embed_sequences(model, tok, recs, pool="last", batch_size=2))  # padded batch
    ids = torch.tensor([[1] + tok.encode_bulk(genome[1000:1120], add_bos=False).tolist() + [1]])
    with torch.no_grad():
        want = model.model(input_ids=ids).last_hidden_state[0, -1].numpy()
    assert [o[0] for o in out] == ["a", "b"] and np.allclose(out[1][3], want, atol=1e-4)
    with pytest.raises(GenerInputError, match="first-token pooling"):
        list(embed_sequences(model, tok, recs, pool="first"))
    short, _ = tiny_generator(max_position_embeddings=32)
    long = list(embed_sequences(short, tok, [("g", genome[:2000])], pool="mean"))[0]
    assert long[2] == math.ceil((2000 // 6) / 30) and long[3].shape == (64,) and np.isfinite(long[3]).all()
    anno, atok = tiny_generanno(max_position_embeddings=128)
    first = list(embed_sequences(anno, atok, [("g", genome[:500])]))[0]
    assert first[2] == 4 and first[3].dtype == np.float32


def test_cli_score_and_embed(tmp_path):
    tiny_generator(tmp_path / "m")
    runner = CliRunner()
    tsv, pq_out = tmp_path / "s.tsv", tmp_path / "e.parquet"
    r = runner.invoke(app, ["score", YEAST, "--model", str(tmp_path / "m"), "-o", str(tsv), "--window", "512"])
    assert r.exit_code == 0, r.output
    rows = [line.split("\t") for line in tsv.read_text().splitlines()]
    assert rows[0][:5] == ["id", "length", "scored_bp", "log_likelihood", "per_bp"] and rows[1][2] == "15200"
    assert -4.0 < float(rows[1][4]) < -1.0 and rows[1][5] == "token"  # a random model: near log(1/4) per bp
    r = runner.invoke(app, ["embed", ECOLI, "--model", str(tmp_path / "m"), "-o", str(pq_out), "--pool", "mean"])
    assert r.exit_code == 0, r.output
    table = pq.read_table(pq_out)
    assert table.column("id").to_pylist() == ["NC_000913.2:1-60000"] and len(table.column("embedding")[0]) == 64
    r = runner.invoke(app, ["score", YEAST, "--model", "gener-annotator-tiny"])  # no masked-LM head: refused
    assert r.exit_code == 2 and "token-classification checkpoint" in r.output
    r = runner.invoke(app, ["embed", YEAST, "--model", "gener-annotator-tiny", "-o", str(pq_out)])  # its encoder body
    assert r.exit_code == 0, r.output
    assert pq.read_table(pq_out).column("pool").to_pylist() == ["first"]
    bad = tmp_path / "bad.fa"
    bad.write_text(">x\nACGT?ACGT\n")
    r = runner.invoke(app, ["score", str(bad), "--model", str(tmp_path / "m"), "-o", str(tmp_path / "no.tsv")])
    assert r.exit_code == 2 and "invalid nucleotide '?'" in r.output and not (tmp_path / "no.tsv").exists()
