"""GestureNet: gesture classes from the 21 keypoint features.

Its folder: ``config.py`` (the config's ``model`` section), ``model.py`` (the
Keras model, its losses and manifest metadata), ``examples.py`` (the
trainer's pools and tf.data targets), ``evaluate.py`` (metrics), and the
keypoint-only training of custom gestures and the held-out evaluation:
``augment.py`` (hands augmented in numpy) and ``fit.py`` (the training loop).
:data:`SPEC` registers it with the trainer (``handsdk.train.models.get("gesture")``);
TensorFlow loads only when a ``model.py`` or ``fit.py`` function is called.
"""
from __future__ import annotations

from ..registry import lazy, package_spec, register
from .config import GestureModelConfig, validate

_P = __name__

SPEC = register(package_spec(
    _P,
    config=GestureModelConfig,
    monitor="val_macro_f1",
    validate=validate,
    build=lazy(_P + ".model", "build_gesture"),
    export=lambda model, cfg: model,
    metadata=lazy(_P + ".model", "gesture_metadata"),
    compile=lazy(_P + ".model", "compile_gesture"),
    eval_frame_size=lambda cfg: (192, 192),
))


__all__ = ["SPEC", "GestureModelConfig"]
