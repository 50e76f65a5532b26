"""Model names resolve here, and only here: a local directory, an embedded name, a hub id.

A directory may be one gener saved, or a published checkpoint in the official layout: a
plain Llama ``config.json`` (GENERator) or a ``generanno`` one (GENERanno), weights as
safetensors (or ``pytorch_model.bin``), and upstream tokenizer files (``tokenizer.py``,
``tokenizer_config.json``, ``vocab.txt``). We never execute the upstream code
(``auto_map``): the architecture is a stock transformers class, and the tokenizer is rebuilt
from ``vocab.txt`` so the official token ids hold exactly.
"""

from __future__ import annotations

import json
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import torch

from gener import distributed
from gener.errors import GenerInputError
from gener.modeling import presets

ASSETS = Path(__file__).resolve().parent.parent / "assets"

# Published checkpoints users will type, with their family.
HUB_IDS: dict[str, str] = {
    "GenerTeam/GENERator-eukaryote-1.2b-base": "generator",
    "GenerTeam/GENERator-eukaryote-3b-base": "generator",
    "GenerTeam/GENERator-v2-eukaryote-1.2b-base": "generator",
    "GenerTeam/GENERator-v2-eukaryote-3b-base": "generator",
    "GenerTeam/GENERator-v2-prokaryote-1.2b-base": "generator",
    "GenerTeam/GENERator-v2-prokaryote-3b-base": "generator",
    "GenerTeam/GENERanno-prokaryote-0.5b-base": "generanno",
    "GenerTeam/GENERanno-eukaryote-0.5b-base": "generanno",
    "GenerTeam/GENERanno-prokaryote-0.5b-cds-annotator": "generanno",
}

# Files worth downloading from a hub repo (never the upstream *.py code).
_HUB_PATTERNS = ["*.json", "*.safetensors", "vocab.txt", "pytorch_model*.bin"]


@dataclass(frozen=True)
class EmbeddedModel:
    name: str
    task: str
    description: str

    @property
    def directory(self) -> Path:
        return ASSETS / self.name

    def available(self) -> bool:
        return (self.directory / "config.json").is_file()


EMBEDDED_MODELS: dict[str, EmbeddedModel] = {
    m.name: m
    for m in (
        EmbeddedModel("gener-annotator-tiny", "CDS annotation", "tiny GENERanno fine-tuned on prokaryotic genomes"),
        EmbeddedModel("gener-generator-tiny", "generation", "tiny GENERator trained on eukaryotic gene regions"),
    )
}

_TASK_BY_ARCH_SUFFIX = {
    "ForCausalLM": "causal-lm",
    "ForMaskedLM": "masked-lm",
    "ForSequenceClassification": "sequence-classification",
    "ForTokenClassification": "token-classification",
    "Model": "base",
}


def check_device(value, label: str = "--device") -> torch.device:
    """A torch device name this machine has, as a device; anything else is one error naming
    ``label`` (checked before any model loads)."""
    try:
        device = torch.device(value)
    except (RuntimeError, TypeError):
        raise GenerInputError(f"{label} {value!r}: not a torch device (examples: cpu, cuda, cuda:1, mps)") from None
    if device.type == "cuda" and not torch.cuda.is_available():
        raise GenerInputError(f"{label} {value!r}: this torch has no usable CUDA GPU")
    if device.type == "cuda" and device.index is not None and device.index >= torch.cuda.device_count():
        raise GenerInputError(f"{label} {value!r}: there are {torch.cuda.device_count()} CUDA device(s)")
    if device.type == "mps" and not torch.backends.mps.is_available():
        raise GenerInputError(f"{label} {value!r}: MPS is not available here")
    return device


def load(name_or_path, *, task: str | None = None, device=None, dtype=None):
    """Return ``(model, tokenizer)``, the model in eval mode on ``device``.

    ``name_or_path``: a checkpoint directory, an embedded model name (``gener models``
    lists them) or a hub id such as ``GenerTeam/GENERator-eukaryote-1.2b-base`` (downloaded
    when online). ``task`` picks the head when the checkpoint has several uses (for example
    ``"base"`` for embeddings); by default the checkpoint's own architecture decides.
    """
    directory = resolve(name_or_path)
    return load_directory(directory, task=task, device=device, dtype=dtype)


