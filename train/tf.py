"""Import TensorFlow and tf_keras the one way that works with tfmot.

``from handsdk.train.tf import tf, keras``: sets ``TF_USE_LEGACY_KERAS=1`` before
TensorFlow loads and raises a clear error when the ``train`` extra is missing;
:func:`set_threads` sizes its thread pools.
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


def set_threads(n: int | None, inter: int = 1) -> None:
    """Run TensorFlow's ops on ``n`` threads (and ``inter`` ops at a time);
    nothing when ``n`` is 0 or None, or once TensorFlow has started (its
    thread pools are fixed then)."""
    if n:
        try:
            tf.config.threading.set_intra_op_parallelism_threads(int(n))
            tf.config.threading.set_inter_op_parallelism_threads(int(inter))
        except RuntimeError:
            pass


__all__ = ["tf", "keras", "set_threads"]
