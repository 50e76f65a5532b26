"""Pre-training shards: ``gener data tokenize`` writes them, :class:`ShardDataset` reads them.

A shard directory::

    index.json           the commit point, written last: format, tokenizer (name, k, vocab
                         sha256, bos/eos ids), totals, the source parquet, and per shard its
                         files, documents, bases and sha256
    shard-00000.bin      uint8: the documents' nucleotides (normalised IUPAC letters), concatenated
    shard-00000.idx.npy  int64: where each document starts in the .bin, plus the end (n + 1)

Documents are the parquet's rows, in order, never split across shards.

Why nucleotides and not token ids: GENERator trains with a fresh random start offset 0..5
per sample per epoch, which needs all six 6-mer framings. Storing the bases (1 byte/bp) and
cutting each window's 6-mers on the fly with the numpy bulk encoder (one call per window)
costs ~0.5 ms per 16,384-token window on 2 busy cores -- far below a training step -- while
six pre-tokenised uint16 variants take 2 bytes/bp and six encodes per document to write
(benchmarks/curation.py measures both on E. coli). The same shards also serve the
single-nucleotide tokenizer, or a checkpoint's own vocab.txt.

The token stream (what the model sees): each document is ``<s>`` + its tokens + ``</s>``,
documents follow each other, and window ``i`` is tokens ``[i*seq_len, (i+1)*seq_len)`` of that
stream -- packed, no padding; a window may start or end inside a document, and the tail
shorter than one window is dropped. With ``offset_augment`` (k > 1), window ``i`` in epoch ``e``
reads every document in it from base ``o = hash(seed, e, i) % k`` on, and every document
contributes ``(length - k + 1) // k`` tokens whatever ``o`` is, so the layout (and the length
of the dataset) never changes: window ``i`` of epoch ``e`` is always the same tensor, which is
what an exact resume needs. Without it, a document gives ``length // k`` tokens from base 0:
exactly ``tokenizer.encode_bulk(seq, remainder="trim_right")``. Documents too short for one
token are left out.
"""

from __future__ import annotations

import hashlib
import json
import time
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import torch

from gener.data.regions import open_regions
from gener.errors import GenerInputError
from gener.io import atomic_write

FORMAT, VERSION = "gener-shards", 1
DEFAULT_SHARD_TOKENS = 100_000_000
_IUPAC = b"ACGTNRYSWKMBDHV"  # what gener.sequence.normalize leaves in a sequence
_MASK = (1 << 64) - 1


def make_tokenizer(spec):
    """``"kmer"`` / ``"nucleotide"`` -> a fresh gener tokenizer; a tokenizer passes through."""
    from gener.tokenization import DNATokenizerBase, KmerTokenizer, NucleotideTokenizer

    if isinstance(spec, DNATokenizerBase):
        return spec
    makers = {"kmer": KmerTokenizer, "nucleotide": NucleotideTokenizer}
    if spec not in makers:
        raise GenerInputError(f"unknown tokenizer {spec!r}: use kmer (GENERator) or nucleotide (GENERanno)")
    return makers[spec]()


def tokenizer_info(tokenizer) -> dict:
    vocab = sorted(tokenizer.get_vocab().items(), key=lambda kv: kv[1])
    digest = hashlib.sha256("".join(f"{t} {i}\n" for t, i in vocab).encode()).hexdigest()
    name = "kmer" if type(tokenizer).__name__ == "KmerTokenizer" else "nucleotide"
    return {"name": name, "class": type(tokenizer).__name__, "k": tokenizer.k, "vocab_size": len(vocab),
            "vocab_sha256": digest, "bos_token_id": tokenizer.bos_token_id, "eos_token_id": tokenizer.eos_token_id}


@dataclass
class ShardSummary:
    documents: int
    bases: int
    tokens: int  # the stream's length at offset 0 without augmentation, separators included
    shards: int
    seconds: float


