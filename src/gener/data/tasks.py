"""Labelled sequence sets for fine-tuning: local tables and FASTA, or the published suites.

``load_task(data)`` takes
- a file: CSV / TSV / parquet / JSON lines, or FASTA whose headers carry ``label=VALUE``
  (optionally ``split=`` and ``group=``); a ``split`` column splits a table;
- a directory: split files ``train*`` / ``valid*`` / ``validation*`` / ``val*`` / ``dev*`` /
  ``test*`` in any of those formats (shards of a split are concatenated), looked up in
  ``DIR/SUBSET``, ``DIR/data/SUBSET``, ``DIR`` and ``DIR/data`` - the layouts of the
  published suites' hub repositories and of ``gener data task`` (which adds ``task.json``);
- a hub dataset id (``REPO`` or ``REPO:SUBSET``, or a suite alias such as
  ``nt-revised:H3K4me3``), loaded with ``datasets`` when online; offline it is one clear
  error telling the user to pass a downloaded directory instead.

Labels become: class indices (classification: names sorted numerically when all numeric,
else alphabetically, over all splits), multi-hot float rows (multilabel: a list per row,
``;``-separated names, or several 0/1 columns) or float values (regression: one column or
several, or a list per row). The task type is inferred when not given. A ``group`` column
(or ``group_col``; ``"none"`` ignores it) names where each sequence comes from - a genome, a
chromosome region - and cross-validation keeps each group inside one fold.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from gener.errors import GenerInputError
from gener.io.tables import TABLE_SUFFIXES, read_table
from gener.sequence import normalize

TASKS = ("classification", "multilabel", "regression")
SEQ_COLUMNS = ("sequence", "seq", "dna_sequence", "dna_seq", "text")
LABEL_COLUMNS = ("label", "labels", "target", "y")
SPLIT_NAMES = {"train": "train", "training": "train", "valid": "validation", "validation": "validation",
               "val": "validation", "dev": "validation", "test": "test"}
_TABLE_EXT = TABLE_SUFFIXES
_FASTA_EXT = (".fa", ".fasta", ".fna", ".fas")

# The published suites (docs/finetuning.md). An alias expands to a hub id;
# Genomic Benchmarks are one repository per task.
SUITES = {
    "nt": "InstaDeepAI/nucleotide_transformer_downstream_tasks",
    "nt-revised": "InstaDeepAI/nucleotide_transformer_downstream_tasks_revised",
    "gener-tasks": "GenerTeam/gener-tasks",
    "prokaryotic-gener-tasks": "GenerTeam/prokaryotic-gener-tasks",
    "deepstarr": "GenerTeam/DeepSTARR-enhancer-activity",
    "genomic-benchmarks": "katarinagresova/Genomic_Benchmarks_{subset}",
}


@dataclass
class LabelledSet:
    sequences: list[str]
    labels: np.ndarray  # int64 (n,) | float32 (n, labels) multi-hot | float32 (n,) or (n, outputs)
    groups: np.ndarray | None = None  # e.g. the genome each sequence comes from

    def __len__(self) -> int:
        return len(self.sequences)

    def subset(self, index) -> "LabelledSet":
        index = np.asarray(index, int)
        return LabelledSet([self.sequences[i] for i in index], self.labels[index],
                           None if self.groups is None else self.groups[index])


@dataclass
class TaskData:
    name: str
    task: str  # classification | multilabel | regression
    label_names: list[str]  # classes, labels or regression outputs
    splits: dict[str, LabelledSet] = field(default_factory=dict)

    @property
    def num_labels(self) -> int:
        return len(self.label_names)

    def describe(self) -> str:
        sizes = ", ".join(f"{k} {len(v):,}" for k, v in self.splits.items())
        return f"{self.name}: {self.task}, {self.num_labels} label(s) [{', '.join(self.label_names[:8])}" \
               f"{', ...' if self.num_labels > 8 else ''}]; {sizes}"


# --- reading raw columns ------------------------------------------------------------------
def _read_labelled_fasta(path: Path) -> dict[str, list]:
    from gener.io import read_fasta

    cols: dict[str, list] = {"id": [], "sequence": []}
    for n, rec in enumerate(read_fasta(path)):
        fields = dict(re.findall(r"(\w+)=(\S+)", rec.description))
        if "label" not in fields:
            if "|" not in rec.id:
                raise GenerInputError("FASTA header needs label=VALUE (or ID|LABEL)", path=path, record=rec.id)
            fields["label"] = rec.id.rsplit("|", 1)[1]
        for key, value in fields.items():
            cols.setdefault(key, [None] * n).append(value)
        for key in cols:
            if len(cols[key]) < n + 1 and key not in ("id", "sequence"):
                cols[key].append(None)
        cols["id"].append(rec.id)
        cols["sequence"].append(rec.sequence)
    if not cols["id"]:
        raise GenerInputError("no records", path=path)
    return cols


def _read_any(path: Path) -> dict[str, list]:
    name = path.name.lower().removesuffix(".gz")
    if name.endswith(_FASTA_EXT):
        return _read_labelled_fasta(path)
    if name.endswith(_TABLE_EXT):
        return read_table(path)
    raise GenerInputError(f"unknown file type (expected {', '.join(_TABLE_EXT + _FASTA_EXT)}, optionally .gz)", path=path)


def _split_files(directory: Path, subset: str | None) -> tuple[dict[str, list[Path]], bool]:
    """Split files, and whether rows must still be filtered by a ``task`` column (a subset
    without its own directory: one table holding every task, as some suites ship it)."""
    roots = [directory / subset, directory / "data" / subset] if subset else []
    roots += [directory, directory / "data"]
    for root in roots:
        found: dict[str, list[Path]] = {}
        if not root.is_dir():
            continue
        for entry in sorted(root.iterdir()):
            stem = re.split(r"[-_.]", entry.name.lower(), maxsplit=1)[0]
            split = SPLIT_NAMES.get(stem)
            if split is None:
                continue
            files = sorted(p for p in entry.iterdir() if p.is_file()) if entry.is_dir() else [entry]
            files = [p for p in files if p.name.lower().removesuffix(".gz").endswith(_TABLE_EXT + _FASTA_EXT)]
            found.setdefault(split, []).extend(files)
        if found:
            return found, bool(subset) and root in (directory, directory / "data")
    where = " or ".join(str(r) for r in roots)
    raise GenerInputError(f"no train/validation/test files in {where}")


def _only_task(raw: dict[str, dict[str, list]], subset: str, name: str) -> dict[str, dict[str, list]]:
    if not all("task" in rows for rows in raw.values()):
        raise GenerInputError(f"{name}: no sub-directory and no `task` column for subset {subset!r}")
    out = {}
    for split, rows in raw.items():
        keep = [i for i, t in enumerate(rows["task"]) if t == subset]
        if keep:
            out[split] = {c: [col[i] for i in keep] for c, col in rows.items()}
    if not out:
        tasks = sorted({t for rows in raw.values() for t in rows["task"]})
        raise GenerInputError(f"{name}: no rows of task {subset!r}; tasks: {', '.join(map(str, tasks[:30]))}")
    return out


def _concat(tables: list[dict[str, list]]) -> dict[str, list]:
    keys = set(tables[0]).intersection(*tables[1:]) if len(tables) > 1 else set(tables[0])
    return {k: [v for t in tables for v in t[k]] for k in keys}


def _load_hub(repo: str, subset: str | None) -> dict[str, dict[str, list]]:
    label = repo + (f":{subset}" if subset else "")
    hint = (f"download it on a connected machine (hf download {repo} --repo-type dataset --local-dir DIR) "
            "and pass DIR instead")
    offline = [v for v in ("HF_HUB_OFFLINE", "HF_DATASETS_OFFLINE") if os.environ.get(v, "").lower() in ("1", "true", "yes")]
    try:
        import datasets
    except ImportError:
        raise GenerInputError(f"loading the hub dataset {label!r} needs the `datasets` package "
                              "(pip install 'gener[understanding]'); or " + hint) from None
    try:
        try:
            loaded, by_column = (datasets.load_dataset(repo, subset) if subset else datasets.load_dataset(repo)), False
        except ValueError:  # no such config: suites that ship every task in one table, with a `task` column
            if not subset:
                raise
            loaded, by_column = datasets.load_dataset(repo), True
    except Exception as exc:  # offline, unknown repo or subset, gated: all one line for the user
        why = f"offline ({offline[0]} is set) and not in the local cache" if offline else \
            f"{type(exc).__name__}: {str(exc).splitlines()[0][:200]}"
        raise GenerInputError(f"cannot load the hub dataset {label!r}: {why}; {hint}") from None
    out = {}
    for name, split in loaded.items():
        key = SPLIT_NAMES.get(name.lower())
        if key:
            out[key] = split.to_dict()
    return _only_task(out, subset, label) if by_column else out


def _expand_alias(data: str, subset: str | None) -> tuple[str, str | None]:
    base, sep, sub = data.partition(":")
    subset = subset or (sub if sep else None)
    if base in SUITES:
        repo = SUITES[base]
        if "{subset}" in repo:
            if not subset:
                raise GenerInputError(f"{base} needs a task name, e.g. {base}:human_nontata_promoters")
            return repo.format(subset=subset), None
        return repo, subset
    return base, subset


# --- labels -------------------------------------------------------------------------------
def _pick(columns: dict[str, list], wanted: str | None, defaults, what: str, source: str) -> str:
    if wanted:
        if wanted not in columns:
            raise GenerInputError(f"no {what} column {wanted!r}; columns: {', '.join(columns)}", path=source)
        return wanted
    for name in defaults:
        if name in columns:
            return name
    raise GenerInputError(f"no {what} column (looked for {', '.join(defaults)}; use --{what}-col); "
                          f"columns: {', '.join(columns)}", path=source)


def _is_number(v) -> bool:
    try:
        float(v)
        return True
    except (TypeError, ValueError):
        return False


def _infer_task(values: list) -> str:
    first = values[0]
    if isinstance(first, (list, tuple, np.ndarray)):
        if any(isinstance(x, str) for row in values[:1000] for x in row):
            return "multilabel"  # label names per row
        flat = {float(x) for row in values[:1000] for x in row}
        return "multilabel" if flat <= {0.0, 1.0} else "regression"
    if isinstance(first, float) or (isinstance(first, str) and _is_number(first) and not float(first).is_integer()):
        return "regression"
    if isinstance(first, str) and ";" in first:
        return "multilabel"
    return "classification"


def _labels(task: str, rows: dict[str, list], label_cols: list[str], names: list[str]) -> np.ndarray:
    if task == "classification":
        index = {n: i for i, n in enumerate(names)}
        return np.array([index[_key(v)] for v in rows[label_cols[0]]], np.int64)
    if len(label_cols) > 1:  # several 0/1 or numeric columns
        return np.array([[float(rows[c][i]) for c in label_cols] for i in range(len(rows[label_cols[0]]))], np.float32)
    values = rows[label_cols[0]]
    if task == "multilabel" and _named(values):
        index = {n: i for i, n in enumerate(names)}
        out = np.zeros((len(values), len(names)), np.float32)
        for i, v in enumerate(values):
            for part in _parts(v):
                out[i, index[part]] = 1.0
        return out
    if isinstance(values[0], (list, tuple, np.ndarray)):
        return np.asarray([[float(x) for x in v] for v in values], np.float32)
    return np.asarray([float(v) for v in values], np.float32)


def _named(values) -> bool:
    """Multi-labels given as names (``"a;b"`` or ``["a", "b"]``) rather than 0/1 rows."""
    first = values[0]
    return isinstance(first, str) or (isinstance(first, (list, tuple)) and any(isinstance(x, str) for x in first))


def _parts(v) -> list[str]:
    items = v.split(";") if isinstance(v, str) else v
    return [str(p).strip() for p in items if str(p).strip()]


def _key(v) -> str:
    if isinstance(v, bool):
        return str(v).upper()
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v)


def _label_names(task: str, splits: dict[str, dict[str, list]], label_cols: list[str]) -> list[str]:
    all_values = [v for rows in splits.values() for v in rows[label_cols[0]]]
    if task == "classification":
        keys = sorted({_key(v) for v in all_values})
        return sorted(keys, key=float) if all(_is_number(k) for k in keys) else keys
    if len(label_cols) > 1:
        return list(label_cols)
    first = all_values[0]
    if task == "multilabel" and _named(all_values):
        return sorted({p for v in all_values for p in _parts(v)})
    if isinstance(first, (list, tuple, np.ndarray)):
        return [f"{label_cols[0]}_{i}" for i in range(len(first))]
    return [label_cols[0]]


# OWNER/NAME[:SUBSET], as the hub spells repository ids: a path such as /x.csv or ../x is not one.
_HUB_ID = re.compile(r"^[A-Za-z0-9][\w.-]*/[\w.-]+(:[^/]*)?$")


def load_task(data, *, task: str | None = None, subset: str | None = None, seq_col: str | None = None,
              label_cols: list[str] | None = None, group_col: str | None = None) -> TaskData:
    """Read ``data`` (file, directory, hub id or suite alias) into labelled splits."""
    path = Path(str(data)).expanduser()
    meta = {}
    if path.is_file():
        rows = _read_any(path)
        if "split" in rows:
            keys = [SPLIT_NAMES.get(str(s).lower()) for s in rows["split"]]
            if None in keys:
                raise GenerInputError(f"unknown split {rows['split'][keys.index(None)]!r} (train/validation/test)", path=path)
            raw = {k: {c: [v for v, s in zip(col, keys) if s == k] for c, col in rows.items()} for k in dict.fromkeys(keys)}
        else:
            raw = {"train": rows}
        name = path.stem
    elif path.is_dir():
        files, by_column = _split_files(path, subset)
        raw = {split: _concat([_read_any(p) for p in paths]) for split, paths in files.items()}
        if by_column:
            raw = _only_task(raw, subset, path.name)
        meta_file = (path / subset if subset else path) / "task.json"
        meta = json.loads(meta_file.read_text()) if meta_file.is_file() else {}
        name = meta.get("name") or (f"{path.name}:{subset}" if subset else path.name)
    elif _HUB_ID.match(str(data)) or str(data).partition(":")[0] in SUITES:
        repo, subset = _expand_alias(str(data), subset)
        raw = _load_hub(repo, subset)
        name = repo + (f":{subset}" if subset else "")
    else:
        raise GenerInputError(f"{data}: no such file or directory, and not a hub dataset id (OWNER/NAME)")
    if "train" not in raw:
        raise GenerInputError(f"{name}: no train split (found {', '.join(raw) or 'none'})")

    first = raw["train"]
    seq_col = _pick(first, seq_col or meta.get("seq_col"), SEQ_COLUMNS, "seq", name)
    label_cols = list(label_cols or meta.get("label_cols") or [_pick(first, None, LABEL_COLUMNS, "label", name)])
    for c in label_cols:
        _pick(first, c, (), "label", name)
    for split, rows in raw.items():
        if not rows[seq_col]:
            raise GenerInputError(f"{name}: the {split} split has no rows")
        for c in label_cols:
            if c not in rows:
                raise GenerInputError(f"{name}: the {split} split has no label column {c!r}")
    task = task or meta.get("task") or ("regression" if len(label_cols) > 1 and all(
        _is_number(v) and not float(v).is_integer() for v in first[label_cols[0]][:50]) else
        "multilabel" if len(label_cols) > 1 else _infer_task(first[label_cols[0]]))
    if task not in TASKS:
        raise GenerInputError(f"unknown task {task!r}; choose one of {', '.join(TASKS)}")
    if task == "classification" and len(label_cols) > 1:
        raise GenerInputError("classification takes one label column")
    empty = (None,) if task == "multilabel" else (None, "")  # "" is an empty label set there
    for split, rows in raw.items():
        for c in label_cols:
            missing = next((i for i, v in enumerate(rows[c]) if v is None or v in empty), None)
            if missing is not None:
                raise GenerInputError(f"{name}: {split} row {missing + 1} has no {c!r}")
    if group_col and group_col != "none" and group_col not in first:
        raise GenerInputError(f"{name}: no group column {group_col!r}; columns: {', '.join(first)}")
    if group_col == "none":  # folds ignore groups
        group_col = None
    else:
        group_col = group_col or meta.get("group_col") or ("group" if "group" in first else None)
    names = meta.get("label_names") or _label_names(task, raw, label_cols)
    if task == "classification" and len(names) < 2:
        raise GenerInputError(f"{name}: every label is {names[0]!r}: a classifier needs at least two classes "
                              f"(wrong --label-col?)" if names else f"{name}: no labels")

    splits = {}
    for split in ("train", "validation", "test"):
        rows = raw.get(split)
        if not rows:
            continue
        seqs = []
        for i, s in enumerate(rows[seq_col]):
            if not s:
                raise GenerInputError(f"{split} row {i + 1}: empty sequence", path=name)
            seqs.append(normalize(s, name=f"{name} {split} row {i + 1}"))
        try:
            labels = _labels(task, rows, label_cols, names)
        except (KeyError, ValueError, TypeError) as exc:
            raise GenerInputError(f"{split}: a label does not fit the {task} task ({exc})", path=name) from None
        groups = np.asarray([str(g) for g in rows[group_col]]) if group_col and group_col in rows else None
        splits[split] = LabelledSet(seqs, labels, groups)
    return TaskData(name=name, task=task, label_names=[str(n) for n in names], splits=splits)


def save_task(data: TaskData, out: Path, *, extra: dict | None = None) -> list[Path]:
    """Write ``DIR/{train,validation,test}.parquet`` + ``task.json`` (what load_task reads back)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from gener.io import atomic_write

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for split, part in data.splits.items():
        cols = {"sequence": pa.array(part.sequences, pa.large_string())}
        if data.task == "classification":
            cols["label"] = pa.array([data.label_names[i] for i in part.labels])
        else:
            cols["label"] = pa.array(part.labels.tolist())
        if part.groups is not None:
            cols["group"] = pa.array(part.groups.tolist())
        target = out / f"{split}.parquet"
        with atomic_write(target, "wb") as fh:
            pq.write_table(pa.table(cols), fh, compression="zstd")
        written.append(target)
    meta = {"name": data.name, "task": data.task, "label_names": data.label_names,
            "sizes": {k: len(v) for k, v in data.splits.items()}, **(extra or {})}
    with atomic_write(out / "task.json") as fh:
        fh.write(json.dumps(meta, indent=1) + "\n")
    written.append(out / "task.json")
    return written
