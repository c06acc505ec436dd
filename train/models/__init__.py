"""The three Keras models of handsdk, one folder each (``detector/``,
``pose/``, ``gesture/``: config, model, examples, evaluation) and one
registry of them (:mod:`.registry`): ``get("pose")`` -> its
:class:`TaskSpec`; shared parts beside them (``layers``, ``losses``,
``targets``).

``build_model(cfg)`` -> the training model for ``cfg.task``;
``export_model(model, cfg)`` -> the model with the exported contract;
``model_metadata(model, cfg)`` -> what the bundle manifest needs.
No TensorFlow is imported until a model is built.
"""
from __future__ import annotations

from .registry import TaskSpec, get, names, register


def build_model(cfg, num_classes: int | None = None):
    return get(cfg.task).build(cfg.model, num_classes)


def export_model(model, cfg):
    """The exported interface of a training model (identity except for pose)."""
    return get(cfg.task).export(model, cfg)


def model_metadata(model, cfg, labels=None) -> dict:
    return get(cfg.task).metadata(model, cfg, labels)


def custom_objects() -> dict:
    from .layers import SoftArgmax

    return {"SoftArgmax": SoftArgmax}


__all__ = ["build_model", "export_model", "model_metadata", "custom_objects", "TaskSpec", "get", "names",
           "register"]
