"""The hand detector: a small U-Net predicting the hand skeleton map.

One folder per model: ``config.py`` (the config's ``model`` section),
``model.py`` (the Keras model, its losses and manifest metadata), ``examples.py`` (pools and
training targets), ``evaluate.py`` (metrics); :data:`SPEC` registers it
(``handsdk.train.models.get("detector")``). TensorFlow loads only when one of
the ``model.py`` functions is called.
"""
from __future__ import annotations

from ..registry import lazy, package_spec, register
from .config import DetectorModelConfig, validate

_P = __name__

SPEC = register(package_spec(
    _P,
    config=DetectorModelConfig,
    monitor="val_ap",
    validate=validate,
    build=lambda model_cfg, num_classes=None: lazy(_P + ".model", "build_detector")(model_cfg),
    export=lambda model, cfg: model,
    metadata=lambda model, cfg, labels=None: lazy(_P + ".model", "detector_metadata")(model, cfg),
    compile=lazy(_P + ".model", "compile_detector"),
    eval_frame_size=lambda cfg: (cfg.model.input_height, cfg.model.input_width),
    eval_source_task="detector_eval",  # frames whose hands lack keypoints count too
))


__all__ = ["SPEC", "DetectorModelConfig"]
