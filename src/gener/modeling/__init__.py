"""Model presets, the GENERanno encoder and heads, and the one model loader."""

from gener.modeling.generanno import (
    GenerannoConfig,
    GenerannoForMaskedLM,
    GenerannoForSequenceClassification,
    GenerannoForTokenClassification,
    GenerannoModel,
)
from gener.modeling.loading import EMBEDDED_MODELS, HUB_IDS, load, resolve
from gener.modeling.presets import PRESETS, build_config, build_model, count_parameters

__all__ = [
    "EMBEDDED_MODELS",
    "GenerannoConfig",
    "GenerannoForMaskedLM",
    "GenerannoForSequenceClassification",
    "GenerannoForTokenClassification",
    "GenerannoModel",
    "HUB_IDS",
    "PRESETS",
    "build_config",
    "build_model",
    "count_parameters",
    "load",
    "resolve",
]
