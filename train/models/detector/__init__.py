"""The hand detector: a small U-Net predicting the hand skeleton map.

One folder per model: ``config.py`` (the config's ``model`` section),
``model.py`` (the Keras model, its losses and manifest metadata), ``examples.py`` (pools and
training targets), ``evaluate.py`` (metrics); :data:`SPEC` registers it
(``handsdk.train.models.get("detector")``). The model's functions
(``build_detector, detector_metadata, compile_detector``) are importable from here as before (this package
replaces the module ``handsdk.train.models.detector``); TensorFlow loads
when one is used.
"""
from __future__ import annotations

import importlib

from ..registry import TaskSpec, lazy, register
from .config import DetectorModelConfig, validate

_P = __name__

SPEC = register(TaskSpec(
    name="detector",
    config=DetectorModelConfig,
    monitor="val_ap",
    validate=validate,
    build=lambda model_cfg, num_classes=None: lazy(_P + ".model", "build_detector")(model_cfg),
    export=lambda model, cfg: model,
    metadata=lambda model, cfg, labels=None: lazy(_P + ".model", "detector_metadata")(model, cfg),
    compile=lazy(_P + ".model", "compile_detector"),
    frame_size=lazy(_P + ".examples", "frame_size"),
    eval_frame_size=lambda cfg: (cfg.model.input_height, cfg.model.input_width),
    pools=lazy(_P + ".examples", "pools"),
    example=lazy(_P + ".examples", "train_example"),
    evaluate_pool=lazy(_P + ".evaluate", "evaluate_pool"),
    evaluate_samples=lazy(_P + ".evaluate", "evaluate_samples"),
    eval_source_task="detector_eval",  # frames whose hands lack keypoints count too
))


def __getattr__(name):  # the old module's functions: build_detector, detector_metadata, compile_detector
    if name in ('build_detector', 'detector_metadata', 'compile_detector'):
        return getattr(importlib.import_module(_P + ".model"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["SPEC", "DetectorModelConfig", "build_detector", "detector_metadata", "compile_detector"]
