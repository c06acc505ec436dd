"""GestureNet (Multihead self-attention hand pose estimation, Zhang et al.,
table 3): two 1x7 convolutions over the 21
keypoints (x, y as channels), mean pooling, FC 128 + dropout, FC classes.

Exported contract: input ``keypoints`` (21, 2) float32 =
:func:`handsdk.keypoints.keypoint_features`; output ``scores`` (C,) softmax.
"""
from __future__ import annotations

from handsdk.train.tf import keras

from ..layers import L


def build_gesture(cfg, num_classes: int | None = None) -> "keras.Model":
    """``cfg``: :class:`handsdk.train.config.GestureModelConfig`."""
    n = int(num_classes or len(cfg.labels))
    if n < 2:
        raise ValueError("GestureNet needs at least two classes")
    inp = keras.Input((21, 2), name="keypoints", dtype="float32")
    x = L.Reshape((1, 21, 2), name="as_map")(inp)
    x = L.Conv2D(cfg.filters, (1, cfg.kernel), padding="same", activation="relu", name="conv1")(x)
    x = L.Conv2D(cfg.filters, (1, cfg.kernel), padding="same", activation="relu", name="conv2")(x)
    x = L.AveragePooling2D((1, 2), padding="same", name="meanpool")(x)
    x = L.Flatten(name="flatten")(x)
    x = L.Dense(cfg.hidden, activation="relu", name="fc1")(x)
    x = L.Dropout(cfg.dropout, name="dropout")(x)
    out = L.Dense(n, activation="softmax", name="scores")(x)
    return keras.Model(inp, out, name="gesture_net")


def gesture_metadata(model, cfg, labels=None) -> dict:
    m = cfg.model if hasattr(cfg, "model") else cfg
    labels = list(labels if labels is not None else m.labels)
    return {
        "role": f"gesture:{m.label_set}",
        "inputs": {"keypoints": {"shape": [1, 21, 2], "dtype": "float32",
                                 "feature": "keypoint_features"}},
        "outputs": {"scores": {"shape": [1, len(labels)], "dtype": "float32"}},
        "labels": labels,
        "label_set": m.label_set,
        "decoding": {"kind": m.kind, "none_label": m.none_label if m.none_label in labels else None,
                     "feature": "keypoint_features", "canonical_hand": "Right"},
        "params": int(model.count_params()),
    }


def compile_gesture(model, cfg, optimizer):
    """Cross-entropy over the classes, accuracy."""
    model.compile(optimizer, loss={"scores": keras.losses.SparseCategoricalCrossentropy()},
                  metrics={"scores": ["accuracy"]})
    return model
