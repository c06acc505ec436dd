"""The motion model's config: its ``model`` section (:class:`MotionModelConfig`),
the data it is trained on (:class:`MotionDataConfig`) and the training run
(:class:`MotionTrainConfig`), read from YAML as strictly as the other
models' configs (an unknown key is an error naming its path). No TensorFlow."""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path

from handsdk.motion import DEFAULT_FRAMES, DEFAULT_RATE_HZ, MOTION_LABELS, MOTION_POINTS


@dataclass
class MotionModelConfig:
    """A 1-D convolutional net over the resampled keypoint history
    (:func:`handsdk.motion.motion_features`): ``frames`` steps at ``rate_hz``."""

    labels: list[str] = field(default_factory=lambda: list(MOTION_LABELS))
    label_set: str = "motion"
    none_label: str = "none"
    frames: int = DEFAULT_FRAMES
    rate_hz: float = DEFAULT_RATE_HZ
    points: list[int] = field(default_factory=lambda: list(MOTION_POINTS))
    filters: list[int] = field(default_factory=lambda: [32, 48, 64])
    kernel: int = 5
    hidden: int = 64
    dropout: float = 0.3
    noise: float = 0.02  # Gaussian feature noise at training (hand sizes)
    #: the set's gate (manifest decoding.min_score): below it the runtime reports none
    min_score: float = 0.8


@dataclass
class MotionDataConfig:
    """takes_per_class: synthetic takes of each gesture (each gives several
    windows); none_takes: takes without a gesture; generators: the path
    generators (``handsdk.train.synth.motion.GENERATORS``); real_hands: share
    of the gesture takes (of the classes with real hand shapes) and of the
    none takes whose hand is a real static hand of the keypoint CSVs;
    point_history: the real fingertip trajectories (Kazuhito00 / kinivi);
    root: the shared data folder (default $HANDSDK_DATA or ../shared/data)."""

    takes_per_class: int = 900
    none_takes: int = 4000
    generators: list[str] = field(default_factory=lambda: ["param", "spline", "lognormal"])
    real_hands: float = 0.3
    point_history: bool = True
    point_history_repeats: int = 6
    windows_pos: int = 3
    windows_neg: int = 2
    #: minutes of each (not held-out) keypoint CSV played as a stream without a gesture
    static_minutes: float = 0.5
    #: keypoint CSV authors never trained on: their streams score the false events
    heldout_authors: list[str] = field(default_factory=lambda: ["kinivi", "zoo_NongPO", "zoo_gabesf",
                                                                 "zoo_thomasbridgemanatu", "zoo_vincentvilo"])
    #: takes filmed with real hand photos (``pipeline_sets``) and read by the SDK's own
    #: detector and landmarker (the bundle ``pipeline``), so that the set learns the
    #: keypoints it will be fed (:func:`handsdk.train.synth.photos.pipeline_take`):
    #: per gesture class, and without a gesture
    pipeline: str | None = None
    pipeline_takes_per_class: int = 0
    pipeline_none_takes: int = 0
    pipeline_sets: list[str] = field(default_factory=lambda: ["asl_letters/train"])
    root: str | None = None
    seed: int = 0


@dataclass
class MotionTrainSection:
    epochs: int = 24
    batch_size: int = 256
    learning_rate: float = 3e-3
    label_smoothing: float = 0.05
    seed: int = 0
    threads: int | None = 2
    time_budget_s: float = 240.0
    val_fraction: float = 0.1
    #: the held-out folds to run before the final model (each trains a model): generator:<g>,
    #: source:point_history, source:real_hands
    folds: list[str] = field(default_factory=lambda: ["generator:param", "generator:spline", "generator:lognormal",
                                                      "source:point_history", "source:real_hands"])
    fold_epochs: int = 12
    quantization: list[str] = field(default_factory=lambda: ["int8", "fp16", "fp32"])
    #: int8 ships when its predictions agree with Keras on this share of the validation windows
    #: and its macro-F1 is within int8_max_drop of Keras's
    int8_min_agreement: float = 0.98
    int8_max_drop: float = 0.01


@dataclass
class MotionConfig:
    task: str = "motion"
    name: str = "motion"
    out: str = "runs/motion"
    model: MotionModelConfig = field(default_factory=MotionModelConfig)
    data: MotionDataConfig = field(default_factory=MotionDataConfig)
    train: MotionTrainSection = field(default_factory=MotionTrainSection)

    def to_dict(self) -> dict:
        return asdict(self)


def validate(m: MotionModelConfig) -> None:
    from handsdk.train.config import ConfigError

    if m.none_label not in m.labels:
        raise ConfigError(f"model.none_label {m.none_label!r} is not one of model.labels")
    if m.frames < 8 or m.frames % 4:
        raise ConfigError("model.frames must be a multiple of 4, at least 8")
    if not 5 <= m.rate_hz <= 60:
        raise ConfigError("model.rate_hz must be 5-60")
    if len(m.filters) != 3:
        raise ConfigError("model.filters: three conv widths")


def load_motion_config(path=None, overrides: dict | None = None, *, from_dict: dict | None = None) -> MotionConfig:
    """A :class:`MotionConfig` from YAML (``path``, its ``base:`` chain resolved as
    :func:`handsdk.train.config.read_config` does; None: the defaults) or from
    ``from_dict`` (a config a run recorded, ``MotionConfig.to_dict()``), with
    ``overrides`` (dotted keys) applied."""
    import copy

    from handsdk.train.config import ConfigError, _from_dict, apply_overrides, read_config

    d: dict = copy.deepcopy(from_dict) if from_dict is not None else {}
    if path is not None:
        d = read_config(path)
        d.setdefault("name", Path(path).stem)
    apply_overrides(d, overrides)
    if d.get("task", "motion") != "motion":
        raise ConfigError(f"{path}: a {d.get('task')!r} config, not a motion config")
    cfg = _from_dict(MotionConfig, d, "")
    validate(cfg.model)
    return cfg
