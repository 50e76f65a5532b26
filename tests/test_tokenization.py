"""Token ids of the published checkpoints, the input policies, and fast == slow on a genome."""

from __future__ import annotations

import itertools
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from gener.errors import GenerInputError
from gener.tokenization import (
    GENERANNO_SPECIALS,
    GENERATOR_SPECIALS,
    PADDED_VOCAB_SIZE,
    KmerTokenizer,
    NucleotideTokenizer,
)

DATA = Path(__file__).parent / "data"
# written out from the published vocab.txt layout, independently of the package's constants
COMPAT_GENERATOR = ("<oov> <s> </s> <pad> <mask> <bog> <eog> <bok> <eok> <+> <-> <cds> <pseudo> <tRNA> <rRNA> "
                    "<ncRNA> <miscRNA> <mam> <vrt> <inv> <pln> <fng> <prt> <arc> <bct> <mit> <plt> <plm> <vir> "
                    "<sp0> <sp1> <sp2>").split()
COMPAT_GENERANNO = ("<oov> <s> </s> <pad> <mask> <bog> <eog> <bok> <eok> <+> <-> <mam> <vrt> <inv> <pln> <fng> "
                    "<prt> <arc> <bct> <mit> <plt> <plm> <vir> <cds> <pseudo> <tRNA> <rRNA> <ncRNA> <sp0> <sp1> "
                    "<sp2> <sp3>").split()


@pytest.fixture(scope="module")
def kmer():
    return KmerTokenizer()


@pytest.fixture(scope="module")
def nuc():
    return NucleotideTokenizer()


@pytest.fixture(scope="module")
def genome():
    """The 60 kb E. coli fixture, soft-masked in places, with N runs, IUPAC codes and RNA U."""
    lines = (DATA / "ecoli_k12_60kb.fa").read_text().splitlines()
    seq = list("".join(line for line in lines if not line.startswith(">")))
    rng = np.random.default_rng(0)
    for start in rng.integers(0, len(seq) - 3000, 5):
        seq[start:start + 2000] = [c.lower() for c in seq[start:start + 2000]]
    for start in rng.integers(0, len(seq) - 100, 8):
        seq[start:start + int(rng.integers(1, 40))] = "N" * int(rng.integers(1, 40))
    for pos in rng.integers(0, len(seq), 30):
        seq[pos] = str(rng.choice(list("RYSWKMBDHVnu")))
    return "".join(seq)


def slow_ids(tok, text, add_bos=True, **kw):
    """The HF reference path: token strings, then ids."""
    return ([tok.bos_token_id] if add_bos else []) + tok.convert_tokens_to_ids(tok.tokenize(text, **kw))


# --- the published layouts -----------------------------------------------------------------
def test_generator_layout_matches_the_checkpoints(kmer):
    assert len(kmer) == kmer.vocab_size == 4128
    assert kmer.convert_tokens_to_ids(["AAAAAA", "AAAAAT", "TTTTTT", "GGGGGG"]) == [32, 33, 1397, 4127]
    assert kmer.convert_ids_to_tokens(list(range(32))) == COMPAT_GENERATOR == list(GENERATOR_SPECIALS)
    roles = (kmer.unk_token_id, kmer.bos_token_id, kmer.eos_token_id, kmer.pad_token_id, kmer.mask_token_id)
    assert roles == (0, 1, 2, 3, 4)
    # id = 32 + base-4 value, A=0 T=1 C=2 G=3, most significant base first
    assert kmer.convert_tokens_to_ids("CATGTA") == 32 + int("201310", 4)
    assert kmer.add_bos_token and not kmer.add_eos_token and kmer.padding_side == "right"
    assert kmer("ACGTAC")["input_ids"] == [1, kmer.convert_tokens_to_ids("ACGTAC")]


