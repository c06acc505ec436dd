"""Training configuration: dataclasses + strict YAML loading.

A config file names the task (``detector``, ``pose`` or ``gesture``) and has
the sections ``model``, ``data`` and ``train``. Unknown keys anywhere are
rejected with the full key path and the list of known keys, so a typo cannot
silently fall back to a default. No TensorFlow here.
"""
from __future__ import annotations

import dataclasses
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from handsdk.decode import DetectorDecoding

TASKS = ("detector", "pose", "gesture")
DISTRIBUTE = ("default", "mirrored", "multi_worker")


class ConfigError(ValueError):
    """A config file that cannot be used (unknown key, wrong type, bad value)."""


@dataclass
class SourceConfig:
    """One data source mixed into a split.

    name: ``toy`` (tiny generated hands, for tests), ``synth`` (the synthetic
    renderer), ``real:<set>[/<split>]`` (a shared real set, e.g.
    ``real:asl_letters/train``), ``csv:<folder>`` for gesture keypoint CSVs.
    weight: relative sampling weight in the mix. options: passed to the
    reader/renderer (e.g. ``gesture_set``, ``authors``, ``exclude_authors``,
    ``labels`` for keypoint sources, ``keypoint_source`` for pseudo-labels).
    """

    name: str = "toy"
    weight: float = 1.0
    limit: int | None = None
    options: dict = field(default_factory=dict)


@dataclass
class DataConfig:
    train: list[SourceConfig] = field(default_factory=lambda: [SourceConfig()])
    val: list[SourceConfig] = field(default_factory=lambda: [SourceConfig(options={"seed": 1})])
    root: str | None = None  # the shared data folder; default $HANDSDK_DATA or ../shared/data
    #: examples drawn into the in-memory pool per split (generated sources are sampled this often)
    num_train: int = 256
    num_val: int = 64
    negatives: float = 0.1  # fraction of hand-free examples (detector frames / pose crops)
    augment: bool = True
    seed: int = 0
    #: a .handsdk bundle whose detector + landmarker make the keypoints of ``pipeline:`` sources
    pipeline: str | None = None
    #: detector frames: this share of the training frames is zoomed by a factor in ``zoom``
    #: (log-uniform; < 1 shrinks the hands, as a person at arm's length)
    zoom: list[float] | None = None
    zoom_prob: float = 0.0
    #: hands per detector frame kept as targets
    max_hands: int = 2
    #: pose: a mined hard-negative file (``python -m handsdk.train.data.mining``): crops where a
    #: detector fired on no hand train the presence score to say "no hand"
    hard_negatives: str | None = None
    #: the same for the validation pool (presence ROC AUC on hands vs. mined non-hands)
    val_hard_negatives: str | None = None


@dataclass
class DetectorModelConfig:
    input_height: int = 128
    input_width: int = 128
    filters: list[int] = field(default_factory=lambda: [8, 16, 32, 64])
    stem_stride: int = 2  # 2: the U-Net runs at half resolution, output upsampled back
    skeleton_thickness: float = 0.02  # render_skeleton thickness of the targets
    l1_weight: float = 0.4
    dice_weight: float = 0.6
    # decoding hints (written into the metadata / manifest); defaults: handsdk.decode.DetectorDecoding
    threshold: float = DetectorDecoding.threshold
    min_mass: float = DetectorDecoding.min_mass
    min_size_frac: float = DetectorDecoding.min_size_frac
    pad: float = DetectorDecoding.pad


@dataclass
class PoseModelConfig:
    input_size: int = 64
    filters: list[int] = field(default_factory=lambda: [16, 32, 48, 64])
    use_skeleton: bool = True
    #: heatmap output strides supervised (e.g. [8, 4, 2] -> S/8, S/4, S/2) with their weights
    scales: list[int] = field(default_factory=lambda: [8, 4, 2])
    scale_weights: list[float] = field(default_factory=lambda: [0.25, 0.5, 1.0])
    output_stride: int = 2  # resolution of the exported averaged heatmaps (S / output_stride)
    attention: bool = False  # self-attention bottleneck (seed 004); not QAT-quantisable
    attention_heads: int = 2
    keypoints_output: bool = False  # add soft-argmax ``keypoints`` to the inference model
    sigma: float = 1.75  # Gaussian target sigma in pixels at the finest supervised scale
    heatmap_weight: float = 1.0
    coord_weight: float = 0.0  # integral (soft-argmax) L1 loss weight, normalised coordinates
    presence_weight: float = 0.5
    handedness_weight: float = 0.3
    crop_scale: float = 1.4
    skeleton_thickness: float = 0.02
    # skeleton input noise at training (seed 000: the GT skeleton, noisy)
    skeleton_jitter: float = 0.03  # keypoint jitter, fraction of the crop size
    skeleton_dropout: float = 0.15  # probability of dropping each bone
    skeleton_blank: float = 0.1  # probability of an all-zero skeleton input
    box_jitter: float = 0.1  # crop centre jitter, fraction of the box side
    scale_jitter: float = 0.15  # crop size jitter (log-uniform +-)
    rotation: float = 20.0  # crop rotation range (degrees, +-)
    #: upright crops (MediaPipe-style): the crop is rotated so the wrist -> knuckles
    #: direction points up (from the previous frame's keypoints at runtime, or a first
    #: axis-aligned pass on detection frames); ``align_prob`` of the training crops are
    #: aligned (+- ``align_jitter`` degrees), the rest use ``rotation`` (so the first pass works)
    align: bool = False
    align_prob: float = 0.7
    align_jitter: float = 15.0
    #: fraction of the hand-free crops taken right beside a hand (forearm, sleeve,
    #: background next to it): hard negatives that teach the presence score to
    #: reject a detector's false box on an arm
    near_negatives: float = 0.0
    #: share of training crops squeezed along x or y by a factor in [1 - aspect_jitter, 1]
    #: (frames stretched to another aspect ratio, e.g. 16:9 video stored square)
    aspect_jitter: float = 0.0
    aspect_prob: float = 0.3


