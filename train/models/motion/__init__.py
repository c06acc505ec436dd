"""The motion model: motion gestures (swipes, circles, a wave, J and Z)
from the resampled keypoint history of a track (:mod:`handsdk.motion`).

One folder per model, as the others: ``config.py`` (the ``model`` section
and the data / training sections of ``train/configs/motion.yaml``),
``model.py`` (the Keras 1-D conv net, its manifest metadata), ``examples.py``
(windows of synthetic and real keypoint streams with where each came from),
``evaluate.py`` (precision / recall, confusion matrix); :data:`SPEC`
registers it (``handsdk.train.models.get("motion")`` once imported).
``train.py`` is its training run: held-out folds (by path generator, by
trajectory source, by hand source), the final model, conversion (int8 where
parity holds) and the bundle::

    python -m handsdk.train.models.motion.train --config train/configs/motion.yaml \\
        --bundle sdk/models/default.handsdk
"""
from __future__ import annotations

from ..registry import forward, lazy, package_spec, register
from .config import MotionConfig, MotionModelConfig, load_motion_config, validate

_P = __name__

SPEC = register(package_spec(
    _P,
    config=MotionModelConfig,
    monitor="val_macro_f1",
    validate=validate,
    build=lazy(_P + ".model", "build_motion"),
    export=lambda model, cfg: model,
    metadata=lazy(_P + ".model", "motion_metadata"),
    compile=lazy(_P + ".model", "compile_motion"),
    eval_frame_size=lambda cfg: (96, 96),
))

__getattr__ = forward(_P + ".model", ("build_motion", "motion_metadata", "compile_motion", "motion_decoding"))

__all__ = ["SPEC", "MotionConfig", "MotionModelConfig", "load_motion_config", "build_motion", "motion_metadata",
           "compile_motion", "motion_decoding"]