def test_generanno_layout_matches_the_checkpoints(nuc):
    assert len(nuc) == 43 and PADDED_VOCAB_SIZE == nuc.padded_vocab_size == 64
    assert nuc.convert_tokens_to_ids(list("ACGKMNRSTWY")) == list(range(32, 43))
    assert [nuc.convert_tokens_to_ids(b) for b in "ACGNT"] == [32, 33, 34, 37, 40]
    assert nuc.convert_ids_to_tokens(list(range(32))) == COMPAT_GENERANNO == list(GENERANNO_SPECIALS)
    # different order from GENERator: species tags before <cds>, and a <sp3>
    assert nuc.convert_tokens_to_ids(["<mam>", "<cds>", "<sp3>"]) == [11, 23, 31]
    roles = (nuc.unk_token_id, nuc.bos_token_id, nuc.eos_token_id, nuc.pad_token_id, nuc.mask_token_id)
    assert roles == (0, 1, 2, 3, 4)
    assert nuc.decode([32, 50, 63]) == "ANN"  # padding rows 43..63 are never produced; read as N


def test_model_max_length_defaults_and_is_settable(tmp_path):
    assert KmerTokenizer().model_max_length == 16384 and NucleotideTokenizer().model_max_length == 8192
    tok = KmerTokenizer(model_max_length=1024)
    tok.save_pretrained(tmp_path)
    assert KmerTokenizer.from_pretrained(tmp_path).model_max_length == 1024


# --- input policies --------------------------------------------------------------------------
def test_case_rna_and_whitespace_are_normalised(kmer, nuc):
    ref = kmer("ACGTACTTTTTT")["input_ids"]
    for text in ("acgtacttttTT", "ACGUACuuuuuu", "ACGTAC\nTTTTTT ", "acgu ac\ttttttt"):
        assert kmer(text)["input_ids"] == ref == slow_ids(kmer, text)
        assert kmer.encode_bulk(text).tolist() == ref
    assert nuc("acgu")["input_ids"] == nuc("ACGT")["input_ids"] == [1, 32, 33, 34, 40]


@pytest.mark.parametrize("bad", ["ACGTAX", "ACG-TAC", "AC GT*A", "ACGTÄC"])
def test_non_dna_raises_on_every_path(kmer, nuc, bad):
    for call in (kmer, kmer.tokenize, kmer.encode_bulk, nuc, nuc.tokenize, nuc.encode_bulk):
        with pytest.raises(GenerInputError, match="invalid nucleotide"):
            call(bad)


def test_error_names_the_position(kmer):
    with pytest.raises(GenerInputError, match="'X' at position 8"):
        kmer.encode_bulk("ACGTACGTXACGTAC"[1:])


def test_remainder_policies(kmer):
    seq = "GACGTACTTTTTT"  # 13 bases: one extra
    left, right = kmer.convert_tokens_to_ids(["ACGTAC", "TTTTTT"]), kmer.convert_tokens_to_ids(["GACGTA", "CTTTTT"])
    assert kmer(seq)["input_ids"][1:] == left == kmer.encode_bulk(seq, add_bos=False).tolist()
    assert kmer(seq, remainder="trim_right")["input_ids"][1:] == right
    assert kmer.encode_bulk(seq, add_bos=False, remainder="trim_right").tolist() == right
    assert kmer.tokenize(seq, remainder="trim_right") == ["GACGTA", "CTTTTT"]
    for call in (kmer, kmer.tokenize, kmer.encode_bulk):
        with pytest.raises(GenerInputError, match="not a multiple of k=6"):
            call(seq, remainder="error")
    assert kmer("ACGTACTTTTTT", remainder="error")["input_ids"][1:] == left
    strict = KmerTokenizer(remainder="error")
    with pytest.raises(GenerInputError):
        strict(seq)
    with pytest.raises(ValueError, match="remainder must be one of"):
        kmer(seq, remainder="pad")
    # shorter than k: nothing but <s>, never an <oov> tail
    assert kmer("ACG")["input_ids"] == [1] and kmer.encode_bulk("ACG").tolist() == [1]


