"""The hand landmarker (``pose``): skeleton-aware multi-scale heatmaps, presence
and handedness.

One folder per model: ``config.py`` (the config's ``model`` section),
``model.py`` (the Keras model, its inference model, losses and manifest metadata), ``examples.py`` (pools and
training targets), ``evaluate.py`` (metrics); :data:`SPEC` registers it
(``handsdk.train.models.get("pose")``). The model's functions
(``build_pose, build_inference_model, pose_metadata, compile_pose, export_pose, NUM_KEYPOINTS``) are importable from here as before (this package
replaces the module ``handsdk.train.models.pose``); TensorFlow loads
when one is used.
"""
from __future__ import annotations

import importlib

from ..registry import TaskSpec, lazy, register
from .config import PoseModelConfig, validate

_P = __name__

SPEC = register(TaskSpec(
    name="pose",
    config=PoseModelConfig,
    monitor="val_pck20",
    validate=validate,
    build=lambda model_cfg, num_classes=None: lazy(_P + ".model", "build_pose")(model_cfg),
    export=lazy(_P + ".model", "export_pose"),
    metadata=lambda model, cfg, labels=None: lazy(_P + ".model", "pose_metadata")(model, cfg),
    compile=lazy(_P + ".model", "compile_pose"),
    frame_size=lazy(_P + ".examples", "frame_size"),
    eval_frame_size=lambda cfg: (192, 192),
    pools=lazy(_P + ".examples", "pools"),
    example=lazy(_P + ".examples", "train_example"),
    evaluate_pool=lazy(_P + ".evaluate", "evaluate_pool"),
    evaluate_samples=lazy(_P + ".evaluate", "evaluate_samples"),
))


def __getattr__(name):  # the old module's functions: build_pose, build_inference_model, pose_metadata, compile_pose, export_pose, NUM_KEYPOINTS
    if name in ('build_pose', 'build_inference_model', 'pose_metadata', 'compile_pose', 'export_pose', 'NUM_KEYPOINTS'):
        return getattr(importlib.import_module(_P + ".model"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["SPEC", "PoseModelConfig", "build_pose", "build_inference_model", "pose_metadata", "compile_pose", "export_pose", "NUM_KEYPOINTS"]
