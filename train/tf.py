"""Import TensorFlow and tf_keras the one way that works with tfmot.

``from handsdk.train.tf import tf, keras``: sets ``TF_USE_LEGACY_KERAS=1`` before
TensorFlow loads and raises a clear error when the ``train`` extra is missing.
"""
from __future__ import annotations

import os

os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

try:
    import tensorflow as tf  # noqa: E402
    import tf_keras as keras  # noqa: E402
except ImportError as e:  # pragma: no cover - depends on the install
    raise ImportError(
        "this needs TensorFlow and tf-keras, which come with the 'train' extra: "
        "pip install 'handsdk[train]'") from e

__all__ = ["tf", "keras"]
