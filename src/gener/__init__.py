"""gener: a toolkit for the GENERator and GENERanno genomic foundation models."""

__version__ = "0.1.0"

# Registers the tokenizers with AutoTokenizer once transformers loads it (cheap: no import
# of transformers or torch here), so AutoTokenizer.from_pretrained(saved_dir) works.
import gener.tokenization  # noqa: E402,F401


def load(name_or_path, **kwargs):
    """Return ``(model, tokenizer)`` for a checkpoint directory, hub id or embedded name.

    See :func:`gener.modeling.loading.load` for the resolution order.
    """
    from gener.modeling.loading import load as _load

    return _load(name_or_path, **kwargs)


__all__ = ["__version__", "load"]