def resolve(name_or_path) -> Path:
    """The local directory that holds ``name_or_path``."""
    name = str(name_or_path)
    path = Path(name).expanduser()
    if path.is_dir():
        if not (path / "config.json").is_file():
            raise GenerInputError(f"{path} is a directory but has no config.json; is it a model checkpoint?")
        return path
    if name in EMBEDDED_MODELS:
        model = EMBEDDED_MODELS[name]
        if not model.available():
            raise GenerInputError(
                f"embedded model {name!r} is not built yet in this installation ({model.directory} is missing); "
                "pass a checkpoint directory or a hub id instead (gener models lists them)"
            )
        return model.directory
    if name.count("/") == 1 and not path.exists() and not name.startswith((".", "/", "~")):
        return _download(name)
    choices = ", ".join(list(EMBEDDED_MODELS) + ["a checkpoint directory", "a hub id like " + next(iter(HUB_IDS))])
    raise GenerInputError(f"cannot find model {name!r}: not a directory; use one of {choices}")


def _download(repo_id: str) -> Path:
    from huggingface_hub import constants, snapshot_download
    from huggingface_hub.errors import LocalEntryNotFoundError

    try:
        return Path(snapshot_download(repo_id, allow_patterns=_HUB_PATTERNS))
    except LocalEntryNotFoundError:
        # Raised when offline (HF_HUB_OFFLINE=1 or no connection) and nothing is cached.
        why = "HF_HUB_OFFLINE is set" if constants.HF_HUB_OFFLINE else "the hub cannot be reached"
        raise GenerInputError(
            f"cannot download {repo_id!r}: {why} and it is not in the local cache. "
            "Download the checkpoint directory on a connected machine and pass its path instead."
        ) from None
    except Exception as exc:  # repository not found, gated, HTTP errors
        raise GenerInputError(f"cannot download {repo_id!r}: {type(exc).__name__}: {exc}") from None


def read_config(directory: Path) -> dict:
    config = _read_json(directory / "config.json", "the model config")
    if config is None:
        raise GenerInputError("no config.json: not a model checkpoint", path=directory)
    return config


def _read_json(path: Path, what: str) -> dict | None:
    """A JSON object from ``path`` (None when there is no such file); anything else is one
    error naming the file."""
    try:
        value = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise GenerInputError(f"cannot read {what}: {exc}", path=path) from None
    if not isinstance(value, dict):
        raise GenerInputError(f"{what} must be a JSON object, not a {type(value).__name__}", path=path)
    return value


# config.json model_type -> gener family: GENERator is a plain Llama.
FAMILY_BY_MODEL_TYPE = {"llama": "generator", "generanno": "generanno"}


def family_of(config: dict, directory: Path) -> str:
    model_type = config.get("model_type")
    if model_type in FAMILY_BY_MODEL_TYPE:
        return FAMILY_BY_MODEL_TYPE[model_type]
    raise GenerInputError(
        f"model_type {model_type!r} is neither a GENERator (llama) nor a GENERanno checkpoint",
        path=directory / "config.json",
    )


def task_of(config: dict, family: str) -> str:
    for arch in config.get("architectures") or []:
        for suffix, task in _TASK_BY_ARCH_SUFFIX.items():
            if arch.endswith(suffix):
                return task
    return presets.DEFAULT_TASK[family]


def load_directory(directory: Path, *, task=None, device=None, dtype=None):
    directory = Path(directory)
    raw = read_config(directory)
    family = family_of(raw, directory)
    task = task or task_of(raw, family)
    cls = presets.model_class(family, task)
    device = distributed.device(device)  # under torchrun, "cuda" is this rank's own GPU
    dtype = dtype or _default_dtype(device)

    from huggingface_hub.errors import StrictDataclassError

    try:
        config = cls.config_class.from_pretrained(directory)
    except (ValueError, TypeError, OSError, StrictDataclassError) as exc:  # a field of the wrong type, a bad value
        reason = " ".join(str(exc).split())
        raise GenerInputError(f"invalid model config: {reason}", path=directory / "config.json") from None
    if hasattr(config, "auto_map"):
        del config.auto_map  # the upstream code is never run, and must not be saved back
    if task == "token-classification":
        from safetensors import SafetensorError

        try:
            config.k = _head_k(directory, config)
        except SafetensorError as exc:
            raise GenerInputError(f"unreadable weights (truncated or not safetensors: {exc})", path=directory) from None
    model = _load_weights(cls, directory, config, dtype, task)
    model.to(device).eval()

    tokenizer = load_tokenizer(directory, family)
    tokenizer.model_max_length = config.max_position_embeddings
    return model, tokenizer


