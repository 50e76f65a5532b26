"""Shared machinery of the DNA tokenizers: vocab files, policies, the numpy bulk path.

Two paths produce the same ids and are tested to agree on a real genome:
- the HF path (``tokenize`` -> ``convert_tokens_to_ids``): token strings, one at a time;
- the bulk path (``encode_bulk``): byte lookup tables over the whole sequence. ``__call__``
  and ``encode`` use it for every plain string, so ordinary HF calls get the speed.

Input policy (one place, derived from :func:`gener.sequence.normalize`): case ignored, U read
as T, whitespace dropped, any other non-IUPAC symbol raises :class:`GenerInputError`. Special
tokens written literally in the text (``"<s>ACGT..."``) are recognised; the DNA between two
specials is one segment, and the ``remainder`` policy applies to each segment.
"""

from __future__ import annotations

import json
import os
import re
import warnings

import numpy as np
from transformers import PreTrainedTokenizer  # transformers 5: alias of PythonBackend

from gener.errors import GenerInputError
from gener.sequence import normalize

REMAINDER_POLICIES = ("trim_left", "trim_right", "error")
ROLE_DEFAULTS = {"unk_token": "<oov>", "bos_token": "<s>", "eos_token": "</s>", "pad_token": "<pad>",
                 "mask_token": "<mask>"}


def _probe_normalize() -> tuple[dict[int, str], bytes]:
    """Ask normalize() about every ASCII byte, so the lookup tables cannot drift from it."""
    letters, whitespace = {}, bytearray()
    for b in range(128):
        try:
            out = normalize(chr(b))
        except GenerInputError:
            continue
        if out:
            letters[b] = out
        else:
            whitespace.append(b)
    return letters, bytes(whitespace)


BYTE_LETTER, WHITESPACE = _probe_normalize()
_ACCEPTED = bytes(sorted(BYTE_LETTER)) + WHITESPACE
_WHITESPACE_CHARS = [bytes((b,)) for b in WHITESPACE]


def check_remainder(remainder: str) -> str:
    if remainder not in REMAINDER_POLICIES:
        raise ValueError(f"remainder must be one of {REMAINDER_POLICIES}, got {remainder!r}")
    return remainder


def read_vocab_file(path) -> dict[str, int]:
    """Read ``TOKEN ID`` lines (official GENERator vocab.txt) or one token per line (id = line)."""
    with open(path, encoding="utf-8") as fh:
        lines = fh.read().splitlines()
    while lines and not lines[-1].strip():
        lines.pop()
    pairs = [line.split() for line in lines]
    with_ids = all(len(p) == 2 and p[1].lstrip("-").isdigit() for p in pairs)
    vocab: dict[str, int] = {}
    for n, p in enumerate(pairs):
        if not p or (not with_ids and len(p) != 1):
            raise GenerInputError("expected 'TOKEN ID' or one token per line", path=path, line=n + 1)
        token, idx = (p[0], int(p[1])) if with_ids else (p[0], n)
        if token in vocab:
            raise GenerInputError(f"token {token!r} listed twice", path=path, line=n + 1)
        vocab[token] = idx
    if len(set(vocab.values())) != len(vocab):
        raise GenerInputError("two tokens share one id", path=path)
    return vocab


_SHIM = "gener_tokenizer.py"
_SHIM_CODE = '''"""This directory's tokenizer is gener's {name}.

AutoTokenizer.from_pretrained(this directory) needs gener (pip install gener): `import gener`
first (then no trust_remote_code is needed), or pass trust_remote_code=True to let this file
import it. gener.load(this directory) loads the model and the tokenizer together.
"""

try:
    from gener.tokenization import {name} as _{name}
except ImportError as exc:
    raise ImportError("this directory's tokenizer is gener's {name}: pip install gener, then "
                      "`import gener` before AutoTokenizer.from_pretrained") from exc


class {name}(_{name}):
    """gener's {name}, as AutoTokenizer loads it through trust_remote_code."""
'''


