"""GENERanno's tokenizer: one token per nucleotide.

Layout (docs/models.md): ids 0..31 are the GENERanno specials, in an order DIFFERENT from
GENERator's (the species tags come before ``<cds>``, and there is a ``<sp3>``), then
32..42 = A C G K M N R S T W Y (A=32, C=33, G=34, N=37, T=40). The model's embedding has
64 rows (``PADDED_VOCAB_SIZE``): ids 43..63 exist only so the matrix size is a multiple of
64; this tokenizer never produces them and decodes them, like ``<oov>``, as N.
A ``vocab_file`` (the checkpoint's vocab.txt) replaces this layout.

Policies: case ignored, U read as T; every IUPAC letter in the vocabulary keeps its own id,
and B/D/H/V (not in the vocabulary) are read as N. The ``remainder`` option exists for a
uniform API and never applies (k = 1).
"""

from __future__ import annotations

import numpy as np

from gener.errors import GenerInputError
from gener.sequence import normalize
from gener.tokenization.base import BYTE_LETTER, DNATokenizerBase

GENERANNO_SPECIALS = (
    "<oov>", "<s>", "</s>", "<pad>", "<mask>", "<bog>", "<eog>", "<bok>", "<eok>", "<+>", "<->",
    "<mam>", "<vrt>", "<inv>", "<pln>", "<fng>", "<prt>", "<arc>", "<bct>", "<mit>", "<plt>",
    "<plm>", "<vir>", "<cds>", "<pseudo>", "<tRNA>", "<rRNA>", "<ncRNA>", "<sp0>", "<sp1>",
    "<sp2>", "<sp3>",
)
NUCLEOTIDES = "ACGKMNRSTWY"  # the IUPAC letters GENERanno has ids for, sorted
PADDED_VOCAB_SIZE = 64


class NucleotideTokenizer(DNATokenizerBase):
    """GENERanno single-nucleotide tokenizer (a transformers ``PreTrainedTokenizer``)."""

    builtin_specials = GENERANNO_SPECIALS
    default_model_max_length = 8192
    padded_vocab_size = PADDED_VOCAB_SIZE

    def __init__(self, vocab_file: str | None = None, remainder: str = "trim_left", **kwargs):
        kwargs.pop("k", None)  # always 1
        super().__init__(vocab_file=vocab_file, remainder=remainder, **kwargs)

    def _sequence_tokens(self) -> list[str]:
        return list(NUCLEOTIDES)

    def _build_tables(self, vocab, vocab_file, unk_id) -> None:
        missing = [b for b in "ACGT" if b not in vocab]
        if missing:
            raise GenerInputError(f"vocabulary lacks the nucleotides {', '.join(missing)}", path=vocab_file)
        # letter -> token: its own, else N (B/D/H/V, or a vocab without that code), else <oov>
        self._letter_token = {}
        for letter in set(BYTE_LETTER.values()):
            token = letter if letter in vocab else "N"
            self._letter_token[letter] = token if token in vocab else None
        self._byte_ids = np.full(256, -1, np.int32)
        for b, letter in BYTE_LETTER.items():
            token = self._letter_token[letter]
            self._byte_ids[b] = vocab[token] if token else unk_id

    def _tokenize(self, text: str, remainder: str | None = None, **kwargs) -> list[str]:
        unk = str(self.unk_token)
        return [self._letter_token[c] or unk for c in normalize(text)]

    def _encode_array(self, arr: np.ndarray) -> np.ndarray | None:
        ids = np.take(self._byte_ids, arr)
        return None if ids.size and ids.min() < 0 else ids