def write_shards(regions, out_dir, *, tokenizer="kmer", shard_tokens: int = DEFAULT_SHARD_TOKENS,
                 force: bool = False, progress=None) -> ShardSummary:
    """Stream the ``sequence`` column of a regions parquet into shards (batch by batch, so the
    corpus may exceed memory). ``progress(bases)`` is called after each batch."""
    tok = make_tokenizer(tokenizer)
    parquet = open_regions(regions, {"sequence"})
    out_dir = _prepare_dir(Path(out_dir), force)
    shard_bases = max(int(shard_tokens), 1) * tok.k
    started, written, shards = time.perf_counter(), [], []
    totals = {"documents": 0, "bases": 0, "ambiguous_bases": 0, "tokens": 0}
    current = None
    try:
        for batch in parquet.iter_batches(columns=["sequence"], batch_size=8192):
            data, offsets = _column_bytes(batch.column(0), regions, totals["documents"])
            lengths = np.diff(offsets)
            totals["documents"] += len(lengths)
            totals["bases"] += len(data)
            totals["ambiguous_bases"] += len(data.translate(None, b"ACGT"))
            n_tok = lengths // tok.k
            totals["tokens"] += int((n_tok + 2)[n_tok > 0].sum())
            i = 0
            while i < len(lengths):  # whole documents into the current shard, rolling over when full
                if current is None or (current.bases and current.bases + lengths[i] > shard_bases):
                    if current is not None:
                        shards.append(current.close())
                    current = _ShardWriter(out_dir, len(shards))
                    written += current.files
                room = shard_bases - current.bases
                fits = int(np.searchsorted(np.cumsum(lengths[i:]), room, side="right"))
                j = i + max(fits, 1)  # an oversized document gets a shard of its own
                current.add(data[offsets[i] - offsets[0]: offsets[j] - offsets[0]], lengths[i:j])
                i = j
            if progress is not None:
                progress(len(data))
        if current is None:
            raise GenerInputError("no documents: the regions table is empty", path=regions)
        shards.append(current.close())
        index = {"format": FORMAT, "version": VERSION, "tokenizer": tokenizer_info(tok),
                 "separators": "each document is <s> + tokens + </s>; windows cut the packed stream",
                 **totals, "source": {"path": str(regions), "bytes": Path(regions).stat().st_size,
                                      "rows": parquet.metadata.num_rows},
                 "shards": shards}
        with atomic_write(out_dir / "index.json") as fh:
            json.dump(index, fh, indent=1)
    except BaseException:
        if current is not None:
            current.abort()
        for path in written:
            path.unlink(missing_ok=True)
        raise
    return ShardSummary(totals["documents"], totals["bases"], totals["tokens"], len(shards),
                        time.perf_counter() - started)


class _ShardWriter:
    def __init__(self, out_dir: Path, number: int):
        self.bin = out_dir / f"shard-{number:05d}.bin"
        self.idx = out_dir / f"shard-{number:05d}.idx.npy"
        self.files = [self.bin, self.idx]
        self._fh = open(self.bin, "wb")
        self._hash = hashlib.sha256()
        self._lengths: list[np.ndarray] = []
        self.bases = 0

    def add(self, data: bytes, lengths: np.ndarray) -> None:
        self._fh.write(data)
        self._hash.update(data)
        self._lengths.append(lengths)
        self.bases += len(data)

    def abort(self) -> None:
        self._fh.close()

    def close(self) -> dict:
        self._fh.close()
        offsets = np.concatenate([[0], np.cumsum(np.concatenate(self._lengths))]).astype(np.int64)
        np.save(self.idx, offsets)
        return {"bin": self.bin.name, "offsets": self.idx.name, "documents": len(offsets) - 1,
                "bases": self.bases, "sha256": self._hash.hexdigest(), "offsets_sha256": _sha256(self.idx)}