@dataclass
class GestureModelConfig:
    labels: list[str] = field(default_factory=list)  # class names; empty: taken from the data
    label_set: str = "commands"
    kind: str = "commands"  # "commands" or "fingerspelling" (decoding hint)
    none_label: str | None = "none"
    filters: int = 32
    kernel: int = 7
    hidden: int = 128
    dropout: float = 0.5
    noise: float = 0.02  # Gaussian feature noise at training
    mirror: bool = False  # randomly mirror features (for data of unknown handedness)


@dataclass
class TrainSection:
    epochs: int = 10
    steps_per_epoch: int | None = None  # None: one pass over the pool
    batch_size: int = 16
    learning_rate: float = 1e-3
    lr_schedule: str = "cosine"  # constant | cosine | step
    lr_decay_epochs: int = 8  # for "step": x0.9 every this many epochs (seed 000)
    weight_decay: float = 0.0
    val_every: int = 1
    monitor: str | None = None  # metric that picks the best model (default per task)
    distribute: str = "default"
    seed: int = 0
    verbose: int = 1  # Keras progress: 0 silent, 1 bar, 2 one line per epoch
    threads: int | None = None  # TF intra-op threads (None: TF default)
    time_limit_min: float | None = None  # stop after this many minutes (at an epoch end)
    #: start from trained weights: a run folder (its best.keras) or a .keras file; layers are
    #: matched by name and shape, so a changed head (e.g. other gesture classes) starts fresh
    init_from: str | None = None


@dataclass
class Config:
    task: str = "detector"
    name: str = ""
    out: str = "runs/default"
    model: Any = None
    data: DataConfig = field(default_factory=DataConfig)
    train: TrainSection = field(default_factory=TrainSection)

    def __post_init__(self):
        if self.model is None:
            self.model = MODEL_CONFIGS[self.task]() if self.task in MODEL_CONFIGS else None

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


MODEL_CONFIGS = {"detector": DetectorModelConfig, "pose": PoseModelConfig, "gesture": GestureModelConfig}


# ------------------------------------------------------------------ parsing


def _type_name(tp) -> str:
    return getattr(tp, "__name__", str(tp))


def _convert(value, tp, where: str):
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if tp is Any:
        return value
    if origin is typing.Union or (origin is not None and str(origin) == "<class 'types.UnionType'>") \
            or type(tp).__name__ == "UnionType":
        if value is None and type(None) in args:
            return None
        errors = []
        for a in args:
            if a is type(None):
                continue
            try:
                return _convert(value, a, where)
            except ConfigError as e:
                errors.append(str(e))
        raise ConfigError(errors[0] if errors else f"{where}: bad value {value!r}")
    if dataclasses.is_dataclass(tp):
        return _from_dict(tp, value, where)
    if origin in (list, tuple):
        if not isinstance(value, (list, tuple)):
            raise ConfigError(f"{where}: expected a list, got {value!r}")
        (a,) = args[:1] or (Any,)
        return [_convert(v, a, f"{where}[{i}]") for i, v in enumerate(value)]
    if origin is dict or tp is dict:
        if not isinstance(value, dict):
            raise ConfigError(f"{where}: expected a mapping, got {value!r}")
        return dict(value)
    if tp is bool:
        if not isinstance(value, bool):
            raise ConfigError(f"{where}: expected true/false, got {value!r}")
        return value
    if tp is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(f"{where}: expected an integer, got {value!r}")
        return value
    if tp is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ConfigError(f"{where}: expected a number, got {value!r}")
        return float(value)
    if tp is str:
        if not isinstance(value, str):
            raise ConfigError(f"{where}: expected a string, got {value!r}")
        return value
    return value


