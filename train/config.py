"""Training configuration: dataclasses + strict YAML loading.

A config file names the task (``detector``, ``pose`` or ``gesture``) and has
the sections ``model``, ``data`` and ``train``. Unknown keys anywhere are
rejected with the full key path and the list of known keys, so a typo cannot
silently fall back to a default. No TensorFlow here.

A stage that changes a few things of another starts from it: ``base:
pose_scene.yaml`` (a path relative to the file; the base may have its own
``base``) takes that file's resolved mapping and deep-merges this one over it:
mappings merge key by key, lists and scalars replace, and a key set to null
replaces too (``init_from: null``: from random initialisation). ``name`` is not
inherited (it defaults to the file's own stem) and ``base`` itself is gone from
the resolved config (:func:`read_config`), so runs record what they trained on.
"""
from __future__ import annotations

import dataclasses
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from handsdk.train.models import registry as _models
# the ``model`` sections live with their models (handsdk.train.models.<name>.config)
from handsdk.train.models.detector.config import DetectorModelConfig  # noqa: F401
from handsdk.train.models.gesture.config import GestureModelConfig  # noqa: F401
from handsdk.train.models.pose.config import PoseModelConfig  # noqa: F401

TASKS = _models.BUILTIN
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
    #: pose: at most this many of a frame's mined boxes become crops (in file order:
    #: a comma-separated list of files is read in turn)
    hard_per_frame: int = 2
    #: the same for the validation pool (presence ROC AUC on hands vs. mined non-hands)
    val_hard_negatives: str | None = None
    #: pose: a .handsdk bundle whose detector makes the skeleton input of the crops, as at
    #: runtime (its map cropped with the crop's own matrix); the share of training crops
    #: that get it is ``model.detector_skeleton_prob``, validation crops always get it
    skeleton_bundle: str | None = None
    #: teacher keypoints (``python -m handsdk.train.data.teacher``: MediaPipe's landmark
    #: model on the human boxes that no pseudo-label covers) added to the training
    #: samples' hands, for any task (comma-separated files)
    teacher: str | None = None


@dataclass
class TrainSection:
    epochs: int = 10
    steps_per_epoch: int | None = None  # None: one pass over the pool
    batch_size: int = 16
    learning_rate: float = 1e-3
    lr_schedule: str = "cosine"  # constant | cosine | step
    lr_decay_epochs: int = 8  # for "step": x0.9 every this many epochs (Kourbane & Genc)
    weight_decay: float = 0.0
    val_every: int = 1
    monitor: str | None = None  # metric that picks the best model (default per task)
    #: pick the best model on the monitor's mean over this many validated epochs (the
    #: epoch that ends the best stretch), not on one epoch's value: on a small
    #: validation set one epoch's spike is mostly noise
    select_window: int = 1
    distribute: str = "default"
    seed: int = 0
    verbose: int = 1  # Keras progress: 0 silent, 1 bar, 2 one line per epoch
    threads: int | None = None  # TF intra-op threads (None: TF default)
    time_limit_min: float | None = None  # stop after this many minutes (at an epoch end)
    #: start from trained weights: a run folder (its best.keras) or a .keras file; layers are
    #: matched by name and shape, so a changed head (e.g. other gesture classes) starts fresh
    init_from: str | None = None
    #: train only the layers whose names start with one of these (e.g. ``[presence_fc,
    #: presence]`` recalibrates a landmarker's presence and leaves its keypoints as they
    #: are); None trains every layer
    trainable: list[str] | None = None


@dataclass
class Config:
    task: str = "detector"
    name: str = ""
    out: str = "runs/default"
    model: Any = None
    data: DataConfig = field(default_factory=DataConfig)
    train: TrainSection = field(default_factory=TrainSection)
    #: a schedule in one config (:func:`stage_configs`): the stages that follow the one this
    #: config's own sections describe, in order. Each is a mapping with a ``name`` and the
    #: sections it changes (``model``, ``data``, ``train``), deep-merged over the stage
    #: before it as ``base:`` merges; it starts from the weights the stage before selected
    #: (so it may not set ``train.init_from``) and runs in ``<out>/stages/<k>_<name>``, the
    #: last stage in ``out`` itself
    stages: list[dict] = field(default_factory=list)

    def __post_init__(self):
        if self.model is None:
            self.model = MODEL_CONFIGS[self.task]() if self.task in MODEL_CONFIGS else None

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


