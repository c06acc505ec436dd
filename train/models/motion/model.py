"""The motion model: 1-D convolutions over the resampled keypoint history.

Input ``history`` (frames, channels) = :func:`handsdk.motion.motion_features`;
three Conv1D + BatchNorm + ReLU (the second and third with stride 2), the
flattened steps (the head sees *when* in the window a movement happened: a
gesture that ended long ago is no longer reported), FC + dropout, FC
classes (softmax ``scores``). About 60k parameters; int8 TFLite ~70 KiB.
"""
from __future__ import annotations

from handsdk.motion import FEATURE, FEATURE_VERSION, motion_channels
from handsdk.train.tf import keras

L = keras.layers


def build_motion(cfg, num_classes: int | None = None) -> "keras.Model":
    """``cfg``: :class:`~handsdk.train.models.motion.config.MotionModelConfig`."""
    n = int(num_classes or len(cfg.labels))
    if n < 2:
        raise ValueError("the motion model needs at least two classes")
    inp = keras.Input((cfg.frames, motion_channels(cfg.points)), name="history", dtype="float32")
    x = inp
    for i, (f, s) in enumerate(zip(cfg.filters, (1, 2, 2))):
        x = L.Conv1D(f, cfg.kernel if i < 2 else 3, strides=s, padding="same", use_bias=False, name=f"conv{i + 1}")(x)
        x = L.BatchNormalization(name=f"bn{i + 1}")(x)
        x = L.ReLU(name=f"relu{i + 1}")(x)
    x = L.Flatten(name="flatten")(x)
    x = L.Dense(cfg.hidden, activation="relu", name="fc1")(x)
    x = L.Dropout(cfg.dropout, name="dropout")(x)
    out = L.Dense(n, activation="softmax", name="scores")(x)
    return keras.Model(inp, out, name="motion_net")


def motion_decoding(m) -> dict:
    """The manifest ``decoding`` of a motion set (what its input reads)."""
    return {"kind": "motion", "none_label": m.none_label, "input": "keypoint_history", "feature": FEATURE,
            "feature_version": FEATURE_VERSION, "frames": int(m.frames), "rate_hz": float(m.rate_hz),
            "points": [int(p) for p in m.points], "every_ms": round(2000.0 / float(m.rate_hz), 3),
            "min_score": float(m.min_score),
            "directions": "user"}


def motion_metadata(model, cfg, labels=None) -> dict:
    m = cfg.model if hasattr(cfg, "model") else cfg
    labels = list(labels if labels is not None else m.labels)
    return {
        "role": f"gesture:{m.label_set}",
        "inputs": {"history": {"shape": [1, m.frames, motion_channels(m.points)], "dtype": "float32",
                               "feature": FEATURE}},
        "outputs": {"scores": {"shape": [1, len(labels)], "dtype": "float32"}},
        "labels": labels,
        "label_set": m.label_set,
        "decoding": motion_decoding(m),
        "params": int(model.count_params()),
    }


def compile_motion(model, cfg, optimizer, label_smoothing: float = 0.05):
    model.compile(optimizer, loss={"scores": keras.losses.CategoricalCrossentropy(label_smoothing=label_smoothing)},
                  weighted_metrics={"scores": ["accuracy"]})
    return model
