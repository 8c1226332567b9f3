"""Frozen dataclass schema and strict YAML loading of recipes."""

from portrait_garden.configs.loader import (
    ConfigError,
    config_to_dict,
    load_config,
    parse_override,
    save_config,
)
from portrait_garden.configs.schema import (
    DataConfig,
    DatasetConfig,
    DistillConfig,
    ExperimentConfig,
    LossConfig,
    ModelConfig,
    OptimizeConfig,
    ServingConfig,
    TrainConfig,
)

__all__ = [
    "ConfigError",
    "DataConfig",
    "DatasetConfig",
    "DistillConfig",
    "ExperimentConfig",
    "LossConfig",
    "ModelConfig",
    "OptimizeConfig",
    "ServingConfig",
    "TrainConfig",
    "config_to_dict",
    "load_config",
    "parse_override",
    "save_config",
]
