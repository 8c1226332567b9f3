"""Trainer: build from config, compile, fit with checkpoints, logs and resume."""

from portrait_garden.train.trainer import (
    BEST_MODEL,
    LAST_MODEL,
    PRUNED_MODEL,
    RunExistsError,
    apply_optimization,
    checkpoint_names,
    compile_segmenter,
    learning_rate_schedule,
    train,
)

__all__ = [
    "BEST_MODEL",
    "LAST_MODEL",
    "PRUNED_MODEL",
    "RunExistsError",
    "apply_optimization",
    "checkpoint_names",
    "compile_segmenter",
    "learning_rate_schedule",
    "train",
]