def test_trimmed_bases_are_still_validated(kmer):
    with pytest.raises(GenerInputError, match="position 1"):
        kmer.encode_bulk("XACGTAC")


def test_ambiguous_kmer_is_oov_and_keeps_positions(kmer, nuc):
    ids = kmer("AAAAAA" "AANAAA" "CCCCCC" "ryswkm")["input_ids"]
    assert ids == [1, 32, 0, kmer.convert_tokens_to_ids("CCCCCC"), 0]
    assert nuc.tokenize("ACGTNRYSWKMBDHV") == list("ACGTNRYSWKM") + ["N"] * 4
    assert nuc.encode_bulk("bdhv", add_bos=False).tolist() == [37] * 4


def test_literal_special_tokens_are_recognised(kmer, nuc):
    plain = kmer("ACGTACGGGGGG")["input_ids"]
    assert kmer("<s>ACGTACGGGGGG", add_special_tokens=False)["input_ids"] == plain
    text = "<s>ACGTAC<+>GGGGGGTTTT<cds><->A"  # remainder applies per segment between specials
    expected = [1, kmer.convert_tokens_to_ids("ACGTAC"), 9, kmer.convert_tokens_to_ids("GGTTTT"), 11, 10]
    assert kmer(text, add_special_tokens=False)["input_ids"] == expected
    assert slow_ids(kmer, text, add_bos=False) == expected
    assert kmer.encode_bulk(text, add_bos=False).tolist() == expected
    assert nuc("<s>AC<mask>T", add_special_tokens=False)["input_ids"] == [1, 32, 33, 4, 40]
    with pytest.raises(GenerInputError):  # splitting specials makes '<' ordinary text: not DNA
        kmer("<s>ACGTAC", split_special_tokens=True)


def test_decode_gives_the_dna_back(kmer, nuc):
    seq = "ACGTACNNNNNNGGGGGA"
    ids = kmer(seq)["input_ids"]
    assert kmer.decode(ids, skip_special_tokens=True) == seq
    assert kmer.decode(ids) == "<s>" + seq
    assert kmer.decode(kmer("ACGTAC" "ACNTAC")["input_ids"], skip_special_tokens=True) == "ACGTAC" "NNNNNN"
    assert kmer.decode([1, 0, 3, 3], skip_special_tokens=True) == "NNNNNN"  # <oov> is bases, <pad> is not
    assert kmer.batch_decode([[1, 32], [1, 4127, 2]], skip_special_tokens=True) == ["AAAAAA", "GGGGGG"]
    assert kmer.convert_tokens_to_string(["AAAAAA", "<oov>"]) == "AAAAAANNNNNN"
    assert nuc.decode(nuc("ACGTRY")["input_ids"], skip_special_tokens=True) == "ACGTRY"


def test_eos_and_pairs_follow_the_flags():
    tok = KmerTokenizer(add_bos_token=False, add_eos_token=True)
    out = tok("AAAAAA", "GGGGGG", return_special_tokens_mask=True)
    assert out["input_ids"] == [32, 2, 4127, 2] and out["special_tokens_mask"] == [0, 1, 0, 1]
    assert tok.encode_bulk("AAAAAA").tolist() == [32, 2]


# --- fast path == HF path on a real genome ------------------------------------------------------
@pytest.mark.parametrize("remainder", ["trim_left", "trim_right"])
def test_bulk_agrees_with_slow_path_on_genome(kmer, genome, remainder):
    for start, stop in [(0, len(genome)), (7, 40_007), (3, 1_000), (11, 12_345)]:
        text = genome[start:stop]
        bulk = kmer.encode_bulk(text, remainder=remainder)
        assert bulk.dtype == np.int32
        assert bulk.tolist() == slow_ids(kmer, text, remainder=remainder)
    assert (kmer.encode_bulk(genome) == 0).sum() > 10  # the inserted codes did produce <oov>