#: the ``model`` section of each task (from the models' registry)
MODEL_CONFIGS = {name: _models.get(name).config for name in TASKS}


# ------------------------------------------------------------------ parsing


def _type_name(tp) -> str:
    return getattr(tp, "__name__", str(tp))


#: the scalar types of the sections: what a value must be (bool is no number), and how to say so
_SCALARS = {bool: (lambda v: isinstance(v, bool), "true/false"),
            int: (lambda v: isinstance(v, int) and not isinstance(v, bool), "an integer"),
            float: (lambda v: isinstance(v, (int, float)) and not isinstance(v, bool), "a number"),
            str: (lambda v: isinstance(v, str), "a string")}


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
    if tp in _SCALARS:
        accepts, what = _SCALARS[tp]
        if not accepts(value):
            raise ConfigError(f"{where}: expected {what}, got {value!r}")
        return float(value) if tp is float else value
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
    if cfg.stages:
        stage_configs(cfg)  # every stage is a valid config
    return cfg


#: what a stage may change (the task, the output folder and the schedule are the config's)
STAGE_KEYS = ("name", "model", "data", "train")


def stage_configs(cfg: Config) -> list[tuple[str, Config]]:
    """The stages of ``cfg`` in order, as (name, config) pairs: the config's own sections
    first (named ``base``), then each of ``cfg.stages`` merged over the stage before it.
    A config without stages is one stage. A stage that cannot be used raises
    :class:`ConfigError` naming it."""
    import copy

    first_cfg = copy.deepcopy(cfg)
    first_cfg.stages = []
    out = [("base", first_cfg)]
    prev, seen = first_cfg.to_dict(), {"base"}
    for i, st in enumerate(cfg.stages):
        where = f"stages[{i}]"
        if not isinstance(st, dict):
            raise ConfigError(f"{where}: expected a mapping with a name and the sections it changes, got {st!r}")
        unknown = sorted(set(st) - set(STAGE_KEYS))
        if unknown:
            raise ConfigError(f"{where}: unknown key(s) {', '.join(unknown)} (a stage may set: "
                              f"{', '.join(STAGE_KEYS)}; the task, out and stages are the config's)")
        name = st.get("name")
        if not isinstance(name, str) or not name.replace("_", "").isalnum() or name in seen:
            raise ConfigError(f"{where}: name must be a unique word of letters, digits and _ "
                              f"(used in its folder name), got {name!r}")
        seen.add(name)
        if "init_from" in (st.get("train") or {}):
            raise ConfigError(f"{where} ({name}): train.init_from is set by the schedule (the stage before's "
                              f"selected weights); leave it out")
        merged = _merge(prev, {k: v for k, v in st.items() if k != "name"})
        merged["stages"] = []
        try:
            sc = config_from_dict(merged)
        except ConfigError as e:
            raise ConfigError(f"{where} ({name}): {e}") from None
        out.append((name, sc))
        prev = sc.to_dict()
    return out