# Module names of the heads: a checkpoint without them still has a usable body (the head is
# then freshly initialised, as when fine-tuning starts); anything else missing is an error.
_HEADS = ("lm_head.", "score.", "classifier.")


def _load_weights(cls, directory: Path, config, dtype, task: str):
    """``cls.from_pretrained`` with every failure one error naming the directory: no or
    unreadable weights, weights that do not fit config.json. transformers' own load report
    (a table on stderr) is silenced; what matters is said here."""
    from safetensors import SafetensorError

    try:
        with without_load_report():
            model, info = cls.from_pretrained(directory, config=config, dtype=dtype, output_loading_info=True)
    except SafetensorError as exc:
        raise GenerInputError(f"unreadable weights (truncated or not safetensors: {exc})", path=directory) from None
    except OSError as exc:
        first = str(exc).splitlines()[0]
        raise GenerInputError(f"no readable model weights ({first})", path=directory) from None
    except RuntimeError as exc:
        if "mismatch" not in str(exc):
            raise
        raise GenerInputError("config.json does not match the weights: tensor shapes differ (a config from "
                              "another model?)", path=directory) from None
    missing = [k for k in info.get("missing_keys", []) if not k.startswith(_HEADS)]
    if missing:
        raise GenerInputError(f"config.json does not match the weights: {len(missing)} tensor(s) it needs are not "
                              f"in the checkpoint (e.g. {sorted(missing)[0]})", path=directory)
    return model


@contextmanager
def without_load_report():
    """transformers' warnings silenced for a ``from_pretrained`` whose load report (a table of
    missing / unexpected weights on stderr) says only what the caller intends: new heads,
    dropped layers. Loading bars stay as gener.progress set them (``-v``)."""
    from transformers.utils import logging as hf_logging

    level = hf_logging.get_verbosity()
    hf_logging.set_verbosity_error()
    try:
        yield
    finally:
        hf_logging.set_verbosity(level)


def load_tokenizer(directory: Path, family: str):
    from gener.tokenization import KmerTokenizer, NucleotideTokenizer

    cls = KmerTokenizer if family == "generator" else NucleotideTokenizer
    settings = _read_json(directory / "tokenizer_config.json", "the tokenizer config") or {}
    if settings.get("tokenizer_class") == cls.__name__:
        try:
            return cls.from_pretrained(directory)
        except (OSError, ValueError, KeyError) as exc:
            raise GenerInputError(f"cannot load the tokenizer: {str(exc).splitlines()[0]}", path=directory) from None
    # Official layout (or no tokenizer files at all): rebuild from vocab.txt, never run tokenizer.py.
    vocab = directory / "vocab.txt"
    return cls.from_upstream(vocab if vocab.is_file() else None, settings)


def _head_k(directory: Path, config) -> int:
    """Nucleotides per token of a token-classification head, read off the weight shape.

    Upstream code defaults ``k`` to 6 when the config omits it, so the config alone is not
    trustworthy for published annotators; the row count of the head's output layer is. Which
    tensor that is depends on the head layout: one head or a list of them (``score.`` /
    ``score.0.``), a linear head or an MLP whose output layer is its fourth module (``3.``)
    — the MLP's first layer is hidden x hidden and says nothing about ``k``.
    """
    from safetensors import safe_open

    prefix = "score.0." if config.num_prediction_heads > 1 else "score."
    key = prefix + ("3.weight" if config.use_mlp_classifier else "weight")
    for file in sorted(directory.glob("*.safetensors")):
        with safe_open(str(file), framework="pt") as handle:
            if key in handle.keys():
                rows = handle.get_slice(key).get_shape()[0]
                return max(1, rows // config.num_labels)
    return getattr(config, "k", 1)


def _default_dtype(device: torch.device) -> torch.dtype:
    # fp32 on CPU: measured faster than bf16 on CPUs without bf16 units.
    if device.type == "cuda" and torch.cuda.is_bf16_supported():
        return torch.bfloat16
    return torch.float32