def _prepare_dir(out_dir: Path, force: bool) -> Path:
    if out_dir.exists() and not out_dir.is_dir():
        raise GenerInputError("output exists and is not a directory", path=out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    ours = [p for p in out_dir.iterdir() if p.name == "index.json" or p.name.startswith("shard-")]
    others = [p for p in out_dir.iterdir() if p not in ours]
    if ours and not force:
        raise GenerInputError("already holds shards (use --force to replace them)", path=out_dir)
    if others:
        raise GenerInputError(f"output directory is not empty ({others[0].name})", path=out_dir)
    for path in ours:  # forced: the old index goes first, so a crash never leaves a stale one
        path.unlink()
    return out_dir


def _column_bytes(column, path, first_row: int) -> tuple[bytes, np.ndarray]:
    """The batch's sequences as one contiguous byte string plus offsets: Arrow already stores
    them so, so nothing is copied per document."""
    if column.null_count:
        raise GenerInputError(f"row {first_row + column.is_null().index(True).as_py()}: sequence is null", path=path)
    if pa.types.is_string(column.type) or pa.types.is_binary(column.type):
        width = np.int32
    elif pa.types.is_large_string(column.type) or pa.types.is_large_binary(column.type):
        width = np.int64
    else:
        raise GenerInputError(f"'sequence' column has type {column.type}, not string", path=path)
    offsets = np.frombuffer(column.buffers()[1], dtype=width)[column.offset: column.offset + len(column) + 1]
    offsets = offsets.astype(np.int64)
    buffer = column.buffers()[2]
    data = b"" if buffer is None else buffer.slice(int(offsets[0]), int(offsets[-1] - offsets[0])).to_pybytes()
    bad = data.translate(None, _IUPAC)
    if bad:
        pos = next(i for i, c in enumerate(data) if c not in _IUPAC)
        row = int(np.searchsorted(offsets - offsets[0], pos, side="right")) - 1
        at = pos - (offsets[row] - offsets[0]) + 1
        raise GenerInputError(f"row {first_row + row}: invalid nucleotide {chr(bad[0])!r} at position {at} "
                              "(sequences must be normalised, upper-case IUPAC)", path=path)
    return data, offsets


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 22), b""):
            digest.update(block)
    return digest.hexdigest()


def read_index(shards_dir) -> dict:
    path = Path(shards_dir) / "index.json"
    try:
        index = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise GenerInputError("no index.json: not a shard directory, or an unfinished one", path=shards_dir) from None
    except json.JSONDecodeError as exc:
        raise GenerInputError(f"corrupt index ({exc.msg})", path=path, line=exc.lineno) from None
    if index.get("format") != FORMAT or index.get("version") != VERSION:
        raise GenerInputError(f"not a {FORMAT} v{VERSION} index", path=path)
    return index


def _load_offsets(shards_dir: Path, shard: dict) -> np.ndarray:
    """A shard's document offsets, after the cheap checks that catch a truncated or
    replaced shard (sizes against the index; the hashes are :func:`verify_shards`' job)."""
    try:
        bin_path, idx_path = shards_dir / shard["bin"], shards_dir / shard["offsets"]
        documents, bases = int(shard["documents"]), int(shard["bases"])
    except (KeyError, TypeError, ValueError):
        raise GenerInputError("index.json: a shard entry lacks bin / offsets / documents / bases",
                              path=shards_dir / "index.json") from None
    for path in (bin_path, idx_path):
        if not path.is_file():
            raise GenerInputError("shard file is missing", path=path)
    size = bin_path.stat().st_size
    if size != bases:
        raise GenerInputError(f"shard has {size:,} bytes, the index says {bases:,}: truncated or replaced "
                              "(write the shards again)", path=bin_path)
    try:
        offsets = np.load(idx_path, allow_pickle=False)
    except (ValueError, OSError, EOFError) as exc:
        raise GenerInputError(f"unreadable offsets ({exc})".splitlines()[0], path=idx_path) from None
    if offsets.ndim != 1 or len(offsets) != documents + 1 or offsets[-1] != bases or (np.diff(offsets) < 0).any():
        raise GenerInputError("offsets do not match the index", path=idx_path)
    return offsets