def validate(cfg: Config) -> None:
    t = cfg.train
    if t.distribute not in DISTRIBUTE:
        raise ConfigError(f"train.distribute must be one of {DISTRIBUTE}, got {t.distribute!r}")
    if t.lr_schedule not in ("constant", "cosine", "step"):
        raise ConfigError(f"train.lr_schedule must be constant, cosine or step, got {t.lr_schedule!r}")
    if t.epochs < 1 or t.batch_size < 1:
        raise ConfigError("train.epochs and train.batch_size must be >= 1")
    if t.select_window < 1:
        raise ConfigError("train.select_window must be >= 1 (1: the best single epoch)")
    if t.trainable is not None and (not isinstance(t.trainable, (list, tuple)) or not t.trainable
                                    or any(not isinstance(p, str) or not p for p in t.trainable)):
        raise ConfigError("train.trainable: give a list of the name prefixes of the layers to train "
                          "(e.g. [presence_fc, presence]); leave it out to train every layer")
    d = cfg.data
    if not isinstance(d.hard_per_frame, int) or isinstance(d.hard_per_frame, bool) or d.hard_per_frame < 0:
        raise ConfigError(f"data.hard_per_frame must be an integer >= 0, got {d.hard_per_frame!r}")
    _models.get(cfg.task).validate(cfg.model)
    for split in ("train", "val"):
        for s in getattr(cfg.data, split):
            if s.weight < 0:
                raise ConfigError(f"data.{split}: source {s.name!r} has a negative weight")


def apply_overrides(d: dict, overrides: dict | None) -> dict:
    """Set ``overrides`` ({"a.b.c": value}, as ``--set a.b.c=value``) in the
    config mapping ``d``, making the sections on the way; returns ``d``."""
    for key, value in (overrides or {}).items():
        cur = d
        parts = key.split(".")
        for part in parts[:-1]:
            cur = cur.setdefault(part, {})
        cur[parts[-1]] = value
    return d


def _read_yaml(p: Path) -> dict:
    import yaml

    if not p.is_file():
        raise ConfigError(f"config file not found: {p}")
    with open(p, encoding="utf-8") as f:
        try:
            d = yaml.safe_load(f) or {}
        except yaml.YAMLError as e:
            raise ConfigError(f"{p}: not valid YAML ({e})") from e
    if not isinstance(d, dict):
        raise ConfigError(f"{p}: expected a mapping at the top level")
    return d


def _merge(base: dict, over: dict) -> dict:
    """``over`` deep-merged over ``base``: mappings merge, anything else (lists, null) replaces."""
    out = dict(base)
    for k, v in over.items():
        out[k] = _merge(out[k], v) if isinstance(v, dict) and isinstance(out.get(k), dict) else v
    return out


def read_config(path, _chain: tuple = ()) -> dict:
    """The mapping of a YAML config file with its ``base:`` chain resolved (no
    ``base`` key left; ``name`` only if the file itself sets it)."""
    p = Path(path)
    d = _read_yaml(p)
    base = d.pop("base", None)
    if base is None:
        return d
    if not isinstance(base, str) or not base:
        raise ConfigError(f"{p}: base: give the path of the config this one starts from "
                          f"(relative to {p.parent}), got {base!r}")
    chain = _chain + (p.resolve(),)
    bp = p.parent / base
    if bp.resolve() in chain:
        cycle = " -> ".join(str(c) for c in chain[chain.index(bp.resolve()):] + (bp.resolve(),))
        raise ConfigError(f"{p}: base cycle: {cycle}")
    if not bp.is_file():
        raise ConfigError(f"{p}: base {base!r} not found ({bp})")
    parent = read_config(bp, chain)
    parent.pop("name", None)  # (each file's name is its own)
    return _merge(parent, d)


def load_config(path, overrides: dict | None = None) -> Config:
    """Read a YAML config (its ``base:`` chain resolved). ``overrides`` (dotted
    keys -> values) are applied before validation, e.g. ``{"train.epochs": 1}``."""
    p = Path(path)
    d = apply_overrides(read_config(p), overrides)
    if not d.get("name"):
        d["name"] = p.stem
    try:
        return config_from_dict(d)
    except ConfigError as e:
        raise ConfigError(f"{p}: {e}") from None


def data_root(cfg: Config | None = None) -> Path:
    """The shared real data folder: config, $HANDSDK_DATA, or ../shared/data
    (:func:`handsdk.train.data.catalog.data_root`, unchecked: the readers say what is missing)."""
    from handsdk.train.data.catalog import data_root as _data_root

    return _data_root(cfg.data.root if cfg is not None and cfg.data.root else None, must_exist=False)