@pytest.mark.parametrize("k", [1, 3, 4, 5])
def test_other_k_agree_too(genome, k):  # odd k takes the one-byte table, even k the byte-pair one
    tok = KmerTokenizer(k=k)
    text = genome[5:20_000]
    assert len(tok) == 32 + 4**k
    for remainder in ("trim_left", "trim_right"):
        assert tok.encode_bulk(text, remainder=remainder).tolist() == slow_ids(tok, text, remainder=remainder)


def test_nucleotide_bulk_agrees_with_slow_path_on_genome(nuc, genome):
    assert nuc.encode_bulk(genome).tolist() == slow_ids(nuc, genome)
    assert nuc.decode(nuc.encode_bulk(genome), skip_special_tokens=True) == "".join(
        "N" if c in "BDHV" else c for c in genome.upper().replace("U", "T"))


def test_call_and_batch_agree_with_bulk(kmer, genome):
    seqs = [genome[i:i + n] for i, n in [(0, 600), (1000, 6001), (9000, 61), (20000, 3)]]
    ids, mask = kmer.encode_bulk_batch(seqs)
    hf = kmer(seqs, padding=True, return_tensors="np")
    assert np.array_equal(ids, hf["input_ids"]) and np.array_equal(mask, hf["attention_mask"])
    for row, m, seq in zip(ids, mask, seqs):
        assert row[m == 1].tolist() == slow_ids(kmer, seq)
    left, _ = kmer.encode_bulk_batch(seqs, padding_side="left", pad_to_multiple_of=64)
    assert left.shape[1] % 64 == 0 and left[3, -1] == kmer.bos_token_id and left[3, 0] == kmer.pad_token_id
    # truncation counts the special tokens, as HF does
    hf = kmer(genome, truncation=True, max_length=100)["input_ids"]
    assert hf == kmer.encode_bulk(genome, max_length=100).tolist()
    assert len(kmer.encode_bulk(genome, max_length=100)) == 100


# --- vocab files, save / load ---------------------------------------------------------------------
def test_vocab_file_formats_and_validation(tmp_path, kmer):
    kmers = ["".join(p) for p in itertools.product("ATCG", repeat=6)]
    # an annotator-style checkpoint with its own specials: the file wins
    specials = ["<oov>", "<s>", "</s>", "<pad>", "<mask>", "<high>", "<low>"]
    (tmp_path / "pairs.txt").write_text("".join(f"{t} {i}\n" for i, t in enumerate(specials + kmers)))
    tok = KmerTokenizer(vocab_file=str(tmp_path / "pairs.txt"))
    assert len(tok) == 4103 and tok.convert_tokens_to_ids("AAAAAA") == 7
    assert tok("<high>AAAAAAGGGGGG", add_special_tokens=False)["input_ids"] == [5, 7, 4102]
    assert tok.encode_bulk("<low>NAAAAA", add_bos=False).tolist() == [6, 0]
    (tmp_path / "plain.txt").write_text("\n".join(list(GENERATOR_SPECIALS) + kmers) + "\n")
    plain = KmerTokenizer(vocab_file=str(tmp_path / "plain.txt"))
    assert plain.get_vocab() == kmer.get_vocab()
    (tmp_path / "short.txt").write_text("\n".join(list(GENERATOR_SPECIALS) + kmers[:-5]))
    with pytest.raises(GenerInputError, match="lacks 5 of the 4096 6-mers"):
        KmerTokenizer(vocab_file=str(tmp_path / "short.txt"))
    with pytest.raises(GenerInputError, match="lacks 1024 of the 1024 5-mers"):
        KmerTokenizer(vocab_file=str(tmp_path / "plain.txt"), k=5)  # a 6-mer vocab read with the wrong k
    nuc_tokens = GENERANNO_SPECIALS + tuple("ACGKMNRSTWY")
    (tmp_path / "nuc.txt").write_text("".join(f"{t} {i}\n" for i, t in enumerate(nuc_tokens)))
    assert NucleotideTokenizer(vocab_file=str(tmp_path / "nuc.txt")).get_vocab() == NucleotideTokenizer().get_vocab()


