"""The three Keras models of handsdk, their losses and metadata.

``build_model(cfg)`` -> the training model for ``cfg.task``;
``export_model(model, cfg)`` -> the model with the exported contract;
``model_metadata(model, cfg)`` -> what the bundle manifest needs.
"""
from __future__ import annotations


def build_model(cfg, num_classes: int | None = None):
    if cfg.task == "detector":
        from .detector import build_detector

        return build_detector(cfg.model)
    if cfg.task == "pose":
        from .pose import build_pose

        return build_pose(cfg.model)
    if cfg.task == "gesture":
        from .gesture import build_gesture

        return build_gesture(cfg.model, num_classes)
    raise ValueError(f"unknown task {cfg.task!r}")


def export_model(model, cfg):
    """The exported interface of a training model (identity except for pose)."""
    if cfg.task == "pose":
        from .pose import build_inference_model

        return build_inference_model(model, cfg.model)
    return model


def model_metadata(model, cfg, labels=None) -> dict:
    if cfg.task == "detector":
        from .detector import detector_metadata

        return detector_metadata(model, cfg)
    if cfg.task == "pose":
        from .pose import pose_metadata

        return pose_metadata(model, cfg)
    from .gesture import gesture_metadata

    return gesture_metadata(model, cfg, labels)


def custom_objects() -> dict:
    from .layers import SoftArgmax

    return {"SoftArgmax": SoftArgmax}


__all__ = ["build_model", "export_model", "model_metadata", "custom_objects"]
