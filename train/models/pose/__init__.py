"""The hand landmarker (``pose``): skeleton-aware multi-scale heatmaps, presence
and handedness.

One folder per model: ``config.py`` (the config's ``model`` section),
``model.py`` (the Keras model, its inference model, losses and manifest metadata), ``examples.py`` (pools and
training targets), ``evaluate.py`` (metrics); :data:`SPEC` registers it
(``handsdk.train.models.get("pose")``). TensorFlow loads only when one of
the ``model.py`` functions is called.
"""
from __future__ import annotations

from ..registry import lazy, package_spec, register
from .config import PoseModelConfig, validate

_P = __name__

SPEC = register(package_spec(
    _P,
    config=PoseModelConfig,
    monitor="val_pck20",
    validate=validate,
    build=lambda model_cfg, num_classes=None: lazy(_P + ".model", "build_pose")(model_cfg),
    export=lazy(_P + ".model", "export_pose"),
    metadata=lambda model, cfg, labels=None: lazy(_P + ".model", "pose_metadata")(model, cfg),
    compile=lazy(_P + ".model", "compile_pose"),
    eval_frame_size=lambda cfg: (192, 192),
))


__all__ = ["SPEC", "PoseModelConfig"]
