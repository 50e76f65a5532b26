"""gener: a toolkit for the GENERator and GENERanno genomic foundation models."""

__version__ = "0.1.0"


def load(name_or_path, **kwargs):
    """Return ``(model, tokenizer)`` for a checkpoint directory, hub id or embedded name.

    See :func:`gener.modeling.loading.load` for the resolution order.
    """
    from gener.modeling.loading import load as _load

    return _load(name_or_path, **kwargs)


__all__ = ["__version__", "load"]
