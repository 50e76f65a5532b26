"""DNA alphabet and the one normalisation policy every entry point uses.

Policy (documented in docs/models.md):
- case is ignored (soft-masked lowercase becomes upper case), RNA ``U`` becomes ``T``;
- whitespace and line breaks are removed; ``-`` and ``*`` gaps are rejected;
- the IUPAC ambiguity codes ``N R Y S W K M B D H V`` are kept as they are; what a model
  makes of them is the tokenizer's documented rule (6-mer: the k-mer becomes ``<oov>``;
  single nucleotide: its own id, with B/D/H/V read as N);
- anything else is an error naming the first bad character and its position.
"""

from __future__ import annotations

from gener.errors import GenerInputError

ACGT = "ACGT"
IUPAC = "ACGTNRYSWKMBDHV"

_COMPLEMENT = str.maketrans("ACGTNRYSWKMBDHVacgtnryswkmbdhv", "TGCANYRSWMKVHDBtgcanyrswmkvhdb")

# Byte translation table for normalize(): 0 marks an invalid byte.
_table = bytearray(256)
for _c in IUPAC:
    _table[ord(_c)] = _table[ord(_c.lower())] = ord(_c)
_table[ord("U")] = _table[ord("u")] = ord("T")
_NORMALISE_TABLE = bytes(_table)
_WHITESPACE = b" \t\r\n\v\f"


def normalize(seq: str | bytes, *, name: str | None = None) -> str:
    """Upper-case, U->T, whitespace removed; raise GenerInputError on any other symbol."""
    raw = seq.encode("ascii", "replace") if isinstance(seq, str) else bytes(seq)
    # One C-level pass maps every byte and deletes whitespace; invalid bytes become NUL.
    out = raw.translate(_NORMALISE_TABLE, _WHITESPACE)
    bad = out.find(0)
    if bad >= 0:
        char = raw.translate(None, _WHITESPACE)[bad]
        shown = chr(char) if char < 128 else "?"
        raise GenerInputError(f"invalid nucleotide {shown!r} at position {bad + 1}", record=name)
    return out.decode("ascii")


def reverse_complement(seq: str) -> str:
    """Reverse complement, IUPAC-aware and case-preserving."""
    return seq.translate(_COMPLEMENT)[::-1]


def gc_content(seq: str) -> float:
    """Fraction of G+C among unambiguous bases (0.0 for a sequence without any)."""
    s = seq.upper()
    acgt = sum(s.count(b) for b in ACGT)
    return (s.count("G") + s.count("C")) / acgt if acgt else 0.0