@pytest.mark.parametrize("cls", [KmerTokenizer, NucleotideTokenizer])
def test_save_and_load_round_trip(tmp_path, cls):
    tok = cls(remainder="trim_right", add_eos_token=True, padding_side="left")
    tok.save_pretrained(tmp_path)
    config = json.loads((tmp_path / "tokenizer_config.json").read_text())
    assert config["tokenizer_class"] == cls.__name__ and config["add_eos_token"] is True
    assert (tmp_path / "vocab.txt").read_text().splitlines()[32].split() == [tok.convert_ids_to_tokens(32), "32"]
    again = cls.from_pretrained(tmp_path)
    assert again.get_vocab() == tok.get_vocab()
    assert (again.remainder, again.add_eos_token, again.padding_side) == ("trim_right", True, "left")
    seq = "ACGTACGTACGTAGGC"
    assert again(seq)["input_ids"] == tok(seq)["input_ids"]


def test_upstream_checkpoint_directory_loads(tmp_path, kmer):
    kmers = ["".join(p) for p in itertools.product("ATCG", repeat=6)]
    (tmp_path / "vocab.txt").write_text("".join(f"{t} {i}\n" for i, t in enumerate(list(GENERATOR_SPECIALS) + kmers)))
    (tmp_path / "tokenizer_config.json").write_text(json.dumps({
        "tokenizer_class": "DNAKmerTokenizer", "auto_map": {"AutoTokenizer": ["tokenizer.DNAKmerTokenizer", None]},
        "k": 6, "bos_token": "<s>", "eos_token": "</s>", "pad_token": "<pad>", "unk_token": "<oov>",
        "add_bos_token": True, "add_eos_token": False, "model_max_length": 1000000000000000019884624838656}))
    tok = KmerTokenizer.from_pretrained(tmp_path)
    assert tok.get_vocab() == kmer.get_vocab() and tok.model_max_length == 16384
    assert tok("<s>AAAAAATTTTTT", add_special_tokens=False)["input_ids"] == [1, 32, 1397]


def test_directory_without_vocab_warns(tmp_path):
    (tmp_path / "tokenizer_config.json").write_text("{}")
    with pytest.warns(UserWarning, match="no vocab.txt"):
        KmerTokenizer.from_pretrained(tmp_path)


def test_auto_tokenizer_loads_saved_dirs(tmp_path):
    KmerTokenizer().save_pretrained(tmp_path / "kmer")
    NucleotideTokenizer().save_pretrained(tmp_path / "nuc")
    # a GENERator checkpoint is plain Llama: its config must not hide our tokenizer class
    (tmp_path / "kmer" / "config.json").write_text(json.dumps({
        "model_type": "llama", "architectures": ["LlamaForCausalLM"], "vocab_size": 4128, "hidden_size": 32,
        "intermediate_size": 64, "num_hidden_layers": 1, "num_attention_heads": 2}))
    # a fresh process with `import gener` first: registration waits for transformers' import
    code = (
        "import sys, gener\n"
        "from transformers import AutoTokenizer\n"
        "k = AutoTokenizer.from_pretrained(sys.argv[1]); n = AutoTokenizer.from_pretrained(sys.argv[2])\n"
        "print(type(k).__name__, k('TTTTTT')['input_ids'], type(n).__name__, n('N')['input_ids'])\n"
    )
    fresh = subprocess.Popen([sys.executable, "-c", code, str(tmp_path / "kmer"), str(tmp_path / "nuc")],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    # meanwhile, in this process transformers' auto module gets loaded: install() registers directly
    from transformers import AutoTokenizer

    from gener.tokenization import _autoregister

    _autoregister.install()
    assert type(AutoTokenizer.from_pretrained(tmp_path / "kmer")) is KmerTokenizer
    out, err = fresh.communicate(timeout=120)
    assert fresh.returncode == 0, err
    assert out.splitlines()[0] == "KmerTokenizer [1, 1397] NucleotideTokenizer [1, 37]"
