"""Tokenizers with the published token ids: GENERator (k-mer) and GENERanno (nucleotide).

Both are real transformers tokenizers (save_pretrained / from_pretrained), with a numpy bulk
path (``encode_bulk``, ``encode_bulk_batch``) that ``__call__`` also uses for plain strings.
``import gener`` registers them with ``AutoTokenizer`` (see ``_autoregister``), so a saved
directory loads with ``AutoTokenizer.from_pretrained(path)``.

Names are imported lazily so that importing the package does not import transformers.
"""

from __future__ import annotations

import importlib

from gener.tokenization import _autoregister

_LAZY = {
    "DNATokenizerBase": "base", "REMAINDER_POLICIES": "base", "read_vocab_file": "base",
    "KmerTokenizer": "kmer", "GENERATOR_SPECIALS": "kmer",
    "NucleotideTokenizer": "nucleotide", "GENERANNO_SPECIALS": "nucleotide", "PADDED_VOCAB_SIZE": "nucleotide",
}
__all__ = sorted(_LAZY)


def __getattr__(name):
    if name in _LAZY:
        return getattr(importlib.import_module(f"gener.tokenization.{_LAZY[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted(list(globals()) + __all__)


_autoregister.install()
