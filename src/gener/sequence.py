"""DNA alphabet and the one normalisation policy every entry point uses.

Policy (documented in the README):
- case is ignored (soft-masked lowercase becomes upper case), RNA ``U`` becomes ``T``;
- whitespace and line breaks are removed; ``-`` and ``*`` gaps are rejected;
- the IUPAC ambiguity codes ``N R Y S W K M B D H V`` are kept as they are; what a model
  makes of them is the tokenizer's documented rule (6-mer: the k-mer becomes ``<oov>``;
  single nucleotide: its own id, with B/D/H/V read as N);
- anything else is an error naming the first bad character and its position.
"""

from __future__ import annotations

import numpy as np

from gener.errors import GenerInputError

ACGT = "ACGT"
IUPAC = "ACGTNRYSWKMBDHV"

_COMPLEMENT = str.maketrans("ACGTNRYSWKMBDHVacgtnryswkmbdhv", "TGCANYRSWMKVHDBtgcanyrswmkvhdb")

# Byte-level lookup table used by the vectorised normaliser: 0 marks an invalid byte.
_NORMALISE_LUT = np.zeros(256, dtype=np.uint8)
for _c in IUPAC:
    _NORMALISE_LUT[ord(_c)] = ord(_c)
    _NORMALISE_LUT[ord(_c.lower())] = ord(_c)
_NORMALISE_LUT[ord("U")] = _NORMALISE_LUT[ord("u")] = ord("T")
_WHITESPACE = b" \t\r\n\v\f"


def normalize(seq: str | bytes, *, name: str | None = None) -> str:
    """Upper-case, U->T, whitespace removed; raise GenerInputError on any other symbol."""
    raw = seq.encode("ascii", "replace") if isinstance(seq, str) else bytes(seq)
    if any(ws in raw for ws in _WHITESPACE):
        raw = raw.translate(None, _WHITESPACE)
    arr = np.frombuffer(raw, dtype=np.uint8)
    out = _NORMALISE_LUT[arr]
    bad = np.flatnonzero(out == 0)
    if bad.size:
        pos = int(bad[0])
        char = chr(arr[pos]) if arr[pos] < 128 else "?"
        raise GenerInputError(f"invalid nucleotide {char!r} at position {pos + 1}", record=name)
    return out.tobytes().decode("ascii")


def reverse_complement(seq: str) -> str:
    """Reverse complement, IUPAC-aware and case-preserving."""
    return seq.translate(_COMPLEMENT)[::-1]


def gc_content(seq: str) -> float:
    """Fraction of G+C among unambiguous bases (0.0 for a sequence without any)."""
    s = seq.upper()
    acgt = sum(s.count(b) for b in ACGT)
    return (s.count("G") + s.count("C")) / acgt if acgt else 0.0
