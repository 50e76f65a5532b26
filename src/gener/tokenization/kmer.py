"""GENERator's tokenizer: non-overlapping k-mers (k = 6), vocab 4128.

Layout (docs/models.md): ids 0..31 are the specials below, then every k-mer in base order
A,T,C,G (A=0,T=1,C=2,G=3), most significant base first: id = 32 + base-4 value, so
AAAAAA=32, AAAAAT=33, TTTTTT=1397, GGGGGG=4127. A ``vocab_file`` (the checkpoint's
vocab.txt) replaces this layout; published checkpoints do not all share one special list.

Policies (the upstream warts fixed):
- a length that is not a multiple of k follows ``remainder`` (per tokenizer, overridable per
  call): ``"trim_left"`` (default) drops the first ``len % k`` bases and keeps those nearest
  any continuation, which is what a prompt needs; ``"trim_right"`` drops the last ones;
  ``"error"`` raises. A trailing ``<oov>`` is never produced.
- a k-mer containing any IUPAC ambiguity code (N, R, Y, ...) becomes ``<oov>``, so the
  positions of all other k-mers stay aligned; lower case and U are read as upper case / T.
- ``<oov>`` decodes to k x N.

One difference from upstream's ``DNAKmerTokenizer``, on purpose: with
``add_special_tokens=True`` (the default of a plain ``tokenizer(seq)`` call) upstream returns
``<s>`` + k-mers + ``</s>``, ignoring the ``add_eos_token: false`` of its own
tokenizer_config.json; this tokenizer returns ``<s>`` + k-mers, as that config says. A
prompt must not end in ``</s>`` (the model would continue after an end of sequence), and the
published scripts never see the ``</s>``: they write ``<s>`` into the text themselves and
pass ``add_special_tokens=False``, which gives the same ids here. ``add_eos_token=True``
reproduces upstream's ids for a single sequence (for a pair, upstream writes
``<s> a </s> b </s>``; this tokenizer ``<s> a </s> <s> b </s>``).
"""

from __future__ import annotations

from functools import lru_cache
from itertools import product

import numpy as np

from gener.errors import GenerInputError
from gener.sequence import normalize
from gener.tokenization.base import BYTE_LETTER, DNATokenizerBase

GENERATOR_SPECIALS = (
    "<oov>", "<s>", "</s>", "<pad>", "<mask>", "<bog>", "<eog>", "<bok>", "<eok>", "<+>", "<->",
    "<cds>", "<pseudo>", "<tRNA>", "<rRNA>", "<ncRNA>", "<miscRNA>", "<mam>", "<vrt>", "<inv>",
    "<pln>", "<fng>", "<prt>", "<arc>", "<bct>", "<mit>", "<plt>", "<plm>", "<vir>", "<sp0>",
    "<sp1>", "<sp2>",
)
BASE_ORDER = "ATCG"  # GENERator's digit order, not alphabetical
MAX_K = 12


@lru_cache(maxsize=None)
def _lookup_tables(k: int) -> tuple[np.ndarray, int, np.dtype]:
    """Byte (or byte pair, for even k) -> base-4 code, with flags that survive the shifts.

    Codes 0..3 for A,T,C,G; AMB (an IUPAC code) and INV (not DNA) are >= 4**k, so after the
    codes of one k-mer are shifted together any flag leaves the value >= 4**k. Reading two
    bytes at a time halves the passes over the sequence (the 6-mer path is ~2x faster).
    """
    amb, inv = 1 << (2 * k), 1 << (2 * k + 1)
    single = np.full(256, inv, np.uint32)
    for b, letter in BYTE_LETTER.items():
        single[b] = BASE_ORDER.index(letter) if letter in BASE_ORDER else amb
    work = np.uint32 if k <= 8 else np.uint64  # the largest shifted flag is 2**(4k-1)
    if k % 2:
        return single.astype(work), 2, work
    pair = np.arange(65536)
    first, second = single[pair & 0xFF], single[pair >> 8]  # little-endian uint16 view
    valid = (first < 4) & (second < 4)
    codes = np.where(valid, (first << 2) | second, np.maximum(first, second))
    return codes.astype(np.uint16 if inv < 65536 else work), 4, work


class KmerTokenizer(DNATokenizerBase):
    """GENERator k-mer tokenizer (a transformers ``PreTrainedTokenizer``)."""

    builtin_specials = GENERATOR_SPECIALS
    default_model_max_length = 16384  # tokens: max_position_embeddings of the presets
    upstream_settings = (*DNATokenizerBase.upstream_settings, "k")

    def __init__(self, vocab_file: str | None = None, k: int = 6, remainder: str = "trim_left", **kwargs):
        if not 1 <= int(k) <= MAX_K:
            raise ValueError(f"k must be in 1..{MAX_K}, got {k}")
        self.k = int(k)
        super().__init__(vocab_file=vocab_file, remainder=remainder, k=self.k, **kwargs)

    def _sequence_tokens(self) -> list[str]:
        return ["".join(p) for p in product(BASE_ORDER, repeat=self.k)]

    def _build_tables(self, vocab, vocab_file, unk_id) -> None:
        kmers = self._sequence_tokens()
        missing = [m for m in kmers if m not in vocab]
        if missing:
            raise GenerInputError(
                f"vocabulary lacks {len(missing)} of the {len(kmers)} {self.k}-mers "
                f"(first: {', '.join(missing[:3])}); wrong k or not a GENERator vocab.txt?", path=vocab_file)
        # base-4 value -> id; the extra last slot is where k-mers with an ambiguity code go
        self._kmer_ids = np.array([vocab[m] for m in kmers] + [unk_id], dtype=np.int32)

    def _tokenize(self, text: str, remainder: str | None = None, **kwargs) -> list[str]:
        seq = self._trim(normalize(text), remainder or self.remainder)
        k, unk = self.k, str(self.unk_token)
        return [seq[i:i + k] if not seq[i:i + k].strip(BASE_ORDER) else unk for i in range(0, len(seq), k)]

    def _encode_array(self, arr: np.ndarray) -> np.ndarray | None:
        table, bits, work = _lookup_tables(self.k)
        codes = np.take(table, arr.view("<u2") if bits == 4 else arr).reshape(-1, self.k * 2 // bits)
        value = codes[:, 0].astype(work)
        for j in range(1, codes.shape[1]):
            value <<= work(bits)
            value |= codes[:, j]
        size = 4 ** self.k
        flagged = value >= size
        if flagged.any():
            if (codes[flagged] >= (1 << (2 * self.k + 1))).any():
                return None  # a byte that is not DNA: the caller reports it
            value[flagged] = size
        return np.take(self._kmer_ids, value)
