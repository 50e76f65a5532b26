"""Token shards (gener data tokenize) and the packed pre-training dataset over them."""

from __future__ import annotations

import json
import pickle
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import torch
from typer.testing import CliRunner

from gener.cli import app
from gener.data.regions import curate_regions
from gener.data.shards import ShardDataset, read_index, verify_shards, write_shards
from gener.errors import GenerInputError
from gener.tokenization import KmerTokenizer, NucleotideTokenizer

DATA = Path(__file__).parent / "data"
FIXTURES = [DATA / "ecoli_k12_slices.gbk", DATA / "coxiella_endosymbiont_pseudo.gbk"]


@pytest.fixture(scope="module")
def regions(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("regions") / "r.parquet"
    curate_regions([str(p) for p in FIXTURES], out, flank=7)  # odd lengths: every k-mer remainder occurs
    return out


@pytest.fixture(scope="module")
def sequences(regions) -> list[str]:
    return pq.read_table(regions).column("sequence").to_pylist()


@pytest.fixture(scope="module")
def kmer_shards(regions, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("shards") / "kmer"
    write_shards(regions, out, tokenizer="kmer", shard_tokens=2000)  # several shards
    return out


def stream(tokenizer, seqs, offset: int, augment: bool) -> np.ndarray:
    """The documented token stream, built the slow way: <s> + k-mers from ``offset`` + </s>."""
    k, parts = tokenizer.k, []
    for s in seqs:
        n = (len(s) - (k - 1) if augment else len(s)) // k
        if n > 0:
            parts.append(tokenizer.encode_bulk(s[offset:offset + k * n], add_bos=True, add_eos=True, remainder="error"))
    return np.concatenate(parts)


def test_index_and_files(kmer_shards, regions, sequences):
    index = read_index(kmer_shards)
    assert index["tokenizer"] | {"vocab_sha256": None} == {
        "name": "kmer", "class": "KmerTokenizer", "k": 6, "vocab_size": 4128, "vocab_sha256": None,
        "bos_token_id": 1, "eos_token_id": 2}
    assert index["documents"] == len(sequences) == sum(s["documents"] for s in index["shards"])
    assert index["bases"] == sum(map(len, sequences)) == sum(s["bases"] for s in index["shards"])
    assert index["tokens"] == sum(len(s) // 6 + 2 for s in sequences if len(s) >= 6)
    assert len(index["shards"]) > 3 and all(s["bases"] <= 2000 * 6 for s in index["shards"])
    # documents are never split: each shard is whole sequences, in row order
    joined = b"".join((kmer_shards / s["bin"]).read_bytes() for s in index["shards"])
    assert joined == "".join(sequences).encode()
    offsets = np.load(kmer_shards / index["shards"][0]["offsets"])
    assert list(np.diff(offsets)) == [len(s) for s in sequences[: len(offsets) - 1]]
    verify_shards(kmer_shards)


def test_windows_round_trip_to_encode_bulk(kmer_shards, sequences):
    tok = KmerTokenizer()
    expected = np.concatenate([tok.encode_bulk(s, add_bos=True, add_eos=True, remainder="trim_right")
                               for s in sequences if len(s) >= 6])
    for seq_len in (300, 7, 1):  # windows across shards, inside one document, on a lone separator
        ds = ShardDataset(kmer_shards, seq_len=seq_len, offset_augment=False)
        got = np.concatenate([ds.window(i) for i in range(len(ds))])
        assert len(ds) == len(expected) // seq_len and ds.num_tokens == len(expected)
        assert np.array_equal(got, expected[: len(got)])
    ds = ShardDataset(kmer_shards, seq_len=300, offset_augment=False)
    item = ds[0]["input_ids"]
    assert item.dtype == torch.long and item.shape == (300,) and item[0] == tok.bos_token_id


def test_offset_augmentation_is_deterministic_and_covers_all_six(kmer_shards, sequences):
    tok = KmerTokenizer()
    ds = ShardDataset(kmer_shards, seq_len=256, seed=3)
    streams = [stream(tok, sequences, o, augment=True) for o in range(6)]
    assert all(len(s) == ds.num_tokens for s in streams)  # the layout is the same for every offset
    seen = set()
    for epoch in (0, 1):
        for i in range(len(ds)):
            o = ds.offset(i, epoch)
            seen.add(o)
            assert np.array_equal(ds.window(i, epoch), streams[o][i * 256:(i + 1) * 256])
    assert seen == set(range(6))
    offsets = [[ds.offset(i, e) for i in range(len(ds))] for e in range(3)]
    assert offsets[0] != offsets[1] != offsets[2]  # a fresh offset per sample per epoch
    again = pickle.loads(pickle.dumps(ShardDataset(kmer_shards, seq_len=256, seed=3)))  # as a worker gets it
    again.set_epoch(2)
    assert all(np.array_equal(again[i]["input_ids"].numpy(), ds.window(i, 2)) for i in range(len(ds)))
    other = ShardDataset(kmer_shards, seq_len=256, seed=4)
    assert [other.offset(i, 0) for i in range(len(ds))] != offsets[0]


def test_a_changed_vocabulary_is_noticed(regions, tmp_path):
    tok = KmerTokenizer()
    tok.add_tokens(["<high>"], special_tokens=True)  # e.g. a checkpoint with its own control tags
    write_shards(regions, tmp_path / "s", tokenizer=tok)
    with pytest.warns(UserWarning, match="another kmer vocabulary"):
        ShardDataset(tmp_path / "s", seq_len=64)
    assert ShardDataset(tmp_path / "s", seq_len=64, tokenizer=tok).window(0)[0] == tok.bos_token_id


def test_dataloader_batches(kmer_shards):
    ds = ShardDataset(kmer_shards, seq_len=128)
    batch = next(iter(torch.utils.data.DataLoader(ds, batch_size=4, shuffle=True)))
    assert batch["input_ids"].shape == (4, 128) and batch["input_ids"].max() < 4128


def test_nucleotide_shards(regions, sequences, tmp_path):
    out = tmp_path / "nt"
    summary = write_shards(regions, out, tokenizer="nucleotide")
    assert summary.shards == 1 and summary.tokens == sum(len(s) + 2 for s in sequences)
    ds = ShardDataset(out, seq_len=1000)  # offsets do not apply to k = 1
    assert not ds.offset_augment and {ds.offset(i, 5) for i in range(len(ds))} == {0}
    expected = stream(NucleotideTokenizer(), sequences, 0, augment=False)
    assert np.array_equal(np.concatenate([ds.window(i) for i in range(len(ds))]), expected[: len(ds) * 1000])
    # the same shards read with the other tokenizer: nucleotides are tokenizer-neutral
    kmer = ShardDataset(out, seq_len=100, tokenizer=KmerTokenizer(), offset_augment=False)
    assert np.array_equal(kmer.window(0), stream(KmerTokenizer(), sequences, 0, augment=False)[:100])


def test_streaming_over_many_batches_and_row_groups(tmp_path, sequences):
    table = pa.table({"sequence": pa.array(sequences, pa.large_string())})
    many = tmp_path / "many.parquet"
    pq.write_table(table, many, row_group_size=7)
    one = tmp_path / "one.parquet"
    pq.write_table(table, one)
    assert pq.ParquetFile(many).metadata.num_row_groups > 5
    write_shards(many, tmp_path / "a", shard_tokens=1500)
    write_shards(one, tmp_path / "b", shard_tokens=10 ** 9)
    a, b = (ShardDataset(tmp_path / d, seq_len=200, seed=1) for d in "ab")
    assert len(a) == len(b) and all(np.array_equal(a.window(i), b.window(i)) for i in range(len(a)))


def test_bad_input(tmp_path, regions, kmer_shards):
    bad = tmp_path / "bad.parquet"
    pq.write_table(pa.table({"sequence": ["ACGTACGT", "ACGTxCGT"]}), bad)
    with pytest.raises(GenerInputError, match=r"row 1: invalid nucleotide 'x' at position 5"):
        write_shards(bad, tmp_path / "out")
    assert not any((tmp_path / "out").iterdir())  # nothing left behind
    pq.write_table(pa.table({"seq": ["ACGT"]}), bad)
    with pytest.raises(GenerInputError, match="no column sequence"):
        write_shards(bad, tmp_path / "out")
    with pytest.raises(GenerInputError, match="not a parquet file"):
        write_shards(DATA / "ecoli_k12_60kb.fa", tmp_path / "out")
    with pytest.raises(GenerInputError, match="unknown tokenizer"):
        write_shards(regions, tmp_path / "out", tokenizer="bpe")
    write_shards(regions, tmp_path / "out")
    with pytest.raises(GenerInputError, match="already holds shards"):
        write_shards(regions, tmp_path / "out")
    write_shards(regions, tmp_path / "out", tokenizer="nucleotide", force=True)
    assert read_index(tmp_path / "out")["tokenizer"]["name"] == "nucleotide"
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["index.json", "shard-00000.bin",
                                                                      "shard-00000.idx.npy"]
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "notes.txt").write_text("mine")
    with pytest.raises(GenerInputError, match="not empty"):
        write_shards(regions, tmp_path / "other")
    with pytest.raises(GenerInputError, match="no index.json"):
        ShardDataset(tmp_path / "other", seq_len=8)
    with pytest.raises(GenerInputError, match="fewer than one window"):
        ShardDataset(kmer_shards, seq_len=10 ** 6)
    with pytest.raises(IndexError):
        ShardDataset(kmer_shards, seq_len=100)[10 ** 6]


def test_checksums_catch_a_changed_shard(tmp_path, regions):
    out = tmp_path / "s"
    write_shards(regions, out)
    shard = out / read_index(out)["shards"][0]["bin"]
    data = bytearray(shard.read_bytes())
    data[10] = ord("A") if data[10] != ord("A") else ord("C")
    shard.write_bytes(bytes(data))
    with pytest.raises(GenerInputError, match="checksum mismatch"):
        verify_shards(out)
    with pytest.raises(GenerInputError, match="checksum mismatch"):
        ShardDataset(out, seq_len=64, verify=True)
    index = json.loads((out / "index.json").read_text())
    index["version"] = 99
    (out / "index.json").write_text(json.dumps(index))
    with pytest.raises(GenerInputError, match="not a gener-shards v1 index"):
        read_index(out)


def test_cli_tokenize(tmp_path, regions):
    runner = CliRunner()
    result = runner.invoke(app, ["data", "tokenize", str(regions), "--tokenizer", "kmer", "-o", str(tmp_path / "s"),
                                 "--shard-tokens", "5000"])
    assert result.exit_code == 0, result.output
    assert "Mbp/s" in result.output and "tokens/s" in result.output
    assert len(read_index(tmp_path / "s")["shards"]) > 1
    result = runner.invoke(app, ["data", "tokenize", str(regions), "-o", str(tmp_path / "s")])
    assert result.exit_code == 2 and "already holds shards" in result.output
