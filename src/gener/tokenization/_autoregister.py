"""Register the tokenizers with ``AutoTokenizer`` without making ``import gener`` import torch.

``AutoTokenizer`` lives in ``transformers.models.auto.tokenization_auto``, whose import pulls
in torch (~2-3 s). ``install()`` registers at once if that module is already loaded, and
otherwise right after it loads, through a one-shot import hook. Standard library only here.
"""

from __future__ import annotations

import importlib.abc
import importlib.util
import sys
import warnings

_TARGET = "transformers.models.auto.tokenization_auto"


def register(auto_tokenizer) -> None:
    """transformers 5 resolves a saved ``tokenizer_class`` by name among registered classes.

    The key must not be a transformers config: GENERator checkpoints use plain ``LlamaConfig``,
    whose own tokenizer mapping must stay untouched. So the tokenizer class itself is the key.
    """
    from gener.tokenization.kmer import KmerTokenizer
    from gener.tokenization.nucleotide import NucleotideTokenizer

    for cls in (KmerTokenizer, NucleotideTokenizer):
        auto_tokenizer.register(cls, tokenizer_class=cls, exist_ok=True)


class _RegisterAfterImport(importlib.abc.MetaPathFinder):
    def find_spec(self, fullname, path, target=None):
        if fullname != _TARGET:
            return None
        if self in sys.meta_path:
            sys.meta_path.remove(self)  # one shot, and no recursion into ourselves below
        spec = importlib.util.find_spec(fullname)
        if spec is None or spec.loader is None or not hasattr(spec.loader, "exec_module"):
            return spec
        exec_module = spec.loader.exec_module

        def exec_then_register(module):
            exec_module(module)
            try:
                register(module.AutoTokenizer)
            except Exception as exc:  # never break transformers itself
                warnings.warn(f"gener: could not register tokenizers with AutoTokenizer: {exc}", stacklevel=2)

        spec.loader.exec_module = exec_then_register
        return spec


def install() -> None:
    module = sys.modules.get(_TARGET)
    if module is not None and hasattr(module, "AutoTokenizer"):
        register(module.AutoTokenizer)
    elif not any(isinstance(f, _RegisterAfterImport) for f in sys.meta_path):
        sys.meta_path.insert(0, _RegisterAfterImport())
