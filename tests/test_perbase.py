"""Per-base marginals of the 6-mer distribution, checked against brute force on real k-mers."""

import itertools

import torch

from gener.modeling.perbase import BASES, base_log_probs, kmer_ids, per_base_nll, target_bases
from gener.tokenization import KmerTokenizer


def test_marginal_matches_brute_force_sum():
    tok = KmerTokenizer()
    ids = kmer_ids(tok)
    torch.manual_seed(0)
    logits = torch.randn(3, len(tok))
    probs = torch.softmax(logits, -1)
    raw = base_log_probs(logits, ids, normalize=False).exp()
    for j, b in itertools.product(range(6), range(4)):
        kmers = ["".join(p) for p in itertools.product(BASES, repeat=6) if p[j] == BASES[b]]
        want = probs[:, tok.convert_tokens_to_ids(kmers)].sum(-1)
        torch.testing.assert_close(raw[:, j, b], want, rtol=1e-4, atol=1e-6)
    norm = base_log_probs(logits, ids).exp()
    torch.testing.assert_close(norm.sum(-1), torch.ones(3, 6))


def test_target_digits_use_the_official_ids():
    tok = KmerTokenizer()
    ids = kmer_ids(tok)
    targets = torch.tensor([32, 33, 1397, 4127, 2])  # AAAAAA AAAAAT TTTTTT GGGGGG </s>
    digits = target_bases(targets, ids)
    assert digits[0].tolist() == [0] * 6
    assert digits[1].tolist() == [0] * 5 + [1]
    assert digits[2].tolist() == [1] * 6
    assert digits[3].tolist() == [3] * 6
    assert digits[4].tolist() == [-1] * 6


def test_per_base_loss_is_low_when_bases_are_right_and_handles_specials():
    tok = KmerTokenizer()
    ids = kmer_ids(tok)
    target = tok.convert_tokens_to_ids("ACGTAC")
    near = tok.convert_tokens_to_ids("ACGTAA")  # five of six bases right
    logits = torch.full((2, len(tok)), -20.0)
    logits[0, near] = 20.0  # confident in a 6-mer that is wrong at one base only
    logits[1, 2] = 20.0  # </s>, a special target: token cross-entropy
    loss = per_base_nll(logits, torch.tensor([target, 2]), ids)
    token_ce = torch.nn.functional.cross_entropy(logits[:1], torch.tensor([target]))
    # per-base: 5 positions ~0 loss, one ~40 nats -> mean ~6.7 / 2 rows; token CE ~40 for row 0
    assert loss < token_ce / 4
    ignored = per_base_nll(logits, torch.tensor([-100, 2]), ids)
    assert ignored < 1e-3