def _from_dict(cls, d, where: str):
    if d is None:
        d = {}
    if not isinstance(d, dict):
        raise ConfigError(f"{where or 'config'}: expected a mapping, got {type(d).__name__}")
    hints = typing.get_type_hints(cls)
    known = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(d) - known)
    if unknown:
        path = ", ".join(f"{where}.{k}" if where else k for k in unknown)
        raise ConfigError(f"unknown config key(s): {path} (known keys{' of ' + where if where else ''}: "
                          f"{', '.join(sorted(known))})")
    kwargs = {}
    for k, v in d.items():
        kwargs[k] = _convert(v, hints[k], f"{where}.{k}" if where else k)
    return cls(**kwargs)


def config_from_dict(d: dict) -> Config:
    """Build and validate a :class:`Config` from a plain mapping."""
    if not isinstance(d, dict):
        raise ConfigError("the config must be a mapping at the top level")
    d = dict(d)
    task = d.get("task", "detector")
    if task not in TASKS:
        raise ConfigError(f"task must be one of {TASKS}, got {task!r}")
    model = d.pop("model", None)
    cfg = _from_dict(Config, d, "")
    cfg.model = _from_dict(MODEL_CONFIGS[task], model, "model")
    validate(cfg)
    return cfg


def validate(cfg: Config) -> None:
    t = cfg.train
    if t.distribute not in DISTRIBUTE:
        raise ConfigError(f"train.distribute must be one of {DISTRIBUTE}, got {t.distribute!r}")
    if t.lr_schedule not in ("constant", "cosine", "step"):
        raise ConfigError(f"train.lr_schedule must be constant, cosine or step, got {t.lr_schedule!r}")
    if t.epochs < 1 or t.batch_size < 1:
        raise ConfigError("train.epochs and train.batch_size must be >= 1")
    m = cfg.model
    if cfg.task == "detector":
        if m.input_height % 8 or m.input_width % 8:
            raise ConfigError("model.input_height and model.input_width must be multiples of 8")
        if m.stem_stride not in (1, 2):
            raise ConfigError("model.stem_stride must be 1 or 2")
        if m.input_height % (m.stem_stride * 2 ** (len(m.filters) - 1)) or \
                m.input_width % (m.stem_stride * 2 ** (len(m.filters) - 1)):
            raise ConfigError("the input size must be divisible by stem_stride * 2**(len(filters)-1)")
    if cfg.task == "pose":
        if len(m.scales) != len(m.scale_weights) or not m.scales:
            raise ConfigError("model.scales and model.scale_weights must have the same (non-zero) length")
        for s in m.scales:
            if s < 1 or s & (s - 1) or s > 2 ** (len(m.filters) - 1):
                raise ConfigError(f"model.scales: {s} must be a power of two <= 2**(len(filters)-1)")
        if m.output_stride not in m.scales:
            raise ConfigError("model.output_stride must be one of model.scales")
        if m.input_size % (2 ** (len(m.filters) - 1)):
            raise ConfigError("model.input_size must be divisible by 2**(len(filters)-1)")
    for split in ("train", "val"):
        for s in getattr(cfg.data, split):
            if s.weight < 0:
                raise ConfigError(f"data.{split}: source {s.name!r} has a negative weight")


def load_config(path, overrides: dict | None = None) -> Config:
    """Read a YAML config. ``overrides`` (dotted keys -> values) are applied
    before validation, e.g. ``{"train.epochs": 1}``."""
    import yaml

    p = Path(path)
    if not p.is_file():
        raise ConfigError(f"config file not found: {p}")
    with open(p, encoding="utf-8") as f:
        try:
            d = yaml.safe_load(f) or {}
        except yaml.YAMLError as e:
            raise ConfigError(f"{p}: not valid YAML ({e})") from e
    if not isinstance(d, dict):
        raise ConfigError(f"{p}: expected a mapping at the top level")
    for key, value in (overrides or {}).items():
        cur = d
        parts = key.split(".")
        for part in parts[:-1]:
            cur = cur.setdefault(part, {})
        cur[parts[-1]] = value
    if not d.get("name"):
        d["name"] = p.stem
    try:
        return config_from_dict(d)
    except ConfigError as e:
        raise ConfigError(f"{p}: {e}") from None


def data_root(cfg: Config | None = None) -> Path:
    """The shared real data folder: config, $HANDSDK_DATA, or ../shared/data
    (:func:`handsdk.paths.data_root`, unchecked: the readers say what is missing)."""
    from handsdk.paths import data_root as _data_root

    return _data_root(cfg.data.root if cfg is not None and cfg.data.root else None, must_exist=False)
