"""GestureNet: gesture classes from the 21 keypoint features.

One folder per model: ``config.py`` (the config's ``model`` section),
``model.py`` (the Keras model, its losses and manifest metadata), ``examples.py`` (pools and
training targets), ``evaluate.py`` (metrics); :data:`SPEC` registers it
(``handsdk.train.models.get("gesture")``). The model's functions
(``build_gesture, gesture_metadata, compile_gesture``) are importable from here as before (this package
replaces the module ``handsdk.train.models.gesture``); TensorFlow loads
when one is used.
"""
from __future__ import annotations

import importlib

from ..registry import TaskSpec, lazy, register
from .config import GestureModelConfig, validate

_P = __name__

SPEC = register(TaskSpec(
    name="gesture",
    config=GestureModelConfig,
    monitor="val_macro_f1",
    validate=validate,
    build=lazy(_P + ".model", "build_gesture"),
    export=lambda model, cfg: model,
    metadata=lazy(_P + ".model", "gesture_metadata"),
    compile=lazy(_P + ".model", "compile_gesture"),
    frame_size=lazy(_P + ".examples", "frame_size"),
    eval_frame_size=lambda cfg: (192, 192),
    pools=lazy(_P + ".examples", "pools"),
    example=lazy(_P + ".examples", "train_example"),
    evaluate_pool=lazy(_P + ".evaluate", "evaluate_pool"),
    evaluate_samples=lazy(_P + ".evaluate", "evaluate_samples"),
))


def __getattr__(name):  # the old module's functions: build_gesture, gesture_metadata, compile_gesture
    if name in ('build_gesture', 'gesture_metadata', 'compile_gesture'):
        return getattr(importlib.import_module(_P + ".model"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["SPEC", "GestureModelConfig", "build_gesture", "gesture_metadata", "compile_gesture"]
