"""One registry of the trained models: what differs between the detector,
the landmarker (``pose``) and GestureNet, in one :class:`TaskSpec` per model
(defined in the model's folder, ``handsdk.train.models.<name>``), so that the
trainer, the config and the evaluation dispatch through it instead of
repeating ``if task == ...`` switches.

``get("pose")`` -> the :class:`TaskSpec`; ``names()`` -> the registered
names. No TensorFlow here: a spec's functions import their module (model,
examples, evaluation) when they are called.
"""
from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Any, Callable

#: the built-in models, each a package ``handsdk.train.models.<name>``
BUILTIN = ("detector", "pose", "gesture")


def lazy(module: str, attr: str) -> Callable:
    """A function that imports ``module`` (absolute) on its first call and
    calls its ``attr``."""

    def call(*args, **kw):
        return getattr(importlib.import_module(module), attr)(*args, **kw)

    call.__name__ = call.__qualname__ = attr
    call.__doc__ = f"{module}.{attr} (imported when called)"
    return call


@dataclass(frozen=True)
class TaskSpec:
    """What the training code needs to know about one model.

    * ``name``: the task name of the config (``task: pose``);
    * ``config``: the dataclass of the config's ``model`` section;
    * ``monitor``: the validation metric that picks the best epoch by default;
    * ``validate(model_cfg)``: raises :class:`~handsdk.train.config.ConfigError`;
    * ``build(model_cfg, num_classes)`` -> the training Keras model;
    * ``export(model, cfg)`` -> the model with the exported contract;
    * ``metadata(model, cfg, labels)`` -> what the bundle manifest needs;
    * ``compile(model, cfg, optimizer)``: the losses and metrics;
    * ``source_task``: the ``task`` the data sources are read for, for
      training and for validation / evaluation (``detector_eval`` keeps
      frames whose hands lack keypoints);
    * ``frame_size(cfg)`` / ``eval_frame_size(cfg)``: the size generated
      sources render at in training / in ``evaluate_model``;
    * ``pools(cfg, train_samples, val_samples, rng)`` -> (train pool, val
      pool, labels): the in-memory examples (numpy);
    * ``example(cfg, ex, augment)`` -> (inputs, targets): one pool row to
      training tensors, inside tf.data (flips, colour, rendered targets);
    * ``evaluate_pool(model, cfg, pool, labels, plots_dir)`` -> the
      validation metrics of a pool;
    * ``evaluate_samples(model, cfg, samples, rng, **kw)`` -> the metrics of
      one evaluation source (``handsdk.train.evaluate.evaluate_model``).
    """

    name: str
    config: type
    monitor: str
    validate: Callable[[Any], None]
    build: Callable
    export: Callable
    metadata: Callable
    compile: Callable
    frame_size: Callable
    eval_frame_size: Callable
    pools: Callable
    example: Callable
    evaluate_pool: Callable
    evaluate_samples: Callable
    source_task: str = ""
    eval_source_task: str = ""

    def __post_init__(self):
        if not self.source_task:
            object.__setattr__(self, "source_task", self.name)
        if not self.eval_source_task:
            object.__setattr__(self, "eval_source_task", self.source_task)


#: the functions every model folder provides by convention: field -> (module, function)
CONVENTIONS = {"frame_size": ("examples", "frame_size"), "pools": ("examples", "pools"),
               "example": ("examples", "train_example"), "evaluate_pool": ("evaluate", "evaluate_pool"),
               "evaluate_samples": ("evaluate", "evaluate_samples")}


def package_spec(package: str, **fields) -> TaskSpec:
    """The :class:`TaskSpec` of a model folder ``package`` (its last name is
    the task name): ``fields`` plus the :data:`CONVENTIONS` functions of its
    ``examples`` and ``evaluate`` modules, unless given."""
    for field, (module, attr) in CONVENTIONS.items():
        fields.setdefault(field, lazy(f"{package}.{module}", attr))
    fields.setdefault("name", package.rsplit(".", 1)[-1])
    return TaskSpec(**fields)


def forward(module: str, names) -> Callable[[str], Any]:
    """A module ``__getattr__`` serving ``names`` from ``module`` (imported on
    first use): a model folder's package keeps the functions of the module it
    replaced importable without loading TensorFlow on import."""
    names = frozenset(names)

    def __getattr__(name):
        if name in names:
            return getattr(importlib.import_module(module), name)
        raise AttributeError(f"module {module.rsplit('.', 1)[0]!r} has no attribute {name!r}")

    return __getattr__


_SPECS: dict[str, TaskSpec] = {}


def register(spec: TaskSpec) -> TaskSpec:
    """Add (or replace) a model; returns it."""
    _SPECS[spec.name] = spec
    return spec


def get(name: str) -> TaskSpec:
    """The :class:`TaskSpec` of ``name`` (``detector``, ``pose``, ``gesture``
    or a registered one); ValueError for an unknown name."""
    if name not in _SPECS and name in BUILTIN:
        importlib.import_module(f"handsdk.train.models.{name}")
    try:
        return _SPECS[name]
    except KeyError:
        raise ValueError(f"unknown task {name!r} (known: {', '.join(names())})") from None


def names() -> tuple[str, ...]:
    """The built-in models, then any registered later."""
    return BUILTIN + tuple(n for n in _SPECS if n not in BUILTIN)


__all__ = ["TaskSpec", "register", "get", "names", "lazy", "package_spec", "forward", "BUILTIN"]
