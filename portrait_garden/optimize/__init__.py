"""QAT and pruning as model -> model functions (STYLE.md, convention 8)."""

from portrait_garden.optimize.pruning import (
    PrunableDepthwiseConv2D,
    is_prunable,
    prune_model,
    pruning_callbacks,
    sparsity,
    strip_pruning,
)
from portrait_garden.optimize.qat import (
    annotate_for_quantization,
    quantize_model,
    quantize_scope,
)

__all__ = [
    "PrunableDepthwiseConv2D",
    "annotate_for_quantization",
    "is_prunable",
    "prune_model",
    "pruning_callbacks",
    "quantize_model",
    "quantize_scope",
    "sparsity",
    "strip_pruning",
]