def verify_shards(shards_dir) -> None:
    """Check every shard file against the sha256 and sizes in the index."""
    shards_dir = Path(shards_dir)
    for shard in read_index(shards_dir)["shards"]:
        for name, key in ((shard["bin"], "sha256"), (shard["offsets"], "offsets_sha256")):
            path = shards_dir / name
            if not path.is_file():
                raise GenerInputError("shard file is missing", path=path)
            if _sha256(path) != shard[key]:
                raise GenerInputError("checksum mismatch: the shard changed since it was written", path=path)


def _mix(*values: int) -> int:
    """splitmix64 over the values: a stable hash (no dependence on numpy's RNG versions)."""
    h = 0
    for v in values:
        h = (h + (v & _MASK) + 0x9E3779B97F4A7C15) & _MASK
        h = ((h ^ (h >> 30)) * 0xBF58476D1CE4E5B9) & _MASK
        h = ((h ^ (h >> 27)) * 0x94D049BB133111EB) & _MASK
        h ^= h >> 31
    return h


class ShardDataset(torch.utils.data.Dataset):
    """Packed windows of ``seq_len`` tokens over a shard directory (layout: module docstring).

    ``dataset[i]`` is ``{"input_ids": LongTensor[seq_len]}``, a pure function of (seed, epoch,
    i): labels and masking are the collator's job. ``tokenizer`` defaults to the one named in
    the index; any gener tokenizer (e.g. a checkpoint's) reads the same shards. Call
    ``set_epoch`` at each epoch start (a ``TrainerCallback.on_epoch_begin`` does it under the
    HF Trainer; accelerate forwards ``set_epoch`` to the dataset only without a distributed
    sampler); DataLoader workers see it when they are not persistent.
    """

    def __init__(self, shards_dir, seq_len: int, tokenizer=None, offset_augment: bool = True, seed: int = 0,
                 epoch: int = 0, verify: bool = False):
        self.dir = Path(shards_dir)
        self.index = read_index(self.dir)
        if verify:
            verify_shards(self.dir)
        self.tokenizer = make_tokenizer(tokenizer or self.index["tokenizer"]["name"])
        written_for = self.index["tokenizer"]
        if tokenizer is None and tokenizer_info(self.tokenizer)["vocab_sha256"] != written_for["vocab_sha256"]:
            warnings.warn(f"{self.dir} was written with another {written_for['name']} vocabulary "
                          "(a checkpoint's?): pass that tokenizer", stacklevel=2)
        self.k, self.seq_len, self.seed, self.epoch = self.tokenizer.k, int(seq_len), int(seed), int(epoch)
        if self.seq_len < 1:
            raise ValueError("seq_len must be >= 1")
        self.offset_augment = bool(offset_augment) and self.k > 1
        self.bos, self.eos = self.tokenizer.bos_token_id, self.tokenizer.eos_token_id
        shard_of, starts, lengths = [], [], []
        for number, shard in enumerate(self.index["shards"]):
            offsets = _load_offsets(self.dir, shard)
            shard_of.append(np.full(len(offsets) - 1, number, np.int32))
            starts.append(offsets[:-1])
            lengths.append(np.diff(offsets))
        lengths = np.concatenate(lengths)
        usable = lengths - (self.k - 1) if self.offset_augment else lengths
        n_tok = np.maximum(usable, 0) // self.k  # the same for every offset, so the layout is fixed
        keep = np.flatnonzero(n_tok > 0)
        self._shard, self._start = np.concatenate(shard_of)[keep], np.concatenate(starts)[keep]
        self._ntok = n_tok[keep]
        self._cum = np.concatenate([[0], np.cumsum(self._ntok + 2)])  # + <s> and </s>
        self.num_tokens = int(self._cum[-1])
        self.num_documents = len(keep)
        if self.num_tokens < self.seq_len:
            raise GenerInputError(f"{self.num_tokens:,} tokens: fewer than one window of {self.seq_len:,}",
                                  path=self.dir)
        self._maps: dict[int, np.memmap] = {}

    def __len__(self) -> int:
        return self.num_tokens // self.seq_len

    def set_epoch(self, epoch: int) -> None:
        self.epoch = int(epoch)

    def offset(self, index: int, epoch: int | None = None) -> int:
        """The start offset (0..k-1) of window ``index`` in ``epoch``."""
        if not self.offset_augment:
            return 0
        return _mix(self.seed, self.epoch if epoch is None else epoch, index) % self.k

    def __getitem__(self, index: int) -> dict:
        return {"input_ids": torch.from_numpy(self.window(index))}

    def window(self, index: int, epoch: int | None = None) -> np.ndarray:
        """Token ids (int64) of window ``index`` in ``epoch`` (default: the current one)."""
        index = int(index)
        if index < 0:
            index += len(self)
        if not 0 <= index < len(self):
            raise IndexError(f"window {index} of {len(self)}")
        size, k = self.seq_len, self.k
        lo, hi = index * size, (index + 1) * size
        o = self.offset(index, epoch)
        # The documents in the window, and the part of each stream [cum, cum + n + 2) inside it.
        j0, j1 = (int(x) for x in np.searchsorted(self._cum, [lo, hi - 1], side="right") - 1)
        first, n = self._cum[j0:j1 + 1], self._ntok[j0:j1 + 1]
        a, b = np.maximum(lo - first, 0), np.minimum(n + 2, hi - first)
        has_bos, has_eos = a == 0, b == n + 2
        t0 = np.maximum(a - 1, 0)
        count = np.maximum(np.minimum(b, n + 1) - 1 - t0, 0)  # tokens of each document in the window
        # Every piece is a whole number of k-mers, so the pieces' bases joined end to end keep
        # their framing: one encode call for the window instead of one per document.
        bases = self._gather(j0, self._start[j0:j1 + 1] + o + k * t0, k * count)
        ids = self.tokenizer.encode_bulk(bases, add_bos=False, add_eos=False, remainder="error")
        out = np.empty(size, np.int64)
        begin = np.concatenate([[0], np.cumsum(has_bos + count + has_eos)[:-1]])  # each document's first slot
        bos_at, eos_at = begin[has_bos], (begin + has_bos + count)[has_eos]
        out[bos_at], out[eos_at] = self.bos, self.eos
        slots = np.ones(size, bool)
        slots[bos_at] = slots[eos_at] = False
        out[slots] = ids
        return out

    def _gather(self, j0: int, starts: np.ndarray, lengths: np.ndarray) -> str:
        """The bases at ``starts[i]:starts[i] + lengths[i]`` of documents j0, j0 + 1, ... joined."""
        shards = self._shard[j0:j0 + len(starts)]
        pieces = []
        for shard in map(int, np.unique(shards)):  # a window spans one shard, rarely two
            if shard not in self._maps:  # opened lazily, per process (DataLoader workers included)
                self._maps[shard] = np.memmap(self.dir / self.index["shards"][shard]["bin"], np.uint8, mode="r")
            sel = shards == shard
            lens = lengths[sel]
            offsets = np.repeat(starts[sel] - np.cumsum(lens) + lens, lens) + np.arange(lens.sum())
            piece = self._maps[shard][offsets].tobytes()
            if piece.translate(None, _IUPAC):
                raise GenerInputError("shard holds bytes that are not nucleotides: corrupted since it was "
                                      "written (--verify checks every shard's sha256)",
                                      path=self.dir / self.index["shards"][shard]["bin"])
            pieces.append(piece)
        return b"".join(pieces).decode("ascii")

    def __getstate__(self):
        state = dict(self.__dict__)
        state["_maps"] = {}  # memmaps are reopened in each worker, never pickled
        return state