class DNATokenizerBase(PreTrainedTokenizer):
    """Common base; subclasses define the layout, the slow ``_tokenize`` and ``_encode_array``."""

    vocab_files_names = {"vocab_file": "vocab.txt"}
    model_input_names = ["input_ids", "attention_mask"]  # Llama takes no token_type_ids
    builtin_specials: tuple[str, ...] = ()
    default_model_max_length = 16384
    k = 1

    def __init__(self, vocab_file: str | None = None, remainder: str = "trim_left", **kwargs):
        if vocab_file:
            vocab = read_vocab_file(vocab_file)
        else:
            if kwargs.get("name_or_path"):  # from_pretrained found no vocab.txt: say so, don't guess
                warnings.warn(f"no vocab.txt in {kwargs['name_or_path']}; using the built-in "
                              f"{type(self).__name__} layout", stacklevel=3)
            vocab = {t: i for i, t in enumerate(self.builtin_specials + tuple(self._sequence_tokens()))}
        self._vocab = vocab
        self._id_to_token = {i: t for t, i in vocab.items()}
        self.remainder = check_remainder(remainder)
        for role, default in ROLE_DEFAULTS.items():
            token = kwargs.setdefault(role, default)
            if token is not None and str(token) not in vocab:  # HF would append it past the embedding
                raise GenerInputError(f"{role} {str(token)!r} is not in the vocabulary", path=vocab_file)
        if kwargs["unk_token"] is None:
            raise ValueError("unk_token is required: ambiguous k-mers and unknown tokens map to it")
        self._build_tables(vocab, vocab_file, vocab[str(kwargs["unk_token"])])
        named = {str(kwargs[role]) for role in ROLE_DEFAULTS if kwargs[role] is not None}
        specials = sorted((t for t in vocab if t.startswith("<") and t.endswith(">")), key=vocab.get)
        kwargs.setdefault("extra_special_tokens", [t for t in specials if t not in named])
        if kwargs.get("model_max_length") is None or kwargs["model_max_length"] > 1e12:
            kwargs["model_max_length"] = self.default_model_max_length  # HF's "unset" is 1e30
        kwargs.setdefault("padding_side", "right")
        kwargs.pop("auto_map", None)  # an upstream config points at their remote code, not at us
        self.add_bos_token = bool(kwargs.pop("add_bos_token", True))
        self.add_eos_token = bool(kwargs.pop("add_eos_token", False))
        self._special_re_cache: tuple[int, re.Pattern | None, bool] = (-1, None, True)
        self._decode_cache: dict = {}
        super().__init__(remainder=self.remainder, **kwargs)

    # Keys of a published checkpoint's tokenizer_config.json that mean the same here; the rest
    # (auto_map, tokenizer_class, ...) configures upstream's own code, which is never run.
    upstream_settings: tuple[str, ...] = ("add_bos_token", "add_eos_token")

    @classmethod
    def from_upstream(cls, vocab_file, settings: dict):
        """The tokenizer of a published checkpoint: its ``vocab.txt`` (the official ids, or the
        built-in layout when ``None``) and the settings of its ``tokenizer_config.json``.

        Special tokens follow the config's ``add_bos_token`` / ``add_eos_token``. Upstream's
        GENERator tokenizer ignores ``add_eos_token: false`` and appends ``</s>`` whenever
        ``add_special_tokens=True``; see :mod:`gener.tokenization.kmer` for that difference."""
        kwargs = {key: settings[key] for key in cls.upstream_settings if key in settings}
        return cls(vocab_file=str(vocab_file) if vocab_file else None, **kwargs)

    # --- layout hooks -------------------------------------------------------------------
    def _sequence_tokens(self) -> list[str]:
        raise NotImplementedError

    def _build_tables(self, vocab: dict[str, int], vocab_file, unk_id: int) -> None:
        raise NotImplementedError

    def _encode_array(self, arr: np.ndarray) -> np.ndarray | None:
        """uint8 bases (length a multiple of k) -> int32 ids; None if a byte is not DNA."""
        raise NotImplementedError

    # --- HF vocabulary interface --------------------------------------------------------
    @property
    def vocab_size(self) -> int:
        return len(self._vocab)

    def get_vocab(self) -> dict[str, int]:
        vocab = dict(self._vocab)
        vocab.update(self.added_tokens_encoder)
        return vocab

    def _convert_token_to_id(self, token: str) -> int:
        idx = self._vocab.get(token)  # unk_token is looked up only when needed: it is slow
        return idx if idx is not None else self._vocab[str(self.unk_token)]

    def _convert_id_to_token(self, index: int) -> str:
        return self._id_to_token.get(index, str(self.unk_token))

    def save_vocabulary(self, save_directory: str, filename_prefix: str | None = None) -> tuple[str, ...]:
        path = os.path.join(save_directory, (filename_prefix + "-" if filename_prefix else "") + "vocab.txt")
        with open(path, "w", encoding="utf-8") as fh:  # the official 'TOKEN ID' format
            fh.writelines(f"{t} {i}\n" for t, i in sorted(self._vocab.items(), key=lambda kv: kv[1]))
        return (path,)

    def _save_pretrained(self, save_directory, file_names, *args, **kwargs):
        # transformers 5 drops add_bos/eos_token from the saved config, and a reload would fall
        # back to the defaults: write them back (this hook runs before any push to the hub).
        config_path = file_names[0]  # tokenizer_config.json, written just before this call
        with open(config_path, encoding="utf-8") as fh:
            config = json.load(fh)
        config.update(add_bos_token=self.add_bos_token, add_eos_token=self.add_eos_token)
        # AutoTokenizer without `import gener` finds no class of this name; auto_map sends it to
        # a small module saved here, which says what to do (and, trusted, imports gener).
        name = type(self).__name__
        config["auto_map"] = {"AutoTokenizer": [f"{_SHIM.removesuffix('.py')}.{name}", None]}
        with open(config_path, "w", encoding="utf-8") as fh:
            fh.write(json.dumps(config, indent=2, sort_keys=True, ensure_ascii=False) + "\n")
        shim = os.path.join(save_directory, _SHIM)
        with open(shim, "w", encoding="utf-8") as fh:
            fh.write(_SHIM_CODE.format(name=name))
        return (*super()._save_pretrained(save_directory, file_names, *args, **kwargs), shim)

    # --- special tokens around a sequence -----------------------------------------------
    def build_inputs_with_special_tokens(self, token_ids_0, token_ids_1=None):
        bos = [self.bos_token_id] if self.add_bos_token else []
        eos = [self.eos_token_id] if self.add_eos_token else []
        out = bos + list(token_ids_0) + eos
        return out if token_ids_1 is None else out + bos + list(token_ids_1) + eos

    def get_special_tokens_mask(self, token_ids_0, token_ids_1=None, already_has_special_tokens=False):
        if already_has_special_tokens:
            return super().get_special_tokens_mask(token_ids_0, token_ids_1, already_has_special_tokens=True)
        one = lambda ids: [1] * self.add_bos_token + [0] * len(ids) + [1] * self.add_eos_token  # noqa: E731
        return one(token_ids_0) + (one(token_ids_1) if token_ids_1 is not None else [])

    # --- the HF (slow, reference) path ----------------------------------------------------
    def tokenize(self, text: str, **kwargs) -> list[str]:
        """Token strings; ``remainder=`` overrides the policy for this call."""
        remainder = check_remainder(kwargs.pop("remainder", None) or self.remainder)
        if kwargs.pop("split_special_tokens", self.split_special_tokens):
            return self._tokenize(text, remainder=remainder)
        tokens: list[str] = []
        for piece in self.tokens_trie.split(text):  # HF's own split on added/special tokens
            if piece in self._added_tokens_encoder:
                tokens.append(piece)
            elif piece:
                tokens.extend(self._tokenize(piece, remainder=remainder))
        return tokens

    def _trim(self, seq: str, remainder: str) -> str:
        r = len(seq) % self.k
        if not r:
            return seq
        if remainder == "error":
            raise self._length_error(len(seq))
        return seq[r:] if remainder == "trim_left" else seq[:-r]

    def _length_error(self, n: int) -> GenerInputError:
        return GenerInputError(f"sequence length {n} is not a multiple of k={self.k} (remainder='error')")

    def convert_tokens_to_string(self, tokens: list[str]) -> str:
        unk = str(self.unk_token)
        return "".join("N" * self.k if t == unk else t for t in tokens)

    # --- the bulk path --------------------------------------------------------------------
    def _dna_ids(self, segment: str, remainder: str) -> np.ndarray:
        """One DNA segment (no special tokens) -> ids, with exactly the slow path's result."""
        raw = segment.encode("ascii", "replace")
        if any(ws in raw for ws in _WHITESPACE_CHARS):
            raw = raw.translate(None, WHITESPACE)
        n, r = len(raw), len(raw) % self.k
        dropped = b""
        if r:
            if remainder == "error":
                normalize(segment)  # a bad symbol is reported first, as in the slow path
                raise self._length_error(n)
            dropped = raw[:r] if remainder == "trim_left" else raw[n - r:]
        start = r if remainder == "trim_left" else 0
        arr = np.frombuffer(raw, dtype=np.uint8, count=n - r, offset=start)
        ids = None if dropped.translate(None, _ACCEPTED) else self._encode_array(arr)
        if ids is None:
            normalize(segment)  # raises GenerInputError naming the symbol and its position
            raise AssertionError("lookup table disagrees with gener.sequence.normalize")
        return ids

    def _special_pattern(self) -> tuple[re.Pattern | None, bool]:
        """Regex over added tokens (longest first, like HF's trie) and whether all start with '<'."""
        count = len(self._added_tokens_encoder)
        if self._special_re_cache[0] != count:
            tokens = sorted(self._added_tokens_encoder, key=len, reverse=True)
            pattern = re.compile("(" + "|".join(map(re.escape, tokens)) + ")") if tokens else None
            self._special_re_cache = (count, pattern, all(t.startswith("<") for t in tokens))
        return self._special_re_cache[1], self._special_re_cache[2]

    def _text_ids(self, text: str, remainder: str, split_special_tokens: bool = False) -> np.ndarray:
        pattern, angle_only = self._special_pattern()
        if split_special_tokens or pattern is None or (angle_only and "<" not in text):
            return self._dna_ids(text, remainder)
        parts = pattern.split(text)  # [dna, special, dna, special, ..., dna]
        chunks = [np.array([self._added_tokens_encoder[p]], np.int32) if i % 2 else self._dna_ids(p, remainder)
                  for i, p in enumerate(parts) if p]
        return np.concatenate(chunks) if chunks else np.zeros(0, np.int32)

    def _finish(self, ids: np.ndarray, add_bos, add_eos, max_length) -> np.ndarray:
        bos = self.add_bos_token if add_bos is None else add_bos
        eos = self.add_eos_token if add_eos is None else add_eos
        if max_length is not None:  # truncate the sequence, not the specials (as HF does)
            keep = max(max_length - bos - eos, 0)
            if len(ids) > keep:
                ids = ids[len(ids) - keep:] if self.truncation_side == "left" else ids[:keep]
        if not (bos or eos):
            return ids
        out = np.empty(len(ids) + bos + eos, np.int32)  # one copy, no int64 detour
        out[bos:len(out) - eos] = ids
        if bos:
            out[0] = self.bos_token_id
        if eos:
            out[-1] = self.eos_token_id
        return out

    def encode_bulk(self, seq: str, *, add_bos: bool | None = None, add_eos: bool | None = None,
                    remainder: str | None = None, max_length: int | None = None) -> np.ndarray:
        """Vectorised ``tok(seq)["input_ids"]`` as an int32 array (bos/eos default to the tokenizer's)."""
        ids = self._text_ids(seq, check_remainder(remainder or self.remainder))
        return self._finish(ids, add_bos, add_eos, max_length)

    def encode_bulk_batch(self, seqs, *, add_bos: bool | None = None, add_eos: bool | None = None,
                          remainder: str | None = None, max_length: int | None = None,
                          pad_to_multiple_of: int | None = None,
                          padding_side: str | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Encode many sequences: ``(input_ids, attention_mask)``, int32 ``[batch, length]``.

        Rows are padded with ``pad_token_id`` on ``padding_side`` (default: the tokenizer's,
        right) to the longest row, rounded up to ``pad_to_multiple_of``; ``max_length``
        truncates each row first (on ``truncation_side``, specials kept)."""
        rows = [self.encode_bulk(s, add_bos=add_bos, add_eos=add_eos, remainder=remainder,
                                 max_length=max_length) for s in seqs]
        width = max((len(r) for r in rows), default=0)
        if pad_to_multiple_of:
            width = -(-width // pad_to_multiple_of) * pad_to_multiple_of
        ids = np.full((len(rows), width), self.pad_token_id, np.int32)
        mask = np.zeros((len(rows), width), np.int32)
        left = (padding_side or self.padding_side) == "left"
        for i, row in enumerate(rows):
            sl = slice(width - len(row), width) if left else slice(0, len(row))
            ids[i, sl], mask[i, sl] = row, 1
        return ids, mask

    def _encode_plus(self, text, text_pair=None, **kwargs):
        # Route plain strings through the bulk path; HF then adds specials, truncates, pads.
        if not kwargs.get("is_split_into_words"):
            remainder = check_remainder(kwargs.get("remainder") or self.remainder)
            split = kwargs.get("split_special_tokens", self.split_special_tokens)

            def fast(t):
                if not isinstance(t, str):
                    return t
                ids = self._text_ids(t, remainder, split).tolist()
                return ids or t  # HF reads an empty list as an empty batch; let the slow path do ""
            text, text_pair = fast(text), (None if text_pair is None else fast(text_pair))
        return super()._encode_plus(text, text_pair=text_pair, **kwargs)

    # --- decoding -------------------------------------------------------------------------
    def _decode(self, token_ids, skip_special_tokens: bool = False, clean_up_tokenization_spaces=None, **kwargs):
        """DNA back: tokens concatenated, ``<oov>`` (or an unknown id) as k x N, specials skipped
        when asked. ``<oov>`` stands for k bases, so it is never skipped."""
        ids = np.atleast_1d(np.asarray(token_ids, dtype=np.int64))
        key = (len(self), bool(skip_special_tokens), tuple(self.all_special_tokens))
        if key not in self._decode_cache:
            if len(self._decode_cache) > 4:  # stale tables after tokens were added
                self._decode_cache.clear()
            self._decode_cache[key] = self._decode_table(bool(skip_special_tokens))
        table = self._decode_cache[key]
        ids = np.where((ids < 0) | (ids >= len(table) - 1), len(table) - 1, ids)  # last row: unknown id
        return table[ids].tobytes().replace(b"\0", b"").decode("utf-8")

    def _decode_table(self, skip_special: bool) -> np.ndarray:
        vocab = self.get_vocab()
        special = set(self.all_special_tokens)
        n_bases = "N" * self.k
        table = [n_bases] * (max(vocab.values()) + 2)
        for token, i in vocab.items():
            if token == str(self.unk_token):
                table[i] = n_bases
            else:
                table[i] = "" if (skip_special and token in special) else token
        return np.array([t.encode("utf-8") for t in table])  # fixed-width bytes, padded with NUL
